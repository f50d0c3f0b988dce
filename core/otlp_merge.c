/* otlp_merge.c — wire-level merge and split of OTLP export requests (see otlp_merge.h).
 * The one idea: a request is a list of length-delimited field-1 entries, so cutting between
 * entries and concatenating them are both byte copies. Only a resource entry too large for one
 * output is decoded into an arena; its pieces are shallow copies that point at the decoded
 * scopes and items, so re-encoding a piece packs only what it points to. */
#include "core/otlp_merge.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/wire.h"

#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics ResourceMetrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics ScopeMetrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs ResourceLogs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs ScopeLogs;

/* ---- walker ---------------------------------------------------------------------------------- */

void otlp_walk_init(struct otlp_walker *w, const uint8_t *data, size_t len)
{
    w->p = data;
    w->end = data ? data + len : data;
}

int otlp_walk_next(struct otlp_walker *w, struct otlp_entry *e, struct error *err)
{
    if (!w->p || w->p >= w->end)
        return 0;
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, w->p, (size_t)(w->end - w->p));
    if (pb_next(&r, &f) != 1)
        return error_set(err, "malformed top-level field: runs past the end, or an unsupported wire type");
    memset(e, 0, sizeof *e);
    if (f.wt == PB_LEN) {
        e->body = f.data;
        e->body_len = f.len;
        e->resource = f.num == 1;
    }
    e->data = f.start;
    e->len = f.total;
    w->p = r.p;
    return 1;
}

/* ---- growable buffer ------------------------------------------------------------------------- */

/* realloc for either kind of buffer: a pooled one moves to a block of the new size. */
static uint8_t *buf_realloc(struct otlp_buf *b, size_t size)
{
    if (!b->pooled)
        return realloc(b->data, size);
    uint8_t *d = arena_buf_alloc(size);
    if (d && b->len)
        memcpy(d, b->data, b->len);
    if (d)
        arena_buf_free(b->data);
    return d;
}

static int buf_reserve(struct otlp_buf *b, size_t more)
{
    if (more <= b->cap - b->len)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < more) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    uint8_t *d = buf_realloc(b, cap);
    if (!d)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

int otlp_buf_reserve(struct otlp_buf *b, size_t more)
{
    if (more <= b->cap - b->len)
        return 0;
    if (more > SIZE_MAX - b->len)
        return -1;
    uint8_t *d = buf_realloc(b, b->len + more);
    if (!d)
        return -1;
    b->data = d;
    b->cap = b->len + more;
    return 0;
}

int otlp_buf_append(struct otlp_buf *b, const uint8_t *data, size_t len, uint64_t items)
{
    if (len && buf_reserve(b, len) != 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->items += items;
    return 0;
}

void otlp_buf_release(struct otlp_buf *b, uint8_t **data, size_t *len, uint64_t *items)
{
    *data = b->data;
    *len = b->len;
    *items = b->items;
    bool pooled = b->pooled;
    memset(b, 0, sizeof *b);
    b->pooled = pooled;
}

void otlp_buf_data_free(uint8_t *data, bool pooled)
{
    if (pooled)
        arena_buf_free(data);
    else
        free(data);
}

void otlp_buf_free(struct otlp_buf *b)
{
    otlp_buf_data_free(b->data, b->pooled);
    bool pooled = b->pooled;
    memset(b, 0, sizeof *b);
    b->pooled = pooled;
}

/* ---- cutting one decoded resource entry ------------------------------------------------------ */

/* Position inside a decoded resource entry: scope, item (metric for metrics), data point. */
struct cursor {
    size_t scope, item, point;
};

static void *dup_in(struct arena *a, const void *p, size_t n) { return arena_memdup(a, p, n); }

/* Up to `budget` spans from the cursor on, as a ResourceSpans sharing resource and scopes. */
static ProtobufCMessage *take_spans(struct arena *a, const ResourceSpans *src, struct cursor *c,
                                    uint64_t budget, uint64_t *took)
{
    ResourceSpans *out = dup_in(a, src, sizeof *src);
    if (!out)
        return NULL;
    out->scope_spans = arena_alloc(a, sizeof(ScopeSpans *) * (src->n_scope_spans + 1));
    if (!out->scope_spans)
        return NULL;
    out->n_scope_spans = 0;
    while (c->scope < src->n_scope_spans && budget > 0) {
        const ScopeSpans *ss = src->scope_spans[c->scope];
        size_t n = ss->n_spans - c->item;
        if (n > budget)
            n = (size_t)budget;
        ScopeSpans *piece = dup_in(a, ss, sizeof *ss);
        if (!piece)
            return NULL;
        piece->spans = ss->spans + c->item;
        piece->n_spans = n;
        out->scope_spans[out->n_scope_spans++] = piece;
        c->item += n;
        budget -= n;
        *took += n;
        if (c->item >= ss->n_spans) {
            c->scope++;
            c->item = 0;
        }
    }
    return &out->base;
}

static ProtobufCMessage *take_logs(struct arena *a, const ResourceLogs *src, struct cursor *c,
                                   uint64_t budget, uint64_t *took)
{
    ResourceLogs *out = dup_in(a, src, sizeof *src);
    if (!out)
        return NULL;
    out->scope_logs = arena_alloc(a, sizeof(ScopeLogs *) * (src->n_scope_logs + 1));
    if (!out->scope_logs)
        return NULL;
    out->n_scope_logs = 0;
    while (c->scope < src->n_scope_logs && budget > 0) {
        const ScopeLogs *sl = src->scope_logs[c->scope];
        size_t n = sl->n_log_records - c->item;
        if (n > budget)
            n = (size_t)budget;
        ScopeLogs *piece = dup_in(a, sl, sizeof *sl);
        if (!piece)
            return NULL;
        piece->log_records = sl->log_records + c->item;
        piece->n_log_records = n;
        out->scope_logs[out->n_scope_logs++] = piece;
        c->item += n;
        budget -= n;
        *took += n;
        if (c->item >= sl->n_log_records) {
            c->scope++;
            c->item = 0;
        }
    }
    return &out->base;
}

/* Data points of a metric, whatever its type: the count and the address of the array field. */
static size_t metric_points(const Metric *m, void ***points)
{
    void **dummy;
    if (!points)
        points = &dummy;
    *points = NULL;
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        if (!m->gauge)
            return 0;
        *points = (void **)m->gauge->data_points;
        return m->gauge->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        if (!m->sum)
            return 0;
        *points = (void **)m->sum->data_points;
        return m->sum->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        if (!m->histogram)
            return 0;
        *points = (void **)m->histogram->data_points;
        return m->histogram->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
        if (!m->exponential_histogram)
            return 0;
        *points = (void **)m->exponential_histogram->data_points;
        return m->exponential_histogram->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
        if (!m->summary)
            return 0;
        *points = (void **)m->summary->data_points;
        return m->summary->n_data_points;
    default:
        return 0;
    }
}

/* A copy of metric m holding data points [from, from + n): the metric and its data message are
 * copied (same descriptor, temporality, monotonicity), the points are shared. */
#define SLICE_DATA(field)                                                                          \
    do {                                                                                           \
        __typeof__(m->field) d = dup_in(a, m->field, sizeof *m->field);                            \
        if (!d)                                                                                    \
            return NULL;                                                                           \
        d->data_points += from;                                                                    \
        d->n_data_points = n;                                                                      \
        out->field = d;                                                                            \
    } while (0)

static Metric *slice_metric(struct arena *a, const Metric *m, size_t from, size_t n)
{
    Metric *out = dup_in(a, m, sizeof *m);
    if (!out)
        return NULL;
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        SLICE_DATA(gauge);
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        SLICE_DATA(sum);
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        SLICE_DATA(histogram);
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
        SLICE_DATA(exponential_histogram);
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
        SLICE_DATA(summary);
        break;
    default:
        break;
    }
    return out;
}

static ProtobufCMessage *take_metrics(struct arena *a, const ResourceMetrics *src,
                                      struct cursor *c, uint64_t budget, uint64_t *took)
{
    ResourceMetrics *out = dup_in(a, src, sizeof *src);
    if (!out)
        return NULL;
    out->scope_metrics = arena_alloc(a, sizeof(ScopeMetrics *) * (src->n_scope_metrics + 1));
    if (!out->scope_metrics)
        return NULL;
    out->n_scope_metrics = 0;
    while (c->scope < src->n_scope_metrics && budget > 0) {
        const ScopeMetrics *sm = src->scope_metrics[c->scope];
        ScopeMetrics *piece = dup_in(a, sm, sizeof *sm);
        if (!piece)
            return NULL;
        piece->metrics = arena_alloc(a, sizeof(Metric *) * (sm->n_metrics - c->item + 1));
        if (!piece->metrics)
            return NULL;
        piece->n_metrics = 0;
        while (c->item < sm->n_metrics && budget > 0) {
            Metric *m = sm->metrics[c->item];
            size_t total = metric_points(m, NULL);
            size_t n = total - c->point;
            if (n > budget)
                n = (size_t)budget;
            Metric *part = m;
            if (c->point != 0 || n != total) {
                part = slice_metric(a, m, c->point, n);
                if (!part)
                    return NULL;
            }
            piece->metrics[piece->n_metrics++] = part;
            c->point += n;
            budget -= n;
            *took += n;
            if (c->point >= total) {
                c->item++;
                c->point = 0;
            }
        }
        out->scope_metrics[out->n_scope_metrics++] = piece;
        if (c->item >= sm->n_metrics) {
            c->scope++;
            c->item = 0;
        }
    }
    return &out->base;
}

static const ProtobufCMessageDescriptor *resource_descriptor(enum signal s)
{
    switch (s) {
    case SIGNAL_TRACES:
        return &opentelemetry__proto__trace__v1__resource_spans__descriptor;
    case SIGNAL_METRICS:
        return &opentelemetry__proto__metrics__v1__resource_metrics__descriptor;
    case SIGNAL_LOGS:
        return &opentelemetry__proto__logs__v1__resource_logs__descriptor;
    default:
        return NULL;
    }
}

static size_t resource_scopes(enum signal s, const ProtobufCMessage *m)
{
    switch (s) {
    case SIGNAL_TRACES:
        return ((const ResourceSpans *)m)->n_scope_spans;
    case SIGNAL_METRICS:
        return ((const ResourceMetrics *)m)->n_scope_metrics;
    default:
        return ((const ResourceLogs *)m)->n_scope_logs;
    }
}

static ProtobufCMessage *take(enum signal s, struct arena *a, const ProtobufCMessage *src,
                              struct cursor *c, uint64_t budget, uint64_t *took)
{
    switch (s) {
    case SIGNAL_TRACES:
        return take_spans(a, (const ResourceSpans *)src, c, budget, took);
    case SIGNAL_METRICS:
        return take_metrics(a, (const ResourceMetrics *)src, c, budget, took);
    default:
        return take_logs(a, (const ResourceLogs *)src, c, budget, took);
    }
}

/* Appends `msg` as one top-level field-1 entry. */
static int append_entry(struct otlp_buf *b, const ProtobufCMessage *msg, uint64_t items)
{
    size_t body = protobuf_c_message_get_packed_size(msg);
    uint8_t head[11];
    size_t h = 0;
    head[h++] = 0x0a; /* field 1, wire type 2 */
    uint64_t v = body;
    do {
        head[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    if (buf_reserve(b, h + body) != 0)
        return -1;
    memcpy(b->data + b->len, head, h);
    size_t packed = protobuf_c_message_pack(msg, b->data + b->len + h);
    if (packed != body)
        return -1;
    b->len += h + body;
    b->items += items;
    return 0;
}

/* ---- split ----------------------------------------------------------------------------------- */

struct chunk_list {
    struct otlp_chunk *items;
    size_t n, cap;
};

/* Moves the current buffer into the list as a chunk (nothing when empty). */
static int emit(struct chunk_list *l, struct otlp_buf *cur)
{
    if (cur->len == 0 && cur->items == 0)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct otlp_chunk *c = realloc(l->items, cap * sizeof *c);
        if (!c)
            return -1;
        l->items = c;
        l->cap = cap;
    }
    struct otlp_chunk *c = &l->items[l->n++];
    otlp_buf_release(cur, &c->data, &c->len, &c->items);
    return 0;
}

/* Cuts one oversized resource entry; pieces go into cur, full chunks into the list. */
static int split_entry(enum signal s, const struct otlp_entry *e, uint64_t max_items,
                       struct otlp_buf *cur, struct chunk_list *l, struct error *err)
{
    struct arena *a = arena_new(e->body_len * 5 + 4096);
    if (!a)
        return error_set(err, "out of memory");
    int rc = -1;
    ProtobufCMessage *res = protobuf_c_message_unpack(resource_descriptor(s), arena_allocator(a),
                                                      e->body_len, e->body);
    if (!res) {
        error_set(err, "cannot decode a %s resource entry to split it", signal_name(s));
        goto out;
    }
    struct cursor c = {0};
    size_t scopes = resource_scopes(s, res);
    do {
        uint64_t room = max_items - cur->items;
        if (room == 0) {
            if (emit(l, cur) != 0)
                goto oom;
            room = max_items;
        }
        uint64_t took = 0;
        ProtobufCMessage *piece = take(s, a, res, &c, room, &took);
        if (!piece || append_entry(cur, piece, took) != 0)
            goto oom;
    } while (c.scope < scopes);
    rc = 0;
    goto out;
oom:
    error_set(err, "out of memory splitting a %s request", signal_name(s));
out:
    arena_free(a);
    return rc;
}

int otlp_split(enum signal s, const uint8_t *data, size_t len, uint64_t max_items,
               struct otlp_chunk **chunks, size_t *n_chunks, struct error *err)
{
    struct chunk_list l = {0};
    struct otlp_buf cur = {0};
    struct otlp_walker w;
    struct otlp_entry e;
    int r;
    *chunks = NULL;
    *n_chunks = 0;
    if (max_items == 0 || !resource_descriptor(s))
        return error_set(err, "otlp_split: bad arguments");
    otlp_walk_init(&w, data, len);
    while ((r = otlp_walk_next(&w, &e, err)) == 1) {
        uint64_t items = 0;
        if (e.resource) {
            struct otlp_scan_result sr = {0};
            if (otlp_scan(s, e.data, e.len, &sr, err) != 0)
                goto fail;
            items = sr.items;
        }
        if (cur.items + items <= max_items) {
            if (otlp_buf_append(&cur, e.data, e.len, items) != 0)
                goto oom;
        } else if (items <= max_items) {
            if (emit(&l, &cur) != 0 || otlp_buf_append(&cur, e.data, e.len, items) != 0)
                goto oom;
        } else if (split_entry(s, &e, max_items, &cur, &l, err) != 0) {
            goto fail;
        }
    }
    if (r < 0)
        goto fail;
    if (emit(&l, &cur) != 0)
        goto oom;
    *chunks = l.items;
    *n_chunks = l.n;
    return 0;
oom:
    error_set(err, "out of memory splitting a %s request", signal_name(s));
fail:
    otlp_buf_free(&cur);
    otlp_chunks_free(l.items, l.n);
    return -1;
}

void otlp_chunks_free(struct otlp_chunk *chunks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(chunks[i].data);
    free(chunks);
}
