/* grade_lib.h: what the reference programs and the harnesses of the grader share.
 *
 * Every exercise has, in solutions/<exercise>/:
 *   - a reference solution (*_reference.c): plain double-precision loops, no code
 *     shared with the exercise;
 *   - a plan program (*_plan.c) that runs the reference and prints the grading plan:
 *     which files must exist, how to run the program, and every item with its points,
 *     its expected value (computed here, never typed in) and its tolerance;
 *   - optionally a harness (*_harness.c) that links the submission's own functions
 *     against reference tests and prints one verdict per item.
 *
 * The plan is tab-separated text read by grade_tool (see grade_tool.c):
 *   exercise  NAME  TITLE
 *   optional                                   (not counted when its files are missing)
 *   requires  PATH ...                         (paths from the checkout's top)
 *   run       RUN  POINTS  EXIT  TIMEOUT  NAME  ARG ...
 *   harness   POINTS  TIMEOUT  NAME
 *   item      RUN  POINTS  KIND  KEY  EXPECTED  TOLERANCE  NAME  QUESTION
 *   mistake   RUN  KEY  VALUE  TEXT            (a known wrong value of an item, and what it means;
 *                                              VALUE may be "F*key", F times another result)
 * KIND is one of
 *   num    |got − expected| <= tolerance, where tolerance is a number or "F*key" (F times
 *          another value of the same results.tsv); inf matches inf of the same sign
 *   rel    |got − expected| <= tolerance · max(1, |expected|)
 *   band   expected <= got <= tolerance (EXPECTED is the low end, TOLERANCE the high end)
 *   text   got is exactly the text expected
 *   vec    comma-separated numbers, each within tolerance of its expected one
 *   fn     a verdict of the harness, looked up by KEY (EXPECTED and TOLERANCE unused)
 * In ARG, @SAMPLE@ stands for the grader's bundled Fashion-MNIST sample folder. QUESTION is the
 * solution region an item grades (solutions/README.md lists them; "-" for an item of the code the
 * exercise gives): an item with a question is a solution item, and a question's wrong values are
 * charged once (grade_tool.c).
 *
 * A harness prints one line per item: KEY  PASS|FAIL  EXPECTED  GOT  NOTE, NOTE being a known
 * mistake the value matches, or the stub of the student edition that was reached, or empty.
 */
#ifndef GRADE_LIB_H
#define GRADE_LIB_H

#include <stddef.h>

/* ------------------------------------------------------------ the plan */
void plan_exercise(const char *name, const char *title);
/* The items after it grade this question (a solution region's label, "Task 2a"); NULL or "" for
 * items of the code the exercise gives. */
void plan_question(const char *label);
/* A known mistake: when item KEY of RUN is wrong and its value matches `value` (to the item's
 * tolerance), the report names it: "looks like TEXT". */
void plan_mistake(const char *run, const char *key, double value, const char *text);
/* The same, the wrong value being factor times the value of other_key in the same results.tsv. */
void plan_mistake_scaled(const char *run, const char *key, double factor, const char *other_key, const char *text);
void plan_optional(void);
void plan_requires(const char *paths);                       /* space-separated */
/* args: space-separated; "" for none */
void plan_run(const char *run, int points, int exit_status, int timeout_seconds,
              const char *args, const char *name_fmt, ...) __attribute__((format(printf, 6, 7)));
void plan_harness(int points, int timeout_seconds, const char *name_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A number item: kind "num" passes when |got − expected| <= tolerance, "rel" when it is within
 * tolerance · |expected|. plan_num and plan_rel name the two. */
void plan_number(const char *run, int points, const char *kind, const char *key, double expected,
                 double tolerance, const char *name_fmt, ...) __attribute__((format(printf, 7, 8)));
#define plan_num(run, points, ...) plan_number(run, points, "num", __VA_ARGS__)
#define plan_rel(run, points, ...) plan_number(run, points, "rel", __VA_ARGS__)
/* tolerance = factor · (the value of tolerance_key in the same results.tsv) */
void plan_num_scaled(const char *run, int points, const char *key, double expected, double factor,
                     const char *tolerance_key, const char *name_fmt, ...)
    __attribute__((format(printf, 7, 8)));
void plan_band(const char *run, int points, const char *key, double low, double high,
               const char *name_fmt, ...) __attribute__((format(printf, 6, 7)));
void plan_text(const char *run, int points, const char *key, const char *expected,
               const char *name_fmt, ...) __attribute__((format(printf, 5, 6)));
/* values (n) */
void plan_vec(const char *run, int points, const char *key, const double *values, size_t n,
              double tolerance, const char *name_fmt, ...) __attribute__((format(printf, 7, 8)));
void plan_fn(int points, const char *key, const char *name_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The harness's items as a table: plan_fn on each row, under its own question when it names one
 * (else the current one of plan_question). */
typedef struct {
    int points;
    const char *key;
    const char *name;
    const char *question;
} plan_fn_row;
void plan_fns(const plan_fn_row *rows, size_t n);
#define PLAN_FNS(rows) plan_fns(rows, sizeof rows / sizeof rows[0])

/* ----------------------------------------------------------- a harness */
/* Prints KEY PASS|FAIL EXPECTED GOT and flushes, so a later crash loses nothing.
 * Returns pass. */
int verdict(const char *key, int pass, const char *expected, const char *got);
/* verdict with a note for the report: the known mistake a wrong value matches (NULL: none). */
int verdict_note(const char *key, int pass, const char *expected, const char *got, const char *note);
/* verdict on |got − expected| <= tolerance · max(1, |expected|) (inf only matches inf) */
int verdict_close(const char *key, double expected, double got, double tolerance);
/* x in the fewest digits that read back exactly ("0.4", "0.38190850097688767"), with inf, -inf
 * and nan spelled out */
const char *format_double(char *buf, size_t size, double x);
/* |got − expected| <= tolerance · max(1, |expected|), exact for infinities; NaN never matches */
int close_enough(double expected, double got, double tolerance);

#endif
