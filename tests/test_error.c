/* test_error.c: the last-error record. */
#include <check.h>
#include <string.h>

#include "error.h"
#include "testutil.h"

static int fail_with_domain_error(double p)
{
    return AE_ERROR(AE_EDOM, "p = %g is not a probability", p);
}

START_TEST(an_error_keeps_its_code_message_and_place)
{
    error_clear();
    ck_assert_int_eq(error_code(), AE_OK);
    ck_assert_str_eq(error_message(), "");
    ck_assert_int_eq(fail_with_domain_error(2.385), AE_EDOM);
    ck_assert_int_eq(error_code(), AE_EDOM);
    ck_assert_str_eq(error_message(), "p = 2.385 is not a probability");
    ck_assert_ptr_nonnull(strstr(error_location(), "test_error.c:"));
    ck_assert_str_eq(error_name(AE_EDOM), "AE_EDOM");
    ck_assert_str_eq(error_name(AE_EFORMAT), "AE_EFORMAT");
    error_clear();
    ck_assert_str_eq(error_message(), "");
}
END_TEST

START_TEST(a_message_can_wrap_the_previous_one)
{
    AE_ERROR(AE_EINVAL, "threads must be at least 1, not %d", 0);
    ck_assert_int_eq(AE_ERROR(AE_EINVAL, "--threads: %s", error_message()), AE_EINVAL);
    ck_assert_str_eq(error_message(), "--threads: threads must be at least 1, not 0");
}
END_TEST

START_TEST(a_long_message_is_cut_not_overflowed)
{
    char long_text[2000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    ck_assert_int_eq(AE_ERROR(AE_EINVAL, "%s", long_text), AE_EINVAL);
    ck_assert_uint_lt(strlen(error_message()), sizeof long_text - 1);
    ck_assert_uint_gt(strlen(error_message()), 100);
}
END_TEST

Suite *error_suite(void)
{
    Suite *s = suite_create("error");
    test_add(test_case(s, "Core", 0), an_error_keeps_its_code_message_and_place, a_message_can_wrap_the_previous_one,
             a_long_message_is_cut_not_overflowed);
    return s;
}
