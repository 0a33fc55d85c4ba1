/* kl_plan.c: how week05-task2-kl is graded, with every expected value from kl_reference.c.
 *
 * Tolerances: 1e-12 (absolute) for every divergence. The reference's own error is near
 * 1e-16 and a careful submission's the same, so 1e-12 leaves four orders of magnitude for
 * a different but sound way of summing, while any mistake in a formula shows at 1e-3 or more.
 */
#include <math.h>
#include <stdio.h>

#include "grade_lib.h"
#include "kl_reference.h"

#define TOL 1e-12

int main(void)
{
    const double p1 = 0.4, p2 = 0.8;
    plan_exercise("week05-task2-kl", "Task 2: the KL divergence between two Bernoulli distributions");
    plan_requires("week05-task2-kl/Makefile week05-task2-kl/main.c week05-task2-kl/kl_bernoulli.h");
    plan_question("Task 2a");   /* every value below comes from the divergence of kl.c */

    /* The sheet's pair, part (a) and the sweep of part (b). */
    plan_run("sheet", 1, 0, 60, "--p1 0.4 --p2 0.8 --steps 1000 --quiet",
             "runs on the sheet's pair (--p1 0.4 --p2 0.8) and writes results.tsv");
    plan_num("sheet", 2, "kl_p1_p2", ref_kl_bernoulli(p1, p2), TOL,
             "KL(0.4 ‖ 0.8) = %.6f… to 1e-12", ref_kl_bernoulli(p1, p2));
    plan_num("sheet", 2, "kl_p2_p1", ref_kl_bernoulli(p2, p1), TOL,
             "KL(0.8 ‖ 0.4) = %.6f… to 1e-12", ref_kl_bernoulli(p2, p1));
    plan_mistake("sheet", "kl_p1_p2", ref_kl_bernoulli(p2, p1), "KL(0.8 ‖ 0.4): p1 and p2 are swapped");
    plan_mistake("sheet", "kl_p2_p1", ref_kl_bernoulli(p1, p2), "KL(0.4 ‖ 0.8): p1 and p2 are swapped");
    plan_mistake("sheet", "kl_p1_p2", -ref_kl_bernoulli(p1, p2), "minus the divergence: a sign flipped");
    plan_num("sheet", 1, "kl_p1_p2_term_x1", ref_kl_term(p1, p2), TOL,
             "the x = 1 term of KL(0.4 ‖ 0.8), 0.4 ln(0.4/0.8) = %.6f…", ref_kl_term(p1, p2));
    plan_num("sheet", 1, "kl_p1_p2_term_x0", ref_kl_term(1 - p1, 1 - p2), TOL,
             "the x = 0 term of KL(0.4 ‖ 0.8), 0.6 ln(0.6/0.2) = %.6f…", ref_kl_term(1 - p1, 1 - p2));
    plan_num("sheet", 1, "sweep_kl_p1_p2_min", ref_kl_bernoulli(p1, p1), TOL,
             "sweep: the smallest KL(0.4 ‖ p2) is 0");
    plan_num("sheet", 1, "sweep_kl_p1_p2_argmin_p2", p1, TOL, "sweep: KL(0.4 ‖ p2) is smallest at p2 = 0.4");
    plan_num("sheet", 1, "sweep_kl_p1_p2_at_p2_0", ref_kl_bernoulli(p1, 0.0), 0.0,
             "sweep: KL(0.4 ‖ 0) = inf (mass where the second has none)");
    plan_num("sheet", 1, "sweep_kl_p2_p1_at_p2_0", ref_kl_bernoulli(0.0, p1), TOL,
             "sweep: KL(0 ‖ 0.4) = ln(1/0.6) = %.6f…", ref_kl_bernoulli(0.0, p1));
    plan_num("sheet", 1, "sweep_kl_p2_p1_at_p2_1", ref_kl_bernoulli(1.0, p1), TOL,
             "sweep: KL(1 ‖ 0.4) = ln(1/0.4) = %.6f…", ref_kl_bernoulli(1.0, p1));

    /* An edge case of part (a): one direction infinite, the other finite. */
    plan_run("edge", 1, 0, 60, "--p1 0.3 --p2 0 --steps 100 --quiet",
             "runs on an edge case (--p1 0.3 --p2 0) and writes results.tsv");
    plan_num("edge", 1, "kl_p1_p2", ref_kl_bernoulli(0.3, 0.0), 0.0, "KL(0.3 ‖ 0) = inf");
    plan_num("edge", 1, "kl_p2_p1", ref_kl_bernoulli(0.0, 0.3), TOL,
             "KL(0 ‖ 0.3) = ln(1/0.7) = %.6f…", ref_kl_bernoulli(0.0, 0.3));

    plan_mistake("edge", "kl_p1_p2", ref_kl_bernoulli(0.0, 0.3), "KL(0 ‖ 0.3): p1 and p2 are swapped");
    plan_mistake("edge", "kl_p2_p1", ref_kl_bernoulli(0.3, 0.0), "KL(0.3 ‖ 0): p1 and p2 are swapped");

    plan_question(NULL);   /* the program's own check of its options */
    plan_run("bad_p1", 1, 2, 30, "--p1 1.5", "refuses --p1 1.5 (not a probability) with exit status 2");

    /* The function itself, linked against the reference. */
    plan_question("Task 2a");
    plan_harness(1, 60, "the submission's kl_bernoulli links against the reference tests");
    plan_fn(2, "kl_04_08", "kl_bernoulli(0.4, 0.8) = %.6f… to 1e-12", ref_kl_bernoulli(p1, p2));
    plan_fn(2, "kl_08_04", "kl_bernoulli(0.8, 0.4) = %.6f… to 1e-12", ref_kl_bernoulli(p2, p1));
    static const plan_fn_row functions[] = {
        { 1, "kl_equal",
          "kl_bernoulli(0.37, 0.37) = 0", NULL },
        { 3, "kl_grid",
          "kl_bernoulli agrees with the reference on a 19x19 grid of (p, q) in [0.05, 0.95], to 1e-12", NULL },
        { 1, "kl_nonnegative",
          "kl_bernoulli(p, q) >= 0 on that grid (Gibbs' inequality)", NULL },
        { 2, "kl_edges",
          "kl_bernoulli at the edges: KL(0 ‖ 0.3), KL(1 ‖ 0.6), KL(1 ‖ 1), KL(0 ‖ 0) finite; KL(0.4 ‖ 0), KL(0.4 ‖ 1) = inf", NULL },
        { 1, "kl_refuses_p",
          "kl_bernoulli(1.5, 0.3) refuses with AE_EDOM and leaves its output alone", NULL },
        { 1, "kl_refuses_nan",
          "kl_bernoulli(0.3, NaN) refuses with AE_EDOM", NULL },
        { 1, "kl_split",
          "kl_bernoulli_split(0.4, 0.8) gives both terms and their sum", NULL },
    };
    PLAN_FNS(functions);
    return 0;
}
