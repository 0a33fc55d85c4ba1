/* tconv_steps.h: what week05-task3-transposed does, mode by mode:
 *   the walk-through (no options): 1 the scatter view, 2 three ways to compute it and the
 *     adjoint identity, 3 stride and padding, 4 shape arithmetic, 5 parameter counts;
 *   one transposed convolution of --input with --kernel;
 *   --shape i,k,s,p[,a]: the output sizes of both operations.
 * Everything printed that matters also goes to results.tsv; the walk-through and --input draw
 * heat maps of input, kernel and output.
 */
#ifndef TCONV_STEPS_H
#define TCONV_STEPS_H

#include <stdio.h>

#include "io/program.h"
#include "tconv_exercise.h"

#define MAX_SIDE 64                    /* rows or columns of --input and --kernel */
#define EXAMPLE "0,1;2,3"              /* the 2x2 input and kernel of Dive into Deep Learning's scatter figure */

/* Where the tables go: stdout, or nowhere with --quiet. */
void tconv_report_to(FILE *out);

/* The walk-through, steps 1 to 5, and its two figures. */
int tconv_walk_through(program_run *run);

/* Validated input of --input mode: everything that can be wrong is found before any file is written. */
typedef struct {
    tconv_matrix *x, *kernel;
    tconv_params prm;
    int out_rows, out_cols;
} one_case;

/* Parses and checks --input, --kernel and the parameters, before anything is written: AE_EINVAL,
 * AE_EDOM with a message naming the option. */
int tconv_prepare_case(one_case *c, const char *input_text, const char *kernel_text, const tconv_params *prm);
/* The case computed three ways (and by the library), printed, written and drawn. */
int tconv_compute_case(program_run *run, const one_case *c);

/* "i,k,s,p[,a]" into v[0..5) (a defaults to 0), each checked; AE_EINVAL naming --shape. */
int tconv_parse_shape(const char *text, long v[5]);
/* The sizes of both operations along one axis, by the formulas and by the library. */
int tconv_shape_mode(program_run *run, const long v[5]);

#endif
