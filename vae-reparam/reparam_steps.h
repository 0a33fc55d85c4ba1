/* reparam_steps.h: the five steps of vae-reparam, each printed and written to results.tsv.
 *
 *   1. Sampling: N draws z = μ + σ·ε through the sampling layer (common/sampling.c); sample
 *      mean and variance against μ and σ² with confidence intervals; Kolmogorov–Smirnov
 *      against N(μ, σ²).
 *   2. The known mistake z = μ + ε·σ²: its spread, in numbers and in the same figure.
 *   3. Gradients of E[f(z)] for f = z² and f = sin z: exact, pathwise, score function.
 *   4. How the variance of the N-sample estimates falls with N (figure, first dimension).
 *   5. The sampling layer's backward against finite differences.
 *
 * Shape legend: N samples drawn, L latent dimensions; every (N, L) array is row-major.
 */
#ifndef REPARAM_STEPS_H
#define REPARAM_STEPS_H

#include <gsl/gsl_rng.h>

#include "io/program.h"
#include "reparam_exercise.h"

#define MAX_LATENT 6           /* dimensions accepted in --mu and --logvar */
#define HISTOGRAM_BINS 80
#define STUDY_POINTS 12        /* N = 2, 4, ..., 4096 in the variance study */

/* Per-dimension results: what steps 1 and 2 measure. */
typedef struct {
    double mu, logvar, var, sigma;
    moment_summary right, wrong;         /* z = μ + σε and z = μ + εσ² */
    double ks_d, ks_p, wrong_ks_d, wrong_ks_p;
} dimension_report;

/* Everything the steps share. */
typedef struct {
    program_run *run;
    results *res;
    int talk;                            /* print tables (not --quiet) */
    int n, latent, repeats;
    float mu[MAX_LATENT], logvar[MAX_LATENT];
    float *eps, *z, *z_wrong;            /* (N, L) each: the noise, z = μ + σε and the mistake's z */
    float *mu_rows, *logvar_rows;        /* (N, L): the layer takes μ and log σ² per sample */
    double *column;                      /* (N) one dimension's values */
    double *hist_store;                  /* (2L, HISTOGRAM_BINS) */
    double *right_hist[MAX_LATENT], *wrong_hist[MAX_LATENT], lo[MAX_LATENT], hi[MAX_LATENT];
    gsl_rng *rng;
    dimension_report dims[MAX_LATENT];
    gradient_estimates grads[TEST_FN_COUNT][MAX_LATENT];
    int ns[STUDY_POINTS];
    double study_mu[STUDY_POINTS][ESTIMATOR_COUNT], study_logvar[STUDY_POINTS][ESTIMATOR_COUNT];
    int layer_ok;                        /* step 5 found the backward right */
} reparam_study;

/* The buffers for n samples of latent dimensions, the generator seeded with --seed, σ² and σ of
 * each dimension printed and the setup in results.tsv. AE_ENOMEM. */
int reparam_study_init(reparam_study *s, program_run *run, const float *mu, const float *logvar, int latent, int n,
                       int repeats);
void reparam_study_free(reparam_study *s);

int reparam_sampling(reparam_study *s);         /* 1 */
int reparam_mistake(reparam_study *s);          /* 2 */
int reparam_gradients(reparam_study *s);        /* 3 */
int reparam_variance_study(reparam_study *s);   /* 4 */
int reparam_layer_check(reparam_study *s);      /* 5 */
int reparam_figures(reparam_study *s);          /* sampling.png and estimator_variance.png */

#endif
