/* reparam_steps.c: the five steps of vae-reparam, each printed and written to results.tsv, and
 * its two figures (see reparam_steps.h).
 *
 * Shape legend: N samples drawn, L latent dimensions; every (N, L) array is row-major.
 */
#include "reparam_steps.h"
#include "error.h"
#include "io/plot.h"
#include "sampling.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIDENCE 0.95
#define CHECK_ROWS 16          /* samples used by the layer check */
#define CHECK_STEP 1e-2        /* finite-difference step of the layer check */

/* Key for dimension l: the first dimension keeps the plain name, the others get _dimK. */
static const char *dim_key(char *buf, size_t len, const char *key, int l)
{
    if (l == 0) snprintf(buf, len, "%s", key);
    else snprintf(buf, len, "%s_dim%d", key, l + 1);
    return buf;
}

static void add_double(results *r, const char *key, int l, double value)
{
    char name[128];
    results_add_double(r, dim_key(name, sizeof name, key, l), value);
}

static void add_int(results *r, const char *key, int l, long value)
{
    char name[128];
    results_add_int(r, dim_key(name, sizeof name, key, l), value);
}

/* Column l of an (N, L) float array, as doubles. */
static void copy_column(double *out, const float *values, int n, int latent, int l)
{
    for (int b = 0; b < n; b++) out[b] = values[(size_t)b * latent + l];
}

/* Density histogram over [lo, hi): count / (N · bin width), so its area is the fraction inside. */
static void histogram_density(double *density, int bins, double lo, double hi, const double *x, int n)
{
    double width = (hi - lo) / bins;
    for (int k = 0; k < bins; k++) density[k] = 0.0;
    for (int i = 0; i < n; i++) {
        int k = (int)floor((x[i] - lo) / width);
        if (k >= 0 && k < bins) density[k] += 1.0;
    }
    for (int k = 0; k < bins; k++) density[k] /= (double)n * width;
}

static double normal_density(double x, double mu, double sigma)
{
    double u = (x - mu) / sigma;
    return exp(-0.5 * u * u) / (sigma * sqrt(2.0 * M_PI));     /* N(x; μ, σ²) */
}

/* Prints text right-aligned (width > 0) or left-aligned (width < 0) in |width| columns
 * (width 0: as it is),
 * counting characters rather than bytes, so that μ and σ² line up like ASCII. */
static void cell(const char *text, int width)
{
    int chars = 0;
    for (const char *c = text; *c; c++) chars += ((unsigned char)*c & 0xC0) != 0x80;
    int pad = abs(width) - chars;
    if (width <= 0) fputs(text, stdout);     /* 0: the last cell of a line, no padding */
    for (int i = 0; i < pad && width != 0; i++) putchar(' ');
    if (width > 0) fputs(text, stdout);
}

static const char *format_p(char *buf, size_t len, double p)
{
    if (p < 1e-15) snprintf(buf, len, "< 1e-15");
    else snprintf(buf, len, "%.3g", p);
    return buf;
}

/* ------------------------------------------------------------------ figures */

/* sampling.dat: one block per dimension (bin centre, density of z, density of the mistaken z,
 * N(μ, σ²) density); sampling.gp: one panel per dimension. */
static int write_sampling_figure(const char *dir, const dimension_report *dims, int latent,
                                 const double *const *right_hist, const double *const *wrong_hist,
                                 const double *lo, const double *hi, int n_samples)
{
    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, "sampling");
    if (rc != AE_OK) return rc;
    for (int l = 0; l < latent; l++) {
        double width = (hi[l] - lo[l]) / HISTOGRAM_BINS;
        fprintf(dat.fp, "%s# dimension %d: mu = %g, logvar = %g, sigma = %.6g, sigma^2 = %.6g\n",
                l ? "\n\n" : "", l + 1, dims[l].mu, dims[l].logvar, dims[l].sigma, dims[l].var);
        fprintf(dat.fp, "# z (bin centre)\tdensity of z = mu + sigma*eps\tdensity of z = mu + eps*sigma^2\tN(mu, sigma^2) density\n");
        for (int k = 0; k < HISTOGRAM_BINS; k++) {
            double centre = lo[l] + (k + 0.5) * width;
            fprintf(dat.fp, "%.9g\t%.9g\t%.9g\t%.9g\n", centre, right_hist[l][k], wrong_hist[l][k],
                    normal_density(centre, dims[l].mu, dims[l].sigma));
        }
    }

    int cols = latent < 3 ? latent : 3, rows = (latent + cols - 1) / cols;
    int width = cols == 1 ? 800 : 560 * cols, height = rows == 1 ? 560 : 480 * rows;
    plot_script_begin(gp.fp, "sampling", NULL, width, height);
    fprintf(gp.fp, "set multiplot layout %d,%d title ", rows, cols);
    plot_quote(gp.fp, "Reparameterised samples z = μ + σ·ε against N(μ, σ²), and the mistake z = μ + ε·σ²");
    fprintf(gp.fp, " font ',13'\n");
    fprintf(gp.fp, "set xlabel 'z (latent value)'\nset ylabel 'probability density'\n");
    fprintf(gp.fp, "set grid lc rgb '#dddddd'\nset key top left reverse Left box opaque font ',10' samplen 2\n");
    fprintf(gp.fp, "set style fill solid 1.0 noborder\nset boxwidth 1.0 relative\nset samples 400\n");
    for (int l = 0; l < latent; l++) {
        double peak = 0.0;
        for (int k = 0; k < HISTOGRAM_BINS; k++)
            peak = fmax(peak, fmax(right_hist[l][k], wrong_hist[l][k]));
        peak = fmax(peak, normal_density(dims[l].mu, dims[l].mu, dims[l].sigma));
        char label[256];
        fprintf(gp.fp, "set title ");
        snprintf(label, sizeof label, "dimension %d: μ = %g, log σ² = %g", l + 1, dims[l].mu, dims[l].logvar);
        plot_quote(gp.fp, label);
        fprintf(gp.fp, "\nset xrange [%.9g:%.9g]\nset yrange [0:%.9g]\n", lo[l], hi[l], 1.55 * peak);
        fprintf(gp.fp, "plot 'sampling.dat' index %d using 1:2 with boxes lc rgb '#a6c8e6' fs solid 1.0 border lc rgb '#a6c8e6' title ", l);
        snprintf(label, sizeof label, "z = μ + σ·ε (N = %d): std %.3f", n_samples, sqrt(dims[l].right.var));
        plot_quote(gp.fp, label);
        fprintf(gp.fp, ", \\\n     exp(-0.5*((x-(%.9g))/%.9g)**2)/(%.9g*sqrt(2*pi)) with lines lw 2 lc rgb 'black' title ",
                dims[l].mu, dims[l].sigma, dims[l].sigma);
        snprintf(label, sizeof label, "N(μ, σ²) density, σ = %.3f", dims[l].sigma);
        plot_quote(gp.fp, label);
        fprintf(gp.fp, ", \\\n     'sampling.dat' index %d using 1:3 with histeps lw 2 lc rgb '#d62728' title ", l);
        snprintf(label, sizeof label, "mistake z = μ + ε·σ²: std %.3f", sqrt(dims[l].wrong.var));
        plot_quote(gp.fp, label);
        fputc('\n', gp.fp);
    }
    fprintf(gp.fp, "unset multiplot\n");
    return plot_commit_pair(&dat, &gp);
}

/* estimator_variance.dat: N, then the variance of the N-sample estimate of ∂/∂μ and ∂/∂log σ²
 * for each estimator, then s²/N from the large run; .gp: one panel per parameter. */
static int write_variance_figure(const char *dir, const int *ns, int points,
                                 double (*var_mu)[ESTIMATOR_COUNT], double (*var_logvar)[ESTIMATOR_COUNT],
                                 const gradient_estimates *big, int repeats, const dimension_report *dim0)
{
    atomic_file dat, gp;
    int rc = plot_open_pair(&dat, &gp, dir, "estimator_variance");
    if (rc != AE_OK) return rc;
    fprintf(dat.fp, "# f(z) = z^2, dimension 1 (mu = %g, logvar = %g); variance over %d repeats of the N-sample estimate\n",
            dim0->mu, dim0->logvar, repeats);
    fprintf(dat.fp, "# N\tmu_pathwise\tmu_score\tmu_score_baseline\tlogvar_pathwise\tlogvar_score\tlogvar_score_baseline"
                    "\tmu_pathwise_s2_over_N\tmu_score_s2_over_N\tlogvar_pathwise_s2_over_N\tlogvar_score_s2_over_N\n");
    for (int p = 0; p < points; p++) {
        fprintf(dat.fp, "%d", ns[p]);
        for (int e = 0; e < ESTIMATOR_COUNT; e++) fprintf(dat.fp, "\t%.9g", var_mu[p][e]);
        for (int e = 0; e < ESTIMATOR_COUNT; e++) fprintf(dat.fp, "\t%.9g", var_logvar[p][e]);
        fprintf(dat.fp, "\t%.9g\t%.9g\t%.9g\t%.9g\n",
                big->mu[ESTIMATOR_PATHWISE].sample_var / ns[p], big->mu[ESTIMATOR_SCORE].sample_var / ns[p],
                big->logvar[ESTIMATOR_PATHWISE].sample_var / ns[p], big->logvar[ESTIMATOR_SCORE].sample_var / ns[p]);
    }

    plot_script_begin(gp.fp, "estimator_variance", NULL, 1200, 560);
    char title[256];
    snprintf(title, sizeof title,
             "Variance of the N-sample gradient estimate of E[z²], z ~ N(μ = %g, σ² = %.3f), %d repeats per N",
             dim0->mu, dim0->var, repeats);
    fprintf(gp.fp, "set multiplot layout 1,2 title ");
    plot_quote(gp.fp, title);
    fprintf(gp.fp, " font ',13'\n");
    fprintf(gp.fp, "set logscale xy\nset format y '%%.0e'\nset grid lc rgb '#dddddd'\n");
    fprintf(gp.fp, "set xlabel 'N (samples per estimate)'\nset ylabel 'variance of the estimate'\n");
    fprintf(gp.fp, "set key top right box opaque font ',10'\nset xrange [1.5:%d]\n", ns[points - 1] * 3 / 2);
    const char *param_titles[2] = { "∂E[f]/∂μ (exact 2μ)", "∂E[f]/∂log σ² (exact σ²)" };
    for (int panel = 0; panel < 2; panel++) {
        int first = 2 + panel * ESTIMATOR_COUNT, ref = 2 + 2 * ESTIMATOR_COUNT + panel * 2;
        fprintf(gp.fp, "set title ");
        plot_quote(gp.fp, param_titles[panel]);
        fprintf(gp.fp, "\nplot 'estimator_variance.dat' using 1:%d with linespoints lw 2 pt 7 lc rgb '#d62728' title 'score function (REINFORCE)', \\\n", first + ESTIMATOR_SCORE);
        fprintf(gp.fp, "     'estimator_variance.dat' using 1:%d with linespoints lw 2 pt 5 lc rgb '#ff7f0e' title 'score function, leave-one-out baseline', \\\n", first + ESTIMATOR_SCORE_BASELINE);
        fprintf(gp.fp, "     'estimator_variance.dat' using 1:%d with linespoints lw 2 pt 9 lc rgb '#1f77b4' title 'pathwise (reparameterised)', \\\n", first + ESTIMATOR_PATHWISE);
        fprintf(gp.fp, "     'estimator_variance.dat' using 1:%d with lines dt 2 lw 1.5 lc rgb '#d62728' title 's²/N, score, from the large run', \\\n", ref + 1);
        fprintf(gp.fp, "     'estimator_variance.dat' using 1:%d with lines dt 2 lw 1.5 lc rgb '#1f77b4' title 's²/N, pathwise, from the large run'\n", ref);
    }
    fprintf(gp.fp, "unset multiplot\n");
    return plot_commit_pair(&dat, &gp);
}

/* ------------------------------------------------------------------ the steps */

int reparam_study_init(reparam_study *s, program_run *run, const float *mu, const float *logvar, int latent, int n,
                       int repeats)
{
    memset(s, 0, sizeof *s);
    s->run = run;
    s->res = run->res;
    s->talk = !run->common->quiet;
    s->n = n;
    s->latent = latent;
    s->repeats = repeats;
    memcpy(s->mu, mu, (size_t)latent * sizeof *mu);
    memcpy(s->logvar, logvar, (size_t)latent * sizeof *logvar);
    const size_t count = (size_t)n * latent;
    s->eps = malloc(count * sizeof *s->eps);                  /* (N, L) */
    s->z = malloc(count * sizeof *s->z);                      /* (N, L) */
    s->z_wrong = malloc(count * sizeof *s->z_wrong);          /* (N, L) */
    s->mu_rows = malloc(count * sizeof *s->mu_rows);          /* (N, L): the layer takes μ per sample */
    s->logvar_rows = malloc(count * sizeof *s->logvar_rows);  /* (N, L) */
    s->column = malloc((size_t)n * sizeof *s->column);        /* (N) */
    s->hist_store = malloc((size_t)2 * latent * HISTOGRAM_BINS * sizeof *s->hist_store);
    s->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!s->eps || !s->z || !s->z_wrong || !s->mu_rows || !s->logvar_rows || !s->column || !s->hist_store || !s->rng)
        return AE_ERROR(AE_ENOMEM, "not enough memory for %d samples of %d dimensions; try a smaller --samples",
                        n, latent);
    gsl_rng_set(s->rng, run->common->seed);
    results *res = s->res;
    dimension_report *dims = s->dims;
    const int talk = s->talk;
    const unsigned long seed = run->common->seed;
    for (int l = 0; l < latent; l++) {
        dims[l].mu = mu[l];
        dims[l].logvar = logvar[l];
        dims[l].var = exp((double)logvar[l]);
        dims[l].sigma = exp(0.5 * logvar[l]);
    }
    if (talk) {
        printf("%s: the reparameterisation trick, z = μ + σ·ε with ε ~ N(0, 1)\n", run->info->name);
        printf("  %d latent dimension%s, %d samples each, seed %lu\n\n", latent, latent == 1 ? "" : "s", n, seed);
        printf("  σ² = e^(log σ²) and σ = e^(½·log σ²) in each latent dimension:\n");
        cell("dim", 5); cell("μ", 10); cell("log σ²", 10); cell("σ²", 12); cell("σ", 12); putchar('\n');
        for (int l = 0; l < latent; l++)
            printf("%5d %9.4g %9.4g %11.6g %11.6g\n", l + 1, dims[l].mu, dims[l].logvar, dims[l].var, dims[l].sigma);
    }
    results_add_int(res, "samples", n);
    results_add_int(res, "latent_dims", latent);
    results_add_int(res, "seed", (long)seed);
    results_add_double(res, "confidence", CONFIDENCE);
    return AE_OK;
}

void reparam_study_free(reparam_study *s)
{
    free(s->eps); free(s->z); free(s->z_wrong); free(s->mu_rows); free(s->logvar_rows); free(s->column);
    free(s->hist_store);
    if (s->rng) gsl_rng_free(s->rng);
}

/* 1. N draws through the sampling layer; sample mean and variance against mu and sigma^2 with
 * confidence intervals; Kolmogorov-Smirnov against N(mu, sigma^2). */
int reparam_sampling(reparam_study *s)
{
    results *res = s->res;
    dimension_report *dims = s->dims;
    const int n = s->n, latent = s->latent, talk = s->talk;
    int rc = AE_OK;
    const size_t count = (size_t)n * latent;
    float *eps = s->eps, *z = s->z, *z_wrong = s->z_wrong, *mu_rows = s->mu_rows, *logvar_rows = s->logvar_rows;
    const float *mu = s->mu, *logvar = s->logvar;
    double *column = s->column, *hist_store = s->hist_store;
    double **right_hist = s->right_hist, **wrong_hist = s->wrong_hist, *lo = s->lo, *hi = s->hi;
    gsl_rng *rng = s->rng;
    for (size_t b = 0; b < (size_t)n; b++)
        for (int l = 0; l < latent; l++) { mu_rows[b * latent + l] = mu[l]; logvar_rows[b * latent + l] = logvar[l]; }
    sampling_draw_eps(eps, count, rng);
    reparam_forward(z, mu_rows, logvar_rows, eps, n, latent);           /* z = μ + σ·ε */
    mistaken_sampling_forward(z_wrong, mu_rows, logvar_rows, eps, n, latent);   /* z = μ + ε·σ² */

    for (int l = 0; l < latent; l++) {
        dimension_report *d = &dims[l];
        double spread = 4.0 * fmax(d->sigma, d->var);
        lo[l] = d->mu - spread;
        hi[l] = d->mu + spread;
        right_hist[l] = hist_store + (size_t)(2 * l) * HISTOGRAM_BINS;
        wrong_hist[l] = hist_store + (size_t)(2 * l + 1) * HISTOGRAM_BINS;

        copy_column(column, z, n, latent, l);
        histogram_density(right_hist[l], HISTOGRAM_BINS, lo[l], hi[l], column, n);
        if ((rc = moment_summary_compute(&d->right, column, (size_t)n, CONFIDENCE)) != AE_OK ||
            (rc = ks_statistic_normal(&d->ks_d, column, (size_t)n, d->mu, d->sigma)) != AE_OK)
            return rc;
        d->ks_p = ks_pvalue(d->ks_d, (size_t)n);

        copy_column(column, z_wrong, n, latent, l);
        histogram_density(wrong_hist[l], HISTOGRAM_BINS, lo[l], hi[l], column, n);
        if ((rc = moment_summary_compute(&d->wrong, column, (size_t)n, CONFIDENCE)) != AE_OK ||
            (rc = ks_statistic_normal(&d->wrong_ks_d, column, (size_t)n, d->mu, d->sigma)) != AE_OK)
            return rc;
        d->wrong_ks_p = ks_pvalue(d->wrong_ks_d, (size_t)n);
    }
    double ks_critical = 1.3581 / (sqrt((double)n) + 0.12 + 0.11 / sqrt((double)n));   /* P(K > 1.3581) = 0.05 */

    if (talk) {
        printf("\n1. Sampling with reparam_forward: z = μ + exp(½·log σ²)·ε\n");
        printf("   95%% intervals: mean x̄ ± 1.96·s/√N; variance (N−1)s²/χ² quantiles with N−1 degrees of freedom\n\n");
        cell("dim", 5); cell("sample mean", 14); cell("", 2); cell("95% CI for the mean", -24);
        cell("μ", 12); cell("inside?", 9); putchar('\n');
        for (int l = 0; l < latent; l++) {
            const moment_summary *s = &dims[l].right;
            int inside = dims[l].mu >= s->mean_lo && dims[l].mu <= s->mean_hi;
            printf("%5d %13.6g  [%10.6g, %10.6g] %11.6g %8s\n", l + 1, s->mean, s->mean_lo, s->mean_hi,
                   dims[l].mu, inside ? "yes" : "NO");
        }
        putchar('\n');
        cell("dim", 5); cell("sample var", 14); cell("", 2); cell("95% CI for the variance", -24);
        cell("σ²", 12); cell("inside?", 9); putchar('\n');
        for (int l = 0; l < latent; l++) {
            const moment_summary *s = &dims[l].right;
            int inside = dims[l].var >= s->var_lo && dims[l].var <= s->var_hi;
            printf("%5d %13.6g  [%10.6g, %10.6g] %11.6g %8s\n", l + 1, s->var, s->var_lo, s->var_hi,
                   dims[l].var, inside ? "yes" : "NO");
        }
        printf("\n  Kolmogorov–Smirnov distance D = sup |F_N(z) − Φ((z − μ)/σ)| (Φ: gsl_cdf_gaussian_P);\n");
        printf("  at the 5%% level N(μ, σ²) is rejected when D > %.5f\n", ks_critical);
        cell("dim", 5); cell("D", 12); cell("p-value", 12); putchar('\n');
        char pbuf[32];
        for (int l = 0; l < latent; l++)
            printf("%5d %11.6f %11s\n", l + 1, dims[l].ks_d, format_p(pbuf, sizeof pbuf, dims[l].ks_p));
    }
    for (int l = 0; l < latent; l++) {
        const dimension_report *d = &dims[l];
        add_double(res, "mu", l, d->mu);
        add_double(res, "logvar", l, d->logvar);
        add_double(res, "true_var", l, d->var);
        add_double(res, "true_std", l, d->sigma);
        add_double(res, "sample_mean", l, d->right.mean);
        add_double(res, "sample_mean_ci_lo", l, d->right.mean_lo);
        add_double(res, "sample_mean_ci_hi", l, d->right.mean_hi);
        add_double(res, "sample_var", l, d->right.var);
        add_double(res, "sample_var_ci_lo", l, d->right.var_lo);
        add_double(res, "sample_var_ci_hi", l, d->right.var_hi);
        add_int(res, "mean_in_ci", l, d->mu >= d->right.mean_lo && d->mu <= d->right.mean_hi);
        add_int(res, "var_in_ci", l, d->var >= d->right.var_lo && d->var <= d->right.var_hi);
        add_double(res, "ks_d", l, d->ks_d);
        add_double(res, "ks_pvalue", l, d->ks_p);
    }
    results_add_double(res, "ks_critical_5pct", ks_critical);
    return rc;
}

/* 2. The known mistake z = mu + eps*sigma^2: its spread, against the right one. */
int reparam_mistake(reparam_study *s)
{
    results *res = s->res;
    dimension_report *dims = s->dims;
    const int latent = s->latent, talk = s->talk;
    int rc = AE_OK;
    if (talk) {
        printf("\n2. The known mistake: z = μ + ε·σ² (the variance where the standard deviation belongs)\n");
        printf("   Its spread is σ² instead of σ: too narrow when σ < 1, too wide when σ > 1.\n\n");
        printf("   Columns: the right spread σ; the measured std of both; the spread the mistake gives, σ²;\n");
        printf("   their ratio (σ²/σ = σ); the KS distance of the mistaken z from N(μ, σ²).\n");
        cell("dim", 5); cell("σ", 11); cell("std μ+σ·ε", 12); cell("std μ+ε·σ²", 13); cell("σ²", 11);
        cell("wrong/right", 13); cell("KS D", 11); cell("p-value", 10); putchar('\n');
        char pbuf[32];
        for (int l = 0; l < latent; l++) {
            double right_std = sqrt(dims[l].right.var), wrong_std = sqrt(dims[l].wrong.var);
            printf("%5d %10.6g %11.6g %12.6g %10.6g %12.4g %10.6f %9s\n", l + 1, dims[l].sigma,
                   right_std, wrong_std, dims[l].var, wrong_std / right_std, dims[l].wrong_ks_d,
                   format_p(pbuf, sizeof pbuf, dims[l].wrong_ks_p));
        }
    }
    for (int l = 0; l < latent; l++) {
        const dimension_report *d = &dims[l];
        add_double(res, "sample_std", l, sqrt(d->right.var));
        add_double(res, "wrong_std", l, sqrt(d->wrong.var));
        add_double(res, "wrong_std_expected", l, d->var);
        add_double(res, "wrong_sample_mean", l, d->wrong.mean);
        add_double(res, "wrong_sample_var", l, d->wrong.var);
        add_double(res, "wrong_ks_d", l, d->wrong_ks_d);
        add_double(res, "wrong_ks_pvalue", l, d->wrong_ks_p);
    }
    return rc;
}

/* 3. Gradients of E[f(z)] for f = z^2 and f = sin z: exact, pathwise, score function. */
int reparam_gradients(reparam_study *s)
{
    results *res = s->res;
    const int n = s->n, latent = s->latent, talk = s->talk;
    int rc = AE_OK;
    const float *z = s->z, *eps = s->eps, *mu = s->mu, *logvar = s->logvar;
    for (int f = 0; f < TEST_FN_COUNT; f++)
        if ((rc = estimate_gradients(s->grads[f], z, eps, mu, logvar, n, latent, (test_function)f)) != AE_OK)
            return rc;
    if (talk) {
        printf("\n3. Gradients of E[f(z)] with respect to μ and log σ², from the same %d draws\n", n);
        printf("   pathwise: mean of f'(z)·∂z/∂θ, with ∂z/∂μ = 1, ∂z/∂log σ² = ½σε (the layer's backward)\n");
        printf("   score:    mean of f(z)·∂log q(z)/∂θ, with ∂log q/∂μ = (z−μ)/σ², ∂log q/∂log σ² = ½((z−μ)²/σ² − 1)\n");
        printf("   score-b:  the score estimator with f(z) − b, b = the mean of f over the other N−1 samples\n");
        printf("   each: estimate ± standard error s/√N, and [its distance from the exact value in standard errors]\n");
    }
    for (int f = 0; f < TEST_FN_COUNT; f++) {
        if (talk) {
            if (f == TEST_FN_SQUARE) printf("\n  f(z) = z²: exact ∂E/∂μ = 2μ, ∂E/∂log σ² = σ²\n");
            else printf("\n  f(z) = sin z: E = sin μ·e^(−σ²/2), exact ∂E/∂μ = cos μ·e^(−σ²/2), ∂E/∂log σ² = −½σ² sin μ·e^(−σ²/2)\n");
            cell("dim", 5); cell("θ", 8); cell("exact", 11);
            for (int e = 0; e < ESTIMATOR_COUNT; e++) {
                cell("", 3);
                cell(e == ESTIMATOR_PATHWISE ? "pathwise ± se [Δ/se]" : e == ESTIMATOR_SCORE ? "score ± se [Δ/se]"
                                                                                          : "score-b ± se [Δ/se]",
                     e + 1 < ESTIMATOR_COUNT ? -29 : 0);
            }
            putchar('\n');
        }
        for (int l = 0; l < latent; l++) {
            const gradient_estimates *g = &s->grads[f][l];
            for (int param = 0; param < 2; param++) {
                double exact = param == 0 ? g->exact_mu : g->exact_logvar;
                const estimate *est = param == 0 ? g->mu : g->logvar;
                if (talk) {
                    char dim_text[16];
                    snprintf(dim_text, sizeof dim_text, "%d", l + 1);
                    cell(param == 0 ? dim_text : "", 5);
                    cell(param == 0 ? "μ" : "log σ²", 8);
                    printf(" %10.6g", exact);
                    for (int e = 0; e < ESTIMATOR_COUNT; e++)
                        printf("  %10.6g ± %8.3g [%+5.2f]", est[e].mean, est[e].std_error,
                               (est[e].mean - exact) / est[e].std_error);
                    printf("\n");
                }
                const char *prefix = f == TEST_FN_SQUARE ? "" : "sin_";
                const char *pname = param == 0 ? "mu" : "logvar";
                char key[96];
                snprintf(key, sizeof key, "%sgrad_%s_exact", prefix, pname);
                add_double(res, key, l, exact);
                for (int e = 0; e < ESTIMATOR_COUNT; e++) {
                    snprintf(key, sizeof key, "%sgrad_%s_%s", prefix, pname, estimator_name((estimator)e));
                    add_double(res, key, l, est[e].mean);
                    snprintf(key, sizeof key, "%sgrad_%s_%s_se", prefix, pname, estimator_name((estimator)e));
                    add_double(res, key, l, est[e].std_error);
                    snprintf(key, sizeof key, "%sgrad_%s_%s_zscore", prefix, pname, estimator_name((estimator)e));
                    add_double(res, key, l, (est[e].mean - exact) / est[e].std_error);
                    snprintf(key, sizeof key, "%svar_%s_%s", prefix, pname, estimator_name((estimator)e));
                    add_double(res, key, l, est[e].sample_var);
                }
            }
        }
        /* the variance ratio of the first dimension: how many more samples the score estimator needs */
        const gradient_estimates *g0 = &s->grads[f][0];
        double ratio_mu = g0->mu[ESTIMATOR_SCORE].sample_var / g0->mu[ESTIMATOR_PATHWISE].sample_var;
        double ratio_logvar = g0->logvar[ESTIMATOR_SCORE].sample_var / g0->logvar[ESTIMATOR_PATHWISE].sample_var;
        double ratio_mu_b = g0->mu[ESTIMATOR_SCORE_BASELINE].sample_var / g0->mu[ESTIMATOR_PATHWISE].sample_var;
        double ratio_logvar_b = g0->logvar[ESTIMATOR_SCORE_BASELINE].sample_var / g0->logvar[ESTIMATOR_PATHWISE].sample_var;
        if (talk) {
            printf("  Per-sample variance s² in dimension 1 (an N-sample mean has variance s²/N):\n");
            cell("θ", 13); cell("pathwise", 12); cell("score", 12); cell("score-b", 12);
            cell("score/pathwise", 17); cell("score-b/pathwise", 19); putchar('\n');
            cell("μ", 13);
            printf(" %11.5g %11.5g %11.5g %16.4g %18.4g\n", g0->mu[0].sample_var, g0->mu[1].sample_var,
                   g0->mu[2].sample_var, ratio_mu, ratio_mu_b);
            cell("log σ²", 13);
            printf(" %11.5g %11.5g %11.5g %16.4g %18.4g\n", g0->logvar[0].sample_var, g0->logvar[1].sample_var,
                   g0->logvar[2].sample_var, ratio_logvar, ratio_logvar_b);
        }
        const char *prefix = f == TEST_FN_SQUARE ? "" : "sin_";
        char key[96];
        snprintf(key, sizeof key, "%svariance_ratio", prefix);
        results_add_double(res, key, ratio_mu);
        snprintf(key, sizeof key, "%svariance_ratio_logvar", prefix);
        results_add_double(res, key, ratio_logvar);
        snprintf(key, sizeof key, "%svariance_ratio_baseline", prefix);
        results_add_double(res, key, ratio_mu_b);
        snprintf(key, sizeof key, "%svariance_ratio_baseline_logvar", prefix);
        results_add_double(res, key, ratio_logvar_b);
    }
    return rc;
}

/* 4. How the variance of the N-sample estimates falls with N (first dimension). */
int reparam_variance_study(reparam_study *s)
{
    results *res = s->res;
    const int talk = s->talk;
    int rc = AE_OK;
    const float *mu = s->mu, *logvar = s->logvar;
    const int repeats = s->repeats;
    int *ns = s->ns;
    double (*study_mu)[ESTIMATOR_COUNT] = s->study_mu, (*study_logvar)[ESTIMATOR_COUNT] = s->study_logvar;
    gsl_rng *rng = s->rng;
    for (int p = 0; p < STUDY_POINTS; p++) {
        ns[p] = 2 << p;
        if ((rc = estimator_spread(study_mu[p], study_logvar[p], ns[p], repeats, mu[0], logvar[0],
                                   TEST_FN_SQUARE, rng)) != AE_OK)
            return rc;
    }
    if (talk) {
        printf("\n4. How the N-sample estimate spreads as N grows (f(z) = z², dimension 1, %d repeats per N)\n", repeats);
        printf("   Var = the variance of the estimate across repeats; both fall as 1/N,\n"
               "   while their ratio stays roughly where it is\n\n");
        cell("", 8); cell("variance of the ∂E/∂μ estimate", -42);
        cell("variance of the ∂E/∂log σ² estimate", 0); putchar('\n');
        cell("N", 8);
        for (int panel = 0; panel < 2; panel++) {
            cell("pathwise", 11); cell("score", 11); cell("score-b", 11); cell("ratio", 9);
        }
        putchar('\n');
        for (int p = 0; p < STUDY_POINTS; p++)
            printf("%8d %10.4g %10.4g %10.4g %8.3g %10.4g %10.4g %10.4g %8.3g\n", ns[p],
                   study_mu[p][0], study_mu[p][1], study_mu[p][2], study_mu[p][1] / study_mu[p][0],
                   study_logvar[p][0], study_logvar[p][1], study_logvar[p][2],
                   study_logvar[p][1] / study_logvar[p][0]);
        printf("  (ratio = Var(score)/Var(pathwise); from %d repeats each variance is itself uncertain by\n"
               "   ±%.0f%% for Gaussian estimates, more for the heavy-tailed score estimates)\n",
               repeats, 100.0 * sqrt(2.0 / (repeats - 1)));
    }
    results_add_int(res, "study_repeats", repeats);
    for (int p = 0; p < STUDY_POINTS; p++) {
        char key[96];
        for (int e = 0; e < ESTIMATOR_COUNT; e++) {
            snprintf(key, sizeof key, "study_n%d_var_mu_%s", ns[p], estimator_name((estimator)e));
            results_add_double(res, key, study_mu[p][e]);
            snprintf(key, sizeof key, "study_n%d_var_logvar_%s", ns[p], estimator_name((estimator)e));
            results_add_double(res, key, study_logvar[p][e]);
        }
    }
    return rc;
}

/* 5. The sampling layer's backward against finite differences. */
int reparam_layer_check(reparam_study *s)
{
    results *res = s->res;
    const int latent = s->latent, talk = s->talk;
    int rc = AE_OK;
    gsl_rng *rng = s->rng;
    /* The check is about the layer's code, so it runs on moderate values of its own: at |log σ²|
     * near 16, float z has too few digits for any finite difference to mean something. */
    float check_mu[CHECK_ROWS * MAX_LATENT], check_logvar[CHECK_ROWS * MAX_LATENT], check_eps[CHECK_ROWS * MAX_LATENT];
    int check_count = CHECK_ROWS * latent;
    for (int i = 0; i < check_count; i++) {
        check_mu[i] = (float)(-2.0 + 4.0 * gsl_rng_uniform(rng));       /* μ ~ U(−2, 2) */
        check_logvar[i] = (float)(-2.0 + 4.0 * gsl_rng_uniform(rng));   /* log σ² ~ U(−2, 2) */
    }
    sampling_draw_eps(check_eps, (size_t)check_count, rng);
    layer_check check;
    if ((rc = sampling_layer_check(&check, check_mu, check_logvar, check_eps, CHECK_ROWS, latent, CHECK_STEP)) != AE_OK)
        return rc;
    const int layer_ok = s->layer_ok = check.max_error_mu < 1e-3 && check.max_error_logvar < 1e-3;
    if (talk) {
        printf("\n5. The layer check: reparam_backward against central differences, ε held fixed\n");
        printf("   loss = Σ sin(z) over %d samples × %d dimensions with μ, log σ² ~ U(−2, 2), h = %g:\n"
               "   %d partial derivatives compared\n", CHECK_ROWS, latent, CHECK_STEP, check.checked);
        printf("   max relative error: ∂/∂μ %.3g, ∂/∂log σ² %.3g; max absolute error %.3g  →  %s\n",
               check.max_error_mu, check.max_error_logvar, check.max_abs_error,
               layer_ok ? "OK (below 1e-3)" : "MISMATCH");
    }
    results_add_double(res, "layer_check_max_error_mu", check.max_error_mu);
    results_add_double(res, "layer_check_max_error_logvar", check.max_error_logvar);
    results_add_double(res, "layer_check_max_error", fmax(check.max_error_mu, check.max_error_logvar));
    results_add_double(res, "layer_check_max_abs_error", check.max_abs_error);
    results_add_int(res, "layer_check_count", check.checked);
    if (!layer_ok) rc = AE_ERROR(AE_ENUMERIC, "reparam_backward's gradient does not match finite differences");
    return rc;
}

int reparam_figures(reparam_study *s)
{
    int rc = write_sampling_figure(s->run->out_dir, s->dims, s->latent, (const double *const *)s->right_hist,
                                   (const double *const *)s->wrong_hist, s->lo, s->hi, s->n);
    if (rc == AE_OK)
        rc = write_variance_figure(s->run->out_dir, s->ns, STUDY_POINTS, s->study_mu, s->study_logvar, &s->grads[0][0],
                                   s->repeats, &s->dims[0]);
    if (rc == AE_OK) rc = program_render(s->run, "sampling");
    if (rc == AE_OK) rc = program_render(s->run, "estimator_variance");
    return rc;
}
