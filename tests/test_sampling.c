/* test_sampling.c: the reparameterisation layer z = μ + exp(½ log σ²) ⊙ ε (common/sampling.c).
 *
 * Core: forward and backward against a plain double-precision reference, backward
 * adding into what is there, the noise generator's moments and determinism.
 * Gradient: the layer's backward against central differences with ε held fixed.
 * Limits: sampling_check_logvar refuses NaN, infinities and out-of-range values. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "error.h"
#include "sampling.h"
#include "testutil.h"

enum { B = 3, L = 4, N = B * L };

static const float mu_values[N] = { 0.25f, -1.75f, 2.385f, 0.0f, -0.431f, 1.207f,
                                    -2.96f, 0.773f, 0.058f, -0.612f, 1.844f, -1.093f };
static const float logvar_values[N] = { -0.8f, 0.3f, 1.1f, 0.0f, 1.3862944f, -1.57f,
                                        0.62f, -2.31f, 0.915f, -0.07f, 1.48f, -0.333f };
static const float eps_values[N] = { 1.3f, -0.6f, 0.45f, -1.917f, 0.5f, 2.12f,
                                     -0.283f, 0.764f, -1.371f, 0.027f, 1.655f, -0.848f };

START_TEST(forward_matches_reference)
{
    float z[N];
    sampling_forward(z, mu_values, logvar_values, eps_values, B, L);
    for (int i = 0; i < N; i++) {
        double expected = mu_values[i] + exp(0.5 * logvar_values[i]) * eps_values[i];
        ck_assert_msg(fabs(z[i] - expected) <= 1e-6 * fmax(1.0, fabs(expected)),
                      "z[%d] = %.9g, expected %.9g", i, z[i], expected);
    }
    /* by hand: log σ² = 0 gives σ = 1, so z = 0 + 1·(−1.917); log σ² = 2 ln 2 gives σ = 2, z = −0.431 + 2·0.5 */
    ck_assert_double_eq_tol(z[3], -1.917, 1e-6);
    ck_assert_double_eq_tol(z[4], 0.569, 1e-6);
}
END_TEST

START_TEST(backward_adds_into_gradients)
{
    float d_z[N], d_mu[N], d_logvar[N];
    for (int i = 0; i < N; i++) {
        d_z[i] = 0.37f * (float)(i + 1) - 2.1f;
        d_mu[i] = 0.5f;
        d_logvar[i] = -0.25f;
    }
    sampling_backward(d_mu, d_logvar, d_z, logvar_values, eps_values, B, L);
    for (int i = 0; i < N; i++) {
        double sigma = exp(0.5 * logvar_values[i]);
        double expected_mu = 0.5 + d_z[i];
        double expected_logvar = -0.25 + d_z[i] * 0.5 * sigma * eps_values[i];
        ck_assert_msg(fabs(d_mu[i] - expected_mu) <= 1e-6, "d_mu[%d] = %.9g, expected %.9g",
                      i, d_mu[i], expected_mu);
        ck_assert_msg(fabs(d_logvar[i] - expected_logvar) <= 1e-5,
                      "d_logvar[%d] = %.9g, expected %.9g", i, d_logvar[i], expected_logvar);
    }
}
END_TEST

START_TEST(backward_skips_null_gradients)
{
    float d_z[N], d_mu[N], d_logvar[N];
    for (int i = 0; i < N; i++) {
        d_z[i] = 1.5f - 0.21f * (float)i;
        d_mu[i] = 0.0f;
        d_logvar[i] = 0.0f;
    }
    sampling_backward(NULL, d_logvar, d_z, logvar_values, eps_values, B, L);
    sampling_backward(d_mu, NULL, d_z, logvar_values, eps_values, B, L);
    for (int i = 0; i < N; i++) {
        ck_assert_double_eq_tol(d_mu[i], d_z[i], 1e-7);
        double expected = d_z[i] * 0.5 * exp(0.5 * logvar_values[i]) * eps_values[i];
        ck_assert_double_eq_tol(d_logvar[i], expected, 1e-5);
    }
}
END_TEST

START_TEST(noise_has_standard_normal_moments)
{
    enum { COUNT = 50000 };
    static float eps[COUNT];
    gsl_rng *rng = test_rng(2385);
    sampling_draw_eps(eps, COUNT, rng);
    gsl_rng_free(rng);
    double sum = 0.0, sum_sq = 0.0, sum_4 = 0.0;
    for (int i = 0; i < COUNT; i++) {
        sum += eps[i];
        sum_sq += (double)eps[i] * eps[i];
        sum_4 += pow(eps[i], 4);
    }
    double mean = sum / COUNT, second = sum_sq / COUNT, fourth = sum_4 / COUNT;
    /* five standard errors: sd(mean) = 1/√n, sd(E ε²) = √(2/n), sd(E ε⁴) = √(96/n) */
    ck_assert_msg(fabs(mean) < 5.0 / sqrt(COUNT), "mean of ε = %g", mean);
    ck_assert_msg(fabs(second - 1.0) < 5.0 * sqrt(2.0 / COUNT), "E[ε²] = %g, expected 1", second);
    ck_assert_msg(fabs(fourth - 3.0) < 5.0 * sqrt(96.0 / COUNT), "E[ε⁴] = %g, expected 3", fourth);
}
END_TEST

START_TEST(noise_is_deterministic_per_seed)
{
    float first[64], again[64], other[64];
    gsl_rng *rng = test_rng(77);
    sampling_draw_eps(first, 64, rng);
    gsl_rng_set(rng, 77);
    sampling_draw_eps(again, 64, rng);
    gsl_rng_set(rng, 78);
    sampling_draw_eps(other, 64, rng);
    gsl_rng_free(rng);
    ck_assert_int_eq(memcmp(first, again, sizeof first), 0);
    ck_assert_double_gt(max_abs_diff(first, other, 64), 0.1);
}
END_TEST

/* ------------------------------------------------------------- gradient */

/* loss = Σ w ⊙ sin(z), z = sampling_forward(μ, log σ², ε) with ε fixed; computed in double. */
typedef struct {
    float mu[N], logvar[N], eps[N], weight[N];
} layer_problem;

static double layer_loss(void *ctx)
{
    layer_problem *p = ctx;
    float z[N];
    sampling_forward(z, p->mu, p->logvar, p->eps, B, L);
    double loss = 0.0;
    for (int i = 0; i < N; i++) loss += p->weight[i] * sin((double)z[i]);
    return loss;
}

START_TEST(gradient_matches_finite_differences)
{
    layer_problem p;
    gsl_rng *rng = test_rng(4242);
    fill_uniform(p.mu, N, -1.5, 1.5, rng);
    fill_uniform(p.logvar, N, -1.8, 1.6, rng);
    sampling_draw_eps(p.eps, N, rng);
    fill_uniform(p.weight, N, -2.0, 2.0, rng);
    gsl_rng_free(rng);

    float z[N], d_z[N], d_mu[N] = { 0 }, d_logvar[N] = { 0 };
    sampling_forward(z, p.mu, p.logvar, p.eps, B, L);
    for (int i = 0; i < N; i++) d_z[i] = p.weight[i] * cosf(z[i]);    /* ∂loss/∂z */
    sampling_backward(d_mu, d_logvar, d_z, p.logvar, p.eps, B, L);

    size_t worst = 0;
    double err_mu = gradcheck(layer_loss, &p, p.mu, d_mu, N, 1e-2, N, &worst);
    ck_assert_msg(err_mu < 1e-3, "d_mu: relative error %g at index %zu", err_mu, worst);
    double err_logvar = gradcheck(layer_loss, &p, p.logvar, d_logvar, N, 1e-2, N, &worst);
    ck_assert_msg(err_logvar < 1e-3, "d_logvar: relative error %g at index %zu", err_logvar, worst);
}
END_TEST

/* The backward must not depend on ε being redrawn: the same ε in, the same gradient out,
 * and ∂z/∂(log σ²) = (z − μ)/2 for every element. */
START_TEST(gradient_is_half_the_noise_term)
{
    float z[N], ones[N], d_logvar[N] = { 0 };
    for (int i = 0; i < N; i++) ones[i] = 1.0f;
    sampling_forward(z, mu_values, logvar_values, eps_values, B, L);
    sampling_backward(NULL, d_logvar, ones, logvar_values, eps_values, B, L);
    for (int i = 0; i < N; i++)
        ck_assert_double_eq_tol(d_logvar[i], 0.5 * ((double)z[i] - mu_values[i]), 2e-6);
}
END_TEST

/* ---------------------------------------------------------------- limits */

START_TEST(check_logvar_refuses_bad_values)
{
    float fine[3] = { -3.2f, 0.0f, 7.9f };
    ck_assert_int_eq(sampling_check_logvar(fine, 3, 20.0), AE_OK);

    float with_nan[3] = { 0.4f, NAN, 1.0f };
    ck_assert_int_eq(sampling_check_logvar(with_nan, 3, 20.0), AE_EDOM);
    ck_assert_ptr_nonnull(strstr(error_message(), "index 1"));
    ck_assert_ptr_nonnull(strstr(error_message(), "not a finite"));

    float with_inf[2] = { -INFINITY, 1.0f };
    ck_assert_int_eq(sampling_check_logvar(with_inf, 2, 20.0), AE_EDOM);

    float too_large[3] = { 0.1f, -0.2f, 20.5f };
    ck_assert_int_eq(sampling_check_logvar(too_large, 3, 20.0), AE_EDOM);
    ck_assert_ptr_nonnull(strstr(error_message(), "index 2"));
    ck_assert_int_eq(sampling_check_logvar(too_large, 3, 21.0), AE_OK);
}
END_TEST

Suite *sampling_suite(void)
{
    Suite *s = suite_create("sampling");

    test_add(test_case(s, "Core", 0), forward_matches_reference, backward_adds_into_gradients,
             backward_skips_null_gradients, noise_has_standard_normal_moments, noise_is_deterministic_per_seed);

    test_add(test_case(s, "Gradient", 0), gradient_matches_finite_differences, gradient_is_half_the_noise_term);

    test_add(test_case(s, "Limits", 0), check_logvar_refuses_bad_values);
    return s;
}
