/* program.c: a program's run, from its output folder to its exit status (see program.h). */
#include "io/program.h"
#include "engine.h"
#include "error.h"
#include "io/fileio.h"
#include "io/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double program_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void program_heading(const char *text)
{
    printf("\n%s\n", text);
    for (const char *c = text; *c; c++)
        if ((*c & 0xC0) != 0x80) putchar('=');   /* one '=' per character, not per UTF-8 byte */
    putchar('\n');
}

int program_error_prefix(const char *prefix, int code)
{
    char reason[1024];
    snprintf(reason, sizeof reason, "%s", error_message());   /* AE_ERROR is about to overwrite it */
    return AE_ERROR(code, "%s: %s", prefix, reason);
}

/* A file can be made in dir: made and removed again. */
static int check_writable(const char *dir)
{
    char probe[AE_PATH_MAX];
    int rc = path_join(probe, sizeof probe, dir, ".write-test.tmp");
    if (rc != AE_OK) return rc;
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) {   /* left by a killed run: ours to remove */
        unlink(probe);
        fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    }
    if (fd < 0)
        return AE_ERROR(AE_EIO, "--out %s: cannot write there (%s); give a folder you may write to", dir,
                        strerror(errno));
    close(fd);
    unlink(probe);
    return AE_OK;
}

/* One run per folder: an exclusive lock on DIR/.run.lock, which names the run holding it. The
 * lock goes with the process, however it ends. */
static int take_lock(program_run *run)
{
    char path[AE_PATH_MAX];
    int rc = path_join(path, sizeof path, run->out_dir, ".run.lock");
    if (rc != AE_OK) return rc;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) return AE_ERROR(AE_EIO, "--out %s: cannot make its lock file: %s", run->out_dir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char who[160] = "";
        ssize_t got = read(fd, who, sizeof who - 1);
        who[got > 0 ? got : 0] = '\0';
        who[strcspn(who, "\n")] = '\0';
        close(fd);
        return AE_ERROR(AE_ESTATE, "--out %s: another run is writing into it (%s); wait until it ends, or give "
                        "another --out", run->out_dir, who[0] ? who : "its lock is held");
    }
    char me[160];
    int n = snprintf(me, sizeof me, "pid %ld, %s\n", (long)getpid(), run->info->name);
    if (ftruncate(fd, 0) != 0 || write(fd, me, (size_t)n) != n) {
        int saved = errno;
        close(fd);
        return AE_ERROR(AE_EIO, "--out %s: cannot write its lock file: %s", run->out_dir, strerror(saved));
    }
    run->lock_fd = fd;
    return AE_OK;
}

static void part_begins(program_run *run);

int program_begin(program_run *run, const program_info *info, const common_options *common)
{
    memset(run, 0, sizeof *run);
    run->lock_fd = -1;
    run->info = info;
    run->common = common;
    run->out_dir = common->out_dir;
    run->started = program_seconds();
    run->res = results_alloc();
    if (!run->res) return AE_ERROR(AE_ENOMEM, "out of memory for the results");
    struct stat st;
    run->made_dir = stat(common->out_dir, &st) != 0;
    int rc = mkdir_p(common->out_dir);
    if (rc != AE_OK) return program_error_prefix("--out", rc);
    part_begins(run);
    if ((rc = check_writable(common->out_dir)) != AE_OK) return rc;
    if ((rc = take_lock(run)) != AE_OK) return rc;
    temp_sweep(common->out_dir);   /* what a killed run left half-written */
    return AE_OK;
}

int program_end(program_run *run, int rc)
{
    char fatal[1024] = "";
    if (rc != AE_OK) snprintf(fatal, sizeof fatal, "%s", error_message());
    int skipped = 0, failed = 0;
    for (int k = 0; k < run->n_incomplete; k++) {
        if (run->incomplete[k].skipped) skipped++;
        else failed++;
    }
    /* what was computed is kept: after a good run, and after one whose parts did not all complete */
    int wrote = 0;
    if (run->res && (rc == AE_OK || run->n_incomplete > 0)) {
        int written = results_write(run->res, run->out_dir);
        wrote = written == AE_OK;
        if (!wrote && rc == AE_OK) {
            rc = written;
            snprintf(fatal, sizeof fatal, "%s", error_message());
        }
    }
    if (wrote) {
        printf("\nWrote %s/: results.tsv", run->out_dir);
        if (run->figures > 0)
            printf(" and %d figure%s (.dat, .gp%s)", run->figures, run->figures == 1 ? "" : "s",
                   run->common->no_plot || !gnuplot_available() ? "" : ", .png");
        printf("%s.\n", run->n_incomplete ? ", with what the completed parts computed" : "");
    }
    fflush(stdout);
    if (run->n_incomplete > 0) {
        fprintf(stderr, "%s: %d of %d parts did not complete:\n", run->info->name, run->n_incomplete,
                run->n_incomplete + run->parts_done);
        for (int k = 0; k < run->n_incomplete; k++)
            fprintf(stderr, "  %s %s: %s\n", run->incomplete[k].name,
                    run->incomplete[k].skipped ? "skipped" : "failed", run->incomplete[k].reason);
    }
    if (rc != AE_OK) {
        fprintf(stderr, "%s: %s\n", run->info->name, fatal);
        if (run->made_dir && !wrote) {   /* a folder this run made and left empty goes again */
            char lock[AE_PATH_MAX];
            if (run->lock_fd >= 0 && path_join(lock, sizeof lock, run->out_dir, ".run.lock") == AE_OK) unlink(lock);
            rmdir(run->out_dir);
        }
    }
    if (run->lock_fd >= 0) close(run->lock_fd);   /* the lock file stays, unlocked */
    run->lock_fd = -1;
    results_free(run->res);
    run->res = NULL;
    if (rc != AE_OK || failed) return 1;
    return skipped ? 3 : 0;
}

/* "part (a)" → "part_a": a results.tsv key of the part's name */
static void part_slug(char *slug, size_t len, const char *name)
{
    size_t n = 0;
    for (const char *c = name; *c && n + 1 < len; c++) {
        const unsigned char ch = (unsigned char)*c;
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) slug[n++] = (char)ch;
        else if (ch >= 'A' && ch <= 'Z') slug[n++] = (char)(ch - 'A' + 'a');
        else if (n > 0 && slug[n - 1] != '_') slug[n++] = '_';
    }
    while (n > 0 && slug[n - 1] == '_') n--;
    slug[n] = '\0';
}

/* The next part starts here: its results follow, and no stub has been reached in it yet. */
static void part_begins(program_run *run)
{
    run->part_mark = results_count(run->res);
    not_implemented_reset();
    error_clear();
}

int program_part(program_run *run, const char *name, int rc)
{
    const char *missing = not_implemented_seen();
    const int skipped = missing != NULL || rc == AE_ENOTIMPL;
    if (rc == AE_OK && !skipped) {
        run->parts_done++;
        part_begins(run);
        return AE_OK;
    }
    /* nothing later can do better: out of memory, a file that cannot be written, bad input */
    if (!skipped && (rc == AE_ENOMEM || rc == AE_EIO || rc == AE_EINVAL || rc == AE_ENOENT || rc == AE_EFORMAT))
        return rc;
    char reason[512], slug[64], key[100];
    snprintf(reason, sizeof reason, "%s", missing ? missing : error_message());
    for (char *c = reason; *c; c++)
        if (*c == '\t' || *c == '\n' || *c == '\r') *c = ' ';     /* a results.tsv value is one line */
    if (run->n_incomplete < PROGRAM_MAX_PARTS) {
        program_part_outcome *o = &run->incomplete[run->n_incomplete++];
        snprintf(o->name, sizeof o->name, "%s", name);
        o->skipped = skipped;
        snprintf(o->reason, sizeof o->reason, "%s", reason);
    }
    fflush(stdout);
    fprintf(stderr, "%s: %s %s: %s\n", run->info->name, name, skipped ? "skipped" : "failed", reason);
    if (skipped) results_truncate(run->res, run->part_mark);   /* what a stub left is no result */
    part_slug(slug, sizeof slug, name);
    snprintf(key, sizeof key, "%s_%s", skipped ? "skipped" : "failed", slug);
    rc = results_add_text(run->res, key, reason);
    part_begins(run);
    return rc;
}

int program_part_done(const program_run *run, const char *name)
{
    for (int k = 0; k < run->n_incomplete; k++)
        if (strcmp(run->incomplete[k].name, name) == 0) return 0;
    return 1;
}

int program_needs(const program_run *run, const char *needed)
{
    for (int k = 0; k < run->n_incomplete; k++)
        if (strcmp(run->incomplete[k].name, needed) == 0)
            return AE_ERROR(run->incomplete[k].skipped ? AE_ENOTIMPL : AE_ESTATE, "needs %s, which did not complete (%s)",
                            needed, run->incomplete[k].reason);
    return AE_OK;
}

int program_record_setup(program_run *run, int threads, const char *data_dir, int data_is_sample)
{
    int rc = program_result_int(run, (long)run->common->seed, "seed");
    if (rc == AE_OK) rc = program_result_text(run, engine_name(), "engine");
    if (rc == AE_OK) rc = program_result_int(run, threads, "threads");
    if (rc == AE_OK && data_dir) rc = program_result_text(run, data_dir, "data_folder");
    if (rc == AE_OK && data_dir) rc = program_result_int(run, data_is_sample, "data_is_sample");
    part_begins(run);
    return rc;
}

/* key = the formatted key; AE_EINVAL when it does not fit. */
static int format_key(char *key, size_t len, const char *format, va_list args)
{
    int n = vsnprintf(key, len, format, args);
    if (n < 0 || (size_t)n >= len) return AE_ERROR(AE_EINVAL, "a result key longer than %zu characters", len - 1);
    return AE_OK;
}

/* key = key_format with the variadic arguments of the function it is used in; rc AE_OK or AE_EINVAL */
#define FORMAT_KEY(key, key_format, rc)                              \
    do {                                                             \
        va_list args_;                                               \
        va_start(args_, key_format);                                 \
        rc = format_key(key, sizeof key, key_format, args_);         \
        va_end(args_);                                               \
    } while (0)

int program_result(program_run *run, double value, const char *key_format, ...)
{
    char key[160];
    int rc;
    FORMAT_KEY(key, key_format, rc);
    return rc == AE_OK ? results_add_double(run->res, key, value) : rc;
}

int program_result_int(program_run *run, long value, const char *key_format, ...)
{
    char key[160];
    int rc;
    FORMAT_KEY(key, key_format, rc);
    return rc == AE_OK ? results_add_int(run->res, key, value) : rc;
}

int program_result_text(program_run *run, const char *value, const char *key_format, ...)
{
    char key[160];
    int rc;
    FORMAT_KEY(key, key_format, rc);
    return rc == AE_OK ? results_add_text(run->res, key, value) : rc;
}

int program_results(program_run *run, const char *prefix, const program_value *values, size_t n)
{
    int rc = AE_OK;
    for (size_t i = 0; i < n && rc == AE_OK; i++)
        rc = program_result(run, values[i].value, "%s_%s", prefix, values[i].name);
    return rc;
}

int program_path(const program_run *run, char *path, size_t len, const char *name_format, ...)
{
    char name[256];
    va_list args;
    va_start(args, name_format);
    int n = vsnprintf(name, sizeof name, name_format, args);
    va_end(args);
    if (n < 0 || (size_t)n >= sizeof name) return AE_ERROR(AE_EINVAL, "a file name longer than %zu characters", sizeof name - 1);
    return path_join(path, len, run->out_dir, name);
}

int program_open_file(const program_run *run, atomic_file *af, const char *name)
{
    char path[AE_PATH_MAX];
    int rc = path_join(path, sizeof path, run->out_dir, name);
    return rc == AE_OK ? atomic_open(af, path) : rc;
}

int program_render(program_run *run, const char *name)
{
    run->figures++;
    if (run->common->no_plot) return AE_OK;
    int rendered;
    return plot_render(run->out_dir, name, &rendered);
}

/* ------------------------------------------------------------ histories */

int history_write(const char *path, const char *title, const history_meta *meta, int n_meta,
                  const train_history *history, const char *program)
{
    atomic_file af;
    int rc = atomic_open(&af, path);
    if (rc != AE_OK) return rc;
    fprintf(af.fp, "# %s: %s\n", program, title);
    for (int k = 0; k < n_meta; k++) fprintf(af.fp, "# %s %s\n", meta[k].key, meta[k].value);
    fprintf(af.fp, "# epoch\ttrain_loss\tval_loss\tseconds\n");
    for (int e = 0; e < history->epochs_run; e++)
        fprintf(af.fp, "%d\t%.17g\t%.17g\t%.17g\n", e + 1, history->train_loss[e], history->val_loss[e],
                history->seconds[e]);
    return atomic_commit(&af);
}

/* The value of "# KEY VALUE" in line for key, or NULL. */
static const char *meta_value(const char *line, const char *key)
{
    size_t len = strlen(key);
    if (strncmp(line, "# ", 2) != 0 || strncmp(line + 2, key, len) != 0 || line[2 + len] != ' ') return NULL;
    return line + 3 + len;
}

int history_read(const char *path, const history_meta *meta, int n_meta, train_history *history,
                 const char *hint)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return AE_ERROR(AE_ENOENT, "%s: missing; it is written with the checkpoint. %s", path, hint);
    train_history_begin(history);
    enum { MAX_META = 16 };
    char found[MAX_META][1100];
    int seen[MAX_META] = { 0 };
    char line[2048];
    int line_number = 0, rc = AE_OK;
    while (rc == AE_OK && fgets(line, sizeof line, fp)) {
        line_number++;
        line[strcspn(line, "\r\n")] = '\0';
        for (int k = 0; k < n_meta && k < MAX_META; k++) {
            const char *value = meta_value(line, meta[k].key);
            if (value) {
                snprintf(found[k], sizeof found[k], "%s", value);
                seen[k] = 1;
            }
        }
        if (line[0] == '#' || !line[0]) continue;
        int epoch;
        double train, val, seconds;
        const int e = history->epochs_run;
        if (e >= TRAIN_MAX_EPOCHS || sscanf(line, "%d %lf %lf %lf", &epoch, &train, &val, &seconds) != 4 ||
            epoch != e + 1)
            rc = AE_ERROR(AE_EFORMAT, "%s, line %d: expected epoch %d and three numbers. %s", path, line_number, e + 1,
                          hint);
        else {
            history->train_loss[e] = train;
            history->val_loss[e] = val;
            history->seconds[e] = seconds;
            history->epochs_run = e + 1;
        }
    }
    fclose(fp);
    if (rc != AE_OK) return rc;
    if (history->epochs_run == 0) return AE_ERROR(AE_EFORMAT, "%s: holds no epoch. %s", path, hint);
    for (int k = 0; k < n_meta && k < MAX_META; k++)
        if (!seen[k] || strcmp(found[k], meta[k].value) != 0)
            return AE_ERROR(AE_EFORMAT, "%s: made with %s '%s', not '%s'. %s", path, meta[k].key,
                            seen[k] ? found[k] : "(none)", meta[k].value, hint);
    return AE_OK;
}

int history_meta_get(const char *path, const char *key, char *value, size_t len)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return AE_ERROR(AE_ENOENT, "%s: missing", path);
    char line[2048];
    int found = 0;
    while (!found && fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *v = meta_value(line, key);
        if (v) {
            snprintf(value, len, "%s", v);
            found = 1;
        }
    }
    fclose(fp);
    return found ? AE_OK : AE_ERROR(AE_EFORMAT, "%s: has no line '# %s'", path, key);
}
