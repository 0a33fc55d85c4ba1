/* sampling_reference.c: the reparameterisation, the plain way (see sampling_reference.h). */
#include "sampling_reference.h"

#include <math.h>

void ref_sampling_forward(double *z, const double *mu, const double *logvar, const double *eps, size_t n)
{
    for (size_t i = 0; i < n; i++) z[i] = mu[i] + exp(0.5 * logvar[i]) * eps[i];   /* z = μ + σ ε */
}

void ref_sampling_backward(double *d_mu, double *d_logvar, const double *d_z, const double *logvar,
                           const double *eps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        d_mu[i] = d_z[i];                                          /* ∂z/∂μ = 1 */
        d_logvar[i] = d_z[i] * 0.5 * exp(0.5 * logvar[i]) * eps[i]; /* ∂z/∂(log σ²) = ½ σ ε */
    }
}

double ref_se_mean(double var, size_t n) { return sqrt(var / (double)n); }
double ref_se_variance(double var, size_t n) { return var * sqrt(2.0 / (double)(n - 1)); }
double ref_se_std(double var, size_t n) { return sqrt(var / (2.0 * (double)(n - 1))); }
double ref_se_pathwise_square_mu(double mu, double var, size_t n)
{
    (void)mu;
    return sqrt(4.0 * var / (double)n);                            /* Var[2z] = 4σ² */
}
double ref_se_pathwise_square_logvar(double mu, double var, size_t n)
{
    return sqrt((mu * mu * var + 2.0 * var * var) / (double)n);    /* Var[σε(μ + σε)] = μ²σ² + 2σ⁴ */
}
