/* check_main.c: runs every suite, prints Check's summary, fails if anything failed.
 *
 * Check's own switches work: CK_RUN_SUITE=layers or CK_RUN_CASE=Gradient to run one
 * part, CK_FORK=no to debug under gdb or valgrind, CK_VERBOSITY=verbose to list each
 * test, CK_TAP_LOG_FILE_NAME / CK_XML_LOG_FILE_NAME for machine-readable logs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

#define SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SUITE

/* In the student edition a test that reaches a function not written yet fails; its process (Check
 * forks one per test) says which function as it reaches it, so the failure names what to write. */
static void say_what_is_missing(const char *message)
{
    const char *test_case = tcase_name();
    fprintf(stderr, "  %s%s%s\n", test_case ? test_case : "", test_case ? ": " : "", message);
}

int main(void)
{
    not_implemented_notify(say_what_is_missing);
    /* the tests use the bundled sample: not Debian's full copy, should this machine have it (the
     * programs they start inherit this too); test_data's locate_order sets it where it needs one */
    setenv("FASHION_MNIST_SYSTEM_DIR", "", 1);
    SRunner *runner = srunner_create(NULL);
#define SUITE(name) srunner_add_suite(runner, name##_suite());
#include "suites.h"
#undef SUITE
    srunner_run_all(runner, CK_ENV);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
