/* t1_figures.c: labelled image grids and latent planes side by side (see t1_figures.h). */
#include "t1_figures.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/data.h"
#include "error.h"
#include "io/fileio.h"
#include "io/plot.h"

/* Ten distinguishable colours (the "tab10" palette), one per class, as plot.c uses them. */
static const char *const CLASS_COLOURS[FASHION_CLASSES] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};

static size_t longest(const char *const *labels, int n)
{
    size_t max = 0;
    for (int i = 0; labels && i < n; i++) {
        size_t len = labels[i] ? strlen(labels[i]) : 0;
        if (len > max) max = len;
    }
    return max;
}

int t1_plot_images(const char *dir, const char *name, const char *title, const float *images,
                   int rows, int cols, int side, const char *const *row_labels, const char *const *col_labels)
{
    if (rows <= 0 || cols <= 0 || side <= 0)
        return AE_ERROR(AE_EINVAL, "%s: an image grid needs at least one row, one column and one pixel", name);
    const int gap = 2;
    int grid_w = cols * (side + gap) - gap, grid_h = rows * (side + gap) - gap;
    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;

    /* one matrix of grid_h rows and grid_w columns; NaN between the images */
    fprintf(dat.fp, "# %d x %d images of %dx%d pixels in [0, 1], row after row (NaN between images)\n",
            rows, cols, side, side);
    for (int gy = 0; gy < grid_h; gy++) {
        int r = gy / (side + gap), y = gy % (side + gap);
        for (int gx = 0; gx < grid_w; gx++) {
            int c = gx / (side + gap), x = gx % (side + gap);
            if (gx) fputc(' ', dat.fp);
            if (y >= side || x >= side) fputs("NaN", dat.fp);
            else {
                float v = images[((size_t)r * cols + c) * side * side + (size_t)y * side + x];
                if (isnan(v)) fputs("NaN", dat.fp);
                else fprintf(dat.fp, "%.4g", v);
            }
        }
        fputc('\n', dat.fp);
    }

    /* every image pixel a square of `scale` screen pixels; margins fit the labels (9 px a character at 11 points) */
    int scale = grid_w * 3 >= 740 ? 3 : (740 + grid_w - 1) / grid_w;
    int left = row_labels ? 24 + 9 * (int)longest(row_labels, rows) : 16;
    int top = (title ? 44 : 10) + (col_labels ? 20 : 0), right = 16, bottom = 12;
    int width = left + grid_w * scale + right, height = top + grid_h * scale + bottom;
    plot_script_begin(gp.fp, name, title, width, height);
    fprintf(gp.fp, "unset key\nunset tics\nunset border\nunset colorbox\n");
    fprintf(gp.fp, "set palette gray\nset cbrange [0:1]\n");
    fprintf(gp.fp, "set lmargin at screen %.6f\nset rmargin at screen %.6f\n", (double)left / width,
            (double)(width - right) / width);
    fprintf(gp.fp, "set tmargin at screen %.6f\nset bmargin at screen %.6f\n", (double)(height - top) / height,
            (double)bottom / height);
    fprintf(gp.fp, "set xrange [-0.5:%g]\nset yrange [%g:-0.5]\n", grid_w - 0.5, grid_h - 0.5);
    int label = 1;
    for (int r = 0; row_labels && r < rows; r++) {
        fprintf(gp.fp, "set label %d ", label++);
        plot_quote(gp.fp, row_labels[r]);
        fprintf(gp.fp, " at screen %.6f, first %g right\n", (double)(left - 8) / width,
                r * (side + gap) + (side - 1) / 2.0);
    }
    for (int c = 0; col_labels && c < cols; c++) {
        fprintf(gp.fp, "set label %d ", label++);
        plot_quote(gp.fp, col_labels[c]);
        fprintf(gp.fp, " at first %g, screen %.6f center font ',9'\n", c * (side + gap) + (side - 1) / 2.0,
                (double)(height - top + 10) / height);
    }
    fprintf(gp.fp, "plot '%s.dat' matrix with image\n", name);
    return plot_commit_pair(&dat, &gp);
}

/* NAME.dat of a figure over epochs: the epoch, then one column per series. */
static void write_epochs_dat(FILE *dat, int first, int points, const double *const *ys, const char *const *labels,
                             int n_series)
{
    fprintf(dat, "# epoch");
    for (int s = 0; s < n_series; s++) fprintf(dat, "\t%s", labels[s]);
    fputc('\n', dat);
    for (int k = 0; k < points; k++) {
        fprintf(dat, "%d", first + k);
        for (int s = 0; s < n_series; s++) fprintf(dat, "\t%.9g", ys[s][k]);
        fputc('\n', dat);
    }
}

/* The x axis of a figure over epochs: whole-number ticks, and half an epoch of room on each side, so
 * that the first and last points sit inside the axes, not on them. */
static void write_epoch_axis(FILE *gp, int first, int points)
{
    fprintf(gp, "set xlabel %s\n", first == 0 ? "'epoch (0: before training)'" : "'epoch'");
    fprintf(gp, "set grid lc rgb '#dddddd'\nset xtics 1\nset xrange [%g:%g]\n", first - 0.5, first + points - 0.5);
}

int t1_plot_epochs(const char *dir, const char *name, const char *title, const char *ylabel, int logy,
                   int first, int points, const double *const *ys, const char *const *labels, int n_series)
{
    if (points < 1 || n_series < 1) return AE_ERROR(AE_EINVAL, "%s: no epochs or no curves to draw", name);
    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;
    write_epochs_dat(dat.fp, first, points, ys, labels, n_series);
    int long_labels = longest(labels, n_series) > 16;
    plot_script_begin(gp.fp, name, title, long_labels ? 900 : 1000, long_labels ? 640 : 560);
    write_epoch_axis(gp.fp, first, points);
    fprintf(gp.fp, "set ylabel ");
    plot_quote(gp.fp, ylabel);
    fputc('\n', gp.fp);
    if (logy) fprintf(gp.fp, "set logscale y\n");
    if (long_labels)   /* a two-column legend under the plot, with room for it below the axis label */
        fprintf(gp.fp, "set bmargin %d\nset key at screen 0.5, screen 0.01 center bottom box maxrows %d\n",
                (n_series + 1) / 2 + 5, (n_series + 1) / 2);
    else
        fprintf(gp.fp, "set key outside right top box\n");
    fprintf(gp.fp, "plot ");
    for (int s = 0; s < n_series; s++) {
        fprintf(gp.fp, "%s'%s.dat' using 1:%d with linespoints lw 2 pt 7 ps 0.8 title ", s ? ", \\\n     " : "",
                name, s + 2);
        plot_quote(gp.fp, labels[s]);
    }
    fputc('\n', gp.fp);
    return plot_commit_pair(&dat, &gp);
}

/* Ticks at 1, 2 and 5 times each power of ten from below the smallest positive value of the panel's
 * series to above the largest, so that a log axis has a labelled tick at least every factor 2.5. */
static void write_log_ticks(FILE *gp, const t1_epoch_panel *panel, int points, const double *const *ys)
{
    double lo = INFINITY, hi = 0.0;
    for (int i = 0; i < panel->n_series; i++)
        for (int k = 0; k < points; k++) {
            double y = ys[panel->series[i]][k];
            if (isfinite(y) && y > 0.0 && y < lo) lo = y;
            if (isfinite(y) && y > hi) hi = y;
        }
    if (!(hi > 0.0)) {             /* nothing a log axis can show: gnuplot's own ticks */
        fprintf(gp, "set ytics autofreq\n");
        return;
    }
    const int mantissa[3] = { 1, 2, 5 };
    int from = (int)floor(log10(lo)), to = (int)ceil(log10(hi));
    fprintf(gp, "set ytics (");
    for (int decade = from; decade <= to; decade++)
        for (int m = 0; m < 3; m++) {
            if (decade == to && m > 0) break;
            fprintf(gp, "%s%g", decade == from && m == 0 ? "" : ", ", mantissa[m] * pow(10.0, decade));
        }
    fprintf(gp, ")\n");
}

int t1_plot_epoch_panels(const char *dir, const char *name, const char *title, int first, int points,
                         const double *const *ys, const char *const *labels, int n_series,
                         const t1_epoch_panel *panels, int n_panels)
{
    if (points < 1 || n_series < 1) return AE_ERROR(AE_EINVAL, "%s: no epochs or no curves to draw", name);
    if (n_panels < 1 || n_panels > 3) return AE_ERROR(AE_EINVAL, "%s: %d panels, not 1 to 3", name, n_panels);
    int rows = 1;   /* the longest legend: one row per series */
    for (int p = 0; p < n_panels; p++) {
        if (panels[p].n_series < 1 || panels[p].n_series > T1_PANEL_MAX_SERIES)
            return AE_ERROR(AE_EINVAL, "%s: panel %d has %d series, not 1 to %d", name, p + 1, panels[p].n_series,
                            T1_PANEL_MAX_SERIES);
        for (int i = 0; i < panels[p].n_series; i++)
            if (panels[p].series[i] < 0 || panels[p].series[i] >= n_series)
                return AE_ERROR(AE_EINVAL, "%s: panel %d draws series %d of %d", name, p + 1, panels[p].series[i],
                                n_series);
        if (panels[p].n_series > rows) rows = panels[p].n_series;
    }
    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;
    write_epochs_dat(dat.fp, first, points, ys, labels, n_series);

    const int width = 700 * n_panels, height = 640;
    plot_script_begin(gp.fp, name, NULL, width, height);
    fprintf(gp.fp, "set multiplot title ");
    plot_quote(gp.fp, title);
    fprintf(gp.fp, " font ',13'\n");
    write_epoch_axis(gp.fp, first, points);
    /* the plots between the title and the legends, which take one line of 20 pixels per series */
    fprintf(gp.fp, "set tmargin at screen 0.86\nset bmargin at screen %.4f\n", (90.0 + 20.0 * rows) / height);
    const double cell = 1.0 / n_panels;
    for (int p = 0; p < n_panels; p++) {
        const t1_epoch_panel *panel = &panels[p];
        fprintf(gp.fp, "\n# panel %d\n", p + 1);
        fprintf(gp.fp, "set lmargin at screen %.4f\nset rmargin at screen %.4f\n", (p + 0.12) * cell,
                (p + 0.94) * cell);
        fprintf(gp.fp, "set title ");
        plot_quote(gp.fp, panel->title);
        fprintf(gp.fp, "\nset ylabel ");
        plot_quote(gp.fp, panel->ylabel);
        fputc('\n', gp.fp);
        if (panel->logy) {   /* the axis fitted to the data, with a little room above and below */
            fprintf(gp.fp, "set logscale y\nset autoscale yfix\nset offsets 0, 0, graph 0.06, graph 0.06\n");
            write_log_ticks(gp.fp, panel, points, ys);
        } else
            fprintf(gp.fp, "unset logscale y\nset autoscale y\nset offsets 0, 0, 0, 0\nset ytics autofreq\n");
        fprintf(gp.fp, "set key at screen %.4f, screen 0.02 center bottom box maxrows %d\n", (p + 0.53) * cell,
                panel->n_series);
        fprintf(gp.fp, "plot ");
        for (int i = 0; i < panel->n_series; i++) {
            int s = panel->series[i];   /* its colour is its own in every panel */
            fprintf(gp.fp, "%s'%s.dat' using 1:%d with linespoints lw 2 pt 7 ps 0.8 lc rgb '%s' title ",
                    i ? ", \\\n     " : "", name, s + 2, CLASS_COLOURS[s % FASHION_CLASSES]);
            plot_quote(gp.fp, labels[s]);
        }
        fputc('\n', gp.fp);
    }
    fprintf(gp.fp, "unset multiplot\n");
    return plot_commit_pair(&dat, &gp);
}

/* min and max of the n values at stride 2 */
static void range_of(const float *v, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (v[2 * i] < *lo) *lo = v[2 * i];
        if (v[2 * i] > *hi) *hi = v[2 * i];
    }
}

int t1_plot_latent_pair(const char *dir, const char *name, const char *title,
                        const float *codes_a, const char *title_a, const float *codes_b, const char *title_b,
                        const uint8_t *labels, size_t n)
{
    if (n == 0) return AE_ERROR(AE_EINVAL, "%s: no points to draw", name);
    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;
    fprintf(dat.fp, "# a_z1\ta_z2\tb_z1\tb_z2\tclass    (a: %s; b: %s)\n", title_a, title_b);
    for (size_t i = 0; i < n; i++)
        fprintf(dat.fp, "%.6g\t%.6g\t%.6g\t%.6g\t%d\n", codes_a[2 * i], codes_a[2 * i + 1], codes_b[2 * i],
                codes_b[2 * i + 1], labels[i]);

    plot_script_begin(gp.fp, name, NULL, 1500, 680);
    fprintf(gp.fp, "set multiplot title ");
    plot_quote(gp.fp, title);
    fprintf(gp.fp, " font ',13'\n");
    fprintf(gp.fp, "set grid lc rgb '#dddddd'\nset xlabel 'z1'\nset ylabel 'z2'\n");
    fprintf(gp.fp, "set tmargin at screen 0.86\nset bmargin at screen 0.10\n");
    const float *codes[2] = { codes_a, codes_b };
    const char *titles[2] = { title_a, title_b };
    const double lmargin[2] = { 0.05, 0.47 }, rmargin[2] = { 0.42, 0.84 };
    for (int panel = 0; panel < 2; panel++) {
        double x_lo, x_hi, y_lo, y_hi;
        range_of(codes[panel], n, &x_lo, &x_hi);
        range_of(codes[panel] + 1, n, &y_lo, &y_hi);
        char text[256];
        snprintf(text, sizeof text, "%s\nz1 from %.3g to %.3g,  z2 from %.3g to %.3g", titles[panel], x_lo, x_hi,
                 y_lo, y_hi);
        fprintf(gp.fp, "set lmargin at screen %.2f\nset rmargin at screen %.2f\n", lmargin[panel], rmargin[panel]);
        fprintf(gp.fp, "set title ");
        /* a real line break inside a double-quoted string: gnuplot turns "\n" into one */
        fputc('"', gp.fp);
        for (const char *c = text; *c; c++) {
            if (*c == '\n') fputs("\\n", gp.fp);
            else if (*c == '"' || *c == '\\') fprintf(gp.fp, "\\%c", *c);
            else fputc(*c, gp.fp);
        }
        fputs("\"\n", gp.fp);
        if (panel == 0) fprintf(gp.fp, "unset key\n");
        else fprintf(gp.fp, "set key at screen 0.995, screen 0.86 right top box title 'class'\n");
        fprintf(gp.fp, "plot ");
        for (int k = 0; k < FASHION_CLASSES; k++)
            fprintf(gp.fp, "%s'%s.dat' using %d:($5==%d ? $%d : NaN) with points pt 7 ps 0.3 lc rgb '%s' notitle",
                    k ? ", \\\n     " : "", name, 1 + 2 * panel, k, 2 + 2 * panel, CLASS_COLOURS[k]);
        for (int k = 0; panel == 1 && k < FASHION_CLASSES; k++) {   /* the legend, with markers one can see */
            fprintf(gp.fp, ", \\\n     NaN with points pt 7 ps 1.2 lc rgb '%s' title ", CLASS_COLOURS[k]);
            plot_quote(gp.fp, fashion_class_name(k));
        }
        fputc('\n', gp.fp);
    }
    fprintf(gp.fp, "unset multiplot\n");
    return plot_commit_pair(&dat, &gp);
}
