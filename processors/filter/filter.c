/* filter.c — the `filter` processor: the Collector's filterprocessor. Every configured OTTL
 * condition is compiled once (core/ottl) for its context; an item any condition holds for is
 * dropped, with its children, and the containers it leaves empty go with it.
 *
 * The one idea: look before you cut. A request is first evaluated on the batch's read-only
 * decoded face, stopping at the first match; only then is it opened for editing (batch_edit) and
 * walked again, dropping for real, from the widest context to the narrowest (resource → scope →
 * span → span event; resource → scope → metric → data point; resource → scope → log), so a
 * narrower condition never sees what a wider one dropped. A request nothing matches leaves as the
 * bytes that arrived. The two walks give the same answers: conditions only read.
 *
 * Forms, as the Collector has them: the explicit-context lists (`traces.span`, ...), the
 * context-inferred `trace_conditions` / `metric_conditions` / `log_conditions` (each condition's
 * context inferred from its path prefixes, or named by its group's `context:`), and the legacy
 * include/exclude match properties (`spans`, `metrics.include`, `logs.exclude`, ...). The
 * Collector's rules on which forms may be combined are kept, with its messages. */
#include "processors/filter/filter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/log.h"
#include "core/ottl/ottl.h"
#include "core/telemetry.h"
#include "core/matchprops.h"
#include "processors/filter/filter_legacy.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_request;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest metrics_request;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest logs_request;
typedef Opentelemetry__Proto__Metrics__V1__Metric otlp_metric;


/* ---- config ---------------------------------------------------------------------------------- */

#define TOFF(f) offsetof(struct filter_traces_cfg, f)
#define MOFF(f) offsetof(struct filter_metrics_cfg, f)
#define LOFF(f) offsetof(struct filter_logs_cfg, f)
#define SOFF(f) offsetof(struct filter_spans_cfg, f)
#define OFF(f) offsetof(struct filter_config, f)

static const struct config_field traces_fields[] = {
    {.name = "resource", .type = CFG_RAW, .offset = TOFF(resource),
     .doc = "OTTL resource conditions: a matching resource is dropped with all its spans"},
    {.name = "span", .type = CFG_RAW, .offset = TOFF(span),
     .doc = "OTTL span conditions: a matching span is dropped with its events"},
    {.name = "spanevent", .type = CFG_RAW, .offset = TOFF(spanevent),
     .doc = "OTTL span event conditions: a matching event is dropped (its span stays)"},
    {.name = NULL},
};

static const struct config_field regexp_fields[] = {
    {.name = "cacheenabled", .type = CFG_BOOL,
     .offset = offsetof(struct filter_regexp_cfg, cacheenabled), .def = "false",
     .doc = "the Collector's cache of regexp match results",
     .no_effect = "llmotlp's RE2 matcher keeps no cache of results", .harmless = "false"},
    {.name = "cachemaxnumentries", .type = CFG_INT,
     .offset = offsetof(struct filter_regexp_cfg, cachemaxnumentries), .def = "0",
     .doc = "size of that cache", .no_effect = "llmotlp's RE2 matcher keeps no cache of results",
     .harmless = "0"},
    {.name = NULL},
};

static const struct config_field metrics_fields[] = {
    {.name = "include", .type = CFG_RAW, .offset = MOFF(include),
     .sub = filter_legacy_metric_fields,
     .doc = "legacy: metrics not matching these properties are dropped"},
    {.name = "exclude", .type = CFG_RAW, .offset = MOFF(exclude),
     .sub = filter_legacy_metric_fields,
     .doc = "legacy: metrics matching these properties are dropped"},
    {.name = "regexp", .type = CFG_SECTION, .offset = MOFF(regexp), .sub = regexp_fields,
     .doc = "legacy: regexp match options"},
    {.name = "resource", .type = CFG_RAW, .offset = MOFF(resource),
     .doc = "OTTL resource conditions: a matching resource is dropped with all its metrics"},
    {.name = "metric", .type = CFG_RAW, .offset = MOFF(metric),
     .doc = "OTTL metric conditions: a matching metric is dropped"},
    {.name = "datapoint", .type = CFG_RAW, .offset = MOFF(datapoint),
     .doc = "OTTL data point conditions: a matching point is dropped; a metric left without "
            "points is dropped"},
    {.name = NULL},
};

static const struct config_field logs_fields[] = {
    {.name = "include", .type = CFG_RAW, .offset = LOFF(include),
     .sub = filter_legacy_log_fields,
     .doc = "legacy: log records not matching these properties are dropped"},
    {.name = "exclude", .type = CFG_RAW, .offset = LOFF(exclude),
     .sub = filter_legacy_log_fields,
     .doc = "legacy: log records matching these properties are dropped"},
    {.name = "resource", .type = CFG_RAW, .offset = LOFF(resource),
     .doc = "OTTL resource conditions: a matching resource is dropped with all its records"},
    {.name = "log_record", .type = CFG_RAW, .offset = LOFF(log_record),
     .doc = "OTTL log conditions: a matching log record is dropped"},
    {.name = NULL},
};

static const struct config_field spans_fields[] = {
    {.name = "include", .type = CFG_RAW, .offset = SOFF(include),
     .sub = matchprops_fields,
     .doc = "legacy: spans not matching these properties are dropped"},
    {.name = "exclude", .type = CFG_RAW, .offset = SOFF(exclude),
     .sub = matchprops_fields,
     .doc = "legacy: spans matching these properties are dropped"},
    {.name = NULL},
};

static const struct config_field filter_fields[] = {
    {.name = "error_mode", .type = CFG_ENUM, .offset = OFF(error_mode), .def = "ignore",
     .choices = ottl_error_mode_names,
     .doc = "what an error while evaluating a condition does: ignore (log it, the condition is "
            "false), silent (the same without the log line), propagate (the request is refused); "
            "ignore is the Collector's default since processor.filter.defaultErrorModeIgnore"},
    {.name = "traces", .type = CFG_SECTION, .offset = OFF(traces), .sub = traces_fields,
     .doc = "explicit-context OTTL conditions for spans"},
    {.name = "metrics", .type = CFG_SECTION, .offset = OFF(metrics), .sub = metrics_fields,
     .doc = "explicit-context OTTL conditions, or legacy include/exclude, for metrics"},
    {.name = "logs", .type = CFG_SECTION, .offset = OFF(logs), .sub = logs_fields,
     .doc = "explicit-context OTTL conditions, or legacy include/exclude, for logs"},
    {.name = "spans", .type = CFG_SECTION, .offset = OFF(spans), .sub = spans_fields,
     .doc = "legacy include/exclude match properties for spans"},
    {.name = "trace_conditions", .type = CFG_RAW, .offset = OFF(trace_conditions),
     .doc = "OTTL conditions whose context (resource, scope, span, spanevent) is inferred from "
            "their paths, or groups {context, conditions, error_mode}"},
    {.name = "metric_conditions", .type = CFG_RAW, .offset = OFF(metric_conditions),
     .doc = "the same for metrics (resource, scope, metric, datapoint)"},
    {.name = "log_conditions", .type = CFG_RAW, .offset = OFF(log_conditions),
     .doc = "the same for logs (resource, scope, log)"},
    {.name = "profiles", .type = CFG_RAW, .offset = OFF(profiles),
     .doc = "conditions for profiles", .no_effect = "llmotlp has no profiles pipelines",
     .harmless = "{}"},
    {.name = "profile_conditions", .type = CFG_RAW, .offset = OFF(profile_conditions),
     .doc = "conditions for profiles", .no_effect = "llmotlp has no profiles pipelines",
     .harmless = "[]"},
    {.name = NULL},
};

/* The settings of one group of the context-inferred forms. */
struct group_cfg {
    char *context;
    const struct cnode *conditions;
    int error_mode;
    bool error_mode_set;
};

static const struct config_field group_fields[] = {
    {.name = "context", .type = CFG_STRING, .offset = offsetof(struct group_cfg, context),
     .doc = "the OTTL context of every condition of the group; inferred when absent"},
    {.name = "conditions", .type = CFG_RAW, .offset = offsetof(struct group_cfg, conditions),
     .doc = "the group's conditions"},
    {.name = "error_mode", .type = CFG_ENUM, .offset = offsetof(struct group_cfg, error_mode),
     .def = "ignore", .choices = ottl_error_mode_names, .track_set = true,
     .set_offset = offsetof(struct group_cfg, error_mode_set),
     .doc = "overrides the processor's error_mode for this group"},
    {.name = NULL},
};

/* ---- compiled conditions --------------------------------------------------------------------- */

struct fcond {
    struct ottl_condition *c;
    enum ottl_error_mode mode;
    char *where;     /* "file:12:9: traces.span[1]", for log lines */
};

struct flevel {
    struct fcond *v;
    size_t n, cap;
};

/* What one signal runs: conditions per context, and the legacy matchers. */
struct fprog {
    struct flevel lv[OTTL_CTX_COUNT];
    struct filter_legacy *legacy;   /* NULL unless include/exclude is configured */
};

static void prog_free(struct fprog *g)
{
    for (int c = 0; c < OTTL_CTX_COUNT; c++) {
        for (size_t i = 0; i < g->lv[c].n; i++) {
            ottl_condition_free(g->lv[c].v[i].c);
            free(g->lv[c].v[i].where);
        }
        free(g->lv[c].v);
    }
    filter_legacy_free(g->legacy);
    memset(g, 0, sizeof *g);
}

static bool prog_empty(const struct fprog *g)
{
    for (int c = 0; c < OTTL_CTX_COUNT; c++)
        if (g->lv[c].n)
            return false;
    return g->legacy == NULL;
}

static bool present(const struct cnode *n)
{
    return n && n->kind != CNODE_NULL;
}

/* "file:l:c: path[i]: column N: what" — where a condition failed to compile. */
static int cond_error(struct error *err, const struct cnode *at, const char *path, size_t i,
                      const struct error *why)
{
    char pos[256], col[32] = "";
    cnode_where(at, pos, sizeof pos);
    if (why->code > 0)
        snprintf(col, sizeof col, "column %d: ", why->code);
    struct error e = {0};
    error_set(&e, "%s: %s[%zu]: %s%s", pos, path, i, col, why->msg);
    *err = e;
    return -1;
}

/* The filter processor's own functions (metrics only) are not in the engine: said plainly. */
static void explain_metric_functions(const char *text, struct error *why)
{
    static const char *const fns[] = {"HasAttrKeyOnDatapoint", "HasAttrOnDatapoint"};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        if (!strstr(text, fns[i]) || !strstr(why->msg, fns[i]))
            continue;
        struct error e = {.code = why->code};
        error_set(&e, "%s (the filter processor's metric-only function) is not supported by "
                  "llmotlp's OTTL engine; use a datapoint condition on the attribute instead "
                  "(engine: %s)", fns[i], why->msg);
        *why = e;
        return;
    }
}

static int add_cond(struct fprog *g, enum ottl_context ctx, enum ottl_error_mode mode,
                    const struct cnode *at, const char *path, size_t i, struct error *err)
{
    struct error why = {0};
    struct ottl_condition *c = ottl_condition_parse(ctx, at->value, &why);
    if (!c) {
        explain_metric_functions(at->value, &why);
        return cond_error(err, at, path, i, &why);
    }
    struct flevel *l = &g->lv[ctx];
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        struct fcond *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            ottl_condition_free(c);
            return error_set(err, "out of memory");
        }
        l->v = v;
        l->cap = cap;
    }
    char pos[256], where[512];
    cnode_where(at, pos, sizeof pos);
    snprintf(where, sizeof where, "%s: %s[%zu]", pos, path, i);
    char *w = strdup(where);
    if (!w) {
        ottl_condition_free(c);
        return error_set(err, "out of memory");
    }
    l->v[l->n++] = (struct fcond){.c = c, .mode = mode, .where = w};
    return 0;
}

/* An explicit-context list (`traces.span`): every item a condition of context ctx. */
static int add_list(struct fprog *g, enum ottl_context ctx, enum ottl_error_mode mode,
                    const struct cnode *list, const char *path, struct error *err)
{
    if (!present(list))
        return 0;
    if (list->kind != CNODE_SEQ) {
        char pos[256];
        return error_set(err, "%s: %s: expected a list of OTTL conditions",
                         cnode_where(list, pos, sizeof pos), path);
    }
    for (size_t i = 0; i < list->n; i++) {
        const struct cnode *it = list->items[i];
        if (it->kind != CNODE_SCALAR || !it->value || !it->value[0]) {
            char pos[256];
            return error_set(err, "%s: %s[%zu]: expected an OTTL condition (a string)",
                             cnode_where(it, pos, sizeof pos), path, i);
        }
        if (add_cond(g, ctx, mode, it, path, i, err) != 0)
            return -1;
    }
    return 0;
}

static const char *const signal_contexts_text[SIGNAL_COUNT] = {
    "resource, scope, span, spanevent", "resource, scope, metric, datapoint",
    "resource, scope, log"};

static unsigned signal_contexts(enum signal s)
{
    unsigned common = 1u << OTTL_CTX_RESOURCE | 1u << OTTL_CTX_SCOPE;
    switch (s) {
    case SIGNAL_TRACES: return common | 1u << OTTL_CTX_SPAN | 1u << OTTL_CTX_SPANEVENT;
    case SIGNAL_METRICS: return common | 1u << OTTL_CTX_METRIC | 1u << OTTL_CTX_DATAPOINT;
    default: return common | 1u << OTTL_CTX_LOG;
    }
}

/* One condition of the inferred forms: of the group's context, else of the one its paths name. */
static int add_inferred(struct fprog *g, enum signal s, const char *context,
                        enum ottl_error_mode mode, const struct cnode *it, const char *path,
                        size_t i, struct error *err)
{
    char pos[256];
    if (it->kind != CNODE_SCALAR || !it->value || !it->value[0])
        return error_set(err, "%s: %s[%zu]: condition cannot be empty",
                         cnode_where(it, pos, sizeof pos), path, i);
    enum ottl_context ctx;
    if (context) {
        if (ottl_context_parse(context, &ctx) != 0 || !(signal_contexts(s) & 1u << ctx))
            return error_set(err, "%s: %s: unknown context \"%s\" (known: %s)",
                             cnode_where(it, pos, sizeof pos), path, context,
                             signal_contexts_text[s]);
    } else {
        struct error why = {0};
        int rc = ottl_infer_context(it->value, true, signal_contexts(s), &ctx, &why);
        if (rc < 0)
            return cond_error(err, it, path, i, &why);
        if (rc > 0) {
            struct error e = {0};
            error_set(&e, "cannot infer the context of this condition: prefix its paths with one "
                      "of %s (span.name, resource.attributes[\"k\"]) or give its group a context",
                      signal_contexts_text[s]);
            return cond_error(err, it, path, i, &e);
        }
    }
    return add_cond(g, ctx, mode, it, path, i, err);
}

/* `trace_conditions` and its siblings: a list of conditions (the basic style), or a list of
 * groups {context, conditions, error_mode} (the advanced one); not both, as in the Collector. */
static int add_inferred_list(struct fprog *g, enum signal s, enum ottl_error_mode mode,
                             const struct cnode *list, const char *path, struct error *err)
{
    char pos[256];
    if (!present(list))
        return 0;
    if (list->kind != CNODE_SEQ)
        return error_set(err, "%s: %s: expected a list of OTTL conditions or of condition groups",
                         cnode_where(list, pos, sizeof pos), path);
    bool basic = false, advanced = false;
    for (size_t i = 0; i < list->n; i++) {
        const struct cnode *it = list->items[i];
        if (it->kind == CNODE_NULL)
            return error_set(err, "%s: %s[%zu]: condition cannot be empty",
                             cnode_where(it, pos, sizeof pos), path, i);
        bool is_map = it->kind == CNODE_MAP;
        if ((is_map && basic) || (!is_map && advanced))
            return error_set(err, "%s: %s[%zu]: configuring multiple configuration styles is not "
                             "supported, please use only Basic configuration or only Advanced "
                             "configuration", cnode_where(it, pos, sizeof pos), path, i);
        basic |= !is_map;
        advanced |= is_map;
        if (!is_map) {
            if (add_inferred(g, s, NULL, mode, it, path, i, err) != 0)
                return -1;
            continue;
        }
        struct group_cfg gc;
        memset(&gc, 0, sizeof gc);
        char gpath[160];
        snprintf(gpath, sizeof gpath, "%s[%zu]", path, i);
        if (config_bind(group_fields, it, &gc, err) != 0) {
            config_free_bound(group_fields, &gc);
            error_prefix(err, "%s: ", gpath);
            return -1;
        }
        enum ottl_error_mode gm = gc.error_mode_set ? (enum ottl_error_mode)gc.error_mode : mode;
        char cpath[192];
        snprintf(cpath, sizeof cpath, "%s.conditions", gpath);
        int rc = 0;
        const struct cnode *cl = gc.conditions;
        if (!present(cl) || cl->kind != CNODE_SEQ) {
            rc = error_set(err, "%s: %s: expected a list of OTTL conditions",
                           cnode_where(present(cl) ? cl : it, pos, sizeof pos), cpath);
        } else {
            for (size_t j = 0; rc == 0 && j < cl->n; j++)
                rc = add_inferred(g, s, gc.context, gm, cl->items[j], cpath, j, err);
        }
        config_free_bound(group_fields, &gc);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static bool any_present(const struct cnode *a, const struct cnode *b, const struct cnode *c)
{
    return present(a) || present(b) || present(c);
}

/* The Collector's Validate: forms that cannot be combined, with its messages (each placed at the
 * key it names first). */
static int check_forms(const struct filter_config *cfg, struct error *err)
{
    const struct filter_traces_cfg *t = &cfg->traces;
    const struct filter_metrics_cfg *m = &cfg->metrics;
    const struct filter_logs_cfg *l = &cfg->logs;
    bool spans_legacy = present(cfg->spans.include) || present(cfg->spans.exclude);
    bool metrics_legacy = present(m->include) || present(m->exclude);
    bool logs_legacy = present(l->include) || present(l->exclude);
    if (present(cfg->trace_conditions) && any_present(t->resource, t->span, t->spanevent))
        return error_set(err, "trace_conditions: cannot use context inferred trace conditions "
                         "\"trace_conditions\" and the settings \"traces.resource\", "
                         "\"traces.span\", \"traces.spanevent\" at the same time");
    if (present(cfg->metric_conditions) &&
        (any_present(m->resource, m->metric, m->datapoint) || metrics_legacy))
        return error_set(err, "metric_conditions: cannot use context inferred metric conditions "
                         "\"metric_conditions\" and the settings \"metrics.resource\", "
                         "\"metrics.metric\", \"metrics.datapoint\", \"metrics.include\", "
                         "\"metrics.exclude\" at the same time");
    if (present(cfg->log_conditions) && (any_present(l->resource, l->log_record, NULL) ||
                                         logs_legacy))
        return error_set(err, "log_conditions: cannot use context inferred log conditions "
                         "\"log_conditions\" and the settings \"logs.resource\", \"logs.log\", "
                         "\"logs.include\", \"logs.exclude\" at the same time");
    /* The Collector does not check this pair; one of the two would be left unused, so it is
     * refused here rather than silently ignored. */
    if (present(cfg->trace_conditions) && spans_legacy)
        return error_set(err, "trace_conditions: cannot use context inferred trace conditions "
                         "\"trace_conditions\" and the span settings \"spans.include\", "
                         "\"spans.exclude\" at the same time");
    if (any_present(t->resource, t->span, t->spanevent) && spans_legacy)
        return error_set(err, "spans: cannot use \"traces.resource\", \"traces.span\", "
                         "\"traces.spanevent\" and the span settings \"spans.include\", "
                         "\"spans.exclude\" at the same time");
    if (any_present(m->resource, m->metric, m->datapoint) && metrics_legacy)
        return error_set(err, "metrics: cannot use \"metrics.resource\", \"metrics.metric\", "
                         "\"metrics.datapoint\" and the settings \"metrics.include\", "
                         "\"metrics.exclude\" at the same time");
    if (any_present(l->resource, l->log_record, NULL) && logs_legacy)
        return error_set(err, "logs: cannot use \"logs.resource\", \"logs.log\" and the settings "
                         "\"logs.include\", \"logs.exclude\" at the same time");
    return 0;
}

/* Compiles what signal s runs. 0, or -1 with err (prog freed). */
static int prog_compile(const struct filter_config *cfg, enum signal s, struct fprog *g,
                        const struct config_warn_sink *w, struct error *err)
{
    memset(g, 0, sizeof *g);
    enum ottl_error_mode mode = (enum ottl_error_mode)cfg->error_mode;
    int rc = 0;
    switch (s) {
    case SIGNAL_TRACES:
        rc = add_list(g, OTTL_CTX_RESOURCE, mode, cfg->traces.resource, "traces.resource", err);
        if (rc == 0)
            rc = add_list(g, OTTL_CTX_SPAN, mode, cfg->traces.span, "traces.span", err);
        if (rc == 0)
            rc = add_list(g, OTTL_CTX_SPANEVENT, mode, cfg->traces.spanevent, "traces.spanevent",
                          err);
        if (rc == 0)
            rc = add_inferred_list(g, s, mode, cfg->trace_conditions, "trace_conditions", err);
        if (rc == 0)
            rc = filter_legacy_compile(SIGNAL_TRACES, cfg->spans.include, cfg->spans.exclude,
                                       "spans", w, &g->legacy, err);
        break;
    case SIGNAL_METRICS:
        rc = add_list(g, OTTL_CTX_RESOURCE, mode, cfg->metrics.resource, "metrics.resource", err);
        if (rc == 0)
            rc = add_list(g, OTTL_CTX_METRIC, mode, cfg->metrics.metric, "metrics.metric", err);
        if (rc == 0)
            rc = add_list(g, OTTL_CTX_DATAPOINT, mode, cfg->metrics.datapoint,
                          "metrics.datapoint", err);
        if (rc == 0)
            rc = add_inferred_list(g, s, mode, cfg->metric_conditions, "metric_conditions", err);
        if (rc == 0)
            rc = filter_legacy_compile(SIGNAL_METRICS, cfg->metrics.include,
                                       cfg->metrics.exclude, "metrics", w, &g->legacy, err);
        break;
    default:
        rc = add_list(g, OTTL_CTX_RESOURCE, mode, cfg->logs.resource, "logs.resource", err);
        if (rc == 0)
            rc = add_list(g, OTTL_CTX_LOG, mode, cfg->logs.log_record, "logs.log_record", err);
        if (rc == 0)
            rc = add_inferred_list(g, s, mode, cfg->log_conditions, "log_conditions", err);
        if (rc == 0)
            rc = filter_legacy_compile(SIGNAL_LOGS, cfg->logs.include, cfg->logs.exclude, "logs",
                                       w, &g->legacy, err);
        break;
    }
    if (rc != 0)
        prog_free(g);
    return rc;
}

static int filter_validate(const void *cfgp, struct error *err)
{
    const struct filter_config *cfg = cfgp;
    if (check_forms(cfg, err) != 0)
        return -1;
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        struct fprog g;
        if (prog_compile(cfg, (enum signal)s, &g, NULL, err) != 0)
            return -1;
        prog_free(&g);
    }
    return 0;
}

/* What the legacy sections accept without effect (a regexp cache, `expressions` beside
 * match_type strict, a logs section naming nothing), reported once at load. */
static void filter_warn(const void *cfgp, const struct cnode *node,
                        const struct config_warn_sink *w)
{
    const struct filter_config *cfg = cfgp;
    (void)node;
    struct error err = {0};
    struct filter_legacy *l = NULL;
    if (filter_legacy_compile(SIGNAL_TRACES, cfg->spans.include, cfg->spans.exclude, "spans", w,
                              &l, &err) == 0)
        filter_legacy_free(l);
    if (filter_legacy_compile(SIGNAL_METRICS, cfg->metrics.include, cfg->metrics.exclude,
                              "metrics", w, &l, &err) == 0)
        filter_legacy_free(l);
    if (filter_legacy_compile(SIGNAL_LOGS, cfg->logs.include, cfg->logs.exclude, "logs", w, &l,
                              &err) == 0)
        filter_legacy_free(l);
}

/* ---- the processor --------------------------------------------------------------------------- */

struct filter_proc {
    char *log_name;
    enum signal signal;
    struct consumer *next;
    struct fprog prog;
    _Atomic uint64_t *dropped_items;      /* spans / data points / log records */
    _Atomic uint64_t *dropped_events;     /* span events (traces) */
    _Atomic uint64_t *dropped_metrics;    /* whole metrics (metrics) */
    _Atomic uint64_t *eval_errors;
    _Atomic uint64_t *refused;            /* requests refused under error_mode propagate */
    struct log_gate log_gate;             /* evaluation errors: one line a second */
};

static void log_eval_error(struct filter_proc *p, enum log_level lvl, const struct fcond *c,
                           const char *msg)
{
    uint64_t skipped = 0;
    if (!log_gate_pass(&p->log_gate, clock_now_ns(), &skipped))
        return;
    char more[96] = "";
    if (skipped)
        snprintf(more, sizeof more, " (%" PRIu64 " other error%s not logged in the last second)",
                 skipped, skipped == 1 ? "" : "s");
    log_write(lvl, p->log_name, "failed to eval condition %s \"%s\": %s%s", c->where,
              ottl_condition_text(c->c), msg, more);
}

struct visit {
    struct filter_proc *p;
    const struct flevel *lv;
    const struct filter_legacy *legacy;   /* legacy matchers at the item level */
    bool drop;          /* second walk: answer DROP; first walk: STOP at the first match */
    bool matched;
    bool failed;        /* an error under propagate: the request is refused */
    char why[1200];
    /* First walk: errors are held back (the second walk, if any, meets them again), and
     * reported only when no second walk follows. */
    bool quiet;
    uint64_t errors;
    const struct fcond *logged;   /* the first error to log (error_mode ignore) */
    char logged_msg[512];
};

static enum ottl_visit visit_item(struct ottl_item *it, void *ud)
{
    struct visit *v = ud;
    if (v->legacy && filter_legacy_drops(v->legacy, it)) {
        v->matched = true;
        return v->drop ? OTTL_VISIT_DROP : OTTL_VISIT_STOP;
    }
    for (size_t i = 0; v->lv && i < v->lv->n; i++) {
        const struct fcond *c = &v->lv->v[i];
        it->cache = NULL;
        it->n_cache = 0;
        bool hit = false;
        struct error err = {0};
        if (ottl_condition_eval(c->c, it, &hit, &err) != 0) {
            v->errors++;
            if (c->mode == OTTL_ERROR_PROPAGATE) {
                v->failed = true;
                snprintf(v->why, sizeof v->why, "failed to eval condition %.300s \"%.400s\": "
                         "%.400s", c->where, ottl_condition_text(c->c), err.msg);
                return OTTL_VISIT_STOP;
            }
            if (c->mode == OTTL_ERROR_IGNORE && !v->quiet)
                log_eval_error(v->p, LOG_WARN, c, err.msg);
            else if (c->mode == OTTL_ERROR_IGNORE && !v->logged) {
                v->logged = c;
                snprintf(v->logged_msg, sizeof v->logged_msg, "%.500s", err.msg);
            }
            continue;   /* an error is a condition that does not hold */
        }
        if (hit) {
            v->matched = true;
            return v->drop ? OTTL_VISIT_DROP : OTTL_VISIT_STOP;
        }
    }
    return OTTL_VISIT_KEEP;
}

/* What a walk over every level found. */
struct outcome {
    bool matched;
    bool failed;                  /* an error under propagate stopped it */
    uint64_t errors;
    const struct fcond *logged;   /* first walk: an error held back for the log */
    char logged_msg[512];
    char why[1200];
};

/* Walks every level with conditions, widest first: the first walk (drop false) stops at the
 * first match and holds its errors back; the second drops and reports. */
static void run_levels(struct filter_proc *p, ProtobufCMessage *req, struct arena *scratch,
                       bool drop, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    for (int c = 0; c < OTTL_CTX_COUNT; c++) {
        bool legacy_here = filter_legacy_acts(p->prog.legacy, (enum ottl_context)c);
        if (!p->prog.lv[c].n && !legacy_here)
            continue;
        struct visit v = {.p = p, .lv = &p->prog.lv[c], .drop = drop, .quiet = !drop,
                          .legacy = legacy_here ? p->prog.legacy : NULL};
        ottl_walk(req, (enum ottl_context)c, scratch, visit_item, &v);
        arena_reset(scratch);
        o->errors += v.errors;
        if (v.logged && !o->logged) {
            o->logged = v.logged;
            memcpy(o->logged_msg, v.logged_msg, sizeof o->logged_msg);
        }
        if (v.failed) {
            o->failed = true;
            memcpy(o->why, v.why, sizeof o->why);
            return;
        }
        if (v.matched) {
            o->matched = true;
            if (!drop)
                return;   /* first walk: one match is enough to know */
        }
    }
}

/* ---- counting what went ------------------------------------------------------------------- */

struct tally {
    uint64_t items, events, metrics;
};

static struct tally count(enum signal s, const ProtobufCMessage *msg)
{
    struct tally t = {0};
    if (s == SIGNAL_TRACES) {
        const trace_request *r = (const trace_request *)msg;
        for (size_t i = 0; i < r->n_resource_spans; i++) {
            const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = r->resource_spans[i];
            for (size_t j = 0; j < rs->n_scope_spans; j++) {
                const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[j];
                t.items += ss->n_spans;
                for (size_t k = 0; k < ss->n_spans; k++)
                    t.events += ss->spans[k]->n_events;
            }
        }
    } else if (s == SIGNAL_METRICS) {
        const metrics_request *r = (const metrics_request *)msg;
        for (size_t i = 0; i < r->n_resource_metrics; i++) {
            const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = r->resource_metrics[i];
            for (size_t j = 0; j < rm->n_scope_metrics; j++) {
                const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[j];
                t.metrics += sm->n_metrics;
                for (size_t k = 0; k < sm->n_metrics; k++) {
                    size_t n = otlp_metric_points(sm->metrics[k]);
                    t.items += n;
                }
            }
        }
    } else {
        const logs_request *r = (const logs_request *)msg;
        for (size_t i = 0; i < r->n_resource_logs; i++) {
            const Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = r->resource_logs[i];
            for (size_t j = 0; j < rl->n_scope_logs; j++) {
                t.items += rl->scope_logs[j]->n_log_records;
            }
        }
    }
    return t;
}

static size_t n_resources(enum signal s, const ProtobufCMessage *msg)
{
    switch (s) {
    case SIGNAL_TRACES: return ((const trace_request *)msg)->n_resource_spans;
    case SIGNAL_METRICS: return ((const metrics_request *)msg)->n_resource_metrics;
    default: return ((const logs_request *)msg)->n_resource_logs;
    }
}

static enum consume_status refuse(struct filter_proc *p, const char *why)
{
    telemetry_add(p->refused, 1);
    uint64_t skipped = 0;
    if (log_gate_pass(&p->log_gate, clock_now_ns(), &skipped))
        log_error(p->log_name, "failed processing %s, the request is refused (error_mode "
                  "propagate): %s", signal_name(p->signal), why);
    /* As the Collector: a plain (not permanent) error, which its receivers answer with
     * Unavailable / 503; the sender keeps the data and may retry. */
    return CONSUME_RETRY;
}

static enum consume_status filter_consume(void *self, struct batch *b)
{
    struct filter_proc *p = self;
    if (b->signal != p->signal || prog_empty(&p->prog))
        return consumer_send(p->next, b);
    struct error err = {0};
    const ProtobufCMessage *ro = batch_decoded(b, &err);
    if (!ro) {
        log_error(p->log_name, "cannot decode a request to filter it: %s", err.msg);
        return CONSUME_RETRY;
    }
    struct tally before = count(p->signal, ro);
    struct arena *scratch = arena_new(0);
    if (!scratch) {
        log_error(p->log_name, "out of memory: cannot filter a request");
        return CONSUME_RETRY;
    }
    /* Conditions read only: walking the shared decoded face with visits that never drop leaves
     * it as it was (scratch values go to our own arena). */
    struct outcome o;
    run_levels(p, (ProtobufCMessage *)(uintptr_t)ro, scratch, false, &o);
    if (o.failed) {
        arena_free(scratch);
        telemetry_add(p->eval_errors, o.errors);
        return refuse(p, o.why);
    }
    if (!o.matched) {
        arena_free(scratch);
        telemetry_add(p->eval_errors, o.errors);
        if (o.logged)
            log_eval_error(p, LOG_WARN, o.logged, o.logged_msg);
        return consumer_send(p->next, b);
    }

    struct batch *out = NULL;
    ProtobufCMessage *req = batch_edit(b, &out, &err);
    if (!req) {
        arena_free(scratch);
        log_error(p->log_name, "cannot open a request for filtering: %s", err.msg);
        return CONSUME_RETRY;
    }
    run_levels(p, req, scratch, true, &o);
    arena_free(scratch);
    batch_edit_done(out);
    telemetry_add(p->eval_errors, o.errors);
    if (o.failed) {
        batch_edit_release(b, out);
        return refuse(p, o.why);
    }
    struct tally after = count(p->signal, req);
    uint64_t items = before.items - after.items;
    telemetry_add(p->dropped_items, items);
    if (p->signal == SIGNAL_TRACES)
        telemetry_add(p->dropped_events, before.events - after.events);
    if (p->signal == SIGNAL_METRICS)
        telemetry_add(p->dropped_metrics, before.metrics - after.metrics);
    if (p->signal == SIGNAL_TRACES)
        log_debug(p->log_name, "dropped %" PRIu64 " span(s) and %" PRIu64 " span event(s)",
                  items, before.events - after.events);
    else if (p->signal == SIGNAL_METRICS)
        log_debug(p->log_name, "dropped %" PRIu64 " metric(s) and %" PRIu64 " data point(s)",
                  before.metrics - after.metrics, items);
    else
        log_debug(p->log_name, "dropped %" PRIu64 " log record(s)", items);

    if (n_resources(p->signal, req) == 0) {
        /* Everything went: nothing is sent on, and the sender is told OK (the Collector's
         * ErrSkipProcessingData). */
        batch_edit_release(b, out);
        return CONSUME_OK;
    }
    enum consume_status rc = consumer_send(p->next, out);
    batch_edit_release(b, out);
    return rc;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void filter_destroy(void *self)
{
    struct filter_proc *p = self;
    if (!p)
        return;
    prog_free(&p->prog);
    free(p->log_name);
    free(p);
}

/* The Collector's names (otelcol_processor_filter_spans.filtered, ...) with '.' as '_'; span
 * events and whole metrics, which it does not count, under llmotlp_. */
static const char *const dropped_names[SIGNAL_COUNT] = {
    "otelcol_processor_filter_spans_filtered", "otelcol_processor_filter_datapoints_filtered",
    "otelcol_processor_filter_logs_filtered"};
static const char *const dropped_help[SIGNAL_COUNT] = {
    "Number of spans dropped by the filter processor",
    "Number of metric data points dropped by the filter processor",
    "Number of logs dropped by the filter processor"};

static void *filter_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    const struct filter_config *cfg = cfgp;
    if (!env->next[env->signal]) {
        error_set(err, "no next consumer");
        return NULL;
    }
    struct filter_proc *p = calloc(1, sizeof *p);
    if (!p) {
        error_set(err, "out of memory");
        return NULL;
    }
    p->signal = env->signal;
    p->next = env->next[env->signal];
    p->log_name = strdup(env->log_name ? env->log_name : "processor/filter");
    if (!p->log_name) {
        free(p);
        error_set(err, "out of memory");
        return NULL;
    }
    if (check_forms(cfg, err) != 0 || prog_compile(cfg, p->signal, &p->prog, NULL, err) != 0) {
        filter_destroy(p);
        return NULL;
    }
    char labels[256];
    snprintf(labels, sizeof labels, "processor=\"%s\"", env->id ? env->id : "filter");
    struct telemetry *t = env->telemetry;
    p->dropped_items = telemetry_counter(t, dropped_names[p->signal], labels,
                                         dropped_help[p->signal]);
    if (p->signal == SIGNAL_TRACES)
        p->dropped_events = telemetry_counter(t, "llmotlp_processor_filter_span_events_filtered",
                                              labels, "Span events dropped by the filter "
                                              "processor, alone or with their span");
    if (p->signal == SIGNAL_METRICS)
        p->dropped_metrics = telemetry_counter(t, "llmotlp_processor_filter_metrics_filtered",
                                               labels, "Whole metrics dropped by the filter "
                                               "processor");
    p->eval_errors = telemetry_counter(t, "llmotlp_processor_filter_condition_errors", labels,
                                       "Errors while evaluating a filter condition");
    p->refused = telemetry_counter(t, "llmotlp_processor_filter_refused_requests", labels,
                                   "Requests refused because a condition failed under "
                                   "error_mode propagate");
    return p;
}

const struct component_factory filter_processor_factory = {
    .type = "filter",
    .kind = COMPONENT_PROCESSOR,
    .doc = "drops spans, span events, metrics, data points and log records matching OTTL "
           "conditions (or legacy include/exclude)",
    .fields = filter_fields,
    .config_size = sizeof(struct filter_config),
    .signals = 1u << SIGNAL_TRACES | 1u << SIGNAL_METRICS | 1u << SIGNAL_LOGS,
    .validate = filter_validate,
    .warn = filter_warn,
    .create = filter_create,
    .consume = filter_consume,
    .destroy = filter_destroy,
};
