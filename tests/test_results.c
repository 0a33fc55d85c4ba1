/* test_results.c: results.tsv. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "io/fileio.h"
#include "io/results.h"
#include "testutil.h"

START_TEST(values_round_trip_at_full_precision)
{
    const char *dir = test_tmpdir();
    results *r = results_alloc();
    double kl = 0.38190850097688767;   /* a value with 17 significant digits */
    ck_assert_int_eq(results_add_double(r, "kl_p1_p2", kl), AE_OK);
    ck_assert_int_eq(results_add_double(r, "kl_edge", INFINITY), AE_OK);
    ck_assert_int_eq(results_add_int(r, "model_A_params", 101280), AE_OK);
    ck_assert_int_eq(results_add_text(r, "out_shape", "4x4"), AE_OK);
    ck_assert_int_eq(results_add_double(r, "kl_p1_p2", kl / 2), AE_OK);   /* replaces */
    ck_assert_int_eq(results_write(r, dir), AE_OK);
    results_free(r);

    char path[4096];
    snprintf(path, sizeof path, "%s/results.tsv", dir);
    results *back;
    ck_assert_int_eq(results_read(&back, path), AE_OK);
    ck_assert_double_eq(strtod(results_get(back, "kl_p1_p2"), NULL), kl / 2);
    ck_assert_str_eq(results_get(back, "kl_edge"), "inf");
    ck_assert_str_eq(results_get(back, "model_A_params"), "101280");
    ck_assert_str_eq(results_get(back, "out_shape"), "4x4");
    ck_assert_ptr_null(results_get(back, "missing"));
    results_free(back);

    /* The keys keep their order and the replaced key stays in place. */
    FILE *fp = fopen(path, "r");
    char line[256];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, fp));
    ck_assert_int_eq(strncmp(line, "kl_p1_p2\t", 9), 0);
    fclose(fp);
}
END_TEST

START_TEST(a_long_value_survives_the_round_trip)
{
    /* Much longer than any fixed line buffer: the transposed-convolution output of a big input. */
    static char long_value[100000];
    for (size_t i = 0; i < sizeof long_value - 1; i++) long_value[i] = (char)('0' + i % 10);
    const char *dir = test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/results.tsv", dir);
    results *r = results_alloc(), *back;
    ck_assert_int_eq(results_add_text(r, "out", long_value), AE_OK);
    ck_assert_int_eq(results_write(r, dir), AE_OK);
    results_free(r);
    ck_assert_int_eq(results_read(&back, path), AE_OK);
    ck_assert_uint_eq(strlen(results_get(back, "out")), sizeof long_value - 1);
    results_free(back);
}
END_TEST

START_TEST(bad_keys_and_values_are_refused)
{
    results *r = results_alloc();
    ck_assert_int_eq(results_add_double(r, "has space", 1.0), AE_EINVAL);
    ck_assert_int_eq(results_add_double(r, "", 1.0), AE_EINVAL);
    ck_assert_int_eq(results_add_text(r, "ok", "tab\there"), AE_EINVAL);
    results_free(r);
    results_free(NULL);
}
END_TEST

START_TEST(a_line_without_a_tab_is_refused)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bad.tsv", test_tmpdir());
    FILE *fp = fopen(path, "w");
    fputs("good\t1\nbad line\n", fp);
    fclose(fp);
    results *r;
    ck_assert_int_eq(results_read(&r, path), AE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(error_message(), ":2:"));
    ck_assert_int_eq(results_read(&r, "/nonexistent/results.tsv"), AE_ENOENT);
}
END_TEST

Suite *results_suite(void)
{
    Suite *s = suite_create("results");
    test_add(test_case(s, "Core", 0), values_round_trip_at_full_precision, a_long_value_survives_the_round_trip);
    test_add(test_case(s, "Limits", 0), bad_keys_and_values_are_refused, a_line_without_a_tab_is_refused);
    return s;
}
