/* test_elastic.c: the choice between a pool's threads and the caller alone (fast/elastic.h), fed
 * with made-up step times: it tries both, keeps the faster, looks again less and less often while
 * the choice holds, at once when the chosen way slows down, and not across a pause; what runs in a
 * pause runs the faster way. */
#include <check.h>

#include "fast/elastic.h"
#include "testutil.h"

/* A clock for the steps: each step of the way `threads` took on_threads or alone seconds. */
typedef struct {
    elastic e;
    double now;
    double alone, on_threads;
} run;

static void run_start(run *r, double alone, double on_threads)
{
    elastic_init(&r->e);
    r->now = 100.0;
    r->alone = alone;
    r->on_threads = on_threads;
}

/* n steps; returns how many of them ran on the threads */
static int steps(run *r, int n)
{
    int on = 0;
    for (int i = 0; i < n; i++) {
        const int way = elastic_step(&r->e, r->now);
        on += way;
        r->now += way ? r->on_threads : r->alone;
    }
    return on;
}

/* a new run, `windows` windows of steps into it */
static void run_settled(run *r, double alone, double on_threads, int windows)
{
    run_start(r, alone, on_threads);
    steps(r, windows * ELASTIC_WINDOW);
}

START_TEST(test_first_window_on_threads_then_a_probe)
{
    run r;
    run_start(&r, 1.0, 1.0);
    /* the first window: the threads, its first step untimed (plus the step that ends it, the first of the probe) */
    for (int i = 0; i <= ELASTIC_WINDOW + 1; i++) ck_assert_int_eq(elastic_step(&r.e, r.now + i), i < ELASTIC_WINDOW + 1);
    ck_assert_int_eq(r.e.probing, 1);
    ck_assert_double_eq(r.e.per_step[1], 1.0);
}
END_TEST

/* The first step of all meets every first use (a model's pages, caches, one-time checks) and may
 * take many steps' time: it is not timed, so a first window on the threads is not lost to it. */
START_TEST(test_the_first_step_is_not_timed)
{
    run r;
    run_start(&r, 1.0, 0.5);
    elastic_step(&r.e, r.now);
    r.now += 50.0;                           /* the first step */
    steps(&r, ELASTIC_WINDOW + 1);           /* the call that ends it, then a window's */
    ck_assert_double_eq(r.e.per_step[1], 0.5);
    steps(&r, 3 * ELASTIC_WINDOW);
    ck_assert_int_eq(r.e.chosen, 1);
}
END_TEST

START_TEST(test_keeps_the_faster_way)
{
    run slow_threads, fast_threads;
    run_start(&slow_threads, 1.0, 2.0);     /* a neighbour: the threads wait for each other */
    run_start(&fast_threads, 1.0, 0.6);
    steps(&slow_threads, 40 * ELASTIC_WINDOW);
    steps(&fast_threads, 40 * ELASTIC_WINDOW);
    ck_assert_int_eq(slow_threads.e.chosen, 0);
    ck_assert_int_eq(fast_threads.e.chosen, 1);
    /* once chosen, most steps go the faster way: after the first probes, one window in gap+1 */
    const int on = steps(&slow_threads, 200 * ELASTIC_WINDOW);
    ck_assert_int_le(on, 200 * ELASTIC_WINDOW / 8);
    const int on_fast = steps(&fast_threads, 200 * ELASTIC_WINDOW);
    ck_assert_int_ge(on_fast, 200 * ELASTIC_WINDOW * 7 / 8);
    ck_assert_double_eq(slow_threads.e.per_step[0], 1.0);
    ck_assert_double_eq(slow_threads.e.per_step[1], 2.0);
}
END_TEST

START_TEST(test_probes_grow_rarer_up_to_the_most)
{
    run r;
    run_settled(&r, 1.0, 3.0, 4);
    ck_assert_int_eq(r.e.chosen, 0);
    ck_assert_int_eq(r.e.gap, ELASTIC_MIN_GAP);         /* the first probe changed the choice */
    steps(&r, 8 * ELASTIC_WINDOW);
    ck_assert_int_eq(r.e.gap, 2 * ELASTIC_MIN_GAP);     /* the next one confirmed it: twice the gap */
    steps(&r, 2000 * ELASTIC_WINDOW);
    ck_assert_int_eq(r.e.gap, ELASTIC_MAX_GAP);
    /* at the most, one window in ELASTIC_MAX_GAP + 1 the slower way (and the untimed step that starts it) */
    const long before = r.e.steps_on[1];
    steps(&r, 10 * (ELASTIC_MAX_GAP + 1) * ELASTIC_WINDOW);
    ck_assert_int_le(r.e.steps_on[1] - before, 11 * (ELASTIC_WINDOW + 1));
    ck_assert_int_ge(r.e.steps_on[1] - before, 9 * 2);   /* but it does look (a losing probe ends early) */
}
END_TEST

START_TEST(test_a_slower_chosen_way_probes_at_once)
{
    run r;
    run_settled(&r, 1.0, 0.5, 300);
    ck_assert_int_eq(r.e.chosen, 1);
    ck_assert_int_gt(r.e.gap, ELASTIC_MIN_GAP);
    r.on_threads = 2.0;                     /* another program starts */
    steps(&r, 6 * ELASTIC_WINDOW);          /* a window to notice, one to probe (the last probe's, maybe, first) */
    ck_assert_int_eq(r.e.chosen, 0);
    ck_assert_int_eq(r.e.gap, ELASTIC_MIN_GAP);
    r.on_threads = 0.5;                     /* it stops: the next probe finds the threads again */
    steps(&r, (ELASTIC_MIN_GAP + 4) * ELASTIC_WINDOW);
    ck_assert_int_eq(r.e.chosen, 1);
}
END_TEST

/* steps on the threads of one probe, from a run settled alone */
static long one_probe(run *r)
{
    while (r->e.probing || r->e.threads) steps(r, 1);          /* out of any probe */
    const long before = r->e.steps_on[1];
    while (!r->e.probing) steps(r, 1);                         /* into the next */
    while (r->e.probing) steps(r, 1);                          /* and through it */
    return r->e.steps_on[1] - before;
}

/* a probe that falls ELASTIC_GIVE_UP steps behind the chosen way ends there; one that keeps up,
 * though slower, times its whole window */
START_TEST(test_a_losing_probe_ends_early)
{
    run r;
    run_settled(&r, 1.0, 5.0, 300);           /* beside a busy program: a step on the threads 5 times one alone */
    ck_assert_int_eq(r.e.chosen, 0);
    ck_assert_int_le(one_probe(&r), 3);       /* the untimed step that wakes the thread, a timed one or two */
    ck_assert_int_eq(r.e.chosen, 0);
    ck_assert_double_eq(r.e.per_step[1], 5.0);
    run close;
    run_settled(&close, 1.0, 1.1, 300);
    ck_assert_int_eq(close.e.chosen, 0);
    ck_assert_int_ge(one_probe(&close), ELASTIC_WINDOW);
    ck_assert_int_eq(close.e.chosen, 0);
    /* a faster way is never given up: the probe that finds it runs its window, and it is chosen */
    run better;
    run_settled(&better, 1.0, 5.0, 300);
    while (better.e.probing || better.e.threads) steps(&better, 1);
    better.on_threads = 0.5;
    ck_assert_int_ge(one_probe(&better), ELASTIC_WINDOW);
    ck_assert_int_eq(better.e.chosen, 1);
}
END_TEST

/* alone, a slowdown is no reason to look again before the gap is over: more load slows the threads too */
START_TEST(test_a_slower_way_alone_waits_for_its_probe)
{
    run r;
    run_settled(&r, 1.0, 3.0, 300);
    while (r.e.probing || r.e.threads) steps(&r, 1);   /* out of a probe */
    ck_assert_int_eq(r.e.chosen, 0);
    const int gap = r.e.gap;
    ck_assert_int_gt(gap, ELASTIC_MIN_GAP);
    const long before = r.e.steps_on[1];
    r.alone = 2.0;
    r.on_threads = 9.0;
    steps(&r, (r.e.until_probe - 1) * ELASTIC_WINDOW);   /* the windows left before the next probe */
    ck_assert_int_eq(r.e.steps_on[1], before);
    ck_assert_int_ge(r.e.gap, gap);
}
END_TEST

START_TEST(test_a_pause_is_not_a_step)
{
    run r;
    run_start(&r, 1.0, 1.0);
    steps(&r, ELASTIC_WINDOW / 2);
    elastic_pause(&r.e);
    r.now += 1000.0;                        /* an evaluation pass */
    steps(&r, ELASTIC_WINDOW / 2 + 3);       /* the first step and the one across the pause untimed */
    ck_assert_double_eq(r.e.per_step[1], 1.0);
    /* a clock that goes back is ignored too */
    const double seconds = r.e.seconds;
    const int timed = r.e.steps;
    elastic_step(&r.e, 0.0);
    ck_assert_double_eq(r.e.seconds, seconds);
    ck_assert_int_eq(r.e.steps, timed);
}
END_TEST

/* Between a pause and the next step (an evaluation pass), work runs the faster way known, even
 * when the steps' window was probing the other; the next step goes back to the window's way. */
START_TEST(test_a_pause_runs_the_faster_way)
{
    run r;
    run_settled(&r, 1.0, 0.5, 8);            /* the threads chosen */
    ck_assert_int_eq(r.e.chosen, 1);
    ck_assert_int_eq(elastic_way(&r.e), 1);
    int guard = 0;
    while (!(r.e.probing && r.e.threads == 0) && guard++ < 100 * ELASTIC_WINDOW) steps(&r, 1);   /* a probe alone */
    ck_assert_int_eq(r.e.threads, 0);
    ck_assert_int_eq(elastic_way(&r.e), 0);  /* the probe's steps run alone */
    elastic_pause(&r.e);
    ck_assert_int_eq(elastic_way(&r.e), 1);  /* the evaluation on the threads */
    ck_assert_int_eq(steps(&r, 1), 0);        /* the probe goes on after it */
    ck_assert_int_eq(elastic_way(&r.e), 0);
    elastic_pin(&r.e, 0);                    /* pinned: that way, paused or not */
    elastic_pause(&r.e);
    ck_assert_int_eq(elastic_way(&r.e), 0);
}
END_TEST

START_TEST(test_pinned_ways_stay)
{
    run r;
    run_start(&r, 1.0, 5.0);
    elastic_pin(&r.e, 1);
    ck_assert_int_eq(steps(&r, 10 * ELASTIC_WINDOW), 10 * ELASTIC_WINDOW);   /* slower, but pinned */
    elastic_pin(&r.e, 0);
    ck_assert_int_eq(steps(&r, 10 * ELASTIC_WINDOW), 0);
    elastic_pin(&r.e, -1);                  /* free again: it chooses */
    steps(&r, 20 * ELASTIC_WINDOW);
    ck_assert_int_eq(r.e.chosen, 0);
    ck_assert_int_eq(r.e.steps_on[0] + r.e.steps_on[1], 40 * ELASTIC_WINDOW);
}
END_TEST

/* the same times, the same choices */
START_TEST(test_same_times_same_choices)
{
    run a, b;
    run_start(&a, 1.0, 0.9);
    run_start(&b, 1.0, 0.9);
    for (int i = 0; i < 100 * ELASTIC_WINDOW; i++) {
        const int way = elastic_step(&a.e, a.now);
        ck_assert_int_eq(elastic_step(&b.e, b.now), way);
        const double dt = (i % 7 == 0 ? 1.5 : 1.0) * (way ? a.on_threads : a.alone);
        a.now += dt;
        b.now += dt;
    }
}
END_TEST

Suite *elastic_suite(void)
{
    Suite *s = suite_create("elastic");
    test_add(test_case(s, "Core", 0), test_first_window_on_threads_then_a_probe, test_the_first_step_is_not_timed, test_keeps_the_faster_way, test_a_losing_probe_ends_early,
             test_probes_grow_rarer_up_to_the_most, test_a_slower_chosen_way_probes_at_once,
             test_a_slower_way_alone_waits_for_its_probe, test_a_pause_is_not_a_step, test_a_pause_runs_the_faster_way,
             test_pinned_ways_stay, test_same_times_same_choices);
    return s;
}
