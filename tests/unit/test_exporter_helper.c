/* test_exporter_helper.c — the sending queue and retry loop, driven by a fake send() that
 * follows a script per batch (fail N times retryable, fail permanently, block on a gate, never
 * succeed). Asserts the end state of every batch in the counters: each accepted batch is sent
 * exactly once or counted as failed, and refusals are counted as enqueue failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/batch.h"
#include "core/exporter_helper.h"
#include "core/log.h"
#include "core/telemetry.h"

#define MS 1000000LL
#define LABELS "exporter=\"otlp/test\""

enum mode { FAIL_THEN_OK, PERMANENT, NEVER_OK, GATED };

struct record {
    struct batch *b;
    int attempts;
    int oks;
};

struct fake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    enum mode mode;
    int fail_times;
    bool gate_open;
    int entered;             /* sends started (GATED) */
    pthread_t caller;        /* thread of the last send */
    struct record rec[64];
    size_t nrec;
};

static struct record *record_of(struct fake *f, struct batch *b)
{
    for (size_t i = 0; i < f->nrec; i++)
        if (f->rec[i].b == b)
            return &f->rec[i];
    assert_true(f->nrec < 64);
    f->rec[f->nrec].b = b;
    return &f->rec[f->nrec++];
}

static enum send_result fake_send(void *ctx, struct batch *b, int64_t *throttle_ns,
                                  struct error *err)
{
    (void)throttle_ns;
    struct fake *f = ctx;
    pthread_mutex_lock(&f->mu);
    struct record *r = record_of(f, b);
    r->attempts++;
    f->caller = pthread_self();
    enum send_result res = SEND_OK;
    switch (f->mode) {
    case FAIL_THEN_OK:
        res = r->attempts <= f->fail_times ? SEND_RETRYABLE : SEND_OK;
        break;
    case PERMANENT:
        res = SEND_PERMANENT;
        break;
    case NEVER_OK:
        res = SEND_RETRYABLE;
        break;
    case GATED:
        f->entered++;
        pthread_cond_broadcast(&f->cv);
        while (!f->gate_open)
            pthread_cond_wait(&f->cv, &f->mu);
        break;
    }
    if (res == SEND_OK)
        r->oks++;
    else
        error_set(err, "%s: scripted failure", res == SEND_PERMANENT ? "INVALID_ARGUMENT" : "UNAVAILABLE");
    pthread_mutex_unlock(&f->mu);
    return res;
}

static void fake_init(struct fake *f, enum mode m, int fail_times)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->mode = m;
    f->fail_times = fail_times;
}

static void fake_destroy(struct fake *f)
{
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

static struct batch *make_batch(enum signal s, uint64_t items)
{
    uint8_t *wire = malloc(4);
    memcpy(wire, "\x0a\x00\x0a\x00", 4);
    struct batch *b = batch_adopt_wire(s, wire, 4, items);
    assert_non_null(b);
    return b;
}

static struct retry_config fast_retry(int64_t max_elapsed)
{
    struct retry_config r = {.enabled = true, .initial_interval = 1 * MS, .max_interval = 4 * MS,
                             .max_elapsed_time = max_elapsed, .multiplier = 2.0,
                             .randomization_factor = 0.5};
    return r;
}

static struct queue_config queue(int64_t size, int64_t consumers, int64_t overflow_wait)
{
    struct queue_config q = {.enabled = true, .num_consumers = consumers, .queue_size = size,
                             .overflow_wait = overflow_wait};
    return q;
}

static int64_t value(struct telemetry *t, const char *name)
{
    return telemetry_value(t, name, LABELS);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits (bounded) until the counter reaches want; the assertion is on the value, not the time. */
static void wait_counter(struct telemetry *t, const char *name, int64_t want)
{
    for (int i = 0; i < 2000 && value(t, name) < want; i++)
        sleep_ms(5);
    assert_int_equal(value(t, name), want);
}

static void test_retryable_then_ok(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct fake f;
    fake_init(&f, FAIL_THEN_OK, 3);
    struct queue_config q = queue(100, 3, 100 * MS);
    struct retry_config r = fast_retry(0);
    struct error err;
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, fake_send, &f, t, &err);
    assert_non_null(h);
    assert_int_equal(exporter_helper_start(h, &err), 0);
    assert_int_equal(value(t, "otelcol_exporter_queue_capacity"), 100);

    struct batch *bs[6];
    for (int i = 0; i < 6; i++) {
        bs[i] = make_batch(i % 2 ? SIGNAL_LOGS : SIGNAL_TRACES, 10 + (uint64_t)i);
        assert_int_equal(exporter_helper_consume(h, bs[i]), CONSUME_OK);
    }
    /* traces: 10+12+14, logs: 11+13+15 */
    wait_counter(t, "otelcol_exporter_sent_spans", 36);
    wait_counter(t, "otelcol_exporter_sent_log_records", 39);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);

    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 0);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_log_records"), 0);
    assert_int_equal(value(t, "otelcol_exporter_enqueue_failed_spans"), 0);
    assert_int_equal(value(t, "otelcol_exporter_sent_metric_points"), 0);
    assert_int_equal(value(t, "otelcol_exporter_queue_size"), 0);
    assert_int_equal(f.nrec, 6);
    for (size_t i = 0; i < f.nrec; i++) {
        assert_int_equal(f.rec[i].attempts, 4);
        assert_int_equal(f.rec[i].oks, 1);
    }
    exporter_helper_free(h);
    for (int i = 0; i < 6; i++)
        batch_unref(bs[i]);
    fake_destroy(&f);
    telemetry_free(t);
}

static void test_permanent_not_retried(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct fake f;
    fake_init(&f, PERMANENT, 0);
    struct queue_config q = queue(10, 2, 100 * MS);
    struct retry_config r = fast_retry(0);
    struct error err;
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, fake_send, &f, t, &err);
    assert_non_null(h);
    assert_int_equal(exporter_helper_start(h, &err), 0);
    struct batch *b = make_batch(SIGNAL_METRICS, 7);
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
    batch_unref(b); /* the queue holds its own reference */
    wait_counter(t, "otelcol_exporter_send_failed_metric_points", 7);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(value(t, "otelcol_exporter_sent_metric_points"), 0);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_metric_points"), 7);
    assert_int_equal(f.nrec, 1);
    assert_int_equal(f.rec[0].attempts, 1);
    exporter_helper_free(h);
    fake_destroy(&f);
    telemetry_free(t);
}

/* Retries give up once max_elapsed_time would be passed: counted failed, not sent. */
static void test_retries_exhausted(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct fake f;
    fake_init(&f, NEVER_OK, 0);
    struct queue_config q = queue(10, 1, 100 * MS);
    struct retry_config r = fast_retry(30 * MS);
    struct error err;
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, fake_send, &f, t, &err);
    assert_non_null(h);
    assert_int_equal(exporter_helper_start(h, &err), 0);
    struct batch *b = make_batch(SIGNAL_TRACES, 120);
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
    batch_unref(b);
    wait_counter(t, "otelcol_exporter_send_failed_spans", 120);
    exporter_helper_free(h);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 0);
    assert_true(f.rec[0].attempts >= 2);
    fake_destroy(&f);
    telemetry_free(t);
}

static void test_queue_full(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct fake f;
    fake_init(&f, GATED, 0);
    struct queue_config q = queue(2, 1, 30 * MS);
    struct retry_config r = fast_retry(0);
    struct error err;
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, fake_send, &f, t, &err);
    assert_non_null(h);
    assert_int_equal(exporter_helper_start(h, &err), 0);

    struct batch *b[4];
    for (int i = 0; i < 4; i++)
        b[i] = make_batch(SIGNAL_TRACES, 5);
    assert_int_equal(exporter_helper_consume(h, b[0]), CONSUME_OK);
    /* wait until the only consumer holds b[0] inside send() */
    pthread_mutex_lock(&f.mu);
    while (f.entered < 1)
        pthread_cond_wait(&f.cv, &f.mu);
    pthread_mutex_unlock(&f.mu);
    assert_int_equal(exporter_helper_consume(h, b[1]), CONSUME_OK);
    assert_int_equal(exporter_helper_consume(h, b[2]), CONSUME_OK);
    assert_int_equal(exporter_helper_queue_len(h), 2);
    assert_int_equal(value(t, "otelcol_exporter_queue_size"), 2);
    int64_t t0 = clock_now_ns();
    assert_int_equal(exporter_helper_consume(h, b[3]), CONSUME_RETRY);
    /* the caller waited for space (overflow_wait) before refusing */
    assert_true(clock_now_ns() - t0 >= 30 * MS);
    assert_int_equal(value(t, "otelcol_exporter_enqueue_failed_spans"), 5);

    pthread_mutex_lock(&f.mu);
    f.gate_open = true;
    pthread_cond_broadcast(&f.cv);
    pthread_mutex_unlock(&f.mu);
    wait_counter(t, "otelcol_exporter_sent_spans", 15);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 0);
    /* refused after shutdown, counted again */
    assert_int_equal(exporter_helper_consume(h, b[3]), CONSUME_RETRY);
    assert_int_equal(value(t, "otelcol_exporter_enqueue_failed_spans"), 10);
    exporter_helper_free(h);
    for (int i = 0; i < 4; i++)
        batch_unref(b[i]);
    fake_destroy(&f);
    telemetry_free(t);
}

/* A full queue with block_on_overflow waits until space frees up instead of refusing. */
static void *open_gate_later(void *p)
{
    struct fake *f = p;
    sleep_ms(50);
    pthread_mutex_lock(&f->mu);
    f->gate_open = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

static void test_block_on_overflow(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct fake f;
    fake_init(&f, GATED, 0);
    struct queue_config q = queue(1, 1, 1 * MS);
    q.block_on_overflow = true;
    struct retry_config r = fast_retry(0);
    struct error err;
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, fake_send, &f, t, &err);
    assert_non_null(h);
    assert_int_equal(exporter_helper_start(h, &err), 0);
    struct batch *b[3];
    for (int i = 0; i < 3; i++)
        b[i] = make_batch(SIGNAL_LOGS, 2);
    assert_int_equal(exporter_helper_consume(h, b[0]), CONSUME_OK);
    pthread_mutex_lock(&f.mu);
    while (f.entered < 1)
        pthread_cond_wait(&f.cv, &f.mu);
    pthread_mutex_unlock(&f.mu);
    assert_int_equal(exporter_helper_consume(h, b[1]), CONSUME_OK);
    pthread_t th;
    pthread_create(&th, NULL, open_gate_later, &f);
    /* waits far longer than overflow_wait, then is accepted */
    assert_int_equal(exporter_helper_consume(h, b[2]), CONSUME_OK);
    pthread_join(th, NULL);
    wait_counter(t, "otelcol_exporter_sent_log_records", 6);
    assert_int_equal(value(t, "otelcol_exporter_enqueue_failed_log_records"), 0);
    exporter_helper_free(h);
    for (int i = 0; i < 3; i++)
        batch_unref(b[i]);
    fake_destroy(&f);
    telemetry_free(t);
}

/* A destination that never recovers: shutdown stops retries at the deadline and counts every
 * accepted batch (mid-retry and still queued) as failed. */
static void test_shutdown_deadline(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct fake f;
    fake_init(&f, NEVER_OK, 0);
    struct queue_config q = queue(10, 1, 10 * MS);
    struct retry_config r = fast_retry(0); /* forever */
    struct error err;
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, fake_send, &f, t, &err);
    assert_non_null(h);
    assert_int_equal(exporter_helper_start(h, &err), 0);
    for (int i = 0; i < 4; i++) {
        struct batch *b = make_batch(SIGNAL_TRACES, 100);
        assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
        batch_unref(b);
    }
    int64_t deadline = clock_now_ns() + 100 * MS;
    exporter_helper_shutdown(h, deadline);
    assert_true(clock_now_ns() >= deadline);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 0);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 400);
    assert_int_equal(value(t, "otelcol_exporter_queue_size"), 0);
    assert_true(f.rec[0].attempts >= 2); /* the first batch was being retried */
    struct batch *late = make_batch(SIGNAL_TRACES, 1);
    assert_int_equal(exporter_helper_consume(h, late), CONSUME_RETRY);
    batch_unref(late);
    exporter_helper_free(h);
    fake_destroy(&f);
    telemetry_free(t);
}

/* Never started (e.g. a later component failed to start): queued batches still end counted. */
static void test_shutdown_never_started(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct fake f;
    fake_init(&f, FAIL_THEN_OK, 0);
    struct queue_config q = queue(10, 2, 10 * MS);
    struct retry_config r = fast_retry(0);
    struct error err;
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, fake_send, &f, t, &err);
    assert_non_null(h);
    struct batch *b = make_batch(SIGNAL_METRICS, 9);
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
    batch_unref(b);
    exporter_helper_shutdown(h, clock_now_ns() + 50 * MS);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_metric_points"), 9);
    assert_int_equal(f.nrec, 0);
    exporter_helper_free(h);
    fake_destroy(&f);
    telemetry_free(t);
}

static void test_queue_disabled(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct fake f;
    fake_init(&f, FAIL_THEN_OK, 2);
    struct queue_config q = {.enabled = false};
    struct retry_config r = fast_retry(0);
    struct error err;
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, fake_send, &f, t, &err);
    assert_non_null(h);
    assert_int_equal(exporter_helper_start(h, &err), 0);
    struct batch *b = make_batch(SIGNAL_TRACES, 3);
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
    /* sent synchronously, in this thread, before consume returned */
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 3);
    assert_true(pthread_equal(f.caller, pthread_self()));
    assert_int_equal(f.rec[0].attempts, 3);
    assert_int_equal(exporter_helper_queue_len(h), 0);

    f.mode = PERMANENT;
    struct batch *p = make_batch(SIGNAL_TRACES, 4);
    assert_int_equal(exporter_helper_consume(h, p), CONSUME_OK);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 4);
    assert_int_equal(record_of(&f, p)->attempts, 1);

    exporter_helper_shutdown(h, clock_now_ns() + 100 * MS);
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_RETRY);
    exporter_helper_free(h);
    batch_unref(b);
    batch_unref(p);
    fake_destroy(&f);
    telemetry_free(t);
}

/* Queue disabled and a caller stuck retrying: shutdown from another thread ends its retries. */
struct caller_arg {
    struct exporter_helper *h;
    struct batch *b;
    enum consume_status st;
};
static void *caller_main(void *p)
{
    struct caller_arg *a = p;
    a->st = exporter_helper_consume(a->h, a->b);
    return NULL;
}

static void test_queue_disabled_shutdown(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct fake f;
    fake_init(&f, NEVER_OK, 0);
    struct queue_config q = {.enabled = false};
    struct retry_config r = fast_retry(0);
    struct error err;
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, fake_send, &f, t, &err);
    assert_non_null(h);
    struct caller_arg a = {.h = h, .b = make_batch(SIGNAL_LOGS, 8), .st = CONSUME_REJECT};
    pthread_t th;
    pthread_create(&th, NULL, caller_main, &a);
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&f.mu);
        int n = f.nrec ? f.rec[0].attempts : 0;
        pthread_mutex_unlock(&f.mu);
        if (n >= 2)
            break;
        sleep_ms(2);
    }
    exporter_helper_shutdown(h, clock_now_ns() + 20 * MS);
    pthread_join(th, NULL);
    assert_int_equal(a.st, CONSUME_OK);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_log_records"), 8);
    assert_int_equal(value(t, "otelcol_exporter_sent_log_records"), 0);
    exporter_helper_free(h);
    batch_unref(a.b);
    fake_destroy(&f);
    telemetry_free(t);
}

static void test_config_validate(void **state)
{
    (void)state;
    struct error err;
    struct retry_config r = fast_retry(0);
    assert_int_equal(retry_config_validate(&r, &err), 0);
    r.multiplier = 0.5;
    assert_int_equal(retry_config_validate(&r, &err), -1);
    assert_non_null(strstr(err.msg, "multiplier"));
    r = fast_retry(0);
    r.max_interval = 0;
    assert_int_equal(retry_config_validate(&r, &err), -1);
    assert_non_null(strstr(err.msg, "max_interval"));
    struct queue_config q = queue(10, 1, 0);
    assert_int_equal(queue_config_validate(&q, &err), 0);
    q.sizer = 1; /* items */
    assert_int_equal(queue_config_validate(&q, &err), -1);
    assert_non_null(strstr(err.msg, "sizer"));
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retryable_then_ok),
        cmocka_unit_test(test_permanent_not_retried),
        cmocka_unit_test(test_retries_exhausted),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_block_on_overflow),
        cmocka_unit_test(test_shutdown_deadline),
        cmocka_unit_test(test_shutdown_never_started),
        cmocka_unit_test(test_queue_disabled),
        cmocka_unit_test(test_queue_disabled_shutdown),
        cmocka_unit_test(test_config_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
