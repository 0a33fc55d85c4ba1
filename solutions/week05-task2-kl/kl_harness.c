/* kl_harness.c: the submission's kl_bernoulli (kl_bernoulli.h) against the reference.
 * One verdict per item of kl_plan.c, by key. */
#include <math.h>
#include <stdio.h>

#include "error.h"
#include "grade_lib.h"
#include "kl_bernoulli.h"
#include "kl_reference.h"

#define TOL 1e-12

/* The submission's divergence, NaN when it refused. */
static double student_kl(double p, double q)
{
    double d = NAN;
    if (kl_bernoulli(p, q, &d) != AE_OK) return NAN;
    return d;
}

static void check_pair(const char *key, double p, double q)
{
    double expected = ref_kl_bernoulli(p, q), got = student_kl(p, q);
    char e[64], g[64], note[128] = "";
    if (!(fabs(got - expected) <= TOL) && fabs(got - ref_kl_bernoulli(q, p)) <= TOL)
        snprintf(note, sizeof note, "KL(%g ‖ %g), the divergence the other way round: p and q are swapped", q, p);
    verdict_note(key, fabs(got - expected) <= TOL, format_double(e, sizeof e, expected),
                 format_double(g, sizeof g, got), note);
}

int main(void)
{
    char e[256], g[256], a[64], b[64];
    check_pair("kl_04_08", 0.4, 0.8);
    check_pair("kl_08_04", 0.8, 0.4);
    check_pair("kl_equal", 0.37, 0.37);

    /* 19 x 19 grid: p != q in most cells, so a swap of the arguments shows */
    double worst = 0.0, worst_p = 0.0, worst_q = 0.0, lowest = INFINITY, lowest_p = 0.0, lowest_q = 0.0;
    int bad = 0;
    for (int i = 1; i <= 19; i++)
        for (int j = 1; j <= 19; j++) {
            double p = 0.05 * i, q = 0.05 * j;
            double d = fabs(student_kl(p, q) - ref_kl_bernoulli(p, q));
            if (!(d <= TOL)) bad++;
            if (!(d <= worst)) {
                worst = d;
                worst_p = p;
                worst_q = q;
            }
            double got = student_kl(p, q);
            if (!(got >= lowest)) {
                lowest = got;
                lowest_p = p;
                lowest_q = q;
            }
        }
    int swapped = 1;   /* every cell the reverse divergence: the arguments swapped */
    for (int i = 1; i <= 19 && swapped; i++)
        for (int j = 1; j <= 19 && swapped; j++)
            swapped = fabs(student_kl(0.05 * i, 0.05 * j) - ref_kl_bernoulli(0.05 * j, 0.05 * i)) <= TOL;
    snprintf(g, sizeof g, "%d of 361 off; worst %.3g at (%.2f, %.2f)", bad, worst, worst_p, worst_q);
    verdict_note("kl_grid", bad == 0, "361 pairs within 1e-12", g,
                 bad && swapped ? "KL(q ‖ p) everywhere: p and q are swapped" : NULL);
    snprintf(g, sizeof g, "smallest %s at (%.2f, %.2f)", format_double(a, sizeof a, lowest), lowest_p, lowest_q);
    verdict("kl_nonnegative", lowest >= 0.0, "every value >= 0", g);

    /* edges: one zero mass decides a term */
    const double edges[][2] = { { 0.0, 0.3 }, { 1.0, 0.6 }, { 1.0, 1.0 }, { 0.0, 0.0 }, { 0.4, 0.0 }, { 0.4, 1.0 } };
    int edge_bad = 0;
    size_t used = 0;
    g[0] = '\0';
    for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++) {
        double p = edges[k][0], q = edges[k][1];
        double expected = ref_kl_bernoulli(p, q), got = student_kl(p, q);
        int ok = isinf(expected) ? got == expected : fabs(got - expected) <= TOL;
        if (!ok) {
            edge_bad++;
            if (used < sizeof g - 64)
                used += (size_t)snprintf(g + used, sizeof g - used, "%sKL(%g ‖ %g) = %s", edge_bad > 1 ? "; " : "",
                                         p, q, format_double(a, sizeof a, got));
        }
    }
    if (edge_bad == 0) snprintf(g, sizeof g, "all six right");
    snprintf(e, sizeof e, "%s, %s, 0, 0, inf, inf", format_double(a, sizeof a, ref_kl_bernoulli(0.0, 0.3)),
             format_double(b, sizeof b, ref_kl_bernoulli(1.0, 0.6)));
    verdict("kl_edges", edge_bad == 0, e, g);

    /* refusals */
    double untouched = 2.385;
    int rc = kl_bernoulli(1.5, 0.3, &untouched);
    snprintf(g, sizeof g, "returned %s, output %s", error_name(rc), format_double(a, sizeof a, untouched));
    verdict("kl_refuses_p", rc == AE_EDOM && untouched == 2.385, "AE_EDOM, output 2.385 untouched", g);
    untouched = 2.385;
    rc = kl_bernoulli(0.3, NAN, &untouched);
    snprintf(g, sizeof g, "returned %s", error_name(rc));
    verdict("kl_refuses_nan", rc == AE_EDOM, "AE_EDOM", g);

    /* the sum written out */
    kl_bernoulli_terms terms = { NAN, NAN, NAN };
    rc = kl_bernoulli_split(0.4, 0.8, &terms);
    double t1 = ref_kl_term(0.4, 0.8), t0 = ref_kl_term(0.6, 0.2), total = ref_kl_bernoulli(0.4, 0.8);
    int ok = rc == AE_OK && fabs(terms.term_x1 - t1) <= TOL && fabs(terms.term_x0 - t0) <= TOL &&
             fabs(terms.total - total) <= TOL;
    snprintf(e, sizeof e, "%.9f + %.9f = %.9f", t1, t0, total);
    snprintf(g, sizeof g, "%.9f + %.9f = %.9f", terms.term_x1, terms.term_x0, terms.total);
    verdict("kl_split", ok, e, g);
    return 0;
}
