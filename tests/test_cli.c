/* test_cli.c: the shared command-line parser. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/cli.h"
#include "io/data.h"
#include "error.h"
#include "testutil.h"

static const program_info prog = {"test-prog", "a program for tests", NULL, CLI_USES_DATA | CLI_TRAINS};

/* The options a typical program declares, with their defaults. */
static int steps;
static long samples;
static double p1;
static const char *spec;
static int task;
static int verbose;
static cli_option options[6];
static common_options common;

static void setup(void)
{
    steps = 1001;
    samples = 100000;
    p1 = 0.4;
    spec = NULL;
    task = 0;
    verbose = 0;
    cli_option table[] = {
        CLI_INT("steps", &steps, 2, 1000000, "N", "sweep points"),
        CLI_LONG("samples", &samples, 2, 100000000, "N", "draws"),
        CLI_DOUBLE("p1", &p1, 0.0, 1.0, "P", "first probability"),
        CLI_STRING("layers", &spec, "SPEC", "model layers"),
        CLI_CHOICE("task", &task, "reconstruction|denoising|anomaly", "what to train for"),
        CLI_FLAG("verbose", &verbose, "say more"),
    };
    memcpy(options, table, sizeof table);
    common = common_defaults("test-prog", 10);
}

/* Parses a NULL-terminated argument list (argv[0] added). */
static int parse(const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"test-prog";
    for (int i = 0; args[i]; i++) argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    return cli_parse(argc, argv, &prog, options, 6, &common);
}

START_TEST(defaults_stay_without_options)
{
    const char *args[] = {NULL};
    ck_assert_int_eq(parse(args), AE_OK);
    ck_assert_int_eq(steps, 1001);
    ck_assert_double_eq(p1, 0.4);
    ck_assert_str_eq(common.out_dir, "out/test-prog");
    ck_assert_uint_eq(common.seed, 42);
    ck_assert_int_eq(common.epochs, 10);
    ck_assert_ptr_null(common.data_dir);
}
END_TEST

START_TEST(every_kind_of_value_is_parsed)
{
    const char *args[] = {"--steps", "257", "--samples=123456", "--p1", "0.385", "--layers",
                          "dense:128:relu", "--task", "denoising", "--verbose", "--out", "/tmp/x",
                          "--seed", "7", "--data", "/d", "--limit", "300", "--epochs", "3",
                          "--quiet", "--no-plot", NULL};
    ck_assert_int_eq(parse(args), AE_OK);
    ck_assert_int_eq(steps, 257);
    ck_assert_int_eq(samples, 123456);
    ck_assert_double_eq_tol(p1, 0.385, 1e-15);
    ck_assert_str_eq(spec, "dense:128:relu");
    ck_assert_int_eq(task, 1);
    ck_assert_int_eq(verbose, 1);
    ck_assert_str_eq(common.out_dir, "/tmp/x");
    ck_assert_uint_eq(common.seed, 7);
    ck_assert_str_eq(common.data_dir, "/d");
    ck_assert_int_eq(common.limit, 300);
    ck_assert_int_eq(common.epochs, 3);
    ck_assert_int_eq(common.quiet, 1);
    ck_assert_int_eq(common.no_plot, 1);
    ck_assert_int_eq(options[0].seen, 1);
}
END_TEST

START_TEST(help_lists_every_option_with_its_default)
{
    char buf[8192];
    FILE *mem = fmemopen(buf, sizeof buf, "w");
    cli_print_help(mem, &prog, options, 6, &common);
    fclose(mem);
    const char *expected[] = {"--steps N", "(default: 1001)", "--p1 P", "(default: 0.4)",
                              "--task reconstruction|denoising|anomaly", "(default: reconstruction)",
                              "--layers SPEC", "--verbose", "--out DIR", "(default: out/test-prog)",
                              "--seed N", "(default: 42)", "--data DIR", "--limit N", "--epochs N",
                              "(default: 10)", "--quiet", "--no-plot", "--help"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        ck_assert_msg(strstr(buf, expected[i]) != NULL, "help lacks '%s'", expected[i]);
}
END_TEST

/* Each bad argument list, and a piece of the message it must produce. */
static const struct {
    const char *args[4];
    const char *message;
} bad_cases[] = {
    {{"--no-such-option", NULL}, "unknown option '--no-such-option'"},
    {{"--steps", NULL}, "needs a value"},
    {{"--steps", "ten", NULL}, "'ten' is not a whole number"},
    {{"--steps", "1", NULL}, "out of range"},
    {{"--steps", "2.5", NULL}, "not a whole number"},
    {{"--p1", "1.5", NULL}, "out of range"},
    {{"--p1", "nan", NULL}, "NaN is not allowed"},
    {{"--p1", "inf", NULL}, "not a finite number"},
    {{"--p1", "0.4x", NULL}, "'0.4x' is not a number"},
    {{"--task", "segmentation", NULL}, "'segmentation' is not one of"},
    {{"--epochs", "0", NULL}, "--epochs"},
    {{"--seed", "-3", NULL}, "negative"},
    {{"--limit", "-1", NULL}, "negative"},
    {{"stray", NULL}, "unexpected argument 'stray'"},
    {{"--layers", "", NULL}, "empty"},
};

START_TEST(bad_arguments_are_refused_by_name)
{
    int rc = parse(bad_cases[_i].args);
    ck_assert_int_eq(rc, AE_EINVAL);
    ck_assert_msg(strstr(error_message(), bad_cases[_i].message) != NULL,
                  "case %d: message '%s' lacks '%s'", _i, error_message(), bad_cases[_i].message);
}
END_TEST

START_TEST(number_lists_are_parsed_strictly)
{
    double v[4];
    int n;
    ck_assert_int_eq(parse_double_list("0.3,-1.2,2.385", "--mu", v, 4, &n), AE_OK);
    ck_assert_int_eq(n, 3);
    ck_assert_double_eq_tol(v[1], -1.2, 1e-15);
    ck_assert_double_eq_tol(v[2], 2.385, 1e-15);
    ck_assert_int_eq(parse_double_list("", "--mu", v, 4, &n), AE_EINVAL);
    ck_assert_int_eq(parse_double_list("1,,2", "--mu", v, 4, &n), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "item 2"));
    ck_assert_int_eq(parse_double_list("1,x", "--mu", v, 4, &n), AE_EINVAL);
    ck_assert_int_eq(parse_double_list("1,nan", "--mu", v, 4, &n), AE_EINVAL);
    ck_assert_int_eq(parse_double_list("1,2,3,4,5", "--mu", v, 4, &n), AE_EINVAL);
    ck_assert_int_eq(parse_double_list("1,", "--mu", v, 4, &n), AE_EINVAL);
    /* underflow is a value, overflow is not */
    ck_assert_int_eq(parse_double("1e-320", "--p2", &v[0]), AE_OK);
    ck_assert(v[0] > 0 && v[0] < 1e-300);
    ck_assert_int_eq(parse_double("1e400", "--p2", &v[0]), AE_EINVAL);
}
END_TEST

/* The programs' data loading: the sample given by --data loads with the limit applied; a folder
 * without the files is an error that says to run make data, and loads nothing. */
START_TEST(fashion_mnist_is_loaded_for_a_program)
{
    common_options common = common_defaults("test", 1);
    common.data_dir = sample_data_dir();
    common.limit = 50;
    fashion_mnist fm;
    ck_assert_int_eq(cli_load_fashion_mnist(&fm, &common, "test"), AE_OK);
    ck_assert_uint_eq(fm.train.images.count, 50);
    ck_assert_uint_eq(fm.test.images.count, 50);
    ck_assert_uint_eq(fm.train.images.item_size, FASHION_PIXELS);
    fashion_mnist_free(&fm);

    common.data_dir = "/nonexistent-folder";
    int rc = cli_load_fashion_mnist(&fm, &common, "test");
    ck_assert_int_eq(rc, AE_ENOENT);
    ck_assert_msg(strstr(error_message(), "/nonexistent-folder") != NULL && strstr(error_message(), "make data") != NULL,
                  "the message does not name the folder and the remedy: %s", error_message());
}
END_TEST

Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *core = test_case(s, "Core", 0);
    tcase_add_checked_fixture(core, setup, NULL);
    test_add(core, defaults_stay_without_options, every_kind_of_value_is_parsed,
             help_lists_every_option_with_its_default, number_lists_are_parsed_strictly,
             fashion_mnist_is_loaded_for_a_program);
    TCase *limits = test_case(s, "Limits", 0);
    tcase_add_checked_fixture(limits, setup, NULL);
    tcase_add_loop_test(limits, bad_arguments_are_refused_by_name, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    return s;
}
