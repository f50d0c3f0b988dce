/* test_batch_processor.c — the batch processor and the wire merge/split helper it stands on.
 * A fake downstream records every request it is handed (as bytes) and answers what the test
 * says; assertions decode those bytes with protobuf-c, so they check what a real exporter would
 * send: the union of the inputs, in order, each item exactly once, no request above the maximum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/otlp_merge.h"
#include "core/telemetry.h"
#include "processors/batch/batch_processor.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsRequest;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;

/* ---- building requests ----------------------------------------------------------------------- */

struct wire {
    uint8_t *data;
    size_t len;
    uint64_t items;
};

static Opentelemetry__Proto__Common__V1__KeyValue *str_attr(struct arena *a, const char *k,
                                                              const char *v)
{
    Opentelemetry__Proto__Common__V1__KeyValue *kv = arena_alloc(a, sizeof *kv);
    Opentelemetry__Proto__Common__V1__AnyValue *av = arena_alloc(a, sizeof *av);
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(av);
    av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    av->string_value = arena_strdup(a, v);
    kv->key = arena_strdup(a, k);
    kv->value = av;
    return kv;
}

static struct wire pack(const ProtobufCMessage *m)
{
    struct wire w;
    w.len = protobuf_c_message_get_packed_size(m);
    w.data = malloc(w.len ? w.len : 1);
    assert_non_null(w.data);
    assert_int_equal(protobuf_c_message_pack(m, w.data), w.len);
    return w;
}

/* A trace request of `resources` resources × `scopes` scopes × `spans` spans. Span names are
 * "<tag>.<r>.<s>.<i>", so order and origin can be checked after merging and splitting. */
static struct wire make_traces(const char *tag, size_t resources, size_t scopes, size_t spans)
{
    struct arena *a = arena_new(0);
    static atomic_uint serial;
    TraceRequest *req = arena_alloc(a, sizeof *req);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
    req->n_resource_spans = resources;
    req->resource_spans = arena_alloc(a, sizeof(ResourceSpans *) * (resources + 1));
    for (size_t r = 0; r < resources; r++) {
        ResourceSpans *rs = arena_alloc(a, sizeof *rs);
        opentelemetry__proto__trace__v1__resource_spans__init(rs);
        rs->resource = arena_alloc(a, sizeof *rs->resource);
        opentelemetry__proto__resource__v1__resource__init(rs->resource);
        char svc[64];
        snprintf(svc, sizeof svc, "%s-svc-%zu", tag, r);
        rs->resource->n_attributes = 1;
        rs->resource->attributes = arena_alloc(a, sizeof(void *));
        rs->resource->attributes[0] = str_attr(a, "service.name", svc);
        rs->n_scope_spans = scopes;
        rs->scope_spans = arena_alloc(a, sizeof(ScopeSpans *) * (scopes + 1));
        for (size_t s = 0; s < scopes; s++) {
            ScopeSpans *ss = arena_alloc(a, sizeof *ss);
            opentelemetry__proto__trace__v1__scope_spans__init(ss);
            ss->scope = arena_alloc(a, sizeof *ss->scope);
            opentelemetry__proto__common__v1__instrumentation_scope__init(ss->scope);
            char scope[32];
            snprintf(scope, sizeof scope, "scope-%zu", s);
            ss->scope->name = arena_strdup(a, scope);
            ss->n_spans = spans;
            ss->spans = arena_alloc(a, sizeof(Span *) * (spans + 1));
            for (size_t i = 0; i < spans; i++) {
                Span *sp = arena_alloc(a, sizeof *sp);
                opentelemetry__proto__trace__v1__span__init(sp);
                char name[96];
                snprintf(name, sizeof name, "%s.%zu.%zu.%zu", tag, r, s, i);
                sp->name = arena_strdup(a, name);
                uint8_t *tid = arena_alloc(a, 16), *sid = arena_alloc(a, 8);
                unsigned n = atomic_fetch_add(&serial, 1) + 1;
                memset(tid, 0, 16);
                memset(sid, 0, 8);
                memcpy(tid, &n, sizeof n);
                memcpy(sid, &n, sizeof n);
                sp->trace_id = (ProtobufCBinaryData){16, tid};
                sp->span_id = (ProtobufCBinaryData){8, sid};
                ss->spans[i] = sp;
            }
            rs->scope_spans[s] = ss;
        }
        req->resource_spans[r] = rs;
    }
    struct wire w = pack(&req->base);
    w.items = resources * scopes * spans;
    arena_free(a);
    return w;
}

/* A metrics request: one resource, one scope, one gauge of `points` points and one sum of
 * `points` points. */
static struct wire make_metrics(size_t points)
{
    struct arena *a = arena_new(0);
    MetricsRequest *req = arena_alloc(a, sizeof *req);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(req);
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = arena_alloc(a, sizeof *rm);
    opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = arena_alloc(a, sizeof *sm);
    opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
    req->n_resource_metrics = 1;
    req->resource_metrics = arena_alloc(a, sizeof(void *));
    req->resource_metrics[0] = rm;
    rm->n_scope_metrics = 1;
    rm->scope_metrics = arena_alloc(a, sizeof(void *));
    rm->scope_metrics[0] = sm;
    sm->n_metrics = 2;
    sm->metrics = arena_alloc(a, 2 * sizeof(void *));
    for (int k = 0; k < 2; k++) {
        Opentelemetry__Proto__Metrics__V1__Metric *m = arena_alloc(a, sizeof *m);
        opentelemetry__proto__metrics__v1__metric__init(m);
        m->name = arena_strdup(a, k ? "requests" : "queue");
        Opentelemetry__Proto__Metrics__V1__NumberDataPoint **dps =
            arena_alloc(a, sizeof(void *) * points);
        for (size_t i = 0; i < points; i++) {
            dps[i] = arena_alloc(a, sizeof *dps[i]);
            opentelemetry__proto__metrics__v1__number_data_point__init(dps[i]);
            dps[i]->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
            dps[i]->as_int = (int64_t)(k * 1000 + i);
        }
        if (k == 0) {
            m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
            m->gauge = arena_alloc(a, sizeof *m->gauge);
            opentelemetry__proto__metrics__v1__gauge__init(m->gauge);
            m->gauge->n_data_points = points;
            m->gauge->data_points = dps;
        } else {
            m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
            m->sum = arena_alloc(a, sizeof *m->sum);
            opentelemetry__proto__metrics__v1__sum__init(m->sum);
            m->sum->n_data_points = points;
            m->sum->data_points = dps;
            m->sum->is_monotonic = 1;
            m->sum->aggregation_temporality =
                OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
        }
        sm->metrics[k] = m;
    }
    struct wire w = pack(&req->base);
    w.items = 2 * points;
    arena_free(a);
    return w;
}

static void concat(struct wire *dst, const struct wire *src)
{
    dst->data = realloc(dst->data, dst->len + src->len + 1);
    assert_non_null(dst->data);
    memcpy(dst->data + dst->len, src->data, src->len);
    dst->len += src->len;
    dst->items += src->items;
}

/* Span names of an encoded trace request, in order, appended to names[*n]. */
static void span_names(const uint8_t *data, size_t len, char **names, size_t *n, size_t cap)
{
    TraceRequest *req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, len, data);
    assert_non_null(req);
    for (size_t r = 0; r < req->n_resource_spans; r++) {
        ResourceSpans *rs = req->resource_spans[r];
        assert_non_null(rs->resource);
        assert_int_equal(rs->resource->n_attributes, 1);
        for (size_t s = 0; s < rs->n_scope_spans; s++)
            for (size_t i = 0; i < rs->scope_spans[s]->n_spans; i++) {
                assert_true(*n < cap);
                names[(*n)++] = strdup(rs->scope_spans[s]->spans[i]->name);
            }
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
}

/* ---- fake downstream ------------------------------------------------------------------------- */

#define FAKE_MAX 512

struct fake_next {
    struct consumer c;
    pthread_mutex_t lock;
    atomic_int answer;          /* enum consume_status to give */
    atomic_int calls;
    atomic_int edit;            /* rename every span to "edited" (in place when allowed) first */
    struct batch *_Atomic last; /* the batch of the last call (compared, never dereferenced) */
    size_t n;                   /* requests taken (answer OK) */
    struct wire got[FAKE_MAX];
};

static enum consume_status fake_consume(struct consumer *self, struct batch *b)
{
    struct fake_next *f = (struct fake_next *)self;
    atomic_fetch_add(&f->calls, 1);
    atomic_store(&f->last, b);
    struct batch *edited = NULL;
    if (atomic_load(&f->edit)) {
        /* As an editing processor would: batch_edit, then hand on the (maybe private) batch. */
        struct error eerr = {0};
        TraceRequest *m = (TraceRequest *)batch_edit(b, &edited, &eerr);
        assert_non_null(m);
        for (size_t i = 0; i < m->n_resource_spans; i++)
            for (size_t j = 0; j < m->resource_spans[i]->n_scope_spans; j++)
                for (size_t k = 0; k < m->resource_spans[i]->scope_spans[j]->n_spans; k++)
                    m->resource_spans[i]->scope_spans[j]->spans[k]->name = "edited";
        batch_edit_done(edited);
        if (edited == b)
            edited = NULL;
        else
            b = edited;
    }
    enum consume_status st = (enum consume_status)atomic_load(&f->answer);
    if (st != CONSUME_OK) {
        batch_unref(edited);
        return st;
    }
    if (st != CONSUME_OK)
        return st;
    const uint8_t *data;
    size_t len;
    struct error err;
    assert_int_equal(batch_encoded(b, &data, &len, &err), 0);
    pthread_mutex_lock(&f->lock);
    assert_true(f->n < FAKE_MAX);
    struct wire *w = &f->got[f->n++];
    w->data = malloc(len + 1);
    memcpy(w->data, data, len);
    w->len = len;
    w->items = b->items;
    pthread_mutex_unlock(&f->lock);
    batch_unref(edited);
    return CONSUME_OK;
}

static size_t fake_count(struct fake_next *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = f->n;
    pthread_mutex_unlock(&f->lock);
    return n;
}

static uint64_t fake_items(struct fake_next *f)
{
    uint64_t t = 0;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n; i++)
        t += f->got[i].items;
    pthread_mutex_unlock(&f->lock);
    return t;
}

/* ---- fixture --------------------------------------------------------------------------------- */

struct fixture {
    struct fake_next next;
    struct telemetry *tel;
    struct batch_processor_config cfg;
    struct component_env env;
    void *proc;
};

static struct fixture *fixture_new(enum signal s, int64_t size, int64_t max, int64_t timeout_ns)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    fx->next.c.consume = fake_consume;
    pthread_mutex_init(&fx->next.lock, NULL);
    fx->tel = telemetry_new();
    fx->cfg.send_batch_size = size;
    fx->cfg.send_batch_max_size = max;
    fx->cfg.timeout = timeout_ns;
    fx->env.id = "batch";
    fx->env.log_name = "processor/batch";
    fx->env.signal = s;
    fx->env.next[s] = &fx->next.c;
    fx->env.telemetry = fx->tel;
    struct error err = {0};
    assert_int_equal(batch_processor_factory.validate(&fx->cfg, &err), 0);
    fx->proc = batch_processor_factory.create(&fx->cfg, &fx->env, &err);
    assert_non_null(fx->proc);
    assert_int_equal(batch_processor_factory.start(fx->proc, &err), 0);
    return fx;
}

static void fixture_free(struct fixture *fx)
{
    batch_processor_factory.shutdown(fx->proc, clock_now_ns() + 2000000000LL);
    batch_processor_factory.destroy(fx->proc);
    for (size_t i = 0; i < fx->next.n; i++)
        free(fx->next.got[i].data);
    pthread_mutex_destroy(&fx->next.lock);
    telemetry_free(fx->tel);
    free(fx);
}

static int64_t counter(struct fixture *fx, const char *name)
{
    return telemetry_value(fx->tel, name, "processor=\"batch\"");
}

/* Hands an encoded request to the processor as a receiver would; frees the wire. */
static enum consume_status feed(struct fixture *fx, enum signal s, struct wire w)
{
    struct error err = {0};
    struct batch *b = batch_from_wire(s, w.data, w.len, &err);
    assert_non_null(b);
    assert_int_equal(b->items, w.items);
    enum consume_status st = batch_processor_factory.consume(fx->proc, b);
    batch_unref(b);
    free(w.data);
    return st;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls until pred holds, for a generous bound (10 s); returns whether it did. */
static int wait_until(int (*pred)(struct fixture *), struct fixture *fx)
{
    for (int i = 0; i < 1000; i++) {
        if (pred(fx))
            return 1;
        nap_ms(10);
    }
    return 0;
}

static int refused_twice(struct fixture *fx) { return atomic_load(&fx->next.calls) >= 2; }

static int dropped_four(struct fixture *fx)
{
    return telemetry_value(fx->tel, "otelcol_processor_batch_dropped_spans",
                           "processor=\"batch\"") == 4;
}

static int wait_count(struct fake_next *f, size_t n)
{
    for (int i = 0; i < 1000; i++) {
        if (fake_count(f) >= n)
            return 1;
        nap_ms(10);
    }
    return 0;
}

/* Checks that the recorded requests hold exactly `expect` (names), in order. */
static void assert_names(struct fake_next *f, const char *const *expect, size_t n_expect)
{
    char *names[512];
    size_t n = 0;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n; i++)
        span_names(f->got[i].data, f->got[i].len, names, &n, 512);
    pthread_mutex_unlock(&f->lock);
    assert_int_equal(n, n_expect);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(names[i], expect[i]);
        free(names[i]);
    }
}

/* ---- tests: processor ------------------------------------------------------------------------ */

static void test_size_trigger_merges_in_order(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 10, 0, 60LL * 1000000000);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("a", 1, 1, 3)), CONSUME_OK);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("b", 1, 1, 3)), CONSUME_OK);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("c", 1, 1, 3)), CONSUME_OK);
    assert_int_equal(fake_count(&fx->next), 0); /* 9 < 10: still pending */
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("d", 2, 1, 1)), CONSUME_OK);
    /* Sent synchronously, on this thread, as one request. */
    assert_int_equal(fake_count(&fx->next), 1);
    assert_true(fx->next.got[0].items >= 10);
    assert_int_equal(fx->next.got[0].items, 11);
    const char *expect[] = {"a.0.0.0", "a.0.0.1", "a.0.0.2", "b.0.0.0", "b.0.0.1", "b.0.0.2",
                            "c.0.0.0", "c.0.0.1", "c.0.0.2", "d.0.0.0", "d.1.0.0"};
    assert_names(&fx->next, expect, 11);
    /* Merged bytes decode as one request of five resources. */
    TraceRequest *req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, fx->next.got[0].len, fx->next.got[0].data);
    assert_non_null(req);
    assert_int_equal(req->n_resource_spans, 5);
    assert_string_equal(req->resource_spans[4]->resource->attributes[0]->value->string_value,
                        "d-svc-1");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
    assert_int_equal(counter(fx, "otelcol_processor_batch_batch_size_trigger_send"), 1);
    assert_int_equal(counter(fx, "otelcol_processor_batch_batches_sent"), 1);
    assert_int_equal(counter(fx, "otelcol_processor_batch_timeout_trigger_send"), 0);
    fixture_free(fx);
}

static void test_max_size_splits_at_entries(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 10, 10, 60LL * 1000000000);
    /* Five resources of four spans: 20 items, cut between resources into 8, 8 and 4. */
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("r", 5, 2, 2)), CONSUME_OK);
    assert_int_equal(fake_count(&fx->next), 3);
    for (size_t i = 0; i < 3; i++)
        assert_true(fx->next.got[i].items <= 10);
    assert_int_equal(fx->next.got[0].items, 8);
    assert_int_equal(fx->next.got[1].items, 8);
    assert_int_equal(fx->next.got[2].items, 4);
    assert_int_equal(fake_items(&fx->next), 20);
    char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t before = n;
        span_names(fx->next.got[i].data, fx->next.got[i].len, names, &n, 64);
        assert_int_equal(n - before, fx->next.got[i].items);
    }
    assert_int_equal(n, 20);
    size_t k = 0;
    for (size_t r = 0; r < 5; r++)
        for (size_t s = 0; s < 2; s++)
            for (size_t i = 0; i < 2; i++, k++) {
                char want[32];
                snprintf(want, sizeof want, "r.%zu.%zu.%zu", r, s, i);
                assert_string_equal(names[k], want);
                free(names[k]);
            }
    assert_int_equal(counter(fx, "otelcol_processor_batch_batches_sent"), 3);
    fixture_free(fx);
}

static void test_max_size_splits_one_large_resource(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 10, 10, 60LL * 1000000000);
    /* One resource of 3 spans, then one resource of two scopes × 13 spans (alone over the
     * maximum): the large one is decoded and cut so that every request is full but the last. */
    struct wire w = make_traces("small", 1, 1, 3);
    struct wire big = make_traces("big", 1, 2, 13);
    concat(&w, &big);
    free(big.data);
    assert_int_equal(feed(fx, SIGNAL_TRACES, w), CONSUME_OK);
    assert_int_equal(fake_count(&fx->next), 3);
    assert_int_equal(fx->next.got[0].items, 10);
    assert_int_equal(fx->next.got[1].items, 10);
    assert_int_equal(fx->next.got[2].items, 9);
    const char *expect[29];
    char buf[29][32];
    size_t k = 0;
    for (size_t i = 0; i < 3; i++, k++) {
        snprintf(buf[k], sizeof buf[k], "small.0.0.%zu", i);
        expect[k] = buf[k];
    }
    for (size_t s = 0; s < 2; s++)
        for (size_t i = 0; i < 13; i++, k++) {
            snprintf(buf[k], sizeof buf[k], "big.0.%zu.%zu", s, i);
            expect[k] = buf[k];
        }
    assert_names(&fx->next, expect, 29);
    /* Each piece of the large resource repeats its resource and its scope. */
    for (size_t i = 1; i < 3; i++) {
        TraceRequest *req =
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
                NULL, fx->next.got[i].len, fx->next.got[i].data);
        assert_non_null(req);
        for (size_t r = 0; r < req->n_resource_spans; r++) {
            ResourceSpans *rs = req->resource_spans[r];
            assert_string_equal(rs->resource->attributes[0]->value->string_value, "big-svc-0");
            for (size_t s = 0; s < rs->n_scope_spans; s++) {
                const char *sn = rs->scope_spans[s]->scope->name;
                assert_true(strcmp(sn, "scope-0") == 0 || strcmp(sn, "scope-1") == 0);
                assert_true(rs->scope_spans[s]->n_spans > 0);
            }
        }
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
            req, NULL);
    }
    fixture_free(fx);
}

static void test_timeout_flush(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 1000, 0, 30 * 1000000LL);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("t", 1, 1, 2)), CONSUME_OK);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("u", 1, 1, 1)), CONSUME_OK);
    assert_true(wait_count(&fx->next, 1));
    assert_int_equal(fake_items(&fx->next), 3);
    const char *expect[] = {"t.0.0.0", "t.0.0.1", "u.0.0.0"};
    assert_names(&fx->next, expect, 3);
    assert_true(counter(fx, "otelcol_processor_batch_timeout_trigger_send") >= 1);
    assert_int_equal(counter(fx, "otelcol_processor_batch_batch_size_trigger_send"), 0);
    fixture_free(fx);
}

static void test_shutdown_flushes_pending(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 1000, 0, 60LL * 1000000000);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("s", 2, 1, 2)), CONSUME_OK);
    assert_int_equal(fake_count(&fx->next), 0);
    batch_processor_factory.shutdown(fx->proc, clock_now_ns() + 2000000000LL);
    assert_int_equal(fake_count(&fx->next), 1);
    const char *expect[] = {"s.0.0.0", "s.0.0.1", "s.1.0.0", "s.1.0.1"};
    assert_names(&fx->next, expect, 4);
    /* Late data after shutdown is passed on, not stranded. */
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("late", 1, 1, 1)), CONSUME_OK);
    assert_int_equal(fake_items(&fx->next), 5);
    fixture_free(fx);
}

static void test_retry_on_timer_delivers_once(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 1000, 0, 20 * 1000000LL);
    atomic_store(&fx->next.answer, CONSUME_RETRY);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("k", 1, 1, 3)), CONSUME_OK);
    /* Refused at least twice: the data is kept and tried again on later ticks. */
    assert_true(wait_until(refused_twice, fx));
    assert_int_equal(fake_count(&fx->next), 0);
    atomic_store(&fx->next.answer, CONSUME_OK);
    assert_true(wait_count(&fx->next, 1));
    nap_ms(100); /* several more ticks: nothing is sent twice */
    assert_int_equal(fake_count(&fx->next), 1);
    const char *expect[] = {"k.0.0.0", "k.0.0.1", "k.0.0.2"};
    assert_names(&fx->next, expect, 3);
    assert_int_equal(counter(fx, "otelcol_processor_batch_dropped_spans"), 0);
    fixture_free(fx);
}

static void test_retry_gives_up_and_counts(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 1000, 0, 20 * 1000000LL);
    atomic_store(&fx->next.answer, CONSUME_RETRY);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("g", 1, 1, 4)), CONSUME_OK);
    assert_true(wait_until(dropped_four, fx));
    int calls = atomic_load(&fx->next.calls);
    nap_ms(100);
    assert_int_equal(atomic_load(&fx->next.calls), calls); /* no more attempts once dropped */
    assert_int_equal(fake_count(&fx->next), 0);
    fixture_free(fx);
}

static void test_size_trigger_retry_refuses_new_keeps_old(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 5, 0, 60LL * 1000000000);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("old", 1, 1, 3)), CONSUME_OK);
    atomic_store(&fx->next.answer, CONSUME_RETRY);
    /* The trigger fails downstream: the sender of the new request is told to retry. */
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("new", 1, 1, 3)), CONSUME_RETRY);
    assert_int_equal(atomic_load(&fx->next.calls), 1);
    atomic_store(&fx->next.answer, CONSUME_OK);
    /* The sender retries; the older data went back to pending and leaves first. */
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("new", 1, 1, 3)), CONSUME_OK);
    assert_int_equal(fake_count(&fx->next), 1);
    const char *expect[] = {"old.0.0.0", "old.0.0.1", "old.0.0.2",
                            "new.0.0.0", "new.0.0.1", "new.0.0.2"};
    assert_names(&fx->next, expect, 6);
    fixture_free(fx);
}

static void test_reject_is_returned_and_counted(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 2, 0, 60LL * 1000000000);
    atomic_store(&fx->next.answer, CONSUME_REJECT);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("x", 1, 1, 3)), CONSUME_REJECT);
    assert_int_equal(counter(fx, "otelcol_processor_batch_dropped_spans"), 3);
    atomic_store(&fx->next.answer, CONSUME_OK);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("y", 1, 1, 2)), CONSUME_OK);
    const char *expect[] = {"y.0.0.0", "y.0.0.1"};
    assert_names(&fx->next, expect, 2);
    fixture_free(fx);
}

/* A request that alone meets send_batch_size while nothing is pending is forwarded as it is: the
 * downstream gets the sender's own batch (no copy), and the counters read as for any size send. */
static void test_full_request_passes_through_uncopied(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 4, 0, 60LL * 1000000000);
    struct wire w = make_traces("big", 1, 1, 5);
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, w.data, w.len, &err);
    assert_non_null(b);
    assert_int_equal(batch_processor_factory.consume(fx->proc, b), CONSUME_OK);
    assert_ptr_equal(atomic_load(&fx->next.last), b);
    assert_int_equal(fake_count(&fx->next), 1);
    assert_int_equal(fx->next.got[0].len, w.len);
    assert_memory_equal(fx->next.got[0].data, w.data, w.len);
    assert_int_equal(counter(fx, "otelcol_processor_batch_batch_size_trigger_send"), 1);
    assert_int_equal(counter(fx, "otelcol_processor_batch_batches_sent"), 1);
    /* Refused: the sender is told to retry and nothing stays pending. */
    atomic_store(&fx->next.answer, CONSUME_RETRY);
    assert_int_equal(batch_processor_factory.consume(fx->proc, b), CONSUME_RETRY);
    /* Rejected: returned and counted as dropped. */
    atomic_store(&fx->next.answer, CONSUME_REJECT);
    assert_int_equal(batch_processor_factory.consume(fx->proc, b), CONSUME_REJECT);
    assert_int_equal(counter(fx, "otelcol_processor_batch_dropped_spans"), 5);
    batch_unref(b);
    free(w.data);
    /* With pending data, the trigger merges: a new batch, older items first. */
    atomic_store(&fx->next.answer, CONSUME_OK);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("s", 1, 1, 1)), CONSUME_OK);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("t", 1, 1, 4)), CONSUME_OK);
    assert_int_equal(fake_count(&fx->next), 2);
    assert_int_equal(fx->next.got[1].items, 5);
    /* Over send_batch_max_size a lone request is still cut, never forwarded whole. */
    fixture_free(fx);
    fx = fixture_new(SIGNAL_TRACES, 4, 4, 60LL * 1000000000);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("u", 1, 1, 6)), CONSUME_OK);
    assert_int_equal(fake_count(&fx->next), 2);
    assert_int_equal(fx->next.got[0].items, 4);
    assert_int_equal(fx->next.got[1].items, 2);
    fixture_free(fx);
}

/* The merged request is sent as one buffer; when a downstream that edits batches refuses it, the
 * older data goes back to pending as it arrived (not as the downstream edited it), once. */
static void test_size_trigger_retry_after_downstream_edit(void **state)
{
    (void)state;
    for (int max = 0; max <= 5; max += 5) { /* unsplit, and cut at send_batch_max_size */
        struct fixture *fx = fixture_new(SIGNAL_TRACES, 5, max, 60LL * 1000000000);
        assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("old", 1, 1, 3)), CONSUME_OK);
        atomic_store(&fx->next.edit, 1);
        atomic_store(&fx->next.answer, CONSUME_RETRY);
        assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("new", 1, 1, 3)), CONSUME_RETRY);
        atomic_store(&fx->next.edit, 0);
        atomic_store(&fx->next.answer, CONSUME_OK);
        assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("new", 1, 1, 3)), CONSUME_OK);
        const char *expect[] = {"old.0.0.0", "old.0.0.1", "old.0.0.2",
                                "new.0.0.0", "new.0.0.1", "new.0.0.2"};
        assert_names(&fx->next, expect, 6);
        fixture_free(fx);
    }
}

/* otlp_buf_reserve makes room once: appends up to it never move the buffer. */
static void test_buf_reserve(void **state)
{
    (void)state;
    struct otlp_buf b = {0};
    assert_int_equal(otlp_buf_reserve(&b, 10000), 0);
    uint8_t *d = b.data;
    uint8_t chunk[1000];
    memset(chunk, 9, sizeof chunk);
    for (int i = 0; i < 10; i++)
        assert_int_equal(otlp_buf_append(&b, chunk, sizeof chunk, 1), 0);
    assert_ptr_equal(b.data, d);
    assert_int_equal(b.len, 10000);
    assert_int_equal(b.items, 10);
    assert_int_equal(otlp_buf_append(&b, chunk, 1, 0), 0); /* past it: grows */
    assert_int_equal(b.len, 10001);
    assert_int_equal(b.data[10000], 9);
    otlp_buf_free(&b);
}

/* A pooled buffer grows by moving to a block of the new size with its bytes, keeps its kind when
 * released, and its bytes go back to the pool (ASan sees a wrong free). */
static void test_buf_pooled(void **state)
{
    (void)state;
    struct otlp_buf b = {.pooled = true};
    uint8_t chunk[70000];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (uint8_t)i;
    assert_int_equal(otlp_buf_append(&b, chunk, sizeof chunk, 1), 0);
    assert_int_equal(otlp_buf_append(&b, chunk, sizeof chunk, 1), 0); /* grows: moved */
    assert_int_equal(b.len, 2 * sizeof chunk);
    assert_memory_equal(b.data, chunk, sizeof chunk);
    assert_memory_equal(b.data + sizeof chunk, chunk, sizeof chunk);
    uint8_t *d;
    size_t len;
    uint64_t items;
    otlp_buf_release(&b, &d, &len, &items);
    assert_true(b.pooled);
    assert_null(b.data);
    assert_int_equal(items, 2);
    otlp_buf_data_free(d, true);
    otlp_buf_free(&b);
    assert_true(b.pooled);
}

static void test_zero_timeout_sends_at_once(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 8192, 0, 0);
    assert_int_equal(feed(fx, SIGNAL_TRACES, make_traces("z", 1, 1, 1)), CONSUME_OK);
    assert_int_equal(fake_count(&fx->next), 1);
    fixture_free(fx);
}

static void test_metrics_count_data_points(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_METRICS, 10, 10, 60LL * 1000000000);
    assert_int_equal(feed(fx, SIGNAL_METRICS, make_metrics(3)), CONSUME_OK); /* 6 points */
    assert_int_equal(fake_count(&fx->next), 0);
    assert_int_equal(feed(fx, SIGNAL_METRICS, make_metrics(3)), CONSUME_OK); /* 12 ≥ 10 */
    /* Two resource entries of 6 points: cut between them, 6 and 6. */
    assert_int_equal(fake_count(&fx->next), 2);
    assert_int_equal(fake_items(&fx->next), 12);
    pthread_mutex_lock(&fx->next.lock);
    for (size_t i = 0; i < fx->next.n; i++) {
        assert_true(fx->next.got[i].items <= 10);
        struct otlp_scan_result r;
        struct error err;
        assert_int_equal(otlp_scan(SIGNAL_METRICS, fx->next.got[i].data, fx->next.got[i].len, &r,
                                   &err),
                         0);
        assert_int_equal(r.items, fx->next.got[i].items);
    }
    pthread_mutex_unlock(&fx->next.lock);
    fixture_free(fx);
}

struct feeder {
    struct fixture *fx;
    int id;
};

enum { FEEDERS = 4, FEEDS = 40, FEED_SPANS = 3 };

static void *feeder_main(void *arg)
{
    struct feeder *f = arg;
    char tag[16];
    snprintf(tag, sizeof tag, "f%d", f->id);
    for (int i = 0; i < FEEDS; i++) {
        char t[32];
        snprintf(t, sizeof t, "%s-%d", tag, i);
        if (feed(f->fx, SIGNAL_TRACES, make_traces(t, 1, 1, FEED_SPANS)) != CONSUME_OK)
            return (void *)1;
    }
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_concurrent_consumers_lose_nothing(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(SIGNAL_TRACES, 50, 64, 5 * 1000000LL);
    pthread_t th[FEEDERS];
    struct feeder args[FEEDERS];
    for (int i = 0; i < FEEDERS; i++) {
        args[i] = (struct feeder){fx, i};
        assert_int_equal(pthread_create(&th[i], NULL, feeder_main, &args[i]), 0);
    }
    for (int i = 0; i < FEEDERS; i++) {
        void *rv;
        pthread_join(th[i], &rv);
        assert_null(rv);
    }
    batch_processor_factory.shutdown(fx->proc, clock_now_ns() + 2000000000LL);
    enum { TOTAL = FEEDERS * FEEDS * FEED_SPANS };
    assert_int_equal(fake_items(&fx->next), TOTAL);
    char *names[TOTAL + 1];
    size_t n = 0;
    pthread_mutex_lock(&fx->next.lock);
    for (size_t i = 0; i < fx->next.n; i++) {
        assert_true(fx->next.got[i].items <= 64);
        span_names(fx->next.got[i].data, fx->next.got[i].len, names, &n, TOTAL + 1);
    }
    pthread_mutex_unlock(&fx->next.lock);
    assert_int_equal(n, TOTAL);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(names[i - 1], names[i]) != 0); /* each span exactly once */
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    fixture_free(fx);
}

/* ---- tests: config and validation ------------------------------------------------------------ */

static void test_validate(void **state)
{
    (void)state;
    struct error err = {0};
    struct batch_processor_config cfg = {.send_batch_size = 100, .send_batch_max_size = 50,
                                         .timeout = 1};
    assert_int_equal(batch_processor_factory.validate(&cfg, &err), -1);
    assert_non_null(strstr(err.msg, "send_batch_max_size"));
    cfg.send_batch_max_size = 100;
    assert_int_equal(batch_processor_factory.validate(&cfg, &err), 0);
    cfg.send_batch_max_size = 0;
    assert_int_equal(batch_processor_factory.validate(&cfg, &err), 0);
    /* metadata_keys loads, as in the Collector; a key listed twice, in any case, does not */
    char *keys[] = {"tenant", "region"};
    cfg.metadata_keys = (struct config_str_list){2, keys};
    assert_int_equal(batch_processor_factory.validate(&cfg, &err), 0);
    char *dup[] = {"X-Tenant", "x-tenant"};
    cfg.metadata_keys = (struct config_str_list){2, dup};
    assert_int_equal(batch_processor_factory.validate(&cfg, &err), -1);
    assert_non_null(strstr(err.msg, "metadata_keys: duplicate entry \"x-tenant\""));
}

struct warn_log {
    int n;
    char last[512];
    int line;
};

static void collect_warn(void *ctx, const struct cnode *at, const char *msg)
{
    struct warn_log *w = ctx;
    w->n++;
    snprintf(w->last, sizeof w->last, "%s", msg);
    w->line = at ? at->line : 0;
}

/* No request carries client metadata, so metadata_keys puts every request in one batch: loaded,
 * and said at the key; without metadata_keys nothing is said. */
static void test_metadata_keys_warned(void **state)
{
    (void)state;
    struct error err = {0};
    struct cnode *root = config_parse_string("timeout: 1s\nmetadata_keys: [tenant]\n", "b.yaml",
                                             &err);
    assert_non_null(root);
    struct batch_processor_config cfg = {0};
    assert_int_equal(config_bind(batch_processor_factory.fields, root, &cfg, &err), 0);
    assert_int_equal(batch_processor_factory.validate(&cfg, &err), 0);
    struct warn_log log = {0};
    struct config_warn_sink sink = {.warn = collect_warn, .ctx = &log, .path = "processors.batch"};
    batch_processor_factory.warn(&cfg, root, &sink);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.line, 2);
    assert_non_null(strstr(log.last, "processors.batch.metadata_keys: every request is batched "
                                     "together"));
    config_free_bound(batch_processor_factory.fields, &cfg);
    cnode_free(root);

    root = config_parse_string("timeout: 1s\n", "b.yaml", &err);
    assert_non_null(root);
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(batch_processor_factory.fields, root, &cfg, &err), 0);
    log.n = 0;
    batch_processor_factory.warn(&cfg, root, &sink);
    assert_int_equal(log.n, 0);
    config_free_bound(batch_processor_factory.fields, &cfg);
    cnode_free(root);
}

static void test_config_defaults_and_binding(void **state)
{
    (void)state;
    struct error err = {0};
    struct batch_processor_config cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(batch_processor_factory.fields, NULL, &cfg, &err), 0);
    assert_int_equal(cfg.send_batch_size, 8192);
    assert_int_equal(cfg.send_batch_max_size, 0);
    assert_int_equal(cfg.timeout, 200 * 1000000LL);
    config_free_bound(batch_processor_factory.fields, &cfg);

    struct cnode *n = config_parse_string(
        "send_batch_size: 100\nsend_batch_max_size: 200\ntimeout: 1s\nmetadata_keys: []\n"
        "metadata_cardinality_limit: 10\n",
        "test.yaml", &err);
    assert_non_null(n);
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(batch_processor_factory.fields, n, &cfg, &err), 0);
    assert_int_equal(cfg.send_batch_size, 100);
    assert_int_equal(cfg.send_batch_max_size, 200);
    assert_int_equal(cfg.timeout, 1000000000LL);
    assert_int_equal(batch_processor_factory.validate(&cfg, &err), 0);
    config_free_bound(batch_processor_factory.fields, &cfg);
    cnode_free(n);

    n = config_parse_string("send_batch_size: 100\nsend_batch_max_size: 20\n", "test.yaml", &err);
    assert_non_null(n);
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(batch_processor_factory.fields, n, &cfg, &err), 0);
    assert_int_equal(batch_processor_factory.validate(&cfg, &err), -1);
    config_free_bound(batch_processor_factory.fields, &cfg);
    cnode_free(n);
}

/* ---- tests: wire helpers --------------------------------------------------------------------- */

static void test_walker_and_malformed(void **state)
{
    (void)state;
    struct wire w = make_traces("w", 3, 1, 1);
    struct otlp_walker wk;
    struct otlp_entry e;
    struct error err = {0};
    otlp_walk_init(&wk, w.data, w.len);
    size_t n = 0, bytes = 0;
    while (otlp_walk_next(&wk, &e, &err) == 1) {
        assert_true(e.resource);
        n++;
        bytes += e.len;
    }
    assert_int_equal(n, 3);
    assert_int_equal(bytes, w.len);
    /* Truncated: the last entry's length runs past the end. */
    otlp_walk_init(&wk, w.data, w.len - 1);
    int r;
    while ((r = otlp_walk_next(&wk, &e, &err)) == 1) {
    }
    assert_int_equal(r, -1);
    assert_non_null(strstr(err.msg, "past the end"));
    struct otlp_chunk *chunks;
    size_t nc;
    assert_int_equal(otlp_split(SIGNAL_TRACES, w.data, w.len - 1, 1, &chunks, &nc, &err), -1);
    /* An empty request splits into nothing. */
    assert_int_equal(otlp_split(SIGNAL_TRACES, w.data, 0, 1, &chunks, &nc, &err), 0);
    assert_int_equal(nc, 0);
    otlp_chunks_free(chunks, nc);
    free(w.data);
}

static void test_split_metric_points(void **state)
{
    (void)state;
    /* Two metrics of 7 points in one resource, cut by 3: a metric is cut between points and
     * every piece keeps the metric's name and type. */
    struct wire w = make_metrics(7);
    struct otlp_chunk *chunks;
    size_t n;
    struct error err = {0};
    assert_int_equal(otlp_split(SIGNAL_METRICS, w.data, w.len, 3, &chunks, &n, &err), 0);
    assert_int_equal(n, 5);
    uint64_t total = 0;
    int64_t next_value[2] = {0, 1000};
    for (size_t i = 0; i < n; i++) {
        assert_true(chunks[i].items <= 3);
        total += chunks[i].items;
        MetricsRequest *req =
            opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
                NULL, chunks[i].len, chunks[i].data);
        assert_non_null(req);
        for (size_t r = 0; r < req->n_resource_metrics; r++)
            for (size_t s = 0; s < req->resource_metrics[r]->n_scope_metrics; s++) {
                Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
                    req->resource_metrics[r]->scope_metrics[s];
                for (size_t m = 0; m < sm->n_metrics; m++) {
                    Opentelemetry__Proto__Metrics__V1__Metric *mt = sm->metrics[m];
                    int k = strcmp(mt->name, "requests") == 0;
                    if (k) {
                        assert_int_equal(mt->data_case,
                                         OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
                        assert_true(mt->sum->is_monotonic);
                    } else {
                        assert_string_equal(mt->name, "queue");
                        assert_int_equal(mt->data_case,
                                         OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);
                    }
                    size_t np = k ? mt->sum->n_data_points : mt->gauge->n_data_points;
                    Opentelemetry__Proto__Metrics__V1__NumberDataPoint **dp =
                        k ? mt->sum->data_points : mt->gauge->data_points;
                    for (size_t p = 0; p < np; p++)
                        assert_int_equal(dp[p]->as_int, next_value[k]++);
                }
            }
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
            req, NULL);
    }
    assert_int_equal(total, 14);
    assert_int_equal(next_value[0], 7);
    assert_int_equal(next_value[1], 1007);
    otlp_chunks_free(chunks, n);
    free(w.data);
}

/* A logs request: one resource, `scopes` scopes of `records` records with bodies "<s>.<i>". */
static struct wire make_logs(size_t scopes, size_t records)
{
    struct arena *a = arena_new(0);
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req =
        arena_alloc(a, sizeof *req);
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(req);
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = arena_alloc(a, sizeof *rl);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    rl->schema_url = arena_strdup(a, "https://opentelemetry.io/schemas/1.41.0");
    req->n_resource_logs = 1;
    req->resource_logs = arena_alloc(a, sizeof(void *));
    req->resource_logs[0] = rl;
    rl->n_scope_logs = scopes;
    rl->scope_logs = arena_alloc(a, sizeof(void *) * (scopes + 1));
    for (size_t s = 0; s < scopes; s++) {
        Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = arena_alloc(a, sizeof *sl);
        opentelemetry__proto__logs__v1__scope_logs__init(sl);
        sl->n_log_records = records;
        sl->log_records = arena_alloc(a, sizeof(void *) * (records + 1));
        for (size_t i = 0; i < records; i++) {
            Opentelemetry__Proto__Logs__V1__LogRecord *lr = arena_alloc(a, sizeof *lr);
            opentelemetry__proto__logs__v1__log_record__init(lr);
            lr->body = str_attr(a, "k", "v")->value;
            char body[48];
            snprintf(body, sizeof body, "%zu.%zu", s, i);
            lr->body->string_value = arena_strdup(a, body);
            sl->log_records[i] = lr;
        }
        rl->scope_logs[s] = sl;
    }
    struct wire w = pack(&req->base);
    w.items = scopes * records;
    arena_free(a);
    return w;
}

static void test_split_log_records(void **state)
{
    (void)state;
    struct wire w = make_logs(3, 5); /* 15 records in one resource, cut by 4 */
    struct otlp_chunk *chunks;
    size_t n;
    struct error err = {0};
    assert_int_equal(otlp_split(SIGNAL_LOGS, w.data, w.len, 4, &chunks, &n, &err), 0);
    assert_int_equal(n, 4);
    size_t s = 0, i = 0, total = 0;
    for (size_t c = 0; c < n; c++) {
        assert_int_equal(chunks[c].items, c < 3 ? 4 : 3);
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req =
            opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
                NULL, chunks[c].len, chunks[c].data);
        assert_non_null(req);
        for (size_t r = 0; r < req->n_resource_logs; r++) {
            assert_string_equal(req->resource_logs[r]->schema_url,
                                "https://opentelemetry.io/schemas/1.41.0");
            for (size_t k = 0; k < req->resource_logs[r]->n_scope_logs; k++) {
                Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = req->resource_logs[r]->scope_logs[k];
                for (size_t j = 0; j < sl->n_log_records; j++, total++) {
                    char want[32];
                    snprintf(want, sizeof want, "%zu.%zu", s, i);
                    assert_string_equal(sl->log_records[j]->body->string_value, want);
                    if (++i == 5) {
                        i = 0;
                        s++;
                    }
                }
            }
        }
        opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
                                                                                             NULL);
    }
    assert_int_equal(total, 15);
    otlp_chunks_free(chunks, n);
    free(w.data);
}

static void test_split_keeps_entries_without_items(void **state)
{
    (void)state;
    /* A resource with no scopes (0 items) between two resources of 3 spans, cut by 3: nothing is
     * lost, the empty resource travels with a neighbour. */
    struct wire w = make_traces("p", 1, 1, 3);
    struct wire e = make_traces("e", 1, 0, 0);
    struct wire q = make_traces("q", 1, 1, 3);
    concat(&w, &e);
    concat(&w, &q);
    free(e.data);
    free(q.data);
    struct otlp_chunk *chunks;
    size_t n;
    struct error err = {0};
    assert_int_equal(otlp_split(SIGNAL_TRACES, w.data, w.len, 3, &chunks, &n, &err), 0);
    assert_int_equal(n, 2);
    size_t resources = 0, bytes = 0;
    for (size_t c = 0; c < n; c++) {
        assert_int_equal(chunks[c].items, 3);
        bytes += chunks[c].len;
        TraceRequest *req =
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
                NULL, chunks[c].len, chunks[c].data);
        assert_non_null(req);
        resources += req->n_resource_spans;
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
            req, NULL);
    }
    assert_int_equal(resources, 3);
    assert_int_equal(bytes, w.len); /* cut between entries: bytes are moved, not re-encoded */
    otlp_chunks_free(chunks, n);
    free(w.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_trigger_merges_in_order),
        cmocka_unit_test(test_max_size_splits_at_entries),
        cmocka_unit_test(test_max_size_splits_one_large_resource),
        cmocka_unit_test(test_timeout_flush),
        cmocka_unit_test(test_shutdown_flushes_pending),
        cmocka_unit_test(test_retry_on_timer_delivers_once),
        cmocka_unit_test(test_retry_gives_up_and_counts),
        cmocka_unit_test(test_size_trigger_retry_refuses_new_keeps_old),
        cmocka_unit_test(test_reject_is_returned_and_counted),
        cmocka_unit_test(test_zero_timeout_sends_at_once),
        cmocka_unit_test(test_full_request_passes_through_uncopied),
        cmocka_unit_test(test_buf_reserve),
        cmocka_unit_test(test_buf_pooled),
        cmocka_unit_test(test_size_trigger_retry_after_downstream_edit),
        cmocka_unit_test(test_metrics_count_data_points),
        cmocka_unit_test(test_concurrent_consumers_lose_nothing),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_metadata_keys_warned),
        cmocka_unit_test(test_config_defaults_and_binding),
        cmocka_unit_test(test_walker_and_malformed),
        cmocka_unit_test(test_split_metric_points),
        cmocka_unit_test(test_split_log_records),
        cmocka_unit_test(test_split_keeps_entries_without_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
