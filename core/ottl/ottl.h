/* ottl.h — the OpenTelemetry Transformation Language, as the Collector's pkg/ottl defines it: the
 * one engine that parses and runs every expression a config holds (filter conditions, transform
 * statements, tail_sampling's ottl_condition). No component parses expressions of its own.
 *
 * The one idea: compile once, run many. A statement or condition is parsed at config time for one
 * context (span, log, datapoint, ...) into a tree whose paths are already resolved to fields of
 * the decoded OTLP structs, whose literal regexes are compiled (RE2, Go semantics) and whose
 * functions are bound with their arguments checked; running it is a walk over that tree against
 * one item (struct ottl_item) with no parsing, lookup by name or regex compilation left.
 *
 * Ownership: compiled statements and conditions are owned by the caller (free with the matching
 * _free). Values a run creates (set(), Concat(), ...) are allocated in the item's arena, which
 * must be the arena of the batch being edited, so they live as long as the batch.
 * Thread-safety: a compiled statement or condition is immutable; any number of threads may run it
 * at once on different items. An item (and its batch) is used by one thread at a time.
 * Errors: parsing fills err with "<what>" and sets err->code to the 1-based column of the text
 * where the problem is (0 when it is about the whole text), so a component can place it at its
 * config file:line:col. Running fails only on a type or runtime error (err filled; the caller
 * applies its error_mode, see ottl_error_mode). */
#ifndef LLMOTLP_OTTL_H
#define LLMOTLP_OTTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"

#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

/* The contexts of the Collector's OTTL, from the widest to the narrowest. A statement of one
 * context may also read and edit the wider contexts of its item (a span statement may set
 * resource.attributes[...]); a narrower one is out of reach (a span statement has no spanevent). */
enum ottl_context {
    OTTL_CTX_RESOURCE,
    OTTL_CTX_SCOPE,
    OTTL_CTX_SPAN,
    OTTL_CTX_SPANEVENT,
    OTTL_CTX_METRIC,
    OTTL_CTX_DATAPOINT,
    OTTL_CTX_LOG,
    OTTL_CTX_COUNT
};

/* "resource", "scope", "span", "spanevent", "metric", "datapoint", "log". */
const char *ottl_context_name(enum ottl_context c);
/* The context named `name` as configs spell it (the names above; "instrumentation_scope" is
 * "scope"). 0, or -1 when unknown. */
int ottl_context_parse(const char *name, enum ottl_context *out);

/* What a run does with an error, as the Collector's error_mode: propagate it (the component
 * refuses the data), ignore it (log it and go on with the next statement or item), or silent
 * (go on without logging). */
enum ottl_error_mode { OTTL_ERROR_PROPAGATE, OTTL_ERROR_IGNORE, OTTL_ERROR_SILENT };
/* "propagate", "ignore", "silent": for config_field choices, in enum order. */
extern const char *const ottl_error_mode_names[];

struct ottl_metric_list;   /* walk.c: a scope's metrics, growable during a walk */

/* One item and its parents, as a statement sees it. Fields below the item's context are NULL
 * (a span item has no event). The schema URL fields point into the ResourceX / ScopeX messages
 * so that set(resource.schema_url, ...) edits them; they may be NULL when absent from the data.
 * `cache` is the context's `cache` map: a scratch map that lives for the statements run on one
 * item, as in the Collector; the caller zeroes it for each item. */
struct ottl_item {
    enum ottl_context ctx;
    Opentelemetry__Proto__Resource__V1__Resource *resource;
    char **resource_schema_url;
    Opentelemetry__Proto__Common__V1__InstrumentationScope *scope;
    char **scope_schema_url;
    Opentelemetry__Proto__Trace__V1__Span *span;
    Opentelemetry__Proto__Trace__V1__Span__Event *event;
    Opentelemetry__Proto__Metrics__V1__Metric *metric;
    /* The data point: a NumberDataPoint, HistogramDataPoint, ExponentialHistogramDataPoint or
     * SummaryDataPoint, as metric->data_case says. */
    void *datapoint;
    Opentelemetry__Proto__Logs__V1__LogRecord *log;
    /* Metric and datapoint items walked by ottl_walk: the metric list of the item's scope, for
     * the functions that add a metric (ottl_item_append_metric); NULL elsewhere. */
    struct ottl_metric_list *metrics;
    Opentelemetry__Proto__Common__V1__KeyValue **cache;
    size_t n_cache;
    struct arena *arena;     /* where new values go: the batch's arena */
    int64_t now_ns;          /* Now() for this run (unix ns); 0 = read the clock */
};

struct ottl_statement;
struct ottl_condition;
/* A function of the engine's table; a component that adds functions of its own (the transform
 * processor's convert_sum_to_gauge, ...) defines them with core/ottl/ottl_internal.h. */
struct ottl_function;

/* Compiles `text` ("set(attributes[\"k\"], \"v\") where name == \"x\"") as a statement of context
 * ctx. NULL with err on a syntax error, an unknown path, function or enum, arguments that do not
 * fit the function, a bad regex literal (RE2's message), or out of memory. */
struct ottl_statement *ottl_statement_parse(enum ottl_context ctx, const char *text,
                                            struct error *err);
/* Compiles `text` (a boolean expression: "attributes[\"http.route\"] == \"/health\" and
 * IsMatch(name, \"^GET\")") as a condition of context ctx. NULL with err as above. */
struct ottl_condition *ottl_condition_parse(enum ottl_context ctx, const char *text,
                                            struct error *err);
/* As the two above, with a component's own functions visible too: `extra` is a NULL-terminated
 * list (NULL = none) looked up before the standard table, as the Collector merges a component's
 * factories into one map with the standard ones. A name in `extra` that is already a standard
 * function is a programming error, refused (NULL with err). `extra` must outlive the result. */
struct ottl_statement *ottl_statement_parse_ex(enum ottl_context ctx, const char *text,
                                               const struct ottl_function *const *extra,
                                               struct error *err);
struct ottl_condition *ottl_condition_parse_ex(enum ottl_context ctx, const char *text,
                                               const struct ottl_function *const *extra,
                                               struct error *err);
void ottl_statement_free(struct ottl_statement *s);
void ottl_condition_free(struct ottl_condition *c);

/* The context a statement or condition names through the prefixes of its paths ("span.name",
 * "resource.attributes[...]"), for the Collector's inferred-context forms: the narrowest context
 * named, among those whose bit (1u << ctx) is set in `allowed`. 0 and *out set; 1 when no path
 * names a context (the caller picks its default); -1 with err (column in err->code) on a syntax
 * error or a named context outside `allowed`. `is_condition` selects the grammar. */
int ottl_infer_context(const char *text, bool is_condition, unsigned allowed,
                       enum ottl_context *out, struct error *err);

/* Inference over a group of texts, with functions of a component's own, as the Collector's
 * priority inferrer does: the context the paths name (the narrowest, as above) is chosen when
 * every function used is available there; else the first context below it (narrower, in the
 * Collector's priority: log, datapoint, metric, spanevent, span, resource, scope) where they
 * all are. `extra` is indexed by context: extra[ctx] lists the component's functions callable
 * in ctx (NULL = none; the whole array NULL = standard functions only); standard functions are
 * available everywhere, and a name known nowhere restricts nothing (compiling refuses it).
 * Usage: init, add each text (statements and conditions), choose. add: 0, or -1 with err
 * (column in err->code) as ottl_infer_context. choose: 0 and *out; 1 when no path names a
 * context; -1 with err when no allowed context supports every function used. */
struct ottl_infer_hints {
    int named;              /* narrowest context a path names so far, -1 = none */
    unsigned fn_contexts;   /* contexts (1u << ctx) where every function seen so far exists */
};
void ottl_infer_hints_init(struct ottl_infer_hints *h);
int ottl_infer_hints_add(struct ottl_infer_hints *h, const char *text, bool is_condition,
                         unsigned allowed, const struct ottl_function *const *const *extra,
                         struct error *err);
int ottl_infer_hints_choose(const struct ottl_infer_hints *h, unsigned allowed,
                            enum ottl_context *out, struct error *err);

/* Runs a statement on one item: the where clause, then the editor when it holds. 0 (and
 * *applied = whether the editor ran; applied may be NULL), or -1 with err on a runtime error
 * (the item may be partly edited, as in the Collector). */
int ottl_statement_run(const struct ottl_statement *s, struct ottl_item *it, bool *applied,
                       struct error *err);
/* Evaluates a condition on one item. 0 and *result, or -1 with err on a runtime error. */
int ottl_condition_eval(const struct ottl_condition *c, struct ottl_item *it, bool *result,
                        struct error *err);
/* Whether running the statement may edit the item (every editor does; kept for callers that
 * want to skip batch_edit when a statement list is read-only, which none is today). */
bool ottl_statement_edits(const struct ottl_statement *s);
/* The text a statement or condition was compiled from (for logs). */
const char *ottl_statement_text(const struct ottl_statement *s);
const char *ottl_condition_text(const struct ottl_condition *c);

/* ---- walking a request --------------------------------------------------------------------- */

/* What a visit answers for its item. */
enum ottl_visit { OTTL_VISIT_KEEP = 0, OTTL_VISIT_DROP = 1, OTTL_VISIT_STOP = -1 };
typedef enum ottl_visit (*ottl_visit_fn)(struct ottl_item *it, void *ud);

/* Calls fn for every item of context ctx in a decoded export request (an
 * ExportTraceServiceRequest for span/spanevent, ExportMetricsServiceRequest for metric/datapoint,
 * ExportLogsServiceRequest for log; resource and scope for any of them; the request's descriptor
 * tells which), in order, with the
 * item's parents filled in and it->arena = arena. Items answered OTTL_VISIT_DROP are removed
 * (arrays compacted in place); a scope left with no spans/metrics/logs and a resource left with
 * no scope are removed too, and a metric left with no data points, as the Collector's filter
 * processor does. OTTL_VISIT_STOP ends the walk. Returns the number of items dropped, or -1 when
 * a visit stopped the walk. `req` must be editable (batch_edit) when fn may drop or edit. */
long ottl_walk(ProtobufCMessage *req, enum ottl_context ctx, struct arena *arena, ottl_visit_fn fn, void *ud);

/* Metrics added during a walk. A metric or datapoint walk visits the metrics of a scope as the
 * Collector's loop `for k := 0; k < metrics.Len(); k++` does: a metric appended to the scope by a
 * statement (extract_sum_metric, copy_metric, ...) is visited after the ones that were there,
 * by the same group of statements. So that a statement that appends on every metric it sees
 * (copy_metric() without a where clause) cannot grow a request without end, a scope takes at
 * most OTTL_MAX_APPENDED_METRICS appended metrics per walk; past that, appending fails with an
 * error (the caller's error_mode applies) and the walk ends with the scope's list. */
#define OTTL_MAX_APPENDED_METRICS 4096

/* Appends m (allocated in it->arena, as everything it points to) to the metric list of the item's
 * scope. 0, or -1 with err when the item has no metric list (not walked by ottl_walk over
 * metrics), the bound above is reached, or out of memory. */
int ottl_item_append_metric(struct ottl_item *it, Opentelemetry__Proto__Metrics__V1__Metric *m,
                            struct error *err);

#endif
