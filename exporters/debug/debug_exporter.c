/* debug_exporter.c — the Collector's `debug` exporter: prints what reaches it and takes everything.
 * basic prints one summary line per request, normal one line per span / data point / log record,
 * detailed the Collector's full text dump (resource, scope, every field and attribute).
 *
 * The one idea: rendering is a pure function of a decoded request into a FILE* (debug_format), so
 * the exporter renders into a memory stream and then hands the text, line by line, to the logger
 * (or, with use_internal_logger: false, whole to each of output_paths) under one lock; tests
 * render into any stream and read it back. */
#include "exporters/debug/debug_exporter.h"

#include <errno.h>
#include <fcntl.h>
#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/log.h"
#include "core/telemetry.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistogramDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint ExpHistogramDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint SummaryDataPoint;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsRequest;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsRequest;

/* ---- values ---------------------------------------------------------------------------------- */

static void put_hex(FILE *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", p[i]);
}

static void put_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void put_value_json(FILE *out, const AnyValue *v, int depth);

static void put_kvlist_json(FILE *out, KeyValue **kv, size_t n, int depth)
{
    fputc('{', out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', out);
        put_json_string(out, kv[i]->key);
        fputc(':', out);
        put_value_json(out, kv[i]->value, depth + 1);
    }
    fputc('}', out);
}

/* Nested values as JSON, as the Collector's AsString() renders slices and maps. Depth is bounded
 * by the receiver's scan (OTLP_MAX_DEPTH); the check here only keeps a hand-built tree honest. */
static void put_value_json(FILE *out, const AnyValue *v, int depth)
{
    if (!v || depth > OTLP_MAX_DEPTH) {
        fputs("null", out);
        return;
    }
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        put_json_string(out, v->string_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        fputs(v->bool_value ? "true" : "false", out);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        fprintf(out, "%" PRId64, v->int_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        fprintf(out, "%.17g", v->double_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
        fputc('"', out);
        put_hex(out, v->bytes_value.data, v->bytes_value.len);
        fputc('"', out);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
        fputc('[', out);
        for (size_t i = 0; v->array_value && i < v->array_value->n_values; i++) {
            if (i)
                fputc(',', out);
            put_value_json(out, v->array_value->values[i], depth + 1);
        }
        fputc(']', out);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
        if (v->kvlist_value)
            put_kvlist_json(out, v->kvlist_value->values, v->kvlist_value->n_values, depth);
        else
            fputs("{}", out);
        break;
    default:
        fputs("null", out);
        break;
    }
}

/* Typed rendering of the detailed dump: Str(x), Int(1), Double(1.5), Bool(true), Bytes(hex),
 * Slice([...]), Map({...}), Empty(). */
static void put_value(FILE *out, const AnyValue *v)
{
    if (!v) {
        fputs("Empty()", out);
        return;
    }
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        fprintf(out, "Str(%s)", v->string_value ? v->string_value : "");
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        fprintf(out, "Bool(%s)", v->bool_value ? "true" : "false");
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        fprintf(out, "Int(%" PRId64 ")", v->int_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        fprintf(out, "Double(%g)", v->double_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
        fputs("Bytes(", out);
        put_hex(out, v->bytes_value.data, v->bytes_value.len);
        fputc(')', out);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
        fputs("Slice(", out);
        put_value_json(out, v, 0);
        fputc(')', out);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
        fputs("Map(", out);
        put_value_json(out, v, 0);
        fputc(')', out);
        break;
    default:
        fputs("Empty()", out);
        break;
    }
}

/* Plain rendering for the one-line forms: strings bare, the rest as JSON. */
static void put_value_plain(FILE *out, const AnyValue *v)
{
    if (v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
        fputs(v->string_value ? v->string_value : "", out);
    else
        put_value_json(out, v, 0);
}

static void put_attrs_detailed(FILE *out, const char *title, KeyValue **kv, size_t n,
                               const char *indent)
{
    if (n == 0)
        return;
    if (title)
        fprintf(out, "%s\n", title);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s-> %s: ", indent, kv[i]->key ? kv[i]->key : "");
        put_value(out, kv[i]->value);
        fputc('\n', out);
    }
}

/* " k=v k2=v2" for the one-line forms. */
static void put_attrs_inline(FILE *out, KeyValue **kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(out, " %s=", kv[i]->key ? kv[i]->key : "");
        put_value_plain(out, kv[i]->value);
    }
}

static void put_time(FILE *out, const char *label, uint64_t ns)
{
    time_t sec = (time_t)(ns / 1000000000u);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    if (ns % 1000000000u)
        fprintf(out, "%s%s.%09" PRIu64 " +0000 UTC\n", label, date, ns % 1000000000u);
    else
        fprintf(out, "%s%s +0000 UTC\n", label, date);
}

static const char *str_or_empty(const char *s) { return s ? s : ""; }

static void put_resource_detailed(FILE *out, const char *title, size_t i, const Resource *r,
                                  const char *schema_url)
{
    fprintf(out, "%s #%zu\n", title, i);
    fprintf(out, "Resource SchemaURL: %s\n", str_or_empty(schema_url));
    if (r)
        put_attrs_detailed(out, "Resource attributes:", r->attributes, r->n_attributes, "     ");
}

static void put_scope_detailed(FILE *out, const char *title, size_t i, const Scope *s,
                               const char *schema_url)
{
    fprintf(out, "%s #%zu\n", title, i);
    fprintf(out, "%s SchemaURL: %s\n", title, str_or_empty(schema_url));
    fprintf(out, "InstrumentationScope %s %s\n", s ? str_or_empty(s->name) : "",
            s ? str_or_empty(s->version) : "");
    if (s)
        put_attrs_detailed(out, "InstrumentationScope attributes:", s->attributes,
                           s->n_attributes, "     ");
}

static void put_resource_normal(FILE *out, const char *title, size_t i, const Resource *r)
{
    fprintf(out, "%s #%zu", title, i);
    if (r)
        put_attrs_inline(out, r->attributes, r->n_attributes);
    fputc('\n', out);
}

static void put_scope_normal(FILE *out, const char *title, size_t i, const Scope *s)
{
    fprintf(out, "%s #%zu", title, i);
    if (s && s->name && *s->name)
        fprintf(out, " %s%s%s", s->name, s->version && *s->version ? "@" : "",
                str_or_empty(s->version));
    fputc('\n', out);
}

/* ---- traces ---------------------------------------------------------------------------------- */

static const char *span_kind_name(int k)
{
    static const char *const names[] = {"Unspecified", "Internal", "Server", "Client", "Producer",
                                        "Consumer"};
    return k >= 0 && k < 6 ? names[k] : "Unspecified";
}

static const char *status_code_name(const Opentelemetry__Proto__Trace__V1__Status *st)
{
    static const char *const names[] = {"Unset", "Ok", "Error"};
    int c = st ? (int)st->code : 0;
    return c >= 0 && c < 3 ? names[c] : "Unset";
}

static void put_span_detailed(FILE *out, size_t i, const Span *sp)
{
    fprintf(out, "Span #%zu\n", i);
    fputs("    Trace ID       : ", out);
    put_hex(out, sp->trace_id.data, sp->trace_id.len);
    fputs("\n    Parent ID      : ", out);
    put_hex(out, sp->parent_span_id.data, sp->parent_span_id.len);
    fputs("\n    ID             : ", out);
    put_hex(out, sp->span_id.data, sp->span_id.len);
    fprintf(out, "\n    Name           : %s\n", str_or_empty(sp->name));
    fprintf(out, "    Kind           : %s\n", span_kind_name((int)sp->kind));
    put_time(out, "    Start time     : ", sp->start_time_unix_nano);
    put_time(out, "    End time       : ", sp->end_time_unix_nano);
    fprintf(out, "    Status code    : %s\n", status_code_name(sp->status));
    fprintf(out, "    Status message : %s\n", sp->status ? str_or_empty(sp->status->message) : "");
    if (sp->trace_state && *sp->trace_state)
        fprintf(out, "    TraceState     : %s\n", sp->trace_state);
    if (sp->flags)
        fprintf(out, "    Flags          : %" PRIu32 "\n", sp->flags);
    if (sp->dropped_attributes_count)
        fprintf(out, "    DroppedAttributesCount: %" PRIu32 "\n", sp->dropped_attributes_count);
    put_attrs_detailed(out, "Attributes:", sp->attributes, sp->n_attributes, "     ");
    if (sp->n_events)
        fputs("Events:\n", out);
    for (size_t e = 0; e < sp->n_events; e++) {
        const Opentelemetry__Proto__Trace__V1__Span__Event *ev = sp->events[e];
        fprintf(out, "SpanEvent #%zu\n     -> Name: %s\n", e, str_or_empty(ev->name));
        put_time(out, "     -> Timestamp: ", ev->time_unix_nano);
        fprintf(out, "     -> DroppedAttributesCount: %" PRIu32 "\n", ev->dropped_attributes_count);
        put_attrs_detailed(out, "     -> Attributes::", ev->attributes, ev->n_attributes,
                           "          ");
    }
    if (sp->n_links)
        fputs("Links:\n", out);
    for (size_t l = 0; l < sp->n_links; l++) {
        const Opentelemetry__Proto__Trace__V1__Span__Link *ln = sp->links[l];
        fprintf(out, "SpanLink #%zu\n     -> Trace ID: ", l);
        put_hex(out, ln->trace_id.data, ln->trace_id.len);
        fputs("\n     -> ID: ", out);
        put_hex(out, ln->span_id.data, ln->span_id.len);
        fprintf(out, "\n     -> TraceState: %s\n", str_or_empty(ln->trace_state));
        fprintf(out, "     -> DroppedAttributesCount: %" PRIu32 "\n", ln->dropped_attributes_count);
        put_attrs_detailed(out, "     -> Attributes::", ln->attributes, ln->n_attributes,
                           "          ");
    }
}

static void put_span_normal(FILE *out, const Span *sp)
{
    fprintf(out, "%s ", str_or_empty(sp->name));
    put_hex(out, sp->trace_id.data, sp->trace_id.len);
    fputc(' ', out);
    put_hex(out, sp->span_id.data, sp->span_id.len);
    fprintf(out, " status=%s", status_code_name(sp->status));
    put_attrs_inline(out, sp->attributes, sp->n_attributes);
    fputc('\n', out);
}

static void format_traces(FILE *out, enum debug_verbosity v, const TraceRequest *req)
{
    for (size_t r = 0; r < req->n_resource_spans; r++) {
        const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[r];
        if (v == DEBUG_DETAILED)
            put_resource_detailed(out, "ResourceSpans", r, rs->resource, rs->schema_url);
        else
            put_resource_normal(out, "ResourceSpans", r, rs->resource);
        for (size_t s = 0; s < rs->n_scope_spans; s++) {
            const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[s];
            if (v == DEBUG_DETAILED)
                put_scope_detailed(out, "ScopeSpans", s, ss->scope, ss->schema_url);
            else
                put_scope_normal(out, "ScopeSpans", s, ss->scope);
            for (size_t i = 0; i < ss->n_spans; i++) {
                if (v == DEBUG_DETAILED)
                    put_span_detailed(out, i, ss->spans[i]);
                else
                    put_span_normal(out, ss->spans[i]);
            }
        }
    }
}

/* ---- metrics --------------------------------------------------------------------------------- */

static const char *temporality_name(int t)
{
    static const char *const names[] = {"Unspecified", "Delta", "Cumulative"};
    return t >= 0 && t < 3 ? names[t] : "Unspecified";
}

static void put_number(FILE *out, const NumberDataPoint *dp)
{
    if (dp->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT)
        fprintf(out, "%" PRId64, dp->as_int);
    else if (dp->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE)
        fprintf(out, "%g", dp->as_double);
    else
        fputs("0", out);
}

static void put_point_header(FILE *out, const char *kind, size_t i, KeyValue **attrs, size_t n,
                             uint64_t start, uint64_t ts)
{
    fprintf(out, "%s #%zu\n", kind, i);
    put_attrs_detailed(out, "Data point attributes:", attrs, n, "     ");
    put_time(out, "StartTimestamp: ", start);
    put_time(out, "Timestamp: ", ts);
}

static void put_metric_detailed(FILE *out, size_t i, const Metric *m)
{
    fprintf(out, "Metric #%zu\nDescriptor:\n     -> Name: %s\n     -> Description: %s\n"
                 "     -> Unit: %s\n",
            i, str_or_empty(m->name), str_or_empty(m->description), str_or_empty(m->unit));
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        fputs("     -> DataType: Gauge\n", out);
        for (size_t p = 0; m->gauge && p < m->gauge->n_data_points; p++) {
            const NumberDataPoint *dp = m->gauge->data_points[p];
            put_point_header(out, "NumberDataPoints", p, dp->attributes, dp->n_attributes,
                             dp->start_time_unix_nano, dp->time_unix_nano);
            fputs("Value: ", out);
            put_number(out, dp);
            fputc('\n', out);
        }
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        fputs("     -> DataType: Sum\n", out);
        if (m->sum)
            fprintf(out, "     -> IsMonotonic: %s\n     -> AggregationTemporality: %s\n",
                    m->sum->is_monotonic ? "true" : "false",
                    temporality_name((int)m->sum->aggregation_temporality));
        for (size_t p = 0; m->sum && p < m->sum->n_data_points; p++) {
            const NumberDataPoint *dp = m->sum->data_points[p];
            put_point_header(out, "NumberDataPoints", p, dp->attributes, dp->n_attributes,
                             dp->start_time_unix_nano, dp->time_unix_nano);
            fputs("Value: ", out);
            put_number(out, dp);
            fputc('\n', out);
        }
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        fputs("     -> DataType: Histogram\n", out);
        if (m->histogram)
            fprintf(out, "     -> AggregationTemporality: %s\n",
                    temporality_name((int)m->histogram->aggregation_temporality));
        for (size_t p = 0; m->histogram && p < m->histogram->n_data_points; p++) {
            const HistogramDataPoint *dp = m->histogram->data_points[p];
            put_point_header(out, "HistogramDataPoints", p, dp->attributes, dp->n_attributes,
                             dp->start_time_unix_nano, dp->time_unix_nano);
            fprintf(out, "Count: %" PRIu64 "\n", dp->count);
            if (dp->_sum_case)
                fprintf(out, "Sum: %g\n", dp->sum);
            if (dp->_min_case)
                fprintf(out, "Min: %g\n", dp->min);
            if (dp->_max_case)
                fprintf(out, "Max: %g\n", dp->max);
            for (size_t b = 0; b < dp->n_explicit_bounds; b++)
                fprintf(out, "ExplicitBounds #%zu: %g\n", b, dp->explicit_bounds[b]);
            for (size_t b = 0; b < dp->n_bucket_counts; b++)
                fprintf(out, "Buckets #%zu, Count: %" PRIu64 "\n", b, dp->bucket_counts[b]);
        }
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
        fputs("     -> DataType: ExponentialHistogram\n", out);
        if (m->exponential_histogram)
            fprintf(out, "     -> AggregationTemporality: %s\n",
                    temporality_name((int)m->exponential_histogram->aggregation_temporality));
        for (size_t p = 0; m->exponential_histogram && p < m->exponential_histogram->n_data_points;
             p++) {
            const ExpHistogramDataPoint *dp = m->exponential_histogram->data_points[p];
            put_point_header(out, "ExponentialHistogramDataPoints", p, dp->attributes,
                             dp->n_attributes, dp->start_time_unix_nano, dp->time_unix_nano);
            fprintf(out, "Count: %" PRIu64 "\n", dp->count);
            if (dp->_sum_case)
                fprintf(out, "Sum: %g\n", dp->sum);
            if (dp->_min_case)
                fprintf(out, "Min: %g\n", dp->min);
            if (dp->_max_case)
                fprintf(out, "Max: %g\n", dp->max);
            fprintf(out, "Scale: %" PRId32 "\nZeroCount: %" PRIu64 "\n", dp->scale, dp->zero_count);
            const Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint__Buckets *bk[2] = {
                dp->positive, dp->negative};
            for (int side = 0; side < 2; side++) {
                if (!bk[side])
                    continue;
                fprintf(out, "%s offset: %" PRId32 ", counts:", side ? "Negative" : "Positive",
                        bk[side]->offset);
                for (size_t b = 0; b < bk[side]->n_bucket_counts; b++)
                    fprintf(out, " %" PRIu64, bk[side]->bucket_counts[b]);
                fputc('\n', out);
            }
        }
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
        fputs("     -> DataType: Summary\n", out);
        for (size_t p = 0; m->summary && p < m->summary->n_data_points; p++) {
            const SummaryDataPoint *dp = m->summary->data_points[p];
            put_point_header(out, "SummaryDataPoints", p, dp->attributes, dp->n_attributes,
                             dp->start_time_unix_nano, dp->time_unix_nano);
            fprintf(out, "Count: %" PRIu64 "\nSum: %g\n", dp->count, dp->sum);
            for (size_t q = 0; q < dp->n_quantile_values; q++)
                fprintf(out, "QuantileValue #%zu: Quantile %g, Value %g\n", q,
                        dp->quantile_values[q]->quantile, dp->quantile_values[q]->value);
        }
        break;
    default:
        fputs("     -> DataType: Empty\n", out);
        break;
    }
}

static void put_point_normal(FILE *out, const Metric *m, KeyValue **attrs, size_t n)
{
    fputs(str_or_empty(m->name), out);
    if (n) {
        fputc('{', out);
        for (size_t i = 0; i < n; i++) {
            fprintf(out, "%s%s=", i ? "," : "", str_or_empty(attrs[i]->key));
            put_value_plain(out, attrs[i]->value);
        }
        fputc('}', out);
    }
    fputc(' ', out);
}

static void put_metric_normal(FILE *out, const Metric *m)
{
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM: {
        size_t n = m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE
                       ? (m->gauge ? m->gauge->n_data_points : 0)
                       : (m->sum ? m->sum->n_data_points : 0);
        NumberDataPoint **dps = m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE
                                    ? (m->gauge ? m->gauge->data_points : NULL)
                                    : (m->sum ? m->sum->data_points : NULL);
        for (size_t p = 0; p < n; p++) {
            put_point_normal(out, m, dps[p]->attributes, dps[p]->n_attributes);
            put_number(out, dps[p]);
            fputc('\n', out);
        }
        break;
    }
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        for (size_t p = 0; m->histogram && p < m->histogram->n_data_points; p++) {
            const HistogramDataPoint *dp = m->histogram->data_points[p];
            put_point_normal(out, m, dp->attributes, dp->n_attributes);
            fprintf(out, "count=%" PRIu64, dp->count);
            if (dp->_sum_case)
                fprintf(out, " sum=%g", dp->sum);
            fputc('\n', out);
        }
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
        for (size_t p = 0; m->exponential_histogram && p < m->exponential_histogram->n_data_points;
             p++) {
            const ExpHistogramDataPoint *dp = m->exponential_histogram->data_points[p];
            put_point_normal(out, m, dp->attributes, dp->n_attributes);
            fprintf(out, "count=%" PRIu64, dp->count);
            if (dp->_sum_case)
                fprintf(out, " sum=%g", dp->sum);
            fputc('\n', out);
        }
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
        for (size_t p = 0; m->summary && p < m->summary->n_data_points; p++) {
            const SummaryDataPoint *dp = m->summary->data_points[p];
            put_point_normal(out, m, dp->attributes, dp->n_attributes);
            fprintf(out, "count=%" PRIu64 " sum=%g\n", dp->count, dp->sum);
        }
        break;
    default:
        break;
    }
}

static void format_metrics(FILE *out, enum debug_verbosity v, const MetricsRequest *req)
{
    for (size_t r = 0; r < req->n_resource_metrics; r++) {
        const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = req->resource_metrics[r];
        if (v == DEBUG_DETAILED)
            put_resource_detailed(out, "ResourceMetrics", r, rm->resource, rm->schema_url);
        else
            put_resource_normal(out, "ResourceMetrics", r, rm->resource);
        for (size_t s = 0; s < rm->n_scope_metrics; s++) {
            const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[s];
            if (v == DEBUG_DETAILED)
                put_scope_detailed(out, "ScopeMetrics", s, sm->scope, sm->schema_url);
            else
                put_scope_normal(out, "ScopeMetrics", s, sm->scope);
            for (size_t i = 0; i < sm->n_metrics; i++) {
                if (v == DEBUG_DETAILED)
                    put_metric_detailed(out, i, sm->metrics[i]);
                else
                    put_metric_normal(out, sm->metrics[i]);
            }
        }
    }
}

/* ---- logs ------------------------------------------------------------------------------------ */

/* SeverityNumber as the Collector spells it: 9 → "Info", 10 → "Info2". */
static void put_severity_number(FILE *out, int n)
{
    static const char *const names[] = {"Trace", "Debug", "Info", "Warn", "Error", "Fatal"};
    if (n <= 0 || n > 24) {
        fputs("Unspecified", out);
        return;
    }
    int group = (n - 1) / 4, step = (n - 1) % 4;
    if (step)
        fprintf(out, "%s%d", names[group], step + 1);
    else
        fputs(names[group], out);
}

static void put_log_detailed(FILE *out, size_t i, const LogRecord *lr)
{
    fprintf(out, "LogRecord #%zu\n", i);
    put_time(out, "ObservedTimestamp: ", lr->observed_time_unix_nano);
    put_time(out, "Timestamp: ", lr->time_unix_nano);
    fprintf(out, "SeverityText: %s\nSeverityNumber: ", str_or_empty(lr->severity_text));
    put_severity_number(out, (int)lr->severity_number);
    fprintf(out, "(%d)\n", (int)lr->severity_number);
    if (lr->event_name && *lr->event_name)
        fprintf(out, "EventName: %s\n", lr->event_name);
    fputs("Body: ", out);
    put_value(out, lr->body);
    fputc('\n', out);
    put_attrs_detailed(out, "Attributes:", lr->attributes, lr->n_attributes, "     ");
    fputs("Trace ID: ", out);
    put_hex(out, lr->trace_id.data, lr->trace_id.len);
    fputs("\nSpan ID: ", out);
    put_hex(out, lr->span_id.data, lr->span_id.len);
    fprintf(out, "\nFlags: %" PRIu32 "\n", lr->flags);
}

static void put_log_normal(FILE *out, const LogRecord *lr)
{
    if (lr->severity_text && *lr->severity_text)
        fputs(lr->severity_text, out);
    else
        put_severity_number(out, (int)lr->severity_number);
    fputc(' ', out);
    if (lr->body)
        put_value_plain(out, lr->body);
    put_attrs_inline(out, lr->attributes, lr->n_attributes);
    fputc('\n', out);
}

static void format_logs(FILE *out, enum debug_verbosity v, const LogsRequest *req)
{
    for (size_t r = 0; r < req->n_resource_logs; r++) {
        const Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = req->resource_logs[r];
        if (v == DEBUG_DETAILED)
            put_resource_detailed(out, "ResourceLog", r, rl->resource, rl->schema_url);
        else
            put_resource_normal(out, "ResourceLog", r, rl->resource);
        for (size_t s = 0; s < rl->n_scope_logs; s++) {
            const Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = rl->scope_logs[s];
            if (v == DEBUG_DETAILED)
                put_scope_detailed(out, "ScopeLogs", s, sl->scope, sl->schema_url);
            else
                put_scope_normal(out, "ScopeLogs", s, sl->scope);
            for (size_t i = 0; i < sl->n_log_records; i++) {
                if (v == DEBUG_DETAILED)
                    put_log_detailed(out, i, sl->log_records[i]);
                else
                    put_log_normal(out, sl->log_records[i]);
            }
        }
    }
}

/* ---- public rendering ------------------------------------------------------------------------ */

static uint64_t count_metrics(const MetricsRequest *req)
{
    uint64_t n = 0;
    for (size_t r = 0; r < req->n_resource_metrics; r++)
        for (size_t s = 0; s < req->resource_metrics[r]->n_scope_metrics; s++)
            n += req->resource_metrics[r]->scope_metrics[s]->n_metrics;
    return n;
}

void debug_summary(FILE *out, enum signal s, const ProtobufCMessage *req)
{
    uint64_t items = otlp_count_items(s, req);
    switch (s) {
    case SIGNAL_TRACES:
        fprintf(out, "Traces: resource spans: %zu, spans: %" PRIu64,
                ((const TraceRequest *)req)->n_resource_spans, items);
        break;
    case SIGNAL_METRICS:
        fprintf(out, "Metrics: resource metrics: %zu, metrics: %" PRIu64 ", data points: %" PRIu64,
                ((const MetricsRequest *)req)->n_resource_metrics,
                count_metrics((const MetricsRequest *)req), items);
        break;
    case SIGNAL_LOGS:
        fprintf(out, "Logs: resource logs: %zu, log records: %" PRIu64,
                ((const LogsRequest *)req)->n_resource_logs, items);
        break;
    default:
        break;
    }
}

void debug_format(FILE *out, enum debug_verbosity v, const ProtobufCMessage *req, enum signal s)
{
    if (v == DEBUG_BASIC || !req)
        return;
    switch (s) {
    case SIGNAL_TRACES:
        format_traces(out, v, (const TraceRequest *)req);
        break;
    case SIGNAL_METRICS:
        format_metrics(out, v, (const MetricsRequest *)req);
        break;
    case SIGNAL_LOGS:
        format_logs(out, v, (const LogsRequest *)req);
        break;
    default:
        break;
    }
}

/* ---- the exporter ---------------------------------------------------------------------------- */

static const char *const verbosity_choices[] = {"basic", "normal", "detailed", NULL};

static const struct config_field debug_fields[] = {
    {.name = "verbosity", .type = CFG_ENUM, .offset = offsetof(struct debug_exporter_config, verbosity),
     .def = "basic", .choices = verbosity_choices,
     .doc = "basic: one summary line per request; normal: one line per item; detailed: everything"},
    {.name = "sampling_initial", .type = CFG_INT,
     .offset = offsetof(struct debug_exporter_config, sampling_initial), .def = "2", .min = 0,
     .max = INT64_MAX, .doc = "requests printed each second before sampling starts"},
    {.name = "sampling_thereafter", .type = CFG_INT,
     .offset = offsetof(struct debug_exporter_config, sampling_thereafter), .def = "1", .min = 0,
     .max = INT64_MAX, .doc = "after sampling_initial, print every Nth request of the second"},
    {.name = "use_internal_logger", .type = CFG_BOOL,
     .offset = offsetof(struct debug_exporter_config, use_internal_logger), .def = "true",
     .doc = "print through the service logger; false: plain text to output_paths"},
    {.name = "output_paths", .type = CFG_STRING_LIST,
     .offset = offsetof(struct debug_exporter_config, output_paths),
     .doc = "with use_internal_logger: false, where the text goes: stdout, stderr, file paths "
            "(appended) or file:///abs URLs; default [stdout]"},
    {.name = "sending_queue", .type = CFG_PRESENCE,
     .offset = offsetof(struct debug_exporter_config, sending_queue),
     .present_offset = offsetof(struct debug_exporter_config, has_sending_queue),
     .sub = queue_config_fields,
     .doc = "the Collector's optional queue; accepted, the output is written synchronously "
            "(warned when enabled)"},
    {.name = NULL},
};

/* What a path of output_paths opens: zap's sink rules, which the Collector's exporter uses.
 * "stdout" and "stderr" are the streams; a path with no URL scheme is a file; "file:" URLs must
 * name an absolute path and nothing else (no host but localhost, no query or fragment); any
 * other scheme has no sink. Returns the file path (a pointer into p), "" for the streams, or NULL
 * with why. */
static const char *debug_sink_path(const char *p, const char **why)
{
    if (!*p) {
        *why = "an empty path";
        return NULL;
    }
    if (strcmp(p, "stdout") == 0 || strcmp(p, "stderr") == 0)
        return "";
    /* A URL scheme as Go's url.Parse reads one: a letter, then letters, digits, + - . up to ':' */
    size_t n = 0;
    if ((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z'))
        while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '+' || p[n] == '-' || p[n] == '.'))
            n++;
    if (n == 0 || p[n] != ':')
        return p;
    if (n != 4 || strncasecmp(p, "file", 4) != 0) {
        *why = "no sink for this URL scheme (only file: URLs and plain paths are files)";
        return NULL;
    }
    const char *rest = p + 5;
    if (strncmp(rest, "//", 2) == 0) {
        rest += 2;
        const char *slash = strchr(rest, '/');
        size_t hl = slash ? (size_t)(slash - rest) : strlen(rest);
        if (hl && !(hl == 9 && strncmp(rest, "localhost", 9) == 0)) {
            *why = "a file: URL may not name a host other than localhost";
            return NULL;
        }
        rest += hl;
    }
    if (rest[0] != '/' || strpbrk(rest, "?#")) {
        *why = "a file: URL must be an absolute path, without query or fragment";
        return NULL;
    }
    return rest;
}

static int debug_validate(const void *cfgp, struct error *err)
{
    const struct debug_exporter_config *c = cfgp;
    const struct config_str_list *l = &c->output_paths;
    if (c->has_sending_queue && queue_config_validate(&c->sending_queue, err)) {
        error_prefix(err, "sending_queue: ");
        return -1;
    }
    if (c->use_internal_logger) {
        if (l->items)
            return error_set(err, "output_paths: not supported when use_internal_logger is true "
                             "(the text then goes to the service log); set use_internal_logger: "
                             "false");
        return 0;
    }
    if (l->items && l->n == 0)
        return error_set(err, "output_paths: must not be empty when use_internal_logger is false");
    for (size_t i = 0; i < l->n; i++) {
        const char *why = NULL;
        if (!debug_sink_path(l->items[i], &why))
            return error_set(err, "output_paths[%zu]: \"%s\": %s", i, l->items[i], why);
    }
    return 0;
}

/* An enabled sending_queue would put the writing on a worker thread; here the text is written
 * by the thread that consumes, so the key changes nothing but is not silent. */
static void debug_warn(const void *cfgp, const struct cnode *node, const struct config_warn_sink *w)
{
    const struct debug_exporter_config *c = cfgp;
    const struct cnode *k;
    if (c->has_sending_queue && c->sending_queue.enabled &&
        (k = cnode_find_key(node, "sending_queue")))
        config_warnf(w, k, "sending_queue", "has no effect: the debug output is written "
                     "synchronously by the pipeline thread, without a queue");
}

/* One destination of the text: a stream of the process, or a file we opened. */
struct debug_sink {
    FILE *stream;                  /* stdout / stderr; NULL for a file */
    int fd;                        /* a file opened O_APPEND; -1 for a stream */
};

struct debug_exporter {
    struct debug_exporter_config cfg;
    char *log_name;
    pthread_mutex_t lock;          /* keeps one request's lines together; guards sampling */
    /* zap's sampler counts per message and the summary message differs by signal, so each
     * signal has its own one-second window */
    int64_t window_start_ns[SIGNAL_COUNT];
    uint64_t window_count[SIGNAL_COUNT];
    struct debug_sink *sinks;      /* use_internal_logger: false */
    size_t nsinks;
    _Atomic uint64_t *sent[SIGNAL_COUNT];
};

static const char *const sent_names[SIGNAL_COUNT] = {
    "otelcol_exporter_sent_spans", "otelcol_exporter_sent_metric_points",
    "otelcol_exporter_sent_log_records"};

static void debug_destroy(void *self);

/* Opens output_paths at create, as zap builds its sinks when the Collector creates the exporter:
 * a file that cannot be opened fails the start, not the first export. */
static int debug_open_sinks(struct debug_exporter *d, struct error *err)
{
    const struct config_str_list *l = &d->cfg.output_paths;
    static char *const def[] = {(char *)"stdout"};
    char *const *paths = l->items ? l->items : def;
    size_t n = l->items ? l->n : 1;
    d->sinks = calloc(n ? n : 1, sizeof *d->sinks);
    if (!d->sinks)
        return error_set(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        const char *file = debug_sink_path(paths[i], &why);
        if (!file)
            return error_set(err, "output_paths[%zu]: \"%s\": %s", i, paths[i], why);
        struct debug_sink *k = &d->sinks[d->nsinks];
        k->fd = -1;
        if (!*file) {
            k->stream = strcmp(paths[i], "stdout") == 0 ? stdout : stderr;
        } else if ((k->fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666)) < 0) {
            return error_set(err, "output_paths[%zu]: cannot open %s: %s", i, file,
                             strerror(errno));
        }
        d->nsinks++;
    }
    return 0;
}

static void *debug_create(const void *cfg, const struct component_env *env, struct error *err)
{
    struct debug_exporter *d = calloc(1, sizeof *d);
    if (!d) {
        error_set(err, "out of memory");
        return NULL;
    }
    d->cfg = *(const struct debug_exporter_config *)cfg;
    d->log_name = strdup(env->log_name ? env->log_name : "exporter/debug");
    if (!d->log_name) {
        free(d);
        error_set(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    if (!d->cfg.use_internal_logger && debug_open_sinks(d, err) != 0) {
        debug_destroy(d);
        return NULL;
    }
    char labels[512];
    snprintf(labels, sizeof labels, "exporter=\"%s\"", env->id ? env->id : "debug");
    for (int s = 0; s < SIGNAL_COUNT; s++)
        d->sent[s] = env->telemetry
                         ? telemetry_counter(env->telemetry, sent_names[s], labels,
                                             "Items successfully sent to destination")
                         : NULL;
    return d;
}

/* zap's sampler as the Collector configures it: per one-second window, the first `initial`
 * messages pass, then every `thereafter`-th. Called under d->lock. */
static bool debug_sample(struct debug_exporter *d, enum signal s)
{
    int64_t now = clock_now_ns();
    if (d->window_count[s] == 0 || now - d->window_start_ns[s] >= 1000000000) {
        d->window_start_ns[s] = now;
        d->window_count[s] = 0;
    }
    uint64_t n = ++d->window_count[s];
    if (n <= (uint64_t)d->cfg.sampling_initial)
        return true;
    if (d->cfg.sampling_thereafter <= 0)
        return false;
    return (n - (uint64_t)d->cfg.sampling_initial) % (uint64_t)d->cfg.sampling_thereafter == 0;
}

/* Hands each line of text to the logger at info level, or the whole text to every sink: a file
 * gets it in one append, so requests printed by two instances sharing a file never interleave
 * within a request's text. A sink that fails is logged and the others still get the text. */
static void debug_emit(struct debug_exporter *d, const char *text, size_t len)
{
    if (!d->cfg.use_internal_logger) {
        for (size_t i = 0; i < d->nsinks; i++) {
            struct debug_sink *k = &d->sinks[i];
            if (k->stream) {
                fwrite(text, 1, len, k->stream);
                fflush(k->stream);
                continue;
            }
            for (size_t off = 0; off < len;) {
                ssize_t w = write(k->fd, text + off, len - off);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0) {
                    log_warn(d->log_name, "output_paths[%zu]: write failed: %s", i,
                             w < 0 ? strerror(errno) : "nothing written");
                    break;
                }
                off += (size_t)w;
            }
        }
        return;
    }
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        log_info(d->log_name, "%.*s", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

static enum consume_status debug_consume(void *self, struct batch *b)
{
    struct debug_exporter *d = self;
    enum signal s = b->signal;
    if (d->cfg.use_internal_logger && !log_enabled(LOG_INFO))
        goto done;
    pthread_mutex_lock(&d->lock);
    /* the Collector samples both ways: its own logger is built with the same sampling */
    bool print = s >= 0 && s < SIGNAL_COUNT && debug_sample(d, s);
    pthread_mutex_unlock(&d->lock);
    if (!print)
        goto done;

    struct error err = {0};
    const ProtobufCMessage *req = batch_decoded(b, &err);
    if (!req) {
        log_warn(d->log_name, "cannot decode %s request to print it: %s", signal_name(s), err.msg);
        goto done;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) {
        log_warn(d->log_name, "out of memory printing a %s request", signal_name(s));
        goto done;
    }
    debug_summary(mem, s, req);
    fputc('\n', mem);
    debug_format(mem, (enum debug_verbosity)d->cfg.verbosity, req, s);
    fclose(mem);
    pthread_mutex_lock(&d->lock);
    debug_emit(d, text, len);
    pthread_mutex_unlock(&d->lock);
    free(text);
done:
    if (s >= 0 && s < SIGNAL_COUNT)
        telemetry_add(d->sent[s], b->items);
    return CONSUME_OK;
}

/* zap's Sync at shutdown: what was written reaches the disk before the process exits. */
static void debug_shutdown(void *self, int64_t deadline_ns)
{
    struct debug_exporter *d = self;
    (void)deadline_ns;
    fflush(stdout);
    for (size_t i = 0; i < d->nsinks; i++)
        if (d->sinks[i].fd >= 0)
            fsync(d->sinks[i].fd);
}

static void debug_destroy(void *self)
{
    struct debug_exporter *d = self;
    if (!d)
        return;
    for (size_t i = 0; i < d->nsinks; i++)
        if (d->sinks[i].fd >= 0)
            close(d->sinks[i].fd);
    free(d->sinks);
    pthread_mutex_destroy(&d->lock);
    free(d->log_name);
    free(d);
}

const struct component_factory debug_exporter_factory = {
    .type = "debug",
    .kind = COMPONENT_EXPORTER,
    .doc = "prints telemetry to the log (basic, normal or detailed verbosity)",
    .fields = debug_fields,
    .config_size = sizeof(struct debug_exporter_config),
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS),
    .validate = debug_validate,
    .warn = debug_warn,
    .create = debug_create,
    .shutdown = debug_shutdown,
    .consume = debug_consume,
    .destroy = debug_destroy,
};
