/* conv2d.c: the 2-D convolution (cross-correlation, as Keras and PyTorch compute it; see layers.h).
 *
 * Shape legend
 *   B  batch            C  input channels    OC output channels
 *   H, W   input height and width            OH, OW output height and width
 *   KH, KW kernel rows and columns           s stride   pt, pl padding before the top row and left column
 *
 * Output pixel (oh, ow) looks at input rows ih = oh·s − pt + kh and columns iw = ow·s − pl + kw;
 * rows and columns outside the input are zeros (the padding), so they are skipped.
 */
#include "layer.h"
#include "error.h"
#include "tensor.h"

#include <stdio.h>

/* W[oc, c, kh, kw] in the (OC, C, KH, KW) array */
static size_t weight_at(const conv_geom *g, int oc, int c, int kh, int kw)
{
    return (((size_t)oc * g->in_c + c) * g->k_h + kh) * g->k_w + kw;
}

/* The input pixel that kernel tap (kh, kw) of output pixel (oh, ow) reads: 1 and (*ih, *iw) when it
 * lies inside the input, 0 when it falls in the padding (a zero, which adds nothing). */
static int tap_input(const conv_geom *g, int oh, int ow, int kh, int kw, int *ih, int *iw)
{
    *ih = oh * g->stride - g->pad_top + kh;
    *iw = ow * g->stride - g->pad_left + kw;
    return *ih >= 0 && *ih < g->in_h && *iw >= 0 && *iw < g->in_w;
}

/* out[b,oc,oh,ow] = bias[oc] + Σ_{c,kh,kw} W[oc,c,kh,kw] · in[b,c, oh·s−pt+kh, ow·s−pl+kw] */
void conv2d_forward(float *out,            /* (B, OC, OH, OW) */
                    const float *in,       /* (B, C, H, W) */
                    const float *weight,   /* (OC, C, KH, KW) */
                    const float *bias,     /* (OC) or NULL */
                    const conv_geom *g, int batch)
{
    for (int b = 0; b < batch; b++)
        for (int oc = 0; oc < g->out_c; oc++)
            for (int oh = 0; oh < g->out_h; oh++)
                for (int ow = 0; ow < g->out_w; ow++) {
                    float sum = bias ? bias[oc] : 0.0f;
                    for (int c = 0; c < g->in_c; c++)
                        for (int kh = 0; kh < g->k_h; kh++)
                            for (int kw = 0; kw < g->k_w; kw++) {
                                int ih, iw;
                                if (tap_input(g, oh, ow, kh, kw, &ih, &iw))
                                    sum += weight[weight_at(g, oc, c, kh, kw)] * in[conv_input_at(g, b, c, ih, iw)];
                            }
                    out[conv_output_at(g, b, oc, oh, ow)] = sum;
                }
}

/* Each output pixel's gradient d = d_out[b,oc,oh,ow] goes back along the products it was made of:
 *   d_in[b,c,ih,iw] += W[oc,c,kh,kw] · d,  d_W[oc,c,kh,kw] += in[b,c,ih,iw] · d,  d_b[oc] += d */
void conv2d_backward(float *d_in,           /* (B, C, H, W) or NULL */
                     float *d_weight,       /* (OC, C, KH, KW) or NULL */
                     float *d_bias,         /* (OC) or NULL */
                     const float *d_out,    /* (B, OC, OH, OW) */
                     const float *in,       /* (B, C, H, W) */
                     const float *weight,   /* (OC, C, KH, KW) */
                     const conv_geom *g, int batch)
{
    for (int b = 0; b < batch; b++)
        for (int oc = 0; oc < g->out_c; oc++)
            for (int oh = 0; oh < g->out_h; oh++)
                for (int ow = 0; ow < g->out_w; ow++) {
                    const float d = d_out[conv_output_at(g, b, oc, oh, ow)];
                    if (d_bias) d_bias[oc] += d;
                    for (int c = 0; c < g->in_c; c++)
                        for (int kh = 0; kh < g->k_h; kh++)
                            for (int kw = 0; kw < g->k_w; kw++) {
                                int ih, iw;
                                if (!tap_input(g, oh, ow, kh, kw, &ih, &iw)) continue;
                                const size_t x = conv_input_at(g, b, c, ih, iw), w = weight_at(g, oc, c, kh, kw);
                                if (d_weight) d_weight[w] += in[x] * d;
                                if (d_in) d_in[x] += weight[w] * d;
                            }
                }
}

/* ------------------------------------------------------ as a model's layer */

layer_spec layer_conv2d(int filters, int kernel, int stride, padding_mode padding, activation act)
{
    layer_spec s = layer_spec_of(LAYER_CONV2D, act);
    s.filters = filters;
    s.kernel = kernel;
    s.stride = stride;
    s.padding = padding;
    return s;
}

/* The checks and messages both convolutions share: sizes from the spec through the geometry function. */
int conv_plan(layer *l, int number, int transposed)
{
    const layer_spec *s = &l->spec;
    const char *kind = layer_kind_name(s->kind);
    int rc = layer_need_image_input(l, number);
    if (rc != AE_OK) return rc;
    if (s->filters <= 0 || s->kernel <= 0)
        return AE_ERROR(AE_EINVAL, "layer %d (%s): filters and kernel must be positive, not %d and %d",
                        number, kind, s->filters, s->kernel);
    const int C = l->in_shape[0], H = l->in_shape[1], W = l->in_shape[2];
    rc = transposed ? conv2d_transpose_geom(&l->geom, C, H, W, s->filters, s->kernel, s->kernel, s->stride,
                                            s->padding, s->pad, s->output_padding)
                    : conv2d_geom(&l->geom, C, H, W, s->filters, s->kernel, s->kernel, s->stride, s->padding, s->pad);
    if (rc != AE_OK) {
        char reason[256], in_text[64];   /* the message buffer is about to be overwritten */
        snprintf(reason, sizeof reason, "%s", error_message());
        shape_format(in_text, sizeof in_text, l->in_ndim, l->in_shape);
        return AE_ERROR(rc, "layer %d (%s) on input %s: %s", number, kind, in_text, reason);
    }
    layer_set_output(l, 3, l->geom.out_c, l->geom.out_h, l->geom.out_w);
    /* conv2d (OC, C, K, K); conv2d_transpose (C, OC, K, K), the layout of the convolution it is the transpose of */
    const int first = transposed ? C : s->filters, second = transposed ? s->filters : C;
    layer_set_params(l, 4, (int[]){ first, second, s->kernel, s->kernel }, (size_t)s->filters);
    return AE_OK;
}

int conv2d_plan(layer *l, int number) { return conv_plan(l, number, 0); }

void conv2d_layer_forward(const layer *l, float *out, const float *in, float *work, int batch)
{
    (void)work;
    conv2d_forward(out, in, l->weight, l->bias, &l->geom, batch);
}

void conv2d_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                           const float *d_out, const float *in, const float *out, float *work, int batch)
{
    (void)out, (void)work;
    conv2d_backward(d_in, d_weight, d_bias, d_out, in, l->weight, &l->geom, batch);
}
