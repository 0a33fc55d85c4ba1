/* adam_fast.c: Adam 16 parameters at a time, the fast twin of optim.c's step.
 *
 * The plain loop does one parameter at a time: m ← β1 m + (1−β1) g, v ← β2 v + (1−β2) g²,
 * p ← p − α m/(√v + ε). Here the same float operations run in the same order (no fused
 * multiply-add), so every path gives the same floats, bit for bit (tests/test_cpu.c).
 */
#include "fast/fast.h"
#include "fast/cpu.h"
#include "optim.h"

#include <stddef.h>

/* The square root and the division make Adam the costliest loop of a small dense model's
 * step, and GCC will not vectorize sqrtf at -O2 (it may set errno). So the parameters go
 * 16 at a time through AVX-512 where the processor has it (cpu.h), else one at a time through
 * the plain loop, with exactly the plain loop's float operations in the same order (no fused
 * multiply-add): both give the same floats, bit for bit. */
#ifdef AE_AVX512_BUILD
#include <immintrin.h>

static AVX512 size_t adam_avx512(float *params, float *m, float *v, const float *grads, size_t n,
                                 const adam_constants *c)
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



void fast_optimizer_update_range(const optimizer *opt, float *params, const float *grads, size_t first, size_t end)
{
    if (end > opt->n) end = opt->n;
    if (first >= end || opt->kind != OPTIM_ADAM) {   /* SGD: the plain loop is as fast */
        optimizer_update_range(opt, params, grads, first, end);
        return;
    }
    const adam_constants c = adam_constants_at(opt);
    float *p = params + first, *m = opt->m + first, *v = opt->v + first;
    const float *g = grads + first;
    const size_t n = end - first;
    size_t i = 0;
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) i = adam_avx512(p, m, v, g, n, &c);
#endif
    optimizer_update_range(opt, params, grads, first + i, end);   /* the rest one by one */
}

void fast_optimizer_step(optimizer *opt, float *params, const float *grads)
{
    optimizer_begin_step(opt);
    fast_optimizer_update_range(opt, params, grads, 0, opt->n);
}

void fast_adam_step(optimizer *opt, float *params, const float *grads)
{
    fast_optimizer_step(opt, params, grads);
}
