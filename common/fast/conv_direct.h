/* conv_direct.h: 3×3 convolutions with few channels, computed in place on the images (conv_direct.c),
 * for conv_taps.c, which takes this path when direct_fits() says so.
 *
 * The two sides of conv_taps.c: the image side, which the window slides over (R channels,
 * IH x IW), and the grid side, one value per window position (M channels, GH x GW), linked by
 * image row gy·s − pt + kh for grid row gy and kernel row kh (columns alike). The weight is
 * (M, R, 3, 3): conv2d's (OC, C, ..) with its input as the image, conv2d_transpose's (C, OC, ..)
 * with its output as the image. Every array is (B, channels, rows, columns), as the layers keep them.
 */
#ifndef AE_FAST_CONV_DIRECT_H
#define AE_FAST_CONV_DIRECT_H

typedef struct {
    int grid_c, grid_h, grid_w;     /* M, GH, GW */
    int img_c, img_h, img_w;        /* R, IH, IW */
    int k_h, k_w, stride, pad_top, pad_left;
} conv_sides;

/* 1 when the direct kernels take these sides: AVX-512 in use, a 3×3 kernel, stride 1 or 2, at most
 * 16 channels on either side and rows of at most 31 values on both. */
int direct_fits(const conv_sides *t);

/* grid[b, m, gy, gx] = (add ? grid : bias[m], or 0 without bias) + Σ_{r,kh,kw} W[m, r, kh, kw] · image[b, r, iy, ix]
 *   (conv2d forward; conv2d_transpose's input gradient with add = 1), and, when relu is not NULL,
 *   relu (the shape of grid) = max(0, grid) as fast_relu_forward computes it; relu = grid writes
 *   only max(0, ·) there (the sum itself is not kept). When gate (the shape of grid) is not NULL,
 *   each value v is written as 0 + (gate > 0 ? v : 0): ReLU's backward through the layer below,
 *   whose output gate is, as fast_conv_activation_backward computes it (the input gradient
 *   goes straight into that layer's d_pre). */
void direct_gather(float *grid, const float *image, const float *weight, const float *bias, int add,
                   float *relu, const float *gate, const conv_sides *t, int batch);
/* image[b, r, iy, ix] = (add ? image : bias[r], or 0) + Σ_{m,kh,kw} W[m, r, kh, kw] · grid[b, m, gy, gx]
 *   (conv2d_transpose forward; conv2d's input gradient with add = 1), relu and gate as in direct_gather */
void direct_scatter(float *image, const float *grid, const float *weight, const float *bias, int add,
                    float *relu, const float *gate, const conv_sides *t, int batch);
/* d_weight[m, r, kh, kw] += Σ_{b,gy,gx} grid[b, m, gy, gx] · image[b, r, gy·s − pt + kh, gx·s − pl + kw] */
void direct_weight_grad(float *d_weight, const float *grid, const float *image, const conv_sides *t, int batch);
/* direct_weight_grad sums its batch in chunks of this many samples from the first, each chunk's
 * sums added to d_weight in turn: a call for samples 0 .. 2n − 1 adds the same floats as a call
 * for 0 .. n − 1 then one for n .. 2n − 1, when n is a multiple of it */
int direct_weight_chunk(const conv_sides *t);

#endif
