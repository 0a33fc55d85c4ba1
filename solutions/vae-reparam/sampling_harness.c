/* sampling_harness.c: the submission's sampling step reparam_forward, its backward pass
 * reparam_backward and the exercise's mistaken_sampling_forward (reparam_exercise.h) against the
 * reference. One verdict per item
 * of reparam_plan.c, by key. The layer works in float, hence the 1e-6 relative tolerance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "grade_lib.h"
#include "reparam_exercise.h"
#include "sampling_reference.h"

#define BATCH 3
#define LATENT 4
#define N (BATCH * LATENT)
#define DRAWS 100000
#define TOL 1e-6

/* largest |got − want| / max(1e-30, |want|) over n values */
static double worst_relative(const float *got, const double *want, size_t n, size_t *where)
{
    double worst = 0.0;
    *where = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]) / fmax(fabs(want[i]), 1e-30);
        if (!(d <= worst)) {
            worst = d;
            *where = i;
        }
    }
    return worst;
}

int main(void)
{
    /* a batch with σ < 1, σ = 1 and σ > 1, and high-entropy values */
    const double mu[N] = { 0.8, -1.3, 0.25, 2.1, -0.45, 1.7, -2.35, 0.05, 1.15, -0.9, 0.6, -1.85 };
    const double logvar[N] = { -1.2, 0.9, -0.35, 1.6, 0.0, -2.4, 0.45, 2.2, -0.8, 1.1, -1.75, 0.3 };
    const double eps[N] = { 0.37, -1.42, 2.05, -0.63, 1.18, -0.27, 0.91, -1.76, 0.54, -2.11, 1.33, 0.08 };
    float muf[N], logvarf[N], epsf[N], z[N];
    double mud[N], logvard[N], epsd[N], want[N];
    for (int i = 0; i < N; i++) {
        muf[i] = (float)mu[i];
        logvarf[i] = (float)logvar[i];
        epsf[i] = (float)eps[i];
        /* the reference sees exactly the floats the layer sees */
        mud[i] = muf[i];
        logvard[i] = logvarf[i];
        epsd[i] = epsf[i];
    }
    char e[256], g[256];
    size_t at;

    ref_sampling_forward(want, mud, logvard, epsd, N);
    reparam_forward(z, muf, logvarf, epsf, BATCH, LATENT);
    double worst = worst_relative(z, want, N, &at);
    snprintf(e, sizeof e, "z[%zu] = %.7g", at, want[at]);
    snprintf(g, sizeof g, "z[%zu] = %.7g (relative error %.2g)", at, (double)z[at], worst);
    verdict("forward_batch", worst <= TOL, e, g);

    /* the spread of many draws: variance σ² (not σ⁴, not σ) */
    {
        const float dim_logvar[2] = { -1.2f, 0.9f }, dim_mu[2] = { 0.8f, -1.3f };
        float *m = malloc(2 * DRAWS * sizeof *m), *lv = malloc(2 * DRAWS * sizeof *lv);
        float *ep = malloc(2 * DRAWS * sizeof *ep), *zz = malloc(2 * DRAWS * sizeof *zz);
        gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
        if (!m || !lv || !ep || !zz || !rng) abort();
        gsl_rng_set(rng, 20240607);
        for (size_t b = 0; b < DRAWS; b++)
            for (int l = 0; l < 2; l++) {
                m[2 * b + l] = dim_mu[l];
                lv[2 * b + l] = dim_logvar[l];
                ep[2 * b + l] = (float)gsl_ran_gaussian(rng, 1.0);
            }
        reparam_forward(zz, m, lv, ep, DRAWS, 2);
        int ok = 1;
        size_t ue = 0, ug = 0;
        for (int l = 0; l < 2; l++) {
            double sum = 0.0, sq = 0.0;
            for (size_t b = 0; b < DRAWS; b++) sum += zz[2 * b + l];
            double mean = sum / DRAWS;
            for (size_t b = 0; b < DRAWS; b++) sq += (zz[2 * b + l] - mean) * (zz[2 * b + l] - mean);
            double var = sq / (DRAWS - 1), true_var = exp((double)dim_logvar[l]);
            double tol = 5 * ref_se_variance(true_var, DRAWS);
            ok &= fabs(var - true_var) <= tol;
            ue += (size_t)snprintf(e + ue, sizeof e - ue, "%s%.5f ± %.4f", l ? ", " : "", true_var, tol);
            ug += (size_t)snprintf(g + ug, sizeof g - ug, "%s%.5f", l ? ", " : "", var);
        }
        verdict("forward_spread", ok, e, g);
        free(m);
        free(lv);
        free(ep);
        free(zz);
        gsl_rng_free(rng);
    }

    /* backward: adds into both gradients */
    {
        const double dz[N] = { 1.3, -0.7, 0.45, 2.2, -1.9, 0.15, 0.8, -0.35, 1.05, -2.6, 0.5, 1.75 };
        float dzf[N], d_mu[N], d_logvar[N];
        double dzd[N], want_mu[N], want_logvar[N];
        for (int i = 0; i < N; i++) {
            dzf[i] = (float)dz[i];
            dzd[i] = dzf[i];
            d_mu[i] = 0.5f;        /* a gradient already there: backward must add to it */
            d_logvar[i] = -0.25f;
        }
        ref_sampling_backward(want_mu, want_logvar, dzd, logvard, epsd, N);
        for (int i = 0; i < N; i++) {
            want_mu[i] += 0.5;
            want_logvar[i] += -0.25;
        }
        reparam_backward(d_mu, d_logvar, dzf, logvarf, epsf, BATCH, LATENT);
        size_t at_mu, at_lv;
        double w_mu = worst_relative(d_mu, want_mu, N, &at_mu), w_lv = worst_relative(d_logvar, want_logvar, N, &at_lv);
        snprintf(e, sizeof e, "0.5 + d_z, −0.25 + d_z·½σε");
        snprintf(g, sizeof g, "relative errors %.2g (d_μ[%zu]) and %.2g (d_logvar[%zu])", w_mu, at_mu, w_lv, at_lv);
        verdict("backward", w_mu <= TOL && w_lv <= TOL, e, g);

        /* NULL for d_μ: d_logvar alone */
        for (int i = 0; i < N; i++) d_logvar[i] = 0.0f;
        reparam_backward(NULL, d_logvar, dzf, logvarf, epsf, BATCH, LATENT);
        for (int i = 0; i < N; i++) want_logvar[i] -= -0.25;
        w_lv = worst_relative(d_logvar, want_logvar, N, &at_lv);
        snprintf(g, sizeof g, "d_logvar relative error %.2g", w_lv);
        verdict("backward_null", w_lv <= TOL, "no crash; d_logvar = d_z·½σε", g);
    }

    /* the exercise's picture of the mistake: z = μ + ε·σ² */
    {
        double sq_want[N];
        for (int i = 0; i < N; i++) sq_want[i] = mud[i] + epsd[i] * exp(logvard[i]);   /* μ + ε·σ² */
        mistaken_sampling_forward(z, muf, logvarf, epsf, BATCH, LATENT);
        worst = worst_relative(z, sq_want, N, &at);
        snprintf(e, sizeof e, "z[%zu] = %.7g", at, sq_want[at]);
        snprintf(g, sizeof g, "z[%zu] = %.7g (relative error %.2g)", at, (double)z[at], worst);
        verdict("mistaken", worst <= TOL, e, g);
    }
    return 0;
}
