/* ticker.c — the periodic timer thread of ticker.h.
 *
 * The one idea: the thread waits on a condition variable bound to CLOCK_MONOTONIC until the next
 * grid point, re-reading the clock after every wake-up (a spurious one waits on for the same
 * point; ticker_stop's signal ends the wait); after a tick the next point is the previous one plus
 * the interval, moved forward by whole intervals when the tick overran it. */
#include "core/ticker.h"

#include <string.h>
#include <time.h>

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* a + b for b > 0, saturating: a huge interval means "not in this process's lifetime". */
static int64_t add_sat(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* The first grid point after `now`, for a grid through `prev` with step `interval`. */
static int64_t next_deadline(int64_t prev, int64_t interval, int64_t now)
{
    int64_t next = add_sat(prev, interval);
    if (next > now || next == INT64_MAX)
        return next;
    /* Overran: skip the missed points, keeping the grid's phase. */
    int64_t missed = (now - next) / interval + 1;
    if (missed > (INT64_MAX - next) / interval)
        return INT64_MAX;
    return next + missed * interval;
}

static void *ticker_main(void *arg)
{
    struct ticker *t = arg;
    int64_t next = add_sat(monotonic_ns(), t->interval_ns);
    pthread_mutex_lock(&t->mu);
    for (;;) {
        struct timespec at = {.tv_sec = (time_t)(next / 1000000000LL),
                              .tv_nsec = (long)(next % 1000000000LL)};
        while (!t->stopping && monotonic_ns() < next)
            pthread_cond_timedwait(&t->wake, &t->mu, &at);
        if (t->stopping)
            break;
        pthread_mutex_unlock(&t->mu);
        t->tick(t->ctx);
        next = next_deadline(next, t->interval_ns, monotonic_ns());
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

int ticker_start(struct ticker *t, int64_t interval_ns, void (*tick)(void *ctx), void *ctx,
                 struct error *err)
{
    if (t->running)
        return 0;
    if (interval_ns <= 0)
        return error_set(err, "timer interval must be positive (got %lld ns)",
                         (long long)interval_ns);
    if (!tick)
        return error_set(err, "timer has no tick function");

    int rc = pthread_mutex_init(&t->mu, NULL);
    if (rc != 0)
        return error_set(err, "cannot create the timer's mutex: %s", strerror(rc));
    pthread_condattr_t ca;
    rc = pthread_condattr_init(&ca);
    if (rc == 0) {
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (rc == 0)
            rc = pthread_cond_init(&t->wake, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (rc != 0) {
        pthread_mutex_destroy(&t->mu);
        return error_set(err, "cannot create the timer's condition variable: %s", strerror(rc));
    }
    t->interval_ns = interval_ns;
    t->tick = tick;
    t->ctx = ctx;
    t->stopping = false;
    rc = pthread_create(&t->thread, NULL, ticker_main, t);
    if (rc != 0) {
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->mu);
        return error_set(err, "cannot start the timer thread: %s", strerror(rc));
    }
    t->running = true;
    return 0;
}

void ticker_stop(struct ticker *t)
{
    if (!t->running)
        return;
    pthread_mutex_lock(&t->mu);
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->mu);
    t->running = false;
    t->stopping = false;
}
