/* test_telemetry_server.c — the service's own metrics endpoint: which endpoint the config
 * selects (address, the first pull/prometheus reader, level none), GET /metrics over real HTTP
 * with component counters and process metrics, a busy port failing the start, and the
 * exposition text checked line by line against the Prometheus text format (families grouped,
 * one TYPE each, label values and HELP escaped, histograms as cumulative buckets, sum and count).
 * The idea: every check reads what a scraper would read, parsed, never the registry directly. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include <curl/curl.h>

#include "core/batch.h"
#include "core/component.h"
#include "core/service.h"
#include "core/telemetry.h"
#include "tests/unit/testutil.h"

/* ---- exposition checks ----------------------------------------------------------------------- */

/* Checks text against the Prometheus text format 0.0.4: every line a HELP, a TYPE or a sample
 * `name{label="value",...} number`; at most one TYPE per name, before its samples; the samples
 * of a name contiguous. A histogram family's samples are name_bucket (with `le`, counts not
 * decreasing, ending at le="+Inf"), name_sum and name_count (equal to the +Inf bucket). Fails the
 * test with the offending line. */
static void check_exposition(const char *text)
{
    regex_t sample, help, type;
    assert_int_equal(regcomp(&sample,
                             "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
                             "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
                             "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*\\})?"
                             " (-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf)$",
                             REG_EXTENDED),
                     0);
    assert_int_equal(regcomp(&help, "^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) ([^\\\\\n]|\\\\[\\\\n])*$",
                             REG_EXTENDED),
                     0);
    assert_int_equal(regcomp(&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
                                    "(counter|gauge|histogram|summary|untyped)$",
                             REG_EXTENDED),
                     0);
    char *copy = strdup(text);
    char *names[512];
    size_t n_names = 0;
    char current[256] = "";
    bool histogram = false;
    double last_bucket = -1, inf_bucket = -1;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        regmatch_t m[3];
        char name[256];
        if (strncmp(line, "# HELP ", 7) == 0) {
            if (regexec(&help, line, 0, NULL, 0) != 0)
                fail_msg("bad HELP line: %s", line);
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            if (regexec(&type, line, 3, m, 0) != 0)
                fail_msg("bad TYPE line: %s", line);
            histogram = strncmp(line + m[2].rm_so, "histogram", 9) == 0;
            last_bucket = inf_bucket = -1;
            snprintf(name, sizeof name, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
            for (size_t i = 0; i < n_names; i++)
                if (strcmp(names[i], name) == 0)
                    fail_msg("second TYPE or samples before TYPE for %s", name);
            names[n_names++] = strdup(name);
            snprintf(current, sizeof current, "%s", name);
            continue;
        }
        if (line[0] == '#')
            continue; /* comment */
        if (regexec(&sample, line, 2, m, 0) != 0)
            fail_msg("bad sample line: %s", line);
        snprintf(name, sizeof name, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
        if (histogram) {
            size_t n = strlen(current);
            const char *suffix = name + n;
            if (strncmp(name, current, n) != 0 ||
                (strcmp(suffix, "_bucket") != 0 && strcmp(suffix, "_sum") != 0 &&
                 strcmp(suffix, "_count") != 0))
                fail_msg("sample of %s outside its histogram family %s", name, current);
            double v = strtod(strrchr(line, ' ') + 1, NULL);
            if (strcmp(suffix, "_bucket") == 0) {
                const char *le = strstr(line, "le=\"");
                if (!le)
                    fail_msg("bucket without le: %s", line);
                if (last_bucket < 0 || inf_bucket >= 0)
                    last_bucket = inf_bucket = -1; /* the next series of the family */
                if (v < last_bucket)
                    fail_msg("bucket counts go down: %s", line);
                last_bucket = v;
                if (strncmp(le, "le=\"+Inf\"}", 10) == 0)
                    inf_bucket = v;
            } else if (strcmp(suffix, "_count") == 0) {
                if (inf_bucket < 0 || v != inf_bucket)
                    fail_msg("count without a matching le=\"+Inf\" bucket: %s", line);
                last_bucket = inf_bucket = -1;
            }
        } else if (strcmp(name, current) != 0) {
            fail_msg("sample of %s outside its family (current family: %s)", name, current);
        }
    }
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(copy);
    regfree(&sample);
    regfree(&help);
    regfree(&type);
}

/* The value of the sample line starting with `series` ("name{labels}" or "name"); fails when
 * absent. */
static double sample_value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    fail_msg("no sample %s in:\n%s", series, text);
    return 0;
}

/* ---- helpers --------------------------------------------------------------------------------- */

#define PIPELINE                                                                                 \
    "receivers:\n"                                                                               \
    "  otlp:\n"                                                                                  \
    "    protocols:\n"                                                                           \
    "      grpc:\n"                                                                              \
    "        endpoint: 127.0.0.1:0\n"                                                            \
    "exporters:\n"                                                                               \
    "  debug:\n"                                                                                 \
    "    verbosity: basic\n"

#define PIPELINES                                                                                \
    "  pipelines:\n"                                                                             \
    "    traces: {receivers: [otlp], exporters: [debug]}\n"

static struct service *load_ok(const char *yaml)
{
    struct error err = {0};
    struct service *s = service_load_string(yaml, &err);
    if (!s)
        fail_msg("config should load, got: %s", err.msg);
    return s;
}

static void start_ok(struct service *s)
{
    struct error err = {0};
    if (service_start(s, &err) != 0)
        fail_msg("start: %s", err.msg);
}

/* n spans (trace ID 16 bytes, span ID 8 bytes each) in one resource and scope, as a batch:
 * request.resource_spans(1) > scope_spans(2) > spans(2), every length under 128 (one byte). */
static struct batch *spans(size_t n)
{
    static const uint8_t span[] = {0x12, 0x1c, 0x0a, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                   12, 13, 14, 15, 16, 0x12, 0x08, 1, 2, 3, 4, 5, 6, 7, 8};
    size_t inner = n * sizeof span;
    assert_true(inner + 2 < 128);
    uint8_t buf[256];
    size_t k = 0;
    buf[k++] = 0x0a;
    buf[k++] = (uint8_t)(inner + 2);
    buf[k++] = 0x12;
    buf[k++] = (uint8_t)inner;
    for (size_t i = 0; i < n; i++) {
        memcpy(buf + k, span, sizeof span);
        k += sizeof span;
    }
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, k, &err);
    if (!b)
        fail_msg("batch: %s", err.msg);
    return b;
}

/* ---- endpoint selection ---------------------------------------------------------------------- */

static void test_endpoint_from_config(void **state)
{
    (void)state;
    struct service *s = load_ok(PIPELINE "service:\n" PIPELINES);
    assert_string_equal(service_metrics_endpoint(s), "localhost:8888");
    service_free(s);

    s = load_ok(PIPELINE "service:\n"
                         "  telemetry: {metrics: {address: 'localhost:9999'}}\n" PIPELINES);
    assert_string_equal(service_metrics_endpoint(s), "localhost:9999");
    service_free(s);

    s = load_ok(PIPELINE "service:\n"
                         "  telemetry:\n"
                         "    metrics:\n"
                         "      address: localhost:9999\n"
                         "      readers:\n"
                         "        - periodic: {exporter: {otlp: {protocol: grpc, "
                         "endpoint: 'http://x:4317'}}}\n"
                         "        - pull: {exporter: {prometheus: {host: 127.0.0.2, port: 7777}}}\n"
                         "        - pull: {exporter: {prometheus: {host: 127.0.0.3, port: 7778}}}\n"
                    PIPELINES);
    assert_string_equal(service_metrics_endpoint(s), "127.0.0.2:7777"); /* first pull wins */
    /* address replaced by readers, second pull ignored; the periodic reader pushes (it is
     * not started here: load only) */
    assert_int_equal(service_warning_count(s), 2);
    assert_non_null(strstr(service_warning(s, 0), "metrics.address: has no effect"));
    service_free(s);

    s = load_ok(PIPELINE "service:\n"
                         "  telemetry:\n"
                         "    metrics:\n"
                         "      readers: [{pull: {exporter: {prometheus: {}}}}]\n" PIPELINES);
    assert_string_equal(service_metrics_endpoint(s), "localhost:9464");
    service_free(s);

    s = load_ok(PIPELINE "service:\n"
                         "  telemetry: {metrics: {level: none, address: 127.0.0.1:0}}\n"
                    PIPELINES);
    assert_null(service_metrics_endpoint(s));
    start_ok(s);
    assert_int_equal(service_metrics_port(s), 0); /* level none: no listener */
    service_free(s);

    struct error err = {0};
    s = service_load_string(PIPELINE "service:\n"
                                     "  telemetry:\n"
                                     "    metrics:\n"
                                     "      readers: [{pull: {exporter: {prometheus: "
                                     "{port: http}}}}]\n" PIPELINES,
                            &err);
    assert_null(s);
    assert_non_null(strstr(err.msg, "port must be a number"));
    if (!strstr(err.msg, "<string>:12:"))
        fail_msg("error \"%s\" lacks its position", err.msg);
}

/* ---- serving --------------------------------------------------------------------------------- */

static void test_scrape(void **state)
{
    (void)state;
    struct service *s = load_ok(PIPELINE "  debug/b:\n"
                                         "    verbosity: basic\n"
                                         "processors:\n"
                                         "  batch:\n"
                                         "service:\n"
                                         "  telemetry:\n"
                                         "    metrics:\n"
                                         "      readers:\n"
                                         "        - pull: {exporter: {prometheus: {host: "
                                         "127.0.0.1, port: 0}}}\n"
                                         "  pipelines:\n"
                                         "    traces: {receivers: [otlp], exporters: [debug]}\n"
                                         "    traces/b: {receivers: [otlp], processors: [batch], "
                                         "exporters: [debug/b]}\n");
    assert_int_equal(service_metrics_port(s), 0); /* not before start */
    start_ok(s);
    uint16_t port = service_metrics_port(s);
    assert_true(port > 0);

    struct batch *b = spans(3);
    assert_int_equal(consumer_send(service_pipeline_entry(s, "traces"), b), CONSUME_OK);
    batch_unref(b);

    struct tu_http_reply r = tu_http_get(port, "/metrics");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    check_exposition(r.body);
    assert_int_equal(sample_value(r.body, "otelcol_exporter_sent_spans{exporter=\"debug\"}"), 3);
    assert_int_equal(sample_value(r.body, "otelcol_exporter_sent_spans{exporter=\"debug/b\"}"), 0);
    assert_non_null(strstr(r.body, "# TYPE otelcol_exporter_sent_spans counter\n"));
    assert_non_null(strstr(r.body, "# HELP otelcol_exporter_sent_spans "));
    assert_int_equal(sample_value(r.body, "otelcol_receiver_accepted_spans{receiver=\"otlp\","
                                          "transport=\"grpc\"}"),
                     0);
    assert_non_null(strstr(r.body, "{processor=\"batch\"}"));
    assert_true(sample_value(r.body, "otelcol_process_cpu_seconds") > 0);
    assert_true(sample_value(r.body, "otelcol_process_memory_rss") > 1024 * 1024);
    assert_true(sample_value(r.body, "otelcol_process_uptime") >= 0);
    assert_non_null(strstr(r.body, "# TYPE otelcol_process_memory_rss gauge\n"));
    assert_non_null(strstr(r.body, "# TYPE otelcol_process_cpu_seconds counter\n"));
    tu_http_reply_free(&r);

    b = spans(2);
    assert_int_equal(consumer_send(service_pipeline_entry(s, "traces"), b), CONSUME_OK);
    batch_unref(b);
    r = tu_http_get(port, "/metrics");
    assert_int_equal(sample_value(r.body, "otelcol_exporter_sent_spans{exporter=\"debug\"}"), 5);
    tu_http_reply_free(&r);

    r = tu_http_get(port, "/");
    assert_int_equal(r.status, 404);
    tu_http_reply_free(&r);

    service_shutdown(s, clock_now_ns() + 5 * (int64_t)1000000000);
    r = tu_http_get(port, "/metrics");
    assert_int_equal(r.status, 0); /* stopped with the service */
    tu_http_reply_free(&r);
    service_free(s);
}

static void test_busy_port_fails_start(void **state)
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
    char yaml[2048], want[128];
    snprintf(yaml, sizeof yaml,
             PIPELINE "service:\n"
                      "  telemetry: {metrics: {address: '127.0.0.1:%u'}}\n" PIPELINES,
             (unsigned)ntohs(addr.sin_port));
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%u: address in use",
             (unsigned)ntohs(addr.sin_port));
    struct service *s = load_ok(yaml);
    struct error err = {0};
    assert_int_equal(service_start(s, &err), -1);
    if (!strstr(err.msg, want))
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
    service_free(s);
    close(fd);
}

/* ---- the registry's exposition --------------------------------------------------------------- */

static void test_exposition_format(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    /* families registered interleaved, as two exporters do */
    telemetry_add(telemetry_counter(t, "x_sent", "exporter=\"a\"", "Sent.\nSecond line \\ end"), 1);
    telemetry_set(telemetry_gauge(t, "x_queue", "exporter=\"a\"", "Queue."), 7);
    telemetry_add(telemetry_counter(t, "x_sent", "exporter=\"b\"", "Sent."), 2);
    telemetry_set(telemetry_gauge(t, "x_queue", "exporter=\"b\"", "Queue."), -3);
    /* IDs holding a quote, a backslash, or looking like a label list */
    telemetry_add(telemetry_counter(t, "x_sent", "exporter=\"q\"uote\"", NULL), 3);
    telemetry_add(telemetry_counter(t, "x_sent", "exporter=\"back\\slash\"", NULL), 4);
    telemetry_add(telemetry_counter(t, "x_sent", "exporter=\"a\",x=\"1,2\"", NULL), 5);
    telemetry_add(telemetry_counter(t, "x_plain", "", "No labels."), 6);
    telemetry_add(telemetry_counter(t, "x_bad", "not labels", NULL), 9);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    telemetry_write_prometheus(t, f);
    fclose(f);
    check_exposition(text);
    const char *want =
        "# HELP x_sent Sent.\\nSecond line \\\\ end\n"
        "# TYPE x_sent counter\n"
        "x_sent{exporter=\"a\"} 1\n"
        "x_sent{exporter=\"b\"} 2\n"
        "x_sent{exporter=\"q\\\"uote\"} 3\n"
        "x_sent{exporter=\"back\\\\slash\"} 4\n"
        "x_sent{exporter=\"a\",x=\"1,2\"} 5\n"
        "# HELP x_queue Queue.\n"
        "# TYPE x_queue gauge\n"
        "x_queue{exporter=\"a\"} 7\n"
        "x_queue{exporter=\"b\"} -3\n"
        "# HELP x_plain No labels.\n"
        "# TYPE x_plain counter\n"
        "x_plain 6\n"
        "# TYPE x_bad counter\n";
    if (strncmp(text, want, strlen(want)) != 0)
        fail_msg("exposition:\n%s\nexpected to start with:\n%s", text, want);
    assert_null(strstr(text, "x_bad{")); /* an unparseable label set is left out, as a comment */
    assert_null(strstr(text, "\nx_bad "));
    free(text);
    telemetry_free(t);
}

static void test_exposition_histogram(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    static const double bounds[] = {0, 5, 10};
    /* interleaved with a counter, as components register them; two series of one family */
    struct telemetry_histogram *a =
        telemetry_histogram(t, "x_age", "processor=\"a\"", "Age.\nIn seconds.", bounds, 3);
    telemetry_add(telemetry_counter(t, "x_sent", "exporter=\"a\"", "Sent."), 1);
    struct telemetry_histogram *b =
        telemetry_histogram(t, "x_age", "processor=\"q\"uote\"", NULL, bounds, 3);
    telemetry_observe(a, 3);
    telemetry_observe(a, 12);
    telemetry_observe(b, 0);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    telemetry_write_prometheus(t, f);
    fclose(f);
    check_exposition(text);
    const char *want = "# HELP x_age Age.\\nIn seconds.\n"
                       "# TYPE x_age histogram\n"
                       "x_age_bucket{processor=\"a\",le=\"0\"} 0\n"
                       "x_age_bucket{processor=\"a\",le=\"5\"} 1\n"
                       "x_age_bucket{processor=\"a\",le=\"10\"} 1\n"
                       "x_age_bucket{processor=\"a\",le=\"+Inf\"} 2\n"
                       "x_age_sum{processor=\"a\"} 15\n"
                       "x_age_count{processor=\"a\"} 2\n"
                       "x_age_bucket{processor=\"q\\\"uote\",le=\"0\"} 1\n"
                       "x_age_bucket{processor=\"q\\\"uote\",le=\"5\"} 1\n"
                       "x_age_bucket{processor=\"q\\\"uote\",le=\"10\"} 1\n"
                       "x_age_bucket{processor=\"q\\\"uote\",le=\"+Inf\"} 1\n"
                       "x_age_sum{processor=\"q\\\"uote\"} 0\n"
                       "x_age_count{processor=\"q\\\"uote\"} 1\n"
                       "# HELP x_sent Sent.\n"
                       "# TYPE x_sent counter\n"
                       "x_sent{exporter=\"a\"} 1\n";
    if (strcmp(text, want) != 0)
        fail_msg("exposition:\n%s\nexpected:\n%s", text, want);
    assert_true(sample_value(text, "x_age_count{processor=\"a\"}") == 2);
    free(text);
    telemetry_free(t);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_from_config),
        cmocka_unit_test(test_scrape),
        cmocka_unit_test(test_busy_port_fails_start),
        cmocka_unit_test(test_exposition_format),
        cmocka_unit_test(test_exposition_histogram),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
