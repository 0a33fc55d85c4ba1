/* task1_plan.c: how week05-task1 is graded.
 *
 * The exercise is optional for the grade while its program does not exist: when
 * week05-task1/main.c is missing, its items are listed but not counted (REQUIRE_ALL=1 counts
 * them, for a student's checkout that must hold every task). Once the program exists, its
 * graded numbers go here as items of the "short" run, each computed by a reference in this
 * folder, like the other exercises' plans.
 */
#include "grade_lib.h"

int main(void)
{
    plan_exercise("week05-task1", "Task 1: autoencoders and VAEs compared");
    plan_optional();
    plan_requires("week05-task1/Makefile week05-task1/main.c");
    plan_run("short", 1, 0, 600, "--epochs 1 --limit 200 --data @SAMPLE@ --seed 5 --quiet",
             "runs a short seeded run on the bundled sample (--epochs 1 --limit 200) and writes results.tsv");
    plan_run("bad_option", 1, 2, 30, "--no-such-option", "refuses an unknown option with exit status 2");
    return 0;
}
