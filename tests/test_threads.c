/* test_threads.c: a batch split over threads. The pool runs every lane once per task and
 * shows the caller what the lanes wrote; a model on 2 or 3 threads computes what it computes
 * on one (the forward pass bit for bit on the AVX-512 path, the gradients to float rounding);
 * training on threads repeats itself exactly for the same seed, and stops cleanly on errors (and
 * when the threads' blocks find no memory). */
#include <check.h>
#include <sys/resource.h>
#include <time.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fast/cpu.h"
#include "fast/elastic.h"
#include "io/data.h"
#include "error.h"
#include "model.h"
#include "fast/fast.h"
#include "fast/threads.h"
#include "train.h"
#include "vae.h"
#include "testutil.h"

/* ------------------------------------------------------------------ pool */

typedef struct {
    atomic_int runs[8];         /* how often each lane ran */
    int lanes_seen[8];
    long written[8];            /* plain writes, read by the caller after pool_run */
    long round;
} pool_probe;

static void probe_task(void *ctx, int lane, int lanes)
{
    pool_probe *p = ctx;
    atomic_fetch_add(&p->runs[lane], 1);
    p->lanes_seen[lane] = lanes;
    p->written[lane] = p->round * 10 + lane;
}

START_TEST(test_pool_runs_every_lane_once)
{
    for (int threads = 1; threads <= 3; threads++) {
        pool *workers = pool_alloc(threads);
        ck_assert_ptr_nonnull(workers);
        ck_assert_int_eq(pool_threads(workers), threads);
        pool_probe probe;
        memset(&probe, 0, sizeof probe);
        for (long round = 1; round <= 300; round++) {
            probe.round = round;
            pool_run(workers, probe_task, &probe);
            for (int lane = 0; lane < threads; lane++)   /* visible as soon as pool_run returns */
                ck_assert_int_eq(probe.written[lane], round * 10 + lane);
        }
        for (int lane = 0; lane < threads; lane++) {
            ck_assert_int_eq(atomic_load(&probe.runs[lane]), 300);
            ck_assert_int_eq(probe.lanes_seen[lane], threads);
        }
        ck_assert_int_eq(atomic_load(&probe.runs[threads]), 0);
        pool_free(workers);
    }
    /* no pool: the task runs here as lane 0 of 1 */
    pool_probe probe;
    memset(&probe, 0, sizeof probe);
    pool_run(NULL, probe_task, &probe);
    ck_assert_int_eq(atomic_load(&probe.runs[0]), 1);
    ck_assert_int_eq(probe.lanes_seen[0], 1);
    pool_free(NULL);
}
END_TEST

/* pool_barrier: in every round each lane writes its slot, waits at the barrier, then reads
 * every lane's slot of that round. Two buffers alternate, so a lane that ran ahead into the
 * next round would overwrite nothing a slower lane still reads, unless the barrier let it
 * pass too early; one lane in turn dawdles before writing, so an early pass would be seen. */
typedef struct {
    pool *workers;
    long slot[2][8];
    long wrong[8];              /* per lane: slots that did not hold their round's value */
    int rounds;
} barrier_probe;

static void barrier_task(void *ctx, int lane, int lanes)
{
    barrier_probe *b = ctx;
    for (int r = 0; r < b->rounds; r++) {
        if (r % lanes == lane) {
            volatile double dawdle = 0.0;
            for (int i = 0; i < 3000; i++) dawdle += i;
        }
        b->slot[r % 2][lane] = 100L * r + lane;
        pool_barrier(b->workers);
        for (int k = 0; k < lanes; k++) b->wrong[lane] += b->slot[r % 2][k] != 100L * r + k;
    }
}

START_TEST(test_pool_barrier_holds_every_lane)
{
    for (int threads = 1; threads <= 3; threads++) {
        barrier_probe *b = calloc(1, sizeof *b);
        ck_assert_ptr_nonnull(b);
        b->workers = pool_alloc(threads);
        ck_assert_ptr_nonnull(b->workers);
        b->rounds = 2000;
        pool_run(b->workers, barrier_task, b);
        pool_run(b->workers, barrier_task, b);   /* and again: the barrier's count starts afresh */
        for (int lane = 0; lane < threads; lane++)
            ck_assert_msg(b->wrong[lane] == 0, "%d threads: lane %d read %ld slots of another round",
                          threads, lane, b->wrong[lane]);
        pool_free(b->workers);
        free(b);
    }
}
END_TEST

/* The spin budget: doubled by a wait that ended while spinning or after a short sleep (the
 * partner was running), quartered by a long sleep (it had no processor), within its bounds. */
START_TEST(test_pool_spin_budget_adapts)
{
    ck_assert_int_eq(pool_spins_after(1000, 0.0), 2000);
    ck_assert_int_eq(pool_spins_after(POOL_SPINS, 0.0), POOL_SPINS);
    ck_assert_int_eq(pool_spins_after(POOL_MIN_SPINS, 0.5 * POOL_LONG_SLEEP), 2 * POOL_MIN_SPINS);
    ck_assert_int_eq(pool_spins_after(POOL_SPINS, POOL_LONG_SLEEP), POOL_SPINS / 4);
    ck_assert_int_eq(pool_spins_after(POOL_MIN_SPINS, 0.01), POOL_MIN_SPINS);
    int spins = POOL_SPINS;                          /* short sleeps never wear it down */
    for (int i = 0; i < 10; i++) spins = pool_spins_after(spins, 0.0001);
    ck_assert_int_eq(spins, POOL_SPINS);
}
END_TEST

/* A lane that waits long at a barrier sleeps there instead of spinning or yielding in a loop: with
 * one lane in turn off for 3 ms each round (as if another program had its processor), the three
 * lanes together use a small part of the processor time that three busy waiters would, and every
 * round still holds (no wake-up lost). */
static void sleepy_task(void *ctx, int lane, int lanes)
{
    barrier_probe *b = ctx;
    for (int r = 0; r < b->rounds; r++) {
        if (r % lanes == lane) nanosleep(&(struct timespec){ 0, 3000000 }, NULL);
        b->slot[r % 2][lane] = 100L * r + lane;
        pool_barrier(b->workers);
        for (int k = 0; k < lanes; k++) b->wrong[lane] += b->slot[r % 2][k] != 100L * r + k;
    }
}

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

START_TEST(test_pool_barrier_sleeps_while_it_waits)
{
    barrier_probe *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    b->workers = pool_alloc(3);
    ck_assert_ptr_nonnull(b->workers);
    b->rounds = 60;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double cpu0 = cpu_seconds();
    pool_run(b->workers, sleepy_task, b);
    double cpu = cpu_seconds() - cpu0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    for (int lane = 0; lane < 3; lane++) ck_assert_int_eq(b->wrong[lane], 0);
    ck_assert(wall >= 0.18);                                   /* 60 rounds of 3 ms */
    ck_assert_msg(cpu < 0.5 * wall, "the waiting lanes used %.3f s of processor time in %.3f s: they spin", cpu, wall);
    pool_free(b->workers);
    free(b);
}
END_TEST

START_TEST(test_pool_share_covers_everything)
{
    const size_t sizes[] = { 0, 1, 15, 32, 101200, 101207 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int lanes = 1; lanes <= 5; lanes++)
            for (size_t align = 1; align <= 16; align += 15) {
                size_t expected_first = 0;
                for (int lane = 0; lane < lanes; lane++) {
                    size_t first, end;
                    pool_share(sizes[s], align, lane, lanes, &first, &end);
                    ck_assert_uint_eq(first, expected_first);            /* no gap, no overlap */
                    ck_assert_uint_le(first, end);
                    if (lane + 1 < lanes) ck_assert_uint_eq(end % align, 0);
                    expected_first = end;
                }
                ck_assert_uint_eq(expected_first, sizes[s]);             /* the last lane ends at n */
            }
    size_t first, end;
    pool_share(32, 1, 1, 2, &first, &end);            /* a batch of 32 on 2 threads: 16 each */
    ck_assert_uint_eq(first, 16);
    ck_assert_uint_eq(end, 32);
}
END_TEST

START_TEST(test_pool_refuses_bad_sizes)
{
    ck_assert_ptr_null(pool_alloc(0));
    ck_assert_int_eq(error_code(), AE_EINVAL);
    ck_assert_ptr_null(pool_alloc(POOL_MAX_THREADS + 1));
    ck_assert_int_eq(error_code(), AE_EINVAL);
}
END_TEST

/* ----------------------------------------------------------------- model */

enum { BATCH = 7 };   /* odd: the lanes get 3 and 4 samples (2 threads), 2, 2 and 3 (3 threads) */

/* A small model with every kind of layer the autoencoders use, and the input gradient requested. */
static model *mixed_model(int threads)
{
    gsl_rng *rng = test_rng(1937);
    model *m = model_alloc(3, (int[]){ 1, 9, 9 });
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(model_add(m, layer_conv2d(4, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);            /* 4x5x5 */
    ck_assert_int_eq(model_add(m, layer_conv2d_transpose(3, 3, 2, PAD_SAME, ACT_TANH)), AE_OK);  /* 3x10x10 */
    ck_assert_int_eq(model_add(m, layer_maxpool2()), AE_OK);                                     /* 3x5x5 */
    ck_assert_int_eq(model_add(m, layer_flatten()), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(6, ACT_RELU)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(81, ACT_SIGMOID)), AE_OK);
    model_request_input_grad(m);
    ck_assert_int_eq(model_set_threads(m, threads), AE_OK);   /* before the build */
    ck_assert_int_eq(model_build(m, BATCH, rng), AE_OK);
    gsl_rng_free(rng);
    return m;
}

START_TEST(test_model_threads_agree)
{
    gsl_rng *rng = test_rng(55);
    float x[BATCH * 81], d_y[BATCH * 81];
    fill_uniform(x, BATCH * 81, 0.0, 1.0, rng);
    fill_uniform(d_y, BATCH * 81, -1.0, 1.0, rng);
    model *one = mixed_model(1);
    const float *y_one;
    ck_assert_int_eq(fast_model_forward(one, x, BATCH, &y_one), AE_OK);
    model_zero_grad(one);
    ck_assert_int_eq(fast_model_backward(one, d_y, BATCH), AE_OK);
    for (int threads = 2; threads <= 3; threads++) {
        model *many = mixed_model(1);
        ck_assert_int_eq(model_set_threads(many, threads), AE_OK);   /* after the build */
        ck_assert_int_eq(model_get_threads(many), threads);
        const float *y_many;
        ck_assert_int_eq(fast_model_forward(many, x, BATCH, &y_many), AE_OK);
        if (cpu_has_avx512())   /* a row's sums do not depend on the other rows (gemm.h) */
            ck_assert_int_eq(memcmp(y_one, y_many, BATCH * 81 * sizeof *y_one), 0);
        else
            ck_assert_double_le(max_abs_diff(y_one, y_many, BATCH * 81), 1e-6);
        /* backward adds, like on one thread: twice the gradient after two backwards */
        model_zero_grad(many);
        ck_assert_int_eq(fast_model_backward(many, d_y, BATCH), AE_OK);
        ck_assert_double_le(max_abs_diff(one->grads, many->grads, one->n_params), 1e-5);
        ck_assert_double_le(max_abs_diff(one->d_input, many->d_input, BATCH * 81), 1e-6);
        ck_assert_int_eq(fast_model_backward(many, d_y, BATCH), AE_OK);
        for (size_t i = 0; i < one->n_params; i++)
            ck_assert_msg(fabs(many->grads[i] - 2.0 * one->grads[i]) <= 1e-5 * (1.0 + fabs(one->grads[i])),
                          "%d threads, parameter %zu: %g after two backwards, %g after one", threads, i,
                          many->grads[i], one->grads[i]);
        /* a batch smaller than the lanes leaves some lanes idle */
        const float *y_small;
        ck_assert_int_eq(fast_model_forward(many, x, 1, &y_small), AE_OK);
        ck_assert_double_le(max_abs_diff(y_small, y_one, 81), 1e-6);
        model_free(many);
    }
    model_free(one);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_model_threads_limits)
{
    model *m = mixed_model(2);
    ck_assert_int_eq(model_set_threads(m, 0), AE_EINVAL);
    ck_assert_int_eq(model_set_threads(m, POOL_MAX_THREADS + 1), AE_EINVAL);
    ck_assert_int_eq(model_get_threads(m), 2);                  /* unchanged by a refusal */
    const float *y;
    float x[81] = { 0 };
    ck_assert_int_eq(model_lane_forward(m, x, 0, 1, 2, &y), AE_EINVAL);      /* no lane 2 of 2 */
    ck_assert_int_eq(model_lane_forward(m, x, 5, 3, 0, &y), AE_ESTATE);      /* rows past the largest batch */
    ck_assert_int_eq(model_units_split(m), 0);                             /* convolutions: the batch splits */
    ck_assert_int_eq(model_units_forward(m, x, 1, 0, &y), AE_ESTATE);
    ck_assert_int_eq(model_units_in_turn(m), 0);
    ck_assert_int_eq(model_units_forward_in_turn(m, x, 1, &y), AE_ESTATE);
    ck_assert_int_eq(model_units_backward_in_turn(m, x, x, 1, 1), AE_ESTATE);
    ck_assert_int_eq(model_set_threads(m, 1), AE_OK);
    ck_assert_ptr_null(m->lanes);
    model_free(m);
}
END_TEST

/* The units split in turn (the portable path's steps alone) refuses what it cannot do, with a message:
 * a batch larger than the model's, and on the AVX-512 path a wide layer whose input gradient the
 * lanes sum from partial sums (that path's steps alone are the whole batch's products) */
START_TEST(test_units_in_turn_refuses)
{
    gsl_rng *rng = test_rng(5);
    model *m = model_alloc(1, (int[]){ 64 });
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(model_add(m, layer_dense(64, ACT_RELU)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(512, ACT_RELU)), AE_OK);    /* wide: partial sums for the layer below */
    ck_assert_int_eq(model_add(m, layer_dense(64, ACT_SIGMOID)), AE_OK);
    ck_assert_int_eq(model_build(m, 4, rng), AE_OK);
    ck_assert_int_eq(model_set_threads(m, 2), AE_OK);
    static float x[5 * 64], d_y[5 * 64];
    const float *y;
    ck_assert_int_eq(model_units_forward_in_turn(m, x, 5, &y), AE_ESTATE);
    ck_assert_msg(strstr(error_message(), "a batch of 5") != NULL, "%s", error_message());
    cpu_force_portable(1);
    ck_assert_int_eq(model_units_in_turn(m), 1);
    ck_assert_int_eq(model_units_forward_in_turn(m, x, 4, &y), AE_OK);
    ck_assert_int_eq(model_units_backward_in_turn(m, x, d_y, 4, 1), AE_OK);
    cpu_force_portable(0);
    if (cpu_has_avx512()) {
        ck_assert_int_eq(model_units_in_turn(m), 0);
        ck_assert_int_eq(model_units_forward_in_turn(m, x, 4, &y), AE_OK);
        ck_assert_int_eq(model_units_partial_sums(m, 1), 1);
        ck_assert_int_eq(model_units_backward_in_turn(m, x, d_y, 4, 1), AE_ESTATE);
        ck_assert_msg(strstr(error_message(), "partial products") != NULL, "%s", error_message());
    }
    model_free(m);
    gsl_rng_free(rng);
}
END_TEST

/* Under AddressSanitizer a failed allocation aborts the program instead of returning NULL */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* The lanes' blocks (each lane's gradients: 2 x 12.6 MB for this model) when memory runs out: an
 * AE_ENOMEM that says so, nothing half made; the same call succeeds once there is memory again.
 * The address space is capped a little above what the process maps already (setrlimit). */
START_TEST(test_model_lanes_out_of_memory)
{
    if (UNDER_ASAN) return;   /* its allocator aborts rather than fail */
    gsl_rng *rng = test_rng(3);
    model *m = model_alloc(1, (int[]){ 784 });
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(model_add(m, layer_dense(4000, ACT_RELU)), AE_OK);   /* 3.1 million parameters */
    ck_assert_int_eq(model_set_threads(m, 2), AE_OK);   /* before model_build: the blocks come at first use */
    ck_assert_int_eq(model_build(m, 8, rng), AE_OK);
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%ld", &pages), 1);
    fclose(f);
    struct rlimit before, cap;
    ck_assert_int_eq(getrlimit(RLIMIT_AS, &before), 0);
    cap = before;
    cap.rlim_cur = (rlim_t)pages * 4096 + (4u << 20);   /* what is mapped now and 4 MB */
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &cap), 0);
    const int rc = model_lanes_ready(m);
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &before), 0);
    ck_assert_int_eq(rc, AE_ENOMEM);
    ck_assert_msg(strstr(error_message(), "out of memory") && strstr(error_message(), "2 threads"),
                  "the message says what ran out: %s", error_message());
    ck_assert_int_eq(model_lanes_ready(m), AE_OK);   /* and nothing was left half made */
    float x[8 * 784] = { 0 };
    const float *y;
    ck_assert_int_eq(fast_model_forward(m, x, 8, &y), AE_OK);
    model_free(m);
    gsl_rng_free(rng);
}
END_TEST

/* ----------------------------------------------------------------- train */

/* floats equal bit for bit on the AVX-512 path (each unit's sums do not depend on the split), else close */
static void assert_same(const float *a, const float *b, size_t n, const char *what, int threads)
{
    if (cpu_has_avx512())
        ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "%s differs on %d threads", what, threads);
    else
        ck_assert_msg(max_abs_diff(a, b, n) <= 1e-5, "%s differs on %d threads (%g)", what, threads, max_abs_diff(a, b, n));
}


/* The sample's images through a small autoencoder for 2 epochs, on `threads` threads: a dense
 * one (its units split over the threads) or a convolutional one (its batch split); `way` pins the
 * elastic steps (model_threads_pin: 1 on the threads, 0 alone (the convolutional one: its lanes in
 * turn on one thread), -1 chosen by time). */
static void train_sample_way(int threads, int convolutional, int way, train_history *history, float *final_params,
                             size_t *n_params)
{
    fashion_mnist fm;
    test_load_sample(&fm, 0);
    gsl_rng *rng = test_rng(42);
    model *m;
    if (convolutional) {
        m = model_alloc(3, (int[]){ 1, 28, 28 });
        ck_assert_int_eq(model_add(m, layer_conv2d(4, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);           /* 4x14x14 */
        ck_assert_int_eq(model_add(m, layer_conv2d_transpose(1, 3, 2, PAD_SAME, ACT_SIGMOID)), AE_OK);
    } else {
        m = model_alloc(1, (int[]){ FASHION_PIXELS });
        ck_assert_int_eq(model_add(m, layer_dense(16, ACT_RELU)), AE_OK);
        ck_assert_int_eq(model_add(m, layer_dense(FASHION_PIXELS, ACT_SIGMOID)), AE_OK);
    }
    ck_assert_int_eq(model_build(m, 32, rng), AE_OK);
    ck_assert_int_eq(model_set_threads(m, threads), AE_OK);
    ck_assert_int_eq(model_units_split(m), threads > 1 && !convolutional);
    model_threads_pin(m, way);
    optimizer *opt = adam_alloc(m->n_params, 1e-3);
    image_source_ctx train_ctx = { .images = &fm.train.images }, val_ctx = { .images = &fm.test.images };
    batch_source train = image_batch_source(&train_ctx), val = image_batch_source(&val_ctx);
    train_config cfg = { .epochs = 2, .batch_size = 32, .shuffle = 1, .style = PROGRESS_NONE };
    ck_assert_int_eq(fast_train_fit(m, opt, (loss_spec){ LOSS_MSE, REDUCE_MEAN }, &train, &val, &cfg, rng, history), AE_OK);
    const elastic *e = model_threads_elastic(m);
    if (threads > 1 && way >= 0) {                  /* the pinned way taken at every step */
        ck_assert_ptr_nonnull(e);
        ck_assert_int_gt(e->steps_on[way], 0);
        ck_assert_int_eq(e->steps_on[!way], 0);
    }
    double evaluated;
    ck_assert_int_eq(fast_evaluate_loss(m, (loss_spec){ LOSS_MSE, REDUCE_MEAN }, &val, &evaluated), AE_OK);
    ck_assert_double_eq_tol(evaluated, history->val_loss[1], 1e-6 * history->val_loss[1]);
    memcpy(final_params, m->params, m->n_params * sizeof *final_params);
    *n_params = m->n_params;
    optimizer_free(opt);
    model_free(m);
    gsl_rng_free(rng);
    fashion_mnist_free(&fm);
}

static void train_sample(int threads, int convolutional, train_history *history, float *final_params, size_t *n_params)
{
    train_sample_way(threads, convolutional, -1, history, final_params, n_params);
}

/* loop index: 0 the dense model, 1 the convolutional one */
START_TEST(test_training_on_threads)
{
    static train_history one, two, again;
    enum { PARAMS = 784 * 16 + 16 + 16 * 784 + 784 };   /* the dense model's; the other has fewer */
    static float p_one[PARAMS], p_two[PARAMS], p_again[PARAMS];
    size_t n;
    train_sample(1, _i, &one, p_one, &n);
    ck_assert_uint_eq(n, _i ? 4 * 9 + 4 + 4 * 9 + 1 : PARAMS);
    train_sample(2, _i, &two, p_two, &n);
    train_sample(2, _i, &again, p_again, &n);
    /* the same seed and the same threads: the same numbers, bit for bit */
    ck_assert_int_eq(memcmp(p_two, p_again, n * sizeof *p_two), 0);
    ck_assert_double_eq(two.train_loss[1], again.train_loss[1]);
    ck_assert_double_eq(two.val_loss[1], again.val_loss[1]);
    /* other threads: the gradients' sums round differently, the training is the same */
    for (int e = 0; e < 2; e++) {
        ck_assert_double_eq_tol(two.train_loss[e], one.train_loss[e], 1e-4 * one.train_loss[e]);
        ck_assert_double_eq_tol(two.val_loss[e], one.val_loss[e], 1e-4 * one.val_loss[e]);
    }
    ck_assert_double_le(max_abs_diff(p_one, p_two, n), 1e-3);
    ck_assert_double_lt(two.val_loss[1], two.val_loss[0]);         /* and it learns */
}
END_TEST

/* Elastic steps (threads.h): the dense model on 2 threads trained with every step on the threads,
 * with every step alone, and with the ways chosen by time give the same weights and the same
 * losses, bit for bit, on the AVX-512 path (loop index 0; one thread's too) and on the portable
 * one (loop index 2: "alone" is the lanes' products in turn; one thread's products are CBLAS's
 * whole ones, a few last bits apart). The convolutional model (loop index 1), split by rows, with
 * its lanes on the threads, in turn on one thread, and chosen by time: the same bits (not one
 * thread's: its numbers depend on the split). */
START_TEST(test_elastic_training_same_numbers)
{
    static train_history one, threads, alone, chosen;
    enum { PARAMS = 784 * 16 + 16 + 16 * 784 + 784 };
    static float p_one[PARAMS], p_threads[PARAMS], p_alone[PARAMS], p_chosen[PARAMS];
    const int convolutional = _i == 1, portable = _i == 2;
    size_t n;
    cpu_force_portable(portable);
    train_sample_way(2, convolutional, 1, &threads, p_threads, &n);
    train_sample_way(2, convolutional, 0, &alone, p_alone, &n);
    train_sample_way(2, convolutional, -1, &chosen, p_chosen, &n);
    ck_assert_msg(memcmp(p_threads, p_alone, n * sizeof *p_threads) == 0, "%s differ from the threads' (%s path)",
                  convolutional ? "the weights trained with the lanes in turn" : "the weights trained alone",
                  portable ? "portable" : "default");
    ck_assert_msg(memcmp(p_threads, p_chosen, n * sizeof *p_threads) == 0,
                  "the weights trained by elastic steps differ from the threads' (%s path)", portable ? "portable" : "default");
    for (int e = 0; e < 2; e++) {
        const train_history *other[2] = { &alone, &chosen };
        for (int k = 0; k < 2; k++) {
            ck_assert_double_eq(other[k]->train_loss[e], threads.train_loss[e]);
            ck_assert_double_eq(other[k]->val_loss[e], threads.val_loss[e]);
        }
    }
    if (!convolutional) {
        train_sample(1, 0, &one, p_one, &n);
        assert_same(p_one, p_threads, n, "the weights against one thread's", 2);
        for (int e = 0; e < 2; e++) {
            if (cpu_has_avx512()) {
                ck_assert_double_eq(one.train_loss[e], threads.train_loss[e]);
                ck_assert_double_eq(one.val_loss[e], threads.val_loss[e]);
            } else {                  /* CBLAS's whole products differ from the shares' in the last bits */
                ck_assert_double_eq_tol(one.train_loss[e], threads.train_loss[e], 1e-4 * one.train_loss[e]);
            }
        }
    }
    cpu_force_portable(0);
}
END_TEST

/* A model split by rows with its lanes in turn on one thread (its elastic way "alone"): forward,
 * backward, the gradients gathered and Adam's step, the bits of its lanes on the threads. */
START_TEST(test_rows_lanes_in_turn)
{
    gsl_rng *rng = test_rng(88);
    static float x[BATCH * 64], d_y[BATCH * 64];
    fill_uniform(x, BATCH * 64, 0.0, 1.0, rng);
    fill_uniform(d_y, BATCH * 64, -1.0, 1.0, rng);
    float *got[2] = { NULL, NULL };
    size_t n = 0;
    for (int way = 1; way >= 0; way--) {
        gsl_rng *init = test_rng(89);
        model *m = model_alloc(3, (int[]){ 1, 8, 8 });
        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(model_add(m, layer_conv2d(4, 3, 2, PAD_SAME, ACT_RELU)), AE_OK);
        ck_assert_int_eq(model_add(m, layer_conv2d_transpose(1, 3, 2, PAD_SAME, ACT_SIGMOID)), AE_OK);
        ck_assert_int_eq(model_build(m, BATCH, init), AE_OK);
        ck_assert_int_eq(model_set_threads(m, 3), AE_OK);
        model_threads_pin(m, way);
        ck_assert_int_eq(model_threads_step(m), way);
        ck_assert_int_eq(model_on_threads(m), 1);      /* its calls still go to the lanes: in turn */
        optimizer *opt = adam_alloc(m->n_params, 1e-2);
        const float *y;
        for (int step = 0; step < 2; step++) {
            ck_assert_int_eq(fast_model_forward(m, x, BATCH, &y), AE_OK);
            fast_model_zero_grad(m);
            ck_assert_int_eq(fast_model_backward(m, d_y, BATCH), AE_OK);
            fast_model_optimizer_step(m, opt);
        }
        n = m->n_params;
        got[way] = malloc(2 * n * sizeof *got[way]);
        ck_assert_ptr_nonnull(got[way]);
        memcpy(got[way], m->params, n * sizeof *got[way]);
        memcpy(got[way] + n, m->grads, n * sizeof *got[way]);
        optimizer_free(opt);
        model_free(m);
        gsl_rng_free(init);
    }
    ck_assert_msg(memcmp(got[1], got[0], 2 * n * sizeof *got[0]) == 0, "the parameters and gradients with the lanes in turn differ");
    free(got[0]);
    free(got[1]);
    gsl_rng_free(rng);
}
END_TEST

/* A thread-safe source of 40 samples of 5 values; sample `bad` makes fill fail (AE_EDOM) or gives NaN. */
typedef struct {
    int bad;
    int fail;        /* 1: fill refuses the bad sample; 0: it returns NaN for it */
} small_source;

static int small_fill(void *ctx, const size_t *index, int n, float *x, float *y)
{
    const small_source *s = ctx;
    for (int i = 0; i < n; i++) {
        if ((int)index[i] == s->bad && s->fail)
            return AE_ERROR(AE_EDOM, "sample %zu refused on purpose", index[i]);
        for (int f = 0; f < 5; f++) x[i * 5 + f] = y[i * 5 + f] = 0.1f + 0.15f * f + 0.01f * (float)(index[i] % 7);
        if ((int)index[i] == s->bad) x[i * 5 + 2] = NAN;
    }
    return AE_OK;
}

START_TEST(test_training_on_threads_stops_cleanly)
{
    gsl_rng *rng = test_rng(7);
    model *m = model_alloc(1, (int[]){ 5 });
    ck_assert_int_eq(model_add(m, layer_dense(2, ACT_TANH)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(5, ACT_SIGMOID)), AE_OK);
    ck_assert_int_eq(model_build(m, 8, rng), AE_OK);
    ck_assert_int_eq(model_set_threads(m, 2), AE_OK);
    optimizer *opt = adam_alloc(m->n_params, 1e-2);
    float *before = malloc(m->n_params * sizeof *before);
    ck_assert_ptr_nonnull(before);
    memcpy(before, m->params, m->n_params * sizeof *before);
    /* samples in order, batches of 8: sample 6 is in the second lane of the first batch */
    train_config cfg = { .epochs = 1, .batch_size = 8, .shuffle = 0, .style = PROGRESS_NONE };
    small_source refuse = { 6, 1 }, poison = { 6, 0 };
    batch_source src = { 40, 5, 5, small_fill, &refuse, NULL };
    ck_assert_int_eq(fast_train_fit(m, opt, (loss_spec){ LOSS_MSE, REDUCE_MEAN }, &src, NULL, &cfg, rng, NULL), AE_EDOM);
    ck_assert_msg(strstr(error_message(), "sample 6 refused on purpose") != NULL,
                  "the lane's message is lost: '%s'", error_message());
    ck_assert_int_eq(memcmp(before, m->params, m->n_params * sizeof *before), 0);
    src.ctx = &poison;
    ck_assert_int_eq(fast_train_fit(m, opt, (loss_spec){ LOSS_MSE, REDUCE_MEAN }, &src, NULL, &cfg, rng, NULL),
                     AE_ENUMERIC);
    ck_assert_int_eq(memcmp(before, m->params, m->n_params * sizeof *before), 0);   /* no step was taken */
    free(before);
    optimizer_free(opt);
    model_free(m);
    gsl_rng_free(rng);
}
END_TEST

/* Separate activation layers in the units split (each lane applies them to its own columns): two
 * threads train as one does, to float rounding. */
START_TEST(test_units_split_with_activation_layers)
{
    small_source clean = { -1, 0 };
    batch_source src = { 40, 5, 5, small_fill, &clean, NULL };
    train_config cfg = { .epochs = 3, .batch_size = 8, .shuffle = 1, .style = PROGRESS_NONE };
    float params[2][5 * 7 + 7 + 7 * 5 + 5];
    for (int run = 0; run < 2; run++) {
        gsl_rng *rng = test_rng(3);
        model *m = model_alloc(1, (int[]){ 5 });
        ck_assert_int_eq(model_add(m, layer_activation(ACT_RELU)), AE_OK);         /* before any dense layer */
        ck_assert_int_eq(model_add(m, layer_dense(7, ACT_NONE)), AE_OK);
        ck_assert_int_eq(model_add(m, layer_activation(ACT_TANH)), AE_OK);
        ck_assert_int_eq(model_add(m, layer_dense(5, ACT_SIGMOID)), AE_OK);
        ck_assert_int_eq(model_build(m, 8, rng), AE_OK);
        ck_assert_int_eq(model_set_threads(m, run + 1), AE_OK);
        ck_assert_int_eq(model_units_split(m), run == 1);
        optimizer *opt = adam_alloc(m->n_params, 1e-2);
        ck_assert_int_eq(fast_train_fit(m, opt, (loss_spec){ LOSS_MSE, REDUCE_MEAN }, &src, NULL, &cfg, rng, NULL), AE_OK);
        ck_assert_uint_eq(m->n_params, sizeof params[0] / sizeof params[0][0]);
        memcpy(params[run], m->params, sizeof params[run]);
        optimizer_free(opt);
        model_free(m);
        gsl_rng_free(rng);
    }
    ck_assert_double_le(max_abs_diff(params[0], params[1], sizeof params[0] / sizeof params[0][0]), 1e-5);
}
END_TEST

/* ------------------------------------------------------ all-dense models */

/* All-dense models of odd sizes. Wide (1): every hidden input has at least 64 columns per lane on
 * 3 threads. Narrow (0): hidden inputs of 37 and 5 columns; the 5-unit layer leaves two lanes of 3
 * without units. Widest (2): the first and third layers have 784 units, whose input gradients the
 * lanes sum from partial sums over their own units (model_units_partial_sums), one after the other
 * in the same memory when the input gradient is requested. Each lane computes its columns of
 * every input gradient, the same sums as one thread. */
static model *dense_model(int threads, int input_grad, unsigned long seed, int wide)
{
    gsl_rng *rng = test_rng(seed);
    model *m = model_alloc(1, (int[]){ 13 });
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(model_add(m, layer_dense(wide == 2 ? 784 : wide ? 200 : 37, ACT_RELU)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_activation(ACT_TANH)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(wide == 2 ? 784 : wide ? 197 : 5, ACT_NONE)), AE_OK);
    ck_assert_int_eq(model_add(m, layer_dense(29, ACT_SIGMOID)), AE_OK);
    if (input_grad) model_request_input_grad(m);
    ck_assert_int_eq(model_build(m, BATCH, rng), AE_OK);
    ck_assert_int_eq(model_set_threads(m, threads), AE_OK);
    ck_assert_int_eq(model_units_split(m), threads > 1);
    gsl_rng_free(rng);
    return m;
}


/* Each lane's units start on a cache line (16 floats) and the shares cover the layer once, as
 * evenly as whole lines allow: two lanes never write one line of an activation row. */
START_TEST(test_units_shares_are_whole_lines)
{
    for (int threads = 2; threads <= 3; threads++) {
        gsl_rng *rng = test_rng(3);
        model *m = model_alloc(1, (int[]){ 13 });
        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(model_add(m, layer_dense(400, ACT_NONE)), AE_OK);
        ck_assert_int_eq(model_build(m, BATCH, rng), AE_OK);
        ck_assert_int_eq(model_set_threads(m, threads), AE_OK);
        size_t next = 0;
        for (int lane = 0; lane < threads; lane++) {
            size_t first, end;
            model_units_columns(m, lane, &first, &end);
            ck_assert_uint_eq(first, next);
            ck_assert_uint_eq(first % 16, 0);
            ck_assert_uint_le(end - first, 400 / threads + 16);
            next = end;
        }
        ck_assert_uint_eq(next, 400);
        model_free(m);
        gsl_rng_free(rng);
    }
}
END_TEST

/* Loop index bit 0: the input gradient requested (a VAE's decoder); the rest: the narrow model (a
 * hidden layer of 5 units, fewer than a vector per thread), the wide one or the widest (a layer of
 * 784 units, its input gradient from the lanes' partial sums on the AVX-512 path). On 2 and 3 threads
 * the units split computes what one thread does: outputs, gradients, the input gradient, the cleared
 * gradients and Adam's step, all bit for bit. */
START_TEST(test_dense_units_split_matches_one_thread)
{
    const int input_grad = _i & 1, wide = _i >> 1;
    gsl_rng *rng = test_rng(77);
    float x[BATCH * 13], d_y[BATCH * 29];
    fill_uniform(x, BATCH * 13, -1.0, 1.0, rng);
    fill_uniform(d_y, BATCH * 29, -1.0, 1.0, rng);
    model *one = dense_model(1, input_grad, 5, wide);
    optimizer *opt_one = adam_alloc(one->n_params, 1e-2);
    const float *y_one;
    ck_assert_int_eq(fast_model_forward(one, x, BATCH, &y_one), AE_OK);
    fast_model_zero_grad(one);
    ck_assert_int_eq(fast_model_backward(one, d_y, BATCH), AE_OK);
    ck_assert_int_eq(fast_model_backward(one, d_y, BATCH), AE_OK);     /* backward adds */
    fast_model_optimizer_step(one, opt_one);
    for (int threads = 2; threads <= 3; threads++) {
        model *many = dense_model(threads, input_grad, 5, wide);
        for (int i = 0; i < many->n_layers; i++)   /* layers 0 and 2: 784 units */
            ck_assert_int_eq(model_units_partial_sums(many, i), wide == 2 && i % 2 == 0 && i < 3 && cpu_has_avx512());
        optimizer *opt = adam_alloc(many->n_params, 1e-2);
        const float *y_many;
        ck_assert_int_eq(fast_model_forward(many, x, BATCH, &y_many), AE_OK);
        assert_same(y_one, y_many, BATCH * 29, "the output", threads);
        for (size_t i = 0; i < many->n_params; i++) many->grads[i] = 1.0f;
        fast_model_zero_grad(many);
        for (size_t i = 0; i < many->n_params; i++) ck_assert_float_eq(many->grads[i], 0.0f);
        ck_assert_int_eq(fast_model_backward(many, d_y, BATCH), AE_OK);
        ck_assert_int_eq(fast_model_backward(many, d_y, BATCH), AE_OK);
        assert_same(one->grads, many->grads, one->n_params, "the gradients", threads);
        if (input_grad) assert_same(one->d_input, many->d_input, BATCH * 13, "the input gradient", threads);
        fast_model_optimizer_step(many, opt);
        assert_same(one->params, many->params, one->n_params, "Adam's step", threads);
        /* a batch of one row */
        ck_assert_int_eq(fast_model_forward(many, x, 1, &y_many), AE_OK);
        ck_assert_int_eq(fast_model_backward(many, d_y, 1), AE_OK);
        /* the portable path (CBLAS): no partial sums, every lane's linear outputs in their rows;
         * the same numbers as the AVX-512 path but for the products' last bits */
        static float y_fast[BATCH * 29], d_input_fast[BATCH * 13];
        ck_assert_int_eq(fast_model_forward(many, x, BATCH, &y_many), AE_OK);
        memcpy(y_fast, y_many, sizeof y_fast);
        ck_assert_int_eq(fast_model_backward(many, d_y, BATCH), AE_OK);
        if (input_grad) memcpy(d_input_fast, many->d_input, sizeof d_input_fast);
        cpu_force_portable(1);
        ck_assert_int_eq(model_units_partial_sums(many, 2), 0);
        ck_assert_int_eq(fast_model_forward(many, x, BATCH, &y_many), AE_OK);
        ck_assert_double_le(max_abs_diff(y_fast, y_many, BATCH * 29), 1e-5);
        ck_assert_int_eq(fast_model_backward(many, d_y, BATCH), AE_OK);
        if (input_grad) ck_assert_double_le(max_abs_diff(d_input_fast, many->d_input, BATCH * 13), 1e-5);
        cpu_force_portable(0);
        optimizer_free(opt);
        model_free(many);
    }
    optimizer_free(opt_one);
    model_free(one);
    gsl_rng_free(rng);
}
END_TEST

/* model_units_backward_fresh on the lanes, each lane's gradients written whatever they held (NaN
 * here): the bits of fast_model_zero_grad and model_units_backward (through fast_model_backward),
 * gradients and input gradient, on 2 and 3 threads, narrow and wide layers (partial sums), with
 * and without the input's gradient; twice in a row the same (written, not added to). */
typedef struct {
    model *m;
    const float *x, *d_y;
} fresh_job;

static void fresh_lane(void *ctx, int lane, int lanes)
{
    (void)lanes;
    const fresh_job *job = ctx;
    ck_assert_int_eq(model_units_backward_fresh(job->m, job->x, job->d_y, BATCH, lane, NULL), AE_OK);
}

START_TEST(test_units_backward_fresh)
{
    const int input_grad = _i & 1, wide = _i >> 1;
    gsl_rng *rng = test_rng(79);
    float x[BATCH * 13], d_y[BATCH * 29], d_input[BATCH * 13];
    fill_uniform(x, BATCH * 13, -1.0, 1.0, rng);
    fill_uniform(d_y, BATCH * 29, -1.0, 1.0, rng);
    for (int threads = 2; threads <= 3; threads++) {
        model *m = dense_model(threads, input_grad, 5, wide);
        const float *y;
        ck_assert_int_eq(fast_model_forward(m, x, BATCH, &y), AE_OK);
        fast_model_zero_grad(m);
        ck_assert_int_eq(fast_model_backward(m, d_y, BATCH), AE_OK);
        float *want = malloc(m->n_params * sizeof *want);
        ck_assert_ptr_nonnull(want);
        memcpy(want, m->grads, m->n_params * sizeof *want);
        if (input_grad) memcpy(d_input, m->d_input, sizeof d_input);
        fresh_job job = { m, x, d_y };
        for (int twice = 0; twice < 2; twice++) {
            for (size_t i = 0; i < m->n_params; i++) m->grads[i] = twice ? m->grads[i] : NAN;
            ck_assert_int_eq(model_lanes_ready(m), AE_OK);
            model_run_lanes(m, fresh_lane, &job);
            assert_same(want, m->grads, m->n_params, "the gradients written", threads);
            if (input_grad) assert_same(d_input, m->d_input, BATCH * 13, "the input gradient", threads);
        }
        free(want);
        model_free(m);
    }
    gsl_rng_free(rng);
}
END_TEST

/* model_units_backward_fresh says when a lane may update its parameters without meeting the other
 * lanes again: on the AVX-512 path, after a wide layer's input gradient from partial sums (each lane
 * read its own rows of W only) and nothing wanted below the first dense layer; not when a lane read
 * every lane's rows of W after the last barrier (a narrow layer's input gradient, or the model's).
 * Loop index: 0 a wide output layer, 1 the same with the input's gradient wanted, 2 a narrow one. */
typedef struct {
    model *m;
    const float *x, *d_y;
    int settled[POOL_MAX_THREADS];
} settle_job;

static void settle_lane(void *ctx, int lane, int lanes)
{
    (void)lanes;
    settle_job *job = ctx;
    ck_assert_int_eq(model_units_backward_fresh(job->m, job->x, job->d_y, BATCH, lane, &job->settled[lane]), AE_OK);
}

START_TEST(test_units_backward_settles)
{
    const int input_grad = _i == 1, out = _i == 2 ? 29 : 784;
    const int want = _i == 0 && cpu_has_avx512();
    gsl_rng *rng = test_rng(83);
    static float x[BATCH * 13], d_y[BATCH * 784];
    fill_uniform(x, BATCH * 13, -1.0, 1.0, rng);
    fill_uniform(d_y, BATCH * 784, -1.0, 1.0, rng);
    for (int threads = 2; threads <= 3; threads++) {
        model *m = model_alloc(1, (int[]){ 13 });
        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(model_add(m, layer_dense(16, ACT_RELU)), AE_OK);
        ck_assert_int_eq(model_add(m, layer_dense(out, ACT_SIGMOID)), AE_OK);
        if (input_grad) model_request_input_grad(m);
        ck_assert_int_eq(model_build(m, BATCH, rng), AE_OK);
        ck_assert_int_eq(model_set_threads(m, threads), AE_OK);
        ck_assert_int_eq(model_units_partial_sums(m, 1), out == 784 && cpu_has_avx512());
        const float *y;
        ck_assert_int_eq(fast_model_forward(m, x, BATCH, &y), AE_OK);
        settle_job job = { .m = m, .x = x, .d_y = d_y };
        for (int lane = 0; lane < threads; lane++) job.settled[lane] = -1;
        ck_assert_int_eq(model_lanes_ready(m), AE_OK);
        model_run_lanes(m, settle_lane, &job);
        for (int lane = 0; lane < threads; lane++) ck_assert_int_eq(job.settled[lane], want);
        model_free(m);
    }
    gsl_rng_free(rng);
}
END_TEST

/* Two models on one set of threads (model_share_threads): each runs as on threads of its own,
 * and the threads outlive the model that started them. */
START_TEST(test_models_share_threads)
{
    gsl_rng *rng = test_rng(78);
    float x[BATCH * 13], d_y[BATCH * 29];
    fill_uniform(x, BATCH * 13, -1.0, 1.0, rng);
    fill_uniform(d_y, BATCH * 29, -1.0, 1.0, rng);
    model *alone = dense_model(2, 1, 9, 0);
    model *first = dense_model(2, 0, 8, 1), *second = dense_model(1, 1, 9, 0);
    ck_assert_int_eq(model_share_threads(second, first), AE_OK);
    ck_assert_int_eq(model_get_threads(second), 2);
    ck_assert_int_eq(model_units_split(second), 1);
    const float *y, *y_alone;
    ck_assert_int_eq(fast_model_forward(first, x, BATCH, &y), AE_OK);
    ck_assert_int_eq(fast_model_forward(second, x, BATCH, &y), AE_OK);
    ck_assert_int_eq(fast_model_forward(alone, x, BATCH, &y_alone), AE_OK);
    ck_assert_int_eq(memcmp(y, y_alone, BATCH * 29 * sizeof *y), 0);
    model_free(first);                       /* the threads stay for the second */
    fast_model_zero_grad(second);
    fast_model_zero_grad(alone);
    ck_assert_int_eq(fast_model_backward(second, d_y, BATCH), AE_OK);
    ck_assert_int_eq(fast_model_backward(alone, d_y, BATCH), AE_OK);
    ck_assert_int_eq(memcmp(second->grads, alone->grads, alone->n_params * sizeof *alone->grads), 0);
    ck_assert_int_eq(memcmp(second->d_input, alone->d_input, BATCH * 13 * sizeof *alone->d_input), 0);
    model *single = dense_model(1, 1, 9, 0);
    ck_assert_int_eq(model_share_threads(second, single), AE_OK);     /* back to one thread */
    ck_assert_int_eq(model_get_threads(second), 1);
    ck_assert_ptr_null(second->lanes);
    model_free(single);
    model_free(second);
    model_free(alone);
    gsl_rng_free(rng);
}
END_TEST

/* The dense VAE's training steps on 1, 2 and 3 threads, and on 2 with its steps alone and on the
 * threads in turn (elastic steps): the same parameters and the same ELBO terms, bit for bit on the
 * AVX-512 path (the reconstruction's chunks are added in one order). On the portable path (loop
 * index 1) the steps alone and on the threads in turn give 2 threads' bits; the thread counts'
 * CBLAS products differ in the last bits. */
START_TEST(test_dense_vae_threads_match)
{
    cpu_force_portable(_i);
    enum { B = 9, STEPS = 3 };
    gsl_rng *data_rng = test_rng(79);
    static float x[B * FASHION_PIXELS];
    for (size_t i = 0; i < B * FASHION_PIXELS; i++) x[i] = gsl_rng_uniform(data_rng) < 0.4 ? (float)gsl_rng_uniform(data_rng) : 0.0f;
    gsl_rng_free(data_rng);
    vae_config cfg = { .kind = VAE_DENSE, .latent = 3, .hidden = 200, .beta = 1.0, .lr = 1e-2, .max_batch = B };
    float *params[4] = { NULL, NULL, NULL, NULL };
    elbo_terms terms[4];
    size_t n = 0;
    for (int run = 0; run < 4; run++) {      /* 1, 2, 3 threads, then 2 with steps alone and on the threads in turn */
        const int threads = run < 3 ? run + 1 : 2;
        gsl_rng *rng = test_rng(80);
        vae *v = vae_alloc(&cfg, rng);
        ck_assert_ptr_nonnull(v);
        ck_assert_int_eq(vae_set_threads(v, threads), AE_OK);
        ck_assert_int_eq(model_get_threads(v->decoder), threads);
        for (int s = 0; s < STEPS; s++) {
            if (run == 3) model_threads_pin(v->encoder, s % 2);   /* the decoder follows: one pool */
            ck_assert_int_eq(vae_train_step(v, x, s == 1 ? B - 4 : B, rng, &terms[run]), AE_OK);
            if (run == 3) ck_assert_int_eq(model_on_threads(v->decoder), s % 2);
        }
        n = v->encoder->n_params + v->decoder->n_params;
        params[run] = malloc(n * sizeof(float));
        ck_assert_ptr_nonnull(params[run]);
        memcpy(params[run], v->encoder->params, v->encoder->n_params * sizeof(float));
        memcpy(params[run] + v->encoder->n_params, v->decoder->params, v->decoder->n_params * sizeof(float));
        vae_free(v);
        gsl_rng_free(rng);
    }
    for (int t = 1; t < 4; t++) {
        if (cpu_has_avx512())
            assert_same(params[0], params[t], n, "the VAE's parameters", t < 3 ? t + 1 : 2);
        else                          /* Adam's first steps scale a gradient's last bits near 0 up to ±lr */
            ck_assert_double_le(max_abs_diff(params[0], params[t], n), 0.1 * cfg.lr);
        if (cpu_has_avx512()) {
            ck_assert_double_eq(terms[0].recon, terms[t].recon);
            ck_assert_double_eq(terms[0].kl, terms[t].kl);
        } else {
            ck_assert_double_eq_tol(terms[0].recon, terms[t].recon, 1e-4 * fabs(terms[0].recon));
        }
    }
    /* 2 threads with the steps alone now and then: 2 threads' bits on every path */
    ck_assert_msg(memcmp(params[1], params[3], n * sizeof(float)) == 0, "the VAE's parameters trained alone and on "
                  "the threads in turn differ from 2 threads' (%s path)", _i ? "portable" : "default");
    ck_assert_double_eq(terms[1].recon, terms[3].recon);
    ck_assert_double_eq(terms[1].kl, terms[3].kl);
    for (int t = 0; t < 4; t++) free(params[t]);
    cpu_force_portable(0);
}
END_TEST

/* The VAE's reconstruction sum on a model's lanes: the plain function's chunks, added in its order, so
 * the sum and the gradient are the same bits on any number of threads (the last chunk cut short, and
 * more chunks than one round of the lanes takes). */
START_TEST(test_vae_bce_on_lanes_matches_plain)
{
    enum { N = 300 * VAE_BCE_CHUNK + 101 };
    static float logits[N], x[N], d_plain[N], d_lanes[N];
    gsl_rng *rng = test_rng(83);
    /* mostly ordinary logits, and some at or past expf's limits (±88, −104), zeros of both signs,
     * tiny ones: the vector loop hands the far ones to expf, and must agree there too */
    const float odd[] = { 0.0f, -0.0f, 88.0f, -88.0f, 87.99999f, -87.99999f, 103.5f, -103.5f, 200.0f, -200.0f,
                          1e-30f, -1e-30f, 1e-45f, -1e-45f, 20.0f, -20.0f };
    for (size_t i = 0; i < N; i++) {
        logits[i] = gsl_rng_uniform(rng) < 0.02 ? odd[gsl_rng_uniform_int(rng, sizeof odd / sizeof *odd)]
                                                : (float)(8.0 * gsl_rng_uniform(rng) - 4.0);
        x[i] = gsl_rng_uniform(rng) < 0.5 ? 0.0f : (float)gsl_rng_uniform(rng);
    }
    gsl_rng_free(rng);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 28)
    /* glibc's expf has taken the same steps since 2.28: with AVX-512 the vector loop must be in use */
    if (cpu_has_avx512()) ck_assert_msg(fast_expf_same_bits(), "the vector expf differs from this libm's expf");
#endif
    const double plain = vae_bce_logits_sum(d_plain, logits, x, N);
    for (int threads = 1; threads <= 3; threads++) {
        model *m = dense_model(threads, 0, 84, 1);
        memset(d_lanes, 0, sizeof d_lanes);
        ck_assert_double_eq(fast_vae_bce_logits_sum(m, d_lanes, logits, x, N), plain);
        ck_assert_msg(memcmp(d_plain, d_lanes, sizeof d_lanes) == 0, "d_logits differs on %d threads", threads);
        ck_assert_double_eq(fast_vae_bce_logits_sum(m, NULL, logits, x, N), plain);   /* no gradient asked */
        model_free(m);
    }
}
END_TEST

/* A VAE's batch filled on its threads, each its share of the images: the same x as vae_fill_batch,
 * for the dense VAE and the padded convolutional one, on 1 to 3 threads, with an index (images out of
 * order, one twice) and without, a batch of 7 (unequal shares) and of 1 (lanes without images).
 * Whatever lies past the batch in x is left alone. */
START_TEST(test_vae_fill_on_lanes_matches_plain)
{
    enum { IMAGES = 12, MAX_BATCH = 8 };
    static uint8_t bytes[IMAGES * FASHION_PIXELS];
    gsl_rng *rng = test_rng(89);
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)gsl_rng_uniform_int(rng, 256);
    const idx_array images = { .ndim = 3, .dims = { IMAGES, 28, 28 }, .count = IMAGES, .item_size = FASHION_PIXELS,
                               .data = bytes };
    const size_t index[MAX_BATCH] = { 11, 3, 0, 7, 3, 9, 5, 1 };
    for (int kind = 0; kind < 2; kind++) {
        vae_config cfg = { .kind = kind ? VAE_CONV : VAE_DENSE, .latent = 2, .hidden = 16, .beta = 1.0, .lr = 1e-3,
                           .max_batch = MAX_BATCH };
        vae *v = vae_alloc(&cfg, rng);
        ck_assert_ptr_nonnull(v);
        const size_t floats = (size_t)MAX_BATCH * v->x_size;
        float *want = malloc(floats * sizeof *want), *got = malloc(floats * sizeof *got);
        ck_assert(want && got);
        for (int threads = 1; threads <= 3; threads++) {
            ck_assert_int_eq(vae_set_threads(v, threads), AE_OK);
            for (int n = 1; n <= 7; n += 6)
                for (int indexed = 0; indexed < 2; indexed++) {
                    for (size_t i = 0; i < floats; i++) want[i] = got[i] = -7.0f;
                    vae_fill_batch(v, want, &images, indexed ? index : NULL, n);
                    fast_vae_fill_batch(v, got, &images, indexed ? index : NULL, n);
                    ck_assert_msg(memcmp(want, got, floats * sizeof *got) == 0,
                                  "%s VAE, %d threads, %d images%s: not the plain fill", kind ? "conv" : "dense",
                                  threads, n, indexed ? " by index" : "");
                }
        }
        free(want);
        free(got);
        vae_free(v);
    }
    gsl_rng_free(rng);
}
END_TEST

/* The vector expf of the reconstruction sum against expf itself, on a walk through every float
 * from −0 down to −∞ (each 613th bit pattern, and every one either side of −88) and a few NaNs:
 * the same bits, or the vector loop is not used. */
START_TEST(test_vector_expf_same_bits)
{
    if (!fast_expf_same_bits()) return;      /* no AVX-512, or another libm: the plain loop runs */
    enum { STEP = 613, BATCH = 1 << 14 };
    static float x[BATCH];
    size_t filled = 0, checked = 0;
    for (uint64_t b = 0x80000000u; b <= 0xff800000u; b += STEP) {
        uint32_t bits = (uint32_t)b;
        memcpy(&x[filled++], &bits, sizeof bits);
        if (filled == BATCH) {
            ck_assert_msg(fast_expf_check(x, filled), "the vector expf differs near %a", (double)x[0]);
            checked += filled;
            filled = 0;
        }
    }
    while (filled % 16) x[filled++] = -1.0f;
    ck_assert_msg(fast_expf_check(x, filled), "the vector expf differs near %a", (double)x[0]);
    checked += filled;
    filled = 0;
    for (uint32_t bits = 0xc2b00000u - 512; bits < 0xc2b00000u + 512; bits++) memcpy(&x[filled++], &bits, sizeof bits);
    const uint32_t specials[] = { 0xff800000u, 0xff800001u, 0xffc00000u, 0x80000001u, 0x80000000u, 0xc2cff1b4u,
                                  0xc2ce8ecfu, 0xc2ce8ed0u };
    for (size_t i = 0; i < sizeof specials / sizeof *specials; i++) memcpy(&x[filled++], &specials[i], sizeof(float));
    while (filled % 16) x[filled++] = -1.0f;
    ck_assert(fast_expf_check(x, filled));
    ck_assert_uint_gt(checked, 1000000);
}
END_TEST

Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    test_add(test_case(s, "Pool", 20), test_pool_runs_every_lane_once, test_pool_share_covers_everything, test_pool_spin_budget_adapts,
             test_pool_barrier_holds_every_lane, test_pool_barrier_sleeps_while_it_waits);
    TCase *core = test_case(s, "Core", 30);
    tcase_add_test(core, test_model_threads_agree);
    tcase_add_loop_test(core, test_training_on_threads, 0, 2);
    tcase_add_loop_test(core, test_elastic_training_same_numbers, 0, 3);
    tcase_add_test(core, test_rows_lanes_in_turn);
    tcase_add_test(core, test_units_split_with_activation_layers);
    tcase_add_test(core, test_units_shares_are_whole_lines);
    tcase_add_loop_test(core, test_dense_units_split_matches_one_thread, 0, 6);
    tcase_add_loop_test(core, test_units_backward_fresh, 0, 6);
    tcase_add_loop_test(core, test_units_backward_settles, 0, 3);
    tcase_add_loop_test(core, test_dense_vae_threads_match, 0, 2);
    test_add(core, test_models_share_threads, test_vae_bce_on_lanes_matches_plain,
             test_vae_fill_on_lanes_matches_plain,
             test_vector_expf_same_bits);
    test_add(test_case(s, "Limits", 0), test_pool_refuses_bad_sizes, test_model_threads_limits,
             test_training_on_threads_stops_cleanly, test_model_lanes_out_of_memory, test_units_in_turn_refuses);
    return s;
}
