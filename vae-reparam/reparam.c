/* reparam.c: the vae-reparam exercise's functions (see reparam_exercise.h).
 *
 * Shape legend: B batch (samples drawn), L latent dimensions; (B, L) arrays are row-major,
 * so dimension l of sample b sits at [b·L + l].
 */
#include "reparam_exercise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "error.h"
#include "sampling.h"

/* ------------------------------------------------------ the sampling step */

void reparam_forward(float *z, const float *mu, const float *logvar, const float *eps, int batch, int latent)
{
    /* BEGIN SOLUTION: Reparameterisation: z = μ + σε */
    size_t n = (size_t)batch * (size_t)latent;
    for (size_t i = 0; i < n; i++) {
        float sigma = expf(0.5f * logvar[i]);      /* σ = exp(½ log σ²) > 0 */
        z[i] = mu[i] + sigma * eps[i];             /* z = μ + σ ε */
    }
    /* END SOLUTION */
}

void reparam_backward(float *d_mu, float *d_logvar, const float *d_z, const float *logvar, const float *eps,
                      int batch, int latent)
{
    /* BEGIN SOLUTION: Reparameterisation: the backward pass */
    size_t n = (size_t)batch * (size_t)latent;
    if (d_mu)
        for (size_t i = 0; i < n; i++) d_mu[i] += d_z[i];      /* ∂z/∂μ = 1 */
    if (d_logvar)
        for (size_t i = 0; i < n; i++) {
            float sigma = expf(0.5f * logvar[i]);
            d_logvar[i] += d_z[i] * 0.5f * sigma * eps[i];     /* ∂z/∂(log σ²) = ½ σ ε */
        }
    /* END SOLUTION */
}

/* ------------------------------------------------------------ the mistake */

void mistaken_sampling_forward(float *z, const float *mu, const float *logvar, const float *eps,
                               int batch, int latent)
{
    size_t n = (size_t)batch * (size_t)latent;
    for (size_t i = 0; i < n; i++) {
        float variance = expf(logvar[i]);          /* σ² where σ belongs */
        z[i] = mu[i] + eps[i] * variance;          /* z = μ + ε·σ², spread σ² */
    }
}

/* ------------------------------------------------------------- statistics */

/* GSL 2.7's gsl_cdf_chisq_Pinv stops converging somewhere above 45000 degrees of freedom
 * (its gamma inverse aborts with "inverse failed to converge"), and a sample of 100000
 * needs 99999. Up to CHISQ_GSL_MAX_DOF GSL's inverse is used as it is; above, Newton's
 * method on gsl_cdf_chisq_P/Q from the Wilson–Hilferty approximation, which at such
 * sizes is already within a few parts in a million. */
#define CHISQ_GSL_MAX_DOF 10000.0

double chisq_quantile(double p, double dof)
{
    if (!(p > 0.0 && p < 1.0) || !(dof > 0.0)) return NAN;
    if (dof <= CHISQ_GSL_MAX_DOF) return gsl_cdf_chisq_Pinv(p, dof);
    /* Wilson–Hilferty: (X/ν)^{1/3} is close to N(1 − 2/(9ν), 2/(9ν)) */
    double spread = 2.0 / (9.0 * dof);
    double cube = 1.0 - spread + gsl_cdf_ugaussian_Pinv(p) * sqrt(spread);
    double x = dof * cube * cube * cube;
    for (int step = 0; step < 50; step++) {
        /* solve in the tail that is small, where the CDF keeps its digits */
        double miss = p < 0.5 ? gsl_cdf_chisq_P(x, dof) - p : (1.0 - p) - gsl_cdf_chisq_Q(x, dof);
        double move = miss / gsl_ran_chisq_pdf(x, dof);           /* Newton: Δx = (F(x) − p)/F'(x) */
        if (!isfinite(move)) return NAN;
        x = x - move > 0.0 ? x - move : 0.5 * x;
        if (fabs(move) <= 1e-13 * x) break;
    }
    return x;
}

int moment_summary_compute(moment_summary *s, const double *x, size_t n, double confidence)
{
    if (n < 2) return AE_ERROR(AE_EINVAL, "a sample variance needs at least 2 values, got %zu", n);
    if (!(confidence > 0.0 && confidence < 1.0))
        return AE_ERROR(AE_EDOM, "confidence %g is not in (0, 1)", confidence);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return AE_ERROR(AE_EDOM, "value %zu is not finite (%g)", i, x[i]);
        sum += x[i];
    }
    double mean = sum / (double)n;
    double squares = 0.0;                          /* second pass: Σ (x − x̄)², no cancellation */
    for (size_t i = 0; i < n; i++) squares += (x[i] - mean) * (x[i] - mean);
    double var = squares / (double)(n - 1);

    double upper_p = 0.5 * (1.0 + confidence), lower_p = 0.5 * (1.0 - confidence);
    double z_quantile = gsl_cdf_ugaussian_Pinv(upper_p);
    double half_width = z_quantile * sqrt(var / (double)n);
    double dof = (double)(n - 1);
    s->n = n;
    s->mean = mean;
    s->var = var;
    s->confidence = confidence;
    s->mean_lo = mean - half_width;
    s->mean_hi = mean + half_width;
    s->var_lo = dof * var / chisq_quantile(upper_p, dof);   /* (n−1)s²/σ² ~ χ²_{n−1} */
    s->var_hi = dof * var / chisq_quantile(lower_p, dof);
    if (!isfinite(s->var_lo) || !isfinite(s->var_hi))
        return AE_ERROR(AE_ENUMERIC, "the chi-square interval for %zu values could not be computed", n);
    return AE_OK;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int ks_statistic_normal(double *d, double *x, size_t n, double mu, double sigma)
{
    if (n < 1) return AE_ERROR(AE_EINVAL, "a Kolmogorov-Smirnov test needs at least one value");
    if (!(sigma > 0.0) || !isfinite(sigma) || !isfinite(mu))
        return AE_ERROR(AE_EDOM, "N(mu = %g, sigma = %g) is not a normal distribution", mu, sigma);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return AE_ERROR(AE_EDOM, "value %zu is not finite (%g)", i, x[i]);
    qsort(x, n, sizeof *x, compare_doubles);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double cdf = gsl_cdf_gaussian_P(x[i] - mu, sigma);         /* Φ((x − μ)/σ) */
        /* the empirical CDF jumps from i/n to (i+1)/n at x_(i): check both sides of the step */
        double above = (double)(i + 1) / (double)n - cdf;
        double below = cdf - (double)i / (double)n;
        if (above > worst) worst = above;
        if (below > worst) worst = below;
    }
    *d = worst;
    return AE_OK;
}

double kolmogorov_survival(double lambda)
{
    if (!(lambda > 0.0)) return 1.0;
    double survival;
    if (lambda < 1.18) {
        /* P(K ≤ λ) = (√(2π)/λ) Σ e^{−(2k−1)²π²/(8λ²)}: converges fast for small λ */
        double sum = 0.0;
        for (int k = 1; k <= 20; k++) {
            double odd = 2.0 * k - 1.0;
            sum += exp(-odd * odd * M_PI * M_PI / (8.0 * lambda * lambda));
        }
        survival = 1.0 - sqrt(2.0 * M_PI) / lambda * sum;
    } else {
        /* P(K > λ) = 2 Σ (−1)^{k−1} e^{−2k²λ²}: converges fast for large λ */
        double sum = 0.0, sign = 1.0;
        for (int k = 1; k <= 100; k++) {
            double term = exp(-2.0 * k * k * lambda * lambda);
            sum += sign * term;
            if (term < 1e-17 * sum) break;
            sign = -sign;
        }
        survival = 2.0 * sum;
    }
    return fmin(1.0, fmax(0.0, survival));
}

double ks_pvalue(double d, size_t n)
{
    double root_n = sqrt((double)n);
    return kolmogorov_survival((root_n + 0.12 + 0.11 / root_n) * d);
}

/* ---------------------------------------------------------- test functions */

const char *test_function_name(test_function f)
{
    return f == TEST_FN_SQUARE ? "z²" : "sin z";
}

double test_function_value(test_function f, double z)
{
    return f == TEST_FN_SQUARE ? z * z : sin(z);
}

double test_function_slope(test_function f, double z)
{
    return f == TEST_FN_SQUARE ? 2.0 * z : cos(z);
}

double test_function_expectation(test_function f, double mu, double logvar)
{
    double var = exp(logvar);
    if (f == TEST_FN_SQUARE) return mu * mu + var;          /* E[z²] = μ² + σ² */
    return sin(mu) * exp(-0.5 * var);                       /* E[sin z] = Im e^{iμ − σ²/2} */
}

void test_function_exact_gradient(test_function f, double mu, double logvar,
                                  double *grad_mu, double *grad_logvar)
{
    double var = exp(logvar);
    if (f == TEST_FN_SQUARE) {
        *grad_mu = 2.0 * mu;                                /* ∂(μ² + σ²)/∂μ */
        *grad_logvar = var;                                 /* ∂e^{log σ²}/∂(log σ²) = σ² */
    } else {
        double damping = exp(-0.5 * var);
        *grad_mu = cos(mu) * damping;                       /* ∂(sin μ e^{−σ²/2})/∂μ */
        *grad_logvar = -0.5 * var * sin(mu) * damping;      /* chain rule through σ² = e^{log σ²} */
    }
}

/* -------------------------------------------------------------- estimators */

const char *estimator_name(estimator e)
{
    static const char *const names[ESTIMATOR_COUNT] = { "pathwise", "score", "score_baseline" };
    return (e >= 0 && e < ESTIMATOR_COUNT) ? names[e] : "unknown";
}

void pathwise_gradients(float *g_mu, float *g_logvar, const float *z, const float *logvar,
                        const float *eps, int batch, int latent, test_function f)
{
    size_t n = (size_t)batch * (size_t)latent;
    /* d_z = f'(z) goes straight into g_mu, because ∂z/∂μ = 1 makes g_mu = d_z exactly */
    for (size_t i = 0; i < n; i++) g_mu[i] = (float)test_function_slope(f, z[i]);
    memset(g_logvar, 0, n * sizeof *g_logvar);
    reparam_backward(NULL, g_logvar, g_mu, logvar, eps, batch, latent);   /* g_logvar += d_z·½σε */
}

int score_gradients(float *g_mu, float *g_logvar, const float *z, const float *mu,
                    const float *logvar, int batch, int latent, test_function f, int baseline)
{
    if (baseline && batch < 2)
        return AE_ERROR(AE_EINVAL, "a leave-one-out baseline needs at least 2 samples, got %d", batch);
    for (int l = 0; l < latent; l++) {
        double var = exp((double)logvar[l]);
        double f_sum = 0.0;
        if (baseline)
            for (int b = 0; b < batch; b++) f_sum += test_function_value(f, z[(size_t)b * latent + l]);
        for (int b = 0; b < batch; b++) {
            size_t i = (size_t)b * latent + l;
            double f_z = test_function_value(f, z[i]);
            double offset = (double)z[i] - mu[l];
            double b_i = baseline ? (f_sum - f_z) / (batch - 1) : 0.0;   /* independent of z_i */
            g_mu[i] = (float)((f_z - b_i) * offset / var);                            /* ∂log q/∂μ = (z − μ)/σ² */
            g_logvar[i] = (float)((f_z - b_i) * 0.5 * (offset * offset / var - 1.0)); /* ∂log q/∂(log σ²) */
        }
    }
    return AE_OK;
}

/* Mean, standard error and variance of column l of a (B, L) array. */
static estimate summarise_column(const float *values, int batch, int latent, int l)
{
    double sum = 0.0;
    for (int b = 0; b < batch; b++) sum += values[(size_t)b * latent + l];
    double mean = sum / batch, squares = 0.0;
    for (int b = 0; b < batch; b++) {
        double dev = values[(size_t)b * latent + l] - mean;
        squares += dev * dev;
    }
    estimate e;
    e.mean = mean;
    e.sample_var = squares / (batch - 1);
    e.std_error = sqrt(e.sample_var / batch);
    return e;
}

int estimate_gradients(gradient_estimates *out, const float *z, const float *eps,
                       const float *mu, const float *logvar, int batch, int latent,
                       test_function f)
{
    if (batch < 2) return AE_ERROR(AE_EINVAL, "a standard error needs at least 2 samples, got %d", batch);
    size_t n = (size_t)batch * (size_t)latent;
    float *logvar_rows = malloc(n * sizeof *logvar_rows);   /* (B, L): the layer takes one log σ² per sample */
    float *g_mu = malloc(n * sizeof *g_mu);                 /* (B, L) */
    float *g_logvar = malloc(n * sizeof *g_logvar);         /* (B, L) */
    if (!logvar_rows || !g_mu || !g_logvar) {
        free(logvar_rows); free(g_mu); free(g_logvar);
        return AE_ERROR(AE_ENOMEM, "no memory for %zu per-sample gradients", n);
    }
    for (int b = 0; b < batch; b++) memcpy(&logvar_rows[(size_t)b * latent], logvar, latent * sizeof *logvar);

    for (int l = 0; l < latent; l++)
        test_function_exact_gradient(f, mu[l], logvar[l], &out[l].exact_mu, &out[l].exact_logvar);
    for (int e = 0; e < ESTIMATOR_COUNT; e++) {
        if (e == ESTIMATOR_PATHWISE)
            pathwise_gradients(g_mu, g_logvar, z, logvar_rows, eps, batch, latent, f);
        else
            score_gradients(g_mu, g_logvar, z, mu, logvar, batch, latent, f, e == ESTIMATOR_SCORE_BASELINE);
        for (int l = 0; l < latent; l++) {
            out[l].mu[e] = summarise_column(g_mu, batch, latent, l);
            out[l].logvar[e] = summarise_column(g_logvar, batch, latent, l);
        }
    }
    free(logvar_rows); free(g_mu); free(g_logvar);
    return AE_OK;
}

/* Σ (x − x̄)² / (n − 1) */
static double variance_of(const double *x, int n)
{
    double sum = 0.0, squares = 0.0;
    for (int i = 0; i < n; i++) sum += x[i];
    double mean = sum / n;
    for (int i = 0; i < n; i++) squares += (x[i] - mean) * (x[i] - mean);
    return squares / (n - 1);
}

int estimator_spread(double *var_mu, double *var_logvar, int n_samples, int repeats,
                     float mu, float logvar, test_function f, gsl_rng *rng)
{
    if (n_samples < 2) return AE_ERROR(AE_EINVAL, "each estimate needs at least 2 samples, got %d", n_samples);
    if (repeats < 2) return AE_ERROR(AE_EINVAL, "a variance across estimates needs at least 2 repeats, got %d", repeats);
    float *eps = malloc((size_t)n_samples * sizeof *eps);          /* (N, 1) */
    float *z = calloc((size_t)n_samples, sizeof *z);               /* (N, 1) */
    float *mu_rows = malloc((size_t)n_samples * sizeof *mu_rows);  /* (N, 1) */
    float *logvar_rows = malloc((size_t)n_samples * sizeof *logvar_rows);
    double *means = malloc((size_t)2 * ESTIMATOR_COUNT * repeats * sizeof *means);   /* (2, E, R) */
    int rc = AE_OK;
    if (!eps || !z || !mu_rows || !logvar_rows || !means) {
        rc = AE_ERROR(AE_ENOMEM, "no memory for %d samples and %d repeats", n_samples, repeats);
        goto done;
    }
    for (int i = 0; i < n_samples; i++) { mu_rows[i] = mu; logvar_rows[i] = logvar; }
    for (int r = 0; r < repeats; r++) {
        sampling_draw_eps(eps, (size_t)n_samples, rng);
        reparam_forward(z, mu_rows, logvar_rows, eps, n_samples, 1);
        gradient_estimates est;
        if ((rc = estimate_gradients(&est, z, eps, &mu, &logvar, n_samples, 1, f)) != AE_OK) goto done;
        for (int e = 0; e < ESTIMATOR_COUNT; e++) {
            means[(size_t)e * repeats + r] = est.mu[e].mean;
            means[(size_t)(ESTIMATOR_COUNT + e) * repeats + r] = est.logvar[e].mean;
        }
    }
    for (int e = 0; e < ESTIMATOR_COUNT; e++) {
        var_mu[e] = variance_of(&means[(size_t)e * repeats], repeats);
        var_logvar[e] = variance_of(&means[(size_t)(ESTIMATOR_COUNT + e) * repeats], repeats);
    }
done:
    free(eps); free(z); free(mu_rows); free(logvar_rows); free(means);
    return rc;
}

/* ------------------------------------------------------------- layer check */

/* Σ sin(z) in double, z from the sampling layer. */
static double layer_loss(float *z, const float *mu, const float *logvar, const float *eps, int batch, int latent)
{
    reparam_forward(z, mu, logvar, eps, batch, latent);
    double loss = 0.0;
    for (size_t i = 0; i < (size_t)batch * latent; i++) loss += sin((double)z[i]);
    return loss;
}

int sampling_layer_check(layer_check *out, const float *mu, const float *logvar, const float *eps,
                         int batch, int latent, double h)
{
    if (!(h > 0.0)) return AE_ERROR(AE_EINVAL, "the finite-difference step must be positive, got %g", h);
    size_t n = (size_t)batch * (size_t)latent;
    float *work = malloc(5 * n * sizeof *work);
    if (!work) return AE_ERROR(AE_ENOMEM, "no memory for the layer check (%zu values)", n);
    float *mu_copy = work, *logvar_copy = work + n, *z = work + 2 * n;
    float *d_mu = work + 3 * n, *d_logvar = work + 4 * n;
    memcpy(mu_copy, mu, n * sizeof *mu);
    memcpy(logvar_copy, logvar, n * sizeof *logvar);

    /* analytic: d_z = ∂Σ sin z/∂z = cos z, then the layer's backward into zeroed gradients */
    reparam_forward(z, mu, logvar, eps, batch, latent);
    for (size_t i = 0; i < n; i++) {
        d_mu[i] = 0.0f;
        d_logvar[i] = 0.0f;
        z[i] = cosf(z[i]);
    }
    reparam_backward(d_mu, d_logvar, z, logvar, eps, batch, latent);

    out->max_error_mu = out->max_error_logvar = out->max_abs_error = 0.0;
    out->checked = 0;
    for (int which = 0; which < 2; which++) {
        float *param = which == 0 ? mu_copy : logvar_copy;
        const float *analytic = which == 0 ? d_mu : d_logvar;
        double *max_error = which == 0 ? &out->max_error_mu : &out->max_error_logvar;
        for (size_t i = 0; i < n; i++) {
            float saved = param[i];
            param[i] = (float)(saved + h);
            double up = layer_loss(z, mu_copy, logvar_copy, eps, batch, latent);
            double step = param[i];
            param[i] = (float)(saved - h);
            double down = layer_loss(z, mu_copy, logvar_copy, eps, batch, latent);
            step -= param[i];                          /* the step float rounding actually took */
            param[i] = saved;
            double numeric = (up - down) / step;
            double diff = fabs(analytic[i] - numeric);
            double scale = fmax(1.0, fmax(fabs(analytic[i]), fabs(numeric)));
            if (diff / scale > *max_error) *max_error = diff / scale;
            if (diff > out->max_abs_error) out->max_abs_error = diff;
            out->checked++;
        }
    }
    free(work);
    return AE_OK;
}
