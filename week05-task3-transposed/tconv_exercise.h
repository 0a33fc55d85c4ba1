/* tconv_exercise.h: the transposed convolution, worked out three ways.
 *
 * Everything here is single channel and double precision, written as plain
 * loops so that each line can be checked by hand. The library's multi-channel
 * float version is conv2d_transpose_forward in common/layers.h.
 *
 * Shape legend
 *   H, W    input rows and columns           KH, KW  kernel rows and columns
 *   OH, OW  output rows and columns          s  stride, p  padding, a  output padding
 *
 * The convention (the same as the library's, PyTorch's and Keras'):
 *   ordinary convolution   out[oh,ow] = Σ_{kh,kw} K[kh,kw] · x[oh·s − p + kh, ow·s − p + kw]
 *                          (zeros outside x; no kernel flip: deep learning's "convolution")
 *   transposed             out[ih·s − p + kh, iw·s − p + kw] += K[kh,kw] · x[ih,iw]
 *                          (positions outside [0,OH) x [0,OW) are dropped)
 * so that, with the same K, s and p, the transposed one is the adjoint of the
 * ordinary one: it multiplies by Cᵀ where the ordinary one multiplies by C.
 *
 * Functions return AE_OK, or an AE_* code after recording a message (error.h).
 * Outputs are allocated by the caller with the sizes the *_check functions give.
 */
#ifndef TCONV_EXERCISE_H
#define TCONV_EXERCISE_H

/* A single-channel matrix, row-major. */
typedef struct {
    int rows, cols;
    double *data;     /* (rows, cols) */
} tconv_matrix;

/* The hyper-parameters shared by the ordinary and the transposed convolution. */
typedef struct {
    int stride;           /* s >= 1, the same along both axes */
    int padding;          /* p >= 0 on every side: zeros added (ordinary), rows/columns cropped (transposed) */
    int output_padding;   /* 0 <= a < s: extra rows/columns at the bottom/right of a transposed output */
} tconv_params;

/* Zero-filled rows x cols matrix; NULL (with a message) for a bad size or no memory. */
tconv_matrix *tconv_matrix_alloc(int rows, int cols);
void tconv_matrix_free(tconv_matrix *m);                      /* NULL is a no-op */

/* Parses "0,1;2,3" (rows separated by ';', values by ','), at most max_side rows and
 * columns. AE_EINVAL naming `what` for an empty matrix, an empty row or value, a value
 * that is not a finite number, or ragged rows. */
int tconv_parse_matrix(tconv_matrix **out, const char *text, const char *what, int max_side);

/* ------------------------------------------------------- shape arithmetic */
/* Ordinary convolution: o = floor((i + 2p − k)/s) + 1 (may be <= 0: no output). */
long tconv_conv_out_size(long in, long k, long s, long p);
/* Transposed convolution: o = s(i − 1) + k − 2p + a (may be <= 0: no output). */
long tconv_transposed_out_size(long in, long k, long s, long p, long a);
/* Keras' padding='same': ordinary o = ceil(i/s); transposed o = i·s. */
long tconv_keras_same_conv_out_size(long in, long s);
long tconv_keras_same_transposed_out_size(long in, long s);
/* Keras' padding='valid': ordinary o = floor((i − k)/s) + 1; transposed o = i·s + max(k − s, 0). */
long tconv_keras_valid_conv_out_size(long in, long k, long s);
long tconv_keras_valid_transposed_out_size(long in, long k, long s);
/* The output padding a in [0, s) that makes the transposed convolution return to size
 * `in` after an ordinary one took `in` to floor((in + 2p − k)/s) + 1: a = (in + 2p − k) mod s. */
long tconv_output_padding_for(long in, long k, long s, long p);

/* Checks the parameters of a transposed convolution of an (H, W) input with a (KH, KW)
 * kernel and gives its output size. AE_EDOM for s < 1, p < 0, a < 0 or a >= s, or a
 * padding that crops the whole output away; AE_EINVAL for sizes < 1. */
int tconv_transposed_check(int *out_rows, int *out_cols, int in_rows, int in_cols,
                           int k_rows, int k_cols, const tconv_params *prm);
/* The same for an ordinary convolution (output_padding is ignored). AE_EDOM when the
 * kernel does not fit into the padded input. */
int tconv_conv_check(int *out_rows, int *out_cols, int in_rows, int in_cols,
                     int k_rows, int k_cols, const tconv_params *prm);

/* ------------------------------------------------- the ordinary convolution */
/* out[oh,ow] = Σ K[kh,kw] · in[oh·s − p + kh, ow·s − p + kw]
 * out (OH, OW) from tconv_conv_check, in (H, W), kernel (KH, KW) */
int tconv_conv2d(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,
                 const tconv_params *prm);

/* ------------------------------------------- the transposed convolution, 1 */
/* The definition: every input value times the kernel, added into its output window.
 * out[ih·s − p + kh, iw·s − p + kw] += K[kh,kw] · in[ih,iw]
 * out (OH, OW) from tconv_transposed_check, in (H, W), kernel (KH, KW) */
int tconv_scatter(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,
                  const tconv_params *prm);

/* ------------------------------------------- the transposed convolution, 2 */
/* The input with s − 1 zeros inserted between neighbours and q = KH − 1 − p zero rows
 * on top (q + a below; likewise columns): Z[r,c] = in[(r−q)/s, (c−q)/s] where both
 * divide evenly, else 0. A negative q crops instead of padding.
 * padded (OH + KH − 1, OW + KW − 1), in (H, W) */
int tconv_zero_insert(tconv_matrix *padded, const tconv_matrix *in, int k_rows, int k_cols,
                      const tconv_params *prm);
/* The kernel turned by 180 degrees: flipped[kh,kw] = K[KH−1−kh, KW−1−kw]. flipped, kernel (KH, KW) */
int tconv_flip(tconv_matrix *flipped, const tconv_matrix *kernel);
/* out = stride-1, unpadded ordinary convolution of tconv_zero_insert(in) with the flipped kernel.
 * out (OH, OW), in (H, W), kernel (KH, KW). Allocates its scratch (AE_ENOMEM). */
int tconv_by_zero_insertion(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,
                            const tconv_params *prm);

/* ------------------------------------------- the transposed convolution, 3 */
/* C, the matrix of the ordinary convolution (same kernel, s, p) that maps an (OH, OW)
 * image to an (H, W) one: conv(x) = C · vec(x), vec row-major.
 * Row h·W + w, column r·OW + c holds K[r − h·s + p, c − w·s + p] when that lies in the kernel, else 0.
 * C (H·W, OH·OW), kernel (KH, KW) */
int tconv_conv_matrix(tconv_matrix *C, const tconv_matrix *kernel, int in_rows, int in_cols,
                      int out_rows, int out_cols, const tconv_params *prm);
/* vec(out) = Cᵀ · vec(in): the transposed convolution as a matrix product.
 * out (OH, OW), in (H, W), kernel (KH, KW). Allocates C (AE_ENOMEM; AE_EDOM when C
 * would have more than max_entries entries). */
int tconv_by_matrix(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,
                    const tconv_params *prm, long max_entries);

/* -------------------------------------------------------- helpers, checks */
/* Σ a[i]·b[i] over two matrices of the same shape (AE_EBADLEN otherwise). */
int tconv_dot(double *result, const tconv_matrix *a, const tconv_matrix *b);
/* max |a[i] − b[i]| over two matrices of the same shape; −1 when the shapes differ. */
double tconv_max_abs_diff(const tconv_matrix *a, const tconv_matrix *b);

/* ------------------------------------------------------ parameter counts */
/* (KH·KW·C_in + 1)·C_out: the weights of every (input, output) channel pair plus one
 * bias per output channel. The same for a convolution and a transposed convolution. */
long tconv_param_count(int k_rows, int k_cols, int in_channels, int out_channels);
/* Solves (k·k·C_in + 1)·C_out = params for a whole k >= 1. AE_EDOM when there is none. */
int tconv_kernel_from_params(int *k, long params, int in_channels, int out_channels);

#endif
