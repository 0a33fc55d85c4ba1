/* loss.h: reconstruction losses, each a _forward/_backward pair.
 *
 * n is the number of values compared (batch × features). A loss's forward
 * returns its value through *loss; its backward WRITES d_pred (it starts
 * the backward chain), scaled so that d_pred = ∂loss/∂pred exactly.
 *
 * BCE refuses targets outside [0,1] with AE_EDOM: with such targets
 * −[t ln p + (1−t) ln(1−p)] is no longer a divergence and can be negative.
 */
#ifndef AE_LOSS_H
#define AE_LOSS_H

#include <stddef.h>

typedef enum { REDUCE_MEAN, REDUCE_SUM } loss_reduction;

typedef enum {
    LOSS_MSE,          /* mean (pred − target)² */
    LOSS_MAE,          /* mean |pred − target| */
    LOSS_BCE,          /* binary cross-entropy on probabilities (pred clipped to [1e-7, 1 − 1e-7], as Keras does) */
    LOSS_BCE_LOGITS    /* binary cross-entropy on logits: max(x,0) − x·t + log(1 + e^−|x|) */
} loss_kind;

typedef struct {
    loss_kind kind;
    loss_reduction reduction;
} loss_spec;

#define BCE_EPSILON 1e-7f

/* L = (1/n) Σ (p − t)²;  ∂L/∂p = 2(p − t)/n */
void mse_forward(double *loss, const float *pred, const float *target, size_t n);
void mse_backward(float *d_pred, const float *pred, const float *target, size_t n);

/* L = (1/n) Σ |p − t|;  ∂L/∂p = sign(p − t)/n (0 at p = t) */
void mae_forward(double *loss, const float *pred, const float *target, size_t n);
void mae_backward(float *d_pred, const float *pred, const float *target, size_t n);

/* L = −Σ [t ln p + (1 − t) ln(1 − p)], divided by n for REDUCE_MEAN.
 * AE_EDOM if a target is outside [0,1] or is NaN. */
int bce_forward(double *loss, const float *pred, const float *target, size_t n, loss_reduction r);
/* ∂L/∂p = (p − t)/(p(1 − p)) (÷ n for mean), with p clipped as in the forward; zero where the clip is active */
int bce_backward(float *d_pred, const float *pred, const float *target, size_t n, loss_reduction r);

/* The same loss computed from logits x (p = sigmoid(x)), stable for any x.
 * ∂L/∂x = sigmoid(x) − t (÷ n for mean). */
int bce_logits_forward(double *loss, const float *logits, const float *target, size_t n, loss_reduction r);
int bce_logits_backward(float *d_logits, const float *logits, const float *target, size_t n, loss_reduction r);

/* Dispatch on spec: value into *loss, and d_pred written when it is not NULL. */
int loss_compute(loss_spec spec, double *loss, float *d_pred, const float *pred, const float *target, size_t n);
/* The same for n values that are part of a batch of `total` (a thread's share of it): a mean is
 * scaled by 1/total, so each value's gradient is the one loss_compute gives it in the whole batch's
 * call, bit for bit, and the loss is the share's part of the batch's (only summed in another order).
 * total = n is loss_compute. */
int loss_compute_share(loss_spec spec, double *loss, float *d_pred, const float *pred, const float *target, size_t n,
                       size_t total);
const char *loss_name(loss_kind kind);   /* "mse", "mae", "bce", "bce_logits" */

#endif
