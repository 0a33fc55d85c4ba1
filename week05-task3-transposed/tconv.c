/* tconv.c: the transposed convolution three ways, and its shape arithmetic (see tconv_exercise.h).
 *
 * Shape legend: H, W input; KH, KW kernel; OH, OW output; s stride, p padding, a output padding.
 */
#include "tconv_exercise.h"

#include <stdlib.h>
#include <string.h>

#include "io/cli.h"
#include "error.h"

tconv_matrix *tconv_matrix_alloc(int rows, int cols)
{
    if (rows < 1 || cols < 1) {
        AE_ERROR(AE_EINVAL, "a matrix needs at least one row and one column, not %dx%d", rows, cols);
        return NULL;
    }
    tconv_matrix *m = malloc(sizeof *m);
    double *data = calloc((size_t)rows * (size_t)cols, sizeof *data);
    if (!m || !data) {
        free(m);
        free(data);
        AE_ERROR(AE_ENOMEM, "out of memory for a %dx%d matrix", rows, cols);
        return NULL;
    }
    m->rows = rows;
    m->cols = cols;
    m->data = data;
    return m;
}

void tconv_matrix_free(tconv_matrix *m)
{
    if (!m) return;
    free(m->data);
    free(m);
}

int tconv_parse_matrix(tconv_matrix **out, const char *text, const char *what, int max_side)
{
    *out = NULL;
    if (!text || !text[0])
        return AE_ERROR(AE_EINVAL, "%s is empty; give rows separated by ';' and values by ',', e.g. \"0,1;2,3\"",
                        what);
    double *values = malloc((size_t)max_side * (size_t)max_side * sizeof *values);
    char *row_text = malloc(strlen(text) + 1);
    if (!values || !row_text) {
        free(values);
        free(row_text);
        return AE_ERROR(AE_ENOMEM, "out of memory while reading %s", what);
    }
    int rows = 0, cols = 0, rc = AE_OK;
    for (const char *p = text;;) {
        const char *semicolon = strchr(p, ';');
        size_t len = semicolon ? (size_t)(semicolon - p) : strlen(p);
        memcpy(row_text, p, len);
        row_text[len] = '\0';
        if (rows == max_side) {
            rc = AE_ERROR(AE_EINVAL, "%s has more than %d rows", what, max_side);
            break;
        }
        if (len == 0 || strspn(row_text, " ") == len) {
            rc = AE_ERROR(AE_EINVAL, "%s: row %d is empty (rows are separated by ';', e.g. \"0,1;2,3\")",
                          what, rows + 1);
            break;
        }
        char label[128];
        snprintf(label, sizeof label, "%s, row %d", what, rows + 1);
        int n = 0;
        /* every row is read into its own slot of max_side values; packed below */
        rc = parse_double_list(row_text, label, values + (size_t)rows * (size_t)max_side, max_side, &n);
        if (rc != AE_OK) break;
        if (rows > 0 && n != cols) {
            rc = AE_ERROR(AE_EINVAL, "%s is ragged: row %d has %d value%s but row 1 has %d; every row needs "
                          "the same number of values", what, rows + 1, n, n == 1 ? "" : "s", cols);
            break;
        }
        cols = n;
        rows++;
        if (!semicolon) break;
        p = semicolon + 1;
    }
    free(row_text);
    if (rc == AE_OK) {
        tconv_matrix *m = tconv_matrix_alloc(rows, cols);
        if (!m) {
            rc = error_code();
        } else {
            for (int r = 0; r < rows; r++)
                memcpy(m->data + (size_t)r * cols, values + (size_t)r * max_side, (size_t)cols * sizeof *values);
            *out = m;
        }
    }
    free(values);
    return rc;
}

/* ------------------------------------------------------- shape arithmetic */
/* floor(a / b) for b > 0, also for negative a (C's '/' rounds towards zero). */
static long floor_div(long a, long b)
{
    long q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

long tconv_conv_out_size(long in, long k, long s, long p)
{
    return floor_div(in + 2 * p - k, s) + 1;
}

long tconv_transposed_out_size(long in, long k, long s, long p, long a)
{
    return s * (in - 1) + k - 2 * p + a; /* SOLUTION: Task 3: the size formula */
}

long tconv_keras_same_conv_out_size(long in, long s)
{
    return (in + s - 1) / s;
}

long tconv_keras_same_transposed_out_size(long in, long s)
{
    return in * s;
}

long tconv_keras_valid_conv_out_size(long in, long k, long s)
{
    return floor_div(in - k, s) + 1;
}

long tconv_keras_valid_transposed_out_size(long in, long k, long s)
{
    return in * s + (k > s ? k - s : 0);
}

long tconv_output_padding_for(long in, long k, long s, long p)
{
    long span = in + 2 * p - k;
    return span - s * floor_div(span, s);
}

/* The checks every function shares: sizes, stride, padding and output padding in their domains. */
static int check_params(int in_rows, int in_cols, int k_rows, int k_cols, const tconv_params *prm,
                        int transposed)
{
    if (in_rows < 1 || in_cols < 1)
        return AE_ERROR(AE_EINVAL, "the input must have at least one row and one column, not %dx%d",
                        in_rows, in_cols);
    if (k_rows < 1 || k_cols < 1)
        return AE_ERROR(AE_EINVAL, "the kernel must have at least one row and one column, not %dx%d",
                        k_rows, k_cols);
    if (prm->stride < 1)
        return AE_ERROR(AE_EDOM, "stride %d is below 1; the stride is a step of at least one pixel",
                        prm->stride);
    if (prm->padding < 0)
        return AE_ERROR(AE_EDOM, "padding %d is negative; use 0 or more", prm->padding);
    if (transposed && (prm->output_padding < 0 || prm->output_padding >= prm->stride))
        return AE_ERROR(AE_EDOM, "output padding %d must be at least 0 and smaller than the stride %d "
                        "(it picks one of the s output sizes that a stride-%d convolution maps to the same size)",
                        prm->output_padding, prm->stride, prm->stride);
    return AE_OK;
}

int tconv_transposed_check(int *out_rows, int *out_cols, int in_rows, int in_cols,
                           int k_rows, int k_cols, const tconv_params *prm)
{
    int rc = check_params(in_rows, in_cols, k_rows, k_cols, prm, 1);
    if (rc != AE_OK) return rc;
    long s = prm->stride, p = prm->padding, a = prm->output_padding;
    long rows = tconv_transposed_out_size(in_rows, k_rows, s, p, a);
    long cols = tconv_transposed_out_size(in_cols, k_cols, s, p, a);
    if (rows < 1 || cols < 1) {
        /* the largest p that leaves one row and one column: s(i − 1) + k + a − 2p >= 1 */
        long full_rows = tconv_transposed_out_size(in_rows, k_rows, s, 0, a);
        long full_cols = tconv_transposed_out_size(in_cols, k_cols, s, 0, a);
        long largest = ((full_rows < full_cols ? full_rows : full_cols) - 1) / 2;
        return AE_ERROR(AE_EDOM, "padding %ld crops the whole output away: s(i-1) + k - 2p + a gives %ldx%ld; "
                        "use a padding of at most %ld here", p, rows, cols, largest);
    }
    if (rows > 1L << 20 || cols > 1L << 20 || rows * cols > 1L << 26)
        return AE_ERROR(AE_EDOM, "the output would be %ldx%ld, too large", rows, cols);
    *out_rows = (int)rows;
    *out_cols = (int)cols;
    return AE_OK;
}

int tconv_conv_check(int *out_rows, int *out_cols, int in_rows, int in_cols,
                     int k_rows, int k_cols, const tconv_params *prm)
{
    int rc = check_params(in_rows, in_cols, k_rows, k_cols, prm, 0);
    if (rc != AE_OK) return rc;
    long rows = tconv_conv_out_size(in_rows, k_rows, prm->stride, prm->padding);
    long cols = tconv_conv_out_size(in_cols, k_cols, prm->stride, prm->padding);
    if (rows < 1 || cols < 1)
        return AE_ERROR(AE_EDOM, "the %dx%d kernel does not fit into the %dx%d input padded by %d",
                        k_rows, k_cols, in_rows, in_cols, prm->padding);
    *out_rows = (int)rows;
    *out_cols = (int)cols;
    return AE_OK;
}

static int check_out_shape(const tconv_matrix *out, int rows, int cols, const char *who)
{
    if (out->rows != rows || out->cols != cols)
        return AE_ERROR(AE_EBADLEN, "%s: the output is %dx%d but must be %dx%d",
                        who, out->rows, out->cols, rows, cols);
    return AE_OK;
}

/* ------------------------------------------------- the ordinary convolution */
int tconv_conv2d(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,
                 const tconv_params *prm)
{
    int out_rows, out_cols;
    int rc = tconv_conv_check(&out_rows, &out_cols, in->rows, in->cols, kernel->rows, kernel->cols, prm);
    if (rc != AE_OK) return rc;
    if ((rc = check_out_shape(out, out_rows, out_cols, "tconv_conv2d")) != AE_OK) return rc;
    const int s = prm->stride, p = prm->padding;
    for (int oh = 0; oh < out_rows; oh++) {
        for (int ow = 0; ow < out_cols; ow++) {
            double sum = 0.0;
            for (int kh = 0; kh < kernel->rows; kh++) {
                int ih = oh * s - p + kh;
                if (ih < 0 || ih >= in->rows) continue;     /* a padding zero */
                for (int kw = 0; kw < kernel->cols; kw++) {
                    int iw = ow * s - p + kw;
                    if (iw < 0 || iw >= in->cols) continue;
                    sum += kernel->data[kh * kernel->cols + kw] * in->data[ih * in->cols + iw];
                }
            }
            out->data[oh * out_cols + ow] = sum;
        }
    }
    return AE_OK;
}

/* ------------------------------------------- the transposed convolution, 1 */
int tconv_scatter(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,
                  const tconv_params *prm)
{
    int out_rows, out_cols;
    int rc = tconv_transposed_check(&out_rows, &out_cols, in->rows, in->cols, kernel->rows, kernel->cols, prm);
    if (rc != AE_OK) return rc;
    if ((rc = check_out_shape(out, out_rows, out_cols, "tconv_scatter")) != AE_OK) return rc;
    /* BEGIN SOLUTION: Task 3: the scatter */
    const int s = prm->stride, p = prm->padding;
    memset(out->data, 0, (size_t)out_rows * out_cols * sizeof *out->data);
    for (int ih = 0; ih < in->rows; ih++) {
        for (int iw = 0; iw < in->cols; iw++) {
            double x = in->data[ih * in->cols + iw];
            /* x · K lands on the window whose top-left corner is (ih·s − p, iw·s − p) */
            for (int kh = 0; kh < kernel->rows; kh++) {
                int oh = ih * s - p + kh;
                if (oh < 0 || oh >= out_rows) continue;     /* cropped by the padding */
                for (int kw = 0; kw < kernel->cols; kw++) {
                    int ow = iw * s - p + kw;
                    if (ow < 0 || ow >= out_cols) continue;
                    out->data[oh * out_cols + ow] += x * kernel->data[kh * kernel->cols + kw];
                }
            }
        }
    }
    return AE_OK;
    /* END SOLUTION */
}

/* ------------------------------------------- the transposed convolution, 2 */
/* BEGIN SOLUTION: Task 3: zero insertion */
/* Index into the input of padded row/column r, or −1 for an inserted or padding zero. */
static int source_index(int r, int border, int stride, int in_size)
{
    int t = r - border;
    if (t < 0 || t % stride != 0 || t / stride >= in_size) return -1;
    return t / stride;
}
/* END SOLUTION */

int tconv_zero_insert(tconv_matrix *padded, const tconv_matrix *in, int k_rows, int k_cols,
                      const tconv_params *prm)
{
    int out_rows, out_cols;
    int rc = tconv_transposed_check(&out_rows, &out_cols, in->rows, in->cols, k_rows, k_cols, prm);
    if (rc != AE_OK) return rc;
    rc = check_out_shape(padded, out_rows + k_rows - 1, out_cols + k_cols - 1, "tconv_zero_insert");
    if (rc != AE_OK) return rc;
    /* BEGIN SOLUTION: Task 3: zero insertion */
    /* k − 1 − p zeros before the first input value: a full padding of k − 1, less what p crops */
    const int border_rows = k_rows - 1 - prm->padding, border_cols = k_cols - 1 - prm->padding;
    for (int r = 0; r < padded->rows; r++) {
        int ih = source_index(r, border_rows, prm->stride, in->rows);
        for (int c = 0; c < padded->cols; c++) {
            int iw = source_index(c, border_cols, prm->stride, in->cols);
            padded->data[r * padded->cols + c] = (ih >= 0 && iw >= 0) ? in->data[ih * in->cols + iw] : 0.0;
        }
    }
    return AE_OK;
    /* END SOLUTION */
}

int tconv_flip(tconv_matrix *flipped, const tconv_matrix *kernel)
{
    int rc = check_out_shape(flipped, kernel->rows, kernel->cols, "tconv_flip");
    if (rc != AE_OK) return rc;
    /* BEGIN SOLUTION: Task 3: zero insertion */
    for (int kh = 0; kh < kernel->rows; kh++)
        for (int kw = 0; kw < kernel->cols; kw++)
            flipped->data[kh * kernel->cols + kw] =
                kernel->data[(kernel->rows - 1 - kh) * kernel->cols + (kernel->cols - 1 - kw)];
    return AE_OK;
    /* END SOLUTION */
}

int tconv_by_zero_insertion(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,
                            const tconv_params *prm)
{
    int out_rows, out_cols;
    int rc = tconv_transposed_check(&out_rows, &out_cols, in->rows, in->cols, kernel->rows, kernel->cols, prm);
    if (rc != AE_OK) return rc;
    if ((rc = check_out_shape(out, out_rows, out_cols, "tconv_by_zero_insertion")) != AE_OK) return rc;
    /* BEGIN SOLUTION: Task 3: zero insertion */
    tconv_matrix *padded = tconv_matrix_alloc(out_rows + kernel->rows - 1, out_cols + kernel->cols - 1);
    tconv_matrix *flipped = tconv_matrix_alloc(kernel->rows, kernel->cols);
    if (!padded || !flipped) {
        tconv_matrix_free(padded);
        tconv_matrix_free(flipped);
        return AE_ERROR(AE_ENOMEM, "out of memory for the zero-inserted input");
    }
    const tconv_params plain = { .stride = 1, .padding = 0, .output_padding = 0 };
    rc = tconv_zero_insert(padded, in, kernel->rows, kernel->cols, prm);
    if (rc == AE_OK) rc = tconv_flip(flipped, kernel);
    if (rc == AE_OK) rc = tconv_conv2d(out, padded, flipped, &plain);   /* stride 1, no padding */
    tconv_matrix_free(padded);
    tconv_matrix_free(flipped);
    return rc;
    /* END SOLUTION */
}

/* ------------------------------------------- the transposed convolution, 3 */
int tconv_conv_matrix(tconv_matrix *C, const tconv_matrix *kernel, int in_rows, int in_cols,
                      int out_rows, int out_cols, const tconv_params *prm)
{
    int rows, cols;
    int rc = tconv_transposed_check(&rows, &cols, in_rows, in_cols, kernel->rows, kernel->cols, prm);
    if (rc != AE_OK) return rc;
    if (rows != out_rows || cols != out_cols)
        return AE_ERROR(AE_EBADLEN, "tconv_conv_matrix: a %dx%d input gives a %dx%d output, not %dx%d",
                        in_rows, in_cols, rows, cols, out_rows, out_cols);
    if ((rc = check_out_shape(C, in_rows * in_cols, out_rows * out_cols, "tconv_conv_matrix")) != AE_OK)
        return rc;
    const int s = prm->stride, p = prm->padding;
    memset(C->data, 0, (size_t)C->rows * C->cols * sizeof *C->data);
    /* row (h, w): the ordinary convolution's output pixel, reading image pixels (h·s − p + kh, w·s − p + kw) */
    for (int h = 0; h < in_rows; h++)
        for (int w = 0; w < in_cols; w++)
            for (int kh = 0; kh < kernel->rows; kh++) {
                int r = h * s - p + kh;
                if (r < 0 || r >= out_rows) continue;
                for (int kw = 0; kw < kernel->cols; kw++) {
                    int c = w * s - p + kw;
                    if (c < 0 || c >= out_cols) continue;
                    C->data[(size_t)(h * in_cols + w) * C->cols + (size_t)(r * out_cols + c)] =
                        kernel->data[kh * kernel->cols + kw];
                }
            }
    return AE_OK;
}

int tconv_by_matrix(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,
                    const tconv_params *prm, long max_entries)
{
    int out_rows, out_cols;
    int rc = tconv_transposed_check(&out_rows, &out_cols, in->rows, in->cols, kernel->rows, kernel->cols, prm);
    if (rc != AE_OK) return rc;
    if ((rc = check_out_shape(out, out_rows, out_cols, "tconv_by_matrix")) != AE_OK) return rc;
    long n_in = (long)in->rows * in->cols, n_out = (long)out_rows * out_cols;
    if (n_in * n_out > max_entries)
        return AE_ERROR(AE_EDOM, "the convolution matrix would be %ldx%ld, more than %ld entries",
                        n_in, n_out, max_entries);
    tconv_matrix *C = tconv_matrix_alloc((int)n_in, (int)n_out);
    if (!C) return error_code();
    rc = tconv_conv_matrix(C, kernel, in->rows, in->cols, out_rows, out_cols, prm);
    if (rc == AE_OK) {
        /* out_j = Σ_i C[i, j] · in_i: row i of C is spread out with weight in_i */
        memset(out->data, 0, (size_t)n_out * sizeof *out->data);
        for (long i = 0; i < n_in; i++) {
            double x = in->data[i];
            const double *row = C->data + (size_t)i * n_out;
            for (long j = 0; j < n_out; j++) out->data[j] += row[j] * x;
        }
    }
    tconv_matrix_free(C);
    return rc;
}

/* -------------------------------------------------------- helpers, checks */
int tconv_dot(double *result, const tconv_matrix *a, const tconv_matrix *b)
{
    if (a->rows != b->rows || a->cols != b->cols)
        return AE_ERROR(AE_EBADLEN, "tconv_dot: %dx%d and %dx%d differ in shape", a->rows, a->cols, b->rows, b->cols);
    double sum = 0.0;
    for (long i = 0; i < (long)a->rows * a->cols; i++) sum += a->data[i] * b->data[i];
    *result = sum;
    return AE_OK;
}

double tconv_max_abs_diff(const tconv_matrix *a, const tconv_matrix *b)
{
    if (a->rows != b->rows || a->cols != b->cols) return -1.0;
    double worst = 0.0;
    for (long i = 0; i < (long)a->rows * a->cols; i++) {
        double d = a->data[i] - b->data[i];
        if (d < 0) d = -d;
        if (d > worst) worst = d;
    }
    return worst;
}

/* ------------------------------------------------------ parameter counts */
long tconv_param_count(int k_rows, int k_cols, int in_channels, int out_channels)
{
    return ((long)k_rows * k_cols * in_channels + 1) * out_channels;
}

int tconv_kernel_from_params(int *k, long params, int in_channels, int out_channels)
{
    if (in_channels < 1 || out_channels < 1 || params < 1)
        return AE_ERROR(AE_EDOM, "the parameter count and both channel counts must be positive");
    /* params / C_out − 1 = k²·C_in, so both divisions must be exact */
    if (params % out_channels != 0)
        return AE_ERROR(AE_EDOM, "%ld parameters cannot come from %d output channels: %ld is not a multiple of %d",
                        params, out_channels, params, out_channels);
    long weights_per_output = params / out_channels - 1;
    if (weights_per_output < in_channels || weights_per_output % in_channels != 0)
        return AE_ERROR(AE_EDOM, "%ld parameters: %ld weights per output channel are not k*k*%d for any k >= 1",
                        params, weights_per_output, in_channels);
    long k_squared = weights_per_output / in_channels;
    long root = 1;
    while ((root + 1) * (root + 1) <= k_squared) root++;
    if (root * root != k_squared)
        return AE_ERROR(AE_EDOM, "%ld parameters: k*k would have to be %ld, which is not a square",
                        params, k_squared);
    *k = (int)root;
    return AE_OK;
}
