/* tconv_harness.c: the submission's transposed convolutions (tconv_exercise.h) against the
 * reference. One verdict per item of tconv_plan.c, by key.
 *
 * Matrices are allocated here, not by the submission's tconv_matrix_alloc, so that only the
 * function under test can be wrong. Random values come from a fixed generator of our own. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "grade_lib.h"
#include "tconv_exercise.h"
#include "tconv_reference.h"

#define TOL 1e-12

static tconv_matrix *matrix(int rows, int cols)
{
    tconv_matrix *m = malloc(sizeof *m);
    double *data = calloc((size_t)rows * cols, sizeof *data);
    if (!m || !data) abort();
    m->rows = rows;
    m->cols = cols;
    m->data = data;
    return m;
}

static void matrix_free(tconv_matrix *m)
{
    if (!m) return;
    free(m->data);
    free(m);
}

/* xorshift64*, mapped to U(−1, 1): the same values on every machine */
static unsigned long long rng_state = 0x9E3779B97F4A7C15ULL;
static double uniform_pm1(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    unsigned long long r = rng_state * 2685821657736338717ULL;
    return (double)(r >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static tconv_matrix *random_matrix(int rows, int cols)
{
    tconv_matrix *m = matrix(rows, cols);
    for (int i = 0; i < rows * cols; i++) m->data[i] = uniform_pm1();
    return m;
}

/* Compact text of a matrix for the report: "0,0,1;0,4,6;4,12,9" (cut when long). */
static const char *matrix_text(char *buf, size_t size, const double *v, int rows, int cols)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int r = 0; r < rows && used + 24 < size; r++)
        for (int c = 0; c < cols && used + 24 < size; c++)
            used += (size_t)snprintf(buf + used, size - used, "%s%.6g", c ? "," : (r ? ";" : ""), v[r * cols + c]);
    return buf;
}

typedef int (*transposed_fn)(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,
                             const tconv_params *prm);

/* Runs fn on (x, kernel, prm) and measures it against the reference scatter.
 * Returns max |difference|, or INFINITY when fn refused; *detail says what happened. */
static double against_scatter(transposed_fn fn, const tconv_matrix *x, const tconv_matrix *kernel,
                              const tconv_params *prm, char *detail, size_t size, char *expected, size_t esize)
{
    int rows = (int)ref_transposed_size(x->rows, kernel->rows, prm->stride, prm->padding, prm->output_padding);
    int cols = (int)ref_transposed_size(x->cols, kernel->cols, prm->stride, prm->padding, prm->output_padding);
    double *want = malloc((size_t)rows * cols * sizeof *want);
    tconv_matrix *got = matrix(rows, cols);
    if (!want) abort();
    ref_scatter(want, rows, cols, x->data, x->rows, x->cols, kernel->data, kernel->rows, kernel->cols,
                prm->stride, prm->padding);
    if (expected) matrix_text(expected, esize, want, rows, cols);
    double worst = 0.0;
    int rc = fn(got, x, kernel, prm);
    if (rc != AE_OK) {
        snprintf(detail, size, "returned %s: %s", error_name(rc), error_message());
        worst = INFINITY;
    } else {
        for (int i = 0; i < rows * cols; i++) {
            double d = fabs(got->data[i] - want[i]);
            if (!(d <= worst)) worst = d;
        }
        if (expected && worst > TOL) matrix_text(detail, size, got->data, rows, cols);
        else snprintf(detail, size, "max |difference| %.3g", worst);
    }
    free(want);
    matrix_free(got);
    return worst;
}

static int by_matrix(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,
                     const tconv_params *prm)
{
    return tconv_by_matrix(out, in, kernel, prm, 1L << 24);
}

static void example_case(const char *key, int stride, int padding, int output_padding)
{
    tconv_matrix *x = matrix(2, 2), *k = matrix(2, 2);
    for (int i = 0; i < 4; i++) x->data[i] = k->data[i] = i;   /* the sheet's x = K = [0 1; 2 3] */
    tconv_params prm = { stride, padding, output_padding };
    char detail[512], expected[512];
    double worst = against_scatter(tconv_scatter, x, k, &prm, detail, sizeof detail, expected, sizeof expected);
    verdict(key, worst <= TOL, expected, detail);
    matrix_free(x);
    matrix_free(k);
}

int main(void)
{
    char detail[512], detail2[512], e[256], g[512];

    example_case("scatter_example_s1", 1, 0, 0);
    example_case("scatter_example_s2", 2, 0, 0);
    example_case("scatter_example_s2_p1_a1", 2, 1, 1);

    tconv_matrix *xa = random_matrix(5, 4), *ka = random_matrix(3, 2);
    tconv_matrix *xb = random_matrix(3, 3), *kb = random_matrix(4, 4);
    const tconv_params pa = { 2, 1, 1 }, pb = { 3, 2, 2 };

    double wa = against_scatter(tconv_scatter, xa, ka, &pa, detail, sizeof detail, NULL, 0);
    verdict("scatter_random_a", wa <= TOL, "max |difference| <= 1e-12", detail);
    double wb = against_scatter(tconv_scatter, xb, kb, &pb, detail, sizeof detail, NULL, 0);
    verdict("scatter_random_b", wb <= TOL, "max |difference| <= 1e-12", detail);

    /* the ordinary convolution: out[oh,ow] = Σ K[kh,kw] · x[oh·s − p + kh, ow·s − p + kw] */
    {
        tconv_matrix *x = random_matrix(7, 6), *k = random_matrix(3, 2);
        const tconv_params prm = { 2, 1, 0 };
        int rows = (int)ref_conv_size(7, 3, 2, 1), cols = (int)ref_conv_size(6, 2, 2, 1);
        tconv_matrix *got = matrix(rows, cols);
        double *want = malloc((size_t)rows * cols * sizeof *want);
        if (!want) abort();
        ref_conv2d(want, rows, cols, x->data, 7, 6, k->data, 3, 2, 2, 1);
        int rc = tconv_conv2d(got, x, k, &prm);
        double worst = 0.0;
        for (int i = 0; i < rows * cols && rc == AE_OK; i++)
            if (!(fabs(got->data[i] - want[i]) <= worst)) worst = fabs(got->data[i] - want[i]);
        if (rc != AE_OK) snprintf(g, sizeof g, "returned %s: %s", error_name(rc), error_message());
        else snprintf(g, sizeof g, "max |difference| %.3g", worst);
        verdict("conv2d_random", rc == AE_OK && worst <= TOL, "max |difference| <= 1e-12", g);
        free(want);
        matrix_free(got);
        matrix_free(x);
        matrix_free(k);
    }

    /* the kernel turned by 180 degrees: flipped[kh,kw] = K[KH−1−kh, KW−1−kw] */
    {
        tconv_matrix *flipped = matrix(3, 2);
        int rc = tconv_flip(flipped, ka);
        double worst = 0.0;
        for (int kh = 0; kh < 3 && rc == AE_OK; kh++)
            for (int kw = 0; kw < 2; kw++) {
                double d = fabs(flipped->data[kh * 2 + kw] - ka->data[(2 - kh) * 2 + (1 - kw)]);
                if (!(d <= worst)) worst = d;
            }
        if (rc != AE_OK) snprintf(g, sizeof g, "returned %s", error_name(rc));
        else snprintf(g, sizeof g, "max |difference| %.3g", worst);
        verdict("flip", rc == AE_OK && worst == 0.0, "exactly K[KH−1−kh, KW−1−kw]", g);
        matrix_free(flipped);
    }

    wa = against_scatter(tconv_by_zero_insertion, xa, ka, &pa, detail, sizeof detail, NULL, 0);
    wb = against_scatter(tconv_by_zero_insertion, xb, kb, &pb, detail2, sizeof detail2, NULL, 0);
    snprintf(g, sizeof g, "case a: %.200s; case b: %.200s", detail, detail2);
    verdict("zero_insertion", wa <= TOL && wb <= TOL, "max |difference| <= 1e-12 on both", g);

    wa = against_scatter(by_matrix, xa, ka, &pa, detail, sizeof detail, NULL, 0);
    wb = against_scatter(by_matrix, xb, kb, &pb, detail2, sizeof detail2, NULL, 0);
    snprintf(g, sizeof g, "case a: %.200s; case b: %.200s", detail, detail2);
    verdict("matrix", wa <= TOL && wb <= TOL, "max |difference| <= 1e-12 on both", g);

    /* <C x, y> = <x, Cᵀ y>: x has the transposed output's shape, y the input's */
    {
        const tconv_params prm = { 2, 1, 1 };
        tconv_matrix *y = random_matrix(4, 5), *k = random_matrix(3, 3);
        int rows = (int)ref_transposed_size(4, 3, 2, 1, 1), cols = (int)ref_transposed_size(5, 3, 2, 1, 1);
        tconv_matrix *x = random_matrix(rows, cols), *cty = matrix(rows, cols), *cx = matrix(4, 5);
        int rc1 = tconv_conv2d(cx, x, k, &prm), rc2 = tconv_scatter(cty, y, k, &prm);
        double lhs = 0.0, rhs = 0.0;
        for (int i = 0; i < 20; i++) lhs += cx->data[i] * y->data[i];
        for (int i = 0; i < rows * cols; i++) rhs += x->data[i] * cty->data[i];
        snprintf(g, sizeof g, "<Cx, y> = %.15g, <x, Cᵀy> = %.15g", lhs, rhs);
        verdict("adjoint", rc1 == AE_OK && rc2 == AE_OK && fabs(lhs - rhs) <= TOL, "equal to 1e-12", g);
        matrix_free(y);
        matrix_free(k);
        matrix_free(x);
        matrix_free(cty);
        matrix_free(cx);
    }

    /* output sizes */
    {
        int r1 = -1, c1 = -1, r2 = -1, c2 = -1;
        const tconv_params p1 = { 2, 1, 1 }, p2 = { 3, 2, 2 };
        int rc1 = tconv_transposed_check(&r1, &c1, 7, 7, 3, 3, &p1);
        int rc2 = tconv_transposed_check(&r2, &c2, 5, 4, 4, 2, &p2);
        long er1 = ref_transposed_size(7, 3, 2, 1, 1);
        long er2 = ref_transposed_size(5, 4, 3, 2, 2), ec2 = ref_transposed_size(4, 2, 3, 2, 2);
        snprintf(e, sizeof e, "%ldx%ld and %ldx%ld", er1, er1, er2, ec2);
        snprintf(g, sizeof g, "%dx%d and %dx%d", r1, c1, r2, c2);
        verdict("sizes", rc1 == AE_OK && rc2 == AE_OK && r1 == er1 && c1 == er1 && r2 == er2 && c2 == ec2, e, g);
    }
    {
        int rows = 0, cols = 0;
        const tconv_params prm = { 2, 0, 2 };
        int rc = tconv_transposed_check(&rows, &cols, 2, 2, 2, 2, &prm);
        snprintf(g, sizeof g, "returned %s", error_name(rc));
        verdict("refuses_output_padding", rc == AE_EDOM, "AE_EDOM", g);
    }

    matrix_free(xa);
    matrix_free(ka);
    matrix_free(xb);
    matrix_free(kb);
    return 0;
}
