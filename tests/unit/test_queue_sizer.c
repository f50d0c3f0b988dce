/* test_queue_sizer.c — sending_queue.sizer (requests, items, bytes) and the memory budget of the
 * exporter helper, driven by a send() held at a gate so the test knows exactly what is queued.
 * Asserts exact accounting in sizer units (the queue_size gauge and exporter_helper_queue_used),
 * CONSUME_RETRY once the queue is full (after overflow_wait) or at once for a request larger than
 * the whole queue, and that every queued batch holds its encoded bytes of the budget until it is
 * settled and gives them back after. */
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
#include "core/membudget.h"
#include "core/telemetry.h"

#define MS 1000000LL
#define LABELS "exporter=\"otlp/test\""

struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
    int entered;
};

static enum send_result gate_send(void *ctx, struct batch *b, int64_t *throttle_ns,
                                  struct error *err)
{
    (void)b;
    (void)throttle_ns;
    (void)err;
    struct gate *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->entered++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return SEND_OK;
}

static void gate_init(struct gate *g)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
}

static void gate_wait_entered(struct gate *g, int n)
{
    pthread_mutex_lock(&g->mu);
    while (g->entered < n)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void gate_destroy(struct gate *g)
{
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
}

/* A batch whose encoded face is `len` bytes (the fake send never parses it). */
static struct batch *sized_batch(size_t len, uint64_t items)
{
    uint8_t *wire = calloc(1, len ? len : 1);
    struct batch *b = batch_adopt_wire(SIGNAL_TRACES, wire, len, items);
    assert_non_null(b);
    return b;
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

static void wait_counter(struct telemetry *t, const char *name, int64_t want)
{
    for (int i = 0; i < 2000 && value(t, name) < want; i++)
        sleep_ms(5);
    assert_int_equal(value(t, name), want);
}

static struct exporter_helper *helper(int sizer, int64_t size, struct gate *g, struct telemetry *t,
                                      struct membudget *mb)
{
    struct queue_config q = {.enabled = true, .num_consumers = 1, .queue_size = size,
                             .overflow_wait = 50 * MS, .sizer = sizer};
    struct retry_config r = {.enabled = false};
    struct error err = {0};
    assert_int_equal(queue_config_validate(&q, &err), 0);
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, gate_send, g, t, &err);
    assert_non_null(h);
    exporter_helper_set_budget(h, mb);
    assert_int_equal(exporter_helper_start(h, &err), 0);
    return h;
}

/* items: queue_size counts spans; what a consumer holds no longer counts. */
static void test_items_sizer(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct membudget *mb = membudget_new();
    struct gate g;
    gate_init(&g);
    struct exporter_helper *h = helper(QUEUE_SIZER_ITEMS, 10, &g, t, mb);
    assert_int_equal(value(t, "otelcol_exporter_queue_capacity"), 10);
    struct batch *b0 = sized_batch(100, 3), *b1 = sized_batch(100, 4), *b2 = sized_batch(100, 6);
    struct batch *b3 = sized_batch(100, 1), *big = sized_batch(100, 11);
    assert_int_equal(exporter_helper_consume(h, b0), CONSUME_OK);
    gate_wait_entered(&g, 1); /* b0 is being sent: out of the queue */
    assert_int_equal(exporter_helper_queue_used(h), 0);
    assert_int_equal(exporter_helper_consume(h, b1), CONSUME_OK);
    assert_int_equal(exporter_helper_consume(h, b2), CONSUME_OK); /* 4 + 6 = 10: exactly full */
    assert_int_equal(exporter_helper_queue_used(h), 10);
    assert_int_equal(value(t, "otelcol_exporter_queue_size"), 10);
    int64_t t0 = clock_now_ns();
    assert_int_equal(exporter_helper_consume(h, b3), CONSUME_RETRY); /* after overflow_wait */
    assert_true(clock_now_ns() - t0 >= 50 * MS);
    assert_int_equal(value(t, "otelcol_exporter_enqueue_failed_spans"), 1);
    /* larger than the whole queue: refused at once, never waited for */
    t0 = clock_now_ns();
    assert_int_equal(exporter_helper_consume(h, big), CONSUME_RETRY);
    assert_true(clock_now_ns() - t0 < 40 * MS);
    assert_int_equal(value(t, "otelcol_exporter_enqueue_failed_spans"), 12);
    gate_open(&g);
    wait_counter(t, "otelcol_exporter_sent_spans", 13);
    assert_int_equal(exporter_helper_consume(h, b3), CONSUME_OK);
    wait_counter(t, "otelcol_exporter_sent_spans", 14);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(exporter_helper_queue_used(h), 0);
    exporter_helper_free(h);
    batch_unref(b0), batch_unref(b1), batch_unref(b2), batch_unref(b3), batch_unref(big);
    gate_destroy(&g);
    membudget_free(mb);
    telemetry_free(t);
}

/* bytes: queue_size counts encoded bytes. */
static void test_bytes_sizer(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct membudget *mb = membudget_new();
    struct gate g;
    gate_init(&g);
    struct exporter_helper *h = helper(QUEUE_SIZER_BYTES, 1000, &g, t, mb);
    struct batch *b0 = sized_batch(400, 1), *b1 = sized_batch(600, 1), *b2 = sized_batch(1, 1);
    struct batch *big = sized_batch(1001, 1);
    assert_int_equal(exporter_helper_consume(h, b0), CONSUME_OK);
    gate_wait_entered(&g, 1);
    assert_int_equal(exporter_helper_consume(h, b1), CONSUME_OK);
    assert_int_equal(exporter_helper_queue_used(h), 600);
    assert_int_equal(exporter_helper_consume(h, b0), CONSUME_OK); /* 600 + 400 = 1000 */
    assert_int_equal(exporter_helper_queue_used(h), 1000);
    assert_int_equal(exporter_helper_consume(h, b2), CONSUME_RETRY); /* one byte too many */
    assert_int_equal(exporter_helper_consume(h, big), CONSUME_RETRY);
    assert_int_equal(value(t, "otelcol_exporter_enqueue_failed_spans"), 2);
    /* without a limit the budget only counts: every byte queued or being sent */
    assert_int_equal(membudget_used(mb), 400 + 600 + 400);
    gate_open(&g);
    wait_counter(t, "otelcol_exporter_sent_spans", 3);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(membudget_used(mb), 0);
    exporter_helper_free(h);
    batch_unref(b0), batch_unref(b1), batch_unref(b2), batch_unref(big);
    gate_destroy(&g);
    membudget_free(mb);
    telemetry_free(t);
}

/* The budget bounds bytes across the queue and the batch being sent, whatever the sizer. */
static void test_budget_refuses(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct membudget *mb = membudget_new();
    assert_int_equal(membudget_limit_add(mb, 1000), 0);
    struct gate g;
    gate_init(&g);
    struct exporter_helper *h = helper(QUEUE_SIZER_REQUESTS, 100, &g, t, mb);
    struct batch *b0 = sized_batch(600, 2), *b1 = sized_batch(500, 3), *b2 = sized_batch(300, 4);
    assert_int_equal(exporter_helper_consume(h, b0), CONSUME_OK);
    gate_wait_entered(&g, 1); /* being sent: still holds its 600 bytes */
    assert_int_equal(membudget_used(mb), 600);
    int64_t t0 = clock_now_ns();
    assert_int_equal(exporter_helper_consume(h, b1), CONSUME_RETRY); /* 1100 > 1000 */
    assert_true(clock_now_ns() - t0 < 40 * MS);                     /* no waiting */
    assert_int_equal(value(t, "otelcol_exporter_enqueue_failed_spans"), 3);
    assert_int_equal(exporter_helper_consume(h, b2), CONSUME_OK); /* 900 */
    assert_int_equal(membudget_used(mb), 900);
    gate_open(&g);
    wait_counter(t, "otelcol_exporter_sent_spans", 6);
    for (int i = 0; i < 200 && membudget_used(mb) != 0; i++)
        sleep_ms(5);
    assert_int_equal(membudget_used(mb), 0);
    assert_int_equal(membudget_peak(mb), 900);
    exporter_helper_free(h);
    batch_unref(b0), batch_unref(b1), batch_unref(b2);
    gate_destroy(&g);
    membudget_free(mb);
    telemetry_free(t);
}

/* Queued batches never sent (shutdown deadline) give their bytes back too. */
static void test_budget_released_at_shutdown(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct membudget *mb = membudget_new();
    struct gate g;
    gate_init(&g);
    struct exporter_helper *h = helper(QUEUE_SIZER_BYTES, 1 << 20, &g, t, mb);
    struct batch *b = sized_batch(1000, 1);
    for (int i = 0; i < 5; i++)
        assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
    gate_wait_entered(&g, 1);
    assert_int_equal(membudget_used(mb), 5000);
    gate_open(&g); /* the one in flight finishes; the deadline below cuts the rest or not */
    exporter_helper_shutdown(h, clock_now_ns());
    assert_int_equal(membudget_used(mb), 0);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans") +
                         value(t, "otelcol_exporter_send_failed_spans"), 5);
    exporter_helper_free(h);
    batch_unref(b);
    gate_destroy(&g);
    membudget_free(mb);
    telemetry_free(t);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_sizer),
        cmocka_unit_test(test_bytes_sizer),
        cmocka_unit_test(test_budget_refuses),
        cmocka_unit_test(test_budget_released_at_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
