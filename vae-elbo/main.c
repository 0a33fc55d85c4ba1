/* main.c: vae-elbo — the evidence lower bound of a VAE, its two terms checked, then VAEs trained.
 *
 *   bin/vae-elbo                                   the checks (no data needed)
 *   bin/vae-elbo --mu 0.3,-1.2 --logvar 0.1,-0.5   the KL checks for any diagonal Gaussian
 *   bin/vae-elbo --train                           the checks, then both VAEs on Fashion-MNIST
 *
 * Shape legend: B batch, L latent dimensions, D pixels (784).
 *
 * 1. The KL term: closed form against the trace/log-det form, Monte Carlo and GSL integration.
 * 2. The reconstruction term: the Bernoulli log-likelihood against the library's BCE; sum
 *    against mean reduction and the β it implies.
 * 3. Known mistakes: the lecture notebook's KL, BCE on targets in [−1, 1], the sign convention.
 * 4. The single-sample Monte-Carlo ELBO against the analytic-KL ELBO: same mean, more spread.
 * 5. (--train) the dense VAE, the lecture's convolutional VAE and a β sweep, with figures.
 *
 * Sections 1–4 use a fixed, untrained dense VAE and a made-up image, so they run anywhere.
 * Files in --out (default out/vae-elbo): results.tsv, and with --train the figures
 * (NAME.dat, NAME.gp, NAME.png). Bad input writes nothing and exits with status 2.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>

#include "fast/blas.h"
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

#define PROGRAM "vae-elbo"
#define MAX_LATENT 64            /* dimensions accepted in --mu and --logvar */
#define MU_LIMIT 1000.0          /* |μ| beyond this adds nothing to the lesson and loses digits */
#define LOGVAR_LIMIT 50.0        /* σ² from e^-50 to e^50: finite in double, with room for sums */
#define DENSE_HIDDEN 400         /* pytorch/examples' VAE */
#define MAX_BETAS 8
#define GRID_SIDE 15             /* decoded grid: 15 x 15 latent points */
#define PRIOR_SAMPLES 100        /* 10 x 10 samples from the prior */
#define MORPH_STEPS 10
#define ERRORBAR_POINTS 1500     /* test images drawn with their error bars (all of them would be a blot) */

static const program_info prog_info = {
    PROGRAM,
    "the evidence lower bound (ELBO) of a VAE: its KL and reconstruction terms checked "
    "against independent computations, the usual mistakes shown failing, and (--train) "
    "a dense and a convolutional VAE trained on Fashion-MNIST",
    "Examples:\n"
    "  vae-elbo                                   the checks, on a fixed untrained model (no data)\n"
    "  vae-elbo --mu 0.3,-1.2 --logvar 0.1,-0.5   the KL of any diagonal Gaussian, every way\n"
    "  vae-elbo --train                           checks, then both VAEs and a beta sweep\n"
    "  vae-elbo --train --model dense --latent 2  the dense VAE with a 2-D latent and its figures\n"
    "  vae-elbo --train --model conv --conv-epochs 5 --beta 2\n"
    "\n"
    "Writes results.tsv (and with --train the figures as .dat, .gp and .png) into the --out folder.",
    CLI_USES_DATA | CLI_TRAINS
};

/* Everything the options say. */
typedef struct {
    const char *mu_text, *logvar_text;
    long mc_samples;
    int elbo_draws;
    int train;
    int model_choice;            /* 0 dense, 1 conv, 2 both */
    int latent;
    double beta;
    int conv_epochs;
    int batch;
    double lr;
    int no_sweep;
    const char *sweep_betas_text;
    int sweep_epochs;
    int threads;
} options;

/* What every section needs. */
typedef struct {
    const options *opt;
    const common_options *common;
    results *res;
    int gnuplot_missing_told;
    int figures_written;
} run_context;

/* A generator for one part of the run, so that options of one part do not shift the draws of
 * another (the KL checks and the training have their own streams). */
static gsl_rng *stream_rng(unsigned long seed, unsigned long stream)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r) gsl_rng_set(r, (seed + 1000003UL * stream) & 0xffffffffUL);
    return r;
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Prints text left-aligned (width > 0) or right-aligned (width < 0) in |width| columns, counting
 * characters rather than bytes, so that μ and σ² line up like ASCII. */
static void cell(const char *text, int width)
{
    int chars = 0;
    for (const char *c = text; *c; c++) chars += ((unsigned char)*c & 0xC0) != 0x80;
    int pad = abs(width) - chars;
    if (width > 0) fputs(text, stdout);
    for (int i = 0; i < pad; i++) putchar(' ');
    if (width < 0) fputs(text, stdout);
}

static void heading(const char *text)
{
    printf("\n== %s ==\n\n", text);
}

static void print_vector(const char *name, const double *v, int k)
{
    printf("%s = (", name);
    for (int j = 0; j < k; j++) printf("%s%.6g", j ? ", " : "", v[j]);
    printf(")");
}

static int add_double(run_context *ctx, const char *key, double value)
{
    return results_add_double(ctx->res, key, value);
}

/* key "PREFIX_NAME" */
static int add_prefixed(run_context *ctx, const char *prefix, const char *name, double value)
{
    char key[160];
    snprintf(key, sizeof key, "%s_%s", prefix, name);
    return results_add_double(ctx->res, key, value);
}

/* ================================================================ figures */

typedef struct {
    atomic_file dat, gp;   /* plot_open_pair and plot_commit_pair */
} figure_files;

/* Renders NAME.gp unless --no-plot; says once when gnuplot is missing. */
static int render(run_context *ctx, const char *name)
{
    ctx->figures_written++;
    if (ctx->common->no_plot) return AE_OK;
    int rendered;
    int rc = plot_render(ctx->common->out_dir, name, &rendered);
    if (rc == AE_OK && !rendered && !ctx->gnuplot_missing_told) {
        printf("(gnuplot is not installed: the .dat and .gp files are written, the .png files are not)\n");
        ctx->gnuplot_missing_told = 1;
    }
    return rc;
}

/* ======================================================= 1. the KL term */

/* KL(N(μ, σ²) ‖ N(0, s²)) summed over dimensions, the general closed form, for the check
 * that the lecture notebook's formula is a KL against a narrower prior. */
static double kl_to_scaled_prior(const double *mu, const double *logvar, int k, double prior_var)
{
    double sum = 0.0;
    for (int j = 0; j < k; j++)
        sum += 0.5 * (log(prior_var) - logvar[j]) + (exp(logvar[j]) + mu[j] * mu[j]) / (2.0 * prior_var) - 0.5;
    return sum;
}

static int section_kl(run_context *ctx, const double *mu, const double *logvar, int k)
{
    heading("1. The KL term: KL(q ‖ p) with q = N(μ, diag σ²) and the prior p = N(0, I)");
    double var[MAX_LATENT];
    for (int j = 0; j < k; j++) var[j] = exp(logvar[j]);
    print_vector("μ", mu, k);
    printf("\n");
    print_vector("log σ²", logvar, k);
    printf("   so ");
    print_vector("σ²", var, k);
    printf("\n\n");

    double closed = kl_closed_form(mu, logvar, k);
    printf("closed form      −½ Σ (1 + log σ² − μ² − σ²)          = %.12f nats\n", closed);

    double trace_form;
    int rc = kl_trace_logdet(&trace_form, mu, logvar, k);
    if (rc != AE_OK) return rc;
    double trace = 0.0, mu2 = 0.0, logdet = 0.0;
    for (int j = 0; j < k; j++) trace += var[j], mu2 += mu[j] * mu[j], logdet += logvar[j];
    printf("trace/log-det    ½ (tr Σ + μᵀμ − k − log det Σ)        = %.12f nats\n", trace_form);
    printf("                 with tr Σ = %.6g, μᵀμ = %.6g, k = %d, log det Σ = %.6g (from the LU factors)\n",
           trace, mu2, k, logdet);
    printf("                 |difference| = %.3g\n\n", fabs(trace_form - closed));

    gsl_rng *rng = stream_rng(ctx->common->seed, 1);
    if (!rng) return AE_ERROR(AE_ENOMEM, "out of memory for a random generator");
    mc_estimate mc;
    rc = kl_monte_carlo(&mc, mu, logvar, k, (size_t)ctx->opt->mc_samples, rng);
    gsl_rng_free(rng);
    if (rc != AE_OK) return rc;
    double mc_z = (mc.mean - closed) / mc.std_error;
    printf("Monte Carlo      mean of log q(z) − log p(z), z = μ + σ ε, N = %ld draws\n", ctx->opt->mc_samples);
    printf("                 = %.6f ± %.6f (one standard error; one draw spreads %.4f)\n",
           mc.mean, mc.std_error, mc.sample_std);
    printf("                 the closed form lies %.2f standard errors away: %s\n\n", fabs(mc_z),
           fabs(mc_z) < 3.0 ? "agreement, as chance allows" : "MORE THAN 3 - look into it");

    printf("numerical        ∫ q(z) [log q(z) − log p(z)] dz by GSL's QAGI over the real line, one\n");
    printf("                 dimension at a time (the KL of independent dimensions is their sum)\n");
    double numeric_total = 0.0, error_total = 0.0;
    for (int j = 0; j < k; j++) {
        double one, err;
        if ((rc = kl_numerical_1d(&one, &err, mu[j], logvar[j])) != AE_OK) return rc;
        double closed_one = kl_closed_form(&mu[j], &logvar[j], 1);
        numeric_total += one;
        error_total += err;
        if (j < 8)
            printf("   dimension %d:  integral %.12f   closed form %.12f   difference %9.2e   (GSL error estimate %.1e)\n",
                   j + 1, one, closed_one, one - closed_one, err);
        else if (j == 8)
            printf("   ... (%d more dimensions, in the sum)\n", k - 8);
    }
    printf("   sum:          integral %.12f   closed form %.12f   difference %9.2e\n\n",
           numeric_total, closed, numeric_total - closed);

    rc = AE_OK;
    rc |= results_add_int(ctx->res, "kl_dimensions", k);
    rc |= add_double(ctx, "kl_closed_form", closed);
    rc |= add_double(ctx, "kl_trace_logdet", trace_form);
    rc |= add_double(ctx, "kl_trace_logdet_abs_difference", fabs(trace_form - closed));
    rc |= add_double(ctx, "kl_monte_carlo", mc.mean);
    rc |= add_double(ctx, "kl_monte_carlo_stderr", mc.std_error);
    rc |= results_add_int(ctx->res, "kl_monte_carlo_samples", ctx->opt->mc_samples);
    rc |= add_double(ctx, "kl_monte_carlo_stderrs_from_closed_form", fabs(mc_z));
    rc |= add_double(ctx, "kl_numerical_integration", numeric_total);
    rc |= add_double(ctx, "kl_numerical_integration_error_estimate", error_total);
    rc |= add_double(ctx, "kl_numerical_integration_abs_difference", fabs(numeric_total - closed));
    return rc;
}

/* ============================================ 2.–4. the fixed small world */

/* A made-up 28x28 image: a bright ring on black, with exact 0s, exact 1s and greys between.
 * x (784) */
static void ring_image(float *x)
{
    for (int y = 0; y < 28; y++)
        for (int c = 0; c < 28; c++) {
            double r = hypot(y - 13.5, c - 13.5);
            double v = 1.0 - fabs(r - 8.0) / 3.0;          /* 1 on the circle of radius 8, 0 beyond ±3 */
            x[y * 28 + c] = (float)(v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v);
        }
}

/* Everything sections 2–4 share: the untrained model, the image, one draw and its decoding. */
typedef struct {
    vae *v;
    float x[FASHION_PIXELS];          /* the image, in [0, 1] */
    float p[FASHION_PIXELS];          /* sigmoid(logits) of one draw */
    float logits[FASHION_PIXELS];
    double recon, kl;                 /* log p(x|z) of that draw, KL(q(z|x) ‖ p(z)) */
    double mu[MAX_LATENT], logvar[MAX_LATENT];
} fixed_world;

static int world_build(fixed_world *w, const options *opt, unsigned long seed)
{
    gsl_rng *rng = stream_rng(seed, 2);
    if (!rng) return AE_ERROR(AE_ENOMEM, "out of memory for a random generator");
    /* the exercise's own KL term (vae_elbo.h) trains the model */
    vae_config cfg = { VAE_DENSE, opt->latent, DENSE_HIDDEN, 1.0, opt->lr, opt->batch, 0, kl_batch_forward,
                       kl_batch_backward };
    w->v = vae_alloc(&cfg, rng);
    if (!w->v) {
        gsl_rng_free(rng);
        return error_code();
    }
    ring_image(w->x);
    sampling_draw_eps(w->v->eps, (size_t)opt->latent, rng);
    gsl_rng_free(rng);
    elbo_terms t;
    int rc = vae_forward(w->v, w->x, 1, 0, &t);
    if (rc != AE_OK) return rc;
    memcpy(w->logits, w->v->logits, sizeof w->logits);
    for (int i = 0; i < FASHION_PIXELS; i++) w->p[i] = 1.0f / (1.0f + expf(-w->logits[i]));   /* p = sigmoid(ℓ) */
    for (int j = 0; j < opt->latent && j < MAX_LATENT; j++) {
        w->mu[j] = w->v->mu[j];
        w->logvar[j] = w->v->logvar[j];
    }
    w->recon = t.recon;
    w->kl = t.kl;
    return AE_OK;
}

static int section_reconstruction(run_context *ctx, fixed_world *w)
{
    heading("2. The reconstruction term: log p(x|z) for pixels in [0, 1]");
    const size_t n = FASHION_PIXELS;
    printf("A fixed, untrained dense VAE (784-400-%d-400-784, seed %lu) and a made-up 28x28 image (a ring,\n",
           ctx->opt->latent, ctx->common->seed);
    printf("values 0 to 1); one draw z ~ q(z|x), decoded to Bernoulli probabilities p = sigmoid(logits).\n\n");

    double written_out = bernoulli_log_likelihood(w->x, w->p, n);
    double from_logits = bernoulli_log_likelihood_logits(w->x, w->logits, n);
    double bce_sum, bce_mean, bce_logits_sum;
    int rc = bce_forward(&bce_sum, w->p, w->x, n, REDUCE_SUM);
    if (rc == AE_OK) rc = bce_forward(&bce_mean, w->p, w->x, n, REDUCE_MEAN);
    if (rc == AE_OK) rc = bce_logits_forward(&bce_logits_sum, w->logits, w->x, n, REDUCE_SUM);
    if (rc != AE_OK) return rc;
    printf("Σ_i [x_i ln p_i + (1 − x_i) ln(1 − p_i)], written out          = %.6f nats\n", written_out);
    printf("−(library BCE, reduction sum, on p)                            = %.6f nats   difference %.2e\n",
           -bce_sum, -bce_sum - written_out);
    printf("−(library BCE-with-logits, reduction sum, on the logits)       = %.6f nats   difference %.2e\n",
           -bce_logits_sum, -bce_logits_sum - written_out);
    printf("x ℓ − log(1 + e^ℓ) summed, the same from the logits            = %.6f nats   difference %.2e\n\n",
           from_logits, from_logits - written_out);
    printf("So the reconstruction term is minus the SUMMED binary cross-entropy: every pixel is one\n");
    printf("Bernoulli factor of p(x|z), and logs of a product add up.\n\n");

    /* sum against mean */
    double kl = w->kl, loss_sum = bce_sum + kl, loss_mean = bce_mean + kl;
    printf("Sum or mean over the pixels? Here KL(q(z|x) ‖ p(z)) = %.6f nats.\n", kl);
    printf("  BCE summed  over the %zu pixels: %10.4f   loss = BCE_sum + KL  = %10.4f   KL share %6.2f%%\n",
           n, bce_sum, loss_sum, 100.0 * kl / loss_sum);
    printf("  BCE averaged over the pixels:    %10.4f   loss = BCE_mean + KL = %10.4f   KL share %6.2f%%\n",
           bce_mean, loss_mean, 100.0 * kl / loss_mean);
    printf("  BCE_mean + KL = (BCE_sum + %zu·KL) / %zu: the same minimiser as BCE_sum + β·KL with β = %zu.\n",
           n, n, n);
    printf("  The mean makes each pixel's evidence count 1/%zu as much against the KL: a β-VAE with\n", n);
    printf("  β = %zu, which squeezes q(z|x) onto the prior and blurs the reconstructions.\n", n);
    printf("  Other reductions seen in tutorials, as the β they imply against the true ELBO:\n");
    printf("    Keras lecture: BETA · mean BCE over 32x32 = 1024 pixels + KL, BETA = 500:  β = 1024/500 = %.4g\n",
           1024.0 / 500.0);
    printf("    PyTorch F.binary_cross_entropy (mean over batch and pixels) + KL summed over a batch\n");
    printf("    of %d:  β = %zu · %d = %zu\n\n", ctx->opt->batch, n, ctx->opt->batch, n * (size_t)ctx->opt->batch);

    rc = AE_OK;
    rc |= add_double(ctx, "recon_bernoulli_log_likelihood", written_out);
    rc |= add_double(ctx, "recon_minus_bce_sum", -bce_sum);
    rc |= add_double(ctx, "recon_minus_bce_logits_sum", -bce_logits_sum);
    rc |= add_double(ctx, "recon_abs_difference", fabs(-bce_sum - written_out));
    rc |= add_double(ctx, "recon_bce_mean", bce_mean);
    rc |= add_double(ctx, "recon_kl", kl);
    rc |= add_double(ctx, "recon_kl_share_sum", kl / loss_sum);
    rc |= add_double(ctx, "recon_kl_share_mean", kl / loss_mean);
    rc |= add_double(ctx, "recon_implied_beta_mean", (double)n);
    rc |= add_double(ctx, "recon_implied_beta_keras_lecture", 1024.0 / 500.0);
    return rc;
}

/* One row of the lecture-formula table: a single dimension (μ, σ²). */
static void notebook_row(const char *label, double mu, double var)
{
    double logvar = log(var);
    double right = kl_closed_form(&mu, &logvar, 1) + 0.0, wrong = kl_lecture_notebook(&mu, &logvar, 1);   /* + 0.0: no "-0" */
    char ratio[32];
    if (right > 1e-12) snprintf(ratio, sizeof ratio, "%9.3f", wrong / right);
    else snprintf(ratio, sizeof ratio, "%9s", "inf");
    printf("    ");
    cell(label, 34);
    printf("%5.3g %7.4g %9.6f %9.6f %9.6f %9.6f %s\n", mu, var, right, wrong, wrong - right, 0.5 * (mu * mu + var), ratio);
}

/* Gradient descent on ±KL alone, from (μ, log σ²): the KL after `steps` steps of size lr. */
static double descend_kl(const double *mu0, const double *logvar0, int k, double sign, int steps, double lr)
{
    double mu[MAX_LATENT], logvar[MAX_LATENT];
    memcpy(mu, mu0, (size_t)k * sizeof *mu);
    memcpy(logvar, logvar0, (size_t)k * sizeof *logvar);
    for (int s = 0; s < steps; s++)
        for (int j = 0; j < k; j++) {
            double g_mu = sign * mu[j], g_logvar = sign * 0.5 * (exp(logvar[j]) - 1.0);   /* ∂(±KL) */
            mu[j] -= lr * g_mu;
            logvar[j] -= lr * g_logvar;
            logvar[j] = fmax(-LOGVAR_LIMIT, fmin(LOGVAR_LIMIT, logvar[j]));   /* keeps σ² finite and > 0 */
        }
    return kl_closed_form(mu, logvar, k);
}

static int section_mistakes(run_context *ctx, fixed_world *w, const double *mu, const double *logvar, int k)
{
    heading("3. Known mistakes, each shown failing");
    int rc = AE_OK;

    /* (a) the lecture notebook's KL */
    printf("(a) The lecture notebook's KL:  Σ (σ² + μ² − log σ − ½)   against   −½ Σ (1 + log σ² − μ² − σ²)\n");
    double right = kl_closed_form(mu, logvar, k), wrong = kl_lecture_notebook(mu, logvar, k);
    double excess = 0.0;
    for (int j = 0; j < k; j++) excess += 0.5 * (mu[j] * mu[j] + exp(logvar[j]));
    double narrow = kl_to_scaled_prior(mu, logvar, k, 0.5) + 0.5 * k * log(2.0);
    printf("    for the Gaussian of section 1: right %.6f, notebook %.6f, too large by %.6f\n", right, wrong, wrong - right);
    printf("    = ½ Σ (μ² + σ²) = %.6f exactly (difference %.1e). Per dimension the KL is\n",
           excess, (wrong - right) - excess);
    printf("    ½(σ² + μ²) − log σ − ½: the notebook has the − log σ and the − ½ right, and drops the ½\n");
    printf("    in front of σ² + μ².\n");
    printf("    It is the KL against a narrower prior, KL(q ‖ N(0, ½ I)) + (k/2) log 2 = %.6f\n", narrow);
    printf("    (difference %.1e), so training with it pulls every σ² towards ½ instead of 1 and every μ\n",
           narrow - wrong);
    printf("    towards 0 twice as hard: ∂/∂μ = 2μ (right: μ), ∂/∂log σ² = σ² − ½ (right: ½(σ² − 1)).\n");
    const char *columns[] = { "μ", "σ²", "right", "notebook", "excess", "½(μ²+σ²)", "ratio" };
    const int widths[] = { -5, -8, -10, -10, -10, -10, -10 };
    printf("    ");
    cell("one dimension", 34);
    for (int c = 0; c < 7; c++) cell(columns[c], widths[c]);
    printf("\n");
    notebook_row("the prior itself", 0.0, 1.0);
    notebook_row("notebook's minimum, σ² = ½", 0.0, 0.5);
    notebook_row("σ = e^-½: notebook = 2 × right", 0.0, exp(-1.0));
    notebook_row("σ = e^-½, μ = 1.5: still 2 ×", 1.5, exp(-1.0));
    notebook_row("a far mean", 2.0, 1.0);
    notebook_row("a wide posterior", 0.0, 4.0);
    printf("    It is never right: the excess ½(μ² + σ²) is > 0 for every σ > 0. At the prior the KL is 0\n");
    printf("    but the notebook says ½ per dimension; its smallest value, (½) log 2 = %.4f per dimension,\n",
           0.5 * log(2.0));
    printf("    sits at σ² = ½. Notebook − 2 × right = ½ + log σ per dimension, whatever μ: the two are in a\n");
    printf("    2:1 ratio exactly when every σ = e^-½, which is why a glance at one number can mislead.\n\n");
    rc |= add_double(ctx, "kl_lecture_notebook", wrong);
    rc |= add_double(ctx, "kl_lecture_notebook_excess", wrong - right);
    rc |= add_double(ctx, "kl_lecture_notebook_half_mu2_plus_var", excess);
    rc |= add_double(ctx, "kl_lecture_notebook_narrow_prior_form", narrow);

    /* (b) BCE on targets in [−1, 1] */
    printf("(b) BCE with targets normalised to [−1, 1] (t = 2x − 1), as in the course's CIFAR homework:\n");
    const size_t n = FASHION_PIXELS;
    float t[FASHION_PIXELS];
    for (size_t i = 0; i < n; i++) t[i] = 2.0f * w->x[i] - 1.0f;
    double refused;
    int bce_rc = bce_forward(&refused, w->p, t, n, REDUCE_SUM);
    if (bce_rc == AE_EDOM)
        printf("    the library's bce_forward refuses: %s (%s)\n", error_message(), error_name(bce_rc));
    else
        printf("    the library's bce_forward did NOT refuse (status %s) - look into it\n", error_name(bce_rc));
    error_clear();
    double naive_model = naive_bce_sum(t, w->p, n), naive_perfect = naive_bce_sum(t, w->x, n);
    printf("    a naive −Σ [t ln p + (1 − t) ln(1 − p)] does not refuse, and gives:\n");
    printf("      the untrained model's p:                          %12.4f nats\n", naive_model);
    printf("      p = the original image in [0, 1], a perfect copy: %12.4f nats  <- a negative \"loss\"\n", naive_perfect);
    printf("    For a black pixel (t = −1) the naive term is ln p − 2 ln(1 − p), which falls without bound\n");
    printf("    as p → 0, so the optimiser is paid for pushing p to 0 forever:\n");
    const float probs[] = { 0.5f, 0.1f, 0.01f, 1e-4f, 1e-7f };
    printf("      p                     ");
    for (size_t i = 0; i < sizeof probs / sizeof probs[0]; i++) printf(" %9g", probs[i]);
    printf("\n      ln p − 2 ln(1 − p)    ");
    for (size_t i = 0; i < sizeof probs / sizeof probs[0]; i++) {
        float minus_one = -1.0f;
        printf(" %9.3f", naive_bce_sum(&minus_one, &probs[i], 1));
    }
    printf("\n    With t in [0, 1] every term is at least the entropy of Bernoulli(t) ≥ 0, smallest at p = t.\n\n");
    rc |= add_double(ctx, "bce_refuses_targets_outside_unit_interval", bce_rc == AE_EDOM ? 1.0 : 0.0);
    rc |= add_double(ctx, "bce_naive_minus1_1_untrained", naive_model);
    rc |= add_double(ctx, "bce_naive_minus1_1_perfect_copy", naive_perfect);

    /* (c) the sign convention */
    double elbo = w->recon - w->kl;
    printf("(c) The sign convention. For the image of section 2:\n");
    printf("    ELBO = log p(x|z) − KL = %.4f − %.4f = %.4f nats: it is ≤ 0 here and we MAXIMISE it;\n",
           w->recon, w->kl, elbo);
    printf("    loss = −ELBO = BCE_sum + KL = %.4f nats: ≥ 0, and the optimiser MINIMISES it.\n", -elbo);
    printf("    Flip the sign of one term - loss = BCE − KL - and gradient descent drives the KL up instead\n");
    printf("    of down. On the KL of section 1 alone, gradient descent with step 0.1:\n");
    int steps[] = { 0, 10, 25, 50 };
    printf("      ");
    cell("steps:", 28);
    for (int s = 0; s < 4; s++) printf(" %14d", steps[s]);
    printf("\n      ");
    cell("KL, minimising +KL (right):", 28);
    for (int s = 0; s < 4; s++) printf(" %14.6g", descend_kl(mu, logvar, k, +1.0, steps[s], 0.1));
    printf("\n      ");
    cell("KL, minimising −KL (wrong):", 28);
    for (int s = 0; s < 4; s++) printf(" %14.6g", descend_kl(mu, logvar, k, -1.0, steps[s], 0.1));
    printf("\n    The wrong sign grows every μ by 10%% a step, and every σ² that was above 1 grows too: no end.\n");
    rc |= add_double(ctx, "sign_elbo", elbo);
    rc |= add_double(ctx, "sign_loss", -elbo);
    rc |= add_double(ctx, "sign_kl_after_50_steps_right", descend_kl(mu, logvar, k, +1.0, 50, 0.1));
    rc |= add_double(ctx, "sign_kl_after_50_steps_wrong", descend_kl(mu, logvar, k, -1.0, 50, 0.1));
    return rc;
}

/* Prints and stores one study of the two ELBO estimators. */
static int report_estimators(run_context *ctx, const char *prefix, const elbo_estimator_study *s)
{
    double z = s->difference.mean / s->difference.std_error;
    double ratio = s->single.sample_std / s->analytic.sample_std;
    const char *rows[3] = { "analytic KL: log p(x|z) − KL", "single sample: log p(x|z) + log p(z) − log q",
                            "difference on the same z (expectation 0)" };
    const mc_estimate *values[3] = { &s->analytic, &s->single, &s->difference };
    printf("  ");
    cell("estimator (one draw z per estimate)", 46);
    printf("%12s %12s %12s\n", "mean", "std error", "spread (sd)");
    for (int i = 0; i < 3; i++) {
        printf("  ");
        cell(rows[i], 46);
        printf("%12.4f %12.4f %12.4f\n", values[i]->mean, values[i]->std_error, values[i]->sample_std);
    }
    printf("  The means %s: the difference is %.2f standard errors from 0 over %zu draws.\n",
           fabs(z) < 3.0 ? "agree" : "DISAGREE", fabs(z), s->single.n);
    if (ratio > 1.0) {
        printf("  The single-sample estimator spreads %.3g times as much: its KL part, log q(z|x) − log p(z),\n", ratio);
        printf("  is random too, where the analytic one subtracts the exact KL = %.4f.\n", s->kl);
    } else {
        printf("  The single-sample estimator spreads LESS, %.3g times as much: its random KL part moves against\n", ratio);
        printf("  log p(x|z) (a z that decodes well also has a high log p(z) − log q(z|x)). Were q(z|x) the exact\n");
        printf("  posterior, log p(x|z) + log p(z) − log q(z|x) = log p(x) for every z: no spread at all.\n");
        printf("  (Here KL(q(z|x) ‖ p(z)) = %.4f.)\n", s->kl);
    }
    int rc = AE_OK;
    rc |= add_prefixed(ctx, prefix, "analytic_mean", s->analytic.mean);
    rc |= add_prefixed(ctx, prefix, "analytic_sd", s->analytic.sample_std);
    rc |= add_prefixed(ctx, prefix, "single_sample_mean", s->single.mean);
    rc |= add_prefixed(ctx, prefix, "single_sample_sd", s->single.sample_std);
    rc |= add_prefixed(ctx, prefix, "difference_mean", s->difference.mean);
    rc |= add_prefixed(ctx, prefix, "difference_stderr", s->difference.std_error);
    rc |= add_prefixed(ctx, prefix, "spread_ratio", ratio);
    rc |= add_prefixed(ctx, prefix, "kl", s->kl);
    return rc;
}

static int section_estimators(run_context *ctx, fixed_world *w)
{
    heading("4. The single-sample Monte-Carlo ELBO against the analytic-KL ELBO");
    printf("The same untrained model and image as in section 2, %d draws z ~ q(z|x):\n", ctx->opt->elbo_draws);
    gsl_rng *rng = stream_rng(ctx->common->seed, 3);
    if (!rng) return AE_ERROR(AE_ENOMEM, "out of memory for a random generator");
    elbo_estimator_study s;
    int rc = vae_elbo_estimators(&s, w->v, w->x, ctx->opt->elbo_draws, rng);
    gsl_rng_free(rng);
    if (rc != AE_OK) return rc;
    return report_estimators(ctx, "estimators_untrained", &s);
}

/* ============================================================ 5. training */

typedef struct {
    char prefix[32];                  /* "dense", "conv", "beta_sweep_0.5" */
    char title[96];                   /* "dense VAE (L = 20)" */
    vae *v;
    int epochs;
    elbo_terms *train, *test;         /* (epochs) */
    elbo_terms test_start;            /* the test set before any training */
    elbo_terms *segments;             /* (epochs, n_segments) train means over each part of an epoch */
    int n_segments;                   /* SEGMENTS, or fewer when an epoch has fewer batches */
    double *seconds;                  /* (epochs) training time, without the test pass */
    double total_seconds;
    float *test_mu, *test_logvar;     /* (N_test, L) after training, for a 2-D latent */
} training_run;

static void run_free(training_run *r)
{
    vae_free(r->v);
    free(r->train);
    free(r->segments);
    free(r->seconds);
    free(r->test_mu);
    memset(r, 0, sizeof *r);
}

#define SEGMENTS 10               /* the training curve: a point every tenth of an epoch */

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
    double now = now_seconds();
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

/* Trains one VAE for `epochs`, printing a line per epoch. */
static int train_run(run_context *ctx, training_run *r, const fashion_mnist *fm, const vae_config *cfg,
                     int epochs, unsigned long stream, int verbose)
{
    gsl_rng *rng = stream_rng(ctx->common->seed, stream);
    size_t count = fm->train.images.count;
    long batches = (long)((count + (size_t)cfg->max_batch - 1) / (size_t)cfg->max_batch);
    r->epochs = epochs;
    r->n_segments = batches < SEGMENTS ? (int)batches : SEGMENTS;
    r->train = calloc((size_t)epochs * 2, sizeof *r->train);
    r->segments = calloc((size_t)epochs * r->n_segments, sizeof *r->segments);
    r->seconds = calloc((size_t)epochs, sizeof *r->seconds);
    size_t *order = malloc(count * sizeof *order);
    if (!rng || !r->train || !r->segments || !r->seconds || !order) {
        gsl_rng_free(rng);
        free(order);
        return AE_ERROR(AE_ENOMEM, "out of memory for training %s", r->title);
    }
    r->test = r->train + epochs;
    r->v = vae_alloc(cfg, rng);
    int rc = r->v ? vae_set_threads(r->v, ctx->opt->threads) : error_code();
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
    if (rc == AE_OK) rc = vae_evaluate(r->v, &fm->test.images, rng, &r->test_start);
    double started = now_seconds();
    for (int e = 0; e < epochs && rc == AE_OK; e++) {
        progress.epoch = e + 1;
        progress.segments = r->segments + (size_t)e * r->n_segments;
        progress.next_segment = 0;
        progress.last_total = (elbo_terms){ 0, 0, 0 };
        progress.last_seen = 0.0;
        double t0 = now_seconds();
        rc = vae_train_epoch(r->v, &fm->train.images, order, rng, draw_progress, &progress, &r->train[e]);
        r->seconds[e] = now_seconds() - t0;
        if (rc == AE_OK) rc = vae_evaluate(r->v, &fm->test.images, rng, &r->test[e]);
        if (rc == AE_OK && !ctx->common->quiet)
            printf("  %-16s epoch %2d/%d  train ELBO %9.3f (recon %9.3f, KL %7.3f)  test ELBO %9.3f "
                   "(recon %9.3f, KL %7.3f)  %5.1f s\n",
                   r->prefix, e + 1, epochs, r->train[e].elbo, r->train[e].recon, r->train[e].kl,
                   r->test[e].elbo, r->test[e].recon, r->test[e].kl, r->seconds[e]);
        fflush(stdout);
    }
    r->total_seconds = now_seconds() - started;
    free(order);
    gsl_rng_free(rng);
    return rc;
}

static double mean_seconds(const training_run *r)
{
    double s = 0.0;
    for (int e = 0; e < r->epochs; e++) s += r->seconds[e];
    return s / r->epochs;
}

static int store_run(run_context *ctx, const training_run *r)
{
    const elbo_terms *tr = &r->train[r->epochs - 1], *te = &r->test[r->epochs - 1];
    int rc = AE_OK;
    rc |= add_prefixed(ctx, r->prefix, "latent", r->v->cfg.latent);
    rc |= add_prefixed(ctx, r->prefix, "beta", r->v->cfg.beta);
    rc |= add_prefixed(ctx, r->prefix, "epochs", r->epochs);
    rc |= add_prefixed(ctx, r->prefix, "parameters", (double)(r->v->encoder->n_params + r->v->decoder->n_params));
    rc |= add_prefixed(ctx, r->prefix, "train_elbo", tr->elbo);
    rc |= add_prefixed(ctx, r->prefix, "train_recon", tr->recon);
    rc |= add_prefixed(ctx, r->prefix, "train_kl", tr->kl);
    rc |= add_prefixed(ctx, r->prefix, "test_elbo", te->elbo);
    rc |= add_prefixed(ctx, r->prefix, "test_recon", te->recon);
    rc |= add_prefixed(ctx, r->prefix, "test_kl", te->kl);
    rc |= add_prefixed(ctx, r->prefix, "test_loss", -te->recon + r->v->cfg.beta * te->kl);
    rc |= add_prefixed(ctx, r->prefix, "seconds_per_epoch", mean_seconds(r));
    rc |= add_prefixed(ctx, r->prefix, "seconds_total", r->total_seconds);
    return rc;
}

/* ---------------------------------------------------------- the figures */

/* PREFIX_elbo_curves: ELBO and reconstruction term (left axis) and KL (right axis); test after each
 * epoch (and before the first), solid; train as the mean over each tenth of an epoch, dashed. */
static int figure_curves(run_context *ctx, const training_run *r)
{
    char name[64];
    snprintf(name, sizeof name, "%s_elbo_curves", r->prefix);
    figure_files f;
    int rc = plot_open_pair(&f.dat, &f.gp, ctx->common->out_dir, name);
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
    /* the untrained model's ELBO (about −543) would flatten the trained part: start the axis at the
     * first segment's value */
    double low = r->segments[0].elbo;
    for (int e = 0; e < r->epochs; e++) low = fmin(low, r->test[e].elbo);
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
    return rc == AE_OK ? render(ctx, name) : rc;
}

/* μ and log σ² of every test image, in batches. */
static int encode_test_set(training_run *r, const fashion_mnist *fm)
{
    vae *v = r->v;
    size_t count = fm->test.images.count, latent = (size_t)v->cfg.latent;
    int batch = v->cfg.max_batch;
    r->test_mu = malloc(count * latent * 2 * sizeof *r->test_mu);
    float *x = malloc((size_t)batch * v->x_size * sizeof *x);
    size_t *index = malloc((size_t)batch * sizeof *index);
    int rc = r->test_mu && x && index ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory for the test set's codes");
    if (rc == AE_OK) r->test_logvar = r->test_mu + count * latent;
    for (size_t start = 0; start < count && rc == AE_OK; start += (size_t)batch) {
        int n = (int)(count - start < (size_t)batch ? count - start : (size_t)batch);
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        vae_fill_batch(v, x, &fm->test.images, index, n);
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
static int figure_latent_means(run_context *ctx, const training_run *r, const fashion_mnist *fm)
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
    int rc = plot_scatter_classes(ctx->common->out_dir, name, &axes, x, y, labels, count, class_names(),
                                  FASHION_CLASSES);
    free(x);
    free(labels);
    return rc == AE_OK ? render(ctx, name) : rc;
}

/* PREFIX_latent_std: the first ERRORBAR_POINTS test images' μ with ±σ error bars, and the
 * prior's 1σ and 2σ circles. */
static int figure_latent_std(run_context *ctx, const training_run *r, const fashion_mnist *fm)
{
    static const char *const colours[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };
    char name[64], title[192];
    snprintf(name, sizeof name, "%s_latent_std", r->prefix);
    size_t count = fm->test.images.count < ERRORBAR_POINTS ? fm->test.images.count : ERRORBAR_POINTS;
    figure_files f;
    int rc = plot_open_pair(&f.dat, &f.gp, ctx->common->out_dir, name);
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
    if (rc == AE_OK) rc = add_prefixed(ctx, r->prefix, "mean_test_sigma", mean_sigma);
    return rc == AE_OK ? render(ctx, name) : rc;
}

/* Decodes n latent points z (n, L) into images (n, 784), in batches. */
static int decode_many(vae *v, const float *z, int n, float *images)
{
    int batch = v->cfg.max_batch, rc = AE_OK;
    for (int start = 0; start < n && rc == AE_OK; start += batch) {
        int m = n - start < batch ? n - start : batch;
        rc = vae_decode_images(v, z + (size_t)start * v->cfg.latent, m, images + (size_t)start * FASHION_PIXELS);
    }
    return rc;
}

/* PREFIX_latent_grid: decoded images at z = (Φ⁻¹(u₁), Φ⁻¹(u₂)) on a GRID_SIDE² grid of u in (0, 1). */
static int figure_latent_grid(run_context *ctx, const training_run *r)
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
    int rc = decode_many(r->v, z, n, images);
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
        rc = plot_image_grid(ctx->common->out_dir, name, title, images, n, 28, 28, GRID_SIDE, row_labels);
    free(images);
    return rc == AE_OK ? render(ctx, name) : rc;
}

/* PREFIX_prior_samples: decoded z ~ N(0, I). */
static int figure_prior_samples(run_context *ctx, const training_run *r, gsl_rng *rng)
{
    int latent = r->v->cfg.latent;
    float *z = malloc((size_t)PRIOR_SAMPLES * latent * sizeof *z);
    float *images = malloc((size_t)PRIOR_SAMPLES * FASHION_PIXELS * sizeof *images);
    int rc = z && images ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory for the prior samples");
    if (rc == AE_OK) {
        sampling_draw_eps(z, (size_t)PRIOR_SAMPLES * latent, rng);      /* z ~ N(0, I) */
        rc = decode_many(r->v, z, PRIOR_SAMPLES, images);
    }
    char name[64], title[192];
    snprintf(name, sizeof name, "%s_prior_samples", r->prefix);
    snprintf(title, sizeof title, "%s: %d samples z ~ N(0, I) from the prior, decoded (Bernoulli means)",
             r->title, PRIOR_SAMPLES);
    if (rc == AE_OK) rc = plot_image_grid(ctx->common->out_dir, name, title, images, PRIOR_SAMPLES, 28, 28, 10, NULL);
    free(z);
    free(images);
    return rc == AE_OK ? render(ctx, name) : rc;
}

/* The pairs of classes whose averages and morphs are drawn: first test image of each class. */
static const int pair_classes[][2] = { { 7, 9 }, { 0, 3 }, { 5, 8 } };   /* Sneaker+Ankle boot, T-shirt+Dress, Sandal+Bag */
#define N_PAIRS 3
static const char *const pair_labels[N_PAIRS] = { "Sneaker/boot", "T-shirt/dress", "Sandal/bag" };   /* short: the row labels' margin is narrow */

static size_t first_of_class(const fashion_mnist *fm, int label)
{
    for (size_t i = 0; i < fm->test.labels.count; i++)
        if (fm->test.labels.data[i] == label) return i;
    return 0;
}

/* PREFIX_pair_average: A, B, decoded μ_A, decoded μ_B, decoded (μ_A + μ_B)/2; PREFIX_morph: A, then
 * decoded (1 − α) μ_A + α μ_B for MORPH_STEPS values of α from 0 to 1, then B. */
static int figure_pairs(run_context *ctx, const training_run *r, const fashion_mnist *fm)
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
        size_t index[2] = { first_of_class(fm, pair_classes[p][0]), first_of_class(fm, pair_classes[p][1]) };
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
        snprintf(title, sizeof title, "%s VAE: A, B, decoded μ_A, μ_B and (μ_A + μ_B)/2", vae_kind_name(r->v->cfg.kind));
        rc = plot_image_grid(ctx->common->out_dir, name, title, avg, N_PAIRS * avg_cols, 28, 28, avg_cols, row_labels);
        if (rc == AE_OK) rc = render(ctx, name);
    }
    if (rc == AE_OK) {
        snprintf(name, sizeof name, "%s_morph", r->prefix);
        snprintf(title, sizeof title, "%s: A, decoded (1 − α) μ_A + α μ_B for α = 0, 1/9, ..., 1, B", r->title);
        rc = plot_image_grid(ctx->common->out_dir, name, title, morph, N_PAIRS * morph_cols, 28, 28, morph_cols,
                             row_labels);
        if (rc == AE_OK) rc = render(ctx, name);
    }
    free(avg);
    free(x);
    free(codes);
    return rc;
}

static int run_figures(run_context *ctx, training_run *r, const fashion_mnist *fm, unsigned long stream)
{
    int rc = figure_curves(ctx, r);
    gsl_rng *rng = stream_rng(ctx->common->seed, stream);
    if (!rng) return AE_ERROR(AE_ENOMEM, "out of memory for a random generator");
    if (rc == AE_OK) rc = figure_prior_samples(ctx, r, rng);
    gsl_rng_free(rng);
    if (rc == AE_OK) rc = figure_pairs(ctx, r, fm);
    if (rc == AE_OK && r->v->cfg.latent == 2) {
        rc = encode_test_set(r, fm);
        if (rc == AE_OK) rc = figure_latent_means(ctx, r, fm);
        if (rc == AE_OK) rc = figure_latent_std(ctx, r, fm);
        if (rc == AE_OK) rc = figure_latent_grid(ctx, r);
    }
    return rc;
}

/* One model: train, report, figures. */
static int train_and_report(run_context *ctx, const fashion_mnist *fm, vae_kind kind, int latent, int epochs,
                            unsigned long stream)
{
    const options *opt = ctx->opt;
    training_run r;
    memset(&r, 0, sizeof r);
    snprintf(r.prefix, sizeof r.prefix, "%s", vae_kind_name(kind));
    if (kind == VAE_DENSE)
        snprintf(r.title, sizeof r.title, "dense VAE (784-%d-%d, β = %g)", DENSE_HIDDEN, latent, opt->beta);
    else
        snprintf(r.title, sizeof r.title, "convolutional VAE (L = %d, β = %g)", latent, opt->beta);
    printf("-- %s: Adam %g, batch %d, %d epoch%s --\n", r.title, opt->lr, opt->batch, epochs, epochs == 1 ? "" : "s");
    vae_config cfg = { kind, latent, DENSE_HIDDEN, opt->beta, opt->lr, opt->batch, 0, kl_batch_forward, kl_batch_backward };
    int rc = train_run(ctx, &r, fm, &cfg, epochs, stream, 1);
    if (rc == AE_OK) {
        printf("  %d epoch%s in %.1f s (%.2f s of training per epoch, test pass not counted)\n\n", epochs,
               epochs == 1 ? "" : "s", r.total_seconds, mean_seconds(&r));
        rc = store_run(ctx, &r);
    }
    if (rc == AE_OK) rc = run_figures(ctx, &r, fm, stream + 50);
    if (rc == AE_OK && kind == VAE_DENSE) {
        /* section 4 again, on the trained model and a real image */
        size_t index = first_of_class(fm, 7);
        float x[FASHION_PIXELS];
        images_to_float(x, &fm->test.images, &index, 1);
        printf("The two ELBO estimators on the trained dense VAE, test image %zu (%s), %d draws:\n", index,
               fashion_class_name(7), opt->elbo_draws);
        gsl_rng *rng = stream_rng(ctx->common->seed, stream + 60);
        elbo_estimator_study s;
        rc = rng ? vae_elbo_estimators(&s, r.v, x, opt->elbo_draws, rng) : AE_ENOMEM;
        gsl_rng_free(rng);
        if (rc == AE_OK) rc = report_estimators(ctx, "estimators_trained_dense", &s);
        printf("\n");
    }
    run_free(&r);
    return rc;
}

/* ------------------------------------------------------------- β sweep */

static int figure_beta_sweep(run_context *ctx, training_run *runs, int n, const fashion_mnist *fm)
{
    figure_files f;
    int rc = plot_open_pair(&f.dat, &f.gp, ctx->common->out_dir, "beta_sweep");
    if (rc != AE_OK) return rc;
    fprintf(f.dat.fp, "# dense VAE, L = 2, %d epochs each; test set, nats per image\n", runs[0].epochs);
    fprintf(f.dat.fp, "# beta\ttest_recon\ttest_kl\ttest_elbo\n");
    for (int i = 0; i < n; i++) {
        const elbo_terms *t = &runs[i].test[runs[i].epochs - 1];
        fprintf(f.dat.fp, "%.9g\t%.9g\t%.9g\t%.9g\n", runs[i].v->cfg.beta, t->recon, t->kl, t->elbo);
    }
    char title[192];
    snprintf(title, sizeof title, "β sweep (dense VAE, L = 2, %d epochs each): reconstruction against KL on the test set",
             runs[0].epochs);
    plot_script_begin(f.gp.fp, "beta_sweep", title, 0, 0);
    fprintf(f.gp.fp, "set xlabel 'β (weight of the KL term in the loss)'\nset logscale x 2\n"
                     "set ylabel 'reconstruction term and ELBO (nats per image)'\n"
                     "set y2label 'KL(q(z|x) ‖ p(z)) (nats per image)'\nset ytics nomirror\nset y2tics\n"
                     "set grid lc rgb '#dddddd'\nset key bottom left box opaque\nset offsets graph 0.05, graph 0.05, 0, 0\n"
                     "plot 'beta_sweep.dat' using 1:2 with linespoints lw 2 pt 7 ps 1.2 lc rgb '#2ca02c' title 'reconstruction term E[log p(x|z)]', \\\n"
                     "     'beta_sweep.dat' using 1:4 with linespoints lw 2 pt 5 ps 1.0 lc rgb '#1f77b4' title 'ELBO (β = 1 weighting)', \\\n"
                     "     'beta_sweep.dat' using 1:3 axes x1y2 with linespoints lw 2 pt 9 ps 1.4 lc rgb '#d62728' title 'KL (right axis)'\n");
    rc = plot_commit_pair(&f.dat, &f.gp);
    if (rc == AE_OK) rc = render(ctx, "beta_sweep");
    if (rc != AE_OK) return rc;

    /* the latent means of each β side by side */
    static const char *const colours[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };
    if ((rc = plot_open_pair(&f.dat, &f.gp, ctx->common->out_dir, "beta_sweep_latents")) != AE_OK) return rc;
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
    return rc == AE_OK ? render(ctx, "beta_sweep_latents") : rc;
}

static int beta_sweep(run_context *ctx, const fashion_mnist *fm, const double *betas, int n)
{
    const options *opt = ctx->opt;
    printf("-- β sweep: the dense VAE with L = 2, %d epoch%s for each β --\n", opt->sweep_epochs,
           opt->sweep_epochs == 1 ? "" : "s");
    training_run runs[MAX_BETAS];
    memset(runs, 0, sizeof runs);
    int rc = AE_OK;
    for (int i = 0; i < n && rc == AE_OK; i++) {
        snprintf(runs[i].prefix, sizeof runs[i].prefix, "beta_sweep_%g", betas[i]);
        snprintf(runs[i].title, sizeof runs[i].title, "dense VAE (L = 2, β = %g)", betas[i]);
        vae_config cfg = { VAE_DENSE, 2, DENSE_HIDDEN, betas[i], opt->lr, opt->batch, 0, kl_batch_forward,
                           kl_batch_backward };
        rc = train_run(ctx, &runs[i], fm, &cfg, opt->sweep_epochs, 300, 0);   /* the same seed for every β */
        if (rc == AE_OK) rc = store_run(ctx, &runs[i]);
        if (rc == AE_OK) rc = encode_test_set(&runs[i], fm);
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
    for (int i = 0; i < n; i++) run_free(&runs[i]);
    return rc;
}

static int section_training(run_context *ctx, const char *dir, int is_sample, const double *betas, int n_betas)
{
    const options *opt = ctx->opt;
    heading("5. VAEs trained on Fashion-MNIST");
    fashion_mnist fm;
    memset(&fm, 0, sizeof fm);
    int rc = fashion_mnist_load(&fm, dir, (size_t)ctx->common->limit);
    if (rc != AE_OK) return rc;
    printf("Data: %s (%zu training, %zu test images)%s\n", dir, fm.train.images.count, fm.test.images.count,
           is_sample ? "\n  NOTE: this is the small bundled sample, not the full data: the numbers are not "
                       "the experiment's. Set FASHION_MNIST_DIR or run `make data`." : "");
    printf("Matrix products: %s; %d thread%s (each batch split in %d lane%s)\n\n",
           cpu_has_avx512() ? "the library's AVX-512 kernels" : blas_name(), opt->threads,
           opt->threads == 1 ? "" : "s", opt->threads, opt->threads == 1 ? "" : "s");
    double started = now_seconds();
    if (opt->model_choice != 1) rc = train_and_report(ctx, &fm, VAE_DENSE, opt->latent, ctx->common->epochs, 100);
    if (rc == AE_OK && opt->model_choice != 0)
        rc = train_and_report(ctx, &fm, VAE_CONV, 2, opt->conv_epochs, 200);
    if (rc == AE_OK && !opt->no_sweep) rc = beta_sweep(ctx, &fm, betas, n_betas);
    double seconds = now_seconds() - started;
    if (rc == AE_OK) {
        printf("Training and figures took %.1f s in all.\n", seconds);
        rc = add_double(ctx, "train_wall_seconds", seconds);
        rc |= results_add_text(ctx->res, "data_folder", dir);
        rc |= results_add_int(ctx->res, "data_is_sample", is_sample);
    }
    fashion_mnist_free(&fm);
    return rc;
}

/* ================================================================== main */

/* Parses a comma-separated vector option, with the checks the KL needs. */
static int parse_vector(const char *text, const char *what, double *values, int *n, double limit)
{
    int rc = parse_double_list(text, what, values, MAX_LATENT, n);
    if (rc != AE_OK) return rc;
    for (int j = 0; j < *n; j++)
        if (fabs(values[j]) > limit)
            return AE_ERROR(AE_EINVAL, "%s, item %d: %g is outside [-%g, %g]", what, j + 1, values[j], limit, limit);
    return AE_OK;
}

int main(int argc, char **argv)
{
    options opt = {
        .mu_text = "0.3,-1.2", .logvar_text = "0.1,-0.5", .mc_samples = 100000, .elbo_draws = 10000,
        .train = 0, .model_choice = 2, .latent = 20, .beta = 1.0, .conv_epochs = 1, .batch = 128,
        .lr = 1e-3, .no_sweep = 0, .sweep_betas_text = "0.5,1,4", .sweep_epochs = 3, .threads = 1,
    };
    cli_option options_table[] = {
        CLI_STRING("mu", &opt.mu_text, "LIST", "means μ of the Gaussian of section 1, comma-separated"),
        CLI_STRING("logvar", &opt.logvar_text, "LIST", "log-variances log σ² of that Gaussian, as many as --mu"),
        CLI_LONG("mc-samples", &opt.mc_samples, 2, 100000000, "N", "Monte-Carlo draws for the KL estimate"),
        CLI_INT("elbo-draws", &opt.elbo_draws, 2, 10000000, "N", "draws z per image when comparing the ELBO estimators"),
        CLI_FLAG("train", &opt.train, "after the checks, train the VAEs on Fashion-MNIST and draw the figures"),
        CLI_CHOICE("model", &opt.model_choice, "dense|conv|both", "which VAE --train trains"),
        CLI_INT("latent", &opt.latent, 1, MAX_LATENT, "L", "latent dimensions of the dense VAE (2 draws the latent figures)"),
        CLI_DOUBLE("beta", &opt.beta, 0.0, 1000.0, "B", "weight of the KL term in both models' loss (1: the ELBO)"),
        CLI_INT("conv-epochs", &opt.conv_epochs, 1, 1000, "N", "epochs of the convolutional VAE (--epochs is the dense one's)"),
        CLI_INT("batch", &opt.batch, 1, 4096, "N", "mini-batch size"),
        CLI_DOUBLE("lr", &opt.lr, 1e-7, 1.0, "R", "Adam's learning rate"),
        CLI_FLAG("no-sweep", &opt.no_sweep, "skip the β sweep"),
        CLI_STRING("sweep-betas", &opt.sweep_betas_text, "LIST", "the β values of the sweep, each in (0, 1000]"),
        CLI_INT("sweep-epochs", &opt.sweep_epochs, 1, 1000, "N", "epochs of each model of the β sweep"),
        CLI_INT("threads", &opt.threads, 1, 64, "N", "threads of the training: each batch split in N lanes"),
    };
    common_options common = common_defaults(PROGRAM, 10);
    int rc = cli_parse(argc, argv, &prog_info, options_table, (int)(sizeof options_table / sizeof options_table[0]),
                       &common);
    if (rc == CLI_HELP) return 0;
    if (rc == AE_OK)
        rc = cli_threads(&common, &opt.threads,
                         cli_seen(options_table, (int)(sizeof options_table / sizeof options_table[0]), "threads"));
    if (rc != AE_OK) return cli_fail(&prog_info);

    /* every value checked before anything is written */
    double mu[MAX_LATENT], logvar[MAX_LATENT], betas[MAX_BETAS];
    int k_mu, k_logvar, n_betas = 0;
    rc = parse_vector(opt.mu_text, "--mu", mu, &k_mu, MU_LIMIT);
    if (rc == AE_OK) rc = parse_vector(opt.logvar_text, "--logvar", logvar, &k_logvar, LOGVAR_LIMIT);
    if (rc == AE_OK && k_mu != k_logvar)
        rc = AE_ERROR(AE_EBADLEN, "--mu has %d values but --logvar has %d; give one log-variance per mean",
                      k_mu, k_logvar);
    if (rc == AE_OK) rc = parse_double_list(opt.sweep_betas_text, "--sweep-betas", betas, MAX_BETAS, &n_betas);
    for (int i = 0; i < n_betas && rc == AE_OK; i++)
        if (!(betas[i] > 0.0 && betas[i] <= 1000.0))
            rc = AE_ERROR(AE_EINVAL, "--sweep-betas, item %d: %g is outside (0, 1000]", i + 1, betas[i]);
    /* the threads split each batch (vae_set_threads); a lane's matrix products run on one */
    if (rc == AE_OK && (rc = blas_set_threads(1)) != AE_OK)
        rc = AE_ERROR(AE_EINVAL, "--threads: %s", error_message());
    if (rc != AE_OK) return cli_fail(&prog_info);

    /* with --train, find the data before the checks run, so a missing folder stops at once */
    char data_dir[AE_PATH_MAX] = "";
    int is_sample = 0;
    if (opt.train && fashion_mnist_locate(data_dir, sizeof data_dir, common.data_dir, &is_sample) != AE_OK) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error_message());
        return 1;
    }

    results *res = results_alloc();
    if (!res || mkdir_p(common.out_dir) != AE_OK) {
        fprintf(stderr, "%s: %s\n", PROGRAM, res ? error_message() : "out of memory");
        results_free(res);
        return 1;
    }
    run_context ctx = { &opt, &common, res, 0, 0 };
    printf("vae-elbo: the evidence lower bound, log p(x) ≥ E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))\n");

    fixed_world world;
    memset(&world, 0, sizeof world);
    rc = section_kl(&ctx, mu, logvar, k_mu);
    if (rc == AE_OK) rc = world_build(&world, &opt, common.seed);
    if (rc == AE_OK) rc = section_reconstruction(&ctx, &world);
    if (rc == AE_OK) rc = section_mistakes(&ctx, &world, mu, logvar, k_mu);
    if (rc == AE_OK) rc = section_estimators(&ctx, &world);
    vae_free(world.v);
    if (rc == AE_OK && opt.train) rc = section_training(&ctx, data_dir, is_sample, betas, n_betas);
    if (rc == AE_OK) rc = results_write(res, common.out_dir);
    if (rc != AE_OK) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error_message());
        results_free(res);
        return 1;
    }
    printf("\nWrote %s/results.tsv", common.out_dir);
    if (ctx.figures_written) printf(" and %d figures (.dat, .gp%s)", ctx.figures_written, common.no_plot ? "" : ", .png");
    printf(".\n");
    results_free(res);
    return 0;
}
