/* test_filter_processor.c — the filter processor against the Collector's filterprocessor: its
 * README's examples as cases (drop by attribute, by resource attribute, by name regex, span
 * events, data points, metrics by name and type, logs by body and severity), error_mode, the
 * context-inferred forms, the forms that cannot be combined, and config errors placed at
 * file:line:col with the column inside the condition.
 *
 * The one idea: requests are written as OTLP/JSON, go in as wire bytes through the factory's
 * consume(), and what the next component receives is decoded and printed as a short outline
 * ("a1 keep[ev]"), so each case reads as input, config and the outline expected, worked out by
 * hand from the Collector's documented rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/attr.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/otlp_json.h"
#include "core/telemetry.h"
#include "processors/filter/filter.h"
#include "testutil.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define FACTORY filter_processor_factory

/* ---- fixture ------------------------------------------------------------------------------- */

struct fx {
    struct cnode *tree;
    struct filter_config cfg;
    struct telemetry *tel;
    struct tu_rec rec;
    struct consumer spy;       /* in front of rec: notes which batch arrived and its faces */
    struct batch *seen;
    bool seen_had_wire;
    void *proc;
    enum signal signal;
    char err[1024];
};

static struct fx *spy_owner;

static enum consume_status spy_consume(struct consumer *c, struct batch *b)
{
    (void)c;
    spy_owner->seen = b;
    spy_owner->seen_had_wire = b->has_wire;
    return spy_owner->rec.base.consume(&spy_owner->rec.base, b);
}

/* Binds and validates `yaml` (the processor's settings); 0, or -1 with the message in fx->err. */
static int fx_bind(struct fx *f, const char *yaml)
{
    memset(f, 0, sizeof *f);
    struct error err = {0};
    f->tree = config_parse_string(yaml, "t.yaml", &err);
    if (!f->tree) {
        snprintf(f->err, sizeof f->err, "%s", err.msg);
        return -1;
    }
    if (config_bind(FACTORY.fields, f->tree, &f->cfg, &err) != 0 ||
        FACTORY.validate(&f->cfg, &err) != 0) {
        snprintf(f->err, sizeof f->err, "%s", err.msg);
        return -1;
    }
    return 0;
}

static void fx_start(struct fx *f, enum signal s, const char *yaml)
{
    if (fx_bind(f, yaml) != 0)
        fail_msg("config: %s", f->err);
    f->signal = s;
    f->tel = telemetry_new();
    tu_rec_init(&f->rec);
    f->spy.consume = spy_consume;
    spy_owner = f;
    struct component_env env = {.id = "filter/t", .log_name = "processor/filter/t",
                                .signal = s, .telemetry = f->tel};
    env.next[s] = &f->spy;
    struct error err = {0};
    f->proc = FACTORY.create(&f->cfg, &env, &err);
    if (!f->proc)
        fail_msg("create: %s", err.msg);
}

static void fx_free(struct fx *f)
{
    if (f->proc) {
        FACTORY.destroy(f->proc);
        tu_rec_fini(&f->rec);
        telemetry_free(f->tel);
    }
    config_free_bound(FACTORY.fields, &f->cfg);
    cnode_free(f->tree);
}

static int64_t fx_value(struct fx *f, const char *name)
{
    return telemetry_value(f->tel, name, "processor=\"filter/t\"");
}

/* The request in `json` (OTLP/JSON of signal s) as wire bytes in a fresh batch. */
static struct batch *json_batch(enum signal s, const char *json, uint8_t **wire, size_t *len)
{
    struct arena *a = arena_new(0);
    struct error err = {0};
    ProtobufCMessage *m = otlp_json_decode(otlp_request_descriptor(s), json, strlen(json), a, &err);
    if (!m)
        fail_msg("json: %s", err.msg);
    size_t n;
    uint8_t *bytes = tu_pack(m, &n);
    arena_free(a);
    struct batch *b = batch_from_wire(s, bytes, n, &err);
    if (!b)
        fail_msg("batch: %s", err.msg);
    if (wire) {
        *wire = bytes;
        *len = n;
    } else {
        free(bytes);
    }
    return b;
}

static void cat(char *out, size_t cap, const char *s)
{
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "%s%s", n ? " " : "", s);
}

/* An outline of the last request the next consumer got: traces "span[event,event] span",
 * metrics "name(points)", logs the bodies. "" when nothing arrived. */
static const char *outline(struct fx *f)
{
    static char out[1024];
    out[0] = '\0';
    if (f->rec.calls == 0)
        return out;
    if (f->signal == SIGNAL_TRACES) {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r =
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
                NULL, f->rec.last_len, f->rec.last);
        assert_non_null(r);
        for (size_t i = 0; i < r->n_resource_spans; i++)
            for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++) {
                Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = r->resource_spans[i]->scope_spans[j];
                for (size_t k = 0; k < ss->n_spans; k++) {
                    char one[256];
                    snprintf(one, sizeof one, "%s", ss->spans[k]->name);
                    for (size_t e = 0; e < ss->spans[k]->n_events; e++) {
                        size_t n = strlen(one);
                        snprintf(one + n, sizeof one - n, "%s%s", e ? "," : "[",
                                 ss->spans[k]->events[e]->name);
                    }
                    if (ss->spans[k]->n_events)
                        strcat(one, "]");
                    cat(out, sizeof out, one);
                }
            }
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(r, NULL);
    } else if (f->signal == SIGNAL_METRICS) {
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r =
            opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
                NULL, f->rec.last_len, f->rec.last);
        assert_non_null(r);
        for (size_t i = 0; i < r->n_resource_metrics; i++)
            for (size_t j = 0; j < r->resource_metrics[i]->n_scope_metrics; j++) {
                Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
                    r->resource_metrics[i]->scope_metrics[j];
                for (size_t k = 0; k < sm->n_metrics; k++) {
                    Opentelemetry__Proto__Metrics__V1__Metric *m = sm->metrics[k];
                    size_t n = m->gauge ? m->gauge->n_data_points
                             : m->sum ? m->sum->n_data_points
                             : m->histogram ? m->histogram->n_data_points
                             : m->summary ? m->summary->n_data_points : 0;
                    char one[256];
                    snprintf(one, sizeof one, "%s(%zu)", m->name, n);
                    cat(out, sizeof out, one);
                }
            }
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(r, NULL);
    } else {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r =
            opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
                NULL, f->rec.last_len, f->rec.last);
        assert_non_null(r);
        for (size_t i = 0; i < r->n_resource_logs; i++)
            for (size_t j = 0; j < r->resource_logs[i]->n_scope_logs; j++) {
                Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = r->resource_logs[i]->scope_logs[j];
                for (size_t k = 0; k < sl->n_log_records; k++) {
                    const char *s = attr_str(sl->log_records[k]->body);
                    cat(out, sizeof out, s ? s : "?");
                }
            }
        opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r, NULL);
    }
    return out;
}

/* Runs one request through; returns the status, leaves the outline to the caller. */
static enum consume_status run(struct fx *f, const char *json)
{
    struct batch *b = json_batch(f->signal, json, NULL, NULL);
    enum consume_status rc = FACTORY.consume(f->proc, b);
    batch_unref(b);
    return rc;
}

/* ---- requests ------------------------------------------------------------------------------ */

#define KV_S(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"
#define KV_B(k, v) "{\"key\":\"" k "\",\"value\":{\"boolValue\":" v "}}"
#define SPAN(name, attrs, events) \
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\"," \
    "\"name\":\"" name "\",\"attributes\":[" attrs "],\"events\":[" events "]}"
#define EVENT(name, attrs) "{\"name\":\"" name "\",\"attributes\":[" attrs "]}"
#define RES_SPANS(rattrs, spans) \
    "{\"resource\":{\"attributes\":[" rattrs "]},\"scopeSpans\":[{\"scope\":{\"name\":\"lib\"}," \
    "\"spans\":[" spans "]}]}"
#define TRACES(...) "{\"resourceSpans\":[" __VA_ARGS__ "]}"

/* The README's span example: container.name, resource host.name, name. */
static const char *const readme_traces = TRACES(
    RES_SPANS(KV_S("host.name", "localhost"), SPAN("a1", "", ""))
    "," RES_SPANS(KV_S("host.name", "web-1"),
                  SPAN("in-container", KV_S("container.name", "app_container_1"), "") ","
                  SPAN("app_3", "", "") ","
                  SPAN("keep", KV_S("container.name", "app_container_2"),
                       EVENT("grpc.call", "") "," EVENT("done", "") "," EVENT("flagged", KV_B("grpc", "true")))));

static void test_readme_span_conditions(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES,
             "error_mode: ignore\n"
             "traces:\n"
             "  span:\n"
             "    - 'attributes[\"container.name\"] == \"app_container_1\"'\n"
             "    - 'resource.attributes[\"host.name\"] == \"localhost\"'\n"
             "    - 'name == \"app_3\"'\n");
    assert_int_equal(run(&f, readme_traces), CONSUME_OK);
    /* a1 goes with its resource's host.name, in-container by attribute, app_3 by name; keep
     * stays whole, events and all. */
    assert_string_equal(outline(&f), "keep[grpc.call,done,flagged]");
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_spans_filtered"), 3);
    assert_int_equal(fx_value(&f, "llmotlp_processor_filter_span_events_filtered"), 0);
    fx_free(&f);
}

static void test_readme_spanevent_conditions(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES,
             "traces:\n"
             "  spanevent:\n"
             "    - 'attributes[\"grpc\"] == true'\n"
             "    - 'IsMatch(name, \".*grpc.*\")'\n");
    assert_int_equal(run(&f, TRACES(RES_SPANS("",
        SPAN("s1", "", EVENT("grpc.call", "") "," EVENT("done", "") "," EVENT("x", KV_B("grpc", "true"))) ","
        SPAN("s2", "", EVENT("grpc.only", ""))))), CONSUME_OK);
    /* s2 loses its only event and stays: a span is never dropped for its events. */
    assert_string_equal(outline(&f), "s1[done] s2");
    assert_int_equal(fx_value(&f, "llmotlp_processor_filter_span_events_filtered"), 3);
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_spans_filtered"), 0);
    fx_free(&f);
}

/* A dropped span takes its events; a span condition is checked before event conditions. */
static void test_span_takes_events(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES,
             "traces:\n"
             "  span: ['name == \"s1\"']\n"
             "  spanevent: ['name == \"e2\"']\n");
    assert_int_equal(run(&f, TRACES(RES_SPANS("",
        SPAN("s1", "", EVENT("e1", "") "," EVENT("e2", "")) ","
        SPAN("s2", "", EVENT("e1", "") "," EVENT("e2", ""))))), CONSUME_OK);
    assert_string_equal(outline(&f), "s2[e1]");
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_spans_filtered"), 1);
    /* two with s1, one alone */
    assert_int_equal(fx_value(&f, "llmotlp_processor_filter_span_events_filtered"), 3);
    fx_free(&f);
}

/* Nothing matches: the batch that arrived is the batch sent on, its bytes never re-encoded. */
static void test_no_match_forwards_bytes(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES, "traces:\n  span: ['name == \"nope\"']\n");
    uint8_t *wire;
    size_t len;
    struct batch *b = json_batch(SIGNAL_TRACES, readme_traces, &wire, &len);
    assert_int_equal(FACTORY.consume(f.proc, b), CONSUME_OK);
    assert_ptr_equal(f.seen, b);
    assert_true(f.seen_had_wire);
    assert_int_equal(f.rec.last_len, len);
    assert_memory_equal(f.rec.last, wire, len);
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_spans_filtered"), 0);
    batch_unref(b);
    free(wire);
    fx_free(&f);
}

/* Everything dropped: nothing goes on, the sender hears OK (ErrSkipProcessingData), and a
 * batch shared with another holder is left as it was. */
static void test_everything_dropped(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES, "traces:\n  span: ['IsMatch(name, \".*\")']\n");
    uint8_t *wire;
    size_t len;
    struct batch *b = json_batch(SIGNAL_TRACES, readme_traces, &wire, &len);
    batch_ref(b);   /* shared, as with fan-out */
    assert_int_equal(FACTORY.consume(f.proc, b), CONSUME_OK);
    assert_int_equal(f.rec.calls, 0);
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_spans_filtered"), 4);
    const uint8_t *d;
    size_t n;
    struct error err;
    assert_int_equal(batch_encoded(b, &d, &n, &err), 0);
    assert_int_equal(n, len);
    assert_memory_equal(d, wire, len);
    batch_unref(b);
    batch_unref(b);
    free(wire);
    fx_free(&f);
}

/* ---- metrics ------------------------------------------------------------------------------- */

#define GAUGE(name, points) "{\"name\":\"" name "\",\"gauge\":{\"dataPoints\":[" points "]}}"
#define HISTO(name) "{\"name\":\"" name "\",\"histogram\":{\"aggregationTemporality\":2," \
    "\"dataPoints\":[{\"count\":\"1\",\"sum\":1}]}}"
#define SUMMARY(name) "{\"name\":\"" name "\",\"summary\":{\"dataPoints\":[{\"count\":\"1\"}," \
    "{\"count\":\"2\"}]}}"
#define POINT(attrs, v) "{\"attributes\":[" attrs "],\"asDouble\":" v "}"
#define RES_METRICS(rattrs, metrics) \
    "{\"resource\":{\"attributes\":[" rattrs "]},\"scopeMetrics\":[{\"metrics\":[" metrics "]}]}"
#define METRICS(...) "{\"resourceMetrics\":[" __VA_ARGS__ "]}"

static void test_readme_metric_conditions(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_METRICS,
             "metrics:\n"
             "  metric:\n"
             "    - 'name == \"my.metric\" and resource.attributes[\"my_label\"] == \"abc123\"'\n"
             "    - 'type == METRIC_DATA_TYPE_HISTOGRAM'\n");
    assert_int_equal(run(&f, METRICS(
        RES_METRICS(KV_S("my_label", "abc123"),
                    GAUGE("my.metric", POINT("", "1") "," POINT("", "2")) ","
                    GAUGE("other", POINT("", "1")) "," HISTO("latency"))
        "," RES_METRICS(KV_S("my_label", "zzz"), GAUGE("my.metric", POINT("", "3"))))),
        CONSUME_OK);
    assert_string_equal(outline(&f), "other(1) my.metric(1)");
    assert_int_equal(fx_value(&f, "llmotlp_processor_filter_metrics_filtered"), 2);
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_datapoints_filtered"), 3);
    fx_free(&f);
}

static void test_readme_datapoint_conditions(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_METRICS,
             "metrics:\n"
             "  datapoint:\n"
             "    - 'metric.type == METRIC_DATA_TYPE_SUMMARY'\n"
             "    - 'resource.attributes[\"service.name\"] == \"my_service_name\"'\n"
             "    - 'attributes[\"route\"] == \"/health\"'\n");
    assert_int_equal(run(&f, METRICS(
        RES_METRICS(KV_S("service.name", "other"),
                    SUMMARY("rpc.summary") ","
                    GAUGE("requests", POINT(KV_S("route", "/health"), "1") ","
                                      POINT(KV_S("route", "/chat"), "2")) ","
                    GAUGE("health.only", POINT(KV_S("route", "/health"), "1")))
        "," RES_METRICS(KV_S("service.name", "my_service_name"), GAUGE("gone", POINT("", "1"))))),
        CONSUME_OK);
    /* a metric whose points all went is dropped with them */
    assert_string_equal(outline(&f), "requests(1)");
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_datapoints_filtered"), 5);
    assert_int_equal(fx_value(&f, "llmotlp_processor_filter_metrics_filtered"), 3);
    fx_free(&f);
}

/* ---- logs ---------------------------------------------------------------------------------- */

#define LOG(body, sev) "{\"severityNumber\":" sev ",\"body\":{\"stringValue\":\"" body "\"}}"
#define LOGS(...) "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[" __VA_ARGS__ "]}]}]}"

static void test_readme_log_conditions(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_LOGS,
             "logs:\n"
             "  log_record:\n"
             "    - 'IsMatch(body, \".*password.*\")'\n"
             "    - 'severity_number < SEVERITY_NUMBER_WARN'\n");
    assert_int_equal(run(&f, LOGS(LOG("user password=hunter2", "17") ","
                                  LOG("debug noise", "5") "," LOG("disk full", "13") ","
                                  LOG("failed", "17"))), CONSUME_OK);
    assert_string_equal(outline(&f), "disk full failed");
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_logs_filtered"), 2);
    fx_free(&f);
}

/* ---- context-inferred forms ---------------------------------------------------------------- */

static void test_trace_conditions_basic(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES,
             "trace_conditions:\n"
             "  - 'resource.attributes[\"host.name\"] == \"localhost\"'\n"
             "  - 'span.attributes[\"container.name\"] == \"app_container_1\"'\n"
             "  - 'span.name == \"app_3\"'\n"
             "  - 'spanevent.attributes[\"grpc\"] == true'\n"
             "  - 'IsMatch(spanevent.name, \".*grpc.*\")'\n");
    assert_int_equal(run(&f, readme_traces), CONSUME_OK);
    assert_string_equal(outline(&f), "keep[done]");
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_spans_filtered"), 3);
    assert_int_equal(fx_value(&f, "llmotlp_processor_filter_span_events_filtered"), 2);
    fx_free(&f);
}

static void test_log_conditions_advanced(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_LOGS,
             "error_mode: ignore\n"
             "log_conditions:\n"
             "  - error_mode: propagate\n"
             "    conditions:\n"
             "      - log.severity_number < SEVERITY_NUMBER_WARN\n"
             "  - context: log\n"
             "    error_mode: silent\n"
             "    conditions:\n"
             "      - 'IsMatch(body, \"^noisy\")'\n");
    assert_int_equal(run(&f, LOGS(LOG("debug noise", "5") "," LOG("noisy but warn", "13") ","
                                  LOG("kept", "13"))), CONSUME_OK);
    assert_string_equal(outline(&f), "kept");
    fx_free(&f);
}

/* ---- error_mode ---------------------------------------------------------------------------- */

/* Substring past the end of the string is a runtime error in the Collector's OTTL. */
#define FAILING "'Substring(name, 0, 100) == \"x\"'"

static void test_error_mode_propagate(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES,
             "error_mode: propagate\n"
             "traces:\n"
             "  span: ['name == \"a1\"', " FAILING "]\n");
    assert_int_equal(run(&f, readme_traces), CONSUME_RETRY);
    assert_int_equal(f.rec.calls, 0);
    assert_int_equal(fx_value(&f, "llmotlp_processor_filter_refused_requests"), 1);
    assert_true(fx_value(&f, "llmotlp_processor_filter_condition_errors") >= 1);
    fx_free(&f);
}

static void test_error_mode_ignore_and_silent(void **state)
{
    (void)state;
    const char *const modes[] = {"ignore", "silent"};
    for (size_t i = 0; i < 2; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml,
                 "error_mode: %s\ntraces:\n  span: [" FAILING ", 'name == \"a1\"']\n", modes[i]);
        struct fx f;
        fx_start(&f, SIGNAL_TRACES, yaml);
        assert_int_equal(run(&f, readme_traces), CONSUME_OK);
        /* the failing condition is false for every span; the next one still drops a1 */
        assert_string_equal(outline(&f), "in-container app_3 keep[grpc.call,done,flagged]");
        assert_int_equal(fx_value(&f, "llmotlp_processor_filter_condition_errors"), 4);
        assert_int_equal(fx_value(&f, "llmotlp_processor_filter_refused_requests"), 0);
        fx_free(&f);
    }
}

/* The default is ignore (the Collector's processor.filter.defaultErrorModeIgnore, stable). */
static void test_error_mode_default_ignore(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES, "traces:\n  span: [" FAILING "]\n");
    assert_int_equal(f.cfg.error_mode, 1);
    assert_int_equal(run(&f, readme_traces), CONSUME_OK);
    assert_int_equal(f.rec.calls, 1);
    fx_free(&f);
}

/* A group's error_mode overrides the processor's. */
static void test_group_error_mode(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES,
             "error_mode: ignore\n"
             "trace_conditions:\n"
             "  - error_mode: propagate\n"
             "    context: span\n"
             "    conditions: [" FAILING "]\n");
    assert_int_equal(run(&f, readme_traces), CONSUME_RETRY);
    fx_free(&f);
}

/* ---- config errors ------------------------------------------------------------------------- */

static const char *bind_error(const char *yaml)
{
    static struct fx f;
    int rc = fx_bind(&f, yaml);
    static char msg[1024];
    snprintf(msg, sizeof msg, "%s", rc ? f.err : "");
    config_free_bound(FACTORY.fields, &f.cfg);
    cnode_free(f.tree);
    return msg;
}

static void test_config_error_positions(void **state)
{
    (void)state;
    const char *m = bind_error("traces:\n"
                               "  span:\n"
                               "    - 'name == \"a\"'\n"
                               "    - 'Foo(name)'\n");
    /* the item's scalar is at line 4, column 7; Foo starts the condition */
    assert_non_null(strstr(m, "t.yaml:4:7: traces.span[1]: column 1: "));
    assert_non_null(strstr(m, "Foo"));

    m = bind_error("metrics:\n  datapoint:\n    - 'attributes[\"a\"] == '\n");
    assert_non_null(strstr(m, "t.yaml:3:7: metrics.datapoint[0]: "));

    m = bind_error("traces:\n  span: 'name == \"a\"'\n");
    assert_string_equal(m, "t.yaml:2:9: traces.span: expected a list of OTTL conditions");

    m = bind_error("error_mode: loud\n");
    assert_non_null(strstr(m, "propagate"));

    m = bind_error("traces:\n  spans: []\n");
    assert_non_null(strstr(m, "t.yaml:2:3"));
}

static void test_config_inferred_errors(void **state)
{
    (void)state;
    assert_string_equal(bind_error("trace_conditions:\n"
                                   "  - 'span.name == \"a\"'\n"
                                   "  - conditions: ['span.name == \"b\"']\n"),
                        "t.yaml:3:5: trace_conditions[1]: configuring multiple configuration "
                        "styles is not supported, please use only Basic configuration or only "
                        "Advanced configuration");
    assert_string_equal(bind_error("log_conditions:\n  -\n"),
                        "t.yaml:2:4: log_conditions[0]: condition cannot be empty");
    const char *m = bind_error("trace_conditions:\n  - context: log\n    conditions: ['true']\n");
    assert_non_null(strstr(m, "unknown context \"log\" (known: resource, scope, span, spanevent)"));
    m = bind_error("trace_conditions:\n  - 'IsRootSpan()'\n");
    assert_non_null(strstr(m, "t.yaml:2:5: trace_conditions[0]: "));
    assert_non_null(strstr(m, "cannot infer the context"));
    m = bind_error("metric_conditions:\n  - context: metric\n    conditions: ['HasAttrOnDatapoint(\"a\", \"b\")']\n");
    /* accepted only if the engine has the function; else said plainly */
    assert_true(m[0] == '\0' || strstr(m, "HasAttrOnDatapoint (the filter processor's") != NULL);
}

static void test_config_forms_refused_together(void **state)
{
    (void)state;
    assert_string_equal(
        bind_error("trace_conditions: ['span.name == \"a\"']\ntraces:\n  span: ['name == \"a\"']\n"),
        "trace_conditions: cannot use context inferred trace conditions \"trace_conditions\" and "
        "the settings \"traces.resource\", \"traces.span\", \"traces.spanevent\" at the same time");
    assert_string_equal(
        bind_error("metrics:\n  metric: ['name == \"a\"']\n  exclude:\n    match_type: strict\n"
                   "    metric_names: [a]\n"),
        "metrics: cannot use \"metrics.resource\", \"metrics.metric\", \"metrics.datapoint\" and "
        "the settings \"metrics.include\", \"metrics.exclude\" at the same time");
    assert_string_equal(
        bind_error("log_conditions: ['log.body == \"a\"']\nlogs:\n  include:\n    match_type: strict\n"),
        "log_conditions: cannot use context inferred log conditions \"log_conditions\" and the "
        "settings \"logs.resource\", \"logs.log\", \"logs.include\", \"logs.exclude\" at the same "
        "time");
    assert_string_equal(
        bind_error("spans:\n  exclude:\n    match_type: strict\n    span_names: [a]\n"
                   "traces:\n  spanevent: ['name == \"a\"']\n"),
        "spans: cannot use \"traces.resource\", \"traces.span\", \"traces.spanevent\" and the span "
        "settings \"spans.include\", \"spans.exclude\" at the same time");
}

/* ---- legacy include/exclude match properties ------------------------------------------------ */

#define KV_I(k, v) "{\"key\":\"" k "\",\"value\":{\"intValue\":\"" v "\"}}"
#define RES_SPANS_LIB(rattrs, lib, ver, spans) \
    "{\"resource\":{\"attributes\":[" rattrs "]},\"scopeSpans\":[{\"scope\":{\"name\":\"" lib \
    "\",\"version\":\"" ver "\"},\"spans\":[" spans "]}]}"

/* The README's `spans` example as written: include keeps app_3 only (a span without
 * service.name is "<nil-service-name>" and goes too); its exclude cannot then match. */
static const char *const readme_legacy_spans =
    "spans:\n"
    "  include:\n"
    "    match_type: strict\n"
    "    services:\n"
    "      - app_3\n"
    "  exclude:\n"
    "    match_type: regexp\n"
    "    services:\n"
    "      - app_1\n"
    "      - app_2\n"
    "    span_names:\n"
    "      - hello_world\n"
    "      - hello/world\n"
    "    attributes:\n"
    "      - key: container.name\n"
    "        value: (app_container_1|app_container_2)\n"
    "    libraries:\n"
    "      - name: opentelemetry\n"
    "        version: 0.0-beta\n"
    "    resources:\n"
    "      - key: container.host\n"
    "        value: (localhost|127.0.0.1)\n";

static void test_legacy_readme_spans(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES, readme_legacy_spans);
    assert_int_equal(run(&f, TRACES(
        RES_SPANS(KV_S("service.name", "app_3"), SPAN("a", "", "") "," SPAN("b", "", ""))
        "," RES_SPANS_LIB(KV_S("service.name", "app_1") "," KV_S("container.host", "localhost"),
                          "opentelemetry", "0.0-beta",
                          SPAN("hello_world", KV_S("container.name", "app_container_1"), ""))
        "," RES_SPANS("", SPAN("x", "", "")))), CONSUME_OK);
    assert_string_equal(outline(&f), "a b");
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_spans_filtered"), 2);
    fx_free(&f);
}

/* The README's exclude alone: every property must match (services, names, attributes,
 * libraries, resources), each list by any item, regexps unanchored. */
static void test_legacy_spans_exclude_all_properties(void **state)
{
    (void)state;
    struct fx f;
    const char *cfg = strstr(readme_legacy_spans, "  exclude:\n");
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "spans:\n%s", cfg);
    fx_start(&f, SIGNAL_TRACES, yaml);
    assert_int_equal(run(&f, TRACES(
        RES_SPANS_LIB(KV_S("service.name", "app_1") "," KV_S("container.host", "localhost"),
                      "opentelemetry", "0.0-beta",
                      SPAN("hello_world", KV_S("container.name", "app_container_1"), "") ","
                      SPAN("hello/world", KV_S("container.name", "app_container_3"), "") ","
                      SPAN("hello_world2", KV_S("container.name", "app_container_2"), "") ","
                      SPAN("other", KV_S("container.name", "app_container_1"), ""))
        "," RES_SPANS_LIB(KV_S("service.name", "app_2") "," KV_S("container.host", "127.0.0.1"),
                         "opentelemetry", "1.0",
                         SPAN("hello_world", KV_S("container.name", "app_container_1"), "")))),
        CONSUME_OK);
    /* dropped: hello_world (all match), hello_world2 (span_names is a search); kept:
     * app_container_3, "other", and the scope of version 1.0 */
    assert_string_equal(outline(&f), "hello/world other hello_world");
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_spans_filtered"), 2);
    fx_free(&f);
}

/* Span kinds, strict: the names of the Collector's traceutil.SpanKindStr. */
static void test_legacy_span_kinds(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES,
             "spans:\n  exclude:\n    match_type: strict\n    span_kinds: [SPAN_KIND_CLIENT]\n");
    assert_int_equal(run(&f, TRACES(RES_SPANS("",
        "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
        "\"name\":\"out\",\"kind\":3},"
        "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060709\","
        "\"name\":\"in\",\"kind\":2}"))), CONSUME_OK);
    assert_string_equal(outline(&f), "in");
    fx_free(&f);
}

/* A legacy filter that matches nothing sends on the batch that arrived, its bytes untouched. */
static void test_legacy_no_match_forwards_bytes(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_TRACES,
             "spans:\n  exclude:\n    match_type: regexp\n    span_names: ['^health']\n");
    uint8_t *wire;
    size_t len;
    struct batch *b = json_batch(SIGNAL_TRACES, readme_traces, &wire, &len);
    assert_int_equal(FACTORY.consume(f.proc, b), CONSUME_OK);
    assert_ptr_equal(f.seen, b);
    assert_true(f.seen_had_wire);
    assert_int_equal(f.rec.last_len, len);
    assert_memory_equal(f.rec.last, wire, len);
    batch_unref(b);
    free(wire);
    fx_free(&f);
}

/* The README's metrics filter/1: include regexp names with resource_attributes, exclude strict
 * names. resource_attributes judge the resource on their own (a resource without
 * container.name=app_container_1 goes whole); names are searched, not anchored. */
static void test_legacy_readme_metrics(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_METRICS,
             "metrics:\n"
             "  include:\n"
             "    match_type: regexp\n"
             "    metric_names:\n"
             "      - prefix/.*\n"
             "      - prefix_.*\n"
             "    resource_attributes:\n"
             "      - key: container.name\n"
             "        value: app_container_1\n"
             "  exclude:\n"
             "    match_type: strict\n"
             "    metric_names:\n"
             "      - hello_world\n"
             "      - prefix_hello_world\n");
    assert_int_equal(run(&f, METRICS(
        RES_METRICS(KV_S("container.name", "app_container_1"),
                    GAUGE("prefix/a", POINT("", "1")) ","
                    GAUGE("prefix_b", POINT("", "1") "," POINT("", "2")) ","
                    GAUGE("other", POINT("", "1")) ","
                    GAUGE("my_prefix_c", POINT("", "1")) ","
                    GAUGE("prefix_hello_world", POINT("", "1")))
        "," RES_METRICS(KV_S("container.name", "app_container_2"),
                        GAUGE("prefix/a", POINT("", "1"))))), CONSUME_OK);
    assert_string_equal(outline(&f), "prefix/a(1) prefix_b(2) my_prefix_c(1)");
    assert_int_equal(fx_value(&f, "llmotlp_processor_filter_metrics_filtered"), 3);
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_datapoints_filtered"), 3);
    fx_free(&f);
}

/* The README's exclude by names and resource_attributes: as the Collector evaluates them, a
 * resource with the attributes goes whole and the named metrics go everywhere (either one). An
 * include with resource_attributes and no names filters at the resource level only. */
static void test_legacy_metrics_resource_attributes(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_METRICS,
             "metrics:\n"
             "  exclude:\n"
             "    match_type: strict\n"
             "    metric_names: [hello_world, hello/world]\n"
             "    resource_attributes:\n"
             "      - key: container.name\n"
             "        value: app_container_1\n");
    assert_int_equal(run(&f, METRICS(
        RES_METRICS(KV_S("container.name", "app_container_1"), GAUGE("x", POINT("", "1")))
        "," RES_METRICS(KV_S("container.name", "app_container_2"),
                        GAUGE("hello_world", POINT("", "1")) "," GAUGE("y", POINT("", "1"))))),
        CONSUME_OK);
    assert_string_equal(outline(&f), "y(1)");
    fx_free(&f);

    fx_start(&f, SIGNAL_METRICS,
             "metrics:\n"
             "  include:\n"
             "    match_type: regexp\n"
             "    resource_attributes:\n"
             "      - key: container.name\n"
             "        value: (app_container_1|app_container_2)\n");
    assert_int_equal(run(&f, METRICS(
        RES_METRICS(KV_S("container.name", "app_container_1"), GAUGE("a", POINT("", "1")))
        "," RES_METRICS(KV_S("container.name", "app_container_3"), GAUGE("b", POINT("", "1")))
        "," RES_METRICS(KV_I("container.name", "7"), GAUGE("c", POINT("", "1")))
        "," RES_METRICS(KV_S("container.name", "app_container_2"), GAUGE("d", POINT("", "1"))))),
        CONSUME_OK);
    assert_string_equal(outline(&f), "a(1) d(1)");
    assert_int_equal(fx_value(&f, "llmotlp_processor_filter_metrics_filtered"), 2);
    fx_free(&f);
}

#define LOGX(body, sev, text, attrs) \
    "{\"severityNumber\":" sev ",\"severityText\":\"" text "\",\"body\":{\"stringValue\":\"" \
    body "\"},\"attributes\":[" attrs "]}"
#define RES_LOGS(rattrs, ...) \
    "{\"resource\":{\"attributes\":[" rattrs "]},\"scopeLogs\":[{\"logRecords\":[" __VA_ARGS__ \
    "]}]}"
#define LOGS_R(...) "{\"resourceLogs\":[" __VA_ARGS__ "]}"

/* The Collector README's severity examples: include min INFO with match_undefined keeps INFO and
 * above and the undefined; exclude min ERROR drops ERROR and FATAL. */
static void test_legacy_logs_severity_number(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_LOGS,
             "logs:\n  include:\n    severity_number:\n      min: \"INFO\"\n"
             "      match_undefined: true\n");
    const char *req = LOGS(LOG("trace", "1") "," LOG("debug4", "8") "," LOG("info", "9") ","
                           LOG("undefined", "0") "," LOG("error", "17") "," LOG("fatal", "21"));
    assert_int_equal(run(&f, req), CONSUME_OK);
    assert_string_equal(outline(&f), "info undefined error fatal");
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_logs_filtered"), 2);
    fx_free(&f);

    fx_start(&f, SIGNAL_LOGS, "logs:\n  exclude:\n    severity_number:\n      min: \"error\"\n");
    assert_int_equal(run(&f, req), CONSUME_OK);
    /* match_undefined false: an undefined severity does not match, so it stays */
    assert_string_equal(outline(&f), "trace debug4 info undefined");
    fx_free(&f);
}

/* bodies (regexp), severity_texts, record_attributes and resource_attributes: all must match. */
static void test_legacy_logs_properties(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_LOGS,
             "logs:\n  include:\n    match_type: regexp\n    bodies:\n    - ^IMPORTANT RECORD\n");
    assert_int_equal(run(&f, LOGS(LOG("IMPORTANT RECORD 1", "9") "," LOG("an IMPORTANT RECORD",
                                  "9") "," LOG("IMPORTANT RECORD", "0"))), CONSUME_OK);
    assert_string_equal(outline(&f), "IMPORTANT RECORD 1 IMPORTANT RECORD");
    fx_free(&f);

    fx_start(&f, SIGNAL_LOGS,
             "logs:\n"
             "  exclude:\n"
             "    match_type: strict\n"
             "    resource_attributes:\n"
             "      - key: host.name\n"
             "        value: just_this_one_hostname\n"
             "    record_attributes:\n"
             "      - key: record_attr\n"
             "    severity_texts: [WARN, ERROR]\n");
    assert_int_equal(run(&f, LOGS_R(
        RES_LOGS(KV_S("host.name", "just_this_one_hostname"),
                 LOGX("a", "13", "WARN", KV_S("record_attr", "x")) ","
                 LOGX("b", "9", "INFO", KV_S("record_attr", "x")) ","
                 LOGX("c", "17", "ERROR", KV_I("record_attr", "3")) ","
                 LOGX("d", "17", "ERROR", KV_S("other", "x")))
        "," RES_LOGS(KV_S("host.name", "other"), LOGX("e", "13", "WARN",
                                                      KV_S("record_attr", "x"))))),
        CONSUME_OK);
    /* a and c match everything (record_attr without a value is presence only); b fails the
     * severity text, d the record attribute, e the resource */
    assert_string_equal(outline(&f), "b d e");
    assert_int_equal(fx_value(&f, "otelcol_processor_filter_logs_filtered"), 2);
    fx_free(&f);

    fx_start(&f, SIGNAL_LOGS,
             "logs:\n  include:\n    match_type: regexp\n    record_attributes:\n"
             "      - key: record_attr\n        value: prefix_.*\n");
    assert_int_equal(run(&f, LOGS(LOGX("yes", "9", "", KV_S("record_attr", "prefix_1")) ","
                                  LOGX("no", "9", "", KV_S("record_attr", "other")))),
                     CONSUME_OK);
    assert_string_equal(outline(&f), "yes");
    fx_free(&f);
}

/* Sections that select nothing are the Collector's no-ops: a logs section naming no property,
 * a metrics section without metric_names or resource_attributes. */
static void test_legacy_empty_sections(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_LOGS, "logs:\n  include:\n    match_type: strict\n");
    assert_int_equal(run(&f, LOGS(LOG("x", "9"))), CONSUME_OK);
    assert_string_equal(outline(&f), "x");
    fx_free(&f);
    fx_start(&f, SIGNAL_METRICS, "metrics:\n  include:\n    match_type: strict\n");
    assert_int_equal(run(&f, METRICS(RES_METRICS("", GAUGE("m", POINT("", "1"))))), CONSUME_OK);
    assert_string_equal(outline(&f), "m(1)");
    fx_free(&f);
}

static void test_legacy_config_errors(void **state)
{
    (void)state;
    const char *m = bind_error("metrics:\n  exclude:\n    match_type: expr\n"
                               "    expressions: ['MetricName == \"my.metric\"']\n");
    assert_non_null(strstr(m, "t.yaml:3:5: metrics.exclude.match_type: match_type expr is not "
                              "supported: llmotlp has no expr engine"));
    m = bind_error("logs:\n  include:\n    severity_number:\n      min: \"INVALID_SEVERITY\"\n");
    assert_non_null(strstr(m, "t.yaml:3:5: logs.include.severity_number: min: "
                              "'INVALID_SEVERITY' is not a valid severity"));
    m = bind_error("logs:\n  include:\n    severity_number:\n      min: \"25\"\n");
    assert_non_null(strstr(m, "is not a valid severity"));
    m = bind_error("spans:\n  include:\n    match_type: strict\n");
    assert_non_null(strstr(m, "spans.include: at least one of"));
    m = bind_error("spans:\n  exclude:\n    match_type: strict\n    log_bodies: [a]\n");
    assert_non_null(strstr(m, "t.yaml:4:5: spans.exclude.log_bodies: log_bodies should not be "
                              "specified for trace spans"));
    m = bind_error("spans:\n  exclude:\n    span_names: [a]\n");
    assert_non_null(strstr(m, "unrecognized match_type: '', valid types are: [regexp strict]"));
    m = bind_error("spans:\n  exclude:\n    match_type: strict\n    span_kinds: [CLIENT]\n");
    assert_non_null(strstr(m, "span_kinds string must match one of the standard span kinds"));
    /* the filter's logs say bodies: log_bodies is not one of its keys, as in the Collector */
    m = bind_error("logs:\n  include:\n    match_type: strict\n    log_bodies: [a]\n");
    assert_non_null(strstr(m, "logs.include: "));
    assert_non_null(strstr(m, "log_bodies"));
    m = bind_error("logs:\n  include:\n    match_type: regexp\n    record_attributes:\n"
                   "      - key: n\n        value: 3\n");
    assert_non_null(strstr(m, "logs.include.record_attributes[0]: error creating attribute "
                              "filters: match_type=regexp for \"n\" only supports Str, but "
                              "found Int"));
    m = bind_error("metrics:\n  include:\n    match_type: regexp\n    metric_names: ['(']\n");
    assert_non_null(strstr(m, "metrics.include.metric_names: error parsing regexp"));
    m = bind_error("metrics:\n  include:\n    match_type: strict\n    resource_attributes:\n"
                   "      - value: x\n");
    assert_non_null(strstr(m, "metrics.include.resource_attributes[0]: error creating resource "
                              "filters: can't have empty key"));
    assert_string_equal(
        bind_error("trace_conditions: ['span.name == \"a\"']\n"
                   "spans:\n  exclude:\n    match_type: strict\n    span_names: [a]\n"),
        "trace_conditions: cannot use context inferred trace conditions \"trace_conditions\" and "
        "the span settings \"spans.include\", \"spans.exclude\" at the same time");
}

struct warns {
    int n;
    char all[2048];
};

static void collect_warn(void *ctx, const struct cnode *at, const char *msg)
{
    struct warns *w = ctx;
    char pos[128] = "";
    if (at)
        cnode_where(at, pos, sizeof pos);
    w->n++;
    size_t len = strlen(w->all);
    snprintf(w->all + len, sizeof w->all - len, "%s: %s\n", pos, msg);
}

/* Accepted without effect, said at the key: a span section's metric_names, expressions beside
 * match_type strict, a regexp cache, a logs section naming nothing. */
static void test_legacy_warnings(void **state)
{
    (void)state;
    struct fx f;
    assert_int_equal(fx_bind(&f,
        "spans:\n  include:\n    match_type: strict\n    services: [a]\n    metric_names: [m]\n"
        "metrics:\n  exclude:\n    match_type: regexp\n    regexp:\n      cacheenabled: true\n"
        "    metric_names: [m]\n    expressions: ['MetricName == \"m\"']\n"
        "logs:\n  exclude:\n    match_type: strict\n"), 0);
    struct warns w = {0};
    struct config_warn_sink sink = {.warn = collect_warn, .ctx = &w, .path = "processors.filter"};
    FACTORY.warn(&f.cfg, f.tree, &sink);
    assert_int_equal(w.n, 4);
    assert_non_null(strstr(w.all, "t.yaml:5:5: processors.filter.spans.include.metric_names: "
                                  "has no effect for spans"));
    assert_non_null(strstr(w.all, "t.yaml:10:7: processors.filter.metrics.exclude.regexp."
                                  "cacheenabled: "));
    assert_non_null(strstr(w.all, "t.yaml:12:5: processors.filter.metrics.exclude.expressions: "
                                  "has no effect"));
    assert_non_null(strstr(w.all, "processors.filter.logs.exclude: has no effect"));
    config_free_bound(FACTORY.fields, &f.cfg);
    cnode_free(f.tree);
}

/* A pipeline of another signal passes through, as does a processor with nothing to check. */
static void test_other_signal_passes(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, SIGNAL_LOGS, "traces:\n  span: ['name == \"a1\"']\n");
    assert_int_equal(run(&f, LOGS(LOG("x", "9"))), CONSUME_OK);
    assert_string_equal(outline(&f), "x");
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_span_conditions),
        cmocka_unit_test(test_readme_spanevent_conditions),
        cmocka_unit_test(test_span_takes_events),
        cmocka_unit_test(test_no_match_forwards_bytes),
        cmocka_unit_test(test_everything_dropped),
        cmocka_unit_test(test_readme_metric_conditions),
        cmocka_unit_test(test_readme_datapoint_conditions),
        cmocka_unit_test(test_readme_log_conditions),
        cmocka_unit_test(test_trace_conditions_basic),
        cmocka_unit_test(test_log_conditions_advanced),
        cmocka_unit_test(test_error_mode_propagate),
        cmocka_unit_test(test_error_mode_ignore_and_silent),
        cmocka_unit_test(test_error_mode_default_ignore),
        cmocka_unit_test(test_group_error_mode),
        cmocka_unit_test(test_config_error_positions),
        cmocka_unit_test(test_config_inferred_errors),
        cmocka_unit_test(test_config_forms_refused_together),
        cmocka_unit_test(test_other_signal_passes),
        cmocka_unit_test(test_legacy_readme_spans),
        cmocka_unit_test(test_legacy_spans_exclude_all_properties),
        cmocka_unit_test(test_legacy_span_kinds),
        cmocka_unit_test(test_legacy_no_match_forwards_bytes),
        cmocka_unit_test(test_legacy_readme_metrics),
        cmocka_unit_test(test_legacy_metrics_resource_attributes),
        cmocka_unit_test(test_legacy_logs_severity_number),
        cmocka_unit_test(test_legacy_logs_properties),
        cmocka_unit_test(test_legacy_empty_sections),
        cmocka_unit_test(test_legacy_config_errors),
        cmocka_unit_test(test_legacy_warnings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
