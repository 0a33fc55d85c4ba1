/* main.c: week05-task1, Task 1 of the week-5 sheet: autoencoders and VAEs compared, each
 * claim of the written answers shown by an experiment on Fashion-MNIST.
 *
 *   (a) six kinds of autoencoder on one network: undercomplete, overcomplete, denoising,
 *       contractive, bottleneck and sparse, measured on the same test images
 *   (b) one network trained as an AE (reconstruction only) and as a VAE (reconstruction + KL):
 *       the two loss terms per epoch
 *   (c) the same with a 2-D latent: the test codes side by side, decoded grids, pair averaging
 *   (d) decoded draws z ~ N(0, I) from both, and their reconstruction errors at the same size
 *
 * The parts are t1_part_kinds.c and t1_part_vae.c; the maths of the kinds, the functions the
 * exercise is about, t1_kinds.c.
 */
#include "error.h"
#include "fast/blas.h"
#include "io/cli.h"
#include "io/data.h"
#include "io/program.h"
#include "t1_parts.h"

#include <stdio.h>
#include <string.h>

#define PROGRAM "week05-task1"

static const program_info prog_info = {
    PROGRAM,
    "Task 1: autoencoders and VAEs compared on Fashion-MNIST: (a) six kinds of autoencoder measured "
    "side by side, (b) one network trained as an AE and as a VAE, (c) their 2-D latent spaces, "
    "(d) decoded draws from N(0, I)",
    "Parts (--part):\n"
    "  kinds   (a) undercomplete, overcomplete, denoising, contractive, bottleneck and sparse\n"
    "  vae     (b)-(d) the AE and the VAE, with a latent of --latent and of 2\n"
    "  all     both (the default)\n"
    "Examples:\n"
    "  week05-task1                                  everything on the full data (about 2 minutes)\n"
    "  week05-task1 --part kinds --epochs 2          a quick look at (a)\n"
    "  week05-task1 --limit 2000 --epochs 2          everything, small and fast\n"
    "\n"
    "Writes into the --out folder (default out/week05-task1): results.tsv, kinds_table.md,\n"
    "ae_vae_table.md and the figures (.dat, .gp and .png): kinds_loss, kinds_clean, kinds_noisy,\n"
    "kinds_noise, kinds_filters, ae_vae_terms, latent_codes, latent_grid_ae, latent_grid_vae,\n"
    "pair_average, prior_samples, prior_samples_2d.",
    CLI_USES_DATA | CLI_TRAINS
};

int main(int argc, char **argv)
{
    t1_options opt = {
        .part = PART_ALL, .batch = 32, .lr = 1e-3, .noise = 0.2, .code = 64, .overcomplete_code = 1024,
        .contractive = 1e-4, .sparsity = 2e-4, .probes = 2, .latent = 20, .hidden = 400, .threads = 2,
    };
    cli_option table[] = {
        CLI_CHOICE("part", &opt.part, PART_CHOICES, "which part to run (see below)"),
        CLI_INT("batch", &opt.batch, 1, 4096, "N", "mini-batch size"),
        CLI_DOUBLE("lr", &opt.lr, 1e-7, 1.0, "R", "Adam's learning rate"),
        CLI_DOUBLE("noise", &opt.noise, 0.0, 1.0, "F", "std of the Gaussian noise: the denoising kind's inputs, "
                   "and every kind's noisy test images"),
        CLI_INT("code", &opt.code, 3, FASHION_PIXELS - 1, "U", "code size of the undercomplete, denoising, "
                "contractive and sparse kinds (< 784)"),
        CLI_INT("overcomplete-code", &opt.overcomplete_code, FASHION_PIXELS + 1, 8192, "U",
                "code size of the overcomplete kind (> 784)"),
        CLI_DOUBLE("contractive", &opt.contractive, 0.0, 1e3, "L", "weight of ||J_f(x)||_F^2 in the contractive "
                   "kind's loss"),
        CLI_DOUBLE("sparsity", &opt.sparsity, 0.0, 1e3, "L", "weight of sum_j |h_j| in the sparse kind's loss"),
        CLI_INT("probes", &opt.probes, 0, 1000, "N", "random probes per image for the reconstruction Jacobian "
                "(0: skip it)"),
        CLI_INT("latent", &opt.latent, 1, 512, "L", "latent dimensions of the AE and VAE of (b) and (d)"),
        CLI_INT("hidden", &opt.hidden, 1, 4096, "N", "hidden units of the AE and VAE"),
        CLI_INT("threads", &opt.threads, 1, 64, "N", "threads of the training: each batch's units split in N lanes, or one alone "
                "when that is faster at the moment (the same numbers either way)"),
    };
    int n_table = (int)(sizeof table / sizeof table[0]);
    common_options common = common_defaults(PROGRAM, 5);
    int rc = cli_parse(argc, argv, &prog_info, table, n_table, &common);
    if (rc == CLI_HELP) return 0;
    if (rc == AE_OK) rc = cli_threads(&common, &opt.threads, cli_seen(table, n_table, "threads"));
    if (rc != AE_OK) return cli_fail(&prog_info);
    /* the lanes split each batch; a lane's matrix products run on one thread */
    if ((rc = blas_set_threads(1)) != AE_OK) {
        program_error_prefix("--threads", AE_EINVAL);
        return cli_fail(&prog_info);
    }

    program_run run;
    fashion_mnist fm;
    memset(&fm, 0, sizeof fm);
    t1_context ctx = { .opt = &opt, .common = &common, .fm = &fm, .run = &run };
    rc = program_begin(&run, &prog_info, &common);
    if (rc == AE_OK) rc = cli_load_fashion_mnist(&fm, &common, PROGRAM);
    if (rc == AE_OK) rc = t1_setup(&ctx);
    double started = program_seconds();
    if (rc == AE_OK && opt.part != PART_VAE)                                 /* (a) six kinds of autoencoder */
        rc = program_part(&run, "part (a)", t1_part_kinds(&ctx));
    if (rc == AE_OK && opt.part != PART_KINDS)                               /* (b)-(d) the AE and the VAE */
        rc = program_part(&run, "parts (b)-(d)", t1_part_vae(&ctx));
    if (rc == AE_OK) {
        double seconds = program_seconds() - started;
        printf("\nEverything: %.1f s.\n", seconds);
        rc = program_result(&run, seconds, "total_seconds");
    }
    fashion_mnist_free(&fm);
    return program_end(&run, rc);
}
