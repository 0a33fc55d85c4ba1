/* kl_parts.c: the two parts of Task 2, printed, drawn and written to results.tsv (see kl_parts.h).
 *
 * The divergence itself is kl_bernoulli() in kl.c, the function the exercise asks for; this file
 * only calls it and shows what it gives.
 */
#include "kl_parts.h"
#include "error.h"
#include "io/fileio.h"
#include "io/plot.h"
#include "kl_bernoulli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define CLIP_NATS 3.0           /* the figure's y axis stops near here; beyond it only arrows say "-> inf" */

/* One divergence of part (a), with its sum written out. */
typedef struct {
    const char *first, *second;   /* "p1", "p2": whose distribution comes first */
    double p, q;                  /* the first's and second's probability of x = 1 */
    kl_bernoulli_terms terms;
} divergence_case;

/* Why a term is what it is, when a zero mass decides it. */
static const char *term_note(double first_mass, double second_mass)
{
    if (first_mass == 0.0) return "   (0 ln(0/b) = 0 by convention)";
    if (second_mass == 0.0) return "   (mass where the second has none)";
    return "";
}

static void print_divergence(const divergence_case *c)
{
    const char *a = c->first, *b = c->second;
    char expr[128];
    printf("KL(f(x|%s) || f(x|%s)) = %s ln(%s/%s) + (1-%s) ln((1-%s)/(1-%s))\n", a, b, a, a, b, a, a, b);
    snprintf(expr, sizeof expr, "%g * ln(%g / %g)", c->p, c->p, c->q);
    printf("  x = 1:  %-34s = %10.6f%s\n", expr, c->terms.term_x1, term_note(c->p, c->q));
    snprintf(expr, sizeof expr, "%g * ln(%g / %g)", 1.0 - c->p, 1.0 - c->p, 1.0 - c->q);
    printf("  x = 0:  %-34s = %10.6f%s\n", expr, c->terms.term_x0, term_note(1.0 - c->p, 1.0 - c->q));
    snprintf(expr, sizeof expr, "KL(f(x|%s) || f(x|%s))", a, b);
    printf("  sum:    %-34s = %10.6f\n\n", expr, c->terms.total);
}

/* One sentence on the asymmetry of the pair of part (a). */
static void print_comparison(double kl_p1_p2, double kl_p2_p1)
{
    double difference = kl_p1_p2 - kl_p2_p1;
    if (isinf(kl_p1_p2) && isinf(kl_p2_p1))
        printf("Both divergences are infinite.\n\n");
    else if (isinf(kl_p1_p2) || isinf(kl_p2_p1))
        printf("One direction is infinite and the other finite: KL is not symmetric.\n\n");
    else if (fabs(difference) <= 1e-12 * fmax(kl_p1_p2, kl_p2_p1))
        /* KL(p || 1-p) = (2p - 1) ln(p / (1-p)) is symmetric in p and 1 - p */
        printf("The two directions agree for this pair (they always do when p1 = p2 or p1 + p2 = 1).\n\n");
    else
        printf("KL(p1 || p2) - KL(p2 || p1) = %.6f: KL is not symmetric.\n\n", difference);
}

/* The sweep of part (b): p2 (n) and both curves (n). */
typedef struct {
    int n, p1_index;
    double *p2, *kl_p1_p2, *kl_p2_p1;   /* (n) each: the grid and both curves on it */
    int argmin_p1_p2, argmin_p2_p1;
} sweep;

static void sweep_free(sweep *s)
{
    free(s->p2);
    free(s->kl_p1_p2);
    free(s->kl_p2_p1);
}

static int sweep_run(sweep *s, double p1, int steps)
{
    s->n = steps + 1;
    s->p2 = malloc((size_t)s->n * sizeof *s->p2);
    s->kl_p1_p2 = malloc((size_t)s->n * sizeof *s->kl_p1_p2);
    s->kl_p2_p1 = malloc((size_t)s->n * sizeof *s->kl_p2_p1);
    if (!s->p2 || !s->kl_p1_p2 || !s->kl_p2_p1) return AE_ERROR(AE_ENOMEM, "out of memory for %d sweep points", s->n);
    int rc = kl_sweep_grid(p1, steps, s->p2, &s->p1_index);
    if (rc != AE_OK) return rc;
    s->argmin_p1_p2 = s->argmin_p2_p1 = 0;
    for (int i = 0; i < s->n; i++) {
        if ((rc = kl_bernoulli(p1, s->p2[i], &s->kl_p1_p2[i])) != AE_OK) return rc;
        if ((rc = kl_bernoulli(s->p2[i], p1, &s->kl_p2_p1[i])) != AE_OK) return rc;
        if (s->kl_p1_p2[i] < s->kl_p1_p2[s->argmin_p1_p2]) s->argmin_p1_p2 = i;
        if (s->kl_p2_p1[i] < s->kl_p2_p1[s->argmin_p2_p1]) s->argmin_p2_p1 = i;
    }
    return AE_OK;
}

/* Index of the sweep point nearest to p2 = target. */
static int nearest_point(const sweep *s, double target)
{
    int best = 0;
    for (int i = 1; i < s->n; i++)
        if (fabs(s->p2[i] - target) < fabs(s->p2[best] - target)) best = i;
    return best;
}

static void print_sweep(const sweep *s, double p1, int steps, int quiet)
{
    printf("Part (b): p1 = %g fixed, p2 swept over [0, 1] in %d steps (%d intervals on [0, p1], %d on [p1, 1]);\n",
           p1, steps, s->p1_index, s->n - 1 - s->p1_index);
    printf("p2 = 0, p2 = p1 and p2 = 1 are points of the sweep.\n\n");
    printf("  %-18s %16s %16s\n", "p2", "KL(p1 || p2)", "KL(p2 || p1)");
    if (!quiet) {
        /* every tenth of the range, and p1 itself, read off the sweep */
        int last = -1;
        for (int k = 0; k <= 10; k++) {
            int i = nearest_point(s, k / 10.0);
            if (last < s->p1_index && i > s->p1_index) {
                int j = s->p1_index;
                printf("  %-18.6g %16.6f %16.6f   <- p2 = p1\n", s->p2[j], s->kl_p1_p2[j], s->kl_p2_p1[j]);
            }
            if (i != last)
                printf("  %-18.6g %16.6f %16.6f%s\n", s->p2[i], s->kl_p1_p2[i], s->kl_p2_p1[i],
                       i == s->p1_index ? "   <- p2 = p1" : "");
            last = i;
        }
    }
    printf("  %-18s %16.6f %16.6f\n", "minimum", s->kl_p1_p2[s->argmin_p1_p2], s->kl_p2_p1[s->argmin_p2_p1]);
    printf("  %-18s %16.6g %16.6g\n\n", "  at p2 =", s->p2[s->argmin_p1_p2], s->p2[s->argmin_p2_p1]);
}

static double max_finite(const double *values, int n)
{
    double m = 0.0;
    for (int i = 0; i < n; i++)
        if (isfinite(values[i]) && values[i] > m) m = values[i];
    return m;
}

static int write_sweep_data(const char *path, const sweep *s, double p1)
{
    atomic_file af;
    int rc = atomic_open(&af, path);
    if (rc != AE_OK) return rc;
    fprintf(af.fp, "# KL divergence between Ber(p1) and Ber(p2) for p1 = %.17g, p2 swept over [0, 1]\n", p1);
    fprintf(af.fp, "# an infinite divergence is written as inf (gnuplot skips it: set datafile missing 'inf')\n");
    fprintf(af.fp, "# p2\tKL(p1||p2)\tKL(p2||p1)\n");
    for (int i = 0; i < s->n; i++)
        fprintf(af.fp, "%.17g\t%.17g\t%.17g\n", s->p2[i], s->kl_p1_p2[i], s->kl_p2_p1[i]);
    return atomic_commit(&af);
}

/* The "-> inf" marks of one curve: an arrow out of the top at each end where it is infinite,
 * or one note when it is infinite everywhere but at p2 = p1 (p1 = 0 or 1). */
static void write_infinity_marks(FILE *gp, const sweep *s, const double *curve, const char *name,
                                 const char *colour, double ymax, int *label_tag)
{
    int interior_infinite = 0;
    for (int i = 1; i < s->n - 1; i++) interior_infinite |= isinf(curve[i]);
    if (interior_infinite) {
        fprintf(gp, "set label %d \"%s = ∞ for every p2 ≠ p1 (not drawn)\" at graph 0.5, graph 0.62 center "
                    "tc rgb '%s' front boxed\n", (*label_tag)++, name, colour);
        return;
    }
    for (int end = 0; end < 2; end++) {
        int i = end ? s->n - 1 : 0, neighbour = end ? s->n - 2 : 1;
        if (!isinf(curve[i])) continue;
        double from = fmin(curve[neighbour], 0.8 * ymax);
        fprintf(gp, "set arrow from %g, %.6g to %g, graph 1 head filled size screen 0.015,25 lw 2 dt 2 lc rgb '%s'\n",
                s->p2[i], from, s->p2[i], colour);
        fprintf(gp, "set label %d \"%s → ∞ as p2 → %g\" at %g, graph 0.955 %s offset %d, 0 tc rgb '%s' front boxed\n",
                (*label_tag)++, name, s->p2[i], s->p2[i], end ? "right" : "left", end ? -1 : 1, colour);
    }
}

/* A finite value at an end of the sweep: a dot there, and its number for the key in `title`
 * (empty when neither end is finite), so the reader sees that the curve stops because the
 * sweep does, not because it was clipped. */
static void write_finite_ends(FILE *gp, const sweep *s, const double *curve, const char *name,
                              const char *colour, int *label_tag, char *title, size_t title_len)
{
    size_t used = 0;
    title[0] = '\0';
    for (int end = 0; end < 2; end++) {
        int i = end ? s->n - 1 : 0;
        if (!isfinite(curve[i]) || i == s->p1_index) continue;
        fprintf(gp, "set label %d '' at %g, %.6g point pt 7 ps 0.9 lc rgb '%s'\n",
                (*label_tag)++, s->p2[i], curve[i], colour);
        int w = snprintf(title + used, title_len - used, "%s%.3f at p2 = %g",
                         used ? ", " : "", curve[i], s->p2[i]);
        if (w > 0 && (size_t)w < title_len - used) used += (size_t)w;
    }
    if (used) {
        char ends[128];
        snprintf(ends, sizeof ends, "%s", title);
        snprintf(title, title_len, "%s = %s", name, ends);
    }
}

static int write_sweep_script(const char *path, const sweep *s, double p1)
{
    atomic_file af;
    int rc = atomic_open(&af, path);
    if (rc != AE_OK) return rc;
    FILE *gp = af.fp;
    char title[160];
    snprintf(title, sizeof title, "KL divergence between Ber(p1) and Ber(p2), p1 = %g", p1);
    plot_script_begin(gp, "kl_sweep", title, 0, 0);

    /* clip the y axis: near an infinite end the curve only grows like ln(1/distance) */
    double top = fmax(max_finite(s->kl_p1_p2, s->n), max_finite(s->kl_p2_p1, s->n));
    double ymax = 1.1 * (top > 0.0 ? fmin(top, CLIP_NATS) : 1.0);
    const char *blue = "#1f77b4", *red = "#d62728";

    fprintf(gp, "set encoding utf8\n");
    fprintf(gp, "# kl_sweep.dat writes an infinite divergence as inf; this line makes gnuplot skip those\n");
    fprintf(gp, "# points, so a curve stops where it is infinite instead of showing a wrong finite value.\n");
    fprintf(gp, "set datafile missing 'inf'\n");
    fprintf(gp, "p1 = %.17g\n", p1);
    fprintf(gp, "set xlabel 'p2 = probability of x = 1 under the second distribution'\n");
    fprintf(gp, "set ylabel 'KL divergence (nats)'\n");
    fprintf(gp, "# the x range leaves room to see the ends; the y axis is clipped at %.3g nats\n", ymax);
    fprintf(gp, "set xrange [-0.03:1.03]\nset yrange [%.6g:%.6g]\n", -0.04 * ymax, ymax);
    fprintf(gp, "set style textbox opaque noborder\n");
    fprintf(gp, "set xtics 0, 0.1, 1\nset grid lc rgb '#dddddd'\n");
    fprintf(gp, "set key at graph 0.5, graph 0.88 center top Left reverse box opaque\n");
    fprintf(gp, "set arrow from p1, graph 0 to p1, graph 1 nohead dt 3 lc rgb '#555555'\n");
    fprintf(gp, "# p1 named on the top axis, above its dashed line\n");
    fprintf(gp, "set link x2\nset x2tics (sprintf('p1 = %%g', p1) p1) out nomirror tc rgb '#555555'\n");
    fprintf(gp, "set xtics nomirror\n");
    int label_tag = 1;
    char ends_p1_p2[192], ends_p2_p1[192];
    write_finite_ends(gp, s, s->kl_p1_p2, "KL(p1 ‖ p2)", blue, &label_tag, ends_p1_p2, sizeof ends_p1_p2);
    write_finite_ends(gp, s, s->kl_p2_p1, "KL(p2 ‖ p1)", red, &label_tag, ends_p2_p1, sizeof ends_p2_p1);
    write_infinity_marks(gp, s, s->kl_p1_p2, "KL(p1‖p2)", blue, ymax, &label_tag);
    write_infinity_marks(gp, s, s->kl_p2_p1, "KL(p2‖p1)", red, ymax, &label_tag);
    fprintf(gp, "plot 'kl_sweep.dat' using 1:2 with lines lw 2.5 lc rgb '%s' title 'KL(p1 ‖ p2) = KL(Ber(p1) ‖ Ber(p2))', \\\n", blue);
    fprintf(gp, "     '' using 1:3 with lines lw 2.5 lc rgb '%s' title 'KL(p2 ‖ p1) = KL(Ber(p2) ‖ Ber(p1))', \\\n", red);
    fprintf(gp, "     '+' using (p1):(0) every ::0::0 with points pt 7 ps 1.5 lc rgb 'black' "
                "title 'both are 0 at p2 = p1, and only there'");
    /* key entries for the end dots: NaN draws nothing but still gets a line in the key */
    if (ends_p1_p2[0]) fprintf(gp, ", \\\n     NaN with points pt 7 ps 0.9 lc rgb '%s' title '%s'", blue, ends_p1_p2);
    if (ends_p2_p1[0]) fprintf(gp, ", \\\n     NaN with points pt 7 ps 0.9 lc rgb '%s' title '%s'", red, ends_p2_p1);
    fputc('\n', gp);
    return atomic_commit(&af);
}

/* part (a)'s results: the pair and both divergences, term by term */
static int add_pair_results(program_run *run, const divergence_case *forward, const divergence_case *backward)
{
    int rc = AE_OK;
    rc |= program_result(run, forward->p, "p1");
    rc |= program_result(run, forward->q, "p2");
    rc |= program_result(run, forward->terms.total, "kl_p1_p2");
    rc |= program_result(run, backward->terms.total, "kl_p2_p1");
    rc |= program_result(run, forward->terms.term_x1, "kl_p1_p2_term_x1");
    rc |= program_result(run, forward->terms.term_x0, "kl_p1_p2_term_x0");
    rc |= program_result(run, backward->terms.term_x1, "kl_p2_p1_term_x1");
    rc |= program_result(run, backward->terms.term_x0, "kl_p2_p1_term_x0");
    return rc == AE_OK ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory for results.tsv");
}

/* part (b)'s results: the sweep's size, its minima and its ends */
static int add_sweep_results(program_run *run, const sweep *s, int steps)
{
    int rc = AE_OK;
    results *r = run->res;
    rc |= results_add_int(r, "sweep_steps", steps);
    rc |= results_add_int(r, "sweep_points", s->n);
    rc |= results_add_double(r, "sweep_kl_p1_p2_min", s->kl_p1_p2[s->argmin_p1_p2]);
    rc |= results_add_double(r, "sweep_kl_p1_p2_argmin_p2", s->p2[s->argmin_p1_p2]);
    rc |= results_add_double(r, "sweep_kl_p2_p1_min", s->kl_p2_p1[s->argmin_p2_p1]);
    rc |= results_add_double(r, "sweep_kl_p2_p1_argmin_p2", s->p2[s->argmin_p2_p1]);
    rc |= results_add_double(r, "sweep_kl_p1_p2_at_p2_0", s->kl_p1_p2[0]);
    rc |= results_add_double(r, "sweep_kl_p1_p2_at_p2_1", s->kl_p1_p2[s->n - 1]);
    rc |= results_add_double(r, "sweep_kl_p2_p1_at_p2_0", s->kl_p2_p1[0]);
    rc |= results_add_double(r, "sweep_kl_p2_p1_at_p2_1", s->kl_p2_p1[s->n - 1]);
    return rc == AE_OK ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory for results.tsv");
}

int kl_part_a(program_run *run, double p1, double p2)
{
    divergence_case forward = { "p1", "p2", p1, p2, { 0, 0, 0 } };
    divergence_case backward = { "p2", "p1", p2, p1, { 0, 0, 0 } };
    int rc = kl_bernoulli_split(forward.p, forward.q, &forward.terms);
    if (rc == AE_OK) rc = kl_bernoulli_split(backward.p, backward.q, &backward.terms);
    if (rc != AE_OK) return rc;
    printf("Part (a): Bernoulli distributions f(x|p) = p^x (1-p)^(1-x) for x in {0, 1}, "
           "with p1 = %g and p2 = %g\n\n", p1, p2);
    print_divergence(&forward);
    print_divergence(&backward);
    print_comparison(forward.terms.total, backward.terms.total);
    return add_pair_results(run, &forward, &backward);
}

int kl_part_b(program_run *run, double p1, int steps)
{
    sweep s = { 0 };
    int rc = sweep_run(&s, p1, steps);
    if (rc == AE_OK) rc = add_sweep_results(run, &s, steps);
    if (rc == AE_OK) {
        print_sweep(&s, p1, steps, run->common->quiet);
        char dat[AE_PATH_MAX], gp[AE_PATH_MAX];
        rc = program_path(run, dat, sizeof dat, "kl_sweep.dat");
        if (rc == AE_OK) rc = program_path(run, gp, sizeof gp, "kl_sweep.gp");
        if (rc == AE_OK) rc = write_sweep_data(dat, &s, p1);
        if (rc == AE_OK) rc = write_sweep_script(gp, &s, p1);
        if (rc == AE_OK) rc = program_render(run, "kl_sweep");
    }
    sweep_free(&s);
    return rc;
}
