/* test_grader.c: proof that `make grade` grades (solutions/grade.sh).
 *
 *   Grader  a copy of this checkout (only what a build needs: Makefile, config.mk, mk/,
 *           common/ and the exercise folders) is placed in a temporary folder and graded with
 *           `make grade SUBMISSION=copy`: every item passes. Then errors are planted in the copy,
 *           one per exercise,
 *           and the grader must name the item that catches each:
 *             week05-task2-kl          kl_bernoulli's arguments swapped; then its sign flipped
 *             week05-task3-transposed  tconv_scatter flips the kernel (where it must not);
 *                                      tconv_by_zero_insertion does not flip it (where it must)
 *             vae-reparam              reparam_forward uses the variance σ² for σ
 *             vae-elbo                 kl_closed_form is the lecture notebook's formula
 *             week05-task4-ae          model C loses its Dense(128) layer
 *
 * A function is planted by renaming the copy's own definition with a macro put before it and
 * appending a wrong one under the right name, so the plant does not depend on how the
 * function is written. The grader runs with GRADE_QUICK=1 (3 reference seeds for the training
 * bands instead of 8) and builds the copy in release whatever variant the tests are built in.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "testutil.h"

static char checkout[512];   /* the copy, made once and shared by the tests in order */
static char report[600];

/* Runs a shell command, output to log; returns its exit status (−1 when it did not exit). */
static int shell(const char *command, const char *log)
{
    char line[16384];
    snprintf(line, sizeof line, "(%s) > '%s' 2>&1", command, log);
    int status = system(line);
    return (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
}

/* The result ("PASS", "FAIL", "NOT RUN") of the report row whose item starts with name,
 * copied into status; "" when no row has that item. */
static void row_status(const char *text, const char *name, char *status, size_t size)
{
    status[0] = '\0';
    char needle[600];
    snprintf(needle, sizeof needle, "\n| %s", name);
    const char *row = strstr(text, needle);
    if (!row) return;
    row += 1;
    /* | item | expected | got | result | points | */
    const char *cell = row;
    for (int bar = 0; bar < 3 && cell; bar++) cell = strstr(cell + 1, " | ");
    if (!cell) return;
    cell += 3;
    size_t len = strcspn(cell, "|");
    while (len > 0 && cell[len - 1] == ' ') len--;
    snprintf(status, size, "%.*s", (int)len, cell);
}

static void assert_row(const char *text, const char *name, const char *expected_status)
{
    char status[32];
    row_status(text, name, status, sizeof status);
    ck_assert_msg(strcmp(status, expected_status) == 0, "the report's row \"%s\" is \"%s\", not %s (see %s)",
                  name, status[0] ? status : "missing", expected_status, report);
}

/* The row exists and did not pass: FAIL, or NOT RUN because an earlier item failed. */
static void assert_row_not_passed(const char *text, const char *name)
{
    char status[32];
    row_status(text, name, status, sizeof status);
    ck_assert_msg(strcmp(status, "FAIL") == 0 || strcmp(status, "NOT RUN") == 0,
                  "the report's row \"%s\" is \"%s\", not FAIL or NOT RUN (see %s)", name,
                  status[0] ? status : "missing", report);
}

/* Makes the copy once: the build files, the library and every exercise folder. */
static void make_checkout(void)
{
    char path[700], command[4096], log[700];
    snprintf(path, sizeof path, "%s/config.mk", checkout);
    struct stat st;
    if (stat(path, &st) == 0) return;
    snprintf(log, sizeof log, "%s.copy.log", checkout);
    snprintf(command, sizeof command,
             "mkdir -p '%s' && cd '%s' && cp -R Makefile config.mk mk common '%s'/ && "
             "for e in $(make -s --no-print-directory -C solutions print-exercises); do cp -R \"$e\" '%s'/; done",
             checkout, AE_ROOT, checkout, checkout);
    ck_assert_msg(shell(command, log) == 0, "could not copy the checkout (see %s)", log);
}

/* The grader on the copy: quick runs, 2 build jobs, a release build whatever variant the tests
 * themselves were built in (a sanitized copy would take minutes); returns its exit status. */
static int grade(const char *only, const char *log)
{
    char command[4096];
    snprintf(command, sizeof command,
             "unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE O GRADE_BUILD GRADE_REPORT REQUIRE_ALL SUBMISSION; "
             "export MAKEFLAGS=-j2 GRADE_QUICK=1 GRADE_ONLY='%s'; "
             "[ -n \"$GRADE_ONLY\" ] || unset GRADE_ONLY; "
             "make --no-print-directory -C '%s' grade SUBMISSION='%s'",
             only ? only : "", AE_ROOT, checkout);
    return shell(command, log);
}

static void setup_checkout(void)
{
    snprintf(checkout, sizeof checkout, "%s/checkout", test_tmpdir());
    snprintf(report, sizeof report, "%s/grade-report.md", checkout);
}

/* --------------------------------------------------------------- plants */
/* The .c file of the copy's folder dir that defines `definition` (such as "int kl_bernoulli("),
 * as a path relative to the copy; fails the test when there is none. */
static void find_definition(char *file, size_t size, const char *dir, const char *definition)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", checkout, dir);
    DIR *d = opendir(path);
    ck_assert_msg(d != NULL, "cannot read %s", path);
    file[0] = '\0';
    struct dirent *e;
    while (!file[0] && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".c") != 0) continue;
        char source[1400];
        snprintf(source, sizeof source, "%s/%s", path, e->d_name);
        char *text = test_read_text(source);
        if (text && strstr(text, definition)) snprintf(file, size, "%s/%s", dir, e->d_name);
        free(text);
    }
    closedir(d);
    ck_assert_msg(file[0] != '\0', "no .c file of %s defines \"%s\": update this plant", dir, definition);
}

/* Renames the copy's definition of each of fns (in the .c file of dir that defines the first,
 * as `definition` says) to fn_as_written, and appends `wrong` under the right names. The
 * original is kept as FILE.orig, so a second plant starts from it again. */
static void plant(const char *dir, const char *definition, const char *header, const char *const *fns,
                  int n_fns, const char *wrong)
{
    char file[256], path[1024], orig[1040];
    find_definition(file, sizeof file, dir, definition);
    snprintf(path, sizeof path, "%s/%s", checkout, file);
    snprintf(orig, sizeof orig, "%s.orig", path);
    char *text = test_read_text(orig);
    if (!text) {
        text = test_read_text(path);
        ck_assert_msg(text != NULL, "cannot read %s", path);
        test_write_text(orig, text);
    }
    size_t size = strlen(text) + strlen(wrong) + 4096;
    char *planted = malloc(size);
    ck_assert_ptr_nonnull(planted);
    size_t used = (size_t)snprintf(planted, size, "/* planted by tests/test_grader.c */\n#include \"%s\"\n", header);
    for (int i = 0; i < n_fns; i++)
        used += (size_t)snprintf(planted + used, size - used, "#define %s %s_as_written\n", fns[i], fns[i]);
    used += (size_t)snprintf(planted + used, size - used, "%s\n", text);
    for (int i = 0; i < n_fns; i++) used += (size_t)snprintf(planted + used, size - used, "#undef %s\n", fns[i]);
    snprintf(planted + used, size - used, "%s\n", wrong);
    test_write_text(path, planted);
    free(planted);
    free(text);
}

/* Replaces the first `from` in the .c file of dir that holds it by `to`; fails the test when
 * no file holds it. */
static void replace_in(const char *dir, const char *from, const char *to)
{
    char file[256], path[1024];
    find_definition(file, sizeof file, dir, from);
    snprintf(path, sizeof path, "%s/%s", checkout, file);
    char *text = test_read_text(path);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    char orig[1040];
    snprintf(orig, sizeof orig, "%s.orig", path);
    struct stat st;
    if (stat(orig, &st) != 0) test_write_text(orig, text);   /* unplant_all puts it back */
    char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "%s no longer holds \"%s\": update this plant", file, from);
    size_t size = strlen(text) + strlen(to) + 1;
    char *changed = malloc(size);
    ck_assert_ptr_nonnull(changed);
    snprintf(changed, size, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    test_write_text(path, changed);
    free(changed);
    free(text);
}

/* Every planted file of the copy back as it was (from its .orig). */
static void unplant_all(void)
{
    char command[2000], log[700];
    snprintf(command, sizeof command, "find '%s' -name '*.orig' | while read -r f; do mv \"$f\" \"${f%%.orig}\"; done",
             checkout);
    snprintf(log, sizeof log, "%s.unplant.log", checkout);
    ck_assert_msg(shell(command, log) == 0, "cannot restore the copy; see %s", log);
}

/* The cell `column` (0: the item) of the report's row whose item starts with name, into out. */
static void row_cell(const char *text, const char *name, int column, char *out, size_t size)
{
    out[0] = '\0';
    char needle[600];
    snprintf(needle, sizeof needle, "\n| %s", name);
    const char *row = strstr(text, needle);
    ck_assert_msg(row != NULL, "the report has no row \"%s\" (see %s)", name, report);
    const char *cell = row + 2;
    for (int bar = 0; bar < column && cell; bar++) cell = strstr(cell + 1, " | ");
    ck_assert_ptr_nonnull(cell);
    if (column > 0) cell += 3;
    size_t len = strcspn(cell, "|\n");
    while (len > 0 && cell[len - 1] == ' ') len--;
    snprintf(out, size, "%.*s", (int)len, cell);
}

static const char *const kl_fns[] = { "kl_bernoulli" };

static const char *const kl_endless =
    "/* planted: a loop that never ends */\n"
    "int kl_bernoulli(double p, double q, double *divergence)\n"
    "{\n"
    "    volatile double x = p + q;\n"
    "    for (;;) x = x * 0.5 + 1.0;\n"
    "    *divergence = x;\n"
    "    return 0;\n"
    "}\n";

static const char *const kl_swapped =
    "/* planted: the arguments swapped */\n"
    "int kl_bernoulli(double p, double q, double *divergence)\n"
    "{\n    return kl_bernoulli_as_written(q, p, divergence);\n}\n";

static const char *const kl_wrong_sign =
    "/* planted: the sign flipped, as in p ln(q/p) + (1-p) ln((1-q)/(1-p)) */\n"
    "int kl_bernoulli(double p, double q, double *divergence)\n"
    "{\n    int rc = kl_bernoulli_as_written(p, q, divergence);\n"
    "    if (rc == 0) *divergence = -*divergence;\n    return rc;\n}\n";

static const char *const tconv_fns[] = { "tconv_scatter", "tconv_by_zero_insertion" };

static const char *const tconv_wrong =
    "#include <stdlib.h>\n"
    "/* planted: the scatter uses the kernel turned by 180 degrees, where it must not */\n"
    "int tconv_scatter(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,\n"
    "                  const tconv_params *prm)\n"
    "{\n"
    "    tconv_matrix turned = { kernel->rows, kernel->cols, malloc((size_t)kernel->rows * kernel->cols * sizeof(double)) };\n"
    "    for (int i = 0; i < kernel->rows * kernel->cols; i++) turned.data[i] = kernel->data[kernel->rows * kernel->cols - 1 - i];\n"
    "    int rc = tconv_scatter_as_written(out, in, &turned, prm);\n"
    "    free(turned.data);\n"
    "    return rc;\n"
    "}\n"
    "/* planted: zero insertion, then the kernel NOT turned, where it must be */\n"
    "int tconv_by_zero_insertion(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,\n"
    "                            const tconv_params *prm)\n"
    "{\n"
    "    int rows, cols;\n"
    "    int rc = tconv_transposed_check(&rows, &cols, in->rows, in->cols, kernel->rows, kernel->cols, prm);\n"
    "    if (rc != 0) return rc;\n"
    "    tconv_matrix *padded = tconv_matrix_alloc(rows + kernel->rows - 1, cols + kernel->cols - 1);\n"
    "    const tconv_params plain = { 1, 0, 0 };\n"
    "    rc = tconv_zero_insert(padded, in, kernel->rows, kernel->cols, prm);\n"
    "    if (rc == 0) rc = tconv_conv2d(out, padded, kernel, &plain);\n"
    "    tconv_matrix_free(padded);\n"
    "    return rc;\n"
    "}\n";

static const char *const sampling_fns[] = { "reparam_forward" };

static const char *const sampling_wrong =
    "#include <math.h>\n"
    "/* planted: the variance where the standard deviation belongs, z = mu + exp(logvar) eps */\n"
    "void reparam_forward(float *z, const float *mu, const float *logvar, const float *eps, int batch, int latent)\n"
    "{\n"
    "    for (long i = 0; i < (long)batch * latent; i++) z[i] = mu[i] + expf(logvar[i]) * eps[i];\n"
    "}\n";

static const char *const elbo_fns[] = { "kl_closed_form" };

static const char *const elbo_wrong =
    "#include <math.h>\n"
    "/* planted: the lecture notebook's formula, sum of sigma^2 + mu^2 - log sigma - 1/2 */\n"
    "double kl_closed_form(const double *mu, const double *logvar, int latent)\n"
    "{\n"
    "    double sum = 0.0;\n"
    "    for (int j = 0; j < latent; j++) sum += exp(logvar[j]) + mu[j] * mu[j] - 0.5 * logvar[j] - 0.5;\n"
    "    return sum;\n"
    "}\n";

/* --------------------------------------------------------------- tests */
START_TEST(test_own_programs_pass)
{
    make_checkout();
    char log[700];
    snprintf(log, sizeof log, "%s.clean.log", checkout);
    int status = grade(NULL, log);
    char *text = test_read_text(report);
    ck_assert_msg(text != NULL, "no grade-report.md in the graded copy (see %s)", log);
    ck_assert_msg(status == 0, "`make grade` on an unchanged copy exits %d, not 0 (see %s and %s)", status, report, log);
    ck_assert_msg(strstr(text, " 0 failed or not run.") != NULL, "an unchanged copy has a failing item (see %s)", report);
    /* every exercise is graded and counted */
    ck_assert_ptr_nonnull(strstr(text, "## week05-task1: "));
    ck_assert_ptr_null(strstr(text, "not counted"));
    ck_assert_ptr_nonnull(strstr(text, "## week05-task2-kl: "));
    ck_assert_ptr_nonnull(strstr(text, "## week05-task3-transposed: "));
    ck_assert_ptr_nonnull(strstr(text, "## vae-reparam: "));
    ck_assert_ptr_nonnull(strstr(text, "## vae-elbo: "));
    ck_assert_ptr_nonnull(strstr(text, "## week05-task4-ae: "));
    assert_row(text, "KL(0.4 ‖ 0.8) = 0.381909… to 1e-12", "PASS");
    free(text);
}
END_TEST

START_TEST(test_planted_errors_are_named)
{
    make_checkout();
    plant("week05-task2-kl", "int kl_bernoulli(", "kl_bernoulli.h", kl_fns, 1, kl_swapped);
    plant("week05-task3-transposed", "int tconv_scatter(", "tconv_exercise.h", tconv_fns, 2, tconv_wrong);
    plant("vae-reparam", "void reparam_forward(", "reparam_exercise.h", sampling_fns, 1, sampling_wrong);
    plant("vae-elbo", "double kl_closed_form(", "vae_elbo.h", elbo_fns, 1, elbo_wrong);
    char ae_main[700];
    snprintf(ae_main, sizeof ae_main, "%s/week05-task4-ae/main.c", checkout);
    struct stat st;
    int have_ae = stat(ae_main, &st) == 0;
    if (have_ae)
        replace_in("week05-task4-ae", "    model_add(m, layer_dense(128, ACT_RELU));\n", "");   /* model C's Dense(128) */

    char log[700];
    snprintf(log, sizeof log, "%s.planted.log", checkout);
    int status = grade(NULL, log);
    char *text = test_read_text(report);
    ck_assert_msg(text != NULL, "no grade-report.md (see %s)", log);
    ck_assert_msg(status != 0, "`make grade` exits 0 on planted errors (see %s)", log);

    /* kl_bernoulli(q, p) */
    assert_row(text, "kl_bernoulli(0.4, 0.8) = 0.381909… to 1e-12", "FAIL");
    assert_row(text, "kl_bernoulli(0.8, 0.4) = 0.334795… to 1e-12", "FAIL");
    assert_row(text, "kl_bernoulli(0.37, 0.37) = 0", "PASS");   /* symmetric there: the grader is not failing everything */
    /* the scatter with the turned kernel, the zero insertion without it */
    assert_row(text, "tconv_scatter: transposed conv of the 2x2 example, stride 2 (4x4)", "FAIL");
    /* the program may notice the disagreement itself and stop: then its items are NOT RUN */
    assert_row_not_passed(text, "transposed conv of the 2x2 example, stride 2: the 4x4 values");
    assert_row(text, "tconv_by_zero_insertion (zero insertion, then the flipped kernel)", "FAIL");
    assert_row(text, "tconv_conv2d (ordinary convolution, kernel not flipped)", "PASS");
    /* σ² for σ */
    assert_row(text, "reparam_forward gives z = μ + exp(½ log σ²)·ε on a 3x4 batch", "FAIL");
    assert_row_not_passed(text, "dim 1: the sample variance of z is σ² = 0.301194, to 5 standard errors");
    assert_row(text, "reparam_backward adds d_z to d_μ", "PASS");
    /* the lecture's KL */
    assert_row(text, "kl_closed_form(μ = (0.85, −1.3, 0.2), log σ² = (−0.6, 0.45, 1.1))", "FAIL");
    assert_row(text, "closed-form KL(N(μ, diag σ²) ‖ N(0, I))", "FAIL");
    assert_row(text, "the Monte-Carlo estimate (200,000 draws) is the KL", "PASS");
    /* model C without its Dense(128) */
    if (have_ae) assert_row(text, "model C has 159,696 parameters", "FAIL");
    free(text);

    /* the second KL mistake, graded alone */
    plant("week05-task2-kl", "int kl_bernoulli(", "kl_bernoulli.h", kl_fns, 1, kl_wrong_sign);
    snprintf(log, sizeof log, "%s.sign.log", checkout);
    status = grade("week05-task2-kl", log);
    text = test_read_text(report);
    ck_assert_msg(text != NULL, "no grade-report.md (see %s)", log);
    ck_assert_msg(status != 0, "`make grade` exits 0 on a wrong sign (see %s)", log);
    assert_row(text, "kl_bernoulli(p, q) >= 0 on that grid (Gibbs' inequality)", "FAIL");
    assert_row(text, "kl_bernoulli(0.4, 0.8) = 0.381909… to 1e-12", "FAIL");
    free(text);
}
END_TEST

START_TEST(test_missing_build_is_explained)
{
    /* a broken exercise: later items say why they did not run */
    make_checkout();
    char path[700];
    snprintf(path, sizeof path, "%s/week05-task2-kl/kl.c", checkout);
    char *text = test_read_text(path);
    ck_assert_ptr_nonnull(text);
    char *broken = malloc(strlen(text) + 64);
    ck_assert_ptr_nonnull(broken);
    sprintf(broken, "%s\nthis line does not compile\n", text);
    test_write_text(path, broken);
    char log[700];
    snprintf(log, sizeof log, "%s.broken.log", checkout);
    int status = grade("week05-task2-kl", log);
    test_write_text(path, text);   /* the copy as it was */
    free(broken);
    free(text);
    char *report_text = test_read_text(report);
    ck_assert_msg(report_text != NULL, "no grade-report.md (see %s)", log);
    ck_assert_msg(status != 0, "`make grade` exits 0 on a program that does not build (see %s)", log);
    assert_row(report_text, "builds with its own Makefile (make -C week05-task2-kl)", "FAIL");
    assert_row(report_text, "KL(0.4 ‖ 0.8) = 0.381909… to 1e-12", "NOT RUN");
    assert_row(report_text, "kl_bernoulli(0.4, 0.8) = 0.381909… to 1e-12", "NOT RUN");
    ck_assert_ptr_nonnull(strstr(report_text, "not run: the program does not build"));
    free(report_text);
}
END_TEST

/* One model unfinished (its builder a stub, as the student edition has it): the other models keep
 * their points, and the unfinished one's items say why they did not run. */
START_TEST(test_one_model_unfinished_costs_only_its_items)
{
    make_checkout();
    unplant_all();
    replace_in("week05-task4-ae", "    /* BEGIN SOLUTION: Task 4c: model B */\n    conv_encoder(m);\n    conv_decoder(m);\n",
               "    /* BEGIN SOLUTION: Task 4c: model B */\n"
               "    (void)m; return not_implemented(\"conv_autoencoder\", \"week05-task4-ae/ae_models.c\", \"Task 4c: model B\");\n");
    char log[700];
    snprintf(log, sizeof log, "%s.model-b.log", checkout);
    int status = grade("week05-task4-ae", log);
    char *text = test_read_text(report);
    unplant_all();
    ck_assert_msg(text != NULL, "no grade-report.md (see %s)", log);
    ck_assert_msg(status != 0, "`make grade` exits 0 with model B unfinished (see %s)", log);
    assert_row(text, "model A has 101,200 parameters", "PASS");
    assert_row(text, "model C has 159,696 parameters", "PASS");
    assert_row(text, "model D learns", "PASS");
    assert_row(text, "model B has 3,217 parameters", "NOT RUN");
    char why[1024];
    row_cell(text, "model B has 3,217 parameters", 6, why, sizeof why);
    ck_assert_msg(strstr(why, "not implemented yet: conv_autoencoder"), "model B's row does not say why: %s", why);
    free(text);
}
END_TEST

/* KL(q ‖ p) for KL(p ‖ q): the items of Task 2a lose their points once, and the rows say that the
 * value is the divergence the other way round. Every row that did not pass says why. */
START_TEST(test_a_mistake_is_charged_once_with_a_hint)
{
    make_checkout();
    unplant_all();
    plant("week05-task2-kl", "int kl_bernoulli(", "kl_bernoulli.h", kl_fns, 1, kl_swapped);
    char log[700];
    snprintf(log, sizeof log, "%s.swap.log", checkout);
    int status = grade("week05-task2-kl", log);
    char *text = test_read_text(report);
    unplant_all();
    ck_assert_msg(text != NULL, "no grade-report.md (see %s)", log);
    ck_assert_msg(status != 0, "`make grade` exits 0 on swapped arguments (see %s)", log);
    char why[1024], points[64];
    row_cell(text, "kl_bernoulli(0.4, 0.8) = 0.381909… to 1e-12", 6, why, sizeof why);
    ck_assert_msg(strstr(why, "swapped"), "no hint that p and q are swapped: %s", why);
    row_cell(text, "kl_bernoulli agrees with the reference on a 19x19 grid", 6, why, sizeof why);
    ck_assert_msg(strstr(why, "swapped"), "no hint on the grid that p and q are swapped: %s", why);
    /* Task 2 is worth 33; the mistake costs its most valuable item (the grid, 3 points) once: the
     * other wrong items of Task 2a keep theirs, and say where it was charged */
    ck_assert_msg(strstr(text, "| week05-task2-kl | 30/33 |"), "the swap is not charged once (see %s)", report);
    row_cell(text, "kl_bernoulli(0.4, 0.8) = 0.381909… to 1e-12", 4, points, sizeof points);
    ck_assert_str_eq(points, "2/2");
    row_cell(text, "kl_bernoulli(0.4, 0.8) = 0.381909… to 1e-12", 6, why, sizeof why);
    ck_assert_msg(strstr(why, "charged once for Task 2a"), "the repeat does not say where it was charged: %s", why);
    /* every row that did not pass names its cause */
    for (const char *row = strstr(text, "\n| "); row; row = strstr(row + 1, "\n| ")) {
        char line[2048];
        const char *end = strchr(row + 1, '\n');
        snprintf(line, sizeof line, "%.*s", (int)(end ? end - row - 1 : (long)strlen(row + 1)), row + 1);
        if (!strstr(line, "| FAIL |") && !strstr(line, "| NOT RUN |")) continue;
        const char *last = strrchr(line, '|'), *before = last;
        while (before > line && before[-1] != '|') before--;
        ck_assert_msg(last - before > 2, "a row without its cause: %s", line);
    }
    free(text);
}
END_TEST

/* An endless loop in one exercise is stopped by the time limit; the other exercises are graded. */
START_TEST(test_an_endless_loop_is_cut_off)
{
    make_checkout();
    unplant_all();
    plant("week05-task2-kl", "int kl_bernoulli(", "kl_bernoulli.h", kl_fns, 1, kl_endless);
    char log[700], command[4096];
    snprintf(log, sizeof log, "%s.loop.log", checkout);
    snprintf(command, sizeof command,
             "unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE O GRADE_BUILD GRADE_REPORT REQUIRE_ALL SUBMISSION; "
             "export MAKEFLAGS=-j2 GRADE_QUICK=1 GRADE_TIMEOUT=4 GRADE_ONLY='week05-task2-kl week05-task3-transposed'; "
             "make --no-print-directory -C '%s' grade SUBMISSION='%s'", AE_ROOT, checkout);
    int status = shell(command, log);
    char *text = test_read_text(report);
    unplant_all();
    ck_assert_msg(text != NULL, "no grade-report.md (see %s)", log);
    ck_assert_msg(status != 0, "`make grade` exits 0 on an endless loop (see %s)", log);
    char why[1024];
    row_cell(text, "runs on the sheet's pair", 6, why, sizeof why);
    ck_assert_msg(strstr(why, "time limit"), "the endless run does not say it was stopped: %s", why);
    assert_row(text, "runs the five steps (no options) and writes results.tsv", "PASS");
    assert_row(text, "tconv_scatter: the 2x2 example, stride 1 (3x3)", "PASS");
    free(text);
}
END_TEST

/* make grade-all: three copies graded into one class table. */
START_TEST(test_grade_all_makes_a_class_table)
{
    make_checkout();
    unplant_all();
    char dir[600], log[700], command[8192];
    snprintf(dir, sizeof dir, "%s/class", test_tmpdir());
    snprintf(log, sizeof log, "%s.log", dir);
    snprintf(command, sizeof command,
             "mkdir -p '%s' && for s in ada ben cy; do mkdir -p '%s'/$s && "
             "(cd '%s' && tar --exclude=./build --exclude=./bin -cf - .) | tar -C '%s'/$s -xf -; done && "
             "unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE O GRADE_BUILD GRADE_REPORT SUBMISSION; "
             "export MAKEFLAGS=-j2 GRADE_QUICK=1 GRADE_ONLY=week05-task2-kl CLASS_OUT='%s/table'; "
             "make --no-print-directory -C '%s' grade-all SUBMISSIONS='%s/ada %s/ben %s/cy'",
             dir, dir, checkout, dir, dir, AE_ROOT, dir, dir, dir);
    ck_assert_msg(shell(command, log) == 0, "make grade-all failed; see %s", log);
    char path[800];
    snprintf(path, sizeof path, "%s/table/class-grades.tsv", dir);
    char *table = test_read_text(path);
    ck_assert_msg(table != NULL, "no class-grades.tsv (see %s)", log);
    ck_assert_msg(strncmp(table, "student\tweek05-task2-kl\ttotal\t", 30) == 0, "the table's header: %s", table);
    for (const char *who = "ada\0ben\0cy\0"; *who; who += strlen(who) + 1) {
        char row[64];
        snprintf(row, sizeof row, "\n%s\t33\t33\t", who);
        ck_assert_msg(strstr(table, row), "no full-marks row for %s:\n%s", who, table);
    }
    free(table);
    snprintf(path, sizeof path, "%s/table/class-grades.md", dir);
    test_file_says(path, "| ada | 33 | 33 |");
}
END_TEST

/* The items' table (`make -C solutions items`, the list in solutions/README.md): a '|' in an
 * item's name or expected value is escaped, so each row keeps its four cells. */
START_TEST(test_items_table_escapes_bars)
{
    const char *dir = test_tmpdir();
    char tool[1024], plan[1024], out[1024], log[1024], command[4096];
    snprintf(tool, sizeof tool, "%s/grade_tool", dir);
    snprintf(plan, sizeof plan, "%s/plan.tsv", dir);
    snprintf(out, sizeof out, "%s/items.md", dir);
    snprintf(log, sizeof log, "%s/items.log", dir);
    snprintf(command, sizeof command, "cc -std=c11 -O1 -D_DEFAULT_SOURCE -o '%s' '%s/solutions/grade_tool.c' -lm",
             tool, AE_ROOT);
    ck_assert_msg(shell(command, log) == 0, "grade_tool did not compile; see %s", log);
    FILE *fp = fopen(plan, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("exercise\tdemo\tA demo\n"
          "item\tmain\t1\tnum\tparams\t42\t0\tthe 784-(2·20 | 20) model has 42 parameters\n"
          "item\tmain\t2\ttext\tlabel\ta|b\t0\tlog p(x|z) is named\n", fp);
    fclose(fp);
    snprintf(command, sizeof command, "'%s' items '%s' > '%s'", tool, plan, out);
    ck_assert_msg(shell(command, log) == 0, "grade_tool items failed; see %s", log);
    FILE *in = fopen(out, "r");
    ck_assert_ptr_nonnull(in);
    char line[1024];
    int rows = 0;
    while (fgets(line, sizeof line, in)) {
        if (line[0] != '|' || strstr(line, "---") || strstr(line, "| item |")) continue;
        int bars = 0;
        for (const char *c = line; *c; c++) bars += *c == '|' && (c == line || c[-1] != '\\');
        ck_assert_msg(bars == 5, "a row with %d cell borders: %s", bars, line);
        rows++;
    }
    fclose(in);
    ck_assert_int_eq(rows, 2);
}
END_TEST

Suite *grader_suite(void)
{
    Suite *s = suite_create("grader");
    TCase *tc = test_case(s, "Grader", 400);
    tcase_add_unchecked_fixture(tc, setup_checkout, NULL);
    test_add(tc, test_own_programs_pass, test_missing_build_is_explained, test_planted_errors_are_named,
             test_one_model_unfinished_costs_only_its_items, test_a_mistake_is_charged_once_with_a_hint,
             test_an_endless_loop_is_cut_off, test_grade_all_makes_a_class_table, test_items_table_escapes_bars);
    return s;
}
