/* test_ae_figures.c: the figures of week05-task4-ae (ae_figures.c), read back from their .dat and
 * .gp files, and rendered when gnuplot is installed.
 *
 *   ROC     the corners of each curve in the .dat, the threshold rule's points after them, the
 *           axis labels in words, the AUCs in the key, the diagonal, the enlarged corner
 *   Limits  no model, a model without a ROC curve
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ae_figures.h"
#include "error.h"
#include "io/plot.h"
#include "testutil.h"

/* dir/NAME.EXT as text (free it); a test fails when it cannot be read */
static char *figure_text(const char *dir, const char *name, const char *ext)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    char *text = test_read_text(path);
    ck_assert_msg(text != NULL, "%s was not written", path);
    return text;
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle)) n++;
    return n;
}

/* Renders NAME.gp when gnuplot is there; a test fails when gnuplot refuses the script. */
static void render_if_possible(const char *dir, const char *name)
{
    int rendered = 0;
    ck_assert_msg(plot_render(dir, name, &rendered) == AE_OK, "gnuplot refused %s.gp: %s", name, error_message());
    char png[256];
    snprintf(png, sizeof png, "%s.png", name);
    if (gnuplot_available()) ck_assert_msg(rendered && test_file_in(dir, png), "no %s", png);
}

/* The data rows of the block that starts at text: lines up to the first blank one, comments left out. */
static int rows_of_block(const char *text)
{
    int rows = 0;
    for (const char *line = text; *line && *line != '\n'; line = strchr(line, '\n') + 1) {
        rows += *line != '#';
        if (!strchr(line, '\n')) break;
    }
    return rows;
}

/* ----------------------------------------------------------------- ROC */

START_TEST(test_roc_figure)
{
    const char *dir = test_tmpdir();
    /* model A separates perfectly; model B is the 4 + 4 example of test_ae_anomaly.c (AUC 21/32) */
    const double errors_a[5] = { 0.052, 0.011, 0.037, 0.068, 0.023 }, errors_b[8] = { 0.38, 0.20, 0.45, 0.12, 0.52, 0.31, 0.20, 0.27 };
    const int normal_a[5] = { 0, 1, 1, 0, 1 }, normal_b[8] = { 0, 1, 1, 1, 0, 1, 0, 0 };
    anomaly_roc roc_a, roc_b;
    ck_assert_int_eq(anomaly_roc_compute(&roc_a, errors_a, normal_a, 5), AE_OK);
    ck_assert_int_eq(anomaly_roc_compute(&roc_b, errors_b, normal_b, 8), AE_OK);
    const figure_roc models[2] = { { "A", &roc_a, 0.0, 2.0 / 3.0 }, { "B", &roc_b, 0.25, 0.5 } };
    ck_assert_int_eq(figure_roc_curves(dir, "anomaly_roc", "ROC curves of two detectors", models, 2), AE_OK);

    char *dat = figure_text(dir, "anomaly_roc", "dat");
    /* A: the corners alone, (0, 0), (0, 1), (1, 1); the points inside the straight runs are left out */
    const char *block_a = strstr(dat, "# model A: AUC 1.000000, 3 normal and 2 anomalous test images\n");
    ck_assert_ptr_nonnull(block_a);
    ck_assert_ptr_nonnull(strstr(block_a, "# fpr\ttpr\tlargest_error_called_normal\n0\t0\t-inf\n0\t1\t0.037\n1\t1\t0.068\n\n\n"));
    /* B: all eight points are corners (the tie is a diagonal step) */
    const char *block_b = strstr(dat, "# model B: AUC 0.656250, 4 normal and 4 anomalous test images\n");
    ck_assert_ptr_nonnull(block_b);
    ck_assert_ptr_nonnull(strstr(block_b, "0\t0.25\t0.12\n0.25\t0.5\t0.2\n0.5\t0.5\t0.27\n"));
    ck_assert_int_eq(rows_of_block(block_a), 3);
    ck_assert_int_eq(rows_of_block(block_b), 8);
    /* the threshold rule's points come last, in the order of the models */
    ck_assert_ptr_nonnull(strstr(dat, "# fpr\ttpr\tauc\n0\t0.666666667\t1\n0.25\t0.5\t0.65625\n"));
    free(dat);

    char *gp = figure_text(dir, "anomaly_roc", "gp");
    ck_assert_ptr_nonnull(strstr(gp, "set multiplot title 'ROC curves of two detectors'"));
    ck_assert_ptr_nonnull(strstr(gp, "set xlabel 'anomalous images called normal (share of all anomalous ones: "
                                     "false-positive rate)'"));
    ck_assert_ptr_nonnull(strstr(gp, "set ylabel 'normal images called normal (share of all normal ones: "
                                     "true-positive rate)'"));
    ck_assert_int_eq(count_of(gp, "title 'model A: AUC 1.0000'"), 2);   /* one key entry per panel */
    ck_assert_int_eq(count_of(gp, "title 'model B: AUC 0.6562'"), 2);   /* 21/32 = 0.65625 exactly, rounded to even */
    ck_assert_int_eq(count_of(gp, "x with lines"), 2);                   /* the diagonal in both panels */
    ck_assert_int_eq(count_of(gp, "'anomaly_roc.dat' index 2 every ::0::0 using 1:2 with points"), 2);
    ck_assert_int_eq(count_of(gp, "'anomaly_roc.dat' index 2 every ::1::1 using 1:2 with points"), 2);
    /* the enlarged corner: 2.5 times the farthest point (FPR 0.25, TPR 0.5), in steps of 0.05 */
    ck_assert_ptr_nonnull(strstr(gp, "set object 1 rect from 0, 0 to 0.65, 1 "));
    free(gp);
    render_if_possible(dir, "anomaly_roc");
    anomaly_roc_free(&roc_a);
    anomaly_roc_free(&roc_b);
}
END_TEST

/* -------------------------------------------------------------- Limits */

START_TEST(test_figure_refusals)
{
    const char *dir = test_tmpdir();
    ck_assert_int_eq(figure_roc_curves(dir, "none", "no model", NULL, 0), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "no model to draw"));
    anomaly_roc empty = { 0 };
    const figure_roc without[2] = { { "A", &empty, 0.1, 0.9 }, { "B", NULL, 0.1, 0.9 } };
    ck_assert_int_eq(figure_roc_curves(dir, "none", "an empty curve", without, 1), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "model A has no ROC curve"));
    ck_assert_int_eq(figure_roc_curves(dir, "none", "no curve", without + 1, 1), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "model B has no ROC curve"));
    ck_assert(!test_file_in(dir, "none.gp") && !test_file_in(dir, "none.dat"));   /* nothing written */
}
END_TEST

Suite *ae_figures_suite(void)
{
    Suite *s = suite_create("ae_figures");
    TCase *roc = test_case(s, "ROC", 0);
    tcase_add_test(roc, test_roc_figure);

    TCase *limits = test_case(s, "Limits", 0);
    tcase_add_test(limits, test_figure_refusals);
    return s;
}
