/* lb_split.c — cutting one request into one request per backend, by routing key, as the
 * Collector's loadbalancing exporter does (traces and logs: by trace ID or service.name; metrics:
 * by service.name, resource identity, metric name or stream identity — the last one per data
 * point, so one metric's points may go to several backends).
 *
 * The one idea: route every item first (one ring lookup each); when all land on one backend the
 * request goes there as it arrived, bytes untouched. Otherwise each backend's request is a
 * shallow view of the decoded one (resources and scopes copied by value, their item arrays
 * filtered to that backend's items, everything else shared) packed straight to wire bytes, so
 * an item appears in exactly one part and keeps its resource and scope. */
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "exporters/loadbalancing/loadbalancing.h"

#define ROUTE_DROPPED (-2)

void lb_parts_free(struct lb_part *parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (parts[i].batch)
            batch_unref(parts[i].batch);
    free(parts);
}

/* service.name of a resource, or NULL. */
static const char *service_name(const Opentelemetry__Proto__Resource__V1__Resource *res)
{
    if (!res)
        return NULL;
    for (size_t i = 0; i < res->n_attributes; i++) {
        const Opentelemetry__Proto__Common__V1__KeyValue *kv = res->attributes[i];
        if (kv && kv->key && strcmp(kv->key, "service.name") == 0 && kv->value &&
            kv->value->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
            return kv->value->string_value;
    }
    return NULL;
}

static int route_str(const struct lb_ring *r, const char *s)
{
    return s ? lb_ring_lookup(r, (const uint8_t *)s, strlen(s)) : ROUTE_DROPPED;
}

/* The Collector hashes a pdata TraceID: always 16 bytes (zeros when the field is empty). */
static int route_trace_id(const struct lb_ring *r, ProtobufCBinaryData id, bool random_if_empty)
{
    static const uint8_t zero[16];
    const uint8_t *k = id.len == 16 ? id.data : zero;
    if (random_if_empty && memcmp(k, zero, 16) == 0) {
        /* as the Collector's logs: a record without a trace ID goes to a random backend */
        uint8_t rnd[16] = {0};
        long v = random();
        memcpy(rnd, &v, 4);
        return lb_ring_lookup(r, rnd, 16);
    }
    return lb_ring_lookup(r, k, 16);
}

struct routes {
    int *ep;           /* per item, in traversal order */
    size_t n;
    int n_endpoints;   /* max endpoint index + 1 */
    uint64_t dropped;  /* items routed ROUTE_DROPPED */
};

static int finish(struct batch *b, struct routes *rt, const uint8_t *(*pack_for)(void *, int, size_t *, uint64_t *, struct error *),
                  void *ctx, struct lb_part **parts, size_t *n_parts, struct error *err);

/* One generator per signal: the three requests have the same shape (request → resource entries →
 * scope entries → items), only names differ. KEYFN(res_entry, scope_entry, item) gives the
 * endpoint of one item. */
#define LB_SPLIT_SIGNAL(NAME, REQ, REQ_INIT, RES, SCOPE, ITEM, RFIELD, SFIELD, IFIELD)             \
    struct NAME##_ctx {                                                                            \
        const REQ *req;                                                                            \
        const int *ep;                                                                             \
    };                                                                                             \
    static const uint8_t *NAME##_pack(void *p, int e, size_t *len, uint64_t *items,               \
                                      struct error *err)                                           \
    {                                                                                              \
        struct NAME##_ctx *c = p;                                                                  \
        const REQ *req = c->req;                                                                   \
        struct arena *a = arena_new(4096);                                                         \
        if (!a) {                                                                                  \
            error_set(err, "out of memory");                                                       \
            return NULL;                                                                           \
        }                                                                                          \
        REQ out = REQ_INIT;                                                                        \
        RES **rs = arena_alloc(a, (req->n_##RFIELD + 1) * sizeof *rs);                             \
        size_t k = 0, nrs = 0;                                                                     \
        bool oom = !rs;                                                                            \
        for (size_t i = 0; !oom && i < req->n_##RFIELD; i++) {                                     \
            const RES *r = req->RFIELD[i];                                                         \
            SCOPE **ss = arena_alloc(a, (r->n_##SFIELD + 1) * sizeof *ss);                         \
            size_t nss = 0;                                                                        \
            oom = !ss;                                                                             \
            for (size_t j = 0; !oom && j < r->n_##SFIELD; j++) {                                   \
                const SCOPE *s = r->SFIELD[j];                                                     \
                ITEM **it = arena_alloc(a, (s->n_##IFIELD + 1) * sizeof *it);                      \
                size_t nit = 0;                                                                    \
                oom = !it;                                                                         \
                for (size_t m = 0; !oom && m < s->n_##IFIELD; m++, k++)                            \
                    if (c->ep[k] == e)                                                             \
                        it[nit++] = s->IFIELD[m];                                                  \
                if (oom || !nit)                                                                   \
                    continue;                                                                      \
                SCOPE *sc = arena_memdup(a, s, sizeof *s);                                         \
                oom = !sc;                                                                         \
                if (sc) {                                                                          \
                    sc->n_##IFIELD = nit;                                                          \
                    sc->IFIELD = it;                                                               \
                    ss[nss++] = sc;                                                                \
                }                                                                                  \
            }                                                                                      \
            if (oom || !nss)                                                                       \
                continue;                                                                          \
            RES *rc = arena_memdup(a, r, sizeof *r);                                               \
            oom = !rc;                                                                             \
            if (rc) {                                                                              \
                rc->n_##SFIELD = nss;                                                              \
                rc->SFIELD = ss;                                                                   \
                rs[nrs++] = rc;                                                                    \
            }                                                                                      \
        }                                                                                          \
        uint8_t *buf = NULL;                                                                       \
        if (!oom) {                                                                                \
            out.n_##RFIELD = nrs;                                                                  \
            out.RFIELD = rs;                                                                       \
            *len = protobuf_c_message_get_packed_size(&out.base);                                  \
            buf = malloc(*len ? *len : 1);                                                         \
            if (buf) {                                                                             \
                protobuf_c_message_pack(&out.base, buf);                                           \
                *items = otlp_count_items(signal_of_##NAME, &out.base);                            \
            }                                                                                      \
        }                                                                                          \
        arena_free(a);                                                                             \
        if (!buf)                                                                                  \
            error_set(err, "out of memory");                                                       \
        return buf;                                                                                \
    }

#define signal_of_traces SIGNAL_TRACES
#define signal_of_logs SIGNAL_LOGS
#define signal_of_metrics SIGNAL_METRICS

LB_SPLIT_SIGNAL(traces, Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest,
                OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT,
                Opentelemetry__Proto__Trace__V1__ResourceSpans,
                Opentelemetry__Proto__Trace__V1__ScopeSpans, Opentelemetry__Proto__Trace__V1__Span,
                resource_spans, scope_spans, spans)
LB_SPLIT_SIGNAL(logs, Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest,
                OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT,
                Opentelemetry__Proto__Logs__V1__ResourceLogs,
                Opentelemetry__Proto__Logs__V1__ScopeLogs,
                Opentelemetry__Proto__Logs__V1__LogRecord, resource_logs, scope_logs, log_records)
LB_SPLIT_SIGNAL(metrics, Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest,
                OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT,
                Opentelemetry__Proto__Metrics__V1__ResourceMetrics,
                Opentelemetry__Proto__Metrics__V1__ScopeMetrics,
                Opentelemetry__Proto__Metrics__V1__Metric, resource_metrics, scope_metrics, metrics)

/* ---- metrics by stream: one route per data point ---- */

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest metrics_req;
typedef Opentelemetry__Proto__Metrics__V1__Metric metric_t;
typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;

/* The data points of m (NULL, 0 for a metric without data). */
static void **dp_list(const metric_t *m, size_t *n)
{
    *n = 0;
#define DP_CASE(CASE, F)                                                                           \
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_##CASE:                                   \
        if (!m->F)                                                                                 \
            return NULL;                                                                           \
        *n = m->F->n_data_points;                                                                  \
        return (void **)m->F->data_points;
    switch (m->data_case) {
        DP_CASE(GAUGE, gauge)
        DP_CASE(SUM, sum)
        DP_CASE(HISTOGRAM, histogram)
        DP_CASE(EXPONENTIAL_HISTOGRAM, exponential_histogram)
        DP_CASE(SUMMARY, summary)
    default:
        return NULL;
    }
#undef DP_CASE
}

static kv_t **dp_attrs(const metric_t *m, const void *dp, size_t *n)
{
#define DPA_CASE(CASE, TYPE)                                                                       \
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_##CASE:                                   \
        *n = ((const TYPE *)dp)->n_attributes;                                                     \
        return ((const TYPE *)dp)->attributes;
    switch (m->data_case) {
        DPA_CASE(GAUGE, Opentelemetry__Proto__Metrics__V1__NumberDataPoint)
        DPA_CASE(SUM, Opentelemetry__Proto__Metrics__V1__NumberDataPoint)
        DPA_CASE(HISTOGRAM, Opentelemetry__Proto__Metrics__V1__HistogramDataPoint)
        DPA_CASE(EXPONENTIAL_HISTOGRAM, Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint)
        DPA_CASE(SUMMARY, Opentelemetry__Proto__Metrics__V1__SummaryDataPoint)
    default:
        *n = 0;
        return NULL;
    }
#undef DPA_CASE
}

/* A shallow copy of m in a whose data holds only the n points pts. NULL on out of memory. */
static metric_t *metric_with_points(struct arena *a, const metric_t *m, void **pts, size_t n)
{
    metric_t *c = arena_memdup(a, m, sizeof *m);
    if (!c)
        return NULL;
#define MWP_CASE(CASE, F, PT)                                                                      \
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_##CASE:                                   \
        c->F = arena_memdup(a, m->F, sizeof *m->F);                                                \
        if (!c->F)                                                                                 \
            return NULL;                                                                           \
        c->F->n_data_points = n;                                                                   \
        c->F->data_points = (PT **)pts;                                                            \
        break;
    switch (m->data_case) {
        MWP_CASE(GAUGE, gauge, Opentelemetry__Proto__Metrics__V1__NumberDataPoint)
        MWP_CASE(SUM, sum, Opentelemetry__Proto__Metrics__V1__NumberDataPoint)
        MWP_CASE(HISTOGRAM, histogram, Opentelemetry__Proto__Metrics__V1__HistogramDataPoint)
        MWP_CASE(EXPONENTIAL_HISTOGRAM, exponential_histogram,
                 Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint)
        MWP_CASE(SUMMARY, summary, Opentelemetry__Proto__Metrics__V1__SummaryDataPoint)
    default:
        break;
    }
#undef MWP_CASE
    return c;
}

struct mstream_ctx {
    const metrics_req *req;
    const int *ep; /* per data point, in traversal order */
};

/* Backend e's request: the resources, scopes and metrics that have points for e, each metric
 * with those points only. */
static const uint8_t *mstream_pack(void *p, int e, size_t *len, uint64_t *items, struct error *err)
{
    struct mstream_ctx *c = p;
    const metrics_req *req = c->req;
    struct arena *a = arena_new(4096);
    if (!a) {
        error_set(err, "out of memory");
        return NULL;
    }
    metrics_req out = OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics **rs =
        arena_alloc(a, (req->n_resource_metrics + 1) * sizeof *rs);
    size_t k = 0, nrs = 0;
    bool oom = !rs;
    for (size_t i = 0; !oom && i < req->n_resource_metrics; i++) {
        const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *r = req->resource_metrics[i];
        Opentelemetry__Proto__Metrics__V1__ScopeMetrics **ss =
            arena_alloc(a, (r->n_scope_metrics + 1) * sizeof *ss);
        size_t nss = 0;
        oom = !ss;
        for (size_t j = 0; !oom && j < r->n_scope_metrics; j++) {
            const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *s = r->scope_metrics[j];
            metric_t **ms = arena_alloc(a, (s->n_metrics + 1) * sizeof *ms);
            size_t nms = 0;
            oom = !ms;
            for (size_t m = 0; !oom && m < s->n_metrics; m++) {
                size_t npt = 0, nit = 0;
                void **pts = dp_list(s->metrics[m], &npt);
                void **it = arena_alloc(a, (npt + 1) * sizeof *it);
                oom = !it;
                for (size_t d = 0; !oom && d < npt; d++, k++)
                    if (c->ep[k] == e)
                        it[nit++] = pts[d];
                if (oom || !nit)
                    continue;
                metric_t *mc = metric_with_points(a, s->metrics[m], it, nit);
                oom = !mc;
                if (mc)
                    ms[nms++] = mc;
            }
            if (oom || !nms)
                continue;
            Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sc = arena_memdup(a, s, sizeof *s);
            oom = !sc;
            if (sc) {
                sc->n_metrics = nms;
                sc->metrics = ms;
                ss[nss++] = sc;
            }
        }
        if (oom || !nss)
            continue;
        Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rc = arena_memdup(a, r, sizeof *r);
        oom = !rc;
        if (rc) {
            rc->n_scope_metrics = nss;
            rc->scope_metrics = ss;
            rs[nrs++] = rc;
        }
    }
    uint8_t *buf = NULL;
    if (!oom) {
        out.n_resource_metrics = nrs;
        out.resource_metrics = rs;
        *len = protobuf_c_message_get_packed_size(&out.base);
        buf = malloc(*len ? *len : 1);
        if (buf) {
            protobuf_c_message_pack(&out.base, buf);
            *items = otlp_count_items(SIGNAL_METRICS, &out.base);
        }
    }
    arena_free(a);
    if (!buf)
        error_set(err, "out of memory");
    return buf;
}

static int route_id(const struct lb_ring *r, const char *prefix, uint64_t state)
{
    char k[LB_ID_KEY_MAX];
    size_t n = lb_id_key(k, prefix, state);
    return lb_ring_lookup(r, (const uint8_t *)k, n);
}

/* routing_key resource: every metric of a resource goes where "resource/<id>" hashes. */
static int route_resources(const metrics_req *q, const struct lb_ring *r, struct routes *rt)
{
    size_t total = 0;
    for (size_t i = 0; i < q->n_resource_metrics; i++)
        for (size_t j = 0; j < q->resource_metrics[i]->n_scope_metrics; j++)
            total += q->resource_metrics[i]->scope_metrics[j]->n_metrics;
    rt->ep = malloc((total ? total : 1) * sizeof *rt->ep);
    if (!rt->ep)
        return -1;
    for (size_t i = 0; i < q->n_resource_metrics; i++) {
        const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = q->resource_metrics[i];
        uint64_t id;
        if (lb_id_resource(rm->resource, &id) != 0)
            return -1;
        int e = route_id(r, "resource", id);
        for (size_t j = 0; j < rm->n_scope_metrics; j++)
            for (size_t m = 0; m < rm->scope_metrics[j]->n_metrics; m++)
                rt->ep[rt->n++] = e;
    }
    return 0;
}

/* routing_key streamID: every data point goes where "stream/<id>" hashes. */
static int route_streams(const metrics_req *q, const struct lb_ring *r, struct routes *rt)
{
    size_t total = 0;
    for (size_t i = 0; i < q->n_resource_metrics; i++)
        for (size_t j = 0; j < q->resource_metrics[i]->n_scope_metrics; j++) {
            const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *s =
                q->resource_metrics[i]->scope_metrics[j];
            for (size_t m = 0; m < s->n_metrics; m++) {
                size_t n;
                dp_list(s->metrics[m], &n);
                total += n;
            }
        }
    rt->ep = malloc((total ? total : 1) * sizeof *rt->ep);
    if (!rt->ep)
        return -1;
    for (size_t i = 0; i < q->n_resource_metrics; i++) {
        const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = q->resource_metrics[i];
        uint64_t res_id;
        if (lb_id_resource(rm->resource, &res_id) != 0)
            return -1;
        for (size_t j = 0; j < rm->n_scope_metrics; j++) {
            const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *s = rm->scope_metrics[j];
            uint64_t scope_id;
            if (lb_id_scope(res_id, s->scope, &scope_id) != 0)
                return -1;
            for (size_t m = 0; m < s->n_metrics; m++) {
                uint64_t metric_id = lb_id_metric(scope_id, s->metrics[m]);
                size_t n;
                void **pts = dp_list(s->metrics[m], &n);
                for (size_t d = 0; d < n; d++) {
                    size_t na;
                    kv_t **attrs = dp_attrs(s->metrics[m], pts[d], &na);
                    uint64_t id;
                    if (lb_id_stream(metric_id, attrs, na, &id) != 0)
                        return -1;
                    rt->ep[rt->n++] = route_id(r, "stream", id);
                }
            }
        }
    }
    return 0;
}

/* Routes every item of req into rt (traversal order: resource, scope, item). */
#define ROUTE_ALL(REQ, RFIELD, SFIELD, IFIELD, EXPR)                                               \
    do {                                                                                           \
        size_t total = 0;                                                                          \
        for (size_t i = 0; i < (REQ)->n_##RFIELD; i++)                                             \
            for (size_t j = 0; j < (REQ)->RFIELD[i]->n_##SFIELD; j++)                              \
                total += (REQ)->RFIELD[i]->SFIELD[j]->n_##IFIELD;                                  \
        rt.ep = malloc((total ? total : 1) * sizeof *rt.ep);                                       \
        if (!rt.ep)                                                                                \
            return error_set(err, "out of memory"), err->code = 2, -1;                             \
        for (size_t i = 0; i < (REQ)->n_##RFIELD; i++) {                                           \
            const char *svc = service_name((REQ)->RFIELD[i]->resource);                            \
            (void)svc;                                                                             \
            for (size_t j = 0; j < (REQ)->RFIELD[i]->n_##SFIELD; j++)                              \
                for (size_t m = 0; m < (REQ)->RFIELD[i]->SFIELD[j]->n_##IFIELD; m++) {             \
                    const void *item = (REQ)->RFIELD[i]->SFIELD[j]->IFIELD[m];                     \
                    (void)item;                                                                    \
                    rt.ep[rt.n++] = (EXPR);                                                        \
                }                                                                                  \
        }                                                                                          \
    } while (0)

int lb_route_split(struct batch *b, enum lb_routing_key key, const struct lb_ring *r,
                   struct lb_part **parts, size_t *n_parts, uint64_t *dropped, struct error *err)
{
    *parts = NULL;
    *n_parts = 0;
    *dropped = 0;
    struct routes rt = {0};
    const ProtobufCMessage *m = batch_decoded(b, err);
    if (!m) {
        err->code = 1;
        return -1;
    }
    if (!r || r->n == 0) {
        error_set(err, "no backend is known yet");
        err->code = 3;
        return -1;
    }
    for (size_t i = 0; i < r->n; i++)
        if ((int)r->items[i].endpoint + 1 > rt.n_endpoints)
            rt.n_endpoints = (int)r->items[i].endpoint + 1;

    int rc;
    switch (b->signal) {
    case SIGNAL_TRACES: {
        const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *q =
            (const void *)m;
        if (key == LB_KEY_TRACE_ID)
            ROUTE_ALL(q, resource_spans, scope_spans, spans,
                      route_trace_id(r, ((const Opentelemetry__Proto__Trace__V1__Span *)item)
                                            ->trace_id, false));
        else if (key == LB_KEY_SERVICE)
            ROUTE_ALL(q, resource_spans, scope_spans, spans, route_str(r, svc));
        else
            goto bad_key;
        struct traces_ctx c = {.req = q, .ep = rt.ep};
        rc = finish(b, &rt, traces_pack, &c, parts, n_parts, err);
        break;
    }
    case SIGNAL_LOGS: {
        const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *q =
            (const void *)m;
        if (key == LB_KEY_TRACE_ID)
            ROUTE_ALL(q, resource_logs, scope_logs, log_records,
                      route_trace_id(r, ((const Opentelemetry__Proto__Logs__V1__LogRecord *)item)
                                            ->trace_id, true));
        else if (key == LB_KEY_SERVICE)
            ROUTE_ALL(q, resource_logs, scope_logs, log_records, route_str(r, svc));
        else
            goto bad_key;
        struct logs_ctx c = {.req = q, .ep = rt.ep};
        rc = finish(b, &rt, logs_pack, &c, parts, n_parts, err);
        break;
    }
    case SIGNAL_METRICS: {
        const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *q =
            (const void *)m;
        if (key == LB_KEY_STREAM_ID) {
            if (route_streams(q, r, &rt) != 0)
                goto oom;
            struct mstream_ctx c = {.req = q, .ep = rt.ep};
            rc = finish(b, &rt, mstream_pack, &c, parts, n_parts, err);
            break;
        }
        if (key == LB_KEY_SERVICE)
            ROUTE_ALL(q, resource_metrics, scope_metrics, metrics, route_str(r, svc));
        else if (key == LB_KEY_METRIC)
            ROUTE_ALL(q, resource_metrics, scope_metrics, metrics,
                      route_str(r, ((const Opentelemetry__Proto__Metrics__V1__Metric *)item)->name));
        else if (key == LB_KEY_RESOURCE) {
            if (route_resources(q, r, &rt) != 0)
                goto oom;
        } else
            goto bad_key;
        struct metrics_ctx c = {.req = q, .ep = rt.ep};
        rc = finish(b, &rt, metrics_pack, &c, parts, n_parts, err);
        break;
    }
    default:
        goto bad_key;
    }
    *dropped = rt.dropped;
    free(rt.ep);
    return rc;

oom:
    free(rt.ep);
    error_set(err, "out of memory");
    err->code = 2;
    return -1;

bad_key:
    free(rt.ep);
    error_set(err, "routing_key does not apply to %s", signal_name(b->signal));
    err->code = 1;
    return -1;
}

static int finish(struct batch *b, struct routes *rt,
                  const uint8_t *(*pack_for)(void *, int, size_t *, uint64_t *, struct error *),
                  void *ctx, struct lb_part **parts, size_t *n_parts, struct error *err)
{
    int n_ep = rt->n_endpoints;
    uint64_t *count = calloc((size_t)n_ep + 1, sizeof *count);
    if (!count) {
        error_set(err, "out of memory");
        err->code = 2;
        return -1;
    }
    int used = 0, only = -1;
    for (size_t i = 0; i < rt->n; i++) {
        int e = rt->ep[i];
        if (e < 0) {
            rt->dropped++;
            continue;
        }
        if (count[e]++ == 0) {
            used++;
            only = e;
        }
    }
    if (rt->dropped)
        batch_reject(b, rt->dropped, "loadbalancing: resource without service.name (routing_key "
                                     "service)");
    *parts = calloc((size_t)(used ? used : 1), sizeof **parts);
    if (!*parts) {
        free(count);
        error_set(err, "out of memory");
        err->code = 2;
        return -1;
    }
    if (used == 1 && !rt->dropped) {
        (*parts)[0] = (struct lb_part){.endpoint = only, .batch = batch_ref(b)};
        *n_parts = 1;
        free(count);
        return 0;
    }
    for (int e = 0; e < n_ep; e++) {
        if (!count[e])
            continue;
        size_t len = 0;
        uint64_t items = 0;
        uint8_t *buf = (uint8_t *)pack_for(ctx, e, &len, &items, err);
        struct batch *nb = buf ? batch_adopt_wire(b->signal, buf, len, items) : NULL;
        if (!nb) { /* batch_adopt_wire freed buf */
            lb_parts_free(*parts, *n_parts);
            *parts = NULL;
            *n_parts = 0;
            free(count);
            error_set(err, "out of memory");
            err->code = 2;
            return -1;
        }
        (*parts)[(*n_parts)++] = (struct lb_part){.endpoint = e, .batch = nb};
    }
    free(count);
    return 0;
}
