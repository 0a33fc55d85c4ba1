/* test_ae_anomaly.c: the anomaly rule of week05-task4-ae (ae_anomaly.c).
 *
 *   Core    the rates of a hand-made confusion matrix; the threshold of a hand-made list of
 *           errors; the counting (an error equal to the threshold is an anomaly); per-image
 *           mean absolute errors; source_errors against a plain loop over ae_reconstruct
 *   Limits  empty and negative matrices, rates of 0/0, no errors, a NaN error
 *   ROC     hand-worked curves (perfect separation: AUC 1, reversed: 0, all tied: ½, four normal and
 *           four anomalous errors with a tie: 21/32); on random errors with ties the AUC equals the
 *           Mann–Whitney count over all pairs, the curve is a staircase from (0, 0) to (1, 1), and
 *           the threshold rule's point is one of its corners; every refusal
 */
#include <check.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ae_anomaly.h"
#include "ae_models.h"
#include "io/data.h"
#include "error.h"
#include "testutil.h"

#define TOL 1e-12

/* ---------------------------------------------------------------- Core */

START_TEST(test_metrics_by_hand)
{
    /* 45 normal images (37 called normal, 8 not), 155 anomalous ones (13 called normal, 142 not) */
    anomaly_confusion cm = { .tp = 37, .fp = 13, .tn = 142, .fn = 8 };
    anomaly_metrics m;
    ck_assert_int_eq(anomaly_metrics_compute(&m, &cm), AE_OK);
    ck_assert_double_eq_tol(m.accuracy, 0.895, TOL);              /* (37 + 142) / 200 */
    ck_assert_double_eq_tol(m.precision, 0.74, TOL);              /* 37 / 50 */
    ck_assert_double_eq_tol(m.recall, 37.0 / 45.0, TOL);          /* 0.822222... */
    ck_assert_double_eq_tol(m.f1, 0.7789473684210526, TOL);       /* 2·37 / (2·37 + 13 + 8) = 74/95 */

    /* a detector that calls everything normal: recall 1, precision = the share of normal images */
    anomaly_confusion all_normal = { .tp = 1000, .fp = 9000, .tn = 0, .fn = 0 };
    ck_assert_int_eq(anomaly_metrics_compute(&m, &all_normal), AE_OK);
    ck_assert_double_eq_tol(m.accuracy, 0.1, TOL);
    ck_assert_double_eq_tol(m.precision, 0.1, TOL);
    ck_assert_double_eq_tol(m.recall, 1.0, TOL);
    ck_assert_double_eq_tol(m.f1, 2.0 * 0.1 / 1.1, TOL);
}
END_TEST

START_TEST(test_threshold_by_hand)
{
    const double errors[4] = { 0.12, 0.30, 0.21, 0.45 };
    double mean, std, threshold;
    ck_assert_int_eq(anomaly_threshold(errors, 4, &mean, &std, &threshold), AE_OK);
    /* mean 1.08 / 4 = 0.27; deviations -0.15, 0.03, -0.06, 0.18; squares sum 0.0594; population std √(0.0594/4) */
    ck_assert_double_eq_tol(mean, 0.27, TOL);
    ck_assert_double_eq_tol(std, sqrt(0.01485), TOL);
    ck_assert_double_eq_tol(threshold, 0.27 + 0.12186057606953942, TOL);
    /* one error: no spread, the threshold is the error itself */
    ck_assert_int_eq(anomaly_threshold(errors + 2, 1, &mean, &std, &threshold), AE_OK);
    ck_assert_double_eq(std, 0.0);
    ck_assert_double_eq(threshold, 0.21);
}
END_TEST

START_TEST(test_confusion_counting)
{
    const double errors[8] = { 0.05, 0.31, 0.20, 0.20, 0.19, 0.02, 0.44, 0.27 };
    const int is_normal[8] = { 1, 1, 1, 0, 0, 0, 0, 1 };
    anomaly_confusion cm = { 99, 99, 99, 99 };   /* overwritten, not added to */
    anomaly_confusion_count(&cm, errors, is_normal, 8, 0.20);
    /* normal: 0.05 < 0.2 TP; 0.31 FN; 0.20 is not below 0.20: FN; 0.27 FN.
     * anomalous: 0.20 TN; 0.19 FP; 0.02 FP; 0.44 TN */
    ck_assert_int_eq(cm.tp, 1);
    ck_assert_int_eq(cm.fn, 3);
    ck_assert_int_eq(cm.fp, 2);
    ck_assert_int_eq(cm.tn, 2);
    /* a NaN error can never be called normal */
    const double nan_error[1] = { NAN };
    const int normal[1] = { 1 };
    anomaly_confusion_count(&cm, nan_error, normal, 1, 1.0);
    ck_assert_int_eq(cm.fn, 1);
    ck_assert_int_eq(cm.tp, 0);
}
END_TEST

START_TEST(test_reconstruction_errors)
{
    /* two "images" of 3 pixels */
    const float pred[6] = { 0.25f, 0.5f, 1.0f, 0.0f, 0.0f, 0.0f };
    const float target[6] = { 0.75f, 0.5f, 0.0f, 0.125f, 0.375f, 0.0f };
    double errors[2];
    reconstruction_errors(errors, pred, target, 2, 3);
    ck_assert_double_eq_tol(errors[0], (0.5 + 0.0 + 1.0) / 3.0, TOL);
    ck_assert_double_eq_tol(errors[1], (0.125 + 0.375 + 0.0) / 3.0, TOL);
}
END_TEST

/* source_errors walks the source in batches; a plain loop over ae_reconstruct gives the same errors. */
START_TEST(test_source_errors)
{
    fashion_mnist fm;
    test_load_sample(&fm, 50);
    ae_recipe r;
    ck_assert_int_eq(ae_recipe_builtin(&r, AE_TASK_RECONSTRUCTION, 1), AE_OK);
    gsl_rng *rng = test_rng(3);
    model *m;
    ck_assert_int_eq(ae_model_create(&m, &r, 16, rng), AE_OK);   /* 50 = 3 batches of 16 and one of 2 */
    ae_sources s;
    ck_assert_int_eq(ae_sources_init(&s, AE_TASK_RECONSTRUCTION, &fm, 0, 0.0, 1), AE_OK);
    double errors[50];
    ck_assert_int_eq(source_errors(errors, m, &s.val), AE_OK);

    float *x = malloc(50 * 784 * sizeof *x), *y = malloc(50 * 784 * sizeof *y);
    images_to_float(x, &fm.test.images, NULL, 50);
    ck_assert_int_eq(ae_reconstruct(m, x, 50, y), AE_OK);
    for (int i = 0; i < 50; i++) {
        double sum = 0.0;
        for (int p = 0; p < 784; p++) sum += fabs((double)y[i * 784 + p] - (double)x[i * 784 + p]);
        ck_assert_double_eq_tol(errors[i], sum / 784.0, 1e-9);
    }
    free(x);
    free(y);
    ae_sources_free(&s);
    model_free(m);
    gsl_rng_free(rng);
    fashion_mnist_free(&fm);
}
END_TEST

/* -------------------------------------------------------------- Limits */

START_TEST(test_refusals)
{
    anomaly_metrics m;
    anomaly_confusion empty = { 0, 0, 0, 0 }, negative = { 5, -1, 3, 2 };
    ck_assert_int_eq(anomaly_metrics_compute(&m, &empty), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "empty"));
    ck_assert_int_eq(anomaly_metrics_compute(&m, &negative), AE_EINVAL);

    /* nothing called normal: precision is 0/0, NaN, not 0 */
    anomaly_confusion none_called = { .tp = 0, .fp = 0, .tn = 70, .fn = 30 };
    ck_assert_int_eq(anomaly_metrics_compute(&m, &none_called), AE_OK);
    ck_assert(isnan(m.precision));
    ck_assert(isnan(m.f1));
    ck_assert_double_eq_tol(m.recall, 0.0, TOL);
    ck_assert_double_eq_tol(m.accuracy, 0.7, TOL);
    /* no normal image at all: recall is 0/0 */
    anomaly_confusion no_normal = { .tp = 0, .fp = 4, .tn = 6, .fn = 0 };
    ck_assert_int_eq(anomaly_metrics_compute(&m, &no_normal), AE_OK);
    ck_assert(isnan(m.recall));
    ck_assert_double_eq_tol(m.precision, 0.0, TOL);
    /* called normal and wrong every time: both rates 0, F1 0 */
    anomaly_confusion all_wrong = { .tp = 0, .fp = 4, .tn = 0, .fn = 6 };
    ck_assert_int_eq(anomaly_metrics_compute(&m, &all_wrong), AE_OK);
    ck_assert_double_eq(m.f1, 0.0);

    double mean, std, threshold;
    const double bad[3] = { 0.1, NAN, 0.2 };
    ck_assert_int_eq(anomaly_threshold(bad, 0, &mean, &std, &threshold), AE_EINVAL);
    ck_assert_int_eq(anomaly_threshold(bad, 3, &mean, &std, &threshold), AE_ENUMERIC);
}
END_TEST

/* ----------------------------------------------------------------- ROC */

/* roc's points are exactly the (fpr, tpr) pairs given */
static void check_points(const anomaly_roc *roc, const double (*expected)[2], size_t n, const char *what)
{
    ck_assert_msg(roc->n_points == n, "%s: %zu points, expected %zu", what, roc->n_points, n);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(fabs(roc->points[k].fpr - expected[k][0]) < TOL && fabs(roc->points[k].tpr - expected[k][1]) < TOL,
                      "%s: point %zu is (%g, %g), expected (%g, %g)", what, k, roc->points[k].fpr, roc->points[k].tpr,
                      expected[k][0], expected[k][1]);
}

/* The curve of the n errors (is_normal flags): its points those given, its AUC `auc`; kept in *roc for
 * more checks (free it). */
static void check_roc(anomaly_roc *roc, const double *errors, const int *is_normal, size_t n,
                      const double (*expected)[2], size_t n_points, double auc, const char *what)
{
    ck_assert_int_eq(anomaly_roc_compute(roc, errors, is_normal, n), AE_OK);
    check_points(roc, expected, n_points, what);
    ck_assert_msg(fabs(roc->auc - auc) < TOL, "%s: AUC %.17g, expected %.17g", what, roc->auc, auc);
}

START_TEST(test_roc_by_hand)
{
    anomaly_roc roc;
    /* perfect separation: every normal error below every anomalous one; up the left edge, then along the top */
    const double separated[5] = { 0.052, 0.011, 0.037, 0.068, 0.023 };
    const int separated_normal[5] = { 0, 1, 1, 0, 1 };
    const double up_then_right[6][2] = { { 0, 0 }, { 0, 1.0 / 3 }, { 0, 2.0 / 3 }, { 0, 1 }, { 0.5, 1 }, { 1, 1 } };
    check_roc(&roc, separated, separated_normal, 5, up_then_right, 6, 1.0, "separated");
    ck_assert_int_eq(roc.n_normal, 3);
    ck_assert_int_eq(roc.n_anomalous, 2);
    ck_assert(isinf(roc.points[0].error) && roc.points[0].error < 0);   /* nothing called normal yet */
    ck_assert_double_eq(roc.points[1].error, 0.011);
    ck_assert_double_eq(roc.points[5].error, 0.068);
    anomaly_roc_free(&roc);

    /* reversed: the anomalies are rebuilt better; along the bottom, then up the right edge */
    const int reversed_normal[5] = { 1, 0, 0, 1, 0 };
    const double right_then_up[6][2] = { { 0, 0 }, { 1.0 / 3, 0 }, { 2.0 / 3, 0 }, { 1, 0 }, { 1, 0.5 }, { 1, 1 } };
    check_roc(&roc, separated, reversed_normal, 5, right_then_up, 6, 0.0, "reversed");
    anomaly_roc_free(&roc);

    /* every error the same: no threshold separates anything, one diagonal step, a coin's AUC */
    const double tied[8] = { 0.042, 0.042, 0.042, 0.042, 0.042, 0.042, 0.042, 0.042 };
    const int tied_normal[8] = { 1, 0, 0, 1, 0, 1, 0, 0 };
    const double diagonal[2][2] = { { 0, 0 }, { 1, 1 } };
    check_roc(&roc, tied, tied_normal, 8, diagonal, 2, 0.5, "all tied");
    anomaly_roc_free(&roc);

    /* four normal (0.12, 0.20, 0.31, 0.45) and four anomalous (0.20, 0.27, 0.38, 0.52) errors, shuffled;
     * a normal flag may be any nonzero value. Sorted: 0.12 N, 0.20 N+A (tied: diagonal), 0.27 A, 0.31 N,
     * 0.38 A, 0.45 N, 0.52 A. Trapezoids: ¼·(¼ + ½)/2 + ¼·½ + ¼·¾ + ¼·1 = 3/32 + 4/32 + 6/32 + 8/32 = 21/32.
     * Mann–Whitney: each anomaly counts the normals below it, a tie as ½: 1.5 + 2 + 3 + 4 = 10.5 of 16. */
    const double errors[8] = { 0.38, 0.20, 0.45, 0.12, 0.52, 0.31, 0.20, 0.27 };
    const int is_normal[8] = { 0, 1, 7, 1, 0, 1, 0, 0 };
    const double worked[8][2] = { { 0, 0 },     { 0, 0.25 },    { 0.25, 0.5 }, { 0.5, 0.5 },
                                  { 0.5, 0.75 }, { 0.75, 0.75 }, { 0.75, 1 },   { 1, 1 } };
    check_roc(&roc, errors, is_normal, 8, worked, 8, 21.0 / 32.0, "4 + 4 by hand");
    ck_assert_double_eq(roc.points[2].error, 0.20);
    anomaly_roc_free(&roc);
    anomaly_roc_free(&roc);   /* a freed curve may be freed again */
}
END_TEST

/* P(e_normal < e_anomalous) + ½ P(tie) over every pair, the O(n²) way */
static double mann_whitney(const double *errors, const int *is_normal, size_t n)
{
    double wins = 0.0, pairs = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (!is_normal[i] || is_normal[j]) continue;
            pairs += 1.0;
            wins += errors[i] < errors[j] ? 1.0 : errors[i] == errors[j] ? 0.5 : 0.0;
        }
    return wins / pairs;
}

/* Random errors, rounded to 0.005 so that ties are common, never below 0, normal ones lower on
 * average by `shift`; at least one image of each kind. */
static void random_errors(double *errors, int *is_normal, size_t n, double shift, gsl_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        is_normal[i] = i == 0 || (i > 1 && gsl_rng_uniform(rng) < 0.3);
        double e = 0.05 + gsl_ran_gaussian(rng, 0.02) - (is_normal[i] ? shift : 0.0);
        errors[i] = round(fmax(e, 0.0) * 200.0) / 200.0;
    }
}

START_TEST(test_roc_auc_is_mann_whitney)
{
    static const size_t sizes[4] = { 2, 37, 400, 1531 };
    static const double shifts[4] = { 0.0, 0.013, 0.031, -0.017 };
    gsl_rng *rng = test_rng(20261204 + (unsigned long)_i);
    size_t n = sizes[_i];
    double *errors = malloc(n * sizeof *errors);
    int *is_normal = malloc(n * sizeof *is_normal);
    random_errors(errors, is_normal, n, shifts[_i], rng);

    anomaly_roc roc;
    ck_assert_int_eq(anomaly_roc_compute(&roc, errors, is_normal, n), AE_OK);
    double expected = mann_whitney(errors, is_normal, n);
    ck_assert_msg(fabs(roc.auc - expected) < 1e-12, "%zu images: AUC %.15g, Mann-Whitney %.15g", n, roc.auc, expected);

    /* a staircase from (0, 0) to (1, 1), one corner per distinct error */
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) seen = errors[j] == errors[i];
        distinct += !seen;
    }
    ck_assert_int_eq(roc.n_points, distinct + 1);
    ck_assert(roc.points[0].fpr == 0.0 && roc.points[0].tpr == 0.0);
    ck_assert(roc.points[roc.n_points - 1].fpr == 1.0 && roc.points[roc.n_points - 1].tpr == 1.0);
    for (size_t k = 1; k < roc.n_points; k++) {
        ck_assert(roc.points[k].error > roc.points[k - 1].error);
        ck_assert(roc.points[k].fpr >= roc.points[k - 1].fpr && roc.points[k].tpr >= roc.points[k - 1].tpr);
        ck_assert(roc.points[k].fpr > roc.points[k - 1].fpr || roc.points[k].tpr > roc.points[k - 1].tpr);
    }
    /* the anomalous images as the positive class: the mirrored curve, AUC 1 − AUC */
    for (size_t i = 0; i < n; i++) is_normal[i] = !is_normal[i];
    anomaly_roc flipped;
    ck_assert_int_eq(anomaly_roc_compute(&flipped, errors, is_normal, n), AE_OK);
    ck_assert_double_eq_tol(flipped.auc, 1.0 - roc.auc, 1e-12);
    anomaly_roc_free(&flipped);
    anomaly_roc_free(&roc);
    free(errors);
    free(is_normal);
    gsl_rng_free(rng);
}
END_TEST

/* The rule "normal when error < threshold" is a corner of the curve: the last one whose error is
 * below the threshold, for thresholds between errors, equal to one, and beyond all of them. */
START_TEST(test_roc_holds_the_operating_point)
{
    gsl_rng *rng = test_rng(4711);
    enum { N = 600 };
    double errors[N];
    int is_normal[N];
    random_errors(errors, is_normal, N, 0.02, rng);
    anomaly_roc roc;
    ck_assert_int_eq(anomaly_roc_compute(&roc, errors, is_normal, N), AE_OK);

    double sum = 0.0, squares = 0.0;   /* the rule's mean + 1 std, worked out here (the student edition's */
    for (int i = 0; i < N; i++) sum += errors[i];   /* anomaly_threshold is a stub) */
    for (int i = 0; i < N; i++) squares += (errors[i] - sum / N) * (errors[i] - sum / N);
    double rule = sum / N + sqrt(squares / N);
    const double thresholds[6] = { rule, 0.0375, errors[17], 0.0, 1.0, errors[0] + 1e-9 };   /* 0: no error below it */
    for (int t = 0; t < 6; t++) {
        anomaly_confusion cm;
        anomaly_confusion_count(&cm, errors, is_normal, N, thresholds[t]);
        double fpr, tpr;
        ck_assert_int_eq(anomaly_operating_point(&cm, &fpr, &tpr), AE_OK);
        ck_assert_double_eq(fpr, (double)cm.fp / (double)roc.n_anomalous);
        ck_assert_double_eq(tpr, (double)cm.tp / (double)roc.n_normal);
        size_t corner = 0;   /* the last corner whose images all lie below the threshold */
        while (corner + 1 < roc.n_points && roc.points[corner + 1].error < thresholds[t]) corner++;
        ck_assert_msg(roc.points[corner].fpr == fpr && roc.points[corner].tpr == tpr,
                      "threshold %g: the rule's point (%g, %g) is not the curve's corner %zu (%g, %g)", thresholds[t],
                      fpr, tpr, corner, roc.points[corner].fpr, roc.points[corner].tpr);
    }
    anomaly_roc_free(&roc);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_roc_refusals)
{
    anomaly_roc roc;
    memset(&roc, 0x5a, sizeof roc);   /* garbage, cleared even when the curve is refused */
    const double errors[4] = { 0.031, 0.047, 0.029, 0.052 };
    const int all_normal[4] = { 1, 1, 2, 1 }, none_normal[4] = { 0, 0, 0, 0 }, mixed[4] = { 1, 0, 1, 0 };
    ck_assert_int_eq(anomaly_roc_compute(&roc, errors, all_normal, 4), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "4 normal and 0 anomalous"));
    ck_assert_ptr_null(roc.points);
    ck_assert_int_eq(roc.n_points, 0);
    ck_assert_int_eq(anomaly_roc_compute(&roc, errors, none_normal, 4), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "0 normal and 4 anomalous"));
    ck_assert_int_eq(anomaly_roc_compute(&roc, errors, mixed, 0), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "needs normal and anomalous images"));

    const double with_nan[4] = { 0.031, NAN, 0.029, 0.052 }, with_inf[4] = { 0.031, 0.047, INFINITY, 0.052 };
    ck_assert_int_eq(anomaly_roc_compute(&roc, with_nan, mixed, 4), AE_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(error_message(), "reconstruction error 1 is nan"));
    ck_assert_int_eq(anomaly_roc_compute(&roc, with_inf, mixed, 4), AE_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(error_message(), "reconstruction error 2 is inf"));
    ck_assert_ptr_null(roc.points);
    anomaly_roc_free(&roc);   /* nothing to free after a refusal */

    double fpr = -1.0, tpr = -1.0;
    anomaly_confusion no_normal = { .tp = 0, .fp = 3, .tn = 5, .fn = 0 }, no_anomalous = { .tp = 2, .fp = 0, .tn = 0, .fn = 6 };
    anomaly_confusion negative = { .tp = 2, .fp = -1, .tn = 4, .fn = 1 };
    ck_assert_int_eq(anomaly_operating_point(&no_normal, &fpr, &tpr), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "counts 0 normal and 8 anomalous"));
    ck_assert_int_eq(anomaly_operating_point(&no_anomalous, &fpr, &tpr), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "counts 8 normal and 0 anomalous"));
    ck_assert_int_eq(anomaly_operating_point(&negative, &fpr, &tpr), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "holds counts"));
    ck_assert(fpr == -1.0 && tpr == -1.0);   /* untouched */
}
END_TEST

Suite *ae_anomaly_suite(void)
{
    Suite *s = suite_create("ae_anomaly");
    test_add(test_case(s, "Core", 0), test_metrics_by_hand, test_threshold_by_hand, test_confusion_counting,
             test_reconstruction_errors, test_source_errors);

    test_add(test_case(s, "Limits", 0), test_refusals);

    TCase *roc = test_case(s, "ROC", 0);
    tcase_add_test(roc, test_roc_by_hand);
    tcase_add_loop_test(roc, test_roc_auc_is_mann_whitney, 0, 4);
    test_add(roc, test_roc_holds_the_operating_point, test_roc_refusals);
    return s;
}
