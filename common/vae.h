/* vae.h: a variational autoencoder on images: two sequential models joined by the sampling
 * layer, its loss (the negative ELBO, term by term), its training step and epoch, and encoding
 * and decoding. vae-elbo/ builds its exercise on it; week05-task1/ trains the same layers as a
 * plain autoencoder (deterministic) and as a VAE.
 *
 * Shape legend
 *   B  batch      L  latent dimensions      D  pixels the model sees (784 or 1024)
 *
 * A VAE is two sequential models (model.h) joined by the sampling layer (sampling.h):
 *
 *   x (B, D) ─encoder─▶ (B, 2L) = [μ | log σ²] ─sampling: z = μ + σ ε─▶ z (B, L)
 *            ─decoder─▶ logits (B, D),  p(x|z) = Bernoulli(sigmoid(logits))
 *
 *   loss = Σ_batch [ BCE(x, sigmoid(logits)) summed over the D pixels + β KL(q(z|x) ‖ N(0, I)) ]
 *        = −Σ_batch ELBO  when β = 1
 *
 * The decoder ends in logits and the reconstruction uses BCE-with-logits, which is
 * the same function as sigmoid followed by BCE but stable for any logit.
 *
 * Backward reads like the diagram, right to left: the loss gives ∂L/∂logits, the
 * decoder's backward gives ∂L/∂z (it was built with model_request_input_grad), the
 * sampling layer turns that into ∂L/∂μ and ∂L/∂log σ², the KL adds its own
 * gradient, and the encoder's backward takes the pair as ∂L/∂(its output).
 *
 * With cfg.deterministic the same layers make a plain autoencoder: z = μ (no noise), no KL,
 * loss = Σ BCE; the log σ² half of the encoder's output is then unused (its gradient is 0).
 *
 * The two models:
 * - dense, as in pytorch/examples' VAE: 784 → hidden (ReLU) → 2L | L → hidden (ReLU) → 784;
 * - convolutional, the lecture's: images zero-padded to 32x32; Conv2D 32, 64, 128
 *   (3x3, stride 2, same, ReLU) → flatten → Dense 2L | Dense 2048 → reshape (128, 4, 4)
 *   → Conv2DTranspose 128, 64, 32 (3x3, stride 2, same, ReLU) → Conv2D 1 (3x3, same).
 */
#ifndef AE_VAE_H
#define AE_VAE_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

#include "io/data.h"
#include "model.h"
#include "optim.h"

/* Terms of the ELBO, in nats: recon = log p(x|z) (≤ 0), kl ≥ 0, elbo = recon − kl.
 * Per image, or summed over a batch, as the caller says. */
typedef struct {
    double recon, kl, elbo;
} elbo_terms;

/* The KL term of a batch, KL(N(μ, diag σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²) per
 * sample, into kl (B) (may be NULL); returns Σ_b KL_b in double. mu (B, L), logvar (B, L) */
typedef double (*vae_kl_forward_fn)(double *kl, const float *mu, const float *logvar, int batch, int latent);
/* Its gradient, scaled and ADDED: d_mu += scale · μ,  d_logvar += scale · ½ (σ² − 1).
 * d_mu (B, L), d_logvar (B, L), mu (B, L), logvar (B, L) */
typedef void (*vae_kl_backward_fn)(float *d_mu, float *d_logvar, const float *mu, const float *logvar,
                                   int batch, int latent, float scale);

/* The library's closed forms of the two (the types above say what they compute). */
double vae_kl_forward(double *kl, const float *mu, const float *logvar, int batch, int latent);
void vae_kl_backward(float *d_mu, float *d_logvar, const float *mu, const float *logvar,
                     int batch, int latent, float scale);

typedef enum { VAE_DENSE, VAE_CONV } vae_kind;

typedef struct {
    vae_kind kind;
    int latent;          /* L */
    int hidden;          /* dense: units of each hidden layer (400); ignored by the conv model */
    double beta;         /* weight of the KL term; 1 gives the ELBO */
    double lr;           /* Adam's learning rate */
    int max_batch;       /* largest batch the buffers hold */
    int deterministic;   /* 1: z = μ and no KL term, a plain autoencoder with these layers; 0: a VAE */
    vae_kl_forward_fn kl_forward;      /* the KL term; NULL: vae_kl_forward */
    vae_kl_backward_fn kl_backward;    /* its gradient; NULL: vae_kl_backward */
    int channels;        /* conv model: 0 or 1, Fashion-MNIST's 28x28 grey images padded to 32x32;
                            3, colour images of 32x32 (CIFAR-10), three planes R, G, B, unpadded */
} vae_config;

#define VAE_CONV_SIDE 32       /* the conv model's padded image side */
#define VAE_CONV_PAD 2         /* zero rows and columns added on every side: 28 + 2·2 = 32 */

typedef struct {
    vae_config cfg;
    int side;                  /* 28 (dense) or 32 (conv): the model's image side */
    int channels;              /* 1, or 3 for colour */
    int image_side;            /* the data's image side: 28, or 32 for colour */
    int pad;                   /* zero rows and columns around each image: VAE_CONV_PAD for Fashion-MNIST's conv model */
    size_t x_size;             /* D = channels · side² */
    size_t image_size;         /* channels · image_side²: what vae_fill_batch reads and vae_decode_images writes */
    model *encoder;            /* x (B, D) → (B, 2L) */
    model *decoder;            /* z (B, L) → logits (B, D) */
    optimizer *encoder_opt, *decoder_opt;
    float *mu, *logvar;        /* (B, L) the encoder's output, split */
    float *eps, *z;            /* (B, L) the noise of the last forward, and the sample */
    float *d_mu, *d_logvar;    /* (B, L) */
    float *d_encoder_out;      /* (B, 2L) [∂L/∂μ | ∂L/∂log σ²] */
    float *d_logits;           /* (B, D) ∂L/∂logits, written by a forward that wants gradients */
    const float *logits;       /* (B, D) the decoder's output of the last forward (owned by the decoder) */
    int last_batch;            /* batch of the last forward; 0 before any */
} vae;

/* Builds both models (Glorot weights from rng), their Adam optimizers and the buffers.
 * NULL with error_message on a bad config (latent < 1, hidden < 1, batch < 1, beta < 0,
 * lr <= 0) or no memory. */
vae *vae_alloc(const vae_config *cfg, gsl_rng *rng);
void vae_free(vae *v);                       /* NULL is a no-op */

const char *vae_kind_name(vae_kind kind);    /* "dense", "conv" */

/* Splits every batch of both models into `threads` lanes that run at once (model_set_threads);
 * the same seed and thread count give the same numbers. AE_EINVAL, AE_ENOMEM. */
int vae_set_threads(vae *v, int threads);

/* x (n, D) from images[index[i]] (index NULL: images 0..n−1), bytes / 255, zero-padded
 * to 32x32 for Fashion-MNIST's conv model. images (N, image_size) bytes. */
void vae_fill_batch(const vae *v, float *x, const idx_array *images, const size_t *index, int n);

/* One pass with the noise already in v->eps (so a test can hold ε fixed):
 * encoder, split into μ and log σ², z = μ + σ ε (z = μ when deterministic, and kl = 0), decoder. *sum receives the batch's
 * ELBO terms summed over the images. With want_grad, also writes v->d_logits for
 * vae_backward. x (n, D). AE_ESTATE for n outside 1..max_batch. */
int vae_forward(vae *v, const float *x, int n, int want_grad, elbo_terms *sum);

/* Gradients of loss = Σ_batch (BCE_sum + β KL) (Σ_batch BCE_sum when deterministic) into both
 * models' grads (zeroed first),
 * after vae_forward(..., want_grad = 1) of the same batch. */
int vae_backward(vae *v, int n);

/* One training step: fresh ε from rng (none when deterministic), forward, a check that the loss is finite
 * (AE_ENUMERIC otherwise, parameters untouched), backward, an Adam step on each model.
 * x (n, D); *sum as in vae_forward. */
int vae_train_step(vae *v, const float *x, int n, gsl_rng *rng, elbo_terms *sum);

/* Called after each training batch with the running mean per image (may be NULL). */
typedef void (*vae_progress_fn)(void *ctx, long batches_done, long batches, const elbo_terms *running);

/* One epoch over images in a fresh shuffled order (order (count) is the caller's scratch),
 * batches of cfg.max_batch. *mean receives the mean per image of the ELBO terms over the
 * epoch's batches, as they were while training. */
int vae_train_epoch(vae *v, const idx_array *images, size_t *order, gsl_rng *rng,
                    vae_progress_fn progress, void *progress_ctx, elbo_terms *mean);

/* The ELBO terms per image over every image, each with one draw z ~ q(z|x) from rng
 * (z = μ when deterministic). */
int vae_evaluate(vae *v, const idx_array *images, gsl_rng *rng, elbo_terms *mean);

/* μ and log σ² of n images. x (n, D), mu (n, L), logvar (n, L). */
int vae_encode(vae *v, const float *x, int n, float *mu, float *logvar);

/* The decoder's logits for n latent points (valid until the next decoder call). z (n, L) */
int vae_decode_logits(vae *v, const float *z, int n, const float **logits);

/* Decoded Bernoulli means p = sigmoid(logits), cropped back to 28x28 for Fashion-MNIST's conv model.
 * z (n, L), images (n, image_size) */
int vae_decode_images(vae *v, const float *z, int n, float *images);

/* Σ_i BCE(x_i, sigmoid ℓ_i) = Σ_i [max(ℓ, 0) − ℓ x + log(1 + e^−|ℓ|)] in one pass in float, and,
 * when d_logits is not NULL, d_logits = sigmoid ℓ − x. The training step's reconstruction loss:
 * the library's bce_logits computes the same in double, at twice the cost (the tests compare them).
 * logits (n), x (n) in [0, 1] (not checked), d_logits (n) or NULL */
double vae_bce_logits_sum(float *d_logits, const float *logits, const float *x, size_t n);
/* The values it takes one logarithm for: an image of Fashion-MNIST (its twin in common/fast splits
 * the sum into chunks of this size, so that both add the same terms in the same order). */
#define VAE_BCE_CHUNK 784

#endif
