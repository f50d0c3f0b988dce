/* telemetry_otlp.h — the own-metrics registry (telemetry.h) as one OTLP metrics request, what
 * the periodic readers of service.telemetry.metrics send: counters as monotonic cumulative Sums,
 * gauges as Gauges, histograms as cumulative explicit-bucket Histograms, each family one Metric
 * named as the registry names it (otelcol_exporter_sent_spans, as the Collector's OTLP names),
 * each series' Prometheus label text turned back into attributes. Cumulative points start when
 * the registry was made.
 *
 * Thread-safety: reads the registry under its lock (telemetry_foreach); callable from any
 * thread. Ownership: the request lives in an arena owned by the returned batch. */
#ifndef LLMOTLP_TELEMETRY_OTLP_H
#define LLMOTLP_TELEMETRY_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/error.h"
#include "core/telemetry.h"

/* Resource attributes of the request, as strings (service.name, service.version, ...). */
struct telemetry_resource {
    size_t n;
    char **keys;
    char **values;
};

/* Scope of every metric: the instrumentation scope name and version. */
#define TELEMETRY_OTLP_SCOPE "llmotlp"

/* One ExportMetricsServiceRequest of everything registered in t, points stamped now_ns
 * (CLOCK_REALTIME), as a SIGNAL_METRICS batch (one ref, the caller's). With `process`, the
 * process families the /metrics endpoint adds at scrape time come last, read now:
 * otelcol_process_uptime and otelcol_process_cpu_seconds (double cumulative sums, seconds),
 * otelcol_process_memory_rss (gauge, bytes). A registry with no series gives a request with one
 * resource and no metrics (but these). NULL with err on out of memory. */
struct batch *telemetry_otlp_batch(struct telemetry *t, const struct telemetry_resource *res,
                                   const char *scope_version, int64_t now_ns, bool process,
                                   struct error *err);

/* Parses Prometheus label text `a="x",b="y"` (values escaped or not, as telemetry.c accepts them)
 * calling fn for each pair with the unescaped value. -1 when the text is not such a list. */
int telemetry_labels_parse(const char *labels, void (*fn)(void *ctx, const char *key, size_t key_len,
                                                          const char *value, size_t value_len),
                           void *ctx);

#endif
