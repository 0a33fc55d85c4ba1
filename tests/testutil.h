/* testutil.h: what several suites need: finite-difference gradient checks,
 * random test data, the sample data folder, and running a program. */
#ifndef AE_TESTUTIL_H
#define AE_TESTUTIL_H

#include <stddef.h>
#include <check.h>
#include <gsl/gsl_rng.h>

#include "layers.h"
#include "model.h"
#include "io/data.h"
#include "io/results.h"

/* A scalar function of some float array the caller perturbs in place. */
typedef double (*scalar_fn)(void *ctx);

/* Compares an analytic gradient with central differences.
 * For each checked i: numeric = (f(x_i + h) − f(x_i − h)) / 2h, with x restored after.
 * Checks every index when n <= max_checks, else max_checks indices spread over x.
 * Returns the largest |analytic − numeric| / max(1, |analytic|, |numeric|) and puts its index
 * in *worst (may be NULL). f should be computed in double; with float32 data h = 1e-2..1e-3. */
double gradcheck(scalar_fn f, void *ctx, float *x, const float *analytic, size_t n,
                 double h, size_t max_checks, size_t *worst);

/* Fills x (n) with U(lo, hi) from rng. */
void fill_uniform(float *x, size_t n, double lo, double hi, gsl_rng *rng);
/* Σ a_i·b_i in double. */
double dot_f(const float *a, const float *b, size_t n);
/* max_i |a_i − b_i| */
double max_abs_diff(const float *a, const float *b, size_t n);

/* A random convolution geometry (layers.h) for a conv2d, or a conv2d_transpose when transposed:
 * C, OC 1..5, H, W 1..13, K 1..5, stride 1..3, any padding, *batch 1..5; AE_OK when it has an output. */
int test_random_conv_geom(conv_geom *g, int *batch, int transposed, gsl_rng *rng);

/* A fresh generator with a fixed seed (free with gsl_rng_free). */
gsl_rng *test_rng(unsigned long seed);

/* The repository's sample data folder (data/sample). */
const char *sample_data_dir(void);
/* A new empty folder for a test's files, in $TMPDIR or /tmp; removed with all it holds when the
 * test's process exits with status 0 (a passing test), kept when the test fails. */
const char *test_tmpdir(void);
/* The same, NULL with errno set when the folder cannot be made (test_tmpdir fails the test then). */
const char *test_tmpdir_try(void);

/* A test case named name, added to suite s; timeout in seconds, 0 for Check's default. */
TCase *test_case(Suite *s, const char *name, int timeout);
/* Adds the tests (START_TEST names, in this order) to tc and returns tc:
 *     test_add(test_case(s, "Core", 0), loads_raw_images, loads_labels);
 * The list is a local array made at run time: Check's test names are pointer variables. */
#define test_add(tc, ...) test_add_list((tc), (const TTest *const[]){ __VA_ARGS__, NULL })
TCase *test_add_list(TCase *tc, const TTest *const *tests);

/* Runs bin/<program> with args (NULL-terminated), stdout and stderr to the file
 * `log` (may be NULL for /dev/null); returns its exit status, or −1 if it could not run
 * or died from a signal. */
int run_program(const char *program, const char *const *args, const char *log);
/* Runs file (found on PATH) with the arguments before[] then args[] (each NULL-terminated, argv[0]
 * first), the environment changed by env ("NAME=VALUE" sets, "NAME=" unsets; may be NULL), stdout and
 * stderr to log (NULL: /dev/null); its exit status, or −1. */
int run_command(const char *file, const char *const *before, const char *const *args, const char *const *env,
                const char *log);

/* The whole file as a string (free it), or NULL when it cannot be read. */
char *test_read_text(const char *path);
/* A test fails unless the file at path holds `needle` (it names the file and shows its text). */
void test_file_says(const char *path, const char *needle);
/* Writes text to path (a test fails when it cannot). */
void test_write_text(const char *path, const char *text);
/* The bundled sample into *fm, at most limit images per split (0: all); a test fails when it
 * cannot be read. Free with fashion_mnist_free. */
void test_load_sample(fashion_mnist *fm, size_t limit);
/* Runs bin/<program> with args (NULL-terminated, at most 60) and "--out DIR", DIR a new folder
 * test_tmpdir()/out into dir (len bytes), its output in DIR.log; a test fails unless it exits 0. */
void test_run_into(char *dir, size_t len, const char *program, const char *const *args);
/* DIR/results.tsv as written by a program (a test fails when it cannot be read); results_free it. */
results *test_results(const char *dir);
/* The number under key in r, "inf" and "nan" too (a test fails when r has no such key). */
double test_result(const results *r, const char *key);
/* 1 when DIR/NAME exists. */
int test_file_in(const char *dir, const char *name);
/* Keeps the environment variable `name` (set or not) and the current folder, for a test that
 * changes them; test_env_restore puts both back. One at a time. */
void test_env_save(const char *name);
void test_env_restore(void);
/* Model B of Task 4 (the convolutional autoencoder): two strided 'same' convolutions down, two
 * transposed ones up, a sigmoid convolution out; 1x28x28 images, not yet built. */
model *test_model_b(void);

#endif
