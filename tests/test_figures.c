/* test_figures.c: `make figures` (scripts/figures.sh) and `make docs` (scripts/docs.sh), run on the
 * three quick exercises (week05-task2-kl, week05-task3-transposed, vae-reparam) with the bundled
 * sample, in a temporary folder, so the repository's out/, REPORT.md and READMEs stay untouched.
 *
 *   Rerun   a first run makes every run's results.tsv and stamp, and a REPORT.md that names the data
 *           (the sample's folder, called a sample), the seed given, the date and machine, links
 *           each figure and shows KL(0.4 ‖ 0.8) as computed here independently; a second run
 *           with nothing changed runs no program (results.tsv keeps its time stamp, the script
 *           says "skipped"); a new seed reruns and the report names it; FORCE=1 reruns an
 *           unchanged one
 *   Docs    the results block of a copied README is rewritten from results.tsv when it is stale,
 *           a second `docs` changes nothing, a block of `all` keys equals results.tsv, and a
 *           README without results.tsv is left alone
 *   Resume  a training run (week05-task4-ae, one epoch on the sample) whose program changed but
 *           whose setting did not reuses its checkpoint (--from-checkpoint); FORCE=1 trains again
 *   Limits  a bad option and a FASHION_MNIST_DIR without the data exit with 2
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/fileio.h"
#include "testutil.h"

#define QUICK "week05-task2-kl week05-task3-transposed vae-reparam"

/* ------------------------------------------------------------ helpers */

/* Modification time in nanoseconds, or -1 when the file does not exist. */
static long long mtime_ns(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    return (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

/* Runs bash AE_ROOT/scripts/SCRIPT with args (NULL-terminated), stdout and stderr to `log`, with
 * the environment variables of `env` ("NAME=value", NULL-terminated; "NAME=" unsets NAME).
 * Returns the exit status, or -1. */
static int run_script(const char *script, const char *const *args, const char *const *env, const char *log)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/scripts/%s", AE_ROOT, script);
    const char *before[] = { "bash", path, NULL };
    return run_command("bash", before, args, env, log);
}

/* figures.sh with `select` (--only EXERCISES or --conf FILE) into dir/out and dir/REPORT.md, with the
 * given FORCE and SEED (NULL: unset), and the data folder `data` (NULL: the sample) named through
 * FASHION_MNIST_DIR. */
static int figures_with(const char *dir, const char *select, const char *which, const char *seed,
                        const char *force, const char *data, const char *log)
{
    char out[1024], report[1024], seed_env[64] = "SEED=", force_env[64], data_env[1024];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(report, sizeof report, "%s/REPORT.md", dir);
    if (seed) snprintf(seed_env, sizeof seed_env, "SEED=%s", seed);
    snprintf(force_env, sizeof force_env, "FORCE=%s", force);
    snprintf(data_env, sizeof data_env, "FASHION_MNIST_DIR=%s", data ? data : sample_data_dir());
    const char *args[] = { select, which, "--bin", AE_BINDIR, "--out", out, "--report", report,
                           "--no-build", "--no-download", NULL };
    const char *env[] = { seed_env, force_env, data_env, "MAKEFLAGS=", NULL };
    return run_script("figures.sh", args, env, log);
}

/* figures.sh on the quick exercises (or `only`) with SEED and FORCE. */
static int run_figures(const char *dir, const char *only, const char *seed, const char *force, const char *log)
{
    return figures_with(dir, "--only", only, seed, force, NULL, log);
}

static void results_path(char *path, size_t len, const char *dir, const char *exercise)
{
    snprintf(path, len, "%s/out/%s/results.tsv", dir, exercise);
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

/* ------------------------------------------------------------ Report */

/* Checks REPORT.md in dir after a run with SEED=seed. */
static void check_report(const char *dir, const char *seed)
{
    char report[1024], line[1024], value[64];
    snprintf(report, sizeof report, "%s/REPORT.md", dir);
    char *text = test_read_text(report);
    ck_assert_msg(text != NULL, "no %s", report);

    snprintf(line, sizeof line, "| seed | %s ", seed);
    ck_assert_msg(strstr(text, line) != NULL, "REPORT.md does not give the seed %s", seed);
    snprintf(line, sizeof line, "SAMPLE of Fashion-MNIST (600 training and 200 test images) in %s", sample_data_dir());
    ck_assert_msg(strstr(text, line) != NULL, "REPORT.md does not name the data as \"%s\"", line);
    ck_assert_msg(strstr(text, "| machine | ") != NULL, "REPORT.md does not describe the machine");
    ck_assert_msg(strstr(text, "| date | ") != NULL, "REPORT.md has no date");

    /* every figure of the three, linked relative to the report, and the file is there */
    const char *figures[] = { "out/week05-task2-kl/kl_sweep.png", "out/week05-task3-transposed/transposed_examples.png",
                              "out/week05-task3-transposed/transposed_overlap.png", "out/vae-reparam/sampling.png",
                              "out/vae-reparam/estimator_variance.png" };
    for (size_t i = 0; i < sizeof figures / sizeof *figures; i++) {
        snprintf(line, sizeof line, "](%s)", figures[i]);
        ck_assert_msg(strstr(text, line) != NULL, "REPORT.md does not link %s", figures[i]);
    }

    /* KL(Ber(0.4) ‖ Ber(0.8)) = 0.4 ln(0.4/0.8) + 0.6 ln(0.6/0.2), formatted as the report does */
    double kl = 0.4 * log(0.4 / 0.8) + 0.6 * log(0.6 / 0.2);
    snprintf(value, sizeof value, "| %.6g |", kl);
    ck_assert_msg(strstr(text, value) != NULL, "REPORT.md lacks KL(0.4 || 0.8) %s", value);
    free(text);

    /* report.html (pandoc or cmark-gfm, which make deps installs): every image it shows is there,
     * and the headings carry the anchors the report's links use */
    char html_path[1100], src[2048];
    snprintf(html_path, sizeof html_path, "%s/report.html", dir);
    char *html = test_read_text(html_path);
    ck_assert_msg(html != NULL, "no report.html beside REPORT.md");
    int images = 0;
    for (const char *p = strstr(html, "<img src=\""); p; p = strstr(p + 1, "<img src=\"")) {
        const char *start = p + strlen("<img src=\""), *end = strchr(start, '"');
        ck_assert_ptr_nonnull(end);
        snprintf(src, sizeof src, "%s/%.*s", dir, (int)(end - start), start);
        ck_assert_msg(file_exists(src), "report.html shows %s, which does not exist", src);
        images++;
    }
    ck_assert_int_ge(images, 5);
    ck_assert_msg(strstr(html, "id=\"task-2-the-kl-divergence-between-two-bernoulli-distributions\""),
                  "report.html's headings lack the anchors of the report's links");
    free(html);
}

/* ------------------------------------------------------------ Rerun */

START_TEST(test_rerun_skips_unchanged_work)
{
    const char *dir = test_tmpdir();
    char log_path[1024], tsv[3][1024], stamp[1024];
    const char *names[3] = { "week05-task2-kl", "week05-task3-transposed", "vae-reparam" };
    long long first[3];

    snprintf(log_path, sizeof log_path, "%s/first.log", dir);
    ck_assert_msg(run_figures(dir, QUICK, "7", "0", log_path) == 0, "figures.sh failed; see %s", log_path);
    for (int i = 0; i < 3; i++) {
        results_path(tsv[i], sizeof tsv[i], dir, names[i]);
        first[i] = mtime_ns(tsv[i]);
        ck_assert_msg(first[i] > 0, "%s was not written", tsv[i]);
        snprintf(stamp, sizeof stamp, "%s/out/.figures/%s/main.stamp", dir, names[i]);
        ck_assert_msg(mtime_ns(stamp) > 0, "no stamp %s", stamp);
    }
    check_report(dir, "7");

    /* nothing changed: no program runs */
    snprintf(log_path, sizeof log_path, "%s/second.log", dir);
    ck_assert_msg(run_figures(dir, QUICK, "7", "0", log_path) == 0, "second figures.sh failed; see %s", log_path);
    char *text = test_read_text(log_path);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(count_of(text, ": skipped") == 3, "the second run did not skip all three:\n%s", text);
    ck_assert_msg(strstr(text, "running") == NULL, "the second run ran a program:\n%s", text);
    free(text);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(mtime_ns(tsv[i]) == first[i], "%s was rewritten by an unchanged rerun", tsv[i]);

    /* another seed is another setting: that run happens again */
    snprintf(log_path, sizeof log_path, "%s/third.log", dir);
    ck_assert_msg(run_figures(dir, "week05-task2-kl", "8", "0", log_path) == 0, "figures.sh SEED=8 failed; see %s", log_path);
    ck_assert_msg(mtime_ns(tsv[0]) != first[0], "a new seed did not rerun week05-task2-kl");
    char report[1024];
    snprintf(report, sizeof report, "%s/REPORT.md", dir);
    text = test_read_text(report);
    ck_assert_msg(text && strstr(text, "| seed | 8 "), "REPORT.md does not give the new seed 8");
    free(text);
    long long after_seed = mtime_ns(tsv[0]);

    /* FORCE=1 reruns even an unchanged setting */
    snprintf(log_path, sizeof log_path, "%s/fourth.log", dir);
    ck_assert_msg(run_figures(dir, "week05-task2-kl", "8", "1", log_path) == 0, "figures.sh FORCE=1 failed; see %s", log_path);
    ck_assert_msg(mtime_ns(tsv[0]) != after_seed, "FORCE=1 did not rerun week05-task2-kl");
}
END_TEST

/* ------------------------------------------------------------ Docs */

/* Copies AE_ROOT/EXERCISE/README.md to root/EXERCISE/README.md. */
static void copy_readme(const char *root, const char *exercise)
{
    char from[1024], to[1024];
    snprintf(from, sizeof from, "%s/%s/README.md", AE_ROOT, exercise);
    snprintf(to, sizeof to, "%s/%s", root, exercise);
    ck_assert_int_eq(mkdir(to, 0755), 0);
    snprintf(to, sizeof to, "%s/%s/README.md", root, exercise);
    char *text = test_read_text(from);
    ck_assert_msg(text != NULL, "cannot read %s", from);
    test_write_text(to, text);
    free(text);
}

static int run_docs(const char *root, const char *out, const char *log)
{
    const char *args[] = { "--only", QUICK, "--root", root, "--out", out, NULL };
    return run_script("docs.sh", args, NULL, log);
}

/* root/ and out/ under dir, and the exercise folder `sub` in each when sub is not NULL. */
static void docs_tree(const char *dir, char *root, char *out, size_t len, const char *sub)
{
    char path[1024];
    snprintf(root, len, "%s/root", dir);
    snprintf(out, len, "%s/out", dir);
    const char *tops[] = { root, out };
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(mkdir(tops[k], 0755), 0);
        if (!sub) continue;
        snprintf(path, sizeof path, "%s/%s", tops[k], sub);
        ck_assert_int_eq(mkdir(path, 0755), 0);
    }
}

/* docs.sh on a README holding `text`: it exits with `status` (0 or not 0), leaves the README as
 * it was and says `message` in its log. */
static void docs_leaves_alone(const char *root, const char *out, const char *readme, const char *text,
                              int status, const char *message, const char *dir, const char *tag)
{
    char log_path[1024];
    test_write_text(readme, text);
    snprintf(log_path, sizeof log_path, "%s/docs-%s.log", dir, tag);
    const int rc = run_docs(root, out, log_path);
    ck_assert_msg(status == 0 ? rc == 0 : rc != 0, "docs.sh exited %d on %s; see %s", rc, tag, log_path);
    char *kept = test_read_text(readme);
    ck_assert_str_eq(kept, text);
    free(kept);
    char *said = test_read_text(log_path);
    ck_assert_msg(strstr(said, message) != NULL, "docs.sh did not say \"%s\":\n%s", message, said);
    free(said);
}

START_TEST(test_docs_rewrites_stale_blocks_and_is_idempotent)
{
    const char *dir = test_tmpdir();
    char log_path[1024], out[512], root[512], readme[1024], tsv[1024];
    snprintf(log_path, sizeof log_path, "%s/figures.log", dir);
    ck_assert_msg(run_figures(dir, QUICK, "42", "0", log_path) == 0, "figures.sh failed; see %s", log_path);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(root, sizeof root, "%s/root", dir);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    copy_readme(root, "week05-task2-kl");
    copy_readme(root, "week05-task3-transposed");
    copy_readme(root, "vae-reparam");

    /* make one block stale: a wrong value and a line that is not in results.tsv */
    snprintf(readme, sizeof readme, "%s/week05-task2-kl/README.md", root);
    char *text = test_read_text(readme);
    ck_assert_ptr_nonnull(text);
    char *begin = strstr(text, "<!-- results:begin -->\n```text\n");
    ck_assert_msg(begin != NULL, "week05-task2-kl/README.md has no results block");
    char *after = begin + strlen("<!-- results:begin -->\n```text\n");
    size_t size = strlen(text) + 64;
    char *stale = malloc(size);
    snprintf(stale, size, "%.*sstale_key\t2.385\n%s", (int)(after - text), text, after);
    test_write_text(readme, stale);
    free(stale);
    free(text);

    snprintf(log_path, sizeof log_path, "%s/docs1.log", dir);
    ck_assert_msg(run_docs(root, out, log_path) == 0, "docs.sh failed; see %s", log_path);
    char *once = test_read_text(readme);
    ck_assert_ptr_nonnull(once);
    ck_assert_msg(strstr(once, "stale_key") == NULL, "docs.sh left the stale line in the block");

    /* the `all` block is results.tsv, fenced */
    results_path(tsv, sizeof tsv, dir, "week05-task2-kl");
    char *results = test_read_text(tsv);
    ck_assert_ptr_nonnull(results);
    size = strlen(results) + 128;
    char *block = malloc(size);
    snprintf(block, size, "<!-- results:begin -->\n```text\n%s```\n<!-- results:end -->\n", results);
    ck_assert_msg(strstr(once, block) != NULL, "the block of week05-task2-kl/README.md is not its results.tsv");
    free(block);
    free(results);

    /* a second run changes nothing in any of the three */
    char paths[3][1024], *before[3];
    const char *names[3] = { "week05-task2-kl", "week05-task3-transposed", "vae-reparam" };
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s/README.md", root, names[i]);
        before[i] = test_read_text(paths[i]);
        ck_assert_ptr_nonnull(before[i]);
    }
    snprintf(log_path, sizeof log_path, "%s/docs2.log", dir);
    ck_assert_msg(run_docs(root, out, log_path) == 0, "second docs.sh failed; see %s", log_path);
    for (int i = 0; i < 3; i++) {
        char *again = test_read_text(paths[i]);
        ck_assert_ptr_nonnull(again);
        ck_assert_msg(strcmp(again, before[i]) == 0, "a second docs.sh changed %s", paths[i]);
        free(again);
        free(before[i]);
    }
    free(once);

    /* without results.tsv a README is left alone, and the script says so */
    char empty[1024];
    snprintf(empty, sizeof empty, "%s/empty-out", dir);
    ck_assert_int_eq(mkdir(empty, 0755), 0);
    docs_leaves_alone(root, empty, readme, "# a chapter\n<!-- results:begin -->\nold numbers\n<!-- results:end -->\n",
                      0, "week05-task2-kl/README.md not touched", dir, "3");
}
END_TEST

/* docs.sh run twice: the README is `expected` after the first run and unchanged by the second. */
static void docs_gives_twice(const char *root, const char *out, const char *readme, const char *expected,
                             const char *dir, const char *tag)
{
    for (int run = 1; run <= 2; run++) {
        char log_path[1024];
        snprintf(log_path, sizeof log_path, "%s/docs-%s%d.log", dir, tag, run);
        ck_assert_msg(run_docs(root, out, log_path) == 0, "docs.sh run %d failed; see %s", run, log_path);
        char *text = test_read_text(readme);
        ck_assert_ptr_nonnull(text);
        ck_assert_str_eq(text, expected);
        free(text);
    }
}

/* File blocks: an output file copied whole into a fence, or only its tables; a second run
 * changes nothing; a missing file leaves the README alone and says which file. */
START_TEST(test_docs_copies_file_blocks)
{
    const char *dir = test_tmpdir();
    char root[512], out[512], path[1024], readme[1024];
    docs_tree(dir, root, out, sizeof root, "week05-task2-kl");
    snprintf(path, sizeof path, "%s/week05-task2-kl/notes.md", out);
    test_write_text(path, "# title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nsome text\n\n| c |\n|---|\n| 3 |\n\nfooter\n");
    snprintf(readme, sizeof readme, "%s/week05-task2-kl/README.md", root);
    test_write_text(readme, "# a chapter\n<!-- file:begin notes.md table -->\nold table\n<!-- file:end -->\nprose\n"
                 "<!-- file:begin notes.md -->\n<!-- file:end -->\nend\n");
    const char *expected =
        "# a chapter\n<!-- file:begin notes.md table -->\n| a | b |\n|---|---|\n| 1 | 2 |\n\n| c |\n|---|\n| 3 |\n"
        "<!-- file:end -->\nprose\n<!-- file:begin notes.md -->\n```text\n# title\n\n| a | b |\n|---|---|\n"
        "| 1 | 2 |\n\nsome text\n\n| c |\n|---|\n| 3 |\n\nfooter\n```\n<!-- file:end -->\nend\n";

    docs_gives_twice(root, out, readme, expected, dir, "files");

    /* a block whose file is missing: nothing changes, and the message names the file */
    const char *with_missing = "# a chapter\n<!-- file:begin notes.md table -->\nold\n<!-- file:end -->\n"
                               "<!-- file:begin gone.md -->\nkept\n<!-- file:end -->\n";
    docs_leaves_alone(root, out, readme, with_missing, 0, "gone.md", dir, "files3");
}
END_TEST

/* Lines blocks: a table of a folder's modules with their line counts, true to `wc -l`; a second
 * run changes nothing; a block naming no folder is left alone, with a message. */
START_TEST(test_docs_counts_lines)
{
    const char *dir = test_tmpdir();
    char root[512], out[512], path[1024], readme[1024];
    docs_tree(dir, root, out, sizeof root, NULL);
    snprintf(path, sizeof path, "%s/lib", root);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/lib/sub", root);                  /* sub-folders are not counted */
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/lib/sub/deep.c", root);
    test_write_text(path, "1\n2\n");
    snprintf(path, sizeof path, "%s/lib/dense.c", root);
    test_write_text(path, "a\nb\nc\n");
    snprintf(path, sizeof path, "%s/lib/dense.h", root);
    test_write_text(path, "x\n");
    snprintf(path, sizeof path, "%s/lib/batch.h", root);
    test_write_text(path, "y\nz\n");
    snprintf(readme, sizeof readme, "%s/lib/README.md", root);
    test_write_text(readme, "# lib\n<!-- lines:begin lib -->\n| stale |\n<!-- lines:end -->\nprose\n");
    const char *expected = "# lib\n<!-- lines:begin lib -->\n| module | .h | .c | lines |\n| --- | ---: | ---: | ---: |\n"
                           "| `batch` | 2 | – | 2 |\n| `dense` | 1 | 3 | 4 |\n| **lib/** | | | **6** |\n"
                           "<!-- lines:end -->\nprose\n";
    docs_gives_twice(root, out, readme, expected, dir, "lines");

    const char *bad = "# lib\n<!-- lines:begin nowhere -->\nkept\n<!-- lines:end -->\n";
    docs_leaves_alone(root, out, readme, bad, 1, "no folder: nowhere", dir, "lines3");
}
END_TEST

/* ------------------------------------------------------------ Resume */

/* figures.sh with the configuration file conf, on the sample, with FORCE=force. */
static int run_figures_conf(const char *dir, const char *conf, const char *force, const char *log)
{
    return figures_with(dir, "--conf", conf, NULL, force, NULL, log);
}

/* Replaces the `binary` line of a stamp, as if the program had been rebuilt from changed code. */
static void pretend_rebuilt(const char *stamp)
{
    char *text = test_read_text(stamp);
    ck_assert_msg(text != NULL, "no stamp %s", stamp);
    ck_assert_msg(strncmp(text, "binary ", 7) == 0, "%s does not start with its binary's checksum", stamp);
    char *rest = strchr(text, '\n');
    ck_assert_ptr_nonnull(rest);
    size_t size = strlen(rest) + 64;
    char *changed = malloc(size);
    snprintf(changed, size, "binary 0123456789abcdef%s", rest);
    test_write_text(stamp, changed);
    free(changed);
    free(text);
}

START_TEST(test_training_run_reuses_its_checkpoints)
{
    const char *dir = test_tmpdir();
    char conf[1024], log_path[1024], stamp[1024];
    snprintf(conf, sizeof conf, "%s/exercises.conf", dir);
    /* one quick training run: model A, one epoch, on the sample's sneakers */
    test_write_text(conf, "exercise week05-task4-ae\n"
               "data    fashion-mnist\n"
               "run     anomaly --task anomaly --model A --epochs 1\n"
               "resume  --from-checkpoint *.ckpt\n");
    snprintf(stamp, sizeof stamp, "%s/out/.figures/week05-task4-ae/anomaly.stamp", dir);

    snprintf(log_path, sizeof log_path, "%s/train.log", dir);
    ck_assert_msg(run_figures_conf(dir, conf, "0", log_path) == 0, "figures.sh failed; see %s", log_path);
    char *text = test_read_text(log_path);
    ck_assert_msg(text && strstr(text, "--task anomaly") && !strstr(text, "--from-checkpoint"),
                  "the first run did not train from scratch:\n%s", text);
    free(text);

    /* the program changed, its setting did not: the checkpoint is reused */
    pretend_rebuilt(stamp);
    snprintf(log_path, sizeof log_path, "%s/resume.log", dir);
    ck_assert_msg(run_figures_conf(dir, conf, "0", log_path) == 0, "figures.sh failed; see %s", log_path);
    text = test_read_text(log_path);
    ck_assert_msg(text && strstr(text, "--from-checkpoint"), "a rebuilt program did not reuse its checkpoint:\n%s", text);
    free(text);
    /* and again: the results owe the training run's time once, not the sum of every rerun */
    char *first = test_read_text(stamp);
    ck_assert_ptr_nonnull(first);
    const char *line = strstr(first, "\ntrained ");
    ck_assert_ptr_nonnull(line);
    double trained = strtod(line + 9, NULL);
    free(first);
    pretend_rebuilt(stamp);
    ck_assert_msg(run_figures_conf(dir, conf, "0", log_path) == 0, "figures.sh failed; see %s", log_path);
    char *second = test_read_text(stamp);
    ck_assert_ptr_nonnull(second);
    line = strstr(second, "\ntrained ");
    ck_assert_msg(line && strtod(line + 9, NULL) == trained, "the training time changed on a rerun from checkpoints:\n%s",
                  second);
    line = strstr(second, "\nseconds ");
    double seconds = line ? strtod(line + 9, NULL) : -1.0;
    ck_assert_msg(seconds >= trained && seconds < 2.0 * trained + 30.0, "seconds %g for a training of %g s:\n%s",
                  seconds, trained, second);
    free(second);

    /* FORCE=1 trains again */
    snprintf(log_path, sizeof log_path, "%s/force.log", dir);
    ck_assert_msg(run_figures_conf(dir, conf, "1", log_path) == 0, "figures.sh FORCE=1 failed; see %s", log_path);
    text = test_read_text(log_path);
    ck_assert_msg(text && strstr(text, "running") && !strstr(text, "--from-checkpoint"),
                  "FORCE=1 did not train from scratch:\n%s", text);
    free(text);
}
END_TEST

/* ------------------------------------------------------------ Limits */

START_TEST(test_bad_option_and_missing_data)
{
    const char *dir = test_tmpdir();
    char log_path[1024], report[1024], missing[1024];
    snprintf(log_path, sizeof log_path, "%s/figures.log", dir);
    snprintf(report, sizeof report, "%s/REPORT.md", dir);

    const char *bad[] = { "--frobnicate", NULL };
    ck_assert_int_eq(run_script("figures.sh", bad, NULL, log_path), 2);

    snprintf(missing, sizeof missing, "%s/no-data-here", dir);
    ck_assert_int_eq(mkdir(missing, 0755), 0);
    ck_assert_int_eq(figures_with(dir, "--only", QUICK, NULL, "0", missing, log_path), 2);
    ck_assert_msg(mtime_ns(report) < 0, "a failed figures.sh left %s", report);
    char *said = test_read_text(log_path);
    ck_assert_msg(said && strstr(said, "does not hold the four Fashion-MNIST files"), "no clear message:\n%s", said);
    free(said);

    ck_assert_int_eq(figures_with(dir, "--only", QUICK, "forty-two", "0", NULL, log_path), 2);
}
END_TEST

/* The student edition: a program that skipped the parts it could not run exits 3; figures.sh
 * lists what it skipped, marks it "ran in part" and exits 3 too. */
START_TEST(test_a_run_in_part_is_reported)
{
    const char *dir = test_tmpdir();
    char bin[1024], program[1100], out[1024], report[1024], log_path[1024], data_env[1100];
    snprintf(bin, sizeof bin, "%s/bin-in-part", dir);
    ck_assert_int_eq(mkdir(bin, 0755), 0);
    snprintf(program, sizeof program, "%s/week05-task2-kl", bin);
    test_write_text(program, "#!/bin/sh\n"
                             "while [ $# -gt 0 ]; do [ \"$1\" = --out ] && out=$2; shift; done\n"
                             "mkdir -p \"$out\"\n"
                             "printf 'skipped_part_a\\tnot implemented yet: f (x/f.c) - Task 2a\\n' > \"$out/results.tsv\"\n"
                             "exit 3\n");
    ck_assert_int_eq(chmod(program, 0755), 0);
    snprintf(out, sizeof out, "%s/out-in-part", dir);
    snprintf(report, sizeof report, "%s/REPORT-in-part.md", dir);
    snprintf(log_path, sizeof log_path, "%s/figures-in-part.log", dir);
    snprintf(data_env, sizeof data_env, "FASHION_MNIST_DIR=%s", sample_data_dir());
    const char *args[] = { "--only", "week05-task2-kl", "--bin", bin, "--out", out, "--report", report,
                           "--no-build", "--no-download", NULL };
    const char *env[] = { "SEED=", "FORCE=0", data_env, "MAKEFLAGS=", NULL };
    ck_assert_int_eq(run_script("figures.sh", args, env, log_path), 3);
    test_file_says(log_path, "ran in part");
    test_file_says(log_path, "skipped_part_a\tnot implemented yet: f (x/f.c) - Task 2a");
    test_file_says(report, "| ran in part (parts skipped: functions not written yet) |");
}
END_TEST

/* A figure the run did not make (a part left out for want of its data) is said so in the report, and
 * not called a rendering failure. */
START_TEST(test_a_figure_not_made_is_explained)
{
    const char *dir = test_tmpdir();
    char conf[1024], log_path[1024], report[1100];
    snprintf(conf, sizeof conf, "%s/one.conf", dir);
    snprintf(log_path, sizeof log_path, "%s/figures.log", dir);
    snprintf(report, sizeof report, "%s/REPORT.md", dir);
    test_write_text(conf, "exercise week05-task2-kl\ntitle   Task 2\nrun     main\n"
                          "figure  kl_sweep.png    The sweep\n"
                          "figure  homework.png    A figure of a part that needs other data\n");
    ck_assert_int_eq(figures_with(dir, "--conf", conf, "42", "1", NULL, log_path), 0);
    test_file_says(report, "*A figure of a part that needs other data*: not made by this run (no `");
    test_file_says(report, "![The sweep](");
}
END_TEST

/* make data checks content: a folder that is not the official data (the sample) is refused, each
 * file named; no download is tried for a folder the variable names. */
START_TEST(test_get_data_refuses_other_content)
{
    const char *dir = test_tmpdir();
    char log_path[1024], env_dir[1100];
    snprintf(log_path, sizeof log_path, "%s/get-data.log", dir);
    snprintf(env_dir, sizeof env_dir, "FASHION_MNIST_DIR=%s", sample_data_dir());
    const char *env[] = { env_dir, NULL };
    const char *none[] = { NULL };
    ck_assert_int_eq(run_script("get-data.sh", none, env, log_path), 1);
    test_file_says(log_path, "train-images-idx3-ubyte (wrong content: ");
    test_file_says(log_path, "t10k-labels-idx1-ubyte (wrong content: ");
    snprintf(env_dir, sizeof env_dir, "FASHION_MNIST_DIR=%s", dir);   /* a folder without the files */
    ck_assert_int_eq(run_script("get-data.sh", none, env, log_path), 1);
    test_file_says(log_path, "train-labels-idx1-ubyte (missing)");
}
END_TEST

/* fuzz/run.sh refuses what it cannot run, before running anything. */
START_TEST(test_fuzz_runner_refuses_bad_settings)
{
    const char *dir = test_tmpdir();
    char script[1024], build_env[1100], log_path[1024];
    snprintf(script, sizeof script, "%s/fuzz/run.sh", AE_ROOT);
    snprintf(build_env, sizeof build_env, "FUZZ_BUILD=%s", dir);
    snprintf(log_path, sizeof log_path, "%s/fuzz.log", dir);
    const char *before[] = { "bash", script, NULL };
    const char *target[] = { "idx", NULL };
    const char *bad_seconds[] = { build_env, "FUZZ_SECONDS=ten", NULL };
    ck_assert_int_eq(run_command("bash", before, target, bad_seconds, log_path), 2);
    test_file_says(log_path, "FUZZ_SECONDS must be a whole number of seconds, not 'ten'");
    const char *no_such[] = { "jpeg", NULL };
    const char *good_seconds[] = { build_env, "FUZZ_SECONDS=1", NULL };
    ck_assert_int_eq(run_command("bash", before, no_such, good_seconds, log_path), 2);
    test_file_says(log_path, "no target 'jpeg'");
}
END_TEST

/* make bench refuses a bad setting and a missing bench program before timing anything. */
START_TEST(test_bench_refuses_bad_settings)
{
    const char *dir = test_tmpdir();
    char script[1024], log_path[1024], out_env[1100];
    snprintf(script, sizeof script, "%s/bench/run.sh", AE_ROOT);
    snprintf(log_path, sizeof log_path, "%s/bench.log", dir);
    snprintf(out_env, sizeof out_env, "BENCH_OUT=%s/bench", dir);
    if (access(script, F_OK) != 0) return;      /* the student edition leaves bench/ out */
    const char *before[] = { "sh", script, NULL };
    const char *bad_neighbour[] = { out_env, "BENCH_NEIGHBOUR=yes", NULL };
    ck_assert_int_eq(run_command("sh", before, NULL, bad_neighbour, log_path), 1);
    test_file_says(log_path, "BENCH_NEIGHBOUR must be 0 or 1, not 'yes'");
    const char *bad_repeats[] = { out_env, "BENCH_REPEATS=0", NULL };
    ck_assert_int_eq(run_command("sh", before, NULL, bad_repeats, log_path), 1);
    test_file_says(log_path, "BENCH_REPEATS must be a whole number of runs, at least 1, not '0'");
    const char *bad_case[] = { out_env, "BENCH_MODELS=A JPEG", NULL };
    ck_assert_int_eq(run_command("sh", before, NULL, bad_case, log_path), 1);
    test_file_says(log_path, "unknown case 'JPEG' (the cases are A, B, VAE, CONV, PORTABLE and FIGURES)");
    const char *no_program[] = { out_env, "BENCH_TRAIN=", NULL };
    ck_assert_int_eq(run_command("sh", before, NULL, no_program, log_path), 1);
    test_file_says(log_path, "the bench program is missing");
    /* the VAE cases' script: a model it does not know, and PyTorch's side asked for the conv VAE */
    char vae_script[1024];
    snprintf(vae_script, sizeof vae_script, "%s/bench/case-vae.sh", AE_ROOT);
    const char *bad_model[] = { "bash", vae_script, "ours", "--model", "resnet", NULL };
    ck_assert_int_eq(run_command("bash", bad_model, NULL, NULL, log_path), 2);
    test_file_says(log_path, "--model is dense or conv, not 'resnet'");
    const char *conv_peer[] = { "bash", vae_script, "--model", "conv", "--data", AE_ROOT "/data/sample", NULL };
    ck_assert_int_eq(run_command("bash", conv_peer, NULL, NULL, log_path), 2);
    test_file_says(log_path, "PyTorch's side has the dense VAE only");
}
END_TEST

/* make bench times in rounds: each round runs every command of a case once, in the same order
 * (PyTorch 1 and 2 threads, ours 1 and 2, ours beside the neighbour 1 and 2), and each keeps its
 * fastest run. Fake programs stand in for the bench program and for PyTorch, and four IDX headers
 * for the full data. */
START_TEST(test_bench_times_in_rounds)
{
    const char *dir = test_tmpdir();
    char script[1024];
    snprintf(script, sizeof script, "%s/bench/run.sh", AE_ROOT);
    if (access(script, F_OK) != 0) return;      /* the student edition leaves bench/ out */
    char path[1200], calls[1200], log_path[1200], fake_train[1200], fake_python[1200];
    static const unsigned char train_header[8] = { 0, 0, 8, 3, 0, 0, 0xea, 0x60 };   /* 60,000 */
    static const unsigned char test_header[8] = { 0, 0, 8, 3, 0, 0, 0x27, 0x10 };    /* 10,000 */
    snprintf(path, sizeof path, "%s/data", dir);
    mkdir(path, 0700);
    const char *names[] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                            "t10k-labels-idx1-ubyte" };
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/data/%s", dir, names[i]);
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        fwrite(i < 2 ? train_header : test_header, 1, 8, f);
        fclose(f);
    }
    snprintf(calls, sizeof calls, "%s/calls.log", dir);
    snprintf(log_path, sizeof log_path, "%s/bench.log", dir);
    /* each run appends who it is and its thread count to calls.log, and prints its time: the
     * second round (calls 7 to 12) is slower for one thread and faster for two, so the run kept
     * differs between them */
    char body[4096];
    snprintf(body, sizeof body,
             "#!/bin/sh\n"
             "[ \"$1\" = --peak-only ] && { printf 'core_peak_gflops\\t200\\n'; exit 0; }\n"
             "[ \"$1\" = -c ] && exit 0\n"
             "who=ours; case \"$1\" in *torch_ae.py) who=torch ;; esac\n"
             "t=1; p=''; while [ $# -gt 0 ]; do [ \"$1\" = --threads ] && t=$2; [ \"$1\" = --portable ] && p=' portable'; shift; done\n"
             "n=$(($(cat '%s' 2>/dev/null | wc -l) + 1))\n"
             "echo \"$who $t$p\" >>'%s'\n"
             "if [ $n -le 6 ]; then s=$((2 + t)); else s=$((5 - t)); fi\n"
             "printf 'implementation\\t%%s\\nthreads\\t%%s\\nepochs\\t1\\nseconds_per_epoch\\t%%s\\n' \"$who\" \"$t\" \"$s\"\n"
             "printf 'seconds_total\\t%%s\\nval_loss\\t0.01\\npeak_rss_mib\\t50\\nflops_per_epoch\\t1e9\\n' \"$s\"\n",
             calls, calls);
    snprintf(fake_train, sizeof fake_train, "%s/fake-train", dir);
    snprintf(fake_python, sizeof fake_python, "%s/fake-python", dir);
    test_write_text(fake_train, body);
    test_write_text(fake_python, body);
    ck_assert_int_eq(chmod(fake_train, 0755), 0);
    ck_assert_int_eq(chmod(fake_python, 0755), 0);

    char out_env[1300], data_env[1300], train_env[1300], python_env[1300];
    snprintf(out_env, sizeof out_env, "BENCH_OUT=%s/out", dir);
    snprintf(data_env, sizeof data_env, "FASHION_MNIST_DIR=%s/data", dir);
    snprintf(train_env, sizeof train_env, "BENCH_TRAIN=%s", fake_train);
    snprintf(python_env, sizeof python_env, "PYTHON=%s", fake_python);
    const char *env[] = { out_env, data_env, train_env, python_env, "BENCH_MODELS=A", "BENCH_REPEATS=2",
                          "BENCH_NEIGHBOUR=1", "AE_PROGRAM=", NULL };
    const char *before[] = { "sh", script, NULL };
    ck_assert_int_eq(run_command("sh", before, NULL, env, log_path), 0);

    char *order = test_read_text(calls);
    ck_assert_str_eq(order, "torch 1\ntorch 2\nours 1\nours 2\nours 1\nours 2\n"
                            "torch 1\ntorch 2\nours 1\nours 2\nours 1\nours 2\n");
    free(order);
    /* the fastest of each: 1 thread 3 s (round 1) against 4 s; 2 threads 3 s (round 2) against 4 s */
    test_file_says(log_path, "A-ours-t1 (run 2 of 2) ... 4.00 s\n");
    test_file_says(log_path, "A-ours-t2 (run 2 of 2) ... 3.00 s (the fastest so far)\n");
    test_file_says(log_path, "made in rounds");
    snprintf(path, sizeof path, "%s/out/A-ours-t2.tsv", dir);
    test_file_says(path, "seconds_per_epoch\t3\n");
    test_file_says(path, "runs\t2\n");
    /* the target against PyTorch in seconds (0.15 of its 3 s), and the bound of each of our runs:
     * 1e9 FLOP at 200 GFLOP/s a core, 5 ms on one core and 2.5 on two */
    test_file_says(log_path, "model A: that target is 0.450 s per epoch");
    test_file_says(log_path, "(PyTorch multiplies in an unnamed BLAS)");
    test_file_says(log_path, "1 core); ours on 1 thread takes 600.00 times it (target <= 1.3: NOT met)");
    test_file_says(log_path, "2 cores); ours on 2 threads takes 1200.00 times it (target <= 1.3: NOT met)");

    /* the PORTABLE case: model A with --portable, ours only (1 and 2 threads, then beside the
     * neighbour), with the threads' ratios and no bound (its kernels do not reach the peak) */
    const char *portable_env[] = { out_env, data_env, train_env, python_env, "BENCH_MODELS=PORTABLE", "BENCH_REPEATS=1",
                                   "BENCH_NEIGHBOUR=1", "AE_PROGRAM=", NULL };
    ck_assert_int_eq(run_command("sh", before, NULL, portable_env, log_path), 0);
    order = test_read_text(calls);
    ck_assert_str_eq(order, "torch 1\ntorch 2\nours 1\nours 2\nours 1\nours 2\n"
                            "torch 1\ntorch 2\nours 1\nours 2\nours 1\nours 2\n"
                            "ours 1 portable\nours 2 portable\nours 1 portable\nours 2 portable\n");
    free(order);
    test_file_says(log_path, "model A on the portable path");
    test_file_says(log_path, "model A (port): 2 threads are 1.33 times as fast as 1 (target >= 1.6: NOT met)");
    test_file_says(log_path, "model A (port) beside a CPU-bound process: 2 threads take");
    char *summary = test_read_text(log_path);
    ck_assert_ptr_null(strstr(summary, "model A (port): bound"));
    free(summary);
}
END_TEST

Suite *figures_suite(void)
{
    Suite *s = suite_create("figures");
    test_add(test_case(s, "Rerun", 120), test_rerun_skips_unchanged_work);
    test_add(test_case(s, "Docs", 60), test_docs_rewrites_stale_blocks_and_is_idempotent,
             test_docs_copies_file_blocks, test_docs_counts_lines);
    test_add(test_case(s, "Resume", 120), test_training_run_reuses_its_checkpoints);
    test_add(test_case(s, "Limits", 30), test_bad_option_and_missing_data, test_a_run_in_part_is_reported,
             test_a_figure_not_made_is_explained, test_bench_refuses_bad_settings, test_bench_times_in_rounds,
             test_fuzz_runner_refuses_bad_settings, test_get_data_refuses_other_content);
    return s;
}
