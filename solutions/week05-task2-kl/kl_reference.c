/* kl_reference.c: the Bernoulli KL divergence, the plain way (see kl_reference.h).
 *
 * Written straight from the definition, in double: two terms and their sum. Near p = q the
 * two terms cancel and the sum loses relative accuracy, which is why the grader compares
 * against it with an absolute tolerance (|error| stays near 1e-16 there).
 */
#include "kl_reference.h"

#include <math.h>

double ref_kl_term(double a, double b)
{
    if (a == 0.0) return 0.0;          /* 0 ln(0/b) = 0, the limit of a ln a */
    if (b == 0.0) return INFINITY;     /* mass where the second distribution has none */
    return a * log(a / b);             /* a ln(a/b) */
}

double ref_kl_bernoulli(double p, double q)
{
    return ref_kl_term(p, q) + ref_kl_term(1.0 - p, 1.0 - q);   /* x = 1 term + x = 0 term */
}
