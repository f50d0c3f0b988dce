/* test_exporter_poison.c — poison isolation and sending_queue.batch in the exporter helper.
 * A fake downstream decodes every request it is given and refuses, as bad data (SEND_REJECTED,
 * what INVALID_ARGUMENT / HTTP 400 map to), any request holding a span with attribute
 * poison=true; it records every span it accepts by name. So each test can assert the one thing
 * that matters: every good span delivered exactly once, every poisoned span counted as failed,
 * and nothing else — with the number of sends bounded (O(k log N) for k poisons among N).
 * Metrics and logs are narrowed the same way, down to one data point or one log record.
 * Batching is checked through what the downstream saw (how many requests, of what size) and,
 * with a persistent queue, through the records left on disk across a simulated crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
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
#include "core/otlp_merge.h"
#include "core/telemetry.h"
#include "testutil.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

#define MS 1000000LL
#define LABELS "exporter=\"otlp/test\""
#define MAX_ID 4096

/* ---- requests -------------------------------------------------------------------------------- */

typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

/* One resource (service.name = "svc-<first>") with `nscopes` scopes sharing spans first..first+n-1
 * round robin; span i is named "s<i>" and carries poison=true when poisoned(i). */
static uint8_t *make_spans(int first, int n, int nscopes, bool (*poisoned)(int), size_t *len)
{
    static uint8_t tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    Span *spans = calloc((size_t)n, sizeof *spans);
    char (*names)[24] = calloc((size_t)n, sizeof *names);
    uint8_t (*sids)[8] = calloc((size_t)n, sizeof *sids);
    AnyValue tv = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    tv.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
    tv.bool_value = true;
    KeyValue pkv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    pkv.key = "poison";
    pkv.value = &tv;
    KeyValue *pattrs[1] = {&pkv};
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = calloc((size_t)nscopes, sizeof *ss);
    Opentelemetry__Proto__Trace__V1__ScopeSpans **ssp = calloc((size_t)nscopes, sizeof *ssp);
    Opentelemetry__Proto__Common__V1__InstrumentationScope *sc =
        calloc((size_t)nscopes, sizeof *sc);
    char (*scnames)[24] = calloc((size_t)nscopes, sizeof *scnames);
    for (int s = 0; s < nscopes; s++) {
        opentelemetry__proto__trace__v1__scope_spans__init(&ss[s]);
        opentelemetry__proto__common__v1__instrumentation_scope__init(&sc[s]);
        snprintf(scnames[s], sizeof scnames[s], "scope-%d", s);
        sc[s].name = scnames[s];
        ss[s].scope = &sc[s];
        ss[s].spans = calloc((size_t)n, sizeof(Span *));
        ssp[s] = &ss[s];
    }
    for (int i = 0; i < n; i++) {
        Span *sp = &spans[i];
        opentelemetry__proto__trace__v1__span__init(sp);
        int id = first + i;
        snprintf(names[i], sizeof names[i], "s%d", id);
        memcpy(sids[i], &id, sizeof id);
        sids[i][7] = 0xee;
        sp->trace_id = (ProtobufCBinaryData){16, tid};
        sp->span_id = (ProtobufCBinaryData){8, sids[i]};
        sp->name = names[i];
        sp->start_time_unix_nano = 1000;
        sp->end_time_unix_nano = 2000;
        if (poisoned && poisoned(id)) {
            sp->n_attributes = 1;
            sp->attributes = pattrs;
        }
        Opentelemetry__Proto__Trace__V1__ScopeSpans *s = &ss[i % nscopes];
        s->spans[s->n_spans++] = sp;
    }
    AnyValue sv = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    char svc[32];
    snprintf(svc, sizeof svc, "svc-%d", first);
    sv.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    sv.string_value = svc;
    KeyValue skv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    skv.key = "service.name";
    skv.value = &sv;
    KeyValue *rattrs[1] = {&skv};
    Opentelemetry__Proto__Resource__V1__Resource res = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    res.n_attributes = 1;
    res.attributes = rattrs;
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    rs.resource = &res;
    rs.n_scope_spans = (size_t)nscopes;
    rs.scope_spans = ssp;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp = &rs;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;
    uint8_t *out = tu_pack(&req.base, len);
    for (int s = 0; s < nscopes; s++)
        free(ss[s].spans);
    free(ss);
    free(ssp);
    free(sc);
    free(scnames);
    free(spans);
    free(names);
    free(sids);
    return out;
}

static struct batch *spans_batch(int first, int n, int nscopes, bool (*poisoned)(int))
{
    size_t len;
    uint8_t *wire = make_spans(first, n, nscopes, poisoned, &len);
    struct error err;
    struct batch *b = batch_from_wire(SIGNAL_TRACES, wire, len, &err);
    free(wire);
    if (!b)
        fail_msg("batch_from_wire: %s", err.msg);
    assert_int_equal(b->items, (uint64_t)n);
    return b;
}

/* What the batch processor does: several requests laid end to end as one. */
static struct batch *merged(struct batch **parts, size_t n)
{
    struct otlp_buf buf = {0};
    for (size_t i = 0; i < n; i++) {
        const uint8_t *d;
        size_t len;
        struct error err;
        assert_int_equal(batch_encoded(parts[i], &d, &len, &err), 0);
        assert_int_equal(otlp_buf_append(&buf, d, len, parts[i]->items), 0);
    }
    uint8_t *data;
    size_t len;
    uint64_t items;
    otlp_buf_release(&buf, &data, &len, &items);
    struct batch *b = batch_adopt_wire(SIGNAL_TRACES, data, len, items);
    assert_non_null(b);
    return b;
}

static bool poison_100(int id) { return id == 100; }
static bool poison_some(int id) { return id == 3 || id == 77 || id == 78 || id == 150 || id == 199; }
static bool poison_all(int id) { (void)id; return true; }

/* ---- the strict downstream ------------------------------------------------------------------- */

struct strict {
    pthread_mutex_t mu;
    int got[MAX_ID];            /* times each span id was accepted */
    int sends, rejects, retryables;
    uint64_t sizes[256];        /* items of each accepted request, in order */
    size_t bytes[256];          /* encoded size of each accepted request */
    int nacc;
    int retry_budget;           /* poison-free requests answered retryable while > 0 */
    bool refuse_as_auth;        /* answer SEND_PERMANENT (an auth error) instead of REJECTED */
    bool partial;               /* answer OK with a partial success rejecting 2 spans */
    bool hold;                  /* answer retryable to everything (a backend that is down) */
    struct exporter_helper *h;  /* for partial success */
};

static enum send_result strict_send(void *ctx, struct batch *b, int64_t *throttle_ns,
                                    struct error *err)
{
    (void)throttle_ns;
    struct strict *f = ctx;
    const uint8_t *data;
    size_t len;
    assert_int_equal(batch_encoded(b, &data, &len, err), 0);
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len,
                                                                                         data);
    assert_non_null(req);
    bool poison = false;
    uint64_t n = 0;
    for (size_t r = 0; r < req->n_resource_spans; r++)
        for (size_t s = 0; s < req->resource_spans[r]->n_scope_spans; s++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = req->resource_spans[r]->scope_spans[s];
            for (size_t i = 0; i < ss->n_spans; i++) {
                n++;
                for (size_t a = 0; a < ss->spans[i]->n_attributes; a++)
                    if (strcmp(ss->spans[i]->attributes[a]->key, "poison") == 0)
                        poison = true;
            }
        }
    assert_int_equal(n, b->items);
    pthread_mutex_lock(&f->mu);
    f->sends++;
    enum send_result res = SEND_OK;
    if (f->hold) {
        res = SEND_RETRYABLE;
        error_set(err, "UNAVAILABLE: backend down");
    } else if (poison) {
        f->rejects++;
        res = f->refuse_as_auth ? SEND_PERMANENT : SEND_REJECTED;
        error_set(err, "%s: span has attribute poison=true",
                  f->refuse_as_auth ? "PERMISSION_DENIED" : "INVALID_ARGUMENT");
    } else if (f->retry_budget > 0) {
        f->retry_budget--;
        f->retryables++;
        res = SEND_RETRYABLE;
        error_set(err, "UNAVAILABLE: try again");
    } else {
        for (size_t r = 0; r < req->n_resource_spans; r++)
            for (size_t s = 0; s < req->resource_spans[r]->n_scope_spans; s++) {
                Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
                    req->resource_spans[r]->scope_spans[s];
                for (size_t i = 0; i < ss->n_spans; i++) {
                    int id = atoi(ss->spans[i]->name + 1);
                    assert_true(id >= 0 && id < MAX_ID);
                    f->got[id]++;
                }
            }
        if (f->nacc < 256) {
            f->sizes[f->nacc] = n;
            f->bytes[f->nacc] = len;
        }
        f->nacc++;
    }
    pthread_mutex_unlock(&f->mu);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                            NULL);
    if (res == SEND_OK && f->partial) {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
        ps.rejected_spans = 2;
        ps.error_message = "2 spans had invalid IDs";
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse resp =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
        resp.partial_success = &ps;
        exporter_helper_partial_success(f->h, b, &resp.base);
    }
    return res;
}

static void strict_init(struct strict *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
}

/* Each id in [from, to) accepted exactly once except those poisoned (never accepted). */
static void assert_delivered_once(struct strict *f, int from, int to, bool (*poisoned)(int))
{
    pthread_mutex_lock(&f->mu);
    for (int id = from; id < to; id++) {
        int want = poisoned && poisoned(id) ? 0 : 1;
        if (f->got[id] != want)
            fail_msg("span s%d accepted %d times, want %d", id, f->got[id], want);
    }
    pthread_mutex_unlock(&f->mu);
}

static int accepted_total(struct strict *f)
{
    pthread_mutex_lock(&f->mu);
    int n = 0;
    for (int i = 0; i < MAX_ID; i++)
        n += f->got[i];
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* ---- helper setup ---------------------------------------------------------------------------- */

static struct retry_config fast_retry(void)
{
    struct retry_config r = {.enabled = true, .initial_interval = 1 * MS, .max_interval = 4 * MS,
                             .max_elapsed_time = 0, .multiplier = 2.0,
                             .randomization_factor = 0.5};
    return r;
}

static struct queue_config queue(int64_t consumers)
{
    struct queue_config q = {.enabled = true, .num_consumers = consumers, .queue_size = 1000,
                             .overflow_wait = 100 * MS};
    return q;
}

static struct queue_config batching(int64_t consumers, int sizer, int64_t min, int64_t max,
                                    int64_t flush)
{
    struct queue_config q = queue(consumers);
    q.batch_enabled = true;
    q.batch = (struct queue_batch_config){.flush_timeout = flush, .min_size = min,
                                          .max_size = max, .sizer = sizer};
    return q;
}

static struct exporter_helper *start(struct queue_config *q, struct strict *f,
                                     struct telemetry *t)
{
    struct retry_config r = fast_retry();
    struct error err = {0};
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", q, &r, strict_send, f, t, &err);
    if (!h)
        fail_msg("exporter_helper_new: %s", err.msg);
    f->h = h;
    if (exporter_helper_start(h, &err) != 0)
        fail_msg("exporter_helper_start: %s", err.msg);
    return h;
}

static int64_t value(struct telemetry *t, const char *name)
{
    return telemetry_value(t, name, LABELS);
}

static void wait_settled(struct telemetry *t, int64_t want)
{
    for (int i = 0; i < 2000; i++) {
        if (value(t, "otelcol_exporter_sent_spans") + value(t, "otelcol_exporter_send_failed_spans") >=
            want)
            break;
        tu_sleep_ms(5);
    }
    assert_int_equal(value(t, "otelcol_exporter_sent_spans") +
                         value(t, "otelcol_exporter_send_failed_spans"),
                     want);
}

static void consume(struct exporter_helper *h, struct batch *b)
{
    assert_int_equal(exporter_helper_consume(h, b), CONSUME_OK);
    batch_unref(b);
}

/* ---- poison isolation ------------------------------------------------------------------------ */

/* 10 requests of 10 good spans and one with span 100 poisoned, merged by a batch processor into
 * one request: 100 delivered once, 1 failed, in at most 1 + 2 log2(101) + 2 sends. */
static void test_one_poison_in_merged_request(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    struct queue_config q = queue(2);
    struct exporter_helper *h = start(&q, &f, t);
    struct batch *parts[11];
    for (int i = 0; i < 10; i++)
        parts[i] = spans_batch(i * 10, 10, 1, NULL);
    parts[10] = spans_batch(100, 1, 1, poison_100);
    struct batch *all = merged(parts, 11);
    for (int i = 0; i < 11; i++)
        batch_unref(parts[i]);
    consume(h, all);
    wait_settled(t, 101);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_delivered_once(&f, 0, 101, poison_100);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 100);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 1);
    assert_true(f.sends <= 1 + 2 * 7 + 2);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* Five poisons among 200 spans, some inside a resource of several scopes, some adjacent: 195
 * delivered once, 5 failed; the sends stay within k * 2 log2 N. */
static void test_several_poisons(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    struct queue_config q = queue(1);
    struct exporter_helper *h = start(&q, &f, t);
    struct batch *parts[4] = {spans_batch(0, 50, 3, poison_some), spans_batch(50, 50, 1, poison_some),
                              spans_batch(100, 60, 4, poison_some),
                              spans_batch(160, 40, 2, poison_some)};
    struct batch *all = merged(parts, 4);
    for (int i = 0; i < 4; i++)
        batch_unref(parts[i]);
    consume(h, all);
    wait_settled(t, 200);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_delivered_once(&f, 0, 200, poison_some);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 195);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 5);
    assert_true(f.sends <= 1 + 5 * 2 * 9);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* A whole resource of 8 poisoned spans between good ones: each of the 8 fails alone. */
static void test_poison_whole_resource(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    struct queue_config q = queue(1);
    struct exporter_helper *h = start(&q, &f, t);
    struct batch *parts[3] = {spans_batch(0, 30, 2, NULL), spans_batch(30, 8, 2, poison_all),
                              spans_batch(38, 30, 1, NULL)};
    struct batch *all = merged(parts, 3);
    for (int i = 0; i < 3; i++)
        batch_unref(parts[i]);
    consume(h, all);
    wait_settled(t, 68);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    for (int id = 0; id < 68; id++)
        assert_int_equal(f.got[id], id >= 30 && id < 38 ? 0 : 1);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 60);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 8);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* The halves meet a retryable answer first: each retries on its own, nothing is duplicated. */
static void test_retryable_halves(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    f.retry_budget = 5;
    struct queue_config q = queue(1);
    struct exporter_helper *h = start(&q, &f, t);
    struct batch *parts[2] = {spans_batch(0, 64, 1, NULL), spans_batch(100, 1, 1, poison_100)};
    struct batch *all = merged(parts, 2);
    batch_unref(parts[0]);
    batch_unref(parts[1]);
    consume(h, all);
    wait_settled(t, 65);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(f.retryables, 5);
    assert_delivered_once(&f, 0, 64, NULL);
    assert_int_equal(f.got[100], 0);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 64);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 1);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* A permanent error that is not about the data (auth): the whole request fails, one send. */
static void test_auth_error_not_split(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    f.refuse_as_auth = true;
    struct queue_config q = queue(1);
    struct exporter_helper *h = start(&q, &f, t);
    struct batch *parts[2] = {spans_batch(0, 20, 1, NULL), spans_batch(100, 1, 1, poison_100)};
    consume(h, merged(parts, 2));
    batch_unref(parts[0]);
    batch_unref(parts[1]);
    wait_settled(t, 21);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(f.sends, 1);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 0);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 21);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* Queue disabled: the caller's thread narrows the refusal the same way. */
static void test_poison_queue_disabled(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    struct queue_config q = queue(1);
    q.enabled = false;
    struct exporter_helper *h = start(&q, &f, t);
    consume(h, spans_batch(95, 10, 2, poison_100));
    assert_delivered_once(&f, 95, 105, poison_100);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 9);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 1);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* An OK answer with partial success: counted and never sent again. */
static void test_partial_success_not_resent(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    f.partial = true;
    struct queue_config q = queue(1);
    struct exporter_helper *h = start(&q, &f, t);
    consume(h, spans_batch(0, 10, 1, NULL));
    wait_settled(t, 10);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(f.sends, 1);
    assert_delivered_once(&f, 0, 10, NULL);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 10);
    assert_int_equal(value(t, "otelcol_exporter_partial_rejected_spans"), 2);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 0);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* ---- metrics and logs: the same narrowing, cutting inside one metric or one scope ------------ */

/* A downstream of data points (tu_make_metrics: value 7*i) or log records (tu_make_logs: time
 * 9000+i) that refuses any request holding item `bad`, and counts the others by index. */
struct other {
    pthread_mutex_t mu;
    int bad;
    int got[64];
    int sends;
};

static enum send_result other_send(void *ctx, struct batch *b, int64_t *throttle_ns,
                                   struct error *err)
{
    (void)throttle_ns;
    struct other *o = ctx;
    const uint8_t *data;
    size_t len;
    assert_int_equal(batch_encoded(b, &data, &len, err), 0);
    int idx[64];
    int n = 0;
    if (b->signal == SIGNAL_METRICS) {
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r =
            opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
                NULL, len, data);
        assert_non_null(r);
        for (size_t i = 0; i < r->n_resource_metrics; i++)
            for (size_t k = 0; k < r->resource_metrics[i]->n_scope_metrics; k++) {
                Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
                    r->resource_metrics[i]->scope_metrics[k];
                for (size_t m = 0; m < sm->n_metrics; m++)
                    for (size_t p = 0; p < sm->metrics[m]->gauge->n_data_points; p++)
                        idx[n++] = (int)(sm->metrics[m]->gauge->data_points[p]->as_int / 7);
            }
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
            r, NULL);
    } else {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r =
            opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(NULL, len,
                                                                                          data);
        assert_non_null(r);
        for (size_t i = 0; i < r->n_resource_logs; i++)
            for (size_t k = 0; k < r->resource_logs[i]->n_scope_logs; k++) {
                Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = r->resource_logs[i]->scope_logs[k];
                for (size_t j = 0; j < sl->n_log_records; j++)
                    idx[n++] = (int)(sl->log_records[j]->time_unix_nano - 9000);
            }
        opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r,
                                                                                              NULL);
    }
    assert_int_equal(n, (int)b->items);
    pthread_mutex_lock(&o->mu);
    o->sends++;
    bool bad = false;
    for (int i = 0; i < n; i++)
        bad |= idx[i] == o->bad;
    if (!bad)
        for (int i = 0; i < n; i++)
            o->got[idx[i]]++;
    pthread_mutex_unlock(&o->mu);
    if (bad)
        error_set(err, "INVALID_ARGUMENT: item %d is bad", o->bad);
    return bad ? SEND_REJECTED : SEND_OK;
}

static void other_case(enum signal s)
{
    struct telemetry *t = telemetry_new();
    struct other o = {.bad = 13};
    pthread_mutex_init(&o.mu, NULL);
    struct queue_config q = queue(1);
    q.enabled = false;
    struct retry_config r = fast_retry();
    struct error err = {0};
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, other_send, &o, t, &err);
    assert_non_null(h);
    size_t len;
    uint8_t *wire = s == SIGNAL_METRICS ? tu_make_metrics(40, &len) : tu_make_logs(40, &len);
    struct batch *b = batch_from_wire(s, wire, len, &err);
    free(wire);
    assert_non_null(b);
    consume(h, b);
    const char *sent = s == SIGNAL_METRICS ? "otelcol_exporter_sent_metric_points"
                                           : "otelcol_exporter_sent_log_records";
    const char *failed = s == SIGNAL_METRICS ? "otelcol_exporter_send_failed_metric_points"
                                             : "otelcol_exporter_send_failed_log_records";
    assert_int_equal(value(t, sent), 39);
    assert_int_equal(value(t, failed), 1);
    for (int i = 0; i < 40; i++)
        assert_int_equal(o.got[i], i == 13 ? 0 : 1);
    assert_true(o.sends <= 1 + 2 * 6);
    exporter_helper_free(h);
    pthread_mutex_destroy(&o.mu);
    telemetry_free(t);
}

/* One gauge of 40 points, point 13 refused: the metric is sliced down to that point. */
static void test_poison_metric_point(void **state)
{
    (void)state;
    other_case(SIGNAL_METRICS);
}

/* One scope of 40 log records, record 13 refused. */
static void test_poison_log_record(void **state)
{
    (void)state;
    other_case(SIGNAL_LOGS);
}

/* ---- sending_queue.batch --------------------------------------------------------------------- */

/* min_size 30 items: three requests of 10 leave as one, long before the 10 s flush timeout. */
static void test_batch_min_size(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    struct queue_config q = batching(2, QUEUE_SIZER_ITEMS, 30, 0, 10000 * MS);
    struct exporter_helper *h = start(&q, &f, t);
    int64_t t0 = clock_now_ns();
    for (int i = 0; i < 3; i++)
        consume(h, spans_batch(i * 10, 10, 1, NULL));
    wait_settled(t, 30);
    assert_true(clock_now_ns() - t0 < 5000 * MS);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(f.nacc, 1);
    assert_int_equal(f.sizes[0], 30);
    assert_delivered_once(&f, 0, 30, NULL);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* Below min_size, what is pending leaves once flush_timeout has passed since the first. */
static void test_batch_flush_timeout(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    struct queue_config q = batching(2, QUEUE_SIZER_ITEMS, 1000, 0, 150 * MS);
    struct exporter_helper *h = start(&q, &f, t);
    int64_t t0 = clock_now_ns();
    consume(h, spans_batch(0, 5, 1, NULL));
    consume(h, spans_batch(5, 5, 1, NULL));
    tu_sleep_ms(60);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 0); /* still waiting */
    wait_settled(t, 10);
    int64_t took = clock_now_ns() - t0;
    assert_true(took >= 140 * MS);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(f.nacc, 1);
    assert_int_equal(f.sizes[0], 10);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* max_size 10: 25 pending items leave as requests of at most 10, in order, nothing lost. */
static void test_batch_max_size_split(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    struct queue_config q = batching(1, QUEUE_SIZER_ITEMS, 10, 10, 10000 * MS);
    struct exporter_helper *h = start(&q, &f, t);
    consume(h, spans_batch(0, 7, 1, NULL));
    consume(h, spans_batch(7, 18, 3, NULL)); /* 25 pending */
    wait_settled(t, 25);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(f.nacc, 3);
    for (int i = 0; i < f.nacc; i++)
        assert_true(f.sizes[i] <= 10);
    assert_delivered_once(&f, 0, 25, NULL);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 25);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* bytes sizer: min_size reached by bytes, each request sent within max_size bytes. */
static void test_batch_bytes_sizer(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    struct batch *probe = spans_batch(0, 10, 1, NULL);
    const uint8_t *d;
    size_t one;
    struct error err;
    assert_int_equal(batch_encoded(probe, &d, &one, &err), 0);
    batch_unref(probe);
    /* min = max: more than 3 requests (later ones are 11 bytes larger), less than 4; so the
     * four leave together (not after the 10 s flush timeout) and are cut in two. */
    int64_t t0 = clock_now_ns();
    int64_t lim = (int64_t)(3 * one + 100);
    struct queue_config q = batching(1, QUEUE_SIZER_BYTES, lim, lim, 10000 * MS);
    struct error verr;
    assert_int_equal(queue_config_validate(&q, &verr), 0);
    struct exporter_helper *h = start(&q, &f, t);
    for (int i = 0; i < 4; i++)
        consume(h, spans_batch(i * 10, 10, 1, NULL));
    wait_settled(t, 40);
    assert_true(clock_now_ns() - t0 < 5000 * MS);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(f.nacc, 2);
    for (int i = 0; i < f.nacc; i++)
        assert_true(f.bytes[i] <= (size_t)lim);
    assert_delivered_once(&f, 0, 40, NULL);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* The batcher merges requests from several callers and the poison is narrowed inside the
 * merged request: the end-to-end case of issue 10 at the helper. */
static void test_batch_with_poison(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    struct queue_config q = batching(2, QUEUE_SIZER_ITEMS, 101, 0, 10000 * MS);
    struct exporter_helper *h = start(&q, &f, t);
    for (int i = 0; i < 10; i++)
        consume(h, spans_batch(i * 10, 10, 1, NULL));
    consume(h, spans_batch(100, 1, 1, poison_100));
    wait_settled(t, 101);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_delivered_once(&f, 0, 101, poison_100);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 100);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 1);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* Shutdown flushes what is pending at once, without waiting for flush_timeout. */
static void test_batch_shutdown_flushes(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    struct queue_config q = batching(1, QUEUE_SIZER_ITEMS, 1000, 0, 60000 * MS);
    struct exporter_helper *h = start(&q, &f, t);
    consume(h, spans_batch(0, 4, 1, NULL));
    consume(h, spans_batch(4, 4, 1, NULL));
    tu_sleep_ms(20);
    int64_t t0 = clock_now_ns();
    exporter_helper_shutdown(h, clock_now_ns() + 2000 * MS);
    assert_true(clock_now_ns() - t0 < 1000 * MS);
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 8);
    assert_int_equal(f.nacc, 1);
    exporter_helper_free(h);
    telemetry_free(t);
}

/* ---- persistent queue with batching ---------------------------------------------------------- */

static int count_records(struct tu_store *st)
{
    char path[256];
    snprintf(path, sizeof path, "%s/exporter_otlp_test_traces", st->dir);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 6 && strcmp(e->d_name + l - 6, ".batch") == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* Records stay on disk while their items wait in the batcher or are being retried; the helper
 * stopped without settling them (a crash, as far as the disk can tell) leaves them all; the next
 * helper sends every span once and removes every record — including the poisoned one, counted
 * as failed. */
static void test_batch_storage_crash_replay(void **state)
{
    (void)state;
    struct tu_store st;
    tu_store_open(&st, NULL);
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    f.hold = true; /* backend down */
    struct queue_config q = batching(2, QUEUE_SIZER_ITEMS, 25, 0, 50 * MS);
    q.storage = "file_storage";
    q.storage_ext = st.fs;
    struct retry_config r = fast_retry();
    r.initial_interval = r.max_interval = 60000 * MS; /* the first retry waits past the test */
    struct error err = {0};
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, strict_send, &f, t, &err);
    assert_non_null(h);
    assert_int_equal(exporter_helper_start(h, &err), 0);
    for (int i = 0; i < 6; i++) {
        consume(h, spans_batch(i * 10, 10, 1, NULL)); /* 0..59 */
        assert_int_equal(count_records(&st), i + 1);
    }
    consume(h, spans_batch(100, 1, 1, poison_100));
    for (int i = 0; i < 400 && f.sends < 2; i++)
        tu_sleep_ms(5);
    assert_true(f.sends >= 1);
    assert_int_equal(count_records(&st), 7);
    exporter_helper_free(h); /* cancels at once: nothing settled */
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 0);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 0);
    assert_int_equal(count_records(&st), 7);
    telemetry_free(t);

    t = telemetry_new();
    strict_init(&f);
    r = fast_retry();
    h = exporter_helper_new("exporter/test", "otlp/test", &q, &r, strict_send, &f, t, &err);
    assert_non_null(h);
    assert_int_equal(exporter_helper_start(h, &err), 0);
    assert_int_equal(value(t, "llmotlp_exporter_queue_recovered_spans"), 61);
    wait_settled(t, 61);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_delivered_once(&f, 0, 60, NULL);
    assert_int_equal(accepted_total(&f), 60); /* no duplicates */
    assert_int_equal(value(t, "otelcol_exporter_sent_spans"), 60);
    assert_int_equal(value(t, "otelcol_exporter_send_failed_spans"), 1);
    assert_int_equal(count_records(&st), 0);
    exporter_helper_free(h);
    telemetry_free(t);
    tu_store_close(&st);
}

/* A merged request in flight keeps every member's record until it is settled. */
static void test_batch_storage_removed_after_settle(void **state)
{
    (void)state;
    struct tu_store st;
    tu_store_open(&st, NULL);
    struct telemetry *t = telemetry_new();
    struct strict f;
    strict_init(&f);
    f.retry_budget = 3; /* the merged request fails retryably three times, then goes */
    struct queue_config q = batching(1, QUEUE_SIZER_ITEMS, 30, 0, 10000 * MS);
    q.storage = "file_storage";
    q.storage_ext = st.fs;
    struct retry_config r = fast_retry();
    r.initial_interval = r.max_interval = 100 * MS;
    r.randomization_factor = 0;
    struct error err = {0};
    struct exporter_helper *h =
        exporter_helper_new("exporter/test", "otlp/test", &q, &r, strict_send, &f, t, &err);
    assert_non_null(h);
    assert_int_equal(exporter_helper_start(h, &err), 0);
    for (int i = 0; i < 3; i++)
        consume(h, spans_batch(i * 10, 10, 1, NULL));
    for (int i = 0; i < 400 && f.sends < 1; i++)
        tu_sleep_ms(2);
    assert_int_equal(count_records(&st), 3); /* sent once, refused, waiting to retry */
    wait_settled(t, 30);
    exporter_helper_shutdown(h, clock_now_ns() + 1000 * MS);
    assert_int_equal(count_records(&st), 0);
    assert_int_equal(f.nacc, 1);
    assert_delivered_once(&f, 0, 30, NULL);
    exporter_helper_free(h);
    telemetry_free(t);
    tu_store_close(&st);
}

/* ---- config ---------------------------------------------------------------------------------- */

static int bind_queue(const char *yaml, struct queue_config *q, struct error *err)
{
    struct cnode *tree = config_parse_string(yaml, "q.yaml", err);
    assert_non_null(tree);
    memset(q, 0, sizeof *q);
    int rc = config_bind(queue_config_fields, tree, q, err);
    if (rc == 0)
        rc = queue_config_validate(q, err);
    config_free_bound(queue_config_fields, q);
    cnode_free(tree);
    return rc;
}

static void test_batch_config(void **state)
{
    (void)state;
    struct queue_config q;
    struct error err = {0};
    assert_int_equal(bind_queue("num_consumers: 2\n", &q, &err), 0);
    assert_false(q.batch_enabled);
    assert_int_equal(bind_queue("batch:\n", &q, &err), 0);
    assert_true(q.batch_enabled);
    assert_int_equal(q.batch.flush_timeout, 200 * MS);
    assert_int_equal(q.batch.min_size, 8192);
    assert_int_equal(q.batch.max_size, 0);
    assert_int_equal(q.batch.sizer, QUEUE_SIZER_ITEMS);
    assert_int_equal(bind_queue("batch: {}\n", &q, &err), 0);
    assert_true(q.batch_enabled);
    assert_int_equal(bind_queue("batch: {sizer: bytes, min_size: 1000, max_size: 4000, "
                                "flush_timeout: 1s}\n", &q, &err), 0);
    assert_int_equal(q.batch.sizer, QUEUE_SIZER_BYTES);
    assert_int_equal(q.batch.flush_timeout, 1000 * MS);

    assert_int_equal(bind_queue("batch: {flush_timeout: 0s}\n", &q, &err), -1);
    assert_non_null(strstr(err.msg, "batch.flush_timeout"));
    assert_int_equal(bind_queue("batch: {min_size: 100, max_size: 10}\n", &q, &err), -1);
    assert_non_null(strstr(err.msg, "batch.max_size"));
    assert_int_equal(bind_queue("batch: {sizer: parcels}\n", &q, &err), -1);
    assert_non_null(strstr(err.msg, "sizer"));
    assert_int_equal(bind_queue("batch: {min_size: -1}\n", &q, &err), -1);
    assert_non_null(strstr(err.msg, "min_size"));
    assert_int_equal(bind_queue("batch: {bogus: 1}\n", &q, &err), -1);
    assert_non_null(strstr(err.msg, "bogus"));
}

int main(void)
{
    log_set_level(getenv("TEST_LOG") ? LOG_DEBUG : LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_poison_in_merged_request),
        cmocka_unit_test(test_several_poisons),
        cmocka_unit_test(test_poison_whole_resource),
        cmocka_unit_test(test_retryable_halves),
        cmocka_unit_test(test_auth_error_not_split),
        cmocka_unit_test(test_poison_queue_disabled),
        cmocka_unit_test(test_partial_success_not_resent),
        cmocka_unit_test(test_poison_metric_point),
        cmocka_unit_test(test_poison_log_record),
        cmocka_unit_test(test_batch_min_size),
        cmocka_unit_test(test_batch_flush_timeout),
        cmocka_unit_test(test_batch_max_size_split),
        cmocka_unit_test(test_batch_bytes_sizer),
        cmocka_unit_test(test_batch_with_poison),
        cmocka_unit_test(test_batch_shutdown_flushes),
        cmocka_unit_test(test_batch_storage_crash_replay),
        cmocka_unit_test(test_batch_storage_removed_after_settle),
        cmocka_unit_test(test_batch_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
