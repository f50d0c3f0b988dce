/* test_exporter_helper.c — the sending queue and retry loop, driven by a fake send() that
 * follows a script per batch (fail N times retryable, fail permanently, block on a gate, never
 * succeed). Asserts the end state of every batch in the counters: each accepted batch is sent
 * exactly once or counted as failed, and refusals are counted as enqueue failures.
 * The persistent queue (sending_queue.storage on a real file_storage extension in a temporary
 * directory) is checked through the files it leaves: a record is on disk when consume answers
 * OK, a helper freed without draining (a crash, as far as the disk can tell) leaves every
 * record, the next helper on the same directory sends them once each in order and removes
 * them, and a torn or corrupt record is set aside and counted without blocking the start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/config.h"
#include "core/exporter_helper.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "tests/unit/testutil.h"

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
    /* configretry's rules, no stricter: shrinking waits, a max_interval below
     * initial_interval and a zero initial_interval load in the Collector, so they load here */
    r.multiplier = 0.5;
    assert_int_equal(retry_config_validate(&r, &err), 0);
    r = fast_retry(0);
    r.max_interval = 0;
    assert_int_equal(retry_config_validate(&r, &err), 0);
    r.initial_interval = 0;
    assert_int_equal(retry_config_validate(&r, &err), 0);
    r = fast_retry(0);
    r.multiplier = -1;
    assert_int_equal(retry_config_validate(&r, &err), -1);
    assert_non_null(strstr(err.msg, "multiplier"));
    r = fast_retry(0);
    r.randomization_factor = 1.5;
    assert_int_equal(retry_config_validate(&r, &err), -1);
    assert_non_null(strstr(err.msg, "randomization_factor"));
    r = fast_retry(0);
    r.max_elapsed_time = -1;
    assert_int_equal(retry_config_validate(&r, &err), -1);
    assert_non_null(strstr(err.msg, "max_elapsed_time"));
    r.enabled = false; /* nothing is checked when retrying is off */
    assert_int_equal(retry_config_validate(&r, &err), 0);
    struct queue_config q = queue(10, 1, 0);
    assert_int_equal(queue_config_validate(&q, &err), 0);
    q.sizer = QUEUE_SIZER_ITEMS;
    assert_int_equal(queue_config_validate(&q, &err), 0);
    q.sizer = QUEUE_SIZER_BYTES;
    q.queue_size = 1LL << 40; /* bytes: any size, the ring grows */
    assert_int_equal(queue_config_validate(&q, &err), 0);
    q.sizer = QUEUE_SIZER_REQUESTS; /* requests: one slot each, allocated up front */
    assert_int_equal(queue_config_validate(&q, &err), -1);
    assert_non_null(strstr(err.msg, "queue_size"));
    /* batch.min_size beyond what the queue holds, in the same unit, is refused (Collector) */
    q = queue(1000, 1, 0);
    q.sizer = QUEUE_SIZER_ITEMS;
    q.batch_enabled = true;
    q.batch = (struct queue_batch_config){.flush_timeout = MS, .min_size = 1001,
                                          .sizer = QUEUE_SIZER_ITEMS};
    assert_int_equal(queue_config_validate(&q, &err), -1);
    assert_non_null(strstr(err.msg, "batch.min_size (1001) must not exceed queue_size (1000)"));
    q.batch.min_size = 1000;
    assert_int_equal(queue_config_validate(&q, &err), 0);
    q.batch.min_size = 8192; /* another unit: not comparable, as in the Collector */
    q.batch.sizer = QUEUE_SIZER_BYTES;
    assert_int_equal(queue_config_validate(&q, &err), 0);
}

/* sending_queue.batch counts in the queue's sizer when the queue names one and the batch section
 * (written, not empty) does not: the Collector's QueueBatchConfig.Unmarshal rule, read from YAML
 * through the same field table the exporters use. */
static int bound_batch_sizer(const char *yaml, int *min_size_ok)
{
    struct error err = {0};
    struct cnode *n = config_parse_string(yaml, "q.yaml", &err);
    assert_non_null(n);
    struct queue_config q = {0};
    assert_int_equal(config_bind(queue_config_fields, n, &q, &err), 0);
    *min_size_ok = queue_config_validate(&q, &err) == 0;
    int sizer = q.batch_enabled ? queue_batch_sizer(&q) : -1;
    config_free_bound(queue_config_fields, &q);
    cnode_free(n);
    return sizer;
}

static void test_batch_sizer_follows_queue(void **state)
{
    (void)state;
    int ok;
    assert_int_equal(bound_batch_sizer("sizer: bytes\nqueue_size: 1000000\nbatch: {min_size: 65536}\n", &ok),
                     QUEUE_SIZER_BYTES);
    assert_true(ok);
    assert_int_equal(bound_batch_sizer("sizer: bytes\nqueue_size: 1000000\nbatch: {sizer: items}\n", &ok),
                     QUEUE_SIZER_ITEMS);
    assert_int_equal(bound_batch_sizer("batch: {min_size: 10}\n", &ok), QUEUE_SIZER_ITEMS);
    /* `batch:` alone has no value to carry the sizer into: the default, items */
    assert_int_equal(bound_batch_sizer("sizer: bytes\nqueue_size: 1000000\nbatch:\n", &ok),
                     QUEUE_SIZER_ITEMS);
    assert_int_equal(bound_batch_sizer("sizer: items\nbatch: {}\n", &ok), QUEUE_SIZER_ITEMS);
    /* the inherited sizer makes min_size comparable with queue_size, so it is checked */
    assert_int_equal(bound_batch_sizer("sizer: items\nqueue_size: 100\nbatch: {min_size: 200}\n", &ok),
                     QUEUE_SIZER_ITEMS);
    assert_false(ok);
    /* without the queue's sizer written, requests vs items: not comparable, accepted */
    bound_batch_sizer("queue_size: 100\nbatch: {min_size: 200}\n", &ok);
    assert_true(ok);
}

/* ---- persistent queue ------------------------------------------------------------------------ */

/* A file_storage extension built from its factory over a fresh temporary directory. */
static struct queue_config pqueue(struct tu_store *st, int64_t size, int64_t consumers)
{
    struct queue_config q = queue(size, consumers, 0);
    q.storage = "file_storage";
    q.storage_ext = st->fs;
    return q;
}

/* Files of one signal's queue directory whose names end in suffix. */
static int count_files(struct tu_store *st, const char *signal, const char *suffix)
{
    char path[256];
    snprintf(path, sizeof path, "%s/exporter_otlp_test_%s", st->dir, signal);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    size_t sl = strlen(suffix);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > sl && strcmp(e->d_name + l - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

/* A batch whose bytes say which one it is ("payload-<i>"); the helper never decodes them. */
static struct batch *tagged_batch(enum signal s, int i)
{
    char text[32];
    int n = snprintf(text, sizeof text, "payload-%d", i);
    uint8_t *wire = malloc((size_t)n);
    memcpy(wire, text, (size_t)n);
    struct batch *b = batch_adopt_wire(s, wire, (size_t)n, 10 + (uint64_t)i);
    assert_non_null(b);
    return b;
}

/* A send() that records what it delivered, in order, and can hold every attempt at a gate. */
struct recorder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    enum send_result answer;
    bool gated, gate_open;
    int attempts;
    size_t n;
    char got[64][32];         /* the payload text of each SEND_OK, in order */
    enum signal sig[64];
};

static enum send_result recorder_send(void *ctx, struct batch *b, int64_t *throttle_ns,
                                      struct error *err)
{
    (void)throttle_ns;
    struct recorder *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->attempts++;
    pthread_cond_broadcast(&r->cv);
    while (r->gated && !r->gate_open)
        pthread_cond_wait(&r->cv, &r->mu);
    enum send_result res = r->answer;
    if (res == SEND_OK) {
        const uint8_t *data;
        size_t len;
        assert_int_equal(batch_encoded(b, &data, &len, err), 0);
        assert_true(r->n < 64 && len < 32);
        memcpy(r->got[r->n], data, len);
        r->got[r->n][len] = '\0';
        r->sig[r->n] = b->signal;
        r->n++;
    } else {
        error_set(err, "%s: scripted failure",
                  res == SEND_PERMANENT ? "INVALID_ARGUMENT" : "UNAVAILABLE");
    }
    pthread_mutex_unlock(&r->mu);
    return res;
}

static void recorder_init(struct recorder *r, enum send_result answer, bool gated)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->answer = answer;
    r->gated = gated;
}

static void recorder_open_gate(struct recorder *r)
{
    pthread_mutex_lock(&r->mu);
    r->gate_open = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void recorder_wait_attempts(struct recorder *r, int want)
{
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < 400 && r->attempts < want; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 5000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    int got = r->attempts;
    pthread_mutex_unlock(&r->mu);
    assert_true(got >= want);
}

static void recorder_destroy(struct recorder *r)
{
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

static struct exporter_helper *pq_helper(struct tu_store *st, int64_t size, int64_t consumers,
                                         struct retry_config *r, struct recorder *rec,
                                         struct telemetry *t)
{
    struct queue_config q = pqueue(st, size, consumers);
    struct error err = {0};
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, r, recorder_send, rec, t, &err);
    if (!h)
        fail_msg("exporter_helper_new: %s", err.msg);
    if (exporter_helper_start(h, &err) != 0)
        fail_msg("exporter_helper_start: %s", err.msg);
    return h;
}

/* A backend that never answers: the helper is freed with everything still pending, as a crash
 * would leave it; returns after `n` batches (traces, and every third one logs) are accepted. */
static void leave_records(struct tu_store *st, int n)
{
    struct telemetry *t = telemetry_new();
    struct recorder rec;
    recorder_init(&rec, SEND_RETRYABLE, false);
    struct retry_config r = fast_retry(0);
    r.initial_interval = r.max_interval = 60000 * MS; /* the first retry waits past the test */
    struct exporter_helper *h = pq_helper(st, 100, 1, &r, &rec, t);
    for (int i = 0; i < n; i++) {
        struct batch *b = tagged_batch(i % 3 == 2 ? SIGNAL_LOGS : SIGNAL_TRACES, i);
        assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
        batch_unref(b);
    }
    recorder_wait_attempts(&rec, 1);
    exporter_helper_free(h);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 0);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_log_records"), 0);
    recorder_destroy(&rec);
    telemetry_free(t);
}

/* The record is on disk, whole, when consume answers OK, before any send has ended. */
static void test_storage_written_before_ok(void **state)
{
    (void)state;
    struct tu_store st;
    tu_store_open(&st, NULL);
    struct telemetry *t = telemetry_new();
    struct recorder rec;
    recorder_init(&rec, SEND_OK, true);
    struct retry_config r = fast_retry(0);
    struct exporter_helper *h = pq_helper(&st, 10, 1, &r, &rec, t);
    for (int i = 0; i < 3; i++) {
        struct batch *b = tagged_batch(SIGNAL_TRACES, i);
        assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
        assert_int_equal(count_files(&st, "traces", ".batch"), i + 1);
        batch_unref(b);
    }
    /* sequence numbers start at 1; header then the batch's bytes */
    char path[256];
    snprintf(path, sizeof path, "%s/exporter_otlp_test_traces/00000000000000000002.batch", st.dir);
    size_t len;
    uint8_t *data = read_file(path, &len);
    assert_int_equal(len, 32 + strlen("payload-1"));
    assert_memory_equal(data, "LOQB", 4);
    assert_int_equal(data[6], SIGNAL_TRACES);
    assert_int_equal(data[8], 11); /* items, little-endian */
    assert_memory_equal(data + 32, "payload-1", strlen("payload-1"));
    free(data);

    recorder_open_gate(&rec);
    wait_counter(t, "otelcol_exporter_sent_spans", 10 + 11 + 12);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(count_files(&st, "traces", ".batch"), 0);
    assert_int_equal(rec.n, 3);
    exporter_helper_free(h);
    recorder_destroy(&rec);
    telemetry_free(t);
    tu_store_close(&st);
}

/* Freed without a drain: the records stay; a new helper on the same directory sends each once,
 * in the order they were accepted, counts them as recovered, and removes them. */
static void test_storage_recovers_after_crash(void **state)
{
    (void)state;
    struct tu_store st;
    tu_store_open(&st, NULL);
    leave_records(&st, 6); /* traces 0,1,3,4; logs 2,5 */
    assert_int_equal(count_files(&st, "traces", ".batch"), 4);
    assert_int_equal(count_files(&st, "logs", ".batch"), 2);

    struct telemetry *t = telemetry_new();
    struct recorder rec;
    recorder_init(&rec, SEND_OK, false);
    struct retry_config r = fast_retry(0);
    struct exporter_helper *h = pq_helper(&st, 100, 1, &r, &rec, t);
    assert_int_equal(value(t, "llmotlp_exporter_queue_recovered_spans"), 10 + 11 + 13 + 14);
    assert_int_equal(value(t, "llmotlp_exporter_queue_recovered_log_records"), 12 + 15);
    wait_counter(t, "otelcol_exporter_sent_spans", 10 + 11 + 13 + 14);
    wait_counter(t, "otelcol_exporter_sent_log_records", 12 + 15);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(rec.n, 6);
    for (int i = 0; i < 6; i++) {
        char want[32];
        snprintf(want, sizeof want, "payload-%d", i);
        assert_string_equal(rec.got[i], want);
        assert_int_equal(rec.sig[i], i % 3 == 2 ? SIGNAL_LOGS : SIGNAL_TRACES);
    }
    assert_int_equal(count_files(&st, "traces", ".batch"), 0);
    assert_int_equal(count_files(&st, "logs", ".batch"), 0);
    exporter_helper_free(h);
    recorder_destroy(&rec);
    telemetry_free(t);

    /* nothing left: a third start has nothing to send */
    t = telemetry_new();
    recorder_init(&rec, SEND_OK, false);
    h = pq_helper(&st, 100, 1, &r, &rec, t);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(value(t, "llmotlp_exporter_queue_recovered_spans"), 0);
    assert_int_equal(rec.n, 0);
    exporter_helper_free(h);
    recorder_destroy(&rec);
    telemetry_free(t);
    tu_store_close(&st);
}

/* A permanent failure settles the batch: counted as failed, record removed. */
static void test_storage_permanent_removes(void **state)
{
    (void)state;
    struct tu_store st;
    tu_store_open(&st, NULL);
    struct telemetry *t = telemetry_new();
    struct recorder rec;
    recorder_init(&rec, SEND_PERMANENT, false);
    struct retry_config r = fast_retry(0);
    struct exporter_helper *h = pq_helper(&st, 10, 2, &r, &rec, t);
    struct batch *b = tagged_batch(SIGNAL_METRICS, 3);
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
    batch_unref(b);
    wait_counter(t, "otelcol_exporter_send_failed_metric_points", 13);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(count_files(&st, "metrics", ".batch"), 0);
    assert_int_equal(rec.attempts, 1);
    exporter_helper_free(h);
    recorder_destroy(&rec);
    telemetry_free(t);
    tu_store_close(&st);
}

/* The shutdown deadline cuts retries and leaves the queue: with storage nothing is counted as
 * failed, every record stays, and the next start delivers them. */
static void test_storage_shutdown_deadline_keeps(void **state)
{
    (void)state;
    struct tu_store st;
    tu_store_open(&st, NULL);
    struct telemetry *t = telemetry_new();
    struct recorder rec;
    recorder_init(&rec, SEND_RETRYABLE, false);
    struct retry_config r = fast_retry(0); /* retry forever */
    struct exporter_helper *h = pq_helper(&st, 10, 1, &r, &rec, t);
    for (int i = 0; i < 3; i++) {
        struct batch *b = tagged_batch(SIGNAL_TRACES, i);
        assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
        batch_unref(b);
    }
    recorder_wait_attempts(&rec, 2); /* the first batch is being retried */
    exporter_helper_shutdown(h, clock_now_ns() + 30 * MS);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 0);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 0);
    assert_int_equal(value(t, "otelcol_exporter_queue_size"), 0);
    assert_int_equal(count_files(&st, "traces", ".batch"), 3);
    struct batch *late = tagged_batch(SIGNAL_TRACES, 9);
    assert_int_equal(exporter_helper_consume(h, late), CONSUME_RETRY);
    assert_int_equal(count_files(&st, "traces", ".batch"), 3);
    batch_unref(late);
    exporter_helper_free(h);
    recorder_destroy(&rec);
    telemetry_free(t);

    t = telemetry_new();
    recorder_init(&rec, SEND_OK, false);
    h = pq_helper(&st, 10, 1, &r, &rec, t);
    wait_counter(t, "otelcol_exporter_sent_spans", 10 + 11 + 12);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(rec.n, 3);
    assert_string_equal(rec.got[0], "payload-0");
    assert_string_equal(rec.got[2], "payload-2");
    assert_int_equal(count_files(&st, "traces", ".batch"), 0);
    exporter_helper_free(h);
    recorder_destroy(&rec);
    telemetry_free(t);
    tu_store_close(&st);
}

/* Torn, flipped and foreign records are renamed *.corrupt and counted; an interrupted write's
 * temporary file is removed; the good records are still sent, and the start does not fail. */
static void test_storage_corrupt_set_aside(void **state)
{
    (void)state;
    struct tu_store st;
    tu_store_open(&st, NULL);
    leave_records(&st, 2); /* traces 1 and 2: payload-0, payload-1 */
    char dir[128], good[256], p[256];
    snprintf(dir, sizeof dir, "%s/exporter_otlp_test_traces", st.dir);
    snprintf(good, sizeof good, "%s/00000000000000000002.batch", dir);
    size_t len;
    uint8_t *data = read_file(good, &len);
    snprintf(p, sizeof p, "%s/00000000000000000010.batch", dir); /* torn: cut in the payload */
    write_file(p, data, len - 3);
    snprintf(p, sizeof p, "%s/00000000000000000011.batch", dir); /* one bit flipped */
    data[34] ^= 0x10;
    write_file(p, data, len);
    snprintf(p, sizeof p, "%s/00000000000000000012.batch", dir); /* torn inside the header */
    write_file(p, data, 20);
    snprintf(p, sizeof p, "%s/00000000000000000099.batch", dir); /* not a record at all */
    write_file(p, (const uint8_t *)"hello", 5);
    snprintf(p, sizeof p, "%s/00000000000000000013.batch.tmp", dir); /* write never renamed */
    write_file(p, data, len);
    free(data);
    /* a record of another signal misplaced in the logs directory */
    char logs[128];
    snprintf(logs, sizeof logs, "%s/exporter_otlp_test_logs", st.dir);
    assert_int_equal(mkdir(logs, 0750), 0);
    snprintf(p, sizeof p, "%s/00000000000000000020.batch", logs);
    data = read_file(good, &len);
    write_file(p, data, len);
    free(data);

    struct telemetry *t = telemetry_new();
    struct recorder rec;
    recorder_init(&rec, SEND_OK, false);
    struct retry_config r = fast_retry(0);
    struct exporter_helper *h = pq_helper(&st, 10, 1, &r, &rec, t);
    assert_int_equal(value(t, "llmotlp_exporter_queue_corrupt_batches"), 5);
    assert_int_equal(value(t, "llmotlp_exporter_queue_recovered_spans"), 10 + 11);
    wait_counter(t, "otelcol_exporter_sent_spans", 10 + 11);
    /* a new batch takes a sequence number past every name seen, set aside or not (99) */
    pthread_mutex_lock(&rec.mu);
    rec.gated = true;
    pthread_mutex_unlock(&rec.mu);
    struct batch *b = tagged_batch(SIGNAL_TRACES, 7);
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
    batch_unref(b);
    snprintf(p, sizeof p, "%s/00000000000000000100.batch", dir);
    assert_int_equal(access(p, F_OK), 0);
    recorder_open_gate(&rec);
    wait_counter(t, "otelcol_exporter_sent_spans", 10 + 11 + 17);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(rec.n, 3);
    assert_string_equal(rec.got[0], "payload-0");
    assert_string_equal(rec.got[1], "payload-1");
    assert_string_equal(rec.got[2], "payload-7");
    assert_int_equal(count_files(&st, "traces", ".batch"), 0);
    assert_int_equal(count_files(&st, "traces", ".corrupt"), 4);
    assert_int_equal(count_files(&st, "traces", ".tmp"), 0);
    assert_int_equal(count_files(&st, "logs", ".corrupt"), 1);
    exporter_helper_free(h);
    recorder_destroy(&rec);
    telemetry_free(t);

    /* set aside once: a later start neither counts nor touches them again */
    t = telemetry_new();
    recorder_init(&rec, SEND_OK, false);
    h = pq_helper(&st, 10, 1, &r, &rec, t);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(value(t, "llmotlp_exporter_queue_corrupt_batches"), 0);
    assert_int_equal(count_files(&st, "traces", ".corrupt"), 4);
    assert_int_equal(rec.n, 0);
    exporter_helper_free(h);
    recorder_destroy(&rec);
    telemetry_free(t);
    tu_store_close(&st);
}

/* More records than queue_size: all are loaded, and new batches are refused until the queue is
 * back under queue_size. */
static void test_storage_recovery_beyond_queue_size(void **state)
{
    (void)state;
    struct tu_store st;
    tu_store_open(&st, NULL);
    leave_records(&st, 5);
    struct telemetry *t = telemetry_new();
    struct recorder rec;
    recorder_init(&rec, SEND_OK, true);
    struct retry_config r = fast_retry(0);
    struct exporter_helper *h = pq_helper(&st, 2, 1, &r, &rec, t);
    recorder_wait_attempts(&rec, 1); /* one batch held at the gate, four queued */
    assert_int_equal(exporter_helper_queue_len(h), 4);
    struct batch *b = tagged_batch(SIGNAL_TRACES, 8);
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_RETRY);
    assert_int_equal(value(t, "otelcol_exporter_enqueue_failed_spans"), 18);
    recorder_open_gate(&rec);
    wait_counter(t, "otelcol_exporter_sent_spans", 10 + 11 + 13 + 14);
    wait_counter(t, "otelcol_exporter_sent_log_records", 12);
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
    batch_unref(b);
    wait_counter(t, "otelcol_exporter_sent_spans", 10 + 11 + 13 + 14 + 18);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(rec.n, 6);
    assert_int_equal(count_files(&st, "traces", ".batch"), 0);
    exporter_helper_free(h);
    recorder_destroy(&rec);
    telemetry_free(t);
    tu_store_close(&st);
}

/* sizer: bytes with storage: the records loaded at start count in bytes (beyond queue_size), and
 * a new batch waits until what is queued is back under it. */
static void test_storage_bytes_sizer(void **state)
{
    (void)state;
    struct tu_store st;
    tu_store_open(&st, NULL);
    leave_records(&st, 5); /* "payload-0" .. "payload-4": 9 bytes each */
    struct telemetry *t = telemetry_new();
    struct recorder rec;
    recorder_init(&rec, SEND_OK, true);
    struct retry_config r = fast_retry(0);
    struct queue_config q = pqueue(&st, 20, 1);
    q.sizer = QUEUE_SIZER_BYTES;
    struct error err = {0};
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, recorder_send, &rec, t, &err);
    assert_non_null(h);
    assert_int_equal(exporter_helper_start(h, &err), 0);
    recorder_wait_attempts(&rec, 1); /* one held at the gate, four queued: 36 bytes > 20 */
    assert_int_equal(exporter_helper_queue_used(h), 36);
    assert_int_equal(value(t, "otelcol_exporter_queue_size"), 36);
    assert_int_equal(value(t, "otelcol_exporter_queue_capacity"), 20);
    struct batch *b = tagged_batch(SIGNAL_TRACES, 8);
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_RETRY);
    assert_int_equal(value(t, "otelcol_exporter_enqueue_failed_spans"), 18);
    recorder_open_gate(&rec);
    wait_counter(t, "otelcol_exporter_sent_spans", 10 + 11 + 13 + 14);
    wait_counter(t, "otelcol_exporter_sent_log_records", 12);
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK); /* written, then queued */
    batch_unref(b);
    wait_counter(t, "otelcol_exporter_sent_spans", 10 + 11 + 13 + 14 + 18);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(exporter_helper_queue_used(h), 0);
    assert_int_equal(count_files(&st, "traces", ".batch"), 0);
    exporter_helper_free(h);
    recorder_destroy(&rec);
    telemetry_free(t);
    tu_store_close(&st);
}

/* Two helpers of one exporter ID on one directory (two processes sharing a volume): the second
 * cannot start while the first holds the lock. */
static void test_storage_locked(void **state)
{
    (void)state;
    struct tu_store st;
    tu_store_open(&st, "timeout: 20ms\n");
    struct telemetry *t = telemetry_new();
    struct recorder rec;
    recorder_init(&rec, SEND_OK, false);
    struct retry_config r = fast_retry(0);
    struct exporter_helper *a = pq_helper(&st, 10, 1, &r, &rec, t);
    struct queue_config q = pqueue(&st, 10, 1);
    struct error err = {0};
    struct exporter_helper *b =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, recorder_send, &rec, t, &err);
    assert_non_null(b);
    assert_int_equal(exporter_helper_start(b, &err), -1);
    assert_non_null(strstr(err.msg, "exporter_otlp_test.lock"));
    assert_non_null(strstr(err.msg, "locked by another process"));
    struct batch *x = tagged_batch(SIGNAL_TRACES, 1);
    assert_int_equal(exporter_helper_consume(b, x), CONSUME_RETRY); /* never opened */
    batch_unref(x);
    exporter_helper_free(b);
    exporter_helper_free(a);
    /* released with the first: a new one starts */
    b = pq_helper(&st, 10, 1, &r, &rec, t);
    exporter_helper_free(b);
    recorder_destroy(&rec);
    telemetry_free(t);
    tu_store_close(&st);
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
        cmocka_unit_test(test_batch_sizer_follows_queue),
        cmocka_unit_test(test_storage_written_before_ok),
        cmocka_unit_test(test_storage_recovers_after_crash),
        cmocka_unit_test(test_storage_permanent_removes),
        cmocka_unit_test(test_storage_shutdown_deadline_keeps),
        cmocka_unit_test(test_storage_corrupt_set_aside),
        cmocka_unit_test(test_storage_recovery_beyond_queue_size),
        cmocka_unit_test(test_storage_locked),
        cmocka_unit_test(test_storage_bytes_sizer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
