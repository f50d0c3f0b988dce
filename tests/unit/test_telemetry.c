/* test_telemetry.c — the own-metrics registry: stable cells, concurrent increments, Prometheus text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_series_same_cell),
        cmocka_unit_test(test_concurrent_increments),
        cmocka_unit_test(test_prometheus_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
