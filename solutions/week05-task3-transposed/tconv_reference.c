/* tconv_reference.c: the transposed convolution and its arithmetic, the plain way
 * (see tconv_reference.h). Shapes: x (H, W), K (KH, KW), out (OH, OW). */
#include "tconv_reference.h"

#include <stdlib.h>
#include <string.h>

/* floor(a / b) for b > 0 and any sign of a */
static long floor_div(long a, long b)
{
    long q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

long ref_conv_size(long in, long k, long s, long p) { return floor_div(in + 2 * p - k, s) + 1; }
long ref_transposed_size(long in, long k, long s, long p, long a) { return s * (in - 1) + k - 2 * p + a; }
long ref_keras_same_conv_size(long in, long s) { return (in + s - 1) / s; }
long ref_keras_same_transposed_size(long in, long s) { return in * s; }
long ref_keras_valid_conv_size(long in, long k, long s) { return floor_div(in - k, s) + 1; }
long ref_keras_valid_transposed_size(long in, long k, long s) { return in * s + (k > s ? k - s : 0); }
long ref_conv_params(long kh, long kw, long in_channels, long out_channels)
{
    return (kh * kw * in_channels + 1) * out_channels;   /* weights per output channel, plus its bias */
}

void ref_scatter(double *out, int out_rows, int out_cols, const double *x, int rows, int cols,
                 const double *kernel, int k_rows, int k_cols, int stride, int padding)
{
    memset(out, 0, (size_t)out_rows * out_cols * sizeof *out);
    for (int ih = 0; ih < rows; ih++)
        for (int iw = 0; iw < cols; iw++)
            for (int kh = 0; kh < k_rows; kh++)
                for (int kw = 0; kw < k_cols; kw++) {
                    int oh = ih * stride - padding + kh, ow = iw * stride - padding + kw;
                    if (oh < 0 || oh >= out_rows || ow < 0 || ow >= out_cols) continue;   /* cropped */
                    out[oh * out_cols + ow] += kernel[kh * k_cols + kw] * x[ih * cols + iw];
                }
}

void ref_conv2d(double *out, int out_rows, int out_cols, const double *x, int rows, int cols,
                const double *kernel, int k_rows, int k_cols, int stride, int padding)
{
    for (int oh = 0; oh < out_rows; oh++)
        for (int ow = 0; ow < out_cols; ow++) {
            double sum = 0.0;
            for (int kh = 0; kh < k_rows; kh++)
                for (int kw = 0; kw < k_cols; kw++) {
                    int ih = oh * stride - padding + kh, iw = ow * stride - padding + kw;
                    if (ih < 0 || ih >= rows || iw < 0 || iw >= cols) continue;   /* a padding zero */
                    sum += kernel[kh * k_cols + kw] * x[ih * cols + iw];
                }
            out[oh * out_cols + ow] = sum;
        }
}

void ref_conv_matrix(double *C, int rows, int cols, int out_rows, int out_cols,
                     const double *kernel, int k_rows, int k_cols, int stride, int padding)
{
    int n_image = out_rows * out_cols, n_result = rows * cols;
    double *unit = calloc((size_t)n_image, sizeof *unit);
    double *column = malloc((size_t)n_result * sizeof *column);
    if (!unit || !column) abort();   /* a few hundred doubles at most; the grader cannot go on without them */
    for (int j = 0; j < n_image; j++) {
        unit[j] = 1.0;
        ref_conv2d(column, rows, cols, unit, out_rows, out_cols, kernel, k_rows, k_cols, stride, padding);
        for (int i = 0; i < n_result; i++) C[(size_t)i * n_image + j] = column[i];   /* column j = conv(e_j) */
        unit[j] = 0.0;
    }
    free(unit);
    free(column);
}

void ref_zero_insert(double *padded, int padded_rows, int padded_cols, const double *x, int rows,
                     int cols, int k_rows, int k_cols, int stride, int padding)
{
    int top = k_rows - 1 - padding, left = k_cols - 1 - padding;
    for (int r = 0; r < padded_rows; r++)
        for (int c = 0; c < padded_cols; c++) {
            int dr = r - top, dc = c - left;
            int inside = dr >= 0 && dc >= 0 && dr % stride == 0 && dc % stride == 0 &&
                         dr / stride < rows && dc / stride < cols;
            padded[r * padded_cols + c] = inside ? x[(dr / stride) * cols + dc / stride] : 0.0;
        }
}
