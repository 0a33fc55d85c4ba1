/* kl_bernoulli.h: the Kullback-Leibler divergence between two Bernoulli distributions.
 *
 * Ber(p) is the distribution of one coin toss x in {0, 1} with P(x = 1) = p:
 *
 *     f(x|p) = p^x (1 - p)^(1 - x)        for x = 0, 1
 *
 * and the divergence of Ber(p) from Ber(q) sums over the two outcomes:
 *
 *     KL(Ber(p) || Ber(q)) = sum_x f(x|p) ln[f(x|p) / f(x|q)]
 *                          = p ln(p / q)  +  (1 - p) ln((1 - p) / (1 - q))
 *                            \__ x = 1 __/   \__________ x = 0 __________/
 *
 * The result is in nats (natural logarithm). It is >= 0, it is 0 only when p = q,
 * and in general KL(p || q) != KL(q || p).
 *
 * Zero masses. Each outcome x is judged on its own, with a = f(x|p) the mass the FIRST
 * distribution gives it and b = f(x|q) the mass the second gives it:
 *   - a = 0:         the term is 0, whatever b is (0 ln(0/b) = 0, also for b = 0).
 *                    This is the limit of a ln(a/b) as a -> 0, because a ln a -> 0.
 *   - a > 0, b = 0:  the term is +infinity: the first distribution puts mass where the
 *                    second has none, so no finite penalty is large enough.
 * Hence KL(p || q) is finite exactly when (p > 0 implies q > 0) and (p < 1 implies q < 1):
 * KL(0.4 || 0) = KL(0.4 || 1) = inf, but KL(0 || 0.3) = ln(1/0.7) and KL(1 || 1) = 0.
 *
 * Accuracy. kl_bernoulli does not add the two terms above, which cancel when q is close
 * to p; it adds the two non-negative pieces a ln(a/b) - a + b instead (their extra -a + b
 * parts sum to zero over the two outcomes), each computed without cancellation. Against a
 * 113-bit computation its relative error stays below 2e-15 for every pair in [0,1] x [0,1]
 * whose divergence is a normal double (subnormal results carry their own coarser rounding).
 */
#ifndef KL_BERNOULLI_H
#define KL_BERNOULLI_H

/* KL(Ber(p) || Ber(q)) in nats, +infinity (INFINITY) when infinite.
 * AE_EDOM (error.h) when p or q is not a number in [0, 1]; *divergence is then untouched. */
int kl_bernoulli(double p, double q, double *divergence);

/* The sum written out, for a student to follow. */
typedef struct {
    double term_x1;   /* p ln(p / q), the x = 1 term: 0 when p = 0, +inf when p > 0 = q */
    double term_x0;   /* (1 - p) ln((1 - p) / (1 - q)), the x = 0 term: 0 when p = 1, +inf when p < 1 = q */
    double total;     /* kl_bernoulli(p, q): term_x1 + term_x0, but computed without their cancellation */
} kl_bernoulli_terms;

/* Both terms and the total; AE_EDOM as for kl_bernoulli. */
int kl_bernoulli_split(double p, double q, kl_bernoulli_terms *terms);

/* The sweep of part (b): p2 from 0 to 1 in `steps` intervals, built from two uniform pieces
 * [0, p1] and [p1, 1] whose numbers of intervals are proportional to their lengths, so that
 * p2 = 0, p2 = p1 and p2 = 1 are grid points exactly, whatever `steps` is. */
#define KL_SWEEP_MIN_STEPS 2
#define KL_SWEEP_MAX_STEPS 100000

/* Fills p2 (steps + 1) with the increasing grid; *p1_index (may be NULL) receives the index
 * where p2 == p1. AE_EDOM when p1 is not in [0, 1]; AE_EINVAL when steps is outside
 * [KL_SWEEP_MIN_STEPS, KL_SWEEP_MAX_STEPS]. */
int kl_sweep_grid(double p1, int steps, double *p2, int *p1_index);

#endif
