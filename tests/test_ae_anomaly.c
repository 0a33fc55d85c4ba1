/* test_ae_anomaly.c: the anomaly rule of week05-task4-ae (ae_anomaly.c).
 *
 *   Core    the rates of a hand-made confusion matrix; the threshold of a hand-made list of
 *           errors; the counting (an error equal to the threshold is an anomaly); per-image
 *           mean absolute errors; source_errors against a plain loop over ae_reconstruct
 *   Limits  empty and negative matrices, rates of 0/0, no errors, a NaN error
 */
#include <check.h>
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

Suite *ae_anomaly_suite(void)
{
    Suite *s = suite_create("ae_anomaly");
    TCase *core = test_case(s, "Core", 0);
    tcase_add_test(core, test_metrics_by_hand);
    tcase_add_test(core, test_threshold_by_hand);
    tcase_add_test(core, test_confusion_counting);
    tcase_add_test(core, test_reconstruction_errors);
    tcase_add_test(core, test_source_errors);

    TCase *limits = test_case(s, "Limits", 0);
    tcase_add_test(limits, test_refusals);
    return s;
}
