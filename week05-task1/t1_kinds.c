/* t1_kinds.c: the penalties of the contractive and sparse autoencoders, and the training of
 * the six kinds (see t1_kinds.h).
 *
 * Shape legend: B batch, D pixels (784), U code units.
 */
#include "t1_kinds.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/data.h"
#include "engine.h"
#include "error.h"
#include "fast/fast.h"
#include "layers.h"
#include "loss.h"

/* ================================================================ the maths */

float t1_activation_slope(activation act, float h)
{
    switch (act) {
    case ACT_RELU: return h > 0.0f ? 1.0f : 0.0f;      /* f' = [a > 0] = [h > 0] */
    case ACT_SIGMOID: return h * (1.0f - h);           /* f' = f(1 − f) */
    case ACT_TANH: return 1.0f - h * h;                /* f' = 1 − f² */
    case ACT_NONE: break;
    }
    return 1.0f;                                        /* f(a) = a */
}

float t1_activation_slope_derivative(activation act, float h)
{
    switch (act) {
    case ACT_SIGMOID: return 1.0f - 2.0f * h;          /* d[h(1 − h)]/dh */
    case ACT_TANH: return -2.0f * h;                   /* d[1 − h²]/dh */
    case ACT_RELU:                                     /* a step: flat on both sides */
    case ACT_NONE: break;
    }
    return 0.0f;
}

void t1_weight_row_sq_norms(float *row_sq, const float *weight, int units, int in)
{
    /* BEGIN SOLUTION: Task 1a: the contractive penalty */
    for (int j = 0; j < units; j++) {
        const float *row = weight + (size_t)j * (size_t)in;
        double sum = 0.0;
        for (int i = 0; i < in; i++) sum += (double)row[i] * row[i];    /* r_j = Σ_i W_ji² */
        row_sq[j] = (float)sum;
    }
    /* END SOLUTION */
}

double t1_contractive_forward(double *norm_sq, const float *code, const float *row_sq,
                              activation act, int batch, int units)
{
    /* BEGIN SOLUTION: Task 1a: the contractive penalty */
    double total = 0.0;
    for (int b = 0; b < batch; b++) {
        const float *h = code + (size_t)b * (size_t)units;
        double sum = 0.0;
        for (int j = 0; j < units; j++) {
            double slope = t1_activation_slope(act, h[j]);
            sum += slope * slope * row_sq[j];                          /* Σ_j f'(a_j)² r_j */
        }
        if (norm_sq) norm_sq[b] = sum;
        total += sum;
    }
    return total;
    /* END SOLUTION */
}

void t1_contractive_backward(float *d_code, float *d_weight, const float *code, const float *weight,
                             const float *row_sq, activation act, int batch, int in, int units, float scale)
{
    /* BEGIN SOLUTION: Task 1a: the contractive penalty */
    if (d_code && act != ACT_RELU && act != ACT_NONE)     /* flat slopes give nothing through h */
        for (size_t k = 0; k < (size_t)batch * (size_t)units; k++) {
            float h = code[k];
            int j = (int)(k % (size_t)units);
            /* ∂/∂h of f'(h)² r_j = 2 f'(h) (df'/dh) r_j */
            d_code[k] += scale * 2.0f * t1_activation_slope(act, h) * t1_activation_slope_derivative(act, h) * row_sq[j];
        }
    if (!d_weight) return;
    for (int j = 0; j < units; j++) {
        double slope_sq = 0.0;                                         /* Σ_b f'(a_bj)² */
        for (int b = 0; b < batch; b++) {
            double slope = t1_activation_slope(act, code[(size_t)b * (size_t)units + j]);
            slope_sq += slope * slope;
        }
        if (slope_sq == 0.0) continue;
        float factor = scale * 2.0f * (float)slope_sq;                 /* ∂r_j/∂W_ji = 2 W_ji */
        const float *row = weight + (size_t)j * (size_t)in;
        float *d_row = d_weight + (size_t)j * (size_t)in;
        for (int i = 0; i < in; i++) d_row[i] += factor * row[i];
    }
    /* END SOLUTION */
}

double t1_sparsity_l1_forward(const float *code, size_t n)
{
    /* BEGIN SOLUTION: Task 1a: the sparsity penalty */
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += fabs((double)code[i]);       /* Σ |h| */
    return sum;
    /* END SOLUTION */
}

void t1_sparsity_l1_backward(float *d_code, const float *code, size_t n, float scale)
{
    /* BEGIN SOLUTION: Task 1a: the sparsity penalty */
    for (size_t i = 0; i < n; i++)
        d_code[i] += code[i] > 0.0f ? scale : code[i] < 0.0f ? -scale : 0.0f;   /* d|h|/dh = sign h */
    /* END SOLUTION */
}

void t1_corrupt(float *x, const float *noise, size_t n, float factor)
{
    /* BEGIN SOLUTION: Task 1a: the denoising autoencoder's input */
    for (size_t p = 0; p < n; p++) {
        float v = x[p] + factor * noise[p];           /* x̃ = clip(x + σ·ε, 0, 1), ε ~ N(0,1) */
        x[p] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    /* END SOLUTION */
}

double t1_active_fraction(const float *code, size_t n, float threshold)
{
    if (n == 0) return 0.0;
    size_t active = 0;
    for (size_t i = 0; i < n; i++) active += code[i] > threshold;
    return (double)active / (double)n;
}

/* ============================================================= the six kinds */

static const char *const KIND_NAMES[T1_KINDS] = {
    "undercomplete", "overcomplete", "denoising", "contractive", "bottleneck", "sparse",
};

const char *t1_kind_name(t1_kind kind)
{
    return kind >= 0 && kind < T1_KINDS ? KIND_NAMES[kind] : "unknown";
}

t1_recipe t1_recipe_default(t1_kind kind)
{
    t1_recipe r = { .kind = kind, .code = 64, .encoder_act = ACT_RELU,
                    .train_noise = 0.0, .contractive = 0.0, .sparsity = 0.0 };
    switch (kind) {
    case T1_OVERCOMPLETE: r.code = 1024; break;
    case T1_DENOISING: r.train_noise = 0.2; break;
    case T1_CONTRACTIVE: r.contractive = 1e-4; break;
    case T1_BOTTLENECK: r.code = 2; break;
    case T1_SPARSE: r.sparsity = 2e-4; break;
    case T1_UNDERCOMPLETE:
    case T1_KINDS: break;
    }
    return r;
}

/* The code value above which a unit counts as on: ReLU units are exactly 0 when off;
 * for the saturating activations, the middle of their range. */
static float active_threshold(activation act)
{
    return act == ACT_SIGMOID ? 0.5f : 0.0f;
}

void t1_autoencoder_free(t1_autoencoder *ae)
{
    if (!ae) return;
    model_free(ae->encoder);
    model_free(ae->decoder);
    optimizer_free(ae->encoder_opt);
    optimizer_free(ae->decoder_opt);
    free(ae->row_sq);
    free(ae->d_code);
    free(ae->d_out);
    free(ae);
}

t1_autoencoder *t1_autoencoder_alloc(const t1_recipe *recipe, double lr, int max_batch, gsl_rng *rng)
{
    if (recipe->code < 1) { AE_ERROR(AE_EINVAL, "a code needs at least one unit, not %d", recipe->code); return NULL; }
    if (max_batch < 1) { AE_ERROR(AE_EINVAL, "the batch must hold at least one image, not %d", max_batch); return NULL; }
    if (!(recipe->contractive >= 0.0) || !(recipe->sparsity >= 0.0) || !isfinite(recipe->contractive) ||
        !isfinite(recipe->sparsity)) {
        AE_ERROR(AE_EDOM, "penalty weights must be finite and >= 0 (contractive %g, sparsity %g)",
                 recipe->contractive, recipe->sparsity);
        return NULL;
    }
    if (!(recipe->train_noise >= 0.0) || !isfinite(recipe->train_noise)) {
        AE_ERROR(AE_EDOM, "the training noise must be finite and >= 0, not %g", recipe->train_noise);
        return NULL;
    }
    if (!(lr > 0.0) || !isfinite(lr)) { AE_ERROR(AE_EDOM, "the learning rate must be > 0, not %g", lr); return NULL; }

    t1_autoencoder *ae = calloc(1, sizeof *ae);
    if (!ae) { AE_ERROR(AE_ENOMEM, "out of memory for an autoencoder"); return NULL; }
    ae->recipe = *recipe;
    ae->max_batch = max_batch;
    ae->encoder = model_alloc(1, (int[]){ FASHION_PIXELS });
    ae->decoder = model_alloc(1, (int[]){ recipe->code });
    int rc = ae->encoder && ae->decoder ? AE_OK : AE_ENOMEM;
    if (rc == AE_OK) rc = model_add(ae->encoder, layer_dense(recipe->code, recipe->encoder_act));
    if (rc == AE_OK) rc = model_add(ae->decoder, layer_dense(FASHION_PIXELS, ACT_SIGMOID));
    if (rc == AE_OK) {
        model_request_input_grad(ae->decoder);     /* ∂L/∂h goes on into the encoder */
        rc = model_build(ae->encoder, max_batch, rng);
    }
    if (rc == AE_OK) rc = model_build(ae->decoder, max_batch, rng);
    if (rc != AE_OK) {
        t1_autoencoder_free(ae);
        return NULL;
    }
    ae->encoder_opt = adam_alloc(ae->encoder->n_params, lr);
    ae->decoder_opt = adam_alloc(ae->decoder->n_params, lr);
    ae->row_sq = calloc((size_t)recipe->code, sizeof *ae->row_sq);
    ae->d_code = calloc((size_t)max_batch * (size_t)recipe->code, sizeof *ae->d_code);
    ae->d_out = calloc((size_t)max_batch * FASHION_PIXELS, sizeof *ae->d_out);
    if (!ae->encoder_opt || !ae->decoder_opt || !ae->row_sq || !ae->d_code || !ae->d_out) {
        t1_autoencoder_free(ae);
        AE_ERROR(AE_ENOMEM, "out of memory for the autoencoder's buffers");
        return NULL;
    }
    return ae;
}

size_t t1_autoencoder_params(const t1_autoencoder *ae)
{
    return model_param_count(ae->encoder) + model_param_count(ae->decoder);
}

int t1_autoencoder_set_threads(t1_autoencoder *ae, int threads)
{
    int rc = model_set_threads(ae->encoder, threads);
    return rc == AE_OK ? model_share_threads(ae->decoder, ae->encoder) : rc;   /* the decoder on the same threads */
}

int t1_forward(t1_autoencoder *ae, const float *x, const float *target, int n, t1_loss_terms *terms)
{
    if (n < 1 || n > ae->max_batch)
        return AE_ERROR(AE_ESTATE, "a batch of %d does not fit an autoencoder built for 1 to %d", n, ae->max_batch);
    const t1_recipe *r = &ae->recipe;
    /* encoder: h = f(W x + b) */
    int rc = ENGINE(model_forward)(ae->encoder, x, n, &ae->code);
    /* decoder: x̂ = sigmoid(V h + c) */
    if (rc == AE_OK) rc = ENGINE(model_forward)(ae->decoder, ae->code, n, &ae->out);
    if (rc != AE_OK || !terms) return rc;

    double mse;
    ENGINE(mse_forward)(&mse, ae->out, target, (size_t)n * FASHION_PIXELS);
    const layer *enc = &ae->encoder->layers[0];
    terms->mse = mse;
    terms->contractive = terms->sparsity = 0.0;   /* a kind without a penalty does not compute it */
    if (r->contractive > 0) {
        t1_weight_row_sq_norms(ae->row_sq, enc->weight, r->code, FASHION_PIXELS);
        terms->contractive = t1_contractive_forward(NULL, ae->code, ae->row_sq, r->encoder_act, n, r->code) / n;
    }
    if (r->sparsity > 0) terms->sparsity = t1_sparsity_l1_forward(ae->code, (size_t)n * (size_t)r->code) / n;
    terms->loss = mse + r->contractive * terms->contractive + r->sparsity * terms->sparsity;
    return AE_OK;
}

int t1_train_step(t1_autoencoder *ae, const float *x, const float *target, int n, t1_loss_terms *terms)
{
    const t1_recipe *r = &ae->recipe;
    t1_loss_terms local;
    if (!terms) terms = &local;
    if (!engine_plain()) model_threads_step(ae->encoder);   /* on the threads or alone: the same numbers (threads.h) */
    int rc = t1_forward(ae, x, target, n, terms);
    if (rc != AE_OK) return rc;
    if (!isfinite(terms->loss))
        return AE_ERROR(AE_ENUMERIC, "the %s autoencoder's loss became %g (MSE %g); the step was not taken",
                        t1_kind_name(r->kind), terms->loss, terms->mse);

    /* decoder: ∂MSE/∂x̂ → its gradients and ∂L/∂h */
    size_t values = (size_t)n * FASHION_PIXELS, codes = (size_t)n * (size_t)r->code;
    mse_backward(ae->d_out, ae->out, target, values);
    model_zero_grad(ae->decoder);
    rc = ENGINE(model_backward)(ae->decoder, ae->d_out, n);
    if (rc != AE_OK) return rc;
    memcpy(ae->d_code, ae->decoder->d_input, codes * sizeof *ae->d_code);

    /* penalties on the code, per image: ∂/∂h of λ (1/n) Σ_b ... */
    layer *enc = &ae->encoder->layers[0];
    model_zero_grad(ae->encoder);
    if (r->sparsity > 0.0) t1_sparsity_l1_backward(ae->d_code, ae->code, codes, (float)(r->sparsity / n));
    if (r->contractive > 0.0)   /* the part through h now; the part straight into W after the backward pass */
        t1_contractive_backward(ae->d_code, NULL, ae->code, enc->weight, ae->row_sq, r->encoder_act, n,
                                FASHION_PIXELS, r->code, (float)(r->contractive / n));

    /* encoder: ∂L/∂h → ∂L/∂W, ∂L/∂b */
    rc = ENGINE(model_backward)(ae->encoder, ae->d_code, n);
    if (rc != AE_OK) return rc;
    if (r->contractive > 0.0)
        t1_contractive_backward(NULL, enc->d_weight, ae->code, enc->weight, ae->row_sq, r->encoder_act, n,
                                FASHION_PIXELS, r->code, (float)(r->contractive / n));

    if (engine_plain()) {
        adam_step(ae->encoder_opt, ae->encoder->params, ae->encoder->grads);
        adam_step(ae->decoder_opt, ae->decoder->params, ae->decoder->grads);
    } else {                                       /* on the models' threads: each lane updates its units */
        fast_model_optimizer_step(ae->encoder, ae->encoder_opt);
        fast_model_optimizer_step(ae->decoder, ae->decoder_opt);
    }
    return AE_OK;
}

int t1_train_epoch(t1_autoencoder *ae, const batch_source *src, size_t *order, gsl_rng *rng,
                   t1_loss_terms *mean)
{
    int batch = ae->max_batch;
    float *x = malloc((size_t)batch * 2 * FASHION_PIXELS * sizeof *x);
    if (!x) return AE_ERROR(AE_ENOMEM, "out of memory for a training batch");
    float *target = x + (size_t)batch * FASHION_PIXELS;
    for (size_t i = 0; i < src->count; i++) order[i] = i;
    shuffle_indices(order, src->count, rng);

    t1_loss_terms total = { 0, 0, 0, 0 };
    int rc = AE_OK;
    for (size_t start = 0; start < src->count && rc == AE_OK; start += (size_t)batch) {
        int n = (int)(src->count - start < (size_t)batch ? src->count - start : (size_t)batch);
        rc = src->fill(src->ctx, order + start, n, x, target);
        t1_loss_terms step;
        if (rc == AE_OK) rc = t1_train_step(ae, x, target, n, &step);
        if (rc != AE_OK) break;
        total.mse += step.mse * n;
        total.contractive += step.contractive * n;
        total.sparsity += step.sparsity * n;
        total.loss += step.loss * n;
    }
    free(x);
    if (!engine_plain()) model_threads_pause(ae->encoder);   /* what comes next is not a training step */
    if (rc != AE_OK) return rc;
    double count = (double)src->count;
    *mean = (t1_loss_terms){ total.mse / count, total.contractive / count, total.sparsity / count,
                             total.loss / count };
    return AE_OK;
}

int t1_reconstruction_jacobian_sq(t1_autoencoder *ae, const float *x, int n, int probes, gsl_rng *rng,
                                  double *sq)
{
    if (probes < 1) return AE_ERROR(AE_EINVAL, "the Jacobian estimate needs at least one probe, not %d", probes);
    const t1_recipe *r = &ae->recipe;
    int units = r->code;
    int rc = t1_forward(ae, x, x, n, NULL);
    if (rc != AE_OK) return rc;
    size_t values = (size_t)n * FASHION_PIXELS, codes = (size_t)n * (size_t)units;
    float *v = malloc((values * 2 + codes) * sizeof *v);
    if (!v) return AE_ERROR(AE_ENOMEM, "out of memory for the Jacobian probes");
    float *jv = v + values, *u = jv + values;
    const layer *enc = &ae->encoder->layers[0], *dec = &ae->decoder->layers[0];
    for (int b = 0; b < n; b++) sq[b] = 0.0;
    for (int p = 0; p < probes; p++) {
        for (size_t k = 0; k < values; k++) v[k] = gsl_rng_uniform_int(rng, 2) ? 1.0f : -1.0f;   /* v_i = ±1 */
        ENGINE(dense_forward)(u, v, enc->weight, NULL, n, FASHION_PIXELS, units);                    /* u = W v */
        for (size_t k = 0; k < codes; k++) u[k] *= t1_activation_slope(r->encoder_act, ae->code[k]);   /* ⊙ f'(a) */
        ENGINE(dense_forward)(jv, u, dec->weight, NULL, n, units, FASHION_PIXELS);                   /* V u */
        for (int b = 0; b < n; b++) {
            double sum = 0.0;
            for (int i = 0; i < FASHION_PIXELS; i++) {
                size_t k = (size_t)b * FASHION_PIXELS + (size_t)i;
                double o = ae->out[k], component = o * (1.0 - o) * jv[k];                     /* ⊙ x̂(1 − x̂) */
                sum += component * component;
            }
            sq[b] += sum / probes;
        }
    }
    free(v);
    return AE_OK;
}

/* Σ w², in double. w (n) */
static double frobenius_sq(const float *w, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)w[i] * w[i];
    return sum;
}

/* The running sums of t1_evaluate. */
typedef struct {
    double clean_se, noisy_se, noise_in, noise_out, jac, jac_sq, recon_sq, active, code_sum;
} eval_sums;

int t1_evaluate(t1_autoencoder *ae, const batch_source *clean, const batch_source *noisy, int probes,
                gsl_rng *rng, t1_metrics *out)
{
    if (clean->count != noisy->count || clean->count == 0)
        return AE_ERROR(AE_EBADLEN, "the clean and noisy sources must hold the same images (%zu and %zu)",
                        clean->count, noisy->count);
    const t1_recipe *r = &ae->recipe;
    int batch = ae->max_batch, units = r->code;
    size_t bd = (size_t)batch * FASHION_PIXELS;
    float *buf = malloc(bd * 4 * sizeof *buf);       /* clean x, its target, noisy x̃, clean x̂ */
    size_t *index = malloc((size_t)batch * sizeof *index);
    double *norm_sq = malloc((size_t)batch * sizeof *norm_sq);
    unsigned char *ever_on = calloc((size_t)units, 1);
    if (!buf || !index || !norm_sq || !ever_on) {
        free(buf);
        free(index);
        free(norm_sq);
        free(ever_on);
        return AE_ERROR(AE_ENOMEM, "out of memory for an evaluation batch");
    }
    float *x = buf, *target = buf + bd, *noisy_x = buf + 2 * bd, *clean_out = buf + 3 * bd;
    float threshold = active_threshold(r->encoder_act);
    eval_sums s = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    int rc = AE_OK;
    for (size_t start = 0; start < clean->count && rc == AE_OK; start += (size_t)batch) {
        int n = (int)(clean->count - start < (size_t)batch ? clean->count - start : (size_t)batch);
        size_t values = (size_t)n * FASHION_PIXELS, codes = (size_t)n * (size_t)units;
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        /* clean images: reconstruction error, the encoder's Jacobian, the code */
        rc = clean->fill(clean->ctx, index, n, x, target);
        if (rc == AE_OK) rc = t1_forward(ae, x, target, n, NULL);
        if (rc != AE_OK) break;
        double mse;
        ENGINE(mse_forward)(&mse, ae->out, target, values);
        s.clean_se += mse * (double)values;
        memcpy(clean_out, ae->out, values * sizeof *clean_out);
        t1_weight_row_sq_norms(ae->row_sq, ae->encoder->layers[0].weight, units, FASHION_PIXELS);
        s.jac_sq += t1_contractive_forward(norm_sq, ae->code, ae->row_sq, r->encoder_act, n, units);
        for (int b = 0; b < n; b++) s.jac += sqrt(norm_sq[b]);
        s.active += t1_active_fraction(ae->code, codes, threshold) * (double)codes;
        for (size_t k = 0; k < codes; k++) {
            s.code_sum += ae->code[k];
            if (ae->code[k] > threshold) ever_on[k % (size_t)units] = 1;
        }
        /* the same images with noise: how much of it comes through */
        rc = noisy->fill(noisy->ctx, index, n, noisy_x, target);
        if (rc == AE_OK) rc = t1_forward(ae, noisy_x, target, n, NULL);
        if (rc != AE_OK) break;
        ENGINE(mse_forward)(&mse, ae->out, target, values);
        s.noisy_se += mse * (double)values;
        for (size_t k = 0; k < values; k++) {
            double d_in = (double)noisy_x[k] - x[k], d_out = (double)ae->out[k] - clean_out[k];
            s.noise_in += d_in * d_in;
            s.noise_out += d_out * d_out;
        }
        /* the reconstruction map's Jacobian at the clean images */
        if (probes > 0) {
            rc = t1_reconstruction_jacobian_sq(ae, x, n, probes, rng, norm_sq);
            for (int b = 0; b < n && rc == AE_OK; b++) s.recon_sq += norm_sq[b];
        }
    }
    if (rc == AE_OK) {
        double images = (double)clean->count, values = images * FASHION_PIXELS, codes = images * units;
        size_t dead = 0;
        for (int j = 0; j < units; j++) dead += !ever_on[j];
        *out = (t1_metrics){ .clean_mse = s.clean_se / values, .noisy_mse = s.noisy_se / values,
                             .noise_gain = s.noise_in > 0 ? s.noise_out / s.noise_in : NAN,
                             .jacobian = s.jac / images, .jacobian_sq = s.jac_sq / images,
                             .recon_gain = probes > 0 ? s.recon_sq / images / FASHION_PIXELS : NAN,
                             .active = s.active / codes, .dead = (double)dead / units,
                             .code_mean = s.code_sum / codes };
        const layer *enc = &ae->encoder->layers[0], *dec = &ae->decoder->layers[0];
        out->encoder_norm = sqrt(frobenius_sq(enc->weight, enc->n_weight));
        out->decoder_norm = sqrt(frobenius_sq(dec->weight, dec->n_weight));
    }
    free(buf);
    free(index);
    free(norm_sq);
    free(ever_on);
    return rc;
}
