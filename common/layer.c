/* layer.c: the operations table, one row per kind of layer and per activation (see layer.h).
 *
 * This is the one place where the plain layers of common/ meet their fast twins of
 * common/fast/: each row names both, and layer_forward/layer_backward run the one the
 * engine picks (engine.h).
 */
#include "layer.h"
#include "engine.h"
#include "error.h"
#include "tensor.h"
#include "fast/fast.h"

#include <string.h>

/*  name, Keras' instance name, fuses an activation,  plan,  forward, backward,  fast forward, fast backward, fast workspace */
static const layer_ops layer_table[LAYER_KINDS] = {
    [LAYER_DENSE] = { "Dense", "dense", 1, dense_plan, dense_layer_forward, dense_layer_backward,
                      fast_dense_layer_forward, fast_dense_layer_backward, NULL },
    [LAYER_CONV2D] = { "Conv2D", "conv2d", 1, conv2d_plan, conv2d_layer_forward, conv2d_layer_backward,
                       fast_conv2d_layer_forward, fast_conv2d_layer_backward, fast_conv2d_layer_workspace },
    [LAYER_CONV2D_TRANSPOSE] = { "Conv2DTranspose", "conv2d_transpose", 1, conv2d_transpose_plan,
                                 conv2d_transpose_layer_forward, conv2d_transpose_layer_backward,
                                 fast_conv2d_transpose_layer_forward, fast_conv2d_transpose_layer_backward,
                                 fast_conv2d_transpose_layer_workspace },
    [LAYER_ACTIVATION] = { "Activation", "activation", 0, activation_plan, activation_layer_forward,
                           activation_layer_backward, NULL, NULL, NULL },   /* the activation table picks the twin */
    [LAYER_FLATTEN] = { "Flatten", "flatten", 0, flatten_plan, NULL, NULL, NULL, NULL, NULL },     /* views */
    [LAYER_RESHAPE] = { "Reshape", "reshape", 0, reshape_plan, NULL, NULL, NULL, NULL, NULL },
    [LAYER_UPSAMPLE2] = { "UpSampling2D", "up_sampling2d", 0, upsample2_plan, upsample2_layer_forward,
                          upsample2_layer_backward, NULL, NULL, NULL },
    [LAYER_MAXPOOL2] = { "MaxPooling2D", "max_pooling2d", 0, maxpool2_plan, maxpool2_layer_forward,
                         maxpool2_layer_backward, NULL, NULL, NULL },
};

/*  name,  forward, backward,  fast forward, fast backward */
static const activation_ops activation_table[ACT_KINDS] = {
    [ACT_NONE] = { "linear", linear_forward, linear_backward, NULL, NULL },
    [ACT_RELU] = { "relu", relu_forward, relu_backward_op, fast_relu_forward, fast_relu_backward_op },
    [ACT_SIGMOID] = { "sigmoid", sigmoid_forward, sigmoid_backward_op, fast_sigmoid_forward, fast_sigmoid_backward_op },
    [ACT_TANH] = { "tanh", tanh_forward, tanh_backward_op, NULL, NULL },
};

const layer_ops *layer_ops_of(layer_kind kind)
{
    return kind >= 0 && kind < LAYER_KINDS ? &layer_table[kind] : NULL;
}

const char *layer_kind_name(layer_kind kind)
{
    const layer_ops *ops = layer_ops_of(kind);
    return ops ? ops->name : "Unknown";
}

const char *activation_name(activation act)
{
    return act >= 0 && act < ACT_KINDS ? activation_table[act].name : "unknown";
}

layer_spec layer_spec_of(layer_kind kind, activation act)
{
    layer_spec s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.act = act;
    s.stride = 1;
    s.padding = PAD_VALID;
    return s;
}

/* ------------------------------------------------- running, as the engine picks */

void layer_forward(const layer *l, float *out, const float *in, float *work, int batch)
{
    const layer_ops *ops = l->ops;
    if (ops->fast_forward && !engine_plain()) ops->fast_forward(l, out, in, work, batch);
    else ops->forward(l, out, in, work, batch);
}

void layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                    const float *d_out, const float *in, const float *out, float *work, int batch)
{
    const layer_ops *ops = l->ops;
    if (ops->fast_backward && !engine_plain()) ops->fast_backward(l, d_in, d_weight, d_bias, d_out, in, out, work, batch);
    else ops->backward(l, d_in, d_weight, d_bias, d_out, in, out, work, batch);
}

size_t layer_workspace(const layer *l, int batch)
{
    return l->ops->fast_workspace ? l->ops->fast_workspace(l, batch) : 0;
}

int layer_has_fused_activation(const layer *l)
{
    return l->ops->fuses_activation && l->spec.act != ACT_NONE;
}

void activation_forward(activation act, float *out, const float *in, size_t n)
{
    const activation_ops *ops = &activation_table[act];
    if (ops->fast_forward && !engine_plain()) ops->fast_forward(out, in, n);
    else ops->forward(out, in, n);
}

void activation_backward(activation act, float *d_in, const float *d_out, const float *in, const float *out,
                         size_t n)
{
    const activation_ops *ops = &activation_table[act];
    if (ops->fast_backward && !engine_plain()) ops->fast_backward(d_in, d_out, in, out, n);
    else ops->backward(d_in, d_out, in, out, n);
}

/* ------------------------------------------------------------- for plans */

void layer_set_output(layer *l, int ndim, int d0, int d1, int d2)
{
    l->out_ndim = ndim;
    l->out_shape[0] = d0;
    l->out_shape[1] = ndim > 1 ? d1 : 1;
    l->out_shape[2] = ndim > 2 ? d2 : 1;
    l->out_size = shape_size(ndim, l->out_shape);
}

void layer_set_params(layer *l, int weight_ndim, const int *weight_shape, size_t n_bias)
{
    l->weight_ndim = weight_ndim;
    l->n_weight = weight_ndim > 0 ? 1 : 0;
    for (int d = 0; d < weight_ndim; d++) {
        l->weight_shape[d] = weight_shape[d];
        l->n_weight *= (size_t)weight_shape[d];
    }
    l->n_bias = n_bias;
}

/* AE_EINVAL unless the layer's input has ndim dimensions, with what to add before the layer. */
static int need_input(const layer *l, int number, int ndim, const char *wanted, const char *fix)
{
    if (l->in_ndim == ndim) return AE_OK;
    char in_text[64];
    shape_format(in_text, sizeof in_text, l->in_ndim, l->in_shape);
    return AE_ERROR(AE_EINVAL, "layer %d (%s) needs %s but gets %s: add %s before it",
                    number, layer_kind_name(l->spec.kind), wanted, in_text, fix);
}

int layer_need_flat_input(const layer *l, int number)
{
    return need_input(l, number, 1, "a flat input (F)", "layer_flatten()");
}

int layer_need_image_input(const layer *l, int number)
{
    return need_input(l, number, 3, "an image input (C, H, W)", "layer_reshape()");
}
