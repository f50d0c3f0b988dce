/* test_attributes_processor.c — the `attributes` processor through its factory: the Collector
 * README's configs bound from YAML and applied to span, log record and data point attributes,
 * include/exclude selecting the items, untouched requests forwarded as the bytes that arrived,
 * and per-signal refusals with their positions at create.
 *
 * The one idea: requests go in as wire bytes through consume() and come out of testutil's
 * recording consumer, decoded again; expected attribute lists are worked out by hand from the
 * Collector's pdata rules (Remove moves the last pair into the hole, inserts append). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/attraction.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/telemetry.h"
#include "tests/unit/testutil.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

extern const struct component_factory attributes_processor_factory;
#define FACTORY attributes_processor_factory

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;

#define V_STR OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE

#define SHA_JOHN "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f"

static int fx_open(struct tu_proc *f, const char *yaml, enum signal s, struct error *err)
{
    return tu_proc_open(f, &FACTORY, yaml, "attr.yaml", "attributes", "attributes", "processor/attributes", s, err);
}

/* "k=s:v k2=i:3" into an attribute array. */
static kv_t **mk_attrs(struct arena *a, const char *spec, size_t *n)
{
    kv_t **v = arena_alloc(a, 16 * sizeof *v);
    *n = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    for (char *sv = NULL, *t = strtok_r(buf, " ", &sv); t; t = strtok_r(NULL, " ", &sv)) {
        char *eq = strchr(t, '=');
        *eq = '\0';
        v[(*n)++] = eq[1] == 'i' ? tu_kv_int(a, t, strtoll(eq + 3, NULL, 10))
                                 : tu_kv_str(a, t, eq + 3);
    }
    return v;
}

static void show(kv_t *const *v, size_t n, char *out, size_t cap)
{
    size_t w = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char val[300];
        attraction_as_string(v[i]->value, val, sizeof val);
        const char *t = v[i]->value->value_case == V_INT    ? "i"
                        : v[i]->value->value_case == V_BOOL ? "b"
                                                            : "s";
        w += (size_t)snprintf(out + w, cap - w, "%s%s=%s:%s", w ? " " : "", v[i]->key, t, val);
    }
}

/* Traces: spans (name, attributes) each under its own resource with service.name `svc[i]`. */
static struct batch *traces(size_t n, const char *const *svc, const char *const *names,
                            const char *const *attrs)
{
    struct arena *a = arena_new(0);
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    req.resource_spans = arena_alloc(a, n * sizeof *req.resource_spans);
    for (size_t i = 0; i < n; i++) {
        Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = arena_alloc(a, sizeof *rs);
        opentelemetry__proto__trace__v1__resource_spans__init(rs);
        rs->resource = arena_alloc(a, sizeof *rs->resource);
        opentelemetry__proto__resource__v1__resource__init(rs->resource);
        char spec[128];
        snprintf(spec, sizeof spec, "service.name=s:%s", svc[i]);
        rs->resource->attributes = mk_attrs(a, spec, &rs->resource->n_attributes);
        Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = arena_alloc(a, sizeof *ss);
        opentelemetry__proto__trace__v1__scope_spans__init(ss);
        Opentelemetry__Proto__Trace__V1__Span *sp = arena_alloc(a, sizeof *sp);
        opentelemetry__proto__trace__v1__span__init(sp);
        uint8_t *tid = arena_alloc(a, 16), *sid = arena_alloc(a, 8);
        memset(tid, 1, 16);
        memset(sid, (int)i + 2, 8);
        sp->trace_id = (ProtobufCBinaryData){16, tid};
        sp->span_id = (ProtobufCBinaryData){8, sid};
        sp->name = arena_strdup(a, names[i]);
        sp->attributes = mk_attrs(a, attrs[i], &sp->n_attributes);
        ss->spans = arena_alloc(a, sizeof *ss->spans);
        ss->spans[0] = sp;
        ss->n_spans = 1;
        rs->scope_spans = arena_alloc(a, sizeof *rs->scope_spans);
        rs->scope_spans[0] = ss;
        rs->n_scope_spans = 1;
        req.resource_spans[i] = rs;
    }
    req.n_resource_spans = n;
    struct batch *b = tu_pack_batch(SIGNAL_TRACES, &req.base);
    arena_free(a);
    return b;
}

static void got_span(struct tu_proc *f, size_t i, char *out, size_t cap)
{
    assert_non_null(f->rec.last);
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *m =
        (void *)protobuf_c_message_unpack(otlp_request_descriptor(SIGNAL_TRACES), NULL,
                                          f->rec.last_len, f->rec.last);
    assert_non_null(m);
    const Opentelemetry__Proto__Trace__V1__Span *sp = m->resource_spans[i]->scope_spans[0]->spans[0];
    show(sp->attributes, sp->n_attributes, out, cap);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* The README's sample config on one span that has every key it names. */
static void test_readme_example_traces(void **state)
{
    (void)state;
    struct tu_proc f;
    struct error err = {0};
    const char *yaml = "attributes:\n"
                       "  actions:\n"
                       "    - key: db.table\n      action: delete\n"
                       "    - key: redacted_span\n      value: true\n      action: upsert\n"
                       "    - key: copy_key\n      from_attribute: key_original\n"
                       "      action: update\n"
                       "    - key: account_id\n      value: 2245\n      action: insert\n"
                       "    - key: account_password\n      action: delete\n"
                       "    - key: account_email\n      action: hash\n"
                       "    - key: http.status_code\n      action: convert\n"
                       "      converted_type: int\n";
    if (fx_open(&f, yaml, SIGNAL_TRACES, &err) != 0)
        fail_msg("%s", err.msg);
    const char *svc[] = {"gw"}, *names[] = {"chat"};
    const char *attrs[] = {"db.table=s:users copy_key=s:old key_original=s:orig "
                           "account_password=s:pw account_email=s:john.doe@example.com "
                           "http.status_code=s:200"};
    struct batch *b = traces(1, svc, names, attrs);
    assert_int_equal(FACTORY.consume(f.proc, b), CONSUME_OK);
    char got[1024];
    got_span(&f, 0, got, sizeof got);
    assert_string_equal(got, "http.status_code=i:200 copy_key=s:orig key_original=s:orig "
                             "account_id=i:2245 account_email=s:" SHA_JOHN
                             " redacted_span=b:true");
    batch_unref(b);
    assert_int_equal(telemetry_value(f.tel, "llmotlp_attributes_edited_items",
                                     "processor=\"attributes\",signal=\"traces\""),
                     1);
    tu_proc_close(&f);
}

/* include services (regexp) then exclude span_names (strict): only the included, not excluded
 * span changes; a request none of whose spans is selected goes on byte for byte. */
static void test_include_exclude(void **state)
{
    (void)state;
    struct tu_proc f;
    struct error err = {0};
    const char *yaml = "attributes:\n"
                       "  include:\n    match_type: regexp\n    services: [\"^llm-\"]\n"
                       "  exclude:\n    match_type: strict\n    span_names: [healthz]\n"
                       "  actions:\n    - {key: tier, value: gold, action: insert}\n";
    if (fx_open(&f, yaml, SIGNAL_TRACES, &err) != 0)
        fail_msg("%s", err.msg);
    const char *svc[] = {"llm-gw", "llm-gw", "billing"};
    const char *names[] = {"chat", "healthz", "chat"};
    const char *attrs[] = {"a=i:1", "a=i:2", "a=i:3"};
    struct batch *b = traces(3, svc, names, attrs);
    assert_int_equal(FACTORY.consume(f.proc, b), CONSUME_OK);
    char got[256];
    got_span(&f, 0, got, sizeof got);
    assert_string_equal(got, "a=i:1 tier=s:gold");
    got_span(&f, 1, got, sizeof got);
    assert_string_equal(got, "a=i:2");
    got_span(&f, 2, got, sizeof got);
    assert_string_equal(got, "a=i:3");
    batch_unref(b);

    const char *svc2[] = {"billing"};
    b = traces(1, svc2, names, attrs);
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
    tu_proc_close(&f);
}

static void test_logs(void **state)
{
    (void)state;
    struct tu_proc f;
    struct error err = {0};
    const char *yaml = "attributes:\n"
                       "  include:\n    match_type: strict\n    log_severity_texts: [ERROR]\n"
                       "  actions:\n    - {key: user.email, action: delete}\n";
    if (fx_open(&f, yaml, SIGNAL_LOGS, &err) != 0)
        fail_msg("%s", err.msg);
    struct arena *a = arena_new(0);
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req;
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&req);
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = arena_alloc(a, sizeof *rl);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = arena_alloc(a, sizeof *sl);
    opentelemetry__proto__logs__v1__scope_logs__init(sl);
    Opentelemetry__Proto__Logs__V1__LogRecord *lr[2];
    const char *sev[] = {"ERROR", "INFO"};
    for (int i = 0; i < 2; i++) {
        lr[i] = arena_alloc(a, sizeof *lr[i]);
        opentelemetry__proto__logs__v1__log_record__init(lr[i]);
        lr[i]->severity_text = (char *)sev[i];
        lr[i]->attributes = mk_attrs(a, "user.email=s:a@b.c x=i:1", &lr[i]->n_attributes);
    }
    sl->log_records = lr;
    sl->n_log_records = 2;
    rl->scope_logs = &sl;
    rl->n_scope_logs = 1;
    req.resource_logs = &rl;
    req.n_resource_logs = 1;
    struct batch *b = tu_pack_batch(SIGNAL_LOGS, &req.base);
    arena_free(a);
    assert_int_equal(FACTORY.consume(f.proc, b), CONSUME_OK);
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *m =
        (void *)protobuf_c_message_unpack(otlp_request_descriptor(SIGNAL_LOGS), NULL,
                                          f.rec.last_len, f.rec.last);
    assert_non_null(m);
    char got[256];
    const Opentelemetry__Proto__Logs__V1__ScopeLogs *gsl = m->resource_logs[0]->scope_logs[0];
    show(gsl->log_records[0]->attributes, gsl->log_records[0]->n_attributes, got, sizeof got);
    assert_string_equal(got, "x=i:1");
    show(gsl->log_records[1]->attributes, gsl->log_records[1]->n_attributes, got, sizeof got);
    assert_string_equal(got, "user.email=s:a@b.c x=i:1");
    protobuf_c_message_free_unpacked(&m->base, NULL);
    batch_unref(b);
    tu_proc_close(&f);
}

static void test_metrics_data_points(void **state)
{
    (void)state;
    struct tu_proc f;
    struct error err = {0};
    const char *yaml = "attributes:\n"
                       "  include:\n    match_type: strict\n    metric_names: [gen_ai.client.token.usage]\n"
                       "  actions:\n    - {key: env, value: prod, action: upsert}\n";
    if (fx_open(&f, yaml, SIGNAL_METRICS, &err) != 0)
        fail_msg("%s", err.msg);
    struct batch *b = tu_metric_batch(2); /* gauge "gen_ai.client.token.usage", 2 points */
    assert_int_equal(FACTORY.consume(f.proc, b), CONSUME_OK);
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *m =
        (void *)protobuf_c_message_unpack(otlp_request_descriptor(SIGNAL_METRICS), NULL,
                                          f.rec.last_len, f.rec.last);
    assert_non_null(m);
    const Opentelemetry__Proto__Metrics__V1__Metric *mt =
        m->resource_metrics[0]->scope_metrics[0]->metrics[0];
    assert_int_equal(mt->gauge->n_data_points, 2);
    for (size_t i = 0; i < 2; i++) {
        const Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp = mt->gauge->data_points[i];
        char got[256];
        show(dp->attributes, dp->n_attributes, got, sizeof got);
        assert_non_null(strstr(got, "env=s:prod"));
    }
    protobuf_c_message_free_unpacked(&m->base, NULL);
    batch_unref(b);
    tu_proc_close(&f);
}

static void test_refusals(void **state)
{
    (void)state;
    struct tu_proc f;
    struct error err = {0};
    /* log properties in a traces pipeline: refused at create, at the key */
    const char *yaml = "attributes:\n"
                       "  include:\n    match_type: strict\n    log_bodies: [x]\n"
                       "  actions:\n    - {key: a, action: delete}\n";
    assert_int_equal(fx_open(&f, yaml, SIGNAL_TRACES, &err), -1);
    assert_non_null(strstr(err.msg, "attr.yaml:4:5: include.log_bodies: log_bodies should not "
                                    "be specified for trace spans"));
    tu_proc_close(&f);
    /* ...and accepted in a logs pipeline */
    memset(&err, 0, sizeof err);
    assert_int_equal(fx_open(&f, yaml, SIGNAL_LOGS, &err), 0);
    tu_proc_close(&f);
    /* an unknown key of include is refused by validate, with its position */
    memset(&err, 0, sizeof err);
    yaml = "attributes:\n  exclude:\n    match_type: strict\n    span_name: [x]\n"
           "  actions:\n    - {key: a, action: delete}\n";
    assert_int_equal(fx_open(&f, yaml, SIGNAL_TRACES, &err), -1);
    assert_non_null(strstr(err.msg, "span_name"));
    assert_non_null(strstr(err.msg, "attr.yaml:4:5"));
    tu_proc_close(&f);
    memset(&err, 0, sizeof err);
    yaml = "attributes:\n  actions:\n    - {key: a, action: insert, from_context: metadata.x}\n";
    assert_int_equal(fx_open(&f, yaml, SIGNAL_TRACES, &err), -1);
    assert_non_null(strstr(err.msg, "attr.yaml:3:32: actions[0]: from_context"));
    tu_proc_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_example_traces),
        cmocka_unit_test(test_include_exclude),
        cmocka_unit_test(test_logs),
        cmocka_unit_test(test_metrics_data_points),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
