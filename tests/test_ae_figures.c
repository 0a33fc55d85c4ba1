/* test_ae_figures.c: the figures of week05-task4-ae (ae_figures.c), read back from their .dat and
 * .gp files, and rendered when gnuplot is installed.
 *
 *   Loss    models of two losses: one panel each, stacked, each with its own axis label, and no
 *           shared axis; every epoch's loss, the first epoch's spike too, lies inside its panel's
 *           ranges; a narrow range gets a linear axis, a wide one a log axis
 *   ROC     the corners of each curve in the .dat, the threshold rule's points after them, the
 *           axis labels in words, the AUCs in the key, the diagonal, the enlarged corner
 *   Limits  no model, a model without epochs or with a loss the library does not know, a model
 *           without a ROC curve
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

/* The numbers of the first "set WHAT [lo:hi]" at or after text. */
static void range_after(const char *text, const char *what, double range[2])
{
    char key[32];
    snprintf(key, sizeof key, "set %s [", what);
    const char *at = strstr(text, key);
    ck_assert_msg(at != NULL, "no '%s' in the script", key);
    ck_assert_int_eq(sscanf(at + strlen(key), "%lf:%lf", &range[0], &range[1]), 2);
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

/* ---------------------------------------------------------------- Loss */

/* three models trained with MSE, the first epoch of B far above everything else, and D with BCE */
static const double A_TRAIN[4] = { 0.0392615, 0.0183612, 0.0148579, 0.0129917 };
static const double A_VAL[4] = { 0.0202687, 0.0153807, 0.0131518, 0.0117067 };
static const double B_TRAIN[4] = { 0.0622913, 0.0101982, 0.0079051, 0.0059718 };
static const double B_VAL[4] = { 0.0128005, 0.0085476, 0.0069297, 0.0051867 };
static const double C_TRAIN[3] = { 0.0372900, 0.0170472, NAN };   /* a NaN is left out, not drawn */
static const double C_VAL[3] = { 0.0195725, 0.0142421, 0.0117380 };
static const double D_TRAIN[4] = { 0.2770654, 0.2148622, 0.2041982, 0.1983672 };
static const double D_VAL[4] = { 0.2200061, 0.2072492, 0.2003056, 0.1958886 };

/* every finite loss of model k (columns of the .dat) within range, strictly */
static void inside(const figure_curves *m, const double range[2], const char *what)
{
    for (int e = 0; e < m->epochs; e++) {
        const double both[2] = { m->train_loss[e], m->val_loss[e] };
        for (int j = 0; j < 2; j++)
            if (isfinite(both[j]))
                ck_assert_msg(both[j] > range[0] && both[j] < range[1], "%s: model %s's loss %g of epoch %d lies outside "
                              "[%g, %g]", what, m->name, both[j], e + 1, range[0], range[1]);
    }
}

START_TEST(test_loss_panels_per_loss)
{
    const char *dir = test_tmpdir();
    const figure_curves models[4] = {
        { "A", LOSS_MSE, 4, A_TRAIN, A_VAL },
        { "B", LOSS_MSE, 4, B_TRAIN, B_VAL },
        { "C", LOSS_MSE, 3, C_TRAIN, C_VAL },
        { "D", LOSS_BCE, 4, D_TRAIN, D_VAL },
    };
    ck_assert_int_eq(figure_loss_curves(dir, "loss_curves", "four models", models, 4), AE_OK);
    char *gp = figure_text(dir, "loss_curves", "gp");
    /* two panels, no second axis inside one */
    ck_assert_int_eq(count_of(gp, "\nplot "), 2);
    ck_assert_ptr_null(strstr(gp, "y2"));
    double x[2];
    range_after(gp, "xrange", x);
    ck_assert_msg(x[0] < 1.0 && x[1] > 4.0, "the epochs 1 to 4 are not inside the x range [%g, %g]", x[0], x[1]);

    char *bce = strstr(gp, "# the models trained with bce");
    ck_assert_ptr_nonnull(bce);
    *bce = '\0';   /* gp: the MSE panel; bce + 1: the BCE panel */
    char *mse = strstr(gp, "# the models trained with mse");
    ck_assert_ptr_nonnull(mse);
    ck_assert_ptr_nonnull(strstr(mse, "set ylabel 'MSE (mean squared error per pixel)'"));
    ck_assert_ptr_nonnull(strstr(bce + 1, "set ylabel 'binary cross-entropy (mean per pixel)'"));
    ck_assert_ptr_nonnull(strstr(mse, "set title 'models trained with MSE'"));
    ck_assert_ptr_nonnull(strstr(bce + 1, "set title 'models trained with binary cross-entropy'"));
    /* A, B, C in the first panel (columns 2 to 7), D alone in the second (8 and 9) */
    ck_assert_ptr_nonnull(strstr(mse, "using 1:6 "));
    ck_assert_ptr_null(strstr(mse, "using 1:8 "));
    ck_assert_ptr_nonnull(strstr(bce + 1, "using 1:9 "));
    ck_assert_ptr_null(strstr(bce + 1, "using 1:2 "));
    /* every point inside its panel, the first epoch's included: B's 0.0623 and D's 0.277 */
    double y[2];
    range_after(mse, "yrange", y);
    ck_assert_ptr_nonnull(strstr(mse, "set logscale y"));   /* 0.0052 to 0.0623: twelve times */
    for (int k = 0; k < 3; k++) inside(&models[k], y, "the MSE panel");
    range_after(bce + 1, "yrange", y);
    ck_assert_ptr_nonnull(strstr(bce + 1, "unset logscale y"));   /* 0.196 to 0.277: linear */
    inside(&models[3], y, "the BCE panel");
    free(gp);

    char *dat = figure_text(dir, "loss_curves", "dat");
    ck_assert_ptr_nonnull(strstr(dat, "# epoch\tA_train_mse\tA_val_mse\tB_train_mse"));
    ck_assert_ptr_nonnull(strstr(dat, "\tD_train_bce\tD_val_bce\n"));
    ck_assert_ptr_nonnull(strstr(dat, "\n4\t0.0129917\t0.0117067\t0.0059718\t0.0051867\tNaN\tNaN\t0.1983672\t"));
    free(dat);
    render_if_possible(dir, "loss_curves");
}
END_TEST

START_TEST(test_loss_one_model)
{
    const char *dir = test_tmpdir();
    /* a narrow range (0.68 to 0.69) on a linear axis, with room on both sides */
    const double train[2] = { 0.6926979, 0.6790739 }, val[2] = { 0.6828403, 0.6655728 };
    const figure_curves d = { "D", LOSS_BCE, 2, train, val };
    ck_assert_int_eq(figure_loss_curves(dir, "loss_curves_D", "model D", &d, 1), AE_OK);
    char *gp = figure_text(dir, "loss_curves_D", "gp");
    ck_assert_int_eq(count_of(gp, "\nplot "), 1);
    ck_assert_ptr_null(strstr(gp, "set title"));   /* one panel: only the figure's title */
    ck_assert_ptr_nonnull(strstr(gp, "set ylabel 'binary cross-entropy (mean per pixel)'"));
    ck_assert_ptr_nonnull(strstr(gp, "unset logscale y"));
    double x[2], y[2];
    range_after(gp, "xrange", x);
    ck_assert(x[0] < 1.0 && x[1] > 2.0);
    range_after(gp, "yrange", y);
    inside(&d, y, "one model");
    ck_assert_msg(y[1] - y[0] < 0.05, "the y range [%g, %g] hides a change of 0.027", y[0], y[1]);
    free(gp);
    render_if_possible(dir, "loss_curves_D");

    /* one epoch: the x range still holds it with room on both sides */
    const figure_curves one = { "A", LOSS_MSE, 1, A_TRAIN, A_VAL };
    ck_assert_int_eq(figure_loss_curves(dir, "loss_curves_A", "model A", &one, 1), AE_OK);
    gp = figure_text(dir, "loss_curves_A", "gp");
    range_after(gp, "xrange", x);
    ck_assert(x[0] < 1.0 && x[1] > 1.0);
    range_after(gp, "yrange", y);
    inside(&one, y, "one epoch");
    free(gp);
}
END_TEST

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
    ck_assert_int_eq(figure_loss_curves(dir, "none", "no model", NULL, 0), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "no model to draw"));
    const figure_curves no_epochs = { "A", LOSS_MSE, 0, A_TRAIN, A_VAL };
    ck_assert_int_eq(figure_loss_curves(dir, "none", "no epoch", &no_epochs, 1), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "model A has no epoch to draw"));
    const figure_curves unknown = { "B", (loss_kind)17, 4, B_TRAIN, B_VAL };
    ck_assert_int_eq(figure_loss_curves(dir, "none", "an unknown loss", &unknown, 1), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "model B has no loss the library knows (17)"));

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
    test_add(test_case(s, "Loss", 0), test_loss_panels_per_loss, test_loss_one_model);

    test_add(test_case(s, "ROC", 0), test_roc_figure);

    test_add(test_case(s, "Limits", 0), test_figure_refusals);
    return s;
}
