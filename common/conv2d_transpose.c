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

/* out[b,oc, ih·s−pt+kh, iw·s−pl+kw] += W[c,oc,kh,kw] · in[b,c,ih,iw], after out = bias[oc] everywhere */
void conv2d_transpose_forward(float *out,            /* (B, OC, OH, OW) */
                              const float *in,       /* (B, C, H, W) */
                              const float *weight,   /* (C, OC, KH, KW) */
                              const float *bias,     /* (OC) or NULL */
                              const conv_geom *g, int batch)
{
    const size_t plane = (size_t)g->out_h * g->out_w;
    for (int b = 0; b < batch; b++)
        for (int oc = 0; oc < g->out_c; oc++)
            for (size_t p = 0; p < plane; p++)
                out[((size_t)b * g->out_c + oc) * plane + p] = bias ? bias[oc] : 0.0f;
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < g->in_c; c++)
            for (int ih = 0; ih < g->in_h; ih++)
                for (int iw = 0; iw < g->in_w; iw++) {
                    const float x = in[(((size_t)b * g->in_c + c) * g->in_h + ih) * g->in_w + iw];
                    for (int oc = 0; oc < g->out_c; oc++)
                        for (int kh = 0; kh < g->k_h; kh++) {
                            const int oh = ih * g->stride - g->pad_top + kh;
                            if (oh < 0 || oh >= g->out_h) continue;
                            for (int kw = 0; kw < g->k_w; kw++) {
                                const int ow = iw * g->stride - g->pad_left + kw;
                                if (ow < 0 || ow >= g->out_w) continue;
                                out[(((size_t)b * g->out_c + oc) * g->out_h + oh) * g->out_w + ow] +=
                                    weight[(((size_t)c * g->out_c + oc) * g->k_h + kh) * g->k_w + kw] * x;
                            }
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
    const size_t plane = (size_t)g->out_h * g->out_w;
    if (d_bias)
        for (int b = 0; b < batch; b++)
            for (int oc = 0; oc < g->out_c; oc++)
                for (size_t p = 0; p < plane; p++) d_bias[oc] += d_out[((size_t)b * g->out_c + oc) * plane + p];
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < g->in_c; c++)
            for (int ih = 0; ih < g->in_h; ih++)
                for (int iw = 0; iw < g->in_w; iw++) {
                    const size_t x_at = (((size_t)b * g->in_c + c) * g->in_h + ih) * g->in_w + iw;
                    float sum = 0.0f;
                    for (int oc = 0; oc < g->out_c; oc++)
                        for (int kh = 0; kh < g->k_h; kh++) {
                            const int oh = ih * g->stride - g->pad_top + kh;
                            if (oh < 0 || oh >= g->out_h) continue;
                            for (int kw = 0; kw < g->k_w; kw++) {
                                const int ow = iw * g->stride - g->pad_left + kw;
                                if (ow < 0 || ow >= g->out_w) continue;
                                const float grad = d_out[(((size_t)b * g->out_c + oc) * g->out_h + oh) * g->out_w + ow];
                                const size_t w_at = (((size_t)c * g->out_c + oc) * g->k_h + kh) * g->k_w + kw;
                                if (d_weight) d_weight[w_at] += in[x_at] * grad;
                                sum += weight[w_at] * grad;
                            }
                        }
                    if (d_in) d_in[x_at] += sum;
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
