/* grade_tool.c: the grader's bookkeeping, called by grade.sh.
 *
 *   grade_tool run PLAN RUN EXIT OUTDIR     rows of one program run: the run itself, then every
 *                                           item of it compared with OUTDIR/results.tsv
 *   grade_tool harness PLAN EXIT OUTPUT     the harness's row (it linked) and its items, from its
 *                                           verdict lines
 *   grade_tool not-run PLAN RUN REASON      the rows of RUN (or "harness"), each NOT RUN because of REASON
 *   grade_tool fail PLAN RUN REASON         RUN's own row FAILs with REASON, its items are NOT RUN
 *   grade_tool report MARKDOWN HEADING ROWS...
 *                                           the tables on stdout and in MARKDOWN, and the total;
 *                                           exits 0 only when every counted item passed
 *   grade_tool items PLAN...                every item of the plans as Markdown tables (README)
 *
 * A row is one tab-separated line: STATUS POINTS NAME EXPECTED GOT, STATUS being PASS, FAIL or
 * NOT RUN. A rows file starts with "#  EXERCISE  TITLE  COUNTED  NOTE". The plan format is in
 * grade_lib.h. This file shares nothing with a submission: it reads its results.tsv itself.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64
#define MAX_LINE 65536

/* ------------------------------------------------------------ small helpers */
static void die(const char *message, const char *detail)
{
    fprintf(stderr, "grade_tool: %s%s%s\n", message, detail ? ": " : "", detail ? detail : "");
    exit(3);
}

static char *read_line(FILE *f)
{
    static char line[MAX_LINE];
    if (!fgets(line, sizeof line, f)) return NULL;
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

/* Splits line in place at tabs; returns the number of fields. */
static int split_tabs(char *line, char **fields, int max)
{
    int n = 0;
    fields[n++] = line;
    for (char *c = line; *c && n < max; c++)
        if (*c == '\t') {
            *c = '\0';
            fields[n++] = c + 1;
        }
    return n;
}

/* The whole text must be a number ("inf", "-inf" and "nan" included). */
static int parse_number(const char *text, double *value)
{
    if (!text || !*text) return 0;
    char *end;
    errno = 0;
    *value = strtod(text, &end);
    return *end == '\0';
}

static void print_row(const char *status, int points, const char *name, const char *expected,
                      const char *got)
{
    printf("%s\t%d\t%s\t%s\t%s\n", status, points, name, expected, got);
}

/* ------------------------------------------------------------ results.tsv */
typedef struct {
    int n;
    char **keys, **values;
} table;

static void table_load(table *t, const char *path)
{
    t->n = 0;
    t->keys = t->values = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return;
    int cap = 0;
    char *line;
    while ((line = read_line(f))) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = '\0';
        if (t->n == cap) {
            cap = cap ? 2 * cap : 64;
            t->keys = realloc(t->keys, (size_t)cap * sizeof *t->keys);
            t->values = realloc(t->values, (size_t)cap * sizeof *t->values);
            if (!t->keys || !t->values) die("out of memory", NULL);
        }
        t->keys[t->n] = strdup(line);
        t->values[t->n] = strdup(tab + 1);
        t->n++;
    }
    fclose(f);
}

static void table_free(table *t)
{
    for (int i = 0; i < t->n; i++) {
        free(t->keys[i]);
        free(t->values[i]);
    }
    free(t->keys);
    free(t->values);
}

static const char *table_get(const table *t, const char *key)
{
    for (int i = t->n - 1; i >= 0; i--)
        if (strcmp(t->keys[i], key) == 0) return t->values[i];
    return NULL;
}

/* ------------------------------------------------------------ the plan */
typedef struct {
    char run[64], kind[16], key[128], name[512];
    int points;
    char *expected, *tolerance;
} plan_item;

typedef struct {
    char name[64], title[512];
    int points, exit_status;
} plan_run;

/* Finds the run (or the harness) named run and calls back for its items in order. */
typedef struct {
    plan_run run;
    int found;
    int n_items;
    plan_item *items;
} plan_part;

static void plan_load(plan_part *part, const char *path, const char *run)
{
    FILE *f = fopen(path, "r");
    if (!f) die("cannot read the plan", path);
    memset(part, 0, sizeof *part);
    int cap = 0;
    char *line, *fields[MAX_FIELDS];
    while ((line = read_line(f))) {
        int n = split_tabs(line, fields, MAX_FIELDS);
        if (strcmp(fields[0], "run") == 0 && n >= 6 && strcmp(fields[1], run) == 0) {
            snprintf(part->run.name, sizeof part->run.name, "%s", fields[1]);
            part->run.points = atoi(fields[2]);
            part->run.exit_status = atoi(fields[3]);
            snprintf(part->run.title, sizeof part->run.title, "%s", fields[5]);
            part->found = 1;
        } else if (strcmp(fields[0], "harness") == 0 && n >= 4 && strcmp(run, "harness") == 0) {
            snprintf(part->run.name, sizeof part->run.name, "harness");
            part->run.points = atoi(fields[1]);
            snprintf(part->run.title, sizeof part->run.title, "%s", fields[3]);
            part->found = 1;
        } else if (strcmp(fields[0], "item") == 0 && n >= 8 && strcmp(fields[1], run) == 0) {
            if (part->n_items == cap) {
                cap = cap ? 2 * cap : 32;
                part->items = realloc(part->items, (size_t)cap * sizeof *part->items);
                if (!part->items) die("out of memory", NULL);
            }
            plan_item *it = &part->items[part->n_items++];
            snprintf(it->run, sizeof it->run, "%s", fields[1]);
            it->points = atoi(fields[2]);
            snprintf(it->kind, sizeof it->kind, "%s", fields[3]);
            snprintf(it->key, sizeof it->key, "%s", fields[4]);
            it->expected = strdup(fields[5]);
            it->tolerance = strdup(fields[6]);
            snprintf(it->name, sizeof it->name, "%s", fields[7]);
        }
    }
    fclose(f);
    if (!part->found) die("the plan has no such run", run);
}

static void plan_free(plan_part *part)
{
    for (int i = 0; i < part->n_items; i++) {
        free(part->items[i].expected);
        free(part->items[i].tolerance);
    }
    free(part->items);
}

/* ------------------------------------------------------------ comparing */
/* "0.381908500977" for display; the comparison itself uses every digit. */
static void show(char *buf, size_t size, double x)
{
    if (isnan(x)) snprintf(buf, size, "nan");
    else if (isinf(x)) snprintf(buf, size, x > 0 ? "inf" : "-inf");
    else snprintf(buf, size, "%.12g", x);
}

/* A comma list for the table, each number with 6 digits: "0,0,1,0,4,6,4,12,9", or its first
 * values and the count when long: "1,-0.3125,-2.5,… (15 values)". */
static void show_list(char *buf, size_t size, const char *list)
{
    char copy[MAX_LINE];
    snprintf(copy, sizeof copy, "%s", list);
    int count = 0, shown = 0;
    size_t used = 0;
    buf[0] = '\0';
    char *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        count++;
        if (used > 48 || used + 40 > size) continue;
        double x;
        char one[64];
        if (parse_number(p, &x)) snprintf(one, sizeof one, "%.6g", x);
        else snprintf(one, sizeof one, "%.20s", p);
        used += (size_t)snprintf(buf + used, size - used, "%s%s", shown ? "," : "", one);
        shown++;
    }
    if (shown < count) snprintf(buf + used, size - used, ",… (%d values)", count);
}

static int parse_list(const char *text, double *values, int max)
{
    char copy[MAX_LINE];
    snprintf(copy, sizeof copy, "%s", text);
    int n = 0;
    char *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (n == max || !parse_number(p, &values[n])) return -1;
        n++;
    }
    return n;
}

static int numbers_match(double expected, double got, double tolerance)
{
    if (isnan(expected) || isnan(got)) return 0;
    if (isinf(expected) || isinf(got)) return expected == got;
    return fabs(got - expected) <= tolerance;
}

static void compare_item(const plan_item *it, const table *results)
{
    char expected[640], got[640], a[64], b[64];
    const char *value = table_get(results, it->key);
    int pass = 0;

    if (strcmp(it->kind, "text") == 0) {
        snprintf(expected, sizeof expected, "%s", it->expected);
        if (!value) snprintf(got, sizeof got, "no %s in results.tsv", it->key);
        else {
            pass = strcmp(value, it->expected) == 0;
            snprintf(got, sizeof got, "%s", value);
        }
    } else if (strcmp(it->kind, "vec") == 0) {
        static double e[4096], g[4096];
        int ne = parse_list(it->expected, e, 4096);
        double tol = atof(it->tolerance);
        show_list(expected, sizeof expected, it->expected);
        if (ne < 0) die("a bad expected list in the plan", it->key);
        if (!value) snprintf(got, sizeof got, "no %s in results.tsv", it->key);
        else {
            int ng = parse_list(value, g, 4096);
            if (ng != ne) {
                char shown[512];
                show_list(shown, sizeof shown, value);
                snprintf(got, sizeof got, "%s (%d values, not %d)", shown, ng < 0 ? 0 : ng, ne);
            } else {
                int worst = -1;
                double worst_diff = 0.0;
                pass = 1;
                for (int i = 0; i < ne; i++) {
                    double d = fabs(g[i] - e[i]);
                    if (!numbers_match(e[i], g[i], tol) && (worst < 0 || !(d <= worst_diff))) {
                        worst = i;
                        worst_diff = d;
                        pass = 0;
                    }
                }
                char shown[512];
                show_list(shown, sizeof shown, value);
                if (pass) snprintf(got, sizeof got, "%s", shown);
                else {
                    show(a, sizeof a, g[worst]);
                    show(b, sizeof b, e[worst]);
                    snprintf(got, sizeof got, "%.400s (value %d is %s, not %s)", shown, worst + 1, a, b);
                }
            }
        }
    } else if (strcmp(it->kind, "num") == 0 || strcmp(it->kind, "rel") == 0 ||
               strcmp(it->kind, "band") == 0) {
        double e, t, g;
        if (!parse_number(it->expected, &e)) die("a bad expected number in the plan", it->key);
        const char *star = strchr(it->tolerance, '*');
        int have_tolerance = 1;
        char tolerance_text[200];
        if (star) {
            /* F*key: a multiple of another result, such as 5 standard errors */
            double factor = atof(it->tolerance);
            const char *other = table_get(results, star + 1);
            double scale;
            if (!other || !parse_number(other, &scale) || !isfinite(scale)) {
                have_tolerance = 0;
                t = 0.0;
            } else t = factor * scale;
            snprintf(tolerance_text, sizeof tolerance_text, "%g·%s", factor, star + 1);
        } else {
            if (!parse_number(it->tolerance, &t)) die("a bad tolerance in the plan", it->key);
            snprintf(tolerance_text, sizeof tolerance_text, "%g", t);
        }
        show(a, sizeof a, e);
        if (strcmp(it->kind, "band") == 0) {
            snprintf(expected, sizeof expected, "in [%.6g, %.6g]", e, t);   /* the ends need no more digits */
        } else if (strcmp(it->kind, "rel") == 0)
            snprintf(expected, sizeof expected, "%s ± %s relative", a, tolerance_text);
        else if (!star && t == 0.0) snprintf(expected, sizeof expected, "%s exactly", a);
        else snprintf(expected, sizeof expected, "%s ± %s", a, tolerance_text);

        if (!value) snprintf(got, sizeof got, "no %s in results.tsv", it->key);
        else if (!parse_number(value, &g)) snprintf(got, sizeof got, "'%s' is not a number", value);
        else if (!have_tolerance) snprintf(got, sizeof got, "%s (no valid %s for the tolerance)", value, star + 1);
        else {
            if (strcmp(it->kind, "band") == 0) pass = g >= e && g <= t;
            else if (strcmp(it->kind, "rel") == 0) pass = numbers_match(e, g, t * fmax(1.0, fabs(e)));
            else pass = numbers_match(e, g, t);
            show(b, sizeof b, g);
            if (pass || strcmp(it->kind, "band") == 0 || !isfinite(e) || !isfinite(g))
                snprintf(got, sizeof got, "%s", b);
            else snprintf(got, sizeof got, "%s (off by %.3g)", b, fabs(g - e));
        }
    } else {
        die("an unknown kind of item in the plan", it->kind);
    }
    print_row(pass ? "PASS" : "FAIL", it->points, it->name, expected, got);
}

/* What an exit status means, for a person. */
static void describe_exit(char *buf, size_t size, int status)
{
    if (status == 124) snprintf(buf, size, "timed out");
    else if (status == 127) snprintf(buf, size, "could not be started");
    else if (status > 128) snprintf(buf, size, "died from signal %d", status - 128);
    else snprintf(buf, size, "exit %d", status);
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f) fclose(f);
    return f != NULL;
}

static int cmd_run(const char *plan_path, const char *run, int status, const char *outdir)
{
    plan_part part;
    plan_load(&part, plan_path, run);
    char results_path[4096], expected[128], got[256], how[64];
    snprintf(results_path, sizeof results_path, "%s/results.tsv", outdir);
    int have_results = file_exists(results_path);
    describe_exit(how, sizeof how, status);

    int pass;
    if (part.run.exit_status == 0) {
        pass = status == 0 && have_results;
        snprintf(expected, sizeof expected, "exit 0, results.tsv");
        snprintf(got, sizeof got, "%s, %s", how, have_results ? "results.tsv" : "no results.tsv");
    } else {
        /* refused input: the right status, and no half-written output left behind */
        pass = status == part.run.exit_status && !have_results;
        snprintf(expected, sizeof expected, "exit %d, no results.tsv", part.run.exit_status);
        snprintf(got, sizeof got, "%s, %s", how, have_results ? "results.tsv left behind" : "no results.tsv");
    }
    print_row(pass ? "PASS" : "FAIL", part.run.points, part.run.title, expected, got);

    table results;
    table_load(&results, results_path);
    for (int i = 0; i < part.n_items; i++) {
        const plan_item *it = &part.items[i];
        if (!pass) {
            char reason[700];
            snprintf(reason, sizeof reason, "not run: \"%s\" failed", part.run.title);
            print_row("NOT RUN", it->points, it->name, "-", reason);
        } else compare_item(it, &results);
    }
    table_free(&results);
    plan_free(&part);
    return 0;
}

static int cmd_harness(const char *plan_path, int status, const char *output)
{
    plan_part part;
    plan_load(&part, plan_path, "harness");
    char how[64];
    describe_exit(how, sizeof how, status);
    print_row("PASS", part.run.points, part.run.title, "builds and links", "builds and links");
    FILE *f = fopen(output, "r");
    /* verdict lines: KEY PASS|FAIL EXPECTED GOT */
    int cap = 0, n = 0;
    char **lines = NULL;
    char *line;
    while (f && (line = read_line(f))) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            lines = realloc(lines, (size_t)cap * sizeof *lines);
            if (!lines) die("out of memory", NULL);
        }
        lines[n++] = strdup(line);
    }
    if (f) fclose(f);
    for (int i = 0; i < part.n_items; i++) {
        const plan_item *it = &part.items[i];
        const char *found = NULL;
        size_t key_len = strlen(it->key);
        for (int j = 0; j < n; j++)
            if (strncmp(lines[j], it->key, key_len) == 0 && lines[j][key_len] == '\t') found = lines[j];
        if (!found) {
            char got[128];
            if (status != 0) snprintf(got, sizeof got, "no verdict: the harness stopped (%s)", how);
            else snprintf(got, sizeof got, "no verdict from the harness");
            print_row("FAIL", it->points, it->name, "-", got);
            continue;
        }
        char copy[MAX_LINE], *fields[MAX_FIELDS];
        snprintf(copy, sizeof copy, "%s", found);
        int nf = split_tabs(copy, fields, MAX_FIELDS);
        int pass = nf >= 4 && strcmp(fields[1], "PASS") == 0;
        print_row(pass ? "PASS" : "FAIL", it->points, it->name, nf >= 3 ? fields[2] : "-",
                  nf >= 4 ? fields[3] : "-");
    }
    for (int j = 0; j < n; j++) free(lines[j]);
    free(lines);
    plan_free(&part);
    return 0;
}

/* failed: RUN's own row fails with REASON and its items are not run because of it;
 * otherwise every row is NOT RUN because of REASON (an earlier stage failed). */
static int cmd_not_run(const char *plan_path, const char *run, const char *reason, int failed)
{
    plan_part part;
    plan_load(&part, plan_path, run);
    print_row(failed ? "FAIL" : "NOT RUN", part.run.points, part.run.title, "-", reason);
    char because[700];
    if (failed) snprintf(because, sizeof because, "not run: \"%s\" failed", part.run.title);
    else snprintf(because, sizeof because, "%s", reason);
    for (int i = 0; i < part.n_items; i++)
        print_row("NOT RUN", part.items[i].points, part.items[i].name, "-", because);
    plan_free(&part);
    return 0;
}

/* ------------------------------------------------------------ the report */
/* Display width of UTF-8 text: one column per code point. */
static int text_width(const char *s)
{
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* Prints s cut to width columns (with "…") and padded to exactly width. */
static void print_cell(FILE *out, const char *s, int width)
{
    int w = text_width(s);
    if (w <= width) {
        fprintf(out, "%s%*s", s, width - w, "");
        return;
    }
    int cols = 0;
    const char *c = s;
    for (; *c; c++) {
        if (((unsigned char)*c & 0xC0) != 0x80) {
            if (cols == width - 1) break;
            cols++;
        }
        fputc(*c, out);
    }
    fputs("…", out);
}

/* Markdown cells may not hold '|'. */
static void print_md_cell(FILE *out, const char *s)
{
    fputs("| ", out);
    for (; *s; s++) {
        if (*s == '|') fputs("\\|", out);
        else fputc(*s, out);
    }
    fputc(' ', out);
}

typedef struct {
    char status[16], name[512], expected[640], got[640];
    int points;
} row;

typedef struct {
    char exercise[128], title[512], note[1024];
    int counted;
    int n;
    row *rows;
    int earned, possible, passed;
} section;

static void section_load(section *s, const char *path)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "r");
    if (!f) die("cannot read a rows file", path);
    int cap = 0;
    char *line, *fields[MAX_FIELDS];
    while ((line = read_line(f))) {
        int n = split_tabs(line, fields, MAX_FIELDS);
        if (strcmp(fields[0], "#") == 0) {
            if (n >= 2) snprintf(s->exercise, sizeof s->exercise, "%s", fields[1]);
            if (n >= 3) snprintf(s->title, sizeof s->title, "%s", fields[2]);
            s->counted = n >= 4 ? atoi(fields[3]) : 1;
            if (n >= 5) snprintf(s->note, sizeof s->note, "%s", fields[4]);
            continue;
        }
        if (n < 5) continue;
        if (s->n == cap) {
            cap = cap ? 2 * cap : 32;
            s->rows = realloc(s->rows, (size_t)cap * sizeof *s->rows);
            if (!s->rows) die("out of memory", NULL);
        }
        row *r = &s->rows[s->n++];
        snprintf(r->status, sizeof r->status, "%s", fields[0]);
        r->points = atoi(fields[1]);
        snprintf(r->name, sizeof r->name, "%s", fields[2]);
        snprintf(r->expected, sizeof r->expected, "%s", fields[3]);
        snprintf(r->got, sizeof r->got, "%s", fields[4]);
        s->possible += r->points;
        if (strcmp(r->status, "PASS") == 0) {
            s->earned += r->points;
            s->passed++;
        }
    }
    fclose(f);
}

static void points_text(char *buf, size_t size, const section *s, const row *r)
{
    if (!s->counted) snprintf(buf, size, "–");
    else snprintf(buf, size, "%d/%d", strcmp(r->status, "PASS") == 0 ? r->points : 0, r->points);
}

static void print_terminal(const section *s)
{
    int wn = 4, we = 8, wg = 3;
    for (int i = 0; i < s->n; i++) {
        if (text_width(s->rows[i].name) > wn) wn = text_width(s->rows[i].name);
        if (text_width(s->rows[i].expected) > we) we = text_width(s->rows[i].expected);
        if (text_width(s->rows[i].got) > wg) wg = text_width(s->rows[i].got);
    }
    if (wn > 80) wn = 80;
    if (we > 26) we = 26;
    if (wg > 24) wg = 24;

    if (s->counted) printf("\n%s: %s  (%d/%d points)\n", s->exercise, s->title, s->earned, s->possible);
    else printf("\n%s: %s  (not counted)\n", s->exercise, s->title);
    if (s->note[0]) printf("  %s\n", s->note);
    printf("  ");
    print_cell(stdout, "item", wn);
    printf("  ");
    print_cell(stdout, "expected", we);
    printf("  ");
    print_cell(stdout, "got", wg);
    printf("  %-7s  %s\n", "result", "points");
    for (int i = 0; i < s->n; i++) {
        const row *r = &s->rows[i];
        char pts[32];
        points_text(pts, sizeof pts, s, r);
        printf("  ");
        print_cell(stdout, r->name, wn);
        printf("  ");
        print_cell(stdout, r->expected, we);
        printf("  ");
        print_cell(stdout, r->got, wg);
        printf("  %-7s  %s\n", r->status, pts);
        /* a failure's whole story, when the columns cut it */
        if (strcmp(r->status, "FAIL") == 0 && s->counted &&
            (text_width(r->got) > wg || text_width(r->expected) > we || text_width(r->name) > wn))
            printf("      %s: expected %s, got %s\n", r->name, r->expected, r->got);
    }
}

static void print_markdown(FILE *out, const section *s)
{
    if (s->counted) fprintf(out, "\n## %s: %d/%d points\n\n%s\n\n", s->exercise, s->earned, s->possible, s->title);
    else fprintf(out, "\n## %s: not counted\n\n%s\n\n", s->exercise, s->title);
    if (s->note[0]) fprintf(out, "%s\n\n", s->note);
    fprintf(out, "| item | expected | got | result | points |\n| --- | --- | --- | --- | --- |\n");
    for (int i = 0; i < s->n; i++) {
        const row *r = &s->rows[i];
        char pts[32];
        points_text(pts, sizeof pts, s, r);
        print_md_cell(out, r->name);
        print_md_cell(out, r->expected);
        print_md_cell(out, r->got);
        print_md_cell(out, r->status);
        print_md_cell(out, pts);
        fprintf(out, "|\n");
    }
}

static int cmd_report(const char *markdown, int n_files, char **files, const char *heading)
{
    section *sections = calloc((size_t)n_files, sizeof *sections);
    if (!sections) die("out of memory", NULL);
    int earned = 0, possible = 0, failed_items = 0, passed_items = 0;
    for (int i = 0; i < n_files; i++) {
        section_load(&sections[i], files[i]);
        if (!sections[i].counted) continue;
        earned += sections[i].earned;
        possible += sections[i].possible;
        passed_items += sections[i].passed;
        failed_items += sections[i].n - sections[i].passed;
    }

    for (int i = 0; i < n_files; i++) print_terminal(&sections[i]);
    printf("\nTotal: %d/%d points; %d items passed, %d failed or not run.%s\n", earned, possible,
           passed_items, failed_items, failed_items == 0 ? " Everything passes." : "");

    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", markdown);
    FILE *out = fopen(tmp, "w");
    if (!out) die("cannot write the report", tmp);
    fprintf(out, "# Grade report\n\n%s\n\n**Total: %d/%d points**; %d items passed, %d failed or not run.\n",
            heading, earned, possible, passed_items, failed_items);
    for (int i = 0; i < n_files; i++) print_markdown(out, &sections[i]);
    if (fclose(out) != 0 || rename(tmp, markdown) != 0) {
        remove(tmp);
        die("cannot write the report", markdown);
    }
    printf("Report: %s\n", markdown);
    for (int i = 0; i < n_files; i++) free(sections[i].rows);
    free(sections);
    return failed_items == 0 ? 0 : 1;
}

/* The items of plans as Markdown tables: what each is worth and how it is judged. */
/* One row of the items' table, each cell through print_md_cell (an item named "(2·20 | 20)"). */
static void table_row(const char *const cells[], int n)
{
    for (int i = 0; i < n; i++) print_md_cell(stdout, cells[i]);
    puts("|");
}

static int cmd_items(int n_files, char **files)
{
    for (int f = 0; f < n_files; f++) {
        FILE *in = fopen(files[f], "r");
        if (!in) die("cannot read the plan", files[f]);
        char *line, *fields[MAX_FIELDS], exercise[128] = "";
        int total = 0;
        while ((line = read_line(in))) {
            int n = split_tabs(line, fields, MAX_FIELDS);
            char judged[700];
            if (strcmp(fields[0], "exercise") == 0 && n >= 3) {
                printf("\n### %s: %s\n\n| item | points | expected | tolerance |\n| --- | ---: | --- | --- |\n",
                       fields[1], fields[2]);
                snprintf(exercise, sizeof exercise, "%s", fields[1]);
                continue;
            }
            if (strcmp(fields[0], "requires") == 0) {
                printf("| the exercise's files are there | 1 |");
                for (int i = 1; i < n; i++) printf(" %s", fields[i]);
                printf(" | exact |\n| builds with its own Makefile (make -C %s) | 1 | bin/%s | exact |\n",
                       exercise, exercise);
                total += 2;
                continue;
            }
            if (strcmp(fields[0], "optional") == 0) {
                printf("| (counted only when the exercise's files exist, or with REQUIRE_ALL=1) | | | |\n");
                continue;
            }
            if (strcmp(fields[0], "run") == 0 && n >= 6) {
                total += atoi(fields[2]);
                snprintf(judged, sizeof judged, "exit %s%s", fields[3],
                         atoi(fields[3]) == 0 ? ", results.tsv written" : ", no results.tsv left");
                table_row((const char *[]){ fields[5], fields[2], judged, "exact" }, 4);
                continue;
            }
            if (strcmp(fields[0], "harness") == 0 && n >= 4) {
                total += atoi(fields[1]);
                table_row((const char *[]){ fields[3], fields[1], "compiles and links", "exact" }, 4);
                continue;
            }
            if (strcmp(fields[0], "item") != 0 || n < 8) continue;
            total += atoi(fields[2]);
            const char *kind = fields[3];
            char expected[300], tolerance[300];
            double a, b;
            if (strcmp(kind, "fn") == 0) {
                snprintf(expected, sizeof expected, "computed by the reference in the harness");
                snprintf(tolerance, sizeof tolerance, "as in the item");
            } else if (strcmp(kind, "band") == 0 && parse_number(fields[5], &a) && parse_number(fields[6], &b)) {
                snprintf(expected, sizeof expected, "%s in [%.6g, %.6g]", fields[4], a, b);
                snprintf(tolerance, sizeof tolerance, "the band");
            } else if (strcmp(kind, "vec") == 0) {
                char shown[200];
                show_list(shown, sizeof shown, fields[5]);
                snprintf(expected, sizeof expected, "%s = %s", fields[4], shown);
                snprintf(tolerance, sizeof tolerance, "%g each", atof(fields[6]));
            } else if (strcmp(kind, "text") == 0) {
                snprintf(expected, sizeof expected, "%s = %s", fields[4], fields[5]);
                snprintf(tolerance, sizeof tolerance, "exact");
            } else {
                char shown[64];
                if (parse_number(fields[5], &a)) show(shown, sizeof shown, a);
                else snprintf(shown, sizeof shown, "%.60s", fields[5]);
                snprintf(expected, sizeof expected, "%s = %s", fields[4], shown);
                const char *star = strchr(fields[6], '*');
                if (star) snprintf(tolerance, sizeof tolerance, "%g × %s", atof(fields[6]), star + 1);
                else if (parse_number(fields[6], &b) && b == 0) snprintf(tolerance, sizeof tolerance, "exact");
                else snprintf(tolerance, sizeof tolerance, "%.3g%s", atof(fields[6]),
                              strcmp(kind, "rel") == 0 ? " relative" : "");
            }
            table_row((const char *[]){ fields[7], fields[2], expected, tolerance }, 4);
        }
        fclose(in);
        printf("\nTotal: %d points.\n", total);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "run") == 0) return cmd_run(argv[2], argv[3], atoi(argv[4]), argv[5]);
    if (argc == 5 && strcmp(argv[1], "harness") == 0) return cmd_harness(argv[2], atoi(argv[3]), argv[4]);
    if (argc == 5 && strcmp(argv[1], "not-run") == 0) return cmd_not_run(argv[2], argv[3], argv[4], 0);
    if (argc == 5 && strcmp(argv[1], "fail") == 0) return cmd_not_run(argv[2], argv[3], argv[4], 1);
    if (argc >= 3 && strcmp(argv[1], "items") == 0) return cmd_items(argc - 2, argv + 2);
    if (argc >= 5 && strcmp(argv[1], "report") == 0) return cmd_report(argv[2], argc - 4, argv + 4, argv[3]);
    fprintf(stderr,
            "usage: grade_tool run PLAN RUN EXIT OUTDIR\n"
            "       grade_tool harness PLAN EXIT OUTPUT\n"
            "       grade_tool not-run PLAN RUN REASON\n"
            "       grade_tool fail PLAN RUN REASON\n"
            "       grade_tool report MARKDOWN HEADING ROWS...\n"
            "       grade_tool items PLAN...\n");
    return 3;
}
