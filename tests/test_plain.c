/* test_plain.c: --plain runs the plain code of common/, and trains to the same numbers as the
 * fast twins, up to float rounding.
 *
 * Models A (dense) and B (convolutional) of week05-task4-ae are trained for 3 epochs on the
 * bundled sample with and without --plain. The stated tolerance: their training and validation
 * losses agree to 1e-4 relative (measured: about 1e-7, the twins sum in another order). The two
 * runs must not agree bit for bit either: that would mean the same code ran twice. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "error.h"
#include "io/cli.h"
#include "io/fileio.h"
#include "io/results.h"
#include "testutil.h"

#define PLAIN_TOL 1e-4

/* Trains model `name` of week05-task4-ae on the sample into dir, with --plain when asked. */
static results *train_model(const char *name, int plain, const char *dir)
{
    const char *args[] = { "--model", name, "--epochs", "3", "--data", sample_data_dir(), "--no-plot", "--quiet",
                           "--out", dir, plain ? "--plain" : NULL, NULL };
    char log[AE_PATH_MAX];
    snprintf(log, sizeof log, "%s.log", dir);
    ck_assert_msg(run_program("week05-task4-ae", args, log) == 0, "week05-task4-ae --model %s%s failed: see %s", name,
                  plain ? " --plain" : "", log);
    char path[AE_PATH_MAX];
    ck_assert_int_eq(path_join(path, sizeof path, dir, "results.tsv"), AE_OK);
    results *r;
    ck_assert_int_eq(results_read(&r, path), AE_OK);
    return r;
}

static double number(const results *r, const char *key)
{
    const char *text = results_get(r, key);
    ck_assert_msg(text != NULL, "results.tsv has no %s", key);
    return strtod(text, NULL);
}

START_TEST(test_plain_agrees_with_fast)
{
    const char *models[] = { "A", "B" };
    const char *name = models[_i];
    char fast_dir[AE_PATH_MAX], plain_dir[AE_PATH_MAX];
    snprintf(fast_dir, sizeof fast_dir, "%s/fast", test_tmpdir());
    snprintf(plain_dir, sizeof plain_dir, "%s/plain", test_tmpdir());
    results *fast = train_model(name, 0, fast_dir), *plain = train_model(name, 1, plain_dir);
    ck_assert_str_eq(results_get(fast, "engine"), "fast");
    ck_assert_str_eq(results_get(plain, "engine"), "plain");
    ck_assert_str_eq(results_get(plain, "threads"), "1");
    const char *what[] = { "train_loss", "val_loss", "val_mse", "val_mae" };
    int identical = 1;
    for (int k = 0; k < 4; k++) {
        char key[64];
        snprintf(key, sizeof key, "model_%s_%s", name, what[k]);
        double f = number(fast, key), p = number(plain, key);
        ck_assert_msg(fabs(f - p) <= PLAIN_TOL * fabs(f), "%s: fast %.17g, plain %.17g (relative %.3g > %g)", key, f, p,
                      fabs(f - p) / fabs(f), PLAIN_TOL);
        identical = identical && f == p;
    }
    ck_assert_msg(!identical, "model %s: --plain gave the fast path's numbers bit for bit: did the plain code run?", name);
    results_free(fast);
    results_free(plain);
}
END_TEST

/* The switch itself: --plain is a shared option of the programs that train, and only of those. */
START_TEST(test_plain_option)
{
    static const program_info trains = { "trains", "a program that trains", NULL, CLI_USES_DATA | CLI_TRAINS };
    static const program_info computes = { "computes", "a program that trains nothing", NULL, 0 };
    common_options common = common_defaults("trains", 1);
    char *plain_args[] = { "trains", "--plain", NULL };
    ck_assert_int_eq(cli_parse(2, plain_args, &trains, NULL, 0, &common), AE_OK);
    ck_assert_int_eq(common.plain, 1);
    ck_assert_int_eq(engine_plain(), 1);
    ck_assert_str_eq(engine_name(), "plain");
    int threads = 2;
    ck_assert_int_eq(cli_threads(&common, &threads, 0), AE_OK);   /* a default of 2 becomes 1 */
    ck_assert_int_eq(threads, 1);
    threads = 2;
    ck_assert_int_eq(cli_threads(&common, &threads, 1), AE_EINVAL);   /* asked for: refused, with the way out */
    ck_assert_ptr_nonnull(strstr(error_message(), "--threads 1"));
    engine_set_plain(0);

    common = common_defaults("computes", 1);
    ck_assert_int_eq(cli_parse(2, plain_args, &computes, NULL, 0, &common), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "trains no model"));
    ck_assert_int_eq(engine_plain(), 0);
    char *data_args[] = { "computes", "--data", "/tmp", NULL };
    ck_assert_int_eq(cli_parse(3, data_args, &computes, NULL, 0, &common), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "reads no data"));
}
END_TEST

/* Each program that trains takes --plain; those that do not refuse it with exit status 2. */
START_TEST(test_programs_take_plain_or_refuse_it)
{
    const char *refusing[] = { "week05-task2-kl", "week05-task3-transposed", "vae-reparam" };
    for (int k = 0; k < 3; k++) {
        const char *args[] = { "--plain", "--out", test_tmpdir(), NULL };
        ck_assert_msg(run_program(refusing[k], args, NULL) == 2, "%s --plain should be refused", refusing[k]);
    }
    const char *taking[] = { "week05-task1", "week05-task4-ae", "vae-elbo" };
    for (int k = 0; k < 3; k++) {
        const char *args[] = { "--plain", "--help", NULL };
        ck_assert_msg(run_program(taking[k], args, NULL) == 0, "%s --plain --help should be taken", taking[k]);
    }
}
END_TEST

Suite *plain_suite(void)
{
    Suite *s = suite_create("plain");
    TCase *tc = test_case(s, "Agreement", 120);
    tcase_add_loop_test(tc, test_plain_agrees_with_fast, 0, 2);
    test_add(tc, test_plain_option, test_programs_take_plain_or_refuse_it);
    return s;
}
