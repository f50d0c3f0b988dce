/* test_pipeline.c — the service: config checks with their positions, pipeline descriptions,
 * warnings, --set and file merging, the connector graph (wiring, cycles), data flowing through
 * real components (forward connector, batch processor, debug exporter), start-up failure, and
 * the fan-out's answers and reference discipline with fake consumers.
 * The idea: everything is observed through the public service API and the telemetry registry
 * the components count into, never by peeking inside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "core/batch.h"
#include "core/component.h"
#include "core/fanout.h"
#include "core/log.h"
#include "core/service.h"
#include "core/telemetry.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

/* ---- helpers --------------------------------------------------------------------------------- */

static struct service *load_ok(const char *yaml)
{
    struct error err = {0};
    struct service *s = service_load_string(yaml, &err);
    if (!s)
        fail_msg("config should load, got: %s", err.msg);
    return s;
}

/* Loads yaml expecting failure; the message must contain every fragment given. */
static void load_fails(const char *yaml, ...)
{
    struct error err = {0};
    struct service *s = service_load_string(yaml, &err);
    if (s) {
        service_free(s);
        fail_msg("config should be rejected:\n%s", yaml);
    }
    va_list ap;
    va_start(ap, yaml);
    for (const char *frag; (frag = va_arg(ap, const char *)) != NULL;)
        if (!strstr(err.msg, frag))
            fail_msg("error \"%s\" lacks \"%s\"", err.msg, frag);
    va_end(ap);
}

static char *describe(struct service *s, size_t i)
{
    static char buf[1024];
    return (char *)service_pipeline_describe(s, i, buf, sizeof buf);
}

/* A packed ExportTraceServiceRequest with n spans, as a batch. */
static struct batch *trace_batch(size_t n)
{
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs =
        OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    Opentelemetry__Proto__Trace__V1__ScopeSpans ss = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    Opentelemetry__Proto__Trace__V1__Span *spans = calloc(n, sizeof *spans);
    Opentelemetry__Proto__Trace__V1__Span **sp = calloc(n, sizeof *sp);
    uint8_t tid[16], sid[8];
    memset(tid, 0xab, sizeof tid);
    for (size_t i = 0; i < n; i++) {
        Opentelemetry__Proto__Trace__V1__Span init = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
        spans[i] = init;
        memset(sid, (int)(i + 1), sizeof sid);
        spans[i].trace_id.data = tid;
        spans[i].trace_id.len = sizeof tid;
        spans[i].span_id.data = malloc(sizeof sid);
        memcpy(spans[i].span_id.data, sid, sizeof sid);
        spans[i].span_id.len = sizeof sid;
        spans[i].name = "chat gpt-4o";
        sp[i] = &spans[i];
    }
    ss.n_spans = n;
    ss.spans = sp;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp = &ss;
    rs.n_scope_spans = 1;
    rs.scope_spans = &ssp;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp = &rs;
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;
    size_t len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(&req);
    uint8_t *buf = malloc(len);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, buf);
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    if (!b)
        fail_msg("batch_from_wire: %s", err.msg);
    for (size_t i = 0; i < n; i++)
        free(spans[i].span_id.data);
    free(spans);
    free(sp);
    free(buf);
    return b;
}

static int64_t sent_spans(struct service *s, const char *exporter_id)
{
    char labels[128];
    snprintf(labels, sizeof labels, "exporter=\"%s\"", exporter_id);
    return telemetry_value(service_telemetry(s), "otelcol_exporter_sent_spans", labels);
}

static char *write_temp(const char *content)
{
    char *path = strdup("/tmp/test_pipeline_XXXXXX.yaml");
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    size_t len = strlen(content);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

/* A config fragment shared by most tests: the otlp receiver on an ephemeral loopback port, so
 * that starting the service never collides with anything. */
#define RECEIVER                                                                                 \
    "receivers:\n"                                                                               \
    "  otlp:\n"                                                                                  \
    "    protocols:\n"                                                                           \
    "      grpc:\n"                                                                              \
    "        endpoint: 127.0.0.1:0\n"

/* Services these tests start serve no /metrics: the default localhost:8888 may be taken by
 * another process on the machine (test_telemetry_server covers the endpoint). */
#define NO_METRICS "  telemetry: {metrics: {level: none}}\n"

/* ---- descriptions, warnings ------------------------------------------------------------------ */

static void test_describe_pipelines(void **state)
{
    (void)state;
    struct service *s = load_ok(RECEIVER
                                "processors:\n"
                                "  batch:\n"
                                "  batch/big: {send_batch_size: 100}\n"
                                "exporters:\n"
                                "  debug:\n"
                                "  debug/2: {verbosity: basic}\n"
                                "service:\n"
                                "  pipelines:\n"
                                "    traces/x:\n"
                                "      receivers: [otlp]\n"
                                "      processors: [batch, batch/big]\n"
                                "      exporters: [debug, debug/2]\n"
                                "    metrics:\n"
                                "      receivers: [ otlp ]\n"
                                "      exporters: [debug]\n"
                                "    logs:\n"
                                "      receivers: [otlp]\n"
                                "      processors: [batch]\n"
                                "      exporters: [debug/2]\n");
    assert_int_equal(service_pipeline_count(s), 3);
    assert_string_equal(describe(s, 0), "traces/x: [otlp] -> [batch, batch/big] -> [debug, debug/2]");
    assert_string_equal(describe(s, 1), "metrics: [otlp] -> [] -> [debug]");
    assert_string_equal(describe(s, 2), "logs: [otlp] -> [batch] -> [debug/2]");
    assert_int_equal(service_warning_count(s), 0);
    char small[12];
    service_pipeline_describe(s, 0, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1); /* truncated, terminated */
    service_free(s);
}

static void test_id_whitespace_trimmed(void **state)
{
    (void)state;
    struct service *s = load_ok(RECEIVER
                                "exporters:\n"
                                "  \"debug / a\":\n"
                                "service:\n"
                                "  pipelines:\n"
                                "    \" traces / t \":\n"
                                "      receivers: [otlp]\n"
                                "      exporters: [debug/a]\n");
    assert_string_equal(describe(s, 0), "traces/t: [otlp] -> [] -> [debug/a]");
    service_free(s);
}

static void test_unused_components_warn(void **state)
{
    (void)state;
    struct service *s = load_ok(RECEIVER
                                "processors:\n"
                                "  batch:\n"
                                "exporters:\n"
                                "  debug:\n"
                                "  debug/unused:\n"
                                "connectors:\n"
                                "  forward:\n"
                                "service:\n"
                                "  pipelines:\n"
                                "    traces:\n"
                                "      receivers: [otlp]\n"
                                "      exporters: [debug]\n");
    assert_int_equal(service_warning_count(s), 3);
    assert_non_null(strstr(service_warning(s, 0), "processor 'batch' is defined but not used"));
    assert_non_null(strstr(service_warning(s, 0), "<string>:7:3"));
    assert_non_null(strstr(service_warning(s, 1), "exporter 'debug/unused'"));
    assert_non_null(strstr(service_warning(s, 1), "<string>:10:3"));
    assert_non_null(strstr(service_warning(s, 2), "connector 'forward'"));
    assert_null(service_warning(s, 3));
    service_free(s);
}

static void test_telemetry_section_accepted(void **state)
{
    (void)state;
    enum log_level before = log_get_level();
    struct service *s = load_ok(RECEIVER
                                "exporters:\n"
                                "  debug:\n"
                                "service:\n"
                                "  telemetry:\n"
                                "    logs: {level: warn, encoding: json}\n"
                                "    metrics:\n"
                                "      level: detailed\n"
                                "      readers:\n"
                                "        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: 8888}}}\n"
                                "    resource: {service.name: llmotlp}\n"
                                "  pipelines:\n"
                                "    traces: {receivers: [otlp], exporters: [debug]}\n");
    assert_int_equal(log_get_level(), LOG_WARN);
    service_free(s);
    log_set_level(before);
}

/* ---- config errors --------------------------------------------------------------------------- */

static void test_error_unknown_top_level(void **state)
{
    (void)state;
    load_fails(RECEIVER
               "exporter:\n"
               "  debug:\n",
               "<string>:6:1", "unknown top-level key 'exporter'",
               "receivers, processors, exporters, connectors, extensions, service", NULL);
}

static void test_error_unknown_type(void **state)
{
    (void)state;
    load_fails("receivers:\n"
               "  foo/1:\n"
               "exporters:\n"
               "  debug:\n",
               "<string>:2:3: unknown receiver type 'foo'; known types: otlp", NULL);
    load_fails(RECEIVER
               "connectors:\n"
               "  spanmetrics:\n",
               "<string>:7:3: unknown connector type 'spanmetrics'; known types: forward", NULL);
    load_fails(RECEIVER
               "extensions:\n"
               "  sigv4auth:\n",
               "<string>:7:3: unknown extension type 'sigv4auth'; known types: health_check", NULL);
}

static void test_error_bad_ids(void **state)
{
    (void)state;
    load_fails("exporters:\n"
               "  1debug:\n",
               "<string>:2:3", "invalid ID '1debug'", NULL);
    load_fails("exporters:\n"
               "  debug/:\n",
               "<string>:2:3", "invalid ID 'debug/'", NULL);
    load_fails("exporters:\n"
               "  \"debug/a b\":\n",
               "<string>:2:3", "invalid ID", NULL);
}

static void test_error_component_config(void **state)
{
    (void)state;
    /* the binder's message for an unknown key keeps its own position */
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "    verbose: 1\n",
               "<string>:8:5", "verbose", NULL);
    /* a receiver's own validate: prefixed with where and which */
    load_fails("receivers:\n"
               "  otlp/x:\n"
               "    protocols: {}\n",
               "<string>:2:3: receiver 'otlp/x': ", "protocol", NULL);
}

static void test_error_service_keys(void **state)
{
    (void)state;
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipeline:\n"
               "    traces: {receivers: [otlp], exporters: [debug]}\n",
               "<string>:9:3", "unknown key 'service.pipeline'", "extensions, pipelines, telemetry",
               NULL);
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n",
               "missing 'service'", NULL);
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipelines: {}\n",
               "at least one pipeline", NULL);
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  telemetry:\n"
               "    logs:\n"
               "      level: loud\n"
               "  pipelines:\n"
               "    traces: {receivers: [otlp], exporters: [debug]}\n",
               "<string>:11:14", "unknown level 'loud'", NULL);
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  extensions: [health_check]\n"
               "  pipelines:\n"
               "    traces: {receivers: [otlp], exporters: [debug]}\n",
               "<string>:9:16", "extension 'health_check' is not defined", NULL);
}

static void test_error_signals(void **state)
{
    (void)state;
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipelines:\n"
               "    spans:\n"
               "      receivers: [otlp]\n"
               "      exporters: [debug]\n",
               "<string>:10:5", "unknown signal 'spans'", "traces, metrics, logs", NULL);
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipelines:\n"
               "    profiles/p:\n"
               "      receivers: [otlp]\n"
               "      exporters: [debug]\n",
               "<string>:10:5", "profiles", "not supported", NULL);
}

static void test_error_references(void **state)
{
    (void)state;
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipelines:\n"
               "    traces:\n"
               "      receivers: [otlp, otlp/2]\n"
               "      exporters: [debug]\n",
               "<string>:11:25", "receiver 'otlp/2'", "not defined", "'receivers' and 'connectors'",
               NULL);
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipelines:\n"
               "    traces:\n"
               "      receivers: [otlp]\n"
               "      processors:\n"
               "        - batch\n"
               "      exporters: [debug]\n",
               "<string>:13:11", "processor 'batch'", "'processors'", NULL);
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipelines:\n"
               "    traces:\n"
               "      receivers: [otlp]\n"
               "      exporters: [debug, otlp]\n",
               "<string>:12:26", "exporter 'otlp'", "'exporters' and 'connectors'", NULL);
    /* a processor is not looked up among exporters */
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipelines:\n"
               "    traces:\n"
               "      receivers: [otlp]\n"
               "      processors: [debug]\n"
               "      exporters: [debug]\n",
               "<string>:12:20", "processor 'debug'", NULL);
}

static void test_error_empty_and_duplicate_lists(void **state)
{
    (void)state;
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipelines:\n"
               "    traces:\n"
               "      exporters: [debug]\n",
               "<string>:10:5", "pipeline 'traces' must have at least one receiver", NULL);
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipelines:\n"
               "    logs/a:\n"
               "      receivers: [otlp]\n"
               "      exporters: []\n",
               "<string>:10:5", "pipeline 'logs/a' must have at least one exporter", NULL);
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipelines:\n"
               "    traces:\n"
               "      receivers: [otlp]\n"
               "      exporters: [debug, debug]\n",
               "<string>:12:26", "lists exporter 'debug' twice", NULL);
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "service:\n"
               "  pipelines:\n"
               "    traces:\n"
               "      receivers: [otlp]\n"
               "      exporters: [debug]\n"
               "      processor: [batch]\n",
               "<string>:13:7", "unknown key 'processor'", NULL);
}

static void test_error_connector_wiring(void **state)
{
    (void)state;
    /* exporter side only */
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "connectors:\n"
               "  forward:\n"
               "service:\n"
               "  pipelines:\n"
               "    traces:\n"
               "      receivers: [otlp]\n"
               "      exporters: [forward, debug]\n",
               "<string>:14:19", "connector 'forward' is used as exporter in pipeline 'traces'",
               NULL);
    /* receiver side only */
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "connectors:\n"
               "  forward:\n"
               "service:\n"
               "  pipelines:\n"
               "    traces:\n"
               "      receivers: [otlp]\n"
               "      exporters: [debug]\n"
               "    traces/2:\n"
               "      receivers: [forward]\n"
               "      exporters: [debug]\n",
               "<string>:16:19", "connector 'forward' is used as receiver in pipeline 'traces/2'",
               NULL);
    /* forward keeps the signal: traces cannot come out as metrics */
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "connectors:\n"
               "  forward:\n"
               "service:\n"
               "  pipelines:\n"
               "    traces:\n"
               "      receivers: [otlp]\n"
               "      exporters: [forward]\n"
               "    metrics:\n"
               "      receivers: [forward]\n"
               "      exporters: [debug]\n",
               "connector 'forward'", NULL);
}

static void test_error_cycle(void **state)
{
    (void)state;
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "connectors:\n"
               "  forward:\n"
               "  forward/back:\n"
               "service:\n"
               "  pipelines:\n"
               "    traces:\n"
               "      receivers: [otlp, forward/back]\n"
               "      exporters: [forward, debug]\n"
               "    traces/2:\n"
               "      receivers: [forward]\n"
               "      exporters: [forward/back]\n",
               "cycle in the pipeline graph",
               "traces -> forward -> traces/2 -> forward/back -> traces", NULL);
    /* a pipeline feeding itself */
    load_fails(RECEIVER
               "exporters:\n"
               "  debug:\n"
               "connectors:\n"
               "  forward:\n"
               "service:\n"
               "  pipelines:\n"
               "    logs:\n"
               "      receivers: [otlp, forward]\n"
               "      exporters: [debug, forward]\n",
               "cycle", "logs -> forward -> logs", NULL);
}

/* ---- --set, files ---------------------------------------------------------------------------- */

static const char *const file_base = RECEIVER
    "exporters:\n"
    "  debug:\n"
    "    verbosity: loud\n"
    "  debug/2:\n"
    "service:\n"
    "  pipelines:\n"
    "    traces:\n"
    "      receivers: [otlp]\n"
    "      exporters: [debug]\n";

static void test_set_overrides(void **state)
{
    (void)state;
    char *path = write_temp(file_base);
    const char *paths[] = {path};
    struct error err = {0};

    /* the file alone is invalid (verbosity) */
    struct service *s = service_load(paths, 1, NULL, 0, &err);
    assert_null(s);
    assert_non_null(strstr(err.msg, "verbosity"));

    /* --set fixes the exporter field and rewires the pipeline */
    const char *sets[] = {"exporters::debug::verbosity=detailed",
                          "service::pipelines::traces::exporters=[debug, debug/2]"};
    memset(&err, 0, sizeof err);
    s = service_load(paths, 1, sets, 2, &err);
    if (!s)
        fail_msg("load with --set: %s", err.msg);
    assert_string_equal(describe(s, 0), "traces: [otlp] -> [] -> [debug, debug/2]");
    assert_int_equal(service_warning_count(s), 0);
    service_free(s);

    /* a --set that makes it wrong is reported */
    const char *bad[] = {"exporters::debug::verbosity=detailed",
                         "service::pipelines::traces::exporters=[nope]"};
    memset(&err, 0, sizeof err);
    s = service_load(paths, 1, bad, 2, &err);
    assert_null(s);
    assert_non_null(strstr(err.msg, "exporter 'nope'"));
    unlink(path);
    free(path);
}

static void test_merge_files(void **state)
{
    (void)state;
    char *a = write_temp(file_base);
    char *b = write_temp("exporters:\n"
                         "  debug:\n"
                         "    verbosity: basic\n"
                         "service:\n"
                         "  pipelines:\n"
                         "    logs:\n"
                         "      receivers: [otlp]\n"
                         "      exporters: [debug/2]\n");
    const char *paths[] = {a, b};
    struct error err = {0};
    struct service *s = service_load(paths, 2, NULL, 0, &err);
    if (!s)
        fail_msg("merged load: %s", err.msg);
    assert_int_equal(service_pipeline_count(s), 2);
    assert_string_equal(describe(s, 0), "traces: [otlp] -> [] -> [debug]");
    assert_string_equal(describe(s, 1), "logs: [otlp] -> [] -> [debug/2]");
    service_free(s);
    /* errors in a file name that file */
    const char *missing[] = {"/nonexistent/llmotlp.yaml"};
    memset(&err, 0, sizeof err);
    assert_null(service_load(missing, 1, NULL, 0, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/llmotlp.yaml"));
    unlink(a);
    unlink(b);
    free(a);
    free(b);
}

static void test_shutdown_timeout_env(void **state)
{
    (void)state;
    const char *yaml = RECEIVER "exporters: {debug: }\n"
                                "service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n";
    unsetenv("LLMOTLP_SHUTDOWN_TIMEOUT");
    struct service *s = load_ok(yaml);
    assert_int_equal(service_shutdown_timeout_ns(s), 10 * (int64_t)1000000000);
    service_free(s);
    setenv("LLMOTLP_SHUTDOWN_TIMEOUT", "1500ms", 1);
    s = load_ok(yaml);
    assert_int_equal(service_shutdown_timeout_ns(s), 1500 * (int64_t)1000000);
    service_free(s);
    unsetenv("LLMOTLP_SHUTDOWN_TIMEOUT");
}

/* ---- running graphs -------------------------------------------------------------------------- */

static void test_forward_connector_flow(void **state)
{
    (void)state;
    struct service *s = load_ok(RECEIVER
                                "exporters:\n"
                                "  debug:\n"
                                "    verbosity: basic\n"
                                "  debug/2:\n"
                                "    verbosity: basic\n"
                                "  debug/3:\n"
                                "    verbosity: basic\n"
                                "connectors:\n"
                                "  forward:\n"
                                "service:\n"
                                NO_METRICS
                                "  pipelines:\n"
                                "    traces:\n"
                                "      receivers: [otlp]\n"
                                "      exporters: [forward, debug]\n"
                                "    traces/2:\n"
                                "      receivers: [forward]\n"
                                "      exporters: [debug/2]\n"
                                "    traces/3:\n"
                                "      receivers: [forward]\n"
                                "      exporters: [debug/3]\n");
    assert_null(service_pipeline_entry(s, "traces")); /* not built yet */
    struct error err = {0};
    if (service_start(s, &err) != 0)
        fail_msg("start: %s", err.msg);
    struct consumer *entry = service_pipeline_entry(s, "traces");
    assert_non_null(entry);
    assert_null(service_pipeline_entry(s, "metrics"));

    struct batch *b = trace_batch(3);
    assert_int_equal(consumer_send(entry, b), CONSUME_OK);
    batch_unref(b);
    assert_int_equal(sent_spans(s, "debug"), 3);
    assert_int_equal(sent_spans(s, "debug/2"), 3);
    assert_int_equal(sent_spans(s, "debug/3"), 3);

    /* entering the second pipeline directly reaches only its own exporter */
    b = trace_batch(2);
    assert_int_equal(consumer_send(service_pipeline_entry(s, "traces/2"), b), CONSUME_OK);
    batch_unref(b);
    assert_int_equal(sent_spans(s, "debug"), 3);
    assert_int_equal(sent_spans(s, "debug/2"), 5);
    assert_int_equal(sent_spans(s, "debug/3"), 3);

    service_shutdown(s, clock_now_ns() + 5 * (int64_t)1000000000);
    service_free(s);
}

/* A batch processor holding spans flushes them at shutdown through a connector into a later
 * pipeline: shutdown must go upstream first, exporters last. */
static void test_shutdown_flushes_in_order(void **state)
{
    (void)state;
    struct service *s = load_ok(RECEIVER
                                "processors:\n"
                                "  batch:\n"
                                "    send_batch_size: 100000\n"
                                "    timeout: 1h\n"
                                "exporters:\n"
                                "  debug:\n"
                                "    verbosity: basic\n"
                                "connectors:\n"
                                "  forward:\n"
                                "service:\n"
                                NO_METRICS
                                "  pipelines:\n"
                                "    traces/in:\n"
                                "      receivers: [otlp]\n"
                                "      processors: [batch]\n"
                                "      exporters: [forward]\n"
                                "    traces/out:\n"
                                "      receivers: [forward]\n"
                                "      processors: [batch]\n"
                                "      exporters: [debug]\n");
    assert_string_equal(describe(s, 0), "traces/in: [otlp] -> [batch] -> [forward]");
    struct error err = {0};
    if (service_start(s, &err) != 0)
        fail_msg("start: %s", err.msg);
    for (int i = 0; i < 4; i++) {
        struct batch *b = trace_batch(5);
        assert_int_equal(consumer_send(service_pipeline_entry(s, "traces/in"), b), CONSUME_OK);
        batch_unref(b);
    }
    assert_int_equal(sent_spans(s, "debug"), 0); /* held by the first batch processor */
    struct telemetry *t = service_telemetry(s);
    const char *in_labels = "processor=\"batch\",pipeline=\"traces/in\",otel_signal=\"traces\"";
    const char *out_labels = "processor=\"batch\",pipeline=\"traces/out\",otel_signal=\"traces\"";
    assert_int_equal(telemetry_value(t, "otelcol_processor_incoming_items", in_labels), 20);
    assert_int_equal(telemetry_value(t, "otelcol_processor_outgoing_items", in_labels), 0);
    service_shutdown(s, clock_now_ns() + 5 * (int64_t)1000000000);
    assert_int_equal(sent_spans(s, "debug"), 20);
    /* each processor instance counts its own pipeline's flow */
    assert_int_equal(telemetry_value(t, "otelcol_processor_outgoing_items", in_labels), 20);
    assert_int_equal(telemetry_value(t, "otelcol_processor_incoming_items", out_labels), 20);
    assert_int_equal(telemetry_value(t, "otelcol_processor_outgoing_items", out_labels), 20);
    service_free(s);
}

static void test_start_fails_on_busy_port(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t alen = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &alen), 0);
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "receivers:\n"
             "  otlp:\n"
             "    protocols:\n"
             "      grpc:\n"
             "        endpoint: 127.0.0.1:%d\n"
             "exporters:\n"
             "  debug:\n"
             "service:\n"
             NO_METRICS
             "  pipelines:\n"
             "    traces: {receivers: [otlp], exporters: [debug]}\n",
             ntohs(addr.sin_port));
    struct service *s = load_ok(yaml);
    struct error err = {0};
    assert_int_equal(service_start(s, &err), -1);
    assert_non_null(strstr(err.msg, "receiver/otlp"));
    service_free(s); /* what started is already shut down; freeing must be clean */
    close(fd);
}

/* ---- fan-out --------------------------------------------------------------------------------- */

struct fake {
    struct consumer base;
    enum consume_status answer;
    int calls;
    int refs_seen;
};

static enum consume_status fake_consume(struct consumer *self, struct batch *b)
{
    struct fake *f = (struct fake *)self;
    f->calls++;
    f->refs_seen = atomic_load(&b->refs);
    return f->answer;
}

static enum consume_status fanout_with(enum consume_status a, enum consume_status b,
                                       enum consume_status c, struct fake out[3])
{
    struct consumer *items[3];
    for (int i = 0; i < 3; i++) {
        out[i] = (struct fake){.base.consume = fake_consume};
        items[i] = &out[i].base;
    }
    out[0].answer = a;
    out[1].answer = b;
    out[2].answer = c;
    struct fanout *f = fanout_new(items, 3);
    assert_non_null(f);
    assert_int_equal(fanout_count(f), 3);
    struct batch *batch = trace_batch(1);
    enum consume_status st = consumer_send(fanout_consumer(f), batch);
    assert_int_equal(atomic_load(&batch->refs), 1); /* the fan-out gave its reference back */
    batch_unref(batch);
    fanout_free(f);
    return st;
}

static void test_fanout_results(void **state)
{
    (void)state;
    struct fake f[3];
    assert_int_equal(fanout_with(CONSUME_OK, CONSUME_OK, CONSUME_OK, f), CONSUME_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f[i].calls, 1);
        /* each consumer sees the batch shared, so an editor would copy it */
        assert_true(f[i].refs_seen >= 2);
    }
    assert_int_equal(fanout_with(CONSUME_OK, CONSUME_REJECT, CONSUME_OK, f), CONSUME_REJECT);
    assert_int_equal(f[2].calls, 1); /* a refusal does not stop delivery to the others */
    assert_int_equal(fanout_with(CONSUME_REJECT, CONSUME_RETRY, CONSUME_OK, f), CONSUME_RETRY);
    assert_int_equal(fanout_with(CONSUME_RETRY, CONSUME_OK, CONSUME_REJECT, f), CONSUME_RETRY);
}

static void test_fanout_single(void **state)
{
    (void)state;
    struct fake one = {.base.consume = fake_consume, .answer = CONSUME_REJECT};
    struct consumer *items[] = {&one.base};
    struct fanout *f = fanout_new(items, 1);
    assert_non_null(f);
    struct batch *b = trace_batch(1);
    assert_int_equal(consumer_send(fanout_consumer(f), b), CONSUME_REJECT);
    assert_int_equal(one.calls, 1);
    batch_unref(b);
    fanout_free(f);
    assert_null(fanout_new(items, 0));
}

/* ---- warnings: accepted keys without effect ------------------------------------------------- */

/* How many warnings contain every fragment given (NULL-terminated). */
static size_t warnings_with(const struct service *s, ...)
{
    size_t n = 0;
    for (size_t i = 0; i < service_warning_count(s); i++) {
        const char *w = service_warning(s, i);
        bool all = true;
        va_list ap;
        va_start(ap, s);
        for (const char *frag; all && (frag = va_arg(ap, const char *)) != NULL;)
            all = strstr(w, frag) != NULL;
        va_end(ap);
        n += all;
    }
    return n;
}

static void dump_warnings(const struct service *s)
{
    for (size_t i = 0; i < service_warning_count(s); i++)
        print_message("warning %zu: %s\n", i, service_warning(s, i));
}

/* Exactly one warning at `pos` ("<string>:L:C: ") naming `path`, and it says "has no effect". */
static void assert_one_warning(const struct service *s, const char *pos, const char *path)
{
    char head[256];
    snprintf(head, sizeof head, "<string>:%s: %s: ", pos, path);
    if (warnings_with(s, head, "has no effect", (const char *)NULL) != 1) {
        dump_warnings(s);
        fail_msg("want exactly one warning starting \"%s\" saying \"has no effect\"", head);
    }
}

/* Every key declared no_effect in a component's table or the telemetry table: one warning each,
 * at the key, named by its path from the top of the file. Line numbers are those of the text.
 * Each is written at a value that asks for something not done here (see the next test for the
 * values that are what is done anyway). */
static void test_no_effect_keys_warn(void **state)
{
    (void)state;
    enum log_level before = log_get_level();
    struct service *s = load_ok("receivers:\n"                                           /* 1 */
                                "  otlp:\n"                                              /* 2 */
                                "    protocols:\n"                                       /* 3 */
                                "      grpc:\n"                                          /* 4 */
                                "        endpoint: 127.0.0.1:0\n"                        /* 5 */
                                "        read_buffer_size: 1024\n"                       /* 6 */
                                "        write_buffer_size: 1024\n"                      /* 7 */
                                "        include_metadata: true\n"                       /* 8 */
                                "      http:\n"                                          /* 9 */
                                "        endpoint: 127.0.0.1:0\n"                        /* 10 */
                                "        include_metadata: true\n"                       /* 11 */
                                "processors:\n"                                          /* 12 */
                                "  tail_sampling:\n"                                     /* 13 */
                                "    num_shards: 2\n"                                    /* 14 */
                                "    policies:\n"                                        /* 15 */
                                "      - name: s\n"                                      /* 16 */
                                "        type: string_attribute\n"                       /* 17 */
                                "        string_attribute:\n"                            /* 18 */
                                "          {key: k, values: [v], cache_max_size: 9}\n"   /* 19 */
                                "exporters:\n"                                           /* 20 */
                                "  debug:\n"                                             /* 21 */
                                "extensions:\n"                                          /* 22 */
                                "  file_storage:\n"                                      /* 23 */
                                "    directory: /tmp\n"                                  /* 24 */
                                "    compaction: {on_start: true, directory: /tmp}\n"    /* 25 */
                                "  health_check:\n"                                      /* 26 */
                                "    endpoint: 127.0.0.1:0\n"                            /* 27 */
                                "    check_collector_pipeline: {enabled: false}\n"       /* 28 */
                                "service:\n"                                             /* 29 */
                                "  extensions: [file_storage, health_check]\n"           /* 30 */
                                "  telemetry:\n"                                         /* 31 */
                                "    logs:\n"                                            /* 32 */
                                "      development: true\n"                              /* 33 */
                                "      sampling: {enabled: false}\n"                     /* 34 */
                                "      initial_fields: {a: b}\n"                         /* 35 */
                                "      processors: [x]\n"                                /* 36 */
                                "    metrics: {level: none, views: [x]}\n"               /* 37 */
                                "    traces: {level: basic, propagators: [tracecontext],\n" /* 38 */
                                "             processors: [x]}\n"                        /* 39 */
                                "    resource: {service.name: x}\n"                      /* 40 */
                                "  pipelines:\n"                                         /* 41 */
                                "    traces:\n"                                          /* 42 */
                                "      receivers: [otlp]\n"                              /* 43 */
                                "      processors: [tail_sampling]\n"                    /* 44 */
                                "      exporters: [debug]\n");                           /* 45 */
    assert_one_warning(s, "6:9", "receivers.otlp.protocols.grpc.read_buffer_size");
    assert_one_warning(s, "7:9", "receivers.otlp.protocols.grpc.write_buffer_size");
    assert_one_warning(s, "8:9", "receivers.otlp.protocols.grpc.include_metadata");
    assert_one_warning(s, "11:9", "receivers.otlp.protocols.http.include_metadata");
    assert_one_warning(s, "14:5", "processors.tail_sampling.num_shards");
    assert_one_warning(s, "19:33",
                       "processors.tail_sampling.policies[0].string_attribute.cache_max_size");
    /* a no_effect section is one warning at its key, not one per key inside */
    assert_one_warning(s, "25:5", "extensions.file_storage.compaction");
    assert_one_warning(s, "28:5", "extensions.health_check.check_collector_pipeline");
    assert_one_warning(s, "33:7", "service.telemetry.logs.development");
    assert_one_warning(s, "34:7", "service.telemetry.logs.sampling");
    assert_one_warning(s, "35:7", "service.telemetry.logs.initial_fields");
    assert_one_warning(s, "36:7", "service.telemetry.logs.processors");
    assert_one_warning(s, "37:28", "service.telemetry.metrics.views");
    assert_one_warning(s, "38:14", "service.telemetry.traces.level");
    assert_one_warning(s, "38:28", "service.telemetry.traces.propagators");
    assert_one_warning(s, "39:14", "service.telemetry.traces.processors");
    assert_one_warning(s, "40:5", "service.telemetry.resource");
    if (service_warning_count(s) != 17) {
        dump_warnings(s);
        fail_msg("want 17 warnings, got %zu", service_warning_count(s));
    }
    service_free(s);
    log_set_level(before);
}

/* The same keys written at the value that asks for what llmotlp does anyway (no client
 * metadata, keep-alive on, profiles off at a fraction of 0 or below, one trace store, no HTTP/2
 * health checks, no own traces, ...): the Collector would do the same, so nothing is warned. */
static void test_no_effect_keys_quiet_at_harmless_values(void **state)
{
    (void)state;
    enum log_level before = log_get_level();
    struct service *s = load_ok("receivers:\n"
                                "  otlp:\n"
                                "    protocols:\n"
                                "      grpc: {endpoint: 127.0.0.1:0, include_metadata: false}\n"
                                "      http: {endpoint: 127.0.0.1:0, include_metadata: false}\n"
                                "processors:\n"
                                "  tail_sampling:\n"
                                "    num_shards: 1\n"
                                "    policies:\n"
                                "      - name: s\n"
                                "        type: string_attribute\n"
                                "        string_attribute:\n"
                                "          {key: k, values: [v], cache_max_size: 0}\n"
                                "exporters:\n"
                                "  otlphttp:\n"
                                "    endpoint: http://127.0.0.1:1\n"
                                "    http2_read_idle_timeout: 0s\n"
                                "    http2_ping_timeout: 0\n"
                                "    force_attempt_http2: true\n"
                                "extensions:\n"
                                "  zpages:\n"
                                "    endpoint: 127.0.0.1:0\n"
                                "    include_metadata: false\n"
                                "    keep_alives_enabled: true\n"
                                "  pprof:\n"
                                "    endpoint: 127.0.0.1:0\n"
                                "    block_profile_fraction: 0\n"
                                "    mutex_profile_fraction: -1\n"
                                "    save_to_file: \"\"\n"
                                "service:\n"
                                "  extensions: [zpages, pprof]\n"
                                "  telemetry:\n"
                                "    logs: {development: false, processors: []}\n"
                                "    metrics: {level: none, views: []}\n"
                                "    traces: {level: none, propagators: [], processors: []}\n"
                                "  pipelines:\n"
                                "    traces:\n"
                                "      receivers: [otlp]\n"
                                "      processors: [tail_sampling]\n"
                                "      exporters: [otlphttp]\n");
    if (service_warning_count(s) != 0) {
        dump_warnings(s);
        fail_msg("want no warnings, got %zu", service_warning_count(s));
    }
    service_free(s);
    log_set_level(before);
}

#define TEL_PIPE                                                                               \
    "receivers: {otlp: {protocols: {grpc: {endpoint: 127.0.0.1:0}}}}\n"                     \
    "exporters: {debug: {}}\n"                                                              \
    "service:\n"                                                                            \
    "  pipelines: {traces: {receivers: [otlp], exporters: [debug]}}\n"                      \
    "  telemetry:\n"

/* service.telemetry.resource.attributes_list: the schema's form even without `attributes`, read
 * as the OpenTelemetry SDK reads OTEL_RESOURCE_ATTRIBUTES (split at commas, key and value
 * trimmed, the value percent-decoded or kept as written when that fails, an entry without '='
 * skipped with a warning); `attributes` outranks it; schema_url is warned at its own path. */
static void test_telemetry_resource_attributes_list(void **state)
{
    (void)state;
    enum log_level before = log_get_level();
    struct service *s = load_ok(TEL_PIPE
                                "    metrics: {level: none}\n"
                                "    resource:\n"                                          /* 7 */
                                "      attributes_list: team=platform,region=eu-west-1\n");
    assert_string_equal(service_resource_attribute(s, "team"), "platform");
    assert_string_equal(service_resource_attribute(s, "region"), "eu-west-1");
    assert_null(service_resource_attribute(s, "attributes_list"));
    assert_string_equal(service_resource_attribute(s, "service.name"), "llmotlp");
    service_free(s);

    s = load_ok(TEL_PIPE
                "    metrics: {level: none}\n"
                "    resource:\n"                                                          /* 7 */
                "      attributes_list: ' a = x%20y , b=%zz,bad, c=1=2,service.name=l'\n"  /* 8 */
                "      schema_url: https://opentelemetry.io/schemas/1.26.0\n"              /* 9 */
                "      attributes: [{name: service.name, value: from-attributes}]\n");
    assert_string_equal(service_resource_attribute(s, "a"), "x y");
    assert_string_equal(service_resource_attribute(s, "b"), "%zz");
    assert_string_equal(service_resource_attribute(s, "c"), "1=2");
    assert_null(service_resource_attribute(s, "bad"));
    assert_string_equal(service_resource_attribute(s, "service.name"), "from-attributes");
    assert_int_equal(warnings_with(s, "<string>:8:7: service.telemetry.resource.attributes_list: "
                                      "entry \"bad\" is not key=value: skipped",
                                   (const char *)NULL), 1);
    assert_int_equal(warnings_with(s, "<string>:9:7: service.telemetry.resource.schema_url: has no "
                                      "effect", (const char *)NULL), 1);
    service_free(s);

    /* the Collector's inline map is still a map of attributes */
    s = load_ok(TEL_PIPE
                "    metrics: {level: none}\n"
                "    resource: {team: platform, service.name: ~}\n");
    assert_string_equal(service_resource_attribute(s, "team"), "platform");
    assert_null(service_resource_attribute(s, "service.name"));
    service_free(s);
    log_set_level(before);
}

/* The pull reader's naming options: quiet at the values the endpoint serves (those of the
 * Collector's default reader), warned at the key with what is served otherwise; a value of the
 * wrong type is an error at its position. */
static void test_telemetry_prometheus_reader_options(void **state)
{
    (void)state;
    enum log_level before = log_get_level();
    struct service *s = load_ok(TEL_PIPE
                                "    metrics:\n"                                           /* 6 */
                                "      readers:\n"                                         /* 7 */
                                "        - pull:\n"                                        /* 8 */
                                "            exporter:\n"                                  /* 9 */
                                "              prometheus:\n"                              /* 10 */
                                "                host: 127.0.0.1\n"                        /* 11 */
                                "                port: 0\n"                                /* 12 */
                                "                without_units: true\n"                    /* 13 */
                                "                without_type_suffix: true\n"              /* 14 */
                                "                without_scope_info: true\n"               /* 15 */
                                "                with_resource_constant_labels:\n"         /* 16 */
                                "                  included: []\n");                       /* 17 */
    if (service_warning_count(s) != 0) {
        dump_warnings(s);
        fail_msg("want no warnings, got %zu", service_warning_count(s));
    }
    service_free(s);

    s = load_ok(TEL_PIPE
                "    metrics:\n"                                                           /* 6 */
                "      readers:\n"                                                         /* 7 */
                "        - pull:\n"                                                        /* 8 */
                "            exporter:\n"                                                  /* 9 */
                "              prometheus:\n"                                              /* 10 */
                "                host: 127.0.0.1\n"                                        /* 11 */
                "                without_units: false\n"                                   /* 12 */
                "                without_type_suffix: false\n"                             /* 13 */
                "                without_scope_info: false\n"                              /* 14 */
                "                with_resource_constant_labels: {excluded: [a]}\n");       /* 15 */
    const char *p = "service.telemetry.metrics.readers[0].pull.exporter.prometheus";
    char head[256];
    snprintf(head, sizeof head, "<string>:12:17: %s.without_units: false has no effect: ", p);
    assert_int_equal(warnings_with(s, head, "unit suffix", (const char *)NULL), 1);
    snprintf(head, sizeof head, "<string>:13:17: %s.without_type_suffix: false has no effect: ", p);
    assert_int_equal(warnings_with(s, head, "_total", (const char *)NULL), 1);
    snprintf(head, sizeof head, "<string>:14:17: %s.without_scope_info: false has no effect: ", p);
    assert_int_equal(warnings_with(s, head, "otel_scope", (const char *)NULL), 1);
    snprintf(head, sizeof head, "<string>:15:17: %s.with_resource_constant_labels: has no effect: ",
             p);
    assert_int_equal(warnings_with(s, head, "not added as labels", (const char *)NULL), 1);
    assert_int_equal(service_warning_count(s), 4);
    service_free(s);

    load_fails(TEL_PIPE
               "    metrics:\n"
               "      readers: [{pull: {exporter: {prometheus: {without_units: maybe}}}}]\n",
               "<string>:7:", "without_units: expected true or false", (const char *)NULL);
    log_set_level(before);
}

/* The otlphttp exporter's keys without effect here (Go http.Transport knobs, profiles): one
 * warning each at the key. */
static void test_exporter_no_effect_keys_warn(void **state)
{
    (void)state;
    enum log_level before = log_get_level();
    struct service *s = load_ok("receivers:\n"                                           /* 1 */
                                "  otlp:\n"                                              /* 2 */
                                "    protocols: {grpc: {endpoint: 127.0.0.1:0}}\n"       /* 3 */
                                "exporters:\n"                                           /* 4 */
                                "  otlphttp:\n"                                          /* 5 */
                                "    endpoint: http://127.0.0.1:1\n"                     /* 6 */
                                "    profiles_endpoint: http://127.0.0.1:1/p\n"          /* 7 */
                                "    write_buffer_size: 1024\n"                          /* 8 */
                                "    max_idle_conns: 10\n"                               /* 9 */
                                "    max_idle_conns_per_host: 2\n"                       /* 10 */
                                "    max_conns_per_host: 2\n"                            /* 11 */
                                "    http2_read_idle_timeout: 10s\n"                     /* 12 */
                                "    http2_ping_timeout: 5s\n"                           /* 13 */
                                "    force_attempt_http2: false\n"                       /* 14 */
                                "    idle_conn_timeout: 30s\n"                           /* 15 */
                                "service:\n"                                             /* 16 */
                                "  telemetry: {metrics: {level: none}}\n"                /* 17 */
                                "  pipelines:\n"                                         /* 18 */
                                "    traces: {receivers: [otlp], exporters: [otlphttp]}\n");
    assert_one_warning(s, "7:5", "exporters.otlphttp.profiles_endpoint");
    assert_one_warning(s, "8:5", "exporters.otlphttp.write_buffer_size");
    assert_one_warning(s, "9:5", "exporters.otlphttp.max_idle_conns");
    assert_one_warning(s, "10:5", "exporters.otlphttp.max_idle_conns_per_host");
    assert_one_warning(s, "11:5", "exporters.otlphttp.max_conns_per_host");
    assert_one_warning(s, "12:5", "exporters.otlphttp.http2_read_idle_timeout");
    assert_one_warning(s, "13:5", "exporters.otlphttp.http2_ping_timeout");
    assert_one_warning(s, "14:5", "exporters.otlphttp.force_attempt_http2");
    if (service_warning_count(s) != 8) {
        dump_warnings(s);
        fail_msg("want 8 warnings (idle_conn_timeout acts), got %zu", service_warning_count(s));
    }
    service_free(s);
    log_set_level(before);
}

/* Settings whose effect depends on another setting or on the value: warned about only when
 * they change nothing, at the key (or the list item) concerned. */
static void test_conditional_warnings(void **state)
{
    (void)state;
    enum log_level before = log_get_level();
    struct service *s = load_ok("receivers:\n"                                             /* 1 */
                                "  otlp:\n"                                                /* 2 */
                                "    protocols:\n"                                         /* 3 */
                                "      http:\n"                                            /* 4 */
                                "        endpoint: 127.0.0.1:0\n"                          /* 5 */
                                "        compression_algorithms: [gzip, zstd, deflate]\n"  /* 6 */
                                "processors:\n"                                            /* 7 */
                                "  tail_sampling:\n"                                       /* 8 */
                                "    block_on_overflow: true\n"                            /* 9 */
                                "    policies: [{name: a, type: always_sample}]\n"         /* 10 */
                                "  tail_sampling/quiet:\n"                                 /* 11 */
                                "    block_on_overflow: false\n"                           /* 12 */
                                "    policies: [{name: a, type: always_sample}]\n"         /* 13 */
                                "exporters:\n"                                             /* 14 */
                                "  otlp:\n"                                                /* 15 */
                                "    endpoint: x:4317\n"                                   /* 16 */
                                "    sending_queue: {enabled: false, storage: file_storage/fs}\n" /* 17 */
                                "extensions:\n"                                            /* 18 */
                                "  file_storage/fs: {directory: /tmp}\n"                   /* 19 */
                                "service:\n"                                               /* 20 */
                                "  extensions: [file_storage/fs]\n"                        /* 21 */
                                "  telemetry:\n"                                           /* 22 */
                                "    logs: {encoding: json, disable_caller: true,\n"       /* 23 */
                                "           disable_stacktrace: false,\n"                  /* 24 */
                                "           output_paths: [stderr], error_output_paths: [/x]}\n" /* 25 */
                                "    metrics: {level: basic}\n"                            /* 26 */
                                "  pipelines:\n"                                           /* 27 */
                                "    traces:\n"                                            /* 28 */
                                "      receivers: [otlp]\n"                                /* 29 */
                                "      processors: [tail_sampling, tail_sampling/quiet]\n" /* 30 */
                                "      exporters: [otlp]\n");                              /* 31 */
    assert_one_warning(s, "6:40", "receivers.otlp.protocols.http.compression_algorithms");
    assert_int_equal(warnings_with(s, "\"zstd\"", (const char *)NULL), 1);
    assert_one_warning(s, "9:5", "processors.tail_sampling.block_on_overflow");
    assert_int_equal(warnings_with(s, "tail_sampling/quiet", (const char *)NULL), 0);
    assert_one_warning(s, "17:37", "exporters.otlp.sending_queue.storage");
    assert_int_equal(warnings_with(s, "while sending_queue.enabled is false", (const char *)NULL),
                     1);
    /* encoding json acts (JSON lines) */
    assert_int_equal(warnings_with(s, "logs.encoding", (const char *)NULL), 0);
    assert_int_equal(log_get_encoding(), LOG_ENCODING_JSON);
    assert_one_warning(s, "24:12", "service.telemetry.logs.disable_stacktrace");
    assert_one_warning(s, "25:36", "service.telemetry.logs.error_output_paths");
    assert_one_warning(s, "26:15", "service.telemetry.metrics.level");
    /* disable_caller: true and output_paths: [stderr] are what we do anyway */
    if (service_warning_count(s) != 6) {
        dump_warnings(s);
        fail_msg("want 6 warnings, got %zu", service_warning_count(s));
    }
    service_free(s);
    log_set_level(before);
    log_set_encoding(LOG_ENCODING_CONSOLE, NULL);
}

/* A batch processor in front of an exporter with a persistent queue: one warning per batch
 * entry, at the entry in the pipeline's list, naming the exporter and sending_queue.batch;
 * through a connector too. The same graph with the queue in memory is silent. */
static void test_batch_before_persistent_queue(void **state)
{
    (void)state;
    static const char *const fmt =
        RECEIVER                                                               /* 1-5 */
        "processors:\n"                                                        /* 6 */
        "  batch:\n"                                                           /* 7 */
        "  batch/2:\n"                                                         /* 8 */
        "exporters:\n"                                                         /* 9 */
        "  otlp/disk:\n"                                                       /* 10 */
        "    endpoint: x:4317\n"                                               /* 11 */
        "    sending_queue: {%s}\n"                                            /* 12 */
        "  debug:\n"                                                           /* 13 */
        "connectors:\n"                                                        /* 14 */
        "  forward:\n"                                                         /* 15 */
        "extensions:\n"                                                        /* 16 */
        "  file_storage: {directory: /tmp}\n"                                  /* 17 */
        "service:\n"                                                           /* 18 */
        "  extensions: [file_storage]\n"                                       /* 19 */
        "  pipelines:\n"                                                       /* 20 */
        "    traces:\n"                                                        /* 21 */
        "      receivers: [otlp]\n"                                            /* 22 */
        "      processors: [batch]\n"                                          /* 23 */
        "      exporters: [debug, forward]\n"                                  /* 24 */
        "    traces/disk:\n"                                                   /* 25 */
        "      receivers: [forward]\n"                                         /* 26 */
        "      processors: [batch/2]\n"                                        /* 27 */
        "      exporters: [otlp/disk]\n"                                       /* 28 */
        "    logs:\n"                                                          /* 29 */
        "      receivers: [otlp]\n"                                            /* 30 */
        "      processors: [batch]\n"                                          /* 31 */
        "      exporters: [debug]\n";                                          /* 32 */
    char yaml[2048];
    snprintf(yaml, sizeof yaml, fmt, "storage: file_storage");
    struct service *s = load_ok(yaml);
    const char *tail = "has a persistent queue: a batch processor in front of it holds "
                       "acknowledged data in memory; use sending_queue.batch on the exporter "
                       "instead";
    assert_int_equal(warnings_with(s, "<string>:27:20: pipeline 'traces/disk': exporter "
                                      "'otlp/disk' has a persistent queue", tail,
                                   (const char *)NULL), 1);
    assert_int_equal(warnings_with(s, "<string>:23:20: pipeline 'traces': exporter 'otlp/disk' "
                                      "(through connector 'forward') has a persistent queue",
                                   tail, (const char *)NULL), 1);
    if (service_warning_count(s) != 2) { /* the logs pipeline reaches no persistent queue */
        dump_warnings(s);
        fail_msg("want 2 warnings, got %zu", service_warning_count(s));
    }
    service_free(s);

    /* in memory, or storage while the queue is off (warned about as such, not as batching) */
    snprintf(yaml, sizeof yaml, fmt, "queue_size: 10");
    s = load_ok(yaml);
    assert_int_equal(service_warning_count(s), 0);
    service_free(s);
    snprintf(yaml, sizeof yaml, fmt, "enabled: false, storage: file_storage, batch: {}");
    s = load_ok(yaml);
    assert_int_equal(service_warning_count(s), 2);
    assert_int_equal(warnings_with(s, "<string>:12:37: exporters.otlp/disk.sending_queue.storage: "
                                      "has no effect while sending_queue.enabled is false",
                                   (const char *)NULL), 1);
    assert_int_equal(warnings_with(s, "<string>:12:60: exporters.otlp/disk.sending_queue.batch: "
                                      "has no effect while sending_queue.enabled is false",
                                   (const char *)NULL), 1);
    service_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe_pipelines),
        cmocka_unit_test(test_id_whitespace_trimmed),
        cmocka_unit_test(test_unused_components_warn),
        cmocka_unit_test(test_telemetry_section_accepted),
        cmocka_unit_test(test_no_effect_keys_warn),
        cmocka_unit_test(test_exporter_no_effect_keys_warn),
        cmocka_unit_test(test_no_effect_keys_quiet_at_harmless_values),
        cmocka_unit_test(test_telemetry_resource_attributes_list),
        cmocka_unit_test(test_telemetry_prometheus_reader_options),
        cmocka_unit_test(test_conditional_warnings),
        cmocka_unit_test(test_batch_before_persistent_queue),
        cmocka_unit_test(test_error_unknown_top_level),
        cmocka_unit_test(test_error_unknown_type),
        cmocka_unit_test(test_error_bad_ids),
        cmocka_unit_test(test_error_component_config),
        cmocka_unit_test(test_error_service_keys),
        cmocka_unit_test(test_error_signals),
        cmocka_unit_test(test_error_references),
        cmocka_unit_test(test_error_empty_and_duplicate_lists),
        cmocka_unit_test(test_error_connector_wiring),
        cmocka_unit_test(test_error_cycle),
        cmocka_unit_test(test_set_overrides),
        cmocka_unit_test(test_merge_files),
        cmocka_unit_test(test_shutdown_timeout_env),
        cmocka_unit_test(test_forward_connector_flow),
        cmocka_unit_test(test_shutdown_flushes_in_order),
        cmocka_unit_test(test_start_fails_on_busy_port),
        cmocka_unit_test(test_fanout_results),
        cmocka_unit_test(test_fanout_single),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
