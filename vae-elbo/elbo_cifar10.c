/* elbo_cifar10.c: section 6 of vae-elbo, the homework of the course notes: the lecture's
 * convolutional VAE on CIFAR-10's 32x32 colour images (see elbo_training.h).
 *
 * The model is section 5's convolutional VAE with three input planes (R, G, B) and three planes
 * of logits out, a latent space of --cifar10-latent dimensions (64 by default: two cannot hold
 * a natural image), and the same Bernoulli decoder, each of the 3072 values x in [0, 1] scored
 * by x ln p + (1 − x) ln(1 − p). The chapter explains that choice and what it costs.
 *
 * The data is in no package: it is read from --data-cifar10, $CIFAR10_DIR or
 * data/cifar-10-batches-bin; without it the section says so and is skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elbo_training.h"
#include "error.h"
#include "io/cifar10.h"
#include "io/plot.h"
#include "io/results.h"

#define PROGRAM "vae-elbo"

int elbo_cifar10_locate(const elbo_context *ctx, char *dir, size_t len, int *found)
{
    return cifar10_locate(dir, len, ctx->opt->cifar10_dir, found);
}

/* cifar10_reconstructions: the first test image of each class and its decoded mean code. */
static int figure_reconstructions(elbo_context *ctx, training_run *r, const cifar10 *data)
{
    const size_t row = (size_t)CIFAR10_CLASSES * CIFAR10_PIXELS;
    float *grid = calloc(2 * row, sizeof *grid);
    if (!grid) return AE_ERROR(AE_ENOMEM, "out of memory for the CIFAR-10 reconstructions");
    size_t index[CIFAR10_CLASSES];
    int n = fashion_first_of_each_class(index, &data->test.labels);   /* any labels 0..9 */
    images_to_float(grid, &data->test.images, index, n);
    int rc = elbo_reconstruct_classes(r, &data->test, grid + row);
    const char *col_labels[CIFAR10_CLASSES];
    for (int c = 0; c < CIFAR10_CLASSES; c++) col_labels[c] = c < n ? cifar10_class_name(data->test.labels.data[index[c]]) : "";
    const char *row_labels[2] = { "test image", "decoded μ" };
    char title[160];
    snprintf(title, sizeof title, "%s: the first test image of each class and its decoded mean code", r->title);
    plot_grid g = { grid, 2 * CIFAR10_CLASSES, CIFAR10_CHANNELS, CIFAR10_SIDE, CIFAR10_SIDE, CIFAR10_CLASSES,
                    row_labels, col_labels };
    if (rc == AE_OK) rc = plot_image_grid_labelled(ctx->run->out_dir, "cifar10_reconstructions", title, &g);
    free(grid);
    return rc == AE_OK ? program_render(ctx->run, "cifar10_reconstructions") : rc;
}

static int skipped(elbo_context *ctx)
{
    static const char why[] = "skipped: no CIFAR-10 data was found. Download the binary version "
                              "(cifar-10-binary.tar.gz) from the CIFAR-10 page, unpack it, and give its "
                              "cifar-10-batches-bin folder with --data-cifar10 DIR or CIFAR10_DIR, or put it in "
                              "data/cifar-10-batches-bin";
    printf("The homework, a convolutional VAE on CIFAR-10, is %s.\n", why);
    int rc = results_add_text(ctx->run->res, "cifar10_status", why);
    return rc == AE_OK ? results_add_int(ctx->run->res, "cifar10_trained", 0) : rc;
}

int elbo_section_cifar10(elbo_context *ctx, const cifar10 *cifar)
{
    const elbo_options *opt = ctx->opt;
    program_heading("6. The homework: a convolutional VAE on CIFAR-10");
    if (!cifar) return skipped(ctx);
    const cifar10 data = *cifar;
    const char *dir = data.dir;
    int rc = AE_OK;
    printf("Data: %s (%zu training, %zu test images of 32x32 in colour)\n", dir, data.train.images.count,
           data.test.images.count);

    training_run r;
    memset(&r, 0, sizeof r);
    snprintf(r.prefix, sizeof r.prefix, "cifar10");
    snprintf(r.title, sizeof r.title, "CIFAR-10 convolutional VAE (L = %d, β = %g)", opt->cifar10_latent, opt->beta);
    r.threads = opt->conv_threads;
    const int epochs = opt->cifar10_epochs;
    printf("-- %s: Adam %g, batch %d, %d epoch%s, %d thread%s --\n", r.title, opt->lr, opt->batch, epochs,
           epochs == 1 ? "" : "s", r.threads, r.threads == 1 ? "" : "s");
    vae_config cfg = { VAE_CONV, opt->cifar10_latent, 0, opt->beta, opt->lr, opt->batch, 0, kl_batch_forward,
                       kl_batch_backward, CIFAR10_CHANNELS };
    rc = elbo_train_or_load(ctx, &r, &data.train.images, &data.test.images, &cfg, epochs, 400, dir);
    if (rc == AE_OK) rc = elbo_store_run(ctx, &r);
    if (rc == AE_OK) {
        double baseline = elbo_mean_image_log_likelihood(&data.train.images, &data.test.images);
        rc = elbo_add_double(ctx, "cifar10_mean_image_log_likelihood", baseline);
        if (rc == AE_OK) rc = elbo_judge_run(ctx, &r, baseline);
    }
    if (rc == AE_OK) rc = elbo_encode_set(&r, &data.test.images);   /* once, for what follows */
    if (rc == AE_OK) rc = elbo_reconstruction_mse(ctx, &r, &data.test.images);
    if (rc == AE_OK) rc = elbo_figure_curves(ctx, &r);
    if (rc == AE_OK) rc = figure_reconstructions(ctx, &r, &data);
    if (rc == AE_OK) {
        gsl_rng *rng = elbo_stream_rng(ctx->common->seed, 450);
        rc = rng ? elbo_figure_prior_samples(ctx, &r, rng) : AE_ERROR(AE_ENOMEM, "out of memory for a generator");
        gsl_rng_free(rng);
    }
    if (rc == AE_OK) rc = elbo_figure_latent_histograms(ctx, &r, NULL);
    if (rc == AE_OK) {
        char status[AE_PATH_MAX + 100];
        snprintf(status, sizeof status, "trained on %zu training and %zu test images from %s", data.train.images.count,
                 data.test.images.count, dir);
        rc = results_add_text(ctx->run->res, "cifar10_status", status);
        if (rc == AE_OK) rc = results_add_int(ctx->run->res, "cifar10_trained", 1);
        if (rc == AE_OK) rc = results_add_text(ctx->run->res, "cifar10_folder", dir);
    }
    printf("\n");
    elbo_run_free(&r);
    return rc;
}
