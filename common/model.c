/* model.c: the sequential model (see model.h).
 *
 * Shape legend: B batch; shapes are per sample, (F) for features or (C, H, W)
 * for images; a layer's buffers hold B samples one after the other.
 *
 * Memory plan, made once in model_build():
 *   params  (n_params)  layer 0 weight, layer 0 bias, layer 1 weight, ...
 *   grads   (n_params)  the same layout
 *   acts    for every layer that computes something: out and d_out (B, out_size),
 *           plus pre and d_pre (B, out_size) when an activation is fused; then
 *           d_input (B, in_size) when the caller asked for it
 *   work    the largest scratch space any layer's fast twin needs at max_batch
 * Flatten, reshape and a linear activation compute nothing: their out and d_out
 * point at their input's, so they cost no copy.
 *
 * The model knows its layers only through their rows of the operations table
 * (layer.h): plan, forward, backward. It never asks what kind a layer is.
 */
#include "model.h"
#include "error.h"
#include "init.h"
#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- building */

model *model_alloc(int in_ndim, const int *in_shape)
{
    if (in_ndim != 1 && in_ndim != 3) {
        AE_ERROR(AE_EINVAL, "a model's input is (F) or (C, H, W), not %d-dimensional", in_ndim);
        return NULL;
    }
    if (shape_size(in_ndim, in_shape) == 0) {
        AE_ERROR(AE_EINVAL, "every dimension of a model's input shape must be positive");
        return NULL;
    }
    model *m = calloc(1, sizeof *m);
    if (!m) {
        AE_ERROR(AE_ENOMEM, "out of memory for a model");
        return NULL;
    }
    m->in_ndim = in_ndim;
    for (int d = 0; d < 3; d++) m->in_shape[d] = d < in_ndim ? in_shape[d] : 1;
    m->in_size = shape_size(in_ndim, in_shape);
    m->threads = 1;
    return m;
}

void model_free(model *m)
{
    if (!m) return;
    if (m->lanes) m->free_lanes(m->lanes);
    free(m->layers);
    free(m->params);
    free(m->grads);
    free(m->acts);
    free(m->work);
    free(m);
}

static int model_append(model *m, layer_spec spec);

/* The first failure of model_add, kept for model_build: a model written line by line, as in Keras,
 * is checked once, at the end. */
static int add_failed(model *m, int rc)
{
    if (!m->add_error) {
        m->add_error = rc;
        snprintf(m->add_message, sizeof m->add_message, "%s", error_message());
    }
    return rc;
}

int model_add(model *m, layer_spec spec)
{
    int rc = model_append(m, spec);
    return rc == AE_OK ? AE_OK : add_failed(m, rc);
}

/* model_add without the memory of an earlier failure. */
static int model_append(model *m, layer_spec spec)
{
    if (m->max_batch > 0)
        return AE_ERROR(AE_ESTATE, "cannot add a layer to a model that is already built");
    const layer_ops *ops = layer_ops_of(spec.kind);
    if (!ops) return AE_ERROR(AE_EINVAL, "layer %d: unknown layer kind %d", m->n_layers + 1, (int)spec.kind);
    if (spec.act < ACT_NONE || spec.act >= ACT_KINDS)
        return AE_ERROR(AE_EINVAL, "layer %d (%s): unknown activation %d", m->n_layers + 1, ops->name, (int)spec.act);
    if (m->n_layers == m->capacity) {
        int capacity = m->capacity ? 2 * m->capacity : 8;
        layer *grown = realloc(m->layers, (size_t)capacity * sizeof *grown);
        if (!grown) return AE_ERROR(AE_ENOMEM, "out of memory for the model's layer list");
        m->layers = grown;
        m->capacity = capacity;
    }
    layer *l = &m->layers[m->n_layers];
    memset(l, 0, sizeof *l);
    l->spec = spec;
    l->ops = ops;
    if (m->n_layers == 0) {
        l->in_ndim = m->in_ndim;
        memcpy(l->in_shape, m->in_shape, sizeof l->in_shape);
        l->in_size = m->in_size;
    } else {
        const layer *prev = &m->layers[m->n_layers - 1];
        l->in_ndim = prev->out_ndim;
        memcpy(l->in_shape, prev->out_shape, sizeof l->in_shape);
        l->in_size = prev->out_size;
    }
    int rc = ops->plan(l, m->n_layers + 1);   /* output shape, weight shape and bias count */
    if (rc != AE_OK) return rc;
    /* every side is at most AE_MAX_SIDE (each plan checks its own), so these products are exact */
    if (l->out_size > AE_MAX_VALUES || l->n_weight + l->n_bias > AE_MAX_VALUES)
        return AE_ERROR(AE_EINVAL, "layer %d (%s): %zu output values per sample and %zu parameters; this library "
                        "takes at most %zu of each", m->n_layers + 1, ops->name, l->out_size, l->n_weight + l->n_bias,
                        AE_MAX_VALUES);
    m->n_layers++;
    return AE_OK;
}

void model_request_input_grad(model *m)
{
    m->want_input_grad = 1;
}

/* Glorot's fans from the weight shape (OUT, IN, ...): fan_in = IN·K·K, fan_out = OUT·K·K. Keras counts a
 * transposed kernel (C, OC, K, K) the other way round; the sum, all Glorot uses, is the same. */
static void glorot_fans(const layer *l, int *fan_in, int *fan_out)
{
    int receptive = 1;
    for (int d = 2; d < l->weight_ndim; d++) receptive *= l->weight_shape[d];
    *fan_in = l->weight_shape[1] * receptive;
    *fan_out = l->weight_shape[0] * receptive;
}

static void free_plan(model *m)
{
    free(m->params);
    free(m->grads);
    free(m->acts);
    free(m->work);
    m->params = m->grads = m->acts = m->work = NULL;
    m->d_input = NULL;
    m->max_batch = 0;
}

int model_build(model *m, int max_batch, gsl_rng *rng)
{
    if (m->add_error) return AE_ERROR(m->add_error, "%s", m->add_message);   /* a layer that did not fit */
    if (m->max_batch > 0) return AE_ERROR(AE_ESTATE, "the model is already built");
    if (m->n_layers == 0) return AE_ERROR(AE_ESTATE, "the model has no layers to build");
    if (max_batch < 1) return AE_ERROR(AE_EINVAL, "the largest batch must be at least 1, not %d", max_batch);
    if (!rng) return AE_ERROR(AE_EINVAL, "model_build needs a random generator for the initial weights");

    /* count: parameters, activation floats, workspace */
    size_t n_params = 0, n_acts = 0, work = 0;
    size_t batch = (size_t)max_batch;
    for (int i = 0; i < m->n_layers; i++) {
        layer *l = &m->layers[i];
        l->param_offset = n_params;
        n_params += l->n_weight + l->n_bias;
        if (!l->view) n_acts += 2 * floats_padded(batch * l->out_size);
        if (layer_has_fused_activation(l)) n_acts += 2 * floats_padded(batch * l->out_size);
        size_t need = layer_workspace(l, max_batch);
        if (need > work) work = need;
    }
    if (m->want_input_grad) n_acts += floats_padded(batch * m->in_size);

    m->params = floats_alloc(n_params);
    m->grads = floats_alloc(n_params);
    m->acts = floats_alloc(n_acts);
    m->work = work ? floats_alloc(work) : NULL;
    if (!m->params || !m->grads || !m->acts || (work && !m->work)) {
        free_plan(m);
        return AE_ERROR(AE_ENOMEM, "out of memory for the model (%zu parameters, %zu activation floats)",
                        n_params, n_acts);
    }
    m->n_params = n_params;
    m->work_floats = work;
    m->max_batch = max_batch;

    /* hand out the views, in layer order */
    float *next = m->acts;
    if (m->want_input_grad) {
        m->d_input = next;
        next += floats_padded(batch * m->in_size);
    }
    for (int i = 0; i < m->n_layers; i++) {
        layer *l = &m->layers[i];
        float *input_grad = i == 0 ? m->d_input : m->layers[i - 1].d_out;   /* may be NULL */
        l->weight = l->n_weight ? m->params + l->param_offset : NULL;
        l->bias = l->n_bias ? m->params + l->param_offset + l->n_weight : NULL;
        l->d_weight = l->n_weight ? m->grads + l->param_offset : NULL;
        l->d_bias = l->n_bias ? m->grads + l->param_offset + l->n_weight : NULL;
        if (l->view) {
            l->out = i == 0 ? NULL : m->layers[i - 1].out;   /* the model's input: set by each forward */
            l->d_out = input_grad;
            continue;
        }
        size_t block = floats_padded(batch * l->out_size);
        l->out = next, next += block;
        l->d_out = next, next += block;
        if (layer_has_fused_activation(l)) {
            l->pre = next, next += block;
            l->d_pre = next, next += block;
        }
    }

    /* Keras' defaults: Glorot-uniform weights, zero biases, drawn in layer order */
    for (int i = 0; i < m->n_layers; i++) {
        layer *l = &m->layers[i];
        if (!l->n_weight) continue;
        int fan_in, fan_out;
        glorot_fans(l, &fan_in, &fan_out);
        glorot_uniform(l->weight, l->n_weight, fan_in, fan_out, rng);
        zeros_init(l->bias, l->n_bias);
    }
    return AE_OK;
}

/* -------------------------------------------------------------- running */

const float *model_layer_input(const model *m, int i, const float *x)
{
    for (int j = i - 1; j >= 0; j--)
        if (!m->layers[j].view) return m->layers[j].out;
    return x;
}

/* Rows [first, first + count) of a batch: x (B, in_size) → each layer's out rows (B, out_size).
 * Touches only those rows (and the workspace), so threads may run it at once on other rows. */
void model_forward_rows(model *m, const float *x, int first, int count, float *work)
{
    for (int i = 0; i < m->n_layers; i++) {
        layer *l = &m->layers[i];
        if (l->view) continue;
        const float *in = model_layer_input(m, i, x) + (size_t)first * l->in_size;   /* (count, in_size) */
        float *out = l->out + (size_t)first * l->out_size;                           /* (count, out_size) */
        /* a fused activation needs the linear output kept apart for backward */
        float *linear = layer_has_fused_activation(l) ? l->pre + (size_t)first * l->out_size : out;
        layer_forward(l, linear, in, work, count);
        if (layer_has_fused_activation(l)) activation_forward(l->spec.act, out, linear, (size_t)count * l->out_size);
    }
}

layer_rows model_layer_rows(const model *m, int i, const float *x, int first, float *grads)
{
    const layer *l = &m->layers[i];
    float *d_in_batch = i == 0 ? m->d_input : m->layers[i - 1].d_out;   /* (B, in_size) or NULL */
    layer_rows r;
    r.in = model_layer_input(m, i, x) + (size_t)first * l->in_size;
    r.out = l->out + (size_t)first * l->out_size;
    r.d_in = d_in_batch ? d_in_batch + (size_t)first * l->in_size : NULL;
    r.d_weight = l->n_weight ? grads + l->param_offset : NULL;
    r.d_bias = l->n_bias ? grads + l->param_offset + l->n_weight : NULL;
    return r;
}

/* Rows [first, first + count): d_y (B, out_size) → ∂L/∂params added into `grads` (the layout
 * of m->grads), and the rows of every layer's d_out (and of m->d_input when requested). */
void model_backward_rows(model *m, const float *x, const float *d_y, int first, int count, float *grads,
                         float *work)
{
    const float *d_out = d_y + (size_t)first * model_output_size(m);   /* (count, out_size) of the current layer */
    for (int i = m->n_layers - 1; i >= 0; i--) {
        layer *l = &m->layers[i];
        if (l->view) continue;   /* its input's gradient is the same memory */
        const layer_rows r = model_layer_rows(m, i, x, first, grads);
        const size_t n_in = (size_t)count * l->in_size, n_out = (size_t)count * l->out_size;
        if (!r.d_in && !r.d_weight) break;   /* nothing below needs anything */
        /* activation gradients are scratch: layers add into them, so clear the rows this batch uses */
        if (r.d_in) memset(r.d_in, 0, n_in * sizeof *r.d_in);

        const float *d_linear = d_out;
        if (layer_has_fused_activation(l)) {
            float *d_pre = l->d_pre + (size_t)first * l->out_size;
            memset(d_pre, 0, n_out * sizeof *d_pre);
            activation_backward(l->spec.act, d_pre, d_out, l->pre + (size_t)first * l->out_size, r.out, n_out);
            d_linear = d_pre;
        }
        layer_backward(l, r.d_in, r.d_weight, r.d_bias, d_linear, r.in, r.out, work, count);
        if (!r.d_in) break;   /* the first layer with parameters, and no input gradient wanted */
        d_out = r.d_in;
    }
}

int model_check_batch(const model *m, int batch, const char *what)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "%s before model_build", what);
    if (batch < 1 || batch > m->max_batch)
        return AE_ERROR(AE_ESTATE, "a batch of %d does not fit a model built for batches of 1 to %d",
                        batch, m->max_batch);
    return AE_OK;
}

void model_record_forward(model *m, const float *x, int batch, const float **y)
{
    for (int i = 0; i < m->n_layers; i++)   /* a view: backward never writes through it */
        if (m->layers[i].view) m->layers[i].out = (float *)model_layer_input(m, i, x);
    m->last_input = x;
    m->last_batch = batch;
    *y = model_layer_input(m, m->n_layers, x);
}

/* x (B, in_size) → *y (B, out_size): each layer reads the previous one's out */
int model_forward(model *m, const float *x, int batch, const float **y)
{
    int rc = model_check_batch(m, batch, "model_forward");
    if (rc != AE_OK) return rc;
    model_forward_rows(m, x, 0, batch, m->work);
    model_record_forward(m, x, batch, y);
    return AE_OK;
}

/* d_y (B, out_size) → grads (+=) and, when requested, d_input (B, in_size), walking the layers backwards */
int model_check_backward(const model *m, int batch)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "model_backward before model_build");
    if (!m->last_input || batch != m->last_batch)
        return AE_ERROR(AE_ESTATE, "model_backward of a batch of %d must follow model_forward of the same batch",
                        batch);
    return AE_OK;
}

int model_backward(model *m, const float *d_y, int batch)
{
    int rc = model_check_backward(m, batch);
    if (rc != AE_OK) return rc;
    model_backward_rows(m, m->last_input, d_y, 0, batch, m->grads, m->work);
    return AE_OK;
}

void model_zero_grad(model *m)
{
    if (m->grads) memset(m->grads, 0, m->n_params * sizeof *m->grads);
}

size_t model_param_count(const model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->n_layers; i++) n += m->layers[i].n_weight + m->layers[i].n_bias;
    return n;
}

double model_forward_macs(const model *m)
{
    double macs = 0.0;
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        double positions = 1.0;                     /* where the kernel is applied: dense once */
        if (l->spec.kind == LAYER_CONV2D) positions = (double)l->out_shape[1] * l->out_shape[2];
        else if (l->spec.kind == LAYER_CONV2D_TRANSPOSE) positions = (double)l->in_shape[1] * l->in_shape[2];
        macs += (double)l->n_weight * positions;
    }
    return macs;
}

size_t model_output_size(const model *m)
{
    return m->n_layers ? m->layers[m->n_layers - 1].out_size : m->in_size;
}

const layer *model_output_layer(const model *m)
{
    return m->n_layers ? &m->layers[m->n_layers - 1] : NULL;
}

/* -------------------------------------------------------------- summary */

/* 101200 → "101,200" */
static const char *with_thousands(char *buf, size_t len, size_t value)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%zu", value);
    size_t used = 0;
    for (int i = 0; i < n && used + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0) buf[used++] = ',';
        buf[used++] = digits[i];
    }
    buf[used] = '\0';
    return buf;
}

/* "(None, 16, 14, 14)" */
static const char *batch_shape_text(char *buf, size_t len, int ndim, const int *shape)
{
    int used = snprintf(buf, len, "(None");
    for (int d = 0; d < ndim && used > 0 && (size_t)used < len; d++)
        used += snprintf(buf + used, len - (size_t)used, ", %d", shape[d]);
    if (used > 0 && (size_t)used < len) snprintf(buf + used, len - (size_t)used, ")");
    return buf;
}

/* Keras' name for layer i: the kind in lower case, numbered from the second of its kind on ("dense_1"). */
static void layer_display_name(char *buf, size_t len, const model *m, int i)
{
    const layer_ops *ops = m->layers[i].ops;
    int earlier = 0;
    for (int j = 0; j < i; j++) earlier += m->layers[j].ops == ops;
    if (earlier == 0) snprintf(buf, len, "%s (%s)", ops->base_name, ops->name);
    else snprintf(buf, len, "%s_%d (%s)", ops->base_name, earlier, ops->name);
}

/* A line of n copies of c. */
static void put_rule(FILE *out, char c, int n)
{
    for (int k = 0; k < n; k++) fputc(c, out);
    fputc('\n', out);
}

int model_summary(const model *m, FILE *out)
{
    char name[80], shape[64], count[32];
    /* Keras' columns (29, 26, 10 wide), the first widened when a name needs it */
    int name_width = 28, shape_width = 26;
    for (int i = 0; i < m->n_layers; i++) {
        layer_display_name(name, sizeof name, m, i);
        if ((int)strlen(name) + 1 > name_width) name_width = (int)strlen(name) + 1;
    }
    int width = 1 + name_width + shape_width + 10;

    fprintf(out, "Model: \"sequential\"\n");
    put_rule(out, '_', width);
    fprintf(out, " %-*s%-*s%s\n", name_width, "Layer (type)", shape_width, "Output Shape", "Param #");
    put_rule(out, '=', width);
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        layer_display_name(name, sizeof name, m, i);
        batch_shape_text(shape, sizeof shape, l->out_ndim, l->out_shape);
        with_thousands(count, sizeof count, l->n_weight + l->n_bias);
        fprintf(out, " %-*s%-*s%s\n", name_width, name, shape_width, shape, count);
        if (i + 1 < m->n_layers) fputc('\n', out);
    }
    put_rule(out, '=', width);
    size_t total = model_param_count(m);
    fprintf(out, "Total params: %s\n", with_thousands(count, sizeof count, total));
    fprintf(out, "Trainable params: %s\n", with_thousands(count, sizeof count, total));
    fprintf(out, "Non-trainable params: 0\n");
    put_rule(out, '_', width);
    if (ferror(out)) return AE_ERROR(AE_EIO, "writing the model summary failed");
    return AE_OK;
}
