/* test_program.c: a program's run (common/io/program.c): its folder, results, histories. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "error.h"
#include "io/fileio.h"
#include "io/program.h"
#include "io/results.h"
#include "testutil.h"

static const program_info info = { "test-program", "a program for tests", NULL, CLI_USES_DATA | CLI_TRAINS };

/* A run into a new folder: results with formatted keys, the setup, results.tsv at the end. */
START_TEST(test_run_writes_results)
{
    common_options common = common_defaults("test-program", 1);
    snprintf(common.out_dir, sizeof common.out_dir, "%s/deeper/out", test_tmpdir());
    common.no_plot = 1;
    program_run run;
    ck_assert_int_eq(program_begin(&run, &info, &common), AE_OK);
    ck_assert_int_eq(program_record_setup(&run, 2, "/data/here", 1), AE_OK);
    ck_assert_int_eq(program_result(&run, 0.25, "model_%s_val_mse", "A"), AE_OK);
    ck_assert_int_eq(program_result_int(&run, 7, "epochs_%d", 3), AE_OK);
    ck_assert_int_eq(program_result_text(&run, "relu", "act"), AE_OK);
    const program_value table[] = { { "mean", 2.375 }, { "sd", 0.5 }, { "bad name", 1.0 }, { "after", 3.0 } };
    ck_assert_int_eq(program_results(&run, "study", table, 2), AE_OK);
    ck_assert_int_eq(program_results(&run, "refused", table + 2, 2), AE_EINVAL);   /* stops at the bad name */
    ck_assert_int_eq(program_result(&run, 1.0, "bad key %s", "with spaces"), AE_EINVAL);
    char long_key[300];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    ck_assert_int_eq(program_result(&run, 1.0, "%s", long_key), AE_EINVAL);
    char path[AE_PATH_MAX];
    ck_assert_int_eq(program_path(&run, path, sizeof path, "model_%s.ckpt", "B"), AE_OK);
    ck_assert_str_eq(strrchr(path, '/'), "/model_B.ckpt");
    ck_assert_int_eq(program_render(&run, "nothing"), AE_OK);    /* --no-plot: counted, not drawn */
    ck_assert_int_eq(run.figures, 1);
    ck_assert_int_eq(program_end(&run, AE_OK), 0);

    results *r;
    ck_assert_int_eq(path_join(path, sizeof path, common.out_dir, "results.tsv"), AE_OK);
    ck_assert_int_eq(results_read(&r, path), AE_OK);
    ck_assert_str_eq(results_get(r, "model_A_val_mse"), "0.25");
    ck_assert_str_eq(results_get(r, "epochs_3"), "7");
    ck_assert_str_eq(results_get(r, "study_mean"), "2.375");
    ck_assert_str_eq(results_get(r, "study_sd"), "0.5");
    ck_assert_ptr_null(results_get(r, "refused_after"));
    ck_assert_str_eq(results_get(r, "engine"), engine_name());
    ck_assert_str_eq(results_get(r, "threads"), "2");
    ck_assert_str_eq(results_get(r, "data_is_sample"), "1");
    ck_assert_str_eq(results_get(r, "seed"), "42");
    results_free(r);
}
END_TEST

/* A folder that cannot be written stops the run at once; a failed run leaves no folder it made. */
START_TEST(test_run_refuses_unwritable_folder)
{
    common_options common = common_defaults("test-program", 1);
    program_run run;
    snprintf(common.out_dir, sizeof common.out_dir, "%s/a-file", test_tmpdir());
    FILE *fp = fopen(common.out_dir, "w");
    ck_assert_ptr_nonnull(fp);
    fclose(fp);
    ck_assert_int_ne(program_begin(&run, &info, &common), AE_OK);   /* a file where the folder should be */
    ck_assert_ptr_nonnull(strstr(error_message(), "--out"));
    ck_assert_int_eq(program_end(&run, error_code()), 1);
    if (geteuid() != 0) {   /* root writes anywhere */
        snprintf(common.out_dir, sizeof common.out_dir, "%s/locked", test_tmpdir());
        ck_assert_int_eq(mkdir(common.out_dir, 0500), 0);
        ck_assert_int_eq(program_begin(&run, &info, &common), AE_EIO);
        ck_assert_ptr_nonnull(strstr(error_message(), "cannot write there"));
        program_end(&run, AE_EIO);
    }
    snprintf(common.out_dir, sizeof common.out_dir, "%s/made-then-failed", test_tmpdir());
    ck_assert_int_eq(program_begin(&run, &info, &common), AE_OK);
    struct stat st;
    ck_assert_int_eq(stat(common.out_dir, &st), 0);
    ck_assert_int_eq(program_end(&run, AE_ERROR(AE_ENOENT, "no data")), 1);
    ck_assert_int_ne(stat(common.out_dir, &st), 0);                 /* empty, and ours: removed */
}
END_TEST

START_TEST(test_history_round_trip)
{
    train_history h;
    train_history_begin(&h);
    h.epochs_run = 3;
    for (int e = 0; e < 3; e++) {
        h.train_loss[e] = 0.1 / (e + 1) + 1e-17;
        h.val_loss[e] = 0.2 / (e + 1);
        h.seconds[e] = 1.5 * e;
    }
    char path[AE_PATH_MAX];
    snprintf(path, sizeof path, "%s/h.tsv", test_tmpdir());
    history_meta meta[2] = { { "spec", "dense:64:relu" }, { "loss", "mse" } };
    ck_assert_int_eq(history_write(path, "model A", meta, 2, &h, "test-program"), AE_OK);
    train_history back;
    ck_assert_int_eq(history_read(path, meta, 2, &back, "Train again."), AE_OK);
    ck_assert_int_eq(back.epochs_run, 3);
    for (int e = 0; e < 3; e++) {
        ck_assert_double_eq(back.train_loss[e], h.train_loss[e]);   /* %.17g: every bit */
        ck_assert_double_eq(back.val_loss[e], h.val_loss[e]);
    }
    history_meta other[1] = { { "loss", "bce" } };
    ck_assert_int_eq(history_read(path, other, 1, &back, "Train again."), AE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(error_message(), "made with loss 'mse', not 'bce'. Train again."));
    history_meta absent[1] = { { "normal_class", "7" } };
    ck_assert_int_eq(history_read(path, absent, 1, &back, "Train again."), AE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(error_message(), "'(none)'"));
    char missing[AE_PATH_MAX];
    snprintf(missing, sizeof missing, "%s/none.tsv", test_tmpdir());
    ck_assert_int_eq(history_read(missing, meta, 2, &back, "Train again."), AE_ENOENT);
    FILE *fp = fopen(path, "a");
    fprintf(fp, "7\t1\t2\t3\n");                                    /* epoch 7 after epoch 3 */
    fclose(fp);
    ck_assert_int_eq(history_read(path, meta, 2, &back, "Train again."), AE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(error_message(), "expected epoch 4"));
}
END_TEST

START_TEST(test_error_prefix)
{
    AE_ERROR(AE_EDOM, "the value is 3");
    ck_assert_int_eq(program_error_prefix("--layers", AE_EINVAL), AE_EINVAL);
    ck_assert_str_eq(error_message(), "--layers: the value is 3");
}
END_TEST

/* Parts: one that completes keeps its results; one that reaches a stub of the student edition is
 * skipped, drops what it recorded and says why; one that needs it is skipped too; one that fails
 * keeps its results and makes the exit status 1; without failures the status is 3. An error no
 * later part can get past ends the run. */
static int part_that_records(program_run *run, const char *key)
{
    return program_result(run, 1.5, "%s", key);
}

static int part_with_a_stub(program_run *run)
{
    int rc = program_result(run, 2.5, "half_done");
    if (rc != AE_OK) return rc;
    return not_implemented("fill_me_in", "demo/demo.c", "Task 9z");
}

static int part_that_fails(program_run *run)
{
    program_result(run, 3.5, "before_the_failure");
    return AE_ERROR(AE_ENUMERIC, "the loss is NaN");
}

START_TEST(test_parts)
{
    not_implemented_hook *runner = not_implemented_notify(NULL);   /* these stubs are meant */
    for (int failing = 0; failing < 2; failing++) {
        common_options common = common_defaults("test-program", 1);
        snprintf(common.out_dir, sizeof common.out_dir, "%s/parts", test_tmpdir());
        common.no_plot = 1;
        program_run run;
        ck_assert_int_eq(program_begin(&run, &info, &common), AE_OK);
        ck_assert_int_eq(program_part(&run, "part (a)", part_that_records(&run, "a_value")), AE_OK);
        ck_assert_int_eq(program_part(&run, "part (b)", part_with_a_stub(&run)), AE_OK);
        ck_assert_int_eq(program_part(&run, "part (c)", PROGRAM_AFTER(&run, "part (b)", part_that_records(&run, "c"))),
                         AE_OK);
        if (failing) ck_assert_int_eq(program_part(&run, "part (d)", part_that_fails(&run)), AE_OK);
        ck_assert(program_part_done(&run, "part (a)") && !program_part_done(&run, "part (b)"));
        ck_assert_int_eq(run.parts_done, 1);
        ck_assert_int_eq(program_end(&run, AE_OK), failing ? 1 : 3);
        results *r = test_results(common.out_dir);
        ck_assert(test_result(r, "a_value") == 1.5);
        ck_assert_ptr_null(results_get(r, "half_done"));
        ck_assert_ptr_null(results_get(r, "c"));
        ck_assert_str_eq(results_get(r, "skipped_part_b"), "not implemented yet: fill_me_in (demo/demo.c) — Task 9z");
        ck_assert_ptr_nonnull(strstr(results_get(r, "skipped_part_c"), "needs part (b)"));
        if (failing) {
            ck_assert(test_result(r, "before_the_failure") == 3.5);
            ck_assert_str_eq(results_get(r, "failed_part_d"), "the loss is NaN");
        }
        results_free(r);
    }
    /* a file that cannot be written ends the run; no part after it runs */
    common_options common = common_defaults("test-program", 1);
    snprintf(common.out_dir, sizeof common.out_dir, "%s/fatal", test_tmpdir());
    program_run run;
    ck_assert_int_eq(program_begin(&run, &info, &common), AE_OK);
    ck_assert_int_eq(program_part(&run, "part (a)", AE_ERROR(AE_EIO, "disk full")), AE_EIO);
    ck_assert_int_eq(program_end(&run, AE_EIO), 1);
    not_implemented_reset();
    not_implemented_notify(runner);
}
END_TEST

/* One run per folder: a second run into a busy --out is refused and names the first; the lock
 * goes with the first run's end. A killed run's temporaries are swept by the next run. */
START_TEST(test_one_run_per_folder)
{
    common_options common = common_defaults("test-program", 1);
    snprintf(common.out_dir, sizeof common.out_dir, "%s/busy", test_tmpdir());
    program_run first, second;
    ck_assert_int_eq(program_begin(&first, &info, &common), AE_OK);
    ck_assert_int_eq(program_begin(&second, &info, &common), AE_ESTATE);
    char expected[200];
    snprintf(expected, sizeof expected, "another run is writing into it (pid %ld, test-program)", (long)getpid());
    ck_assert_msg(strstr(error_message(), expected), "the refusal does not name the running one: %s", error_message());
    ck_assert_int_eq(program_end(&second, AE_ESTATE), 1);
    ck_assert_int_eq(program_end(&first, AE_OK), 0);

    char stale[4200];
    snprintf(stale, sizeof stale, "%s/loss.png.999999999.0.tmp", common.out_dir);   /* above any pid */
    test_write_text(stale, "half a png");
    ck_assert_int_eq(program_begin(&second, &info, &common), AE_OK);   /* free again */
    ck_assert(!test_file_in(common.out_dir, "loss.png.999999999.0.tmp"));
    ck_assert_int_eq(program_end(&second, AE_OK), 0);
}
END_TEST

static int notified;
static char notified_message[256];
static void count_notices(const char *message)
{
    notified++;
    snprintf(notified_message, sizeof notified_message, "%s", message);
}

/* The stubs: each records its message and returns what its function's type asks for; the hook
 * hears of the first one only. */
START_TEST(test_not_implemented)
{
    not_implemented_hook *runner = not_implemented_notify(count_notices);
    notified = 0;
    not_implemented_reset();
    ck_assert_ptr_null(not_implemented_seen());
    ck_assert_int_eq(not_implemented("f", "x/f.c", "Task 1a"), AE_ENOTIMPL);
    ck_assert_str_eq(error_message(), "not implemented yet: f (x/f.c) — Task 1a");
    ck_assert(isnan(not_implemented_nan("g", "x/g.c", "Task 1b")));
    ck_assert_int_eq(not_implemented_long("h", "x/h.c", "Task 1c"), -1);
    ck_assert_ptr_null(not_implemented_null("i", "x/i.c", "Task 1d"));
    error_clear();   /* the first stub is kept, whatever errors come after */
    ck_assert_str_eq(not_implemented_seen(), "not implemented yet: f (x/f.c) — Task 1a");
    ck_assert_str_eq(error_name(AE_ENOTIMPL), "AE_ENOTIMPL");
    ck_assert_int_eq(notified, 1);
    ck_assert_str_eq(notified_message, "not implemented yet: f (x/f.c) — Task 1a");
    not_implemented_reset();
    ck_assert_ptr_null(not_implemented_seen());
    ck_assert_ptr_eq(not_implemented_notify(runner), count_notices);
}
END_TEST

Suite *program_suite(void)
{
    Suite *s = suite_create("program");
    test_add(test_case(s, "Core", 0), test_run_writes_results, test_run_refuses_unwritable_folder,
             test_history_round_trip, test_error_prefix, test_parts, test_not_implemented, test_one_run_per_folder);
    return s;
}
