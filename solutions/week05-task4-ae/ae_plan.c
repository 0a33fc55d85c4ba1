/* ae_plan.c: how week05-task4-ae is graded, every expected value from ae_reference.c.
 *
 * Usage: week05-task4-ae-plan SAMPLE_DIR   (the bundled Fashion-MNIST sample: 600 + 200 images)
 *
 * Parameter counts are exact: Σ (IN·OUT + OUT) for dense layers, (k·k·C_in + 1)·C_out for
 * convolutions, as Keras counts them.
 *
 * The bands. The program trains every model for a few epochs on the sample with one seed;
 * the reference trains the dense models A and C the same way (MSE, Adam with Keras'
 * defaults, batch 32, reshuffled every epoch, Glorot-uniform weights) with REF_SEEDS seeds of
 * its own. A right program behaves like one more seed, so its validation MSE must lie within
 *     mean ± max(4 standard deviations of the reference seeds, 8 % of the mean).
 * After 10 epochs the reference seeds spread by about 2.5 % (one standard deviation) and so do
 * the program's own seeds; four of them, or 8 % when a few seeds happen to agree closely, leave
 * room for the float32 arithmetic and another random stream. The band is narrow enough for what
 * goes wrong: a linear instead of a sigmoid output learns faster early and ends 25–30 % lower
 * (below the band), and model C without its Dense(128) layer behaves like A, 15 % higher after
 * 10 epochs (above C's band; its parameter count fails in any case).
 * Models B and D have no reference run; they must beat the best input-blind prediction, the
 * mean training image (its validation MSE is computed here).
 *
 * Ten epochs, because the convolutional models sit on a plateau for their first few epochs
 * (after 3 epochs some seeds are still above the mean image) and are well below it after 10.
 * GRADE_QUICK=1 (the test suite) uses 3 reference seeds instead of 8.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ae_reference.h"
#include "grade_data.h"
#include "grade_lib.h"

/* mean ± max(4 s, 8 % of the mean) over the seeds' values v (n) */
static void band(const double *v, int n, double *low, double *high, double *mean_out)
{
    double mean = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++) mean += v[i] / n;
    for (int i = 0; i < n; i++) ss += (v[i] - mean) * (v[i] - mean);
    double sd = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
    double half = fmax(4.0 * sd, 0.08 * mean);
    *low = mean - half;
    *high = mean + half;
    *mean_out = mean;
}

int main(int argc, char **argv)
{
    const int quick = getenv("GRADE_QUICK") && strcmp(getenv("GRADE_QUICK"), "1") == 0;
    const int epochs = 10, seeds = quick ? 3 : 8;
    const char *sample = argc > 1 ? argv[1] : "data/sample";
    size_t n_train = 0, n_val = 0;
    double *train, *val;
    if (grade_load_sample(sample, &train, &n_train, &val, &n_val) != 0) return 3;

    const ref_dense model_a[] = { { 64, REF_RELU }, { 784, REF_SIGMOID } };
    const ref_dense model_c[] = { { 128, REF_RELU }, { 64, REF_RELU }, { 784, REF_SIGMOID } };
    /* model B: Conv2D 1→16, 16→8 (stride 2), Conv2DTranspose 8→8, 8→16 (stride 2), Conv2D 16→1, all 3x3 */
    const int b_channels[5][2] = { { 1, 16 }, { 16, 8 }, { 8, 8 }, { 8, 16 }, { 16, 1 } };
    long params_b = 0;
    for (int l = 0; l < 5; l++) params_b += ref_conv_layer_params(3, b_channels[l][0], b_channels[l][1]);
    long params_a = ref_dense_params(model_a, 2), params_c = ref_dense_params(model_c, 3);
    double baseline = grade_mean_image_mse(train, n_train, val, n_val);

    double val_a[8], val_c[8], train_a[8];
    for (int s = 0; s < seeds; s++) {
        val_a[s] = ref_train_autoencoder(model_a, 2, train, n_train, val, n_val, epochs, 1000 + s, &train_a[s]);
        val_c[s] = ref_train_autoencoder(model_c, 3, train, n_train, val, n_val, epochs, 2000 + s, NULL);
        if (isnan(val_a[s]) || isnan(val_c[s])) {
            fprintf(stderr, "week05-task4-ae-plan: the reference training ran out of memory\n");
            return 3;
        }
    }
    double lo_a, hi_a, mean_a, lo_c, hi_c, mean_c, lo_ta, hi_ta, mean_ta;
    band(val_a, seeds, &lo_a, &hi_a, &mean_a);
    band(val_c, seeds, &lo_c, &hi_c, &mean_c);
    band(train_a, seeds, &lo_ta, &hi_ta, &mean_ta);

    plan_exercise("week05-task4-ae", "Task 4: autoencoders on Fashion-MNIST, models A–D");
    plan_requires("week05-task4-ae/Makefile week05-task4-ae/main.c");

    /* each model its own run: one model's trouble costs only its own items */
    char args[512];
    const char *const models[4] = { "A", "B", "C", "D" };
    for (int k = 0; k < 4; k++) {
        char run[32];
        snprintf(run, sizeof run, "reconstruction_%s", models[k]);
        snprintf(args, sizeof args, "--model %s --task reconstruction --epochs %d --batch 32 --data @SAMPLE@ --seed 3 --quiet",
                 models[k], epochs);
        plan_run(run, 1, 0, 600, args, "trains model %s for %d epochs on the bundled sample (seed 3) and writes results.tsv",
                 models[k], epochs);
    }
    plan_num("reconstruction_A", 2, "model_A_params", (double)params_a, 0,
             "model A has %ld,%03ld parameters (784·64+64 + 64·784+784)", params_a / 1000, params_a % 1000);
    plan_band("reconstruction_A", 3, "model_A_val_mse", lo_a, hi_a,
              "model A validation MSE within its band after a short seeded run (reference mean %.5f, %d seeds)",
              mean_a, seeds);
    plan_band("reconstruction_A", 1, "model_A_train_loss", lo_ta, hi_ta,
              "model A last-epoch training loss within its band (reference mean %.5f)", mean_ta);
    plan_question("Task 4c: model B");
    plan_num("reconstruction_B", 2, "model_B_params", (double)params_b, 0,
             "model B has %ld,%03ld parameters (five 3x3 convolutions)", params_b / 1000, params_b % 1000);
    plan_band("reconstruction_B", 2, "model_B_val_mse", 0.0, baseline,
              "model B learns: validation MSE below the mean image's %.5f", baseline);
    plan_question("Task 4c: model C");
    plan_num("reconstruction_C", 2, "model_C_params", (double)params_c, 0,
             "model C has %ld,%03ld parameters (784·128+128 + 128·64+64 + 64·784+784)", params_c / 1000, params_c % 1000);
    plan_band("reconstruction_C", 3, "model_C_val_mse", lo_c, hi_c,
              "model C validation MSE within its band after a short seeded run (reference mean %.5f, %d seeds)",
              mean_c, seeds);
    plan_question("Task 4d: model D");
    plan_band("reconstruction_D", 1, "model_D_params", 1, 1e9, "model D reports its parameter count");
    plan_band("reconstruction_D", 1, "model_D_val_mse", 0.0, baseline,
              "model D learns: validation MSE below the mean image's %.5f", baseline);

    /* denoising model A is the convolutional model B of reconstruction, trained on noisy inputs */
    snprintf(args, sizeof args, "--model A --task denoising --epochs %d --batch 32 --data @SAMPLE@ --seed 3 --quiet",
             epochs);
    plan_run("denoising", 1, 0, 600, args, "trains the denoising model A for %d epochs on the sample and writes results.tsv",
             epochs);
    plan_question("Task 4c: model B");
    plan_num("denoising", 1, "model_A_params", (double)params_b, 0,
             "denoising model A, the tutorial's convolutional denoiser, has %ld,%03ld parameters",
             params_b / 1000, params_b % 1000);
    plan_question("Task 4 (denoising): the noise");
    plan_band("denoising", 1, "model_A_val_mse", 0.0, baseline,
              "denoising model A learns: validation MSE (noisy in, clean out) below the mean image's %.5f", baseline);

    /* denoising B (UpSampling2D + Conv2D for each Conv2DTranspose), C (one more Conv2D on the code), D (BCE) */
    const long params_upsampling = params_b;   /* the same five 3x3 layers' weights: 3,217 */
    const long params_deeper = params_b + ref_conv_layer_params(3, 8, 8);   /* + Conv2D(8, 3) on 8 channels */
    const struct { const char *model, *question; long params; } denoisers[3] = {
        { "B", "Task 4 (denoising): model B", params_upsampling },
        { "C", "Task 4 (denoising): model C", params_deeper },
        { "D", "Task 4 (denoising): model D", params_b },
    };
    for (int k = 0; k < 3; k++) {
        char run[32], key[64];
        snprintf(run, sizeof run, "denoising_%s", denoisers[k].model);
        snprintf(args, sizeof args, "--model %s --task denoising --epochs %d --batch 32 --data @SAMPLE@ --seed 3 --quiet",
                 denoisers[k].model, epochs);
        plan_question(NULL);
        plan_run(run, 1, 0, 600, args, "trains the denoising model %s for %d epochs on the sample and writes results.tsv",
                 denoisers[k].model, epochs);
        plan_question(denoisers[k].question);
        snprintf(key, sizeof key, "model_%s_params", denoisers[k].model);
        plan_num(run, 1, key, (double)denoisers[k].params, 0, "denoising model %s has %ld,%03ld parameters",
                 denoisers[k].model, denoisers[k].params / 1000, denoisers[k].params % 1000);
        snprintf(key, sizeof key, "model_%s_val_mse", denoisers[k].model);
        plan_band(run, 1, key, 0.0, baseline, "denoising model %s learns: validation MSE below the mean image's %.5f",
                  denoisers[k].model, baseline);
    }

    plan_question(NULL);
    plan_run("bad_model", 1, 2, 30, "--model E", "refuses --model E with exit status 2");
    plan_run("bad_layers", 1, 2, 30, "--layers dense:12x:relu", "refuses --layers dense:12x:relu with exit status 2");

    /* the functions of the denoising and anomaly parts, linked against the reference rules */
    plan_harness(1, 60, "the submission's anomaly_threshold and ae_corrupt link against the reference tests");
    static const plan_fn_row functions[] = {
        { 2, "threshold", "anomaly_threshold: mean + one population standard deviation of 6 training errors, to 1e-12",
          "Task 4 (anomaly): the threshold" },
        { 2, "noise", "ae_corrupt: clip(x + 0.2·noise, 0, 1) on 6 pixels, some clipped at 0 and at 1",
          "Task 4 (denoising): the noise" },
    };
    PLAN_FNS(functions);

    free(train);
    free(val);
    return 0;
}
