/* test_ae_kinds.c: the six kinds of autoencoder of Task 1 (week05-task1/t1_kinds.c).
 *
 * Core: the activation slopes, row norms and active fractions against values by hand.
 * Gradient: the contractive penalty's closed form ‖J_f‖_F² = Σ_j f'(a_j)² r_j against a Jacobian
 *   taken by central differences of a plain double-precision encoder; its gradient, and the L1
 *   sparsity gradient, against central differences; Hutchinson's estimate of the whole map's
 *   ‖J_r‖_F² against the exact product diag(x̂(1 − x̂)) V diag(f') W.
 * Training: each kind, a few epochs on the bundled sample, lowers its own loss; on two threads
 *   (each step on the threads, or alone) it gives the numbers of one thread, bit for bit.
 * Limits: bad recipes, batches and sources are refused with the right code.
 * Figures: the loss terms in panels side by side (week05-task1/t1_figures.c): each panel its own
 *   y axis, log or linear, its series in the same colour everywhere, the .dat with every series;
 *   bad panels are refused and leave no file.
 * Program: bin/week05-task1 refuses bad options with status 2 and no results.tsv, and a short
 *   run of every part writes results.tsv with the numbers of (a) to (d). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/data.h"
#include "error.h"
#include "io/fileio.h"
#include "io/results.h"
#include "t1_figures.h"
#include "t1_kinds.h"
#include "fast/cpu.h"
#include "fast/threads.h"
#include "testutil.h"

enum { B = 3, IN = 6, U = 5 };

static const activation ACTS[3] = { ACT_RELU, ACT_SIGMOID, ACT_TANH };

/* f(a) and f'(a) in double, straight from the definitions. */
static double act_value(activation act, double a)
{
    switch (act) {
    case ACT_RELU: return a > 0 ? a : 0.0;
    case ACT_SIGMOID: return 1.0 / (1.0 + exp(-a));
    case ACT_TANH: return tanh(a);
    case ACT_NONE: break;
    }
    return a;
}

static double act_slope(activation act, double a)
{
    switch (act) {
    case ACT_RELU: return a > 0 ? 1.0 : 0.0;
    case ACT_SIGMOID: { double s = 1.0 / (1.0 + exp(-a)); return s * (1.0 - s); }
    case ACT_TANH: { double t = tanh(a); return 1.0 - t * t; }
    case ACT_NONE: break;
    }
    return 1.0;
}

/* A small dense encoder h = f(W x + b), in float for the functions under test. */
typedef struct {
    activation act;
    float w[U * IN];     /* (U, IN) */
    float b[U];          /* (U) */
    float x[B * IN];     /* (B, IN) */
} encoder_case;

static void encoder_case_init(encoder_case *c, activation act, unsigned long seed)
{
    gsl_rng *rng = test_rng(seed);
    c->act = act;
    fill_uniform(c->w, U * IN, -0.9, 0.9, rng);
    fill_uniform(c->b, U, -0.4, 0.4, rng);
    fill_uniform(c->x, B * IN, 0.0, 1.0, rng);
    gsl_rng_free(rng);
}

/* a = W x + b of sample s, unit j, in double from the float arrays (the test's own reference). */
static double pre_activation(const encoder_case *c, const float *x, int s, int j)
{
    double a = c->b[j];
    for (int i = 0; i < IN; i++) a += (double)c->w[j * IN + i] * x[s * IN + i];
    return a;
}

static void encode(const encoder_case *c, float *code /* (B, U) */)
{
    for (int s = 0; s < B; s++)
        for (int j = 0; j < U; j++) code[s * U + j] = (float)act_value(c->act, pre_activation(c, c->x, s, j));
}

/* ---------------------------------------------------------------- Core */

START_TEST(slopes_by_hand)
{
    /* sigmoid at h = 0.2385: h(1 − h) and 1 − 2h; tanh at h = −0.61: 1 − h², −2h */
    ck_assert_double_eq_tol(t1_activation_slope(ACT_SIGMOID, 0.2385f), 0.2385 * 0.7615, 1e-7);
    ck_assert_double_eq_tol(t1_activation_slope_derivative(ACT_SIGMOID, 0.2385f), 0.523, 1e-6);
    ck_assert_double_eq_tol(t1_activation_slope(ACT_TANH, -0.61f), 1.0 - 0.3721, 1e-6);
    ck_assert_double_eq_tol(t1_activation_slope_derivative(ACT_TANH, -0.61f), 1.22, 1e-6);
    ck_assert_float_eq(t1_activation_slope(ACT_RELU, 2.385f), 1.0f);
    ck_assert_float_eq(t1_activation_slope(ACT_RELU, 0.0f), 0.0f);
    ck_assert_float_eq(t1_activation_slope_derivative(ACT_RELU, 2.385f), 0.0f);
    ck_assert_float_eq(t1_activation_slope(ACT_NONE, -7.3f), 1.0f);
}
END_TEST

START_TEST(row_norms_and_penalty_by_hand)
{
    /* W = [[3, 4], [1.5, -2]]: r = (25, 6.25); a ReLU code (2.1, 0) has ‖J‖² = 25, (0.3, 0.7) has 31.25 */
    const float w[4] = { 3.0f, 4.0f, 1.5f, -2.0f }, code[4] = { 2.1f, 0.0f, 0.3f, 0.7f };
    float row_sq[2];
    double norm_sq[2];
    t1_weight_row_sq_norms(row_sq, w, 2, 2);
    ck_assert_double_eq_tol(row_sq[0], 25.0, 1e-6);
    ck_assert_double_eq_tol(row_sq[1], 6.25, 1e-6);
    double total = t1_contractive_forward(norm_sq, code, row_sq, ACT_RELU, 2, 2);
    ck_assert_double_eq_tol(norm_sq[0], 25.0, 1e-6);
    ck_assert_double_eq_tol(norm_sq[1], 31.25, 1e-6);
    ck_assert_double_eq_tol(total, 56.25, 1e-6);
    /* sigmoid codes 0.25 and 0.5: slopes 0.1875 and 0.25, so 0.1875²·25 + 0.25²·6.25 */
    const float sig[2] = { 0.25f, 0.5f };
    ck_assert_double_eq_tol(t1_contractive_forward(NULL, sig, row_sq, ACT_SIGMOID, 1, 2), 0.87890625 + 0.390625, 1e-6);
}
END_TEST

START_TEST(sparsity_and_active_by_hand)
{
    const float code[6] = { 0.0f, 2.385f, 0.0f, 0.114f, -0.5f, 0.0f };
    ck_assert_double_eq_tol(t1_sparsity_l1_forward(code, 6), 2.999, 1e-6);
    ck_assert_double_eq_tol(t1_active_fraction(code, 6, 0.0f), 2.0 / 6.0, 1e-12);
    ck_assert_double_eq_tol(t1_active_fraction(code, 6, 1.0f), 1.0 / 6.0, 1e-12);
    ck_assert_double_eq(t1_active_fraction(code, 0, 0.0f), 0.0);
    ck_assert_str_eq(t1_kind_name(T1_CONTRACTIVE), "contractive");
    ck_assert_str_eq(t1_kind_name(T1_BOTTLENECK), "bottleneck");
    ck_assert_int_eq(t1_recipe_default(T1_BOTTLENECK).code, 2);
    ck_assert_int_gt(t1_recipe_default(T1_OVERCOMPLETE).code, FASHION_PIXELS);
    ck_assert_int_lt(t1_recipe_default(T1_UNDERCOMPLETE).code, FASHION_PIXELS);
}
END_TEST

/* ------------------------------------------------------------ Gradient */

/* ‖J_f‖_F² in closed form against the Jacobian ∂h/∂x by central differences, for each activation. */
START_TEST(contractive_norm_matches_finite_differences)
{
    encoder_case c;
    encoder_case_init(&c, ACTS[_i], 40 + (unsigned long)_i);
    float code[B * U], row_sq[U];
    double norm_sq[B];
    encode(&c, code);
    t1_weight_row_sq_norms(row_sq, c.w, U, IN);
    t1_contractive_forward(norm_sq, code, row_sq, c.act, B, U);
    const double step = 1e-5;
    for (int s = 0; s < B; s++) {
        double numeric = 0.0;
        for (int i = 0; i < IN; i++) {
            float x_up[B * IN], x_down[B * IN];
            memcpy(x_up, c.x, sizeof x_up);
            memcpy(x_down, c.x, sizeof x_down);
            x_up[s * IN + i] += (float)step;
            x_down[s * IN + i] -= (float)step;
            double taken = (double)x_up[s * IN + i] - x_down[s * IN + i];
            for (int j = 0; j < U; j++) {
                double dh = (act_value(c.act, pre_activation(&c, x_up, s, j)) -
                             act_value(c.act, pre_activation(&c, x_down, s, j))) / taken;
                numeric += dh * dh;     /* J_ji² */
            }
        }
        ck_assert_msg(fabs(norm_sq[s] - numeric) <= 1e-3 * fmax(1.0, numeric),
                      "%s, sample %d: closed form %.8g, central differences %.8g", activation_name(c.act), s,
                      norm_sq[s], numeric);
    }
}
END_TEST

/* P(W, b) = Σ_b Σ_j f'(a_bj)² Σ_i W_ji², a = W x + b, all in double */
static double penalty_of(void *ctx)
{
    const encoder_case *c = ctx;
    double total = 0.0;
    for (int s = 0; s < B; s++)
        for (int j = 0; j < U; j++) {
            double slope = act_slope(c->act, pre_activation(c, c->x, s, j)), r = 0.0;
            for (int i = 0; i < IN; i++) r += (double)c->w[j * IN + i] * c->w[j * IN + i];
            total += slope * slope * r;
        }
    return total;
}

/* The gradient of Σ_b ‖J_f(x_b)‖_F² with respect to W and b: the part straight into W plus the
 * part through h, carried back through f the way the encoder's own backward pass does. */
START_TEST(contractive_gradient_matches_finite_differences)
{
    encoder_case c;
    encoder_case_init(&c, ACTS[_i], 60 + (unsigned long)_i);
    float code[B * U], row_sq[U], d_code[B * U], d_w[U * IN], d_b[U];
    encode(&c, code);
    t1_weight_row_sq_norms(row_sq, c.w, U, IN);
    memset(d_code, 0, sizeof d_code);
    memset(d_w, 0, sizeof d_w);
    memset(d_b, 0, sizeof d_b);
    t1_contractive_backward(d_code, d_w, code, c.w, row_sq, c.act, B, IN, U, 1.0f);
    for (int s = 0; s < B; s++)
        for (int j = 0; j < U; j++) {
            double d_pre = d_code[s * U + j] * act_slope(c.act, pre_activation(&c, c.x, s, j));   /* ∂/∂a = ∂/∂h · f'(a) */
            d_b[j] += (float)d_pre;
            for (int i = 0; i < IN; i++) d_w[j * IN + i] += (float)(d_pre * c.x[s * IN + i]);
        }
    size_t worst = 0;
    double err_w = gradcheck(penalty_of, &c, c.w, d_w, U * IN, 1e-3, 1000, &worst);
    ck_assert_msg(err_w < 2e-3, "%s: dP/dW off by %.3g at %zu", activation_name(c.act), err_w, worst);
    double err_b = gradcheck(penalty_of, &c, c.b, d_b, U, 1e-3, 1000, &worst);
    ck_assert_msg(err_b < 2e-3, "%s: dP/db off by %.3g at %zu", activation_name(c.act), err_b, worst);
    if (c.act == ACT_RELU)     /* ReLU's slope is flat: nothing goes through h */
        for (int k = 0; k < B * U; k++) ck_assert_float_eq(d_code[k], 0.0f);
}
END_TEST

typedef struct {
    float code[8];
    float scale;
} sparse_case;

static double l1_of(void *ctx)
{
    const sparse_case *c = ctx;
    double s = 0.0;
    for (int i = 0; i < 8; i++) s += fabs((double)c->code[i]);
    return c->scale * s;
}

START_TEST(sparsity_gradient_matches_finite_differences)
{
    sparse_case c = { { 0.731f, 0.0f, 2.385f, -0.214f, 0.0f, 1.06f, -1.49f, 0.052f }, 0.37f };
    float d_code[8];
    for (int i = 0; i < 8; i++) d_code[i] = 0.125f;            /* it adds */
    t1_sparsity_l1_backward(d_code, c.code, 8, c.scale);
    ck_assert_double_eq_tol(d_code[0], 0.125 + 0.37, 1e-7);
    ck_assert_double_eq_tol(d_code[1], 0.125, 1e-7);           /* an off unit gets nothing */
    ck_assert_double_eq_tol(d_code[3], 0.125 - 0.37, 1e-7);
    for (int i = 0; i < 8; i++) d_code[i] -= 0.125f;
    size_t worst = 0;
    double err = gradcheck(l1_of, &c, c.code, d_code, 8, 1e-3, 8, &worst);
    ck_assert_msg(err < 1e-4, "dL1/dh off by %.3g at %zu", err, worst);
}
END_TEST

/* Hutchinson's estimate of ‖J_r‖_F² against the exact Jacobian of x ↦ sigmoid(V f(W x + b) + c). */
START_TEST(reconstruction_jacobian_matches_exact)
{
    gsl_rng *rng = test_rng(77);
    t1_recipe r = t1_recipe_default(T1_UNDERCOMPLETE);
    r.code = 3;
    t1_autoencoder *ae = t1_autoencoder_alloc(&r, 1e-3, 4, rng);
    ck_assert_ptr_nonnull(ae);
    float x[FASHION_PIXELS];
    fill_uniform(x, FASHION_PIXELS, 0.0, 1.0, rng);
    const layer *enc = &ae->encoder->layers[0], *dec = &ae->decoder->layers[0];
    fill_uniform(enc->bias, 3, 0.1, 0.5, rng);                 /* keep the ReLU units on, away from the kink */
    /* the exact value, in double: J_r = diag(s) V diag(f') W, s = x̂(1 − x̂) */
    double h[3], slope[3], exact = 0.0;
    for (int j = 0; j < 3; j++) {
        double a = enc->bias[j];
        for (int i = 0; i < FASHION_PIXELS; i++) a += (double)enc->weight[j * FASHION_PIXELS + i] * x[i];
        h[j] = act_value(ACT_RELU, a);
        slope[j] = act_slope(ACT_RELU, a);
    }
    for (int o = 0; o < FASHION_PIXELS; o++) {
        double logit = dec->bias[o];
        for (int j = 0; j < 3; j++) logit += (double)dec->weight[o * 3 + j] * h[j];
        double out = 1.0 / (1.0 + exp(-logit)), s = out * (1.0 - out), row = 0.0;
        for (int i = 0; i < FASHION_PIXELS; i++) {
            double m = 0.0;
            for (int j = 0; j < 3; j++) m += (double)dec->weight[o * 3 + j] * slope[j] * enc->weight[j * FASHION_PIXELS + i];
            row += m * m;
        }
        exact += s * s * row;
    }
    double estimate;
    ck_assert_int_eq(t1_reconstruction_jacobian_sq(ae, x, 1, 4000, rng, &estimate), AE_OK);
    ck_assert_msg(fabs(estimate - exact) <= 0.05 * exact, "Hutchinson %.6g, exact %.6g", estimate, exact);
    t1_autoencoder_free(ae);
    gsl_rng_free(rng);
}
END_TEST

/* ------------------------------------------------------------ Training */

static double mean_loss(t1_autoencoder *ae, const batch_source *src)
{
    float x[32 * FASHION_PIXELS], y[32 * FASHION_PIXELS];
    size_t index[32];
    double total = 0.0;
    for (size_t start = 0; start < src->count; start += 32) {
        int n = (int)(src->count - start < 32 ? src->count - start : 32);
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        ck_assert_int_eq(src->fill(src->ctx, index, n, x, y), AE_OK);
        t1_loss_terms t;
        ck_assert_int_eq(t1_forward(ae, x, y, n, &t), AE_OK);
        total += t.loss * n;
    }
    return total / (double)src->count;
}

/* A kind's autoencoder with its recipe's defaults and the sample's training images as its source
 * (the first `limit` of them, 0: all), in place (src points into it); kind_run_end frees it. */
typedef struct {
    fashion_mnist fm;
    gsl_rng *rng;
    t1_recipe r;
    t1_autoencoder *ae;
    image_source_ctx ctx;
    batch_source src;
    size_t *order;              /* (src.count) for t1_train_epoch */
} kind_run;

static void kind_run_begin(kind_run *k, t1_kind kind, size_t limit, unsigned long seed)
{
    test_load_sample(&k->fm, limit);
    k->rng = test_rng(seed);
    k->r = t1_recipe_default(kind);
    k->ae = t1_autoencoder_alloc(&k->r, 1e-3, 32, k->rng);
    ck_assert_ptr_nonnull(k->ae);
    k->ctx = (image_source_ctx){ .images = &k->fm.train.images, .noise_factor = k->r.train_noise, .noise_seed = 9 };
    k->src = image_batch_source(&k->ctx);
    k->order = malloc(k->src.count * sizeof *k->order);
    ck_assert_ptr_nonnull(k->order);
}

static void kind_run_end(kind_run *k)
{
    free(k->order);
    t1_autoencoder_free(k->ae);
    gsl_rng_free(k->rng);
    fashion_mnist_free(&k->fm);
}

START_TEST(each_kind_lowers_its_loss)
{
    t1_kind kind = (t1_kind)_i;
    kind_run k;
    kind_run_begin(&k, kind, 0, 5);
    double before = mean_loss(k.ae, &k.src);
    t1_loss_terms epoch;
    for (int e = 0; e < 4; e++) ck_assert_int_eq(t1_train_epoch(k.ae, &k.src, k.order, k.rng, &epoch), AE_OK);
    double after = mean_loss(k.ae, &k.src);
    ck_assert_msg(after < 0.7 * before, "%s: loss %.5g before, %.5g after 4 epochs", t1_kind_name(kind), before, after);
    ck_assert(isfinite(epoch.mse) && epoch.mse > 0);
    if (k.r.contractive > 0) ck_assert(epoch.contractive > 0);
    if (k.r.sparsity > 0) ck_assert(epoch.sparsity > 0);
    kind_run_end(&k);
}
END_TEST

/* One epoch of a kind on the sample with `threads` threads, each step pinned to them (way 1) or
 * alone (way 0); its parameters, encoder then decoder, into params (a new array of *n). */
static float *kind_after_an_epoch(t1_kind kind, int threads, int way, size_t *n, t1_loss_terms *epoch)
{
    kind_run k;
    kind_run_begin(&k, kind, 256, 8);
    ck_assert_int_eq(t1_autoencoder_set_threads(k.ae, threads), AE_OK);
    if (threads > 1) model_threads_pin(k.ae->encoder, way);   /* the decoder shares the encoder's threads */
    ck_assert_int_eq(t1_train_epoch(k.ae, &k.src, k.order, k.rng, epoch), AE_OK);
    const size_t n_enc = model_param_count(k.ae->encoder), n_dec = model_param_count(k.ae->decoder);
    float *params = malloc((n_enc + n_dec) * sizeof *params);
    memcpy(params, k.ae->encoder->params, n_enc * sizeof *params);
    memcpy(params + n_enc, k.ae->decoder->params, n_dec * sizeof *params);
    *n = n_enc + n_dec;
    kind_run_end(&k);
    return params;
}

/* Two threads split each layer's units, so every number is summed as on one: the same parameters
 * and loss terms after an epoch, with the steps on the threads and alone. (With the AVX-512
 * kernels; a CBLAS sgemm may block a share of the units otherwise than the whole.) */
START_TEST(each_kind_on_two_threads_gives_the_same_numbers)
{
    t1_kind kind = (t1_kind)(_i / 2);
    const int way = _i % 2;
    size_t n1, n2;
    t1_loss_terms one, two;
    float *p1 = kind_after_an_epoch(kind, 1, 0, &n1, &one);
    float *p2 = kind_after_an_epoch(kind, 2, way, &n2, &two);
    ck_assert_uint_eq(n1, n2);
    if (cpu_has_avx512()) {
        ck_assert_msg(memcmp(p1, p2, n1 * sizeof *p1) == 0, "%s, two threads %s: other parameters than on one",
                      t1_kind_name(kind), way ? "on the threads" : "alone");
        ck_assert(one.loss == two.loss && one.mse == two.mse);
        ck_assert(one.contractive == two.contractive && one.sparsity == two.sparsity);
    } else {
        for (size_t i = 0; i < n1; i++) ck_assert_float_eq_tol(p1[i], p2[i], 1e-4f);
        ck_assert_double_eq_tol(one.loss, two.loss, 1e-5 * fabs(one.loss));
    }
    free(p1);
    free(p2);
}
END_TEST

START_TEST(evaluation_of_the_identity_like_case)
{
    /* with no noise the noisy source is the clean one: noisy error = clean error, no noise to pass */
    fashion_mnist fm;
    test_load_sample(&fm, 64);
    gsl_rng *rng = test_rng(6);
    t1_recipe r = t1_recipe_default(T1_UNDERCOMPLETE);
    t1_autoencoder *ae = t1_autoencoder_alloc(&r, 1e-3, 16, rng);
    image_source_ctx clean = { .images = &fm.test.images }, same = { .images = &fm.test.images };
    batch_source a = image_batch_source(&clean), b = image_batch_source(&same);
    t1_metrics m;
    ck_assert_int_eq(t1_evaluate(ae, &a, &b, 1, rng, &m), AE_OK);
    ck_assert_double_eq_tol(m.noisy_mse, m.clean_mse, 1e-12);
    ck_assert(isnan(m.noise_gain));
    ck_assert(m.jacobian > 0 && m.jacobian_sq >= m.jacobian * m.jacobian * (1 - 1e-9));   /* E‖J‖² ≥ (E‖J‖)² */
    ck_assert(m.active > 0 && m.active <= 1 && m.dead >= 0 && m.dead <= 1);
    t1_autoencoder_free(ae);
    gsl_rng_free(rng);
    fashion_mnist_free(&fm);
}
END_TEST

/* -------------------------------------------------------------- Limits */

START_TEST(bad_recipes_are_refused)
{
    gsl_rng *rng = test_rng(1);
    t1_recipe r = t1_recipe_default(T1_SPARSE);
    r.code = 0;
    ck_assert_ptr_null(t1_autoencoder_alloc(&r, 1e-3, 8, rng));
    ck_assert_int_eq(error_code(), AE_EINVAL);
    r = t1_recipe_default(T1_SPARSE);
    r.sparsity = -0.5;
    ck_assert_ptr_null(t1_autoencoder_alloc(&r, 1e-3, 8, rng));
    ck_assert_int_eq(error_code(), AE_EDOM);
    r = t1_recipe_default(T1_CONTRACTIVE);
    r.contractive = NAN;
    ck_assert_ptr_null(t1_autoencoder_alloc(&r, 1e-3, 8, rng));
    ck_assert_int_eq(error_code(), AE_EDOM);
    r = t1_recipe_default(T1_DENOISING);
    ck_assert_ptr_null(t1_autoencoder_alloc(&r, 0.0, 8, rng));
    ck_assert_int_eq(error_code(), AE_EDOM);
    ck_assert_ptr_null(t1_autoencoder_alloc(&r, 1e-3, 0, rng));
    ck_assert_int_eq(error_code(), AE_EINVAL);
    t1_autoencoder_free(NULL);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(bad_batches_and_sources_are_refused)
{
    gsl_rng *rng = test_rng(2);
    t1_recipe r = t1_recipe_default(T1_BOTTLENECK);
    t1_autoencoder *ae = t1_autoencoder_alloc(&r, 1e-3, 4, rng);
    static float x[5 * FASHION_PIXELS];
    ck_assert_int_eq(t1_forward(ae, x, x, 5, NULL), AE_ESTATE);
    ck_assert_int_eq(t1_train_step(ae, x, x, 0, NULL), AE_ESTATE);
    double sq[4];
    ck_assert_int_eq(t1_reconstruction_jacobian_sq(ae, x, 4, 0, rng, sq), AE_EINVAL);
    fashion_mnist fm;
    test_load_sample(&fm, 20);
    image_source_ctx a_ctx = { .images = &fm.test.images }, b_ctx = { .images = &fm.train.images };
    idx_truncate(&fm.train.images, 10);
    batch_source a = image_batch_source(&a_ctx), b = image_batch_source(&b_ctx);
    t1_metrics m;
    ck_assert_int_eq(t1_evaluate(ae, &a, &b, 0, rng, &m), AE_EBADLEN);
    /* a NaN target makes the loss NaN: the step is refused and nothing changes */
    float saved = ae->encoder->params[0];
    x[FASHION_PIXELS] = NAN;
    ck_assert_int_eq(t1_train_step(ae, x, x + FASHION_PIXELS, 1, NULL), AE_ENUMERIC);
    ck_assert_float_eq(ae->encoder->params[0], saved);
    fashion_mnist_free(&fm);
    t1_autoencoder_free(ae);
    gsl_rng_free(rng);
}
END_TEST

/* ------------------------------------------------------------- Figures */

/* Three series of three points (epochs 0..2): 512.5, 230.25, 215.125 nats; 2.75, 15.5, 14.25; 1.625, 7.0, 5.5 */
static const double TERMS[3][3] = { { 512.5, 230.25, 215.125 }, { 2.75, 15.5, 14.25 }, { 1.625, 7.0, 5.5 } };
static const char *const TERM_LABELS[3] = { "reconstruction", "KL", "means' part" };

START_TEST(epoch_panels_give_each_term_its_axis)
{
    const char *dir = test_tmpdir();
    const double *ys[3] = { TERMS[0], TERMS[1], TERMS[2] };
    const t1_epoch_panel panels[2] = {
        { "big terms", "nats per image", 0, 1, { 0 } },
        { "small terms", "nats per image (log scale)", 1, 2, { 1, 2 } },
    };
    ck_assert_int_eq(t1_plot_epoch_panels(dir, "terms", "the terms", 0, 3, ys, TERM_LABELS, 3, panels, 2), AE_OK);
    char path[AE_PATH_MAX];
    path_join(path, sizeof path, dir, "terms.gp");
    char *gp = test_read_text(path);
    ck_assert_ptr_nonnull(gp);
    const char *second = strstr(gp, "# panel 2");
    ck_assert_msg(strstr(gp, "set multiplot title 'the terms'") && second, "no two panels in:\n%s", gp);
    /* the first panel is linear, the second logarithmic with 1-2-5 ticks around 1.625 .. 15.5 */
    ck_assert(strstr(gp, "unset logscale y") < second);
    ck_assert(strstr(second, "set logscale y") != NULL);
    ck_assert_ptr_nonnull(strstr(second, "set ytics (1, 2, 5, 10, 20, 50, 100)"));
    /* each series drawn once, from its own column, in its own colour */
    ck_assert_ptr_nonnull(strstr(gp, "using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#1f77b4' title 'reconstruction'"));
    ck_assert_ptr_nonnull(strstr(second, "using 1:3 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#ff7f0e' title 'KL'"));
    ck_assert_ptr_nonnull(strstr(second, "using 1:4 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#2ca02c' title 'means'' part'"));
    /* epochs 0 to 2 inside the axes, not on them */
    const char *range = strstr(gp, "set xrange [");
    double lo = 0.0, hi = 0.0;
    ck_assert(range && sscanf(range, "set xrange [%lf:%lf]", &lo, &hi) == 2);
    ck_assert_msg(lo < 0.0 && hi > 2.0, "epochs 0..2 drawn on an x axis from %g to %g", lo, hi);
    free(gp);
    path_join(path, sizeof path, dir, "terms.dat");
    test_file_says(path, "# epoch\treconstruction\tKL\tmeans' part\n0\t512.5\t2.75\t1.625\n");
    test_file_says(path, "\n2\t215.125\t14.25\t5.5\n");
}
END_TEST

START_TEST(epoch_panels_refuse_bad_panels)
{
    const char *dir = test_tmpdir();
    const double *ys[3] = { TERMS[0], TERMS[1], TERMS[2] };
    const t1_epoch_panel unknown[1] = { { "a", "b", 0, 2, { 0, 3 } } };     /* series 3 of 3 */
    const t1_epoch_panel empty[2] = { { "a", "b", 0, 1, { 0 } }, { "c", "d", 1, 0, { 0 } } };
    const t1_epoch_panel good[1] = { { "a", "b", 0, 1, { 0 } } };
    ck_assert_int_eq(t1_plot_epoch_panels(dir, "terms", "t", 0, 3, ys, TERM_LABELS, 3, unknown, 1), AE_EINVAL);
    ck_assert_int_eq(t1_plot_epoch_panels(dir, "terms", "t", 0, 3, ys, TERM_LABELS, 3, empty, 2), AE_EINVAL);
    ck_assert_int_eq(t1_plot_epoch_panels(dir, "terms", "t", 0, 3, ys, TERM_LABELS, 3, good, 0), AE_EINVAL);
    ck_assert_int_eq(t1_plot_epoch_panels(dir, "terms", "t", 0, 0, ys, TERM_LABELS, 3, good, 1), AE_EINVAL);
    ck_assert(!test_file_in(dir, "terms.gp") && !test_file_in(dir, "terms.dat"));
}
END_TEST

/* ------------------------------------------------------------- Program */

START_TEST(program_refuses_bad_options)
{
    const char *dir = test_tmpdir();
    char results_path[AE_PATH_MAX];
    path_join(results_path, sizeof results_path, dir, "results.tsv");
    const char *bad[][8] = {
        { "--no-such-option", NULL },
        { "--code", "800", NULL },                  /* not undercomplete */
        { "--overcomplete-code", "500", NULL },     /* not overcomplete */
        { "--part", "everything", NULL },
        { "--sparsity", "-1", NULL },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *args[12] = { "--out", dir, "--data", sample_data_dir() };
        int n = 4;
        for (int a = 0; bad[k][a]; a++) args[n++] = bad[k][a];
        args[n] = NULL;
        ck_assert_int_eq(run_program("week05-task1", args, NULL), 2);
        ck_assert_msg(!file_exists(results_path), "results.tsv left behind after %s", bad[k][0]);
    }
}
END_TEST

START_TEST(program_short_run_writes_results)
{
    const char *dir = test_tmpdir();
    const char *args[] = { "--out", dir, "--data", sample_data_dir(), "--limit", "200", "--epochs", "1",
                           "--no-plot", "--quiet", NULL };
    ck_assert_int_eq(run_program("week05-task1", args, NULL), 0);
    char path[AE_PATH_MAX];
    path_join(path, sizeof path, dir, "results.tsv");
    results *r = NULL;
    ck_assert_int_eq(results_read(&r, path), AE_OK);
    const char *keys[] = { "kind_undercomplete_clean_mse", "kind_overcomplete_noisy_mse", "kind_contractive_jacobian",
                           "kind_sparse_active", "kind_bottleneck_code", "identity_noisy_mse",
                           "ae_latent20_test_recon", "vae_latent20_test_kl", "vae_latent2_code_prior_kl",
                           "ae_latent2_test_mse_from_mu", "vae_z1_lo", "total_seconds" };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        ck_assert_msg(results_get(r, keys[k]) != NULL, "results.tsv has no %s", keys[k]);
    ck_assert_int_eq(atoi(results_get(r, "kind_bottleneck_code")), 2);
    ck_assert_double_eq(atof(results_get(r, "ae_latent20_test_kl")), 0.0);     /* the AE's loss has no KL */
    ck_assert(atof(results_get(r, "vae_latent20_test_kl")) > 0.0);
    /* each kind is judged against always predicting the mean image: after one epoch on 200 images the
     * verdicts are the numbers', and a kind that did not learn says why */
    const double mean_mse = atof(results_get(r, "mean_image_mse"));
    ck_assert(mean_mse > 0.01 && mean_mse < 0.2);
    const char *kinds[] = { "undercomplete", "overcomplete", "denoising", "contractive", "bottleneck", "sparse" };
    for (int k = 0; k < 6; k++) {
        char key[80];
        snprintf(key, sizeof key, "kind_%s_clean_mse", kinds[k]);
        const int expected = atof(results_get(r, key)) < mean_mse;
        snprintf(key, sizeof key, "kind_%s_learned", kinds[k]);
        ck_assert_msg(results_get(r, key) && atoi(results_get(r, key)) == expected, "%s is not %d", key, expected);
        snprintf(key, sizeof key, "kind_%s_not_learned", kinds[k]);
        ck_assert(expected ? results_get(r, key) == NULL
                           : strstr(results_get(r, key), "no better than the") != NULL);
    }
    results_free(r);
}
END_TEST

Suite *ae_kinds_suite(void)
{
    Suite *s = suite_create("ae_kinds");
    test_add(test_case(s, "Core", 0), slopes_by_hand, row_norms_and_penalty_by_hand, sparsity_and_active_by_hand);

    TCase *gradient = test_case(s, "Gradient", 0);
    tcase_add_loop_test(gradient, contractive_norm_matches_finite_differences, 0, 3);
    tcase_add_loop_test(gradient, contractive_gradient_matches_finite_differences, 0, 3);
    test_add(gradient, sparsity_gradient_matches_finite_differences, reconstruction_jacobian_matches_exact);

    TCase *training = test_case(s, "Training", 60);
    tcase_add_loop_test(training, each_kind_lowers_its_loss, 0, T1_KINDS);
    tcase_add_loop_test(training, each_kind_on_two_threads_gives_the_same_numbers, 0, 2 * T1_KINDS);
    tcase_add_test(training, evaluation_of_the_identity_like_case);

    test_add(test_case(s, "Limits", 0), bad_recipes_are_refused, bad_batches_and_sources_are_refused);

    test_add(test_case(s, "Figures", 0), epoch_panels_give_each_term_its_axis, epoch_panels_refuse_bad_panels);

    test_add(test_case(s, "Program", 120), program_refuses_bad_options, program_short_run_writes_results);
    return s;
}
