/* elbo_harness.c: the submission's Gaussian KL (vae_elbo.h) against the reference.
 * One verdict per item of elbo_plan.c, by key. */
#include <math.h>
#include <stdio.h>

#include "gaussian_kl_reference.h"
#include "grade_lib.h"
#include "vae_elbo.h"

#define TOL 1e-12
#define FLOAT_TOL 1e-6
#define BATCH 4
#define LATENT 3

/* xorshift64*, mapped to U(lo, hi): the same values on every machine */
static unsigned long long rng_state = 0x2545F4914F6CDD1DULL;
static double uniform(double lo, double hi)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    unsigned long long r = rng_state * 2685821657736338717ULL;
    return lo + (hi - lo) * ((double)(r >> 11) / 9007199254740992.0);
}

static void check_one(const char *key, const double *mu, const double *logvar, int latent)
{
    const double want = ref_gaussian_kl(mu, logvar, latent), got = kl_closed_form(mu, logvar, latent);
    const char *note = NULL;
    if (want != 0.0 && close_enough(2.0 * want, got, TOL)) note = "twice the KL: the ½ is missing";
    else if (want != 0.0 && close_enough(-want, got, TOL)) note = "minus the KL: a sign flipped";
    else if (close_enough(ref_lecture_formula(mu, logvar, latent), got, TOL))
        note = "the lecture notebook's Σ(σ² + μ² − log σ − ½), not the KL";
    char e[64], g[64];
    verdict_note(key, close_enough(want, got, TOL), format_double(e, sizeof e, want), format_double(g, sizeof g, got),
                 note);
}

int main(void)
{
    char e[256], g[256];

    const double zeros[4] = { 0, 0, 0, 0 };
    check_one("kl_zero", zeros, zeros, 4);
    const double mu[3] = { 0.85, -1.3, 0.2 }, logvar[3] = { -0.6, 0.45, 1.1 };
    check_one("kl_example", mu, logvar, 3);
    const double mean_only = 1.7, unit = 0.0, var_only = 1.2;
    check_one("kl_mean_only", &mean_only, &unit, 1);
    check_one("kl_var_only", &unit, &var_only, 1);

    /* random Gaussians: μ in [−2.5, 2.5], log σ² in [−3, 2] */
    {
        int bad = 0;
        double worst = 0.0;
        for (int t = 0; t < 20; t++) {
            int latent = 1 + t % 8;
            double m[8], lv[8];
            for (int j = 0; j < latent; j++) {
                m[j] = uniform(-2.5, 2.5);
                lv[j] = uniform(-3.0, 2.0);
            }
            double want = ref_gaussian_kl(m, lv, latent), got = kl_closed_form(m, lv, latent);
            double rel = fabs(got - want) / fmax(1.0, fabs(want));
            if (!(rel <= TOL)) bad++;
            if (!(rel <= worst)) worst = rel;
        }
        snprintf(g, sizeof g, "%d of 20 off; worst relative difference %.3g", bad, worst);
        verdict("kl_random", bad == 0, "20 within 1e-12", g);
    }

    /* the float batch a training step uses */
    const float batch_mu[BATCH * LATENT] = { 0.85f, -1.3f, 0.2f, -0.45f, 1.15f, 0.05f,
                                             2.1f, -0.75f, 0.6f, -1.95f, 0.35f, -0.15f };
    const float batch_logvar[BATCH * LATENT] = { -0.6f, 0.45f, 1.1f, 0.3f, -1.7f, 0.0f,
                                                 -0.25f, 0.95f, -2.2f, 1.4f, -0.05f, 0.65f };
    {
        double per_sample[BATCH] = { NAN, NAN, NAN, NAN }, want_total = 0.0, worst = 0.0;
        double total = kl_batch_forward(per_sample, batch_mu, batch_logvar, BATCH, LATENT);
        for (int b = 0; b < BATCH; b++) {
            double m[LATENT], lv[LATENT];
            for (int j = 0; j < LATENT; j++) {
                m[j] = batch_mu[b * LATENT + j];
                lv[j] = batch_logvar[b * LATENT + j];
            }
            double want = ref_gaussian_kl(m, lv, LATENT);
            want_total += want;
            double rel = fabs(per_sample[b] - want) / fmax(fabs(want), 1e-12);
            if (!(rel <= worst)) worst = rel;
        }
        double rel_total = fabs(total - want_total) / fabs(want_total);
        snprintf(e, sizeof e, "sum %.9g", want_total);
        snprintf(g, sizeof g, "sum %.9g; worst per-sample relative difference %.2g", total, worst);
        verdict("kl_batch", worst <= FLOAT_TOL && rel_total <= FLOAT_TOL, e, g);
    }
    {
        const float scale = 0.375f;
        float d_mu[BATCH * LATENT], d_logvar[BATCH * LATENT];
        for (int i = 0; i < BATCH * LATENT; i++) {
            d_mu[i] = 0.5f;          /* a gradient already there: backward must add to it */
            d_logvar[i] = -0.25f;
        }
        kl_batch_backward(d_mu, d_logvar, batch_mu, batch_logvar, BATCH, LATENT, scale);
        double worst = 0.0;
        for (int i = 0; i < BATCH * LATENT; i++) {
            double m = batch_mu[i], lv = batch_logvar[i], want_mu, want_lv;
            ref_gaussian_kl_gradient(&want_mu, &want_lv, &m, &lv, 1);
            want_mu = 0.5 + scale * want_mu;
            want_lv = -0.25 + scale * want_lv;
            double r1 = fabs(d_mu[i] - want_mu) / fmax(fabs(want_mu), 1e-3);
            double r2 = fabs(d_logvar[i] - want_lv) / fmax(fabs(want_lv), 1e-3);
            if (!(r1 <= worst)) worst = r1;
            if (!(r2 <= worst)) worst = r2;
        }
        snprintf(g, sizeof g, "worst relative difference %.2g", worst);
        verdict("kl_batch_backward", worst <= FLOAT_TOL, "0.5 + scale·μ, −0.25 + scale·½(σ² − 1)", g);
    }
    return 0;
}
