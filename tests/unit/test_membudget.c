/* test_membudget.c — the process-wide admission budget: try_acquire never lets the sum of what
 * is held pass the limit, however many threads race for it; release gives back exactly; the
 * smallest registered limit wins; a closed budget admits nothing while limited. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "core/membudget.h"

static void test_unlimited_counts(void **state)
{
    (void)state;
    struct membudget *b = membudget_new();
    assert_int_equal(membudget_limit(b), 0);
    assert_true(membudget_try_acquire(b, 1ULL << 40));
    assert_int_equal(membudget_used(b), 1ULL << 40);
    membudget_close(b, true); /* closing means nothing without a limit */
    assert_true(membudget_try_acquire(b, 5));
    membudget_close(b, false);
    membudget_release(b, (1ULL << 40) + 5);
    assert_int_equal(membudget_used(b), 0);
    membudget_release(b, 7); /* more than held: stays at zero */
    assert_int_equal(membudget_used(b), 0);
    membudget_free(b);
}

static void test_limit_exact(void **state)
{
    (void)state;
    struct membudget *b = membudget_new();
    assert_int_equal(membudget_limit_add(b, 1000), 0);
    assert_int_equal(membudget_limit_add(b, 600), 0); /* the smallest wins */
    assert_int_equal(membudget_limit(b), 600);
    assert_true(membudget_try_acquire(b, 0));
    assert_true(membudget_try_acquire(b, 400));
    assert_true(membudget_try_acquire(b, 200)); /* exactly the limit */
    assert_false(membudget_try_acquire(b, 1));
    assert_false(membudget_try_acquire(b, UINT64_MAX)); /* no overflow */
    membudget_release(b, 200);
    assert_true(membudget_try_acquire(b, 150));
    assert_int_equal(membudget_used(b), 550);
    membudget_limit_remove(b, 600);
    assert_int_equal(membudget_limit(b), 1000);
    /* held already (a recovered queue): counted past the limit, new requests wait */
    membudget_acquire(b, 1000);
    assert_int_equal(membudget_used(b), 1550);
    assert_false(membudget_try_acquire(b, 1));
    membudget_release(b, 1550);
    membudget_close(b, true);
    membudget_close(b, true);
    assert_false(membudget_try_acquire(b, 1));
    membudget_close(b, false);
    assert_true(membudget_closed(b)); /* another holder still keeps it closed */
    membudget_close(b, false);
    assert_true(membudget_try_acquire(b, 1));
    assert_int_equal(membudget_peak(b), 1550);
    membudget_limit_remove(b, 1000);
    assert_int_equal(membudget_limit(b), 0);
    membudget_free(b);
}

/* Eight threads acquire and release random sizes against a small limit: what they hold at once
 * (their own tally) never passes it, and everything is given back at the end. */
struct racer {
    struct membudget *b;
    _Atomic uint64_t *held;
    _Atomic uint64_t *max_seen;
    _Atomic uint64_t *refused;
    unsigned seed;
};

static void *race(void *p)
{
    struct racer *r = p;
    for (int i = 0; i < 20000; i++) {
        r->seed = r->seed * 1103515245u + 12345u;
        uint64_t n = 1 + (r->seed >> 16) % 300;
        if (membudget_try_acquire(r->b, n)) {
            uint64_t now = atomic_fetch_add(r->held, n) + n;
            uint64_t m = atomic_load(r->max_seen);
            while (now > m && !atomic_compare_exchange_weak(r->max_seen, &m, now))
                ;
            atomic_fetch_sub(r->held, n);
            membudget_release(r->b, n);
        } else {
            atomic_fetch_add(r->refused, 1);
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct membudget *b = membudget_new();
    assert_int_equal(membudget_limit_add(b, 1000), 0);
    _Atomic uint64_t held = 0, max_seen = 0, refused = 0;
    struct racer r[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (struct racer){.b = b, .held = &held, .max_seen = &max_seen, .refused = &refused,
                              .seed = (unsigned)i * 7919u + 1};
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    assert_true(atomic_load(&max_seen) <= 1000);
    assert_true(membudget_peak(b) <= 1000);
    assert_int_equal(membudget_used(b), 0);
    membudget_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unlimited_counts),
        cmocka_unit_test(test_limit_exact),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
