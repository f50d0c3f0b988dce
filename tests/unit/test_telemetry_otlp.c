/* test_telemetry_otlp.c — the own-metrics registry as an OTLP metrics request: the request is
 * encoded as an exporter would send it, decoded back with protobuf-c, and every field a backend
 * reads is checked (names, descriptions, types, temporality, monotonicity, values, attributes,
 * bucket counts, timestamps, resource and scope).
 * The idea: go through the wire bytes, not the in-memory tree, so what is proved is what is
 * sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/batch.h"
#include "core/telemetry.h"
#include "core/telemetry_otlp.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest req_t;
typedef Opentelemetry__Proto__Metrics__V1__Metric metric_t;

static bool process;

static req_t *roundtrip(struct telemetry *t, const struct telemetry_resource *res, int64_t now)
{
    struct error err;
    error_clear(&err);
    struct batch *b = telemetry_otlp_batch(t, res, "9.9.9", now, process, &err);
    assert_non_null(b);
    const uint8_t *data;
    size_t len;
    assert_int_equal(batch_encoded(b, &data, &len, &err), 0);
    req_t *r = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
        NULL, len, data);
    assert_non_null(r);
    batch_unref(b);
    return r;
}

static const metric_t *find(const req_t *r, const char *name)
{
    const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = r->resource_metrics[0]->scope_metrics[0];
    for (size_t i = 0; i < sm->n_metrics; i++)
        if (strcmp(sm->metrics[i]->name, name) == 0)
            return sm->metrics[i];
    fail_msg("metric %s not in the request", name);
    return NULL;
}

static const char *attr(Opentelemetry__Proto__Common__V1__KeyValue **kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i]->key, key) == 0) {
            assert_int_equal(kv[i]->value->value_case,
                             OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
            return kv[i]->value->string_value;
        }
    return NULL;
}

static void test_counter_gauge_histogram(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    telemetry_add(telemetry_counter(t, "otelcol_exporter_sent_spans", "exporter=\"otlp\"",
                                    "Number of spans sent"), 42);
    telemetry_add(telemetry_counter(t, "otelcol_exporter_sent_spans", "exporter=\"otlp/2\"",
                                    "Number of spans sent"), 7);
    telemetry_set(telemetry_gauge(t, "otelcol_exporter_queue_size", "exporter=\"otlp\"", "q"), -3);
    double bounds[] = {0.5, 1};
    struct telemetry_histogram *h = telemetry_histogram(t, "llmotlp_d", "", "dur", bounds, 2);
    telemetry_observe(h, 0.25);
    telemetry_observe(h, 0.75);
    telemetry_observe(h, 0.75);
    telemetry_observe(h, 9);

    char *keys[] = {"service.name", "service.version"}, *vals[] = {"llmotlp", "0.1.0"};
    struct telemetry_resource res = {.n = 2, .keys = keys, .values = vals};
    int64_t now = 1700000000123456789;
    req_t *r = roundtrip(t, &res, now);

    assert_int_equal(r->n_resource_metrics, 1);
    const Opentelemetry__Proto__Resource__V1__Resource *rs = r->resource_metrics[0]->resource;
    assert_string_equal(attr(rs->attributes, rs->n_attributes, "service.name"), "llmotlp");
    assert_string_equal(attr(rs->attributes, rs->n_attributes, "service.version"), "0.1.0");
    const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = r->resource_metrics[0]->scope_metrics[0];
    assert_string_equal(sm->scope->name, "llmotlp");
    assert_string_equal(sm->scope->version, "9.9.9");
    assert_int_equal(sm->n_metrics, 3); /* one Metric per family */

    const metric_t *m = find(r, "otelcol_exporter_sent_spans");
    assert_string_equal(m->description, "Number of spans sent");
    assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
    assert_true(m->sum->is_monotonic);
    assert_int_equal(m->sum->aggregation_temporality,
                     OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
    assert_int_equal(m->sum->n_data_points, 2);
    const Opentelemetry__Proto__Metrics__V1__NumberDataPoint *p = m->sum->data_points[1];
    assert_string_equal(attr(p->attributes, p->n_attributes, "exporter"), "otlp/2");
    assert_int_equal(p->value_case, OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT);
    assert_int_equal(p->as_int, 7);
    assert_int_equal(m->sum->data_points[0]->as_int, 42);
    assert_int_equal(p->time_unix_nano, (uint64_t)now);
    assert_int_equal(p->start_time_unix_nano, (uint64_t)telemetry_start_time(t));
    assert_true(p->start_time_unix_nano > 1600000000000000000ull);

    m = find(r, "otelcol_exporter_queue_size");
    assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);
    assert_int_equal(m->gauge->n_data_points, 1);
    assert_int_equal(m->gauge->data_points[0]->as_int, -3);

    m = find(r, "llmotlp_d");
    assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
    assert_int_equal(m->histogram->aggregation_temporality,
                     OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
    const Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *hp = m->histogram->data_points[0];
    assert_int_equal(hp->n_attributes, 0);
    assert_int_equal(hp->count, 4);
    assert_int_equal(hp->_sum_case, OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM);
    assert_true(hp->sum == 10.75);
    assert_int_equal(hp->n_explicit_bounds, 2);
    assert_true(hp->explicit_bounds[0] == 0.5 && hp->explicit_bounds[1] == 1);
    /* OTLP buckets are per bucket, not cumulative as Prometheus' le series */
    assert_int_equal(hp->n_bucket_counts, 3);
    assert_int_equal(hp->bucket_counts[0], 1);
    assert_int_equal(hp->bucket_counts[1], 2);
    assert_int_equal(hp->bucket_counts[2], 1);

    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(r, NULL);
    telemetry_free(t);
}

static void test_labels_unescaped(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    /* an ID with a quote and a backslash, as components print them, and an escaped newline */
    telemetry_add(telemetry_counter(t, "c", "exporter=\"a\"b\\c\",reason=\"x\\ny\"", ""), 1);
    req_t *r = roundtrip(t, NULL, 1);
    const Opentelemetry__Proto__Metrics__V1__NumberDataPoint *p = find(r, "c")->sum->data_points[0];
    assert_int_equal(p->n_attributes, 2);
    assert_string_equal(attr(p->attributes, 2, "exporter"), "a\"b\\c");
    assert_string_equal(attr(p->attributes, 2, "reason"), "x\ny");
    assert_int_equal(r->resource_metrics[0]->resource->n_attributes, 0);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(r, NULL);
    telemetry_free(t);
}

static void test_empty_registry(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    req_t *r = roundtrip(t, NULL, 5);
    assert_int_equal(r->n_resource_metrics, 1);
    assert_int_equal(r->resource_metrics[0]->scope_metrics[0]->n_metrics, 0);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(r, NULL);
    telemetry_free(t);
}

static void test_many_series_grow(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    char labels[64], name[32];
    for (int f = 0; f < 40; f++)
        for (int i = 0; i < 37; i++) {
            snprintf(name, sizeof name, "fam_%d", f);
            snprintf(labels, sizeof labels, "i=\"%d\"", i);
            telemetry_add(telemetry_counter(t, name, labels, ""), (uint64_t)(f * 100 + i));
        }
    req_t *r = roundtrip(t, NULL, 5);
    assert_int_equal(r->resource_metrics[0]->scope_metrics[0]->n_metrics, 40);
    const metric_t *m = find(r, "fam_39");
    assert_int_equal(m->sum->n_data_points, 37);
    assert_int_equal(m->sum->data_points[36]->as_int, 3936);
    assert_string_equal(attr(m->sum->data_points[36]->attributes, 1, "i"), "36");
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(r, NULL);
    telemetry_free(t);
}

static void test_process_families(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    telemetry_add(telemetry_counter(t, "c", "", ""), 1);
    process = true;
    req_t *r = roundtrip(t, NULL, telemetry_start_time(t) + 2500000000);
    process = false;
    assert_int_equal(r->resource_metrics[0]->scope_metrics[0]->n_metrics, 4);
    const metric_t *m = find(r, "otelcol_process_uptime");
    assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
    assert_int_equal(m->sum->data_points[0]->value_case,
                     OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE);
    assert_true(m->sum->data_points[0]->as_double == 2.5);
    m = find(r, "otelcol_process_cpu_seconds");
    assert_true(m->sum->data_points[0]->as_double >= 0);
    m = find(r, "otelcol_process_memory_rss");
    assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);
    assert_true(m->gauge->data_points[0]->as_int > 0);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(r, NULL);
    telemetry_free(t);
}

static int n_pairs;
static void count_pair(void *ctx, const char *k, size_t kl, const char *v, size_t vl)
{
    (void)ctx, (void)k, (void)kl, (void)v, (void)vl;
    n_pairs++;
}

static void test_labels_parse_refuses_garbage(void **state)
{
    (void)state;
    assert_int_equal(telemetry_labels_parse("not a label", count_pair, NULL), -1);
    assert_int_equal(telemetry_labels_parse("a=\"unterminated", count_pair, NULL), -1);
    n_pairs = 0;
    assert_int_equal(telemetry_labels_parse("a=\"1\",b=\"\"", count_pair, NULL), 0);
    assert_int_equal(n_pairs, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge_histogram),
        cmocka_unit_test(test_labels_unescaped),
        cmocka_unit_test(test_empty_registry),
        cmocka_unit_test(test_many_series_grow),
        cmocka_unit_test(test_labels_parse_refuses_garbage),
        cmocka_unit_test(test_process_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
