/* test_optim.c: Adam and SGD steps against the formulas, evaluated in double in the test. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "optim.h"
#include "testutil.h"

enum { N = 5 };
static const float start[N] = {0.2385f, -1.125f, 0.0f, 3.75f, -0.0625f};
static const float grad1[N] = {0.4375f, -2.5f, 1e-3f, -0.03125f, 0.0f};
static const float grad2[N] = {-0.8125f, -1.75f, 0.5f, 0.0625f, 0.3f};

/* A plain double-precision Adam, written from the formula in optim.h. */
typedef struct { double p[N], m[N], v[N]; long t; } adam_reference;

static void reference_adam_step(adam_reference *r, const float *g, double lr)
{
    const double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7;
    r->t++;
    double alpha = lr * sqrt(1.0 - pow(beta2, (double)r->t)) / (1.0 - pow(beta1, (double)r->t));
    for (int i = 0; i < N; i++) {
        r->m[i] = beta1 * r->m[i] + (1.0 - beta1) * g[i];
        r->v[i] = beta2 * r->v[i] + (1.0 - beta2) * (double)g[i] * g[i];
        r->p[i] -= alpha * r->m[i] / (sqrt(r->v[i]) + epsilon);
    }
}

/* ------------------------------------------------------------------ Core */

/* Step 1: m = 0.1 g, v = 0.001 g², α = lr·√0.001/0.1, so
 * p1 = p0 − lr·√0.001·g/(√0.001·|g| + 1e-7) ≈ p0 − lr·sign(g): every weight moves by about lr. */
START_TEST(test_adam_first_step)
{
    const double lr = 2.5e-3;
    float params[N];
    for (int i = 0; i < N; i++) params[i] = start[i];
    optimizer *opt = adam_alloc(N, lr);
    ck_assert_ptr_nonnull(opt);
    ck_assert_double_eq(opt->beta1, 0.9);
    ck_assert_double_eq(opt->beta2, 0.999);
    ck_assert_double_eq(opt->epsilon, 1e-7);
    adam_step(opt, params, grad1);
    ck_assert_int_eq(opt->step, 1);
    for (int i = 0; i < N; i++) {
        double g = grad1[i];
        double expected = start[i] - lr * sqrt(0.001) * g / (sqrt(0.001) * fabs(g) + 1e-7);
        ck_assert_double_eq_tol(params[i], expected, 2e-7);
        if (fabs(g) > 1e-2) /* far from the ε regime: a step of exactly lr against the gradient's sign */
            ck_assert_double_eq_tol(params[i] - start[i], -lr * (g > 0 ? 1 : -1), 1e-6);
    }
    ck_assert_float_eq(params[4], start[4]);   /* a zero gradient moves nothing */
    optimizer_free(opt);
}
END_TEST

START_TEST(test_adam_two_steps)
{
    const double lr = 1e-3;
    adam_reference ref = {0};
    float params[N];
    for (int i = 0; i < N; i++) params[i] = start[i], ref.p[i] = start[i];
    optimizer *opt = adam_alloc(N, lr);
    adam_step(opt, params, grad1);
    reference_adam_step(&ref, grad1, lr);
    optimizer_step(opt, params, grad2);   /* the dispatcher must pick Adam */
    reference_adam_step(&ref, grad2, lr);
    for (int i = 0; i < N; i++) {
        ck_assert_double_eq_tol(params[i], ref.p[i], 2e-7);
        ck_assert_double_eq_tol(opt->m[i], ref.m[i], 1e-7);
        ck_assert_double_eq_tol(opt->v[i], ref.v[i], 1e-9);
    }
    /* the two moments share one block */
    ck_assert_ptr_eq(opt->v, opt->m + N);

    /* after a reset the next step is a first step again */
    optimizer_reset(opt);
    ck_assert_int_eq(opt->step, 0);
    for (int i = 0; i < N; i++) {
        ck_assert_float_eq(opt->m[i], 0.0f);
        ck_assert_float_eq(opt->v[i], 0.0f);
    }
    for (int i = 0; i < N; i++) params[i] = start[i];
    adam_step(opt, params, grad2);
    ck_assert_double_eq_tol(params[0] - start[0], lr, 1e-6);   /* grad2[0] < 0: moves up by lr */
    optimizer_free(opt);
}
END_TEST

/* Many parameters (the fast path takes four at a time, the rest one by one) give exactly the
 * floats of a plain float loop doing the operations in the order of optim.h's formula. */
START_TEST(test_adam_fast_path_is_exact)
{
    enum { MANY = 103 };
    gsl_rng *rng = test_rng(613);
    float params[MANY], expected[MANY], grads[MANY], m[MANY] = {0}, v[MANY] = {0};
    fill_uniform(params, MANY, -2.0, 2.0, rng);
    memcpy(expected, params, sizeof params);
    optimizer *opt = adam_alloc(MANY, 3e-3);
    for (int step = 1; step <= 3; step++) {
        fill_uniform(grads, MANY, -0.5, 0.5, rng);
        grads[step] = 0.0f;
        adam_step(opt, params, grads);
        float alpha = (float)(3e-3 * sqrt(1.0 - pow(0.999, step)) / (1.0 - pow(0.9, step)));
        for (int i = 0; i < MANY; i++) {
            m[i] = 0.9f * m[i] + (float)(1.0 - 0.9) * grads[i];
            v[i] = 0.999f * v[i] + (float)(1.0 - 0.999) * grads[i] * grads[i];
            expected[i] -= alpha * m[i] / (sqrtf(v[i]) + 1e-7f);
        }
    }
    ck_assert_int_eq(memcmp(params, expected, sizeof params), 0);
    ck_assert_int_eq(memcmp(opt->m, m, sizeof m), 0);
    ck_assert_int_eq(memcmp(opt->v, v, sizeof v), 0);
    optimizer_free(opt);
    gsl_rng_free(rng);
}
END_TEST

/* Plain SGD: p ← p − lr g */
START_TEST(test_sgd_plain)
{
    const double lr = 0.0375;
    float params[N];
    for (int i = 0; i < N; i++) params[i] = start[i];
    optimizer *opt = sgd_alloc(N, lr, 0.0);
    ck_assert_ptr_nonnull(opt);
    ck_assert_ptr_null(opt->m);   /* no velocity without momentum */
    sgd_step(opt, params, grad1);
    optimizer_step(opt, params, grad2);
    for (int i = 0; i < N; i++)
        ck_assert_double_eq_tol(params[i], start[i] - lr * grad1[i] - lr * grad2[i], 1e-6);
    optimizer_free(opt);
}
END_TEST

/* Momentum μ: v1 = −lr g1, p1 = p0 + v1;  v2 = μ v1 − lr g2, p2 = p1 + v2 */
START_TEST(test_sgd_momentum)
{
    const double lr = 0.0375, mu = 0.85;
    float params[N];
    for (int i = 0; i < N; i++) params[i] = start[i];
    optimizer *opt = sgd_alloc(N, lr, mu);
    sgd_step(opt, params, grad1);
    sgd_step(opt, params, grad2);
    for (int i = 0; i < N; i++) {
        double v1 = -lr * grad1[i];
        double v2 = mu * v1 - lr * grad2[i];
        ck_assert_double_eq_tol(params[i], start[i] + v1 + v2, 1e-6);
        ck_assert_double_eq_tol(opt->m[i], v2, 1e-7);
    }
    optimizer_free(opt);
}
END_TEST

/* Adam minimises a quadratic: Σ c_i (p_i − a_i)², gradient 2 c_i (p_i − a_i). */
START_TEST(test_adam_minimises_quadratic)
{
    const float target[N] = {1.5f, -0.75f, 0.3f, 2.0f, -2.25f};
    const float curvature[N] = {0.5f, 3.0f, 1.25f, 0.1f, 8.0f};
    float params[N] = {0}, grads[N];
    optimizer *opt = adam_alloc(N, 0.05);
    for (int step = 0; step < 2000; step++) {
        for (int i = 0; i < N; i++) grads[i] = 2.0f * curvature[i] * (params[i] - target[i]);
        adam_step(opt, params, grads);
    }
    for (int i = 0; i < N; i++) ck_assert_double_eq_tol(params[i], target[i], 1e-2);
    optimizer_free(opt);
}
END_TEST

/* --------------------------------------------------------------- Limits */

START_TEST(test_optimizer_refuses_bad_settings)
{
    ck_assert_ptr_null(adam_alloc(0, 1e-3));
    ck_assert_int_eq(error_code(), AE_EINVAL);
    ck_assert_ptr_null(adam_alloc(10, 0.0));
    ck_assert_int_eq(error_code(), AE_EDOM);
    ck_assert_ptr_null(adam_alloc(10, NAN));
    ck_assert_int_eq(error_code(), AE_EDOM);
    ck_assert_ptr_null(sgd_alloc(10, -0.1, 0.0));
    ck_assert_int_eq(error_code(), AE_EDOM);
    ck_assert_ptr_null(sgd_alloc(10, 0.1, 1.0));
    ck_assert_int_eq(error_code(), AE_EDOM);
    optimizer_free(NULL);
}
END_TEST

Suite *optim_suite(void)
{
    Suite *s = suite_create("optim");
    test_add(test_case(s, "Core", 0), test_adam_first_step, test_adam_two_steps, test_adam_fast_path_is_exact,
             test_sgd_plain, test_sgd_momentum, test_adam_minimises_quadratic);
    test_add(test_case(s, "Limits", 0), test_optimizer_refuses_bad_settings);
    return s;
}
