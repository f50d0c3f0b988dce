/* llm_metrics.c — the `llm_metrics` connector: reads every LLM span of a traces pipeline,
 * aggregates the seed's business metrics and the GenAI semconv client histograms in its series
 * store (series.c), and emits them on a timer as one OTLP metrics request to the metrics
 * pipeline.
 *
 * Spans are read through the batch's span index (core/wire_index.h), shared with the pipeline's
 * processors, so the connector never decodes a request. A span's attributes are gathered in one
 * pass, and its label set (every byte its series keys are made of) is looked up once in a cache
 * that maps it to its series (series.h), so a span seen before builds no key.
 *
 * The one idea: consume() only reads the span and adds to series under a short lock; an export
 * snapshots the series under the lock, builds and sends the request without it, and under delta
 * temporality subtracts what it reported only once the downstream has taken it, so a refused
 * export is carried, whole, by the next one. */
#include "connectors/llm_metrics/llm_metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/llm_metrics/series.h"
#include "core/arena.h"
#include "core/attr.h"
#include "core/batch.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "core/ticker.h"
#include "core/wire.h"
#include "core/wire_index.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_request;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest metrics_request;
typedef Opentelemetry__Proto__Trace__V1__Span otlp_span;
typedef Opentelemetry__Proto__Resource__V1__Resource otlp_resource;
typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics otlp_rm;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics otlp_sm;
typedef Opentelemetry__Proto__Metrics__V1__Metric otlp_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint otlp_ndp;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint otlp_hdp;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE
#define STATUS_ERROR OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR
#define TEMPORALITY_DELTA \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
#define TEMPORALITY_CUMULATIVE \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE

#define SCOPE_NAME "llmotlp/llm_metrics"
#define SCOPE_VERSION "0.1.0"

/* Recommended boundaries of semconv v1.41 (model/gen-ai/metrics.yaml). */
static const double op_duration_bounds[] = {0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64,
                                            1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92};
static const double token_usage_bounds[] = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536,
                                            262144, 1048576, 4194304, 16777216, 67108864};

/* ---- config ---------------------------------------------------------------------------------- */

/* Odd indexes are delta: the Collector's spanmetrics spelling binds as well as ours. */
static const char *const temporality_choices[] = {
    "cumulative", "delta", "AGGREGATION_TEMPORALITY_CUMULATIVE", "AGGREGATION_TEMPORALITY_DELTA",
    NULL};

static const struct config_field attribute_name_fields[] = {
    {.name = "tenant", .type = CFG_STRING,
     .offset = offsetof(struct llm_metrics_attribute_names, tenant), .def = "tenant.id",
     .doc = "span attribute (else resource attribute) naming the tenant; \"unknown\" when absent"},
    {.name = "status", .type = CFG_STRING,
     .offset = offsetof(struct llm_metrics_attribute_names, status), .def = "\"\"",
     .doc = "span attribute whose value is the request's status; empty: the span status "
            "(ok or error), also used when the span lacks the attribute"},
    {.name = "ratelimit_remaining", .type = CFG_STRING_LIST,
     .offset = offsetof(struct llm_metrics_attribute_names, ratelimit_remaining),
     .def = "[llmproxy.ratelimit.remaining, http.response.header.x-ratelimit-remaining-requests]",
     .doc = "span attributes holding the remaining requests; the first with a number wins"},
    {.name = NULL},
};

static const struct config_field llm_metrics_fields[] = {
    {.name = "histogram_buckets", .type = CFG_DOUBLE_LIST,
     .offset = offsetof(struct llm_metrics_config, histogram_buckets),
     .def = "[0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60]",
     .doc = "bucket bounds of llmproxy.request.duration, in seconds, strictly increasing"},
    {.name = "export_interval", .type = CFG_DURATION,
     .offset = offsetof(struct llm_metrics_config, export_interval), .def = "15s",
     .min = 100000000LL, .max = INT64_MAX, .doc = "how often the metrics are emitted"},
    {.name = "aggregation_temporality", .type = CFG_ENUM,
     .offset = offsetof(struct llm_metrics_config, aggregation_temporality), .def = "cumulative",
     .choices = temporality_choices,
     .doc = "cumulative: totals since start; delta: changes since the last export taken"},
    {.name = "dimensions", .type = CFG_STRING_LIST,
     .offset = offsetof(struct llm_metrics_config, dimensions),
     .doc = "extra attributes (span, else resource) on the llmproxy request, token and cost "
            "metrics; omitted when absent"},
    {.name = "resource_attributes", .type = CFG_STRING_LIST,
     .offset = offsetof(struct llm_metrics_config, resource_attributes), .def = "[service.name]",
     .doc = "resource attributes of the spans kept on the emitted metrics' resource"},
    {.name = "attribute_names", .type = CFG_SECTION,
     .offset = offsetof(struct llm_metrics_config, attribute_names), .sub = attribute_name_fields,
     .doc = "where tenant, status and the rate-limit figure come from"},
    {.name = "availability_window", .type = CFG_DURATION,
     .offset = offsetof(struct llm_metrics_config, availability_window), .def = "5m",
     .min = 1000000LL, .max = INT64_MAX,
     .doc = "span of time over which a provider's availability is judged"},
    {.name = "availability_error_threshold", .type = CFG_DOUBLE,
     .offset = offsetof(struct llm_metrics_config, availability_error_threshold), .def = "0.5",
     .doc = "failed share (0..1) of the window's calls above which availability is 0"},
    {.name = "max_series", .type = CFG_INT, .offset = offsetof(struct llm_metrics_config, max_series),
     .def = "10000", .min = 1, .max = 100000000,
     .doc = "series per metric; past it points go to the metric's otel.metric.overflow series"},
    {.name = NULL},
};

static int llm_metrics_validate(const void *cfgp, struct error *err)
{
    const struct llm_metrics_config *cfg = cfgp;
    const struct config_double_list *b = &cfg->histogram_buckets;
    if (b->n == 0)
        return error_set(err, "histogram_buckets: at least one bound is required");
    for (size_t i = 0; i < b->n; i++) {
        if (!isfinite(b->items[i]))
            return error_set(err, "histogram_buckets[%zu]: expected a finite number, got %g", i,
                             b->items[i]);
        if (i > 0 && !(b->items[i] > b->items[i - 1]))
            return error_set(err,
                             "histogram_buckets[%zu]: %g is not greater than the bound before it "
                             "(%g); bounds must be strictly increasing",
                             i, b->items[i], b->items[i - 1]);
    }
    double t = cfg->availability_error_threshold;
    if (!(t >= 0 && t <= 1))
        return error_set(err, "availability_error_threshold: expected a share between 0 and 1, "
                         "got %g", t);
    if (!cfg->attribute_names.tenant || !cfg->attribute_names.tenant[0])
        return error_set(err, "attribute_names.tenant: must not be empty");
    return 0;
}

/* ---- the connector --------------------------------------------------------------------------- */

/* An attribute name looked up per span, hashed once for the index. */
struct lm_name {
    const char *s;
    uint32_t len, hash;
    uint32_t field;                /* span names: its place in a span's gathered attributes */
};

enum fixed_name {
    N_OP, N_PROVIDER, N_SYSTEM, N_REQ_MODEL, N_RESP_MODEL, N_ADDRESS, N_PORT, N_ERROR_TYPE,
    N_TOKENS_IN, N_TOKENS_OUT, N_COST, N_FIXED
};
static const char *const fixed_names[N_FIXED] = {
    [N_OP] = "gen_ai.operation.name", [N_PROVIDER] = "gen_ai.provider.name",
    [N_SYSTEM] = "gen_ai.system", [N_REQ_MODEL] = "gen_ai.request.model",
    [N_RESP_MODEL] = "gen_ai.response.model", [N_ADDRESS] = "server.address",
    [N_PORT] = "server.port", [N_ERROR_TYPE] = "error.type",
    [N_TOKENS_IN] = "gen_ai.usage.input_tokens", [N_TOKENS_OUT] = "gen_ai.usage.output_tokens",
    [N_COST] = "gen_ai.usage.cost.amount",
};

static void name_init(struct lm_name *n, const char *s)
{
    n->s = s;
    n->len = (uint32_t)strlen(s);
    n->hash = wi_hash(s, n->len);
}

struct llm_metrics {
    const struct llm_metrics_config *cfg;
    char *log_name;
    char *labels;                  /* connector="<id>" */
    struct consumer *next;
    bool delta;
    int64_t (*now)(void *ctx);
    void *now_ctx;

    pthread_mutex_t lock;          /* guards store, cache and overflow_logged */
    struct lm_store store;
    struct lm_lcache cache;        /* label set -> its series (series.h) */
    bool overflow_logged[LM_METRIC_COUNT];

    pthread_mutex_t export_lock;   /* one export at a time; guards export_failing */
    bool export_failing;

    _Atomic uint64_t *spans;
    _Atomic uint64_t *overflow_points;
    _Atomic uint64_t *exports;
    _Atomic uint64_t *exports_failed;
    _Atomic uint64_t *dropped;     /* updates lost to out of memory */
    _Atomic int64_t *series;

    struct ticker export_timer;

    /* What consume() reads, hashed once: the fixed GenAI names, then the configured ones. */
    const struct wire_interest *interest; /* the service's; NULL: every attribute indexed */
    struct lm_name fixed[N_FIXED];
    struct lm_name tenant, status;
    bool has_status;
    struct lm_name *dims, *ratelimit, *resattrs;
    /* The distinct span attribute keys among those names, found in one pass over a span's
     * attributes (gather()): keys[f] is the first name of field f; slots is an open-addressed
     * table of f + 1 by key hash (0: empty). */
    const struct lm_name **keys;
    uint32_t n_keys;
    uint16_t *slots;
    uint32_t slot_mask;
    atomic_bool read_structs;      /* test hook: the struct reader instead of the index */
};

static int64_t realtime_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void llm_metrics_set_clock(void *connector, int64_t (*now)(void *ctx), void *ctx)
{
    struct llm_metrics *lm = connector;
    pthread_mutex_lock(&lm->lock);
    lm->now = now ? now : realtime_ns;
    lm->now_ctx = now ? ctx : NULL;
    pthread_mutex_unlock(&lm->lock);
}

static int64_t lm_now_locked(const struct llm_metrics *lm)
{
    return lm->now(lm->now_ctx);
}

/* ---- reading spans --------------------------------------------------------------------------- */

/* The connector reads spans through one small view with two readers: the span index (what
 * consume() uses: no decode, the index shared with the pipeline's processors) and the protobuf-c
 * structs (kept for the differential test). Everything below the view (which spans count, which
 * series, which values) is one code for both, so both give the same series keys. */

enum lv_type { LV_NONE, LV_STRING, LV_INT, LV_DOUBLE, LV_BOOL, LV_ARRAY };

/* One attribute value as either reader gives it. LV_NONE: absent, without a value, or of a type
 * the connector never reads (maps, bytes). */
struct lm_val {
    uint8_t type;
    bool nul_ended;                /* s is a C string (the struct reader's) */
    const char *s;                 /* LV_STRING; not NUL-ended for the index reader */
    size_t len;
    int64_t i;
    double d;
    bool b;
    const otlp_any *array;         /* LV_ARRAY, struct reader */
    const uint8_t *arr;            /* LV_ARRAY, index reader: the ArrayValue body */
    size_t arr_len;
};

static void val_from_any(const otlp_any *v, struct lm_val *out)
{
    memset(out, 0, sizeof *out);
    if (!v)
        return;
    switch (v->value_case) {
    case V_STRING:
        out->type = LV_STRING;
        out->s = v->string_value ? v->string_value : "";
        out->len = strlen(out->s);
        out->nul_ended = true;
        break;
    case V_INT:
        out->type = LV_INT;
        out->i = v->int_value;
        break;
    case V_DOUBLE:
        out->type = LV_DOUBLE;
        out->d = v->double_value;
        break;
    case V_BOOL:
        out->type = LV_BOOL;
        out->b = v->bool_value;
        break;
    case V_ARRAY:
        out->type = LV_ARRAY;
        out->array = v;
        break;
    default:
        break;
    }
}

static void val_from_wi(const struct wi_value *v, struct lm_val *out)
{
    memset(out, 0, sizeof *out);
    switch (v->type) {
    case WI_STRING:
        out->type = LV_STRING;
        out->s = v->len ? (const char *)v->data : "";
        out->len = v->len;
        break;
    case WI_INT:
        out->type = LV_INT;
        out->i = v->u.i;
        break;
    case WI_DOUBLE:
        out->type = LV_DOUBLE;
        out->d = v->u.d;
        break;
    case WI_BOOL:
        out->type = LV_BOOL;
        out->b = v->u.b;
        break;
    case WI_ARRAY:
        out->type = LV_ARRAY;
        out->arr = v->data;
        out->arr_len = v->len;
        break;
    default:
        break;
    }
}

/* The first element of an array value (LV_NONE when empty). */
static void val_first(const struct lm_val *v, struct lm_val *out)
{
    memset(out, 0, sizeof *out);
    if (v->array) {
        const Opentelemetry__Proto__Common__V1__ArrayValue *a = v->array->array_value;
        if (a && a->n_values > 0)
            val_from_any(a->values[0], out);
        return;
    }
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, v->arr, v->arr_len);
    while (pb_next(&r, &f) == 1) {
        if (f.num == 1 && f.wt == PB_LEN) {
            struct wi_value wv;
            wi_value_read(f.data, f.len, &wv);
            val_from_wi(&wv, out);
            return;
        }
    }
}

/* attr_number / attr_count (core/attr.h) on either reader's value: the value goes back into an
 * AnyValue so that the connector counts tokens exactly as the cost processor prices them. A
 * string from the index is copied to be NUL-ended (on the heap only past 63 bytes, which no
 * number needs but an odd value may have). */
static bool val_numeric(const struct lm_val *v, bool count, double *d, int64_t *i)
{
    otlp_any a;
    opentelemetry__proto__common__v1__any_value__init(&a);
    char buf[64], *heap = NULL;
    switch (v->type) {
    case LV_STRING:
        a.value_case = V_STRING;
        if (v->nul_ended) {
            a.string_value = (char *)v->s;
        } else if (v->len < sizeof buf) {
            memcpy(buf, v->s, v->len);
            buf[v->len] = '\0';
            a.string_value = buf;
        } else {
            heap = malloc(v->len + 1);
            if (!heap)
                return false;
            memcpy(heap, v->s, v->len);
            heap[v->len] = '\0';
            a.string_value = heap;
        }
        break;
    case LV_INT:
        a.value_case = V_INT;
        a.int_value = v->i;
        break;
    case LV_DOUBLE:
        a.value_case = V_DOUBLE;
        a.double_value = v->d;
        break;
    case LV_BOOL:
        a.value_case = V_BOOL;
        a.bool_value = v->b;
        break;
    default:
        return false;
    }
    bool ok = count ? attr_count(&a, i) : attr_number(&a, d);
    free(heap);
    return ok;
}

static bool val_number(const struct lm_val *v, double *out)
{
    return val_numeric(v, false, out, NULL);
}

static bool val_count(const struct lm_val *v, int64_t *out)
{
    return val_numeric(v, true, NULL, out);
}

/* A text: pointer and length; p NULL when absent. */
struct text {
    const char *p;
    size_t n;
};

/* A non-empty string (attr_str). */
static struct text val_str(const struct lm_val *v)
{
    if (v->type == LV_STRING && v->len)
        return (struct text){v->s, v->len};
    return (struct text){NULL, 0};
}

static bool text_is(struct text t, const char *s)
{
    size_t n = strlen(s);
    return t.n == n && memcmp(t.p, s, n) == 0;
}

static struct text text_of(const char *s)
{
    return (struct text){s, strlen(s)};
}

/* A scalar as text (ints in decimal); absent for an empty string, arrays, maps and bytes. */
static struct text val_text(const struct lm_val *v, char *buf, size_t len)
{
    int n;
    switch (v->type) {
    case LV_STRING:
        return val_str(v);
    case LV_INT:
        n = snprintf(buf, len, "%" PRId64, v->i);
        break;
    case LV_DOUBLE:
        n = snprintf(buf, len, "%.15g", v->d);
        break;
    case LV_BOOL:
        return text_of(v->b ? "true" : "false");
    default:
        return (struct text){NULL, 0};
    }
    return (struct text){buf, n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1};
}

/* A scalar into a series key with its type (lm_key_any); false (nothing appended) otherwise. */
static bool key_val(struct lm_key *k, const char *name, const struct lm_val *v)
{
    switch (v->type) {
    case LV_STRING:
        lm_key_strn(k, name, v->s, v->len);
        return true;
    case LV_INT:
        lm_key_int(k, name, v->i);
        return true;
    case LV_DOUBLE:
        lm_key_double(k, name, v->d);
        return true;
    case LV_BOOL:
        lm_key_bool(k, name, v->b);
        return true;
    default:
        return false;
    }
}

static void key_text(struct lm_key *k, const char *name, struct text t)
{
    lm_key_strn(k, name, t.p, t.n);
}

/* One span and its resource, from either reader. */
struct span_src {
    bool wire;                     /* the index reader, else the struct reader */
    const otlp_span *s;            /* struct reader */
    const otlp_resource *res;
    const struct wi_item *it;      /* index reader */
    const struct wi_attr **got;    /* index reader: the span's attribute of each field */
    const struct wi_resource *wres;
    uint64_t start_ns, end_ns;
    bool status_error;
};

/* Index reader: one pass over the span's attributes of interest fills got[field] with the first
 * live attribute of each key the connector reads (what wi_item_attr would find for it), instead
 * of one scan per name. */
static void gather(const struct llm_metrics *lm, const struct wi_item *it,
                   const struct wi_attr **got)
{
    memset(got, 0, lm->n_keys * sizeof *got);
    for (uint32_t i = 0; i < it->attrs.n; i++) {
        const struct wi_attr *at = &it->attrs.a[i];
        if (at->state == WI_DELETED)
            continue;
        for (uint32_t s = at->hash & lm->slot_mask; lm->slots[s]; s = (s + 1) & lm->slot_mask) {
            const struct lm_name *n = lm->keys[lm->slots[s] - 1];
            if (n->hash == at->hash && n->len == at->key_len && wire_bytes_eq(n->s, at->key, n->len)) {
                if (!got[n->field])
                    got[n->field] = at;
                break;
            }
        }
    }
}

static void src_attr(const struct span_src *src, const struct lm_name *n, struct lm_val *out)
{
    if (src->wire) {
        const struct wi_attr *at = src->got[n->field];
        if (at) {
            val_from_wi(&at->v, out);
            return;
        }
        memset(out, 0, sizeof *out);
        return;
    }
    val_from_any(attr_find(src->s->attributes, src->s->n_attributes, n->s), out);
}

static void src_res_attr(const struct span_src *src, const struct lm_name *n, struct lm_val *out)
{
    if (src->wire) {
        const struct wi_attr *at =
            src->wres ? wi_attrs_find(&src->wres->attrs, n->s, n->len, n->hash) : NULL;
        if (at) {
            val_from_wi(&at->v, out);
            return;
        }
        memset(out, 0, sizeof *out);
        return;
    }
    val_from_any(src->res ? attr_find(src->res->attributes, src->res->n_attributes, n->s) : NULL,
                 out);
}

/* The rate-limit figure: a number, or the first element of an array (the semconv form of
 * http.response.header.* attributes). */
static bool val_ratelimit(const struct lm_val *v, double *out)
{
    if (v->type == LV_ARRAY) {
        struct lm_val first;
        val_first(v, &first);
        return val_number(&first, out);
    }
    return val_number(v, out);
}

static bool inference_operation(struct text op)
{
    static const char *const ops[] = {"chat", "text_completion", "generate_content", "embeddings"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (text_is(op, ops[i]))
            return true;
    return false;
}

/* What one LLM span contributes, read before the lock is taken. */
struct span_view {
    struct text op, provider, req_model, resp_model, address;
    bool has_port;
    int64_t port;
    bool status_error;
    struct text error_type;        /* the attribute's text, p NULL when absent */
    char error_buf[32];
};

static struct text src_str(const struct span_src *src, const struct lm_name *n)
{
    struct lm_val v;
    src_attr(src, n, &v);
    return val_str(&v);
}

static bool span_read(const struct llm_metrics *lm, const struct span_src *src,
                      struct span_view *v)
{
    const struct lm_name *fx = lm->fixed;
    memset(v, 0, sizeof *v);
    v->op = src_str(src, &fx[N_OP]);
    if (v->op.p && !inference_operation(v->op))
        return false;
    v->provider = src_str(src, &fx[N_PROVIDER]);
    if (!v->provider.p)
        v->provider = src_str(src, &fx[N_SYSTEM]);
    v->req_model = src_str(src, &fx[N_REQ_MODEL]);
    v->resp_model = src_str(src, &fx[N_RESP_MODEL]);
    if (!v->provider.p && !v->req_model.p && !v->resp_model.p)
        return false;
    v->address = src_str(src, &fx[N_ADDRESS]);
    struct lm_val port;
    src_attr(src, &fx[N_PORT], &port);
    double d;
    if (port.type == LV_INT) {
        v->has_port = true;
        v->port = port.i;
    } else if (val_number(&port, &d) && d == floor(d) && d >= 0 && d <= 65535) {
        v->has_port = true;
        v->port = (int64_t)d;
    }
    v->status_error = src->status_error;
    struct lm_val et;
    src_attr(src, &fx[N_ERROR_TYPE], &et);
    v->error_type = val_text(&et, v->error_buf, sizeof v->error_buf);
    return true;
}

/* ---- recording ------------------------------------------------------------------------------- */

/* Every update a span may make, one slot each in its label set's cache entry (series.h). */
enum slot {
    S_REQ_DURATION, S_REQ_COUNT, S_TOKENS_IN, S_TOKENS_OUT, S_COST, S_AVAILABILITY, S_RATELIMIT,
    S_OP_DURATION, S_USAGE_IN, S_USAGE_OUT, N_SLOTS
};
_Static_assert(N_SLOTS == LM_LSET_SLOTS, "one cache slot per update a span may make");

static const uint8_t slot_metric[N_SLOTS] = {
    [S_REQ_DURATION] = LM_REQ_DURATION, [S_REQ_COUNT] = LM_REQ_COUNT,
    [S_TOKENS_IN] = LM_TOKENS_IN,       [S_TOKENS_OUT] = LM_TOKENS_OUT,
    [S_COST] = LM_COST,                 [S_AVAILABILITY] = LM_AVAILABILITY,
    [S_RATELIMIT] = LM_RATELIMIT,       [S_OP_DURATION] = LM_OP_DURATION,
    [S_USAGE_IN] = LM_TOKEN_USAGE,      [S_USAGE_OUT] = LM_TOKEN_USAGE,
};

enum update_op { OP_ADD_INT, OP_ADD_DOUBLE, OP_OBSERVE, OP_GAUGE, OP_AVAIL };

struct update {
    uint8_t slot, op;
    int64_t i;                     /* OP_ADD_INT; OP_GAUGE: stamp; OP_AVAIL: failed */
    double d;
};

/* What one span's series keys are made of. Texts point into the request (index or structs) or
 * into the buffers here, so a labels lives on the stack for the span's time only. */
struct labels {
    const struct span_view *v;
    struct text provider, model, tenant, status;
    char tbuf[32], sbuf[32];
};

struct recorder {
    struct lm_key keys;            /* one series key, built when the label set's slot is empty */
    struct lm_key dims;            /* the span's dimensions, built once, appended per metric */
    struct lm_key lset;            /* the label set: the resource's part, then the span's */
    size_t lset_res;               /* bytes of lset that are the resource's */
    struct update u[N_SLOTS];
    size_t n;
};

static void rec_add(struct recorder *r, enum slot s, enum update_op op, int64_t i, double d)
{
    struct update *u = &r->u[r->n++];
    u->slot = (uint8_t)s;
    u->op = (uint8_t)op;
    u->i = i;
    u->d = d;
}

/* Each configured dimension from the span, else from its resource; left out when neither holds
 * a scalar. */
static void build_dimensions(const struct llm_metrics *lm, struct lm_key *k,
                             const struct span_src *src)
{
    const struct config_str_list *d = &lm->cfg->dimensions;
    for (size_t i = 0; i < d->n; i++) {
        struct lm_val v;
        src_attr(src, &lm->dims[i], &v);
        if (!key_val(k, d->items[i], &v)) {
            src_res_attr(src, &lm->dims[i], &v);
            key_val(k, d->items[i], &v);
        }
    }
}

static void add_semconv(struct lm_key *k, const struct span_view *v)
{
    if (v->op.p)
        key_text(k, "gen_ai.operation.name", v->op);
    if (v->provider.p)
        key_text(k, "gen_ai.provider.name", v->provider);
    if (v->req_model.p)
        key_text(k, "gen_ai.request.model", v->req_model);
    if (v->resp_model.p)
        key_text(k, "gen_ai.response.model", v->resp_model);
    if (v->address.p)
        key_text(k, "server.address", v->address);
    if (v->has_port)
        lm_key_int(k, "server.port", v->port);
}

/* The attribute bytes of a slot's series key (the resource's part aside). */
static void slot_key(struct lm_key *k, enum slot s, const struct labels *lb,
                     const struct lm_key *dims)
{
    const struct span_view *v = lb->v;
    switch (s) {
    case S_REQ_DURATION:
        key_text(k, "provider", lb->provider);
        key_text(k, "model", lb->model);
        lm_key_append(k, dims->p, dims->n);
        break;
    case S_REQ_COUNT:
        key_text(k, "tenant", lb->tenant);
        key_text(k, "provider", lb->provider);
        key_text(k, "status", lb->status);
        lm_key_append(k, dims->p, dims->n);
        break;
    case S_TOKENS_IN:
    case S_TOKENS_OUT:
        key_text(k, "tenant", lb->tenant);
        key_text(k, "model", lb->model);
        lm_key_append(k, dims->p, dims->n);
        break;
    case S_COST:
        key_text(k, "tenant", lb->tenant);
        lm_key_append(k, dims->p, dims->n);
        break;
    case S_AVAILABILITY:
        key_text(k, "provider", lb->provider);
        break;
    case S_RATELIMIT:
        key_text(k, "tenant", lb->tenant);
        break;
    case S_OP_DURATION:
        add_semconv(k, v);
        if (v->error_type.p)
            key_text(k, "error.type", v->error_type);
        else if (v->status_error)
            lm_key_str(k, "error.type", "_OTHER");
        break;
    default:
        add_semconv(k, v);
        lm_key_str(k, "gen_ai.token.type", s == S_USAGE_IN ? "input" : "output");
    }
}

/* A text in the label set: its length (UINT32_MAX when absent), then its bytes. */
static uint8_t *lset_text(uint8_t *p, struct text t)
{
    uint32_t n = t.p ? (uint32_t)t.n : UINT32_MAX;
    memcpy(p, &n, sizeof n);
    p += sizeof n;
    if (t.p && t.n) {
        memcpy(p, t.p, t.n);
        p += t.n;
    }
    return p;
}

/* The span's part of its label set, after the resource's: every input of slot_key, each
 * length-prefixed, so that two spans have the same label set only if every key of theirs is the
 * same (the converse need not hold: tenant "unknown" and no tenant share series, not a label
 * set). The provider and model labels are not there: they follow from the semconv texts. */
static void lset_build(struct recorder *r, const struct labels *lb)
{
    const struct span_view *v = lb->v;
    const struct text t[] = {v->op,         v->provider,   v->req_model, v->resp_model,
                             v->address,    v->error_type, lb->tenant,   lb->status};
    const size_t nt = sizeof t / sizeof t[0];
    size_t len = 2 + sizeof(int64_t) + (nt + 1) * sizeof(uint32_t) + r->dims.n;
    for (size_t i = 0; i < nt; i++)
        len += t[i].p ? t[i].n : 0;
    r->lset.n = r->lset_res;
    uint8_t *p = lm_key_grow(&r->lset, len);
    if (!p)
        return;
    *p++ = v->status_error;
    *p++ = v->has_port;
    int64_t port = v->has_port ? v->port : 0;
    memcpy(p, &port, sizeof port);
    p += sizeof port;
    for (size_t i = 0; i < nt; i++)
        p = lset_text(p, t[i]);
    p = lset_text(p, (struct text){(const char *)r->dims.p, r->dims.n});
    r->lset.n = (size_t)(p - r->lset.p); /* what was written, were len ever too large */
}

/* Starts the label set of a resource's spans with the resource's key. */
static void lset_resource(struct recorder *r, const struct lm_key *res)
{
    r->lset.n = 0;
    uint32_t n = (uint32_t)res->n;
    lm_key_append(&r->lset, (const uint8_t *)&n, sizeof n);
    lm_key_append(&r->lset, res->p, res->n);
    r->lset_res = r->lset.n;
}

/* Reads the span's labels and values: fills *lb, the recorder's updates, dimensions and label
 * set. */
static void span_updates(const struct llm_metrics *lm, struct recorder *r,
                         const struct span_src *src, const struct span_view *v, struct labels *lb)
{
    const struct lm_name *fx = lm->fixed;
    struct lm_val val;
    lb->v = v;
    lb->provider = v->provider.p ? v->provider : text_of("unknown");
    lb->model = v->resp_model.p ? v->resp_model
                : v->req_model.p ? v->req_model
                                 : text_of("unknown");
    src_attr(src, &lm->tenant, &val);
    lb->tenant = val_text(&val, lb->tbuf, sizeof lb->tbuf);
    if (!lb->tenant.p) {
        src_res_attr(src, &lm->tenant, &val);
        lb->tenant = val_text(&val, lb->tbuf, sizeof lb->tbuf);
    }
    if (!lb->tenant.p)
        lb->tenant = text_of("unknown");
    lb->status = (struct text){NULL, 0};
    if (lm->has_status) {
        src_attr(src, &lm->status, &val);
        lb->status = val_text(&val, lb->sbuf, sizeof lb->sbuf);
    }
    if (!lb->status.p)
        lb->status = text_of(v->status_error ? "error" : "ok");
    double secs = src->end_ns >= src->start_ns ? (double)(src->end_ns - src->start_ns) / 1e9 : 0;
    int64_t in = 0, out = 0;
    src_attr(src, &fx[N_TOKENS_IN], &val);
    bool has_in = val_count(&val, &in);
    src_attr(src, &fx[N_TOKENS_OUT], &val);
    bool has_out = val_count(&val, &out);
    double cost;
    src_attr(src, &fx[N_COST], &val);
    bool has_cost = val_number(&val, &cost) && cost >= 0;
    double remaining = 0;
    bool has_remaining = false;
    for (size_t i = 0; i < lm->cfg->attribute_names.ratelimit_remaining.n && !has_remaining; i++) {
        src_attr(src, &lm->ratelimit[i], &val);
        has_remaining = val_ratelimit(&val, &remaining);
    }
    r->dims.n = 0;
    build_dimensions(lm, &r->dims, src);
    if (r->dims.oom)
        r->lset.oom = true;
    lset_build(r, lb);

    /* In the order series were always made in: the export lists a metric's series by age. */
    rec_add(r, S_REQ_DURATION, OP_OBSERVE, 0, secs);
    rec_add(r, S_REQ_COUNT, OP_ADD_INT, 1, 0);
    if (has_in)
        rec_add(r, S_TOKENS_IN, OP_ADD_INT, in, 0);
    if (has_out)
        rec_add(r, S_TOKENS_OUT, OP_ADD_INT, out, 0);
    if (has_cost)
        rec_add(r, S_COST, OP_ADD_DOUBLE, 0, cost * 100); /* the seed's counter is in cents */
    rec_add(r, S_AVAILABILITY, OP_AVAIL, v->status_error || v->error_type.p, 0);
    if (has_remaining)
        rec_add(r, S_RATELIMIT, OP_GAUGE, (int64_t)src->end_ns, remaining);
    rec_add(r, S_OP_DURATION, OP_OBSERVE, 0, secs);
    if (has_in)
        rec_add(r, S_USAGE_IN, OP_OBSERVE, 0, (double)in);
    if (has_out)
        rec_add(r, S_USAGE_OUT, OP_OBSERVE, 0, (double)out);
}

/* The series of one update: the label set's slot, else looked up by its key (and kept in the
 * slot). NULL on out of memory. */
static struct lm_series *slot_series(struct llm_metrics *lm, struct lm_lset *ls,
                                     const struct lm_key *res, struct recorder *r,
                                     const struct labels *lb, enum slot s, int64_t now)
{
    if (ls && ls->slot[s])
        return ls->slot[s];
    r->keys.n = 0;
    slot_key(&r->keys, s, lb, &r->dims);
    if (r->keys.oom) {
        r->keys.oom = false;
        return NULL;
    }
    bool of;
    struct lm_series *se = lm_store_get(&lm->store, slot_metric[s], res->p, res->n, r->keys.p,
                                        r->keys.n, now, &of);
    if (ls)
        ls->slot[s] = se;
    return se;
}

/* Applies the recorder's updates under the lock. Returns a metric that overflowed for the first
 * time (to be logged once, outside the lock), else -1. */
static int apply_updates(struct llm_metrics *lm, const struct lm_key *res, struct recorder *r,
                         const struct labels *lb)
{
    int first_overflow = -1;
    uint64_t overflowed = 0, lost = 0;
    uint64_t h = lm_lset_hash(r->lset.p, r->lset.n);
    pthread_mutex_lock(&lm->lock);
    int64_t now = lm_now_locked(lm);
    struct lm_lset *ls = lm_lcache_get(&lm->cache, r->lset.p, r->lset.n, h);
    for (size_t i = 0; i < r->n; i++) {
        const struct update *u = &r->u[i];
        struct lm_series *se = slot_series(lm, ls, res, r, lb, u->slot, now);
        if (!se) {
            lost++;
            continue;
        }
        if (se->overflow) {
            overflowed++;
            if (!lm->overflow_logged[se->metric]) {
                lm->overflow_logged[se->metric] = true;
                first_overflow = se->metric;
            }
        }
        switch (u->op) {
        case OP_ADD_INT:
            lm_series_add_int(se, u->i);
            break;
        case OP_ADD_DOUBLE:
            lm_series_add_double(se, u->d);
            break;
        case OP_OBSERVE:
            lm_series_observe(&lm->store, se, u->d);
            break;
        case OP_GAUGE:
            lm_series_gauge_set(se, u->d, u->i);
            break;
        default:
            lm_series_avail_record(&lm->store, se, now, u->i != 0);
        }
    }
    int64_t n_series = (int64_t)lm->store.n_all;
    pthread_mutex_unlock(&lm->lock);
    telemetry_add(lm->overflow_points, overflowed);
    telemetry_add(lm->dropped, lost);
    telemetry_set(lm->series, n_series);
    return first_overflow;
}
/* Records one LLM span (or ignores another). */
static void consume_span(struct llm_metrics *lm, struct lm_key *res, struct recorder *r,
                         const struct span_src *src, uint64_t *llm_spans)
{
    struct span_view v;
    if (!span_read(lm, src, &v))
        return;
    (*llm_spans)++;
    r->n = 0;
    struct labels lb;
    span_updates(lm, r, src, &v, &lb);
    if (res->oom || r->lset.oom) {
        /* res->oom stays: the resource's key is cut for all its spans. */
        telemetry_add(lm->dropped, r->n);
        r->lset.oom = r->dims.oom = false;
        return;
    }
    int m = apply_updates(lm, res, r, &lb);
    if (m >= 0)
        log_warn(lm->log_name,
                 "%s: more than %" PRId64 " attribute sets; further ones are "
                 "aggregated into its otel.metric.overflow=true series",
                 lm_metric_info[m].name, lm->cfg->max_series);
}

/* The resource's series key (its kept attributes) and the start of its spans' label sets. */
static void begin_resource(struct llm_metrics *lm, struct lm_key *res, struct recorder *r,
                           const struct span_src *src)
{
    res->n = 0;
    res->oom = false;
    for (size_t a = 0; a < lm->cfg->resource_attributes.n; a++) {
        struct lm_val val;
        src_res_attr(src, &lm->resattrs[a], &val);
        key_val(res, lm->cfg->resource_attributes.items[a], &val);
    }
    lset_resource(r, res);
    if (r->lset.oom)
        res->oom = true;
    r->lset.oom = false;
}

/* The production reader: the batch's span index (built here if no processor built it). */
static int consume_index(struct llm_metrics *lm, struct batch *b, struct lm_key *res,
                         struct recorder *r, uint64_t *llm_spans)
{
    struct error err = {0};
    const struct wire_index *ix = batch_index(b, lm->interest, &err);
    if (!ix) {
        /* Receivers validated the bytes: what fails here is memory. The spans are still
         * delivered by the pipeline's other exporters; only these metrics miss them. */
        log_error(lm->log_name, "cannot index a request, its spans are not counted: %s", err.msg);
        return -1;
    }
    const struct wi_attr **got = malloc(lm->n_keys * sizeof *got);
    if (!got) {
        log_error(lm->log_name, "out of memory: a request's spans are not counted");
        return -1;
    }
    for (uint32_t i = 0; i < ix->n_resources; i++) {
        const struct wi_resource *wr = &ix->resources[i];
        struct span_src src = {.wire = true, .wres = wr, .got = got};
        begin_resource(lm, res, r, &src);
        for (uint32_t sc = wr->first_scope; sc < wr->first_scope + wr->n_scopes; sc++) {
            const struct wi_scope *scope = &ix->scopes[sc];
            for (uint32_t k = scope->first_item; k < scope->first_item + scope->n_items; k++) {
                const struct wi_item *it = &ix->items[k];
                if (it->flags & WI_ITEM_DROPPED)
                    continue;
                src.it = it;
                gather(lm, it, got);
                src.start_ns = it->start_ns;
                src.end_ns = it->end_ns;
                src.status_error = it->status_code == STATUS_ERROR;
                consume_span(lm, res, r, &src, llm_spans);
            }
        }
    }
    free(got);
    return 0;
}

/* The struct reader: the batch's decoded face (the differential test's reference). */
static int consume_structs(struct llm_metrics *lm, struct batch *b, struct lm_key *res,
                           struct recorder *r, uint64_t *llm_spans)
{
    struct error err = {0};
    const trace_request *req = (const trace_request *)batch_decoded(b, &err);
    if (!req) {
        log_error(lm->log_name, "cannot decode a request, its spans are not counted: %s", err.msg);
        return -1;
    }
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[i];
        if (!rs)
            continue;
        struct span_src src = {.res = rs->resource};
        begin_resource(lm, res, r, &src);
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[j];
            for (size_t k = 0; ss && k < ss->n_spans; k++) {
                const otlp_span *s = ss->spans[k];
                if (!s)
                    continue;
                src.s = s;
                src.start_ns = s->start_time_unix_nano;
                src.end_ns = s->end_time_unix_nano;
                src.status_error = s->status && s->status->code == STATUS_ERROR;
                consume_span(lm, res, r, &src, llm_spans);
            }
        }
    }
    return 0;
}

static enum consume_status llm_metrics_consume(void *self, struct batch *b)
{
    struct llm_metrics *lm = self;
    if (b->signal != SIGNAL_TRACES)
        return CONSUME_REJECT;
    struct lm_key res = {0};
    struct recorder r;
    memset(&r, 0, sizeof r);
    uint64_t llm_spans = 0;
    if (atomic_load_explicit(&lm->read_structs, memory_order_relaxed))
        consume_structs(lm, b, &res, &r, &llm_spans);
    else
        consume_index(lm, b, &res, &r, &llm_spans);
    lm_key_free(&res);
    lm_key_free(&r.keys);
    lm_key_free(&r.dims);
    lm_key_free(&r.lset);
    telemetry_add(lm->spans, llm_spans);
    return CONSUME_OK;
}

/* ---- export ---------------------------------------------------------------------------------- */

/* One series as an export saw it. */
struct snap {
    struct lm_series *se;
    uint8_t metric;
    uint64_t seq, gen;
    int64_t start;
    int64_t ival;                  /* LM_SUM_INT; LM_GAUGE_AVAIL: 0 or 1 */
    double dval;
    uint64_t count;
    double sum, min, max;
    uint64_t *buckets;             /* in the request's arena */
};

static int snap_cmp(const void *pa, const void *pb)
{
    const struct snap *a = pa, *b = pb;
    if (a->se->res_len != b->se->res_len)
        return a->se->res_len < b->se->res_len ? -1 : 1;
    int c = memcmp(a->se->key, b->se->key, a->se->res_len);
    if (c)
        return c;
    if (a->metric != b->metric)
        return a->metric < b->metric ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool same_resource(const struct snap *a, const struct snap *b)
{
    return a->se->res_len == b->se->res_len && memcmp(a->se->key, b->se->key, a->se->res_len) == 0;
}

/* Copies what the export reports into *out (in the request's arena). Under delta, sums and
 * histograms unchanged since the last export taken are left out; gauges are always reported.
 * -1 on out of memory. */
static int snapshot(struct llm_metrics *lm, struct arena *a, int64_t now, struct snap **out,
                    size_t *n)
{
    struct lm_store *st = &lm->store;
    *out = NULL;
    *n = 0;
    if (st->n_all == 0)
        return 0;
    struct snap *snaps = arena_alloc(a, st->n_all * sizeof *snaps);
    if (!snaps)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < st->n_all; i++) {
        struct lm_series *se = st->all[i];
        enum lm_kind kind = lm_metric_info[se->metric].kind;
        bool gauge = kind == LM_GAUGE_DOUBLE || kind == LM_GAUGE_AVAIL;
        if (lm->delta && !gauge && se->gen == se->exported_gen)
            continue;
        struct snap *sn = &snaps[k];
        memset(sn, 0, sizeof *sn);
        sn->se = se;
        sn->metric = se->metric;
        sn->seq = se->seq;
        sn->gen = se->gen;
        sn->start = se->start;
        sn->ival = se->ival;
        sn->dval = se->dval;
        if (kind == LM_GAUGE_AVAIL)
            sn->ival = lm_series_available(st, se, now, lm->cfg->availability_error_threshold);
        if (kind == LM_HISTOGRAM) {
            sn->count = se->count;
            sn->sum = se->sum;
            sn->min = se->min;
            sn->max = se->max;
            sn->buckets = arena_memdup(a, se->buckets, se->n_buckets * sizeof *se->buckets);
            if (!sn->buckets)
                return -1;
        }
        k++;
    }
    *out = snaps;
    *n = k;
    return 0;
}

/* What the downstream took is no longer owed: subtract it, and a series with no update since
 * its snapshot is clean again (its float residue dropped). */
static void subtract(const struct snap *snaps, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        const struct snap *sn = &snaps[i];
        struct lm_series *se = sn->se;
        enum lm_kind kind = lm_metric_info[se->metric].kind;
        if (kind == LM_GAUGE_DOUBLE || kind == LM_GAUGE_AVAIL)
            continue;
        bool clean = se->gen == sn->gen;
        se->ival -= sn->ival;
        se->dval = clean ? 0 : se->dval - sn->dval;
        if (kind == LM_HISTOGRAM) {
            se->count -= sn->count;
            se->sum = clean ? 0 : se->sum - sn->sum;
            for (size_t b = 0; b < se->n_buckets; b++)
                se->buckets[b] -= sn->buckets[b];
            if (clean) {
                se->min = INFINITY;
                se->max = -INFINITY;
            }
        }
        if (clean)
            se->exported_gen = sn->gen;
        se->start = now;
    }
}

static otlp_kv **decode_attrs(struct arena *a, const uint8_t *p, size_t n, size_t *count,
                              bool *oom)
{
    otlp_kv **kvs;
    if (lm_key_decode(p, n, a, &kvs, count) != 0)
        *oom = true;
    return kvs;
}

static otlp_ndp *number_point(struct arena *a, const struct snap *sn, int64_t now, bool *oom)
{
    otlp_ndp *p = arena_alloc(a, sizeof *p);
    if (!p) {
        *oom = true;
        return NULL;
    }
    opentelemetry__proto__metrics__v1__number_data_point__init(p);
    const struct lm_series *se = sn->se;
    p->attributes = decode_attrs(a, se->key + se->res_len, se->attr_len, &p->n_attributes, oom);
    p->time_unix_nano = (uint64_t)now;
    switch (lm_metric_info[sn->metric].kind) {
    case LM_SUM_INT:
        p->start_time_unix_nano = (uint64_t)sn->start;
        p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        p->as_int = sn->ival;
        break;
    case LM_SUM_DOUBLE:
        p->start_time_unix_nano = (uint64_t)sn->start;
        p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
        p->as_double = sn->dval;
        break;
    case LM_GAUGE_AVAIL:
        p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        p->as_int = sn->ival;
        break;
    default:
        p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
        p->as_double = sn->dval;
    }
    return p;
}

static otlp_hdp *histogram_point(struct llm_metrics *lm, struct arena *a, const struct snap *sn,
                                 int64_t now, bool *oom)
{
    otlp_hdp *p = arena_alloc(a, sizeof *p);
    if (!p) {
        *oom = true;
        return NULL;
    }
    opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
    const struct lm_series *se = sn->se;
    p->attributes = decode_attrs(a, se->key + se->res_len, se->attr_len, &p->n_attributes, oom);
    p->start_time_unix_nano = (uint64_t)sn->start;
    p->time_unix_nano = (uint64_t)now;
    p->count = sn->count;
    p->_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM;
    p->sum = sn->sum;
    p->n_bucket_counts = se->n_buckets;
    p->bucket_counts = sn->buckets;
    p->n_explicit_bounds = lm->store.n_bounds[sn->metric];
    /* Copied: the request may outlive the connector in an exporter's queue. */
    p->explicit_bounds = arena_memdup(a, lm->store.bounds[sn->metric],
                                      p->n_explicit_bounds * sizeof(double));
    if (!p->explicit_bounds)
        *oom = true;
    /* Under delta the extremes of what was reported cannot be told apart from those of what
     * arrived after the snapshot, so they are only given for cumulative points. */
    if (!lm->delta && sn->count > 0) {
        p->_min_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MIN_MIN;
        p->min = sn->min;
        p->_max_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MAX_MAX;
        p->max = sn->max;
    }
    return p;
}

static otlp_metric *build_metric(struct llm_metrics *lm, struct arena *a, const struct snap *sn,
                                 size_t n, int64_t now, bool *oom)
{
    const struct lm_metric_info *info = &lm_metric_info[sn->metric];
    otlp_metric *m = arena_alloc(a, sizeof *m);
    void **points = arena_alloc(a, n * sizeof *points);
    if (!m || !points) {
        *oom = true;
        return NULL;
    }
    opentelemetry__proto__metrics__v1__metric__init(m);
    m->name = (char *)info->name;
    m->unit = (char *)info->unit;
    m->description = (char *)info->description;
    int temporality = lm->delta ? TEMPORALITY_DELTA : TEMPORALITY_CUMULATIVE;
    for (size_t i = 0; i < n; i++)
        points[i] = info->kind == LM_HISTOGRAM ? (void *)histogram_point(lm, a, &sn[i], now, oom)
                                               : (void *)number_point(a, &sn[i], now, oom);
    if (*oom)
        return NULL;
    switch (info->kind) {
    case LM_SUM_INT:
    case LM_SUM_DOUBLE: {
        Opentelemetry__Proto__Metrics__V1__Sum *sum = arena_alloc(a, sizeof *sum);
        if (!sum)
            break;
        opentelemetry__proto__metrics__v1__sum__init(sum);
        sum->aggregation_temporality = temporality;
        sum->is_monotonic = 1;
        sum->n_data_points = n;
        sum->data_points = (otlp_ndp **)points;
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
        m->sum = sum;
        return m;
    }
    case LM_HISTOGRAM: {
        Opentelemetry__Proto__Metrics__V1__Histogram *h = arena_alloc(a, sizeof *h);
        if (!h)
            break;
        opentelemetry__proto__metrics__v1__histogram__init(h);
        h->aggregation_temporality = temporality;
        h->n_data_points = n;
        h->data_points = (otlp_hdp **)points;
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
        m->histogram = h;
        return m;
    }
    default: {
        Opentelemetry__Proto__Metrics__V1__Gauge *g = arena_alloc(a, sizeof *g);
        if (!g)
            break;
        opentelemetry__proto__metrics__v1__gauge__init(g);
        g->n_data_points = n;
        g->data_points = (otlp_ndp **)points;
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
        m->gauge = g;
        return m;
    }
    }
    *oom = true;
    return NULL;
}

/* One ResourceMetrics per resource (snaps sorted by resource, then metric), one scope each. */
static metrics_request *build_request(struct llm_metrics *lm, struct arena *a, struct snap *snaps,
                                      size_t n, int64_t now)
{
    bool oom = false;
    metrics_request *req = arena_alloc(a, sizeof *req);
    otlp_rm **rms = arena_alloc(a, n * sizeof *rms);
    if (!req || !rms)
        return NULL;
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(req);
    req->resource_metrics = rms;
    for (size_t i = 0; i < n && !oom;) {
        size_t j = i;
        while (j < n && same_resource(&snaps[j], &snaps[i]))
            j++;
        otlp_rm *rm = arena_alloc(a, sizeof *rm);
        Opentelemetry__Proto__Resource__V1__Resource *res = arena_alloc(a, sizeof *res);
        otlp_sm *sm = arena_alloc(a, sizeof *sm);
        otlp_sm **sms = arena_alloc(a, sizeof *sms);
        Opentelemetry__Proto__Common__V1__InstrumentationScope *scope =
            arena_alloc(a, sizeof *scope);
        otlp_metric **metrics = arena_alloc(a, LM_METRIC_COUNT * sizeof *metrics);
        if (!rm || !res || !sm || !sms || !scope || !metrics)
            return NULL;
        opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
        opentelemetry__proto__resource__v1__resource__init(res);
        opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
        opentelemetry__proto__common__v1__instrumentation_scope__init(scope);
        res->attributes = decode_attrs(a, snaps[i].se->key, snaps[i].se->res_len,
                                       &res->n_attributes, &oom);
        scope->name = (char *)SCOPE_NAME;
        scope->version = (char *)SCOPE_VERSION;
        sm->scope = scope;
        sm->metrics = metrics;
        sms[0] = sm;
        rm->resource = res;
        rm->scope_metrics = sms;
        rm->n_scope_metrics = 1;
        for (size_t p = i; p < j && !oom;) {
            size_t q = p;
            while (q < j && snaps[q].metric == snaps[p].metric)
                q++;
            metrics[sm->n_metrics++] = build_metric(lm, a, &snaps[p], q - p, now, &oom);
            p = q;
        }
        rms[req->n_resource_metrics++] = rm;
        i = j;
    }
    return oom ? NULL : req;
}

static enum consume_status export_now(struct llm_metrics *lm, size_t *points_out)
{
    *points_out = 0;
    pthread_mutex_lock(&lm->export_lock);
    struct arena *a = arena_new(16384);
    if (!a) {
        pthread_mutex_unlock(&lm->export_lock);
        telemetry_add(lm->exports_failed, 1);
        log_error(lm->log_name, "out of memory: export skipped");
        return CONSUME_RETRY;
    }
    size_t n;
    struct snap *snaps;
    pthread_mutex_lock(&lm->lock);
    int64_t now = lm_now_locked(lm);
    int src = snapshot(lm, a, now, &snaps, &n);
    pthread_mutex_unlock(&lm->lock);
    if (src == 0 && n == 0) {
        arena_free(a);
        pthread_mutex_unlock(&lm->export_lock);
        return CONSUME_OK; /* nothing to send */
    }
    metrics_request *req = NULL;
    if (src == 0) {
        qsort(snaps, n, sizeof *snaps, snap_cmp);
        req = build_request(lm, a, snaps, n, now);
    }
    struct batch *b = req ? batch_from_msg(SIGNAL_METRICS, a, &req->base) : NULL;
    if (!b) {
        arena_free(a);
        pthread_mutex_unlock(&lm->export_lock);
        telemetry_add(lm->exports_failed, 1);
        log_error(lm->log_name, "out of memory: export skipped");
        return CONSUME_RETRY;
    }
    enum consume_status rc = consumer_send(lm->next, b);
    if (rc == CONSUME_OK) {
        telemetry_add(lm->exports, 1);
        if (lm->delta) {
            pthread_mutex_lock(&lm->lock);
            subtract(snaps, n, now); /* snaps live in the arena the batch still holds */
            pthread_mutex_unlock(&lm->lock);
        }
        if (lm->export_failing)
            log_info(lm->log_name, "metrics export taken again");
        lm->export_failing = false;
    } else {
        telemetry_add(lm->exports_failed, 1);
        if (!lm->export_failing)
            log_warn(lm->log_name, "metrics export of %zu points refused (%s); %s", n,
                     rc == CONSUME_RETRY ? "retry later" : "rejected",
                     lm->delta ? "the next export carries them" : "the next export resends them");
        lm->export_failing = true;
    }
    batch_unref(b);
    pthread_mutex_unlock(&lm->export_lock);
    *points_out = n;
    return rc;
}

enum consume_status llm_metrics_flush(void *connector)
{
    size_t n;
    return export_now(connector, &n);
}

/* ---- timer ----------------------------------------------------------------------------------- */

static void export_tick(void *arg)
{
    size_t n;
    export_now(arg, &n);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void llm_metrics_destroy(void *self)
{
    struct llm_metrics *lm = self;
    if (!lm)
        return;
    ticker_stop(&lm->export_timer);
    lm_store_fini(&lm->store);
    lm_lcache_fini(&lm->cache);
    free(lm->dims);
    free(lm->ratelimit);
    free(lm->resattrs);
    free(lm->keys);
    free(lm->slots);
    pthread_mutex_destroy(&lm->export_lock);
    pthread_mutex_destroy(&lm->lock);
    free(lm->labels);
    free(lm->log_name);
    free(lm);
}

static int name_list(struct lm_name **out, const struct config_str_list *l,
                     struct wire_interest *in)
{
    *out = calloc(l->n ? l->n : 1, sizeof **out);
    if (!*out)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        name_init(&(*out)[i], l->items[i]);
        if (in && wire_interest_add_key(in, l->items[i]) != 0)
            return -1;
    }
    return 0;
}

/* Gives each span name its field, one per distinct key, and builds gather()'s table. */
static int keys_init(struct llm_metrics *lm)
{
    const struct llm_metrics_config *cfg = lm->cfg;
    size_t n = N_FIXED + 2 + cfg->dimensions.n + cfg->attribute_names.ratelimit_remaining.n;
    if (n >= UINT16_MAX)
        return -1;
    size_t cap = 64;
    while (cap < n * 4)
        cap *= 2;
    lm->keys = calloc(n, sizeof *lm->keys);
    lm->slots = calloc(cap, sizeof *lm->slots);
    if (!lm->keys || !lm->slots)
        return -1;
    lm->slot_mask = (uint32_t)cap - 1;
    struct lm_name **names = calloc(n, sizeof *names);
    if (!names)
        return -1;
    size_t k = 0;
    for (int i = 0; i < N_FIXED; i++)
        names[k++] = &lm->fixed[i];
    names[k++] = &lm->tenant;
    if (lm->has_status)
        names[k++] = &lm->status;
    for (size_t i = 0; i < cfg->dimensions.n; i++)
        names[k++] = &lm->dims[i];
    for (size_t i = 0; i < cfg->attribute_names.ratelimit_remaining.n; i++)
        names[k++] = &lm->ratelimit[i];
    for (size_t i = 0; i < k; i++) {
        struct lm_name *nm = names[i];
        uint32_t s = nm->hash & lm->slot_mask;
        for (; lm->slots[s]; s = (s + 1) & lm->slot_mask) {
            const struct lm_name *o = lm->keys[lm->slots[s] - 1];
            if (o->hash == nm->hash && o->len == nm->len && memcmp(o->s, nm->s, nm->len) == 0)
                break;
        }
        if (lm->slots[s]) {
            nm->field = lm->keys[lm->slots[s] - 1]->field;
            continue;
        }
        nm->field = lm->n_keys;
        lm->keys[lm->n_keys++] = nm;
        lm->slots[s] = (uint16_t)lm->n_keys;
    }
    free(names);
    return 0;
}

/* Hashes every name consume() reads and declares it in the service's index interest: an
 * attribute outside the interest is invisible in the index. */
static int names_init(struct llm_metrics *lm, struct wire_interest *in)
{
    const struct llm_metrics_config *cfg = lm->cfg;
    lm->interest = in;
    for (int i = 0; i < N_FIXED; i++) {
        name_init(&lm->fixed[i], fixed_names[i]);
        if (in && wire_interest_add_key(in, fixed_names[i]) != 0)
            return -1;
    }
    name_init(&lm->tenant, cfg->attribute_names.tenant);
    if (in && wire_interest_add_key(in, cfg->attribute_names.tenant) != 0)
        return -1;
    lm->has_status = cfg->attribute_names.status && cfg->attribute_names.status[0];
    if (lm->has_status) {
        name_init(&lm->status, cfg->attribute_names.status);
        if (in && wire_interest_add_key(in, cfg->attribute_names.status) != 0)
            return -1;
    }
    if (name_list(&lm->dims, &cfg->dimensions, in) != 0 ||
        name_list(&lm->ratelimit, &cfg->attribute_names.ratelimit_remaining, in) != 0 ||
        name_list(&lm->resattrs, &cfg->resource_attributes, in) != 0)
        return -1;
    return keys_init(lm);
}

void llm_metrics_read_structs(void *connector, bool on)
{
    struct llm_metrics *lm = connector;
    atomic_store(&lm->read_structs, on);
}

void llm_metrics_set_cache(void *connector, size_t max_label_sets)
{
    struct llm_metrics *lm = connector;
    pthread_mutex_lock(&lm->lock);
    lm_lcache_fini(&lm->cache);
    lm_lcache_init(&lm->cache, max_label_sets);
    pthread_mutex_unlock(&lm->lock);
}

/* Label sets the cache holds before it is emptied: twice what the busiest metric may have as
 * series (label sets that differ only where no key does, as an absent tenant and "unknown", share
 * series), and never fewer than LSET_MIN, so that a small max_series, whose label sets mostly go
 * to the overflow series, still hits. An entry is ~130 bytes plus its label set (~100). */
#define LSET_MIN 1024
static size_t lset_max(int64_t max_series)
{
    size_t n = (size_t)max_series * 2;
    return n > LSET_MIN ? n : LSET_MIN;
}

static void *llm_metrics_create(const void *cfgp, const struct component_env *env,
                                struct error *err)
{
    const struct llm_metrics_config *cfg = cfgp;
    if (!env->next[SIGNAL_METRICS]) {
        error_set(err, "no metrics pipeline receives from this connector");
        return NULL;
    }
    struct llm_metrics *lm = calloc(1, sizeof *lm);
    if (!lm) {
        error_set(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&lm->lock, NULL);
    pthread_mutex_init(&lm->export_lock, NULL);
    lm->cfg = cfg;
    lm->next = env->next[SIGNAL_METRICS];
    lm->delta = cfg->aggregation_temporality % 2 == LLM_METRICS_DELTA;
    lm->now = realtime_ns;
    const char *id = env->id ? env->id : "llm_metrics";
    lm->log_name = strdup(env->log_name ? env->log_name : "connector/llm_metrics");
    size_t ln = strlen(id) + 16;
    lm->labels = malloc(ln);
    const double *bounds[LM_METRIC_COUNT] = {0};
    size_t n_bounds[LM_METRIC_COUNT] = {0};
    bounds[LM_REQ_DURATION] = cfg->histogram_buckets.items;
    n_bounds[LM_REQ_DURATION] = cfg->histogram_buckets.n;
    bounds[LM_OP_DURATION] = op_duration_bounds;
    n_bounds[LM_OP_DURATION] = sizeof op_duration_bounds / sizeof op_duration_bounds[0];
    bounds[LM_TOKEN_USAGE] = token_usage_bounds;
    n_bounds[LM_TOKEN_USAGE] = sizeof token_usage_bounds / sizeof token_usage_bounds[0];
    if (!lm->log_name || !lm->labels ||
        lm_store_init(&lm->store, (size_t)cfg->max_series, cfg->availability_window, bounds,
                      n_bounds) != 0) {
        error_set(err, "out of memory");
        llm_metrics_destroy(lm);
        return NULL;
    }
    snprintf(lm->labels, ln, "connector=\"%s\"", id);
    lm_lcache_init(&lm->cache, lset_max(cfg->max_series));
    if (names_init(lm, env->interest) != 0) {
        error_set(err, "out of memory");
        llm_metrics_destroy(lm);
        return NULL;
    }
    struct telemetry *t = env->telemetry;
    lm->spans = telemetry_counter(t, "llmotlp_llm_metrics_spans", lm->labels,
                                  "LLM spans turned into metrics");
    lm->overflow_points = telemetry_counter(t, "llmotlp_llm_metrics_overflow_points", lm->labels,
                                            "Updates aggregated into a metric's overflow series "
                                            "because max_series was reached");
    lm->exports = telemetry_counter(t, "llmotlp_llm_metrics_exports", lm->labels,
                                    "Metrics requests taken by the metrics pipeline");
    lm->exports_failed = telemetry_counter(t, "llmotlp_llm_metrics_exports_failed", lm->labels,
                                           "Metrics exports refused downstream or not built");
    lm->dropped = telemetry_counter(t, "llmotlp_llm_metrics_dropped_updates", lm->labels,
                                    "Metric updates lost for lack of memory");
    lm->series = telemetry_gauge(t, "llmotlp_llm_metrics_series", lm->labels,
                                 "Series held, overflow series included");
    return lm;
}

static int llm_metrics_start(void *self, struct error *err)
{
    struct llm_metrics *lm = self;
    /* A second start (the connector is in two pipelines) keeps the running timer. */
    if (ticker_start(&lm->export_timer, lm->cfg->export_interval, export_tick, lm, err) != 0) {
        error_prefix(err, "metrics export: ");
        return -1;
    }
    return 0;
}

/* The timer's export (if one is running) ends first; then one last export says what arrived
 * since, unless the deadline has already passed. */
static void llm_metrics_shutdown(void *self, int64_t deadline_ns)
{
    struct llm_metrics *lm = self;
    ticker_stop(&lm->export_timer);
    if (clock_now_ns() >= deadline_ns) {
        log_warn(lm->log_name, "shutdown deadline passed: no final metrics export");
        return;
    }
    size_t n;
    enum consume_status rc = export_now(lm, &n);
    if (rc != CONSUME_OK)
        log_warn(lm->log_name, "final metrics export refused: %zu points not delivered", n);
}

const struct component_factory llm_metrics_connector_factory = {
    .type = "llm_metrics",
    .kind = COMPONENT_CONNECTOR,
    .doc = "turns LLM spans into the llmproxy.* business metrics and the GenAI client metrics",
    .fields = llm_metrics_fields,
    .config_size = sizeof(struct llm_metrics_config),
    .signals = 1u << SIGNAL_TRACES,
    .out_signals = 1u << SIGNAL_METRICS,
    .routes = {[SIGNAL_TRACES] = 1u << SIGNAL_METRICS},
    .validate = llm_metrics_validate,
    .create = llm_metrics_create,
    .start = llm_metrics_start,
    .shutdown = llm_metrics_shutdown,
    .consume = llm_metrics_consume,
    .destroy = llm_metrics_destroy,
};
