/* vector.c: the element-wise loops of the fast path: activations, sums of rows, bytes to floats
 * (see fast.h and vector.h).
 *
 * Each loop has a portable version, which runs everywhere, and an AVX-512 twin of 16 floats
 * per instruction, chosen at run time (cpu.h). GCC leaves such loops scalar at -O2 (expf may
 * set errno, and the loop counts are not known), so the twins are written out. Each twin does
 * the same float operations in the same order as its portable loop, bit for bit, except
 * sigmoid's e^x, a polynomial instead of expf: the sigmoid stays within 2.3 units in the last
 * place of the exact value, as it does with expf (tests/test_cpu.c compares the two).
 */
#include "fast/fast.h"
#include "fast/cpu.h"
#include "fast/vector.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The element-wise loops (activations, sums of rows) have a plain loop, which runs
 * everywhere, and an AVX-512 twin of 16 floats per instruction, chosen at run time
 * (cpu.h). GCC leaves the plain loops scalar at -O2 (expf may set errno, and the loop
 * counts are not known), so the twins are written out. Each twin does the same float
 * operations in the same order as its plain loop, bit for bit, except sigmoid's e^x, a
 * polynomial instead of expf: the sigmoid stays within 2.3 units in the last place of the
 * exact value, as it does with expf (tests/test_cpu.c compares the two). */
#ifdef AE_AVX512_BUILD
#include <immintrin.h>

#include "fast/transpose16.h"

/* The lanes of a block of 16 starting at i that lie before n. */
static inline AVX512 __mmask16 lanes_before(size_t n, size_t i)
{
    return n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1u);
}

static AVX512 void add_to_avx512(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 in = lanes_before(n, i);
        _mm512_mask_storeu_ps(dst + i, in, _mm512_add_ps(_mm512_maskz_loadu_ps(in, dst + i),
                                                         _mm512_maskz_loadu_ps(in, src + i)));
    }
}

/* max(0, x): vmaxps returns its second operand when the first comparison fails, NaN
 * included, so max(x, 0) maps NaN to 0 exactly as the select of the plain loop does */
static AVX512 void relu_forward_avx512(float *out, const float *in, size_t n)
{
    const __m512 zero = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 in_n = lanes_before(n, i);
        _mm512_mask_storeu_ps(out + i, in_n, _mm512_max_ps(_mm512_maskz_loadu_ps(in_n, in + i), zero));
    }
}

/* d_in += d_out where x > 0, + 0 elsewhere */
static AVX512 void relu_backward_avx512(float *d_in, const float *d_out, const float *in, size_t n)
{
    const __m512 zero = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 in_n = lanes_before(n, i);
        const __mmask16 positive = _mm512_mask_cmp_ps_mask(in_n, _mm512_maskz_loadu_ps(in_n, in + i), zero, _CMP_GT_OQ);
        _mm512_mask_storeu_ps(d_in + i, in_n, _mm512_add_ps(_mm512_maskz_loadu_ps(in_n, d_in + i),
                                                            _mm512_maskz_loadu_ps(positive, d_out + i)));
    }
}

/* d_in = 0 + (d_out where x > 0, 0 elsewhere), and d_bias += d_in when d_bias is not NULL */
static AVX512 void relu_backward_set_avx512(float *d_in, float *d_bias, const float *d_out, const float *in, size_t n)
{
    const __m512 zero = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 in_n = lanes_before(n, i);
        const __mmask16 positive = _mm512_mask_cmp_ps_mask(in_n, _mm512_maskz_loadu_ps(in_n, in + i), zero, _CMP_GT_OQ);
        const __m512 d = _mm512_add_ps(zero, _mm512_maskz_loadu_ps(positive, d_out + i));
        _mm512_mask_storeu_ps(d_in + i, in_n, d);
        if (d_bias) _mm512_mask_storeu_ps(d_bias + i, in_n, _mm512_add_ps(_mm512_maskz_loadu_ps(in_n, d_bias + i), d));
    }
}

/* e^x for x <= 0: x = n·ln2 + r with n = round(x/ln2) and |r| <= ln2/2, e^x = 2^n·e^r, e^r
 * by its Taylor series to r^7 (error r^8/8! < 6e-9, under float's rounding). ln2 is split
 * in two (355/512 and the rest) so that n·ln2 is subtracted without rounding (Cody and Waite).
 * Below −104, e^x rounds to 0 in float; max(−104, x) keeps NaN (it returns its second operand). */
static inline AVX512 __m512 exp_nonpositive(__m512 x)
{
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),   /* x·log2(e) */
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);                 /* x − n·355/512 */
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);                     /* − n·(ln2 − 355/512) */
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));                                  /* e^r */
    return _mm512_scalef_ps(p, n);                                                    /* 2^n·e^r */
}

/* 1/(1+e) or e/(1+e) with e = e^−|x|, as the plain loop */
static AVX512 void sigmoid_forward_avx512(float *out, const float *in, size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 in_n = lanes_before(n, i);
        const __m512 x = _mm512_maskz_loadu_ps(in_n, in + i);
        const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
        const __mmask16 nonnegative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
        const __m512 numerator = _mm512_mask_blend_ps(nonnegative, e, one);
        _mm512_mask_storeu_ps(out + i, in_n, _mm512_div_ps(numerator, _mm512_add_ps(one, e)));
    }
}

/* d_in += d_out · f · (1 − f), multiplied in the plain loop's order */
static AVX512 void sigmoid_backward_avx512(float *d_in, const float *d_out, const float *out, size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 in_n = lanes_before(n, i);
        const __m512 f = _mm512_maskz_loadu_ps(in_n, out + i);
        const __m512 g = _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(in_n, d_out + i), f), _mm512_sub_ps(one, f));
        _mm512_mask_storeu_ps(d_in + i, in_n, _mm512_add_ps(_mm512_maskz_loadu_ps(in_n, d_in + i), g));
    }
}

/* d_in = 0 + d_out·f·(1 − f) written, and added to d_bias (or NULL) */
static AVX512 void sigmoid_backward_set_avx512(float *d_in, float *d_bias, const float *d_out, const float *out, size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 in_n = lanes_before(n, i);
        const __m512 f = _mm512_maskz_loadu_ps(in_n, out + i);
        const __m512 g = _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(in_n, d_out + i), f), _mm512_sub_ps(one, f));
        const __m512 d = _mm512_add_ps(zero, g);
        _mm512_mask_storeu_ps(d_in + i, in_n, d);
        if (d_bias) _mm512_mask_storeu_ps(d_bias + i, in_n, _mm512_add_ps(_mm512_maskz_loadu_ps(in_n, d_bias + i), d));
    }
}

/* dst = src + add */
static AVX512 void copy_add_avx512(float *dst, const float *src, size_t n, float add)
{
    const __m512 add16 = _mm512_set1_ps(add);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 in = lanes_before(n, i);
        _mm512_mask_storeu_ps(dst + i, in, _mm512_add_ps(_mm512_maskz_loadu_ps(in, src + i), add16));
    }
}

/* dst += src, then src = 0 */
static AVX512 void add_and_clear_avx512(float *dst, float *src, size_t n)
{
    const __m512 zero = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 in = lanes_before(n, i);
        _mm512_mask_storeu_ps(dst + i, in, _mm512_add_ps(_mm512_maskz_loadu_ps(in, dst + i),
                                                         _mm512_maskz_loadu_ps(in, src + i)));
        _mm512_mask_storeu_ps(src + i, in, zero);
    }
}

/* x = bytes / 255, 16 bytes widened and multiplied at a time: the same float operation as the portable loop */
static AVX512 void bytes_to_unit_avx512(float *x, const uint8_t *bytes, size_t n)
{
    const __m512 scale = _mm512_set1_ps(1.0f / 255.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i wide = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(bytes + i)));
        _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_cvtepi32_ps(wide), scale));
    }
    for (; i < n; i++) x[i] = bytes[i] * (1.0f / 255.0f);
}

/* dst[j, i] = src[i, j] for a block of up to 16x16, rows and cols its size */
static AVX512 void transpose_block_avx512(float *dst, size_t ld_dst, const float *src, size_t ld_src,
                                          size_t rows, size_t cols)
{
    const __mmask16 in_cols = lanes_before(cols, 0), in_rows = lanes_before(rows, 0);
    __m512 r[16];
    for (size_t i = 0; i < 16; i++)
        r[i] = i < rows ? _mm512_maskz_loadu_ps(in_cols, src + i * ld_src) : _mm512_setzero_ps();
    transpose16(r);
    for (size_t j = 0; j < cols; j++) _mm512_mask_storeu_ps(dst + j * ld_dst, in_rows, r[j]);
}

static AVX512 void transpose_avx512(float *dst, size_t ld_dst, const float *src, size_t ld_src,
                                    size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows; i += 16)
        for (size_t j = 0; j < cols; j += 16)
            transpose_block_avx512(dst + j * ld_dst + i, ld_dst, src + i * ld_src + j, ld_src,
                                   rows - i < 16 ? rows - i : 16, cols - j < 16 ? cols - j : 16);
}

#endif

/* dst (cols, rows) = the transpose of src (rows, cols); ld_dst, ld_src their row strides */
void vec_transpose(float *restrict dst, size_t ld_dst, const float *restrict src, size_t ld_src,
                   size_t rows, size_t cols)
{
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        transpose_avx512(dst, ld_dst, src, ld_src, rows, cols);
        return;
    }
#endif
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) dst[j * ld_dst + i] = src[i * ld_src + j];
}

/* dst += src */
void vec_add_to(float *restrict dst,          /* (n) */
                   const float *restrict src,    /* (n) */
                   size_t n)
{
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        add_to_avx512(dst, src, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

/* dst = src + add */
void vec_copy_add(float *restrict dst,          /* (n) */
                     const float *restrict src,    /* (n) */
                     size_t n, float add)
{
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        copy_add_avx512(dst, src, n, add);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = src[i] + add;
}

/* dst += src, then src = 0: a lane's gradient block handed over and made ready for the next batch */
void vec_add_and_clear(float *restrict dst,    /* (n) */
                       float *restrict src,    /* (n) */
                       size_t n)
{
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        add_and_clear_avx512(dst, src, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        dst[i] += src[i];
        src[i] = 0.0f;
    }
}

/* x (n) = bytes (n) / 255, the twin of the plain loop in io/data.c: every batch goes through here,
 * and GCC leaves the plain loop scalar at -O2 */
void fast_bytes_to_unit(float *restrict x, const uint8_t *restrict bytes, size_t n)
{
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        bytes_to_unit_avx512(x, bytes, n);
        return;
    }
#endif
    const float scale = 1.0f / 255.0f;
    for (size_t p = 0; p < n; p++) x[p] = bytes[p] * scale;
}

/* Asks for the cache lines of bytes[0..n) to be read ahead (a hint: nothing changes). */
void vec_prefetch(const void *bytes, size_t n)
{
#ifdef __GNUC__
    const char *p = bytes;
    if (n == 0) return;
    for (size_t at = 0; at < n; at += 64) __builtin_prefetch(p + at, 0, 3);   /* a cache line each */
    __builtin_prefetch(p + n - 1, 0, 3);
#else
    (void)bytes, (void)n;
#endif
}

/* ------------------------------------------------------------ activations */

/* cond ? a : b without a branch. Activations see signs at random, and a branch on the sign
 * would be mispredicted half the time: that made relu five times slower than this select. */
static inline float select_float(int cond, float a, float b)
{
    uint32_t bits_a, bits_b;
    const uint32_t mask = -(uint32_t)(cond != 0);       /* all ones or all zeros */
    memcpy(&bits_a, &a, sizeof bits_a);
    memcpy(&bits_b, &b, sizeof bits_b);
    bits_a = (bits_a & mask) | (bits_b & ~mask);
    memcpy(&a, &bits_a, sizeof a);
    return a;
}

/* f(x) = max(0, x) */
void fast_relu_forward(float *out,          /* (n) */
                  const float *in,     /* (n) */
                  size_t n)
{
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        relu_forward_avx512(out, in, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) out[i] = select_float(in[i] > 0.0f, in[i], 0.0f);
}

/* d_in += d_out · [x > 0] */
void fast_relu_backward(float *d_in,         /* (n) */
                   const float *d_out,  /* (n) */
                   const float *in,     /* (n) the forward's input */
                   size_t n)
{
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        relu_backward_avx512(d_in, d_out, in, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) d_in[i] += select_float(in[i] > 0.0f, d_out[i], 0.0f);
}

/* d_in = d_out · [x > 0] written, not added, and added to d_bias (or NULL): the floats of clearing
 * d_in, fast_relu_backward and vec_add_to(d_bias, d_in), one pass instead of three (0 + d: a −0 of
 * d_out becomes +0, as added to the cleared d_in) */
void fast_relu_backward_set(float *d_in,         /* (n) */
                            float *d_bias,       /* (n) or NULL */
                            const float *d_out,  /* (n) */
                            const float *in,     /* (n) the forward's input */
                            size_t n)
{
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        relu_backward_set_avx512(d_in, d_bias, d_out, in, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        d_in[i] = 0.0f + select_float(in[i] > 0.0f, d_out[i], 0.0f);
        if (d_bias) d_bias[i] += d_in[i];
    }
}

/* f(x) = 1/(1+e^-x) = e^x/(1+e^x): with e = e^-|x| both forms are 1/(1+e) and e/(1+e), and exp never overflows */
void fast_sigmoid_forward(float *out,        /* (n) */
                     const float *in,   /* (n) */
                     size_t n)
{
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        sigmoid_forward_avx512(out, in, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        const float e = expf(-fabsf(in[i]));
        out[i] = select_float(in[i] >= 0.0f, 1.0f, e) / (1.0f + e);
    }
}

/* d_in += d_out · f(1 − f) */
void fast_sigmoid_backward(float *d_in,         /* (n) */
                      const float *d_out,  /* (n) */
                      const float *out,    /* (n) the forward's output f */
                      size_t n)
{
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        sigmoid_backward_avx512(d_in, d_out, out, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) d_in[i] += d_out[i] * out[i] * (1.0f - out[i]);
}

/* d_in = d_out · f(1 − f) written, not added, and added to d_bias (or NULL): the floats of clearing
 * d_in, fast_sigmoid_backward and vec_add_to(d_bias, d_in), one pass instead of three (0 + d, as
 * added to the cleared d_in: a −0 becomes +0) */
void fast_sigmoid_backward_set(float *d_in,         /* (n) */
                               float *d_bias,       /* (n) or NULL */
                               const float *d_out,  /* (n) */
                               const float *out,    /* (n) the forward's output f */
                               size_t n)
{
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) {
        sigmoid_backward_set_avx512(d_in, d_bias, d_out, out, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        d_in[i] = 0.0f + d_out[i] * out[i] * (1.0f - out[i]);
        if (d_bias) d_bias[i] += d_in[i];
    }
}

/* ---------------------------------------------- as rows of the activation table */

void fast_relu_backward_op(float *d_in, const float *d_out, const float *in, const float *out, size_t n)
{
    (void)out;
    fast_relu_backward(d_in, d_out, in, n);
}

void fast_sigmoid_backward_op(float *d_in, const float *d_out, const float *in, const float *out, size_t n)
{
    (void)in;
    fast_sigmoid_backward(d_in, d_out, out, n);
}
