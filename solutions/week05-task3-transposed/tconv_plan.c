/* tconv_plan.c: how week05-task3-transposed is graded, every expected value from tconv_reference.c.
 *
 * Tolerances: the examples hold small integers, exact in double, so 1e-12 there; the
 * high-entropy inputs (values like 0.75, −1.25) are sums of at most 16 products, whose
 * rounding stays below 1e-15, so 1e-12 again. Sizes and parameter counts are exact.
 */
#include <stdio.h>
#include <stdlib.h>

#include "grade_lib.h"
#include "tconv_reference.h"

#define TOL 1e-12

/* The example: x = K = [0 1; 2 3]. */
static const double example[4] = { 0, 1, 2, 3 };

/* Puts "RxC" into buf. */
static const char *shape(char *buf, size_t size, long rows, long cols)
{
    snprintf(buf, size, "%ldx%ld", rows, cols);
    return buf;
}

/* One transposed convolution of the example: the shape item and the values item. */
static void example_items(const char *run, const char *key, int stride, int padding, int output_padding,
                          const char *what)
{
    long rows = ref_transposed_size(2, 2, stride, padding, output_padding);
    double *out = malloc((size_t)(rows * rows) * sizeof *out);
    if (!out) exit(3);
    ref_scatter(out, (int)rows, (int)rows, example, 2, 2, example, 2, 2, stride, padding);
    char key_shape[128], text[32];
    snprintf(key_shape, sizeof key_shape, "%s_shape", key);
    plan_question("Task 3: the size formula");
    plan_text(run, 1, key_shape, shape(text, sizeof text, rows, rows), "%s: the output is %ldx%ld", what, rows, rows);
    plan_question("Task 3: the scatter");
    plan_vec(run, 2, key, out, (size_t)(rows * rows), TOL, "%s: the %ldx%ld values", what, rows, rows);
    free(out);
}

/* A run on a given input and kernel: the output and the agreement of the three ways. */
static void custom_run(const char *run, const char *input, int rows, int cols, const double *x,
                       const char *kernel_text, int k_rows, int k_cols, const double *kernel,
                       int stride, int padding, int output_padding)
{
    char args[512], text[32];
    snprintf(args, sizeof args, "--input %s --kernel %s --stride %d --padding %d --output-padding %d",
             input, kernel_text, stride, padding, output_padding);
    plan_run(run, 1, 0, 60, args, "runs on a %dx%d input and a %dx%d kernel (stride %d, padding %d, output padding %d)",
             rows, cols, k_rows, k_cols, stride, padding, output_padding);
    long out_rows = ref_transposed_size(rows, k_rows, stride, padding, output_padding);
    long out_cols = ref_transposed_size(cols, k_cols, stride, padding, output_padding);
    double *out = malloc((size_t)(out_rows * out_cols) * sizeof *out);
    if (!out) exit(3);
    ref_scatter(out, (int)out_rows, (int)out_cols, x, rows, cols, kernel, k_rows, k_cols, stride, padding);
    plan_question("Task 3: the size formula");
    plan_text(run, 1, "out_shape", shape(text, sizeof text, out_rows, out_cols),
              "that transposed conv gives a %ldx%ld output", out_rows, out_cols);
    plan_question("Task 3: the scatter");
    plan_vec(run, 2, "out", out, (size_t)(out_rows * out_cols), TOL,
             "that transposed conv's %ldx%ld values, to 1e-12", out_rows, out_cols);
    plan_question("Task 3: zero insertion");
    plan_num(run, 1, "max_abs_diff_zero_insertion", 0.0, TOL,
             "there, zero insertion + flipped kernel agrees with the scatter to 1e-12");
    plan_question(NULL);   /* the matrix way is the exercise's own code */
    plan_num(run, 1, "max_abs_diff_matrix", 0.0, TOL, "there, Cᵀ·vec(x) agrees with the scatter to 1e-12");
    free(out);
}

int main(void)
{
    plan_exercise("week05-task3-transposed", "Task 3: the transposed convolution");
    plan_requires("week05-task3-transposed/Makefile week05-task3-transposed/main.c "
                  "week05-task3-transposed/tconv_exercise.h");

    /* ------------------------------------------------ the five steps, as the sheet asks */
    plan_run("steps", 1, 0, 60, "--quiet", "runs the five steps (no options) and writes results.tsv");
    example_items("steps", "step1_scatter_out", 1, 0, 0, "transposed conv of the 2x2 example, stride 1");

    double out3[9], padded[16], C[36], cct[16], back[4];
    ref_scatter(out3, 3, 3, example, 2, 2, example, 2, 2, 1, 0);
    plan_question("Task 3: zero insertion");
    plan_vec("steps", 1, "step2_zero_insertion_out", out3, 9, TOL,
             "zero insertion + flipped kernel gives the same 3x3 values");
    ref_zero_insert(padded, 4, 4, example, 2, 2, 2, 2, 1, 0);
    plan_vec("steps", 1, "step2_padded_input", padded, 16, TOL, "the zero-inserted, padded input Z (4x4)");
    plan_question(NULL);
    plan_vec("steps", 1, "step2_matrix_out", out3, 9, TOL, "Cᵀ·vec(x) gives the same 3x3 values");
    ref_conv_matrix(C, 2, 2, 3, 3, example, 2, 2, 1, 0);
    plan_text("steps", 1, "step2_conv_matrix_shape", "4x9", "the matrix C of the ordinary convolution is 4x9");
    plan_vec("steps", 2, "step2_conv_matrix", C, 36, TOL, "the matrix C of the ordinary convolution: its 36 entries");
    plan_num("steps", 1, "step2_adjoint_difference", 0.0, TOL, "the adjoint identity <Cx, y> = <x, Cᵀy> holds to 1e-12");
    ref_conv2d(back, 2, 2, out3, 3, 3, example, 2, 2, 1, 0);
    plan_vec("steps", 1, "step2_conv_of_transposed_out", back, 4, TOL,
             "conv(convᵀ(x)) = (%g, %g; %g, %g): not x again", back[0], back[1], back[2], back[3]);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double sum = 0.0;
            for (int k = 0; k < 9; k++) sum += C[i * 9 + k] * C[j * 9 + k];   /* (C Cᵀ)[i,j] */
            cct[i * 4 + j] = sum;
        }
    plan_vec("steps", 1, "step2_c_ct", cct, 16, TOL, "C·Cᵀ (4x4), which is not the identity");

    example_items("steps", "step3_stride2_out", 2, 0, 0, "transposed conv of the 2x2 example, stride 2");
    example_items("steps", "step3_stride2_padding1_out", 2, 1, 0, "transposed conv of the 2x2 example, stride 2, padding 1");
    example_items("steps", "step3_stride2_padding1_outpad1_out", 2, 1, 1,
                  "transposed conv of the 2x2 example, stride 2, padding 1, output padding 1");
    plan_question("Task 3: zero insertion");
    plan_num("steps", 1, "step3_stride2_padding1_outpad1_max_abs_diff_zero_insertion", 0.0, TOL,
             "stride 2, padding 1, output padding 1: zero insertion agrees with the scatter");
    plan_question(NULL);
    plan_num("steps", 1, "step3_stride2_padding1_outpad1_max_abs_diff_matrix", 0.0, TOL,
             "stride 2, padding 1, output padding 1: Cᵀ·vec(x) agrees with the scatter");

    plan_num("steps", 1, "step4_keras_same_conv_28_k3_s2", (double)ref_keras_same_conv_size(28, 2), 0.0,
             "Keras 'same': a 3x3 stride-2 conv takes 28 to %ld", ref_keras_same_conv_size(28, 2));
    plan_num("steps", 1, "step4_keras_valid_conv_28_k3_s2", (double)ref_keras_valid_conv_size(28, 3, 2), 0.0,
             "Keras 'valid': a 3x3 stride-2 conv takes 28 to %ld", ref_keras_valid_conv_size(28, 3, 2));
    plan_num("steps", 1, "step4_keras_same_transposed_7_k3_s2", (double)ref_keras_same_transposed_size(7, 2), 0.0,
             "Keras 'same': a 3x3 stride-2 transposed conv takes 7 to %ld", ref_keras_same_transposed_size(7, 2));
    plan_num("steps", 1, "step4_keras_valid_transposed_7_k3_s2", (double)ref_keras_valid_transposed_size(7, 3, 2), 0.0,
             "Keras 'valid': a 3x3 stride-2 transposed conv takes 7 to %ld", ref_keras_valid_transposed_size(7, 3, 2));

    /* Task 4's model B, layer by layer: (in, out) channels of its five 3x3 layers */
    const int model_b[5][2] = { { 1, 16 }, { 16, 8 }, { 8, 8 }, { 8, 16 }, { 16, 1 } };
    long total = 0;
    for (int l = 0; l < 5; l++) total += ref_conv_params(3, 3, model_b[l][0], model_b[l][1]);
    plan_num("steps", 1, "step4_fmnist_total_params", (double)total, 0.0,
             "Task 4's convolutional model B has %ld parameters", total);
    plan_num("steps", 1, "step5_conv_params_k3_cin16_cout8", (double)ref_conv_params(3, 3, 16, 8), 0.0,
             "a 3x3 conv from 16 to 8 channels has %ld parameters", ref_conv_params(3, 3, 16, 8));
    plan_num("steps", 1, "step5_transposed_params_k3_cin8_cout16", (double)ref_conv_params(3, 3, 8, 16), 0.0,
             "a 3x3 transposed conv from 8 to 16 channels has %ld parameters", ref_conv_params(3, 3, 8, 16));
    plan_num("steps", 1, "step5_k4_s2_p1_conv_32", (double)ref_conv_size(32, 4, 2, 1), 0.0,
             "a 4x4 conv, stride 2, padding 1 takes 32 to %ld", ref_conv_size(32, 4, 2, 1));
    plan_question("Task 3: the size formula");
    plan_num("steps", 1, "step5_k4_s2_p1_transposed_16", (double)ref_transposed_size(16, 4, 2, 1, 0), 0.0,
             "a 4x4 transposed conv, stride 2, padding 1 takes 16 to %ld", ref_transposed_size(16, 4, 2, 1, 0));

    plan_question(NULL);

    /* ------------------------------------------------ high-entropy inputs of our own */
    const double x1[6] = { 0.5, -1.25, 2, 3.5, 0.75, -2.5 }, k1[4] = { 1.5, -0.5, 0.25, 2 };
    custom_run("custom_a", "0.5,-1.25,2;3.5,0.75,-2.5", 2, 3, x1, "1.5,-0.5;0.25,2", 2, 2, k1, 2, 1, 1);
    const double x2[6] = { 1.25, -0.5, 2.75, 0.3, -1.1, 0.65 }, k2[6] = { 0.4, -1.3, 2.2, 0.9, -0.7, 1.6 };
    custom_run("custom_b", "1.25,-0.5;2.75,0.3;-1.1,0.65", 3, 2, x2, "0.4,-1.3;2.2,0.9;-0.7,1.6", 3, 2, k2, 3, 2, 2);

    plan_question(NULL);
    plan_run("bad_output_padding", 1, 2, 30, "--input 0,1;2,3 --kernel 0,1;2,3 --stride 2 --output-padding 2",
             "refuses output padding 2 at stride 2 (a must be below s) with exit status 2");

    /* ------------------------------------------------ the functions, linked against the reference */
    plan_harness(1, 60, "the submission's tconv functions link against the reference tests");
    static const plan_fn_row functions[] = {
        { 2, "scatter_example_s1",
          "tconv_scatter: the 2x2 example, stride 1 (3x3)", "Task 3: the scatter" },
        { 2, "scatter_example_s2",
          "tconv_scatter: transposed conv of the 2x2 example, stride 2 (4x4)", "Task 3: the scatter" },
        { 2, "scatter_example_s2_p1_a1",
          "tconv_scatter: the 2x2 example, stride 2, padding 1, output padding 1 (3x3)", "Task 3: the scatter" },
        { 2, "scatter_random_a",
          "tconv_scatter: random 5x4 input, 3x2 kernel, stride 2, padding 1, output padding 1", "Task 3: the scatter" },
        { 2, "scatter_random_b",
          "tconv_scatter: random 3x3 input, 4x4 kernel, stride 3, padding 2, output padding 2", "Task 3: the scatter" },
        { 2, "conv2d_random",
          "tconv_conv2d (ordinary convolution, kernel not flipped): random 7x6 input, 3x2 kernel, stride 2, padding 1", NULL },
        { 1, "flip",
          "tconv_flip turns a 3x2 kernel by 180 degrees", "Task 3: zero insertion" },
        { 2, "zero_insertion",
          "tconv_by_zero_insertion (zero insertion, then the flipped kernel) equals the scatter on both random cases", "Task 3: zero insertion" },
        { 2, "matrix",
          "tconv_by_matrix (Cᵀ·vec(x)) equals the scatter on both random cases", NULL },
        { 1, "adjoint",
          "adjoint: <tconv_conv2d(x), y> = <x, tconv_scatter(y)> on random data, to 1e-12", "Task 3: the scatter" },
        { 1, "sizes",
          "tconv_transposed_check: s(i−1) + k − 2p + a for 7 (k 3, s 2, p 1, a 1) and 5x4 (k 4x2, s 3, p 2, a 2)", "Task 3: the size formula" },
        { 1, "refuses_output_padding",
          "tconv_transposed_check refuses output padding = stride with AE_EDOM", NULL },
    };
    PLAN_FNS(functions);
    return 0;
}
