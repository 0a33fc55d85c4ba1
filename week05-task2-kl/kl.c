/* kl.c: KL divergence between two Bernoulli distributions (see kl_bernoulli.h).
 *
 * For one outcome x, a = f(x|p) is the first distribution's mass, b = f(x|q) the second's,
 * and d = a - b is passed in separately, because the caller can form it without rounding
 * trouble (p - q for x = 1, q - p for x = 0) where a - b of the rounded masses could not.
 */
#include "kl_bernoulli.h"
#include "error.h"

#include <float.h>
#include <math.h>
#include <stddef.h>

/* Within |a/b - 1| <= 1/2 the forms for nearly equal masses are used; the series needs <= ~50 terms there. */
#define SERIES_LIMIT 0.5

static int check_probability(double value, const char *name)
{
    /* the negated test also refuses NaN, for which every comparison is false */
    if (!(value >= 0.0 && value <= 1.0))
        return AE_ERROR(AE_EDOM, "%s = %g is not a probability: it must be a number in [0, 1]", name, value);
    return AE_OK;
}

/* BEGIN SOLUTION: Task 2a */
/* ln(a / b) for a, b > 0, with d = a - b. Near a/b = 1, log1p(d / b) keeps the digits that
 * rounding a/b would lose; far from it, log(a/b) is better (1 + u near 0 would magnify u's
 * rounding), and the logarithms are subtracted only when a/b is not a normal number. */
static double log_mass_ratio(double a, double b, double d)
{
    double u = d / b;                                   /* a/b - 1 */
    if (fabs(u) <= SERIES_LIMIT) return log1p(u);
    double ratio = a / b;
    if (isfinite(ratio) && ratio >= DBL_MIN) return log(ratio);
    return log(a) - log(b);
}

/* One term a ln(a / b) of the textbook sum, with the zero-mass convention. */
static double kl_term(double a, double b, double d)
{
    if (a == 0.0) return 0.0;                           /* 0 ln(0/b) = 0: the limit of a ln a */
    if (b == 0.0) return INFINITY;                      /* mass where the other has none */
    return a * log_mass_ratio(a, b, d);
}

/* phi(1 + u) = (1 + u) ln(1 + u) - u = sum_{k>=2} (-u)^k / (k (k - 1)), for |u| <= 1/2.
 * The closed form would subtract two nearly equal numbers when u is small. */
static double excess_series(double u)
{
    double power = u * u;                               /* (-u)^k, from k = 2 */
    double sum = 0.0;
    for (int k = 2; k < 80; k++) {
        double term = power / ((double)k * (k - 1));
        sum += term;
        if (fabs(term) <= 1e-18 * sum) break;
        power *= -u;
    }
    return sum;
}

/* a ln(a/b) - a + b = b phi(a/b) >= 0: the piece of KL one outcome contributes once the
 * terms -a + b, which sum to zero over both outcomes, are added to it. */
static double kl_excess(double a, double b, double d)
{
    if (a == 0.0) return b;                             /* 0 ln(0/b) - 0 + b */
    if (b == 0.0) return INFINITY;
    double u = d / b;                                   /* a/b - 1 */
    if (fabs(u) <= SERIES_LIMIT) return b * excess_series(u);
    return a * log_mass_ratio(a, b, d) - d;             /* far from 1 the closed form does not cancel */
}
/* END SOLUTION */

int kl_bernoulli_split(double p, double q, kl_bernoulli_terms *terms)
{
    /* BEGIN SOLUTION: Task 2a */
    int rc;
    if ((rc = check_probability(p, "p")) != AE_OK) return rc;
    if ((rc = check_probability(q, "q")) != AE_OK) return rc;
    /* x = 1: masses p and q; x = 0: masses 1 - p and 1 - q, whose difference is q - p */
    terms->term_x1 = kl_term(p, q, p - q);
    terms->term_x0 = kl_term(1.0 - p, 1.0 - q, q - p);
    terms->total = kl_excess(p, q, p - q) + kl_excess(1.0 - p, 1.0 - q, q - p);
    return AE_OK;
    /* END SOLUTION */
}

int kl_bernoulli(double p, double q, double *divergence)
{
    kl_bernoulli_terms terms = { 0 };
    int rc = kl_bernoulli_split(p, q, &terms);
    if (rc != AE_OK) return rc;
    *divergence = terms.total;
    return AE_OK;
}

int kl_sweep_grid(double p1, int steps, double *p2, int *p1_index)
{
    int rc = check_probability(p1, "p1");
    if (rc != AE_OK) return rc;
    if (steps < KL_SWEEP_MIN_STEPS || steps > KL_SWEEP_MAX_STEPS)
        return AE_ERROR(AE_EINVAL, "the sweep needs %d to %d steps, not %d",
                        KL_SWEEP_MIN_STEPS, KL_SWEEP_MAX_STEPS, steps);

    /* intervals on [0, p1] in proportion to its length, at least one on each piece that has a length */
    int left;
    if (p1 == 0.0) left = 0;
    else if (p1 == 1.0) left = steps;
    else {
        left = (int)lround(steps * p1);
        if (left < 1) left = 1;
        if (left > steps - 1) left = steps - 1;
    }
    int right = steps - left;

    /* t p1 and (1 - t) p1 + t give p1 and 1 exactly at t = 1, and 0 and p1 at t = 0 */
    for (int i = 0; i <= left; i++) p2[i] = left ? p1 * ((double)i / left) : 0.0;
    for (int j = 1; j <= right; j++) {
        double t = (double)j / right;
        p2[left + j] = (1.0 - t) * p1 + t;
    }
    if (p1_index) *p1_index = left;
    return AE_OK;
}
