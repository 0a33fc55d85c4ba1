/* test_model.c: the sequential model: shapes and parameter counts as Keras has
 * them, forward by hand, gradients by finite differences, the checkpoint file. */
#include <check.h>
#include <zlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "io/fileio.h"
#include "checkpoint.h"
#include "model.h"
#include "testutil.h"

/* Model A (the dense autoencoder): (1, 28, 28) → Flatten → Dense(64, relu) → Dense(784, sigmoid) → Reshape(1, 28, 28) */
static model *model_a(void)
{
    model *m = model_alloc(3, (int[]){1, 28, 28});
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(model_add(m, layer_flatten()), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(64, ACT_RELU)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(784, ACT_SIGMOID)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_reshape(3, (int[]){1, 28, 28})), AE_OK);
    return m;
}


static void assert_shape(const layer *l, int ndim, int d0, int d1, int d2)
{
    ck_assert_int_eq(l->out_ndim, ndim);
    ck_assert_int_eq(l->out_shape[0], d0);
    if (ndim == 3) {
        ck_assert_int_eq(l->out_shape[1], d1);
        ck_assert_int_eq(l->out_shape[2], d2);
    }
}

/* Reads what model_summary writes. */
/* model_summary's text holds each of the lines (NULL-terminated list) */
static void assert_summary_has(const model *m, const char *const *lines)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(model_summary(m, out), AE_OK);
    fclose(out);
    for (const char *const *line = lines; *line; line++)
        ck_assert_msg(strstr(text, *line) != NULL, "the summary has no \"%s\":\n%s", *line, text);
    free(text);
}

/* ------------------------------------------------------------------ Core */

/* Keras: Dense(64) on 784 inputs has 784·64 + 64 = 50,240 parameters, Dense(784) on 64 has
 * 64·784 + 784 = 50,960; together 101,200. */
START_TEST(test_model_a_counts_and_shapes)
{
    model *m = model_a();
    ck_assert_uint_eq(model_param_count(m), 101200);
    ck_assert_uint_eq(m->layers[0].n_weight + m->layers[0].n_bias, 0);
    ck_assert_uint_eq(m->layers[1].n_weight, 50176);
    ck_assert_uint_eq(m->layers[1].n_bias, 64);
    ck_assert_uint_eq(m->layers[2].n_weight + m->layers[2].n_bias, 50960);
    assert_shape(&m->layers[0], 1, 784, 0, 0);
    assert_shape(&m->layers[1], 1, 64, 0, 0);
    assert_shape(&m->layers[2], 1, 784, 0, 0);
    assert_shape(model_output_layer(m), 3, 1, 28, 28);
    ck_assert_uint_eq(model_output_size(m), 784);
    ck_assert_double_eq(model_forward_macs(m), 50176.0 + 50176.0);     /* one per weight of each Dense */

    assert_summary_has(m, (const char *const[]){ "flatten (Flatten)", "dense_1 (Dense)", "(None, 64)",
                                                 "(None, 1, 28, 28)", "50,960", "Total params: 101,200\n",
                                                 "Trainable params: 101,200\n", "Non-trainable params: 0\n", NULL });
    model_free(m);
}
END_TEST

/* Keras: Conv2D(16) on 1 channel 16·1·9 + 16 = 160, Conv2D(8) 8·16·9 + 8 = 1,160,
 * Conv2DTranspose(8) 8·8·9 + 8 = 584, Conv2DTranspose(16) 8·16·9 + 16 = 1,168,
 * Conv2D(1) 1·16·9 + 1 = 145; total 3,217. Spatially 28 → 14 → 7 → 14 → 28 → 28. */
START_TEST(test_model_b_counts_and_shapes)
{
    model *m = test_model_b();
    ck_assert_uint_eq(model_param_count(m), 3217);
    const size_t expected[5] = {160, 1160, 584, 1168, 145};
    for (int i = 0; i < 5; i++) ck_assert_uint_eq(m->layers[i].n_weight + m->layers[i].n_bias, expected[i]);
    assert_shape(&m->layers[0], 3, 16, 14, 14);
    assert_shape(&m->layers[1], 3, 8, 7, 7);
    assert_shape(&m->layers[2], 3, 8, 14, 14);
    assert_shape(&m->layers[3], 3, 16, 28, 28);
    assert_shape(model_output_layer(m), 3, 1, 28, 28);
    /* per weight: Conv2D at each output position, Conv2DTranspose at each input position:
     * 144·14² + 1152·7² + 576·7² + 1152·14² + 144·28² = 451,584 */
    ck_assert_double_eq(model_forward_macs(m), 451584.0);

    assert_summary_has(m, (const char *const[]){ "conv2d_transpose_1 (Conv2DTranspose)", "(None, 16, 14, 14)",
                                                 "1,168", "Total params: 3,217\n", NULL });
    model_free(m);
}
END_TEST

/* model_build: one block each for params and grads, in layer order, weight then bias;
 * Glorot-uniform weights inside ±sqrt(6/(fan_in + fan_out)), zero biases; the same seed
 * gives the same weights. Flatten and reshape alias their input. */
START_TEST(test_model_build_plan)
{
    gsl_rng *rng = test_rng(17);
    model *m = model_a();
    ck_assert_int_eq(model_build(m, 8, rng), AE_OK);
    ck_assert_uint_eq(m->n_params, 101200);
    const layer *d1 = &m->layers[1], *d2 = &m->layers[2];
    ck_assert_ptr_eq(d1->weight, m->params);
    ck_assert_ptr_eq(d1->bias, m->params + 50176);
    ck_assert_ptr_eq(d2->weight, m->params + 50240);
    ck_assert_ptr_eq(d2->bias, m->params + 50240 + 50176);
    ck_assert_ptr_eq(d2->d_bias, m->grads + 50240 + 50176);

    double limit1 = sqrt(6.0 / (784 + 64)), max1 = 0.0;
    for (size_t i = 0; i < d1->n_weight; i++) max1 = fmax(max1, fabs(d1->weight[i]));
    ck_assert_double_le(max1, limit1);
    ck_assert_double_ge(max1, 0.99 * limit1);   /* 50,176 uniform draws reach the edge */
    for (size_t i = 0; i < d1->n_bias; i++) ck_assert_float_eq(d1->bias[i], 0.0f);
    double mean = 0.0;
    for (size_t i = 0; i < d2->n_weight; i++) mean += d2->weight[i];
    ck_assert_double_lt(fabs(mean / (double)d2->n_weight), 0.01 * limit1);

    model *again = model_a();
    gsl_rng_set(rng, 17);
    ck_assert_int_eq(model_build(again, 8, rng), AE_OK);
    ck_assert_int_eq(memcmp(again->params, m->params, m->n_params * sizeof(float)), 0);

    float x[2 * 784];
    fill_uniform(x, 2 * 784, 0.0, 1.0, rng);
    const float *y;
    ck_assert_int_eq(model_forward(m, x, 2, &y), AE_OK);
    ck_assert_ptr_eq(m->layers[0].out, x);        /* flatten: no copy */
    ck_assert_ptr_eq(y, m->layers[2].out);        /* reshape: no copy */
    for (int i = 0; i < 2 * 784; i++) ck_assert(y[i] > 0.0f && y[i] < 1.0f);
    model_free(again);
    model_free(m);
    gsl_rng_free(rng);
}
END_TEST

/* x (2, 2) → Dense(2, relu) → Dense(1, sigmoid), weights set by hand:
 *   W1 = [[0.75, −0.5], [0.25, 1.5]], b1 = (0.1, −0.2), W2 = [[1.25, −0.75]], b2 = 0.3
 * sample 1, x = (0.5, −1.25): h = relu(0.375 + 0.625 + 0.1, 0.125 − 1.875 − 0.2) = (1.1, 0)
 *          z = 1.25·1.1 + 0.3 = 1.675, y = σ(1.675) = 0.8422413130
 * sample 2, x = (−0.4, 0.8):  h = relu(−0.3 − 0.4 + 0.1, −0.1 + 1.2 − 0.2) = (0, 0.9)
 *          z = −0.75·0.9 + 0.3 = −0.375, y = σ(−0.375) = 0.4073334000
 * Backward with L = y₁ + y₂: dz = y(1 − y) = (0.1328708837, 0.2414129013)
 *   dW2 = Σ dz·h = (0.1328708837·1.1, 0.2414129013·0.9) = (0.1461579721, 0.2172716111), db2 = 0.3742837849
 *   dh = dz·W2 masked by relu: sample 1 (0.1660886046, 0), sample 2 (0, −0.1810596759)
 *   dW1 = Σ dhᵀ x: row 0 = 0.1660886046·(0.5, −1.25) = (0.0830443023, −0.2076107558)
 *                  row 1 = −0.1810596759·(−0.4, 0.8) = (0.0724238704, −0.1448477408)
 *   db1 = (0.1660886046, −0.1810596759) */
START_TEST(test_tiny_model_by_hand)
{
    gsl_rng *rng = test_rng(3);
    model *m = model_alloc(1, (int[]){2});
    ck_assert_int_eq(model_add(m, layer_dense(2, ACT_RELU)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(1, ACT_SIGMOID)), AE_OK);
    ck_assert_int_eq(model_build(m, 4, rng), AE_OK);
    const float params[9] = {0.75f, -0.5f, 0.25f, 1.5f, 0.1f, -0.2f, 1.25f, -0.75f, 0.3f};
    ck_assert_uint_eq(m->n_params, 9);
    memcpy(m->params, params, sizeof params);

    const float x[4] = {0.5f, -1.25f, -0.4f, 0.8f};
    const float *y;
    ck_assert_int_eq(model_forward(m, x, 2, &y), AE_OK);
    ck_assert_double_eq_tol(y[0], 0.8422413130, 1e-6);
    ck_assert_double_eq_tol(y[1], 0.4073334000, 1e-6);

    const float ones[2] = {1.0f, 1.0f};
    model_zero_grad(m);
    ck_assert_int_eq(model_backward(m, ones, 2), AE_OK);
    const double expected[9] = {0.0830443023, -0.2076107558, 0.0724238704, -0.1448477408,
                                0.1660886046, -0.1810596759, 0.1461579721, 0.2172716111, 0.3742837849};
    for (int i = 0; i < 9; i++) ck_assert_double_eq_tol(m->grads[i], expected[i], 1e-6);

    /* backward adds into the gradients; model_zero_grad clears them */
    ck_assert_int_eq(model_forward(m, x, 2, &y), AE_OK);
    ck_assert_int_eq(model_backward(m, ones, 2), AE_OK);
    for (int i = 0; i < 9; i++) ck_assert_double_eq_tol(m->grads[i], 2.0 * expected[i], 2e-6);
    model_zero_grad(m);
    for (int i = 0; i < 9; i++) ck_assert_float_eq(m->grads[i], 0.0f);
    model_free(m);
    gsl_rng_free(rng);
}
END_TEST

/* ------------------------------------------------------------- Gradient */

/* Every kind of layer and activation in one small model, (2, 6, 6) → (2, 2, 2):
 * Conv2D(3, tanh) → MaxPool → Conv2DTranspose(2, s2, relu) → UpSampling → Conv2D(2, s2, valid)
 * → Flatten → Dense(6, sigmoid) → Activation(tanh) → Dense(8) → Reshape(2, 2, 2). */
enum { GRAD_BATCH = 2 };

typedef struct {
    model *m;
    float *x;        /* (B, 2, 6, 6) */
    float *r;        /* (B, 8) */
} grad_ctx;

/* L = Σ r·y, in double */
static double weighted_output(void *ctx)
{
    grad_ctx *c = ctx;
    const float *y;
    model_forward(c->m, c->x, GRAD_BATCH, &y);
    return dot_f(c->r, y, GRAD_BATCH * model_output_size(c->m));
}

START_TEST(test_model_gradient)
{
    gsl_rng *rng = test_rng(271828);
    model *m = model_alloc(3, (int[]){2, 6, 6});
    ck_assert_int_eq(model_add(m, layer_conv2d(3, 3, 1, PAD_SAME, ACT_TANH)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_maxpool2()), AE_OK);
    ck_assert_int_eq(model_add(m, layer_conv2d_transpose(2, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_upsample2()), AE_OK);
    ck_assert_int_eq(model_add(m, layer_conv2d(2, 3, 2, PAD_VALID, ACT_NONE)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_flatten()), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(6, ACT_SIGMOID)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_activation(ACT_TANH)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(8, ACT_NONE)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_reshape(3, (int[]){2, 2, 2})), AE_OK);
    model_request_input_grad(m);
    ck_assert_int_eq(model_build(m, 4, rng), AE_OK);
    assert_shape(&m->layers[4], 3, 2, 5, 5);
    /* small random biases, so that no bias gradient is trivially the sum of zeros */
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].n_bias) fill_uniform(m->layers[i].bias, m->layers[i].n_bias, -0.3, 0.3, rng);

    size_t n_in = GRAD_BATCH * m->in_size, n_out = GRAD_BATCH * model_output_size(m);
    float *x = malloc(n_in * sizeof *x), *r = malloc(n_out * sizeof *r);
    fill_uniform(x, n_in, -1.0, 1.0, rng);
    fill_uniform(r, n_out, -1.5, 1.5, rng);
    grad_ctx c = {m, x, r};

    const float *y;
    ck_assert_int_eq(model_forward(m, x, GRAD_BATCH, &y), AE_OK);
    model_zero_grad(m);
    ck_assert_int_eq(model_backward(m, r, GRAD_BATCH), AE_OK);
    float *analytic = malloc(m->n_params * sizeof *analytic);
    float *analytic_x = malloc(n_in * sizeof *analytic_x);
    memcpy(analytic, m->grads, m->n_params * sizeof *analytic);
    memcpy(analytic_x, m->d_input, n_in * sizeof *analytic_x);

    size_t worst = 0;
    double err = gradcheck(weighted_output, &c, m->params, analytic, m->n_params, 1e-3, m->n_params, &worst);
    ck_assert_msg(err < 2e-3, "parameters: gradient error %g at %zu of %zu (analytic %g)", err, worst,
                  m->n_params, (double)analytic[worst]);
    err = gradcheck(weighted_output, &c, x, analytic_x, n_in, 1e-3, n_in, &worst);
    ck_assert_msg(err < 2e-3, "input: gradient error %g at %zu (analytic %g)", err, worst,
                  (double)analytic_x[worst]);

    free(analytic);
    free(analytic_x);
    free(x);
    free(r);
    model_free(m);
    gsl_rng_free(rng);
}
END_TEST

/* ----------------------------------------------------------- Checkpoint */

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* Rewrites a file with `keep` of its bytes, optionally one byte flipped and extra bytes appended. */
static void rewrite(const char *from, const char *to, long keep, long flip_at, int append)
{
    FILE *in = fopen(from, "rb");
    ck_assert_ptr_nonnull(in);
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    rewind(in);
    unsigned char *buf = malloc((size_t)size);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, in), (size_t)size);
    fclose(in);
    if (keep < 0 || keep > size) keep = size;
    if (flip_at >= 0) buf[flip_at] ^= 0x10;
    FILE *out = fopen(to, "wb");
    fwrite(buf, 1, (size_t)keep, out);
    for (int k = 0; k < append; k++) fputc(0x5a, out);
    fclose(out);
    free(buf);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    return size;
}

static void assert_refused(model *m, const char *path, int code, const char *words)
{
    error_clear();
    ck_assert_int_eq(checkpoint_load(m, path), code);
    ck_assert_msg(strstr(error_message(), path) != NULL, "message does not name the file: %s", error_message());
    ck_assert_msg(strstr(error_message(), words) != NULL, "message lacks \"%s\": %s", words, error_message());
}

START_TEST(test_checkpoint_round_trip_and_refusals)
{
    const char *dir = test_tmpdir();
    char good[512], bad[512];
    path_in(good, sizeof good, dir, "model_b.ckpt");
    path_in(bad, sizeof bad, dir, "bad.ckpt");

    gsl_rng *rng = test_rng(8);
    model *saved = test_model_b();
    ck_assert_int_eq(model_build(saved, 2, rng), AE_OK);
    for (int i = 0; i < saved->n_layers; i++)   /* nonzero biases, so they must round-trip too */
        fill_uniform(saved->layers[i].bias, saved->layers[i].n_bias, -0.2, 0.2, rng);
    ck_assert_int_eq(checkpoint_save(saved, good), AE_OK);
    /* magic, version, input shape, 5 layers × (kind, act, 1+3 output, 1+4 weight, bias) = 12 words each,
     * parameter count, parameters, checksum */
    long header = 8 + 4 + 4 * 4 + 4 + 5 * 12 * 4 + 8;
    ck_assert_int_eq(file_size(good), header + 4 * 3217 + 4);

    model *loaded = test_model_b();
    ck_assert_int_eq(model_build(loaded, 2, rng), AE_OK);   /* different initial weights */
    ck_assert_int_ne(memcmp(loaded->params, saved->params, 3217 * sizeof(float)), 0);
    ck_assert_int_eq(checkpoint_load(loaded, good), AE_OK);
    ck_assert_int_eq(memcmp(loaded->params, saved->params, 3217 * sizeof(float)), 0);

    float x[2 * 784];
    fill_uniform(x, 2 * 784, 0.0, 1.0, rng);
    const float *y_saved, *y_loaded;
    ck_assert_int_eq(model_forward(saved, x, 2, &y_saved), AE_OK);
    ck_assert_int_eq(model_forward(loaded, x, 2, &y_loaded), AE_OK);
    ck_assert_int_eq(memcmp(y_saved, y_loaded, 2 * 784 * sizeof(float)), 0);   /* bit-identical */

    long size = file_size(good);
    rewrite(good, bad, -1, 0, 0);                 /* 'A' of the magic changed */
    assert_refused(loaded, bad, AE_EFORMAT, "magic");
    rewrite(good, bad, -1, 8, 0);                 /* version 1 → 17 */
    assert_refused(loaded, bad, AE_EFORMAT, "version");
    rewrite(good, bad, size / 2, -1, 0);          /* cut in the middle of the parameters */
    assert_refused(loaded, bad, AE_EFORMAT, "truncated");
    rewrite(good, bad, 20, -1, 0);                /* cut inside the header: no made-up size in the message */
    assert_refused(loaded, bad, AE_EFORMAT, "is truncated: it ends inside its header, after 20 bytes");
    rewrite(good, bad, -1, size - 100, 0);        /* one parameter byte flipped */
    assert_refused(loaded, bad, AE_EFORMAT, "checksum");
    rewrite(good, bad, -1, -1, 3);                /* three bytes of junk after the end */
    assert_refused(loaded, bad, AE_EFORMAT, "after the checksum");
    path_in(bad, sizeof bad, dir, "no-such.ckpt");
    assert_refused(loaded, bad, AE_ENOENT, "no such");
    /* the CRC-32 a checkpoint ends with, read without loading it: zlib's crc32 of the rest */
    uint32_t crc;
    ck_assert_int_eq(checkpoint_crc32(good, &crc), AE_OK);
    FILE *fp = fopen(good, "rb");
    unsigned char *bytes = malloc((size_t)size);
    ck_assert(fp && bytes && fread(bytes, 1, (size_t)size, fp) == (size_t)size);
    fclose(fp);
    ck_assert_uint_eq(crc, (uint32_t)crc32(0L, bytes, (uInt)(size - 4)));
    free(bytes);
    ck_assert_int_eq(checkpoint_crc32(bad, &crc), AE_ENOENT);      /* no-such.ckpt */
    rewrite(good, bad, -1, 0, 0);                                   /* not a checkpoint's magic */
    ck_assert_int_eq(checkpoint_crc32(bad, &crc), AE_EFORMAT);
    rewrite(good, bad, 10, -1, 0);                                  /* too short to hold a CRC */
    ck_assert_int_eq(checkpoint_crc32(bad, &crc), AE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(error_message(), "not a model checkpoint"));
    /* nothing of the refused files reached the model */
    ck_assert_int_eq(memcmp(loaded->params, saved->params, 3217 * sizeof(float)), 0);

    /* a different architecture: model B with a sigmoid in place of its first relu */
    model *other = model_alloc(3, (int[]){1, 28, 28});
    model_add(other, layer_conv2d(16, 3, 2, PAD_SAME, ACT_SIGMOID));
    model_add(other, layer_conv2d(8, 3, 2, PAD_SAME, ACT_RELU));
    model_add(other, layer_conv2d_transpose(8, 3, 2, PAD_SAME, ACT_RELU));
    model_add(other, layer_conv2d_transpose(16, 3, 2, PAD_SAME, ACT_RELU));
    model_add(other, layer_conv2d(1, 3, 1, PAD_SAME, ACT_SIGMOID));
    ck_assert_int_eq(model_build(other, 1, rng), AE_OK);
    assert_refused(other, good, AE_EFORMAT, "different architecture: its layer 1");
    /* and model A, a different model altogether */
    model *a = model_a();
    ck_assert_int_eq(model_build(a, 1, rng), AE_OK);
    assert_refused(a, good, AE_EFORMAT, "different architecture: 5 layers");

    model_free(a);
    model_free(other);
    model_free(saved);
    model_free(loaded);
    gsl_rng_free(rng);
}
END_TEST

/* --------------------------------------------------------------- Limits */

START_TEST(test_model_add_refuses_misfits)
{
    model *m = model_alloc(3, (int[]){1, 28, 28});
    ck_assert_int_eq(model_add(m, layer_conv2d(16, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);
    error_clear();
    ck_assert_int_eq(model_add(m, layer_dense(64, ACT_RELU)), AE_EINVAL);   /* no Flatten */
    ck_assert_ptr_nonnull(strstr(error_message(), "layer 2"));
    ck_assert_ptr_nonnull(strstr(error_message(), "Dense"));
    ck_assert_ptr_nonnull(strstr(error_message(), "(16, 14, 14)"));
    ck_assert_ptr_nonnull(strstr(error_message(), "layer_flatten"));
    ck_assert_int_eq(m->n_layers, 1);   /* the misfit was not added */

    ck_assert_int_eq(model_add(m, layer_reshape(3, (int[]){2, 10, 10})), AE_EINVAL);   /* 3136 ≠ 200 values */
    ck_assert_ptr_nonnull(strstr(error_message(), "Reshape"));
    ck_assert_int_eq(model_add(m, layer_conv2d(4, 31, 1, PAD_VALID, ACT_NONE)), AE_EINVAL);  /* kernel > image */
    ck_assert_ptr_nonnull(strstr(error_message(), "layer 2 (Conv2D)"));
    ck_assert_int_eq(model_add(m, layer_dense(0, ACT_NONE)), AE_EINVAL);
    ck_assert_int_eq(model_add(m, layer_flatten()), AE_OK);
    ck_assert_int_eq(model_add(m, layer_conv2d(4, 3, 1, PAD_SAME, ACT_NONE)), AE_EINVAL);    /* conv on (F) */
    ck_assert_ptr_nonnull(strstr(error_message(), "(3136)"));
    ck_assert_int_eq(model_add(m, layer_maxpool2()), AE_EINVAL);
    /* a model written line by line, as in Keras, is checked once: the build names the first misfit */
    gsl_rng *rng = test_rng(12);
    error_clear();
    ck_assert_int_eq(model_build(m, 4, rng), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "layer 2 (Dense)"));
    ck_assert_int_eq(m->max_batch, 0);
    gsl_rng_free(rng);
    model_free(m);

    ck_assert_ptr_null(model_alloc(2, (int[]){28, 28}));
    ck_assert_int_eq(error_code(), AE_EINVAL);
    ck_assert_ptr_null(model_alloc(1, (int[]){0}));
    model_free(NULL);
}
END_TEST

START_TEST(test_model_refuses_wrong_state)
{
    gsl_rng *rng = test_rng(5);
    model *m = model_alloc(1, (int[]){3});
    const float x[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, d_y[4] = {1, 1, 1, 1};
    const float *y;
    ck_assert_int_eq(model_build(m, 2, rng), AE_ESTATE);   /* no layers */
    ck_assert_int_eq(model_add(m, layer_dense(2, ACT_TANH)), AE_OK);
    ck_assert_int_eq(model_forward(m, x, 2, &y), AE_ESTATE);   /* before build */
    ck_assert_int_eq(model_build(m, 0, rng), AE_EINVAL);
    ck_assert_int_eq(model_build(m, 2, rng), AE_OK);
    ck_assert_int_eq(model_build(m, 2, rng), AE_ESTATE);
    ck_assert_int_eq(model_add(m, layer_dense(2, ACT_NONE)), AE_ESTATE);
    ck_assert_int_eq(model_backward(m, d_y, 2), AE_ESTATE);   /* before any forward */
    ck_assert_int_eq(model_forward(m, x, 3, &y), AE_ESTATE);  /* larger than max_batch */
    ck_assert_int_eq(model_forward(m, x, 2, &y), AE_OK);
    ck_assert_int_eq(model_backward(m, d_y, 1), AE_ESTATE);   /* another batch size */
    ck_assert_int_eq(model_backward(m, d_y, 2), AE_OK);

    /* a checkpoint needs built models, and a folder that exists; a failed save leaves no file */
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/missing-folder/m.ckpt", dir);
    ck_assert_int_eq(checkpoint_save(m, path), AE_EIO);
    ck_assert(!file_exists(path));
    model *unbuilt = model_alloc(1, (int[]){3});
    model_add(unbuilt, layer_dense(2, ACT_TANH));
    snprintf(path, sizeof path, "%s/m.ckpt", dir);
    ck_assert_int_eq(checkpoint_save(unbuilt, path), AE_ESTATE);
    ck_assert_int_eq(checkpoint_save(m, path), AE_OK);
    ck_assert_int_eq(checkpoint_load(unbuilt, path), AE_ESTATE);
    model_free(unbuilt);
    model_free(m);
    gsl_rng_free(rng);
}
END_TEST

Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    test_add(test_case(s, "Core", 0), test_model_a_counts_and_shapes, test_model_b_counts_and_shapes,
             test_model_build_plan, test_tiny_model_by_hand);

    test_add(test_case(s, "Gradient", 0), test_model_gradient);

    test_add(test_case(s, "Checkpoint", 0), test_checkpoint_round_trip_and_refusals);

    test_add(test_case(s, "Limits", 0), test_model_add_refuses_misfits, test_model_refuses_wrong_state);
    return s;
}
