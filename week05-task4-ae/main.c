/* main.c: week05-task4-ae, Task 4 of the week-5 sheet: autoencoders on Fashion-MNIST,
 * after the TensorFlow tutorial "Intro to Autoencoders".
 *
 *   --task reconstruction  models A–D learn to give back their input (A: the tutorial's
 *                          dense autoencoder; B: convolutions; C: one more encoder layer;
 *                          D: A trained with binary cross-entropy)
 *   --task denoising       the same question with Gaussian noise on the inputs and clean
 *                          targets (A: the tutorial's convolutional denoiser)
 *   --task anomaly         the reconstruction models trained on one class only; images they
 *                          reconstruct badly are called anomalies
 *
 * The steps: choose the models, read the data, then each model in turn (built, trained or
 * loaded, measured, drawn), and the comparison. The models are written layer by layer in
 * ae_models.c, a model's run is ae_run.c, the anomaly rule ae_anomaly.c, the figures ae_figures.c.
 */
#include "ae_models.h"
#include "ae_run.h"
#include "error.h"
#include "fast/blas.h"
#include "fast/pool.h"
#include "io/cli.h"
#include "io/data.h"
#include "io/program.h"
#include "optim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAM "week05-task4-ae"
#define OUT_PLACEHOLDER "out/" PROGRAM "/TASK"   /* the default --out; TASK becomes the task's name */
#define DEFAULT_NORMAL_CLASS 7                   /* Sneaker */

static const program_info prog_info = {
    PROGRAM,
    "autoencoders on Fashion-MNIST (Task 4): models A-D for reconstruction, denoising or anomaly detection, "
    "with loss curves, reconstructions, a comparison table and checkpoints",
    "Models (--layers gives a model of your own, reported as model 'custom'):\n"
    "  reconstruction  A dense 784-64-784 (the tutorial's), B convolutional, C A + Dense(128), D A with BCE\n"
    "  denoising       A the tutorial's conv denoiser, B upsampling + Conv2D, C A + Conv2D, D A with BCE\n"
    "  anomaly         the reconstruction models, trained on --normal-class only\n"
    "Classes for --normal-class: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,\n"
    "  6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot\n"
    "--layers: comma-separated layers, each KIND:FIELDS, for example\n"
    "  \"dense:128:relu,dense:64:relu,dense:784:sigmoid\"\n"
    "  \"conv:16:3:s2:relu,conv:8:3:s2:relu,tconv:8:3:s2:relu,tconv:16:3:s2:relu,conv:1:3:sigmoid\"\n"
    "  kinds: dense:UNITS[:ACT]  conv:FILTERS:KERNEL[:sN][:same|valid][:ACT]  tconv:(as conv)  up  pool\n"
    "         flatten  reshape:1x28x28  act:ACT;  ACT is relu, sigmoid, tanh or linear (the default),\n"
    "         convolutions default to stride s1 and padding same\n"
    "Examples:\n"
    "  week05-task4-ae                              A-D for reconstruction, 10 epochs, full data\n"
    "  week05-task4-ae --task denoising --model A   the tutorial's denoiser\n"
    "  week05-task4-ae --task anomaly --normal-class 1\n"
    "  week05-task4-ae --from-checkpoint            redraw figures and numbers from the saved weights\n"
    "\n"
    "Writes into the --out folder (default out/week05-task4-ae/<task>): loss_curves.png and\n"
    "loss_curves_<M>.png, reconstructions_<M>.png, anomaly_histogram_<M>.png and anomaly_roc.png\n"
    "(anomaly), comparison.md, results.tsv, and <task>_model_<M>.ckpt with <task>_model_<M>_history.tsv\n"
    "for --from-checkpoint.",
    CLI_USES_DATA | CLI_TRAINS
};

static const char *const MODEL_CHOICES = "A|B|C|D|all";
static const char *const TASK_CHOICES = "reconstruction|denoising|anomaly";
static const char *const LOSS_CHOICES = "mse|bce";

int main(int argc, char **argv)
{
    ae_options opt = {
        .model_choice = CHOICE_ALL, .task = AE_TASK_RECONSTRUCTION, .batch = 32, .lr = ADAM_DEFAULT_LR,
        .threads = 0, .from_checkpoint = 0, .layers = NULL, .loss_choice = 0,
        .normal_class = DEFAULT_NORMAL_CLASS, .noise = AE_DEFAULT_NOISE,
    };
    cli_option table[] = {
        CLI_CHOICE("model", &opt.model_choice, MODEL_CHOICES, "which model to train (all: A, B, C and D in turn)"),
        CLI_CHOICE("task", &opt.task, TASK_CHOICES, "what the autoencoders learn"),
        CLI_INT("batch", &opt.batch, 1, 4096, "N", "mini-batch size"),
        CLI_DOUBLE("lr", &opt.lr, 1e-7, 1.0, "R", "Adam's learning rate"),
        CLI_INT("threads", &opt.threads, 1, POOL_MAX_THREADS, "N", "threads that share each batch of every model "
                "(the same N and --seed give the same numbers bit for bit); default: 2"),
        CLI_FLAG("from-checkpoint", &opt.from_checkpoint, "load <task>_model_<M>.ckpt from the --out folder instead "
                 "of training, then redraw the figures and recompute the numbers"),
        CLI_STRING("layers", &opt.layers, "SPEC", "a model of your own, reported as model 'custom' (see below)"),
        CLI_CHOICE("loss", &opt.loss_choice, LOSS_CHOICES, "the loss the --layers model is trained with"),
        CLI_INT("normal-class", &opt.normal_class, 0, FASHION_CLASSES - 1, "K",
                "anomaly: the class to train on, the normal one (7: Sneaker; classes below)"),
        CLI_DOUBLE("noise", &opt.noise, 0.0, 1.0, "F", "denoising: std of the Gaussian noise added to the inputs"),
    };
    int n_table = (int)(sizeof table / sizeof table[0]);
    common_options common = common_defaults(PROGRAM, 10);
    snprintf(common.out_dir, sizeof common.out_dir, "%s", OUT_PLACEHOLDER);
    int rc = cli_parse(argc, argv, &prog_info, table, n_table, &common);
    if (rc == CLI_HELP) return 0;
    const int threads_seen = cli_seen(table, n_table, "threads");
    if (rc == AE_OK) rc = cli_threads(&common, &opt.threads, threads_seen);
    if (rc != AE_OK) return cli_fail(&prog_info);
    if (strcmp(common.out_dir, OUT_PLACEHOLDER) == 0)
        snprintf(common.out_dir, sizeof common.out_dir, "out/%s/%s", PROGRAM, ae_task_name((ae_task)opt.task));

    /* every value checked before anything is read or written */
    model_run runs[MAX_MODELS];
    memset(runs, 0, sizeof runs);
    int n_runs = 0;
    rc = ae_choose_models(runs, &n_runs, &opt, table[0].seen);
    /* the threads split the work; each matrix product inside a thread runs on one */
    if (rc == AE_OK && (rc = blas_set_threads(1)) != AE_OK) rc = program_error_prefix("--threads", AE_EINVAL);
    if (rc != AE_OK) return cli_fail(&prog_info);

    program_run run;
    ae_context ctx;
    fashion_mnist fm;
    memset(&ctx, 0, sizeof ctx);
    memset(&fm, 0, sizeof fm);
    rc = program_begin(&run, &prog_info, &common);
    ctx = (ae_context){ .opt = &opt, .common = &common, .task = (ae_task)opt.task, .run = &run };
    if (rc == AE_OK && opt.from_checkpoint) rc = ae_check_checkpoints(&ctx, runs, n_runs);
    if (rc == AE_OK) rc = cli_load_fashion_mnist(&fm, &common, PROGRAM);
    if (rc == AE_OK) rc = ae_prepare(&ctx, &opt, &fm, &run);           /* the task's data and images */
    double started = program_seconds();
    model_run done[MAX_MODELS];                                          /* the models that completed */
    int n_done = 0;
    for (int k = 0; k < n_runs && rc == AE_OK; k++) {                   /* each model: train, measure, draw */
        int index = strcmp(runs[k].recipe.name, "custom") == 0 ? CUSTOM_INDEX : runs[k].recipe.name[0] - 'A';
        char part[32];
        snprintf(part, sizeof part, "model %.16s", runs[k].recipe.name);
        rc = program_part(&run, part, ae_run_model(&ctx, &runs[k], index));   /* one model's trouble is its own */
        if (rc == AE_OK && program_part_done(&run, part)) done[n_done++] = runs[k];
    }
    if (rc == AE_OK && n_done > 0) rc = program_part(&run, "the comparison", ae_compare(&ctx, done, n_done));
    if (rc == AE_OK) {
        double seconds = program_seconds() - started;
        printf("All models: %.1f s.\n", seconds);
        rc = program_result(&run, seconds, "total_seconds");
    }
    ae_runs_free(runs, n_runs);
    ae_context_free(&ctx);
    fashion_mnist_free(&fm);
    return program_end(&run, rc);
}
