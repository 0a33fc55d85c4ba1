/* elbo_plan.c: how vae-elbo is graded, every expected value from gaussian_kl_reference.c.
 *
 * Tolerances: closed forms to 1e-12 relative (a sum of three terms in double); the GSL
 * integral to 1e-8 (its own error estimate is near 1e-10); the Monte-Carlo estimate to
 * 5 of the standard errors computed here from N and the Gaussian (a right program fails with
 * probability below 1e-6; the lecture's formula is off by ½Σ(μ² + σ²), here about 300 standard
 * errors); the reported standard error to 5 % (its own sampling error is near 0.5 % at N = 200,000).
 *
 * The training run (the dense VAE, 10 epochs on the bundled sample) has no reference training;
 * its test ELBO must lie between two bounds computed here from the images: above the ELBO of a
 * VAE that ignores its input (q = the prior, so KL 0, and a decoder that outputs the mean
 * training image: about −386 nats), which any VAE that learns passes within a few epochs
 * (this repository's reaches about −310 after 10), and below the largest log-likelihood any
 * decoder can give these grey levels (p = x: about −184), which no ELBO can exceed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gaussian_kl_reference.h"
#include "grade_data.h"
#include "grade_lib.h"

#define MC_SAMPLES 200000

/* IN·OUT + OUT */
static long dense_params(long in, long out)
{
    return in * out + out;
}

int main(int argc, char **argv)
{
    const double mu[3] = { 0.85, -1.3, 0.2 }, logvar[3] = { -0.6, 0.45, 1.1 };
    double kl = ref_gaussian_kl(mu, logvar, 3), wrong = ref_lecture_formula(mu, logvar, 3);

    plan_exercise("vae-elbo", "The ELBO: its Gaussian KL term checked every way, and a dense VAE trained briefly");
    plan_requires("vae-elbo/Makefile vae-elbo/main.c vae-elbo/vae_elbo.h");

    plan_run("checks", 1, 0, 120,
             "--mu 0.85,-1.3,0.2 --logvar -0.6,0.45,1.1 --mc-samples 200000 --elbo-draws 2000 --seed 11 --quiet",
             "runs the checks for μ = (0.85, −1.3, 0.2), log σ² = (−0.6, 0.45, 1.1) and writes results.tsv");
    plan_num("checks", 1, "kl_dimensions", 3, 0, "the Gaussian has 3 dimensions");
    plan_question("ELBO: the KL term");
    plan_rel("checks", 3, "kl_closed_form", kl, 1e-12,
             "closed-form KL(N(μ, diag σ²) ‖ N(0, I)) = %.6f…, to 1e-12 relative", kl);
    plan_mistake("checks", "kl_closed_form", 2 * kl, "twice the KL: the ½ is missing");
    plan_mistake("checks", "kl_closed_form", -kl, "minus the KL: a sign flipped");
    plan_mistake("checks", "kl_closed_form", wrong, "the lecture notebook's Σ(σ² + μ² − log σ − ½), not the KL");
    plan_question(NULL);   /* the other ways to the KL are the exercise's own checks */
    plan_rel("checks", 1, "kl_trace_logdet", kl, 1e-10,
             "the trace/log-det form ½(tr Σ + μᵀμ − k − log det Σ) gives the same, to 1e-10");
    plan_rel("checks", 1, "kl_numerical_integration", kl, 1e-8,
             "numerical integration of q (log q − log p) gives the same, to 1e-8");
    double se = ref_gaussian_kl_mc_stderr(mu, logvar, 3, MC_SAMPLES);
    plan_num("checks", 2, "kl_monte_carlo", kl, 5 * se,
             "the Monte-Carlo estimate (200,000 draws) is the KL to 5 standard errors (±%.4f)", 5 * se);
    plan_rel("checks", 1, "kl_monte_carlo_stderr", se, 0.05,
             "its standard error is √(Σ[½(σ² − 1)² + μ²σ²]/N) = %.6f, to 5 %%", se);
    plan_rel("checks", 1, "kl_lecture_notebook", wrong, 1e-12,
             "the lecture notebook's Σ(σ² + μ² − log σ − ½) gives %.6f…, not the KL", wrong);
    plan_rel("checks", 1, "kl_lecture_notebook_excess", wrong - kl, 1e-10,
             "it exceeds the KL by ½Σ(μ² + σ²) = %.6f…", wrong - kl);

    /* the reconstruction term against the library's summed BCE, and the ELBO's two estimators */
    plan_question("ELBO: the reconstruction term");
    plan_band("checks", 2, "recon_abs_difference", 0.0, 1e-6,
              "log p(x|z) summed over the pixels equals minus the library's summed BCE (to 1e-6 nats)");
    plan_mistake_scaled("checks", "recon_abs_difference", -783.0 / 784.0, "recon_minus_bce_sum",
                        "a mean over the 784 pixels where the sum belongs");
    plan_question("ELBO: the bound");
    plan_num_scaled("checks", 2, "estimators_untrained_difference_mean", 0.0, 5, "estimators_untrained_difference_stderr",
                    "the analytic-KL ELBO and the single-sample ELBO agree on average, to 5 standard errors");
    plan_mistake_scaled("checks", "estimators_untrained_difference_mean", 2.0, "estimators_untrained_kl",
                        "2·KL apart: the KL added where it is subtracted");
    plan_question(NULL);

    plan_run("bad_lengths", 1, 2, 30, "--mu 0.1,0.2 --logvar 0.3",
             "refuses --mu with 2 values but --logvar with 1, with exit status 2");
    plan_run("bad_number", 1, 2, 30, "--mu 0.1,abc --logvar 0.3,0.2",
             "refuses --mu 0.1,abc (not a number) with exit status 2");

    /* a short seeded training run on the sample */
    const char *sample = argc > 1 ? argv[1] : "data/sample";
    size_t n_train = 0, n_val = 0;
    double *train, *val;
    if (grade_load_sample(sample, &train, &n_train, &val, &n_val) != 0) return 3;
    double blind = grade_mean_image_log_likelihood(train, n_train, val, n_val);
    double best = grade_best_log_likelihood(val, n_val);
    const long latent = 20;
    /* encoder 784 → 400 → 2L (μ and log σ²), decoder L → 400 → 784 */
    long params = dense_params(784, 400) + dense_params(400, 2 * latent) + dense_params(latent, 400) +
                  dense_params(400, 784);
    plan_run("train", 1, 0, 600, "--train --model dense --latent 20 --epochs 10 --data @SAMPLE@ --no-sweep --seed 5 --quiet",
             "trains the dense VAE (latent 20) for 10 epochs on the bundled sample and writes results.tsv");
    plan_num("train", 1, "dense_parameters", (double)params, 0,
             "the dense VAE 784-400-(2·20 | 20)-400-784 has %ld,%03ld parameters", params / 1000, params % 1000);
    plan_question("ELBO: the KL term");   /* the training's KL term and its gradient */
    plan_band("train", 2, "dense_test_elbo", blind, best,
              "the dense VAE learns: test ELBO above the input-blind %.1f and below the bound %.1f nats", blind, best);
    plan_band("train", 1, "dense_test_kl", 0.0, 1e9, "its test KL term is >= 0");
    plan_band("train", 1, "dense_test_recon", -1e9, best, "its test reconstruction term log p(x|z) is below %.1f nats", best);
    free(train);
    free(val);

    plan_question(NULL);
    plan_harness(1, 60, "the submission's kl_closed_form links against the reference tests");
    plan_question("ELBO: the KL term");
    plan_fn(1, "kl_zero", "kl_closed_form(μ = 0, log σ² = 0) = 0 in 4 dimensions (q = p)");
    plan_fn(3, "kl_example", "kl_closed_form(μ = (0.85, −1.3, 0.2), log σ² = (−0.6, 0.45, 1.1)) = %.6f…, to 1e-12", kl);
    static const plan_fn_row functions[] = {
        { 1, "kl_mean_only",
          "kl_closed_form with only the mean moved (μ = 1.7, log σ² = 0) is ½μ² = 1.445", NULL },
        { 1, "kl_var_only",
          "kl_closed_form with only the variance moved (μ = 0, log σ² = 1.2) is ½(σ² − 1 − log σ²)", NULL },
        { 2, "kl_random",
          "kl_closed_form agrees with the reference on 20 random Gaussians of 1 to 8 dimensions, to 1e-12", NULL },
        { 2, "kl_batch",
          "kl_batch_forward: the KL of each sample of a 4x3 float batch, and their sum (1e-6 relative)", NULL },
        { 2, "kl_batch_backward",
          "kl_batch_backward adds scale·μ and scale·½(σ² − 1) to the gradients (1e-6 relative)", NULL },
    };
    PLAN_FNS(functions);
    return 0;
}
