/* elbo_sections.h: the sections of vae-elbo, the evidence lower bound of a VAE, its two terms
 * checked, then VAEs trained.
 *
 *   1. The KL term: closed form against the trace/log-det form, Monte Carlo and GSL integration.
 *   2. The reconstruction term: the Bernoulli log-likelihood against the library's BCE; sum
 *      against mean reduction and the β it implies.
 *   3. Known mistakes: the lecture notebook's KL, BCE on targets in [−1, 1], the sign convention.
 *   4. The single-sample Monte-Carlo ELBO against the analytic-KL ELBO: same mean, more spread.
 *   5. (--train) the dense VAE, the lecture's convolutional VAE and a β sweep, with figures and demos.
 *   6. (--train) the homework: the convolutional VAE on CIFAR-10, when its data is there.
 * Sections 1–4 (elbo_checks.c) use a fixed, untrained dense VAE and a made-up image, so they run
 * anywhere; section 5 is elbo_training.c. The functions the exercise is about are in elbo.c.
 *
 * Shape legend: B batch, L latent dimensions, D pixels (784).
 */
#ifndef ELBO_SECTIONS_H
#define ELBO_SECTIONS_H

#include <stdio.h>
#include <gsl/gsl_rng.h>

#include "io/data.h"
#include "io/program.h"
#include "vae.h"
#include "vae_model.h"

#define MAX_LATENT 64            /* dimensions accepted in --mu and --logvar */
#define DENSE_HIDDEN 400         /* pytorch/examples' VAE */
#define MAX_BETAS 8
#define LOGVAR_LIMIT 50.0        /* σ² from e^-50 to e^50: finite in double, with room for sums */

/* Everything the options say. */
typedef struct {
    const char *mu_text, *logvar_text;
    long mc_samples;
    int elbo_draws;
    int train;
    int model_choice;            /* 0 dense, 1 conv, 2 both */
    int latent;
    double beta;
    int conv_epochs;
    int batch;
    double lr;
    int no_sweep;
    const char *sweep_betas_text;
    int sweep_epochs;
    int threads;                 /* lanes of the dense models */
    int conv_threads;            /* lanes of the convolutional ones */
    int from_checkpoint;         /* read the dense and conv VAEs back instead of training them */
    const char *cifar10_dir;     /* --data-cifar10, or NULL */
    int cifar10_epochs;
    int cifar10_latent;
} elbo_options;

/* What every section needs. */
typedef struct {
    const elbo_options *opt;
    const common_options *common;
    program_run *run;            /* results.tsv, figures, the --out folder */
} elbo_context;

/* Everything sections 2–4 share: the untrained model, the image, one draw and its decoding. */
typedef struct {
    vae *v;
    float x[FASHION_PIXELS];          /* the image, in [0, 1] */
    float p[FASHION_PIXELS];          /* sigmoid(logits) of one draw */
    float logits[FASHION_PIXELS];
    double recon, kl;                 /* log p(x|z) of that draw, KL(q(z|x) ‖ p(z)) */
    double mu[MAX_LATENT], logvar[MAX_LATENT];
} fixed_world;

/* A generator for one part of the run (seed + 1000003·stream), so that options of one part do
 * not shift the draws of another; NULL when out of memory. */
gsl_rng *elbo_stream_rng(unsigned long seed, unsigned long stream);
/* Text in |width| columns, left-aligned (width > 0) or right-aligned (< 0), counting characters. */
void elbo_cell(const char *text, int width);
void elbo_print_vector(const char *name, const double *v, int k);
int elbo_add_double(elbo_context *ctx, const char *key, double value);
int elbo_add_prefixed(elbo_context *ctx, const char *prefix, const char *name, double value);

int elbo_section_kl(elbo_context *ctx, const double *mu, const double *logvar, int k);         /* 1 */
/* The untrained dense VAE and the made-up image sections 2–4 share. */
int elbo_world_build(fixed_world *w, const elbo_options *opt, unsigned long seed);
int elbo_section_reconstruction(elbo_context *ctx, fixed_world *w);                            /* 2 */
int elbo_section_mistakes(elbo_context *ctx, fixed_world *w, const double *mu, const double *logvar, int k); /* 3 */
int elbo_section_estimators(elbo_context *ctx, fixed_world *w);                                /* 4 */
/* The two estimators' study printed, and written to results.tsv as PREFIX_... */
int elbo_report_estimators(elbo_context *ctx, const char *prefix, const elbo_estimator_study *s);
/* 5: both VAEs and the β sweep on the data in dir, with their figures. */
int elbo_section_training(elbo_context *ctx, const char *dir, int is_sample, const double *betas, int n_betas);

#endif
