/* vae_elbo.h: the evidence lower bound (ELBO) of a VAE, term by term.
 *
 * Shape legend
 *   B  batch (images)      L  latent dimensions (k in the formulas)
 *   D  pixels per image (784 for 28x28, 1024 for the padded 32x32)
 *
 * For one image x, an encoder gives q(z|x) = N(μ, diag σ²) (as μ and log σ²),
 * and a decoder gives Bernoulli probabilities p = sigmoid(logits) for the pixels:
 *
 *   ELBO(x) = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)),   p(z) = N(0, I)
 *           = reconstruction term − KL term            (to be maximised)
 *   loss    = −ELBO = BCE summed over the pixels + KL  (to be minimised)
 *
 * Two families of functions live here:
 * - on single Gaussians in double precision, to check the KL every way there is
 *   (closed form, trace/log-det form, Monte Carlo, numerical integration) and to
 *   show the lecture notebook's wrong formula;
 * - on float batches, the pieces a training step needs (the KL and its
 *   gradient, the Bernoulli log-likelihood), used by vae_model.c.
 *
 * Every function that can fail returns an AE_* code after AE_ERROR (error.h).
 */
#ifndef VAE_ELBO_H
#define VAE_ELBO_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

/* ============================================ KL(N(μ, diag σ²) ‖ N(0, I)) */

/* The closed form, −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²).
 * mu (L), logvar (L) */
double kl_closed_form(const double *mu, const double *logvar, int latent);

/* The same divergence as the matrix formula for Gaussians,
 * ½ (tr Σ + μᵀμ − k − log det Σ), with Σ = diag σ² built as a k×k matrix, its
 * trace summed, μᵀμ by BLAS and log det Σ from an LU decomposition (GSL): an
 * independent path to the same number. AE_ENOMEM, AE_EDOM when Σ is singular
 * in double (σ² underflows). mu (L), logvar (L) */
int kl_trace_logdet(double *kl, const double *mu, const double *logvar, int latent);

/* log N(z; μ, diag σ²) = −½ Σ_j [log 2π + log σ_j² + (z_j − μ_j)²/σ_j²]
 * z (L), mu (L), logvar (L) */
double log_normal_diag(const double *z, const double *mu, const double *logvar, int latent);
/* log N(z; 0, I) = −½ Σ_j [log 2π + z_j²]   z (L) */
double log_standard_normal(const double *z, int latent);

/* A Monte-Carlo estimate from n independent draws: the mean, its standard
 * error s/√n, and the per-draw standard deviation s. */
typedef struct {
    size_t n;
    double mean, std_error, sample_std;
} mc_estimate;

/* Mean, standard error and standard deviation of x (n), n >= 2 (AE_EINVAL otherwise). */
int mc_estimate_from(mc_estimate *out, const double *x, size_t n);

/* KL as E_q[log q(z) − log p(z)], estimated from n draws z = μ + σ ε, ε ~ N(0, I)
 * (GSL's Ziggurat). AE_EINVAL for n < 2 or latent < 1, AE_ENOMEM.
 * mu (L), logvar (L) */
int kl_monte_carlo(mc_estimate *out, const double *mu, const double *logvar, int latent,
                   size_t n, gsl_rng *rng);

/* KL of one dimension by numerical integration of ∫ q(z) [log q(z) − log p(z)] dz over
 * the whole real line (GSL's QAGI), written in the standardised variable u = (z − μ)/σ
 * so that the integrand's peak sits at u = 0 whatever μ and σ are:
 *   KL = ∫ φ(u) [log q(μ + σu) − log p(μ + σu)] du,  φ the N(0, 1) density.
 * *abs_error receives GSL's error estimate. AE_ENUMERIC when QAGI does not converge. */
int kl_numerical_1d(double *kl, double *abs_error, double mu, double logvar);

/* The lecture notebook's formula, Σ_j (σ_j² + μ_j² − log σ_j − ½). It is
 * KL(q ‖ N(0, ½ I)) + (k/2) log 2, not KL(q ‖ N(0, I)); it exceeds the right
 * value by exactly ½ Σ_j (μ_j² + σ_j²). mu (L), logvar (L) */
double kl_lecture_notebook(const double *mu, const double *logvar, int latent);

/* ================================================ batches, for training */

/* The KL of every sample of a batch: kl (B) (may be NULL); returns Σ_b KL_b in double.
 * mu (B, L), logvar (B, L) */
double kl_batch_forward(double *kl, const float *mu, const float *logvar, int batch, int latent);

/* ∂(scale · Σ_b KL_b): d_mu += scale · μ,  d_logvar += scale · ½ (σ² − 1)   (adds, like every backward)
 * d_mu (B, L), d_logvar (B, L), mu (B, L), logvar (B, L) */
void kl_batch_backward(float *d_mu, float *d_logvar, const float *mu, const float *logvar,
                       int batch, int latent, float scale);

/* ============================================== the reconstruction term */

/* log p(x|p) = Σ_i [x_i ln p_i + (1 − x_i) ln(1 − p_i)], written out in double, with
 * p clipped to [1e-7, 1 − 1e-7] as the library's BCE clips it (BCE_EPSILON).
 * x (n) in [0, 1], p (n) */
double bernoulli_log_likelihood(const float *x, const float *p, size_t n);

/* The same from logits ℓ (p = sigmoid ℓ), stable for any ℓ:
 * x ln p + (1 − x) ln(1 − p) = x ℓ − log(1 + e^ℓ) = x ℓ − max(ℓ, 0) − log(1 + e^−|ℓ|).
 * x (n), logits (n) */
double bernoulli_log_likelihood_logits(const float *x, const float *logits, size_t n);

/* −Σ [t ln p + (1 − t) ln(1 − p)] with NO check on t: the mistake of feeding targets
 * normalised to [−1, 1]. For t = −1 it is ln p − 2 ln(1 − p), which goes to −∞ as
 * p → 0. p is clipped to [1e-7, 1 − 1e-7]. target (n), p (n) */
double naive_bce_sum(const float *target, const float *p, size_t n);

/* ================================================= the ELBO of one image */

/* (The terms of a whole ELBO, elbo_terms, are the library's: common/vae.h.) */

/* The analytic-KL estimate from one draw z: log p(x|z) − KL(q ‖ p).  mu (L), logvar (L) */
double elbo_analytic_kl(double log_px_given_z, const double *mu, const double *logvar, int latent);
/* The single-sample Monte-Carlo estimate, as TensorFlow's convolutional-VAE tutorial
 * computes it: log p(x|z) + log p(z) − log q(z|x).  z (L), mu (L), logvar (L) */
double elbo_single_sample(double log_px_given_z, const double *z, const double *mu,
                          const double *logvar, int latent);

#endif
