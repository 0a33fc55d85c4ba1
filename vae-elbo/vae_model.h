/* vae_model.h: the two VAEs of the exercise, and the study of the two ELBO estimators.
 *
 * The VAE itself (its two models, the sampling layer, the loss, the training step and epoch,
 * encoding and decoding) is the library's: common/vae.h. This exercise trains it with its own
 * KL term, kl_batch_forward and kl_batch_backward of vae_elbo.h, handed in through vae_config
 * (main.c), and adds what only this chapter needs: the two single-draw estimators of one
 * image's ELBO.
 *
 * Shape legend
 *   L  latent dimensions      D  pixels the model sees (784 or 1024)
 */
#ifndef VAE_MODEL_H
#define VAE_MODEL_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

#include "vae.h"
#include "vae_elbo.h"

/* The two single-draw estimators of one image's ELBO, over `draws` draws z ~ q(z|x):
 * analytic-KL log p(x|z) − KL, and single-sample log p(x|z) + log p(z) − log q(z|x),
 * computed on the same draws, so that their difference isolates the KL's noise. */
typedef struct {
    mc_estimate analytic;      /* log p(x|z) − KL(q ‖ p) */
    mc_estimate single;        /* log p(x|z) + log p(z) − log q(z|x) */
    mc_estimate difference;    /* single − analytic on the same z: expectation 0 */
    double kl;                 /* KL(q(z|x) ‖ p(z)) of the image */
} elbo_estimator_study;

/* x (D): one image as the model sees it. AE_EINVAL for draws < 2. */
int vae_elbo_estimators(elbo_estimator_study *out, vae *v, const float *x, int draws, gsl_rng *rng);

#endif
