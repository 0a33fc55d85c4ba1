/* reparam_plan.c: how vae-reparam is graded, every expected value from sampling_reference.c.
 *
 * The program's numbers are estimates from N random draws, so each is graded against the
 * exact value to 5 standard errors of that estimate (computed here from N and the true σ²):
 * a right program fails such an item with probability below 1e-6, while the variance-for-
 * standard-deviation mistake moves the sample variance by hundreds of standard errors.
 * Exact quantities (σ², σ) are graded to 1e-6 relative: the program holds μ and log σ² as floats.
 */
#include <math.h>
#include <stdio.h>

#include "grade_lib.h"
#include "sampling_reference.h"

#define SAMPLES 100000

int main(void)
{
    /* two latent dimensions: σ < 1 in the first, σ > 1 in the second, so σ² and σ differ in both */
    const double mu[2] = { 0.8, -1.3 }, logvar[2] = { -1.2, 0.9 };
    const size_t n = SAMPLES;
    plan_exercise("vae-reparam", "The reparameterisation trick: sampling z = μ + σ·ε and its gradients");
    plan_requires("vae-reparam/Makefile vae-reparam/main.c vae-reparam/reparam_exercise.h "
                  "vae-reparam/reparam_exercise.h vae-reparam/reparam.c");

    plan_run("draws", 1, 0, 120, "--mu 0.8,-1.3 --logvar -1.2,0.9 --samples 100000 --repeats 10 --seed 7 --quiet",
             "runs with μ = (0.8, −1.3), log σ² = (−1.2, 0.9), 100,000 draws, and writes results.tsv");
    for (int l = 0; l < 2; l++) {
        const char *suffix = l ? "_dim2" : "";
        char key[64];
        double stored = (double)(float)logvar[l];     /* the program keeps log σ² as a float */
        double var = exp(stored), sigma = exp(0.5 * stored);
        snprintf(key, sizeof key, "true_var%s", suffix);
        plan_rel("draws", 1, key, var, 1e-6, "dim %d: σ² = e^(log σ²) = %.6f", l + 1, var);
        snprintf(key, sizeof key, "true_std%s", suffix);
        plan_rel("draws", 1, key, sigma, 1e-6, "dim %d: σ = e^(½ log σ²) = %.6f", l + 1, sigma);
        plan_question("Reparameterisation: z = μ + σε");
        snprintf(key, sizeof key, "sample_mean%s", suffix);
        plan_num("draws", 2, key, mu[l], 5 * ref_se_mean(var, n),
                 "dim %d: the sample mean of z is μ = %g, to 5 standard errors", l + 1, mu[l]);
        snprintf(key, sizeof key, "sample_var%s", suffix);
        plan_num("draws", 3, key, var, 5 * ref_se_variance(var, n),
                 "dim %d: the sample variance of z is σ² = %.6f, to 5 standard errors", l + 1, var);
        plan_mistake("draws", key, var * var, "the variance of z = μ + σ²·ε: σ² where σ belongs");
        plan_mistake("draws", key, stored * stored, "the variance of z = μ + log σ²·ε: log σ² where σ belongs");
        plan_question(NULL);   /* the mistake itself is the exercise's own code */
        snprintf(key, sizeof key, "wrong_std%s", suffix);
        plan_num("draws", 1, key, var, 5 * ref_se_std(var * var, n),
                 "dim %d: the mistake z = μ + ε·σ² spreads σ² = %.6f, not σ", l + 1, var);
        plan_question("Reparameterisation: the backward pass");
        snprintf(key, sizeof key, "grad_mu_pathwise%s", suffix);
        plan_num("draws", 2, key, 2 * mu[l], 5 * ref_se_pathwise_square_mu(mu[l], var, n),
                 "dim %d: pathwise ∂E[z²]/∂μ is 2μ = %g, to 5 standard errors", l + 1, 2 * mu[l]);
        snprintf(key, sizeof key, "grad_logvar_pathwise%s", suffix);
        plan_num("draws", 2, key, var, 5 * ref_se_pathwise_square_logvar(mu[l], var, n),
                 "dim %d: pathwise ∂E[z²]/∂log σ² is σ² = %.6f, to 5 standard errors", l + 1, var);
        char se_key[64];
        plan_question("Reparameterisation: z = μ + σε");
        snprintf(key, sizeof key, "grad_mu_score%s", suffix);
        snprintf(se_key, sizeof se_key, "grad_mu_score_se%s", suffix);
        plan_num_scaled("draws", 1, key, 2 * mu[l], 5, se_key,
                        "dim %d: score-function ∂E[z²]/∂μ is 2μ = %g, to 5 of its standard errors", l + 1, 2 * mu[l]);
        plan_question(NULL);
    }
    /* float finite differences of the layer agree to about 1e-4; a wrong factor (σ for ½σ) gives 0.3 or more */
    plan_question("Reparameterisation: the backward pass");
    plan_band("draws", 1, "layer_check_max_error", 0.0, 1e-2,
              "reparam_backward agrees with finite differences (relative error <= 1e-2)");

    plan_question(NULL);
    plan_run("bad_logvar", 1, 2, 30, "--mu 0.5,1 --logvar 0.3",
             "refuses --mu with 2 values but --logvar with 1, with exit status 2");

    plan_harness(1, 60, "the submission's reparam_forward and reparam_backward link against the reference tests");
    static const plan_fn_row functions[] = {
        { 3, "forward_batch",
          "reparam_forward gives z = μ + exp(½ log σ²)·ε on a 3x4 batch (1e-6 relative)", "Reparameterisation: z = μ + σε" },
        { 2, "forward_spread",
          "reparam_forward: 100,000 draws with log σ² = −1.2 and 0.9 have variance σ², to 5 standard errors", "Reparameterisation: z = μ + σε" },
        { 2, "backward",
          "reparam_backward adds d_z to d_μ and d_z·½σε to d_logvar (1e-6 relative)", "Reparameterisation: the backward pass" },
        { 1, "backward_null",
          "reparam_backward leaves a NULL gradient alone and still fills the other", "Reparameterisation: the backward pass" },
        { 1, "mistaken",
          "mistaken_sampling_forward gives the mistake z = μ + ε·σ² (1e-6 relative)", NULL },
    };
    PLAN_FNS(functions);
    return 0;
}
