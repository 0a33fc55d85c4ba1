/* test_tensor.c: allocation, views, reshaping and printing of shapes. */
#include <check.h>
#include <string.h>

#include "error.h"
#include "tensor.h"
#include "testutil.h"

START_TEST(test_alloc_zero_filled)
{
    const int shape[4] = { 2, 1, 28, 28 };
    tensor *t = tensor_alloc(4, shape);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->ndim, 4);
    for (int d = 0; d < 4; d++) ck_assert_int_eq(t->shape[d], shape[d]);
    ck_assert_uint_eq(t->size, 2 * 1 * 28 * 28);
    ck_assert_int_eq(t->owns_data, 1);
    for (size_t i = 0; i < t->size; i++) ck_assert_float_eq(t->data[i], 0.0f);
    /* the whole block is writable (ASan checks the bounds) */
    t->data[t->size - 1] = 2.385f;
    tensor_fill(t, -0.625f);
    for (size_t i = 0; i < t->size; i++) ck_assert_float_eq(t->data[i], -0.625f);
    tensor_free(t);
}
END_TEST

START_TEST(test_alloc_trailing_ones)
{
    const int shape[2] = { 3, 5 };
    tensor *t = tensor_alloc(2, shape);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->shape[0], 3);
    ck_assert_int_eq(t->shape[1], 5);
    ck_assert_int_eq(t->shape[2], 1);       /* unused trailing entries are 1 */
    ck_assert_int_eq(t->shape[3], 1);
    ck_assert_uint_eq(t->size, 15);
    tensor_free(t);
}
END_TEST

START_TEST(test_view_does_not_own)
{
    float block[12] = { 0 };
    const int shape[3] = { 3, 2, 2 };
    tensor v = tensor_view(block + 0, 3, shape);
    ck_assert_ptr_eq(v.data, block);
    ck_assert_int_eq(v.owns_data, 0);
    ck_assert_uint_eq(v.size, 12);
    ck_assert_int_eq(v.shape[3], 1);
    tensor_fill(&v, 1.75f);
    for (int i = 0; i < 12; i++) ck_assert_float_eq(block[i], 1.75f);
    /* a view of the second half of a parameter block: weights then biases */
    const int bias_shape[1] = { 4 };
    tensor bias = tensor_view(block + 8, 1, bias_shape);
    tensor_fill(&bias, -3.5f);
    ck_assert_float_eq(block[7], 1.75f);
    ck_assert_float_eq(block[8], -3.5f);
    ck_assert_float_eq(block[11], -3.5f);
}
END_TEST

START_TEST(test_reshape)
{
    const int shape[2] = { 6, 4 };
    tensor *t = tensor_alloc(2, shape);
    ck_assert_ptr_nonnull(t);
    float *data = t->data;
    const int image[3] = { 2, 3, 4 };
    ck_assert_int_eq(tensor_reshape(t, 3, image), AE_OK);
    ck_assert_int_eq(t->ndim, 3);
    ck_assert_int_eq(t->shape[0], 2);
    ck_assert_int_eq(t->shape[2], 4);
    ck_assert_int_eq(t->shape[3], 1);
    ck_assert_uint_eq(t->size, 24);
    ck_assert_ptr_eq(t->data, data);       /* no copy */

    error_clear();
    const int wrong[2] = { 5, 5 };
    ck_assert_int_eq(tensor_reshape(t, 2, wrong), AE_EBADLEN);
    ck_assert_int_eq(error_code(), AE_EBADLEN);
    ck_assert_ptr_nonnull(strstr(error_message(), "24"));
    ck_assert_int_eq(t->ndim, 3);          /* unchanged after the refusal */
    ck_assert_int_eq(t->shape[1], 3);

    const int negative[2] = { -4, -6 };    /* the product is 24, but the shape is not */
    ck_assert_int_eq(tensor_reshape(t, 2, negative), AE_EINVAL);
    const int flat[1] = { 24 };
    ck_assert_int_eq(tensor_reshape(t, 5, flat), AE_EINVAL);
    ck_assert_int_eq(t->shape[0], 2);
    tensor_free(t);
}
END_TEST

START_TEST(test_shape_size_and_format)
{
    const int shape[4] = { 2, 1, 28, 28 };
    ck_assert_uint_eq(shape_size(4, shape), 1568);
    const int with_zero[3] = { 3, 0, 2 }, with_negative[2] = { 4, -1 };
    ck_assert_uint_eq(shape_size(3, with_zero), 0);
    ck_assert_uint_eq(shape_size(2, with_negative), 0);

    char buf[64];
    ck_assert_str_eq(shape_format(buf, sizeof buf, 4, shape), "(2, 1, 28, 28)");
    const int one[1] = { 784 };
    ck_assert_str_eq(shape_format(buf, sizeof buf, 1, one), "(784)");
    /* too small a buffer: a terminated prefix, never an overrun */
    char small[6];
    memset(small, 'x', sizeof small);
    shape_format(small, sizeof small, 4, shape);
    ck_assert_uint_lt(strlen(small), sizeof small);
    ck_assert_int_eq(strncmp(small, "(2, 1, 28, 28)", strlen(small)), 0);
}
END_TEST

START_TEST(test_bad_shapes_refused)
{
    const int good[4] = { 1, 2, 3, 4 }, zero[2] = { 3, 0 }, negative[3] = { 2, -5, 2 };
    error_clear();
    ck_assert_ptr_null(tensor_alloc(0, good));
    ck_assert_int_eq(error_code(), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "dimensions"));
    error_clear();
    ck_assert_ptr_null(tensor_alloc(TENSOR_MAX_DIMS + 1, (const int[]){ 1, 1, 1, 1, 1 }));
    ck_assert_int_eq(error_code(), AE_EINVAL);
    error_clear();
    ck_assert_ptr_null(tensor_alloc(2, zero));
    ck_assert_int_eq(error_code(), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "positive"));
    error_clear();
    ck_assert_ptr_null(tensor_alloc(3, negative));
    ck_assert_int_eq(error_code(), AE_EINVAL);
}
END_TEST

START_TEST(test_free_null)
{
    tensor_free(NULL);                     /* a no-op, as free(NULL) */
    ck_assert_int_eq(1, 1);
}
END_TEST

Suite *tensor_suite(void)
{
    Suite *s = suite_create("tensor");
    TCase *tc = test_case(s, "Core", 0);
    test_add(tc, test_alloc_zero_filled, test_alloc_trailing_ones, test_view_does_not_own, test_reshape,
             test_shape_size_and_format);

    tc = test_case(s, "Limits", 0);
    test_add(tc, test_bad_shapes_refused, test_free_null);
    return s;
}
