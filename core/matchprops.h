/* matchprops.h — the Collector's legacy include/exclude match properties (contrib
 * internal/filter/filterconfig MatchProperties, evaluated as filterspan, filterlog and
 * filtermetric do): which spans, log records or metrics a processor such as `attributes` (or the
 * `filter` processor's legacy form) acts on.
 *
 * A section is `match_type: strict|regexp`, `regexp: {cacheenabled, cachemaxnumentries}`, and
 * the properties, all of which must match:
 *   spans:   services, span_names, span_kinds, attributes [{key, value}], resources, libraries
 *            [{name, version}]
 *   logs:    log_bodies, log_severity_texts, log_severity_number {min, match_undefined},
 *            attributes, resources, libraries
 *   metrics: metric_names only — the Collector reads nothing else for metrics; every other
 *            property is reported as without effect there.
 * A list (services, span_names, ...) matches when any item matches: strict is string equality,
 * regexp is an unanchored RE2 search (Go's MatchString). `attributes`/`resources` match when
 * every listed key is present with (strict) an equal value of the same type, or (regexp) a Str,
 * Bool, Int or Double value whose text the pattern finds. Every listed library must match the
 * scope name (and its version when one is given, "" matching only an empty version).
 * Keys a signal refuses are errors with the Collector's messages ("log_bodies should not be
 * specified for trace spans", "services, span_names, and span_kinds are not valid for log
 * records", the "at least one of ..." messages).
 *
 * The filter processor spells its logs and metrics sections its own way (`bodies`,
 * `record_attributes`, `resource_attributes`, ...): it binds them into the same struct, names
 * its keys through matchprops_config.names for messages, and checks metrics' resource attributes
 * apart with matchprops_compile_attributes, as the Collector's filterprocessor does.
 *
 * Use: bind a section with matchprops_fields into struct matchprops_config (or let
 * matchprops_compile_node do it), compile it for one signal, then ask matchprops_skip_*() with
 * the include and exclude of a processor: an item is skipped when include does not match it or
 * exclude does (include first, as the Collector checks them).
 *
 * Ownership: a compiled struct matchprops is the caller's (matchprops_free); it keeps no pointer
 * into the config. Thread-safety: immutable after compile; matching is reentrant. Errors: compile
 * fills err with "file:line:col: <path>.<key>: <message>" when the section's node is known. */
#ifndef LLMOTLP_MATCHPROPS_H
#define LLMOTLP_MATCHPROPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "core/otlp.h"

#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

/* One include or exclude section as written (bound by matchprops_fields). */
struct matchprops_config {
    char *match_type;
    struct {
        bool cacheenabled;
        int64_t cachemaxnumentries;
    } regexp;
    struct config_str_list services, span_names, span_kinds;
    struct config_str_list log_bodies, log_severity_texts, metric_names;
    bool has_severity_number;
    struct {
        char *min;            /* an integer 0..24, or TRACE..FATAL4 */
        bool match_undefined;
    } log_severity_number;
    const struct cnode *attributes, *resources, *libraries;   /* lists of maps, as written */
    /* Optional (not bound; set by a caller whose section spells these keys its own way, as the
     * filter processor's logs do): the key names used in messages and to find positions. */
    const struct matchprops_names *names;
};

/* Key names of a caller's section; a NULL member keeps matchprops' own name. */
struct matchprops_names {
    const char *attributes, *resources, *log_bodies, *log_severity_texts, *log_severity_number;
};

extern const struct config_field matchprops_fields[];

struct matchprops;

/* Compiles a bound section for `signal`. `node` is the section as written (for positions; may
 * be NULL), `path` its key path in messages ("include"). Properties that have no effect for the
 * signal are reported to `w` (may be NULL). 0 with *out set, 0 with *out NULL when the section
 * selects nothing for the signal (as filtermetric without metric_names: no filtering), or -1
 * with err. */
int matchprops_compile(const struct matchprops_config *cfg, const struct cnode *node,
                       enum signal signal, const char *path, const struct config_warn_sink *w,
                       struct matchprops **out, struct error *err);
/* Binds `node` (a map; NULL or null = absent, *out NULL) with matchprops_fields and compiles. */
int matchprops_compile_node(const struct cnode *node, enum signal signal, const char *path,
                            const struct config_warn_sink *w, struct matchprops **out,
                            struct error *err);
void matchprops_free(struct matchprops *m);

/* An attribute matcher alone (filtermatcher.NewAttributesMatcher), for the filter processor's
 * metrics `resource_attributes`, which the Collector checks on the resource apart from the
 * metric names: `list` ([{key, value}], NULL or empty = *out NULL, nothing to check) under the
 * section's match_type; `key` names it in messages. 0, or -1 with err. */
int matchprops_compile_attributes(const struct matchprops_config *cfg, const struct cnode *node,
                                  const struct cnode *list, const char *key, const char *path,
                                  struct matchprops **out, struct error *err);
/* Whether `kvs` hold every key of such a matcher, with its value when one is given. */
bool matchprops_match_attributes(const struct matchprops *m,
                                 Opentelemetry__Proto__Common__V1__KeyValue *const *kvs,
                                 size_t n);

bool matchprops_match_span(const struct matchprops *m,
                           const Opentelemetry__Proto__Resource__V1__Resource *res,
                           const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                           const Opentelemetry__Proto__Trace__V1__Span *span);
bool matchprops_match_log(const struct matchprops *m,
                          const Opentelemetry__Proto__Resource__V1__Resource *res,
                          const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                          const Opentelemetry__Proto__Logs__V1__LogRecord *lr);
bool matchprops_match_metric(const struct matchprops *m,
                             const Opentelemetry__Proto__Resource__V1__Resource *res,
                             const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                             const Opentelemetry__Proto__Metrics__V1__Metric *metric);

/* include/exclude together (either may be NULL): whether the item is left alone. */
bool matchprops_skip_span(const struct matchprops *include, const struct matchprops *exclude,
                          const Opentelemetry__Proto__Resource__V1__Resource *res,
                          const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                          const Opentelemetry__Proto__Trace__V1__Span *span);
bool matchprops_skip_log(const struct matchprops *include, const struct matchprops *exclude,
                         const Opentelemetry__Proto__Resource__V1__Resource *res,
                         const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                         const Opentelemetry__Proto__Logs__V1__LogRecord *lr);
bool matchprops_skip_metric(const struct matchprops *include, const struct matchprops *exclude,
                            const Opentelemetry__Proto__Resource__V1__Resource *res,
                            const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                            const Opentelemetry__Proto__Metrics__V1__Metric *metric);

#endif
