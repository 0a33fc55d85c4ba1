/* grade_tool.c: the grader's bookkeeping, called by grade.sh.
 *
 *   grade_tool run PLAN RUN EXIT OUTDIR CAUSE
 *                                           rows of one program run: the run itself, then every
 *                                           item of it compared with OUTDIR/results.tsv, whatever
 *                                           the exit status (CAUSE: why the run ended badly, or "")
 *   grade_tool harness PLAN EXIT OUTPUT CAUSE
 *                                           the harness's row (it linked) and its items, from its
 *                                           verdict lines
 *   grade_tool not-run PLAN RUN REASON      the rows of RUN (or "harness"), each NOT RUN because of REASON
 *   grade_tool fail PLAN RUN REASON         RUN's own row FAILs with REASON, its items are NOT RUN
 *   grade_tool report MARKDOWN SUMMARY HEADING QUESTIONS ROOT SUB ROWS...
 *                                           the tables on stdout and in MARKDOWN (a summary first,
 *                                           then every item, then the prose questions of QUESTIONS
 *                                           with SUB's answers beside ROOT's), the points per part in
 *                                           SUMMARY (TSV); exits 0 only when every counted item passed
 *   grade_tool items PLAN...                every item of the plans as Markdown tables (README)
 *   grade_tool questions PLAN...            every question the items grade, with its points
 *
 * A row is one tab-separated line: STATUS POINTS NAME EXPECTED GOT QUESTION NOTE, STATUS being
 * PASS, FAIL or NOT RUN, QUESTION the solution region the item grades ("-": none), NOTE the cause
 * of a failure or the known mistake a wrong value matches. A rows file starts with "#  EXERCISE  TITLE  COUNTED  NOTE". The plan format is in
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
                      const char *got, const char *question, const char *note)
{
    char clean[1024];
    snprintf(clean, sizeof clean, "%s", note ? note : "");
    for (char *c = clean; *c; c++)
        if (*c == '\t' || *c == '\n' || *c == '\r') *c = ' ';
    printf("%s\t%d\t%s\t%s\t%s\t%s\t%s\n", status, points, name, expected, got, question && *question ? question : "-",
           clean);
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
    char run[64], kind[16], key[128], name[512], question[128];
    int points;
    char *expected, *tolerance;
} plan_item;

typedef struct {
    char key[128], text[512], value[200];   /* value: a number, or "F*key" */
} plan_mistake;

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
    int n_mistakes;
    plan_mistake mistakes[64];
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
            snprintf(it->question, sizeof it->question, "%s", n >= 9 ? fields[8] : "-");
        } else if (strcmp(fields[0], "mistake") == 0 && n >= 5 && strcmp(fields[1], run) == 0 && part->n_mistakes < 64) {
            plan_mistake *m = &part->mistakes[part->n_mistakes++];
            snprintf(m->key, sizeof m->key, "%s", fields[2]);
            snprintf(m->value, sizeof m->value, "%s", fields[3]);
            snprintf(m->text, sizeof m->text, "%s", fields[4]);
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

/* A number of the plan: "x", or "F*key", F times the value of key in results (0 when unknown). */
static int plan_number(const char *text, const table *results, double *value)
{
    const char *star = strchr(text, '*');
    if (!star) return parse_number(text, value);
    double other;
    const char *v = table_get(results, star + 1);
    if (!v || !parse_number(v, &other)) return 0;
    *value = atof(text) * other;
    return 1;
}

/* The known mistake of part that item it's wrong value matches (to the item's tolerance, at least
 * 1e-6 relative), or NULL. */
static const char *matching_mistake(const plan_part *part, const plan_item *it, const char *value, const table *results)
{
    double g, t = 0.0;
    if (!value || !parse_number(value, &g)) return NULL;
    if (strcmp(it->kind, "band") != 0 && !plan_number(it->tolerance, results, &t)) t = 0.0;
    for (int i = 0; i < part->n_mistakes; i++) {
        const plan_mistake *m = &part->mistakes[i];
        double wrong;
        if (strcmp(m->key, it->key) != 0 || !plan_number(m->value, results, &wrong)) continue;
        double scale = strcmp(it->kind, "rel") == 0 ? fmax(1.0, fabs(wrong)) : 1.0;
        double tolerance = fmax(t * scale, 1e-6 * fmax(1e-300, fabs(wrong)));
        if (numbers_match(wrong, g, tolerance)) return m->text;
    }
    return NULL;
}

/* One item against results: PASS or FAIL, or NOT RUN when the run did not write its key (the cause
 * then is `missing`, why the run left keys out, or that the key is absent). */
static void compare_item(const plan_part *part, const plan_item *it, const table *results, const char *missing)
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
    if (!value) {
        char note[700];
        if (missing && *missing) snprintf(note, sizeof note, "%s", missing);
        else snprintf(note, sizeof note, "the run wrote no %s", it->key);
        print_row("NOT RUN", it->points, it->name, expected, "-", it->question, note);
        return;
    }
    const char *mistake = pass ? NULL : matching_mistake(part, it, value, results);
    char note[600] = "";
    if (mistake) snprintf(note, sizeof note, "looks like %s", mistake);
    print_row(pass ? "PASS" : "FAIL", it->points, it->name, expected, got, it->question, note);
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

/* Why the keys of a run are missing: the parts it skipped or that failed (skipped_* and failed_*
 * in its results.tsv), or how it ended. */
/* 1 when the part named by a skipped_/failed_ key shares a word of four or more letters with the
 * item's key: kind_denoising_clean_mse and skipped_part_a_the_denoising_kind. */
static int part_matches(const char *part_key, const char *item_key)
{
    char word[64];
    for (const char *p = item_key; *p;) {
        size_t n = strcspn(p, "_");
        if (n >= 4 && n < sizeof word) {
            snprintf(word, sizeof word, "_%.*s", (int)n, p);
            const char *at = strstr(part_key, word);
            if (at && (at[n + 1] == '_' || at[n + 1] == '\0')) return 1;
        }
        p += n;
        if (*p) p++;
    }
    return 0;
}

/* Why an item's key is missing: the parts of the run that were skipped or failed (skipped_* and
 * failed_* in its results.tsv), only those that name a word of the key when some do (a run with
 * a part per model or per kind), or else how the run ended. */
static void missing_cause(char *out, size_t size, const table *results, const char *key, const char *how,
                          const char *cause)
{
    int some_match = 0;
    for (int i = 0; i < results->n && key; i++) {
        const char *k = results->keys[i];
        if ((strncmp(k, "skipped_", 8) == 0 || strncmp(k, "failed_", 7) == 0) && part_matches(k, key)) some_match = 1;
    }
    out[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < results->n && used + 80 < size; i++) {
        const char *k = results->keys[i];
        int skipped = strncmp(k, "skipped_", 8) == 0, failed = strncmp(k, "failed_", 7) == 0;
        if (!skipped && !failed) continue;
        if (some_match && !part_matches(k, key)) continue;
        used += (size_t)snprintf(out + used, size - used, "%s%s %s: %s", used ? "; " : "",
                                 k + (skipped ? 8 : 7), skipped ? "skipped" : "failed", results->values[i]);
    }
    if (used == 0) snprintf(out, size, "the run %s%s%s", how, cause && *cause ? ": " : "", cause ? cause : "");
    if (strlen(out) >= size - 1) snprintf(out + size - 4, 4, "…");
}

static int cmd_run(const char *plan_path, const char *run, int status, const char *outdir, const char *cause)
{
    plan_part part;
    plan_load(&part, plan_path, run);
    char results_path[4096], expected[128], got[256], how[64];
    snprintf(results_path, sizeof results_path, "%s/results.tsv", outdir);
    int have_results = file_exists(results_path);
    describe_exit(how, sizeof how, status);

    int pass;
    char note[800] = "";
    if (part.run.exit_status == 0) {
        pass = status == 0 && have_results;
        snprintf(expected, sizeof expected, "exit 0, results.tsv");
        snprintf(got, sizeof got, "%s, %s", how, have_results ? "results.tsv" : "no results.tsv");
        if (!pass) snprintf(note, sizeof note, "%s", cause && *cause ? cause : how);
    } else {
        /* refused input: the right status, and no half-written output left behind */
        pass = status == part.run.exit_status && !have_results;
        snprintf(expected, sizeof expected, "exit %d, no results.tsv", part.run.exit_status);
        snprintf(got, sizeof got, "%s, %s", how, have_results ? "results.tsv left behind" : "no results.tsv");
        if (!pass && cause && *cause) snprintf(note, sizeof note, "%s", cause);
    }
    print_row(pass ? "PASS" : "FAIL", part.run.points, part.run.title, expected, got, "-", note);

    /* every value the run wrote is graded, also when it then ended badly */
    table results;
    table_load(&results, results_path);
    char missing[900];
    for (int i = 0; i < part.n_items; i++) {
        missing_cause(missing, sizeof missing, &results, part.items[i].key, how, cause);
        compare_item(&part, &part.items[i], &results, missing);
    }
    table_free(&results);
    plan_free(&part);
    return 0;
}

static int cmd_harness(const char *plan_path, int status, const char *output, const char *cause)
{
    plan_part part;
    plan_load(&part, plan_path, "harness");
    char how[64];
    describe_exit(how, sizeof how, status);
    print_row("PASS", part.run.points, part.run.title, "builds and links", "builds and links", "-", "");
    FILE *f = fopen(output, "r");
    /* verdict lines: KEY PASS|FAIL EXPECTED GOT [NOTE] */
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
            char note[700];
            if (status != 0) snprintf(note, sizeof note, "no verdict: the harness stopped (%s)%s%s", how,
                                      cause && *cause ? ": " : "", cause ? cause : "");
            else snprintf(note, sizeof note, "no verdict from the harness");
            print_row("FAIL", it->points, it->name, "-", "-", it->question, note);
            continue;
        }
        char copy[MAX_LINE], *fields[MAX_FIELDS];
        snprintf(copy, sizeof copy, "%s", found);
        int nf = split_tabs(copy, fields, MAX_FIELDS);
        int pass = nf >= 4 && strcmp(fields[1], "PASS") == 0;
        char note[600] = "";
        if (!pass && nf >= 5 && fields[4][0])
            snprintf(note, sizeof note, "%s%s", strncmp(fields[4], "not implemented", 15) == 0 ? "" : "looks like ",
                     fields[4]);
        print_row(pass ? "PASS" : "FAIL", it->points, it->name, nf >= 3 ? fields[2] : "-", nf >= 4 ? fields[3] : "-",
                  it->question, note);
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
    print_row(failed ? "FAIL" : "NOT RUN", part.run.points, part.run.title, "-", "-", "-", reason);
    char because[700];
    if (failed) snprintf(because, sizeof because, "not run: \"%s\" failed: %s", part.run.title, reason);
    else snprintf(because, sizeof because, "%s", reason);
    for (int i = 0; i < part.n_items; i++)
        print_row("NOT RUN", part.items[i].points, part.items[i].name, "-", "-", part.items[i].question, because);
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
    char status[16], name[512], expected[640], got[640], question[128], note[1024];
    int points;
    int earned;          /* the points it keeps: all when it passed, or when its question was charged already */
    int charged_with;    /* -1, or the row its question's mistake was charged on */
} row;

typedef struct {
    char exercise[128], title[512], note[1024];
    int counted;
    int n;
    row *rows;
    int earned, possible, passed;
} section;

/* A wrong value, not missing work: charged once per question. */
static int is_mistake(const row *r)
{
    return strcmp(r->status, "FAIL") == 0 && strcmp(r->question, "-") != 0 &&
           strncmp(r->note, "not implemented", 15) != 0;
}

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
        memset(r, 0, sizeof *r);
        snprintf(r->status, sizeof r->status, "%s", fields[0]);
        r->points = atoi(fields[1]);
        snprintf(r->name, sizeof r->name, "%s", fields[2]);
        snprintf(r->expected, sizeof r->expected, "%s", fields[3]);
        snprintf(r->got, sizeof r->got, "%s", fields[4]);
        snprintf(r->question, sizeof r->question, "%s", n >= 6 && fields[5][0] ? fields[5] : "-");
        snprintf(r->note, sizeof r->note, "%s", n >= 7 ? fields[6] : "");
        r->charged_with = -1;
        r->earned = strcmp(r->status, "PASS") == 0 ? r->points : 0;
    }
    fclose(f);
    /* one mistake is charged once per question: on its most valuable wrong item; the question's
     * other wrong items keep their points and say where it was charged */
    for (int i = 0; i < s->n; i++) {
        if (!is_mistake(&s->rows[i])) continue;
        int first = -1;
        for (int j = 0; j < s->n; j++)
            if (is_mistake(&s->rows[j]) && strcmp(s->rows[j].question, s->rows[i].question) == 0 &&
                (first < 0 || s->rows[j].points > s->rows[first].points))
                first = j;
        if (first != i) {
            s->rows[i].charged_with = first;
            s->rows[i].earned = s->rows[i].points;
        }
    }
    for (int i = 0; i < s->n; i++) {
        s->possible += s->rows[i].points;
        s->earned += s->rows[i].earned;
        if (strcmp(s->rows[i].status, "PASS") == 0) s->passed++;
    }
}

static void points_text(char *buf, size_t size, const section *s, const row *r)
{
    if (!s->counted) snprintf(buf, size, "–");
    else snprintf(buf, size, "%d/%d", r->earned, r->points);
}

/* The note of a row for a person: its cause or hint, and where a repeated mistake was charged. */
static void note_text(char *buf, size_t size, const section *s, const row *r)
{
    if (r->charged_with >= 0)
        snprintf(buf, size, "%s%scharged once for %s, with \"%s\"", r->note, r->note[0] ? "; " : "", r->question,
                 s->rows[r->charged_with].name);
    else snprintf(buf, size, "%s", r->note);
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
        char pts[32], note[1800];
        points_text(pts, sizeof pts, s, r);
        note_text(note, sizeof note, s, r);
        printf("  ");
        print_cell(stdout, r->name, wn);
        printf("  ");
        print_cell(stdout, r->expected, we);
        printf("  ");
        print_cell(stdout, r->got, wg);
        printf("  %-7s  %s\n", r->status, pts);
        /* a failure's whole story, when the columns cut it, and its cause */
        if (strcmp(r->status, "PASS") != 0 && s->counted &&
            (text_width(r->got) > wg || text_width(r->expected) > we || text_width(r->name) > wn))
            printf("      %s: expected %s, got %s\n", r->name, r->expected, r->got);
        if (strcmp(r->status, "PASS") != 0 && s->counted && note[0]) printf("      why: %s\n", note);
    }
}

static void print_markdown(FILE *out, const section *s)
{
    if (s->counted) fprintf(out, "\n## %s: %d/%d points\n\n%s\n\n", s->exercise, s->earned, s->possible, s->title);
    else fprintf(out, "\n## %s: not counted\n\n%s\n\n", s->exercise, s->title);
    if (s->note[0]) fprintf(out, "%s\n\n", s->note);
    fprintf(out, "| item | expected | got | result | points | question | why |\n"
                 "| --- | --- | --- | --- | --- | --- | --- |\n");
    for (int i = 0; i < s->n; i++) {
        const row *r = &s->rows[i];
        char pts[32], note[1800];
        points_text(pts, sizeof pts, s, r);
        note_text(note, sizeof note, s, r);
        print_md_cell(out, r->name);
        print_md_cell(out, r->expected);
        print_md_cell(out, r->got);
        print_md_cell(out, r->status);
        print_md_cell(out, pts);
        print_md_cell(out, strcmp(r->question, "-") == 0 ? "" : r->question);
        print_md_cell(out, strcmp(r->status, "PASS") == 0 ? "" : note);
        fprintf(out, "|\n");
    }
}

/* ------------------------------------------------------------ the questions graded by hand */
typedef struct {
    char label[128], readme[512], rubric[1024];
    int points;
    int given;          /* -1: not graded yet */
    char comment[512];
} manual_question;

/* The text of every Markdown region `label` of path, joined ("" when none); the student edition's
 * place-holder line is left out. The result is malloc'd. */
static char *region_text(const char *path, const char *label)
{
    char begin[256];
    snprintf(begin, sizeof begin, "<!-- BEGIN SOLUTION: %s -->", label);
    size_t cap = 4096, used = 0;
    char *text = calloc(cap, 1);
    FILE *f = fopen(path, "r");
    if (!text) die("out of memory", NULL);
    if (!f) return text;
    int inside = 0;
    char *line;
    while ((line = read_line(f))) {
        if (!inside) {
            inside = strcmp(line, begin) == 0;
            continue;
        }
        if (strcmp(line, "<!-- END SOLUTION -->") == 0) {
            inside = 0;
            continue;
        }
        if (strncmp(line, "*Your answer", 12) == 0) continue;
        size_t n = strlen(line);
        if (used + n + 2 >= cap) {
            while (used + n + 2 >= cap) cap *= 2;
            text = realloc(text, cap);
            if (!text) die("out of memory", NULL);
        }
        memcpy(text + used, line, n);
        used += n;
        text[used++] = '\n';
        text[used] = '\0';
    }
    fclose(f);
    return text;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\n' && *s != '\t') return 0;
    return 1;
}

/* Quoted for Markdown: every line behind "> ". */
static void print_quoted(FILE *out, const char *text)
{
    if (blank(text)) {
        fprintf(out, "> *(no answer)*\n");
        return;
    }
    const char *c = text;
    while (*c) {
        const char *nl = strchr(c, '\n');
        size_t n = nl ? (size_t)(nl - c) : strlen(c);
        fprintf(out, "> %.*s\n", (int)n, c);
        c += n + (nl ? 1 : 0);
    }
}

/* The questions of QUESTIONS (label, points, README, rubric) that the plans of the graded
 * exercises name, with the points a TA gave in SUB/manual-grades.tsv (label, points, comment). */
static int manual_load(manual_question *q, int max, const char *questions, const char *sub, char **exercises, int n_ex)
{
    FILE *f = fopen(questions, "r");
    if (!f) return 0;
    int n = 0;
    char *line, *fields[MAX_FIELDS];
    while ((line = read_line(f)) && n < max) {
        if (line[0] == '#' || !line[0]) continue;
        int nf = split_tabs(line, fields, MAX_FIELDS);
        if (nf < 4) continue;
        int wanted = 0;
        for (int e = 0; e < n_ex; e++)
            if (strncmp(fields[2], exercises[e], strlen(exercises[e])) == 0 && fields[2][strlen(exercises[e])] == '/')
                wanted = 1;
        if (!wanted) continue;
        manual_question *m = &q[n++];
        memset(m, 0, sizeof *m);
        snprintf(m->label, sizeof m->label, "%s", fields[0]);
        m->points = atoi(fields[1]);
        snprintf(m->readme, sizeof m->readme, "%s", fields[2]);
        snprintf(m->rubric, sizeof m->rubric, "%s", fields[3]);
        m->given = -1;
    }
    fclose(f);
    char path[4200];
    snprintf(path, sizeof path, "%s/manual-grades.tsv", sub);
    f = fopen(path, "r");
    if (!f) return n;
    while ((line = read_line(f))) {
        if (line[0] == '#' || !line[0]) continue;
        int nf = split_tabs(line, fields, MAX_FIELDS);
        for (int i = 0; i < n && nf >= 2; i++)
            if (strcmp(q[i].label, fields[0]) == 0) {
                double points;
                if (!parse_number(fields[1], &points) || points < 0 || points > q[i].points) {
                    fprintf(stderr, "grade_tool: manual-grades.tsv gives %s \"%s\" points; it takes 0 to %d: ignored\n",
                            q[i].label, fields[1], q[i].points);
                    continue;
                }
                q[i].given = (int)lround(points);
                snprintf(q[i].comment, sizeof q[i].comment, "%s", nf >= 3 ? fields[2] : "");
            }
    }
    fclose(f);
    return n;
}

static void print_manual(FILE *out, const manual_question *q, int n, const char *root, const char *sub)
{
    if (n == 0) return;
    fprintf(out, "\n## Questions graded by hand\n\n"
                 "The sheet's prose questions. A teaching assistant reads each answer beside the reference and the\n"
                 "rubric, and writes the points into `manual-grades.tsv` at the top of the submission, one line\n"
                 "each: the question, a tab, the points, a tab, a comment (see solutions/README.md).\n");
    for (int i = 0; i < n; i++) {
        char student_path[4200], reference_path[4200];
        snprintf(student_path, sizeof student_path, "%s/%s", sub, q[i].readme);
        snprintf(reference_path, sizeof reference_path, "%s/%s", root, q[i].readme);
        char *answer = region_text(student_path, q[i].label), *reference = region_text(reference_path, q[i].label);
        if (q[i].given >= 0)
            fprintf(out, "\n### %s: %d/%d points\n\n", q[i].label, q[i].given, q[i].points);
        else fprintf(out, "\n### %s: to be graded by hand (%d points)\n\n", q[i].label, q[i].points);
        if (q[i].comment[0]) fprintf(out, "Comment: %s\n\n", q[i].comment);
        fprintf(out, "Rubric: %s\n\nThe answer (`%s`):\n\n", q[i].rubric, q[i].readme);
        print_quoted(out, answer);
        fprintf(out, "\n<details><summary>The reference answer</summary>\n\n");
        print_quoted(out, reference);
        fprintf(out, "\n</details>\n");
        free(answer);
        free(reference);
    }
}

/* report MARKDOWN SUMMARY HEADING QUESTIONS ROOT SUB ROWS... */
static int cmd_report(const char *markdown, const char *summary_path, const char *heading, const char *questions,
                      const char *root, const char *sub, int n_files, char **files)
{
    section *sections = calloc((size_t)n_files, sizeof *sections);
    char **names = calloc((size_t)n_files + 1, sizeof *names);
    if (!sections || !names) die("out of memory", NULL);
    int earned = 0, possible = 0, failed_items = 0, passed_items = 0;
    for (int i = 0; i < n_files; i++) {
        section_load(&sections[i], files[i]);
        names[i] = sections[i].exercise;
        if (!sections[i].counted) continue;
        earned += sections[i].earned;
        possible += sections[i].possible;
        passed_items += sections[i].passed;
        failed_items += sections[i].n - sections[i].passed;
    }
    static manual_question manual[64];
    int n_manual = manual_load(manual, 64, questions, sub, names, n_files);
    /* a question not graded yet counts in neither the points nor the total: it is pending */
    int manual_earned = 0, manual_possible = 0, manual_pending = 0, pending_points = 0;
    for (int i = 0; i < n_manual; i++) {
        if (manual[i].given >= 0) {
            manual_earned += manual[i].given;
            manual_possible += manual[i].points;
        } else {
            manual_pending++;
            pending_points += manual[i].points;
        }
    }

    for (int i = 0; i < n_files; i++) print_terminal(&sections[i]);
    printf("\nTotal: %d/%d points; %d items passed, %d failed or not run.%s\n", earned, possible,
           passed_items, failed_items, failed_items == 0 ? " Everything passes." : "");
    if (n_manual)
        printf("By hand: %d/%d points graded, %d question%s (%d points) still to be graded; they are in the report.\n",
               manual_earned, manual_possible, manual_pending, manual_pending == 1 ? "" : "s", pending_points);

    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", markdown);
    FILE *out = fopen(tmp, "w");
    if (!out) die("cannot write the report", tmp);
    fprintf(out, "# Grade report\n\n%s\n\n## Summary\n\n| exercise | points | items lost |\n| --- | ---: | ---: |\n",
            heading);
    for (int i = 0; i < n_files; i++) {
        const section *s = &sections[i];
        int lost = 0;
        for (int k = 0; k < s->n; k++) lost += s->rows[k].earned < s->rows[k].points;
        if (s->counted) fprintf(out, "| %s | %d/%d | %d |\n", s->exercise, s->earned, s->possible, lost);
        else fprintf(out, "| %s | not counted | |\n", s->exercise);
    }
    if (n_manual)
        fprintf(out, "| questions graded by hand | %d/%d | |\n", manual_earned, manual_possible);
    if (manual_pending)
        fprintf(out, "| still to be graded by hand | %d question%s, %d points | |\n", manual_pending,
                manual_pending == 1 ? "" : "s", pending_points);
    fprintf(out, "| **total** | **%d/%d** | |\n", earned + manual_earned, possible + manual_possible);
    int any_lost = 0;
    for (int i = 0; i < n_files; i++) {
        const section *s = &sections[i];
        if (!s->counted) continue;
        for (int k = 0; k < s->n; k++) {
            const row *r = &s->rows[k];
            if (r->earned == r->points) continue;
            if (!any_lost) fprintf(out, "\n### Where points were lost\n\n| exercise | item | points | why |\n| --- | --- | ---: | --- |\n");
            any_lost = 1;
            char pts[32], note[1800];
            snprintf(pts, sizeof pts, "%d", r->points - r->earned);
            note_text(note, sizeof note, s, r);
            if (!note[0]) snprintf(note, sizeof note, "expected %s, got %s", r->expected, r->got);
            print_md_cell(out, s->exercise);
            print_md_cell(out, r->name);
            print_md_cell(out, pts);
            print_md_cell(out, note);
            fprintf(out, "|\n");
        }
    }
    fprintf(out, "\n**Total: %d/%d points** (%d/%d from the items below, %d/%d by hand); %d items passed, %d failed or not run.\n",
            earned + manual_earned, possible + manual_possible, earned, possible, manual_earned, manual_possible,
            passed_items, failed_items);
    for (int i = 0; i < n_files; i++) print_markdown(out, &sections[i]);
    print_manual(out, manual, n_manual, root, sub);
    if (fclose(out) != 0 || rename(tmp, markdown) != 0) {
        remove(tmp);
        die("cannot write the report", markdown);
    }
    /* the machine-readable summary, for grading a class */
    snprintf(tmp, sizeof tmp, "%s.tmp", summary_path);
    out = fopen(tmp, "w");
    if (!out) die("cannot write the summary", tmp);
    fprintf(out, "part\tearned\tpossible\n");
    for (int i = 0; i < n_files; i++)
        if (sections[i].counted) fprintf(out, "%s\t%d\t%d\n", sections[i].exercise, sections[i].earned, sections[i].possible);
    if (n_manual) fprintf(out, "by hand\t%d\t%d\n", manual_earned, manual_possible);
    if (manual_pending) fprintf(out, "pending\t0\t%d\n", pending_points);
    fprintf(out, "total\t%d\t%d\n", earned + manual_earned, possible + manual_possible);
    if (fclose(out) != 0 || rename(tmp, summary_path) != 0) {
        remove(tmp);
        die("cannot write the summary", summary_path);
    }
    printf("Report: %s\n", markdown);
    for (int i = 0; i < n_files; i++) free(sections[i].rows);
    free(sections);
    free(names);
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

/* questions PLAN...: every question the items name, with the points of its items (label TAB points),
 * in the order first met. */
static int cmd_questions(int n_files, char **files)
{
    static char labels[256][128];
    static int points[256];
    int n = 0;
    for (int f = 0; f < n_files; f++) {
        FILE *in = fopen(files[f], "r");
        if (!in) die("cannot read the plan", files[f]);
        char *line, *fields[MAX_FIELDS];
        while ((line = read_line(in))) {
            int nf = split_tabs(line, fields, MAX_FIELDS);
            if (strcmp(fields[0], "item") != 0 || nf < 9 || strcmp(fields[8], "-") == 0) continue;
            int k = 0;
            while (k < n && strcmp(labels[k], fields[8]) != 0) k++;
            if (k == n) {
                if (n == 256) die("more than 256 questions", NULL);
                snprintf(labels[n++], sizeof labels[0], "%s", fields[8]);
            }
            points[k] += atoi(fields[2]);
        }
        fclose(in);
    }
    for (int k = 0; k < n; k++) printf("%s\t%d\n", labels[k], points[k]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "run") == 0) return cmd_run(argv[2], argv[3], atoi(argv[4]), argv[5], argv[6]);
    if (argc == 6 && strcmp(argv[1], "harness") == 0) return cmd_harness(argv[2], atoi(argv[3]), argv[4], argv[5]);
    if (argc == 5 && strcmp(argv[1], "not-run") == 0) return cmd_not_run(argv[2], argv[3], argv[4], 0);
    if (argc == 5 && strcmp(argv[1], "fail") == 0) return cmd_not_run(argv[2], argv[3], argv[4], 1);
    if (argc >= 3 && strcmp(argv[1], "items") == 0) return cmd_items(argc - 2, argv + 2);
    if (argc >= 3 && strcmp(argv[1], "questions") == 0) return cmd_questions(argc - 2, argv + 2);
    if (argc >= 9 && strcmp(argv[1], "report") == 0)
        return cmd_report(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7], argc - 8, argv + 8);
    fprintf(stderr,
            "usage: grade_tool run PLAN RUN EXIT OUTDIR CAUSE\n"
            "       grade_tool harness PLAN EXIT OUTPUT CAUSE\n"
            "       grade_tool not-run PLAN RUN REASON\n"
            "       grade_tool fail PLAN RUN REASON\n"
            "       grade_tool report MARKDOWN SUMMARY HEADING QUESTIONS ROOT SUB ROWS...\n"
            "       grade_tool items PLAN...\n"
            "       grade_tool questions PLAN...\n");
    return 3;
}
