/* test_edition.c: the student edition (make student) and the way back.
 *
 *   Round trip  `make student DEST=d` writes the edition: every solution region a stub, the
 *               grader left out; putting this checkout's regions back (scripts/student-edition.sh
 *               --restore) gives every file of the checkout again, byte for byte.
 *   Student     the edition builds with every warning an error; its task-2 program runs, says
 *               which parts it skipped and why, writes what it has and exits 3; graded
 *               untouched, it scores no solution item, and no row is a crash.
 *   Limits      a DEST that is not empty is refused, and nothing is written.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

static char student[600];   /* the edition, made once and shared by the tests in order */

/* make -C ROOT TARGET VAR=VALUE, output to log; its exit status. */
static int make_target(const char *target, const char *assignment, const char *log)
{
    const char *args[] = { "make", "--no-print-directory", "-C", AE_ROOT, target, assignment, NULL };
    const char *env[] = { "MAKEFLAGS=", "MFLAGS=", "MAKELEVEL=", NULL };
    return run_command("make", NULL, args, env, log);
}

static void setup_student(void)
{
    snprintf(student, sizeof student, "%s/student", test_tmpdir());
}

static void make_edition(void)
{
    struct stat st;
    if (stat(student, &st) == 0) return;
    char dest[700], log[700];
    snprintf(dest, sizeof dest, "DEST=%s", student);
    snprintf(log, sizeof log, "%s.log", student);
    ck_assert_msg(make_target("student", dest, log) == 0, "make student failed; see %s", log);
}

/* The files git tracks in this checkout, one path a line (free it). */
static char *tracked_files(void)
{
    char log[700], list[700];
    snprintf(list, sizeof list, "%s/tracked.txt", test_tmpdir());
    snprintf(log, sizeof log, "%s/tracked.log", test_tmpdir());
    char command[2000];
    snprintf(command, sizeof command, "git -C '%s' ls-files > '%s'", AE_ROOT, list);
    const char *args[] = { "sh", "-c", command, NULL };
    ck_assert_int_eq(run_command("sh", NULL, args, NULL, log), 0);
    return test_read_text(list);
}

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

START_TEST(test_round_trip)
{
    make_edition();
    char path[1200];
    /* the regions are stubs, the grader is not there */
    snprintf(path, sizeof path, "%s/week05-task2-kl/kl.c", student);
    char *kl = test_read_text(path);
    ck_assert_ptr_nonnull(kl);
    ck_assert_msg(strstr(kl, "return not_implemented(\"kl_bernoulli_split\", \"week05-task2-kl/kl.c\", \"Task 2a\");"),
                  "kl_bernoulli_split is not a stub:\n%s", kl);
    ck_assert_msg(!strstr(kl, "kl_excess("), "the student edition still holds the reference's helpers");
    free(kl);
    snprintf(path, sizeof path, "%s/week05-task2-kl/README.md", student);
    char *readme = test_read_text(path);
    ck_assert_ptr_nonnull(readme);
    ck_assert_msg(!strstr(readme, "0.381909"), "the student README gives KL(0.4 ‖ 0.8) away");
    ck_assert_ptr_nonnull(strstr(readme, "*Your answer to Task 2a:*"));
    free(readme);
    snprintf(path, sizeof path, "%s/solutions", student);
    struct stat st;
    ck_assert_msg(stat(path, &st) != 0, "the student edition holds solutions/");
    snprintf(path, sizeof path, "%s/bench/case-vae.py", student);   /* the peers write the answers out */
    ck_assert_msg(stat(path, &st) != 0, "the student edition holds bench/");
    snprintf(path, sizeof path, "%s/week05-task4-ae/README.md", student);
    readme = test_read_text(path);
    ck_assert_ptr_nonnull(readme);
    ck_assert_msg(!strstr(readme, "3,801"), "the student README gives denoising model C's parameters away");
    free(readme);

    /* back: the regions of this checkout put in again give every tracked file as it is */
    char restored[700], log[700];
    snprintf(restored, sizeof restored, "%s/restored", test_tmpdir());
    snprintf(log, sizeof log, "%s/restore.log", test_tmpdir());
    const char *copy[] = { "cp", "-R", student, restored, NULL };
    ck_assert_int_eq(run_command("cp", NULL, copy, NULL, log), 0);
    const char *back[] = { "sh", AE_ROOT "/scripts/student-edition.sh", "--restore", restored, NULL };
    ck_assert_msg(run_command("sh", NULL, back, NULL, log) == 0, "the restore failed; see %s", log);
    char *files = tracked_files();
    ck_assert_ptr_nonnull(files);
    int compared = 0;
    for (char *line = strtok(files, "\n"); line; line = strtok(NULL, "\n")) {
        char mine[1200], theirs[1200];
        snprintf(mine, sizeof mine, "%s/%s", AE_ROOT, line);
        snprintf(theirs, sizeof theirs, "%s/%s", restored, line);
        ck_assert_msg(same_file(mine, theirs), "%s differs after the round trip", line);
        compared++;
    }
    free(files);
    ck_assert_int_gt(compared, 100);
}
END_TEST

START_TEST(test_student_edition_builds_runs_and_scores_nothing)
{
    make_edition();
    const char *tmp = test_tmpdir();   /* a new folder at each call: this test's files all go into one */
    char log[700], build[700];
    snprintf(log, sizeof log, "%s/build.log", tmp);
    snprintf(build, sizeof build, "O=%s/build", tmp);
    /* every warning an error: a stub must leave no unused parameter or helper behind */
    const char *args[] = { "make", "--no-print-directory", "-C", student, "programs", "WERROR=1", build, NULL };
    const char *env[] = { "MAKEFLAGS=-j2", "MFLAGS=", "MAKELEVEL=", "SANITIZE=", NULL };
    ck_assert_msg(run_command("make", NULL, args, env, log) == 0, "the student edition does not build; see %s", log);

    /* its task-2 program runs part (b)'s grid, skips what needs kl_bernoulli, and says so */
    char program[800], out[700], err[700];
    snprintf(program, sizeof program, "%s/build/release/bin/week05-task2-kl", tmp);
    snprintf(out, sizeof out, "%s/task2", tmp);
    snprintf(err, sizeof err, "%s/task2.log", tmp);
    const char *run[] = { program, "--out", out, "--no-plot", NULL };
    ck_assert_int_eq(run_command(program, NULL, run, NULL, err), 3);
    test_file_says(err, "part (a) skipped: not implemented yet: kl_bernoulli_split (week05-task2-kl/kl.c) — Task 2a");
    results *r = test_results(out);
    ck_assert_ptr_nonnull(results_get(r, "skipped_part_a"));
    ck_assert_ptr_null(results_get(r, "kl_p1_p2"));
    results_free(r);

    /* Task 1's kinds are parts of their own: each says which function it needs */
    snprintf(program, sizeof program, "%s/build/release/bin/week05-task1", tmp);
    snprintf(out, sizeof out, "%s/task1", tmp);
    snprintf(err, sizeof err, "%s/task1.log", tmp);
    const char *kinds[] = { program, "--part", "kinds", "--epochs", "1", "--limit", "100", "--data", sample_data_dir(),
                            "--out", out, "--no-plot", "--quiet", NULL };
    ck_assert_int_eq(run_command(program, NULL, kinds, NULL, err), 3);
    test_file_says(err, "part (a), the undercomplete kind skipped: not implemented yet: t1_weight_row_sq_norms");
    test_file_says(err, "part (a), the denoising kind skipped: not implemented yet: t1_corrupt");
    test_file_says(err, "part (a) skipped: no kind of autoencoder completed");

    /* graded untouched: no solution item passes, and nothing crashed */
    char grade_log[700], report_path[800];
    snprintf(grade_log, sizeof grade_log, "%s/grade.log", tmp);
    snprintf(report_path, sizeof report_path, "%s/grade-report.md", student);
    char command[3000];
    snprintf(command, sizeof command,
             "unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE O GRADE_BUILD GRADE_REPORT; export MAKEFLAGS=-j2 GRADE_QUICK=1 "
             "GRADE_TIMEOUT=120; make --no-print-directory -C '%s' grade SUBMISSION='%s'",
             AE_ROOT, student);
    const char *sh[] = { "sh", "-c", command, NULL };
    ck_assert_msg(run_command("sh", NULL, sh, NULL, grade_log) != 0, "the untouched student edition passes; see %s",
                  grade_log);
    char *report = test_read_text(report_path);
    ck_assert_msg(report != NULL, "no grade report; see %s", grade_log);
    for (const char *row = strstr(report, "\n| "); row; row = strstr(row + 1, "\n| ")) {
        const char *end = strchr(row + 1, '\n');
        size_t len = end ? (size_t)(end - row - 1) : strlen(row + 1);
        char line[4096];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), row + 1);
        ck_assert_msg(!strstr(line, "crashed at") && !strstr(line, "signal"), "a crash row: %s", line);
        /* | item | expected | got | result | points | question | why | */
        char *cells[8] = { 0 };
        int n = 0;
        for (char *c = strtok(line, "|"); c && n < 8; c = strtok(NULL, "|")) cells[n++] = c;
        if (n < 7) continue;
        const int passed = strstr(cells[3], "PASS") != NULL;
        const int solution = strspn(cells[5], " ") != strlen(cells[5]);
        ck_assert_msg(!(passed && solution), "a solution item passes in the untouched student edition: %s | %s",
                      cells[0], cells[5]);
    }
    free(report);
}
END_TEST

START_TEST(test_refuses_a_folder_that_is_not_empty)
{
    char dest[700], log[700], file[800], assignment[720];
    snprintf(dest, sizeof dest, "%s/taken", test_tmpdir());
    snprintf(log, sizeof log, "%s/taken.log", test_tmpdir());
    ck_assert_int_eq(mkdir(dest, 0755), 0);
    snprintf(file, sizeof file, "%s/mine.txt", dest);
    test_write_text(file, "a student's own file\n");
    snprintf(assignment, sizeof assignment, "DEST=%s", dest);
    ck_assert_int_ne(make_target("student", assignment, log), 0);
    test_file_says(log, "exists and is not empty");
    DIR *d = opendir(dest);
    int entries = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) entries += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(entries, 1);
    ck_assert_int_ne(make_target("student", "DEST=", log), 0);
    test_file_says(log, "give the folder to write");
}
END_TEST

Suite *edition_suite(void)
{
    Suite *s = suite_create("edition");
    TCase *core = test_case(s, "Core", 900);
    tcase_add_unchecked_fixture(core, setup_student, NULL);   /* one edition, made by the first test */
    test_add(core, test_round_trip, test_student_edition_builds_runs_and_scores_nothing);
    test_add(test_case(s, "Limits", 0), test_refuses_a_folder_that_is_not_empty);
    return s;
}
