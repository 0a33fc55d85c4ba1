/* vae.c: the dense and the convolutional VAE, and their training step (see vae.h).
 *
 * Shape legend: B batch, L latent dimensions, D pixels the model sees (784 or 1024).
 */
#include "vae.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "error.h"
#include "fast/fast.h"
#include "fast/vector.h"
#include "loss.h"
#include "sampling.h"
#include "train.h"

/* ------------------------------------------------------------ KL term */

double vae_kl_forward(double *kl, const float *mu, const float *logvar, int batch, int latent)
{
    double total = 0.0;
    for (int b = 0; b < batch; b++) {
        const float *m = mu + (size_t)b * latent, *lv = logvar + (size_t)b * latent;
        double sum = 0.0;
        for (int j = 0; j < latent; j++)
            sum += 1.0 + lv[j] - (double)m[j] * m[j] - exp(lv[j]);   /* 1 + log σ² − μ² − σ² */
        if (kl) kl[b] = -0.5 * sum;
        total += -0.5 * sum;
    }
    return total;
}

void vae_kl_backward(float *d_mu, float *d_logvar, const float *mu, const float *logvar,
                     int batch, int latent, float scale)
{
    size_t n = (size_t)batch * (size_t)latent;
    for (size_t i = 0; i < n; i++) {
        d_mu[i] += scale * mu[i];                                  /* ∂KL/∂μ = μ */
        d_logvar[i] += scale * 0.5f * (expf(logvar[i]) - 1.0f);    /* ∂KL/∂log σ² = ½ (σ² − 1) */
    }
}

const char *vae_kind_name(vae_kind kind)
{
    return kind == VAE_CONV ? "conv" : "dense";
}

/* ------------------------------------------------------------ building */

/* 784 → hidden (ReLU) → 2L: μ and log σ² side by side, as pytorch/examples' fc21 and fc22 */
static int add_dense_encoder(model *m, const vae_config *cfg)
{
    int rc = model_add(m, layer_dense(cfg->hidden, ACT_RELU));
    if (rc == AE_OK) rc = model_add(m, layer_dense(2 * cfg->latent, ACT_NONE));
    return rc;
}

/* L → hidden (ReLU) → 784 logits */
static int add_dense_decoder(model *m, const vae_config *cfg)
{
    int rc = model_add(m, layer_dense(cfg->hidden, ACT_RELU));
    if (rc == AE_OK) rc = model_add(m, layer_dense(FASHION_PIXELS, ACT_NONE));
    return rc;
}

/* (1, 32, 32) → Conv2D 32, 64, 128 (3x3, stride 2, same, ReLU) → (128, 4, 4) → flatten → Dense 2L */
static int add_conv_encoder(model *m, const vae_config *cfg)
{
    int rc = model_add(m, layer_conv2d(32, 3, 2, PAD_SAME, ACT_RELU));
    if (rc == AE_OK) rc = model_add(m, layer_conv2d(64, 3, 2, PAD_SAME, ACT_RELU));
    if (rc == AE_OK) rc = model_add(m, layer_conv2d(128, 3, 2, PAD_SAME, ACT_RELU));
    if (rc == AE_OK) rc = model_add(m, layer_flatten());
    if (rc == AE_OK) rc = model_add(m, layer_dense(2 * cfg->latent, ACT_NONE));
    return rc;
}

/* L → Dense 2048 → (128, 4, 4) → Conv2DTranspose 128, 64, 32 (3x3, stride 2, same, ReLU)
 * → (32, 32, 32) → Conv2D C (3x3, same) → logits (C, 32, 32), C = 1 or 3 */
static int add_conv_decoder(model *m, int channels)
{
    const int before_flatten[3] = { 128, 4, 4 };
    int rc = model_add(m, layer_dense(128 * 4 * 4, ACT_NONE));
    if (rc == AE_OK) rc = model_add(m, layer_reshape(3, before_flatten));
    if (rc == AE_OK) rc = model_add(m, layer_conv2d_transpose(128, 3, 2, PAD_SAME, ACT_RELU));
    if (rc == AE_OK) rc = model_add(m, layer_conv2d_transpose(64, 3, 2, PAD_SAME, ACT_RELU));
    if (rc == AE_OK) rc = model_add(m, layer_conv2d_transpose(32, 3, 2, PAD_SAME, ACT_RELU));
    if (rc == AE_OK) rc = model_add(m, layer_conv2d(channels, 3, 1, PAD_SAME, ACT_NONE));
    return rc;
}

static float *alloc_floats(size_t n)
{
    return calloc(n ? n : 1, sizeof(float));
}

vae *vae_alloc(const vae_config *cfg, gsl_rng *rng)
{
    if (cfg->latent < 1) { AE_ERROR(AE_EINVAL, "a VAE needs at least one latent dimension, not %d", cfg->latent); return NULL; }
    if (cfg->kind == VAE_DENSE && cfg->hidden < 1) { AE_ERROR(AE_EINVAL, "the hidden layer needs at least one unit, not %d", cfg->hidden); return NULL; }
    if (cfg->max_batch < 1) { AE_ERROR(AE_EINVAL, "the batch must hold at least one image, not %d", cfg->max_batch); return NULL; }
    if (!(cfg->beta >= 0.0) || !isfinite(cfg->beta)) { AE_ERROR(AE_EDOM, "beta must be a finite number >= 0, not %g", cfg->beta); return NULL; }
    if (!(cfg->lr > 0.0) || !isfinite(cfg->lr)) { AE_ERROR(AE_EDOM, "the learning rate must be > 0, not %g", cfg->lr); return NULL; }
    if (cfg->channels != 0 && cfg->channels != 1 && !(cfg->channels == 3 && cfg->kind == VAE_CONV)) {
        AE_ERROR(AE_EINVAL, "a VAE takes grey images (channels 1) or, convolutional, colour ones (3), not %d channels%s",
                 cfg->channels, cfg->kind == VAE_DENSE && cfg->channels == 3 ? " in the dense model" : "");
        return NULL;
    }

    vae *v = calloc(1, sizeof *v);
    if (!v) { AE_ERROR(AE_ENOMEM, "out of memory for a VAE"); return NULL; }
    v->cfg = *cfg;
    if (!v->cfg.kl_forward) v->cfg.kl_forward = vae_kl_forward;
    if (!v->cfg.kl_backward) v->cfg.kl_backward = vae_kl_backward;
    v->channels = cfg->channels == 3 ? 3 : 1;
    v->side = cfg->kind == VAE_CONV ? VAE_CONV_SIDE : 28;
    v->image_side = v->channels == 3 ? VAE_CONV_SIDE : 28;
    v->pad = (v->side - v->image_side) / 2;
    v->x_size = (size_t)v->channels * (size_t)v->side * (size_t)v->side;
    v->image_size = (size_t)v->channels * (size_t)v->image_side * (size_t)v->image_side;
    int latent = cfg->latent, rc;

    if (cfg->kind == VAE_CONV) {
        v->encoder = model_alloc(3, (int[]){ v->channels, v->side, v->side });
        v->decoder = model_alloc(1, (int[]){ latent });
        rc = v->encoder && v->decoder ? add_conv_encoder(v->encoder, cfg) : AE_ENOMEM;
        if (rc == AE_OK) rc = add_conv_decoder(v->decoder, v->channels);
    } else {
        v->encoder = model_alloc(1, (int[]){ FASHION_PIXELS });
        v->decoder = model_alloc(1, (int[]){ latent });
        rc = v->encoder && v->decoder ? add_dense_encoder(v->encoder, cfg) : AE_ENOMEM;
        if (rc == AE_OK) rc = add_dense_decoder(v->decoder, cfg);
    }
    if (rc == AE_OK) {
        model_request_input_grad(v->decoder);   /* ∂L/∂z must flow back through the sampling layer */
        rc = model_build(v->encoder, cfg->max_batch, rng);
    }
    if (rc == AE_OK) rc = model_build(v->decoder, cfg->max_batch, rng);
    if (rc != AE_OK) {
        vae_free(v);
        return NULL;
    }
    v->encoder_opt = adam_alloc(v->encoder->n_params, cfg->lr);
    v->decoder_opt = adam_alloc(v->decoder->n_params, cfg->lr);
    size_t bl = (size_t)cfg->max_batch * (size_t)latent;
    v->mu = alloc_floats(bl);
    v->logvar = alloc_floats(bl);
    v->eps = alloc_floats(bl);
    v->z = alloc_floats(bl);
    v->d_mu = alloc_floats(bl);
    v->d_logvar = alloc_floats(bl);
    v->d_encoder_out = alloc_floats(2 * bl);
    v->d_logits = alloc_floats((size_t)cfg->max_batch * v->x_size);
    if (!v->encoder_opt || !v->decoder_opt || !v->mu || !v->logvar || !v->eps || !v->z || !v->d_mu ||
        !v->d_logvar || !v->d_encoder_out || !v->d_logits) {
        vae_free(v);
        AE_ERROR(AE_ENOMEM, "out of memory for the VAE's buffers");
        return NULL;
    }
    return v;
}

void vae_free(vae *v)
{
    if (!v) return;
    model_free(v->encoder);
    model_free(v->decoder);
    optimizer_free(v->encoder_opt);
    optimizer_free(v->decoder_opt);
    free(v->mu);
    free(v->logvar);
    free(v->eps);
    free(v->z);
    free(v->d_mu);
    free(v->d_logvar);
    free(v->d_encoder_out);
    free(v->d_logits);
    free(v);
}

int vae_set_threads(vae *v, int threads)
{
    int rc = model_set_threads(v->encoder, threads);
    return rc == AE_OK ? model_share_threads(v->decoder, v->encoder) : rc;   /* the decoder on the same threads */
}

/* ---------------------------------------------------------------- data */

void vae_fill_batch(const vae *v, float *x, const idx_array *images, const size_t *index, int n)
{
    if (v->pad == 0) {                                   /* the images as they are: (n, channels, side, side) */
        images_to_float(x, images, index, n);
        return;
    }
    const float scale = 1.0f / 255.0f;
    memset(x, 0, (size_t)n * v->x_size * sizeof *x);     /* the 2-pixel border stays 0 */
    for (int i = 0; i < n; i++) {
        const uint8_t *image = images->data + (index ? index[i] : (size_t)i) * images->item_size;
        float *row = x + (size_t)i * v->x_size;
        for (int y = 0; y < 28; y++)
            for (int c = 0; c < 28; c++)
                row[(y + v->pad) * v->side + c + v->pad] = image[y * 28 + c] * scale;
    }
}

/* A shuffled batch's images lie anywhere in the data (47 MB for Fashion-MNIST's training set), and
 * vae_fill_batch waits for each from main memory. Asked for one step ahead, they arrive while the
 * current step computes (as image_prefetch does for train_fit's batches), though a step of the dense
 * VAE works through more data than the caches keep, and many are gone again when the batch is
 * filled (fast_vae_fill_batch then fills it on the VAE's threads). A hint: nothing changes. */
static void prefetch_batch(const idx_array *images, const size_t *index, int n)
{
    for (int i = 0; i < n; i++) vec_prefetch(images->data + index[i] * images->item_size, images->item_size);
}

/* --------------------------------------------------- forward, backward */

/* Σ log(1 + e_i) is taken as the log of the product Π (1 + e_i): one log per 784 pixels
 * (VAE_BCE_CHUNK) instead of one per pixel. Each factor lies in (1, 2], so a product of 784 of
 * them stays below 2^784, inside double's range; four products break the chain of
 * multiplications. */
enum { CHUNK = VAE_BCE_CHUNK };

double vae_bce_logits_sum(float *d_logits, const float *logits, const float *x, size_t n)
{
    double total = 0.0;
    for (size_t start = 0; start < n; start += CHUNK) {
        size_t end = start + CHUNK < n ? start + CHUNK : n;
        float linear = 0.0f;                                  /* Σ max(ℓ, 0) − ℓ x over the chunk */
        double product[4] = { 1.0, 1.0, 1.0, 1.0 };           /* Π (1 + e^−|ℓ|) */
        for (size_t i = start; i < end; i++) {
            float l = logits[i], e = expf(-fabsf(l));        /* e ∈ (0, 1]: never overflows */
            linear += (l > 0.0f ? l : 0.0f) - l * x[i];
            product[i & 3] *= 1.0 + (double)e;
            if (d_logits) d_logits[i] = (l >= 0.0f ? 1.0f : e) / (1.0f + e) - x[i];   /* sigmoid ℓ − x */
        }
        total += linear + log(product[0] * product[1] * product[2] * product[3]);
    }
    return total;
}

/* (B, 2L) → μ (B, L) and log σ² (B, L) */
static void split_encoder_output(float *mu, float *logvar, const float *out, int n, int latent)
{
    for (int b = 0; b < n; b++) {
        memcpy(mu + (size_t)b * latent, out + (size_t)b * 2 * latent, (size_t)latent * sizeof *mu);
        memcpy(logvar + (size_t)b * latent, out + (size_t)b * 2 * latent + latent, (size_t)latent * sizeof *logvar);
    }
}

static int check_batch(const vae *v, int n)
{
    if (n < 1 || n > v->cfg.max_batch)
        return AE_ERROR(AE_ESTATE, "a batch of %d does not fit a VAE built for batches of 1 to %d", n, v->cfg.max_batch);
    return AE_OK;
}

int vae_encode(vae *v, const float *x, int n, float *mu, float *logvar)
{
    int rc = check_batch(v, n);
    if (rc != AE_OK) return rc;
    v->last_batch = 0;    /* the encoder's activations no longer belong to the last vae_forward */
    const float *out;
    rc = ENGINE(model_forward)(v->encoder, x, n, &out);
    if (rc != AE_OK) return rc;
    split_encoder_output(mu, logvar, out, n, v->cfg.latent);
    return AE_OK;
}

int vae_forward(vae *v, const float *x, int n, int want_grad, elbo_terms *sum)
{
    int latent = v->cfg.latent;
    /* encoder: x → μ, log σ² */
    int rc = vae_encode(v, x, n, v->mu, v->logvar);
    if (rc != AE_OK) return rc;
    /* sampling: z = μ + σ ε, with the ε the caller put in v->eps; an autoencoder takes z = μ */
    if (v->cfg.deterministic) memcpy(v->z, v->mu, (size_t)n * (size_t)latent * sizeof *v->z);
    else sampling_forward(v->z, v->mu, v->logvar, v->eps, n, latent);
    /* decoder: z → logits */
    rc = ENGINE(model_forward)(v->decoder, v->z, n, &v->logits);
    if (rc != AE_OK) return rc;
    v->last_batch = n;

    /* reconstruction: Σ BCE = −log p(x|z), and ∂/∂logits when training */
    size_t values = (size_t)n * v->x_size;
    float *d_logits = want_grad ? v->d_logits : NULL;
    double bce = engine_plain() ? vae_bce_logits_sum(d_logits, v->logits, x, values)
                                : fast_vae_bce_logits_sum(v->decoder, d_logits, v->logits, x, values);
    /* latent loss: Σ_b KL(q(z|x_b) ‖ N(0, I)); an autoencoder has none */
    double kl = v->cfg.deterministic ? 0.0 : v->cfg.kl_forward(NULL, v->mu, v->logvar, n, latent);

    sum->recon = -bce;
    sum->kl = kl;
    sum->elbo = -bce - kl;
    return AE_OK;
}

int vae_backward(vae *v, int n)
{
    if (v->last_batch != n)
        return AE_ERROR(AE_ESTATE, "vae_backward of a batch of %d must follow vae_forward of the same batch", n);
    int latent = v->cfg.latent;
    size_t bl = (size_t)n * (size_t)latent;

    /* decoder: ∂L/∂logits → grads of the decoder and ∂L/∂z */
    ENGINE(model_zero_grad)(v->decoder);
    int rc = ENGINE(model_backward)(v->decoder, v->d_logits, n);
    if (rc != AE_OK) return rc;
    const float *d_z = v->decoder->d_input;    /* (B, L) */

    /* sampling layer: ∂L/∂μ = ∂L/∂z, ∂L/∂log σ² = ∂L/∂z ⊙ ½ σ ε */
    memset(v->d_mu, 0, bl * sizeof *v->d_mu);
    memset(v->d_logvar, 0, bl * sizeof *v->d_logvar);
    if (v->cfg.deterministic) {
        memcpy(v->d_mu, d_z, bl * sizeof *v->d_mu);     /* z = μ: ∂L/∂μ = ∂L/∂z, log σ² unused */
    } else {
        sampling_backward(v->d_mu, v->d_logvar, d_z, v->logvar, v->eps, n, latent);
        /* KL term: + β μ and + β ½ (σ² − 1) */
        v->cfg.kl_backward(v->d_mu, v->d_logvar, v->mu, v->logvar, n, latent, (float)v->cfg.beta);
    }

    /* encoder: [∂L/∂μ | ∂L/∂log σ²] → grads of the encoder */
    for (int b = 0; b < n; b++) {
        memcpy(v->d_encoder_out + (size_t)b * 2 * latent, v->d_mu + (size_t)b * latent, (size_t)latent * sizeof(float));
        memcpy(v->d_encoder_out + (size_t)b * 2 * latent + latent, v->d_logvar + (size_t)b * latent,
               (size_t)latent * sizeof(float));
    }
    ENGINE(model_zero_grad)(v->encoder);
    return ENGINE(model_backward)(v->encoder, v->d_encoder_out, n);
}

int vae_train_step(vae *v, const float *x, int n, gsl_rng *rng, elbo_terms *sum)
{
    int rc = check_batch(v, n);
    if (rc != AE_OK) return rc;
    if (!engine_plain()) model_threads_step(v->encoder);   /* on the threads or alone: the same numbers (threads.h) */
    if (!v->cfg.deterministic) sampling_draw_eps(v->eps, (size_t)n * (size_t)v->cfg.latent, rng);
    rc = vae_forward(v, x, n, 1, sum);
    if (rc != AE_OK) return rc;
    double loss = -sum->recon + v->cfg.beta * sum->kl;
    if (!isfinite(loss))
        return AE_ERROR(AE_ENUMERIC, "the VAE's loss became %g (reconstruction %g, KL %g); the step was not taken",
                        loss, -sum->recon, sum->kl);
    rc = vae_backward(v, n);
    if (rc != AE_OK) return rc;
    if (engine_plain()) {
        adam_step(v->encoder_opt, v->encoder->params, v->encoder->grads);
        adam_step(v->decoder_opt, v->decoder->params, v->decoder->grads);
    } else {                                       /* on the models' threads */
        fast_model_optimizer_step(v->encoder, v->encoder_opt);
        fast_model_optimizer_step(v->decoder, v->decoder_opt);
    }
    return AE_OK;
}

/* ------------------------------------------------------------- epochs */

static void add_terms(elbo_terms *total, const elbo_terms *t)
{
    total->recon += t->recon;
    total->kl += t->kl;
    total->elbo += t->elbo;
}

static void divide_terms(elbo_terms *out, const elbo_terms *total, double count)
{
    out->recon = total->recon / count;
    out->kl = total->kl / count;
    out->elbo = total->elbo / count;
}

/* AE_EINVAL unless the images are the size the model reads. */
static int check_images(const vae *v, const idx_array *images)
{
    if (images->item_size == v->image_size) return AE_OK;
    return AE_ERROR(AE_EINVAL, "the images hold %zu values each; this VAE reads %zu (%d channel%s of %dx%d)",
                    images->item_size, v->image_size, v->channels, v->channels == 1 ? "" : "s", v->image_side,
                    v->image_side);
}

int vae_train_epoch(vae *v, const idx_array *images, size_t *order, gsl_rng *rng,
                    vae_progress_fn progress, void *progress_ctx, elbo_terms *mean)
{
    if (check_images(v, images) != AE_OK) return AE_EINVAL;
    size_t count = images->count;
    int batch = v->cfg.max_batch;
    float *x = malloc((size_t)batch * v->x_size * sizeof *x);
    if (!x) return AE_ERROR(AE_ENOMEM, "out of memory for a training batch");
    for (size_t i = 0; i < count; i++) order[i] = i;
    shuffle_indices(order, count, rng);

    long batches = (long)((count + (size_t)batch - 1) / (size_t)batch);
    elbo_terms total = { 0, 0, 0 };
    size_t seen = 0;
    int rc = AE_OK;
    for (long b = 0; b < batches && rc == AE_OK; b++) {
        size_t start = (size_t)b * (size_t)batch;
        int n = (int)(count - start < (size_t)batch ? count - start : (size_t)batch);
        if (engine_plain()) vae_fill_batch(v, x, images, order + start, n);
        else fast_vae_fill_batch(v, x, images, order + start, n);   /* on the threads */
        const size_t next = start + (size_t)n;             /* the next batch's images, while this one trains */
        if (next < count) prefetch_batch(images, order + next, (int)(count - next < (size_t)batch ? count - next : (size_t)batch));
        elbo_terms step;
        rc = vae_train_step(v, x, n, rng, &step);
        if (rc != AE_OK) break;
        add_terms(&total, &step);
        seen += (size_t)n;
        if (progress) {
            elbo_terms running;
            divide_terms(&running, &total, (double)seen);
            progress(progress_ctx, b + 1, batches, &running);
        }
    }
    free(x);
    if (!engine_plain()) model_threads_pause(v->encoder);   /* what comes next is not a training step */
    if (rc == AE_OK) divide_terms(mean, &total, (double)seen);
    return rc;
}

int vae_evaluate(vae *v, const idx_array *images, gsl_rng *rng, elbo_terms *mean)
{
    if (check_images(v, images) != AE_OK) return AE_EINVAL;
    int batch = v->cfg.max_batch;
    float *x = malloc((size_t)batch * v->x_size * sizeof *x);
    size_t *index = malloc((size_t)batch * sizeof *index);
    if (!x || !index) {
        free(x);
        free(index);
        return AE_ERROR(AE_ENOMEM, "out of memory for an evaluation batch");
    }
    elbo_terms total = { 0, 0, 0 };
    int rc = AE_OK;
    for (size_t start = 0; start < images->count && rc == AE_OK; start += (size_t)batch) {
        int n = (int)(images->count - start < (size_t)batch ? images->count - start : (size_t)batch);
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        vae_fill_batch(v, x, images, index, n);
        if (!v->cfg.deterministic) sampling_draw_eps(v->eps, (size_t)n * (size_t)v->cfg.latent, rng);
        elbo_terms step;
        rc = vae_forward(v, x, n, 0, &step);
        if (rc == AE_OK) add_terms(&total, &step);
    }
    free(x);
    free(index);
    if (rc == AE_OK) divide_terms(mean, &total, (double)images->count);
    return rc;
}

/* ------------------------------------------------------------ decoding */

int vae_decode_logits(vae *v, const float *z, int n, const float **logits)
{
    int rc = check_batch(v, n);
    if (rc != AE_OK) return rc;
    v->last_batch = 0;    /* the decoder's activations no longer belong to the last vae_forward */
    return ENGINE(model_forward)(v->decoder, z, n, logits);
}

int vae_decode_images(vae *v, const float *z, int n, float *images)
{
    const float *logits;
    int rc = vae_decode_logits(v, z, n, &logits);
    if (rc != AE_OK) return rc;
    const int pad = v->pad, side = v->image_side;
    for (int i = 0; i < n; i++) {
        const float *planes = logits + (size_t)i * v->x_size;
        float *image = images + (size_t)i * v->image_size;
        for (int ch = 0; ch < v->channels; ch++) {
            const float *plane = planes + (size_t)ch * v->side * v->side;
            for (int y = 0; y < side; y++)
                for (int c = 0; c < side; c++) {
                    float l = plane[(y + pad) * v->side + c + pad];
                    image[((size_t)ch * side + y) * side + c] = 1.0f / (1.0f + expf(-l));   /* p = sigmoid(ℓ) */
                }
        }
    }
    return AE_OK;
}
