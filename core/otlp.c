/* otlp.c — OTLP signals and the wire scanner.
 * The scanner validates a request in one pass over its bytes, steered by the same protobuf-c
 * descriptors that unpack uses: for each key it checks the wire type against the declared field
 * type, recurses into sub-messages (bounded depth), checks ID lengths and counts items. It never
 * allocates, so validating costs a fraction of unpack + pack, and a valid scan means unpack will
 * succeed. */
#include "core/otlp.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

static const char *const signal_names[SIGNAL_COUNT] = {"traces", "metrics", "logs"};
static const char *const item_names[SIGNAL_COUNT] = {"spans", "metric points", "log records"};

const char *signal_name(enum signal s) { return signal_names[s]; }
const char *signal_item_name(enum signal s) { return item_names[s]; }

int signal_parse(const char *name)
{
    for (int i = 0; i < SIGNAL_COUNT; i++)
        if (strcmp(name, signal_names[i]) == 0)
            return i;
    return -1;
}

const ProtobufCMessageDescriptor *otlp_request_descriptor(enum signal s)
{
    switch (s) {
    case SIGNAL_TRACES: return &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor;
    case SIGNAL_METRICS: return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor;
    case SIGNAL_LOGS: return &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor;
    default: return NULL;
    }
}

const ProtobufCMessageDescriptor *otlp_response_descriptor(enum signal s)
{
    switch (s) {
    case SIGNAL_TRACES: return &opentelemetry__proto__collector__trace__v1__export_trace_service_response__descriptor;
    case SIGNAL_METRICS: return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__descriptor;
    case SIGNAL_LOGS: return &opentelemetry__proto__collector__logs__v1__export_logs_service_response__descriptor;
    default: return NULL;
    }
}

const char *otlp_grpc_method(enum signal s)
{
    static const char *const methods[SIGNAL_COUNT] = {
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    };
    return (unsigned)s < SIGNAL_COUNT ? methods[s] : NULL;
}

/* ---- scanner --------------------------------------------------------------------------------- */

enum id_kind { ID_NONE = 0, ID_TRACE = 16, ID_SPAN = 8 };

struct scan {
    uint64_t items;
    uint64_t resources;
    const char *item_kind; /* name of the current item message, for messages */
    struct error *err;
};

static int is_item(const ProtobufCMessageDescriptor *d)
{
    return d == &opentelemetry__proto__trace__v1__span__descriptor ||
           d == &opentelemetry__proto__logs__v1__log_record__descriptor ||
           d == &opentelemetry__proto__metrics__v1__number_data_point__descriptor ||
           d == &opentelemetry__proto__metrics__v1__histogram_data_point__descriptor ||
           d == &opentelemetry__proto__metrics__v1__exponential_histogram_data_point__descriptor ||
           d == &opentelemetry__proto__metrics__v1__summary_data_point__descriptor;
}

/* The ID fields, found once by name, then recognized by descriptor pointer on the hot path. */
static struct {
    const ProtobufCFieldDescriptor *field;
    enum id_kind kind;
} id_fields[12];
static size_t n_id_fields;
static pthread_once_t id_fields_once = PTHREAD_ONCE_INIT;

static void id_fields_init(void)
{
    static const ProtobufCMessageDescriptor *const owners[] = {
        &opentelemetry__proto__trace__v1__span__descriptor,
        &opentelemetry__proto__trace__v1__span__link__descriptor,
        &opentelemetry__proto__logs__v1__log_record__descriptor,
        &opentelemetry__proto__metrics__v1__exemplar__descriptor,
    };
    static const struct {
        const char *name;
        enum id_kind kind;
    } names[] = {{"trace_id", ID_TRACE}, {"span_id", ID_SPAN}, {"parent_span_id", ID_SPAN}};
    for (size_t i = 0; i < sizeof owners / sizeof owners[0]; i++)
        for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) {
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field_by_name(owners[i], names[j].name);
            if (f && n_id_fields < sizeof id_fields / sizeof id_fields[0]) {
                id_fields[n_id_fields].field = f;
                id_fields[n_id_fields++].kind = names[j].kind;
            }
        }
}

static inline enum id_kind id_kind_of(const ProtobufCFieldDescriptor *f)
{
    if (f->type != PROTOBUF_C_TYPE_BYTES)
        return ID_NONE;
    for (size_t i = 0; i < n_id_fields; i++)
        if (id_fields[i].field == f)
            return id_fields[i].kind;
    return ID_NONE;
}

/* Field lookup by number through the descriptor's ranges: OTLP messages have one or two dense
 * ranges, so this is a couple of comparisons where protobuf-c's lookup is a binary search. */
static inline const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d, uint64_t num)
{
    const ProtobufCIntRange *r = d->field_ranges;
    for (unsigned i = 0; i < d->n_field_ranges; i++) {
        uint64_t start = (uint64_t)r[i].start_value;
        uint64_t count = r[i + 1].orig_index - r[i].orig_index;
        if (num >= start && num < start + count)
            return &d->fields[r[i].orig_index + (num - start)];
    }
    return NULL;
}

static inline int read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 70 && p < end; shift += 7) {
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *out = v;
            return 1;
        }
    }
    return 0;
}

/* Wire type that a non-packed field of this type must use. */
static int wire_type_of(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_BOOL: case PROTOBUF_C_TYPE_ENUM:
        return 0;
    case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 1;
    case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FLOAT:
        return 5;
    default:
        return 2;
    }
}

static int scan_fail(struct scan *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int scan_fail(struct scan *sc, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (sc->item_kind)
        return error_set(sc->err, "%s #%llu: %s", sc->item_kind, (unsigned long long)sc->items, what);
    return error_set(sc->err, "%s", what);
}

static int scan_message(struct scan *sc, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                        const uint8_t *end, int depth)
{
    if (depth > OTLP_MAX_DEPTH)
        return scan_fail(sc, "message nesting deeper than %d levels", OTLP_MAX_DEPTH);
    while (p < end) {
        uint64_t key, v;
        if (!read_varint(&p, end, &key))
            return scan_fail(sc, "truncated field key in %s", d->short_name);
        uint64_t num = key >> 3;
        int wt = (int)(key & 7);
        if (num == 0 || num > 536870911u)
            return scan_fail(sc, "invalid field number %llu in %s", (unsigned long long)num, d->short_name);
        const ProtobufCFieldDescriptor *f = field_of(d, num);
        if (f) {
            int want = wire_type_of(f->type);
            bool packed = f->label == PROTOBUF_C_LABEL_REPEATED && want != 2 && wt == 2;
            if (wt != want && !packed)
                return scan_fail(sc, "field '%s' of %s has wire type %d, which does not match its type",
                                 f->name, d->short_name, wt);
            if (packed) {
                if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                    return scan_fail(sc, "truncated packed field '%s'", f->name);
                const uint8_t *q = p, *qend = p + v;
                if (want == 0) {
                    uint64_t x;
                    while (q < qend)
                        if (!read_varint(&q, qend, &x))
                            return scan_fail(sc, "bad varint in packed field '%s'", f->name);
                } else if (v % (want == 1 ? 8 : 4) != 0) {
                    return scan_fail(sc, "packed field '%s' has a partial element (%llu bytes)", f->name,
                                     (unsigned long long)v);
                }
                p = qend;
                continue;
            }
        }
        switch (wt) {
        case 0:
            if (!read_varint(&p, end, &v))
                return scan_fail(sc, "truncated varint in %s", d->short_name);
            break;
        case 1:
            if (end - p < 8)
                return scan_fail(sc, "truncated fixed64 in %s", d->short_name);
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return scan_fail(sc, "truncated fixed32 in %s", d->short_name);
            p += 4;
            break;
        case 2: {
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return scan_fail(sc, "length past the end of the message in %s", d->short_name);
            if (depth == 0 && num == 1)
                sc->resources++;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                const ProtobufCMessageDescriptor *sub = f->descriptor;
                if (is_item(sub)) {
                    const char *saved = sc->item_kind;
                    sc->items++;
                    sc->item_kind = sub->short_name;
                    if (scan_message(sc, sub, p, p + v, depth + 1))
                        return -1;
                    sc->item_kind = saved;
                } else if (scan_message(sc, sub, p, p + v, depth + 1)) {
                    return -1;
                }
            } else if (f) {
                enum id_kind k = id_kind_of(f);
                if (k != ID_NONE && v != 0 && v != (uint64_t)k)
                    return scan_fail(sc, "%s is %llu bytes, expected %d", f->name, (unsigned long long)v, (int)k);
            }
            p += v;
            break;
        }
        default:
            return scan_fail(sc, "unsupported wire type %d in %s", wt, d->short_name);
        }
    }
    return 0;
}

int otlp_scan(enum signal s, const uint8_t *data, size_t len, struct otlp_scan_result *out,
              struct error *err)
{
    const ProtobufCMessageDescriptor *d = otlp_request_descriptor(s);
    struct scan sc = {.items = 0, .resources = 0, .item_kind = NULL, .err = err};
    if (!d)
        return error_set(err, "unknown signal");
    pthread_once(&id_fields_once, id_fields_init);
    if (scan_message(&sc, d, data, data + len, 0))
        return -1;
    if (out) {
        out->items = sc.items;
        out->resources = sc.resources;
    }
    return 0;
}

uint64_t otlp_count_items(enum signal s, const ProtobufCMessage *req)
{
    uint64_t n = 0;
    if (!req)
        return 0;
    if (s == SIGNAL_TRACES) {
        const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r = (const void *)req;
        for (size_t i = 0; i < r->n_resource_spans; i++)
            for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++)
                n += r->resource_spans[i]->scope_spans[j]->n_spans;
    } else if (s == SIGNAL_LOGS) {
        const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r = (const void *)req;
        for (size_t i = 0; i < r->n_resource_logs; i++)
            for (size_t j = 0; j < r->resource_logs[i]->n_scope_logs; j++)
                n += r->resource_logs[i]->scope_logs[j]->n_log_records;
    } else if (s == SIGNAL_METRICS) {
        const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r = (const void *)req;
        for (size_t i = 0; i < r->n_resource_metrics; i++) {
            const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = r->resource_metrics[i];
            for (size_t j = 0; j < rm->n_scope_metrics; j++) {
                const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[j];
                for (size_t k = 0; k < sm->n_metrics; k++) {
                    const Opentelemetry__Proto__Metrics__V1__Metric *m = sm->metrics[k];
                    switch (m->data_case) {
                    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
                        n += m->gauge ? m->gauge->n_data_points : 0;
                        break;
                    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
                        n += m->sum ? m->sum->n_data_points : 0;
                        break;
                    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
                        n += m->histogram ? m->histogram->n_data_points : 0;
                        break;
                    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
                        n += m->exponential_histogram ? m->exponential_histogram->n_data_points : 0;
                        break;
                    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
                        n += m->summary ? m->summary->n_data_points : 0;
                        break;
                    default:
                        break;
                    }
                }
            }
        }
    }
    return n;
}

bool otlp_partial_success(enum signal s, const ProtobufCMessage *resp, int64_t *rejected,
                          const char **message)
{
    *rejected = 0;
    *message = NULL;
    if (!resp)
        return false;
    switch (s) {
    case SIGNAL_TRACES: {
        const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r = (const void *)resp;
        if (!r->partial_success)
            return false;
        *rejected = r->partial_success->rejected_spans;
        *message = r->partial_success->error_message;
        return true;
    }
    case SIGNAL_METRICS: {
        const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *r = (const void *)resp;
        if (!r->partial_success)
            return false;
        *rejected = r->partial_success->rejected_data_points;
        *message = r->partial_success->error_message;
        return true;
    }
    case SIGNAL_LOGS: {
        const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r = (const void *)resp;
        if (!r->partial_success)
            return false;
        *rejected = r->partial_success->rejected_log_records;
        *message = r->partial_success->error_message;
        return true;
    }
    default:
        return false;
    }
}
