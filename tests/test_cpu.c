/* test_cpu.c: the AVX-512 paths against the portable ones they stand in for, on the same data:
 * the element-wise loops and Adam give the same floats bit for bit, sigmoid's polynomial e^x
 * agrees with expf to a few units in the last place, NaN goes through as NaN. On a processor
 * without AVX-512 both runs take the portable path, and the comparisons hold trivially. */
#include <check.h>
#include <time.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fast/cpu.h"
#include "fast/fast.h"
#include "io/data.h"
#include "error.h"
#include "layers.h"
#include "loss.h"
#include "optim.h"
#include "testutil.h"

/* 16 floats per register: 37 values leave a tail of 5 for the masked code */
enum { N = 37 };

/* Random values in [−3, 3] with the awkward ones among them: ±0, NaN, ±∞, a denormal, ±100. */
static void awkward_values(float *x, size_t n, gsl_rng *rng)
{
    fill_uniform(x, n, -3.0, 3.0, rng);
    const float special[] = { 0.0f, -0.0f, NAN, INFINITY, -INFINITY, 1e-40f, 100.0f, -100.0f };
    for (size_t i = 0; i < sizeof special / sizeof special[0] && 3 * i < n; i++) x[3 * i] = special[i];
}

/* a and b hold the same bits, NaN included */
static void assert_same_bits(const float *a, const float *b, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(memcmp(&a[i], &b[i], sizeof a[i]) == 0 || (isnan(a[i]) && isnan(b[i])),
                      "%s: value %zu is %a on the AVX-512 path, %a on the portable one", what, i, a[i], b[i]);
}

/* d_in = start, then an activation's backward on the AVX-512 path into fast, on the portable one into plain */
static void both_paths_backward(void (*backward)(float *, const float *, const float *, size_t), const float *start,
                                const float *d_out, const float *x, float *fast, float *plain)
{
    for (int pass = 0; pass < 2; pass++) {
        cpu_force_portable(pass);
        float *d_in = pass ? plain : fast;
        memcpy(d_in, start, N * sizeof *d_in);
        backward(d_in, d_out, x, N);
    }
    cpu_force_portable(0);
}

START_TEST(test_elementwise_same_bits)
{
    gsl_rng *rng = test_rng(2385);
    float in[N], d_out[N], start[N], fast[N], plain[N];
    awkward_values(in, N, rng);
    fill_uniform(d_out, N, -1.0, 1.0, rng);
    fill_uniform(start, N, -0.5, 0.5, rng);
    start[1] = -0.0f;                         /* −0 + 0 is +0: the "+ 0 elsewhere" must be done alike */

    for (int pass = 0; pass < 2; pass++) {
        cpu_force_portable(pass);
        fast_relu_forward(pass ? plain : fast, in, N);
    }
    assert_same_bits(fast, plain, N, "fast_relu_forward");

    both_paths_backward(fast_relu_backward, start, d_out, in, fast, plain);
    assert_same_bits(fast, plain, N, "relu_backward");

    float f[N];
    fill_uniform(f, N, 0.0, 1.0, rng);        /* sigmoid outputs */
    both_paths_backward(fast_sigmoid_backward, start, d_out, f, fast, plain);
    assert_same_bits(fast, plain, N, "sigmoid_backward");

    /* dense_backward's bias gradient sums rows with the vector add */
    float d_bias_fast[N], d_bias_plain[N];
    for (int pass = 0; pass < 2; pass++) {
        cpu_force_portable(pass);
        float *d_bias = pass ? d_bias_plain : d_bias_fast;
        memcpy(d_bias, start, sizeof start);
        float rows[3 * N];
        gsl_rng *same = test_rng(77);
        fill_uniform(rows, 3 * N, -2.0, 2.0, same);
        gsl_rng_free(same);
        fast_dense_backward(NULL, NULL, d_bias, rows, NULL, NULL, 3, 1, N);
    }
    assert_same_bits(d_bias_fast, d_bias_plain, N, "dense_backward bias");
    cpu_force_portable(0);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_sigmoid_close_to_expf)
{
    enum { MANY = 4099 };
    gsl_rng *rng = test_rng(613);
    float *in = malloc(MANY * sizeof *in), *fast = malloc(MANY * sizeof *fast), *plain = malloc(MANY * sizeof *plain);
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(fast);
    ck_assert_ptr_nonnull(plain);
    fill_uniform(in, MANY, -30.0, 30.0, rng);
    awkward_values(in, 40, rng);
    in[40] = -87.5f;                          /* e^x near the smallest normal float */
    in[41] = -103.9f;                         /* near the last denormal */
    in[42] = -104.5f;                         /* past it: 0 */
    cpu_force_portable(0);
    fast_sigmoid_forward(fast, in, MANY);
    cpu_force_portable(1);
    fast_sigmoid_forward(plain, in, MANY);
    cpu_force_portable(0);
    for (int i = 0; i < MANY; i++) {
        if (isnan(in[i])) {
            ck_assert_msg(isnan(fast[i]), "sigmoid(NaN) = %g on the AVX-512 path", fast[i]);
            continue;
        }
        /* 4 units in the last place of the value, or 2 denormals (1.4e-45 each) in the denormal tail */
        const double tol = 4.0 * 0x1p-24 * fabs((double)plain[i]) + 3e-45;
        ck_assert_msg(fabs((double)fast[i] - plain[i]) <= tol, "sigmoid(%.9g) = %.9g, expf gives %.9g",
                      in[i], fast[i], plain[i]);
    }
    free(in);
    free(fast);
    free(plain);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_adam_same_bits)
{
    enum { MANY = 103 };                      /* 6 registers of 16 and a tail of 7 */
    gsl_rng *rng = test_rng(4217);
    float params[2][MANY], grads[MANY];
    fill_uniform(params[0], MANY, -2.0, 2.0, rng);
    memcpy(params[1], params[0], sizeof params[0]);
    optimizer *opt[2] = { adam_alloc(MANY, 3e-3), adam_alloc(MANY, 3e-3) };
    ck_assert_ptr_nonnull(opt[0]);
    ck_assert_ptr_nonnull(opt[1]);
    for (int step = 0; step < 4; step++) {
        fill_uniform(grads, MANY, -0.5, 0.5, rng);
        grads[step] = 0.0f;
        for (int pass = 0; pass < 2; pass++) {
            cpu_force_portable(pass);
            if (step < 2) {
                fast_adam_step(opt[pass], params[pass], grads);
            } else {                          /* in two ranges, as threads do it */
                optimizer_begin_step(opt[pass]);
                fast_optimizer_update_range(opt[pass], params[pass], grads, 48, 1000);   /* cut at n */
                fast_optimizer_update_range(opt[pass], params[pass], grads, 0, 48);
            }
        }
    }
    cpu_force_portable(0);
    ck_assert_int_eq(opt[0]->step, 4);
    assert_same_bits(params[0], params[1], MANY, "Adam parameters");
    assert_same_bits(opt[0]->m, opt[1]->m, MANY, "Adam first moments");
    assert_same_bits(opt[0]->v, opt[1]->v, MANY, "Adam second moments");
    optimizer_free(opt[0]);
    optimizer_free(opt[1]);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_images_to_float_same_bits)
{
    enum { COUNT = 3, PIXELS = 29 };
    uint8_t bytes[COUNT * PIXELS];
    for (int i = 0; i < COUNT * PIXELS; i++) bytes[i] = (uint8_t)(i * 37 + 11);
    bytes[0] = 0;
    bytes[1] = 255;
    idx_array images = { .ndim = 2, .dims = { COUNT, PIXELS }, .count = COUNT, .item_size = PIXELS, .data = bytes };
    const size_t order[COUNT] = { 2, 0, 1 };
    float fast[COUNT * PIXELS], plain[COUNT * PIXELS];
    cpu_force_portable(0);
    images_to_float(fast, &images, order, COUNT);          /* the engine's default: fast_bytes_to_unit */
    cpu_force_portable(1);
    images_to_float(plain, &images, order, COUNT);
    cpu_force_portable(0);
    assert_same_bits(fast, plain, COUNT * PIXELS, "images_to_float");
    float twin[PIXELS];
    bytes_to_unit(twin, bytes, PIXELS);                    /* the plain loop of io/data.c */
    assert_same_bits(fast + PIXELS, twin, PIXELS, "bytes_to_unit");
    ck_assert_float_eq(plain[PIXELS], 0.0f);        /* image 0, pixel 0 */
    ck_assert_float_eq(plain[PIXELS + 1], 1.0f);    /* 255 / 255 */
    ck_assert_float_eq_tol(plain[0], bytes[2 * PIXELS] / 255.0f, 1e-7f);
}
END_TEST

/* The squared error's chains (fast/loss_fast.c): the same loss and gradient bits on both paths, for a
 * length with a tail, and NaN and infinity carried into the loss alike. */
START_TEST(test_squared_error_same_bits)
{
    enum { LONG = 8 * 40 + 5 };
    gsl_rng *rng = test_rng(77);
    float pred[LONG], target[LONG], grad[2][LONG];
    fill_uniform(pred, LONG, 0.0, 1.0, rng);
    fill_uniform(target, LONG, 0.0, 1.0, rng);
    double loss[2];
    for (int special = 0; special < 3; special++) {
        if (special == 1) pred[13] = NAN;
        if (special == 2) {
            pred[13] = 0.5f;
            pred[200] = INFINITY;
        }
        for (int pass = 0; pass < 2; pass++) {
            cpu_force_portable(pass);
            ck_assert_int_eq(fast_loss_compute((loss_spec){ LOSS_MSE, REDUCE_MEAN }, &loss[pass], grad[pass], pred,
                                          target, LONG), AE_OK);
        }
        cpu_force_portable(0);
        ck_assert_msg(memcmp(&loss[0], &loss[1], sizeof loss[0]) == 0 || (isnan(loss[0]) && isnan(loss[1])),
                      "case %d: the loss is %a on the AVX-512 path, %a on the portable one", special, loss[0], loss[1]);
        assert_same_bits(grad[0], grad[1], LONG, "MSE gradient");
    }
    ck_assert(isinf(loss[0]));
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_path_names)
{
    cpu_force_portable(1);
    ck_assert_int_eq(cpu_has_avx512(), 0);
    ck_assert_str_eq(cpu_path_name(), "portable");
    cpu_force_portable(0);
    ck_assert_str_eq(cpu_path_name(), cpu_has_avx512() ? "AVX-512" : "portable");
}
END_TEST

/* The measured peak is a rate: positive, finite, and its loop runs at least as long as asked (a loop
 * the compiler dropped would report an absurd rate in no time). Both paths. */
START_TEST(test_fma_peak_is_measured)
{
    for (int portable = 0; portable <= 1; portable++) {
        cpu_force_portable(portable);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        double gflops = cpu_fma_peak_gflops(0.05);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double took = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
        ck_assert_msg(isfinite(gflops) && gflops > 0.1 && gflops < 1e5, "%s path: %g GFLOP/s",
                      portable ? "portable" : "fast", gflops);
        ck_assert_msg(took >= 0.05, "%s path: measured for %g s, not the 0.05 asked", portable ? "portable" : "fast", took);
    }
    cpu_force_portable(0);
}
END_TEST

Suite *cpu_suite(void)
{
    Suite *s = suite_create("cpu");
    test_add(test_case(s, "Core", 0), test_elementwise_same_bits, test_sigmoid_close_to_expf, test_adam_same_bits,
             test_images_to_float_same_bits, test_squared_error_same_bits, test_path_names,
             test_fma_peak_is_measured);
    return s;
}
