/* loss_fast.c: the squared error's fast twin, and the loss dispatch that uses it (see loss.h);
 * the VAE's reconstruction sum (vae.h) split over a model's lanes.
 *
 * The other losses (MAE, BCE) have no twin: their plain loops serve both paths; BCE's per-value
 * terms, for a batch whose loss is added up after its threads have scored their shares, below.
 */
#include "fast/fast.h"
#include "fast/cpu.h"
#include "error.h"
#include "loss.h"
#include "vae.h"
#include "fast/pool.h"
#include "fast/threads.h"

#include <math.h>
#include <stddef.h>

/* L = scale · Σ (p − t)²;  ∂L/∂p = 2·scale·(p − t); d_pred may be NULL.
 * The sum is kept in SUM_CHAINS partial sums, element i going to sum i mod SUM_CHAINS, added up
 * at the end: one running sum would make every addition wait for the one before (about four
 * cycles each, 25,088 of them per batch of model A), eight chains keep the adder busy. The order
 * is fixed, so the value is the same on every run; it differs from a single running sum only in
 * the last bits. */
enum { SUM_CHAINS = 8 };

#ifdef AE_AVX512_BUILD
#include <immintrin.h>

/* The chains eight at a time, in one register of doubles, value and gradient in one pass: element
 * i + j goes to chain j as in the plain loop, with a multiply then an add (no fused multiply-add),
 * so the sums are the same doubles bit for bit (tests/test_cpu.c). Returns how many elements it took. */
static AVX512 size_t squared_error_avx512(double *part, float *d_pred, const float *pred, const float *target,
                                          size_t n, float grad_scale)
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
#ifdef AE_AVX512_BUILD
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
    if (spec.kind == LOSS_MSE) {            /* the whole batch's scale: the same gradient bits */
        const int mean = spec.reduction == REDUCE_MEAN && total > 0;
        chained_squared_error(loss, d_pred, pred, target, n, mean ? 1.0 / (double)total : 1.0);
        return AE_OK;
    }
    return loss_compute_share(spec, loss, d_pred, pred, target, n, total);   /* the plain loop, scaled as the whole */
}

/* ------------------------------------------------ BCE's terms, for a batch split over threads
 * loss.c's bce_fused adds −[t ln p + (1 − t) ln(1 − p)] for each value in turn, and the two
 * logarithms are most of its time. When the threads of a model split by units each score their
 * columns, the batch's loss would have to be computed again on one thread to be summed in that
 * order; instead each share keeps its values' terms, and the sum runs over them afterwards, in the
 * whole batch's order: the same loss, bit for bit, with no logarithm left on one thread. The same
 * expressions as bce_fused, in double (no contraction: -std=c11), so the same terms and gradients. */
static const float bce_low = BCE_EPSILON;
static const float bce_high = 1.0f - BCE_EPSILON;

int fast_loss_share_terms(loss_spec spec, double *loss, float *d_pred, double *terms, const float *pred,
                          const float *target, size_t n, size_t total)
{
    if (spec.kind != LOSS_BCE || !terms) return fast_loss_share(spec, loss, d_pred, pred, target, n, total);
    for (size_t i = 0; i < n; i++)       /* a target that is no probability: the plain loop's error */
        if (!(target[i] >= 0.0f && target[i] <= 1.0f)) return loss_compute_share(spec, loss, d_pred, pred, target, n, total);
    const double scale = spec.reduction == REDUCE_MEAN && total ? 1.0 / (double)total : 1.0;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        float p = pred[i];
        int clipped = !(p >= bce_low && p <= bce_high);
        float pc = p < bce_low ? bce_low : p > bce_high ? bce_high : p;
        double t = target[i];
        double term = t * log((double)pc) + (1.0 - t) * log(1.0 - (double)pc);
        terms[i] = term;
        sum -= term;
        if (d_pred) d_pred[i] = clipped ? 0.0f : (float)(((double)pc - t) / ((double)pc * (1.0 - pc)) * scale);
    }
    *loss = sum * scale;
    return AE_OK;
}

/* ------------------------------------------------ a share's gradient, and whether its loss is finite
 * A thread of a batch split by output columns needs its values' gradients and to know whether the
 * batch's loss will be finite; the loss itself is summed afterwards over the whole output, in one
 * thread's order. For the squared error that is known without the sum: (p − t)² of two finite
 * floats, in double, is at most about 4.6e77, so the sum of any batch's is finite, and one value
 * that is infinite or NaN makes it infinite or NaN. So the share's values are only looked at (x − x
 * is +0 for a finite x, NaN otherwise), and the eight chains of additions, most of the time of a
 * short row, are left to the whole batch's call. The gradients are the same floats: the float
 * difference times the same float scale. */
#ifdef AE_AVX512_BUILD
/* Returns how many values it took (a multiple of 16), *bad any bit set when one was not finite */
static AVX512 size_t mse_grad_avx512(float *d_pred, const float *pred, const float *target, size_t n, float grad_scale,
                                     int *bad)
{
    const __m512 scale = _mm512_set1_ps(grad_scale);
    __m512i nonfinite = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 p = _mm512_loadu_ps(pred + i), t = _mm512_loadu_ps(target + i);
        nonfinite = _mm512_or_si512(nonfinite, _mm512_castps_si512(_mm512_sub_ps(p, p)));
        nonfinite = _mm512_or_si512(nonfinite, _mm512_castps_si512(_mm512_sub_ps(t, t)));
        if (d_pred) _mm512_storeu_ps(d_pred + i, _mm512_mul_ps(scale, _mm512_sub_ps(p, t)));
    }
    *bad = _mm512_test_epi32_mask(nonfinite, nonfinite) != 0;
    return i;
}
#endif

int fast_loss_share_finite(loss_spec spec, int *finite, float *d_pred, double *terms, const float *pred,
                           const float *target, size_t n, size_t total)
{
    if (spec.kind != LOSS_MSE) {
        double loss;
        const int rc = fast_loss_share_terms(spec, &loss, d_pred, terms, pred, target, n, total);
        *finite = rc == AE_OK && isfinite(loss);
        return rc;
    }
    const double scale = spec.reduction == REDUCE_MEAN && total > 0 ? 1.0 / (double)total : 1.0;
    const float grad_scale = (float)(2.0 * scale);   /* chained_squared_error's */
    int bad = 0;
    size_t i = 0;
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512()) i = mse_grad_avx512(d_pred, pred, target, n, grad_scale, &bad);
#endif
    for (; i < n; i++) {
        bad |= !isfinite(pred[i]) || !isfinite(target[i]);
        if (d_pred) d_pred[i] = grad_scale * (pred[i] - target[i]);
    }
    *finite = !bad;
    return AE_OK;
}

double fast_loss_sum_terms(loss_spec spec, const double *terms, size_t n)
{
    const double scale = spec.reduction == REDUCE_MEAN && n ? 1.0 / (double)n : 1.0;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum -= terms[i];
    return sum * scale;
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

/* L = (1/n) Σ (p − t)² */
void fast_mse_forward(double *loss, const float *pred, const float *target, size_t n)
{
    chained_squared_error(loss, NULL, pred, target, n, n ? 1.0 / (double)n : 1.0);
}

/* ------------------------------------------------ the VAE's reconstruction sum on the lanes
 * vae_bce_logits_sum's chunks of VAE_BCE_CHUNK values computed in the lanes of a model (or on this
 * thread, sixteen values at a time), and added up here in the order the plain loop adds them: the
 * same sum, bit for bit. */
enum { CHUNK = VAE_BCE_CHUNK };

typedef struct {
    float *d_logits;
    const float *logits, *x;
    size_t n, first, count;     /* n values; chunks [first, first + count) of them */
    double *sums;               /* (count) each chunk's sum */
} bce_chunks;

#ifdef AE_AVX512_BUILD
/* ---- the same chunks sixteen values at a time
 * The plain loop spends most of its time in expf, one call per value. expf_avx512 below takes the
 * steps of glibc's expf (sysdeps/ieee754/flt-32/e_expf.c, built with fused multiply-adds as
 * Debian's libm runs it on this processor) on eight doubles at a time: x·32/ln 2 rounded to an
 * integer k and a rest r, 2^(k/32) from a table of 32 entries, 2^(r/32) from a cubic. Each
 * operation is an IEEE one, rounded as in the scalar code, so the result is the same float bit
 * for bit; the table is 2^(i/32) in long double, rounded to double. Values at or beyond ±88
 * (underflow, overflow, infinities, NaN) go to expf itself. expf_probe checks the whole
 * construction against the libm this program runs with, on a walk through the floats in
 * [−104, 0] and around the thresholds; if one value differs, the vector loop is not used (another
 * libm computes expf its own way) and every chunk goes to vae_bce_logits_sum, as before. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t exp_table[32];      /* bits of 2^(i/32) minus i·2^47 (the exponent k adds back) */
static int expf_avx512_same;        /* 1 when expf_probe found every value equal to expf's */
static pthread_once_t expf_once = PTHREAD_ONCE_INIT;

/* e^x of eight floats widened to doubles, in expf's steps; lanes at or beyond ±88 are wrong
 * here and replaced by the caller */
static inline AVX512 __m256 expf_avx512_8(__m256 xf, const __m512i t[4])
{
    const __m512d inv_ln2_n = _mm512_set1_pd(0x1.71547652b82fep+5);     /* 32 / ln 2 */
    const __m512d shift = _mm512_set1_pd(0x1.8p+52);                    /* rounds to an integer */
    const __m512d c0 = _mm512_set1_pd(0x1.c6af84b912394p-20), c1 = _mm512_set1_pd(0x1.ebfce50fac4f3p-13),
                  c2 = _mm512_set1_pd(0x1.62e42ff0c52d6p-6);             /* 2^(r/32) ≈ c0 r³ + c1 r² + c2 r + 1 */
    const __m512d x = _mm512_cvtps_pd(xf);
    __m512d kd = _mm512_fmadd_pd(inv_ln2_n, x, shift);
    const __m512i ki = _mm512_castpd_si512(kd);
    kd = _mm512_sub_pd(kd, shift);
    const __m512d r = _mm512_fmsub_pd(inv_ln2_n, x, kd);
    /* t[ki mod 32]: two 16-entry look-ups, chosen by bit 4 */
    const __m512i low = _mm512_permutex2var_epi64(t[0], ki, t[1]), high = _mm512_permutex2var_epi64(t[2], ki, t[3]);
    const __mmask8 upper = _mm512_test_epi64_mask(ki, _mm512_set1_epi64(16));
    const __m512i bits = _mm512_add_epi64(_mm512_mask_blend_epi64(upper, low, high), _mm512_slli_epi64(ki, 47));
    const __m512d s = _mm512_castsi512_pd(bits);
    const __m512d z = _mm512_fmadd_pd(r, c0, c1), r2 = _mm512_mul_pd(r, r);
    __m512d y = _mm512_fmadd_pd(r, c2, _mm512_set1_pd(1.0));
    y = _mm512_fmadd_pd(z, r2, y);
    return _mm512_cvtpd_ps(_mm512_mul_pd(y, s));
}

/* e^x of sixteen floats, the same bits as expf */
static inline AVX512 __m512 expf_avx512(__m512 x, const __m512i t[4])
{
    const __m256 lo = expf_avx512_8(_mm512_castps512_ps256(x), t);
    const __m256 hi = expf_avx512_8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)), t);
    __m512 e = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
    const __m512i abs_bits = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff));
    const __mmask16 far = _mm512_cmpge_epu32_mask(abs_bits, _mm512_set1_epi32(0x42b00000));   /* |x| ≥ 88 */
    if (far) {
        float xs[16], es[16];
        _mm512_storeu_ps(xs, x);
        _mm512_storeu_ps(es, e);
        for (int j = 0; j < 16; j++)
            if (far >> j & 1) es[j] = expf(xs[j]);
        e = _mm512_loadu_ps(es);
    }
    return e;
}

static AVX512 void load_table(__m512i t[4])
{
    for (int q = 0; q < 4; q++) t[q] = _mm512_loadu_si512(exp_table + 8 * q);
}

static AVX512 int expf_avx512_matches(const float *x, size_t n)
{
    __m512i t[4];
    load_table(t);
    for (size_t i = 0; i + 16 <= n; i += 16) {
        float e[16];
        _mm512_storeu_ps(e, expf_avx512(_mm512_loadu_ps(x + i), t));
        for (int j = 0; j < 16; j++)
            if (memcmp(&e[j], &(float){ expf(x[i + j]) }, sizeof(float)) != 0) return 0;
    }
    return 1;
}

static void expf_probe(void)
{
    for (int i = 0; i < 32; i++) {
        double v = (double)exp2l(i / 32.0L);
        uint64_t b;
        memcpy(&b, &v, sizeof b);
        exp_table[i] = b - ((uint64_t)i << 47);
    }
    enum { PROBES = 1 << 20 };      /* about 5 ms, once */
    float *x = malloc(PROBES * sizeof *x);
    if (!x) return;                 /* not checked: not used */
    const uint32_t lowest = 0xc2d00000u;          /* −104, below expf's underflow */
    for (uint32_t i = 0; i < PROBES; i++) {
        uint32_t b = i < PROBES - 64 ? 0x80000000u + (uint32_t)((uint64_t)i * (lowest - 0x80000000u) / (PROBES - 64) + i % 7)
                                     : 0xc2b00000u - 32 + (i - (PROBES - 64));      /* either side of −88 */
        memcpy(&x[i], &b, sizeof b);
    }
    expf_avx512_same = expf_avx512_matches(x, PROBES);
    free(x);
}

int fast_expf_same_bits(void)
{
    if (!cpu_has_avx512()) return 0;
    pthread_once(&expf_once, expf_probe);
    return expf_avx512_same;
}

int fast_expf_check(const float *x, size_t n) { return fast_expf_same_bits() && expf_avx512_matches(x, n); }

/* Chunks [first, first + count) of vae_bce_logits_sum's, each chunk's sum into sums: its loop
 * sixteen values at a time, every rounding as there. The terms of Σ max(ℓ, 0) − ℓx are kept, and
 * added up in the plain loop's order after the chunks of a group, BCE_GROUP running sums side by
 * side (one alone would wait four cycles for each addition); the four products Π (1 + e) take
 * their factors in the same order, four lanes of one register. */
enum { BCE_GROUP = 8 };
_Static_assert(BCE_GROUP == 8, "bce_chunks_avx512 adds the eight sums of a group as one register of eight floats");

static AVX512 void bce_chunks_avx512(double *sums, float *d_logits, const float *logits, const float *x,
                                     size_t n, size_t first, size_t count)
{
    __m512i t[4];
    load_table(t);
    static _Thread_local float terms[BCE_GROUP][CHUNK];
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    for (size_t g = 0; g < count; g += BCE_GROUP) {
        const size_t chunks = count - g < BCE_GROUP ? count - g : BCE_GROUP;
        double logs[BCE_GROUP];
        size_t lens[BCE_GROUP];
        for (size_t k = 0; k < chunks; k++) {
            const size_t at = (first + g + k) * CHUNK, len = n - at < CHUNK ? n - at : CHUNK;
            __m256d product = _mm256_set1_pd(1.0);          /* product[j]: the factors of i ≡ j mod 4 */
            for (size_t i = 0; i < len; i += 16) {
                const __mmask16 m = len - i >= 16 ? 0xffff : (__mmask16)((1u << (len - i)) - 1);
                const __m512 l = _mm512_maskz_loadu_ps(m, logits + at + i), xi = _mm512_maskz_loadu_ps(m, x + at + i);
                const __m512 nabs = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(l), sign));   /* −|ℓ| */
                const __m512 e = expf_avx512(nabs, t);
                _mm512_mask_storeu_ps(terms[k] + i, m, _mm512_sub_ps(_mm512_max_ps(l, zero), _mm512_mul_ps(l, xi)));
                if (d_logits) {     /* (ℓ ≥ 0 ? 1 : e) / (1 + e) − x */
                    const __mmask16 nonneg = _mm512_cmp_ps_mask(l, zero, _CMP_GE_OQ);
                    const __m512 q = _mm512_div_ps(_mm512_mask_blend_ps(nonneg, e, one), _mm512_add_ps(one, e));
                    _mm512_mask_storeu_ps(d_logits + at + i, m, _mm512_sub_ps(q, xi));
                }
                /* the factors 1 + e in double, four at a time into the four products; lanes past
                 * the chunk's end take e = 0, a factor of exactly 1 */
                const __m512 e_in = _mm512_maskz_mov_ps(m, e);
                const __m512d f0 = _mm512_add_pd(_mm512_set1_pd(1.0), _mm512_cvtps_pd(_mm512_castps512_ps256(e_in)));
                const __m512d f1 = _mm512_add_pd(_mm512_set1_pd(1.0),
                    _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e_in), 1))));
                product = _mm256_mul_pd(product, _mm512_castpd512_pd256(f0));
                product = _mm256_mul_pd(product, _mm512_extractf64x4_pd(f0, 1));
                product = _mm256_mul_pd(product, _mm512_castpd512_pd256(f1));
                product = _mm256_mul_pd(product, _mm512_extractf64x4_pd(f1, 1));
            }
            double p[4];
            _mm256_storeu_pd(p, product);
            logs[k] = log(p[0] * p[1] * p[2] * p[3]);
            lens[k] = len;
        }
        float linear[BCE_GROUP] = { 0.0f };
        if (chunks == BCE_GROUP && lens[BCE_GROUP - 1] == CHUNK) {
            /* the eight sums one register (in an array, GCC kept them on the stack: each add then
             * waited for the store of the one before it) */
            __m256 sum = _mm256_setzero_ps();
            for (size_t i = 0; i < CHUNK; i++)
                sum = _mm256_add_ps(sum, _mm256_set_ps(terms[7][i], terms[6][i], terms[5][i], terms[4][i],
                                                       terms[3][i], terms[2][i], terms[1][i], terms[0][i]));
            _mm256_storeu_ps(linear, sum);
        } else {
            for (size_t k = 0; k < chunks; k++)
                for (size_t i = 0; i < lens[k]; i++) linear[k] += terms[k][i];
        }
        for (size_t k = 0; k < chunks; k++) sums[g + k] = linear[k] + logs[k];
    }
}
#undef AVX512
#else
int fast_expf_same_bits(void) { return 0; }
int fast_expf_check(const float *x, size_t n) { (void)x; (void)n; return 0; }
#endif

static void bce_lane(void *opaque, int lane, int lanes)
{
    bce_chunks *job = opaque;
    size_t c0, c1;
    pool_share(job->count, 1, lane, lanes, &c0, &c1);
#ifdef AE_AVX512_BUILD
    if (fast_expf_same_bits()) {
        bce_chunks_avx512(job->sums + c0, job->d_logits, job->logits, job->x, job->n, job->first + c0, c1 - c0);
        return;
    }
#endif
    for (size_t c = c0; c < c1; c++) {
        size_t at = (job->first + c) * CHUNK, len = job->n - at < CHUNK ? job->n - at : CHUNK;
        job->sums[c] = vae_bce_logits_sum(job->d_logits ? job->d_logits + at : NULL, job->logits + at, job->x + at, len);
    }
}

double fast_vae_bce_logits_sum(model *lanes, float *d_logits, const float *logits, const float *x, size_t n)
{
    const int threads = model_on_threads(lanes);
    if (!threads && !fast_expf_same_bits()) return vae_bce_logits_sum(d_logits, logits, x, n);   /* the plain loop as it is */
    enum { GROUP = 256 };
    double sums[GROUP], total = 0.0;
    const size_t chunks = (n + CHUNK - 1) / CHUNK;
    for (size_t first = 0; first < chunks; first += GROUP) {
        bce_chunks job = { d_logits, logits, x, n, first, chunks - first < GROUP ? chunks - first : GROUP, sums };
        if (threads) model_run_lanes(lanes, bce_lane, &job);
        else bce_lane(&job, 0, 1);
        for (size_t c = 0; c < job.count; c++) total += sums[c];
    }
    return total;
}
