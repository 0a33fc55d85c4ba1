/* check_main.c: runs every suite, prints Check's summary, fails if anything failed.
 *
 * Check's own switches work: CK_RUN_SUITE=layers or CK_RUN_CASE=Gradient to run one
 * part, CK_FORK=no to debug under gdb or valgrind, CK_VERBOSITY=verbose to list each
 * test, CK_TAP_LOG_FILE_NAME / CK_XML_LOG_FILE_NAME for machine-readable logs. */
#include <check.h>
#include <stdlib.h>

#define SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SUITE

int main(void)
{
    SRunner *runner = srunner_create(NULL);
#define SUITE(name) srunner_add_suite(runner, name##_suite());
#include "suites.h"
#undef SUITE
    srunner_run_all(runner, CK_ENV);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
