/* main.c: week05-task2-kl, Task 2 of the week-5 sheet: the KL divergence between two
 * Bernoulli distributions f(x|p1) and f(x|p2).
 *
 *   part (a)  both divergences KL(f(x|p1) || f(x|p2)) and KL(f(x|p2) || f(x|p1)) for one
 *             pair, each sum written out term by term (x = 1 and x = 0);
 *   part (b)  p1 fixed, p2 swept over [0, 1]: both curves into a figure, the key numbers
 *             into results.tsv.
 *
 * The divergence itself is kl_bernoulli() in kl.c, the function the exercise asks for; the
 * parts are in kl_parts.c.
 */
#include "error.h"
#include "io/cli.h"
#include "io/program.h"
#include "kl_bernoulli.h"
#include "kl_parts.h"

#define DEFAULT_STEPS 1000      /* 1001 points: a smooth curve at 800 pixels wide */

static const program_info prog_info = {
    "week05-task2-kl",
    "KL divergence between two Bernoulli distributions: part (a) for one pair (p1, p2), "
    "part (b) with p1 fixed and p2 swept over [0, 1]",
    "Examples:\n"
    "  week05-task2-kl                                the sheet's pair, p1 = 0.4 and p2 = 0.8\n"
    "  week05-task2-kl --p1 0.3 --p2 0                an edge case: KL(p1 || p2) = inf\n"
    "  week05-task2-kl --steps 40 --out out/coarse    a coarse sweep into another folder\n"
    "\n"
    "Writes results.tsv, kl_sweep.dat, kl_sweep.gp and kl_sweep.png into the --out folder.",
    0,                         /* no data, no training: --data, --epochs and --plain are refused */
};

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

    program_run run;
    rc = program_begin(&run, &prog_info, &common);
    if (rc == AE_OK) {
        rc = kl_part_a(&run, p1, p2);                                  /* (a) one pair, both directions */
        if (rc == AE_EDOM && !not_implemented_seen()) {   /* cli_parse refuses values outside [0, 1] and NaN
                                                             already: a second line of defence */
            program_end(&run, program_error_prefix("--p1, --p2", AE_EDOM));
            return CLI_EXIT_USAGE;
        }
        rc = program_part(&run, "part (a)", rc);
    }
    if (rc == AE_OK) rc = program_part(&run, "part (b)", kl_part_b(&run, p1, steps));   /* (b) p1 fixed, p2 swept */
    return program_end(&run, rc);
}
