/* ae_figures.c: loss curves, rows of images, error histograms (see ae_figures.h). */
#include "ae_figures.h"
#include "error.h"
#include "io/fileio.h"
#include "io/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SIDE 28
#define PIXELS (SIDE * SIDE)

/* The "tab10" colours, one per model in the order given. */
static const char *const COLOURS[] = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
};
#define N_COLOURS (int)(sizeof COLOURS / sizeof COLOURS[0])

static const char *axis_label(loss_kind loss)
{
    switch (loss) {
    case LOSS_MSE: return "MSE (mean squared error per pixel)";
    case LOSS_MAE: return "MAE (mean absolute error per pixel)";
    case LOSS_BCE: return "binary cross-entropy (mean per pixel)";
    case LOSS_BCE_LOGITS: return "binary cross-entropy on logits (mean per pixel)";
    }
    return "loss";
}

/* "MSE" for a panel's title */
static const char *loss_title(loss_kind loss)
{
    switch (loss) {
    case LOSS_MSE: return "MSE";
    case LOSS_MAE: return "MAE";
    case LOSS_BCE: return "binary cross-entropy";
    case LOSS_BCE_LOGITS: return "binary cross-entropy on logits";
    }
    return "loss";
}

/* ---------------------------------------------------------- loss curves */

/* Labelled tics on a log axis over [lo, hi], the finest of five sets of mantissas that gives at
 * most 10 labels (gnuplot labels only the powers of ten, often none within the range). */
static void log_tics(FILE *f, const char *axis, double lo, double hi)
{
    enum { LEVELS = 5 };
    static const double sets[LEVELS][24] = {
        { 1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2, 2.2, 2.4, 2.6, 2.8, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9 },
        { 1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9 },
        { 1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 1.5, 2, 3, 5, 7 }, { 1, 2, 5 },
    };
    static const int set_size[LEVELS] = { 24, 16, 10, 6, 3 };
    int first_decade = (int)floor(log10(lo)), last_decade = (int)ceil(log10(hi));
    for (int level = 0; level < LEVELS; level++) {
        int count = 0;
        for (int d = first_decade; d <= last_decade; d++)
            for (int k = 0; k < set_size[level]; k++) {
                double v = sets[level][k] * pow(10.0, d);
                count += v >= lo && v <= hi;
            }
        if (count > 10 && level < LEVELS - 1) continue;
        fprintf(f, "set %stics (", axis);
        int first = 1;
        for (int d = first_decade; d <= last_decade; d++)
            for (int k = 0; k < set_size[level]; k++) {
                double v = sets[level][k] * pow(10.0, d);
                if (v < lo || v > hi) continue;
                fprintf(f, "%s%.3g", first ? "" : ", ", v);
                first = 0;
            }
        fprintf(f, ")\n");
        return;
    }
}

/* The smallest and largest finite, positive loss of the models trained with `loss`: what a log
 * axis must hold. */
static void loss_range(double range[2], const figure_curves *models, int n_models, loss_kind loss)
{
    range[0] = INFINITY, range[1] = -INFINITY;
    for (int k = 0; k < n_models; k++) {
        if (models[k].loss != loss) continue;
        for (int e = 0; e < models[k].epochs; e++) {
            const double both[2] = { models[k].train_loss[e], models[k].val_loss[e] };
            for (int j = 0; j < 2; j++)
                if (isfinite(both[j]) && both[j] > 0.0) {
                    range[0] = fmin(range[0], both[j]);
                    range[1] = fmax(range[1], both[j]);
                }
        }
    }
    if (!(range[0] <= range[1])) range[0] = 1e-3, range[1] = 1.0;   /* nothing to draw: any decade */
}

int figure_loss_curves(const char *dir, const char *name, const char *title,
                       const figure_curves *models, int n_models)
{
    if (n_models < 1) return AE_ERROR(AE_EINVAL, "%s: no model to draw", name);
    /* one panel per loss, in the order the models bring them: MSE and BCE are different units */
    loss_kind panels[LOSS_BCE_LOGITS + 1];
    int epochs = 0, n_panels = 0;
    for (int k = 0; k < n_models; k++) {
        if (models[k].epochs < 1) return AE_ERROR(AE_EINVAL, "%s: model %s has no epoch to draw", name, models[k].name);
        if ((int)models[k].loss < (int)LOSS_MSE || (int)models[k].loss > (int)LOSS_BCE_LOGITS)
            return AE_ERROR(AE_EINVAL, "%s: model %s has no loss the library knows (%d)", name, models[k].name,
                            (int)models[k].loss);
        if (models[k].epochs > epochs) epochs = models[k].epochs;
        int seen = 0;
        for (int p = 0; p < n_panels; p++) seen |= panels[p] == models[k].loss;
        if (!seen) panels[n_panels++] = models[k].loss;
    }

    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;
    fprintf(dat.fp, "# epoch");
    for (int k = 0; k < n_models; k++)
        fprintf(dat.fp, "\t%s_train_%s\t%s_val_%s", models[k].name, loss_name(models[k].loss), models[k].name,
                loss_name(models[k].loss));
    fputc('\n', dat.fp);
    for (int e = 0; e < epochs; e++) {
        fprintf(dat.fp, "%d", e + 1);
        for (int k = 0; k < n_models; k++) {
            if (e < models[k].epochs) fprintf(dat.fp, "\t%.9g\t%.9g", models[k].train_loss[e], models[k].val_loss[e]);
            else fprintf(dat.fp, "\tNaN\tNaN");
        }
        fputc('\n', dat.fp);
    }

    /* the panels stacked over the same epochs, each with room above for its title and below for its tics */
    static const double one_panel[1][2] = { { 0.87, 0.13 } }, two_panels[2][2] = { { 0.895, 0.545 }, { 0.445, 0.085 } };
    FILE *f = gp.fp;
    plot_script_begin(f, name, NULL, 800, n_panels > 1 ? 880 : 560);
    fprintf(f, "set multiplot title ");
    plot_quote(f, title);
    fprintf(f, " font ',13'\n");
    fprintf(f, "set grid lc rgb '#dddddd'\n");
    /* half an epoch of room on either side: the first and last epochs' points lie inside the axes */
    fprintf(f, "set xrange [0.5:%g]\n", epochs + 0.5);
    if (epochs <= 20) fprintf(f, "set xtics 1\n");
    fprintf(f, "set lmargin at screen 0.11\nset rmargin at screen 0.78\n");
    fprintf(f, "set key at screen 0.985, graph 1 right top box samplen 3\n");
    for (int p = 0; p < n_panels; p++) {
        double t, b;
        if (n_panels == 1) t = one_panel[0][0], b = one_panel[0][1];
        else if (n_panels == 2) t = two_panels[p][0], b = two_panels[p][1];
        else t = 0.90 - p * 0.82 / n_panels, b = t - 0.82 / n_panels + 0.09;
        fprintf(f, "\n# the models trained with %s\n", loss_name(panels[p]));
        if (n_panels > 1) fprintf(f, "set title 'models trained with %s'\n", loss_title(panels[p]));
        fprintf(f, "set tmargin at screen %.4f\nset bmargin at screen %.4f\n", t, b);
        if (p == n_panels - 1) fprintf(f, "set xlabel 'epoch (one pass over the training images)'\n");
        else fprintf(f, "unset xlabel\n");
        fprintf(f, "set ylabel '%s'\n", axis_label(panels[p]));
        /* a log axis when the first epoch's loss is twice the last one's or more, else a linear one;
         * a little room above the largest and below the smallest loss: every point lies inside */
        double range[2];
        loss_range(range, models, n_models, panels[p]);
        if (range[1] >= 2.0 * range[0]) {
            double pad = pow(range[1] / range[0], 0.06);
            fprintf(f, "set logscale y\nset yrange [%.6g:%.6g]\n", range[0] / pad, range[1] * pad);
            log_tics(f, "y", range[0] / pad, range[1] * pad);
        } else {
            double pad = 0.06 * fmax(range[1] - range[0], 0.01 * range[1]);
            fprintf(f, "unset logscale y\nset yrange [%.6g:%.6g]\nset ytics auto\n", range[0] - pad, range[1] + pad);
        }
        fprintf(f, "plot ");
        int first = 1;
        for (int k = 0; k < n_models; k++) {
            if (models[k].loss != panels[p]) continue;
            const char *colour = COLOURS[k % N_COLOURS];
            fprintf(f, "%s'%s.dat' using 1:%d with linespoints lw 2 pt 7 ps 0.6 dt 1 lc rgb '%s' title 'model %s', \\\n",
                    first ? "" : ", \\\n     ", name, 2 + 2 * k, colour, models[k].name);
            fprintf(f, "     '%s.dat' using 1:%d with linespoints lw 2 pt 6 ps 0.7 dt 2 lc rgb '%s' notitle", name,
                    3 + 2 * k, colour);
            first = 0;
        }
        fprintf(f, ", \\\n     NaN with lines lw 2 dt 1 lc rgb '#444444' title 'training', \\\n"
                   "     NaN with lines lw 2 dt 2 lc rgb '#444444' title 'validation'\n");
    }
    fprintf(f, "unset multiplot\n");
    return plot_commit_pair(&dat, &gp);
}

/* ---------------------------------------------------------- image rows */

int figure_image_rows(const char *dir, const char *name, const char *title,
                      const float *const *rows, const char *const *row_labels, int n_rows, int n_cols,
                      const char *const *column_labels, const char *const *bottom_labels)
{
    if (n_rows < 1 || n_cols < 1) return AE_ERROR(AE_EINVAL, "%s: no image to draw", name);
    const int gap = 3, scale = 3;                 /* pixels between images; screen pixels per image pixel */
    int grid_w = n_cols * (SIDE + gap) - gap, grid_h = n_rows * (SIDE + gap) - gap;
    int left = 130, right = 20, top = 80, bottom = bottom_labels ? 75 : 20;
    int width = left + right + grid_w * scale, height = top + bottom + grid_h * scale;

    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;
    /* one matrix of grid_h rows and grid_w columns; 1 (white, the page's colour) between images */
    fprintf(dat.fp, "# %d rows of %d images of %dx%d, pixel values in [0,1], 1 between images\n", n_rows, n_cols,
            SIDE, SIDE);
    for (int gy = 0; gy < grid_h; gy++) {
        int r = gy / (SIDE + gap), y = gy % (SIDE + gap);
        for (int gx = 0; gx < grid_w; gx++) {
            int c = gx / (SIDE + gap), x = gx % (SIDE + gap);
            if (gx) fputc(' ', dat.fp);
            if (y >= SIDE || x >= SIDE) fputs("1", dat.fp);
            else fprintf(dat.fp, "%.4g", rows[r][(size_t)c * PIXELS + (size_t)y * SIDE + x]);
        }
        fputc('\n', dat.fp);
    }

    FILE *f = gp.fp;
    plot_script_begin(f, name, title, width, height);
    fprintf(f, "unset key\nunset tics\nunset border\nunset colorbox\n");
    fprintf(f, "set palette gray\nset cbrange [0:1]\n");
    fprintf(f, "set lmargin at screen %.4f\nset rmargin at screen %.4f\n", (double)left / width,
            1.0 - (double)right / width);
    fprintf(f, "set tmargin at screen %.4f\nset bmargin at screen %.4f\n", 1.0 - (double)top / height,
            (double)bottom / height);
    fprintf(f, "set xrange [-0.5:%g]\nset yrange [%g:-0.5]\n", grid_w - 0.5, grid_h - 0.5);
    int tag = 1;
    for (int r = 0; r < n_rows; r++) {
        fprintf(f, "set label %d ", tag++);
        plot_quote(f, row_labels[r]);
        fprintf(f, " at graph -0.01, first %g right\n", r * (SIDE + gap) + (SIDE - 1) / 2.0);
    }
    for (int c = 0; c < n_cols; c++) {
        double centre = c * (SIDE + gap) + (SIDE - 1) / 2.0;
        fprintf(f, "set label %d ", tag++);
        plot_quote(f, column_labels[c]);
        fprintf(f, " at first %g, graph 1 center offset 0, 0.8 font ',9'\n", centre);
        if (!bottom_labels) continue;
        /* a bottom label may hold two lines, split at its first '\n' */
        const char *label = bottom_labels[c];
        size_t first_len = strcspn(label, "\n");
        for (int line = 0; line < 2; line++) {
            if (line == 1 && label[first_len] != '\n') break;
            char text[128];
            if (line == 0) snprintf(text, sizeof text, "%.*s", (int)first_len, label);
            else snprintf(text, sizeof text, "%s", label + first_len + 1);
            fprintf(f, "set label %d ", tag++);
            plot_quote(f, text);
            fprintf(f, " at first %g, graph 0 center offset 0, %g font ',9'\n", centre, line ? -2.3 : -1.2);
        }
    }
    fprintf(f, "plot '%s.dat' matrix with image\n", name);
    return plot_commit_pair(&dat, &gp);
}

/* ------------------------------------------------------ error histogram */

#define HISTOGRAM_BINS 60

int figure_error_histogram(const char *dir, const char *name, const char *title,
                           const double *errors, const int *is_normal, size_t n, double threshold,
                           const char *normal_label, const char *anomalous_label)
{
    size_t count[2] = { 0, 0 }, bins[2][HISTOGRAM_BINS];
    memset(bins, 0, sizeof bins);
    double low = threshold, top = threshold;   /* the bins span every error and the threshold */
    for (size_t i = 0; i < n; i++)
        if (isfinite(errors[i])) low = fmin(low, errors[i]), top = fmax(top, errors[i]);
    if (!(top > low)) low = 0.0, top = top > 0.0 ? top : 1.0;
    double width = (top - low) / HISTOGRAM_BINS;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(errors[i])) continue;
        int group = is_normal[i] ? 0 : 1;
        int b = (int)((errors[i] - low) / width);
        if (b >= HISTOGRAM_BINS) b = HISTOGRAM_BINS - 1;   /* the largest error sits on the right edge */
        if (b < 0) b = 0;
        bins[group][b]++;
        count[group]++;
    }

    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;
    fprintf(dat.fp, "# reconstruction error histogram: %zu normal and %zu anomalous images, threshold %.9g\n",
            count[0], count[1], threshold);
    fprintf(dat.fp, "# bin_centre\tnormal_percent\tanomalous_percent\tnormal_count\tanomalous_count\n");
    double tallest = 1.0;
    for (int b = 0; b < HISTOGRAM_BINS; b++) {
        double share[2];
        for (int g = 0; g < 2; g++) share[g] = count[g] ? 100.0 * (double)bins[g][b] / (double)count[g] : 0.0;
        tallest = fmax(tallest, fmax(share[0], share[1]));
        fprintf(dat.fp, "%.9g\t%.6g\t%.6g\t%zu\t%zu\n", low + (b + 0.5) * width, share[0], share[1], bins[0][b], bins[1][b]);
    }

    FILE *f = gp.fp;
    plot_script_begin(f, name, title, 0, 0);
    fprintf(f, "set xlabel 'reconstruction error (mean absolute error per pixel)'\n");
    fprintf(f, "set ylabel 'share of the group''s test images per bin (%%)'\n");
    fprintf(f, "set grid lc rgb '#dddddd'\n");
    fprintf(f, "set xrange [%.9g:%.9g]\n", low - width, top + width);
    fprintf(f, "set boxwidth %.9g absolute\n", width);
    fprintf(f, "set style fill transparent solid 0.45 noborder\n");
    fprintf(f, "set key top right box opaque\n");
    fprintf(f, "set yrange [0:%.6g]   # room above the bars for the key\n", 1.3 * tallest);
    fprintf(f, "threshold = %.9g\n", threshold);
    fprintf(f, "set arrow from threshold, graph 0 to threshold, graph 1 nohead lw 2 dt 2 lc rgb '#222222' front\n");
    fprintf(f, "plot '%s.dat' using 1:2 with boxes lc rgb '#1f77b4' title ", name);
    char label[256];
    snprintf(label, sizeof label, "%s (%zu images)", normal_label, count[0]);
    plot_quote(f, label);
    fprintf(f, ", \\\n     '' using 1:3 with boxes lc rgb '#d62728' title ");
    snprintf(label, sizeof label, "%s (%zu images)", anomalous_label, count[1]);
    plot_quote(f, label);
    fprintf(f, ", \\\n     NaN with lines lw 2 dt 2 lc rgb '#222222' title sprintf('threshold = mean + std = %%.4f', threshold)\n");
    return plot_commit_pair(&dat, &gp);
}

/* ----------------------------------------------------------- ROC curves */

/* 1 when point k lies inside a straight horizontal or vertical run of the curve: the corners
 * alone draw the same lines. */
static int inside_straight_run(const anomaly_roc_point *p, size_t n, size_t k)
{
    if (k == 0 || k + 1 >= n) return 0;
    return (p[k - 1].fpr == p[k].fpr && p[k].fpr == p[k + 1].fpr) ||
           (p[k - 1].tpr == p[k].tpr && p[k].tpr == p[k + 1].tpr);
}

int figure_roc_curves(const char *dir, const char *name, const char *title, const figure_roc *models,
                      int n_models)
{
    if (n_models < 1) return AE_ERROR(AE_EINVAL, "%s: no model to draw", name);
    for (int k = 0; k < n_models; k++)
        if (!models[k].roc || !models[k].roc->points || models[k].roc->n_points < 2)
            return AE_ERROR(AE_EINVAL, "%s: model %s has no ROC curve", name, models[k].name);

    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;
    fprintf(dat.fp, "# ROC curves, one block per model (gnuplot's index 0 to %d), then the threshold rule's points "
            "(index %d).\n# The corners of each curve: a point inside a straight horizontal or vertical run is left "
            "out.\n", n_models - 1, n_models);
    for (int k = 0; k < n_models; k++) {
        const anomaly_roc *roc = models[k].roc;
        fprintf(dat.fp, "# model %s: AUC %.6f, %ld normal and %ld anomalous test images\n", models[k].name, roc->auc,
                roc->n_normal, roc->n_anomalous);
        fprintf(dat.fp, "# fpr\ttpr\tlargest_error_called_normal\n");
        for (size_t p = 0; p < roc->n_points; p++)
            if (!inside_straight_run(roc->points, roc->n_points, p))
                fprintf(dat.fp, "%.9g\t%.9g\t%.9g\n", roc->points[p].fpr, roc->points[p].tpr, roc->points[p].error);
        fprintf(dat.fp, "\n\n");
    }
    fprintf(dat.fp, "# the threshold rule's point of each model, in the order of the blocks above\n# fpr\ttpr\tauc\n");
    for (int k = 0; k < n_models; k++)
        fprintf(dat.fp, "%.9g\t%.9g\t%.9g\n", models[k].operating_fpr, models[k].operating_tpr, models[k].roc->auc);

    /* the right-hand panel enlarges the top-left corner, where good detectors and their threshold
     * points crowd: 2.5 times as far out as the farthest point, in steps of 0.05 */
    double max_fpr = 0.0, min_tpr = 1.0;
    for (int k = 0; k < n_models; k++) {
        max_fpr = fmax(max_fpr, models[k].operating_fpr);
        min_tpr = fmin(min_tpr, models[k].operating_tpr);
    }
    double zoom_x = fmin(1.0, fmax(0.05, ceil(2.5 * max_fpr / 0.05 - 1e-9) * 0.05));
    double zoom_y = fmax(0.0, fmin(0.95, floor((1.0 - 2.5 * (1.0 - min_tpr)) / 0.05 + 1e-9) * 0.05));

    FILE *f = gp.fp;
    plot_script_begin(f, name, NULL, 1400, 720);
    fprintf(f, "set multiplot title ");
    plot_quote(f, title);
    fprintf(f, " font ',13'\n");
    fprintf(f, "set xlabel 'anomalous images called normal (share of all anomalous ones: false-positive rate)'\n");
    fprintf(f, "set ylabel 'normal images called normal (share of all normal ones: true-positive rate)'\n");
    fprintf(f, "set grid lc rgb '#dddddd'\n");
    fprintf(f, "set tmargin at screen 0.88\nset bmargin at screen 0.11\n");
    for (int panel = 0; panel < 2; panel++) {
        /* a little room around the ranges, so that a curve along an edge stays visible */
        double x_lo = 0.0, x_hi = panel ? zoom_x : 1.0, y_lo = panel ? zoom_y : 0.0, y_hi = 1.0;
        double dx = 0.01 * (x_hi - x_lo), dy = 0.01 * (y_hi - y_lo);
        fprintf(f, "\n# %s\n", panel ? "the top-left corner enlarged" : "the whole curve");
        fprintf(f, "set lmargin at screen %.2f\nset rmargin at screen %.2f\n", panel ? 0.565 : 0.065,
                panel ? 0.985 : 0.485);
        fprintf(f, "set xrange [%.6g:%.6g]\nset yrange [%.6g:%.6g]\n", x_lo - dx, x_hi + dx, y_lo - dy, y_hi + dy);
        if (panel == 0) {
            fprintf(f, "set title 'every threshold on the reconstruction error'\n");
            fprintf(f, "set xtics 0.1\nset ytics 0.1\n");
            fprintf(f, "set object 1 rect from 0, %.6g to %.6g, 1 fs empty border lc rgb '#444444' dt 3 lw 1.5 front\n",
                    zoom_y, zoom_x);
            fprintf(f, "set key bottom right box opaque\n");
        } else {
            fprintf(f, "set title 'enlarged: the dotted box on the left'\n");
            fprintf(f, "set xtics auto\nset ytics auto\nunset object 1\nunset key\n");
        }
        fprintf(f, "plot ");
        for (int k = 0; k < n_models; k++) {
            char label[96];
            snprintf(label, sizeof label, "model %s: AUC %.4f", models[k].name, models[k].roc->auc);
            fprintf(f, "%s'%s.dat' index %d using 1:2 with lines lw 2 lc rgb '%s' title ", k ? ", \\\n     " : "", name,
                    k, COLOURS[k % N_COLOURS]);
            plot_quote(f, label);
        }
        fprintf(f, ", \\\n     x with lines lw 1.5 dt 2 lc rgb '#888888' title 'guessing at random: AUC 0.5'");
        fprintf(f, ", \\\n     NaN with points pt 7 ps 1.6 lc rgb '#444444' title 'the threshold rule: mean + 1 std'");
        for (int k = 0; k < n_models; k++)   /* drawn last, on top of every curve */
            fprintf(f, ", \\\n     '%s.dat' index %d every ::%d::%d using 1:2 with points pt 7 ps 1.6 lc rgb '%s' notitle",
                    name, n_models, k, k, COLOURS[k % N_COLOURS]);
        fputc('\n', f);
    }
    fprintf(f, "unset multiplot\n");
    return plot_commit_pair(&dat, &gp);
}
