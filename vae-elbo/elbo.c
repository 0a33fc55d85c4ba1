/* elbo.c: the ELBO's two terms and every way of checking the KL (see vae_elbo.h).
 *
 * Shape legend: B batch, L latent dimensions; batch arrays are (B, L), row-major.
 */
#include "vae_elbo.h"

#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>

#include "error.h"
#include "loss.h"

#define LOG_2PI 1.8378770664093454836   /* log 2π */

/* ------------------------------------------------------- single Gaussians */

double kl_closed_form(const double *mu, const double *logvar, int latent)
{
    /* BEGIN SOLUTION: ELBO: the KL term */
    double sum = 0.0;
    for (int j = 0; j < latent; j++)
        sum += 1.0 + logvar[j] - mu[j] * mu[j] - exp(logvar[j]);   /* 1 + log σ² − μ² − σ² */
    return -0.5 * sum;
    /* END SOLUTION */
}

int kl_trace_logdet(double *kl, const double *mu, const double *logvar, int latent)
{
    if (latent < 1) return AE_ERROR(AE_EINVAL, "the Gaussian needs at least one dimension, not %d", latent);
    gsl_matrix *sigma = gsl_matrix_calloc((size_t)latent, (size_t)latent);    /* Σ (k, k) */
    gsl_permutation *perm = gsl_permutation_alloc((size_t)latent);
    if (!sigma || !perm) {
        gsl_matrix_free(sigma);
        gsl_permutation_free(perm);
        return AE_ERROR(AE_ENOMEM, "out of memory for a %d x %d covariance matrix", latent, latent);
    }
    for (int j = 0; j < latent; j++) gsl_matrix_set(sigma, (size_t)j, (size_t)j, exp(logvar[j]));

    double trace = 0.0;                                   /* tr Σ = Σ_j Σ_jj */
    for (int j = 0; j < latent; j++) trace += gsl_matrix_get(sigma, (size_t)j, (size_t)j);
    gsl_vector_const_view mu_view = gsl_vector_const_view_array(mu, (size_t)latent);
    double mu_norm2;                                      /* μᵀμ */
    gsl_blas_ddot(&mu_view.vector, &mu_view.vector, &mu_norm2);

    /* log det Σ from the LU factors: Σ_j log |U_jj| (GSL sums the logarithms, so no overflow) */
    int signum;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int status = gsl_linalg_LU_decomp(sigma, perm, &signum);
    gsl_set_error_handler(old);
    int singular = 0;
    for (int j = 0; j < latent; j++) singular |= gsl_matrix_get(sigma, (size_t)j, (size_t)j) == 0.0;
    if (status != GSL_SUCCESS || singular) {
        gsl_matrix_free(sigma);
        gsl_permutation_free(perm);
        return AE_ERROR(AE_EDOM, "the covariance matrix is singular in double precision (a variance underflows to 0)");
    }
    double log_det = gsl_linalg_LU_lndet(sigma);          /* log |det Σ| */
    gsl_matrix_free(sigma);
    gsl_permutation_free(perm);

    *kl = 0.5 * (trace + mu_norm2 - latent - log_det);    /* ½ (tr Σ + μᵀμ − k − log det Σ) */
    return AE_OK;
}

double log_normal_diag(const double *z, const double *mu, const double *logvar, int latent)
{
    double sum = 0.0;
    for (int j = 0; j < latent; j++) {
        double d = z[j] - mu[j];
        sum += LOG_2PI + logvar[j] + d * d * exp(-logvar[j]);   /* log 2π + log σ² + (z − μ)²/σ² */
    }
    return -0.5 * sum;
}

double log_standard_normal(const double *z, int latent)
{
    double sum = 0.0;
    for (int j = 0; j < latent; j++) sum += LOG_2PI + z[j] * z[j];
    return -0.5 * sum;
}

int mc_estimate_from(mc_estimate *out, const double *x, size_t n)
{
    if (n < 2) return AE_ERROR(AE_EINVAL, "a standard error needs at least 2 draws, not %zu", n);
    double mean = 0.0;
    for (size_t i = 0; i < n; i++) mean += x[i];
    mean /= (double)n;
    double ss = 0.0;                                      /* Σ (x − x̄)², the two-pass way */
    for (size_t i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    out->n = n;
    out->mean = mean;
    out->sample_std = sqrt(ss / (double)(n - 1));
    out->std_error = out->sample_std / sqrt((double)n);  /* s/√n */
    return AE_OK;
}

int kl_monte_carlo(mc_estimate *out, const double *mu, const double *logvar, int latent,
                   size_t n, gsl_rng *rng)
{
    if (latent < 1) return AE_ERROR(AE_EINVAL, "the Gaussian needs at least one dimension, not %d", latent);
    if (n < 2) return AE_ERROR(AE_EINVAL, "a Monte-Carlo estimate needs at least 2 draws, not %zu", n);
    double *values = malloc(n * sizeof *values);
    double *z = malloc((size_t)latent * sizeof *z);
    if (!values || !z) {
        free(values);
        free(z);
        return AE_ERROR(AE_ENOMEM, "out of memory for %zu Monte-Carlo draws", n);
    }
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < latent; j++)
            z[j] = mu[j] + exp(0.5 * logvar[j]) * gsl_ran_gaussian_ziggurat(rng, 1.0);   /* z = μ + σ ε */
        values[i] = log_normal_diag(z, mu, logvar, latent) - log_standard_normal(z, latent);   /* log q − log p */
    }
    int rc = mc_estimate_from(out, values, n);
    free(values);
    free(z);
    return rc;
}

typedef struct {
    double mu, logvar;
} gaussian_1d;

/* φ(u) [log q(μ + σu) − log p(μ + σu)]: the KL integrand after z = μ + σu, dz = σ du */
static double kl_integrand(double u, void *params)
{
    const gaussian_1d *g = params;
    double z = g->mu + exp(0.5 * g->logvar) * u;
    double phi = exp(-0.5 * u * u) / sqrt(2.0 * M_PI);                 /* q(z) dz = φ(u) du */
    double log_q = -0.5 * (LOG_2PI + g->logvar + u * u);               /* (z − μ)²/σ² = u² */
    double log_p = -0.5 * (LOG_2PI + z * z);
    return phi * (log_q - log_p);
}

int kl_numerical_1d(double *kl, double *abs_error, double mu, double logvar)
{
    enum { WORKSPACE_INTERVALS = 1000 };
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(WORKSPACE_INTERVALS);
    if (!w) return AE_ERROR(AE_ENOMEM, "out of memory for the integration workspace");
    gaussian_1d g = { mu, logvar };
    gsl_function f = { kl_integrand, &g };
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int status = gsl_integration_qagi(&f, 1e-12, 1e-10, WORKSPACE_INTERVALS, w, kl, abs_error);
    gsl_set_error_handler(old);
    gsl_integration_workspace_free(w);
    if (status != GSL_SUCCESS)
        return AE_ERROR(AE_ENUMERIC, "numerical integration of the KL (mu = %g, logvar = %g) failed: %s",
                        mu, logvar, gsl_strerror(status));
    return AE_OK;
}

double kl_lecture_notebook(const double *mu, const double *logvar, int latent)
{
    double sum = 0.0;
    for (int j = 0; j < latent; j++) {
        double sigma = exp(0.5 * logvar[j]);
        sum += sigma * sigma + mu[j] * mu[j] - log(sigma) - 0.5;   /* σ² + μ² − log σ − ½ */
    }
    return sum;
}

/* ------------------------------------------------------------- batches */

/* Each sample's KL is kl_closed_form of its μ and log σ², in double: the same formula, once. */
double kl_batch_forward(double *kl, const float *mu, const float *logvar, int batch, int latent)
{
    double *m = malloc(2 * (size_t)latent * sizeof *m), *lv = m ? m + latent : NULL;   /* (L) each */
    if (!m) return NAN;   /* no memory for 2L doubles: a loss that stops training with a message */
    double total = 0.0;
    for (int b = 0; b < batch; b++) {
        for (int j = 0; j < latent; j++) {
            m[j] = mu[(size_t)b * latent + j];
            lv[j] = logvar[(size_t)b * latent + j];
        }
        const double kl_b = kl_closed_form(m, lv, latent);
        if (kl) kl[b] = kl_b;
        total += kl_b;
    }
    free(m);
    return total;
}

void kl_batch_backward(float *d_mu, float *d_logvar, const float *mu, const float *logvar,
                       int batch, int latent, float scale)
{
    /* BEGIN SOLUTION: ELBO: the KL term */
    size_t n = (size_t)batch * (size_t)latent;
    for (size_t i = 0; i < n; i++) {
        d_mu[i] += scale * mu[i];                                  /* ∂KL/∂μ = μ */
        d_logvar[i] += scale * 0.5f * (expf(logvar[i]) - 1.0f);    /* ∂KL/∂log σ² = ½ (σ² − 1) */
    }
    /* END SOLUTION */
}

/* ------------------------------------------------- reconstruction term */

static double clip_probability(double p)
{
    const double lo = BCE_EPSILON, hi = 1.0 - BCE_EPSILON;
    return p < lo ? lo : p > hi ? hi : p;
}

double bernoulli_log_likelihood(const float *x, const float *p, size_t n)
{
    /* BEGIN SOLUTION: ELBO: the reconstruction term */
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double q = clip_probability(p[i]);
        sum += x[i] * log(q) + (1.0 - x[i]) * log1p(-q);    /* x ln p + (1 − x) ln(1 − p) */
    }
    return sum;
    /* END SOLUTION */
}

double bernoulli_log_likelihood_logits(const float *x, const float *logits, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double l = logits[i];
        sum += x[i] * l - fmax(l, 0.0) - log1p(exp(-fabs(l)));   /* x ℓ − log(1 + e^ℓ) */
    }
    return sum;
}

double naive_bce_sum(const float *target, const float *p, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double q = clip_probability(p[i]);
        sum -= target[i] * log(q) + (1.0 - target[i]) * log1p(-q);   /* no check that t ∈ [0, 1] */
    }
    return sum;
}

/* --------------------------------------------------------- one image */

double elbo_analytic_kl(double log_px_given_z, const double *mu, const double *logvar, int latent)
{
    /* BEGIN SOLUTION: ELBO: the bound */
    return log_px_given_z - kl_closed_form(mu, logvar, latent);
    /* END SOLUTION */
}

double elbo_single_sample(double log_px_given_z, const double *z, const double *mu,
                          const double *logvar, int latent)
{
    /* BEGIN SOLUTION: ELBO: the bound */
    return log_px_given_z + log_standard_normal(z, latent) - log_normal_diag(z, mu, logvar, latent);
    /* END SOLUTION */
}
