/* test_debug_exporter.c — the debug exporter's rendering at each verbosity, for all three
 * signals, and the exporter around it (takes everything, counts it, prints to stdout or the log,
 * samples the log). Output is rendered into memory streams and searched for what must (and must
 * not) be there: IDs in hex, names, typed attribute values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "exporters/debug/debug_exporter.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;

static const uint8_t TRACE_ID[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                     0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
static const uint8_t SPAN_ID[8] = {0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18};
static const uint8_t SPAN_ID2[8] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33};

/* ---- building values ------------------------------------------------------------------------- */

static AnyValue *v_new(struct arena *a, int kind)
{
    AnyValue *v = arena_alloc(a, sizeof *v);
    opentelemetry__proto__common__v1__any_value__init(v);
    v->value_case = kind;
    return v;
}

static AnyValue *v_str(struct arena *a, const char *s)
{
    AnyValue *v = v_new(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
    v->string_value = arena_strdup(a, s);
    return v;
}

static AnyValue *v_int(struct arena *a, int64_t i)
{
    AnyValue *v = v_new(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE);
    v->int_value = i;
    return v;
}

static KeyValue *kv(struct arena *a, const char *k, AnyValue *v)
{
    KeyValue *p = arena_alloc(a, sizeof *p);
    opentelemetry__proto__common__v1__key_value__init(p);
    p->key = arena_strdup(a, k);
    p->value = v;
    return p;
}

static KeyValue **kvs(struct arena *a, size_t n, ...)
{
    KeyValue **arr = arena_alloc(a, sizeof(KeyValue *) * n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        arr[i] = va_arg(ap, KeyValue *);
    va_end(ap);
    return arr;
}

static Opentelemetry__Proto__Resource__V1__Resource *resource(struct arena *a, const char *svc)
{
    Opentelemetry__Proto__Resource__V1__Resource *r = arena_alloc(a, sizeof *r);
    opentelemetry__proto__resource__v1__resource__init(r);
    r->n_attributes = 1;
    r->attributes = kvs(a, 1, kv(a, "service.name", v_str(a, svc)));
    return r;
}

static Opentelemetry__Proto__Common__V1__InstrumentationScope *scope(struct arena *a)
{
    Opentelemetry__Proto__Common__V1__InstrumentationScope *s = arena_alloc(a, sizeof *s);
    opentelemetry__proto__common__v1__instrumentation_scope__init(s);
    s->name = arena_strdup(a, "llm-gateway");
    s->version = arena_strdup(a, "1.2.3");
    return s;
}

/* Every AnyValue kind, nested ones included. */
static KeyValue **rich_attrs(struct arena *a, size_t *n)
{
    AnyValue *d = v_new(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE);
    d->double_value = 1.5;
    AnyValue *b = v_new(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE);
    b->bool_value = 1;
    AnyValue *by = v_new(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE);
    static uint8_t raw[] = {0xca, 0xfe, 0xba, 0xbe};
    by->bytes_value = (ProtobufCBinaryData){4, raw};
    AnyValue *arr = v_new(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE);
    arr->array_value = arena_alloc(a, sizeof *arr->array_value);
    opentelemetry__proto__common__v1__array_value__init(arr->array_value);
    arr->array_value->n_values = 2;
    arr->array_value->values = arena_alloc(a, 2 * sizeof(AnyValue *));
    arr->array_value->values[0] = v_str(a, "a");
    arr->array_value->values[1] = v_int(a, 1);
    AnyValue *map = v_new(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE);
    map->kvlist_value = arena_alloc(a, sizeof *map->kvlist_value);
    opentelemetry__proto__common__v1__key_value_list__init(map->kvlist_value);
    map->kvlist_value->n_values = 1;
    map->kvlist_value->values = kvs(a, 1, kv(a, "inner", arr));
    *n = 7;
    return kvs(a, 7, kv(a, "gen_ai.request.model", v_str(a, "gpt-4o")),
               kv(a, "gen_ai.usage.input_tokens", v_int(a, 42)), kv(a, "cost", d),
               kv(a, "cached", b), kv(a, "blob", by), kv(a, "list", arr), kv(a, "nested", map));
}

static ProtobufCMessage *make_traces(struct arena *a)
{
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
        arena_alloc(a, sizeof *req);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = arena_alloc(a, sizeof *rs);
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    rs->resource = resource(a, "checkout");
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = arena_alloc(a, sizeof *ss);
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    ss->scope = scope(a);
    Opentelemetry__Proto__Trace__V1__Span **spans = arena_alloc(a, 2 * sizeof *spans);
    for (int i = 0; i < 2; i++) {
        Opentelemetry__Proto__Trace__V1__Span *sp = arena_alloc(a, sizeof *sp);
        opentelemetry__proto__trace__v1__span__init(sp);
        sp->trace_id = (ProtobufCBinaryData){16, (uint8_t *)TRACE_ID};
        sp->span_id = (ProtobufCBinaryData){8, (uint8_t *)(i ? SPAN_ID2 : SPAN_ID)};
        sp->name = arena_strdup(a, i ? "chat gpt-4o" : "POST /v1/chat");
        sp->kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
        sp->start_time_unix_nano = 1581452772000000321ull;
        sp->end_time_unix_nano = 1581452773000000789ull;
        if (i) {
            sp->parent_span_id = (ProtobufCBinaryData){8, (uint8_t *)SPAN_ID};
            sp->attributes = rich_attrs(a, &sp->n_attributes);
            sp->status = arena_alloc(a, sizeof *sp->status);
            opentelemetry__proto__trace__v1__status__init(sp->status);
            sp->status->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
            sp->status->message = arena_strdup(a, "rate limited");
            Opentelemetry__Proto__Trace__V1__Span__Event *ev = arena_alloc(a, sizeof *ev);
            opentelemetry__proto__trace__v1__span__event__init(ev);
            ev->name = arena_strdup(a, "retry");
            ev->n_attributes = 1;
            ev->attributes = kvs(a, 1, kv(a, "attempt", v_int(a, 2)));
            sp->n_events = 1;
            sp->events = arena_alloc(a, sizeof(void *));
            sp->events[0] = ev;
        }
        spans[i] = sp;
    }
    ss->n_spans = 2;
    ss->spans = spans;
    rs->n_scope_spans = 1;
    rs->scope_spans = arena_alloc(a, sizeof(void *));
    rs->scope_spans[0] = ss;
    req->n_resource_spans = 1;
    req->resource_spans = arena_alloc(a, sizeof(void *));
    req->resource_spans[0] = rs;
    return &req->base;
}

static ProtobufCMessage *make_metrics(struct arena *a)
{
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req =
        arena_alloc(a, sizeof *req);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(req);
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = arena_alloc(a, sizeof *rm);
    opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
    rm->resource = resource(a, "gateway");
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = arena_alloc(a, sizeof *sm);
    opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
    sm->scope = scope(a);

    Opentelemetry__Proto__Metrics__V1__Metric *sum = arena_alloc(a, sizeof *sum);
    opentelemetry__proto__metrics__v1__metric__init(sum);
    sum->name = arena_strdup(a, "llmproxy.request.count");
    sum->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
    sum->sum = arena_alloc(a, sizeof *sum->sum);
    opentelemetry__proto__metrics__v1__sum__init(sum->sum);
    sum->sum->is_monotonic = 1;
    sum->sum->aggregation_temporality =
        OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
    sum->sum->n_data_points = 2;
    sum->sum->data_points = arena_alloc(a, 2 * sizeof(void *));
    for (int i = 0; i < 2; i++) {
        Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp = arena_alloc(a, sizeof *dp);
        opentelemetry__proto__metrics__v1__number_data_point__init(dp);
        dp->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        dp->as_int = i ? 7 : 1234;
        dp->n_attributes = 1;
        dp->attributes = kvs(a, 1, kv(a, "provider", v_str(a, i ? "anthropic" : "openai")));
        sum->sum->data_points[i] = dp;
    }

    Opentelemetry__Proto__Metrics__V1__Metric *hist = arena_alloc(a, sizeof *hist);
    opentelemetry__proto__metrics__v1__metric__init(hist);
    hist->name = arena_strdup(a, "llmproxy.request.duration");
    hist->unit = arena_strdup(a, "s");
    hist->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
    hist->histogram = arena_alloc(a, sizeof *hist->histogram);
    opentelemetry__proto__metrics__v1__histogram__init(hist->histogram);
    Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *hp = arena_alloc(a, sizeof *hp);
    opentelemetry__proto__metrics__v1__histogram_data_point__init(hp);
    hp->count = 3;
    hp->_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM;
    hp->sum = 2.25;
    static double bounds[] = {0.5, 1};
    static uint64_t counts[] = {1, 1, 1};
    hp->n_explicit_bounds = 2;
    hp->explicit_bounds = bounds;
    hp->n_bucket_counts = 3;
    hp->bucket_counts = counts;
    hist->histogram->n_data_points = 1;
    hist->histogram->data_points = arena_alloc(a, sizeof(void *));
    hist->histogram->data_points[0] = hp;

    sm->n_metrics = 2;
    sm->metrics = arena_alloc(a, 2 * sizeof(void *));
    sm->metrics[0] = sum;
    sm->metrics[1] = hist;
    rm->n_scope_metrics = 1;
    rm->scope_metrics = arena_alloc(a, sizeof(void *));
    rm->scope_metrics[0] = sm;
    req->n_resource_metrics = 1;
    req->resource_metrics = arena_alloc(a, sizeof(void *));
    req->resource_metrics[0] = rm;
    return &req->base;
}

static ProtobufCMessage *make_logs(struct arena *a)
{
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req =
        arena_alloc(a, sizeof *req);
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(req);
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = arena_alloc(a, sizeof *rl);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    rl->resource = resource(a, "worker");
    Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = arena_alloc(a, sizeof *sl);
    opentelemetry__proto__logs__v1__scope_logs__init(sl);
    sl->scope = scope(a);
    Opentelemetry__Proto__Logs__V1__LogRecord *lr = arena_alloc(a, sizeof *lr);
    opentelemetry__proto__logs__v1__log_record__init(lr);
    lr->severity_number = OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN;
    lr->severity_text = arena_strdup(a, "WARN");
    lr->body = v_str(a, "upstream timeout");
    lr->n_attributes = 1;
    lr->attributes = kvs(a, 1, kv(a, "http.status", v_int(a, 504)));
    lr->trace_id = (ProtobufCBinaryData){16, (uint8_t *)TRACE_ID};
    lr->span_id = (ProtobufCBinaryData){8, (uint8_t *)SPAN_ID};
    sl->n_log_records = 1;
    sl->log_records = arena_alloc(a, sizeof(void *));
    sl->log_records[0] = lr;
    rl->n_scope_logs = 1;
    rl->scope_logs = arena_alloc(a, sizeof(void *));
    rl->scope_logs[0] = sl;
    req->n_resource_logs = 1;
    req->resource_logs = arena_alloc(a, sizeof(void *));
    req->resource_logs[0] = rl;
    return &req->base;
}

/* Renders summary + body at verbosity v into a malloc'd string. */
static char *render(enum debug_verbosity v, const ProtobufCMessage *m, enum signal s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    debug_summary(f, s, m);
    fputc('\n', f);
    debug_format(f, v, m, s);
    fclose(f);
    return text;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

#define HAS(text, needle)                                                                          \
    do {                                                                                           \
        if (!strstr((text), (needle)))                                                             \
            fail_msg("missing \"%s\" in:\n%s", (needle), (text));                                  \
    } while (0)
#define HAS_NOT(text, needle)                                                                      \
    do {                                                                                           \
        if (strstr((text), (needle)))                                                              \
            fail_msg("unexpected \"%s\" in:\n%s", (needle), (text));                               \
    } while (0)

/* ---- rendering ------------------------------------------------------------------------------- */

static void test_traces_basic_is_summary_only(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    char *t = render(DEBUG_BASIC, make_traces(a), SIGNAL_TRACES);
    assert_string_equal(t, "Traces: resource spans: 1, spans: 2\n");
    free(t);
    arena_free(a);
}

static void test_traces_normal_one_line_per_span(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    char *t = render(DEBUG_NORMAL, make_traces(a), SIGNAL_TRACES);
    HAS(t, "Traces: resource spans: 1, spans: 2\n");
    HAS(t, "POST /v1/chat 0102030405060708090a0b0c0d0e0f10 a1b2c3d4e5f60718 status=Unset");
    HAS(t, "chat gpt-4o 0102030405060708090a0b0c0d0e0f10 deadbeef00112233 status=Error");
    HAS(t, "gen_ai.request.model=gpt-4o");
    HAS(t, "service.name=checkout");
    HAS(t, "llm-gateway@1.2.3");
    HAS_NOT(t, "Resource attributes:");
    HAS_NOT(t, "Start time");
    /* summary, resource, scope, two spans */
    assert_int_equal(count_lines(t), 5);
    free(t);
    arena_free(a);
}

static void test_traces_detailed_dumps_everything(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    char *t = render(DEBUG_DETAILED, make_traces(a), SIGNAL_TRACES);
    HAS(t, "ResourceSpans #0\n");
    HAS(t, "Resource attributes:\n     -> service.name: Str(checkout)\n");
    HAS(t, "ScopeSpans #0\n");
    HAS(t, "InstrumentationScope llm-gateway 1.2.3\n");
    HAS(t, "Span #1\n");
    HAS(t, "    Trace ID       : 0102030405060708090a0b0c0d0e0f10\n");
    HAS(t, "    Parent ID      : a1b2c3d4e5f60718\n");
    HAS(t, "    ID             : deadbeef00112233\n");
    HAS(t, "    Name           : chat gpt-4o\n");
    HAS(t, "    Kind           : Client\n");
    HAS(t, "    Start time     : 2020-02-11 20:26:12.000000321 +0000 UTC\n");
    HAS(t, "    Status code    : Error\n");
    HAS(t, "    Status message : rate limited\n");
    HAS(t, "     -> gen_ai.request.model: Str(gpt-4o)\n");
    HAS(t, "     -> gen_ai.usage.input_tokens: Int(42)\n");
    HAS(t, "     -> cost: Double(1.5)\n");
    HAS(t, "     -> cached: Bool(true)\n");
    HAS(t, "     -> blob: Bytes(cafebabe)\n");
    HAS(t, "     -> list: Slice([\"a\",1])\n");
    HAS(t, "     -> nested: Map({\"inner\":[\"a\",1]})\n");
    HAS(t, "SpanEvent #0\n     -> Name: retry\n");
    HAS(t, "          -> attempt: Int(2)\n");
    free(t);
    arena_free(a);
}

static void test_metrics_all_levels(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    ProtobufCMessage *m = make_metrics(a);
    char *t = render(DEBUG_BASIC, m, SIGNAL_METRICS);
    assert_string_equal(t, "Metrics: resource metrics: 1, metrics: 2, data points: 3\n");
    free(t);
    t = render(DEBUG_NORMAL, m, SIGNAL_METRICS);
    HAS(t, "llmproxy.request.count{provider=openai} 1234\n");
    HAS(t, "llmproxy.request.count{provider=anthropic} 7\n");
    HAS(t, "llmproxy.request.duration count=3 sum=2.25\n");
    free(t);
    t = render(DEBUG_DETAILED, m, SIGNAL_METRICS);
    HAS(t, "ResourceMetrics #0\n");
    HAS(t, "     -> Name: llmproxy.request.count\n");
    HAS(t, "     -> DataType: Sum\n     -> IsMonotonic: true\n"
           "     -> AggregationTemporality: Cumulative\n");
    HAS(t, "NumberDataPoints #1\nData point attributes:\n     -> provider: Str(anthropic)\n");
    HAS(t, "Value: 7\n");
    HAS(t, "     -> Unit: s\n     -> DataType: Histogram\n");
    HAS(t, "Count: 3\nSum: 2.25\n");
    HAS(t, "ExplicitBounds #1: 1\n");
    HAS(t, "Buckets #2, Count: 1\n");
    free(t);
    arena_free(a);
}

static void test_logs_all_levels(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    ProtobufCMessage *m = make_logs(a);
    char *t = render(DEBUG_BASIC, m, SIGNAL_LOGS);
    assert_string_equal(t, "Logs: resource logs: 1, log records: 1\n");
    free(t);
    t = render(DEBUG_NORMAL, m, SIGNAL_LOGS);
    HAS(t, "WARN upstream timeout http.status=504\n");
    free(t);
    t = render(DEBUG_DETAILED, m, SIGNAL_LOGS);
    HAS(t, "ResourceLog #0\n");
    HAS(t, "LogRecord #0\n");
    HAS(t, "SeverityText: WARN\nSeverityNumber: Warn(13)\n");
    HAS(t, "Body: Str(upstream timeout)\n");
    HAS(t, "     -> http.status: Int(504)\n");
    HAS(t, "Trace ID: 0102030405060708090a0b0c0d0e0f10\n");
    HAS(t, "Span ID: a1b2c3d4e5f60718\n");
    free(t);
    arena_free(a);
}

/* ---- the exporter ---------------------------------------------------------------------------- */

/* Binds the exporter's config from YAML through its own field table. */
static void *bind_cfg(const char *yaml)
{
    struct error err = {0};
    void *cfg = calloc(1, debug_exporter_factory.config_size);
    struct cnode *n = yaml ? config_parse_string(yaml, "test.yaml", &err) : NULL;
    if (yaml)
        assert_non_null(n);
    if (config_bind(debug_exporter_factory.fields, n, cfg, &err) != 0)
        fail_msg("bind: %s", err.msg);
    cnode_free(n);
    return cfg;
}

static struct batch *traces_batch(void)
{
    struct arena *a = arena_new(0);
    ProtobufCMessage *m = make_traces(a);
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(m, buf);
    arena_free(a);
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    free(buf);
    assert_non_null(b);
    return b;
}

/* Runs `n` consumes with fd `fd` (stdout or stderr) captured; returns what was written. */
static char *capture(void *exp, int fd, int n)
{
    char path[] = "/tmp/test_debug_exporterXXXXXX";
    int tmp = mkstemp(path);
    assert_true(tmp >= 0);
    fflush(stdout);
    int saved = dup(fd);
    dup2(tmp, fd);
    for (int i = 0; i < n; i++) {
        struct batch *b = traces_batch();
        assert_int_equal(debug_exporter_factory.consume(exp, b), CONSUME_OK);
        batch_unref(b);
    }
    fflush(stdout);
    dup2(saved, fd);
    close(saved);
    off_t size = lseek(tmp, 0, SEEK_END);
    char *out = calloc(1, (size_t)size + 1);
    assert_int_equal(pread(tmp, out, (size_t)size, 0), size);
    close(tmp);
    unlink(path);
    return out;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_config_defaults(void **state)
{
    (void)state;
    struct debug_exporter_config *c = bind_cfg(NULL);
    assert_int_equal(debug_exporter_factory.config_size, sizeof *c);
    assert_int_equal(c->verbosity, DEBUG_BASIC);
    assert_int_equal(c->sampling_initial, 2);
    assert_int_equal(c->sampling_thereafter, 1);
    assert_true(c->use_internal_logger);
    free(c);
    c = bind_cfg("verbosity: detailed\nsampling_initial: 5\nuse_internal_logger: false\n");
    assert_int_equal(c->verbosity, DEBUG_DETAILED);
    assert_int_equal(c->sampling_initial, 5);
    assert_false(c->use_internal_logger);
    free(c);
    struct error err = {0};
    struct cnode *n = config_parse_string("verbosity: loud\n", "test.yaml", &err);
    void *cfg = calloc(1, debug_exporter_factory.config_size);
    assert_int_equal(config_bind(debug_exporter_factory.fields, n, cfg, &err), -1);
    assert_non_null(strstr(err.msg, "detailed"));
    config_free_bound(debug_exporter_factory.fields, cfg);
    cnode_free(n);
    free(cfg);
}

static void test_exporter_stdout_and_counter(void **state)
{
    (void)state;
    struct telemetry *tel = telemetry_new();
    struct component_env env = {.id = "debug/x", .log_name = "exporter/debug/x", .telemetry = tel};
    void *cfg = bind_cfg("verbosity: normal\nuse_internal_logger: false\n");
    struct error err = {0};
    void *exp = debug_exporter_factory.create(cfg, &env, &err);
    assert_non_null(exp);
    char *out = capture(exp, STDOUT_FILENO, 3);
    assert_int_equal(count(out, "Traces: resource spans: 1, spans: 2\n"), 3);
    assert_int_equal(count(out, "deadbeef00112233"), 3);
    assert_int_equal(telemetry_value(tel, "otelcol_exporter_sent_spans", "exporter=\"debug/x\""), 6);
    free(out);
    debug_exporter_factory.shutdown(exp, clock_now_ns());
    debug_exporter_factory.destroy(exp);
    free(cfg);
    telemetry_free(tel);
}

static void test_exporter_logger_is_sampled(void **state)
{
    (void)state;
    struct telemetry *tel = telemetry_new();
    struct component_env env = {.id = "debug", .log_name = "exporter/debug", .telemetry = tel};
    /* Two per second, none after: ten requests print at most four times even if a second
     * boundary falls in the middle, and at least twice. */
    void *cfg = bind_cfg("sampling_initial: 2\nsampling_thereafter: 0\n");
    struct error err = {0};
    void *exp = debug_exporter_factory.create(cfg, &env, &err);
    assert_non_null(exp);
    enum log_level old = log_get_level();
    log_set_level(LOG_INFO);
    char *out = capture(exp, STDERR_FILENO, 10);
    log_set_level(old);
    size_t printed = count(out, "[exporter/debug]\tTraces: resource spans: 1, spans: 2");
    assert_true(printed >= 2 && printed <= 4);
    HAS_NOT(out, "deadbeef"); /* basic: summary only */
    /* Every request is taken and counted, printed or not. */
    assert_int_equal(telemetry_value(tel, "otelcol_exporter_sent_spans", "exporter=\"debug\""), 20);
    free(out);
    debug_exporter_factory.destroy(exp);
    free(cfg);
    telemetry_free(tel);
}

static void test_exporter_detailed_logs_each_line(void **state)
{
    (void)state;
    struct component_env env = {.id = "debug", .log_name = "exporter/debug"};
    void *cfg = bind_cfg("verbosity: detailed\n");
    struct error err = {0};
    void *exp = debug_exporter_factory.create(cfg, &env, &err);
    assert_non_null(exp);
    enum log_level old = log_get_level();
    log_set_level(LOG_INFO);
    char *out = capture(exp, STDERR_FILENO, 1);
    log_set_level(old);
    HAS(out, "\tinfo\t[exporter/debug]\t    Trace ID       : 0102030405060708090a0b0c0d0e0f10\n");
    HAS(out, "[exporter/debug]\t     -> nested: Map({\"inner\":[\"a\",1]})\n");
    free(out);
    debug_exporter_factory.destroy(exp);
    free(cfg);
}

/* Validates a config the way the service does: bind, then the factory's validate. 0 or -1. */
static int validate_yaml(const char *yaml, struct error *err)
{
    void *cfg = calloc(1, debug_exporter_factory.config_size);
    struct cnode *n = config_parse_string(yaml, "test.yaml", err);
    assert_non_null(n);
    int rc = config_bind(debug_exporter_factory.fields, n, cfg, err);
    if (rc == 0)
        rc = debug_exporter_factory.validate(cfg, err);
    config_free_bound(debug_exporter_factory.fields, cfg);
    cnode_free(n);
    free(cfg);
    return rc;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The Collector's rules for output_paths (debugexporter Config.Validate and zap's sinks): only
 * without the internal logger, never an empty list, files as plain paths or file:///abs URLs,
 * no other URL scheme. */
static void test_output_paths_validation(void **state)
{
    (void)state;
    struct error err = {0};
    assert_int_equal(validate_yaml("use_internal_logger: false\n", &err), 0);
    assert_int_equal(validate_yaml("use_internal_logger: false\noutput_paths: [stderr, stdout, "
                                   "out.log, /tmp/x.log, 'file:///tmp/y.log', "
                                   "'file://localhost/tmp/z.log']\n", &err), 0);
    assert_int_equal(validate_yaml("output_paths: [stderr]\n", &err), -1);
    assert_non_null(strstr(err.msg, "output_paths: not supported when use_internal_logger is true"));
    assert_int_equal(validate_yaml("use_internal_logger: true\noutput_paths: [stdout]\n", &err), -1);
    assert_int_equal(validate_yaml("use_internal_logger: false\noutput_paths: []\n", &err), -1);
    assert_non_null(strstr(err.msg, "must not be empty when use_internal_logger is false"));
    assert_int_equal(validate_yaml("use_internal_logger: false\noutput_paths: ['http://x/y']\n",
                                   &err), -1);
    assert_non_null(strstr(err.msg, "output_paths[0]: \"http://x/y\": no sink for this URL scheme"));
    assert_int_equal(validate_yaml("use_internal_logger: false\noutput_paths: [stdout, "
                                   "'file://host/tmp/x']\n", &err), -1);
    assert_non_null(strstr(err.msg, "output_paths[1]:"));
    assert_int_equal(validate_yaml("use_internal_logger: false\noutput_paths: ['file:rel.log']\n",
                                   &err), -1);
    assert_non_null(strstr(err.msg, "absolute path"));
    assert_int_equal(validate_yaml("use_internal_logger: false\noutput_paths: ['']\n", &err), -1);
}

/* sending_queue, which the Collector's debug exporter accepts (exporterhelper's QueueBatchConfig):
 * bound with the queue's own checks; warned about at load when enabled (compat suite
 * debug-sending_queue), since the output is written synchronously. */
static void test_sending_queue(void **state)
{
    (void)state;
    struct error err = {0};
    assert_int_equal(validate_yaml("sending_queue:\n  enabled: true\n  num_consumers: 2\n"
                                   "  queue_size: 100\n  batch:\n    flush_timeout: 1s\n", &err), 0);
    assert_int_equal(validate_yaml("sending_queue: {enabled: false}\n", &err), 0);
    assert_int_equal(validate_yaml("sending_queue: {num_consumers: 0}\n", &err), -1);
    if (!strstr(err.msg, "test.yaml:1:32: 'sending_queue.num_consumers'"))
        fail_msg("%s", err.msg);
    assert_int_equal(validate_yaml("sending_queue: {queue_sise: 1}\n", &err), -1);
    assert_non_null(strstr(err.msg, "queue_sise"));
}

/* use_internal_logger: false with a file path and a file:/// URL: each file gets every printed
 * request, appended after what it already held, and nothing goes to stdout. */
static void test_output_paths_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_debug_pathsXXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[256], b[256], yaml[1024];
    snprintf(a, sizeof a, "%s/a.log", dir);
    snprintf(b, sizeof b, "%s/b.log", dir);
    FILE *f = fopen(a, "w");
    fputs("kept line\n", f);
    fclose(f);
    snprintf(yaml, sizeof yaml, "verbosity: normal\nuse_internal_logger: false\n"
                                "output_paths: [%s, 'file://%s']\n", a, b);
    struct error err = {0};
    assert_int_equal(validate_yaml(yaml, &err), 0);
    struct telemetry *tel = telemetry_new();
    struct component_env env = {.id = "debug/f", .log_name = "exporter/debug/f", .telemetry = tel};
    void *cfg = bind_cfg(yaml);
    void *exp = debug_exporter_factory.create(cfg, &env, &err);
    assert_non_null(exp);
    char *out = capture(exp, STDOUT_FILENO, 2);
    assert_string_equal(out, "");
    debug_exporter_factory.shutdown(exp, clock_now_ns());
    debug_exporter_factory.destroy(exp);
    char *ta = read_all(a), *tb = read_all(b);
    assert_true(strncmp(ta, "kept line\n", 10) == 0);
    assert_int_equal(count(ta, "Traces: resource spans: 1, spans: 2\n"), 2);
    assert_int_equal(count(ta, "deadbeef00112233"), 2);
    assert_string_equal(ta + 10, tb);
    assert_int_equal(telemetry_value(tel, "otelcol_exporter_sent_spans", "exporter=\"debug/f\""), 4);
    free(ta);
    free(tb);
    free(out);
    config_free_bound(debug_exporter_factory.fields, cfg);
    free(cfg);
    telemetry_free(tel);
    unlink(a);
    unlink(b);
    rmdir(dir);
}

/* A file that cannot be opened fails create with its path (the start fails, as when zap cannot
 * build its sink), and sampling applies without the internal logger too. */
static void test_output_paths_open_error_and_sampling(void **state)
{
    (void)state;
    struct component_env env = {.id = "debug", .log_name = "exporter/debug"};
    void *cfg = bind_cfg("use_internal_logger: false\noutput_paths: [/nonexistent-dir/x.log]\n");
    struct error err = {0};
    assert_null(debug_exporter_factory.create(cfg, &env, &err));
    assert_non_null(strstr(err.msg, "output_paths[0]: cannot open /nonexistent-dir/x.log"));
    config_free_bound(debug_exporter_factory.fields, cfg);
    free(cfg);

    /* two per second, none after: ten requests print two to four times */
    cfg = bind_cfg("use_internal_logger: false\nsampling_initial: 2\nsampling_thereafter: 0\n");
    void *exp = debug_exporter_factory.create(cfg, &env, &err);
    assert_non_null(exp);
    char *out = capture(exp, STDOUT_FILENO, 10);
    size_t printed = count(out, "Traces: resource spans: 1, spans: 2\n");
    assert_true(printed >= 2 && printed <= 4);
    free(out);
    debug_exporter_factory.destroy(exp);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traces_basic_is_summary_only),
        cmocka_unit_test(test_traces_normal_one_line_per_span),
        cmocka_unit_test(test_traces_detailed_dumps_everything),
        cmocka_unit_test(test_metrics_all_levels),
        cmocka_unit_test(test_logs_all_levels),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_exporter_stdout_and_counter),
        cmocka_unit_test(test_exporter_logger_is_sampled),
        cmocka_unit_test(test_exporter_detailed_logs_each_line),
        cmocka_unit_test(test_output_paths_validation),
        cmocka_unit_test(test_sending_queue),
        cmocka_unit_test(test_output_paths_files),
        cmocka_unit_test(test_output_paths_open_error_and_sampling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
