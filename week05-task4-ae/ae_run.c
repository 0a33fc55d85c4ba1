/* ae_run.c: one task of week05-task4-ae, model by model (see ae_run.h).
 *
 * For each model: its summary table, training with a progress bar and the losses of every
 * epoch (or its checkpoint loaded), its numbers, figures and checkpoint, and for the anomaly
 * task the detection. At the end: the comparison (printed and comparison.md) and
 * loss_curves.png with every model.
 */
#include "ae_run.h"
#include "ae_figures.h"
#include "checkpoint.h"
#include "engine.h"
#include "error.h"
#include "fast/blas.h"
#include "fast/cpu.h"
#include "fast/fast.h"
#include "io/fileio.h"
#include "io/plot.h"

#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAM "week05-task4-ae"

/* "101,200" */
static const char *with_commas(char *buf, size_t len, size_t value)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%zu", value), out = 0;
    for (int i = 0; i < n && out + 2 < (int)len; i++) {
        if (i > 0 && (n - i) % 3 == 0) buf[out++] = ',';
        buf[out++] = digits[i];
    }
    buf[out] = '\0';
    return buf;
}

/* ------------------------------------------------------------- results */

/* model_<M>_<what> in results.tsv */
#define add_model_double(ctx, r, what, value) program_result((ctx)->run, (value), "model_%s_%s", (r)->recipe.name, (what))
#define add_model_int(ctx, r, what, value) program_result_int((ctx)->run, (value), "model_%s_%s", (r)->recipe.name, (what))
#define add_model_text(ctx, r, what, value) program_result_text((ctx)->run, (value), "model_%s_%s", (r)->recipe.name, (what))

/* -------------------------------------------------------------- files */

/* <task>_model_<M>.ckpt */
int ae_checkpoint_path(char *path, size_t len, const ae_context *ctx, const char *model_name)
{
    return program_path(ctx->run, path, len, "%s_model_%s.ckpt", ae_task_name(ctx->task), model_name);
}

/* <task>_model_<M>_history.tsv */
static int history_path(char *path, size_t len, const ae_context *ctx, const char *model_name)
{
    return program_path(ctx->run, path, len, "%s_model_%s_history.tsv", ae_task_name(ctx->task), model_name);
}

/* The CRC-32 a checkpoint ends with (checkpoint.h), as 8 hex digits: which file a history goes with. */
static int checkpoint_crc(char *crc, size_t len, const ae_context *ctx, const model_run *r)
{
    char path[AE_PATH_MAX];
    uint32_t value;
    int rc = ae_checkpoint_path(path, sizeof path, ctx, r->recipe.name);
    if (rc == AE_OK) rc = checkpoint_crc32(path, &value);
    if (rc == AE_OK) snprintf(crc, len, "%08lx", (unsigned long)value);
    return rc;
}

/* What made a history: the model's layers and loss, the normal class of the anomaly task, the
 * seed, the data, the noise of the denoising task, the learning rate and batch size, and the
 * checkpoint it goes with. */
enum { META_SPEC, META_LOSS, META_CLASS, META_SEED, META_DATA, META_NOISE, META_LR, META_BATCH, META_CHECKPOINT,
       N_META };
static int history_meta_of(history_meta meta[N_META], const ae_context *ctx, const model_run *r)
{
    meta[META_SPEC].key = "spec";
    snprintf(meta[META_SPEC].value, sizeof meta[0].value, "%s", r->recipe.spec);
    meta[META_LOSS].key = "loss";
    snprintf(meta[META_LOSS].value, sizeof meta[0].value, "%s", loss_name(r->recipe.loss.kind));
    meta[META_CLASS].key = "normal_class";
    snprintf(meta[META_CLASS].value, sizeof meta[0].value, "%d",
             ctx->task == AE_TASK_ANOMALY ? ctx->opt->normal_class : -1);
    meta[META_SEED].key = "seed";
    snprintf(meta[META_SEED].value, sizeof meta[0].value, "%lu", (unsigned long)ctx->common->seed);
    meta[META_DATA].key = "data";
    char resolved[PATH_MAX];   /* the folder itself, however it was named */
    snprintf(meta[META_DATA].value, sizeof meta[0].value, "%.1099s",
             realpath(ctx->fm->dir, resolved) ? resolved : ctx->fm->dir);
    meta[META_NOISE].key = "noise";
    snprintf(meta[META_NOISE].value, sizeof meta[0].value, "%g", ctx->task == AE_TASK_DENOISING ? ctx->opt->noise : 0.0);
    meta[META_LR].key = "lr";
    snprintf(meta[META_LR].value, sizeof meta[0].value, "%.17g", ctx->opt->lr);
    meta[META_BATCH].key = "batch";
    snprintf(meta[META_BATCH].value, sizeof meta[0].value, "%d", ctx->opt->batch);
    meta[META_CHECKPOINT].key = "checkpoint_crc32";
    meta[META_CHECKPOINT].value[0] = '\0';
    return N_META;
}

/* The losses per epoch beside the checkpoint (written first), so --from-checkpoint can redraw the
 * curves and knows what made them. */
static int write_history(const ae_context *ctx, const model_run *r)
{
    char path[AE_PATH_MAX], title[160];
    history_meta meta[N_META];
    int rc = history_path(path, sizeof path, ctx, r->recipe.name);
    snprintf(title, sizeof title, "the training history of model %s, task %s", r->recipe.name, ae_task_name(ctx->task));
    int n = history_meta_of(meta, ctx, r);
    if (rc == AE_OK) rc = checkpoint_crc(meta[META_CHECKPOINT].value, sizeof meta[0].value, ctx, r);
    return rc == AE_OK ? history_write(path, title, meta, n, &r->history, PROGRAM) : rc;
}

/* Reads a history back, checking that it belongs to the same model, task, data and noise, and to
 * the checkpoint beside it (a run cut between writing the two leaves them apart); says which seed
 * trained it. A history without these lines (older runs) is taken on its spec and loss alone. */
static int read_history(const ae_context *ctx, model_run *r)
{
    char path[AE_PATH_MAX], hint[160], trained[1100];
    history_meta meta[N_META];
    int rc = history_path(path, sizeof path, ctx, r->recipe.name);
    if (rc != AE_OK) return rc;
    history_meta_of(meta, ctx, r);
    snprintf(hint, sizeof hint, "Train model %s again without --from-checkpoint.", r->recipe.name);
    rc = history_read(path, meta, 2, &r->history, hint);                 /* the same layers and loss */
    if (rc != AE_OK) return rc;
    if (history_meta_get(path, "checkpoint_crc32", trained, sizeof trained) == AE_OK) {
        char now[16];
        if ((rc = checkpoint_crc(now, sizeof now, ctx, r)) != AE_OK) return rc;
        if (strcmp(now, trained) != 0)
            return AE_ERROR(AE_EFORMAT, "%s: it belongs to another checkpoint (CRC-32 %s) than the one beside it "
                            "(%s): a run was cut between writing the two. %s", path, trained, now, hint);
    }
    if (history_meta_get(path, "data", trained, sizeof trained) == AE_OK && strcmp(trained, meta[META_DATA].value) != 0)
        return AE_ERROR(AE_EINVAL, "%s: model %s was trained on the data in %s, and this run reads %s; give --data %s, "
                        "or train again without --from-checkpoint", path, r->recipe.name, trained,
                        meta[META_DATA].value, trained);
    if (history_meta_get(path, "noise", trained, sizeof trained) == AE_OK && strcmp(trained, meta[META_NOISE].value) != 0)
        return AE_ERROR(AE_EINVAL, "%s: model %s was trained with --noise %s, not %s; give --noise %s, or train again "
                        "without --from-checkpoint", path, r->recipe.name, trained, meta[META_NOISE].value, trained);
    r->trained_seed = history_meta_get(path, "seed", trained, sizeof trained) == AE_OK ? strtol(trained, NULL, 10) : -1;
    if (history_meta_get(path, "lr", r->trained_lr, sizeof r->trained_lr) != AE_OK) strcpy(r->trained_lr, "?");
    if (history_meta_get(path, "batch", r->trained_batch, sizeof r->trained_batch) != AE_OK) strcpy(r->trained_batch, "?");
    if (history_meta_get(path, "normal_class", trained, sizeof trained) != AE_OK ||
        strcmp(trained, meta[META_CLASS].value) == 0)
        return rc;
    int normal_class = atoi(trained), wanted = atoi(meta[2].value);
    return AE_ERROR(AE_EINVAL, "%s: model %s was trained with class %d (%s) as the normal one, not %d (%s); "
                    "give --normal-class %d, or train again without --from-checkpoint", path,
                    r->recipe.name, normal_class, normal_class >= 0 ? fashion_class_name(normal_class) : "none",
                    wanted, wanted >= 0 ? fashion_class_name(wanted) : "none", normal_class);
}

static int render(ae_context *ctx, const char *name)
{
    return program_render(ctx->run, name);
}

/* ------------------------------------------------------------- figures */

/* loss_curves_<M>: one model's training and validation loss. */
static int figure_model_curves(ae_context *ctx, const model_run *r)
{
    char name[64], title[200];
    snprintf(name, sizeof name, "loss_curves_%s", r->recipe.name);
    snprintf(title, sizeof title, "Model %s (%s): training and validation loss, %s", r->recipe.name,
             ae_task_name(ctx->task), r->recipe.loss.kind == LOSS_BCE ? "binary cross-entropy" : "MSE");
    figure_curves curves = { r->recipe.name, r->recipe.loss.kind, r->history.epochs_run, r->history.train_loss,
                             r->history.val_loss };
    int rc = figure_loss_curves(ctx->run->out_dir, name, title, &curves, 1);
    return rc == AE_OK ? render(ctx, name) : rc;
}

/* reconstructions_<M>: the shown test images, (their noisy inputs,) their reconstructions. */
static int figure_model_images(ae_context *ctx, model_run *r, model *m)
{
    int n = ctx->n_shown;
    float *x = malloc((size_t)3 * n * AE_IMAGE_PIXELS * sizeof *x);   /* then clean and recon: (n, 784) each */
    double *errors = malloc((size_t)n * sizeof *errors);              /* (n) */
    if (!x || !errors) {
        free(x);
        free(errors);
        return AE_ERROR(AE_ENOMEM, "out of memory for the figure's images");
    }
    float *clean = x + (size_t)n * AE_IMAGE_PIXELS, *recon = clean + (size_t)n * AE_IMAGE_PIXELS;
    int rc = ctx->shown.fill(ctx->shown.ctx, ctx->shown_index, n, x, clean);   /* x: the model's input */
    if (rc == AE_OK) rc = ae_reconstruct(m, x, n, recon);
    if (rc != AE_OK) {
        free(x);
        free(errors);
        return rc;
    }
    reconstruction_errors(errors, recon, clean, (size_t)n, AE_IMAGE_PIXELS);

    const char *column_labels[SHOWN_IMAGES];
    char bottom_text[SHOWN_IMAGES][48];
    const char *bottom_labels[SHOWN_IMAGES];
    for (int i = 0; i < n; i++) {
        int label = ctx->fm->test.labels.data[ctx->shown_index[i]];
        column_labels[i] = fashion_class_name(label);
        if (ctx->task == AE_TASK_ANOMALY)
            snprintf(bottom_text[i], sizeof bottom_text[i], "MAE %.4f\n%s", errors[i],
                     errors[i] < r->threshold ? "normal" : "ANOMALY");
        else
            snprintf(bottom_text[i], sizeof bottom_text[i], "MAE %.4f", errors[i]);
        bottom_labels[i] = bottom_text[i];
    }
    const float *rows[3];
    const char *row_labels[3];
    int n_rows = 0;
    rows[n_rows] = clean, row_labels[n_rows++] = "test image";
    if (ctx->task == AE_TASK_DENOISING) rows[n_rows] = x, row_labels[n_rows++] = "noisy input";
    rows[n_rows] = recon, row_labels[n_rows++] = ctx->task == AE_TASK_DENOISING ? "denoised" : "reconstruction";

    char name[64], title[256];
    snprintf(name, sizeof name, "reconstructions_%s", r->recipe.name);
    if (ctx->task == AE_TASK_ANOMALY)
        snprintf(title, sizeof title, "Model %s, trained on %s only; below: the error, normal under %.4f",
                 r->recipe.name, fashion_class_name(ctx->opt->normal_class), r->threshold);
    else
        snprintf(title, sizeof title, "Model %s, %s: one test image per class; below, each reconstruction's MAE",
                 r->recipe.name, ae_task_name(ctx->task));
    rc = figure_image_rows(ctx->run->out_dir, name, title, rows, row_labels, n_rows, n, column_labels,
                           bottom_labels);
    free(x);
    free(errors);
    return rc == AE_OK ? render(ctx, name) : rc;
}

/* ------------------------------------------------------------ anomaly */

/* Threshold from the training errors, the test images called normal or anomalous, the rates,
 * the ROC curve over every threshold, and the histogram. */
static int detect_anomalies(ae_context *ctx, model_run *r, model *m)
{
    const batch_source *train = &ctx->sources.train;
    size_t n_test = ctx->shown.count;
    double *train_errors = malloc(train->count * sizeof *train_errors);   /* (training images of the class) */
    double *test_errors = malloc(n_test * sizeof *test_errors);            /* (every test image) */
    int *is_normal = malloc(n_test * sizeof *is_normal);                   /* (every test image) */
    int rc = train_errors && test_errors && is_normal ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory for the errors");
    if (rc == AE_OK) rc = source_errors(train_errors, m, train);
    if (rc == AE_OK) rc = anomaly_threshold(train_errors, train->count, &r->error_mean, &r->error_std, &r->threshold);
    if (rc == AE_OK) rc = source_errors(test_errors, m, &ctx->shown);
    if (rc == AE_OK) {
        for (size_t i = 0; i < n_test; i++) is_normal[i] = ctx->fm->test.labels.data[i] == ctx->opt->normal_class;
        anomaly_confusion_count(&r->confusion, test_errors, is_normal, n_test, r->threshold);
        rc = anomaly_metrics_compute(&r->metrics, &r->confusion);
    }
    /* every threshold at once: the ROC curve, when the test images hold both kinds (--limit may leave one) */
    int has_roc = rc == AE_OK && r->confusion.tp + r->confusion.fn > 0 && r->confusion.fp + r->confusion.tn > 0;
    if (has_roc) rc = anomaly_roc_compute(&r->roc, test_errors, is_normal, n_test);
    if (has_roc && rc == AE_OK) rc = anomaly_operating_point(&r->confusion, &r->operating_fpr, &r->operating_tpr);
    if (rc == AE_OK) {
        const anomaly_confusion *cm = &r->confusion;
        printf("\nAnomaly detection with model %s (normal class %d, %s, is the positive one):\n", r->recipe.name,
               ctx->opt->normal_class, fashion_class_name(ctx->opt->normal_class));
        printf("  training errors (MAE per image, %zu %s images): mean %.5f, std %.5f\n", train->count,
               fashion_class_name(ctx->opt->normal_class), r->error_mean, r->error_std);
        printf("  threshold = mean + 1 std = %.5f: an image with a smaller error is called normal\n", r->threshold);
        printf("  %zu test images:          called normal   called anomalous\n", n_test);
        printf("    truly normal           TP %8ld     FN %8ld\n", cm->tp, cm->fn);
        printf("    truly anomalous        FP %8ld     TN %8ld\n", cm->fp, cm->tn);
        printf("  accuracy %.4f   precision %.4f   recall %.4f   F1 %.4f\n", r->metrics.accuracy,
               r->metrics.precision, r->metrics.recall, r->metrics.f1);
        if (has_roc)
            printf("  ROC over every threshold: AUC %.4f, the share of (normal, anomalous) pairs in which the normal\n"
                   "  image has the smaller error; the rule above sits at FPR %.4f, TPR %.4f\n", r->roc.auc,
                   r->operating_fpr, r->operating_tpr);
        else
            printf("  no ROC curve: the test images hold no %s image\n",
                   r->confusion.tp + r->confusion.fn == 0 ? "normal" : "anomalous");
        /* which classes pass for normal: the false positives, class by class */
        long called[FASHION_CLASSES] = { 0 }, present[FASHION_CLASSES] = { 0 };
        for (size_t i = 0; i < n_test; i++) {
            int label = ctx->fm->test.labels.data[i];
            present[label]++;
            called[label] += test_errors[i] < r->threshold;
        }
        printf("  test images called normal, by class:\n");
        for (int k = 0; k < FASHION_CLASSES && rc == AE_OK; k++) {
            printf("    %d %-12s %5ld of %5ld%s\n", k, fashion_class_name(k), called[k], present[k],
                   k == ctx->opt->normal_class ? "   (the normal class)" : "");
            char key[64];
            snprintf(key, sizeof key, "called_normal_class_%d", k);
            rc = add_model_int(ctx, r, key, called[k]);
        }

    }
    if (rc == AE_OK) {
        char name[64], title[200], normal_label[96];
        snprintf(name, sizeof name, "anomaly_histogram_%s", r->recipe.name);
        snprintf(title, sizeof title, "Model %s trained on %s: reconstruction errors of the test images",
                 r->recipe.name, fashion_class_name(ctx->opt->normal_class));
        snprintf(normal_label, sizeof normal_label, "normal: %s", fashion_class_name(ctx->opt->normal_class));
        rc = figure_error_histogram(ctx->run->out_dir, name, title, test_errors, is_normal, n_test, r->threshold,
                                    normal_label, "anomalous: the other 9 classes");
        if (rc == AE_OK) rc = render(ctx, name);
    }
    free(train_errors);
    free(test_errors);
    free(is_normal);
    return rc;
}

/* ------------------------------------------------------------ one model */

/* A generator of the model's own, so that a model's numbers do not depend on which others run:
 * model A (index 0) gets the seed itself, the others seed + 1000003·index. So model A with
 * --seed S is the very run `bench_train --seed S` times in make bench (bench/bench_train.c). */
/* Whether a model learned: its validation MSE below the mean image's, and its validation loss not
 * grown a hundredfold since the first epoch (a learning rate too large makes it diverge and stay
 * finite). Says so on the terminal and in results.tsv (model_M_learned, model_M_not_learned). */
static int judge_learning(ae_context *ctx, const model_run *r)
{
    int rc = AE_OK;
    if (ctx->mean_image_mse < 0) rc = mean_target_mse(&ctx->sources.train, &ctx->sources.val, &ctx->mean_image_mse);
    if (rc != AE_OK) return rc;
    char why[300] = "";
    double first = r->history.val_loss[0];
    if (r->history.epochs_run > 1 && first > 0 && r->val_loss > 100.0 * first)
        snprintf(why, sizeof why, "its validation loss grew from %.4g after epoch 1 to %.4g: training diverged; "
                 "try a smaller --lr", first, r->val_loss);
    else if (!(r->val_mse < ctx->mean_image_mse))
        snprintf(why, sizeof why, "its validation MSE %.4g is no better than the %.4g of always predicting the mean "
                 "image; try a smaller --lr or more epochs", r->val_mse, ctx->mean_image_mse);
    if (why[0]) printf("Model %s did NOT learn: %s.\n", r->recipe.name, why);
    rc = add_model_int(ctx, r, "learned", why[0] ? 0 : 1);
    if (rc == AE_OK && why[0]) rc = add_model_text(ctx, r, "not_learned", why);
    return rc;
}

static gsl_rng *model_rng(unsigned long seed, int index)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (rng) gsl_rng_set(rng, seed + 1000003UL * (unsigned long)index);
    return rng;
}

static int train_model(ae_context *ctx, model_run *r, model *m, gsl_rng *rng)
{
    const ae_options *opt = ctx->opt;
    optimizer *adam = adam_alloc(m->n_params, opt->lr);
    if (!adam) return error_code();
    train_config cfg = {
        .epochs = ctx->common->epochs,
        .batch_size = opt->batch,
        .shuffle = 1,
        .progress = stdout,
        .style = progress_style_for(stdout, ctx->common->quiet),
        .label = NULL,
    };
    char label[32];
    snprintf(label, sizeof label, "model %s", r->recipe.name);
    cfg.label = label;
    int rc = ENGINE(train_fit)(m, adam, r->recipe.loss, &ctx->sources.train, &ctx->sources.val, &cfg, rng, &r->history);
    optimizer_free(adam);
    if (rc != AE_OK) return rc;

    char path[AE_PATH_MAX];
    rc = ae_checkpoint_path(path, sizeof path, ctx, r->recipe.name);
    if (rc == AE_OK) rc = checkpoint_save(m, path);
    if (rc == AE_OK) rc = write_history(ctx, r);
    return rc;
}

int ae_run_model(ae_context *ctx, model_run *r, int index)
{
    const ae_options *opt = ctx->opt;
    char heading_text[160], count[32];
    snprintf(heading_text, sizeof heading_text, "Model %s (%s)", r->recipe.name, ae_task_name(ctx->task));
    program_heading(heading_text);
    printf("%s\n", r->recipe.summary);
    printf("--layers \"%s\"\n", r->recipe.spec);
    printf("loss: %s; optimizer: Adam (lr %g, beta1 0.9, beta2 0.999, epsilon 1e-7); batch %d\n",
           r->recipe.loss.kind == LOSS_BCE ? "binary cross-entropy" : "mean squared error", opt->lr, opt->batch);

    gsl_rng *rng = model_rng(ctx->common->seed, index);
    if (!rng) return AE_ERROR(AE_ENOMEM, "out of memory for a random generator");
    model *m;
    int rc = ae_model_create(&m, &r->recipe, opt->batch, rng);
    if (rc == AE_OK) r->threads = ae_model_threads(opt);
    if (rc == AE_OK && (rc = model_set_threads(m, r->threads)) != AE_OK) model_free(m);
    if (rc != AE_OK) {
        gsl_rng_free(rng);
        return rc;
    }
    r->params = model_param_count(m);
    printf("threads: %d%s\n\n", r->threads, opt->threads ? " (--threads)" : " (the default)");
    if (!ctx->common->quiet) {
        model_summary(m, stdout);
        putchar('\n');
    }

    if (opt->from_checkpoint) {
        char path[AE_PATH_MAX];
        rc = ae_checkpoint_path(path, sizeof path, ctx, r->recipe.name);
        if (rc == AE_OK) rc = checkpoint_load(m, path);
        if (rc == AE_OK) rc = read_history(ctx, r);
        if (rc == AE_OK && r->trained_seed >= 0)
            printf("Loaded %s (trained for %d epochs with --seed %ld, --lr %s, --batch %s); not training.\n", path,
                   r->history.epochs_run, r->trained_seed, r->trained_lr, r->trained_batch);
        else if (rc == AE_OK)
            printf("Loaded %s (trained for %d epochs, with a seed it does not record); not training.\n", path,
                   r->history.epochs_run);
        if (rc == AE_OK && r->trained_seed >= 0) rc = add_model_int(ctx, r, "trained_with_seed", r->trained_seed);
    } else {
        printf("Training on %zu images, validating on %zu, %d epochs:\n", ctx->sources.train.count,
               ctx->sources.val.count, ctx->common->epochs);
        fflush(stdout);
        rc = train_model(ctx, r, m, rng);
    }

    /* the numbers of the comparison, from the trained (or loaded) weights */
    if (rc == AE_OK) {
        int last = r->history.epochs_run - 1;
        r->train_loss = r->history.train_loss[last];
        double seconds = 0.0;
        for (int e = 0; e <= last; e++) seconds += r->history.seconds[e];
        r->seconds_per_epoch = seconds / (last + 1);
        loss_spec mse = { LOSS_MSE, REDUCE_MEAN }, mae = { LOSS_MAE, REDUCE_MEAN };
        if (opt->from_checkpoint) rc = ENGINE(evaluate_loss)(m, r->recipe.loss, &ctx->sources.val, &r->val_loss);
        else r->val_loss = r->history.val_loss[last];
        if (rc == AE_OK && r->recipe.loss.kind == LOSS_MSE) r->val_mse = r->val_loss;
        else if (rc == AE_OK) rc = ENGINE(evaluate_loss)(m, mse, &ctx->sources.val, &r->val_mse);
        if (rc == AE_OK) rc = ENGINE(evaluate_loss)(m, mae, &ctx->sources.val, &r->val_mae);
    }
    if (rc == AE_OK) {
        printf("\nModel %s: %s parameters; after %d epoch%s train loss %.6f, validation loss %.6f (%s), "
               "validation MSE %.6f, MAE %.5f; %.2f s per epoch\n", r->recipe.name, with_commas(count, sizeof count, r->params),
               r->history.epochs_run, r->history.epochs_run == 1 ? "" : "s", r->train_loss, r->val_loss, loss_name(r->recipe.loss.kind), r->val_mse,
               r->val_mae, r->seconds_per_epoch);
        rc = add_model_int(ctx, r, "params", (long)r->params);
        rc |= add_model_int(ctx, r, "threads", r->threads);
        rc |= add_model_text(ctx, r, "loss", loss_name(r->recipe.loss.kind));
        rc |= add_model_text(ctx, r, "layers", r->recipe.spec);
        rc |= add_model_int(ctx, r, "epochs", r->history.epochs_run);
        rc |= add_model_double(ctx, r, "train_loss", r->train_loss);
        rc |= add_model_double(ctx, r, "val_loss", r->val_loss);
        rc |= add_model_double(ctx, r, "val_mse", r->val_mse);
        rc |= add_model_double(ctx, r, "val_mae", r->val_mae);
        rc |= add_model_double(ctx, r, "seconds_per_epoch", r->seconds_per_epoch);
        if (rc != AE_OK) rc = error_code();
        if (rc == AE_OK) rc = judge_learning(ctx, r);
    }
    if (rc == AE_OK && ctx->task == AE_TASK_ANOMALY) {
        rc = detect_anomalies(ctx, r, m);
        if (rc == AE_OK) {
            rc = add_model_double(ctx, r, "error_mean", r->error_mean);
            rc |= add_model_double(ctx, r, "error_std", r->error_std);
            rc |= add_model_double(ctx, r, "threshold", r->threshold);
            rc |= add_model_int(ctx, r, "tp", r->confusion.tp);
            rc |= add_model_int(ctx, r, "fp", r->confusion.fp);
            rc |= add_model_int(ctx, r, "tn", r->confusion.tn);
            rc |= add_model_int(ctx, r, "fn", r->confusion.fn);
            rc |= add_model_double(ctx, r, "accuracy", r->metrics.accuracy);
            rc |= add_model_double(ctx, r, "precision", r->metrics.precision);
            rc |= add_model_double(ctx, r, "recall", r->metrics.recall);
            rc |= add_model_double(ctx, r, "f1", r->metrics.f1);
            if (r->roc.points) rc |= add_model_double(ctx, r, "auc", r->roc.auc);
            if (rc != AE_OK) rc = error_code();
        }
    }
    if (rc == AE_OK) rc = figure_model_curves(ctx, r);
    if (rc == AE_OK) rc = figure_model_images(ctx, r, m);
    model_free(m);
    gsl_rng_free(rng);
    return rc;
}

/* ---------------------------------------------------------- comparison */

static void write_comparison(FILE *out, const ae_context *ctx, const model_run *runs, int n_runs)
{
    const fashion_mnist *fm = ctx->fm;
    char count[32];
    fprintf(out, "| model | what it is | parameters | loss | train loss | val loss | val MSE | val MAE | s/epoch |\n");
    fprintf(out, "|---|---|---:|---|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < n_runs; k++) {
        const model_run *r = &runs[k];
        fprintf(out, "| %s | %s | %s | %s | %.6f | %.6f | %.6f | %.5f | %.2f |\n", r->recipe.name, r->recipe.summary,
                with_commas(count, sizeof count, r->params), loss_name(r->recipe.loss.kind), r->train_loss,
                r->val_loss, r->val_mse, r->val_mae, r->seconds_per_epoch);
    }
    fprintf(out, "\n");
    if (ctx->task == AE_TASK_ANOMALY) {
        fprintf(out, "| model | threshold | TP | FP | TN | FN | accuracy | precision | recall | F1 |\n");
        fprintf(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int k = 0; k < n_runs; k++) {
            const model_run *r = &runs[k];
            fprintf(out, "| %s | %.5f | %ld | %ld | %ld | %ld | %.4f | %.4f | %.4f | %.4f |\n", r->recipe.name,
                    r->threshold, r->confusion.tp, r->confusion.fp, r->confusion.tn, r->confusion.fn,
                    r->metrics.accuracy, r->metrics.precision, r->metrics.recall, r->metrics.f1);
        }
        fprintf(out, "\n");
    }
    size_t n_train = ctx->sources.train.count, n_val = ctx->sources.val.count;
    int epochs = n_runs > 0 ? runs[0].history.epochs_run : ctx->common->epochs;   /* the checkpoint's, when loaded */
    fprintf(out, "Task %s, %d epoch%s, batch %d, Adam lr %g, seed %lu; %zu training and %zu validation images%s.\n",
            ae_task_name(ctx->task), epochs, epochs == 1 ? "" : "s", ctx->opt->batch, ctx->opt->lr, ctx->common->seed, n_train,
            n_val, fm->is_sample ? " (the small bundled SAMPLE, not the full data)" : "");
    if (ctx->task == AE_TASK_DENOISING)
        fprintf(out, "Inputs carry Gaussian noise of std %g, clipped to [0,1]; targets and losses use the clean images.\n",
                ctx->opt->noise);
    if (ctx->task == AE_TASK_ANOMALY)
        fprintf(out, "Trained on class %d (%s) only; validation: the test images of that class. The detection "
                "counts all %zu test images, the normal class being the positive one.\n", ctx->opt->normal_class,
                fashion_class_name(ctx->opt->normal_class), ctx->shown.count);
    fprintf(out, "Train loss: the mean over the last epoch, in the model's own loss; val loss: the same loss on "
            "the validation images after the last epoch; val MSE and val MAE: every model measured on the "
            "same validation images with the same two metrics. s/epoch includes the validation pass.\n");
}

int ae_compare(ae_context *ctx, const model_run *runs, int n_runs)
{
    program_heading("Comparison");
    write_comparison(stdout, ctx, runs, n_runs);
    atomic_file af;
    int rc = program_open_file(ctx->run, &af, "comparison.md");
    if (rc != AE_OK) return rc;
    fprintf(af.fp, "# %s: %s, models compared\n\n", PROGRAM, ae_task_name(ctx->task));
    write_comparison(af.fp, ctx, runs, n_runs);
    rc = atomic_commit(&af);
    if (rc != AE_OK) return rc;

    /* every model's curves in one figure */
    figure_curves curves[MAX_MODELS];
    for (int k = 0; k < n_runs; k++)
        curves[k] = (figure_curves){ runs[k].recipe.name, runs[k].recipe.loss.kind, runs[k].history.epochs_run,
                                     runs[k].history.train_loss, runs[k].history.val_loss };
    char title[160];
    snprintf(title, sizeof title, "Training (solid) and validation (dashed) loss, %s", ae_task_name(ctx->task));
    rc = figure_loss_curves(ctx->run->out_dir, "loss_curves", title, curves, n_runs);
    if (rc == AE_OK) rc = render(ctx, "loss_curves");
    if (rc != AE_OK || ctx->task != AE_TASK_ANOMALY) return rc;

    /* every model's ROC curve in one figure */
    figure_roc rocs[MAX_MODELS];
    int n_rocs = 0;
    for (int k = 0; k < n_runs; k++)
        if (runs[k].roc.points)
            rocs[n_rocs++] = (figure_roc){ runs[k].recipe.name, &runs[k].roc, runs[k].operating_fpr,
                                           runs[k].operating_tpr };
    if (n_rocs == 0) return AE_OK;
    snprintf(title, sizeof title, "ROC curves of the anomaly detectors: test images of %s (normal) against the "
             "other classes", fashion_class_name(ctx->opt->normal_class));
    rc = figure_roc_curves(ctx->run->out_dir, "anomaly_roc", title, rocs, n_rocs);
    return rc == AE_OK ? render(ctx, "anomaly_roc") : rc;
}

void ae_runs_free(model_run *runs, int n_runs)
{
    for (int k = 0; k < n_runs; k++) anomaly_roc_free(&runs[k].roc);
}

/* ---------------------------------------------------------------- data */

int ae_prepare(ae_context *ctx, const ae_options *opt, const fashion_mnist *fm, program_run *run)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->opt = opt;
    ctx->common = run->common;
    ctx->task = (ae_task)opt->task;
    ctx->fm = fm;
    ctx->run = run;
    ctx->mean_image_mse = -1.0;   /* worked out for the first model that finishes */
    program_heading(ctx->task == AE_TASK_RECONSTRUCTION ? "Task 4: autoencoders on Fashion-MNIST, reconstruction"
                    : ctx->task == AE_TASK_DENOISING    ? "Task 4: autoencoders on Fashion-MNIST, denoising"
                                                        : "Task 4 (optional part): anomaly detection on Fashion-MNIST");
    if (opt->threads)
        printf("Matrix products: %s, %s path; %d thread%s for every model; seed %lu\n", blas_name(), cpu_path_name(),
               opt->threads, opt->threads == 1 ? "" : "s", ctx->common->seed);
    else
        printf("Matrix products: %s, %s path; %d threads for every model; seed %lu\n",
               blas_name(), cpu_path_name(), AE_THREADS, ctx->common->seed);
    int rc = ae_sources_init(&ctx->sources, ctx->task, ctx->fm, opt->normal_class, opt->noise, ctx->common->seed);
    if (rc != AE_OK) return rc;
    if (ctx->task == AE_TASK_ANOMALY) {
        ctx->shown_ctx = (image_source_ctx){ .images = &ctx->fm->test.images };
        ctx->shown = image_batch_source(&ctx->shown_ctx);
        printf("Normal class: %d (%s): %zu training images to learn from, %zu test images of it among %zu\n",
               opt->normal_class, fashion_class_name(opt->normal_class), ctx->sources.train.count,
               ctx->sources.val.count, ctx->shown.count);
    } else {
        ctx->shown = ctx->sources.val;   /* with the test images' noise, for denoising */
        if (ctx->task == AE_TASK_DENOISING)
            printf("Noise: x_noisy = clip(x + %g * N(0, 1), 0, 1) on every input; targets are the clean images\n",
                   opt->noise);
    }
    ctx->n_shown = fashion_first_of_each_class(ctx->shown_index, &ctx->fm->test.labels);

    results *res = run->res;
    rc = results_add_text(res, "task", ae_task_name(ctx->task));
    rc |= results_add_text(res, "data_folder", ctx->fm->dir);
    rc |= results_add_int(res, "data_is_sample", ctx->fm->is_sample);
    rc |= results_add_int(res, "train_images", (long)ctx->sources.train.count);
    rc |= results_add_int(res, "val_images", (long)ctx->sources.val.count);
    rc |= results_add_int(res, "batch", opt->batch);
    rc |= results_add_double(res, "lr", opt->lr);
    rc |= results_add_int(res, "threads", opt->threads);         /* 0: each model's own, model_<M>_threads */
    rc |= results_add_text(res, "engine", engine_name());
    rc |= results_add_int(res, "seed", (long)ctx->common->seed);
    rc |= results_add_int(res, "from_checkpoint", opt->from_checkpoint);
    if (ctx->task == AE_TASK_DENOISING) rc |= results_add_double(res, "noise_factor", opt->noise);
    if (ctx->task == AE_TASK_ANOMALY) {
        rc |= results_add_int(res, "normal_class", opt->normal_class);
        rc |= results_add_text(res, "normal_class_name", fashion_class_name(opt->normal_class));
    }
    return rc == AE_OK ? AE_OK : error_code();
}

void ae_context_free(ae_context *ctx)
{
    ae_sources_free(&ctx->sources);
}

/* The models to run, in order: the chosen built-ins, then the --layers model. */
int ae_choose_models(model_run *runs, int *n_runs, const ae_options *opt, int model_given)
{
    *n_runs = 0;
    /* --layers alone runs only its model; with an explicit --model both run, side by side */
    int builtins = !opt->layers || model_given;
    for (int k = 0; k < AE_BUILTIN_MODELS && builtins; k++) {
        if (opt->model_choice != CHOICE_ALL && opt->model_choice != k) continue;
        int rc = ae_recipe_builtin(&runs[*n_runs].recipe, (ae_task)opt->task, k);
        /* a model whose builder is not written yet (the student edition) is still run: it is
         * skipped then, and the others are trained */
        if (rc != AE_OK && rc != AE_ENOTIMPL) return rc;
        (*n_runs)++;
    }
    if (opt->layers) {
        ae_recipe *r = &runs[*n_runs].recipe;
        int rc = ae_recipe_custom(r, opt->layers, opt->loss_choice ? LOSS_BCE : LOSS_MSE);
        if (rc != AE_OK) return program_error_prefix("--layers", AE_EINVAL);
        /* check the whole model now, before any file is written: a bad spec is a bad option */
        gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
        model *m = NULL;
        rc = rng ? ae_model_create(&m, r, 1, rng) : AE_ERROR(AE_ENOMEM, "out of memory");
        model_free(m);
        gsl_rng_free(rng);
        if (rc != AE_OK) return program_error_prefix("--layers", AE_EINVAL);
        (*n_runs)++;
    }
    return AE_OK;
}

/* With --from-checkpoint every checkpoint must be there before anything is written. */
int ae_check_checkpoints(const ae_context *ctx, const model_run *runs, int n_runs)
{
    for (int k = 0; k < n_runs; k++) {
        char path[AE_PATH_MAX];
        int rc = ae_checkpoint_path(path, sizeof path, ctx, runs[k].recipe.name);
        if (rc != AE_OK) return rc;
        if (!file_exists(path))
            return AE_ERROR(AE_ENOENT, "--from-checkpoint: %s does not exist; train model %s first (the same "
                            "command without --from-checkpoint)", path, runs[k].recipe.name);
    }
    return AE_OK;
}


int ae_model_threads(const ae_options *opt)
{
    return opt->threads > 0 ? opt->threads : AE_THREADS;
}
