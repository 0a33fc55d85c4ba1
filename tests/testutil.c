/* testutil.c: see testutil.h. */
#define _GNU_SOURCE
#include "testutil.h"

#include <check.h>

#include "error.h"
#include "io/fileio.h"
#include "model.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

double gradcheck(scalar_fn f, void *ctx, float *x, const float *analytic, size_t n,
                 double h, size_t max_checks, size_t *worst)
{
    double worst_err = 0.0;
    size_t checks = n <= max_checks ? n : max_checks;
    for (size_t k = 0; k < checks; k++) {
        size_t i = checks == n ? k : (k * n) / checks + (k * 7919u) % (n / checks);
        float saved = x[i];
        x[i] = (float)(saved + h);
        double up = f(ctx);
        x[i] = (float)(saved - h);
        double down = f(ctx);
        x[i] = saved;
        /* the step actually taken, after rounding to float */
        double step = (double)(float)(saved + h) - (double)(float)(saved - h);
        double numeric = (up - down) / step;
        double scale = fmax(1.0, fmax(fabs(analytic[i]), fabs(numeric)));
        double err = fabs(analytic[i] - numeric) / scale;
        if (err > worst_err || isnan(err)) {
            worst_err = isnan(err) ? INFINITY : err;
            if (worst) *worst = i;
        }
    }
    return worst_err;
}

void fill_uniform(float *x, size_t n, double lo, double hi, gsl_rng *rng)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * gsl_rng_uniform(rng));
}

double dot_f(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

gsl_rng *test_rng(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

const char *sample_data_dir(void) { return AE_ROOT "/data/sample"; }

/* The folders test_tmpdir made, each with the process that made it: a test runs in a child of
 * Check's runner (CK_FORK), and only that child removes its own folders when it exits. */
typedef struct tmpdir_entry { struct tmpdir_entry *next; pid_t owner; char path[]; } tmpdir_entry;
static tmpdir_entry *tmpdirs;

/* Removes name (a file or a folder and all it holds) inside the folder at, never following links */
static void remove_tree_at(int at, const char *name)
{
    if (unlinkat(at, name, 0) == 0) return;
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) return;
    DIR *d = fdopendir(fd);
    if (!d) { close(fd); return; }
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) remove_tree_at(dirfd(d), e->d_name);
    closedir(d);
    unlinkat(at, name, AT_REMOVEDIR);
}

/* at exit: a test that passed (status 0) leaves nothing behind; one that failed keeps its folders
 * to be looked at */
static void remove_tmpdirs(int status, void *unused)
{
    (void)unused;
    for (const tmpdir_entry *e = tmpdirs; status == 0 && e; e = e->next)
        if (e->owner == getpid()) remove_tree_at(AT_FDCWD, e->path);
}

/* where the folders go: $TMPDIR, else /tmp */
static const char *tmp_base(void)
{
    const char *tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

const char *test_tmpdir_try(void)
{
    static int registered;
    const char *tmp = tmp_base();
    size_t size = strlen(tmp) + sizeof "/ae-test-XXXXXX";
    tmpdir_entry *e = malloc(sizeof *e + size);
    if (!e) return NULL;
    snprintf(e->path, size, "%s/ae-test-XXXXXX", tmp);
    if (!mkdtemp(e->path)) {
        const int saved = errno;
        free(e);
        errno = saved;
        return NULL;
    }
    e->owner = getpid();
    e->next = tmpdirs;
    tmpdirs = e;
    if (!registered) registered = on_exit(remove_tmpdirs, NULL) == 0;
    return e->path;
}

const char *test_tmpdir(void)
{
    const char *dir = test_tmpdir_try();
    ck_assert_msg(dir != NULL, "cannot make a temporary folder in %s (%s): set TMPDIR to a writable folder",
                  tmp_base(), strerror(errno));
    return dir;
}

int run_command(const char *file, const char *const *before, const char *const *args, const char *const *env,
                const char *log)
{
    char *argv[64];
    int argc = 0;
    for (int i = 0; before && before[i] && argc < 63; i++) argv[argc++] = (char *)before[i];
    for (int i = 0; args && args[i] && argc < 63; i++) argv[argc++] = (char *)args[i];
    argv[argc] = NULL;

    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        for (int i = 0; env && env[i]; i++) {          /* NAME=VALUE sets, NAME= unsets */
            const char *eq = strchr(env[i], '=');
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(eq - env[i]), env[i]);
            if (eq[1] == '\0') unsetenv(name);
            else setenv(name, eq + 1, 1);
        }
        int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); close(fd); }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) { dup2(devnull, 0); close(devnull); }
        execvp(file, argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run_program(const char *program, const char *const *args, const char *log)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", AE_BINDIR, program);
    const char *before[] = { path, NULL };
    return run_command(path, before, args, NULL, log);
}

int test_random_conv_geom(conv_geom *g, int *batch, int transposed, gsl_rng *rng)
{
    int c = 1 + (int)gsl_rng_uniform_int(rng, 5), oc = 1 + (int)gsl_rng_uniform_int(rng, 5);
    int h = 1 + (int)gsl_rng_uniform_int(rng, 13), w = 1 + (int)gsl_rng_uniform_int(rng, 13);
    int kh = 1 + (int)gsl_rng_uniform_int(rng, 5), kw = 1 + (int)gsl_rng_uniform_int(rng, 5);
    int s = 1 + (int)gsl_rng_uniform_int(rng, 3);
    padding_mode mode = (padding_mode)gsl_rng_uniform_int(rng, 3);
    int p = mode == PAD_EXPLICIT ? (int)gsl_rng_uniform_int(rng, 3) : 0;
    int a = mode == PAD_EXPLICIT ? (int)gsl_rng_uniform_int(rng, (unsigned long)s) : 0;
    *batch = 1 + (int)gsl_rng_uniform_int(rng, 5);
    return transposed ? conv2d_transpose_geom(g, c, h, w, oc, kh, kw, s, mode, p, a)
                      : conv2d_geom(g, c, h, w, oc, kh, kw, s, mode, p);
}

results *test_results(const char *dir)
{
    char path[AE_PATH_MAX];
    snprintf(path, sizeof path, "%s/results.tsv", dir);
    results *r = NULL;
    ck_assert_msg(results_read(&r, path) == AE_OK, "cannot read %s: %s", path, error_message());
    return r;
}

double test_result(const results *r, const char *key)
{
    const char *text = results_get(r, key);
    ck_assert_msg(text != NULL, "results.tsv has no key %s", key);
    return strtod(text, NULL);
}

int test_file_in(const char *dir, const char *name)
{
    char path[AE_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return file_exists(path);
}

void test_run_into(char *dir, size_t len, const char *program, const char *const *args)
{
    const char *argv[64];
    char log_path[AE_PATH_MAX];
    int n = 0;
    snprintf(dir, len, "%s/out", test_tmpdir());
    snprintf(log_path, sizeof log_path, "%s.log", dir);
    while (args[n]) {
        ck_assert_int_lt(n, 60);
        argv[n] = args[n];
        n++;
    }
    argv[n++] = "--out";
    argv[n++] = dir;
    argv[n] = NULL;
    ck_assert_msg(run_program(program, argv, log_path) == 0, "%s failed; see %s", program, log_path);
}

void test_load_sample(fashion_mnist *fm, size_t limit)
{
    memset(fm, 0, sizeof *fm);
    ck_assert_msg(fashion_mnist_load(fm, sample_data_dir(), limit) == AE_OK, "the sample: %s", error_message());
}

char *test_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0, got;
    char *text = malloc(cap);
    while (text && (got = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            char *bigger = realloc(text, cap * 2);
            if (!bigger) {
                free(text);
                text = NULL;
                break;
            }
            text = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (text) text[len] = '\0';
    return text;
}

void test_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

void test_file_says(const char *path, const char *needle)
{
    char *text = test_read_text(path);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    const int found = strstr(text, needle) != NULL;
    if (!found) fprintf(stderr, "%s:\n%s\n", path, text);
    free(text);
    ck_assert_msg(found, "%s does not say \"%s\"", path, needle);
}

TCase *test_case(Suite *s, const char *name, int timeout)
{
    TCase *tc = tcase_create(name);
    if (timeout > 0) tcase_set_timeout(tc, timeout);
    suite_add_tcase(s, tc);
    return tc;
}

TCase *test_add_list(TCase *tc, const TTest *const *tests)
{
    for (size_t k = 0; tests[k] != NULL; k++) tcase_add_test(tc, tests[k]);
    return tc;
}

static char saved_env_name[128], saved_env[AE_PATH_MAX], saved_cwd[AE_PATH_MAX];
static int had_env;

void test_env_save(const char *name)
{
    snprintf(saved_env_name, sizeof saved_env_name, "%s", name);
    const char *env = getenv(name);
    had_env = env != NULL;
    if (env) snprintf(saved_env, sizeof saved_env, "%s", env);
    ck_assert_ptr_nonnull(getcwd(saved_cwd, sizeof saved_cwd));
}

void test_env_restore(void)
{
    if (had_env) setenv(saved_env_name, saved_env, 1);
    else unsetenv(saved_env_name);
    ck_assert_int_eq(chdir(saved_cwd), 0);
}

model *test_model_b(void)
{
    model *m = model_alloc(3, (int[]){ 1, 28, 28 });
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(model_add(m, layer_conv2d(16, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);            /* 16x14x14 */
    ck_assert_int_eq(model_add(m, layer_conv2d(8, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);             /* 8x7x7 */
    ck_assert_int_eq(model_add(m, layer_conv2d_transpose(8, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);   /* 8x14x14 */
    ck_assert_int_eq(model_add(m, layer_conv2d_transpose(16, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);  /* 16x28x28 */
    ck_assert_int_eq(model_add(m, layer_conv2d(1, 3, 1, PAD_SAME, ACT_SIGMOID)), AE_OK);          /* 1x28x28 */
    return m;
}
