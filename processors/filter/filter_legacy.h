/* filter_legacy.h — the filter processor's legacy include/exclude match properties (`spans`,
 * `metrics.include`, `logs.exclude`, ...), as the Collector's filterspan / filtermetric /
 * filterlog read them: an item is dropped when an include set does not match it or an exclude
 * set does (include checked first). Metrics' `resource_attributes` act on the resource, apart
 * from `metric_names`: a resource that include's do not match, or exclude's do, goes whole.
 *
 * Ownership: filter_legacy_compile gives the caller a matcher to free with filter_legacy_free.
 * Thread-safety: a compiled matcher is immutable; any thread may ask filter_legacy_drops.
 * Errors: compile errors name the file:line:col of the offending node and its key path. */
#ifndef LLMOTLP_FILTER_LEGACY_H
#define LLMOTLP_FILTER_LEGACY_H

#include <stdbool.h>

#include "core/config.h"
#include "core/error.h"
#include "core/otlp.h"
#include "core/ottl/ottl.h"

struct filter_legacy;

/* The keys of a `metrics` and a `logs` include/exclude section (for --describe); `spans` has
 * matchprops_fields. */
extern const struct config_field filter_legacy_metric_fields[];
extern const struct config_field filter_legacy_log_fields[];

/* Compiles the include and exclude properties (either may be NULL or a null node) of signal s;
 * `path` is the section's key path ("spans", "metrics", "logs") for messages. Settings accepted
 * without effect are reported to `w` (may be NULL). *out is NULL when nothing is left to check
 * (neither is present, or what is present selects nothing, as in the Collector). 0, or -1 with
 * err. */
int filter_legacy_compile(enum signal s, const struct cnode *include, const struct cnode *exclude,
                          const char *path, const struct config_warn_sink *w,
                          struct filter_legacy **out, struct error *err);
/* Whether the matcher decides anything for items of context ctx: the signal's items (span,
 * metric, log), and for metrics also the resource. */
bool filter_legacy_acts(const struct filter_legacy *l, enum ottl_context ctx);
/* Whether the item (a span, metric or log record, or a metrics resource; it->ctx says which,
 * with its resource and scope) is dropped. */
bool filter_legacy_drops(const struct filter_legacy *l, const struct ottl_item *it);
void filter_legacy_free(struct filter_legacy *l);

#endif
