/* bench_train.c: trains one of Task 4's autoencoders on the full Fashion-MNIST with the
 * library, and prints what `make bench` compares with PyTorch: time, losses, peak memory.
 *
 *   model A: Flatten → Dense(64, relu) → Dense(784, sigmoid)                      101,200 params
 *   model B: Conv2D(16,3,s2,same,relu) → Conv2D(8,3,s2,same,relu) → Conv2DTranspose(8,3,s2,same,relu)
 *            → Conv2DTranspose(16,3,s2,same,relu) → Conv2D(1,3,same,sigmoid)           3,217 params
 * Both: MSE, Adam with Keras' defaults, batch 32, shuffled every epoch, validated on the 10,000
 * test images after every epoch; Glorot-uniform weights and zero biases.
 *
 * Progress goes to stderr; the results go to stdout as "key<TAB>value" lines, the same keys
 * bench/torch_ae.py prints, so that bench/run.sh reads both the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <gsl/gsl_rng.h>

#include "fast/blas.h"
#include "io/cli.h"
#include "fast/cpu.h"
#include "fast/elastic.h"
#include "io/data.h"
#include "engine.h"
#include "error.h"
#include "fast/fast.h"
#include "model.h"
#include "optim.h"
#include "train.h"

static const program_info prog_info = {
    "bench_train",
    "trains Task 4's model A or B on the full Fashion-MNIST and prints time, losses and peak memory",
    "Example: bench_train --model B --epochs 3 --threads 2 --data /path/to/fashion-mnist\n"
    "Run by `make bench` (bench/run.sh), which compares the figures with PyTorch's.",
    CLI_USES_DATA | CLI_TRAINS
};

enum { MODEL_A, MODEL_B };

/* Model A or B, built for batches of up to `batch`. NULL with error_message on failure. */
static model *build_model(int which, int batch, gsl_rng *rng)
{
    model *m = model_alloc(3, (int[]){1, 28, 28});   /* (C, H, W) */
    if (!m) return NULL;
    int rc;
    if (which == MODEL_A) {
        /* encoder: 784 → 64; decoder: 64 → 784 */
        rc = model_add(m, layer_flatten());
        if (rc == AE_OK) rc = model_add(m, layer_dense(64, ACT_RELU));
        if (rc == AE_OK) rc = model_add(m, layer_dense(784, ACT_SIGMOID));
    } else {
        /* encoder: 28x28x1 → 14x14x16 → 7x7x8; decoder: 7x7x8 → 14x14x8 → 28x28x16 → 28x28x1 */
        rc = model_add(m, layer_conv2d(16, 3, 2, PAD_SAME, ACT_RELU));
        if (rc == AE_OK) rc = model_add(m, layer_conv2d(8, 3, 2, PAD_SAME, ACT_RELU));
        if (rc == AE_OK) rc = model_add(m, layer_conv2d_transpose(8, 3, 2, PAD_SAME, ACT_RELU));
        if (rc == AE_OK) rc = model_add(m, layer_conv2d_transpose(16, 3, 2, PAD_SAME, ACT_RELU));
        if (rc == AE_OK) rc = model_add(m, layer_conv2d(1, 3, 1, PAD_SAME, ACT_SIGMOID));
    }
    if (rc == AE_OK) rc = model_build(m, batch, rng);
    if (rc != AE_OK) {
        model_free(m);
        return NULL;
    }
    return m;
}

/* Peak resident set of this process so far, in MiB (Linux reports ru_maxrss in KiB). */
static double peak_rss_mib(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return -1.0;
    return (double)usage.ru_maxrss / 1024.0;
}

int main(int argc, char **argv)
{
    int which = MODEL_A, threads = 2, blas_threads = 1, batch = 32, portable = 0, peak_only = 0;
    double lr = ADAM_DEFAULT_LR;
    cli_option options[] = {
        CLI_CHOICE("model", &which, "A|B", "which autoencoder of Task 4 to train"),
        CLI_INT("threads", &threads, 1, POOL_MAX_THREADS, "N", "threads that each take a share of every batch"),
        CLI_INT("blas-threads", &blas_threads, 1, 64, "N", "threads of each CBLAS matrix product (portable path)"),
        CLI_FLAG("portable", &portable, "only the portable code: plain C loops and CBLAS, no AVX-512"),
        CLI_INT("batch", &batch, 1, 4096, "N", "mini-batch size"),
        CLI_DOUBLE("lr", &lr, 1e-9, 10.0, "LR", "Adam's learning rate"),
        CLI_FLAG("peak-only", &peak_only, "only measure the core's FMA peak (core_peak_gflops), name the BLAS, and stop"),
    };
    common_options common = common_defaults(prog_info.name, 10);
    int rc = cli_parse(argc, argv, &prog_info, options, (int)(sizeof options / sizeof options[0]), &common);
    if (rc == CLI_HELP) return 0;
    if (rc == AE_OK) rc = cli_threads(&common, &threads, cli_seen(options, (int)(sizeof options / sizeof options[0]), "threads"));
    if (rc != AE_OK) return cli_fail(&prog_info);
    if (peak_only) {                        /* for the bound of cases another program trains */
        printf("core_peak_gflops\t%.1f\n", cpu_fma_peak_gflops(0.3));
        printf("blas\t%s\n", blas_name());   /* the library PyTorch's matrix products run in too */
        return 0;
    }

    char dir[4096];
    int is_sample = 0;
    if (fashion_mnist_locate(dir, sizeof dir, common.data_dir, &is_sample) != AE_OK) {
        fprintf(stderr, "%s: %s\n", prog_info.name, error_message());
        return 1;
    }
    fashion_mnist fm;
    if (fashion_mnist_load(&fm, dir, (size_t)common.limit) != AE_OK) {
        fprintf(stderr, "%s: %s\n", prog_info.name, error_message());
        return 1;
    }
    /* timings on the 1,000-image sample would say nothing about the real task */
    if (fm.is_sample || (common.limit == 0 && (fm.train.images.count < 60000 || fm.test.images.count < 10000))) {
        fprintf(stderr, "%s: %s holds %zu training and %zu test images, not the full Fashion-MNIST "
                        "(60,000 and 10,000); benchmarks need the full data: run `make data` or set "
                        "FASHION_MNIST_DIR\n", prog_info.name, dir, fm.train.images.count, fm.test.images.count);
        fashion_mnist_free(&fm);
        return 1;
    }
    cpu_force_portable(portable);
    if (blas_set_threads(blas_threads) != AE_OK) {
        fprintf(stderr, "%s: %s\n", prog_info.name, error_message());
        fashion_mnist_free(&fm);
        return CLI_EXIT_USAGE;
    }

    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, common.seed);
    model *m = build_model(which, batch, rng);
    optimizer *opt = m ? adam_alloc(m->n_params, lr) : NULL;
    if (!m || !opt || model_set_threads(m, threads) != AE_OK) {
        fprintf(stderr, "%s: %s\n", prog_info.name, error_message());
        model_free(m);
        gsl_rng_free(rng);
        fashion_mnist_free(&fm);
        return 1;
    }

    image_source_ctx train_ctx = { .images = &fm.train.images };
    image_source_ctx val_ctx = { .images = &fm.test.images };
    batch_source train = image_batch_source(&train_ctx), val = image_batch_source(&val_ctx);
    const char *label = which == MODEL_A ? "model A" : "model B";
    train_config cfg = { .epochs = common.epochs, .batch_size = batch, .shuffle = 1, .progress = stderr,
                         .style = progress_style_for(stderr, common.quiet), .label = label };
    loss_spec mse = { LOSS_MSE, REDUCE_MEAN };
    static train_history history;
    rc = ENGINE(train_fit)(m, opt, mse, &train, &val, &cfg, rng, &history);
    if (rc != AE_OK) {
        fprintf(stderr, "%s: %s\n", prog_info.name, error_message());
    } else {
        double total = 0.0;
        for (int e = 0; e < history.epochs_run; e++) total += history.seconds[e];
        const int last = history.epochs_run - 1;
        printf("implementation\tC (this repository)\n");
        printf("model\t%s\n", which == MODEL_A ? "A" : "B");
        printf("params\t%zu\n", m->n_params);
        printf("threads\t%d\n", threads);
        printf("backend\t%s, %s kernels\n", blas_name(), cpu_path_name());
        printf("epochs\t%d\n", history.epochs_run);
        printf("seconds_total\t%.4f\n", total);
        printf("seconds_per_epoch\t%.4f\n", total / history.epochs_run);
        printf("train_loss\t%.6f\n", history.train_loss[last]);
        printf("val_loss\t%.6f\n", history.val_loss[last]);
        printf("peak_rss_mib\t%.1f\n", peak_rss_mib());
        const elastic *e = model_threads_elastic(m);   /* an all-dense model's steps: on the threads, or alone */
        if (e) printf("steps_on_threads\t%.3f\n", (double)e->steps_on[1] / (double)(e->steps_on[0] + e->steps_on[1]));
        /* the work of an epoch in floating-point operations: a training sample costs three products
         * of the forward's size (forward, input gradient, weight gradient), a validation sample one;
         * the first layer's input gradient, which nobody needs, is counted too: a bound, not a model */
        const double macs = model_forward_macs(m);
        printf("flops_per_epoch\t%.6g\n", 2.0 * macs * (3.0 * (double)fm.train.images.count + (double)fm.test.images.count));
        printf("core_peak_gflops\t%.1f\n", cpu_fma_peak_gflops(0.3));
    }
    optimizer_free(opt);
    model_free(m);
    gsl_rng_free(rng);
    fashion_mnist_free(&fm);
    return rc == AE_OK ? 0 : 1;
}
