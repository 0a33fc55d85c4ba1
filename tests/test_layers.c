/* test_layers.c: the plain layers against values worked out by hand, the convolution against its
 * transpose (the adjoint identity), and every layer against finite differences. (Their fast twins
 * are compared with them on random shapes in test_fast.c: two independent implementations that
 * must agree.)
 *
 * Gradient tests use the scalar loss L = Σ r_i·y_i with fixed random r, so that
 * ∂L/∂y = r is the d_out handed to backward; L is summed in double.
 */
#include <check.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "layers.h"
#include "testutil.h"

/* Finite-difference step and tolerance for the gradient checks (float32 data). */
#define FD_STEP 1e-2
#define FD_TOL 1e-3
#define FD_MAX_CHECKS 150

static float *floats(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

static const char *mode_name(padding_mode mode)
{
    return mode == PAD_SAME ? "same" : mode == PAD_VALID ? "valid" : "explicit";
}

static size_t conv_in_size(const conv_geom *g) { return (size_t)g->in_c * g->in_h * g->in_w; }
static size_t conv_out_size(const conv_geom *g) { return (size_t)g->out_c * g->out_h * g->out_w; }
static size_t conv_weight_size(const conv_geom *g) { return (size_t)g->in_c * g->out_c * g->k_h * g->k_w; }

static void describe(char *buf, size_t len, const char *layer, const conv_geom *g, int batch)
{
    snprintf(buf, len, "%s B=%d (%d,%d,%d)->(%d,%d,%d) k=%dx%d s=%d pad=(%d,%d)", layer, batch,
             g->in_c, g->in_h, g->in_w, g->out_c, g->out_h, g->out_w, g->k_h, g->k_w, g->stride,
             g->pad_top, g->pad_left);
}

/* -------------------------------------------------------------- geometry */

/* TensorFlow's own form of the 'same' padding: pad_along = max(k − s, 0) if i % s == 0, else max(k − i % s, 0). */
static int tf_same_pad_front(int i, int k, int s)
{
    int pad_along = i % s == 0 ? k - s : k - i % s;
    return pad_along > 0 ? pad_along / 2 : 0;
}

START_TEST(test_geom_keras_conv)
{
    conv_geom g;
    for (int i = 1; i <= 30; i++)
        for (int k = 1; k <= 6; k++)
            for (int s = 1; s <= 4; s++) {
                ck_assert_int_eq(conv2d_geom(&g, 2, i, i + 3, 5, k, k, s, PAD_SAME, 0), AE_OK);
                ck_assert_msg(g.out_h == (i + s - 1) / s, "same i=%d k=%d s=%d: OH %d", i, k, s, g.out_h);
                ck_assert_int_eq(g.out_w, (i + 3 + s - 1) / s);
                ck_assert_msg(g.pad_top == tf_same_pad_front(i, k, s), "same i=%d k=%d s=%d: pad_top %d, TF %d",
                              i, k, s, g.pad_top, tf_same_pad_front(i, k, s));
                ck_assert_int_eq(g.pad_left, tf_same_pad_front(i + 3, k, s));
                ck_assert_int_eq(g.in_c, 2);
                ck_assert_int_eq(g.out_c, 5);

                int rc = conv2d_geom(&g, 1, i, i, 3, k, k, s, PAD_VALID, 0);
                if (i < k) {
                    ck_assert_int_eq(rc, AE_EINVAL);
                } else {
                    ck_assert_int_eq(rc, AE_OK);
                    /* Keras: ceil((i − k + 1)/s) */
                    ck_assert_msg(g.out_h == (i - k + 1 + s - 1) / s, "valid i=%d k=%d s=%d: OH %d", i, k, s, g.out_h);
                    ck_assert_int_eq(g.pad_top, 0);
                }
            }
}
END_TEST

START_TEST(test_geom_keras_transposed)
{
    conv_geom g;
    for (int i = 1; i <= 30; i++)
        for (int k = 1; k <= 6; k++)
            for (int s = 1; s <= 4; s++) {
                int overlap = k > s ? k - s : 0;
                ck_assert_int_eq(conv2d_transpose_geom(&g, 3, i, i + 2, 4, k, k, s, PAD_SAME, 0, 0), AE_OK);
                ck_assert_int_eq(g.out_h, i * s);
                ck_assert_int_eq(g.out_w, (i + 2) * s);
                ck_assert_int_eq(g.pad_top, overlap / 2);
                ck_assert_int_eq(g.pad_left, overlap / 2);
                ck_assert_int_eq(conv2d_transpose_geom(&g, 3, i, i, 4, k, k, s, PAD_VALID, 0, 0), AE_OK);
                ck_assert_int_eq(g.out_h, i * s + overlap);
                ck_assert_int_eq(g.pad_top, 0);
                /* as the transpose of a 'same' conv: that conv takes i·s back to i with the same padding */
                conv_geom back;
                ck_assert_int_eq(conv2d_geom(&back, 4, i * s, i * s, 3, k, k, s, PAD_SAME, 0), AE_OK);
                ck_assert_int_eq(back.out_h, i);
                ck_assert_int_eq(back.pad_top, overlap / 2);
            }
}
END_TEST

START_TEST(test_geom_autoencoder_chain)
{
    conv_geom g;
    /* the conv autoencoder of the course: 28 → 14 → 7 → 14 → 28 */
    ck_assert_int_eq(conv2d_geom(&g, 1, 28, 28, 16, 3, 3, 2, PAD_SAME, 0), AE_OK);
    ck_assert_int_eq(g.out_h, 14); ck_assert_int_eq(g.out_w, 14);
    ck_assert_int_eq(g.pad_top, 0); ck_assert_int_eq(g.pad_left, 0);   /* pad_total 1: the extra row at the bottom */
    ck_assert_int_eq(conv2d_geom(&g, 16, 14, 14, 8, 3, 3, 2, PAD_SAME, 0), AE_OK);
    ck_assert_int_eq(g.out_h, 7); ck_assert_int_eq(g.out_w, 7); ck_assert_int_eq(g.pad_top, 0);
    ck_assert_int_eq(conv2d_transpose_geom(&g, 8, 7, 7, 8, 3, 3, 2, PAD_SAME, 0, 0), AE_OK);
    ck_assert_int_eq(g.out_h, 14); ck_assert_int_eq(g.out_w, 14); ck_assert_int_eq(g.pad_top, 0);
    ck_assert_int_eq(conv2d_transpose_geom(&g, 8, 14, 14, 16, 3, 3, 2, PAD_SAME, 0, 0), AE_OK);
    ck_assert_int_eq(g.out_h, 28); ck_assert_int_eq(g.out_w, 28); ck_assert_int_eq(g.pad_top, 0);
    ck_assert_int_eq(conv2d_geom(&g, 16, 28, 28, 1, 3, 3, 1, PAD_SAME, 0), AE_OK);
    ck_assert_int_eq(g.out_h, 28); ck_assert_int_eq(g.pad_top, 1);
    /* odd sizes: 7 → 4 with pad_total 2, one on each side; 5x5 kernel on 28: pad_total 3, 1 on top */
    ck_assert_int_eq(conv2d_geom(&g, 1, 7, 7, 1, 3, 3, 2, PAD_SAME, 0), AE_OK);
    ck_assert_int_eq(g.out_h, 4); ck_assert_int_eq(g.pad_top, 1);
    ck_assert_int_eq(conv2d_geom(&g, 1, 28, 28, 1, 5, 5, 2, PAD_SAME, 0), AE_OK);
    ck_assert_int_eq(g.out_h, 14); ck_assert_int_eq(g.pad_top, 1);
}
END_TEST

START_TEST(test_geom_explicit_grid)
{
    conv_geom g, back;
    int n_ok = 0, n_refused = 0;
    for (int i = 1; i <= 8; i++)
        for (int k = 1; k <= 5; k++)
            for (int s = 1; s <= 3; s++)
                for (int p = 0; p <= 3; p++)
                    for (int a = 0; a < s; a++) {
                        int want = s * (i - 1) + k - 2 * p + a;
                        error_clear();
                        int rc = conv2d_transpose_geom(&g, 2, i, i, 3, k, k, s, PAD_EXPLICIT, p, a);
                        if (want <= 0) {
                            ck_assert_msg(rc == AE_EINVAL, "i=%d k=%d s=%d p=%d a=%d: no output, yet rc %d",
                                          i, k, s, p, a, rc);
                            ck_assert_int_eq(error_code(), AE_EINVAL);
                            n_refused++;
                            continue;
                        }
                        ck_assert_msg(rc == AE_OK, "i=%d k=%d s=%d p=%d a=%d: %s", i, k, s, p, a, error_message());
                        ck_assert_msg(g.out_h == want && g.out_w == want, "i=%d k=%d s=%d p=%d a=%d: OH %d, want %d",
                                      i, k, s, p, a, g.out_h, want);
                        ck_assert_int_eq(g.pad_top, p);
                        ck_assert_int_eq(g.pad_left, p);
                        n_ok++;
                        /* the convolution with the same k, s, p maps the output size back to i */
                        ck_assert_int_eq(conv2d_geom(&back, 3, want, want, 2, k, k, s, PAD_EXPLICIT, p), AE_OK);
                        ck_assert_int_eq(back.out_h, i);
                        /* and its own formula: floor((i + 2p − k)/s) + 1 */
                        rc = conv2d_geom(&back, 1, i, i, 1, k, k, s, PAD_EXPLICIT, p);
                        if (i + 2 * p < k) {
                            ck_assert_int_eq(rc, AE_EINVAL);
                        } else {
                            ck_assert_int_eq(rc, AE_OK);
                            ck_assert_int_eq(back.out_h, (i + 2 * p - k) / s + 1);
                        }
                    }
    ck_assert_int_gt(n_ok, 100);
    ck_assert_int_gt(n_refused, 3);
}
END_TEST

START_TEST(test_geom_rectangular)
{
    conv_geom g;
    ck_assert_int_eq(conv2d_geom(&g, 3, 9, 20, 2, 2, 5, 3, PAD_VALID, 0), AE_OK);
    ck_assert_int_eq(g.out_h, (9 - 2) / 3 + 1);
    ck_assert_int_eq(g.out_w, (20 - 5) / 3 + 1);
    ck_assert_int_eq(g.k_h, 2); ck_assert_int_eq(g.k_w, 5); ck_assert_int_eq(g.stride, 3);
    ck_assert_int_eq(conv2d_transpose_geom(&g, 3, 4, 6, 2, 3, 1, 2, PAD_EXPLICIT, 1, 1), AE_OK);
    ck_assert_int_eq(g.out_h, 2 * 3 + 3 - 2 + 1);
    ck_assert_int_eq(g.out_w, 2 * 5 + 1 - 2 + 1);
}
END_TEST

/* ------------------------------------------------------------------ limits */

/* Asserts that a geometry call failed with AE_EINVAL, said something about `topic`, and left *g alone. */
#define ASSERT_REFUSED(call, topic)                                                        \
    do {                                                                                   \
        conv_geom g_before;                                                                \
        memset(&g, 0x5a, sizeof g);                                                        \
        g_before = g;                                                                      \
        error_clear();                                                                     \
        int rc_ = (call);                                                                  \
        ck_assert_msg(rc_ == AE_EINVAL, "%s: rc %d, want AE_EINVAL", #call, rc_);         \
        ck_assert_int_eq(error_code(), AE_EINVAL);                                         \
        ck_assert_msg(strstr(error_message(), (topic)) != NULL, "%s: message '%s' does not mention '%s'", \
                      #call, error_message(), (topic));                                    \
        ck_assert_msg(memcmp(&g, &g_before, sizeof g) == 0, "%s changed *g on failure", #call); \
    } while (0)

START_TEST(test_limits_conv2d)
{
    conv_geom g;
    ASSERT_REFUSED(conv2d_geom(&g, 1, 28, 28, 16, 3, 3, 0, PAD_SAME, 0), "stride");
    ASSERT_REFUSED(conv2d_geom(&g, 1, 28, 28, 16, 3, 3, -2, PAD_VALID, 0), "stride");
    ASSERT_REFUSED(conv2d_geom(&g, 0, 28, 28, 16, 3, 3, 1, PAD_SAME, 0), "input shape");
    ASSERT_REFUSED(conv2d_geom(&g, 1, -4, 28, 16, 3, 3, 1, PAD_SAME, 0), "input shape");
    ASSERT_REFUSED(conv2d_geom(&g, 1, 28, 0, 16, 3, 3, 1, PAD_SAME, 0), "input shape");
    ASSERT_REFUSED(conv2d_geom(&g, 1, 28, 28, 0, 3, 3, 1, PAD_SAME, 0), "filters");
    ASSERT_REFUSED(conv2d_geom(&g, 1, 28, 28, 4, 0, 3, 1, PAD_SAME, 0), "kernel");
    ASSERT_REFUSED(conv2d_geom(&g, 1, 28, 28, 4, 3, -1, 1, PAD_SAME, 0), "kernel");
    ASSERT_REFUSED(conv2d_geom(&g, 1, 4, 28, 4, 5, 3, 1, PAD_VALID, 0), "no output");
    ASSERT_REFUSED(conv2d_geom(&g, 1, 28, 2, 4, 3, 3, 1, PAD_VALID, 0), "no output");
    ASSERT_REFUSED(conv2d_geom(&g, 1, 2, 2, 4, 7, 7, 1, PAD_EXPLICIT, 2), "no output");
    ASSERT_REFUSED(conv2d_geom(&g, 1, 28, 28, 4, 3, 3, 1, PAD_EXPLICIT, -1), "padding");
    ASSERT_REFUSED(conv2d_geom(&g, 1, 28, 28, 4, 3, 3, 1, PAD_SAME, 1), "PAD_EXPLICIT");
    ASSERT_REFUSED(conv2d_geom(&g, 1, 28, 28, 4, 3, 3, 1, (padding_mode)7, 0), "padding mode");
    /* the edge that still works: a kernel exactly as large as the input */
    ck_assert_int_eq(conv2d_geom(&g, 1, 5, 5, 1, 5, 5, 3, PAD_VALID, 0), AE_OK);
    ck_assert_int_eq(g.out_h, 1);
}
END_TEST

START_TEST(test_limits_conv2d_transpose)
{
    conv_geom g;
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 8, 7, 7, 8, 3, 3, 0, PAD_SAME, 0, 0), "stride");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 8, 7, 7, 8, 3, 3, 2, PAD_EXPLICIT, 1, 2), "output padding");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 8, 7, 7, 8, 3, 3, 2, PAD_EXPLICIT, 1, 5), "output padding");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 8, 7, 7, 8, 3, 3, 1, PAD_EXPLICIT, 0, 1), "output padding");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 8, 7, 7, 8, 3, 3, 2, PAD_EXPLICIT, 1, -1), "output padding");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 8, 7, 7, 8, 3, 3, 2, PAD_SAME, 0, 1), "PAD_EXPLICIT");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 8, 7, 7, 8, 3, 3, 2, PAD_VALID, 2, 0), "PAD_EXPLICIT");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 8, 0, 7, 8, 3, 3, 2, PAD_SAME, 0, 0), "input shape");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, -8, 7, 7, 8, 3, 3, 2, PAD_SAME, 0, 0), "input shape");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 8, 7, 7, 0, 3, 3, 2, PAD_SAME, 0, 0), "filters");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 8, 7, 7, 8, 0, 0, 2, PAD_SAME, 0, 0), "kernel");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 8, 7, 7, 8, 3, 3, 2, PAD_EXPLICIT, -1, 0), "padding");
    /* 1·(1 − 1) + 1 − 2·1 = −1 rows: the padding crops everything */
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 1, 1, 1, 1, 1, 1, 1, PAD_EXPLICIT, 1, 0), "crops everything");
    ASSERT_REFUSED(conv2d_transpose_geom(&g, 1, 2, 2, 1, 2, 2, 1, PAD_EXPLICIT, 2, 0), "crops everything");
    /* the edge that still works: exactly one row left */
    ck_assert_int_eq(conv2d_transpose_geom(&g, 1, 1, 1, 1, 5, 5, 1, PAD_EXPLICIT, 2, 0), AE_OK);
    ck_assert_int_eq(g.out_h, 1);
}
END_TEST

/* ------------------------------------------------------------ known values */

/* Conv2DTranspose of [[0,1],[2,3]] with the kernel [[0,1],[2,3]] (valid padding) and the given
 * stride and bias: a side x side output, want + bias. want (side, side) */
static void assert_transposed_example(int stride, float bias, const float *want, int side)
{
    const float in[4] = { 0, 1, 2, 3 }, kernel[4] = { 0, 1, 2, 3 };
    conv_geom g;
    ck_assert_int_eq(conv2d_transpose_geom(&g, 1, 2, 2, 1, 2, 2, stride, PAD_VALID, 0, 0), AE_OK);
    ck_assert_int_eq(g.out_h, side);
    ck_assert_int_eq(g.out_w, side);
    float out[16];
    conv2d_transpose_forward(out, in, kernel, bias != 0.0f ? &bias : NULL, &g, 1);
    for (int i = 0; i < side * side; i++)
        ck_assert_msg(fabsf(out[i] - (want[i] + bias)) < 1e-6f, "out[%d][%d] = %g, want %g",
                      i / side, i % side, out[i], want[i] + bias);
}

START_TEST(test_known_transposed_stride1)
{
    /* scatter in[i][j]·K into out[i..i+1][j..j+1]:
     *   1·K at (0,1): (0,2)+=1, (1,1)+=2, (1,2)+=3
     *   2·K at (1,0): (1,1)+=2, (2,0)+=4, (2,1)+=6
     *   3·K at (1,1): (1,2)+=3, (2,1)+=6, (2,2)+=9      → [[0,0,1],[0,4,6],[4,12,9]] */
    const float want[9] = { 0, 0, 1, 0, 4, 6, 4, 12, 9 };
    assert_transposed_example(1, 0.0f, want, 3);
}
END_TEST

START_TEST(test_known_transposed_stride2)
{
    /* with stride 2 the 2x2 windows no longer overlap: in[i][j]·K fills block (2i..2i+1, 2j..2j+1)
     *   0·K → [[0,0],[0,0]] top-left      1·K → [[0,1],[2,3]] top-right
     *   2·K → [[0,2],[4,6]] bottom-left   3·K → [[0,3],[6,9]] bottom-right
     * plus a bias of 0.125 everywhere. */
    const float want[16] = { 0, 0, 0, 1,
                             0, 0, 2, 3,
                             0, 2, 0, 3,
                             4, 6, 6, 9 };
    assert_transposed_example(2, 0.125f, want, 4);
}
END_TEST

START_TEST(test_known_conv2d_same_stride2)
{
    /* 3x3 input, 2x2 kernel [[2,0],[0,-1]], stride 2, 'same': OH = 2, pad_total = 1, all of it at the
     * bottom/right, so window (i,j) covers rows 2i..2i+1, columns 2j..2j+1 (row/column 3 is padding):
     *   (0,0): 2·1 − 1·5 = −3     (0,1): 2·3 − 1·0 = 6
     *   (1,0): 2·7 − 1·0 = 14     (1,1): 2·9 − 1·0 = 18     then + bias −0.75 */
    const float in[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, kernel[4] = { 2, 0, 0, -1 }, bias[1] = { -0.75f };
    const float want[4] = { -3 - 0.75f, 6 - 0.75f, 14 - 0.75f, 18 - 0.75f };
    conv_geom g;
    ck_assert_int_eq(conv2d_geom(&g, 1, 3, 3, 1, 2, 2, 2, PAD_SAME, 0), AE_OK);
    ck_assert_int_eq(g.out_h, 2); ck_assert_int_eq(g.pad_top, 0);
    float out[4];
    conv2d_forward(out, in, kernel, bias, &g, 1);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabsf(out[i] - want[i]) < 1e-6f, "out[%d] = %g, want %g", i, out[i], want[i]);
}
END_TEST

START_TEST(test_known_dense)
{
    /* W = [[0.2, −0.4, 1.1], [0.75, 0.5, −1.25]], b = [0.3, −0.6]
     *   x = [1.5, −2.25, 0.5]:  0.3 + 0.9 + 0.55 + 0.3 = 2.05;   1.125 − 1.125 − 0.625 − 0.6 = −1.225
     *   x = [−0.5, 1.25, 2.0]: −0.1 − 0.5 + 2.2 + 0.3 = 1.9;     −0.375 + 0.625 − 2.5 − 0.6 = −2.85 */
    const float in[6] = { 1.5f, -2.25f, 0.5f, -0.5f, 1.25f, 2.0f };
    const float weight[6] = { 0.2f, -0.4f, 1.1f, 0.75f, 0.5f, -1.25f }, bias[2] = { 0.3f, -0.6f };
    const float want[4] = { 2.05f, -1.225f, 1.9f, -2.85f };
    float out[4];
    dense_forward(out, in, weight, bias, 2, 3, 2);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabsf(out[i] - want[i]) < 1e-5f, "out[%d] = %g, want %g", i, out[i], want[i]);

    /* d_out = [0.5, −1.5] for the first sample only:
     *   d_in = 0.5·[0.2, −0.4, 1.1] − 1.5·[0.75, 0.5, −1.25] = [−1.025, −0.95, 2.425]
     *   d_W = d_outᵀ·x = [[0.75, −1.125, 0.25], [−2.25, 3.375, −0.75]],  d_b = [0.5, −1.5] */
    const float d_out[2] = { 0.5f, -1.5f };
    const float want_in[3] = { -1.025f, -0.95f, 2.425f };
    const float want_w[6] = { 0.75f, -1.125f, 0.25f, -2.25f, 3.375f, -0.75f }, want_b[2] = { 0.5f, -1.5f };
    float d_in[3] = { 0 }, d_w[6] = { 0 }, d_b[2] = { 0 };
    dense_backward(d_in, d_w, d_b, d_out, in, weight, 1, 3, 2);
    for (int i = 0; i < 3; i++) ck_assert_float_eq_tol(d_in[i], want_in[i], 1e-5f);
    for (int i = 0; i < 6; i++) ck_assert_float_eq_tol(d_w[i], want_w[i], 1e-5f);
    for (int i = 0; i < 2; i++) ck_assert_float_eq_tol(d_b[i], want_b[i], 1e-5f);
    /* no bias: the plain product */
    dense_forward(out, in, weight, NULL, 1, 3, 2);
    ck_assert_float_eq_tol(out[0], 2.05f - 0.3f, 1e-5f);
    ck_assert_float_eq_tol(out[1], -1.225f + 0.6f, 1e-5f);
}
END_TEST

START_TEST(test_known_activations)
{
    const float in[7] = { -1000.0f, -100.0f, -2.385f, 0.0f, 0.75f, 100.0f, 1000.0f };
    float out[7];
    relu_forward(out, in, 7);
    for (int i = 0; i < 7; i++) ck_assert_float_eq(out[i], in[i] > 0 ? in[i] : 0.0f);
    sigmoid_forward(out, in, 7);
    for (int i = 0; i < 7; i++) {
        ck_assert_msg(isfinite(out[i]) && out[i] >= 0.0f && out[i] <= 1.0f, "sigmoid(%g) = %g", in[i], out[i]);
        /* an independent form: σ(x) = (1 + tanh(x/2))/2 */
        ck_assert_double_eq_tol(out[i], 0.5 * (1.0 + tanh(in[i] / 2.0)), 1e-6);
    }
    ck_assert_float_eq(out[3], 0.5f);
    ck_assert_float_eq(out[6], 1.0f);
    ck_assert_float_eq(out[0], 0.0f);
    ck_assert_float_gt(out[1], 0.0f);                   /* e^−100 ≈ 3.7e−44 is a float denormal, not 0 */
    tanh_forward(out, in, 7);
    for (int i = 0; i < 7; i++) ck_assert_double_eq_tol(out[i], tanh((double)in[i]), 1e-6);
    ck_assert_float_eq(out[0], -1.0f);
    ck_assert_float_eq(out[6], 1.0f);
    /* backward at the saturated ends: exactly zero, not NaN */
    float grad[7] = { 0 }, ones[7] = { 1, 1, 1, 1, 1, 1, 1 };
    sigmoid_forward(out, in, 7);
    sigmoid_backward(grad, ones, out, 7);
    ck_assert_float_eq(grad[0], 0.0f);
    ck_assert_float_eq(grad[6], 0.0f);
    ck_assert_float_eq(grad[3], 0.25f);
}
END_TEST

START_TEST(test_known_resampling)
{
    /* upsample2 copies each pixel into a 2x2 block */
    const float small[4] = { 1.5f, -2.0f, 0.25f, 3.0f };
    const float up_want[16] = { 1.5f, 1.5f, -2.0f, -2.0f,
                                1.5f, 1.5f, -2.0f, -2.0f,
                                0.25f, 0.25f, 3.0f, 3.0f,
                                0.25f, 0.25f, 3.0f, 3.0f };
    float up[16], d_small[4] = { 0 };
    upsample2_forward(up, small, 1, 1, 2, 2);
    for (int i = 0; i < 16; i++) ck_assert_float_eq(up[i], up_want[i]);
    /* backward: each input pixel collects the sum of its four copies' gradients */
    const float d_up[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    upsample2_backward(d_small, d_up, 1, 1, 2, 2);
    ck_assert_float_eq(d_small[0], 1 + 2 + 5 + 6);
    ck_assert_float_eq(d_small[1], 3 + 4 + 7 + 8);
    ck_assert_float_eq(d_small[2], 9 + 10 + 13 + 14);
    ck_assert_float_eq(d_small[3], 11 + 12 + 15 + 16);

    /* maxpool2 on 5x5: the last row and column are dropped (Keras 'valid');
     * the window at (0,1) holds 4.5 twice, so its gradient goes to the first one, (0,2). */
    const float img[25] = { 0.5f, 1.25f, 4.5f, 4.5f, 99.0f,
                            2.0f, -1.0f, 0.0f, 3.0f, 99.0f,
                            -3.0f, -2.5f, 7.0f, 6.0f, 99.0f,
                            -4.0f, -2.75f, 6.5f, 7.0f, 99.0f,
                            99.0f, 99.0f, 99.0f, 99.0f, 99.0f };
    float pooled[4], d_img[25] = { 0 };
    maxpool2_forward(pooled, img, 1, 1, 5, 5);
    ck_assert_float_eq(pooled[0], 2.0f);
    ck_assert_float_eq(pooled[1], 4.5f);
    ck_assert_float_eq(pooled[2], -2.5f);
    ck_assert_float_eq(pooled[3], 7.0f);
    const float d_pooled[4] = { 0.5f, -1.5f, 2.25f, 3.125f };
    maxpool2_backward(d_img, d_pooled, img, 1, 1, 5, 5);
    float want[25] = { 0 };
    want[1 * 5 + 0] = 0.5f;      /* 2.0 */
    want[0 * 5 + 2] = -1.5f;     /* the first 4.5 */
    want[2 * 5 + 1] = 2.25f;     /* −2.5 */
    want[2 * 5 + 2] = 3.125f;    /* the first 7.0, row 2 before row 3 */
    for (int i = 0; i < 25; i++)
        ck_assert_msg(d_img[i] == want[i], "d_in[%d][%d] = %g, want %g", i / 5, i % 5, d_img[i], want[i]);
}
END_TEST

/* -------------------------------------------------------------- adjoint */

/* ⟨conv2d(x), y⟩ = ⟨x, conv2d_transpose(y)⟩ when the transposed layer has the convolution's geometry
 * with input and output swapped and the same weight array (no bias). */
START_TEST(test_reference_adjoint)
{
    gsl_rng *rng = test_rng(31337);
    int tested = 0;
    while (tested < 40) {
        conv_geom g;
        int batch;
        if (test_random_conv_geom(&g, &batch, 0, rng) != AE_OK) continue;
        conv_geom gt = g;
        gt.in_c = g.out_c; gt.in_h = g.out_h; gt.in_w = g.out_w;
        gt.out_c = g.in_c; gt.out_h = g.in_h; gt.out_w = g.in_w;
        size_t n_x = (size_t)batch * conv_in_size(&g), n_y = (size_t)batch * conv_out_size(&g);
        size_t n_w = conv_weight_size(&g);
        float *x = floats(n_x), *y = floats(n_y), *w = floats(n_w), *conv_x = floats(n_y), *convt_y = floats(n_x);
        fill_uniform(x, n_x, -1.0, 1.0, rng);
        fill_uniform(y, n_y, -1.0, 1.0, rng);
        fill_uniform(w, n_w, -1.0, 1.0, rng);
        conv2d_forward(conv_x, x, w, NULL, &g, batch);
        conv2d_transpose_forward(convt_y, y, w, NULL, &gt, batch);
        double lhs = dot_f(conv_x, y, n_y), rhs = dot_f(x, convt_y, n_x);
        double scale = 0.0;
        for (size_t i = 0; i < n_y; i++) scale += fabs((double)conv_x[i] * y[i]);
        char what[160];
        describe(what, sizeof what, "adjoint", &g, batch);
        ck_assert_msg(fabs(lhs - rhs) <= 1e-5 * fmax(1.0, scale), "%s: <conv x, y> = %.9g, <x, convT y> = %.9g",
                      what, lhs, rhs);
        free(x); free(y); free(w); free(conv_x); free(convt_y);
        tested++;
    }
    gsl_rng_free(rng);
}
END_TEST

/* ---------------------------------------------------------------- gradient */

typedef enum { PROBE_DENSE, PROBE_CONV2D, PROBE_CONV2D_T, PROBE_RELU, PROBE_SIGMOID, PROBE_TANH,
               PROBE_UPSAMPLE2, PROBE_MAXPOOL2 } probe_kind;

/* One layer with fixed data, and the loss L = Σ r·y of its output. */
typedef struct {
    probe_kind kind;
    int batch;
    int in_features, out_features;     /* dense */
    conv_geom g;                       /* convolutions */
    int channels, h, w;                /* resampling */
    size_t n_in, n_out, n_w, n_b;
    float *in, *weight, *bias, *out, *r;
} probe;

static void probe_forward(probe *p)
{
    switch (p->kind) {
    case PROBE_DENSE: dense_forward(p->out, p->in, p->weight, p->bias, p->batch, p->in_features, p->out_features); break;
    case PROBE_CONV2D: conv2d_forward(p->out, p->in, p->weight, p->bias, &p->g, p->batch); break;
    case PROBE_CONV2D_T: conv2d_transpose_forward(p->out, p->in, p->weight, p->bias, &p->g, p->batch); break;
    case PROBE_RELU: relu_forward(p->out, p->in, p->n_in); break;
    case PROBE_SIGMOID: sigmoid_forward(p->out, p->in, p->n_in); break;
    case PROBE_TANH: tanh_forward(p->out, p->in, p->n_in); break;
    case PROBE_UPSAMPLE2: upsample2_forward(p->out, p->in, p->batch, p->channels, p->h, p->w); break;
    case PROBE_MAXPOOL2: maxpool2_forward(p->out, p->in, p->batch, p->channels, p->h, p->w); break;
    }
}

/* Backward with d_out = r; adds into d_in (may be NULL for the layers that allow it), d_w, d_b. */
static void probe_backward(probe *p, float *d_in, float *d_w, float *d_b)
{
    probe_forward(p);       /* sigmoid and tanh read the forward's output */
    switch (p->kind) {
    case PROBE_DENSE: dense_backward(d_in, d_w, d_b, p->r, p->in, p->weight, p->batch, p->in_features, p->out_features); break;
    case PROBE_CONV2D: conv2d_backward(d_in, d_w, d_b, p->r, p->in, p->weight, &p->g, p->batch); break;
    case PROBE_CONV2D_T: conv2d_transpose_backward(d_in, d_w, d_b, p->r, p->in, p->weight, &p->g, p->batch); break;
    case PROBE_RELU: relu_backward(d_in, p->r, p->in, p->n_in); break;
    case PROBE_SIGMOID: sigmoid_backward(d_in, p->r, p->out, p->n_in); break;
    case PROBE_TANH: tanh_backward(d_in, p->r, p->out, p->n_in); break;
    case PROBE_UPSAMPLE2: upsample2_backward(d_in, p->r, p->batch, p->channels, p->h, p->w); break;
    case PROBE_MAXPOOL2: maxpool2_backward(d_in, p->r, p->in, p->batch, p->channels, p->h, p->w); break;
    }
}

static double probe_loss(void *ctx)
{
    probe *p = ctx;
    probe_forward(p);
    return dot_f(p->r, p->out, p->n_out);
}

/* Fills in, weight, bias and r with U(−1, 1) after the sizes are set. */
static void probe_alloc(probe *p, gsl_rng *rng)
{
    p->in = floats(p->n_in);
    p->weight = p->n_w ? floats(p->n_w) : NULL;
    p->bias = p->n_b ? floats(p->n_b) : NULL;
    p->out = floats(p->n_out);
    p->r = floats(p->n_out);
    fill_uniform(p->in, p->n_in, -1.0, 1.0, rng);
    if (p->weight) fill_uniform(p->weight, p->n_w, -1.0, 1.0, rng);
    if (p->bias) fill_uniform(p->bias, p->n_b, -1.0, 1.0, rng);
    fill_uniform(p->r, p->n_out, -1.0, 1.0, rng);
}

static void probe_free(probe *p)
{
    free(p->in); free(p->weight); free(p->bias); free(p->out); free(p->r);
}

/* |a − 2·b| small for every entry: the second backward added the same again. */
static void assert_doubled(const float *twice, const float *once, size_t n, const char *what, const char *name)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(twice[i] - 2.0f * once[i]) <= 1e-5f * fmaxf(1.0f, fabsf(once[i])),
                      "%s: %s[%zu] = %g after two backward calls, once %g: backward must add", what, name, i,
                      twice[i], once[i]);
}

/* Finite differences on the input and on every parameter, then a second backward that must double them. */
static void check_probe(probe *p, const char *what)
{
    float *d_in = floats(p->n_in), *d_w = floats(p->n_w), *d_b = floats(p->n_b);
    probe_backward(p, d_in, p->n_w ? d_w : NULL, p->n_b ? d_b : NULL);
    size_t worst = 0;
    double err = gradcheck(probe_loss, p, p->in, d_in, p->n_in, FD_STEP, FD_MAX_CHECKS, &worst);
    ck_assert_msg(err < FD_TOL, "%s: d_in[%zu] = %g differs from finite differences (rel. err %g)",
                  what, worst, d_in[worst], err);
    if (p->n_w) {
        err = gradcheck(probe_loss, p, p->weight, d_w, p->n_w, FD_STEP, FD_MAX_CHECKS, &worst);
        ck_assert_msg(err < FD_TOL, "%s: d_weight[%zu] = %g differs from finite differences (rel. err %g)",
                      what, worst, d_w[worst], err);
    }
    if (p->n_b) {
        err = gradcheck(probe_loss, p, p->bias, d_b, p->n_b, FD_STEP, FD_MAX_CHECKS, &worst);
        ck_assert_msg(err < FD_TOL, "%s: d_bias[%zu] = %g differs from finite differences (rel. err %g)",
                      what, worst, d_b[worst], err);
    }

    float *d_in2 = floats(p->n_in), *d_w2 = floats(p->n_w), *d_b2 = floats(p->n_b);
    memcpy(d_in2, d_in, p->n_in * sizeof *d_in);
    if (p->n_w) memcpy(d_w2, d_w, p->n_w * sizeof *d_w);
    if (p->n_b) memcpy(d_b2, d_b, p->n_b * sizeof *d_b);
    probe_backward(p, d_in2, p->n_w ? d_w2 : NULL, p->n_b ? d_b2 : NULL);
    assert_doubled(d_in2, d_in, p->n_in, what, "d_in");
    assert_doubled(d_w2, d_w, p->n_w, what, "d_weight");
    assert_doubled(d_b2, d_b, p->n_b, what, "d_bias");

    /* layers with parameters skip d_in when it is NULL, and still give the same parameter gradients */
    if (p->n_w) {
        memset(d_w2, 0, p->n_w * sizeof *d_w2);
        memset(d_b2, 0, p->n_b * sizeof *d_b2);
        probe_backward(p, NULL, d_w2, p->n_b ? d_b2 : NULL);
        ck_assert_msg(max_abs_diff(d_w2, d_w, p->n_w) == 0.0, "%s: d_weight changes when d_in is NULL", what);
        ck_assert_msg(max_abs_diff(d_b2, d_b, p->n_b) == 0.0, "%s: d_bias changes when d_in is NULL", what);
        /* and the input gradient alone, without the parameter gradients */
        memset(d_in2, 0, p->n_in * sizeof *d_in2);
        probe_backward(p, d_in2, NULL, NULL);
        ck_assert_msg(max_abs_diff(d_in2, d_in, p->n_in) == 0.0, "%s: d_in changes when d_weight is NULL", what);
    }
    free(d_in); free(d_w); free(d_b); free(d_in2); free(d_w2); free(d_b2);
}

/* The convolution table: shapes, strides 1–3, every padding, output paddings, 1 to 4 channels, batch 1 and 3.
 * (c, h, w) is the layer's input; out_pad applies to the transposed layer in explicit mode only. */
typedef struct {
    int c, h, w, oc, k_h, k_w, stride;
    padding_mode mode;
    int pad, out_pad, batch;
} conv_case;

static const conv_case conv_cases[] = {
    { 1, 5, 5, 1, 3, 3, 1, PAD_VALID, 0, 0, 1 },
    { 2, 6, 7, 3, 3, 3, 2, PAD_SAME, 0, 0, 3 },
    { 3, 7, 6, 2, 3, 2, 2, PAD_SAME, 0, 0, 1 },     /* odd sizes: the extra padding row at the bottom */
    { 1, 8, 8, 4, 3, 3, 3, PAD_SAME, 0, 0, 3 },
    { 2, 5, 6, 2, 4, 3, 1, PAD_EXPLICIT, 1, 0, 3 },
    { 3, 6, 5, 1, 3, 3, 2, PAD_EXPLICIT, 1, 1, 1 },
    { 4, 4, 4, 3, 2, 2, 2, PAD_VALID, 0, 0, 3 },
    { 2, 4, 5, 3, 5, 5, 3, PAD_EXPLICIT, 2, 2, 1 },
    { 1, 3, 3, 2, 1, 1, 1, PAD_VALID, 0, 0, 3 },
    { 3, 7, 7, 2, 3, 3, 3, PAD_VALID, 0, 0, 3 },
    { 2, 3, 4, 2, 2, 2, 3, PAD_VALID, 0, 0, 3 },    /* kernel smaller than the stride: gaps */
    { 2, 5, 4, 3, 3, 3, 2, PAD_EXPLICIT, 2, 1, 3 },
    { 1, 4, 5, 3, 2, 1, 3, PAD_VALID, 0, 0, 3 },    /* transposed: one input channel, phases no tap reaches */
    { 4, 6, 6, 1, 3, 3, 1, PAD_SAME, 0, 0, 3 },     /* one output channel, as a decoder's last layer */
};
#define N_CONV_CASES ((int)(sizeof conv_cases / sizeof conv_cases[0]))

static void conv_probe(probe *p, const conv_case *cc, int transposed, gsl_rng *rng, char *what, size_t len)
{
    memset(p, 0, sizeof *p);
    int rc = transposed
        ? conv2d_transpose_geom(&p->g, cc->c, cc->h, cc->w, cc->oc, cc->k_h, cc->k_w, cc->stride, cc->mode,
                                cc->pad, cc->mode == PAD_EXPLICIT ? cc->out_pad : 0)
        : conv2d_geom(&p->g, cc->c, cc->h, cc->w, cc->oc, cc->k_h, cc->k_w, cc->stride, cc->mode, cc->pad);
    ck_assert_msg(rc == AE_OK, "table geometry refused: %s", error_message());
    p->kind = transposed ? PROBE_CONV2D_T : PROBE_CONV2D;
    p->batch = cc->batch;
    p->n_in = (size_t)cc->batch * conv_in_size(&p->g);
    p->n_out = (size_t)cc->batch * conv_out_size(&p->g);
    p->n_w = conv_weight_size(&p->g);
    p->n_b = (size_t)p->g.out_c;
    probe_alloc(p, rng);
    char shape[160];
    describe(shape, sizeof shape, transposed ? "conv2d_transpose" : "conv2d", &p->g, p->batch);
    snprintf(what, len, "%s %s", shape, mode_name(cc->mode));
}

/* Every row of the table, for conv2d (the first N_CONV_CASES) and conv2d_transpose (the next). */
START_TEST(test_gradient_convolutions)
{
    const int transposed = _i >= N_CONV_CASES, row = _i % N_CONV_CASES;
    gsl_rng *rng = test_rng((transposed ? 200 : 100) + (unsigned long)row);
    probe p;
    char what[200];
    conv_probe(&p, &conv_cases[row], transposed, rng, what, sizeof what);
    check_probe(&p, what);
    probe_free(&p);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_gradient_dense)
{
    const int shapes[][3] = { { 1, 1, 1 }, { 3, 5, 4 }, { 1, 7, 2 }, { 3, 2, 9 } };  /* batch, IN, OUT */
    gsl_rng *rng = test_rng(300);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        probe p;
        memset(&p, 0, sizeof p);
        p.kind = PROBE_DENSE;
        p.batch = shapes[s][0];
        p.in_features = shapes[s][1];
        p.out_features = shapes[s][2];
        p.n_in = (size_t)p.batch * p.in_features;
        p.n_out = (size_t)p.batch * p.out_features;
        p.n_w = (size_t)p.in_features * p.out_features;
        p.n_b = (size_t)p.out_features;
        probe_alloc(&p, rng);
        char what[64];
        snprintf(what, sizeof what, "dense B=%d %d->%d", p.batch, p.in_features, p.out_features);
        check_probe(&p, what);
        probe_free(&p);
    }
    gsl_rng_free(rng);
}
END_TEST

static void check_elementwise(probe_kind kind, const char *name, double lo, double hi, gsl_rng *rng)
{
    probe p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.n_in = p.n_out = 3 * 17;
    probe_alloc(&p, rng);
    fill_uniform(p.in, p.n_in, lo, hi, rng);
    if (kind == PROBE_RELU)           /* keep every input a step or more away from the kink at 0 */
        for (size_t i = 0; i < p.n_in; i++) p.in[i] += p.in[i] >= 0 ? 0.05f : -0.05f;
    check_probe(&p, name);
    probe_free(&p);
}

START_TEST(test_gradient_activations)
{
    gsl_rng *rng = test_rng(400);
    check_elementwise(PROBE_RELU, "relu", -2.0, 2.0, rng);
    check_elementwise(PROBE_SIGMOID, "sigmoid", -4.0, 4.0, rng);
    check_elementwise(PROBE_TANH, "tanh", -2.5, 2.5, rng);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_gradient_resampling)
{
    gsl_rng *rng = test_rng(500);
    const int shapes[][4] = { { 1, 1, 2, 2 }, { 3, 2, 5, 4 }, { 1, 3, 7, 9 } };   /* batch, C, H, W */
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int pool = 0; pool < 2; pool++) {
            probe p;
            memset(&p, 0, sizeof p);
            p.kind = pool ? PROBE_MAXPOOL2 : PROBE_UPSAMPLE2;
            p.batch = shapes[s][0]; p.channels = shapes[s][1]; p.h = shapes[s][2]; p.w = shapes[s][3];
            p.n_in = (size_t)p.batch * p.channels * p.h * p.w;
            p.n_out = pool ? (size_t)p.batch * p.channels * (p.h / 2) * (p.w / 2) : 4 * p.n_in;
            probe_alloc(&p, rng);
            if (pool) {
                /* distinct values 0.1 apart, shuffled: no window has a tie within a finite-difference step */
                for (size_t i = 0; i < p.n_in; i++) p.in[i] = 0.1f * (float)i - 1.0f;
                gsl_ran_shuffle(rng, p.in, p.n_in, sizeof(float));
            }
            char what[64];
            snprintf(what, sizeof what, "%s B=%d C=%d %dx%d", pool ? "maxpool2" : "upsample2",
                     p.batch, p.channels, p.h, p.w);
            check_probe(&p, what);
            probe_free(&p);
        }
    }
    gsl_rng_free(rng);
}
END_TEST

Suite *layers_suite(void)
{
    Suite *s = suite_create("layers");

    TCase *tc = test_case(s, "Geometry", 0);
    test_add(tc, test_geom_keras_conv, test_geom_keras_transposed, test_geom_autoencoder_chain,
             test_geom_explicit_grid, test_geom_rectangular);

    tc = test_case(s, "Limits", 0);
    test_add(tc, test_limits_conv2d, test_limits_conv2d_transpose);

    tc = test_case(s, "Known values", 0);
    test_add(tc, test_known_transposed_stride1, test_known_transposed_stride2, test_known_conv2d_same_stride2,
             test_known_dense, test_known_activations, test_known_resampling);

    tc = test_case(s, "Reference", 30);
    tcase_add_test(tc, test_reference_adjoint);

    tc = test_case(s, "Gradient", 30);
    tcase_add_loop_test(tc, test_gradient_convolutions, 0, 2 * N_CONV_CASES);
    test_add(tc, test_gradient_dense, test_gradient_activations, test_gradient_resampling);

    return s;
}
