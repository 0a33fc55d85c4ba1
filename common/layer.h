/* layer.h: a layer inside a model, and the operations table that says what each kind of layer does.
 *
 * A kind of layer is one row of the table in layer.c, in the spirit of kann's operator list:
 *
 *     name         Keras' class name, as model_summary prints it         "Dense"
 *     plan         its output shape, weight shape and bias count, from its input shape
 *     forward      out (B, out_size) from in (B, in_size)                  dense_layer_forward
 *     backward     adds ∂L/∂in, ∂L/∂W, ∂L/∂b from ∂L/∂out                  dense_layer_backward
 *     fast_forward, fast_backward
 *                  the same, faster (common/fast/), where there is a twin   fast_dense_layer_forward
 *
 * A model (model.c) knows its layers only through their rows. Adding a kind of layer is adding
 * its value to layer_kind, its row to the table and its file (the maths as a plain
 * _forward/_backward pair, then its plan and its two row functions, as dense.c does); no other
 * code changes.
 *
 * Activations have a table of their own (same file), so that one can be fused into a dense or
 * convolution layer, as Keras' Dense(64, activation='relu'), or stand alone.
 */
#ifndef AE_LAYER_H
#define AE_LAYER_H

#include <stddef.h>

#include "layers.h"

/* The values are written into checkpoints: new ones go at the end (and the count after them follows). */
typedef enum { ACT_NONE, ACT_RELU, ACT_SIGMOID, ACT_TANH } activation;
#define ACT_KINDS (ACT_TANH + 1)           /* the last value + 1 */

typedef enum {
    LAYER_DENSE,
    LAYER_CONV2D,
    LAYER_CONV2D_TRANSPOSE,
    LAYER_ACTIVATION,     /* an activation on its own */
    LAYER_FLATTEN,        /* (C, H, W) → (C·H·W); no copy */
    LAYER_RESHAPE,        /* any shape of the same size; no copy */
    LAYER_UPSAMPLE2,
    LAYER_MAXPOOL2
} layer_kind;
#define LAYER_KINDS (LAYER_MAXPOOL2 + 1)   /* the last value + 1 */

/* What a layer is, before the model works out its shapes. An activation can be
 * fused into dense and convolution layers, as Keras does: Dense(64, relu). */
typedef struct {
    layer_kind kind;
    activation act;
    int units;                 /* dense: OUT */
    int filters;               /* convolutions: OC */
    int kernel;                /* convolutions: K (square) */
    int stride;                /* convolutions */
    padding_mode padding;
    int pad;                   /* PAD_EXPLICIT only */
    int output_padding;        /* conv2d_transpose with PAD_EXPLICIT only */
    int shape_ndim;            /* reshape target */
    int shape[3];
} layer_spec;

/* A spec of the kind with every field at its default (stride 1, 'valid' padding). */
layer_spec layer_spec_of(layer_kind kind, activation act);
/* The layers as a model takes them, named as in Keras (each is defined in the layer's file). */
layer_spec layer_dense(int units, activation act);
layer_spec layer_conv2d(int filters, int kernel, int stride, padding_mode padding, activation act);
layer_spec layer_conv2d_transpose(int filters, int kernel, int stride, padding_mode padding, activation act);
layer_spec layer_activation(activation act);
layer_spec layer_flatten(void);
layer_spec layer_reshape(int ndim, const int *shape);
layer_spec layer_upsample2(void);
layer_spec layer_maxpool2(void);

typedef struct layer_ops layer_ops;

/* A layer inside a model: its spec plus everything model_add/model_build worked out. */
typedef struct layer {
    layer_spec spec;
    const layer_ops *ops;          /* its row of the table */
    int view;                      /* 1: its output is its input under another shape (flatten, reshape, linear) */
    int in_ndim, in_shape[3];      /* per-sample input shape */
    int out_ndim, out_shape[3];    /* per-sample output shape */
    size_t in_size, out_size;      /* floats per sample */
    int weight_ndim;               /* 0 without weights */
    int weight_shape[4];           /* dense (OUT, IN), conv2d (OC, C, K, K), conv2d_transpose (C, OC, K, K) */
    size_t n_weight, n_bias;       /* parameter counts */
    size_t param_offset;           /* where weight starts in the model's parameter block; bias follows */
    conv_geom geom;                /* convolutions */
    float *weight, *bias;          /* views into model->params */
    float *d_weight, *d_bias;      /* views into model->grads */
    float *pre;                    /* (B, out_size) before the fused activation, NULL without one */
    float *out;                    /* (B, out_size) output (aliases the input for views) */
    float *d_pre, *d_out;          /* gradients of the two, same shapes */
} layer;

/* out (B, out_size) = the layer applied to in (B, in_size); work is the fast twins' scratch space */
typedef void (*layer_forward_fn)(const layer *l, float *out, const float *in, float *work, int batch);
/* d_in (B, in_size) or NULL, d_weight and d_bias (the layer's parameter shapes) or NULL: each ADDED to */
typedef void (*layer_backward_fn)(const layer *l, float *d_in, float *d_weight, float *d_bias,
                                  const float *d_out, const float *in, const float *out, float *work, int batch);

struct layer_ops {
    const char *name;              /* Keras' class name: "Dense" */
    const char *base_name;         /* Keras' name of the first of its kind: "dense" */
    int fuses_activation;          /* 1: takes an activation of its own */
    /* Fills out_ndim/out_shape (layer_set_output), weight shape and bias count (layer_set_params),
     * geom for convolutions, and view; AE_EINVAL naming layer `number` when the input does not fit. */
    int (*plan)(layer *l, int number);
    layer_forward_fn forward;      /* the plain loops of common/ */
    layer_backward_fn backward;
    layer_forward_fn fast_forward; /* their fast twins in common/fast/; NULL: the plain one serves */
    layer_backward_fn fast_backward;
    size_t (*fast_workspace)(const layer *l, int batch);   /* floats of scratch the twins need; NULL: none */
};

/* The row of a kind; NULL for a value outside the table. */
const layer_ops *layer_ops_of(layer_kind kind);
const char *layer_kind_name(layer_kind kind);       /* "Dense", "Conv2D", ... as Keras names them */

/* The layer's forward and backward as the engine picks them (engine.h): the fast twin where
 * there is one, unless --plain; the plain one otherwise. */
void layer_forward(const layer *l, float *out, const float *in, float *work, int batch);
void layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                    const float *d_out, const float *in, const float *out, float *work, int batch);
/* Floats of scratch space the layer's fast twins need for a batch of `batch` (0 for most). */
size_t layer_workspace(const layer *l, int batch);
/* 1: the layer applies an activation of its own to its output (Dense(64, relu)). */
int layer_has_fused_activation(const layer *l);

/* What a plan sets: the output shape, and the weight shape (ndim 0: none) with the bias count. */
void layer_set_output(layer *l, int ndim, int d0, int d1, int d2);
void layer_set_params(layer *l, int weight_ndim, const int *weight_shape, size_t n_bias);
/* The checks plans share: AE_EINVAL, naming layer `number`, unless the input is (F) / (C, H, W). */
int layer_need_flat_input(const layer *l, int number);
int layer_need_image_input(const layer *l, int number);

/* ----------------------------------------------------------- activations */
typedef struct {
    const char *name;                                        /* Keras' name: "relu" */
    void (*forward)(float *out, const float *in, size_t n);
    /* d_in += f'(·) ⊙ d_out; relu reads the forward's input, sigmoid and tanh its output */
    void (*backward)(float *d_in, const float *d_out, const float *in, const float *out, size_t n);
    void (*fast_forward)(float *out, const float *in, size_t n);   /* NULL: the plain one serves */
    void (*fast_backward)(float *d_in, const float *d_out, const float *in, const float *out, size_t n);
} activation_ops;

const char *activation_name(activation act);        /* "relu", "sigmoid", "tanh", "linear" */
/* out (n) = f(in (n)) and d_in (n) += f'(·) ⊙ d_out (n), as the engine picks them */
void activation_forward(activation act, float *out, const float *in, size_t n);
void activation_backward(activation act, float *d_in, const float *d_out, const float *in, const float *out,
                         size_t n);

/* ---------------------------------------------- the rows' plain functions
 * One group per file; their fast twins are in fast/fast.h. */
int dense_plan(layer *l, int number);                                                      /* dense.c */
void dense_layer_forward(const layer *l, float *out, const float *in, float *work, int batch);
void dense_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                          const float *d_out, const float *in, const float *out, float *work, int batch);
int conv_plan(layer *l, int number, int transposed);                                       /* conv2d.c */
int conv2d_plan(layer *l, int number);
void conv2d_layer_forward(const layer *l, float *out, const float *in, float *work, int batch);
void conv2d_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                           const float *d_out, const float *in, const float *out, float *work, int batch);
int conv2d_transpose_plan(layer *l, int number);                                           /* conv2d_transpose.c */
void conv2d_transpose_layer_forward(const layer *l, float *out, const float *in, float *work, int batch);
void conv2d_transpose_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                                     const float *d_out, const float *in, const float *out, float *work,
                                     int batch);
int activation_plan(layer *l, int number);                                                 /* activations.c */
void activation_layer_forward(const layer *l, float *out, const float *in, float *work, int batch);
void activation_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                               const float *d_out, const float *in, const float *out, float *work, int batch);
void linear_forward(float *out, const float *in, size_t n);
void linear_backward(float *d_in, const float *d_out, const float *in, const float *out, size_t n);
void relu_backward_op(float *d_in, const float *d_out, const float *in, const float *out, size_t n);
void sigmoid_backward_op(float *d_in, const float *d_out, const float *in, const float *out, size_t n);
void tanh_backward_op(float *d_in, const float *d_out, const float *in, const float *out, size_t n);
int flatten_plan(layer *l, int number);                                                    /* reshape.c */
int reshape_plan(layer *l, int number);
int upsample2_plan(layer *l, int number);                                                  /* upsample.c */
void upsample2_layer_forward(const layer *l, float *out, const float *in, float *work, int batch);
void upsample2_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                              const float *d_out, const float *in, const float *out, float *work, int batch);
int maxpool2_plan(layer *l, int number);                                                   /* maxpool.c */
void maxpool2_layer_forward(const layer *l, float *out, const float *in, float *work, int batch);
void maxpool2_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                             const float *d_out, const float *in, const float *out, float *work, int batch);

#endif
