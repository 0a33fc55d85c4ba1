/* test_kl_bernoulli.c: KL(Ber(p) || Ber(q)) of week05-task2-kl (kl.c) and its program.
 *
 *   Core      the sheet's pair (a) against hand-computed values, asymmetry, zero at p = q,
 *             non-negativity over a grid, the sweep grid
 *   Edges     q = 0, q = 1, p = 0, p = 1, both 0, both 1 (finite value or inf)
 *   Accuracy  1e-12 relative against an independent computation, also for nearly equal p, q
 *   Limits    invalid arguments refused
 *   Program   bin/week05-task2-kl: its outputs, and exit status 2 with no files on bad input
 *
 * The independent computation is the textbook sum p ln(p/q) + (1-p) ln((1-p)/(1-q)), done in
 * 113-bit floating point (__float128) with logarithms written out here. Its two terms cancel
 * when q is near p, but with 113 bits they still leave far more than 12 correct digits; the
 * library instead adds two non-negative pieces in double precision, a different algebraic form.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "io/fileio.h"
#include "kl_bernoulli.h"
#include "io/plot.h"
#include "io/results.h"
#include "testutil.h"

#define PROGRAM "week05-task2-kl"
#define HAND_TOL 1e-14      /* relative; the hand values below have 20 digits */
#define REFERENCE_TOL 1e-12 /* relative, as the exercise asks */

/* Hand computation of (a), with ln 2 = 0.69314718055994530942 and ln 3 = 1.09861228866810969140:
 *   KL(0.4 || 0.8) = 0.4 ln(0.4/0.8) + 0.6 ln(0.6/0.2) = -0.4 ln 2 + 0.6 ln 3
 *   KL(0.8 || 0.4) = 0.8 ln(0.8/0.4) + 0.2 ln(0.2/0.6) =  0.8 ln 2 - 0.2 ln 3 */
static const double ln2 = 0.69314718055994530942, ln3 = 1.09861228866810969140;
static const double kl_a_forward = 0.38190850097688769107;    /* 0.6 ln 3 - 0.4 ln 2 */
static const double kl_a_backward = 0.33479528671433430925;   /* 0.8 ln 2 - 0.2 ln 3 */

static double relative_error(double value, double expected)
{
    if (value == expected) return 0.0;   /* also inf == inf */
    return fabs(value - expected) / fabs(expected);
}

static double kl(double p, double q)
{
    double value = NAN;
    int rc = kl_bernoulli(p, q, &value);
    ck_assert_msg(rc == AE_OK, "kl_bernoulli(%.17g, %.17g) refused: %s", p, q, error_message());
    return value;
}

/* ---- the independent computation, in 113-bit floating point ---- */

#ifdef __SIZEOF_FLOAT128__
typedef __float128 wide;
#else
typedef long double wide;   /* 113 bits on the platforms without __float128 (aarch64, ppc64le) */
#endif

/* 2 atanh z = 2 (z + z^3/3 + z^5/5 + ...), converging fast for |z| <= 0.18 */
static wide twice_atanh(wide z)
{
    wide z2 = z * z, power = z, sum = 0;
    for (int k = 0; k < 200; k++) {
        wide term = power / (2 * k + 1);
        sum += term;
        if (fabs((double)term) <= 1e-36 * fabs((double)sum)) break;
        power *= z2;
    }
    return 2 * sum;
}

/* ln x for x > 0: x = m 2^e with m^2 in [1/2, 2], ln x = e ln 2 + 2 atanh((m-1)/(m+1)) */
static wide wide_log(wide x)
{
    if (!(x > 0)) return (wide)NAN;
    static wide log_two = 0;
    if (log_two == 0) log_two = twice_atanh((wide)1 / 3);   /* ln 2 = 2 atanh(1/3) */
    int exponent = 0;
    while (x >= 2) { x /= 2; exponent++; }
    while (x < 1) { x *= 2; exponent--; }
    if (x * x > 2) { x /= 2; exponent++; }
    return exponent * log_two + twice_atanh((x - 1) / (x + 1));
}

/* ln(a / b) given u = (a - b) / b: near a = b as 2 atanh(u / (2 + u)), which does not form
 * 1 + u and so keeps every digit of the small difference; elsewhere from the ratio itself. */
static wide wide_log_ratio(wide a, wide b, wide u)
{
    if (fabs((double)u) < 0.25) return twice_atanh(u / (2 + u));
    return wide_log(a / b);
}

/* The textbook sum with the convention 0 ln(0/b) = 0 and a ln(a/0) = inf for a > 0. */
static void reference_terms(double p, double q, double *term_x1, double *term_x0, double *total)
{
    wide P = p, Q = q, x1 = 0, x0 = 0;
    int infinite = 0;
    if (p > 0) {
        if (q == 0) infinite = 1;
        else x1 = P * wide_log_ratio(P, Q, (P - Q) / Q);                    /* p ln(p/q) */
    }
    if (p < 1) {
        if (q == 1) infinite = 1;
        else x0 = (1 - P) * wide_log_ratio(1 - P, 1 - Q, (Q - P) / (1 - Q));   /* (1-p) ln((1-p)/(1-q)) */
    }
    *term_x1 = p > 0 && q == 0 ? INFINITY : (double)x1;
    *term_x0 = p < 1 && q == 1 ? INFINITY : (double)x0;
    *total = infinite ? INFINITY : (double)(x1 + x0);
}

static double reference_kl(double p, double q)
{
    double x1, x0, total;
    reference_terms(p, q, &x1, &x0, &total);
    return total;
}

/* ---- Core ---- */

START_TEST(part_a_matches_hand_computation)
{
    double forward = kl(0.4, 0.8), backward = kl(0.8, 0.4);
    ck_assert_msg(relative_error(forward, kl_a_forward) < HAND_TOL,
                  "KL(0.4 || 0.8) = %.17g, by hand %.17g", forward, kl_a_forward);
    ck_assert_msg(relative_error(backward, kl_a_backward) < HAND_TOL,
                  "KL(0.8 || 0.4) = %.17g, by hand %.17g", backward, kl_a_backward);
}
END_TEST

START_TEST(part_a_terms_match_hand_computation)
{
    kl_bernoulli_terms t;
    ck_assert_int_eq(kl_bernoulli_split(0.4, 0.8, &t), AE_OK);
    ck_assert_double_eq_tol(t.term_x1, -0.4 * ln2, 1e-15);   /* 0.4 ln(1/2) */
    ck_assert_double_eq_tol(t.term_x0, 0.6 * ln3, 1e-15);    /* 0.6 ln 3 */
    ck_assert_double_eq_tol(t.total, kl_a_forward, 1e-15);
    ck_assert_int_eq(kl_bernoulli_split(0.8, 0.4, &t), AE_OK);
    ck_assert_double_eq_tol(t.term_x1, 0.8 * ln2, 1e-15);    /* 0.8 ln 2 */
    ck_assert_double_eq_tol(t.term_x0, -0.2 * ln3, 1e-15);   /* 0.2 ln(1/3) */
    ck_assert_double_eq_tol(t.total, kl_a_backward, 1e-15);
}
END_TEST

START_TEST(kl_is_not_symmetric)
{
    /* p + q != 1 on purpose: KL(p || 1-p) = (2p-1) ln(p/(1-p)) happens to be symmetric */
    double forward = kl(0.15, 0.62), backward = kl(0.62, 0.15);
    ck_assert_msg(relative_error(forward, reference_kl(0.15, 0.62)) < REFERENCE_TOL, "KL(0.15 || 0.62) = %.17g", forward);
    ck_assert_msg(relative_error(backward, reference_kl(0.62, 0.15)) < REFERENCE_TOL, "KL(0.62 || 0.15) = %.17g", backward);
    ck_assert_msg(fabs(forward - backward) > 0.05,
                  "KL(0.15 || 0.62) = %.6f and KL(0.62 || 0.15) = %.6f should differ", forward, backward);
}
END_TEST

START_TEST(kl_is_zero_at_equal_arguments)
{
    const double values[] = { 0.0, 1.0, 0.5, 0.4, 0.2385, 0.9137, 1e-300, 1.0 - 0x1p-53 };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        ck_assert_msg(kl(values[i], values[i]) == 0.0, "KL(%.17g || same) = %.17g, not 0",
                      values[i], kl(values[i], values[i]));
}
END_TEST

START_TEST(kl_is_non_negative_and_zero_only_on_the_diagonal)
{
    const int n = 80;   /* 81 x 81 pairs, both ends included */
    for (int i = 0; i <= n; i++)
        for (int j = 0; j <= n; j++) {
            double p = (double)i / n, q = (double)j / n, value = kl(p, q);
            ck_assert_msg(!isnan(value) && value >= 0.0, "KL(%g || %g) = %g", p, q, value);
            if (i != j) ck_assert_msg(value > 0.0, "KL(%g || %g) = 0 although p != q", p, q);
        }
}
END_TEST

START_TEST(sweep_grid_hits_zero_p1_and_one)
{
    const double p1s[] = { 0.4, 0.0, 1.0, 0.2385, 0.999, 1e-9, 1.0 - 1e-12, 0.5 };
    const int steps[] = { 2, 3, 7, 10, 1000, 4097 };
    double *grid = malloc((4097 + 1) * sizeof *grid);
    for (size_t a = 0; a < sizeof p1s / sizeof p1s[0]; a++)
        for (size_t b = 0; b < sizeof steps / sizeof steps[0]; b++) {
            int at = -1, n = steps[b];
            ck_assert_int_eq(kl_sweep_grid(p1s[a], n, grid, &at), AE_OK);
            ck_assert_msg(grid[0] == 0.0 && grid[n] == 1.0, "p1 = %g, steps %d: ends %.17g, %.17g",
                          p1s[a], n, grid[0], grid[n]);
            ck_assert_msg(at >= 0 && at <= n && grid[at] == p1s[a], "p1 = %g, steps %d: p1 not a grid point",
                          p1s[a], n);
            for (int i = 1; i <= n; i++)
                ck_assert_msg(grid[i] > grid[i - 1], "p1 = %g, steps %d: grid not increasing at %d", p1s[a], n, i);
        }
    free(grid);
}
END_TEST

/* ---- Edges: one row per case, (p, q, expected) with the convention of kl_bernoulli.h ---- */

typedef struct { const char *what; double p, q, expected; } edge_case;

static const edge_case edges[] = {
    { "q = 0, p > 0: mass on x = 1 where the second has none", 0.3125, 0.0, INFINITY },
    { "q = 1, p < 1: mass on x = 0 where the second has none", 0.3125, 1.0, INFINITY },
    { "p = 0, q in (0,1): only x = 0 counts, ln(1/(1-q))", 0.0, 0.2385, 0.27246510664692054 },
    { "p = 1, q in (0,1): only x = 1 counts, ln(1/q)", 1.0, 0.2385, 1.4333859686537412 },
    { "p = 0, q = 1: all mass on x = 0, which the second never gives", 0.0, 1.0, INFINITY },
    { "p = 1, q = 0: all mass on x = 1, which the second never gives", 1.0, 0.0, INFINITY },
    { "both 0: the same distribution", 0.0, 0.0, 0.0 },
    { "both 1: the same distribution", 1.0, 1.0, 0.0 },
};

START_TEST(edge_cases_follow_the_convention)
{
    const edge_case *c = &edges[_i];
    double value = kl(c->p, c->q);
    ck_assert_msg(relative_error(value, c->expected) < HAND_TOL,
                  "%s: KL(%g || %g) = %.17g, expected %.17g", c->what, c->p, c->q, value, c->expected);
    /* the two hand values: -ln(1 - 0.2385) and -ln(0.2385) */
    if (isfinite(c->expected) && c->expected > 0)
        ck_assert_double_eq_tol(value, c->p == 0 ? -log1p(-0.2385) : -log(0.2385), 1e-15);
}
END_TEST

START_TEST(edge_terms_are_zero_or_inf)
{
    kl_bernoulli_terms t;
    ck_assert_int_eq(kl_bernoulli_split(0.0, 0.2385, &t), AE_OK);
    ck_assert(t.term_x1 == 0.0);                                   /* 0 ln(0/0.2385) = 0 */
    ck_assert_double_eq_tol(t.term_x0, -log1p(-0.2385), 1e-15);
    ck_assert_int_eq(kl_bernoulli_split(0.3125, 0.0, &t), AE_OK);
    ck_assert(isinf(t.term_x1) && t.term_x1 > 0);                  /* 0.3125 ln(0.3125/0) */
    ck_assert_double_eq_tol(t.term_x0, 0.6875 * log(0.6875), 1e-15);
    ck_assert(isinf(t.total) && t.total > 0);
    ck_assert_int_eq(kl_bernoulli_split(1.0, 1.0, &t), AE_OK);
    ck_assert(t.term_x1 == 0.0 && t.term_x0 == 0.0 && t.total == 0.0);   /* 0 ln(0/0) = 0 */
}
END_TEST

/* ---- Accuracy ---- */

static void check_against_reference(double p, double q)
{
    kl_bernoulli_terms t;
    double x1, x0, total;
    ck_assert_int_eq(kl_bernoulli_split(p, q, &t), AE_OK);
    reference_terms(p, q, &x1, &x0, &total);
    ck_assert_msg(relative_error(t.total, total) <= REFERENCE_TOL,
                  "KL(%.17g || %.17g) = %.17g, reference %.17g (relative error %.3g)",
                  p, q, t.total, total, relative_error(t.total, total));
    ck_assert_msg(relative_error(t.term_x1, x1) <= REFERENCE_TOL && relative_error(t.term_x0, x0) <= REFERENCE_TOL,
                  "terms of KL(%.17g || %.17g): %.17g, %.17g; reference %.17g, %.17g",
                  p, q, t.term_x1, t.term_x0, x1, x0);
}

START_TEST(hard_pairs_agree_with_reference)
{
    const double pairs[][2] = {
        { 0.4, 0.8 }, { 0.8, 0.4 },
        { 0.4, 0.40000000000000008 }, { 0.40000000000000008, 0.4 },   /* one unit in the last place */
        { 0.4, 0.4 + 1e-9 }, { 0.3, 0.3000001 }, { 0.75, 0.5 }, { 0.25, 0.5 },   /* a/b - 1 = +-1/2 */
        { 1e-300, 2e-300 }, { 1e-20, 1e-10 }, { 1e-10, 1e-20 }, { 1e-300, 0.9 }, { 0.9, 1e-300 },
        { 0.5, 5e-324 }, { 5e-324, 0.5 }, { 1e-310, 3e-310 },
        { 1.0 - 0x1p-53, 0.5 }, { 0.5, 1.0 - 0x1p-53 }, { 1.0 - 0x1p-53, 1.0 - 0x1p-52 },
        { 0.999999, 0.9999991 }, { 0.0, 0.3 }, { 1.0, 0.3 }, { 0.3, 1e-16 }, { 1e-16, 0.3 },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) check_against_reference(pairs[i][0], pairs[i][1]);
}
END_TEST

START_TEST(random_pairs_agree_with_reference)
{
    gsl_rng *rng = test_rng(2385);
    for (int n = 0; n < 3000; n++) {
        double p;
        switch (n % 3) {
        case 0: p = gsl_rng_uniform(rng); break;                                /* anywhere */
        case 1: p = pow(10.0, -300.0 * gsl_rng_uniform(rng)); break;           /* near 0 */
        default: p = 1.0 - pow(10.0, -16.0 * gsl_rng_uniform(rng)); break;    /* near 1 */
        }
        double q;
        if (n % 2) q = gsl_rng_uniform(rng);
        else q = p * (1.0 + (gsl_rng_uniform(rng) - 0.5) * pow(10.0, -15.0 * gsl_rng_uniform(rng)));   /* near p */
        if (q > 1.0) q = 1.0;
        check_against_reference(p, q);
        check_against_reference(q, p);
    }
    gsl_rng_free(rng);
}
END_TEST

/* ---- Limits ---- */

START_TEST(invalid_probabilities_are_refused)
{
    const double bad[] = { -0.1, 1.0000001, -1e-300, NAN, INFINITY, -INFINITY, 2.385 };
    kl_bernoulli_terms t;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double value = 0.2385;
        ck_assert_int_eq(kl_bernoulli(bad[i], 0.5, &value), AE_EDOM);
        ck_assert_int_eq(kl_bernoulli(0.5, bad[i], &value), AE_EDOM);
        ck_assert_msg(value == 0.2385, "a refused call changed its output");
        ck_assert_msg(strstr(error_message(), "[0, 1]") != NULL, "message: %s", error_message());
        ck_assert_int_eq(kl_bernoulli_split(bad[i], 0.5, &t), AE_EDOM);
        ck_assert_int_eq(kl_bernoulli_split(0.5, bad[i], &t), AE_EDOM);
    }
}
END_TEST

START_TEST(sweep_grid_refuses_bad_arguments)
{
    double grid[8];
    ck_assert_int_eq(kl_sweep_grid(0.4, 1, grid, NULL), AE_EINVAL);
    ck_assert_int_eq(kl_sweep_grid(0.4, KL_SWEEP_MAX_STEPS + 1, grid, NULL), AE_EINVAL);
    ck_assert_int_eq(kl_sweep_grid(NAN, 7, grid, NULL), AE_EDOM);
    ck_assert_int_eq(kl_sweep_grid(1.5, 7, grid, NULL), AE_EDOM);
}
END_TEST

/* ---- Program ---- */

START_TEST(program_default_run_writes_part_a_and_the_sweep)
{
    char dir[512];
    const char *args[] = { NULL };
    test_run_into(dir, sizeof dir, PROGRAM, args);

    results *r = test_results(dir);
    ck_assert(test_result(r, "p1") == 0.4 && test_result(r, "p2") == 0.8);
    ck_assert(relative_error(test_result(r, "kl_p1_p2"), kl_a_forward) < HAND_TOL);
    ck_assert(relative_error(test_result(r, "kl_p2_p1"), kl_a_backward) < HAND_TOL);
    ck_assert_double_eq_tol(test_result(r, "kl_p1_p2_term_x1"), -0.4 * ln2, 1e-15);
    ck_assert_double_eq_tol(test_result(r, "kl_p2_p1_term_x0"), -0.2 * ln3, 1e-15);
    ck_assert(test_result(r, "sweep_points") == 1001);
    ck_assert(test_result(r, "sweep_kl_p1_p2_min") == 0.0 && test_result(r, "sweep_kl_p1_p2_argmin_p2") == 0.4);
    ck_assert(test_result(r, "sweep_kl_p2_p1_min") == 0.0 && test_result(r, "sweep_kl_p2_p1_argmin_p2") == 0.4);
    ck_assert(isinf(test_result(r, "sweep_kl_p1_p2_at_p2_0")) && isinf(test_result(r, "sweep_kl_p1_p2_at_p2_1")));
    ck_assert_double_eq_tol(test_result(r, "sweep_kl_p2_p1_at_p2_0"), -log(0.6), 1e-15);   /* KL(0 || 0.4) */
    ck_assert_double_eq_tol(test_result(r, "sweep_kl_p2_p1_at_p2_1"), -log(0.4), 1e-15);   /* KL(1 || 0.4) */
    results_free(r);

    /* kl_sweep.dat: 1001 rows of (p2, KL(p1||p2), KL(p2||p1)), hitting 0, p1 and 1, inf as "inf" */
    char path[AE_PATH_MAX], line[256];
    snprintf(path, sizeof path, "%s/kl_sweep.dat", dir);
    FILE *dat = fopen(path, "r");
    ck_assert_msg(dat != NULL, "no %s", path);
    int rows = 0, saw_zero = 0, saw_p1 = 0, saw_one = 0;
    while (fgets(line, sizeof line, dat)) {
        if (line[0] == '#') continue;
        double p2, forward, backward;
        ck_assert_msg(sscanf(line, "%lf %lf %lf", &p2, &forward, &backward) == 3, "bad row: %s", line);
        if (p2 == 0.0) saw_zero = isinf(forward) && strstr(line, "inf") != NULL;
        if (p2 == 0.4) saw_p1 = forward == 0.0 && backward == 0.0;
        if (p2 == 1.0) saw_one = isinf(forward);
        if (isfinite(forward) && rows % 97 == 0)
            ck_assert(relative_error(forward, reference_kl(0.4, p2)) < REFERENCE_TOL);
        rows++;
    }
    fclose(dat);
    ck_assert_int_eq(rows, 1001);
    ck_assert_msg(saw_zero && saw_p1 && saw_one, "rows at p2 = 0 / p1 / 1: %d %d %d", saw_zero, saw_p1, saw_one);
    ck_assert(test_file_in(dir, "kl_sweep.gp"));
    if (gnuplot_available()) ck_assert_msg(test_file_in(dir, "kl_sweep.png"), "no kl_sweep.png");
}
END_TEST

START_TEST(program_handles_any_pair_and_steps)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/out", test_tmpdir());
    const char *args[] = { "--p1", "0.3", "--p2", "0", "--steps", "7", "--no-plot", "--out", dir, NULL };
    ck_assert_int_eq(run_program(PROGRAM, args, NULL), 0);
    results *r = test_results(dir);
    ck_assert(isinf(test_result(r, "kl_p1_p2")));                                 /* KL(0.3 || 0) */
    ck_assert_double_eq_tol(test_result(r, "kl_p2_p1"), -log(0.7), 1e-15);       /* KL(0 || 0.3) */
    ck_assert(test_result(r, "sweep_points") == 8);
    ck_assert(test_result(r, "sweep_kl_p1_p2_argmin_p2") == 0.3);
    results_free(r);
    ck_assert(!test_file_in(dir, "kl_sweep.png"));   /* --no-plot */
}
END_TEST

static const char *const bad_arguments[][2] = {
    { "--p1", "1.5" }, { "--p2", "-0.1" }, { "--p1", "nan" }, { "--p2", "NaN" },
    { "--p1", "abc" }, { "--p2", "inf" }, { "--steps", "1" }, { "--steps", "100001" }, { "--steps", "ten" },
};

START_TEST(program_refuses_bad_input)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/out", test_tmpdir());
    const char *args[] = { bad_arguments[_i][0], bad_arguments[_i][1], "--out", dir, NULL };
    ck_assert_msg(run_program(PROGRAM, args, NULL) == 2, "%s %s %s: exit status not 2",
                  PROGRAM, args[0], args[1]);
    ck_assert_msg(!test_file_in(dir, "results.tsv") && !test_file_in(dir, "kl_sweep.dat") && !test_file_in(dir, "kl_sweep.gp"),
                  "%s %s left output files behind", args[0], args[1]);
}
END_TEST

Suite *kl_bernoulli_suite(void)
{
    Suite *s = suite_create("kl_bernoulli");

    test_add(test_case(s, "Core", 0), part_a_matches_hand_computation, part_a_terms_match_hand_computation,
             kl_is_not_symmetric, kl_is_zero_at_equal_arguments, kl_is_non_negative_and_zero_only_on_the_diagonal,
             sweep_grid_hits_zero_p1_and_one);

    TCase *edge = test_case(s, "Edges", 0);
    tcase_add_loop_test(edge, edge_cases_follow_the_convention, 0, (int)(sizeof edges / sizeof edges[0]));
    tcase_add_test(edge, edge_terms_are_zero_or_inf);

    test_add(test_case(s, "Accuracy", 30), hard_pairs_agree_with_reference, random_pairs_agree_with_reference);

    test_add(test_case(s, "Limits", 0), invalid_probabilities_are_refused, sweep_grid_refuses_bad_arguments);

    TCase *program = test_case(s, "Program", 30);
    test_add(program, program_default_run_writes_part_a_and_the_sweep, program_handles_any_pair_and_steps);
    tcase_add_loop_test(program, program_refuses_bad_input, 0,
                        (int)(sizeof bad_arguments / sizeof bad_arguments[0]));
    return s;
}
