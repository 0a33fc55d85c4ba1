/* cpu.c: see cpu.h. */
#include "fast/cpu.h"

static int force_portable;

void cpu_force_portable(int force) { force_portable = force != 0; }

/* __builtin_cpu_supports reads what libgcc found out at start-up, about the processor and
 * about the system saving the AVX-512 registers (XCR0): a "yes" means the instructions run. */
static int processor_has_avx512(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

int cpu_has_avx512(void) { return !force_portable && processor_has_avx512(); }

const char *cpu_path_name(void) { return cpu_has_avx512() ? "AVX-512" : "portable"; }
