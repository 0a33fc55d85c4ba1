/* tconv_reference.h: the reference solution of week05-task3-transposed, written apart from
 * the exercise: single channel, double precision, row-major arrays with explicit sizes.
 *
 *   ordinary convolution   out[oh,ow] = Σ_{kh,kw} K[kh,kw] · x[oh·s − p + kh, ow·s − p + kw]
 *   transposed             out[ih·s − p + kh, iw·s − p + kw] += K[kh,kw] · x[ih,iw]
 *
 * Shapes: x (H, W), K (KH, KW), out (OH, OW); s stride, p padding, a output padding.
 */
#ifndef TCONV_REFERENCE_H
#define TCONV_REFERENCE_H

/* floor((i + 2p − k)/s) + 1 */
long ref_conv_size(long in, long k, long s, long p);
/* s(i − 1) + k − 2p + a */
long ref_transposed_size(long in, long k, long s, long p, long a);
/* Keras: 'same' ordinary ceil(i/s), transposed i·s; 'valid' ordinary floor((i − k)/s) + 1,
 * transposed i·s + max(k − s, 0) */
long ref_keras_same_conv_size(long in, long s);
long ref_keras_same_transposed_size(long in, long s);
long ref_keras_valid_conv_size(long in, long k, long s);
long ref_keras_valid_transposed_size(long in, long k, long s);
/* (KH·KW·C_in + 1)·C_out, for an ordinary and a transposed convolution alike */
long ref_conv_params(long kh, long kw, long in_channels, long out_channels);

/* The transposed convolution by its definition: every input value scatters K·x into its window.
 * out (OH, OW) with OH, OW from ref_transposed_size; x (H, W); kernel (KH, KW) */
void ref_scatter(double *out, int out_rows, int out_cols, const double *x, int rows, int cols,
                 const double *kernel, int k_rows, int k_cols, int stride, int padding);

/* The ordinary convolution (no kernel flip), zeros outside x.
 * out (OH, OW) with OH, OW from ref_conv_size; x (H, W); kernel (KH, KW) */
void ref_conv2d(double *out, int out_rows, int out_cols, const double *x, int rows, int cols,
                const double *kernel, int k_rows, int k_cols, int stride, int padding);

/* The matrix C of the ordinary convolution that maps an (OH, OW) image to an (H, W) one,
 * built column by column as C e_j = conv(e_j), e_j the j-th unit image.
 * C (H·W, OH·OW), kernel (KH, KW) */
void ref_conv_matrix(double *C, int rows, int cols, int out_rows, int out_cols,
                     const double *kernel, int k_rows, int k_cols, int stride, int padding);

/* The input with s − 1 zeros between neighbours and KH − 1 − p zero rows before it (columns
 * likewise), (OH + KH − 1, OW + KW − 1) in all; a negative border crops.
 * padded (OH + KH − 1, OW + KW − 1), x (H, W) */
void ref_zero_insert(double *padded, int padded_rows, int padded_cols, const double *x, int rows,
                     int cols, int k_rows, int k_cols, int stride, int padding);

#endif
