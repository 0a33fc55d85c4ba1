/* loss.c: reconstruction losses (see loss.h).
 *
 * Shapes: pred, target, d_pred are all (n), n = batch × features, flat.
 * Every sum is accumulated in double: a batch of 32 Fashion-MNIST images is
 * 25,088 terms, too many to add up in float without losing digits.
 *
 * loss_compute() is what training calls once per batch; it computes the value
 * and the gradient in the same pass over the data, so the training loop reads
 * pred and target once.
 */
#include "loss.h"
#include "error.h"

#include <math.h>
#include <stddef.h>

/* ------------------------------------------------------------ MSE, MAE */

/* A reduction as a factor: 1/n for the mean, 1 for the sum. */
static double reduction_scale(size_t n, loss_reduction r)
{
    return (r == REDUCE_MEAN && n) ? 1.0 / (double)n : 1.0;
}

/* L = scale · Σ (p − t)²;  ∂L/∂p = 2·scale·(p − t); d_pred may be NULL */
static void squared_error(double *loss, float *d_pred, const float *pred, const float *target, size_t n,
                          double scale)
{
    const float grad_scale = (float)(2.0 * scale);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double diff = (double)pred[i] - target[i];
        sum += diff * diff;
        if (d_pred) d_pred[i] = grad_scale * (pred[i] - target[i]);
    }
    *loss = sum * scale;
}

/* L = scale · Σ |p − t|;  ∂L/∂p = scale · sign(p − t), 0 at p = t (the subgradient TensorFlow picks) */
static void absolute_error(double *loss, float *d_pred, const float *pred, const float *target, size_t n,
                           double scale)
{
    double sum = 0.0;
    float grad_scale = (float)scale;
    for (size_t i = 0; i < n; i++) {
        float diff = pred[i] - target[i];
        sum += fabs((double)pred[i] - target[i]);
        if (d_pred) d_pred[i] = diff > 0.0f ? grad_scale : diff < 0.0f ? -grad_scale : 0.0f;
    }
    *loss = sum * scale;
}

/* L = (1/n) Σ (p − t)² */
void mse_forward(double *loss, const float *pred, const float *target, size_t n)
{
    squared_error(loss, NULL, pred, target, n, reduction_scale(n, REDUCE_MEAN));
}

/* ∂L/∂p = 2(p − t)/n */
void mse_backward(float *d_pred, const float *pred, const float *target, size_t n)
{
    float grad_scale = n ? 2.0f / (float)n : 0.0f;
    for (size_t i = 0; i < n; i++) d_pred[i] = grad_scale * (pred[i] - target[i]);
}

/* L = (1/n) Σ |p − t| */
void mae_forward(double *loss, const float *pred, const float *target, size_t n)
{
    absolute_error(loss, NULL, pred, target, n, reduction_scale(n, REDUCE_MEAN));
}

/* ∂L/∂p = sign(p − t)/n */
void mae_backward(float *d_pred, const float *pred, const float *target, size_t n)
{
    double unused;
    absolute_error(&unused, d_pred, pred, target, n, reduction_scale(n, REDUCE_MEAN));
}

/* ------------------------------------------------------------------- BCE */

/* Targets must be probabilities: t ∈ [0,1]. The test is written so that NaN fails it. */
static int check_targets(const float *target, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (!(target[i] >= 0.0f && target[i] <= 1.0f))
            return AE_ERROR(AE_EDOM,
                            "%s: target %zu is %g, but binary cross-entropy needs targets that are "
                            "probabilities in [0,1]; inputs normalised to [-1,1] would give a negative "
                            "\"loss\" (rescale them to [0,1] or use MSE)",
                            what, i, (double)target[i]);
    }
    return AE_OK;
}

/* Keras clips probabilities to [ε, 1 − ε] before taking logarithms. */
static const float bce_low = BCE_EPSILON;
static const float bce_high = 1.0f - BCE_EPSILON;

/* Value (and gradient when d_pred is not NULL) of BCE on probabilities, targets already checked.
 * L = −Σ [t ln p + (1 − t) ln(1 − p)] · scale;  ∂L/∂p = (p − t)/(p(1 − p)) · scale inside the clip, 0 outside */
static void bce_fused(double *loss, float *d_pred, const float *pred, const float *target, size_t n,
                      double scale)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        float p = pred[i];
        int clipped = !(p >= bce_low && p <= bce_high);   /* the clip's gradient is 0 outside (and NaN stays NaN in L) */
        float pc = p < bce_low ? bce_low : p > bce_high ? bce_high : p;
        double t = target[i];
        sum -= t * log((double)pc) + (1.0 - t) * log(1.0 - (double)pc);
        if (d_pred)
            d_pred[i] = clipped ? 0.0f : (float)(((double)pc - t) / ((double)pc * (1.0 - pc)) * scale);
    }
    *loss = sum * scale;
}

int bce_forward(double *loss, const float *pred, const float *target, size_t n, loss_reduction r)
{
    int rc = check_targets(target, n, "bce");
    if (rc != AE_OK) return rc;
    bce_fused(loss, NULL, pred, target, n, reduction_scale(n, r));
    return AE_OK;
}

int bce_backward(float *d_pred, const float *pred, const float *target, size_t n, loss_reduction r)
{
    int rc = check_targets(target, n, "bce");
    if (rc != AE_OK) return rc;
    double unused;
    bce_fused(&unused, d_pred, pred, target, n, reduction_scale(n, r));
    return AE_OK;
}

/* From logits x, stable for any x:
 * L = Σ [max(x,0) − x·t + ln(1 + e^−|x|)] · scale;  ∂L/∂x = (σ(x) − t) · scale */
static void bce_logits_fused(double *loss, float *d_logits, const float *logits, const float *target,
                             size_t n, double scale)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = logits[i];
        double t = target[i];
        double e = exp(-fabs(x));                 /* in (0,1]: never overflows */
        sum += fmax(x, 0.0) - x * t + log1p(e);
        if (d_logits) {
            double sigmoid = x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
            d_logits[i] = (float)((sigmoid - t) * scale);
        }
    }
    *loss = sum * scale;
}

int bce_logits_forward(double *loss, const float *logits, const float *target, size_t n, loss_reduction r)
{
    int rc = check_targets(target, n, "bce_logits");
    if (rc != AE_OK) return rc;
    bce_logits_fused(loss, NULL, logits, target, n, reduction_scale(n, r));
    return AE_OK;
}

int bce_logits_backward(float *d_logits, const float *logits, const float *target, size_t n,
                        loss_reduction r)
{
    int rc = check_targets(target, n, "bce_logits");
    if (rc != AE_OK) return rc;
    double unused;
    bce_logits_fused(&unused, d_logits, logits, target, n, reduction_scale(n, r));
    return AE_OK;
}

/* -------------------------------------------------------------- dispatch */

int loss_compute(loss_spec spec, double *loss, float *d_pred, const float *pred, const float *target, size_t n)
{
    return loss_compute_share(spec, loss, d_pred, pred, target, n, n);
}

int loss_compute_share(loss_spec spec, double *loss, float *d_pred, const float *pred, const float *target, size_t n,
                       size_t total)
{
    double scale = reduction_scale(total, spec.reduction);
    int rc;
    switch (spec.kind) {
    case LOSS_MSE:
        squared_error(loss, d_pred, pred, target, n, scale);
        return AE_OK;
    case LOSS_MAE:
        absolute_error(loss, d_pred, pred, target, n, scale);
        return AE_OK;
    case LOSS_BCE:
        rc = check_targets(target, n, "bce");
        if (rc != AE_OK) return rc;
        bce_fused(loss, d_pred, pred, target, n, scale);
        return AE_OK;
    case LOSS_BCE_LOGITS:
        rc = check_targets(target, n, "bce_logits");
        if (rc != AE_OK) return rc;
        bce_logits_fused(loss, d_pred, pred, target, n, scale);
        return AE_OK;
    }
    return AE_ERROR(AE_EINVAL, "unknown loss kind %d", (int)spec.kind);
}

const char *loss_name(loss_kind kind)
{
    switch (kind) {
    case LOSS_MSE: return "mse";
    case LOSS_MAE: return "mae";
    case LOSS_BCE: return "bce";
    case LOSS_BCE_LOGITS: return "bce_logits";
    }
    return "unknown";
}
