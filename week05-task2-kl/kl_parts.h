/* kl_parts.h: the two parts of Task 2, each printed, drawn and written to results.tsv.
 *
 *   part (a)  both divergences KL(f(x|p1) || f(x|p2)) and KL(f(x|p2) || f(x|p1)) for one pair,
 *             each sum written out term by term (x = 1 and x = 0);
 *   part (b)  p1 fixed, p2 swept over [0, 1]: both curves into kl_sweep.dat, the script
 *             kl_sweep.gp and its figure kl_sweep.png; the key numbers into results.tsv.
 */
#ifndef KL_PARTS_H
#define KL_PARTS_H

#include "io/program.h"

/* AE_EDOM (from kl_bernoulli_split) when p1 or p2 is not a probability. */
int kl_part_a(program_run *run, double p1, double p2);
/* The sweep over steps + 1 points; AE_ENOMEM, AE_EIO. */
int kl_part_b(program_run *run, double p1, int steps);

#endif
