/* resource.c — the Collector's `resource` processor: the `attributes:` actions of
 * core/attraction.h applied to the resource attributes of every ResourceSpans, ResourceMetrics
 * and ResourceLogs of a request (traces, metrics and logs pipelines).
 *
 * The one idea: a request is opened for editing only when an action would change one of its
 * resources. A read-only pass over the decoded face asks attraction_would_change of each
 * resource; when none would change, the request goes on as the bytes that arrived. A resource
 * the request left out is an empty one, as pdata reads it, so an insert still gives it its
 * attributes.
 *
 * A request that cannot be decoded or edited is refused and counted rather than forwarded
 * unchanged: the actions are often redaction (delete, hash), and passing the data on unredacted
 * would break the promise the config makes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attraction.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/log.h"
#include "core/telemetry.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Resource__V1__Resource resource_t;

struct resource_config {
    const struct cnode *attributes;
};

static const struct config_field resource_fields[] = {
    {.name = "attributes", .type = CFG_RAW, .offset = offsetof(struct resource_config, attributes),
     .sub = attraction_action_fields,
     .doc = "actions on resource attributes, as the attributes processor's `actions` (insert, "
            "update, upsert, delete, hash, extract, convert)"},
    {.name = NULL},
};

static struct attraction *resource_compile(const struct resource_config *cfg, struct error *err)
{
    const struct cnode *n = cfg->attributes;
    if (!n || n->kind == CNODE_NULL || (n->kind == CNODE_SEQ && n->n == 0)) {
        char pos[300];
        if (n)
            return error_set(err, "%s: missing required field \"attributes\"",
                             cnode_where(n, pos, sizeof pos)),
                   NULL;
        error_set(err, "missing required field \"attributes\"");
        return NULL;
    }
    return attraction_compile(n, "attributes", err);
}

static int resource_validate(const void *cfgp, struct error *err)
{
    struct attraction *a = resource_compile(cfgp, err);
    attraction_free(a);
    return a ? 0 : -1;
}

struct resource_proc {
    struct attraction *actions;
    struct consumer *next;
    char *log_name;
    _Atomic uint64_t *edited, *refused;
};

/* Each request's resources, whatever the signal: a pointer to the Resource pointer of each. */
static size_t resources_of(ProtobufCMessage *m, enum signal s, resource_t ***slots)
{
    /* the three Resource* fields sit at different offsets: collect their addresses */
    size_t n = 0;
    if (s == SIGNAL_TRACES) {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r = (void *)m;
        for (size_t i = 0; i < r->n_resource_spans; i++)
            if (r->resource_spans[i])
                slots[n++] = &r->resource_spans[i]->resource;
    } else if (s == SIGNAL_METRICS) {
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r = (void *)m;
        for (size_t i = 0; i < r->n_resource_metrics; i++)
            if (r->resource_metrics[i])
                slots[n++] = &r->resource_metrics[i]->resource;
    } else {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r = (void *)m;
        for (size_t i = 0; i < r->n_resource_logs; i++)
            if (r->resource_logs[i])
                slots[n++] = &r->resource_logs[i]->resource;
    }
    return n;
}

static size_t resource_count(const ProtobufCMessage *m, enum signal s)
{
    if (s == SIGNAL_TRACES)
        return ((const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *)m)
            ->n_resource_spans;
    if (s == SIGNAL_METRICS)
        return ((const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest
                     *)m)
            ->n_resource_metrics;
    return ((const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *)m)
        ->n_resource_logs;
}

static enum consume_status refuse(struct resource_proc *p, struct batch *b, const char *why)
{
    log_error(p->log_name, "request of %" PRIu64 " item(s) refused: %s", b->items, why);
    telemetry_add(p->refused, b->items);
    batch_reject(b, b->items, why);
    return CONSUME_REJECT;
}

static enum consume_status resource_consume(void *self, struct batch *b)
{
    struct resource_proc *p = self;
    struct error err = {0};
    const ProtobufCMessage *ro = batch_decoded(b, &err);
    if (!ro)
        return refuse(p, b, err.msg);
    size_t n = resource_count(ro, b->signal);
    if (n == 0)
        return consumer_send(p->next, b);
    resource_t ***slots = malloc(n * sizeof *slots);
    if (!slots)
        return refuse(p, b, "out of memory");
    /* The dry run only reads: the cast lets both passes share resources_of. */
    size_t k = resources_of((ProtobufCMessage *)ro, b->signal, slots);
    bool change = false;
    for (size_t i = 0; i < k && !change; i++) {
        const resource_t *r = *slots[i];
        change = attraction_would_change(p->actions, r ? r->attributes : NULL,
                                         r ? r->n_attributes : 0);
    }
    if (!change) {
        free(slots);
        return consumer_send(p->next, b);
    }
    struct batch *out = NULL;
    ProtobufCMessage *m = batch_edit(b, &out, &err);
    if (!m) {
        free(slots);
        return refuse(p, b, err.msg);
    }
    k = resources_of(m, out->signal, slots);
    uint64_t edited = 0;
    bool ok = true;
    for (size_t i = 0; i < k && ok; i++) {
        resource_t *r = *slots[i];
        if (!attraction_would_change(p->actions, r ? r->attributes : NULL,
                                     r ? r->n_attributes : 0))
            continue;
        if (!r) {
            r = arena_alloc(out->arena, sizeof *r);
            if (!r) {
                ok = false;
                break;
            }
            opentelemetry__proto__resource__v1__resource__init(r);
            *slots[i] = r;
        }
        ok = attraction_apply(p->actions, out->arena, &r->attributes, &r->n_attributes) == 0;
        edited++;
    }
    free(slots);
    batch_edit_done(out);
    if (!ok) {
        batch_edit_release(b, out);
        return refuse(p, b, "out of memory applying the resource actions");
    }
    telemetry_add(p->edited, edited);
    enum consume_status rc = consumer_send(p->next, out);
    batch_edit_release(b, out);
    return rc;
}

static void resource_destroy(void *self)
{
    struct resource_proc *p = self;
    if (!p)
        return;
    attraction_free(p->actions);
    free(p->log_name);
    free(p);
}

static void *resource_create(const void *cfgp, const struct component_env *env,
                             struct error *err)
{
    if (!env->next[env->signal]) {
        error_set(err, "resource processor has no downstream consumer");
        return NULL;
    }
    struct resource_proc *p = calloc(1, sizeof *p);
    const char *ln = env->log_name ? env->log_name : "processor/resource";
    if (!p || !(p->log_name = strdup(ln))) {
        free(p);
        error_set(err, "out of memory");
        return NULL;
    }
    if (!(p->actions = resource_compile(cfgp, err))) {
        resource_destroy(p);
        return NULL;
    }
    p->next = env->next[env->signal];
    if (env->telemetry) {
        char l[300];
        snprintf(l, sizeof l, "processor=\"%s\"", env->id ? env->id : "resource");
        p->edited = telemetry_counter(env->telemetry, "llmotlp_resource_edited_resources", l,
                                      "Resources whose attributes the actions changed");
        p->refused = telemetry_counter(env->telemetry, "llmotlp_resource_refused_items", l,
                                       "Items refused because their request could not be "
                                       "decoded or edited (never forwarded unprocessed)");
    }
    return p;
}

const struct component_factory resource_processor_factory = {
    .type = "resource",
    .kind = COMPONENT_PROCESSOR,
    .doc = "the Collector's resource processor: attribute actions on resource attributes",
    .fields = resource_fields,
    .config_size = sizeof(struct resource_config),
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS),
    .validate = resource_validate,
    .create = resource_create,
    .consume = resource_consume,
    .destroy = resource_destroy,
};
