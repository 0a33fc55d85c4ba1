/* pool.h: a few threads that run one task at once, each on its own share of the work.
 *
 *     pool *p = pool_alloc(2);        // the calling thread is lane 0, one new thread is lane 1
 *     pool_run(p, task, ctx);         // task(ctx, 0, 2) here and task(ctx, 1, 2) there; returns
 *                                     // when both have returned
 *     pool_free(p);
 *
 * Training runs a task a few times per batch of 32 images, some tens of microseconds of
 * work each, and waking a sleeping thread costs about as much. So between tasks a worker
 * first spins for a while (about a tenth of a millisecond), watching for the next one, and
 * only then sleeps; the caller waits for the workers the same way.
 * A pool is used by one calling thread at a time; tasks must not call pool_run.
 */
#ifndef AE_POOL_H
#define AE_POOL_H

#include <stddef.h>

#define POOL_MAX_THREADS 64

typedef struct pool pool;
/* One lane's share of a task: lane in 0..lanes-1. */
typedef void (*pool_task)(void *ctx, int lane, int lanes);

/* threads in 1..POOL_MAX_THREADS (1 starts no thread: pool_run calls the task here).
 * NULL with error_message (AE_EINVAL, AE_ENOMEM, or AE_EIO when a thread cannot start). */
pool *pool_alloc(int threads);
void pool_free(pool *p);                 /* stops and joins the threads; NULL is a no-op */
/* One more owner of p (models that take turns on the same threads): p stops at the last
 * pool_free. The owners must not run tasks at the same time. Returns p. */
pool *pool_retain(pool *p);
int pool_threads(const pool *p);         /* lanes: 1 for NULL */

/* Runs task(ctx, lane, lanes) on every lane, lane 0 on the calling thread, and returns
 * when all have returned; what the tasks wrote is then visible to the caller. A NULL
 * pool runs task(ctx, 0, 1). */
void pool_run(pool *p, pool_task task, void *ctx);

/* Inside a task: every lane waits here until all lanes of the task have arrived, and sees
 * what the others wrote before. All lanes must call it equally often. No-op for one lane. */
void pool_barrier(pool *p);

/* Waiting lanes spin up to a budget of `pause` instructions, then sleep (pool.c). The budget after
 * a wait for a lane that should be running: doubled when the wait ended while spinning (asleep 0)
 * or after a short sleep, quartered after one of at least POOL_LONG_SLEEP seconds (the partner
 * had no processor); kept within POOL_MIN_SPINS..POOL_SPINS. */
#define POOL_SPINS 4000
#define POOL_MIN_SPINS 100
#define POOL_LONG_SLEEP 0.0003
int pool_spins_after(int spins, double asleep);

/* The part [first, end) of n items that lane `lane` of `lanes` takes: n·lane/lanes up to
 * n·(lane+1)/lanes, rounded down to a multiple of `align` (a cache line of floats keeps
 * two threads off the same line); the last lane ends at n. */
void pool_share(size_t n, size_t align, int lane, int lanes, size_t *first, size_t *end);

/* Elastic use, for a loop whose numbers are the same on the threads and on the caller alone
 * (elastic.h): pool_step(p) at the start of each step times the steps on the monotonic clock and
 * says whether this one should run on the threads (1) or on the caller alone (0); pool_on_threads
 * says it again to whoever runs the step's parts (every owner of p, pool_retain); pool_pause(p):
 * the time until the next pool_step is not a step's (an evaluation pass). A NULL or one-thread
 * pool always answers 0. pool_elastic: the choices so far, for reports. */
int pool_step(pool *p);
int pool_on_threads(const pool *p);
void pool_pause(pool *p);
const struct elastic *pool_elastic(const pool *p);
void pool_pin(pool *p, int way);          /* elastic_pin on the pool's choices */

#endif
