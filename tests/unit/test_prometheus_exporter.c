/* test_prometheus_exporter.c — the prometheus exporter: metric and label names against the
 * Collector's translation table, the spelling of numbers, and the exact text a scrape gets for
 * each metric type from hand-built OTLP requests (HELP/TYPE, cumulative buckets, +Inf, labels
 * job/instance/scope, escaping, target_info), then the state rules (cumulative replaces, delta
 * adds, NO_RECORDED_VALUE, expiration on an injected clock, type conflicts, drops counted), the
 * order a scrape keeps while series come and go, the config keys, and a real scrape over HTTP
 * with libcurl.
 *
 * The idea: every expectation is the literal exposition text Prometheus would read, so a test
 * fails on any byte that differs from what the Collector's exporter writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "exporters/prometheus/prometheus_exporter.h"
#include "exporters/prometheus/prometheus_internal.h"
#include "tests/unit/testutil.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistogramDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint SummaryDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics ResourceMetrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics ScopeMetrics;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsRequest;

#define GAUGE OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE
#define SUM OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM
#define HIST OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM
#define EXPHIST OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM
#define SUMMARY OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY
#define CUMULATIVE OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE
#define DELTA OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
#define UNSPECIFIED \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_UNSPECIFIED

#define LABELS "exporter=\"prometheus\""
#define CAP 16
#define T0 1700000000000000000ULL

/* ---- request builder ------------------------------------------------------------------------- */

/* Builds one ExportMetricsServiceRequest in an arena: resources, scopes and metrics are appended
 * to the current parent (at most CAP of each). */
struct mb {
    struct arena *a;
    MetricsRequest *req;
    ResourceMetrics *rm;
    ScopeMetrics *sm;
};

static void mb_begin(struct mb *b)
{
    b->a = arena_new(4096);
    b->req = arena_alloc(b->a, sizeof *b->req);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(b->req);
    b->req->resource_metrics = arena_alloc(b->a, CAP * sizeof(ResourceMetrics *));
    b->rm = NULL;
    b->sm = NULL;
}

static KeyValue *kv_new(struct mb *b, const char *key, int kind)
{
    KeyValue *kv = arena_alloc(b->a, sizeof *kv);
    opentelemetry__proto__common__v1__key_value__init(kv);
    kv->key = arena_strdup(b->a, key);
    kv->value = arena_alloc(b->a, sizeof *kv->value);
    opentelemetry__proto__common__v1__any_value__init(kv->value);
    kv->value->value_case = kind;
    return kv;
}

static KeyValue *kv_s(struct mb *b, const char *key, const char *v)
{
    KeyValue *kv = kv_new(b, key, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
    kv->value->string_value = arena_strdup(b->a, v);
    return kv;
}

static KeyValue *kv_i(struct mb *b, const char *key, int64_t v)
{
    KeyValue *kv = kv_new(b, key, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE);
    kv->value->int_value = v;
    return kv;
}

static KeyValue *kv_d(struct mb *b, const char *key, double v)
{
    KeyValue *kv = kv_new(b, key, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE);
    kv->value->double_value = v;
    return kv;
}

static KeyValue *kv_b(struct mb *b, const char *key, bool v)
{
    KeyValue *kv = kv_new(b, key, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE);
    kv->value->bool_value = v;
    return kv;
}

static KeyValue **kvs(struct mb *b, size_t n, ...)
{
    KeyValue **v = arena_alloc(b->a, (n ? n : 1) * sizeof *v);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        v[i] = va_arg(ap, KeyValue *);
    va_end(ap);
    return v;
}

static void mb_resource(struct mb *b, KeyValue **kv, size_t n)
{
    assert_true(b->req->n_resource_metrics < CAP);
    ResourceMetrics *rm = arena_alloc(b->a, sizeof *rm);
    opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
    rm->resource = arena_alloc(b->a, sizeof *rm->resource);
    opentelemetry__proto__resource__v1__resource__init(rm->resource);
    rm->resource->attributes = kv;
    rm->resource->n_attributes = n;
    rm->scope_metrics = arena_alloc(b->a, CAP * sizeof(ScopeMetrics *));
    b->req->resource_metrics[b->req->n_resource_metrics++] = rm;
    b->rm = rm;
    b->sm = NULL;
}

/* name NULL: a scope without an InstrumentationScope message. */
static void mb_scope(struct mb *b, const char *name, const char *version)
{
    assert_non_null(b->rm);
    assert_true(b->rm->n_scope_metrics < CAP);
    ScopeMetrics *sm = arena_alloc(b->a, sizeof *sm);
    opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
    if (name) {
        sm->scope = arena_alloc(b->a, sizeof *sm->scope);
        opentelemetry__proto__common__v1__instrumentation_scope__init(sm->scope);
        sm->scope->name = arena_strdup(b->a, name);
        sm->scope->version = arena_strdup(b->a, version ? version : "");
    }
    sm->metrics = arena_alloc(b->a, CAP * sizeof(Metric *));
    b->rm->scope_metrics[b->rm->n_scope_metrics++] = sm;
    b->sm = sm;
}

/* A metric of `kind` (temporality and monotonic apply to sums and histograms). */
static Metric *mb_metric(struct mb *b, const char *name, const char *desc, const char *unit,
                         int kind, int temporality, bool monotonic)
{
    assert_non_null(b->sm);
    assert_true(b->sm->n_metrics < CAP);
    Metric *m = arena_alloc(b->a, sizeof *m);
    opentelemetry__proto__metrics__v1__metric__init(m);
    m->name = arena_strdup(b->a, name);
    m->description = arena_strdup(b->a, desc);
    m->unit = arena_strdup(b->a, unit);
    m->data_case = kind;
    switch (kind) {
    case GAUGE:
        m->gauge = arena_alloc(b->a, sizeof *m->gauge);
        opentelemetry__proto__metrics__v1__gauge__init(m->gauge);
        m->gauge->data_points = arena_alloc(b->a, CAP * sizeof(NumberDataPoint *));
        break;
    case SUM:
        m->sum = arena_alloc(b->a, sizeof *m->sum);
        opentelemetry__proto__metrics__v1__sum__init(m->sum);
        m->sum->aggregation_temporality = temporality;
        m->sum->is_monotonic = monotonic;
        m->sum->data_points = arena_alloc(b->a, CAP * sizeof(NumberDataPoint *));
        break;
    case HIST:
        m->histogram = arena_alloc(b->a, sizeof *m->histogram);
        opentelemetry__proto__metrics__v1__histogram__init(m->histogram);
        m->histogram->aggregation_temporality = temporality;
        m->histogram->data_points = arena_alloc(b->a, CAP * sizeof(HistogramDataPoint *));
        break;
    case SUMMARY:
        m->summary = arena_alloc(b->a, sizeof *m->summary);
        opentelemetry__proto__metrics__v1__summary__init(m->summary);
        m->summary->data_points = arena_alloc(b->a, CAP * sizeof(SummaryDataPoint *));
        break;
    case EXPHIST: {
        m->exponential_histogram = arena_alloc(b->a, sizeof *m->exponential_histogram);
        opentelemetry__proto__metrics__v1__exponential_histogram__init(m->exponential_histogram);
        m->exponential_histogram->aggregation_temporality = CUMULATIVE;
        Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint *p =
            arena_alloc(b->a, sizeof *p);
        opentelemetry__proto__metrics__v1__exponential_histogram_data_point__init(p);
        p->count = 3;
        p->time_unix_nano = T0;
        m->exponential_histogram->data_points = arena_alloc(b->a, sizeof(p));
        m->exponential_histogram->data_points[0] = p;
        m->exponential_histogram->n_data_points = 1;
        break;
    }
    default:
        fail_msg("unknown kind %d", kind);
    }
    b->sm->metrics[b->sm->n_metrics++] = m;
    return m;
}

static NumberDataPoint *num_point(struct mb *b, Metric *m, uint64_t t, KeyValue **kv, size_t n)
{
    NumberDataPoint *p = arena_alloc(b->a, sizeof *p);
    opentelemetry__proto__metrics__v1__number_data_point__init(p);
    p->time_unix_nano = t;
    p->start_time_unix_nano = T0 - 1000;
    p->attributes = kv;
    p->n_attributes = n;
    if (m->data_case == GAUGE) {
        assert_true(m->gauge->n_data_points < CAP);
        m->gauge->data_points[m->gauge->n_data_points++] = p;
    } else {
        assert_true(m->sum->n_data_points < CAP);
        m->sum->data_points[m->sum->n_data_points++] = p;
    }
    return p;
}

static NumberDataPoint *pt_int(struct mb *b, Metric *m, int64_t v, uint64_t t, KeyValue **kv,
                               size_t n)
{
    NumberDataPoint *p = num_point(b, m, t, kv, n);
    p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
    p->as_int = v;
    return p;
}

static NumberDataPoint *pt_dbl(struct mb *b, Metric *m, double v, uint64_t t, KeyValue **kv,
                               size_t n)
{
    NumberDataPoint *p = num_point(b, m, t, kv, n);
    p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
    p->as_double = v;
    return p;
}

/* counts has nb + 1 entries (or pass nb = 0, counts = NULL for a histogram without buckets). */
static HistogramDataPoint *pt_hist(struct mb *b, Metric *m, const double *bounds, size_t nb,
                                   const uint64_t *counts, double sum, uint64_t t, KeyValue **kv,
                                   size_t n)
{
    HistogramDataPoint *p = arena_alloc(b->a, sizeof *p);
    opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
    p->time_unix_nano = t;
    p->start_time_unix_nano = T0 - 1000;
    p->attributes = kv;
    p->n_attributes = n;
    uint64_t total = 0;
    if (counts) {
        p->n_bucket_counts = nb + 1;
        p->bucket_counts = arena_memdup(b->a, counts, (nb + 1) * sizeof *counts);
        p->n_explicit_bounds = nb;
        p->explicit_bounds = nb ? arena_memdup(b->a, bounds, nb * sizeof *bounds) : NULL;
        for (size_t i = 0; i <= nb; i++)
            total += counts[i];
    }
    p->count = total;
    p->_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM;
    p->sum = sum;
    assert_true(m->histogram->n_data_points < CAP);
    m->histogram->data_points[m->histogram->n_data_points++] = p;
    return p;
}

static SummaryDataPoint *pt_summary(struct mb *b, Metric *m, size_t nq, const double *q,
                                    const double *v, uint64_t count, double sum, uint64_t t,
                                    KeyValue **kv, size_t n)
{
    SummaryDataPoint *p = arena_alloc(b->a, sizeof *p);
    opentelemetry__proto__metrics__v1__summary_data_point__init(p);
    p->time_unix_nano = t;
    p->attributes = kv;
    p->n_attributes = n;
    p->count = count;
    p->sum = sum;
    p->quantile_values = arena_alloc(b->a, (nq ? nq : 1) * sizeof *p->quantile_values);
    for (size_t i = 0; i < nq; i++) {
        Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile *x =
            arena_alloc(b->a, sizeof *x);
        opentelemetry__proto__metrics__v1__summary_data_point__value_at_quantile__init(x);
        x->quantile = q[i];
        x->value = v[i];
        p->quantile_values[i] = x;
    }
    p->n_quantile_values = nq;
    assert_true(m->summary->n_data_points < CAP);
    m->summary->data_points[m->summary->n_data_points++] = p;
    return p;
}

/* Packs the request into a batch (wire bytes, as a receiver would hand it on). */
static struct batch *mb_end(struct mb *b)
{
    struct batch *out = tu_pack_batch(SIGNAL_METRICS, &b->req->base);
    arena_free(b->a);
    b->a = NULL;
    return out;
}

/* ---- exporter fixture ------------------------------------------------------------------------ */

static void fx_open(struct tu_exp *e, const char *yaml)
{
    struct error err = {0};
    if (tu_exp_bind(e, &prometheus_exporter_factory, LABELS, yaml, &err) != 0)
        fail_msg("config: %s", err.msg);
    e->t = telemetry_new();
    snprintf(e->log_name, sizeof e->log_name, "exporter/prometheus");
    struct component_env env = {.id = "prometheus", .log_name = e->log_name, .telemetry = e->t};
    e->x = prometheus_exporter_factory.create(e->cfg, &env, &err);
    if (!e->x)
        fail_msg("create: %s", err.msg);
}

static void fx_close(struct tu_exp *e)
{
    prometheus_exporter_factory.destroy(e->x);
    tu_exp_unbind(e);
    telemetry_free(e->t);
}

static void feed(struct tu_exp *e, struct batch *b)
{
    assert_int_equal(prometheus_exporter_factory.consume(e->x, b), CONSUME_OK);
    batch_unref(b);
}

static char *render(struct tu_exp *e)
{
    size_t len = 0;
    char *text = prometheus_exporter_render(e->x, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

static int64_t dropped(struct tu_exp *e, const char *reason)
{
    char labels[256];
    snprintf(labels, sizeof labels, LABELS ",reason=\"%s\"", reason);
    return telemetry_value(e->t, "llmotlp_prometheus_dropped_points", labels);
}

static void assert_text(const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fail_msg("exposition differs.\n--- want ---\n%s--- got ---\n%s", want, got);
}

static void assert_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return;
    fail_msg("line not found: %s\n--- in ---\n%s", line, text);
}

static void assert_no(const char *text, const char *part)
{
    if (strstr(text, part))
        fail_msg("unexpected \"%s\" in:\n%s", part, text);
}

/* Checks text against the text format 0.0.4: every line a HELP, TYPE or sample; one TYPE per
 * family, before its samples; a family's samples contiguous (with its _bucket/_sum/_count). */
static void check_exposition(const char *text)
{
    regex_t sample, help, type;
    assert_int_equal(regcomp(&sample,
                             "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
                             "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
                             "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*\\})?"
                             " (-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf)( -?[0-9]+)?$",
                             REG_EXTENDED),
                     0);
    assert_int_equal(regcomp(&help, "^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* ([^\\\\\n]|\\\\[\\\\n])*$",
                             REG_EXTENDED),
                     0);
    assert_int_equal(regcomp(&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
                                    "(counter|gauge|histogram|summary)$",
                             REG_EXTENDED),
                     0);
    char *copy = strdup(text);
    char current[512] = "", seen[64][512];
    size_t n_seen = 0;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        regmatch_t m[2];
        if (strncmp(line, "# HELP ", 7) == 0) {
            if (regexec(&help, line, 0, NULL, 0) != 0)
                fail_msg("bad HELP line: %s", line);
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            if (regexec(&type, line, 2, m, 0) != 0)
                fail_msg("bad TYPE line: %s", line);
            snprintf(current, sizeof current, "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
                     line + m[1].rm_so);
            for (size_t i = 0; i < n_seen; i++)
                if (strcmp(seen[i], current) == 0)
                    fail_msg("second TYPE for %s", current);
            assert_true(n_seen < 64);
            snprintf(seen[n_seen++], sizeof seen[0], "%s", current);
            continue;
        }
        if (regexec(&sample, line, 2, m, 0) != 0)
            fail_msg("bad sample line: %s", line);
        char name[512];
        snprintf(name, sizeof name, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
        size_t cl = strlen(current);
        bool ok = strcmp(name, current) == 0 ||
                  (strncmp(name, current, cl) == 0 &&
                   (strcmp(name + cl, "_bucket") == 0 || strcmp(name + cl, "_sum") == 0 ||
                    strcmp(name + cl, "_count") == 0));
        if (!ok)
            fail_msg("sample of %s outside its family (current: %s)", name, current);
    }
    free(copy);
    regfree(&sample);
    regfree(&help);
    regfree(&type);
}

/* ---- names ----------------------------------------------------------------------------------- */

struct name_case {
    const char *ns, *name, *unit;
    int kind;
    bool monotonic, suffixes;
    const char *want;
};

static void test_metric_names(void **state)
{
    (void)state;
    static const struct name_case cases[] = {
        /* The examples the service's own metrics rely on. */
        {NULL, "llmproxy.request.duration", "s", HIST, false, true, "llmproxy_request_duration_seconds"},
        {NULL, "llmproxy.request.count", "{request}", SUM, true, true, "llmproxy_request_count_total"},
        {NULL, "llmproxy.cost.estimated", "{cent}", SUM, true, true, "llmproxy_cost_estimated_total"},
        {NULL, "llmproxy.provider.availability", "", GAUGE, false, true, "llmproxy_provider_availability"},
        {NULL, "gen_ai.client.token.usage", "{token}", HIST, false, true, "gen_ai_client_token_usage"},
        {NULL, "system.cpu.utilization", "1", GAUGE, false, true, "system_cpu_utilization_ratio"},
        {NULL, "http.server.request.size", "By", HIST, false, true, "http_server_request_size_bytes"},
        {NULL, "x", "m/s", GAUGE, false, true, "x_meters_per_second"},
        /* The Collector translator's own table. */
        {NULL, "system.filesystem.usage", "By", GAUGE, false, true, "system_filesystem_usage_bytes"},
        {NULL, "system.io", "By", SUM, true, true, "system_io_bytes_total"},
        {NULL, "network_transmitted_bytes_total", "By", SUM, true, true, "network_transmitted_bytes_total"},
        {NULL, "\t system.filesystem.usage       ", "  By\t", GAUGE, false, true, "system_filesystem_usage_bytes"},
        {NULL, "system.network.dropped", "{packets}", GAUGE, false, true, "system_network_dropped"},
        {NULL, "system.network.dropped", "{packets}", SUM, true, true, "system_network_dropped_total"},
        {NULL, "system.network.dropped", "packets", GAUGE, false, true, "system_network_dropped_packets"},
        {NULL, "system.network.packets.dropped", "packets", GAUGE, false, true, "system_network_packets_dropped"},
        {NULL, "system.network.packets", "packets", SUM, true, true, "system_network_packets_total"},
        {NULL, "hw.gpu.memory.utilization", "1", GAUGE, false, true, "hw_gpu_memory_utilization_ratio"},
        {NULL, "hw.fan.speed_ratio", "1", GAUGE, false, true, "hw_fan_speed_ratio"},
        {NULL, "objects", "1", SUM, true, true, "objects_total"},
        {NULL, "hw.cpu.speed_limit", "Hz", GAUGE, false, true, "hw_cpu_speed_limit_hertz"},
        {NULL, "broken.metric.speed", "km/h", GAUGE, false, true, "broken_metric_speed_km_per_hour"},
        {NULL, "astro.light.speed_limit", "m/s", GAUGE, false, true, "astro_light_speed_limit_meters_per_second"},
        {NULL, "broken.metric.success_ratio", "%", GAUGE, false, true, "broken_metric_success_ratio_percent"},
        {NULL, "broken.metric.success_percent", "%", GAUGE, false, true, "broken_metric_success_percent"},
        {NULL, "test.metric.no_unit", "", GAUGE, false, true, "test_metric_no_unit"},
        {NULL, "test.metric.spaces", "   \t  ", GAUGE, false, true, "test_metric_spaces"},
        {NULL, "unsupported.metric.temperature", "\xc2\xb0" "F", GAUGE, false, true, "unsupported_metric_temperature_F"},
        {NULL, "unsupported.metric.weird", "+=.:,!* & #", GAUGE, false, true, "unsupported_metric_weird"},
        {NULL, "unsupported.metric.redundant", "__test $/\xc2\xb0" "C", GAUGE, false, true, "unsupported_metric_redundant_test_per_C"},
        {NULL, "active_directory.ds.replication.object.rate", "{objects}/s", GAUGE, false, true, "active_directory_ds_replication_object_rate_per_second"},
        {NULL, "active_directory.ds.ldap.bind.last_successful.time", "ms", GAUGE, false, true, "active_directory_ds_ldap_bind_last_successful_time_milliseconds"},
        {NULL, "apache.current_connections", "connections", GAUGE, false, true, "apache_current_connections"},
        {NULL, "apache.workers", "connections", GAUGE, false, true, "apache_workers_connections"},
        {NULL, "bigip.virtual_server.request.count", "{requests}", SUM, true, true, "bigip_virtual_server_request_count_total"},
        {NULL, "system.disk.operation_time", "s", SUM, true, true, "system_disk_operation_time_seconds_total"},
        {NULL, "system.cpu.load_average.15m", "1", GAUGE, false, true, "system_cpu_load_average_15m_ratio"},
        {NULL, "mongodbatlas.process.journaling.data_files", "MiBy", GAUGE, false, true, "mongodbatlas_process_journaling_data_files_mebibytes"},
        {NULL, "mongodbatlas.process.network.io", "By/s", GAUGE, false, true, "mongodbatlas_process_network_io_bytes_per_second"},
        {NULL, "mongodbatlas.process.oplog.rate", "GiBy/h", GAUGE, false, true, "mongodbatlas_process_oplog_rate_gibibytes_per_hour"},
        {NULL, "mongodbatlas.process.db.query_targeting.scanned_per_returned", "{scanned}/{returned}", GAUGE, false, true, "mongodbatlas_process_db_query_targeting_scanned_per_returned"},
        {NULL, "nsxt.node.memory.usage", "KBy", GAUGE, false, true, "nsxt_node_memory_usage_kilobytes"},
        {NULL, "redis.latest_fork", "us", GAUGE, false, true, "redis_latest_fork_microseconds"},
        {NULL, "3.14 digits", "", GAUGE, false, true, "_3_14_digits"},
        {NULL, "envoy__rule_engine_zlib_buf_error", "", GAUGE, false, true, "envoy_rule_engine_zlib_buf_error"},
        {NULL, "_leading.and.trailing_", "", GAUGE, false, true, "leading_and_trailing"},
        {NULL, "job:rate5m", "", GAUGE, false, true, "job:rate5m"},
        /* No suffix twice; a "total" word anywhere moves to the end. */
        {NULL, "request.duration.seconds", "s", HIST, false, true, "request_duration_seconds"},
        {NULL, "requests.total", "", SUM, true, true, "requests_total"},
        {NULL, "total.requests", "", SUM, true, true, "requests_total"},
        {NULL, "x.bytes.per.second", "By/s", GAUGE, false, true, "x_bytes_per_second"},
        {NULL, "upload.rate", "By{compressed}/s", GAUGE, false, true, "upload_rate_bytes_per_second"},
        /* Only monotonic sums count, only gauges are ratios. */
        {NULL, "queue.size", "{item}", SUM, false, true, "queue_size"},
        {NULL, "cpu.usage", "1", SUM, false, true, "cpu_usage"},
        {NULL, "cpu.usage", "1", HIST, false, true, "cpu_usage"},
        {NULL, "latency", "ms", SUMMARY, false, true, "latency_milliseconds"},
        {NULL, "latency", "s", SUM, true, true, "latency_seconds_total"},
        /* Namespace. */
        {"space", "test", "", GAUGE, false, true, "space_test"},
        {"space", "#test", "", GAUGE, false, true, "space_test"},
        {"system", "network.io", "By", SUM, true, true, "system_network_io_bytes_total"},
        {"llm", "llmproxy.request.count", "{request}", SUM, true, true, "llm_llmproxy_request_count_total"},
        /* add_metric_suffixes: false — only forbidden characters change. */
        {NULL, "system.io", "By", SUM, true, false, "system_io"},
        {"system", "network.io", "By", SUM, true, false, "system_network_io"},
        {NULL, "3.14 digits", "By", GAUGE, false, false, "_3_14_digits"},
        {NULL, "envoy__rule_engine_zlib_buf_error", "", GAUGE, false, false, "envoy__rule_engine_zlib_buf_error"},
        {NULL, "llmproxy.request.count", "{request}", SUM, true, false, "llmproxy_request_count"},
        /* Nothing valid is no name. */
        {NULL, "", "s", GAUGE, false, true, "seconds"},
        {NULL, "$$$", "", GAUGE, false, true, ""},
        {NULL, "", "", GAUGE, false, false, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct name_case *c = &cases[i];
        char out[256];
        memset(out, 'X', sizeof out);
        assert_ptr_equal(prometheus_metric_name(c->ns, c->name, c->unit, c->kind, c->monotonic,
                                                c->suffixes, out, sizeof out),
                         out);
        if (strcmp(out, c->want) != 0)
            fail_msg("(%s, \"%s\", \"%s\", %d): got \"%s\", want \"%s\"", c->ns ? c->ns : "-",
                     c->name, c->unit, c->kind, out, c->want);
    }
}

static void test_unit_words(void **state)
{
    (void)state;
    static const char *const units[][2] = {
        {"d", "days"},         {"h", "hours"},         {"min", "minutes"},
        {"s", "seconds"},      {"ms", "milliseconds"}, {"us", "microseconds"},
        {"ns", "nanoseconds"}, {"By", "bytes"},        {"KiBy", "kibibytes"},
        {"MiBy", "mebibytes"}, {"GiBy", "gibibytes"},  {"TiBy", "tebibytes"},
        {"KBy", "kilobytes"},  {"MBy", "megabytes"},   {"GBy", "gigabytes"},
        {"TBy", "terabytes"},  {"m", "meters"},        {"V", "volts"},
        {"A", "amperes"},      {"J", "joules"},        {"W", "watts"},
        {"g", "grams"},        {"Cel", "celsius"},     {"Hz", "hertz"},
        {"%", "percent"},      {"furlongs", "furlongs"},
    };
    static const char *const per[][2] = {
        {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
        {"w", "week"},   {"mo", "month"}, {"y", "year"}, {"fortnight", "fortnight"},
    };
    char out[128], want[128], unit[64];
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        prometheus_metric_name(NULL, "x", units[i][0], GAUGE, false, true, out, sizeof out);
        snprintf(want, sizeof want, "x_%s", units[i][1]);
        assert_string_equal(out, want);
    }
    for (size_t i = 0; i < sizeof per / sizeof per[0]; i++) {
        snprintf(unit, sizeof unit, "By/%s", per[i][0]);
        prometheus_metric_name(NULL, "x", unit, GAUGE, false, true, out, sizeof out);
        snprintf(want, sizeof want, "x_bytes_per_%s", per[i][1]);
        assert_string_equal(out, want);
    }
    /* "1" alone adds nothing but the gauge's ratio; an annotation alone adds nothing. */
    prometheus_metric_name(NULL, "x", "1", SUM, true, true, out, sizeof out);
    assert_string_equal(out, "x_total");
    prometheus_metric_name(NULL, "x", "{thing}", GAUGE, false, true, out, sizeof out);
    assert_string_equal(out, "x");
    /* A name that does not fit is no name (a cut one could be another metric's); the buffer
     * is never overrun. */
    char tiny[16];
    memset(tiny, 'X', sizeof tiny);
    prometheus_metric_name(NULL, "llmproxy.request.duration", "s", HIST, false, true, tiny,
                           sizeof tiny - 4);
    assert_string_equal(tiny, "");
    assert_int_equal(tiny[sizeof tiny - 1], 'X');
    prometheus_metric_name("ns", "llmproxy.request", "", SUM, true, false, tiny, sizeof tiny - 4);
    assert_string_equal(tiny, "");
    prometheus_metric_name(NULL, "x.y", "s", HIST, false, true, tiny, 12);
    assert_string_equal(tiny, "x_y_seconds");
}

/* translation_strategy, one case per rule, expected by hand from the Collector's namers
 * (otlptranslator MetricNamer: escaping and suffix rules; prometheus/common's underscore
 * escaping for a scraper without UTF-8 names). */
struct strategy_case {
    enum prometheus_translation t;
    const char *ns, *name, *unit;
    int kind;
    bool monotonic;
    const char *want;
};

static void test_translation_strategies(void **state)
{
    (void)state;
    enum prometheus_translation US = PROM_UNDERSCORE_ESCAPING_WITH_SUFFIXES,
                                UN = PROM_UNDERSCORE_ESCAPING_WITHOUT_SUFFIXES,
                                NS = PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES, NT = PROM_NO_TRANSLATION;
    static const struct strategy_case cases[] = {
        /* the namer's own examples */
        {PROM_UNDERSCORE_ESCAPING_WITH_SUFFIXES, NULL, "http.server.duration", "s", HIST, false,
         "http_server_duration_seconds"},
        {PROM_UNDERSCORE_ESCAPING_WITH_SUFFIXES, NULL, "requests.count", "1", SUM, true,
         "requests_count_total"},
        {PROM_UNDERSCORE_ESCAPING_WITH_SUFFIXES, NULL, "memory.usage", "By", GAUGE, false,
         "memory_usage_bytes"},
        /* without suffixes: runs of invalid characters become one '_', underscores stay */
        {PROM_UNDERSCORE_ESCAPING_WITHOUT_SUFFIXES, NULL, "http.server.duration", "s", HIST, false,
         "http_server_duration"},
        {PROM_UNDERSCORE_ESCAPING_WITHOUT_SUFFIXES, NULL, "a..b__c", "", SUM, true, "a_b__c"},
        {PROM_UNDERSCORE_ESCAPING_WITHOUT_SUFFIXES, "ns", "x", "", GAUGE, false, "ns_x"},
        /* UTF-8 with suffixes: the name as written plus suffixes, then each invalid character
         * escaped on its own (no collapsing) */
        {PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES, NULL, "http.server.duration", "s", HIST, false,
         "http_server_duration_seconds"},
        {PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES, NULL, "a..b", "", SUM, true, "a__b_total"},
        {PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES, NULL, "requests.total", "", SUM, true,
         "requests_total"},
        {PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES, NULL, "cpu.utilization", "1", GAUGE, false,
         "cpu_utilization_ratio"},
        {PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES, NULL, "io", "By/s", GAUGE, false,
         "io_bytes_per_second"},
        {PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES, NULL, "req_bytes", "By", GAUGE, false, "req_bytes"},
        {PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES, NULL, "q", "{req}/s", SUM, true, "q_per_second_total"},
        {PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES, NULL, "2xx", "", GAUGE, false, "_xx"},
        /* no translation: no suffix at all, the namespace as written */
        {PROM_NO_TRANSLATION, NULL, "http.server.duration", "s", HIST, false,
         "http_server_duration"},
        {PROM_NO_TRANSLATION, "my.ns", "c", "By", SUM, true, "my_ns_c"},
        {PROM_NO_TRANSLATION, NULL, "caf\xc3\xa9", "", GAUGE, false, "caf_"},
    };
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct strategy_case *c = &cases[i];
        prometheus_translate_metric_name(c->t, c->ns, c->name, c->unit, c->kind, c->monotonic, out,
                                         sizeof out);
        if (strcmp(out, c->want) != 0)
            fail_msg("case %zu (%s, %s): got \"%s\", want \"%s\"", i, c->name, c->unit, out,
                     c->want);
    }
    /* the UTF-8 names before escaping */
    prometheus_metric_name_utf8(NULL, "http.server.duration", "s", HIST, false, true, out,
                                sizeof out);
    assert_string_equal(out, "http.server.duration_seconds");
    prometheus_metric_name_utf8(NULL, "rps.total", "1/s", SUM, true, true, out, sizeof out);
    assert_string_equal(out, "rps_per_second_total");
    /* label names: the underscore strategies keep their rules, the UTF-8 ones escape each
     * character */
    prometheus_translate_label_name(US, "http.method", out, sizeof out);
    assert_string_equal(out, "http_method");
    prometheus_translate_label_name(UN, "1a", out, sizeof out);
    assert_string_equal(out, "key_1a");
    prometheus_translate_label_name(NS, "1a", out, sizeof out);
    assert_string_equal(out, "_a");
    prometheus_translate_label_name(NT, "a:b", out, sizeof out);
    assert_string_equal(out, "a_b");
    prometheus_translate_label_name(NT, "..", out, sizeof out);
    assert_string_equal(out, "");
}

/* translation_strategy wins over add_metric_suffixes, as in the Collector; unset, the old key
 * decides. */
static void test_translation_strategy_config(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\nadd_metric_suffixes: true\n"
                "translation_strategy: NoTranslation\nnamespace: app\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "svc")), 1);
    mb_scope(&b, NULL, NULL);
    pt_int(&b, mb_metric(&b, "llm.requests", "", "{request}", SUM, CUMULATIVE, true), 3, T0,
           kvs(&b, 1, kv_s(&b, "gen_ai.system", "openai")), 1);
    feed(&e, mb_end(&b));
    char *text = render(&e);
    assert_text(text,
                "# TYPE app_llm_requests counter\n"
                "app_llm_requests{job=\"svc\",gen_ai_system=\"openai\"} 3\n"
                "# HELP app_target_info Target metadata\n"
                "# TYPE app_target_info gauge\n"
                "app_target_info{job=\"svc\"} 1\n");
    free(text);
    fx_close(&e);

    fx_open(&e, "endpoint: 127.0.0.1:0\nadd_metric_suffixes: false\n"
                "translation_strategy: UnderscoreEscapingWithSuffixes\n");
    mb_begin(&b);
    mb_resource(&b, NULL, 0);
    mb_scope(&b, NULL, NULL);
    pt_int(&b, mb_metric(&b, "llm.requests", "", "", SUM, CUMULATIVE, true), 3, T0, NULL, 0);
    feed(&e, mb_end(&b));
    text = render(&e);
    assert_line(text, "llm_requests_total 3");
    free(text);
    fx_close(&e);
}

static void test_label_names(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"http.method", "http_method"},
        {"gen_ai.usage.input_tokens", "gen_ai_usage_input_tokens"},
        {"tenant.id", "tenant_id"},
        {"123invalid", "key_123invalid"},
        {"_private", "key_private"},
        {"__reserved__", "__reserved__"},
        {"a..b", "a__b"},
        {"a-b c", "a_b_c"},
        {"caf\xc3\xa9", "caf_"},
        {"\xc3\xa9t\xc3\xa9", "key_t_"},
        {".", "key_"},
        {"..", ""},
        {"", ""},
        {"ok_Label9", "ok_Label9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        assert_ptr_equal(prometheus_label_name(cases[i][0], out, sizeof out), out);
        if (strcmp(out, cases[i][1]) != 0)
            fail_msg("label \"%s\": got \"%s\", want \"%s\"", cases[i][0], out, cases[i][1]);
    }
    /* What does not fit is no name; what just fits is whole. */
    char small[8];
    prometheus_label_name("much.too.long", small, sizeof small);
    assert_string_equal(small, "");
    prometheus_label_name("a.b.c.d", small, sizeof small);
    assert_string_equal(small, "a_b_c_d");
    prometheus_label_name("1.b.c.d", small, sizeof small);
    assert_string_equal(small, "");
    prometheus_label_name("1.b", small, sizeof small);
    assert_string_equal(small, "key_1_b");
}

/* ---- numbers --------------------------------------------------------------------------------- */

static void test_number_format(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *value, *plain;
    } cases[] = {
        {0, "0", "0"},
        {-0.0, "0", "0"},
        {1, "1", "1"},
        {-3, "-3", "-3"},
        {0.1, "0.1", "0.1"},
        {60, "60", "60"},
        {2.5, "2.5", "2.5"},
        {-2.5, "-2.5", "-2.5"},
        {1e6, "1000000", "1000000"},
        {123456.5, "123456.5", "123456.5"},
        {1234567.5, "1.2345675e+06", "1234567.5"},
        {0.0001, "0.0001", "0.0001"},
        {0.00001, "1e-05", "0.00001"},
        {1.5e-7, "1.5e-07", "0.00000015"},
        {1e21, "1e+21", "1000000000000000000000"},
        {0.30000000000000004, "0.30000000000000004", "0.30000000000000004"},
        {1.0 / 3, "0.3333333333333333", "0.3333333333333333"},
        {9007199254740991.0, "9007199254740991", "9007199254740991"},
        /* Past the integer path: 2^53 and beyond are doubles like any other. */
        {-9007199254740991.0, "-9007199254740991", "-9007199254740991"},
        {9007199254740992.0, "9.007199254740992e+15", "9007199254740992"},
        {-9007199254740992.0, "-9.007199254740992e+15", "-9007199254740992"},
        {-1, "-1", "-1"},
        {1e15, "1000000000000000", "1000000000000000"},
        {1e15 + 0.5, "1.0000000000000005e+15", "1000000000000000.5"},
        {123456789012345678.0, "1.2345678901234568e+17", "123456789012345680"},
        {-9223372036854775808.0, "-9.223372036854776e+18", "-9223372036854776000"},
        {1e22, "1e+22", "10000000000000000000000"},
        {1e23, "1e+23", "100000000000000000000000"},
        {1.7976931348623157e308, "1.7976931348623157e+308", NULL}, /* plain: checked below */
        /* Short decimals, and those that need 16 or 17 digits to read back. */
        {0.015, "0.015", "0.015"},
        {12345.678, "12345.678", "12345.678"},
        {999999.5, "999999.5", "999999.5"},
        {37.000510000000006, "37.000510000000006", "37.000510000000006"},
        {999999999999999.9, "9.999999999999999e+14", "999999999999999.9"},
        /* Around 1e-8, where the short-decimal search stops, and subnormals. */
        {1e-7, "1e-07", "0.0000001"},
        {1.23456789012345e-8, "1.23456789012345e-08", "0.0000000123456789012345"},
        {1.5e-9, "1.5e-09", "0.0000000015"},
        {2.5e-5, "2.5e-05", "0.000025"},
        {5e-324, "5e-324", NULL},
        {-2.2250738585072014e-308, "-2.2250738585072014e-308", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct prom_buf b = {0};
        prom_format_value(&b, cases[i].v);
        char *s = prom_buf_take(&b, NULL);
        if (strcmp(s, cases[i].value) != 0)
            fail_msg("value %.17g: got %s, want %s", cases[i].v, s, cases[i].value);
        free(s);
        prom_format_plain(&b, cases[i].v);
        s = prom_buf_take(&b, NULL);
        if (cases[i].plain && strcmp(s, cases[i].plain) != 0)
            fail_msg("plain %.17g: got %s, want %s", cases[i].v, s, cases[i].plain);
        free(s);
    }
    struct prom_buf b = {0};
    prom_format_value(&b, NAN);
    prom_buf_putc(&b, ' ');
    prom_format_value(&b, INFINITY);
    prom_buf_putc(&b, ' ');
    prom_format_value(&b, -INFINITY);
    char *s = prom_buf_take(&b, NULL);
    assert_string_equal(s, "NaN +Inf -Inf");
    free(s);

    /* The largest double in plain digits: its 17 digits, then 292 zeros. */
    prom_format_plain(&b, 1.7976931348623157e308);
    s = prom_buf_take(&b, NULL);
    assert_int_equal(strlen(s), 309);
    assert_memory_equal(s, "17976931348623157", 17);
    assert_int_equal(strspn(s + 17, "0"), 292);
    free(s);

    /* Integers, as printf writes them, at both ends of their range. */
    prom_format_int(&b, INT64_MIN);
    prom_buf_putc(&b, ' ');
    prom_format_int(&b, INT64_MAX);
    prom_buf_putc(&b, ' ');
    prom_format_int(&b, -1);
    prom_buf_putc(&b, ' ');
    prom_format_int(&b, 0);
    prom_buf_putc(&b, ' ');
    prom_format_uint(&b, UINT64_MAX);
    prom_buf_putc(&b, ' ');
    prom_format_uint(&b, 10);
    s = prom_buf_take(&b, NULL);
    assert_string_equal(s, "-9223372036854775808 9223372036854775807 -1 0 "
                           "18446744073709551615 10");
    free(s);
}

/* Every short decimal m / 10^k (up to 15 digits) and its neighbours on either side spelled as
 * %.17g reads them: the shortest text must read back as the same double, and no shorter
 * spelling may (checked by asking strtod about every shorter rounding). */
static void test_number_format_round_trips(void **state)
{
    (void)state;
    uint64_t r = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 20000; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        int digits = 1 + (int)(r % 17), exp10 = (int)((r >> 8) % 40) - 20;
        uint64_t m = (r >> 16) % 100000000000000000ull, lim = 1;
        for (int d = 0; d < digits; d++)
            lim *= 10;
        m = m % lim ? m % lim : 1;
        char in[64];
        snprintf(in, sizeof in, "%llue%d", (unsigned long long)m, exp10);
        double v = strtod(in, NULL);
        if (i % 3 == 1)
            v = nextafter(v, INFINITY);
        else if (i % 3 == 2)
            v = -nextafter(v, 0);
        struct prom_buf b = {0};
        prom_format_value(&b, v);
        char *s = prom_buf_take(&b, NULL);
        if (strtod(s, NULL) != v)
            fail_msg("%.17g written as %s, which reads back as %.17g", v, s, strtod(s, NULL));
        /* Significant digits: those of the mantissa without leading and trailing zeros. */
        char dig[40];
        size_t nd = 0;
        for (const char *c = s; *c && *c != 'e' && nd < sizeof dig; c++)
            if (*c >= '0' && *c <= '9' && (nd || *c != '0'))
                dig[nd++] = *c;
        while (nd && dig[nd - 1] == '0')
            nd--;
        for (int p = 1; p < (int)nd; p++) {
            char shorter[40];
            snprintf(shorter, sizeof shorter, "%.*e", p - 1, v);
            if (strtod(shorter, NULL) == v)
                fail_msg("%.17g written as %s, but %s is shorter", v, s, shorter);
        }
        free(s);
    }
}

/* ---- rendering ------------------------------------------------------------------------------- */

static KeyValue **gateway_resource(struct mb *b, size_t *n)
{
    *n = 4;
    return kvs(b, 4, kv_s(b, "service.name", "gateway"), kv_s(b, "service.namespace", "llm"),
               kv_s(b, "service.instance.id", "i-1"), kv_s(b, "deployment.environment", "prod"));
}

static void test_render_counter(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    size_t nr;
    KeyValue **res = gateway_resource(&b, &nr);
    mb_resource(&b, res, nr);
    mb_scope(&b, "llmotlp", "1.0");
    Metric *m = mb_metric(&b, "llmproxy.request.count", "Requests", "{request}", SUM, CUMULATIVE,
                          true);
    pt_int(&b, m, 5, T0, kvs(&b, 2, kv_s(&b, "tenant", "acme"), kv_s(&b, "status", "ok")), 2);
    pt_int(&b, m, 2, T0, kvs(&b, 2, kv_s(&b, "tenant", "beta"), kv_s(&b, "status", "error")), 2);
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_text(text,
                "# HELP llmproxy_request_count_total Requests\n"
                "# TYPE llmproxy_request_count_total counter\n"
                "llmproxy_request_count_total{job=\"llm/gateway\",instance=\"i-1\","
                "otel_scope_name=\"llmotlp\",otel_scope_version=\"1.0\",status=\"error\","
                "tenant=\"beta\"} 2\n"
                "llmproxy_request_count_total{job=\"llm/gateway\",instance=\"i-1\","
                "otel_scope_name=\"llmotlp\",otel_scope_version=\"1.0\",status=\"ok\","
                "tenant=\"acme\"} 5\n"
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{job=\"llm/gateway\",instance=\"i-1\","
                "deployment_environment=\"prod\"} 1\n");
    check_exposition(text);
    free(text);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_metric_points"), 2);
    assert_int_equal(tu_exp_value(&e, "llmotlp_prometheus_series"), 2);
    fx_close(&e);
}

static void test_render_histogram(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "svc")), 1);
    mb_scope(&b, NULL, NULL);
    Metric *m = mb_metric(&b, "llmproxy.request.duration", "Duration of \"requests\"", "s", HIST,
                          CUMULATIVE, false);
    const double bounds[] = {0.1, 1, 60};
    const uint64_t counts[] = {1, 2, 3, 4};
    pt_hist(&b, m, bounds, 3, counts, 123.5, T0, kvs(&b, 1, kv_s(&b, "provider", "openai")), 1);
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_text(text,
                "# HELP llmproxy_request_duration_seconds Duration of \"requests\"\n"
                "# TYPE llmproxy_request_duration_seconds histogram\n"
                "llmproxy_request_duration_seconds_bucket{job=\"svc\",provider=\"openai\","
                "le=\"0.1\"} 1\n"
                "llmproxy_request_duration_seconds_bucket{job=\"svc\",provider=\"openai\","
                "le=\"1\"} 3\n"
                "llmproxy_request_duration_seconds_bucket{job=\"svc\",provider=\"openai\","
                "le=\"60\"} 6\n"
                "llmproxy_request_duration_seconds_bucket{job=\"svc\",provider=\"openai\","
                "le=\"+Inf\"} 10\n"
                "llmproxy_request_duration_seconds_sum{job=\"svc\",provider=\"openai\"} 123.5\n"
                "llmproxy_request_duration_seconds_count{job=\"svc\",provider=\"openai\"} 10\n"
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{job=\"svc\"} 1\n");
    check_exposition(text);
    free(text);
    fx_close(&e);
}

/* OpenMetrics as client_golang writes it for the Collector with enable_open_metrics: the
 * counter family without "_total", samples with it, floats with ".0" when integral, counts as
 * integers, '"' escaped in HELP, "# EOF" last. */
static void test_render_openmetrics(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\nenable_open_metrics: true\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "svc")), 1);
    mb_scope(&b, NULL, NULL);
    Metric *m = mb_metric(&b, "llmproxy.request.duration", "Duration of \"requests\"", "s", HIST,
                          CUMULATIVE, false);
    const double bounds[] = {0.1, 1, 60};
    const uint64_t counts[] = {1, 2, 3, 4};
    pt_hist(&b, m, bounds, 3, counts, 123.5, T0, NULL, 0);
    pt_int(&b, mb_metric(&b, "llmproxy.request.count", "Requests", "{request}", SUM, CUMULATIVE,
                         true),
           9, T0, NULL, 0);
    pt_dbl(&b, mb_metric(&b, "load", "", "1", GAUGE, 0, false), 0.25, T0, NULL, 0);
    feed(&e, mb_end(&b));
    size_t len = 0;
    char *text = prometheus_exporter_render_format(e.x, true, &len);
    assert_non_null(text);
    assert_string_equal(text,
                        "# HELP llmproxy_request_count Requests\n"
                        "# TYPE llmproxy_request_count counter\n"
                        "llmproxy_request_count_total{job=\"svc\"} 9.0\n"
                        "# HELP llmproxy_request_duration_seconds Duration of \\\"requests\\\"\n"
                        "# TYPE llmproxy_request_duration_seconds histogram\n"
                        "llmproxy_request_duration_seconds_bucket{job=\"svc\",le=\"0.1\"} 1\n"
                        "llmproxy_request_duration_seconds_bucket{job=\"svc\",le=\"1.0\"} 3\n"
                        "llmproxy_request_duration_seconds_bucket{job=\"svc\",le=\"60.0\"} 6\n"
                        "llmproxy_request_duration_seconds_bucket{job=\"svc\",le=\"+Inf\"} 10\n"
                        "llmproxy_request_duration_seconds_sum{job=\"svc\"} 123.5\n"
                        "llmproxy_request_duration_seconds_count{job=\"svc\"} 10\n"
                        "# TYPE load_ratio gauge\n"
                        "load_ratio{job=\"svc\"} 0.25\n"
                        "# HELP target_info Target metadata\n"
                        "# TYPE target_info gauge\n"
                        "target_info{job=\"svc\"} 1.0\n"
                        "# EOF\n");
    assert_int_equal(len, strlen(text));
    free(text);
    /* the text format is unchanged for a scraper that does not ask */
    text = render(&e);
    assert_line(text, "llmproxy_request_count_total{job=\"svc\"} 9");
    assert_null(strstr(text, "# EOF"));
    free(text);
    fx_close(&e);
}

static void test_render_histogram_edges(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, NULL, 0);
    mb_scope(&b, NULL, NULL);
    /* Bounds spelled as Prometheus does; a histogram without buckets has only +Inf. */
    Metric *m = mb_metric(&b, "tokens", "", "{token}", HIST, CUMULATIVE, false);
    const double bounds[] = {0.005, 2.5e-5, 1e6};
    const uint64_t counts[] = {0, 0, 7, 1};
    const double sorted[] = {2.5e-5, 0.005, 1e6};
    pt_hist(&b, m, sorted, 3, counts, 42, T0, NULL, 0);
    Metric *bare = mb_metric(&b, "bare", "", "", HIST, CUMULATIVE, false);
    HistogramDataPoint *p = pt_hist(&b, bare, NULL, 0, NULL, 0, T0, NULL, 0);
    p->count = 3;
    p->sum = 1.25;
    /* Bounds out of order, or counts of the wrong length: dropped and counted. */
    Metric *bad = mb_metric(&b, "bad", "", "", HIST, CUMULATIVE, false);
    pt_hist(&b, bad, bounds, 3, counts, 1, T0, NULL, 0);
    HistogramDataPoint *q = pt_hist(&b, bad, sorted, 3, counts, 1, T0,
                                    kvs(&b, 1, kv_s(&b, "k", "v")), 1);
    q->n_bucket_counts = 2;
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_text(text,
                "# TYPE bare histogram\n"
                "bare_bucket{le=\"+Inf\"} 3\n"
                "bare_sum 1.25\n"
                "bare_count 3\n"
                "# TYPE tokens histogram\n"
                "tokens_bucket{le=\"2.5e-05\"} 0\n"
                "tokens_bucket{le=\"0.005\"} 0\n"
                "tokens_bucket{le=\"1000000\"} 7\n"
                "tokens_bucket{le=\"+Inf\"} 8\n"
                "tokens_sum 42\n"
                "tokens_count 8\n");
    check_exposition(text);
    free(text);
    assert_int_equal(dropped(&e, "invalid_point"), 2);
    fx_close(&e);
}

static void test_render_summary(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.instance.id", "host:1")), 1);
    mb_scope(&b, "scope", "");
    Metric *m = mb_metric(&b, "rpc.latency", "Latency", "ms", SUMMARY, 0, false);
    const double q[] = {0.99, 0.5, 0};
    const double v[] = {9.5, 5, 0.25};
    pt_summary(&b, m, 3, q, v, 12, 70.5, T0, kvs(&b, 1, kv_s(&b, "method", "get")), 1);
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_text(text,
                "# HELP rpc_latency_milliseconds Latency\n"
                "# TYPE rpc_latency_milliseconds summary\n"
                "rpc_latency_milliseconds{instance=\"host:1\",otel_scope_name=\"scope\","
                "method=\"get\",quantile=\"0\"} 0.25\n"
                "rpc_latency_milliseconds{instance=\"host:1\",otel_scope_name=\"scope\","
                "method=\"get\",quantile=\"0.5\"} 5\n"
                "rpc_latency_milliseconds{instance=\"host:1\",otel_scope_name=\"scope\","
                "method=\"get\",quantile=\"0.99\"} 9.5\n"
                "rpc_latency_milliseconds_sum{instance=\"host:1\",otel_scope_name=\"scope\","
                "method=\"get\"} 70.5\n"
                "rpc_latency_milliseconds_count{instance=\"host:1\",otel_scope_name=\"scope\","
                "method=\"get\"} 12\n"
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{instance=\"host:1\"} 1\n");
    check_exposition(text);
    free(text);
    fx_close(&e);
}

static void test_render_gauges_and_values(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, NULL, 0);
    mb_scope(&b, NULL, NULL);
    Metric *g = mb_metric(&b, "llmproxy.provider.availability", "Availability\\ per provider\nnow",
                          "", GAUGE, 0, false);
    pt_int(&b, g, 1, T0, kvs(&b, 1, kv_s(&b, "provider", "a")), 1);
    pt_dbl(&b, g, 0.1, T0, kvs(&b, 1, kv_s(&b, "provider", "b")), 1);
    pt_dbl(&b, g, NAN, T0, kvs(&b, 1, kv_s(&b, "provider", "c")), 1);
    pt_dbl(&b, g, INFINITY, T0, kvs(&b, 1, kv_s(&b, "provider", "d")), 1);
    pt_dbl(&b, g, -INFINITY, T0, kvs(&b, 1, kv_s(&b, "provider", "e")), 1);
    pt_dbl(&b, g, 1e6, T0, kvs(&b, 1, kv_s(&b, "provider", "f")), 1);
    pt_int(&b, g, -7, T0, kvs(&b, 1, kv_s(&b, "provider", "g")), 1);
    pt_dbl(&b, g, 1.5e-7, T0, kvs(&b, 1, kv_s(&b, "provider", "h")), 1);
    /* A non-monotonic cumulative sum is a gauge, without _total. */
    Metric *s = mb_metric(&b, "queue.size", "", "{item}", SUM, CUMULATIVE, false);
    pt_int(&b, s, 4, T0, NULL, 0);
    /* A value that is not set is no value. */
    Metric *u = mb_metric(&b, "unset", "", "", GAUGE, 0, false);
    num_point(&b, u, T0, NULL, 0);
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_text(text,
                "# HELP llmproxy_provider_availability Availability\\\\ per provider\\nnow\n"
                "# TYPE llmproxy_provider_availability gauge\n"
                "llmproxy_provider_availability{provider=\"a\"} 1\n"
                "llmproxy_provider_availability{provider=\"b\"} 0.1\n"
                "llmproxy_provider_availability{provider=\"c\"} NaN\n"
                "llmproxy_provider_availability{provider=\"d\"} +Inf\n"
                "llmproxy_provider_availability{provider=\"e\"} -Inf\n"
                "llmproxy_provider_availability{provider=\"f\"} 1000000\n"
                "llmproxy_provider_availability{provider=\"g\"} -7\n"
                "llmproxy_provider_availability{provider=\"h\"} 1.5e-07\n"
                "# TYPE queue_size gauge\n"
                "queue_size 4\n");
    check_exposition(text);
    free(text);
    assert_int_equal(dropped(&e, "invalid_point"), 1);
    fx_close(&e);
}

static void test_label_values_and_escaping(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 2, kv_s(&b, "service.name", "a\"b"),
                        kv_s(&b, "host.name", "line1\nline2\\")), 2);
    mb_scope(&b, NULL, NULL);
    Metric *m = mb_metric(&b, "v", "", "", GAUGE, 0, false);
    KeyValue *arr = kv_new(&b, "list", OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE);
    arr->value->array_value = arena_alloc(b.a, sizeof *arr->value->array_value);
    opentelemetry__proto__common__v1__array_value__init(arr->value->array_value);
    KeyValue *e1 = kv_i(&b, "_", 1), *e2 = kv_s(&b, "_", "x\"y");
    arr->value->array_value->values = arena_alloc(b.a, 2 * sizeof(AnyValue *));
    arr->value->array_value->values[0] = e1->value;
    arr->value->array_value->values[1] = e2->value;
    arr->value->array_value->n_values = 2;
    KeyValue *map = kv_new(&b, "map", OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE);
    map->value->kvlist_value = arena_alloc(b.a, sizeof *map->value->kvlist_value);
    opentelemetry__proto__common__v1__key_value_list__init(map->value->kvlist_value);
    map->value->kvlist_value->values = kvs(&b, 2, kv_d(&b, "z", 0.5), kv_b(&b, "a", false));
    map->value->kvlist_value->n_values = 2;
    KeyValue *bytes = kv_new(&b, "raw", OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE);
    static const uint8_t hi[] = {'h', 'i'};
    bytes->value->bytes_value.data = (uint8_t *)hi;
    bytes->value->bytes_value.len = 2;
    pt_int(&b, m, 1, T0,
           kvs(&b, 8, kv_i(&b, "count", 42), kv_d(&b, "ratio", 0.25), kv_b(&b, "ok", true),
               arr, map, bytes, kv_s(&b, "text", "q\"uote\\back\nline"),
               kv_s(&b, "empty", "")),
           8);
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_text(text,
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{job=\"a\\\"b\",host_name=\"line1\\nline2\\\\\"} 1\n"
                "# TYPE v gauge\n"
                "v{job=\"a\\\"b\",count=\"42\",list=\"[1,\\\"x\\\\\\\"y\\\"]\","
                "map=\"{\\\"a\\\":false,\\\"z\\\":0.5}\",ok=\"true\",ratio=\"0.25\","
                "raw=\"aGk=\",text=\"q\\\"uote\\\\back\\nline\"} 1\n");
    check_exposition(text);
    free(text);
    fx_close(&e);
}

static void test_label_collisions(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\nconst_labels:\n  tenant: from-config\n  region: eu\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "svc")), 1);
    mb_scope(&b, "s", "2");
    Metric *m = mb_metric(&b, "c", "", "", SUM, CUMULATIVE, true);
    /* a.b and a_b are both a_b: joined in the order of their keys. job is the resource's;
     * the point's tenant wins over the const label of that name. */
    pt_int(&b, m, 3, T0,
           kvs(&b, 4, kv_s(&b, "a_b", "2"), kv_s(&b, "a.b", "1"), kv_s(&b, "job", "mine"),
               kv_s(&b, "tenant", "acme")),
           4);
    Metric *h = mb_metric(&b, "h", "", "", HIST, CUMULATIVE, false);
    const double bounds[] = {1};
    const uint64_t counts[] = {1, 1};
    pt_hist(&b, h, bounds, 1, counts, 3, T0, kvs(&b, 1, kv_s(&b, "le", "attr")), 1);
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_line(text, "c_total{job=\"svc\",otel_scope_name=\"s\",otel_scope_version=\"2\","
                      "a_b=\"1;2\",tenant=\"acme\",region=\"eu\"} 3");
    assert_line(text, "h_bucket{job=\"svc\",otel_scope_name=\"s\",otel_scope_version=\"2\","
                      "region=\"eu\",tenant=\"from-config\",le=\"1\"} 1");
    assert_no(text, "mine");
    assert_no(text, "attr");
    check_exposition(text);
    free(text);
    fx_close(&e);
}

static void test_escape_runs(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, NULL, 0);
    mb_scope(&b, NULL, NULL);
    /* Escapes alone, at the start, at the end, in runs; HELP escapes \\ and \n only. */
    Metric *m = mb_metric(&b, "v", "\\\nhelp \"quoted\"\n\\", "", GAUGE, 0, false);
    pt_int(&b, m, 1, T0,
           kvs(&b, 6, kv_s(&b, "a", "\\\"\n"), kv_s(&b, "b", "\"start"), kv_s(&b, "c", "end\n"),
               kv_s(&b, "d", "x\\\\y\"\"z\n\n"), kv_s(&b, "e", "plain"), kv_s(&b, "f", "\\")),
           6);
    /* Two keys that are one label name: each value escaped, joined with ';'. */
    pt_int(&b, m, 2, T0, kvs(&b, 2, kv_s(&b, "k_1", "\\y"), kv_s(&b, "k.1", "x\"")), 2);
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_text(text,
                "# HELP v \\\\\\nhelp \"quoted\"\\n\\\\\n"
                "# TYPE v gauge\n"
                "v{a=\"\\\\\\\"\\n\",b=\"\\\"start\",c=\"end\\n\","
                "d=\"x\\\\\\\\y\\\"\\\"z\\n\\n\",e=\"plain\",f=\"\\\\\"} 1\n"
                "v{k_1=\"x\\\";\\\\y\"} 2\n");
    check_exposition(text);
    free(text);
    fx_close(&e);
}

static void test_integer_samples(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, NULL, 0);
    mb_scope(&b, NULL, NULL);
    Metric *g = mb_metric(&b, "g", "", "", GAUGE, 0, false);
    pt_int(&b, g, INT64_MIN, T0, kvs(&b, 1, kv_s(&b, "k", "a")), 1);
    pt_int(&b, g, INT64_MAX, T0, kvs(&b, 1, kv_s(&b, "k", "b")), 1);
    pt_int(&b, g, -1, T0, kvs(&b, 1, kv_s(&b, "k", "c")), 1);
    pt_dbl(&b, g, -0.0, T0, kvs(&b, 1, kv_s(&b, "k", "d")), 1);
    pt_dbl(&b, g, 9007199254740992.0, T0, kvs(&b, 1, kv_s(&b, "k", "e")), 1);
    pt_dbl(&b, g, -9007199254740991.0, T0, kvs(&b, 1, kv_s(&b, "k", "f")), 1);
    pt_dbl(&b, g, -1, T0, kvs(&b, 1, kv_s(&b, "k", "g")), 1);
    pt_int(&b, g, 0, T0, kvs(&b, 1, kv_i(&b, "k", -1234567890123)), 1);
    Metric *h = mb_metric(&b, "h", "", "", HIST, CUMULATIVE, false);
    const double bounds[] = {-1, 0, 9007199254740992.0};
    const uint64_t counts[] = {0, 1, 2, UINT64_MAX - 3};
    pt_hist(&b, h, bounds, 3, counts, 1e21, T0, NULL, 0);
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_text(text,
                "# TYPE g gauge\n"
                "g{k=\"-1234567890123\"} 0\n"
                "g{k=\"a\"} -9223372036854775808\n"
                "g{k=\"b\"} 9223372036854775807\n"
                "g{k=\"c\"} -1\n"
                "g{k=\"d\"} 0\n"
                "g{k=\"e\"} 9.007199254740992e+15\n"
                "g{k=\"f\"} -9007199254740991\n"
                "g{k=\"g\"} -1\n"
                "# TYPE h histogram\n"
                "h_bucket{le=\"-1\"} 0\n"
                "h_bucket{le=\"0\"} 1\n"
                "h_bucket{le=\"9.007199254740992e+15\"} 3\n"
                "h_bucket{le=\"+Inf\"} 18446744073709551615\n"
                "h_sum 1e+21\n"
                "h_count 18446744073709551615\n");
    check_exposition(text);
    free(text);
    fx_close(&e);
}

/* Labels past the handful a point usually has, in reverse order, with one name made twice:
 * sorted by name, and the two values joined in the order of their keys. A point's attribute
 * named like a head label is dropped when the head has that label, kept otherwise. */
static void test_many_labels(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, NULL, 0);
    mb_scope(&b, "sc", "1");
    Metric *m = mb_metric(&b, "v", "", "", GAUGE, 0, false);
    KeyValue **kv = kvs(&b, 0);
    kv = arena_alloc(b.a, 22 * sizeof *kv);
    for (int i = 0; i < 20; i++) {
        char key[8], val[8];
        snprintf(key, sizeof key, "l%02d", 19 - i);
        snprintf(val, sizeof val, "v%d", 19 - i);
        kv[i] = kv_s(&b, key, val);
    }
    kv[20] = kv_s(&b, "l05_", "late");
    kv[21] = kv_s(&b, "l05.", "early");
    pt_int(&b, m, 1, T0, kv, 22);
    /* The same key twice in one point: joined in the order given. */
    pt_int(&b, m, 2, T0,
           kvs(&b, 5, kv_s(&b, "dup", "first"), kv_s(&b, "otel.scope.name", "attr"),
               kv_s(&b, "dup", "second"), kv_s(&b, "instance", "i-1"),
               kv_s(&b, "otel_scope_version", "attr")),
           5);
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_text(text,
                "# TYPE v gauge\n"
                "v{otel_scope_name=\"sc\",otel_scope_version=\"1\",dup=\"first;second\","
                "instance=\"i-1\"} 2\n"
                "v{otel_scope_name=\"sc\",otel_scope_version=\"1\",l00=\"v0\",l01=\"v1\",l02=\"v2\",l03=\"v3\",l04=\"v4\",l05=\"v5\","
                "l05_=\"early;late\",l06=\"v6\",l07=\"v7\",l08=\"v8\",l09=\"v9\",l10=\"v10\","
                "l11=\"v11\",l12=\"v12\",l13=\"v13\",l14=\"v14\",l15=\"v15\",l16=\"v16\","
                "l17=\"v17\",l18=\"v18\",l19=\"v19\"} 1\n");
    check_exposition(text);
    free(text);
    fx_close(&e);
}

static struct batch *one_gauge(const char *name, const char *service, const char *k, int64_t v,
                               uint64_t t, uint32_t flags)
{
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 2, kv_s(&b, "service.name", service), kv_s(&b, "host", service)), 2);
    mb_scope(&b, NULL, NULL);
    pt_int(&b, mb_metric(&b, name, "", "", GAUGE, 0, false), v, t, kvs(&b, 1, kv_s(&b, "k", k)),
           1)->flags = flags;
    return mb_end(&b);
}

/* A scrape prints in an order kept from the last one: series, families and target_info lines
 * that come or go in between must still land in their place. */
static void test_order_kept_between_scrapes(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    feed(&e, one_gauge("m", "s1", "b", 1, T0, 0));
    feed(&e, one_gauge("m", "s1", "d", 2, T0, 0));
    const char *first = "# TYPE m gauge\n"
                        "m{job=\"s1\",k=\"b\"} 1\n"
                        "m{job=\"s1\",k=\"d\"} 2\n"
                        "# HELP target_info Target metadata\n"
                        "# TYPE target_info gauge\n"
                        "target_info{job=\"s1\",host=\"s1\"} 1\n";
    char *text = render(&e);
    assert_text(text, first);
    free(text);
    text = render(&e); /* nothing changed: the same text */
    assert_text(text, first);
    free(text);

    /* Series before, between and after; a family before; a second target. */
    feed(&e, one_gauge("m", "s1", "c", 3, T0, 0));
    feed(&e, one_gauge("m", "s1", "a", 4, T0, 0));
    feed(&e, one_gauge("m", "s0", "z", 5, T0, 0));
    feed(&e, one_gauge("a", "s1", "x", 6, T0, 0));
    text = render(&e);
    assert_text(text,
                "# TYPE a gauge\n"
                "a{job=\"s1\",k=\"x\"} 6\n"
                "# TYPE m gauge\n"
                "m{job=\"s0\",k=\"z\"} 5\n"
                "m{job=\"s1\",k=\"a\"} 4\n"
                "m{job=\"s1\",k=\"b\"} 1\n"
                "m{job=\"s1\",k=\"c\"} 3\n"
                "m{job=\"s1\",k=\"d\"} 2\n"
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{job=\"s0\",host=\"s0\"} 1\n"
                "target_info{job=\"s1\",host=\"s1\"} 1\n");
    free(text);

    /* Gone again: a series in the middle, the first family, the second target (with its only
     * series); an update changes no order. */
    feed(&e, one_gauge("m", "s1", "b", 0, T0 + 1, 1));
    feed(&e, one_gauge("a", "s1", "x", 0, T0 + 1, 1));
    feed(&e, one_gauge("m", "s0", "z", 0, T0 + 1, 1));
    feed(&e, one_gauge("m", "s1", "d", 7, T0 + 1, 0));
    text = render(&e);
    assert_text(text,
                "# TYPE m gauge\n"
                "m{job=\"s1\",k=\"a\"} 4\n"
                "m{job=\"s1\",k=\"c\"} 3\n"
                "m{job=\"s1\",k=\"d\"} 7\n"
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{job=\"s1\",host=\"s1\"} 1\n");
    free(text);
    assert_int_equal(tu_exp_value(&e, "llmotlp_prometheus_series"), 3);
    fx_close(&e);
}

/* Series come and go at random between scrapes (several per batch, some batches only adding,
 * some also removing): every scrape lists exactly the live series, in key order. */
static void test_order_random(void **state)
{
    (void)state;
    enum { KEYS = 60 };
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    bool live[KEYS] = {false};
    char names[KEYS][8];
    uint64_t r = 12345;
    for (int i = 0; i < KEYS;) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        /* Distinct keys sharing prefixes ("ab" before "abc"), from a small alphabet. */
        int len = 1 + (int)((r >> 33) % 5);
        for (int c = 0; c < len; c++)
            names[i][c] = "abc"[(r >> (40 + 2 * c)) % 3];
        names[i][len] = '\0';
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup |= strcmp(names[j], names[i]) == 0;
        i += !dup;
    }
    for (int round = 0; round < 40; round++) {
        struct mb b;
        mb_begin(&b);
        mb_resource(&b, NULL, 0);
        mb_scope(&b, NULL, NULL);
        Metric *m = mb_metric(&b, "m", "", "", GAUGE, 0, false);
        for (int op = 0; op < 8; op++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            int k = (int)((r >> 33) % KEYS);
            bool remove = round % 3 == 2 && (r >> 60) % 2;
            NumberDataPoint *p = pt_int(&b, m, round, T0 + (uint64_t)round, kvs(&b, 1,
                                        kv_s(&b, "k", names[k])), 1);
            if (remove)
                p->flags = 1;
            live[k] = !remove;
        }
        feed(&e, mb_end(&b));
        char *text = render(&e);
        const char *at = text, *prev = NULL;
        size_t prev_len = 0;
        int seen = 0;
        while ((at = strstr(at, "\nm{k=\"")) != NULL) {
            at += 6;
            size_t n = strcspn(at, "\"");
            if (prev) {
                int c = strncmp(prev, at, prev_len < n ? prev_len : n);
                if (c > 0 || (c == 0 && prev_len >= n))
                    fail_msg("round %d: %.*s listed before %.*s", round, (int)prev_len, prev,
                             (int)n, at);
            }
            bool found = false;
            for (int i = 0; i < KEYS; i++)
                found |= live[i] && strlen(names[i]) == n && strncmp(names[i], at, n) == 0;
            if (!found)
                fail_msg("round %d: %.*s is not live", round, (int)n, at);
            prev = at;
            prev_len = n;
            seen++;
        }
        int want = 0;
        for (int i = 0; i < KEYS; i++)
            want += live[i];
        assert_int_equal(seen, want);
        free(text);
    }
    fx_close(&e);
}

static void test_scope_attributes_and_targets(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 2, kv_s(&b, "service.name", "b-svc"), kv_s(&b, "k8s.pod.name", "p")),
                2);
    mb_scope(&b, "lib", "");
    b.sm->scope->attributes = kvs(&b, 1, kv_s(&b, "feature", "x"));
    b.sm->scope->n_attributes = 1;
    pt_int(&b, mb_metric(&b, "g", "", "", GAUGE, 0, false), 1, T0, NULL, 0);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "a-svc")), 1);
    mb_scope(&b, NULL, NULL);
    pt_int(&b, mb_metric(&b, "g", "", "", GAUGE, 0, false), 2, T0, NULL, 0);
    mb_resource(&b, NULL, 0); /* says nothing: no target_info */
    mb_scope(&b, NULL, NULL);
    pt_int(&b, mb_metric(&b, "g", "", "", GAUGE, 0, false), 3, T0, NULL, 0);
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_text(text,
                "# TYPE g gauge\n"
                "g 3\n"
                "g{job=\"a-svc\"} 2\n"
                "g{job=\"b-svc\",otel_scope_name=\"lib\",otel_scope_feature=\"x\"} 1\n"
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{job=\"a-svc\"} 1\n"
                "target_info{job=\"b-svc\",k8s_pod_name=\"p\"} 1\n");
    free(text);
    fx_close(&e);
}

static void test_namespace_and_const_labels(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\nnamespace: llm\nconst_labels:\n  region: eu\n"
                "  team.name: core\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "svc")), 1);
    mb_scope(&b, NULL, NULL);
    pt_int(&b, mb_metric(&b, "llmproxy.request.count", "", "{request}", SUM, CUMULATIVE, true),
           9, T0, NULL, 0);
    feed(&e, mb_end(&b));
    char *text = render(&e);
    assert_text(text,
                "# TYPE llm_llmproxy_request_count_total counter\n"
                "llm_llmproxy_request_count_total{job=\"svc\",region=\"eu\",team_name=\"core\"} 9\n"
                "# HELP llm_target_info Target metadata\n"
                "# TYPE llm_target_info gauge\n"
                "llm_target_info{job=\"svc\"} 1\n");
    free(text);
    fx_close(&e);
}

static void test_resource_to_telemetry(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\nresource_to_telemetry_conversion:\n  enabled: true\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 3, kv_s(&b, "service.name", "svc"), kv_s(&b, "region", "eu"),
                        kv_s(&b, "tier", "gold")),
                3);
    mb_scope(&b, NULL, NULL);
    pt_int(&b, mb_metric(&b, "g", "", "", GAUGE, 0, false), 1, T0,
           kvs(&b, 1, kv_s(&b, "tier", "point")), 1);
    feed(&e, mb_end(&b));
    char *text = render(&e);
    /* The Collector copies each resource attribute into the point, over one of the same key:
     * the resource's tier wins. No target_info with enabled. */
    assert_text(text,
                "# TYPE g gauge\n"
                "g{job=\"svc\",region=\"eu\",service_name=\"svc\",tier=\"gold\"} 1\n");
    free(text);
    fx_close(&e);

    /* exclude_service_attributes leaves out the three service.* keys (job and instance stay). */
    fx_open(&e, "endpoint: 127.0.0.1:0\nresource_to_telemetry_conversion:\n  enabled: true\n"
                "  exclude_service_attributes: true\n");
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 4, kv_s(&b, "service.name", "svc"), kv_s(&b, "service.namespace", "ns"),
                        kv_s(&b, "service.instance.id", "i-1"), kv_s(&b, "region", "eu")),
                4);
    mb_scope(&b, NULL, NULL);
    pt_int(&b, mb_metric(&b, "g", "", "", GAUGE, 0, false), 1, T0, NULL, 0);
    feed(&e, mb_end(&b));
    text = render(&e);
    assert_text(text,
                "# TYPE g gauge\n"
                "g{job=\"ns/svc\",instance=\"i-1\",region=\"eu\"} 1\n");
    free(text);
    fx_close(&e);
}

/* resource_constant_labels: the keys matching included and no excluded pattern become labels of
 * every series, the resource value winning over the point's; target_info stays. */
static void test_resource_constant_labels(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\nresource_constant_labels:\n"
                "  included: [\"service*\", \"k8s.pod.*\", \"?one\"]\n"
                "  excluded: [service.instance.id]\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 6, kv_s(&b, "service.name", "svc"), kv_s(&b, "service.instance.id", "i-1"),
                        kv_s(&b, "k8s.pod.name", "p-1"), kv_s(&b, "k8s.node.name", "n-1"),
                        kv_s(&b, "zone", "z"), kv_s(&b, "\xc3\xa9one", "accent")),
                6);
    mb_scope(&b, NULL, NULL);
    pt_int(&b, mb_metric(&b, "g", "", "", GAUGE, 0, false), 1, T0,
           kvs(&b, 3, kv_s(&b, "k8s.pod.name", "from-point"), kv_s(&b, "zone", "point-zone"),
               kv_s(&b, "tier", "t")),
           3);
    feed(&e, mb_end(&b));
    char *text = render(&e);
    assert_text(text,
                "# TYPE g gauge\n"
                "g{job=\"svc\",instance=\"i-1\",k8s_pod_name=\"p-1\",key_one=\"accent\","
                "service_name=\"svc\",tier=\"t\",zone=\"z\"} 1\n"
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{job=\"svc\",instance=\"i-1\",k8s_node_name=\"n-1\","
                "k8s_pod_name=\"p-1\",key_one=\"accent\",zone=\"z\"} 1\n");
    free(text);
    fx_close(&e);

    /* The matcher alone: '*' any run, '?' one character, whole key; excluded alone includes the
     * rest; nothing set selects nothing. */
    struct prometheus_resource_labels r = {0};
    assert_false(prometheus_resource_label_matches(&r, "service.name"));
    char *ex[] = {"k8s.*"};
    r.excluded = (struct config_str_list){1, ex};
    assert_true(prometheus_resource_label_matches(&r, "service.name"));
    assert_false(prometheus_resource_label_matches(&r, "k8s.pod.name"));
    char *in[] = {"a?c", "x*y*z"};
    r.included = (struct config_str_list){2, in};
    r.excluded = (struct config_str_list){0, NULL};
    assert_true(prometheus_resource_label_matches(&r, "abc"));
    assert_false(prometheus_resource_label_matches(&r, "abbc"));
    assert_false(prometheus_resource_label_matches(&r, "abcd"));
    assert_true(prometheus_resource_label_matches(&r, "x--y--z"));
    assert_true(prometheus_resource_label_matches(&r, "xyz"));
    assert_false(prometheus_resource_label_matches(&r, "x\ny z")); /* Go's '.' skips newlines */
}

/* without_scope_info: no otel_scope_name, otel_scope_version nor otel_scope_<attribute>. */
static void test_without_scope_info(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\nwithout_scope_info: true\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "svc")), 1);
    mb_scope(&b, "lib", "1.2");
    b.sm->scope->attributes = kvs(&b, 1, kv_s(&b, "feature", "x"));
    b.sm->scope->n_attributes = 1;
    pt_int(&b, mb_metric(&b, "g", "", "", GAUGE, 0, false), 1, T0,
           kvs(&b, 1, kv_s(&b, "model", "m")), 1);
    feed(&e, mb_end(&b));
    char *text = render(&e);
    assert_text(text,
                "# TYPE g gauge\n"
                "g{job=\"svc\",model=\"m\"} 1\n"
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{job=\"svc\"} 1\n");
    free(text);
    fx_close(&e);
}

static void test_send_timestamps_and_no_suffixes(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\nsend_timestamps: true\nadd_metric_suffixes: false\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, NULL, 0);
    mb_scope(&b, NULL, NULL);
    pt_int(&b, mb_metric(&b, "llmproxy.request.count", "", "{request}", SUM, CUMULATIVE, true),
           4, T0 + 123456789ULL, NULL, 0);
    Metric *h = mb_metric(&b, "lat", "", "s", HIST, CUMULATIVE, false);
    const double bounds[] = {1};
    const uint64_t counts[] = {2, 0};
    pt_hist(&b, h, bounds, 1, counts, 0.5, T0 + 5000000ULL, NULL, 0);
    feed(&e, mb_end(&b));
    char *text = render(&e);
    assert_text(text,
                "# TYPE lat histogram\n"
                "lat_bucket{le=\"1\"} 2 1700000000005\n"
                "lat_bucket{le=\"+Inf\"} 2 1700000000005\n"
                "lat_sum 0.5 1700000000005\n"
                "lat_count 2 1700000000005\n"
                "# TYPE llmproxy_request_count counter\n"
                "llmproxy_request_count 4 1700000000123\n");
    check_exposition(text);
    free(text);
    fx_close(&e);
}

/* ---- state ----------------------------------------------------------------------------------- */

/* One sum point "c" (monotonic), value v at time t, with tenant=acme. */
static struct batch *sum_batch(int temporality, bool monotonic, bool is_int, double v,
                               uint64_t t, uint32_t flags)
{
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, NULL, 0);
    mb_scope(&b, NULL, NULL);
    Metric *m = mb_metric(&b, "c", "", "", SUM, temporality, monotonic);
    KeyValue **kv = kvs(&b, 1, kv_s(&b, "tenant", "acme"));
    NumberDataPoint *p = is_int ? pt_int(&b, m, (int64_t)v, t, kv, 1) : pt_dbl(&b, m, v, t, kv, 1);
    p->flags = flags;
    return mb_end(&b);
}

static void test_cumulative_replaces(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    feed(&e, sum_batch(CUMULATIVE, true, true, 5, T0 + 1, 0));
    feed(&e, sum_batch(CUMULATIVE, true, true, 3, T0 + 2, 0));
    char *text = render(&e);
    assert_line(text, "c_total{tenant=\"acme\"} 3");
    free(text);
    /* An older point than the one held is stale: kept out, counted. */
    feed(&e, sum_batch(CUMULATIVE, true, true, 100, T0 + 1, 0));
    text = render(&e);
    assert_line(text, "c_total{tenant=\"acme\"} 3");
    free(text);
    assert_int_equal(dropped(&e, "stale"), 1);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_metric_points"), 2);
    fx_close(&e);
}

static void test_delta_accumulates(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    feed(&e, sum_batch(DELTA, true, true, 5, T0 + 1, 0));
    feed(&e, sum_batch(DELTA, true, true, 3, T0 + 2, 0));
    char *text = render(&e);
    assert_line(text, "c_total{tenant=\"acme\"} 8");
    free(text);
    feed(&e, sum_batch(DELTA, true, false, 0.5, T0 + 3, 0));
    text = render(&e);
    assert_line(text, "c_total{tenant=\"acme\"} 8.5");
    free(text);
    /* A cumulative point of the same series replaces the total. */
    feed(&e, sum_batch(CUMULATIVE, true, true, 2, T0 + 4, 0));
    text = render(&e);
    assert_line(text, "c_total{tenant=\"acme\"} 2");
    free(text);
    fx_close(&e);
}

static struct batch *hist_batch(int temporality, const double *bounds, size_t nb,
                                const uint64_t *counts, double sum, uint64_t t)
{
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, NULL, 0);
    mb_scope(&b, NULL, NULL);
    Metric *m = mb_metric(&b, "d", "", "s", HIST, temporality, false);
    pt_hist(&b, m, bounds, nb, counts, sum, t, NULL, 0);
    return mb_end(&b);
}

static void test_delta_histogram(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    const double b2[] = {0.5, 1};
    const uint64_t c1[] = {1, 0, 2}, c2[] = {3, 1, 0};
    feed(&e, hist_batch(DELTA, b2, 2, c1, 4.5, T0 + 1));
    feed(&e, hist_batch(DELTA, b2, 2, c2, 1.25, T0 + 2));
    char *text = render(&e);
    assert_text(text,
                "# TYPE d_seconds histogram\n"
                "d_seconds_bucket{le=\"0.5\"} 4\n"
                "d_seconds_bucket{le=\"1\"} 5\n"
                "d_seconds_bucket{le=\"+Inf\"} 7\n"
                "d_seconds_sum 5.75\n"
                "d_seconds_count 7\n");
    free(text);
    assert_int_equal(tu_exp_value(&e, "llmotlp_prometheus_histogram_resets"), 0);
    /* Other bounds cannot be added to what is held: the new point replaces it, counted. */
    const double b1[] = {2};
    const uint64_t c3[] = {1, 1};
    feed(&e, hist_batch(DELTA, b1, 1, c3, 3, T0 + 3));
    text = render(&e);
    assert_text(text,
                "# TYPE d_seconds histogram\n"
                "d_seconds_bucket{le=\"2\"} 1\n"
                "d_seconds_bucket{le=\"+Inf\"} 2\n"
                "d_seconds_sum 3\n"
                "d_seconds_count 2\n");
    free(text);
    assert_int_equal(tu_exp_value(&e, "llmotlp_prometheus_histogram_resets"), 1);
    /* Cumulative histograms replace. */
    feed(&e, hist_batch(CUMULATIVE, b1, 1, c3, 3, T0 + 4));
    feed(&e, hist_batch(CUMULATIVE, b1, 1, c3, 3, T0 + 5));
    text = render(&e);
    assert_line(text, "d_seconds_count 2");
    free(text);
    fx_close(&e);
}

static void test_dropped_kinds(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    feed(&e, sum_batch(DELTA, false, true, 5, T0, 0));
    feed(&e, sum_batch(UNSPECIFIED, true, true, 5, T0, 0));
    const double b1[] = {1};
    const uint64_t c1[] = {1, 1};
    feed(&e, hist_batch(UNSPECIFIED, b1, 1, c1, 1, T0));
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "svc")), 1);
    mb_scope(&b, NULL, NULL);
    mb_metric(&b, "exp", "", "s", EXPHIST, 0, false);
    mb_metric(&b, "exp", "", "s", EXPHIST, 0, false);
    pt_int(&b, mb_metric(&b, "$$$", "", "", GAUGE, 0, false), 1, T0, NULL, 0);
    pt_int(&b, mb_metric(&b, "target_info", "", "", GAUGE, 0, false), 1, T0, NULL, 0);
    feed(&e, mb_end(&b));

    char *text = render(&e);
    assert_text(text, "");
    free(text);
    assert_int_equal(dropped(&e, "delta_non_monotonic"), 1);
    assert_int_equal(dropped(&e, "unspecified_temporality"), 2);
    assert_int_equal(dropped(&e, "exponential_histogram"), 2);
    assert_int_equal(dropped(&e, "invalid_name"), 2);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_metric_points"), 0);
    fx_close(&e);
}

static void test_no_recorded_value(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "svc")), 1);
    mb_scope(&b, NULL, NULL);
    Metric *g = mb_metric(&b, "g", "", "", GAUGE, 0, false);
    pt_int(&b, g, 1, T0, kvs(&b, 1, kv_s(&b, "k", "a")), 1);
    pt_int(&b, g, 2, T0, kvs(&b, 1, kv_s(&b, "k", "b")), 1);
    feed(&e, mb_end(&b));

    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "svc")), 1);
    mb_scope(&b, NULL, NULL);
    g = mb_metric(&b, "g", "", "", GAUGE, 0, false);
    pt_int(&b, g, 0, T0 + 1, kvs(&b, 1, kv_s(&b, "k", "a")), 1)->flags = 1;
    feed(&e, mb_end(&b));
    char *text = render(&e);
    assert_text(text,
                "# TYPE g gauge\n"
                "g{job=\"svc\",k=\"b\"} 2\n"
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{job=\"svc\"} 1\n");
    free(text);

    /* The last series of the family goes: the family and its resource's target_info go too. */
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "svc")), 1);
    mb_scope(&b, NULL, NULL);
    g = mb_metric(&b, "g", "", "", GAUGE, 0, false);
    pt_int(&b, g, 0, T0 + 1, kvs(&b, 1, kv_s(&b, "k", "b")), 1)->flags = 1;
    feed(&e, mb_end(&b));
    text = render(&e);
    assert_text(text, "");
    free(text);

    /* The same for each type. */
    feed(&e, sum_batch(DELTA, true, true, 5, T0, 0));
    feed(&e, sum_batch(DELTA, true, true, 0, T0 + 1, 1));
    const double b1[] = {1};
    const uint64_t c1[] = {1, 1};
    feed(&e, hist_batch(CUMULATIVE, b1, 1, c1, 1, T0));
    mb_begin(&b);
    mb_resource(&b, NULL, 0);
    mb_scope(&b, NULL, NULL);
    pt_hist(&b, mb_metric(&b, "d", "", "s", HIST, CUMULATIVE, false), b1, 1, c1, 1, T0 + 1, NULL,
            0)->flags = 1;
    const double q[] = {0.5};
    Metric *sm = mb_metric(&b, "sm", "", "", SUMMARY, 0, false);
    pt_summary(&b, sm, 1, q, q, 1, 1, T0, NULL, 0);
    pt_summary(&b, sm, 1, q, q, 1, 1, T0 + 1, NULL, 0)->flags = 1;
    feed(&e, mb_end(&b));
    text = render(&e);
    assert_text(text, "");
    free(text);
    assert_int_equal(tu_exp_value(&e, "llmotlp_prometheus_series"), 0);
    fx_close(&e);
}

static int64_t fake_now;
static int64_t fake_clock(void)
{
    return fake_now;
}

static void test_expiration(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\nmetric_expiration: 1m\n");
    fake_now = 1000LL * 1000000000LL;
    prometheus_exporter_set_clock(e.x, fake_clock);
    feed(&e, sum_batch(CUMULATIVE, true, true, 1, T0, 0));
    fake_now += 30LL * 1000000000LL;
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "late")), 1);
    mb_scope(&b, NULL, NULL);
    pt_int(&b, mb_metric(&b, "g", "", "", GAUGE, 0, false), 7, T0, NULL, 0);
    feed(&e, mb_end(&b));
    char *text = render(&e);
    assert_line(text, "c_total{tenant=\"acme\"} 1");
    assert_line(text, "g{job=\"late\"} 7");
    free(text);

    /* 61 s after the first series was updated: it goes, the second stays. */
    fake_now += 31LL * 1000000000LL;
    text = render(&e);
    assert_text(text,
                "# TYPE g gauge\n"
                "g{job=\"late\"} 7\n"
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{job=\"late\"} 1\n");
    free(text);
    assert_int_equal(tu_exp_value(&e, "llmotlp_prometheus_series"), 1);

    /* An update keeps a series alive; a consume sweeps what expired meanwhile. */
    fake_now += 29LL * 1000000000LL;
    feed(&e, sum_batch(CUMULATIVE, true, true, 2, T0 + 1, 0));
    fake_now += 2LL * 1000000000LL;
    feed(&e, sum_batch(CUMULATIVE, true, true, 3, T0 + 2, 0));
    assert_int_equal(tu_exp_value(&e, "llmotlp_prometheus_series"), 1);
    text = render(&e);
    assert_text(text,
                "# TYPE c_total counter\n"
                "c_total{tenant=\"acme\"} 3\n");
    free(text);
    prometheus_exporter_set_clock(e.x, NULL);
    fx_close(&e);
}

/* Series of one family that age apart: each goes on its own time, whether a scrape or a
 * consume comes first, and a clock set back keeps what it has. */
static void test_expiration_within_family(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\nmetric_expiration: 1m\n");
    fake_now = 1000LL * 1000000000LL;
    prometheus_exporter_set_clock(e.x, fake_clock);
    feed(&e, one_gauge("m", "s", "old", 1, T0, 0));
    feed(&e, one_gauge("m", "s", "new", 2, T0, 0));
    fake_now += 40LL * 1000000000LL;
    feed(&e, one_gauge("m", "s", "new", 3, T0 + 1, 0));
    fake_now += 21LL * 1000000000LL; /* old: 61 s, new: 21 s */
    char *text = render(&e);
    assert_text(text,
                "# TYPE m gauge\n"
                "m{job=\"s\",k=\"new\"} 3\n"
                "# HELP target_info Target metadata\n"
                "# TYPE target_info gauge\n"
                "target_info{job=\"s\",host=\"s\"} 1\n");
    free(text);
    fake_now += 38LL * 1000000000LL; /* new: 59 s */
    text = render(&e);
    assert_line(text, "m{job=\"s\",k=\"new\"} 3");
    free(text);
    /* Set back 100 s: a series updated then is the oldest of the family. */
    fake_now -= 100LL * 1000000000LL;
    feed(&e, one_gauge("m", "s", "back", 4, T0 + 2, 0));
    fake_now += 71LL * 1000000000LL; /* new: 30 s, back: 71 s */
    text = render(&e);
    assert_line(text, "m{job=\"s\",k=\"new\"} 3");
    assert_no(text, "back");
    free(text);
    fake_now += 31LL * 1000000000LL; /* new: 61 s */
    text = render(&e);
    assert_text(text, "");
    free(text);
    assert_int_equal(tu_exp_value(&e, "llmotlp_prometheus_series"), 0);
    prometheus_exporter_set_clock(e.x, NULL);
    fx_close(&e);
}

static void test_type_conflict(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct mb b;
    mb_begin(&b);
    mb_resource(&b, NULL, 0);
    mb_scope(&b, NULL, NULL);
    /* "requests.total" as a gauge and "requests" as a counter are both requests_total. */
    pt_int(&b, mb_metric(&b, "requests.total", "first", "", GAUGE, 0, false), 1, T0, NULL, 0);
    Metric *c = mb_metric(&b, "requests", "second", "", SUM, CUMULATIVE, true);
    pt_int(&b, c, 5, T0, NULL, 0);
    pt_int(&b, c, 6, T0, kvs(&b, 1, kv_s(&b, "k", "v")), 1);
    /* Same name and type from another metric merges into the family (first HELP kept). */
    pt_int(&b, mb_metric(&b, "requests_total", "third", "", GAUGE, 0, false), 2, T0,
           kvs(&b, 1, kv_s(&b, "k", "w")), 1);
    feed(&e, mb_end(&b));
    char *text = render(&e);
    assert_text(text,
                "# HELP requests_total first\n"
                "# TYPE requests_total gauge\n"
                "requests_total 1\n"
                "requests_total{k=\"w\"} 2\n");
    free(text);
    assert_int_equal(dropped(&e, "type_conflict"), 2);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_metric_points"), 2);
    fx_close(&e);
}

/* Two writers add deltas while a reader scrapes: the total is exact and nothing races. */
struct writer_arg {
    struct tu_exp *e;
    int n;
};

static void *writer(void *p)
{
    struct writer_arg *w = p;
    for (int i = 0; i < w->n; i++) {
        struct batch *b = sum_batch(DELTA, true, true, 1, T0 + (uint64_t)i, 0);
        prometheus_exporter_factory.consume(w->e->x, b);
        batch_unref(b);
    }
    return NULL;
}

static void test_concurrent_consume_and_render(void **state)
{
    (void)state;
    struct tu_exp e;
    fx_open(&e, "endpoint: 127.0.0.1:0\n");
    struct writer_arg w = {&e, 200};
    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, writer, &w), 0);
    assert_int_equal(pthread_create(&t2, NULL, writer, &w), 0);
    for (int i = 0; i < 50; i++) {
        size_t len;
        char *text = prometheus_exporter_render(e.x, &len);
        assert_non_null(text);
        free(text);
    }
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    /* Points older than the held one are stale by design; what was kept adds up exactly. */
    int64_t sent = tu_exp_value(&e, "otelcol_exporter_sent_metric_points");
    assert_int_equal(sent + dropped(&e, "stale"), 400);
    char want[64];
    snprintf(want, sizeof want, "c_total{tenant=\"acme\"} %lld", (long long)sent);
    char *text = render(&e);
    assert_line(text, want);
    free(text);
    fx_close(&e);
}

/* ---- config ---------------------------------------------------------------------------------- */

static void test_config(void **state)
{
    (void)state;
    struct tu_exp e;
    struct error err = {0};
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS, "{}\n", &err), 0);
    const struct prometheus_exporter_config *c = e.cfg;
    assert_string_equal(c->endpoint, "localhost:8889");
    assert_null(c->namespace_);
    assert_int_equal(c->const_labels.n, 0);
    assert_false(c->send_timestamps);
    assert_int_equal(c->metric_expiration, 5LL * 60 * 1000000000LL);
    assert_true(c->add_metric_suffixes);
    assert_false(c->resource_to_telemetry_conversion.enabled);
    tu_exp_unbind(&e);

    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "endpoint: localhost:9999\nnamespace: ns\nsend_timestamps: true\n"
                                 "metric_expiration: 90s\nadd_metric_suffixes: false\n"
                                 "const_labels:\n  a: b\n"
                                 "resource_to_telemetry_conversion:\n  enabled: true\n"
                                 "enable_open_metrics: false\n",
                                 &err),
                     0);
    c = e.cfg;
    assert_string_equal(c->endpoint, "localhost:9999");
    assert_string_equal(c->namespace_, "ns");
    assert_true(c->send_timestamps);
    assert_int_equal(c->metric_expiration, 90LL * 1000000000LL);
    assert_false(c->add_metric_suffixes);
    assert_int_equal(c->const_labels.n, 1);
    assert_string_equal(c->const_labels.items[0].key, "a");
    assert_true(c->resource_to_telemetry_conversion.enabled);
    tu_exp_unbind(&e);

    /* the Collector's configtls checks, and what the scrape server cannot honour */
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "tls: {cert_file: /x.crt}\n", &err),
                     -1);
    assert_non_null(strstr(err.msg, "tls"));
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "tls: {cert_file: /x.crt, key_file: /x.key, min_version: \"1.4\"}\n",
                                 &err),
                     -1);
    assert_non_null(strstr(err.msg, "tls.min_version: \"1.4\" is not a TLS version"));
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "tls: {cert_file: /x.crt, key_file: /x.key, "
                                 "cipher_suites: [TLS_AES_128_GCM_SHA256]}\n", &err),
                     -1);
    assert_non_null(strstr(err.msg, "tls.cipher_suites: not supported"));
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "tls: {cert_file: /x.crt, key_file: /x.key, min_version: \"1.3\", "
                                 "max_version: \"1.2\"}\n", &err),
                     -1);
    assert_non_null(strstr(err.msg, "below min_version"));
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "translation_strategy: Underscores\n", &err),
                     -1);
    assert_non_null(strstr(err.msg, "translation_strategy: invalid \"Underscores\"; expected"));
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "endpoint: nowhere\n", &err),
                     -1);
    assert_non_null(strstr(err.msg, "endpoint"));
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "metric_expiration: 0s\n", &err),
                     -1);
    assert_non_null(strstr(err.msg, "metric_expiration"));
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "enpoint: 1.2.3.4:1\n", &err),
                     -1);
    assert_non_null(strstr(err.msg, "enpoint"));
    tu_exp_unbind(&e);

    assert_int_equal(prometheus_exporter_factory.kind, COMPONENT_EXPORTER);
    assert_int_equal(prometheus_exporter_factory.signals, 1u << SIGNAL_METRICS);
    assert_ptr_equal(component_find(COMPONENT_EXPORTER, "prometheus"),
                     &prometheus_exporter_factory);
}

/* The confighttp server keys: read with their types; an authenticator and middlewares are
 * refused at their own file:line; the resource-label rules of pkg/resourcetotelemetry. */
static void test_server_keys_config(void **state)
{
    (void)state;
    struct tu_exp e;
    struct error err = {0};
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "endpoint: 127.0.0.1:0\ncors:\n  allowed_origins: [a]\n"
                                 "  max_age: 7\nmax_request_body_size: 10\ninclude_metadata: true\n"
                                 "response_headers: {X-A: b}\ncompression_algorithms: gzip,zstd\n"
                                 "read_timeout: 1s\nidle_timeout: 2\nkeep_alives_enabled: false\n"
                                 "middlewares: []\nauth:\nsending_queue: {enabled: true}\n",
                                 &err),
                     0);
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "endpoint: 127.0.0.1:0\nauth:\n  authenticator: bearertokenauth\n",
                                 &err),
                     -1);
    if (!strstr(err.msg, "test.yaml:3:3: auth.authenticator: not supported on the scrape endpoint"))
        fail_msg("%s", err.msg);
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "endpoint: 127.0.0.1:0\nmiddlewares: [{id: m}]\n", &err),
                     -1);
    if (!strstr(err.msg, "test.yaml:2:14: middlewares: not supported"))
        fail_msg("%s", err.msg);
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "sending_queue: {queue_size: -1}\n", &err),
                     -1);
    if (!strstr(err.msg, "queue_size"))
        fail_msg("%s", err.msg);
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "resource_constant_labels: {enabled: true}\n", &err),
                     -1);
    assert_non_null(strstr(err.msg, "use included and excluded"));
    tu_exp_unbind(&e);
    assert_int_equal(tu_exp_bind(&e, &prometheus_exporter_factory, LABELS,
                                 "resource_to_telemetry_conversion: {enabled: true, included: [a]}\n",
                                 &err),
                     -1);
    assert_non_null(strstr(err.msg, "cannot be combined"));
    tu_exp_unbind(&e);
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

static void test_http_scrape(void **state)
{
    (void)state;
    struct tu_exp e;
    tu_exp_start_yaml(&e, &prometheus_exporter_factory, "prometheus", LABELS,
                      "endpoint: 127.0.0.1:0\n");
    uint16_t port = prometheus_exporter_port(e.x);
    assert_true(port > 0);

    struct tu_http_reply r = tu_http_get(port, "/metrics");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(r.body, "");
    tu_http_reply_free(&r);

    struct mb b;
    mb_begin(&b);
    mb_resource(&b, kvs(&b, 1, kv_s(&b, "service.name", "gateway")), 1);
    mb_scope(&b, "llm_metrics", "");
    pt_int(&b, mb_metric(&b, "llmproxy.tokens.input", "Input tokens", "{token}", SUM, DELTA,
                         true),
           120, T0, kvs(&b, 2, kv_s(&b, "tenant", "acme"), kv_s(&b, "model", "gpt-4o")), 2);
    feed(&e, mb_end(&b));

    r = tu_http_get(port, "/metrics");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(r.body,
                        "# HELP llmproxy_tokens_input_total Input tokens\n"
                        "# TYPE llmproxy_tokens_input_total counter\n"
                        "llmproxy_tokens_input_total{job=\"gateway\",otel_scope_name="
                        "\"llm_metrics\",model=\"gpt-4o\",tenant=\"acme\"} 120\n"
                        "# HELP target_info Target metadata\n"
                        "# TYPE target_info gauge\n"
                        "target_info{job=\"gateway\"} 1\n");
    check_exposition(r.body);
    char *text = render(&e);
    assert_string_equal(r.body, text);
    free(text);
    tu_http_reply_free(&r);

    r = tu_http_get(port, "/other");
    assert_int_equal(r.status, 404);
    tu_http_reply_free(&r);
    r = tu_http_get(port, "/metrics/x");
    assert_int_equal(r.status, 404);
    tu_http_reply_free(&r);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_metric_points"), 1);

    tu_exp_stop(&e);
    r = tu_http_get(port, "/metrics");
    assert_int_equal(r.status, 0); /* nothing listens after shutdown */
    tu_http_reply_free(&r);
    tu_exp_free(&e);
}

static void test_busy_port_fails_start(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    unsigned port = ntohs(sa.sin_port);

    char yaml[64];
    snprintf(yaml, sizeof yaml, "endpoint: 127.0.0.1:%u\n", port);
    struct tu_exp e;
    fx_open(&e, yaml);
    struct error err = {0};
    assert_int_equal(prometheus_exporter_factory.start(e.x, &err), -1);
    char want[96];
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%u: address in use", port);
    if (!strstr(err.msg, want))
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
    assert_int_equal(prometheus_exporter_port(e.x), 0);
    prometheus_exporter_factory.shutdown(e.x, clock_now_ns());
    fx_close(&e);
    close(fd);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_names),
        cmocka_unit_test(test_unit_words),
        cmocka_unit_test(test_label_names),
        cmocka_unit_test(test_number_format),
        cmocka_unit_test(test_number_format_round_trips),
        cmocka_unit_test(test_render_counter),
        cmocka_unit_test(test_render_histogram),
        cmocka_unit_test(test_render_histogram_edges),
        cmocka_unit_test(test_render_summary),
        cmocka_unit_test(test_render_gauges_and_values),
        cmocka_unit_test(test_label_values_and_escaping),
        cmocka_unit_test(test_label_collisions),
        cmocka_unit_test(test_escape_runs),
        cmocka_unit_test(test_integer_samples),
        cmocka_unit_test(test_many_labels),
        cmocka_unit_test(test_order_kept_between_scrapes),
        cmocka_unit_test(test_order_random),
        cmocka_unit_test(test_scope_attributes_and_targets),
        cmocka_unit_test(test_namespace_and_const_labels),
        cmocka_unit_test(test_resource_to_telemetry),
        cmocka_unit_test(test_resource_constant_labels),
        cmocka_unit_test(test_without_scope_info),
        cmocka_unit_test(test_server_keys_config),
        cmocka_unit_test(test_send_timestamps_and_no_suffixes),
        cmocka_unit_test(test_cumulative_replaces),
        cmocka_unit_test(test_delta_accumulates),
        cmocka_unit_test(test_delta_histogram),
        cmocka_unit_test(test_dropped_kinds),
        cmocka_unit_test(test_no_recorded_value),
        cmocka_unit_test(test_expiration),
        cmocka_unit_test(test_expiration_within_family),
        cmocka_unit_test(test_type_conflict),
        cmocka_unit_test(test_concurrent_consume_and_render),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_render_openmetrics),
        cmocka_unit_test(test_translation_strategies),
        cmocka_unit_test(test_translation_strategy_config),
        cmocka_unit_test(test_http_scrape),
        cmocka_unit_test(test_busy_port_fails_start),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
