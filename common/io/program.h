/* program.h: what every exercise program does around its exercise: its output folder, its
 * results, its figures, its headings and timings, its training histories.
 *
 *     program_run run;
 *     int rc = program_begin(&run, &info, &common);          // --out made and found writable
 *     program_heading("Part (a): ...");
 *     ... compute, then:
 *     program_result(&run, kl, "kl_p1_p2");                   // results.tsv, in order
 *     program_render(&run, "kl_sweep");                      // NAME.gp → NAME.png unless --no-plot
 *     return program_end(&run, rc);                          // results.tsv written, the closing line,
 *                                                            // or the error on stderr; the exit status
 *
 * Library code never prints for its caller (common/README.md): this module is the one place
 * where a program's outcome becomes text, files and an exit status.
 */
#ifndef AE_IO_PROGRAM_H
#define AE_IO_PROGRAM_H

#include <stddef.h>
#include <stdio.h>

#include "io/cli.h"
#include "io/fileio.h"
#include "io/results.h"
#include "train.h"

#define PROGRAM_MAX_PARTS 64

/* A part of the run that did not complete (program_part). */
typedef struct {
    char name[64];               /* "part (a)", "model B", "3. the mistakes" */
    int skipped;                 /* 1: it needed a function not written yet; 0: it failed */
    char reason[512];
} program_part_outcome;

typedef struct {
    const program_info *info;
    const common_options *common;
    const char *out_dir;         /* common->out_dir */
    results *res;                /* what results.tsv will hold */
    int figures;                 /* figures written (program_render counts them) */
    double started;              /* program_seconds() at program_begin */
    int made_dir;                /* 1: program_begin made out_dir (removed again if the run fails before filling it) */
    int part_mark;               /* the results recorded before the current part began */
    int parts_done;              /* parts that completed */
    int n_incomplete;            /* parts skipped or failed, each in incomplete[] */
    program_part_outcome incomplete[PROGRAM_MAX_PARTS];
    int lock_fd;                 /* out_dir/.run.lock, held while the run lasts; -1 when none */
} program_run;

/* Allocates the results, makes the --out folder and checks that a file can be created in it, so
 * that an unwritable folder stops the program before any work. AE_ENOMEM, AE_EIO (naming the folder).
 * Call program_end whatever it returns. */
int program_begin(program_run *run, const program_info *info, const common_options *common);
/* The end of a run. It writes results.tsv when the run went well (rc AE_OK), also when some of
 * its parts were skipped or failed (what the others computed is kept), lists those parts and why
 * on stderr, and prints "Wrote DIR/: results.tsv and N figures." or "NAME: message" on stderr.
 * Frees the run. Returns the exit status: 0 when every part ran; 3 when parts were skipped because
 * a function is not written yet (the student edition) and none failed; 1 for any error. */
int program_end(program_run *run, int rc);

/* One part of the program (a part of the sheet, a model, a step), so that one part's trouble
 * costs only what needs it. Call it with the part's status right after the part:
 *
 *     rc = program_part(&run, "part (a)", kl_part_a(&run, p1, p2));
 *
 * The part completed when its status is AE_OK and it reached no stub of the student edition; it
 * was skipped when it reached one (not_implemented_seen(), whatever status that led to); else it
 * failed. A skipped or failed part is said on stderr with its reason, skipped_<part> or
 * failed_<part> is recorded with the reason, and the run goes on: program_part returns AE_OK. A
 * skipped part's results are dropped (what a stub leaves is no result); a failed part's stay, for
 * whoever looks for the cause. Only what no later part can get past (out of
 * memory, a file that cannot be written, bad input) is returned, to end the run. A part's results
 * are those recorded since the previous program_part (or program_record_setup). */
int program_part(program_run *run, const char *name, int rc);
/* 1 when the part of that name completed. */
int program_part_done(const program_run *run, const char *name);
/* For a part that needs an earlier one: AE_OK when `needed` completed; else AE_ENOTIMPL when it was
 * skipped (so this part is skipped too), AE_ESTATE when it failed, saying which part and why. */
int program_needs(const program_run *run, const char *needed);
/* The status of `call` when the part `needed` completed (call is made only then), else program_needs's:
 *     rc = program_part(&run, "2. the mistake", PROGRAM_AFTER(&run, "1. the samples", mistake(&s)));  */
#define PROGRAM_AFTER(run, needed, call) (program_needs((run), (needed)) == AE_OK ? (call) : error_code())

/* The seed, the engine (plain or fast), the threads and the data in results.tsv, the setup of every run. */
int program_record_setup(program_run *run, int threads, const char *data_dir, int data_is_sample);

/* A result under a printf-formatted key: program_result(&run, r->val_mse, "model_%s_val_mse", name).
 * AE_EINVAL for a key that is too long or not [A-Za-z0-9_.-]+. */
int program_result(program_run *run, double value, const char *key_format, ...)
    __attribute__((format(printf, 3, 4)));
int program_result_int(program_run *run, long value, const char *key_format, ...)
    __attribute__((format(printf, 3, 4)));
int program_result_text(program_run *run, const char *value, const char *key_format, ...)
    __attribute__((format(printf, 3, 4)));
/* A table of results: each value under the key PREFIX_NAME, in order; AE_OK, or the first error.
 *     const program_value values[] = { { "mean", mean }, { "sd", sd } };
 *     program_results(&run, "kind_sparse", values, sizeof values / sizeof values[0]); */
typedef struct {
    const char *name;
    double value;
} program_value;
int program_results(program_run *run, const char *prefix, const program_value *values, size_t n);

/* path = out_dir/NAME with a printf-formatted name; AE_EINVAL when it does not fit. */
int program_path(const program_run *run, char *path, size_t len, const char *name_format, ...)
    __attribute__((format(printf, 4, 5)));
/* Opens out_dir/NAME for writing whole or not at all (io/fileio.h): write through af->fp, then
 * atomic_commit or atomic_abort. */
int program_open_file(const program_run *run, atomic_file *af, const char *name);
/* Renders out_dir/NAME.gp to NAME.png unless --no-plot (plot_render), and counts the figure. */
int program_render(program_run *run, const char *name);

/* "\nText\n====\n" on stdout, one '=' per character. */
void program_heading(const char *text);
/* Seconds of a monotonic clock, for timings. */
double program_seconds(void);
/* Raises the last error again as "PREFIX: message" with another code: a bad value met while
 * computing becomes a bad option ("--layers: ..."). Returns code. */
int program_error_prefix(const char *prefix, int code);

/* ------------------------------------------------------------ histories
 * A training history beside its checkpoint, so that a later run can redraw the curves:
 *     # PROGRAM: TITLE
 *     # KEY VALUE                  one line per meta item (what made the history: spec, loss, ...)
 *     # epoch	train_loss	val_loss	seconds
 *     1	0.0312...	0.0287...	1.93...
 */
typedef struct {
    const char *key;             /* [a-z_]+ */
    char value[1100];            /* no newline */
} history_meta;

int history_write(const char *path, const char *title, const history_meta *meta, int n_meta,
                  const train_history *history, const char *program);
/* Reads a history back. Every meta item given must be in the file with the same value, or
 * AE_EFORMAT naming the first that differs, with both values; AE_ENOENT when the file is
 * missing, AE_EFORMAT for a line that is not the next epoch or a file with none. `hint`, a
 * sentence that says what to do, ends every message. */
int history_read(const char *path, const history_meta *meta, int n_meta, train_history *history,
                 const char *hint);

/* The VALUE of the line "# KEY VALUE" of a history file into value (len bytes); AE_ENOENT when the
 * file is missing, AE_EFORMAT when it has no such line. */
int history_meta_get(const char *path, const char *key, char *value, size_t len);

#endif
