/* ticker.h — a periodic timer thread: calls tick(ctx) every interval until stopped, for the
 * components that refresh or export on a period (price reloads, metrics exports, sampling
 * decisions).
 *
 * The one idea: deadlines sit on a fixed grid measured on CLOCK_MONOTONIC (start + k x interval),
 * so a wall-clock jump neither stalls nor hurries the ticker, a late tick does not push the
 * following ones back (no drift), and a tick that overruns skips the grid points it missed instead
 * of running them back to back (no burst).
 *
 * Ownership: a struct ticker is embedded in its owner (no allocation); all zero (calloc, `= {0}`)
 * is a stopped ticker. ticker_start creates its thread, mutex and condition variable; ticker_stop
 * releases them, after which the ticker may be started again or its memory freed. The owner must
 * call ticker_stop before freeing the memory of the ticker or of ctx.
 *
 * Thread-safety: ticker_start and ticker_stop are the owner's life-cycle calls and must not run
 * concurrently with each other on the same ticker (a component's start/shutdown/destroy already
 * are sequential). tick runs on the ticker's own thread, one call at a time, without any lock of
 * the ticker held; it may take its owner's locks, but must not call ticker_stop on its own ticker
 * (the join would wait for itself) and must not be waited on by a caller of ticker_stop that
 * holds a lock tick takes.
 *
 * Errors: ticker_start returns 0, or -1 with err set (interval not positive, no tick function,
 * thread or synchronisation objects not created); on failure the ticker stays stopped. */
#ifndef LLMOTLP_TICKER_H
#define LLMOTLP_TICKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

/* Fields are private to ticker.c; the struct is public only so that owners can embed it. */
struct ticker {
    pthread_mutex_t mu;        /* guards stopping */
    pthread_cond_t wake;       /* on CLOCK_MONOTONIC; signalled by ticker_stop */
    pthread_t thread;
    int64_t interval_ns;
    void (*tick)(void *ctx);
    void *ctx;
    bool stopping;
    bool running;              /* owner's view: a successful start not yet stopped */
};

/* Starts calling tick(ctx) every interval_ns nanoseconds, the first call one interval after the
 * start. Starting a running ticker does nothing and returns 0: a component started once per
 * pipeline it is in keeps its one timer, with the interval and function of the first start. */
int ticker_start(struct ticker *t, int64_t interval_ns, void (*tick)(void *ctx), void *ctx,
                 struct error *err);

/* Stops the ticker and joins its thread: a tick under way finishes first, and once this returns
 * tick is not running and is never called again (until a new ticker_start). Does nothing on a
 * ticker that was never started or is already stopped. */
void ticker_stop(struct ticker *t);

#endif
