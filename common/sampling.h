/* sampling.h: the reparameterisation layer of a VAE, z = μ + σ ⊙ ε.
 *
 * Shape legend
 *   B  batch            L  latent dimensions
 *
 * An encoder gives, for every sample, a mean μ and a log-variance log σ²; the
 * decoder needs a draw z ~ N(μ, diag σ²). Drawing z directly would leave
 * nothing to differentiate, so the draw is split in two: the noise ε ~ N(0, 1)
 * comes from a fixed distribution that does not depend on any parameter, and z
 * is a smooth, deterministic function of μ, log σ² and that ε. Backpropagation
 * then runs through μ and log σ² with ε held as a constant.
 *
 *     float eps[B * L], z[B * L];
 *     sampling_draw_eps(eps, (size_t)B * L, rng);          // ε ~ N(0, 1), kept for backward
 *     sampling_forward(z, mu, logvar, eps, B, L);          // z = μ + exp(½ log σ²) ⊙ ε
 *     ... decoder forward and backward give d_z ...
 *     sampling_backward(d_mu, d_logvar, d_z, logvar, eps, B, L);   // += into both
 *
 * Rules it follows, like every layer (layers.h): arguments go outputs, inputs,
 * then sizes; nothing allocates; backward ADDS into d_mu and d_logvar (zeroing
 * is the caller's step) and skips a gradient whose pointer is NULL.
 *
 * The variance enters through its logarithm: log σ² is any real number, while
 * σ = exp(½ log σ²) is always positive. In float, exp overflows for
 * log σ² > 177; an encoder's outputs stay far below that, and callers that take
 * log σ² from outside check it first (sampling_check_logvar).
 */
#ifndef AE_SAMPLING_H
#define AE_SAMPLING_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

/* eps[i] ~ N(0, 1), independent, drawn with GSL's Ziggurat method from rng.
 * eps (n) */
void sampling_draw_eps(float *eps, size_t n, gsl_rng *rng);

/* z = μ + exp(½ log σ²) ⊙ ε
 * z (B, L), mu (B, L), logvar (B, L), eps (B, L) */
void sampling_forward(float *z, const float *mu, const float *logvar, const float *eps,
                      int batch, int latent);

/* d_μ += d_z;  d_logvar += d_z ⊙ ½ σ ⊙ ε, since ∂z/∂(log σ²) = ½ exp(½ log σ²) ε
 * d_mu (B, L) or NULL, d_logvar (B, L) or NULL, d_z (B, L), logvar (B, L), eps (B, L) */
void sampling_backward(float *d_mu, float *d_logvar, const float *d_z,
                       const float *logvar, const float *eps, int batch, int latent);

/* AE_OK when every log σ² is finite and lies in [-max_abs, max_abs];
 * AE_EDOM naming the first offending index otherwise.
 * logvar (n) */
int sampling_check_logvar(const float *logvar, size_t n, double max_abs);

#endif
