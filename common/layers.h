/* layers.h: the layers, each a _forward/_backward pair of plain loops written from its definition.
 *
 * One file each: dense.c, conv_geom.c (the sizes of both convolutions), conv2d.c,
 * conv2d_transpose.c, activations.c, upsample.c, maxpool.c; the sampling layer of a VAE is
 * sampling.h. Each is the formula in its comment, loop by loop, so that a student can check
 * one against the other. Their fast twins (fast/fast.h) compute the same with matrix
 * products and vector instructions; a model runs those unless the program got --plain.
 *
 * Shape legend
 *   B  batch            C  input channels    OC output channels
 *   H, W   input height and width            OH, OW output height and width
 *   K  kernel rows and columns (KH, KW)      IN, OUT  dense features
 *
 * Rules every layer follows
 * - Arguments go outputs, inputs, weights, then sizes.
 * - Forward writes its output; it never allocates.
 * - Backward ADDS into every gradient it is given (d_in, d_weight, d_bias):
 *   zeroing is the caller's explicit step. A NULL d_in skips the input
 *   gradient (the first layer of a model does not need it); a NULL d_weight
 *   or d_bias skips that one. A NULL bias in forward means no bias.
 * - No function keeps state between calls: the result depends on the arguments alone.
 * - Weights: dense (OUT, IN); conv2d (OC, C, KH, KW); conv2d_transpose
 *   (C, OC, KH, KW), the layout of the convolution it is the transpose of.
 */
#ifndef AE_LAYERS_H
#define AE_LAYERS_H

#include <stddef.h>

/* ------------------------------------------------------------------ dense */
/* out = in · Wᵀ + b
 * out (B, OUT), in (B, IN), weight (OUT, IN), bias (OUT) */
void dense_forward(float *out, const float *in, const float *weight, const float *bias,
                   int batch, int in_features, int out_features);
/* d_in += d_out · W,  d_weight += d_outᵀ · in,  d_bias += Σ_b d_out
 * d_in (B, IN) or NULL, d_weight (OUT, IN), d_bias (OUT), d_out (B, OUT), in (B, IN) */
void dense_backward(float *d_in, float *d_weight, float *d_bias,
                    const float *d_out, const float *in, const float *weight,
                    int batch, int in_features, int out_features);

/* ------------------------------------------------------------ size limits */
/* The largest side (height, width, channels, kernel, stride, padding) and the most values per
 * sample or parameters per layer this library takes; past them a model is refused when planned,
 * with the true sizes, so that no size computation can overflow. */
#define AE_MAX_SIDE 65536
#define AE_MAX_VALUES ((size_t)1 << 28)

/* ----------------------------------------------------------- convolutions */
typedef enum {
    PAD_VALID,      /* no padding */
    PAD_SAME,       /* Keras 'same': conv out = ceil(i/s), transposed out = i·s; the odd extra row goes at the bottom/right */
    PAD_EXPLICIT    /* p zero rows/columns on every side (PyTorch's padding=p) */
} padding_mode;

/* Everything a convolution needs to know about its sizes, worked out once.
 * For conv2d, input row ih = oh·stride − pad_top + kh (zeros outside the input).
 * For conv2d_transpose the same relation holds with the roles swapped: input
 * pixel (ih, iw) adds kernel·x into output row oh = ih·stride − pad_top + kh,
 * and rows that fall outside [0, OH) are cropped. */
typedef struct {
    int in_c, in_h, in_w;        /* C, H, W */
    int out_c, out_h, out_w;     /* OC, OH, OW */
    int k_h, k_w;                /* KH, KW */
    int stride;                  /* the same along both axes */
    int pad_top, pad_left;       /* implicit zeros before the input (conv); rows cropped from the front (transposed) */
} conv_geom;

/* Where a value sits in its flat array (row-major: the last index varies fastest).
 * input (B, C, H, W), output (B, OC, OH, OW) of a conv2d or a conv2d_transpose */
static inline size_t conv_input_at(const conv_geom *g, int b, int c, int y, int x)
{
    return (((size_t)b * g->in_c + c) * g->in_h + y) * g->in_w + x;
}
static inline size_t conv_output_at(const conv_geom *g, int b, int oc, int y, int x)
{
    return (((size_t)b * g->out_c + oc) * g->out_h + y) * g->out_w + x;
}

/* Works out a conv2d's geometry: OH = floor((H + pad_total − KH)/stride) + 1.
 * `padding` is the p of PAD_EXPLICIT and must be 0 with the other modes.
 * AE_EINVAL for stride < 1, a kernel or padding that leaves no output, or sizes <= 0. */
int conv2d_geom(conv_geom *g, int in_c, int in_h, int in_w, int out_c,
                int k_h, int k_w, int stride, padding_mode mode, int padding);
/* Works out a conv2d_transpose's geometry:
 *   explicit: OH = stride·(H − 1) + KH − 2p + output_padding
 *   same:     OH = H·stride, with pad_top = max(KH − stride, 0)/2 (Keras, as the transpose of a 'same' conv)
 *   valid:    OH = H·stride + max(KH − stride, 0), pad_top = 0 (Keras)
 * `padding` and `output_padding` belong to PAD_EXPLICIT and must be 0 with the other modes.
 * AE_EINVAL for stride < 1, output_padding >= stride (or < 0), or no output. */
int conv2d_transpose_geom(conv_geom *g, int in_c, int in_h, int in_w, int out_c,
                          int k_h, int k_w, int stride, padding_mode mode, int padding,
                          int output_padding);

/* out[b,oc,oh,ow] = bias[oc] + Σ_{c,kh,kw} W[oc,c,kh,kw] · in[b,c, oh·s−pt+kh, ow·s−pl+kw]
 * out (B, OC, OH, OW), in (B, C, H, W), weight (OC, C, KH, KW), bias (OC) */
void conv2d_forward(float *out, const float *in, const float *weight, const float *bias,
                    const conv_geom *g, int batch);
/* d_in (B, C, H, W) or NULL, d_weight (OC, C, KH, KW), d_bias (OC), d_out (B, OC, OH, OW) */
void conv2d_backward(float *d_in, float *d_weight, float *d_bias,
                     const float *d_out, const float *in, const float *weight,
                     const conv_geom *g, int batch);

/* The transpose (adjoint) of conv2d: scatter every input pixel times the kernel into its output window.
 * out[b,oc, ih·s−pt+kh, iw·s−pl+kw] += W[c,oc,kh,kw] · in[b,c,ih,iw], plus bias[oc] everywhere.
 * out (B, OC, OH, OW), in (B, C, H, W), weight (C, OC, KH, KW), bias (OC) */
void conv2d_transpose_forward(float *out, const float *in, const float *weight, const float *bias,
                              const conv_geom *g, int batch);
/* d_in (B, C, H, W) or NULL, d_weight (C, OC, KH, KW), d_bias (OC), d_out (B, OC, OH, OW) */
void conv2d_transpose_backward(float *d_in, float *d_weight, float *d_bias,
                               const float *d_out, const float *in, const float *weight,
                               const conv_geom *g, int batch);

/* ------------------------------------------------------------ activations */
/* Element-wise over n values. The backward of sigmoid and tanh uses the forward's output. */
void relu_forward(float *out, const float *in, size_t n);                          /* f(x) = max(0, x) */
void relu_backward(float *d_in, const float *d_out, const float *in, size_t n);   /* f'(x) = [x > 0] */
void sigmoid_forward(float *out, const float *in, size_t n);                       /* f(x) = 1/(1+e^-x) */
void sigmoid_backward(float *d_in, const float *d_out, const float *out, size_t n);/* f' = f(1−f) */
void tanh_forward(float *out, const float *in, size_t n);                          /* f(x) = tanh x */
void tanh_backward(float *d_in, const float *d_out, const float *out, size_t n);  /* f' = 1 − f² */

/* --------------------------------------------------- resampling (images) */
/* Nearest-neighbour 2x upsampling: out[b,c,y,x] = in[b,c,y/2,x/2]
 * out (B, C, 2H, 2W), in (B, C, H, W) */
void upsample2_forward(float *out, const float *in, int batch, int channels, int in_h, int in_w);
/* d_in[b,c,y,x] += Σ of the four d_out pixels it was copied to */
void upsample2_backward(float *d_in, const float *d_out, int batch, int channels, int in_h, int in_w);

/* 2x2 max-pooling with stride 2 (Keras' 'valid': an odd last row/column is dropped)
 * out (B, C, H/2, W/2), in (B, C, H, W) */
void maxpool2_forward(float *out, const float *in, int batch, int channels, int in_h, int in_w);
/* The gradient goes to the first maximum of each window (found again from `in`: no stored indices). */
void maxpool2_backward(float *d_in, const float *d_out, const float *in,
                       int batch, int channels, int in_h, int in_w);

#endif
