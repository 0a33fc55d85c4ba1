/* reparam_exercise.h: the functions of the vae-reparam exercise.
 *
 * Shape legend
 *   B  batch (the number of samples z drawn)     L  latent dimensions
 *
 * The exercise itself is the sampling step z = μ + exp(½ log σ²) ⊙ ε and its backward pass
 * (the library's VAE has the same layer in common/sampling.h). Here are the tools to look at
 * what it does:
 * - the course notes' mistake z = μ + ε·σ², to compare with;
 * - sample moments with confidence intervals, and a Kolmogorov–Smirnov test
 *   against N(μ, σ²);
 * - two test functions f with exact ∂E[f(z)]/∂μ and ∂E[f(z)]/∂(log σ²);
 * - the pathwise (reparameterised) and the score-function (REINFORCE)
 *   estimators of those gradients, and how their variance shrinks with N;
 * - a finite-difference check of the sampling layer.
 *
 * Every function that can fail returns an AE_* code after AE_ERROR (error.h).
 */
#ifndef REPARAM_EXERCISE_H
#define REPARAM_EXERCISE_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

/* -------------------------------------------------- the sampling step */
/* z = μ + σ·ε with σ = exp(½ log σ²): the reparameterisation trick.
 * z (B, L), mu (B, L), logvar (B, L), eps (B, L) */
void reparam_forward(float *z, const float *mu, const float *logvar, const float *eps, int batch, int latent);
/* Its backward pass, with ε held fixed: adds d_z·∂z/∂μ = d_z to d_mu and d_z·∂z/∂(log σ²) = d_z·½σε
 * to d_logvar; a NULL gradient is left alone.
 * d_mu (B, L), d_logvar (B, L), d_z (B, L), logvar (B, L), eps (B, L) */
void reparam_backward(float *d_mu, float *d_logvar, const float *d_z, const float *logvar, const float *eps,
                      int batch, int latent);

/* -------------------------------------------------------- the mistake */
/* z = μ + ε·σ² — variance where the standard deviation belongs, as in the
 * course notes' official solution; its spread is σ² instead of σ.
 * z (B, L), mu (B, L), logvar (B, L), eps (B, L) */
void mistaken_sampling_forward(float *z, const float *mu, const float *logvar, const float *eps,
                               int batch, int latent);

/* --------------------------------------------------------- statistics */
typedef struct {
    size_t n;
    double mean;                /* x̄ = (1/n) Σ x */
    double var;                 /* s² = Σ (x − x̄)² / (n − 1), unbiased */
    double confidence;          /* e.g. 0.95 */
    double mean_lo, mean_hi;    /* x̄ ∓ z_{(1+c)/2} · s/√n (normal interval) */
    double var_lo, var_hi;      /* (n−1)s²/χ²_{(1+c)/2; n−1}, (n−1)s²/χ²_{(1−c)/2; n−1} (chi-square interval) */
} moment_summary;

/* The p-quantile of the chi-square distribution with dof degrees of freedom:
 * gsl_cdf_chisq_Pinv up to 10000 degrees of freedom, Newton's method on
 * gsl_cdf_chisq_P/Q above (where GSL 2.7's inverse fails to converge). NaN for p
 * outside (0, 1) or dof <= 0. */
double chisq_quantile(double p, double dof);

/* Mean, variance and their confidence intervals of x (n).
 * AE_EINVAL for n < 2, AE_EDOM for a confidence outside (0, 1) or a non-finite x. */
int moment_summary_compute(moment_summary *s, const double *x, size_t n, double confidence);

/* D = sup_x |F_n(x) − Φ((x − μ)/σ)|, the Kolmogorov–Smirnov distance between the
 * empirical CDF of x and N(μ, σ²). Sorts x (n) in place.
 * AE_EINVAL for n < 1, AE_EDOM for σ <= 0 or a non-finite value. */
int ks_statistic_normal(double *d, double *x, size_t n, double mu, double sigma);

/* P(K > λ) for the Kolmogorov distribution:
 * 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}, or for λ < 1.18 its faster form
 * 1 − (√(2π)/λ) Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)}. */
double kolmogorov_survival(double lambda);

/* Asymptotic p-value of a KS distance d from n samples:
 * P(K > (√n + 0.12 + 0.11/√n)·d), Stephens' small-sample correction of √n·d. */
double ks_pvalue(double d, size_t n);

/* ----------------------------------------------------- test functions */
typedef enum { TEST_FN_SQUARE, TEST_FN_SINE, TEST_FN_COUNT } test_function;

const char *test_function_name(test_function f);          /* "z²", "sin z" */
double test_function_value(test_function f, double z);    /* f(z) */
double test_function_slope(test_function f, double z);    /* f'(z) */

/* E[f(z)] for z ~ N(μ, σ²), σ² = exp(logvar):
 *   z²    → μ² + σ²
 *   sin z → sin μ · e^{−σ²/2}   (the imaginary part of E[e^{iz}] = e^{iμ − σ²/2}) */
double test_function_expectation(test_function f, double mu, double logvar);

/* The exact gradient of that expectation:
 *   z²    → ∂/∂μ = 2μ,                   ∂/∂(log σ²) = σ²
 *   sin z → ∂/∂μ = cos μ · e^{−σ²/2},    ∂/∂(log σ²) = −½ σ² sin μ · e^{−σ²/2} */
void test_function_exact_gradient(test_function f, double mu, double logvar,
                                  double *grad_mu, double *grad_logvar);

/* ---------------------------------------------------------- estimators */
typedef enum {
    ESTIMATOR_PATHWISE,         /* f'(z)·∂z/∂θ, through the sampling layer's backward */
    ESTIMATOR_SCORE,            /* f(z)·∂log q(z)/∂θ (REINFORCE) */
    ESTIMATOR_SCORE_BASELINE,   /* (f(z) − b)·∂log q(z)/∂θ, b = mean of f over the other samples */
    ESTIMATOR_COUNT
} estimator;

const char *estimator_name(estimator e);    /* "pathwise", "score", "score_baseline" */

/* Per-sample pathwise gradients, the chain rule through z = μ + σε with ε fixed:
 *   g_mu = f'(z)·1,  g_logvar = f'(z)·½σε (the sampling layer's backward with d_z = f'(z)).
 * g_mu (B, L), g_logvar (B, L) are overwritten; z (B, L), logvar (B, L), eps (B, L). */
void pathwise_gradients(float *g_mu, float *g_logvar, const float *z, const float *logvar,
                        const float *eps, int batch, int latent, test_function f);

/* Per-sample score-function gradients, using only z and the density q = N(μ, σ²):
 *   ∂log q/∂μ = (z − μ)/σ²,   ∂log q/∂(log σ²) = ½((z − μ)²/σ² − 1),
 *   g = (f(z) − b)·∂log q/∂θ with b = 0, or with a leave-one-out baseline
 *   b_i = (Σ_j f(z_j) − f(z_i))/(B − 1) per dimension, which keeps it unbiased
 *   because b_i does not depend on z_i.
 * g_mu (B, L), g_logvar (B, L) are overwritten; z (B, L), mu (L), logvar (L).
 * AE_EINVAL for a baseline with B < 2. */
int score_gradients(float *g_mu, float *g_logvar, const float *z, const float *mu,
                    const float *logvar, int batch, int latent, test_function f, int baseline);

/* An estimate from n per-sample values: their mean, its standard error s/√n,
 * and the per-sample variance s². */
typedef struct {
    double mean, std_error, sample_var;
} estimate;

/* Everything known about ∂E[f(z)]/∂μ and ∂E[f(z)]/∂(log σ²) in one latent dimension. */
typedef struct {
    double exact_mu, exact_logvar;
    estimate mu[ESTIMATOR_COUNT];
    estimate logvar[ESTIMATOR_COUNT];
} gradient_estimates;

/* Every estimator for every dimension from the draws z = μ + σε.
 * out (L); z (B, L), eps (B, L), mu (L), logvar (L).
 * AE_EINVAL for B < 2, AE_ENOMEM. */
int estimate_gradients(gradient_estimates *out, const float *z, const float *eps,
                       const float *mu, const float *logvar, int batch, int latent,
                       test_function f);

/* How the N-sample estimates spread: `repeats` times, draw N fresh ε for one
 * latent dimension (μ, log σ²), estimate both gradients with every estimator, and
 * return the variance of those estimates across repeats.
 * var_mu (ESTIMATOR_COUNT), var_logvar (ESTIMATOR_COUNT).
 * AE_EINVAL for N < 2 or repeats < 2, AE_ENOMEM. */
int estimator_spread(double *var_mu, double *var_logvar, int n_samples, int repeats,
                     float mu, float logvar, test_function f, gsl_rng *rng);

/* -------------------------------------------------------- layer check */
typedef struct {
    double max_error_mu, max_error_logvar;   /* max |analytic − numeric| / max(1, |analytic|, |numeric|) */
    double max_abs_error;                    /* max |analytic − numeric| over both */
    int checked;                             /* how many partial derivatives were compared */
} layer_check;

/* Checks reparam_backward against central differences of loss = Σ sin(z),
 * z = reparam_forward(μ, log σ², ε) with ε held fixed, computed in double:
 * numeric = (loss(θ + h) − loss(θ − h)) / (the step actually taken in float).
 * mu, logvar, eps (B, L) are left unchanged. AE_EINVAL for h <= 0, AE_ENOMEM. */
int sampling_layer_check(layer_check *out, const float *mu, const float *logvar, const float *eps,
                         int batch, int latent, double h);

#endif
