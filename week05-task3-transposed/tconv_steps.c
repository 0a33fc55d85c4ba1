/* tconv_steps.c: the walk-through of week05-task3-transposed, its five steps, and the program's two
 * other modes, one transposed convolution (--input) and the size arithmetic (--shape): each
 * printed, written to results.tsv and drawn as heat maps (see tconv_steps.h).
 *
 * Shape legend: H, W input; KH, KW kernel; OH, OW output; s stride; p padding; a output padding.
 */
#include "tconv_steps.h"
#include "error.h"
#include "io/fileio.h"
#include "io/plot.h"
#include "layers.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OUTPUT_VALUES 1000000L     /* output values the program computes and writes */
#define MAX_MATRIX_ENTRIES 4000000L    /* the explicit C of the matrix method: 32 MB of doubles */
#define PRINT_MAX_SIDE 16              /* larger grids go to results.tsv only */
#define MAX_GRIDS 6

static FILE *report;                   /* stdout, or /dev/null with --quiet (tconv_report_to) */

void tconv_report_to(FILE *out) { report = out; }

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(report, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ printing */
typedef struct {
    const char *title;
    const tconv_matrix *m;     /* (rows, cols) */
} grid;

/* One cell as printed: 6 significant digits, and no "-0". */
static void format_cell(char *buf, size_t len, double v)
{
    if (v == 0.0) v = 0.0;
    snprintf(buf, len, "%.6g", v);
}

static int too_large(const tconv_matrix *m)
{
    return m->rows > PRINT_MAX_SIDE || m->cols > PRINT_MAX_SIDE;
}

static int cell_width(const tconv_matrix *m)
{
    int width = 1;
    char buf[32];
    for (long i = 0; i < (long)m->rows * m->cols; i++) {
        format_cell(buf, sizeof buf, m->data[i]);
        int len = (int)strlen(buf);
        if (len > width) width = len;
    }
    return width;
}

/* Row r of grid g as text (empty below its last row). */
static void grid_line(char *line, size_t len, const tconv_matrix *m, int width, int r)
{
    size_t at = 0;
    line[0] = '\0';
    if (too_large(m)) {
        if (r == 0) snprintf(line, len, "(%dx%d: in results.tsv)", m->rows, m->cols);
        return;
    }
    if (r >= m->rows) return;
    for (int c = 0; c < m->cols && at + 40 < len; c++) {
        char cell[32];
        format_cell(cell, sizeof cell, m->data[r * m->cols + c]);
        at += (size_t)snprintf(line + at, len - at, "%s%*s", c ? " " : "", width, cell);
    }
}

/* Appends `text` left-aligned in `width` columns (plus a gap) to line; the caller strips the end. */
static void append_block(char *line, size_t len, const char *text, int width)
{
    size_t at = strlen(line);
    if (at < len) snprintf(line + at, len - at, "%-*s    ", width, text);
}

static void say_stripped(char *line)
{
    size_t end = strlen(line);
    while (end > 0 && line[end - 1] == ' ') end--;
    line[end] = '\0';
    say("%s\n", line);
}

/* Prints a few small matrices side by side, each under its title. */
static void print_grids(const grid *grids, int n)
{
    int widths[MAX_GRIDS], blocks[MAX_GRIDS], tall = 1;
    char cells[1024], line[4096];
    if (n > MAX_GRIDS) n = MAX_GRIDS;
    for (int g = 0; g < n; g++) {
        const tconv_matrix *m = grids[g].m;
        widths[g] = cell_width(m);
        grid_line(cells, sizeof cells, m, widths[g], 0);
        int body = (int)strlen(cells), title = (int)strlen(grids[g].title);
        blocks[g] = body > title ? body : title;
        if (!too_large(m) && m->rows > tall) tall = m->rows;
    }
    snprintf(line, sizeof line, "   ");
    for (int g = 0; g < n; g++) append_block(line, sizeof line, grids[g].title, blocks[g]);
    say_stripped(line);
    for (int r = 0; r < tall; r++) {
        snprintf(line, sizeof line, "   ");
        for (int g = 0; g < n; g++) {
            grid_line(cells, sizeof cells, grids[g].m, widths[g], r);
            append_block(line, sizeof line, cells, blocks[g]);
        }
        say_stripped(line);
    }
    say("\n");
}

static void print_one(const char *title, const tconv_matrix *m)
{
    grid g = { title, m };
    print_grids(&g, 1);
}

/* ------------------------------------------------------------- results */
/* key = row-major values "%.17g" joined by ',', key_shape = "HxW" (or out / out_shape for key "out"). */
static int add_matrix(results *r, const char *key, const tconv_matrix *m)
{
    size_t n = (size_t)m->rows * m->cols, cap = n * 26 + 1, at = 0;
    char *text = malloc(cap);
    if (!text) return AE_ERROR(AE_ENOMEM, "out of memory for result %s", key);
    for (size_t i = 0; i < n; i++) {
        double v = m->data[i] == 0.0 ? 0.0 : m->data[i];
        at += (size_t)snprintf(text + at, cap - at, "%s%.17g", i ? "," : "", v);
    }
    char shape_key[128], shape[64];
    snprintf(shape_key, sizeof shape_key, "%s_shape", key);
    snprintf(shape, sizeof shape, "%dx%d", m->rows, m->cols);
    int rc = results_add_text(r, shape_key, shape);
    if (rc == AE_OK) rc = results_add_text(r, key, text);
    free(text);
    return rc;
}

static int add_double(results *r, const char *prefix, const char *name, double value)
{
    char key[160];
    snprintf(key, sizeof key, "%s_%s", prefix, name);
    return results_add_double(r, key, value);
}

static int add_int(results *r, const char *prefix, const char *name, long value)
{
    char key[160];
    snprintf(key, sizeof key, "%s_%s", prefix, name);
    return results_add_int(r, key, value);
}

static int add_text(results *r, const char *prefix, const char *name, const char *value)
{
    char key[160];
    snprintf(key, sizeof key, "%s_%s", prefix, name);
    return results_add_text(r, key, value);
}

/* -------------------------------------------------- the library's version */
/* The library's float, multi-channel conv2d_transpose_forward with one channel in and out.
 * out (OH, OW) from tconv_transposed_check, in (H, W), kernel (KH, KW) */
static int library_transposed(tconv_matrix *out, const tconv_matrix *in, const tconv_matrix *kernel,
                              const tconv_params *prm)
{
    conv_geom g;
    int rc = conv2d_transpose_geom(&g, 1, in->rows, in->cols, 1, kernel->rows, kernel->cols,
                                   prm->stride, PAD_EXPLICIT, prm->padding, prm->output_padding);
    if (rc != AE_OK) return rc;
    if (g.out_h != out->rows || g.out_w != out->cols)
        return AE_ERROR(AE_EBADLEN, "the library gives a %dx%d output, the formula %dx%d",
                        g.out_h, g.out_w, out->rows, out->cols);
    size_t n_in = (size_t)in->rows * in->cols, n_k = (size_t)kernel->rows * kernel->cols;
    size_t n_out = (size_t)out->rows * out->cols;
    float *buf = malloc((n_in + n_k + n_out + 1) * sizeof *buf);
    if (!buf) return AE_ERROR(AE_ENOMEM, "out of memory for the library's transposed convolution");
    float *x = buf, *w = x + n_in, *y = w + n_k, bias = 0.0f;
    for (size_t i = 0; i < n_in; i++) x[i] = (float)in->data[i];
    for (size_t i = 0; i < n_k; i++) w[i] = (float)kernel->data[i];
    conv2d_transpose_forward(y, x, w, &bias, &g, 1);
    for (size_t i = 0; i < n_out; i++) out->data[i] = y[i];
    free(buf);
    return AE_OK;
}

/* ------------------------------------------------------ three ways at once */
typedef struct {
    tconv_matrix *scatter;          /* (OH, OW) the definition */
    tconv_matrix *zero_insertion;   /* (OH, OW) zero-insertion + padding + flipped-kernel convolution */
    tconv_matrix *matrix;           /* (OH, OW) Cᵀ · x; NULL when C would be too large */
    tconv_matrix *library;          /* (OH, OW) conv2d_transpose_forward in float */
    double diff_zero_insertion, diff_matrix, diff_library, scale;
} three_ways;

static void three_ways_free(three_ways *t)
{
    tconv_matrix_free(t->scatter);
    tconv_matrix_free(t->zero_insertion);
    tconv_matrix_free(t->matrix);
    tconv_matrix_free(t->library);
    memset(t, 0, sizeof *t);
}

static int three_ways_compute(three_ways *t, const tconv_matrix *x, const tconv_matrix *kernel,
                              const tconv_params *prm)
{
    memset(t, 0, sizeof *t);
    int rows, cols;
    int rc = tconv_transposed_check(&rows, &cols, x->rows, x->cols, kernel->rows, kernel->cols, prm);
    if (rc != AE_OK) return rc;
    long entries = (long)x->rows * x->cols * rows * cols;
    t->scatter = tconv_matrix_alloc(rows, cols);
    t->zero_insertion = tconv_matrix_alloc(rows, cols);
    t->library = tconv_matrix_alloc(rows, cols);
    if (entries <= MAX_MATRIX_ENTRIES) t->matrix = tconv_matrix_alloc(rows, cols);
    if (!t->scatter || !t->zero_insertion || !t->library || (entries <= MAX_MATRIX_ENTRIES && !t->matrix)) {
        three_ways_free(t);
        return AE_ERROR(AE_ENOMEM, "out of memory for a %dx%d output", rows, cols);
    }
    if ((rc = tconv_scatter(t->scatter, x, kernel, prm)) != AE_OK ||
        (rc = tconv_by_zero_insertion(t->zero_insertion, x, kernel, prm)) != AE_OK ||
        (t->matrix && (rc = tconv_by_matrix(t->matrix, x, kernel, prm, MAX_MATRIX_ENTRIES)) != AE_OK) ||
        (rc = library_transposed(t->library, x, kernel, prm)) != AE_OK) {
        three_ways_free(t);
        return rc;
    }
    t->diff_zero_insertion = tconv_max_abs_diff(t->scatter, t->zero_insertion);
    t->diff_matrix = t->matrix ? tconv_max_abs_diff(t->scatter, t->matrix) : NAN;
    t->diff_library = tconv_max_abs_diff(t->scatter, t->library);
    t->scale = 0.0;
    for (long i = 0; i < (long)rows * cols; i++) t->scale = fmax(t->scale, fabs(t->scatter->data[i]));
    return AE_OK;
}

/* One line: how far the other three lie from the scatter definition. */
static void print_agreement(const three_ways *t)
{
    say("   agreement with the scatter definition (max |difference|):\n");
    say("     zero insertion + flipped kernel  %.3g\n", t->diff_zero_insertion);
    if (t->matrix) say("     C^T times x (explicit matrix)    %.3g\n", t->diff_matrix);
    else say("     C^T times x (explicit matrix)    skipped: C would exceed %ld entries\n", MAX_MATRIX_ENTRIES);
    say("     library, float32                 %.3g (%.3g relative to the largest |value| %.6g)\n\n",
        t->diff_library, t->scale > 0 ? t->diff_library / t->scale : 0.0, t->scale);
}

static int add_agreement(results *r, const char *prefix, const three_ways *t)
{
    int rc = add_double(r, prefix, "max_abs_diff_zero_insertion", t->diff_zero_insertion);
    if (rc == AE_OK && t->matrix) rc = add_double(r, prefix, "max_abs_diff_matrix", t->diff_matrix);
    if (rc == AE_OK) rc = add_double(r, prefix, "max_abs_diff_library", t->diff_library);
    return rc;
}

/* Computes, prints and records one transposed convolution of the walk-through. */
static int walk_case(results *r, const char *key, const char *title, const tconv_matrix *x,
                     const tconv_matrix *kernel, const tconv_params *prm, three_ways *t)
{
    int rc = three_ways_compute(t, x, kernel, prm);
    if (rc != AE_OK) return rc;
    say("   s = %d, p = %d, a = %d:  OH = s(H-1) + KH - 2p + a = %d*(%d-1) + %d - 2*%d + %d = %d,"
        "  OW = %d*(%d-1) + %d - 2*%d + %d = %d\n\n",
        prm->stride, prm->padding, prm->output_padding,
        prm->stride, x->rows, kernel->rows, prm->padding, prm->output_padding, t->scatter->rows,
        prm->stride, x->cols, kernel->cols, prm->padding, prm->output_padding, t->scatter->cols);
    char out_title[96];
    snprintf(out_title, sizeof out_title, "%s (%dx%d)", title, t->scatter->rows, t->scatter->cols);
    print_one(out_title, t->scatter);
    print_agreement(t);
    char out_key[128];
    snprintf(out_key, sizeof out_key, "%s_out", key);
    if ((rc = add_matrix(r, out_key, t->scatter)) != AE_OK) return rc;
    return add_agreement(r, key, t);
}

/* -------------------------------------------------------------- figures */
/* Heat maps of a few matrices, `cols` panels per row, each with its values written in
 * the cells: NAME.dat holds one gnuplot data block (index) per panel. */
static int write_heatmaps(const char *dir, const char *name, const char *title, const grid *panels,
                          int n, int cols, int width, int height)
{
    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;
    fprintf(dat.fp, "# %s: %d matrices, one block each (gnuplot 'index'); rows of the block are the matrix rows\n",
            name, n);
    for (int i = 0; i < n; i++) {
        const tconv_matrix *m = panels[i].m;
        fprintf(dat.fp, "%s# %s\n", i ? "\n\n" : "", panels[i].title);
        for (int rr = 0; rr < m->rows; rr++)
            for (int c = 0; c < m->cols; c++)
                fprintf(dat.fp, "%.10g%c", m->data[rr * m->cols + c] == 0.0 ? 0.0 : m->data[rr * m->cols + c],
                        c + 1 < m->cols ? ' ' : '\n');
    }
    int rows = (n + cols - 1) / cols;
    plot_script_begin(gp.fp, name, NULL, width, height);
    fprintf(gp.fp, "# every panel: the matrix as an image, its values written in the cells; row 0 at the top\n");
    fprintf(gp.fp, "unset colorbox\n");
    fprintf(gp.fp, "set tics scale 0 font ',9'\n");
    fprintf(gp.fp, "set xlabel 'column (pixel)' font ',9' offset 0,0.5\n");
    fprintf(gp.fp, "set ylabel 'row (pixel)' font ',9' offset 1.5,0\n");
    fprintf(gp.fp, "set size ratio -1\n");
    fprintf(gp.fp, "set multiplot layout %d,%d title '%s' font ',14'\n", rows, cols, title);
    for (int i = 0; i < n; i++) {
        const tconv_matrix *m = panels[i].m;
        int side = m->rows > m->cols ? m->rows : m->cols;
        int label_font = side <= 4 ? 12 : side <= 8 ? 10 : 8;
        double lo = m->data[0], hi = m->data[0];
        for (long v = 1; v < (long)m->rows * m->cols; v++) {
            lo = fmin(lo, m->data[v]);
            hi = fmax(hi, m->data[v]);
        }
        if (lo < 0.0) {   /* signed values: red below zero, white at zero, blue above */
            hi = fmax(-lo, hi);
            lo = -hi;
            fprintf(gp.fp, "set palette defined (0 '#e6836f', 1 '#ffffff', 2 '#6baed6')\n");
        } else {
            fprintf(gp.fp, "set palette defined (0 '#ffffff', 1 '#c6dbef', 2 '#6baed6')\n");
        }
        if (hi <= lo) { lo -= 1.0; hi += 1.0; }     /* a constant matrix: its one colour mid-scale */
        int tic_step = side <= 16 ? 1 : side / 8;
        fprintf(gp.fp, "set title '%s' font ',11'\n", panels[i].title);
        fprintf(gp.fp, "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\nset cbrange [%.10g:%.10g]\n",
                m->cols - 1, m->rows - 1, lo, hi);
        fprintf(gp.fp, "set xtics 0,%d,%d\nset ytics 0,%d,%d\n", tic_step, m->cols - 1, tic_step, m->rows - 1);
        if (m->rows >= 2 && m->cols >= 2)
            fprintf(gp.fp, "plot '%s.dat' index %d matrix with image notitle", name, i);
        else   /* 'with image' needs two pixels along each axis: one filled box per cell instead */
            fprintf(gp.fp, "plot '%s.dat' index %d matrix using 1:2:(0.5):(0.5):3 with boxxyerror "
                           "fs solid 1.0 noborder fc palette notitle", name, i);
        if (side <= PRINT_MAX_SIDE)    /* values in the cells while they still fit */
            fprintf(gp.fp, ", \\\n     '' index %d matrix using 1:2:(sprintf('%%.3g', $3)) with labels font ',%d' notitle",
                    i, label_font);
        fprintf(gp.fp, "\n");
    }
    fprintf(gp.fp, "unset multiplot\n");
    return plot_commit_pair(&dat, &gp);
}

/* ------------------------------------------------------------ the steps */
/* x with every value but (i, j) set to zero: one input value's share of the output. */
static int one_value(tconv_matrix *only, const tconv_matrix *x, int i, int j)
{
    memset(only->data, 0, (size_t)only->rows * only->cols * sizeof *only->data);
    only->data[i * x->cols + j] = x->data[i * x->cols + j];
    return AE_OK;
}

static int step1_scatter(results *r, const tconv_matrix *x, const tconv_matrix *kernel)
{
    const tconv_params prm = { 1, 0, 0 };
    say("Step 1. The scatter view\n"
        "   A transposed convolution takes every input value x[i,j], multiplies the whole kernel\n"
        "   K by it, and adds the product into the output window whose top-left corner is\n"
        "   (i*s - p, j*s - p). Here stride s = 1, padding p = 0, output padding a = 0.\n\n");
    grid inputs[] = { { "input x (2x2)", x }, { "kernel K (2x2)", kernel } };
    print_grids(inputs, 2);

    int rows, cols;
    int rc = tconv_transposed_check(&rows, &cols, x->rows, x->cols, kernel->rows, kernel->cols, &prm);
    if (rc != AE_OK) return rc;
    tconv_matrix *only = tconv_matrix_alloc(x->rows, x->cols);
    tconv_matrix *parts[4] = { NULL, NULL, NULL, NULL };
    tconv_matrix *sum = tconv_matrix_alloc(rows, cols);
    char titles[5][48];
    grid shares[5];
    int n = 0;
    if (!only || !sum) rc = error_code();
    for (int i = 0; rc == AE_OK && i < x->rows; i++)
        for (int j = 0; rc == AE_OK && j < x->cols && n < 4; j++, n++) {
            parts[n] = tconv_matrix_alloc(rows, cols);
            if (!parts[n]) { rc = error_code(); break; }
            one_value(only, x, i, j);
            rc = tconv_scatter(parts[n], only, kernel, &prm);
            snprintf(titles[n], sizeof titles[n], "x[%d,%d]=%g times K", i, j, x->data[i * x->cols + j]);
            shares[n] = (grid){ titles[n], parts[n] };
        }
    if (rc == AE_OK) rc = tconv_scatter(sum, x, kernel, &prm);
    if (rc == AE_OK) {
        say("   The four shares, each placed at its window, and their sum:\n\n");
        snprintf(titles[4], sizeof titles[4], "sum = conv^T(x)");
        shares[n] = (grid){ titles[4], sum };
        print_grids(shares, n + 1);
        const double *xv = x->data, *kv = kernel->data;
        say("   Output size: OH = s(H-1) + KH - 2p + a = 1*(%d-1) + %d - 0 + 0 = %d, and likewise OW = %d.\n"
            "   Each output pixel sums the products that landed on it; the centre (1,1) gets\n"
            "   x[0,0]*K[1,1] + x[0,1]*K[1,0] + x[1,0]*K[0,1] + x[1,1]*K[0,0] = %g*%g + %g*%g + %g*%g + %g*%g = %g.\n\n",
            x->rows, kernel->rows, rows, cols, xv[0], kv[3], xv[1], kv[2], xv[2], kv[1], xv[3], kv[0],
            sum->data[1 * cols + 1]);
        rc = add_matrix(r, "step1_scatter_out", sum);
    }
    tconv_matrix_free(only);
    tconv_matrix_free(sum);
    for (int k = 0; k < 4; k++) tconv_matrix_free(parts[k]);
    return rc;
}

/* <C x, y> against <x, C^T y> on random data: the ordinary convolution and the transposed
 * one are computed by their own loops, so the identity is a real test of the pair. */
static int adjoint_check(results *r, gsl_rng *rng)
{
    const tconv_params prm = { 2, 1, 1 };
    tconv_matrix *kernel = tconv_matrix_alloc(3, 2);
    tconv_matrix *y = tconv_matrix_alloc(3, 4);       /* the transposed convolution's input */
    tconv_matrix *x = NULL, *cx = NULL, *cty = NULL;
    int rc = (!kernel || !y) ? error_code() : AE_OK;
    int rows = 0, cols = 0;
    if (rc == AE_OK) rc = tconv_transposed_check(&rows, &cols, 3, 4, 3, 2, &prm);
    if (rc == AE_OK) {
        x = tconv_matrix_alloc(rows, cols);            /* the ordinary convolution's input */
        cx = tconv_matrix_alloc(3, 4);
        cty = tconv_matrix_alloc(rows, cols);
        if (!x || !cx || !cty) rc = error_code();
    }
    if (rc == AE_OK) {
        for (int i = 0; i < 6; i++) kernel->data[i] = gsl_rng_uniform(rng) * 2 - 1;
        for (int i = 0; i < 12; i++) y->data[i] = gsl_rng_uniform(rng) * 2 - 1;
        for (int i = 0; i < rows * cols; i++) x->data[i] = gsl_rng_uniform(rng) * 2 - 1;
        rc = tconv_conv2d(cx, x, kernel, &prm);
    }
    if (rc == AE_OK) rc = tconv_scatter(cty, y, kernel, &prm);
    double lhs = 0, rhs = 0;
    if (rc == AE_OK) rc = tconv_dot(&lhs, cx, y);
    if (rc == AE_OK) rc = tconv_dot(&rhs, x, cty);
    if (rc == AE_OK) {
        say("   The adjoint identity <C x, y> = <x, C^T y>, on random data (seeded, uniform in [-1, 1]):\n"
            "   a 3x2 kernel, stride 2, padding 1, output padding 1; x is %dx%d, y is 3x4.\n"
            "   C x is the ordinary convolution of x (its own loops), C^T y the scatter of y.\n"
            "     <C x, y>   = %.17g\n"
            "     <x, C^T y> = %.17g\n"
            "     difference = %.3g\n\n", rows, cols, lhs, rhs, lhs - rhs);
        rc = results_add_double(r, "step2_adjoint_cx_dot_y", lhs);
        if (rc == AE_OK) rc = results_add_double(r, "step2_adjoint_x_dot_cty", rhs);
        if (rc == AE_OK) rc = results_add_double(r, "step2_adjoint_difference", lhs - rhs);
    }
    tconv_matrix_free(kernel);
    tconv_matrix_free(y);
    tconv_matrix_free(x);
    tconv_matrix_free(cx);
    tconv_matrix_free(cty);
    return rc;
}

/* conv(conv^T(x)) next to x, and C C^T next to the identity. */
static int not_an_inverse(results *r, const tconv_matrix *x, const tconv_matrix *kernel, const tconv_matrix *C)
{
    const tconv_params prm = { 1, 0, 0 };
    int rows, cols, back_rows, back_cols;
    int rc = tconv_transposed_check(&rows, &cols, x->rows, x->cols, kernel->rows, kernel->cols, &prm);
    if (rc != AE_OK) return rc;
    if ((rc = tconv_conv_check(&back_rows, &back_cols, rows, cols, kernel->rows, kernel->cols, &prm)) != AE_OK)
        return rc;
    tconv_matrix *up = tconv_matrix_alloc(rows, cols);
    tconv_matrix *back = tconv_matrix_alloc(back_rows, back_cols);
    tconv_matrix *cct = tconv_matrix_alloc(C->rows, C->rows);
    if (!up || !back || !cct) rc = error_code();
    if (rc == AE_OK) rc = tconv_scatter(up, x, kernel, &prm);
    if (rc == AE_OK) rc = tconv_conv2d(back, up, kernel, &prm);
    if (rc == AE_OK) {
        for (int i = 0; i < C->rows; i++)
            for (int j = 0; j < C->rows; j++) {
                double sum = 0.0;
                for (int k = 0; k < C->cols; k++) sum += C->data[i * C->cols + k] * C->data[j * C->cols + k];
                cct->data[i * C->rows + j] = sum;
            }
        double diff = tconv_max_abs_diff(back, x);
        say("   Not an inverse. The transposed convolution gives a map with the shape of the\n"
            "   convolution's input, but not the input itself: convolving conv^T(x) again does not\n"
            "   return x. C is 4x9, so C C^T is 4x4, and it is not the identity:\n\n");
        grid g[] = { { "x", x }, { "conv^T(x)", up }, { "conv(conv^T(x))", back }, { "C C^T", cct } };
        print_grids(g, 4);
        say("   max |conv(conv^T(x)) - x| = %g. Only the shapes are restored; the values are not.\n\n", diff);
        rc = add_matrix(r, "step2_conv_of_transposed_out", back);
        if (rc == AE_OK) rc = results_add_double(r, "step2_not_inverse_max_abs_diff", diff);
        if (rc == AE_OK) rc = add_matrix(r, "step2_c_ct", cct);
    }
    tconv_matrix_free(up);
    tconv_matrix_free(back);
    tconv_matrix_free(cct);
    return rc;
}

static int step2_three_ways(results *r, const tconv_matrix *x, const tconv_matrix *kernel, gsl_rng *rng)
{
    const tconv_params prm = { 1, 0, 0 };
    say("Step 2. The same result three independent ways\n\n");
    three_ways t;
    int rc = three_ways_compute(&t, x, kernel, &prm);
    if (rc != AE_OK) return rc;
    int rows = t.scatter->rows, cols = t.scatter->cols;
    tconv_matrix *padded = tconv_matrix_alloc(rows + kernel->rows - 1, cols + kernel->cols - 1);
    tconv_matrix *flipped = tconv_matrix_alloc(kernel->rows, kernel->cols);
    tconv_matrix *C = tconv_matrix_alloc(x->rows * x->cols, rows * cols);
    if (!padded || !flipped || !C) rc = error_code();
    if (rc == AE_OK) rc = tconv_zero_insert(padded, x, kernel->rows, kernel->cols, &prm);
    if (rc == AE_OK) rc = tconv_flip(flipped, kernel);
    if (rc == AE_OK) rc = tconv_conv_matrix(C, kernel, x->rows, x->cols, rows, cols, &prm);
    if (rc == AE_OK) {
        say("   (a) Zero insertion and padding, then an ordinary convolution with the flipped kernel.\n"
            "       Put s-1 = 0 zeros between neighbouring input values and k-1-p = 1 zero row or\n"
            "       column around them, turn the kernel by 180 degrees, and slide it with stride 1:\n\n");
        grid g[] = { { "padded input Z (4x4)", padded }, { "flipped K", flipped },
                     { "Z conv flipped K (3x3)", t.zero_insertion } };
        print_grids(g, 3);
        say("   (b) Multiplication by C^T. The ordinary convolution with the same K, s and p maps a\n"
            "       %dx%d image to a %dx%d one; written as a matrix C (row = output pixel (h,w) as h*%d+w,\n"
            "       column = image pixel (r,c) as r*%d+c) it is:\n\n", rows, cols, x->rows, x->cols, x->cols, cols);
        char c_title[48], ct_title[48];
        snprintf(c_title, sizeof c_title, "C (%dx%d)", C->rows, C->cols);
        snprintf(ct_title, sizeof ct_title, "C^T vec(x) (%dx%d)", rows, cols);
        print_one(c_title, C);
        say("       conv^T(x) = C^T vec(x), with vec(x) = (");
        for (int i = 0; i < x->rows * x->cols; i++) say("%s%g", i ? ", " : "", x->data[i]);
        say(") row by row, reshaped:\n\n");
        print_one(ct_title, t.matrix);
        say("   (c) The scatter of step 1, the two results above, and the library's float version:\n\n");
        print_agreement(&t);
        rc = add_matrix(r, "step2_zero_insertion_out", t.zero_insertion);
    }
    if (rc == AE_OK) rc = add_matrix(r, "step2_padded_input", padded);
    if (rc == AE_OK) rc = add_matrix(r, "step2_matrix_out", t.matrix);
    if (rc == AE_OK) rc = add_matrix(r, "step2_conv_matrix", C);
    if (rc == AE_OK) rc = add_agreement(r, "step2", &t);
    if (rc == AE_OK) rc = adjoint_check(r, rng);
    if (rc == AE_OK) rc = not_an_inverse(r, x, kernel, C);
    tconv_matrix_free(padded);
    tconv_matrix_free(flipped);
    tconv_matrix_free(C);
    three_ways_free(&t);
    return rc;
}

/* The overlap count: conv^T of an all-ones n x n input with an all-ones k x k kernel. */
static int overlap_counts(results *r, const char *key, int n, int k, const tconv_params *prm, tconv_matrix **out)
{
    tconv_matrix *ones = tconv_matrix_alloc(n, n), *kernel = tconv_matrix_alloc(k, k);
    int rows, cols, rc = (!ones || !kernel) ? error_code() : AE_OK;
    *out = NULL;
    if (rc == AE_OK) rc = tconv_transposed_check(&rows, &cols, n, n, k, k, prm);
    if (rc == AE_OK && !(*out = tconv_matrix_alloc(rows, cols))) rc = error_code();
    if (rc == AE_OK) {
        for (int i = 0; i < n * n; i++) ones->data[i] = 1.0;
        for (int i = 0; i < k * k; i++) kernel->data[i] = 1.0;
        rc = tconv_scatter(*out, ones, kernel, prm);
    }
    if (rc == AE_OK) rc = add_matrix(r, key, *out);
    tconv_matrix_free(ones);
    tconv_matrix_free(kernel);
    return rc;
}

static int step3_stride_padding(results *r, const tconv_matrix *x, const tconv_matrix *kernel,
                                tconv_matrix **stride2_out, tconv_matrix **overlap3, tconv_matrix **overlap4)
{
    say("Step 3. Stride, padding and output padding\n\n"
        "   (a) Stride 2: the windows of neighbouring input values start 2 pixels apart.\n"
        "       As zero insertion: one zero between neighbours, k-1-p = 1 around them.\n\n");
    const tconv_params s2 = { 2, 0, 0 }, s2p1 = { 2, 1, 0 }, s2p1a1 = { 2, 1, 1 };
    three_ways t;
    int rc;
    {
        int rows, cols;
        if ((rc = tconv_transposed_check(&rows, &cols, x->rows, x->cols, kernel->rows, kernel->cols, &s2)) != AE_OK)
            return rc;
        tconv_matrix *padded = tconv_matrix_alloc(rows + kernel->rows - 1, cols + kernel->cols - 1);
        if (!padded) return error_code();
        rc = tconv_zero_insert(padded, x, kernel->rows, kernel->cols, &s2);
        if (rc == AE_OK) {
            print_one("zero-inserted, padded input Z (5x5)", padded);
            rc = add_matrix(r, "step3_stride2_padded_input", padded);
        }
        tconv_matrix_free(padded);
        if (rc != AE_OK) return rc;
    }
    if ((rc = walk_case(r, "step3_stride2", "conv^T(x), stride 2", x, kernel, &s2, &t)) != AE_OK) return rc;
    *stride2_out = t.scatter;
    t.scatter = NULL;
    three_ways_free(&t);

    say("   (b) Padding p crops p rows and columns from every side of the full output: the\n"
        "       transposed convolution undoes the shape change of a convolution padded by p.\n");
    if ((rc = walk_case(r, "step3_stride2_padding1", "stride 2, padding 1", x, kernel, &s2p1, &t)) != AE_OK)
        return rc;
    three_ways_free(&t);

    long small = tconv_transposed_out_size(x->rows, kernel->rows, 2, 1, 0);
    long large = tconv_transposed_out_size(x->rows, kernel->rows, 2, 1, 1);
    long down = tconv_conv_out_size(small, kernel->rows, 2, 1);
    if (tconv_conv_out_size(large, kernel->rows, 2, 1) != down)
        return AE_ERROR(AE_ENUMERIC, "the output padding example lost its point: %ld and %ld differ", small, large);
    say("   (c) Output padding a adds a rows and columns at the bottom and right. A stride-s\n"
        "       convolution maps s different sizes to the same output size (here, k = %d, p = 1:\n"
        "       both %ld and %ld pixels become %ld), so the way back needs a to choose one.\n",
        kernel->rows, small, large, down);
    if ((rc = walk_case(r, "step3_stride2_padding1_outpad1", "stride 2, padding 1, output padding 1",
                        x, kernel, &s2p1a1, &t)) != AE_OK)
        return rc;
    three_ways_free(&t);

    say("   (d) Uneven overlap. With an all-ones 4x4 input and an all-ones kernel, each output pixel\n"
        "       counts the windows that cover it. Kernel 3 with stride 2 (3 is not a multiple of 2)\n"
        "       gives counts that alternate 1, 2, 1, 2 along each axis (1, 2, 4 in the plane): the\n"
        "       checkerboard pattern. Kernel 4 with stride 2 covers the inside evenly.\n"
        "       (stride 2, padding 1, output padding 1 for k = 3 and 0 for k = 4: both give 8x8)\n\n");
    const tconv_params k3 = { 2, 1, 1 }, k4 = { 2, 1, 0 };
    if ((rc = overlap_counts(r, "step3_overlap_k3_s2_out", 4, 3, &k3, overlap3)) != AE_OK) return rc;
    if ((rc = overlap_counts(r, "step3_overlap_k4_s2_out", 4, 4, &k4, overlap4)) != AE_OK) return rc;
    grid g[] = { { "counts, kernel 3, stride 2", *overlap3 }, { "counts, kernel 4, stride 2", *overlap4 } };
    print_grids(g, 2);
    return AE_OK;
}

/* Windows of size k that fit into i + 2p positions at steps of s, counted one by one. */
static long count_windows(long i, long k, long s, long p)
{
    long n = 0;
    for (long start = -p; start + k <= i + p; start += s) n++;
    return n;
}

typedef struct {
    const char *key, *name;
    int i, k, s, p;
} relationship;

/* One row of the table: formulas, then the operations run on random data. */
static int relationship_row(results *r, const relationship *rel, gsl_rng *rng)
{
    long o = tconv_conv_out_size(rel->i, rel->k, rel->s, rel->p);
    long a = tconv_output_padding_for(rel->i, rel->k, rel->s, rel->p);
    long back = tconv_transposed_out_size(o, rel->k, rel->s, rel->p, a);
    long border = rel->k - 1 - rel->p;
    /* the transposed convolution as a direct one: s-1 zeros inserted, k-1-p padding, kernel k, stride 1 */
    long direct = (rel->s * (o - 1) + 1) + 2 * border + a - rel->k + 1;
    long windows = count_windows(rel->i, rel->k, rel->s, rel->p);

    const tconv_params prm = { rel->s, rel->p, (int)a };
    conv_geom g_conv, g_tr;
    int rc = conv2d_geom(&g_conv, 1, rel->i, rel->i, 1, rel->k, rel->k, rel->s, PAD_EXPLICIT, rel->p);
    if (rc == AE_OK)
        rc = conv2d_transpose_geom(&g_tr, 1, (int)o, (int)o, 1, rel->k, rel->k, rel->s, PAD_EXPLICIT, rel->p, (int)a);
    if (rc != AE_OK) return rc;

    /* run both: x (i x i) -> C x (o x o); y (o x o) -> C^T y (i x i); the adjoint identity ties them */
    tconv_matrix *x = tconv_matrix_alloc(rel->i, rel->i), *kernel = tconv_matrix_alloc(rel->k, rel->k);
    tconv_matrix *cx = tconv_matrix_alloc((int)o, (int)o), *y = tconv_matrix_alloc((int)o, (int)o);
    tconv_matrix *cty = tconv_matrix_alloc(rel->i, rel->i);
    three_ways t = { 0 };
    double lhs = 0, rhs = 0;
    if (!x || !kernel || !cx || !y || !cty) rc = error_code();
    if (rc == AE_OK) {
        for (int n = 0; n < rel->i * rel->i; n++) x->data[n] = gsl_rng_uniform(rng) * 2 - 1;
        for (int n = 0; n < rel->k * rel->k; n++) kernel->data[n] = gsl_rng_uniform(rng) * 2 - 1;
        for (long n = 0; n < o * o; n++) y->data[n] = gsl_rng_uniform(rng) * 2 - 1;
        rc = tconv_conv2d(cx, x, kernel, &prm);
    }
    if (rc == AE_OK) rc = tconv_scatter(cty, y, kernel, &prm);
    if (rc == AE_OK) rc = tconv_dot(&lhs, cx, y);
    if (rc == AE_OK) rc = tconv_dot(&rhs, x, cty);
    if (rc == AE_OK) rc = three_ways_compute(&t, y, kernel, &prm);
    int verified = rc == AE_OK && windows == o && g_conv.out_h == o && g_tr.out_h == back && back == rel->i &&
                   direct == back && fabs(lhs - rhs) < 1e-12 && t.diff_zero_insertion < 1e-12 &&
                   t.diff_matrix < 1e-12 && t.diff_library < 1e-5 * fmax(1.0, t.scale);
    if (rc == AE_OK) {
        say("   %-30s %3d %3d %3d %3d | %3ld | %3ld %5ld | %4ld %6ld | %-3s  %.1e\n",
            rel->name, rel->i, rel->k, rel->s, rel->p, o, a, back, border, direct, verified ? "yes" : "NO",
            fabs(lhs - rhs));
        const char *pre = rel->key;
        char prefix[96];
        snprintf(prefix, sizeof prefix, "step4_rel_%s", pre);
        if ((rc = add_int(r, prefix, "i", rel->i)) == AE_OK && (rc = add_int(r, prefix, "k", rel->k)) == AE_OK &&
            (rc = add_int(r, prefix, "s", rel->s)) == AE_OK && (rc = add_int(r, prefix, "p", rel->p)) == AE_OK &&
            (rc = add_int(r, prefix, "o", o)) == AE_OK && (rc = add_int(r, prefix, "a", a)) == AE_OK &&
            (rc = add_int(r, prefix, "transposed_out", back)) == AE_OK &&
            (rc = add_double(r, prefix, "adjoint_difference", lhs - rhs)) == AE_OK)
            rc = add_int(r, prefix, "verified", verified);
    }
    three_ways_free(&t);
    tconv_matrix_free(x);
    tconv_matrix_free(kernel);
    tconv_matrix_free(cx);
    tconv_matrix_free(y);
    tconv_matrix_free(cty);
    if (rc == AE_OK && !verified)
        return AE_ERROR(AE_ENUMERIC, "the '%s' row of the table did not verify", rel->name);
    return rc;
}

typedef struct {
    const char *label;     /* as in Keras */
    char kind;             /* 'c' Conv2D, 't' Conv2DTranspose, 'f' Flatten, 'd' Dense, 'r' Reshape */
    int filters, k, s;     /* filters = output channels or features */
} shape_step;

/* The shapes through a model, from the library's geometry functions (Keras 'same'). */
static int model_shapes(results *r, const char *key, const char *title, int h, int w, int c,
                        const shape_step *layers, int n)
{
    say("   %s\n", title);
    say("     %-41s %-12s %10s   %s\n", "layer", "output", "parameters", "how");
    char shape[48];
    snprintf(shape, sizeof shape, "%dx%dx%d", h, w, c);
    say("     %-41s %-12s %10d\n", "input", shape, 0);
    long total = 0;
    int features = 0, reshape_h = 0, reshape_w = 0, reshape_c = 0;
    for (int i = 0; i < n; i++) {
        const shape_step *L = &layers[i];
        long params = 0;
        char how[96] = "";
        int rc = AE_OK;
        conv_geom g;
        if (L->kind == 'c' || L->kind == 't') {
            if (L->kind == 'c')
                rc = conv2d_geom(&g, c, h, w, L->filters, L->k, L->k, L->s, PAD_SAME, 0);
            else
                rc = conv2d_transpose_geom(&g, c, h, w, L->filters, L->k, L->k, L->s, PAD_SAME, 0, 0);
            if (rc != AE_OK) return rc;
            long expect = L->kind == 'c' ? tconv_keras_same_conv_out_size(h, L->s)
                                          : tconv_keras_same_transposed_out_size(h, L->s);
            if (g.out_h != expect)
                return AE_ERROR(AE_ENUMERIC, "%s: the library gives %d rows, the formula %ld", L->label, g.out_h, expect);
            params = tconv_param_count(L->k, L->k, c, L->filters);
            snprintf(how, sizeof how, "(%d*%d*%d + 1)*%d", L->k, L->k, c, L->filters);
            h = g.out_h;
            w = g.out_w;
            c = g.out_c;
            snprintf(shape, sizeof shape, "%dx%dx%d", h, w, c);
        } else if (L->kind == 'f') {
            reshape_h = h;
            reshape_w = w;
            reshape_c = c;
            features = h * w * c;
            snprintf(shape, sizeof shape, "%d", features);
        } else if (L->kind == 'd') {
            params = ((long)features + 1) * L->filters;
            snprintf(how, sizeof how, "(%d + 1)*%d", features, L->filters);
            features = L->filters;
            snprintf(shape, sizeof shape, "%d", features);
        } else {   /* reshape back to the shape before flattening */
            h = reshape_h;
            w = reshape_w;
            c = reshape_c;
            snprintf(shape, sizeof shape, "%dx%dx%d", h, w, c);
        }
        total += params;
        char row[256];
        snprintf(row, sizeof row, "     %-41s %-12s %10ld   %s", L->label, shape, params, how);
        say_stripped(row);
        char prefix[96];
        snprintf(prefix, sizeof prefix, "%s_layer%d", key, i + 1);
        if ((rc = add_text(r, prefix, "shape", shape)) != AE_OK) return rc;
        if ((rc = add_int(r, prefix, "params", params)) != AE_OK) return rc;
    }
    say("     %-41s %-12s %10ld\n\n", "total", "", total);
    return add_int(r, key, "total_params", total);
}

/* Step 4, Keras' paddings: the size formulas and the two named paddings. */
static int step4_keras(results *r)
{
    say("Step 4. Shape arithmetic\n\n"
        "   Along each axis, with input size i, kernel k, stride s, padding p, output padding a:\n"
        "     ordinary convolution     o = floor((i + 2p - k)/s) + 1\n"
        "     transposed convolution   o = s(i - 1) + k - 2p + a,   0 <= a < s\n"
        "   Keras names two paddings instead of giving p:\n"
        "     'same'   convolution o = ceil(i/s)               transposed o = i*s\n"
        "     'valid'  convolution o = floor((i - k)/s) + 1    transposed o = i*s + max(k - s, 0)\n");
    long same_c = tconv_keras_same_conv_out_size(28, 2), same_t = tconv_keras_same_transposed_out_size(7, 2);
    long valid_c = tconv_keras_valid_conv_out_size(28, 3, 2), valid_t = tconv_keras_valid_transposed_out_size(7, 3, 2);
    conv_geom g_same, g_valid;
    int rc = conv2d_transpose_geom(&g_same, 1, 7, 7, 1, 3, 3, 2, PAD_SAME, 0, 0);
    if (rc == AE_OK) rc = conv2d_transpose_geom(&g_valid, 1, 7, 7, 1, 3, 3, 2, PAD_VALID, 0, 0);
    if (rc != AE_OK) return rc;
    say("   Example, k = 3, s = 2: a 28-pixel side becomes %ld ('same') or %ld ('valid');\n"
        "   a 7-pixel side becomes %ld ('same') or %ld ('valid') through the transposed one\n"
        "   (the library's conv2d_transpose_geom says %d and %d).\n\n",
        same_c, valid_c, same_t, valid_t, g_same.out_h, g_valid.out_h);
    if ((rc = results_add_int(r, "step4_keras_same_conv_28_k3_s2", same_c)) != AE_OK ||
        (rc = results_add_int(r, "step4_keras_valid_conv_28_k3_s2", valid_c)) != AE_OK ||
        (rc = results_add_int(r, "step4_keras_same_transposed_7_k3_s2", same_t)) != AE_OK ||
        (rc = results_add_int(r, "step4_keras_valid_transposed_7_k3_s2", valid_t)) != AE_OK)
        return rc;
    return AE_OK;
}

/* Step 4, the relationships: each convolution of a table and its transpose, checked every way. */
static int step4_relationships(results *r, gsl_rng *rng)
{
    int rc = AE_OK;
    say("   The relationships. Each row: a convolution takes i to o; its transpose, with the\n"
        "   output padding a = (i + 2p - k) mod s, takes o back to i. The transpose is also an\n"
        "   ordinary stride-1 convolution of o with s-1 zeros inserted and k-1-p padding\n"
        "   ('border'; negative means cropping), whose size is in 'direct'. 'verified': the\n"
        "   formulas agree with counting the windows, with the library's geometry, with running\n"
        "   both operations (the adjoint identity holds to 1e-12, last column) and with the three\n"
        "   ways of computing the transpose.\n\n");
    say("   %-30s %3s %3s %3s %3s | %3s | %3s %5s | %4s %6s | %s\n",
        "case", "i", "k", "s", "p", "o", "a", "o->i", "bord", "direct", "verified, |adjoint diff|");
    const relationship rels[] = {
        { "no_padding", "no padding, unit stride", 4, 3, 1, 0 },
        { "padding", "padding, unit stride", 5, 4, 1, 2 },
        { "half", "half (same) padding", 5, 3, 1, 1 },
        { "full", "full padding", 5, 3, 1, 2 },
        { "stride", "no padding, stride 2", 5, 3, 2, 0 },
        { "padding_stride", "padding, stride 2", 5, 3, 2, 1 },
        { "odd", "padding, stride 2, odd size", 6, 3, 2, 1 },
    };
    for (size_t i = 0; i < sizeof rels / sizeof rels[0]; i++)
        if ((rc = relationship_row(r, &rels[i], rng)) != AE_OK) return rc;
    say("\n   Full padding (p = k-1) is the transpose of no padding, and the other way round;\n"
        "   'same' stays 'same'. The odd row needs a = 1: a stride-2 convolution sends both 5\n"
        "   and 6 pixels to 3.\n\n");
    return AE_OK;
}

/* Step 4, the models: the shapes through the course's two convolutional autoencoders. */
static int step4_models(results *r)
{
    int rc;
    const shape_step fmnist[] = {
        { "Conv2D(16, 3, strides=2, same)", 'c', 16, 3, 2 },
        { "Conv2D(8, 3, strides=2, same)", 'c', 8, 3, 2 },
        { "Conv2DTranspose(8, 3, strides=2, same)", 't', 8, 3, 2 },
        { "Conv2DTranspose(16, 3, strides=2, same)", 't', 16, 3, 2 },
        { "Conv2D(1, 3, same)", 'c', 1, 3, 1 },
    };
    const shape_step lecture[] = {
        { "Conv2D(32, 3, strides=2, same)", 'c', 32, 3, 2 },
        { "Conv2D(64, 3, strides=2, same)", 'c', 64, 3, 2 },
        { "Conv2D(128, 3, strides=2, same)", 'c', 128, 3, 2 },
        { "Flatten", 'f', 0, 0, 0 },
        { "Dense(2)  (the latent code)", 'd', 2, 0, 0 },
        { "Dense(2048)", 'd', 2048, 0, 0 },
        { "Reshape(4, 4, 128)", 'r', 0, 0, 0 },
        { "Conv2DTranspose(128, 3, strides=2, same)", 't', 128, 3, 2 },
        { "Conv2DTranspose(64, 3, strides=2, same)", 't', 64, 3, 2 },
        { "Conv2DTranspose(32, 3, strides=2, same)", 't', 32, 3, 2 },
        { "Conv2D(1, 3, same)", 'c', 1, 3, 1 },
    };
    say("   Shapes through two models (height x width x channels, from the library's geometry):\n\n");
    if ((rc = model_shapes(r, "step4_fmnist", "The Fashion-MNIST convolutional autoencoder, 28 -> 14 -> 7 -> 14 -> 28:",
                           28, 28, 1, fmnist, 5)) != AE_OK)
        return rc;
    return model_shapes(r, "step4_lecture32", "The lecture's 32x32 model (the AE; the VAE's decoder is the same):",
                        32, 32, 1, lecture, 11);
}

static int step5_parameters(results *r)
{
    say("Step 5. Parameter counts\n\n"
        "   A layer with a k x k kernel, C_in input and C_out output channels has k*k*C_in weights\n"
        "   for each output channel and one bias each: (k*k*C_in + 1)*C_out. A transposed\n"
        "   convolution has the same weights, only used the other way (layout C_in, C_out, k, k).\n");
    long conv = tconv_param_count(3, 3, 16, 8), transposed = tconv_param_count(3, 3, 8, 16);
    say("     Conv2D(8, 3) on 16 channels:           (3*3*16 + 1)*8 = %ld\n"
        "     Conv2DTranspose(16, 3) on 8 channels:  (3*3*8 + 1)*16 = %ld\n"
        "   Both hold the same %d weights (the transposed layer is the way back of the first one);\n"
        "   only the biases differ, one per output channel: 8 against 16.\n\n", conv, transposed, 3 * 3 * 16 * 8);
    int k = 0;
    int rc = tconv_kernel_from_params(&k, 588, 3, 12);
    if (rc != AE_OK) return rc;
    long check = tconv_param_count(k, k, 3, 12);
    say("   The course notes' example: a first layer with C_in = 3, C_out = 12 and 588 parameters.\n"
        "     (k*k*3 + 1)*12 = 588  =>  k*k*3 + 1 = %d  =>  k*k = %d  =>  k = %d\n"
        "     check: (%d*%d*3 + 1)*12 = %ld\n", 588 / 12, (588 / 12 - 1) / 3, k, k, k, check);
    if ((rc = results_add_int(r, "step5_conv_params_k3_cin16_cout8", conv)) != AE_OK) return rc;
    if ((rc = results_add_int(r, "step5_transposed_params_k3_cin8_cout16", transposed)) != AE_OK) return rc;
    if ((rc = results_add_int(r, "step5_588_kernel_size", k)) != AE_OK) return rc;
    return results_add_int(r, "step5_588_check", check);
}

/* Step 5, the sizes of that layer: the convolution halves a side, its transpose doubles it back. */
static int step5_sizes(results *r)
{
    int k = 0;
    int rc = tconv_kernel_from_params(&k, 588, 3, 12);
    if (rc != AE_OK) return rc;
    long half = tconv_conv_out_size(32, k, 2, 1), doubled = tconv_transposed_out_size(half, k, 2, 1, 0);
    say("   With k = %d, stride 2 and padding 1 the convolution halves a side (32 -> %ld) and the\n"
        "   transposed one with the same k, s, p doubles it back (%ld -> %ld).\n\n", k, half, half, doubled);
    if ((rc = results_add_int(r, "step5_k4_s2_p1_conv_32", half)) != AE_OK) return rc;
    return results_add_int(r, "step5_k4_s2_p1_transposed_16", doubled);
}

/* ------------------------------------------------------------- the modes */
/* The figures of the walk-through: the examples at stride 1 and 2, and the overlap counts. */
static int walk_figures(program_run *run, const tconv_matrix *x, const tconv_matrix *kernel,
                        const tconv_matrix *stride2, const tconv_matrix *overlap3, const tconv_matrix *overlap4)
{
    const tconv_params s1 = { 1, 0, 0 };
    tconv_matrix *stride1 = tconv_matrix_alloc(3, 3);
    int rc = stride1 ? tconv_scatter(stride1, x, kernel, &s1) : error_code();
    if (rc == AE_OK) {
        grid panels[] = { { "input x (2x2)", x }, { "kernel K (2x2)", kernel },
                          { "conv^T(x), stride 1 (3x3)", stride1 },
                          { "input x (2x2)", x }, { "kernel K (2x2)", kernel },
                          { "conv^T(x), stride 2 (4x4)", stride2 } };
        rc = write_heatmaps(run->out_dir, "transposed_examples",
                            "Transposed convolution: stride 1 (top) and stride 2 (bottom)", panels, 6, 3, 960, 680);
    }
    if (rc == AE_OK) {
        grid panels[] = { { "kernel 3, stride 2: uneven (1, 2, 4)", overlap3 },
                          { "kernel 4, stride 2: even inside (4)", overlap4 } };
        rc = write_heatmaps(run->out_dir, "transposed_overlap",
                            "How many kernel windows cover each output pixel (all-ones 4x4 input and kernel)",
                            panels, 2, 2, 960, 560);
    }
    if (rc == AE_OK) rc = program_render(run, "transposed_examples");
    if (rc == AE_OK) rc = program_render(run, "transposed_overlap");
    tconv_matrix_free(stride1);
    return rc;
}

int tconv_walk_through(program_run *run)
{
    results *r = run->res;
    const common_options *common = run->common;
    tconv_matrix *x = NULL, *kernel = NULL, *stride2 = NULL, *overlap3 = NULL, *overlap4 = NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng) return AE_ERROR(AE_ENOMEM, "out of memory for the random number generator");
    gsl_rng_set(rng, common->seed);
    int rc = tconv_parse_matrix(&x, EXAMPLE, "the example input", MAX_SIDE);
    if (rc == AE_OK) rc = tconv_parse_matrix(&kernel, EXAMPLE, "the example kernel", MAX_SIDE);
    /* each step a part of its own: one that needs a function not written yet is skipped, the others run */
    if (rc == AE_OK) rc = program_part(run, "1. the scatter", step1_scatter(r, x, kernel));
    if (rc == AE_OK) rc = program_part(run, "2. three ways", step2_three_ways(r, x, kernel, rng));
    if (rc == AE_OK)
        rc = program_part(run, "3. stride and padding", step3_stride_padding(r, x, kernel, &stride2, &overlap3, &overlap4));
    if (rc == AE_OK) rc = program_part(run, "4. Keras' paddings", step4_keras(r));
    if (rc == AE_OK) rc = program_part(run, "4. the relationships", step4_relationships(r, rng));
    if (rc == AE_OK) rc = program_part(run, "4. two models' shapes", step4_models(r));
    if (rc == AE_OK) rc = program_part(run, "5. the parameters", step5_parameters(r));
    if (rc == AE_OK) rc = program_part(run, "5. the 588 layer's sizes", step5_sizes(r));
    if (rc == AE_OK)
        rc = program_part(run, "the figures",
                          PROGRAM_AFTER(run, "3. stride and padding", walk_figures(run, x, kernel, stride2, overlap3, overlap4)));
    tconv_matrix_free(x);
    tconv_matrix_free(kernel);
    tconv_matrix_free(stride2);
    tconv_matrix_free(overlap3);
    tconv_matrix_free(overlap4);
    gsl_rng_free(rng);
    return rc;
}


int tconv_prepare_case(one_case *c, const char *input_text, const char *kernel_text, const tconv_params *prm)
{
    memset(c, 0, sizeof *c);
    c->prm = *prm;
    int rc = tconv_parse_matrix(&c->x, input_text, "--input", MAX_SIDE);
    if (rc == AE_OK) rc = tconv_parse_matrix(&c->kernel, kernel_text, "--kernel", MAX_SIDE);
    if (rc == AE_OK)
        rc = tconv_transposed_check(&c->out_rows, &c->out_cols, c->x->rows, c->x->cols,
                                    c->kernel->rows, c->kernel->cols, prm);
    if (rc == AE_OK && (long)c->out_rows * c->out_cols > MAX_OUTPUT_VALUES)
        rc = AE_ERROR(AE_EDOM, "the output would be %dx%d, more than %ld values; use a smaller input, "
                      "kernel or stride", c->out_rows, c->out_cols, MAX_OUTPUT_VALUES);
    if (rc != AE_OK) {
        tconv_matrix_free(c->x);
        tconv_matrix_free(c->kernel);
        memset(c, 0, sizeof *c);
    }
    return rc;
}

int tconv_compute_case(program_run *run, const one_case *c)
{
    results *r = run->res;
    three_ways t;
    int rc = three_ways_compute(&t, c->x, c->kernel, &c->prm);
    if (rc != AE_OK) return rc;
    const tconv_params *prm = &c->prm;
    say("Transposed convolution of a %dx%d input with a %dx%d kernel, stride %d, padding %d, "
        "output padding %d\n\n", c->x->rows, c->x->cols, c->kernel->rows, c->kernel->cols,
        prm->stride, prm->padding, prm->output_padding);
    grid g[] = { { "input x", c->x }, { "kernel K", c->kernel } };
    print_grids(g, 2);
    say("   OH = s(H-1) + KH - 2p + a = %d*(%d-1) + %d - 2*%d + %d = %d\n"
        "   OW = s(W-1) + KW - 2p + a = %d*(%d-1) + %d - 2*%d + %d = %d\n\n",
        prm->stride, c->x->rows, c->kernel->rows, prm->padding, prm->output_padding, c->out_rows,
        prm->stride, c->x->cols, c->kernel->cols, prm->padding, prm->output_padding, c->out_cols);
    char title[64];
    snprintf(title, sizeof title, "conv^T(x) (%dx%d)", c->out_rows, c->out_cols);
    print_one(title, t.scatter);
    print_agreement(&t);

    char text[64];
    snprintf(text, sizeof text, "%dx%d", c->x->rows, c->x->cols);
    if ((rc = results_add_text(r, "input_shape", text)) == AE_OK) {
        snprintf(text, sizeof text, "%dx%d", c->kernel->rows, c->kernel->cols);
        rc = results_add_text(r, "kernel_shape", text);
    }
    if (rc == AE_OK) rc = results_add_int(r, "stride", prm->stride);
    if (rc == AE_OK) rc = results_add_int(r, "padding", prm->padding);
    if (rc == AE_OK) rc = results_add_int(r, "output_padding", prm->output_padding);
    if (rc == AE_OK) rc = add_matrix(r, "out", t.scatter);
    if (rc == AE_OK) rc = add_double(r, "max_abs_diff", "zero_insertion", t.diff_zero_insertion);
    if (rc == AE_OK && t.matrix) rc = add_double(r, "max_abs_diff", "matrix", t.diff_matrix);
    if (rc == AE_OK) rc = add_double(r, "max_abs_diff", "library", t.diff_library);
    if (rc == AE_OK) {
        grid panels[] = { { "input x", c->x }, { "kernel K", c->kernel }, { title, t.scatter } };
        char fig_title[160];
        snprintf(fig_title, sizeof fig_title, "Transposed convolution, stride %d, padding %d, output padding %d",
                 prm->stride, prm->padding, prm->output_padding);
        rc = write_heatmaps(run->out_dir, "transposed_case", fig_title, panels, 3, 3, 960, 420);
    }
    if (rc == AE_OK) rc = program_render(run, "transposed_case");
    three_ways_free(&t);
    return rc;
}

/* "i,k,s,p[,a]" into v[0..5); a defaults to 0. */
int tconv_parse_shape(const char *text, long v[5])
{
    const char *names[] = { "i (input size)", "k (kernel size)", "s (stride)", "p (padding)", "a (output padding)" };
    const long lowest[] = { 1, 1, 1, 0, 0 };
    int n = 0;
    v[4] = 0;
    for (const char *p = text;; n++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 5)
            return AE_ERROR(AE_EINVAL, "--shape: more than 5 numbers in '%s'; give i,k,s,p or i,k,s,p,a", text);
        char item[32], what[64];
        if (len == 0 || len >= sizeof item)
            return AE_ERROR(AE_EINVAL, "--shape: number %d of '%s' is %s; give i,k,s,p or i,k,s,p,a "
                            "(e.g. 7,3,2,1,1)", n + 1, text, len ? "too long" : "empty");
        memcpy(item, p, len);
        item[len] = '\0';
        snprintf(what, sizeof what, "--shape, %s", names[n]);
        int rc = parse_long(item, what, &v[n]);
        if (rc != AE_OK) return rc;
        if (v[n] < lowest[n] || v[n] > 100000)
            return AE_ERROR(AE_EINVAL, "--shape: %s = %ld must be from %ld to 100000", names[n], v[n], lowest[n]);
        if (!comma) break;
        p = comma + 1;
    }
    if (n < 3)
        return AE_ERROR(AE_EINVAL, "--shape: '%s' has %d number%s; give i,k,s,p or i,k,s,p,a (e.g. 7,3,2,1,1)",
                        text, n + 1, n ? "s" : "");
    if (v[4] >= v[2])
        return AE_ERROR(AE_EINVAL, "--shape: the output padding a = %ld must be smaller than the stride s = %ld",
                        v[4], v[2]);
    long conv = tconv_conv_out_size(v[0], v[1], v[2], v[3]);
    long transposed = tconv_transposed_out_size(v[0], v[1], v[2], v[3], v[4]);
    if (conv < 1)
        return AE_ERROR(AE_EINVAL, "--shape: the ordinary convolution has no output: a kernel of %ld does not fit "
                        "into %ld + 2*%ld padded pixels", v[1], v[0], v[3]);
    if (transposed < 1)
        return AE_ERROR(AE_EINVAL, "--shape: padding %ld leaves no output of the transposed convolution "
                        "(s(i-1) + k - 2p + a = %ld)", v[3], transposed);
    return AE_OK;
}

int tconv_shape_mode(program_run *run, const long v[5])
{
    results *r = run->res;
    long i = v[0], k = v[1], s = v[2], p = v[3], a = v[4];
    long conv = tconv_conv_out_size(i, k, s, p), transposed = tconv_transposed_out_size(i, k, s, p, a);
    conv_geom g_conv, g_tr;
    int rc = conv2d_geom(&g_conv, 1, (int)i, (int)i, 1, (int)k, (int)k, (int)s, PAD_EXPLICIT, (int)p);
    if (rc == AE_OK)
        rc = conv2d_transpose_geom(&g_tr, 1, (int)i, (int)i, 1, (int)k, (int)k, (int)s, PAD_EXPLICIT, (int)p, (int)a);
    if (rc != AE_OK) return rc;
    long valid_conv = tconv_keras_valid_conv_out_size(i, k, s);
    say("Sizes along one axis for i = %ld, k = %ld, s = %ld, p = %ld, a = %ld\n\n", i, k, s, p, a);
    say("   ordinary convolution    o = floor((i + 2p - k)/s) + 1 = floor((%ld + %ld - %ld)/%ld) + 1 = %ld\n",
        i, 2 * p, k, s, conv);
    say("   transposed convolution  o = s(i - 1) + k - 2p + a = %ld*(%ld - 1) + %ld - %ld + %ld = %ld\n",
        s, i, k, 2 * p, a, transposed);
    say("   (the library's conv2d_geom and conv2d_transpose_geom give %d and %d)\n\n", g_conv.out_h, g_tr.out_h);
    say("   Keras 'same':   convolution ceil(i/s) = %ld, transposed i*s = %ld\n",
        tconv_keras_same_conv_out_size(i, s), tconv_keras_same_transposed_out_size(i, s));
    if (valid_conv >= 1)
        say("   Keras 'valid':  convolution floor((i - k)/s) + 1 = %ld, transposed i*s + max(k - s, 0) = %ld\n",
            valid_conv, tconv_keras_valid_transposed_out_size(i, k, s));
    else
        say("   Keras 'valid':  convolution: none (k > i), transposed i*s + max(k - s, 0) = %ld\n",
            tconv_keras_valid_transposed_out_size(i, k, s));
    long back_a = tconv_output_padding_for(i, k, s, p);
    say("   The way back: the transposed convolution of the %ld-pixel result with a = %ld returns %ld pixels.\n",
        conv, back_a, tconv_transposed_out_size(conv, k, s, p, back_a));
    if (g_conv.out_h != conv || g_tr.out_h != transposed)
        return AE_ERROR(AE_ENUMERIC, "the library's geometry disagrees with the formulas");
    const char *keys[] = { "shape_i", "shape_k", "shape_s", "shape_p", "shape_a" };
    for (int n = 0; n < 5 && rc == AE_OK; n++) rc = results_add_int(r, keys[n], v[n]);
    if (rc == AE_OK) rc = results_add_int(r, "conv_out", conv);
    if (rc == AE_OK) rc = results_add_int(r, "transposed_out", transposed);
    if (rc == AE_OK) rc = results_add_int(r, "keras_same_conv_out", tconv_keras_same_conv_out_size(i, s));
    if (rc == AE_OK) rc = results_add_int(r, "keras_same_transposed_out", tconv_keras_same_transposed_out_size(i, s));
    if (rc == AE_OK && valid_conv >= 1) rc = results_add_int(r, "keras_valid_conv_out", valid_conv);
    if (rc == AE_OK)
        rc = results_add_int(r, "keras_valid_transposed_out", tconv_keras_valid_transposed_out_size(i, k, s));
    if (rc == AE_OK) rc = results_add_int(r, "output_padding_back", back_a);
    return rc;
}

