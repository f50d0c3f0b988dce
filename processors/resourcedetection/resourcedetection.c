/* resourcedetection.c — the Collector contrib `resourcedetection` processor: detects the resource
 * of the host llmotlp runs on (detectors `env` and `system`) once at start, and merges it into
 * the resource of every ResourceSpans / ResourceMetrics / ResourceLogs that passes, for all three
 * signals, with the Collector's rules: `override: true` (the default) lets a detected value
 * replace one already there, `false` keeps what is there; the detected schema URL is set where
 * the resource has none; the deprecated `attributes` list keeps only the keys it names.
 *
 * The one idea: detection is slow and may block (DNS), merging is per request, so they are kept
 * apart. start() runs the detectors on a thread of their own and waits at most `timeout`; the
 * answer is a small attribute list built once into OTLP values. On the hot path a request is first
 * read to see whether the merge would change anything (a batch already carrying the host's
 * attributes, or sent with override false and its own values, passes as the bytes that arrived);
 * only then is it opened for editing and the values copied into the batch's arena.
 *
 * Every detector the Collector knows other than env and system, and each one's settings
 * section, is refused at load with its position and the list of what llmotlp has. */

#include "processors/resourcedetection/resourcedetection.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/log.h"
#include "core/telemetry.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;
typedef Opentelemetry__Proto__Common__V1__ArrayValue otlp_array;
typedef Opentelemetry__Proto__Resource__V1__Resource otlp_resource;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE

#define AVAILABLE "env, system"

/* The Collector's other detectors: named in `detectors`, refused. */
static const char *const unavailable_detectors[] = {
    "akamai", "alibaba_ecs", "aks", "azure", "azurecontainerapps", "consul", "digitalocean",
    "docker", "dynatrace", "ec2", "ecs", "eks", "elastic_beanstalk", "gcp", "heroku", "hetzner",
    "ibmcloud_classic", "ibmcloud_vpc", "k8s_api", "k8snode", "kubeadm", "lambda", "nova",
    "openshift", "oraclecloud", "scaleway", "tencent_cvm", "upcloud", "vultr", NULL};

/* Their settings sections (the Collector's DetectorConfig keys), refused when present. */
#define OTHER_SECTIONS(X)                                                                        \
    X(0, "akamai") X(1, "alibaba_ecs") X(2, "aks") X(3, "azure") X(4, "azurecontainerapps")      \
    X(5, "consul") X(6, "digitalocean") X(7, "docker") X(8, "ec2") X(9, "ecs") X(10, "eks")      \
    X(11, "elasticbeanstalk") X(12, "gcp") X(13, "heroku") X(14, "hetzner")                      \
    X(15, "ibmcloud_classic") X(16, "ibmcloud_vpc") X(17, "k8s_api") X(18, "k8snode")            \
    X(19, "kubeadm") X(20, "lambda") X(21, "nova") X(22, "openshift") X(23, "oraclecloud")       \
    X(24, "scaleway") X(25, "tencent_cvm") X(26, "upcloud") X(27, "vultr")
#define N_OTHER 28

/* The HTTP client settings the Collector squashes into the processor's config: only its
 * network detectors make requests. */
#define HTTP_KEYS(X)                                                                             \
    X(0, "endpoint") X(1, "proxy_url") X(2, "tls") X(3, "headers") X(4, "auth")                  \
    X(5, "compression") X(6, "read_buffer_size") X(7, "write_buffer_size")                       \
    X(8, "max_idle_conns") X(9, "max_idle_conns_per_host") X(10, "max_conns_per_host")           \
    X(11, "idle_conn_timeout") X(12, "disable_keep_alives") X(13, "http2_read_idle_timeout")     \
    X(14, "http2_ping_timeout") X(15, "cookies") X(16, "middlewares") X(17, "force_attempt_http2")
#define N_HTTP 18

struct rd_env_config {
    struct config_str_list allow_list;
    bool allow_list_set;
};

struct rd_system_config {
    struct config_str_list hostname_sources;
    const struct cnode *resource_attributes;
};

struct rd_config {
    const struct cnode *detectors;       /* list or comma-separated string; NULL = [env] */
    bool override;
    int64_t timeout;
    struct config_str_list attributes;
    int64_t refresh_interval;
    bool fail_on_missing_metadata;
    const struct cnode *retry;
    struct rd_env_config env;
    struct rd_system_config system;
    const struct cnode *other[N_OTHER];
    const struct cnode *http[N_HTTP];
};

#define ENVOFF(f) offsetof(struct rd_env_config, f)
static const struct config_field env_fields[] = {
    {.name = "allow_list", .type = CFG_STRING_LIST, .offset = ENVOFF(allow_list),
     .track_set = true, .set_offset = ENVOFF(allow_list_set),
     .doc = "keys of OTEL_RESOURCE_ATTRIBUTES kept (absent: all of them)"},
    {.name = NULL},
};

#define SYSOFF(f) offsetof(struct rd_system_config, f)
static const struct config_field system_fields[] = {
    {.name = "hostname_sources", .type = CFG_STRING_LIST, .offset = SYSOFF(hostname_sources),
     .doc = "where host.name comes from, first that answers: dns (FQDN: hosts file, then the "
            "resolver), os, cname, lookup (reverse lookup); empty = [dns, os]"},
    {.name = "resource_attributes", .type = CFG_RAW, .offset = SYSOFF(resource_attributes),
     .doc = "per attribute {enabled: bool}; on by default: host.name, os.type"},
    {.name = NULL},
};

#define OFF(f) offsetof(struct rd_config, f)
#define OTHER_FIELD(i, nm)                                                                       \
    {.name = nm, .type = CFG_RAW, .offset = OFF(other[i]),                                       \
     .doc = "refused: the " nm " detector is not available in llmotlp"},
#define HTTP_FIELD(i, nm)                                                                        \
    {.name = nm, .type = CFG_RAW, .offset = OFF(http[i]),                                        \
     .no_effect = "HTTP client settings serve the Collector's network detectors; env and "      \
                  "system make no HTTP request",                                                 \
     .doc = "HTTP client setting of the Collector's network detectors"},

static const struct config_field rd_fields[] = {
    {.name = "detectors", .type = CFG_RAW, .offset = OFF(detectors),
     .doc = "ordered list of detectors: env, system (the first to set a key wins); default [env]"},
    {.name = "override", .type = CFG_BOOL, .offset = OFF(override), .def = "true",
     .doc = "detected attributes replace those already on the resource (false: existing kept)"},
    {.name = "timeout", .type = CFG_DURATION, .offset = OFF(timeout), .def = "5s", .min = 0,
     .max = INT64_MAX, .doc = "how long start waits for detection (0: no bound)"},
    {.name = "attributes", .type = CFG_STRING_LIST, .offset = OFF(attributes),
     .doc = "deprecated: when not empty, only these detected keys are merged"},
    {.name = "refresh_interval", .type = CFG_DURATION, .offset = OFF(refresh_interval),
     .def = "0s", .min = 0, .max = INT64_MAX,
     .doc = "0 only: detection runs once at start (periodic refresh is refused)"},
    {.name = "fail_on_missing_metadata", .type = CFG_BOOL, .offset = OFF(fail_on_missing_metadata),
     .def = "false", .harmless = "false",
     .no_effect = "only the Collector's network detectors read metadata services; env and system "
                  "read the host",
     .doc = "network detectors only"},
    {.name = "retry", .type = CFG_RAW, .offset = OFF(retry), .harmless = "{}",
     .no_effect = "each detector runs once within timeout: env and system read local state, a "
                  "retry would read the same",
     .doc = "the Collector's detection retry (backoff)"},
    {.name = "env", .type = CFG_SECTION, .offset = OFF(env), .sub = env_fields,
     .doc = "env detector settings"},
    {.name = "system", .type = CFG_SECTION, .offset = OFF(system), .sub = system_fields,
     .doc = "system detector settings"},
    OTHER_SECTIONS(OTHER_FIELD)
    HTTP_KEYS(HTTP_FIELD)
    {.name = NULL},
};
#undef OFF

/* ---- validation ------------------------------------------------------------------------------ */

static bool in_list(const char *const *l, const char *s)
{
    for (size_t i = 0; l[i]; i++)
        if (strcmp(l[i], s) == 0)
            return true;
    return false;
}

enum rd_detector { RD_DET_ENV, RD_DET_SYSTEM };

/* One detector name of the list: trimmed as the Collector does; its node for positions. */
struct det_name {
    char name[64];
    const struct cnode *at;
};

static void trim_copy(char *dst, size_t cap, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static int where_err(struct error *err, const struct cnode *at, const char *fmt, const char *a,
                     const char *b)
{
    char pos[300], msg[8192];
    snprintf(msg, sizeof msg, fmt, a, b);
    return error_set(err, "detectors: %s: %.700s", at ? cnode_where(at, pos, sizeof pos) : "?",
                     msg);
}

/* Reads `detectors` (a list, or one comma-separated string as the Collector's decoder splits
 * it) into out (up to cap); refuses what llmotlp cannot run. *n = how many. */
static int detectors_read(const struct cnode *node, enum rd_detector *out, size_t cap, size_t *n,
                          struct error *err)
{
    *n = 0;
    if (!node || node->kind == CNODE_NULL) {
        out[(*n)++] = RD_DET_ENV; /* the Collector's default */
        return 0;
    }
    struct det_name names[64];
    size_t nn = 0;
    if (node->kind == CNODE_SCALAR) {
        const char *s = node->value ? node->value : "";
        while (nn < 64) {
            const char *c = strchr(s, ',');
            size_t len = c ? (size_t)(c - s) : strlen(s);
            trim_copy(names[nn].name, sizeof names[nn].name, s, len);
            names[nn++].at = node;
            if (!c)
                break;
            s = c + 1;
        }
        if (nn == 1 && !names[0].name[0] && !(node->value && node->value[0]))
            nn = 0;
    } else if (node->kind == CNODE_SEQ) {
        for (size_t i = 0; i < node->n && nn < 64; i++) {
            const struct cnode *it = node->items[i];
            if (!it || it->kind != CNODE_SCALAR)
                return where_err(err, it ? it : node, "expected a detector name%s%s", "", "");
            trim_copy(names[nn].name, sizeof names[nn].name, it->value ? it->value : "",
                      it->value ? strlen(it->value) : 0);
            names[nn++].at = it;
        }
    } else {
        return where_err(err, node, "expected a list of detector names (%s)%s", AVAILABLE, "");
    }
    if (nn == 0)
        return where_err(err, node, "no detector given: the Collector fails to start with "
                         "\"resource detection failed: no detectors succeeded\"; available: %s%s",
                         AVAILABLE, "");
    if (nn > cap)
        return where_err(err, node, "more than %s detectors%s", "32", "");
    for (size_t i = 0; i < nn; i++) {
        const char *d = names[i].name;
        if (strcmp(d, "env") == 0)
            out[(*n)++] = RD_DET_ENV;
        else if (strcmp(d, "system") == 0)
            out[(*n)++] = RD_DET_SYSTEM;
        else if (in_list(unavailable_detectors, d))
            return where_err(err, names[i].at, "the \"%s\" detector is not available in llmotlp; "
                             "available detectors: %s", d, AVAILABLE);
        else
            return where_err(err, names[i].at, "invalid detector key: \"%s\" (llmotlp has: %s)",
                             d, AVAILABLE);
    }
    return 0;
}

/* system.resource_attributes: {name: {enabled: bool}} over the Collector's defaults. */
static int sys_attrs_read(const struct cnode *node, bool *enabled, struct error *err)
{
    for (int a = 0; a < RD_SYS_ATTR_COUNT; a++)
        enabled[a] = rd_sys_attrs[a].enabled_by_default;
    if (!node || node->kind == CNODE_NULL)
        return 0;
    char pos[300];
    if (node->kind != CNODE_MAP)
        return error_set(err, "system.resource_attributes: %s: expected a map of attribute "
                         "names to {enabled: true|false}", cnode_where(node, pos, sizeof pos));
    for (size_t i = 0; i < node->n; i++) {
        const char *name = node->keys[i]->value ? node->keys[i]->value : "";
        int a = 0;
        while (a < RD_SYS_ATTR_COUNT && strcmp(rd_sys_attrs[a].name, name) != 0)
            a++;
        if (a == RD_SYS_ATTR_COUNT) {
            char known[1024];
            size_t k = 0;
            for (int j = 0; j < RD_SYS_ATTR_COUNT; j++)
                k += (size_t)snprintf(known + k, sizeof known - k, "%s%s", j ? ", " : "",
                                      rd_sys_attrs[j].name);
            return error_set(err, "system.resource_attributes: %s: unknown attribute \"%s\"; "
                             "known: %s", cnode_where(node->keys[i], pos, sizeof pos), name,
                             known);
        }
        const struct cnode *v = node->items[i];
        if (!v || v->kind == CNODE_NULL)
            continue;
        if (v->kind != CNODE_MAP)
            return error_set(err, "system.resource_attributes.%s: %s: expected {enabled: "
                             "true|false}", name, cnode_where(v, pos, sizeof pos));
        for (size_t j = 0; j < v->n; j++) {
            const char *k = v->keys[j]->value ? v->keys[j]->value : "";
            const struct cnode *ev = v->items[j];
            if (strcmp(k, "enabled") != 0)
                return error_set(err, "system.resource_attributes.%s: %s: unknown key \"%s\"; "
                                 "known keys: enabled", name,
                                 cnode_where(v->keys[j], pos, sizeof pos), k);
            bool b = false;
            if (ev && ev->kind == CNODE_NULL)
                continue;
            if (!ev || ev->kind != CNODE_SCALAR || config_parse_bool(ev->value, &b) != 0)
                return error_set(err, "system.resource_attributes.%s.enabled: %s: expected "
                                 "true or false", name, cnode_where(ev ? ev : v, pos, sizeof pos));
            if (b && rd_sys_attrs[a].unsupported)
                return error_set(err, "system.resource_attributes.%s.enabled: %s: true is not "
                                 "supported: %s", name,
                                 cnode_where(v->keys[j], pos, sizeof pos),
                                 rd_sys_attrs[a].unsupported);
            enabled[a] = b;
        }
    }
    return 0;
}

static int sources_read(const struct rd_system_config *c, struct rd_system_spec *spec,
                        struct error *err)
{
    spec->n_sources = 0;
    for (size_t i = 0; i < c->hostname_sources.n; i++) {
        const char *s = c->hostname_sources.items[i];
        int k = 0;
        while (rd_hostname_source_names[k] && strcmp(rd_hostname_source_names[k], s) != 0)
            k++;
        if (!rd_hostname_source_names[k])
            return error_set(err, "system.hostname_sources: contains invalid value: \"%s\" "
                             "(valid: dns, os, cname, lookup)", s);
        if (spec->n_sources == sizeof spec->sources / sizeof spec->sources[0])
            return error_set(err, "system.hostname_sources: too many sources");
        spec->sources[spec->n_sources++] = (enum rd_hostname_source)k;
    }
    return 0;
}

static int rd_validate(const void *cfgp, struct error *err)
{
    const struct rd_config *cfg = cfgp;
    enum rd_detector det[32];
    size_t n;
    if (detectors_read(cfg->detectors, det, 32, &n, err) != 0)
        return -1;
    static const char *const names[] = {
#define NAME_OF(i, nm) nm,
        OTHER_SECTIONS(NAME_OF)
#undef NAME_OF
    };
    for (size_t i = 0; i < N_OTHER; i++)
        if (cfg->other[i])
            return error_set(err, "%s: the %s detector is not available in llmotlp, so are not "
                             "its settings; available detectors: %s", names[i],
                             strcmp(names[i], "elasticbeanstalk") == 0 ? "elastic_beanstalk"
                                                                       : names[i], AVAILABLE);
    if (cfg->refresh_interval > 0)
        return error_set(err, "refresh_interval: periodic re-detection is not supported by "
                              "llmotlp; detection runs once at start (use 0)");
    struct rd_system_spec spec;
    if (sources_read(&cfg->system, &spec, err) != 0 ||
        sys_attrs_read(cfg->system.resource_attributes, spec.enabled, err) != 0)
        return -1;
    return 0;
}

/* ---- detection ------------------------------------------------------------------------------- */

/* What one detection run needs, owned by the run: it may outlive the processor when start gave
 * up waiting, so it copies what it reads from the config. */
struct rd_job {
    atomic_int refs;            /* the processor's and the thread's */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int rc;
    struct error err;
    struct rd_resource res;
    char *log_name;
    enum rd_detector det[32];
    size_t n_det;
    struct rd_system_spec sys;
    bool has_allow;
    char **allow;
    size_t n_allow;
    char **keep;                /* deprecated `attributes` */
    size_t n_keep;
};

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static char **strv_dup(const struct config_str_list *l)
{
    char **v = calloc(l->n ? l->n : 1, sizeof *v);
    for (size_t i = 0; v && i < l->n; i++)
        if (!(v[i] = strdup(l->items[i]))) {
            strv_free(v, i);
            return NULL;
        }
    return v;
}

static void job_unref(struct rd_job *j)
{
    if (!j || atomic_fetch_sub(&j->refs, 1) != 1)
        return;
    rd_resource_free(&j->res);
    strv_free(j->allow, j->n_allow);
    strv_free(j->keep, j->n_keep);
    free(j->log_name);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

/* Runs every detector (all of them, as the Collector does, joining their errors); the first to
 * set a key wins; then the deprecated allow-list. */
static void job_run(struct rd_job *j)
{
    struct rd_resource all = {0};
    char errs[sizeof j->err.msg] = "";
    int failed = 0;
    for (size_t i = 0; i < j->n_det; i++) {
        struct rd_resource one = {0};
        struct error e = {0};
        int rc = j->det[i] == RD_DET_ENV
                     ? rd_env_detect(&one, j->has_allow, j->allow, j->n_allow, &e)
                     : rd_system_detect(&j->sys, &one, j->log_name, &e);
        if (rc != 0) {
            const char *dn = j->det[i] == RD_DET_ENV ? "env" : "system";
            log_warn(j->log_name, "failed to detect resource: detector %s: %s", dn, e.msg);
            size_t l = strlen(errs);
            snprintf(errs + l, sizeof errs - l, "%s%s: %.400s", l ? "; " : "", dn, e.msg);
            failed++;
        } else if (rd_resource_merge_first(&all, &one) != 0) {
            snprintf(errs, sizeof errs, "out of memory");
            failed++;
        }
        rd_resource_free(&one);
    }
    size_t dropped = rd_resource_keep(&all, j->keep, j->n_keep);
    if (dropped)
        log_info(j->log_name, "dropped %zu detected attribute(s) not named in attributes",
                 dropped);
    pthread_mutex_lock(&j->mu);
    if (failed) {
        j->rc = -1;
        error_set(&j->err, "resource detection failed: %s", errs);
        rd_resource_free(&all);
    } else {
        j->res = all;
    }
    j->done = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static void *job_thread(void *arg)
{
    struct rd_job *j = arg;
    job_run(j);
    job_unref(j);
    return NULL;
}

/* ---- the processor --------------------------------------------------------------------------- */

struct rd_proc {
    const struct rd_config *cfg;
    char *log_name;
    enum signal signal;
    struct consumer *next;
    struct rd_job *job;
    bool ready;                    /* detection finished: res / kvs below are set */
    struct rd_resource res;
    otlp_kv **kvs;                 /* res as OTLP values, owned here; copied into batches */
    size_t n_kvs;
    _Atomic uint64_t *enriched;
};

static void kv_free(otlp_kv *kv)
{
    if (!kv)
        return;
    otlp_any *v = kv->value;
    if (v && v->value_case == V_ARRAY && v->array_value) {
        for (size_t i = 0; i < v->array_value->n_values; i++)
            free(v->array_value->values[i]);
        free(v->array_value->values);
        free(v->array_value);
    }
    free(v);
    free(kv);
}

/* The detected attributes as OTLP KeyValues pointing at res's strings. */
static int build_kvs(struct rd_proc *p)
{
    p->kvs = calloc(p->res.n ? p->res.n : 1, sizeof *p->kvs);
    if (!p->kvs)
        return -1;
    for (size_t i = 0; i < p->res.n; i++) {
        const struct rd_attr *a = &p->res.v[i];
        otlp_kv *kv = calloc(1, sizeof *kv);
        otlp_any *v = calloc(1, sizeof *v);
        if (!kv || !v) {
            free(kv);
            free(v);
            return -1;
        }
        opentelemetry__proto__common__v1__key_value__init(kv);
        opentelemetry__proto__common__v1__any_value__init(v);
        kv->key = a->key;
        kv->value = v;
        p->kvs[p->n_kvs++] = kv;
        if (a->type == RD_STR) {
            v->value_case = V_STRING;
            v->string_value = a->s;
        } else if (a->type == RD_INT) {
            v->value_case = V_INT;
            v->int_value = a->i;
        } else {
            otlp_array *arr = calloc(1, sizeof *arr);
            if (!arr)
                return -1;
            opentelemetry__proto__common__v1__array_value__init(arr);
            v->value_case = V_ARRAY;
            v->array_value = arr;
            arr->values = calloc(a->n ? a->n : 1, sizeof *arr->values);
            if (!arr->values)
                return -1;
            for (size_t k = 0; k < a->n; k++) {
                otlp_any *e = calloc(1, sizeof *e);
                if (!e)
                    return -1;
                opentelemetry__proto__common__v1__any_value__init(e);
                e->value_case = V_STRING;
                e->string_value = a->list[k];
                arr->values[arr->n_values++] = e;
            }
        }
    }
    return 0;
}

static bool any_equal(const otlp_any *x, const otlp_any *y)
{
    if (!x || !y || x->value_case != y->value_case)
        return false;
    switch (x->value_case) {
    case V_STRING:
        return strcmp(x->string_value ? x->string_value : "",
                      y->string_value ? y->string_value : "") == 0;
    case V_INT:
        return x->int_value == y->int_value;
    case V_ARRAY: {
        const otlp_array *a = x->array_value, *b = y->array_value;
        size_t na = a ? a->n_values : 0, nb = b ? b->n_values : 0;
        if (na != nb)
            return false;
        for (size_t i = 0; i < na; i++)
            if (!any_equal(a->values[i], b->values[i]))
                return false;
        return true;
    }
    default:
        return false;
    }
}

static otlp_any *any_copy(struct arena *a, const otlp_any *src)
{
    otlp_any *v = arena_alloc(a, sizeof *v);
    if (!v)
        return NULL;
    *v = *src;
    if (src->value_case == V_STRING) {
        if (!(v->string_value = arena_strdup(a, src->string_value)))
            return NULL;
    } else if (src->value_case == V_ARRAY) {
        otlp_array *arr = arena_alloc(a, sizeof *arr);
        if (!arr)
            return NULL;
        *arr = *src->array_value;
        arr->values = arena_alloc(a, (arr->n_values ? arr->n_values : 1) * sizeof *arr->values);
        if (!arr->values)
            return NULL;
        for (size_t i = 0; i < arr->n_values; i++)
            if (!(arr->values[i] = any_copy(a, src->array_value->values[i])))
                return NULL;
        v->array_value = arr;
    }
    return v;
}

/* Merges the detected resource into one resource (with its schema URL), as the Collector's
 * MergeSchemaURL and MergeResource do. With a == NULL nothing is written: returns whether
 * something would change. With an arena: returns false only on out of memory, after which the
 * resource is left as it was. */
static bool merge_one(const struct rd_proc *p, otlp_resource **resp, char **schema_url,
                      struct arena *a, bool *changed)
{
    const char *detected_url = p->res.schema_url;
    bool url = detected_url && detected_url[0] && (!*schema_url || !(*schema_url)[0]);
    otlp_resource *r = *resp;
    size_t have = r ? r->n_attributes : 0;
    size_t add = 0, repl = 0;
    for (size_t i = 0; i < p->n_kvs; i++) {
        const otlp_kv *d = p->kvs[i];
        const otlp_kv *cur = NULL;
        for (size_t k = 0; k < have && !cur; k++)
            if (r->attributes[k] && r->attributes[k]->key &&
                strcmp(r->attributes[k]->key, d->key) == 0)
                cur = r->attributes[k];
        if (!cur)
            add++;
        else if (p->cfg->override && !any_equal(cur->value, d->value))
            repl++;
    }
    if (!url && !add && !repl)
        return a ? true : false;
    if (!a)
        return true;
    otlp_kv **v = arena_alloc(a, (have + add + 1) * sizeof *v);
    if (!v)
        return false;
    if (have)
        memcpy(v, r->attributes, have * sizeof *v);
    size_t n = have;
    for (size_t i = 0; i < p->n_kvs; i++) {
        const otlp_kv *d = p->kvs[i];
        size_t k = 0;
        while (k < have && !(v[k] && v[k]->key && strcmp(v[k]->key, d->key) == 0))
            k++;
        if (k < have && (!p->cfg->override || any_equal(v[k]->value, d->value)))
            continue;
        otlp_kv *kv = arena_alloc(a, sizeof *kv);
        if (!kv)
            return false;
        opentelemetry__proto__common__v1__key_value__init(kv);
        if (!(kv->key = arena_strdup(a, d->key)) || !(kv->value = any_copy(a, d->value)))
            return false;
        if (k < have)
            v[k] = kv;
        else
            v[n++] = kv;
    }
    if (!r) {
        if (!(r = arena_alloc(a, sizeof *r)))
            return false;
        opentelemetry__proto__resource__v1__resource__init(r);
    }
    if (url) {
        char *u = arena_strdup(a, detected_url);
        if (!u)
            return false;
        *schema_url = u;
    }
    r->attributes = v;
    r->n_attributes = n;
    *resp = r;
    *changed = true;
    return true;
}

/* Walks every resource of the request: a == NULL answers whether any would change; otherwise
 * merges each, counting those changed. */
static bool walk(const struct rd_proc *p, ProtobufCMessage *msg, struct arena *a,
                 uint64_t *changed_n)
{
    size_t n = 0;
    void **items = NULL;
    switch (p->signal) {
    case SIGNAL_TRACES: {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r = (void *)msg;
        n = r->n_resource_spans;
        items = (void **)r->resource_spans;
        break;
    }
    case SIGNAL_METRICS: {
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r = (void *)msg;
        n = r->n_resource_metrics;
        items = (void **)r->resource_metrics;
        break;
    }
    default: {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r = (void *)msg;
        n = r->n_resource_logs;
        items = (void **)r->resource_logs;
        break;
    }
    }
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (!items[i])
            continue;
        otlp_resource **res;
        char **url;
        if (p->signal == SIGNAL_TRACES) {
            Opentelemetry__Proto__Trace__V1__ResourceSpans *x = items[i];
            res = &x->resource;
            url = &x->schema_url;
        } else if (p->signal == SIGNAL_METRICS) {
            Opentelemetry__Proto__Metrics__V1__ResourceMetrics *x = items[i];
            res = &x->resource;
            url = &x->schema_url;
        } else {
            Opentelemetry__Proto__Logs__V1__ResourceLogs *x = items[i];
            res = &x->resource;
            url = &x->schema_url;
        }
        bool changed = false;
        if (!a) {
            if (merge_one(p, res, url, NULL, &changed))
                return true;
            continue;
        }
        if (!merge_one(p, res, url, a, &changed))
            return false;
        if (changed) {
            any = true;
            (*changed_n)++;
        }
    }
    return a ? true : any;
}

static enum consume_status rd_consume(void *self, struct batch *b)
{
    struct rd_proc *p = self;
    if (!p->ready || (p->n_kvs == 0 && !p->res.schema_url))
        return consumer_send(p->next, b);
    struct error err = {0};
    const ProtobufCMessage *ro = batch_decoded(b, &err);
    if (!ro) {
        log_warn(p->log_name, "cannot decode the request, forwarding it as is: %s", err.msg);
        return consumer_send(p->next, b);
    }
    uint64_t changed = 0;
    /* the dry run never writes: the cast only lets both walks share one code path */
    if (!walk(p, (ProtobufCMessage *)ro, NULL, &changed))
        return consumer_send(p->next, b);
    struct batch *nb = NULL;
    ProtobufCMessage *msg = batch_edit(b, &nb, &err);
    if (!msg) {
        log_warn(p->log_name, "cannot edit the request, forwarding it without the detected "
                              "resource: %s", err.msg);
        return consumer_send(p->next, b);
    }
    if (!walk(p, msg, nb->arena, &changed))
        log_warn(p->log_name, "out of memory merging the detected resource; some resources "
                              "were forwarded without it");
    batch_edit_done(nb);
    telemetry_add(p->enriched, changed);
    enum consume_status st = consumer_send(p->next, nb);
    batch_edit_release(b, nb);
    return st;
}

static int64_t now_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int rd_start(void *self, struct error *err)
{
    struct rd_proc *p = self;
    struct rd_job *j = p->job;
    atomic_fetch_add(&j->refs, 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &attr, job_thread, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        atomic_fetch_sub(&j->refs, 1);
        return error_set(err, "cannot start resource detection: %s", strerror(rc));
    }
    log_info(p->log_name, "began detecting resource information");
    int64_t deadline = p->cfg->timeout > 0 ? now_mono_ns() + p->cfg->timeout : 0;
    pthread_mutex_lock(&j->mu);
    while (!j->done) {
        if (!deadline) {
            pthread_cond_wait(&j->cv, &j->mu);
            continue;
        }
        int64_t left = deadline - now_mono_ns();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + left;
        ts.tv_sec = at / 1000000000;
        ts.tv_nsec = at % 1000000000;
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    }
    bool done = j->done;
    int jrc = j->rc;
    if (done && jrc == 0) {
        p->res = j->res;
        memset(&j->res, 0, sizeof j->res);
    } else if (done) {
        error_set(err, "%s", j->err.msg);
    }
    pthread_mutex_unlock(&j->mu);
    if (!done)
        return error_set(err, "resource detection did not finish within timeout %" PRId64 "ms",
                         p->cfg->timeout / 1000000);
    if (jrc != 0)
        return -1;
    if (build_kvs(p) != 0)
        return error_set(err, "out of memory");
    char list[1024] = "";
    size_t l = 0;
    for (size_t i = 0; i < p->res.n && l < sizeof list; i++)
        l += (size_t)snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", p->res.v[i].key);
    log_info(p->log_name, "detected resource information: [%s]", list);
    p->ready = true;
    return 0;
}

static void rd_destroy(void *self)
{
    struct rd_proc *p = self;
    if (!p)
        return;
    for (size_t i = 0; i < p->n_kvs; i++)
        kv_free(p->kvs[i]);
    free(p->kvs);
    rd_resource_free(&p->res);
    job_unref(p->job);
    free(p->log_name);
    free(p);
}

static void *rd_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    const struct rd_config *cfg = cfgp;
    if (!env->next[env->signal]) {
        error_set(err, "resourcedetection processor has no downstream consumer");
        return NULL;
    }
    struct rd_proc *p = calloc(1, sizeof *p);
    struct rd_job *j = calloc(1, sizeof *j);
    const char *ln = env->log_name ? env->log_name : "processor/resourcedetection";
    if (!p || !j) {
        free(p);
        free(j);
        error_set(err, "out of memory");
        return NULL;
    }
    atomic_init(&j->refs, 1);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    p->job = j;
    p->cfg = cfg;
    p->signal = env->signal;
    p->next = env->next[env->signal];
    if (!(p->log_name = strdup(ln)) || !(j->log_name = strdup(ln)) ||
        !(j->allow = strv_dup(&cfg->env.allow_list)) || !(j->keep = strv_dup(&cfg->attributes))) {
        rd_destroy(p);
        error_set(err, "out of memory");
        return NULL;
    }
    j->n_allow = cfg->env.allow_list.n;
    j->has_allow = cfg->env.allow_list_set;
    j->n_keep = cfg->attributes.n;
    if (detectors_read(cfg->detectors, j->det, 32, &j->n_det, err) != 0 ||
        sources_read(&cfg->system, &j->sys, err) != 0 ||
        sys_attrs_read(cfg->system.resource_attributes, j->sys.enabled, err) != 0) {
        rd_destroy(p);
        return NULL;
    }
    if (env->telemetry) {
        char l[300];
        snprintf(l, sizeof l, "processor=\"%s\"", env->id ? env->id : "resourcedetection");
        p->enriched = telemetry_counter(env->telemetry, "llmotlp_resourcedetection_resources_"
                                        "enriched", l, "Resources the detected resource was "
                                        "merged into with a change");
    }
    return p;
}

#define RD_FACTORY_COMMON                                                                  \
    .kind = COMPONENT_PROCESSOR, .fields = rd_fields, .config_size = sizeof(struct rd_config), \
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS),          \
    .validate = rd_validate, .create = rd_create, .start = rd_start, .consume = rd_consume,    \
    .destroy = rd_destroy

const struct component_factory resourcedetection_processor_factory = {
    .type = "resourcedetection",
    .doc = "the Collector's resourcedetection: detects the host's resource (env, system) at start "
           "and merges it into every resource",
    RD_FACTORY_COMMON,
};

/* The Collector's newer snake_case name of the same processor (`resourcedetection` stays). */
const struct component_factory resource_detection_processor_factory = {
    .type = "resource_detection",
    .doc = "the resourcedetection processor under its newer Collector name",
    RD_FACTORY_COMMON,
};
