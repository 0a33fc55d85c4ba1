/* gaussian_kl_reference.c: the Gaussian KL of the ELBO, the plain way (see gaussian_kl_reference.h). */
#include "gaussian_kl_reference.h"

#include <math.h>

double ref_gaussian_kl(const double *mu, const double *logvar, int latent)
{
    double sum = 0.0;
    for (int j = 0; j < latent; j++) {
        double var = exp(logvar[j]);
        sum += 0.5 * (var + mu[j] * mu[j] - 1.0 - logvar[j]);   /* ½ (σ² + μ² − 1 − log σ²) */
    }
    return sum;
}

double ref_gaussian_kl_mc_stderr(const double *mu, const double *logvar, int latent, size_t n)
{
    double per_draw = 0.0;
    for (int j = 0; j < latent; j++) {
        double var = exp(logvar[j]);
        per_draw += 0.5 * (var - 1.0) * (var - 1.0) + mu[j] * mu[j] * var;   /* ½ (σ² − 1)² + μ² σ² */
    }
    return sqrt(per_draw / (double)n);
}

double ref_lecture_formula(const double *mu, const double *logvar, int latent)
{
    double sum = 0.0;
    for (int j = 0; j < latent; j++)
        sum += exp(logvar[j]) + mu[j] * mu[j] - 0.5 * logvar[j] - 0.5;   /* σ² + μ² − log σ − ½ */
    return sum;
}

void ref_gaussian_kl_gradient(double *d_mu, double *d_logvar, const double *mu, const double *logvar,
                              int latent)
{
    for (int j = 0; j < latent; j++) {
        d_mu[j] = mu[j];                                  /* ∂/∂μ of ½ μ² */
        d_logvar[j] = 0.5 * (exp(logvar[j]) - 1.0);       /* ∂/∂log σ² of ½ (σ² − log σ²) */
    }
}
