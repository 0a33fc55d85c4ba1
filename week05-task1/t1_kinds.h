/* t1_kinds.h: the six kinds of autoencoder of Task 1a, and the two penalties that make two of them.
 *
 * Shape legend
 *   B  batch      D  pixels per image (784)      U  code units
 *
 * Every kind is the same network, one dense layer each way:
 *
 *   encoder  h = f(W x + b)         x (B, D) → h (B, U),  W (U, D), b (U), f = ReLU (or sigmoid, tanh)
 *   decoder  x̂ = sigmoid(V h + c)   h (B, U) → x̂ (B, D),  V (D, U), c (D)
 *
 * trained on the mean squared error between x̂ and the CLEAN image x, and the kinds differ
 * only in the code size U, in what goes into the encoder, and in one added penalty:
 *
 *   undercomplete  U < D                    overcomplete  U > D, nothing else
 *   bottleneck     U = 2                    denoising     x + noise in, clean x as the target
 *   contractive    + λ_c (1/B) Σ_b ‖J_f(x_b)‖_F²,  J_f(x) = ∂h/∂x = diag(f'(a)) W   (U, D)
 *   sparse         + λ_s (1/B) Σ_b Σ_j |h_bj|      (the L1 norm of the code)
 *
 * For one dense layer the Jacobian is known in closed form. Row j of J_f is f'(a_j) times row
 * j of W, so its squared Frobenius norm needs no D×U matrix at all:
 *
 *   ‖J_f(x)‖_F² = Σ_j f'(a_j)² r_j,   r_j = Σ_i W_ji²   (the squared norm of row j of W)
 *
 * For ReLU, sigmoid and tanh the slope f'(a) is a function of the output h alone
 * (f' = [h > 0], h(1 − h), 1 − h²), so the penalty is a function of h and W, and its
 * gradient splits into a part through the code, which the encoder's own backward pass
 * carries on to W, b and x, and a part straight into W:
 *
 *   ∂/∂h_j  = 2 f'(a_j) (df'/dh)(h_j) r_j      (0 for ReLU: its slope is flat in h)
 *   ∂/∂W_ji = 2 f'(a_j)² W_ji                  (at fixed h: only r_j depends on W directly)
 *
 * The maths (the penalties and their gradients) are plain functions of arrays; the training
 * (t1_autoencoder) puts them together with the library's models (model.h) and Adam (optim.h).
 */
#ifndef T1_KINDS_H
#define T1_KINDS_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

#include "model.h"
#include "optim.h"
#include "train.h"

/* ================================================================ the maths */

/* f'(a) written through the output h = f(a):
 *   ReLU [h > 0];  sigmoid h(1 − h);  tanh 1 − h²;  linear (ACT_NONE) 1. */
float t1_activation_slope(activation act, float h);
/* d f'(a)/dh through h: ReLU 0;  sigmoid 1 − 2h;  tanh −2h;  linear 0. */
float t1_activation_slope_derivative(activation act, float h);

/* r_j = Σ_i W_ji², the squared norm of each row of a dense weight.
 * row_sq (U), weight (U, D) */
void t1_weight_row_sq_norms(float *row_sq, const float *weight, int units, int in);

/* ‖J_f(x_b)‖_F² = Σ_j f'(a_bj)² r_j for every sample b, into norm_sq (may be NULL);
 * returns Σ_b ‖J_f(x_b)‖_F² in double. norm_sq (B), code (B, U), row_sq (U) */
double t1_contractive_forward(double *norm_sq, const float *code, const float *row_sq,
                              activation act, int batch, int units);

/* Adds the gradient of scale · Σ_b ‖J_f(x_b)‖_F²:
 *   d_code[b,j] += scale · 2 f'(a_bj) (df'/dh)(h_bj) r_j
 *   d_weight[j,i] += scale · 2 (Σ_b f'(a_bj)²) W_ji
 * d_code (B, U) or NULL, d_weight (U, D) or NULL, code (B, U), weight (U, D), row_sq (U) */
void t1_contractive_backward(float *d_code, float *d_weight, const float *code, const float *weight,
                             const float *row_sq, activation act, int batch, int in, int units, float scale);

/* Σ_i |h_i|, the L1 norm of n code values, in double. code (n) */
double t1_sparsity_l1_forward(const float *code, size_t n);
/* d_code += scale · sign(h)   (0 at h = 0, where ReLU codes sit when they are off)
 * d_code (n), code (n) */
void t1_sparsity_l1_backward(float *d_code, const float *code, size_t n, float scale);

/* The denoising kind's training input (io/data.h's image_corrupt_fn): x (n) becomes
 * clip(x + factor·noise, 0, 1) in place, noise (n) being N(0, 1) draws. */
void t1_corrupt(float *x, const float *noise, size_t n, float factor);

/* The fraction of the n code values above threshold: the "active" units. code (n) */
double t1_active_fraction(const float *code, size_t n, float threshold);

/* ============================================================= the six kinds */

typedef enum {
    T1_UNDERCOMPLETE,
    T1_OVERCOMPLETE,
    T1_DENOISING,
    T1_CONTRACTIVE,
    T1_BOTTLENECK,
    T1_SPARSE,
    T1_KINDS
} t1_kind;

typedef struct {
    t1_kind kind;
    int code;                /* U */
    activation encoder_act;  /* f */
    double train_noise;      /* std of the Gaussian noise on the training inputs (clipped to [0, 1]); 0: none */
    double contractive;      /* λ_c; 0: none */
    double sparsity;         /* λ_s; 0: none */
} t1_recipe;

const char *t1_kind_name(t1_kind kind);            /* "undercomplete", ... "sparse" */
/* The program's choice for each kind (sizes and penalty weights; README.md says why). */
t1_recipe t1_recipe_default(t1_kind kind);

/* What one pass of a batch cost, per image:
 * mse the mean over pixels, contractive the mean ‖J_f‖_F², sparsity the mean Σ_j |h_j|,
 * loss = mse + λ_c contractive + λ_s sparsity, the number training lowers. */
typedef struct {
    double mse, contractive, sparsity, loss;
} t1_loss_terms;

typedef struct {
    t1_recipe recipe;
    int max_batch;
    model *encoder;              /* x (B, D) → h (B, U): Dense(U, f) */
    model *decoder;              /* h (B, U) → x̂ (B, D): Dense(D, sigmoid), passing ∂L/∂h back */
    optimizer *encoder_opt, *decoder_opt;
    float *row_sq;               /* (U) r_j of the encoder's W, refreshed by every pass */
    float *d_code;               /* (B, U) ∂L/∂h */
    float *d_out;                /* (B, D) ∂L/∂x̂ */
    const float *code;           /* (B, U) the code of the last pass (owned by the encoder) */
    const float *out;            /* (B, D) the reconstruction of the last pass (owned by the decoder) */
} t1_autoencoder;

/* Builds both layers (Glorot weights from rng) and their Adam optimizers.
 * NULL with error_message for a code < 1, a batch < 1, negative weights or noise, lr <= 0. */
t1_autoencoder *t1_autoencoder_alloc(const t1_recipe *recipe, double lr, int max_batch, gsl_rng *rng);
void t1_autoencoder_free(t1_autoencoder *ae);      /* NULL is a no-op */
size_t t1_autoencoder_params(const t1_autoencoder *ae);
/* Splits every batch of both layers into `threads` lanes (model_set_threads). */
int t1_autoencoder_set_threads(t1_autoencoder *ae, int threads);

/* Encoder then decoder on x (n, D): ae->code and ae->out, and the loss terms against target
 * (n, D) into *terms (may be NULL). AE_ESTATE for n outside 1..max_batch. */
int t1_forward(t1_autoencoder *ae, const float *x, const float *target, int n, t1_loss_terms *terms);

/* One training step on input x (n, D) and clean target (n, D): forward, a check that the
 * loss is finite (AE_ENUMERIC otherwise, nothing changed), the gradients of the MSE and
 * of the penalties, and one Adam step on each layer. */
int t1_train_step(t1_autoencoder *ae, const float *x, const float *target, int n, t1_loss_terms *terms);

/* One epoch over src in a fresh shuffled order (order (src->count) is the caller's scratch),
 * batches of max_batch; *mean receives the per-image terms averaged over the epoch, as they
 * were while training. */
int t1_train_epoch(t1_autoencoder *ae, const batch_source *src, size_t *order, gsl_rng *rng,
                   t1_loss_terms *mean);

/* ‖J_r(x)‖_F² of the whole reconstruction map x ↦ x̂, J_r = diag(x̂(1 − x̂)) V diag(f'(a)) W (D, D),
 * estimated for each of n images from `probes` random sign vectors v (Hutchinson's estimator:
 * E‖J_r v‖² = ‖J_r‖_F² when the entries of v are ±1 with equal odds). Each J_r v is two matrix
 * products, the first as in the forward pass and the second through the decoder's weights.
 * The identity map has ‖J_r‖_F² = D; a projection onto k dimensions has k.
 * sq (n) receives the estimates; x (n, D). AE_EINVAL for probes < 1, AE_ESTATE for n outside
 * 1..max_batch, AE_ENOMEM. It runs a forward pass: ae->code and ae->out are then x's. */
int t1_reconstruction_jacobian_sq(t1_autoencoder *ae, const float *x, int n, int probes, gsl_rng *rng,
                                  double *sq);

/* The numbers of the Task 1a table, over every image of a source pair with the same images:
 * clean_mse    mean (x̂(x) − x)² over pixels and images
 * noisy_mse    mean (x̂(x̃) − x)², x̃ the noisy source's input (its target is the clean x)
 * noise_gain   Σ ‖x̂(x̃) − x̂(x)‖² / Σ ‖x̃ − x‖²: the share of the input noise's energy that reaches
 *              the output (1 for the identity map, 0 for a map that ignores the noise)
 * jacobian     mean over images of ‖J_f(x)‖_F, the encoder's Jacobian (the norm, not its square)
 * jacobian_sq  mean of ‖J_f(x)‖_F²
 * recon_gain   mean of ‖J_r(x)‖_F² / D, the reconstruction map's, from `probes` probes per image
 *              (1 for the identity; 0 skips it)
 * active       mean fraction of the U code units that are on (h > 0; h > 0.5 for sigmoid)
 * dead         fraction of units that are off on every image of the source
 * code_mean    mean of h over images and units (the scale of the code)
 * encoder_norm ‖W‖_F and decoder_norm ‖V‖_F: a penalty on h alone can be paid by shrinking W
 *              while V grows, which leaves x̂ unchanged; these two show whether that happened */
typedef struct {
    double clean_mse, noisy_mse, noise_gain, jacobian, jacobian_sq, recon_gain, active, dead, code_mean;
    double encoder_norm, decoder_norm;
} t1_metrics;

int t1_evaluate(t1_autoencoder *ae, const batch_source *clean, const batch_source *noisy, int probes,
                gsl_rng *rng, t1_metrics *out);

#endif
