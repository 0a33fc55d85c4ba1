/* elastic.h: whether a loop's next step should run on a pool's threads or on the calling thread
 * alone, whichever is faster now.
 *
 * Two threads pay only when each has a processor and the steps are long enough to cover the
 * handovers between them. Both depend on the moment: another program starts, and the second
 * thread waits for a core while the first waits for it. Where the numbers are the same either
 * way (an all-dense model split by units; a model split by rows whose lanes then run in turn on
 * one thread: threads.h), nothing forbids choosing at every step, so
 * an elastic loop times its steps in windows of ELASTIC_WINDOW, now and then runs one window the
 * other way, and keeps the faster:
 *
 *     elastic e;
 *     elastic_init(&e);
 *     for (...) {                            // each step of the loop
 *         int threads = elastic_step(&e, now_in_seconds);   // 1: the threads, 0: alone
 *         ...
 *     }
 *     elastic_pause(&e);                     // an evaluation pass: not a step's time
 *
 * The first window uses the threads; the next one runs alone (a probe), and from then on the
 * faster way stays. The slower way is timed again after ELASTIC_MIN_GAP windows, twice as many
 * after each probe that confirms the choice (up to ELASTIC_MAX_GAP: about one window in 65 is
 * then run the slower way), and at once when the threads, chosen, get ELASTIC_DRIFT times slower
 * than when they were chosen (another program has started). Steps alone that slow down are no
 * reason to look: more load makes the threads slower still (and beside a busy program the times
 * wander, so a probe at every wobble would cost more than it finds). A window's first step after
 * a change of way is not timed (a sleeping thread wakes up then), nor is the first step of all
 * (it meets every first use: the dense VAE's took 15 to 80 ms against 2, and counted, it made a
 * first window on the threads look slower than alone). A probe ends early, its way
 * found slower, once its steps have taken ELASTIC_GIVE_UP steps' worth more than the chosen way's
 * would: beside a busy program a step on the threads can take several times one alone, and a
 * whole window of them would cost more than the probe could ever win back.
 *
 * It only reads the times it is given: the same times, the same choices (tests/test_elastic.c).
 */
#ifndef AE_FAST_ELASTIC_H
#define AE_FAST_ELASTIC_H

#define ELASTIC_WINDOW 16      /* steps timed together */
#define ELASTIC_MIN_GAP 4      /* windows between probes, at first */
#define ELASTIC_MAX_GAP 64     /* ... at most */
#define ELASTIC_DRIFT 1.3      /* the threads, chosen, this much slower than when chosen: probe at once */
#define ELASTIC_GIVE_UP 2      /* a probe this many of the chosen way's steps behind: it ends there */

typedef struct elastic {
    int threads;               /* the way of the current window: 1 on the threads, 0 alone */
    int chosen;                /* the faster way, as far as known */
    int probing;               /* 1 while this window times the way not chosen */
    int steps;                 /* steps timed in this window */
    double seconds;            /* their time */
    double last;               /* when the previous step began */
    int untimed;               /* how many next calls do not add the time since the previous one */
    double per_step[2];        /* the latest window's mean step time alone [0] and on the threads [1]; 0: not yet */
    double chosen_at;          /* the chosen way's step time when it was chosen */
    int gap, until_probe;      /* windows between probes; windows left before the next */
    long steps_on[2];          /* steps begun alone [0] and on the threads [1], for reports */
    int pinned;                /* -1: choose; 0 or 1: always that way (elastic_pin) */
    int paused;                /* 1 from elastic_pause to the next step: the work between is not a step's */
} elastic;

void elastic_init(elastic *e);
/* A step begins at `now` (seconds, any fixed origin): 1 to run it on the threads, 0 alone. */
int elastic_step(elastic *e, double now);
/* The time until the next elastic_step is not a step's. */
void elastic_pause(elastic *e);
/* The way work runs now, 1 on the threads, 0 alone: the current window's during the steps; between
 * a pause and the next step (an evaluation pass, say), the faster way as far as known, even while
 * the steps' window probes the other (or the pinned way). */
int elastic_way(const elastic *e);
/* way 0 or 1: every step that way from now on (a bench timing one way, a test comparing them);
 * -1: choose again. */
void elastic_pin(elastic *e, int way);

#endif
