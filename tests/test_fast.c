/* test_fast.c: every fast twin (common/fast/) against its plain function of common/, on the
 * same random data: forward and backward, on random shapes with odd sizes, strides and
 * paddings, and on shapes large enough to take the twins' blocked paths.
 *
 * Tolerance: the two compute the same sums in another order, so they may differ by float
 * rounding, which grows with the size of the terms, not of the result. Each comparison
 * is scaled by Σ|terms| of the value, found by running the plain function on |x| and |W|:
 *     |fast − plain| <= TOL · max(1, Σ|terms|). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "error.h"
#include "fast/conv_direct.h"
#include "fast/cpu.h"
#include "fast/fast.h"
#include "fast/vector.h"
#include "io/data.h"
#include "layers.h"
#include "model.h"
#include "testutil.h"

#define TOL 2e-6

static float *floats(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

static float *abs_copy(const float *x, size_t n)
{
    float *a = floats(n);
    for (size_t i = 0; i < n; i++) a[i] = fabsf(x[i]);
    return a;
}

/* Asserts |got − want| <= TOL · max(1, mag) for every value. */
static void assert_close(const float *got, const float *want, const float *mag, size_t n, const char *what,
                         const char *name)
{
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]), scale = fmax(1.0, mag[i]);
        ck_assert_msg(err <= TOL * scale, "%s: %s[%zu]: fast %.9g, plain %.9g (difference %.3g, terms %.3g)",
                      what, name, i, got[i], want[i], err, scale);
    }
}

/* ------------------------------------------------------------------ dense */

START_TEST(test_dense_twins)
{
    gsl_rng *rng = test_rng(2024 + (unsigned long)_i);
    for (int trial = 0; trial < 30; trial++) {
        /* odd sizes around the kernels' tiles of 16 and 4, and the shapes of models A and the VAE */
        const int sizes[] = { 1, 3, 7, 15, 16, 17, 33, 64, 97 };
        int batch = sizes[gsl_rng_uniform_int(rng, 9)], in = sizes[gsl_rng_uniform_int(rng, 9)];
        int out = sizes[gsl_rng_uniform_int(rng, 9)];
        if (trial == 0) batch = 32, in = 784, out = 64;
        char what[96];
        snprintf(what, sizeof what, "dense B=%d IN=%d OUT=%d", batch, in, out);
        size_t n_in = (size_t)batch * in, n_out = (size_t)batch * out, n_w = (size_t)in * out;
        float *x = floats(n_in), *w = floats(n_w), *b = floats((size_t)out), *d_y = floats(n_out);
        fill_uniform(x, n_in, -1, 1, rng);
        fill_uniform(w, n_w, -1, 1, rng);
        fill_uniform(b, (size_t)out, -1, 1, rng);
        fill_uniform(d_y, n_out, -1, 1, rng);
        float *ax = abs_copy(x, n_in), *aw = abs_copy(w, n_w), *ab = abs_copy(b, (size_t)out), *ad = abs_copy(d_y, n_out);

        float *y_fast = floats(n_out), *y_plain = floats(n_out), *y_mag = floats(n_out);
        fast_dense_forward(y_fast, x, w, b, batch, in, out);
        dense_forward(y_plain, x, w, b, batch, in, out);
        dense_forward(y_mag, ax, aw, ab, batch, in, out);
        assert_close(y_fast, y_plain, y_mag, n_out, what, "out");

        /* backward adds: start every gradient from the same nonzero values */
        float *g_fast[3] = { floats(n_in), floats(n_w), floats((size_t)out) };
        float *g_plain[3] = { floats(n_in), floats(n_w), floats((size_t)out) };
        float *g_mag[3] = { floats(n_in), floats(n_w), floats((size_t)out) };
        const size_t n_g[3] = { n_in, n_w, (size_t)out };
        for (int k = 0; k < 3; k++) {
            fill_uniform(g_fast[k], n_g[k], -1, 1, rng);
            memcpy(g_plain[k], g_fast[k], n_g[k] * sizeof(float));
            for (size_t i = 0; i < n_g[k]; i++) g_mag[k][i] = fabsf(g_fast[k][i]);
        }
        fast_dense_backward(g_fast[0], g_fast[1], g_fast[2], d_y, x, w, batch, in, out);
        dense_backward(g_plain[0], g_plain[1], g_plain[2], d_y, x, w, batch, in, out);
        dense_backward(g_mag[0], g_mag[1], g_mag[2], ad, ax, aw, batch, in, out);
        assert_close(g_fast[0], g_plain[0], g_mag[0], n_in, what, "d_in");
        assert_close(g_fast[1], g_plain[1], g_mag[1], n_w, what, "d_weight");
        assert_close(g_fast[2], g_plain[2], g_mag[2], (size_t)out, what, "d_bias");

        free(x); free(w); free(b); free(d_y); free(ax); free(aw); free(ab); free(ad);
        free(y_fast); free(y_plain); free(y_mag);
        for (int k = 0; k < 3; k++) free(g_fast[k]), free(g_plain[k]), free(g_mag[k]);
    }
    gsl_rng_free(rng);
}
END_TEST

/* ----------------------------------------------------------- convolutions */

/* Forward and backward of one convolution through both twins; every result compared. */
static void compare_conv(const conv_geom *g, int batch, int transposed, gsl_rng *rng)
{
    char what[160];
    snprintf(what, sizeof what, "%s B=%d (%d,%d,%d)->(%d,%d,%d) k=%dx%d s=%d pad=(%d,%d)",
             transposed ? "conv2d_transpose" : "conv2d", batch, g->in_c, g->in_h, g->in_w, g->out_c, g->out_h,
             g->out_w, g->k_h, g->k_w, g->stride, g->pad_top, g->pad_left);
    const size_t n_in = (size_t)batch * g->in_c * g->in_h * g->in_w;
    const size_t n_out = (size_t)batch * g->out_c * g->out_h * g->out_w;
    const size_t n_w = (size_t)g->in_c * g->out_c * g->k_h * g->k_w, n_b = (size_t)g->out_c;
    const size_t n_work = transposed ? fast_conv2d_transpose_workspace_floats(g, batch)
                                     : fast_conv2d_workspace_floats(g, batch);
    float *work = malloc((n_work ? n_work : 1) * sizeof *work);   /* exactly what it asks for: ASan sees overruns */
    ck_assert_ptr_nonnull(work);
    float *x = floats(n_in), *w = floats(n_w), *b = floats(n_b), *d_y = floats(n_out);
    fill_uniform(x, n_in, -1, 1, rng);
    fill_uniform(w, n_w, -1, 1, rng);
    fill_uniform(b, n_b, -1, 1, rng);
    fill_uniform(d_y, n_out, -1, 1, rng);
    float *ax = abs_copy(x, n_in), *aw = abs_copy(w, n_w), *ab = abs_copy(b, n_b), *ad = abs_copy(d_y, n_out);

    float *y_fast = floats(n_out), *y_plain = floats(n_out), *y_mag = floats(n_out);
    fill_uniform(y_fast, n_out, 7, 9, rng);                 /* garbage the forward must overwrite */
    if (transposed) {
        fast_conv2d_transpose_forward(y_fast, x, w, b, work, g, batch);
        conv2d_transpose_forward(y_plain, x, w, b, g, batch);
        conv2d_transpose_forward(y_mag, ax, aw, ab, g, batch);
    } else {
        fast_conv2d_forward(y_fast, x, w, b, work, g, batch);
        conv2d_forward(y_plain, x, w, b, g, batch);
        conv2d_forward(y_mag, ax, aw, ab, g, batch);
    }
    assert_close(y_fast, y_plain, y_mag, n_out, what, "out");

    float *g_fast[3] = { floats(n_in), floats(n_w), floats(n_b) };
    float *g_plain[3] = { floats(n_in), floats(n_w), floats(n_b) };
    float *g_mag[3] = { floats(n_in), floats(n_w), floats(n_b) };
    const size_t n_g[3] = { n_in, n_w, n_b };
    for (int k = 0; k < 3; k++) {
        fill_uniform(g_fast[k], n_g[k], -1, 1, rng);         /* backward adds to what is there */
        memcpy(g_plain[k], g_fast[k], n_g[k] * sizeof(float));
        for (size_t i = 0; i < n_g[k]; i++) g_mag[k][i] = fabsf(g_fast[k][i]);
    }
    if (transposed) {
        fast_conv2d_transpose_backward(g_fast[0], g_fast[1], g_fast[2], d_y, x, w, work, g, batch);
        conv2d_transpose_backward(g_plain[0], g_plain[1], g_plain[2], d_y, x, w, g, batch);
        conv2d_transpose_backward(g_mag[0], g_mag[1], g_mag[2], ad, ax, aw, g, batch);
    } else {
        fast_conv2d_backward(g_fast[0], g_fast[1], g_fast[2], d_y, x, w, work, g, batch);
        conv2d_backward(g_plain[0], g_plain[1], g_plain[2], d_y, x, w, g, batch);
        conv2d_backward(g_mag[0], g_mag[1], g_mag[2], ad, ax, aw, g, batch);
    }
    assert_close(g_fast[0], g_plain[0], g_mag[0], n_in, what, "d_in");
    assert_close(g_fast[1], g_plain[1], g_mag[1], n_w, what, "d_weight");
    assert_close(g_fast[2], g_plain[2], g_mag[2], n_b, what, "d_bias");

    /* the gradients one at a time (NULL for the others), as a model's first layer asks */
    float *only_w = floats(n_w);
    if (transposed) fast_conv2d_transpose_backward(NULL, only_w, NULL, d_y, x, w, work, g, batch);
    else fast_conv2d_backward(NULL, only_w, NULL, d_y, x, w, work, g, batch);
    float *plain_w = floats(n_w);
    if (transposed) conv2d_transpose_backward(NULL, plain_w, NULL, d_y, x, w, g, batch);
    else conv2d_backward(NULL, plain_w, NULL, d_y, x, w, g, batch);
    assert_close(only_w, plain_w, g_mag[1], n_w, what, "d_weight alone");

    free(work); free(x); free(w); free(b); free(d_y); free(ax); free(aw); free(ab); free(ad);
    free(y_fast); free(y_plain); free(y_mag); free(only_w); free(plain_w);
    for (int k = 0; k < 3; k++) free(g_fast[k]), free(g_plain[k]), free(g_mag[k]);
}

START_TEST(test_conv_twins_random)
{
    gsl_rng *rng = test_rng(909 + (unsigned long)_i);
    for (int tested = 0; tested < 60;) {
        conv_geom g;
        int batch, transposed = tested % 2;
        if (test_random_conv_geom(&g, &batch, transposed, rng) != AE_OK) continue;
        compare_conv(&g, batch, transposed, rng);
        tested++;
    }
    gsl_rng_free(rng);
}
END_TEST

/* Random shapes with 16 to 23 channels on the image side and at least as many on the other: the
 * products then read the phases in place (conv_taps.c's "direct" taps), every stride, padding and
 * kernel size included (a kernel smaller than the stride leaves phases without taps); the second
 * round on the portable path. */
START_TEST(test_conv_twins_direct)
{
    gsl_rng *rng = test_rng(4242 + (unsigned long)_i);
    cpu_force_portable(_i == 1);               /* the second round without AVX-512: CBLAS and the plain loops */
    for (int tested = 0; tested < 16;) {
        const int transposed = tested % 2;
        const int img_c = 16 + (int)gsl_rng_uniform_int(rng, 8), grid_c = img_c + (int)gsl_rng_uniform_int(rng, 9);
        const int h = 1 + (int)gsl_rng_uniform_int(rng, 11), w = 1 + (int)gsl_rng_uniform_int(rng, 11);
        const int kh = 1 + (int)gsl_rng_uniform_int(rng, 5), kw = 1 + (int)gsl_rng_uniform_int(rng, 5);
        const int s = 1 + (int)gsl_rng_uniform_int(rng, 3);
        const padding_mode mode = (padding_mode)gsl_rng_uniform_int(rng, 3);
        const int p = mode == PAD_EXPLICIT ? (int)gsl_rng_uniform_int(rng, 3) : 0;
        const int a = mode == PAD_EXPLICIT ? (int)gsl_rng_uniform_int(rng, (unsigned long)s) : 0;
        const int batch = 1 + (int)gsl_rng_uniform_int(rng, 4);
        conv_geom g;
        /* conv2d: the image is its input; conv2d_transpose: its output */
        int rc = transposed ? conv2d_transpose_geom(&g, grid_c, h, w, img_c, kh, kw, s, mode, p, a)
                            : conv2d_geom(&g, img_c, h, w, grid_c, kh, kw, s, mode, p);
        if (rc != AE_OK) continue;
        compare_conv(&g, batch, transposed, rng);
        tested++;
    }
    cpu_force_portable(0);
    gsl_rng_free(rng);
}
END_TEST

/* 3×3 kernels, stride 1 or 2, 1 to 16 channels a side and rows of up to 31: with AVX-512 these run
 * conv_direct.c's kernels (every padding, odd and even sizes, rows of one vector and of two, the
 * channel counts of each block shape), which this test checks it reaches. */
START_TEST(test_conv_twins_3x3)
{
    gsl_rng *rng = test_rng(3333 + (unsigned long)_i);
    int reached = 0;
    for (int tested = 0; tested < 40;) {
        const int transposed = tested % 2;
        const int in_c = 1 + (int)gsl_rng_uniform_int(rng, 16), out_c = 1 + (int)gsl_rng_uniform_int(rng, 16);
        const int s = 1 + (int)gsl_rng_uniform_int(rng, 2);
        const int h = 1 + (int)gsl_rng_uniform_int(rng, 20);
        const int w = 1 + (int)gsl_rng_uniform_int(rng, transposed && s == 2 ? 16 : 32);
        const padding_mode mode = (padding_mode)gsl_rng_uniform_int(rng, 3);
        const int p = mode == PAD_EXPLICIT ? (int)gsl_rng_uniform_int(rng, 3) : 0;
        const int a = mode == PAD_EXPLICIT ? (int)gsl_rng_uniform_int(rng, (unsigned long)s) : 0;
        const int batch = 1 + (int)gsl_rng_uniform_int(rng, 3);
        conv_geom g;
        int rc = transposed ? conv2d_transpose_geom(&g, in_c, h, w, out_c, 3, 3, s, mode, p, a)
                            : conv2d_geom(&g, in_c, h, w, out_c, 3, 3, s, mode, p);
        if (rc != AE_OK || g.in_w > 31 || g.out_w > 31) continue;
        const conv_sides d = transposed ? (conv_sides){ g.in_c, g.in_h, g.in_w, g.out_c, g.out_h, g.out_w, 3, 3, s,
                                                        g.pad_top, g.pad_left }
                                        : (conv_sides){ g.out_c, g.out_h, g.out_w, g.in_c, g.in_h, g.in_w, 3, 3, s,
                                                        g.pad_top, g.pad_left };
        reached += direct_fits(&d);
        compare_conv(&g, batch, transposed, rng);
        tested++;
    }
    if (cpu_has_avx512()) ck_assert_int_eq(reached, 40);
    else ck_assert_int_eq(reached, 0);
    gsl_rng_free(rng);
}
END_TEST

/* Large enough that the fast twins take the batch in several chunks, with both ways of laying
 * out the taps (patches of the side with fewer channels), and the layers of models B and the conv VAE. */
START_TEST(test_conv_twins_large)
{
    gsl_rng *rng = test_rng(77);
    conv_geom g;
    ck_assert_int_eq(conv2d_geom(&g, 3, 40, 40, 8, 3, 3, 1, PAD_SAME, 0), AE_OK);
    compare_conv(&g, 5, 0, rng);
    ck_assert_int_eq(conv2d_geom(&g, 8, 40, 40, 4, 3, 3, 1, PAD_SAME, 0), AE_OK);
    compare_conv(&g, 5, 0, rng);
    ck_assert_int_eq(conv2d_transpose_geom(&g, 4, 40, 40, 12, 3, 3, 1, PAD_SAME, 0, 0), AE_OK);
    compare_conv(&g, 5, 1, rng);
    ck_assert_int_eq(conv2d_transpose_geom(&g, 12, 24, 24, 4, 4, 4, 2, PAD_SAME, 0, 0), AE_OK);
    compare_conv(&g, 5, 1, rng);
    ck_assert_int_eq(conv2d_geom(&g, 1, 28, 28, 16, 3, 3, 2, PAD_SAME, 0), AE_OK);           /* model B's first */
    compare_conv(&g, 32, 0, rng);
    ck_assert_int_eq(conv2d_transpose_geom(&g, 64, 8, 8, 32, 3, 3, 2, PAD_SAME, 0, 0), AE_OK); /* the conv VAE's */
    compare_conv(&g, 4, 1, rng);
    ck_assert_int_eq(conv2d_geom(&g, 32, 16, 16, 64, 3, 3, 2, PAD_SAME, 0), AE_OK);           /* and its encoder's */
    compare_conv(&g, 9, 0, rng);
    gsl_rng_free(rng);
}
END_TEST

/* The transpose the direct taps use (vector.c), on both paths: ragged blocks of 16, row strides
 * larger than the rows, and nothing written outside the block. */
START_TEST(test_transpose)
{
    const size_t shapes[][2] = { { 1, 1 }, { 5, 3 }, { 16, 16 }, { 17, 33 }, { 40, 7 }, { 3, 50 } };
    for (int pass = 0; pass < 2; pass++) {
        cpu_force_portable(pass);
        for (int k = 0; k < 6; k++) {
            const size_t rows = shapes[k][0], cols = shapes[k][1], ld_src = cols + 3, ld_dst = rows + 5;
            float *src = floats(rows * ld_src), *dst = floats(cols * ld_dst);
            for (size_t i = 0; i < rows * ld_src; i++) src[i] = (float)i;
            for (size_t i = 0; i < cols * ld_dst; i++) dst[i] = -1.0f;
            vec_transpose(dst, ld_dst, src, ld_src, rows, cols);
            for (size_t j = 0; j < cols; j++)
                for (size_t i = 0; i < ld_dst; i++)
                    ck_assert_msg(dst[j * ld_dst + i] == (i < rows ? src[i * ld_src + j] : -1.0f),
                                  "transpose %zux%zu (portable %d): dst[%zu, %zu] = %g", rows, cols, pass, j, i,
                                  dst[j * ld_dst + i]);
            free(src);
            free(dst);
        }
    }
    cpu_force_portable(0);
}
END_TEST

/* ------------------------------------------------------------ activations */

START_TEST(test_activation_twins)
{
    gsl_rng *rng = test_rng(31);
    const size_t lengths[] = { 1, 5, 16, 37, 1000 };
    for (int k = 0; k < 5; k++) {
        const size_t n = lengths[k];
        float *x = floats(n), *d_y = floats(n), *y_fast = floats(n), *y_plain = floats(n);
        float *g_fast = floats(n), *g_plain = floats(n), *ones = floats(n);
        fill_uniform(x, n, -8, 8, rng);
        fill_uniform(d_y, n, -1, 1, rng);
        for (size_t i = 0; i < n; i++) ones[i] = 1.0f;
        char what[64];
        snprintf(what, sizeof what, "relu n=%zu", n);
        fast_relu_forward(y_fast, x, n);
        relu_forward(y_plain, x, n);
        assert_close(y_fast, y_plain, ones, n, what, "out");
        fill_uniform(g_fast, n, -1, 1, rng);
        memcpy(g_plain, g_fast, n * sizeof *g_plain);
        fast_relu_backward(g_fast, d_y, x, n);
        relu_backward(g_plain, d_y, x, n);
        assert_close(g_fast, g_plain, ones, n, what, "d_in");

        snprintf(what, sizeof what, "sigmoid n=%zu", n);
        fast_sigmoid_forward(y_fast, x, n);
        sigmoid_forward(y_plain, x, n);
        assert_close(y_fast, y_plain, ones, n, what, "out");       /* within a few units in the last place */
        fill_uniform(g_fast, n, -1, 1, rng);
        memcpy(g_plain, g_fast, n * sizeof *g_plain);
        fast_sigmoid_backward(g_fast, d_y, y_plain, n);
        sigmoid_backward(g_plain, d_y, y_plain, n);
        assert_close(g_fast, g_plain, ones, n, what, "d_in");
        free(x); free(d_y); free(y_fast); free(y_plain); free(g_fast); free(g_plain); free(ones);
    }
    gsl_rng_free(rng);
}
END_TEST

/* An activation's gradient written and added to a bias gradient in one pass (fast_relu_backward_set,
 * fast_sigmoid_backward_set) against its three steps (d_in cleared, the plain relu_backward or
 * sigmoid_backward, d_bias += d_in), bit for bit on both paths: lengths that leave partial vectors,
 * d_out with zeros of both signs (a −0 becomes +0, as added to the cleared d_in), for the ReLU inputs
 * at 0, −0 and NaN, for the sigmoid outputs f of 0 and 1 (products of −0), and without a bias.
 * _i: 0 the ReLU, 1 the sigmoid. */
START_TEST(test_backward_set_matches_steps)
{
    const int sigmoid = _i;
    const char *name = sigmoid ? "sigmoid_backward_set" : "relu_backward_set";
    gsl_rng *rng = test_rng(sigmoid ? 41 : 37);
    const size_t lengths[] = { 1, 15, 16, 17, 400 };
    for (int portable = 0; portable < 2; portable++) {
        cpu_force_portable(portable);
        for (int k = 0; k < 5; k++) {
            const size_t n = lengths[k];
            float *v = floats(n), *d_y = floats(n), *got = floats(n), *want = floats(n);   /* v: x, or f */
            float *bias_got = floats(n), *bias_want = floats(n);
            fill_uniform(v, n, sigmoid ? 0 : -2, sigmoid ? 1 : 2, rng);
            fill_uniform(d_y, n, -1, 1, rng);
            for (size_t i = 0; i < n; i += 3) d_y[i] = (i / 3) % 2 ? -0.0f : 0.0f;
            for (size_t i = 1; i < n; i += 5)
                v[i] = sigmoid ? ((i / 5) % 2 ? 1.0f : 0.0f) : (i / 5) % 3 == 0 ? 0.0f : (i / 5) % 3 == 1 ? -0.0f : NAN;
            fill_uniform(bias_got, n, -1, 1, rng);
            memcpy(bias_want, bias_got, n * sizeof *bias_got);
            fill_uniform(got, n, -9, 9, rng);            /* what d_in held: overwritten */
            memset(want, 0, n * sizeof *want);
            if (sigmoid) sigmoid_backward(want, d_y, v, n);
            else relu_backward(want, d_y, v, n);
            for (size_t i = 0; i < n; i++) bias_want[i] += want[i];
            for (int with_bias = 0; with_bias < 2; with_bias++) {
                float *bias = with_bias ? bias_got : NULL;
                if (sigmoid) fast_sigmoid_backward_set(got, bias, d_y, v, n);
                else fast_relu_backward_set(got, bias, d_y, v, n);
                ck_assert_msg(memcmp(got, want, n * sizeof *got) == 0, "%s n=%zu (portable %d): d_in", name, n, portable);
            }
            ck_assert_msg(memcmp(bias_got, bias_want, n * sizeof *bias_got) == 0,
                          "%s n=%zu (portable %d): the bias gradient", name, n, portable);
            free(v); free(d_y); free(got); free(want); free(bias_got); free(bias_want);
        }
    }
    cpu_force_portable(0);
    gsl_rng_free(rng);
}
END_TEST

/* --------------------------------------------- losses, Adam, bytes to floats */

START_TEST(test_loss_adam_bytes_twins)
{
    enum { N = 1000 + 7 };
    gsl_rng *rng = test_rng(64);
    float *pred = floats(N), *target = floats(N), *g_fast = floats(N), *g_plain = floats(N), *ones = floats(N);
    fill_uniform(pred, N, 0.01, 0.99, rng);
    fill_uniform(target, N, 0, 1, rng);
    for (int i = 0; i < N; i++) ones[i] = 1.0f;
    const loss_spec specs[] = { { LOSS_MSE, REDUCE_MEAN }, { LOSS_MSE, REDUCE_SUM }, { LOSS_MAE, REDUCE_MEAN },
                                { LOSS_BCE, REDUCE_SUM }, { LOSS_BCE_LOGITS, REDUCE_MEAN } };
    for (int k = 0; k < 5; k++) {
        double fast, plain;
        ck_assert_int_eq(fast_loss_compute(specs[k], &fast, g_fast, pred, target, N), AE_OK);
        ck_assert_int_eq(loss_compute(specs[k], &plain, g_plain, pred, target, N), AE_OK);
        ck_assert_msg(fabs(fast - plain) <= 1e-12 * fmax(1.0, fabs(plain)), "%s: fast %.17g, plain %.17g",
                      loss_name(specs[k].kind), fast, plain);
        assert_close(g_fast, g_plain, ones, N, loss_name(specs[k].kind), "gradient");
    }
    double mse_fast, mse_plain;
    fast_mse_forward(&mse_fast, pred, target, N);
    mse_forward(&mse_plain, pred, target, N);
    ck_assert_double_eq_tol(mse_fast, mse_plain, 1e-15);

    /* Adam: the same float operations in the same order, so the same bits */
    optimizer *a = adam_alloc(N, 3e-3), *b = adam_alloc(N, 3e-3);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    float *p_fast = floats(N), *p_plain = floats(N);
    fill_uniform(p_fast, N, -1, 1, rng);
    memcpy(p_plain, p_fast, N * sizeof *p_plain);
    for (int step = 0; step < 3; step++) {
        fill_uniform(g_fast, N, -0.5, 0.5, rng);
        fast_optimizer_step(a, p_fast, g_fast);
        optimizer_step(b, p_plain, g_fast);
    }
    ck_assert_int_eq(memcmp(p_fast, p_plain, N * sizeof *p_fast), 0);
    ck_assert_int_eq(memcmp(a->v, b->v, N * sizeof *a->v), 0);

    uint8_t bytes[N];
    for (int i = 0; i < N; i++) bytes[i] = (uint8_t)(i * 97 + 3);
    fast_bytes_to_unit(g_fast, bytes, N);
    bytes_to_unit(g_plain, bytes, N);
    ck_assert_int_eq(memcmp(g_fast, g_plain, N * sizeof *g_fast), 0);

    optimizer_free(a);
    optimizer_free(b);
    free(pred); free(target); free(g_fast); free(g_plain); free(ones); free(p_fast); free(p_plain);
    gsl_rng_free(rng);
}
END_TEST

/* -------------------------------------------------------- a whole model */

/* Every kind of layer in the table, through the model, with the engine set each way. */
static model *every_layer_model(gsl_rng *rng)
{
    model *m = model_alloc(3, (int[]){ 1, 12, 12 });
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(model_add(m, layer_conv2d(5, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);             /* 5x6x6 */
    ck_assert_int_eq(model_add(m, layer_maxpool2()), AE_OK);                                      /* 5x3x3 */
    ck_assert_int_eq(model_add(m, layer_upsample2()), AE_OK);                                     /* 5x6x6 */
    ck_assert_int_eq(model_add(m, layer_conv2d_transpose(3, 3, 2, PAD_SAME, ACT_TANH)), AE_OK);   /* 3x12x12 */
    ck_assert_int_eq(model_add(m, layer_flatten()), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(7, ACT_NONE)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_activation(ACT_RELU)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(144, ACT_SIGMOID)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_reshape(3, (int[]){ 1, 12, 12 })), AE_OK);
    model_request_input_grad(m);
    ck_assert_int_eq(model_build(m, 6, rng), AE_OK);
    return m;
}

START_TEST(test_model_twins)
{
    enum { B = 6, N = B * 144 };
    gsl_rng *rng = test_rng(5150), *init_a = test_rng(8), *init_b = test_rng(8);
    model *plain = every_layer_model(init_a), *fast = every_layer_model(init_b);
    float x[N], d_y[N];
    fill_uniform(x, N, 0, 1, rng);
    fill_uniform(d_y, N, -1, 1, rng);
    const float *y_plain, *y_fast;
    engine_set_plain(1);
    ck_assert_int_eq(model_forward(plain, x, B, &y_plain), AE_OK);
    model_zero_grad(plain);
    ck_assert_int_eq(model_backward(plain, d_y, B), AE_OK);
    engine_set_plain(0);
    ck_assert_int_eq(model_forward(fast, x, B, &y_fast), AE_OK);
    model_zero_grad(fast);
    ck_assert_int_eq(model_backward(fast, d_y, B), AE_OK);
    ck_assert_double_le(max_abs_diff(y_fast, y_plain, N), 1e-5);
    ck_assert_double_le(max_abs_diff(fast->grads, plain->grads, plain->n_params), 1e-4);
    ck_assert_double_le(max_abs_diff(fast->d_input, plain->d_input, N), 1e-5);
    /* and the two are not the same code: the plain engine gives other last bits somewhere */
    ck_assert_int_ne(memcmp(fast->grads, plain->grads, plain->n_params * sizeof(float)), 0);
    ck_assert_str_eq(engine_name(), "fast");
    model_free(plain);
    model_free(fast);
    gsl_rng_free(rng);
    gsl_rng_free(init_a);
    gsl_rng_free(init_b);
}
END_TEST

/* ------------------------------------------- the walks through a model (model_fast.c) */

/* A small model B: 3×3 convolutions with at most 16 channels (conv_direct.c's kernels), planes
 * of 25, 9, 36 and 144 pixels (blocks of 16 and of 8 with pixels left over) */
static model *direct_walk_model(gsl_rng *rng)
{
    model *m = model_alloc(3, (int[]){ 1, 10, 10 });
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(model_add(m, layer_conv2d(16, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);            /* 16x5x5 */
    ck_assert_int_eq(model_add(m, layer_conv2d(8, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);             /* 8x3x3 */
    ck_assert_int_eq(model_add(m, layer_conv2d_transpose(8, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);   /* 8x6x6 */
    ck_assert_int_eq(model_add(m, layer_conv2d_transpose(16, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);  /* 16x12x12 */
    ck_assert_int_eq(model_add(m, layer_conv2d(1, 3, 1, PAD_SAME, ACT_SIGMOID)), AE_OK);          /* 1x12x12 */
    model_request_input_grad(m);
    ck_assert_int_eq(model_build(m, 5, rng), AE_OK);
    return m;
}

/* Model B itself (28x28 images): its last two layers sum their weight gradients 4 samples at a
 * time (direct_weight_chunk), the first three over more, so that its walks take 4 samples at a
 * time, those two layers' weight gradients with them, the others' after (model_fast.c) */
static model *chunked_walk_model(gsl_rng *rng)
{
    model *m = test_model_b();
    model_request_input_grad(m);
    ck_assert_int_eq(model_build(m, 9, rng), AE_OK);
    return m;
}

/* More than 16 channels (conv_taps.c's products), strides 1 to 3, an activation with no fused
 * pass (tanh), a dense layer and an activation layer after them */
static model *taps_walk_model(gsl_rng *rng)
{
    model *m = model_alloc(3, (int[]){ 2, 9, 9 });
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(model_add(m, layer_conv2d(20, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);            /* 20x5x5 */
    ck_assert_int_eq(model_add(m, layer_conv2d(24, 3, 1, PAD_SAME, ACT_TANH)), AE_OK);            /* 24x5x5 */
    ck_assert_int_eq(model_add(m, layer_conv2d_transpose(18, 3, 3, PAD_SAME, ACT_RELU)), AE_OK);  /* 18x15x15 */
    ck_assert_int_eq(model_add(m, layer_conv2d(17, 5, 2, PAD_SAME, ACT_SIGMOID)), AE_OK);         /* 17x8x8 */
    ck_assert_int_eq(model_add(m, layer_flatten()), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(10, ACT_RELU)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_activation(ACT_SIGMOID)), AE_OK);
    model_request_input_grad(m);
    ck_assert_int_eq(model_build(m, 5, rng), AE_OK);
    return m;
}

static void assert_same_bits(const float *got, const float *want, size_t n, const char *what, int walk, int portable)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(memcmp(&got[i], &want[i], sizeof *got) == 0,
                      "model %d (portable %d): %s[%zu]: fast walk %.9g, plain walk %.9g", walk, portable, what, i,
                      got[i], want[i]);
}

/* A convolution with a ReLU, whose linear output the fast walks do not keep */
static int relu_conv(const layer *l)
{
    return (l->spec.kind == LAYER_CONV2D || l->spec.kind == LAYER_CONV2D_TRANSPOSE) && l->spec.act == ACT_RELU;
}

/* Whether the fast walk writes layer i's input gradient into the d_pre of the ReLU convolution
 * below it (model_fast.c), leaving that layer's d_out as it was */
static int writes_d_pre_below(const model *m, int i)
{
    return i > 0 && (m->layers[i].spec.kind == LAYER_CONV2D || m->layers[i].spec.kind == LAYER_CONV2D_TRANSPOSE) &&
           fast_conv_layer_gates(&m->layers[i]) && !m->layers[i - 1].view && relu_conv(&m->layers[i - 1]);
}

static model *walk_model(int walk, gsl_rng *rng)
{
    return walk == 0 ? direct_walk_model(rng) : walk == 1 ? taps_walk_model(rng) : chunked_walk_model(rng);
}

/* fast_model_forward_rows and fast_model_backward_rows against model.c's walks (both with the fast
 * twins of the layers): the same bits in every output, saved linear output (but a ReLU
 * convolution's, which the fast walks neither write nor read: it holds NaN throughout), gradient
 * and parameter gradient, for a whole batch and for some of its rows, gradients added to what the
 * block held before; model B's rows 4 at a time (9 as 4 + 4 + 1, 7 as 4 + 3), and 2 at a time
 * (fast_model_walk_chunk_force: then every weight gradient after the chunks) */
START_TEST(test_model_walk_twins)
{
    const int walk = _i / 2 > 2 ? 2 : _i / 2, portable = _i % 2, forced = _i / 2 > 2 ? 2 : 0;
    cpu_force_portable(portable);
    fast_model_walk_chunk_force(forced);
    gsl_rng *rng = test_rng(77 + (unsigned long)_i), *init_a = test_rng(9), *init_b = test_rng(9);
    model *a = walk_model(walk, init_a);
    model *b = walk_model(walk, init_b);
    const int B = walk == 2 ? 9 : 5;
    const int direct = walk != 1 && !portable && cpu_has_avx512();   /* conv_direct.c's kernels, all layers */
    ck_assert_int_eq(fast_model_walk_chunk(b, B), walk == 2 && direct ? (forced ? 2 : 4) : B);
    ck_assert_int_eq(fast_model_walk_chunk(b, 3), walk == 2 && direct && forced ? 2 : 3);
    const size_t in_size = a->layers[0].in_size, out_size = model_output_size(a), n_params = a->n_params;
    float *x = floats(B * in_size), *d_y = floats(B * out_size), *grads_a = floats(n_params), *grads_b = floats(n_params);
    fill_uniform(x, B * in_size, -1, 1, rng);
    fill_uniform(d_y, B * out_size, -1, 1, rng);
    fill_uniform(grads_a, n_params, -1, 1, rng);
    memcpy(grads_b, grads_a, n_params * sizeof *grads_b);
    float *start = floats(n_params);   /* what the gradient block held before the walks */
    for (int i = 0; i < b->n_layers; i++)
        if (!b->layers[i].view && relu_conv(&b->layers[i]))
            for (size_t k = 0; k < (size_t)B * b->layers[i].out_size; k++) b->layers[i].pre[k] = NAN;
    memcpy(start, grads_a, n_params * sizeof *start);
    const int rows[][2] = { { 0, B }, { 1, B - 2 } };
    int fused = 0;
    for (int r = 0; r < 2; r++) {
        const int first = rows[r][0], count = rows[r][1];
        model_forward_rows(a, x, first, count, a->work);
        fast_model_forward_rows(b, x, first, count, b->work);
        model_backward_rows(a, x, d_y, first, count, grads_a, a->work);
        fast_model_backward_rows(b, x, d_y, first, count, grads_b, b->work);
        for (int i = 0; i < a->n_layers; i++) {
            const layer *la = &a->layers[i], *lb = &b->layers[i];
            if (la->view) continue;
            const size_t at = (size_t)first * la->out_size, n = (size_t)count * la->out_size;
            assert_same_bits(lb->out + at, la->out + at, n, "out", walk, portable);
            if (la->pre && !relu_conv(la)) assert_same_bits(lb->pre + at, la->pre + at, n, "pre", walk, portable);
            if (relu_conv(la))
                for (size_t k = 0; k < n; k++) ck_assert_msg(isnan(lb->pre[at + k]), "a ReLU convolution's pre written");
            if (la->d_pre) assert_same_bits(lb->d_pre + at, la->d_pre + at, n, "d_pre", walk, portable);
            if (writes_d_pre_below(b, i)) {   /* the layer below's d_pre, compared above; its d_out not written */
                fused++;
                continue;
            }
            if (i > 0 && a->layers[i - 1].d_out)
                assert_same_bits(b->layers[i - 1].d_out + (size_t)first * la->in_size,
                                 a->layers[i - 1].d_out + (size_t)first * la->in_size, (size_t)count * la->in_size,
                                 "d_out below", walk, portable);
        }
        assert_same_bits(b->d_input + (size_t)first * in_size, a->d_input + (size_t)first * in_size,
                         (size_t)count * in_size, "d_input", walk, portable);
        assert_same_bits(grads_b, grads_a, n_params, "grads", walk, portable);
    }
    /* and the two walks ran: the gradients moved from what the block held; the direct kernels wrote
     * the d_pre of the ReLU convolutions below them (four layers, both row ranges) */
    ck_assert_double_gt(max_abs_diff(grads_b, start, n_params), 1e-3);
    ck_assert_int_eq(fused, walk != 1 && direct ? 8 : 0);
    cpu_force_portable(0);
    fast_model_walk_chunk_force(0);
    free(start);
    free(x);
    free(d_y);
    free(grads_a);
    free(grads_b);
    model_free(a);
    model_free(b);
    gsl_rng_free(rng);
    gsl_rng_free(init_a);
    gsl_rng_free(init_b);
}
END_TEST

/* A convolution's input gradient written through the ReLU below (a gate): the same bits as written
 * without it and then run through fast_conv_activation_backward, on conv_direct.c's kernels (in
 * the pass that stores it) and on the products (a pass after); the weight and bias gradients as
 * without the gate. The gate has positive values, negative ones, zeros of both signs and a NaN. */
START_TEST(test_conv_backward_gate)
{
    const int taps = _i / 2, portable = _i % 2;
    cpu_force_portable(portable);
    gsl_rng *rng = test_rng(31 + (unsigned long)_i);
    const int B = 3;
    model *m = model_alloc(3, (int[]){ taps ? 20 : 8, 7, 7 });
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(model_add(m, taps ? layer_conv2d(18, 3, 2, PAD_SAME, ACT_RELU)
                                       : layer_conv2d_transpose(16, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);
    ck_assert_int_eq(model_build(m, B, rng), AE_OK);
    const layer *l = &m->layers[0];
    ck_assert_int_eq(fast_conv_layer_gates(l), !taps && !portable && cpu_has_avx512());
    const size_t n_in = (size_t)B * l->in_size, n_out = (size_t)B * l->out_size;
    const size_t n_w = l->n_weight, n_b = l->n_bias;
    float *in = floats(n_in), *d_out = floats(n_out), *gate = floats(n_in);
    float *d_a = floats(n_in), *d_b = floats(n_in), *d_pre = floats(n_in);
    float *dw_a = floats(n_w + n_b), *dw_b = floats(n_w + n_b);
    fill_uniform(in, n_in, -1, 1, rng);
    fill_uniform(d_out, n_out, -1, 1, rng);
    fill_uniform(gate, n_in, -1, 1, rng);
    gate[0] = 0.0f, gate[1] = -0.0f, gate[2] = NAN, gate[3] = 1.0f;
    memset(dw_a, 0, (n_w + n_b) * sizeof *dw_a);
    memset(dw_b, 0, (n_w + n_b) * sizeof *dw_b);
    fast_conv_layer_backward_set(l, d_a, dw_a, dw_a + n_w, d_out, in, gate, m->work, B);
    fast_conv_layer_backward_set(l, d_b, dw_b, dw_b + n_w, d_out, in, NULL, m->work, B);
    const int channels = l->geom.in_c;
    const size_t pixels = (size_t)l->geom.in_h * l->geom.in_w;
    ck_assert_int_eq(fast_conv_activation_backward(ACT_RELU, d_pre, NULL, d_b, gate, gate, B, channels, pixels), 1);
    assert_same_bits(d_a, d_pre, n_in, "gated input gradient", taps, portable);
    assert_same_bits(dw_a, dw_b, n_w + n_b, "weight and bias gradients", taps, portable);
    ck_assert_double_gt(max_abs_diff(d_a, d_b, n_in), 1e-3);   /* the gate zeroed some */
    cpu_force_portable(0);
    free(in), free(d_out), free(gate), free(d_a), free(d_b), free(d_pre), free(dw_a), free(dw_b);
    model_free(m);
    gsl_rng_free(rng);
}
END_TEST

/* fast_conv_bias_backward against the bias gradient fast_conv_activation_backward sums with its
 * pass (a ReLU that lets everything through: d_pre = d_out): the same bits, for channels in fours
 * and left over, planes with and without pixels past the last block of eight */
START_TEST(test_conv_bias_backward)
{
    cpu_force_portable(_i);
    gsl_rng *rng = test_rng(41 + (unsigned long)_i);
    const int batches[] = { 1, 3 }, channel_counts[] = { 1, 4, 7, 16 };
    const size_t plane_sizes[] = { 1, 8, 9, 25, 49, 196 };
    for (int bi = 0; bi < 2; bi++)
        for (int ci = 0; ci < 4; ci++)
            for (int pi = 0; pi < 6; pi++) {
                const int batch = batches[bi], channels = channel_counts[ci];
                const size_t pixels = plane_sizes[pi], n = (size_t)batch * channels * pixels;
                float *d_out = floats(n), *pre = floats(n), *d_pre = floats(n), want[16], got[16];
                fill_uniform(d_out, n, -1, 1, rng);
                fill_uniform(pre, n, 0.5, 1, rng);
                fill_uniform(want, (size_t)channels, -1, 1, rng);
                memcpy(got, want, (size_t)channels * sizeof *got);
                ck_assert_int_eq(fast_conv_activation_backward(ACT_RELU, d_pre, want, d_out, pre, pre, batch, channels,
                                                               pixels), 1);
                float in_steps[16], sums[16][8] = { { 0 } };
                memcpy(in_steps, got, (size_t)channels * sizeof *got);
                fast_conv_bias_backward(got, d_out, batch, channels, pixels);
                char what[64];
                snprintf(what, sizeof what, "bias gradient (batch %d, %d channels of %zu pixels)", batch, channels, pixels);
                assert_same_bits(got, want, (size_t)channels, what, 0, _i);
                /* the running sums, the first sample then the others, then their totals */
                fast_conv_bias_sums(sums, d_out, 1, channels, pixels);
                fast_conv_bias_sums(sums, d_out + (size_t)channels * pixels, batch - 1, channels, pixels);
                fast_conv_bias_sums_total(in_steps, (const float(*)[8])sums, channels);
                assert_same_bits(in_steps, want, (size_t)channels, "bias gradient in two steps", 0, _i);
                free(d_out), free(pre), free(d_pre);
            }
    cpu_force_portable(0);
    gsl_rng_free(rng);
}
END_TEST

/* A dense model for test_model_backward_fresh: a ReLU, an activation layer of its own, a layer
 * without activation and a sigmoid, batches up to 5 */
static model *fresh_dense_model(gsl_rng *init, int input_grad)
{
    model *m = model_alloc(1, (int[]){ 13 });
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(model_add(m, layer_dense(37, ACT_RELU)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_activation(ACT_TANH)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(5, ACT_NONE)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(29, ACT_SIGMOID)), AE_OK);
    if (input_grad) model_request_input_grad(m);
    ck_assert_int_eq(model_build(m, 5, init), AE_OK);
    return m;
}

/* fast_model_backward_fresh, model_zero_grad and fast_model_backward_here in one: the gradient block
 * written whatever it held (NaN here), with the bits of the two steps: dense models with and
 * without the input's gradient, and the direct kernels' convolution model, whole and in chunks
 * (model B's walk), AVX-512 and portable; twice in a row the same (written, not added to). */
START_TEST(test_model_backward_fresh)
{
    const int kind = _i / 2, portable = _i % 2;   /* 0, 1: dense (1: the input's gradient too); 2, 3: convolutions */
    cpu_force_portable(portable);
    gsl_rng *rng = test_rng(91 + (unsigned long)_i), *init_a = test_rng(9), *init_b = test_rng(9);
    model *a = kind < 2 ? fresh_dense_model(init_a, kind) : walk_model(kind == 2 ? 0 : 2, init_a);
    model *b = kind < 2 ? fresh_dense_model(init_b, kind) : walk_model(kind == 2 ? 0 : 2, init_b);
    const int B = kind == 3 ? 9 : 5;
    const size_t in_size = a->layers[0].in_size, out_size = model_output_size(a), n_params = a->n_params;
    float *x = floats(B * in_size), *d_y = floats(B * out_size);
    fill_uniform(x, B * in_size, -1, 1, rng);
    fill_uniform(d_y, B * out_size, -1, 1, rng);
    const float *y;
    ck_assert_int_eq(fast_model_forward_here(a, x, B, &y), AE_OK);
    ck_assert_int_eq(fast_model_forward_here(b, x, B, &y), AE_OK);
    for (size_t i = 0; i < n_params; i++) a->grads[i] = b->grads[i] = NAN;
    model_zero_grad(a);
    ck_assert_int_eq(fast_model_backward_here(a, d_y, B), AE_OK);
    for (int twice = 0; twice < 2; twice++) {
        ck_assert_int_eq(fast_model_backward_fresh(b, d_y, B), AE_OK);
        assert_same_bits(b->grads, a->grads, n_params, "grads", kind, portable);
        if (a->d_input) assert_same_bits(b->d_input, a->d_input, (size_t)B * in_size, "d_input", kind, portable);
    }
    double largest = 0.0;   /* and there were gradients to write */
    for (size_t i = 0; i < n_params; i++) largest = fmax(largest, fabs(a->grads[i]));
    ck_assert_double_gt(largest, 1e-3);
    ck_assert_int_eq(fast_model_backward_fresh(b, d_y, B - 1), AE_ESTATE);   /* not the batch just run */
    cpu_force_portable(0);
    free(x);
    free(d_y);
    model_free(a);
    model_free(b);
    gsl_rng_free(rng);
    gsl_rng_free(init_a);
    gsl_rng_free(init_b);
}
END_TEST

/* The one-thread walks check what model_forward and model_backward check */
START_TEST(test_model_walks_refuse_bad_calls)
{
    gsl_rng *init = test_rng(9);
    model *m = direct_walk_model(init);
    float x[5 * 100] = { 0 }, d_y[5 * 144] = { 0 };
    const float *y;
    ck_assert_int_eq(fast_model_backward_here(m, d_y, 5), AE_ESTATE);   /* no forward pass yet */
    ck_assert_int_eq(fast_model_backward_fresh(m, d_y, 5), AE_ESTATE);
    ck_assert_int_eq(fast_model_forward_here(m, x, 0, &y), AE_ESTATE);
    ck_assert_int_eq(fast_model_forward_here(m, x, 6, &y), AE_ESTATE);  /* built for batches up to 5 */
    ck_assert_int_eq(fast_model_forward_here(m, x, 5, &y), AE_OK);
    ck_assert_int_eq(fast_model_backward_here(m, d_y, 4), AE_ESTATE);   /* not the batch just run */
    ck_assert_int_eq(fast_model_backward_here(m, d_y, 5), AE_OK);
    model_free(m);
    gsl_rng_free(init);
}
END_TEST

/* Above CONV_FUSED_MAX_CHANNELS channels the fused pass declines and leaves everything alone */
START_TEST(test_conv_activation_backward_declines)
{
    const int channels = CONV_FUSED_MAX_CHANNELS + 1;
    float *d_pre = floats(channels), *d_out = floats(channels), *pre = floats(channels), bias[1] = { 5.0f };
    d_pre[0] = 3.0f;
    ck_assert_int_eq(fast_conv_activation_backward(ACT_RELU, d_pre, NULL, d_out, pre, pre, 1, channels, 1), 0);
    ck_assert_float_eq(d_pre[0], 3.0f);
    ck_assert_int_eq(fast_conv_activation_backward(ACT_RELU, d_pre, bias, d_out, pre, pre, 1, 1, 1), 1);
    ck_assert_float_eq(d_pre[0], 0.0f);
    ck_assert_float_eq(bias[0], 5.0f);
    free(d_pre);
    free(d_out);
    free(pre);
}
END_TEST

Suite *fast_suite(void)
{
    Suite *s = suite_create("fast");
    TCase *tc = test_case(s, "Twins", 60);
    tcase_add_loop_test(tc, test_dense_twins, 0, 2);
    tcase_add_loop_test(tc, test_conv_twins_random, 0, 3);
    tcase_add_test(tc, test_conv_twins_large);
    tcase_add_loop_test(tc, test_conv_twins_direct, 0, 2);
    tcase_add_loop_test(tc, test_conv_twins_3x3, 0, 4);
    tcase_add_loop_test(tc, test_backward_set_matches_steps, 0, 2);   /* the ReLU, the sigmoid */
    test_add(tc, test_transpose, test_activation_twins, test_loss_adam_bytes_twins,
             test_model_twins, test_conv_activation_backward_declines, test_model_walks_refuse_bad_calls);
    tcase_add_loop_test(tc, test_model_walk_twins, 0, 8);   /* three models, AVX-512 and portable; B in twos */
    tcase_add_loop_test(tc, test_model_backward_fresh, 0, 8);   /* two dense, two convolutional; both paths */
    tcase_add_loop_test(tc, test_conv_backward_gate, 0, 4); /* direct kernels and products, AVX-512 and portable */
    tcase_add_loop_test(tc, test_conv_bias_backward, 0, 2);
    return s;
}
