/* optim.h: optimizers that update a flat parameter block from a gradient
 * block of the same layout (a model keeps both in one allocation each, so
 * an optimizer step is one loop).
 */
#ifndef AE_OPTIM_H
#define AE_OPTIM_H

#include <stddef.h>

typedef enum { OPTIM_ADAM, OPTIM_SGD } optimizer_kind;

typedef struct {
    optimizer_kind kind;
    size_t n;            /* parameters */
    double lr;           /* learning rate */
    double beta1, beta2; /* Adam: decay of the first and second moment estimates */
    double epsilon;      /* Adam: added to sqrt(v) */
    double momentum;     /* SGD: 0 for plain SGD */
    long step;           /* updates made so far */
    float *m;            /* (n) first moment (Adam) or velocity (SGD with momentum); one allocation with v */
    float *v;            /* (n) second moment (Adam) */
} optimizer;

/* Keras' Adam defaults: lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7. */
#define ADAM_DEFAULT_LR 1e-3
#define ADAM_DEFAULT_BETA1 0.9
#define ADAM_DEFAULT_BETA2 0.999
#define ADAM_DEFAULT_EPSILON 1e-7

/* Adam over n parameters with Keras' defaults and learning rate lr; NULL with error_message on failure. */
optimizer *adam_alloc(size_t n, double lr);
/* SGD over n parameters; momentum 0 gives plain SGD: p −= lr·g. */
optimizer *sgd_alloc(size_t n, double lr, double momentum);
void optimizer_free(optimizer *opt);   /* NULL is a no-op */
void optimizer_reset(optimizer *opt);  /* forget moments and step count */

/* Adam, as Keras computes it:
 *   m ← β1 m + (1−β1) g,  v ← β2 v + (1−β2) g²,
 *   p ← p − lr·sqrt(1−β2^t)/(1−β1^t) · m / (sqrt(v) + ε)
 * SGD: v ← μ v − lr g, p ← p + v (μ = 0: p ← p − lr g).
 * params (n), grads (n) */
void adam_step(optimizer *opt, float *params, const float *grads);
void sgd_step(optimizer *opt, float *params, const float *grads);
void optimizer_step(optimizer *opt, float *params, const float *grads);

/* The same step in parts, for threads that each update their own share of the parameters:
 *     optimizer_begin_step(opt);                                   once: counts the step
 *     optimizer_update_range(opt, params, grads, first, end);      for disjoint ranges covering [0, n)
 * gives the same floats as optimizer_step(opt, params, grads). A range past n is cut at n. */
void optimizer_begin_step(optimizer *opt);
void optimizer_update_range(const optimizer *opt, float *params, const float *grads, size_t first, size_t end);

/* The numbers of one Adam step, as floats, after optimizer_begin_step: the decays, 1 − β1 and
 * 1 − β2, α = lr·√(1−β2^t)/(1−β1^t) and ε. */
typedef struct {
    float beta1, beta2;     /* decays */
    float keep1, keep2;     /* 1 − β1, 1 − β2 */
    float alpha;            /* lr·√(1−β2^t)/(1−β1^t) */
    float epsilon;
} adam_constants;
adam_constants adam_constants_at(const optimizer *opt);

#endif
