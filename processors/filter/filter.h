/* filter.h — the Collector's `filter` processor: drops spans, span events, metrics, data points
 * and log records that match OTTL conditions (or the legacy include/exclude match properties).
 *
 * The component is reached through filter_processor_factory (registry.c); the config struct is
 * public so tests can build one. Instances are stateless past create and thread-safe: consume()
 * runs on any number of receiver threads at once (compiled conditions are immutable, counters are
 * atomics). */
#ifndef LLMOTLP_FILTER_H
#define LLMOTLP_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/component.h"
#include "core/config.h"

/* `traces:`, `metrics:`, `logs:` sections. Every condition list is kept as its YAML node so that
 * a bad condition is reported at its own file:line:col; NULL when the key is absent. */
struct filter_traces_cfg {
    const struct cnode *resource, *span, *spanevent;
};
struct filter_regexp_cfg {
    bool cacheenabled;
    int64_t cachemaxnumentries;
};
struct filter_metrics_cfg {
    const struct cnode *include, *exclude;   /* legacy match properties */
    struct filter_regexp_cfg regexp;         /* legacy regexp result cache: no effect */
    const struct cnode *resource, *metric, *datapoint;
};
struct filter_logs_cfg {
    const struct cnode *include, *exclude;   /* legacy match properties */
    const struct cnode *resource, *log_record;
};
struct filter_spans_cfg {
    const struct cnode *include, *exclude;   /* legacy match properties */
};

struct filter_config {
    int error_mode;                          /* enum ottl_error_mode */
    struct filter_traces_cfg traces;
    struct filter_metrics_cfg metrics;
    struct filter_logs_cfg logs;
    struct filter_spans_cfg spans;
    /* Context-inferred forms: a list of conditions, or of {context, conditions, error_mode}. */
    const struct cnode *trace_conditions, *metric_conditions, *log_conditions;
    const struct cnode *profiles, *profile_conditions;  /* no profiles pipelines: no effect */
};

extern const struct component_factory filter_processor_factory;

#endif
