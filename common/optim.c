/* optim.c: Adam and SGD over one flat parameter block (see optim.h).
 *
 * params, grads, m, v are all (n) with the same layout, so a step is a single
 * loop with no knowledge of layers. The moments m and v share one allocation.
 */
#include "optim.h"
#include "error.h"
#include "tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* An optimizer with `moments` zeroed (n)-vectors in one block (0, 1 or 2). */
static optimizer *optimizer_alloc(optimizer_kind kind, size_t n, double lr, int moments)
{
    if (n == 0) {
        AE_ERROR(AE_EINVAL, "an optimizer needs at least one parameter");
        return NULL;
    }
    if (!(lr > 0.0) || !isfinite(lr)) {
        AE_ERROR(AE_EDOM, "the learning rate must be a positive finite number, not %g", lr);
        return NULL;
    }
    optimizer *opt = calloc(1, sizeof *opt);
    if (!opt) {
        AE_ERROR(AE_ENOMEM, "out of memory for an optimizer");
        return NULL;
    }
    opt->kind = kind;
    opt->n = n;
    opt->lr = lr;
    if (moments > 0) {
        /* zeroed by writing (floats_alloc), not by calloc's untouched pages: those would each
         * take a page fault at the first step, on whichever thread updates them first, and make
         * the first step of a training run several times slower than the others */
        opt->m = floats_alloc((size_t)moments * n);
        if (!opt->m) {
            free(opt);
            AE_ERROR(AE_ENOMEM, "out of memory for the optimizer's moments (%zu floats)", (size_t)moments * n);
            return NULL;
        }
        if (moments == 2) opt->v = opt->m + n;
    }
    return opt;
}

optimizer *adam_alloc(size_t n, double lr)
{
    optimizer *opt = optimizer_alloc(OPTIM_ADAM, n, lr, 2);
    if (!opt) return NULL;
    opt->beta1 = ADAM_DEFAULT_BETA1;
    opt->beta2 = ADAM_DEFAULT_BETA2;
    opt->epsilon = ADAM_DEFAULT_EPSILON;
    return opt;
}

optimizer *sgd_alloc(size_t n, double lr, double momentum)
{
    if (!(momentum >= 0.0 && momentum < 1.0)) {
        AE_ERROR(AE_EDOM, "SGD momentum must lie in [0, 1), not %g", momentum);
        return NULL;
    }
    optimizer *opt = optimizer_alloc(OPTIM_SGD, n, lr, momentum > 0.0 ? 1 : 0);
    if (!opt) return NULL;
    opt->momentum = momentum;
    return opt;
}

void optimizer_free(optimizer *opt)
{
    if (!opt) return;
    free(opt->m);   /* v lives in the same block */
    free(opt);
}

void optimizer_reset(optimizer *opt)
{
    size_t moments = opt->v ? 2 : opt->m ? 1 : 0;
    if (moments) memset(opt->m, 0, moments * opt->n * sizeof(float));
    opt->step = 0;
}

/* Adam with α = lr·√(1−β2^t)/(1−β1^t): Keras folds both bias corrections into the step size. */
adam_constants adam_constants_at(const optimizer *opt)
{
    const double t = (double)opt->step;
    adam_constants c;
    c.alpha = (float)(opt->lr * sqrt(1.0 - pow(opt->beta2, t)) / (1.0 - pow(opt->beta1, t)));
    c.beta1 = (float)opt->beta1;
    c.beta2 = (float)opt->beta2;
    c.keep1 = (float)(1.0 - opt->beta1);
    c.keep2 = (float)(1.0 - opt->beta2);
    c.epsilon = (float)opt->epsilon;
    return c;
}

/* One parameter: m ← β1 m + (1−β1) g,  v ← β2 v + (1−β2) g²,  p ← p − α m/(√v + ε) */
static inline void adam_update(float *p, float *m, float *v, float g, const adam_constants *c)
{
    *m = c->beta1 * *m + c->keep1 * g;
    *v = c->beta2 * *v + c->keep2 * g * g;
    *p -= c->alpha * *m / (sqrtf(*v) + c->epsilon);
}

/* Adam on parameters [first, end) with the current step's constants */
static void adam_range(const optimizer *opt, float *params, const float *grads, size_t first, size_t end)
{
    const adam_constants c = adam_constants_at(opt);
    float *p = params + first, *m = opt->m + first, *v = opt->v + first;
    const float *g = grads + first;
    const size_t n = end - first;
    for (size_t i = 0; i < n; i++) adam_update(&p[i], &m[i], &v[i], g[i], &c);
}

/* SGD on parameters [first, end): v ← μ v − lr g, p ← p + v;  plain: p ← p − lr g */
static void sgd_range(const optimizer *opt, float *params, const float *grads, size_t first, size_t end)
{
    float lr = (float)opt->lr;
    float *restrict p = params;
    const float *restrict g = grads;
    if (opt->momentum > 0.0) {
        float momentum = (float)opt->momentum;
        float *restrict velocity = opt->m;
        for (size_t i = first; i < end; i++) {
            velocity[i] = momentum * velocity[i] - lr * g[i];
            p[i] += velocity[i];
        }
    } else {
        for (size_t i = first; i < end; i++) p[i] -= lr * g[i];
    }
}

void optimizer_begin_step(optimizer *opt)
{
    opt->step++;
}

void optimizer_update_range(const optimizer *opt, float *params, const float *grads, size_t first, size_t end)
{
    if (end > opt->n) end = opt->n;
    if (first >= end) return;
    if (opt->kind == OPTIM_ADAM) adam_range(opt, params, grads, first, end);
    else sgd_range(opt, params, grads, first, end);
}

void adam_step(optimizer *opt, float *params, const float *grads)
{
    optimizer_begin_step(opt);
    adam_range(opt, params, grads, 0, opt->n);
}

void sgd_step(optimizer *opt, float *params, const float *grads)
{
    optimizer_begin_step(opt);
    sgd_range(opt, params, grads, 0, opt->n);
}

void optimizer_step(optimizer *opt, float *params, const float *grads)
{
    if (opt->kind == OPTIM_ADAM) adam_step(opt, params, grads);
    else sgd_step(opt, params, grads);
}
