/* test_reparam.c: the vae-reparam exercise (vae-reparam/reparam.c) and its program.
 *
 * Core: moments and their intervals by hand, interval coverage over many seeds, seeded
 * sample statistics inside their intervals, the Kolmogorov–Smirnov distance and p-value.
 * Gradient: exact gradients (z² by hand, both f against finite differences), per-sample
 * estimators by hand, each estimator unbiased within its standard error, the pathwise
 * variance below the score-function one, the spread study, the layer check.
 * Limits: every error path of the functions.
 * Program: bin/vae-reparam's results, determinism, and bad input refused with status 2
 * and no output. Build the program first: make O=DIR programs. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_cdf.h>

#include "error.h"
#include "io/fileio.h"
#include "reparam_exercise.h"
#include "io/results.h"
#include "sampling.h"
#include "testutil.h"

/* Draws n samples of one dimension z = μ + σε through the library's layer, as doubles. */
static void draw_normal(double *out, float *work, int n, float mu, float logvar, gsl_rng *rng)
{
    float *eps = work, *z = work + n, *mu_rows = work + 2 * n, *logvar_rows = work + 3 * n;
    for (int i = 0; i < n; i++) { mu_rows[i] = mu; logvar_rows[i] = logvar; }
    sampling_draw_eps(eps, (size_t)n, rng);
    sampling_forward(z, mu_rows, logvar_rows, eps, n, 1);
    for (int i = 0; i < n; i++) out[i] = z[i];
}

/* ------------------------------------------------------------------ Core */

START_TEST(moments_by_hand)
{
    const double x[5] = { 2.385, -0.75, 1.5, 3.125, 0.4 };
    moment_summary s;
    ck_assert_int_eq(moment_summary_compute(&s, x, 5, 0.95), AE_OK);
    /* x̄ = 6.66/5; Σ(x − x̄)² by hand = 1.053² + 2.082² + 0.168² + 1.793² + 0.932² = 9.55523 */
    double mean = 1.332, squares = 0.0;
    for (int i = 0; i < 5; i++) squares += (x[i] - mean) * (x[i] - mean);
    ck_assert_double_eq_tol(squares, 9.55523, 1e-9);
    ck_assert_double_eq_tol(s.mean, 1.332, 1e-12);
    ck_assert_double_eq_tol(s.var, 9.55523 / 4.0, 1e-12);
    /* z_0.975 = 1.95996; χ²_{4; 0.975} = 11.1433 and χ²_{4; 0.025} = 0.48442 (printed tables) */
    double half = 1.959964 * sqrt(s.var / 5.0);
    ck_assert_double_eq_tol(s.mean_lo, 1.332 - half, 1e-5);
    ck_assert_double_eq_tol(s.mean_hi, 1.332 + half, 1e-5);
    ck_assert_double_eq_tol(s.var_lo, 9.55523 / 11.1433, 1e-4);
    ck_assert_double_eq_tol(s.var_hi, 9.55523 / 0.48442, 1e-3);
}
END_TEST

START_TEST(chisq_quantile_beyond_gsl)
{
    /* where GSL's own inverse still works, both agree */
    ck_assert_double_eq_tol(chisq_quantile(0.975, 20000.0) / gsl_cdf_chisq_Pinv(0.975, 20000.0), 1.0, 1e-10);
    ck_assert_double_eq_tol(chisq_quantile(0.025, 20000.0) / gsl_cdf_chisq_Pinv(0.025, 20000.0), 1.0, 1e-10);
    /* beyond it, the quantile is checked by putting it back into the CDF */
    const double dofs[3] = { 99999.0, 250000.0, 999999.0 };
    for (int k = 0; k < 3; k++) {
        double upper = chisq_quantile(0.975, dofs[k]), lower = chisq_quantile(0.025, dofs[k]);
        ck_assert_double_eq_tol(gsl_cdf_chisq_Q(upper, dofs[k]), 0.025, 1e-9);
        ck_assert_double_eq_tol(gsl_cdf_chisq_P(lower, dofs[k]), 0.025, 1e-9);
        /* and it is near ν ± 1.96·√(2ν), the normal approximation */
        ck_assert_double_eq_tol((upper - dofs[k]) / sqrt(2.0 * dofs[k]), 1.96, 0.01);
    }
}
END_TEST

/* Over 400 seeds, each 95% interval must hold the true value about 95% of the time
 * (binomial sd 1.1%, so [91.5%, 98.5%] is more than three sd). */
START_TEST(intervals_cover_about_95_percent)
{
    enum { REPEATS = 400, COUNT = 40 };
    static double x[COUNT];
    static float work[4 * COUNT];
    const float mu = 2.385f, logvar = -0.713f;
    double var = exp((double)logvar);
    int mean_hits = 0, var_hits = 0;
    gsl_rng *rng = test_rng(1234);
    for (int r = 0; r < REPEATS; r++) {
        draw_normal(x, work, COUNT, mu, logvar, rng);
        moment_summary s;
        ck_assert_int_eq(moment_summary_compute(&s, x, COUNT, 0.95), AE_OK);
        mean_hits += s.mean_lo <= mu && mu <= s.mean_hi;
        var_hits += s.var_lo <= var && var <= s.var_hi;
    }
    gsl_rng_free(rng);
    double mean_cover = (double)mean_hits / REPEATS, var_cover = (double)var_hits / REPEATS;
    ck_assert_msg(mean_cover > 0.915 && mean_cover < 0.985, "mean interval covered %.3f", mean_cover);
    ck_assert_msg(var_cover > 0.915 && var_cover < 0.985, "variance interval covered %.3f", var_cover);
}
END_TEST

START_TEST(seeded_statistics_inside_their_intervals)
{
    enum { COUNT = 20000 };
    static double x[COUNT];
    static float work[4 * COUNT];
    const float mus[2] = { 0.5f, -1.0f }, logvars[2] = { -0.5f, 0.7f };
    gsl_rng *rng = test_rng(42);
    for (int l = 0; l < 2; l++) {
        draw_normal(x, work, COUNT, mus[l], logvars[l], rng);
        moment_summary s;
        ck_assert_int_eq(moment_summary_compute(&s, x, COUNT, 0.95), AE_OK);
        double var = exp((double)logvars[l]);
        ck_assert_msg(s.mean_lo <= mus[l] && mus[l] <= s.mean_hi, "μ = %g outside [%g, %g]",
                      mus[l], s.mean_lo, s.mean_hi);
        ck_assert_msg(s.var_lo <= var && var <= s.var_hi, "σ² = %g outside [%g, %g]", var, s.var_lo, s.var_hi);
        double d;
        ck_assert_int_eq(ks_statistic_normal(&d, x, COUNT, mus[l], exp(0.5 * logvars[l])), AE_OK);
        ck_assert_msg(ks_pvalue(d, COUNT) > 0.01, "KS rejects N(μ, σ²) for its own samples: D = %g", d);
    }
    gsl_rng_free(rng);
}
END_TEST

START_TEST(ks_distance_by_hand)
{
    /* {−1, 0, 1} against N(0, 1): the largest gap is 1/3 − Φ(−1) = 0.333333 − 0.158655 */
    double x[3] = { 1.0, -1.0, 0.0 };
    double d;
    ck_assert_int_eq(ks_statistic_normal(&d, x, 3, 0.0, 1.0), AE_OK);
    ck_assert_double_eq_tol(d, 0.1746781, 1e-6);
    ck_assert_double_eq(x[0], -1.0);      /* sorted in place */
    /* shifting data and distribution together changes nothing */
    double y[3] = { 3.385, 1.385, 2.385 };
    ck_assert_int_eq(ks_statistic_normal(&d, y, 3, 2.385, 1.0), AE_OK);
    ck_assert_double_eq_tol(d, 0.1746781, 1e-6);
}
END_TEST

/* A plain alternating sum, fine for λ >= 0.3, as the reference for both branches. */
static double kolmogorov_reference(double lambda)
{
    double sum = 0.0;
    for (int k = 1; k <= 400; k++) sum += (k % 2 ? 2.0 : -2.0) * exp(-2.0 * k * k * lambda * lambda);
    return sum;
}

START_TEST(kolmogorov_distribution_values)
{
    /* published values: P(K > 1) = 0.26999967, P(K > 0.5) = 0.96394524 */
    ck_assert_double_eq_tol(kolmogorov_survival(1.0), 0.26999967, 1e-8);
    ck_assert_double_eq_tol(kolmogorov_survival(0.5), 0.96394524, 1e-8);
    /* 1.3581 is the 5% critical value */
    ck_assert_double_eq_tol(kolmogorov_survival(1.3581), 0.05, 1e-4);
    const double lambdas[6] = { 0.41, 0.73, 1.05, 1.179, 1.181, 2.385 };
    for (int k = 0; k < 6; k++)
        ck_assert_double_eq_tol(kolmogorov_survival(lambdas[k]), kolmogorov_reference(lambdas[k]), 1e-12);
    ck_assert_double_eq(kolmogorov_survival(0.0), 1.0);
    ck_assert_double_eq_tol(kolmogorov_survival(0.05), 1.0, 1e-12);
    ck_assert_double_lt(kolmogorov_survival(8.0), 1e-50);
    /* the p-value uses Stephens' factor √n + 0.12 + 0.11/√n */
    ck_assert_double_eq_tol(ks_pvalue(0.1, 100), kolmogorov_survival(0.1 * (10.0 + 0.12 + 0.011)), 1e-15);
}
END_TEST

START_TEST(ks_rejects_the_mistake)
{
    /* the mistaken z has spread σ² = 0.607 instead of σ = 0.779: KS must see it */
    enum { COUNT = 20000 };
    static float eps[COUNT], z[COUNT], mu_rows[COUNT], logvar_rows[COUNT];
    static double x[COUNT];
    gsl_rng *rng = test_rng(99);
    sampling_draw_eps(eps, COUNT, rng);
    gsl_rng_free(rng);
    for (int i = 0; i < COUNT; i++) { mu_rows[i] = 0.5f; logvar_rows[i] = -0.5f; }
    mistaken_sampling_forward(z, mu_rows, logvar_rows, eps, COUNT, 1);
    for (int i = 0; i < COUNT; i++) x[i] = z[i];
    moment_summary s;
    ck_assert_int_eq(moment_summary_compute(&s, x, COUNT, 0.95), AE_OK);
    ck_assert_double_eq_tol(sqrt(s.var), exp(-0.5), 0.02);        /* std σ² = e^{−0.5} = 0.6065 */
    double d;
    ck_assert_int_eq(ks_statistic_normal(&d, x, COUNT, 0.5, exp(-0.25)), AE_OK);
    ck_assert_double_gt(d, 0.03);
    ck_assert_double_lt(ks_pvalue(d, COUNT), 1e-6);
}
END_TEST

START_TEST(mistake_by_hand)
{
    const float mu[3] = { 0.5f, -1.0f, 2.385f }, logvar[3] = { -0.5f, 0.7f, 0.0f }, eps[3] = { 1.2f, -0.8f, 0.3f };
    float z[3];
    mistaken_sampling_forward(z, mu, logvar, eps, 1, 3);
    ck_assert_double_eq_tol(z[0], 0.5 + 1.2 * 0.6065307, 1e-6);     /* e^{−0.5} */
    ck_assert_double_eq_tol(z[1], -1.0 - 0.8 * 2.0137527, 1e-6);    /* e^{0.7} */
    ck_assert_double_eq_tol(z[2], 2.385 + 0.3, 1e-6);               /* σ = σ² = 1: no difference */
}
END_TEST

/* -------------------------------------------------------------- Gradient */

START_TEST(exact_gradients_of_square)
{
    double g_mu, g_logvar;
    test_function_exact_gradient(TEST_FN_SQUARE, 0.385, -0.7, &g_mu, &g_logvar);
    ck_assert_double_eq_tol(g_mu, 0.77, 1e-15);                    /* 2μ */
    ck_assert_double_eq_tol(g_logvar, 0.4965853037914095, 1e-15);  /* σ² = e^{−0.7} */
    ck_assert_double_eq_tol(test_function_expectation(TEST_FN_SQUARE, 0.385, -0.7),
                            0.385 * 0.385 + 0.4965853037914095, 1e-15);
}
END_TEST

/* Both exact gradients against central differences of the closed-form expectation. */
START_TEST(exact_gradients_match_finite_differences)
{
    const double points[3][2] = { { 0.385, -0.7 }, { -1.2, 0.45 }, { 2.385, 1.1 } };
    const double h = 1e-5;
    for (int f = 0; f < TEST_FN_COUNT; f++)
        for (int p = 0; p < 3; p++) {
            double mu = points[p][0], logvar = points[p][1], g_mu, g_logvar;
            test_function_exact_gradient((test_function)f, mu, logvar, &g_mu, &g_logvar);
            double num_mu = (test_function_expectation(f, mu + h, logvar) - test_function_expectation(f, mu - h, logvar)) / (2 * h);
            double num_logvar = (test_function_expectation(f, mu, logvar + h) - test_function_expectation(f, mu, logvar - h)) / (2 * h);
            ck_assert_msg(fabs(g_mu - num_mu) < 1e-8, "%s at (%g, %g): ∂/∂μ %g vs %g",
                          test_function_name(f), mu, logvar, g_mu, num_mu);
            ck_assert_msg(fabs(g_logvar - num_logvar) < 1e-8, "%s at (%g, %g): ∂/∂log σ² %g vs %g",
                          test_function_name(f), mu, logvar, g_logvar, num_logvar);
        }
}
END_TEST

START_TEST(per_sample_estimators_by_hand)
{
    /* two samples of one dimension, μ = 0.5, log σ² = −0.5 (σ = e^{−0.25}), f = z² */
    const float mu = 0.5f, logvar = -0.5f, eps[2] = { 1.3f, -0.45f };
    const float logvar_rows[2] = { logvar, logvar };
    double sigma = exp(-0.25), var = exp(-0.5);
    float z[2], g_mu[2], g_logvar[2];
    for (int i = 0; i < 2; i++) z[i] = (float)(mu + sigma * eps[i]);
    pathwise_gradients(g_mu, g_logvar, z, logvar_rows, eps, 2, 1, TEST_FN_SQUARE);
    for (int i = 0; i < 2; i++) {
        ck_assert_double_eq_tol(g_mu[i], 2.0 * z[i], 1e-6);                           /* f'(z)·1 */
        ck_assert_double_eq_tol(g_logvar[i], 2.0 * z[i] * 0.5 * sigma * eps[i], 1e-6); /* f'(z)·½σε */
    }
    ck_assert_int_eq(score_gradients(g_mu, g_logvar, z, &mu, &logvar, 2, 1, TEST_FN_SQUARE, 0), AE_OK);
    for (int i = 0; i < 2; i++) {
        double f = (double)z[i] * z[i], u = z[i] - 0.5;
        ck_assert_double_eq_tol(g_mu[i], f * u / var, 1e-5);
        ck_assert_double_eq_tol(g_logvar[i], f * 0.5 * (u * u / var - 1.0), 1e-5);
    }
    /* leave-one-out: with two samples, each one's baseline is the other's f */
    ck_assert_int_eq(score_gradients(g_mu, g_logvar, z, &mu, &logvar, 2, 1, TEST_FN_SQUARE, 1), AE_OK);
    for (int i = 0; i < 2; i++) {
        double f = (double)z[i] * z[i], other = (double)z[1 - i] * z[1 - i], u = z[i] - 0.5;
        ck_assert_double_eq_tol(g_mu[i], (f - other) * u / var, 1e-5);
        ck_assert_double_eq_tol(g_logvar[i], (f - other) * 0.5 * (u * u / var - 1.0), 1e-5);
    }
}
END_TEST

/* Every estimator, for both f and both dimensions, within 4 standard errors of the exact value. */
START_TEST(estimators_are_unbiased)
{
    enum { COUNT = 20000, L = 2 };
    static float eps[COUNT * L], z[COUNT * L], mu_rows[COUNT * L], logvar_rows[COUNT * L];
    const float mu[L] = { 0.5f, -1.2f }, logvar[L] = { -0.5f, 0.4f };
    for (int b = 0; b < COUNT; b++)
        for (int l = 0; l < L; l++) { mu_rows[b * L + l] = mu[l]; logvar_rows[b * L + l] = logvar[l]; }
    gsl_rng *rng = test_rng(2385);
    sampling_draw_eps(eps, COUNT * L, rng);
    gsl_rng_free(rng);
    sampling_forward(z, mu_rows, logvar_rows, eps, COUNT, L);
    for (int f = 0; f < TEST_FN_COUNT; f++) {
        gradient_estimates g[L];
        ck_assert_int_eq(estimate_gradients(g, z, eps, mu, logvar, COUNT, L, (test_function)f), AE_OK);
        for (int l = 0; l < L; l++) {
            double exact_mu, exact_logvar;
            test_function_exact_gradient((test_function)f, mu[l], logvar[l], &exact_mu, &exact_logvar);
            ck_assert_double_eq_tol(g[l].exact_mu, exact_mu, 1e-15);
            ck_assert_double_eq_tol(g[l].exact_logvar, exact_logvar, 1e-15);
            for (int e = 0; e < ESTIMATOR_COUNT; e++) {
                const estimate *m = &g[l].mu[e], *v = &g[l].logvar[e];
                ck_assert_msg(fabs(m->mean - exact_mu) < 4.0 * m->std_error,
                              "%s, dim %d, %s ∂/∂μ: %g ± %g vs exact %g", test_function_name(f), l + 1,
                              estimator_name(e), m->mean, m->std_error, exact_mu);
                ck_assert_msg(fabs(v->mean - exact_logvar) < 4.0 * v->std_error,
                              "%s, dim %d, %s ∂/∂log σ²: %g ± %g vs exact %g", test_function_name(f), l + 1,
                              estimator_name(e), v->mean, v->std_error, exact_logvar);
                ck_assert_double_eq_tol(m->std_error, sqrt(m->sample_var / COUNT), 1e-12);
            }
        }
        if (f == TEST_FN_SQUARE) {
            /* pathwise per-sample variance by hand: Var(2z) = 4σ², Var(zσε) = μ²σ² + 2σ⁴ */
            double var = exp(-0.5);
            ck_assert_double_eq_tol(g[0].mu[ESTIMATOR_PATHWISE].sample_var / (4.0 * var), 1.0, 0.05);
            ck_assert_double_eq_tol(g[0].logvar[ESTIMATOR_PATHWISE].sample_var / (0.25 * var + 2.0 * var * var), 1.0, 0.06);
            /* and the score estimator's is several times larger (about 5× and 11× here) */
            ck_assert_double_gt(g[0].mu[ESTIMATOR_SCORE].sample_var / g[0].mu[ESTIMATOR_PATHWISE].sample_var, 3.0);
            ck_assert_double_gt(g[0].logvar[ESTIMATOR_SCORE].sample_var / g[0].logvar[ESTIMATOR_PATHWISE].sample_var, 5.0);
        }
    }
}
END_TEST

START_TEST(spread_falls_as_one_over_n)
{
    double var_mu[ESTIMATOR_COUNT], var_logvar[ESTIMATOR_COUNT];
    gsl_rng *rng = test_rng(77);
    const float mu = 0.5f, logvar = -0.5f;
    double var = exp(-0.5);
    ck_assert_int_eq(estimator_spread(var_mu, var_logvar, 64, 400, mu, logvar, TEST_FN_SQUARE, rng), AE_OK);
    /* Var of the 64-sample mean of 2z is 4σ²/64; 400 repeats know it to about ±7% */
    ck_assert_double_eq_tol(var_mu[ESTIMATOR_PATHWISE] / (4.0 * var / 64.0), 1.0, 0.25);
    ck_assert_double_gt(var_mu[ESTIMATOR_SCORE], 2.0 * var_mu[ESTIMATOR_PATHWISE]);
    ck_assert_double_gt(var_logvar[ESTIMATOR_SCORE], 2.0 * var_logvar[ESTIMATOR_PATHWISE]);
    double big_mu[ESTIMATOR_COUNT], big_logvar[ESTIMATOR_COUNT];
    ck_assert_int_eq(estimator_spread(big_mu, big_logvar, 1024, 400, mu, logvar, TEST_FN_SQUARE, rng), AE_OK);
    ck_assert_double_eq_tol(var_mu[ESTIMATOR_PATHWISE] / big_mu[ESTIMATOR_PATHWISE], 16.0, 5.0);   /* 1024/64 */
    gsl_rng_free(rng);
}
END_TEST

START_TEST(layer_check_passes)
{
    enum { B = 5, L = 3, N = B * L };
    float mu[N], logvar[N], eps[N], mu_before[N];
    gsl_rng *rng = test_rng(31);
    fill_uniform(mu, N, -2.0, 2.0, rng);
    fill_uniform(logvar, N, -2.0, 2.0, rng);
    sampling_draw_eps(eps, N, rng);
    gsl_rng_free(rng);
    memcpy(mu_before, mu, sizeof mu);
    layer_check check;
    ck_assert_int_eq(sampling_layer_check(&check, mu, logvar, eps, B, L, 1e-2), AE_OK);
    ck_assert_int_eq(check.checked, 2 * N);
    ck_assert_double_lt(check.max_error_mu, 1e-3);
    ck_assert_double_lt(check.max_error_logvar, 1e-3);
    ck_assert_int_eq(memcmp(mu, mu_before, sizeof mu), 0);
}
END_TEST

/* ---------------------------------------------------------------- Limits */

START_TEST(functions_refuse_bad_arguments)
{
    double x[3] = { 0.3, NAN, 1.0 }, d, var_mu[ESTIMATOR_COUNT], var_logvar[ESTIMATOR_COUNT];
    moment_summary s;
    ck_assert_int_eq(moment_summary_compute(&s, x, 1, 0.95), AE_EINVAL);
    ck_assert_int_eq(moment_summary_compute(&s, x, 3, 0.95), AE_EDOM);
    x[1] = 0.7;
    ck_assert_int_eq(moment_summary_compute(&s, x, 3, 1.0), AE_EDOM);
    ck_assert_int_eq(moment_summary_compute(&s, x, 3, 0.0), AE_EDOM);
    ck_assert_int_eq(ks_statistic_normal(&d, x, 0, 0.0, 1.0), AE_EINVAL);
    ck_assert_int_eq(ks_statistic_normal(&d, x, 3, 0.0, 0.0), AE_EDOM);
    ck_assert_int_eq(ks_statistic_normal(&d, x, 3, 0.0, -1.5), AE_EDOM);
    ck_assert(isnan(chisq_quantile(1.2, 5.0)));
    ck_assert(isnan(chisq_quantile(0.5, 0.0)));

    float z[2] = { 0.4f, 1.1f }, eps[2] = { 0.1f, 0.2f }, g_mu[2], g_logvar[2], mu = 0.0f, logvar = 0.0f;
    ck_assert_int_eq(score_gradients(g_mu, g_logvar, z, &mu, &logvar, 1, 1, TEST_FN_SQUARE, 1), AE_EINVAL);
    gradient_estimates g;
    ck_assert_int_eq(estimate_gradients(&g, z, eps, &mu, &logvar, 1, 1, TEST_FN_SINE), AE_EINVAL);
    gsl_rng *rng = test_rng(5);
    ck_assert_int_eq(estimator_spread(var_mu, var_logvar, 1, 50, 0.0f, 0.0f, TEST_FN_SQUARE, rng), AE_EINVAL);
    ck_assert_int_eq(estimator_spread(var_mu, var_logvar, 8, 1, 0.0f, 0.0f, TEST_FN_SQUARE, rng), AE_EINVAL);
    gsl_rng_free(rng);
    layer_check check;
    ck_assert_int_eq(sampling_layer_check(&check, z, z, eps, 2, 1, 0.0), AE_EINVAL);
}
END_TEST

/* --------------------------------------------------------------- Program */

START_TEST(program_writes_its_results)
{
    char out[512], path[AE_PATH_MAX];
    snprintf(out, sizeof out, "%s/run", test_tmpdir());
    const char *args[] = { "--samples", "20000", "--repeats", "20", "--no-plot", "--out", out, NULL };
    ck_assert_int_eq(run_program("vae-reparam", args, NULL), 0);
    snprintf(path, sizeof path, "%s/results.tsv", out);
    results *r = NULL;
    ck_assert_int_eq(results_read(&r, path), AE_OK);
    /* defaults: μ = (0.5, −1.0), log σ² = (−0.5, 0.7) */
    double mean = test_result(r, "sample_mean");
    ck_assert(test_result(r, "sample_mean_ci_lo") <= 0.5 && 0.5 <= test_result(r, "sample_mean_ci_hi"));
    ck_assert_double_eq_tol(mean, 0.5, 0.03);
    double var = exp(-0.5);
    ck_assert(test_result(r, "sample_var_ci_lo") <= var && var <= test_result(r, "sample_var_ci_hi"));
    ck_assert_double_eq_tol(test_result(r, "sample_var"), var, 0.03);
    ck_assert_double_eq_tol(test_result(r, "grad_mu_exact"), 1.0, 1e-12);
    ck_assert_double_eq_tol(test_result(r, "grad_logvar_exact"), var, 1e-12);
    const char *names[3] = { "pathwise", "score", "score_baseline" };
    for (int e = 0; e < 3; e++) {
        char key[64], se_key[64];
        snprintf(key, sizeof key, "grad_mu_%s", names[e]);
        snprintf(se_key, sizeof se_key, "grad_mu_%s_se", names[e]);
        ck_assert_double_lt(fabs(test_result(r, key) - 1.0), 4.0 * test_result(r, se_key));
        snprintf(key, sizeof key, "grad_logvar_%s", names[e]);
        snprintf(se_key, sizeof se_key, "grad_logvar_%s_se", names[e]);
        ck_assert_double_lt(fabs(test_result(r, key) - var), 4.0 * test_result(r, se_key));
    }
    ck_assert_double_gt(test_result(r, "variance_ratio"), 3.0);
    ck_assert_double_eq_tol(test_result(r, "wrong_std"), var, 0.02);        /* σ² where σ belongs */
    ck_assert_double_eq_tol(test_result(r, "sample_std"), exp(-0.25), 0.02);
    ck_assert_double_lt(test_result(r, "layer_check_max_error"), 1e-3);
    ck_assert_double_gt(test_result(r, "ks_pvalue"), 0.01);
    ck_assert_double_lt(test_result(r, "wrong_ks_pvalue"), 1e-6);
    results_free(r);
    const char *files[4] = { "sampling.dat", "sampling.gp", "estimator_variance.dat", "estimator_variance.gp" };
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", out, files[k]);
        ck_assert_msg(file_exists(path), "%s was not written", files[k]);
    }
}
END_TEST

START_TEST(program_is_deterministic)
{
    char first[512], second[512];
    snprintf(first, sizeof first, "%s/a", test_tmpdir());
    snprintf(second, sizeof second, "%s/b", test_tmpdir());
    const char *args_a[] = { "--samples", "3000", "--repeats", "10", "--seed", "2385", "--no-plot", "--out", first, NULL };
    const char *args_b[] = { "--samples", "3000", "--repeats", "10", "--seed", "2385", "--no-plot", "--out", second, NULL };
    ck_assert_int_eq(run_program("vae-reparam", args_a, NULL), 0);
    ck_assert_int_eq(run_program("vae-reparam", args_b, NULL), 0);
    char path_a[600], path_b[600];
    snprintf(path_a, sizeof path_a, "%s/results.tsv", first);
    snprintf(path_b, sizeof path_b, "%s/results.tsv", second);
    FILE *fa = fopen(path_a, "r"), *fb = fopen(path_b, "r");
    ck_assert_ptr_nonnull(fa);
    ck_assert_ptr_nonnull(fb);
    int ca, cb, same = 1;
    do {
        ca = fgetc(fa);
        cb = fgetc(fb);
        if (ca != cb) same = 0;
    } while (same && ca != EOF);
    fclose(fa);
    fclose(fb);
    ck_assert_msg(same, "the same seed gave different results.tsv files");
}
END_TEST

/* Each row: what is wrong, then the arguments. */
static const char *const bad_inputs[][5] = {
    { "non-finite log-variance", "--logvar", "inf,0.7", NULL, NULL },
    { "NaN log-variance", "--logvar", "nan,0.7", NULL, NULL },
    { "log-variance out of range", "--logvar", "-0.5,40", NULL, NULL },
    { "lengths differ", "--mu", "0.5", NULL, NULL },
    { "lengths differ the other way", "--logvar", "-0.5,0.7,0.1", NULL, NULL },
    { "one sample", "--samples", "1", NULL, NULL },
    { "a word for a number", "--mu", "0.5,abc", NULL, NULL },
    { "an empty item", "--mu", "0.5,", NULL, NULL },
    { "an empty list", "--logvar", "", NULL, NULL },
    { "samples not a number", "--samples", "many", NULL, NULL },
};

START_TEST(program_refuses_bad_input)
{
    const char *const *row = bad_inputs[_i];
    char out[512], log[600];
    snprintf(out, sizeof out, "%s/never", test_tmpdir());
    snprintf(log, sizeof log, "%s.log", out);
    const char *args[8];
    int n = 0;
    for (int k = 1; k < 5 && row[k]; k++) args[n++] = row[k];
    args[n++] = "--out";
    args[n++] = out;
    args[n] = NULL;
    ck_assert_msg(run_program("vae-reparam", args, log) == 2, "%s: exit status is not 2", row[0]);
    ck_assert_msg(!file_exists(out), "%s: the output folder was created", row[0]);
    /* the message names the option at fault */
    FILE *fp = fopen(log, "r");
    ck_assert_ptr_nonnull(fp);
    char message[512] = "";
    size_t got = fread(message, 1, sizeof message - 1, fp);
    message[got] = '\0';
    fclose(fp);
    ck_assert_msg(strstr(message, row[1]) != NULL, "%s: the message does not name %s: %s", row[0], row[1], message);
}
END_TEST

Suite *reparam_suite(void)
{
    Suite *s = suite_create("reparam");

    test_add(test_case(s, "Core", 30), moments_by_hand, chisq_quantile_beyond_gsl, intervals_cover_about_95_percent,
             seeded_statistics_inside_their_intervals, ks_distance_by_hand, kolmogorov_distribution_values,
             ks_rejects_the_mistake, mistake_by_hand);

    test_add(test_case(s, "Gradient", 30), exact_gradients_of_square, exact_gradients_match_finite_differences,
             per_sample_estimators_by_hand, estimators_are_unbiased, spread_falls_as_one_over_n, layer_check_passes);

    test_add(test_case(s, "Limits", 0), functions_refuse_bad_arguments);

    TCase *program = test_case(s, "Program", 60);
    test_add(program, program_writes_its_results, program_is_deterministic);
    tcase_add_loop_test(program, program_refuses_bad_input, 0, (int)(sizeof bad_inputs / sizeof bad_inputs[0]));
    return s;
}
