/* main.c: week05-task2-kl, Task 2 of the week-5 sheet: the KL divergence between two
 * Bernoulli distributions f(x|p1) and f(x|p2).
 *
 *   part (a)  both divergences KL(f(x|p1) || f(x|p2)) and KL(f(x|p2) || f(x|p1)) for one
 *             pair, each sum written out term by term (x = 1 and x = 0);
 *   part (b)  p1 fixed, p2 swept over [0, 1]: both curves into kl_sweep.dat, the script
 *             kl_sweep.gp and its figure kl_sweep.png; the key numbers into results.tsv.
 *
 * The divergence itself is kl_bernoulli() in kl.c, the function the exercise asks for.
 */
#include "io/cli.h"
#include "error.h"
#include "io/fileio.h"
#include "kl_bernoulli.h"
#include "io/plot.h"
#include "io/results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_STEPS 1000      /* 1001 points: a smooth curve at 800 pixels wide */
#define CLIP_NATS 3.0           /* the figure's y axis stops near here; beyond it only arrows say "-> inf" */

static const program_info prog_info = {
    "week05-task2-kl",
    "KL divergence between two Bernoulli distributions: part (a) for one pair (p1, p2), "
    "part (b) with p1 fixed and p2 swept over [0, 1]",
    "Examples:\n"
    "  week05-task2-kl                            the sheet's pair, p1 = 0.4 and p2 = 0.8\n"
    "  week05-task2-kl --p1 0.3 --p2 0            an edge case: KL(p1 || p2) = inf\n"
    "  week05-task2-kl --steps 40 --out /tmp/kl   a coarse sweep into another folder\n"
    "\n"
    "Writes results.tsv, kl_sweep.dat, kl_sweep.gp and kl_sweep.png into the --out folder.",
    0,                         /* no data, no training: --data, --epochs and --plain are refused */
};

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

static int add_results(results *r, const divergence_case *forward, const divergence_case *backward,
                       const sweep *s, int steps)
{
    int rc = AE_OK;
    rc |= results_add_double(r, "p1", forward->p);
    rc |= results_add_double(r, "p2", forward->q);
    rc |= results_add_double(r, "kl_p1_p2", forward->terms.total);
    rc |= results_add_double(r, "kl_p2_p1", backward->terms.total);
    rc |= results_add_double(r, "kl_p1_p2_term_x1", forward->terms.term_x1);
    rc |= results_add_double(r, "kl_p1_p2_term_x0", forward->terms.term_x0);
    rc |= results_add_double(r, "kl_p2_p1_term_x1", backward->terms.term_x1);
    rc |= results_add_double(r, "kl_p2_p1_term_x0", backward->terms.term_x0);
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

static int write_outputs(const char *dir, const sweep *s, const results *r, double p1, int no_plot, int quiet)
{
    char dat[AE_PATH_MAX], gp[AE_PATH_MAX];
    int rc;
    if ((rc = mkdir_p(dir)) != AE_OK) return rc;
    if ((rc = path_join(dat, sizeof dat, dir, "kl_sweep.dat")) != AE_OK) return rc;
    if ((rc = path_join(gp, sizeof gp, dir, "kl_sweep.gp")) != AE_OK) return rc;
    if ((rc = write_sweep_data(dat, s, p1)) != AE_OK) return rc;
    if ((rc = write_sweep_script(gp, s, p1)) != AE_OK) return rc;
    int rendered = 0;
    if (!no_plot && (rc = plot_render(dir, "kl_sweep", &rendered)) != AE_OK) return rc;
    if ((rc = results_write(r, dir)) != AE_OK) return rc;
    if (!quiet) {
        printf("Wrote %s/results.tsv, %s/kl_sweep.dat and %s/kl_sweep.gp\n", dir, dir, dir);
        if (rendered) printf("Drew  %s/kl_sweep.png\n", dir);
        else if (no_plot) printf("No figure (--no-plot): run `gnuplot kl_sweep.gp` in %s to draw it.\n", dir);
        else printf("No figure: gnuplot is not installed; kl_sweep.gp draws it once it is.\n");
    }
    return AE_OK;
}

int main(int argc, char **argv)
{
    double p1 = 0.4, p2 = 0.8;
    int steps = DEFAULT_STEPS;
    cli_option options[] = {
        CLI_DOUBLE("p1", &p1, 0.0, 1.0, "P", "probability of x = 1 under the first distribution, in [0, 1]"),
        CLI_DOUBLE("p2", &p2, 0.0, 1.0, "P", "probability of x = 1 under the second distribution (part a), in [0, 1]"),
        CLI_INT("steps", &steps, KL_SWEEP_MIN_STEPS, KL_SWEEP_MAX_STEPS, "N",
                "intervals of the p2 sweep over [0, 1] (part b)"),
    };
    common_options common = common_defaults(prog_info.name, 1);
    int rc = cli_parse(argc, argv, &prog_info, options, (int)(sizeof options / sizeof options[0]), &common);
    if (rc == CLI_HELP) return 0;
    if (rc != AE_OK) return cli_fail(&prog_info);
    p1 += 0.0;   /* a "-0" on the command line becomes 0 */
    p2 += 0.0;

    /* part (a): both directions for the one pair */
    divergence_case forward = { "p1", "p2", p1, p2, { 0, 0, 0 } };
    divergence_case backward = { "p2", "p1", p2, p1, { 0, 0, 0 } };
    if (kl_bernoulli_split(forward.p, forward.q, &forward.terms) != AE_OK ||
        kl_bernoulli_split(backward.p, backward.q, &backward.terms) != AE_OK) {
        /* cli_parse refuses values outside [0, 1] and NaN already; this is the second line of defence */
        fprintf(stderr, "%s: %s\nGive --p1 and --p2 as numbers in [0, 1].\n", prog_info.name, error_message());
        return CLI_EXIT_USAGE;
    }
    printf("Part (a): Bernoulli distributions f(x|p) = p^x (1-p)^(1-x) for x in {0, 1}, "
           "with p1 = %g and p2 = %g\n\n", p1, p2);
    print_divergence(&forward);
    print_divergence(&backward);
    print_comparison(forward.terms.total, backward.terms.total);

    /* part (b): the sweep */
    sweep s = { 0 };
    results *r = NULL;
    int status = 0;
    if (sweep_run(&s, p1, steps) != AE_OK || !(r = results_alloc()) ||
        add_results(r, &forward, &backward, &s, steps) != AE_OK) {
        fprintf(stderr, "%s: %s\n", prog_info.name, error_code() ? error_message() : "out of memory");
        status = 1;
    } else {
        print_sweep(&s, p1, steps, common.quiet);
        if (write_outputs(common.out_dir, &s, r, p1, common.no_plot, common.quiet) != AE_OK) {
            fprintf(stderr, "%s: %s\nCheck that the --out folder can be written.\n", prog_info.name, error_message());
            status = 1;
        }
    }
    results_free(r);
    sweep_free(&s);
    return status;
}
