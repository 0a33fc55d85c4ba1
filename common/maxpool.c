/* maxpool.c: 2x2 max-pooling with stride 2, Keras' MaxPooling2D() (see layers.h).
 *
 * Shape legend
 *   B  batch      C  channels      H, W  input height and width (the output is H/2 x W/2,
 *   an odd last row or column dropped, as Keras' 'valid' padding does)
 */
#include "layer.h"
#include "error.h"
#include "tensor.h"

/* Index (0..3, row-major in the window) of the first maximum of a 2x2 window whose top-left is at p. */
static int window_argmax(const float *p, int in_w)
{
    const float v[4] = { p[0], p[1], p[in_w], p[in_w + 1] };
    int best = 0;
    for (int k = 1; k < 4; k++)
        if (v[k] > v[best]) best = k;
    return best;
}

/* out[b,c,y,x] = max of in over the 2x2 block (2y..2y+1, 2x..2x+1) */
void maxpool2_forward(float *out,          /* (B, C, H/2, W/2) */
                      const float *in,     /* (B, C, H, W) */
                      int batch, int channels, int in_h, int in_w)
{
    const size_t planes = (size_t)batch * channels;
    const int out_h = in_h / 2, out_w = in_w / 2;
    for (size_t p = 0; p < planes; p++) {
        const float *src = in + p * in_h * in_w;
        float *dst = out + p * out_h * out_w;
        for (int y = 0; y < out_h; y++)
            for (int x = 0; x < out_w; x++) {
                const float *win = src + (size_t)(2 * y) * in_w + 2 * x;
                const int k = window_argmax(win, in_w);
                dst[(size_t)y * out_w + x] = win[(k >> 1) * in_w + (k & 1)];
            }
    }
}

/* d_in at the first maximum of each window += d_out of that window; the rest get nothing */
void maxpool2_backward(float *d_in,          /* (B, C, H, W) */
                       const float *d_out,   /* (B, C, H/2, W/2) */
                       const float *in,      /* (B, C, H, W) the forward's input */
                       int batch, int channels, int in_h, int in_w)
{
    const size_t planes = (size_t)batch * channels;
    const int out_h = in_h / 2, out_w = in_w / 2;
    for (size_t p = 0; p < planes; p++) {
        const float *src = in + p * in_h * in_w;
        float *dst = d_in + p * in_h * in_w;
        const float *grad = d_out + p * out_h * out_w;
        for (int y = 0; y < out_h; y++)
            for (int x = 0; x < out_w; x++) {
                const size_t top_left = (size_t)(2 * y) * in_w + 2 * x;
                const int k = window_argmax(src + top_left, in_w);
                dst[top_left + (size_t)((k >> 1) * in_w + (k & 1))] += grad[(size_t)y * out_w + x];
            }
    }
}

/* ------------------------------------------------------ as a model's layer */

layer_spec layer_maxpool2(void) { return layer_spec_of(LAYER_MAXPOOL2, ACT_NONE); }

/* (C, H, W) → (C, H/2, W/2) */
int maxpool2_plan(layer *l, int number)
{
    int rc = layer_need_image_input(l, number);
    if (rc != AE_OK) return rc;
    if (l->in_shape[1] < 2 || l->in_shape[2] < 2) {
        char in_text[64];
        shape_format(in_text, sizeof in_text, l->in_ndim, l->in_shape);
        return AE_ERROR(AE_EINVAL, "layer %d (MaxPooling2D) needs at least 2x2 pixels but gets %s", number, in_text);
    }
    layer_set_output(l, 3, l->in_shape[0], l->in_shape[1] / 2, l->in_shape[2] / 2);
    return AE_OK;
}

void maxpool2_layer_forward(const layer *l, float *out, const float *in, float *work, int batch)
{
    (void)work;
    maxpool2_forward(out, in, batch, l->in_shape[0], l->in_shape[1], l->in_shape[2]);
}

void maxpool2_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                             const float *d_out, const float *in, const float *out, float *work, int batch)
{
    (void)d_weight, (void)d_bias, (void)out, (void)work;
    maxpool2_backward(d_in, d_out, in, batch, l->in_shape[0], l->in_shape[1], l->in_shape[2]);
}
