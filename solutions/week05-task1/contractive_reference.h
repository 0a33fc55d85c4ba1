/* contractive_reference.h: the reference solution of week05-task1's penalties, written apart
 * from the exercise, in plain double-precision loops.
 *
 * Shape legend: B batch, D inputs per sample, U code units.
 *
 * A dense encoder h = f(a), a = W x + b, has the Jacobian J = ∂h/∂x with entries
 *   J_ji = f'(a_j) W_ji                                        (U, D)
 * and the contractive penalty of one sample is its squared Frobenius norm
 *   ‖J‖²_F = Σ_j Σ_i J_ji² = Σ_j f'(a_j)² Σ_i W_ji².
 * The reference builds every entry J_ji and sums their squares: it does not use the closed form.
 * The sparsity penalty is the L1 norm of the code, Σ_j |h_j|.
 */
#ifndef CONTRACTIVE_REFERENCE_H
#define CONTRACTIVE_REFERENCE_H

#include <stddef.h>

typedef enum { REF_ACT_RELU, REF_ACT_SIGMOID, REF_ACT_TANH } ref_act;

/* f(a) */
double ref_act_value(ref_act act, double a);
/* f'(a), from the pre-activation a (ReLU: 1 for a > 0, else 0) */
double ref_act_slope(ref_act act, double a);
/* d f'(a)/dh, the slope's derivative with respect to the output h = f(a):
 * ReLU 0, sigmoid 1 − 2h, tanh −2h */
double ref_act_slope_by_output(ref_act act, double a);

/* Σ_i W_ji² for every row j. row_sq (U), weight (U, D) */
void ref_row_sq_norms(double *row_sq, const double *weight, int units, int in);

/* ‖J(x_b)‖²_F of every sample from its pre-activations, by the entries J_ji = f'(a_bj) W_ji;
 * returns their sum. norm_sq (B) or NULL, preact (B, U), weight (U, D) */
double ref_contractive(double *norm_sq, const double *preact, const double *weight, ref_act act,
                       int batch, int units, int in);

/* The gradients of Σ_b ‖J(x_b)‖²_F, h and W taken as independent:
 *   ∂/∂h_bj = 2 f'(a_bj) (df'/dh)(a_bj) Σ_i W_ji²,   ∂/∂W_ji = Σ_b 2 J_bji f'(a_bj) = 2 Σ_b f'(a_bj)² W_ji
 * d_code (B, U), d_weight (U, D), overwritten; preact (B, U), weight (U, D) */
void ref_contractive_grad(double *d_code, double *d_weight, const double *preact, const double *weight,
                          ref_act act, int batch, int units, int in);

/* Σ |h_k| over n values, and its derivative sign(h_k) (0 at 0). code (n), d_code (n) */
double ref_l1(const double *code, size_t n);
void ref_l1_grad(double *d_code, const double *code, size_t n);

/* Parameters of a stack of dense layers sizes[0] → sizes[1] → … → sizes[n − 1]: Σ (IN·OUT + OUT),
 * as Keras counts them. sizes (n) */
long ref_dense_stack_params(const int *sizes, int n);

#endif
