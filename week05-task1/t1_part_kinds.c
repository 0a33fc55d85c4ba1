/* t1_part_kinds.c: part (a) of Task 1, six kinds of autoencoder on one network, trained and
 * measured side by side: tables, figures and results (see t1_parts.h). */
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


#define FILTERS_SHOWN 12               /* encoder rows drawn per kind */

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
static int run_kind(t1_context *ctx, kind_run *k, const batch_source *train, const batch_source *clean,
                    const batch_source *noisy, gsl_rng *rng, gsl_rng *probe_rng)
{
    const t1_options *opt = ctx->opt;
    t1_autoencoder *ae = t1_autoencoder_alloc(&k->recipe, opt->lr, opt->batch, rng);
    if (!ae) return error_code();
    int rc = t1_autoencoder_set_threads(ae, opt->threads);
    size_t *order = malloc(train->count * sizeof *order);
    if (!order) rc = AE_ERROR(AE_ENOMEM, "out of memory for the training order");
    k->params = t1_autoencoder_params(ae);
    const char *name = t1_kind_name(k->recipe.kind);
    double started = program_seconds();
    for (int e = 0; e < ctx->common->epochs && rc == AE_OK; e++) {
        double t0 = program_seconds();
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
                   program_seconds() - t0);
            fflush(stdout);
        }
    }
    k->seconds = program_seconds() - started;
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

/* Whether each kind learned: its clean test MSE below that of always predicting the mean training
 * image (mean_mse); says so for those that did not, and records kind_K_learned (and _not_learned). */
static int kinds_learned(t1_context *ctx, const kind_run *runs, int n_runs, double mean_mse)
{
    int rc = results_add_double(ctx->run->res, "mean_image_mse", mean_mse);
    for (int i = 0; i < n_runs && rc == AE_OK; i++) {
        const char *name = t1_kind_name(runs[i].recipe.kind);
        int learned = runs[i].metrics.clean_mse < mean_mse;
        rc = program_result_int(ctx->run, learned, "kind_%s_learned", name);
        if (learned || rc != AE_OK) continue;
        char why[200];
        snprintf(why, sizeof why, "its clean test MSE %.4g is no better than the %.4g of always predicting the mean "
                 "image; try more epochs or a smaller --lr", runs[i].metrics.clean_mse, mean_mse);
        printf("The %s kind did NOT learn: %s.\n", name, why);
        rc = program_result_text(ctx->run, why, "kind_%s_not_learned", name);
    }
    return rc;
}

static int kinds_results(t1_context *ctx, const kind_run *runs, int n_runs, double identity_noisy)
{
    int rc = results_add_double(ctx->run->res, "identity_noisy_mse", identity_noisy);
    for (int i = 0; i < n_runs && rc == AE_OK; i++) {
        const kind_run *k = &runs[i];
        const t1_metrics *m = &k->metrics;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "kind_%s", t1_kind_name(k->recipe.kind));
        rc |= t1_result_int(ctx, prefix, "code", k->recipe.code);
        rc |= t1_result_int(ctx, prefix, "params", (long)k->params);
        rc |= t1_result(ctx, prefix, "train_noise", k->recipe.train_noise);
        rc |= t1_result(ctx, prefix, "contractive_weight", k->recipe.contractive);
        rc |= t1_result(ctx, prefix, "sparsity_weight", k->recipe.sparsity);
        rc |= t1_result_int(ctx, prefix, "epochs", k->epochs_run);
        rc |= t1_result(ctx, prefix, "train_mse", k->history[k->epochs_run - 1].mse);
        rc |= t1_result(ctx, prefix, "train_loss", k->history[k->epochs_run - 1].loss);
        const program_value metrics[] = {   /* t1_metrics, in its order */
            { "clean_mse", m->clean_mse },       { "noisy_mse", m->noisy_mse },
            { "noise_gain", m->noise_gain },     { "jacobian", m->jacobian },
            { "jacobian_sq", m->jacobian_sq },   { "recon_gain", m->recon_gain },
            { "active", m->active },             { "dead", m->dead },
            { "code_mean", m->code_mean },       { "encoder_norm", m->encoder_norm },
            { "decoder_norm", m->decoder_norm },
        };
        rc |= program_results(ctx->run, prefix, metrics, sizeof metrics / sizeof metrics[0]);
        rc |= t1_result(ctx, prefix, "seconds", k->seconds);
        for (int e = 0; e < k->epochs_run; e++) {
            rc |= t1_epoch_result(ctx, prefix, e, "clean_mse", k->trend[e].clean_mse);
            rc |= t1_epoch_result(ctx, prefix, e, "noisy_mse", k->trend[e].noisy_mse);
            rc |= t1_epoch_result(ctx, prefix, e, "noise_gain", k->trend[e].noise_gain);
        }
        if (rc != AE_OK) rc = error_code();
    }
    return rc;
}

/* The table, printed and as kinds_table.md. */
static int kinds_table(t1_context *ctx, const kind_run *runs, int n_runs, double identity_noisy)
{
    atomic_file af;
    int rc = program_open_file(ctx->run, &af, "kinds_table.md");
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
    const kind_run *base = NULL;   /* the undercomplete baseline, when it completed */
    for (int i = 0; i < n_runs; i++) {
        const kind_run *k = &runs[i];
        const t1_metrics *m = &k->metrics;
        if (k->recipe.kind == T1_UNDERCOMPLETE) base = k;
        printf("%-14s %5d %10.5f %10.5f %6.1f%% %9.3f %9.3f %6.1f%% %5.1f%% %7.3f\n", t1_kind_name(k->recipe.kind),
               k->recipe.code, m->clean_mse, m->noisy_mse, 100 * m->noise_gain, m->jacobian, m->recon_gain,
               100 * m->active, 100 * m->dead, m->code_mean);
        fprintf(md, "| %s | %d | %.5f | %.5f | %.1f%% | %.3f | %.3f | %.1f%% | %.1f%% | %.3f |\n",
                t1_kind_name(k->recipe.kind), k->recipe.code, m->clean_mse, m->noisy_mse, 100 * m->noise_gain,
                m->jacobian, m->recon_gain, 100 * m->active, 100 * m->dead, m->code_mean);
    }
    if (!base) return atomic_commit(&af);   /* nothing to read the rows against */
    printf("\nWhat each row shows (against the undercomplete baseline):\n");
    fprintf(md, "\nWhat each row shows (against the undercomplete baseline):\n\n");
    for (int i = 0; i < n_runs; i++) {
        char text[900];
        kind_verdict(text, sizeof text, &runs[i], base, identity_noisy);
        printf("  %-13s %s.\n", t1_kind_name(runs[i].recipe.kind), text);
        fprintf(md, "- **%s**: %s.\n", t1_kind_name(runs[i].recipe.kind), text);
    }
    return atomic_commit(&af);
}

static int kinds_figures(t1_context *ctx, const kind_run *runs, int n_runs)
{
    const char *six = n_runs == T1_KINDS ? "six" : "completed";   /* the student edition may lack some */
    const char *dir = ctx->run->out_dir;
    int n = ctx->n_shown;
    /* training MSE per epoch */
    int epochs = runs[0].epochs_run;
    double mse[T1_KINDS][TRAIN_MAX_EPOCHS];
    const double *ys[T1_KINDS];
    const char *labels[T1_KINDS];
    for (int i = 0; i < n_runs; i++) {
        for (int e = 0; e < epochs; e++) mse[i][e] = runs[i].history[e].mse;
        ys[i] = mse[i];
        labels[i] = t1_kind_name(runs[i].recipe.kind);
    }
    char title[160];
    snprintf(title, sizeof title, "(a) Training MSE per epoch of the %s kinds (penalties not included)", six);
    int rc = t1_plot_epochs(dir, "kinds_loss", title, "mean squared error per pixel (log scale)", 1, 1, epochs, ys,
                            labels, n_runs);
    if (rc == AE_OK) rc = program_render(ctx->run, "kinds_loss");
    /* the share of the test noise that reaches the output, per epoch */
    for (int i = 0; i < n_runs; i++)
        for (int e = 0; e < epochs; e++) mse[i][e] = 100.0 * runs[i].trend[e].noise_gain;
    if (rc == AE_OK)
        rc = t1_plot_epochs(dir, "kinds_noise", "(a) The share of the input noise's energy that reaches the output, "
                            "test images", "noise passed, % (the identity: 100)", 0, 1, epochs, ys, labels, n_runs);
    if (rc == AE_OK) rc = program_render(ctx->run, "kinds_noise");

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
        for (int i = 0; i < n_runs; i++) {
            memcpy(grid + r * row, noisy ? runs[i].noisy_out : runs[i].clean_out, row * sizeof *grid);
            row_labels[r++] = t1_kind_name(runs[i].recipe.kind);
        }
        if (noisy) snprintf(title, sizeof title, "(a) The %s kinds given noisy inputs (noise %g)", six, ctx->opt->noise);
        else snprintf(title, sizeof title, "(a) The %s kinds given clean test images", six);
        const char *name = noisy ? "kinds_noisy" : "kinds_clean";
        if (rc == AE_OK) rc = t1_plot_images(dir, name, title, grid, r, n, 28, row_labels, col_labels);
        if (rc == AE_OK) rc = program_render(ctx->run, name);
    }
    /* the first encoder rows of each kind */
    for (int i = 0; i < n_runs; i++) {
        memcpy(grid + (size_t)i * FILTERS_SHOWN * FASHION_PIXELS, runs[i].filters,
               (size_t)FILTERS_SHOWN * FASHION_PIXELS * sizeof *grid);
        row_labels[i] = t1_kind_name(runs[i].recipe.kind);
    }
    if (rc == AE_OK)
        rc = t1_plot_images(dir, "kinds_filters", "(a) The first 12 rows W_j of each encoder, each stretched to "
                            "black-white (grey: no such unit)", grid, n_runs, FILTERS_SHOWN, 28, row_labels, NULL);
    if (rc == AE_OK) rc = program_render(ctx->run, "kinds_filters");
    free(grid);
    free(noisy_in);
    return rc;
}

int t1_part_kinds(t1_context *ctx)
{
    const t1_options *opt = ctx->opt;
    const common_options *common = ctx->common;
    program_heading("(a) Six kinds of autoencoder, one network");
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
                                     .noise_seed = common->seed, .corrupt = t1_corrupt };
    image_source_ctx test_clean = { .images = &ctx->fm->test.images };
    image_source_ctx test_noisy = { .images = &ctx->fm->test.images, .noise_factor = opt->noise,
                                    .noise_seed = common->seed + 1 };
    batch_source clean = image_batch_source(&test_clean), noisy = image_batch_source(&test_noisy);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937), *probe_rng = gsl_rng_alloc(gsl_rng_mt19937);
    int rc = rng && probe_rng ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory");
    double started = program_seconds();
    /* each kind is a part of its own: one that needs a function not written yet (the student
     * edition) or that fails is left out of the table and the figures, and the others still run */
    int n_runs = 0, n_skipped = 0;
    for (int i = 0; i < T1_KINDS && rc == AE_OK; i++) {
        /* every kind starts from the same seed: the differences are the kinds', not the draws' */
        gsl_rng_set(rng, common->seed);
        gsl_rng_set(probe_rng, common->seed + 2);
        batch_source train = image_batch_source(runs[i].recipe.train_noise > 0 ? &train_noisy : &train_clean);
        train_noisy.noise_factor = runs[i].recipe.train_noise > 0 ? runs[i].recipe.train_noise : opt->noise;
        char part[64];
        snprintf(part, sizeof part, "part (a), the %s kind", t1_kind_name(runs[i].recipe.kind));
        rc = program_part(ctx->run, part, run_kind(ctx, &runs[i], &train, &clean, &noisy, rng, probe_rng));
        if (rc == AE_OK && program_part_done(ctx->run, part)) runs[n_runs++] = runs[i];
        else if (rc == AE_OK) n_skipped += ctx->run->incomplete[ctx->run->n_incomplete - 1].skipped;
    }
    if (rc == AE_OK && n_runs == 0)   /* skipped when every kind was (the student edition), else failed */
        rc = AE_ERROR(n_skipped == T1_KINDS ? AE_ENOTIMPL : AE_ESTATE, "no kind of autoencoder completed (above: why)");
    double identity_noisy = 0.0;
    if (rc == AE_OK) rc = identity_noisy_mse(&noisy, &identity_noisy);
    if (rc == AE_OK) {
        printf("\nTrained and measured the %s kinds in %.1f s.\n", n_runs == T1_KINDS ? "six" : "completed",
               program_seconds() - started);
        printf("noise passed = sum ||x^(x~) - x^(x)||^2 / sum ||x~ - x||^2; ||J_r||^2 / D: the whole map's Jacobian\n"
               "(%d random-sign probes per image; 1 for the identity); active: h > 0 on an image; dead: 0 on every "
               "test image.\n", opt->probes);
        rc = kinds_table(ctx, runs, n_runs, identity_noisy);
    }
    if (rc == AE_OK) rc = kinds_results(ctx, runs, n_runs, identity_noisy);
    double mean_mse = 0.0;
    batch_source train_clean_source = image_batch_source(&train_clean);
    if (rc == AE_OK) rc = mean_target_mse(&train_clean_source, &clean, &mean_mse);
    if (rc == AE_OK) rc = kinds_learned(ctx, runs, n_runs, mean_mse);
    if (rc == AE_OK) rc = t1_result(ctx, "kinds", "seconds", program_seconds() - started);
    if (rc == AE_OK) rc = kinds_figures(ctx, runs, n_runs);
    gsl_rng_free(rng);
    gsl_rng_free(probe_rng);
    free(images);
    return rc;
}


int t1_setup(t1_context *ctx)
{
    const t1_options *opt = ctx->opt;
    results *res = ctx->run->res;
    program_heading("Task 1: autoencoders and VAEs compared");
    printf("Matrix products: %s; %d thread%s; seed %lu\n", cpu_has_avx512() ? "the library's AVX-512 kernels" : blas_name(),
           opt->threads, opt->threads == 1 ? "" : "s (each batch split in as many lanes)", ctx->common->seed);
    ctx->n_shown = fashion_first_of_each_class(ctx->shown_index, &ctx->fm->test.labels);
    int rc = results_add_text(res, "data_folder", ctx->fm->dir);
    rc |= results_add_int(res, "data_is_sample", ctx->fm->is_sample);
    rc |= results_add_int(res, "train_images", (long)ctx->fm->train.images.count);
    rc |= results_add_int(res, "test_images", (long)ctx->fm->test.images.count);
    rc |= results_add_int(res, "epochs", ctx->common->epochs);
    rc |= results_add_int(res, "batch", opt->batch);
    rc |= results_add_double(res, "lr", opt->lr);
    rc |= results_add_double(res, "noise_factor", opt->noise);
    rc |= results_add_int(res, "threads", opt->threads);
    rc |= results_add_text(res, "engine", engine_name());
    rc |= results_add_int(res, "seed", (long)ctx->common->seed);
    return rc == AE_OK ? AE_OK : error_code();
}
