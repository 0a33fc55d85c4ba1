/* train.c: the training loop (see train.h).
 *
 * One epoch: shuffle the order of the samples, then for each mini-batch
 *   fill x (B, x_size) and y (B, y_size) from the source,
 *   ŷ = model(x), L = loss(ŷ, y), stop if L is not finite,
 *   grads = ∂L/∂params, params ← optimizer(params, grads).
 * The loss is checked before the optimizer step, so a batch that went wrong
 * never changes the parameters. The batch buffers are allocated once per call.
 */
#include "train.h"
#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Mean loss over src in batches of `batch`, in the caller's buffers index (batch), x (batch, x_size), y (batch, y_size). */
static int evaluate_in_batches(model *m, loss_spec loss, const batch_source *src, int batch, size_t *index,
                               float *x, float *y, double *mean_loss)
{
    double total = 0.0;
    for (size_t start = 0; start < src->count; start += (size_t)batch) {
        const int n = batch_length(src->count, start, batch);
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        const float *pred;
        double batch_loss;
        int rc = src->fill(src->ctx, index, n, x, y);
        if (rc == AE_OK) rc = model_forward(m, x, n, &pred);
        if (rc == AE_OK) rc = loss_compute(loss, &batch_loss, NULL, pred, y, (size_t)n * src->y_size);
        if (rc != AE_OK) return rc;
        total += per_sample_loss(batch_loss, loss, n) * n;
    }
    *mean_loss = total / (double)src->count;
    return AE_OK;
}

int train_fit(model *m, optimizer *opt, loss_spec loss,
              const batch_source *train, const batch_source *val,
              const train_config *cfg, gsl_rng *rng, train_history *history)
{
    int rc = train_check(m, opt, train, val, cfg);
    if (rc != AE_OK) return rc;
    const int batch = cfg->batch_size;
    const size_t x_size = train->x_size, y_size = train->y_size;
    size_t *order = malloc((train->count + (size_t)batch) * sizeof *order);   /* then a batch of indices */
    float *x = malloc((size_t)batch * (x_size + 2 * y_size) * sizeof *x);    /* x, y, ∂L/∂ŷ */
    if (!order || !x) {
        free(order);
        free(x);
        return AE_ERROR(AE_ENOMEM, "out of memory for the training batches");
    }
    float *y = x + (size_t)batch * x_size, *d_pred = y + (size_t)batch * y_size;
    for (size_t i = 0; i < train->count; i++) order[i] = i;
    const long batches = (long)((train->count + (size_t)batch - 1) / (size_t)batch);
    train_history_begin(history);

    for (int epoch = 0; epoch < cfg->epochs && rc == AE_OK; epoch++) {
        train_epoch e;
        train_epoch_begin(&e, cfg, epoch, batches);
        if (cfg->shuffle) shuffle_indices(order, train->count, rng);
        for (long b = 0; b < batches && rc == AE_OK; b++) {
            const size_t start = (size_t)b * (size_t)batch;
            const int n = batch_length(train->count, start, batch);
            const float *pred;
            double batch_loss;
            rc = train->fill(train->ctx, order + start, n, x, y);                                 /* the batch */
            if (rc == AE_OK) rc = model_forward(m, x, n, &pred);                                   /* ŷ = model(x) */
            if (rc == AE_OK) rc = loss_compute(loss, &batch_loss, d_pred, pred, y, (size_t)n * y_size);   /* L, ∂L/∂ŷ */
            if (rc == AE_OK) rc = train_epoch_add(&e, b, batch_loss, loss, n);                    /* NaN stops here */
            if (rc != AE_OK) break;
            model_zero_grad(m);
            rc = model_backward(m, d_pred, n);                                                     /* ∂L/∂θ */
            if (rc == AE_OK) optimizer_step(opt, m->params, m->grads);                             /* θ ← θ − step */
        }
        if (rc != AE_OK) break;
        double val_loss = NAN;
        if (val) rc = evaluate_in_batches(m, loss, val, batch, order + train->count, x, y, &val_loss);
        rc = train_epoch_end(&e, rc, val ? &val_loss : NULL, history);
    }
    free(order);
    free(x);
    return rc;
}

int evaluate_loss(model *m, loss_spec loss, const batch_source *src, double *mean_loss)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "evaluate_loss before model_build");
    int rc = train_check_source(m, src, "evaluation");
    if (rc != AE_OK) return rc;
    const int batch = m->max_batch;
    size_t *index = malloc((size_t)batch * sizeof *index);
    float *x = malloc((size_t)batch * (src->x_size + src->y_size) * sizeof *x);
    if (index && x) rc = evaluate_in_batches(m, loss, src, batch, index, x, x + (size_t)batch * src->x_size, mean_loss);
    else rc = AE_ERROR(AE_ENOMEM, "out of memory for an evaluation batch");
    free(index);
    free(x);
    return rc;
}

/* (D) mean of train's targets, then the mean of (y − mean)² over val's targets and their D values. */
int mean_target_mse(const batch_source *train, const batch_source *val, double *out)
{
    enum { CHUNK = 256 };
    const size_t d = train->y_size;
    double *mean = calloc(d, sizeof *mean);
    float *x = malloc(CHUNK * (train->x_size > val->x_size ? train->x_size : val->x_size) * sizeof *x);
    float *y = malloc(CHUNK * d * sizeof *y);
    size_t index[CHUNK];
    int rc = mean && x && y && val->y_size == d ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory for the mean image");
    for (size_t start = 0; start < train->count && rc == AE_OK; start += CHUNK) {   /* (D) mean target */
        int n = (int)(train->count - start < CHUNK ? train->count - start : CHUNK);
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        rc = train->fill(train->ctx, index, n, x, y);
        for (size_t i = 0; rc == AE_OK && i < (size_t)n * d; i++) mean[i % d] += y[i];
    }
    for (size_t j = 0; j < d && rc == AE_OK; j++) mean[j] /= (double)train->count;
    double se = 0.0;
    for (size_t start = 0; start < val->count && rc == AE_OK; start += CHUNK) {       /* Σ (y − mean)² */
        int n = (int)(val->count - start < CHUNK ? val->count - start : CHUNK);
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        rc = val->fill(val->ctx, index, n, x, y);
        for (size_t i = 0; rc == AE_OK && i < (size_t)n * d; i++) se += (y[i] - mean[i % d]) * (y[i] - mean[i % d]);
    }
    if (rc == AE_OK) *out = se / ((double)val->count * (double)d);
    free(mean);
    free(x);
    free(y);
    return rc;
}

/* ------------------------------------------------------------ the pieces */

progress_style progress_style_for(FILE *stream, int quiet)
{
    if (quiet || !stream) return PROGRESS_NONE;
    return isatty(fileno(stream)) ? PROGRESS_BAR : PROGRESS_LINES;
}

/* Fisher–Yates: order[i] swaps with a uniformly chosen order[j], j ≤ i, from the end down. */
void shuffle_indices(size_t *order, size_t n, gsl_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)gsl_rng_uniform_int(rng, (unsigned long)i);
        size_t kept = order[i - 1];
        order[i - 1] = order[j];
        order[j] = kept;
    }
}

int batch_length(size_t count, size_t start, int batch)
{
    return (int)(count - start < (size_t)batch ? count - start : (size_t)batch);
}

double per_sample_loss(double batch_loss, loss_spec loss, int n)
{
    return loss.reduction == REDUCE_SUM ? batch_loss / n : batch_loss;
}

int train_check_source(const model *m, const batch_source *src, const char *what)
{
    if (src->count == 0) return AE_ERROR(AE_EINVAL, "the %s set is empty", what);
    if (!src->fill) return AE_ERROR(AE_EINVAL, "the %s set has no fill function", what);
    if (src->x_size != m->in_size)
        return AE_ERROR(AE_EBADLEN, "the %s set has inputs of %zu values, but the model takes %zu",
                        what, src->x_size, m->in_size);
    if (src->y_size != model_output_size(m))
        return AE_ERROR(AE_EBADLEN, "the %s set has targets of %zu values, but the model outputs %zu",
                        what, src->y_size, model_output_size(m));
    return AE_OK;
}

int train_check(const model *m, const optimizer *opt, const batch_source *train, const batch_source *val,
                const train_config *cfg)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "train_fit before model_build");
    if (cfg->epochs < 1 || cfg->epochs > TRAIN_MAX_EPOCHS)
        return AE_ERROR(AE_EINVAL, "epochs must lie in 1..%d, not %d", TRAIN_MAX_EPOCHS, cfg->epochs);
    if (cfg->batch_size < 1)
        return AE_ERROR(AE_EINVAL, "the batch size must be at least 1, not %d", cfg->batch_size);
    if (cfg->batch_size > m->max_batch)
        return AE_ERROR(AE_ESTATE, "a batch size of %d does not fit a model built for batches of up to %d",
                        cfg->batch_size, m->max_batch);
    if (opt->n != m->n_params)
        return AE_ERROR(AE_EBADLEN, "the optimizer holds %zu parameters, but the model has %zu",
                        opt->n, m->n_params);
    int rc = train_check_source(m, train, "training");
    if (rc == AE_OK && val) rc = train_check_source(m, val, "validation");
    return rc;
}

void train_history_begin(train_history *history)
{
    if (!history) return;
    memset(history, 0, sizeof *history);
    for (int e = 0; e < TRAIN_MAX_EPOCHS; e++) history->val_loss[e] = NAN;
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { BAR_WIDTH = 30 };

/* "model A  epoch 3/10" */
static void put_epoch(FILE *out, const train_config *cfg, int epoch)
{
    if (cfg->label && cfg->label[0]) fprintf(out, "%s  ", cfg->label);
    fprintf(out, "epoch %d/%d", epoch + 1, cfg->epochs);
}

/* "\rmodel A  epoch 3/10 [=====>    ] 812/1875 loss 0.01234" */
static void draw_bar(FILE *out, const train_config *cfg, int epoch, long done, long batches, double loss)
{
    int filled = (int)(BAR_WIDTH * done / batches);
    fputc('\r', out);
    put_epoch(out, cfg, epoch);
    fputs(" [", out);
    for (int k = 0; k < BAR_WIDTH; k++)
        fputc(k < filled ? '=' : (k == filled && done < batches) ? '>' : ' ', out);
    fprintf(out, "] %ld/%ld loss %#.4g\033[K", done, batches, loss);   /* ESC[K: erase what a longer line left */
    fflush(out);
}

void train_epoch_begin(train_epoch *e, const train_config *cfg, int epoch, long batches)
{
    *e = (train_epoch){ .cfg = cfg, .epoch = epoch, .batches = batches, .started = now_seconds() };
}

int train_epoch_add(train_epoch *e, long batch, double batch_loss, loss_spec loss, int n)
{
    const train_config *cfg = e->cfg;
    FILE *out = cfg->style == PROGRESS_NONE ? NULL : cfg->progress;
    if (!isfinite(batch_loss)) {
        if (out && cfg->style == PROGRESS_BAR) fputc('\n', out);
        return AE_ERROR(AE_ENUMERIC,
                        "the loss became %g in epoch %d, batch %ld of %ld; training stopped with the "
                        "parameters of the last good step (try a smaller learning rate)",
                        batch_loss, e->epoch + 1, batch + 1, e->batches);
    }
    e->total += per_sample_loss(batch_loss, loss, n) * n;
    e->seen += (size_t)n;
    if (out && cfg->style == PROGRESS_BAR) {
        double now = now_seconds();
        if (now - e->last_drawn >= 0.1 || batch + 1 == e->batches) {   /* redrawing costs; ten times a second is plenty */
            draw_bar(out, cfg, e->epoch, batch + 1, e->batches, e->total / (double)e->seen);
            e->last_drawn = now;
        }
    }
    return AE_OK;
}

int train_epoch_end(train_epoch *e, int rc, const double *val_loss, train_history *history)
{
    const train_config *cfg = e->cfg;
    if (rc == AE_OK && val_loss && !isfinite(*val_loss))
        rc = AE_ERROR(AE_ENUMERIC, "the validation loss became %g after epoch %d", *val_loss, e->epoch + 1);
    const double train_loss = e->total / (double)e->seen, seconds = now_seconds() - e->started;
    if (history) {
        history->train_loss[e->epoch] = train_loss;
        history->val_loss[e->epoch] = val_loss ? *val_loss : NAN;
        history->seconds[e->epoch] = seconds;
        history->epochs_run = e->epoch + 1;
    }
    FILE *out = cfg->style == PROGRESS_NONE ? NULL : cfg->progress;
    if (!out || rc != AE_OK) return rc;
    if (cfg->style == PROGRESS_LINES) {
        put_epoch(out, cfg, e->epoch);
        fprintf(out, "  loss %#.4g", train_loss);
    }
    if (val_loss) fprintf(out, "  val_loss %#.4g", *val_loss);
    fprintf(out, "  %.1f s\n", seconds);
    fflush(out);
    return AE_OK;
}
