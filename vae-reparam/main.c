/* main.c: vae-reparam — the reparameterisation trick z = μ + σ·ε, ε ~ N(0, 1).
 *
 *   bin/vae-reparam [--mu 0.5,-1.0] [--logvar -0.5,0.7] [--samples 100000] [--repeats 400]
 *
 * Shape legend: N samples drawn, L latent dimensions; every (N, L) array is row-major.
 *
 * 1. Sampling: N draws through the library's layer (common/sampling.c); sample mean and
 *    variance against μ and σ² with confidence intervals; Kolmogorov–Smirnov against N(μ, σ²).
 * 2. The known mistake z = μ + ε·σ²: its spread, in numbers and in the same figure.
 * 3. Gradients of E[f(z)] for f = z² and f = sin z: exact, pathwise, score function.
 * 4. How the variance of the N-sample estimates falls with N (figure, first dimension).
 * 5. The sampling layer's backward against finite differences.
 *
 * Files in --out (default out/vae-reparam): results.tsv, sampling.{dat,gp,png},
 * estimator_variance.{dat,gp,png}. Bad input writes nothing and exits with status 2.
 * The steps are in reparam_steps.c; the functions the exercise is about in reparam.c.
 */
#include <math.h>
#include <string.h>

#include "error.h"
#include "io/cli.h"
#include "io/program.h"
#include "reparam_steps.h"
#include "sampling.h"

#define PROGRAM "vae-reparam"
#define MU_LIMIT 100.0         /* |μ| beyond this leaves float z too few digits for σ */
#define LOGVAR_LIMIT 16.0      /* σ from e^{−8} ≈ 3e-4 to e^{8} ≈ 3e3 */

int main(int argc, char **argv)
{
    const char *mu_text = "0.5,-1.0", *logvar_text = "-0.5,0.7";
    long n_samples = 100000;
    int repeats = 400;
    cli_option options[] = {
        CLI_STRING("mu", &mu_text, "LIST", "means μ of the latent dimensions, comma-separated"),
        CLI_STRING("logvar", &logvar_text, "LIST", "log-variances log σ² (one per μ, each in [-16, 16])"),
        CLI_LONG("samples", &n_samples, 2, 1000000, "N", "samples z drawn per dimension (at least 2)"),
        CLI_INT("repeats", &repeats, 10, 100000, "R", "repeated estimates per N in the variance study"),
    };
    static const program_info prog = {
        PROGRAM,
        "the reparameterisation trick z = mu + sigma*eps: sampling, the variance-for-std mistake, "
        "and pathwise against score-function gradients",
        "Example:\n  vae-reparam --mu 0.5,-1.0 --logvar -0.5,0.7 --samples 100000 --seed 42\n"
        "Writes results.tsv, sampling.png and estimator_variance.png into the output folder.",
        0,                         /* no data, no training: --data, --epochs and --plain are refused */
    };
    common_options common = common_defaults(PROGRAM, 1);
    int rc = cli_parse(argc, argv, &prog, options, (int)(sizeof options / sizeof options[0]), &common);
    if (rc == CLI_HELP) return 0;
    if (rc != AE_OK) return cli_fail(&prog);

    /* ------------------------------------------------ check every value first */
    double mu_values[MAX_LATENT], logvar_values[MAX_LATENT];
    int n_mu, n_logvar;
    if (parse_double_list(mu_text, "--mu", mu_values, MAX_LATENT, &n_mu) != AE_OK) return cli_fail(&prog);
    if (parse_double_list(logvar_text, "--logvar", logvar_values, MAX_LATENT, &n_logvar) != AE_OK)
        return cli_fail(&prog);
    if (n_mu != n_logvar) {
        AE_ERROR(AE_EBADLEN, "--mu has %d value%s but --logvar has %d; give one log-variance per mean",
                 n_mu, n_mu == 1 ? "" : "s", n_logvar);
        return cli_fail(&prog);
    }
    int latent = n_mu;
    for (int l = 0; l < latent; l++) {
        if (fabs(mu_values[l]) > MU_LIMIT) {
            AE_ERROR(AE_EDOM, "--mu, item %d: %g is outside [-%g, %g]", l + 1, mu_values[l], MU_LIMIT, MU_LIMIT);
            return cli_fail(&prog);
        }
    }
    float mu[MAX_LATENT], logvar[MAX_LATENT];
    for (int l = 0; l < latent; l++) { mu[l] = (float)mu_values[l]; logvar[l] = (float)logvar_values[l]; }
    for (int l = 0; l < latent; l++)
        if (fabs(logvar_values[l]) > LOGVAR_LIMIT) {
            AE_ERROR(AE_EDOM, "--logvar, item %d: %g is outside [-%g, %g]; that range already spans "
                     "sigma from %.2g to %.4g", l + 1, logvar_values[l], LOGVAR_LIMIT, LOGVAR_LIMIT,
                     exp(-0.5 * LOGVAR_LIMIT), exp(0.5 * LOGVAR_LIMIT));
            return cli_fail(&prog);
        }
    /* the layer's own check, on the float values it will use */
    if (sampling_check_logvar(logvar, (size_t)latent, LOGVAR_LIMIT) != AE_OK) return cli_fail(&prog);

    program_run run;
    reparam_study study;
    memset(&study, 0, sizeof study);
    rc = program_begin(&run, &prog, &common);
    if (rc == AE_OK) rc = reparam_study_init(&study, &run, mu, logvar, latent, (int)n_samples, repeats);
    /* 1. z = μ + σ·ε: its mean, variance, distribution */
    if (rc == AE_OK) rc = program_part(&run, "1. the samples", reparam_sampling(&study));
    /* 2. z = μ + ε·σ²: the wrong spread */
    if (rc == AE_OK) rc = program_part(&run, "2. the mistake", PROGRAM_AFTER(&run, "1. the samples", reparam_mistake(&study)));
    /* 3. pathwise against score-function gradients */
    if (rc == AE_OK) rc = program_part(&run, "3. the gradients", reparam_gradients(&study));
    /* 4. their variance as N grows */
    if (rc == AE_OK) rc = program_part(&run, "4. the variance", reparam_variance_study(&study));
    /* 5. the backward pass, by finite differences */
    if (rc == AE_OK) rc = program_part(&run, "5. the layer check", reparam_layer_check(&study));
    if (rc == AE_OK)
        rc = program_part(&run, "the figures",
                          PROGRAM_AFTER(&run, "2. the mistake", PROGRAM_AFTER(&run, "4. the variance", reparam_figures(&study))));
    reparam_study_free(&study);
    return program_end(&run, rc);
}
