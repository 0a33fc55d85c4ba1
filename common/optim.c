/* optim.c: Adam and SGD over one flat parameter block (see optim.h).
 *
 * params, grads, m, v are all (n) with the same layout, so a step is a single
 * loop with no knowledge of layers. The moments m and v share one allocation.
 */
#include "optim.h"
#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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
        opt->m = calloc((size_t)moments * n, sizeof(float));
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

/* One parameter: m ← β1 m + (1−β1) g,  v ← β2 v + (1−β2) g²,  p ← p − α m/(√v + ε) */
static inline void adam_update(float *p, float *m, float *v, float g, float beta1, float beta2,
                               float keep1, float keep2, float alpha, float epsilon)
{
    *m = beta1 * *m + keep1 * g;
    *v = beta2 * *v + keep2 * g * g;
    *p -= alpha * *m / (sqrtf(*v) + epsilon);
}

/* Adam with α = lr·√(1−β2^t)/(1−β1^t): Keras folds both bias corrections into the step size.
 *
 * The square root and the division make this loop the costliest part of a step of a
 * small dense model, and GCC will not vectorize sqrtf at -O2 (it may set errno). So on
 * x86-64 four parameters at a time go through SSE, with exactly the same float
 * operations in the same order as adam_update: the results are bit for bit the same. */
void adam_step(optimizer *opt, float *params, const float *grads)
{
    opt->step++;
    double t = (double)opt->step;
    float alpha = (float)(opt->lr * sqrt(1.0 - pow(opt->beta2, t)) / (1.0 - pow(opt->beta1, t)));
    float beta1 = (float)opt->beta1, beta2 = (float)opt->beta2;
    float keep1 = (float)(1.0 - opt->beta1), keep2 = (float)(1.0 - opt->beta2);
    float epsilon = (float)opt->epsilon;
    float *m = opt->m, *v = opt->v;
    size_t n = opt->n, i = 0;
#ifdef __SSE2__
    const __m128 beta1_4 = _mm_set1_ps(beta1), beta2_4 = _mm_set1_ps(beta2);
    const __m128 keep1_4 = _mm_set1_ps(keep1), keep2_4 = _mm_set1_ps(keep2);
    const __m128 alpha_4 = _mm_set1_ps(alpha), epsilon_4 = _mm_set1_ps(epsilon);
    for (; i + 4 <= n; i += 4) {
        __m128 g = _mm_loadu_ps(grads + i);
        __m128 m4 = _mm_add_ps(_mm_mul_ps(beta1_4, _mm_loadu_ps(m + i)), _mm_mul_ps(keep1_4, g));
        __m128 v4 = _mm_add_ps(_mm_mul_ps(beta2_4, _mm_loadu_ps(v + i)), _mm_mul_ps(_mm_mul_ps(keep2_4, g), g));
        __m128 step = _mm_div_ps(_mm_mul_ps(alpha_4, m4), _mm_add_ps(_mm_sqrt_ps(v4), epsilon_4));
        _mm_storeu_ps(m + i, m4);
        _mm_storeu_ps(v + i, v4);
        _mm_storeu_ps(params + i, _mm_sub_ps(_mm_loadu_ps(params + i), step));
    }
#endif
    for (; i < n; i++) adam_update(&params[i], &m[i], &v[i], grads[i], beta1, beta2, keep1, keep2, alpha, epsilon);
}

/* v ← μ v − lr g, p ← p + v;  plain: p ← p − lr g */
void sgd_step(optimizer *opt, float *params, const float *grads)
{
    opt->step++;
    float lr = (float)opt->lr;
    float *restrict p = params;
    const float *restrict g = grads;
    size_t n = opt->n;
    if (opt->momentum > 0.0) {
        float momentum = (float)opt->momentum;
        float *restrict velocity = opt->m;
        for (size_t i = 0; i < n; i++) {
            velocity[i] = momentum * velocity[i] - lr * g[i];
            p[i] += velocity[i];
        }
    } else {
        for (size_t i = 0; i < n; i++) p[i] -= lr * g[i];
    }
}

void optimizer_step(optimizer *opt, float *params, const float *grads)
{
    if (opt->kind == OPTIM_ADAM) adam_step(opt, params, grads);
    else sgd_step(opt, params, grads);
}
