/* matchprops.c — the Collector's legacy include/exclude match properties (see matchprops.h).
 *
 * The one idea: a section compiles into a few string sets (strict strings or RE2 patterns) and
 * attribute matchers, checked in the Collector's order (service, name, kind, then libraries,
 * resource, attributes) with the first failing property ending the match; the validation that
 * the Collector does when it builds its matchers happens here at compile time, with the
 * position of the section. */
#include "core/matchprops.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/attraction.h"
#include "core/regex.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;
typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;

#define V_STR OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE

#define OFF(f) offsetof(struct matchprops_config, f)
static const struct config_field regexp_fields[] = {
    {.name = "cacheenabled", .type = CFG_BOOL, .offset = OFF(regexp.cacheenabled) - OFF(regexp),
     .def = "false", .doc = "LRU-cache match results",
     .no_effect = "RE2 matching is linear in the subject; results are not cached",
     .harmless = "false"},
    {.name = "cachemaxnumentries", .type = CFG_INT,
     .offset = OFF(regexp.cachemaxnumentries) - OFF(regexp), .def = "0",
     .doc = "size of the LRU cache (0: unlimited)",
     .no_effect = "RE2 matching is linear in the subject; results are not cached",
     .harmless = "<=0"},
    {.name = NULL},
};
static const struct config_field severity_fields[] = {
    {.name = "min", .type = CFG_STRING,
     .offset = OFF(log_severity_number.min) - OFF(log_severity_number),
     .doc = "lowest severity number matched: 0..24, or TRACE..FATAL4"},
    {.name = "match_undefined", .type = CFG_BOOL,
     .offset = OFF(log_severity_number.match_undefined) - OFF(log_severity_number),
     .def = "false", .doc = "whether records with an undefined severity (0) match"},
    {.name = NULL},
};
const struct config_field matchprops_fields[] = {
    {.name = "match_type", .type = CFG_STRING, .offset = OFF(match_type),
     .doc = "strict (equal strings) or regexp (RE2, unanchored)"},
    {.name = "regexp", .type = CFG_SECTION, .offset = OFF(regexp), .sub = regexp_fields,
     .doc = "options of match_type regexp"},
    {.name = "services", .type = CFG_STRING_LIST, .offset = OFF(services),
     .doc = "spans: the resource's service.name matches one of these"},
    {.name = "span_names", .type = CFG_STRING_LIST, .offset = OFF(span_names),
     .doc = "spans: the span name matches one of these"},
    {.name = "span_kinds", .type = CFG_STRING_LIST, .offset = OFF(span_kinds),
     .doc = "spans: the kind (SPAN_KIND_SERVER, ...) matches one of these"},
    {.name = "log_bodies", .type = CFG_STRING_LIST, .offset = OFF(log_bodies),
     .doc = "logs: the body (as a string) matches one of these"},
    {.name = "log_severity_texts", .type = CFG_STRING_LIST, .offset = OFF(log_severity_texts),
     .doc = "logs: the severity text matches one of these"},
    {.name = "log_severity_number", .type = CFG_PRESENCE, .offset = OFF(log_severity_number),
     .present_offset = OFF(has_severity_number), .sub = severity_fields,
     .doc = "logs: severity number at least min"},
    {.name = "metric_names", .type = CFG_STRING_LIST, .offset = OFF(metric_names),
     .doc = "metrics: the metric name matches one of these"},
    {.name = "attributes", .type = CFG_RAW, .offset = OFF(attributes),
     .doc = "[{key, value}]: every key present (with the value when given)"},
    {.name = "resources", .type = CFG_RAW, .offset = OFF(resources),
     .doc = "[{key, value}]: as attributes, on the resource"},
    {.name = "libraries", .type = CFG_RAW, .offset = OFF(libraries),
     .doc = "[{name, version}]: the instrumentation scope"},
    {.name = NULL},
};
#undef OFF

struct mp_set {
    size_t n;
    char **s;
    struct regex **re;   /* regexp: one per item; NULL for strict */
};

struct mp_attr {
    char *key;
    any_t *value;        /* strict; NULL = key presence only */
    struct mp_set re;    /* regexp with a value */
};

struct mp_lib {
    struct mp_set name, version;
    bool has_version;
};

struct matchprops {
    enum signal signal;
    struct arena *arena;
    struct mp_set services, span_names, span_kinds, log_bodies, log_sev_texts, metric_names;
    bool has_sev, sev_undefined;
    int sev_min;
    size_t n_attrs, n_res, n_libs;
    struct mp_attr *attrs, *res;
    struct mp_lib *libs;
};

static void set_free(struct mp_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->s[i]);
        if (s->re)
            regex_free(s->re[i]);
    }
    free(s->s);
    free(s->re);
    memset(s, 0, sizeof *s);
}

static void attrs_free(struct mp_attr *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++) {
        free(a[i].key);
        set_free(&a[i].re);
    }
    free(a);
}

void matchprops_free(struct matchprops *m)
{
    if (!m)
        return;
    set_free(&m->services);
    set_free(&m->span_names);
    set_free(&m->span_kinds);
    set_free(&m->log_bodies);
    set_free(&m->log_sev_texts);
    set_free(&m->metric_names);
    attrs_free(m->attrs, m->n_attrs);
    attrs_free(m->res, m->n_res);
    for (size_t i = 0; i < m->n_libs; i++) {
        set_free(&m->libs[i].name);
        set_free(&m->libs[i].version);
    }
    free(m->libs);
    arena_free(m->arena);
    free(m);
}

/* Compile state: the section, for positions and messages. */
struct cctx {
    const struct matchprops_config *cfg;
    const struct cnode *node;
    const char *path;
    bool regexp;
    enum signal signal;
    struct error *err;
};

/* The name the caller's section gives `key` (matchprops_config.names), for messages and
 * positions. */
static const char *kname(const struct cctx *c, const char *key)
{
    const struct matchprops_names *n = c->cfg->names;
    if (!n || !key)
        return key;
    const char *as = strcmp(key, "attributes") == 0            ? n->attributes
                     : strcmp(key, "resources") == 0           ? n->resources
                     : strcmp(key, "log_bodies") == 0          ? n->log_bodies
                     : strcmp(key, "log_severity_texts") == 0  ? n->log_severity_texts
                     : strcmp(key, "log_severity_number") == 0 ? n->log_severity_number
                                                               : NULL;
    return as ? as : key;
}

static int cerr(const struct cctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cerr(const struct cctx *c, const char *key, const char *fmt, ...)
{
    char pos[300], msg[800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    key = kname(c, key);
    const struct cnode *at = key && c->node ? cnode_key(c->node, key) : NULL;
    if (!at)
        at = c->node;
    if (at)
        return error_set(c->err, "%s: %s%s%s: %s", cnode_where(at, pos, sizeof pos), c->path,
                         key ? "." : "", key ? key : "", msg);
    return error_set(c->err, "%s%s%s: %s", c->path, key ? "." : "", key ? key : "", msg);
}

/* filterset.CreateFilterSet: the match type must be known once a set is built. */
static int set_make(const struct cctx *c, const char *key, char *const *items, size_t n,
                    struct mp_set *out)
{
    const char *mt = c->cfg->match_type ? c->cfg->match_type : "";
    if (strcmp(mt, "strict") != 0 && strcmp(mt, "regexp") != 0)
        return cerr(c, c->node && cnode_key(c->node, "match_type") ? "match_type" : key,
                    "unrecognized match_type: '%s', valid types are: [regexp strict]", mt);
    out->s = calloc(n ? n : 1, sizeof *out->s);
    if (!out->s)
        return error_set(c->err, "out of memory");
    if (c->regexp && !(out->re = calloc(n ? n : 1, sizeof *out->re)))
        return error_set(c->err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!(out->s[i] = strdup(items[i] ? items[i] : "")))
            return error_set(c->err, "out of memory");
        out->n = i + 1;
        if (c->regexp) {
            struct error rerr = {0};
            out->re[i] = regex_compile(out->s[i], strlen(out->s[i]), &rerr);
            if (!out->re[i])
                return cerr(c, key, "error parsing regexp %s: %s", out->s[i], rerr.msg);
        }
    }
    return 0;
}

static bool set_matches(const struct mp_set *s, const char *v)
{
    v = v ? v : "";
    for (size_t i = 0; i < s->n; i++) {
        if (s->re ? regex_search(s->re[i], v, strlen(v)) : strcmp(s->s[i], v) == 0)
            return true;
    }
    return false;
}

static const char *type_name(const any_t *v)
{
    switch (v ? v->value_case : 0) {
    case V_STR: return "Str";
    case V_BOOL: return "Bool";
    case V_INT: return "Int";
    case V_DOUBLE: return "Double";
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE: return "Slice";
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE: return "Map";
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE: return "Bytes";
    default: return "Empty";
    }
}

struct kv_cfg {
    char *key;
    const struct cnode *value;
};
static const struct config_field kv_fields[] = {
    {.name = "key", .type = CFG_STRING, .offset = offsetof(struct kv_cfg, key),
     .doc = "attribute key"},
    {.name = "value", .type = CFG_RAW, .offset = offsetof(struct kv_cfg, value),
     .doc = "value to match (absent: the key's presence is enough)"},
    {.name = NULL},
};

/* filtermatcher.NewAttributesMatcher over `attributes` or `resources`. */
static int attrs_make(struct matchprops *m, const struct cctx *c, const char *key,
                      const struct cnode *list, struct mp_attr **out, size_t *n_out)
{
    char pos[300];
    const char *what = strcmp(key, "resources") == 0 ? "resource" : "attribute";
    const char *kn = kname(c, key);
    if (!list || list->kind == CNODE_NULL)
        return 0;
    if (list->kind != CNODE_SEQ)
        return cerr(c, key, "expected a list of {key, value}");
    if (!list->n)
        return 0;
    *out = calloc(list->n, sizeof **out);
    if (!*out)
        return error_set(c->err, "out of memory");
    for (size_t i = 0; i < list->n; i++) {
        const struct cnode *item = list->items[i];
        struct kv_cfg k;
        memset(&k, 0, sizeof k);
        struct error berr = {0};
        if (!item || item->kind != CNODE_MAP)
            return error_set(c->err, "%s: %s.%s[%zu]: expected a map {key, value}",
                             cnode_where(item ? item : list, pos, sizeof pos), c->path, kn, i);
        if (config_bind(kv_fields, item, &k, &berr) != 0) {
            config_free_bound(kv_fields, &k);
            return error_set(c->err, "%s.%s[%zu]: %s", c->path, kn, i, berr.msg);
        }
        struct mp_attr *a = &(*out)[i];
        *n_out = i + 1;
        int rc = 0;
        if (!k.key || !k.key[0]) {
            rc = error_set(c->err, "%s: %s.%s[%zu]: error creating %s filters: can't have "
                           "empty key in the list of attributes",
                           cnode_where(item, pos, sizeof pos), c->path, kn, i, what);
        } else if (!(a->key = strdup(k.key))) {
            rc = error_set(c->err, "out of memory");
        } else if (k.value && k.value->kind != CNODE_NULL) {
            any_t *v = attraction_value_from_yaml(k.value, m->arena, c->err);
            if (!v) {
                rc = -1;
            } else if (c->regexp) {
                if (v->value_case != V_STR) {
                    rc = error_set(c->err, "%s: %s.%s[%zu]: error creating %s filters: "
                                   "match_type=regexp for \"%s\" only supports Str, but found %s",
                                   cnode_where(k.value, pos, sizeof pos), c->path, kn, i, what,
                                   a->key, type_name(v));
                } else {
                    char *one = v->string_value;
                    rc = set_make(c, key, &one, 1, &a->re);
                }
            } else {
                const char *mt = c->cfg->match_type ? c->cfg->match_type : "";
                if (strcmp(mt, "strict") != 0)
                    rc = cerr(c, cnode_key(c->node, "match_type") ? "match_type" : key,
                              "error creating %s filters: unrecognized match_type: '%s', valid "
                              "types are: [regexp strict]", what, mt);
                a->value = v;
            }
        }
        config_free_bound(kv_fields, &k);
        if (rc)
            return rc;
    }
    return 0;
}

struct lib_cfg {
    char *name;
    const struct cnode *version;
};
static const struct config_field lib_fields[] = {
    {.name = "name", .type = CFG_STRING, .offset = offsetof(struct lib_cfg, name),
     .doc = "instrumentation scope name"},
    {.name = "version", .type = CFG_RAW, .offset = offsetof(struct lib_cfg, version),
     .doc = "scope version (absent: any; \"\": only an empty one)"},
    {.name = NULL},
};

static int libs_make(struct matchprops *m, const struct cctx *c)
{
    char pos[300];
    const struct cnode *list = c->cfg->libraries;
    if (!list || list->kind == CNODE_NULL)
        return 0;
    if (list->kind != CNODE_SEQ)
        return cerr(c, "libraries", "expected a list of {name, version}");
    if (!list->n)
        return 0;
    m->libs = calloc(list->n, sizeof *m->libs);
    if (!m->libs)
        return error_set(c->err, "out of memory");
    for (size_t i = 0; i < list->n; i++) {
        const struct cnode *item = list->items[i];
        struct lib_cfg l;
        memset(&l, 0, sizeof l);
        struct error berr = {0};
        if (!item || item->kind != CNODE_MAP)
            return error_set(c->err, "%s: %s.libraries[%zu]: expected a map {name, version}",
                             cnode_where(item ? item : list, pos, sizeof pos), c->path, i);
        if (config_bind(lib_fields, item, &l, &berr) != 0) {
            config_free_bound(lib_fields, &l);
            return error_set(c->err, "%s.libraries[%zu]: %s", c->path, i, berr.msg);
        }
        m->n_libs = i + 1;
        char *name = l.name ? l.name : (char *)"";
        int rc = set_make(c, "libraries", &name, 1, &m->libs[i].name);
        if (rc == 0 && l.version && l.version->kind != CNODE_NULL) {
            if (l.version->kind != CNODE_SCALAR) {
                rc = error_set(c->err, "%s: %s.libraries[%zu].version: expected a string",
                               cnode_where(l.version, pos, sizeof pos), c->path, i);
            } else {
                char *v = l.version->value;
                m->libs[i].has_version = true;
                rc = set_make(c, "libraries", &v, 1, &m->libs[i].version);
            }
        }
        config_free_bound(lib_fields, &l);
        if (rc)
            return rc;
    }
    return 0;
}

static int severity_parse(const char *s, int *out)
{
    static const char *const base[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    if (!s || !*s) {
        *out = 0;
        return 0;
    }
    int64_t v;
    if (config_parse_int(s, &v) == 0) {
        if (v < 0 || v > 24)
            return -1;
        *out = (int)v;
        return 0;
    }
    for (int b = 0; b < 6; b++) {
        size_t l = strlen(base[b]);
        if (strncasecmp(s, base[b], l) != 0)
            continue;
        if (!s[l]) {
            *out = b * 4 + 1;
            return 0;
        }
        if (s[l] >= '2' && s[l] <= '4' && !s[l + 1]) {
            *out = b * 4 + 1 + (s[l] - '1');
            return 0;
        }
    }
    return -1;
}

static void noeffect(const struct cctx *c, const struct config_warn_sink *w, const char *key,
                     bool present, const char *why)
{
    if (!present || !w)
        return;
    char k[160];
    key = kname(c, key);
    snprintf(k, sizeof k, "%s.%s", c->path, key);
    config_warnf(w, c->node ? cnode_key(c->node, key) : NULL, k, "has no effect for %s: %s",
                 c->signal == SIGNAL_METRICS ? "metrics" : c->signal == SIGNAL_TRACES ? "spans"
                                                                              : "log records",
                 why);
}

int matchprops_compile(const struct matchprops_config *cfg, const struct cnode *node,
                       enum signal signal, const char *path, const struct config_warn_sink *w,
                       struct matchprops **out, struct error *err)
{
    *out = NULL;
    struct cctx c = {.cfg = cfg, .node = node, .path = path ? path : "", .signal = signal,
                     .err = err};
    c.regexp = cfg->match_type && strcmp(cfg->match_type, "regexp") == 0;
    bool has_attrs = cfg->attributes && cfg->attributes->kind == CNODE_SEQ && cfg->attributes->n;
    bool has_res = cfg->resources && cfg->resources->kind == CNODE_SEQ && cfg->resources->n;
    bool has_libs = cfg->libraries && cfg->libraries->kind == CNODE_SEQ && cfg->libraries->n;

    if (signal == SIGNAL_METRICS) {
        /* filtermetric reads match_type, regexp and metric_names; nothing else */
        const char *why = "the Collector matches metrics by metric_names only";
        noeffect(&c, w, "services", cfg->services.n, why);
        noeffect(&c, w, "span_names", cfg->span_names.n, why);
        noeffect(&c, w, "span_kinds", cfg->span_kinds.n, why);
        noeffect(&c, w, "log_bodies", cfg->log_bodies.n, why);
        noeffect(&c, w, "log_severity_texts", cfg->log_severity_texts.n, why);
        noeffect(&c, w, "log_severity_number", cfg->has_severity_number, why);
        noeffect(&c, w, "attributes", has_attrs, why);
        noeffect(&c, w, "resources", has_res, why);
        noeffect(&c, w, "libraries", has_libs, why);
        if (!cfg->metric_names.n)
            return 0;
    } else if (signal == SIGNAL_TRACES) {
        if (cfg->log_bodies.n)
            return cerr(&c, "log_bodies", "log_bodies should not be specified for trace spans");
        if (cfg->log_severity_texts.n)
            return cerr(&c, "log_severity_texts",
                        "log_severity_texts should not be specified for trace spans");
        if (cfg->has_severity_number)
            return cerr(&c, "log_severity_number",
                        "log_severity_number should not be specified for trace spans");
        if (!cfg->services.n && !cfg->span_names.n && !has_attrs && !has_libs && !has_res &&
            !cfg->span_kinds.n)
            return cerr(&c, NULL, "at least one of \"services\", \"span_names\", \"span_kinds\", "
                        "\"attributes\", \"libraries\" or \"resources\" field must be specified");
        noeffect(&c, w, "metric_names", cfg->metric_names.n,
                 "the Collector does not read metric_names for spans");
        if (cfg->span_kinds.n && cfg->match_type && strcmp(cfg->match_type, "strict") == 0) {
            static const char *const kinds[] = {"SPAN_KIND_CLIENT", "SPAN_KIND_CONSUMER",
                                                "SPAN_KIND_INTERNAL", "SPAN_KIND_PRODUCER",
                                                "SPAN_KIND_SERVER"};
            for (size_t i = 0; i < cfg->span_kinds.n; i++) {
                bool ok = false;
                for (size_t k = 0; k < 5; k++)
                    ok = ok || strcmp(cfg->span_kinds.items[i], kinds[k]) == 0;
                if (!ok)
                    return cerr(&c, "span_kinds", "span_kinds string must match one of the "
                                "standard span kinds when match_type=strict: [SPAN_KIND_CLIENT "
                                "SPAN_KIND_CONSUMER SPAN_KIND_INTERNAL SPAN_KIND_PRODUCER "
                                "SPAN_KIND_SERVER]");
            }
        }
    } else {
        if (cfg->span_names.n || cfg->services.n || cfg->span_kinds.n)
            return cerr(&c, cfg->services.n ? "services" : cfg->span_names.n ? "span_names"
                                                                              : "span_kinds",
                        "services, span_names, and span_kinds are not valid for log records");
        if (!has_attrs && !has_libs && !has_res && !cfg->log_bodies.n &&
            !cfg->log_severity_texts.n && !cfg->has_severity_number)
            return cerr(&c, NULL, "at least one of \"attributes\", \"libraries\", "
                        "\"span_kinds\", \"resources\", \"log_bodies\", \"log_severity_texts\" "
                        "or \"log_severity_number\" field must be specified");
        noeffect(&c, w, "metric_names", cfg->metric_names.n,
                 "the Collector does not read metric_names for log records");
    }

    struct matchprops *m = calloc(1, sizeof *m);
    if (!m || !(m->arena = arena_new(0))) {
        free(m);
        return error_set(err, "out of memory");
    }
    m->signal = signal;
    int rc = 0;
    if (signal == SIGNAL_METRICS) {
        rc = set_make(&c, "metric_names", cfg->metric_names.items, cfg->metric_names.n,
                      &m->metric_names);
    } else {
        rc = libs_make(m, &c);
        if (!rc)
            rc = attrs_make(m, &c, "attributes", cfg->attributes, &m->attrs, &m->n_attrs);
        if (!rc)
            rc = attrs_make(m, &c, "resources", cfg->resources, &m->res, &m->n_res);
        if (signal == SIGNAL_TRACES) {
            if (!rc && cfg->services.n)
                rc = set_make(&c, "services", cfg->services.items, cfg->services.n,
                              &m->services);
            if (!rc && cfg->span_names.n)
                rc = set_make(&c, "span_names", cfg->span_names.items, cfg->span_names.n,
                              &m->span_names);
            if (!rc && cfg->span_kinds.n)
                rc = set_make(&c, "span_kinds", cfg->span_kinds.items, cfg->span_kinds.n,
                              &m->span_kinds);
        } else {
            if (!rc && cfg->log_bodies.n)
                rc = set_make(&c, "log_bodies", cfg->log_bodies.items, cfg->log_bodies.n,
                              &m->log_bodies);
            if (!rc && cfg->log_severity_texts.n)
                rc = set_make(&c, "log_severity_texts", cfg->log_severity_texts.items,
                              cfg->log_severity_texts.n, &m->log_sev_texts);
            if (!rc && cfg->has_severity_number) {
                m->has_sev = true;
                m->sev_undefined = cfg->log_severity_number.match_undefined;
                if (severity_parse(cfg->log_severity_number.min, &m->sev_min) != 0)
                    rc = cerr(&c, "log_severity_number", "min: '%s' is not a severity number "
                              "(0..24) or name (TRACE, DEBUG2, INFO, WARN, ERROR, FATAL4, ...)",
                              cfg->log_severity_number.min);
            }
        }
    }
    if (rc) {
        matchprops_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

int matchprops_compile_node(const struct cnode *node, enum signal signal, const char *path,
                            const struct config_warn_sink *w, struct matchprops **out,
                            struct error *err)
{
    *out = NULL;
    if (!node || node->kind == CNODE_NULL)
        return 0;
    struct matchprops_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct error berr = {0};
    if (config_bind(matchprops_fields, node, &cfg, &berr) != 0) {
        config_free_bound(matchprops_fields, &cfg);
        return error_set(err, "%s: %s", path ? path : "", berr.msg);
    }
    int rc = matchprops_compile(&cfg, node, signal, path, w, out, err);
    config_free_bound(matchprops_fields, &cfg);
    return rc;
}

int matchprops_compile_attributes(const struct matchprops_config *cfg, const struct cnode *node,
                                  const struct cnode *list, const char *key, const char *path,
                                  struct matchprops **out, struct error *err)
{
    *out = NULL;
    if (!list || list->kind == CNODE_NULL || (list->kind == CNODE_SEQ && !list->n))
        return 0;
    struct cctx c = {.cfg = cfg, .node = node, .path = path ? path : "", .signal = SIGNAL_METRICS,
                     .err = err};
    c.regexp = cfg->match_type && strcmp(cfg->match_type, "regexp") == 0;
    struct matchprops *m = calloc(1, sizeof *m);
    if (!m || !(m->arena = arena_new(0))) {
        free(m);
        return error_set(err, "out of memory");
    }
    m->signal = SIGNAL_METRICS;
    if (attrs_make(m, &c, key, list, &m->attrs, &m->n_attrs) != 0) {
        matchprops_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

/* ---- matching ------------------------------------------------------------------------------ */

static const any_t *find(Opentelemetry__Proto__Common__V1__KeyValue *const *kvs, size_t n,
                         const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (kvs[i] && strcmp(kvs[i]->key ? kvs[i]->key : "", key) == 0)
            return kvs[i]->value;
    return NULL;
}

static bool has_key(Opentelemetry__Proto__Common__V1__KeyValue *const *kvs, size_t n,
                    const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (kvs[i] && strcmp(kvs[i]->key ? kvs[i]->key : "", key) == 0)
            return true;
    return false;
}

/* AttributesMatcher.Match: every listed key present, with its value when one is given. */
static bool attrs_match(const struct mp_attr *a, size_t na,
                        Opentelemetry__Proto__Common__V1__KeyValue *const *kvs, size_t n)
{
    for (size_t i = 0; i < na; i++) {
        if (!has_key(kvs, n, a[i].key))
            return false;
        const any_t *v = find(kvs, n, a[i].key);
        if (a[i].re.n) {
            char buf[512];
            const char *s;
            switch (v ? v->value_case : 0) {
            case V_STR:
                s = v->string_value ? v->string_value : "";
                break;
            case V_BOOL:
                s = v->bool_value ? "true" : "false";
                break;
            case V_INT:
                snprintf(buf, sizeof buf, "%lld", (long long)v->int_value);
                s = buf;
                break;
            case V_DOUBLE:
                attraction_format_double_f(v->double_value, buf, sizeof buf);
                s = buf;
                break;
            default:
                return false;
            }
            if (!set_matches(&a[i].re, s))
                return false;
        } else if (a[i].value && !attraction_value_equal(a[i].value, v)) {
            return false;
        }
    }
    return true;
}

bool matchprops_match_attributes(const struct matchprops *m,
                                 Opentelemetry__Proto__Common__V1__KeyValue *const *kvs,
                                 size_t n)
{
    return attrs_match(m->attrs, m->n_attrs, kvs, n);
}

/* PropertiesMatcher.Match: libraries, then resources, then attributes. */
static bool props_match(const struct matchprops *m,
                        const Opentelemetry__Proto__Resource__V1__Resource *res,
                        const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                        Opentelemetry__Proto__Common__V1__KeyValue *const *kvs, size_t n)
{
    const char *sname = scope && scope->name ? scope->name : "";
    const char *sver = scope && scope->version ? scope->version : "";
    for (size_t i = 0; i < m->n_libs; i++) {
        if (!set_matches(&m->libs[i].name, sname))
            return false;
        if (m->libs[i].has_version && !set_matches(&m->libs[i].version, sver))
            return false;
    }
    if (m->n_res && !attrs_match(m->res, m->n_res, res ? res->attributes : NULL,
                                 res ? res->n_attributes : 0))
        return false;
    return attrs_match(m->attrs, m->n_attrs, kvs, n);
}

static const char *span_kind_str(int k)
{
    static const char *const names[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                        "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
                                        "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"};
    return k >= 0 && k <= 5 ? names[k] : "";
}

bool matchprops_match_span(const struct matchprops *m,
                           const Opentelemetry__Proto__Resource__V1__Resource *res,
                           const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                           const Opentelemetry__Proto__Trace__V1__Span *span)
{
    if (m->services.n) {
        const any_t *v = res ? find(res->attributes, res->n_attributes, "service.name") : NULL;
        bool present = res && has_key(res->attributes, res->n_attributes, "service.name");
        char buf[512];
        if (present)
            attraction_as_string(v, buf, sizeof buf);
        if (!set_matches(&m->services, present ? buf : "<nil-service-name>"))
            return false;
    }
    if (m->span_names.n && !set_matches(&m->span_names, span->name))
        return false;
    if (m->span_kinds.n && !set_matches(&m->span_kinds, span_kind_str((int)span->kind)))
        return false;
    return props_match(m, res, scope, span->attributes, span->n_attributes);
}

bool matchprops_match_log(const struct matchprops *m,
                          const Opentelemetry__Proto__Resource__V1__Resource *res,
                          const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                          const Opentelemetry__Proto__Logs__V1__LogRecord *lr)
{
    if (m->log_bodies.n) {
        char small[1024];
        size_t n = attraction_as_string(lr->body, small, sizeof small);
        char *big = n >= sizeof small ? malloc(n + 1) : NULL;
        if (big)
            attraction_as_string(lr->body, big, n + 1);
        bool ok = set_matches(&m->log_bodies, big ? big : small);
        free(big);
        if (!ok)
            return false;
    }
    if (m->log_sev_texts.n && !set_matches(&m->log_sev_texts, lr->severity_text))
        return false;
    if (m->has_sev) {
        int sn = (int)lr->severity_number;
        if (sn == 0 ? !m->sev_undefined : sn < m->sev_min)
            return false;
    }
    return props_match(m, res, scope, lr->attributes, lr->n_attributes);
}

bool matchprops_match_metric(const struct matchprops *m,
                             const Opentelemetry__Proto__Resource__V1__Resource *res,
                             const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                             const Opentelemetry__Proto__Metrics__V1__Metric *metric)
{
    (void)res;
    (void)scope;
    return set_matches(&m->metric_names, metric->name);
}

bool matchprops_skip_span(const struct matchprops *inc, const struct matchprops *exc,
                          const Opentelemetry__Proto__Resource__V1__Resource *res,
                          const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                          const Opentelemetry__Proto__Trace__V1__Span *span)
{
    if (inc && !matchprops_match_span(inc, res, scope, span))
        return true;
    return exc && matchprops_match_span(exc, res, scope, span);
}

bool matchprops_skip_log(const struct matchprops *inc, const struct matchprops *exc,
                         const Opentelemetry__Proto__Resource__V1__Resource *res,
                         const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                         const Opentelemetry__Proto__Logs__V1__LogRecord *lr)
{
    if (inc && !matchprops_match_log(inc, res, scope, lr))
        return true;
    return exc && matchprops_match_log(exc, res, scope, lr);
}

bool matchprops_skip_metric(const struct matchprops *inc, const struct matchprops *exc,
                            const Opentelemetry__Proto__Resource__V1__Resource *res,
                            const Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                            const Opentelemetry__Proto__Metrics__V1__Metric *metric)
{
    if (inc && !matchprops_match_metric(inc, res, scope, metric))
        return true;
    return exc && matchprops_match_metric(exc, res, scope, metric);
}
