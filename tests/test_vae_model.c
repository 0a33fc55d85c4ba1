/* test_vae_model.c: the library's VAE (common/vae.c) and vae-elbo's estimator study (vae_model.c).
 *
 * Core      forward's ELBO terms against a plain recomputation; decoding and padding; the
 *           library's KL against the exercise's, number for number; the deterministic
 *           mode (z = μ, no KL) that trains the same layers as a plain autoencoder.
 * Gradient  the whole VAE loss, −log p(x|z) + β KL with ε held fixed, against finite
 *           differences in the encoder's and the decoder's parameters: the check that
 *           ∂L/∂z really flows back through the sampling layer into the encoder.
 * Training  a short run on the bundled sample raises the test ELBO; the two ELBO
 *           estimators have the same mean.
 * Limits    bad configurations and batches.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/data.h"
#include "error.h"
#include "sampling.h"
#include "testutil.h"
#include "vae.h"
#include "vae_elbo.h"
#include "vae_model.h"

/* ---------------------------------------------------------------- Core */

/* The library's closed-form KL and its gradient give the exercise's numbers bit for bit, so
 * vae-elbo trains the same whichever of the two it hands to vae_config. */
START_TEST(library_kl_matches_the_exercise_kl)
{
    enum { B = 4, L = 5 };
    gsl_rng *rng = test_rng(4242);
    float mu[B * L], logvar[B * L], d1[2 * B * L], d2[2 * B * L];
    fill_uniform(mu, B * L, -2.5, 2.5, rng);
    fill_uniform(logvar, B * L, -3.0, 1.5, rng);
    fill_uniform(d1, 2 * B * L, -0.5, 0.5, rng);
    memcpy(d2, d1, sizeof d1);
    double kl1[B], kl2[B];
    double total1 = vae_kl_forward(kl1, mu, logvar, B, L), total2 = kl_batch_forward(kl2, mu, logvar, B, L);
    ck_assert(total1 == total2);
    for (int b = 0; b < B; b++) ck_assert(kl1[b] == kl2[b]);
    vae_kl_backward(d1, d1 + B * L, mu, logvar, B, L, 1.7f);
    kl_batch_backward(d2, d2 + B * L, mu, logvar, B, L, 1.7f);
    ck_assert_int_eq(memcmp(d1, d2, sizeof d1), 0);
    gsl_rng_free(rng);
}
END_TEST

/* loss = Σ BCE of the deterministic model, in double from forward's logits (ε is ignored) */
static double ae_loss(void *ctx)
{
    vae *v = ((void **)ctx)[0];
    const float *x = ((void **)ctx)[1];
    elbo_terms t;
    ck_assert_int_eq(vae_forward(v, x, 2, 0, &t), AE_OK);
    return -bernoulli_log_likelihood_logits(x, v->logits, 2 * v->x_size);
}

START_TEST(deterministic_mode_is_a_plain_autoencoder)
{
    enum { B = 2, L = 3, H = 16 };
    gsl_rng *rng = test_rng(77);
    vae_config cfg = { VAE_DENSE, L, H, 1.0, 1e-3, B, 1, NULL, NULL, 1 };
    vae *v = vae_alloc(&cfg, rng);
    ck_assert_ptr_nonnull(v);
    float *x = malloc((size_t)B * 784 * sizeof *x);
    fill_uniform(x, (size_t)B * 784, 0.0, 1.0, rng);
    for (int i = 0; i < B * L; i++) v->eps[i] = 2.385f;      /* ignored: z = μ */
    elbo_terms t;
    ck_assert_int_eq(vae_forward(v, x, B, 1, &t), AE_OK);
    for (int i = 0; i < B * L; i++) ck_assert_float_eq(v->z[i], v->mu[i]);
    ck_assert_double_eq(t.kl, 0.0);
    ck_assert_double_eq(t.elbo, t.recon);
    ck_assert_double_eq_tol(t.recon, bernoulli_log_likelihood_logits(x, v->logits, (size_t)B * 784), 1e-4 * fabs(t.recon));
    ck_assert_int_eq(vae_backward(v, B), AE_OK);
    /* the log σ² half of the encoder's last layer (rows L..2L−1 of its (2L, H) weight) learns nothing */
    const layer *last = &v->encoder->layers[v->encoder->n_layers - 1];
    for (int row = L; row < 2 * L; row++) {
        for (int k = 0; k < H; k++) ck_assert_float_eq(last->d_weight[row * H + k], 0.0f);
        ck_assert_float_eq(last->d_bias[row], 0.0f);
    }
    /* and the gradient is the plain autoencoder's: central differences of Σ BCE */
    float *enc = malloc(v->encoder->n_params * sizeof *enc), *dec = malloc(v->decoder->n_params * sizeof *dec);
    memcpy(enc, v->encoder->grads, v->encoder->n_params * sizeof *enc);
    memcpy(dec, v->decoder->grads, v->decoder->n_params * sizeof *dec);
    void *ctx[2] = { v, x };
    size_t worst;
    double err = gradcheck(ae_loss, ctx, v->encoder->params, enc, v->encoder->n_params, 1e-3, 150, &worst);
    ck_assert_msg(err < 1e-2, "encoder: worst relative error %.3g at %zu", err, worst);
    err = gradcheck(ae_loss, ctx, v->decoder->params, dec, v->decoder->n_params, 1e-3, 150, &worst);
    ck_assert_msg(err < 1e-2, "decoder: worst relative error %.3g at %zu", err, worst);
    /* a training step draws no noise: the generator is left where it was */
    gsl_rng *copy = test_rng(77);
    gsl_rng_memcpy(copy, rng);
    ck_assert_int_eq(vae_train_step(v, x, B, rng, &t), AE_OK);
    ck_assert_uint_eq(gsl_rng_get(rng), gsl_rng_get(copy));
    gsl_rng_free(copy);
    free(enc);
    free(dec);
    free(x);
    vae_free(v);
    gsl_rng_free(rng);
}
END_TEST

/* A dense VAE 784-24-latent for batches of `batch` with this β (weights from rng), and `batch`
 * random images in [0, 1] into *x (free it). */
static vae *small_dense_vae(int latent, int batch, double beta, gsl_rng *rng, float **x)
{
    vae_config cfg = { VAE_DENSE, latent, 24, beta, 1e-3, batch, 0, NULL, NULL, 1 };
    vae *v = vae_alloc(&cfg, rng);
    ck_assert_ptr_nonnull(v);
    *x = malloc((size_t)batch * 784 * sizeof **x);
    ck_assert_ptr_nonnull(*x);
    fill_uniform(*x, (size_t)batch * 784, 0.0, 1.0, rng);
    return v;
}

START_TEST(forward_terms_match_a_plain_recomputation)
{
    enum { B = 3, L = 4 };
    gsl_rng *rng = test_rng(31);
    float *x;
    vae *v = small_dense_vae(L, B, 1.0, rng, &x);
    sampling_draw_eps(v->eps, B * L, rng);
    elbo_terms sum;
    ck_assert_int_eq(vae_forward(v, x, B, 0, &sum), AE_OK);

    /* the same numbers by hand from what forward left behind: μ, log σ², z, logits */
    double recon = 0.0, kl = 0.0;
    for (int b = 0; b < B; b++) {
        recon += bernoulli_log_likelihood_logits(x + b * 784, v->logits + b * 784, 784);
        double mu[L], logvar[L];
        for (int j = 0; j < L; j++) {
            mu[j] = v->mu[b * L + j];
            logvar[j] = v->logvar[b * L + j];
            ck_assert_float_eq_tol(v->z[b * L + j], v->mu[b * L + j] + expf(0.5f * v->logvar[b * L + j]) * v->eps[b * L + j],
                                   1e-6f);
        }
        kl += kl_closed_form(mu, logvar, L);
    }
    ck_assert_double_eq_tol(sum.recon, recon, 1e-5 * fabs(recon));   /* float sums over 784 pixels */
    ck_assert_double_eq_tol(sum.kl, kl, 1e-9);
    ck_assert_double_eq_tol(sum.elbo, sum.recon - sum.kl, 1e-9);
    free(x);
    vae_free(v);
    gsl_rng_free(rng);
}
END_TEST

/* The convolutional model for `channels` (1: Fashion-MNIST, padded; 3: colour), L = 2, batches of
 * 2, with its input and output of x_size values checked. */
static vae *small_conv_vae(int channels, gsl_rng *rng, int x_size)
{
    vae_config cfg = { VAE_CONV, 2, 0, 1.0, 1e-3, 2, 0, NULL, NULL, channels };
    vae *v = vae_alloc(&cfg, rng);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq((int)v->x_size, x_size);
    ck_assert_int_eq((int)model_output_size(v->decoder), x_size);
    return v;
}

/* Colour images (CIFAR-10's layout: three planes of 32x32) go in unpadded and come out as three planes. */
START_TEST(colour_model_reads_and_decodes_three_planes)
{
    gsl_rng *rng = test_rng(33);
    vae *v = small_conv_vae(3, rng, 3072);
    ck_assert_int_eq((int)v->image_size, 3072);
    static uint8_t bytes[2 * 3072];
    for (int i = 0; i < 2 * 3072; i++) bytes[i] = (uint8_t)((i * 53) % 256);
    idx_array images = { 4, { 2, 3, 32, 32 }, 2, 3072, bytes };
    static float x[2 * 3072];
    vae_fill_batch(v, x, &images, NULL, 2);
    for (int i = 0; i < 2 * 3072; i += 101) ck_assert_float_eq_tol(x[i], bytes[i] / 255.0f, 1e-7f);
    float z[4] = { 0.3f, -1.2f, 2.385f, 0.5f };
    static float decoded[2 * 3072];
    ck_assert_int_eq(vae_decode_images(v, z, 2, decoded), AE_OK);
    const float *logits;
    ck_assert_int_eq(vae_decode_logits(v, z, 2, &logits), AE_OK);
    for (int i = 0; i < 2 * 3072; i += 97) ck_assert_float_eq_tol(decoded[i], 1.0f / (1.0f + expf(-logits[i])), 1e-6f);
    elbo_terms t;
    ck_assert_int_eq(vae_evaluate(v, &images, rng, &t), AE_OK);
    ck_assert(isfinite(t.elbo) && t.recon < 0.0);
    /* grey 28x28 images are refused by the colour model, and colour ones by the grey model */
    uint8_t grey[784] = { 0 };
    idx_array fashion = { 3, { 1, 28, 28, 0 }, 1, 784, grey };
    ck_assert_int_eq(vae_evaluate(v, &fashion, rng, &t), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "784 values each; this VAE reads 3072 (3 channels of 32x32)"));
    vae_free(v);
    v = small_conv_vae(1, rng, 1024);
    size_t order[2];
    ck_assert_int_eq(vae_train_epoch(v, &images, order, rng, NULL, NULL, &t), AE_EINVAL);
    vae_free(v);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(conv_model_pads_and_crops)
{
    gsl_rng *rng = test_rng(32);
    vae *v = small_conv_vae(1, rng, 1024);
    /* two made-up images of bytes 0..255 */
    uint8_t bytes[2 * 784];
    for (int i = 0; i < 2 * 784; i++) bytes[i] = (uint8_t)((i * 37) % 256);
    idx_array images = { 3, { 2, 28, 28, 0 }, 2, 784, bytes };
    float x[2 * 1024];
    vae_fill_batch(v, x, &images, NULL, 2);
    for (int i = 0; i < 2; i++)
        for (int y = 0; y < 32; y++)
            for (int c = 0; c < 32; c++) {
                float expected = (y < 2 || y >= 30 || c < 2 || c >= 30) ? 0.0f
                               : bytes[i * 784 + (y - 2) * 28 + (c - 2)] / 255.0f;
                ck_assert_float_eq_tol(x[i * 1024 + y * 32 + c], expected, 1e-7f);
            }
    /* decoded images are 28x28 probabilities: the centre of the 32x32 logits, through a sigmoid */
    float z[4] = { 0.3f, -1.2f, 2.385f, 0.5f }, decoded[2 * 784];
    ck_assert_int_eq(vae_decode_images(v, z, 2, decoded), AE_OK);
    const float *logits;
    ck_assert_int_eq(vae_decode_logits(v, z, 2, &logits), AE_OK);
    for (int y = 0; y < 28; y += 9)
        for (int c = 0; c < 28; c += 5) {
            float l = logits[1024 + (y + 2) * 32 + c + 2];
            ck_assert_float_eq_tol(decoded[784 + y * 28 + c], 1.0f / (1.0f + expf(-l)), 1e-6f);
        }
    vae_free(v);
    gsl_rng_free(rng);
}
END_TEST

/* ------------------------------------------------------------ Gradient */

typedef struct {
    vae *v;
    const float *x;
    const float *eps;      /* (B, L) held fixed */
    int batch;
} loss_fixture;

/* loss = Σ_batch (BCE_sum + β KL) with the fixed ε, summed in double from forward's logits, μ and
 * log σ² (the training step sums in float, too coarse for a finite difference) */
static double vae_loss(void *ctx)
{
    loss_fixture *f = ctx;
    vae *v = f->v;
    memcpy(v->eps, f->eps, (size_t)f->batch * v->cfg.latent * sizeof(float));
    elbo_terms t;
    ck_assert_int_eq(vae_forward(v, f->x, f->batch, 0, &t), AE_OK);
    double recon = bernoulli_log_likelihood_logits(f->x, v->logits, (size_t)f->batch * v->x_size);
    return -recon + v->cfg.beta * kl_batch_forward(NULL, v->mu, v->logvar, f->batch, v->cfg.latent);
}

static void check_vae_gradient(vae_kind kind, int latent, int hidden, int batch, double tolerance, int channels)
{
    gsl_rng *rng = test_rng(2385 + kind + channels);
    vae_config cfg = { kind, latent, hidden, 1.7, 1e-3, batch, 0, NULL, NULL, channels };
    vae *v = vae_alloc(&cfg, rng);
    ck_assert_ptr_nonnull(v);
    size_t d = v->x_size;
    float *x = malloc((size_t)batch * d * sizeof *x), *eps = malloc((size_t)batch * latent * sizeof *eps);
    fill_uniform(x, (size_t)batch * d, 0.0, 1.0, rng);
    sampling_draw_eps(eps, (size_t)batch * latent, rng);
    /* larger weights than Glorot's so that log σ² and the decoder's z-dependence are far from 0 */
    for (size_t i = 0; i < v->encoder->n_params; i++) v->encoder->params[i] *= 1.5f;

    loss_fixture f = { v, x, eps, batch };
    memcpy(v->eps, eps, (size_t)batch * latent * sizeof *eps);
    elbo_terms t;
    ck_assert_int_eq(vae_forward(v, x, batch, 1, &t), AE_OK);
    ck_assert_int_eq(vae_backward(v, batch), AE_OK);
    float *enc_grad = malloc(v->encoder->n_params * sizeof *enc_grad);
    float *dec_grad = malloc(v->decoder->n_params * sizeof *dec_grad);
    memcpy(enc_grad, v->encoder->grads, v->encoder->n_params * sizeof *enc_grad);
    memcpy(dec_grad, v->decoder->grads, v->decoder->n_params * sizeof *dec_grad);

    size_t worst;
    double enc_err = gradcheck(vae_loss, &f, v->encoder->params, enc_grad, v->encoder->n_params, 1e-3, 150, &worst);
    ck_assert_msg(enc_err < tolerance, "%s encoder: worst relative error %.3g at parameter %zu",
                  vae_kind_name(kind), enc_err, worst);
    double dec_err = gradcheck(vae_loss, &f, v->decoder->params, dec_grad, v->decoder->n_params, 1e-3, 150, &worst);
    ck_assert_msg(dec_err < tolerance, "%s decoder: worst relative error %.3g at parameter %zu",
                  vae_kind_name(kind), dec_err, worst);

    /* the encoder's gradient is not the KL's alone: with β·KL removed, ∂L/∂z still reaches it */
    double norm = 0.0;
    v->cfg.beta = 0.0;
    memcpy(v->eps, eps, (size_t)batch * latent * sizeof *eps);
    ck_assert_int_eq(vae_forward(v, x, batch, 1, &t), AE_OK);
    ck_assert_int_eq(vae_backward(v, batch), AE_OK);
    for (size_t i = 0; i < v->encoder->n_params; i++) norm += (double)v->encoder->grads[i] * v->encoder->grads[i];
    ck_assert(norm > 1e-6);

    free(enc_grad);
    free(dec_grad);
    free(x);
    free(eps);
    vae_free(v);
    gsl_rng_free(rng);
}

START_TEST(dense_vae_loss_gradient_through_sampling)
{
    check_vae_gradient(VAE_DENSE, 3, 16, 3, 1e-2, 1);
}
END_TEST

START_TEST(conv_vae_loss_gradient_through_sampling)
{
    check_vae_gradient(VAE_CONV, 2, 0, 2, 1e-2, 1);
}
END_TEST

/* the colour model of CIFAR-10: three input planes, three output planes of logits */
START_TEST(colour_conv_vae_loss_gradient_through_sampling)
{
    check_vae_gradient(VAE_CONV, 2, 0, 2, 1e-2, 3);
}
END_TEST

START_TEST(lanes_give_the_same_gradients)
{
    enum { B = 6, L = 3 };
    gsl_rng *rng = test_rng(2386);
    float *x, eps[B * L];
    vae *v = small_dense_vae(L, B, 1.3, rng, &x);
    sampling_draw_eps(eps, B * L, rng);
    size_t ne = v->encoder->n_params, nd = v->decoder->n_params;
    float *one = malloc((ne + nd) * sizeof *one);
    elbo_terms t1, t2;
    memcpy(v->eps, eps, sizeof eps);
    ck_assert_int_eq(vae_forward(v, x, B, 1, &t1), AE_OK);
    ck_assert_int_eq(vae_backward(v, B), AE_OK);
    memcpy(one, v->encoder->grads, ne * sizeof *one);
    memcpy(one + ne, v->decoder->grads, nd * sizeof *one);

    /* the batch split in two lanes: the same loss, the same gradients up to the order of the sums */
    ck_assert_int_eq(vae_set_threads(v, 2), AE_OK);
    memcpy(v->eps, eps, sizeof eps);
    ck_assert_int_eq(vae_forward(v, x, B, 1, &t2), AE_OK);
    ck_assert_int_eq(vae_backward(v, B), AE_OK);
    ck_assert_double_eq_tol(t2.recon, t1.recon, 1e-6 * fabs(t1.recon));
    ck_assert_double_eq_tol(t2.kl, t1.kl, 1e-6 * fabs(t1.kl));
    double worst = 0.0;
    for (size_t i = 0; i < ne; i++)
        worst = fmax(worst, fabs(v->encoder->grads[i] - one[i]) / fmax(1.0, fabs(one[i])));
    for (size_t i = 0; i < nd; i++)
        worst = fmax(worst, fabs(v->decoder->grads[i] - one[ne + i]) / fmax(1.0, fabs(one[ne + i])));
    ck_assert_msg(worst < 1e-4, "two lanes differ from one by %.3g", worst);
    ck_assert_int_eq(vae_set_threads(v, 0), AE_EINVAL);
    error_clear();
    free(one);
    free(x);
    vae_free(v);
    gsl_rng_free(rng);
}
END_TEST

/* ------------------------------------------------------------ Training */

START_TEST(short_training_raises_the_elbo)
{
    fashion_mnist fm;
    test_load_sample(&fm, 0);
    gsl_rng *rng = test_rng(41);
    vae_config cfg = { VAE_DENSE, 2, 64, 1.0, 1e-3, 64, 0, NULL, NULL, 1 };
    vae *v = vae_alloc(&cfg, rng);
    ck_assert_ptr_nonnull(v);
    elbo_terms before, after, epoch;
    ck_assert_int_eq(vae_evaluate(v, &fm.test.images, rng, &before), AE_OK);
    size_t *order = malloc(fm.train.images.count * sizeof *order);
    double first_epoch = 0.0;
    for (int e = 0; e < 4; e++) {
        ck_assert_int_eq(vae_train_epoch(v, &fm.train.images, order, rng, NULL, NULL, &epoch), AE_OK);
        if (e == 0) first_epoch = epoch.elbo;
    }
    ck_assert_int_eq(vae_evaluate(v, &fm.test.images, rng, &after), AE_OK);
    /* untrained, p ≈ ½ everywhere: about −784 ln 2 = −543 nats; four epochs of 600 images do much better */
    ck_assert_msg(after.elbo > before.elbo + 60.0, "test ELBO %.2f before, %.2f after", before.elbo, after.elbo);
    ck_assert(epoch.elbo > first_epoch);
    ck_assert(after.kl > 0.0);
    free(order);
    vae_free(v);
    gsl_rng_free(rng);
    fashion_mnist_free(&fm);
}
END_TEST

START_TEST(estimators_share_their_mean)
{
    gsl_rng *rng = test_rng(51);
    vae_config cfg = { VAE_DENSE, 5, 32, 1.0, 1e-3, 128, 0, NULL, NULL, 1 };
    vae *v = vae_alloc(&cfg, rng);
    float x[784];
    fill_uniform(x, 784, 0.0, 1.0, rng);
    elbo_estimator_study s;
    ck_assert_int_eq(vae_elbo_estimators(&s, v, x, 3000, rng), AE_OK);
    ck_assert_uint_eq(s.single.n, 3000);
    ck_assert_msg(fabs(s.difference.mean) < 4.0 * s.difference.std_error, "difference %.4f ± %.4f",
                  s.difference.mean, s.difference.std_error);
    ck_assert_double_eq_tol(s.single.mean - s.analytic.mean, s.difference.mean, 1e-9);
    ck_assert(s.difference.sample_std > 0.1);        /* the KL part of the single-sample one is random */
    ck_assert(s.kl > 0.0);
    ck_assert_int_eq(vae_elbo_estimators(&s, v, x, 1, rng), AE_EINVAL);
    error_clear();
    vae_free(v);
    gsl_rng_free(rng);
}
END_TEST

/* -------------------------------------------------------------- Limits */

START_TEST(bad_configurations_and_batches_are_refused)
{
    gsl_rng *rng = test_rng(61);
    vae_config bad[] = {
        { VAE_DENSE, 0, 16, 1.0, 1e-3, 4, 0, NULL, NULL, 0 },
        { VAE_DENSE, 2, 0, 1.0, 1e-3, 4, 0, NULL, NULL, 0 },
        { VAE_DENSE, 2, 16, -0.5, 1e-3, 4, 0, NULL, NULL, 0 },
        { VAE_DENSE, 2, 16, NAN, 1e-3, 4, 0, NULL, NULL, 0 },
        { VAE_DENSE, 2, 16, 1.0, 0.0, 4, 0, NULL, NULL, 0 },
        { VAE_CONV, 2, 0, 1.0, 1e-3, 0, 0, NULL, NULL, 0 },
        { VAE_CONV, 2, 0, 1.0, 1e-3, 4, 0, NULL, NULL, 2 },        /* two channels */
        { VAE_DENSE, 2, 16, 1.0, 1e-3, 4, 0, NULL, NULL, 3 },      /* colour is the conv model's */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(vae_alloc(&bad[i], rng) == NULL, "config %zu was accepted", i);
        ck_assert_int_ne(error_code(), AE_OK);
        error_clear();
    }
    vae_config cfg = { VAE_DENSE, 2, 16, 1.0, 1e-3, 4, 0, NULL, NULL, 1 };
    vae *v = vae_alloc(&cfg, rng);
    float x[5 * 784] = { 0 };
    elbo_terms t;
    ck_assert_int_eq(vae_train_step(v, x, 5, rng, &t), AE_ESTATE);      /* larger than max_batch */
    ck_assert_int_eq(vae_forward(v, x, 0, 0, &t), AE_ESTATE);
    ck_assert_int_eq(vae_backward(v, 2), AE_ESTATE);                    /* no forward of a batch of 2 */
    ck_assert_int_eq(vae_forward(v, x, 2, 1, &t), AE_OK);
    ck_assert_int_eq(vae_backward(v, 3), AE_ESTATE);                    /* a different batch */
    error_clear();
    vae_free(v);
    vae_free(NULL);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(non_finite_loss_stops_the_step)
{
    gsl_rng *rng = test_rng(62);
    vae_config cfg = { VAE_DENSE, 2, 16, 1.0, 1e-3, 2, 0, NULL, NULL, 1 };
    vae *v = vae_alloc(&cfg, rng);
    float x[2 * 784];
    fill_uniform(x, 2 * 784, 0.0, 1.0, rng);
    v->decoder->params[v->decoder->n_params - 1] = NAN;    /* the last logit's bias: a NaN no ReLU can hide */
    float before = v->encoder->params[3];
    elbo_terms t;
    ck_assert_int_eq(vae_train_step(v, x, 2, rng, &t), AE_ENUMERIC);
    ck_assert(v->encoder->params[3] == before);                          /* no step taken */
    error_clear();
    vae_free(v);
    gsl_rng_free(rng);
}
END_TEST

Suite *vae_model_suite(void)
{
    Suite *s = suite_create("vae_model");

    test_add(test_case(s, "Core", 0), forward_terms_match_a_plain_recomputation, conv_model_pads_and_crops,
             colour_model_reads_and_decodes_three_planes, library_kl_matches_the_exercise_kl,
             deterministic_mode_is_a_plain_autoencoder);

    test_add(test_case(s, "Gradient", 60), dense_vae_loss_gradient_through_sampling,
             conv_vae_loss_gradient_through_sampling, colour_conv_vae_loss_gradient_through_sampling,
             lanes_give_the_same_gradients);

    test_add(test_case(s, "Training", 60), short_training_raises_the_elbo, estimators_share_their_mean);

    test_add(test_case(s, "Limits", 0), bad_configurations_and_batches_are_refused, non_finite_loss_stops_the_step);
    return s;
}
