/* gemm.c: C = op(A)·op(B) + β·C for the small matrices of this course (see gemm.h).
 *
 * Shape legend: M rows of C, N columns of C, K the index summed over.
 *
 * Why not always CBLAS: the products here are small (a batch of 32 against 784x64 weights),
 * and a BLAS spends much of such a call packing its operands; Debian's OpenBLAS also runs
 * its AVX2 kernels on processors it does not know, even those with AVX-512. Measured on the
 * bench machine (bench/README.md), these kernels run the dense layers' products 2 to 2.5
 * times faster. Three AVX-512 kernels, each 16 floats per register:
 *
 *   rows:  op(B) plain. C[i, j..j+63] += op(A)[i, p] · B[p, j..j+63] for every p: one
 *          number of A broadcast against a row of B, 4 rows of C at a time (16 accumulators).
 *   dots:  A plain, B transposed, K long (a dense layer's forward, K = 784): both operands
 *          run along K, so C[i, j] = Σ_p A[i, p..p+15] · B[j, p..p+15] as 4x4 dot products,
 *          each summed across its register at the end.
 *   cols:  B transposed otherwise (the decoder's forward, K = 64): Cᵀ = B·op(A)ᵀ, the rows
 *          kernel the other way round: B[j, p] broadcast against 16 values of op(A)ᵀ[p, ·]
 *          (op(A) transposed into a small block first), and the 16x16 tile of results
 *          transposed in registers on its way into C.
 *
 * Every C value is summed in an order that depends on K alone, never on M or N: a row of C
 * comes out the same whichever rows are computed with it, so splitting a batch over threads
 * changes nothing in a forward pass (on this path; a BLAS makes no such promise).
 */
#include "fast/gemm.h"
#include "fast/cpu.h"
#include "fast/fast.h"

#include <gsl/gsl_cblas.h>
#include <stddef.h>
#include <string.h>

/* ------------------------------------------------------------- reference */

/* c[i,j] = β c[i,j] + Σ_p op(a)[i,p] · op(b)[p,j], summed in double */
void gemm_reference(gemm_op op_a, gemm_op op_b, int m, int n, int k,
                    const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0.0;
            for (int p = 0; p < k; p++) {
                const float av = op_a == GEMM_PLAIN ? a[(size_t)i * lda + p] : a[(size_t)p * lda + i];
                const float bv = op_b == GEMM_PLAIN ? b[(size_t)p * ldb + j] : b[(size_t)j * ldb + p];
                sum += (double)av * bv;
            }
            float *cij = &c[(size_t)i * ldc + j];
            *cij = beta == 0.0f ? (float)sum : (float)(beta * *cij + sum);   /* β = 0 ignores what C held */
        }
}

/* ------------------------------------------------------------------ CBLAS */

static void gemm_blas(gemm_op op_a, gemm_op op_b, int m, int n, int k,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    cblas_sgemm(CblasRowMajor, op_a == GEMM_PLAIN ? CblasNoTrans : CblasTrans,
                op_b == GEMM_PLAIN ? CblasNoTrans : CblasTrans, m, n, k,
                1.0f, a, lda, b, ldb, beta, c, ldc);
}

/* ---------------------------------------------------------------- AVX-512 */
#ifdef AE_AVX512_BUILD
#include <immintrin.h>

#include "fast/transpose16.h"

/* Every function below is compiled for AVX-512F (AVX512, cpu.h) and runs only after
 * cpu_has_avx512() said yes. */

/* Calls TILE(R, C) with R = rows and C = cols as constants (each in 1..4), so that every tile
 * shape is its own fully unrolled copy of the inline kernel. */
#define TILE_4X4(rows, cols)                                                              \
    switch ((rows) * 4 + (cols)) {                                                        \
    case 1 * 4 + 1: TILE(1, 1); break;  case 1 * 4 + 2: TILE(1, 2); break;                \
    case 1 * 4 + 3: TILE(1, 3); break;  case 1 * 4 + 4: TILE(1, 4); break;                \
    case 2 * 4 + 1: TILE(2, 1); break;  case 2 * 4 + 2: TILE(2, 2); break;                \
    case 2 * 4 + 3: TILE(2, 3); break;  case 2 * 4 + 4: TILE(2, 4); break;                \
    case 3 * 4 + 1: TILE(3, 1); break;  case 3 * 4 + 2: TILE(3, 2); break;                \
    case 3 * 4 + 3: TILE(3, 3); break;  case 3 * 4 + 4: TILE(3, 4); break;                \
    case 4 * 4 + 1: TILE(4, 1); break;  case 4 * 4 + 2: TILE(4, 2); break;                \
    case 4 * 4 + 3: TILE(4, 3); break;  default: TILE(4, 4); break;                       \
    }

/* Rows of K taken at once by the rows kernel: 128 rows of 64 floats of B are 32 KiB, inside L1.
 * gemm.h promises this blocking (GEMM_K_BLOCK): the units split relies on it. */
#define KC GEMM_K_BLOCK
/* The loops over a tile's rows and vectors are unrolled, so that its accumulators live in registers. */
#define UNROLL _Pragma("GCC unroll 4")
#define UNROLL16 _Pragma("GCC unroll 16")

/* From this K on, the dots kernel's sums across registers (3 instructions per C value) cost
 * less than transposing op(A) for the cols kernel. Fixed, not a function of M: see the top. */
#define DOTS_MIN_K 256
/* Columns of C per block of the dots kernel: 4 rows by 6 columns are 24 accumulators, 10 loads per 24 FMAs */
#define DOTS_NR 6
#define UNROLL8 _Pragma("GCC unroll 8")

/* The first `count` lanes of 16 (count in 1..16). */
AVX512_INLINE __mmask16 lanes(int count) { return (__mmask16)((1u << count) - 1u); }

/* C[0..mr, 0..16·nv) = β C + Σ_p a(i, p) · B[p, ·]; a(i, p) = a[i·a_row + p·a_step]; the last
 * vector of each row holds only the lanes in `last`. mr and nv are constants where it is called. */
AVX512_INLINE void tile_rows(const int mr, const int nv, int k, const float *a, ptrdiff_t a_row,
                             ptrdiff_t a_step, const float *b, ptrdiff_t ldb, float beta, float *c,
                             ptrdiff_t ldc, __mmask16 last)
{
    __m512 acc[4][4];
    UNROLL for (int i = 0; i < mr; i++)
        UNROLL for (int v = 0; v < nv; v++) acc[i][v] = _mm512_setzero_ps();
    for (int p = 0; p < k; p++, a += a_step, b += ldb) {
        __m512 row[4];
        UNROLL for (int v = 0; v < nv; v++)
            row[v] = v == nv - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
        UNROLL for (int i = 0; i < mr; i++) {
            const __m512 ai = _mm512_set1_ps(a[i * a_row]);
            UNROLL for (int v = 0; v < nv; v++) acc[i][v] = _mm512_fmadd_ps(ai, row[v], acc[i][v]);
        }
    }
    UNROLL for (int i = 0; i < mr; i++)
        UNROLL for (int v = 0; v < nv; v++) {
            float *ci = c + i * ldc + 16 * v;
            const __mmask16 mask = v == nv - 1 ? last : (__mmask16)0xFFFF;
            __m512 result = acc[i][v];
            if (beta != 0.0f)
                result = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, ci), result);
            _mm512_mask_storeu_ps(ci, mask, result);
        }
}

/* One 4-row band of C against a panel of up to 64 columns, with mr and nv made constants. */
static AVX512 void band_rows(int mr, int nv, int k, const float *a, ptrdiff_t a_row, ptrdiff_t a_step,
                             const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc,
                             __mmask16 last)
{
#define TILE(MR, NV) tile_rows(MR, NV, k, a, a_row, a_step, b, ldb, beta, c, ldc, last)
    TILE_4X4(mr, nv);
#undef TILE
}

/* All of C's rows against B[0..k, 0..cols) (cols <= 64) with row stride ldb: C[·, 0..cols). */
static AVX512 void panel_rows(gemm_op op_a, int m, int cols, int k, const float *a, int lda,
                              const float *b, ptrdiff_t ldb, float beta, float *c, int ldc)
{
    const ptrdiff_t a_row = op_a == GEMM_PLAIN ? lda : 1, a_step = op_a == GEMM_PLAIN ? 1 : lda;
    const int nv = (cols + 15) / 16;
    const __mmask16 last = lanes(cols - 16 * (nv - 1));
    for (int i = 0; i < m; i += 4) {
        const int mr = m - i < 4 ? m - i : 4;
        band_rows(mr, nv, k, a + i * a_row, a_row, a_step, b, ldb, beta, c + (ptrdiff_t)i * ldc, ldc, last);
    }
}

/* op(B) plain: panels of 64 columns, K in blocks of KC rows (β applies to the first block only). */
static AVX512 void gemm_rows(gemm_op op_a, int m, int n, int k, const float *a, int lda,
                             const float *b, int ldb, float beta, float *c, int ldc)
{
    const ptrdiff_t a_step = op_a == GEMM_PLAIN ? 1 : lda;
    for (int j = 0; j < n; j += 64) {
        const int cols = n - j < 64 ? n - j : 64;
        int p = 0;
        do {
            const int kc = k - p < KC ? k - p : KC;
            panel_rows(op_a, m, cols, kc, a + p * a_step, lda, b + (ptrdiff_t)p * ldb + j, ldb,
                       p == 0 ? beta : 1.0f, c + j, ldc);
            p += kc;
        } while (p < k);
    }
}

/* op(B) transposed: C = op(A)·Bᵀ is computed as its transpose Cᵀ = B·op(A)ᵀ, whose "rows" kernel
 * broadcasts B[j, p] (B's rows are contiguous in p) against 16 values of op(A)ᵀ[p, i..i+15],
 * then transposes the 16x16 tile of results in registers to store it into C's rows. */

/* at[p, ii] = op(A)[i0 + ii, p0 + p] for p < kc, ii < 16 (zeros past row m): op(A)ᵀ, 16 columns wide */
static AVX512 void pack_a_transposed(float *at, gemm_op op_a, const float *a, int lda, int rows, int kc)
{
    if (op_a == GEMM_TRANSPOSED) {               /* op(A)ᵀ is A: copy 16 (or fewer) floats per row */
        const __mmask16 in_m = lanes(rows);
        for (int p = 0; p < kc; p++) _mm512_store_ps(at + 16 * p, _mm512_maskz_loadu_ps(in_m, a + (ptrdiff_t)p * lda));
        return;
    }
    for (int p = 0; p < kc; p += 16) {
        const __mmask16 in_k = lanes(kc - p < 16 ? kc - p : 16);
        __m512 r[16];
        for (int i = 0; i < 16; i++)
            r[i] = i < rows ? _mm512_maskz_loadu_ps(in_k, a + (ptrdiff_t)i * lda + p) : _mm512_setzero_ps();
        transpose16(r);
        for (int i = 0; i < 16 && p + i < kc; i++) _mm512_store_ps(at + 16 * (p + i), r[i]);
    }
}

/* C[0..rows, 0..cols) = β C + Σ_p at[p, ·] B[·, p] for a tile of 16 columns and nb blocks of 16
 * rows (nb 1 or 2, a constant: blocks of at KC·16 floats apart; rows ≤ 16·nb of C, cols ≤ 16 rows of
 * B). With a bias (its entries for these columns), bias + Σ in place of β C + Σ; with relu, also
 * relu[ii, ·] = max(C[ii, ·], 0) (rows ldr apart). */
AVX512_INLINE void tile_cols(const int nb, int k, const float *at, const float *b, ptrdiff_t ldb, int cols,
                             float beta, float *c, ptrdiff_t ldc, int rows, const float *bias, float *relu,
                             ptrdiff_t ldr)
{
    const float *brow[16];                        /* rows past the end repeat the last one; never stored */
    for (int jj = 0; jj < 16; jj++) brow[jj] = b + (jj < cols ? jj : cols - 1) * ldb;
    __m512 acc[2][16];
    /* the sixteen columns in two sweeps of eight: sixteen row pointers do not fit in the
     * registers (reloading them from the stack at every p slowed the sweep by a quarter); each
     * broadcast of B serves both blocks of rows */
    for (int half = 0; half < 16; half += 8) {
        __m512 sum[2][8];
        UNROLL for (int r = 0; r < nb; r++)
            UNROLL8 for (int jj = 0; jj < 8; jj++) sum[r][jj] = _mm512_setzero_ps();
        for (int p = 0; p < k; p++) {
            __m512 atp[2];
            UNROLL for (int r = 0; r < nb; r++) atp[r] = _mm512_load_ps(at + r * KC * 16 + 16 * p);
            UNROLL8 for (int jj = 0; jj < 8; jj++) {
                const __m512 bj = _mm512_set1_ps(brow[half + jj][p]);
                UNROLL for (int r = 0; r < nb; r++) sum[r][jj] = _mm512_fmadd_ps(bj, atp[r], sum[r][jj]);
            }
        }
        UNROLL for (int r = 0; r < nb; r++)
            UNROLL8 for (int jj = 0; jj < 8; jj++) acc[r][half + jj] = sum[r][jj];
    }
    const __mmask16 in_n = lanes(cols);
    const __m512 row_bias = bias ? _mm512_maskz_loadu_ps(in_n, bias) : _mm512_setzero_ps();
    for (int r = 0; r < nb; r++) {
        transpose16(acc[r]);                      /* acc[r][ii] = C[16r + ii, 0..16) */
        const int block_rows = rows - 16 * r < 16 ? rows - 16 * r : 16;
        for (int ii = 0; ii < block_rows; ii++) {
            const ptrdiff_t row = 16 * r + ii;
            float *ci = c + row * ldc;
            __m512 result = acc[r][ii];
            if (bias)                             /* the bias copied into C and β = 1: the same sum */
                result = _mm512_add_ps(row_bias, result);
            else if (beta != 0.0f)
                result = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(in_n, ci), result);
            _mm512_mask_storeu_ps(ci, in_n, result);
            if (relu) _mm512_mask_storeu_ps(relu + row * ldr, in_n, _mm512_max_ps(result, _mm512_setzero_ps()));
        }
    }
}

static AVX512 void tile_cols_1(int k, const float *at, const float *b, ptrdiff_t ldb, int cols, float beta,
                               float *c, ptrdiff_t ldc, int rows, const float *bias, float *relu, ptrdiff_t ldr)
{
    tile_cols(1, k, at, b, ldb, cols, beta, c, ldc, rows, bias, relu, ldr);
}

static AVX512 void tile_cols_2(int k, const float *at, const float *b, ptrdiff_t ldb, int cols, float beta,
                               float *c, ptrdiff_t ldc, int rows, const float *bias, float *relu, ptrdiff_t ldr)
{
    tile_cols(2, k, at, b, ldb, cols, beta, c, ldc, rows, bias, relu, ldr);
}

/* op(B) transposed: 32 rows of C at a time (16 at the end), K in blocks of KC (op(A)ᵀ packed per
 * block of 16 rows); the bias (or NULL) enters with the first block of K, relu (or NULL) is
 * written with the last */
static AVX512 void gemm_cols(gemm_op op_a, int m, int n, int k, const float *a, int lda,
                             const float *b, int ldb, float beta, float *c, int ldc,
                             const float *bias, float *relu, int ldr)
{
    float at[2 * KC * 16] __attribute__((aligned(64)));   /* (2, KC, 16): 16 KiB */
    const ptrdiff_t a_row = op_a == GEMM_PLAIN ? lda : 1, a_step = op_a == GEMM_PLAIN ? 1 : lda;
    for (int i = 0; i < m; i += 32) {
        const int rows = m - i < 32 ? m - i : 32, nb = rows > 16 ? 2 : 1;
        int p = 0;
        do {
            const int kc = k - p < KC ? k - p : KC;
            for (int r = 0; r < nb; r++)
                pack_a_transposed(at + r * KC * 16, op_a, a + (i + 16 * r) * a_row + p * a_step, lda,
                                  rows - 16 * r < 16 ? rows - 16 * r : 16, kc);
            const int first = p == 0, last = p + kc == k;
            for (int j = 0; j < n; j += 16)
                (nb == 2 ? tile_cols_2 : tile_cols_1)(kc, at, b + (ptrdiff_t)j * ldb + p, ldb, n - j < 16 ? n - j : 16,
                    first ? beta : 1.0f, c + (ptrdiff_t)i * ldc + j, ldc, rows,
                    first && bias ? bias + j : NULL, last && relu ? relu + (ptrdiff_t)i * ldr + j : NULL, ldr);
            p += kc;
        } while (p < k);
    }
}

/* sums[t] = _mm512_reduce_add_ps(v[t]) for t < 16, bit for bit, at a fraction of the cost: the
 * same tree of additions (lanes l and l + 8, then l and l + 4, then l and l + 2, then 0 and 1: the
 * order GCC's avx512fintrin.h gives it), each level done for several vectors at once by shuffling
 * their halves side by side (a + b and b + a are the same float). Sixteen reductions one by one
 * cost about 130 instructions, here 47. */
AVX512_INLINE void reduce_add_16(const __m512 v[16], float sums[16])
{
    __m512 h1[8], h2[4], h3[2];
    UNROLL8 for (int t = 0; t < 8; t++)         /* 256-bit halves: vector t holds v[2t]'s 8 sums, then v[2t + 1]'s */
        h1[t] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * t], v[2 * t + 1], _MM_SHUFFLE(3, 2, 3, 2)),
                              _mm512_shuffle_f32x4(v[2 * t], v[2 * t + 1], _MM_SHUFFLE(1, 0, 1, 0)));
    UNROLL for (int t = 0; t < 4; t++)          /* 128-bit quarters: lane group g of vector t is v[4t + g]'s 4 sums */
        h2[t] = _mm512_add_ps(_mm512_shuffle_f32x4(h1[2 * t], h1[2 * t + 1], _MM_SHUFFLE(3, 1, 3, 1)),
                              _mm512_shuffle_f32x4(h1[2 * t], h1[2 * t + 1], _MM_SHUFFLE(2, 0, 2, 0)));
    for (int t = 0; t < 2; t++)                 /* lanes l and l + 2 of each group: [v[8t + g]'s 2 sums, v[8t + 4 + g]'s] */
        h3[t] = _mm512_add_ps(_mm512_shuffle_ps(h2[2 * t], h2[2 * t + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                              _mm512_shuffle_ps(h2[2 * t], h2[2 * t + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    /* lanes 0 and 1 of each pair: lane 4g + q holds v[4q + g]'s total */
    const __m512 total = _mm512_add_ps(_mm512_shuffle_ps(h3[0], h3[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                       _mm512_shuffle_ps(h3[0], h3[1], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    _mm512_storeu_ps(sums, _mm512_permutexvar_ps(order, total));
}

/* C[0..mr, 0..nr) = β C + Σ_p A[i, p] · B[j, p], 16 values of p at a time; mr, nr constants.
 * With a bias (its entries for these columns), bias + Σ in place of β C + Σ; with relu, also
 * relu[i, j] = max(C[i, j], 0) (rows ldr apart). */
AVX512_INLINE void tile_dots(const int mr, const int nr, int k, const float *a, ptrdiff_t lda,
                             const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc,
                             const float *bias, float *relu, ptrdiff_t ldr)
{
    __m512 acc[4][DOTS_NR];
    UNROLL for (int i = 0; i < mr; i++)
        UNROLL8 for (int j = 0; j < nr; j++) acc[i][j] = _mm512_setzero_ps();
    int p = 0;
    for (; p + 16 <= k; p += 16) {
        __m512 av[4];
        UNROLL for (int i = 0; i < mr; i++) av[i] = _mm512_loadu_ps(a + i * lda + p);
        UNROLL8 for (int j = 0; j < nr; j++) {
            const __m512 bv = _mm512_loadu_ps(b + j * ldb + p);
            UNROLL for (int i = 0; i < mr; i++) acc[i][j] = _mm512_fmadd_ps(av[i], bv, acc[i][j]);
        }
    }
    if (p < k) {                                 /* the last k mod 16 values, the rest of the lanes zero */
        const __mmask16 tail = lanes(k - p);
        __m512 av[4], bv[DOTS_NR];
        UNROLL for (int i = 0; i < mr; i++) av[i] = _mm512_maskz_loadu_ps(tail, a + i * lda + p);
        UNROLL8 for (int j = 0; j < nr; j++) bv[j] = _mm512_maskz_loadu_ps(tail, b + j * ldb + p);
        UNROLL for (int i = 0; i < mr; i++)
            UNROLL8 for (int j = 0; j < nr; j++) acc[i][j] = _mm512_fmadd_ps(av[i], bv[j], acc[i][j]);
    }
    /* the tile's sums, sixteen at a time (the last group padded with zero vectors) */
    float sums[32];
    __m512 group[16];
    UNROLL for (int g = 0; g * 16 < mr * nr; g++) {
        UNROLL16 for (int t = 0; t < 16; t++)
            group[t] = g * 16 + t < mr * nr ? acc[(g * 16 + t) / nr][(g * 16 + t) % nr] : _mm512_setzero_ps();
        reduce_add_16(group, sums + 16 * g);
    }
    /* each row's nr values as one vector: bias + sum, or β C + sum (a product, then a sum), and
     * max(value, 0), which is +0 for −0 and NaN as value > 0 ? value : 0 is */
    const __mmask16 in_n = lanes(nr);
    const __m512 row_bias = bias ? _mm512_maskz_loadu_ps(in_n, bias) : _mm512_setzero_ps();
    UNROLL for (int i = 0; i < mr; i++) {
        const __m512 sum = _mm512_maskz_loadu_ps(in_n, sums + i * nr);
        float *ci = c + i * ldc;
        __m512 value = sum;
        if (bias)
            value = _mm512_add_ps(row_bias, sum);
        else if (beta != 0.0f)
            value = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(in_n, ci)), sum);
        _mm512_mask_storeu_ps(ci, in_n, value);
        if (relu) _mm512_mask_storeu_ps(relu + i * ldr, in_n, _mm512_max_ps(value, _mm512_setzero_ps()));
    }
}

static AVX512 void block_dots(int mr, int nr, int k, const float *a, ptrdiff_t lda, const float *b,
                              ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc, const float *bias, float *relu,
                              ptrdiff_t ldr)
{
#define TILE(MR, NR) tile_dots(MR, NR, k, a, lda, b, ldb, beta, c, ldc, bias, relu, ldr)
    if (nr > 4) {                                /* nr = DOTS_NR: 4 rows at once, fewer as two blocks */
        if (mr == 4) {
            TILE(4, DOTS_NR);
            return;
        }
        block_dots(mr, 4, k, a, lda, b, ldb, beta, c, ldc, bias, relu, ldr);
        block_dots(mr, nr - 4, k, a, lda, b + 4 * ldb, ldb, beta, c + 4, ldc, bias ? bias + 4 : NULL,
                   relu ? relu + 4 : NULL, ldr);
        return;
    }
    TILE_4X4(mr, nr);
#undef TILE
}

/* A plain, B transposed, long K: 4xDOTS_NR blocks of dot products (4x4 and smaller at the edges) */
static AVX512 void gemm_dots(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                             float beta, float *c, int ldc, const float *bias, float *relu, int ldr)
{
    int j = 0;
    for (; j + DOTS_NR <= n; j += DOTS_NR)
        for (int i = 0; i < m; i += 4)
            block_dots(m - i < 4 ? m - i : 4, DOTS_NR, k, a + (ptrdiff_t)i * lda, lda,
                       b + (ptrdiff_t)j * ldb, ldb, beta, c + (ptrdiff_t)i * ldc + j, ldc, bias ? bias + j : NULL,
                       relu ? relu + (ptrdiff_t)i * ldr + j : NULL, ldr);
    for (; j < n; j += 4)
        for (int i = 0; i < m; i += 4)
            block_dots(m - i < 4 ? m - i : 4, n - j < 4 ? n - j : 4, k, a + (ptrdiff_t)i * lda, lda,
                       b + (ptrdiff_t)j * ldb, ldb, beta, c + (ptrdiff_t)i * ldc + j, ldc, bias ? bias + j : NULL,
                       relu ? relu + (ptrdiff_t)i * ldr + j : NULL, ldr);
}

#endif /* x86-64 with GCC or Clang */

/* ------------------------------------------------------------- dispatch */

void gemm(gemm_op op_a, gemm_op op_b, int m, int n, int k,
          const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0) return;
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        if (op_b == GEMM_PLAIN) {
            gemm_rows(op_a, m, n, k, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        if (op_a == GEMM_PLAIN && k >= DOTS_MIN_K) {
            gemm_dots(m, n, k, a, lda, b, ldb, beta, c, ldc, NULL, NULL, 0);
            return;
        }
        gemm_cols(op_a, m, n, k, a, lda, b, ldb, beta, c, ldc, NULL, NULL, 0);
        return;
    }
#endif
    gemm_blas(op_a, op_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

void gemm_bias_relu(gemm_op op_a, gemm_op op_b, int m, int n, int k, const float *a, int lda,
                    const float *b, int ldb, const float *bias, float *c, int ldc, float *relu, int ldr)
{
    if (m <= 0 || n <= 0) return;
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512() && op_b == GEMM_TRANSPOSED && k > 0) {   /* a dense layer's forward: as it stores */
        if (op_a == GEMM_PLAIN && k >= DOTS_MIN_K)
            gemm_dots(m, n, k, a, lda, b, ldb, 0.0f, c, ldc, bias, relu, ldr);
        else
            gemm_cols(op_a, m, n, k, a, lda, b, ldb, 0.0f, c, ldc, bias, relu, ldr);
        return;
    }
#endif
    if (bias)                                       /* otherwise as gemm.h says it: passes of their own */
        for (int i = 0; i < m; i++) memcpy(c + (size_t)i * ldc, bias, (size_t)n * sizeof *c);
    gemm(op_a, op_b, m, n, k, a, lda, b, ldb, bias ? 1.0f : 0.0f, c, ldc);
    if (relu)
        for (int i = 0; i < m; i++) fast_relu_forward(relu + (size_t)i * ldr, c + (size_t)i * ldc, (size_t)n);
}
