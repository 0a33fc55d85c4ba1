/* loss_fast.c: the squared error's fast twin, and the loss dispatch that uses it (see loss.h);
 * the VAE's reconstruction sum (vae.h) split over a model's lanes.
 *
 * The other losses (MAE, BCE) have no twin: their plain loops serve both paths.
 */
#include "fast/fast.h"
#include "fast/cpu.h"
#include "error.h"
#include "loss.h"
#include "vae.h"
#include "fast/pool.h"
#include "fast/threads.h"

#include <stddef.h>

/* L = scale · Σ (p − t)²;  ∂L/∂p = 2·scale·(p − t); d_pred may be NULL.
 * The sum is kept in SUM_CHAINS partial sums, element i going to sum i mod SUM_CHAINS, added up
 * at the end: one running sum would make every addition wait for the one before (about four
 * cycles each, 25,088 of them per batch of model A), eight chains keep the adder busy. The order
 * is fixed, so the value is the same on every run; it differs from a single running sum only in
 * the last bits. */
enum { SUM_CHAINS = 8 };

#if defined(__x86_64__) && defined(__GNUC__)
#define LOSS_AVX512 1
#include <immintrin.h>

/* The chains eight at a time, in one register of doubles, value and gradient in one pass: element
 * i + j goes to chain j as in the plain loop, with a multiply then an add (no fused multiply-add),
 * so the sums are the same doubles bit for bit (tests/test_cpu.c). Returns how many elements it took. */
static __attribute__((target("avx512f"))) size_t squared_error_avx512(double *part, float *d_pred, const float *pred,
                                                                     const float *target, size_t n, float grad_scale)
{
    __m512d chains = _mm512_loadu_pd(part);
    const __m256 scale = _mm256_set1_ps(grad_scale);
    size_t i = 0;
    for (; i + SUM_CHAINS <= n; i += SUM_CHAINS) {
        const __m256 p = _mm256_loadu_ps(pred + i), t = _mm256_loadu_ps(target + i);
        const __m512d diff = _mm512_sub_pd(_mm512_cvtps_pd(p), _mm512_cvtps_pd(t));
        chains = _mm512_add_pd(chains, _mm512_mul_pd(diff, diff));
        if (d_pred) _mm256_storeu_ps(d_pred + i, _mm256_mul_ps(scale, _mm256_sub_ps(p, t)));
    }
    _mm512_storeu_pd(part, chains);
    return i;
}
#endif

static void chained_squared_error(double *loss, float *d_pred, const float *pred, const float *target, size_t n,
                          double scale)
{
    double part[SUM_CHAINS] = { 0.0 };
    const float grad_scale = (float)(2.0 * scale);
    size_t i = 0, done = 0;
#ifdef LOSS_AVX512
    if (cpu_has_avx512()) i = done = squared_error_avx512(part, d_pred, pred, target, n, grad_scale);
#endif
    for (; i + SUM_CHAINS <= n; i += SUM_CHAINS)
        for (int j = 0; j < SUM_CHAINS; j++) {
            double diff = (double)pred[i + j] - target[i + j];
            part[j] += diff * diff;
        }
    for (int j = 0; i < n; i++, j++) {
        double diff = (double)pred[i] - target[i];
        part[j] += diff * diff;
    }
    double sum = 0.0;
    for (int j = 0; j < SUM_CHAINS; j++) sum += part[j];
    *loss = sum * scale;
    if (!d_pred) return;
    for (i = done; i < n; i++) d_pred[i] = grad_scale * (pred[i] - target[i]);
}

int fast_loss_compute(loss_spec spec, double *loss, float *d_pred, const float *pred, const float *target, size_t n)
{
    if (spec.kind != LOSS_MSE) return loss_compute(spec, loss, d_pred, pred, target, n);
    chained_squared_error(loss, d_pred, pred, target, n, spec.reduction == REDUCE_MEAN && n ? 1.0 / (double)n : 1.0);
    return AE_OK;
}

int fast_loss_share(loss_spec spec, double *loss, float *d_pred, const float *pred, const float *target,
                    size_t n, size_t total)
{
    const int mean = spec.reduction == REDUCE_MEAN && total > 0;
    if (spec.kind == LOSS_MSE) {            /* the whole batch's scale: the same gradient bits */
        chained_squared_error(loss, d_pred, pred, target, n, mean ? 1.0 / (double)total : 1.0);
        return AE_OK;
    }
    int rc = loss_compute(spec, loss, d_pred, pred, target, n);
    if (rc == AE_OK && mean && n != total) *loss = fast_loss_scale_share(*loss, d_pred, n, n, total);
    return rc;
}

double fast_loss_scale_share(double loss, float *d_pred, size_t n, size_t part, size_t whole)
{
    const float scale = (float)part / (float)whole;
    if (d_pred) {
        size_t i = 0;
        for (; i + 16 <= n; i += 16)          /* blocks of a known length: GCC vectorizes them at -O2 */
            for (int j = 0; j < 16; j++) d_pred[i + j] *= scale;
        for (; i < n; i++) d_pred[i] *= scale;
    }
    return loss * (double)part / (double)whole;
}

int fast_loss_share_exact(loss_spec spec) { return spec.kind == LOSS_MSE || spec.reduction == REDUCE_SUM; }

/* L = (1/n) Σ (p − t)² */
void fast_mse_forward(double *loss, const float *pred, const float *target, size_t n)
{
    chained_squared_error(loss, NULL, pred, target, n, n ? 1.0 / (double)n : 1.0);
}

/* ------------------------------------------------ the VAE's reconstruction sum on the lanes
 * vae_bce_logits_sum's chunks of VAE_BCE_CHUNK values computed in the lanes of a model, and
 * added up here in the order the plain loop adds them: the same sum, bit for bit. */
enum { CHUNK = VAE_BCE_CHUNK };

typedef struct {
    float *d_logits;
    const float *logits, *x;
    size_t n, first, count;     /* n values; chunks [first, first + count) of them */
    double *sums;               /* (count) each chunk's sum */
} bce_chunks;

static void bce_lane(void *opaque, int lane, int lanes)
{
    bce_chunks *job = opaque;
    size_t c0, c1;
    pool_share(job->count, 1, lane, lanes, &c0, &c1);
    for (size_t c = c0; c < c1; c++) {
        size_t at = (job->first + c) * CHUNK, len = job->n - at < CHUNK ? job->n - at : CHUNK;
        job->sums[c] = vae_bce_logits_sum(job->d_logits ? job->d_logits + at : NULL, job->logits + at, job->x + at, len);
    }
}

double fast_vae_bce_logits_sum(model *lanes, float *d_logits, const float *logits, const float *x, size_t n)
{
    if (!model_on_threads(lanes)) return vae_bce_logits_sum(d_logits, logits, x, n);
    enum { GROUP = 256 };
    double sums[GROUP], total = 0.0;
    const size_t chunks = (n + CHUNK - 1) / CHUNK;
    for (size_t first = 0; first < chunks; first += GROUP) {
        bce_chunks job = { d_logits, logits, x, n, first, chunks - first < GROUP ? chunks - first : GROUP, sums };
        model_run_lanes(lanes, bce_lane, &job);
        for (size_t c = 0; c < job.count; c++) total += sums[c];
    }
    return total;
}
