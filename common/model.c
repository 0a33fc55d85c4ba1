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
 *   work    the largest workspace any convolution needs at max_batch
 * Flatten, reshape and a linear activation compute nothing: their out and d_out
 * point at their input's, so they cost no copy.
 */
#include "model.h"
#include "fast/cpu.h"
#include "error.h"
#include "io/fileio.h"
#include "fast/gemm.h"
#include "init.h"
#include "fast/pool.h"
#include "tensor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---------------------------------------------------------- layer specs */

static layer_spec spec_of(layer_kind kind, activation act)
{
    layer_spec s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.act = act;
    s.stride = 1;
    s.padding = PAD_VALID;
    return s;
}

layer_spec layer_dense(int units, activation act)
{
    layer_spec s = spec_of(LAYER_DENSE, act);
    s.units = units;
    return s;
}

layer_spec layer_conv2d(int filters, int kernel, int stride, padding_mode padding, activation act)
{
    layer_spec s = spec_of(LAYER_CONV2D, act);
    s.filters = filters;
    s.kernel = kernel;
    s.stride = stride;
    s.padding = padding;
    return s;
}

layer_spec layer_conv2d_transpose(int filters, int kernel, int stride, padding_mode padding, activation act)
{
    layer_spec s = layer_conv2d(filters, kernel, stride, padding, act);
    s.kind = LAYER_CONV2D_TRANSPOSE;
    return s;
}

layer_spec layer_activation(activation act) { return spec_of(LAYER_ACTIVATION, act); }
layer_spec layer_flatten(void) { return spec_of(LAYER_FLATTEN, ACT_NONE); }
layer_spec layer_upsample2(void) { return spec_of(LAYER_UPSAMPLE2, ACT_NONE); }
layer_spec layer_maxpool2(void) { return spec_of(LAYER_MAXPOOL2, ACT_NONE); }

layer_spec layer_reshape(int ndim, const int *shape)
{
    layer_spec s = spec_of(LAYER_RESHAPE, ACT_NONE);
    s.shape_ndim = ndim;
    for (int d = 0; d < ndim && d < 3; d++) s.shape[d] = shape[d];
    return s;
}

const char *layer_kind_name(layer_kind kind)
{
    switch (kind) {
    case LAYER_DENSE: return "Dense";
    case LAYER_CONV2D: return "Conv2D";
    case LAYER_CONV2D_TRANSPOSE: return "Conv2DTranspose";
    case LAYER_ACTIVATION: return "Activation";
    case LAYER_FLATTEN: return "Flatten";
    case LAYER_RESHAPE: return "Reshape";
    case LAYER_UPSAMPLE2: return "UpSampling2D";
    case LAYER_MAXPOOL2: return "MaxPooling2D";
    }
    return "Unknown";
}

/* The lower-case name Keras gives a layer's first instance: "conv2d_transpose". */
static const char *layer_base_name(layer_kind kind)
{
    switch (kind) {
    case LAYER_DENSE: return "dense";
    case LAYER_CONV2D: return "conv2d";
    case LAYER_CONV2D_TRANSPOSE: return "conv2d_transpose";
    case LAYER_ACTIVATION: return "activation";
    case LAYER_FLATTEN: return "flatten";
    case LAYER_RESHAPE: return "reshape";
    case LAYER_UPSAMPLE2: return "up_sampling2d";
    case LAYER_MAXPOOL2: return "max_pooling2d";
    }
    return "unknown";
}

const char *activation_name(activation act)
{
    switch (act) {
    case ACT_NONE: return "linear";
    case ACT_RELU: return "relu";
    case ACT_SIGMOID: return "sigmoid";
    case ACT_TANH: return "tanh";
    }
    return "unknown";
}

/* A layer whose output is its input, seen under another shape. */
static int is_alias(const layer *l)
{
    return l->spec.kind == LAYER_FLATTEN || l->spec.kind == LAYER_RESHAPE ||
           (l->spec.kind == LAYER_ACTIVATION && l->spec.act == ACT_NONE);
}

/* A dense or convolution layer with an activation applied to its output. */
static int has_fused_activation(const layer *l)
{
    return (l->spec.kind == LAYER_DENSE || l->spec.kind == LAYER_CONV2D ||
            l->spec.kind == LAYER_CONV2D_TRANSPOSE) && l->spec.act != ACT_NONE;
}

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
    pool_free(m->pool);
    free(m->lane_grads);
    free(m->lane_work);
    free(m->lane_partials);
    free(m->layers);
    free(m->params);
    free(m->grads);
    free(m->acts);
    free(m->work);
    free(m);
}

static void set_out_shape(layer *l, int ndim, int d0, int d1, int d2)
{
    l->out_ndim = ndim;
    l->out_shape[0] = d0;
    l->out_shape[1] = ndim > 1 ? d1 : 1;
    l->out_shape[2] = ndim > 2 ? d2 : 1;
    l->out_size = shape_size(ndim, l->out_shape);
}

/* Works out l's output shape and parameter counts from its input shape (already in l). */
static int plan_layer(layer *l, int number)
{
    const layer_spec *s = &l->spec;
    const char *kind = layer_kind_name(s->kind);
    char in_text[64];
    shape_format(in_text, sizeof in_text, l->in_ndim, l->in_shape);
    int C = l->in_shape[0], H = l->in_shape[1], W = l->in_shape[2];

    if (s->act < ACT_NONE || s->act > ACT_TANH)
        return AE_ERROR(AE_EINVAL, "layer %d (%s): unknown activation %d", number, kind, (int)s->act);
    if ((s->kind == LAYER_CONV2D || s->kind == LAYER_CONV2D_TRANSPOSE || s->kind == LAYER_UPSAMPLE2 ||
         s->kind == LAYER_MAXPOOL2) && l->in_ndim != 3)
        return AE_ERROR(AE_EINVAL,
                        "layer %d (%s) needs an image input (C, H, W) but gets %s: add layer_reshape() before it",
                        number, kind, in_text);

    switch (s->kind) {
    case LAYER_DENSE:
        if (l->in_ndim != 1)
            return AE_ERROR(AE_EINVAL,
                            "layer %d (Dense) needs a flat input (F) but gets %s: add layer_flatten() before it",
                            number, in_text);
        if (s->units <= 0)
            return AE_ERROR(AE_EINVAL, "layer %d (Dense): units must be positive, not %d", number, s->units);
        set_out_shape(l, 1, s->units, 1, 1);
        l->n_weight = (size_t)s->units * l->in_size;
        l->n_bias = (size_t)s->units;
        return AE_OK;

    case LAYER_CONV2D:
    case LAYER_CONV2D_TRANSPOSE: {
        if (s->filters <= 0 || s->kernel <= 0)
            return AE_ERROR(AE_EINVAL, "layer %d (%s): filters and kernel must be positive, not %d and %d",
                            number, kind, s->filters, s->kernel);
        int rc = s->kind == LAYER_CONV2D
                     ? conv2d_geom(&l->geom, C, H, W, s->filters, s->kernel, s->kernel, s->stride,
                                   s->padding, s->pad)
                     : conv2d_transpose_geom(&l->geom, C, H, W, s->filters, s->kernel, s->kernel, s->stride,
                                             s->padding, s->pad, s->output_padding);
        if (rc != AE_OK) {
            char reason[256];   /* the message buffer is about to be overwritten */
            snprintf(reason, sizeof reason, "%s", error_message());
            return AE_ERROR(rc, "layer %d (%s) on input %s: %s", number, kind, in_text, reason);
        }
        set_out_shape(l, 3, l->geom.out_c, l->geom.out_h, l->geom.out_w);
        l->n_weight = (size_t)s->filters * (size_t)C * (size_t)s->kernel * (size_t)s->kernel;
        l->n_bias = (size_t)s->filters;
        return AE_OK;
    }

    case LAYER_ACTIVATION:
        set_out_shape(l, l->in_ndim, l->in_shape[0], l->in_shape[1], l->in_shape[2]);
        return AE_OK;

    case LAYER_FLATTEN:
        set_out_shape(l, 1, (int)l->in_size, 1, 1);
        return AE_OK;

    case LAYER_RESHAPE: {
        int ndim = s->shape_ndim;
        if (ndim != 1 && ndim != 3)
            return AE_ERROR(AE_EINVAL, "layer %d (Reshape): the target shape is (F) or (C, H, W), not %d-dimensional",
                            number, ndim);
        size_t size = shape_size(ndim, s->shape);
        char target[64];
        shape_format(target, sizeof target, ndim, s->shape);
        if (size != l->in_size)
            return AE_ERROR(AE_EINVAL, "layer %d (Reshape) cannot turn %s (%zu values) into %s (%zu values)",
                            number, in_text, l->in_size, target, size);
        set_out_shape(l, ndim, s->shape[0], s->shape[1], s->shape[2]);
        return AE_OK;
    }

    case LAYER_UPSAMPLE2:
        set_out_shape(l, 3, C, 2 * H, 2 * W);
        return AE_OK;

    case LAYER_MAXPOOL2:
        if (H < 2 || W < 2)
            return AE_ERROR(AE_EINVAL, "layer %d (MaxPooling2D) needs at least 2x2 pixels but gets %s",
                            number, in_text);
        set_out_shape(l, 3, C, H / 2, W / 2);
        return AE_OK;
    }
    return AE_ERROR(AE_EINVAL, "layer %d: unknown layer kind %d", number, (int)s->kind);
}

int model_add(model *m, layer_spec spec)
{
    if (m->max_batch > 0)
        return AE_ERROR(AE_ESTATE, "cannot add a layer to a model that is already built");
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
    int rc = plan_layer(l, m->n_layers + 1);
    if (rc != AE_OK) return rc;
    m->n_layers++;
    return AE_OK;
}

void model_request_input_grad(model *m)
{
    m->want_input_grad = 1;
}

/* Floats rounded up to a whole 64-byte line, so that every buffer starts aligned. */
static size_t padded(size_t floats)
{
    return (floats + 15) / 16 * 16;
}

/* A zeroed block of `floats` floats aligned to 64 bytes, or NULL. */
static float *alloc_floats(size_t floats)
{
    size_t bytes = padded(floats ? floats : 1) * sizeof(float);
    float *p = aligned_alloc(64, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

static void glorot_fans(const layer *l, int *fan_in, int *fan_out)
{
    int k2 = l->spec.kernel * l->spec.kernel;
    switch (l->spec.kind) {
    case LAYER_DENSE:
        *fan_in = (int)l->in_size;
        *fan_out = l->spec.units;
        return;
    case LAYER_CONV2D:
    case LAYER_CONV2D_TRANSPOSE:   /* Keras counts the transposed kernel the other way round; the sum is the same */
        *fan_in = l->geom.in_c * k2;
        *fan_out = l->geom.out_c * k2;
        return;
    default:
        *fan_in = *fan_out = 0;
    }
}

static void free_plan(model *m)
{
    free(m->params);
    free(m->grads);
    free(m->acts);
    free(m->work);
    free(m->lane_grads);
    free(m->lane_work);
    free(m->lane_partials);
    m->params = m->grads = m->acts = m->work = m->lane_grads = m->lane_work = m->lane_partials = NULL;
    m->d_input = NULL;
    m->max_batch = 0;
}

/* The largest input of a dense layer other than the first: the size of a lane's part of ∂L/∂input
 * in the units split; 0 when the model is not all dense (see model_units_split). */
static size_t units_partial_floats(const model *m)
{
    size_t largest = 0;
    int dense = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        if (is_alias(l) || l->spec.kind == LAYER_ACTIVATION) continue;
        if (l->spec.kind != LAYER_DENSE) return 0;
        if (dense++ > 0 && l->in_size > largest) largest = l->in_size;
    }
    if (dense > MODEL_UNITS_MAX_DENSE) return 0;         /* the lanes' lists of parameter ranges are this long */
    return dense > 0 ? (largest ? largest : 1) : 0;
}

/* With more than one thread: each lane's gradient block and the workspaces of lanes 1..
 * (the batch split), and for an all-dense model each lane's part of ∂L/∂input (the units split). */
static int plan_lanes(model *m)
{
    free(m->lane_grads);
    free(m->lane_work);
    free(m->lane_partials);
    m->lane_grads = m->lane_work = m->lane_partials = NULL;
    if (m->threads == 1 || m->max_batch == 0) return AE_OK;
    const size_t lanes = (size_t)m->threads;
    const size_t partial = padded((size_t)m->max_batch * units_partial_floats(m));
    m->lane_grads = alloc_floats(lanes * padded(m->n_params));
    m->lane_work = m->work_floats ? alloc_floats((lanes - 1) * padded(m->work_floats)) : NULL;
    m->lane_partials = partial ? alloc_floats(lanes * partial) : NULL;
    if (!m->lane_grads || (m->work_floats && !m->lane_work) || (partial && !m->lane_partials)) {
        free(m->lane_grads);
        free(m->lane_work);
        free(m->lane_partials);
        m->lane_grads = m->lane_work = m->lane_partials = NULL;
        return AE_ERROR(AE_ENOMEM, "out of memory for %d threads' gradients and workspaces", m->threads);
    }
    return AE_OK;
}

int model_build(model *m, int max_batch, gsl_rng *rng)
{
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
        if (!is_alias(l)) n_acts += 2 * padded(batch * l->out_size);
        if (has_fused_activation(l)) n_acts += 2 * padded(batch * l->out_size);
        size_t need = 0;
        if (l->spec.kind == LAYER_CONV2D) need = conv2d_workspace_floats(&l->geom, max_batch);
        if (l->spec.kind == LAYER_CONV2D_TRANSPOSE) need = conv2d_transpose_workspace_floats(&l->geom, max_batch);
        if (need > work) work = need;
    }
    if (m->want_input_grad) n_acts += padded(batch * m->in_size);

    m->params = alloc_floats(n_params);
    m->grads = alloc_floats(n_params);
    m->acts = alloc_floats(n_acts);
    m->work = work ? alloc_floats(work) : NULL;
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
        next += padded(batch * m->in_size);
    }
    for (int i = 0; i < m->n_layers; i++) {
        layer *l = &m->layers[i];
        float *input_grad = i == 0 ? m->d_input : m->layers[i - 1].d_out;   /* may be NULL */
        l->weight = l->n_weight ? m->params + l->param_offset : NULL;
        l->bias = l->n_bias ? m->params + l->param_offset + l->n_weight : NULL;
        l->d_weight = l->n_weight ? m->grads + l->param_offset : NULL;
        l->d_bias = l->n_bias ? m->grads + l->param_offset + l->n_weight : NULL;
        if (is_alias(l)) {
            l->out = i == 0 ? NULL : m->layers[i - 1].out;   /* the model's input: set by each forward */
            l->d_out = input_grad;
            continue;
        }
        size_t block = padded(batch * l->out_size);
        l->out = next, next += block;
        l->d_out = next, next += block;
        if (has_fused_activation(l)) {
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
    return plan_lanes(m);
}

/* -------------------------------------------------------------- running */

/* out (n) = f(in (n)) */
static void activation_forward(activation act, float *out, const float *in, size_t n)
{
    switch (act) {
    case ACT_RELU: relu_forward(out, in, n); break;
    case ACT_SIGMOID: sigmoid_forward(out, in, n); break;
    case ACT_TANH: tanh_forward(out, in, n); break;
    case ACT_NONE: if (out != in) memcpy(out, in, n * sizeof *out); break;
    }
}

/* d_in (n) += f'(·) ⊙ d_out (n); relu looks at the input in (n), sigmoid and tanh at the output out (n) */
static void activation_backward(activation act, float *d_in, const float *d_out, const float *in,
                                const float *out, size_t n)
{
    switch (act) {
    case ACT_RELU: relu_backward(d_in, d_out, in, n); break;
    case ACT_SIGMOID: sigmoid_backward(d_in, d_out, out, n); break;
    case ACT_TANH: tanh_backward(d_in, d_out, out, n); break;
    case ACT_NONE: for (size_t i = 0; i < n; i++) d_in[i] += d_out[i]; break;
    }
}

/* dst += src, then src = 0: a lane's gradient block handed over and made ready for the next batch */
#if defined(__x86_64__) && defined(__GNUC__)
#define MODEL_AVX512 1
#include <immintrin.h>

static __attribute__((target("avx512f"))) void add_and_clear_avx512(float *dst, float *src, size_t n)
{
    const __m512 zero = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 in = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(dst + i, in, _mm512_add_ps(_mm512_maskz_loadu_ps(in, dst + i),
                                                         _mm512_maskz_loadu_ps(in, src + i)));
        _mm512_mask_storeu_ps(src + i, in, zero);
    }
}
#endif

static void add_and_clear(float *restrict dst,    /* (n) */
                          float *restrict src,    /* (n) */
                          size_t n)
{
#ifdef MODEL_AVX512
    if (cpu_has_avx512()) {
        add_and_clear_avx512(dst, src, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        dst[i] += src[i];
        src[i] = 0.0f;
    }
}

/* The input of layer i when the model's input is x: the output of the last layer before it
 * that computes something (flatten, reshape and a linear activation only rename their input). */
static const float *layer_input(const model *m, int i, const float *x)
{
    for (int j = i - 1; j >= 0; j--)
        if (!is_alias(&m->layers[j])) return m->layers[j].out;
    return x;
}

/* Lane k's gradient block and workspace (lane 0's workspace is m->work). */
static float *lane_grads(const model *m, int lane)
{
    return m->threads == 1 ? m->grads : m->lane_grads + (size_t)lane * padded(m->n_params);
}

static float *lane_work(const model *m, int lane)
{
    return lane == 0 || !m->lane_work ? m->work : m->lane_work + (size_t)(lane - 1) * padded(m->work_floats);
}

/* Rows [first, first + count) of a batch: x (B, in_size) → each layer's out rows (B, out_size).
 * Touches only those rows (and the workspace), so lanes may run it at once. */
static void forward_rows(model *m, const float *x, int first, int count, float *work)
{
    for (int i = 0; i < m->n_layers; i++) {
        layer *l = &m->layers[i];
        if (is_alias(l)) continue;
        const layer_spec *s = &l->spec;
        const float *in = layer_input(m, i, x) + (size_t)first * l->in_size;    /* (count, in_size) */
        float *out = l->out + (size_t)first * l->out_size;                      /* (count, out_size) */
        /* a fused activation needs the linear output kept apart for backward */
        float *linear = has_fused_activation(l) ? l->pre + (size_t)first * l->out_size : out;
        const size_t n_out = (size_t)count * l->out_size;
        switch (s->kind) {
        case LAYER_DENSE:
            dense_forward(linear, in, l->weight, l->bias, count, (int)l->in_size, s->units);
            break;
        case LAYER_CONV2D:
            conv2d_forward(linear, in, l->weight, l->bias, work, &l->geom, count);
            break;
        case LAYER_CONV2D_TRANSPOSE:
            conv2d_transpose_forward(linear, in, l->weight, l->bias, work, &l->geom, count);
            break;
        case LAYER_ACTIVATION:
            activation_forward(s->act, out, in, n_out);
            break;
        case LAYER_UPSAMPLE2:
            upsample2_forward(out, in, count, l->in_shape[0], l->in_shape[1], l->in_shape[2]);
            break;
        case LAYER_MAXPOOL2:
            maxpool2_forward(out, in, count, l->in_shape[0], l->in_shape[1], l->in_shape[2]);
            break;
        case LAYER_FLATTEN:
        case LAYER_RESHAPE:
            break;
        }
        if (has_fused_activation(l)) activation_forward(s->act, out, linear, n_out);
    }
}

/* Rows [first, first + count): d_y (B, out_size) → ∂L/∂params added into `grads` (the layout
 * of m->grads), and the rows of every layer's d_out (and of m->d_input when requested). */
static void backward_rows(model *m, const float *x, const float *d_y, int first, int count, float *grads,
                          float *work)
{
    const float *d_out = d_y + (size_t)first * model_output_size(m);   /* (count, out_size) of the current layer */
    for (int i = m->n_layers - 1; i >= 0; i--) {
        layer *l = &m->layers[i];
        if (is_alias(l)) continue;   /* its input's gradient is the same memory */
        const layer_spec *s = &l->spec;
        const float *in = layer_input(m, i, x) + (size_t)first * l->in_size;       /* (count, in_size) */
        float *d_in_batch = i == 0 ? m->d_input : m->layers[i - 1].d_out;          /* (B, in_size) or NULL */
        float *d_in = d_in_batch ? d_in_batch + (size_t)first * l->in_size : NULL;
        float *d_weight = l->n_weight ? grads + l->param_offset : NULL;
        float *d_bias = l->n_bias ? grads + l->param_offset + l->n_weight : NULL;
        const float *out = l->out + (size_t)first * l->out_size;
        const size_t n_in = (size_t)count * l->in_size, n_out = (size_t)count * l->out_size;
        if (!d_in && !d_weight) break;   /* nothing below needs anything */
        /* activation gradients are scratch: layers add into them, so clear the rows this batch uses */
        if (d_in) memset(d_in, 0, n_in * sizeof *d_in);

        const float *d_linear = d_out;
        if (has_fused_activation(l)) {
            float *d_pre = l->d_pre + (size_t)first * l->out_size;
            memset(d_pre, 0, n_out * sizeof *d_pre);
            activation_backward(s->act, d_pre, d_out, l->pre + (size_t)first * l->out_size, out, n_out);
            d_linear = d_pre;
        }
        switch (s->kind) {
        case LAYER_DENSE:
            dense_backward(d_in, d_weight, d_bias, d_linear, in, l->weight, count, (int)l->in_size, s->units);
            break;
        case LAYER_CONV2D:
            conv2d_backward(d_in, d_weight, d_bias, d_linear, in, l->weight, work, &l->geom, count);
            break;
        case LAYER_CONV2D_TRANSPOSE:
            conv2d_transpose_backward(d_in, d_weight, d_bias, d_linear, in, l->weight, work, &l->geom, count);
            break;
        case LAYER_ACTIVATION:
            activation_backward(s->act, d_in, d_out, in, out, n_out);
            break;
        case LAYER_UPSAMPLE2:
            upsample2_backward(d_in, d_out, count, l->in_shape[0], l->in_shape[1], l->in_shape[2]);
            break;
        case LAYER_MAXPOOL2:
            maxpool2_backward(d_in, d_out, in, count, l->in_shape[0], l->in_shape[1], l->in_shape[2]);
            break;
        case LAYER_FLATTEN:
        case LAYER_RESHAPE:
            break;
        }
        if (!d_in) break;   /* the first layer with parameters, and no input gradient wanted */
        d_out = d_in;
    }
}

/* The checks every way of running a batch shares. */
static int check_rows(const model *m, int first, int count, int lane, const char *what)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "%s before model_build", what);
    if (first < 0 || count < 0 || first + count > m->max_batch)
        return AE_ERROR(AE_ESTATE, "%s: rows %d to %d do not fit a model built for batches of 1 to %d",
                        what, first, first + count, m->max_batch);
    if (lane < 0 || lane >= m->threads)
        return AE_ERROR(AE_EINVAL, "%s: lane %d of a model with %d threads", what, lane, m->threads);
    return AE_OK;
}

/* What model_forward and model_backward hand to their lanes. */
typedef struct {
    model *m;
    const float *x, *d_y;       /* (B, in_size), (B, out_size) */
    int batch;
} batch_job;

static void forward_lane(void *opaque, int lane, int lanes)
{
    batch_job *job = opaque;
    size_t first, end;
    pool_share((size_t)job->batch, 1, lane, lanes, &first, &end);
    if (end > first) forward_rows(job->m, job->x, (int)first, (int)(end - first), lane_work(job->m, lane));
}

static void backward_lane(void *opaque, int lane, int lanes)
{
    batch_job *job = opaque;
    size_t first, end;
    pool_share((size_t)job->batch, 1, lane, lanes, &first, &end);
    if (end > first)
        backward_rows(job->m, job->x, job->d_y, (int)first, (int)(end - first), lane_grads(job->m, lane),
                      lane_work(job->m, lane));
}

static void gather_lane(void *opaque, int lane, int lanes)
{
    batch_job *job = opaque;
    size_t first, end;
    pool_share(job->m->n_params, 16, lane, lanes, &first, &end);
    model_gather_grads(job->m, first, end, 1);
}

/* x (B, in_size) → *y (B, out_size): each layer reads the previous one's out */
int model_forward(model *m, const float *x, int batch, const float **y)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "model_forward before model_build");
    if (batch < 1 || batch > m->max_batch)
        return AE_ERROR(AE_ESTATE, "a batch of %d does not fit a model built for batches of 1 to %d",
                        batch, m->max_batch);
    if (m->threads > 1) {
        batch_job job = { m, x, NULL, batch };
        pool_run(m->pool, forward_lane, &job);
    } else {
        forward_rows(m, x, 0, batch, m->work);
    }
    for (int i = 0; i < m->n_layers; i++)   /* a view: backward never writes through it */
        if (is_alias(&m->layers[i])) m->layers[i].out = (float *)layer_input(m, i, x);
    m->last_input = x;
    m->last_batch = batch;
    *y = layer_input(m, m->n_layers, x);
    return AE_OK;
}

/* d_y (B, out_size) → grads (+=) and, when requested, d_input (B, in_size), walking the layers backwards */
int model_backward(model *m, const float *d_y, int batch)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "model_backward before model_build");
    if (!m->last_input || batch != m->last_batch)
        return AE_ERROR(AE_ESTATE, "model_backward of a batch of %d must follow model_forward of the same batch",
                        batch);
    if (m->threads > 1) {
        batch_job job = { m, m->last_input, d_y, batch };
        pool_run(m->pool, backward_lane, &job);
        pool_run(m->pool, gather_lane, &job);   /* grads += each lane's block, lane by lane */
    } else {
        backward_rows(m, m->last_input, d_y, 0, batch, m->grads, m->work);
    }
    return AE_OK;
}

/* ---------------------------------------------------------------- threads */

int model_set_threads(model *m, int threads)
{
    if (threads < 1 || threads > POOL_MAX_THREADS)
        return AE_ERROR(AE_EINVAL, "a model runs on 1 to %d threads, not %d", POOL_MAX_THREADS, threads);
    if (threads == m->threads) return AE_OK;
    pool *workers = NULL;
    if (threads > 1 && !(workers = pool_alloc(threads))) return error_code();
    pool_free(m->pool);
    m->pool = workers;
    m->threads = threads;
    int rc = plan_lanes(m);
    if (rc != AE_OK) {                 /* back to one thread, which needs nothing more */
        pool_free(m->pool);
        m->pool = NULL;
        m->threads = 1;
    }
    return rc;
}

int model_get_threads(const model *m) { return m->threads; }

void model_run_lanes(model *m, pool_task task, void *ctx)
{
    pool_run(m->threads > 1 ? m->pool : NULL, task, ctx);
}

int model_forward_rows(model *m, const float *x, int first, int count, int lane, const float **y)
{
    int rc = check_rows(m, first, count, lane, "model_forward_rows");
    if (rc != AE_OK) return rc;
    if (count > 0) forward_rows(m, x, first, count, lane_work(m, lane));
    *y = layer_input(m, m->n_layers, x);
    return AE_OK;
}

int model_backward_rows(model *m, const float *x, const float *d_y, int first, int count, int lane)
{
    int rc = check_rows(m, first, count, lane, "model_backward_rows");
    if (rc != AE_OK) return rc;
    if (count > 0) backward_rows(m, x, d_y, first, count, lane_grads(m, lane), lane_work(m, lane));
    return AE_OK;
}

/* ------------------------------------------------ dense models: units split */

/* A model whose layers with parameters are all dense can split its work the other way round:
 * each lane owns a share of every dense layer's units (its rows of W, its entries of b, its
 * columns of the activations) for the whole batch. The parameters and their gradients then
 * stay on their lane's core; only activations cross between cores, a few kilobytes a layer.
 * Between dense layers the lanes wait for each other (pool_barrier): a layer reads all of its
 * input. Each unit's sums run over the whole batch in order, so the numbers do not depend on
 * the number of threads at all, apart from the loss's sum (train.h). */

int model_units_split(const model *m)
{
    return m->threads > 1 && m->max_batch > 0 && !m->want_input_grad && units_partial_floats(m) > 0;
}

/* The units [first, end) of a layer's output that a lane owns: shares in multiples of 16 */
static void unit_share(size_t units, int lane, int lanes, size_t *first, size_t *end)
{
    pool_share(units, 16, lane, lanes, first, end);
}

/* dst[c] += Σ_b rows[b·stride + c] for c < n: a bias gradient from a block of columns */
static void add_columns(float *restrict dst, const float *restrict rows, size_t stride, int batch, size_t n)
{
    for (int b = 0; b < batch; b++) {
        const float *row = rows + (size_t)b * stride;
        size_t c = 0;
        for (; c + 16 <= n; c += 16)          /* blocks of a known length: GCC vectorizes them at -O2 */
            for (int j = 0; j < 16; j++) dst[c + j] += row[c + j];
        for (; c < n; c++) dst[c] += row[c];
    }
}

static int check_units(const model *m, int batch, int lane, const char *what)
{
    if (!model_units_split(m))
        return AE_ERROR(AE_ESTATE, "%s: the model is not an all-dense model on several threads", what);
    if (batch < 1 || batch > m->max_batch)
        return AE_ERROR(AE_ESTATE, "%s: a batch of %d does not fit a model built for batches of 1 to %d",
                        what, batch, m->max_batch);
    if (lane < 0 || lane >= m->threads)
        return AE_ERROR(AE_EINVAL, "%s: lane %d of a model with %d threads", what, lane, m->threads);
    return AE_OK;
}

int model_units_forward(model *m, const float *x, int batch, int lane, const float **y)
{
    int rc = check_units(m, batch, lane, "model_units_forward");
    if (rc != AE_OK) return rc;
    const int lanes = m->threads;
    for (int i = 0; i < m->n_layers; i++) {
        layer *l = &m->layers[i];
        if (is_alias(l)) continue;
        const float *in = layer_input(m, i, x);              /* (B, in_size), all of it */
        const size_t n_out = l->out_size;
        size_t u0, u1;
        unit_share(n_out, lane, lanes, &u0, &u1);
        const size_t units = u1 - u0;
        if (l->spec.kind == LAYER_DENSE) {
            if (in != x) pool_barrier(m->pool);              /* the layer below, every lane's columns */
            float *linear = has_fused_activation(l) ? l->pre : l->out;
            if (units > 0) {
                /* out[:, u0..u1) = in · W[u0..u1)ᵀ + b[u0..u1) */
                for (int b = 0; b < batch; b++)
                    memcpy(linear + (size_t)b * n_out + u0, l->bias + u0, units * sizeof *linear);
                gemm(GEMM_PLAIN, GEMM_TRANSPOSED, batch, (int)units, (int)l->in_size, in, (int)l->in_size,
                     l->weight + u0 * l->in_size, (int)l->in_size, 1.0f, linear + u0, (int)n_out);
                if (has_fused_activation(l))
                    for (int b = 0; b < batch; b++)
                        activation_forward(l->spec.act, l->out + (size_t)b * n_out + u0,
                                           linear + (size_t)b * n_out + u0, units);
            }
        } else {                                             /* an activation: the same columns */
            for (int b = 0; b < batch && units > 0; b++)
                activation_forward(l->spec.act, l->out + (size_t)b * n_out + u0, in + (size_t)b * n_out + u0, units);
        }
    }
    *y = layer_input(m, m->n_layers, x);
    return AE_OK;
}

int model_units_backward(model *m, const float *x, const float *d_y, int batch, int lane)
{
    int rc = check_units(m, batch, lane, "model_units_backward");
    if (rc != AE_OK) return rc;
    const int lanes = m->threads;
    const size_t partial_stride = padded((size_t)m->max_batch * units_partial_floats(m));
    int first_dense = 0;
    while (is_alias(&m->layers[first_dense]) || m->layers[first_dense].spec.kind != LAYER_DENSE) first_dense++;
    const float *d_out = d_y;                                /* (B, out_size): this lane's columns */
    for (int i = m->n_layers - 1; i >= first_dense; i--) {
        layer *l = &m->layers[i];
        if (is_alias(l)) continue;
        const layer_spec *s = &l->spec;
        const float *in = layer_input(m, i, x);              /* (B, in_size) */
        const size_t n_out = l->out_size, n_in = l->in_size;
        size_t u0, u1;
        unit_share(n_out, lane, lanes, &u0, &u1);
        const size_t units = u1 - u0;
        float *d_in = m->layers[i - 1 >= 0 ? i - 1 : 0].d_out;   /* (B, in_size) of the layer below */
        if (s->kind == LAYER_ACTIVATION) {                   /* element-wise: this lane's columns only */
            for (int b = 0; b < batch && units > 0; b++) {
                const size_t at = (size_t)b * n_out + u0;
                memset(d_in + at, 0, units * sizeof *d_in);
                activation_backward(s->act, d_in + at, d_out + at, in + at, l->out + at, units);
            }
            d_out = d_in;
            continue;
        }
        const float *d_linear = d_out;
        if (has_fused_activation(l)) {
            for (int b = 0; b < batch && units > 0; b++) {
                const size_t at = (size_t)b * n_out + u0;
                memset(l->d_pre + at, 0, units * sizeof *l->d_pre);
                activation_backward(s->act, l->d_pre + at, d_out + at, l->pre + at, l->out + at, units);
            }
            d_linear = l->d_pre;
        }
        if (units > 0) {
            /* d_W[u0..u1) += d_linear[:, u0..u1)ᵀ · in,  d_b[u0..u1) += Σ_b d_linear[b, u0..u1) */
            gemm(GEMM_TRANSPOSED, GEMM_PLAIN, (int)units, (int)n_in, batch, d_linear + u0, (int)n_out, in, (int)n_in,
                 1.0f, l->d_weight + u0 * n_in, (int)n_in);
            add_columns(l->d_bias + u0, d_linear + u0, n_out, batch, units);
        }
        if (i == first_dense) break;                        /* no input gradient wanted */
        /* ∂L/∂in = Σ over lanes of d_linear[:, their units] · W[their units]: each lane its part,
         * then each lane adds up the columns it owns in the layer below, lane 0's part first */
        float *partial = m->lane_partials + (size_t)lane * partial_stride;   /* (B, in_size) */
        if (units > 0)
            gemm(GEMM_PLAIN, GEMM_PLAIN, batch, (int)n_in, (int)units, d_linear + u0, (int)n_out,
                 l->weight + u0 * n_in, (int)n_in, 0.0f, partial, (int)n_in);
        else
            memset(partial, 0, (size_t)batch * n_in * sizeof *partial);
        pool_barrier(m->pool);
        size_t c0, c1;
        unit_share(n_in, lane, lanes, &c0, &c1);
        for (int b = 0; b < batch && c1 > c0; b++) {
            float *row = d_in + (size_t)b * n_in;
            memcpy(row + c0, m->lane_partials + (size_t)b * n_in + c0, (c1 - c0) * sizeof *row);
            for (int k = 1; k < lanes; k++)
                add_columns(row + c0, m->lane_partials + (size_t)k * partial_stride + (size_t)b * n_in + c0, 0, 1,
                            c1 - c0);
        }
        pool_barrier(m->pool);                               /* the parts are read before they are reused */
        d_out = d_in;
    }
    return AE_OK;
}

void model_units_columns(const model *m, int lane, size_t *first, size_t *end)
{
    unit_share(model_output_size(m), lane, m->threads, first, end);
}

int model_units_params(const model *m, int lane, size_t *first, size_t *end, int max)
{
    int n = 0;
    for (int i = 0; i < m->n_layers && n + 2 <= max; i++) {
        const layer *l = &m->layers[i];
        if (is_alias(l) || l->spec.kind != LAYER_DENSE) continue;
        size_t u0, u1;
        unit_share(l->out_size, lane, m->threads, &u0, &u1);
        first[n] = l->param_offset + u0 * l->in_size;        /* rows u0..u1 of W */
        end[n++] = l->param_offset + u1 * l->in_size;
        first[n] = l->param_offset + l->n_weight + u0;       /* entries u0..u1 of b */
        end[n++] = l->param_offset + l->n_weight + u1;
    }
    return n;
}

/* grads[i] = (grads[i] or 0) + lane 0's [i] + lane 1's [i] + ..., each lane's [i] then 0 */
void model_gather_grads(model *m, size_t first, size_t end, int accumulate)
{
    if (m->threads == 1 || !m->lane_grads) return;   /* one thread: backward adds into grads itself */
    if (end > m->n_params) end = m->n_params;
    if (first >= end) return;
    float *restrict grads = m->grads;
    const size_t stride = padded(m->n_params);
    if (!accumulate) memset(grads + first, 0, (end - first) * sizeof *grads);
    for (int lane = 0; lane < m->threads; lane++) {
        float *restrict block = m->lane_grads + (size_t)lane * stride;
        add_and_clear(grads + first, block + first, end - first);
    }
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
    layer_kind kind = m->layers[i].spec.kind;
    int earlier = 0;
    for (int j = 0; j < i; j++) earlier += m->layers[j].spec.kind == kind;
    if (earlier == 0) snprintf(buf, len, "%s (%s)", layer_base_name(kind), layer_kind_name(kind));
    else snprintf(buf, len, "%s_%d (%s)", layer_base_name(kind), earlier, layer_kind_name(kind));
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

/* ----------------------------------------------------------- checkpoint */

/* File layout, every integer an unsigned 32-bit little-endian number:
 *   "AECKPT1\0"                    8 bytes of magic
 *   version                        CHECKPOINT_VERSION
 *   input ndim, input shape[ndim]
 *   layer count
 *   per layer: kind, activation, output ndim, output shape[ndim],
 *              weight ndim (0 without weights), weight shape[ndim], bias count
 *   parameter count (64 bits, little-endian)
 *   the parameters: float32, little-endian (this machine's order, written as such)
 *   CRC-32 (zlib's crc32) of every byte before it
 * Weight shapes follow layers.h: dense (OUT, IN), conv2d (OC, C, K, K), conv2d_transpose (C, OC, K, K). */
#define CHECKPOINT_MAGIC "AECKPT1"   /* with its terminating zero: 8 bytes */
#define CHECKPOINT_MAGIC_LEN 8
#define CHECKPOINT_VERSION 1u

typedef struct {
    unsigned char *data;
    size_t len, cap;
} byte_buffer;

static int buffer_reserve(byte_buffer *b, size_t extra)
{
    if (b->len + extra <= b->cap) return AE_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    unsigned char *grown = realloc(b->data, cap);
    if (!grown) return AE_ERROR(AE_ENOMEM, "out of memory for a checkpoint of %zu bytes", cap);
    b->data = grown;
    b->cap = cap;
    return AE_OK;
}

static void put_u32(byte_buffer *b, uint32_t v)
{
    for (int k = 0; k < 4; k++) b->data[b->len++] = (unsigned char)(v >> (8 * k));
}

static void put_u64(byte_buffer *b, uint64_t v)
{
    for (int k = 0; k < 8; k++) b->data[b->len++] = (unsigned char)(v >> (8 * k));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* The weight shape of a layer as layers.h lays it out; returns its ndim (0 without weights). */
static int weight_shape(const layer *l, uint32_t shape[4])
{
    int k = l->spec.kernel;
    switch (l->spec.kind) {
    case LAYER_DENSE:
        shape[0] = (uint32_t)l->spec.units, shape[1] = (uint32_t)l->in_size;
        return 2;
    case LAYER_CONV2D:
        shape[0] = (uint32_t)l->geom.out_c, shape[1] = (uint32_t)l->geom.in_c;
        shape[2] = shape[3] = (uint32_t)k;
        return 4;
    case LAYER_CONV2D_TRANSPOSE:
        shape[0] = (uint32_t)l->geom.in_c, shape[1] = (uint32_t)l->geom.out_c;
        shape[2] = shape[3] = (uint32_t)k;
        return 4;
    default:
        return 0;
    }
}

/* Everything up to and including the parameter count: what the architecture looks like on disk. */
static int write_header(byte_buffer *b, const model *m)
{
    int rc = buffer_reserve(b, CHECKPOINT_MAGIC_LEN + 4 * 6 + (size_t)m->n_layers * 4 * 12 + 8);
    if (rc != AE_OK) return rc;
    memcpy(b->data + b->len, CHECKPOINT_MAGIC, CHECKPOINT_MAGIC_LEN);
    b->len += CHECKPOINT_MAGIC_LEN;
    put_u32(b, CHECKPOINT_VERSION);
    put_u32(b, (uint32_t)m->in_ndim);
    for (int d = 0; d < m->in_ndim; d++) put_u32(b, (uint32_t)m->in_shape[d]);
    put_u32(b, (uint32_t)m->n_layers);
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        put_u32(b, (uint32_t)l->spec.kind);
        put_u32(b, (uint32_t)l->spec.act);
        put_u32(b, (uint32_t)l->out_ndim);
        for (int d = 0; d < l->out_ndim; d++) put_u32(b, (uint32_t)l->out_shape[d]);
        uint32_t shape[4];
        int ndim = weight_shape(l, shape);
        put_u32(b, (uint32_t)ndim);
        for (int d = 0; d < ndim; d++) put_u32(b, shape[d]);
        put_u32(b, (uint32_t)l->n_bias);
    }
    put_u64(b, (uint64_t)m->n_params);
    return AE_OK;
}

static uint32_t crc_of(const unsigned char *data, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) {   /* zlib takes at most a uInt at a time */
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, data, chunk);
        data += chunk;
        len -= chunk;
    }
    return (uint32_t)crc;
}

int model_save(const model *m, const char *path)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "model_save before model_build: there are no parameters yet");
    byte_buffer b = {0};
    int rc = write_header(&b, m);
    if (rc == AE_OK) rc = buffer_reserve(&b, 4 * m->n_params + 4);
    if (rc != AE_OK) {
        free(b.data);
        return rc;
    }
    for (size_t i = 0; i < m->n_params; i++) {
        uint32_t bits;
        memcpy(&bits, &m->params[i], sizeof bits);
        put_u32(&b, bits);
    }
    put_u32(&b, crc_of(b.data, b.len));

    atomic_file af;
    rc = atomic_open(&af, path);
    if (rc == AE_OK) {
        if (fwrite(b.data, 1, b.len, af.fp) != b.len) {
            int saved = errno;
            atomic_abort(&af);
            rc = AE_ERROR(AE_EIO, "writing %s failed: %s", path, strerror(saved));
        } else {
            rc = atomic_commit(&af);
        }
    }
    free(b.data);
    return rc;
}

/* Reads a whole file into memory. */
static int read_whole_file(const char *path, byte_buffer *b)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno == ENOENT)
            return AE_ERROR(AE_ENOENT, "%s: no such checkpoint file (train the model first to create it)", path);
        return AE_ERROR(AE_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    int rc = AE_OK;
    for (;;) {
        rc = buffer_reserve(b, 1 << 16);
        if (rc != AE_OK) break;
        size_t got = fread(b->data + b->len, 1, b->cap - b->len, fp);
        b->len += got;
        if (got == 0) {
            if (ferror(fp)) rc = AE_ERROR(AE_EIO, "reading %s failed", path);
            break;
        }
    }
    fclose(fp);
    return rc;
}

/* A reader over the file's bytes that notices when it runs off the end. */
typedef struct {
    const unsigned char *data;
    size_t len, pos;
    int overrun;
} byte_reader;

static uint32_t read_u32(byte_reader *r)
{
    if (r->overrun || r->len - r->pos < 4) {
        r->overrun = 1;
        return 0;
    }
    uint32_t v = get_u32(r->data + r->pos);
    r->pos += 4;
    return v;
}

/* Walks the header as the file describes it; returns the length the whole file should
 * have, or 0 if the header itself runs past the end (a truncated file). */
static size_t declared_length(const unsigned char *data, size_t len)
{
    byte_reader r = {data, len, CHECKPOINT_MAGIC_LEN + 4, 0};
    uint32_t in_ndim = read_u32(&r);
    if (in_ndim > 3) return SIZE_MAX;   /* nonsense: not a length a real file has */
    for (uint32_t d = 0; d < in_ndim; d++) read_u32(&r);
    uint32_t n_layers = read_u32(&r);
    for (uint32_t i = 0; i < n_layers && !r.overrun; i++) {
        read_u32(&r);   /* kind */
        read_u32(&r);   /* activation */
        uint32_t out_ndim = read_u32(&r);
        if (out_ndim > 3) return SIZE_MAX;
        for (uint32_t d = 0; d < out_ndim; d++) read_u32(&r);
        uint32_t w_ndim = read_u32(&r);
        if (w_ndim > 4) return SIZE_MAX;
        for (uint32_t d = 0; d < w_ndim; d++) read_u32(&r);
        read_u32(&r);   /* bias count */
    }
    if (r.overrun || len - r.pos < 8) return 0;
    uint64_t n_params = get_u64(data + r.pos);
    if (n_params > (SIZE_MAX - r.pos - 12) / 4) return SIZE_MAX;
    return r.pos + 8 + 4 * (size_t)n_params + 4;
}

/* Names the first place where the file's architecture differs from the model's. */
static int architecture_mismatch(const char *path, const unsigned char *file, const unsigned char *mine,
                                 size_t header_len, const model *m)
{
    size_t differ = 0;
    while (differ < header_len && file[differ] == mine[differ]) differ++;
    /* walk our own header to find which layer the first differing byte belongs to */
    size_t pos = CHECKPOINT_MAGIC_LEN + 4 + 4 + 4 * (size_t)m->in_ndim;
    if (differ < pos)
        return AE_ERROR(AE_EFORMAT, "%s holds a different architecture: its input shape is not this model's", path);
    pos += 4;
    if (differ < pos)
        return AE_ERROR(AE_EFORMAT, "%s holds a different architecture: %" PRIu32 " layers, but this model has %d",
                        path, get_u32(file + pos - 4), m->n_layers);
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        uint32_t shape[4];
        size_t size = 4 * (3 + (size_t)l->out_ndim + 1 + (size_t)weight_shape(l, shape) + 1);
        if (differ < pos + size) {
            char out_text[64];
            shape_format(out_text, sizeof out_text, l->out_ndim, l->out_shape);
            return AE_ERROR(AE_EFORMAT,
                            "%s holds a different architecture: its layer %d is not this model's "
                            "%s (%s) with output %s and %zu parameters",
                            path, i + 1, layer_kind_name(l->spec.kind), activation_name(l->spec.act),
                            out_text, l->n_weight + l->n_bias);
        }
        pos += size;
    }
    return AE_ERROR(AE_EFORMAT, "%s holds a different architecture: not the %zu parameters of this model",
                    path, m->n_params);
}

int model_load(model *m, const char *path)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "model_load before model_build: build the same model first");
    byte_buffer file = {0}, mine = {0};
    int rc = read_whole_file(path, &file);
    if (rc != AE_OK) goto done;
    const unsigned char *data = file.data;
    size_t len = file.len;

    size_t magic_seen = len < CHECKPOINT_MAGIC_LEN ? len : CHECKPOINT_MAGIC_LEN;
    if (len == 0) {
        rc = AE_ERROR(AE_EFORMAT, "%s is empty, not a model checkpoint", path);
        goto done;
    }
    if (memcmp(data, CHECKPOINT_MAGIC, magic_seen) != 0) {
        rc = AE_ERROR(AE_EFORMAT, "%s is not a model checkpoint (wrong magic: expected \"%s\")", path,
                      CHECKPOINT_MAGIC);
        goto done;
    }
    if (len < CHECKPOINT_MAGIC_LEN + 4) {
        rc = AE_ERROR(AE_EFORMAT, "%s is truncated: %zu bytes, too short for a checkpoint header", path, len);
        goto done;
    }
    uint32_t version = get_u32(data + CHECKPOINT_MAGIC_LEN);
    if (version != CHECKPOINT_VERSION) {
        rc = AE_ERROR(AE_EFORMAT, "%s is a checkpoint of version %" PRIu32 "; this program reads version %u",
                      path, version, CHECKPOINT_VERSION);
        goto done;
    }

    /* A file whose last 4 bytes are the CRC of the rest is intact; otherwise say why it is not. */
    size_t expected = declared_length(data, len);
    int crc_ok = len >= 4 && get_u32(data + len - 4) == crc_of(data, len - 4);
    if (!crc_ok || expected != len) {
        if (expected == 0 || (expected != SIZE_MAX && expected > len))
            rc = AE_ERROR(AE_EFORMAT, "%s is truncated: %zu bytes where its header promises %zu", path, len,
                          expected ? expected : len + 1);
        else if (expected < len && get_u32(data + expected - 4) == crc_of(data, expected - 4))
            rc = AE_ERROR(AE_EFORMAT, "%s has %zu unexpected bytes after the checksum", path, len - expected);
        else
            rc = AE_ERROR(AE_EFORMAT, "%s is corrupt: its CRC-32 checksum does not match its contents", path);
        goto done;
    }

    rc = write_header(&mine, m);
    if (rc != AE_OK) goto done;
    if (len != mine.len + 4 * m->n_params + 4 || memcmp(data, mine.data, mine.len) != 0) {
        size_t compare = len - 4 < mine.len ? len - 4 : mine.len;
        rc = architecture_mismatch(path, data, mine.data, compare, m);
        goto done;
    }
    const unsigned char *p = data + mine.len;
    for (size_t i = 0; i < m->n_params; i++, p += 4) {
        uint32_t bits = get_u32(p);
        memcpy(&m->params[i], &bits, sizeof bits);
    }
    rc = AE_OK;
done:
    free(file.data);
    free(mine.data);
    return rc;
}
