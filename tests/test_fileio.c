/* test_fileio.c: files written whole or not at all, and folders. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "io/fileio.h"
#include "testutil.h"

START_TEST(an_aborted_file_leaves_nothing_behind)
{
    const char *dir = test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/partial.dat", dir);
    atomic_file af;
    ck_assert_int_eq(atomic_open(&af, path), AE_OK);
    fputs("half a file", af.fp);
    ck_assert(!file_exists(path));           /* nothing visible while writing */
    atomic_abort(&af);
    ck_assert(!file_exists(path));
    ck_assert(!file_exists(af.tmp));

    ck_assert_int_eq(atomic_open(&af, path), AE_OK);
    fputs("a whole file\n", af.fp);
    ck_assert_int_eq(atomic_commit(&af), AE_OK);
    ck_assert(file_exists(path));
    ck_assert(!file_exists(af.tmp));
}
END_TEST

START_TEST(folders_are_made_and_errors_named)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/a/b/c", test_tmpdir());
    ck_assert_int_eq(mkdir_p(path), AE_OK);
    ck_assert_int_eq(mkdir_p(path), AE_OK);   /* again: already there */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);

    atomic_file af;
    ck_assert_int_eq(atomic_open(&af, "/nonexistent-folder/x.dat"), AE_EIO);
    ck_assert_ptr_nonnull(strstr(error_message(), "/nonexistent-folder/x.dat"));

    char out[16];
    ck_assert_int_eq(path_join(out, sizeof out, "dir", "name"), AE_OK);
    ck_assert_str_eq(out, "dir/name");
    ck_assert_int_eq(path_join(out, sizeof out, "dir/", "name"), AE_OK);
    ck_assert_str_eq(out, "dir/name");
    ck_assert_int_eq(path_join(out, sizeof out, "a-long-folder", "a-long-name"), AE_EINVAL);
}
END_TEST

Suite *fileio_suite(void)
{
    Suite *s = suite_create("fileio");
    TCase *core = test_case(s, "Core", 0);
    tcase_add_test(core, an_aborted_file_leaves_nothing_behind);
    tcase_add_test(core, folders_are_made_and_errors_named);
    return s;
}
