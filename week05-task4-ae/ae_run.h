/* ae_run.h: one task of week05-task4-ae, model by model: each model built, trained (or loaded
 * from its checkpoint), measured and drawn, the anomaly detection of the anomaly task with its
 * ROC curve, and the comparison of all models.
 */
#ifndef AE_RUN_H
#define AE_RUN_H

#include <stddef.h>

#include "ae_anomaly.h"
#include "ae_models.h"
#include "io/data.h"
#include "io/program.h"
#include "train.h"

#define SHOWN_IMAGES FASHION_CLASSES             /* one test image per class in the figures */
#define CUSTOM_INDEX AE_BUILTIN_MODELS           /* the --layers model's index among the runs */
#define MAX_MODELS (AE_BUILTIN_MODELS + 1)       /* A..D and a --layers model */
enum { CHOICE_ALL = AE_BUILTIN_MODELS };         /* --model all */

typedef struct {
    int model_choice;          /* 0..3 = A..D, CHOICE_ALL */
    int task;                  /* ae_task */
    int batch;
    double lr;
    int threads;                    /* --threads for every model; 0: the default (ae_model_threads) */
    int from_checkpoint;
    const char *layers;        /* --layers, NULL when not given */
    int loss_choice;           /* the --layers model's loss: 0 mse, 1 bce */
    int normal_class;
    double noise;
} ae_options;

/* Everything one model produced. */
typedef struct {
    ae_recipe recipe;
    size_t params;
    long trained_seed;              /* --from-checkpoint: the seed its history records; -1: none */
    char trained_lr[64], trained_batch[32];   /* --from-checkpoint: the --lr and --batch it records; "?": none */
    train_history history;     /* read back from the history file with --from-checkpoint */
    double train_loss;         /* the last epoch's, in the model's own loss */
    double val_loss;           /* over the validation images, in the model's own loss */
    double val_mse;            /* over the same images, MSE for every model: the fair comparison */
    double val_mae;            /* and their mean absolute error, the per-pixel error a reader sees */
    double seconds_per_epoch;  /* mean wall time of an epoch, validation included */
    int threads;               /* the lanes it trained on (ae_model_threads) */
    /* anomaly */
    double error_mean, error_std, threshold;
    anomaly_confusion confusion;
    anomaly_metrics metrics;
    anomaly_roc roc;                /* every threshold at once; owns its points (ae_runs_free) */
    double operating_fpr, operating_tpr;   /* where the threshold rule sits on it */
} model_run;

/* What every step needs. */
typedef struct {
    const ae_options *opt;
    const common_options *common;
    ae_task task;
    const fashion_mnist *fm;
    ae_sources sources;
    image_source_ctx shown_ctx;       /* the images of the figures (for the anomaly task: all test images) */
    batch_source shown;
    size_t shown_index[SHOWN_IMAGES];
    int n_shown;
    program_run *run;                 /* results.tsv, figures, the --out folder */
    double mean_image_mse;            /* validation MSE of predicting the mean training target; < 0: not yet */
} ae_context;

/* The models to run, in order: the chosen built-ins (--model, all of them by default), then the
 * --layers model, checked whole now so that a bad spec is a bad option (AE_EINVAL, "--layers: ...");
 * with --layers alone only its model runs, with an explicit --model (model_given) both. */
int ae_choose_models(model_run *runs, int *n_runs, const ae_options *opt, int model_given);
/* The task's data, the images of the figures, the heading and the setup in results.tsv. */
int ae_prepare(ae_context *ctx, const ae_options *opt, const fashion_mnist *fm, program_run *run);
void ae_context_free(ae_context *ctx);
/* <task>_model_<M>.ckpt in the --out folder */
int ae_checkpoint_path(char *path, size_t len, const ae_context *ctx, const char *model_name);
/* With --from-checkpoint: AE_ENOENT, saying what to do, unless every model's checkpoint is there. */
/* The lanes a model trains on: --threads when given, else AE_THREADS for every model. A
 * convolutional model splits its batch between them (model B's epoch takes about half as long); a
 * dense one splits its units and runs each step on both or on one alone, whichever is faster at the
 * moment (elastic steps, common/fast/README.md): the same numbers either way, so two threads cost it
 * little when they do not pay (another program on the cores, bench/README.md) and gain when they do. */
#define AE_THREADS 2
int ae_model_threads(const ae_options *opt);
int ae_check_checkpoints(const ae_context *ctx, const model_run *runs, int n_runs);
/* One model, from its recipe to its figures; index 0..3 for A..D, CUSTOM_INDEX for --layers. */
int ae_run_model(ae_context *ctx, model_run *r, int index);
/* The comparison table (stdout and comparison.md), every model's curves in loss_curves.png, and
 * for the anomaly task every model's ROC curve in anomaly_roc.png. */
int ae_compare(ae_context *ctx, const model_run *runs, int n_runs);
/* What the runs own (their ROC curves). */
void ae_runs_free(model_run *runs, int n_runs);

#endif
