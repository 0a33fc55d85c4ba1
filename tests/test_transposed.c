/* test_transposed.c: the transposed convolution of week05-task3-transposed (tconv.c), the
 * library's conv2d_transpose_forward, and the program.
 *
 *   Core      the sheet's worked examples by hand (stride 1 and 2, padding, output padding,
 *             a non-square case), conv(conv^T(x)) != x, the overlap counts, parameter counts
 *   Agreement scatter, zero insertion and C^T against an independent gather written here, on
 *             random sizes, strides, paddings and output paddings; the adjoint identity
 *             <C x, y> = <x, C^T y>; the explicit C against the ordinary convolution
 *   Library   conv2d_transpose_forward (float, batches, channels) against the exercise's scatter
 *             summed over channel pairs, and against the gather
 *   Shapes    the out-size formulas over a grid of (i, k, s, p, a) against window counting, against
 *             the real outputs, and against conv2d_geom / conv2d_transpose_geom
 *   Limits    malformed matrices and parameters refused with the right code
 *   Program   bin/week05-task3-transposed: its results, agreement with the gather to 1e-5 relative
 *             on random input, and exit status 2 with no files on bad input
 *
 * The gather is the definition read from the output's side: out[o] = Σ_k K[k] · x[(o + p − k)/s]
 * over the k for which the division is exact, a different loop from the scatter's.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "layers.h"
#include "tconv_exercise.h"
#include "testutil.h"

#define PROGRAM "week05-task3-transposed"
#define EXACT_TOL 1e-12     /* relative to max(1, largest |value|): double-precision sums of a few terms */
#define FLOAT_TOL 1e-5      /* relative, for the library's float32 */

/* ------------------------------------------------------------ helpers */
static tconv_matrix *matrix_of(int rows, int cols, const double *values)
{
    tconv_matrix *m = tconv_matrix_alloc(rows, cols);
    ck_assert_ptr_nonnull(m);
    if (values) memcpy(m->data, values, (size_t)rows * cols * sizeof *values);
    return m;
}

/* Frees the matrices listed (none of them NULL): matrices_free(x, kernel, out). */
#define matrices_free(...) matrix_list_free((tconv_matrix *[]){ __VA_ARGS__, NULL })
static void matrix_list_free(tconv_matrix **list)
{
    for (; *list != NULL; list++) tconv_matrix_free(*list);
}

static tconv_matrix *random_matrix(int rows, int cols, gsl_rng *rng)
{
    tconv_matrix *m = matrix_of(rows, cols, NULL);
    for (int i = 0; i < rows * cols; i++) m->data[i] = 4.0 * gsl_rng_uniform(rng) - 2.0;
    return m;
}

/* out[o, c] = Σ_{kh,kw} K[kh,kw] · x[(o + p − kh)/s, (c + p − kw)/s] where both divide exactly.
 * out (OH, OW) */
static void gather(double *out, int out_rows, int out_cols, const tconv_matrix *x, const tconv_matrix *kernel,
                   int s, int p)
{
    for (int o = 0; o < out_rows; o++)
        for (int c = 0; c < out_cols; c++) {
            double sum = 0.0;
            for (int kh = 0; kh < kernel->rows; kh++) {
                int t = o + p - kh;
                if (t < 0 || t % s != 0 || t / s >= x->rows) continue;
                for (int kw = 0; kw < kernel->cols; kw++) {
                    int u = c + p - kw;
                    if (u < 0 || u % s != 0 || u / s >= x->cols) continue;
                    sum += kernel->data[kh * kernel->cols + kw] * x->data[(t / s) * x->cols + u / s];
                }
            }
            out[o * out_cols + c] = sum;
        }
}

/* max |a − b| / max(1, max |b|) */
static double rel_diff(const double *a, const double *b, size_t n)
{
    double worst = 0.0, scale = 1.0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(b[i]));
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(a[i] - b[i]));
    return worst / scale;
}

static void assert_values(const tconv_matrix *m, int rows, int cols, const double *expected, double tol,
                          const char *what)
{
    ck_assert_msg(m->rows == rows && m->cols == cols, "%s: shape %dx%d, expected %dx%d", what, m->rows, m->cols,
                  rows, cols);
    for (int i = 0; i < rows * cols; i++)
        ck_assert_msg(fabs(m->data[i] - expected[i]) <= tol, "%s: value %d is %.17g, expected %.17g", what, i,
                      m->data[i], expected[i]);
}

/* Runs all three of the exercise's methods and checks each against `expected` (OH, OW). */
static void assert_three_ways(const tconv_matrix *x, const tconv_matrix *kernel, const tconv_params *prm,
                              int rows, int cols, const double *expected, const char *what)
{
    int out_rows = 0, out_cols = 0;
    ck_assert_int_eq(tconv_transposed_check(&out_rows, &out_cols, x->rows, x->cols, kernel->rows, kernel->cols, prm),
                     AE_OK);
    ck_assert_int_eq(out_rows, rows);
    ck_assert_int_eq(out_cols, cols);
    tconv_matrix *out = matrix_of(rows, cols, NULL);
    char label[160];
    ck_assert_int_eq(tconv_scatter(out, x, kernel, prm), AE_OK);
    snprintf(label, sizeof label, "%s, scatter", what);
    assert_values(out, rows, cols, expected, 1e-12, label);
    ck_assert_int_eq(tconv_by_zero_insertion(out, x, kernel, prm), AE_OK);
    snprintf(label, sizeof label, "%s, zero insertion", what);
    assert_values(out, rows, cols, expected, 1e-12, label);
    ck_assert_int_eq(tconv_by_matrix(out, x, kernel, prm, 1000000), AE_OK);
    snprintf(label, sizeof label, "%s, C^T x", what);
    assert_values(out, rows, cols, expected, 1e-12, label);
    tconv_matrix_free(out);
}

/* Windows of size k that fit into i + 2p positions at steps of s, counted one by one. */
static long count_windows(long i, long k, long s, long p)
{
    long n = 0;
    for (long start = -p; start + k <= i + p; start += s) n++;
    return n;
}

/* ------------------------------------------------------------------ Core */
static const double example[] = { 0, 1, 2, 3 };   /* the sheet's x and K, [[0,1],[2,3]] */

/* assert_three_ways on the example: [[0,1],[2,3]] with itself as the kernel */
static void assert_example(tconv_params prm, int rows, int cols, const double *expected, const char *what)
{
    tconv_matrix *x = matrix_of(2, 2, example), *kernel = matrix_of(2, 2, example);
    assert_three_ways(x, kernel, &prm, rows, cols, expected, what);
    matrices_free(x, kernel);
}

START_TEST(test_sheet_example_stride1)
{
    /* by hand: 0·K at (0,0), 1·K at (0,1), 2·K at (1,0), 3·K at (1,1), summed */
    const double expected[] = { 0, 0, 1, 0, 4, 6, 4, 12, 9 };
    assert_example((tconv_params){ 1, 0, 0 }, 3, 3, expected, "[[0,1],[2,3]] conv^T [[0,1],[2,3]], s=1");
}
END_TEST

START_TEST(test_sheet_example_stride2_padding)
{
    /* stride 2: the four windows do not overlap; 1·K at (0,2), 2·K at (2,0), 3·K at (2,2) */
    const double stride2[] = { 0, 0, 0, 1,
                               0, 0, 2, 3,
                               0, 2, 0, 3,
                               4, 6, 6, 9 };
    const double padding1[] = { 0, 2,      /* rows and columns 1..2 of the above */
                                2, 0 };
    const double outpad1[] = { 0, 2, 3,    /* rows and columns 1..3 */
                               2, 0, 3,
                               6, 6, 9 };
    assert_example((tconv_params){ 2, 0, 0 }, 4, 4, stride2, "s=2");
    assert_example((tconv_params){ 2, 1, 0 }, 2, 2, padding1, "s=2, p=1");
    assert_example((tconv_params){ 2, 1, 1 }, 3, 3, outpad1, "s=2, p=1, a=1");
}
END_TEST

START_TEST(test_non_square_by_hand)
{
    /* x = [2.385, -1.5], K = [0.5; -2], stride 2: x0·K in column 0, x1·K in column 2 */
    const double xv[] = { 2.385, -1.5 }, kv[] = { 0.5, -2.0 };
    tconv_matrix *x = matrix_of(1, 2, xv), *kernel = matrix_of(2, 1, kv);
    const double expected[] = { 1.1925, 0, -0.75,
                                -4.77, 0, 3.0 };
    const tconv_params s2 = { 2, 0, 0 };
    assert_three_ways(x, kernel, &s2, 2, 3, expected, "1x2 with 2x1, s=2");
    /* with a = 1 a zero column is added at the right and a zero row at the bottom */
    const double padded[] = { 1.1925, 0, -0.75, 0,
                              -4.77, 0, 3.0, 0,
                              0, 0, 0, 0 };
    const tconv_params s2a1 = { 2, 0, 1 };
    assert_three_ways(x, kernel, &s2a1, 3, 4, padded, "1x2 with 2x1, s=2, a=1");
    matrices_free(x, kernel);
}
END_TEST

START_TEST(test_not_an_inverse)
{
    tconv_matrix *x = matrix_of(2, 2, example), *kernel = matrix_of(2, 2, example);
    tconv_matrix *up = matrix_of(3, 3, NULL), *back = matrix_of(2, 2, NULL);
    const tconv_params prm = { 1, 0, 0 };
    ck_assert_int_eq(tconv_scatter(up, x, kernel, &prm), AE_OK);
    ck_assert_int_eq(tconv_conv2d(back, up, kernel, &prm), AE_OK);
    /* by hand from [[0,0,1],[0,4,6],[4,12,9]]: 3·4 = 12; 1 + 2·4 + 3·6 = 27; 4 + 2·4 + 3·12 = 48;
     * 6 + 2·12 + 3·9 = 57 */
    const double expected[] = { 12, 27, 48, 57 };
    assert_values(back, 2, 2, expected, 1e-12, "conv(conv^T(x))");
    ck_assert_double_gt(tconv_max_abs_diff(back, x), 10.0);
    matrices_free(x, kernel, up, back);
}
END_TEST

START_TEST(test_conv2d_by_hand)
{
    /* 3x4 input, 2x2 kernel, stride 2, padding 1: out[o,c] reads x[2o−1+kh, 2c−1+kw] */
    const double xv[] = { 1.5, -2.0, 0.25, 3.0,
                          4.0, 0.5, -1.0, 2.0,
                          -3.5, 1.0, 2.5, 0.75 };
    const double kv[] = { 2.385, -1.0, 0.5, 1.25 };
    tconv_matrix *x = matrix_of(3, 4, xv), *kernel = matrix_of(2, 2, kv);
    int rows, cols;
    const tconv_params prm = { 2, 1, 0 };
    ck_assert_int_eq(tconv_conv_check(&rows, &cols, 3, 4, 2, 2, &prm), AE_OK);
    ck_assert_int_eq(rows, 2);   /* floor((3 + 2 − 2)/2) + 1 */
    ck_assert_int_eq(cols, 3);   /* floor((4 + 2 − 2)/2) + 1 */
    tconv_matrix *out = matrix_of(2, 3, NULL);
    ck_assert_int_eq(tconv_conv2d(out, x, kernel, &prm), AE_OK);
    const double expected[] = {
        1.25 * 1.5,                                     /* window rows −1..0, cols −1..0 */
        0.5 * -2.0 + 1.25 * 0.25,                       /* cols 1..2 */
        0.5 * 3.0,                                      /* cols 3..4 */
        -1.0 * 4.0 + 1.25 * -3.5,                       /* rows 1..2, cols −1..0 */
        2.385 * 0.5 - 1.0 * -1.0 + 0.5 * 1.0 + 1.25 * 2.5,
        2.385 * 2.0 + 0.5 * 0.75,
    };
    assert_values(out, 2, 3, expected, 1e-12, "conv2d 3x4 by 2x2, s=2, p=1");
    matrices_free(x, kernel, out);
}
END_TEST

START_TEST(test_overlap_counts)
{
    /* all-ones 4x4 input and k x k kernel, stride 2, padding 1: along one axis the full output
     * 0..2·3+k−1 is covered by the windows [2i, 2i+k), cropped by 1 at the front */
    const double k3_axis[] = { 1, 2, 1, 2, 1, 2, 1, 1 };   /* a = 1 */
    const double k4_axis[] = { 1, 2, 2, 2, 2, 2, 2, 1 };   /* a = 0 */
    for (int k = 3; k <= 4; k++) {
        tconv_matrix *x = matrix_of(4, 4, NULL), *kernel = matrix_of(k, k, NULL), *out = matrix_of(8, 8, NULL);
        for (int i = 0; i < 16; i++) x->data[i] = 1.0;
        for (int i = 0; i < k * k; i++) kernel->data[i] = 1.0;
        const tconv_params prm = { 2, 1, k == 3 ? 1 : 0 };
        ck_assert_int_eq(tconv_scatter(out, x, kernel, &prm), AE_OK);
        const double *axis = k == 3 ? k3_axis : k4_axis;
        double expected[64];
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++) expected[r * 8 + c] = axis[r] * axis[c];
        assert_values(out, 8, 8, expected, 0.0, k == 3 ? "overlap, k=3" : "overlap, k=4");
        matrices_free(x, kernel, out);
    }
}
END_TEST

START_TEST(test_parameter_counts)
{
    /* the Fashion-MNIST model's five layers, as Keras reports them */
    ck_assert_int_eq(tconv_param_count(3, 3, 1, 16), 160);
    ck_assert_int_eq(tconv_param_count(3, 3, 16, 8), 1160);
    ck_assert_int_eq(tconv_param_count(3, 3, 8, 8), 584);
    ck_assert_int_eq(tconv_param_count(3, 3, 8, 16), 1168);
    ck_assert_int_eq(tconv_param_count(3, 3, 16, 1), 145);
    ck_assert_int_eq(tconv_param_count(4, 4, 3, 12), 588);
    ck_assert_int_eq(tconv_param_count(2, 5, 7, 3), (2 * 5 * 7 + 1) * 3);
    int k = 0;
    ck_assert_int_eq(tconv_kernel_from_params(&k, 588, 3, 12), AE_OK);
    ck_assert_int_eq(k, 4);
    ck_assert_int_eq(tconv_kernel_from_params(&k, (5 * 5 * 3 + 1) * 6, 3, 6), AE_OK);
    ck_assert_int_eq(k, 5);
    ck_assert_int_eq(tconv_kernel_from_params(&k, (1 * 1 * 9 + 1) * 4, 9, 4), AE_OK);
    ck_assert_int_eq(k, 1);
    ck_assert_int_eq(tconv_kernel_from_params(&k, 589, 3, 12), AE_EDOM);   /* not a multiple of 12 */
    ck_assert_int_eq(tconv_kernel_from_params(&k, 600, 3, 12), AE_EDOM);   /* 49/3 is not whole */
    ck_assert_int_eq(tconv_kernel_from_params(&k, 12 * (3 * 5 + 1), 3, 12), AE_EDOM);   /* k*k = 5 */
}
END_TEST

START_TEST(test_parse_matrix)
{
    tconv_matrix *m = NULL;
    ck_assert_int_eq(tconv_parse_matrix(&m, "0,1;2,3", "--input", 8), AE_OK);
    assert_values(m, 2, 2, example, 0.0, "0,1;2,3");
    tconv_matrix_free(m);
    ck_assert_int_eq(tconv_parse_matrix(&m, "2.385,-1.5,7.25e-1", "--input", 8), AE_OK);
    const double row[] = { 2.385, -1.5, 0.725 };
    assert_values(m, 1, 3, row, 0.0, "one row");
    tconv_matrix_free(m);
    ck_assert_int_eq(tconv_parse_matrix(&m, "1.5;-2;3", "--kernel", 8), AE_OK);
    const double column[] = { 1.5, -2, 3 };
    assert_values(m, 3, 1, column, 0.0, "one column");
    tconv_matrix_free(m);
}
END_TEST

/* ------------------------------------------------------------- Agreement */
/* A random valid geometry: sizes 1..6, kernel 1..5, stride 1..4, a < s, p small enough. */
static void random_params(gsl_rng *rng, int *h, int *w, int *kh, int *kw, tconv_params *prm)
{
    *h = 1 + (int)gsl_rng_uniform_int(rng, 6);
    *w = 1 + (int)gsl_rng_uniform_int(rng, 6);
    *kh = 1 + (int)gsl_rng_uniform_int(rng, 5);
    *kw = 1 + (int)gsl_rng_uniform_int(rng, 5);
    prm->stride = 1 + (int)gsl_rng_uniform_int(rng, 4);
    prm->output_padding = (int)gsl_rng_uniform_int(rng, (unsigned long)prm->stride);
    long full = tconv_transposed_out_size(*h < *w ? *h : *w, *kh < *kw ? *kh : *kw, prm->stride, 0,
                                          prm->output_padding);
    /* the size formula is the student's (Task 3): a stub or a wrong size fails here, not in GSL */
    ck_assert_msg(full >= 1, "tconv_transposed_out_size gave %ld for a valid geometry%s%s", full,
                  not_implemented_seen() ? ": " : "", not_implemented_seen() ? not_implemented_seen() : "");
    prm->padding = (int)gsl_rng_uniform_int(rng, (unsigned long)((full - 1) / 2 + 1));   /* leaves >= 1 */
}

START_TEST(test_three_ways_random)
{
    gsl_rng *rng = test_rng(1000 + (unsigned long)_i);
    for (int trial = 0; trial < 25; trial++) {
        int h, w, kh, kw, rows, cols;
        tconv_params prm;
        random_params(rng, &h, &w, &kh, &kw, &prm);
        ck_assert_int_eq(tconv_transposed_check(&rows, &cols, h, w, kh, kw, &prm), AE_OK);
        tconv_matrix *x = random_matrix(h, w, rng), *kernel = random_matrix(kh, kw, rng);
        tconv_matrix *out = matrix_of(rows, cols, NULL);
        double *expected = malloc((size_t)rows * cols * sizeof *expected);
        gather(expected, rows, cols, x, kernel, prm.stride, prm.padding);
        const char *names[] = { "scatter", "zero insertion", "C^T x" };
        for (int method = 0; method < 3; method++) {
            int rc = method == 0 ? tconv_scatter(out, x, kernel, &prm)
                   : method == 1 ? tconv_by_zero_insertion(out, x, kernel, &prm)
                                 : tconv_by_matrix(out, x, kernel, &prm, 1000000);
            ck_assert_int_eq(rc, AE_OK);
            double err = rel_diff(out->data, expected, (size_t)rows * cols);
            ck_assert_msg(err <= EXACT_TOL, "%s: %dx%d in, %dx%d kernel, s=%d p=%d a=%d: relative error %g",
                          names[method], h, w, kh, kw, prm.stride, prm.padding, prm.output_padding, err);
        }
        free(expected);
        matrices_free(x, kernel, out);
    }
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_adjoint_identity)
{
    gsl_rng *rng = test_rng(2000 + (unsigned long)_i);
    for (int trial = 0; trial < 25; trial++) {
        int h, w, kh, kw, rows, cols, back_rows, back_cols;
        tconv_params prm;
        random_params(rng, &h, &w, &kh, &kw, &prm);
        ck_assert_int_eq(tconv_transposed_check(&rows, &cols, h, w, kh, kw, &prm), AE_OK);
        /* the ordinary convolution with the same K, s, p takes the transposed output's shape back */
        ck_assert_int_eq(tconv_conv_check(&back_rows, &back_cols, rows, cols, kh, kw, &prm), AE_OK);
        ck_assert_int_eq(back_rows, h);
        ck_assert_int_eq(back_cols, w);
        tconv_matrix *kernel = random_matrix(kh, kw, rng);
        tconv_matrix *x = random_matrix(rows, cols, rng), *y = random_matrix(h, w, rng);
        tconv_matrix *cx = matrix_of(h, w, NULL), *cty = matrix_of(rows, cols, NULL);
        ck_assert_int_eq(tconv_conv2d(cx, x, kernel, &prm), AE_OK);
        ck_assert_int_eq(tconv_scatter(cty, y, kernel, &prm), AE_OK);
        double lhs, rhs;
        ck_assert_int_eq(tconv_dot(&lhs, cx, y), AE_OK);
        ck_assert_int_eq(tconv_dot(&rhs, x, cty), AE_OK);
        ck_assert_msg(fabs(lhs - rhs) <= 1e-12 * fmax(1.0, fabs(lhs)), "<Cx,y> = %.17g but <x,C^T y> = %.17g",
                      lhs, rhs);

        /* the explicit C times vec(x) is the ordinary convolution too */
        tconv_matrix *C = matrix_of(h * w, rows * cols, NULL);
        ck_assert_int_eq(tconv_conv_matrix(C, kernel, h, w, rows, cols, &prm), AE_OK);
        for (int i = 0; i < h * w; i++) {
            double sum = 0.0;
            for (int j = 0; j < rows * cols; j++) sum += C->data[i * C->cols + j] * x->data[j];
            ck_assert_msg(fabs(sum - cx->data[i]) <= 1e-12 * fmax(1.0, fabs(sum)), "row %d of C x: %.17g, conv %.17g",
                          i, sum, cx->data[i]);
        }
        matrices_free(C, kernel, x, y, cx, cty);
    }
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_conv_matrix_printed_case)
{
    /* the 4x9 C of the walk-through, by hand: row (h,w) holds K at columns (h+kh)·3 + (w+kw) */
    tconv_matrix *kernel = matrix_of(2, 2, example), *C = matrix_of(4, 9, NULL);
    const tconv_params prm = { 1, 0, 0 };
    ck_assert_int_eq(tconv_conv_matrix(C, kernel, 2, 2, 3, 3, &prm), AE_OK);
    const double expected[] = { 0, 1, 0, 2, 3, 0, 0, 0, 0,
                                0, 0, 1, 0, 2, 3, 0, 0, 0,
                                0, 0, 0, 0, 1, 0, 2, 3, 0,
                                0, 0, 0, 0, 0, 1, 0, 2, 3 };
    assert_values(C, 4, 9, expected, 0.0, "C of [[0,1],[2,3]]");
    matrices_free(kernel, C);
}
END_TEST

/* --------------------------------------------------------------- Library */
START_TEST(test_library_against_scatter)
{
    gsl_rng *rng = test_rng(3000 + (unsigned long)_i);
    for (int trial = 0; trial < 10; trial++) {
        int h, w, kh, kw;
        tconv_params prm;
        random_params(rng, &h, &w, &kh, &kw, &prm);
        int batch = 1 + (int)gsl_rng_uniform_int(rng, 2);
        int channels = 1 + (int)gsl_rng_uniform_int(rng, 3), out_channels = 1 + (int)gsl_rng_uniform_int(rng, 3);
        conv_geom g;
        ck_assert_int_eq(conv2d_transpose_geom(&g, channels, h, w, out_channels, kh, kw, prm.stride, PAD_EXPLICIT,
                                               prm.padding, prm.output_padding), AE_OK);
        int rows = g.out_h, cols = g.out_w;
        size_t n_in = (size_t)batch * channels * h * w, n_w = (size_t)channels * out_channels * kh * kw;
        size_t n_out = (size_t)batch * out_channels * rows * cols;
        float *in = malloc(n_in * sizeof *in), *weight = malloc(n_w * sizeof *weight);
        float *bias = malloc((size_t)out_channels * sizeof *bias), *out = malloc(n_out * sizeof *out);
        fill_uniform(in, n_in, -2, 2, rng);
        fill_uniform(weight, n_w, -2, 2, rng);
        fill_uniform(bias, (size_t)out_channels, -1, 1, rng);
        conv2d_transpose_forward(out, in, weight, bias, &g, batch);

        /* out[b,oc] = bias[oc] + Σ_c scatter(in[b,c], W[c,oc]) with the exercise's double-precision scatter */
        tconv_matrix *x = matrix_of(h, w, NULL), *kernel = matrix_of(kh, kw, NULL);
        tconv_matrix *part = matrix_of(rows, cols, NULL);
        double *expected = malloc((size_t)rows * cols * sizeof *expected);
        double *gathered = malloc((size_t)rows * cols * sizeof *gathered);
        double *reference = malloc((size_t)rows * cols * sizeof *reference);
        double *library = malloc((size_t)rows * cols * sizeof *library);
        for (int b = 0; b < batch; b++)
            for (int oc = 0; oc < out_channels; oc++) {
                for (int i = 0; i < rows * cols; i++) expected[i] = reference[i] = bias[oc];
                for (int c = 0; c < channels; c++) {
                    for (int i = 0; i < h * w; i++) x->data[i] = in[((size_t)b * channels + c) * h * w + i];
                    for (int i = 0; i < kh * kw; i++)
                        kernel->data[i] = weight[((size_t)c * out_channels + oc) * kh * kw + i];
                    ck_assert_int_eq(tconv_scatter(part, x, kernel, &prm), AE_OK);
                    gather(gathered, rows, cols, x, kernel, prm.stride, prm.padding);
                    for (int i = 0; i < rows * cols; i++) {
                        expected[i] += part->data[i];
                        reference[i] += gathered[i];
                    }
                }
                for (int i = 0; i < rows * cols; i++)
                    library[i] = out[((size_t)b * out_channels + oc) * rows * cols + i];
                double err = rel_diff(library, expected, (size_t)rows * cols);
                ck_assert_msg(err <= FLOAT_TOL, "B=%d C=%d OC=%d %dx%d k %dx%d s=%d p=%d a=%d: library vs scatter %g",
                              batch, channels, out_channels, h, w, kh, kw, prm.stride, prm.padding,
                              prm.output_padding, err);
                err = rel_diff(library, reference, (size_t)rows * cols);
                ck_assert_msg(err <= FLOAT_TOL, "library vs gather: %g", err);
            }
        free(expected);
        free(gathered);
        free(reference);
        free(library);
        matrices_free(x, kernel, part);
        free(in);
        free(weight);
        free(bias);
        free(out);
    }
    gsl_rng_free(rng);
}
END_TEST

/* ---------------------------------------------------------------- Shapes */
START_TEST(test_shape_grid)
{
    int checked_transposed = 0, checked_conv = 0;
    for (int i = 1; i <= 8; i++)
        for (int k = 1; k <= 5; k++)
            for (int s = 1; s <= 4; s++)
                for (int p = 0; p <= 3; p++) {
                    /* ordinary: the formula against counting windows, and against the library */
                    long conv = tconv_conv_out_size(i, k, s, p);
                    long windows = count_windows(i, k, s, p);
                    ck_assert_msg(conv == windows || (conv < 1 && windows == 0),
                                  "conv i=%d k=%d s=%d p=%d: formula %ld, windows %ld", i, k, s, p, conv, windows);
                    conv_geom g;
                    int rc = conv2d_geom(&g, 1, i, i, 1, k, k, s, PAD_EXPLICIT, p);
                    if (windows > 0) {
                        ck_assert_int_eq(rc, AE_OK);
                        ck_assert_int_eq(g.out_h, conv);
                        checked_conv++;
                    } else {
                        ck_assert_int_eq(rc, AE_EINVAL);
                    }
                    /* the sizes n that an ordinary convolution (k, s, p) takes to i, found by counting
                     * windows: the transposed convolution must return to exactly these, one per a */
                    long takes_back[64];
                    int n_back = 0, n_valid = 0;
                    for (long n = 1; n <= 64; n++)
                        if (count_windows(n, k, s, p) == i) takes_back[n_back++] = n;
                    for (int a = 0; a < s; a++) {
                        long o = tconv_transposed_out_size(i, k, s, p, a);
                        int found = 0;
                        for (int m = 0; m < n_back; m++) found |= takes_back[m] == o;
                        if (o >= 1) {
                            n_valid++;
                            ck_assert_msg(found, "i=%d k=%d s=%d p=%d a=%d: %ld is not among the sizes that a "
                                          "convolution takes to %d", i, k, s, p, a, o, i);
                        }
                        int rows, cols;
                        tconv_params prm = { s, p, a };
                        rc = tconv_transposed_check(&rows, &cols, i, i, k, k, &prm);
                        int lib = conv2d_transpose_geom(&g, 1, i, i, 1, k, k, s, PAD_EXPLICIT, p, a);
                        if (o < 1) {
                            ck_assert_int_eq(rc, AE_EDOM);
                            ck_assert_int_eq(lib, AE_EINVAL);
                            continue;
                        }
                        ck_assert_int_eq(rc, AE_OK);
                        ck_assert_int_eq(rows, o);
                        ck_assert_int_eq(lib, AE_OK);
                        ck_assert_int_eq(g.out_h, o);
                        ck_assert_int_eq(g.out_w, o);
                        ck_assert_int_eq(tconv_output_padding_for(o, k, s, p), a);
                        checked_transposed++;
                    }
                    ck_assert_msg(n_valid == n_back, "i=%d k=%d s=%d p=%d: the formula gives %d sizes, counting %d",
                                  i, k, s, p, n_valid, n_back);
                }
    ck_assert_int_gt(checked_conv, 400);
    ck_assert_int_gt(checked_transposed, 800);
}
END_TEST

START_TEST(test_shape_of_real_output)
{
    /* with p = 0 and a = 0 the output is exactly the region the windows cover: with all-ones
     * input and kernel its first and last rows and columns are non-zero, and scatter accepts
     * no other size */
    for (int i = 1; i <= 5; i++)
        for (int k = 1; k <= 4; k++)
            for (int s = 1; s <= 3; s++) {
                long o = tconv_transposed_out_size(i, k, s, 0, 0);
                tconv_matrix *x = matrix_of(i, i + 1, NULL), *kernel = matrix_of(k, k, NULL);
                for (int n = 0; n < i * (i + 1); n++) x->data[n] = 1.0;
                for (int n = 0; n < k * k; n++) kernel->data[n] = 1.0;
                long cols = tconv_transposed_out_size(i + 1, k, s, 0, 0);
                tconv_matrix *out = matrix_of((int)o, (int)cols, NULL);
                const tconv_params prm = { s, 0, 0 };
                ck_assert_int_eq(tconv_scatter(out, x, kernel, &prm), AE_OK);
                ck_assert_double_gt(out->data[0], 0.0);
                ck_assert_double_gt(out->data[(o - 1) * cols + cols - 1], 0.0);
                tconv_matrix *wrong = matrix_of((int)o + 1, (int)cols, NULL);
                ck_assert_int_eq(tconv_scatter(wrong, x, kernel, &prm), AE_EBADLEN);
                matrices_free(wrong, x, kernel, out);
            }
}
END_TEST

START_TEST(test_keras_paddings)
{
    for (int i = 1; i <= 12; i++)
        for (int k = 1; k <= 5; k++)
            for (int s = 1; s <= 3; s++) {
                conv_geom g;
                ck_assert_int_eq(conv2d_geom(&g, 1, i, i, 1, k, k, s, PAD_SAME, 0), AE_OK);
                ck_assert_int_eq(g.out_h, tconv_keras_same_conv_out_size(i, s));
                ck_assert_int_eq(g.out_h, (i + s - 1) / s);
                ck_assert_int_eq(conv2d_transpose_geom(&g, 1, i, i, 1, k, k, s, PAD_SAME, 0, 0), AE_OK);
                ck_assert_int_eq(g.out_h, tconv_keras_same_transposed_out_size(i, s));
                ck_assert_int_eq(conv2d_transpose_geom(&g, 1, i, i, 1, k, k, s, PAD_VALID, 0, 0), AE_OK);
                ck_assert_int_eq(g.out_h, tconv_keras_valid_transposed_out_size(i, k, s));
                if (k <= i) {
                    ck_assert_int_eq(conv2d_geom(&g, 1, i, i, 1, k, k, s, PAD_VALID, 0), AE_OK);
                    ck_assert_int_eq(g.out_h, tconv_keras_valid_conv_out_size(i, k, s));
                    ck_assert_int_eq(g.out_h, count_windows(i, k, s, 0));
                }
            }
    /* the Fashion-MNIST model, 28 -> 14 -> 7 -> 14 -> 28 */
    ck_assert_int_eq(tconv_keras_same_conv_out_size(28, 2), 14);
    ck_assert_int_eq(tconv_keras_same_conv_out_size(14, 2), 7);
    ck_assert_int_eq(tconv_keras_same_transposed_out_size(7, 2), 14);
    ck_assert_int_eq(tconv_keras_same_transposed_out_size(14, 2), 28);
}
END_TEST

/* ---------------------------------------------------------------- Limits */
START_TEST(test_parse_refusals)
{
    const char *bad[] = { "", ";", "1,2;", ";1,2", "1,2;3", "1;2,3", "1,x", "1,,2", ",1", "nan", "inf", "1e400",
                          "1;2;3;4", "1,2,3,4" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tconv_matrix *m = (tconv_matrix *)1;
        int rc = tconv_parse_matrix(&m, bad[i], "--input", 3);
        ck_assert_msg(rc == AE_EINVAL, "'%s' gave %s, not AE_EINVAL", bad[i], error_name(rc));
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(error_message(), "--input") != NULL, "message names the option: %s", error_message());
    }
    tconv_matrix *m = NULL;
    ck_assert_int_eq(tconv_parse_matrix(&m, "1,2;3", "--input", 3), AE_EINVAL);
    ck_assert_msg(strstr(error_message(), "ragged") != NULL, "%s", error_message());
}
END_TEST

START_TEST(test_parameter_refusals)
{
    int rows = -7, cols = -7;
    tconv_params prm = { 0, 0, 0 };
    ck_assert_int_eq(tconv_transposed_check(&rows, &cols, 2, 2, 2, 2, &prm), AE_EDOM);       /* stride 0 */
    prm = (tconv_params){ -1, 0, 0 };
    ck_assert_int_eq(tconv_transposed_check(&rows, &cols, 2, 2, 2, 2, &prm), AE_EDOM);
    prm = (tconv_params){ 2, 0, 2 };
    ck_assert_int_eq(tconv_transposed_check(&rows, &cols, 2, 2, 2, 2, &prm), AE_EDOM);       /* a = s */
    prm = (tconv_params){ 2, 0, -1 };
    ck_assert_int_eq(tconv_transposed_check(&rows, &cols, 2, 2, 2, 2, &prm), AE_EDOM);
    prm = (tconv_params){ 1, -1, 0 };
    ck_assert_int_eq(tconv_transposed_check(&rows, &cols, 2, 2, 2, 2, &prm), AE_EDOM);
    prm = (tconv_params){ 1, 2, 0 };   /* 1 + 2 − 4 = −1 */
    ck_assert_int_eq(tconv_transposed_check(&rows, &cols, 2, 2, 2, 2, &prm), AE_EDOM);
    ck_assert_msg(strstr(error_message(), "at most 1") != NULL, "%s", error_message());
    prm = (tconv_params){ 1, 0, 0 };
    ck_assert_int_eq(tconv_transposed_check(&rows, &cols, 0, 2, 2, 2, &prm), AE_EINVAL);
    ck_assert_int_eq(tconv_transposed_check(&rows, &cols, 2, 2, 2, 0, &prm), AE_EINVAL);
    ck_assert_int_eq(rows, -7);   /* untouched on failure */
    ck_assert_int_eq(tconv_conv_check(&rows, &cols, 2, 2, 3, 3, &prm), AE_EDOM);           /* kernel too big */

    tconv_matrix *x = matrix_of(2, 2, example), *kernel = matrix_of(2, 2, example), *out = matrix_of(3, 4, NULL);
    ck_assert_int_eq(tconv_scatter(out, x, kernel, &prm), AE_EBADLEN);
    ck_assert_int_eq(tconv_by_zero_insertion(out, x, kernel, &prm), AE_EBADLEN);
    ck_assert_int_eq(tconv_by_matrix(out, x, kernel, &prm, 1000), AE_EBADLEN);
    tconv_matrix *good = matrix_of(3, 3, NULL);
    ck_assert_int_eq(tconv_by_matrix(good, x, kernel, &prm, 35), AE_EDOM);   /* C has 4·9 = 36 entries */
    ck_assert_int_eq(tconv_by_matrix(good, x, kernel, &prm, 36), AE_OK);
    prm.stride = 0;
    ck_assert_int_eq(tconv_scatter(good, x, kernel, &prm), AE_EDOM);
    ck_assert_ptr_null(tconv_matrix_alloc(0, 3));
    tconv_matrix_free(NULL);
    matrices_free(x, kernel, out, good);
}
END_TEST

/* --------------------------------------------------------------- Program */
static void assert_result(const char *dir, const char *key, const char *expected)
{
    results *r = test_results(dir);
    const char *value = results_get(r, key);
    ck_assert_msg(value != NULL, "%s missing from %s/results.tsv", key, dir);
    ck_assert_msg(strcmp(value, expected) == 0, "%s = '%s', expected '%s'", key, value, expected);
    results_free(r);
}

static double result_number(const char *dir, const char *key)
{
    results *r = test_results(dir);
    const double v = test_result(r, key);
    results_free(r);
    return v;
}

START_TEST(test_program_walk_through)
{
    char out[4096], log[4096];
    const char *tmp = test_tmpdir();
    snprintf(out, sizeof out, "%s/out", tmp);
    snprintf(log, sizeof log, "%s/log.txt", tmp);
    const char *args[] = { "--out", out, "--no-plot", "--seed", "7", NULL };
    ck_assert_msg(run_program(PROGRAM, args, log) == 0, "%s failed; see %s", PROGRAM, log);
    assert_result(out, "step1_scatter_out_shape", "3x3");
    assert_result(out, "step1_scatter_out", "0,0,1,0,4,6,4,12,9");
    assert_result(out, "step2_zero_insertion_out", "0,0,1,0,4,6,4,12,9");
    assert_result(out, "step2_matrix_out", "0,0,1,0,4,6,4,12,9");
    assert_result(out, "step2_conv_matrix_shape", "4x9");
    assert_result(out, "step2_conv_of_transposed_out", "12,27,48,57");
    assert_result(out, "step3_stride2_out_shape", "4x4");
    assert_result(out, "step3_stride2_out", "0,0,0,1,0,0,2,3,0,2,0,3,4,6,6,9");
    assert_result(out, "step3_stride2_padding1_out", "0,2,2,0");
    assert_result(out, "step3_stride2_padding1_outpad1_out", "0,2,3,2,0,3,6,6,9");
    assert_result(out, "step4_fmnist_layer2_shape", "7x7x8");
    assert_result(out, "step4_fmnist_layer4_shape", "28x28x16");
    assert_result(out, "step4_fmnist_total_params", "3217");
    assert_result(out, "step4_lecture32_layer3_shape", "4x4x128");
    assert_result(out, "step4_lecture32_layer10_shape", "32x32x32");
    assert_result(out, "step4_rel_odd_a", "1");
    assert_result(out, "step4_rel_full_transposed_out", "5");
    assert_result(out, "step5_588_kernel_size", "4");
    double lhs = result_number(out, "step2_adjoint_cx_dot_y"), rhs = result_number(out, "step2_adjoint_x_dot_cty");
    ck_assert_double_eq_tol(lhs, rhs, 1e-12);
    ck_assert_double_gt(fabs(lhs), 1e-3);   /* random data, not a trivial zero */
    ck_assert(test_file_in(out, "transposed_examples.gp") && test_file_in(out, "transposed_examples.dat"));
    ck_assert(!test_file_in(out, "transposed_examples.png"));   /* --no-plot */

    /* the same seed gives the same numbers */
    char again[4096];
    snprintf(again, sizeof again, "%s/again", tmp);
    const char *args2[] = { "--out", again, "--no-plot", "--seed", "7", "--quiet", NULL };
    ck_assert_int_eq(run_program(PROGRAM, args2, NULL), 0);
    results *first = test_results(out), *second = test_results(again);
    ck_assert_str_eq(results_get(first, "step2_adjoint_cx_dot_y"), results_get(second, "step2_adjoint_cx_dot_y"));
    results_free(first);
    results_free(second);
}
END_TEST

START_TEST(test_program_input_and_shape)
{
    char out[4096];
    const char *tmp = test_tmpdir();
    snprintf(out, sizeof out, "%s/case", tmp);
    const char *args[] = { "--input", "0,1;2,3", "--kernel", "0,1;2,3", "--stride", "2", "--out", out,
                           "--no-plot", NULL };
    ck_assert_int_eq(run_program(PROGRAM, args, NULL), 0);
    assert_result(out, "out_shape", "4x4");
    assert_result(out, "out", "0,0,0,1,0,0,2,3,0,2,0,3,4,6,6,9");

    snprintf(out, sizeof out, "%s/shape", tmp);
    const char *shape[] = { "--shape", "7,3,2,1,1", "--out", out, NULL };
    ck_assert_int_eq(run_program(PROGRAM, shape, NULL), 0);
    assert_result(out, "conv_out", "4");          /* floor((7 + 2 − 3)/2) + 1 */
    assert_result(out, "transposed_out", "14");   /* 2·6 + 3 − 2 + 1 */
    assert_result(out, "keras_valid_transposed_out", "15");
}
END_TEST

/* Writes m as the program's "r,r;r,r" text with every digit of each double. */
static void matrix_text(char *buf, size_t len, const tconv_matrix *m)
{
    size_t at = 0;
    for (int r = 0; r < m->rows; r++)
        for (int c = 0; c < m->cols; c++)
            at += (size_t)snprintf(buf + at, len - at, "%s%.17g", c ? "," : (r ? ";" : ""), m->data[r * m->cols + c]);
}

START_TEST(test_program_random_input)
{
    gsl_rng *rng = test_rng(4000);
    const char *tmp = test_tmpdir();
    for (int trial = 0; trial < 6; trial++) {
        int h, w, kh, kw, rows, cols;
        tconv_params prm;
        random_params(rng, &h, &w, &kh, &kw, &prm);
        ck_assert_int_eq(tconv_transposed_check(&rows, &cols, h, w, kh, kw, &prm), AE_OK);
        tconv_matrix *x = random_matrix(h, w, rng), *kernel = random_matrix(kh, kw, rng);
        char x_text[2048], k_text[2048], s[8], p[8], a[8], out[4096], shape[32];
        matrix_text(x_text, sizeof x_text, x);
        matrix_text(k_text, sizeof k_text, kernel);
        snprintf(s, sizeof s, "%d", prm.stride);
        snprintf(p, sizeof p, "%d", prm.padding);
        snprintf(a, sizeof a, "%d", prm.output_padding);
        snprintf(out, sizeof out, "%s/random%d", tmp, trial);
        const char *args[] = { "--input", x_text, "--kernel", k_text, "--stride", s, "--padding", p,
                               "--output-padding", a, "--out", out, "--no-plot", "--quiet", NULL };
        ck_assert_int_eq(run_program(PROGRAM, args, NULL), 0);
        snprintf(shape, sizeof shape, "%dx%d", rows, cols);
        assert_result(out, "out_shape", shape);

        double *expected = malloc((size_t)rows * cols * sizeof *expected);
        double *got = malloc((size_t)rows * cols * sizeof *got);
        gather(expected, rows, cols, x, kernel, prm.stride, prm.padding);
        results *r = test_results(out);
        const char *cursor = results_get(r, "out");
        ck_assert_ptr_nonnull(cursor);
        for (int i = 0; i < rows * cols; i++) {
            char *end;
            got[i] = strtod(cursor, &end);
            ck_assert_msg(end != cursor, "value %d of out is missing", i);
            cursor = *end == ',' ? end + 1 : end;
        }
        ck_assert_msg(*cursor == '\0', "out has more than %d values", rows * cols);
        double err = rel_diff(got, expected, (size_t)rows * cols);
        ck_assert_msg(err <= FLOAT_TOL, "program vs gather: relative %g", err);
        results_free(r);
        free(expected);
        free(got);
        matrices_free(x, kernel);
    }
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_program_bad_input)
{
    const char *cases[][6] = {
        { "--input", "1,2;3", NULL },                      /* ragged */
        { "--input", "", NULL },                           /* empty */
        { "--input", ";", NULL },                          /* empty row */
        { "--kernel", "1,two;3,4", NULL },                 /* not a number */
        { "--stride", "0", NULL },                         /* stride below 1 */
        { "--stride", "2", "--output-padding", "2", NULL },   /* a >= s */
        { "--output-padding", "1", NULL },                 /* a >= s = 1 */
        { "--padding", "2", NULL },                        /* 1 + 2 − 4 < 1: no output */
        { "--shape", "7,3,2", NULL },                      /* too few numbers */
        { "--shape", "7,3,2,1,2", NULL },                  /* a >= s */
        { "--shape", "1,1,1,1", NULL },                    /* no transposed output */
        { "--shape", "7,x,2,1", NULL },
        { "--shape", "7,3,2,1", "--stride", "2", NULL },   /* --shape is alone */
    };
    const char *tmp = test_tmpdir();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[4096], log[4096];
        snprintf(out, sizeof out, "%s/bad%zu", tmp, i);
        snprintf(log, sizeof log, "%s/bad%zu.log", tmp, i);
        const char *args[10];
        int n = 0;
        for (; cases[i][n]; n++) args[n] = cases[i][n];
        args[n++] = "--out";
        args[n++] = out;
        args[n] = NULL;
        int status = run_program(PROGRAM, args, log);
        ck_assert_msg(status == 2, "%s %s: exit status %d, not 2", cases[i][0], cases[i][1], status);
        struct stat st;
        ck_assert_msg(stat(out, &st) != 0, "%s %s left %s behind", cases[i][0], cases[i][1], out);
        /* a message for a person, naming the problem */
        FILE *fp = fopen(log, "r");
        ck_assert_ptr_nonnull(fp);
        char first[512] = "";
        ck_assert_ptr_nonnull(fgets(first, sizeof first, fp));
        fclose(fp);
        ck_assert_msg(strncmp(first, PROGRAM ": ", strlen(PROGRAM) + 2) == 0 && strlen(first) > 40,
                      "message: %s", first);
    }
}
END_TEST

Suite *transposed_suite(void)
{
    Suite *s = suite_create("transposed");

    test_add(test_case(s, "Core", 0), test_sheet_example_stride1, test_sheet_example_stride2_padding,
             test_non_square_by_hand, test_not_an_inverse, test_conv2d_by_hand, test_overlap_counts,
             test_parameter_counts, test_parse_matrix);

    TCase *agreement = test_case(s, "Agreement", 0);
    tcase_add_loop_test(agreement, test_three_ways_random, 0, 8);
    tcase_add_loop_test(agreement, test_adjoint_identity, 0, 4);
    tcase_add_test(agreement, test_conv_matrix_printed_case);

    TCase *library = test_case(s, "Library", 0);
    tcase_add_loop_test(library, test_library_against_scatter, 0, 4);

    test_add(test_case(s, "Shapes", 0), test_shape_grid, test_shape_of_real_output, test_keras_paddings);

    test_add(test_case(s, "Limits", 0), test_parse_refusals, test_parameter_refusals);

    test_add(test_case(s, "Program", 60), test_program_walk_through, test_program_input_and_shape,
             test_program_random_input, test_program_bad_input);
    return s;
}
