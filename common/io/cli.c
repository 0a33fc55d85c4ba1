/* cli.c: the shared command-line parser (see cli.h). */
#include "io/cli.h"
#include "io/data.h"
#include "engine.h"
#include "error.h"
#include "io/fileio.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    COMMON_OUT = 1000, COMMON_SEED, COMMON_DATA, COMMON_LIMIT, COMMON_EPOCHS,
    COMMON_QUIET, COMMON_NO_PLOT, COMMON_HELP, COMMON_PLAIN
};
#define PROGRAM_OPTION_BASE 2000
#define MAX_OPTIONS 64

common_options common_defaults(const char *program_name, int default_epochs)
{
    common_options c;
    memset(&c, 0, sizeof c);
    snprintf(c.out_dir, sizeof c.out_dir, "out/%s", program_name);
    c.seed = 42;
    c.data_dir = NULL;
    c.limit = 0;
    c.epochs = default_epochs;
    return c;
}

int parse_double(const char *text, const char *what, double *value)
{
    if (!text || !text[0]) return AE_ERROR(AE_EINVAL, "%s: a number is needed, got an empty string", what);
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    while (*end == ' ') end++;
    if (end == text || *end != '\0')
        return AE_ERROR(AE_EINVAL, "%s: '%s' is not a number", what, text);
    if (isnan(v)) return AE_ERROR(AE_EINVAL, "%s: NaN is not allowed", what);
    /* ERANGE also flags underflow (1e-320 becomes a subnormal or 0), which is a fine value. */
    if (isinf(v) || (errno == ERANGE && fabs(v) >= 1.0))
        return AE_ERROR(AE_EINVAL, "%s: '%s' is not a finite number", what, text);
    *value = v;
    return AE_OK;
}

int parse_long(const char *text, const char *what, long *value)
{
    if (!text || !text[0]) return AE_ERROR(AE_EINVAL, "%s: a whole number is needed, got an empty string", what);
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0')
        return AE_ERROR(AE_EINVAL, "%s: '%s' is not a whole number", what, text);
    if (errno == ERANGE) return AE_ERROR(AE_EINVAL, "%s: '%s' is too large", what, text);
    *value = v;
    return AE_OK;
}

int parse_double_list(const char *text, const char *what, double *values, int max, int *n)
{
    *n = 0;
    if (!text || !text[0]) return AE_ERROR(AE_EINVAL, "%s: the list is empty", what);
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[128];
        if (len == 0) return AE_ERROR(AE_EINVAL, "%s: item %d of '%s' is empty", what, *n + 1, text);
        if (len >= sizeof item) return AE_ERROR(AE_EINVAL, "%s: item %d of '%s' is too long", what, *n + 1, text);
        if (*n >= max) return AE_ERROR(AE_EINVAL, "%s: more than %d values in '%s'", what, max, text);
        memcpy(item, p, len);
        item[len] = '\0';
        char label[160];
        snprintf(label, sizeof label, "%s, item %d", what, *n + 1);
        int rc = parse_double(item, label, &values[*n]);
        if (rc != AE_OK) return rc;
        (*n)++;
        if (!comma) break;
        p = comma + 1;
    }
    return AE_OK;
}

/* Index of `text` in the '|'-separated list, or -1. */
static int choice_index(const char *choices, const char *text)
{
    size_t len = strlen(text);
    int index = 0;
    for (const char *p = choices; ; index++) {
        const char *bar = strchr(p, '|');
        size_t item_len = bar ? (size_t)(bar - p) : strlen(p);
        if (item_len == len && strncmp(p, text, len) == 0) return index;
        if (!bar) return -1;
        p = bar + 1;
    }
}

/* The index-th item of a '|'-separated list, into buf. */
static const char *choice_name(const char *choices, int index, char *buf, size_t len)
{
    const char *p = choices;
    for (int i = 0; i < index && p; i++) {
        p = strchr(p, '|');
        if (p) p++;
    }
    if (!p) return "?";
    size_t item_len = strcspn(p, "|");
    if (item_len >= len) item_len = len - 1;
    memcpy(buf, p, item_len);
    buf[item_len] = '\0';
    return buf;
}

static int set_option(cli_option *opt, const char *arg)
{
    char what[96];
    snprintf(what, sizeof what, "--%s", opt->name);
    opt->seen = 1;
    switch (opt->type) {
    case OPT_FLAG:
        *(int *)opt->dest = 1;
        return AE_OK;
    case OPT_STRING:
        if (!arg[0]) return AE_ERROR(AE_EINVAL, "%s: the value is empty", what);
        *(const char **)opt->dest = arg;
        return AE_OK;
    case OPT_CHOICE: {
        int index = choice_index(opt->choices, arg);
        if (index < 0) return AE_ERROR(AE_EINVAL, "%s: '%s' is not one of %s", what, arg, opt->choices);
        *(int *)opt->dest = index;
        return AE_OK;
    }
    case OPT_INT:
    case OPT_LONG: {
        long v;
        int rc = parse_long(arg, what, &v);
        if (rc != AE_OK) return rc;
        if (v < opt->min || v > opt->max)
            return AE_ERROR(AE_EINVAL, "%s: %ld is out of range; it must be from %.0f to %.0f",
                            what, v, opt->min, opt->max);
        if (opt->type == OPT_INT) *(int *)opt->dest = (int)v;
        else *(long *)opt->dest = v;
        return AE_OK;
    }
    case OPT_DOUBLE: {
        double v;
        int rc = parse_double(arg, what, &v);
        if (rc != AE_OK) return rc;
        if (v < opt->min || v > opt->max)
            return AE_ERROR(AE_EINVAL, "%s: %g is out of range; it must be in [%g, %g]",
                            what, v, opt->min, opt->max);
        *(double *)opt->dest = v;
        return AE_OK;
    }
    }
    return AE_ERROR(AE_EINVAL, "%s: unknown option type", what);
}

/* The shared options a program must declare in program_info.uses, and what they need. */
static int check_uses(int id, const program_info *prog)
{
    if ((id == COMMON_DATA || id == COMMON_LIMIT) && !(prog->uses & CLI_USES_DATA))
        return AE_ERROR(AE_EINVAL, "--%s: %s reads no data set; leave the option out", id == COMMON_DATA ? "data" : "limit",
                        prog->name);
    if ((id == COMMON_EPOCHS || id == COMMON_PLAIN) && !(prog->uses & CLI_TRAINS))
        return AE_ERROR(AE_EINVAL, "--%s: %s trains no model; leave the option out", id == COMMON_EPOCHS ? "epochs" : "plain",
                        prog->name);
    return AE_OK;
}

static int set_common(int id, const char *arg, common_options *c)
{
    long v;
    int rc;
    switch (id) {
    case COMMON_PLAIN:
        c->plain = 1;
        engine_set_plain(1);
        return AE_OK;
    case COMMON_OUT:
        if (!arg[0]) return AE_ERROR(AE_EINVAL, "--out: the folder name is empty");
        if (strlen(arg) >= sizeof c->out_dir) return AE_ERROR(AE_EINVAL, "--out: the folder name is too long");
        strcpy(c->out_dir, arg);
        return AE_OK;
    case COMMON_SEED:
        if ((rc = parse_long(arg, "--seed", &v)) != AE_OK) return rc;
        if (v < 0) return AE_ERROR(AE_EINVAL, "--seed: %ld is negative; use a number from 0 up", v);
        c->seed = (unsigned long)v;
        c->seed_seen = 1;
        return AE_OK;
    case COMMON_DATA:
        if (!arg[0]) return AE_ERROR(AE_EINVAL, "--data: the folder name is empty");
        c->data_dir = arg;
        return AE_OK;
    case COMMON_LIMIT:
        if ((rc = parse_long(arg, "--limit", &v)) != AE_OK) return rc;
        if (v < 0) return AE_ERROR(AE_EINVAL, "--limit: %ld is negative; use 0 for all samples", v);
        c->limit = v;
        c->limit_seen = 1;
        return AE_OK;
    case COMMON_EPOCHS:
        if ((rc = parse_long(arg, "--epochs", &v)) != AE_OK) return rc;
        if (v < 1 || v > 1000) return AE_ERROR(AE_EINVAL, "--epochs: %ld is out of range; it must be from 1 to 1000", v);
        c->epochs = (int)v;
        c->epochs_seen = 1;
        return AE_OK;
    case COMMON_QUIET:
        c->quiet = 1;
        return AE_OK;
    case COMMON_NO_PLOT:
        c->no_plot = 1;
        return AE_OK;
    }
    return AE_ERROR(AE_EINVAL, "internal: unknown shared option");
}

int cli_parse(int argc, char **argv, const program_info *prog,
              cli_option *options, int n_options, common_options *common)
{
    struct option table[MAX_OPTIONS + 16];
    int n = 0;
    if (n_options > MAX_OPTIONS) return AE_ERROR(AE_EINVAL, "internal: too many options");
    for (int i = 0; i < n_options; i++) {
        table[n].name = options[i].name;
        table[n].has_arg = options[i].type == OPT_FLAG ? no_argument : required_argument;
        table[n].flag = NULL;
        table[n].val = PROGRAM_OPTION_BASE + i;
        n++;
    }
    const struct option shared[] = {
        {"out", required_argument, NULL, COMMON_OUT},
        {"seed", required_argument, NULL, COMMON_SEED},
        {"data", required_argument, NULL, COMMON_DATA},
        {"limit", required_argument, NULL, COMMON_LIMIT},
        {"epochs", required_argument, NULL, COMMON_EPOCHS},
        {"quiet", no_argument, NULL, COMMON_QUIET},
        {"no-plot", no_argument, NULL, COMMON_NO_PLOT},
        {"help", no_argument, NULL, COMMON_HELP},
        {"plain", no_argument, NULL, COMMON_PLAIN},
    };
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++) table[n++] = shared[i];
    memset(&table[n], 0, sizeof table[n]);

    optind = 0;   /* full re-initialisation, so tests can parse several argument lists */
    opterr = 0;   /* the messages below say more than getopt's */
    for (;;) {
        int index = -1;
        int c = getopt_long(argc, argv, ":h", table, &index);
        if (c == -1) break;
        if (c == 'h' || c == COMMON_HELP) {
            cli_print_help(stdout, prog, options, n_options, common);
            return CLI_HELP;
        }
        if (c == '?') {
            const char *bad = argv[optind - 1];
            if (optopt && optopt < 256) return AE_ERROR(AE_EINVAL, "unknown option '-%c'", optopt);
            return AE_ERROR(AE_EINVAL, "unknown option '%s'", bad);
        }
        if (c == ':') return AE_ERROR(AE_EINVAL, "option '%s' needs a value", argv[optind - 1]);
        int rc;
        if (c >= PROGRAM_OPTION_BASE) rc = set_option(&options[c - PROGRAM_OPTION_BASE], optarg);
        else if ((rc = check_uses(c, prog)) == AE_OK) rc = set_common(c, optarg, common);
        if (rc != AE_OK) return rc;
    }
    if (optind < argc)
        return AE_ERROR(AE_EINVAL, "unexpected argument '%s' (options start with --)", argv[optind]);
    return AE_OK;
}

static void print_row(FILE *out, const char *left, const char *help, const char *def)
{
    if (strlen(left) <= 26) fprintf(out, "  %-26s %s", left, help);
    else fprintf(out, "  %s\n  %-26s %s", left, "", help);
    if (def) fprintf(out, " (default: %s)", def);
    fputc('\n', out);
}

void cli_print_help(FILE *out, const program_info *prog,
                    const cli_option *options, int n_options, const common_options *common)
{
    char left[160], def[160];
    fprintf(out, "%s: %s\n\nUsage: %s [options]\n", prog->name, prog->summary, prog->name);
    if (n_options > 0) fprintf(out, "\nOptions of this program:\n");
    for (int i = 0; i < n_options; i++) {
        const cli_option *o = &options[i];
        const char *d = def;
        switch (o->type) {
        case OPT_FLAG: snprintf(left, sizeof left, "--%s", o->name); d = NULL; break;
        case OPT_CHOICE:
            snprintf(left, sizeof left, "--%s %s", o->name, o->choices);
            choice_name(o->choices, *(const int *)o->dest, def, sizeof def);
            break;
        default:
            snprintf(left, sizeof left, "--%s %s", o->name, o->metavar ? o->metavar : "VALUE");
            if (o->type == OPT_INT) snprintf(def, sizeof def, "%d", *(const int *)o->dest);
            else if (o->type == OPT_LONG) snprintf(def, sizeof def, "%ld", *(const long *)o->dest);
            else if (o->type == OPT_DOUBLE) snprintf(def, sizeof def, "%g", *(const double *)o->dest);
            else {
                const char *s = *(const char *const *)o->dest;
                snprintf(def, sizeof def, "%s", s ? s : "none");
            }
        }
        print_row(out, left, o->help, d);
    }
    fprintf(out, "\nShared options:\n");
    print_row(out, "--out DIR", "folder for results.tsv, .dat, .gp and .png files", common->out_dir);
    snprintf(def, sizeof def, "%lu", common->seed);
    print_row(out, "--seed N", "seed of every random draw; the same seed gives the same numbers", def);
    if (prog->uses & CLI_USES_DATA) {
        print_row(out, "--data DIR", "Fashion-MNIST folder",
                  common->data_dir ? common->data_dir
                                   : "$FASHION_MNIST_DIR, else data/fashion-mnist, else the bundled sample");
        snprintf(def, sizeof def, "%ld", common->limit);
        print_row(out, "--limit N", "use only the first N samples of each split (0: all)", def);
    }
    if (prog->uses & CLI_TRAINS) {
        snprintf(def, sizeof def, "%d", common->epochs);
        print_row(out, "--epochs N", "training epochs", def);
        print_row(out, "--plain", "run exactly the plain code of common/ (its loops, on one thread) instead of "
                  "its fast twins in common/fast/: slower, the same results up to float rounding", NULL);
    }
    print_row(out, "--quiet", "no progress output", NULL);
    print_row(out, "--no-plot", "write .dat and .gp files but do not run gnuplot", NULL);
    print_row(out, "--help", "this text", NULL);
    if (prog->usage_extra) fprintf(out, "\n%s\n", prog->usage_extra);
}

int cli_seen(const cli_option *options, int n_options, const char *name)
{
    for (int i = 0; i < n_options; i++)
        if (strcmp(options[i].name, name) == 0) return options[i].seen;
    return 0;
}

int cli_threads(const common_options *common, int *threads, int threads_seen)
{
    if (!common->plain) return AE_OK;
    if (threads_seen && *threads > 1)
        return AE_ERROR(AE_EINVAL, "--plain runs the plain code on one thread, not %d: leave out --threads or give "
                        "--threads 1", *threads);
    *threads = 1;
    return AE_OK;
}

int cli_fail(const program_info *prog)
{
    if (not_implemented_seen()) {   /* the student edition: a check needed a function not written yet */
        fprintf(stderr, "%s: %s\n", prog->name, not_implemented_seen());
        return CLI_EXIT_NOT_IMPLEMENTED;
    }
    fprintf(stderr, "%s: %s\nTry '%s --help' for the list of options.\n",
            prog->name, error_message(), prog->name);
    return CLI_EXIT_USAGE;
}

int cli_load_fashion_mnist(fashion_mnist *fm, const common_options *common, const char *program)
{
    char dir[AE_PATH_MAX];
    int is_sample;
    int rc = fashion_mnist_locate(dir, sizeof dir, common->data_dir, &is_sample);
    if (rc == AE_OK) rc = fashion_mnist_load(fm, dir, (size_t)common->limit);
    if (rc != AE_OK) return rc;
    if (fm->is_sample) {
        fflush(stdout);   /* the warning after what was printed so far, not before it */
        fprintf(stderr, "\n%s: WARNING: using the small bundled SAMPLE of Fashion-MNIST (%zu training, %zu test "
                "images) from\n  %s\n  Its numbers are NOT those of the experiment. For the full data run `make "
                "data`, or set FASHION_MNIST_DIR to a folder with the four files.\n\n", program,
                fm->train.images.count, fm->test.images.count, dir);
    }
    printf("Data: %s: %zu training and %zu test images%s\n", dir, fm->train.images.count, fm->test.images.count,
           fm->is_sample ? " (the bundled SAMPLE, not the full data)" : "");
    return AE_OK;
}
