/* test_tail_sampling.c — the tail_sampling processor as a black box: requests built with
 * protobuf-c go in through consume(), a recording downstream collects what comes out, and the
 * assertions decode it again (the LRU decision caches are also checked on their own, against a
 * plain recency list). A fake clock and tail_sampling_tick() make decision times exact,
 * so nothing here depends on how fast the machine is (one test uses the real timer and only
 * asserts that a decision happened). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/featuregate.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/otlp.h"
#include "core/telemetry.h"
#include "processors/tail_sampling/tail_sampling.h"
#include "processors/tail_sampling/ts_internal.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsRequest;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

#define MS 1000000LL
#define SEC 1000000000LL

/* ---- building requests ----------------------------------------------------------------------- */

struct wire {
    uint8_t *data;
    size_t len;
};

struct attr {
    const char *key;
    const char *s;            /* string value, or NULL */
    int64_t i;                /* int value when s is NULL */
};

static void trace_id(uint8_t id[16], unsigned trace)
{
    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t)(trace * 31u + (unsigned)i * 7u + 1u);
    id[0] = (uint8_t)trace;
    id[1] = (uint8_t)(trace >> 8);
}

static KeyValue *mk_attr(const struct attr *a)
{
    KeyValue *kv = malloc(sizeof *kv);
    AnyValue *av = malloc(sizeof *av);
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(av);
    kv->key = (char *)a->key;
    kv->value = av;
    if (a->s) {
        av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        av->string_value = (char *)a->s;
    } else {
        av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
        av->int_value = a->i;
    }
    return kv;
}

static void free_attrs(KeyValue **kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i]->value);
        free(kv[i]);
    }
    free(kv);
}

struct span_spec {
    unsigned trace;
    unsigned span;
    unsigned parent;          /* 0: root */
    int status;               /* 0 unset, 1 ok, 2 error */
    int64_t start_ms, end_ms;
    const struct attr *attrs;
    size_t n_attrs;
};

/* Attributes every request's scope gets (none unless a test sets them). */
static const struct attr *scope_attrs_all;
static size_t n_scope_attrs_all;
static bool omit_scope;      /* requests without a scope field */

/* One request: one resource (service.name = svc), one scope, the given spans. */
static struct wire trace_req(const char *svc, const struct span_spec *specs, size_t n)
{
    TraceRequest req;
    ResourceSpans rs;
    ScopeSpans ss;
    Opentelemetry__Proto__Resource__V1__Resource res;
    Opentelemetry__Proto__Common__V1__InstrumentationScope scope;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    opentelemetry__proto__trace__v1__resource_spans__init(&rs);
    opentelemetry__proto__trace__v1__scope_spans__init(&ss);
    opentelemetry__proto__resource__v1__resource__init(&res);
    opentelemetry__proto__common__v1__instrumentation_scope__init(&scope);
    struct attr svc_attr = {"service.name", svc, 0};
    KeyValue *res_kv = mk_attr(&svc_attr);
    res.n_attributes = 1;
    res.attributes = &res_kv;
    scope.name = "test-scope";
    if (n_scope_attrs_all) {
        scope.n_attributes = n_scope_attrs_all;
        scope.attributes = calloc(n_scope_attrs_all, sizeof *scope.attributes);
        for (size_t k = 0; k < n_scope_attrs_all; k++)
            scope.attributes[k] = mk_attr(&scope_attrs_all[k]);
    }
    ResourceSpans *rsp = &rs;
    ScopeSpans *ssp = &ss;
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;
    rs.resource = &res;
    rs.n_scope_spans = 1;
    rs.scope_spans = &ssp;
    rs.schema_url = "https://example.com/schema";
    ss.scope = omit_scope ? NULL : &scope;
    ss.n_spans = n;
    ss.spans = calloc(n + 1, sizeof *ss.spans);
    uint8_t (*tids)[16] = calloc(n + 1, 16);
    uint8_t (*sids)[8] = calloc(n + 1, 8);
    uint8_t (*pids)[8] = calloc(n + 1, 8);
    Span *spans = calloc(n + 1, sizeof *spans);
    Opentelemetry__Proto__Trace__V1__Status *st = calloc(n + 1, sizeof *st);
    for (size_t i = 0; i < n; i++) {
        Span *sp = &spans[i];
        opentelemetry__proto__trace__v1__span__init(sp);
        trace_id(tids[i], specs[i].trace);
        sids[i][0] = (uint8_t)specs[i].span;
        sids[i][7] = 1;
        sp->trace_id = (ProtobufCBinaryData){16, tids[i]};
        sp->span_id = (ProtobufCBinaryData){8, sids[i]};
        if (specs[i].parent) {
            pids[i][0] = (uint8_t)specs[i].parent;
            pids[i][7] = 1;
            sp->parent_span_id = (ProtobufCBinaryData){8, pids[i]};
        }
        sp->name = "op";
        sp->start_time_unix_nano = (uint64_t)(1700000000000LL + specs[i].start_ms) * 1000000ull;
        sp->end_time_unix_nano = (uint64_t)(1700000000000LL + specs[i].end_ms) * 1000000ull;
        if (specs[i].status) {
            opentelemetry__proto__trace__v1__status__init(&st[i]);
            st[i].code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)specs[i].status;
            sp->status = &st[i];
        }
        if (specs[i].n_attrs) {
            sp->n_attributes = specs[i].n_attrs;
            sp->attributes = calloc(specs[i].n_attrs, sizeof *sp->attributes);
            for (size_t k = 0; k < specs[i].n_attrs; k++)
                sp->attributes[k] = mk_attr(&specs[i].attrs[k]);
        }
        ss.spans[i] = sp;
    }
    struct wire w;
    w.len = protobuf_c_message_get_packed_size(&req.base);
    w.data = malloc(w.len + 1);
    protobuf_c_message_pack(&req.base, w.data);
    for (size_t i = 0; i < n; i++)
        if (spans[i].n_attributes)
            free_attrs(spans[i].attributes, spans[i].n_attributes);
    free(res_kv->value);
    free(res_kv);
    if (scope.n_attributes)
        free_attrs(scope.attributes, scope.n_attributes);
    free(spans);
    free(st);
    free(ss.spans);
    free(tids);
    free(sids);
    free(pids);
    return w;
}

static struct wire one_span(unsigned trace, unsigned span, unsigned parent, int status)
{
    struct span_spec s = {trace, span, parent, status, 0, 10, NULL, 0};
    return trace_req("svc", &s, 1);
}

/* A logs request: one record per entry of traces[] (0: no trace ID). */
static struct wire logs_req(const unsigned *traces, size_t n)
{
    LogsRequest req;
    Opentelemetry__Proto__Logs__V1__ResourceLogs rl;
    Opentelemetry__Proto__Logs__V1__ScopeLogs sl;
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&req);
    opentelemetry__proto__logs__v1__resource_logs__init(&rl);
    opentelemetry__proto__logs__v1__scope_logs__init(&sl);
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rlp = &rl;
    Opentelemetry__Proto__Logs__V1__ScopeLogs *slp = &sl;
    req.n_resource_logs = 1;
    req.resource_logs = &rlp;
    rl.n_scope_logs = 1;
    rl.scope_logs = &slp;
    Opentelemetry__Proto__Logs__V1__LogRecord *recs = calloc(n + 1, sizeof *recs);
    uint8_t (*tids)[16] = calloc(n + 1, 16);
    sl.n_log_records = n;
    sl.log_records = calloc(n + 1, sizeof *sl.log_records);
    for (size_t i = 0; i < n; i++) {
        opentelemetry__proto__logs__v1__log_record__init(&recs[i]);
        recs[i].severity_text = "INFO";
        if (traces[i]) {
            trace_id(tids[i], traces[i]);
            recs[i].trace_id = (ProtobufCBinaryData){16, tids[i]};
        }
        sl.log_records[i] = &recs[i];
    }
    struct wire w;
    w.len = protobuf_c_message_get_packed_size(&req.base);
    w.data = malloc(w.len + 1);
    protobuf_c_message_pack(&req.base, w.data);
    free(recs);
    free(tids);
    free(sl.log_records);
    return w;
}

/* ---- recording downstream -------------------------------------------------------------------- */

#define REC_MAX 256

struct rec {
    struct consumer c;
    enum signal signal;
    int refuse;               /* answer RETRY this many more times before taking batches */
    pthread_mutex_t lock;
    size_t n;
    struct wire got[REC_MAX];
    uint64_t items[REC_MAX];
};

static enum consume_status rec_consume(struct consumer *self, struct batch *b)
{
    struct rec *r = (struct rec *)self;
    pthread_mutex_lock(&r->lock);
    if (r->refuse > 0) {
        r->refuse--;
        pthread_mutex_unlock(&r->lock);
        return CONSUME_RETRY;
    }
    pthread_mutex_unlock(&r->lock);
    const uint8_t *data;
    size_t len;
    struct error err = {0};
    assert_int_equal(batch_encoded(b, &data, &len, &err), 0);
    /* What leaves must be a valid request whose item count is right. */
    struct otlp_scan_result sr;
    assert_int_equal(otlp_scan(r->signal, data, len, &sr, &err), 0);
    assert_int_equal(sr.items, b->items);
    pthread_mutex_lock(&r->lock);
    assert_true(r->n < REC_MAX);
    r->got[r->n].data = malloc(len + 1);
    memcpy(r->got[r->n].data, data, len);
    r->got[r->n].len = len;
    r->items[r->n] = b->items;
    r->n++;
    pthread_mutex_unlock(&r->lock);
    return CONSUME_OK;
}

static size_t rec_batches(struct rec *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static uint64_t rec_items(struct rec *r)
{
    uint64_t t = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++)
        t += r->items[i];
    pthread_mutex_unlock(&r->lock);
    return t;
}

typedef void (*span_fn)(const ResourceSpans *rs, const Span *sp, void *ctx);

static void wire_each_span(const struct wire *w, span_fn fn, void *ctx)
{
    TraceRequest *req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, w->len, w->data);
    assert_non_null(req);
    for (size_t i = 0; i < req->n_resource_spans; i++)
        for (size_t j = 0; j < req->resource_spans[i]->n_scope_spans; j++)
            for (size_t k = 0; k < req->resource_spans[i]->scope_spans[j]->n_spans; k++)
                fn(req->resource_spans[i], req->resource_spans[i]->scope_spans[j]->spans[k], ctx);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
}

static void rec_each_span(struct rec *r, span_fn fn, void *ctx)
{
    pthread_mutex_lock(&r->lock);
    for (size_t b = 0; b < r->n; b++)
        wire_each_span(&r->got[b], fn, ctx);
    pthread_mutex_unlock(&r->lock);
}

static unsigned span_trace(const Span *sp)
{
    return sp->trace_id.len == 16 ? (unsigned)sp->trace_id.data[0] | (unsigned)sp->trace_id.data[1] << 8
                                  : 0;
}

struct count_ctx {
    unsigned counts[1024];
};

static void count_fn(const ResourceSpans *rs, const Span *sp, void *ctx)
{
    /* The envelope came back intact. */
    assert_non_null(rs->resource);
    assert_string_equal(rs->resource->attributes[0]->key, "service.name");
    assert_string_equal(rs->schema_url, "https://example.com/schema");
    struct count_ctx *c = ctx;
    c->counts[span_trace(sp) % 1024]++;
}

static const AnyValue *span_attr(const Span *sp, const char *key, size_t *times)
{
    const AnyValue *v = NULL;
    *times = 0;
    for (size_t i = 0; i < sp->n_attributes; i++)
        if (strcmp(sp->attributes[i]->key, key) == 0) {
            v = sp->attributes[i]->value;
            (*times)++;
        }
    return v;
}

/* ---- fixture --------------------------------------------------------------------------------- */

static int64_t fake_now_ns;
static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now_ns;
}

struct fx {
    struct cnode *root;
    struct tail_sampling_config cfg;
    struct telemetry *tel;
    struct rec traces, logs;
    void *proc, *logs_proc;
};

static void rec_init(struct rec *r, enum signal s)
{
    memset(r, 0, sizeof *r);
    r->c.consume = rec_consume;
    r->signal = s;
    pthread_mutex_init(&r->lock, NULL);
}

static void *make_instance(struct fx *f, enum signal s, struct rec *r)
{
    struct component_env env = {0};
    env.id = "tail_sampling";
    env.log_name = "processor/tail_sampling";
    env.signal = s;
    env.next[s] = &r->c;
    env.telemetry = f->tel;
    struct error err = {0};
    void *p = tail_sampling_processor_factory.create(&f->cfg, &env, &err);
    if (!p)
        fail_msg("create: %s", err.msg);
    return p;
}

/* A processor from YAML; fake clock at 1000 s unless real is set (then the timer runs). */
static struct fx *fx_new(const char *yaml, bool real)
{
    struct fx *f = calloc(1, sizeof *f);
    struct error err = {0};
    f->root = config_parse_string(yaml, "<ts>", &err);
    if (!f->root)
        fail_msg("yaml: %s", err.msg);
    if (config_bind(tail_sampling_processor_factory.fields, f->root, &f->cfg, &err) != 0)
        fail_msg("bind: %s", err.msg);
    if (tail_sampling_processor_factory.validate(&f->cfg, &err) != 0)
        fail_msg("validate: %s", err.msg);
    f->tel = telemetry_new();
    rec_init(&f->traces, SIGNAL_TRACES);
    rec_init(&f->logs, SIGNAL_LOGS);
    f->proc = make_instance(f, SIGNAL_TRACES, &f->traces);
    if (real) {
        assert_int_equal(tail_sampling_processor_factory.start(f->proc, &err), 0);
    } else {
        fake_now_ns = 1000 * SEC;
        tail_sampling_set_clock(f->proc, fake_clock, NULL);
    }
    return f;
}

static void fx_free(struct fx *f)
{
    tail_sampling_processor_factory.shutdown(f->proc, clock_now_ns() + SEC);
    if (f->logs_proc)
        tail_sampling_processor_factory.shutdown(f->logs_proc, clock_now_ns() + SEC);
    tail_sampling_processor_factory.destroy(f->proc);
    if (f->logs_proc)
        tail_sampling_processor_factory.destroy(f->logs_proc);
    for (int s = 0; s < 2; s++) {
        struct rec *r = s ? &f->logs : &f->traces;
        for (size_t i = 0; i < r->n; i++)
            free(r->got[i].data);
        pthread_mutex_destroy(&r->lock);
    }
    config_free_bound(tail_sampling_processor_factory.fields, &f->cfg);
    cnode_free(f->root);
    telemetry_free(f->tel);
    free(f);
}

static enum consume_status feed_to(void *proc, enum signal s, struct wire w)
{
    struct error err = {0};
    struct batch *b = batch_from_wire(s, w.data, w.len, &err);
    assert_non_null(b);
    enum consume_status st = tail_sampling_processor_factory.consume(proc, b);
    batch_unref(b);
    free(w.data);
    return st;
}

static void feed(struct fx *f, struct wire w)
{
    assert_int_equal(feed_to(f->proc, SIGNAL_TRACES, w), CONSUME_OK);
}

static int64_t metric(struct fx *f, const char *name, const char *extra)
{
    char labels[256];
    snprintf(labels, sizeof labels, "processor=\"tail_sampling\"%s%s", extra ? "," : "",
             extra ? extra : "");
    return telemetry_value(f->tel, name, labels);
}

#define M(n) "otelcol_processor_tail_sampling_" n

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_whole_trace_released_together(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "policies:\n"
                          "  - name: keep-all\n"
                          "    type: always_sample\n",
                          false);
    /* Trace 1 in three requests, trace 2 in two, interleaved. */
    feed(f, one_span(1, 1, 0, 0));
    feed(f, one_span(2, 1, 0, 0));
    fake_now_ns += 300 * MS;
    feed(f, one_span(1, 2, 1, 0));
    feed(f, one_span(2, 2, 1, 0));
    feed(f, one_span(1, 3, 1, 0));
    assert_int_equal(tail_sampling_tick(f->proc), 0);
    assert_int_equal(rec_batches(&f->traces), 0);
    assert_int_equal(metric(f, M("sampling_traces_on_memory"), NULL), 2);
    fake_now_ns += 800 * MS;
    assert_int_equal(tail_sampling_tick(f->proc), 2);
    /* Both traces, decided in one tick, leave whole in one request; their spans share the one
     * resource and scope they came with. */
    assert_int_equal(rec_batches(&f->traces), 1);
    assert_int_equal(f->traces.items[0], 5);
    pthread_mutex_lock(&f->traces.lock);
    TraceRequest *req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, f->traces.got[0].len, f->traces.got[0].data);
    pthread_mutex_unlock(&f->traces.lock);
    assert_non_null(req);
    assert_int_equal(req->n_resource_spans, 1);
    assert_int_equal(req->resource_spans[0]->n_scope_spans, 1);
    assert_int_equal(req->resource_spans[0]->scope_spans[0]->n_spans, 5);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
    struct count_ctx c = {0};
    rec_each_span(&f->traces, count_fn, &c);
    assert_int_equal(c.counts[1], 3);
    assert_int_equal(c.counts[2], 2);
    assert_int_equal(metric(f, M("global_count_traces_sampled"), "sampled=\"true\""), 2);
    assert_int_equal(metric(f, M("count_traces_sampled"), "policy=\"keep-all\",sampled=\"true\""), 2);
    assert_int_equal(metric(f, M("sampling_traces_on_memory"), NULL), 0);
    fx_free(f);
}

/* Backpressure at release: a kept trace refused with RETRY a few times is offered again and
 * arrives once; nothing is counted as lost. */
static void test_release_retries_under_backpressure(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "policies:\n"
                          "  - name: keep-all\n"
                          "    type: always_sample\n",
                          false);
    feed(f, one_span(1, 1, 0, 0));
    feed(f, one_span(1, 2, 1, 0));
    feed(f, one_span(3, 1, 0, 0));
    f->traces.refuse = 3;
    fake_now_ns += 1100 * MS;
    assert_int_equal(tail_sampling_tick(f->proc), 2);
    /* The two traces share one request, offered again until taken, and arrive once. */
    assert_int_equal(rec_batches(&f->traces), 1);
    assert_int_equal(f->traces.items[0], 3);
    assert_int_equal(f->traces.refuse, 0);
    assert_int_equal(metric(f, "llmotlp_tail_sampling_release_failed_items", NULL), 0);
    /* A downstream that keeps refusing: after the bounded retries every item of the shared
     * request is counted as lost, none twice. */
    feed(f, one_span(2, 1, 0, 0));
    feed(f, one_span(2, 2, 1, 0));
    feed(f, one_span(4, 1, 0, 0));
    f->traces.refuse = 1000;
    fake_now_ns += 1100 * MS;
    assert_int_equal(tail_sampling_tick(f->proc), 2);
    assert_int_equal(rec_batches(&f->traces), 1);
    assert_int_equal(metric(f, "llmotlp_tail_sampling_release_failed_items", NULL), 3);
    f->traces.refuse = 0;
    fx_free(f);
}

struct group_ctx {
    unsigned spans[8];        /* per trace */
    unsigned resources, scopes;
};

/* Traces of two services kept by two policies in one tick: one request, one resource entry per
 * service, one scope entry per (scope, recorded policy), and every span still carries its own
 * trace's decision and propagated attributes. */
static void test_release_groups_by_resource_and_scope(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "decision_attributes: true\n"
                          "record_policy: true\n"
                          "propagate_attributes: [tenant.id]\n"
                          "policies:\n"
                          "  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n"
                          "  - {name: all, type: always_sample}\n",
                          false);
    struct attr acme = {"tenant.id", "acme", 0}, zeta = {"tenant.id", "zeta", 0};
    struct span_spec t1[2] = {{1, 1, 0, 2, 0, 9, &acme, 1}, {1, 2, 1, 0, 1, 4, NULL, 0}};
    struct span_spec t2[2] = {{2, 1, 0, 0, 0, 9, NULL, 0}, {2, 2, 1, 0, 1, 4, NULL, 0}};
    struct span_spec t3 = {3, 1, 0, 0, 0, 9, NULL, 0};
    struct span_spec t4 = {4, 1, 0, 2, 0, 9, &zeta, 1};
    feed(f, trace_req("a", t1, 2));
    feed(f, trace_req("a", t2, 2));
    feed(f, trace_req("b", &t3, 1));
    feed(f, trace_req("a", &t4, 1));
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 4);
    assert_int_equal(rec_batches(&f->traces), 1);
    assert_int_equal(f->traces.items[0], 6);
    pthread_mutex_lock(&f->traces.lock);
    TraceRequest *req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, f->traces.got[0].len, f->traces.got[0].data);
    pthread_mutex_unlock(&f->traces.lock);
    assert_non_null(req);
    struct group_ctx g = {0};
    assert_int_equal(req->n_resource_spans, 2);
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const ResourceSpans *rs = req->resource_spans[i];
        const char *svc = rs->resource->attributes[0]->value->string_value;
        assert_string_equal(rs->schema_url, "https://example.com/schema");
        assert_int_equal(rs->n_scope_spans, strcmp(svc, "a") == 0 ? 2 : 1);
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            const ScopeSpans *ss = rs->scope_spans[j];
            assert_string_equal(ss->scope->name, "test-scope");
            assert_int_equal(ss->scope->n_attributes, 1);
            const char *pol = ss->scope->attributes[0]->value->string_value;
            for (size_t k = 0; k < ss->n_spans; k++) {
                const Span *sp = ss->spans[k];
                unsigned t = span_trace(sp);
                assert_true(t >= 1 && t <= 4);
                g.spans[t]++;
                assert_string_equal(svc, t == 3 ? "b" : "a");
                size_t times;
                const AnyValue *v = span_attr(sp, "sampling.policy", &times);
                assert_int_equal(times, 1);
                assert_string_equal(v->string_value, (t == 1 || t == 4) ? "errors" : "all");
                assert_string_equal(pol, v->string_value);
                v = span_attr(sp, "tenant.id", &times);
                if (t == 1 || t == 4) {
                    assert_int_equal(times, 1);
                    assert_string_equal(v->string_value, t == 1 ? "acme" : "zeta");
                } else {
                    assert_int_equal(times, 0);
                }
            }
            g.scopes++;
        }
        g.resources++;
    }
    assert_int_equal(g.resources, 2);
    assert_int_equal(g.scopes, 3);
    assert_int_equal(g.spans[1], 2);
    assert_int_equal(g.spans[2], 2);
    assert_int_equal(g.spans[3], 1);
    assert_int_equal(g.spans[4], 1);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
    fx_free(f);
}

/* Which request (index + 1) each trace's spans arrived in; a trace split over two fails. */
struct where_ctx {
    size_t req;
    size_t in[16];
    unsigned spans[16];
};

static void where_fn(const ResourceSpans *rs, const Span *sp, void *ctx)
{
    (void)rs;
    struct where_ctx *w = ctx;
    unsigned t = span_trace(sp) % 16;
    if (w->in[t] == 0)
        w->in[t] = w->req + 1;
    assert_int_equal(w->in[t], w->req + 1);
    w->spans[t]++;
}

/* The size bound: requests stay under it, and no trace is cut across two of them; a bound
 * smaller than one trace sends each trace alone, whole. */
static void test_release_size_bound(void **state)
{
    (void)state;
    size_t one_len = 0;
    for (int pass = 0; pass < 2; pass++) {
        struct fx *f = fx_new("decision_wait: 1s\npolicies: [{name: all, type: always_sample}]\n",
                              false);
        size_t limit = pass == 0 ? 1 : 5 * one_len / 2;
        tail_sampling_set_release_limit(f->proc, limit);
        for (unsigned t = 1; t <= 6; t++) {
            struct span_spec sp[3] = {{t, 1, 0, 0, 0, 9, NULL, 0},
                                      {t, 2, 1, 0, 1, 4, NULL, 0},
                                      {t, 3, 1, 0, 2, 5, NULL, 0}};
            feed(f, trace_req("svc", sp, 3));
        }
        fake_now_ns += 2 * SEC;
        assert_int_equal(tail_sampling_tick(f->proc), 6);
        size_t n = rec_batches(&f->traces);
        if (pass == 0) {
            assert_int_equal(n, 6);
            one_len = f->traces.got[0].len;
        } else {
            assert_true(n > 1 && n < 6);
        }
        assert_int_equal(rec_items(&f->traces), 18);
        struct where_ctx w = {0};
        for (size_t b = 0; b < n; b++) {
            if (pass == 1)
                assert_true(f->traces.got[b].len <= limit);
            w.req = b;
            wire_each_span(&f->traces.got[b], where_fn, &w);
        }
        for (unsigned t = 1; t <= 6; t++)
            assert_int_equal(w.spans[t], 3);
        fx_free(f);
    }
}

struct policy_ctx {
    const char *want;
    size_t spans;
};

static void policy_fn(const ResourceSpans *rs, const Span *sp, void *ctx)
{
    (void)rs;
    struct policy_ctx *c = ctx;
    size_t times;
    const AnyValue *v = span_attr(sp, "sampling.policy", &times);
    assert_non_null(v);
    assert_int_equal(times, 1);
    assert_string_equal(v->string_value, c->want);
    c->spans++;
}

static void test_error_keeps_whole_trace_and_late_spans(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "decision_cache: {sampled_cache_size: 100, non_sampled_cache_size: 100}\n"
                          "decision_attributes: true\n"
                          "policies:\n"
                          "  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n"
                          "  - {name: none, type: probabilistic, probabilistic: {sampling_percentage: 0}}\n",
                          false);
    feed(f, one_span(7, 1, 0, 0));
    feed(f, one_span(7, 2, 1, 2)); /* the error */
    feed(f, one_span(7, 3, 1, 1));
    feed(f, one_span(8, 1, 0, 1));
    feed(f, one_span(8, 2, 1, 0));
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 2);
    assert_int_equal(rec_items(&f->traces), 3);
    struct count_ctx c = {0};
    rec_each_span(&f->traces, count_fn, &c);
    assert_int_equal(c.counts[7], 3);
    assert_int_equal(c.counts[8], 0);
    /* A late span of the kept trace goes out at once, tagged like the others. */
    feed(f, one_span(7, 4, 1, 0));
    assert_int_equal(rec_items(&f->traces), 4);
    struct policy_ctx pc = {"errors", 0};
    rec_each_span(&f->traces, policy_fn, &pc);
    assert_int_equal(pc.spans, 4);
    /* A late span of the dropped trace is dropped and counted. */
    feed(f, one_span(8, 3, 1, 2));
    fake_now_ns += 5 * SEC;
    tail_sampling_tick(f->proc);
    assert_int_equal(rec_items(&f->traces), 4);
    assert_int_equal(metric(f, M("early_releases_from_cache_decision"), "sampled=\"true\""), 1);
    assert_int_equal(metric(f, M("early_releases_from_cache_decision"), "sampled=\"false\""), 1);
    assert_int_equal(metric(f, M("sampling_late_span_age"), NULL), 2);
    assert_int_equal(metric(f, M("count_traces_sampled"), "policy=\"errors\",sampled=\"true\""), 1);
    assert_int_equal(metric(f, M("count_traces_sampled"), "policy=\"errors\",sampled=\"false\""), 1);
    fx_free(f);
}

struct prop_ctx {
    size_t spans;
};

static void prop_fn(const ResourceSpans *rs, const Span *sp, void *ctx)
{
    (void)rs;
    struct prop_ctx *c = ctx;
    size_t times;
    const AnyValue *v = span_attr(sp, "tenant.id", &times);
    assert_non_null(v);
    assert_int_equal(times, 1);
    assert_string_equal(v->string_value, "acme");
    c->spans++;
}

/* ---- decision caches ------------------------------------------------------------------------- */

static void cache_id(uint8_t id[16], unsigned n)
{
    trace_id(id, n);
}

static bool cached(struct ts_cache *c, unsigned n)
{
    uint8_t id[16];
    cache_id(id, n);
    return ts_cache_find(c, id) != NULL;
}

static struct ts_cache_entry *cache_put(struct ts_cache *c, unsigned n, int64_t now)
{
    uint8_t id[16];
    cache_id(id, n);
    return ts_cache_put(c, id, now);
}

static void test_cache_hit_refreshes(void **state)
{
    (void)state;
    struct ts_cache c;
    assert_int_equal(ts_cache_init(&c, 3), 0);
    size_t fixed = ts_cache_mem(&c);
    for (unsigned n = 1; n <= 3; n++)
        assert_non_null(cache_put(&c, n, (int64_t)n));
    /* Touch the oldest, add one more: the touched one stays, the second oldest goes. */
    assert_true(cached(&c, 1));
    assert_non_null(cache_put(&c, 4, 4));
    assert_false(cached(&c, 2));
    assert_true(cached(&c, 1));
    assert_true(cached(&c, 3));
    assert_true(cached(&c, 4));
    /* Those lookups left the recency 1, 3, 4 (oldest first); re-recording 3 refreshes it as
     * well (1, 4, 3), so the next one forgets 1. */
    struct ts_cache_entry *e = cache_put(&c, 3, 9);
    assert_int_equal(e->decided_ns, 9);
    assert_int_equal(e->keeper, -1);
    assert_non_null(cache_put(&c, 5, 5));
    assert_false(cached(&c, 1));
    assert_true(cached(&c, 3));
    assert_true(cached(&c, 4));
    assert_true(cached(&c, 5));
    /* A hit changes nothing but recency: the decision time stays. */
    uint8_t id[16];
    cache_id(id, 4);
    assert_int_equal(ts_cache_find(&c, id)->decided_ns, 4);

    /* Attribute copies are counted while held and freed with their entry. */
    cache_id(id, 5);
    e = ts_cache_find(&c, id);
    static const uint8_t prop[] = {0, 3, 'a', 'b', 'c'};
    assert_int_equal(ts_cache_set_prop(&c, e, prop, sizeof prop), 0);
    uint32_t len;
    const uint8_t *p = ts_cache_prop(e, &len);
    assert_int_equal(len, sizeof prop);
    assert_memory_equal(p, prop, sizeof prop);
    assert_int_equal(ts_cache_mem(&c), fixed + 4 + sizeof prop);
    assert_int_equal(ts_cache_set_prop(&c, e, prop, 2), 0); /* replaced, not added */
    assert_int_equal(ts_cache_mem(&c), fixed + 4 + 2);
    /* Recency 3, 4, 5: two more puts forget 3 and 4 and keep 5 with its copy (then 6, 7, 5). */
    cache_put(&c, 6, 6);
    cache_put(&c, 7, 7);
    assert_int_equal(ts_cache_mem(&c), fixed + 4 + 2);
    e = ts_cache_find(&c, id);
    assert_non_null(e);
    ts_cache_prop(e, &len);
    assert_int_equal(len, 2);
    /* Three more puts forget 5, which frees the copy. */
    cache_put(&c, 8, 8);
    cache_put(&c, 9, 9);
    cache_put(&c, 10, 10);
    assert_false(cached(&c, 5));
    assert_int_equal(ts_cache_mem(&c), fixed);
    /* Re-recording an entry drops its copy. */
    e = cache_put(&c, 10, 11);
    assert_int_equal(ts_cache_set_prop(&c, e, prop, sizeof prop), 0);
    e = cache_put(&c, 10, 12);
    ts_cache_prop(e, &len);
    assert_int_equal(len, 0);
    assert_int_equal(ts_cache_mem(&c), fixed);
    assert_int_equal(ts_cache_set_prop(&c, e, prop, sizeof prop), 0);
    ts_cache_free(&c); /* frees the copy still held (ASan checks) */

    /* Size 0: remembers nothing. */
    assert_int_equal(ts_cache_init(&c, 0), 0);
    assert_null(cache_put(&c, 1, 1));
    assert_false(cached(&c, 1));
    ts_cache_free(&c);
}

/* Many operations against a plain recency list: same hits, same evictions (this also exercises
 * the table's deletions with long probe runs). */
static void test_cache_matches_reference(void **state)
{
    (void)state;
    enum { CAP = 37, IDS = 120, OPS = 20000 };
    struct ts_cache c;
    assert_int_equal(ts_cache_init(&c, CAP), 0);
    unsigned order[CAP]; /* most recent first */
    size_t n = 0;
    uint64_t x = 42;
    for (int op = 0; op < OPS; op++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        unsigned id = (unsigned)(x >> 33) % IDS + 1;
        bool put = (x >> 20) & 1;
        size_t at = n;
        for (size_t i = 0; i < n; i++)
            if (order[i] == id)
                at = i;
        if (put) {
            assert_non_null(cache_put(&c, id, op));
        } else {
            assert_int_equal(cached(&c, id), at < n);
            if (at == n)
                continue;
        }
        if (at == n) /* new: the least recent falls off when full */
            at = n < CAP ? n++ : CAP - 1;
        memmove(&order[1], &order[0], at * sizeof order[0]);
        order[0] = id;
    }
    /* Everything the reference holds is cached, the rest not. */
    for (unsigned id = 1; id <= IDS; id++) {
        bool want = false;
        for (size_t i = 0; i < n; i++)
            want |= order[i] == id;
        assert_int_equal(cached(&c, id), want);
    }
    ts_cache_free(&c);
}

/* The trace table against a plain presence array: many inserts and removals of few IDs, starting
 * from the smallest table so that it grows, with removals in any order inside long probe runs.
 * Every ID is found exactly when present, as its own trace, and arrival order stays a list of the
 * present traces. */
static void test_store_table_matches_reference(void **state)
{
    (void)state;
    enum { IDS = 300, OPS = 40000 };
    struct ts_store s;
    assert_int_equal(ts_store_init(&s, 1), 0);
    struct ts_trace *have[IDS + 1] = {0};
    size_t n = 0;
    uint64_t x = 7;
    for (int op = 0; op < OPS; op++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        unsigned id = (unsigned)(x >> 33) % IDS + 1;
        uint8_t tid[16];
        trace_id(tid, id);
        struct ts_trace *t = ts_store_find(&s, tid);
        assert_ptr_equal(t, have[id]);
        if (t) {
            ts_store_remove(&s, t);
            ts_trace_free(&s, t);
            have[id] = NULL;
            n--;
            assert_null(ts_store_find(&s, tid));
        } else {
            t = ts_store_insert(&s, tid, op);
            assert_non_null(t);
            assert_memory_equal(t->id, tid, 16);
            have[id] = t;
            n++;
        }
        assert_int_equal(s.count, n);
        assert_true(2 * s.count <= s.mask + 1);
        if (op % 997 == 0) {
            for (unsigned k = 1; k <= IDS; k++) {
                trace_id(tid, k);
                assert_ptr_equal(ts_store_find(&s, tid), have[k]);
            }
            size_t listed = 0;
            for (struct ts_trace *a = s.head; a; a = a->next) {
                assert_ptr_equal(have[a->id[0] | a->id[1] << 8], a);
                listed++;
            }
            assert_int_equal(listed, n);
        }
    }
    ts_store_free(&s);
}

/* Room made for a run of items is exactly what they take: appending them moves nothing, leaves
 * no slack, and the store counts the same bytes as appending them one by one. */
static void test_trace_reserve_fits_run(void **state)
{
    (void)state;
    struct ts_store s;
    assert_int_equal(ts_store_init(&s, 4), 0);
    static const uint8_t envb[] = {0x0a, 0x00, 0x0a, 0x00};
    struct ts_env *e = ts_env_intern(&s, envb, 2, 2);
    assert_non_null(e);
    uint8_t id[16], item[40];
    trace_id(id, 1);
    memset(item, 0x5a, sizeof item);
    struct ts_trace *a = ts_store_insert(&s, id, 1);
    trace_id(id, 2);
    struct ts_trace *b = ts_store_insert(&s, id, 1);
    assert_non_null(a);
    assert_non_null(b);
    uint64_t before = s.bytes;
    assert_int_equal(ts_trace_reserve(&s, &a->sp, e, 10 + 20 + 40), 0);
    const uint8_t *data = a->sp.data;
    assert_int_equal(ts_trace_append(&s, a, &a->sp, e, item, 10), 0);
    assert_int_equal(ts_trace_append(&s, a, &a->sp, e, item, 20), 0);
    assert_int_equal(ts_trace_append(&s, a, &a->sp, e, item, 40), 0);
    assert_ptr_equal(a->sp.data, data);
    assert_int_equal(a->sp.len, a->sp.cap);
    uint64_t reserved = s.bytes - before;
    /* The same items one by one on another trace. */
    before = s.bytes;
    assert_int_equal(ts_trace_append(&s, b, &b->sp, e, item, 10), 0);
    assert_int_equal(ts_trace_append(&s, b, &b->sp, e, item, 20), 0);
    assert_int_equal(ts_trace_append(&s, b, &b->sp, e, item, 40), 0);
    assert_int_equal(s.bytes - before, reserved);
    assert_int_equal(b->sp.len, a->sp.len);
    assert_memory_equal(b->sp.data, a->sp.data, a->sp.len);
    /* Extending the last segment needs no new header: room for one more item is its size. */
    assert_int_equal(ts_trace_reserve(&s, &a->sp, e, 5), 0);
    assert_int_equal(a->sp.cap, a->sp.len + 5);
    ts_env_unref(&s, e);
    ts_store_free(&s);
}

static void test_kept_cache_is_lru(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "decision_cache: {sampled_cache_size: 2, non_sampled_cache_size: 2}\n"
                          "decision_attributes: true\n"
                          "propagate_attributes: [tenant.id]\n"
                          "policies:\n"
                          "  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n",
                          false);
    struct attr tenant = {"tenant.id", "acme", 0};
    for (unsigned t = 1; t <= 2; t++) {
        struct span_spec root = {t, 1, 0, 2, 0, 10, &tenant, 1};
        feed(f, trace_req("svc", &root, 1));
    }
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 2);
    assert_int_equal(rec_items(&f->traces), 2);
    /* A late span of trace 1, the oldest decision: released, and trace 1 is now the most
     * recent. */
    feed(f, one_span(1, 2, 1, 0));
    assert_int_equal(rec_items(&f->traces), 3);
    /* A third kept trace fills the cache past its size: trace 2 is forgotten, not trace 1. */
    struct span_spec root3 = {3, 1, 0, 2, 0, 10, &tenant, 1};
    feed(f, trace_req("svc", &root3, 1));
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 1);
    assert_int_equal(rec_items(&f->traces), 4);
    feed(f, one_span(1, 3, 1, 0));
    assert_int_equal(rec_items(&f->traces), 5); /* still follows the decision, at once */
    feed(f, one_span(2, 2, 1, 0));
    assert_int_equal(rec_items(&f->traces), 5); /* forgotten: held as a new trace */
    assert_int_equal(metric(f, M("sampling_traces_on_memory"), NULL), 1);
    assert_int_equal(metric(f, M("early_releases_from_cache_decision"), "sampled=\"true\""), 2);
    /* The late spans of trace 1 went out like the rest of it: its policy, its tenant. */
    struct count_ctx c = {0};
    rec_each_span(&f->traces, count_fn, &c);
    assert_int_equal(c.counts[1], 3);
    assert_int_equal(c.counts[2], 1);
    assert_int_equal(c.counts[3], 1);
    struct policy_ctx pc = {"errors", 0};
    rec_each_span(&f->traces, policy_fn, &pc);
    assert_int_equal(pc.spans, 5);
    struct prop_ctx prc = {0};
    rec_each_span(&f->traces, prop_fn, &prc);
    assert_int_equal(prc.spans, 5);
    fx_free(f);
}

static void test_dropped_cache_is_lru(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "decision_cache: {sampled_cache_size: 2, non_sampled_cache_size: 2}\n"
                          "policies:\n"
                          "  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n",
                          false);
    feed(f, one_span(11, 1, 0, 0));
    feed(f, one_span(12, 1, 0, 0));
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 2);
    /* A late ERROR span of trace 11, the oldest: dropped by the cached decision, and 11 becomes
     * the most recent. */
    feed(f, one_span(11, 2, 1, 2));
    feed(f, one_span(13, 1, 0, 0));
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 1);
    /* 13 pushed out 12, not 11: 11's late ERROR span is still dropped, 12's starts a new trace,
     * which that span keeps. */
    feed(f, one_span(11, 3, 1, 2));
    feed(f, one_span(12, 2, 1, 2));
    assert_int_equal(metric(f, M("early_releases_from_cache_decision"), "sampled=\"false\""), 2);
    assert_int_equal(metric(f, M("sampling_traces_on_memory"), NULL), 1);
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 1);
    struct count_ctx c = {0};
    rec_each_span(&f->traces, count_fn, &c);
    assert_int_equal(c.counts[11], 0);
    assert_int_equal(c.counts[12], 1);
    assert_int_equal(rec_items(&f->traces), 1);
    fx_free(f);
}

static void assert_has_line(const char *text, const char *line)
{
    char want[512];
    snprintf(want, sizeof want, "\n%s\n", line);
    if (!strstr(text, want))
        fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void test_late_span_age_histogram(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "decision_cache: {sampled_cache_size: 10, non_sampled_cache_size: 10}\n"
                          "policies:\n"
                          "  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n",
                          false);
    feed(f, one_span(5, 1, 0, 2)); /* kept */
    feed(f, one_span(6, 1, 0, 0)); /* dropped */
    fake_now_ns += 2 * SEC;
    int64_t decided = fake_now_ns;
    assert_int_equal(tail_sampling_tick(f->proc), 2);
    /* Whole seconds since the decision, truncated: 0, 7, 30 (dropped trace), 30 (a hit does not
     * move the decision time). */
    fake_now_ns = decided + 500 * MS;
    feed(f, one_span(5, 2, 1, 0));
    fake_now_ns = decided + 7900 * MS;
    feed(f, one_span(5, 3, 1, 0));
    fake_now_ns = decided + 30 * SEC;
    feed(f, one_span(6, 2, 1, 0));
    fake_now_ns = decided + 30999 * MS;
    feed(f, one_span(5, 4, 1, 0));
    assert_int_equal(rec_items(&f->traces), 4);
    assert_int_equal(metric(f, M("sampling_late_span_age"), NULL), 4);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    telemetry_write_prometheus(f->tel, out);
    fclose(out);
#define AGE M("sampling_late_span_age")
#define L "processor=\"tail_sampling\""
    assert_has_line(text, "# TYPE " AGE " histogram");
    assert_has_line(text, AGE "_bucket{" L ",le=\"0\"} 1");
    assert_has_line(text, AGE "_bucket{" L ",le=\"5\"} 1");
    assert_has_line(text, AGE "_bucket{" L ",le=\"10\"} 2");
    assert_has_line(text, AGE "_bucket{" L ",le=\"25\"} 2");
    assert_has_line(text, AGE "_bucket{" L ",le=\"50\"} 4");
    assert_has_line(text, AGE "_bucket{" L ",le=\"10000\"} 4");
    assert_has_line(text, AGE "_bucket{" L ",le=\"+Inf\"} 4");
    assert_has_line(text, AGE "_sum{" L "} 67");
    assert_has_line(text, AGE "_count{" L "} 4");
#undef AGE
#undef L
    free(text);
    fx_free(f);
}

static void test_evict_over_num_traces_decides_early(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 30s\n"
                          "num_traces: 2\n"
                          "policies: [{name: all, type: always_sample}]\n",
                          false);
    feed(f, one_span(1, 1, 0, 0));
    feed(f, one_span(2, 1, 0, 0));
    assert_int_equal(rec_batches(&f->traces), 0);
    feed(f, one_span(3, 1, 0, 0));
    /* The oldest was decided on what it had and sent, not thrown away. */
    assert_int_equal(rec_batches(&f->traces), 1);
    struct count_ctx c = {0};
    rec_each_span(&f->traces, count_fn, &c);
    assert_int_equal(c.counts[1], 1);
    assert_int_equal(metric(f, M("early_decisions"), "reason=\"num_traces\""), 1);
    assert_int_equal(metric(f, M("sampling_trace_dropped_too_early"), NULL), 0);
    assert_int_equal(metric(f, M("sampling_traces_on_memory"), NULL), 2);
    fx_free(f);
}

static void test_evict_over_max_buffered_bytes(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 30s\n"
                          "max_buffered_bytes: 6000\n"
                          "policies: [{name: all, type: always_sample}]\n",
                          false);
    char big[1001];
    memset(big, 'x', 1000);
    big[1000] = '\0';
    struct attr a = {"payload", big, 0};
    for (unsigned t = 1; t <= 8; t++) {
        struct span_spec s = {t, 1, 0, 0, 0, 5, &a, 1};
        feed(f, trace_req("svc", &s, 1));
        assert_true(metric(f, "llmotlp_tail_sampling_buffered_bytes", NULL) <= 6000);
    }
    int64_t early = metric(f, M("early_decisions"), "reason=\"max_buffered_bytes\"");
    assert_true(early >= 1);
    assert_int_equal((int64_t)rec_items(&f->traces), early);
    /* The oldest went first. */
    struct count_ctx c = {0};
    rec_each_span(&f->traces, count_fn, &c);
    assert_int_equal(c.counts[1], 1);
    assert_int_equal(c.counts[8], 0);
    fx_free(f);
}

static void test_drop_beats_keep(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "policies:\n"
                          "  - name: all\n"
                          "    type: always_sample\n"
                          "  - name: no-metrics\n"
                          "    type: drop\n"
                          "    drop:\n"
                          "      drop_sub_policy:\n"
                          "        - name: path\n"
                          "          type: string_attribute\n"
                          "          string_attribute: {key: url.path, values: [/metrics]}\n",
                          false);
    struct attr m = {"url.path", "/metrics", 0}, h = {"url.path", "/health", 0};
    struct span_spec a = {1, 1, 0, 0, 0, 5, &m, 1}, b = {2, 1, 0, 0, 0, 5, &h, 1};
    feed(f, trace_req("svc", &a, 1));
    feed(f, trace_req("svc", &b, 1));
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 2);
    struct count_ctx c = {0};
    rec_each_span(&f->traces, count_fn, &c);
    assert_int_equal(c.counts[1], 0);
    assert_int_equal(c.counts[2], 1);
    fx_free(f);
}

static void test_composite_budget_per_second(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "policies:\n"
                          "  - name: budget\n"
                          "    type: composite\n"
                          "    composite:\n"
                          "      max_total_spans_per_second: 10\n"
                          "      policy_order: [llm, rest]\n"
                          "      composite_sub_policy:\n"
                          "        - {name: llm, type: string_attribute, string_attribute: {key: kind, values: [llm]}}\n"
                          "        - {name: rest, type: always_sample}\n"
                          "      rate_allocation:\n"
                          "        - {policy: llm, percent: 50}\n"
                          "        - {policy: rest, percent: 50}\n",
                          false);
    struct attr llm = {"kind", "llm", 0};
    fake_now_ns = 1000 * SEC + 100 * MS;
    for (unsigned t = 1; t <= 16; t++) {
        struct span_spec s = {t, 1, 0, 0, 0, 5, &llm, 1};
        feed(f, trace_req("svc", &s, 1));
    }
    /* All decided within second 1001: llm takes 5, then falls through to rest (5 more). */
    fake_now_ns = 1001 * SEC + 200 * MS;
    assert_int_equal(tail_sampling_tick(f->proc), 16);
    assert_int_equal(rec_items(&f->traces), 10);
    /* The next second has a fresh budget. */
    for (unsigned t = 17; t <= 20; t++) {
        struct span_spec s = {t, 1, 0, 0, 0, 5, &llm, 1};
        feed(f, trace_req("svc", &s, 1));
    }
    fake_now_ns = 1002 * SEC + 300 * MS;
    assert_int_equal(tail_sampling_tick(f->proc), 4);
    assert_int_equal(rec_items(&f->traces), 14);
    fx_free(f);
}

static void test_sub_second_decision_wait(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 100ms\n"
                          "policies: [{name: all, type: always_sample}]\n",
                          true);
    feed(f, one_span(5, 1, 0, 0));
    /* Polls for up to 10 s: asserts that the timer decided, not how fast. */
    for (int i = 0; i < 1000 && rec_batches(&f->traces) == 0; i++) {
        struct timespec ts = {0, 10 * MS};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(rec_items(&f->traces), 1);
    fx_free(f);
}

static void test_early_decision_after_root(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 60s\n"
                          "decision_wait_after_root_received: 1s\n"
                          "policies: [{name: all, type: always_sample}]\n",
                          false);
    feed(f, one_span(1, 2, 1, 0));
    feed(f, one_span(2, 2, 1, 0)); /* never gets its root */
    fake_now_ns += 100 * MS;
    feed(f, one_span(1, 1, 0, 0)); /* root of trace 1 */
    fake_now_ns += 500 * MS;
    assert_int_equal(tail_sampling_tick(f->proc), 0);
    fake_now_ns += 600 * MS;
    assert_int_equal(tail_sampling_tick(f->proc), 1);
    struct count_ctx c = {0};
    rec_each_span(&f->traces, count_fn, &c);
    assert_int_equal(c.counts[1], 2);
    assert_int_equal(c.counts[2], 0);
    fake_now_ns += 60 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 1);
    fx_free(f);
}

struct adj_ctx {
    bool kept[300];
    size_t n;
};

static void adj_fn(const ResourceSpans *rs, const Span *sp, void *ctx)
{
    (void)rs;
    struct adj_ctx *c = ctx;
    size_t times;
    const AnyValue *v = span_attr(sp, "sampling.adjusted_count", &times);
    assert_non_null(v);
    assert_int_equal(times, 1);
    assert_int_equal(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE);
    assert_true(v->double_value > 3.99 && v->double_value < 4.01);
    v = span_attr(sp, "sampling.policy", &times);
    assert_string_equal(v->string_value, "quarter");
    c->kept[span_trace(sp)] = true;
    c->n++;
}

static void test_probabilistic_deterministic_with_adjusted_count(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++) {
        struct fx *f = fx_new("decision_wait: 1s\n"
                              "decision_attributes: true\n"
                              "policies:\n"
                              "  - {name: quarter, type: probabilistic, probabilistic: "
                              "{sampling_percentage: 25, hash_salt: s1}}\n",
                              false);
        for (unsigned t = 1; t <= 256; t++)
            feed(f, one_span(t, 1, 0, 0));
        fake_now_ns += 2 * SEC;
        assert_int_equal(tail_sampling_tick(f->proc), 256);
        struct adj_ctx c = {0};
        rec_each_span(&f->traces, adj_fn, &c);
        /* Exactly the traces whose salted hash is under the threshold. */
        uint64_t threshold = (uint64_t)((long double)UINT64_MAX * 0.25L);
        size_t expect = 0;
        for (unsigned t = 1; t <= 256; t++) {
            uint8_t id[16];
            trace_id(id, t);
            bool in = ts_trace_hash("s1", id) <= threshold;
            expect += in;
            assert_int_equal(c.kept[t], in);
        }
        assert_int_equal(c.n, expect);
        assert_true(expect > 20 && expect < 120);
        fx_free(f);
    }
}

struct bare_ctx {
    size_t spans;
};

/* A kept span leaves with exactly the attributes it came with, and its scope with none. */
static void bare_fn(const ResourceSpans *rs, const Span *sp, void *ctx)
{
    struct bare_ctx *c = ctx;
    for (size_t i = 0; i < sp->n_attributes; i++)
        fail_msg("unexpected span attribute %s", sp->attributes[i]->key);
    for (size_t j = 0; j < rs->n_scope_spans; j++)
        if (rs->scope_spans[j]->scope)
            assert_int_equal(rs->scope_spans[j]->scope->n_attributes, 0);
    c->spans++;
}

/* The Collector adds no attribute to what it keeps (its `tailsampling.policy` needs the
 * recordpolicy feature gate); decision_attributes is off unless asked for. */
static void test_no_decision_attributes_by_default(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "decision_cache: {sampled_cache_size: 100}\n"
                          "policies:\n"
                          "  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n"
                          "  - {name: half, type: probabilistic, probabilistic: {sampling_percentage: 50}}\n",
                          false);
    for (unsigned t = 1; t <= 64; t++)
        feed(f, one_span(t, 1, 0, t == 1 ? 2 : 0));
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 64);
    size_t kept = rec_items(&f->traces);
    /* The error trace, and some kept by the probabilistic policy alone. */
    assert_true(kept > 1 && kept < 64);
    feed(f, one_span(1, 2, 1, 0)); /* late span: follows the cached decision */
    assert_int_equal(rec_items(&f->traces), kept + 1);
    struct bare_ctx c = {0};
    rec_each_span(&f->traces, bare_fn, &c);
    assert_int_equal(c.spans, kept + 1);
    fx_free(f);
}

/* What one kept span's scope says under record_policy. */
struct scope_rec {
    unsigned trace, span;
    const char *policy, *composite, *upstream;
    bool cached;
    size_t policy_times;
};

/* Calls fn on every span with its scope's attributes read into a scope_rec. */
static void rec_each_scope(struct rec *r, void (*fn)(const struct scope_rec *, void *), void *ctx)
{
    pthread_mutex_lock(&r->lock);
    for (size_t b = 0; b < r->n; b++) {
        TraceRequest *req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            NULL, r->got[b].len, r->got[b].data);
        assert_non_null(req);
        for (size_t i = 0; i < req->n_resource_spans; i++)
            for (size_t j = 0; j < req->resource_spans[i]->n_scope_spans; j++) {
                const ScopeSpans *ss = req->resource_spans[i]->scope_spans[j];
                struct scope_rec sr = {0};
                assert_non_null(ss->scope);
                assert_string_equal(ss->scope->name, "test-scope");
                for (size_t a = 0; a < ss->scope->n_attributes; a++) {
                    const KeyValue *kv = ss->scope->attributes[a];
                    if (strcmp(kv->key, "tailsampling.policy") == 0) {
                        sr.policy = kv->value->string_value;
                        sr.policy_times++;
                    } else if (strcmp(kv->key, "tailsampling.composite_policy") == 0) {
                        sr.composite = kv->value->string_value;
                    } else if (strcmp(kv->key, "tailsampling.cached_decision") == 0) {
                        assert_int_equal(kv->value->value_case,
                                         OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE);
                        sr.cached = kv->value->bool_value;
                    } else if (strcmp(kv->key, "upstream") == 0) {
                        sr.upstream = kv->value->string_value;
                    } else {
                        fail_msg("unexpected scope attribute %s", kv->key);
                    }
                }
                for (size_t k = 0; k < ss->n_spans; k++) {
                    const Span *sp = ss->spans[k];
                    /* The spans themselves are untouched. */
                    assert_int_equal(sp->n_attributes, 0);
                    sr.trace = span_trace(sp);
                    sr.span = sp->span_id.data[0];
                    fn(&sr, ctx);
                }
            }
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
    }
    pthread_mutex_unlock(&r->lock);
}

struct scope_want {
    size_t seen;
};

static void scope_fn(const struct scope_rec *sr, void *ctx)
{
    struct scope_want *w = ctx;
    w->seen++;
    /* Upserted: the upstream value of the key is replaced, other scope attributes stay. */
    assert_int_equal(sr->policy_times, 1);
    assert_string_equal(sr->upstream, "kept");
    if (sr->trace == 1 && sr->span == 3) {
        /* The late span: the cached decision, its policy, no composite. */
        assert_string_equal(sr->policy, "errors");
        assert_null(sr->composite);
        assert_true(sr->cached);
    } else if (sr->trace == 1) {
        /* Kept by "errors"; the composite after it sampled too and names its sub-policy, as in
         * the Collector, where every composite that samples writes the attribute. */
        assert_string_equal(sr->policy, "errors");
        assert_string_equal(sr->composite, "c-err");
        assert_false(sr->cached);
    } else {
        assert_int_equal(sr->trace, 2);
        assert_string_equal(sr->policy, "budget");
        assert_string_equal(sr->composite, "c-all");
        assert_false(sr->cached);
    }
}

/* record_policy: the Collector's recordpolicy feature gate, on the scopes of kept spans. */
static void test_record_policy_scope_attributes(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "decision_cache: {sampled_cache_size: 100}\n"
                          "record_policy: true\n"
                          "policies:\n"
                          "  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n"
                          "  - name: budget\n"
                          "    type: composite\n"
                          "    composite:\n"
                          "      max_total_spans_per_second: 1000\n"
                          "      policy_order: [c-err, c-all]\n"
                          "      composite_sub_policy:\n"
                          "        - {name: c-err, type: status_code, status_code: {status_codes: [ERROR]}}\n"
                          "        - {name: c-all, type: always_sample}\n"
                          "      rate_allocation: [{policy: c-err, percent: 50}, {policy: c-all, percent: 50}]\n",
                          false);
    static const struct attr up[] = {{"tailsampling.policy", "from-upstream", 0},
                                     {"upstream", "kept", 0}};
    scope_attrs_all = up;
    n_scope_attrs_all = 2;
    feed(f, one_span(1, 1, 0, 0));
    feed(f, one_span(1, 2, 1, 2));
    feed(f, one_span(2, 1, 0, 0));
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 2);
    assert_int_equal(rec_items(&f->traces), 3);
    feed(f, one_span(1, 3, 1, 0));
    assert_int_equal(rec_items(&f->traces), 4);
    scope_attrs_all = NULL;
    n_scope_attrs_all = 0;
    struct scope_want w = {0};
    rec_each_scope(&f->traces, scope_fn, &w);
    assert_int_equal(w.seen, 4);
    fx_free(f);
}

static void no_scope_attr_fn(const struct scope_rec *sr, void *ctx)
{
    size_t *n = ctx;
    assert_null(sr->policy);
    assert_null(sr->composite);
    assert_false(sr->cached);
    (*n)++;
}

/* --feature-gates=processor.tailsamplingprocessor.recordpolicy, the Collector's switch, turns
 * record_policy on without the key. */
static void test_record_policy_feature_gate(void **state)
{
    (void)state;
    struct error err = {0};
    assert_int_equal(featuregate_apply(FEATUREGATE_TAILSAMPLING_RECORDPOLICY, NULL, NULL, &err), 0);
    struct fx *f = fx_new("decision_wait: 1s\npolicies: [{name: keep, type: always_sample}]\n", false);
    feed(f, one_span(7, 1, 0, 0));
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 1);
    assert_int_equal(rec_batches(&f->traces), 1);
    pthread_mutex_lock(&f->traces.lock);
    TraceRequest *req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, f->traces.got[0].len, f->traces.got[0].data);
    pthread_mutex_unlock(&f->traces.lock);
    assert_non_null(req);
    const ScopeSpans *ss = req->resource_spans[0]->scope_spans[0];
    assert_non_null(ss->scope);
    assert_int_equal(ss->scope->n_attributes, 1);
    assert_string_equal(ss->scope->attributes[0]->key, "tailsampling.policy");
    assert_string_equal(ss->scope->attributes[0]->value->string_value, "keep");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
    fx_free(f);
    featuregate_reset();
}

/* A scope with no attributes of its own, or no scope field at all, gets them; without
 * record_policy nothing is written (checked on the same spans). */
static void test_record_policy_off_and_empty_scope(void **state)
{
    (void)state;
    for (int on = 0; on < 2; on++) {
        struct fx *f = fx_new(on ? "decision_wait: 1s\nrecord_policy: true\n"
                                   "policies: [{name: all, type: always_sample}]\n"
                                 : "decision_wait: 1s\npolicies: [{name: all, type: always_sample}]\n",
                              false);
        feed(f, one_span(5, 1, 0, 0));
        size_t n = 0;
        if (on) {
            omit_scope = true;
            feed(f, one_span(6, 1, 0, 0));
            omit_scope = false;
        }
        fake_now_ns += 2 * SEC;
        assert_int_equal(tail_sampling_tick(f->proc), on ? 2 : 1);
        if (on) {
            /* One request: the two traces share the resource, not the scope (one was sent
             * without a scope field). */
            assert_int_equal(rec_batches(&f->traces), 1);
            pthread_mutex_lock(&f->traces.lock);
            TraceRequest *req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
                NULL, f->traces.got[0].len, f->traces.got[0].data);
            pthread_mutex_unlock(&f->traces.lock);
            assert_non_null(req);
            assert_int_equal(req->n_resource_spans, 1);
            assert_int_equal(req->resource_spans[0]->n_scope_spans, 2);
            unsigned seen = 0;
            for (size_t b = 0; b < 2; b++) {
                const ScopeSpans *ss = req->resource_spans[0]->scope_spans[b];
                assert_int_equal(ss->n_spans, 1);
                unsigned t = span_trace(ss->spans[0]);
                seen |= 1u << (t - 5);
                assert_non_null(ss->scope);
                /* The sent scope keeps its name; a missing one is created for the attribute. */
                assert_string_equal(ss->scope->name, t == 5 ? "test-scope" : "");
                assert_int_equal(ss->scope->n_attributes, 1);
                assert_string_equal(ss->scope->attributes[0]->key, "tailsampling.policy");
                assert_string_equal(ss->scope->attributes[0]->value->string_value, "all");
            }
            assert_int_equal(seen, 3);
            assert_string_equal(req->resource_spans[0]->schema_url, "https://example.com/schema");
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
        } else {
            rec_each_scope(&f->traces, no_scope_attr_fn, &n);
            assert_int_equal(n, 1);
        }
        fx_free(f);
    }
}

static void test_propagate_attributes(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "propagate_attributes: [tenant.id]\n"
                          "policies: [{name: all, type: always_sample}]\n",
                          false);
    struct attr tenant = {"tenant.id", "acme", 0};
    struct span_spec spans[3] = {{3, 2, 1, 0, 1, 4, NULL, 0},
                                 {3, 1, 0, 0, 0, 9, &tenant, 1},
                                 {3, 3, 1, 0, 2, 3, NULL, 0}};
    feed(f, trace_req("svc", &spans[0], 1));
    feed(f, trace_req("svc", &spans[1], 2));
    fake_now_ns += 2 * SEC;
    tail_sampling_tick(f->proc);
    struct prop_ctx c = {0};
    rec_each_span(&f->traces, prop_fn, &c);
    assert_int_equal(c.spans, 3);
    fx_free(f);
}

static size_t log_records(struct rec *r, unsigned trace)
{
    size_t n = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t b = 0; b < r->n; b++) {
        LogsRequest *req = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
            NULL, r->got[b].len, r->got[b].data);
        assert_non_null(req);
        for (size_t i = 0; i < req->n_resource_logs; i++)
            for (size_t j = 0; j < req->resource_logs[i]->n_scope_logs; j++)
                for (size_t k = 0; k < req->resource_logs[i]->scope_logs[j]->n_log_records; k++) {
                    const Opentelemetry__Proto__Logs__V1__LogRecord *lr =
                        req->resource_logs[i]->scope_logs[j]->log_records[k];
                    unsigned t = lr->trace_id.len == 16 ? lr->trace_id.data[0] : 0;
                    n += t == trace;
                }
        opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req, NULL);
    }
    pthread_mutex_unlock(&r->lock);
    return n;
}

static void test_logs_follow_their_trace(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "policies:\n"
                          "  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n",
                          false);
    f->logs_proc = make_instance(f, SIGNAL_LOGS, &f->logs);
    feed(f, one_span(1, 1, 0, 2)); /* kept */
    feed(f, one_span(2, 1, 0, 0)); /* dropped */
    unsigned only_plain[2] = {0, 0};
    assert_int_equal(feed_to(f->logs_proc, SIGNAL_LOGS, logs_req(only_plain, 2)), CONSUME_OK);
    /* Records without a trace ID pass straight through. */
    assert_int_equal(rec_batches(&f->logs), 1);
    assert_int_equal(f->logs.items[0], 2);
    unsigned mixed[5] = {1, 2, 0, 1, 2};
    assert_int_equal(feed_to(f->logs_proc, SIGNAL_LOGS, logs_req(mixed, 5)), CONSUME_OK);
    assert_int_equal(rec_batches(&f->logs), 2);
    assert_int_equal(f->logs.items[1], 1);
    assert_int_equal(log_records(&f->logs, 1), 0);
    fake_now_ns += 2 * SEC;
    assert_int_equal(tail_sampling_tick(f->proc), 2);
    assert_int_equal(log_records(&f->logs, 1), 2);
    assert_int_equal(log_records(&f->logs, 2), 0);
    assert_int_equal(rec_items(&f->traces), 1);
    fx_free(f);
}

static void test_shutdown_flushes_pending(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 60s\n"
                          "policies: [{name: all, type: always_sample}]\n",
                          true);
    feed(f, one_span(1, 1, 0, 0));
    feed(f, one_span(1, 2, 1, 0));
    feed(f, one_span(2, 1, 0, 0));
    assert_int_equal(rec_batches(&f->traces), 0);
    tail_sampling_processor_factory.shutdown(f->proc, clock_now_ns() + SEC);
    assert_int_equal(rec_items(&f->traces), 3);
    assert_int_equal(rec_batches(&f->traces), 1); /* decided together, sent together */
    fx_free(f);

    f = fx_new("decision_wait: 60s\n"
               "drop_pending_traces_on_shutdown: true\n"
               "policies: [{name: all, type: always_sample}]\n",
               true);
    feed(f, one_span(1, 1, 0, 0));
    tail_sampling_processor_factory.shutdown(f->proc, clock_now_ns() + SEC);
    assert_int_equal(rec_items(&f->traces), 0);
    assert_int_equal(metric(f, M("sampling_trace_dropped_too_early"), NULL), 1);
    fx_free(f);
}

static void test_maximum_trace_size(void **state)
{
    (void)state;
    struct fx *f = fx_new("decision_wait: 1s\n"
                          "maximum_trace_size_bytes: 1024\n"
                          "policies: [{name: all, type: always_sample}]\n",
                          false);
    char big[801];
    memset(big, 'y', 800);
    big[800] = '\0';
    struct attr a = {"payload", big, 0};
    struct span_spec s = {1, 1, 0, 0, 0, 5, &a, 1};
    feed(f, trace_req("svc", &s, 1));
    s.span = 2;
    feed(f, trace_req("svc", &s, 1));
    feed(f, one_span(2, 1, 0, 0));
    fake_now_ns += 2 * SEC;
    tail_sampling_tick(f->proc);
    struct count_ctx c = {0};
    rec_each_span(&f->traces, count_fn, &c);
    assert_int_equal(c.counts[1], 0);
    assert_int_equal(c.counts[2], 1);
    assert_int_equal(metric(f, M("traces_dropped_too_large"), NULL), 1);
    fx_free(f);
}

/* ---- config errors --------------------------------------------------------------------------- */

static void expect_config_error(const char *yaml, const char *where, const char *what)
{
    struct error err = {0};
    struct cnode *root = config_parse_string(yaml, "<ts>", &err);
    assert_non_null(root);
    struct tail_sampling_config cfg;
    memset(&cfg, 0, sizeof cfg);
    int rc = config_bind(tail_sampling_processor_factory.fields, root, &cfg, &err);
    if (rc == 0)
        rc = tail_sampling_processor_factory.validate(&cfg, &err);
    assert_int_equal(rc, -1);
    if (!strstr(err.msg, where) || !strstr(err.msg, what))
        fail_msg("expected '%s' and '%s' in: %s", where, what, err.msg);
    config_free_bound(tail_sampling_processor_factory.fields, &cfg);
    cnode_free(root);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_config_error("policies:\n"
                        "  - {name: a, type: always_sample}\n"
                        "  - {name: a, type: always_sample}\n",
                        "<ts>:3:", "duplicate policy name 'a'");
    expect_config_error("policies:\n"
                        "  - name: a\n"
                        "    type: always_sampel\n",
                        "<ts>:3:11", "unknown policy type 'always_sampel'; known types: always_sample");
    expect_config_error("policies:\n"
                        "  - name: e\n"
                        "    type: status_code\n"
                        "    status_code:\n"
                        "      status_codes: [ERROR, ERR]\n",
                        "<ts>:5:", "unknown status code 'ERR'");
    expect_config_error("policies:\n"
                        "  - name: a\n"
                        "    type: always_sample\n"
                        "    colour: blue\n",
                        "<ts>:4:5", "unknown key 'colour'; known keys: name, type, latency");
    expect_config_error("policies:\n"
                        "  - name: l\n"
                        "    type: latency\n"
                        "    latency: {threshold: 5}\n",
                        "<ts>:4:", "threshold");
    expect_config_error("policies:\n"
                        "  - name: \"\"\n"
                        "    type: always_sample\n",
                        "<ts>:2:", "must not be empty");
    expect_config_error("policies:\n"
                        "  - name: r\n"
                        "    type: string_attribute\n"
                        "    string_attribute: {key: k, values: ['('], enabled_regex_matching: true}\n",
                        "<ts>:4:", "invalid regular expression");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_trace_released_together),
        cmocka_unit_test(test_release_retries_under_backpressure),
        cmocka_unit_test(test_release_groups_by_resource_and_scope),
        cmocka_unit_test(test_release_size_bound),
        cmocka_unit_test(test_error_keeps_whole_trace_and_late_spans),
        cmocka_unit_test(test_cache_hit_refreshes),
        cmocka_unit_test(test_cache_matches_reference),
        cmocka_unit_test(test_store_table_matches_reference),
        cmocka_unit_test(test_trace_reserve_fits_run),
        cmocka_unit_test(test_kept_cache_is_lru),
        cmocka_unit_test(test_dropped_cache_is_lru),
        cmocka_unit_test(test_late_span_age_histogram),
        cmocka_unit_test(test_evict_over_num_traces_decides_early),
        cmocka_unit_test(test_evict_over_max_buffered_bytes),
        cmocka_unit_test(test_drop_beats_keep),
        cmocka_unit_test(test_composite_budget_per_second),
        cmocka_unit_test(test_sub_second_decision_wait),
        cmocka_unit_test(test_early_decision_after_root),
        cmocka_unit_test(test_probabilistic_deterministic_with_adjusted_count),
        cmocka_unit_test(test_no_decision_attributes_by_default),
        cmocka_unit_test(test_record_policy_scope_attributes),
        cmocka_unit_test(test_record_policy_off_and_empty_scope),
        cmocka_unit_test(test_record_policy_feature_gate),
        cmocka_unit_test(test_propagate_attributes),
        cmocka_unit_test(test_logs_follow_their_trace),
        cmocka_unit_test(test_shutdown_flushes_pending),
        cmocka_unit_test(test_maximum_trace_size),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
