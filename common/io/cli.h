/* cli.h: the one command-line parser every program shares (getopt_long).
 *
 * A program declares its own options as a table of cli_option, each pointing
 * at the variable that holds its default and receives its value; the shared
 * options (--help, --out, --seed, --quiet, --no-plot, and --data, --limit, --epochs
 * and --plain for the programs that use them: program_info.uses) are always there.
 * --help lists every option with its default. --plain switches the engine to the plain
 * code (engine_set_plain) as it is parsed.
 *
 *     static double p1 = 0.4;
 *     cli_option opts[] = {
 *         CLI_DOUBLE("p1", &p1, 0.0, 1.0, "P", "probability of x=1 under the first distribution"),
 *     };
 *     common_options common = common_defaults("week05-task2-kl");
 *     int rc = cli_parse(argc, argv, &prog_info, opts, 1, &common);
 *     if (rc == CLI_HELP) return 0;           // help was printed to stdout
 *     if (rc != AE_OK) return cli_fail(&prog_info);   // prints the message, returns 2
 */
#ifndef AE_CLI_H
#define AE_CLI_H

typedef struct fashion_mnist fashion_mnist;   /* data.h */

#include <stddef.h>
#include <stdio.h>

#define CLI_HELP (-1)      /* cli_parse printed --help; exit 0 */
#define CLI_EXIT_USAGE 2   /* exit status for bad options and bad values */
#define CLI_EXIT_NOT_IMPLEMENTED 3   /* the student edition: what was asked needs a function not written yet */

typedef enum { OPT_FLAG, OPT_INT, OPT_LONG, OPT_DOUBLE, OPT_STRING, OPT_CHOICE } cli_type;

typedef struct {
    const char *name;          /* long name, without "--" */
    cli_type type;
    void *dest;                /* int* (FLAG, INT, CHOICE index), long*, double*, const char** (STRING) */
    double min, max;           /* accepted range for INT, LONG and DOUBLE (inclusive) */
    const char *choices;       /* OPT_CHOICE: "reconstruction|denoising|anomaly"; *dest is the index */
    const char *metavar;       /* "N", "P", "DIR" */
    const char *help;          /* one line */
    int seen;                  /* set to 1 when given on the command line */
} cli_option;

#define CLI_FLAG(n, d, h)                 { (n), OPT_FLAG, (d), 0, 0, NULL, NULL, (h), 0 }
#define CLI_INT(n, d, lo, hi, mv, h)      { (n), OPT_INT, (d), (lo), (hi), NULL, (mv), (h), 0 }
#define CLI_LONG(n, d, lo, hi, mv, h)     { (n), OPT_LONG, (d), (lo), (hi), NULL, (mv), (h), 0 }
#define CLI_DOUBLE(n, d, lo, hi, mv, h)   { (n), OPT_DOUBLE, (d), (lo), (hi), NULL, (mv), (h), 0 }
#define CLI_STRING(n, d, mv, h)           { (n), OPT_STRING, (d), 0, 0, NULL, (mv), (h), 0 }
#define CLI_CHOICE(n, d, ch, h)           { (n), OPT_CHOICE, (d), 0, 0, (ch), NULL, (h), 0 }

typedef struct {
    char out_dir[4096];        /* --out DIR, default out/<program> */
    int plain;                 /* --plain: the plain code of common/ on one thread (engine.h) */
    unsigned long seed;        /* --seed N, default 42 */
    const char *data_dir;      /* --data DIR, default NULL: $FASHION_MNIST_DIR, then data/fashion-mnist */
    long limit;                /* --limit N, default 0: all samples */
    int epochs;                /* --epochs N; each program sets its own default */
    int quiet;                 /* --quiet */
    int no_plot;               /* --no-plot */
    int epochs_seen, limit_seen, seed_seen;
} common_options;

/* Which of the shared options beyond --out, --seed, --quiet, --no-plot and --help a program takes
 * (program_info.uses); the others are refused with a message saying the program does not use them. */
enum {
    CLI_USES_DATA = 1,         /* --data DIR, --limit N: it reads Fashion-MNIST */
    CLI_TRAINS = 2             /* --epochs N, --plain: it trains models */
};

typedef struct {
    const char *name;          /* "week05-task2-kl" */
    const char *summary;       /* one line: what the program shows */
    const char *usage_extra;   /* optional paragraph after the option list (examples), or NULL */
    int uses;                  /* CLI_USES_DATA | CLI_TRAINS, or 0 */
} program_info;

/* The shared defaults: out/<name>, seed 42, no data dir, no limit, epochs as given. */
common_options common_defaults(const char *program_name, int default_epochs);

/* Parses argv. AE_OK; CLI_HELP after printing help to stdout; AE_EINVAL with a
 * message naming the option and what was wrong (unknown option, missing value, not a
 * number, NaN, out of range, not one of the choices, a stray argument). */
int cli_parse(int argc, char **argv, const program_info *prog,
              cli_option *options, int n_options, common_options *common);
/* Writes the help text: summary, usage, every option with its default. */
void cli_print_help(FILE *out, const program_info *prog,
                    const cli_option *options, int n_options, const common_options *common);
/* 1 when the option of that name was given on the command line. */
int cli_seen(const cli_option *options, int n_options, const char *name);
/* The threads a program that trains runs on: *threads as given, or 1 under --plain (the plain code
 * runs on one thread); AE_EINVAL when --plain comes with --threads above 1 (threads_seen). */
int cli_threads(const common_options *common, int *threads, int threads_seen);
/* Prints "NAME: <message>\nTry 'NAME --help' for the list of options.\n" to stderr; returns CLI_EXIT_USAGE.
 * When a check reached a function the student edition leaves to write, it says that instead and
 * returns CLI_EXIT_NOT_IMPLEMENTED. */
int cli_fail(const program_info *prog);

/* Loads Fashion-MNIST for a program: finds it (--data, $FASHION_MNIST_DIR, data/fashion-mnist,
 * then the bundled sample; see fashion_mnist_locate), reads --limit images of each split and
 * prints "Data: DIR: N training and M test images" on stdout. Falling back to the sample is
 * announced on stderr, with what to do for the full data, because its numbers are not the
 * experiment's. On an error, the code and message of fashion_mnist_locate or _load. */
int cli_load_fashion_mnist(fashion_mnist *fm, const common_options *common, const char *program);

/* Strict number parsing shared with programs' own list options: the whole string must be
 * a finite number. AE_EINVAL (message names `what`) otherwise. */
int parse_double(const char *text, const char *what, double *value);
int parse_long(const char *text, const char *what, long *value);
/* "0.3,-1.2" → values[0..*n); AE_EINVAL for an empty list, an empty item, a non-number,
 * or more than max items. */
int parse_double_list(const char *text, const char *what, double *values, int max, int *n);

#endif
