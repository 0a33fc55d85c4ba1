/* test_gemm.c: the matrix product against values worked out by hand and against its plain
 * reference loop, on both paths (the AVX-512 kernels when the processor has them, and CBLAS),
 * for every combination of transposes, shapes that fill no whole register, and β = 0 or 1. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fast/cpu.h"
#include "fast/gemm.h"
#include "testutil.h"

/* The float sums of the kernels against the double sums of the reference: a few units in the
 * last place of Σ|a·b|, which is at most k·(1/4) for entries in [−0.5, 0.5]. */
#define REL_TOL 2e-6

static float *floats(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* C = op(A)·op(B) + β C with gemm and with gemm_reference, padded strides, random entries;
 * returns the largest difference relative to Σ|terms| (at least 1e-3, so tiny sums don't divide by 0). */
static double compare_with_reference(gemm_op op_a, gemm_op op_b, int m, int n, int k, float beta, gsl_rng *rng)
{
    const int lda = (op_a == GEMM_PLAIN ? k : m) + 3, ldb = (op_b == GEMM_PLAIN ? n : k) + 5, ldc = n + 2;
    const size_t a_rows = op_a == GEMM_PLAIN ? (size_t)m : (size_t)k;
    const size_t b_rows = op_b == GEMM_PLAIN ? (size_t)k : (size_t)n;
    float *a = floats(a_rows * lda), *b = floats(b_rows * ldb);
    float *c = floats((size_t)m * ldc), *want = floats((size_t)m * ldc);
    fill_uniform(a, a_rows * lda, -0.5, 0.5, rng);
    fill_uniform(b, b_rows * ldb, -0.5, 0.5, rng);
    fill_uniform(c, (size_t)m * ldc, -0.5, 0.5, rng);
    memcpy(want, c, (size_t)m * ldc * sizeof *c);
    gemm(op_a, op_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
    gemm_reference(op_a, op_b, m, n, k, a, lda, b, ldb, beta, want, ldc);
    double worst = 0.0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double scale = 1e-3 + fabs(beta * (double)want[(size_t)i * ldc + j]);
            for (int p = 0; p < k; p++) {
                double av = op_a == GEMM_PLAIN ? a[(size_t)i * lda + p] : a[(size_t)p * lda + i];
                double bv = op_b == GEMM_PLAIN ? b[(size_t)p * ldb + j] : b[(size_t)j * ldb + p];
                scale += fabs(av * bv);
            }
            double diff = fabs((double)c[(size_t)i * ldc + j] - want[(size_t)i * ldc + j]) / scale;
            if (diff > worst) worst = diff;
        }
    /* the padding between rows is never written */
    for (int i = 0; i < m; i++)
        for (int j = n; j < ldc; j++) ck_assert_float_eq(c[(size_t)i * ldc + j], want[(size_t)i * ldc + j]);
    free(a);
    free(b);
    free(c);
    free(want);
    return worst;
}

/* Sizes around the kernels' blocks: 4 and 16 rows, 16 and 64 columns, 16 and 128 values of K. */
static const int SIZES[] = { 1, 3, 4, 5, 15, 16, 17, 33, 64, 65, 130 };
enum { N_SIZES = sizeof SIZES / sizeof SIZES[0] };

/* loop index: bit 0 the path (0 fast, 1 portable), bits 1-2 the transposes */
START_TEST(test_gemm_matches_reference)
{
    const int portable = _i & 1;
    const gemm_op op_a = (_i >> 1) & 1 ? GEMM_TRANSPOSED : GEMM_PLAIN;
    const gemm_op op_b = (_i >> 2) & 1 ? GEMM_TRANSPOSED : GEMM_PLAIN;
    cpu_force_portable(portable);
    gsl_rng *rng = test_rng(4021 + (unsigned long)_i);
    double worst = 0.0;
    for (int s1 = 0; s1 < N_SIZES; s1++)
        for (int s2 = 0; s2 < N_SIZES; s2 += 2)
            for (int s3 = 0; s3 < N_SIZES; s3 += 3)
                for (int with_beta = 0; with_beta < 2; with_beta++) {
                    double d = compare_with_reference(op_a, op_b, SIZES[s1], SIZES[s2], SIZES[s3],
                                                      with_beta ? 1.0f : 0.0f, rng);
                    ck_assert_msg(d < REL_TOL, "%s path, op(A) %s, op(B) %s, m %d n %d k %d beta %d: "
                                  "relative difference %g", cpu_path_name(), op_a == GEMM_PLAIN ? "A" : "Aᵀ",
                                  op_b == GEMM_PLAIN ? "B" : "Bᵀ", SIZES[s1], SIZES[s2], SIZES[s3], with_beta, d);
                    if (d > worst) worst = d;
                }
    /* the layers' shapes: a batch of 16 and 32 through 784 → 64 → 784 */
    const int batches[2] = { 16, 32 };
    for (int b = 0; b < 2; b++) {
        double d = compare_with_reference(op_a, op_b, batches[b], 64, 784, 0.0f, rng);
        d = fmax(d, compare_with_reference(op_a, op_b, batches[b], 784, 64, 1.0f, rng));
        d = fmax(d, compare_with_reference(op_a, op_b, 784, 64, batches[b], 1.0f, rng));
        ck_assert_msg(d < REL_TOL, "%s path, dense shapes at batch %d: relative difference %g", cpu_path_name(),
                      batches[b], d);
    }
    cpu_force_portable(0);
    gsl_rng_free(rng);
}
END_TEST

/* The threads split a product by rows or by columns of C (threads.c: shares in multiples of 16; a cut
 * at any multiple of 4, a tile of the kernels, keeps the bits, and this test cuts at one).
 * Each value of C is summed in an order that depends on K alone, so on the AVX-512 path the
 * pieces give the whole product bit for bit, on each kernel: rows (op(B) plain), dots (B transposed, long K) and cols
 * (B transposed, short K); odd sizes leave blocks of fewer rows and columns at the edges. */
START_TEST(test_gemm_split_matches_whole)
{
    gsl_rng *rng = test_rng(4099);
    const int shapes[][3] = { { 7, 23, 300 }, { 13, 13, 784 }, { 9, 50, 20 }, { 128, 41, 257 }, { 5, 30, 130 } };
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
        for (int ops = 0; ops < 4; ops++) {
            const gemm_op op_a = ops & 1 ? GEMM_TRANSPOSED : GEMM_PLAIN, op_b = ops & 2 ? GEMM_TRANSPOSED : GEMM_PLAIN;
            const int m = shapes[sh][0], n = shapes[sh][1], k = shapes[sh][2];
            const int lda = op_a == GEMM_PLAIN ? k : m, ldb = op_b == GEMM_PLAIN ? n : k;
            const size_t a_size = (size_t)m * k, b_size = (size_t)n * k, c_size = (size_t)m * n;
            float *a = floats(a_size), *b = floats(b_size), *whole = floats(c_size), *pieces = floats(c_size);
            fill_uniform(a, a_size, -0.5, 0.5, rng);
            fill_uniform(b, b_size, -0.5, 0.5, rng);
            fill_uniform(whole, c_size, -0.5, 0.5, rng);
            for (int beta = 0; beta < 2; beta++)
                for (int by_rows = 0; by_rows < 2; by_rows++) {
                    memcpy(pieces, whole, c_size * sizeof *whole);
                    float *want = floats(c_size);
                    memcpy(want, whole, c_size * sizeof *whole);
                    gemm(op_a, op_b, m, n, k, a, lda, b, ldb, (float)beta, want, n);
                    const int size = by_rows ? m : n, cut[3] = { 0, size / 2 / 4 * 4, size };
                    for (int part = 0; part < 2; part++) {
                        const int from = cut[part], count = cut[part + 1] - from;
                        if (count == 0) continue;
                        if (by_rows)
                            gemm(op_a, op_b, count, n, k, op_a == GEMM_PLAIN ? a + (size_t)from * lda : a + from, lda,
                                 b, ldb, (float)beta, pieces + (size_t)from * n, n);
                        else
                            gemm(op_a, op_b, m, count, k, a, lda, op_b == GEMM_PLAIN ? b + from : b + (size_t)from * ldb,
                                 ldb, (float)beta, pieces + from, n);
                    }
                    if (!cpu_has_avx512()) {   /* a BLAS makes no such promise */
                        ck_assert_double_le(max_abs_diff(pieces, want, c_size), 1e-4);
                        free(want);
                        continue;
                    }
                    ck_assert_msg(memcmp(pieces, want, c_size * sizeof *want) == 0,
                                  "%s path, op(A) %d op(B) %d, m %d n %d k %d, beta %d, split by %s: not the same bits",
                                  cpu_path_name(), op_a, op_b, m, n, k, beta, by_rows ? "rows" : "columns");
                    free(want);
                }
            /* and the long-K shapes against the reference, edges of the dots kernel's 4x6 blocks included */
            ck_assert_double_lt(compare_with_reference(op_a, op_b, m, n, k, 1.0f, rng), REL_TOL);
            free(a);
            free(b);
            free(whole);
            free(pieces);
        }
    gsl_rng_free(rng);
}
END_TEST

/* gemm.h's promise for op(B) plain: K is summed in blocks of GEMM_K_BLOCK, so a product over K
 * cut where a block begins, the first part with β = 1 into C and each later block with β = 0 into
 * a sum of its own, then added to C in order, gives the whole product's bits (the units split adds
 * the lanes' partial sums of an input gradient that way: threads.c). Both ops of A, K from one block
 * to several with a short last one; a cut inside a block would not keep the bits. */
START_TEST(test_gemm_sums_k_in_blocks)
{
    if (!cpu_has_avx512()) return;   /* a BLAS makes no such promise */
    gsl_rng *rng = test_rng(4127);
    const int m = 11, n = 37, ks[] = { GEMM_K_BLOCK, 3 * GEMM_K_BLOCK + 16, 6 * GEMM_K_BLOCK + 16 };
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++)
        for (int transposed = 0; transposed < 2; transposed++) {
            const int k = ks[t], lda = transposed ? m : k;
            const gemm_op op_a = transposed ? GEMM_TRANSPOSED : GEMM_PLAIN;
            float *a = floats((size_t)m * k), *b = floats((size_t)k * n), *want = floats((size_t)m * n);
            float *got = floats((size_t)m * n), *block = floats((size_t)m * n);
            fill_uniform(a, (size_t)m * k, -0.5, 0.5, rng);
            fill_uniform(b, (size_t)k * n, -0.5, 0.5, rng);
            fill_uniform(want, (size_t)m * n, -0.5, 0.5, rng);
            memcpy(got, want, (size_t)m * n * sizeof *got);
            gemm(op_a, GEMM_PLAIN, m, n, k, a, lda, b, n, 1.0f, want, n);
            const int cut = k > 2 * GEMM_K_BLOCK ? 2 * GEMM_K_BLOCK : k;    /* the first part: whole blocks */
            gemm(op_a, GEMM_PLAIN, m, n, cut, a, lda, b, n, 1.0f, got, n);
            for (int k0 = cut; k0 < k; k0 += GEMM_K_BLOCK) {
                const int kc = k - k0 < GEMM_K_BLOCK ? k - k0 : GEMM_K_BLOCK;
                gemm(op_a, GEMM_PLAIN, m, n, kc, transposed ? a + (size_t)k0 * lda : a + k0, lda, b + (size_t)k0 * n, n,
                     0.0f, block, n);
                for (size_t i = 0; i < (size_t)m * n; i++) got[i] += block[i];
            }
            ck_assert_msg(memcmp(got, want, (size_t)m * n * sizeof *got) == 0,
                          "K = %d cut at %d, op(A) %d: not the same bits", k, cut, op_a);
            if (k > 2 * GEMM_K_BLOCK) {      /* cut inside the first block, the sums round otherwise */
                const int inside = GEMM_K_BLOCK / 2;
                gemm(op_a, GEMM_PLAIN, m, n, inside, a, lda, b, n, 0.0f, got, n);
                gemm(op_a, GEMM_PLAIN, m, n, k - inside, transposed ? a + (size_t)inside * lda : a + inside, lda,
                     b + (size_t)inside * n, n, 0.0f, block, n);
                float *whole = floats((size_t)m * n);
                gemm(op_a, GEMM_PLAIN, m, n, k, a, lda, b, n, 0.0f, whole, n);
                for (size_t i = 0; i < (size_t)m * n; i++) got[i] += block[i];
                ck_assert_msg(memcmp(got, whole, (size_t)m * n * sizeof *got) != 0,
                              "K = %d cut inside a block gave the same bits: the blocks are not GEMM_K_BLOCK", k);
                free(whole);
            }
            free(a);
            free(b);
            free(want);
            free(got);
            free(block);
        }
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_gemm_by_hand)
{
    /* A = [[1.5, −2], [0.25, 3]], B = [[2, 0.5, −1], [−0.75, 4, 1.25]]:
     *   A·B = [[3 + 1.5, 0.75 − 8, −1.5 − 2.5], [0.5 − 2.25, 0.125 + 12, −0.25 + 3.75]]
     *       = [[4.5, −7.25, −4], [−1.75, 12.125, 3.5]] */
    const float a[4] = { 1.5f, -2.0f, 0.25f, 3.0f };
    const float a_t[4] = { 1.5f, 0.25f, -2.0f, 3.0f };                 /* Aᵀ stored */
    const float b[6] = { 2.0f, 0.5f, -1.0f, -0.75f, 4.0f, 1.25f };
    const float b_t[6] = { 2.0f, -0.75f, 0.5f, 4.0f, -1.0f, 1.25f };   /* Bᵀ stored (3 x 2) */
    const float want[6] = { 4.5f, -7.25f, -4.0f, -1.75f, 12.125f, 3.5f };
    for (int portable = 0; portable < 2; portable++) {
        cpu_force_portable(portable);
        for (int form = 0; form < 4; form++) {
            const gemm_op op_a = form & 1 ? GEMM_TRANSPOSED : GEMM_PLAIN, op_b = form & 2 ? GEMM_TRANSPOSED : GEMM_PLAIN;
            float c[6] = { NAN, NAN, NAN, NAN, NAN, NAN };               /* β = 0 ignores what C held */
            gemm(op_a, op_b, 2, 3, 2, form & 1 ? a_t : a, 2, form & 2 ? b_t : b, form & 2 ? 2 : 3, 0.0f, c, 3);
            for (int i = 0; i < 6; i++)
                ck_assert_msg(c[i] == want[i], "%s path, form %d: c[%d] = %g, want %g", cpu_path_name(), form, i,
                              c[i], want[i]);
            gemm(op_a, op_b, 2, 3, 2, form & 1 ? a_t : a, 2, form & 2 ? b_t : b, form & 2 ? 2 : 3, 1.0f, c, 3);
            for (int i = 0; i < 6; i++) ck_assert_float_eq(c[i], 2.0f * want[i]);   /* β = 1 adds */
        }
    }
    cpu_force_portable(0);
}
END_TEST

START_TEST(test_gemm_limits)
{
    float a[4] = { 1.0f, 2.0f, 3.0f, 4.0f }, b[4] = { 0.5f, 0.25f, -1.0f, 2.0f };
    for (int portable = 0; portable < 2; portable++) {
        cpu_force_portable(portable);
        float c[4] = { 2.385f, -1.5f, 0.75f, 9.0f };
        gemm(GEMM_PLAIN, GEMM_PLAIN, 0, 2, 2, a, 2, b, 2, 0.0f, c, 2);      /* no rows: nothing written */
        gemm(GEMM_PLAIN, GEMM_PLAIN, 2, 0, 2, a, 2, b, 2, 0.0f, c, 2);      /* no columns: nothing */
        ck_assert_float_eq(c[0], 2.385f);
        ck_assert_float_eq(c[3], 9.0f);
        gemm(GEMM_PLAIN, GEMM_PLAIN, 2, 2, 0, a, 2, b, 2, 1.0f, c, 2);      /* an empty sum: C = β C */
        ck_assert_float_eq(c[0], 2.385f);
        ck_assert_float_eq(c[1], -1.5f);
        gemm(GEMM_PLAIN, GEMM_PLAIN, 2, 2, 0, a, 2, b, 2, 0.0f, c, 2);      /* β = 0: zeros */
        for (int i = 0; i < 4; i++) ck_assert_float_eq(c[i], 0.0f);
    }
    cpu_force_portable(0);
}
END_TEST

/* gemm_bias_relu against its definition (gemm.h): the bias copied into every row of C, gemm with
 * β = 1 (β = 0 without one), then a ReLU pass over C: the same bits, on both paths, for both kernels
 * of op(B) transposed (dots: K ≥ 256; cols: shorter K, in one block of 128 or several, and op(A)
 * transposed), with and without the bias and the ReLU, at sizes that leave partial tiles. Strides
 * wider than the rows: what lies between rows is never written. Entries of both signs, and a bias
 * that makes some sums exactly zero, so that the ReLU has work at its threshold. */
START_TEST(test_gemm_bias_relu_matches_passes)
{
    gsl_rng *rng = test_rng(8191);
    const int shapes[][3] = { { 128, 40, 400 }, { 5, 19, 784 }, { 33, 17, 20 }, { 9, 70, 200 }, { 4, 6, 256 } };
    for (int portable = 0; portable < 2; portable++) {
        cpu_force_portable(portable);
        for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
            for (int variant = 0; variant < 8; variant++) {
                const gemm_op op_a = variant & 4 ? GEMM_TRANSPOSED : GEMM_PLAIN;
                const int with_bias = variant & 1, with_relu = variant & 2;
                const int m = shapes[sh][0], n = shapes[sh][1], k = shapes[sh][2];
                const int lda = (op_a == GEMM_PLAIN ? k : m) + 1, ldb = k + 3, ldc = n + 2, ldr = n + 5;
                const size_t a_size = (size_t)(op_a == GEMM_PLAIN ? m : k) * lda, b_size = (size_t)n * ldb;
                float *a = floats(a_size), *b = floats(b_size), *bias = floats((size_t)n);
                float *c = floats((size_t)m * ldc), *relu = floats((size_t)m * ldr);
                float *want_c = floats((size_t)m * ldc), *want_relu = floats((size_t)m * ldr);
                fill_uniform(a, a_size, -0.5, 0.5, rng);
                fill_uniform(b, b_size, -0.5, 0.5, rng);
                fill_uniform(bias, (size_t)n, -1.0, 1.0, rng);
                if (k == 256)                                  /* A's first row zero: row 0 of C is the bias */
                    for (int p = 0; p < k; p++) a[op_a == GEMM_PLAIN ? (size_t)p : (size_t)p * lda] = 0.0f;
                fill_uniform(c, (size_t)m * ldc, -9.0, 9.0, rng);    /* what C held: overwritten */
                memcpy(want_c, c, (size_t)m * ldc * sizeof *c);
                fill_uniform(relu, (size_t)m * ldr, -9.0, 9.0, rng);
                memcpy(want_relu, relu, (size_t)m * ldr * sizeof *relu);
                /* the definition */
                if (with_bias)
                    for (int i = 0; i < m; i++) memcpy(want_c + (size_t)i * ldc, bias, (size_t)n * sizeof *bias);
                gemm(op_a, GEMM_TRANSPOSED, m, n, k, a, lda, b, ldb, with_bias ? 1.0f : 0.0f, want_c, ldc);
                if (with_relu)
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            const float value = want_c[(size_t)i * ldc + j];
                            want_relu[(size_t)i * ldr + j] = value > 0.0f ? value : 0.0f;
                        }
                gemm_bias_relu(op_a, GEMM_TRANSPOSED, m, n, k, a, lda, b, ldb, with_bias ? bias : NULL, c, ldc,
                               with_relu ? relu : NULL, ldr);
                ck_assert_msg(memcmp(c, want_c, (size_t)m * ldc * sizeof *c) == 0 &&
                                  memcmp(relu, want_relu, (size_t)m * ldr * sizeof *relu) == 0,
                              "%s path, op(A) %d, m %d n %d k %d, bias %d relu %d: not the bits of the passes",
                              cpu_path_name(), op_a, m, n, k, with_bias, with_relu != 0);
                free(a);
                free(b);
                free(bias);
                free(c);
                free(relu);
                free(want_c);
                free(want_relu);
            }
    }
    cpu_force_portable(0);
    gsl_rng_free(rng);
}
END_TEST

Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *core = test_case(s, "Core", 30);
    tcase_add_test(core, test_gemm_by_hand);
    tcase_add_loop_test(core, test_gemm_matches_reference, 0, 8);
    tcase_add_test(core, test_gemm_split_matches_whole);
    tcase_add_test(core, test_gemm_sums_k_in_blocks);
    tcase_add_test(core, test_gemm_bias_relu_matches_passes);
    test_add(test_case(s, "Limits", 0), test_gemm_limits);
    return s;
}
