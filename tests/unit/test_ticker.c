/* test_ticker.c — the periodic timer thread: it ticks, stop joins and ends the calls, stop is safe
 * without a start and twice, a second start keeps the first timer, bad arguments are refused, and
 * a tick that overruns is not followed by a burst of catch-up calls.
 *
 * No assertion is on speed: waits for ticks are bounded polls with generous limits, and the burst
 * test bounds the number of calls by the time that was actually measured, so a slow machine only
 * loosens it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/ticker.h"
#include "tests/unit/testutil.h"

#define MS 1000000LL

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct probe {
    atomic_int calls;
    atomic_int inside;       /* 1 while a tick runs */
    atomic_int overlap;      /* set when two ticks ever ran at once */
    int slow_ms;             /* every tick sleeps this long */
    int first_slow_ms;       /* the first tick sleeps this long */
    _Atomic int64_t first_end_ns;  /* when the first tick returned */
    atomic_int calls_after_first;
};

static void probe_tick(void *ctx)
{
    struct probe *p = ctx;
    if (atomic_exchange(&p->inside, 1))
        atomic_store(&p->overlap, 1);
    int n = atomic_fetch_add(&p->calls, 1) + 1;
    if (n > 1)
        atomic_fetch_add(&p->calls_after_first, 1);
    if (n == 1 && p->first_slow_ms > 0)
        tu_sleep_ms(p->first_slow_ms);
    if (p->slow_ms > 0)
        tu_sleep_ms(p->slow_ms);
    if (n == 1)
        atomic_store(&p->first_end_ns, mono_ns());
    atomic_store(&p->inside, 0);
}

/* Polls (bounded, generously: 10 s) until *v >= want; returns the last value seen. */
static int wait_at_least(atomic_int *v, int want)
{
    int got = atomic_load(v);
    for (int i = 0; i < 2000 && got < want; i++) {
        tu_sleep_ms(5);
        got = atomic_load(v);
    }
    return got;
}

static void test_ticks_happen(void **state)
{
    (void)state;
    struct probe p = {0};
    struct ticker t = {0};
    struct error err = {0};
    assert_int_equal(ticker_start(&t, 5 * MS, probe_tick, &p, &err), 0);
    assert_true(wait_at_least(&p.calls, 3) >= 3);
    ticker_stop(&t);
    assert_int_equal(atomic_load(&p.overlap), 0);
}

/* A tick under way when ticker_stop is called finishes before stop returns, and none follows. */
static void test_stop_joins_and_ends_calls(void **state)
{
    (void)state;
    struct probe p = {.slow_ms = 50};
    struct ticker t = {0};
    struct error err = {0};
    assert_int_equal(ticker_start(&t, 2 * MS, probe_tick, &p, &err), 0);
    assert_true(wait_at_least(&p.inside, 1) == 1); /* stop lands inside a tick */
    ticker_stop(&t);
    assert_int_equal(atomic_load(&p.inside), 0);
    int calls = atomic_load(&p.calls);
    assert_true(calls >= 1);
    tu_sleep_ms(30); /* 15 intervals: any call after stop would show */
    assert_int_equal(atomic_load(&p.calls), calls);
}

static void test_stop_without_start(void **state)
{
    (void)state;
    struct ticker t = {0};
    ticker_stop(&t);
    ticker_stop(&t);
    /* still a usable, stopped ticker */
    struct probe p = {0};
    struct error err = {0};
    assert_int_equal(ticker_start(&t, 2 * MS, probe_tick, &p, &err), 0);
    assert_true(wait_at_least(&p.calls, 1) >= 1);
    ticker_stop(&t);
}

static void test_stop_twice_and_restart(void **state)
{
    (void)state;
    struct probe p = {0};
    struct ticker t = {0};
    struct error err = {0};
    assert_int_equal(ticker_start(&t, 2 * MS, probe_tick, &p, &err), 0);
    assert_true(wait_at_least(&p.calls, 1) >= 1);
    ticker_stop(&t);
    int calls = atomic_load(&p.calls);
    ticker_stop(&t);
    tu_sleep_ms(20);
    assert_int_equal(atomic_load(&p.calls), calls);

    assert_int_equal(ticker_start(&t, 2 * MS, probe_tick, &p, &err), 0);
    assert_true(wait_at_least(&p.calls, calls + 2) >= calls + 2);
    ticker_stop(&t);
    ticker_stop(&t);
}

/* A second start of a running ticker keeps the first timer: the second function never runs. */
static void test_start_twice_keeps_first(void **state)
{
    (void)state;
    struct probe a = {0}, b = {0};
    struct ticker t = {0};
    struct error err = {0};
    assert_int_equal(ticker_start(&t, 2 * MS, probe_tick, &a, &err), 0);
    assert_int_equal(ticker_start(&t, 2 * MS, probe_tick, &b, &err), 0);
    assert_true(wait_at_least(&a.calls, 3) >= 3);
    ticker_stop(&t);
    assert_int_equal(atomic_load(&b.calls), 0);
    assert_int_equal(atomic_load(&a.overlap), 0);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct probe p = {0};
    struct ticker t = {0};
    struct error err = {0};
    assert_int_equal(ticker_start(&t, 0, probe_tick, &p, &err), -1);
    assert_non_null(strstr(err.msg, "positive"));
    error_clear(&err);
    assert_int_equal(ticker_start(&t, -5 * MS, probe_tick, &p, &err), -1);
    assert_non_null(strstr(err.msg, "positive"));
    error_clear(&err);
    assert_int_equal(ticker_start(&t, 5 * MS, NULL, &p, &err), -1);
    assert_non_null(strstr(err.msg, "tick"));
    ticker_stop(&t); /* a refused start left it stopped */
    assert_int_equal(ticker_start(&t, 2 * MS, probe_tick, &p, &err), 0);
    assert_true(wait_at_least(&p.calls, 1) >= 1);
    ticker_stop(&t);
}

/* The first tick overruns by about 20 intervals. Ticks that caught up on the missed points would
 * run back to back right after it; skipping them leaves at most one call per interval from the
 * moment it returned. The bound counts calls against the time measured, never time itself: if
 * the k-th call after the slow one came at grid point g_k, then g_k >= g_1 + (k-1) x interval,
 * g_1 > first_end and g_k <= stop, so k <= (stop - first_end) / interval + 1. */
static void test_overrun_does_not_burst(void **state)
{
    (void)state;
    const int64_t interval = 5 * MS;
    struct probe p = {.first_slow_ms = 100};
    struct ticker t = {0};
    struct error err = {0};
    int64_t t0 = mono_ns();
    assert_int_equal(ticker_start(&t, interval, probe_tick, &p, &err), 0);
    assert_true(wait_at_least(&p.calls_after_first, 3) >= 3);
    ticker_stop(&t);
    int64_t t1 = mono_ns();

    int64_t first_end = atomic_load(&p.first_end_ns);
    assert_true(first_end > t0 && first_end <= t1);
    int after = atomic_load(&p.calls_after_first);
    assert_true(after >= 3);
    assert_true((int64_t)after <= (t1 - first_end) / interval + 1);
    /* and over the whole run, never more calls than grid points passed */
    assert_true((int64_t)atomic_load(&p.calls) <= (t1 - t0) / interval + 1);
    assert_int_equal(atomic_load(&p.overlap), 0);
}

/* Every tick longer than the interval: calls stay below one per interval of measured time. */
static void test_slow_ticks_bounded(void **state)
{
    (void)state;
    const int64_t interval = 4 * MS;
    struct probe p = {.slow_ms = 10};
    struct ticker t = {0};
    struct error err = {0};
    int64_t t0 = mono_ns();
    assert_int_equal(ticker_start(&t, interval, probe_tick, &p, &err), 0);
    assert_true(wait_at_least(&p.calls, 5) >= 5);
    ticker_stop(&t);
    int64_t t1 = mono_ns();
    assert_true((int64_t)atomic_load(&p.calls) <= (t1 - t0) / interval + 1);
    assert_int_equal(atomic_load(&p.overlap), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks_happen),
        cmocka_unit_test(test_stop_joins_and_ends_calls),
        cmocka_unit_test(test_stop_without_start),
        cmocka_unit_test(test_stop_twice_and_restart),
        cmocka_unit_test(test_start_twice_keeps_first),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_overrun_does_not_burst),
        cmocka_unit_test(test_slow_ticks_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
