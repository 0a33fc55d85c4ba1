/* t1_figures.h: the two kinds of figure of Task 1 that the library's plot.h does not draw:
 * labelled image grids and two latent planes side by side. Like plot.h, each writes NAME.dat
 * and NAME.gp (atomically) for plot_render to turn into NAME.png.
 */
#ifndef T1_FIGURES_H
#define T1_FIGURES_H

#include <stddef.h>
#include <stdint.h>

/* Images (rows·cols, side, side) in [0, 1], row after row, as a grey grid with a label left of
 * each row and above each column (either list may be NULL). A NaN pixel is left blank.
 * AE_EINVAL for an empty grid. */
int t1_plot_images(const char *dir, const char *name, const char *title, const float *images,
                   int rows, int cols, int side, const char *const *row_labels, const char *const *col_labels);

/* One latent plane of two models, side by side, each point a test image coloured by its class.
 * Each panel's title says its model and the range of both axes, and each panel has axes of its
 * own (the two planes have different scales; the titles say how different).
 * codes_a (n, 2), codes_b (n, 2), labels (n) in 0..9. */
int t1_plot_latent_pair(const char *dir, const char *name, const char *title,
                        const float *codes_a, const char *title_a, const float *codes_b, const char *title_b,
                        const uint8_t *labels, size_t n);

/* Curves over epochs: ys[s][k] is series s after epoch first + k, k = 0..points−1 (first = 0 for
 * a curve that starts before training). Whole-number epoch ticks, the legend outside the plot (on
 * the right for short labels, below for long ones, so it hides no curve), a log y axis when asked. */
int t1_plot_epochs(const char *dir, const char *name, const char *title, const char *ylabel, int logy,
                   int first, int points, const double *const *ys, const char *const *labels, int n_series);

/* One panel of t1_plot_epoch_panels: its title and y-axis label, a log y axis or not, and the
 * series it draws (indices into the figure's ys and labels). */
#define T1_PANEL_MAX_SERIES 8
typedef struct {
    const char *title;
    const char *ylabel;
    int logy;
    int n_series;
    int series[T1_PANEL_MAX_SERIES];
} t1_epoch_panel;

/* The curves of t1_plot_epochs in 1..3 panels side by side, each with a y axis of its own (terms
 * of different sizes stay readable) and its legend under it; a series keeps its colour in every
 * panel. NAME.dat has every series, as t1_plot_epochs writes it. AE_EINVAL for no epochs, no
 * series, a panel count outside 1..3, or a panel with no series, too many or an unknown index. */
int t1_plot_epoch_panels(const char *dir, const char *name, const char *title, int first, int points,
                         const double *const *ys, const char *const *labels, int n_series,
                         const t1_epoch_panel *panels, int n_panels);

#endif
