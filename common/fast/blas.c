/* blas.c: see blas.h. */
#include "fast/blas.h"
#include "error.h"

#include <stdio.h>

#ifdef AE_OPENBLAS
/* OpenBLAS's own controls; its cblas.h is not included, to keep one CBLAS header (GSL's). */
void openblas_set_num_threads(int threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);

const char *blas_name(void)
{
    static char name[96];
    snprintf(name, sizeof name, "OpenBLAS (%s kernels)", openblas_get_corename());
    return name;
}

int blas_set_threads(int threads)
{
    if (threads < 1) return AE_ERROR(AE_EINVAL, "threads must be at least 1, not %d", threads);
    openblas_set_num_threads(threads);
    return AE_OK;
}

int blas_get_threads(void) { return openblas_get_num_threads(); }
#else
const char *blas_name(void) { return "GSL CBLAS"; }

int blas_set_threads(int threads)
{
    if (threads < 1) return AE_ERROR(AE_EINVAL, "threads must be at least 1, not %d", threads);
    if (threads > 1)
        return AE_ERROR(AE_EDOM, "GSL's CBLAS has no threads; build with OpenBLAS (the default) for %d", threads);
    return AE_OK;
}

int blas_get_threads(void) { return 1; }
#endif
