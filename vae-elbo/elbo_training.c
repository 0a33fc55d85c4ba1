/* elbo_training.c: section 5 of vae-elbo, the dense and the convolutional VAE trained on
 * Fashion-MNIST, and a β sweep, with their figures (see elbo_sections.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>

#include "elbo_training.h"
#include "fast/blas.h"
#include "fast/elastic.h"
#include "fast/threads.h"
#include "io/cli.h"
#include "fast/cpu.h"
#include "io/data.h"
#include "error.h"
#include "io/fileio.h"
#include "loss.h"
#include "io/plot.h"
#include "io/results.h"
#include "sampling.h"
#include "train.h"
#include "vae_elbo.h"
#include "vae_model.h"


#define GRID_SIDE 15             /* decoded grid: 15 x 15 latent points */
#define PRIOR_SAMPLES 100        /* 10 x 10 samples from the prior */
#define MORPH_STEPS 10
#define ERRORBAR_POINTS 1500     /* test images drawn with their error bars (all of them would be a blot) */

typedef struct {
    atomic_file dat, gp;   /* plot_open_pair and plot_commit_pair */
} figure_files;


/* ============================================================ 5. training */

int elbo_run_alloc(training_run *r, int epochs, long batches)
{
    r->epochs = epochs;
    r->steps_on_threads = -1.0;                     /* not known until trained (or read back) */
    r->n_segments = batches < SEGMENTS ? (int)batches : SEGMENTS;
    r->train = calloc((size_t)epochs * 2, sizeof *r->train);
    r->segments = calloc((size_t)epochs * r->n_segments, sizeof *r->segments);
    r->seconds = calloc((size_t)epochs, sizeof *r->seconds);
    if (!r->train || !r->segments || !r->seconds) return AE_ERROR(AE_ENOMEM, "out of memory for the curves of %s", r->title);
    r->test = r->train + epochs;
    return AE_OK;
}

void elbo_run_free(training_run *r)
{
    vae_free(r->v);
    free(r->train);
    free(r->segments);
    free(r->seconds);
    free(r->test_mu);
    memset(r, 0, sizeof *r);
}

/* What the progress callback keeps: the bar, and the sums that give each segment's mean. */
typedef struct {
    progress_style style;
    const char *label;
    int epoch, epochs;
    double last_drawn;
    elbo_terms *segments;             /* (n_segments) of the current epoch */
    int n_segments, next_segment;
    size_t batch, count;              /* images per batch, images per epoch */
    elbo_terms last_total;            /* the running sums at the last segment's end */
    double last_seen;
} progress_state;

static void record_segment(progress_state *p, long done, long batches, const elbo_terms *running)
{
    if (p->next_segment >= p->n_segments) return;
    long boundary = (long)(((double)(p->next_segment + 1) * batches + p->n_segments - 1) / p->n_segments);
    if (done < boundary) return;
    double seen = (double)((size_t)done * p->batch < p->count ? (size_t)done * p->batch : p->count);
    elbo_terms total = { running->recon * seen, running->kl * seen, running->elbo * seen };
    double images = seen - p->last_seen;                       /* > 0: at least one batch per segment */
    elbo_terms *out = &p->segments[p->next_segment++];
    out->recon = (total.recon - p->last_total.recon) / images;
    out->kl = (total.kl - p->last_total.kl) / images;
    out->elbo = (total.elbo - p->last_total.elbo) / images;
    p->last_total = total;
    p->last_seen = seen;
}

static void draw_progress(void *ctx, long done, long batches, const elbo_terms *running)
{
    progress_state *p = ctx;
    record_segment(p, done, batches, running);
    if (p->style != PROGRESS_BAR) return;
    double now = program_seconds();
    if (now - p->last_drawn < 0.1 && done < batches) return;   /* ten redraws a second are plenty */
    p->last_drawn = now;
    enum { WIDTH = 30 };
    int filled = (int)(WIDTH * done / batches);
    fprintf(stderr, "\r  %s epoch %d/%d [", p->label, p->epoch, p->epochs);
    for (int k = 0; k < WIDTH; k++) fputc(k < filled ? '=' : k == filled ? '>' : ' ', stderr);
    fprintf(stderr, "] %ld/%ld  ELBO %.2f ", done, batches, running->elbo);
    if (done == batches) fprintf(stderr, "\r%*s\r", 100, "");
    fflush(stderr);
}

int elbo_train_run(elbo_context *ctx, training_run *r, const idx_array *train, const idx_array *test,
                   const vae_config *cfg, int epochs, unsigned long stream, int verbose)
{
    size_t count = train->count;
    long batches = (long)((count + (size_t)cfg->max_batch - 1) / (size_t)cfg->max_batch);
    if (elbo_run_alloc(r, epochs, batches) != AE_OK) return AE_ENOMEM;
    gsl_rng *rng = elbo_stream_rng(ctx->common->seed, stream);
    size_t *order = malloc(count * sizeof *order);
    if (!rng || !order) {
        gsl_rng_free(rng);
        free(order);
        return AE_ERROR(AE_ENOMEM, "out of memory for training %s", r->title);
    }
    r->v = vae_alloc(cfg, rng);
    int rc = r->v ? vae_set_threads(r->v, r->threads) : error_code();
    if (rc == AE_OK && verbose && !ctx->common->quiet) {
        printf("encoder:\n");
        model_summary(r->v->encoder, stdout);
        printf("decoder:\n");
        model_summary(r->v->decoder, stdout);
        printf("\n");
    }
    progress_state progress = { progress_style_for(stderr, ctx->common->quiet), r->prefix, 0, epochs, 0.0,
                                NULL, r->n_segments, 0, (size_t)cfg->max_batch, count, { 0, 0, 0 }, 0.0 };
    /* where the curves start: the untrained model on the test set */
    if (rc == AE_OK) rc = vae_evaluate(r->v, test, rng, &r->test_start);
    double started = program_seconds();
    for (int e = 0; e < epochs && rc == AE_OK; e++) {
        progress.epoch = e + 1;
        progress.segments = r->segments + (size_t)e * r->n_segments;
        progress.next_segment = 0;
        progress.last_total = (elbo_terms){ 0, 0, 0 };
        progress.last_seen = 0.0;
        double t0 = program_seconds();
        rc = vae_train_epoch(r->v, train, order, rng, draw_progress, &progress, &r->train[e]);
        r->seconds[e] = program_seconds() - t0;
        if (rc == AE_OK) rc = vae_evaluate(r->v, test, rng, &r->test[e]);
        if (rc == AE_OK && !ctx->common->quiet)
            printf("  %-16s epoch %2d/%d  train ELBO %9.3f (recon %9.3f, KL %7.3f)  test ELBO %9.3f "
                   "(recon %9.3f, KL %7.3f)  %5.1f s\n",
                   r->prefix, e + 1, epochs, r->train[e].elbo, r->train[e].recon, r->train[e].kl,
                   r->test[e].elbo, r->test[e].recon, r->test[e].kl, r->seconds[e]);
        fflush(stdout);
    }
    r->total_seconds = program_seconds() - started;
    /* a dense model on several threads chose at each step between its threads and one (elastic steps,
     * common/fast/README.md): how many of its training steps ran on the threads */
    const elastic *el = r->v ? model_threads_elastic(r->v->encoder) : NULL;
    const long steps = el ? el->steps_on[0] + el->steps_on[1] : 0;
    r->steps_on_threads = steps > 0 ? (double)el->steps_on[1] / (double)steps : -1.0;
    free(order);
    gsl_rng_free(rng);
    return rc;
}

double elbo_mean_seconds(const training_run *r)
{
    double s = 0.0;
    for (int e = 0; e < r->epochs; e++) s += r->seconds[e];
    return s / r->epochs;
}

/* The trivial baseline of a Bernoulli decoder: the mean over the test images of log p(x) with
 * independent pixels whose probabilities are the mean training image (nats per image). A VAE whose
 * test ELBO stays below it has learned nothing a constant image would not give. */
double elbo_mean_image_log_likelihood(const idx_array *train, const idx_array *test)
{
    const size_t size = train->item_size;
    double *mean = calloc(size, sizeof *mean);
    if (!mean) return NAN;
    for (size_t i = 0; i < train->count; i++)
        for (size_t p = 0; p < size; p++) mean[p] += train->data[i * size + p] / 255.0;
    for (size_t p = 0; p < size; p++) {
        mean[p] /= (double)train->count;
        mean[p] = fmin(fmax(mean[p], 1e-7), 1.0 - 1e-7);   /* a pixel never on (or always) costs no infinity */
    }
    double ll = 0.0;
    for (size_t i = 0; i < test->count; i++)
        for (size_t p = 0; p < size; p++) {
            double x = test->data[i * size + p] / 255.0;
            ll += x * log(mean[p]) + (1.0 - x) * log1p(-mean[p]);
        }
    free(mean);
    return ll / (double)test->count;
}

/* elbo_judge_run against the Fashion-MNIST baseline: worked out by the first run judged, then read back from results.tsv's
 * values (17 digits: exact). */
static int judge_run(elbo_context *ctx, const training_run *r, const fashion_mnist *fm)
{
    const char *known = results_get(ctx->run->res, "mean_image_log_likelihood");
    const double baseline = known ? strtod(known, NULL) : elbo_mean_image_log_likelihood(&fm->train.images, &fm->test.images);
    int rc = known ? AE_OK : program_result(ctx->run, baseline, "mean_image_log_likelihood");
    return rc == AE_OK ? elbo_judge_run(ctx, r, baseline) : rc;
}

int elbo_judge_run(elbo_context *ctx, const training_run *r, double baseline)
{
    const double elbo = r->test[r->epochs - 1].elbo;
    const int learned = elbo > baseline;
    int rc = program_result_int(ctx->run, learned, "%s_learned", r->prefix);
    if (rc != AE_OK || learned) return rc;
    char why[300];
    snprintf(why, sizeof why, "its test ELBO %.2f nats is below the %.2f of independent pixels with the mean training "
             "image as probabilities: it has learned nothing a constant image would not give (posterior collapse, a "
             "learning rate too large, or too few epochs)", elbo, baseline);
    printf("  The %s did NOT learn: %s.\n", r->title, why);
    return program_result_text(ctx->run, why, "%s_not_learned", r->prefix);
}

int elbo_store_run(elbo_context *ctx, const training_run *r)
{
    const elbo_terms *tr = &r->train[r->epochs - 1], *te = &r->test[r->epochs - 1];
    int rc = AE_OK;
    rc |= elbo_add_prefixed(ctx, r->prefix, "latent", r->v->cfg.latent);
    rc |= elbo_add_prefixed(ctx, r->prefix, "beta", r->v->cfg.beta);
    rc |= elbo_add_prefixed(ctx, r->prefix, "epochs", r->epochs);
    rc |= elbo_add_prefixed(ctx, r->prefix, "parameters", (double)(r->v->encoder->n_params + r->v->decoder->n_params));
    rc |= elbo_add_prefixed(ctx, r->prefix, "train_elbo", tr->elbo);
    rc |= elbo_add_prefixed(ctx, r->prefix, "train_recon", tr->recon);
    rc |= elbo_add_prefixed(ctx, r->prefix, "train_kl", tr->kl);
    rc |= elbo_add_prefixed(ctx, r->prefix, "test_elbo", te->elbo);
    rc |= elbo_add_prefixed(ctx, r->prefix, "test_recon", te->recon);
    rc |= elbo_add_prefixed(ctx, r->prefix, "test_kl", te->kl);
    rc |= elbo_add_prefixed(ctx, r->prefix, "test_loss", -te->recon + r->v->cfg.beta * te->kl);
    rc |= elbo_add_prefixed(ctx, r->prefix, "seconds_per_epoch", elbo_mean_seconds(r));
    rc |= elbo_add_prefixed(ctx, r->prefix, "seconds_total", r->total_seconds);
    if (r->steps_on_threads >= 0.0) rc |= elbo_add_prefixed(ctx, r->prefix, "steps_on_threads", r->steps_on_threads);
    /* the work an image costs, encoder and decoder: what a speed is measured against (make bench) */
    rc |= elbo_add_prefixed(ctx, r->prefix, "forward_macs",
                            model_forward_macs(r->v->encoder) + model_forward_macs(r->v->decoder));
    return rc;
}

/* ---------------------------------------------------------- the figures */

/* PREFIX_elbo_curves: ELBO and reconstruction term (left axis) and KL (right axis); test after each
 * epoch (and before the first), solid; train as the mean over each tenth of an epoch, dashed. */
int elbo_figure_curves(elbo_context *ctx, const training_run *r)
{
    char name[64];
    snprintf(name, sizeof name, "%s_elbo_curves", r->prefix);
    figure_files f;
    int rc = plot_open_pair(&f.dat, &f.gp, ctx->run->out_dir, name);
    if (rc != AE_OK) return rc;
    fprintf(f.dat.fp, "# %s, nats per image\n# block 0, the test set after each epoch (epoch 0: untrained)\n"
                      "# epoch\telbo\trecon\tkl\n0\t%.9g\t%.9g\t%.9g\n",
            r->title, r->test_start.elbo, r->test_start.recon, r->test_start.kl);
    for (int e = 0; e < r->epochs; e++)
        fprintf(f.dat.fp, "%d\t%.9g\t%.9g\t%.9g\n", e + 1, r->test[e].elbo, r->test[e].recon, r->test[e].kl);
    fprintf(f.dat.fp, "\n\n# block 1, the training batches: mean over each 1/%d of an epoch, at its end\n"
                      "# epoch\telbo\trecon\tkl\n", r->n_segments);
    for (int e = 0; e < r->epochs; e++)
        for (int k = 0; k < r->n_segments; k++) {
            const elbo_terms *t = &r->segments[(size_t)e * r->n_segments + k];
            fprintf(f.dat.fp, "%.6g\t%.9g\t%.9g\t%.9g\n", e + (k + 1.0) / r->n_segments, t->elbo, t->recon, t->kl);
        }
    /* every point inside the axes, the untrained model's too (about −543 nats for the dense VAE) */
    double low = fmin(r->test_start.elbo, r->test_start.recon);
    for (int e = 0; e < r->epochs; e++) low = fmin(low, fmin(r->test[e].elbo, r->test[e].recon));
    for (int k = 0; k < r->epochs * r->n_segments; k++) low = fmin(low, fmin(r->segments[k].elbo, r->segments[k].recon));
    char title[192];
    snprintf(title, sizeof title, "%s: ELBO = reconstruction term − KL", r->title);
    plot_script_begin(f.gp.fp, name, title, 0, 0);
    fprintf(f.gp.fp, "set xlabel 'epoch'\nset ylabel 'ELBO and reconstruction term E[log p(x|z)] (nats per image)'\n"
                     "set y2label 'KL(q(z|x) ‖ p(z)) (nats per image)'\nset ytics nomirror\nset y2tics\n"
                     "set yrange [%.0f:*]\nset y2range [0:*]\nset xrange [0:%d]\nset xtics 1\n"
                     "set grid lc rgb '#dddddd'\nset key bottom right box opaque\n",
            floor(low / 10.0) * 10.0 - 10.0, r->epochs);
    fprintf(f.gp.fp, "plot '%s.dat' index 0 using 1:2 with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'ELBO, test', \\\n"
                     "     '%s.dat' index 1 using 1:2 with lines lw 1.5 dt 2 lc rgb '#1f77b4' title 'ELBO, train', \\\n"
                     "     '%s.dat' index 0 using 1:3 with linespoints lw 2 pt 7 lc rgb '#2ca02c' title 'reconstruction, test', \\\n"
                     "     '%s.dat' index 1 using 1:3 with lines lw 1.5 dt 2 lc rgb '#2ca02c' title 'reconstruction, train', \\\n"
                     "     '%s.dat' index 0 using 1:4 axes x1y2 with linespoints lw 2 pt 7 lc rgb '#d62728' title 'KL (right axis), test', \\\n"
                     "     '%s.dat' index 1 using 1:4 axes x1y2 with lines lw 1.5 dt 2 lc rgb '#d62728' title 'KL (right axis), train'\n",
            name, name, name, name, name, name);
    rc = plot_commit_pair(&f.dat, &f.gp);
    return rc == AE_OK ? program_render(ctx->run, name) : rc;
}

int elbo_encode_set(training_run *r, const idx_array *images)
{
    vae *v = r->v;
    size_t count = images->count, latent = (size_t)v->cfg.latent;
    free(r->test_mu);
    r->test_mu = r->test_logvar = NULL;
    int batch = v->cfg.max_batch;
    r->test_mu = malloc(count * latent * 2 * sizeof *r->test_mu);
    float *x = malloc((size_t)batch * v->x_size * sizeof *x);
    size_t *index = malloc((size_t)batch * sizeof *index);
    int rc = r->test_mu && x && index ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory for the test set's codes");
    if (rc == AE_OK) {
        r->test_logvar = r->test_mu + count * latent;
        r->test_n = count;
    }
    for (size_t start = 0; start < count && rc == AE_OK; start += (size_t)batch) {
        int n = (int)(count - start < (size_t)batch ? count - start : (size_t)batch);
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        vae_fill_batch(v, x, images, index, n);
        rc = vae_encode(v, x, n, r->test_mu + start * latent, r->test_logvar + start * latent);
    }
    free(x);
    free(index);
    return rc;
}

static const char *const *class_names(void)
{
    static const char *names[FASHION_CLASSES];
    for (int c = 0; c < FASHION_CLASSES; c++) names[c] = fashion_class_name(c);
    return names;
}

/* PREFIX_latent_means: the test set's μ coloured by class. */
static int figure_latent_means(elbo_context *ctx, const training_run *r, const fashion_mnist *fm)
{
    size_t count = fm->test.images.count;
    float *x = malloc(count * 2 * sizeof *x);
    int *labels = malloc(count * sizeof *labels);
    if (!x || !labels) {
        free(x);
        free(labels);
        return AE_ERROR(AE_ENOMEM, "out of memory for the latent figure");
    }
    float *y = x + count;
    for (size_t i = 0; i < count; i++) {
        x[i] = r->test_mu[2 * i];
        y[i] = r->test_mu[2 * i + 1];
        labels[i] = fm->test.labels.data[i];
    }
    char name[64], title[192];
    snprintf(name, sizeof name, "%s_latent_means", r->prefix);
    snprintf(title, sizeof title, "%s: the encoder's means μ of the %zu test images", r->title, count);
    plot_axes axes = { title, "μ₁ (latent dimension 1)", "μ₂ (latent dimension 2)", 0, 0, 0, 0 };
    int rc = plot_scatter_classes(ctx->run->out_dir, name, &axes, x, y, labels, count, class_names(),
                                  FASHION_CLASSES);
    free(x);
    free(labels);
    return rc == AE_OK ? program_render(ctx->run, name) : rc;
}

/* PREFIX_latent_std: the first ERRORBAR_POINTS test images' μ with ±σ error bars, and the
 * prior's 1σ and 2σ circles. */
static int figure_latent_std(elbo_context *ctx, const training_run *r, const fashion_mnist *fm)
{
    static const char *const colours[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };
    char name[64], title[192];
    snprintf(name, sizeof name, "%s_latent_std", r->prefix);
    size_t count = fm->test.images.count < ERRORBAR_POINTS ? fm->test.images.count : ERRORBAR_POINTS;
    figure_files f;
    int rc = plot_open_pair(&f.dat, &f.gp, ctx->run->out_dir, name);
    if (rc != AE_OK) return rc;
    fprintf(f.dat.fp, "# mu1\tmu2\tsigma1\tsigma2\tclass   (the first %zu test images)\n", count);
    double mean_sigma = 0.0, reach = 2.5;     /* square axes around the origin, at least the prior's 2σ */
    for (size_t i = 0; i < count; i++) {
        double s1 = exp(0.5 * r->test_logvar[2 * i]), s2 = exp(0.5 * r->test_logvar[2 * i + 1]);
        mean_sigma += 0.5 * (s1 + s2) / (double)count;
        reach = fmax(reach, fmax(fabs(r->test_mu[2 * i]) + s1, fabs(r->test_mu[2 * i + 1]) + s2));
        fprintf(f.dat.fp, "%.6g\t%.6g\t%.6g\t%.6g\t%d\n", r->test_mu[2 * i], r->test_mu[2 * i + 1], s1, s2,
                fm->test.labels.data[i]);
    }
    snprintf(title, sizeof title, "%s VAE, L = 2: μ ± σ of %zu test images (mean σ %.3f)", vae_kind_name(r->v->cfg.kind),
             count, mean_sigma);
    plot_script_begin(f.gp.fp, name, title, 900, 700);
    fprintf(f.gp.fp, "set xlabel 'z₁ (latent dimension 1)'\nset ylabel 'z₂ (latent dimension 2)'\n"
                     "set grid lc rgb '#dddddd'\nset key outside right top box\nset size ratio -1\n"
                     "set xrange [-%g:%g]\nset yrange [-%g:%g]\n"
                     "set object 1 circle at 0,0 size 1 fs empty border lc rgb '#333333' dt 2 lw 1.5 front\n"
                     "set object 2 circle at 0,0 size 2 fs empty border lc rgb '#333333' dt 2 lw 1.5 front\n"
                     "plot ", ceil(reach), ceil(reach), ceil(reach), ceil(reach));
    for (int c = 0; c < FASHION_CLASSES; c++) {
        fprintf(f.gp.fp, "'%s.dat' using 1:($5==%d ? $2 : NaN):3:4 with xyerrorbars pt 7 ps 0.3 lw 0.6 lc rgb '%s' title ",
                name, c, colours[c]);
        plot_quote(f.gp.fp, fashion_class_name(c));
        fprintf(f.gp.fp, ", \\\n     ");
    }
    fprintf(f.gp.fp, "NaN with lines dt 2 lw 1.5 lc rgb '#333333' title 'prior 1σ, 2σ'\n");
    rc = plot_commit_pair(&f.dat, &f.gp);
    if (rc == AE_OK) rc = elbo_add_prefixed(ctx, r->prefix, "mean_test_sigma", mean_sigma);
    return rc == AE_OK ? program_render(ctx->run, name) : rc;
}

int elbo_decode_many(vae *v, const float *z, int n, float *images)
{
    int batch = v->cfg.max_batch, rc = AE_OK;
    for (int start = 0; start < n && rc == AE_OK; start += batch) {
        int m = n - start < batch ? n - start : batch;
        rc = vae_decode_images(v, z + (size_t)start * v->cfg.latent, m, images + (size_t)start * v->image_size);
    }
    return rc;
}

/* PREFIX_latent_grid: decoded images at z = (Φ⁻¹(u₁), Φ⁻¹(u₂)) on a GRID_SIDE² grid of u in (0, 1). */
static int figure_latent_grid(elbo_context *ctx, const training_run *r)
{
    const int n = GRID_SIDE * GRID_SIDE;
    float z[GRID_SIDE * GRID_SIDE * 2];
    double quantile[GRID_SIDE];
    for (int i = 0; i < GRID_SIDE; i++) quantile[i] = gsl_cdf_ugaussian_Pinv((i + 0.5) / GRID_SIDE);
    for (int row = 0; row < GRID_SIDE; row++)          /* top row: the largest z₂, as on a plot */
        for (int col = 0; col < GRID_SIDE; col++) {
            z[2 * (row * GRID_SIDE + col)] = (float)quantile[col];
            z[2 * (row * GRID_SIDE + col) + 1] = (float)quantile[GRID_SIDE - 1 - row];
        }
    float *images = malloc((size_t)n * FASHION_PIXELS * sizeof *images);
    if (!images) return AE_ERROR(AE_ENOMEM, "out of memory for the latent grid");
    int rc = elbo_decode_many(r->v, z, n, images);
    char labels[GRID_SIDE][32];
    const char *row_labels[GRID_SIDE];
    for (int row = 0; row < GRID_SIDE; row++) {
        snprintf(labels[row], sizeof labels[row], "z₂ = %+.2f", quantile[GRID_SIDE - 1 - row]);
        row_labels[row] = labels[row];
    }
    char name[64], title[256];
    snprintf(name, sizeof name, "%s_latent_grid", r->prefix);
    snprintf(title, sizeof title, "%s: decoded at the normal quantiles Φ⁻¹((i + ½)/%d); z₁ from %.2f (left) to %+.2f (right)",
             r->title, GRID_SIDE, quantile[0], quantile[GRID_SIDE - 1]);
    if (rc == AE_OK)
        rc = plot_image_grid(ctx->run->out_dir, name, title, images, n, 28, 28, GRID_SIDE, row_labels);
    free(images);
    return rc == AE_OK ? program_render(ctx->run, name) : rc;
}

int elbo_figure_prior_samples(elbo_context *ctx, const training_run *r, gsl_rng *rng)
{
    int latent = r->v->cfg.latent;
    float *z = malloc((size_t)PRIOR_SAMPLES * latent * sizeof *z);
    float *images = malloc((size_t)PRIOR_SAMPLES * r->v->image_size * sizeof *images);
    int rc = z && images ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory for the prior samples");
    if (rc == AE_OK) {
        sampling_draw_eps(z, (size_t)PRIOR_SAMPLES * latent, rng);      /* z ~ N(0, I) */
        rc = elbo_decode_many(r->v, z, PRIOR_SAMPLES, images);
    }
    char name[64], title[192];
    snprintf(name, sizeof name, "%s_prior_samples", r->prefix);
    snprintf(title, sizeof title, "%s: %d samples z ~ N(0, I) from the prior, decoded (Bernoulli means)",
             r->title, PRIOR_SAMPLES);
    plot_grid grid = { images, PRIOR_SAMPLES, r->v->channels, r->v->image_side, r->v->image_side, 10, NULL, NULL };
    if (rc == AE_OK) rc = plot_image_grid_labelled(ctx->run->out_dir, name, title, &grid);
    free(z);
    free(images);
    return rc == AE_OK ? program_render(ctx->run, name) : rc;
}

/* The pairs of classes whose averages and morphs are drawn: first test image of each class. */
static const int pair_classes[][2] = { { 7, 9 }, { 0, 3 }, { 5, 8 } };   /* Sneaker+Ankle boot, T-shirt+Dress, Sandal+Bag */
#define N_PAIRS 3
static const char *const pair_labels[N_PAIRS] = { "Sneaker/boot", "T-shirt/dress", "Sandal/bag" };   /* short: the row labels' margin is narrow */

size_t elbo_first_of_class(const idx_array *labels, int label)
{
    for (size_t i = 0; i < labels->count; i++)
        if (labels->data[i] == label) return i;
    return 0;
}

/* PREFIX_pair_average: A, B, decoded μ_A, decoded μ_B, decoded (μ_A + μ_B)/2; PREFIX_morph: A, then
 * decoded (1 − α) μ_A + α μ_B for MORPH_STEPS values of α from 0 to 1, then B. */
static int figure_pairs(elbo_context *ctx, const training_run *r, const fashion_mnist *fm)
{
    vae *v = r->v;
    int latent = v->cfg.latent;
    const int avg_cols = 5, morph_cols = MORPH_STEPS + 2;
    float *avg = malloc((size_t)N_PAIRS * (avg_cols + morph_cols) * FASHION_PIXELS * sizeof *avg);
    float *x = malloc(2 * v->x_size * sizeof *x);
    float *codes = malloc((size_t)(2 + 2 + 3 + MORPH_STEPS) * latent * sizeof *codes);
    if (!avg || !x || !codes) {
        free(avg);
        free(x);
        free(codes);
        return AE_ERROR(AE_ENOMEM, "out of memory for the pair figures");
    }
    float *morph = avg + (size_t)N_PAIRS * avg_cols * FASHION_PIXELS;
    float *mu = codes, *logvar = codes + 2 * latent, *points = logvar + 2 * latent;
    float decoded[(3 + MORPH_STEPS) * FASHION_PIXELS];
    char labels[N_PAIRS][64];
    const char *row_labels[N_PAIRS];
    int rc = AE_OK;
    for (int p = 0; p < N_PAIRS && rc == AE_OK; p++) {
        size_t index[2] = { elbo_first_of_class(&fm->test.labels, pair_classes[p][0]), elbo_first_of_class(&fm->test.labels, pair_classes[p][1]) };
        vae_fill_batch(v, x, &fm->test.images, index, 2);
        rc = vae_encode(v, x, 2, mu, logvar);
        /* μ_A, μ_B, their mean, then the morph (1 − α) μ_A + α μ_B */
        for (int j = 0; j < latent; j++) {
            points[j] = mu[j];
            points[latent + j] = mu[latent + j];
            points[2 * latent + j] = 0.5f * (mu[j] + mu[latent + j]);
            for (int s = 0; s < MORPH_STEPS; s++) {
                float alpha = (float)s / (MORPH_STEPS - 1);
                points[(3 + s) * latent + j] = (1.0f - alpha) * mu[j] + alpha * mu[latent + j];
            }
        }
        if (rc == AE_OK) rc = vae_decode_images(v, points, 3 + MORPH_STEPS, decoded);
        if (rc != AE_OK) break;
        float originals[2 * FASHION_PIXELS];
        images_to_float(originals, &fm->test.images, index, 2);
        float *row = avg + (size_t)p * avg_cols * FASHION_PIXELS;
        memcpy(row, originals, 2 * FASHION_PIXELS * sizeof *row);
        memcpy(row + 2 * FASHION_PIXELS, decoded, 3 * FASHION_PIXELS * sizeof *row);
        row = morph + (size_t)p * morph_cols * FASHION_PIXELS;
        memcpy(row, originals, FASHION_PIXELS * sizeof *row);
        memcpy(row + FASHION_PIXELS, decoded + 3 * FASHION_PIXELS, (size_t)MORPH_STEPS * FASHION_PIXELS * sizeof *row);
        memcpy(row + (size_t)(MORPH_STEPS + 1) * FASHION_PIXELS, originals + FASHION_PIXELS, FASHION_PIXELS * sizeof *row);
        snprintf(labels[p], sizeof labels[p], "%s", pair_labels[p]);
        row_labels[p] = labels[p];
    }
    char name[64], title[256];
    if (rc == AE_OK) {
        snprintf(name, sizeof name, "%s_pair_average", r->prefix);
        snprintf(title, sizeof title, "%s VAE: test images A and B, decoded μ_A, μ_B and their mean",
                 vae_kind_name(r->v->cfg.kind));
        static const char *const avg_headers[] = { "image A", "image B", "decoded μ_A", "decoded μ_B",
                                                   "(μ_A + μ_B)/2" };
        plot_grid grid = { avg, N_PAIRS * avg_cols, 1, 28, 28, avg_cols, row_labels, avg_headers };
        rc = plot_image_grid_labelled(ctx->run->out_dir, name, title, &grid);
        if (rc == AE_OK) rc = program_render(ctx->run, name);
    }
    if (rc == AE_OK) {
        snprintf(name, sizeof name, "%s_morph", r->prefix);
        snprintf(title, sizeof title, "%s: A, decoded (1 − α) μ_A + α μ_B for α = 0, 1/9, ..., 1, B", r->title);
        char alpha_text[MORPH_STEPS][16];
        const char *morph_headers[MORPH_STEPS + 2];
        morph_headers[0] = "A";
        for (int s = 0; s < MORPH_STEPS; s++) {
            if (s == 0 || s == MORPH_STEPS - 1) snprintf(alpha_text[s], sizeof alpha_text[s], "α = %d", s ? 1 : 0);
            else snprintf(alpha_text[s], sizeof alpha_text[s], "%d/%d", s, MORPH_STEPS - 1);
            morph_headers[s + 1] = alpha_text[s];
        }
        morph_headers[MORPH_STEPS + 1] = "B";
        plot_grid grid = { morph, N_PAIRS * morph_cols, 1, 28, 28, morph_cols, row_labels, morph_headers };
        rc = plot_image_grid_labelled(ctx->run->out_dir, name, title, &grid);
        if (rc == AE_OK) rc = program_render(ctx->run, name);
    }
    free(avg);
    free(x);
    free(codes);
    return rc;
}

static int run_figures(elbo_context *ctx, training_run *r, const fashion_mnist *fm, unsigned long stream)
{
    int rc = elbo_figure_curves(ctx, r);
    gsl_rng *rng = elbo_stream_rng(ctx->common->seed, stream);
    if (!rng) return AE_ERROR(AE_ENOMEM, "out of memory for a random generator");
    if (rc == AE_OK) rc = elbo_figure_prior_samples(ctx, r, rng);
    gsl_rng_free(rng);
    if (rc == AE_OK) rc = figure_pairs(ctx, r, fm);
    if (rc == AE_OK && r->v->cfg.latent == 2) {
        rc = elbo_encode_set(r, &fm->test.images);
        if (rc == AE_OK) rc = figure_latent_means(ctx, r, fm);
        if (rc == AE_OK) rc = figure_latent_std(ctx, r, fm);
        if (rc == AE_OK) rc = figure_latent_grid(ctx, r);
    }
    return rc;
}

/* One model: trained (or read back with --from-checkpoint), reported, drawn, and its demos; the
 * decoded test images of each class go into recon_row (10, 784) for vae_reconstructions. */
static int train_and_report(elbo_context *ctx, const fashion_mnist *fm, const char *data_dir, vae_kind kind,
                            int latent, int epochs, unsigned long stream, float *recon_row)
{
    const elbo_options *opt = ctx->opt;
    training_run r;
    memset(&r, 0, sizeof r);
    snprintf(r.prefix, sizeof r.prefix, "%s", vae_kind_name(kind));
    if (kind == VAE_DENSE)
        snprintf(r.title, sizeof r.title, "dense VAE (784-%d-%d, β = %g)", DENSE_HIDDEN, latent, opt->beta);
    else
        snprintf(r.title, sizeof r.title, "convolutional VAE (L = %d, β = %g)", latent, opt->beta);
    r.threads = kind == VAE_CONV ? opt->conv_threads : opt->threads;
    printf("-- %s: Adam %g, batch %d, %d epoch%s, %d thread%s --\n", r.title, opt->lr, opt->batch, epochs,
           epochs == 1 ? "" : "s", r.threads, r.threads == 1 ? "" : "s");
    vae_config cfg = { kind, latent, DENSE_HIDDEN, opt->beta, opt->lr, opt->batch, 0, kl_batch_forward, kl_batch_backward, 1 };
    int rc = elbo_train_or_load(ctx, &r, &fm->train.images, &fm->test.images, &cfg, epochs, stream, data_dir);
    if (rc == AE_OK) {
        printf("\n");
        rc = elbo_store_run(ctx, &r);
        if (rc == AE_OK) rc = judge_run(ctx, &r, fm);
    }
    if (rc == AE_OK) rc = run_figures(ctx, &r, fm, stream + 50);
    /* the demos: what the decoder makes of the test images, how the latent dimensions are used, and
     * (dense, L = 20) arithmetic on the codes */
    if (rc == AE_OK && !r.test_mu) rc = elbo_encode_set(&r, &fm->test.images);   /* once, for all of them */
    if (rc == AE_OK) rc = elbo_reconstruction_mse(ctx, &r, &fm->test.images);
    if (rc == AE_OK) rc = elbo_reconstruct_classes(&r, &fm->test, recon_row);
    if (rc == AE_OK)
        rc = elbo_figure_latent_histograms(ctx, &r, kind == VAE_DENSE ? "latent_histograms" : "conv_latent_histograms");
    if (rc == AE_OK && kind == VAE_DENSE) rc = elbo_figure_latent_arithmetic(ctx, &r, fm);
    if (rc == AE_OK && kind == VAE_DENSE) {
        /* section 4 again, on the trained model and a real image */
        size_t index = elbo_first_of_class(&fm->test.labels, 7);
        float x[FASHION_PIXELS];
        images_to_float(x, &fm->test.images, &index, 1);
        printf("The two ELBO estimators on the trained dense VAE, test image %zu (%s), %d draws:\n", index,
               fashion_class_name(7), opt->elbo_draws);
        gsl_rng *rng = elbo_stream_rng(ctx->common->seed, stream + 60);
        elbo_estimator_study s;
        rc = rng ? vae_elbo_estimators(&s, r.v, x, opt->elbo_draws, rng) : AE_ENOMEM;
        gsl_rng_free(rng);
        if (rc == AE_OK) rc = elbo_report_estimators(ctx, "estimators_trained_dense", &s);
        printf("\n");
    }
    elbo_run_free(&r);
    return rc;
}

/* ------------------------------------------------------------- β sweep */

static int figure_beta_sweep(elbo_context *ctx, training_run *runs, int n, const fashion_mnist *fm)
{
    figure_files f;
    int rc = plot_open_pair(&f.dat, &f.gp, ctx->run->out_dir, "beta_sweep");
    if (rc != AE_OK) return rc;
    fprintf(f.dat.fp, "# dense VAE, L = 2, %d epochs each; test set, nats per image\n", runs[0].epochs);
    fprintf(f.dat.fp, "# beta\ttest_recon\ttest_kl\ttest_elbo\n");
    for (int i = 0; i < n; i++) {
        const elbo_terms *t = &runs[i].test[runs[i].epochs - 1];
        fprintf(f.dat.fp, "%.9g\t%.9g\t%.9g\t%.9g\n", runs[i].v->cfg.beta, t->recon, t->kl, t->elbo);
    }
    char title[192];
    snprintf(title, sizeof title, "β sweep, dense VAE (L = 2, %d epoch%s each): test-set terms against the KL's weight β",
             runs[0].epochs, runs[0].epochs == 1 ? "" : "s");
    plot_script_begin(f.gp.fp, "beta_sweep", title, 1000, 600);
    fprintf(f.gp.fp, "set xlabel 'β (weight of the KL term in the loss)'\nset logscale x 2\n"
                     "set ylabel 'reconstruction term and ELBO (nats per image)'\n"
                     "set y2label 'KL(q(z|x) ‖ p(z)) (nats per image)'\nset ytics nomirror\nset y2tics\n"
                     "set grid lc rgb '#dddddd'\nset key bottom left box opaque\nset offsets graph 0.05, graph 0.05, 0, 0\n"
                     "plot 'beta_sweep.dat' using 1:2 with linespoints lw 2 pt 7 ps 1.2 lc rgb '#2ca02c' title 'reconstruction term E[log p(x|z)]', \\\n"
                     "     'beta_sweep.dat' using 1:4 with linespoints lw 2 pt 5 ps 1.0 lc rgb '#1f77b4' title 'ELBO (β = 1 weighting)', \\\n"
                     "     'beta_sweep.dat' using 1:3 axes x1y2 with linespoints lw 2 pt 9 ps 1.4 lc rgb '#d62728' title 'KL (right axis)'\n");
    rc = plot_commit_pair(&f.dat, &f.gp);
    if (rc == AE_OK) rc = program_render(ctx->run, "beta_sweep");
    if (rc != AE_OK) return rc;

    /* the latent means of each β side by side */
    static const char *const colours[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };
    if ((rc = plot_open_pair(&f.dat, &f.gp, ctx->run->out_dir, "beta_sweep_latents")) != AE_OK) return rc;
    size_t count = fm->test.images.count;
    for (int i = 0; i < n; i++) {
        fprintf(f.dat.fp, "%s# beta = %g: mu1\tmu2\tclass\n", i ? "\n\n" : "", runs[i].v->cfg.beta);
        for (size_t k = 0; k < count; k++)
            fprintf(f.dat.fp, "%.5g\t%.5g\t%d\n", runs[i].test_mu[2 * k], runs[i].test_mu[2 * k + 1],
                    fm->test.labels.data[k]);
    }
    /* one square panel per β with the same axes, and the legend in a strip of its own on the right */
    double reach = 1.0;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < 2 * count; k++) reach = fmax(reach, fabs(runs[i].test_mu[k]));
    reach = ceil(reach);
    const int panel = 460, legend = 170;
    int width = panel * n + legend;
    plot_script_begin(f.gp.fp, "beta_sweep_latents", NULL, width, 560);
    fprintf(f.gp.fp, "set multiplot title ");
    plot_quote(f.gp.fp, "Test-set means μ for each β (dense VAE, L = 2); dashed: the prior's 2σ circle");
    fprintf(f.gp.fp, " font ',13'\nset grid lc rgb '#dddddd'\nset size ratio -1\nset xrange [-%g:%g]\nset yrange [-%g:%g]\n"
                     "set xlabel 'μ₁'\nset ylabel 'μ₂'\nset tmargin at screen 0.86\nset bmargin at screen 0.1\n"
                     "set object 1 circle at 0,0 size 2 fs empty border lc rgb '#333333' dt 2 lw 1.5 front\n",
            reach, reach, reach, reach);
    for (int i = 0; i < n; i++) {
        const elbo_terms *t = &runs[i].test[runs[i].epochs - 1];
        char label[128];
        snprintf(label, sizeof label, "β = %g: recon %.1f, KL %.2f", runs[i].v->cfg.beta, t->recon, t->kl);
        fprintf(f.gp.fp, "set lmargin at screen %.4f\nset rmargin at screen %.4f\nset title ",
                (double)(i * panel + 60) / width, (double)((i + 1) * panel - 10) / width);
        plot_quote(f.gp.fp, label);
        if (i == n - 1)
            fprintf(f.gp.fp, "\nset key at screen %.4f, screen 0.86 right top box font ',9'\n", 1.0 - 8.0 / width);
        else
            fprintf(f.gp.fp, "\nunset key\n");
        fprintf(f.gp.fp, "plot ");
        for (int c = 0; c < FASHION_CLASSES; c++) {
            fprintf(f.gp.fp, "%s'beta_sweep_latents.dat' index %d using 1:($3==%d ? $2 : NaN) with points pt 7 ps 0.25 lc rgb '%s' title ",
                    c ? ", \\\n     " : "", i, c, colours[c]);
            plot_quote(f.gp.fp, fashion_class_name(c));
        }
        fputc('\n', f.gp.fp);
    }
    fprintf(f.gp.fp, "unset multiplot\n");
    rc = plot_commit_pair(&f.dat, &f.gp);
    return rc == AE_OK ? program_render(ctx->run, "beta_sweep_latents") : rc;
}

static int beta_sweep(elbo_context *ctx, const fashion_mnist *fm, const double *betas, int n)
{
    const elbo_options *opt = ctx->opt;
    printf("-- β sweep: the dense VAE with L = 2, %d epoch%s for each β --\n", opt->sweep_epochs,
           opt->sweep_epochs == 1 ? "" : "s");
    training_run runs[MAX_BETAS];
    memset(runs, 0, sizeof runs);
    int rc = AE_OK;
    for (int i = 0; i < n && rc == AE_OK; i++) {
        snprintf(runs[i].prefix, sizeof runs[i].prefix, "beta_sweep_%g", betas[i]);
        snprintf(runs[i].title, sizeof runs[i].title, "dense VAE (L = 2, β = %g)", betas[i]);
        vae_config cfg = { VAE_DENSE, 2, DENSE_HIDDEN, betas[i], opt->lr, opt->batch, 0, kl_batch_forward,
                           kl_batch_backward, 1 };
        runs[i].threads = opt->threads;
        rc = elbo_train_run(ctx, &runs[i], &fm->train.images, &fm->test.images, &cfg, opt->sweep_epochs, 300, 0);   /* the same seed for every β */
        if (rc == AE_OK) rc = elbo_store_run(ctx, &runs[i]);
        if (rc == AE_OK) rc = judge_run(ctx, &runs[i], fm);
        if (rc == AE_OK) rc = elbo_encode_set(&runs[i], &fm->test.images);
        if (rc == AE_OK) rc = elbo_figure_latent_histograms(ctx, &runs[i], NULL);   /* the active dimensions */
    }
    if (rc == AE_OK) {
        printf("\n  %8s %16s %12s %12s\n", "β", "reconstruction", "KL", "ELBO");
        for (int i = 0; i < n; i++) {
            const elbo_terms *t = &runs[i].test[runs[i].epochs - 1];
            printf("  %8g %16.3f %12.3f %12.3f\n", betas[i], t->recon, t->kl, t->elbo);
        }
        printf("  (test set, nats per image; the ELBO always weighs the KL by 1)\n\n");
        rc = figure_beta_sweep(ctx, runs, n, fm);
    }
    for (int i = 0; i < n; i++) elbo_run_free(&runs[i]);
    return rc;
}

int elbo_section_training(elbo_context *ctx, const char *dir, int is_sample, const double *betas, int n_betas)
{
    const elbo_options *opt = ctx->opt;
    program_heading("5. VAEs trained on Fashion-MNIST");
    fashion_mnist fm;
    memset(&fm, 0, sizeof fm);
    int rc = fashion_mnist_load(&fm, dir, (size_t)ctx->common->limit);
    if (rc != AE_OK) return rc;
    printf("Data: %s (%zu training, %zu test images)%s\n", dir, fm.train.images.count, fm.test.images.count,
           is_sample ? "\n  NOTE: this is the small bundled sample, not the full data: the numbers are not "
                       "the experiment's. Set FASHION_MNIST_DIR or run `make data`." : "");
    printf("Matrix products: %s; each batch split in lanes that run at once: %d for the dense models "
           "(--threads), %d for the convolutional one (--conv-threads)\n\n",
           cpu_has_avx512() ? "the library's AVX-512 kernels" : blas_name(), opt->threads, opt->conv_threads);
    double started = program_seconds();
    /* the decoded test images of each model, for vae_reconstructions */
    float *recon = malloc(2 * (size_t)FASHION_CLASSES * FASHION_PIXELS * sizeof *recon);
    const char *recon_names[2];
    int n_recon = 0;
    if (!recon) rc = AE_ERROR(AE_ENOMEM, "out of memory for the reconstructions");
    if (rc == AE_OK && opt->model_choice != 1) {
        rc = train_and_report(ctx, &fm, dir, VAE_DENSE, opt->latent, ctx->common->epochs, 100, recon);
        recon_names[n_recon++] = opt->latent == 20 ? "dense VAE, L = 20" : "dense VAE";
    }
    if (rc == AE_OK && opt->model_choice != 0) {
        rc = train_and_report(ctx, &fm, dir, VAE_CONV, 2, opt->conv_epochs, 200,
                              recon + (size_t)n_recon * FASHION_CLASSES * FASHION_PIXELS);
        recon_names[n_recon++] = "conv VAE, L = 2";
    }
    if (rc == AE_OK) rc = elbo_figure_reconstructions(ctx, &fm, recon, recon_names, n_recon);
    free(recon);
    if (rc == AE_OK && !opt->no_sweep) rc = beta_sweep(ctx, &fm, betas, n_betas);
    double seconds = program_seconds() - started;
    if (rc == AE_OK) {
        printf("Training and figures took %.1f s in all.\n", seconds);
        rc = elbo_add_double(ctx, "train_wall_seconds", seconds);
        rc |= results_add_text(ctx->run->res, "data_folder", dir);
        rc |= results_add_int(ctx->run->res, "data_is_sample", is_sample);
        rc |= results_add_int(ctx->run->res, "from_checkpoint", opt->from_checkpoint);
    }
    fashion_mnist_free(&fm);
    return rc;
}

