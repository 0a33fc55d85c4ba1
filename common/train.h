/* train.h: the training loop: epochs of shuffled mini-batches, train and
 * validation loss per epoch, progress, and a clear stop on NaN or infinity.
 *
 * Data comes through a batch_source (batch.h).
 *
 * train_fit is the plain loop, one step after the other, as a student writes it; its fast
 * twin fast_train_fit (fast/train_fast.c) runs the same steps with the fast kernels, on
 * several threads when the model has them (model_set_threads), and asks the data source
 * for the next batch ahead of time. Programs call ENGINE(train_fit) (engine.h).
 */
#ifndef AE_TRAIN_H
#define AE_TRAIN_H

#include <stddef.h>
#include <stdio.h>
#include <gsl/gsl_rng.h>

#include "batch.h"
#include "loss.h"
#include "model.h"
#include "optim.h"


typedef enum {
    PROGRESS_NONE,         /* --quiet */
    PROGRESS_LINES,        /* one line per epoch (output is not a terminal) */
    PROGRESS_BAR           /* a bar redrawn in place with \r (a terminal) */
} progress_style;

typedef struct {
    int epochs;
    int batch_size;
    int shuffle;                 /* reshuffle the training order every epoch */
    FILE *progress;              /* where progress goes (stderr in the programs); unused with PROGRESS_NONE */
    progress_style style;
    const char *label;           /* printed before each epoch line, e.g. "model A" */
} train_config;

#define TRAIN_MAX_EPOCHS 1000

typedef struct {
    int epochs_run;
    double train_loss[TRAIN_MAX_EPOCHS];   /* mean batch loss over the epoch, weighted by batch size
                                              (with REDUCE_SUM, a batch's loss per sample: its sum / its size) */
    double val_loss[TRAIN_MAX_EPOCHS];     /* loss over the whole validation set after the epoch; NaN without one */
    double seconds[TRAIN_MAX_EPOCHS];      /* wall time of the epoch, validation included */
} train_history;

/* PROGRESS_BAR when stream is a terminal, PROGRESS_LINES otherwise, PROGRESS_NONE when quiet. */
progress_style progress_style_for(FILE *stream, int quiet);

/* Trains m with opt on train, reporting val (may be NULL) after every epoch. rng drives
 * the shuffling. AE_ENUMERIC, with the epoch and batch in the message, when a loss
 * becomes NaN or infinite; the model then holds the parameters of the last good step.
 * AE_ESTATE when cfg->batch_size exceeds the model's max_batch, AE_EBADLEN when the
 * sources' sample sizes or the optimizer's parameter count do not match the model. */
int train_fit(model *m, optimizer *opt, loss_spec loss,
              const batch_source *train, const batch_source *val,
              const train_config *cfg, gsl_rng *rng, train_history *history);

/* Mean loss of m over every sample of src, in batches of at most m->max_batch (with
 * REDUCE_SUM, the summed loss per sample). */
int evaluate_loss(model *m, loss_spec loss, const batch_source *src, double *mean_loss);

/* The trivial baseline: the MSE on val of a "model" that outputs the mean of train's targets
 * whatever its input. A model that does no better has learned nothing about its data. */
int mean_target_mse(const batch_source *train, const batch_source *val, double *mse);

/* Fisher–Yates shuffle of order[0..n) with rng. */
void shuffle_indices(size_t *order, size_t n, gsl_rng *rng);

/* ------------------------------------------------------------------------
 * The pieces train_fit is made of, shared with its fast twin. */

/* The checks of train_fit's arguments (AE_ESTATE, AE_EINVAL, AE_EBADLEN as above). */
int train_check(const model *m, const optimizer *opt, const batch_source *train, const batch_source *val,
                const train_config *cfg);
/* AE_EINVAL for an empty source, AE_EBADLEN when its sizes do not match the model; `what` names it. */
int train_check_source(const model *m, const batch_source *src, const char *what);
/* The samples of the batch that starts at sample `start` of `count`: `batch`, or fewer at the end. */
int batch_length(size_t count, size_t start, int batch);
/* A batch's loss counted per sample: for a sum over the batch, the sum divided by the batch size;
 * a mean is already per value. Weighted by the batch size, these average to the epoch's loss. */
double per_sample_loss(double batch_loss, loss_spec loss, int n);

/* One epoch's bookkeeping: the running loss, the progress bar, the line at its end. */
typedef struct {
    const train_config *cfg;
    int epoch;
    long batches;                /* in the epoch */
    double started, last_drawn;  /* seconds */
    double total;                /* Σ per-sample batch loss · batch size */
    size_t seen;                 /* samples so far */
} train_epoch;
void train_epoch_begin(train_epoch *e, const train_config *cfg, int epoch, long batches);
/* AE_ENUMERIC naming the epoch and batch when the loss is not finite; else adds it and redraws the bar. */
int train_epoch_add(train_epoch *e, long batch, double batch_loss, loss_spec loss, int n);
/* The end of an epoch whose batches all went well: rc is the validation's status, val_loss its loss
 * (NULL without validation), checked (AE_ENUMERIC when not finite); the history gets the epoch
 * in any case, the progress stream its line when all is well. Returns the status. */
int train_epoch_end(train_epoch *e, int rc, const double *val_loss, train_history *history);
/* history emptied, every val_loss NaN (may be NULL). */
void train_history_begin(train_history *history);

#endif
