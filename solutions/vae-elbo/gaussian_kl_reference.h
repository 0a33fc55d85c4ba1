/* gaussian_kl_reference.h: the reference solution of vae-elbo's KL term, written apart from
 * the exercise.
 *
 *   KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_j (σ_j² + μ_j² − 1 − log σ_j²)
 *
 * derived per dimension from E_q[log q − log p] with log q = −½(log 2π + log σ² + ε²) and
 * log p = −½(log 2π + z²), z = μ + σε: E[z²] = μ² + σ², E[ε²] = 1.
 */
#ifndef GAUSSIAN_KL_REFERENCE_H
#define GAUSSIAN_KL_REFERENCE_H

#include <stddef.h>

/* mu (L), logvar (L) */
double ref_gaussian_kl(const double *mu, const double *logvar, int latent);

/* The standard error of a Monte-Carlo estimate of that KL from n draws: the per-draw value
 * log q(z) − log p(z) = Σ_j ½[(σ_j² − 1) ε_j² + 2 μ_j σ_j ε_j + μ_j² − log σ_j²] has variance
 * Σ_j [½ (σ_j² − 1)² + μ_j² σ_j²] (Var ε² = 2, Cov(ε, ε²) = 0). mu (L), logvar (L) */
double ref_gaussian_kl_mc_stderr(const double *mu, const double *logvar, int latent, size_t n);

/* The lecture notebook's formula Σ_j (σ_j² + μ_j² − log σ_j − ½), which is not the KL.
 * mu (L), logvar (L) */
double ref_lecture_formula(const double *mu, const double *logvar, int latent);

/* ∂KL/∂μ_j = μ_j,  ∂KL/∂log σ_j² = ½ (σ_j² − 1).  d_mu, d_logvar, mu, logvar (L) */
void ref_gaussian_kl_gradient(double *d_mu, double *d_logvar, const double *mu, const double *logvar,
                              int latent);

#endif
