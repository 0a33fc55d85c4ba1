/* pool.c: see pool.h.
 *
 * The handshake, with C11 atomics:
 *   pool_run: write the task, set `pending` to the number of workers, then count the
 *             task in `generation` (the release that publishes the task); run lane 0;
 *             wait until `pending` is 0.
 *   worker:   wait until `generation` changes, run its lane, then decrement `pending`
 *             (the release that publishes what the lane wrote).
 * Waiting is spinning first, then a condition variable. Before sleeping, a side says so
 * (`sleepers`, `caller_sleeps`, `barrier_sleepers`) and looks once more; the other side looks
 * at that flag after its own change. Both orders are sequentially consistent, so at least one
 * of the two sees the other's write: no wake-up is lost. pool_barrier waits the same way: a
 * lane whose partner has no processor (another program runs) must give its own up, not spin
 * or yield in a loop while the partner waits for a core.
 */
#include "fast/pool.h"
#include "error.h"
#include "fast/elastic.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Spins before sleeping: at most about 0.1 ms of `pause` instructions on the bench machine, at
 * least a few microseconds. The budget adapts (`spins`) at a barrier and at the end of a task,
 * where a lane waits for partners that should be running. A wait that ends while spinning doubles
 * it. A wait that had to sleep is timed from the moment it fell asleep: a long one (at least
 * POOL_LONG_SLEEP, 0.3 ms: a few times what a sleep and a wake-up take, a small part of a
 * scheduler's time slice of milliseconds) waited for a partner that had no
 * processor (another program runs), and spinning only takes time from that partner, so the budget
 * is quartered; a short one waited for a partner that was running, only a little longer than the
 * budget, and a sleep and a wake-up cost more than spinning on (tens of microseconds in a virtual
 * machine), so the budget is doubled. Measured on the bench machine beside one busy program:
 * the dense VAE on 2 threads 3.1 ms a step instead of 4.4 ms; alone, 2.1 ms either way. Quartering
 * at every sleep, short ones too, once left the budget at its least on an idle machine: model A
 * on 2 threads slept at one barrier in 12 (2 epochs: 1,931 sleeps in 23,752 barriers). */

struct pool {
    int threads;                     /* lanes, the caller's included */
    pthread_t *workers;              /* (threads − 1) */
    int started;                     /* workers running */
    pthread_mutex_t lock;            /* guards the sleeps */
    pthread_cond_t wake_workers;     /* a new task, or stop */
    pthread_cond_t wake_caller;      /* the last worker finished */
    pthread_cond_t wake_barrier;     /* the last lane arrived at a barrier */
    atomic_uint generation;          /* tasks posted so far */
    atomic_int pending;              /* workers still running the current task */
    atomic_int sleepers;             /* workers asleep on wake_workers */
    atomic_int caller_sleeps;        /* 1 while the caller sleeps on wake_caller */
    atomic_int stop;
    atomic_int refs;                 /* owners: pool_alloc's caller and each pool_retain */
    atomic_int spins;                /* spins before sleeping, POOL_MIN_SPINS..POOL_SPINS */
    atomic_uint barrier_round;       /* pool_barrier: rounds completed */
    atomic_int barrier_waiting;      /* pool_barrier: lanes arrived in this round */
    atomic_int barrier_sleepers;     /* pool_barrier: lanes asleep on wake_barrier */
    pool_task task;                  /* the current task, published by `generation` */
    void *ctx;
    elastic elastic;                 /* the owners' steps: on the threads or alone (pool_step) */
};

typedef struct {
    pool *p;
    int lane;
} worker_arg;

/* A hint to the processor that this is a wait loop (x86's pause); nothing elsewhere. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int spin_budget(pool *p) { return atomic_load_explicit(&p->spins, memory_order_relaxed); }

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int pool_spins_after(int spins, double asleep)
{
    if (asleep < POOL_LONG_SLEEP) return spins * 2 < POOL_SPINS ? spins * 2 : POOL_SPINS;
    return spins / 4 > POOL_MIN_SPINS ? spins / 4 : POOL_MIN_SPINS;
}

/* A wait for a lane that should be running ended after `asleep` seconds asleep (0: while spinning). */
static void spin_outcome(pool *p, double asleep)
{
    const int now = spin_budget(p);
    const int next = pool_spins_after(now, asleep);
    if (next != now) atomic_store_explicit(&p->spins, next, memory_order_relaxed);
}

static unsigned wait_for_task(pool *p, unsigned seen)
{
    unsigned now;
    const int spins = spin_budget(p);
    for (int spin = 0; spin < spins; spin++) {
        now = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (now != seen) return now;
        cpu_relax();
    }
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->sleepers, 1);
    while ((now = atomic_load(&p->generation)) == seen) pthread_cond_wait(&p->wake_workers, &p->lock);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->lock);
    return now;
}

static void *worker_main(void *opaque)
{
    worker_arg *arg = opaque;
    pool *p = arg->p;
    const int lane = arg->lane;
    free(arg);
    unsigned seen = 0;
    for (;;) {
        seen = wait_for_task(p, seen);
        if (atomic_load(&p->stop)) return NULL;
        p->task(p->ctx, lane, p->threads);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_sleeps)) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->wake_caller);
            pthread_mutex_unlock(&p->lock);
        }
    }
}

/* Counts a new task (or the stop) and wakes the workers that sleep. */
static void post(pool *p)
{
    atomic_fetch_add(&p->generation, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake_workers);
        pthread_mutex_unlock(&p->lock);
    }
}

pool *pool_alloc(int threads)
{
    if (threads < 1 || threads > POOL_MAX_THREADS) {
        AE_ERROR(AE_EINVAL, "a pool takes 1 to %d threads, not %d", POOL_MAX_THREADS, threads);
        return NULL;
    }
    pool *p = calloc(1, sizeof *p);
    if (!p || (threads > 1 && !(p->workers = calloc((size_t)threads - 1, sizeof *p->workers)))) {
        free(p);
        AE_ERROR(AE_ENOMEM, "out of memory for a pool of %d threads", threads);
        return NULL;
    }
    p->threads = threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake_workers, NULL);
    pthread_cond_init(&p->wake_caller, NULL);
    pthread_cond_init(&p->wake_barrier, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_sleeps, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->refs, 1);
    atomic_init(&p->spins, POOL_SPINS);
    atomic_init(&p->barrier_round, 0);
    atomic_init(&p->barrier_waiting, 0);
    atomic_init(&p->barrier_sleepers, 0);
    elastic_init(&p->elastic);
    for (int lane = 1; lane < threads; lane++) {
        worker_arg *arg = malloc(sizeof *arg);
        if (arg) *arg = (worker_arg){ p, lane };
        int rc = arg ? pthread_create(&p->workers[lane - 1], NULL, worker_main, arg) : -1;
        if (rc != 0) {
            free(arg);
            pool_free(p);
            AE_ERROR(AE_EIO, "cannot start thread %d of a pool of %d: %s", lane + 1, threads,
                     rc > 0 ? strerror(rc) : "out of memory");
            return NULL;
        }
        p->started++;
    }
    return p;
}

pool *pool_retain(pool *p)
{
    if (p) atomic_fetch_add(&p->refs, 1);
    return p;
}

void pool_free(pool *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) > 1) return;
    if (p->started > 0) {
        atomic_store(&p->stop, 1);
        post(p);
        for (int i = 0; i < p->started; i++) pthread_join(p->workers[i], NULL);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake_workers);
    pthread_cond_destroy(&p->wake_caller);
    pthread_cond_destroy(&p->wake_barrier);
    free(p->workers);
    free(p);
}

int pool_threads(const pool *p) { return p ? p->threads : 1; }

void pool_run(pool *p, pool_task task, void *ctx)
{
    if (!p || p->threads == 1) {
        task(ctx, 0, 1);
        return;
    }
    p->task = task;
    p->ctx = ctx;
    atomic_store(&p->pending, p->threads - 1);
    post(p);
    task(ctx, 0, p->threads);
    const int spins = spin_budget(p);
    for (int spin = 0; spin < spins; spin++) {
        if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0) {
            if (spin > 0) spin_outcome(p, 0.0);
            return;
        }
        cpu_relax();
    }
    const double asleep = seconds_now();
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->caller_sleeps, 1);
    while (atomic_load(&p->pending) != 0) pthread_cond_wait(&p->wake_caller, &p->lock);
    atomic_store(&p->caller_sleeps, 0);
    pthread_mutex_unlock(&p->lock);
    spin_outcome(p, seconds_now() - asleep);
}

void pool_share(size_t n, size_t align, int lane, int lanes, size_t *first, size_t *end)
{
    if (align == 0) align = 1;
    size_t from = n * (size_t)lane / (size_t)lanes / align * align;
    size_t to = lane + 1 == lanes ? n : n * (size_t)(lane + 1) / (size_t)lanes / align * align;
    *first = from;
    *end = to;
}

/* The last lane to arrive starts the next round and wakes the lanes that sleep; the others
 * wait for it, spinning for a while (a barrier is short when every lane has a processor: the
 * lanes of a task do equal shares), then asleep on wake_barrier. */
void pool_barrier(pool *p)
{
    if (!p || p->threads == 1) return;
    const unsigned round = atomic_load(&p->barrier_round);
    if (atomic_fetch_add(&p->barrier_waiting, 1) == p->threads - 1) {
        atomic_store(&p->barrier_waiting, 0);
        atomic_fetch_add(&p->barrier_round, 1);
        if (atomic_load(&p->barrier_sleepers) > 0) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_broadcast(&p->wake_barrier);
            pthread_mutex_unlock(&p->lock);
        }
        return;
    }
    const int spins = spin_budget(p);
    for (int spin = 0; spin < spins; spin++) {
        if (atomic_load_explicit(&p->barrier_round, memory_order_acquire) != round) {
            if (spin > 0) spin_outcome(p, 0.0);
            return;
        }
        cpu_relax();
    }
    const double asleep = seconds_now();
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->barrier_sleepers, 1);
    while (atomic_load(&p->barrier_round) == round) pthread_cond_wait(&p->wake_barrier, &p->lock);
    atomic_fetch_sub(&p->barrier_sleepers, 1);
    pthread_mutex_unlock(&p->lock);
    spin_outcome(p, seconds_now() - asleep);
}

int pool_step(pool *p)
{
    if (!p || p->threads == 1) return 0;
    const int before = p->elastic.threads;
    const int way = elastic_step(&p->elastic, seconds_now());
    if (way && !before)              /* back on the threads: they spin again as long as at first */
        atomic_store_explicit(&p->spins, POOL_SPINS, memory_order_relaxed);
    return way;
}

int pool_on_threads(const pool *p) { return p && p->threads > 1 && elastic_way(&p->elastic); }

void pool_pause(pool *p)
{
    if (p) elastic_pause(&p->elastic);
}

const elastic *pool_elastic(const pool *p) { return p ? &p->elastic : NULL; }

void pool_pin(pool *p, int way)
{
    if (p) elastic_pin(&p->elastic, way);
}
