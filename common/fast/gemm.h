/* gemm.h: C = op(A)·op(B) + β·C, the matrix product every dense and convolution layer uses.
 *
 * Row-major, like cblas_sgemm with alpha = 1:
 *   op(A) (M, K): A itself (M, K) with row stride lda, or the transpose of A (K, M);
 *   op(B) (K, N): B itself (K, N) with row stride ldb, or the transpose of B (N, K);
 *   C (M, N) with row stride ldc; β = 0 overwrites C (whatever it held, NaN included), β = 1 adds.
 *
 * gemm() picks the fastest way this machine has: own AVX-512 kernels on x86-64 processors
 * that have AVX-512 (cpu.h: checked at run time), the CBLAS sgemm (OpenBLAS or GSL) otherwise.
 * gemm_reference() is the plain triple loop the tests compare both with.
 */
#ifndef AE_GEMM_H
#define AE_GEMM_H

/* How the AVX-512 kernels sum when op(B) is plain: K in blocks of GEMM_K_BLOCK, from the first
 * row of op(B) on. Each element of C is β·C + s_0 after the first block, then C + s_1, C + s_2, ...
 * (one rounding each), where s_j is the block's products summed in order from zero, one multiply-add
 * at a time. So a sum over K may be split where a block begins and finished elsewhere with the same
 * bits: gemm over the first blocks, then each later block's gemm with β = 0 added to it in order
 * (threads.c splits an input gradient's sum over its lanes that way; tests/test_gemm.c checks it). */
#define GEMM_K_BLOCK 128

typedef enum { GEMM_PLAIN, GEMM_TRANSPOSED } gemm_op;

void gemm(gemm_op op_a, gemm_op op_b, int m, int n, int k,
          const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
/* A dense layer's forward in one pass: C = op(A)·op(B) + bias (bias (N) added to every row; NULL:
 * nothing added, C overwritten), and when relu is not NULL also relu = max(C, 0) (M, N), row stride
 * ldr (relu may not be C). The same floats as copying bias into every row of C, gemm with β = 1
 * (β = 0 without a bias) and a ReLU pass over C after it; the AVX-512 kernels for op(B) transposed
 * add the bias and write relu as they store C, the other paths take those passes. */
void gemm_bias_relu(gemm_op op_a, gemm_op op_b, int m, int n, int k, const float *a, int lda,
                    const float *b, int ldb, const float *bias, float *c, int ldc, float *relu, int ldr);
void gemm_reference(gemm_op op_a, gemm_op op_b, int m, int n, int k,
                    const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

#endif
