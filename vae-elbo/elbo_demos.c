/* elbo_demos.c: what the lectures show a trained VAE doing (see elbo_training.h):
 *
 *   vae_reconstructions   test images and what each VAE makes of them (the decoded mean code)
 *   latent_histograms     each latent dimension's means μ over the test set against the prior
 *                         N(0, 1), with the KL it carries: collapsed dimensions stand out
 *   latent_arithmetic     attribute vectors between class-mean codes ("ankle boot − sneaker")
 *                         added to other images' codes and decoded, as the lectures do with faces
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elbo_training.h"
#include "error.h"
#include "io/plot.h"
#include "io/results.h"

/* A dimension is active when its mean moves with the image: Var_x(E_q[z_j | x]) > 0.01
 * (the criterion of Burda, Grosse and Salakhutdinov, "Importance weighted autoencoders", 2016). */
#define ACTIVE_VARIANCE 0.01
#define HIST_BINS 48              /* bins of width 1/6 on [-4, 4] */
#define HIST_REACH 4.0
#define PANEL_COLS 5

/* ------------------------------------------------------------ reconstructions */

/* The decoded codes μ of n test images (index into the set elbo_encode_set encoded) into out (n, P). */
static int decode_codes(training_run *r, const size_t *index, int n, float *out)
{
    vae *v = r->v;
    const int batch = v->cfg.max_batch, latent = v->cfg.latent;
    if (!r->test_mu) return AE_ERROR(AE_ESTATE, "decoding the codes of %s before its test set was encoded", r->title);
    float *mu = malloc((size_t)batch * latent * sizeof *mu);
    int rc = mu ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory for decoding %d codes", n);
    for (int start = 0; start < n && rc == AE_OK; start += batch) {
        int m = n - start < batch ? n - start : batch;
        for (int k = 0; k < m; k++)
            memcpy(mu + (size_t)k * latent, r->test_mu + index[start + k] * latent, (size_t)latent * sizeof *mu);
        rc = vae_decode_images(v, mu, m, out + (size_t)start * v->image_size);
    }
    free(mu);
    return rc;
}

int elbo_reconstruct_classes(training_run *r, const image_split *test, float *rows)
{
    size_t index[FASHION_CLASSES];
    int n = fashion_first_of_each_class(index, &test->labels);   /* (any labels 0..9) */
    memset(rows, 0, (size_t)FASHION_CLASSES * r->v->image_size * sizeof *rows);   /* a missing class stays black */
    return n > 0 ? decode_codes(r, index, n, rows) : AE_OK;
}

int elbo_reconstruction_mse(elbo_context *ctx, training_run *r, const idx_array *test)
{
    enum { CHUNK = 1000 };
    const size_t size = r->v->image_size;
    float *decoded = malloc((size_t)CHUNK * size * sizeof *decoded);
    if (!decoded) return AE_ERROR(AE_ENOMEM, "out of memory for the reconstructions");
    double sum = 0.0;
    int rc = AE_OK;
    for (size_t start = 0; start < test->count && rc == AE_OK; start += CHUNK) {
        int n = (int)(test->count - start < CHUNK ? test->count - start : CHUNK);
        size_t index[CHUNK];
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        rc = decode_codes(r, index, n, decoded);
        for (int k = 0; k < n && rc == AE_OK; k++)
            for (size_t p = 0; p < size; p++) {
                double d = decoded[(size_t)k * size + p] - test->data[(start + k) * size + p] / 255.0;
                sum += d * d;
            }
    }
    free(decoded);
    return rc == AE_OK ? elbo_add_prefixed(ctx, r->prefix, "test_mse_from_mu", sum / ((double)test->count * size)) : rc;
}

int elbo_figure_reconstructions(elbo_context *ctx, const fashion_mnist *fm, const float *rows,
                                const char *const *model_names, int n_models)
{
    if (n_models == 0) return AE_OK;
    size_t index[FASHION_CLASSES];
    int n_classes = fashion_first_of_each_class(index, &fm->test.labels);
    const size_t per_row = (size_t)FASHION_CLASSES * FASHION_PIXELS;
    float *grid = calloc((size_t)(n_models + 1) * per_row, sizeof *grid);
    if (!grid) return AE_ERROR(AE_ENOMEM, "out of memory for the reconstruction figure");
    images_to_float(grid, &fm->test.images, index, n_classes);
    memcpy(grid + per_row, rows, (size_t)n_models * per_row * sizeof *grid);
    const char *row_labels[3] = { "test image", model_names[0], n_models > 1 ? model_names[1] : NULL };
    const char *col_labels[FASHION_CLASSES];
    for (int c = 0; c < FASHION_CLASSES; c++) col_labels[c] = c < n_classes ? fashion_class_name(fm->test.labels.data[index[c]]) : "";
    plot_grid g = { grid, (n_models + 1) * FASHION_CLASSES, 1, 28, 28, FASHION_CLASSES, row_labels, col_labels };
    int rc = plot_image_grid_labelled(ctx->run->out_dir, "vae_reconstructions",
                                      "The first test image of each class, and each VAE's decoding of its mean code μ "
                                      "(Bernoulli means)", &g);
    free(grid);
    return rc == AE_OK ? program_render(ctx->run, "vae_reconstructions") : rc;
}

/* ---------------------------------------------------------- latent histograms */

int elbo_figure_latent_histograms(elbo_context *ctx, const training_run *r, const char *figure_name)
{
    const int latent = r->v->cfg.latent;
    const size_t n = r->test_n;
    if (!r->test_mu || n == 0) return AE_ERROR(AE_ESTATE, "latent histograms of %s before its test set was encoded", r->title);
    double *kl = calloc((size_t)latent * 2, sizeof *kl);
    double *var_mu = kl + latent;
    unsigned *bins = calloc((size_t)latent * HIST_BINS, sizeof *bins);
    if (!kl || !bins) {
        free(kl);
        free(bins);
        return AE_ERROR(AE_ENOMEM, "out of memory for the latent histograms");
    }
    int active = 0;
    size_t outside = 0;
    for (int j = 0; j < latent; j++) {
        double mean = 0.0, squares = 0.0, sum_kl = 0.0;
        for (size_t i = 0; i < n; i++) mean += r->test_mu[i * latent + j];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) {
            double mu = r->test_mu[i * latent + j], lv = r->test_logvar[i * latent + j];
            squares += (mu - mean) * (mu - mean);
            sum_kl += 0.5 * (mu * mu + exp(lv) - 1.0 - lv);         /* KL(N(μ, σ²) ‖ N(0, 1)) of this dimension */
            int b = (int)floor((mu + HIST_REACH) / (2.0 * HIST_REACH) * HIST_BINS);
            if (b >= 0 && b < HIST_BINS) bins[(size_t)j * HIST_BINS + b]++;
            else outside++;
        }
        var_mu[j] = squares / (double)n;
        kl[j] = sum_kl / (double)n;
        active += var_mu[j] > ACTIVE_VARIANCE;
    }
    int rc = elbo_add_prefixed(ctx, r->prefix, "active_dims", active);
    for (int j = 0; j < latent && rc == AE_OK; j++) {
        char name[32];
        snprintf(name, sizeof name, "kl_dim_%d", j + 1);
        rc = elbo_add_prefixed(ctx, r->prefix, name, kl[j]);
        snprintf(name, sizeof name, "var_mu_dim_%d", j + 1);
        if (rc == AE_OK) rc = elbo_add_prefixed(ctx, r->prefix, name, var_mu[j]);
    }
    printf("  %s: %d of %d latent dimensions active (Var μ > %g over the test set); KL per dimension:", r->title,
           active, latent, ACTIVE_VARIANCE);
    for (int j = 0; j < latent; j++) printf(" %.2f", kl[j]);
    printf("\n");

    atomic_file dat, gp;
    if (rc == AE_OK && figure_name) rc = plot_open_pair(&dat, &gp, ctx->run->out_dir, figure_name);
    if (rc == AE_OK && figure_name) {
        const double width = 2.0 * HIST_REACH / HIST_BINS;
        fprintf(dat.fp, "# %s: the encoder's means μ_j of the %zu test images, one block per dimension j\n"
                        "# (%zu values fell outside [-%g, %g]); density = count / (N · bin width)\n",
                r->title, n, outside, HIST_REACH, HIST_REACH);
        for (int j = 0; j < latent; j++) {
            fprintf(dat.fp, "%s# dimension %d: KL %.6g nats, Var μ %.6g\n# bin_centre\tdensity\n", j ? "\n\n" : "",
                    j + 1, kl[j], var_mu[j]);
            for (int b = 0; b < HIST_BINS; b++)
                fprintf(dat.fp, "%.6g\t%.6g\n", -HIST_REACH + (b + 0.5) * width,
                        bins[(size_t)j * HIST_BINS + b] / ((double)n * width));
        }
        int cols = latent < PANEL_COLS ? latent : PANEL_COLS, rows = (latent + cols - 1) / cols;
        char title[256];
        snprintf(title, sizeof title, "%s: each latent dimension's means μ_j over the %zu test images (bars) against "
                 "the prior N(0, 1) (line); %d of %d active", r->title, n, active, latent);
        plot_script_begin(gp.fp, figure_name, NULL, 300 * cols + 40, 230 * rows + 60);
        fprintf(gp.fp, "set multiplot layout %d,%d title ", rows, cols);
        plot_quote(gp.fp, title);
        fprintf(gp.fp, " font ',12'\nunset key\nset style fill solid 0.6 noborder\nset xrange [-%g:%g]\n"
                       "set yrange [0:*]\nset xtics 2 font ',9'\nset ytics font ',9'\nset grid lc rgb '#dddddd'\n"
                       "set samples 200\nphi(x) = exp(-x*x/2) / sqrt(2*pi)\n", HIST_REACH, HIST_REACH);
        for (int j = 0; j < latent; j++) {
            char panel[128];
            snprintf(panel, sizeof panel, "z_%d: KL %.3g, Var μ %.3g%s", j + 1, kl[j], var_mu[j],
                     var_mu[j] > ACTIVE_VARIANCE ? "" : " (collapsed)");
            fprintf(gp.fp, "set title ");
            plot_quote(gp.fp, panel);
            fprintf(gp.fp, " font ',10' tc rgb '%s'\n", var_mu[j] > ACTIVE_VARIANCE ? "#000000" : "#d62728");
            fprintf(gp.fp, "plot '%s.dat' index %d using 1:2 with boxes lc rgb '%s', phi(x) with lines lw 2 "
                           "lc rgb '#333333'\n", figure_name, j, var_mu[j] > ACTIVE_VARIANCE ? "#1f77b4" : "#d62728");
        }
        fprintf(gp.fp, "unset multiplot\n");
        rc = plot_commit_pair(&dat, &gp);
    }
    free(kl);
    free(bins);
    return rc == AE_OK && figure_name ? program_render(ctx->run, figure_name) : rc;
}

/* ---------------------------------------------------------- latent arithmetic */

/* The attribute vectors drawn: v = mean code(to) − mean code(from), added to test images of `from`. */
static const struct {
    int from, to;
    const char *key;
} attributes[] = {
    { 7, 9, "sneaker_to_boot" },
    { 0, 2, "tshirt_to_pullover" },
};
#define N_ATTRIBUTES 2
#define ARITH_ROWS 3              /* test images per attribute */
static const float alphas[] = { 0.0f, 0.25f, 0.5f, 0.75f, 1.0f, 1.5f };
#define N_ALPHAS 6

/* Squared distance between two images of 784 pixels. */
static double distance2(const float *a, const float *b)
{
    double d = 0.0;
    for (int p = 0; p < FASHION_PIXELS; p++) d += ((double)a[p] - b[p]) * ((double)a[p] - b[p]);
    return d;
}

int elbo_figure_latent_arithmetic(elbo_context *ctx, training_run *r, const fashion_mnist *fm)
{
    vae *v = r->v;
    if (v->x_size != FASHION_PIXELS)
        return AE_ERROR(AE_EINVAL, "latent arithmetic is drawn for the dense VAE of 784 pixels, not the %s", r->title);
    if (!r->test_mu || r->test_n != fm->test.images.count)
        return AE_ERROR(AE_ESTATE, "latent arithmetic of %s before its test set was encoded", r->title);
    const int latent = v->cfg.latent, batch = v->cfg.max_batch;
    const idx_array *train = &fm->train.images, *test = &fm->test.images;
    /* the class means of the codes μ and of the images, over the training set */
    double *code_mean = calloc((size_t)FASHION_CLASSES * latent, sizeof *code_mean);
    double *image_mean = calloc((size_t)FASHION_CLASSES * FASHION_PIXELS, sizeof *image_mean);
    long counts[FASHION_CLASSES] = { 0 };
    float *x = malloc((size_t)batch * v->x_size * sizeof *x);
    float *mu = malloc((size_t)batch * 2 * latent * sizeof *mu);
    const int cols = 1 + N_ALPHAS + 1, n_grid = N_ATTRIBUTES * ARITH_ROWS * cols;
    float *grid = calloc((size_t)n_grid * FASHION_PIXELS, sizeof *grid);
    float *z = malloc((size_t)(N_ALPHAS + 1) * latent * sizeof *z);
    float *decoded = malloc((size_t)(N_ALPHAS + 1) * FASHION_PIXELS * sizeof *decoded);
    float *means_f = malloc(2 * (size_t)FASHION_PIXELS * sizeof *means_f);
    size_t *index = malloc((size_t)batch * sizeof *index);
    int rc = code_mean && image_mean && x && mu && grid && z && decoded && means_f && index
                 ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory for the latent arithmetic");
    for (size_t start = 0; start < train->count && rc == AE_OK; start += (size_t)batch) {
        int n = (int)(train->count - start < (size_t)batch ? train->count - start : (size_t)batch);
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        vae_fill_batch(v, x, train, index, n);
        rc = vae_encode(v, x, n, mu, mu + (size_t)batch * latent);
        for (int k = 0; k < n && rc == AE_OK; k++) {
            int c = fm->train.labels.data[start + k];
            counts[c]++;
            for (int j = 0; j < latent; j++) code_mean[c * latent + j] += mu[(size_t)k * latent + j];
            for (int p = 0; p < FASHION_PIXELS; p++) image_mean[(size_t)c * FASHION_PIXELS + p] += x[(size_t)k * FASHION_PIXELS + p];
        }
    }
    for (int a = 0; a < N_ATTRIBUTES && rc == AE_OK; a++)
        if (counts[attributes[a].from] == 0 || counts[attributes[a].to] == 0)
            rc = AE_ERROR(AE_EINVAL, "latent arithmetic: the training set has no %s or no %s",
                          fashion_class_name(attributes[a].from), fashion_class_name(attributes[a].to));
    for (int c = 0; c < FASHION_CLASSES && rc == AE_OK; c++) {
        for (int j = 0; j < latent && counts[c]; j++) code_mean[c * latent + j] /= (double)counts[c];
        for (int p = 0; p < FASHION_PIXELS && counts[c]; p++) image_mean[(size_t)c * FASHION_PIXELS + p] /= (double)counts[c];
    }

    char row_text[N_ATTRIBUTES * ARITH_ROWS][48];
    const char *row_labels[N_ATTRIBUTES * ARITH_ROWS];
    for (int a = 0; a < N_ATTRIBUTES && rc == AE_OK; a++) {
        const int from = attributes[a].from, to = attributes[a].to;
        double norm = 0.0;
        for (int j = 0; j < latent; j++) {
            double d = code_mean[to * latent + j] - code_mean[from * latent + j];
            norm += d * d;
        }
        for (int p = 0; p < FASHION_PIXELS; p++) {
            means_f[p] = (float)image_mean[(size_t)from * FASHION_PIXELS + p];
            means_f[FASHION_PIXELS + p] = (float)image_mean[(size_t)to * FASHION_PIXELS + p];
        }
        /* every test image of class `from`: is its decoded code nearer the mean image of `to` than of
         * `from`, before and after adding the vector? */
        long images = 0, nearer_before = 0, nearer_after = 0, drawn = 0;
        for (size_t i = 0; i < test->count && rc == AE_OK; i++) {
            if (fm->test.labels.data[i] != from) continue;
            const float *code = r->test_mu + i * latent;               /* μ of test image i (elbo_encode_set) */
            for (int s = 0; s < N_ALPHAS; s++)
                for (int j = 0; j < latent; j++)
                    z[s * latent + j] = code[j] + alphas[s] * (float)(code_mean[to * latent + j] - code_mean[from * latent + j]);
            for (int j = 0; j < latent; j++) z[N_ALPHAS * latent + j] = (float)code_mean[to * latent + j];
            if (rc == AE_OK) rc = vae_decode_images(v, z, N_ALPHAS + 1, decoded);
            if (rc != AE_OK) break;
            images++;
            const float *before = decoded, *after = decoded + 4 * FASHION_PIXELS;   /* α = 0 and α = 1 */
            nearer_before += distance2(before, means_f + FASHION_PIXELS) < distance2(before, means_f);
            nearer_after += distance2(after, means_f + FASHION_PIXELS) < distance2(after, means_f);
            if (drawn < ARITH_ROWS) {
                int row = a * ARITH_ROWS + (int)drawn;
                float *cell = grid + (size_t)row * cols * FASHION_PIXELS;
                images_to_float(cell, test, &i, 1);
                memcpy(cell + FASHION_PIXELS, decoded, (size_t)(N_ALPHAS + 1) * FASHION_PIXELS * sizeof *cell);
                snprintf(row_text[row], sizeof row_text[row], "%s %ld → %s", fashion_class_name(from), drawn + 1,
                         fashion_class_name(to));
                row_labels[row] = row_text[row];
                drawn++;
            }
        }
        if (rc == AE_OK && images == 0)
            rc = AE_ERROR(AE_EINVAL, "latent arithmetic: the test set has no %s", fashion_class_name(from));
        if (rc != AE_OK) break;
        for (long k = drawn; k < ARITH_ROWS; k++) row_labels[a * ARITH_ROWS + k] = "";
        char key[64];
        snprintf(key, sizeof key, "arithmetic_%s_norm", attributes[a].key);
        rc = elbo_add_double(ctx, key, sqrt(norm));
        snprintf(key, sizeof key, "arithmetic_%s_share_before", attributes[a].key);
        if (rc == AE_OK) rc = elbo_add_double(ctx, key, (double)nearer_before / images);
        snprintf(key, sizeof key, "arithmetic_%s_share_after", attributes[a].key);
        if (rc == AE_OK) rc = elbo_add_double(ctx, key, (double)nearer_after / images);
        printf("  Latent arithmetic, v = mean code(%s) − mean code(%s), |v| = %.2f: of the %ld test %ss, %.1f%% "
               "decode nearer the mean %s than the mean %s, and %.1f%% after adding v\n",
               fashion_class_name(to), fashion_class_name(from), sqrt(norm), images, fashion_class_name(from),
               100.0 * nearer_before / images, fashion_class_name(to), fashion_class_name(from),
               100.0 * nearer_after / images);
    }
    if (rc == AE_OK) {
        const char *col_labels[1 + N_ALPHAS + 1];
        char alpha_text[N_ALPHAS][24];
        col_labels[0] = "test image";
        for (int s = 0; s < N_ALPHAS; s++) {
            if (s == 0) snprintf(alpha_text[s], sizeof alpha_text[s], "decoded μ");
            else snprintf(alpha_text[s], sizeof alpha_text[s], "μ + %g v", alphas[s]);
            col_labels[1 + s] = alpha_text[s];
        }
        col_labels[1 + N_ALPHAS] = "class mean";
        char title[160];
        snprintf(title, sizeof title, "Latent arithmetic: decoded μ + α v, v = mean code(target) − mean code(source)");
        plot_grid g = { grid, n_grid, 1, 28, 28, cols, row_labels, col_labels };
        rc = plot_image_grid_labelled(ctx->run->out_dir, "latent_arithmetic", title, &g);
        if (rc == AE_OK) rc = program_render(ctx->run, "latent_arithmetic");
    }
    free(code_mean);
    free(image_mean);
    free(x);
    free(mu);
    free(grid);
    free(z);
    free(decoded);
    free(means_f);
    free(index);
    return rc;
}
