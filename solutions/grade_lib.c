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

/* item RUN POINTS KIND KEY EXPECTED TOLERANCE NAME */
static void item_line(const char *run, int points, const char *kind, const char *key,
                      const char *expected, const char *tolerance, const char *name_fmt, va_list ap)
{
    printf("item\t%s\t%d\t%s\t%s\t%s\t%s\t", run, points, kind, key, expected, tolerance);
    print_name(name_fmt, ap);
    printf("\n");
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
    for (size_t k = 0; k < n; k++) plan_fn(rows[k].points, rows[k].key, "%s", rows[k].name);
}

/* ------------------------------------------------------------ verdicts */
int verdict(const char *key, int pass, const char *expected, const char *got)
{
    char e[512], g[512];
    snprintf(e, sizeof e, "%s", expected);
    snprintf(g, sizeof g, "%s", got);
    for (char *c = e; *c; c++) if (*c == '\t' || *c == '\n') *c = ' ';
    for (char *c = g; *c; c++) if (*c == '\t' || *c == '\n') *c = ' ';
    printf("%s\t%s\t%s\t%s\n", key, pass ? "PASS" : "FAIL", e, g);
    fflush(stdout);
    return pass;
}

int verdict_close(const char *key, double expected, double got, double tolerance)
{
    char e[64], g[64];
    return verdict(key, close_enough(expected, got, tolerance),
                   format_double(e, sizeof e, expected), format_double(g, sizeof g, got));
}
