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
 * 5. (--train) the dense VAE, the lecture's convolutional VAE and a β sweep, with figures, and the
 *    lectures' demos: reconstructions, per-dimension latent histograms, latent arithmetic.
 * 6. (--train) the homework: the convolutional VAE on CIFAR-10's colour images, when the data is
 *    found (--data-cifar10 or $CIFAR10_DIR); skipped with a note otherwise.
 *
 * Sections 1–4 (elbo_checks.c) use a fixed, untrained dense VAE and a made-up image, so they run
 * anywhere; section 5 is elbo_training.c (with elbo_resume.c and elbo_demos.c), section 6
 * elbo_cifar10.c; the functions the exercise is about are in elbo.c.
 * Files in --out (default out/vae-elbo): results.tsv, and with --train the figures
 * (NAME.dat, NAME.gp, NAME.png). Bad input writes nothing and exits with status 2.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "elbo_training.h"
#include "error.h"
#include "fast/blas.h"
#include "io/cifar10.h"
#include "io/cli.h"
#include "io/data.h"
#include "io/fileio.h"
#include "io/program.h"

#define PROGRAM "vae-elbo"
#define MU_LIMIT 1000.0          /* |μ| beyond this adds nothing to the lesson and loses digits */

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
    "  vae-elbo --train --model conv --conv-epochs 20 --beta 2\n"
    "  vae-elbo --train --from-checkpoint           redraw everything from the last run's models\n"
    "  vae-elbo --train --data-cifar10 DIR          also the convolutional VAE on CIFAR-10\n"
    "\n"
    "Writes results.tsv (and with --train the figures as .dat, .gp and .png) into the --out folder.",
    CLI_USES_DATA | CLI_TRAINS
};

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
    elbo_options opt = {
        .mu_text = "0.3,-1.2", .logvar_text = "0.1,-0.5", .mc_samples = 100000, .elbo_draws = 10000,
        .train = 0, .model_choice = 2, .latent = 20, .beta = 1.0, .conv_epochs = 10, .batch = 128,
        .lr = 1e-3, .no_sweep = 0, .sweep_betas_text = "0.25,0.5,1,2,4", .sweep_epochs = 3, .threads = 2,
        .conv_threads = 2, .from_checkpoint = 0, .cifar10_dir = NULL, .cifar10_epochs = 5,
        .cifar10_latent = 64,
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
        CLI_INT("threads", &opt.threads, 1, 64, "N", "threads of the dense models' training: each batch split in N lanes"),
        CLI_INT("conv-threads", &opt.conv_threads, 1, 64, "N", "threads of the convolutional models' training"),
        CLI_FLAG("from-checkpoint", &opt.from_checkpoint, "read the dense and conv VAEs back from the last --train "
                 "in --out (same settings) instead of training them"),
        CLI_STRING("data-cifar10", &opt.cifar10_dir, "DIR", "CIFAR-10's binary version (data_batch_1.bin ...); "
                   "default $CIFAR10_DIR, else data/cifar-10-batches-bin"),
        CLI_INT("cifar10-epochs", &opt.cifar10_epochs, 1, 1000, "N", "epochs of the convolutional VAE on CIFAR-10"),
        CLI_INT("cifar10-latent", &opt.cifar10_latent, 1, MAX_LATENT, "L", "latent dimensions of the CIFAR-10 VAE"),
    };
    common_options common = common_defaults(PROGRAM, 10);
    int rc = cli_parse(argc, argv, &prog_info, options_table, (int)(sizeof options_table / sizeof options_table[0]),
                       &common);
    if (rc == CLI_HELP) return 0;
    const int n_options = (int)(sizeof options_table / sizeof options_table[0]);
    if (rc == AE_OK) rc = cli_threads(&common, &opt.threads, cli_seen(options_table, n_options, "threads"));
    if (rc == AE_OK)
        rc = cli_threads(&common, &opt.conv_threads, cli_seen(options_table, n_options, "conv-threads"));
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
    char cifar10_dir[AE_PATH_MAX] = "";
    int cifar10_found = 0;
    elbo_context ctx = { &opt, &common, NULL };
    cifar10 cifar;                            /* read whole before anything runs: a bad file stops at once */
    memset(&cifar, 0, sizeof cifar);
    if (opt.train && (elbo_cifar10_locate(&ctx, cifar10_dir, sizeof cifar10_dir, &cifar10_found) != AE_OK ||
                      (cifar10_found && cifar10_load(&cifar, cifar10_dir, (size_t)common.limit) != AE_OK))) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error_message());
        return 1;
    }


    program_run run;
    ctx.run = &run;
    fixed_world world;
    memset(&world, 0, sizeof world);
    rc = program_begin(&run, &prog_info, &common);
    if (rc == AE_OK) printf("vae-elbo: the evidence lower bound, log p(x) ≥ E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))\n");
    if (rc == AE_OK) rc = program_part(&run, "1. the KL term", elbo_section_kl(&ctx, mu, logvar, k_mu));
    if (rc == AE_OK) rc = elbo_world_build(&world, &opt, common.seed);   /* an untrained VAE and its images */
    if (rc == AE_OK) rc = program_part(&run, "2. the reconstruction term", elbo_section_reconstruction(&ctx, &world));
    if (rc == AE_OK)
        rc = program_part(&run, "3. the mistakes", elbo_section_mistakes(&ctx, &world, mu, logvar, k_mu));
    if (rc == AE_OK) rc = program_part(&run, "4. the estimators", elbo_section_estimators(&ctx, &world));
    vae_free(world.v);
    if (rc == AE_OK && opt.train)                                           /* 5. two VAEs on Fashion-MNIST */
        rc = program_part(&run, "5. the trained models", elbo_section_training(&ctx, data_dir, is_sample, betas, n_betas));
    if (rc == AE_OK && opt.train)                                           /* 6. the homework: CIFAR-10 */
        rc = program_part(&run, "6. CIFAR-10", elbo_section_cifar10(&ctx, cifar10_found ? &cifar : NULL));
    cifar10_free(&cifar);
    return program_end(&run, rc);
}
