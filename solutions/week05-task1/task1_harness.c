/* task1_harness.c: the submission's penalties (t1_kinds.h) against contractive_reference.c.
 * One verdict per item of task1_plan.c, by key. The inputs are high-entropy values from a fixed
 * generator; the submission gets them in float, the reference in double. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "contractive_reference.h"
#include "grade_lib.h"
#include "t1_kinds.h"

enum { B = 5, U = 7, D = 13, N_CODES = 40 };
#define TOL_SUM 1e-6     /* a float sum of a few hundred terms */
#define TOL_PENALTY 1e-5 /* float slopes squared, against every Jacobian entry in double */

static unsigned long long state = 0x9E3779B97F4A7C15ull;
/* uniform in [lo, hi) (xorshift64*) */
static double uniform(double lo, double hi)
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    double u = (double)((state * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
    return lo + (hi - lo) * u;
}

/* The worst entry of got (n) against expected (n): counts those off by more than tol·max(1, |e|)
 * and writes "k of n off; worst e vs g at i" into msg. Returns the number off. */
static int compare(const double *expected, const float *got, int n, double tol, char *msg, size_t size)
{
    int bad = 0, worst_at = 0;
    double worst = -1.0;
    for (int k = 0; k < n; k++) {
        double err = fabs((double)got[k] - expected[k]) / fmax(1.0, fabs(expected[k]));
        if (!close_enough(expected[k], (double)got[k], tol)) bad++;
        if (!(err <= worst)) {
            worst = err;
            worst_at = k;
        }
    }
    snprintf(msg, size, "%d of %d off; worst %.9g vs %.9g at %d", bad, n, got[worst_at], expected[worst_at], worst_at);
    return bad;
}

static const char *act_name(ref_act act)
{
    return act == REF_ACT_RELU ? "relu" : act == REF_ACT_SIGMOID ? "sigmoid" : "tanh";
}

static activation submission_act(ref_act act)
{
    return act == REF_ACT_RELU ? ACT_RELU : act == REF_ACT_SIGMOID ? ACT_SIGMOID : ACT_TANH;
}

/* Random weight (U, D) and pre-activations (B, U), kept away from 0 (where ReLU's slope jumps) and
 * from saturation (where a float h = f(a) loses the slope's digits). */
static void random_layer(double *weight, float *weight_f, double *preact, float *code, ref_act act)
{
    for (int k = 0; k < U * D; k++) {
        weight[k] = uniform(-0.93, 0.87);
        weight_f[k] = (float)weight[k];
        weight[k] = weight_f[k];                  /* both sides see the same weights */
    }
    for (int k = 0; k < B * U; k++) {
        double a = uniform(-1.8, 1.8);
        if (fabs(a) < 0.1) a += a < 0 ? -0.25 : 0.25;
        preact[k] = a;
        code[k] = (float)ref_act_value(act, a);
    }
}

static void check_forward(ref_act act)
{
    double weight[U * D], preact[B * U], row_sq[U], expected[B + 1], got_d[B];
    float weight_f[U * D], code[B * U], row_sq_f[U], got[B + 1];
    char key[64], e[64], g[256];
    random_layer(weight, weight_f, preact, code, act);
    ref_row_sq_norms(row_sq, weight, U, D);
    for (int j = 0; j < U; j++) row_sq_f[j] = (float)row_sq[j];
    expected[B] = ref_contractive(expected, preact, weight, act, B, U, D);
    for (int b = 0; b < B; b++) got_d[b] = NAN;
    double total = t1_contractive_forward(got_d, code, row_sq_f, submission_act(act), B, U);
    for (int b = 0; b < B; b++) got[b] = (float)got_d[b];
    got[B] = (float)total;
    int bad = compare(expected, got, B + 1, TOL_PENALTY, g, sizeof g);
    snprintf(key, sizeof key, "contractive_%s", act_name(act));
    snprintf(e, sizeof e, "sum %.9g", expected[B]);
    verdict(key, bad == 0, e, g);
}

static void check_backward(ref_act act)
{
    double weight[U * D], preact[B * U], row_sq[U], d_code_ref[B * U], d_weight_ref[U * D];
    double expected_code[B * U], expected_weight[U * D];
    float weight_f[U * D], code[B * U], row_sq_f[U], d_code[B * U], d_weight[U * D];
    const float scale = 0.3717f;
    char key[64], g1[256], g2[256], g[600];
    random_layer(weight, weight_f, preact, code, act);
    ref_row_sq_norms(row_sq, weight, U, D);
    for (int j = 0; j < U; j++) row_sq_f[j] = (float)row_sq[j];
    ref_contractive_grad(d_code_ref, d_weight_ref, preact, weight, act, B, U, D);
    /* the gradients already hold something: the function must add to it */
    for (int k = 0; k < B * U; k++) {
        d_code[k] = (float)uniform(-1.3, 1.1);
        expected_code[k] = d_code[k] + (double)scale * d_code_ref[k];
    }
    for (int k = 0; k < U * D; k++) {
        d_weight[k] = (float)uniform(-0.7, 1.2);
        expected_weight[k] = d_weight[k] + (double)scale * d_weight_ref[k];
    }
    t1_contractive_backward(d_code, d_weight, code, weight_f, row_sq_f, submission_act(act), B, D, U, scale);
    int bad = compare(expected_code, d_code, B * U, TOL_PENALTY, g1, sizeof g1);
    bad += compare(expected_weight, d_weight, U * D, TOL_PENALTY, g2, sizeof g2);
    snprintf(key, sizeof key, "contractive_grad_%s", act_name(act));
    snprintf(g, sizeof g, "d_code: %s; d_weight: %s", g1, g2);
    verdict(key, bad == 0, "every entry of both gradients within 1e-5", g);
}

int main(void)
{
    char e[64], g[256];

    /* row norms */
    double weight[U * D], row_sq[U];
    float weight_f[U * D], row_sq_f[U];
    for (int k = 0; k < U * D; k++) {
        weight_f[k] = (float)uniform(-1.17, 0.93);
        weight[k] = weight_f[k];
    }
    ref_row_sq_norms(row_sq, weight, U, D);
    for (int j = 0; j < U; j++) row_sq_f[j] = NAN;
    t1_weight_row_sq_norms(row_sq_f, weight_f, U, D);
    int bad = compare(row_sq, row_sq_f, U, TOL_SUM, g, sizeof g);
    snprintf(e, sizeof e, "r_0 = %.9g", row_sq[0]);
    verdict("row_sq", bad == 0, e, g);

    check_forward(REF_ACT_SIGMOID);
    check_forward(REF_ACT_RELU);
    check_forward(REF_ACT_TANH);
    check_backward(REF_ACT_SIGMOID);
    check_backward(REF_ACT_RELU);
    check_backward(REF_ACT_TANH);

    /* the L1 penalty: codes of both signs, every fifth exactly 0 */
    double codes[N_CODES], d_ref[N_CODES], expected[N_CODES];
    float codes_f[N_CODES], d_codes[N_CODES];
    for (int k = 0; k < N_CODES; k++) {
        codes_f[k] = k % 5 == 0 ? 0.0f : (float)uniform(-2.3, 2.9);
        codes[k] = codes_f[k];
    }
    double l1 = ref_l1(codes, N_CODES), got_l1 = t1_sparsity_l1_forward(codes_f, N_CODES);
    snprintf(e, sizeof e, "%.9g", l1);
    snprintf(g, sizeof g, "%.9g", got_l1);
    verdict("sparsity_forward", close_enough(l1, got_l1, TOL_SUM), e, g);

    const float scale = 0.0417f;
    ref_l1_grad(d_ref, codes, N_CODES);
    for (int k = 0; k < N_CODES; k++) {
        d_codes[k] = (float)uniform(-0.6, 0.8);
        expected[k] = d_codes[k] + (double)scale * d_ref[k];
    }
    t1_sparsity_l1_backward(d_codes, codes_f, N_CODES, scale);
    bad = compare(expected, d_codes, N_CODES, TOL_SUM, g, sizeof g);
    verdict("sparsity_backward", bad == 0, "every entry within 1e-6", g);

    /* the denoising kind's input: clip(x + factor·noise, 0, 1), pixel by pixel */
    float x[6] = { 0.0f, 0.25f, 0.5f, 0.9f, 1.0f, 0.3f };
    const float noise[6] = { -0.5f, 1.2f, 0.3f, 2.0f, -0.4f, -3.0f }, factor = 0.2f;
    int off = 0;
    for (int i = 0; i < 6; i++) {
        float v = x[i] + factor * noise[i];
        expected[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    t1_corrupt(x, noise, 6, factor);
    for (int i = 0; i < 6; i++) off += !(fabs(x[i] - expected[i]) <= 1e-6);
    snprintf(g, sizeof g, "%d of 6 pixels off", off);
    verdict("noise", off == 0, "clip(x + 0.2·noise, 0, 1) on 6 pixels", g);
    return 0;
}
