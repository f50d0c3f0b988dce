/* test_otlp_json.c — OTLP/JSON codec: the spec's example payloads, byte-identical round trips
 * wire → JSON → wire for every signal, the lenient input forms (snake_case keys, 64-bit numbers,
 * enum names, null), and malformed input (bad IDs, wrong types, truncation, nesting bombs), whose
 * errors must name the JSON path. Decoded values are checked through protobuf-c's own unpack of
 * the packed result, so the decoder is not checked against itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "core/otlp_json.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_req;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest metrics_req;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest logs_req;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_value;
typedef Opentelemetry__Proto__Common__V1__KeyValue key_value;
typedef Opentelemetry__Proto__Trace__V1__Span span_t;
typedef Opentelemetry__Proto__Metrics__V1__Metric metric_t;
typedef Opentelemetry__Proto__Logs__V1__LogRecord log_record;

#define AV(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

static const uint8_t example_tid[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
                                        0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
static const uint8_t example_sid[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74};

/* ---- helpers --------------------------------------------------------------------------------- */

static char *read_testdata(const char *name, size_t *len)
{
    const char *dir = getenv("LLMOTLP_TESTDATA");
    assert_non_null(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/json/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* JSON → wire, asserting success. */
static uint8_t *to_wire(enum signal s, const char *json, size_t *len)
{
    struct error err = {0};
    uint8_t *out = NULL;
    int rc = otlp_json_to_wire(s, json, strlen(json), &out, len, &err);
    if (rc)
        fail_msg("to_wire failed: %s", err.msg);
    assert_non_null(out);
    return out;
}

static void *unpack(enum signal s, const uint8_t *w, size_t n)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(otlp_request_descriptor(s), NULL, n, w);
    assert_non_null(m);
    return m;
}

/* wire → JSON → wire must give the same bytes, and a second pass the same JSON. */
static void assert_round_trip(enum signal s, const uint8_t *w, size_t n)
{
    struct error err = {0};
    size_t jlen = 0, w2len = 0, j2len = 0;
    char *json = otlp_json_from_wire(s, w, n, &jlen, &err);
    if (!json)
        fail_msg("from_wire failed: %s", err.msg);
    assert_int_equal(strlen(json), jlen);
    uint8_t *w2 = NULL;
    if (otlp_json_to_wire(s, json, jlen, &w2, &w2len, &err))
        fail_msg("to_wire failed: %s\n%s", err.msg, json);
    assert_int_equal(w2len, n);
    assert_memory_equal(w2, w, n);
    char *json2 = otlp_json_from_wire(s, w2, w2len, &j2len, &err);
    assert_non_null(json2);
    assert_string_equal(json2, json);
    free(json);
    free(json2);
    free(w2);
}

/* The decode must fail and the message contain `want`; len SIZE_MAX means strlen(json). */
static void expect_error(enum signal s, const char *json, size_t len, const char *want)
{
    struct error err = {0};
    uint8_t *out = NULL;
    size_t n = 0;
    if (len == SIZE_MAX)
        len = strlen(json);
    int rc = otlp_json_to_wire(s, json, len, &out, &n, &err);
    if (rc == 0)
        fail_msg("expected an error containing \"%s\", got success", want);
    assert_null(out);
    if (!strstr(err.msg, want))
        fail_msg("error \"%s\" does not contain \"%s\"", err.msg, want);
}

static const any_value *attr(key_value **kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i]->key, key) == 0)
            return kv[i]->value;
    fail_msg("attribute %s missing", key);
    return NULL;
}

/* ---- the spec's examples ----------------------------------------------------------------------- */

static void test_example_trace(void **state)
{
    (void)state;
    size_t len;
    char *json = read_testdata("trace.json", &len);
    struct arena *a = arena_new(0);
    struct error err = {0};
    trace_req *r = (trace_req *)otlp_json_decode(otlp_request_descriptor(SIGNAL_TRACES), json, len,
                                                 a, &err);
    assert_non_null(r);
    assert_int_equal(r->n_resource_spans, 1);
    const any_value *svc = attr(r->resource_spans[0]->resource->attributes,
                                r->resource_spans[0]->resource->n_attributes, "service.name");
    assert_int_equal(svc->value_case, AV(STRING_VALUE));
    assert_string_equal(svc->string_value, "my.service");
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = r->resource_spans[0]->scope_spans[0];
    assert_string_equal(ss->scope->name, "my.library");
    assert_string_equal(ss->scope->version, "1.0.0");
    assert_int_equal(ss->n_spans, 1);
    span_t *sp = ss->spans[0];
    assert_int_equal(sp->trace_id.len, 16);
    assert_memory_equal(sp->trace_id.data, example_tid, 16);
    assert_int_equal(sp->span_id.len, 8);
    assert_memory_equal(sp->span_id.data, example_sid, 8);
    assert_int_equal(sp->parent_span_id.len, 8);
    assert_int_equal(sp->parent_span_id.data[7], 0x73);
    assert_string_equal(sp->name, "I'm a server span");
    assert_int_equal(sp->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
    assert_true(sp->start_time_unix_nano == 1544712660000000000ull);
    assert_true(sp->end_time_unix_nano == 1544712661000000000ull);
    const any_value *v = attr(sp->attributes, sp->n_attributes, "my.span.attr");
    assert_string_equal(v->string_value, "some value");

    /* encoding gives lowercase hex, 64-bit ints as strings, enums as ints */
    size_t jl;
    char *out = otlp_json_encode(&r->base, &jl, &err);
    assert_non_null(out);
    assert_non_null(strstr(out, "\"traceId\":\"5b8efff798038103d269b633813fc60c\""));
    assert_non_null(strstr(out, "\"parentSpanId\":\"eee19b7ec3c1b173\""));
    assert_non_null(strstr(out, "\"startTimeUnixNano\":\"1544712660000000000\""));
    assert_non_null(strstr(out, "\"kind\":2"));
    free(out);

    /* the packed form passes the wire scanner with the same item count */
    uint8_t *w;
    size_t n;
    assert_int_equal(otlp_json_to_wire(SIGNAL_TRACES, json, len, &w, &n, &err), 0);
    struct otlp_scan_result sr;
    assert_int_equal(otlp_scan(SIGNAL_TRACES, w, n, &sr, &err), 0);
    assert_true(sr.items == 1);
    assert_round_trip(SIGNAL_TRACES, w, n);
    free(w);
    arena_free(a);
    free(json);
}

static void test_example_metrics(void **state)
{
    (void)state;
    size_t len, n;
    char *json = read_testdata("metrics.json", &len);
    struct error err = {0};
    uint8_t *w;
    assert_int_equal(otlp_json_to_wire(SIGNAL_METRICS, json, len, &w, &n, &err), 0);
    struct otlp_scan_result sr;
    assert_int_equal(otlp_scan(SIGNAL_METRICS, w, n, &sr, &err), 0);
    assert_true(sr.items == 4);
    metrics_req *r = unpack(SIGNAL_METRICS, w, n);
    metric_t **m = r->resource_metrics[0]->scope_metrics[0]->metrics;
    assert_int_equal(r->resource_metrics[0]->scope_metrics[0]->n_metrics, 4);

    assert_string_equal(m[0]->name, "my.counter");
    assert_int_equal(m[0]->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
    assert_int_equal(m[0]->sum->aggregation_temporality, 1);
    assert_true(m[0]->sum->is_monotonic);
    assert_int_equal(m[0]->sum->data_points[0]->value_case,
                     OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE);
    assert_true(m[0]->sum->data_points[0]->as_double == 5.0);

    assert_int_equal(m[1]->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);
    assert_true(m[1]->gauge->data_points[0]->as_double == 10.0);

    assert_int_equal(m[2]->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
    Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *h = m[2]->histogram->data_points[0];
    assert_true(h->count == 2);
    assert_int_equal(h->_sum_case, OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM);
    assert_true(h->sum == 2.0);
    assert_int_equal(h->_min_case, OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MIN_MIN);
    assert_true(h->min == 0.0); /* present although zero */
    assert_int_equal(h->_max_case, OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MAX_MAX);
    assert_true(h->max == 2.0);
    assert_int_equal(h->n_bucket_counts, 2);
    assert_true(h->bucket_counts[0] == 1 && h->bucket_counts[1] == 1);
    assert_int_equal(h->n_explicit_bounds, 1);
    assert_true(h->explicit_bounds[0] == 1.0);

    assert_int_equal(m[3]->data_case,
                     OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM);
    Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint *e =
        m[3]->exponential_histogram->data_points[0];
    assert_true(e->count == 3 && e->zero_count == 1);
    assert_true(e->_sum_case && e->sum == 10.0);
    assert_true(e->_min_case && e->min == 0.0);
    assert_true(e->_max_case && e->max == 5.0);
    assert_int_equal(e->positive->offset, 1);
    assert_int_equal(e->positive->n_bucket_counts, 2);
    assert_true(e->positive->bucket_counts[1] == 2);
    assert_null(e->negative);

    /* present-but-zero min is emitted; an absent one is not */
    char *out = otlp_json_from_wire(SIGNAL_METRICS, w, n, NULL, &err);
    assert_non_null(out);
    assert_non_null(strstr(out, "\"sum\":2,\"bucketCounts\":[\"1\",\"1\"],\"explicitBounds\":[1]"));
    assert_non_null(strstr(out, "\"min\":0,\"max\":2"));
    free(out);
    assert_round_trip(SIGNAL_METRICS, w, n);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(w);
    free(json);
}

static void test_example_logs(void **state)
{
    (void)state;
    size_t len, n;
    char *json = read_testdata("logs.json", &len);
    struct error err = {0};
    uint8_t *w;
    assert_int_equal(otlp_json_to_wire(SIGNAL_LOGS, json, len, &w, &n, &err), 0);
    logs_req *r = unpack(SIGNAL_LOGS, w, n);
    log_record *lr = r->resource_logs[0]->scope_logs[0]->log_records[0];
    assert_true(lr->time_unix_nano == 1544712660300000000ull);
    assert_true(lr->observed_time_unix_nano == 1544712660300000000ull);
    assert_int_equal(lr->severity_number, 10);
    assert_string_equal(lr->severity_text, "Information");
    assert_memory_equal(lr->trace_id.data, example_tid, 16);
    assert_memory_equal(lr->span_id.data, example_sid, 8);
    assert_int_equal(lr->body->value_case, AV(STRING_VALUE));
    assert_string_equal(lr->body->string_value, "Example log record");
    const any_value *v = attr(lr->attributes, lr->n_attributes, "boolean.attribute");
    assert_int_equal(v->value_case, AV(BOOL_VALUE));
    assert_true(v->bool_value);
    v = attr(lr->attributes, lr->n_attributes, "int.attribute");
    assert_int_equal(v->value_case, AV(INT_VALUE));
    assert_true(v->int_value == 10);
    v = attr(lr->attributes, lr->n_attributes, "double.attribute");
    assert_int_equal(v->value_case, AV(DOUBLE_VALUE));
    assert_true(v->double_value == 637.704);
    v = attr(lr->attributes, lr->n_attributes, "array.attribute");
    assert_int_equal(v->value_case, AV(ARRAY_VALUE));
    assert_int_equal(v->array_value->n_values, 2);
    assert_string_equal(v->array_value->values[1]->string_value, "values");
    v = attr(lr->attributes, lr->n_attributes, "map.attribute");
    assert_int_equal(v->value_case, AV(KVLIST_VALUE));
    assert_string_equal(v->kvlist_value->values[0]->key, "some.map.key");
    assert_string_equal(v->kvlist_value->values[0]->value->string_value, "some value");
    assert_round_trip(SIGNAL_LOGS, w, n);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(w);
    free(json);
}

static void test_example_events(void **state)
{
    (void)state;
    size_t len, n;
    char *json = read_testdata("events.json", &len);
    struct error err = {0};
    uint8_t *w;
    assert_int_equal(otlp_json_to_wire(SIGNAL_LOGS, json, len, &w, &n, &err), 0);
    logs_req *r = unpack(SIGNAL_LOGS, w, n);
    log_record *lr = r->resource_logs[0]->scope_logs[0]->log_records[0];
    assert_string_equal(lr->event_name, "browser.page_view");
    assert_int_equal(lr->severity_number, 9);
    assert_int_equal(lr->trace_id.len, 0);
    assert_int_equal(lr->body->value_case, AV(KVLIST_VALUE));
    const any_value *t = attr(lr->body->kvlist_value->values, lr->body->kvlist_value->n_values, "type");
    assert_int_equal(t->value_case, AV(INT_VALUE)); /* "0" is set, not absent */
    assert_true(t->int_value == 0);
    char *out = otlp_json_from_wire(SIGNAL_LOGS, w, n, NULL, &err);
    assert_non_null(out);
    assert_non_null(strstr(out, "{\"key\":\"type\",\"value\":{\"intValue\":\"0\"}}"));
    assert_non_null(strstr(out, "\"eventName\":\"browser.page_view\""));
    free(out);
    assert_round_trip(SIGNAL_LOGS, w, n);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(w);
    free(json);
}

/* ---- round trips of rich messages ------------------------------------------------------------ */

static void test_round_trip_traces_built(void **state)
{
    (void)state;
    static uint8_t tid[16] = {0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xab};
    static uint8_t sid[8] = {0, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0xfe};
    static uint8_t blob[5] = {0, 0xff, 0x80, 'a', 0x7f};

    any_value v[16];
    key_value kv[16];
    key_value *kvp[16];
    for (int i = 0; i < 16; i++) {
        opentelemetry__proto__common__v1__any_value__init(&v[i]);
        opentelemetry__proto__common__v1__key_value__init(&kv[i]);
        kv[i].value = &v[i];
        kvp[i] = &kv[i];
    }
    kv[0].key = "s"; v[0].value_case = AV(STRING_VALUE); v[0].string_value = "quote\" back\\ nl\n tab\t \x01 é€😀";
    kv[1].key = "b"; v[1].value_case = AV(BOOL_VALUE); v[1].bool_value = 1;
    kv[2].key = "bf"; v[2].value_case = AV(BOOL_VALUE); v[2].bool_value = 0;
    kv[3].key = "imin"; v[3].value_case = AV(INT_VALUE); v[3].int_value = INT64_MIN;
    kv[4].key = "imax"; v[4].value_case = AV(INT_VALUE); v[4].int_value = INT64_MAX;
    kv[5].key = "i0"; v[5].value_case = AV(INT_VALUE); v[5].int_value = 0;
    kv[6].key = "nan"; v[6].value_case = AV(DOUBLE_VALUE); v[6].double_value = NAN;
    kv[7].key = "inf"; v[7].value_case = AV(DOUBLE_VALUE); v[7].double_value = INFINITY;
    kv[8].key = "ninf"; v[8].value_case = AV(DOUBLE_VALUE); v[8].double_value = -INFINITY;
    kv[9].key = "d"; v[9].value_case = AV(DOUBLE_VALUE); v[9].double_value = 0.1 + 0.2;
    kv[10].key = "negzero"; v[10].value_case = AV(DOUBLE_VALUE); v[10].double_value = -0.0;
    kv[11].key = "bytes"; v[11].value_case = AV(BYTES_VALUE); v[11].bytes_value = (ProtobufCBinaryData){5, blob};
    kv[12].key = "empty"; v[12].value_case = AV(STRING_VALUE); v[12].string_value = "";
    kv[13].key = "tiny"; v[13].value_case = AV(DOUBLE_VALUE); v[13].double_value = 4.9406564584124654e-324;
    /* array [string, int, array[]] and kvlist {k: double} */
    any_value inner[3];
    any_value *innerp[3] = {&inner[0], &inner[1], &inner[2]};
    for (int i = 0; i < 3; i++)
        opentelemetry__proto__common__v1__any_value__init(&inner[i]);
    Opentelemetry__Proto__Common__V1__ArrayValue arr = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
    Opentelemetry__Proto__Common__V1__ArrayValue arr_empty = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
    inner[0].value_case = AV(STRING_VALUE); inner[0].string_value = "x";
    inner[1].value_case = AV(INT_VALUE); inner[1].int_value = -42;
    inner[2].value_case = AV(ARRAY_VALUE); inner[2].array_value = &arr_empty;
    arr.n_values = 3; arr.values = innerp;
    kv[14].key = "arr"; v[14].value_case = AV(ARRAY_VALUE); v[14].array_value = &arr;
    any_value kvv = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    kvv.value_case = AV(DOUBLE_VALUE); kvv.double_value = 1e300;
    key_value kin = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    key_value *kinp[1] = {&kin};
    kin.key = "k"; kin.value = &kvv;
    Opentelemetry__Proto__Common__V1__KeyValueList kvl = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE_LIST__INIT;
    kvl.n_values = 1; kvl.values = kinp;
    kv[15].key = "map"; v[15].value_case = AV(KVLIST_VALUE); v[15].kvlist_value = &kvl;

    Opentelemetry__Proto__Resource__V1__Resource res = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    res.n_attributes = 16; res.attributes = kvp; res.dropped_attributes_count = 3;
    Opentelemetry__Proto__Common__V1__InstrumentationScope scope = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
    scope.name = "lib"; scope.version = "2";

    Opentelemetry__Proto__Trace__V1__Span__Event ev = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__EVENT__INIT;
    Opentelemetry__Proto__Trace__V1__Span__Event *evp[1] = {&ev};
    ev.time_unix_nano = UINT64_MAX; ev.name = "exception"; ev.n_attributes = 2; ev.attributes = kvp;
    ev.dropped_attributes_count = 7;
    Opentelemetry__Proto__Trace__V1__Span__Link ln = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__LINK__INIT;
    Opentelemetry__Proto__Trace__V1__Span__Link *lnp[1] = {&ln};
    ln.trace_id = (ProtobufCBinaryData){16, tid}; ln.span_id = (ProtobufCBinaryData){8, sid};
    ln.trace_state = "a=b"; ln.flags = 0x301; ln.n_attributes = 1; ln.attributes = &kvp[4];
    Opentelemetry__Proto__Trace__V1__Status st = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
    st.message = "boom"; st.code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;

    span_t sp[2];
    span_t *spp[2] = {&sp[0], &sp[1]};
    opentelemetry__proto__trace__v1__span__init(&sp[0]);
    opentelemetry__proto__trace__v1__span__init(&sp[1]);
    sp[0].trace_id = (ProtobufCBinaryData){16, tid}; sp[0].span_id = (ProtobufCBinaryData){8, sid};
    sp[0].parent_span_id = (ProtobufCBinaryData){8, sid}; sp[0].trace_state = "k=v";
    sp[0].flags = 0xffffffffu; sp[0].name = "chat gpt-4o";
    sp[0].kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
    sp[0].start_time_unix_nano = 1; sp[0].end_time_unix_nano = UINT64_MAX;
    sp[0].n_attributes = 16; sp[0].attributes = kvp; sp[0].dropped_attributes_count = 1;
    sp[0].n_events = 1; sp[0].events = evp; sp[0].dropped_events_count = 2;
    sp[0].n_links = 1; sp[0].links = lnp; sp[0].dropped_links_count = 4; sp[0].status = &st;
    sp[1].trace_id = (ProtobufCBinaryData){16, tid}; sp[1].span_id = (ProtobufCBinaryData){8, sid};
    sp[1].name = "minimal";

    Opentelemetry__Proto__Trace__V1__ScopeSpans ss = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp[1] = {&ss};
    ss.scope = &scope; ss.n_spans = 2; ss.spans = spp; ss.schema_url = "https://opentelemetry.io/schemas/1.26.0";
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp[1] = {&rs};
    rs.resource = &res; rs.n_scope_spans = 1; rs.scope_spans = ssp;
    trace_req req = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.n_resource_spans = 1; req.resource_spans = rsp;

    size_t n = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *w = malloc(n);
    assert_int_equal(protobuf_c_message_pack(&req.base, w), n);
    assert_round_trip(SIGNAL_TRACES, w, n);

    struct error err = {0};
    char *json = otlp_json_from_wire(SIGNAL_TRACES, w, n, NULL, &err);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"intValue\":\"-9223372036854775808\""));
    assert_non_null(strstr(json, "\"endTimeUnixNano\":\"18446744073709551615\""));
    assert_non_null(strstr(json, "\"doubleValue\":\"NaN\""));
    assert_non_null(strstr(json, "\"doubleValue\":\"-Infinity\""));
    assert_non_null(strstr(json, "\"bytesValue\":\"AP+AYX8=\""));
    assert_non_null(strstr(json, "\"traceId\":\"ff0102030405060708090a0b0c0d0eab\""));
    assert_non_null(strstr(json, "\"flags\":4294967295"));
    assert_non_null(strstr(json, "\"status\":{\"message\":\"boom\",\"code\":2}"));
    assert_non_null(strstr(json, "\"quote\\\" back\\\\ nl\\n tab\\t \\u0001 é€😀\""));
    assert_non_null(strstr(json, "{\"key\":\"empty\",\"value\":{\"stringValue\":\"\"}}"));
    assert_non_null(strstr(json, "{\"arrayValue\":{}}"));
    free(json);
    free(w);
}

static const char rich_metrics[] =
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"gw\"}}]},"
    "\"scopeMetrics\":[{\"scope\":{\"name\":\"m\"},\"metrics\":["
    "{\"name\":\"g\",\"unit\":\"s\",\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":\"5\",\"asInt\":\"-7\","
    "\"exemplars\":[{\"timeUnixNano\":\"6\",\"asDouble\":1.5,\"traceId\":\"0102030405060708090a0b0c0d0e0f10\","
    "\"spanId\":\"0102030405060708\",\"filteredAttributes\":[{\"key\":\"f\",\"value\":{\"boolValue\":true}}]}],"
    "\"flags\":1}]}},"
    "{\"name\":\"c\",\"sum\":{\"dataPoints\":[{\"asDouble\":\"NaN\"},{\"asDouble\":\"Infinity\"},{\"asInt\":\"0\"}],"
    "\"aggregationTemporality\":2,\"isMonotonic\":true}},"
    "{\"name\":\"h\",\"histogram\":{\"dataPoints\":[{\"count\":\"18446744073709551615\",\"sum\":0,"
    "\"bucketCounts\":[\"0\",\"18446744073709551615\",\"3\"],\"explicitBounds\":[-1.5,0,\"Infinity\"],"
    "\"min\":-3.25,\"max\":\"-Infinity\"},{\"count\":\"1\"}],\"aggregationTemporality\":1}},"
    "{\"name\":\"e\",\"exponentialHistogram\":{\"dataPoints\":[{\"count\":\"9\",\"scale\":-3,\"zeroCount\":\"2\","
    "\"positive\":{\"offset\":-5,\"bucketCounts\":[\"1\",\"2\"]},\"negative\":{\"offset\":2147483647,"
    "\"bucketCounts\":[\"4\"]},\"zeroThreshold\":1e-9,\"min\":0,\"max\":0}],\"aggregationTemporality\":2}},"
    "{\"name\":\"s\",\"summary\":{\"dataPoints\":[{\"count\":\"4\",\"sum\":12.5,\"quantileValues\":"
    "[{\"quantile\":0.5,\"value\":3},{\"quantile\":1,\"value\":\"NaN\"}]}]}},"
    "{\"name\":\"meta\",\"metadata\":[{\"key\":\"x\",\"value\":{\"intValue\":\"1\"}}],\"gauge\":{}}"
    "]}],\"schemaUrl\":\"u\"}]}";

static void test_round_trip_metrics_rich(void **state)
{
    (void)state;
    size_t n;
    uint8_t *w = to_wire(SIGNAL_METRICS, rich_metrics, &n);
    metrics_req *r = unpack(SIGNAL_METRICS, w, n);
    metric_t **m = r->resource_metrics[0]->scope_metrics[0]->metrics;
    assert_int_equal(r->resource_metrics[0]->scope_metrics[0]->n_metrics, 6);
    Opentelemetry__Proto__Metrics__V1__NumberDataPoint *g = m[0]->gauge->data_points[0];
    assert_true(g->as_int == -7 && g->flags == 1);
    assert_true(g->exemplars[0]->as_double == 1.5);
    assert_int_equal(g->exemplars[0]->trace_id.data[15], 0x10);
    assert_true(isnan(m[1]->sum->data_points[0]->as_double));
    assert_true(isinf(m[1]->sum->data_points[1]->as_double));
    assert_int_equal(m[1]->sum->data_points[2]->value_case,
                     OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT);
    Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *h = m[2]->histogram->data_points[0];
    assert_true(h->count == UINT64_MAX && h->bucket_counts[1] == UINT64_MAX);
    assert_true(h->_sum_case && h->sum == 0.0);
    assert_true(h->min == -3.25 && isinf(h->max) && h->max < 0);
    assert_true(isinf(h->explicit_bounds[2]));
    Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *h2 = m[2]->histogram->data_points[1];
    assert_int_equal(h2->_sum_case, 0);
    assert_int_equal(h2->_min_case, 0);
    assert_int_equal(h2->_max_case, 0);
    Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint *e =
        m[3]->exponential_histogram->data_points[0];
    assert_int_equal(e->scale, -3);
    assert_int_equal(e->positive->offset, -5);
    assert_int_equal(e->negative->offset, 2147483647);
    assert_true(e->zero_threshold == 1e-9);
    assert_true(e->_min_case && e->_max_case && !e->_sum_case);
    Opentelemetry__Proto__Metrics__V1__SummaryDataPoint *s = m[4]->summary->data_points[0];
    assert_true(s->sum == 12.5 && s->n_quantile_values == 2 && isnan(s->quantile_values[1]->value));
    assert_int_equal(m[5]->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);
    assert_int_equal(m[5]->n_metadata, 1);
    assert_round_trip(SIGNAL_METRICS, w, n);

    /* the second histogram point has no sum/min/max: none appears */
    struct error err = {0};
    char *json = otlp_json_from_wire(SIGNAL_METRICS, w, n, NULL, &err);
    assert_non_null(json);
    assert_non_null(strstr(json, "{\"count\":\"1\"}"));
    assert_non_null(strstr(json, "\"explicitBounds\":[-1.5,0,\"Infinity\"]"));
    free(json);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(w);
}

static const char rich_logs[] =
    "{\"resourceLogs\":[{\"resource\":{},\"scopeLogs\":[{\"logRecords\":["
    "{\"timeUnixNano\":\"1\",\"severityNumber\":21,\"severityText\":\"FATAL\",\"body\":{\"bytesValue\":\"aGVsbG8\"},"
    "\"flags\":1,\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
    "\"droppedAttributesCount\":2,\"eventName\":\"e\"},"
    "{\"body\":{\"kvlistValue\":{\"values\":[{\"key\":\"a\",\"value\":{\"arrayValue\":{\"values\":"
    "[{\"doubleValue\":-2.5e-8},{\"boolValue\":false},{\"kvlistValue\":{}}]}}},{\"key\":\"empty\"}]}}},"
    "{\"body\":{}}"
    "]}]}]}";

static void test_round_trip_logs_rich(void **state)
{
    (void)state;
    size_t n;
    uint8_t *w = to_wire(SIGNAL_LOGS, rich_logs, &n);
    logs_req *r = unpack(SIGNAL_LOGS, w, n);
    log_record **lr = r->resource_logs[0]->scope_logs[0]->log_records;
    assert_int_equal(r->resource_logs[0]->scope_logs[0]->n_log_records, 3);
    assert_int_equal(lr[0]->body->value_case, AV(BYTES_VALUE));
    assert_int_equal(lr[0]->body->bytes_value.len, 5);
    assert_memory_equal(lr[0]->body->bytes_value.data, "hello", 5);
    assert_int_equal(lr[0]->severity_number, 21);
    assert_int_equal(lr[1]->body->value_case, AV(KVLIST_VALUE));
    any_value *a = lr[1]->body->kvlist_value->values[0]->value;
    assert_true(a->array_value->values[0]->double_value == -2.5e-8);
    assert_int_equal(a->array_value->values[1]->value_case, AV(BOOL_VALUE));
    assert_false(a->array_value->values[1]->bool_value);
    assert_null(lr[1]->body->kvlist_value->values[1]->value);
    assert_int_equal(lr[2]->body->value_case, 0);
    assert_round_trip(SIGNAL_LOGS, w, n);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(w);
}

/* ---- lenient input forms -------------------------------------------------------------------- */

static void assert_same_wire(enum signal s, const char *a, const char *b)
{
    size_t na, nb;
    uint8_t *wa = to_wire(s, a, &na), *wb = to_wire(s, b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(wa, wb, na);
    assert_true(na > 0);
    free(wa);
    free(wb);
}

static void test_snake_case_equals_camel(void **state)
{
    (void)state;
    const char *camel =
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"5B8EFFF798038103D269B633813FC60C\","
        "\"spanId\":\"eee19b7ec3c1b174\",\"parentSpanId\":\"EEE19B7EC3C1B173\",\"startTimeUnixNano\":\"3\","
        "\"droppedAttributesCount\":2,\"events\":[{\"timeUnixNano\":\"9\",\"droppedAttributesCount\":1}]}]}],"
        "\"schemaUrl\":\"s\"}]}";
    const char *snake =
        "{\"resource_spans\":[{\"scope_spans\":[{\"spans\":[{\"trace_id\":\"5b8efff798038103d269b633813fc60c\","
        "\"span_id\":\"EEE19B7EC3C1B174\",\"parent_span_id\":\"eee19b7ec3c1b173\",\"start_time_unix_nano\":\"3\","
        "\"dropped_attributes_count\":2,\"events\":[{\"time_unix_nano\":\"9\",\"dropped_attributes_count\":1}]}]}],"
        "\"schema_url\":\"s\"}]}";
    assert_same_wire(SIGNAL_TRACES, camel, snake);
    const char *m_camel = "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"h\","
                          "\"exponentialHistogram\":{\"aggregationTemporality\":1,\"dataPoints\":[{\"zeroCount\":\"4\"}]}}]}]}]}";
    const char *m_snake = "{\"resource_metrics\":[{\"scope_metrics\":[{\"metrics\":[{\"name\":\"h\","
                          "\"exponential_histogram\":{\"aggregation_temporality\":1,\"data_points\":[{\"zero_count\":4}]}}]}]}]}";
    assert_same_wire(SIGNAL_METRICS, m_camel, m_snake);
}

static void test_int64_numbers_and_strings(void **state)
{
    (void)state;
    assert_same_wire(SIGNAL_TRACES,
                     "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"18446744073709551615\","
                     "\"endTimeUnixNano\":\"1544712660000000001\",\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
                     "{\"key\":\"j\",\"value\":{\"intValue\":\"9223372036854775807\"}}],\"droppedEventsCount\":\"4294967295\"}]}]}]}",
                     "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":18446744073709551615,"
                     "\"endTimeUnixNano\":1544712660000000001,\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":-9223372036854775808}},"
                     "{\"key\":\"j\",\"value\":{\"intValue\":9223372036854775807}}],\"droppedEventsCount\":4294967295}]}]}]}");
    size_t n;
    uint8_t *w = to_wire(SIGNAL_TRACES,
                         "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":18446744073709551615,"
                         "\"endTimeUnixNano\":1544712660000000001}]}]}]}", &n);
    trace_req *r = unpack(SIGNAL_TRACES, w, n);
    span_t *sp = r->resource_spans[0]->scope_spans[0]->spans[0];
    assert_true(sp->start_time_unix_nano == UINT64_MAX);
    assert_true(sp->end_time_unix_nano == 1544712660000000001ull);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(w);
    /* integral doubles are accepted for integer fields */
    assert_same_wire(SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":3.0,\"startTimeUnixNano\":1e3}]}]}]}",
                     "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":3,\"startTimeUnixNano\":\"1000\"}]}]}]}");
}

static void test_enum_name_and_int(void **state)
{
    (void)state;
    assert_same_wire(SIGNAL_TRACES,
                     "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":\"SPAN_KIND_SERVER\",\"status\":{\"code\":\"STATUS_CODE_ERROR\"}}]}]}]}",
                     "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":2,\"status\":{\"code\":2}}]}]}]}");
    assert_same_wire(SIGNAL_LOGS,
                     "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":\"SEVERITY_NUMBER_WARN\"}]}]}]}",
                     "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":13}]}]}]}");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":\"SPAN_KIND_NOPE\"}]}]}]}", SIZE_MAX,
                 "resourceSpans[0].scopeSpans[0].spans[0].kind: expected an integer");
}

static void test_null_and_unknown_fields(void **state)
{
    (void)state;
    const char *plain = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"a\",\"kind\":1}]}]}]}";
    const char *noisy =
        "{\"futureField\":{\"x\":[1,2,{\"y\":null}]},\"resourceSpans\":[{\"resource\":null,\"newThing\":\"z\","
        "\"scopeSpans\":[{\"scope\":null,\"spans\":[{\"name\":\"a\",\"kind\":1,\"attributes\":null,\"events\":null,"
        "\"traceId\":null,\"unknownInt\":\"18446744073709551616\",\"status\":null,\"deep\":[[[[{\"a\":1}]]]]}]}]}]}";
    assert_same_wire(SIGNAL_TRACES, plain, noisy);
}

static void test_empty_request(void **state)
{
    (void)state;
    struct error err = {0};
    uint8_t *w = NULL;
    size_t n = 99;
    assert_int_equal(otlp_json_to_wire(SIGNAL_LOGS, " {} \n", 5, &w, &n, &err), 0);
    assert_non_null(w);
    assert_int_equal(n, 0);
    char *j = otlp_json_from_wire(SIGNAL_LOGS, w, n, &n, &err);
    assert_string_equal(j, "{}");
    assert_int_equal(n, 2);
    free(j);
    free(w);
}

static void test_exact_encoding(void **state)
{
    (void)state;
    const char *in = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"n\",\"kind\":2,"
                     "\"spanId\":\"EEE19B7EC3C1B174\",\"traceId\":\"5B8EFFF798038103D269B633813FC60C\","
                     "\"endTimeUnixNano\":2,\"startTimeUnixNano\":\"1\",\"flags\":0,\"traceState\":\"\"}]}]}]}";
    size_t n;
    uint8_t *w = to_wire(SIGNAL_TRACES, in, &n);
    struct error err = {0};
    char *out = otlp_json_from_wire(SIGNAL_TRACES, w, n, NULL, &err);
    assert_non_null(out);
    /* field-number order, defaults omitted, strict forms */
    assert_string_equal(out, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
                             "\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
                             "\"name\":\"n\",\"kind\":2,\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"}]}]}]}");
    free(out);
    free(w);
}

static void test_status_and_response(void **state)
{
    (void)state;
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = 3;
    st.message = "bad \"traceId\"";
    struct error err = {0};
    size_t n;
    char *j = otlp_json_encode(&st.base, &n, &err);
    assert_string_equal(j, "{\"code\":3,\"message\":\"bad \\\"traceId\\\"\"}");
    struct arena *a = arena_new(0);
    Google__Rpc__Status *back =
        (Google__Rpc__Status *)otlp_json_decode(&google__rpc__status__descriptor, j, n, a, &err);
    assert_non_null(back);
    assert_int_equal(back->code, 3);
    assert_string_equal(back->message, "bad \"traceId\"");
    free(j);

    Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    ps.rejected_spans = 5;
    ps.error_message = "5 spans dropped";
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse resp =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    j = otlp_json_encode(&resp.base, NULL, &err);
    assert_string_equal(j, "{}");
    free(j);
    resp.partial_success = &ps;
    j = otlp_json_encode(&resp.base, &n, &err);
    assert_string_equal(j, "{\"partialSuccess\":{\"rejectedSpans\":\"5\",\"errorMessage\":\"5 spans dropped\"}}");
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r2 =
        (void *)otlp_json_decode(otlp_response_descriptor(SIGNAL_TRACES), j, n, a, &err);
    assert_non_null(r2);
    assert_true(r2->partial_success->rejected_spans == 5);
    free(j);
    /* a response body with a number instead of a string and snake_case keys */
    const char *lenient = "{\"partial_success\":{\"rejected_log_records\":7,\"error_message\":\"x\"}}";
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r3 =
        (void *)otlp_json_decode(otlp_response_descriptor(SIGNAL_LOGS), lenient, strlen(lenient), a, &err);
    assert_non_null(r3);
    assert_true(r3->partial_success->rejected_log_records == 7);
    arena_free(a);
}

static void test_invalid_utf8_replaced(void **state)
{
    (void)state;
    any_value v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    v.value_case = AV(STRING_VALUE);
    /* lone continuation byte, 0xff, truncated 3-byte sequence, overlong '/', a surrogate, valid é */
    v.string_value = "a\x80" "b\xff" "c\xe2\x82" "d\xc0\xaf" "e\xed\xa0\x80" "f\xc3\xa9";
    struct error err = {0};
    char *j = otlp_json_encode(&v.base, NULL, &err);
    assert_non_null(j);
    assert_string_equal(j, "{\"stringValue\":\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD"
                           "d\xEF\xBF\xBD\xEF\xBF\xBD" "e\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "f\xc3\xa9\"}");
    struct arena *a = arena_new(0);
    any_value *back = (any_value *)otlp_json_decode(&opentelemetry__proto__common__v1__any_value__descriptor,
                                                    j, strlen(j), a, &err);
    assert_non_null(back);
    assert_non_null(strstr(back->string_value, "\xEF\xBF\xBD"));
    arena_free(a);
    free(j);
}

static void test_invalid_utf8_in_json_input(void **state)
{
    (void)state;
    size_t n;
    uint8_t *w = to_wire(SIGNAL_LOGS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":"
                                      "{\"stringValue\":\"x\xff\xc3\"},\"severityText\":\"\xe2\x82\xac ok\"}]}]}]}", &n);
    logs_req *r = unpack(SIGNAL_LOGS, w, n);
    log_record *lr = r->resource_logs[0]->scope_logs[0]->log_records[0];
    assert_string_equal(lr->body->string_value, "x\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_string_equal(lr->severity_text, "\xe2\x82\xac ok");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(w);
}

/* Every single-byte corruption of an example either decodes to something the wire scanner
 * accepts or fails with a message; none crashes (this runs under ASan in CI). */
static void test_mutations(void **state)
{
    (void)state;
    static const char subst[] = {'"', '{', ']', '0', 'x', ',', '\\', '\xff', ':'};
    size_t len;
    char *json = read_testdata("trace.json", &len);
    char *m = malloc(len);
    assert_non_null(m);
    int ok = 0, failed = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof subst; k++) {
            memcpy(m, json, len);
            if (m[i] == subst[k])
                continue;
            m[i] = subst[k];
            struct error err = {0};
            uint8_t *w = NULL;
            size_t n;
            if (otlp_json_to_wire(SIGNAL_TRACES, m, len, &w, &n, &err) == 0) {
                struct otlp_scan_result sr;
                if (otlp_scan(SIGNAL_TRACES, w, n, &sr, &err))
                    fail_msg("mutation at %zu accepted but scan says: %s", i, err.msg);
                free(w);
                ok++;
            } else {
                assert_true(err.msg[0] != '\0');
                failed++;
            }
        }
    }
    assert_true(ok > 0 && failed > 0);
    free(m);
    free(json);
}

static void test_base64_forms(void **state)
{
    (void)state;
    const char *fmt = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"bytesValue\":\"%s\"}}]}]}]}";
    char a[256], b[256];
    snprintf(a, sizeof a, fmt, "+/+/");
    snprintf(b, sizeof b, fmt, "-_-_");
    assert_same_wire(SIGNAL_LOGS, a, b);
    snprintf(a, sizeof a, fmt, "aGk=");
    snprintf(b, sizeof b, fmt, "aGk");
    assert_same_wire(SIGNAL_LOGS, a, b);
    snprintf(a, sizeof a, fmt, "a*Gk");
    expect_error(SIGNAL_LOGS, a, SIZE_MAX, "resourceLogs[0].scopeLogs[0].logRecords[0].body.bytesValue: invalid base64");
    snprintf(a, sizeof a, fmt, "aGk==");
    expect_error(SIGNAL_LOGS, a, SIZE_MAX, "bytesValue: invalid base64");
}

/* ---- malformed input --------------------------------------------------------------------------- */

static void test_bad_ids(void **state)
{
    (void)state;
    const char *wrong_len =
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{},{},{},{\"traceId\":\"5B8EFFF798038103D269B633813FC6\"}]}]}]}";
    expect_error(SIGNAL_TRACES, wrong_len, SIZE_MAX,
                 "resourceSpans[0].scopeSpans[0].spans[3].traceId: expected 32 hex characters, got 30");
    const char *bad_hex = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"spanId\":\"EEE19B7EC3C1B17G\"}]}]}]}";
    expect_error(SIGNAL_TRACES, bad_hex, SIZE_MAX,
                 "resourceSpans[0].scopeSpans[0].spans[0].spanId: invalid hex character at position 15");
    const char *link = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"links\":[{\"span_id\":\"0102\"}]}]}]}]}";
    expect_error(SIGNAL_TRACES, link, SIZE_MAX,
                 "resourceSpans[0].scopeSpans[0].spans[0].links[0].span_id: expected 16 hex characters, got 4");
    const char *not_string = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":12}]}]}]}";
    expect_error(SIGNAL_LOGS, not_string, SIZE_MAX,
                 "resourceLogs[0].scopeLogs[0].logRecords[0].traceId: expected a hex string, got a number");
    /* base64 of 16 bytes is not accepted where hex is required */
    const char *b64 = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":\"W47/95gDgQPSabYzgT/GDA==\"}]}]}]}";
    expect_error(SIGNAL_LOGS, b64, SIZE_MAX, "traceId: expected 32 hex characters, got 24");
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[{\"resource\":\"x\"}]}", SIZE_MAX,
                 "resourceSpans[0].resource: expected an object (Resource), got a string");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":{}}", SIZE_MAX, "resourceSpans: expected an array, got an object");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[null]}", SIZE_MAX, "resourceSpans[0]: null is not allowed");
    expect_error(SIGNAL_TRACES, "[]", SIZE_MAX, "expected an object (ExportTraceServiceRequest), got an array");
    expect_error(SIGNAL_TRACES, "null", SIZE_MAX, "got null");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":7}]}]}]}", SIZE_MAX,
                 "spans[0].name: expected a string, got a number");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":2.5}]}]}]}", SIZE_MAX,
                 "kind: expected an integer");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":-1}]}]}]}",
                 SIZE_MAX, "startTimeUnixNano: integer -1 out of range");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"18446744073709551616\"}]}]}]}",
                 SIZE_MAX, "startTimeUnixNano: integer \"18446744073709551616\" out of range");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"12ab\"}]}]}]}",
                 SIZE_MAX, "expected an unsigned integer, got \"12ab\"");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"droppedEventsCount\":4294967296}]}]}]}",
                 SIZE_MAX, "droppedEventsCount: integer 4294967296 out of range");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":9223372036854775808}}]}]}]}]}",
                 SIZE_MAX, "attributes[0].value.intValue: integer 9223372036854775808 out of range");
    expect_error(SIGNAL_LOGS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"boolValue\":\"true\"}}]}]}]}",
                 SIZE_MAX, "body.boolValue: expected a boolean, got a string");
    expect_error(SIGNAL_METRICS, "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"gauge\":{\"dataPoints\":[{\"asDouble\":\"fast\"}]}}]}]}]}",
                 SIZE_MAX, "gauge.dataPoints[0].asDouble: expected a number, got \"fast\"");
}

static void test_truncated_and_garbage(void **state)
{
    (void)state;
    size_t len;
    char *json = read_testdata("trace.json", &len);
    /* every prefix that stops before the closing brace must fail cleanly */
    size_t last = len;
    while (last > 0 && json[last - 1] != '}')
        last--;
    for (size_t cut = 0; cut < last; cut += 7) {
        struct error err = {0};
        uint8_t *out = NULL;
        size_t n;
        assert_int_not_equal(otlp_json_to_wire(SIGNAL_TRACES, json, cut, &out, &n, &err), 0);
        assert_null(out);
        assert_true(err.msg[0] != '\0');
    }
    expect_error(SIGNAL_TRACES, json, len - 3, "truncated JSON");
    free(json);
    expect_error(SIGNAL_TRACES, "", 0, "truncated JSON");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[]} {}", SIZE_MAX, "unexpected data after the value at offset 21");
    expect_error(SIGNAL_TRACES, "{\"resourceSpans\":[}", SIZE_MAX, "invalid JSON at offset");
    expect_error(SIGNAL_TRACES, "{\"a\" 1}", SIZE_MAX, "invalid JSON at offset");
}

/* Nesting AnyValue → arrayValue → values[0] → … n levels. */
static char *array_bomb(size_t levels, size_t *len)
{
    static const char open[] = "{\"arrayValue\":{\"values\":[";
    static const char close[] = "]}}";
    const char *head = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":";
    const char *tail = "}]}]}]}";
    size_t n = strlen(head) + levels * (sizeof open - 1 + sizeof close - 1) + 16 + strlen(tail);
    char *s = malloc(n + 1), *p = s;
    assert_non_null(s);
    p += sprintf(p, "%s", head);
    for (size_t i = 0; i < levels; i++) {
        memcpy(p, open, sizeof open - 1);
        p += sizeof open - 1;
    }
    p += sprintf(p, "{\"intValue\":1}");
    for (size_t i = 0; i < levels; i++) {
        memcpy(p, close, sizeof close - 1);
        p += sizeof close - 1;
    }
    p += sprintf(p, "%s", tail);
    *len = (size_t)(p - s);
    return s;
}

static void test_depth_bombs(void **state)
{
    (void)state;
    size_t len;
    /* 100k levels: stopped by the tokener's depth limit, no deep recursion anywhere */
    char *bomb = array_bomb(100000, &len);
    expect_error(SIGNAL_LOGS, bomb, len, "JSON nesting deeper than");
    free(bomb);
    /* 40 levels = 80 messages + 4 above: fits the tokener, stopped by the message depth limit
     * with the path to where it happened */
    bomb = array_bomb(40, &len);
    expect_error(SIGNAL_LOGS, bomb, len, "message nesting deeper than 64 levels");
    expect_error(SIGNAL_LOGS, bomb, len, "resourceLogs[0].scopeLogs[0].logRecords[0].body.arrayValue.values[0]");
    free(bomb);
    /* the limit is the wire scanner's: 30 levels put the innermost AnyValue at depth 64 (the
     * request is depth 0), 31 levels go one past */
    bomb = array_bomb(31, &len);
    expect_error(SIGNAL_LOGS, bomb, len, "message nesting deeper than 64 levels");
    free(bomb);
    bomb = array_bomb(30, &len);
    uint8_t *w;
    size_t n;
    struct error err = {0};
    assert_int_equal(otlp_json_to_wire(SIGNAL_LOGS, bomb, len, &w, &n, &err), 0);
    struct otlp_scan_result sr;
    assert_int_equal(otlp_scan(SIGNAL_LOGS, w, n, &sr, &err), 0);
    assert_round_trip(SIGNAL_LOGS, w, n);
    free(w);
    free(bomb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_trace),
        cmocka_unit_test(test_example_metrics),
        cmocka_unit_test(test_example_logs),
        cmocka_unit_test(test_example_events),
        cmocka_unit_test(test_round_trip_traces_built),
        cmocka_unit_test(test_round_trip_metrics_rich),
        cmocka_unit_test(test_round_trip_logs_rich),
        cmocka_unit_test(test_snake_case_equals_camel),
        cmocka_unit_test(test_int64_numbers_and_strings),
        cmocka_unit_test(test_enum_name_and_int),
        cmocka_unit_test(test_null_and_unknown_fields),
        cmocka_unit_test(test_empty_request),
        cmocka_unit_test(test_exact_encoding),
        cmocka_unit_test(test_status_and_response),
        cmocka_unit_test(test_invalid_utf8_replaced),
        cmocka_unit_test(test_invalid_utf8_in_json_input),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_base64_forms),
        cmocka_unit_test(test_bad_ids),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_depth_bombs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
