/* test_resource_processor.c — the `resource` processor through its factory: the Collector
 * README's config bound from YAML, applied to the resources of traces, metrics and logs; a
 * request no action changes leaves as the bytes that arrived; validation errors carry positions.
 *
 * The one idea: requests go in as wire bytes through consume() and come out of testutil's
 * recording consumer, decoded again, so what is asserted is what the next component receives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/telemetry.h"
#include "tests/unit/testutil.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

extern const struct component_factory resource_processor_factory;
#define FACTORY resource_processor_factory

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;
typedef Opentelemetry__Proto__Resource__V1__Resource resource_t;

#define V_STR OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE

static const char *README_CFG = "resource:\n"
                                "  attributes:\n"
                                "  - key: cloud.availability_zone\n"
                                "    value: \"zone-1\"\n"
                                "    action: upsert\n"
                                "  - key: k8s.cluster.name\n"
                                "    from_attribute: k8s-cluster\n"
                                "    action: insert\n"
                                "  - key: redundant-attribute\n"
                                "    action: delete\n";

static int fx_open(struct tu_proc *f, const char *yaml, enum signal s, struct error *err)
{
    return tu_proc_open(f, &FACTORY, yaml, "res.yaml", "resource", "resource", "processor/resource", s, err);
}

/* A resource with pairs "k=v" separated by spaces (NULL: no resource at all). */
static resource_t *mk_res(struct arena *a, const char *spec)
{
    if (!spec)
        return NULL;
    resource_t *r = arena_alloc(a, sizeof *r);
    opentelemetry__proto__resource__v1__resource__init(r);
    r->attributes = arena_alloc(a, 16 * sizeof *r->attributes);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *sv = NULL, *t = strtok_r(buf, " ", &sv); t; t = strtok_r(NULL, " ", &sv)) {
        char *eq = strchr(t, '=');
        *eq = '\0';
        r->attributes[r->n_attributes++] = tu_kv_str(a, t, eq + 1);
    }
    return r;
}

static void show_res(const resource_t *r, char *out, size_t cap)
{
    size_t w = 0;
    out[0] = '\0';
    for (size_t i = 0; r && i < r->n_attributes; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%s=%s", i ? " " : "", r->attributes[i]->key,
                              r->attributes[i]->value->string_value);
}

static struct batch *trace_batch(const char *res_spec)
{
    struct arena *a = arena_new(0);
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = arena_alloc(a, sizeof *rs);
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    rs->resource = mk_res(a, res_spec);
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = arena_alloc(a, sizeof *ss);
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    Opentelemetry__Proto__Trace__V1__Span *sp = arena_alloc(a, sizeof *sp);
    opentelemetry__proto__trace__v1__span__init(sp);
    uint8_t *tid = arena_alloc(a, 16), *sid = arena_alloc(a, 8);
    memset(tid, 1, 16);
    memset(sid, 2, 8);
    sp->trace_id = (ProtobufCBinaryData){16, tid};
    sp->span_id = (ProtobufCBinaryData){8, sid};
    sp->name = "chat";
    ss->spans = &sp;
    ss->n_spans = 1;
    rs->scope_spans = &ss;
    rs->n_scope_spans = 1;
    req.resource_spans = &rs;
    req.n_resource_spans = 1;
    struct batch *b = tu_pack_batch(SIGNAL_TRACES, &req.base);
    arena_free(a);
    return b;
}

static struct batch *logs_batch(const char *res_spec)
{
    struct arena *a = arena_new(0);
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req;
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&req);
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = arena_alloc(a, sizeof *rl);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    rl->resource = mk_res(a, res_spec);
    Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = arena_alloc(a, sizeof *sl);
    opentelemetry__proto__logs__v1__scope_logs__init(sl);
    Opentelemetry__Proto__Logs__V1__LogRecord *lr = arena_alloc(a, sizeof *lr);
    opentelemetry__proto__logs__v1__log_record__init(lr);
    lr->time_unix_nano = 5;
    sl->log_records = &lr;
    sl->n_log_records = 1;
    rl->scope_logs = &sl;
    rl->n_scope_logs = 1;
    req.resource_logs = &rl;
    req.n_resource_logs = 1;
    struct batch *b = tu_pack_batch(SIGNAL_LOGS, &req.base);
    arena_free(a);
    return b;
}

static struct batch *metrics_batch(const char *res_spec)
{
    struct arena *a = arena_new(0);
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest req;
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(&req);
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = arena_alloc(a, sizeof *rm);
    opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
    rm->resource = mk_res(a, res_spec);
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = arena_alloc(a, sizeof *sm);
    opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
    Opentelemetry__Proto__Metrics__V1__Metric *m = arena_alloc(a, sizeof *m);
    opentelemetry__proto__metrics__v1__metric__init(m);
    m->name = "llmproxy.request.count";
    Opentelemetry__Proto__Metrics__V1__Gauge *g = arena_alloc(a, sizeof *g);
    opentelemetry__proto__metrics__v1__gauge__init(g);
    Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp = arena_alloc(a, sizeof *dp);
    opentelemetry__proto__metrics__v1__number_data_point__init(dp);
    dp->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
    dp->as_int = 3;
    g->data_points = &dp;
    g->n_data_points = 1;
    m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
    m->gauge = g;
    sm->metrics = &m;
    sm->n_metrics = 1;
    rm->scope_metrics = &sm;
    rm->n_scope_metrics = 1;
    req.resource_metrics = &rm;
    req.n_resource_metrics = 1;
    struct batch *b = tu_pack_batch(SIGNAL_METRICS, &req.base);
    arena_free(a);
    return b;
}

/* The resource of what the recording consumer got last, as text. */
static void got_res(struct tu_proc *f, enum signal s, char *out, size_t cap)
{
    assert_non_null(f->rec.last);
    ProtobufCMessage *m = protobuf_c_message_unpack(otlp_request_descriptor(s), NULL,
                                                    f->rec.last_len, f->rec.last);
    assert_non_null(m);
    const resource_t *r;
    if (s == SIGNAL_TRACES)
        r = ((Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *)m)
                ->resource_spans[0]->resource;
    else if (s == SIGNAL_LOGS)
        r = ((Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *)m)
                ->resource_logs[0]->resource;
    else
        r = ((Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *)m)
                ->resource_metrics[0]->resource;
    show_res(r, out, cap);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void run_readme(enum signal s, struct batch *(*mk)(const char *))
{
    struct tu_proc f;
    struct error err = {0};
    if (fx_open(&f, README_CFG, s, &err) != 0)
        fail_msg("%s", err.msg);
    struct batch *b = mk("service.name=llm-gw k8s-cluster=prod-eu redundant-attribute=x "
                         "host.name=h1");
    assert_int_equal(FACTORY.consume(f.proc, b), CONSUME_OK);
    char got[512];
    got_res(&f, s, got, sizeof got);
    /* upsert appends the zone; insert appends the cluster; delete moves the last pair (the
     * cluster) into redundant-attribute's slot */
    assert_string_equal(got, "service.name=llm-gw k8s-cluster=prod-eu k8s.cluster.name=prod-eu "
                             "host.name=h1 cloud.availability_zone=zone-1");
    batch_unref(b);
    assert_int_equal(telemetry_value(f.tel, "llmotlp_resource_edited_resources",
                                     "processor=\"resource\""),
                     1);
    tu_proc_close(&f);
}

static void test_readme_traces(void **state)
{
    (void)state;
    run_readme(SIGNAL_TRACES, trace_batch);
}

static void test_readme_logs(void **state)
{
    (void)state;
    run_readme(SIGNAL_LOGS, logs_batch);
}

static void test_readme_metrics(void **state)
{
    (void)state;
    run_readme(SIGNAL_METRICS, metrics_batch);
}

/* A request that already has every attribute as the actions would write it goes on untouched,
 * byte for byte; a request with no resource at all gets one. */
static void test_unchanged_and_missing_resource(void **state)
{
    (void)state;
    struct tu_proc f;
    struct error err = {0};
    const char *yaml = "resource:\n  attributes:\n"
                       "  - {key: deployment.environment, value: prod, action: upsert}\n";
    if (fx_open(&f, yaml, SIGNAL_TRACES, &err) != 0)
        fail_msg("%s", err.msg);
    struct batch *b = trace_batch("deployment.environment=prod");
    const uint8_t *wire;
    size_t len;
    assert_int_equal(batch_encoded(b, &wire, &len, &err), 0);
    uint8_t *orig = malloc(len);
    memcpy(orig, wire, len);
    assert_int_equal(FACTORY.consume(f.proc, b), CONSUME_OK);
    assert_int_equal(f.rec.last_len, len);
    assert_memory_equal(f.rec.last, orig, len);
    free(orig);
    batch_unref(b);

    b = trace_batch(NULL);
    assert_int_equal(FACTORY.consume(f.proc, b), CONSUME_OK);
    char got[256];
    got_res(&f, SIGNAL_TRACES, got, sizeof got);
    assert_string_equal(got, "deployment.environment=prod");
    batch_unref(b);
    tu_proc_close(&f);
}

static void test_validation(void **state)
{
    (void)state;
    struct tu_proc f;
    struct error err = {0};
    assert_int_equal(fx_open(&f, "resource:\n  attributes: []\n", SIGNAL_TRACES, &err), -1);
    assert_non_null(strstr(err.msg, "missing required field \"attributes\""));
    tu_proc_close(&f);
    memset(&err, 0, sizeof err);
    assert_int_equal(fx_open(&f, "resource:\n  attributes:\n  - key: a\n    action: upsert\n",
                             SIGNAL_TRACES, &err),
                     -1);
    assert_non_null(strstr(err.msg, "res.yaml:3:5: attributes[0]: error creating AttrProc. "
                                    "Either field \"value\""));
    tu_proc_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_traces),
        cmocka_unit_test(test_readme_logs),
        cmocka_unit_test(test_readme_metrics),
        cmocka_unit_test(test_unchanged_and_missing_resource),
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
