/* test_ottl_walk.c — ottl_walk (core/ottl/walk.c) over trace, metric and log requests built by
 * hand: every item visited once with its parents, drops at every level, containers removed only
 * when the walk emptied them (one that arrived empty stays), a stopped walk, absent resources
 * and scopes, and a request that still packs and unpacks after the drops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/ottl/ottl_internal.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceReq;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricReq;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogReq;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;

static char *fmt(struct arena *a, const char *f, int x, int y, int z)
{
    char buf[64];
    snprintf(buf, sizeof buf, f, x, y, z);
    return arena_strdup(a, buf);
}

static Opentelemetry__Proto__Resource__V1__Resource *mk_resource(struct arena *a, int r)
{
    Opentelemetry__Proto__Resource__V1__Resource *res = arena_alloc(a, sizeof *res);
    opentelemetry__proto__resource__v1__resource__init(res);
    res->attributes = arena_alloc(a, sizeof *res->attributes);
    res->attributes[0] = arena_alloc(a, sizeof *res->attributes[0]);
    opentelemetry__proto__common__v1__key_value__init(res->attributes[0]);
    res->attributes[0]->key = "service.name";
    struct ottl_value v = { .t = OTTL_V_STRING };
    v.s.p = fmt(a, "svc%d", r, 0, 0);
    v.s.n = strlen(v.s.p);
    res->attributes[0]->value = ottl_value_to_any(a, &v);
    res->n_attributes = 1;
    return res;
}

static Opentelemetry__Proto__Common__V1__InstrumentationScope *mk_scope(struct arena *a, int r,
                                                                        int s)
{
    Opentelemetry__Proto__Common__V1__InstrumentationScope *sc = arena_alloc(a, sizeof *sc);
    opentelemetry__proto__common__v1__instrumentation_scope__init(sc);
    sc->name = fmt(a, "r%ds%d", r, s, 0);
    return sc;
}

/* nres resources x nscope scopes x nspan spans named r<i>s<j>p<k>, each with 2 events; the
 * last scope of every resource arrives empty when empty_scope. */
static TraceReq *mk_traces(struct arena *a, int nres, int nscope, int nspan, bool empty_scope)
{
    TraceReq *req = arena_alloc(a, sizeof *req);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
    req->n_resource_spans = (size_t)nres;
    req->resource_spans = arena_alloc(a, (size_t)nres * sizeof *req->resource_spans);
    for (int r = 0; r < nres; r++) {
        ResourceSpans *rs = arena_alloc(a, sizeof *rs);
        opentelemetry__proto__trace__v1__resource_spans__init(rs);
        rs->resource = mk_resource(a, r);
        rs->schema_url = "https://opentelemetry.io/schemas/1.26.0";
        int ns = nscope + (empty_scope ? 1 : 0);
        rs->n_scope_spans = (size_t)ns;
        rs->scope_spans = arena_alloc(a, (size_t)ns * sizeof *rs->scope_spans);
        for (int s = 0; s < ns; s++) {
            ScopeSpans *ss = arena_alloc(a, sizeof *ss);
            opentelemetry__proto__trace__v1__scope_spans__init(ss);
            ss->scope = mk_scope(a, r, s);
            int np = s < nscope ? nspan : 0;
            ss->n_spans = (size_t)np;
            ss->spans = np ? arena_alloc(a, (size_t)np * sizeof *ss->spans) : NULL;
            for (int p = 0; p < np; p++) {
                Span *sp = arena_alloc(a, sizeof *sp);
                opentelemetry__proto__trace__v1__span__init(sp);
                sp->name = fmt(a, "r%ds%dp%d", r, s, p);
                sp->n_events = 2;
                sp->events = arena_alloc(a, 2 * sizeof *sp->events);
                for (int e = 0; e < 2; e++) {
                    Event *ev = arena_alloc(a, sizeof *ev);
                    opentelemetry__proto__trace__v1__span__event__init(ev);
                    ev->name = e ? "exception" : "start";
                    sp->events[e] = ev;
                }
                ss->spans[p] = sp;
            }
            rs->scope_spans[s] = ss;
        }
        req->resource_spans[r] = rs;
    }
    return req;
}

/* ---- visitors ---------------------------------------------------------------------------------- */

struct rec {
    int visits;
    int stop_after;                 /* 0: never */
    const char *drop_prefix;        /* drop items whose name starts with it */
    const char *drop_exact[8];      /* or one of these names */
    bool drop_all;
    bool parents_ok;                /* cleared when an item lacks a parent it must have */
    bool write_resource;            /* set resource.attributes["touched"] */
};

static const char *item_name(struct ottl_item *it)
{
    switch (it->ctx) {
    case OTTL_CTX_RESOURCE: return "";
    case OTTL_CTX_SCOPE: return it->scope ? it->scope->name : "";
    case OTTL_CTX_SPAN: return it->span->name;
    case OTTL_CTX_SPANEVENT: return it->event->name;
    case OTTL_CTX_METRIC: return it->metric->name;
    case OTTL_CTX_DATAPOINT: return it->metric->name;
    case OTTL_CTX_LOG: return it->log->severity_text;
    default: return "";
    }
}

static enum ottl_visit visitor(struct ottl_item *it, void *ud)
{
    struct rec *r = ud;
    r->visits++;
    if (!it->resource || !it->resource_schema_url || !it->arena || it->cache || it->n_cache)
        r->parents_ok = false;
    if (it->ctx != OTTL_CTX_RESOURCE && (!it->scope || !it->scope_schema_url))
        r->parents_ok = false;
    if (it->ctx == OTTL_CTX_SPANEVENT && (!it->span || !it->event))
        r->parents_ok = false;
    if (it->ctx == OTTL_CTX_DATAPOINT && (!it->metric || !it->datapoint))
        r->parents_ok = false;
    if (r->write_resource) {
        const char *names[] = { "resource", "attributes" };
        struct error err = { 0 };
        struct ottl_path *p = ottl_path_compile(it->ctx, names, 2, 1, &err);
        assert_non_null(p);
        struct ottl_key k = { .s = "touched", .n = 7 };
        struct ottl_value v = { .t = OTTL_V_BOOL, .b = true };
        assert_int_equal(ottl_path_set(p, &k, 1, it, &v, &err), 0);
        ottl_path_free(p);
    }
    if (r->stop_after && r->visits >= r->stop_after)
        return OTTL_VISIT_STOP;
    const char *n = item_name(it);
    if (r->drop_all)
        return OTTL_VISIT_DROP;
    if (r->drop_prefix && n && strncmp(n, r->drop_prefix, strlen(r->drop_prefix)) == 0)
        return OTTL_VISIT_DROP;
    for (int i = 0; i < 8 && r->drop_exact[i]; i++)
        if (n && strcmp(n, r->drop_exact[i]) == 0)
            return OTTL_VISIT_DROP;
    return OTTL_VISIT_KEEP;
}

static struct rec rec_new(void)
{
    struct rec r;
    memset(&r, 0, sizeof r);
    r.parents_ok = true;
    return r;
}

/* The request survives a pack / unpack round trip (arrays and counts consistent). */
static void assert_packs(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(m, buf), n);
    ProtobufCMessage *back = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
    assert_non_null(back);
    protobuf_c_message_free_unpacked(back, NULL);
    free(buf);
}

/* ---- traces ------------------------------------------------------------------------------------ */

static void test_spans_dropped_and_emptied_containers(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    /* 2 resources x (2 scopes of 2 spans + 1 scope arriving empty) */
    TraceReq *req = mk_traces(a, 2, 2, 2, true);
    struct rec r = rec_new();
    /* all of resource 0, and scope 0 of resource 1 */
    r.drop_prefix = "r0";
    r.drop_exact[0] = "r1s0p0";
    r.drop_exact[1] = "r1s0p1";
    long n = ottl_walk(&req->base, OTTL_CTX_SPAN, a, visitor, &r);
    assert_int_equal(n, 6);
    assert_int_equal(r.visits, 8);
    assert_true(r.parents_ok);
    /* scopes emptied by drops are gone; a scope that arrived empty stays, and so does the
     * resource that still holds it */
    assert_int_equal(req->n_resource_spans, 2);
    ResourceSpans *rs0 = req->resource_spans[0];
    assert_int_equal(rs0->n_scope_spans, 1);
    assert_string_equal(rs0->scope_spans[0]->scope->name, "r0s2");
    ResourceSpans *rs = req->resource_spans[1];
    assert_int_equal(rs->n_scope_spans, 2);
    assert_string_equal(rs->scope_spans[0]->scope->name, "r1s1");
    assert_int_equal(rs->scope_spans[0]->n_spans, 2);
    assert_string_equal(rs->scope_spans[0]->spans[1]->name, "r1s1p1");
    assert_string_equal(rs->scope_spans[1]->scope->name, "r1s2");
    assert_int_equal(rs->scope_spans[1]->n_spans, 0);
    assert_packs(&req->base);

    /* without scopes that arrived empty, a resource whose spans all go is removed */
    TraceReq *req2 = mk_traces(a, 2, 2, 1, false);
    struct rec r2 = rec_new();
    r2.drop_prefix = "r1";
    assert_int_equal(ottl_walk(&req2->base, OTTL_CTX_SPAN, a, visitor, &r2), 2);
    assert_int_equal(req2->n_resource_spans, 1);
    assert_int_equal(req2->resource_spans[0]->n_scope_spans, 2);
    assert_packs(&req->base);
    arena_free(a);
}

static void test_resource_with_only_empty_scopes_stays(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    TraceReq *req = mk_traces(a, 1, 0, 0, true);   /* one resource, one empty scope */
    struct rec r = rec_new();
    r.drop_all = true;
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_SPAN, a, visitor, &r), 0);
    assert_int_equal(r.visits, 0);
    assert_int_equal(req->n_resource_spans, 1);
    assert_int_equal(req->resource_spans[0]->n_scope_spans, 1);
    arena_free(a);
}

static void test_span_events(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    TraceReq *req = mk_traces(a, 1, 1, 3, false);
    struct rec r = rec_new();
    r.drop_exact[0] = "exception";
    long n = ottl_walk(&req->base, OTTL_CTX_SPANEVENT, a, visitor, &r);
    assert_int_equal(n, 3);
    assert_int_equal(r.visits, 6);
    assert_true(r.parents_ok);
    ScopeSpans *ss = req->resource_spans[0]->scope_spans[0];
    assert_int_equal(ss->n_spans, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(ss->spans[i]->n_events, 1);
        assert_string_equal(ss->spans[i]->events[0]->name, "start");
    }
    /* dropping every event leaves the spans (a span is not a container of events here) */
    r = rec_new();
    r.drop_all = true;
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_SPANEVENT, a, visitor, &r), 3);
    assert_int_equal(ss->n_spans, 3);
    assert_int_equal(ss->spans[0]->n_events, 0);
    assert_int_equal(req->n_resource_spans, 1);
    assert_packs(&req->base);
    arena_free(a);
}

static void test_resource_and_scope_visited_once(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    TraceReq *req = mk_traces(a, 3, 2, 4, false);
    struct rec r = rec_new();
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_RESOURCE, a, visitor, &r), 0);
    assert_int_equal(r.visits, 3);
    r = rec_new();
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_SCOPE, a, visitor, &r), 0);
    assert_int_equal(r.visits, 6);
    assert_true(r.parents_ok);

    /* dropping scopes: a resource left with none goes */
    r = rec_new();
    r.drop_prefix = "r1";
    r.drop_exact[0] = "r2s0";
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_SCOPE, a, visitor, &r), 3);
    assert_int_equal(req->n_resource_spans, 2);
    assert_int_equal(req->resource_spans[1]->n_scope_spans, 1);
    assert_string_equal(req->resource_spans[1]->scope_spans[0]->scope->name, "r2s1");

    /* dropping a resource */
    r = rec_new();
    r.stop_after = 0;
    r.drop_all = true;
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_RESOURCE, a, visitor, &r), 2);
    assert_int_equal(req->n_resource_spans, 0);
    assert_packs(&req->base);
    arena_free(a);
}

static void test_stop(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    TraceReq *req = mk_traces(a, 2, 1, 3, false);
    struct rec r = rec_new();
    r.drop_all = true;
    r.stop_after = 3;   /* drops 2 spans, then stops on the third */
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_SPAN, a, visitor, &r), -1);
    assert_int_equal(r.visits, 3);
    assert_int_equal(req->n_resource_spans, 2);
    ScopeSpans *ss = req->resource_spans[0]->scope_spans[0];
    assert_int_equal(ss->n_spans, 1);
    assert_string_equal(ss->spans[0]->name, "r0s0p2");
    assert_int_equal(req->resource_spans[1]->scope_spans[0]->n_spans, 3);
    assert_packs(&req->base);
    arena_free(a);
}

static void test_absent_resource_and_scope(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    TraceReq *req = mk_traces(a, 2, 1, 1, false);
    req->resource_spans[0]->resource = NULL;
    req->resource_spans[0]->scope_spans[0]->scope = NULL;
    req->resource_spans[1]->resource = NULL;
    struct rec r = rec_new();
    /* read-only: nothing is attached */
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_SPAN, a, visitor, &r), 0);
    assert_true(r.parents_ok);
    assert_null(req->resource_spans[0]->resource);
    assert_null(req->resource_spans[0]->scope_spans[0]->scope);
    /* a write into the stand-in resource attaches it */
    r = rec_new();
    r.write_resource = true;
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_SPAN, a, visitor, &r), 0);
    for (int i = 0; i < 2; i++) {
        Opentelemetry__Proto__Resource__V1__Resource *res = req->resource_spans[i]->resource;
        assert_non_null(res);
        assert_int_equal(res->n_attributes, 1);
        assert_string_equal(res->attributes[0]->key, "touched");
    }
    assert_null(req->resource_spans[0]->scope_spans[0]->scope);
    assert_packs(&req->base);
    arena_free(a);
}

static void test_wrong_context(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    TraceReq *req = mk_traces(a, 1, 1, 1, false);
    struct rec r = rec_new();
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_LOG, a, visitor, &r), -1);
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_DATAPOINT, a, visitor, &r), -1);
    assert_int_equal(r.visits, 0);
    /* a message that is no export request */
    Opentelemetry__Proto__Trace__V1__Span s = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
    assert_int_equal(ottl_walk(&s.base, OTTL_CTX_SPAN, a, visitor, &r), -1);
    arena_free(a);
}

/* ---- metrics ----------------------------------------------------------------------------------- */

typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;

static Metric *mk_gauge(struct arena *a, const char *name, int npoints)
{
    Metric *m = arena_alloc(a, sizeof *m);
    opentelemetry__proto__metrics__v1__metric__init(m);
    m->name = (char *)name;
    Opentelemetry__Proto__Metrics__V1__Gauge *g = arena_alloc(a, sizeof *g);
    opentelemetry__proto__metrics__v1__gauge__init(g);
    g->n_data_points = (size_t)npoints;
    g->data_points = npoints ? arena_alloc(a, (size_t)npoints * sizeof *g->data_points) : NULL;
    for (int i = 0; i < npoints; i++) {
        Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp = arena_alloc(a, sizeof *dp);
        opentelemetry__proto__metrics__v1__number_data_point__init(dp);
        dp->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        dp->as_int = i;
        g->data_points[i] = dp;
    }
    m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
    m->gauge = g;
    return m;
}

static Metric *mk_histogram(struct arena *a, const char *name, int npoints)
{
    Metric *m = arena_alloc(a, sizeof *m);
    opentelemetry__proto__metrics__v1__metric__init(m);
    m->name = (char *)name;
    Opentelemetry__Proto__Metrics__V1__Histogram *h = arena_alloc(a, sizeof *h);
    opentelemetry__proto__metrics__v1__histogram__init(h);
    h->n_data_points = (size_t)npoints;
    h->data_points = arena_alloc(a, (size_t)npoints * sizeof *h->data_points);
    for (int i = 0; i < npoints; i++) {
        Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *dp = arena_alloc(a, sizeof *dp);
        opentelemetry__proto__metrics__v1__histogram_data_point__init(dp);
        dp->count = (uint64_t)i;
        h->data_points[i] = dp;
    }
    m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
    m->histogram = h;
    return m;
}

static MetricReq *mk_metrics(struct arena *a, Metric **ms, size_t n)
{
    MetricReq *req = arena_alloc(a, sizeof *req);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(req);
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = arena_alloc(a, sizeof *rm);
    opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
    rm->resource = mk_resource(a, 0);
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = arena_alloc(a, sizeof *sm);
    opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
    sm->scope = mk_scope(a, 0, 0);
    sm->metrics = arena_memdup(a, ms, n * sizeof *ms);
    sm->n_metrics = n;
    rm->scope_metrics = arena_alloc(a, sizeof *rm->scope_metrics);
    rm->scope_metrics[0] = sm;
    rm->n_scope_metrics = 1;
    req->resource_metrics = arena_alloc(a, sizeof *req->resource_metrics);
    req->resource_metrics[0] = rm;
    req->n_resource_metrics = 1;
    return req;
}

static enum ottl_visit drop_even_points(struct ottl_item *it, void *ud)
{
    int *visits = ud;
    (*visits)++;
    if (it->metric->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE) {
        Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp = it->datapoint;
        return dp->as_int % 2 == 0 ? OTTL_VISIT_DROP : OTTL_VISIT_KEEP;
    }
    Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *hp = it->datapoint;
    return hp->count % 2 == 0 ? OTTL_VISIT_DROP : OTTL_VISIT_KEEP;
}

static void test_datapoints(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    Metric *ms[4] = { mk_gauge(a, "g3", 3), mk_gauge(a, "g1", 1), mk_histogram(a, "h2", 2),
                      mk_gauge(a, "empty", 0) };
    MetricReq *req = mk_metrics(a, ms, 4);
    int visits = 0;
    /* drops points 0 and 2 of g3, point 0 of g1 (emptied: metric goes), point 0 of h2 */
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_DATAPOINT, a, drop_even_points, &visits), 4);
    assert_int_equal(visits, 6);
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = req->resource_metrics[0]->scope_metrics[0];
    assert_int_equal(sm->n_metrics, 3);
    assert_string_equal(sm->metrics[0]->name, "g3");
    assert_int_equal(sm->metrics[0]->gauge->n_data_points, 1);
    assert_int_equal(sm->metrics[0]->gauge->data_points[0]->as_int, 1);
    assert_string_equal(sm->metrics[1]->name, "h2");
    assert_int_equal(sm->metrics[1]->histogram->n_data_points, 1);
    assert_string_equal(sm->metrics[2]->name, "empty");   /* arrived empty: stays */
    assert_packs(&req->base);

    /* metric level: dropping all but the empty one keeps scope and resource */
    struct rec r = rec_new();
    r.drop_prefix = "g";
    r.drop_exact[0] = "h2";
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_METRIC, a, visitor, &r), 2);
    assert_true(r.parents_ok);
    assert_int_equal(sm->n_metrics, 1);
    /* and dropping that one empties the scope and the resource */
    r = rec_new();
    r.drop_all = true;
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_METRIC, a, visitor, &r), 1);
    assert_int_equal(req->n_resource_metrics, 0);
    assert_packs(&req->base);
    arena_free(a);
}

static void test_datapoint_parents(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    Metric *ms[2] = { mk_gauge(a, "g", 2), mk_histogram(a, "h", 2) };
    MetricReq *req = mk_metrics(a, ms, 2);
    struct rec r = rec_new();
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_DATAPOINT, a, visitor, &r), 0);
    assert_int_equal(r.visits, 4);
    assert_true(r.parents_ok);
    arena_free(a);
}

/* ---- logs -------------------------------------------------------------------------------------- */

static void test_logs(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    LogReq *req = arena_alloc(a, sizeof *req);
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(req);
    req->n_resource_logs = 2;
    req->resource_logs = arena_alloc(a, 2 * sizeof *req->resource_logs);
    const char *sev[2][3] = { { "DEBUG", "INFO", "DEBUG" }, { "DEBUG", "DEBUG", "DEBUG" } };
    for (int r = 0; r < 2; r++) {
        Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = arena_alloc(a, sizeof *rl);
        opentelemetry__proto__logs__v1__resource_logs__init(rl);
        rl->resource = mk_resource(a, r);
        Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = arena_alloc(a, sizeof *sl);
        opentelemetry__proto__logs__v1__scope_logs__init(sl);
        sl->scope = mk_scope(a, r, 0);
        sl->n_log_records = 3;
        sl->log_records = arena_alloc(a, 3 * sizeof *sl->log_records);
        for (int i = 0; i < 3; i++) {
            Opentelemetry__Proto__Logs__V1__LogRecord *l = arena_alloc(a, sizeof *l);
            opentelemetry__proto__logs__v1__log_record__init(l);
            l->severity_text = (char *)sev[r][i];
            sl->log_records[i] = l;
        }
        rl->n_scope_logs = 1;
        rl->scope_logs = arena_alloc(a, sizeof *rl->scope_logs);
        rl->scope_logs[0] = sl;
        req->resource_logs[r] = rl;
    }
    struct rec r = rec_new();
    r.drop_exact[0] = "DEBUG";
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_LOG, a, visitor, &r), 5);
    assert_int_equal(r.visits, 6);
    assert_true(r.parents_ok);
    assert_int_equal(req->n_resource_logs, 1);
    assert_int_equal(req->resource_logs[0]->scope_logs[0]->n_log_records, 1);
    assert_string_equal(req->resource_logs[0]->scope_logs[0]->log_records[0]->severity_text, "INFO");
    assert_packs(&req->base);

    r = rec_new();
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_SCOPE, a, visitor, &r), 0);
    assert_int_equal(r.visits, 1);
    assert_int_equal(ottl_walk(&req->base, OTTL_CTX_SPAN, a, visitor, &r), -1);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spans_dropped_and_emptied_containers),
        cmocka_unit_test(test_resource_with_only_empty_scopes_stays),
        cmocka_unit_test(test_span_events),
        cmocka_unit_test(test_resource_and_scope_visited_once),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_absent_resource_and_scope),
        cmocka_unit_test(test_wrong_context),
        cmocka_unit_test(test_datapoints),
        cmocka_unit_test(test_datapoint_parents),
        cmocka_unit_test(test_logs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
