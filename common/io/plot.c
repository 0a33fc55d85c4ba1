/* plot.c: .dat + .gp writers and rendering through gnuplot (see plot.h). */
#include "io/plot.h"
#include "error.h"
#include "io/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Ten distinguishable colours (the "tab10" palette), one per Fashion-MNIST class. */
static const char *const class_colours[] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};

void plot_quote(FILE *gp, const char *text)
{
    fputc('\'', gp);
    for (const char *c = text ? text : ""; *c; c++) {
        if (*c == '\'') fputc('\'', gp);
        fputc(*c, gp);
    }
    fputc('\'', gp);
}

void plot_script_begin(FILE *gp, const char *name, const char *title, int width, int height)
{
    if (width <= 0) width = 800;
    if (height <= 0) height = 560;
    fprintf(gp, "# %s.gp: run `gnuplot %s.gp` in this folder to draw %s.png from %s.dat.\n",
            name, name, name, name);
    fprintf(gp, "if (!exists(\"outfile\")) outfile = '%s.png'\n", name);
    fprintf(gp, "set terminal pngcairo size %d,%d font 'DejaVu Sans,11' noenhanced\n", width, height);
    fprintf(gp, "set output outfile\n");
    if (title) {
        fprintf(gp, "set title ");
        plot_quote(gp, title);
        fprintf(gp, " font ',13'\n");
    }
}

/* Opens dir/NAME.EXT for atomic writing. */
static int open_output(atomic_file *af, const char *dir, const char *name, const char *ext)
{
    char file[512], path[AE_PATH_MAX];
    snprintf(file, sizeof file, "%s.%s", name, ext);
    int rc = path_join(path, sizeof path, dir, file);
    if (rc != AE_OK) return rc;
    return atomic_open(af, path);
}

int plot_open_pair(atomic_file *dat, atomic_file *gp, const char *dir, const char *name)
{
    int rc = open_output(dat, dir, name, "dat");
    if (rc != AE_OK) return rc;
    if ((rc = open_output(gp, dir, name, "gp")) != AE_OK) atomic_abort(dat);
    return rc;
}

int plot_commit_pair(atomic_file *dat, atomic_file *gp)
{
    int rc = atomic_commit(dat);
    if (rc != AE_OK) {
        atomic_abort(gp);
        return rc;
    }
    return atomic_commit(gp);
}

static void write_axes(FILE *gp, const plot_axes *axes)
{
    if (axes->xlabel) { fprintf(gp, "set xlabel "); plot_quote(gp, axes->xlabel); fputc('\n', gp); }
    if (axes->ylabel) { fprintf(gp, "set ylabel "); plot_quote(gp, axes->ylabel); fputc('\n', gp); }
    if (axes->logx) fprintf(gp, "set logscale x\n");
    if (axes->logy) fprintf(gp, "set logscale y\n");
    fprintf(gp, "set grid lc rgb '#dddddd'\n");
}

int plot_lines(const char *dir, const char *name, const plot_axes *axes,
               const double *x, size_t n, const double *const *ys,
               const char *const *labels, int n_series)
{
    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;
    fprintf(dat.fp, "# %s", axes->xlabel ? axes->xlabel : "x");
    for (int s = 0; s < n_series; s++) fprintf(dat.fp, "\t%s", labels[s]);
    fputc('\n', dat.fp);
    for (size_t i = 0; i < n; i++) {
        fprintf(dat.fp, "%.9g", x[i]);
        for (int s = 0; s < n_series; s++) fprintf(dat.fp, "\t%.9g", ys[s][i]);
        fputc('\n', dat.fp);
    }

    plot_script_begin(gp.fp, name, axes->title, axes->width, axes->height);
    write_axes(gp.fp, axes);
    fprintf(gp.fp, "set key top right box opaque\n");
    fprintf(gp.fp, "plot ");
    for (int s = 0; s < n_series; s++) {
        fprintf(gp.fp, "%s'%s.dat' using 1:%d with linespoints lw 2 pt 7 ps 0.5 title ",
                s ? ", \\\n     " : "", name, s + 2);
        plot_quote(gp.fp, labels[s]);
    }
    fputc('\n', gp.fp);
    return plot_commit_pair(&dat, &gp);
}

int plot_image_grid(const char *dir, const char *name, const char *title,
                    const float *images, int n, int h, int w, int cols,
                    const char *const *row_labels)
{
    plot_grid g = { images, n, 1, h, w, cols, row_labels, NULL };
    return plot_image_grid_labelled(dir, name, title, &g);
}

/* A value in [0, 1] as a byte of colour, NaN as black. */
static int colour_byte(float v)
{
    if (!(v > 0.0f)) return 0;
    return v >= 1.0f ? 255 : (int)lrintf(v * 255.0f);
}

int plot_image_grid_labelled(const char *dir, const char *name, const char *title, const plot_grid *g)
{
    const int n = g->n, h = g->h, w = g->w, cols = g->cols, channels = g->channels;
    if (n <= 0 || h <= 0 || w <= 0 || cols <= 0)
        return AE_ERROR(AE_EINVAL, "plot_image_grid: %s needs at least one image and one column", name);
    if (channels != 1 && channels != 3)
        return AE_ERROR(AE_EINVAL, "plot_image_grid: %s has %d channels; a grid draws 1 (grey) or 3 (colour)",
                        name, channels);
    const int gap = 2;
    int rows = (n + cols - 1) / cols;
    int grid_w = cols * (w + gap) - gap, grid_h = rows * (h + gap) - gap;
    const size_t plane = (size_t)h * w;

    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;
    if (channels == 1) {
        /* One matrix of grid_h rows and grid_w columns; the gaps between images are NaN (drawn as background). */
        fprintf(dat.fp, "# %d images of %dx%d in a grid of %d rows and %d columns (NaN between images)\n",
                n, h, w, rows, cols);
        for (int gy = 0; gy < grid_h; gy++) {
            int r = gy / (h + gap), y = gy % (h + gap);
            for (int gx = 0; gx < grid_w; gx++) {
                int c = gx / (w + gap), x = gx % (w + gap);
                int k = r * cols + c;
                if (gx) fputc(' ', dat.fp);
                if (y >= h || x >= w || k >= n) fputs("NaN", dat.fp);
                else fprintf(dat.fp, "%.4g", g->images[(size_t)k * plane + (size_t)y * w + x]);
            }
            fputc('\n', dat.fp);
        }
    } else {
        /* gnuplot's rgbimage: one line "column row red green blue" (0..255) per grid pixel, a blank
         * line after each grid row; the gaps white */
        fprintf(dat.fp, "# %d colour images of %dx%d in a grid of %d rows and %d columns\n"
                        "# column\trow\tred\tgreen\tblue\n", n, h, w, rows, cols);
        for (int gy = 0; gy < grid_h; gy++) {
            int r = gy / (h + gap), y = gy % (h + gap);
            for (int gx = 0; gx < grid_w; gx++) {
                int c = gx / (w + gap), x = gx % (w + gap);
                int k = r * cols + c;
                if (y >= h || x >= w || k >= n) {
                    fprintf(dat.fp, "%d %d 255 255 255\n", gx, gy);
                    continue;
                }
                const float *px = g->images + (size_t)k * 3 * plane + (size_t)y * w + x;
                fprintf(dat.fp, "%d %d %d %d %d\n", gx, gy, colour_byte(px[0]), colour_byte(px[plane]),
                        colour_byte(px[2 * plane]));
            }
            fputc('\n', dat.fp);
        }
    }

    /* Each image pixel becomes a square of `scale` screen pixels, at least 3, and the grid at least 600 wide. */
    int scale = grid_w * 3 >= 600 ? 3 : (600 + grid_w - 1) / grid_w, left = 20, top = 0;
    if (g->row_labels) {   /* room for the longest row label, about 8 pixels a character at 11 pt */
        size_t longest = 0;
        for (int r = 0; r < rows; r++)
            if (g->row_labels[r] && strlen(g->row_labels[r]) > longest) longest = strlen(g->row_labels[r]);
        left = 30 + 8 * (int)longest;
    }
    if (g->col_labels) top = 30;   /* a line of headers above the images, the title above them */
    int width = left + 20 + grid_w * scale, height = 70 + top + grid_h * scale;
    plot_script_begin(gp.fp, name, title, width, height);
    fprintf(gp.fp, "unset key\nunset tics\nunset border\nunset colorbox\n");
    if (channels == 1) fprintf(gp.fp, "set palette gray\nset cbrange [0:1]\n");
    fprintf(gp.fp, "set lmargin at screen %g\nset rmargin at screen %g\n",
            (double)left / width, 1.0 - 20.0 / width);
    if (g->col_labels)
        fprintf(gp.fp, "set tmargin at screen %g\nset bmargin at screen %g\nset title offset 0, 1.4\n",
                1.0 - (double)(50 + top) / height, 20.0 / height);
    fprintf(gp.fp, "set xrange [-0.5:%g]\nset yrange [%g:-0.5]\n", grid_w - 0.5, grid_h - 0.5);
    int label = 0;
    if (g->row_labels)
        for (int r = 0; r < rows; r++) {
            fprintf(gp.fp, "set label %d ", ++label);
            plot_quote(gp.fp, g->row_labels[r]);
            fprintf(gp.fp, " at graph -0.01, first %g right\n", r * (h + gap) + (h - 1) / 2.0);
        }
    if (g->col_labels)
        for (int c = 0; c < cols; c++) {
            if (!g->col_labels[c]) continue;
            fprintf(gp.fp, "set label %d ", ++label);
            plot_quote(gp.fp, g->col_labels[c]);
            fprintf(gp.fp, " at first %g, graph 1.0 center offset 0, 1 font ',10'\n", c * (w + gap) + (w - 1) / 2.0);
        }
    /* `with image` draws one bitmap: no seams between pixels; the NaN gaps stay background. */
    if (channels == 1) fprintf(gp.fp, "plot '%s.dat' matrix with image\n", name);
    else fprintf(gp.fp, "plot '%s.dat' using 1:2:3:4:5 with rgbimage\n", name);
    return plot_commit_pair(&dat, &gp);
}

int plot_scatter_classes(const char *dir, const char *name, const plot_axes *axes,
                         const float *x, const float *y, const int *labels, size_t n,
                         const char *const *class_names, int n_classes)
{
    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, name);
    if (rc != AE_OK) return rc;
    fprintf(dat.fp, "# %s\t%s\tclass\n", axes->xlabel ? axes->xlabel : "x", axes->ylabel ? axes->ylabel : "y");
    for (size_t i = 0; i < n; i++) fprintf(dat.fp, "%.6g\t%.6g\t%d\n", x[i], y[i], labels[i]);

    plot_axes a = *axes;
    if (!a.width) a.width = 900;
    if (!a.height) a.height = 700;
    plot_script_begin(gp.fp, name, a.title, a.width, a.height);
    write_axes(gp.fp, &a);
    fprintf(gp.fp, "set key outside right top box\n");
    fprintf(gp.fp, "plot ");
    for (int k = 0; k < n_classes; k++) {
        fprintf(gp.fp, "%s'%s.dat' using 1:($3==%d ? $2 : NaN) with points pt 7 ps 0.4 lc rgb '%s' title ",
                k ? ", \\\n     " : "", name, k, class_colours[k % 10]);
        plot_quote(gp.fp, class_names ? class_names[k] : "class");
    }
    fputc('\n', gp.fp);
    return plot_commit_pair(&dat, &gp);
}

int gnuplot_available(void)
{
    const char *path = getenv("PATH");
    if (!path) return 0;
    char dir[AE_PATH_MAX], exe[AE_PATH_MAX];
    for (const char *p = path; *p; ) {
        size_t len = strcspn(p, ":");
        if (len > 0 && len < sizeof dir) {
            memcpy(dir, p, len);
            dir[len] = '\0';
            if (path_join(exe, sizeof exe, dir, "gnuplot") == AE_OK && access(exe, X_OK) == 0) return 1;
        }
        p += len;
        if (*p == ':') p++;
    }
    return 0;
}

int plot_render(const char *dir, const char *name, int *rendered)
{
    *rendered = 0;
    if (!gnuplot_available()) return AE_OK;

    char script[512], png[AE_PATH_MAX], tmp_path[AE_PATH_MAX + 32], define[600];
    snprintf(script, sizeof script, "%s.gp", name);
    char png_name[520];
    snprintf(png_name, sizeof png_name, "%s.png", name);
    int rc;
    if ((rc = path_join(png, sizeof png, dir, png_name)) != AE_OK) return rc;
    /* gnuplot writes into a new file of ours (never through what stood at its name), by its plain
     * name, since it runs in the output folder */
    if ((rc = temp_create(tmp_path, sizeof tmp_path, png)) != AE_OK) return rc;
    const char *tmp_png = strrchr(tmp_path, '/') ? strrchr(tmp_path, '/') + 1 : tmp_path;
    if ((size_t)snprintf(define, sizeof define, "outfile='%s'", tmp_png) >= sizeof define) {
        remove(tmp_path);
        return AE_ERROR(AE_EINVAL, "%s: figure name too long", name);
    }
    const pid_t parent = getpid();

    int pipefd[2];
    if (pipe(pipefd) != 0) {
        remove(tmp_path);
        return AE_ERROR(AE_EIO, "cannot start gnuplot: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        remove(tmp_path);
        return AE_ERROR(AE_EIO, "cannot start gnuplot: %s", strerror(errno));
    }
    if (pid == 0) {
        /* In the child: die with the program (a killed run leaves no gnuplot writing on), and run in
         * the output folder, so the script finds NAME.dat by its plain name. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(125);   /* the program ended before the line above */
        close(pipefd[0]);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); close(devnull); }
        dup2(pipefd[1], 2);
        close(pipefd[1]);
        if (chdir(dir) != 0) _exit(126);
        execlp("gnuplot", "gnuplot", "-e", define, script, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    /* Keep the first part of gnuplot's messages; drain the rest so it never blocks on a full pipe. */
    char messages[2048], chunk[512];
    size_t used = 0;
    ssize_t got;
    while ((got = read(pipefd[0], chunk, sizeof chunk)) > 0) {
        size_t take = (size_t)got < sizeof messages - 1 - used ? (size_t)got : sizeof messages - 1 - used;
        memcpy(messages + used, chunk, take);
        used += take;
    }
    messages[used] = '\0';
    close(pipefd[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0) {
        remove(tmp_path);
        return AE_ERROR(AE_EIO, "gnuplot for %s: %s", script, strerror(errno));
    }
    struct stat drawn;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || stat(tmp_path, &drawn) != 0 || drawn.st_size == 0) {
        remove(tmp_path);
        /* gnuplot's messages start with the offending line; keep them short. */
        for (char *c = messages; *c; c++) if (*c == '\n' && c[1]) *c = ' ';
        return AE_ERROR(AE_EIO, "gnuplot could not draw %s/%s: %s", dir, script,
                        messages[0] ? messages : "it exited with an error");
    }
    if (rename(tmp_path, png) != 0) {
        int saved = errno;
        remove(tmp_path);
        return AE_ERROR(AE_EIO, "cannot move %s into place: %s", png, strerror(saved));
    }
    *rendered = 1;
    return AE_OK;
}
