/* test_fileio.c: files written whole or not at all, and folders. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* A symbolic link planted at the temporary names (in a shared folder, by another user) is left
 * alone: the file goes to a new name, the link's target stays as it was. */
START_TEST(planted_links_are_not_followed)
{
    const char *dir = test_tmpdir();
    char victim[4096], path[4096], link[4200];
    snprintf(victim, sizeof victim, "%s/victim.txt", dir);
    test_write_text(victim, "precious\n");
    snprintf(path, sizeof path, "%s/results.tsv", dir);
    for (int n = 0; n < 4; n++) {
        snprintf(link, sizeof link, "%s.%ld.%d.tmp", path, (long)getpid(), n);
        ck_assert_int_eq(symlink(victim, link), 0);
    }
    atomic_file af;
    ck_assert_int_eq(atomic_open(&af, path), AE_OK);
    fputs("key\tvalue\n", af.fp);
    ck_assert_int_eq(atomic_commit(&af), AE_OK);
    test_file_says(path, "key\tvalue");
    char *kept = test_read_text(victim);
    ck_assert_str_eq(kept, "precious\n");
    free(kept);
    char tmp[4200];
    ck_assert_int_eq(temp_create(tmp, sizeof tmp, path), AE_OK);   /* the same for a child's file */
    ck_assert_msg(strstr(tmp, ".4.tmp") != NULL, "temp_create took %s", tmp);
    unlink(tmp);
}
END_TEST

/* The temporaries of a process that is gone are swept; those of a live one stay. */
START_TEST(stale_temporaries_are_swept)
{
    const char *dir = test_tmpdir();
    pid_t child = fork();
    if (child == 0) _exit(0);
    ck_assert_int_gt(child, 0);
    waitpid(child, NULL, 0);   /* its pid now names no process */
    char dead1[4096], dead2[4096], live[4096], other[4096];
    snprintf(dead1, sizeof dead1, "%s/loss.png.%ld.0.tmp", dir, (long)child);
    snprintf(dead2, sizeof dead2, "%s/results.tsv.%ld.tmp", dir, (long)child);
    snprintf(live, sizeof live, "%s/loss.png.%ld.0.tmp", dir, (long)getppid());
    snprintf(other, sizeof other, "%s/notes.tmp", dir);
    const char *all[] = { dead1, dead2, live, other };
    for (int i = 0; i < 4; i++) test_write_text(all[i], "x");
    ck_assert_int_eq(temp_sweep(dir), 2);
    ck_assert(!file_exists(dead1) && !file_exists(dead2));
    ck_assert(file_exists(live) && file_exists(other));
    ck_assert_int_eq(temp_sweep("/nonexistent-folder"), -1);
}
END_TEST

/* test_tmpdir (testutil.c): a process that exits 0 removes the folders it made, with all they
 * hold and without following links; one that exits otherwise keeps them; the parent's stay. */
static pid_t make_folders_and_exit(int status, const char *outside, char *made, size_t made_size)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        close(fds[0]);
        const char *dir = test_tmpdir();
        char path[4096];
        snprintf(path, sizeof path, "%s/sub", dir);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/sub/file.dat", dir);
        test_write_text(path, "x");
        snprintf(path, sizeof path, "%s/link", dir);
        if (symlink(outside, path) != 0) _exit(99);
        if (write(fds[1], dir, strlen(dir) + 1) < 0) _exit(99);
        exit(status);   /* exit, not _exit: the handlers run as at the end of a test */
    }
    close(fds[1]);
    ssize_t got = read(fds[0], made, made_size - 1);
    close(fds[0]);
    made[got > 0 ? got : 0] = '\0';
    int wstatus;
    ck_assert_int_eq(waitpid(child, &wstatus, 0), child);
    ck_assert(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == status);
    return child;
}

START_TEST(test_folders_are_removed_when_the_test_passes)
{
    const char *mine = test_tmpdir();
    char tmp[1024], outside[1024], kept_file[2048], made[4096], was[4096] = "";
    const int had_tmpdir = getenv("TMPDIR") != NULL;
    if (had_tmpdir) snprintf(was, sizeof was, "%s", getenv("TMPDIR"));
    snprintf(tmp, sizeof tmp, "%s/tmp", mine);
    snprintf(outside, sizeof outside, "%s/outside", mine);
    mkdir(tmp, 0700);
    mkdir(outside, 0700);
    snprintf(kept_file, sizeof kept_file, "%s/keep.dat", outside);
    test_write_text(kept_file, "x");
    setenv("TMPDIR", tmp, 1);                                  /* $TMPDIR is where they go */

    make_folders_and_exit(0, outside, made, sizeof made);    /* passed: its folder is gone */
    ck_assert_msg(strncmp(made, tmp, strlen(tmp)) == 0 && strstr(made, "/ae-test-"),
                  "the child's folder '%s' is not in $TMPDIR %s", made, tmp);
    ck_assert_msg(!folder_exists(made), "%s is still there after its test passed", made);
    ck_assert(file_exists(kept_file));                         /* the link was not followed */
    ck_assert(folder_exists(outside) && !folder_exists(kept_file));   /* a file is no folder */

    make_folders_and_exit(1, outside, made, sizeof made);    /* failed: kept to be looked at */
    ck_assert_msg(folder_exists(made), "%s was removed although its test failed", made);
    ck_assert(folder_exists(mine));                              /* the parent's folder is the parent's */

    char missing[1100];                                        /* a $TMPDIR that is not there: said, not /tmp */
    snprintf(missing, sizeof missing, "%s/no-such-folder", mine);
    setenv("TMPDIR", missing, 1);
    errno = 0;
    ck_assert_ptr_null(test_tmpdir_try());
    ck_assert_int_eq(errno, ENOENT);
    if (had_tmpdir) setenv("TMPDIR", was, 1);
    else unsetenv("TMPDIR");
}
END_TEST

Suite *fileio_suite(void)
{
    Suite *s = suite_create("fileio");
    test_add(test_case(s, "Core", 0), an_aborted_file_leaves_nothing_behind, folders_are_made_and_errors_named,
             planted_links_are_not_followed, stale_temporaries_are_swept,
             test_folders_are_removed_when_the_test_passes);
    return s;
}
