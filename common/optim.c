/* optim.c: Adam and SGD over one flat parameter block (see optim.h).
 *
 * params, grads, m, v are all (n) with the same layout, so a step is a single
 * loop with no knowledge of layers. The moments m and v share one allocation.
 */
#include "optim.h"
#include "fast/cpu.h"
#include "error.h"

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

/* The numbers of one Adam step, as floats. */
typedef struct {
    float beta1, beta2;     /* decays */
    float keep1, keep2;     /* 1 − β1, 1 − β2 */
    float alpha;            /* lr·√(1−β2^t)/(1−β1^t) */
    float epsilon;
} adam_constants;

/* Adam with α = lr·√(1−β2^t)/(1−β1^t): Keras folds both bias corrections into the step size. */
static adam_constants adam_constants_at(const optimizer *opt)
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

/* The square root and the division make Adam the costliest loop of a small dense model's
 * step, and GCC will not vectorize sqrtf at -O2 (it may set errno). So the parameters go
 * 16 at a time through AVX-512 where the processor has it (cpu.h), else 4 at a time through
 * SSE2 on any x86-64, with exactly the float operations of adam_update in the same order
 * (no fused multiply-add): every path gives the same floats, bit for bit. */
#if defined(__x86_64__) && defined(__GNUC__)
#define OPTIM_AVX512 1
#include <immintrin.h>

static __attribute__((target("avx512f"))) size_t adam_avx512(float *params, float *m, float *v, const float *grads,
                                                             size_t n, const adam_constants *c)
{
    const __m512 beta1 = _mm512_set1_ps(c->beta1), beta2 = _mm512_set1_ps(c->beta2);
    const __m512 keep1 = _mm512_set1_ps(c->keep1), keep2 = _mm512_set1_ps(c->keep2);
    const __m512 alpha = _mm512_set1_ps(c->alpha), epsilon = _mm512_set1_ps(c->epsilon);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 g = _mm512_loadu_ps(grads + i);
        const __m512 m16 = _mm512_add_ps(_mm512_mul_ps(beta1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(keep1, g));
        const __m512 v16 = _mm512_add_ps(_mm512_mul_ps(beta2, _mm512_loadu_ps(v + i)),
                                         _mm512_mul_ps(_mm512_mul_ps(keep2, g), g));
        const __m512 step = _mm512_div_ps(_mm512_mul_ps(alpha, m16), _mm512_add_ps(_mm512_sqrt_ps(v16), epsilon));
        _mm512_storeu_ps(m + i, m16);
        _mm512_storeu_ps(v + i, v16);
        _mm512_storeu_ps(params + i, _mm512_sub_ps(_mm512_loadu_ps(params + i), step));
    }
    return i;   /* the rest go one by one */
}
#endif

#ifdef __SSE2__
#include <emmintrin.h>

static size_t adam_sse2(float *params, float *m, float *v, const float *grads, size_t n, const adam_constants *c)
{
    const __m128 beta1 = _mm_set1_ps(c->beta1), beta2 = _mm_set1_ps(c->beta2);
    const __m128 keep1 = _mm_set1_ps(c->keep1), keep2 = _mm_set1_ps(c->keep2);
    const __m128 alpha = _mm_set1_ps(c->alpha), epsilon = _mm_set1_ps(c->epsilon);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m128 g = _mm_loadu_ps(grads + i);
        const __m128 m4 = _mm_add_ps(_mm_mul_ps(beta1, _mm_loadu_ps(m + i)), _mm_mul_ps(keep1, g));
        const __m128 v4 = _mm_add_ps(_mm_mul_ps(beta2, _mm_loadu_ps(v + i)), _mm_mul_ps(_mm_mul_ps(keep2, g), g));
        const __m128 step = _mm_div_ps(_mm_mul_ps(alpha, m4), _mm_add_ps(_mm_sqrt_ps(v4), epsilon));
        _mm_storeu_ps(m + i, m4);
        _mm_storeu_ps(v + i, v4);
        _mm_storeu_ps(params + i, _mm_sub_ps(_mm_loadu_ps(params + i), step));
    }
    return i;
}
#endif

/* Adam on parameters [first, end) with the current step's constants */
static void adam_range(const optimizer *opt, float *params, const float *grads, size_t first, size_t end)
{
    const adam_constants c = adam_constants_at(opt);
    float *p = params + first, *m = opt->m + first, *v = opt->v + first;
    const float *g = grads + first;
    const size_t n = end - first;
    size_t i = 0;
#ifdef OPTIM_AVX512
    if (cpu_has_avx512()) i = adam_avx512(p, m, v, g, n, &c);
#endif
#ifdef __SSE2__
    if (i == 0) i = adam_sse2(p, m, v, g, n, &c);
#endif
    for (; i < n; i++) adam_update(&p[i], &m[i], &v[i], g[i], &c);
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
