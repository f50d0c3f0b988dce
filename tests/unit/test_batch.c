/* test_batch.c — the wire scanner (validation, ID lengths, depth, item counts) and the batch's
 * two faces (no re-encode when untouched, copy-on-edit when shared), and its span index (shared
 * reading, copy-on-write editing, both faces after index edits, a second interest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/batch.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_req;

/* Packs a trace request with `resources` resources of `spans` spans each; trace_id_len lets a
 * test produce a wrong-length ID. Returns malloc'd bytes. */
static uint8_t *make_traces(int resources, int spans, size_t trace_id_len, size_t *len)
{
    static uint8_t tid[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    static uint8_t sid[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    trace_req req = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs[8];
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp[8];
    Opentelemetry__Proto__Trace__V1__ScopeSpans ss[8];
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp[8];
    Opentelemetry__Proto__Trace__V1__Span sp[64];
    Opentelemetry__Proto__Trace__V1__Span *spp[8][8];
    Opentelemetry__Proto__Common__V1__KeyValue kv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    Opentelemetry__Proto__Common__V1__KeyValue *kvp[1] = {&kv};
    Opentelemetry__Proto__Common__V1__AnyValue av = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    kv.key = "gen_ai.request.model";
    av.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    av.string_value = "gpt-4o";
    kv.value = &av;
    for (int r = 0; r < resources; r++) {
        opentelemetry__proto__trace__v1__resource_spans__init(&rs[r]);
        opentelemetry__proto__trace__v1__scope_spans__init(&ss[r]);
        for (int s = 0; s < spans; s++) {
            Opentelemetry__Proto__Trace__V1__Span *x = &sp[r * 8 + s];
            opentelemetry__proto__trace__v1__span__init(x);
            x->name = "chat gpt-4o";
            x->trace_id.data = tid;
            x->trace_id.len = trace_id_len;
            x->span_id.data = sid;
            x->span_id.len = 8;
            x->start_time_unix_nano = 1000 + (uint64_t)s;
            x->end_time_unix_nano = 2000 + (uint64_t)s;
            x->n_attributes = 1;
            x->attributes = kvp;
            spp[r][s] = x;
        }
        ss[r].n_spans = (size_t)spans;
        ss[r].spans = spp[r];
        ssp[r] = &ss[r];
        rs[r].n_scope_spans = 1;
        rs[r].scope_spans = &ssp[r];
        rsp[r] = &rs[r];
    }
    req.n_resource_spans = (size_t)resources;
    req.resource_spans = rsp;
    *len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(&req);
    uint8_t *buf = malloc(*len + 1);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, buf);
    return buf;
}

static void test_scan_counts_spans_and_resources(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(3, 5, 16, &len);
    struct otlp_scan_result r;
    struct error err;
    assert_int_equal(otlp_scan(SIGNAL_TRACES, buf, len, &r, &err), 0);
    assert_int_equal(r.items, 15);
    assert_int_equal(r.resources, 3);
    free(buf);
}

static void test_scan_rejects_short_trace_id(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(1, 3, 15, &len);
    struct error err = {0};
    assert_int_not_equal(otlp_scan(SIGNAL_TRACES, buf, len, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "trace_id is 15 bytes, expected 16"));
    assert_non_null(strstr(err.msg, "Span #1"));
    free(buf);
}

static void test_scan_rejects_truncation_everywhere(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(2, 2, 16, &len);
    struct error err;
    /* Every strict prefix that cuts a field in half must fail, and unpack must agree. */
    int failed = 0;
    for (size_t cut = 1; cut < len; cut++) {
        int rc = otlp_scan(SIGNAL_TRACES, buf, cut, NULL, &err);
        trace_req *m = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, cut, buf);
        if (rc == 0)
            assert_non_null(m); /* scan accepted => unpack accepts */
        else
            failed++;
        if (m)
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(m, NULL);
    }
    assert_true(failed > 0);
    free(buf);
}

static void test_scan_rejects_garbage_and_wrong_wire_type(void **state)
{
    (void)state;
    struct error err;
    const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_not_equal(otlp_scan(SIGNAL_TRACES, garbage, sizeof garbage, NULL, &err), 0);
    /* field 1 (resource_spans, a message) sent as a varint */
    const uint8_t wrong[] = {0x08, 0x01};
    assert_int_not_equal(otlp_scan(SIGNAL_TRACES, wrong, sizeof wrong, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "wire type"));
    /* a group (wire type 3) */
    const uint8_t group[] = {0x0b};
    assert_int_not_equal(otlp_scan(SIGNAL_LOGS, group, sizeof group, NULL, &err), 0);
}

static void test_scan_accepts_unknown_fields(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(1, 1, 16, &len);
    uint8_t *ext = malloc(len + 3);
    memcpy(ext, buf, len);
    ext[len] = 0x98; /* key of field 99, varint (two-byte key): newer proto fields pass through */
    ext[len + 1] = 0x06;
    ext[len + 2] = 0x05;
    struct error err;
    struct otlp_scan_result r;
    assert_int_equal(otlp_scan(SIGNAL_TRACES, ext, len + 3, &r, &err), 0);
    assert_int_equal(r.items, 1);
    free(buf);
    free(ext);
}

/* Prepends `tag` and the varint length of buf[0..n) in place; buf has room. */
static size_t wrap(uint8_t *buf, size_t n, uint8_t tag)
{
    uint8_t head[11];
    size_t h = 0, v = n;
    head[h++] = tag;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        head[h++] = b | (v ? 0x80 : 0);
    } while (v);
    memmove(buf + h, buf, n);
    memcpy(buf, head, h);
    return n + h;
}

/* An ExportLogsServiceRequest whose one log body is AnyValue{array_value{values:[AnyValue{...}]}}
 * nested `levels` deep: the shape that overflows the stack of a recursive decoder. */
static uint8_t *nest(int levels, size_t *len)
{
    uint8_t *buf = malloc((size_t)levels * 16 + 64);
    size_t n = 0;
    buf[n++] = 0x10; /* AnyValue.bool_value (field 2) = 1 */
    buf[n++] = 0x01;
    for (int i = 0; i < levels; i++) {
        n = wrap(buf, n, 0x0a); /* ArrayValue.values */
        n = wrap(buf, n, 0x2a); /* AnyValue.array_value */
    }
    n = wrap(buf, n, 0x2a); /* LogRecord.body */
    n = wrap(buf, n, 0x12); /* ScopeLogs.log_records */
    n = wrap(buf, n, 0x12); /* ResourceLogs.scope_logs */
    n = wrap(buf, n, 0x0a); /* request.resource_logs */
    *len = n;
    return buf;
}

static void test_scan_rejects_depth_bomb(void **state)
{
    (void)state;
    size_t len;
    uint8_t *deep = nest(5000, &len);
    struct error err;
    assert_int_not_equal(otlp_scan(SIGNAL_LOGS, deep, len, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "nesting deeper"));
    free(deep);
    struct otlp_scan_result r;
    uint8_t *shallow = nest(10, &len);
    int rc = otlp_scan(SIGNAL_LOGS, shallow, len, &r, &err);
    if (rc)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(r.items, 1);
    free(shallow);
}

static void test_scan_counts_metric_points_and_logs(void **state)
{
    (void)state;
    Opentelemetry__Proto__Metrics__V1__NumberDataPoint dp[3], *dpp[3];
    for (int i = 0; i < 3; i++) {
        opentelemetry__proto__metrics__v1__number_data_point__init(&dp[i]);
        dp[i].value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        dp[i].as_int = i;
        dpp[i] = &dp[i];
    }
    Opentelemetry__Proto__Metrics__V1__Sum sum = OPENTELEMETRY__PROTO__METRICS__V1__SUM__INIT;
    sum.n_data_points = 3;
    sum.data_points = dpp;
    Opentelemetry__Proto__Metrics__V1__HistogramDataPoint hp = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__INIT, *hpp = &hp;
    hp._sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM;
    hp.sum = 0.0;
    Opentelemetry__Proto__Metrics__V1__Histogram h = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM__INIT;
    h.n_data_points = 1;
    h.data_points = &hpp;
    Opentelemetry__Proto__Metrics__V1__Metric m[2], *mp[2] = {&m[0], &m[1]};
    opentelemetry__proto__metrics__v1__metric__init(&m[0]);
    opentelemetry__proto__metrics__v1__metric__init(&m[1]);
    m[0].name = "llmproxy.tokens.input";
    m[0].data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
    m[0].sum = &sum;
    m[1].name = "llmproxy.request.duration";
    m[1].data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
    m[1].histogram = &h;
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm = OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT, *smp = &sm;
    sm.n_metrics = 2;
    sm.metrics = mp;
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm = OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT, *rmp = &rm;
    rm.n_scope_metrics = 1;
    rm.scope_metrics = &smp;
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
    req.n_resource_metrics = 1;
    req.resource_metrics = &rmp;
    uint8_t buf[1024];
    size_t len = protobuf_c_message_pack(&req.base, buf);
    struct otlp_scan_result r;
    struct error err;
    assert_int_equal(otlp_scan(SIGNAL_METRICS, buf, len, &r, &err), 0);
    assert_int_equal(r.items, 4);
    assert_int_equal(otlp_count_items(SIGNAL_METRICS, &req.base), 4);

    Opentelemetry__Proto__Logs__V1__LogRecord lr[2], *lrp[2] = {&lr[0], &lr[1]};
    opentelemetry__proto__logs__v1__log_record__init(&lr[0]);
    opentelemetry__proto__logs__v1__log_record__init(&lr[1]);
    uint8_t sid[7] = {0};
    lr[1].span_id.data = sid;
    lr[1].span_id.len = 7; /* wrong length on the second record */
    Opentelemetry__Proto__Logs__V1__ScopeLogs sl = OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT, *slp = &sl;
    sl.n_log_records = 2;
    sl.log_records = lrp;
    Opentelemetry__Proto__Logs__V1__ResourceLogs rl = OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT, *rlp = &rl;
    rl.n_scope_logs = 1;
    rl.scope_logs = &slp;
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest lreq =
        OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
    lreq.n_resource_logs = 1;
    lreq.resource_logs = &rlp;
    len = protobuf_c_message_pack(&lreq.base, buf);
    assert_int_not_equal(otlp_scan(SIGNAL_LOGS, buf, len, &r, &err), 0);
    assert_non_null(strstr(err.msg, "LogRecord #2: span_id is 7 bytes, expected 8"));
    lr[1].span_id.len = 0; /* empty IDs are allowed on log records */
    len = protobuf_c_message_pack(&lreq.base, buf);
    assert_int_equal(otlp_scan(SIGNAL_LOGS, buf, len, &r, &err), 0);
    assert_int_equal(r.items, 2);
}

static void test_batch_untouched_is_not_reencoded(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(2, 3, 16, &len);
    struct error err;
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    assert_non_null(b);
    assert_int_equal(b->items, 6);
    const uint8_t *out1, *out2;
    size_t n1, n2;
    assert_int_equal(batch_encoded(b, &out1, &n1, &err), 0);
    const trace_req *m = (const trace_req *)batch_decoded(b, &err); /* reading keeps the bytes */
    assert_non_null(m);
    assert_int_equal(m->n_resource_spans, 2);
    assert_int_equal(batch_encoded(b, &out2, &n2, &err), 0);
    assert_ptr_equal(out1, out2);
    assert_int_equal(n1, len);
    assert_memory_equal(out1, buf, len);
    batch_unref(b);
    free(buf);
}

static void test_batch_edit_copies_when_shared(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(1, 4, 16, &len);
    struct error err;
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    batch_ref(b); /* a second holder, e.g. another exporter */
    struct batch *mine = NULL;
    trace_req *m = (trace_req *)batch_edit(b, &mine, &err);
    assert_non_null(m);
    assert_ptr_not_equal(mine, b);
    m->resource_spans[0]->scope_spans[0]->n_spans = 2; /* drop two spans */
    batch_edit_done(mine);
    assert_int_equal(mine->items, 2);
    const uint8_t *orig, *edited;
    size_t n1, n2;
    assert_int_equal(batch_encoded(b, &orig, &n1, &err), 0);
    assert_memory_equal(orig, buf, len); /* the shared batch is untouched */
    assert_int_equal(batch_encoded(mine, &edited, &n2, &err), 0);
    struct otlp_scan_result r;
    assert_int_equal(otlp_scan(SIGNAL_TRACES, edited, n2, &r, &err), 0);
    assert_int_equal(r.items, 2);
    batch_unref(mine);
    batch_unref(b);
    /* sole owner now: edit in place */
    struct batch *same = NULL;
    assert_non_null(batch_edit(b, &same, &err));
    assert_ptr_equal(same, b);
    batch_unref(b);
    free(buf);
}

static void test_batch_from_wire_rejects_invalid(void **state)
{
    (void)state;
    struct error err = {0};
    const uint8_t bad[] = {0x0a, 0x10, 0x01};
    assert_null(batch_from_wire(SIGNAL_TRACES, bad, sizeof bad, &err));
    assert_int_equal(err.code, 1);
    assert_non_null(strstr(err.msg, "past the end"));
}

static void test_batch_reject_records_partial_success(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(1, 2, 16, &len);
    struct error err;
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    batch_reject(b, 1, "span had no model");
    batch_reject(b, 1, "second reason is not kept");
    assert_int_equal(atomic_load(&b->rejected), 2);
    assert_string_equal(b->reject_msg, "span had no model");
    batch_unref(b);
    free(buf);
}

/* ---- the span index on a batch ---------------------------------------------------------------- */

static const trace_req *decoded_traces(struct batch *b)
{
    struct error err = {0};
    const trace_req *m = (const trace_req *)batch_decoded(b, &err);
    assert_non_null(m);
    return m;
}

static const Opentelemetry__Proto__Trace__V1__Span *span_at(const trace_req *m, size_t r, size_t i)
{
    return m->resource_spans[r]->scope_spans[0]->spans[i];
}

/* Reading the index of a shared batch builds it once, copies nothing, and leaves the bytes. */
static void test_batch_index_shared_read(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(2, 3, 16, &len);
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    batch_ref(b);
    const struct wire_index *ix = batch_index(b, NULL, &err);
    assert_non_null(ix);
    assert_int_equal(ix->n_items, 6);
    assert_int_equal(ix->n_resources, 2);
    assert_non_null(wi_item_attr_s(&ix->items[5], "gen_ai.request.model"));
    assert_ptr_equal(batch_index(b, NULL, &err), ix);
    assert_ptr_equal(ix->wire, b->wire); /* over the bytes that arrived */
    const uint8_t *out;
    size_t n;
    assert_int_equal(batch_encoded(b, &out, &n, &err), 0);
    assert_ptr_equal(out, b->wire);
    assert_memory_equal(out, buf, len);
    batch_unref(b);
    batch_unref(b);
    free(buf);
}

/* Editing through the index of a shared batch edits a private copy; the original's bytes and
 * count stay; the copy's encoded and decoded faces both hold the edits. */
static void test_batch_index_edit_copies_when_shared(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(2, 3, 16, &len);
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    batch_ref(b);
    assert_non_null(batch_index(b, NULL, &err)); /* an index already built is not the copy's */
    struct batch *mine = NULL;
    struct wire_index *ix = batch_index_edit(b, NULL, &mine, &err);
    assert_non_null(ix);
    assert_ptr_not_equal(mine, b);
    assert_ptr_not_equal(ix, b->index);
    assert_int_equal(wi_item_set_string(ix, &ix->items[0], "gen_ai.system", "openai", 6), 0);
    assert_int_equal(wi_item_set_name(ix, &ix->items[4], "renamed", 7), 0);
    wi_item_drop(ix, &ix->items[1]);
    wi_item_drop(ix, &ix->items[5]);
    batch_index_edit_done(mine);
    assert_int_equal(mine->items, 4);
    assert_int_equal(b->items, 6);

    const uint8_t *orig, *edited, *again;
    size_t n1, n2, n3;
    assert_int_equal(batch_encoded(b, &orig, &n1, &err), 0);
    assert_int_equal(n1, len);
    assert_memory_equal(orig, buf, len);
    assert_false(b->index->dirty);
    assert_int_equal(batch_encoded(mine, &edited, &n2, &err), 0);
    assert_int_equal(batch_encoded(mine, &again, &n3, &err), 0);
    assert_ptr_equal(edited, again); /* applied once, then cached */
    struct otlp_scan_result r;
    assert_int_equal(otlp_scan(SIGNAL_TRACES, edited, n2, &r, &err), 0);
    assert_int_equal(r.items, 4);

    const trace_req *m = decoded_traces(mine);
    assert_int_equal(m->resource_spans[0]->scope_spans[0]->n_spans, 2);
    assert_int_equal(m->resource_spans[1]->scope_spans[0]->n_spans, 2);
    const Opentelemetry__Proto__Trace__V1__Span *s0 = span_at(m, 0, 0);
    assert_int_equal(s0->n_attributes, 2);
    assert_string_equal(s0->attributes[1]->key, "gen_ai.system");
    assert_string_equal(s0->attributes[1]->value->string_value, "openai");
    assert_string_equal(span_at(m, 1, 1)->name, "renamed");
    assert_string_equal(span_at(m, 1, 0)->name, "chat gpt-4o");

    /* more edits after the faces were made: both are made again from the index */
    ix = batch_index_edit(mine, NULL, &mine, &err);
    assert_non_null(ix);
    assert_int_equal(wi_item_set_int(ix, &ix->items[0], "gen_ai.usage.input_tokens", 12), 0);
    assert_int_equal(batch_encoded(mine, &again, &n3, &err), 0);
    assert_true(n3 > n2);
    m = decoded_traces(mine);
    assert_int_equal(span_at(m, 0, 0)->n_attributes, 3);
    assert_int_equal(span_at(m, 0, 0)->attributes[2]->value->int_value, 12);

    batch_reject(mine, 2, "dropped on purpose");
    batch_edit_release(b, mine);
    assert_int_equal(atomic_load(&b->rejected), 2);
    batch_unref(b); /* the other holder lets go */
    /* sole owner now: the index is edited in place */
    struct batch *same = NULL;
    assert_non_null(batch_index_edit(b, NULL, &same, &err));
    assert_ptr_equal(same, b);
    batch_unref(b);
    free(buf);
}

/* A struct edit after index edits starts from the edited request; an index built after it reads
 * the structs' encoding. */
static void test_batch_edit_after_index_edits(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(1, 4, 16, &len);
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    struct wire_interest *in = wire_interest_new();
    assert_int_equal(wire_interest_add_prefix(in, "gen_ai."), 0);
    struct batch *o = NULL;
    struct wire_index *ix = batch_index_edit(b, in, &o, &err);
    assert_ptr_equal(o, b);
    assert_int_equal(wi_item_set_name(ix, &ix->items[2], "third", 5), 0);
    struct wi_attr *at = wi_item_attr_s(&ix->items[3], "gen_ai.request.model");
    assert_non_null(at);
    assert_int_equal(wi_attr_replace(ix, &ix->items[3], at, "gen_ai.response.model", 21, NULL, 0), 0);
    wi_item_drop(ix, &ix->items[0]);
    batch_index_edit_done(b);
    assert_int_equal(b->items, 3);

    struct batch *o2 = NULL;
    trace_req *m = (trace_req *)batch_edit(b, &o2, &err);
    assert_non_null(m);
    assert_ptr_equal(o2, b);
    assert_null(b->index);
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = m->resource_spans[0]->scope_spans[0];
    assert_int_equal(ss->n_spans, 3);
    assert_string_equal(ss->spans[1]->name, "third");
    assert_string_equal(ss->spans[2]->attributes[0]->key, "gen_ai.response.model");
    assert_string_equal(ss->spans[2]->attributes[0]->value->string_value, "gpt-4o");
    ss->n_spans = 2;
    batch_edit_done(b);
    assert_int_equal(b->items, 2);

    const struct wire_index *rx = batch_index(b, in, &err);
    assert_non_null(rx);
    assert_int_equal(rx->n_items, 2);
    assert_int_equal(rx->items[1].name_len, 5);
    assert_memory_equal(rx->items[1].name, "third", 5);
    const uint8_t *out;
    size_t n;
    assert_int_equal(batch_encoded(b, &out, &n, &err), 0);
    assert_ptr_equal(out, rx->wire);
    wire_interest_free(in);
    batch_unref(b);
    free(buf);
}

/* An index asked for with another interest is rebuilt for every attribute, over the current
 * encoded face (edits included); NULL covers every later interest. */
static void test_batch_index_second_interest(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(1, 2, 16, &len);
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    struct wire_interest *in1 = wire_interest_new(), *in2 = wire_interest_new();
    assert_int_equal(wire_interest_add_key(in1, "tenant"), 0);
    assert_int_equal(wire_interest_add_key(in2, "gen_ai.request.model"), 0);
    struct batch *o = NULL;
    struct wire_index *ix = batch_index_edit(b, in1, &o, &err);
    assert_non_null(ix);
    assert_ptr_equal(ix->interest, in1);
    assert_int_equal(ix->items[0].attrs.n, 0); /* gen_ai.request.model is not of interest */
    assert_int_equal(wi_item_set_string(ix, &ix->items[0], "tenant", "acme", 4), 0);

    const struct wire_index *all = batch_index(b, in2, &err);
    assert_non_null(all);
    assert_ptr_not_equal(all, ix);
    assert_null(all->interest);
    assert_int_equal(all->items[0].attrs.n, 2); /* the edit is in the bytes it was built on */
    assert_non_null(wi_item_attr_s(&all->items[0], "tenant"));
    assert_ptr_equal(batch_index(b, in1, &err), all);
    assert_ptr_equal(batch_index(b, NULL, &err), all);

    ix = batch_index_edit(b, in2, &o, &err);
    assert_ptr_equal(ix, all);
    assert_int_equal(wi_item_set_int(ix, &ix->items[1], "gen_ai.usage.input_tokens", 3), 0);
    const trace_req *m = decoded_traces(b);
    assert_int_equal(span_at(m, 0, 0)->n_attributes, 2);
    assert_string_equal(span_at(m, 0, 0)->attributes[1]->value->string_value, "acme");
    assert_int_equal(span_at(m, 0, 1)->n_attributes, 2);
    wire_interest_free(in1);
    wire_interest_free(in2);
    batch_unref(b);
    free(buf);
}

/* An index rebuilt for a second interest over edited bytes is the truth for both faces even when
 * nothing is edited after the rebuild: the edits made through the first index stay. */
static void test_batch_index_rebuild_keeps_edits(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(1, 2, 16, &len);
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    struct wire_interest *in1 = wire_interest_new(), *in2 = wire_interest_new();
    assert_int_equal(wire_interest_add_key(in1, "tenant"), 0);
    assert_int_equal(wire_interest_add_key(in2, "gen_ai.request.model"), 0);
    struct batch *o = NULL;
    struct wire_index *ix = batch_index_edit(b, in1, &o, &err);
    assert_non_null(ix);
    assert_int_equal(wi_item_set_string(ix, &ix->items[0], "tenant", "acme", 4), 0);
    wi_item_drop(ix, &ix->items[1]);
    batch_index_edit_done(b);
    const struct wire_index *all = batch_index(b, in2, &err);
    assert_non_null(all);
    assert_int_equal(all->n_items, 1);
    const uint8_t *out;
    size_t n;
    assert_int_equal(batch_encoded(b, &out, &n, &err), 0);
    assert_true(n != len);
    struct otlp_scan_result r;
    assert_int_equal(otlp_scan(SIGNAL_TRACES, out, n, &r, &err), 0);
    assert_int_equal(r.items, 1);
    const trace_req *m = decoded_traces(b);
    assert_int_equal(m->resource_spans[0]->scope_spans[0]->n_spans, 1);
    assert_int_equal(span_at(m, 0, 0)->n_attributes, 2);
    assert_string_equal(span_at(m, 0, 0)->attributes[1]->value->string_value, "acme");
    /* a shared copy starts from the edited bytes too */
    batch_ref(b);
    struct batch *mine = NULL;
    struct wire_index *cx = batch_index_edit(b, in2, &mine, &err);
    assert_non_null(cx);
    assert_ptr_not_equal(mine, b);
    assert_int_equal(cx->n_items, 1);
    batch_edit_release(b, mine);
    batch_unref(b);
    wire_interest_free(in1);
    wire_interest_free(in2);
    batch_unref(b);
    free(buf);
}

/* A batch that arrived decoded is encoded once for its index; other signals have none. */
static void test_batch_index_from_decoded_and_other_signals(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_traces(1, 3, 16, &len);
    struct arena *a = arena_new(0);
    ProtobufCMessage *msg = protobuf_c_message_unpack(otlp_request_descriptor(SIGNAL_TRACES),
                                                      arena_allocator(a), len, buf);
    struct batch *b = batch_from_msg(SIGNAL_TRACES, a, msg);
    struct error err = {0};
    const struct wire_index *ix = batch_index(b, NULL, &err);
    assert_non_null(ix);
    assert_int_equal(ix->n_items, 3);
    assert_int_equal(ix->wire_len, len);
    assert_memory_equal(ix->wire, buf, len);
    batch_unref(b);

    struct batch *mb = batch_from_wire(SIGNAL_METRICS, buf, 0, &err);
    assert_non_null(mb);
    struct batch *o = NULL;
    assert_null(batch_index(mb, NULL, &err));
    assert_non_null(strstr(err.msg, "metrics"));
    assert_null(batch_index_edit(mb, NULL, &o, &err));
    batch_unref(mb);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_counts_spans_and_resources),
        cmocka_unit_test(test_scan_rejects_short_trace_id),
        cmocka_unit_test(test_scan_rejects_truncation_everywhere),
        cmocka_unit_test(test_scan_rejects_garbage_and_wrong_wire_type),
        cmocka_unit_test(test_scan_accepts_unknown_fields),
        cmocka_unit_test(test_scan_rejects_depth_bomb),
        cmocka_unit_test(test_scan_counts_metric_points_and_logs),
        cmocka_unit_test(test_batch_untouched_is_not_reencoded),
        cmocka_unit_test(test_batch_edit_copies_when_shared),
        cmocka_unit_test(test_batch_from_wire_rejects_invalid),
        cmocka_unit_test(test_batch_reject_records_partial_success),
        cmocka_unit_test(test_batch_index_shared_read),
        cmocka_unit_test(test_batch_index_edit_copies_when_shared),
        cmocka_unit_test(test_batch_edit_after_index_edits),
        cmocka_unit_test(test_batch_index_second_interest),
        cmocka_unit_test(test_batch_index_rebuild_keeps_edits),
        cmocka_unit_test(test_batch_index_from_decoded_and_other_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
