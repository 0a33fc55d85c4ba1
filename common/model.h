/* model.h: a sequential model: layers applied one after the other.
 *
 *     model *m = model_alloc(1, (int[]){784});          // per-sample input shape
 *     model_add(m, layer_dense(64, ACT_RELU));
 *     model_add(m, layer_dense(784, ACT_SIGMOID));
 *     model_build(m, 32, rng);                           // max batch; Glorot init
 *     model_forward(m, x, 32, &y);                       // x (32, 784) → y (32, 784)
 *     model_zero_grad(m); model_backward(m, d_y, 32);    // grads += ∂L/∂params
 *
 * Memory is planned once in model_build(): one allocation for all parameters,
 * one with the same layout for their gradients (so an optimizer is one flat
 * loop), one for all activations and their gradients at the largest batch, one
 * workspace. Forward and backward allocate nothing.
 *
 * Shapes are per sample, without the batch: (F) for features, (C, H, W) for
 * images. Dense needs (F) input (use layer_flatten() first); convolutions,
 * upsampling and pooling need (C, H, W).
 */
#ifndef AE_MODEL_H
#define AE_MODEL_H

#include <stddef.h>
#include <stdio.h>
#include <gsl/gsl_rng.h>

#include "layers.h"
#include "fast/pool.h"

typedef enum { ACT_NONE, ACT_RELU, ACT_SIGMOID, ACT_TANH } activation;

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

layer_spec layer_dense(int units, activation act);
layer_spec layer_conv2d(int filters, int kernel, int stride, padding_mode padding, activation act);
layer_spec layer_conv2d_transpose(int filters, int kernel, int stride, padding_mode padding, activation act);
layer_spec layer_activation(activation act);
layer_spec layer_flatten(void);
layer_spec layer_reshape(int ndim, const int *shape);
layer_spec layer_upsample2(void);
layer_spec layer_maxpool2(void);

/* A layer inside a model: its spec plus everything model_add/model_build worked out. */
typedef struct {
    layer_spec spec;
    int in_ndim, in_shape[3];      /* per-sample input shape */
    int out_ndim, out_shape[3];    /* per-sample output shape */
    size_t in_size, out_size;      /* floats per sample */
    size_t n_weight, n_bias;       /* parameter counts */
    size_t param_offset;           /* where weight starts in the model's parameter block; bias follows */
    conv_geom geom;                /* convolutions */
    float *weight, *bias;          /* views into model->params */
    float *d_weight, *d_bias;      /* views into model->grads */
    float *pre;                    /* (B, out_size) before the fused activation, NULL without one */
    float *out;                    /* (B, out_size) output (aliases the input for flatten/reshape) */
    float *d_pre, *d_out;          /* gradients of the two, same shapes */
} layer;

typedef struct model {
    int n_layers, capacity;
    layer *layers;
    int in_ndim, in_shape[3];
    size_t in_size;                /* floats per input sample */
    int max_batch;                 /* 0 until model_build */
    size_t n_params;
    float *params;                 /* (n_params) every weight and bias, one allocation */
    float *grads;                  /* (n_params) the same layout */
    float *acts;                   /* every activation and its gradient, one allocation */
    float *work;                   /* shared convolution workspace */
    size_t work_floats;
    float *d_input;                /* (max_batch, in_size): ∂L/∂input after model_backward, when requested */
    int want_input_grad;
    const float *last_input;       /* the x of the last forward, read by backward */
    int last_batch;
    int threads;                   /* lanes a batch is split into (model_set_threads); 1 by default */
    pool *pool;                    /* the lanes' threads; NULL with one */
    float *lane_grads;             /* (threads, n_params padded to 16) each lane's gradients; zero between batches */
    float *lane_work;              /* (threads − 1, work_floats padded) the workspaces of lanes 1.. */
    float *lane_partials;          /* all-dense models: (threads, max_batch · largest dense input) each lane's part of ∂L/∂input */
} model;

/* A model taking samples of the given shape (1 or 3 dims); NULL with error_message on failure. */
model *model_alloc(int in_ndim, const int *in_shape);
void model_free(model *m);         /* NULL is a no-op */

/* Appends a layer and works out its output shape. AE_EINVAL (message names the layer
 * and the shapes) when the layer does not fit the current output shape. */
int model_add(model *m, layer_spec spec);
/* Requests ∂L/∂input from backward (a VAE's decoder passes it back to the encoder). Before model_build. */
void model_request_input_grad(model *m);
/* Allocates parameters, gradients, activations (for batches up to max_batch) and
 * the workspace; fills weights with Glorot-uniform and biases with zeros from rng. */
int model_build(model *m, int max_batch, gsl_rng *rng);

/* x (B, in_size) → *y (B, out_size), owned by the model and valid until the next forward. */
int model_forward(model *m, const float *x, int batch, const float **y);
/* d_y (B, out_size): adds ∂L/∂params into m->grads (and writes m->d_input if requested).
 * Must follow model_forward with the same batch. */
int model_backward(model *m, const float *d_y, int batch);
void model_zero_grad(model *m);

size_t model_param_count(const model *m);
size_t model_output_size(const model *m);           /* floats per output sample */
const layer *model_output_layer(const model *m);

/* Keras-style summary: one row per layer with its name, output shape (None, ...)
 * and parameter count, then the total. Written to the stream the caller gives. */
int model_summary(const model *m, FILE *out);
const char *layer_kind_name(layer_kind kind);       /* "Dense", "Conv2D", ... as Keras names them */
const char *activation_name(activation act);        /* "relu", "sigmoid", "tanh", "linear" */

/* ---------------------------------------------------------------- threads
 * A batch can be split in lanes, one per thread: lane k of T takes samples [k·B/T, (k+1)·B/T)
 * (pool_share). Samples are independent until their gradients are summed, so the lanes run
 * the whole model at once, each writing its own rows of the activation buffers, with a
 * convolution workspace and a gradient block of its own. model_backward then adds the
 * lanes' gradients into m->grads, lane 0 first: the same seed and the same number of
 * threads give the same numbers, bit for bit; another number of threads adds the samples'
 * gradients in another order, which changes the last bits (and so, over many steps, the
 * trained weights a little). The forward pass gives the same floats whatever the threads
 * on the AVX-512 path (gemm.h).
 * The matrix products inside the lanes should run on one thread each: blas_set_threads(1). */

/* 1..POOL_MAX_THREADS, before or after model_build; AE_EINVAL, AE_ENOMEM. */
int model_set_threads(model *m, int threads);
int model_get_threads(const model *m);

/* The pieces model_forward and model_backward are made of, for a caller that runs its own
 * work in the lanes as well (train_fit fills the batch and computes the loss there):
 *   model_run_lanes(m, task, ctx): task(ctx, lane, threads) on every lane at once;
 *   model_forward_rows: rows [first, first + count) of x (B, in_size) through the model, with
 *     lane's workspace; *y is the output of the whole batch (B, out_size), these rows filled.
 *     It does not record the batch for model_backward.
 *   model_backward_rows: the same rows backwards from d_y (B, out_size), adding ∂L/∂params into
 *     lane's gradient block (m->grads itself with one thread);
 *   model_gather_grads: grads[first, end) = (grads, if accumulate, else 0) + every lane's block,
 *     in lane order, and those blocks back to zero (nothing to do with one thread).
 * Rows of different lanes must not overlap; ranges of gather_grads neither. */
void model_run_lanes(model *m, pool_task task, void *ctx);
int model_forward_rows(model *m, const float *x, int first, int count, int lane, const float **y);
int model_backward_rows(model *m, const float *x, const float *d_y, int first, int count, int lane);
void model_gather_grads(model *m, size_t first, size_t end, int accumulate);

/* An all-dense model (every layer with parameters dense, no input gradient requested) on several
 * threads can split each layer's units instead of the batch: lane k owns a share of every
 * layer's units (its rows of W, entries of b and columns of the activations) for the whole
 * batch, so its parameters and their gradients never leave its core; the lanes only wait for
 * each other between layers (pool_barrier). train_fit does so when model_units_split says 1.
 * Called from a task of model_run_lanes, by every lane at once:
 *   model_units_forward: x (B, in_size), all of it (each lane may pass its own copy), through
 *     the model; *y (B, out_size) holds this lane's columns of the output (model_units_columns);
 *   model_units_backward: ∂L/∂y in this lane's columns of d_y (B, out_size) back through the
 *     model, adding ∂L/∂params into this lane's parameters in m->grads;
 *   model_units_params: the parameter ranges [first, end) this lane owns (2 per dense layer,
 *     at most max), for zeroing its gradients and running the optimizer on them. */
#define MODEL_UNITS_MAX_DENSE 32   /* dense layers at most, for the units split */
int model_units_split(const model *m);
int model_units_forward(model *m, const float *x, int batch, int lane, const float **y);
int model_units_backward(model *m, const float *x, const float *d_y, int batch, int lane);
int model_units_params(const model *m, int lane, size_t *first, size_t *end, int max);
/* The output columns [first, end) that lane owns in the units split. */
void model_units_columns(const model *m, int lane, size_t *first, size_t *end);

/* Binary checkpoint: magic "AECKPT1\0", version, input shape, layer count, each layer's
 * kind, activation, output shape and parameter shapes, the parameter count, the
 * parameters, and a CRC-32 (zlib's crc32) of everything before it. Every integer and
 * float is little-endian (the byte order of x86-64 and ARM machines, written as such
 * on any machine); model.c spells out the layout. Written atomically (fileio.h).
 * Both need a built model (AE_ESTATE otherwise): model_load fills the parameters of a
 * model built with the same layers. It refuses (AE_EFORMAT, naming the file and the
 * problem) a file with a wrong magic or version, a different architecture, a truncated
 * body, a bad checksum or bytes after the checksum, and leaves the model untouched;
 * AE_ENOENT when the file does not exist. */
int model_save(const model *m, const char *path);
int model_load(model *m, const char *path);

#endif
