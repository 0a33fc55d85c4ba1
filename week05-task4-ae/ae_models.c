/* ae_models.c: the --layers parser, the models A–D of each task, and each task's data
 * (see ae_models.h).
 *
 * Shapes: B batch; an image is (1, 28, 28) = 784 floats, pixel values in [0, 1].
 */
#include "ae_models.h"
#include "engine.h"
#include "error.h"
#include "fast/fast.h"
#include "tensor.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

const char *ae_task_name(ae_task task)
{
    switch (task) {
    case AE_TASK_RECONSTRUCTION: return "reconstruction";
    case AE_TASK_DENOISING: return "denoising";
    case AE_TASK_ANOMALY: return "anomaly";
    }
    return "unknown";
}

/* ============================================================ --layers */

#define MAX_FIELDS 8
#define MAX_UNITS 65536
#define MAX_FILTERS 4096
#define MAX_KERNEL 15
#define MAX_STRIDE 8

/* Where we are while parsing: the item's number and text, for every message. */
typedef struct {
    int number;                       /* 1-based */
    const char *text;
} item_context;

static int item_error(const item_context *item, const char *reason)
{
    return AE_ERROR(AE_EINVAL, "item %d '%s': %s", item->number, item->text, reason);
}

/* A whole-string decimal integer into *value: 0 when it lies in [lo, hi], 1 when the field is
 * not a number, 2 when it is out of range. */
static int parse_count(const char *field, int lo, int hi, int *value)
{
    if (!field[0]) return 1;
    for (const char *c = field; *c; c++)
        if (!isdigit((unsigned char)*c)) return 1;
    if (strlen(field) > 9) return 2;
    long v = strtol(field, NULL, 10);
    if (v < lo || v > hi) return 2;
    *value = (int)v;
    return 0;
}

/* A count field of an item. `what` names it twice in messages: "'12x' is not a number of units",
 * "the number of units must be from 1 to 65536, not 0". */
typedef struct {
    const char *as_value;    /* "a number of units" */
    const char *as_subject;  /* "the number of units" */
} count_name;

static const count_name UNITS = { "a number of units", "the number of units" };
static const count_name FILTERS = { "a number of filters", "the number of filters" };
static const count_name KERNEL = { "a kernel size", "the kernel size" };
static const count_name STRIDE = { "a stride", "the stride" };

static int count_field(const item_context *item, const char *field, count_name what, int lo, int hi, int *value)
{
    char reason[192];
    int status = parse_count(field, lo, hi, value);
    if (status == 1) {
        snprintf(reason, sizeof reason, "'%s' is not %s", field, what.as_value);
        return item_error(item, reason);
    }
    if (status == 2) {
        snprintf(reason, sizeof reason, "%s must be from %d to %d, not %s", what.as_subject, lo, hi, field);
        return item_error(item, reason);
    }
    return AE_OK;
}

/* 1 and *act when the word names an activation. */
static int activation_word(const char *word, activation *act)
{
    if (strcmp(word, "relu") == 0) *act = ACT_RELU;
    else if (strcmp(word, "sigmoid") == 0) *act = ACT_SIGMOID;
    else if (strcmp(word, "tanh") == 0) *act = ACT_TANH;
    else if (strcmp(word, "linear") == 0) *act = ACT_NONE;
    else return 0;
    return 1;
}

static int too_many_fields(const item_context *item, const char *field, const char *usage)
{
    char reason[256];
    snprintf(reason, sizeof reason, "'%s' is one field too many; write %s", field, usage);
    return item_error(item, reason);
}

/* dense:UNITS[:ACT] */
static int parse_dense(const item_context *item, char **fields, int n, layer_spec *out)
{
    const char *usage = "dense:UNITS[:ACT], as in dense:64:relu";
    if (n < 2) return item_error(item, "a dense layer needs its number of units; write dense:UNITS[:ACT], as in dense:64:relu");
    int units;
    int rc = count_field(item, fields[1], UNITS, 1, MAX_UNITS, &units);
    if (rc != AE_OK) return rc;
    activation act = ACT_NONE;
    if (n >= 3 && !activation_word(fields[2], &act)) {
        char reason[192];
        snprintf(reason, sizeof reason, "'%s' is not an activation (relu, sigmoid, tanh, linear)", fields[2]);
        return item_error(item, reason);
    }
    if (n > 3) return too_many_fields(item, fields[3], usage);
    *out = layer_dense(units, act);
    return AE_OK;
}

/* conv:FILTERS:KERNEL[:sN][:same|valid][:ACT] and tconv with the same fields */
static int parse_convolution(const item_context *item, char **fields, int n, int transposed, layer_spec *out)
{
    const char *kind = fields[0];
    char reason[256];
    if (n < 3) {
        snprintf(reason, sizeof reason, "a %s layer needs filters and a kernel size; write %s:FILTERS:KERNEL"
                 "[:sN][:same|valid][:ACT], as in %s:16:3:s2:same:relu", kind, kind, kind);
        return item_error(item, reason);
    }
    int filters, kernel;
    int rc = count_field(item, fields[1], FILTERS, 1, MAX_FILTERS, &filters);
    if (rc == AE_OK) rc = count_field(item, fields[2], KERNEL, 1, MAX_KERNEL, &kernel);
    if (rc != AE_OK) return rc;

    int stride = 1, stride_seen = 0, padding_seen = 0, act_seen = 0;
    padding_mode padding = PAD_SAME;
    activation act = ACT_NONE;
    for (int f = 3; f < n; f++) {
        const char *option = fields[f];
        int *seen;
        const char *what;
        if (option[0] == 's' && isdigit((unsigned char)option[1])) {
            if ((rc = count_field(item, option + 1, STRIDE, 1, MAX_STRIDE, &stride)) != AE_OK) return rc;
            seen = &stride_seen, what = "stride";
        } else if (strcmp(option, "same") == 0 || strcmp(option, "valid") == 0) {
            padding = option[0] == 's' ? PAD_SAME : PAD_VALID;
            seen = &padding_seen, what = "padding";
        } else if (activation_word(option, &act)) {
            seen = &act_seen, what = "activation";
        } else {
            snprintf(reason, sizeof reason, "'%s' is not a stride (s1, s2, ...), a padding (same, valid) "
                     "or an activation (relu, sigmoid, tanh, linear)", option);
            return item_error(item, reason);
        }
        if (*seen) {
            snprintf(reason, sizeof reason, "'%s' gives the %s a second time", option, what);
            return item_error(item, reason);
        }
        *seen = 1;
    }
    *out = transposed ? layer_conv2d_transpose(filters, kernel, stride, padding, act)
                      : layer_conv2d(filters, kernel, stride, padding, act);
    return AE_OK;
}

/* reshape:1x28x28 (or 28x28 for one channel, or 784) */
static int parse_reshape(const item_context *item, char **fields, int n, layer_spec *out)
{
    const char *usage = "reshape:DIMS, as in reshape:1x28x28";
    if (n < 2) return item_error(item, "a reshape needs its target shape; write reshape:DIMS, as in reshape:1x28x28");
    if (n > 2) return too_many_fields(item, fields[2], usage);
    int dims[3], n_dims = 0;
    char copy[AE_SPEC_ITEM_MAX];
    snprintf(copy, sizeof copy, "%s", fields[1]);
    char *rest = copy;
    for (;;) {
        char *x = strchr(rest, 'x');
        if (x) *x = '\0';
        if (n_dims == 3) return item_error(item, "a shape has at most 3 dimensions (C x H x W)");
        if (parse_count(rest, 1, MAX_UNITS, &dims[n_dims]) != 0) {
            char reason[192];
            snprintf(reason, sizeof reason, "'%s' is not a shape: write its sizes joined by x, as in 1x28x28",
                     fields[1]);
            return item_error(item, reason);
        }
        n_dims++;
        if (!x) break;
        rest = x + 1;
    }
    if (n_dims == 2) {   /* Keras' Reshape((28, 28)): one channel */
        dims[2] = dims[1], dims[1] = dims[0], dims[0] = 1;
        n_dims = 3;
    }
    *out = layer_reshape(n_dims, dims);
    return AE_OK;
}

/* A kind without fields: up, pool, flatten. */
static int parse_bare(const item_context *item, char **fields, int n, layer_spec spec, layer_spec *out)
{
    if (n > 1) {
        char usage[64];
        snprintf(usage, sizeof usage, "just %s", fields[0]);
        return too_many_fields(item, fields[1], usage);
    }
    *out = spec;
    return AE_OK;
}

/* act:ACT */
static int parse_activation(const item_context *item, char **fields, int n, layer_spec *out)
{
    activation act;
    if (n < 2) return item_error(item, "an activation layer needs its function; write act:relu (or sigmoid, tanh, linear)");
    if (!activation_word(fields[1], &act)) {
        char reason[192];
        snprintf(reason, sizeof reason, "'%s' is not an activation (relu, sigmoid, tanh, linear)", fields[1]);
        return item_error(item, reason);
    }
    if (n > 2) return too_many_fields(item, fields[2], "act:ACT");
    *out = layer_activation(act);
    return AE_OK;
}

/* One item, already trimmed, into *out. */
static int parse_item(const item_context *item, layer_spec *out)
{
    char buffer[AE_SPEC_ITEM_MAX];
    snprintf(buffer, sizeof buffer, "%s", item->text);
    char *fields[MAX_FIELDS + 1];
    int n = 0;
    for (char *field = buffer;;) {
        char *colon = strchr(field, ':');
        if (colon) *colon = '\0';
        if (n == MAX_FIELDS) return item_error(item, "too many fields (8 at most)");
        fields[n++] = field;
        if (!field[0]) {
            char reason[96];
            snprintf(reason, sizeof reason, "field %d is empty (two ':' in a row, or one at an end)", n);
            return item_error(item, reason);
        }
        if (!colon) break;
        field = colon + 1;
    }
    const char *kind = fields[0];
    if (strcmp(kind, "dense") == 0) return parse_dense(item, fields, n, out);
    if (strcmp(kind, "conv") == 0 || strcmp(kind, "conv2d") == 0) return parse_convolution(item, fields, n, 0, out);
    if (strcmp(kind, "tconv") == 0 || strcmp(kind, "conv2d_transpose") == 0)
        return parse_convolution(item, fields, n, 1, out);
    if (strcmp(kind, "up") == 0 || strcmp(kind, "upsample") == 0)
        return parse_bare(item, fields, n, layer_upsample2(), out);
    if (strcmp(kind, "pool") == 0 || strcmp(kind, "maxpool") == 0)
        return parse_bare(item, fields, n, layer_maxpool2(), out);
    if (strcmp(kind, "flatten") == 0) return parse_bare(item, fields, n, layer_flatten(), out);
    if (strcmp(kind, "reshape") == 0) return parse_reshape(item, fields, n, out);
    if (strcmp(kind, "act") == 0 || strcmp(kind, "activation") == 0) return parse_activation(item, fields, n, out);
    char reason[192];
    snprintf(reason, sizeof reason, "'%s' is not a layer kind (dense, conv, tconv, up, pool, flatten, reshape, act)",
             kind);
    return item_error(item, reason);
}

int ae_layers_parse(const char *text, ae_layer_list *out)
{
    memset(out, 0, sizeof *out);
    if (!text) return AE_ERROR(AE_EINVAL, "no spec given");
    size_t length = strlen(text);
    if (length >= AE_SPEC_MAX)
        return AE_ERROR(AE_EINVAL, "the spec has %zu characters; %d at most", length, AE_SPEC_MAX - 1);
    const char *start = text;
    while (isspace((unsigned char)*start)) start++;
    if (!*start)
        return AE_ERROR(AE_EINVAL, "the spec is empty; give layers such as 'dense:64:relu,dense:784:sigmoid'");

    for (int number = 1;; number++) {
        const char *comma = strchr(start, ',');
        const char *end = comma ? comma : start + strlen(start);
        while (start < end && isspace((unsigned char)*start)) start++;   /* "a, b" reads as "a,b" */
        const char *last = end;
        while (last > start && isspace((unsigned char)last[-1])) last--;
        size_t len = (size_t)(last - start);
        if (len == 0)
            return AE_ERROR(AE_EINVAL, "item %d is empty (two commas in a row, or a comma at an end)", number);
        if (out->n_layers == AE_SPEC_MAX_LAYERS)
            return AE_ERROR(AE_EINVAL, "item %d: a model has at most %d layers", number, AE_SPEC_MAX_LAYERS);
        if (len >= AE_SPEC_ITEM_MAX)
            return AE_ERROR(AE_EINVAL, "item %d '%.20s...': an item has at most %d characters", number, start,
                            AE_SPEC_ITEM_MAX - 1);
        char *item_text = out->items[out->n_layers];
        memcpy(item_text, start, len);
        item_text[len] = '\0';
        item_context item = { number, item_text };
        int rc = parse_item(&item, &out->layers[out->n_layers]);
        if (rc != AE_OK) return rc;
        out->n_layers++;
        if (!comma) break;
        start = comma + 1;
    }
    return AE_OK;
}

int ae_model_from_layers(model **out, const ae_layer_list *list)
{
    *out = NULL;
    if (list->n_layers < 1) return AE_ERROR(AE_EINVAL, "the spec has no layers");
    /* a model that starts with dense reads the image as the flat vector it is in memory */
    int flat = list->layers[0].kind == LAYER_DENSE;
    model *m = flat ? model_alloc(1, (int[]){ AE_IMAGE_PIXELS })
                    : model_alloc(3, (int[]){ 1, AE_IMAGE_SIDE, AE_IMAGE_SIDE });
    if (!m) return error_code();
    for (int i = 0; i < list->n_layers; i++) {
        /* the two shape mistakes a spec makes most, said in the spec's own words */
        layer_kind kind = list->layers[i].kind;
        int in_ndim = i == 0 ? m->in_ndim : m->layers[i - 1].out_ndim;
        const int *in_shape = i == 0 ? m->in_shape : m->layers[i - 1].out_shape;
        const char *hint = NULL;
        if (kind == LAYER_DENSE && in_ndim == 3) hint = "a dense layer needs a flat input; put flatten before it";
        if ((kind == LAYER_CONV2D || kind == LAYER_CONV2D_TRANSPOSE || kind == LAYER_UPSAMPLE2 ||
             kind == LAYER_MAXPOOL2) && in_ndim == 1)
            hint = "this layer needs an image (C, H, W); put a reshape such as reshape:1x28x28 before it";
        if (hint) {
            char shape[64];
            shape_format(shape, sizeof shape, in_ndim, in_shape);
            model_free(m);
            return AE_ERROR(AE_EINVAL, "item %d '%s': %s (its input is %s)", i + 1, list->items[i], hint, shape);
        }
        int rc = model_add(m, list->layers[i]);
        if (rc != AE_OK) {
            char reason[512];
            snprintf(reason, sizeof reason, "%s", error_message());
            model_free(m);
            return AE_ERROR(rc, "item %d '%s': %s", i + 1, list->items[i], reason);
        }
    }
    const layer *last = model_output_layer(m);
    if (last->out_size != AE_IMAGE_PIXELS) {
        char shape[64];
        shape_format(shape, sizeof shape, last->out_ndim, last->out_shape);
        size_t values = last->out_size;
        model_free(m);
        return AE_ERROR(AE_EINVAL, "the last layer gives %s = %zu values per image, but an autoencoder must give "
                        "back the 784 pixels of its input: end with dense:784:sigmoid, or with conv:1:3:sigmoid "
                        "on 28x28 feature maps", shape, values);
    }
    *out = m;
    return AE_OK;
}

/* ============================================================== models */

/* The models of the comparison, written layer by layer as the course writes them in Keras.
 * Each takes the image as (1, 28, 28) and gives back (1, 28, 28). */

static const int IMAGE_SHAPE[3] = { 1, AE_IMAGE_SIDE, AE_IMAGE_SIDE };

/* The tutorial's encoder and decoder, as its Keras code writes them (two Sequential models).
 * Each builder adds its layers and returns AE_OK; a layer that cannot be added is recorded in the
 * model and reported by model_build. */

/* encoder: Flatten → Dense(64, relu), the code of 64 numbers */
static void dense_encoder(model *m)
{
    model_add(m, layer_flatten());
    model_add(m, layer_dense(64, ACT_RELU));
}

/* decoder: Dense(784, sigmoid) → Reshape((28, 28)) */
static void dense_decoder(model *m)
{
    model_add(m, layer_dense(AE_IMAGE_PIXELS, ACT_SIGMOID));
    model_add(m, layer_reshape(3, IMAGE_SHAPE));
}

/* Reconstruction A: the tutorial's dense autoencoder, 784 → 64 → 784. */
static int dense_autoencoder(model *m)
{
    dense_encoder(m);
    dense_decoder(m);
    return AE_OK;
}

/* BEGIN SOLUTION: Task 4c: model B */
/* the denoiser's encoder: Conv2D(16, 3, strides=2) → Conv2D(8, 3, strides=2), 28² → 14²×16 → 7²×8 */
static void conv_encoder(model *m)
{
    model_add(m, layer_conv2d(16, 3, 2, PAD_SAME, ACT_RELU));
    model_add(m, layer_conv2d(8, 3, 2, PAD_SAME, ACT_RELU));
}

/* its decoder: Conv2DTranspose(8, 3, strides=2) → Conv2DTranspose(16, 3, strides=2) → Conv2D(1, 3, sigmoid) */
static void conv_decoder(model *m)
{
    model_add(m, layer_conv2d_transpose(8, 3, 2, PAD_SAME, ACT_RELU));
    model_add(m, layer_conv2d_transpose(16, 3, 2, PAD_SAME, ACT_RELU));
    model_add(m, layer_conv2d(1, 3, 1, PAD_SAME, ACT_SIGMOID));
}
/* END SOLUTION */

/* Reconstruction B, denoising A: the tutorial's convolutional denoiser. */
static int conv_autoencoder(model *m)
{
    /* BEGIN SOLUTION: Task 4c: model B */
    conv_encoder(m);
    conv_decoder(m);
    return AE_OK;
    /* END SOLUTION */
}

/* Reconstruction C: A with one more encoder layer, Dense(128, relu) before Dense(64, relu). */
static int deeper_dense_autoencoder(model *m)
{
    /* BEGIN SOLUTION: Task 4c: model C */
    model_add(m, layer_flatten());
    model_add(m, layer_dense(128, ACT_RELU));
    model_add(m, layer_dense(64, ACT_RELU));
    dense_decoder(m);
    return AE_OK;
    /* END SOLUTION */
}

/* Reconstruction D: A's layers, trained with binary cross-entropy (the table below says so). */
static int dense_autoencoder_d(model *m)
{
    /* BEGIN SOLUTION: Task 4d: model D */
    return dense_autoencoder(m);
    /* END SOLUTION */
}

/* Denoising B: the denoiser with each Conv2DTranspose replaced by UpSampling2D + Conv2D. */
static int upsampling_autoencoder(model *m)
{
    /* BEGIN SOLUTION: Task 4 (denoising): model B */
    conv_encoder(m);
    model_add(m, layer_upsample2());
    model_add(m, layer_conv2d(8, 3, 1, PAD_SAME, ACT_RELU));
    model_add(m, layer_upsample2());
    model_add(m, layer_conv2d(16, 3, 1, PAD_SAME, ACT_RELU));
    model_add(m, layer_conv2d(1, 3, 1, PAD_SAME, ACT_SIGMOID));
    return AE_OK;
    /* END SOLUTION */
}

/* Denoising C: the denoiser with one more encoder layer, Conv2D(8, 3, relu) on the 7x7 code. */
static int deeper_conv_autoencoder(model *m)
{
    /* BEGIN SOLUTION: Task 4 (denoising): model C */
    conv_encoder(m);
    model_add(m, layer_conv2d(8, 3, 1, PAD_SAME, ACT_RELU));
    conv_decoder(m);
    return AE_OK;
    /* END SOLUTION */
}

/* Denoising D: the denoiser's layers, trained with binary cross-entropy. */
static int conv_autoencoder_d(model *m)
{
    /* BEGIN SOLUTION: Task 4 (denoising): model D */
    return conv_autoencoder(m);
    /* END SOLUTION */
}

typedef struct {
    const char *summary;
    int (*build)(model *m);       /* adds the layers to a model of input (1, 28, 28) */
    loss_kind loss;
} builtin_model;

static const builtin_model RECONSTRUCTION_MODELS[AE_BUILTIN_MODELS] = {
    { "the tutorial's dense autoencoder: 784 -> Dense(64, relu) -> Dense(784, sigmoid)", dense_autoencoder, LOSS_MSE },
    { "A's dense layers as convolutions: 2 strided Conv2D down, 2 Conv2DTranspose up", conv_autoencoder, LOSS_MSE },
    { "A with one more encoder layer, Dense(128, relu) before Dense(64, relu)", deeper_dense_autoencoder, LOSS_MSE },
    { "A trained with binary cross-entropy instead of MSE", dense_autoencoder_d, LOSS_BCE },
};

static const builtin_model DENOISING_MODELS[AE_BUILTIN_MODELS] = {
    { "the tutorial's convolutional denoiser (Conv2D down, Conv2DTranspose up)", conv_autoencoder, LOSS_MSE },
    { "A with each Conv2DTranspose replaced by UpSampling2D + Conv2D", upsampling_autoencoder, LOSS_MSE },
    { "A with one more encoder layer, Conv2D(8, 3, relu) on the 7x7 code", deeper_conv_autoencoder, LOSS_MSE },
    { "A trained with binary cross-entropy instead of MSE", conv_autoencoder_d, LOSS_BCE },
};

/* One layer in the --layers syntax: "dense:64:relu", "conv:16:3:s2:same:relu", "reshape:1x28x28". */
static void format_layer(char *buf, size_t len, const layer_spec *s)
{
    const char *act = s->act == ACT_NONE ? "" : activation_name(s->act);
    const char *sep = s->act == ACT_NONE ? "" : ":";
    switch (s->kind) {
    case LAYER_DENSE: snprintf(buf, len, "dense:%d%s%s", s->units, sep, act); return;
    case LAYER_CONV2D:
    case LAYER_CONV2D_TRANSPOSE: {
        char stride[16] = "";
        if (s->stride != 1) snprintf(stride, sizeof stride, ":s%d", s->stride);
        snprintf(buf, len, "%s:%d:%d%s:%s%s%s", s->kind == LAYER_CONV2D ? "conv" : "tconv", s->filters, s->kernel,
                 stride, s->padding == PAD_VALID ? "valid" : "same", sep, act);
        return;
    }
    case LAYER_ACTIVATION: snprintf(buf, len, "act:%s", activation_name(s->act)); return;
    case LAYER_FLATTEN: snprintf(buf, len, "flatten"); return;
    case LAYER_RESHAPE:
        if (s->shape_ndim == 3) snprintf(buf, len, "reshape:%dx%dx%d", s->shape[0], s->shape[1], s->shape[2]);
        else snprintf(buf, len, "reshape:%d", s->shape[0]);
        return;
    case LAYER_UPSAMPLE2: snprintf(buf, len, "up"); return;
    case LAYER_MAXPOOL2: snprintf(buf, len, "pool"); return;
    }
    snprintf(buf, len, "?");
}

int ae_model_spec_text(char *buf, size_t len, const model *m)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < m->n_layers; i++) {
        char item[AE_SPEC_ITEM_MAX];
        format_layer(item, sizeof item, &m->layers[i].spec);
        int w = snprintf(buf + used, len - used, "%s%s", i ? "," : "", item);
        if (w < 0 || (size_t)w >= len - used) return AE_ERROR(AE_EINVAL, "the model's layers do not fit %zu characters", len);
        used += (size_t)w;
    }
    return AE_OK;
}

int ae_recipe_builtin(ae_recipe *r, ae_task task, int index)
{
    if (index < 0 || index >= AE_BUILTIN_MODELS)
        return AE_ERROR(AE_EINVAL, "there are %d built-in models (A..D); index %d is none of them",
                        AE_BUILTIN_MODELS, index);
    const builtin_model *b = task == AE_TASK_DENOISING ? &DENOISING_MODELS[index] : &RECONSTRUCTION_MODELS[index];
    memset(r, 0, sizeof *r);
    r->name[0] = (char)('A' + index);
    r->summary = b->summary;
    r->build = b->build;
    r->loss.kind = b->loss;
    r->loss.reduction = REDUCE_MEAN;
    /* the layers as text too, for the messages and the history files: the model as written */
    model *m = model_alloc(3, IMAGE_SHAPE);
    if (!m) return error_code();
    int rc = b->build(m);
    if (rc == AE_OK)
        rc = m->add_error ? AE_ERROR(m->add_error, "model %c: %s", r->name[0], m->add_message)
                          : ae_model_spec_text(r->spec, sizeof r->spec, m);
    model_free(m);
    return rc;
}

int ae_recipe_custom(ae_recipe *r, const char *spec, loss_kind loss)
{
    if (strlen(spec) >= sizeof r->spec)
        return AE_ERROR(AE_EINVAL, "the spec has %zu characters; %zu at most", strlen(spec), sizeof r->spec - 1);
    if (loss != LOSS_MSE && loss != LOSS_BCE)
        return AE_ERROR(AE_EINVAL, "a --layers model trains with mse or bce, not %s", loss_name(loss));
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "custom");
    r->summary = "the model given with --layers";
    snprintf(r->spec, sizeof r->spec, "%s", spec);
    r->loss.kind = loss;
    r->loss.reduction = REDUCE_MEAN;
    return AE_OK;
}

/* BCE needs outputs in (0, 1): the last layer that computes something must end in a sigmoid. */
static int check_bce_output(const model *m)
{
    int i = m->n_layers - 1;
    while (i > 0 && (m->layers[i].spec.kind == LAYER_RESHAPE || m->layers[i].spec.kind == LAYER_FLATTEN)) i--;
    if (m->layers[i].spec.act != ACT_SIGMOID)
        return AE_ERROR(AE_EINVAL, "binary cross-entropy needs outputs in (0, 1): end the layers with a "
                        "sigmoid, as in dense:784:sigmoid");
    return AE_OK;
}

int ae_model_create(model **out, const ae_recipe *r, int max_batch, gsl_rng *rng)
{
    *out = NULL;
    model *m = NULL;
    int rc;
    if (r->build) {                       /* a built-in model, written in C */
        m = model_alloc(3, IMAGE_SHAPE);
        if (!m) return error_code();
        rc = r->build(m);
        if (rc == AE_OK && m->add_error) rc = AE_ERROR(m->add_error, "model %s: %s", r->name, m->add_message);
    } else {                              /* --layers: the same model_add calls, from the spec */
        ae_layer_list list;
        rc = ae_layers_parse(r->spec, &list);
        if (rc == AE_OK) rc = ae_model_from_layers(&m, &list);
    }
    if (rc == AE_OK && r->loss.kind == LOSS_BCE) rc = check_bce_output(m);
    if (rc == AE_OK) rc = model_build(m, max_batch, rng);
    if (rc != AE_OK) {
        model_free(m);
        return rc;
    }
    *out = m;
    return AE_OK;
}

int ae_reconstruct(model *m, const float *x, int n, float *out)
{
    const size_t pixels = m->in_size, out_size = model_output_size(m);
    for (int start = 0; start < n; start += m->max_batch) {
        int batch = n - start < m->max_batch ? n - start : m->max_batch;
        const float *y;
        int rc = ENGINE(model_forward)(m, x + (size_t)start * pixels, batch, &y);
        if (rc != AE_OK) return rc;
        memcpy(out + (size_t)start * out_size, y, (size_t)batch * out_size * sizeof *y);
    }
    return AE_OK;
}

/* ================================================================ data */

/* The indices of the images of one class; NULL with *count 0 when there is none. */
static int class_indices(size_t **out, size_t *count, const idx_array *labels, int label)
{
    *out = NULL;
    *count = 0;
    size_t n = 0;
    for (size_t i = 0; i < labels->count; i++) n += labels->data[i] == label;
    if (n == 0) return AE_OK;
    size_t *index = malloc(n * sizeof *index);
    if (!index) return AE_ERROR(AE_ENOMEM, "out of memory for %zu image indices", n);
    n = 0;
    for (size_t i = 0; i < labels->count; i++)
        if (labels->data[i] == label) index[n++] = i;
    *out = index;
    *count = n;
    return AE_OK;
}

void ae_corrupt(float *x, const float *noise, size_t n, float factor)
{
    /* BEGIN SOLUTION: Task 4 (denoising): the noise */
    for (size_t p = 0; p < n; p++) {
        float v = x[p] + factor * noise[p];           /* x̃ = clip(x + σ·ε, 0, 1), ε ~ N(0,1) */
        x[p] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    /* END SOLUTION */
}

/* Two different noise streams from one --seed: the test images must not get the noise of the
 * training image that has the same position in its file. */
#define TRAIN_NOISE_STREAM 0x5452414eUL   /* "TRAN" */
#define TEST_NOISE_STREAM 0x54455354UL    /* "TEST" */

int ae_sources_init(ae_sources *s, ae_task task, const fashion_mnist *fm, int normal_class,
                    double noise_factor, unsigned long seed)
{
    memset(s, 0, sizeof *s);
    if (!(noise_factor >= 0.0 && noise_factor <= 1.0))
        return AE_ERROR(AE_EINVAL, "the noise factor must lie in [0, 1], not %g", noise_factor);
    s->train_ctx.images = &fm->train.images;
    s->val_ctx.images = &fm->test.images;
    if (task == AE_TASK_DENOISING) {
        s->train_ctx.noise_factor = s->val_ctx.noise_factor = noise_factor;
        s->train_ctx.corrupt = s->val_ctx.corrupt = ae_corrupt;
        s->train_ctx.noise_seed = seed ^ TRAIN_NOISE_STREAM;
        s->val_ctx.noise_seed = seed ^ TEST_NOISE_STREAM;
    }
    if (task == AE_TASK_ANOMALY) {
        if (normal_class < 0 || normal_class >= FASHION_CLASSES)
            return AE_ERROR(AE_EINVAL, "the normal class must be 0..%d, not %d", FASHION_CLASSES - 1, normal_class);
        int rc = class_indices(&s->train_subset, &s->train_ctx.n_subset, &fm->train.labels, normal_class);
        if (rc == AE_OK) rc = class_indices(&s->val_subset, &s->val_ctx.n_subset, &fm->test.labels, normal_class);
        if (rc == AE_OK && (!s->train_subset || !s->val_subset))
            rc = AE_ERROR(AE_EDOM, "the %s images hold no image of class %d (%s); use more images (--limit) "
                          "or another --normal-class", s->train_subset ? "test" : "training", normal_class,
                          fashion_class_name(normal_class));
        if (rc != AE_OK) {
            ae_sources_free(s);
            return rc;
        }
        s->train_ctx.subset = s->train_subset;
        s->val_ctx.subset = s->val_subset;
    }
    s->train = image_batch_source(&s->train_ctx);
    s->val = image_batch_source(&s->val_ctx);
    return AE_OK;
}

void ae_sources_free(ae_sources *s)
{
    if (!s) return;
    free(s->train_subset);
    free(s->val_subset);
    s->train_subset = s->val_subset = NULL;
}
