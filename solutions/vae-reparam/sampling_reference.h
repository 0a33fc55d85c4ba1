/* sampling_reference.h: the reference solution of vae-reparam, written apart from the exercise.
 *
 *   z = μ + σ ε,  σ = exp(½ log σ²),  ε ~ N(0, 1)
 *   ∂z/∂μ = 1,  ∂z/∂(log σ²) = ½ σ ε
 *
 * and the spread of the estimates the program makes from N draws, for the tolerances:
 * standard errors of a sample mean, a sample variance and a sample standard deviation
 * of N normal draws, and of the pathwise gradient estimates of E[z²].
 */
#ifndef SAMPLING_REFERENCE_H
#define SAMPLING_REFERENCE_H

#include <stddef.h>

/* z = μ + exp(½ log σ²)·ε in double.  z, mu, logvar, eps (n) */
void ref_sampling_forward(double *z, const double *mu, const double *logvar, const double *eps, size_t n);
/* d_mu = d_z, d_logvar = d_z·½σε (set, not added).  every array (n) */
void ref_sampling_backward(double *d_mu, double *d_logvar, const double *d_z, const double *logvar,
                           const double *eps, size_t n);

/* Standard errors of estimates from n draws of N(μ, σ²): */
double ref_se_mean(double var, size_t n);        /* σ/√n */
double ref_se_variance(double var, size_t n);    /* σ²·√(2/(n − 1)) */
double ref_se_std(double var, size_t n);         /* σ/√(2(n − 1)) */
/* The pathwise estimates of ∂E[z²]/∂μ = 2μ and ∂E[z²]/∂(log σ²) = σ² average the
 * per-draw values 2z and 2z·½σε = σε(μ + σε), whose variances are 4σ² and μ²σ² + 2σ⁴. */
double ref_se_pathwise_square_mu(double mu, double var, size_t n);
double ref_se_pathwise_square_logvar(double mu, double var, size_t n);

#endif
