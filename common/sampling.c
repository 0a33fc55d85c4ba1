/* sampling.c: the reparameterisation layer (see sampling.h).
 *
 * Shape legend: B batch, L latent dimensions; every array is (B, L), row-major.
 */
#include "sampling.h"

#include <math.h>
#include <gsl/gsl_randist.h>

#include "error.h"

void sampling_draw_eps(float *eps, size_t n, gsl_rng *rng)
{
    for (size_t i = 0; i < n; i++) eps[i] = (float)gsl_ran_gaussian_ziggurat(rng, 1.0);   /* ε ~ N(0, 1) */
}

void sampling_forward(float *z, const float *mu, const float *logvar, const float *eps,
                      int batch, int latent)
{
    size_t n = (size_t)batch * (size_t)latent;
    for (size_t i = 0; i < n; i++) {
        float sigma = expf(0.5f * logvar[i]);      /* σ = exp(½ log σ²) > 0 */
        z[i] = mu[i] + sigma * eps[i];             /* z = μ + σ ε */
    }
}

void sampling_backward(float *d_mu, float *d_logvar, const float *d_z,
                       const float *logvar, const float *eps, int batch, int latent)
{
    size_t n = (size_t)batch * (size_t)latent;
    if (d_mu)
        for (size_t i = 0; i < n; i++) d_mu[i] += d_z[i];      /* ∂z/∂μ = 1 */
    if (d_logvar)
        for (size_t i = 0; i < n; i++) {
            float sigma = expf(0.5f * logvar[i]);
            d_logvar[i] += d_z[i] * 0.5f * sigma * eps[i];     /* ∂z/∂(log σ²) = ½ σ ε */
        }
}

int sampling_check_logvar(const float *logvar, size_t n, double max_abs)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(logvar[i]))
            return AE_ERROR(AE_EDOM, "log-variance %g at index %zu is not a finite number",
                            (double)logvar[i], i);
        if (fabs((double)logvar[i]) > max_abs)
            return AE_ERROR(AE_EDOM, "log-variance %g at index %zu is outside [-%g, %g]",
                            (double)logvar[i], i, max_abs, max_abs);
    }
    return AE_OK;
}
