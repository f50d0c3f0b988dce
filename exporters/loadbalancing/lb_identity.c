/* lb_identity.c — the routing strings of `routing_key: resource` and `routing_key: streamID`,
 * byte for byte those of the Collector's loadbalancing exporter (contrib v0.115: its
 * internal/exp/metrics/identity over pkg/pdatautil.MapHash), so that Collectors and llmotlp in
 * one tier send a resource or a stream to the same backend.
 *
 * The one idea: an identity is one FNV-1a 64 state fed in a fixed order — the 16-byte hash of
 * the resource attributes; scope name, version and the 16-byte hash of its attributes; metric
 * name, unit and the bytes (type, monotonic, temporality); the 16-byte hash of the data point
 * attributes — and the routing string is "resource/" or "stream/" followed by the state in
 * lowercase hex without padding (Go's %x). A 16-byte attribute hash is MapHash: the attributes
 * sorted by key, serialised with one tag byte per key and per value kind, then XXH64 (seed 0) of
 * that buffer and XXH64 of the buffer plus 0xf3, each little-endian; no attributes: 16 zeros. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "exporters/loadbalancing/loadbalancing.h"

/* pdatautil's tag bytes */
enum {
    TAG_EXTRA = 0xf3,
    TAG_KEY = 0xf4,
    TAG_EMPTY = 0xf5,
    TAG_BYTES = 0xf6,
    TAG_STR = 0xf7,
    TAG_TRUE = 0xf8,
    TAG_FALSE = 0xf9,
    TAG_INT = 0xfa,
    TAG_DOUBLE = 0xfb,
    TAG_MAP = 0xfc,
    TAG_MAP_END = 0xfd,
    TAG_SLICE = 0xfe,
    TAG_SLICE_END = 0xff,
};

#define FNV64_PRIME 1099511628211ULL

uint64_t lb_fnv64a(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV64_PRIME;
    }
    return h;
}

struct wbuf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
    uint8_t small[512];
};

static void put(struct wbuf *w, const void *p, size_t n)
{
    if (w->oom || n == 0)
        return;
    if (w->n + n > w->cap) {
        size_t cap = w->cap * 2;
        while (cap < w->n + n)
            cap *= 2;
        uint8_t *np = w->p == w->small ? malloc(cap) : realloc(w->p, cap);
        if (!np) {
            w->oom = true;
            return;
        }
        if (w->p == w->small)
            memcpy(np, w->small, w->n);
        w->p = np;
        w->cap = cap;
    }
    memcpy(w->p + w->n, p, n);
    w->n += n;
}

static void put_byte(struct wbuf *w, uint8_t b)
{
    put(w, &b, 1);
}

static void put_u64le(struct wbuf *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, 8);
}

static void put_str(struct wbuf *w, const char *s)
{
    if (s)
        put(w, s, strlen(s));
}

static void write_map(struct wbuf *w, Opentelemetry__Proto__Common__V1__KeyValue *const *kvs,
                      size_t n);

static void write_value(struct wbuf *w, const Opentelemetry__Proto__Common__V1__AnyValue *v)
{
    switch (v ? v->value_case : OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        put_byte(w, TAG_STR);
        put_str(w, v->string_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        put_byte(w, v->bool_value ? TAG_TRUE : TAG_FALSE);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        put_byte(w, TAG_INT);
        put_u64le(w, (uint64_t)v->int_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE: {
        uint64_t bits;
        memcpy(&bits, &v->double_value, 8);
        put_byte(w, TAG_DOUBLE);
        put_u64le(w, bits);
        break;
    }
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
        put_byte(w, TAG_MAP);
        if (v->kvlist_value)
            write_map(w, v->kvlist_value->values, v->kvlist_value->n_values);
        put_byte(w, TAG_MAP_END);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
        put_byte(w, TAG_SLICE);
        for (size_t i = 0; v->array_value && i < v->array_value->n_values; i++)
            write_value(w, v->array_value->values[i]);
        put_byte(w, TAG_SLICE_END);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
        put_byte(w, TAG_BYTES);
        put(w, v->bytes_value.data, v->bytes_value.len);
        break;
    default: /* no value: pdata's empty value */
        put_byte(w, TAG_EMPTY);
        break;
    }
}

static const char *key_of(const Opentelemetry__Proto__Common__V1__KeyValue *kv)
{
    return kv && kv->key ? kv->key : "";
}

struct entry {
    const Opentelemetry__Proto__Common__V1__KeyValue *kv;
    size_t idx;
};

/* by key bytes (Go's sort.Strings), then by position so that a key's first entry leads */
static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(key_of(x->kv), key_of(y->kv));
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Every entry's key in sorted order, each followed by the value of the FIRST entry holding that
 * key: pdata ranges over all entries (duplicates too) but Get returns the first match. */
static void write_map(struct wbuf *w, Opentelemetry__Proto__Common__V1__KeyValue *const *kvs,
                      size_t n)
{
    if (n == 0)
        return;
    struct entry *e = malloc(n * sizeof *e);
    if (!e) {
        w->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++)
        e[i] = (struct entry){.kv = kvs[i], .idx = i};
    qsort(e, n, sizeof *e, entry_cmp);
    const Opentelemetry__Proto__Common__V1__KeyValue *first = NULL;
    for (size_t i = 0; i < n && !w->oom; i++) {
        const char *k = key_of(e[i].kv);
        if (i == 0 || strcmp(k, key_of(e[i - 1].kv)) != 0)
            first = e[i].kv;
        put_byte(w, TAG_KEY);
        put_str(w, k);
        write_value(w, first ? first->value : NULL);
    }
    free(e);
}

int lb_map_hash(Opentelemetry__Proto__Common__V1__KeyValue *const *kvs, size_t n,
                uint8_t out[16])
{
    memset(out, 0, 16);
    if (n == 0)
        return 0;
    struct wbuf w = {.n = 0, .cap = sizeof w.small};
    w.p = w.small;
    write_map(&w, kvs, n);
    uint64_t h1 = XXH64(w.p, w.n, 0);
    put_byte(&w, TAG_EXTRA);
    uint64_t h2 = XXH64(w.p, w.n, 0);
    bool oom = w.oom;
    if (w.p != w.small)
        free(w.p);
    if (oom)
        return -1;
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(h1 >> (8 * i));
        out[8 + i] = (uint8_t)(h2 >> (8 * i));
    }
    return 0;
}

int lb_id_resource(const Opentelemetry__Proto__Resource__V1__Resource *res, uint64_t *state)
{
    uint8_t h[16];
    if (lb_map_hash(res ? res->attributes : NULL, res ? res->n_attributes : 0, h) != 0)
        return -1;
    *state = lb_fnv64a(LB_FNV64A_INIT, h, 16);
    return 0;
}

int lb_id_scope(uint64_t resource, const Opentelemetry__Proto__Common__V1__InstrumentationScope *s,
                uint64_t *state)
{
    uint8_t h[16];
    if (lb_map_hash(s ? s->attributes : NULL, s ? s->n_attributes : 0, h) != 0)
        return -1;
    uint64_t st = resource;
    if (s && s->name)
        st = lb_fnv64a(st, s->name, strlen(s->name));
    if (s && s->version)
        st = lb_fnv64a(st, s->version, strlen(s->version));
    *state = lb_fnv64a(st, h, 16);
    return 0;
}

uint64_t lb_id_metric(uint64_t scope, const Opentelemetry__Proto__Metrics__V1__Metric *m)
{
    /* pmetric.MetricType: Empty 0, Gauge 1, Sum 2, Histogram 3, ExponentialHistogram 4,
     * Summary 5; histograms count as monotonic; temporality is the proto enum's low byte */
    uint8_t t[3] = {0, 0, 0};
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        t[0] = 1;
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        t[0] = 2;
        if (m->sum) {
            t[1] = m->sum->is_monotonic ? 1 : 0;
            t[2] = (uint8_t)m->sum->aggregation_temporality;
        }
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        t[0] = 3;
        t[1] = 1;
        if (m->histogram)
            t[2] = (uint8_t)m->histogram->aggregation_temporality;
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
        t[0] = 4;
        t[1] = 1;
        if (m->exponential_histogram)
            t[2] = (uint8_t)m->exponential_histogram->aggregation_temporality;
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
        t[0] = 5;
        break;
    default:
        break;
    }
    uint64_t st = scope;
    if (m->name)
        st = lb_fnv64a(st, m->name, strlen(m->name));
    if (m->unit)
        st = lb_fnv64a(st, m->unit, strlen(m->unit));
    return lb_fnv64a(st, t, 3);
}

int lb_id_stream(uint64_t metric, Opentelemetry__Proto__Common__V1__KeyValue *const *attrs,
                 size_t n, uint64_t *state)
{
    uint8_t h[16];
    if (lb_map_hash(attrs, n, h) != 0)
        return -1;
    *state = lb_fnv64a(metric, h, 16);
    return 0;
}

size_t lb_id_key(char out[LB_ID_KEY_MAX], const char *prefix, uint64_t state)
{
    int n = snprintf(out, LB_ID_KEY_MAX, "%s/%" PRIx64, prefix, state);
    return n < 0 ? 0 : (size_t)n;
}
