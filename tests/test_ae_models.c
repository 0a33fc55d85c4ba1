/* test_ae_models.c: the models of week05-task4-ae (ae_models.c), their data, and the program.
 *
 *   Core      parameter counts of A–D for reconstruction and denoising, worked out here layer by
 *             layer (784·64+64 and 64·784+784 ...); B's shapes 28→14→7→14→28
 *   Parser    --layers specs that must parse, field by field
 *   Limits    malformed specs refused with a message naming the item and the bad part; layers
 *             that do not fit; a model that does not give back 784 values; BCE without a sigmoid
 *   Training  every built-in model, 2 epochs on a slice of the sample: the loss goes down
 *   Data      noisy inputs within [0,1] with the stated noise, clean targets; the anomaly subsets
 *   Checkpoint  save, load into a model with other weights: identical reconstructions
 *   Program   bin/week05-task4-ae: a short run, --from-checkpoint gives back its numbers, model A
 *             is the run seeded with --seed itself, an anomaly run whose counts, AUC and ROC figure
 *             agree, and exit status 2 (with no folder created) on bad options
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ae_models.h"
#include "io/data.h"
#include "error.h"
#include "io/fileio.h"
#include "io/results.h"
#include "checkpoint.h"
#include "engine.h"
#include "fast/fast.h"
#include "fast/cpu.h"
#include "testutil.h"
#include "train.h"

#define PROGRAM "week05-task4-ae"

/* ------------------------------------------------------------ helpers */

static model *create(ae_task task, int index, int max_batch, unsigned long seed)
{
    ae_recipe r;
    ck_assert_int_eq(ae_recipe_builtin(&r, task, index), AE_OK);
    gsl_rng *rng = test_rng(seed);
    model *m;
    int rc = ae_model_create(&m, &r, max_batch, rng);
    gsl_rng_free(rng);
    ck_assert_msg(rc == AE_OK, "model %c: %s", 'A' + index, error_message());
    return m;
}

/* Dense(IN → OUT): OUT·IN weights and OUT biases. */
static size_t dense_params(size_t in, size_t out) { return in * out + out; }
/* Conv2D or Conv2DTranspose with a K×K kernel: K·K·C·OC weights and OC biases. */
static size_t conv_params(size_t k, size_t in_c, size_t out_c) { return k * k * in_c * out_c + out_c; }

static fashion_mnist load_sample(size_t limit)
{
    fashion_mnist fm;
    test_load_sample(&fm, limit);
    return fm;
}

/* ---------------------------------------------------------------- Core */

START_TEST(test_param_counts)
{
    /* reconstruction */
    size_t dense_a = dense_params(784, 64) + dense_params(64, 784);          /* 50,240 + 50,960 */
    size_t conv_b = conv_params(3, 1, 16) + conv_params(3, 16, 8)            /* encoder: 160 + 1,160 */
                    + conv_params(3, 8, 8) + conv_params(3, 8, 16) + conv_params(3, 16, 1);   /* 584 + 1,168 + 145 */
    size_t dense_c = dense_params(784, 128) + dense_params(128, 64) + dense_params(64, 784);
    ck_assert_uint_eq(dense_a, 101200);
    ck_assert_uint_eq(conv_b, 3217);
    ck_assert_uint_eq(conv_params(3, 1, 16) + conv_params(3, 16, 8), 1320);   /* B's encoder, as Keras counts it */
    size_t expected_reconstruction[AE_BUILTIN_MODELS] = { dense_a, conv_b, dense_c, dense_a };
    /* denoising: B swaps each Conv2DTranspose for UpSampling2D + Conv2D of the same size; C adds Conv2D(8, 3) */
    size_t expected_denoising[AE_BUILTIN_MODELS] = { conv_b, conv_b, conv_b + conv_params(3, 8, 8), conv_b };
    for (int k = 0; k < AE_BUILTIN_MODELS; k++) {
        model *m = create(AE_TASK_RECONSTRUCTION, k, 4, 7);
        ck_assert_msg(model_param_count(m) == expected_reconstruction[k], "reconstruction %c: %zu parameters, "
                      "expected %zu", 'A' + k, model_param_count(m), expected_reconstruction[k]);
        ck_assert_uint_eq(model_output_size(m), 784);
        model_free(m);
        m = create(AE_TASK_DENOISING, k, 4, 7);
        ck_assert_msg(model_param_count(m) == expected_denoising[k], "denoising %c: %zu parameters, expected %zu",
                      'A' + k, model_param_count(m), expected_denoising[k]);
        model_free(m);
    }
}
END_TEST

START_TEST(test_model_b_shapes)
{
    model *m = create(AE_TASK_RECONSTRUCTION, 1, 2, 3);
    const int expected[5][3] = { { 16, 14, 14 }, { 8, 7, 7 }, { 8, 14, 14 }, { 16, 28, 28 }, { 1, 28, 28 } };
    ck_assert_int_eq(m->n_layers, 5);
    for (int i = 0; i < 5; i++)
        for (int d = 0; d < 3; d++) ck_assert_int_eq(m->layers[i].out_shape[d], expected[i][d]);
    ck_assert_int_eq(m->layers[4].spec.act, ACT_SIGMOID);
    model_free(m);
}
END_TEST

START_TEST(test_losses_and_names)
{
    ae_recipe r;
    for (int task = 0; task < 3; task++)
        for (int k = 0; k < AE_BUILTIN_MODELS; k++) {
            ck_assert_int_eq(ae_recipe_builtin(&r, (ae_task)task, k), AE_OK);
            ck_assert_int_eq(r.name[0], 'A' + k);
            ck_assert_int_eq(r.loss.kind, k == 3 ? LOSS_BCE : LOSS_MSE);   /* D is the BCE model */
        }
    /* anomaly detection uses the reconstruction models */
    ae_recipe anomaly;
    ck_assert_int_eq(ae_recipe_builtin(&r, AE_TASK_RECONSTRUCTION, 1), AE_OK);
    ck_assert_int_eq(ae_recipe_builtin(&anomaly, AE_TASK_ANOMALY, 1), AE_OK);
    ck_assert_str_eq(r.spec, anomaly.spec);
    ck_assert_str_eq(ae_task_name(AE_TASK_DENOISING), "denoising");
}
END_TEST

/* -------------------------------------------------------------- Parser */

START_TEST(test_parse_help_example)
{
    ae_layer_list list;
    ck_assert_int_eq(ae_layers_parse("dense:128:relu,dense:64:relu,dense:784:sigmoid", &list), AE_OK);
    ck_assert_int_eq(list.n_layers, 3);
    const int units[3] = { 128, 64, 784 };
    const activation acts[3] = { ACT_RELU, ACT_RELU, ACT_SIGMOID };
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(list.layers[i].kind, LAYER_DENSE);
        ck_assert_int_eq(list.layers[i].units, units[i]);
        ck_assert_int_eq(list.layers[i].act, acts[i]);
    }
    ck_assert_str_eq(list.items[1], "dense:64:relu");
    /* it starts with dense, so it takes the image flat and needs no flatten */
    model *m;
    ck_assert_int_eq(ae_model_from_layers(&m, &list), AE_OK);
    ck_assert_int_eq(m->in_ndim, 1);
    ck_assert_uint_eq(model_param_count(m), dense_params(784, 128) + dense_params(128, 64) + dense_params(64, 784));
    model_free(m);
}
END_TEST

static void assert_conv_spec(const layer_spec *l, layer_kind kind, int filters, int kernel, int stride,
                             padding_mode padding, activation act)
{
    ck_assert_int_eq(l->kind, kind);
    ck_assert_int_eq(l->filters, filters);
    ck_assert_int_eq(l->kernel, kernel);
    ck_assert_int_eq(l->stride, stride);
    ck_assert_int_eq(l->padding, padding);
    ck_assert_int_eq(l->act, act);
}

START_TEST(test_parse_convolutions)
{
    ae_layer_list list;
    /* options after the kernel in any order; spaces around items; the long kind names */
    ck_assert_int_eq(ae_layers_parse(" conv:16:3:s2:same:relu , tconv:8:5:valid:tanh:s3,conv2d:4:1,"
                                     "conv2d_transpose:2:3:sigmoid", &list), AE_OK);
    ck_assert_int_eq(list.n_layers, 4);
    const layer_spec *a = &list.layers[0], *b = &list.layers[1], *c = &list.layers[2], *d = &list.layers[3];
    assert_conv_spec(a, LAYER_CONV2D, 16, 3, 2, PAD_SAME, ACT_RELU);
    ck_assert_str_eq(list.items[0], "conv:16:3:s2:same:relu");
    assert_conv_spec(b, LAYER_CONV2D_TRANSPOSE, 8, 5, 3, PAD_VALID, ACT_TANH);
    /* defaults: stride 1, padding same, linear */
    assert_conv_spec(c, LAYER_CONV2D, 4, 1, 1, PAD_SAME, ACT_NONE);
    assert_conv_spec(d, LAYER_CONV2D_TRANSPOSE, 2, 3, 1, PAD_SAME, ACT_SIGMOID);
}
END_TEST

START_TEST(test_parse_other_kinds)
{
    ae_layer_list list;
    ck_assert_int_eq(ae_layers_parse("pool,up,flatten,reshape:28x28,reshape:1x28x28,reshape:784,act:tanh,"
                                     "maxpool,upsample,activation:linear", &list), AE_OK);
    ck_assert_int_eq(list.n_layers, 10);
    ck_assert_int_eq(list.layers[0].kind, LAYER_MAXPOOL2);
    ck_assert_int_eq(list.layers[1].kind, LAYER_UPSAMPLE2);
    ck_assert_int_eq(list.layers[2].kind, LAYER_FLATTEN);
    for (int i = 3; i <= 4; i++) {   /* 28x28 is one channel of 28 x 28, as Keras' Reshape((28, 28)) */
        ck_assert_int_eq(list.layers[i].kind, LAYER_RESHAPE);
        ck_assert_int_eq(list.layers[i].shape_ndim, 3);
        ck_assert_int_eq(list.layers[i].shape[0], 1);
        ck_assert_int_eq(list.layers[i].shape[1], 28);
        ck_assert_int_eq(list.layers[i].shape[2], 28);
    }
    ck_assert_int_eq(list.layers[5].shape_ndim, 1);
    ck_assert_int_eq(list.layers[5].shape[0], 784);
    ck_assert_int_eq(list.layers[6].kind, LAYER_ACTIVATION);
    ck_assert_int_eq(list.layers[6].act, ACT_TANH);
    ck_assert_int_eq(list.layers[7].kind, LAYER_MAXPOOL2);
    ck_assert_int_eq(list.layers[8].kind, LAYER_UPSAMPLE2);
    ck_assert_int_eq(list.layers[9].act, ACT_NONE);
}
END_TEST

START_TEST(test_parse_builtin_specs)
{
    /* every built-in model is a spec the parser reads back item by item */
    for (int task = 0; task < 2; task++)
        for (int k = 0; k < AE_BUILTIN_MODELS; k++) {
            ae_recipe r;
            ae_layer_list list;
            ck_assert_int_eq(ae_recipe_builtin(&r, (ae_task)task, k), AE_OK);
            ck_assert_msg(ae_layers_parse(r.spec, &list) == AE_OK, "%s: %s", r.spec, error_message());
            int commas = 0;
            for (const char *c = r.spec; *c; c++) commas += *c == ',';
            ck_assert_int_eq(list.n_layers, commas + 1);
        }
}
END_TEST

/* -------------------------------------------------------------- Limits */

typedef struct {
    const char *spec;
    const char *message;   /* a part of the message that must be there */
} bad_spec;

static const bad_spec BAD_SPECS[] = {
    { "dense:64:relu,dense:12x:relu", "item 2 'dense:12x:relu': '12x' is not a number of units" },
    { "", "the spec is empty" },
    { "   ", "the spec is empty" },
    { "dense:64,,dense:784", "item 2 is empty" },
    { "dense:64,", "item 2 is empty" },
    { ",dense:64", "item 1 is empty" },
    { "dens:64", "item 1 'dens:64': 'dens' is not a layer kind" },
    { "Dense:64", "'Dense' is not a layer kind" },
    { "dense", "item 1 'dense': a dense layer needs its number of units" },
    { "dense:0:relu", "the number of units must be from 1 to 65536, not 0" },
    { "dense:-5", "'-5' is not a number of units" },
    { "dense:64:rleu", "'rleu' is not an activation" },
    { "dense:64:relu:extra", "'extra' is one field too many" },
    { "dense::relu", "item 1 'dense::relu': field 2 is empty" },
    { "dense:64:", "field 3 is empty" },
    { "conv:16", "needs filters and a kernel size" },
    { "conv:16:3x3", "'3x3' is not a kernel size" },
    { "conv:sixteen:3", "'sixteen' is not a number of filters" },
    { "conv:16:3:s0", "the stride must be from 1 to 8, not 0" },
    { "conv:16:3:s2x", "'2x' is not a stride" },
    { "conv:16:3:s2:s1", "'s1' gives the stride a second time" },
    { "conv:16:3:same:valid", "'valid' gives the padding a second time" },
    { "tconv:16:3:relu:sigmoid", "'sigmoid' gives the activation a second time" },
    { "conv:16:3:x2", "'x2' is not a stride (s1, s2, ...), a padding (same, valid) or an activation" },
    { "reshape:28y28", "'28y28' is not a shape" },
    { "reshape:1x2x3x4", "at most 3 dimensions" },
    { "reshape", "needs its target shape" },
    { "up:2", "item 1 'up:2': '2' is one field too many" },
    { "act", "needs its function" },
    { "act:softmax", "'softmax' is not an activation" },
};
#define N_BAD_SPECS (int)(sizeof BAD_SPECS / sizeof BAD_SPECS[0])

START_TEST(test_parse_refusals)
{
    const bad_spec *bad = &BAD_SPECS[_i];
    ae_layer_list list;
    error_clear();
    int rc = ae_layers_parse(bad->spec, &list);
    ck_assert_msg(rc == AE_EINVAL, "'%s' was accepted (code %d)", bad->spec, rc);
    ck_assert_msg(strstr(error_message(), bad->message), "'%s': message \"%s\" lacks \"%s\"", bad->spec,
                  error_message(), bad->message);
}
END_TEST

START_TEST(test_parse_too_long)
{
    char spec[AE_SPEC_MAX + 40];
    ae_layer_list list;
    /* 33 layers: one more than a model may have */
    spec[0] = '\0';
    for (int i = 0; i < AE_SPEC_MAX_LAYERS + 1; i++) strcat(spec, i ? ",up" : "up");
    ck_assert_int_eq(ae_layers_parse(spec, &list), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "at most 32 layers"));
    /* one item longer than 63 characters */
    snprintf(spec, sizeof spec, "dense:%060d", 1);
    ck_assert_int_eq(ae_layers_parse(spec, &list), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "at most 63 characters"));
    /* the whole spec beyond AE_SPEC_MAX */
    memset(spec, 'u', AE_SPEC_MAX + 10);
    spec[AE_SPEC_MAX + 10] = '\0';
    ck_assert_int_eq(ae_layers_parse(spec, &list), AE_EINVAL);
}
END_TEST

START_TEST(test_build_refusals)
{
    ae_layer_list list;
    model *m = (model *)&list;   /* must be set to NULL on failure */
    /* a dense layer after a convolution gets (C, H, W): model_add's reason, with the item named */
    ck_assert_int_eq(ae_layers_parse("conv:16:3:s2:relu,dense:784:sigmoid", &list), AE_OK);
    ck_assert_int_eq(ae_model_from_layers(&m, &list), AE_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(error_message(), "item 2 'dense:784:sigmoid': a dense layer needs a flat input; "
                                                  "put flatten before it (its input is (16, 14, 14))"));
    /* the model must give back 784 values */
    ck_assert_int_eq(ae_layers_parse("dense:64:relu", &list), AE_OK);
    ck_assert_int_eq(ae_model_from_layers(&m, &list), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "gives (64) = 64 values per image"));
    ck_assert_int_eq(ae_layers_parse("conv:16:3:s2:relu,conv:1:3:sigmoid", &list), AE_OK);
    ck_assert_int_eq(ae_model_from_layers(&m, &list), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "(1, 14, 14) = 196 values"));
    /* a convolution on a flat input */
    ck_assert_int_eq(ae_layers_parse("dense:784,conv:1:3", &list), AE_OK);
    ck_assert_int_eq(ae_model_from_layers(&m, &list), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "item 2 'conv:1:3': this layer needs an image"));
    /* a mistake model_add finds itself: a valid convolution whose kernel is larger than its input */
    ck_assert_int_eq(ae_layers_parse("conv:8:3:s2:relu,conv:8:3:s2,conv:8:3:s2,conv:8:3:s2,conv:8:5:valid", &list),
                     AE_OK);
    ck_assert_int_eq(ae_model_from_layers(&m, &list), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "item 5 'conv:8:5:valid': layer 5 (Conv2D)"));
    /* sizes past the library's limits, refused with their true values (no overflow, no negative side) */
    char spec[400] = "";
    for (int k = 0; k < 10; k++) strcat(spec, k ? ",tconv:1:3:s8" : "tconv:1:3:s8");
    ck_assert_int_eq(ae_layers_parse(spec, &list), AE_OK);
    ck_assert_int_eq(ae_model_from_layers(&m, &list), AE_EINVAL);
    ck_assert_msg(strstr(error_message(), "the output would be 114688x114688, above the largest side this library "
                                          "takes (65536)") && !strstr(error_message(), "-"),
                  "%s", error_message());
    spec[0] = '\0';
    for (int k = 0; k < 12; k++) strcat(spec, k ? ",upsample" : "upsample");
    ck_assert_int_eq(ae_layers_parse(spec, &list), AE_OK);
    ck_assert_int_eq(ae_model_from_layers(&m, &list), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "layer 10 (UpSampling2D): 822083584 output values per sample"));
    conv_geom g;   /* the library itself, whatever calls it */
    ck_assert_int_eq(conv2d_geom(&g, 1, 70000, 5, 1, 3, 3, 1, PAD_SAME, 0), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "input height 70000 is above the largest this library takes (65536)"));
    ck_assert_int_eq(conv2d_transpose_geom(&g, 1, 40000, 4, 1, 3, 3, 2, PAD_SAME, 0, 0), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "the output would be 80000x8"));

    /* binary cross-entropy needs outputs in (0, 1) */
    ae_recipe r;
    gsl_rng *rng = test_rng(5);
    ck_assert_int_eq(ae_recipe_custom(&r, "dense:64:relu,dense:784", LOSS_BCE), AE_OK);
    ck_assert_int_eq(ae_model_create(&m, &r, 4, rng), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "sigmoid"));
    ck_assert_int_eq(ae_recipe_custom(&r, "dense:64:relu,dense:784:sigmoid,reshape:1x28x28", LOSS_BCE), AE_OK);
    ck_assert_int_eq(ae_model_create(&m, &r, 4, rng), AE_OK);   /* a reshape after the sigmoid is fine */
    ck_assert_str_eq(r.name, "custom");
    model_free(m);
    ck_assert_int_eq(ae_recipe_custom(&r, "dense:784:sigmoid", LOSS_MAE), AE_EINVAL);
    ck_assert_int_eq(ae_recipe_builtin(&r, AE_TASK_RECONSTRUCTION, 4), AE_EINVAL);
    ck_assert_int_eq(ae_recipe_builtin(&r, AE_TASK_RECONSTRUCTION, -1), AE_EINVAL);
    gsl_rng_free(rng);
}
END_TEST

/* ------------------------------------------------------------ Training */

#define TRAIN_IMAGES 256

/* Model `index` of `task` trained for 2 epochs of batch 32 on the first `images` sample images (the
 * noise seeded with noise_seed), its generator seeded with seed: the weights, then the shuffles, as
 * the program does. Fills *history and, when before is not NULL, the training loss before and after. */
static void train_builtin(ae_task task, int index, size_t images, unsigned long noise_seed, unsigned long seed,
                          train_history *history, double *before, double *after)
{
    fashion_mnist fm = load_sample(images);
    ae_sources sources;
    ck_assert_int_eq(ae_sources_init(&sources, task, &fm, 0, AE_DEFAULT_NOISE, noise_seed), AE_OK);
    ae_recipe r;
    ck_assert_int_eq(ae_recipe_builtin(&r, task, index), AE_OK);
    gsl_rng *rng = test_rng(seed);
    model *m;
    ck_assert_int_eq(ae_model_create(&m, &r, 32, rng), AE_OK);
    if (before) ck_assert_int_eq(ENGINE(evaluate_loss)(m, r.loss, &sources.train, before), AE_OK);
    optimizer *adam = adam_alloc(m->n_params, 1e-3);
    train_config cfg = { .epochs = 2, .batch_size = 32, .shuffle = 1, .progress = NULL, .style = PROGRESS_NONE };
    int rc = ENGINE(train_fit)(m, adam, r.loss, &sources.train, &sources.val, &cfg, rng, history);
    ck_assert_msg(rc == AE_OK, "%s %s: %s", ae_task_name(task), r.name, error_message());
    if (after) ck_assert_int_eq(ENGINE(evaluate_loss)(m, r.loss, &sources.train, after), AE_OK);
    optimizer_free(adam);
    model_free(m);
    gsl_rng_free(rng);
    ae_sources_free(&sources);
    fashion_mnist_free(&fm);
}

/* Model _i of the 8 (reconstruction A–D, then denoising A–D), 2 epochs on the first 256 sample images. */
START_TEST(test_loss_decreases)
{
    ae_task task = _i < 4 ? AE_TASK_RECONSTRUCTION : AE_TASK_DENOISING;
    train_history history;
    double before, after;
    train_builtin(task, _i % 4, TRAIN_IMAGES, 11, 100 + (unsigned long)_i, &history, &before, &after);
    ck_assert_msg(after < 0.99 * before, "%s model %c: loss %g before and %g after 2 epochs", ae_task_name(task),
                  'A' + _i % 4, before, after);
    ck_assert_int_eq(history.epochs_run, 2);
    ck_assert(history.train_loss[1] < history.train_loss[0]);
}
END_TEST

/* ---------------------------------------------------------------- Data */

START_TEST(test_noisy_inputs)
{
    fashion_mnist fm = load_sample(0);
    ae_sources noisy, clean;
    ck_assert_int_eq(ae_sources_init(&noisy, AE_TASK_DENOISING, &fm, 0, 0.2, 42), AE_OK);
    ck_assert_int_eq(ae_sources_init(&clean, AE_TASK_RECONSTRUCTION, &fm, 0, 0.2, 42), AE_OK);
    const int n = 64;
    size_t index[64];
    for (int i = 0; i < n; i++) index[i] = (size_t)(9 * i);   /* spread over the sample */
    size_t values = (size_t)n * 784;
    float *x = malloc(values * sizeof *x), *y = malloc(values * sizeof *y), *x2 = malloc(values * sizeof *x2),
          *y2 = malloc(values * sizeof *y2);
    ck_assert_int_eq(noisy.train.fill(noisy.train.ctx, index, n, x, y), AE_OK);

    /* every input in [0, 1]; targets are exactly the clean images, byte / 255 */
    double sum = 0.0, squares = 0.0;
    size_t middle = 0, changed = 0;
    for (size_t k = 0; k < values; k++) {
        ck_assert_msg(x[k] >= 0.0f && x[k] <= 1.0f, "noisy input %zu is %g", k, x[k]);
        size_t image = index[k / 784], pixel = k % 784;
        ck_assert_float_eq_tol(y[k], fm.train.images.data[image * 784 + pixel] / 255.0f, 1e-7f);
        changed += x[k] != y[k];
        /* away from 0 and 1 the clipping is rare (2.5 std): there the noise shows its std */
        if (y[k] >= 0.45f && y[k] <= 0.55f) {
            double e = (double)x[k] - y[k];
            sum += e, squares += e * e, middle++;
        }
    }
    ck_assert_msg(middle > 1000, "only %zu mid-grey pixels", middle);
    double mean = sum / middle, std = sqrt(squares / middle - mean * mean);
    ck_assert_msg(fabs(std - 0.2) < 0.01, "noise std %g on %zu mid-grey pixels, expected 0.2", std, middle);
    ck_assert_msg(fabs(mean) < 0.01, "noise mean %g", mean);
    ck_assert_msg(changed > values / 2, "only %zu of %zu inputs changed", changed, values);

    /* the same image gets the same noise every time (a fixed noisy copy, as in the tutorial) */
    ck_assert_int_eq(noisy.train.fill(noisy.train.ctx, index, n, x2, y2), AE_OK);
    ck_assert_double_eq(max_abs_diff(x, x2, values), 0.0);
    /* the test images get noise of their own, not that of the training image at the same position */
    fashion_mnist same = fm;
    same.test = fm.train;   /* make the two splits hold the same images */
    ae_sources mirrored;
    ck_assert_int_eq(ae_sources_init(&mirrored, AE_TASK_DENOISING, &same, 0, 0.2, 42), AE_OK);
    ck_assert_int_eq(mirrored.val.fill(mirrored.val.ctx, index, n, x2, y2), AE_OK);
    ck_assert_double_eq(max_abs_diff(y, y2, values), 0.0);
    ck_assert(max_abs_diff(x, x2, values) > 0.1);
    /* reconstruction: the input is the target */
    ck_assert_int_eq(clean.train.fill(clean.train.ctx, index, n, x2, y2), AE_OK);
    ck_assert_double_eq(max_abs_diff(x2, y2, values), 0.0);
    ck_assert_double_eq(max_abs_diff(y, y2, values), 0.0);

    free(x);
    free(y);
    free(x2);
    free(y2);
    ae_sources_free(&noisy);
    ae_sources_free(&clean);
    ae_sources_free(&mirrored);
    fashion_mnist_free(&fm);
}
END_TEST

START_TEST(test_anomaly_sources)
{
    fashion_mnist fm = load_sample(0);
    ae_sources s;
    const int normal = 7;
    ck_assert_int_eq(ae_sources_init(&s, AE_TASK_ANOMALY, &fm, normal, 0.2, 42), AE_OK);
    size_t train_count = 0, test_count = 0;
    for (size_t i = 0; i < fm.train.labels.count; i++) train_count += fm.train.labels.data[i] == normal;
    for (size_t i = 0; i < fm.test.labels.count; i++) test_count += fm.test.labels.data[i] == normal;
    ck_assert_uint_eq(s.train.count, train_count);
    ck_assert_uint_eq(s.val.count, test_count);
    ck_assert(train_count > 0 && test_count > 0);
    for (size_t k = 0; k < s.train.count; k++) ck_assert_int_eq(fm.train.labels.data[s.train_subset[k]], normal);
    for (size_t k = 0; k < s.val.count; k++) ck_assert_int_eq(fm.test.labels.data[s.val_subset[k]], normal);
    /* no noise in the anomaly task: sample k is exactly image subset[k] */
    float x[784], y[784];
    size_t last = s.train.count - 1;
    ck_assert_int_eq(s.train.fill(s.train.ctx, &last, 1, x, y), AE_OK);
    for (int p = 0; p < 784; p++)
        ck_assert_float_eq_tol(x[p], fm.train.images.data[s.train_subset[last] * 784 + p] / 255.0f, 1e-7f);
    ae_sources_free(&s);

    /* refusals */
    ck_assert_int_eq(ae_sources_init(&s, AE_TASK_ANOMALY, &fm, 10, 0.2, 42), AE_EINVAL);
    ck_assert_int_eq(ae_sources_init(&s, AE_TASK_DENOISING, &fm, 0, 1.5, 42), AE_EINVAL);
    fashion_mnist_free(&fm);
    fashion_mnist few = load_sample(3);   /* the first 3 images of the sample hold no Sneaker */
    int has_sneaker = 0;
    for (size_t i = 0; i < few.train.labels.count; i++) has_sneaker |= few.train.labels.data[i] == normal;
    if (!has_sneaker) {
        ck_assert_int_eq(ae_sources_init(&s, AE_TASK_ANOMALY, &few, normal, 0.2, 42), AE_EDOM);
        ck_assert_ptr_nonnull(strstr(error_message(), "no image of class 7 (Sneaker)"));
    }
    fashion_mnist_free(&few);
}
END_TEST

/* ---------------------------------------------------------- Checkpoint */

START_TEST(test_checkpoint_round_trip)
{
    fashion_mnist fm = load_sample(64);
    ae_sources sources;
    ck_assert_int_eq(ae_sources_init(&sources, AE_TASK_RECONSTRUCTION, &fm, 0, 0.0, 1), AE_OK);
    for (int index = 0; index < 2; index++) {   /* a dense and a convolutional model */
        ae_recipe r;
        ck_assert_int_eq(ae_recipe_builtin(&r, AE_TASK_RECONSTRUCTION, index), AE_OK);
        gsl_rng *rng = test_rng(21);
        model *trained, *fresh;
        ck_assert_int_eq(ae_model_create(&trained, &r, 16, rng), AE_OK);
        optimizer *adam = adam_alloc(trained->n_params, 1e-3);
        train_config cfg = { .epochs = 1, .batch_size = 16, .shuffle = 1, .style = PROGRESS_NONE };
        ck_assert_int_eq(ENGINE(train_fit)(trained, adam, r.loss, &sources.train, NULL, &cfg, rng, NULL), AE_OK);
        char path[4096];
        snprintf(path, sizeof path, "%s/model_%s.ckpt", test_tmpdir(), r.name);
        ck_assert_int_eq(checkpoint_save(trained, path), AE_OK);
        ck_assert_int_eq(ae_model_create(&fresh, &r, 16, rng), AE_OK);   /* other weights from the generator */

        const int n = 20;   /* more than one batch of 16 */
        float *x = malloc((size_t)n * 784 * sizeof *x), *y = malloc((size_t)n * 784 * sizeof *y);
        float *a = malloc((size_t)n * 784 * sizeof *a), *b = malloc((size_t)n * 784 * sizeof *b);
        images_to_float(x, &fm.test.images, NULL, n);
        ck_assert_int_eq(ae_reconstruct(trained, x, n, a), AE_OK);
        ck_assert_int_eq(ae_reconstruct(fresh, x, n, b), AE_OK);
        ck_assert_msg(max_abs_diff(a, b, (size_t)n * 784) > 1e-3, "the fresh model already agrees: no test");
        ck_assert_int_eq(checkpoint_load(fresh, path), AE_OK);
        ck_assert_int_eq(ae_reconstruct(fresh, x, n, b), AE_OK);
        ck_assert_double_eq(max_abs_diff(a, b, (size_t)n * 784), 0.0);   /* bit for bit */
        /* ae_reconstruct against one forward of each image alone */
        const float *single;
        ck_assert_int_eq(model_forward(trained, x + 17 * 784, 1, &single), AE_OK);
        ck_assert_double_eq_tol(max_abs_diff(single, a + 17 * 784, 784), 0.0, 1e-6);

        /* the other model's checkpoint does not fit */
        ae_recipe other;
        model *wrong;
        ck_assert_int_eq(ae_recipe_builtin(&other, AE_TASK_RECONSTRUCTION, 2), AE_OK);
        ck_assert_int_eq(ae_model_create(&wrong, &other, 16, rng), AE_OK);
        ck_assert_int_eq(checkpoint_load(wrong, path), AE_EFORMAT);
        model_free(wrong);

        free(x);
        free(y);
        free(a);
        free(b);
        optimizer_free(adam);
        model_free(trained);
        model_free(fresh);
        gsl_rng_free(rng);
    }
    ae_sources_free(&sources);
    fashion_mnist_free(&fm);
}
END_TEST

/* ------------------------------------------------------------- Program */

START_TEST(test_program_run_and_checkpoint)
{
    char out[4096], log[4200], path[4300];
    snprintf(out, sizeof out, "%s/run", test_tmpdir());
    snprintf(log, sizeof log, "%s/run.log", test_tmpdir());
    const char *args[] = { "--model", "A", "--data", sample_data_dir(), "--limit", "96", "--epochs", "2",
                           "--no-plot", "--quiet", "--out", out, NULL };
    ck_assert_msg(run_program(PROGRAM, args, log) == 0, "%s failed; see %s", PROGRAM, log);
    /* the sample is announced */
    test_file_says(log, "WARNING: using the small bundled SAMPLE");
    results *first;
    snprintf(path, sizeof path, "%s/results.tsv", out);
    ck_assert_int_eq(results_read(&first, path), AE_OK);
    ck_assert_double_eq(test_result(first, "model_A_params"), 101200.0);
    double val = test_result(first, "model_A_val_loss");
    ck_assert(val > 0.0 && val < 0.2);
    ck_assert_double_eq(test_result(first, "model_A_val_mse"), val);
    ck_assert(test_result(first, "model_A_seconds_per_epoch") > 0.0);
    ck_assert_str_eq(results_get(first, "task"), "reconstruction");
    const char *files[] = { "comparison.md", "reconstruction_model_A.ckpt", "reconstruction_model_A_history.tsv",
                            "loss_curves.dat", "loss_curves.gp", "loss_curves_A.gp", "reconstructions_A.dat" };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        snprintf(path, sizeof path, "%s/%s", out, files[f]);
        ck_assert_msg(file_exists(path), "%s was not written", path);
    }

    /* --from-checkpoint: no training, the same validation loss recomputed from the saved weights */
    const char *again[] = { "--model", "A", "--data", sample_data_dir(), "--limit", "96", "--from-checkpoint",
                            "--no-plot", "--quiet", "--out", out, NULL };
    ck_assert_msg(run_program(PROGRAM, again, log) == 0, "--from-checkpoint failed; see %s", log);
    test_file_says(log, "not training");
    results *second;
    snprintf(path, sizeof path, "%s/results.tsv", out);
    ck_assert_int_eq(results_read(&second, path), AE_OK);
    ck_assert_double_eq_tol(test_result(second, "model_A_val_loss"), val, 1e-7 * val);
    ck_assert_double_eq(test_result(second, "model_A_train_loss"), test_result(first, "model_A_train_loss"));
    ck_assert(test_result(second, "model_A_trained_with_seed") == 42);   /* the history says which run made it */
    test_file_says(log, "trained for 2 epochs with --seed 42");
    results_free(first);
    results_free(second);

    /* a checkpoint trained on other data, or one its history does not belong to, is refused */
    char copy[4300], data_opt[4300];
    snprintf(copy, sizeof copy, "%s/other-data", test_tmpdir());
    const char *cp_args[] = { "-R", sample_data_dir(), copy, NULL };
    ck_assert_int_eq(run_command("cp", (const char *const[]){ "cp", NULL }, cp_args, NULL, log), 0);
    snprintf(data_opt, sizeof data_opt, "%s", copy);
    const char *other[] = { "--model", "A", "--data", data_opt, "--limit", "96", "--from-checkpoint", "--no-plot",
                            "--quiet", "--out", out, NULL };
    ck_assert_int_eq(run_program(PROGRAM, other, log), 1);
    test_file_says(log, "model A was trained on the data in");
    snprintf(path, sizeof path, "%s/reconstruction_model_A_history.tsv", out);
    char *history = test_read_text(path);
    ck_assert_ptr_nonnull(history);
    char *crc = strstr(history, "# checkpoint_crc32 ");
    ck_assert_ptr_nonnull(crc);
    memcpy(crc + strlen("# checkpoint_crc32 "), "00000000", 8);   /* as if the checkpoint were another run's */
    test_write_text(path, history);
    free(history);
    ck_assert_int_eq(run_program(PROGRAM, again, log), 1);
    test_file_says(log, "it belongs to another checkpoint (CRC-32 00000000)");

    /* a checkpoint of another task is not there: exit 1 and nothing written */
    const char *missing[] = { "--task", "denoising", "--model", "B", "--data", sample_data_dir(), "--from-checkpoint",
                              "--no-plot", "--quiet", "--out", out, NULL };
    snprintf(path, sizeof path, "%s/results.tsv", out);
    remove(path);
    ck_assert_int_eq(run_program(PROGRAM, missing, log), 1);
    test_file_says(log, "denoising_model_B.ckpt does not exist");
    ck_assert(!file_exists(path));
}
END_TEST

/* The program gives model A's generator --seed itself: its model A is the run the library makes
 * from a generator seeded with S (what bench/bench_train.c times), to the last bit on one thread. */
START_TEST(test_program_model_a_is_the_seeded_run)
{
    char out[4096], log[4200], path[4300];
    snprintf(out, sizeof out, "%s/seeded", test_tmpdir());
    snprintf(log, sizeof log, "%s/seeded.log", test_tmpdir());
    const char *args[] = { "--model", "A", "--data", sample_data_dir(), "--limit", "96", "--epochs", "2",
                           "--seed", "7", "--threads", "1", "--no-plot", "--quiet", "--out", out, NULL };
    ck_assert_msg(run_program(PROGRAM, args, log) == 0, "%s failed; see %s", PROGRAM, log);
    results *res;
    snprintf(path, sizeof path, "%s/results.tsv", out);
    ck_assert_int_eq(results_read(&res, path), AE_OK);
    const double program_val = test_result(res, "model_A_val_loss");
    const double program_train = test_result(res, "model_A_train_loss");
    results_free(res);

    train_history history;   /* the seed itself: weights first, then the shuffles */
    train_builtin(AE_TASK_RECONSTRUCTION, 0, 96, 7, 7, &history, NULL, NULL);
    ck_assert_msg(history.val_loss[1] == program_val && history.train_loss[1] == program_train,
                  "the program's model A (train %.17g, val %.17g) is not the run seeded with 7 (train %.17g, val %.17g)",
                  program_train, program_val, history.train_loss[1], history.val_loss[1]);
}
END_TEST

/* Without --threads every model trains on two lanes; --threads N sets every model. The dense
 * models split their units, so with the library's AVX-512 kernels their numbers are the one-thread
 * run's to the last bit (on the threads or alone, elastic steps); the convolutional model B splits
 * its batch, and its default is the --threads 2 run. */
START_TEST(test_program_threads_follow_the_model)
{
    char out[4096], log[4200], path[4300];
    snprintf(log, sizeof log, "%s/threads.log", test_tmpdir());
    const char *threads[] = { NULL, "1", "2" };
    const char *names = "ABCD";
    double val[3][4];
    for (int k = 0; k < 3; k++) {
        snprintf(out, sizeof out, "%s/threads-%d", test_tmpdir(), k);
        const char *args[] = { "--data", sample_data_dir(), "--limit", "96", "--epochs", "1", "--seed", "7",
                               "--no-plot", "--quiet", "--out", out, "--threads", threads[k], NULL };
        if (!threads[k]) args[12] = NULL;
        ck_assert_msg(run_program(PROGRAM, args, log) == 0, "%s failed; see %s", PROGRAM, log);
        results *res;
        snprintf(path, sizeof path, "%s/results.tsv", out);
        ck_assert_int_eq(results_read(&res, path), AE_OK);
        for (int m = 0; m < 4; m++) {
            char key[32];
            snprintf(key, sizeof key, "model_%c_threads", names[m]);
            int expected = threads[k] ? atoi(threads[k]) : 2;
            ck_assert_msg((int)test_result(res, key) == expected, "run %d: %s is %g, not %d", k, key,
                          test_result(res, key), expected);
            snprintf(key, sizeof key, "model_%c_val_loss", names[m]);
            val[k][m] = test_result(res, key);
        }
        results_free(res);
    }
    for (int m = 0; m < 4; m++) {
        ck_assert_msg(val[0][m] == val[2][m], "the default model %c (%.17g) is not the two-thread run (%.17g)",
                      names[m], val[0][m], val[2][m]);
        if (names[m] != 'B' && cpu_has_avx512())
            ck_assert_msg(val[0][m] == val[1][m], "the default model %c (%.17g) is not the one-thread run (%.17g)",
                          names[m], val[0][m], val[1][m]);
    }
}
END_TEST

START_TEST(test_program_anomaly)
{
    char out[4096], log[4200], path[4300];
    snprintf(out, sizeof out, "%s/anomaly", test_tmpdir());
    snprintf(log, sizeof log, "%s/anomaly.log", test_tmpdir());
    const char *args[] = { "--task", "anomaly", "--model", "A", "--normal-class", "1", "--data", sample_data_dir(),
                           "--epochs", "2", "--no-plot", "--quiet", "--out", out, NULL };
    ck_assert_msg(run_program(PROGRAM, args, log) == 0, "%s failed; see %s", PROGRAM, log);
    results *r;
    snprintf(path, sizeof path, "%s/results.tsv", out);
    ck_assert_int_eq(results_read(&r, path), AE_OK);
    ck_assert_str_eq(results_get(r, "normal_class_name"), "Trouser");
    double tp = test_result(r, "model_A_tp"), fp = test_result(r, "model_A_fp");
    double tn = test_result(r, "model_A_tn"), fn = test_result(r, "model_A_fn");
    ck_assert_double_eq(tp + fn, 20.0);    /* the sample's 20 test trousers */
    ck_assert_double_eq(fp + tn, 180.0);
    ck_assert_double_eq_tol(test_result(r, "model_A_accuracy"), (tp + tn) / 200.0, 1e-12);
    ck_assert_double_eq_tol(test_result(r, "model_A_recall"), tp / 20.0, 1e-12);
    ck_assert_double_eq_tol(test_result(r, "model_A_threshold"),
                            test_result(r, "model_A_error_mean") + test_result(r, "model_A_error_std"), 1e-12);
    snprintf(path, sizeof path, "%s/anomaly_histogram_A.dat", out);
    ck_assert(file_exists(path));
    /* the ROC curve: its AUC, and the threshold rule's point where the confusion matrix puts it */
    double auc = test_result(r, "model_A_auc");
    ck_assert(auc >= 0.0 && auc <= 1.0);
    snprintf(path, sizeof path, "%s/anomaly_roc.dat", out);
    char *roc = test_read_text(path);
    ck_assert_ptr_nonnull(roc);
    const char *points = strstr(roc, "# fpr\ttpr\tauc\n");
    ck_assert_ptr_nonnull(points);
    double fpr, tpr, auc_drawn;
    ck_assert_int_eq(sscanf(points + strlen("# fpr\ttpr\tauc\n"), "%lf %lf %lf", &fpr, &tpr, &auc_drawn), 3);
    ck_assert_double_eq_tol(fpr, fp / 180.0, 1e-8);
    ck_assert_double_eq_tol(tpr, tp / 20.0, 1e-8);
    ck_assert_double_eq_tol(auc_drawn, auc, 1e-8);
    free(roc);
    results_free(r);
}
END_TEST

typedef struct {
    const char *args[8];
    const char *message;
} bad_run;

static const bad_run BAD_RUNS[] = {
    { { "--model", "E" }, "--model" },
    { { "--model", "a" }, "--model" },
    { { "--task", "classification" }, "--task" },
    { { "--normal-class", "11", "--task", "anomaly" }, "--normal-class" },
    { { "--normal-class", "-1" }, "--normal-class" },
    { { "--layers", "dense:64:relu,dense:12x:relu" }, "--layers: item 2 'dense:12x:relu': '12x' is not a number of units" },
    { { "--layers", "dense:64:relu" }, "--layers: the last layer gives (64) = 64 values" },
    { { "--layers", "dense:64:relu,dense:784", "--loss", "bce" }, "sigmoid" },
    { { "--layers", "" }, "--layers" },
    { { "--layers", " , " }, "--layers: item 1 is empty" },
    { { "--loss", "mae" }, "--loss" },
    { { "--batch", "0" }, "--batch" },
    { { "--lr", "-0.1" }, "--lr" },
    { { "--threads", "0" }, "--threads" },
    { { "--noise", "2" }, "--noise" },
    { { "--epochs", "0" }, "--epochs" },
    { { "stray" }, "stray" },
};
#define N_BAD_RUNS (int)(sizeof BAD_RUNS / sizeof BAD_RUNS[0])

START_TEST(test_program_bad_options)
{
    const bad_run *bad = &BAD_RUNS[_i];
    char out[4096], log[4200];
    snprintf(out, sizeof out, "%s/bad%d", test_tmpdir(), _i);
    snprintf(log, sizeof log, "%s/bad%d.log", test_tmpdir(), _i);
    const char *args[16];
    int n = 0;
    for (int k = 0; bad->args[k]; k++) args[n++] = bad->args[k];
    const char *tail[] = { "--data", sample_data_dir(), "--no-plot", "--out", out, NULL };
    for (int k = 0; k < 6; k++) args[n++] = tail[k];
    int status = run_program(PROGRAM, args, log);
    ck_assert_msg(status == 2, "%s %s: exit status %d, expected 2", bad->args[0], bad->args[1] ? bad->args[1] : "",
                  status);
    test_file_says(log, bad->message);
    ck_assert_msg(!folder_exists(out), "%s was created by a run with a bad option", out);
}
END_TEST

/* A model that diverges and stays finite (linear layers at --lr 1) is said not to have learned:
 * worse than predicting the mean image; model A after two epochs on the 600 sample images has
 * learned (after two epochs on 200 it has not yet: the verdict is the numbers'). */
START_TEST(test_a_model_that_did_not_learn_says_so)
{
    char out[1024];
    const char *args[] = { "--layers", "flatten,dense:64,dense:784", "--lr", "1", "--epochs", "2", "--limit", "200",
                           "--data", sample_data_dir(), "--no-plot", "--quiet", NULL };
    test_run_into(out, sizeof out, PROGRAM, args);
    results *r = test_results(out);
    ck_assert(test_result(r, "model_custom_learned") == 0);
    ck_assert_ptr_nonnull(strstr(results_get(r, "model_custom_not_learned"),
                                 "no better than the 0.0"));   /* the mean image's MSE, a few hundredths */
    results_free(r);
    const char *fine[] = { "--model", "A", "--epochs", "2", "--data", sample_data_dir(), "--no-plot", "--quiet", NULL };
    test_run_into(out, sizeof out, PROGRAM, fine);
    r = test_results(out);
    ck_assert(test_result(r, "model_A_learned") == 1);
    ck_assert_ptr_null(results_get(r, "model_A_not_learned"));
    results_free(r);
}
END_TEST

Suite *ae_models_suite(void)
{
    Suite *s = suite_create("ae_models");

    test_add(test_case(s, "Core", 0), test_param_counts, test_model_b_shapes, test_losses_and_names);

    test_add(test_case(s, "Parser", 0), test_parse_help_example, test_parse_convolutions, test_parse_other_kinds,
             test_parse_builtin_specs);

    TCase *limits = test_case(s, "Limits", 0);
    tcase_add_loop_test(limits, test_parse_refusals, 0, N_BAD_SPECS);
    test_add(limits, test_parse_too_long, test_build_refusals);

    TCase *training = test_case(s, "Training", 30);
    tcase_add_loop_test(training, test_loss_decreases, 0, 2 * AE_BUILTIN_MODELS);

    test_add(test_case(s, "Data", 0), test_noisy_inputs, test_anomaly_sources);

    test_add(test_case(s, "Checkpoint", 30), test_checkpoint_round_trip);

    TCase *program = test_case(s, "Program", 60);
    test_add(program, test_a_model_that_did_not_learn_says_so, test_program_run_and_checkpoint, test_program_anomaly,
             test_program_model_a_is_the_seeded_run, test_program_threads_follow_the_model);
    tcase_add_loop_test(program, test_program_bad_options, 0, N_BAD_RUNS);
    return s;
}
