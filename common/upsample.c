/* upsample.c: nearest-neighbour 2x upsampling, Keras' UpSampling2D(size=2) (see layers.h).
 *
 * Shape legend
 *   B  batch      C  channels      H, W  input height and width (the output is 2H x 2W)
 */
#include "layer.h"
#include "error.h"

#include <string.h>

/* out[b,c,y,x] = in[b,c,⌊y/2⌋,⌊x/2⌋] */
void upsample2_forward(float *out,         /* (B, C, 2H, 2W) */
                       const float *in,    /* (B, C, H, W) */
                       int batch, int channels, int in_h, int in_w)
{
    const size_t planes = (size_t)batch * channels;
    const int out_w = 2 * in_w;
    for (size_t p = 0; p < planes; p++) {
        const float *src = in + p * in_h * in_w;
        float *dst = out + p * 4 * in_h * in_w;
        for (int y = 0; y < in_h; y++) {
            float *top = dst + (size_t)(2 * y) * out_w;
            for (int x = 0; x < in_w; x++) top[2 * x] = top[2 * x + 1] = src[(size_t)y * in_w + x];
            memcpy(top + out_w, top, (size_t)out_w * sizeof *top);
        }
    }
}

/* d_in[b,c,y,x] += Σ of d_out over the 2x2 block (2y..2y+1, 2x..2x+1) */
void upsample2_backward(float *d_in,          /* (B, C, H, W) */
                        const float *d_out,   /* (B, C, 2H, 2W) */
                        int batch, int channels, int in_h, int in_w)
{
    const size_t planes = (size_t)batch * channels;
    const int out_w = 2 * in_w;
    for (size_t p = 0; p < planes; p++) {
        float *dst = d_in + p * in_h * in_w;
        const float *src = d_out + p * 4 * in_h * in_w;
        for (int y = 0; y < in_h; y++) {
            const float *top = src + (size_t)(2 * y) * out_w, *bottom = top + out_w;
            for (int x = 0; x < in_w; x++)
                dst[(size_t)y * in_w + x] += top[2 * x] + top[2 * x + 1] + bottom[2 * x] + bottom[2 * x + 1];
        }
    }
}

/* ------------------------------------------------------ as a model's layer */

layer_spec layer_upsample2(void) { return layer_spec_of(LAYER_UPSAMPLE2, ACT_NONE); }

/* (C, H, W) → (C, 2H, 2W) */
int upsample2_plan(layer *l, int number)
{
    int rc = layer_need_image_input(l, number);
    if (rc != AE_OK) return rc;
    if (l->in_shape[1] > AE_MAX_SIDE / 2 || l->in_shape[2] > AE_MAX_SIDE / 2)
        return AE_ERROR(AE_EINVAL, "layer %d (UpSampling2D): the output would be %lldx%lld, above the largest side "
                        "this library takes (%d)", number, 2LL * l->in_shape[1], 2LL * l->in_shape[2], AE_MAX_SIDE);
    layer_set_output(l, 3, l->in_shape[0], 2 * l->in_shape[1], 2 * l->in_shape[2]);
    return AE_OK;
}

void upsample2_layer_forward(const layer *l, float *out, const float *in, float *work, int batch)
{
    (void)work;
    upsample2_forward(out, in, batch, l->in_shape[0], l->in_shape[1], l->in_shape[2]);
}

void upsample2_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                              const float *d_out, const float *in, const float *out, float *work, int batch)
{
    (void)d_weight, (void)d_bias, (void)in, (void)out, (void)work;
    upsample2_backward(d_in, d_out, batch, l->in_shape[0], l->in_shape[1], l->in_shape[2]);
}
