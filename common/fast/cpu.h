/* cpu.h: which vector instructions the fast paths of the library may use.
 *
 * The library's hot loops (gemm.c, the activations in layers.c, Adam in optim.c) have
 * a plain C version that runs everywhere and, on x86-64 processors with AVX-512, a
 * faster one chosen at run time. Tests compare the two; cpu_force_portable(1) turns the
 * fast ones off, to compare or to measure what they gain.
 */
#ifndef AE_CPU_H
#define AE_CPU_H

/* AE_AVX512_BUILD: this compiler builds the AVX-512 twins (x86-64, GCC or Clang). AVX512 compiles
 * one function for AVX-512F, AVX512_INLINE one that is always inlined into such functions: code so
 * marked runs only after cpu_has_avx512() said yes. */
#if defined(__x86_64__) && defined(__GNUC__)
#define AE_AVX512_BUILD 1
#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f")))
#endif

/* 1 when the AVX-512 paths run: an x86-64 processor (and system) with AVX-512F, built with
 * GCC or Clang, and cpu_force_portable(1) not in effect. */
int cpu_has_avx512(void);
/* 1: use only the portable paths (plain C, and CBLAS for the matrix products); 0: the fastest. */
void cpu_force_portable(int force);
/* "AVX-512" or "portable". */
const char *cpu_path_name(void);

/* The floating-point peak of one core, measured: float multiply-adds in independent chains, in
 * 512-bit registers when cpu_has_avx512() (else in whatever the compiler makes of plain C), for
 * about `seconds`; returned in GFLOP/s (a multiply-add counts 2). The bound a benchmark compares
 * its time with: no kernel of the library can go faster on this core. */
double cpu_fma_peak_gflops(double seconds);

#endif
