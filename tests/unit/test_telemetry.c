/* test_telemetry.c — the own-metrics registry: stable cells, concurrent increments, histograms,
 * Prometheus text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/telemetry.h"

static void test_same_series_same_cell(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    _Atomic uint64_t *a = telemetry_counter(t, "otelcol_receiver_accepted_spans", "receiver=\"otlp\"", "Spans accepted.");
    _Atomic uint64_t *b = telemetry_counter(t, "otelcol_receiver_accepted_spans", "receiver=\"otlp\"", NULL);
    _Atomic uint64_t *c = telemetry_counter(t, "otelcol_receiver_accepted_spans", "receiver=\"otlp/2\"", NULL);
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    telemetry_add(a, 5);
    telemetry_add(c, 7);
    telemetry_add(NULL, 1); /* ignored */
    assert_int_equal(telemetry_value(t, "otelcol_receiver_accepted_spans", "receiver=\"otlp\""), 5);
    assert_int_equal(telemetry_value(t, "otelcol_receiver_accepted_spans", "receiver=\"otlp/2\""), 7);
    assert_int_equal(telemetry_value(t, "absent", ""), 0);
    /* a name registered as a counter is not also a gauge */
    assert_null(telemetry_gauge(t, "otelcol_receiver_accepted_spans", "receiver=\"otlp\"", NULL));
    telemetry_free(t);
}

static void *bump(void *arg)
{
    for (int i = 0; i < 100000; i++)
        telemetry_add(arg, 1);
    return NULL;
}

static void test_concurrent_increments(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    _Atomic uint64_t *c = telemetry_counter(t, "x_total", "", "");
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, bump, (void *)c);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(telemetry_value(t, "x_total", ""), 400000);
    telemetry_free(t);
}

static void test_prometheus_text(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    telemetry_add(telemetry_counter(t, "otelcol_exporter_sent_spans", "exporter=\"otlp\"", "Spans sent."), 3);
    telemetry_add(telemetry_counter(t, "otelcol_exporter_sent_spans", "exporter=\"debug\"", "Spans sent."), 4);
    telemetry_set(telemetry_gauge(t, "otelcol_exporter_queue_size", "exporter=\"otlp\"", "Queue length."), -2);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    telemetry_write_prometheus(t, f);
    fclose(f);
    assert_non_null(strstr(text, "# TYPE otelcol_exporter_sent_spans counter\n"));
    assert_non_null(strstr(text, "otelcol_exporter_sent_spans{exporter=\"otlp\"} 3\n"));
    assert_non_null(strstr(text, "otelcol_exporter_sent_spans{exporter=\"debug\"} 4\n"));
    assert_non_null(strstr(text, "otelcol_exporter_queue_size{exporter=\"otlp\"} -2\n"));
    /* HELP and TYPE appear once per name */
    char *first = strstr(text, "# TYPE otelcol_exporter_sent_spans");
    assert_null(strstr(first + 1, "# TYPE otelcol_exporter_sent_spans"));
    free(text);
    telemetry_free(t);
}

/* The exposition into *text (the caller frees it); open_memstream writes through the caller's
 * own pointer. */
static void expose(struct telemetry *t, char **text)
{
    size_t len = 0;
    *text = NULL;
    FILE *f = open_memstream(text, &len);
    telemetry_write_prometheus(t, f);
    fclose(f);
}

static void assert_contains(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("exposition lacks \"%s\":\n%s", want, text);
}

static void test_histogram_buckets_at_boundaries(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    static const double bounds[] = {0, 5, 10};
    struct telemetry_histogram *h =
        telemetry_histogram(t, "x_age", "processor=\"p\"", "Age.", bounds, 3);
    assert_non_null(h);
    /* A bound is inclusive (le): 0 and 5 land in their own bucket, just above 5 in the next. */
    telemetry_observe(h, 0);
    telemetry_observe(h, -1);
    telemetry_observe(h, 5);
    telemetry_observe(h, 5.25);
    telemetry_observe(h, 10);
    telemetry_observe(h, 10.5);
    telemetry_observe(h, 1000);
    telemetry_observe(NULL, 1); /* ignored */
    assert_int_equal(telemetry_value(t, "x_age", "processor=\"p\""), 7);
    char *text;
    expose(t, &text);
    const char *want = "# HELP x_age Age.\n"
                       "# TYPE x_age histogram\n"
                       "x_age_bucket{processor=\"p\",le=\"0\"} 2\n"
                       "x_age_bucket{processor=\"p\",le=\"5\"} 3\n"
                       "x_age_bucket{processor=\"p\",le=\"10\"} 5\n"
                       "x_age_bucket{processor=\"p\",le=\"+Inf\"} 7\n"
                       "x_age_sum{processor=\"p\"} 1029.75\n"
                       "x_age_count{processor=\"p\"} 7\n";
    assert_string_equal(text, want);
    free(text);
    telemetry_free(t);
}

static void test_histogram_rendering(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    /* Bounds written as Prometheus' Go clients write them; no labels; an empty histogram. */
    static const double bounds[] = {0.005, 0.5, 2.5, 10000, 1e6};
    struct telemetry_histogram *h = telemetry_histogram(t, "x_seconds", "", NULL, bounds, 5);
    assert_non_null(telemetry_histogram(t, "x_none", "", "", NULL, 0));
    telemetry_observe(h, 0.25);
    telemetry_observe(h, 2.5);
    telemetry_observe(h, 3e6);
    char *text;
    expose(t, &text);
    const char *want = "# TYPE x_seconds histogram\n"
                       "x_seconds_bucket{le=\"0.005\"} 0\n"
                       "x_seconds_bucket{le=\"0.5\"} 1\n"
                       "x_seconds_bucket{le=\"2.5\"} 2\n"
                       "x_seconds_bucket{le=\"10000\"} 2\n"
                       "x_seconds_bucket{le=\"1e+06\"} 2\n"
                       "x_seconds_bucket{le=\"+Inf\"} 3\n"
                       "x_seconds_sum 3.00000275e+06\n"
                       "x_seconds_count 3\n"
                       "# TYPE x_none histogram\n"
                       "x_none_bucket{le=\"+Inf\"} 0\n"
                       "x_none_sum 0\n"
                       "x_none_count 0\n";
    assert_string_equal(text, want);
    free(text);
    telemetry_free(t);
}

static void test_histogram_registration(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    static const double b1[] = {1, 2}, b2[] = {7};
    struct telemetry_histogram *a = telemetry_histogram(t, "x_h", "k=\"1\"", "H.", b1, 2);
    assert_non_null(a);
    /* the same series is the same histogram, with the bounds it was created with */
    assert_ptr_equal(telemetry_histogram(t, "x_h", "k=\"1\"", NULL, b2, 1), a);
    struct telemetry_histogram *b = telemetry_histogram(t, "x_h", "k=\"2\"", NULL, b2, 1);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    telemetry_observe(a, 2);
    telemetry_observe(b, 2);
    char *text;
    expose(t, &text);
    assert_contains(text, "x_h_bucket{k=\"1\",le=\"2\"} 1\n");
    assert_contains(text, "x_h_bucket{k=\"2\",le=\"7\"} 1\n");
    assert_null(strstr(text, "x_h_bucket{k=\"1\",le=\"7\"}"));
    assert_null(strstr(strstr(text, "# TYPE x_h histogram") + 1, "# TYPE x_h"));
    free(text);
    /* bounds must be finite and strictly increasing */
    static const double unsorted[] = {1, 1}, down[] = {2, 1}, inf[] = {1, INFINITY},
                        nan[] = {NAN};
    assert_null(telemetry_histogram(t, "x_bad", "", NULL, unsorted, 2));
    assert_null(telemetry_histogram(t, "x_bad", "", NULL, down, 2));
    assert_null(telemetry_histogram(t, "x_bad", "", NULL, inf, 2));
    assert_null(telemetry_histogram(t, "x_bad", "", NULL, nan, 1));
    assert_null(telemetry_histogram(t, "x_bad", "", NULL, NULL, 1));
    /* a name is one kind: no counter or gauge under a histogram's name, nor the reverse */
    assert_null(telemetry_counter(t, "x_h", "k=\"3\"", NULL));
    assert_null(telemetry_gauge(t, "x_h", "k=\"1\"", NULL));
    assert_non_null(telemetry_counter(t, "x_c", "", NULL));
    assert_null(telemetry_histogram(t, "x_c", "k=\"1\"", NULL, b1, 2));
    /* while counters and gauges keep sharing names as before */
    assert_non_null(telemetry_gauge(t, "x_c", "k=\"1\"", NULL));
    telemetry_free(t);
}

static void *observe_ones(void *arg)
{
    for (int i = 0; i < 100000; i++)
        telemetry_observe(arg, i % 2 ? 1.0 : 3.0);
    return NULL;
}

static void test_histogram_concurrent(void **state)
{
    (void)state;
    struct telemetry *t = telemetry_new();
    static const double bounds[] = {2};
    struct telemetry_histogram *h = telemetry_histogram(t, "x_c", "", "", bounds, 1);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, observe_ones, h);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(telemetry_value(t, "x_c", ""), 400000);
    char *text;
    expose(t, &text);
    /* every observation and every addition to the sum counted once */
    assert_contains(text, "x_c_bucket{le=\"2\"} 200000\n");
    assert_contains(text, "x_c_bucket{le=\"+Inf\"} 400000\n");
    assert_contains(text, "x_c_sum 800000\n");
    free(text);
    telemetry_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_series_same_cell),
        cmocka_unit_test(test_concurrent_increments),
        cmocka_unit_test(test_prometheus_text),
        cmocka_unit_test(test_histogram_buckets_at_boundaries),
        cmocka_unit_test(test_histogram_rendering),
        cmocka_unit_test(test_histogram_registration),
        cmocka_unit_test(test_histogram_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
