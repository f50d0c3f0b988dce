/* attributes.c — the Collector's `attributes` processor: the `actions:` of core/attraction.h
 * applied to span attributes (traces), log record attributes (logs) and data point attributes
 * (metrics), on the items that `include` / `exclude` (core/matchprops.h) select.
 *
 * The one idea: one walk over a request serves both the dry run and the edit. Read-only over the
 * decoded face it stops at the first selected item an action would change; when there is none,
 * the request goes on as the bytes that arrived. Otherwise the request is opened for editing and
 * the same walk applies the actions to every selected item that they change.
 *
 * include/exclude are checked per signal when the processor is created for a pipeline (as the
 * Collector builds its matchers then): a property the signal refuses is an error with its
 * position, one the Collector ignores for it is logged as without effect.
 *
 * A request that cannot be decoded or edited is refused and counted, never forwarded
 * unprocessed: the actions are often redaction (delete, hash). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attraction.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/log.h"
#include "core/matchprops.h"
#include "core/telemetry.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;

struct attributes_config {
    const struct cnode *actions;
    const struct cnode *include, *exclude;
};

#define OFF(f) offsetof(struct attributes_config, f)
static const struct config_field attributes_fields[] = {
    {.name = "actions", .type = CFG_RAW, .offset = OFF(actions), .sub = attraction_action_fields,
     .doc = "[{key, action, value|from_attribute|default_value, pattern, converted_type}] "
            "applied in order: insert, update, upsert, delete, hash (SHA-256), extract, convert"},
    {.name = "include", .type = CFG_RAW, .offset = OFF(include), .sub = matchprops_fields,
     .doc = "act only on matching items (match_type strict|regexp, services, span_names, "
            "span_kinds, attributes, resources, libraries, log_bodies, log_severity_texts, "
            "log_severity_number, metric_names)"},
    {.name = "exclude", .type = CFG_RAW, .offset = OFF(exclude), .sub = matchprops_fields,
     .doc = "leave matching items alone (checked after include)"},
    {.name = NULL},
};
#undef OFF

/* Binds include/exclude (unknown keys, types) so `validate` finds what it can without knowing
 * the pipelines; the per-signal checks wait for create. */
static int bind_section(const struct cnode *n, const char *path,
                        const struct config_warn_sink *w, struct error *err)
{
    if (!n || n->kind == CNODE_NULL)
        return 0;
    struct matchprops_config c;
    memset(&c, 0, sizeof c);
    struct error berr = {0};
    int rc = config_bind_warn(matchprops_fields, n, &c, w, path, &berr);
    config_free_bound(matchprops_fields, &c);
    if (rc != 0)
        return error_set(err, "%s: %s", path, berr.msg);
    return 0;
}

static int attributes_validate(const void *cfgp, struct error *err)
{
    const struct attributes_config *cfg = cfgp;
    struct attraction *a = attraction_compile(cfg->actions, "actions", err);
    if (!a)
        return -1;
    attraction_free(a);
    if (bind_section(cfg->include, "include", NULL, err) != 0 ||
        bind_section(cfg->exclude, "exclude", NULL, err) != 0)
        return -1;
    return 0;
}

static void attributes_warn(const void *cfgp, const struct cnode *node,
                            const struct config_warn_sink *w)
{
    const struct attributes_config *cfg = cfgp;
    struct error err;
    (void)node;
    bind_section(cfg->include, "include", w, &err);
    bind_section(cfg->exclude, "exclude", w, &err);
}

struct attributes_proc {
    struct attraction *actions;
    struct matchprops *include, *exclude;
    struct consumer *next;
    char *log_name;
    _Atomic uint64_t *edited, *refused;
};

/* One attribute array: dry run (arena NULL) says whether the actions change it; edit applies
 * them. -1 on out of memory. */
static int visit(const struct attributes_proc *p, kv_t ***kvs, size_t *n, struct arena *arena,
                 uint64_t *edited)
{
    if (!attraction_would_change(p->actions, *kvs, *n))
        return 0;
    if (!arena)
        return 1;
    (*edited)++;
    return attraction_apply(p->actions, arena, kvs, n) == 0 ? 0 : -1;
}

#define VISIT(kvs, n)                                                                   \
    do {                                                                                \
        int r_ = visit(p, &(kvs), &(n), arena, edited);                                 \
        if (r_)                                                                         \
            return r_;                                                                  \
    } while (0)

static int walk_traces(const struct attributes_proc *p,
                       Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req,
                       struct arena *arena, uint64_t *edited)
{
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[i];
        for (size_t j = 0; rs && j < rs->n_scope_spans; j++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[j];
            for (size_t k = 0; ss && k < ss->n_spans; k++) {
                Opentelemetry__Proto__Trace__V1__Span *sp = ss->spans[k];
                if (!sp || matchprops_skip_span(p->include, p->exclude, rs->resource, ss->scope,
                                                sp))
                    continue;
                VISIT(sp->attributes, sp->n_attributes);
            }
        }
    }
    return 0;
}

static int walk_logs(const struct attributes_proc *p,
                     Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req,
                     struct arena *arena, uint64_t *edited)
{
    for (size_t i = 0; i < req->n_resource_logs; i++) {
        Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = req->resource_logs[i];
        for (size_t j = 0; rl && j < rl->n_scope_logs; j++) {
            Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = rl->scope_logs[j];
            for (size_t k = 0; sl && k < sl->n_log_records; k++) {
                Opentelemetry__Proto__Logs__V1__LogRecord *lr = sl->log_records[k];
                if (!lr || matchprops_skip_log(p->include, p->exclude, rl->resource, sl->scope,
                                               lr))
                    continue;
                VISIT(lr->attributes, lr->n_attributes);
            }
        }
    }
    return 0;
}

#define VISIT_POINTS(container, type)                                                   \
    do {                                                                                \
        if (!(container))                                                               \
            break;                                                                      \
        for (size_t d = 0; d < (container)->n_data_points; d++) {                       \
            type *dp = (container)->data_points[d];                                     \
            if (dp)                                                                     \
                VISIT(dp->attributes, dp->n_attributes);                                \
        }                                                                               \
    } while (0)

static int walk_metrics(
    const struct attributes_proc *p,
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req,
    struct arena *arena, uint64_t *edited)
{
    for (size_t i = 0; i < req->n_resource_metrics; i++) {
        Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = req->resource_metrics[i];
        for (size_t j = 0; rm && j < rm->n_scope_metrics; j++) {
            Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[j];
            for (size_t k = 0; sm && k < sm->n_metrics; k++) {
                Opentelemetry__Proto__Metrics__V1__Metric *m = sm->metrics[k];
                if (!m || matchprops_skip_metric(p->include, p->exclude, rm->resource,
                                                 sm->scope, m))
                    continue;
                switch (m->data_case) {
                case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
                    VISIT_POINTS(m->gauge, Opentelemetry__Proto__Metrics__V1__NumberDataPoint);
                    break;
                case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
                    VISIT_POINTS(m->sum, Opentelemetry__Proto__Metrics__V1__NumberDataPoint);
                    break;
                case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
                    VISIT_POINTS(m->histogram,
                                 Opentelemetry__Proto__Metrics__V1__HistogramDataPoint);
                    break;
                case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
                    VISIT_POINTS(m->exponential_histogram,
                                 Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint);
                    break;
                case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
                    VISIT_POINTS(m->summary, Opentelemetry__Proto__Metrics__V1__SummaryDataPoint);
                    break;
                default:
                    break;
                }
            }
        }
    }
    return 0;
}

/* 1 when (dry run) something would change, 0 when not / edit done, -1 out of memory. */
static int walk(const struct attributes_proc *p, enum signal s, ProtobufCMessage *m,
                struct arena *arena, uint64_t *edited)
{
    if (s == SIGNAL_TRACES)
        return walk_traces(p, (void *)m, arena, edited);
    if (s == SIGNAL_LOGS)
        return walk_logs(p, (void *)m, arena, edited);
    return walk_metrics(p, (void *)m, arena, edited);
}

static enum consume_status refuse(struct attributes_proc *p, struct batch *b, const char *why)
{
    log_error(p->log_name, "request of %" PRIu64 " item(s) refused: %s", b->items, why);
    telemetry_add(p->refused, b->items);
    batch_reject(b, b->items, why);
    return CONSUME_REJECT;
}

static enum consume_status attributes_consume(void *self, struct batch *b)
{
    struct attributes_proc *p = self;
    struct error err = {0};
    const ProtobufCMessage *ro = batch_decoded(b, &err);
    if (!ro)
        return refuse(p, b, err.msg);
    uint64_t edited = 0;
    /* The dry run never writes (arena NULL): the cast lets both passes share walk(). */
    if (walk(p, b->signal, (ProtobufCMessage *)ro, NULL, &edited) == 0)
        return consumer_send(p->next, b);
    struct batch *out = NULL;
    ProtobufCMessage *m = batch_edit(b, &out, &err);
    if (!m)
        return refuse(p, b, err.msg);
    int rc = walk(p, out->signal, m, out->arena, &edited);
    batch_edit_done(out);
    if (rc != 0) {
        batch_edit_release(b, out);
        return refuse(p, b, "out of memory applying the attribute actions");
    }
    telemetry_add(p->edited, edited);
    enum consume_status st = consumer_send(p->next, out);
    batch_edit_release(b, out);
    return st;
}

static void attributes_destroy(void *self)
{
    struct attributes_proc *p = self;
    if (!p)
        return;
    attraction_free(p->actions);
    matchprops_free(p->include);
    matchprops_free(p->exclude);
    free(p->log_name);
    free(p);
}

/* Start-up notes of properties without effect for the pipeline's signal go to the log. */
static void log_note(void *ctx, const struct cnode *at, const char *msg)
{
    char pos[300];
    log_warn((const char *)ctx, "%s%s%s", at ? cnode_where(at, pos, sizeof pos) : "",
             at ? ": " : "", msg);
}

static void *attributes_create(const void *cfgp, const struct component_env *env,
                               struct error *err)
{
    const struct attributes_config *cfg = cfgp;
    if (!env->next[env->signal]) {
        error_set(err, "attributes processor has no downstream consumer");
        return NULL;
    }
    struct attributes_proc *p = calloc(1, sizeof *p);
    const char *ln = env->log_name ? env->log_name : "processor/attributes";
    if (!p || !(p->log_name = strdup(ln))) {
        free(p);
        error_set(err, "out of memory");
        return NULL;
    }
    struct config_warn_sink sink = {.warn = log_note, .ctx = p->log_name};
    if (!(p->actions = attraction_compile(cfg->actions, "actions", err)) ||
        matchprops_compile_node(cfg->include, env->signal, "include", &sink, &p->include,
                                err) != 0 ||
        matchprops_compile_node(cfg->exclude, env->signal, "exclude", &sink, &p->exclude,
                                err) != 0) {
        attributes_destroy(p);
        return NULL;
    }
    p->next = env->next[env->signal];
    if (env->telemetry) {
        char l[300];
        snprintf(l, sizeof l, "processor=\"%s\",signal=\"%s\"",
                 env->id ? env->id : "attributes", signal_name(env->signal));
        p->edited = telemetry_counter(env->telemetry, "llmotlp_attributes_edited_items", l,
                                      "Spans, log records and data points whose attributes the "
                                      "actions changed");
        p->refused = telemetry_counter(env->telemetry, "llmotlp_attributes_refused_items", l,
                                       "Items refused because their request could not be "
                                       "decoded or edited (never forwarded unprocessed)");
    }
    return p;
}

const struct component_factory attributes_processor_factory = {
    .type = "attributes",
    .kind = COMPONENT_PROCESSOR,
    .doc = "the Collector's attributes processor: insert/update/upsert/delete/hash/extract/"
           "convert span, log and data point attributes, with include/exclude",
    .fields = attributes_fields,
    .config_size = sizeof(struct attributes_config),
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS),
    .validate = attributes_validate,
    .warn = attributes_warn,
    .create = attributes_create,
    .consume = attributes_consume,
    .destroy = attributes_destroy,
};
