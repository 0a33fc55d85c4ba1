/* week05-task3-transposed: what a transposed convolution is, its shape arithmetic,
 * and three independent ways to compute it (Task 3 of the week-5 sheet).
 *
 *   week05-task3-transposed                          the walk-through, steps 1 to 5
 *   week05-task3-transposed --input "0,1;2,3" --kernel "0,1;2,3" --stride 2
 *                                                    one transposed convolution
 *   week05-task3-transposed --shape 7,3,2,1,1        the output sizes of both operations
 *
 * Everything printed that matters also goes to OUT/results.tsv; the walk-through and --input draw
 * heat maps of input, kernel and output. The functions the exercise asks for are in tconv.c; the
 * steps that call them and show what they give, in tconv_steps.c.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "io/cli.h"
#include "io/program.h"
#include "tconv_steps.h"

#define PROGRAM "week05-task3-transposed"

int main(int argc, char **argv)
{
    const char *input_text = NULL, *kernel_text = NULL, *shape_text = NULL;
    int stride = 1, padding = 0, output_padding = 0;
    cli_option opts[] = {
        CLI_STRING("input", &input_text, "ROWS",
                   "input matrix: values separated by ',', rows by ';' (e.g. \"0,1;2,3\"); up to 64x64"),
        CLI_STRING("kernel", &kernel_text, "ROWS", "kernel matrix in the same form (with --input: " EXAMPLE ")"),
        CLI_INT("stride", &stride, 1, 64, "S", "stride s of the transposed convolution"),
        CLI_INT("padding", &padding, 0, 1000, "P", "padding p: rows and columns cropped from every side"),
        CLI_INT("output-padding", &output_padding, 0, 63, "A", "output padding a, 0 <= a < s: added at bottom and right"),
        CLI_STRING("shape", &shape_text, "I,K,S,P[,A]", "print only the output sizes of both operations"),
    };
    const int n_opts = (int)(sizeof opts / sizeof opts[0]);
    static const program_info info = {
        PROGRAM,
        "the transposed convolution: definition, three ways to compute it, shape arithmetic",
        "With no options the program walks through five steps (scatter view, three ways and the\n"
        "adjoint identity, stride and padding, shape arithmetic, parameter counts).\n\n"
        "Examples:\n"
        "  " PROGRAM "\n"
        "  " PROGRAM " --input \"0,1;2,3\" --kernel \"0,1;2,3\" --stride 2\n"
        "  " PROGRAM " --input \"1,2,3;4,5,6\" --kernel \"1;-1\" --stride 2 --padding 1 --output-padding 1\n"
        "  " PROGRAM " --shape 7,3,2,1,1\n",
        0,                         /* no data, no training: --data, --epochs and --plain are refused */
    };
    common_options common = common_defaults(PROGRAM, 1);
    int rc = cli_parse(argc, argv, &info, opts, n_opts, &common);
    if (rc == CLI_HELP) return 0;
    if (rc != AE_OK) return cli_fail(&info);
    FILE *report = common.quiet ? fopen("/dev/null", "w") : NULL;
    tconv_report_to(report ? report : stdout);

    int case_mode = 0;
    for (int i = 0; i < n_opts; i++)
        if (opts[i].seen && strcmp(opts[i].name, "shape") != 0) case_mode = 1;
    int shape_seen = opts[n_opts - 1].seen;
    if (shape_seen && case_mode) {
        AE_ERROR(AE_EINVAL, "--shape works on its own; leave out --input, --kernel, --stride, --padding "
                 "and --output-padding");
        return cli_fail(&info);
    }

    /* every value checked before anything is written */
    long v[5];
    one_case c;
    memset(&c, 0, sizeof c);
    if (shape_seen) rc = tconv_parse_shape(shape_text, v);
    else if (case_mode) {
        const tconv_params prm = { stride, padding, output_padding };
        rc = tconv_prepare_case(&c, input_text ? input_text : EXAMPLE, kernel_text ? kernel_text : EXAMPLE, &prm);
    }
    if (rc != AE_OK) return cli_fail(&info);

    program_run run;
    rc = program_begin(&run, &info, &common);
    if (rc == AE_OK) {
        if (shape_seen) rc = tconv_shape_mode(&run, v);           /* --shape: the arithmetic alone */
        else if (case_mode) rc = tconv_compute_case(&run, &c);     /* --input: one transposed convolution */
        else rc = tconv_walk_through(&run);                        /* steps 1 to 5 */
    }
    tconv_matrix_free(c.x);
    tconv_matrix_free(c.kernel);
    if (report) fclose(report);
    return program_end(&run, rc);
}
