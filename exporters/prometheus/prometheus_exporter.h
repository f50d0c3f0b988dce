/* prometheus_exporter.h — the `prometheus` exporter: a pull endpoint serving the metrics it
 * receives in the Prometheus text format (0.0.4), as the Collector's prometheus exporter writes
 * them, so dashboards and alerts written for one work with the other.
 *
 * Translation (the Collector's, with add_metric_suffixes: true): metric and label names have
 * every character outside [a-zA-Z0-9_:] replaced by '_', runs of '_' collapsed and trimmed, and
 * a leading digit gets a "_" prefix (labels: [a-zA-Z0-9_], no collapsing, and a leading digit
 * gets a "key_" prefix, a leading single '_' a "key" prefix); the unit is appended in words
 * (s → seconds, By → bytes, ms → milliseconds, "1" on a gauge → ratio, a/b → a_per_b) unless
 * the name already has those words, and {annotations} are dropped; monotonic sums get "_total"
 * (any other "total" word moves to the end). Histograms become
 * _bucket{le=...}/_sum/_count, summaries quantile series; exponential histograms are dropped and
 * counted. Each series carries job (service.namespace/service.name) and instance
 * (service.instance.id) from its resource, and otel_scope_name / otel_scope_version (none with
 * without_scope_info); each resource gives one target_info series holding its other attributes
 * (or all of them on every series with resource_to_telemetry_conversion.enabled). The resource
 * attributes that resource_constant_labels (or the older key's patterns) select are labels of
 * every series too, the resource's value winning over a point's, as the Collector copies them
 * into each point.
 *
 * The one idea: the exporter keeps the latest state of every series (a cumulative point
 * replaces, a delta point is added to what is held) and a scrape only renders that state, so the
 * pipeline never waits on a scraper. Series not updated for metric_expiration are forgotten.
 *
 * Thread-safety: consume() from pipeline threads and scrapes from the HTTP thread share one
 * mutex; rendering copies nothing out of the batches (points are copied in at consume). */
#ifndef LLMOTLP_PROMETHEUS_EXPORTER_H
#define LLMOTLP_PROMETHEUS_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/component.h"
#include "core/config.h"

/* translation_strategy: how names are made (the Collector's four values). The UTF-8 ones keep
 * names as written; since the text formats served here are not UTF-8 aware, such a name is then
 * escaped character by character to '_' (what the Collector serves a scraper that does not
 * negotiate escaping=allow-utf-8). */
enum prometheus_translation {
    PROM_UNDERSCORE_ESCAPING_WITH_SUFFIXES,    /* default; add_metric_suffixes: true */
    PROM_UNDERSCORE_ESCAPING_WITHOUT_SUFFIXES, /* add_metric_suffixes: false */
    PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES,
    PROM_NO_TRANSLATION,
};

/* Which resource attributes become labels of every series (pkg/resourcetotelemetry's Settings,
 * read under resource_to_telemetry_conversion and resource_constant_labels). included/excluded
 * are key patterns where '*' matches any run of characters and '?' one character, whole key;
 * excluded wins; excluded alone includes every other key. enabled takes every key (without the
 * three service.* ones with exclude_service_attributes). The two forms exclude each other. */
struct prometheus_resource_labels {
    bool enabled;                     /* default false */
    bool exclude_service_attributes;  /* default false */
    struct config_str_list included, excluded;
};

struct prometheus_exporter_config {
    char *endpoint;                   /* default "localhost:8889"; served path /metrics */
    char *namespace_;                 /* `namespace`: prefix "<ns>_" of every metric name */
    struct config_kv_list const_labels; /* added to every series */
    bool send_timestamps;             /* default false */
    int64_t metric_expiration;        /* ns; default 5m */
    bool add_metric_suffixes;         /* default true */
    struct prometheus_resource_labels resource_to_telemetry_conversion; /* the older key */
    struct prometheus_resource_labels resource_constant_labels; /* wins when both are set */
    bool without_scope_info;          /* default false: no otel_scope_* labels when true */
};

/* Whether resource attribute `key` becomes a label under r; false when r selects nothing. Pure. */
bool prometheus_resource_label_matches(const struct prometheus_resource_labels *r,
                                       const char *key);

extern const struct component_factory prometheus_exporter_factory;

/* The Prometheus name for an OTLP metric: `name` translated as above, with `unit` and the
 * _total suffix when add_suffixes. kind is the OTLP data case (Metric__DataCase value);
 * monotonic applies to sums. Writes at most len bytes (NUL included); returns out, which is ""
 * when no valid name results or it does not fit. Pure. */
char *prometheus_metric_name(const char *ns, const char *name, const char *unit, int kind,
                             bool monotonic, bool add_suffixes, char *out, size_t len);
/* The Prometheus label name for an attribute key; "" when none results or it does not fit.
 * Pure. */
char *prometheus_label_name(const char *key, char *out, size_t len);

/* The UTF-8 namer's metric name (NoUTF8EscapingWithSuffixes, NoTranslation): "<ns>_" + name
 * unchanged, then with add_suffixes the unit words (unless the name already ends with them),
 * "_per_<unit>", "_total" for monotonic sums, "_ratio" for gauges of unit "1", each moved to
 * the end if already there. "" when name is empty or the result does not fit. Pure. */
char *prometheus_metric_name_utf8(const char *ns, const char *name, const char *unit, int kind,
                                  bool monotonic, bool add_suffixes, char *out, size_t len);
/* Prometheus' underscore escaping of a name for a scraper without UTF-8 names: each character
 * (a UTF-8 sequence is one) outside [a-zA-Z0-9_:] (labels: [a-zA-Z0-9_]) becomes '_', a leading
 * digit too; nothing is collapsed. "" when nothing but '_' results or it does not fit. Pure. */
char *prometheus_escape_name(const char *in, bool label, char *out, size_t len);
/* The served names under a strategy: the two underscore strategies are
 * prometheus_metric_name / prometheus_label_name; the UTF-8 ones are the UTF-8 name escaped. */
char *prometheus_translate_metric_name(enum prometheus_translation t, const char *ns,
                                       const char *name, const char *unit, int kind,
                                       bool monotonic, char *out, size_t len);
char *prometheus_translate_label_name(enum prometheus_translation t, const char *key, char *out,
                                      size_t len);

/* The text a scrape would get now (malloc'd, *len set); NULL on out of memory. For tests. */
char *prometheus_exporter_render(void *exporter, size_t *len);
/* The same in OpenMetrics 1.0.0 when openmetrics (what a scraper that asks for it gets with
 * enable_open_metrics): counter families named without "_total" and samples with it, floats
 * with ".0" when integral, timestamps in seconds, "# EOF" last. Exemplars and _created lines
 * are not written (the Collector writes _created only when its handler is told to). */
char *prometheus_exporter_render_format(void *exporter, bool openmetrics, size_t *len);
/* The port actually bound after start (for endpoints with port 0). */
uint16_t prometheus_exporter_port(void *exporter);
/* For tests: the clock (ns, CLOCK_MONOTONIC scale) that metric_expiration is measured with;
 * NULL restores clock_now_ns. */
void prometheus_exporter_set_clock(void *exporter, int64_t (*now_ns)(void));

#endif
