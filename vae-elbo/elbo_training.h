/* elbo_training.h: what section 5 of vae-elbo shares between its files: one trained VAE with its
 * curves (training_run), training it, saving and reloading it (--from-checkpoint), and the figures.
 *
 *   elbo_training.c   training, the curves and latent figures, the β sweep, the section itself
 *   elbo_resume.c     a run's checkpoints and history, written after training and read back
 *   elbo_demos.c      the lectures' demos: reconstructions, latent histograms, latent arithmetic
 *   elbo_cifar10.c    the homework: the convolutional VAE on CIFAR-10
 *
 * Shape legend: N images, L latent dimensions, P values per image (784 grey, 3072 colour).
 */
#ifndef ELBO_TRAINING_H
#define ELBO_TRAINING_H

#include "elbo_sections.h"

#define SEGMENTS 10               /* the training curve: a point every tenth of an epoch */

typedef struct {
    char prefix[32];                  /* "dense", "conv", "beta_sweep_0.5", "cifar10" */
    char title[96];                   /* "dense VAE (784-400-20, β = 1)" */
    vae *v;
    int epochs;
    elbo_terms *train, *test;         /* (epochs) */
    elbo_terms test_start;            /* the test set before any training */
    elbo_terms *segments;             /* (epochs, n_segments) train means over each part of an epoch */
    int n_segments;                   /* SEGMENTS, or fewer when an epoch has fewer batches */
    double *seconds;                  /* (epochs) training time, without the test pass */
    double total_seconds;
    int threads;                      /* lanes each batch was split in */
    double steps_on_threads;          /* a dense model's elastic steps: the share run on the threads; < 0: none */
    int from_checkpoint;              /* 1: read back by elbo_run_load, not trained by this run */
    float *test_mu, *test_logvar;     /* (test_n, L) after elbo_encode_set, else NULL */
    size_t test_n;
} training_run;

/* Space for the curves of `epochs` epochs of `batches` batches each; AE_ENOMEM. */
int elbo_run_alloc(training_run *r, int epochs, long batches);
void elbo_run_free(training_run *r);       /* the model too; the struct zeroed */
double elbo_mean_seconds(const training_run *r);

/* Builds r->v from cfg and trains it `epochs` epochs on train, evaluating on test after each
 * (and before the first), printing a line per epoch; the generator is the seed's stream `stream`. */
int elbo_train_run(elbo_context *ctx, training_run *r, const idx_array *train, const idx_array *test,
                   const vae_config *cfg, int epochs, unsigned long stream, int verbose);
/* The run's numbers as PREFIX_... in results.tsv. */
int elbo_store_run(elbo_context *ctx, const training_run *r);
/* The trivial baseline of a Bernoulli decoder: the mean over the test images of log p(x) with
 * independent pixels whose probabilities are the mean training image (nats per image). */
double elbo_mean_image_log_likelihood(const idx_array *train, const idx_array *test);
/* Whether a run learned: its test ELBO above `baseline`; says so when not, on the terminal and as
 * PREFIX_learned / PREFIX_not_learned. */
int elbo_judge_run(elbo_context *ctx, const training_run *r, double baseline);
/* PREFIX_elbo_curves: the ELBO, reconstruction term and KL per epoch, test and train. */
int elbo_figure_curves(elbo_context *ctx, const training_run *r);
/* PREFIX_prior_samples: 100 draws z ~ N(0, I) decoded. */
int elbo_figure_prior_samples(elbo_context *ctx, const training_run *r, gsl_rng *rng);
/* μ and log σ² of every image of the set into r->test_mu and r->test_logvar (N, L). */
int elbo_encode_set(training_run *r, const idx_array *images);
/* Decodes n latent points z (n, L) into images (n, P), in batches. */
int elbo_decode_many(vae *v, const float *z, int n, float *images);
/* The first image of class `label` in labels, 0 when there is none. */
size_t elbo_first_of_class(const idx_array *labels, int label);

/* ------------------------------------------------- --from-checkpoint (elbo_resume.c)
 * After training, PREFIX_encoder.ckpt and PREFIX_decoder.ckpt (checkpoint.h) and PREFIX_history.tsv:
 * what made the run (seed, data, model, β, learning rate, batch, threads, epochs, the checkpoints'
 * CRC-32) and every point of its curves, to 17 digits, so a rerun gives the same numbers. */
int elbo_run_save(elbo_context *ctx, const training_run *r, const char *data_dir);
/* Builds r->v from cfg and fills it and the curves from those files. Refuses (AE_EINVAL, naming the
 * setting and both values, saying to train again without --from-checkpoint) a history made by
 * other settings; AE_ENOENT when a file is missing; AE_EFORMAT for a damaged one. */
int elbo_run_load(elbo_context *ctx, training_run *r, const vae_config *cfg, int epochs, const char *data_dir);
/* With --from-checkpoint elbo_run_load, else elbo_train_run then elbo_run_save; then the line that says
 * how long its epochs took. */
int elbo_train_or_load(elbo_context *ctx, training_run *r, const idx_array *train, const idx_array *test,
                       const vae_config *cfg, int epochs, unsigned long stream, const char *data_dir);

/* ------------------------------------------------------------ demos (elbo_demos.c) */

/* Decoded μ of the first test image of each class (labels 0..9), into rows (10, P). Needs
 * elbo_encode_set of the same test images, as the next two do. */
int elbo_reconstruct_classes(training_run *r, const image_split *test, float *rows);
/* The mean squared error of decoded μ against every test image (N, P): PREFIX_test_mse_from_mu. */
int elbo_reconstruction_mse(elbo_context *ctx, training_run *r, const idx_array *test);
/* vae_reconstructions: the test images, then one row per model of rows (n_models, 10, 784). */
int elbo_figure_reconstructions(elbo_context *ctx, const fashion_mnist *fm, const float *rows,
                                const char *const *model_names, int n_models);
/* How the latent dimensions are used: PREFIX_active_dims, PREFIX_kl_dim_J, PREFIX_var_mu_dim_J, and
 * the figure FIGURE_NAME (NULL: none) of each dimension's μ over the test set against N(0, 1), with
 * its KL and variance. Needs elbo_encode_set. */
int elbo_figure_latent_histograms(elbo_context *ctx, const training_run *r, const char *figure_name);
/* latent_arithmetic: class-mean codes of the training set, attribute vectors such as
 * "ankle boot − sneaker" added to other images' codes and decoded; arithmetic_... numbers. */
int elbo_figure_latent_arithmetic(elbo_context *ctx, training_run *r, const fashion_mnist *fm);

/* ---------------------------------------------------------- CIFAR-10 (elbo_cifar10.c) */

/* Where CIFAR-10 is (cifar10_locate with --data-cifar10): *found = 0 when nowhere. */
int elbo_cifar10_locate(const elbo_context *ctx, char *dir, size_t len, int *found);
/* The homework: the convolutional VAE on CIFAR-10's colour images (data, read by cifar10_load), or,
 * when data is NULL, a note saying it was skipped and how to run it (cifar10_status in results.tsv). */
struct cifar10;
int elbo_section_cifar10(elbo_context *ctx, const struct cifar10 *data);

#endif
