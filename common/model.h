/* model.h: a sequential model: layers applied one after the other.
 *
 *     model *m = model_alloc(1, (int[]){784});          // per-sample input shape
 *     model_add(m, layer_dense(64, ACT_RELU));           // Dense(64, activation='relu')
 *     model_add(m, layer_dense(784, ACT_SIGMOID));
 *     model_build(m, 32, rng);                           // max batch; Glorot init; AE_OK or the first error
 *     model_forward(m, x, 32, &y);                       // x (32, 784) → y (32, 784)
 *     model_zero_grad(m); model_backward(m, d_y, 32);    // grads += ∂L/∂params
 *
 * Memory is planned once in model_build(): one allocation for all parameters,
 * one with the same layout for their gradients (so an optimizer is one flat
 * loop), one for all activations and their gradients at the largest batch, one
 * workspace for the fast twins of the layers. Forward and backward allocate nothing.
 *
 * Each layer runs through its row of the operations table (layer.h): its fast twin by
 * default, its plain loops with --plain (engine.h). Several threads are the fast path's
 * business (fast/threads.h: model_set_threads, fast_model_forward).
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

#include "layer.h"

struct model_lanes;                /* fast/threads.c */

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
    float *work;                   /* (work_floats) the layers' fast twins' scratch space, shared */
    size_t work_floats;
    float *d_input;                /* (max_batch, in_size): ∂L/∂input after model_backward, when requested */
    int want_input_grad;
    int add_error;                 /* the first failure of model_add (AE_OK: none), and its message */
    char add_message[512];
    const float *last_input;       /* the x of the last forward, read by backward */
    int last_batch;
    /* Speed, owned by common/fast/threads.c (model_set_threads); the plain code never reads them. */
    int threads;                   /* 1 by default */
    struct model_lanes *lanes;     /* NULL on one thread */
    void (*free_lanes)(struct model_lanes *lanes);
} model;

/* A model taking samples of the given shape (1 or 3 dims); NULL with error_message on failure. */
model *model_alloc(int in_ndim, const int *in_shape);
void model_free(model *m);         /* NULL is a no-op */

/* Appends a layer and works out its output shape. AE_EINVAL (message names the layer
 * and the shapes) when the layer does not fit the current output shape; the layer is then
 * not added. The first failure is kept, and model_build returns it again (a model whose code
 * asked for a layer it does not have is not built), so that a model can be written layer by
 * layer, as in Keras, and checked once:
 *     model_add(m, layer_flatten());
 *     model_add(m, layer_dense(64, ACT_RELU));
 *     model_add(m, layer_dense(784, ACT_SIGMOID));
 *     int rc = model_build(m, 32, rng);     // the first layer that did not fit, if one did not */
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
/* Multiply-adds of one sample's forward pass through the layers with weights (a dense layer one per
 * weight, a convolution one per weight and output position, a transposed one per weight and input
 * position; biases and activations are left out): the work a speed is measured against. */
double model_forward_macs(const model *m);
size_t model_output_size(const model *m);           /* floats per output sample */
const layer *model_output_layer(const model *m);

/* Keras-style summary: one row per layer with its name, output shape (None, ...)
 * and parameter count, then the total. Written to the stream the caller gives. */
int model_summary(const model *m, FILE *out);

/* The walk over the layers that model_forward and model_backward are made of, for samples
 * [first, first + count) of the batch only: the fast path's threads run it on their own rows at
 * once (common/fast/threads.c), each with a workspace and a gradient block of its own.
 *   model_forward_rows: x (B, in_size) through every layer, filling these rows of each layer's
 *     output (the last one is (B, out_size), these rows filled); work is layer_workspace floats;
 *   model_backward_rows: the same rows backwards from d_y (B, out_size), ADDING ∂L/∂params into
 *     grads (the layout of m->grads), and writing these rows of every activation gradient
 *     (and of m->d_input when requested). */
void model_forward_rows(model *m, const float *x, int first, int count, float *work);
void model_backward_rows(model *m, const float *x, const float *d_y, int first, int count, float *grads,
                         float *work);
/* Where layer i reads and writes in rows [first, first + count) of a backward pass from the model
 * input x, with the parameters' gradients in grads (the layout of m->grads): for
 * model_backward_rows and its fast twin (common/fast/model_fast.c). */
typedef struct {
    const float *in;           /* (count, in_size) its input */
    const float *out;          /* (count, out_size) its output */
    float *d_in;               /* (count, in_size) the gradient it passes down, or NULL: none wanted */
    float *d_weight, *d_bias;  /* its parameters' gradients, or NULL without them */
} layer_rows;
layer_rows model_layer_rows(const model *m, int i, const float *x, int first, float *grads);
/* The pieces of model_forward and model_backward around the walk: the checks (AE_ESTATE with a
 * message naming `what`), and the bookkeeping after a forward pass (x remembered for backward,
 * views pointed at their inputs, *y the output). */
int model_check_batch(const model *m, int batch, const char *what);
int model_check_backward(const model *m, int batch);
void model_record_forward(model *m, const float *x, int batch, const float **y);
/* The input of layer i when the model's input is x (the output of the last layer before it that
 * computes something); i = n_layers gives the model's output. */
const float *model_layer_input(const model *m, int i, const float *x);

#endif
