/* vae_model.c: the study of the two ELBO estimators on a trained VAE (see vae_model.h).
 *
 * Shape legend: L latent dimensions, D pixels the model sees (784 or 1024).
 */
#include "vae_model.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sampling.h"

int vae_elbo_estimators(elbo_estimator_study *out, vae *v, const float *x, int draws, gsl_rng *rng)
{
    int latent = v->cfg.latent, batch = v->cfg.max_batch;
    if (draws < 2) return AE_ERROR(AE_EINVAL, "comparing estimators needs at least 2 draws, not %d", draws);
    double *analytic = malloc((size_t)draws * 3 * sizeof *analytic);
    double *mu = malloc((size_t)latent * 3 * sizeof *mu);
    float *mu_f = malloc((size_t)latent * 2 * sizeof *mu_f);
    if (!analytic || !mu || !mu_f) {
        free(analytic);
        free(mu);
        free(mu_f);
        return AE_ERROR(AE_ENOMEM, "out of memory for %d draws", draws);
    }
    double *single = analytic + draws, *difference = single + draws;
    double *logvar = mu + latent, *z = logvar + latent;
    float *logvar_f = mu_f + latent;

    /* q(z|x) once: μ and log σ² of this image */
    int rc = vae_encode(v, x, 1, mu_f, logvar_f);
    for (int j = 0; j < latent; j++) {
        mu[j] = mu_f[j];
        logvar[j] = logvar_f[j];
    }
    out->kl = kl_closed_form(mu, logvar, latent);

    for (int start = 0; start < draws && rc == AE_OK; start += batch) {
        int n = draws - start < batch ? draws - start : batch;
        /* n draws z = μ + σ ε of the same image, decoded together */
        for (int b = 0; b < n; b++) {
            memcpy(v->mu + (size_t)b * latent, mu_f, (size_t)latent * sizeof(float));
            memcpy(v->logvar + (size_t)b * latent, logvar_f, (size_t)latent * sizeof(float));
        }
        sampling_draw_eps(v->eps, (size_t)n * latent, rng);
        sampling_forward(v->z, v->mu, v->logvar, v->eps, n, latent);
        const float *logits;
        rc = vae_decode_logits(v, v->z, n, &logits);
        for (int b = 0; b < n && rc == AE_OK; b++) {
            double log_px = bernoulli_log_likelihood_logits(x, logits + (size_t)b * v->x_size, v->x_size);
            for (int j = 0; j < latent; j++) z[j] = v->z[(size_t)b * latent + j];
            int k = start + b;
            analytic[k] = elbo_analytic_kl(log_px, mu, logvar, latent);
            single[k] = elbo_single_sample(log_px, z, mu, logvar, latent);
            difference[k] = single[k] - analytic[k];     /* log p(z) − log q(z|x) + KL: mean 0 */
        }
    }
    if (rc == AE_OK) rc = mc_estimate_from(&out->analytic, analytic, (size_t)draws);
    if (rc == AE_OK) rc = mc_estimate_from(&out->single, single, (size_t)draws);
    if (rc == AE_OK) rc = mc_estimate_from(&out->difference, difference, (size_t)draws);
    free(analytic);
    free(mu);
    free(mu_f);
    return rc;
}
