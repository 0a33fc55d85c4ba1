/* kl_reference.h: the reference solution of week05-task2-kl, written apart from the exercise.
 *
 *   KL(Ber(p) ‖ Ber(q)) = p ln(p/q) + (1 − p) ln((1 − p)/(1 − q))   in nats
 *
 * with the conventions of the sheet: a term whose first mass is 0 is 0 (0 ln(0/b) = 0),
 * a term a ln(a/0) with a > 0 is +infinity.
 */
#ifndef KL_REFERENCE_H
#define KL_REFERENCE_H

/* One term a ln(a/b) of the sum, a the first distribution's mass of an outcome, b the second's. */
double ref_kl_term(double a, double b);
/* KL(Ber(p) ‖ Ber(q)), p and q in [0, 1] (not checked: the reference is called with good values). */
double ref_kl_bernoulli(double p, double q);

#endif
