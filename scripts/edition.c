/* edition.c: the student edition of this repository, and the way back to the full one.
 *
 *   edition student SRC DEST LIST    copies the files LIST names (one path a line, relative to SRC)
 *                                    from SRC to DEST, every solution region replaced by a stub
 *   edition restore FULL DEST LIST   puts FULL's solution regions back into DEST's copies of the files
 *                                    LIST names and copies those DEST lacks; DEST's text outside the
 *                                    regions must be FULL's, or it stops and names the first line
 *   edition regions SRC LIST         every region as a tab-separated line: file, function, question
 *
 * The regions (solutions/README.md lists them):
 *   C, inside a function:  a line `/ * BEGIN SOLUTION: Task 2a * /` ... a line `/ * END SOLUTION * /`
 *                          (without the spaces inside the comment markers); the stub records
 *                          "not implemented yet: FUNCTION (FILE) — Task 2a" and returns what the
 *                          function's type asks for (common/error.h);
 *   C, one statement:      a line ending in `/ * SOLUTION: Task 2a * /`, replaced by the stub;
 *   C, at file scope:      the same pair at the start of a line, around whole helper functions:
 *                          the student edition leaves an empty place for helpers of one's own;
 *   Markdown:              `<!-- BEGIN SOLUTION: Task 1a -->` ... `<!-- END SOLUTION -->`, an answer
 *                          to a question of the sheet: the student edition leaves a place to answer;
 *                          and the blocks `make docs` fills from a run (results:begin/end and
 *                          file:begin/end), which it leaves empty until the student's own run.
 * Exit status: 0, 1 when a file or region is malformed (the message names file and line), 2 usage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_PATH 4096

/* ------------------------------------------------------------ small helpers */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("edition: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

typedef struct {
    char **lines;   /* each without its newline */
    int n;
    int final_newline;
    char *text;     /* the buffer the lines point into */
} file_lines;

static char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot read %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    if (!buf) die("out of memory reading %s", path);
    fclose(f);
    buf[n] = '\0';
    *size = n;
    return buf;
}

static void split_lines(file_lines *f, char *text, size_t size)
{
    f->text = text;
    f->n = 0;
    f->final_newline = size > 0 && text[size - 1] == '\n';
    int cap = 256;
    f->lines = malloc((size_t)cap * sizeof *f->lines);
    char *start = text, *end = text + size;
    while (start < end) {
        char *nl = memchr(start, '\n', (size_t)(end - start));
        if (f->n == cap) {
            cap *= 2;
            f->lines = realloc(f->lines, (size_t)cap * sizeof *f->lines);
        }
        if (!f->lines) die("out of memory");
        f->lines[f->n++] = start;
        if (!nl) break;
        *nl = '\0';
        start = nl + 1;
    }
}

static void load(file_lines *f, const char *path)
{
    size_t size;
    char *text = read_all(path, &size);
    if (memchr(text, '\0', size)) {   /* binary: no regions, copied as it is */
        f->lines = NULL;
        f->n = -1;
        f->text = text;
        f->final_newline = (int)size;   /* the size, for a binary file */
        return;
    }
    split_lines(f, text, size);
}

static void unload(file_lines *f)
{
    free(f->lines);
    free(f->text);
}

static void make_parents(const char *path)
{
    char dir[MAX_PATH];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *c = dir + 1; *c; c++)
        if (*c == '/') {
            *c = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) die("cannot make %s: %s", dir, strerror(errno));
            *c = '/';
        }
}

/* out = dir/rel, or the program stops when it does not fit. */
static void join(char *out, size_t size, const char *dir, const char *rel)
{
    int n = snprintf(out, size, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= size) die("the path %s/%s is too long", dir, rel);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

/* ------------------------------------------------------------ what a line is */

typedef enum { KIND_OTHER, KIND_C, KIND_MD } file_kind;

static file_kind kind_of(const char *path)
{
    if (ends_with(path, ".c") || ends_with(path, ".h")) return KIND_C;
    if (ends_with(path, ".md")) return KIND_MD;
    return KIND_OTHER;
}

typedef enum { LINE_PLAIN, LINE_BEGIN, LINE_END, LINE_ONE } line_kind;

/* What line is; for a BEGIN or one-line marker, the question into label. */
static line_kind classify(file_kind kind, const char *line, char *label, size_t len)
{
    const char *s = skip_space(line);
    if (kind == KIND_C) {
        const char *begin = "/* BEGIN SOLUTION: ", *one = "/* SOLUTION: ";
        if (strncmp(s, begin, strlen(begin)) == 0 && ends_with(s, " */")) {
            snprintf(label, len, "%.*s", (int)(strlen(s) - strlen(begin) - 3), s + strlen(begin));
            return LINE_BEGIN;
        }
        if (strcmp(s, "/* END SOLUTION */") == 0) return LINE_END;
        const char *mark = strstr(line, one);
        if (mark && mark > line && ends_with(mark, " */") && !strstr(mark + 3, "/*")) {
            snprintf(label, len, "%.*s", (int)(strlen(mark) - strlen(one) - 3), mark + strlen(one));
            return LINE_ONE;
        }
    } else if (kind == KIND_MD) {
        const char *begin = "<!-- BEGIN SOLUTION: ";
        if (strncmp(s, begin, strlen(begin)) == 0 && ends_with(s, " -->")) {
            snprintf(label, len, "%.*s", (int)(strlen(s) - strlen(begin) - 4), s + strlen(begin));
            return LINE_BEGIN;
        }
        if (strcmp(s, "<!-- END SOLUTION -->") == 0) return LINE_END;
        /* the blocks make docs fills from a run */
        if (strcmp(s, "<!-- results:begin -->") == 0 || strncmp(s, "<!-- file:begin ", 16) == 0) {
            snprintf(label, len, "run");
            return LINE_BEGIN;
        }
        if (strcmp(s, "<!-- results:end -->") == 0 || strcmp(s, "<!-- file:end -->") == 0) return LINE_END;
    }
    return LINE_PLAIN;
}

/* ------------------------------------------------------------ the stub of a function */

typedef struct {
    char name[128];
    char returns[16];          /* "int", "double", "long", "pointer", "void" */
    char params[32][64];
    int n_params;
} function_info;

static int is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The last identifier of s[0..n) into out ("" when none). */
static void last_ident(const char *s, size_t n, char *out, size_t len)
{
    size_t end = n;
    while (end > 0 && !is_ident(s[end - 1])) end--;
    size_t start = end;
    while (start > 0 && is_ident(s[start - 1])) start--;
    snprintf(out, len, "%.*s", (int)(end - start), s + start);
}

/* The function whose body holds line `at` of f: its header is the text above the body's "{". */
static void enclosing_function(const file_lines *f, int at, const char *path, function_info *fn)
{
    int brace = at;
    while (brace >= 0 && strcmp(f->lines[brace], "{") != 0) brace--;
    if (brace <= 0) die("%s:%d: a solution region that is not inside a function", path, at + 1);
    int first = brace - 1;   /* the header's first line starts at column 0; its continuations do not */
    while (first > 0 && f->lines[first][0] == ' ') first--;
    char header[2048] = "";
    for (int i = first; i < brace; i++) {
        strncat(header, f->lines[i], sizeof header - strlen(header) - 2);
        strcat(header, " ");
    }
    char *open = strchr(header, '('), *close = strrchr(header, ')');
    if (!open || !close || close < open) die("%s:%d: cannot read the function header above", path, at + 1);
    memset(fn, 0, sizeof *fn);
    last_ident(header, (size_t)(open - header), fn->name, sizeof fn->name);
    /* the return type: what stands before the name */
    char type[256];
    snprintf(type, sizeof type, "%.*s", (int)(open - header), header);
    char *name_at = strstr(header, fn->name);
    snprintf(type, sizeof type, "%.*s", (int)(name_at - header), header);
    char last[64];
    last_ident(type, strlen(type), last, sizeof last);
    if (strchr(type, '*')) snprintf(fn->returns, sizeof fn->returns, "pointer");
    else if (strcmp(last, "void") == 0) snprintf(fn->returns, sizeof fn->returns, "void");
    else if (strcmp(last, "int") == 0) snprintf(fn->returns, sizeof fn->returns, "int");
    else if (strcmp(last, "double") == 0 || strcmp(last, "float") == 0) snprintf(fn->returns, sizeof fn->returns, "double");
    else if (strcmp(last, "long") == 0 || strcmp(last, "size_t") == 0) snprintf(fn->returns, sizeof fn->returns, "long");
    else die("%s:%d: %s returns '%s', for which there is no stub (int, double, float, long, size_t, a pointer or void)",
             path, at + 1, fn->name, type);
    /* the parameters' names */
    int depth = 0;
    const char *p = open + 1, *start = p;
    for (; p <= close; p++) {
        if (*p == '(') depth++;
        else if (*p == ')' && depth > 0) depth--;
        else if ((*p == ',' && depth == 0) || p == close) {
            char param[256];
            snprintf(param, sizeof param, "%.*s", (int)(p - start), start);
            char *bracket = strchr(param, '[');
            if (bracket) *bracket = '\0';
            char *pointer_to = strstr(param, "(*");
            char name[64];
            if (pointer_to) {
                char *end = strchr(pointer_to, ')');
                last_ident(param, end ? (size_t)(end - param) : strlen(param), name, sizeof name);
            } else last_ident(param, strlen(param), name, sizeof name);
            const char *trimmed = skip_space(param);
            if (name[0] && strcmp(name, "void") != 0 && strncmp(trimmed, "...", 3) != 0 && fn->n_params < 32 &&
                strcmp(name, trimmed) != 0)
                snprintf(fn->params[fn->n_params++], sizeof fn->params[0], "%s", name);
            start = p + 1;
        }
    }
}

/* The stub's statements on one line: "(void)a, (void)b; return not_implemented(...);" */
static void stub_text(char *out, size_t len, const function_info *fn, const char *file, const char *question)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < fn->n_params; i++)
        n += (size_t)snprintf(out + n, len - n, "%s(void)%s", i ? ", " : "", fn->params[i]);
    if (fn->n_params) n += (size_t)snprintf(out + n, len - n, "; ");
    const char *call = strcmp(fn->returns, "double") == 0    ? "not_implemented_nan"
                       : strcmp(fn->returns, "long") == 0    ? "not_implemented_long"
                       : strcmp(fn->returns, "pointer") == 0 ? "not_implemented_null"
                                                             : "not_implemented";
    if (strcmp(fn->returns, "void") == 0)
        snprintf(out + n, len - n, "not_implemented(\"%s\", \"%s\", \"%s\"); return;", fn->name, file, question);
    else snprintf(out + n, len - n, "return %s(\"%s\", \"%s\", \"%s\");", call, fn->name, file, question);
}

/* ------------------------------------------------------------ the editions */

/* Writes lines (or a binary file's bytes) to path with the permissions of `like`. */
static void write_file(const char *path, const char *like, const file_lines *f, char **lines, int n)
{
    make_parents(path);
    FILE *out = fopen(path, "wb");
    if (!out) die("cannot write %s: %s", path, strerror(errno));
    if (f->n < 0) fwrite(f->text, 1, (size_t)f->final_newline, out);
    else
        for (int i = 0; i < n; i++) {
            fputs(lines[i], out);
            if (i + 1 < n || f->final_newline) fputc('\n', out);
        }
    if (fclose(out) != 0) die("cannot write %s", path);
    struct stat st;
    if (stat(like, &st) != 0 || chmod(path, st.st_mode & 07777) != 0) die("cannot set the mode of %s", path);
}

/* A region's lines [begin, end] (the marker lines) of f. */
typedef struct {
    int begin, end;
    line_kind kind;
    char label[128];
} region;

static int find_regions(const file_lines *f, file_kind kind, const char *path, region *out, int max)
{
    int n = 0, open = -1;
    char label[128];
    for (int i = 0; i < f->n; i++) {
        line_kind k = classify(kind, f->lines[i], label, sizeof label);
        if (k == LINE_BEGIN) {
            if (open >= 0) die("%s:%d: a region begins inside the region of line %d", path, i + 1, open + 1);
            open = i;
            if (n == max) die("%s: more than %d regions", path, max);
            snprintf(out[n].label, sizeof out[n].label, "%s", label);
        } else if (k == LINE_END) {
            if (open < 0) die("%s:%d: END SOLUTION without a BEGIN", path, i + 1);
            out[n].begin = open;
            out[n].end = i;
            out[n].kind = LINE_BEGIN;
            n++;
            open = -1;
        } else if (k == LINE_ONE && open < 0) {
            if (n == max) die("%s: more than %d regions", path, max);
            out[n].begin = out[n].end = i;
            out[n].kind = LINE_ONE;
            snprintf(out[n].label, sizeof out[n].label, "%s", label);
            n++;
        }
    }
    if (open >= 0) die("%s:%d: a region that never ends", path, open + 1);
    return n;
}

#define MAX_REGIONS 256

static void copy_student(const char *src, const char *dest, const char *rel)
{
    char from[MAX_PATH], to[MAX_PATH];
    join(from, sizeof from, src, rel);
    join(to, sizeof to, dest, rel);
    file_lines f;
    load(&f, from);
    file_kind kind = kind_of(rel);
    if (f.n < 0 || kind == KIND_OTHER) {
        char **lines = f.lines;
        write_file(to, from, &f, lines, f.n);
        unload(&f);
        return;
    }
    static region regions[MAX_REGIONS];
    int n_regions = find_regions(&f, kind, rel, regions, MAX_REGIONS);
    char **out = malloc(((size_t)f.n + 4 * (size_t)n_regions + 1) * sizeof *out);
    char **owned = malloc(((size_t)n_regions * 2 + 1) * sizeof *owned);
    int n_out = 0, n_owned = 0, next = 0;
    for (int i = 0; i < f.n; i++) {
        if (next < n_regions && regions[next].begin == i) {
            const region *r = &regions[next++];
            const char *line = f.lines[i];
            int indent = (int)(skip_space(line) - line);
            char stub[4096], *text;
            if (kind == KIND_MD) {
                out[n_out++] = f.lines[r->begin];
                text = malloc(256);
                if (strcmp(r->label, "run") == 0)
                    snprintf(text, 256, "*(`make docs` fills this in from your own run.)*");
                else snprintf(text, 256, "*Your answer to %s:*\n", r->label);
                out[n_out++] = owned[n_owned++] = text;
                out[n_out++] = f.lines[r->end];
            } else if (r->kind == LINE_ONE) {
                function_info fn;
                enclosing_function(&f, i, rel, &fn);
                stub_text(stub, sizeof stub, &fn, rel, r->label);
                text = malloc(strlen(stub) + 256);
                sprintf(text, "%*s%s /* SOLUTION: %s */", indent, "", stub, r->label);
                out[n_out++] = owned[n_owned++] = text;
            } else {
                out[n_out++] = f.lines[r->begin];
                text = malloc(4352);
                if (indent == 0) snprintf(text, 4352, "/* (helper functions of your own, if you want them) */");
                else {
                    function_info fn;
                    enclosing_function(&f, i, rel, &fn);
                    stub_text(stub, sizeof stub, &fn, rel, r->label);
                    /* the silenced parameters on a line of their own, then the call */
                    char *call = strstr(stub, "; ");
                    if (call && strncmp(stub, "(void)", 6) == 0) {
                        *call = '\0';
                        snprintf(text, 4352, "%*s%s;\n%*s%s", indent, "", stub, indent, "", call + 2);
                    } else snprintf(text, 4352, "%*s%s", indent, "", stub);
                }
                out[n_out++] = owned[n_owned++] = text;
                out[n_out++] = f.lines[r->end];
            }
            i = r->end;
            continue;
        }
        out[n_out++] = f.lines[i];
    }
    write_file(to, from, &f, out, n_out);
    for (int k = 0; k < n_owned; k++) free(owned[k]);
    free(owned);
    free(out);
    unload(&f);
}

static void restore(const char *full, const char *dest, const char *rel)
{
    char from[MAX_PATH], to[MAX_PATH];
    join(from, sizeof from, full, rel);
    join(to, sizeof to, dest, rel);
    file_lines f, s;
    load(&f, from);
    struct stat st;
    file_kind kind = kind_of(rel);
    if (stat(to, &st) != 0 || f.n < 0 || kind == KIND_OTHER) {   /* left out, or no regions: FULL's own */
        if (stat(to, &st) == 0 && f.n >= 0 && kind == KIND_OTHER) {
            /* a file without regions must be the same in both */
            size_t size;
            char *text = read_all(to, &size);
            size_t full_size;
            char *full_text = read_all(from, &full_size);
            if (size != full_size || memcmp(text, full_text, size) != 0) die("%s differs from %s", to, from);
            free(text);
            free(full_text);
        }
        write_file(to, from, &f, f.lines, f.n);
        unload(&f);
        return;
    }
    load(&s, to);
    if (s.n < 0) die("%s is binary, %s is not", to, from);
    static region fr[MAX_REGIONS], sr[MAX_REGIONS];
    int nf = find_regions(&f, kind, rel, fr, MAX_REGIONS);
    int ns = find_regions(&s, kind, to, sr, MAX_REGIONS);
    if (nf != ns) die("%s has %d solution regions, %s %d", to, ns, from, nf);
    /* outside the regions, line by line the same; the result is DEST's text with FULL's regions */
    char **out = malloc(((size_t)f.n + (size_t)s.n + 1) * sizeof *out);
    if (!out) die("out of memory");
    int n_out = 0, i = 0, j = 0;
    for (int k = 0; k <= nf; k++) {
        int f_stop = k < nf ? fr[k].begin : f.n, s_stop = k < nf ? sr[k].begin : s.n;
        if (f_stop - i != s_stop - j) die("%s: the text before region %d differs from %s", to, k + 1, from);
        for (; i < f_stop; i++, j++) {
            if (strcmp(f.lines[i], s.lines[j]) != 0) die("%s:%d differs from %s:%d", to, j + 1, from, i + 1);
            out[n_out++] = s.lines[j];
        }
        if (k == nf) break;
        if (strcmp(fr[k].label, sr[k].label) != 0)
            die("%s:%d: region '%s' where %s has '%s'", to, sr[k].begin + 1, sr[k].label, from, fr[k].label);
        for (int r = fr[k].begin; r <= fr[k].end; r++) out[n_out++] = f.lines[r];
        i = fr[k].end + 1;
        j = sr[k].end + 1;
    }
    if (f.final_newline != s.final_newline) die("%s: the last newline differs from %s", to, from);
    write_file(to, to, &s, out, n_out);
    free(out);
    unload(&f);
    unload(&s);
}

static void list_regions(const char *src, const char *rel)
{
    file_kind kind = kind_of(rel);
    if (kind != KIND_C) return;
    char path[MAX_PATH];
    join(path, sizeof path, src, rel);
    file_lines f;
    load(&f, path);
    if (f.n < 0) {
        unload(&f);
        return;
    }
    static region r[MAX_REGIONS];
    int n = find_regions(&f, kind, rel, r, MAX_REGIONS);
    for (int k = 0; k < n; k++) {
        const char *line = f.lines[r[k].begin];
        function_info fn;
        if (line[0] != ' ' && r[k].kind != LINE_ONE) snprintf(fn.name, sizeof fn.name, "(helpers)");
        else enclosing_function(&f, r[k].begin, rel, &fn);
        printf("%s\t%s\t%s\n", rel, fn.name, r[k].label);
    }
    unload(&f);
}

int main(int argc, char **argv)
{
    const int student = argc == 5 && strcmp(argv[1], "student") == 0;
    const int back = argc == 5 && strcmp(argv[1], "restore") == 0;
    const int regions = argc == 4 && strcmp(argv[1], "regions") == 0;
    if (!student && !back && !regions) {
        fprintf(stderr, "usage: edition student SRC DEST LIST\n"
                        "       edition restore FULL DEST LIST\n"
                        "       edition regions SRC LIST\n");
        return 2;
    }
    const char *list = argv[argc - 1];
    FILE *in = fopen(list, "r");
    if (!in) die("cannot read the list %s: %s", list, strerror(errno));
    char rel[MAX_PATH];
    while (fgets(rel, sizeof rel, in)) {
        rel[strcspn(rel, "\r\n")] = '\0';
        if (!rel[0]) continue;
        if (student) copy_student(argv[2], argv[3], rel);
        else if (back) restore(argv[2], argv[3], rel);
        else list_regions(argv[2], rel);
    }
    fclose(in);
    return 0;
}
