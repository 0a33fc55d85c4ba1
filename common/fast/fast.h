/* fast.h: the fast twins of common/'s plain functions, and how the layer table reaches them.
 *
 * Each twin has its plain function's name with "fast_" in front and computes the same thing
 * (tests/test_fast.c checks each against its plain function, forward and backward, on random
 * shapes, odd ones included). The convolutions' twins take one argument more, a workspace of
 * fast_*_workspace_floats() floats, which a model plans once. Which of the two runs is the
 * engine's choice (engine.h): the twins by default, the plain functions with --plain.
 */
#ifndef AE_FAST_H
#define AE_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "layer.h"
#include "layers.h"
#include "loss.h"
#include "optim.h"
#include "train.h"
#include "fast/threads.h"   /* fast_model_forward, fast_model_backward */
#include "vae.h"

/* ---------------------------------------- dense: two matrix products (dense_gemm.c) */
void fast_dense_forward(float *out, const float *in, const float *weight, const float *bias,
                        int batch, int in_features, int out_features);
void fast_dense_backward(float *d_in, float *d_weight, float *d_bias,
                         const float *d_out, const float *in, const float *weight,
                         int batch, int in_features, int out_features);
/* The same, with d_in and d_weight each added to (β = 1, as above) or overwritten (β = 0) by its
 * product; d_bias is added to. With the AVX-512 kernels, β = 0 gives the bits of β = 1 over a cleared
 * array: their sums begin from +0 and so are never −0, and 0 + s = s (gemm.h). */
void fast_dense_backward_beta(float *d_in, float beta_in, float *d_weight, float beta_weight, float *d_bias,
                              const float *d_out, const float *in, const float *weight,
                              int batch, int in_features, int out_features);

/* ---- convolutions: computed in place for 3×3 with few channels (conv_direct.c), otherwise
 * a few large matrix products per chunk (conv_taps.c) */
/* Floats of scratch space for a batch of `batch`; a workspace sized for B serves every batch up to B. */
size_t fast_conv2d_workspace_floats(const conv_geom *g, int batch);
size_t fast_conv2d_transpose_workspace_floats(const conv_geom *g, int batch);
void fast_conv2d_forward(float *out, const float *in, const float *weight, const float *bias,
                         float *work, const conv_geom *g, int batch);
void fast_conv2d_backward(float *d_in, float *d_weight, float *d_bias,
                          const float *d_out, const float *in, const float *weight,
                          float *work, const conv_geom *g, int batch);
void fast_conv2d_transpose_forward(float *out, const float *in, const float *weight, const float *bias,
                                   float *work, const conv_geom *g, int batch);
void fast_conv2d_transpose_backward(float *d_in, float *d_weight, float *d_bias,
                                    const float *d_out, const float *in, const float *weight,
                                    float *work, const conv_geom *g, int batch);

/* A convolution's fused activation backwards, sample by sample: d_pre (B, channels, pixels) =
 * f'(pre) ⊙ d_out, written (as clearing d_pre and running activation_backward on it), and, when
 * d_bias is not NULL, d_bias (channels) += Σ d_pre over samples and pixels, summed as the
 * convolutions' fast backward sums it: the same bits as the three passes apart, with d_pre still
 * in the cache for the sum. 0 (nothing done) above CONV_FUSED_MAX_CHANNELS channels. */
#define CONV_FUSED_MAX_CHANNELS 512
int fast_conv_activation_backward(activation act, float *d_pre, float *d_bias, const float *d_out,
                                  const float *pre, const float *out, int batch, int channels, size_t pixels);
/* A conv2d or conv2d_transpose layer's fast forward (the table's) into pre (B, out_size), with
 * out (B, out_size) = max(0, pre) as fast_relu_forward computes it, written on the way; with
 * pre = out, only max(0, ·) is kept. */
void fast_conv_layer_forward_relu(const layer *l, float *pre, float *out, const float *in, float *work, int batch);
/* A conv2d or conv2d_transpose layer's fast backward (the table's) with d_in (B, in_size) or NULL
 * written rather than added to: the same floats as clearing it and adding. With gate (B, in_size)
 * not NULL, the output of a ReLU below, d_in is written as 0 + (gate > 0 ? d_in : 0): the
 * gradient through that ReLU, as fast_conv_activation_backward writes it, in the same pass when
 * fast_conv_layer_gates(l) (conv_direct.c's kernels), in a pass after otherwise. */
void fast_conv_layer_backward_set(const layer *l, float *d_in, float *d_weight, float *d_bias,
                                  const float *d_out, const float *in, const float *gate, float *work, int batch);
/* 1 when fast_conv_layer_backward_set takes its gate in the pass that writes d_in (the layer fits
 * conv_direct.c's kernels and AVX-512 is in use) */
int fast_conv_layer_gates(const layer *l);
/* How many samples at a time the layer's weight gradient is summed over (conv_direct.c's kernels:
 * direct_weight_chunk), or 0 when its passes are not those kernels */
int fast_conv_layer_weight_chunk(const layer *l);
/* d_bias (channels) += Σ d_pre (B, channels, pixels) over samples and pixels: the sum a
 * convolution's fast backward makes of its d_out, in the order fast_conv_activation_backward sums
 * it (so a layer whose d_pre the layer above wrote gets the bias gradient the fused pass would give) */
void fast_conv_bias_backward(float *d_bias, const float *d_pre, int batch, int channels, size_t pixels);
/* The same in two steps, for samples that come a few at a time: sums (channels, 8), zero at first,
 * += each channel's running sums over d_pre (B, channels, pixels), sample by sample; then d_bias
 * (channels) += the total of each channel's sums. The same floats as fast_conv_bias_backward over
 * all the samples at once. */
void fast_conv_bias_sums(float (*sums)[8], const float *d_pre, int batch, int channels, size_t pixels);
void fast_conv_bias_sums_total(float *d_bias, const float (*sums)[8], int channels);

/* ----------------------------------------- element-wise, 16 floats at a time (vector.c) */
void fast_relu_forward(float *out, const float *in, size_t n);
void fast_relu_backward(float *d_in, const float *d_out, const float *in, size_t n);
/* d_in = d_out · [x > 0] written rather than added, and d_bias (n, or NULL) += d_in: the floats of
 * clearing d_in, fast_relu_backward and adding d_in to d_bias, in one pass */
void fast_relu_backward_set(float *d_in, float *d_bias, const float *d_out, const float *in, size_t n);
void fast_sigmoid_forward(float *out, const float *in, size_t n);
void fast_sigmoid_backward(float *d_in, const float *d_out, const float *out, size_t n);
/* d_in = d_out · f(1 − f) written rather than added (f the forward's output), and d_bias (n, or
 * NULL) += d_in: the floats of clearing d_in, fast_sigmoid_backward and adding d_in to d_bias */
void fast_sigmoid_backward_set(float *d_in, float *d_bias, const float *d_out, const float *out, size_t n);
void fast_bytes_to_unit(float *x, const uint8_t *bytes, size_t n);   /* twin of io/data.c's bytes_to_unit */

/* ---------------------------------- losses: the squared error in eight chains (loss_fast.c) */
int fast_loss_compute(loss_spec spec, double *loss, float *d_pred, const float *pred, const float *target, size_t n);
void fast_mse_forward(double *loss, const float *pred, const float *target, size_t n);
/* The loss of n values that are part of a batch of `total` (a thread's share): the twin of
 * loss_compute_share, the squared error in eight chains. Each value's gradient is the one
 * fast_loss_compute gives it in the whole batch's call, bit for bit, for every loss (only the
 * loss's sum runs in another order). */
int fast_loss_share(loss_spec spec, double *loss, float *d_pred, const float *pred, const float *target,
                    size_t n, size_t total);
/* fast_loss_share, and for BCE each value's term of the loss kept in terms (n), or NULL: the terms
 * of a whole batch, its shares scored apart, give the batch's loss with fast_loss_sum_terms (n the
 * batch's values), the one loss_compute gives, bit for bit. For other losses terms is not used. */
int fast_loss_share_terms(loss_spec spec, double *loss, float *d_pred, double *terms, const float *pred,
                          const float *target, size_t n, size_t total);
double fast_loss_sum_terms(loss_spec spec, const double *terms, size_t n);
/* fast_loss_share_terms' gradients (and BCE's terms), and instead of the loss whether it is
 * finite (*finite 1): for the squared error without summing it (see loss_fast.c), for the other
 * losses from the sum. For a thread whose share's loss only tells whether the batch's is finite. */
int fast_loss_share_finite(loss_spec spec, int *finite, float *d_pred, double *terms, const float *pred,
                           const float *target, size_t n, size_t total);
/* A mean over n values (and its gradient d_pred, or NULL) as a share of a mean over more: times
 * part/whole, the gradient by the float part/whole. */
double fast_loss_scale_share(double loss, float *d_pred, size_t n, size_t part, size_t whole);
/* vae_bce_logits_sum (vae.h) with its chunks of VAE_BCE_CHUNK values computed in the lanes of the
 * model `lanes` (the VAE's decoder): the same sum, bit for bit, and the same d_logits (or NULL). */
double fast_vae_bce_logits_sum(model *lanes, float *d_logits, const float *logits, const float *x, size_t n);
/* vae_fill_batch (vae.h) with each of the VAE's threads filling its share of the images (vae_fast.c):
 * the same x. */
void fast_vae_fill_batch(vae *v, float *x, const idx_array *images, const size_t *index, int n);
/* 1 when its chunks run sixteen values at a time (AVX-512, and an expf in those steps found to give
 * the bits of this program's libm expf), 0 when the plain loop computes them. */
int fast_expf_same_bits(void);
/* 1 when that vector expf gives expf's bits for each of x[0 .. n) (n a multiple of 16); 0 when one
 * differs or the vector loop is not used. For the tests. */
int fast_expf_check(const float *x, size_t n);

/* -------------------------------------------- Adam, 16 parameters at a time (adam_fast.c) */
void fast_optimizer_update_range(const optimizer *opt, float *params, const float *grads, size_t first, size_t end);
void fast_optimizer_step(optimizer *opt, float *params, const float *grads);
void fast_adam_step(optimizer *opt, float *params, const float *grads);

/* ------------------------------------------- the walks through a model's layers (model_fast.c) */
/* model_forward_rows (model.h) with each convolution's ReLU written with its output
 * (fast_conv_layer_forward_relu), and its linear output not kept (l->pre is left as it was: the
 * backward walk below reads ReLU's output instead, positive exactly where the linear output is):
 * the same arguments, the same outputs. */
void fast_model_forward_rows(model *m, const float *x, int first, int count, float *work);
/* model_forward on this thread, through fast_model_forward_rows */
int fast_model_forward_here(model *m, const float *x, int batch, const float **y);
/* model_backward_rows (model.h) with each convolution's fused activation and bias gradient in one
 * pass (fast_conv_activation_backward) and its input gradient written, not cleared and added to
 * (fast_conv_layer_backward_set), through the ReLU of a convolution right below it and into that
 * layer's d_pre when its input-gradient pass is one of conv_direct.c's kernels
 * (fast_conv_layer_gates): the same arguments, the same numbers, but that layer's d_out, which is
 * not written. After fast_model_forward_rows only (a convolution with a ReLU has no linear output
 * kept). */
void fast_model_backward_rows(model *m, const float *x, const float *d_y, int first, int count, float *grads,
                              float *work);
/* model_backward on this thread, through fast_model_backward_rows */
int fast_model_backward_here(model *m, const float *d_y, int batch);
/* model_zero_grad and fast_model_backward_here in one: m->grads written, not cleared and added to
 * (a dense layer's weight gradient is its product's β = 0, with the bits of β = 1 over zeros; the
 * other gradients are cleared just before the walk adds into them): the same numbers, one pass over
 * the dense weights' gradients fewer. */
int fast_model_backward_fresh(model *m, const float *d_y, int batch);
/* How many samples at a time the two walks above take of `count` rows: count, or fewer when every
 * layer is a convolution on conv_direct.c's kernels (the fewest samples any of them sums its
 * weight gradient over at a time, fast_conv_layer_weight_chunk); the same outputs and gradients,
 * bit for bit, either way. fast_model_walk_chunk_force(n) makes it n instead (tests; 0: as above). */
int fast_model_walk_chunk(const model *m, int count);
void fast_model_walk_chunk_force(int samples);

/* ---------------------- training: threads, prefetching, the kernels above (train_fast.c) */
int fast_train_fit(model *m, optimizer *opt, loss_spec loss, const batch_source *train, const batch_source *val,
                   const train_config *cfg, gsl_rng *rng, train_history *history);
int fast_evaluate_loss(model *m, loss_spec loss, const batch_source *src, double *mean_loss);

/* ------------------------------------------------------------- the table's columns */
void fast_dense_layer_forward(const layer *l, float *out, const float *in, float *work, int batch);
/* A dense layer with a fused ReLU (layer_has_fused_activation): pre = in · Wᵀ + b (B, OUT) and
 * out = max(pre, 0) (B, OUT) in one pass over the product (gemm_bias_relu): the same floats as the
 * layer's forward into pre and the ReLU's after it. */
void fast_dense_layer_forward_relu(const layer *l, float *pre, float *out, const float *in, int batch);
void fast_dense_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                               const float *d_out, const float *in, const float *out, float *work, int batch);
size_t fast_conv2d_layer_workspace(const layer *l, int batch);
void fast_conv2d_layer_forward(const layer *l, float *out, const float *in, float *work, int batch);
void fast_conv2d_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                                const float *d_out, const float *in, const float *out, float *work, int batch);
size_t fast_conv2d_transpose_layer_workspace(const layer *l, int batch);
void fast_conv2d_transpose_layer_forward(const layer *l, float *out, const float *in, float *work, int batch);
void fast_conv2d_transpose_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                                          const float *d_out, const float *in, const float *out, float *work,
                                          int batch);
void fast_relu_backward_op(float *d_in, const float *d_out, const float *in, const float *out, size_t n);
void fast_sigmoid_backward_op(float *d_in, const float *d_out, const float *in, const float *out, size_t n);

#endif
