/* plot.h: figures as plain data plus a gnuplot script.
 *
 * The library draws nothing itself. For a figure NAME it writes NAME.dat
 * (columns of numbers, readable by any tool) and NAME.gp (a gnuplot script a
 * student can edit and rerun with `gnuplot NAME.gp`), then, when gnuplot is
 * installed and rendering was not switched off (--no-plot), renders NAME.png
 * with the pngcairo terminal. Every file is written atomically: the script
 * takes its output name from the variable `outfile`, so plot_render can point
 * it at a temporary file and rename it when gnuplot succeeded.
 */
#ifndef AE_PLOT_H
#define AE_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "io/fileio.h"

typedef struct {
    const char *title;
    const char *xlabel, *ylabel;
    int logx, logy;
    int width, height;     /* pixels; 0 for 800 x 560 */
} plot_axes;

/* Writes the preamble every script starts with: terminal, size, font and
 * `outfile` (defaulting to NAME.png), and the title. */
void plot_script_begin(FILE *gp, const char *name, const char *title, int width, int height);


/* A figure of one's own: opens dir/NAME.dat and dir/NAME.gp for atomic writing, both or
 * neither (on an error nothing is left open). Write them through dat->fp and gp->fp, then
 * plot_commit_pair, or atomic_abort both. */
int plot_open_pair(atomic_file *dat, atomic_file *gp, const char *dir, const char *name);
/* Puts both files in place, or neither: when the first cannot be committed, the second is dropped. */
int plot_commit_pair(atomic_file *dat, atomic_file *gp);

/* Writes text as a gnuplot single-quoted string ('' stands for a quote inside). */
void plot_quote(FILE *gp, const char *text);

/* Line plot of n_series curves over the same x: NAME.dat has x then one column per series. */
int plot_lines(const char *dir, const char *name, const plot_axes *axes,
               const double *x, size_t n, const double *const *ys,
               const char *const *labels, int n_series);

/* Images (n, h, w) in [0,1] as a grid of `cols` per row, grey, no axes; row_labels
 * (may be NULL) names each row at its left. */
int plot_image_grid(const char *dir, const char *name, const char *title,
                    const float *images, int n, int h, int w, int cols,
                    const char *const *row_labels);

/* A grid of images with headers: grey (channels 1) or colour (channels 3, stored as three planes
 * R, G, B one after the other, as CIFAR-10 stores them), each image's values in [0, 1]. */
typedef struct {
    const float *images;               /* (n, channels, h, w) */
    int n, channels, h, w;
    int cols;                          /* images per row */
    const char *const *row_labels;     /* (rows) names each row at its left, or NULL */
    const char *const *col_labels;     /* (cols) names each column above it, or NULL */
} plot_grid;
/* The grid of g: plot_image_grid when channels is 1 and there are no column labels; AE_EINVAL for
 * an empty grid or channels other than 1 and 3. */
int plot_image_grid_labelled(const char *dir, const char *name, const char *title, const plot_grid *g);

/* Points (x, y) coloured by class, with a legend of class names. */
int plot_scatter_classes(const char *dir, const char *name, const plot_axes *axes,
                         const float *x, const float *y, const int *labels, size_t n,
                         const char *const *class_names, int n_classes);

/* 1: a gnuplot executable is on PATH. */
int gnuplot_available(void);
/* Renders dir/NAME.gp to dir/NAME.png with gnuplot (atomically). When gnuplot is
 * missing, *rendered = 0 and AE_OK; when gnuplot fails, AE_EIO with its message. */
int plot_render(const char *dir, const char *name, int *rendered);

#endif
