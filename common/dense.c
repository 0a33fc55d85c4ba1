/* dense.c: the dense (fully connected) layer, out = in · Wᵀ + b (see layers.h).
 *
 * Shape legend
 *   B  batch      IN  input features      OUT  output features (units)
 */
#include "layer.h"
#include "error.h"

/* out[b,o] = b[o] + Σ_i in[b,i] · W[o,i] */
void dense_forward(float *out,            /* (B, OUT) */
                   const float *in,       /* (B, IN) */
                   const float *weight,   /* (OUT, IN) */
                   const float *bias,     /* (OUT) or NULL */
                   int batch, int in_features, int out_features)
{
    for (int b = 0; b < batch; b++) {
        const float *x = in + (size_t)b * in_features;
        for (int o = 0; o < out_features; o++) {
            const float *w = weight + (size_t)o * in_features;
            float sum = bias ? bias[o] : 0.0f;
            for (int i = 0; i < in_features; i++) sum += w[i] * x[i];
            out[(size_t)b * out_features + o] = sum;
        }
    }
}

/* d_in[b,i] += Σ_o d_out[b,o] · W[o,i],  d_W[o,i] += Σ_b d_out[b,o] · in[b,i],  d_b[o] += Σ_b d_out[b,o] */
void dense_backward(float *d_in,          /* (B, IN) or NULL */
                    float *d_weight,      /* (OUT, IN) or NULL */
                    float *d_bias,        /* (OUT) or NULL */
                    const float *d_out,   /* (B, OUT) */
                    const float *in,      /* (B, IN) */
                    const float *weight,  /* (OUT, IN) */
                    int batch, int in_features, int out_features)
{
    for (int b = 0; b < batch; b++) {
        const float *x = in + (size_t)b * in_features;
        float *dx = d_in ? d_in + (size_t)b * in_features : NULL;
        for (int o = 0; o < out_features; o++) {
            const float g = d_out[(size_t)b * out_features + o];
            const float *w = weight + (size_t)o * in_features;
            if (d_bias) d_bias[o] += g;
            if (d_weight) {
                float *dw = d_weight + (size_t)o * in_features;
                for (int i = 0; i < in_features; i++) dw[i] += g * x[i];
            }
            if (dx)
                for (int i = 0; i < in_features; i++) dx[i] += g * w[i];
        }
    }
}

/* ------------------------------------------------------ as a model's layer */

layer_spec layer_dense(int units, activation act)
{
    layer_spec s = layer_spec_of(LAYER_DENSE, act);
    s.units = units;
    return s;
}

/* (IN) → (OUT); weight (OUT, IN), bias (OUT) */
int dense_plan(layer *l, int number)
{
    int rc = layer_need_flat_input(l, number);
    if (rc != AE_OK) return rc;
    if (l->spec.units <= 0)
        return AE_ERROR(AE_EINVAL, "layer %d (Dense): units must be positive, not %d", number, l->spec.units);
    layer_set_output(l, 1, l->spec.units, 1, 1);
    layer_set_params(l, 2, (int[]){ l->spec.units, (int)l->in_size }, (size_t)l->spec.units);
    return AE_OK;
}

void dense_layer_forward(const layer *l, float *out, const float *in, float *work, int batch)
{
    (void)work;
    dense_forward(out, in, l->weight, l->bias, batch, (int)l->in_size, l->spec.units);
}

void dense_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                          const float *d_out, const float *in, const float *out, float *work, int batch)
{
    (void)out, (void)work;
    dense_backward(d_in, d_weight, d_bias, d_out, in, l->weight, batch, (int)l->in_size, l->spec.units);
}
