/* cpu.c: see cpu.h. */
#include "fast/cpu.h"

#include <time.h>

static int force_portable;

void cpu_force_portable(int force) { force_portable = force != 0; }

/* __builtin_cpu_supports reads what libgcc found out at start-up, about the processor and
 * about the system saving the AVX-512 registers (XCR0): a "yes" means the instructions run. */
static int processor_has_avx512(void)
{
#ifdef AE_AVX512_BUILD
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

int cpu_has_avx512(void) { return !force_portable && processor_has_avx512(); }

const char *cpu_path_name(void) { return cpu_has_avx512() ? "AVX-512" : "portable"; }

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* CHAINS independent multiply-add chains hide the instruction's latency (4 cycles, 2 a cycle: 8
 * in flight at least); REPS rounds between looks at the clock. */
#define CHAINS 12
#define REPS 4096

#ifdef AE_AVX512_BUILD
#include <immintrin.h>
static AVX512 double fma_avx512(double seconds, float *sink)
{
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_set1_ps((float)c);
    double start = now_seconds(), elapsed = 0.0;
    long rounds = 0;
    do {
        for (int r = 0; r < REPS; r++) {
            _Pragma("GCC unroll 12")   /* every chain in its own register */
            for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
        }
        rounds++;
        elapsed = now_seconds() - start;
    } while (elapsed < seconds);
    __m512 sum = acc[0];
    for (int c = 1; c < CHAINS; c++) sum = _mm512_add_ps(sum, acc[c]);
    *sink = _mm512_reduce_add_ps(sum);      /* the result is used: the loop cannot be dropped */
    return (double)rounds * REPS * CHAINS * 16 * 2 / elapsed * 1e-9;
}
#endif

static double fma_plain(double seconds, float *sink)
{
    float acc[CHAINS * 8];
    for (int c = 0; c < CHAINS * 8; c++) acc[c] = (float)c;
    double start = now_seconds(), elapsed = 0.0;
    long rounds = 0;
    do {
        for (int r = 0; r < REPS; r++)
            for (int c = 0; c < CHAINS * 8; c++) acc[c] = acc[c] * 0.999999f + 1e-7f;
        rounds++;
        elapsed = now_seconds() - start;
    } while (elapsed < seconds);
    float sum = 0.0f;
    for (int c = 0; c < CHAINS * 8; c++) sum += acc[c];
    *sink = sum;
    return (double)rounds * REPS * CHAINS * 8 * 2 / elapsed * 1e-9;
}

double cpu_fma_peak_gflops(double seconds)
{
    volatile float keep;
    float sink = 0.0f;
    double gflops;
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) gflops = fma_avx512(seconds, &sink);
    else gflops = fma_plain(seconds, &sink);
#else
    gflops = fma_plain(seconds, &sink);
#endif
    keep = sink;
    (void)keep;
    return gflops;
}
