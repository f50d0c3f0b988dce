/* walk.c — visiting every item of one context in a decoded export request, with its parents,
 * and removing the items a visit drops, as the Collector's filter processor does with RemoveIf.
 *
 * The one idea: each array of the request is compacted in place with a read and a write index
 * while it is walked, so a drop costs no allocation and no second pass; a container (scope,
 * resource, metric) is removed only when the walk emptied it, never because it arrived empty,
 * which is what RemoveIf over the children followed by RemoveIf over empty parents does in the
 * Collector for data that had children. A resource or scope absent from the data is visited as
 * an empty one on the stack and attached (in the arena) only if a statement wrote into it, so a
 * read-only walk never writes to a shared request.
 *
 * Metrics appended to a scope during a walk (extract_sum_metric, copy_metric, ...) are visited
 * too, after the others, because the compaction loop reads the array's live length: appends only
 * go at the end, past the read index, so compacting and growing never meet. */
#include <string.h>

#include "core/ottl/ottl_internal.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;

#define MD(x) OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_##x

/* The metric list of the scope being walked: the ScopeMetrics, the capacity of its array (grown
 * in the arena by doubling) and how many metrics this walk appended to it. */
struct ottl_metric_list {
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm;
    struct arena *arena;
    size_t cap;
    size_t appended;
};

struct walker {
    enum ottl_context ctx;
    struct arena *arena;
    ottl_visit_fn fn;
    void *ud;
    long dropped;
    bool stop;
    struct ottl_item it;      /* parents filled in as the walk descends */
    Resource tmp_resource;
    Scope tmp_scope;
    struct ottl_metric_list ml;
};

/* Visits the current item; true when it is to be dropped. */
static bool visit(struct walker *w)
{
    struct ottl_item item = w->it;
    item.ctx = w->ctx;
    item.cache = NULL;
    item.n_cache = 0;
    item.arena = w->arena;
    enum ottl_visit v = w->fn(&item, w->ud);
    if (v == OTTL_VISIT_STOP) {
        w->stop = true;
        return false;
    }
    if (v == OTTL_VISIT_DROP) {
        w->dropped++;
        return true;
    }
    return false;
}

static void enter_resource(struct walker *w, Resource *r, char **schema_url)
{
    if (!r) {
        opentelemetry__proto__resource__v1__resource__init(&w->tmp_resource);
        r = &w->tmp_resource;
    }
    w->it.resource = r;
    w->it.resource_schema_url = schema_url;
}

/* Attaches the stand-in resource when a statement wrote into it. */
static void leave_resource(struct walker *w, Resource **slot)
{
    Resource *t = &w->tmp_resource;
    if (*slot || w->it.resource != t)
        return;
    if (t->n_attributes || t->dropped_attributes_count)
        *slot = arena_memdup(w->arena, t, sizeof *t);
}

static void enter_scope(struct walker *w, Scope *s, char **schema_url)
{
    if (!s) {
        opentelemetry__proto__common__v1__instrumentation_scope__init(&w->tmp_scope);
        s = &w->tmp_scope;
    }
    w->it.scope = s;
    w->it.scope_schema_url = schema_url;
}

static void leave_scope(struct walker *w, Scope **slot)
{
    Scope *t = &w->tmp_scope;
    if (*slot || w->it.scope != t)
        return;
    if (t->n_attributes || t->dropped_attributes_count || (t->name && t->name[0]) ||
        (t->version && t->version[0]))
        *slot = arena_memdup(w->arena, t, sizeof *t);
}

/* Compacts ARR[0..*NP) keeping the elements for which KEEP_EXPR (with `e` the element) is true;
 * once the walk stopped, the rest is kept untouched. *NP and ARR are read again at each step:
 * KEEP_EXPR may append to the array (a metric list), and what it appends is walked too. Nothing
 * is stored while nothing was dropped, so a read-only walk (filter's first pass over a shared
 * batch) never writes to the request other threads may be reading. */
#define COMPACT(TYPE, ARR, NP, KEEP_EXPR)                                                   \
    do {                                                                                    \
        size_t w_ = 0;                                                                      \
        for (size_t r_ = 0; r_ < *(NP); r_++) {                                             \
            TYPE *e = (ARR)[r_];                                                            \
            if (w->stop || !e || (KEEP_EXPR)) {                                             \
                if (w_ != r_)                                                               \
                    (ARR)[w_] = e;                                                          \
                w_++;                                                                       \
            }                                                                               \
        }                                                                                   \
        if (w_ != *(NP))                                                                    \
            *(NP) = w_;                                                                     \
    } while (0)

/* ---- traces ---------------------------------------------------------------------------------- */

static bool keep_span(struct walker *w, Opentelemetry__Proto__Trace__V1__Span *s)
{
    w->it.span = s;
    if (w->ctx == OTTL_CTX_SPAN)
        return !visit(w);
    /* spanevent: the span stays whatever happens to its events */
    COMPACT(Opentelemetry__Proto__Trace__V1__Span__Event, s->events, &s->n_events,
            (w->it.event = e, !visit(w)));
    w->it.event = NULL;
    return true;
}

static bool keep_scope_spans(struct walker *w, Opentelemetry__Proto__Trace__V1__ScopeSpans *ss)
{
    enter_scope(w, ss->scope, &ss->schema_url);
    bool keep = true;
    if (w->ctx == OTTL_CTX_SCOPE) {
        keep = !visit(w);
    } else {
        size_t had = ss->n_spans;
        COMPACT(Opentelemetry__Proto__Trace__V1__Span, ss->spans, &ss->n_spans, keep_span(w, e));
        keep = !(had > 0 && ss->n_spans == 0);
    }
    leave_scope(w, &ss->scope);
    return keep;
}

static bool keep_resource_spans(struct walker *w,
                                Opentelemetry__Proto__Trace__V1__ResourceSpans *rs)
{
    enter_resource(w, rs->resource, &rs->schema_url);
    bool keep = true;
    if (w->ctx == OTTL_CTX_RESOURCE) {
        keep = !visit(w);
    } else {
        size_t had = rs->n_scope_spans;
        COMPACT(Opentelemetry__Proto__Trace__V1__ScopeSpans, rs->scope_spans, &rs->n_scope_spans,
                keep_scope_spans(w, e));
        keep = !(had > 0 && rs->n_scope_spans == 0);
    }
    leave_resource(w, &rs->resource);
    return keep;
}

/* ---- metrics --------------------------------------------------------------------------------- */

#define DP_COMPACT(TYPE, HOLDER)                                                            \
    do {                                                                                    \
        if (!(HOLDER))                                                                      \
            return true;                                                                    \
        had = (HOLDER)->n_data_points;                                                      \
        COMPACT(TYPE, (HOLDER)->data_points, &(HOLDER)->n_data_points,                      \
                (w->it.datapoint = e, !visit(w)));                                          \
        left = (HOLDER)->n_data_points;                                                     \
    } while (0)

static bool keep_metric(struct walker *w, Opentelemetry__Proto__Metrics__V1__Metric *m)
{
    w->it.metric = m;
    if (w->ctx == OTTL_CTX_METRIC)
        return !visit(w);
    size_t had = 0, left = 0;
    switch (m->data_case) {
    case MD(GAUGE): DP_COMPACT(Opentelemetry__Proto__Metrics__V1__NumberDataPoint, m->gauge); break;
    case MD(SUM): DP_COMPACT(Opentelemetry__Proto__Metrics__V1__NumberDataPoint, m->sum); break;
    case MD(HISTOGRAM):
        DP_COMPACT(Opentelemetry__Proto__Metrics__V1__HistogramDataPoint, m->histogram);
        break;
    case MD(EXPONENTIAL_HISTOGRAM):
        DP_COMPACT(Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint,
                   m->exponential_histogram);
        break;
    case MD(SUMMARY):
        DP_COMPACT(Opentelemetry__Proto__Metrics__V1__SummaryDataPoint, m->summary);
        break;
    default:
        break;
    }
    w->it.datapoint = NULL;
    return !(had > 0 && left == 0);
}

static bool keep_scope_metrics(struct walker *w,
                               Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm)
{
    enter_scope(w, sm->scope, &sm->schema_url);
    bool keep = true;
    if (w->ctx == OTTL_CTX_SCOPE) {
        keep = !visit(w);
    } else {
        size_t had = sm->n_metrics;
        w->ml = (struct ottl_metric_list){.sm = sm, .arena = w->arena, .cap = sm->n_metrics};
        w->it.metrics = &w->ml;
        COMPACT(Opentelemetry__Proto__Metrics__V1__Metric, sm->metrics, &sm->n_metrics,
                keep_metric(w, e));
        w->it.metrics = NULL;
        keep = !(had > 0 && sm->n_metrics == 0);
    }
    w->it.metric = NULL;
    leave_scope(w, &sm->scope);
    return keep;
}

static bool keep_resource_metrics(struct walker *w,
                                  Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm)
{
    enter_resource(w, rm->resource, &rm->schema_url);
    bool keep = true;
    if (w->ctx == OTTL_CTX_RESOURCE) {
        keep = !visit(w);
    } else {
        size_t had = rm->n_scope_metrics;
        COMPACT(Opentelemetry__Proto__Metrics__V1__ScopeMetrics, rm->scope_metrics,
                &rm->n_scope_metrics, keep_scope_metrics(w, e));
        keep = !(had > 0 && rm->n_scope_metrics == 0);
    }
    leave_resource(w, &rm->resource);
    return keep;
}

/* ---- logs ------------------------------------------------------------------------------------ */

static bool keep_scope_logs(struct walker *w, Opentelemetry__Proto__Logs__V1__ScopeLogs *sl)
{
    enter_scope(w, sl->scope, &sl->schema_url);
    bool keep = true;
    if (w->ctx == OTTL_CTX_SCOPE) {
        keep = !visit(w);
    } else {
        size_t had = sl->n_log_records;
        COMPACT(Opentelemetry__Proto__Logs__V1__LogRecord, sl->log_records, &sl->n_log_records,
                (w->it.log = e, !visit(w)));
        w->it.log = NULL;
        keep = !(had > 0 && sl->n_log_records == 0);
    }
    leave_scope(w, &sl->scope);
    return keep;
}

static bool keep_resource_logs(struct walker *w, Opentelemetry__Proto__Logs__V1__ResourceLogs *rl)
{
    enter_resource(w, rl->resource, &rl->schema_url);
    bool keep = true;
    if (w->ctx == OTTL_CTX_RESOURCE) {
        keep = !visit(w);
    } else {
        size_t had = rl->n_scope_logs;
        COMPACT(Opentelemetry__Proto__Logs__V1__ScopeLogs, rl->scope_logs, &rl->n_scope_logs,
                keep_scope_logs(w, e));
        keep = !(had > 0 && rl->n_scope_logs == 0);
    }
    leave_resource(w, &rl->resource);
    return keep;
}

/* ---- entry ----------------------------------------------------------------------------------- */

long ottl_walk(ProtobufCMessage *req, enum ottl_context ctx, struct arena *arena, ottl_visit_fn fn,
               void *ud)
{
    if (!req || !fn || ctx >= OTTL_CTX_COUNT)
        return -1;
    struct walker wk;
    memset(&wk, 0, sizeof wk);
    struct walker *w = &wk;
    w->ctx = ctx;
    w->arena = arena;
    w->fn = fn;
    w->ud = ud;

    const ProtobufCMessageDescriptor *d = req->descriptor;
    if (d == &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor) {
        if (ctx != OTTL_CTX_RESOURCE && ctx != OTTL_CTX_SCOPE && ctx != OTTL_CTX_SPAN &&
            ctx != OTTL_CTX_SPANEVENT)
            return -1;
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r = (void *)req;
        COMPACT(Opentelemetry__Proto__Trace__V1__ResourceSpans, r->resource_spans,
                &r->n_resource_spans, keep_resource_spans(w, e));
    } else if (d == &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor) {
        if (ctx != OTTL_CTX_RESOURCE && ctx != OTTL_CTX_SCOPE && ctx != OTTL_CTX_METRIC &&
            ctx != OTTL_CTX_DATAPOINT)
            return -1;
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r = (void *)req;
        COMPACT(Opentelemetry__Proto__Metrics__V1__ResourceMetrics, r->resource_metrics,
                &r->n_resource_metrics, keep_resource_metrics(w, e));
    } else if (d == &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor) {
        if (ctx != OTTL_CTX_RESOURCE && ctx != OTTL_CTX_SCOPE && ctx != OTTL_CTX_LOG)
            return -1;
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r = (void *)req;
        COMPACT(Opentelemetry__Proto__Logs__V1__ResourceLogs, r->resource_logs,
                &r->n_resource_logs, keep_resource_logs(w, e));
    } else {
        return -1;
    }
    return w->stop ? -1 : w->dropped;
}

int ottl_item_append_metric(struct ottl_item *it, Opentelemetry__Proto__Metrics__V1__Metric *m,
                            struct error *err)
{
    struct ottl_metric_list *l = it->metrics;
    if (!l || !l->arena)
        return error_set(err, "no metric list to add a metric to (not a metric walk)");
    if (l->appended >= OTTL_MAX_APPENDED_METRICS)
        return error_set(err, "too many metrics added to one scope in one walk (at most %d): "
                              "does a statement add a metric for every metric it sees, its own "
                              "additions included? give it a where clause",
                         OTTL_MAX_APPENDED_METRICS);
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = l->sm;
    if (sm->n_metrics + 1 > l->cap) {
        size_t cap = l->cap < 4 ? 8 : l->cap * 2;
        Opentelemetry__Proto__Metrics__V1__Metric **a = arena_alloc(l->arena, cap * sizeof *a);
        if (!a)
            return error_set(err, "out of memory");
        if (sm->n_metrics)
            memcpy(a, sm->metrics, sm->n_metrics * sizeof *a);
        sm->metrics = a;
        l->cap = cap;
    }
    sm->metrics[sm->n_metrics++] = m;
    l->appended++;
    return 0;
}
