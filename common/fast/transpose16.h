/* transpose16.h: a 16x16 block of floats transposed in AVX-512 registers, for the matrix products
 * (gemm.c) and the element-wise helpers (vector.c). Compiled for AVX-512F: call it only from code
 * that runs after cpu_has_avx512() said yes. */
#ifndef AE_FAST_TRANSPOSE16_H
#define AE_FAST_TRANSPOSE16_H

#include "fast/cpu.h"

#ifdef AE_AVX512_BUILD
#include <immintrin.h>

/* Transposes the 16x16 block held in r[0..16) in place: r[i] = row i on entry, column i on return.
 * Three rounds of shuffles, no memory. */
AVX512_INLINE void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {                /* pairs of rows interleaved */
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int g = 0; g < 4; g++) {                /* r[4g+q], lane L: column 4L+q of rows 4g..4g+3 */
        r[4 * g] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        r[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        r[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        r[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int q = 0; q < 4; q++) {                /* then a 4x4 transpose of 128-bit lanes */
        const __m512 s0 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x44);
        const __m512 s1 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xEE);
        const __m512 s2 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x44);
        const __m512 s3 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xEE);
        t[q] = _mm512_shuffle_f32x4(s0, s2, 0x88);
        t[4 + q] = _mm512_shuffle_f32x4(s0, s2, 0xDD);
        t[8 + q] = _mm512_shuffle_f32x4(s1, s3, 0x88);
        t[12 + q] = _mm512_shuffle_f32x4(s1, s3, 0xDD);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

#endif
#endif
