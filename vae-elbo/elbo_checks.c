/* elbo_checks.c: sections 1 to 4 of vae-elbo, the two terms of the ELBO checked every way there is,
 * on a fixed untrained VAE and a made-up image (see elbo_sections.h), and what the sections share. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>

#include "elbo_sections.h"
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


/* A generator for one part of the run, so that options of one part do not shift the draws of
 * another (the KL checks and the training have their own streams). */
gsl_rng *elbo_stream_rng(unsigned long seed, unsigned long stream)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r) gsl_rng_set(r, (seed + 1000003UL * stream) & 0xffffffffUL);
    return r;
}

/* Prints text left-aligned (width > 0) or right-aligned (width < 0) in |width| columns, counting
 * characters rather than bytes, so that μ and σ² line up like ASCII. */
void elbo_cell(const char *text, int width)
{
    int chars = 0;
    for (const char *c = text; *c; c++) chars += ((unsigned char)*c & 0xC0) != 0x80;
    int pad = abs(width) - chars;
    if (width > 0) fputs(text, stdout);
    for (int i = 0; i < pad; i++) putchar(' ');
    if (width < 0) fputs(text, stdout);
}

void elbo_print_vector(const char *name, const double *v, int k)
{
    printf("%s = (", name);
    for (int j = 0; j < k; j++) printf("%s%.6g", j ? ", " : "", v[j]);
    printf(")");
}

int elbo_add_double(elbo_context *ctx, const char *key, double value)
{
    return program_result(ctx->run, value, "%s", key);
}

/* key "PREFIX_NAME" */
int elbo_add_prefixed(elbo_context *ctx, const char *prefix, const char *name, double value)
{
    return program_result(ctx->run, value, "%s_%s", prefix, name);
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

int elbo_section_kl(elbo_context *ctx, const double *mu, const double *logvar, int k)
{
    program_heading("1. The KL term: KL(q ‖ p) with q = N(μ, diag σ²) and the prior p = N(0, I)");
    double var[MAX_LATENT];
    for (int j = 0; j < k; j++) var[j] = exp(logvar[j]);
    elbo_print_vector("μ", mu, k);
    printf("\n");
    elbo_print_vector("log σ²", logvar, k);
    printf("   so ");
    elbo_print_vector("σ²", var, k);
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

    gsl_rng *rng = elbo_stream_rng(ctx->common->seed, 1);
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
    rc |= results_add_int(ctx->run->res, "kl_dimensions", k);
    rc |= elbo_add_double(ctx, "kl_closed_form", closed);
    rc |= elbo_add_double(ctx, "kl_trace_logdet", trace_form);
    rc |= elbo_add_double(ctx, "kl_trace_logdet_abs_difference", fabs(trace_form - closed));
    rc |= elbo_add_double(ctx, "kl_monte_carlo", mc.mean);
    rc |= elbo_add_double(ctx, "kl_monte_carlo_stderr", mc.std_error);
    rc |= results_add_int(ctx->run->res, "kl_monte_carlo_samples", ctx->opt->mc_samples);
    rc |= elbo_add_double(ctx, "kl_monte_carlo_stderrs_from_closed_form", fabs(mc_z));
    rc |= elbo_add_double(ctx, "kl_numerical_integration", numeric_total);
    rc |= elbo_add_double(ctx, "kl_numerical_integration_error_estimate", error_total);
    rc |= elbo_add_double(ctx, "kl_numerical_integration_abs_difference", fabs(numeric_total - closed));
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


int elbo_world_build(fixed_world *w, const elbo_options *opt, unsigned long seed)
{
    gsl_rng *rng = elbo_stream_rng(seed, 2);
    if (!rng) return AE_ERROR(AE_ENOMEM, "out of memory for a random generator");
    /* the exercise's own KL term (vae_elbo.h) trains the model */
    vae_config cfg = { VAE_DENSE, opt->latent, DENSE_HIDDEN, 1.0, opt->lr, opt->batch, 0, kl_batch_forward,
                       kl_batch_backward, 1 };
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

int elbo_section_reconstruction(elbo_context *ctx, fixed_world *w)
{
    program_heading("2. The reconstruction term: log p(x|z) for pixels in [0, 1]");
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
    rc |= elbo_add_double(ctx, "recon_bernoulli_log_likelihood", written_out);
    rc |= elbo_add_double(ctx, "recon_minus_bce_sum", -bce_sum);
    rc |= elbo_add_double(ctx, "recon_minus_bce_logits_sum", -bce_logits_sum);
    rc |= elbo_add_double(ctx, "recon_abs_difference", fabs(-bce_sum - written_out));
    rc |= elbo_add_double(ctx, "recon_bce_mean", bce_mean);
    rc |= elbo_add_double(ctx, "recon_kl", kl);
    rc |= elbo_add_double(ctx, "recon_kl_share_sum", kl / loss_sum);
    rc |= elbo_add_double(ctx, "recon_kl_share_mean", kl / loss_mean);
    rc |= elbo_add_double(ctx, "recon_implied_beta_mean", (double)n);
    rc |= elbo_add_double(ctx, "recon_implied_beta_keras_lecture", 1024.0 / 500.0);
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
    elbo_cell(label, 34);
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

int elbo_section_mistakes(elbo_context *ctx, fixed_world *w, const double *mu, const double *logvar, int k)
{
    program_heading("3. Known mistakes, each shown failing");
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
    elbo_cell("one dimension", 34);
    for (int c = 0; c < 7; c++) elbo_cell(columns[c], widths[c]);
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
    rc |= elbo_add_double(ctx, "kl_lecture_notebook", wrong);
    rc |= elbo_add_double(ctx, "kl_lecture_notebook_excess", wrong - right);
    rc |= elbo_add_double(ctx, "kl_lecture_notebook_half_mu2_plus_var", excess);
    rc |= elbo_add_double(ctx, "kl_lecture_notebook_narrow_prior_form", narrow);

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
    rc |= elbo_add_double(ctx, "bce_refuses_targets_outside_unit_interval", bce_rc == AE_EDOM ? 1.0 : 0.0);
    rc |= elbo_add_double(ctx, "bce_naive_minus1_1_untrained", naive_model);
    rc |= elbo_add_double(ctx, "bce_naive_minus1_1_perfect_copy", naive_perfect);

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
    elbo_cell("steps:", 28);
    for (int s = 0; s < 4; s++) printf(" %14d", steps[s]);
    printf("\n      ");
    elbo_cell("KL, minimising +KL (right):", 28);
    for (int s = 0; s < 4; s++) printf(" %14.6g", descend_kl(mu, logvar, k, +1.0, steps[s], 0.1));
    printf("\n      ");
    elbo_cell("KL, minimising −KL (wrong):", 28);
    for (int s = 0; s < 4; s++) printf(" %14.6g", descend_kl(mu, logvar, k, -1.0, steps[s], 0.1));
    printf("\n    The wrong sign grows every μ by 10%% a step, and every σ² that was above 1 grows too: no end.\n");
    rc |= elbo_add_double(ctx, "sign_elbo", elbo);
    rc |= elbo_add_double(ctx, "sign_loss", -elbo);
    rc |= elbo_add_double(ctx, "sign_kl_after_50_steps_right", descend_kl(mu, logvar, k, +1.0, 50, 0.1));
    rc |= elbo_add_double(ctx, "sign_kl_after_50_steps_wrong", descend_kl(mu, logvar, k, -1.0, 50, 0.1));
    return rc;
}

/* Prints and stores one study of the two ELBO estimators. */
int elbo_report_estimators(elbo_context *ctx, const char *prefix, const elbo_estimator_study *s)
{
    double z = s->difference.mean / s->difference.std_error;
    double ratio = s->single.sample_std / s->analytic.sample_std;
    const char *rows[3] = { "analytic KL: log p(x|z) − KL", "single sample: log p(x|z) + log p(z) − log q",
                            "difference on the same z (expectation 0)" };
    const mc_estimate *values[3] = { &s->analytic, &s->single, &s->difference };
    printf("  ");
    elbo_cell("estimator (one draw z per estimate)", 46);
    printf("%12s %12s %12s\n", "mean", "std error", "spread (sd)");
    for (int i = 0; i < 3; i++) {
        printf("  ");
        elbo_cell(rows[i], 46);
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
    const program_value results[] = {
        { "analytic_mean", s->analytic.mean },        { "analytic_sd", s->analytic.sample_std },
        { "single_sample_mean", s->single.mean },     { "single_sample_sd", s->single.sample_std },
        { "difference_mean", s->difference.mean },    { "difference_stderr", s->difference.std_error },
        { "spread_ratio", ratio },                    { "kl", s->kl },
    };
    return program_results(ctx->run, prefix, results, sizeof results / sizeof results[0]);
}

int elbo_section_estimators(elbo_context *ctx, fixed_world *w)
{
    program_heading("4. The single-sample Monte-Carlo ELBO against the analytic-KL ELBO");
    printf("The same untrained model and image as in section 2, %d draws z ~ q(z|x):\n", ctx->opt->elbo_draws);
    gsl_rng *rng = elbo_stream_rng(ctx->common->seed, 3);
    if (!rng) return AE_ERROR(AE_ENOMEM, "out of memory for a random generator");
    elbo_estimator_study s;
    int rc = vae_elbo_estimators(&s, w->v, w->x, ctx->opt->elbo_draws, rng);
    gsl_rng_free(rng);
    if (rc != AE_OK) return rc;
    return elbo_report_estimators(ctx, "estimators_untrained", &s);
}

