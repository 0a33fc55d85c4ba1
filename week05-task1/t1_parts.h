/* t1_parts.h: the parts of Task 1, each an experiment that shows a claim of the written answers:
 *
 *   (a) six kinds of autoencoder, one network Dense(784→U, ReLU) → Dense(U→784, sigmoid):
 *       undercomplete, overcomplete, denoising, contractive, bottleneck and sparse, measured
 *       on the same test images (t1_part_kinds.c; the maths of the kinds: t1_kinds.c)
 *   (b) one network trained as an AE (reconstruction only) and as a VAE (reconstruction + KL):
 *       the two loss terms per epoch
 *   (c) the same with a 2-D latent: the test codes side by side, decoded grids, pair averaging
 *   (d) decoded draws z ~ N(0, I) from both, and their reconstruction errors at the same size
 *       ((b)-(d): t1_part_vae.c; the VAE is the library's, vae.h)
 */
#ifndef T1_PARTS_H
#define T1_PARTS_H

#include <stddef.h>

#include "io/data.h"
#include "io/program.h"

#define SHOWN FASHION_CLASSES          /* one test image per class in the image figures */

#define PART_CHOICES "all|kinds|vae"
enum { PART_ALL, PART_KINDS, PART_VAE };

typedef struct {
    int part;
    int batch;
    double lr;
    double noise;            /* the denoising kind's training noise, and the test noise of every kind */
    int code;                /* U of the undercomplete, denoising, contractive and sparse kinds */
    int overcomplete_code;
    double contractive;      /* λ_c */
    double sparsity;         /* λ_s */
    int probes;              /* Hutchinson probes per image for ‖J_r‖_F² */
    int latent;              /* L of the AE and VAE of (b) and (d) */
    int hidden;              /* their hidden layer */
    int threads;
} t1_options;

/* What every part needs. */
typedef struct {
    const t1_options *opt;
    const common_options *common;
    const fashion_mnist *fm;
    program_run *run;            /* results.tsv, figures, the --out folder */
    size_t shown_index[SHOWN];   /* the first test image of each class */
    int n_shown;
} t1_context;

/* The heading, the images shown in the figures, and the setup in results.tsv. */
int t1_setup(t1_context *ctx);
int t1_part_kinds(t1_context *ctx);    /* (a) */
int t1_part_vae(t1_context *ctx);      /* (b), (c) and (d) */

/* results.tsv keys PREFIX_WHAT, and a figure rendered (both through io/program.h) */
#define t1_result(ctx, prefix, what, value) program_result((ctx)->run, (value), "%s_%s", (prefix), (what))
#define t1_result_int(ctx, prefix, what, value) program_result_int((ctx)->run, (value), "%s_%s", (prefix), (what))
/* key PREFIX_epochE_WHAT, E = epoch + 1 (epochs count from 1 in results.tsv) */
#define t1_epoch_result(ctx, prefix, epoch, what, value) \
    program_result((ctx)->run, (value), "%s_epoch%d_%s", (prefix), (epoch) + 1, (what))

#endif
