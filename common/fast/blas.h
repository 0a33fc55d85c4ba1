/* blas.h: which CBLAS the programs run on, and its threads.
 *
 * Matrix products go through <gsl/gsl_cblas.h>, linked against OpenBLAS (the
 * default) or GSL's own CBLAS (make BLAS=gsl). Only OpenBLAS has threads.
 */
#ifndef AE_BLAS_H
#define AE_BLAS_H

/* "OpenBLAS (Haswell kernels)" or "GSL CBLAS". */
const char *blas_name(void);
/* Sets the threads of the matrix products; AE_EINVAL below 1. With GSL's CBLAS
 * only 1 is accepted (AE_EDOM otherwise, with a message saying why). */
int blas_set_threads(int threads);
int blas_get_threads(void);

#endif
