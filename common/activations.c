/* activations.c: relu, sigmoid and tanh, element by element (see layers.h), and the
 * Activation layer that applies one on its own.
 *
 * Each backward uses what the forward already computed: relu looks at the input x,
 * sigmoid and tanh at the output f, since f' = f(1 − f) and f' = 1 − f².
 */
#include "layer.h"
#include "error.h"

#include <math.h>
#include <string.h>

/* f(x) = max(0, x); NaN becomes 0, as in Keras */
void relu_forward(float *out,          /* (n) */
                  const float *in,     /* (n) */
                  size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

/* d_in += d_out · [x > 0] */
void relu_backward(float *d_in,         /* (n) */
                   const float *d_out,  /* (n) */
                   const float *in,     /* (n) the forward's input */
                   size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (in[i] > 0.0f) d_in[i] += d_out[i];
}

/* f(x) = 1/(1+e^-x) = e^x/(1+e^x): with e = e^-|x| both forms are 1/(1+e) and e/(1+e), and exp never overflows */
void sigmoid_forward(float *out,        /* (n) */
                     const float *in,   /* (n) */
                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const float e = expf(-fabsf(in[i]));
        out[i] = in[i] >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    }
}

/* d_in += d_out · f(1 − f) */
void sigmoid_backward(float *d_in,         /* (n) */
                      const float *d_out,  /* (n) */
                      const float *out,    /* (n) the forward's output f */
                      size_t n)
{
    for (size_t i = 0; i < n; i++) d_in[i] += d_out[i] * out[i] * (1.0f - out[i]);
}

/* f(x) = tanh x */
void tanh_forward(float *out,          /* (n) */
                  const float *in,     /* (n) */
                  size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = tanhf(in[i]);
}

/* d_in += d_out · (1 − f²) */
void tanh_backward(float *d_in,         /* (n) */
                   const float *d_out,  /* (n) */
                   const float *out,    /* (n) the forward's output f */
                   size_t n)
{
    for (size_t i = 0; i < n; i++) d_in[i] += d_out[i] * (1.0f - out[i] * out[i]);
}

/* ------------------------------------------- as rows of the activation table */

/* f(x) = x ('linear', Keras' default) */
void linear_forward(float *out, const float *in, size_t n)
{
    if (out != in) memcpy(out, in, n * sizeof *out);
}

/* d_in += d_out */
void linear_backward(float *d_in, const float *d_out, const float *in, const float *out, size_t n)
{
    (void)in, (void)out;
    for (size_t i = 0; i < n; i++) d_in[i] += d_out[i];
}

void relu_backward_op(float *d_in, const float *d_out, const float *in, const float *out, size_t n)
{
    (void)out;
    relu_backward(d_in, d_out, in, n);
}

void sigmoid_backward_op(float *d_in, const float *d_out, const float *in, const float *out, size_t n)
{
    (void)in;
    sigmoid_backward(d_in, d_out, out, n);
}

void tanh_backward_op(float *d_in, const float *d_out, const float *in, const float *out, size_t n)
{
    (void)in;
    tanh_backward(d_in, d_out, out, n);
}

/* ------------------------------------------------------ as a model's layer */

layer_spec layer_activation(activation act) { return layer_spec_of(LAYER_ACTIVATION, act); }

/* The same shape out as in; a linear activation is a view of its input. */
int activation_plan(layer *l, int number)
{
    (void)number;
    layer_set_output(l, l->in_ndim, l->in_shape[0], l->in_shape[1], l->in_shape[2]);
    l->view = l->spec.act == ACT_NONE;
    return AE_OK;
}

void activation_layer_forward(const layer *l, float *out, const float *in, float *work, int batch)
{
    (void)work;
    activation_forward(l->spec.act, out, in, (size_t)batch * l->out_size);
}

void activation_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                               const float *d_out, const float *in, const float *out, float *work, int batch)
{
    (void)d_weight, (void)d_bias, (void)work;
    activation_backward(l->spec.act, d_in, d_out, in, out, (size_t)batch * l->out_size);
}
