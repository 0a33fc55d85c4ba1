/* test_train.c: the training loop: the loss goes down, the epoch loss is the batch-size-weighted
 * mean, shuffling is a deterministic permutation, NaN stops training cleanly, progress output. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/data.h"
#include "error.h"
#include "train.h"
#include "fast/fast.h"
#include "testutil.h"

/* Every test runs twice: with train_fit, the plain loop, and with its fast twin (fast/train_fast.c),
 * as the test case's name says ("Core" and "Core, fast"). */
static int fast_twin;
static void use_plain(void) { fast_twin = 0; }
static void use_fast(void) { fast_twin = 1; }
#define FIT (fast_twin ? fast_train_fit : train_fit)
#define EVALUATE (fast_twin ? fast_evaluate_loss : evaluate_loss)

/* ------------------------------------------------- a synthetic data set */

enum { SYN_COUNT = 64, SYN_FEATURES = 6, SYN_BATCH = 10, SYN_EPOCHS_MAX = 40 };

/* SYN_COUNT samples of SYN_FEATURES values in [0.05, 0.95] that lie near a 2-dimensional
 * subspace, so that an autoencoder with a bottleneck of 2 can learn them. It records which
 * samples each call asked for, and can poison one sample with NaN. */
typedef struct {
    float x[SYN_COUNT][SYN_FEATURES];
    long nan_sample;                           /* −1: none */
    size_t asked[SYN_EPOCHS_MAX * SYN_COUNT];  /* the indices of every fill, in order */
    size_t n_asked;
    int batch_sizes[SYN_EPOCHS_MAX * SYN_COUNT];
    int n_batches;
} synthetic;

static void synthetic_init(synthetic *s, gsl_rng *rng)
{
    memset(s, 0, sizeof *s);
    s->nan_sample = -1;
    for (int i = 0; i < SYN_COUNT; i++) {
        double a = gsl_rng_uniform(rng), b = gsl_rng_uniform(rng);
        for (int f = 0; f < SYN_FEATURES; f++) {
            double v = 0.5 + 0.4 * (a - 0.5) * cos(f) + 0.4 * (b - 0.5) * sin(2.0 * f) + 0.02 * gsl_rng_uniform(rng);
            s->x[i][f] = (float)v;
        }
    }
}

/* x = y = sample */
static int synthetic_fill(void *ctx, const size_t *index, int n, float *x, float *y)
{
    synthetic *s = ctx;
    if (s->n_batches < SYN_EPOCHS_MAX * SYN_COUNT) s->batch_sizes[s->n_batches++] = n;
    for (int i = 0; i < n; i++) {
        if (s->n_asked < SYN_EPOCHS_MAX * SYN_COUNT) s->asked[s->n_asked++] = index[i];
        memcpy(x + i * SYN_FEATURES, s->x[index[i]], sizeof s->x[0]);
        memcpy(y + i * SYN_FEATURES, s->x[index[i]], sizeof s->x[0]);
        if ((long)index[i] == s->nan_sample) x[i * SYN_FEATURES + 2] = NAN;
    }
    return AE_OK;
}

static batch_source synthetic_source(synthetic *s, size_t count)
{
    return (batch_source){count, SYN_FEATURES, SYN_FEATURES, synthetic_fill, s, NULL};
}

/* 6 → Dense(2, tanh) → Dense(6, sigmoid) */
static model *small_autoencoder(gsl_rng *rng)
{
    model *m = model_alloc(1, (int[]){SYN_FEATURES});
    ck_assert_int_eq(model_add(m, layer_dense(2, ACT_TANH)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(SYN_FEATURES, ACT_SIGMOID)), AE_OK);
    ck_assert_int_eq(model_build(m, SYN_BATCH, rng), AE_OK);
    return m;
}

/* What most tests start from: a generator, the synthetic data and its source, a small autoencoder. */
typedef struct {
    gsl_rng *rng;
    synthetic *s;
    batch_source src;
    model *m;
} fixture;

static fixture fixture_make(unsigned long seed)
{
    fixture f;
    f.rng = test_rng(seed);
    f.s = malloc(sizeof *f.s);
    ck_assert_ptr_nonnull(f.s);
    synthetic_init(f.s, f.rng);
    f.src = synthetic_source(f.s, SYN_COUNT);
    f.m = small_autoencoder(f.rng);
    return f;
}

static void fixture_free(fixture *f)
{
    model_free(f->m);
    free(f->s);
    gsl_rng_free(f->rng);
}

static train_config quiet_config(int epochs, int shuffle)
{
    return (train_config){epochs, SYN_BATCH, shuffle, NULL, PROGRESS_NONE, "test"};
}

/* ------------------------------------------------------------------ Core */

START_TEST(test_loss_goes_down_on_synthetic_data)
{
    fixture fx = fixture_make(1234);
    optimizer *opt = adam_alloc(fx.m->n_params, 0.02);
    train_config cfg = quiet_config(30, 1);
    train_history *h = malloc(sizeof *h);
    loss_spec bce = {LOSS_BCE, REDUCE_MEAN};
    ck_assert_int_eq(FIT(fx.m, opt, bce, &fx.src, &fx.src, &cfg, fx.rng, h), AE_OK);
    ck_assert_int_eq(h->epochs_run, 30);
    /* BCE cannot fall below the targets' own entropy −Σ [t ln t + (1−t) ln(1−t)]/n: compare the excess over it */
    double floor_loss = 0.0;
    for (int i = 0; i < SYN_COUNT; i++)
        for (int f = 0; f < SYN_FEATURES; f++) {
            double t = fx.s->x[i][f];
            floor_loss -= (t * log(t) + (1.0 - t) * log(1.0 - t)) / (SYN_COUNT * SYN_FEATURES);
        }
    double first = h->train_loss[0] - floor_loss, last = h->train_loss[29] - floor_loss;
    ck_assert_msg(last < 0.1 * first, "train loss %g → %g over a floor of %g", h->train_loss[0],
                  h->train_loss[29], floor_loss);
    ck_assert_msg(h->val_loss[29] - floor_loss < 0.1 * (h->val_loss[0] - floor_loss), "val loss %g → %g",
                  h->val_loss[0], h->val_loss[29]);
    for (int e = 0; e < 30; e++) ck_assert(h->seconds[e] >= 0.0 && h->seconds[e] < 5.0);
    ck_assert(isnan(h->val_loss[30]));   /* beyond the last epoch */

    /* the reported validation loss is what evaluate_loss says for the final model */
    double final;
    ck_assert_int_eq(EVALUATE(fx.m, bce, &fx.src, &final), AE_OK);
    ck_assert_double_eq_tol(final, h->val_loss[29], 1e-9);
    ck_assert_uint_eq(opt->step, 30 * 7);   /* 64 samples in batches of 10: 7 steps an epoch */

    free(h);
    optimizer_free(opt);
    fixture_free(&fx);
}
END_TEST

/* With a learning rate too small to move any parameter, the epoch's training loss must be
 * the mean over every sample: batch losses weighted by their sizes (six of 10, one of 4).
 * An unweighted mean of the seven batch losses would be a different number. */
START_TEST(test_epoch_loss_is_weighted_mean)
{
    fixture fx = fixture_make(77);
    optimizer *opt = sgd_alloc(fx.m->n_params, 1e-30, 0.0);
    train_config cfg = quiet_config(1, 0);
    train_history h;
    loss_spec mse = {LOSS_MSE, REDUCE_MEAN};
    ck_assert_int_eq(FIT(fx.m, opt, mse, &fx.src, NULL, &cfg, fx.rng, &h), AE_OK);
    ck_assert(isnan(h.val_loss[0]));   /* no validation set */
    double whole;
    ck_assert_int_eq(EVALUATE(fx.m, mse, &fx.src, &whole), AE_OK);
    ck_assert_double_eq_tol(h.train_loss[0], whole, 1e-7 * whole);

    /* the batches were 10, 10, 10, 10, 10, 10, 4 and, unshuffled, in order */
    ck_assert_int_eq(fx.s->batch_sizes[0], 10);
    ck_assert_int_eq(fx.s->batch_sizes[6], 4);
    for (size_t i = 0; i < SYN_COUNT; i++) ck_assert_uint_eq(fx.s->asked[i], i);

    /* the unweighted mean of the batch losses differs, so the test can tell them apart */
    double unweighted = 0.0;
    for (int b = 0; b < 7; b++) {
        int n = b < 6 ? 10 : 4;
        float x[10 * SYN_FEATURES], y[10 * SYN_FEATURES];
        size_t index[10];
        for (int k = 0; k < n; k++) index[k] = (size_t)(b * 10 + k);
        synthetic_fill(fx.s, index, n, x, y);
        const float *pred;
        model_forward(fx.m, x, n, &pred);
        double batch_loss;
        loss_compute(mse, &batch_loss, NULL, pred, y, (size_t)n * SYN_FEATURES);
        unweighted += batch_loss / 7.0;
    }
    ck_assert_double_gt(fabs(unweighted - whole), 1e-4 * whole);

    optimizer_free(opt);
    fixture_free(&fx);
}
END_TEST

/* The prefetch hook: before each step, train_fit names the samples of the step after it, the
 * very indices that the next fill asks for, and nothing after an epoch's last batch. */
typedef struct {
    size_t hinted[SYN_EPOCHS_MAX * SYN_COUNT];
    size_t n_hinted;
    int calls;
} hints;

static synthetic *hinted_data;   /* the source whose fills the hints are compared with */
static hints *hint_log;

static void record_prefetch(void *ctx, const size_t *index, int n)
{
    ck_assert_ptr_eq(ctx, hinted_data);
    hint_log->calls++;
    for (int i = 0; i < n; i++) hint_log->hinted[hint_log->n_hinted++] = index[i];
}

START_TEST(test_prefetch_names_the_next_batch)
{
    gsl_rng *rng = test_rng(4242);
    synthetic *s = malloc(sizeof *s);
    hints *h = calloc(1, sizeof *h);
    synthetic_init(s, rng);
    hinted_data = s;
    hint_log = h;
    batch_source src = synthetic_source(s, SYN_COUNT);
    src.prefetch = record_prefetch;
    model *m = small_autoencoder(rng);
    optimizer *opt = adam_alloc(m->n_params, 0.01);
    train_config cfg = quiet_config(3, 1);
    ck_assert_int_eq(FIT(m, opt, (loss_spec){LOSS_MSE, REDUCE_MEAN}, &src, NULL, &cfg, rng, NULL), AE_OK);

    /* 7 batches an epoch (six of 10, one of 4): 6 hints an epoch, for batches 2..7 */
    ck_assert_int_eq(h->calls, 3 * 6);
    ck_assert_uint_eq(h->n_hinted, 3 * (SYN_COUNT - SYN_BATCH));
    ck_assert_uint_eq(s->n_asked, 3 * SYN_COUNT);
    for (int e = 0; e < 3; e++)
        for (int k = 0; k < SYN_COUNT - SYN_BATCH; k++)
            ck_assert_uint_eq(h->hinted[(size_t)e * (SYN_COUNT - SYN_BATCH) + k],
                              s->asked[(size_t)e * SYN_COUNT + SYN_BATCH + k]);

    optimizer_free(opt);
    model_free(m);
    free(h);
    free(s);
    gsl_rng_free(rng);
}
END_TEST

/* Shuffling each epoch: every sample exactly once per epoch, a different order each epoch. */
START_TEST(test_every_epoch_is_a_permutation)
{
    fixture fx = fixture_make(99);
    optimizer *opt = adam_alloc(fx.m->n_params, 1e-3);
    train_config cfg = quiet_config(3, 1);
    loss_spec mse = {LOSS_MSE, REDUCE_MEAN};
    ck_assert_int_eq(FIT(fx.m, opt, mse, &fx.src, NULL, &cfg, fx.rng, NULL), AE_OK);
    ck_assert_uint_eq(fx.s->n_asked, 3 * SYN_COUNT);
    for (int e = 0; e < 3; e++) {
        int count[SYN_COUNT] = {0};
        for (int i = 0; i < SYN_COUNT; i++) count[fx.s->asked[e * SYN_COUNT + i]]++;
        for (int i = 0; i < SYN_COUNT; i++) ck_assert_int_eq(count[i], 1);
    }
    ck_assert_int_ne(memcmp(fx.s->asked, fx.s->asked + SYN_COUNT, SYN_COUNT * sizeof(size_t)), 0);
    optimizer_free(opt);
    fixture_free(&fx);
}
END_TEST

START_TEST(test_shuffle_indices)
{
    enum { N = 1000 };
    size_t *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    for (size_t i = 0; i < N; i++) a[i] = b[i] = i;
    gsl_rng *r1 = test_rng(42), *r2 = test_rng(42);
    shuffle_indices(a, N, r1);
    shuffle_indices(b, N, r2);
    ck_assert_int_eq(memcmp(a, b, N * sizeof *a), 0);   /* same seed, same order */
    int *count = calloc(N, sizeof *count);
    size_t fixed = 0;
    for (size_t i = 0; i < N; i++) {
        count[a[i]]++;
        fixed += a[i] == i;
    }
    for (size_t i = 0; i < N; i++) ck_assert_int_eq(count[i], 1);   /* a permutation */
    ck_assert_uint_lt(fixed, 10);   /* about one fixed point expected from a uniform shuffle */

    for (size_t i = 0; i < N; i++) b[i] = i;
    gsl_rng *r3 = test_rng(43);
    shuffle_indices(b, N, r3);
    ck_assert_int_ne(memcmp(a, b, N * sizeof *a), 0);   /* another seed, another order */

    /* uniform over the 6 orders of 3 items: 6000 shuffles, each order 1000 ± 5σ (σ ≈ 29) */
    int seen[6] = {0};
    for (int k = 0; k < 6000; k++) {
        size_t o[3] = {0, 1, 2};
        shuffle_indices(o, 3, r3);
        seen[o[0] * 2 + (o[1] > o[2])]++;
    }
    for (int k = 0; k < 6; k++) {
        ck_assert_int_gt(seen[k], 855);
        ck_assert_int_lt(seen[k], 1145);
    }
    shuffle_indices(a, 0, r3);   /* empty and single arrays are fine */
    shuffle_indices(a, 1, r3);

    free(count);
    free(a);
    free(b);
    gsl_rng_free(r1);
    gsl_rng_free(r2);
    gsl_rng_free(r3);
}
END_TEST

/* -------------------------------------------------------------- Progress */

static char *progress_of(progress_style style, int with_val)
{
    fixture fx = fixture_make(5);
    optimizer *opt = adam_alloc(fx.m->n_params, 1e-3);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    train_config cfg = {3, SYN_BATCH, 1, out, style, "model T"};
    ck_assert_int_eq(FIT(fx.m, opt, (loss_spec){LOSS_MSE, REDUCE_MEAN}, &fx.src, with_val ? &fx.src : NULL, &cfg,
                               fx.rng, NULL), AE_OK);
    fclose(out);
    optimizer_free(opt);
    fixture_free(&fx);
    return text;
}

static int count_char(const char *text, char c)
{
    int n = 0;
    for (; *text; text++) n += *text == c;
    return n;
}

START_TEST(test_progress_lines)
{
    char *text = progress_of(PROGRESS_LINES, 1);
    ck_assert_int_eq(count_char(text, '\n'), 3);
    ck_assert_int_eq(count_char(text, '\r'), 0);
    ck_assert_ptr_nonnull(strstr(text, "model T  epoch 1/3  loss 0."));
    ck_assert_ptr_nonnull(strstr(text, "model T  epoch 3/3  loss "));
    ck_assert_ptr_nonnull(strstr(text, "  val_loss 0."));
    ck_assert_ptr_nonnull(strstr(text, " s\n"));
    free(text);
    text = progress_of(PROGRESS_LINES, 0);
    ck_assert_ptr_null(strstr(text, "val_loss"));
    free(text);
}
END_TEST

START_TEST(test_progress_bar_and_none)
{
    char *text = progress_of(PROGRESS_BAR, 1);
    ck_assert_int_eq(count_char(text, '\n'), 3);
    ck_assert_int_ge(count_char(text, '\r'), 3);
    ck_assert_ptr_nonnull(strstr(text, "\rmodel T  epoch 2/3 ["));
    ck_assert_ptr_nonnull(strstr(text, "==============================] 7/7 loss 0."));   /* a full bar */
    ck_assert_ptr_nonnull(strstr(text, "val_loss"));
    free(text);
    text = progress_of(PROGRESS_NONE, 1);
    ck_assert_str_eq(text, "");
    free(text);

    ck_assert_int_eq(progress_style_for(stderr, 1), PROGRESS_NONE);
    FILE *file = tmpfile();
    ck_assert_int_eq(progress_style_for(file, 0), PROGRESS_LINES);   /* not a terminal */
    fclose(file);
}
END_TEST

/* ------------------------------------------------------------ Sample data */

/* A small dense autoencoder on 300 images of the sample: 3 epochs lower both losses. */
START_TEST(test_sample_data_training)
{
    fashion_mnist fm;
    test_load_sample(&fm, 300);
    image_source_ctx train_ctx = { .images = &fm.train.images };
    image_source_ctx test_ctx = { .images = &fm.test.images };
    batch_source train = image_batch_source(&train_ctx), test = image_batch_source(&test_ctx);
    ck_assert_uint_eq(train.count, 300);

    gsl_rng *rng = test_rng(2025);
    model *m = model_alloc(3, (int[]){1, 28, 28});
    model_add(m, layer_flatten());
    model_add(m, layer_dense(32, ACT_RELU));
    model_add(m, layer_dense(784, ACT_SIGMOID));
    model_add(m, layer_reshape(3, (int[]){1, 28, 28}));
    ck_assert_int_eq(model_build(m, 32, rng), AE_OK);
    optimizer *opt = adam_alloc(m->n_params, 1e-3);
    train_config cfg = {3, 32, 1, NULL, PROGRESS_NONE, "sample"};
    train_history h;
    ck_assert_int_eq(FIT(m, opt, (loss_spec){LOSS_MSE, REDUCE_MEAN}, &train, &test, &cfg, rng, &h), AE_OK);
    ck_assert_int_eq(h.epochs_run, 3);
    ck_assert_msg(h.train_loss[2] < 0.9 * h.train_loss[0], "train loss %g → %g", h.train_loss[0], h.train_loss[2]);
    ck_assert_msg(h.val_loss[2] < 0.9 * h.val_loss[0], "val loss %g → %g", h.val_loss[0], h.val_loss[2]);
    optimizer_free(opt);
    model_free(m);
    gsl_rng_free(rng);
    fashion_mnist_free(&fm);
}
END_TEST

/* --------------------------------------------------------------- Limits */

static int params_finite(const model *m)
{
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i])) return 0;
    return 1;
}

/* A NaN in sample 37 (batch 4 without shuffling) stops training there; the model then holds
 * exactly the parameters after batch 3, the same as training on the first 30 samples only. */
START_TEST(test_nan_input_stops_training)
{
    gsl_rng *rng = test_rng(31);
    synthetic *s = malloc(sizeof *s);
    synthetic_init(s, rng);
    gsl_rng_set(rng, 500);
    model *poisoned = small_autoencoder(rng);
    gsl_rng_set(rng, 500);
    model *clean = small_autoencoder(rng);
    ck_assert_int_eq(memcmp(poisoned->params, clean->params, clean->n_params * sizeof(float)), 0);

    optimizer *opt1 = adam_alloc(poisoned->n_params, 0.01), *opt2 = adam_alloc(clean->n_params, 0.01);
    train_config cfg = quiet_config(2, 0);
    train_history h;
    loss_spec mse = {LOSS_MSE, REDUCE_MEAN};
    s->nan_sample = 37;
    batch_source src = synthetic_source(s, SYN_COUNT);
    error_clear();
    ck_assert_int_eq(FIT(poisoned, opt1, mse, &src, NULL, &cfg, rng, &h), AE_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(error_message(), "epoch 1, batch 4 of 7"));
    ck_assert_int_eq(h.epochs_run, 0);
    ck_assert_int_eq(opt1->step, 3);

    s->nan_sample = -1;
    batch_source first30 = synthetic_source(s, 30);
    cfg.epochs = 1;
    ck_assert_int_eq(FIT(clean, opt2, mse, &first30, NULL, &cfg, rng, NULL), AE_OK);
    ck_assert_int_eq(memcmp(poisoned->params, clean->params, clean->n_params * sizeof(float)), 0);

    optimizer_free(opt1);
    optimizer_free(opt2);
    model_free(poisoned);
    model_free(clean);
    free(s);
    gsl_rng_free(rng);
}
END_TEST

/* A learning rate of 1e30 blows a linear model up within a few steps: AE_ENUMERIC, finite parameters kept. */
START_TEST(test_huge_learning_rate_stops_training)
{
    gsl_rng *rng = test_rng(8);
    synthetic *s = malloc(sizeof *s);
    synthetic_init(s, rng);
    batch_source src = synthetic_source(s, SYN_COUNT);
    model *m = model_alloc(1, (int[]){SYN_FEATURES});
    model_add(m, layer_dense(8, ACT_NONE));
    model_add(m, layer_dense(SYN_FEATURES, ACT_NONE));
    ck_assert_int_eq(model_build(m, SYN_BATCH, rng), AE_OK);
    optimizer *opt = sgd_alloc(m->n_params, 1e30, 0.0);
    train_config cfg = quiet_config(5, 1);
    train_history h;
    error_clear();
    ck_assert_int_eq(FIT(m, opt, (loss_spec){LOSS_MSE, REDUCE_MEAN}, &src, &src, &cfg, rng, &h),
                     AE_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(error_message(), "epoch 1, batch"));
    ck_assert(params_finite(m));
    optimizer_free(opt);
    model_free(m);
    free(s);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_train_refuses_bad_setup)
{
    fixture fx = fixture_make(3);
    optimizer *opt = adam_alloc(fx.m->n_params, 1e-3), *wrong = adam_alloc(fx.m->n_params + 1, 1e-3);
    loss_spec mse = {LOSS_MSE, REDUCE_MEAN};
    train_config cfg = quiet_config(1, 1);

    cfg.batch_size = SYN_BATCH + 1;   /* larger than the model was built for */
    ck_assert_int_eq(FIT(fx.m, opt, mse, &fx.src, NULL, &cfg, fx.rng, NULL), AE_ESTATE);
    cfg.batch_size = 0;
    ck_assert_int_eq(FIT(fx.m, opt, mse, &fx.src, NULL, &cfg, fx.rng, NULL), AE_EINVAL);
    cfg = quiet_config(0, 1);
    ck_assert_int_eq(FIT(fx.m, opt, mse, &fx.src, NULL, &cfg, fx.rng, NULL), AE_EINVAL);
    cfg = quiet_config(TRAIN_MAX_EPOCHS + 1, 1);
    ck_assert_int_eq(FIT(fx.m, opt, mse, &fx.src, NULL, &cfg, fx.rng, NULL), AE_EINVAL);
    cfg = quiet_config(1, 1);
    ck_assert_int_eq(FIT(fx.m, wrong, mse, &fx.src, NULL, &cfg, fx.rng, NULL), AE_EBADLEN);
    batch_source narrow = fx.src;
    narrow.x_size = 5;
    ck_assert_int_eq(FIT(fx.m, opt, mse, &narrow, NULL, &cfg, fx.rng, NULL), AE_EBADLEN);
    ck_assert_int_eq(FIT(fx.m, opt, mse, &fx.src, &narrow, &cfg, fx.rng, NULL), AE_EBADLEN);
    ck_assert_int_eq(EVALUATE(fx.m, mse, &narrow, &(double){0}), AE_EBADLEN);
    batch_source empty = fx.src;
    empty.count = 0;
    ck_assert_int_eq(FIT(fx.m, opt, mse, &empty, NULL, &cfg, fx.rng, NULL), AE_EINVAL);
    ck_assert_int_eq(opt->step, 0);   /* nothing ran */

    optimizer_free(opt);
    optimizer_free(wrong);
    model_free(fx.m);
    free(fx.s);
    gsl_rng_free(fx.rng);
}
END_TEST

/* A test case of the given name with the given tests, once for each twin. */
static void add_twice(Suite *s, const char *name, int timeout, const TTest *const *tests, int n)
{
    static char labels[16][64];   /* Check keeps the pointer: the names outlive the suite */
    static int used = 0;
    for (int fast = 0; fast < 2; fast++) {
        char *label = labels[used++ % 16];
        snprintf(label, sizeof labels[0], "%s%s", name, fast ? ", fast" : "");
        TCase *tc = test_case(s, label, timeout);
        tcase_add_checked_fixture(tc, fast ? use_fast : use_plain, NULL);
        for (int k = 0; k < n; k++) tcase_add_test(tc, tests[k]);
    }
}

Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    const TTest *core[] = { test_loss_goes_down_on_synthetic_data, test_epoch_loss_is_weighted_mean,
                            test_every_epoch_is_a_permutation, test_shuffle_indices };
    add_twice(s, "Core", 0, core, 4);
    TCase *fast_only = test_case(s, "Fast", 0); /* the prefetch hook: only the fast twin asks for it */
    tcase_add_checked_fixture(fast_only, use_fast, NULL);
    tcase_add_test(fast_only, test_prefetch_names_the_next_batch);
    const TTest *progress[] = { test_progress_lines, test_progress_bar_and_none };
    add_twice(s, "Progress", 0, progress, 2);
    const TTest *sample[] = { test_sample_data_training };
    add_twice(s, "Sample", 30, sample, 1);
    const TTest *limits[] = { test_nan_input_stops_training, test_huge_learning_rate_stops_training,
                              test_train_refuses_bad_setup };
    add_twice(s, "Limits", 0, limits, 3);
    return s;
}
