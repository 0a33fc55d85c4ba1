/* test_loss.c: the losses against hand computations, against each other, and
 * against finite differences; a batch's shares against the whole (a thread's part of a batch);
 * BCE's refusal of targets that are not probabilities. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "error.h"
#include "fast/cpu.h"
#include "fast/fast.h"
#include "loss.h"
#include "testutil.h"

/* ------------------------------------------------------------------ Core */

/* pred − target = (−0.2615, 0.0625, 0.3125, 0)
 * squares: 0.06838225 + 0.00390625 + 0.09765625 + 0 = 0.16994475, mean 0.0424861875
 * absolute: 0.2615 + 0.0625 + 0.3125 + 0 = 0.6365, mean 0.159125 */
static const float reg_pred[4] = {0.2385f, 0.8125f, 0.4375f, 0.6f};
static const float reg_target[4] = {0.5f, 0.75f, 0.125f, 0.6f};

/* MSE and MAE of the four values above, worked out by hand, as one table */
static const struct {
    const char *name;
    void (*forward)(double *loss, const float *pred, const float *target, size_t n);
    void (*backward)(float *d_pred, const float *pred, const float *target, size_t n);
    double loss;
    double grad[4];
} by_hand[] = {
    { "mse", mse_forward, mse_backward, 0.0424861875, { -0.13075, 0.03125, 0.15625, 0.0 } },   /* 2(p − t)/4 */
    { "mae", mae_forward, mae_backward, 0.159125, { -0.25, 0.25, 0.25, 0.0 } },                /* sign(p − t)/4, 0 at p = t */
};

START_TEST(test_regression_losses_by_hand)
{
    double loss;
    by_hand[_i].forward(&loss, reg_pred, reg_target, 4);
    ck_assert_msg(fabs(loss - by_hand[_i].loss) <= 1e-7, "%s = %.9g, by hand %.9g", by_hand[_i].name, loss,
                  by_hand[_i].loss);
    float grad[4];
    by_hand[_i].backward(grad, reg_pred, reg_target, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabs(grad[i] - by_hand[_i].grad[i]) <= 1e-7, "%s gradient %d = %.9g, by hand %.9g",
                      by_hand[_i].name, i, grad[i], by_hand[_i].grad[i]);
}
END_TEST

/* The squared errors against a plain sum in long double: the plain loop's single running sum, and
 * its fast twin's chains (fast/loss_fast.c) for every length, from shorter than one round of the
 * chains to several rounds and a remainder. */
START_TEST(test_mse_every_length)
{
    enum { MAX_N = 41 };
    float pred[MAX_N], target[MAX_N];
    for (int i = 0; i < MAX_N; i++) {
        pred[i] = (float)((i * 37 % 101) / 101.0);
        target[i] = (float)((i * 53 % 97) / 97.0);
    }
    for (size_t n = 1; n <= MAX_N; n++) {
        long double sum = 0.0L;
        for (size_t i = 0; i < n; i++) {
            long double diff = (long double)pred[i] - target[i];
            sum += diff * diff;
        }
        double loss, chained;
        mse_forward(&loss, pred, target, n);
        fast_mse_forward(&chained, pred, target, n);
        ck_assert_msg(fabs(loss - (double)(sum / n)) <= 1e-15 * (double)(sum / n) + 1e-300,
                      "n = %zu: %.17g against %.17g", n, loss, (double)(sum / n));
        ck_assert_msg(fabs(chained - (double)(sum / n)) <= 1e-15 * (double)(sum / n) + 1e-300,
                      "n = %zu: the chains give %.17g against %.17g", n, chained, (double)(sum / n));
    }
}
END_TEST

typedef int (*loss_forward_fn)(double *loss, const float *pred, const float *target, size_t n, loss_reduction r);
typedef int (*loss_backward_fn)(float *d_pred, const float *pred, const float *target, size_t n, loss_reduction r);

/* A loss worked by hand: forward gives `mean` and `sum` (to tol), backward the gradient `grad` of the
 * sum and grad / n of the mean (to grad_tol). pred, target, grad (n), n <= 8 */
static void assert_loss_by_hand(loss_forward_fn forward, loss_backward_fn backward, const float *pred,
                                const float *target, size_t n, double mean, double sum, const double *grad,
                                double tol, double grad_tol)
{
    const loss_reduction reductions[2] = { REDUCE_SUM, REDUCE_MEAN };
    const double losses[2] = { sum, mean }, scales[2] = { 1.0, 1.0 / (double)n };
    float got[8];
    ck_assert_uint_le(n, 8);
    for (int r = 0; r < 2; r++) {
        double loss;
        ck_assert_int_eq(forward(&loss, pred, target, n, reductions[r]), AE_OK);
        ck_assert_double_eq_tol(loss, losses[r], tol);
        ck_assert_int_eq(backward(got, pred, target, n, reductions[r]), AE_OK);
        for (size_t i = 0; i < n; i++) ck_assert_double_eq_tol(got[i], grad[i] * scales[r], grad_tol);
    }
}

/* −[t ln p + (1−t) ln(1−p)] for (p, t) = (0.9, 1), (0.2, 0), (0.6, 0.25):
 *   −ln 0.9                      = 0.1053605157
 *   −ln 0.8                      = 0.2231435513
 *   −(0.25 ln 0.6 + 0.75 ln 0.4) = 0.25·0.5108256238 + 0.75·0.9162907319 = 0.8149244548
 * sum 1.1434285218, mean 0.3811428406 */
START_TEST(test_bce_by_hand)
{
    const float pred[3] = {0.9f, 0.2f, 0.6f};
    const float target[3] = {1.0f, 0.0f, 0.25f};
    /* ∂L/∂p = (p − t)/(p(1 − p)): −0.1/0.09 = −1.1111111, 0.2/0.16 = 1.25, 0.35/0.24 = 1.4583333 */
    const double grad[3] = {-1.0 / 0.9, 1.25, 0.35 / 0.24};
    assert_loss_by_hand(bce_forward, bce_backward, pred, target, 3, 0.3811428406, 1.1434285218, grad, 1e-7, 1e-5);
}
END_TEST

/* Keras clips p to [1e-7, 1 − 1e-7] (in float32), so a confident wrong answer costs a finite loss:
 *   p = 0, t = 1: −ln(1e-7f)           = −ln(1.0000000117e-7) = 16.1180956
 *   p = 1, t = 0: −ln(1 − (1 − 1e-7f)) = −ln(1.1920929e-7)    = 15.9423852
 * and the clip's gradient is zero there. */
START_TEST(test_bce_clips_like_keras)
{
    const float pred[2] = {0.0f, 1.0f};
    const float target[2] = {1.0f, 0.0f};
    double loss;
    ck_assert_int_eq(bce_forward(&loss, pred, target, 1, REDUCE_SUM), AE_OK);
    ck_assert_double_eq_tol(loss, 16.1180956, 1e-5);
    ck_assert_int_eq(bce_forward(&loss, pred + 1, target + 1, 1, REDUCE_SUM), AE_OK);
    ck_assert_double_eq_tol(loss, 15.9423852, 1e-5);
    float grad[2] = {7.0f, 7.0f};
    ck_assert_int_eq(bce_backward(grad, pred, target, 2, REDUCE_MEAN), AE_OK);
    ck_assert_float_eq(grad[0], 0.0f);
    ck_assert_float_eq(grad[1], 0.0f);
}
END_TEST

/* max(x,0) − x·t + ln(1 + e^−|x|) for (x, t) = (2.5, 1), (−1.25, 0), (0, 0.5), (0.75, 0.125):
 *   0 + ln(1 + e^−2.5)                    = ln 1.0820850 = 0.0788897343
 *   0 + ln(1 + e^−1.25)                   = ln 1.2865048 = 0.2519290813
 *   0 + ln 2                              = 0.6931471806
 *   0.75 − 0.09375 + ln(1 + e^−0.75)      = 0.65625 + 0.3868710061 = 1.0431210061
 * sum 2.0670870023, mean 0.5167717506 */
START_TEST(test_bce_logits_by_hand)
{
    const float logits[4] = {2.5f, -1.25f, 0.0f, 0.75f};
    const float target[4] = {1.0f, 0.0f, 0.5f, 0.125f};
    /* ∂L/∂x = σ(x) − t: σ(2.5) − 1 = −0.0758581800, σ(−1.25) = 0.2227001388, 0, σ(0.75) − 0.125 = 0.5541786992 */
    const double grad[4] = {-0.0758581800, 0.2227001388, 0.0, 0.5541786992};
    assert_loss_by_hand(bce_logits_forward, bce_logits_backward, logits, target, 4, 0.5167717506, 2.0670870023,
                        grad, 1e-8, 1e-6);
}
END_TEST

/* Huge logits must neither overflow nor lose the loss: x = 100, t = 0 costs 100; x = −100, t = 0 costs e^−100. */
START_TEST(test_bce_logits_stable)
{
    const float logits[2] = {100.0f, -100.0f};
    const float target[2] = {0.0f, 0.0f};
    double loss;
    ck_assert_int_eq(bce_logits_forward(&loss, logits, target, 1, REDUCE_SUM), AE_OK);
    ck_assert_double_eq_tol(loss, 100.0, 1e-9);
    ck_assert_int_eq(bce_logits_forward(&loss, logits + 1, target + 1, 1, REDUCE_SUM), AE_OK);
    ck_assert(loss >= 0.0 && loss < 1e-40);
    float grad[2];
    ck_assert_int_eq(bce_logits_backward(grad, logits, target, 2, REDUCE_SUM), AE_OK);
    ck_assert_double_eq_tol(grad[0], 1.0, 1e-7);
    ck_assert_double_eq_tol(grad[1], 0.0, 1e-7);
}
END_TEST

/* BCE(σ(x), t) and BCE_logits(x, t) are the same function while the clip is inactive. */
START_TEST(test_bce_agrees_with_logits)
{
    enum { N = 40 };
    gsl_rng *rng = test_rng(4711);
    float logits[N], probs[N], target[N];
    fill_uniform(logits, N, -6.0, 6.0, rng);
    fill_uniform(target, N, 0.0, 1.0, rng);
    for (int i = 0; i < N; i++) probs[i] = (float)(1.0 / (1.0 + exp(-(double)logits[i])));
    for (int r = REDUCE_MEAN; r <= REDUCE_SUM; r++) {
        double from_probs, from_logits;
        ck_assert_int_eq(bce_forward(&from_probs, probs, target, N, r), AE_OK);
        ck_assert_int_eq(bce_logits_forward(&from_logits, logits, target, N, r), AE_OK);
        ck_assert_double_eq_tol(from_probs, from_logits, 1e-5 * fabs(from_logits));
    }
    /* chain rule: ∂L/∂x = ∂L/∂p · p(1 − p) */
    float d_probs[N], d_logits[N];
    ck_assert_int_eq(bce_backward(d_probs, probs, target, N, REDUCE_SUM), AE_OK);
    ck_assert_int_eq(bce_logits_backward(d_logits, logits, target, N, REDUCE_SUM), AE_OK);
    for (int i = 0; i < N; i++)
        ck_assert_double_eq_tol((double)d_probs[i] * probs[i] * (1.0 - probs[i]), d_logits[i], 1e-4);
    gsl_rng_free(rng);
}
END_TEST

/* loss_compute gives what the separate functions give, for both reductions. */
START_TEST(test_loss_compute_dispatch)
{
    enum { N = 24 };
    gsl_rng *rng = test_rng(99);
    float pred[N], target[N], grad[N], expected_grad[N];
    fill_uniform(pred, N, 0.05, 0.95, rng);
    fill_uniform(target, N, 0.0, 1.0, rng);
    double loss, expected;

    mse_forward(&expected, pred, target, N);
    mse_backward(expected_grad, pred, target, N);
    ck_assert_int_eq(loss_compute((loss_spec){LOSS_MSE, REDUCE_MEAN}, &loss, grad, pred, target, N), AE_OK);
    ck_assert_double_eq_tol(loss, expected, 1e-12);
    ck_assert_double_le(max_abs_diff(grad, expected_grad, N), 1e-9);
    ck_assert_int_eq(loss_compute((loss_spec){LOSS_MSE, REDUCE_SUM}, &loss, grad, pred, target, N), AE_OK);
    ck_assert_double_eq_tol(loss, N * expected, 1e-10);
    for (int i = 0; i < N; i++) ck_assert_double_eq_tol(grad[i], N * expected_grad[i], 1e-6);

    mae_forward(&expected, pred, target, N);
    mae_backward(expected_grad, pred, target, N);
    ck_assert_int_eq(loss_compute((loss_spec){LOSS_MAE, REDUCE_MEAN}, &loss, grad, pred, target, N), AE_OK);
    ck_assert_double_eq_tol(loss, expected, 1e-12);
    ck_assert_double_le(max_abs_diff(grad, expected_grad, N), 1e-9);

    ck_assert_int_eq(bce_forward(&expected, pred, target, N, REDUCE_MEAN), AE_OK);
    ck_assert_int_eq(bce_backward(expected_grad, pred, target, N, REDUCE_MEAN), AE_OK);
    ck_assert_int_eq(loss_compute((loss_spec){LOSS_BCE, REDUCE_MEAN}, &loss, grad, pred, target, N), AE_OK);
    ck_assert_double_eq_tol(loss, expected, 1e-12);
    ck_assert_double_le(max_abs_diff(grad, expected_grad, N), 1e-9);

    /* without d_pred only the value is computed */
    ck_assert_int_eq(loss_compute((loss_spec){LOSS_BCE_LOGITS, REDUCE_SUM}, &loss, NULL, pred, target, N), AE_OK);
    ck_assert_int_eq(bce_logits_forward(&expected, pred, target, N, REDUCE_SUM), AE_OK);
    ck_assert_double_eq_tol(loss, expected, 1e-12);

    ck_assert_str_eq(loss_name(LOSS_MSE), "mse");
    ck_assert_str_eq(loss_name(LOSS_BCE_LOGITS), "bce_logits");
    gsl_rng_free(rng);
}
END_TEST

/* A batch's values in shares (rows cut at uneven points, as the threads cut a layer's units): each
 * share's gradient is the whole call's, bit for bit, for every loss and reduction, plain and fast;
 * the shares' losses add up to the whole's (in another order). Loop index: kind × 2 + reduction. */
START_TEST(test_loss_shares_are_the_whole)
{
    enum { N = 37 };
    const loss_spec spec = { (loss_kind)(LOSS_MSE + _i / 2), _i % 2 ? REDUCE_SUM : REDUCE_MEAN };
    gsl_rng *rng = test_rng(123);
    float pred[N], target[N], whole[N], shares[N], fast_shares[N];
    fill_uniform(pred, N, 0.02, 0.98, rng);
    fill_uniform(target, N, 0.0, 1.0, rng);
    double whole_loss, fast_whole_loss;
    ck_assert_int_eq(loss_compute(spec, &whole_loss, whole, pred, target, N), AE_OK);
    ck_assert_int_eq(fast_loss_compute(spec, &fast_whole_loss, NULL, pred, target, N), AE_OK);
    const size_t cuts[] = { 0, 5, 21, 22, N };
    double total = 0.0, fast_total = 0.0;
    for (int c = 0; c + 1 < 5; c++) {
        const size_t at = cuts[c], n = cuts[c + 1] - cuts[c];
        double part, fast_part;
        ck_assert_int_eq(loss_compute_share(spec, &part, shares + at, pred + at, target + at, n, N), AE_OK);
        ck_assert_int_eq(fast_loss_share(spec, &fast_part, fast_shares + at, pred + at, target + at, n, N), AE_OK);
        total += part;
        fast_total += fast_part;
    }
    for (int i = 0; i < N; i++) {
        ck_assert_msg(memcmp(&shares[i], &whole[i], sizeof whole[i]) == 0, "%s: value %d's gradient %.9g in a share, "
                      "%.9g in the whole", loss_name(spec.kind), i, shares[i], whole[i]);
        ck_assert_msg(memcmp(&fast_shares[i], &whole[i], sizeof whole[i]) == 0 || spec.kind == LOSS_MSE,
                      "%s: value %d's fast gradient %.9g in a share, %.9g in the whole", loss_name(spec.kind), i,
                      fast_shares[i], whole[i]);
    }
    if (spec.kind == LOSS_MSE) {   /* the fast squared error: against its own whole call */
        float fast_whole[N];
        ck_assert_int_eq(fast_loss_compute(spec, &fast_whole_loss, fast_whole, pred, target, N), AE_OK);
        ck_assert(memcmp(fast_shares, fast_whole, sizeof fast_whole) == 0);
    }
    ck_assert_double_eq_tol(total, whole_loss, 1e-12 * fabs(whole_loss));
    ck_assert_double_eq_tol(fast_total, fast_whole_loss, 1e-12 * fabs(fast_whole_loss));
    gsl_rng_free(rng);
}
END_TEST

/* A share's gradients with whether its loss is finite (fast_loss_share_finite): for the squared
 * error the whole call's gradients bit for bit, and finite exactly when the whole call's loss would
 * be, without the sum (on the AVX-512 path and the portable one); for another loss, from its sum,
 * and its error passed on (BCE's target that is no probability). Loop index: portable × 2 + reduction. */
START_TEST(test_loss_share_finite)
{
    enum { N = 437 };                          /* shares of 16 values and tails */
    const loss_spec spec = { LOSS_MSE, _i % 2 ? REDUCE_SUM : REDUCE_MEAN };
    cpu_force_portable(_i / 2);
    gsl_rng *rng = test_rng(97);
    static float pred[N], target[N], whole[N], shares[N];
    fill_uniform(pred, N, 0.0, 1.0, rng);
    fill_uniform(target, N, 0.0, 1.0, rng);
    pred[40] = 3e38f;                          /* a difference beyond FLT_MAX, finite in double */
    target[40] = -3e38f;
    const size_t cuts[] = { 0, 3, 35, 200, N };
    for (int bad = 0; bad < 4; bad++) {        /* none, an infinity in a prediction, a NaN target, -inf */
        const size_t at_bad = bad == 1 ? 36 : bad == 2 ? 250 : 1;
        const float was_pred = pred[at_bad], was_target = target[at_bad];
        if (bad == 1) pred[at_bad] = INFINITY;
        if (bad == 2) target[at_bad] = NAN;
        if (bad == 3) pred[at_bad] = -INFINITY;
        double whole_loss;
        ck_assert_int_eq(fast_loss_compute(spec, &whole_loss, whole, pred, target, N), AE_OK);
        ck_assert_int_eq(isfinite(whole_loss), bad == 0);
        for (int c = 0; c + 1 < 5; c++) {
            const size_t at = cuts[c], n = cuts[c + 1] - cuts[c];
            int finite = -1;
            ck_assert_int_eq(fast_loss_share_finite(spec, &finite, shares + at, NULL, pred + at, target + at, n, N), AE_OK);
            ck_assert_msg(finite == !(at_bad >= at && at_bad < at + n && bad), "share %d, case %d: finite %d", c, bad, finite);
        }
        if (bad == 0) ck_assert(memcmp(shares, whole, sizeof whole) == 0);
        pred[at_bad] = was_pred;
        target[at_bad] = was_target;
    }
    int finite = -1;                           /* no gradient asked for */
    ck_assert_int_eq(fast_loss_share_finite(spec, &finite, NULL, NULL, pred, target, N, N), AE_OK);
    ck_assert_int_eq(finite, 1);
    const loss_spec mae = { LOSS_MAE, REDUCE_MEAN };   /* another loss: its share summed */
    double part;
    ck_assert_int_eq(fast_loss_share(mae, &part, whole, pred, target, N, N), AE_OK);
    ck_assert_int_eq(fast_loss_share_finite(mae, &finite, shares, NULL, pred, target, N, N), AE_OK);
    ck_assert_int_eq(finite, isfinite(part));
    ck_assert(memcmp(shares, whole, sizeof whole) == 0);
    const loss_spec bce = { LOSS_BCE, REDUCE_MEAN };   /* an error of the loss passed on, not finite */
    target[5] = 1.5f;
    error_clear();
    finite = -1;
    ck_assert_int_eq(fast_loss_share_finite(bce, &finite, shares, NULL, pred, target, N, N), AE_EDOM);
    ck_assert_int_eq(finite, 0);
    ck_assert_ptr_nonnull(strstr(error_message(), "probabilities"));
    cpu_force_portable(0);
    gsl_rng_free(rng);
}
END_TEST

/* BCE's shares that keep their terms: summed afterwards in the whole batch's order, the whole
 * call's loss bit for bit, and each share's gradient the whole's; a target that is no probability
 * refused as by the plain loop; other losses leave the terms alone. */
START_TEST(test_bce_terms_sum_to_the_whole)
{
    enum { N = 401 };                          /* enough terms that another order of the sum shows */
    const loss_spec spec = { LOSS_BCE, _i ? REDUCE_SUM : REDUCE_MEAN };
    gsl_rng *rng = test_rng(321);
    float pred[N], target[N], whole[N], shares[N];
    double terms[N];
    fill_uniform(pred, N, 0.0, 1.0, rng);
    fill_uniform(target, N, 0.0, 1.0, rng);
    for (int i = 0; i < N; i += 5) pred[i] = (float)(i % 2 ? 1e-6 : 1.0 - 1e-6);   /* terms far apart in size */
    pred[3] = 0.0f;                            /* clipped: no gradient */
    pred[7] = 1.0f;
    double whole_loss;
    ck_assert_int_eq(loss_compute(spec, &whole_loss, whole, pred, target, N), AE_OK);
    const size_t cuts[] = { 0, 13, 14, 230, N };
    for (int c = 0; c + 1 < 5; c++) {
        const size_t at = cuts[c], n = cuts[c + 1] - cuts[c];
        double part;
        ck_assert_int_eq(fast_loss_share_terms(spec, &part, shares + at, terms + at, pred + at, target + at, n, N), AE_OK);
        ck_assert(isfinite(part));
    }
    const double summed = fast_loss_sum_terms(spec, terms, N);
    ck_assert_msg(memcmp(&summed, &whole_loss, sizeof summed) == 0, "the terms sum to %.17g, the whole call gives %.17g",
                  summed, whole_loss);
    ck_assert(memcmp(shares, whole, sizeof whole) == 0);

    target[20] = 1.5f;                         /* refused, with the plain loop's message */
    error_clear();
    double part;
    ck_assert_int_eq(fast_loss_share_terms(spec, &part, shares, terms, pred, target, N, N), AE_EDOM);
    ck_assert_ptr_nonnull(strstr(error_message(), "probabilities"));

    terms[0] = 42.0;                           /* MSE: the share as fast_loss_share gives it, no terms */
    target[20] = 0.5f;
    double mse, mse_share;
    ck_assert_int_eq(fast_loss_share((loss_spec){ LOSS_MSE, REDUCE_MEAN }, &mse, NULL, pred, target, N, N), AE_OK);
    ck_assert_int_eq(fast_loss_share_terms((loss_spec){ LOSS_MSE, REDUCE_MEAN }, &mse_share, NULL, terms, pred, target,
                                           N, N), AE_OK);
    ck_assert(mse == mse_share && terms[0] == 42.0);
    gsl_rng_free(rng);
}
END_TEST

/* ------------------------------------------------------------- Gradient */

enum { GRAD_N = 30 };

typedef struct {
    loss_spec spec;
    float pred[GRAD_N], target[GRAD_N];
} grad_case;

static double loss_value(void *ctx)
{
    grad_case *c = ctx;
    double loss = NAN;
    loss_compute(c->spec, &loss, NULL, c->pred, c->target, GRAD_N);
    return loss;
}

/* loop index: kind × 2 + reduction */
START_TEST(test_loss_gradient)
{
    grad_case c;
    c.spec.kind = (loss_kind)(_i / 2);
    c.spec.reduction = (loss_reduction)(_i % 2);
    gsl_rng *rng = test_rng(2024 + (unsigned long)_i);
    if (c.spec.kind == LOSS_BCE_LOGITS) fill_uniform(c.pred, GRAD_N, -4.0, 4.0, rng);
    else fill_uniform(c.pred, GRAD_N, 0.1, 0.9, rng);
    fill_uniform(c.target, GRAD_N, 0.0, 1.0, rng);
    /* MAE has a kink at p = t: keep every pair at least 0.02 apart */
    for (int i = 0; i < GRAD_N; i++)
        if (fabsf(c.pred[i] - c.target[i]) < 0.02f) c.target[i] = c.pred[i] > 0.5f ? c.pred[i] - 0.3f : c.pred[i] + 0.3f;

    float analytic[GRAD_N];
    double loss;
    ck_assert_int_eq(loss_compute(c.spec, &loss, analytic, c.pred, c.target, GRAD_N), AE_OK);
    size_t worst = 0;
    double err = gradcheck(loss_value, &c, c.pred, analytic, GRAD_N, 1e-4, GRAD_N, &worst);
    /* mean-reduced gradients are ~1/30: compare them at their own scale */
    double tolerance = c.spec.reduction == REDUCE_MEAN ? 2e-7 : 5e-6;
    ck_assert_msg(err < tolerance, "%s (%s): gradient error %g at %zu (analytic %g)",
                  loss_name(c.spec.kind), c.spec.reduction == REDUCE_MEAN ? "mean" : "sum",
                  err, worst, (double)analytic[worst]);
    gsl_rng_free(rng);
}
END_TEST

/* --------------------------------------------------------------- Limits */

/* targets −0.5, 1.5 and NaN are refused by every BCE entry point */
START_TEST(test_bce_refuses_non_probabilities)
{
    const float bad[3] = {-0.5f, 1.5f, NAN};
    float pred[3] = {0.3f, 0.4f, 0.7f};
    float target[3] = {0.25f, 0.75f, 0.5f};
    float grad[3];
    double loss;
    target[1] = bad[_i];
    error_clear();
    ck_assert_int_eq(bce_forward(&loss, pred, target, 3, REDUCE_MEAN), AE_EDOM);
    ck_assert_ptr_nonnull(strstr(error_message(), "probabilities"));
    ck_assert_ptr_nonnull(strstr(error_message(), "[-1,1]"));
    ck_assert_ptr_nonnull(strstr(error_message(), "negative"));
    ck_assert_int_eq(bce_backward(grad, pred, target, 3, REDUCE_SUM), AE_EDOM);
    ck_assert_int_eq(bce_logits_forward(&loss, pred, target, 3, REDUCE_SUM), AE_EDOM);
    ck_assert_int_eq(bce_logits_backward(grad, pred, target, 3, REDUCE_MEAN), AE_EDOM);
    ck_assert_int_eq(loss_compute((loss_spec){LOSS_BCE, REDUCE_MEAN}, &loss, grad, pred, target, 3), AE_EDOM);
    ck_assert_int_eq(loss_compute((loss_spec){LOSS_BCE_LOGITS, REDUCE_MEAN}, &loss, NULL, pred, target, 3), AE_EDOM);
    /* MSE has no such restriction */
    ck_assert_int_eq(loss_compute((loss_spec){LOSS_MSE, REDUCE_MEAN}, &loss, grad, pred, target, 3), AE_OK);
}
END_TEST

/* A NaN prediction gives a NaN loss (that is how training notices it), never a silent number. */
START_TEST(test_nan_prediction_propagates)
{
    const float pred[2] = {0.5f, NAN};
    const float target[2] = {0.5f, 0.5f};
    double loss;
    for (int kind = LOSS_MSE; kind <= LOSS_BCE_LOGITS; kind++) {
        ck_assert_int_eq(loss_compute((loss_spec){(loss_kind)kind, REDUCE_MEAN}, &loss, NULL, pred, target, 2), AE_OK);
        ck_assert_msg(isnan(loss), "%s of a NaN prediction is %g", loss_name((loss_kind)kind), loss);
    }
}
END_TEST

Suite *loss_suite(void)
{
    Suite *s = suite_create("loss");
    TCase *core = test_case(s, "Core", 0);
    tcase_add_loop_test(core, test_regression_losses_by_hand, 0, 2);
    test_add(core, test_mse_every_length, test_bce_by_hand, test_bce_clips_like_keras, test_bce_logits_by_hand,
             test_bce_logits_stable, test_bce_agrees_with_logits, test_loss_compute_dispatch);

    TCase *gradient = test_case(s, "Gradient", 0);
    tcase_add_loop_test(gradient, test_loss_gradient, 0, 8);   /* 4 losses × 2 reductions */
    tcase_add_loop_test(gradient, test_loss_shares_are_the_whole, 0, 8);
    tcase_add_loop_test(gradient, test_bce_terms_sum_to_the_whole, 0, 2);
    tcase_add_loop_test(gradient, test_loss_share_finite, 0, 4);

    TCase *limits = test_case(s, "Limits", 0);
    tcase_add_loop_test(limits, test_bce_refuses_non_probabilities, 0, 3);
    tcase_add_test(limits, test_nan_prediction_propagates);
    return s;
}
