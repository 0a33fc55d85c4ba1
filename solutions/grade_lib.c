/* grade_lib.c: printing the grading plan and a harness's verdicts (see grade_lib.h). */
#include "grade_lib.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *format_double(char *buf, size_t size, double x)
{
    if (isnan(x)) snprintf(buf, size, "nan");
    else if (isinf(x)) snprintf(buf, size, x > 0 ? "inf" : "-inf");
    else {
        /* the shortest of %.6g, %.12g, %.17g that reads back as exactly x */
        static const char *const forms[] = { "%.6g", "%.12g", "%.17g" };
        for (int i = 0; i < 3; i++) {
            snprintf(buf, size, forms[i], x);
            if (strtod(buf, NULL) == x) break;
        }
    }
    return buf;
}

int close_enough(double expected, double got, double tolerance)
{
    if (isnan(expected) || isnan(got)) return 0;
    if (isinf(expected) || isinf(got)) return expected == got;
    return fabs(got - expected) <= tolerance * fmax(1.0, fabs(expected));
}

/* A name is one line of the plan's last field: tabs and newlines would break it. */
static void print_name(const char *fmt, va_list ap)
{
    char name[512];
    vsnprintf(name, sizeof name, fmt, ap);
    for (char *c = name; *c; c++)
        if (*c == '\t' || *c == '\n') *c = ' ';
    fputs(name, stdout);
}

void plan_exercise(const char *name, const char *title)
{
    printf("exercise\t%s\t%s\n", name, title);
}

void plan_optional(void)
{
    printf("optional\n");
}

void plan_requires(const char *paths)
{
    printf("requires");
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", paths);
    for (char *p = strtok(copy, " "); p; p = strtok(NULL, " ")) printf("\t%s", p);
    printf("\n");
}

void plan_run(const char *run, int points, int exit_status, int timeout_seconds,
              const char *args, const char *name_fmt, ...)
{
    printf("run\t%s\t%d\t%d\t%d\t", run, points, exit_status, timeout_seconds);
    va_list ap;
    va_start(ap, name_fmt);
    print_name(name_fmt, ap);
    va_end(ap);
    char copy[2048];
    snprintf(copy, sizeof copy, "%s", args);
    for (char *p = strtok(copy, " "); p; p = strtok(NULL, " ")) printf("\t%s", p);
    printf("\n");
}

void plan_harness(int points, int timeout_seconds, const char *name_fmt, ...)
{
    printf("harness\t%d\t%d\t", points, timeout_seconds);
    va_list ap;
    va_start(ap, name_fmt);
    print_name(name_fmt, ap);
    va_end(ap);
    printf("\n");
}

static char question[128] = "-";   /* the question the next items grade (plan_question) */

void plan_question(const char *label)
{
    snprintf(question, sizeof question, "%s", label && *label ? label : "-");
}

/* item RUN POINTS KIND KEY EXPECTED TOLERANCE NAME QUESTION */
static void item_line(const char *run, int points, const char *kind, const char *key,
                      const char *expected, const char *tolerance, const char *name_fmt, va_list ap)
{
    printf("item\t%s\t%d\t%s\t%s\t%s\t%s\t", run, points, kind, key, expected, tolerance);
    print_name(name_fmt, ap);
    printf("\t%s\n", question);
}

void plan_mistake_scaled(const char *run, const char *key, double factor, const char *other_key, const char *text)
{
    printf("mistake\t%s\t%s\t%.17g*%s\t%s\n", run, key, factor, other_key, text);
}

void plan_mistake(const char *run, const char *key, double value, const char *text)
{
    char v[64];
    printf("mistake\t%s\t%s\t%s\t%s\n", run, key, format_double(v, sizeof v, value), text);
}

void plan_number(const char *run, int points, const char *kind, const char *key, double expected,
                 double tolerance, const char *name_fmt, ...)
{
    char e[64], t[64];
    va_list ap;
    va_start(ap, name_fmt);
    item_line(run, points, kind, key, format_double(e, sizeof e, expected),
              format_double(t, sizeof t, tolerance), name_fmt, ap);
    va_end(ap);
}

void plan_num_scaled(const char *run, int points, const char *key, double expected, double factor,
                     const char *tolerance_key, const char *name_fmt, ...)
{
    char e[64], t[160];
    snprintf(t, sizeof t, "%.17g*%s", factor, tolerance_key);
    va_list ap;
    va_start(ap, name_fmt);
    item_line(run, points, "num", key, format_double(e, sizeof e, expected), t, name_fmt, ap);
    va_end(ap);
}

void plan_band(const char *run, int points, const char *key, double low, double high,
               const char *name_fmt, ...)
{
    char lo[64], hi[64];
    va_list ap;
    va_start(ap, name_fmt);
    item_line(run, points, "band", key, format_double(lo, sizeof lo, low),
              format_double(hi, sizeof hi, high), name_fmt, ap);
    va_end(ap);
}

void plan_text(const char *run, int points, const char *key, const char *expected,
               const char *name_fmt, ...)
{
    va_list ap;
    va_start(ap, name_fmt);
    item_line(run, points, "text", key, expected, "-", name_fmt, ap);
    va_end(ap);
}

void plan_vec(const char *run, int points, const char *key, const double *values, size_t n,
              double tolerance, const char *name_fmt, ...)
{
    char list[8192], one[64], t[64];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n && used < sizeof list - 64; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? "," : "",
                                 format_double(one, sizeof one, values[i]));
    va_list ap;
    va_start(ap, name_fmt);
    item_line(run, points, "vec", key, list, format_double(t, sizeof t, tolerance), name_fmt, ap);
    va_end(ap);
}

void plan_fn(int points, const char *key, const char *name_fmt, ...)
{
    va_list ap;
    va_start(ap, name_fmt);
    item_line("harness", points, "fn", key, "-", "-", name_fmt, ap);
    va_end(ap);
}

void plan_fns(const plan_fn_row *rows, size_t n)
{
    char current[sizeof question];
    snprintf(current, sizeof current, "%s", question);
    for (size_t k = 0; k < n; k++) {
        if (rows[k].question) plan_question(rows[k].question);
        plan_fn(rows[k].points, rows[k].key, "%s", rows[k].name);
        plan_question(current);
    }
}

/* ------------------------------------------------------------ verdicts */
/* The submission's own record of a stub reached (common/error.h), when its library has one. */
__attribute__((weak)) const char *not_implemented_seen(void);
__attribute__((weak)) void not_implemented_reset(void);

static void one_line(char *out, size_t size, const char *text)
{
    snprintf(out, size, "%s", text ? text : "");
    for (char *c = out; *c; c++)
        if (*c == '\t' || *c == '\n') *c = ' ';
}

int verdict_note(const char *key, int pass, const char *expected, const char *got, const char *note)
{
    char e[512], g[512], n[512];
    one_line(e, sizeof e, expected);
    one_line(g, sizeof g, got);
    one_line(n, sizeof n, note);
    /* a stub reached since the last verdict is the cause, whatever the value */
    const char *missing = not_implemented_seen ? not_implemented_seen() : NULL;
    if (!pass && missing) one_line(n, sizeof n, missing);
    if (not_implemented_reset) not_implemented_reset();
    printf("%s\t%s\t%s\t%s\t%s\n", key, pass ? "PASS" : "FAIL", e, g, n);
    fflush(stdout);
    return pass;
}

int verdict(const char *key, int pass, const char *expected, const char *got)
{
    return verdict_note(key, pass, expected, got, NULL);
}

int verdict_close(const char *key, double expected, double got, double tolerance)
{
    char e[64], g[64];
    return verdict(key, close_enough(expected, got, tolerance),
                   format_double(e, sizeof e, expected), format_double(g, sizeof g, got));
}
