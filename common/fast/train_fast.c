/* train_fast.c: the training loop's fast twin (see train.h): the steps of train_fit with the
 * fast kernels, each batch split over the model's threads when it has several
 * (model_set_threads), and the next batch's samples asked for ahead of time.
 *
 * On one thread a step is exactly train_fit's: fill, forward, loss, NaN check, backward,
 * optimizer. On several, a whole step runs in the lanes (see "a batch split over lanes"), except
 * an all-dense model's steps that run alone because that is faster at the moment (elastic steps,
 * threads.h): then it is one thread's step with the loss added up as the lanes add it.
 */
#include "train.h"
#include "error.h"
#include "fast/fast.h"
#include "fast/threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------ a batch split over lanes */

/* With a model on several threads (model_set_threads), a whole step runs in the lanes: each
 * fills its share of the batch, runs it forward, computes its share of the loss and runs it
 * backward into its own gradient block; then, after the loss is found finite, each lane sums
 * the gradients of its share of the parameters and updates them. Two handovers per batch.
 * An all-dense model split by units (model_units_split) needs one: its lanes own their
 * parameters and gradients whole, so each updates its own right after the backward pass; each
 * lane fills a copy of the whole batch, and asks for the next batch's samples itself. */
typedef struct {
    model *m;
    optimizer *opt;
    loss_spec loss;
    const batch_source *src;
    const size_t *index;            /* (n) this batch's samples */
    int n;
    const size_t *next_index;       /* units: the next batch's samples, for each lane to ask for (NULL: none) */
    int next_n;
    float *x, *y, *d_pred;          /* (n, x_size), (n, y_size), (n, y_size) */
    int backward;                   /* 0: forward and loss only (evaluation) */
    int units;                      /* 1: an all-dense model split by units (model_units_split) */
    float *lane_xy;                 /* units: each lane's own copy of the batch, x then y */
    size_t lane_xy_floats;          /* units: floats per lane */
    double *terms;                  /* units, BCE: (n, y_size) each value's term of the loss, or NULL */
    double loss_of[POOL_MAX_THREADS];     /* each lane's share of the batch loss (units split: 0, or NaN: not finite) */
    int scored_of[POOL_MAX_THREADS];      /* units: each lane's result before its backward pass */
    int rc_of[POOL_MAX_THREADS];
    double batch_loss;                    /* units, training: the batch's loss, found by lane 0 ... */
    int batch_rc;                         /* ... with this result */
    char message_of[POOL_MAX_THREADS][256];   /* a lane's error message (error messages are per thread) */
} lane_step;

/* A mean over a lane's count·y_size values, times count/n, is its share of the batch's mean;
 * a sum is its share already. The gradient of a mean is scaled the same way. */
static double lane_loss_share(loss_spec loss, double lane_loss, float *d_pred, size_t values, int count, int n)
{
    if (loss.reduction != REDUCE_MEAN || count == n) return lane_loss;
    return fast_loss_scale_share(lane_loss, d_pred, values, (size_t)count, (size_t)n);
}

/* The output columns a lane owns (model_units_columns), row by row: their gradient in s->d_pred
 * (when s->backward), with the whole batch's scale (fast_loss_share): the same gradient as one
 * call on the whole batch, and whether their loss is finite (*finite). That is all a lane's share
 * of the loss tells: the loss itself is added up over the whole output afterwards
 * (units_batch_loss), one call as on one thread: the same bits on any number of threads, and on
 * elastic steps alone. */
static int units_loss(lane_step *s, int lane, const float *pred, const float *y, int *finite)
{
    const size_t y_size = s->src->y_size, values = (size_t)s->n * y_size;
    size_t c0, c1;
    model_units_columns(s->m, lane, &c0, &c1);
    int rc = AE_OK;
    *finite = 1;
    for (int b = 0; b < s->n && rc == AE_OK && c1 > c0; b++) {
        const size_t at = (size_t)b * y_size + c0;
        int row_finite;
        rc = fast_loss_share_finite(s->loss, &row_finite, s->backward ? s->d_pred + at : NULL,
                                    s->terms ? s->terms + at : NULL, pred + at, y + at, c1 - c0, values);
        *finite = *finite && row_finite;
    }
    return rc;
}

/* The batch's loss after the lanes have run: the whole output against lane 0's copy of the targets,
 * or for BCE the sum of the terms the lanes kept (the same bits, no logarithm on one thread) */
static int units_batch_loss(const lane_step *s, double *loss)
{
    if (s->terms) {
        *loss = fast_loss_sum_terms(s->loss, s->terms, (size_t)s->n * s->src->y_size);
        return AE_OK;
    }
    const float *pred = model_layer_input(s->m, s->m->n_layers, s->lane_xy);   /* (n, y_size): the output */
    const float *y = s->lane_xy + (size_t)s->n * s->src->x_size;
    return fast_loss_compute(s->loss, loss, NULL, pred, y, (size_t)s->n * s->src->y_size);
}

/* All-dense models split by units: each lane fills its own copy of the whole batch, runs the
 * model for its units, and scores and differentiates the output columns it owns. */
static int units_lane(lane_step *s, int lane)
{
    const size_t x_size = s->src->x_size;
    float *x = s->lane_xy + (size_t)lane * s->lane_xy_floats, *y = x + (size_t)s->n * x_size;
    int rc = s->src->fill(s->src->ctx, s->index, s->n, x, y);
    if (s->next_index && lane > 0 && s->src->prefetch)   /* lane 0's asked for by the loop, before the lanes start */
        s->src->prefetch(s->src->ctx, s->next_index, s->next_n);
    /* forward and backward run in every lane whatever happened before: the lanes wait for each
     * other between layers, and a lane that stayed away would leave the others waiting */
    const float *pred;
    int forward = model_units_forward(s->m, x, s->n, lane, &pred);
    if (rc == AE_OK) rc = forward;
    /* an evaluation's loss is the whole output's (units_batch_loss): a lane has nothing to score
     * but BCE's terms */
    int finite = 1;
    if (rc == AE_OK && (s->backward || s->terms)) rc = units_loss(s, lane, pred, y, &finite);
    s->loss_of[lane] = finite ? 0.0 : NAN;
    s->scored_of[lane] = rc;
    int settled = 0;
    if (s->backward && forward == AE_OK) {
        int back = model_units_backward_fresh(s->m, x, s->d_pred, s->n, lane, &settled);   /* its gradients written */
        if (rc == AE_OK) rc = back;
    }
    s->rc_of[lane] = rc;
    if (rc != AE_OK) snprintf(s->message_of[lane], sizeof s->message_of[lane], "%s", error_message());
    if (!s->backward || forward != AE_OK) return rc;
    /* the update in the same handover: once every lane's share of the loss is in (the lanes have
     * met since, in the backward pass or here), each lane adds them up and, when no lane failed and
     * the total is finite (so is then the batch's loss that train_fit checks), runs the optimizer
     * (its step begun by train_fit) on the parameters it owns. When the backward pass has settled
     * (model_units_backward_fresh), a lane that is ahead goes on at once: a barrier here would make
     * it wait for the others to finish their backward pass, and them for its update. */
    if (!settled) model_lanes_barrier(s->m);
    double batch_loss = 0.0;
    int ok = 1;
    for (int k = 0; k < s->m->threads; k++) {
        batch_loss += s->loss_of[k];
        ok = ok && (settled ? s->scored_of[k] : s->rc_of[k]) == AE_OK;   /* rc_of: after the barrier only */
    }
    if (ok && isfinite(batch_loss)) {
        size_t first[2 * MODEL_UNITS_MAX_DENSE], end[2 * MODEL_UNITS_MAX_DENSE];
        const int ranges = model_units_params(s->m, lane, first, end, 2 * MODEL_UNITS_MAX_DENSE);
        for (int r = 0; r < ranges; r++) fast_optimizer_update_range(s->opt, s->m->params, s->m->grads, first[r], end[r]);
    }
    /* the batch's loss, summed over the whole output in one thread's order: by lane 0 here (every
     * lane's columns are in since the lanes met), while a slower lane still works, rather than on
     * this thread after the handover */
    if (lane == 0 && ok) s->batch_rc = units_batch_loss(s, &s->batch_loss);
    return rc;
}

/* fill, forward, loss (and backward) of this lane's rows */
static void step_lane(void *opaque, int lane, int lanes)
{
    lane_step *s = opaque;
    if (s->units) {                                 /* it sets rc_of[lane] itself, before the lanes meet */
        units_lane(s, lane);
        return;
    }
    const size_t x_size = s->src->x_size, y_size = s->src->y_size;
    size_t first, end;
    pool_share((size_t)s->n, 1, lane, lanes, &first, &end);
    const int count = (int)(end - first);
    s->loss_of[lane] = 0.0;
    int rc = AE_OK;
    if (count > 0) {
        float *x = s->x + first * x_size, *y = s->y + first * y_size;
        float *d_pred = s->backward ? s->d_pred + first * y_size : NULL;
        const float *pred;
        rc = s->src->fill(s->src->ctx, s->index + first, count, x, y);
        if (rc == AE_OK) rc = model_lane_forward(s->m, s->x, (int)first, count, lane, &pred);
        double lane_loss = 0.0;
        if (rc == AE_OK)
            rc = fast_loss_compute(s->loss, &lane_loss, d_pred, pred + first * y_size, y, (size_t)count * y_size);
        if (rc == AE_OK) s->loss_of[lane] = lane_loss_share(s->loss, lane_loss, d_pred, (size_t)count * y_size, count, s->n);
        if (rc == AE_OK && s->backward) rc = model_lane_backward(s->m, s->x, s->d_pred, (int)first, count, lane);
    }
    s->rc_of[lane] = rc;
    if (rc != AE_OK) snprintf(s->message_of[lane], sizeof s->message_of[lane], "%s", error_message());
}

/* each lane's share of the parameters: gradients summed over the lanes, then the optimizer */
static void update_lane(void *opaque, int lane, int lanes)
{
    lane_step *s = opaque;
    size_t first, end;
    pool_share(s->m->n_params, 16, lane, lanes, &first, &end);
    model_gather_grads(s->m, first, end, 0);
    fast_optimizer_update_range(s->opt, s->m->params, s->m->grads, first, end);
}

/* Runs step_lane on every lane; the batch loss (the lanes' shares added in lane order; the units
 * split's over the whole output, units_batch_loss, in training by lane 0), or the first lane's
 * error, raised again on this thread. */
static int run_lanes(lane_step *s, double *batch_loss)
{
    model_run_lanes(s->m, step_lane, s);
    double total = 0.0;
    for (int lane = 0; lane < s->m->threads; lane++) {
        if (s->rc_of[lane] != AE_OK) return AE_ERROR(s->rc_of[lane], "%s", s->message_of[lane]);
        total += s->loss_of[lane];
    }
    if (s->units && s->backward) {                  /* lane 0 has found it */
        *batch_loss = s->batch_loss;
        return s->batch_rc;
    }
    if (s->units) return units_batch_loss(s, batch_loss);
    *batch_loss = total;
    return AE_OK;
}

/* Mean loss over src in batches of `batch`, using the caller's buffers x (batch, x_size), y (batch, y_size);
 * in the lanes of `step` when the model has several threads (unless its steps run alone now: the
 * same bits). */
static int evaluate_with(model *m, loss_spec loss, const batch_source *src, int batch, size_t *index,
                         float *x, float *y, lane_step *step, double *mean_loss)
{
    double total = 0.0;
    for (size_t start = 0; start < src->count; start += (size_t)batch) {
        int n = batch_length(src->count, start, batch);
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        if (step) {
            step->m = m;
            step->loss = loss;
            step->src = src;
            step->index = index;
            step->n = n;
            step->x = x;
            step->y = y;
            step->backward = 0;
        }
        if (step && model_on_threads(m)) {   /* fill, forward and loss in the lanes */
            double batch_loss;
            int rc = run_lanes(step, &batch_loss);
            if (rc != AE_OK) return rc;
            total += per_sample_loss(batch_loss, loss, n) * n;
            continue;
        }
        int rc = src->fill(src->ctx, index, n, x, y);
        if (rc != AE_OK) return rc;
        const float *pred;
        rc = fast_model_forward_here(m, x, n, &pred);
        if (rc != AE_OK) return rc;
        double batch_loss;
        rc = fast_loss_compute(loss, &batch_loss, NULL, pred, y, (size_t)n * src->y_size);
        if (rc != AE_OK) return rc;
        total += per_sample_loss(batch_loss, loss, n) * n;
    }
    *mean_loss = total / (double)src->count;
    return AE_OK;
}

/* An all-dense model split by units: each lane's own copy of a batch (threads × lane_xy_floats
 * floats), and for BCE the batch's terms of the loss (values doubles, *terms; else NULL), in one
 * block for free(); NULL when the model is not split by units, or out of memory. */
static float *units_buffers(const model *m, loss_spec loss, size_t lane_xy_floats, size_t values, double **terms)
{
    *terms = NULL;
    if (!model_units_split(m)) return NULL;
    const size_t xy_bytes = ((size_t)m->threads * lane_xy_floats * sizeof(float) + sizeof(double) - 1)
                            / sizeof(double) * sizeof(double);
    const int bce = loss.kind == LOSS_BCE;
    char *block = malloc(xy_bytes + (bce ? values * sizeof(double) : 0));
    if (block && bce) *terms = (double *)(block + xy_bytes);
    return (float *)block;
}

int fast_evaluate_loss(model *m, loss_spec loss, const batch_source *src, double *mean_loss)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "evaluate_loss before model_build");
    int rc = train_check_source(m, src, "evaluation");
    if (rc == AE_OK) rc = model_lanes_ready(m);
    if (rc != AE_OK) return rc;
    int batch = m->max_batch;
    size_t *index = malloc((size_t)batch * sizeof *index);
    float *x = malloc((size_t)batch * (src->x_size + src->y_size) * sizeof *x);
    lane_step *step = m->threads > 1 ? malloc(sizeof *step) : NULL;
    const size_t lane_xy_floats = (size_t)batch * (src->x_size + src->y_size);
    double *terms;
    float *lane_xy = units_buffers(m, loss, lane_xy_floats, (size_t)batch * src->y_size, &terms);
    if (!index || !x || (m->threads > 1 && !step) || (model_units_split(m) && !lane_xy)) {
        free(index);
        free(x);
        free(step);
        free(lane_xy);
        return AE_ERROR(AE_ENOMEM, "out of memory for an evaluation batch");
    }
    if (step)
        *step = (lane_step){ .units = lane_xy != NULL, .lane_xy = lane_xy, .lane_xy_floats = lane_xy_floats, .terms = terms };
    rc = evaluate_with(m, loss, src, batch, index, x, x + (size_t)batch * src->x_size, step, mean_loss);
    free(index);
    free(x);
    free(step);
    free(lane_xy);
    return rc;
}

int fast_train_fit(model *m, optimizer *opt, loss_spec loss,
                   const batch_source *train, const batch_source *val,
                   const train_config *cfg, gsl_rng *rng, train_history *history)
{
    int rc = train_check(m, opt, train, val, cfg);
    if (rc == AE_OK) rc = model_lanes_ready(m);
    if (rc != AE_OK) return rc;

    int batch = cfg->batch_size;
    size_t x_size = train->x_size, y_size = train->y_size;
    size_t *order = malloc((train->count + (size_t)batch) * sizeof *order);   /* then a batch of indices */
    float *x = malloc((size_t)batch * (x_size + 2 * y_size) * sizeof *x);    /* x, y, d_pred */
    if (!order || !x) {
        free(order);
        free(x);
        return AE_ERROR(AE_ENOMEM, "out of memory for the training batches");
    }
    size_t *val_index = order + train->count;
    float *y = x + (size_t)batch * x_size;
    float *d_pred = y + (size_t)batch * y_size;
    for (size_t i = 0; i < train->count; i++) order[i] = i;
    lane_step *step = NULL;            /* with threads: [0] for training, [1] for validation */
    float *lane_xy = NULL;             /* an all-dense model split by units: each lane's copy of a batch */
    double *terms = NULL;              /* ... and for BCE the batch's terms of the loss */
    const size_t lane_xy_floats = (size_t)batch * (x_size + y_size);
    if (m->threads > 1) {
        step = malloc(2 * sizeof *step);
        if (step) lane_xy = units_buffers(m, loss, lane_xy_floats, (size_t)batch * y_size, &terms);
        if (!step || (model_units_split(m) && !lane_xy)) {
            free(step);
            free(order);
            free(x);
            return AE_ERROR(AE_ENOMEM, "out of memory for the training batches");
        }
        step[0] = (lane_step){ .m = m, .opt = opt, .loss = loss, .src = train, .x = x, .y = y, .d_pred = d_pred,
                               .backward = 1, .units = lane_xy != NULL, .lane_xy = lane_xy,
                               .lane_xy_floats = lane_xy_floats, .terms = terms };
        step[1] = step[0];
    }

    long batches = (long)((train->count + (size_t)batch - 1) / (size_t)batch);
    train_history_begin(history);
    for (int epoch = 0; epoch < cfg->epochs && rc == AE_OK; epoch++) {
        train_epoch e;
        train_epoch_begin(&e, cfg, epoch, batches);
        if (cfg->shuffle) shuffle_indices(order, train->count, rng);
        for (long b = 0; b < batches; b++) {
            size_t start = (size_t)b * (size_t)batch;
            int n = batch_length(train->count, start, batch);
            double batch_loss;
            if (step) step->next_index = NULL;
            if (train->prefetch && b + 1 < batches) {   /* the next batch's samples, while this one runs */
                size_t next = start + (size_t)batch;
                train->prefetch(train->ctx, order + next, batch_length(train->count, next, batch));
                if (step) {                             /* each lane that fills a copy of its own asks too */
                    step->next_index = order + next;
                    step->next_n = batch_length(train->count, next, batch);
                }
            }
            /* elastic steps (threads.h), the same numbers either way, only faster now: an all-dense
             * model may run this step alone (its lanes' gradients are the whole batch's,
             * fast_loss_share), a model split by rows its lanes in turn on this thread */
            const int way = model_threads_step(m);   /* 0 on one thread */
            const int lanes = m->threads > 1 && (way || !step->units);
            if (lanes) {
                if (step->units) optimizer_begin_step(opt);   /* the lanes update the parameters themselves */
                step->index = order + start;
                step->n = n;
                rc = run_lanes(step, &batch_loss);   /* fill, forward, loss and backward, in the lanes */
            } else {
                rc = train->fill(train->ctx, order + start, n, x, y);
                const float *pred;
                if (rc == AE_OK) rc = fast_model_forward_here(m, x, n, &pred);
                if (rc == AE_OK) rc = fast_loss_compute(loss, &batch_loss, d_pred, pred, y, (size_t)n * y_size);
            }
            if (rc == AE_OK) rc = train_epoch_add(&e, b, batch_loss, loss, n);   /* NaN stops here */
            if (rc != AE_OK) break;
            if (lanes) {
                if (!step->units) {
                    optimizer_begin_step(opt);
                    model_run_lanes(m, update_lane, step);   /* grads summed and parameters updated, share by share */
                }
            } else {
                rc = fast_model_backward_fresh(m, d_pred, n);   /* the gradients written, not cleared and added to */
                if (rc != AE_OK) break;
                fast_optimizer_step(opt, m->params, m->grads);
            }
        }
        if (rc != AE_OK) break;
        model_threads_pause(m);                       /* the validation pass is not a step */
        double val_loss = NAN;
        if (val) rc = evaluate_with(m, loss, val, batch, val_index, x, y, step ? step + 1 : NULL, &val_loss);
        rc = train_epoch_end(&e, rc, val ? &val_loss : NULL, history);
    }
    free(lane_xy);
    free(step);
    free(order);
    free(x);
    return rc;
}
