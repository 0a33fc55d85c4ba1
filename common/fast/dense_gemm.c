/* dense_gemm.c: the dense layer as two matrix products, the fast twin of common/dense.c.
 *
 * Shape legend
 *   B  batch      IN  input features      OUT  output features (units)
 *
 * out = in · Wᵀ + b is one product of a (B, IN) and an (IN, OUT) matrix: gemm (gemm.h) runs it
 * with own AVX-512 kernels where the processor has them, CBLAS sgemm otherwise.
 */
#include "fast/fast.h"
#include "fast/gemm.h"
#include "fast/vector.h"

/* out = in · Wᵀ + b */
void fast_dense_forward(float *out,            /* (B, OUT) */
                   const float *in,       /* (B, IN) */
                   const float *weight,   /* (OUT, IN) */
                   const float *bias,     /* (OUT) or NULL */
                   int batch, int in_features, int out_features)
{
    gemm_bias_relu(GEMM_PLAIN, GEMM_TRANSPOSED, batch, out_features, in_features, in, in_features, weight,
                   in_features, bias, out, out_features, NULL, 0);   /* the bias added as the product is stored */
}

/* d_in += d_out · W,  d_W += d_outᵀ · in,  d_b += Σ_b d_out */
void fast_dense_backward(float *d_in,          /* (B, IN) or NULL */
                    float *d_weight,      /* (OUT, IN) or NULL */
                    float *d_bias,        /* (OUT) or NULL */
                    const float *d_out,   /* (B, OUT) */
                    const float *in,      /* (B, IN) */
                    const float *weight,  /* (OUT, IN) */
                    int batch, int in_features, int out_features)
{
    fast_dense_backward_beta(d_in, 1.0f, d_weight, 1.0f, d_bias, d_out, in, weight, batch, in_features, out_features);
}

void fast_dense_backward_beta(float *d_in, float beta_in, float *d_weight, float beta_weight, float *d_bias,
                              const float *d_out, const float *in, const float *weight,
                              int batch, int in_features, int out_features)
{
    if (d_in)
        gemm(GEMM_PLAIN, GEMM_PLAIN, batch, in_features, out_features,
             d_out, out_features, weight, in_features, beta_in, d_in, in_features);
    if (d_weight)
        gemm(GEMM_TRANSPOSED, GEMM_PLAIN, out_features, in_features, batch,
             d_out, out_features, in, in_features, beta_weight, d_weight, in_features);
    if (d_bias)
        for (int b = 0; b < batch; b++) vec_add_to(d_bias, d_out + (size_t)b * out_features, (size_t)out_features);
}

/* ------------------------------------------------ as a row of the layer table */

void fast_dense_layer_forward(const layer *l, float *out, const float *in, float *work, int batch)
{
    (void)work;
    fast_dense_forward(out, in, l->weight, l->bias, batch, (int)l->in_size, l->spec.units);
}

void fast_dense_layer_forward_relu(const layer *l, float *pre, float *out, const float *in, int batch)
{
    gemm_bias_relu(GEMM_PLAIN, GEMM_TRANSPOSED, batch, l->spec.units, (int)l->in_size, in, (int)l->in_size, l->weight,
                   (int)l->in_size, l->bias, pre, l->spec.units, out, l->spec.units);
}

void fast_dense_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                               const float *d_out, const float *in, const float *out, float *work, int batch)
{
    (void)out, (void)work;
    fast_dense_backward(d_in, d_weight, d_bias, d_out, in, l->weight, batch, (int)l->in_size, l->spec.units);
}
