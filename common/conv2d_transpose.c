/* conv2d_transpose.c: the transposed convolution, the adjoint of conv2d (see layers.h).
 *
 * Shape legend
 *   B  batch            C  input channels    OC output channels
 *   H, W   input height and width            OH, OW output height and width
 *   KH, KW kernel rows and columns           s stride   pt, pl rows and columns cropped from the front
 *
 * Where conv2d gathers a window of its input into one output pixel, the transposed convolution
 * scatters: every input pixel adds the kernel, scaled by its value, into the window of the output
 * at (ih·s − pt, iw·s − pl). Parts of a window that fall outside the output are cropped.
 */
#include "layer.h"
#include "error.h"

/* W[c, oc, kh, kw] in the (C, OC, KH, KW) array */
static size_t weight_at(const conv_geom *g, int c, int oc, int kh, int kw)
{
    return (((size_t)c * g->out_c + oc) * g->k_h + kh) * g->k_w + kw;
}

/* The output pixel that kernel tap (kh, kw) of input pixel (ih, iw) adds into: 1 and (*oh, *ow) when
 * it lies inside the output, 0 when it is cropped. */
static int tap_output(const conv_geom *g, int ih, int iw, int kh, int kw, int *oh, int *ow)
{
    *oh = ih * g->stride - g->pad_top + kh;
    *ow = iw * g->stride - g->pad_left + kw;
    return *oh >= 0 && *oh < g->out_h && *ow >= 0 && *ow < g->out_w;
}

/* out[b,oc, ih·s−pt+kh, iw·s−pl+kw] += W[c,oc,kh,kw] · in[b,c,ih,iw], after out = bias[oc] everywhere */
void conv2d_transpose_forward(float *out,            /* (B, OC, OH, OW) */
                              const float *in,       /* (B, C, H, W) */
                              const float *weight,   /* (C, OC, KH, KW) */
                              const float *bias,     /* (OC) or NULL */
                              const conv_geom *g, int batch)
{
    for (int b = 0; b < batch; b++)
        for (int oc = 0; oc < g->out_c; oc++)
            for (int oh = 0; oh < g->out_h; oh++)
                for (int ow = 0; ow < g->out_w; ow++) out[conv_output_at(g, b, oc, oh, ow)] = bias ? bias[oc] : 0.0f;
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < g->in_c; c++)
            for (int ih = 0; ih < g->in_h; ih++)
                for (int iw = 0; iw < g->in_w; iw++) {
                    const float x = in[conv_input_at(g, b, c, ih, iw)];
                    for (int oc = 0; oc < g->out_c; oc++)
                        for (int kh = 0; kh < g->k_h; kh++)
                            for (int kw = 0; kw < g->k_w; kw++) {
                                int oh, ow;
                                if (tap_output(g, ih, iw, kh, kw, &oh, &ow))
                                    out[conv_output_at(g, b, oc, oh, ow)] += weight[weight_at(g, c, oc, kh, kw)] * x;
                            }
                }
}

/* Each input pixel x = in[b,c,ih,iw] reached the output pixels of its window; their gradients come back:
 *   d_in[b,c,ih,iw] += Σ W[c,oc,kh,kw] · d_out[b,oc,oh,ow],  d_W[c,oc,kh,kw] += x · d_out[b,oc,oh,ow],
 *   d_b[oc] += Σ d_out[b,oc,·,·] */
void conv2d_transpose_backward(float *d_in,           /* (B, C, H, W) or NULL */
                               float *d_weight,       /* (C, OC, KH, KW) or NULL */
                               float *d_bias,         /* (OC) or NULL */
                               const float *d_out,    /* (B, OC, OH, OW) */
                               const float *in,       /* (B, C, H, W) */
                               const float *weight,   /* (C, OC, KH, KW) */
                               const conv_geom *g, int batch)
{
    for (int b = 0; b < batch && d_bias; b++)
        for (int oc = 0; oc < g->out_c; oc++)
            for (int oh = 0; oh < g->out_h; oh++)
                for (int ow = 0; ow < g->out_w; ow++) d_bias[oc] += d_out[conv_output_at(g, b, oc, oh, ow)];
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < g->in_c; c++)
            for (int ih = 0; ih < g->in_h; ih++)
                for (int iw = 0; iw < g->in_w; iw++) {
                    const size_t x = conv_input_at(g, b, c, ih, iw);
                    float sum = 0.0f;
                    for (int oc = 0; oc < g->out_c; oc++)
                        for (int kh = 0; kh < g->k_h; kh++)
                            for (int kw = 0; kw < g->k_w; kw++) {
                                int oh, ow;
                                if (!tap_output(g, ih, iw, kh, kw, &oh, &ow)) continue;
                                const float d = d_out[conv_output_at(g, b, oc, oh, ow)];
                                const size_t w = weight_at(g, c, oc, kh, kw);
                                if (d_weight) d_weight[w] += in[x] * d;
                                sum += weight[w] * d;
                            }
                    if (d_in) d_in[x] += sum;
                }
}

/* ------------------------------------------------------ as a model's layer */

layer_spec layer_conv2d_transpose(int filters, int kernel, int stride, padding_mode padding, activation act)
{
    layer_spec s = layer_conv2d(filters, kernel, stride, padding, act);
    s.kind = LAYER_CONV2D_TRANSPOSE;
    return s;
}

int conv2d_transpose_plan(layer *l, int number) { return conv_plan(l, number, 1); }

void conv2d_transpose_layer_forward(const layer *l, float *out, const float *in, float *work, int batch)
{
    (void)work;
    conv2d_transpose_forward(out, in, l->weight, l->bias, &l->geom, batch);
}

void conv2d_transpose_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                                     const float *d_out, const float *in, const float *out, float *work,
                                     int batch)
{
    (void)out, (void)work;
    conv2d_transpose_backward(d_in, d_weight, d_bias, d_out, in, l->weight, &l->geom, batch);
}
