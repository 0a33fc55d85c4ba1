/* elastic.c: see elastic.h. */
#include "fast/elastic.h"

#include <string.h>

void elastic_init(elastic *e)
{
    memset(e, 0, sizeof *e);
    e->threads = e->chosen = 1;       /* the threads first: the caller asked for them */
    e->untimed = 2;                   /* no step before the first; the first wakes the threads and
                                         meets every first use (pages, caches, one-time checks) */
    e->gap = ELASTIC_MIN_GAP;
    e->pinned = -1;
}

void elastic_pin(elastic *e, int way)
{
    e->pinned = way < 0 ? -1 : way > 0;
    if (e->pinned >= 0 && e->threads != e->pinned) {
        e->threads = e->pinned;
        e->untimed = 1;
    }
}

void elastic_pause(elastic *e)
{
    e->untimed = 1;
    e->paused = 1;
}

int elastic_way(const elastic *e)
{
    if (!e->paused) return e->threads;
    return e->pinned >= 0 ? e->pinned : e->chosen;
}

/* The window just timed: its mean step time kept for its way; then the way of the next window. */
static void end_window(elastic *e)
{
    const int way = e->threads;
    const double mean = e->seconds / e->steps;
    e->per_step[way] = mean;
    e->steps = 0;
    e->seconds = 0.0;
    int next = way;
    if (e->probing) {                             /* both ways timed: keep the faster */
        e->probing = 0;
        const int faster = e->per_step[1] <= e->per_step[0];
        e->gap = faster == e->chosen ? (2 * e->gap < ELASTIC_MAX_GAP ? 2 * e->gap : ELASTIC_MAX_GAP) : ELASTIC_MIN_GAP;
        e->chosen = faster;
        e->chosen_at = e->per_step[faster];
        e->until_probe = e->gap;
        next = faster;
    } else if (e->per_step[!way] == 0.0 || --e->until_probe <= 0 || (way && mean > ELASTIC_DRIFT * e->chosen_at)) {
        if (e->until_probe > 0) e->gap = ELASTIC_MIN_GAP;   /* the load changed: look closely again */
        e->probing = 1;
        next = !way;
    }
    if (next != way) {
        e->threads = next;
        e->untimed = 1;                           /* the next step wakes or parks a thread: not timed */
    }
}

int elastic_step(elastic *e, double now)
{
    e->paused = 0;
    if (e->untimed > 0) {
        e->untimed--;
    } else if (now >= e->last) {
        e->seconds += now - e->last;
        e->steps++;
    }
    e->last = now;
    /* a probe that has already lost ELASTIC_GIVE_UP steps' worth of time against the chosen way
     * ends here: beside a busy program a step on the threads can take several times one alone */
    const int lost = e->probing && e->steps > 0 &&
                     e->seconds > e->per_step[e->chosen] * (e->steps + ELASTIC_GIVE_UP);
    if ((e->steps >= ELASTIC_WINDOW || lost) && e->pinned < 0) end_window(e);
    e->steps_on[e->threads]++;
    return e->threads;
}
