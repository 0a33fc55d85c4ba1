/* train.h: the training loop: epochs of shuffled mini-batches, train and
 * validation loss per epoch, progress, and a clear stop on NaN or infinity.
 *
 * Data comes through a batch_source (batch.h).
 *
 * A model split over threads (model_set_threads) trains the same way, with each
 * step run in its lanes: every lane fills, runs forward, scores and runs backward
 * its share of the batch, then updates its share of the parameters. fill is then
 * called from several threads at once, each time for other samples and other rows
 * of x and y, so it must not change shared state (image_batch_source's does not).
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

/* Fisher–Yates shuffle of order[0..n) with rng. */
void shuffle_indices(size_t *order, size_t n, gsl_rng *rng);

#endif
