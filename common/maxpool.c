/* maxpool.c: 2x2 max-pooling with stride 2, Keras' MaxPooling2D() (see layers.h).
 *
 * Shape legend
 *   B  batch      C  channels      H, W  input height and width (the output is H/2 x W/2,
 *   an odd last row or column dropped, as Keras' 'valid' padding does)
 */
#include "layer.h"
#include "error.h"
#include "tensor.h"

/* Where the first maximum of window (y, x) sits in its input plane (H, W): the window is the 2x2
 * block of rows 2y, 2y+1 and columns 2x, 2x+1, read row by row; a tie goes to the first. */
static size_t window_argmax(const float *plane, int in_w, int y, int x)
{
    const size_t top_left = (size_t)(2 * y) * in_w + 2 * x;
    const size_t at[4] = { top_left, top_left + 1, top_left + in_w, top_left + in_w + 1 };
    size_t best = at[0];
    for (int k = 1; k < 4; k++)
        if (plane[at[k]] > plane[best]) best = at[k];
    return best;
}

/* out[b,c,y,x] = max of in over the 2x2 block (2y..2y+1, 2x..2x+1) */
void maxpool2_forward(float *out,          /* (B, C, H/2, W/2) */
                      const float *in,     /* (B, C, H, W) */
                      int batch, int channels, int in_h, int in_w)
{
    const int out_h = in_h / 2, out_w = in_w / 2;
    for (size_t p = 0; p < (size_t)batch * channels; p++) {           /* one (H, W) plane at a time */
        const float *plane = in + p * in_h * in_w;
        for (int y = 0; y < out_h; y++)
            for (int x = 0; x < out_w; x++)
                out[(p * out_h + y) * out_w + x] = plane[window_argmax(plane, in_w, y, x)];
    }
}

/* d_in at the first maximum of each window += d_out of that window; the rest get nothing */
void maxpool2_backward(float *d_in,          /* (B, C, H, W) */
                       const float *d_out,   /* (B, C, H/2, W/2) */
                       const float *in,      /* (B, C, H, W) the forward's input */
                       int batch, int channels, int in_h, int in_w)
{
    const int out_h = in_h / 2, out_w = in_w / 2;
    for (size_t p = 0; p < (size_t)batch * channels; p++) {
        const float *plane = in + p * in_h * in_w;
        for (int y = 0; y < out_h; y++)
            for (int x = 0; x < out_w; x++)
                d_in[p * in_h * in_w + window_argmax(plane, in_w, y, x)] += d_out[(p * out_h + y) * out_w + x];
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
