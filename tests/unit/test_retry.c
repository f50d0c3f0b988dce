/* test_retry.c — the retry policy (retry_begin / retry_next_delay) as pure arithmetic: growth by
 * the multiplier, the max_interval cap, jitter bounds, giving up at max_elapsed_time, retrying
 * forever with 0, retry disabled, and a server's throttle delay replacing the step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/exporter_helper.h"

#define MS 1000000LL
#define S 1000000000LL

static struct retry_config cfg(int64_t initial, int64_t max, int64_t elapsed, double mult,
                               double rf)
{
    struct retry_config c = {.enabled = true, .initial_interval = initial, .max_interval = max,
                             .max_elapsed_time = elapsed, .multiplier = mult,
                             .randomization_factor = rf};
    return c;
}

/* Without jitter the delays follow initial * multiplier^k, capped at max_interval. */
static void test_growth_and_cap(void **state)
{
    (void)state;
    struct {
        int64_t initial, max;
        double mult;
        int64_t want[6];
    } cases[] = {
        {100 * MS, 1000 * MS, 2.0, {100 * MS, 200 * MS, 400 * MS, 800 * MS, 1000 * MS, 1000 * MS}},
        {5 * S, 30 * S, 1.5, {5 * S, 7500 * MS, 11250 * MS, 16875 * MS, 25312500 * 1000LL, 30 * S}},
        {10 * MS, 10 * MS, 3.0, {10 * MS, 10 * MS, 10 * MS, 10 * MS, 10 * MS, 10 * MS}},
        {1 * S, 60 * S, 1.0, {1 * S, 1 * S, 1 * S, 1 * S, 1 * S, 1 * S}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct retry_config c = cfg(cases[i].initial, cases[i].max, 0, cases[i].mult, 0.0);
        struct retry_state st;
        retry_begin(&st, &c, 0);
        for (int k = 0; k < 6; k++) {
            int64_t d = retry_next_delay(&st, &c, 0, 0, 0.7);
            /* doubles carry the interval: allow 1 ns of rounding */
            assert_true(d >= cases[i].want[k] - 1 && d <= cases[i].want[k] + 1);
        }
        assert_int_equal(st.attempts, 6);
    }
}

/* rand01 = 0 draws the low end interval*(1-rf); rand01 -> 1 approaches interval*(1+rf). */
static void test_jitter_bounds(void **state)
{
    (void)state;
    double factors[] = {0.5, 0.1, 1.0, 0.0};
    for (size_t i = 0; i < sizeof factors / sizeof factors[0]; i++) {
        double rf = factors[i];
        struct retry_config c = cfg(1 * S, 30 * S, 0, 1.5, rf);
        struct retry_state lo, hi, mid;
        retry_begin(&lo, &c, 0);
        retry_begin(&hi, &c, 0);
        retry_begin(&mid, &c, 0);
        double interval = 1e9;
        for (int k = 0; k < 8; k++) {
            int64_t dl = retry_next_delay(&lo, &c, 0, 0, 0.0);
            int64_t dh = retry_next_delay(&hi, &c, 0, 0, 0.999999);
            int64_t dm = retry_next_delay(&mid, &c, 0, 0, 0.5);
            int64_t want_lo = (int64_t)(interval * (1.0 - rf));
            int64_t want_hi = (int64_t)(interval * (1.0 + rf));
            assert_true(dl >= want_lo - 1 && dl <= want_lo + 1);
            assert_true(dh <= want_hi && dh >= want_hi - (int64_t)(interval * 2 * rf * 1e-5) - 1);
            /* the middle of the range is the un-jittered interval */
            assert_true(dm >= (int64_t)interval - 1 && dm <= (int64_t)interval + 1);
            assert_true(dl <= dm && dm <= dh);
            interval *= 1.5;
            if (interval > 30e9)
                interval = 30e9;
        }
    }
}

/* Gives up when the next attempt would start past max_elapsed_time, and not before. */
static void test_give_up_at_max_elapsed(void **state)
{
    (void)state;
    struct retry_config c = cfg(1 * S, 4 * S, 10 * S, 2.0, 0.0);
    struct retry_state st;
    int64_t t0 = 1000 * S; /* arbitrary clock origin */
    retry_begin(&st, &c, t0);
    int64_t now = t0;
    /* delays 1, 2, 4 -> attempts at 1, 3, 7; next delay 4 would start at 11 > 10 */
    int64_t want[] = {1 * S, 2 * S, 4 * S};
    for (size_t k = 0; k < 3; k++) {
        int64_t d = retry_next_delay(&st, &c, now, 0, 0.0);
        assert_int_equal(d, want[k]);
        now += d;
    }
    assert_int_equal(retry_next_delay(&st, &c, now, 0, 0.0), -1);
    assert_int_equal(st.attempts, 4);

    /* exactly reaching max_elapsed is still allowed */
    struct retry_config e = cfg(5 * S, 5 * S, 10 * S, 1.0, 0.0);
    retry_begin(&st, &e, 0);
    assert_int_equal(retry_next_delay(&st, &e, 5 * S, 0, 0.0), 5 * S);
    assert_int_equal(retry_next_delay(&st, &e, 5 * S + 1, 0, 0.0), -1);
}

/* max_elapsed_time 0 retries forever, however late. */
static void test_zero_elapsed_is_forever(void **state)
{
    (void)state;
    struct retry_config c = cfg(1 * S, 30 * S, 0, 1.5, 0.5);
    struct retry_state st;
    retry_begin(&st, &c, 0);
    int64_t now = 0;
    for (int k = 0; k < 1000; k++) {
        int64_t d = retry_next_delay(&st, &c, now, 0, 0.3);
        assert_true(d > 0);
        assert_true(d <= 45 * S); /* 30 s * (1 + 0.5) */
        now += d;
    }
    assert_true(now > 3600 * S);
}

static void test_disabled_gives_up_at_once(void **state)
{
    (void)state;
    struct retry_config c = cfg(1 * S, 30 * S, 300 * S, 1.5, 0.5);
    c.enabled = false;
    struct retry_state st;
    retry_begin(&st, &c, 0);
    assert_int_equal(retry_next_delay(&st, &c, 0, 0, 0.5), -1);
    /* a throttle does not turn retries on */
    retry_begin(&st, &c, 0);
    assert_int_equal(retry_next_delay(&st, &c, 0, 2 * S, 0.5), -1);
}

/* The server's delay replaces this step's delay; the backoff still advances underneath. */
static void test_throttle_override(void **state)
{
    (void)state;
    struct retry_config c = cfg(1 * S, 30 * S, 300 * S, 2.0, 0.5);
    struct retry_state st;
    retry_begin(&st, &c, 0);
    assert_int_equal(retry_next_delay(&st, &c, 0, 7 * S, 0.0), 7 * S);
    assert_int_equal(retry_next_delay(&st, &c, 7 * S, 250 * MS, 0.99), 250 * MS);
    /* back to backoff: the interval has doubled twice (1 -> 2 -> 4 s), rand 0.5 = no jitter */
    assert_int_equal(retry_next_delay(&st, &c, 8 * S, 0, 0.5), 4 * S);
    /* a throttle that would cross max_elapsed gives up */
    assert_int_equal(retry_next_delay(&st, &c, 290 * S, 20 * S, 0.5), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growth_and_cap),
        cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_give_up_at_max_elapsed),
        cmocka_unit_test(test_zero_elapsed_is_forever),
        cmocka_unit_test(test_disabled_gives_up_at_once),
        cmocka_unit_test(test_throttle_override),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
