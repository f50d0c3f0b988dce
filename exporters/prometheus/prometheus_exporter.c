/* prometheus_exporter.c — the `prometheus` exporter: keeps the latest state of every series it
 * is sent and serves it as Prometheus text (0.0.4) on GET /metrics, as the Collector's
 * prometheus exporter does.
 *
 * The one idea: a series is known by its family name and its finished label text (job,
 * instance, scope, sorted attributes, const labels, all translated and escaped), so looking a
 * series up, keeping it and rendering it are the same string: consume() builds that text once
 * per point and folds the point into what is held (a cumulative point replaces, a delta point is
 * added), and a scrape only prints, in the key order each table keeps until a node is added or
 * removed. One mutex guards the whole state; nothing borrowed from a batch outlives consume(). */
#include "exporters/prometheus/prometheus_exporter.h"
#include "exporters/prometheus/prometheus_internal.h"

#include <stdint.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/admin_http.h"
#include "core/admin_http_config.h"
#include "core/exporter_helper.h"
#include "core/batch.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "core/tls_config.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistogramDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint SummaryDataPoint;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsRequest;

#define NO_RECORDED_VALUE \
    OPENTELEMETRY__PROTO__METRICS__V1__DATA_POINT_FLAGS__DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
#define TEMPORALITY_DELTA \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
#define VALUE_AS_INT OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
#define VALUE_AS_DOUBLE OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE
#define TEMPORALITY_UNSPECIFIED \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_UNSPECIFIED

#define NAME_MAX_LEN 1024

/* ---- config ---------------------------------------------------------------------------------- */

/* The public config plus the keys only this file reads. */
struct prom_config {
    struct prometheus_exporter_config pub;
    char *translation_strategy;       /* NULL/"" = unset: add_metric_suffixes decides */
    bool enable_open_metrics;         /* OpenMetrics 1.0.0 to scrapers that ask for it */
    struct tls_server_config tls;     /* confighttp's tls: the scrape endpoint over HTTPS */
    bool has_tls;
    /* The rest of confighttp.ServerConfig, which the Collector's exporter embeds: read, and
     * warned about where the scrape server does something else (prom_warn). */
    struct {
        struct config_str_list allowed_origins, allowed_headers;
        int64_t max_age;
    } cors;
    int64_t max_request_body_size;
    bool include_metadata;
    struct config_kv_list response_headers;
    struct config_str_list compression_algorithms;
    int64_t read_timeout, read_header_timeout, write_timeout, idle_timeout;
    bool keep_alives_enabled;
    const struct cnode *auth;         /* refused when it names an authenticator */
    const struct cnode *middlewares;  /* refused when not empty */
    struct queue_config sending_queue;
    bool has_sending_queue;
    enum prometheus_translation strategy; /* effective, set by validate */
    /* Set by validate: the resource-label settings in force (resource_constant_labels when
     * written, else resource_to_telemetry_conversion), and whether they put every attribute on
     * every series (the older `enabled`, which also drops target_info). */
    const struct prometheus_resource_labels *res_labels;
    bool res_all;
};

static const char *const strategy_names[] = {
    "UnderscoreEscapingWithSuffixes", "UnderscoreEscapingWithoutSuffixes",
    "NoUTF8EscapingWithSuffixes", "NoTranslation", NULL};

#define PUB_OFF(f) offsetof(struct prom_config, pub.f)

#define RL_OFF(f) offsetof(struct prometheus_resource_labels, f)

static const struct config_field res_label_fields[] = {
    {.name = "enabled", .type = CFG_BOOL, .offset = RL_OFF(enabled), .def = "false",
     .doc = "put every resource attribute on every series (instead of target_info); "
            "resource_to_telemetry_conversion only"},
    {.name = "exclude_service_attributes", .type = CFG_BOOL,
     .offset = RL_OFF(exclude_service_attributes), .def = "false",
     .doc = "with enabled: leave out service.name, service.namespace and service.instance.id "
            "(already job and instance); resource_to_telemetry_conversion only"},
    {.name = "included", .type = CFG_STRING_LIST, .offset = RL_OFF(included),
     .doc = "key patterns ('*' any run, '?' one character) of the resource attributes to put on "
            "every series; target_info stays"},
    {.name = "excluded", .type = CFG_STRING_LIST, .offset = RL_OFF(excluded),
     .doc = "key patterns to leave out, winning over included; alone, every other key is put"},
    {.name = NULL},
};

#define CFG_OFF(f) offsetof(struct prom_config, f)

static const struct config_field cors_fields[] = {
    {.name = "allowed_origins", .type = CFG_STRING_LIST, .offset = 0,
     .doc = "origins allowed to read across origins (warned: no CORS headers are sent)"},
    {.name = "allowed_headers", .type = CFG_STRING_LIST,
     .offset = offsetof(struct prom_config, cors.allowed_headers) - CFG_OFF(cors),
     .doc = "request headers allowed in CORS requests"},
    {.name = "max_age", .type = CFG_INT,
     .offset = offsetof(struct prom_config, cors.max_age) - CFG_OFF(cors),
     .doc = "seconds a browser may cache a preflight answer"},
    {.name = NULL},
};

static const struct config_field prom_fields[] = {
    {.name = "endpoint", .type = CFG_STRING, .offset = PUB_OFF(endpoint), .def = "localhost:8889",
     .doc = "host:port of the scrape endpoint (path /metrics)"},
    {.name = "namespace", .type = CFG_STRING, .offset = PUB_OFF(namespace_),
     .doc = "prefix <namespace>_ of every metric name"},
    {.name = "const_labels", .type = CFG_STRING_MAP, .offset = PUB_OFF(const_labels),
     .doc = "labels added to every series"},
    {.name = "send_timestamps", .type = CFG_BOOL, .offset = PUB_OFF(send_timestamps),
     .def = "false", .doc = "write each sample's time (ms) after its value"},
    {.name = "metric_expiration", .type = CFG_DURATION, .offset = PUB_OFF(metric_expiration),
     .def = "5m", .doc = "forget a series not updated for this long"},
    {.name = "add_metric_suffixes", .type = CFG_BOOL, .offset = PUB_OFF(add_metric_suffixes),
     .def = "true", .doc = "append unit words, _total and _ratio to metric names"},
    {.name = "resource_to_telemetry_conversion", .type = CFG_SECTION,
     .offset = PUB_OFF(resource_to_telemetry_conversion), .sub = res_label_fields,
     .doc = "resource attributes as labels of every series (the older form of "
            "resource_constant_labels)"},
    {.name = "resource_constant_labels", .type = CFG_SECTION,
     .offset = PUB_OFF(resource_constant_labels), .sub = res_label_fields,
     .doc = "the resource attributes (included/excluded key patterns) put on every series; wins "
            "over resource_to_telemetry_conversion"},
    {.name = "without_scope_info", .type = CFG_BOOL, .offset = PUB_OFF(without_scope_info),
     .def = "false", .doc = "leave out otel_scope_name, otel_scope_version and otel_scope_* labels"},
    {.name = "translation_strategy", .type = CFG_STRING,
     .offset = offsetof(struct prom_config, translation_strategy),
     .doc = "UnderscoreEscapingWithSuffixes, UnderscoreEscapingWithoutSuffixes, "
            "NoUTF8EscapingWithSuffixes or NoTranslation; when set, add_metric_suffixes is ignored"},
    {.name = "enable_open_metrics", .type = CFG_BOOL,
     .offset = offsetof(struct prom_config, enable_open_metrics), .def = "false",
     .doc = "serve OpenMetrics 1.0.0 (with exemplars) to scrapers whose Accept asks for it"},
    {.name = "tls", .type = CFG_PRESENCE, .offset = offsetof(struct prom_config, tls),
     .present_offset = offsetof(struct prom_config, has_tls), .sub = tls_server_fields,
     .doc = "serve the scrape endpoint over HTTPS (confighttp server TLS settings)"},
    {.name = "cors", .type = CFG_SECTION, .offset = CFG_OFF(cors), .sub = cors_fields,
     .doc = "confighttp CORS settings (warned when origins are set: no CORS headers are sent)"},
    {.name = "auth", .type = CFG_RAW, .offset = CFG_OFF(auth),
     .doc = "refused when it names an authenticator: the scrape endpoint cannot check one"},
    {.name = "max_request_body_size", .type = CFG_INT, .offset = CFG_OFF(max_request_body_size),
     .doc = "bytes of a request body (a scrape has none)"},
    {.name = "include_metadata", .type = CFG_BOOL, .offset = CFG_OFF(include_metadata),
     .def = "false", .doc = "client metadata for the pipeline (a scrape feeds none)"},
    {.name = "response_headers", .type = CFG_STRING_MAP, .offset = CFG_OFF(response_headers),
     .doc = "headers added to every answer (warned: not sent by the scrape server)"},
    {.name = "compression_algorithms", .type = CFG_STRING_LIST,
     .offset = CFG_OFF(compression_algorithms),
     .doc = "request body encodings accepted (a scrape has no body)"},
    {.name = "read_timeout", .type = CFG_DURATION, .offset = CFG_OFF(read_timeout),
     .doc = "warned: connections close after 30s without traffic, whatever the phase"},
    {.name = "read_header_timeout", .type = CFG_DURATION, .offset = CFG_OFF(read_header_timeout),
     .doc = "warned, as read_timeout"},
    {.name = "write_timeout", .type = CFG_DURATION, .offset = CFG_OFF(write_timeout),
     .doc = "warned, as read_timeout"},
    {.name = "idle_timeout", .type = CFG_DURATION, .offset = CFG_OFF(idle_timeout),
     .doc = "warned, as read_timeout"},
    {.name = "keep_alives_enabled", .type = CFG_BOOL, .offset = CFG_OFF(keep_alives_enabled),
     .def = "true", .doc = "HTTP keep-alive (warned when false: connections are kept alive)"},
    {.name = "middlewares", .type = CFG_RAW, .offset = CFG_OFF(middlewares),
     .doc = "refused when not empty: no middleware extension runs here"},
    {.name = "sending_queue", .type = CFG_PRESENCE, .offset = CFG_OFF(sending_queue),
     .present_offset = CFG_OFF(has_sending_queue), .sub = queue_config_fields,
     .doc = "the Collector's optional queue (warned when enabled: points are folded into the "
            "served state as they come)"},
    {.name = NULL},
};

/* Go's regexp of pkg/resourcetotelemetry's glob: '*' is ".*" and '?' is ".", anchored, so
 * neither crosses a newline and '?' is one UTF-8 character. */
static bool glob_match(const char *p, const char *k)
{
    const char *star = NULL, *resume = NULL;
    while (*k) {
        if (*p == '*') {
            star = ++p;
            resume = k;
            continue;
        }
        if (*p && *k != '\n' && (*p == '?' || *p == *k)) {
            if (*p == '?')
                while ((unsigned char)k[1] >= 0x80 && ((unsigned char)k[1] & 0xC0) == 0x80)
                    k++;
            p++;
            k++;
            continue;
        }
        if (!star || *resume == '\n')
            return false;
        p = star; /* let the last '*' take one more byte */
        k = ++resume;
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static bool is_service_key(const char *k)
{
    return strcmp(k, "service.name") == 0 || strcmp(k, "service.namespace") == 0 ||
           strcmp(k, "service.instance.id") == 0;
}

bool prometheus_resource_label_matches(const struct prometheus_resource_labels *r,
                                       const char *key)
{
    if (r->included.n || r->excluded.n) {
        for (size_t i = 0; i < r->excluded.n; i++)
            if (glob_match(r->excluded.items[i], key))
                return false;
        if (!r->included.n)
            return true;
        for (size_t i = 0; i < r->included.n; i++)
            if (glob_match(r->included.items[i], key))
                return true;
        return false;
    }
    return r->enabled && !(r->exclude_service_attributes && is_service_key(key));
}

static bool res_labels_empty(const struct prometheus_resource_labels *r)
{
    return !r->enabled && !r->exclude_service_attributes && !r->included.n && !r->excluded.n;
}

/* An error at a node's position ("file:line:col: key: ..."), which the service's prefix (the
 * exporter's ID) leaves readable. */
static int error_at(struct error *err, const struct cnode *at, const char *key, const char *msg)
{
    char pos[300];
    return error_set(err, "%s: %s: %s", cnode_where(at, pos, sizeof pos), key, msg);
}

/* The server keys that would make the endpoint look different from what it is are refused
 * where they are written: an authenticator the scrape server cannot call, middlewares. */
static int validate_server(const struct prom_config *c, struct error *err)
{
    const struct cnode *a = c->auth;
    if (a && a->kind == CNODE_MAP && cnode_get(a, "authenticator")) {
        const struct cnode *v = cnode_get(a, "authenticator");
        if (v->kind != CNODE_NULL && !(v->kind == CNODE_SCALAR && !*v->value))
            return error_at(err, cnode_key(a, "authenticator"), "auth.authenticator",
                            "not supported on the scrape endpoint: it cannot ask an "
                            "authenticator, and an endpoint that looks protected but is not "
                            "would be worse; remove auth, or protect the scrape with tls."
                            "client_ca_file (client certificates)");
    } else if (a && a->kind != CNODE_NULL && a->kind != CNODE_MAP) {
        return error_at(err, a, "auth", "expected a map (authenticator: <extension ID>)");
    }
    const struct cnode *m = c->middlewares;
    if (m && m->kind != CNODE_NULL && !(m->kind == CNODE_SEQ && m->n == 0))
        return error_at(err, m, "middlewares",
                        "not supported on the scrape endpoint: no middleware extension runs "
                        "here; leave it empty");
    if (c->has_sending_queue && queue_config_validate(&c->sending_queue, err)) {
        error_prefix(err, "sending_queue: ");
        return -1;
    }
    return 0;
}

/* pkg/resourcetotelemetry's rules: the older enabled/exclude_service_attributes do not mix with
 * patterns, and resource_constant_labels takes patterns only. */
static int validate_res_labels(struct prom_config *c, struct error *err)
{
    const struct prometheus_resource_labels *r2t = &c->pub.resource_to_telemetry_conversion;
    const struct prometheus_resource_labels *rcl = &c->pub.resource_constant_labels;
    if (rcl->enabled || rcl->exclude_service_attributes)
        return error_set(err, "resource_constant_labels: enabled and exclude_service_attributes "
                         "are not supported here; use included and excluded (included: [\"*\"] "
                         "for every attribute)");
    if ((r2t->enabled || r2t->exclude_service_attributes) && (r2t->included.n || r2t->excluded.n))
        return error_set(err, "resource_to_telemetry_conversion: enabled/exclude_service_attributes "
                         "and included/excluded patterns cannot be combined");
    c->res_labels = res_labels_empty(rcl) ? r2t : rcl;
    c->res_all = c->res_labels == r2t && r2t->enabled && !r2t->included.n && !r2t->excluded.n;
    return 0;
}

static int prom_validate(const void *cfgp, struct error *err)
{
    struct prom_config *c = (struct prom_config *)cfgp;
    if (validate_server(c, err) || validate_res_labels(c, err))
        return -1;
    /* the Collector: an explicit strategy wins; unset, add_metric_suffixes picks one of the
     * underscore strategies */
    c->strategy = c->pub.add_metric_suffixes ? PROM_UNDERSCORE_ESCAPING_WITH_SUFFIXES
                                             : PROM_UNDERSCORE_ESCAPING_WITHOUT_SUFFIXES;
    if (c->translation_strategy && *c->translation_strategy) {
        int i = 0;
        while (strategy_names[i] && strcmp(strategy_names[i], c->translation_strategy) != 0)
            i++;
        if (!strategy_names[i])
            return error_set(err, "translation_strategy: invalid \"%s\"; expected "
                             "UnderscoreEscapingWithSuffixes, UnderscoreEscapingWithoutSuffixes, "
                             "NoUTF8EscapingWithSuffixes or NoTranslation", c->translation_strategy);
        c->strategy = (enum prometheus_translation)i;
    }
    if (c->has_tls && admin_http_tls_validate(&c->tls, err))
        return -1;

    const char *ep = c->pub.endpoint;
    const char *colon = ep ? strrchr(ep, ':') : NULL;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535) {
        error_set(err, "endpoint: \"%s\" is not host:port", ep ? ep : "");
        return -1;
    }
    if (c->pub.metric_expiration <= 0) {
        error_set(err, "metric_expiration: must be positive");
        return -1;
    }
    return 0;
}

/* What differs from the Collector in a setting that is honoured otherwise. */
static void prom_warn(const void *cfgp, const struct cnode *node, const struct config_warn_sink *w)
{
    const struct prom_config *c = cfgp;
    const struct cnode *k;
    if ((c->strategy == PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES || c->strategy == PROM_NO_TRANSLATION) &&
        (k = cnode_find_key(node, "translation_strategy")))
        config_warnf(w, k, "translation_strategy",
                     "%s: names are kept as written, then served with every character outside "
                     "[a-zA-Z0-9_:] escaped to '_' (the Collector's answer to a scraper that does "
                     "not negotiate escaping=allow-utf-8); UTF-8 names are never served",
                     strategy_names[c->strategy]);
    if (c->translation_strategy && *c->translation_strategy &&
        (k = cnode_find_key(node, "add_metric_suffixes")))
        config_warnf(w, k, "add_metric_suffixes", "has no effect: translation_strategy is set");
    const struct prometheus_resource_labels *r2t = &c->pub.resource_to_telemetry_conversion;
    if (c->res_labels != r2t && !res_labels_empty(r2t) &&
        (k = cnode_find_key(node, "resource_to_telemetry_conversion")))
        config_warnf(w, k, "resource_to_telemetry_conversion",
                     "has no effect: resource_constant_labels is set and wins");
    else if (r2t->exclude_service_attributes && !r2t->enabled &&
             (k = cnode_find_key(node, "resource_to_telemetry_conversion.exclude_service_attributes")))
        config_warnf(w, k, "resource_to_telemetry_conversion.exclude_service_attributes",
                     "has no effect while enabled is false (as in the Collector)");

    /* The confighttp server keys, where the scrape server does something else. */
    if (c->cors.allowed_origins.n && (k = cnode_find_key(node, "cors")))
        config_warnf(w, k, "cors", "has no effect: the scrape endpoint sends no CORS headers, so "
                     "a browser page of another origin cannot read it");
    if (c->response_headers.n && (k = cnode_find_key(node, "response_headers")))
        config_warnf(w, k, "response_headers", "has no effect: the scrape server sends only its "
                     "own headers");
    static const char *const timeouts[] = {"read_timeout", "read_header_timeout", "write_timeout",
                                           "idle_timeout", NULL};
    for (int i = 0; timeouts[i]; i++)
        if ((k = cnode_find_key(node, timeouts[i])))
            config_warnf(w, k, timeouts[i], "has no effect: the scrape server closes a connection "
                         "after 30s without traffic, in any phase");
    if (!c->keep_alives_enabled && (k = cnode_find_key(node, "keep_alives_enabled")))
        config_warnf(w, k, "keep_alives_enabled", "false has no effect: connections are kept "
                     "alive");
    if (c->has_sending_queue && c->sending_queue.enabled &&
        (k = cnode_find_key(node, "sending_queue")))
        config_warnf(w, k, "sending_queue", "has no effect: points are folded into the served "
                     "state by the pipeline thread, which never waits on a scrape");
}

/* ---- a string-keyed hash table of intrusive nodes -------------------------------------------- */

struct prom_node {
    struct prom_node *next;
    uint64_t hash;
    char *key;
    size_t klen;
};

/* The nodes of a table in key order, as a scrape prints them, kept from scrape to scrape: a
 * scrape of an unchanged table sorts nothing, nodes added since are sorted among themselves and
 * merged in, and only a removal makes the next scrape sort everything again. */
struct prom_order {
    struct prom_node **v; /* when valid: n in key order, then `added` in any order */
    size_t n, added, cap;
    bool valid;
};

struct prom_table {
    struct prom_node **b;
    size_t nb, n;
    struct prom_order order;
};

/* Eight bytes per multiply in two independent lanes (a label text is ~300 bytes), then a final
 * mix: the buckets are the low bits. */
static uint64_t hash_bytes(const char *p, size_t n)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h = 14695981039346656037ull ^ n, g = 0x6a09e667f3bcc909ull, w, v;
    for (; n >= 16; p += 16, n -= 16) {
        memcpy(&w, p, 8);
        memcpy(&v, p + 8, 8);
        h = (h ^ w) * k;
        g = (g ^ v) * k;
        h ^= h >> 29;
        g ^= g >> 29;
    }
    if (n >= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    w = 0;
    if (n)
        memcpy(&w, p, n);
    h = (h ^ w ^ g) * k;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static struct prom_node *table_find(const struct prom_table *t, const char *key, size_t len,
                                    uint64_t h)
{
    if (!t->nb)
        return NULL;
    for (struct prom_node *e = t->b[h & (t->nb - 1)]; e; e = e->next)
        if (e->hash == h && e->klen == len && memcmp(e->key, key, len) == 0)
            return e;
    return NULL;
}

static int table_insert(struct prom_table *t, struct prom_node *e)
{
    if (t->n + 1 > t->nb) {
        size_t nb = t->nb ? t->nb * 2 : 16;
        struct prom_node **b = calloc(nb, sizeof *b);
        if (!b)
            return -1;
        for (size_t i = 0; i < t->nb; i++) {
            struct prom_node *x = t->b[i];
            while (x) {
                struct prom_node *next = x->next;
                x->next = b[x->hash & (nb - 1)];
                b[x->hash & (nb - 1)] = x;
                x = next;
            }
        }
        free(t->b);
        t->b = b;
        t->nb = nb;
    }
    size_t i = e->hash & (t->nb - 1);
    e->next = t->b[i];
    t->b[i] = e;
    t->n++;
    struct prom_order *o = &t->order;
    if (o->valid && o->n + o->added == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 16;
        struct prom_node **v = realloc(o->v, cap * sizeof *v);
        if (v) {
            o->v = v;
            o->cap = cap;
        } else {
            o->valid = false; /* the next scrape sorts the whole table */
        }
    }
    if (o->valid)
        o->v[o->n + o->added++] = e;
    return 0;
}

static void table_unlink(struct prom_table *t, struct prom_node *e)
{
    struct prom_node **p = &t->b[e->hash & (t->nb - 1)];
    while (*p && *p != e)
        p = &(*p)->next;
    if (*p) {
        *p = e->next;
        t->n--;
        t->order.valid = false;
    }
}

static void table_free(struct prom_table *t)
{
    free(t->b);
    free(t->order.v);
    memset(t, 0, sizeof *t);
}

/* Every node, for iteration (malloc'd, *n set); NULL when empty or out of memory. */
static struct prom_node **table_list(const struct prom_table *t, size_t *n)
{
    *n = 0;
    if (!t->n)
        return NULL;
    struct prom_node **v = malloc(t->n * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < t->nb; i++)
        for (struct prom_node *e = t->b[i]; e; e = e->next)
            v[(*n)++] = e;
    return v;
}

static int node_key_cmp(const void *a, const void *b)
{
    return strcmp((*(struct prom_node *const *)a)->key, (*(struct prom_node *const *)b)->key);
}

/* Sorts the nodes added since the last scrape and merges them into the sorted ones, from the
 * back, where the array has their room. False when out of memory. */
static bool order_merge(struct prom_order *o)
{
    struct prom_node **add = malloc(o->added * sizeof *add);
    if (!add)
        return false;
    memcpy(add, o->v + o->n, o->added * sizeof *add);
    if (o->added > 1)
        qsort(add, o->added, sizeof *add, node_key_cmp);
    size_t i = o->n, j = o->added, k = o->n + o->added;
    while (j > 0) {
        if (i > 0 && strcmp(o->v[i - 1]->key, add[j - 1]->key) > 0)
            o->v[--k] = o->v[--i];
        else
            o->v[--k] = add[--j];
    }
    free(add);
    o->n += o->added;
    o->added = 0;
    return true;
}

/* Brings t->order up to date (t->order.v, t->order.n); -1 when out of memory. */
static int table_sorted(struct prom_table *t)
{
    struct prom_order *o = &t->order;
    if (o->valid && (!o->added || order_merge(o)))
        return 0;
    if (t->n > o->cap) {
        size_t cap = o->cap ? o->cap : 16;
        while (cap < t->n)
            cap *= 2;
        struct prom_node **v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return -1;
        o->v = v;
        o->cap = cap;
    }
    o->n = 0;
    o->added = 0;
    for (size_t i = 0; i < t->nb; i++)
        for (struct prom_node *e = t->b[i]; e; e = e->next)
            o->v[o->n++] = e;
    if (o->n > 1)
        qsort(o->v, o->n, sizeof *o->v, node_key_cmp);
    o->valid = true;
    return 0;
}

/* ---- state ----------------------------------------------------------------------------------- */

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM, PROM_SUMMARY };
static const char *const prom_type_names[] = {"counter", "gauge", "histogram", "summary"};

enum drop_reason {
    DROP_EXPONENTIAL_HISTOGRAM,
    DROP_TYPE_CONFLICT,
    DROP_DELTA_NON_MONOTONIC,
    DROP_UNSPECIFIED_TEMPORALITY,
    DROP_INVALID_NAME,
    DROP_INVALID_POINT,
    DROP_STALE,
    DROP_COUNT
};
static const char *const drop_names[DROP_COUNT] = {
    "exponential_histogram", "type_conflict",  "delta_non_monotonic", "unspecified_temporality",
    "invalid_name",          "invalid_point",  "stale",
};

/* One resource's target_info series, shared by the series of that resource. */
struct prom_target {
    struct prom_node node; /* key: label text */
    size_t refs;
};

struct prom_series {
    struct prom_node node; /* key: label text without braces, kept right after the struct */
    struct prom_target *target;
    int64_t updated_ns;    /* our clock, for expiration */
    uint64_t time_ns;      /* the point's time */
    bool is_int;
    int64_t ival;
    double dval;
    uint64_t count;        /* histograms, summaries */
    double sum;
    size_t n;              /* explicit bounds or quantiles */
    double *keys;          /* bounds (ascending) or quantiles (ascending) */
    double *vals;          /* summaries: value per quantile */
    uint64_t *counts;      /* histograms: n + 1 per-bucket counts, or NULL (no buckets) */
};

struct prom_family {
    struct prom_node node; /* key: metric name */
    char *help;
    enum prom_type type;
    struct prom_table series;
    int64_t oldest_ns;     /* at most the oldest updated_ns of its series: sweep skips until due */
    bool conflict_logged;
};

struct const_label {
    char *name, *value;
};

/* One attribute of a point on its way to a label. The name, and a value that is not a string
 * of the request, live in the scratch store by offset, as the store moves while it grows; a
 * string value is borrowed from the request. */
struct lbl {
    const char *key;   /* original attribute key, orders values joined under one name */
    const char *name;  /* set by lbls_sort, once the store has stopped growing */
    const char *value; /* borrowed, or set by lbls_sort */
    size_t name_off, value_off;
};

/* The labels of one point, reused from point to point (under the exporter's lock). */
struct lbls {
    enum prometheus_translation strategy; /* how attribute keys become label names */
    struct lbl *v;
    size_t n, cap;
    struct prom_buf store;
    bool oom;
};

struct prom_exporter {
    const struct prom_config *cfg;
    char *log_name;
    char ns[NAME_MAX_LEN];          /* the namespace as a metric-name prefix word list */
    char target_name[NAME_MAX_LEN + sizeof "_target_info"]; /* "target_info" or "<ns>_target_info" */
    struct const_label *consts;     /* sorted by name, translated, unique */
    size_t n_consts;
    pthread_mutex_t mu;
    struct prom_table families;
    struct prom_table targets;
    size_t n_series;
    int64_t last_sweep_ns;
    int64_t (*now_ns)(void);
    bool logged[DROP_COUNT];
    struct lbls lbls;               /* consume()'s scratch: the point's labels, */
    struct prom_buf text;           /* its label text, */
    struct prom_buf head;           /* and the head labels of the current scope */
    size_t render_len;              /* the last scrape's size */
    bool om;                        /* the render in progress is OpenMetrics; under mu */
    struct admin_http *http;
    _Atomic uint64_t *sent;
    _Atomic uint64_t *dropped[DROP_COUNT];
    _Atomic uint64_t *resets;
    _Atomic int64_t *series_gauge;
};

/* What one consume() did, applied to the counters after the lock is released. */
struct tally {
    uint64_t sent;
    uint64_t dropped[DROP_COUNT];
    uint64_t resets;
};

static void target_unref(struct prom_exporter *x, struct prom_target *t)
{
    if (!t || --t->refs > 0)
        return;
    table_unlink(&x->targets, &t->node);
    free(t->node.key);
    free(t);
}

static struct prom_target *target_ref(struct prom_exporter *x, const char *labels)
{
    if (!labels)
        return NULL;
    size_t len = strlen(labels);
    uint64_t h = hash_bytes(labels, len);
    struct prom_target *t = (struct prom_target *)table_find(&x->targets, labels, len, h);
    if (t) {
        t->refs++;
        return t;
    }
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->node.key = strdup(labels);
    t->node.hash = h;
    t->node.klen = len;
    t->refs = 1;
    if (!t->node.key || table_insert(&x->targets, &t->node) != 0) {
        free(t->node.key);
        free(t);
        return NULL;
    }
    return t;
}

static void series_free_data(struct prom_series *s)
{
    free(s->keys);
    free(s->vals);
    free(s->counts);
    s->keys = s->vals = NULL;
    s->counts = NULL;
    s->n = 0;
}

static void series_remove(struct prom_exporter *x, struct prom_family *f, struct prom_series *s)
{
    table_unlink(&f->series, &s->node);
    target_unref(x, s->target);
    series_free_data(s);
    free(s); /* the key lives in the same block */
    x->n_series--;
}

static void family_free(struct prom_exporter *x, struct prom_family *f)
{
    size_t n;
    struct prom_node **all = table_list(&f->series, &n);
    for (size_t i = 0; i < n; i++)
        series_remove(x, f, (struct prom_series *)all[i]);
    free(all);
    table_free(&f->series);
    free(f->help);
    free(f->node.key);
    free(f);
}

static void family_drop_if_empty(struct prom_exporter *x, struct prom_family *f)
{
    if (f->series.n)
        return;
    table_unlink(&x->families, &f->node);
    family_free(x, f);
}

/* Forgets every series not updated for metric_expiration. Under mu. Walks the buckets in
 * place: removing a node leaves the saved next node and the bucket arrays as they were. */
static void sweep(struct prom_exporter *x, int64_t now)
{
    x->last_sweep_ns = now;
    int64_t limit = x->cfg->pub.metric_expiration;
    for (size_t i = 0; i < x->families.nb; i++) {
        for (struct prom_node *fe = x->families.b[i], *fnext; fe; fe = fnext) {
            fnext = fe->next;
            struct prom_family *f = (struct prom_family *)fe;
            if (now - f->oldest_ns <= limit)
                continue;
            int64_t oldest = INT64_MAX;
            for (size_t k = 0; k < f->series.nb; k++) {
                for (struct prom_node *se = f->series.b[k], *snext; se; se = snext) {
                    snext = se->next;
                    struct prom_series *s = (struct prom_series *)se;
                    if (now - s->updated_ns > limit)
                        series_remove(x, f, s);
                    else if (s->updated_ns < oldest)
                        oldest = s->updated_ns;
                }
            }
            f->oldest_ns = oldest;
            family_drop_if_empty(x, f);
        }
    }
}

/* ---- labels ---------------------------------------------------------------------------------- */

static void lbls_reset(struct lbls *l)
{
    l->n = 0;
    l->oom = false;
    prom_buf_clear(&l->store);
}

static void lbls_free(struct lbls *l)
{
    free(l->v);
    prom_buf_free(&l->store);
    memset(l, 0, sizeof *l);
}

/* Adds attribute kv under the label name of prefix+key; empty names and values are skipped
 * (Prometheus reads an empty label as an absent one). */
static void lbls_add_kv(struct lbls *l, const char *prefix, const KeyValue *kv)
{
    if (l->oom || !kv || !kv->key)
        return;
    char name[NAME_MAX_LEN];
    if (prefix) {
        char full[NAME_MAX_LEN];
        snprintf(full, sizeof full, "%s%s", prefix, kv->key);
        prometheus_translate_label_name(l->strategy, full, name, sizeof name);
    } else {
        prometheus_translate_label_name(l->strategy, kv->key, name, sizeof name);
    }
    if (!name[0])
        return;
    struct lbl e = {.key = kv->key};
    const AnyValue *v = kv->value;
    if (v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE) {
        if (!v->string_value || !v->string_value[0])
            return;
        e.value = v->string_value; /* its text is itself */
    } else {
        size_t at = l->store.len;
        prom_attr_text(&l->store, v);
        if (l->store.len == at && !l->store.oom)
            return;
        prom_buf_putc(&l->store, '\0');
        e.value_off = at;
    }
    e.name_off = l->store.len;
    prom_buf_put(&l->store, name, strlen(name) + 1);
    if (l->store.oom) {
        l->oom = true;
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct lbl *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) {
            l->oom = true;
            return;
        }
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = e;
}

static int lbl_cmp(const void *a, const void *b)
{
    const struct lbl *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->key, y->key);
}

/* Sorts by name, then by original key. A point has a handful of labels: insertion sort, which
 * is stable as glibc's qsort (a merge sort) is, so even repeated keys keep their order. */
static void lbls_sort(struct lbls *l)
{
    for (size_t i = 0; i < l->n; i++) {
        l->v[i].name = l->store.p + l->v[i].name_off;
        if (!l->v[i].value)
            l->v[i].value = l->store.p + l->v[i].value_off;
    }
    if (l->n > 16) {
        qsort(l->v, l->n, sizeof *l->v, lbl_cmp);
        return;
    }
    for (size_t i = 1; i < l->n; i++) {
        struct lbl t = l->v[i];
        size_t j = i;
        for (; j > 0 && lbl_cmp(&l->v[j - 1], &t) > 0; j--)
            l->v[j] = l->v[j - 1];
        l->v[j] = t;
    }
}

static bool lbls_has(const struct lbls *l, const char *name)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(l->v[mid].name, name);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static void put_label_name(struct prom_buf *b, bool *first, const char *name)
{
    if (!*first)
        prom_buf_putc(b, ',');
    *first = false;
    prom_buf_puts(b, name);
    prom_buf_put(b, "=\"", 2);
}

static void put_label(struct prom_buf *b, bool *first, const char *name, const char *value)
{
    if (!value || !*value)
        return;
    put_label_name(b, first, name);
    prom_escape_label_value(b, value);
    prom_buf_putc(b, '"');
}

/* The labels a series is known by, in their fixed order. */
struct label_head {
    const char *job, *instance, *scope_name, *scope_version;
};

static bool head_takes(const struct label_head *h, const char *name)
{
    if (name[0] != 'j' && name[0] != 'i' && name[0] != 'o')
        return false;
    return (h->job && *h->job && strcmp(name, "job") == 0) ||
           (h->instance && *h->instance && strcmp(name, "instance") == 0) ||
           (h->scope_name && *h->scope_name && strcmp(name, "otel_scope_name") == 0) ||
           (h->scope_version && *h->scope_version && strcmp(name, "otel_scope_version") == 0);
}

/* job, instance, otel_scope_name, otel_scope_version: the same for every point of a scope. */
static void head_text(struct prom_buf *b, const struct label_head *h)
{
    bool first = true;
    put_label(b, &first, "job", h->job);
    put_label(b, &first, "instance", h->instance);
    put_label(b, &first, "otel_scope_name", h->scope_name);
    put_label(b, &first, "otel_scope_version", h->scope_version);
}

/* After the head text of h, which b holds: the sorted attributes, then the const labels. A
 * name already given is not given again (the earlier one wins); the values of attributes that
 * became the same name are joined with ';' in the order of their original keys, as the
 * Collector does; `reserved` (le, quantile) is left to the renderer. */
static void labels_text(struct prom_buf *b, const struct label_head *h, const struct lbls *l,
                        const struct const_label *consts, size_t n_consts, const char *reserved)
{
    bool first = b->len == 0;
    for (size_t i = 0, j; i < l->n; i = j) {
        const char *name = l->v[i].name;
        for (j = i + 1; j < l->n && strcmp(l->v[j].name, name) == 0; j++)
            ;
        if (head_takes(h, name) || (reserved && strcmp(name, reserved) == 0))
            continue;
        put_label_name(b, &first, name);
        for (size_t k = i; k < j; k++) {
            if (k > i)
                prom_buf_putc(b, ';');
            prom_escape_label_value(b, l->v[k].value);
        }
        prom_buf_putc(b, '"');
    }
    for (size_t i = 0; i < n_consts; i++) {
        if (head_takes(h, consts[i].name) || lbls_has(l, consts[i].name) ||
            (reserved && strcmp(consts[i].name, reserved) == 0))
            continue;
        put_label(b, &first, consts[i].name, consts[i].value);
    }
}

/* ---- consume --------------------------------------------------------------------------------- */

/* What a resource gives each of its series. */
struct res_ctx {
    char *job, *instance;      /* NULL when absent */
    char *target;              /* target_info label text; NULL without target_info */
    KeyValue **attrs;          /* all resource attributes (resource_to_telemetry_conversion) */
    size_t n_attrs;
    bool oom;
};

struct scope_ctx {
    const char *name, *version;
    KeyValue **attrs;
    size_t n_attrs;
    const char *head;          /* head_text of the resource and scope (the exporter's scratch) */
    size_t head_len;
    bool oom;
};

static const KeyValue *find_attr(KeyValue **kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (kv[i] && kv[i]->key && strcmp(kv[i]->key, key) == 0)
            return kv[i];
    return NULL;
}

static char *attr_string(const KeyValue *kv, bool *oom)
{
    if (!kv)
        return NULL;
    struct prom_buf b = {0};
    prom_attr_text(&b, kv->value);
    char *s = prom_buf_take(&b, NULL);
    if (!s)
        *oom = true;
    return s;
}

static void res_ctx_init(struct prom_exporter *x, struct res_ctx *rc,
                         const Opentelemetry__Proto__Resource__V1__Resource *res)
{
    memset(rc, 0, sizeof *rc);
    KeyValue **kv = res ? res->attributes : NULL;
    size_t n = res ? res->n_attributes : 0;
    rc->attrs = kv;
    rc->n_attrs = n;
    const KeyValue *svc = find_attr(kv, n, "service.name");
    if (svc) {
        char *name = attr_string(svc, &rc->oom);
        char *ns = attr_string(find_attr(kv, n, "service.namespace"), &rc->oom);
        if (name && ns) {
            struct prom_buf b = {0};
            prom_buf_printf(&b, "%s/%s", ns, name);
            rc->job = prom_buf_take(&b, NULL);
            if (!rc->job)
                rc->oom = true;
            free(name);
        } else {
            rc->job = name;
        }
        free(ns);
    }
    rc->instance = attr_string(find_attr(kv, n, "service.instance.id"), &rc->oom);
    if (x->cfg->res_all)
        return;

    struct lbls *l = &x->lbls;
    lbls_reset(l);
    for (size_t i = 0; i < n; i++) {
        const char *k = kv[i] ? kv[i]->key : NULL;
        if (!k || strcmp(k, "service.name") == 0 || strcmp(k, "service.namespace") == 0 ||
            strcmp(k, "service.instance.id") == 0)
            continue;
        lbls_add_kv(l, NULL, kv[i]);
    }
    struct label_head h = {.job = rc->job, .instance = rc->instance};
    struct prom_buf *b = &x->text;
    prom_buf_clear(b);
    if (!l->oom) {
        lbls_sort(l);
        head_text(b, &h);
        labels_text(b, &h, l, NULL, 0, NULL);
    }
    if (l->oom || b->oom) {
        rc->oom = true;
    } else if (b->len) { /* a resource with nothing to say has no target_info */
        rc->target = strdup(b->p);
        if (!rc->target)
            rc->oom = true;
    }
    prom_buf_clear(b);
}

static void res_ctx_fini(struct res_ctx *rc)
{
    free(rc->job);
    free(rc->instance);
    free(rc->target);
}

/* The head labels of a scope's points, in the exporter's scratch (sc->head). */
static void scope_head(struct prom_exporter *x, const struct res_ctx *rc, struct scope_ctx *sc)
{
    struct label_head h = {rc->job, rc->instance, sc->name, sc->version};
    if (x->cfg->pub.without_scope_info)
        h.scope_name = h.scope_version = NULL;
    prom_buf_clear(&x->head);
    head_text(&x->head, &h);
    sc->oom = x->head.oom;
    sc->head = x->head.p ? x->head.p : "";
    sc->head_len = x->head.len;
}

/* The label text of one point, in the exporter's scratch until the next call (*len set); NULL
 * when out of memory. */
static const char *point_labels(struct prom_exporter *x, const struct res_ctx *rc,
                                const struct scope_ctx *sc, KeyValue **attrs, size_t n_attrs,
                                const char *reserved, size_t *len)
{
    struct lbls *l = &x->lbls;
    lbls_reset(l);
    /* The Collector copies the selected resource attributes into each point, replacing a
     * point attribute of the same key: the resource's value wins. */
    const struct prometheus_resource_labels *sel = x->cfg->res_labels;
    bool any = false;
    for (size_t i = 0; i < rc->n_attrs; i++)
        if (rc->attrs[i] && rc->attrs[i]->key &&
            prometheus_resource_label_matches(sel, rc->attrs[i]->key)) {
            lbls_add_kv(l, NULL, rc->attrs[i]);
            any = true;
        }
    for (size_t i = 0; i < n_attrs; i++)
        if (!any || !attrs[i] || !attrs[i]->key || !find_attr(rc->attrs, rc->n_attrs, attrs[i]->key) ||
            !prometheus_resource_label_matches(sel, attrs[i]->key))
            lbls_add_kv(l, NULL, attrs[i]);
    if (!x->cfg->pub.without_scope_info)
        for (size_t i = 0; i < sc->n_attrs; i++)
            lbls_add_kv(l, "otel_scope_", sc->attrs[i]);
    if (l->oom)
        return NULL;
    lbls_sort(l);
    struct label_head h = {rc->job, rc->instance, sc->name, sc->version};
    if (x->cfg->pub.without_scope_info)
        h.scope_name = h.scope_version = NULL;
    struct prom_buf *b = &x->text;
    prom_buf_clear(b);
    prom_buf_put(b, sc->head, sc->head_len);
    labels_text(b, &h, l, x->consts, x->n_consts, reserved);
    if (b->oom) {
        prom_buf_clear(b);
        return NULL;
    }
    *len = b->len;
    return b->p ? b->p : "";
}

/* Finds or creates the series of labels (len bytes) in f (the target reference follows the
 * newest point). *created tells which. NULL when out of memory. */
static struct prom_series *series_get(struct prom_exporter *x, struct prom_family *f,
                                      const char *labels, size_t len, const char *target,
                                      bool *created)
{
    uint64_t h = hash_bytes(labels, len);
    struct prom_series *s = (struct prom_series *)table_find(&f->series, labels, len, h);
    *created = false;
    if (s) {
        if (!(s->target ? target && strcmp(s->target->node.key, target) == 0 : !target)) {
            struct prom_target *t = target_ref(x, target);
            target_unref(x, s->target);
            s->target = t;
        }
        return s;
    }
    /* One block for the series and its key: a lookup that finds it reads both. */
    s = calloc(1, sizeof *s + len + 1);
    if (!s)
        return NULL;
    s->node.key = (char *)(s + 1);
    memcpy(s->node.key, labels, len + 1);
    s->node.hash = h;
    s->node.klen = len;
    if (table_insert(&f->series, &s->node) != 0) {
        free(s);
        return NULL;
    }
    s->target = target_ref(x, target);
    x->n_series++;
    *created = true;
    return s;
}

static void series_forget(struct prom_exporter *x, struct prom_family *f, const char *labels,
                          size_t len)
{
    struct prom_series *s =
        (struct prom_series *)table_find(&f->series, labels, len, hash_bytes(labels, len));
    if (s)
        series_remove(x, f, s);
}

static void log_drop_once(struct prom_exporter *x, enum drop_reason r, const Metric *m,
                          const char *why)
{
    if (x->logged[r])
        return;
    x->logged[r] = true;
    log_warn(x->log_name, "dropping points of metric \"%s\": %s (further drops of this kind are "
             "only counted in llmotlp_prometheus_dropped_points{reason=\"%s\"})",
             m->name ? m->name : "", why, drop_names[r]);
}

struct metric_ctx {
    struct prom_exporter *x;
    const struct res_ctx *rc;
    const struct scope_ctx *sc;
    struct prom_family *f;
    struct tally *t;
    int64_t now;
    bool delta;
};

static void series_touch(struct metric_ctx *mc, struct prom_series *s)
{
    s->updated_ns = mc->now;
    if (mc->now < mc->f->oldest_ns)
        mc->f->oldest_ns = mc->now;
}

/* A point's label text, or NULL when the point is settled here: labels that cannot be built
 * (counted) or the no-recorded-value flag (its series forgotten, as the Collector does). */
static const char *point_begin(struct metric_ctx *mc, KeyValue **attrs, size_t n_attrs,
                               const char *reserved, uint32_t flags, size_t *len)
{
    const char *labels = point_labels(mc->x, mc->rc, mc->sc, attrs, n_attrs, reserved, len);
    if (!labels) {
        mc->t->dropped[DROP_INVALID_POINT]++;
        return NULL;
    }
    if (flags & NO_RECORDED_VALUE) {
        series_forget(mc->x, mc->f, labels, *len);
        mc->t->sent++;
        return NULL;
    }
    return labels;
}

/* The series a valid point goes to, or NULL (counted) when it cannot be held or the point is
 * older than what the series holds. */
static struct prom_series *point_series(struct metric_ctx *mc, const char *labels, size_t len,
                                        uint64_t time_ns, bool *created)
{
    struct prom_series *s = series_get(mc->x, mc->f, labels, len, mc->rc->target, created);
    if (!s) {
        mc->t->dropped[DROP_INVALID_POINT]++;
        return NULL;
    }
    if (!*created && time_ns < s->time_ns) {
        mc->t->dropped[DROP_STALE]++;
        return NULL;
    }
    return s;
}

static void apply_number(struct metric_ctx *mc, const NumberDataPoint *p)
{
    size_t len = 0;
    const char *labels =
        point_begin(mc, p->attributes, p->n_attributes, NULL, p->flags, &len);
    if (!labels)
        return;
    bool is_int = p->value_case == VALUE_AS_INT;
    if (!is_int && p->value_case != VALUE_AS_DOUBLE) {
        mc->t->dropped[DROP_INVALID_POINT]++;
        return;
    }
    bool created;
    struct prom_series *s = point_series(mc, labels, len, p->time_unix_nano, &created);
    if (!s)
        return;
    if (!created && mc->delta) {
        if (s->is_int && is_int) {
            s->ival = (int64_t)((uint64_t)s->ival + (uint64_t)p->as_int);
        } else {
            double held = s->is_int ? (double)s->ival : s->dval;
            s->dval = held + (is_int ? (double)p->as_int : p->as_double);
            s->is_int = false;
        }
    } else {
        s->is_int = is_int;
        s->ival = is_int ? p->as_int : 0;
        s->dval = is_int ? 0 : p->as_double;
    }
    s->time_ns = p->time_unix_nano;
    series_touch(mc, s);
    mc->t->sent++;
}

static bool histogram_valid(const HistogramDataPoint *p)
{
    if (p->n_bucket_counts == 0)
        return true;
    if (p->n_bucket_counts != p->n_explicit_bounds + 1)
        return false;
    for (size_t i = 0; i < p->n_explicit_bounds; i++) {
        if (isnan(p->explicit_bounds[i]))
            return false;
        if (i && !(p->explicit_bounds[i] > p->explicit_bounds[i - 1]))
            return false;
    }
    return true;
}

static bool same_bounds(const struct prom_series *s, const HistogramDataPoint *p)
{
    if (!s->counts || p->n_bucket_counts == 0 || s->n != p->n_explicit_bounds)
        return false;
    for (size_t i = 0; i < s->n; i++)
        if (s->keys[i] != p->explicit_bounds[i])
            return false;
    return true;
}

/* Replaces what s holds with p's buckets. False when out of memory. */
static bool histogram_set(struct prom_series *s, const HistogramDataPoint *p)
{
    series_free_data(s);
    s->count = p->count;
    s->sum = p->_sum_case == OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM
                 ? p->sum : 0;
    if (p->n_bucket_counts == 0)
        return true;
    size_t n = p->n_explicit_bounds;
    s->keys = n ? malloc(n * sizeof *s->keys) : NULL;
    s->counts = malloc((n + 1) * sizeof *s->counts);
    if ((n && !s->keys) || !s->counts) {
        series_free_data(s);
        return false;
    }
    if (n)
        memcpy(s->keys, p->explicit_bounds, n * sizeof *s->keys);
    memcpy(s->counts, p->bucket_counts, (n + 1) * sizeof *s->counts);
    s->n = n;
    return true;
}

static void apply_histogram(struct metric_ctx *mc, const HistogramDataPoint *p)
{
    size_t len = 0;
    const char *labels =
        point_begin(mc, p->attributes, p->n_attributes, "le", p->flags, &len);
    if (!labels)
        return;
    if (!histogram_valid(p)) {
        mc->t->dropped[DROP_INVALID_POINT]++;
        return;
    }
    bool created;
    struct prom_series *s = point_series(mc, labels, len, p->time_unix_nano, &created);
    if (!s)
        return;
    bool ok = true;
    if (!created && mc->delta && same_bounds(s, p)) {
        for (size_t i = 0; i <= s->n; i++)
            s->counts[i] += p->bucket_counts[i];
        s->count += p->count;
        if (p->_sum_case == OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM)
            s->sum += p->sum;
    } else {
        if (!created && mc->delta)
            mc->t->resets++; /* other bounds: the total so far cannot be carried over */
        ok = histogram_set(s, p);
    }
    if (!ok) {
        series_remove(mc->x, mc->f, s);
        mc->t->dropped[DROP_INVALID_POINT]++;
        return;
    }
    s->time_ns = p->time_unix_nano;
    series_touch(mc, s);
    mc->t->sent++;
}

static int quantile_cmp(const void *a, const void *b)
{
    const Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile *x =
        *(const Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile *const *)a;
    const Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile *y =
        *(const Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile *const *)b;
    return x->quantile < y->quantile ? -1 : x->quantile > y->quantile;
}

static void apply_summary(struct metric_ctx *mc, const SummaryDataPoint *p)
{
    size_t len = 0;
    const char *labels =
        point_begin(mc, p->attributes, p->n_attributes, "quantile", p->flags, &len);
    if (!labels)
        return;
    for (size_t i = 0; i < p->n_quantile_values; i++) {
        if (!p->quantile_values[i] || isnan(p->quantile_values[i]->quantile)) {
            mc->t->dropped[DROP_INVALID_POINT]++;
            return;
        }
    }
    bool created;
    struct prom_series *s = point_series(mc, labels, len, p->time_unix_nano, &created);
    if (!s)
        return;
    series_free_data(s);
    size_t n = p->n_quantile_values;
    const Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile **q =
        n ? malloc(n * sizeof *q) : NULL;
    s->keys = n ? malloc(n * sizeof *s->keys) : NULL;
    s->vals = n ? malloc(n * sizeof *s->vals) : NULL;
    if (n && (!q || !s->keys || !s->vals)) {
        free(q);
        series_remove(mc->x, mc->f, s);
        mc->t->dropped[DROP_INVALID_POINT]++;
        return;
    }
    if (n)
        memcpy(q, p->quantile_values, n * sizeof *q);
    if (n > 1)
        qsort(q, n, sizeof *q, quantile_cmp);
    for (size_t i = 0; i < n; i++) {
        s->keys[i] = q[i]->quantile;
        s->vals[i] = q[i]->value;
    }
    free(q);
    s->n = n;
    s->count = p->count;
    s->sum = p->sum;
    s->time_ns = p->time_unix_nano;
    series_touch(mc, s);
    mc->t->sent++;
}

static void consume_metric(struct prom_exporter *x, const struct res_ctx *rc,
                           const struct scope_ctx *sc, const Metric *m, int64_t now,
                           struct tally *t)
{
    size_t npoints = otlp_metric_points(m);
    if (!npoints)
        return;
    enum prom_type type;
    bool monotonic = false, delta = false;
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        type = PROM_GAUGE;
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        monotonic = m->sum->is_monotonic;
        delta = m->sum->aggregation_temporality == TEMPORALITY_DELTA;
        if (m->sum->aggregation_temporality == TEMPORALITY_UNSPECIFIED) {
            t->dropped[DROP_UNSPECIFIED_TEMPORALITY] += npoints;
            log_drop_once(x, DROP_UNSPECIFIED_TEMPORALITY, m, "sum without temporality");
            return;
        }
        if (delta && !monotonic) {
            /* The Collector drops these too: a delta up-down counter has no level to show. */
            t->dropped[DROP_DELTA_NON_MONOTONIC] += npoints;
            log_drop_once(x, DROP_DELTA_NON_MONOTONIC, m, "non-monotonic delta sum");
            return;
        }
        type = monotonic ? PROM_COUNTER : PROM_GAUGE;
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        delta = m->histogram->aggregation_temporality == TEMPORALITY_DELTA;
        if (m->histogram->aggregation_temporality == TEMPORALITY_UNSPECIFIED) {
            t->dropped[DROP_UNSPECIFIED_TEMPORALITY] += npoints;
            log_drop_once(x, DROP_UNSPECIFIED_TEMPORALITY, m, "histogram without temporality");
            return;
        }
        type = PROM_HISTOGRAM;
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
        type = PROM_SUMMARY;
        break;
    default:
        t->dropped[DROP_EXPONENTIAL_HISTOGRAM] += npoints;
        log_drop_once(x, DROP_EXPONENTIAL_HISTOGRAM, m,
                      "exponential histograms are not served in the text format");
        return;
    }

    char name[NAME_MAX_LEN];
    prometheus_translate_metric_name(x->cfg->strategy, x->ns, m->name, m->unit,
                                     (int)m->data_case, monotonic, name, sizeof name);
    bool target_clash = !x->cfg->res_all &&
                        strcmp(name, x->target_name) == 0;
    if (!name[0] || target_clash) {
        t->dropped[DROP_INVALID_NAME] += npoints;
        log_drop_once(x, DROP_INVALID_NAME, m,
                      target_clash ? "its name is the reserved target_info"
                                   : "no valid Prometheus name");
        return;
    }

    size_t name_len = strlen(name);
    uint64_t h = hash_bytes(name, name_len);
    struct prom_family *f = (struct prom_family *)table_find(&x->families, name, name_len, h);
    if (f && f->type != type) {
        t->dropped[DROP_TYPE_CONFLICT] += npoints;
        if (!f->conflict_logged) {
            f->conflict_logged = true;
            log_warn(x->log_name, "dropping metric \"%s\": %s is a %s, this metric would make "
                     "it a %s (counted in llmotlp_prometheus_dropped_points{reason=\"%s\"})",
                     m->name ? m->name : "", name, prom_type_names[f->type],
                     prom_type_names[type], drop_names[DROP_TYPE_CONFLICT]);
        }
        return;
    }
    if (!f) {
        f = calloc(1, sizeof *f);
        if (f) {
            f->node.key = strdup(name);
            f->node.hash = h;
            f->node.klen = name_len;
            f->oldest_ns = now;
            f->help = strdup(m->description ? m->description : "");
            f->type = type;
        }
        if (!f || !f->node.key || !f->help || table_insert(&x->families, &f->node) != 0) {
            if (f) {
                free(f->node.key);
                free(f->help);
                free(f);
            }
            t->dropped[DROP_INVALID_POINT] += npoints;
            return;
        }
    }

    struct metric_ctx mc = {x, rc, sc, f, t, now, delta};
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        for (size_t i = 0; i < npoints; i++)
            apply_number(&mc, m->gauge->data_points[i]);
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        for (size_t i = 0; i < npoints; i++)
            apply_number(&mc, m->sum->data_points[i]);
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        for (size_t i = 0; i < npoints; i++)
            apply_histogram(&mc, m->histogram->data_points[i]);
        break;
    default:
        for (size_t i = 0; i < npoints; i++)
            apply_summary(&mc, m->summary->data_points[i]);
        break;
    }
    family_drop_if_empty(x, f);
}

static enum consume_status prom_consume(void *self, struct batch *b)
{
    struct prom_exporter *x = self;
    if (b->signal != SIGNAL_METRICS)
        return CONSUME_OK;
    struct error err = {0};
    const MetricsRequest *req = (const MetricsRequest *)batch_decoded(b, &err);
    if (!req) {
        log_warn(x->log_name, "cannot decode a metrics request: %s", err.msg);
        telemetry_add(x->dropped[DROP_INVALID_POINT], b->items);
        return CONSUME_OK;
    }

    struct tally t = {0};
    pthread_mutex_lock(&x->mu);
    int64_t now = x->now_ns();
    int64_t every = x->cfg->pub.metric_expiration < 1000000000 ? x->cfg->pub.metric_expiration
                                                                : 1000000000;
    if (now - x->last_sweep_ns >= every)
        sweep(x, now);
    for (size_t r = 0; r < req->n_resource_metrics; r++) {
        const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = req->resource_metrics[r];
        struct res_ctx rc;
        res_ctx_init(x, &rc, rm->resource);
        for (size_t s = 0; s < rm->n_scope_metrics; s++) {
            const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[s];
            struct scope_ctx sc = {0};
            if (sm->scope) {
                sc.name = sm->scope->name;
                sc.version = sm->scope->version;
                sc.attrs = sm->scope->attributes;
                sc.n_attrs = sm->scope->n_attributes;
            }
            if (!rc.oom)
                scope_head(x, &rc, &sc);
            for (size_t i = 0; i < sm->n_metrics; i++) {
                if (rc.oom || sc.oom)
                    t.dropped[DROP_INVALID_POINT] += otlp_metric_points(sm->metrics[i]);
                else
                    consume_metric(x, &rc, &sc, sm->metrics[i], now, &t);
            }
        }
        res_ctx_fini(&rc);
    }
    telemetry_set(x->series_gauge, (int64_t)x->n_series);
    pthread_mutex_unlock(&x->mu);

    telemetry_add(x->sent, t.sent);
    for (int r = 0; r < DROP_COUNT; r++)
        telemetry_add(x->dropped[r], t.dropped[r]);
    telemetry_add(x->resets, t.resets);
    return CONSUME_OK;
}

/* ---- render ---------------------------------------------------------------------------------- */

/* Timestamps are milliseconds in the text format and seconds in OpenMetrics. */
static void put_sample_end(struct prom_buf *b, const struct prom_exporter *x, uint64_t time_ns)
{
    if (x->cfg->pub.send_timestamps) {
        prom_buf_putc(b, ' ');
        uint64_t ms = time_ns / 1000000u;
        if (x->om)
            prom_buf_printf(b, "%llu.%03llu", (unsigned long long)(ms / 1000),
                            (unsigned long long)(ms % 1000));
        else
            prom_format_uint(b, ms);
    }
    prom_buf_putc(b, '\n');
}

/* A float as client_golang's OpenMetrics writer spells it: the text format's digits, with ".0"
 * after an integral value (OpenMetrics tells floats from integers by it). */
static void put_om_float(struct prom_buf *b, double v)
{
    size_t at = b->len;
    prom_format_value(b, v);
    if (b->oom)
        return;
    for (size_t i = at; i < b->len; i++)
        if (b->p[i] == '.' || b->p[i] == 'e' || b->p[i] == 'I' || b->p[i] == 'N')
            return;
    prom_buf_put(b, ".0", 2);
}

static void put_value(struct prom_buf *b, const struct prom_exporter *x, double v)
{
    if (x->om)
        put_om_float(b, v);
    else
        prom_format_value(b, v);
}

/* name+suffix{labels[,extra="v"]} — the head of a sample line. */
static void put_head(struct prom_buf *b, const struct prom_exporter *x,
                     const struct prom_node *name, size_t name_len, const char *suffix,
                     const struct prom_node *labels, const char *extra, double extra_v)
{
    prom_buf_put(b, name->key, name_len);
    prom_buf_puts(b, suffix);
    if (!labels->klen && !extra)
        return;
    prom_buf_putc(b, '{');
    prom_buf_put(b, labels->key, labels->klen);
    if (extra) {
        if (labels->klen)
            prom_buf_putc(b, ',');
        prom_buf_puts(b, extra);
        prom_buf_put(b, "=\"", 2);
        put_value(b, x, extra_v);
        prom_buf_putc(b, '"');
    }
    prom_buf_putc(b, '}');
}

static void put_count(struct prom_buf *b, uint64_t v)
{
    prom_buf_putc(b, ' ');
    prom_format_uint(b, v);
}

/* OpenMetrics names a counter family without "_total" and writes "_total" on its samples. */
static size_t om_family_len(const struct prom_exporter *x, const struct prom_family *f)
{
    size_t n = f->node.klen;
    if (x->om && f->type == PROM_COUNTER && n > 6 && strcmp(f->node.key + n - 6, "_total") == 0)
        return n - 6;
    return n;
}

static void render_series(struct prom_buf *b, const struct prom_exporter *x,
                          const struct prom_family *f, const struct prom_series *s)
{
    const struct prom_node *name = &f->node, *labels = &s->node;
    size_t nl = om_family_len(x, f);
    switch (f->type) {
    case PROM_COUNTER:
    case PROM_GAUGE:
        put_head(b, x, name, nl, x->om && f->type == PROM_COUNTER ? "_total" : "", labels, NULL, 0);
        prom_buf_putc(b, ' ');
        if (x->om)
            put_om_float(b, s->is_int ? (double)s->ival : s->dval);
        else if (s->is_int)
            prom_format_int(b, s->ival);
        else
            prom_format_value(b, s->dval);
        put_sample_end(b, x, s->time_ns);
        break;
    case PROM_HISTOGRAM: {
        uint64_t cum = 0;
        for (size_t i = 0; s->counts && i < s->n; i++) {
            cum += s->counts[i];
            put_head(b, x, name, nl, "_bucket", labels, "le", s->keys[i]);
            put_count(b, cum);
            put_sample_end(b, x, s->time_ns);
        }
        put_head(b, x, name, nl, "_bucket", labels, "le", INFINITY);
        put_count(b, s->count);
        put_sample_end(b, x, s->time_ns);
        put_head(b, x, name, nl, "_sum", labels, NULL, 0);
        prom_buf_putc(b, ' ');
        put_value(b, x, s->sum);
        put_sample_end(b, x, s->time_ns);
        put_head(b, x, name, nl, "_count", labels, NULL, 0);
        put_count(b, s->count);
        put_sample_end(b, x, s->time_ns);
        break;
    }
    case PROM_SUMMARY:
        for (size_t i = 0; i < s->n; i++) {
            put_head(b, x, name, nl, "", labels, "quantile", s->keys[i]);
            prom_buf_putc(b, ' ');
            put_value(b, x, s->vals[i]);
            put_sample_end(b, x, s->time_ns);
        }
        put_head(b, x, name, nl, "_sum", labels, NULL, 0);
        prom_buf_putc(b, ' ');
        put_value(b, x, s->sum);
        put_sample_end(b, x, s->time_ns);
        put_head(b, x, name, nl, "_count", labels, NULL, 0);
        put_count(b, s->count);
        put_sample_end(b, x, s->time_ns);
        break;
    }
}

static void render_family(struct prom_buf *b, const struct prom_exporter *x,
                          struct prom_family *f)
{
    int nl = (int)om_family_len(x, f);
    if (f->help && *f->help) {
        prom_buf_printf(b, "# HELP %.*s ", nl, f->node.key);
        if (x->om)
            prom_escape_label_value(b, f->help); /* OpenMetrics escapes '"' in HELP too */
        else
            prom_escape_help(b, f->help);
        prom_buf_putc(b, '\n');
    }
    prom_buf_printf(b, "# TYPE %.*s %s\n", nl, f->node.key, prom_type_names[f->type]);
    if (table_sorted(&f->series) != 0) {
        b->oom = true;
        return;
    }
    for (size_t i = 0; i < f->series.order.n; i++)
        render_series(b, x, f, (const struct prom_series *)f->series.order.v[i]);
}

static void render_targets(struct prom_buf *b, struct prom_exporter *x)
{
    if (table_sorted(&x->targets) != 0) {
        b->oom = true;
        return;
    }
    prom_buf_printf(b, "# HELP %s Target metadata\n# TYPE %s gauge\n", x->target_name,
                    x->target_name);
    for (size_t i = 0; i < x->targets.order.n; i++) {
        prom_buf_puts(b, x->target_name);
        prom_buf_putc(b, '{');
        prom_buf_puts(b, x->targets.order.v[i]->key);
        prom_buf_puts(b, x->om ? "} 1.0\n" : "} 1\n");
    }
}

char *prometheus_exporter_render(void *exporter, size_t *len)
{
    return prometheus_exporter_render_format(exporter, false, len);
}

char *prometheus_exporter_render_format(void *exporter, bool openmetrics, size_t *len)
{
    struct prom_exporter *x = exporter;
    struct prom_buf b = {0};
    pthread_mutex_lock(&x->mu);
    x->om = openmetrics;
    prom_buf_grow(&b, x->render_len); /* the last scrape's size: no doubling on the way */
    sweep(x, x->now_ns());
    telemetry_set(x->series_gauge, (int64_t)x->n_series);
    if (table_sorted(&x->families) != 0) {
        b.oom = true;
    } else {
        size_t n = x->families.order.n;
        struct prom_node **fams = x->families.order.v;
        bool targets = !x->cfg->res_all && x->targets.n;
        for (size_t i = 0; i <= n; i++) {
            /* target_info takes its place in name order among the families. */
            if (targets && (i == n || strcmp(x->target_name, fams[i]->key) < 0)) {
                render_targets(&b, x);
                targets = false;
            }
            if (i < n)
                render_family(&b, x, (struct prom_family *)fams[i]);
        }
    }
    if (openmetrics)
        prom_buf_puts(&b, "# EOF\n");
    if (!b.oom)
        x->render_len = b.len;
    x->om = false;
    pthread_mutex_unlock(&x->mu);
    size_t l = 0;
    char *text = prom_buf_take(&b, &l);
    if (len)
        *len = text ? l : 0;
    return text;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

/* One media range of an Accept header: its type, version parameter and q. */
static void accept_item(const char *p, size_t n, char *type, size_t tlen, char *ver, size_t vlen,
                        double *q)
{
    *q = 1.0;
    ver[0] = '\0';
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    size_t t0 = i;
    while (i < n && p[i] != ';' && p[i] != ' ' && p[i] != '\t')
        i++;
    snprintf(type, tlen, "%.*s", (int)(i - t0), p + t0);
    while (i < n) {
        while (i < n && (p[i] == ';' || p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t k0 = i;
        while (i < n && p[i] != '=' && p[i] != ';')
            i++;
        size_t klen = i - k0;
        if (i >= n || p[i] != '=')
            continue;
        size_t v0 = ++i;
        while (i < n && p[i] != ';')
            i++;
        size_t ve = i;
        while (ve > v0 && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
            ve--;
        if (klen == 7 && strncasecmp(p + k0, "version", 7) == 0)
            snprintf(ver, vlen, "%.*s", (int)(ve - v0), p + v0);
        else if (klen == 1 && (p[k0] == 'q' || p[k0] == 'Q'))
            *q = strtod(p + v0, NULL);
    }
}

/* expfmt's negotiation restricted to what is served here: the acceptable range with the highest
 * q (the first on a tie) decides; OpenMetrics 1.0.0 or 0.0.1 only when enable_open_metrics,
 * else (and for anything else, protobuf included) the text format 0.0.4. Returns the
 * Content-Type. */
static const char *negotiate(const char *accept, bool om_enabled, bool *om)
{
    static const char *const text_ct = "text/plain; version=0.0.4; charset=utf-8";
    *om = false;
    if (!om_enabled || !accept)
        return text_ct;
    double best_q = -1;
    const char *best = text_ct;
    const char *p = accept;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char type[64], ver[32];
        double q;
        accept_item(p, n, type, sizeof type, ver, sizeof ver, &q);
        const char *ct = NULL;
        bool is_om = false;
        if (strcasecmp(type, "application/openmetrics-text") == 0) {
            if (!ver[0] || strcmp(ver, "1.0.0") == 0)
                ct = "application/openmetrics-text; version=1.0.0; charset=utf-8";
            else if (strcmp(ver, "0.0.1") == 0)
                ct = "application/openmetrics-text; version=0.0.1; charset=utf-8";
            is_om = ct != NULL;
        } else if (strcasecmp(type, "text/plain") == 0 && (!ver[0] || strcmp(ver, "0.0.4") == 0)) {
            ct = text_ct;
        }
        if (ct && q > 0 && q > best_q) {
            best_q = q;
            best = ct;
            *om = is_om;
        }
        p = end ? end + 1 : p + n;
    }
    return best;
}

static void on_get(void *ctx, const char *path, struct admin_http_reply *reply)
{
    struct prom_exporter *x = ctx;
    if (strcmp(path, "/metrics") != 0) {
        admin_http_not_found(reply);
        return;
    }
    bool om = false;
    const char *ct = negotiate(reply->accept, x->cfg->enable_open_metrics, &om);
    size_t len = 0;
    char *text = prometheus_exporter_render_format(x, om, &len);
    if (!text) {
        reply->status = 500;
        return;
    }
    reply->status = 200;
    reply->content_type = ct;
    reply->body = text;
    reply->len = len;
}

static int const_cmp(const void *a, const void *b)
{
    return strcmp(((const struct const_label *)a)->name, ((const struct const_label *)b)->name);
}

static void prom_destroy(void *self);

static void *prom_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    struct prom_exporter *x = calloc(1, sizeof *x);
    if (!x) {
        error_set(err, "out of memory");
        return NULL;
    }
    x->cfg = cfgp;
    x->now_ns = clock_now_ns;
    pthread_mutex_init(&x->mu, NULL);
    x->log_name = strdup(env->log_name ? env->log_name : "exporter/prometheus");
    const struct config_kv_list *cl = &x->cfg->pub.const_labels;
    x->consts = cl->n ? calloc(cl->n, sizeof *x->consts) : NULL;
    if (!x->log_name || (cl->n && !x->consts))
        goto oom;
    for (size_t i = 0; i < cl->n; i++) {
        char name[NAME_MAX_LEN];
        prometheus_translate_label_name(x->cfg->strategy, cl->items[i].key, name, sizeof name);
        const char *v = cl->items[i].value ? cl->items[i].value : "";
        if (!name[0] || !*v)
            continue;
        struct const_label *c = &x->consts[x->n_consts++];
        c->name = strdup(name);
        c->value = strdup(v);
        if (!c->name || !c->value)
            goto oom;
    }
    if (x->n_consts > 1)
        qsort(x->consts, x->n_consts, sizeof *x->consts, const_cmp);
    x->lbls.strategy = x->cfg->strategy;
    const char *ns = x->cfg->pub.namespace_ ? x->cfg->pub.namespace_ : "";
    if (x->cfg->strategy == PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES ||
        x->cfg->strategy == PROM_NO_TRANSLATION) {
        /* the UTF-8 namers prefix the namespace as written; the whole name is escaped after */
        snprintf(x->ns, sizeof x->ns, "%s", ns);
        char raw[NAME_MAX_LEN + sizeof "_target_info"];
        snprintf(raw, sizeof raw, "%s%starget_info", ns, *ns ? "_" : "");
        prometheus_escape_name(raw, false, x->target_name, sizeof x->target_name);
    } else {
        /* The namespace as words of a metric name, so "my.ns" prefixes "my_ns_". */
        prometheus_metric_name(NULL, ns, "", OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE,
                               false, true, x->ns, sizeof x->ns);
        if (x->ns[0] == '_')
            memmove(x->ns, x->ns + 1, strlen(x->ns)); /* a namespace is a prefix, digits and all */
        snprintf(x->target_name, sizeof x->target_name, "%s%starget_info", x->ns,
                 x->ns[0] ? "_" : "");
    }

    char labels[512];
    snprintf(labels, sizeof labels, "exporter=\"%s\"", env->id ? env->id : "prometheus");
    if (env->telemetry) {
        x->sent = telemetry_counter(env->telemetry, "otelcol_exporter_sent_metric_points", labels,
                                    "Items successfully sent to destination");
        for (int r = 0; r < DROP_COUNT; r++) {
            char rl[600];
            snprintf(rl, sizeof rl, "%s,reason=\"%s\"", labels, drop_names[r]);
            x->dropped[r] = telemetry_counter(
                env->telemetry, "llmotlp_prometheus_dropped_points", rl,
                "Data points the prometheus exporter did not keep, by reason");
        }
        x->resets = telemetry_counter(
            env->telemetry, "llmotlp_prometheus_histogram_resets", labels,
            "Delta histogram points whose bounds differed from the held ones (total restarted)");
        x->series_gauge = telemetry_gauge(env->telemetry, "llmotlp_prometheus_series", labels,
                                          "Series currently served by the prometheus exporter");
    }
    return x;
oom:
    prom_destroy(x);
    error_set(err, "out of memory");
    return NULL;
}

static int prom_start(void *self, struct error *err)
{
    struct prom_exporter *x = self;
    x->http = admin_http_start_tls(x->cfg->pub.endpoint, x->log_name, on_get, x,
                                   x->cfg->has_tls ? &x->cfg->tls : NULL, "tls", err);
    if (!x->http)
        return -1;
    log_info(x->log_name, "serving Prometheus metrics on http://%s/metrics (port %u)",
             x->cfg->pub.endpoint, (unsigned)admin_http_port(x->http));
    return 0;
}

static void prom_shutdown(void *self, int64_t deadline_ns)
{
    (void)deadline_ns;
    struct prom_exporter *x = self;
    admin_http_stop(x->http);
    x->http = NULL;
}

static void prom_destroy(void *self)
{
    struct prom_exporter *x = self;
    if (!x)
        return;
    admin_http_stop(x->http);
    size_t n;
    struct prom_node **fams = table_list(&x->families, &n);
    for (size_t i = 0; i < n; i++)
        family_free(x, (struct prom_family *)fams[i]);
    free(fams);
    table_free(&x->families);
    table_free(&x->targets);
    for (size_t i = 0; i < x->n_consts; i++) {
        free(x->consts[i].name);
        free(x->consts[i].value);
    }
    free(x->consts);
    lbls_free(&x->lbls);
    prom_buf_free(&x->text);
    prom_buf_free(&x->head);
    pthread_mutex_destroy(&x->mu);
    free(x->log_name);
    free(x);
}

uint16_t prometheus_exporter_port(void *exporter)
{
    struct prom_exporter *x = exporter;
    return x && x->http ? admin_http_port(x->http) : 0;
}

void prometheus_exporter_set_clock(void *exporter, int64_t (*now_ns)(void))
{
    struct prom_exporter *x = exporter;
    pthread_mutex_lock(&x->mu);
    x->now_ns = now_ns ? now_ns : clock_now_ns;
    x->last_sweep_ns = x->now_ns();
    pthread_mutex_unlock(&x->mu);
}

const struct component_factory prometheus_exporter_factory = {
    .type = "prometheus",
    .kind = COMPONENT_EXPORTER,
    .doc = "serves the metrics it receives for Prometheus to scrape (GET /metrics, text 0.0.4 or "
           "OpenMetrics, HTTP or HTTPS)",
    .fields = prom_fields,
    .config_size = sizeof(struct prom_config),
    .signals = 1u << SIGNAL_METRICS,
    .validate = prom_validate,
    .warn = prom_warn,
    .create = prom_create,
    .start = prom_start,
    .shutdown = prom_shutdown,
    .consume = prom_consume,
    .destroy = prom_destroy,
};
