/* t1_part_vae.c: parts (b) to (d) of Task 1, one network trained as an AE and as a VAE: the loss
 * terms, the 2-D latent planes, pair averaging and generation (see t1_parts.h). */
#include "t1_parts.h"
#include "fast/blas.h"
#include "io/cli.h"
#include "fast/cpu.h"
#include "io/data.h"
#include "engine.h"
#include "error.h"
#include "io/fileio.h"
#include "io/plot.h"
#include "io/results.h"
#include "sampling.h"
#include "t1_figures.h"
#include "t1_kinds.h"
#include "vae.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>


/* ======================================================= (b)-(d) the AE and the VAE */

#define GRID_SIDE 15          /* (c) decoded grid: GRID_SIDE x GRID_SIDE points of each latent plane */
#define GRID_QUANTILE 0.005   /* the grid spans the codes from this quantile to 1 minus it, on each axis */
#define PAIRS 5               /* (c) pair averaging */
#define DRAWS_SHOWN 50        /* (d) decoded prior draws shown per model */

/* The pairs of classes averaged in (c): neighbours (a sneaker and an ankle boot) and strangers. */
static const int PAIR_CLASSES[PAIRS][2] = { { 7, 9 }, { 0, 6 }, { 2, 4 }, { 1, 3 }, { 5, 8 } };

/* One network trained one way, and what was measured on it. */
typedef struct {
    const char *name;              /* "AE" or "VAE" */
    vae *v;
    int latent;
    int epochs_run;
    elbo_terms train[TRAIN_MAX_EPOCHS], test[TRAIN_MAX_EPOCHS];   /* per image, per epoch */
    elbo_terms test_start;         /* the untrained network's, on the test images */
    double seconds;
    double mu_sq_half;             /* ½ E‖μ‖² over the test images: the KL's mean part, or what it would be */
    double mu_sq_history[TRAIN_MAX_EPOCHS];   /* the same after each epoch */
    double mu_sq_start;            /* and before training */
    double sigma_mean;             /* mean σ over test images and dimensions (VAE) */
    int active_dims;               /* dimensions whose μ_j varies over the test images: Var(μ_j) > 0.01 */
    double test_mse;               /* reconstruction from μ, per pixel */
    double test_bce;               /* reconstruction from μ, BCE summed per image */
    float *codes;                  /* (test images, L) μ of every test image */
    float *logvars;                /* (test images, L) their log σ² (unused by the AE) */
    double code_kl;                /* KL(N(m, C) ‖ N(0, I)) of a Gaussian fitted to the codes the decoder sees */
} net_run;

static void net_run_free(net_run *r)
{
    vae_free(r->v);
    free(r->codes);
    free(r->logvars);
    r->v = NULL;
    r->codes = NULL;
    r->logvars = NULL;
}

/* Encodes every test image (μ), and measures the reconstruction from μ and the spread of μ and σ. */
static int measure_net(t1_context *ctx, net_run *r)
{
    const idx_array *images = &ctx->fm->test.images;
    int batch = r->v->cfg.max_batch, latent = r->latent;
    size_t count = images->count;
    if (!r->codes) r->codes = malloc(count * (size_t)latent * sizeof *r->codes);
    if (!r->logvars) r->logvars = malloc(count * (size_t)latent * sizeof *r->logvars);
    float *x = malloc((size_t)batch * FASHION_PIXELS * sizeof *x);
    size_t *index = malloc((size_t)batch * sizeof *index);
    if (!r->codes || !r->logvars || !x || !index) {
        free(x);
        free(index);
        return AE_ERROR(AE_ENOMEM, "out of memory for measuring the %s", r->name);
    }
    double mu_sq = 0.0, sigma = 0.0, se = 0.0, bce = 0.0;
    int rc = AE_OK;
    for (size_t start = 0; start < count && rc == AE_OK; start += (size_t)batch) {
        int n = (int)(count - start < (size_t)batch ? count - start : (size_t)batch);
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        vae_fill_batch(r->v, x, images, index, n);
        float *mu = r->codes + start * (size_t)latent, *logvar = r->logvars + start * (size_t)latent;
        rc = vae_encode(r->v, x, n, mu, logvar);
        const float *logits;
        if (rc == AE_OK) rc = vae_decode_logits(r->v, mu, n, &logits);
        if (rc != AE_OK) break;
        bce += vae_bce_logits_sum(NULL, logits, x, (size_t)n * FASHION_PIXELS);
        for (size_t k = 0; k < (size_t)n * FASHION_PIXELS; k++) {
            double p = 1.0 / (1.0 + exp(-(double)logits[k])), d = p - x[k];     /* p = sigmoid(logit) */
            se += d * d;
        }
        for (size_t k = 0; k < (size_t)n * (size_t)latent; k++) {
            mu_sq += (double)mu[k] * mu[k];
            sigma += exp(0.5 * logvar[k]);                                       /* σ = exp(½ log σ²) */
        }
    }
    free(x);
    free(index);
    if (rc != AE_OK) return rc;
    /* the activity of each dimension, as Burda, Grosse and Salakhutdinov (2016) count it: Var_x(μ_j(x)) */
    r->active_dims = 0;
    for (int j = 0; j < latent; j++) {
        double sum = 0.0, sum_sq = 0.0;
        for (size_t i = 0; i < count; i++) {
            double m = r->codes[i * (size_t)latent + (size_t)j];
            sum += m;
            sum_sq += m * m;
        }
        double mean = sum / (double)count;
        r->active_dims += sum_sq / (double)count - mean * mean > 0.01;
    }
    r->mu_sq_half = 0.5 * mu_sq / (double)count;
    r->sigma_mean = sigma / ((double)count * latent);
    r->test_mse = se / ((double)count * FASHION_PIXELS);
    r->test_bce = bce / (double)count;
    return AE_OK;
}

/* Trains the network as an AE (deterministic: z = μ, no KL) or as a VAE, with the test terms per epoch. */
static int train_net(t1_context *ctx, net_run *r, const char *name, int latent, int as_vae, unsigned long stream)
{
    const t1_options *opt = ctx->opt;
    const fashion_mnist *fm = ctx->fm;
    memset(r, 0, sizeof *r);
    r->name = name;
    r->latent = latent;
    /* training draws (shuffles, ε) and evaluation draws come from generators of their own, so that
     * measuring does not change what is trained */
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937), *eval_rng = gsl_rng_alloc(gsl_rng_mt19937);
    size_t *order = malloc(fm->train.images.count * sizeof *order);
    if (!rng || !eval_rng || !order) {
        gsl_rng_free(rng);
        gsl_rng_free(eval_rng);
        free(order);
        return AE_ERROR(AE_ENOMEM, "out of memory for training the %s", name);
    }
    /* the same seed for both ways of training: the AE and the VAE start from the same weights */
    gsl_rng_set(rng, ctx->common->seed + stream);
    gsl_rng_set(eval_rng, ctx->common->seed + stream + 1);
    vae_config cfg = { .kind = VAE_DENSE, .latent = latent, .hidden = opt->hidden, .beta = as_vae ? 1.0 : 0.0,
                       .lr = opt->lr, .max_batch = opt->batch, .deterministic = !as_vae };
    r->v = vae_alloc(&cfg, rng);
    int rc = r->v ? vae_set_threads(r->v, opt->threads) : error_code();
    if (rc == AE_OK) rc = vae_evaluate(r->v, &fm->test.images, eval_rng, &r->test_start);   /* where training starts */
    if (rc == AE_OK) rc = measure_net(ctx, r);
    r->mu_sq_start = r->mu_sq_half;
    double started = program_seconds();
    for (int e = 0; e < ctx->common->epochs && rc == AE_OK; e++) {
        double t0 = program_seconds();
        rc = vae_train_epoch(r->v, &fm->train.images, order, rng, NULL, NULL, &r->train[e]);
        if (rc == AE_OK) rc = vae_evaluate(r->v, &fm->test.images, eval_rng, &r->test[e]);
        if (rc == AE_OK) rc = measure_net(ctx, r);
        if (rc != AE_OK) break;
        r->mu_sq_history[e] = r->mu_sq_half;
        r->epochs_run = e + 1;
        if (!ctx->common->quiet) {
            printf("  %-3s L = %2d  epoch %2d/%d: train -log p(x|z) %8.3f", name, latent, e + 1, ctx->common->epochs,
                   -r->train[e].recon);
            if (as_vae) printf(", KL %6.3f", r->train[e].kl);
            printf("   test -log p(x|z) %8.3f", -r->test[e].recon);
            if (as_vae) printf(", KL %6.3f", r->test[e].kl);
            printf(", 1/2 E||mu||^2 %7.3f  (%.1f s)\n", r->mu_sq_half, program_seconds() - t0);
            fflush(stdout);
        }
    }
    r->seconds = program_seconds() - started;
    free(order);
    gsl_rng_free(rng);
    gsl_rng_free(eval_rng);
    return rc;
}

static int net_results(t1_context *ctx, const net_run *r)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s_latent%d", r->name[0] == 'A' ? "ae" : "vae", r->latent);
    const elbo_terms *train = &r->train[r->epochs_run - 1], *test = &r->test[r->epochs_run - 1];
    int rc = t1_result_int(ctx, prefix, "params", (long)(model_param_count(r->v->encoder) + model_param_count(r->v->decoder)));
    rc |= t1_result(ctx, prefix, "train_recon", -train->recon);
    rc |= t1_result(ctx, prefix, "train_kl", train->kl);
    rc |= t1_result(ctx, prefix, "test_recon", -test->recon);
    rc |= t1_result(ctx, prefix, "test_kl", test->kl);
    rc |= t1_result(ctx, prefix, "test_loss", -test->elbo);
    rc |= t1_result(ctx, prefix, "mu_sq_half", r->mu_sq_half);
    rc |= t1_result(ctx, prefix, "mu_sq_half_untrained", r->mu_sq_start);
    rc |= t1_result(ctx, prefix, "untrained_test_recon", -r->test_start.recon);
    rc |= t1_result(ctx, prefix, "untrained_test_kl", r->test_start.kl);
    if (!r->v->cfg.deterministic) rc |= t1_result(ctx, prefix, "sigma_mean", r->sigma_mean);
    rc |= t1_result_int(ctx, prefix, "active_dims", r->active_dims);
    rc |= t1_result(ctx, prefix, "test_mse_from_mu", r->test_mse);
    rc |= t1_result(ctx, prefix, "test_bce_from_mu", r->test_bce);
    rc |= t1_result(ctx, prefix, "seconds", r->seconds);
    for (int e = 0; e < r->epochs_run; e++) {
        rc |= t1_epoch_result(ctx, prefix, e, "test_recon", -r->test[e].recon);
        rc |= t1_epoch_result(ctx, prefix, e, "test_kl", r->test[e].kl);
        rc |= t1_epoch_result(ctx, prefix, e, "mu_sq_half", r->mu_sq_history[e]);
    }
    return rc == AE_OK ? AE_OK : error_code();
}

/* (b) the two loss terms per epoch, on the test images, and where the means go */
static int figure_terms(t1_context *ctx, const net_run *ae, const net_run *vae)
{
    int epochs = ae->epochs_run;
    double series[6][TRAIN_MAX_EPOCHS + 1];     /* point 0: before training */
    series[0][0] = -ae->test_start.recon;
    series[1][0] = -vae->test_start.recon;
    series[2][0] = vae->test_start.kl;
    series[3][0] = -vae->test_start.elbo;
    series[4][0] = ae->mu_sq_start;
    series[5][0] = vae->mu_sq_start;
    for (int e = 0; e < epochs; e++) {
        series[0][e + 1] = -ae->test[e].recon;
        series[1][e + 1] = -vae->test[e].recon;
        series[2][e + 1] = vae->test[e].kl;
        series[3][e + 1] = -vae->test[e].elbo;
        series[4][e + 1] = ae->mu_sq_history[e];
        series[5][e + 1] = vae->mu_sq_history[e];
    }
    const double *ys[6] = { series[0], series[1], series[2], series[3], series[4], series[5] };
    const char *labels[6] = { "AE: -log p(x|z), its whole loss", "VAE: -log p(x|z)", "VAE: KL(q(z|x) || N(0, I))",
                              "VAE: their sum, -ELBO", "AE: 1/2 E||mu||^2 (not in its loss)",
                              "VAE: 1/2 E||mu||^2 (the KL's mean part)" };
    /* the reconstruction term is hundreds of nats, the KL tens: each gets a panel and an axis of its own */
    const t1_epoch_panel panels[2] = {
        { "The reconstruction term -log p(x|z), and the VAE's whole loss", "nats per image", 0, 3, { 0, 1, 3 } },
        { "The KL term, and its part that the means pay, 1/2 E||mu||^2", "nats per image (log scale)", 1, 3,
          { 2, 4, 5 } },
    };
    char title[160];
    snprintf(title, sizeof title, "(b) The loss terms on the test images after each epoch, L = %d: one network "
             "trained as an AE and as a VAE", ae->latent);
    int rc = t1_plot_epoch_panels(ctx->run->out_dir, "ae_vae_terms", title, 0, epochs + 1, ys, labels, 6, panels, 2);
    return rc == AE_OK ? program_render(ctx->run, "ae_vae_terms") : rc;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of n values taken at stride `stride`, interpolating between order statistics. */
static int quantile(double *value, const float *v, size_t n, int stride, double q)
{
    double *sorted = malloc(n * sizeof *sorted);
    if (!sorted) return AE_ERROR(AE_ENOMEM, "out of memory for a quantile");
    for (size_t i = 0; i < n; i++) sorted[i] = v[i * (size_t)stride];
    qsort(sorted, n, sizeof *sorted, compare_doubles);
    double position = q * (double)(n - 1);
    size_t lo = (size_t)position;
    double frac = position - (double)lo;
    *value = lo + 1 < n ? sorted[lo] * (1.0 - frac) + sorted[lo + 1] * frac : sorted[lo];
    free(sorted);
    return AE_OK;
}

/* (c) GRID_SIDE² decodes of a regular grid over the box of a 2-D model's test codes. */
static int figure_grid(t1_context *ctx, net_run *r, const char *name, double box[4])
{
    size_t count = ctx->fm->test.images.count;
    int rc = quantile(&box[0], r->codes, count, 2, GRID_QUANTILE);
    if (rc == AE_OK) rc = quantile(&box[1], r->codes, count, 2, 1.0 - GRID_QUANTILE);
    if (rc == AE_OK) rc = quantile(&box[2], r->codes + 1, count, 2, GRID_QUANTILE);
    if (rc == AE_OK) rc = quantile(&box[3], r->codes + 1, count, 2, 1.0 - GRID_QUANTILE);
    if (rc != AE_OK) return rc;
    enum { N = GRID_SIDE * GRID_SIDE };
    float *z = malloc((size_t)N * 2 * sizeof *z), *images = malloc((size_t)N * FASHION_PIXELS * sizeof *images);
    if (!z || !images) {
        free(z);
        free(images);
        return AE_ERROR(AE_ENOMEM, "out of memory for the grid");
    }
    char row_text[GRID_SIDE][24], col_text[GRID_SIDE][24];
    const char *row_labels[GRID_SIDE], *col_labels[GRID_SIDE];
    for (int row = 0; row < GRID_SIDE; row++)
        for (int col = 0; col < GRID_SIDE; col++) {
            /* top row: the largest z2, as on a plot's y axis */
            double z1 = box[0] + (box[1] - box[0]) * col / (GRID_SIDE - 1);
            double z2 = box[3] - (box[3] - box[2]) * row / (GRID_SIDE - 1);
            z[2 * (row * GRID_SIDE + col)] = (float)z1;
            z[2 * (row * GRID_SIDE + col) + 1] = (float)z2;
            snprintf(col_text[col], sizeof col_text[col], "%.3g", z1);
            snprintf(row_text[row], sizeof row_text[row], "z2 = %.3g", z2);
            col_labels[col] = col_text[col];
            row_labels[row] = row_text[row];
        }
    for (int start = 0; start < N && rc == AE_OK; start += r->v->cfg.max_batch) {
        int n = N - start < r->v->cfg.max_batch ? N - start : r->v->cfg.max_batch;
        rc = vae_decode_images(r->v, z + 2 * start, n, images + (size_t)start * FASHION_PIXELS);
    }
    char title[200];
    snprintf(title, sizeof title, "(c) %s, L = 2: decoded %dx%d grid, z1 from %.3g to %.3g (columns), z2 from %.3g to %.3g",
             r->name, GRID_SIDE, GRID_SIDE, box[0], box[1], box[2], box[3]);
    if (rc == AE_OK)
        rc = t1_plot_images(ctx->run->out_dir, name, title, images, GRID_SIDE, GRID_SIDE, 28, row_labels, col_labels);
    if (rc == AE_OK) rc = program_render(ctx->run, name);
    free(z);
    free(images);
    return rc;
}

/* The first test image of a class, or (size_t)-1. */
static size_t first_of_class(const fashion_mnist *fm, int label)
{
    for (size_t i = 0; i < fm->test.labels.count; i++)
        if (fm->test.labels.data[i] == label) return i;
    return (size_t)-1;
}

/* (c) the lab's pair averaging: decode the mean of two codes, with both models. */
static int figure_pairs(t1_context *ctx, net_run *ae, net_run *vae)
{
    enum { ROWS = 5 };
    float *images = malloc((size_t)ROWS * PAIRS * FASHION_PIXELS * sizeof *images);
    if (!images) return AE_ERROR(AE_ENOMEM, "out of memory for the pair figure");
    for (size_t k = 0; k < (size_t)ROWS * PAIRS * FASHION_PIXELS; k++) images[k] = NAN;
    char col_text[PAIRS][64];
    const char *col_labels[PAIRS];
    int rc = AE_OK;
    for (int p = 0; p < PAIRS && rc == AE_OK; p++) {
        size_t a = first_of_class(ctx->fm, PAIR_CLASSES[p][0]), b = first_of_class(ctx->fm, PAIR_CLASSES[p][1]);
        snprintf(col_text[p], sizeof col_text[p], "%s + %s", fashion_class_name(PAIR_CLASSES[p][0]),
                 fashion_class_name(PAIR_CLASSES[p][1]));
        col_labels[p] = col_text[p];
        if (a == (size_t)-1 || b == (size_t)-1) continue;   /* --limit left a class out: a blank column */
        float *col[ROWS];
        for (int row = 0; row < ROWS; row++) col[row] = images + ((size_t)row * PAIRS + p) * FASHION_PIXELS;
        size_t pair[2] = { a, b };
        float both[2 * FASHION_PIXELS];
        images_to_float(both, &ctx->fm->test.images, pair, 2);
        memcpy(col[0], both, sizeof both / 2);
        memcpy(col[1], both + FASHION_PIXELS, sizeof both / 2);
        for (int i = 0; i < FASHION_PIXELS; i++) col[2][i] = 0.5f * (both[i] + both[FASHION_PIXELS + i]);   /* pixel mean */
        net_run *nets[2] = { ae, vae };
        for (int m = 0; m < 2 && rc == AE_OK; m++) {
            float mid[2];
            for (int j = 0; j < 2; j++)    /* the mean of the two codes (μ for the VAE) */
                mid[j] = 0.5f * (nets[m]->codes[2 * a + j] + nets[m]->codes[2 * b + j]);
            rc = vae_decode_images(nets[m]->v, mid, 1, col[3 + m]);
        }
    }
    const char *row_labels[ROWS] = { "image A", "image B", "pixel mean", "AE: mean code", "VAE: mean code" };
    if (rc == AE_OK)
        rc = t1_plot_images(ctx->run->out_dir, "pair_average", "(c) Pair averaging, L = 2: decode((code A + code B) / 2)",
                            images, ROWS, PAIRS, 28, row_labels, col_labels);
    if (rc == AE_OK) rc = program_render(ctx->run, "pair_average");
    free(images);
    return rc;
}

/* KL(N(m, C) ‖ N(0, I)) of the Gaussian fitted to n points: ½ (tr C + mᵀm − L − log det C), with
 * m their mean and C their covariance (log det C from a Cholesky factor, GSL). 0 when the points
 * have the prior's mean and covariance; it grows with every way they differ from it.
 * points (n, L), n > L. */
static int gaussian_fit_kl(double *kl, const float *points, size_t n, int latent)
{
    if (n <= (size_t)latent) return AE_ERROR(AE_EDOM, "%zu points cannot fit a %d-dimensional Gaussian", n, latent);
    gsl_matrix *c = gsl_matrix_calloc((size_t)latent, (size_t)latent);
    double *mean = calloc((size_t)latent, sizeof *mean);
    if (!c || !mean) {
        gsl_matrix_free(c);
        free(mean);
        return AE_ERROR(AE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < latent; j++) mean[j] += points[i * latent + j] / (double)n;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < latent; j++)
            for (int k = 0; k <= j; k++) {
                double v = ((double)points[i * latent + j] - mean[j]) * ((double)points[i * latent + k] - mean[k]);
                *gsl_matrix_ptr(c, j, k) += v / (double)(n - 1);
            }
    double trace = 0.0, mean_sq = 0.0;
    for (int j = 0; j < latent; j++) {
        for (int k = 0; k < j; k++) gsl_matrix_set(c, k, j, gsl_matrix_get(c, j, k));
        trace += gsl_matrix_get(c, j, j);
        mean_sq += mean[j] * mean[j];
    }
    gsl_error_handler_t *saved = gsl_set_error_handler_off();
    int status = gsl_linalg_cholesky_decomp1(c);
    gsl_set_error_handler(saved);
    int rc = AE_OK;
    if (status) rc = AE_ERROR(AE_ENUMERIC, "the codes' covariance is singular: they lie in fewer than %d dimensions", latent);
    else {
        double log_det = 0.0;
        for (int j = 0; j < latent; j++) log_det += 2.0 * log(gsl_matrix_get(c, j, j));   /* det C = Π L_jj² */
        *kl = 0.5 * (trace + mean_sq - latent - log_det);
    }
    gsl_matrix_free(c);
    free(mean);
    return rc;
}

/* The codes the decoder sees during training: μ for the AE, one draw z = μ + σ ε per image for the VAE.
 * Fitted with a Gaussian and compared with the prior N(0, I) the draws of (d) come from. */
static int code_prior_kl(t1_context *ctx, net_run *r)
{
    size_t count = ctx->fm->test.images.count, values = count * (size_t)r->latent;
    float *z = malloc(values * sizeof *z);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!z || !rng) {
        free(z);
        gsl_rng_free(rng);
        return AE_ERROR(AE_ENOMEM, "out of memory");
    }
    gsl_rng_set(rng, ctx->common->seed + 88);
    if (r->v->cfg.deterministic) memcpy(z, r->codes, values * sizeof *z);
    else {
        float *eps = malloc(values * sizeof *eps);
        if (!eps) {
            free(z);
            gsl_rng_free(rng);
            return AE_ERROR(AE_ENOMEM, "out of memory");
        }
        sampling_draw_eps(eps, values, rng);
        sampling_forward(z, r->codes, r->logvars, eps, (int)count, r->latent);   /* z = μ + σ ε */
        free(eps);
    }
    int rc = gaussian_fit_kl(&r->code_kl, z, count, r->latent);
    free(z);
    gsl_rng_free(rng);
    return rc;
}

/* (d) decoded draws from N(0, I), the same draws for both models */
static int prior_draws(t1_context *ctx, net_run *ae, net_run *vae, float *shown)
{
    int latent = ae->latent;
    float *z = malloc((size_t)DRAWS_SHOWN * latent * sizeof *z);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!z || !rng) {
        free(z);
        gsl_rng_free(rng);
        return AE_ERROR(AE_ENOMEM, "out of memory for the prior draws");
    }
    gsl_rng_set(rng, ctx->common->seed + 77);
    sampling_draw_eps(z, (size_t)DRAWS_SHOWN * latent, rng);          /* z ~ N(0, I) */
    net_run *nets[2] = { ae, vae };
    int rc = AE_OK;
    for (int m = 0; m < 2 && rc == AE_OK; m++) {
        for (int start = 0; start < DRAWS_SHOWN && rc == AE_OK; start += nets[m]->v->cfg.max_batch) {
            int n = DRAWS_SHOWN - start < nets[m]->v->cfg.max_batch ? DRAWS_SHOWN - start : nets[m]->v->cfg.max_batch;
            rc = vae_decode_images(nets[m]->v, z + (size_t)start * latent, n,
                                   shown + ((size_t)m * DRAWS_SHOWN + start) * FASHION_PIXELS);
        }
        if (rc == AE_OK) rc = code_prior_kl(ctx, nets[m]);
    }
    free(z);
    gsl_rng_free(rng);
    return rc;
}

/* The tables of (b) and (d) as Markdown: ae_vae_table.md. runs (n_runs): AE and VAE with L = latent,
 * then with L = 2 (unless latent is 2). */
static int write_ae_vae_table(t1_context *ctx, const net_run *runs, int n_runs)
{
    atomic_file af;
    int rc = program_open_file(ctx->run, &af, "ae_vae_table.md");
    if (rc != AE_OK) return rc;
    FILE *md = af.fp;
    fprintf(md, "| model | L | train −log p(x\\|z) | train KL | test −log p(x\\|z) | test KL | test loss | "
            "½ E‖μ‖² | mean σ | active dims | codes' KL to N(0, I) | test MSE from μ | test −log p(x\\|μ) |\n");
    fprintf(md, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int k = 0; k < n_runs; k++) {
        const net_run *r = &runs[k];
        const elbo_terms *train = &r->train[r->epochs_run - 1], *test = &r->test[r->epochs_run - 1];
        char train_kl[32] = "–", test_kl[32] = "–", sigma[32] = "–";
        if (!r->v->cfg.deterministic) {
            snprintf(train_kl, sizeof train_kl, "%.3f", train->kl);
            snprintf(test_kl, sizeof test_kl, "%.3f", test->kl);
            snprintf(sigma, sizeof sigma, "%.4f", r->sigma_mean);
        }
        fprintf(md, "| %s | %d | %.3f | %s | %.3f | %s | %.3f | %.3f | %s | %d | %.3f | %.5f | %.3f |\n", r->name,
                r->latent, -train->recon, train_kl, -test->recon, test_kl, -test->elbo, r->mu_sq_half, sigma,
                r->active_dims, r->code_kl, r->test_mse, r->test_bce);
    }
    fprintf(md, "\nNats per image. The AE's loss has no KL term; ½ E‖μ‖² is the part of a KL the means would pay. "
            "Active dims: Var(μ_j) > 0.01 over the test images. The codes' KL fits a Gaussian to what the decoder sees "
            "(AE: μ; VAE: one z = μ + σε per test image).\n");
    return atomic_commit(&af);
}

int t1_part_vae(t1_context *ctx)
{
    const t1_options *opt = ctx->opt;
    int epochs = ctx->common->epochs, latent = opt->latent;
    program_heading("(b) One network, trained as an AE and as a VAE");
    printf("Encoder Dense(784 -> %d, ReLU) -> Dense(%d -> 2L) = [mu | log sigma^2]; decoder Dense(L -> %d, ReLU)\n"
           "-> Dense(%d -> 784) = logits, p(x|z) = Bernoulli(sigmoid(logits)). The same layers and the same\n"
           "initial weights, trained two ways (Adam %g, batches of %d, %d epoch%s):\n"
           "  AE   z = mu (log sigma^2 unused); loss = -log p(x|z), the binary cross-entropy summed over pixels\n"
           "  VAE  z = mu + sigma * eps, eps ~ N(0, I); loss = -log p(x|z) + KL(N(mu, sigma^2) || N(0, I)) = -ELBO\n\n",
           opt->hidden, opt->hidden, opt->hidden, opt->hidden, opt->lr, opt->batch, epochs, epochs == 1 ? "" : "s");
    net_run runs[4];           /* AE and VAE with L = latent, then with L = 2 */
    memset(runs, 0, sizeof runs);
    double started = program_seconds();
    int rc = train_net(ctx, &runs[0], "AE", latent, 0, 10);
    if (rc == AE_OK) rc = train_net(ctx, &runs[1], "VAE", latent, 1, 10);
    net_run *ae = &runs[0], *vae = &runs[1];
    if (rc == AE_OK) {
        const elbo_terms *ta = &ae->test[ae->epochs_run - 1], *tv = &vae->test[vae->epochs_run - 1];
        printf("\nThe two loss terms after %d epochs, test images, nats per image (L = %d):\n", epochs, latent);
        printf("  %-5s %12s %13s %10s %14s %10s %12s %12s\n", "", "-log p(x|z)", "KL", "loss", "1/2 E||mu||^2",
               "mean sigma", "active dims", "MSE from mu");
        printf("  %-5s %12.3f %13s %10.3f %14.3f %10s %9d/%-2d %12.5f\n", "AE", -ta->recon, "(not in loss)", -ta->elbo,
               ae->mu_sq_half, "-", ae->active_dims, latent, ae->test_mse);
        printf("  %-5s %12.3f %13.3f %10.3f %14.3f %10.4f %9d/%-2d %12.5f\n", "VAE", -tv->recon, tv->kl, -tv->elbo,
               vae->mu_sq_half, vae->sigma_mean, vae->active_dims, latent, vae->test_mse);
        printf("  active dims: dimensions j whose mean mu_j varies over the test images, Var(mu_j) > 0.01.\n");
        printf("  Over training, on the test images: the VAE's -log p(x|z) went from %.1f (untrained) to %.1f after\n"
               "  epoch 1 and %.1f at the end, its KL from %.3f to %.3f and %.3f; the AE's -log p(x|z) from %.1f to\n"
               "  %.1f and %.1f.\n", -vae->test_start.recon, -vae->test[0].recon, -tv->recon, vae->test_start.kl,
               vae->test[0].kl, tv->kl, -ae->test_start.recon, -ae->test[0].recon, -ta->recon);
        printf("  1/2 E||mu||^2 is the part of a KL that the means pay (for the AE, what a KL would charge its\n"
               "  codes as N(mu, I)): the AE's went from %.3g before training to %.3g after epoch 1 and %.3g at the end,\n"
               "  the VAE's from %.3g to %.3g and %.3g.\n", ae->mu_sq_start, ae->mu_sq_history[0], ae->mu_sq_half,
               vae->mu_sq_start, vae->mu_sq_history[0], vae->mu_sq_half);
        rc = net_results(ctx, ae);
        if (rc == AE_OK) rc = net_results(ctx, vae);
        if (rc == AE_OK) rc = figure_terms(ctx, ae, vae);
    }

    program_heading("(c) The two latent spaces, L = 2");
    /* with --latent 2 the networks of (b) are already the 2-D ones */
    int n_runs = latent == 2 ? 2 : 4;
    if (rc == AE_OK && n_runs == 4) rc = train_net(ctx, &runs[2], "AE", 2, 0, 20);
    if (rc == AE_OK && n_runs == 4) rc = train_net(ctx, &runs[3], "VAE", 2, 1, 20);
    net_run *ae2 = &runs[n_runs - 2], *vae2 = &runs[n_runs - 1];
    double box_ae[4], box_vae[4];
    if (rc == AE_OK && n_runs == 4) rc = net_results(ctx, ae2);
    if (rc == AE_OK && n_runs == 4) rc = net_results(ctx, vae2);
    if (rc == AE_OK) {
        char title_a[128], title_b[128];
        snprintf(title_a, sizeof title_a, "AE: the codes z = mu");
        snprintf(title_b, sizeof title_b, "VAE: the means mu (mean sigma %.3g)", vae2->sigma_mean);
        rc = t1_plot_latent_pair(ctx->run->out_dir, "latent_codes", "(c) The test images' codes, L = 2, by class",
                                 ae2->codes, title_a, vae2->codes, title_b, ctx->fm->test.labels.data,
                                 ctx->fm->test.images.count);
        if (rc == AE_OK) rc = program_render(ctx->run, "latent_codes");
    }
    if (rc == AE_OK) rc = figure_grid(ctx, ae2, "latent_grid_ae", box_ae);
    if (rc == AE_OK) rc = figure_grid(ctx, vae2, "latent_grid_vae", box_vae);
    if (rc == AE_OK) {
        printf("\nThe test codes span (from the %g to the %g quantile of each axis):\n", GRID_QUANTILE, 1 - GRID_QUANTILE);
        printf("  AE   z1 %8.3f .. %8.3f   z2 %8.3f .. %8.3f   (area %.4g)\n", box_ae[0], box_ae[1], box_ae[2], box_ae[3],
               (box_ae[1] - box_ae[0]) * (box_ae[3] - box_ae[2]));
        printf("  VAE  z1 %8.3f .. %8.3f   z2 %8.3f .. %8.3f   (area %.4g); N(0, I) puts 95%% of its mass within "
               "2.45 of 0\n", box_vae[0], box_vae[1], box_vae[2], box_vae[3],
               (box_vae[1] - box_vae[0]) * (box_vae[3] - box_vae[2]));
        printf("  The VAE's posteriors have a mean sigma of %.4g: each image is a small cloud, not a point.\n",
               vae2->sigma_mean);
        const char *names[4] = { "ae_z1_lo", "ae_z1_hi", "ae_z2_lo", "ae_z2_hi" };
        for (int k = 0; k < 4 && rc == AE_OK; k++) {
            rc = results_add_double(ctx->run->res, names[k] + 0, box_ae[k]);
            char key[32];
            snprintf(key, sizeof key, "vae_%s", names[k] + 3);
            if (rc == AE_OK) rc = results_add_double(ctx->run->res, key, box_vae[k]);
        }
    }
    if (rc == AE_OK) rc = figure_pairs(ctx, ae2, vae2);

    program_heading("(d) Generation, and reconstruction at the same size");
    float *shown = malloc((size_t)2 * DRAWS_SHOWN * FASHION_PIXELS * sizeof *shown);
    if (!shown && rc == AE_OK) rc = AE_ERROR(AE_ENOMEM, "out of memory for the prior draws");
    float *shown2 = shown ? malloc((size_t)2 * DRAWS_SHOWN * FASHION_PIXELS * sizeof *shown2) : NULL;
    if (!shown2 && rc == AE_OK) rc = AE_ERROR(AE_ENOMEM, "out of memory for the prior draws");
    if (rc == AE_OK) rc = prior_draws(ctx, ae, vae, shown);
    if (rc == AE_OK) rc = prior_draws(ctx, ae2, vae2, shown2);
    if (rc == AE_OK) {
        const char *labels[10];
        char text[10][40];
        for (int row = 0; row < 10; row++) {   /* each block named once, on its first row */
            snprintf(text[row], sizeof text[row], "%s", row == 0 ? "AE" : row == 5 ? "VAE" : "");
            labels[row] = text[row];
        }
        char title[160];
        snprintf(title, sizeof title, "(d) Decoded draws z ~ N(0, I), the same draws for both models, L = %d", latent);
        rc = t1_plot_images(ctx->run->out_dir, "prior_samples", title, shown, 10, DRAWS_SHOWN / 5, 28, labels, NULL);
        if (rc == AE_OK) rc = program_render(ctx->run, "prior_samples");
        if (rc == AE_OK)
            rc = t1_plot_images(ctx->run->out_dir, "prior_samples_2d",
                                "(d) Decoded draws z ~ N(0, I), the same draws for both models, L = 2", shown2, 10,
                                DRAWS_SHOWN / 5, 28, labels, NULL);
        if (rc == AE_OK) rc = program_render(ctx->run, "prior_samples_2d");
    }
    if (rc == AE_OK) {
        printf("Generating means decoding z ~ N(0, I). How far are the codes the decoder was trained on from that\n"
               "prior? KL(N(m, C) || N(0, I)) of a Gaussian fitted to the test images' codes (AE: mu; VAE: one\n"
               "z = mu + sigma eps each), in nats; 0 when their mean and covariance are the prior's:\n");
        printf("  L = %2d   AE %10.3f   VAE %8.3f\n", latent, ae->code_kl, vae->code_kl);
        if (n_runs == 4) printf("  L =  2   AE %10.3f   VAE %8.3f\n", ae2->code_kl, vae2->code_kl);
        printf("\nClean reconstruction error of the test images, decoding z = mu (the same network and size):\n");
        printf("  %-8s %12s %12s %14s %14s\n", "latent", "AE MSE", "VAE MSE", "AE -log p", "VAE -log p");
        printf("  L = %-4d %12.5f %12.5f %14.3f %14.3f\n", latent, ae->test_mse, vae->test_mse, ae->test_bce, vae->test_bce);
        if (n_runs == 4)
            printf("  L = %-4d %12.5f %12.5f %14.3f %14.3f\n", 2, ae2->test_mse, vae2->test_mse, ae2->test_bce,
                   vae2->test_bce);
        rc = write_ae_vae_table(ctx, runs, n_runs);
        rc |= results_add_int(ctx->run->res, "latent", latent);
        for (int k = 0; k < n_runs; k++) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "%s_latent%d", runs[k].name[0] == 'A' ? "ae" : "vae", runs[k].latent);
            rc |= t1_result(ctx, prefix, "code_prior_kl", runs[k].code_kl);
        }
        rc |= results_add_double(ctx->run->res, "ae_vae_seconds", program_seconds() - started);
        if (rc != AE_OK) rc = error_code();
    }
    free(shown);
    free(shown2);
    for (int k = 0; k < 4; k++) net_run_free(&runs[k]);
    return rc;
}

