/* main.c: week05-task1, Task 1 of the week-5 sheet: autoencoders and VAEs compared, each
 * claim of the written answers shown by an experiment on Fashion-MNIST.
 *
 *   (a) six kinds of autoencoder, one network Dense(784→U, ReLU) → Dense(U→784, sigmoid):
 *       undercomplete, overcomplete, denoising, contractive, bottleneck and sparse, measured
 *       on the same test images (t1_kinds.c)
 *   (b) one network trained as an AE (reconstruction only) and as a VAE (reconstruction + KL):
 *       the two loss terms per epoch
 *   (c) the same with a 2-D latent: the test codes side by side, decoded grids, pair averaging
 *   (d) decoded draws z ~ N(0, I) from both, and their reconstruction errors at the same size
 *
 * This file holds the options, the printing, the figures and results.tsv; the maths of the
 * kinds is t1_kinds.c, the VAE is the library's (vae.h).
 */
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

#define PROGRAM "week05-task1"
#define SHOWN FASHION_CLASSES          /* one test image per class in the image figures */
#define FILTERS_SHOWN 12               /* encoder rows drawn per kind */

static const program_info prog_info = {
    PROGRAM,
    "Task 1: autoencoders and VAEs compared on Fashion-MNIST: (a) six kinds of autoencoder measured "
    "side by side, (b) one network trained as an AE and as a VAE, (c) their 2-D latent spaces, "
    "(d) decoded draws from N(0, I)",
    "Parts (--part):\n"
    "  kinds   (a) undercomplete, overcomplete, denoising, contractive, bottleneck and sparse\n"
    "  vae     (b)-(d) the AE and the VAE, with a latent of --latent and of 2\n"
    "  all     both (the default)\n"
    "Examples:\n"
    "  week05-task1                                  everything on the full data (about 2 minutes)\n"
    "  week05-task1 --part kinds --epochs 2          a quick look at (a)\n"
    "  week05-task1 --limit 2000 --epochs 2          everything, small and fast\n"
    "\n"
    "Writes into the --out folder (default out/week05-task1): results.tsv, kinds_table.md,\n"
    "ae_vae_table.md and the figures (.dat, .gp and .png): kinds_loss, kinds_clean, kinds_noisy,\n"
    "kinds_noise, kinds_filters, ae_vae_terms, latent_codes, latent_grid_ae, latent_grid_vae,\n"
    "pair_average, prior_samples, prior_samples_2d.",
    CLI_USES_DATA | CLI_TRAINS
};

static const char *const PART_CHOICES = "all|kinds|vae";
enum { PART_ALL, PART_KINDS, PART_VAE };

typedef struct {
    int part;
    int batch;
    double lr;
    double noise;            /* the denoising kind's training noise, and the test noise of every kind */
    int code;                /* U of the undercomplete, denoising, contractive and sparse kinds */
    int overcomplete_code;
    double contractive;      /* λ_c */
    double sparsity;         /* λ_s */
    int probes;              /* Hutchinson probes per image for ‖J_r‖_F² */
    int latent;              /* L of the AE and VAE of (b) and (d) */
    int hidden;              /* their hidden layer */
    int threads;
} options;

/* What every part needs. */
typedef struct {
    const options *opt;
    const common_options *common;
    const fashion_mnist *fm;
    results *res;
    size_t shown_index[SHOWN];   /* the first test image of each class */
    int n_shown;
    int figures;
} run_context;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void heading(const char *text)
{
    printf("\n%s\n", text);
    for (const char *c = text; *c; c++)
        if ((*c & 0xC0) != 0x80) putchar('=');   /* one '=' per character, not per UTF-8 byte */
    putchar('\n');
}

static int render(run_context *ctx, const char *name)
{
    ctx->figures++;
    if (ctx->common->no_plot) return AE_OK;
    int rendered;
    return plot_render(ctx->common->out_dir, name, &rendered);
}

static int add_double(run_context *ctx, const char *prefix, const char *what, double value)
{
    char key[128];
    snprintf(key, sizeof key, "%s_%s", prefix, what);
    return results_add_double(ctx->res, key, value);
}

static int add_int(run_context *ctx, const char *prefix, const char *what, long value)
{
    char key[128];
    snprintf(key, sizeof key, "%s_%s", prefix, what);
    return results_add_int(ctx->res, key, value);
}

/* ================================================================ (a) the kinds */

typedef struct {
    t1_recipe recipe;
    size_t params;
    int epochs_run;
    t1_loss_terms history[TRAIN_MAX_EPOCHS];   /* per epoch, while training */
    t1_metrics trend[TRAIN_MAX_EPOCHS];        /* per epoch, on the test images (without ‖J_r‖) */
    double seconds;
    t1_metrics metrics;
    float *clean_out, *noisy_out;              /* (SHOWN, 784) reconstructions for the figures */
    float *filters;                            /* (FILTERS_SHOWN, 784) encoder rows, scaled to [0, 1] */
} kind_run;

/* What each kind changes, for the printed list. */
static void describe_kind(char *text, size_t len, const t1_recipe *r)
{
    switch (r->kind) {
    case T1_UNDERCOMPLETE: snprintf(text, len, "code %d < 784: the baseline the others change one thing of", r->code); break;
    case T1_OVERCOMPLETE: snprintf(text, len, "code %d > 784, nothing else", r->code); break;
    case T1_DENOISING: snprintf(text, len, "inputs clip(x + %g N(0, 1), 0, 1), clean targets", r->train_noise); break;
    case T1_CONTRACTIVE: snprintf(text, len, "+ %g x ||J_f(x)||_F^2, the encoder's Jacobian", r->contractive); break;
    case T1_BOTTLENECK: snprintf(text, len, "code %d", r->code); break;
    case T1_SPARSE: snprintf(text, len, "+ %g x sum_j |h_j|, the L1 norm of the code", r->sparsity); break;
    case T1_KINDS: text[0] = '\0'; break;
    }
}

/* Encoder rows W_j drawn as images, each stretched to [0, 1]; kinds with fewer units get grey. */
static void copy_filters(float *filters, const t1_autoencoder *ae)
{
    const float *w = ae->encoder->layers[0].weight;     /* (U, 784) */
    for (int f = 0; f < FILTERS_SHOWN; f++) {
        float *image = filters + (size_t)f * FASHION_PIXELS;
        if (f >= ae->recipe.code) {
            for (int i = 0; i < FASHION_PIXELS; i++) image[i] = 0.5f;
            continue;
        }
        const float *row = w + (size_t)f * FASHION_PIXELS;
        float lo = row[0], hi = row[0];
        for (int i = 1; i < FASHION_PIXELS; i++) {
            if (row[i] < lo) lo = row[i];
            if (row[i] > hi) hi = row[i];
        }
        float span = hi > lo ? hi - lo : 1.0f;
        for (int i = 0; i < FASHION_PIXELS; i++) image[i] = (row[i] - lo) / span;
    }
}

/* Trains one kind and measures it on the test images. */
static int run_kind(run_context *ctx, kind_run *k, const batch_source *train, const batch_source *clean,
                    const batch_source *noisy, gsl_rng *rng, gsl_rng *probe_rng)
{
    const options *opt = ctx->opt;
    t1_autoencoder *ae = t1_autoencoder_alloc(&k->recipe, opt->lr, opt->batch, rng);
    if (!ae) return error_code();
    int rc = t1_autoencoder_set_threads(ae, opt->threads);
    size_t *order = malloc(train->count * sizeof *order);
    if (!order) rc = AE_ERROR(AE_ENOMEM, "out of memory for the training order");
    k->params = t1_autoencoder_params(ae);
    const char *name = t1_kind_name(k->recipe.kind);
    double started = now_seconds();
    for (int e = 0; e < ctx->common->epochs && rc == AE_OK; e++) {
        double t0 = now_seconds();
        t1_loss_terms *h = &k->history[e];
        rc = t1_train_epoch(ae, train, order, rng, h);
        if (rc == AE_OK) rc = t1_evaluate(ae, clean, noisy, 0, probe_rng, &k->trend[e]);
        if (rc != AE_OK) break;
        k->epochs_run = e + 1;
        if (!ctx->common->quiet) {
            printf("  %-13s epoch %2d/%d: train MSE %.5f", name, e + 1, ctx->common->epochs, h->mse);
            if (k->recipe.contractive > 0) printf(", ||J_f||_F^2 %.2f", h->contractive);
            if (k->recipe.sparsity > 0) printf(", sum|h| %.2f", h->sparsity);
            printf("; test MSE clean %.5f, noisy %.5f  (%.1f s)\n", k->trend[e].clean_mse, k->trend[e].noisy_mse,
                   now_seconds() - t0);
            fflush(stdout);
        }
    }
    k->seconds = now_seconds() - started;
    if (rc == AE_OK) rc = t1_evaluate(ae, clean, noisy, opt->probes, probe_rng, &k->metrics);

    /* the figures' images: the shown test images, clean and noisy, through this kind */
    float *x = malloc((size_t)SHOWN * 2 * FASHION_PIXELS * sizeof *x);
    if (!x && rc == AE_OK) rc = AE_ERROR(AE_ENOMEM, "out of memory for the figure's images");
    int n = ctx->n_shown;
    if (rc == AE_OK) rc = clean->fill(clean->ctx, ctx->shown_index, n, x, x + (size_t)SHOWN * FASHION_PIXELS);
    if (rc == AE_OK) rc = t1_forward(ae, x, x, n, NULL);
    if (rc == AE_OK) memcpy(k->clean_out, ae->out, (size_t)n * FASHION_PIXELS * sizeof *x);
    if (rc == AE_OK) rc = noisy->fill(noisy->ctx, ctx->shown_index, n, x, x + (size_t)SHOWN * FASHION_PIXELS);
    if (rc == AE_OK) rc = t1_forward(ae, x, x, n, NULL);
    if (rc == AE_OK) memcpy(k->noisy_out, ae->out, (size_t)n * FASHION_PIXELS * sizeof *x);
    if (rc == AE_OK) copy_filters(k->filters, ae);
    free(x);
    free(order);
    t1_autoencoder_free(ae);
    return rc;
}

/* The identity map as a reference row: clean error 0, and the noise itself as the noisy error. */
static int identity_noisy_mse(const batch_source *noisy, double *mse)
{
    enum { CHUNK = 256 };
    float *x = malloc((size_t)CHUNK * 2 * FASHION_PIXELS * sizeof *x);
    size_t index[CHUNK];
    if (!x) return AE_ERROR(AE_ENOMEM, "out of memory");
    double sum = 0.0;
    int rc = AE_OK;
    for (size_t start = 0; start < noisy->count && rc == AE_OK; start += CHUNK) {
        int n = (int)(noisy->count - start < CHUNK ? noisy->count - start : CHUNK);
        for (int i = 0; i < n; i++) index[i] = start + (size_t)i;
        float *target = x + (size_t)CHUNK * FASHION_PIXELS;
        rc = noisy->fill(noisy->ctx, index, n, x, target);
        for (size_t i = 0; i < (size_t)n * FASHION_PIXELS && rc == AE_OK; i++) {
            double d = (double)x[i] - target[i];
            sum += d * d;
        }
    }
    free(x);
    *mse = sum / ((double)noisy->count * FASHION_PIXELS);
    return rc;
}

/* "3.2x lower" / "1.4x higher" / "about the same" */
static const char *ratio_text(char *buf, size_t len, double value, double reference)
{
    double ratio = value / reference;
    if (!isfinite(ratio)) snprintf(buf, len, "n/a");
    else if (ratio > 0.95 && ratio < 1.05) snprintf(buf, len, "about the same as");
    else if (ratio < 1.0) snprintf(buf, len, "%.2gx lower than", 1.0 / ratio);
    else snprintf(buf, len, "%.2gx higher than", ratio);
    return buf;
}

/* One line per kind, read off the numbers against the undercomplete baseline and the identity. */
static void kind_verdict(char *text, size_t len, const kind_run *k, const kind_run *base, double identity_noisy)
{
    const t1_metrics *m = &k->metrics, *b = &base->metrics;
    char clean[40], noisy[40], jac[40], recon[40];
    ratio_text(clean, sizeof clean, m->clean_mse, b->clean_mse);
    ratio_text(noisy, sizeof noisy, m->noisy_mse, b->noisy_mse);
    ratio_text(jac, sizeof jac, m->jacobian, b->jacobian);
    ratio_text(recon, sizeof recon, m->recon_gain, b->recon_gain);
    /* a penalty on h paid by rescaling: a smaller encoder and a larger decoder than the baseline's */
    int rescaled = m->encoder_norm < 0.8 * b->encoder_norm && m->decoder_norm > 1.25 * b->decoder_norm;
    char norms[160];
    snprintf(norms, sizeof norms, "||W||_F %.3g vs %.3g, the decoder's ||V||_F %.3g vs %.3g", m->encoder_norm,
             b->encoder_norm, m->decoder_norm, b->decoder_norm);
    switch (k->recipe.kind) {
    case T1_UNDERCOMPLETE:
        snprintf(text, len, "the baseline: %d numbers per image keep the clean error at %.4f; %.0f%% of the "
                 "input noise's energy reaches the output (the identity passes 100%%)",
                 k->recipe.code, m->clean_mse, 100 * m->noise_gain);
        break;
    case T1_OVERCOMPLETE: {
        const t1_metrics *first = &k->trend[0], *last = &k->trend[k->epochs_run - 1];
        int drifts = last->clean_mse < first->clean_mse && last->noise_gain > first->noise_gain;
        snprintf(text, len, "clean error %s the baseline, noisy error %s it; from epoch 1 to %d the clean error "
                 "went from %.4f to %.4f, the noisy one from %.4f to %.4f, the noise passed from %.0f%% to %.0f%%: %s "
                 "(||J_r||^2/D = %.3f; identity 1, baseline %.3f)", clean, noisy, k->epochs_run, first->clean_mse,
                 last->clean_mse, first->noisy_mse, last->noisy_mse, 100 * first->noise_gain, 100 * last->noise_gain,
                 drifts ? "it drifts towards copying its input, and is still far from the identity"
                        : "no drift towards copying its input", m->recon_gain, b->recon_gain);
        break;
    }
    case T1_DENOISING:
        snprintf(text, len, "noisy error %s the baseline (%.4f vs %.4f; the noise itself: %.4f), clean error %s it; "
                 "%s%.0f%% of the noise passes (baseline %.0f%%)", noisy, m->noisy_mse, b->noisy_mse, identity_noisy,
                 clean, m->noise_gain < b->noise_gain ? "only " : "", 100 * m->noise_gain, 100 * b->noise_gain);
        break;
    case T1_CONTRACTIVE:
        snprintf(text, len, "encoder Jacobian %s the baseline, %s (%s); the whole map's ||J_r||^2, which rescaling "
                 "cannot change, is %s it; noisy error %s it, clean error %s it", jac,
                 rescaled ? "partly by rescaling" : "not by rescaling", norms, recon, noisy, clean);
        break;
    case T1_BOTTLENECK:
        snprintf(text, len, "two numbers per image: clean error %s the baseline (%.4f); almost no noise passes "
                 "(%.0f%%), because almost nothing passes", clean, m->clean_mse, 100 * m->noise_gain);
        break;
    case T1_SPARSE:
        snprintf(text, len, "%.0f%% of the units on per image (baseline %.0f%%), %.0f%% never on, so of the living "
                 "units %.0f%% are on per image; clean error %s the baseline; mean h %.3g vs %.3g, %s%s",
                 100 * m->active, 100 * b->active, 100 * m->dead,
                 m->dead < 1 ? 100 * m->active / (1 - m->dead) : 0.0, clean, m->code_mean, b->code_mean, norms,
                 rescaled ? ": part of the penalty was paid by rescaling" : "");
        break;
    case T1_KINDS: text[0] = '\0'; break;
    }
}

static int kinds_results(run_context *ctx, const kind_run *runs, double identity_noisy)
{
    int rc = results_add_double(ctx->res, "identity_noisy_mse", identity_noisy);
    for (int i = 0; i < T1_KINDS && rc == AE_OK; i++) {
        const kind_run *k = &runs[i];
        const t1_metrics *m = &k->metrics;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "kind_%s", t1_kind_name(k->recipe.kind));
        rc |= add_int(ctx, prefix, "code", k->recipe.code);
        rc |= add_int(ctx, prefix, "params", (long)k->params);
        rc |= add_double(ctx, prefix, "train_noise", k->recipe.train_noise);
        rc |= add_double(ctx, prefix, "contractive_weight", k->recipe.contractive);
        rc |= add_double(ctx, prefix, "sparsity_weight", k->recipe.sparsity);
        rc |= add_int(ctx, prefix, "epochs", k->epochs_run);
        rc |= add_double(ctx, prefix, "train_mse", k->history[k->epochs_run - 1].mse);
        rc |= add_double(ctx, prefix, "train_loss", k->history[k->epochs_run - 1].loss);
        rc |= add_double(ctx, prefix, "clean_mse", m->clean_mse);
        rc |= add_double(ctx, prefix, "noisy_mse", m->noisy_mse);
        rc |= add_double(ctx, prefix, "noise_gain", m->noise_gain);
        rc |= add_double(ctx, prefix, "jacobian", m->jacobian);
        rc |= add_double(ctx, prefix, "jacobian_sq", m->jacobian_sq);
        rc |= add_double(ctx, prefix, "recon_gain", m->recon_gain);
        rc |= add_double(ctx, prefix, "active", m->active);
        rc |= add_double(ctx, prefix, "dead", m->dead);
        rc |= add_double(ctx, prefix, "code_mean", m->code_mean);
        rc |= add_double(ctx, prefix, "encoder_norm", m->encoder_norm);
        rc |= add_double(ctx, prefix, "decoder_norm", m->decoder_norm);
        rc |= add_double(ctx, prefix, "seconds", k->seconds);
        for (int e = 0; e < k->epochs_run; e++) {
            char what[64];
            snprintf(what, sizeof what, "epoch%d_clean_mse", e + 1);
            rc |= add_double(ctx, prefix, what, k->trend[e].clean_mse);
            snprintf(what, sizeof what, "epoch%d_noisy_mse", e + 1);
            rc |= add_double(ctx, prefix, what, k->trend[e].noisy_mse);
            snprintf(what, sizeof what, "epoch%d_noise_gain", e + 1);
            rc |= add_double(ctx, prefix, what, k->trend[e].noise_gain);
        }
        if (rc != AE_OK) rc = error_code();
    }
    return rc;
}

/* The table, printed and as kinds_table.md. */
static int kinds_table(run_context *ctx, const kind_run *runs, double identity_noisy)
{
    char path[AE_PATH_MAX];
    atomic_file af;
    int rc = path_join(path, sizeof path, ctx->common->out_dir, "kinds_table.md");
    if (rc == AE_OK) rc = atomic_open(&af, path);
    if (rc != AE_OK) return rc;
    FILE *md = af.fp;
    printf("\n%-14s %5s %10s %10s %7s %9s %9s %7s %6s %7s\n", "kind", "U", "clean MSE", "noisy MSE", "noise",
           "||J_f||_F", "||J_r||^2", "active", "dead", "mean h");
    printf("%-14s %5s %10s %10s %7s %9s %9s %7s %6s %7s\n", "", "", "", "", "passed", "", "/ D", "", "", "");
    printf("%-14s %5s %10.5f %10.5f %6.1f%% %9s %9.3f %7s %6s %7s\n", "identity", "-", 0.0, identity_noisy, 100.0,
           "-", 1.0, "-", "-", "-");
    fprintf(md, "| kind | code U | clean test MSE | noisy test MSE | noise passed | mean ‖J_f(x)‖_F | "
            "‖J_r(x)‖_F² / D | active units | dead units | mean code h |\n");
    fprintf(md, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    fprintf(md, "| identity (x̂ = x), for reference | – | 0 | %.5f | 100%% | – | 1 | – | – | – |\n", identity_noisy);
    for (int i = 0; i < T1_KINDS; i++) {
        const kind_run *k = &runs[i];
        const t1_metrics *m = &k->metrics;
        printf("%-14s %5d %10.5f %10.5f %6.1f%% %9.3f %9.3f %6.1f%% %5.1f%% %7.3f\n", t1_kind_name(k->recipe.kind),
               k->recipe.code, m->clean_mse, m->noisy_mse, 100 * m->noise_gain, m->jacobian, m->recon_gain,
               100 * m->active, 100 * m->dead, m->code_mean);
        fprintf(md, "| %s | %d | %.5f | %.5f | %.1f%% | %.3f | %.3f | %.1f%% | %.1f%% | %.3f |\n",
                t1_kind_name(k->recipe.kind), k->recipe.code, m->clean_mse, m->noisy_mse, 100 * m->noise_gain,
                m->jacobian, m->recon_gain, 100 * m->active, 100 * m->dead, m->code_mean);
    }
    printf("\nWhat each row shows (against the undercomplete baseline):\n");
    fprintf(md, "\nWhat each row shows (against the undercomplete baseline):\n\n");
    for (int i = 0; i < T1_KINDS; i++) {
        char text[900];
        kind_verdict(text, sizeof text, &runs[i], &runs[T1_UNDERCOMPLETE], identity_noisy);
        printf("  %-13s %s.\n", t1_kind_name(runs[i].recipe.kind), text);
        fprintf(md, "- **%s**: %s.\n", t1_kind_name(runs[i].recipe.kind), text);
    }
    return atomic_commit(&af);
}

static int kinds_figures(run_context *ctx, const kind_run *runs)
{
    const char *dir = ctx->common->out_dir;
    int n = ctx->n_shown;
    /* training MSE per epoch */
    int epochs = runs[0].epochs_run;
    double mse[T1_KINDS][TRAIN_MAX_EPOCHS];
    const double *ys[T1_KINDS];
    const char *labels[T1_KINDS];
    for (int i = 0; i < T1_KINDS; i++) {
        for (int e = 0; e < epochs; e++) mse[i][e] = runs[i].history[e].mse;
        ys[i] = mse[i];
        labels[i] = t1_kind_name(runs[i].recipe.kind);
    }
    int rc = t1_plot_epochs(dir, "kinds_loss", "(a) Training MSE per epoch of the six kinds (penalties not included)",
                            "mean squared error per pixel (log scale)", 1, 1, epochs, ys, labels, T1_KINDS);
    if (rc == AE_OK) rc = render(ctx, "kinds_loss");
    /* the share of the test noise that reaches the output, per epoch */
    for (int i = 0; i < T1_KINDS; i++)
        for (int e = 0; e < epochs; e++) mse[i][e] = 100.0 * runs[i].trend[e].noise_gain;
    if (rc == AE_OK)
        rc = t1_plot_epochs(dir, "kinds_noise", "(a) The share of the input noise's energy that reaches the output, "
                            "test images", "noise passed, % (the identity: 100)", 0, 1, epochs, ys, labels, T1_KINDS);
    if (rc == AE_OK) rc = render(ctx, "kinds_noise");

    /* reconstructions of the clean and of the noisy test images, one row per kind */
    float *grid = malloc((size_t)(T1_KINDS + 2) * SHOWN * FASHION_PIXELS * sizeof *grid);
    float *noisy_in = malloc((size_t)SHOWN * 2 * FASHION_PIXELS * sizeof *noisy_in);
    if (!grid || !noisy_in) {
        free(grid);
        free(noisy_in);
        return rc == AE_OK ? AE_ERROR(AE_ENOMEM, "out of memory for the figures") : rc;
    }
    const char *row_labels[T1_KINDS + 2], *col_labels[SHOWN];
    for (int i = 0; i < n; i++) col_labels[i] = fashion_class_name(ctx->fm->test.labels.data[ctx->shown_index[i]]);
    size_t row = (size_t)n * FASHION_PIXELS;
    for (int noisy = 0; noisy < 2 && rc == AE_OK; noisy++) {
        image_source_ctx sctx = { .images = &ctx->fm->test.images, .noise_factor = noisy ? ctx->opt->noise : 0.0,
                                  .noise_seed = ctx->common->seed + 1 };
        batch_source src = image_batch_source(&sctx);
        rc = src.fill(src.ctx, ctx->shown_index, n, noisy_in, noisy_in + (size_t)SHOWN * FASHION_PIXELS);
        int r = 0;
        if (noisy) {
            memcpy(grid, noisy_in + (size_t)SHOWN * FASHION_PIXELS, row * sizeof *grid);
            row_labels[r++] = "clean image";
        }
        memcpy(grid + r * row, noisy_in, row * sizeof *grid);
        row_labels[r++] = noisy ? "noisy input" : "test image";
        for (int i = 0; i < T1_KINDS; i++) {
            memcpy(grid + r * row, noisy ? runs[i].noisy_out : runs[i].clean_out, row * sizeof *grid);
            row_labels[r++] = t1_kind_name(runs[i].recipe.kind);
        }
        char title[160];
        snprintf(title, sizeof title, noisy ? "(a) The six kinds given noisy inputs (noise %g)" :
                 "(a) The six kinds given clean test images", ctx->opt->noise);
        const char *name = noisy ? "kinds_noisy" : "kinds_clean";
        if (rc == AE_OK) rc = t1_plot_images(dir, name, title, grid, r, n, 28, row_labels, col_labels);
        if (rc == AE_OK) rc = render(ctx, name);
    }
    /* the first encoder rows of each kind */
    for (int i = 0; i < T1_KINDS; i++) {
        memcpy(grid + (size_t)i * FILTERS_SHOWN * FASHION_PIXELS, runs[i].filters,
               (size_t)FILTERS_SHOWN * FASHION_PIXELS * sizeof *grid);
        row_labels[i] = t1_kind_name(runs[i].recipe.kind);
    }
    if (rc == AE_OK)
        rc = t1_plot_images(dir, "kinds_filters", "(a) The first 12 rows W_j of each encoder, each stretched to "
                            "black-white (grey: no such unit)", grid, T1_KINDS, FILTERS_SHOWN, 28, row_labels, NULL);
    if (rc == AE_OK) rc = render(ctx, "kinds_filters");
    free(grid);
    free(noisy_in);
    return rc;
}

static int part_kinds(run_context *ctx)
{
    const options *opt = ctx->opt;
    const common_options *common = ctx->common;
    heading("(a) Six kinds of autoencoder, one network");
    printf("Every kind: encoder Dense(784 -> U, ReLU), decoder Dense(U -> 784, sigmoid), trained on the MSE\n"
           "to the clean image with Adam (lr %g), batches of %d, %d epoch%s on %zu images.\n", opt->lr, opt->batch,
           common->epochs, common->epochs == 1 ? "" : "s", ctx->fm->train.images.count);
    printf("Each kind changes one thing of the undercomplete baseline:\n");

    kind_run runs[T1_KINDS];
    memset(runs, 0, sizeof runs);
    float *images = calloc((size_t)T1_KINDS * (2 * SHOWN + FILTERS_SHOWN) * FASHION_PIXELS, sizeof *images);
    if (!images) return AE_ERROR(AE_ENOMEM, "out of memory for the figures' images");
    for (int i = 0; i < T1_KINDS; i++) {
        t1_recipe *r = &runs[i].recipe;
        *r = t1_recipe_default((t1_kind)i);
        if (i != T1_BOTTLENECK && i != T1_OVERCOMPLETE) r->code = opt->code;
        if (i == T1_OVERCOMPLETE) r->code = opt->overcomplete_code;
        if (i == T1_DENOISING) r->train_noise = opt->noise;
        if (i == T1_CONTRACTIVE) r->contractive = opt->contractive;
        if (i == T1_SPARSE) r->sparsity = opt->sparsity;
        runs[i].clean_out = images + (size_t)i * (2 * SHOWN + FILTERS_SHOWN) * FASHION_PIXELS;
        runs[i].noisy_out = runs[i].clean_out + (size_t)SHOWN * FASHION_PIXELS;
        runs[i].filters = runs[i].noisy_out + (size_t)SHOWN * FASHION_PIXELS;
        char text[200];
        describe_kind(text, sizeof text, r);
        printf("  %-13s U = %4d  %s\n", t1_kind_name(r->kind), r->code, text);
    }
    printf("Measured on the %zu test images; the noisy ones get clip(x + %g N(0, 1), 0, 1), the same noise for "
           "every kind.\n\n", ctx->fm->test.images.count, opt->noise);

    /* the training images (noisy for the denoising kind), the test images clean and noisy */
    image_source_ctx train_clean = { .images = &ctx->fm->train.images };
    image_source_ctx train_noisy = { .images = &ctx->fm->train.images, .noise_factor = opt->noise,
                                     .noise_seed = common->seed };
    image_source_ctx test_clean = { .images = &ctx->fm->test.images };
    image_source_ctx test_noisy = { .images = &ctx->fm->test.images, .noise_factor = opt->noise,
                                    .noise_seed = common->seed + 1 };
    batch_source clean = image_batch_source(&test_clean), noisy = image_batch_source(&test_noisy);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937), *probe_rng = gsl_rng_alloc(gsl_rng_mt19937);
    int rc = rng && probe_rng ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory");
    double started = now_seconds();
    for (int i = 0; i < T1_KINDS && rc == AE_OK; i++) {
        /* every kind starts from the same seed: the differences are the kinds', not the draws' */
        gsl_rng_set(rng, common->seed);
        gsl_rng_set(probe_rng, common->seed + 2);
        batch_source train = image_batch_source(runs[i].recipe.train_noise > 0 ? &train_noisy : &train_clean);
        train_noisy.noise_factor = runs[i].recipe.train_noise > 0 ? runs[i].recipe.train_noise : opt->noise;
        rc = run_kind(ctx, &runs[i], &train, &clean, &noisy, rng, probe_rng);
    }
    double identity_noisy = 0.0;
    if (rc == AE_OK) rc = identity_noisy_mse(&noisy, &identity_noisy);
    if (rc == AE_OK) {
        printf("\nTrained and measured the six kinds in %.1f s.\n", now_seconds() - started);
        printf("noise passed = sum ||x^(x~) - x^(x)||^2 / sum ||x~ - x||^2; ||J_r||^2 / D: the whole map's Jacobian\n"
               "(%d random-sign probes per image; 1 for the identity); active: h > 0 on an image; dead: 0 on every "
               "test image.\n", opt->probes);
        rc = kinds_table(ctx, runs, identity_noisy);
    }
    if (rc == AE_OK) rc = kinds_results(ctx, runs, identity_noisy);
    if (rc == AE_OK) rc = add_double(ctx, "kinds", "seconds", now_seconds() - started);
    if (rc == AE_OK) rc = kinds_figures(ctx, runs);
    gsl_rng_free(rng);
    gsl_rng_free(probe_rng);
    free(images);
    return rc;
}

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
static int measure_net(run_context *ctx, net_run *r)
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
static int train_net(run_context *ctx, net_run *r, const char *name, int latent, int as_vae, unsigned long stream)
{
    const options *opt = ctx->opt;
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
    double started = now_seconds();
    for (int e = 0; e < ctx->common->epochs && rc == AE_OK; e++) {
        double t0 = now_seconds();
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
            printf(", 1/2 E||mu||^2 %7.3f  (%.1f s)\n", r->mu_sq_half, now_seconds() - t0);
            fflush(stdout);
        }
    }
    r->seconds = now_seconds() - started;
    free(order);
    gsl_rng_free(rng);
    gsl_rng_free(eval_rng);
    return rc;
}

static int net_results(run_context *ctx, const net_run *r)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s_latent%d", r->name[0] == 'A' ? "ae" : "vae", r->latent);
    const elbo_terms *train = &r->train[r->epochs_run - 1], *test = &r->test[r->epochs_run - 1];
    int rc = add_int(ctx, prefix, "params", (long)(model_param_count(r->v->encoder) + model_param_count(r->v->decoder)));
    rc |= add_double(ctx, prefix, "train_recon", -train->recon);
    rc |= add_double(ctx, prefix, "train_kl", train->kl);
    rc |= add_double(ctx, prefix, "test_recon", -test->recon);
    rc |= add_double(ctx, prefix, "test_kl", test->kl);
    rc |= add_double(ctx, prefix, "test_loss", -test->elbo);
    rc |= add_double(ctx, prefix, "mu_sq_half", r->mu_sq_half);
    rc |= add_double(ctx, prefix, "mu_sq_half_untrained", r->mu_sq_start);
    rc |= add_double(ctx, prefix, "untrained_test_recon", -r->test_start.recon);
    rc |= add_double(ctx, prefix, "untrained_test_kl", r->test_start.kl);
    if (!r->v->cfg.deterministic) rc |= add_double(ctx, prefix, "sigma_mean", r->sigma_mean);
    rc |= add_int(ctx, prefix, "active_dims", r->active_dims);
    rc |= add_double(ctx, prefix, "test_mse_from_mu", r->test_mse);
    rc |= add_double(ctx, prefix, "test_bce_from_mu", r->test_bce);
    rc |= add_double(ctx, prefix, "seconds", r->seconds);
    for (int e = 0; e < r->epochs_run; e++) {
        char what[64];
        snprintf(what, sizeof what, "epoch%d_test_recon", e + 1);
        rc |= add_double(ctx, prefix, what, -r->test[e].recon);
        snprintf(what, sizeof what, "epoch%d_test_kl", e + 1);
        rc |= add_double(ctx, prefix, what, r->test[e].kl);
        snprintf(what, sizeof what, "epoch%d_mu_sq_half", e + 1);
        rc |= add_double(ctx, prefix, what, r->mu_sq_history[e]);
    }
    return rc == AE_OK ? AE_OK : error_code();
}

/* (b) the two loss terms per epoch, on the test images, and where the means go */
static int figure_terms(run_context *ctx, const net_run *ae, const net_run *vae)
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
    char title[160];
    snprintf(title, sizeof title, "(b) The loss terms on the test images after each epoch, L = %d", ae->latent);
    int rc = t1_plot_epochs(ctx->common->out_dir, "ae_vae_terms", title, "nats per image (log scale)", 1, 0,
                            epochs + 1, ys, labels, 6);
    return rc == AE_OK ? render(ctx, "ae_vae_terms") : rc;
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
static int figure_grid(run_context *ctx, net_run *r, const char *name, double box[4])
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
        rc = t1_plot_images(ctx->common->out_dir, name, title, images, GRID_SIDE, GRID_SIDE, 28, row_labels, col_labels);
    if (rc == AE_OK) rc = render(ctx, name);
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
static int figure_pairs(run_context *ctx, net_run *ae, net_run *vae)
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
        rc = t1_plot_images(ctx->common->out_dir, "pair_average", "(c) Pair averaging, L = 2: decode((code A + code B) / 2)",
                            images, ROWS, PAIRS, 28, row_labels, col_labels);
    if (rc == AE_OK) rc = render(ctx, "pair_average");
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
static int code_prior_kl(run_context *ctx, net_run *r)
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
static int prior_draws(run_context *ctx, net_run *ae, net_run *vae, float *shown)
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
static int write_ae_vae_table(run_context *ctx, const net_run *runs, int n_runs)
{
    char path[AE_PATH_MAX];
    atomic_file af;
    int rc = path_join(path, sizeof path, ctx->common->out_dir, "ae_vae_table.md");
    if (rc == AE_OK) rc = atomic_open(&af, path);
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

static int part_vae(run_context *ctx)
{
    const options *opt = ctx->opt;
    int epochs = ctx->common->epochs, latent = opt->latent;
    heading("(b) One network, trained as an AE and as a VAE");
    printf("Encoder Dense(784 -> %d, ReLU) -> Dense(%d -> 2L) = [mu | log sigma^2]; decoder Dense(L -> %d, ReLU)\n"
           "-> Dense(%d -> 784) = logits, p(x|z) = Bernoulli(sigmoid(logits)). The same layers and the same\n"
           "initial weights, trained two ways (Adam %g, batches of %d, %d epoch%s):\n"
           "  AE   z = mu (log sigma^2 unused); loss = -log p(x|z), the binary cross-entropy summed over pixels\n"
           "  VAE  z = mu + sigma * eps, eps ~ N(0, I); loss = -log p(x|z) + KL(N(mu, sigma^2) || N(0, I)) = -ELBO\n\n",
           opt->hidden, opt->hidden, opt->hidden, opt->hidden, opt->lr, opt->batch, epochs, epochs == 1 ? "" : "s");
    net_run runs[4];           /* AE and VAE with L = latent, then with L = 2 */
    memset(runs, 0, sizeof runs);
    double started = now_seconds();
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

    heading("(c) The two latent spaces, L = 2");
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
        rc = t1_plot_latent_pair(ctx->common->out_dir, "latent_codes", "(c) The test images' codes, L = 2, by class",
                                 ae2->codes, title_a, vae2->codes, title_b, ctx->fm->test.labels.data,
                                 ctx->fm->test.images.count);
        if (rc == AE_OK) rc = render(ctx, "latent_codes");
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
            rc = results_add_double(ctx->res, names[k] + 0, box_ae[k]);
            char key[32];
            snprintf(key, sizeof key, "vae_%s", names[k] + 3);
            if (rc == AE_OK) rc = results_add_double(ctx->res, key, box_vae[k]);
        }
    }
    if (rc == AE_OK) rc = figure_pairs(ctx, ae2, vae2);

    heading("(d) Generation, and reconstruction at the same size");
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
        rc = t1_plot_images(ctx->common->out_dir, "prior_samples", title, shown, 10, DRAWS_SHOWN / 5, 28, labels, NULL);
        if (rc == AE_OK) rc = render(ctx, "prior_samples");
        if (rc == AE_OK)
            rc = t1_plot_images(ctx->common->out_dir, "prior_samples_2d",
                                "(d) Decoded draws z ~ N(0, I), the same draws for both models, L = 2", shown2, 10,
                                DRAWS_SHOWN / 5, 28, labels, NULL);
        if (rc == AE_OK) rc = render(ctx, "prior_samples_2d");
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
        rc |= results_add_int(ctx->res, "latent", latent);
        for (int k = 0; k < n_runs; k++) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "%s_latent%d", runs[k].name[0] == 'A' ? "ae" : "vae", runs[k].latent);
            rc |= add_double(ctx, prefix, "code_prior_kl", runs[k].code_kl);
        }
        rc |= results_add_double(ctx->res, "ae_vae_seconds", now_seconds() - started);
        if (rc != AE_OK) rc = error_code();
    }
    free(shown);
    free(shown2);
    for (int k = 0; k < 4; k++) net_run_free(&runs[k]);
    return rc;
}

/* ================================================================ main */

/* Raises the last error again as "OPTION: message" with another code. */
static int with_prefix(const char *option, int code)
{
    char reason[1024];
    snprintf(reason, sizeof reason, "%s", error_message());   /* AE_ERROR is about to overwrite it */
    return AE_ERROR(code, "%s: %s", option, reason);
}

static int run(run_context *ctx)
{
    const options *opt = ctx->opt;
    heading("Task 1: autoencoders and VAEs compared");
    printf("Matrix products: %s; %d thread%s; seed %lu\n", cpu_has_avx512() ? "the library's AVX-512 kernels" : blas_name(),
           opt->threads, opt->threads == 1 ? "" : "s (each batch split in as many lanes)", ctx->common->seed);
    ctx->n_shown = fashion_first_of_each_class(ctx->shown_index, &ctx->fm->test.labels);
    int rc = results_add_text(ctx->res, "data_folder", ctx->fm->dir);
    rc |= results_add_int(ctx->res, "data_is_sample", ctx->fm->is_sample);
    rc |= results_add_int(ctx->res, "train_images", (long)ctx->fm->train.images.count);
    rc |= results_add_int(ctx->res, "test_images", (long)ctx->fm->test.images.count);
    rc |= results_add_int(ctx->res, "epochs", ctx->common->epochs);
    rc |= results_add_int(ctx->res, "batch", opt->batch);
    rc |= results_add_double(ctx->res, "lr", opt->lr);
    rc |= results_add_double(ctx->res, "noise_factor", opt->noise);
    rc |= results_add_int(ctx->res, "threads", opt->threads);
    rc |= results_add_text(ctx->res, "engine", engine_name());
    rc |= results_add_int(ctx->res, "seed", (long)ctx->common->seed);
    if (rc != AE_OK) rc = error_code();
    double started = now_seconds();
    if (rc == AE_OK && opt->part != PART_VAE) rc = part_kinds(ctx);
    if (rc == AE_OK && opt->part != PART_KINDS) rc = part_vae(ctx);
    if (rc == AE_OK) {
        double seconds = now_seconds() - started;
        printf("\nEverything: %.1f s.\n", seconds);
        rc = results_add_double(ctx->res, "total_seconds", seconds);
    }
    return rc;
}

int main(int argc, char **argv)
{
    options opt = {
        .part = PART_ALL, .batch = 32, .lr = 1e-3, .noise = 0.2, .code = 64, .overcomplete_code = 1024,
        .contractive = 1e-4, .sparsity = 2e-4, .probes = 2, .latent = 20, .hidden = 400, .threads = 1,
    };
    cli_option table[] = {
        CLI_CHOICE("part", &opt.part, PART_CHOICES, "which part to run (see below)"),
        CLI_INT("batch", &opt.batch, 1, 4096, "N", "mini-batch size"),
        CLI_DOUBLE("lr", &opt.lr, 1e-7, 1.0, "R", "Adam's learning rate"),
        CLI_DOUBLE("noise", &opt.noise, 0.0, 1.0, "F", "std of the Gaussian noise: the denoising kind's inputs, "
                   "and every kind's noisy test images"),
        CLI_INT("code", &opt.code, 3, FASHION_PIXELS - 1, "U", "code size of the undercomplete, denoising, "
                "contractive and sparse kinds (< 784)"),
        CLI_INT("overcomplete-code", &opt.overcomplete_code, FASHION_PIXELS + 1, 8192, "U",
                "code size of the overcomplete kind (> 784)"),
        CLI_DOUBLE("contractive", &opt.contractive, 0.0, 1e3, "L", "weight of ||J_f(x)||_F^2 in the contractive "
                   "kind's loss"),
        CLI_DOUBLE("sparsity", &opt.sparsity, 0.0, 1e3, "L", "weight of sum_j |h_j| in the sparse kind's loss"),
        CLI_INT("probes", &opt.probes, 0, 1000, "N", "random probes per image for the reconstruction Jacobian "
                "(0: skip it)"),
        CLI_INT("latent", &opt.latent, 1, 512, "L", "latent dimensions of the AE and VAE of (b) and (d)"),
        CLI_INT("hidden", &opt.hidden, 1, 4096, "N", "hidden units of the AE and VAE"),
        CLI_INT("threads", &opt.threads, 1, 64, "N", "threads of the training: each batch split in N lanes"),
    };
    int n_table = (int)(sizeof table / sizeof table[0]);
    common_options common = common_defaults(PROGRAM, 5);
    int rc = cli_parse(argc, argv, &prog_info, table, n_table, &common);
    if (rc == CLI_HELP) return 0;
    if (rc == AE_OK) rc = cli_threads(&common, &opt.threads, cli_seen(table, n_table, "threads"));
    if (rc != AE_OK) return cli_fail(&prog_info);
    /* the lanes split each batch; a lane's matrix products run on one thread */
    if ((rc = blas_set_threads(1)) != AE_OK) {
        with_prefix("--threads", AE_EINVAL);
        return cli_fail(&prog_info);
    }

    run_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = &opt;
    ctx.common = &common;
    fashion_mnist fm;
    memset(&fm, 0, sizeof fm);
    ctx.fm = &fm;
    ctx.res = results_alloc();
    rc = ctx.res ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory");
    if (rc == AE_OK) rc = cli_load_fashion_mnist(&fm, &common, PROGRAM);
    if (rc == AE_OK) rc = mkdir_p(common.out_dir);
    if (rc == AE_OK) rc = run(&ctx);
    if (rc == AE_OK) rc = results_write(ctx.res, common.out_dir);
    if (rc == AE_OK)
        printf("\nWrote %s/: results.tsv, %d figures (.dat, .gp%s) and the tables as Markdown.\n", common.out_dir,
               ctx.figures, common.no_plot || !gnuplot_available() ? "" : ", .png");
    else {
        fflush(stdout);
        fprintf(stderr, "%s: %s\n", PROGRAM, error_message());
    }
    results_free(ctx.res);
    fashion_mnist_free(&fm);
    return rc == AE_OK ? 0 : 1;
}
