/* test_vae_elbo.c: the ELBO's terms (vae-elbo/elbo.c) and the vae-elbo program.
 *
 * Core      the closed-form KL against hand-computed cases; the trace/log-det form and GSL
 *           integration against it; the Monte-Carlo estimate within its error; the
 *           reconstruction term against the library's BCE; the lecture's wrong formula.
 * Gradient  the batch KL's backward against finite differences.
 * Limits    BCE refusing targets outside [0, 1]; every error path of the functions.
 * Program   bin/vae-elbo: its results.tsv, and exit status 2 with no file for bad vectors.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>

#include "error.h"
#include "io/fileio.h"
#include "loss.h"
#include "io/results.h"
#include "fast/cpu.h"
#include "testutil.h"
#include "vae_elbo.h"
#include "vae_model.h"

#define PROGRAM "vae-elbo"
#define HAND_TOL 1e-9

static double relative_error(double a, double b)
{
    return fabs(a - b) / fmax(1e-300, fmax(fabs(a), fabs(b)));
}

/* --------------------------------------------------------- closed form */

/* Each case: μ, log σ² of one or two dimensions, and the KL worked out by hand (digits from a
 * calculator, per dimension ½(σ² + μ² − 1 − log σ²)). */
typedef struct {
    int k;
    double mu[2], logvar[2];
    double kl;
} kl_case;

static const kl_case hand_cases[] = {
    /* section 1's default Gaussian, μ = (0.3, −1.2), log σ² = (0.1, −0.5): ½(1.105170918 + 0.09 − 1 − 0.1) + ½(0.6065306597 + 1.44 − 1 + 0.5) */
    { 2, { 0.3, -1.2 }, { 0.1, -0.5 }, 0.04758545903 + 0.7732653299 },
    { 1, { 0.0 }, { 0.0 }, 0.0 },                                     /* q = p */
    { 1, { 2.385 }, { 0.0 }, 0.5 * 2.385 * 2.385 },                   /* only the mean moves: ½ μ² */
    { 1, { 0.0 }, { 1.3862943611198906 }, 0.5 * (4.0 - 1.0 - 1.3862943611198906) },   /* σ² = 4 */
    { 2, { -0.75, 1.5 }, { -2.0, 0.6931471805599453 },                /* σ² = e^-2 and 2 */
      0.5 * (0.1353352832366127 + 0.5625 - 1.0 + 2.0) + 0.5 * (2.0 + 2.25 - 1.0 - 0.6931471805599453) },
};

START_TEST(closed_form_matches_hand_computation)
{
    const kl_case *c = &hand_cases[_i];
    double kl = kl_closed_form(c->mu, c->logvar, c->k);
    ck_assert_msg(fabs(kl - c->kl) < HAND_TOL, "case %d: closed form %.12f, by hand %.12f", _i, kl, c->kl);
}
END_TEST

START_TEST(trace_logdet_form_agrees_with_closed_form)
{
    gsl_rng *rng = test_rng(2385);
    for (int k = 1; k <= 9; k += 2) {
        double mu[9], logvar[9];
        for (int j = 0; j < k; j++) {
            mu[j] = -2.5 + 5.0 * gsl_rng_uniform(rng);
            logvar[j] = -3.0 + 6.0 * gsl_rng_uniform(rng);
        }
        double trace_form;
        ck_assert_int_eq(kl_trace_logdet(&trace_form, mu, logvar, k), AE_OK);
        double closed = kl_closed_form(mu, logvar, k);
        ck_assert_msg(relative_error(trace_form, closed) < 1e-12, "k = %d: trace/log-det %.15g, closed %.15g",
                      k, trace_form, closed);
    }
    gsl_rng_free(rng);
}
END_TEST

/* 1-D cases for the integral, including a far mean and a very narrow and a very wide posterior */
static const double integral_cases[][2] = {
    { 0.3, 0.1 }, { -1.2, -0.5 }, { 0.0, 0.0 }, { 30.0, 0.0 }, { 2.385, -20.0 }, { -0.5, 12.0 },
};

START_TEST(numerical_integration_agrees_with_closed_form)
{
    double mu = integral_cases[_i][0], logvar = integral_cases[_i][1], kl, err;
    ck_assert_int_eq(kl_numerical_1d(&kl, &err, mu, logvar), AE_OK);
    double closed = kl_closed_form(&mu, &logvar, 1);
    ck_assert_msg(fabs(kl - closed) < 1e-8 * fmax(1.0, closed), "mu %g logvar %g: integral %.12g, closed %.12g",
                  mu, logvar, kl, closed);
    ck_assert(err < 1e-6 * fmax(1.0, closed));
}
END_TEST

START_TEST(monte_carlo_within_its_error)
{
    const double mu[3] = { 0.3, -1.2, 0.85 }, logvar[3] = { 0.1, -0.5, -1.7 };
    gsl_rng *rng = test_rng(42);
    mc_estimate mc;
    ck_assert_int_eq(kl_monte_carlo(&mc, mu, logvar, 3, 200000, rng), AE_OK);
    double closed = kl_closed_form(mu, logvar, 3);
    ck_assert_uint_eq(mc.n, 200000);
    ck_assert_double_eq_tol(mc.std_error, mc.sample_std / sqrt(200000.0), 1e-15);
    ck_assert_msg(fabs(mc.mean - closed) < 4.0 * mc.std_error, "MC %.6f ± %.6f, closed %.6f", mc.mean,
                  mc.std_error, closed);
    /* the error must be small enough to mean something: for this q, one draw spreads about 1.1 nats */
    ck_assert(mc.std_error > 0.0 && mc.std_error < 0.005);
    /* the same seed gives the same estimate */
    gsl_rng_set(rng, 42);
    mc_estimate again;
    ck_assert_int_eq(kl_monte_carlo(&again, mu, logvar, 3, 200000, rng), AE_OK);
    ck_assert(again.mean == mc.mean && again.std_error == mc.std_error);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(log_densities_match_gsl)
{
    const double z[3] = { 0.41, -1.93, 2.385 }, mu[3] = { 0.3, -1.2, 1.0 }, logvar[3] = { 0.1, -0.5, 0.7 };
    double expected_q = 0.0, expected_p = 0.0;
    for (int j = 0; j < 3; j++) {
        expected_q += log(gsl_ran_gaussian_pdf(z[j] - mu[j], exp(0.5 * logvar[j])));
        expected_p += log(gsl_ran_gaussian_pdf(z[j], 1.0));
    }
    ck_assert_double_eq_tol(log_normal_diag(z, mu, logvar, 3), expected_q, 1e-12);
    ck_assert_double_eq_tol(log_standard_normal(z, 3), expected_p, 1e-12);
}
END_TEST

/* --------------------------------------------------------- the mistake */

START_TEST(lecture_formula_differs_from_the_kl)
{
    gsl_rng *rng = test_rng(7);
    for (int trial = 0; trial < 20; trial++) {
        double mu[4], logvar[4], half_excess = 0.0;
        for (int j = 0; j < 4; j++) {
            mu[j] = -2.0 + 4.0 * gsl_rng_uniform(rng);
            logvar[j] = -2.0 + 4.0 * gsl_rng_uniform(rng);
            half_excess += 0.5 * (mu[j] * mu[j] + exp(logvar[j]));
        }
        double right = kl_closed_form(mu, logvar, 4), wrong = kl_lecture_notebook(mu, logvar, 4);
        ck_assert(wrong > right + 0.1);
        ck_assert_double_eq_tol(wrong - right, half_excess, 1e-12);   /* too large by ½ Σ (μ² + σ²) */
    }
    gsl_rng_free(rng);
    /* at the prior the KL is 0 but the notebook says ½ per dimension */
    const double zeros[3] = { 0, 0, 0 };
    ck_assert_double_eq_tol(kl_closed_form(zeros, zeros, 3), 0.0, 1e-15);
    ck_assert_double_eq_tol(kl_lecture_notebook(zeros, zeros, 3), 1.5, 1e-15);
    /* by hand: μ = 2.385, σ² = 1: σ² + μ² − log σ − ½ = 0.5 + 2.385² */
    const double mu = 2.385, logvar = 0.0;
    ck_assert_double_eq_tol(kl_lecture_notebook(&mu, &logvar, 1), 0.5 + 2.385 * 2.385, 1e-12);
}
END_TEST

/* ------------------------------------------------ reconstruction term */

START_TEST(reconstruction_is_minus_summed_bce)
{
    enum { N = 784 };
    gsl_rng *rng = test_rng(11);
    float x[N], logits[N], p[N];
    fill_uniform(x, N, 0.0, 1.0, rng);
    x[0] = 0.0f;
    x[1] = 1.0f;
    fill_uniform(logits, N, -6.0, 6.0, rng);
    for (int i = 0; i < N; i++) p[i] = (float)(1.0 / (1.0 + exp(-(double)logits[i])));
    gsl_rng_free(rng);

    /* a plain reference: Σ x ln p + (1 − x) ln(1 − p), in double from the logits */
    double reference = 0.0;
    for (int i = 0; i < N; i++) {
        double q = 1.0 / (1.0 + exp(-(double)logits[i]));
        reference += x[i] * log(q) + (1.0 - x[i]) * log(1.0 - q);
    }
    double bce_sum, bce_mean, bce_logits;
    ck_assert_int_eq(bce_forward(&bce_sum, p, x, N, REDUCE_SUM), AE_OK);
    ck_assert_int_eq(bce_forward(&bce_mean, p, x, N, REDUCE_MEAN), AE_OK);
    ck_assert_int_eq(bce_logits_forward(&bce_logits, logits, x, N, REDUCE_SUM), AE_OK);
    ck_assert_double_eq_tol(bernoulli_log_likelihood_logits(x, logits, N), reference, 1e-9);
    /* p went through float: its rounding moves each term by ~1e-7 relative */
    ck_assert_double_eq_tol(bernoulli_log_likelihood(x, p, N), reference, 1e-3);
    ck_assert_double_eq_tol(bernoulli_log_likelihood(x, p, N), -bce_sum, 1e-9);
    ck_assert_double_eq_tol(-bce_logits, reference, 1e-9);
    ck_assert_double_eq_tol(bce_sum, N * bce_mean, 1e-9);             /* sum = pixels × mean */
    /* the naive BCE is the library's BCE when the targets are in [0, 1] */
    ck_assert_double_eq_tol(naive_bce_sum(x, p, N), bce_sum, 1e-9);
}
END_TEST

START_TEST(fused_float_bce_matches_library)
{
    enum { N = 3 * 784 };
    gsl_rng *rng = test_rng(12);
    float *x = malloc(N * sizeof *x), *logits = malloc(N * sizeof *logits);
    float *grad = malloc(N * sizeof *grad), *grad_library = malloc(N * sizeof *grad_library);
    fill_uniform(x, N, 0.0, 1.0, rng);
    fill_uniform(logits, N, -9.0, 9.0, rng);
    logits[5] = 60.0f;      /* far into both tails: no overflow */
    logits[6] = -60.0f;
    gsl_rng_free(rng);
    double library;
    ck_assert_int_eq(bce_logits_forward(&library, logits, x, N, REDUCE_SUM), AE_OK);
    ck_assert_int_eq(bce_logits_backward(grad_library, logits, x, N, REDUCE_SUM), AE_OK);
    double fused = vae_bce_logits_sum(grad, logits, x, N);
    ck_assert_msg(relative_error(fused, library) < 1e-5, "fused %.9g, library %.9g", fused, library);
    ck_assert(max_abs_diff(grad, grad_library, N) < 1e-6);
    ck_assert(vae_bce_logits_sum(NULL, logits, x, N) == fused);
    free(x);
    free(logits);
    free(grad);
    free(grad_library);
}
END_TEST

/* ------------------------------------------------------------ estimators */

START_TEST(single_sample_and_analytic_elbo_differ_by_the_kl_noise)
{
    const double z[2] = { 0.41, -1.93 }, mu[2] = { 0.3, -1.2 }, logvar[2] = { 0.1, -0.5 };
    const double log_px = -231.75;
    double analytic = elbo_analytic_kl(log_px, mu, logvar, 2);
    double single = elbo_single_sample(log_px, z, mu, logvar, 2);
    ck_assert_double_eq_tol(analytic, log_px - (0.04758545903 + 0.7732653299), 1e-9);
    /* single − analytic = log p(z) − log q(z|x) + KL, written out by hand */
    double log_p = -log(2.0 * M_PI) - 0.5 * (0.41 * 0.41 + 1.93 * 1.93);
    double log_q = -log(2.0 * M_PI) - 0.5 * (0.1 - 0.5)
                   - 0.5 * ((0.11 * 0.11) / exp(0.1) + (0.73 * 0.73) / exp(-0.5));
    ck_assert_double_eq_tol(single - analytic, log_p - log_q + (0.04758545903 + 0.7732653299), 1e-9);
}
END_TEST

/* ---------------------------------------------------------- batch KL */

typedef struct {
    float *mu, *logvar;
    int batch, latent;
} kl_fixture;

static double kl_objective(void *ctx)
{
    kl_fixture *f = ctx;
    return 1.7 * kl_batch_forward(NULL, f->mu, f->logvar, f->batch, f->latent);
}

START_TEST(batch_kl_matches_per_sample_and_its_gradient)
{
    enum { B = 5, L = 3 };
    gsl_rng *rng = test_rng(21);
    float mu[B * L], logvar[B * L], d_mu[B * L], d_logvar[B * L];
    fill_uniform(mu, B * L, -2.0, 2.0, rng);
    fill_uniform(logvar, B * L, -2.0, 1.5, rng);
    gsl_rng_free(rng);
    double per_sample[B], total = kl_batch_forward(per_sample, mu, logvar, B, L), sum = 0.0;
    for (int b = 0; b < B; b++) {
        double m[L], lv[L];
        for (int j = 0; j < L; j++) m[j] = mu[b * L + j], lv[j] = logvar[b * L + j];
        ck_assert_double_eq_tol(per_sample[b], kl_closed_form(m, lv, L), 1e-12);
        sum += per_sample[b];
    }
    ck_assert_double_eq_tol(total, sum, 1e-12);

    /* backward adds: start from a known value */
    for (int i = 0; i < B * L; i++) d_mu[i] = d_logvar[i] = 0.25f;
    kl_batch_backward(d_mu, d_logvar, mu, logvar, B, L, 1.7f);
    for (int i = 0; i < B * L; i++) {
        ck_assert_float_eq_tol(d_mu[i], 0.25f + 1.7f * mu[i], 1e-6f);
        d_mu[i] -= 0.25f;
        d_logvar[i] -= 0.25f;
    }
    kl_fixture f = { mu, logvar, B, L };
    ck_assert(gradcheck(kl_objective, &f, mu, d_mu, B * L, 1e-3, 100, NULL) < 1e-3);
    ck_assert(gradcheck(kl_objective, &f, logvar, d_logvar, B * L, 1e-3, 100, NULL) < 1e-3);
}
END_TEST

/* -------------------------------------------------------------- Limits */

START_TEST(bce_refuses_targets_outside_unit_interval)
{
    enum { N = 6 };
    const float p[N] = { 0.01f, 0.2f, 0.5f, 0.7f, 0.99f, 0.3f };
    const float t[N] = { -1.0f, -0.6f, 0.0f, 0.4f, 1.0f, -1.0f };   /* images normalised to [−1, 1] */
    double loss;
    ck_assert_int_eq(bce_forward(&loss, p, t, N, REDUCE_SUM), AE_EDOM);
    ck_assert_int_eq(bce_forward(&loss, p, t, N, REDUCE_MEAN), AE_EDOM);
    ck_assert_int_eq(bce_logits_forward(&loss, p, t, N, REDUCE_SUM), AE_EDOM);
    const float above[1] = { 1.5f };
    ck_assert_int_eq(bce_forward(&loss, p, above, 1, REDUCE_SUM), AE_EDOM);
    error_clear();
    /* the naive formula accepts them and, for a near-perfect copy, goes negative */
    const float black = -1.0f, small_p = 0.01f;
    ck_assert_double_eq_tol(naive_bce_sum(&black, &small_p, 1), log(0.01) - 2.0 * log(0.99), 1e-6);
    ck_assert(naive_bce_sum(t, p, N) < 0.0);
}
END_TEST

START_TEST(functions_refuse_bad_arguments)
{
    const double mu[2] = { 0.3, -1.2 }, logvar[2] = { 0.1, -0.5 };
    gsl_rng *rng = test_rng(1);
    mc_estimate mc;
    double kl;
    ck_assert_int_eq(kl_monte_carlo(&mc, mu, logvar, 2, 1, rng), AE_EINVAL);
    ck_assert_int_eq(kl_monte_carlo(&mc, mu, logvar, 0, 100, rng), AE_EINVAL);
    ck_assert_int_eq(mc_estimate_from(&mc, mu, 1), AE_EINVAL);
    ck_assert_int_eq(kl_trace_logdet(&kl, mu, logvar, 0), AE_EINVAL);
    const double underflow[2] = { 0.1, -800.0 };          /* σ² = e^-800 = 0 in double: Σ singular */
    ck_assert_int_eq(kl_trace_logdet(&kl, mu, underflow, 2), AE_EDOM);
    ck_assert(strstr(error_message(), "singular") != NULL);
    error_clear();
    gsl_rng_free(rng);
}
END_TEST

/* ------------------------------------------------------------- Program */

START_TEST(program_reports_any_gaussian)
{
    char dir[512];
    const char *args[] = { "--mu", "0.3,-1.2,2.385", "--logvar", "0.1,-0.5,-1.25", "--mc-samples", "50000",
                           "--elbo-draws", "300", "--latent", "3", NULL };
    test_run_into(dir, sizeof dir, PROGRAM, args);
    results *r = test_results(dir);
    const double mu[3] = { 0.3, -1.2, 2.385 }, logvar[3] = { 0.1, -0.5, -1.25 };
    double closed = kl_closed_form(mu, logvar, 3);
    ck_assert(relative_error(test_result(r, "kl_closed_form"), closed) < 1e-15);
    double mc = test_result(r, "kl_monte_carlo"), se = test_result(r, "kl_monte_carlo_stderr");
    ck_assert(se > 0.0 && se < 0.02);
    ck_assert_msg(fabs(mc - closed) < 4.0 * se, "MC %g ± %g, closed %g", mc, se, closed);
    ck_assert(relative_error(test_result(r, "kl_trace_logdet"), closed) < 1e-12);
    ck_assert(fabs(test_result(r, "kl_numerical_integration") - closed) < 1e-8);
    ck_assert(relative_error(test_result(r, "kl_lecture_notebook"), kl_lecture_notebook(mu, logvar, 3)) < 1e-15);
    ck_assert(test_result(r, "bce_refuses_targets_outside_unit_interval") == 1.0);
    ck_assert(test_result(r, "bce_naive_minus1_1_perfect_copy") < 0.0);
    ck_assert(test_result(r, "recon_abs_difference") < 1e-6);
    ck_assert(test_result(r, "sign_kl_after_50_steps_wrong") > 100.0 * test_result(r, "sign_kl_after_50_steps_right"));
    results_free(r);
}
END_TEST

START_TEST(program_is_deterministic)
{
    char dir_a[512], dir_b[512];
    snprintf(dir_a, sizeof dir_a, "%s/out", test_tmpdir());
    snprintf(dir_b, sizeof dir_b, "%s/out", test_tmpdir());
    const char *args_a[] = { "--mc-samples", "20000", "--elbo-draws", "300", "--seed", "7", "--out", dir_a, NULL };
    const char *args_b[] = { "--mc-samples", "20000", "--elbo-draws", "300", "--seed", "7", "--out", dir_b, NULL };
    ck_assert_int_eq(run_program(PROGRAM, args_a, NULL), 0);
    ck_assert_int_eq(run_program(PROGRAM, args_b, NULL), 0);
    results *a = test_results(dir_a), *b = test_results(dir_b);
    const char *keys[] = { "kl_monte_carlo", "kl_monte_carlo_stderr", "estimators_untrained_single_sample_mean",
                           "recon_bernoulli_log_likelihood" };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        ck_assert_str_eq(results_get(a, keys[k]), results_get(b, keys[k]));
    results_free(a);
    results_free(b);
}
END_TEST

START_TEST(program_trains_on_the_sample)
{
    char dir[512];
    const char *args[] = { "--train", "--model", "dense", "--latent", "2", "--epochs", "2", "--no-sweep",
                           "--elbo-draws", "300", "--mc-samples", "1000", "--data", sample_data_dir(),
                           "--no-plot", "--quiet", NULL };
    test_run_into(dir, sizeof dir, PROGRAM, args);
    results *r = test_results(dir);
    double elbo = test_result(r, "dense_test_elbo");
    ck_assert_double_eq_tol(elbo, test_result(r, "dense_test_recon") - test_result(r, "dense_test_kl"), 1e-9);
    ck_assert(elbo < 0.0 && elbo > -544.0);          /* better than p = ½ everywhere: 784 ln 2 = 543.4 */
    ck_assert(test_result(r, "dense_test_kl") > 0.0);
    ck_assert(test_result(r, "data_is_sample") == 1.0);
    /* judged against independent pixels with the mean training image as probabilities */
    const double baseline = test_result(r, "mean_image_log_likelihood");
    ck_assert(baseline < -100.0 && baseline > -544.0);
    ck_assert(test_result(r, "dense_learned") == (elbo > baseline ? 1.0 : 0.0));
    if (elbo <= baseline) ck_assert_ptr_nonnull(strstr(results_get(r, "dense_not_learned"), "below the"));
    else ck_assert_ptr_null(results_get(r, "dense_not_learned"));
    results_free(r);
    const char *figures[] = { "dense_elbo_curves", "dense_latent_means", "dense_latent_std", "dense_latent_grid",
                              "dense_prior_samples", "dense_pair_average", "dense_morph" };
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
        char dat[128], gp[128];
        snprintf(dat, sizeof dat, "%s.dat", figures[i]);
        snprintf(gp, sizeof gp, "%s.gp", figures[i]);
        ck_assert_msg(test_file_in(dir, dat) && test_file_in(dir, gp), "%s.dat or .gp missing", figures[i]);
        snprintf(dat, sizeof dat, "%s.png", figures[i]);
        ck_assert(!test_file_in(dir, dat));               /* --no-plot */
    }
}
END_TEST

/* Both models on the sample, a short β sweep: the demos' numbers hold together, and a rerun with
 * --from-checkpoint gives every number again without training; settings or files that do not match
 * are refused, naming what differs. */
static const char *const both_models[] = { "--train", "--epochs", "2", "--conv-epochs", "1", "--sweep-epochs", "1",
                                           "--sweep-betas", "0.5,2", "--elbo-draws", "100", "--mc-samples", "1000",
                                           "--no-plot", "--quiet", NULL };

/* Runs vae-elbo with both_models, the extra arguments and --out dir; its exit status, the log in dir.log. */
static int run_both(const char *dir, const char *const *extra)
{
    const char *args[40];
    int n = 0;
    for (const char *const *a = both_models; *a; a++) args[n++] = *a;
    for (const char *const *a = extra; a && *a; a++) args[n++] = *a;
    args[n++] = "--data";
    args[n++] = sample_data_dir();
    args[n++] = "--out";
    args[n++] = dir;
    args[n] = NULL;
    char log[600];
    snprintf(log, sizeof log, "%s.log", dir);
    return run_program(PROGRAM, args, log);
}

START_TEST(program_demos_and_checkpoints)
{
    char dir[512], log[600];
    snprintf(dir, sizeof dir, "%s/out", test_tmpdir());
    snprintf(log, sizeof log, "%s.log", dir);
    ck_assert_int_eq(run_both(dir, NULL), 0);
    results *r = test_results(dir);
    /* the work of an image: 784·400 + 400·(2·20) in the encoder, 20·400 + 400·784 in the decoder */
    ck_assert_double_eq(test_result(r, "dense_forward_macs"), 651200.0);
    ck_assert(test_result(r, "conv_forward_macs") > 1e6);
    /* the latent histograms: each dimension's KL adds up to the model's test KL (the same formula,
     * summed per dimension instead of per image), and a dimension is active when Var μ > 0.01 */
    for (int m = 0; m < 2; m++) {
        const char *prefix = m ? "conv" : "dense";
        const int latent = m ? 2 : 20;
        double sum = 0.0;
        int active = 0;
        char key[64];
        for (int j = 1; j <= latent; j++) {
            snprintf(key, sizeof key, "%s_kl_dim_%d", prefix, j);
            sum += test_result(r, key);
            ck_assert(test_result(r, key) >= 0.0);
            snprintf(key, sizeof key, "%s_var_mu_dim_%d", prefix, j);
            active += test_result(r, key) > 0.01;
        }
        snprintf(key, sizeof key, "%s_test_kl", prefix);
        ck_assert_msg(relative_error(sum, test_result(r, key)) < 1e-4, "%s: Σ_j KL_j = %g, test KL %g", prefix, sum,
                      test_result(r, key));
        snprintf(key, sizeof key, "%s_active_dims", prefix);
        ck_assert_int_eq((int)test_result(r, key), active);
        snprintf(key, sizeof key, "%s_test_mse_from_mu", prefix);
        ck_assert(test_result(r, key) > 0.0 && test_result(r, key) < 0.25);
    }
    /* latent arithmetic: shares of images, and the vector's length */
    const char *shares[] = { "arithmetic_sneaker_to_boot_share_before", "arithmetic_sneaker_to_boot_share_after",
                             "arithmetic_tshirt_to_pullover_share_before", "arithmetic_tshirt_to_pullover_share_after" };
    for (int k = 0; k < 4; k++) ck_assert(test_result(r, shares[k]) >= 0.0 && test_result(r, shares[k]) <= 1.0);
    ck_assert(test_result(r, "arithmetic_sneaker_to_boot_norm") > 0.0);
    ck_assert(test_result(r, "from_checkpoint") == 0.0);
    const char *figures[] = { "vae_reconstructions", "latent_histograms", "conv_latent_histograms", "latent_arithmetic" };
    for (int k = 0; k < 4; k++) {
        char dat[64];
        snprintf(dat, sizeof dat, "%s.dat", figures[k]);
        ck_assert_msg(test_file_in(dir, dat), "%s missing", dat);
    }
    const char *files[] = { "dense_encoder.ckpt", "dense_decoder.ckpt", "dense_history.tsv", "conv_encoder.ckpt",
                            "conv_decoder.ckpt", "conv_history.tsv" };
    for (int k = 0; k < 6; k++) ck_assert_msg(test_file_in(dir, files[k]), "%s missing", files[k]);

    /* again from the checkpoints: the same numbers, to the last digit, the timings included */
    const char *resume[] = { "--from-checkpoint", NULL };
    ck_assert_int_eq(run_both(dir, resume), 0);
    test_file_says(log, "read back (--from-checkpoint) from conv_encoder.ckpt");
    results *again = test_results(dir);
    ck_assert(test_result(again, "from_checkpoint") == 1.0);
    const char *keys[] = { "dense_test_elbo", "dense_train_elbo", "dense_seconds_per_epoch", "conv_test_elbo",
                           "conv_test_kl", "conv_seconds_total", "conv_mean_test_sigma", "dense_kl_dim_7",
                           "dense_test_mse_from_mu", "arithmetic_sneaker_to_boot_share_after",
                           "estimators_trained_dense_spread_ratio" };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        ck_assert_msg(strcmp(results_get(r, keys[k]), results_get(again, keys[k])) == 0, "%s: %s, then %s", keys[k],
                      results_get(r, keys[k]), results_get(again, keys[k]));
    if (cpu_has_avx512())   /* the elastic steps' share, kept in the history (no elastic steps on the portable path) */
        ck_assert_str_eq(results_get(r, "dense_steps_on_threads"), results_get(again, "dense_steps_on_threads"));
    results_free(again);
    /* the dense VAE trained on two threads (by default) gives the same bits on one with the AVX-512
     * kernels: its checkpoints serve another --threads, and every number comes out the same; on the
     * portable path (CBLAS) its last bits depend on the threads, and another --threads is refused */
    const char *one_thread[] = { "--from-checkpoint", "--threads", "1", NULL };
    if (cpu_has_avx512()) {
        ck_assert_int_eq(run_both(dir, one_thread), 0);
        again = test_results(dir);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            ck_assert_msg(strcmp(results_get(r, keys[k]), results_get(again, keys[k])) == 0,
                          "--threads 1, %s: %s, then %s", keys[k], results_get(r, keys[k]), results_get(again, keys[k]));
        results_free(again);
    } else {
        ck_assert_int_eq(run_both(dir, one_thread), 1);
        test_file_says(log, "was trained with threads 2, and this run asks for 1 (--threads or --conv-threads)");
    }
    results_free(r);
    /* the conv VAE's last bits depend on its threads: another --conv-threads is refused */
    const char *conv_one_thread[] = { "--from-checkpoint", "--conv-threads", "1", NULL };
    ck_assert_int_eq(run_both(dir, conv_one_thread), 1);
    test_file_says(log, "was trained with threads 2, and this run asks for 1 (--threads or --conv-threads)");

    /* another β than the checkpoints were trained with */
    const char *other_beta[] = { "--from-checkpoint", "--beta", "2", NULL };
    ck_assert_int_eq(run_both(dir, other_beta), 1);
    test_file_says(log, "was trained with beta 1, and this run asks for 2 (--beta)");
    /* another number of epochs of the conv model */
    const char *other_epochs[] = { "--from-checkpoint", "--conv-epochs", "3", NULL };
    ck_assert_int_eq(run_both(dir, other_epochs), 1);
    test_file_says(log, "trained with epochs 1, and this run asks for 3");
    /* a history cut short */
    char path[600];
    snprintf(path, sizeof path, "%s/conv_history.tsv", dir);
    char *text = test_read_text(path);
    ck_assert_ptr_nonnull(text);
    char *cut = strstr(text, "\ntest\t1\t");
    ck_assert_ptr_nonnull(cut);
    cut[1] = '\0';
    test_write_text(path, text);
    ck_assert_int_eq(run_both(dir, resume), 1);
    test_file_says(log, "it is cut short");
    /* a number that is not one */
    *cut = '\0';
    strcat(text, "\ntest\t1\t0\t-1x5\t1\t1\t0\n");
    test_write_text(path, text);
    ck_assert_int_eq(run_both(dir, resume), 1);
    test_file_says(log, "expected a number, found \"-1x5");
    /* a line with no place in the curves: a segment past the last */
    *cut = '\0';
    strcat(text, "\nsegment\t1\t99\t-1\t-1\t0\t0\n");
    test_write_text(path, text);
    ck_assert_int_eq(run_both(dir, resume), 1);
    test_file_says(log, "no place for \"segment\" of epoch 1, segment 99");
    /* a setting's line missing, and the number of segments missing */
    char *line = strstr(text, "# beta ");
    ck_assert_ptr_nonnull(line);
    line[2] = 'x';                                   /* "# xeta ...": no beta line any more */
    test_write_text(path, text);
    ck_assert_int_eq(run_both(dir, resume), 1);
    test_file_says(log, "has no \"# beta\" line");
    line[2] = 'b';
    line = strstr(text, "# segments ");
    ck_assert_ptr_nonnull(line);
    line[2] = 'x';
    test_write_text(path, text);
    ck_assert_int_eq(run_both(dir, resume), 1);
    test_file_says(log, "\"# segments (missing)\" is not a number of segments");
    free(text);
    /* a checkpoint that is not the one the history names */
    char dense_enc[600];
    snprintf(dense_enc, sizeof dense_enc, "%s/dense_encoder.ckpt", dir);
    snprintf(path, sizeof path, "%s/dense_history.tsv", dir);
    char *dense_history = test_read_text(path);
    ck_assert_ptr_nonnull(dense_history);
    char *crc = strstr(dense_history, "# encoder_crc32 ");
    ck_assert_ptr_nonnull(crc);
    crc[16] = crc[16] == '0' ? '1' : '0';
    test_write_text(path, dense_history);
    free(dense_history);
    ck_assert_int_eq(run_both(dir, resume), 1);
    test_file_says(log, "it belongs to other checkpoints (encoder_crc32");
    /* a missing checkpoint */
    ck_assert_int_eq(remove(dense_enc), 0);
    ck_assert_int_eq(run_both(dir, resume), 1);
    test_file_says(log, "dense_encoder.ckpt is missing: run vae-elbo --train without it first");
}
END_TEST

/* ------------------------------------------------------------ CIFAR-10 */

/* Writes a CIFAR-10 folder in the real binary format into dir: `per_batch` records in each of the
 * five training batches, `test` in the test batch; image k of class c is a smooth colour gradient
 * whose hue depends on c (something a VAE can learn in a few steps). bad_label >= 0 puts that label
 * into the test batch's first record. */
static void write_cifar10(const char *dir, int per_batch, int test, int bad_label)
{
    static const char *const names[6] = { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                          "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin" };
    unsigned char record[3073];
    for (int f = 0; f < 6; f++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        FILE *fp = fopen(path, "wb");
        ck_assert_ptr_nonnull(fp);
        int n = f < 5 ? per_batch : test;
        for (int k = 0; k < n; k++) {
            int label = (k + f) % 10;
            record[0] = (unsigned char)(f == 5 && k == 0 && bad_label >= 0 ? bad_label : label);
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++)
                        record[1 + ch * 1024 + y * 32 + x] = (unsigned char)((25 * label * (ch + 1) + 4 * (ch == 0 ? y : x) + k) % 256);
            ck_assert_int_eq((int)fwrite(record, 1, sizeof record, fp), (int)sizeof record);
        }
        fclose(fp);
    }
}

START_TEST(program_trains_on_cifar10_files)
{
    char data[512], dir[512], log[600];
    snprintf(data, sizeof data, "%s", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/out", test_tmpdir());
    snprintf(log, sizeof log, "%s.log", dir);
    write_cifar10(data, 40, 30, -1);
    const char *args[] = { "--train", "--model", "dense", "--no-sweep", "--epochs", "1", "--cifar10-epochs", "2",
                           "--data-cifar10", data, "--data", sample_data_dir(), "--elbo-draws", "100",
                           "--mc-samples", "1000", "--quiet", "--out", dir, NULL };
    ck_assert_int_eq(run_program(PROGRAM, args, log), 0);
    results *r = test_results(dir);
    ck_assert(test_result(r, "cifar10_trained") == 1.0);
    ck_assert_ptr_nonnull(strstr(results_get(r, "cifar10_status"), "trained on 200 training and 30 test images"));
    /* the lecture's convolutional VAE with 3 planes in and out and L = 64: 729,347 parameters */
    ck_assert(test_result(r, "cifar10_parameters") == 729347.0);
    ck_assert(test_result(r, "cifar10_latent") == 64.0);
    double elbo = test_result(r, "cifar10_test_elbo");
    ck_assert_double_eq_tol(elbo, test_result(r, "cifar10_test_recon") - test_result(r, "cifar10_test_kl"), 1e-9);
    ck_assert(elbo < 0.0 && elbo > -3072.0 * 0.6932 * 1.1);  /* about p = ½ for each of the 3072 values, after 2 epochs */
    const double baseline = test_result(r, "cifar10_mean_image_log_likelihood");
    ck_assert(test_result(r, "cifar10_learned") == (elbo > baseline ? 1.0 : 0.0));
    ck_assert(test_result(r, "cifar10_test_mse_from_mu") > 0.0 && test_result(r, "cifar10_test_mse_from_mu") < 0.25);
    ck_assert(isfinite(test_result(r, "cifar10_mean_image_log_likelihood")));
    const char *figures[] = { "cifar10_elbo_curves.dat", "cifar10_reconstructions.dat", "cifar10_prior_samples.dat",
                              "cifar10_encoder.ckpt", "cifar10_history.tsv" };
    for (int k = 0; k < 5; k++) ck_assert_msg(test_file_in(dir, figures[k]), "%s missing", figures[k]);
    char gp[600];
    snprintf(gp, sizeof gp, "%s/cifar10_reconstructions.gp", dir);
    test_file_says(gp, "with rgbimage");
    test_file_says(gp, "'airplane'");

    /* read back from its checkpoint: the same numbers */
    const char *again_args[] = { "--train", "--model", "dense", "--no-sweep", "--epochs", "1", "--cifar10-epochs", "2",
                                 "--data-cifar10", data, "--data", sample_data_dir(), "--elbo-draws", "100",
                                 "--mc-samples", "1000", "--quiet", "--from-checkpoint", "--out", dir, NULL };
    ck_assert_int_eq(run_program(PROGRAM, again_args, log), 0);
    results *again = test_results(dir);
    ck_assert_str_eq(results_get(again, "cifar10_test_elbo"), results_get(r, "cifar10_test_elbo"));
    ck_assert_str_eq(results_get(again, "cifar10_test_mse_from_mu"), results_get(r, "cifar10_test_mse_from_mu"));
    results_free(again);
    results_free(r);

    /* a label out of range stops the run before anything is written, naming the file and the value */
    write_cifar10(data, 40, 30, 12);
    snprintf(dir, sizeof dir, "%s/out", test_tmpdir());
    args[sizeof args / sizeof args[0] - 2] = dir;
    ck_assert_int_eq(run_program(PROGRAM, args, log), 1);
    test_file_says(log, "test_batch.bin");
    test_file_says(log, "12");
    ck_assert(!test_file_in(dir, "results.tsv"));
}
END_TEST

START_TEST(program_skips_cifar10_without_its_data)
{
    char dir[512], log[600], missing[512];
    snprintf(dir, sizeof dir, "%s/out", test_tmpdir());
    snprintf(log, sizeof log, "%s.log", dir);
    const char *args[] = { "--train", "--model", "dense", "--no-sweep", "--epochs", "1", "--data", sample_data_dir(),
                           "--elbo-draws", "100", "--mc-samples", "1000", "--quiet", "--no-plot", "--out", dir, NULL };
    const char *env[] = { "CIFAR10_DIR=", NULL };
    const char *before[] = { AE_BINDIR "/" PROGRAM, NULL };
    ck_assert_int_eq(run_command(before[0], before, args, env, log), 0);
    results *r = test_results(dir);
    ck_assert(test_result(r, "cifar10_trained") == 0.0);
    ck_assert_ptr_nonnull(strstr(results_get(r, "cifar10_status"), "skipped: no CIFAR-10 data was found"));
    results_free(r);
    test_file_says(log, "--data-cifar10 DIR or CIFAR10_DIR");
    /* a folder named on purpose must be there: nothing is written */
    snprintf(missing, sizeof missing, "%s/no-such-folder", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/out", test_tmpdir());
    const char *named[] = { "--train", "--data-cifar10", missing, "--data", sample_data_dir(), "--out", dir, NULL };
    ck_assert_int_eq(run_program(PROGRAM, named, log), 1);
    test_file_says(log, "no-such-folder");
    ck_assert(!test_file_in(dir, "results.tsv"));
}
END_TEST

/* Each row: arguments that must be refused with status 2 and no file written (NULL-terminated). */
static const char *const bad_arguments[][5] = {
    { "--mu", "0.3,-1.2,0.5", "--logvar", "0.1,-0.5", NULL },      /* lengths differ */
    { "--mu", "0.3", "--logvar", "0.1,-0.5", NULL },
    { "--mu", "0.3,-1.2,0.5", NULL },                               /* against the default log σ² */
    { "--mu", "0.3,abc", "--logvar", "0.1,-0.5", NULL },           /* not a number */
    { "--mu", "0.3,-1.2", "--logvar", "0.1,x", NULL },
    { "--mu", "", "--logvar", "0.1,-0.5", NULL },                  /* empty */
    { "--mu", "0.3,-1.2", "--logvar", "", NULL },
    { "--mu", "0.3,,1", "--logvar", "0.1,-0.5,0", NULL },          /* an empty item */
    { "--mu", "0.3,inf", "--logvar", "0.1,-0.5", NULL },           /* not finite */
    { "--mu", "0.3,-1.2", "--logvar", "nan,-0.5", NULL },
    { "--mu", "0.3,-1.2", "--logvar", "0.1,1e400", NULL },
    { "--mu", "0.3,-1.2", "--logvar", "0.1,900", NULL },           /* σ² = e^900 overflows */
    { "--mu", "1e6,-1.2", "--logvar", "0.1,-0.5", NULL },          /* beyond |μ| ≤ 1000 */
    { "--model", "gan", NULL },
    { "--sweep-betas", "0.5,0", NULL },
    { "--latent", "0", NULL },
    { "--threads", "0", NULL },
    { "--conv-threads", "0", NULL },
    { "--cifar10-epochs", "0", NULL },
};

START_TEST(program_refuses_bad_vectors)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/out", test_tmpdir());
    const char *args[8];
    int n = 0;
    for (const char *const *a = bad_arguments[_i]; *a; a++) args[n++] = *a;
    args[n++] = "--out";
    args[n++] = dir;
    args[n] = NULL;
    ck_assert_msg(run_program(PROGRAM, args, NULL) == 2, "row %d (%s '%s'): exit status not 2", _i, args[0], args[1]);
    ck_assert_msg(!test_file_in(dir, "results.tsv"), "row %d left results.tsv behind", _i);
}
END_TEST

START_TEST(program_needs_data_for_training)
{
    char dir[512], missing[512];
    snprintf(dir, sizeof dir, "%s/out", test_tmpdir());
    snprintf(missing, sizeof missing, "%s/no-such-folder", test_tmpdir());
    const char *args[] = { "--train", "--data", missing, "--mc-samples", "100", "--elbo-draws", "10", "--out", dir, NULL };
    int status = run_program(PROGRAM, args, NULL);
    ck_assert_int_ne(status, 0);
    ck_assert_int_ne(status, -1);                 /* a clean exit, not a crash */
    ck_assert(!test_file_in(dir, "results.tsv"));
}
END_TEST

Suite *vae_elbo_suite(void)
{
    Suite *s = suite_create("vae_elbo");

    TCase *core = test_case(s, "Core", 0);
    tcase_add_loop_test(core, closed_form_matches_hand_computation, 0, (int)(sizeof hand_cases / sizeof hand_cases[0]));
    tcase_add_test(core, trace_logdet_form_agrees_with_closed_form);
    tcase_add_loop_test(core, numerical_integration_agrees_with_closed_form, 0,
                        (int)(sizeof integral_cases / sizeof integral_cases[0]));
    test_add(core, monte_carlo_within_its_error, log_densities_match_gsl, lecture_formula_differs_from_the_kl,
             reconstruction_is_minus_summed_bce, fused_float_bce_matches_library,
             single_sample_and_analytic_elbo_differ_by_the_kl_noise);

    test_add(test_case(s, "Gradient", 0), batch_kl_matches_per_sample_and_its_gradient);

    test_add(test_case(s, "Limits", 0), bce_refuses_targets_outside_unit_interval, functions_refuse_bad_arguments);

    TCase *program = test_case(s, "Program", 60);
    test_add(program, program_reports_any_gaussian, program_is_deterministic, program_trains_on_the_sample);
    /* seven runs of both models, slow in the sanitizer build */
    test_add(test_case(s, "Resume", 300), program_demos_and_checkpoints);
    test_add(test_case(s, "CIFAR-10", 300), program_trains_on_cifar10_files, program_skips_cifar10_without_its_data);
    tcase_add_loop_test(program, program_refuses_bad_vectors, 0, (int)(sizeof bad_arguments / sizeof bad_arguments[0]));
    tcase_add_test(program, program_needs_data_for_training);
    return s;
}
