/* vector.h: element-wise helpers of the fast path, with AVX-512 where the processor has it (cpu.h). */
#ifndef AE_FAST_VECTOR_H
#define AE_FAST_VECTOR_H

#include <stddef.h>

void vec_add_to(float *dst, const float *src, size_t n);              /* dst (n) += src (n) */
void vec_copy_add(float *dst, const float *src, size_t n, float add); /* dst (n) = src (n) + add */
void vec_add_and_clear(float *dst, float *src, size_t n);             /* dst (n) += src (n), then src = 0 */
void vec_transpose(float *dst, size_t ld_dst, const float *src, size_t ld_src,   /* dst (cols, rows) = srcᵀ */
                   size_t rows, size_t cols);
void vec_prefetch(const void *bytes, size_t n);                       /* ask for bytes' cache lines ahead of use */

#endif
