/* filter_legacy.c — the legacy include/exclude match properties of the filter processor.
 *
 * The one idea: one matcher for every component that takes the Collector's match properties
 * (core/matchprops, shared with the attributes processor); this file only reads the filter
 * processor's own spelling of each section into a struct matchprops_config and checks what the
 * Collector checks there. `spans` is filterconfig.MatchProperties as the attributes processor
 * has it; `logs` says `bodies`, `severity_texts`, `severity_number`, `record_attributes` and
 * `resource_attributes` (filterprocessor.LogMatchProperties, mapped onto filterlog); `metrics`
 * has `metric_names` (filtermetric) and `resource_attributes`, which the Collector checks on the
 * resource as a separate skip expression, not together with the names: a resource that include's
 * attributes do not match, or exclude's do, is dropped whole, whatever its metrics are called. */
#include "processors/filter/filter_legacy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/matchprops.h"

struct filter_legacy {
    enum signal signal;
    struct matchprops *inc, *exc;           /* the items: spans, log records, metric names */
    struct matchprops *res_inc, *res_exc;   /* metrics: resource_attributes, on the resource */
};

/* A section as the filter processor's metrics and logs spell it, bound into matchprops' form. */
struct legacy_cfg {
    struct matchprops_config mp;
    struct config_str_list expressions;     /* metrics, match_type expr only */
};

#define OFF(f) offsetof(struct legacy_cfg, f)
#define ROFF(f) (offsetof(struct matchprops_config, regexp.f) - offsetof(struct matchprops_config, regexp))
#define SOFF(f) (offsetof(struct matchprops_config, log_severity_number.f) - \
                 offsetof(struct matchprops_config, log_severity_number))

static const struct config_field regexp_fields[] = {
    {.name = "cacheenabled", .type = CFG_BOOL, .offset = ROFF(cacheenabled), .def = "false",
     .doc = "LRU-cache match results",
     .no_effect = "RE2 matching is linear in the subject; results are not cached",
     .harmless = "false"},
    {.name = "cachemaxnumentries", .type = CFG_INT, .offset = ROFF(cachemaxnumentries),
     .def = "0", .doc = "size of the LRU cache (0: unlimited)",
     .no_effect = "RE2 matching is linear in the subject; results are not cached",
     .harmless = "<=0"},
    {.name = NULL},
};

const struct config_field filter_legacy_metric_fields[] = {
    {.name = "match_type", .type = CFG_STRING, .offset = OFF(mp.match_type),
     .doc = "strict (equal names) or regexp (RE2, unanchored); expr is refused (no expr engine)"},
    {.name = "regexp", .type = CFG_SECTION, .offset = OFF(mp.regexp), .sub = regexp_fields,
     .doc = "options of match_type regexp"},
    {.name = "metric_names", .type = CFG_STRING_LIST, .offset = OFF(mp.metric_names),
     .doc = "the metric name matches one of these"},
    {.name = "expressions", .type = CFG_STRING_LIST, .offset = OFF(expressions),
     .doc = "expr expressions (match_type expr, refused)"},
    {.name = "resource_attributes", .type = CFG_RAW, .offset = OFF(mp.resources),
     .doc = "[{key, value}]: checked on the resource, apart from metric_names"},
    {.name = NULL},
};

static const struct config_field severity_fields[] = {
    {.name = "min", .type = CFG_STRING, .offset = SOFF(min),
     .doc = "lowest severity matched: 1..24, or TRACE..FATAL4 (any case)"},
    {.name = "match_undefined", .type = CFG_BOOL, .offset = SOFF(match_undefined),
     .def = "false", .doc = "whether records with an undefined severity (0) match"},
    {.name = NULL},
};

const struct config_field filter_legacy_log_fields[] = {
    {.name = "match_type", .type = CFG_STRING, .offset = OFF(mp.match_type),
     .doc = "strict (equal strings) or regexp (RE2, unanchored)"},
    {.name = "resource_attributes", .type = CFG_RAW, .offset = OFF(mp.resources),
     .doc = "[{key, value}]: every key on the resource (with the value when given)"},
    {.name = "record_attributes", .type = CFG_RAW, .offset = OFF(mp.attributes),
     .doc = "[{key, value}]: every key on the log record (with the value when given)"},
    {.name = "severity_texts", .type = CFG_STRING_LIST, .offset = OFF(mp.log_severity_texts),
     .doc = "the severity text matches one of these"},
    {.name = "severity_number", .type = CFG_PRESENCE, .offset = OFF(mp.log_severity_number),
     .present_offset = OFF(mp.has_severity_number), .sub = severity_fields,
     .doc = "severity number at least min"},
    {.name = "bodies", .type = CFG_STRING_LIST, .offset = OFF(mp.log_bodies),
     .doc = "the body (as a string) matches one of these"},
    {.name = NULL},
};
#undef OFF
#undef ROFF
#undef SOFF

static const struct matchprops_names log_names = {
    .attributes = "record_attributes", .resources = "resource_attributes", .log_bodies = "bodies",
    .log_severity_texts = "severity_texts", .log_severity_number = "severity_number"};
static const struct matchprops_names metric_names = {.resources = "resource_attributes"};

static bool present(const struct cnode *n)
{
    return n && n->kind != CNODE_NULL;
}

static bool list_present(const struct cnode *n)
{
    return n && n->kind == CNODE_SEQ && n->n;
}

/* filterprocessor's logSeverity.validate: "" (no minimum), 1..24, or a short name. */
static bool severity_valid(const char *s)
{
    static const char *const names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    if (!s || !*s)
        return true;
    if (s[0] >= '1' && s[0] <= '9' && (!s[1] || (s[1] >= '0' && s[1] <= '9' && !s[2])))
        return atoi(s) <= 24;
    for (size_t b = 0; b < 6; b++) {
        size_t l = strlen(names[b]);
        if (strncasecmp(s, names[b], l) == 0 &&
            (!s[l] || (s[l] >= '2' && s[l] <= '4' && !s[l + 1])))
            return true;
    }
    return false;
}

static int at_error(struct error *err, const struct cnode *node, const char *key,
                    const char *path, const char *msg)
{
    char pos[300];
    const struct cnode *at = node ? cnode_key(node, key) : NULL;
    if (!at)
        at = node;
    return error_set(err, "%s: %s.%s: %s", at ? cnode_where(at, pos, sizeof pos) : "?", path,
                     key, msg);
}

/* One include or exclude section; sets *items (and for metrics *res), each NULL when the
 * section leaves it nothing to check. */
static int section_compile(enum signal s, const struct cnode *node, const char *path,
                           const struct config_warn_sink *w, struct matchprops **items,
                           struct matchprops **res, struct error *err)
{
    *items = NULL;
    *res = NULL;
    if (!present(node))
        return 0;
    const struct config_field *fields = s == SIGNAL_TRACES    ? matchprops_fields
                                        : s == SIGNAL_METRICS ? filter_legacy_metric_fields
                                                              : filter_legacy_log_fields;
    struct legacy_cfg c;
    memset(&c, 0, sizeof c);
    /* spans bind straight into the matchprops_config at the start of struct legacy_cfg */
    struct error berr = {0};
    if (config_bind_warn(fields, node, &c, w, path, &berr) != 0) {
        config_free_bound(fields, &c);
        return error_set(err, "%s: %s", path, berr.msg);
    }
    int rc = 0;
    if (s == SIGNAL_TRACES) {
        rc = matchprops_compile(&c.mp, node, s, path, w, items, err);
    } else if (s == SIGNAL_METRICS) {
        const char *mt = c.mp.match_type ? c.mp.match_type : "";
        if (strcmp(mt, "expr") == 0) {
            rc = at_error(err, node, "match_type", path,
                          "match_type expr is not supported: llmotlp has no expr engine; write "
                          "the expressions as OTTL conditions (metrics.metric, or "
                          "metrics.datapoint for what they ask of data points)");
        } else {
            if (c.expressions.n && w) {
                char k[96];
                snprintf(k, sizeof k, "%s.expressions", path);
                config_warnf(w, cnode_key(node, "expressions"), k, "has no effect: the "
                             "Collector reads expressions only with match_type expr (this "
                             "section has match_type %s)", mt[0] ? mt : "(none)");
            }
            c.mp.names = &metric_names;
            const struct cnode *attrs = c.mp.resources;
            c.mp.resources = NULL;   /* not a property of the metric: checked on the resource */
            rc = matchprops_compile(&c.mp, node, s, path, w, items, err);
            c.mp.resources = attrs;
            if (rc == 0)
                rc = matchprops_compile_attributes(&c.mp, node, attrs, "resources", path, res,
                                                   err);
        }
    } else {
        bool empty = !list_present(c.mp.resources) && !list_present(c.mp.attributes) &&
                     !c.mp.log_severity_texts.n && !c.mp.log_bodies.n &&
                     !c.mp.has_severity_number;
        if (empty) {
            /* LogMatchProperties.isEmpty: the Collector drops such a section unread */
            if (w)
                config_warnf(w, node, path, "has no effect: it names no resource_attributes, "
                             "record_attributes, severity_texts, severity_number or bodies, and "
                             "the Collector then ignores it");
        } else if (c.mp.has_severity_number && !severity_valid(c.mp.log_severity_number.min)) {
            char msg[200];
            snprintf(msg, sizeof msg, "min: '%.60s' is not a valid severity (1..24, or TRACE, "
                     "DEBUG, INFO, WARN, ERROR, FATAL with an optional 2..4, any case)",
                     c.mp.log_severity_number.min);
            rc = at_error(err, node, "severity_number", path, msg);
        } else {
            c.mp.names = &log_names;
            rc = matchprops_compile(&c.mp, node, s, path, w, items, err);
        }
    }
    config_free_bound(fields, &c);
    if (rc != 0) {
        matchprops_free(*items);
        matchprops_free(*res);
        *items = *res = NULL;
    }
    return rc;
}

int filter_legacy_compile(enum signal s, const struct cnode *include, const struct cnode *exclude,
                          const char *path, const struct config_warn_sink *w,
                          struct filter_legacy **out, struct error *err)
{
    *out = NULL;
    if (!present(include) && !present(exclude))
        return 0;
    struct filter_legacy *l = calloc(1, sizeof *l);
    if (!l)
        return error_set(err, "out of memory");
    l->signal = s;
    char ipath[64], epath[64];
    snprintf(ipath, sizeof ipath, "%s.include", path);
    snprintf(epath, sizeof epath, "%s.exclude", path);
    if (section_compile(s, include, ipath, w, &l->inc, &l->res_inc, err) != 0 ||
        section_compile(s, exclude, epath, w, &l->exc, &l->res_exc, err) != 0) {
        filter_legacy_free(l);
        return -1;
    }
    if (!l->inc && !l->exc && !l->res_inc && !l->res_exc) {
        filter_legacy_free(l);   /* as the Collector's nil skip expression: nothing to do */
        return 0;
    }
    *out = l;
    return 0;
}

static enum ottl_context item_context(enum signal s)
{
    return s == SIGNAL_TRACES ? OTTL_CTX_SPAN : s == SIGNAL_METRICS ? OTTL_CTX_METRIC : OTTL_CTX_LOG;
}

bool filter_legacy_acts(const struct filter_legacy *l, enum ottl_context ctx)
{
    if (!l)
        return false;
    if (ctx == OTTL_CTX_RESOURCE)
        return l->res_inc || l->res_exc;
    return ctx == item_context(l->signal) && (l->inc || l->exc);
}

bool filter_legacy_drops(const struct filter_legacy *l, const struct ottl_item *it)
{
    switch (it->ctx) {
    case OTTL_CTX_RESOURCE: {
        Opentelemetry__Proto__Common__V1__KeyValue *const *kvs =
            it->resource ? it->resource->attributes : NULL;
        size_t n = it->resource ? it->resource->n_attributes : 0;
        if (l->res_inc && !matchprops_match_attributes(l->res_inc, kvs, n))
            return true;
        return l->res_exc && matchprops_match_attributes(l->res_exc, kvs, n);
    }
    case OTTL_CTX_SPAN:
        return it->span && matchprops_skip_span(l->inc, l->exc, it->resource, it->scope, it->span);
    case OTTL_CTX_METRIC:
        return it->metric &&
               matchprops_skip_metric(l->inc, l->exc, it->resource, it->scope, it->metric);
    case OTTL_CTX_LOG:
        return it->log && matchprops_skip_log(l->inc, l->exc, it->resource, it->scope, it->log);
    default:
        return false;
    }
}

void filter_legacy_free(struct filter_legacy *l)
{
    if (!l)
        return;
    matchprops_free(l->inc);
    matchprops_free(l->exc);
    matchprops_free(l->res_inc);
    matchprops_free(l->res_exc);
    free(l);
}
