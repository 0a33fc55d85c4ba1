/* contractive_reference.c: the contractive and sparsity penalties of week05-task1 by their
 * definitions (see contractive_reference.h), in double precision. */
#include <math.h>

#include "contractive_reference.h"

double ref_act_value(ref_act act, double a)
{
    switch (act) {
    case REF_ACT_RELU: return a > 0.0 ? a : 0.0;                 /* max(0, a) */
    case REF_ACT_SIGMOID: return 1.0 / (1.0 + exp(-a));          /* 1 / (1 + e^−a) */
    case REF_ACT_TANH: return tanh(a);
    }
    return NAN;
}

double ref_act_slope(ref_act act, double a)
{
    switch (act) {
    case REF_ACT_RELU: return a > 0.0 ? 1.0 : 0.0;
    case REF_ACT_SIGMOID: return exp(-a) / ((1.0 + exp(-a)) * (1.0 + exp(-a)));   /* e^−a / (1 + e^−a)² */
    case REF_ACT_TANH: return 1.0 / (cosh(a) * cosh(a));                             /* sech² a */
    }
    return NAN;
}

double ref_act_slope_by_output(ref_act act, double a)
{
    switch (act) {
    case REF_ACT_RELU: return 0.0;                                /* the slope is flat in h */
    case REF_ACT_SIGMOID: return 1.0 - 2.0 * ref_act_value(act, a);   /* d[h(1 − h)]/dh */
    case REF_ACT_TANH: return -2.0 * tanh(a);                     /* d[1 − h²]/dh */
    }
    return NAN;
}

void ref_row_sq_norms(double *row_sq, const double *weight, int units, int in)
{
    for (int j = 0; j < units; j++) {
        double s = 0.0;
        for (int i = 0; i < in; i++) s += weight[j * in + i] * weight[j * in + i];   /* Σ_i W_ji² */
        row_sq[j] = s;
    }
}

double ref_contractive(double *norm_sq, const double *preact, const double *weight, ref_act act,
                       int batch, int units, int in)
{
    double total = 0.0;
    for (int b = 0; b < batch; b++) {
        double s = 0.0;
        for (int j = 0; j < units; j++) {
            double slope = ref_act_slope(act, preact[b * units + j]);
            for (int i = 0; i < in; i++) {
                double entry = slope * weight[j * in + i];          /* J_ji = f'(a_j) W_ji */
                s += entry * entry;
            }
        }
        if (norm_sq) norm_sq[b] = s;
        total += s;
    }
    return total;
}

void ref_contractive_grad(double *d_code, double *d_weight, const double *preact, const double *weight,
                          ref_act act, int batch, int units, int in)
{
    for (int k = 0; k < units * in; k++) d_weight[k] = 0.0;
    for (int b = 0; b < batch; b++)
        for (int j = 0; j < units; j++) {
            double a = preact[b * units + j], slope = ref_act_slope(act, a), r = 0.0;
            for (int i = 0; i < in; i++) {
                double w = weight[j * in + i];
                r += w * w;
                d_weight[j * in + i] += 2.0 * (slope * w) * slope;  /* ∂(J_ji²)/∂W_ji = 2 J_ji f'(a_j) */
            }
            d_code[b * units + j] = 2.0 * slope * ref_act_slope_by_output(act, a) * r;
        }
}

double ref_l1(const double *code, size_t n)
{
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += fabs(code[k]);
    return s;
}

void ref_l1_grad(double *d_code, const double *code, size_t n)
{
    for (size_t k = 0; k < n; k++) d_code[k] = (code[k] > 0.0) - (code[k] < 0.0);   /* sign h */
}

long ref_dense_stack_params(const int *sizes, int n)
{
    long total = 0;
    for (int l = 0; l + 1 < n; l++) total += (long)sizes[l] * sizes[l + 1] + sizes[l + 1];   /* IN·OUT + OUT */
    return total;
}
