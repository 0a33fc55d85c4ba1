/* test_blas.c: the CBLAS in use and its threads. */
#include <check.h>
#include <string.h>

#include "fast/blas.h"
#include "error.h"
#include "testutil.h"

START_TEST(threads_can_be_set_and_read_back)
{
    ck_assert_ptr_nonnull(blas_name());
    ck_assert_int_eq(blas_set_threads(1), AE_OK);
    ck_assert_int_eq(blas_get_threads(), 1);
    ck_assert_int_eq(blas_set_threads(0), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "at least 1"));
#ifdef AE_OPENBLAS
    ck_assert_int_eq(blas_set_threads(2), AE_OK);
    ck_assert_int_eq(blas_get_threads(), 2);
    ck_assert_int_eq(blas_set_threads(1), AE_OK);
#else
    ck_assert_int_eq(blas_set_threads(2), AE_EDOM);
#endif
}
END_TEST

Suite *blas_suite(void)
{
    Suite *s = suite_create("blas");
    test_add(test_case(s, "Core", 0), threads_can_be_set_and_read_back);
    return s;
}
