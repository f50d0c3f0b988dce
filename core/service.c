/* service.c — from the Collector's YAML to a running graph of components, and back down.
 *
 * Load reads the merged config tree into component definitions (ID, factory, bound config) and
 * pipelines (signal, lists of definitions), and checks the graph completely, so that `validate`
 * and start-up report the same errors. The one idea of the build: pipelines are put in
 * downstream-first order (a pipeline comes after every pipeline its connectors feed; a cycle is
 * an error), so each component is created with its `next` consumers already in hand:
 * exporters, then the pipeline's fan-out, then its processors last to first, and at the very end
 * the receivers, which only need the entries of the pipelines they feed.
 * Shutdown walks the same order backwards (upstream first), so whatever a processor or connector
 * flushes lands in components that are still running. */
#include "core/service.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/auth.h"
#include "core/component.h"
#include "core/config_source.h"
#include "core/exporter_helper.h"
#include "core/fanout.h"
#include "core/log.h"
#include "core/otlp.h"
#include "core/telemetry_otlp.h"
#include "core/telemetry_reader.h"
#include "core/telemetry_server.h"
#include "core/version.h"

#define SERVICE_LOG "service"
#define DEFAULT_SHUTDOWN_TIMEOUT_NS (10 * (int64_t)1000000000)
/* Loopback by default, as the Collector since it stopped exposing its own metrics everywhere. */
#define DEFAULT_METRICS_ADDRESS "localhost:8888"

/* ---- small vector of pointers ---------------------------------------------------------------- */

struct ptrvec {
    void **v;
    size_t n;
};

static int ptrvec_push(struct ptrvec *p, void *item)
{
    void **nv = realloc(p->v, (p->n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    nv[p->n++] = item;
    p->v = nv;
    return 0;
}

static void ptrvec_free(struct ptrvec *p)
{
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

/* ---- model ----------------------------------------------------------------------------------- */

/* One entry of receivers:/processors:/exporters:/connectors:/extensions:. */
struct comp_def {
    enum component_kind kind;
    char *id;                              /* normalized "type" or "type/name" */
    const struct component_factory *factory;
    void *cfg;                             /* bound by config_bind, owned */
    const struct cnode *key;               /* where it was defined */
    const struct cnode *val;               /* its settings (may be NULL) */
    bool used;
    /* Exporters: the file_storage extension their sending_queue.storage names (resolved and
     * checked at load). */
    struct comp_def *storage;
    /* Receivers and exporters: their `auth:` sections, each with the authenticator extension it
     * names (resolved and checked at load; the interface is handed over at create). */
    struct auth_ref *auth;
    size_t n_auth;
};

struct auth_ref {
    struct auth_config *cfg;               /* inside the component's bound config */
    struct comp_def *ext;
};

enum list_role { ROLE_RECEIVERS, ROLE_PROCESSORS, ROLE_EXPORTERS, ROLE_COUNT };
static const char *const role_keys[ROLE_COUNT] = {"receivers", "processors", "exporters"};

struct instance;

struct pipeline {
    char *id;
    enum signal sig;
    const struct cnode *key;
    size_t n[ROLE_COUNT];
    struct comp_def **refs[ROLE_COUNT];
    const struct cnode **items[ROLE_COUNT]; /* list items, for messages */
    /* built by service_start */
    struct consumer *entry;
    struct instance **procs;               /* n[ROLE_PROCESSORS] */
};

/* A created component. Its consumer face calls the factory's consume. */
struct instance {
    struct consumer base;                  /* first member */
    struct comp_def *def;
    void *self;
    char *log_name;
    enum signal sig;                       /* processors, connectors: input signal */
    bool started;
    _Atomic uint64_t *items_in;            /* processors: otelcol_processor_incoming_items */
};

/* What a processor hands on, counted on the way (otelcol_processor_outgoing_items). */
struct counted_next {
    struct consumer base;                  /* first member */
    struct consumer *next;
    _Atomic uint64_t *items_out;
};

/* service.telemetry, as the Collector spells it. logs.level, logs.encoding, logs.initial_fields,
 * the resource, the metrics endpoint (level, address, the first pull/prometheus reader) and the
 * periodic OTLP readers act; the rest is accepted so that a Collector
 * config loads unchanged, and said to have no effect (no_effect below, or a conditional warning
 * in load_telemetry where some values are what we do anyway). None of them is refused: our own
 * telemetry is weaker than asked, but no data of the pipelines is at stake. */
struct tel_logs {
    char *level;
    int encoding;
    bool development, disable_caller, disable_stacktrace, disable_zap_resource;
    struct config_str_list output_paths, error_output_paths;
    const struct cnode *sampling, *initial_fields, *processors;
};
struct tel_metrics {
    int level;
    char *address;
    const struct cnode *readers, *views;
};
struct tel_traces {
    int level;
    struct config_str_list propagators;
    const struct cnode *processors;
};
struct tel_cfg {
    struct tel_logs logs;
    struct tel_metrics metrics;
    struct tel_traces traces;
    const struct cnode *resource;
};

static const char *const tel_encodings[] = {"console", "json", NULL};
static const char *const tel_levels[] = {"none", "basic", "normal", "detailed", NULL};

static const struct config_field tel_logs_fields[] = {
    {.name = "level", .type = CFG_STRING, .offset = offsetof(struct tel_logs, level), .def = "info",
     .doc = "log level: debug, info, warn, error"},
    {.name = "encoding", .type = CFG_ENUM, .offset = offsetof(struct tel_logs, encoding),
     .def = "console", .choices = tel_encodings,
     .doc = "console (time, level, [component], message) or json (one object per line with "
            "zap's keys: level, ts, logger, msg, the initial fields, resource, "
            "otelcol.component.*)"},
    {.name = "development", .type = CFG_BOOL, .offset = offsetof(struct tel_logs, development),
     .doc = "zap's development mode", .no_effect = "there is no development mode",
     .harmless = "false"},
    {.name = "disable_caller", .type = CFG_BOOL,
     .offset = offsetof(struct tel_logs, disable_caller),
     .doc = "true only (lines never name their caller; false is warned about)"},
    {.name = "disable_stacktrace", .type = CFG_BOOL,
     .offset = offsetof(struct tel_logs, disable_stacktrace),
     .doc = "true only (lines never carry a stack trace; false is warned about)"},
    {.name = "output_paths", .type = CFG_STRING_LIST,
     .offset = offsetof(struct tel_logs, output_paths),
     .doc = "stderr only (logs always go to stderr; other paths are warned about)"},
    {.name = "error_output_paths", .type = CFG_STRING_LIST,
     .offset = offsetof(struct tel_logs, error_output_paths),
     .doc = "stderr only (as output_paths)"},
    {.name = "sampling", .type = CFG_RAW, .offset = offsetof(struct tel_logs, sampling),
     .doc = "zap's log sampling", .no_effect = "log lines are never sampled"},
    {.name = "initial_fields", .type = CFG_RAW, .offset = offsetof(struct tel_logs, initial_fields),
     .doc = "fields added to every JSON line, keys sorted (console lines do not carry them: "
            "warned about)"},
    {.name = "disable_zap_resource", .type = CFG_BOOL,
     .offset = offsetof(struct tel_logs, disable_zap_resource),
     .doc = "JSON lines without the \"resource\" field"},
    {.name = "processors", .type = CFG_RAW, .offset = offsetof(struct tel_logs, processors),
     .doc = "exporters of the service's own logs",
     .no_effect = "the service's own logs only go to stderr", .harmless = "[]"},
    {.name = NULL},
};

static const struct config_field tel_metrics_fields[] = {
    {.name = "level", .type = CFG_ENUM, .offset = offsetof(struct tel_metrics, level),
     .def = "normal", .choices = tel_levels, .doc = "none, basic, normal, detailed"},
    {.name = "address", .type = CFG_STRING, .offset = offsetof(struct tel_metrics, address),
     .doc = "older form of readers (host:port of the Prometheus endpoint)"},
    {.name = "readers", .type = CFG_RAW, .offset = offsetof(struct tel_metrics, readers),
     .doc = "metric readers, as the Collector's: pull (prometheus) and periodic (otlp with "
            "protocol http/protobuf, http/json or grpc; otlp_http; otlp_grpc)"},
    {.name = "views", .type = CFG_RAW, .offset = offsetof(struct tel_metrics, views),
     .doc = "metric views", .no_effect = "own metrics are served as they are made",
     .harmless = "[]"},
    {.name = NULL},
};

static const struct config_field tel_traces_fields[] = {
    {.name = "level", .type = CFG_ENUM, .offset = offsetof(struct tel_traces, level),
     .def = "basic", .choices = tel_levels, .doc = "detail of the service's own traces",
     .no_effect = "the service makes no traces of its own", .harmless = "none"},
    {.name = "propagators", .type = CFG_STRING_LIST,
     .offset = offsetof(struct tel_traces, propagators), .doc = "context propagators",
     .no_effect = "the service makes no traces of its own", .harmless = "[]"},
    {.name = "processors", .type = CFG_RAW, .offset = offsetof(struct tel_traces, processors),
     .doc = "exporters of the service's own traces",
     .no_effect = "the service makes no traces of its own", .harmless = "[]"},
    {.name = NULL},
};

static const struct config_field tel_fields[] = {
    {.name = "logs", .type = CFG_SECTION, .offset = offsetof(struct tel_cfg, logs),
     .sub = tel_logs_fields, .doc = "the service's own logs"},
    {.name = "metrics", .type = CFG_SECTION, .offset = offsetof(struct tel_cfg, metrics),
     .sub = tel_metrics_fields, .doc = "the service's own metrics"},
    {.name = "traces", .type = CFG_SECTION, .offset = offsetof(struct tel_cfg, traces),
     .sub = tel_traces_fields, .doc = "the service's own traces"},
    {.name = "resource", .type = CFG_RAW, .offset = offsetof(struct tel_cfg, resource),
     .doc = "resource attributes of the service's own telemetry (periodic readers, JSON log "
            "lines): service.name, service.version, service.instance.id by default; a null "
            "value removes one"},
    {.name = NULL},
};

static const struct config_field empty_fields[] = {{.name = NULL}};

struct service {
    struct cnode *root;
    struct wire_interest *interest;        /* attribute keys the span index records */
    struct ptrvec defs;                    /* struct comp_def * */
    struct pipeline *pipes;
    size_t n_pipes;
    size_t *order;                         /* pipeline indices, downstream first */
    struct ptrvec ext_enabled;             /* struct comp_def *, service.extensions */
    struct ptrvec warnings;                /* char * */
    size_t warnings_logged;                /* the first ones, logged once loading ended */
    bool loaded;
    struct telemetry *telemetry;
    struct tel_cfg tcfg;
    bool tcfg_bound;
    char *metrics_endpoint;                /* host:port of /metrics; NULL = not served */
    struct ptrvec readers;                 /* struct telemetry_reader *, periodic readers */
    struct telemetry_resource resource;    /* of own telemetry */
    struct telemetry_server *tserver;
    _Atomic int state;                     /* enum service_state, read by extensions */
    int64_t shutdown_timeout_ns;
    /* built */
    struct ptrvec extensions, exporters, processors, connectors, receivers; /* struct instance * */
    struct ptrvec fanouts;                 /* struct fanout * */
    struct ptrvec counted;                 /* struct counted_next * */
    bool built, started, shut_down;
};

/* ---- helpers --------------------------------------------------------------------------------- */

static const char *where(const struct cnode *n, char *buf, size_t len)
{
    if (!n) {
        snprintf(buf, len, "<config>");
        return buf;
    }
    return cnode_where(n, buf, len);
}

/* error at node n: "file:line:col: msg" */
/* Where a component's validate error belongs: validate sees the bound struct, not the YAML, so
 * its messages start with the key path they are about ("tls.cipher_suites: not supported");
 * when that key is written in the component's settings, the error is placed at it, else at the
 * component's ID. */
static const struct cnode *validate_error_at(const struct cnode *val, const char *msg,
                                             const struct cnode *fallback)
{
    char path[256];
    size_t n = 0;
    while (msg[n] && n + 1 < sizeof path &&
           (isalnum((unsigned char)msg[n]) || msg[n] == '_' || msg[n] == '.' || msg[n] == '-')) {
        path[n] = msg[n];
        n++;
    }
    path[n] = '\0';
    if (n == 0 || (msg[n] != ':' && msg[n] != ' '))
        return fallback;
    const struct cnode *k = cnode_find_key(val, path);
    return k ? k : fallback;
}

static int err_at(struct error *err, const struct cnode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int err_at(struct error *err, const struct cnode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, fmt, ap);
    va_end(ap);
    char pos[512];
    error_prefix(err, "%s: ", where(n, pos, sizeof pos));
    return -1;
}

static void add_warning(struct service *s, const struct cnode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_warning(struct service *s, const struct cnode *n, const char *fmt, ...)
{
    char msg[1024], pos[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *line = NULL;
    if (asprintf(&line, "%s: %s", where(n, pos, sizeof pos), msg) < 0)
        return;
    /* Once each: a check that runs per pipeline or per use must not repeat itself. */
    for (size_t i = 0; i < s->warnings.n; i++)
        if (strcmp(s->warnings.v[i], line) == 0) {
            free(line);
            return;
        }
    if (s->loaded)
        log_warn(SERVICE_LOG, "%s", line);
    if (ptrvec_push(&s->warnings, line) != 0)
        free(line);
    else if (s->loaded)
        s->warnings_logged = s->warnings.n;
}

/* Warnings found while loading are logged once service.telemetry.logs has set the format, so
 * that a JSON log has JSON lines only. */
static void log_load_warnings(struct service *s)
{
    s->loaded = true;
    for (; s->warnings_logged < s->warnings.n; s->warnings_logged++)
        log_warn(SERVICE_LOG, "%s", (const char *)s->warnings.v[s->warnings_logged]);
}

/* The service's warning sink (config.h): binding's no_effect keys and the components' warn
 * hooks land in the same list as the service's own warnings, each "file:line:col: msg". A
 * warning without a position (a hook that found no key) is placed at `fallback`, the component's
 * ID or the section it is about. */
struct warn_target {
    struct service *s;
    const struct cnode *fallback;
};

static void service_warn(void *ctx, const struct cnode *at, const char *msg)
{
    struct warn_target *t = ctx;
    add_warning(t->s, at ? at : t->fallback, "%s", msg);
}

static unsigned bit(enum signal sig)
{
    return 1u << sig;
}

/* snprintf at offset *n of buf, tolerating truncation (then *n passes len and nothing more is
 * written). */
static void appendf(char *buf, size_t len, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void appendf(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
    if (*n >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *n, len - *n, fmt, ap);
    va_end(ap);
    if (w > 0)
        *n += (size_t)w;
}

/* "traces, logs" */
static const char *signals_list(unsigned mask, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < SIGNAL_COUNT; i++)
        if (mask & bit((enum signal)i))
            appendf(buf, len, &n, "%s%s", n ? ", " : "", signal_name((enum signal)i));
    if (n == 0)
        snprintf(buf, len, "none");
    return buf;
}

/* Output signals a connector emits for input `in` (see component_factory.routes). */
static unsigned connector_routes(const struct component_factory *f, enum signal in)
{
    if (!(f->signals & bit(in)))
        return 0;
    bool any = false;
    for (int i = 0; i < SIGNAL_COUNT; i++)
        any = any || f->routes[i] != 0;
    return (any ? f->routes[in] : f->out_signals) & f->out_signals;
}

static char *trim_dup(const char *p, size_t len)
{
    while (len && isspace((unsigned char)*p)) {
        p++;
        len--;
    }
    while (len && isspace((unsigned char)p[len - 1]))
        len--;
    return strndup(p, len);
}

/* Normalizes a component ID "type[/name]" as the Collector's component.ID does: parts trimmed,
 * type ^[a-zA-Z][0-9a-zA-Z_]{0,62}$, name 1..1024 chars without whitespace, control characters
 * or symbols. Returns a malloc'd ID, or NULL with err saying why (no position). */
static char *id_normalize(const char *raw, struct error *err)
{
    const char *slash = strchr(raw, '/');
    char *type = trim_dup(raw, slash ? (size_t)(slash - raw) : strlen(raw));
    char *name = slash ? trim_dup(slash + 1, strlen(slash + 1)) : NULL;
    char *out = NULL;
    if (!type || (slash && !name)) {
        error_set(err, "out of memory");
        goto done;
    }
    size_t tl = strlen(type);
    bool ok = tl >= 1 && tl <= 63 && isalpha((unsigned char)type[0]);
    for (size_t i = 1; ok && i < tl; i++)
        ok = isalnum((unsigned char)type[i]) || type[i] == '_';
    if (!ok) {
        error_set(err, "invalid ID '%s': the type must start with a letter and contain only "
                       "letters, digits and '_' (at most 63 characters)", raw);
        goto done;
    }
    if (name) {
        size_t nl = strlen(name);
        ok = nl >= 1 && nl <= 1024;
        for (size_t i = 0; ok && i < nl; i++) {
            unsigned char c = (unsigned char)name[i];
            ok = !isspace(c) && !iscntrl(c) && !strchr("$+<=>^`|~", c);
        }
        if (!ok) {
            error_set(err, "invalid ID '%s': the name after '/' must be 1 to 1024 characters "
                           "without whitespace, control characters or symbols", raw);
            goto done;
        }
        if (asprintf(&out, "%s/%s", type, name) < 0) {
            out = NULL;
            error_set(err, "out of memory");
        }
    } else {
        out = type;
        type = NULL;
    }
done:
    free(type);
    free(name);
    return out;
}

/* The type part of a normalized ID, in buf. */
static const char *id_type(const char *id, char *buf, size_t len)
{
    const char *slash = strchr(id, '/');
    size_t n = slash ? (size_t)(slash - id) : strlen(id);
    if (n >= len)
        n = len - 1;
    memcpy(buf, id, n);
    buf[n] = '\0';
    return buf;
}

static struct comp_def *find_def(const struct service *s, enum component_kind kind, const char *id)
{
    for (size_t i = 0; i < s->defs.n; i++) {
        struct comp_def *d = s->defs.v[i];
        if (d->kind == kind && strcmp(d->id, id) == 0)
            return d;
    }
    return NULL;
}

/* ---- loading: component sections ------------------------------------------------------------ */

static int load_section(struct service *s, enum component_kind kind, const struct cnode *sec,
                        struct error *err)
{
    const char *section = component_kind_section(kind);
    if (!sec || sec->kind == CNODE_NULL)
        return 0;
    if (sec->kind != CNODE_MAP)
        return err_at(err, sec, "'%s' must be a map of component IDs to their settings", section);
    for (size_t i = 0; i < sec->n; i++) {
        const struct cnode *key = sec->keys[i], *val = sec->items[i];
        const char *raw = key->value ? key->value : "";
        struct error e;
        error_clear(&e);
        char *id = id_normalize(raw, &e);
        if (!id)
            return err_at(err, key, "%s: %s", section, e.msg);
        if (find_def(s, kind, id)) {
            err_at(err, key, "duplicate %s ID '%s'", component_kind_name(kind), id);
            free(id);
            return -1;
        }
        char type[128];
        const struct component_factory *f = component_find(kind, id_type(id, type, sizeof type));
        if (!f) {
            err_at(err, key, "unknown %s type '%s'; known types: %s", component_kind_name(kind),
                   type, component_types_list(kind));
            free(id);
            return -1;
        }
        struct comp_def *d = calloc(1, sizeof *d);
        void *cfg = calloc(1, f->config_size ? f->config_size : 1);
        if (!d || !cfg || ptrvec_push(&s->defs, d) != 0) {
            free(d);
            free(cfg);
            free(id);
            return error_set(err, "out of memory");
        }
        d->kind = kind;
        d->id = id;
        d->factory = f;
        d->cfg = cfg;
        d->key = key;
        d->val = val;
        /* warnings name keys from the top of the file: "exporters.otlp/x.sending_queue..." */
        char wpath[512];
        snprintf(wpath, sizeof wpath, "%s.%s", section, id);
        struct warn_target wt = {.s = s, .fallback = key};
        struct config_warn_sink sink = {.warn = service_warn, .ctx = &wt, .path = wpath};
        if (config_bind_warn(f->fields ? f->fields : empty_fields, val, cfg, &sink, NULL, err) != 0)
            return -1;
        if (f->validate && f->validate(cfg, err) != 0) {
            char pos[512];
            error_prefix(err, "%s: %s '%s': ", where(validate_error_at(val, err->msg, key), pos,
                                                     sizeof pos),
                         component_kind_name(kind), id);
            return -1;
        }
        if (f->warn)
            f->warn(cfg, val, &sink);
    }
    return 0;
}

/* ---- loading: service ------------------------------------------------------------------------ */

static int load_metrics_endpoint(struct service *s, struct error *err);

/* A log output list that says what we do anyway: every path is stderr. */
static bool only_stderr(const struct config_str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], "stderr") != 0)
            return false;
    return true;
}

/* The telemetry keys whose effect depends on the value: the values we honour anyway (console
 * lines on stderr, without caller or stack trace; level none or normal) pass in silence, the
 * others are warned about. */
static void warn_telemetry(const struct tel_cfg *t, const struct cnode *tel,
                           const struct config_warn_sink *w)
{
    const struct cnode *k;
    if (t->logs.encoding == 0 && t->logs.initial_fields &&
        t->logs.initial_fields->kind != CNODE_NULL && (k = cnode_find_key(tel, "logs.initial_fields")))
        config_warnf(w, k, "logs.initial_fields", "has no effect with encoding console: only "
                                                  "JSON lines carry them");
    if (!t->logs.disable_caller && (k = cnode_find_key(tel, "logs.disable_caller")))
        config_warnf(w, k, "logs.disable_caller", "false has no effect: lines never name their "
                                                  "caller");
    if (!t->logs.disable_stacktrace && (k = cnode_find_key(tel, "logs.disable_stacktrace")))
        config_warnf(w, k, "logs.disable_stacktrace", "false has no effect: lines never carry a "
                                                      "stack trace");
    if (!only_stderr(&t->logs.output_paths) && (k = cnode_find_key(tel, "logs.output_paths")))
        config_warnf(w, k, "logs.output_paths", "has no effect: logs always go to stderr");
    if (!only_stderr(&t->logs.error_output_paths) &&
        (k = cnode_find_key(tel, "logs.error_output_paths")))
        config_warnf(w, k, "logs.error_output_paths", "has no effect: logs always go to stderr");
    /* only "none" changes what is served: there is one set of own metrics */
    if ((t->metrics.level == 1 || t->metrics.level == 3) &&
        (k = cnode_find_key(tel, "metrics.level")))
        config_warnf(w, k, "metrics.level", "%s has no effect: it serves the same metrics as "
                                            "normal (only none differs)",
                     tel_levels[t->metrics.level]);
    /* as in the Collector, readers replace the endpoint that address names */
    const struct cnode *rd = cnode_find_key(tel, "metrics.readers");
    if (t->metrics.level != 0 && rd && (k = cnode_find_key(tel, "metrics.address")))
        config_warnf(w, k, "metrics.address", "has no effect: metrics.readers are given and "
                                              "replace it");
}

/* ---- own telemetry: resource and JSON log fields ------------------------------------------- */

/* Sets (v != NULL) or removes a resource attribute; keys stay sorted, as an attribute set. */
static int resource_set(struct telemetry_resource *r, const char *k, const char *v)
{
    size_t i = 0;
    while (i < r->n && strcmp(r->keys[i], k) < 0)
        i++;
    bool found = i < r->n && strcmp(r->keys[i], k) == 0;
    if (found) {
        if (v) {
            char *nv = strdup(v);
            if (!nv)
                return -1;
            free(r->values[i]);
            r->values[i] = nv;
            return 0;
        }
        free(r->keys[i]);
        free(r->values[i]);
        memmove(r->keys + i, r->keys + i + 1, (r->n - i - 1) * sizeof *r->keys);
        memmove(r->values + i, r->values + i + 1, (r->n - i - 1) * sizeof *r->values);
        r->n--;
        return 0;
    }
    if (!v)
        return 0;
    char **nk = realloc(r->keys, (r->n + 1) * sizeof *nk);
    if (!nk)
        return -1;
    r->keys = nk;
    char **nv = realloc(r->values, (r->n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    r->values = nv;
    char *kk = strdup(k), *vv = strdup(v);
    if (!kk || !vv) {
        free(kk);
        free(vv);
        return -1;
    }
    memmove(r->keys + i + 1, r->keys + i, (r->n - i) * sizeof *r->keys);
    memmove(r->values + i + 1, r->values + i, (r->n - i) * sizeof *r->values);
    r->keys[i] = kk;
    r->values[i] = vv;
    r->n++;
    return 0;
}

static void resource_free(struct telemetry_resource *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->keys[i]);
        free(r->values[i]);
    }
    free(r->keys);
    free(r->values);
    memset(r, 0, sizeof *r);
}

/* service.instance.id: a random (version 4) UUID per process, as the Collector makes one. */
static void uuid4(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)((uint64_t)ts.tv_nsec >> (i % 8 * 8) ^ (uint64_t)getpid() >> i);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* Percent-decodes `s` in place as Go's url.PathUnescape does; -1 (s unchanged) on a bad escape. */
static int percent_decode(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '%' && (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
                            !isxdigit((unsigned char)s[i + 2])))
            return -1;
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r == '%') {
            char hex[3] = {r[1], r[2], '\0'};
            *w++ = (char)strtol(hex, NULL, 16);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return 0;
}

static char *trim_space(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The schema's attributes_list: "key=value,key=value" in the format of OTEL_RESOURCE_ATTRIBUTES
 * (W3C baggage without properties), read as the OpenTelemetry Go SDK reads that variable: split at
 * commas, key and value trimmed, the value percent-decoded (kept as written when that fails). An
 * entry without '=' is skipped with a warning, as the SDK reports it and keeps the others. */
static int load_attributes_list(struct telemetry_resource *r, const struct cnode *al,
                                const struct cnode *al_key, const struct config_warn_sink *w,
                                struct error *err)
{
    char *copy = strdup(al->value);
    if (!copy)
        return error_set(err, "out of memory");
    char *entry = copy;
    for (;;) {
        char *comma = strchr(entry, ',');
        if (comma)
            *comma = '\0';
        char *eq = strchr(entry, '=');
        if (!eq) {
            config_warnf(w, al_key, "resource.attributes_list",
                         "entry \"%s\" is not key=value: skipped (as the OpenTelemetry SDK "
                         "skips it)", entry);
        } else {
            *eq = '\0';
            char *key = trim_space(entry), *val = trim_space(eq + 1);
            char *raw = strdup(val);
            if (!raw) {
                free(copy);
                return error_set(err, "out of memory");
            }
            if (percent_decode(val) != 0)
                strcpy(val, raw);
            free(raw);
            if (resource_set(r, key, val)) {
                free(copy);
                return error_set(err, "out of memory");
            }
        }
        if (!comma)
            break;
        entry = comma + 1;
    }
    free(copy);
    return 0;
}

/* service.telemetry.resource: the Collector's inline map (`key: value`, a null value removes a
 * default), or the configuration schema's form: `attributes: [{name, value}]` and/or
 * `attributes_list` (either one alone is the schema's form too), with `schema_url` and
 * `detection/development` accepted. */
static int load_resource(struct service *s, const struct cnode *res,
                         const struct config_warn_sink *w, struct error *err)
{
    struct telemetry_resource *r = &s->resource;
    char id[37];
    uuid4(id);
    if (resource_set(r, "service.name", "llmotlp") || resource_set(r, "service.version", LLMOTLP_VERSION) ||
        resource_set(r, "service.instance.id", id))
        return error_set(err, "out of memory");
    if (!res || res->kind == CNODE_NULL)
        return 0;
    if (res->kind != CNODE_MAP)
        return err_at(err, res, "service.telemetry.resource: expected a map of attributes");
    const struct cnode *attrs = cnode_get(res, "attributes");
    const struct cnode *al = cnode_get(res, "attributes_list");
    if ((attrs && attrs->kind == CNODE_SEQ) || ((!attrs || attrs->kind == CNODE_NULL) && al && al->kind == CNODE_SCALAR)) {
        /* the schema's form */
        for (size_t k = 0; k < res->n; k++) {
            const char *kn = res->keys[k]->value;
            if (strcmp(kn, "attributes") == 0 || strcmp(kn, "attributes_list") == 0)
                continue;
            if (strcmp(kn, "schema_url") == 0)
                config_warnf(w, res->keys[k], "resource.schema_url",
                             "has no effect: own telemetry is sent without a schema URL");
            else if (strcmp(kn, "detection/development") == 0)
                config_warnf(w, res->keys[k], "resource.detection/development",
                             "has no effect: no resource detectors run; the resource is the "
                             "attributes given");
            else
                return err_at(err, res->keys[k], "service.telemetry.resource: unknown key '%s'; "
                                                 "known keys: attributes, attributes_list, "
                                                 "schema_url, detection/development", kn);
        }
        /* lower priority than attributes: applied first */
        if (al && al->kind != CNODE_SCALAR && al->kind != CNODE_NULL)
            return err_at(err, al, "service.telemetry.resource.attributes_list: expected "
                                   "\"key=value,key=value\"");
        if (al && al->kind == CNODE_SCALAR &&
            load_attributes_list(r, al, cnode_key(res, "attributes_list"), w, err) != 0)
            return -1;
        for (size_t i = 0; attrs && attrs->kind == CNODE_SEQ && i < attrs->n; i++) {
            const struct cnode *it = attrs->items[i];
            const struct cnode *name = cnode_get(it, "name"), *val = cnode_get(it, "value");
            if (it->kind != CNODE_MAP || !name || name->kind != CNODE_SCALAR ||
                (val && val->kind != CNODE_SCALAR && val->kind != CNODE_NULL))
                return err_at(err, it, "service.telemetry.resource.attributes[%zu]: expected "
                                       "{name: ..., value: ...} with a scalar value", i);
            if (resource_set(r, name->value, val && val->kind == CNODE_SCALAR ? val->value : NULL))
                return error_set(err, "out of memory");
        }
        return 0;
    }
    for (size_t k = 0; k < res->n; k++) {
        const struct cnode *v = res->items[k];
        if (v->kind != CNODE_SCALAR && v->kind != CNODE_NULL)
            return err_at(err, v, "service.telemetry.resource.%s: expected a string or null",
                          res->keys[k]->value);
        if (resource_set(r, res->keys[k]->value, v->kind == CNODE_SCALAR ? v->value : NULL))
            return error_set(err, "out of memory");
    }
    return 0;
}

static void json_string(FILE *f, const char *s)
{
    size_t n = strlen(s);
    char *buf = malloc(6 * n + 1);
    if (!buf)
        return;
    log_json_escape(buf, 6 * n + 1, s, n);
    fprintf(f, "\"%s\"", buf);
    free(buf);
}

static const struct cnode *sort_map;
static int by_key(const void *a, const void *b)
{
    return strcmp(sort_map->keys[*(const size_t *)a]->value, sort_map->keys[*(const size_t *)b]->value);
}

/* A YAML value as zap writes a field of that Go value: strings, numbers, booleans, null, and
 * maps with their keys sorted (encoding/json's order). */
static void json_value(FILE *f, const struct cnode *n)
{
    if (!n || n->kind == CNODE_NULL) {
        fputs("null", f);
    } else if (n->kind == CNODE_SCALAR) {
        const char *v = n->value;
        int64_t iv;
        char *end;
        if (n->quoted) {
            json_string(f, v);
        } else if (!v[0] || strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0) {
            fputs("null", f);
        } else if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0) {
            fputs("true", f);
        } else if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 ||
                   strcmp(v, "FALSE") == 0) {
            fputs("false", f);
        } else if (config_parse_int(v, &iv) == 0) {
            fprintf(f, "%lld", (long long)iv);
        } else {
            double d = strtod(v, &end);
            if (*end == '\0' && end != v && d == d && d - d == 0) {
                char num[64];
                for (int p = 1; p <= 17; p++) {
                    snprintf(num, sizeof num, "%.*g", p, d);
                    if (strtod(num, NULL) == d)
                        break;
                }
                fputs(num, f);
            } else {
                json_string(f, v);
            }
        }
    } else if (n->kind == CNODE_SEQ) {
        fputc('[', f);
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                fputc(',', f);
            json_value(f, n->items[i]);
        }
        fputc(']', f);
    } else {
        size_t *idx = malloc((n->n ? n->n : 1) * sizeof *idx);
        if (!idx)
            return;
        for (size_t i = 0; i < n->n; i++)
            idx[i] = i;
        sort_map = n;
        qsort(idx, n->n, sizeof *idx, by_key);
        fputc('{', f);
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                fputc(',', f);
            json_string(f, n->keys[idx[i]]->value);
            fputc(':', f);
            json_value(f, n->items[idx[i]]);
        }
        fputc('}', f);
        free(idx);
    }
}

/* logs.encoding json: the fields after "msg" — the initial fields (sorted by key, as zap sorts
 * them), then the resource (unless disable_zap_resource), as the Collector's logger adds it. */
static int apply_log_encoding(struct service *s, const struct cnode *tel, struct error *err)
{
    if (s->tcfg.logs.encoding != 1)
        return log_set_encoding(LOG_ENCODING_CONSOLE, NULL) == 0 ? 0 : error_set(err, "out of memory");
    const struct cnode *init = s->tcfg.logs.initial_fields;
    if (init && init->kind != CNODE_NULL && init->kind != CNODE_MAP)
        return err_at(err, init, "service.telemetry.logs.initial_fields: expected a map of "
                                 "fields");
    (void)tel;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return error_set(err, "out of memory");
    bool first = true;
    if (init && init->kind == CNODE_MAP && init->n) {
        /* "{...}" without its braces */
        char *obj = NULL;
        size_t olen = 0;
        FILE *o = open_memstream(&obj, &olen);
        if (o) {
            json_value(o, init);
            fclose(o);
            if (olen > 2)
                fwrite(obj + 1, 1, olen - 2, f);
            first = olen <= 2;
        }
        free(obj);
    }
    if (!s->tcfg.logs.disable_zap_resource && s->resource.n) {
        fprintf(f, "%s\"resource\":{", first ? "" : ",");
        for (size_t i = 0; i < s->resource.n; i++) {
            if (i)
                fputc(',', f);
            json_string(f, s->resource.keys[i]);
            fputc(':', f);
            json_string(f, s->resource.values[i]);
        }
        fputc('}', f);
    }
    fclose(f);
    int rc = log_set_encoding(LOG_ENCODING_JSON, buf);
    free(buf);
    return rc == 0 ? 0 : error_set(err, "out of memory");
}

static int load_telemetry(struct service *s, const struct cnode *tel, struct error *err)
{
    s->tcfg_bound = true;
    struct warn_target wt = {.s = s, .fallback = tel};
    struct config_warn_sink sink = {.warn = service_warn, .ctx = &wt, .path = "service.telemetry"};
    if (config_bind_warn(tel_fields, tel, &s->tcfg, &sink, NULL, err) != 0)
        return -1;
    int lvl = log_level_parse(s->tcfg.logs.level ? s->tcfg.logs.level : "info");
    if (lvl < 0) {
        const struct cnode *n = cnode_get(cnode_get(tel, "logs"), "level");
        return err_at(err, n, "service.telemetry.logs.level: unknown level '%s'; expected debug, "
                              "info, warn or error", s->tcfg.logs.level);
    }
    log_set_level((enum log_level)lvl);
    warn_telemetry(&s->tcfg, tel, &sink);
    if (load_resource(s, s->tcfg.resource, &sink, err) != 0 ||
        apply_log_encoding(s, tel, err) != 0 || load_metrics_endpoint(s, err) != 0)
        return -1;
    const struct cnode *k = cnode_find_key(tel, "resource");
    if (k && s->tcfg.resource && s->tcfg.resource->kind != CNODE_NULL &&
        s->tcfg.logs.encoding != 1 && s->readers.n == 0)
        config_warnf(&sink, k, "resource", "has no effect: only periodic readers and JSON log "
                                           "lines carry it (the Prometheus endpoint serves own "
                                           "metrics without it)");
    return 0;
}

/* The pull reader's naming options of the OpenTelemetry configuration schema. The endpoint
 * serves own metrics as the Collector's default reader does (without_units, without_type_suffix,
 * without_scope_info true, with_resource_constant_labels.included empty): names without unit or
 * _total suffixes, no otel_scope_* labels or otel_scope_info, no resource labels. So those values
 * are quiet, and the others are warned at their key with what is served instead. */
static int prometheus_reader_keys(struct service *s, const struct cnode *prom, size_t idx,
                                  struct error *err)
{
    static const struct {
        const char *key, *instead;
    } flags[] = {
        {"without_units", "own metric names never carry a unit suffix "
                          "(otelcol_process_uptime, not otelcol_process_uptime_seconds)"},
        {"without_type_suffix", "counters are served without the _total suffix"},
        {"without_scope_info", "no otel_scope_info metric and no otel_scope_* labels are "
                               "served"},
    };
    char base[128];
    snprintf(base, sizeof base, "service.telemetry.metrics.readers[%zu].pull.exporter.prometheus",
             idx);
    for (size_t k = 0; prom->kind == CNODE_MAP && k < prom->n; k++) {
        const struct cnode *key = prom->keys[k], *v = prom->items[k];
        const char *kn = key->value ? key->value : "";
        if (strcmp(kn, "host") == 0 || strcmp(kn, "port") == 0)
            continue;
        size_t f = 0;
        while (f < sizeof flags / sizeof flags[0] && strcmp(kn, flags[f].key) != 0)
            f++;
        if (f < sizeof flags / sizeof flags[0]) {
            bool b = false;
            if (v->kind == CNODE_NULL)
                continue; /* a null pointer in the schema: the reader's default */
            if (v->kind != CNODE_SCALAR || config_parse_bool(v->value, &b) != 0)
                return err_at(err, v, "%s.%s: expected true or false", base, kn);
            if (!b)
                add_warning(s, key, "%s.%s: false has no effect: %s (as with true, the "
                                    "Collector's default reader)", base, kn, flags[f].instead);
            continue;
        }
        if (strcmp(kn, "with_resource_constant_labels") == 0) {
            /* no labels unless keys are included; excluded alone would label with all others */
            const struct cnode *inc = cnode_get(v, "included");
            bool none = v->kind == CNODE_NULL ||
                        (v->kind == CNODE_MAP && !cnode_get(v, "excluded") &&
                         (!inc || inc->kind == CNODE_NULL ||
                          (inc->kind == CNODE_SEQ && inc->n == 0) ||
                          (inc->kind == CNODE_SCALAR && !*inc->value)));
            if (!none)
                add_warning(s, key, "%s.%s: has no effect: resource attributes are not added as "
                                    "labels to own metrics (as with included: [], the "
                                    "Collector's default reader)", base, kn);
            continue;
        }
        add_warning(s, key, "%s.%s: has no effect: not an option of the prometheus pull "
                            "exporter that llmotlp knows (host, port, without_units, "
                            "without_type_suffix, without_scope_info, "
                            "with_resource_constant_labels)", base, kn);
    }
    return 0;
}

/* The Prometheus endpoint of service.telemetry.metrics: none at level none; else the first
 * `readers: [{pull: {exporter: {prometheus: {host, port}}}}]` (the newer form; host defaults to
 * localhost and port to 9464, as in the OpenTelemetry config schema); else `address`, whose
 * default is localhost:8888. Readers given without a pull/prometheus one mean no endpoint, as in
 * the Collector, where readers replace the default one. */
static int load_metrics_endpoint(struct service *s, struct error *err)
{
    const struct tel_metrics *m = &s->tcfg.metrics;
    if (m->level == 0)
        return 0;
    const struct cnode *rd = m->readers;
    if (rd && rd->kind != CNODE_NULL) {
        if (rd->kind != CNODE_SEQ)
            return err_at(err, rd, "service.telemetry.metrics.readers must be a list of readers "
                                   "(- pull: ... or - periodic: ...)");
        for (size_t i = 0; i < rd->n; i++) {
            const struct cnode *it = rd->items[i];
            if (it->kind != CNODE_MAP)
                return err_at(err, it, "service.telemetry.metrics.readers: expected a map with "
                                       "'pull' or 'periodic'");
            const struct cnode *pull = cnode_get(it, "pull");
            const struct cnode *periodic = cnode_get(it, "periodic");
            if (pull && periodic)
                return err_at(err, it, "service.telemetry.metrics.readers[%zu]: must not specify "
                                       "multiple metric reader types", i);
            if (periodic) {
                char where_r[96];
                snprintf(where_r, sizeof where_r, "service.telemetry.metrics.readers[%zu].periodic",
                         i);
                struct warn_target wt = {.s = s, .fallback = it};
                struct config_warn_sink sink = {.warn = service_warn, .ctx = &wt};
                struct telemetry_reader *r = NULL;
                if (telemetry_reader_load(periodic, where_r, &sink, &r, err) != 0)
                    return -1;
                if (r && ptrvec_push(&s->readers, r) != 0) {
                    telemetry_reader_free(r);
                    return error_set(err, "out of memory");
                }
                continue;
            }
            const struct cnode *prom = cnode_get(cnode_get(pull, "exporter"), "prometheus");
            if (!prom) {
                add_warning(s, it, "service.telemetry.metrics.readers: only periodic readers and "
                                   "pull readers with a prometheus exporter are supported; this "
                                   "reader is ignored");
                continue;
            }
            if (s->metrics_endpoint) {
                add_warning(s, it, "service.telemetry.metrics.readers: only the first prometheus "
                                   "reader is served; this one is ignored");
                continue;
            }
            if (prom->kind != CNODE_MAP && prom->kind != CNODE_NULL)
                return err_at(err, prom, "prometheus reader: expected a map with host and port");
            if (prometheus_reader_keys(s, prom, i, err) != 0)
                return -1;
            const struct cnode *host = cnode_get(prom, "host"), *port = cnode_get(prom, "port");
            if (host && host->kind != CNODE_SCALAR)
                return err_at(err, host, "prometheus reader: host must be a string");
            int64_t p = 9464;
            if (port && (port->kind != CNODE_SCALAR || config_parse_int(port->value, &p) != 0 ||
                         p < 0 || p > 65535))
                return err_at(err, port, "prometheus reader: port must be a number from 0 to "
                                         "65535");
            if (asprintf(&s->metrics_endpoint, "%s:%lld", host ? host->value : "localhost",
                         (long long)p) < 0) {
                s->metrics_endpoint = NULL;
                return error_set(err, "out of memory");
            }
        }
        return 0;
    }
    s->metrics_endpoint = strdup(m->address ? m->address : DEFAULT_METRICS_ADDRESS);
    return s->metrics_endpoint ? 0 : error_set(err, "out of memory");
}

static int load_service_extensions(struct service *s, const struct cnode *list, struct error *err)
{
    if (!list || list->kind == CNODE_NULL)
        return 0;
    if (list->kind != CNODE_SEQ)
        return err_at(err, list, "service.extensions must be a list of extension IDs");
    for (size_t i = 0; i < list->n; i++) {
        const struct cnode *it = list->items[i];
        if (it->kind != CNODE_SCALAR)
            return err_at(err, it, "service.extensions: expected an extension ID");
        struct error e;
        error_clear(&e);
        char *id = id_normalize(it->value, &e);
        if (!id)
            return err_at(err, it, "service.extensions: %s", e.msg);
        struct comp_def *d = find_def(s, COMPONENT_EXTENSION, id);
        if (!d) {
            err_at(err, it, "service.extensions: extension '%s' is not defined in 'extensions'",
                   id);
            free(id);
            return -1;
        }
        free(id);
        for (size_t j = 0; j < s->ext_enabled.n; j++)
            if (s->ext_enabled.v[j] == d)
                return err_at(err, it, "service.extensions lists '%s' twice", d->id);
        d->used = true;
        if (ptrvec_push(&s->ext_enabled, d) != 0)
            return error_set(err, "out of memory");
    }
    return 0;
}

/* Resolves one list item of a pipeline to a definition, checking that it exists in the sections
 * where that role looks and that it supports the pipeline's signal. */
static int resolve_ref(struct service *s, struct pipeline *p, enum list_role role,
                       const struct cnode *it, struct comp_def **out, struct error *err)
{
    static const char *const role_names[ROLE_COUNT] = {"receiver", "processor", "exporter"};
    if (it->kind != CNODE_SCALAR)
        return err_at(err, it, "pipeline '%s': expected a %s ID", p->id, role_names[role]);
    struct error e;
    error_clear(&e);
    char *id = id_normalize(it->value, &e);
    if (!id)
        return err_at(err, it, "pipeline '%s': %s", p->id, e.msg);
    struct comp_def *d = NULL;
    const char *looked;
    switch (role) {
    case ROLE_RECEIVERS:
        d = find_def(s, COMPONENT_RECEIVER, id);
        if (!d)
            d = find_def(s, COMPONENT_CONNECTOR, id);
        looked = "'receivers' and 'connectors'";
        break;
    case ROLE_PROCESSORS:
        d = find_def(s, COMPONENT_PROCESSOR, id);
        looked = "'processors'";
        break;
    default:
        d = find_def(s, COMPONENT_EXPORTER, id);
        if (!d)
            d = find_def(s, COMPONENT_CONNECTOR, id);
        looked = "'exporters' and 'connectors'";
        break;
    }
    if (!d) {
        err_at(err, it, "pipeline '%s' references %s '%s', which is not defined (looked in %s)",
               p->id, role_names[role], id, looked);
        free(id);
        return -1;
    }
    free(id);
    char sigs[64];
    const struct component_factory *f = d->factory;
    if (d->kind == COMPONENT_CONNECTOR) {
        if (role == ROLE_EXPORTERS && !(f->signals & bit(p->sig)))
            return err_at(err, it, "pipeline '%s': connector '%s' cannot take %s as input "
                                   "(accepts: %s)", p->id, d->id, signal_name(p->sig),
                          signals_list(f->signals, sigs, sizeof sigs));
        if (role == ROLE_RECEIVERS && !(f->out_signals & bit(p->sig)))
            return err_at(err, it, "pipeline '%s': connector '%s' cannot emit %s (emits: %s)",
                          p->id, d->id, signal_name(p->sig),
                          signals_list(f->out_signals, sigs, sizeof sigs));
    } else if (!(f->signals & bit(p->sig))) {
        return err_at(err, it, "pipeline '%s': %s '%s' does not support %s (supports: %s)", p->id,
                      component_kind_name(d->kind), d->id, signal_name(p->sig),
                      signals_list(f->signals, sigs, sizeof sigs));
    }
    if (f->signal_check) {
        struct error why = {0};
        if (f->signal_check(d->cfg, p->sig, &why) != 0)
            return err_at(err, it, "pipeline '%s': %s '%s' cannot serve %s: %s", p->id,
                          component_kind_name(d->kind), d->id, signal_name(p->sig), why.msg);
    }
    *out = d;
    return 0;
}

static int load_pipeline(struct service *s, struct pipeline *p, const struct cnode *key,
                         const struct cnode *val, struct error *err)
{
    p->key = key;
    const char *raw = key->value ? key->value : "";
    struct error e;
    error_clear(&e);
    char *id = id_normalize(raw, &e);
    if (!id)
        return err_at(err, key, "service.pipelines: %s", e.msg);
    p->id = id;
    char sig[128];
    id_type(id, sig, sizeof sig);
    if (strcmp(sig, "profiles") == 0)
        return err_at(err, key, "pipeline '%s': the profiles signal is not supported "
                                "(supported: traces, metrics, logs)", id);
    int si = signal_parse(sig);
    if (si < 0)
        return err_at(err, key, "pipeline '%s': unknown signal '%s'; known signals: traces, "
                                "metrics, logs", id, sig);
    p->sig = (enum signal)si;
    for (size_t i = 0; i < (size_t)(p - s->pipes); i++)
        if (strcmp(s->pipes[i].id, id) == 0)
            return err_at(err, key, "duplicate pipeline ID '%s'", id);

    if (val && val->kind != CNODE_NULL && val->kind != CNODE_MAP)
        return err_at(err, val, "pipeline '%s' must be a map with receivers, processors and "
                                "exporters", id);
    for (size_t k = 0; val && val->kind == CNODE_MAP && k < val->n; k++) {
        const char *kname = val->keys[k]->value ? val->keys[k]->value : "";
        int role = -1;
        for (int r = 0; r < ROLE_COUNT; r++)
            if (strcmp(kname, role_keys[r]) == 0)
                role = r;
        if (role < 0)
            return err_at(err, val->keys[k], "pipeline '%s': unknown key '%s'; known keys: "
                                             "receivers, processors, exporters", id, kname);
        const struct cnode *list = val->items[k];
        if (!list || list->kind == CNODE_NULL)
            continue;
        if (list->kind != CNODE_SEQ)
            return err_at(err, list, "pipeline '%s': '%s' must be a list of component IDs", id,
                          kname);
        p->refs[role] = calloc(list->n ? list->n : 1, sizeof *p->refs[role]);
        p->items[role] = calloc(list->n ? list->n : 1, sizeof *p->items[role]);
        if (!p->refs[role] || !p->items[role])
            return error_set(err, "out of memory");
        for (size_t i = 0; i < list->n; i++) {
            struct comp_def *d = NULL;
            if (resolve_ref(s, p, (enum list_role)role, list->items[i], &d, err) != 0)
                return -1;
            for (size_t j = 0; j < p->n[role]; j++)
                if (p->refs[role][j] == d)
                    return err_at(err, list->items[i], "pipeline '%s' lists %s '%s' twice", id,
                                  role == ROLE_RECEIVERS    ? "receiver"
                                  : role == ROLE_PROCESSORS ? "processor"
                                                            : "exporter",
                                  d->id);
            p->refs[role][p->n[role]] = d;
            p->items[role][p->n[role]] = list->items[i];
            p->n[role]++;
            d->used = true;
        }
    }
    if (p->n[ROLE_RECEIVERS] == 0)
        return err_at(err, key, "pipeline '%s' must have at least one receiver", id);
    if (p->n[ROLE_EXPORTERS] == 0)
        return err_at(err, key, "pipeline '%s' must have at least one exporter", id);
    return 0;
}

static bool pipe_lists(const struct pipeline *p, enum list_role role, const struct comp_def *d,
                       size_t *at)
{
    for (size_t i = 0; i < p->n[role]; i++)
        if (p->refs[role][i] == d) {
            if (at)
                *at = i;
            return true;
        }
    return false;
}

/* Each connector must link a pipeline where it exports to one where it receives, with a
 * signal pair its factory supports, in both directions (as the Collector checks). */
static int check_connectors(struct service *s, struct error *err)
{
    for (size_t pi = 0; pi < s->n_pipes; pi++) {
        struct pipeline *p = &s->pipes[pi];
        for (size_t i = 0; i < p->n[ROLE_EXPORTERS]; i++) {
            struct comp_def *c = p->refs[ROLE_EXPORTERS][i];
            if (c->kind != COMPONENT_CONNECTOR)
                continue;
            unsigned outs = connector_routes(c->factory, p->sig);
            bool fed = false;
            for (size_t q = 0; q < s->n_pipes && !fed; q++)
                fed = (outs & bit(s->pipes[q].sig)) && pipe_lists(&s->pipes[q], ROLE_RECEIVERS, c,
                                                                   NULL);
            if (!fed) {
                char sigs[64];
                return err_at(err, p->items[ROLE_EXPORTERS][i],
                              "connector '%s' is used as exporter in pipeline '%s' but no "
                              "pipeline it can feed (%s) lists it as a receiver", c->id, p->id,
                              signals_list(outs, sigs, sizeof sigs));
            }
        }
        for (size_t i = 0; i < p->n[ROLE_RECEIVERS]; i++) {
            struct comp_def *c = p->refs[ROLE_RECEIVERS][i];
            if (c->kind != COMPONENT_CONNECTOR)
                continue;
            bool fed = false;
            for (size_t q = 0; q < s->n_pipes && !fed; q++)
                fed = (connector_routes(c->factory, s->pipes[q].sig) & bit(p->sig)) &&
                      pipe_lists(&s->pipes[q], ROLE_EXPORTERS, c, NULL);
            if (!fed)
                return err_at(err, p->items[ROLE_RECEIVERS][i],
                              "connector '%s' is used as receiver in pipeline '%s' but not as "
                              "exporter in any pipeline whose data it can turn into %s", c->id,
                              p->id, signal_name(p->sig));
        }
    }
    return 0;
}

/* Does pipeline p feed pipeline q through connector c? */
static bool feeds(const struct pipeline *p, const struct comp_def *c, const struct pipeline *q)
{
    return (connector_routes(c->factory, p->sig) & bit(q->sig)) &&
           pipe_lists(q, ROLE_RECEIVERS, c, NULL);
}

enum { VISIT_NEW, VISIT_OPEN, VISIT_DONE };

/* Depth-first over "p feeds q": appends pipelines to s->order after all they feed. The path of
 * open pipelines (stack) names the cycle if one is met. */
static int order_visit(struct service *s, size_t pi, int *state, size_t *stack, size_t depth,
                       size_t *n_order, struct error *err)
{
    struct pipeline *p = &s->pipes[pi];
    state[pi] = VISIT_OPEN;
    stack[depth] = pi;
    for (size_t i = 0; i < p->n[ROLE_EXPORTERS]; i++) {
        struct comp_def *c = p->refs[ROLE_EXPORTERS][i];
        if (c->kind != COMPONENT_CONNECTOR)
            continue;
        for (size_t qi = 0; qi < s->n_pipes; qi++) {
            if (!feeds(p, c, &s->pipes[qi]))
                continue;
            if (state[qi] == VISIT_OPEN) {
                char path[768];
                size_t n = 0, from = 0;
                while (stack[from] != qi)
                    from++;
                path[0] = '\0';
                for (size_t k = from; k <= depth; k++) {
                    const struct pipeline *a = &s->pipes[stack[k]];
                    /* the connector that leads from a to the next pipeline on the path */
                    const struct pipeline *b = k < depth ? &s->pipes[stack[k + 1]] : &s->pipes[qi];
                    const char *via = "?";
                    for (size_t j = 0; j < a->n[ROLE_EXPORTERS]; j++) {
                        const struct comp_def *cc = a->refs[ROLE_EXPORTERS][j];
                        if (cc->kind == COMPONENT_CONNECTOR && feeds(a, cc, b)) {
                            via = cc->id;
                            break;
                        }
                    }
                    appendf(path, sizeof path, &n, "%s -> %s -> ", a->id, via);
                }
                appendf(path, sizeof path, &n, "%s", s->pipes[qi].id);
                return err_at(err, p->items[ROLE_EXPORTERS][i],
                              "cycle in the pipeline graph: %s", path);
            }
            if (state[qi] == VISIT_NEW &&
                order_visit(s, qi, state, stack, depth + 1, n_order, err) != 0)
                return -1;
        }
    }
    state[pi] = VISIT_DONE;
    s->order[(*n_order)++] = pi;
    return 0;
}

static int order_pipelines(struct service *s, struct error *err)
{
    s->order = calloc(s->n_pipes, sizeof *s->order);
    int *state = calloc(s->n_pipes, sizeof *state);
    size_t *stack = calloc(s->n_pipes, sizeof *stack);
    int rc = 0;
    if (!s->order || !state || !stack) {
        rc = error_set(err, "out of memory");
        goto done;
    }
    size_t n_order = 0;
    for (size_t i = 0; i < s->n_pipes && rc == 0; i++)
        if (state[i] == VISIT_NEW)
            rc = order_visit(s, i, state, stack, 0, &n_order, err);
done:
    free(state);
    free(stack);
    return rc;
}

static int load_pipelines(struct service *s, const struct cnode *pl, struct error *err,
                          const struct cnode *svc)
{
    if (!pl || pl->kind == CNODE_NULL || (pl->kind == CNODE_MAP && pl->n == 0))
        return err_at(err, pl ? pl : svc, "service must have at least one pipeline "
                                          "(service.pipelines)");
    if (pl->kind != CNODE_MAP)
        return err_at(err, pl, "service.pipelines must be a map of pipeline IDs "
                               "(traces|metrics|logs[/name]) to pipelines");
    s->pipes = calloc(pl->n, sizeof *s->pipes);
    if (!s->pipes)
        return error_set(err, "out of memory");
    for (size_t i = 0; i < pl->n; i++) {
        s->n_pipes = i + 1;
        if (load_pipeline(s, &s->pipes[i], pl->keys[i], pl->items[i], err) != 0)
            return -1;
    }
    if (check_connectors(s, err) != 0)
        return -1;
    return order_pipelines(s, err);
}

/* A string where the Collector expects a list of component IDs is split at commas (its decoder's
 * string-to-slice rule; each ID is trimmed when parsed): `receivers: otlp, otlp/2` is a list of
 * two. The tree is the service's own, so the scalar is replaced by a sequence in place; each part
 * keeps the string's line and, for a plain one-line scalar, its own column. */
static void split_id_string(struct cnode *parent, size_t k)
{
    struct cnode *str = parent->items[k];
    if (!str || str->kind != CNODE_SCALAR)
        return;
    struct cnode *seq = cnode_new_at(CNODE_SEQ, str, 0, NULL);
    const char *v = str->value ? str->value : "";
    for (const char *start = v; *v;) {
        const char *comma = strchr(start, ',');
        size_t len = comma ? (size_t)(comma - start) : strlen(start);
        char *part = strndup(start, len);
        int off = str->quoted ? 0 : (int)(start - v);
        if (part)
            cnode_append(seq, NULL, cnode_new_at(CNODE_SCALAR, str, off, part));
        free(part);
        if (!comma)
            break;
        start = comma + 1;
    }
    parent->items[k] = seq;
    cnode_free(str);
}

static void split_id_strings(struct cnode *svc)
{
    for (size_t i = 0; svc && svc->kind == CNODE_MAP && i < svc->n; i++) {
        const char *k = svc->keys[i]->value ? svc->keys[i]->value : "";
        if (strcmp(k, "extensions") == 0)
            split_id_string(svc, i);
        struct cnode *pl = svc->items[i];
        if (strcmp(k, "pipelines") != 0 || !pl || pl->kind != CNODE_MAP)
            continue;
        for (size_t p = 0; p < pl->n; p++) {
            struct cnode *roles = pl->items[p];
            for (size_t r = 0; roles && roles->kind == CNODE_MAP && r < roles->n; r++)
                split_id_string(roles, r);
        }
    }
}

static int load_service(struct service *s, const struct cnode *svc, struct error *err)
{
    if (!svc || svc->kind == CNODE_NULL)
        return err_at(err, s->root, "missing 'service' section (service.pipelines is required)");
    if (svc->kind != CNODE_MAP)
        return err_at(err, svc, "'service' must be a map");
    for (size_t i = 0; i < svc->n; i++) {
        const char *k = svc->keys[i]->value ? svc->keys[i]->value : "";
        if (strcmp(k, "extensions") && strcmp(k, "pipelines") && strcmp(k, "telemetry"))
            return err_at(err, svc->keys[i], "unknown key 'service.%s'; known keys: extensions, "
                                             "pipelines, telemetry", k);
    }
    split_id_strings(cnode_get(s->root, "service"));
    if (load_telemetry(s, cnode_get(svc, "telemetry"), err) != 0)
        return -1;
    if (load_service_extensions(s, cnode_get(svc, "extensions"), err) != 0)
        return -1;
    return load_pipelines(s, cnode_get(svc, "pipelines"), err, svc);
}

/* The sending_queue section of a component's config, found through its field table (the
 * section bound by queue_config_fields); NULL when it has none. */
static const struct config_field *queue_field(const struct component_factory *f)
{
    for (const struct config_field *fl = f->fields; fl && fl->name; fl++)
        if ((fl->type == CFG_SECTION || fl->type == CFG_PRESENCE) && fl->sub == queue_config_fields)
            return fl;
    return NULL;
}

static struct queue_config *queue_of(struct comp_def *d)
{
    const struct config_field *qf = queue_field(d->factory);
    return qf ? (struct queue_config *)((char *)d->cfg + qf->offset) : NULL;
}

/* Each exporter in a pipeline whose sending_queue.storage is set must name a file_storage
 * extension that service.extensions lists, as the Collector requires; errors point at the
 * `storage` key. */
static int check_storage_refs(struct service *s, struct error *err)
{
    for (size_t i = 0; i < s->defs.n; i++) {
        struct comp_def *d = s->defs.v[i];
        if (d->kind != COMPONENT_EXPORTER || !d->used)
            continue;
        struct queue_config *q = queue_of(d);
        if (!q || !q->storage)
            continue;
        const struct config_field *qf = queue_field(d->factory);
        const struct cnode *qmap = cnode_get(d->val, qf->name), *at = d->key;
        for (size_t k = 0; qmap && qmap->kind == CNODE_MAP && k < qmap->n; k++)
            if (qmap->keys[k]->value && strcmp(qmap->keys[k]->value, "storage") == 0)
                at = qmap->keys[k];
        struct error e;
        error_clear(&e);
        char *id = id_normalize(q->storage, &e);
        if (!id)
            return err_at(err, at, "exporter '%s': %s.storage: %s", d->id, qf->name, e.msg);
        struct comp_def *x = find_def(s, COMPONENT_EXTENSION, id);
        int rc = 0;
        if (!x)
            rc = err_at(err, at, "exporter '%s': %s.storage: extension '%s' is not defined in "
                                 "'extensions'; expected the ID of a file_storage extension "
                                 "listed in service.extensions", d->id, qf->name, id);
        else if (strcmp(x->factory->type, "file_storage") != 0)
            rc = err_at(err, at, "exporter '%s': %s.storage: extension '%s' is a %s extension; "
                                 "expected a file_storage extension", d->id, qf->name, id,
                        x->factory->type);
        else if (!x->used)
            rc = err_at(err, at, "exporter '%s': %s.storage: extension '%s' is not listed in "
                                 "service.extensions; expected a file_storage extension listed "
                                 "there", d->id, qf->name, id);
        free(id);
        if (rc != 0)
            return -1;
        d->storage = x;
    }
    return 0;
}

/* One `auth:` section of a receiver (server side) or an exporter (client side): its
 * authenticator must name an extension that is defined, listed in service.extensions, and able to
 * serve that side, as the Collector checks at start; errors point at the `authenticator` key. */
static int resolve_auth(struct comp_def *d, struct service *s, struct auth_config *a,
                        const struct cnode *node, const struct cnode *key, const char *path,
                        struct error *err)
{
    const struct cnode *at = cnode_key(node, "authenticator");
    if (!at)
        at = key ? key : d->key;
    const char *kind = component_kind_name(d->kind);
    if (!a->authenticator || !a->authenticator[0])
        return err_at(err, at, "%s '%s': %s.authenticator: must name an authenticator extension "
                               "(bearertokenauth, basicauth) listed in service.extensions", kind,
                      d->id, path);
    struct error e;
    error_clear(&e);
    char *id = id_normalize(a->authenticator, &e);
    if (!id)
        return err_at(err, at, "%s '%s': %s.authenticator: %s", kind, d->id, path, e.msg);
    bool server = d->kind == COMPONENT_RECEIVER;
    const char *iface = server ? AUTH_SERVER_INTERFACE : AUTH_CLIENT_INTERFACE;
    struct comp_def *x = find_def(s, COMPONENT_EXTENSION, id);
    int rc = 0;
    if (!x)
        rc = err_at(err, at, "%s '%s': %s.authenticator: extension '%s' is not defined in "
                             "'extensions'; expected the ID of an authenticator extension "
                             "(bearertokenauth, basicauth) listed in service.extensions", kind,
                    d->id, path, id);
    else if (!x->factory->provides)
        rc = err_at(err, at, "%s '%s': %s.authenticator: extension '%s' is a %s extension, not "
                             "an authenticator (bearertokenauth, basicauth)", kind, d->id, path,
                    id, x->factory->type);
    else if (!x->factory->provides(x->cfg, iface))
        rc = err_at(err, at, "%s '%s': %s.authenticator: extension '%s' cannot authenticate %s "
                             "(%s)", kind, d->id, path, id,
                    server ? "incoming requests" : "outgoing requests",
                    strcmp(x->factory->type, "basicauth") == 0
                        ? (server ? "a basicauth for receivers needs htpasswd"
                                  : "a basicauth for exporters needs client_auth")
                        : "it is not a server authenticator");
    else if (!x->used)
        rc = err_at(err, at, "%s '%s': %s.authenticator: extension '%s' is not listed in "
                             "service.extensions; list it there", kind, d->id, path, id);
    free(id);
    if (rc != 0)
        return -1;
    struct auth_ref *v = realloc(d->auth, (d->n_auth + 1) * sizeof *v);
    if (!v)
        return error_set(err, "out of memory");
    d->auth = v;
    d->auth[d->n_auth++] = (struct auth_ref){.cfg = a, .ext = x};
    return 0;
}

/* Finds the `auth:` sections of a component's config by their field tables (core/auth.h's),
 * wherever they nest (protocols.grpc.auth, auth), skipping sections that are absent. */
static int walk_auth(struct service *s, struct comp_def *d, const struct config_field *fields,
                     void *base, const struct cnode *node, const char *path, struct error *err)
{
    for (const struct config_field *f = fields; f && f->name; f++) {
        if ((f->type != CFG_SECTION && f->type != CFG_PRESENCE) || !f->sub)
            continue;
        if (f->type == CFG_PRESENCE && !*(bool *)((char *)base + f->present_offset))
            continue;
        char sub[256];
        snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", f->name);
        void *sub_base = (char *)base + f->offset;
        const struct cnode *sub_node = cnode_get(node, f->name);
        int rc;
        if (f->sub == auth_config_fields || f->sub == auth_http_server_config_fields) {
            if (f->type == CFG_SECTION && !sub_node)
                continue; /* an optional section left out: no authentication */
            rc = resolve_auth(d, s, sub_base, sub_node, cnode_key(node, f->name), sub, err);
        } else {
            rc = walk_auth(s, d, f->sub, sub_base, sub_node, sub, err);
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int check_auth_refs(struct service *s, struct error *err)
{
    for (size_t i = 0; i < s->defs.n; i++) {
        struct comp_def *d = s->defs.v[i];
        if ((d->kind != COMPONENT_RECEIVER && d->kind != COMPONENT_EXPORTER) || !d->used)
            continue;
        if (walk_auth(s, d, d->factory->fields, d->cfg, d->val, "", err) != 0)
            return -1;
    }
    return 0;
}

/* The key node of `sending_queue.<key>` in an exporter's settings, for positions. */
static const struct cnode *queue_key(const struct comp_def *d, const char *key)
{
    const struct config_field *qf = queue_field(d->factory);
    const struct cnode *k = qf ? cnode_key(cnode_get(d->val, qf->name), key) : NULL;
    return k ? k : d->key;
}

/* An exporter whose queue is on disk: what it answered OK for survives kill -9. */
static bool queue_persistent(struct comp_def *d)
{
    struct queue_config *q = d->kind == COMPONENT_EXPORTER ? queue_of(d) : NULL;
    return q && q->enabled && q->storage && d->storage;
}

/* Settings of the sending queue that act only together: storage and batch need the queue (with
 * enabled: false the helper sends from the caller's thread, keeps nothing on disk and merges
 * nothing). Checked
 * here because every exporter embeds the same queue_config and the service finds it through the
 * field table, as it does for storage itself. */
static void warn_queues(struct service *s)
{
    for (size_t i = 0; i < s->defs.n; i++) {
        struct comp_def *d = s->defs.v[i];
        struct queue_config *q = d->kind == COMPONENT_EXPORTER && d->used ? queue_of(d) : NULL;
        if (!q || q->enabled)
            continue;
        const char *qn = queue_field(d->factory)->name;
        if (q->storage)
            add_warning(s, queue_key(d, "storage"), "exporters.%s.%s.storage: has no effect "
                        "while %s.enabled is false: batches are sent from the caller's thread "
                        "and nothing is kept on disk", d->id, qn, qn);
        if (q->batch_enabled)
            add_warning(s, queue_key(d, "batch"), "exporters.%s.%s.batch: has no effect while "
                        "%s.enabled is false: each batch is sent from the caller's thread as it "
                        "comes", d->id, qn, qn);
    }
}

/* Exporters with a persistent queue reached from pipeline `pi`: its own, and through connectors
 * those of the pipelines they feed. found[] is indexed like s->defs; via[] names the first
 * connector on the way (NULL = direct). seen[] keeps each pipeline visited once (the graph is
 * acyclic, checked by order_pipelines, but may be a diamond). */
static void persistent_reach(struct service *s, size_t pi, bool *seen, bool *found,
                             struct comp_def **via, struct comp_def *through)
{
    if (seen[pi])
        return;
    seen[pi] = true;
    const struct pipeline *p = &s->pipes[pi];
    for (size_t i = 0; i < p->n[ROLE_EXPORTERS]; i++) {
        struct comp_def *d = p->refs[ROLE_EXPORTERS][i];
        if (d->kind == COMPONENT_CONNECTOR) {
            unsigned outs = connector_routes(d->factory, p->sig);
            for (size_t q = 0; q < s->n_pipes; q++)
                if ((outs & bit(s->pipes[q].sig)) && pipe_lists(&s->pipes[q], ROLE_RECEIVERS, d,
                                                                 NULL))
                    persistent_reach(s, q, seen, found, via, through ? through : d);
            continue;
        }
        if (!queue_persistent(d))
            continue;
        for (size_t k = 0; k < s->defs.n; k++)
            if (s->defs.v[k] == d && !found[k]) {
                found[k] = true;
                via[k] = through;
            }
    }
}

/* "OK is a promise": with a persistent queue the receiver's OK means "on disk", but a batch
 * processor in front of the exporter answers OK when the data is in its buffer, which kill -9
 * loses. The Collector's answer is to batch after the durable write (sending_queue.batch), so
 * each batch entry of a pipeline that reaches such an exporter is warned about, at the entry. */
static int warn_batch_before_persistent(struct service *s)
{
    bool *seen = calloc(s->n_pipes ? s->n_pipes : 1, sizeof *seen);
    bool *found = calloc(s->defs.n ? s->defs.n : 1, sizeof *found);
    struct comp_def **via = calloc(s->defs.n ? s->defs.n : 1, sizeof *via);
    int rc = 0;
    if (!seen || !found || !via) {
        rc = -1;
        goto done;
    }
    for (size_t pi = 0; pi < s->n_pipes; pi++) {
        const struct pipeline *p = &s->pipes[pi];
        bool any_batch = false;
        for (size_t j = 0; j < p->n[ROLE_PROCESSORS]; j++)
            any_batch |= strcmp(p->refs[ROLE_PROCESSORS][j]->factory->type, "batch") == 0;
        if (!any_batch)
            continue;
        memset(seen, 0, s->n_pipes * sizeof *seen);
        memset(found, 0, s->defs.n * sizeof *found);
        persistent_reach(s, pi, seen, found, via, NULL);
        for (size_t j = 0; j < p->n[ROLE_PROCESSORS]; j++) {
            const struct comp_def *b = p->refs[ROLE_PROCESSORS][j];
            if (strcmp(b->factory->type, "batch") != 0)
                continue;
            for (size_t k = 0; k < s->defs.n; k++) {
                if (!found[k])
                    continue;
                const struct comp_def *x = s->defs.v[k];
                char through[300] = "";
                if (via[k])
                    snprintf(through, sizeof through, " (through connector '%s')", via[k]->id);
                add_warning(s, p->items[ROLE_PROCESSORS][j],
                            "pipeline '%s': exporter '%s'%s has a persistent queue: a batch "
                            "processor in front of it holds acknowledged data in memory; use "
                            "sending_queue.batch on the exporter instead", p->id, x->id,
                            through);
            }
        }
    }
done:
    free(seen);
    free(found);
    free(via);
    return rc;
}

static void shutdown_timeout_from_env(struct service *s)
{
    s->shutdown_timeout_ns = DEFAULT_SHUTDOWN_TIMEOUT_NS;
    const char *v = getenv("LLMOTLP_SHUTDOWN_TIMEOUT");
    if (!v || !*v)
        return;
    int64_t ns;
    if (config_parse_duration(v, &ns) == 0 && ns >= 0)
        s->shutdown_timeout_ns = ns;
    else
        log_warn(SERVICE_LOG, "LLMOTLP_SHUTDOWN_TIMEOUT='%s' is not a duration (e.g. \"5s\"); "
                              "using 10s", v);
}

/* Takes ownership of root. */
static struct service *service_from_tree(struct cnode *root, struct error *err)
{
    static const enum component_kind order[] = {COMPONENT_RECEIVER, COMPONENT_PROCESSOR,
                                                COMPONENT_EXPORTER, COMPONENT_CONNECTOR,
                                                COMPONENT_EXTENSION};
    struct service *s = calloc(1, sizeof *s);
    if (!s) {
        cnode_free(root);
        error_set(err, "out of memory");
        return NULL;
    }
    s->root = root;
    s->interest = wire_interest_new();
    if (!s->interest) {
        service_free(s);
        error_set(err, "out of memory");
        return NULL;
    }
    shutdown_timeout_from_env(s);
    if (root->kind == CNODE_NULL) {
        err_at(err, root, "the config is empty (expected receivers, exporters, service, ...)");
        goto fail;
    }
    if (root->kind != CNODE_MAP) {
        err_at(err, root, "the config must be a map (receivers, processors, exporters, "
                          "connectors, extensions, service)");
        goto fail;
    }
    for (size_t i = 0; i < root->n; i++) {
        const char *k = root->keys[i]->value ? root->keys[i]->value : "";
        bool known = strcmp(k, "service") == 0;
        for (size_t j = 0; j < sizeof order / sizeof order[0]; j++)
            known = known || strcmp(k, component_kind_section(order[j])) == 0;
        if (!known) {
            err_at(err, root->keys[i], "unknown top-level key '%s'; known keys: receivers, "
                                       "processors, exporters, connectors, extensions, service",
                   k);
            goto fail;
        }
    }
    for (size_t j = 0; j < sizeof order / sizeof order[0]; j++)
        if (load_section(s, order[j], cnode_get(root, component_kind_section(order[j])), err) != 0)
            goto fail;
    /* An ID naming both a connector and a receiver or exporter would make pipeline lists
     * ambiguous. */
    for (size_t i = 0; i < s->defs.n; i++) {
        struct comp_def *c = s->defs.v[i];
        if (c->kind != COMPONENT_CONNECTOR)
            continue;
        enum component_kind other = find_def(s, COMPONENT_RECEIVER, c->id) ? COMPONENT_RECEIVER
                                    : find_def(s, COMPONENT_EXPORTER, c->id) ? COMPONENT_EXPORTER
                                                                              : COMPONENT_CONNECTOR;
        if (other != COMPONENT_CONNECTOR) {
            err_at(err, c->key, "ambiguous ID '%s': defined both as a connector and as a%s %s; "
                                "rename one of them", c->id,
                   other == COMPONENT_EXPORTER ? "n" : "", component_kind_name(other));
            goto fail;
        }
    }
    if (load_service(s, cnode_get(root, "service"), err) != 0)
        goto fail;
    if (check_storage_refs(s, err) != 0)
        goto fail;
    if (check_auth_refs(s, err) != 0)
        goto fail;
    warn_queues(s);
    if (warn_batch_before_persistent(s) != 0) {
        error_set(err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < s->defs.n; i++) {
        struct comp_def *d = s->defs.v[i];
        if (d->used)
            continue;
        if (d->kind == COMPONENT_EXTENSION)
            add_warning(s, d->key, "extension '%s' is defined but not enabled in "
                                   "service.extensions", d->id);
        else
            add_warning(s, d->key, "%s '%s' is defined but not used in any pipeline",
                        component_kind_name(d->kind), d->id);
    }
    s->telemetry = telemetry_new();
    if (!s->telemetry) {
        error_set(err, "out of memory");
        goto fail;
    }
    log_load_warnings(s);
    return s;
fail:
    if (s)
        log_load_warnings(s);
    service_free(s);
    return NULL;
}

/* Warnings of resolving the sources (unset variables), kept until the service exists. */
static void keep_source_warning(void *ctx, const char *msg)
{
    char *line = strdup(msg);
    if (line && ptrvec_push(ctx, line) != 0)
        free(line);
}

struct service *service_load(const char *const *config_uris, size_t n_uris,
                             const char *const *sets, size_t n_sets, struct error *err)
{
    struct ptrvec early = {0};
    struct cnode *root = config_source_resolve(config_uris, n_uris, sets, n_sets,
                                               keep_source_warning, &early, err);
    struct service *s = root ? service_from_tree(root, err) : NULL;
    for (size_t i = 0; i < early.n; i++) {
        log_warn(SERVICE_LOG, "%s", (char *)early.v[i]); /* also when invalid: it may say why */
        if (s && ptrvec_push(&s->warnings, early.v[i]) == 0)
            continue;
        free(early.v[i]);
    }
    ptrvec_free(&early);
    return s;
}

struct service *service_load_string(const char *yaml, struct error *err)
{
    struct cnode *root = config_parse_string(yaml, "<string>", err);
    if (!root)
        return NULL;
    return service_from_tree(root, err);
}

/* ---- building -------------------------------------------------------------------------------- */

static enum consume_status instance_consume(struct consumer *self, struct batch *b)
{
    struct instance *in = (struct instance *)self;
    uint64_t items = b->items; /* before: a sole owner may edit in place */
    enum consume_status st = in->def->factory->consume(in->self, b);
    if (st == CONSUME_OK)
        telemetry_add(in->items_in, items);
    return st;
}

static enum consume_status counted_consume(struct consumer *self, struct batch *b)
{
    struct counted_next *c = (struct counted_next *)self;
    uint64_t items = b->items;
    enum consume_status st = consumer_send(c->next, b);
    if (st == CONSUME_OK)
        telemetry_add(c->items_out, items);
    return st;
}

/* Labels shared by a processor's incoming and outgoing counters. */
static void processor_labels(char *buf, size_t len, const char *id, const char *pipeline,
                             enum signal sig)
{
    snprintf(buf, len, "processor=\"%s\",pipeline=\"%s\",otel_signal=\"%s\"", id, pipeline,
             signal_name(sig));
}

static enum consume_status refuse_consume(struct consumer *self, struct batch *b)
{
    (void)self;
    (void)b;
    return CONSUME_REJECT;
}

static struct instance *find_instance(struct ptrvec *list, const struct comp_def *d,
                                      enum signal sig, bool by_signal);

static struct instance *instance_create(struct service *s, struct ptrvec *list, struct comp_def *d,
                                        const char *suffix, enum signal sig,
                                        struct consumer *const next[SIGNAL_COUNT],
                                        struct error *err)
{
    const struct component_factory *f = d->factory;
    struct instance *in = calloc(1, sizeof *in);
    if (!in || ptrvec_push(list, in) != 0) {
        free(in);
        error_set(err, "out of memory");
        return NULL;
    }
    in->def = d;
    in->sig = sig;
    in->base.consume = f->consume ? instance_consume : refuse_consume;
    if (asprintf(&in->log_name, "%s/%s%s%s", component_kind_name(d->kind), d->id,
                 suffix ? "@" : "", suffix ? suffix : "") < 0) {
        in->log_name = NULL;
        error_set(err, "out of memory");
        return NULL;
    }
    if (!f->create) {
        error_set(err, "%s: the factory cannot create instances", in->log_name);
        return NULL;
    }
    struct component_env env = {
        .id = d->id,
        .log_name = in->log_name,
        .signal = sig,
        .telemetry = s->telemetry,
        .service_state = &s->state,
        .service = s,
        .interest = s->interest,
    };
    for (int i = 0; i < SIGNAL_COUNT; i++)
        env.next[i] = next ? next[i] : NULL;
    if (d->storage) {
        /* the exporter hands its sending_queue config to its helper, which finds the
         * extension instance there; extensions are created before any pipeline */
        struct instance *ext = find_instance(&s->extensions, d->storage, SIGNAL_TRACES, false);
        if (!ext) {
            error_set(err, "%s: storage extension '%s' was not created", in->log_name,
                      d->storage->id);
            return NULL;
        }
        queue_of(d)->storage_ext = ext->self;
    }
    for (size_t i = 0; i < d->n_auth; i++) {
        /* as for storage: the interface goes into the component's own config before create */
        struct instance *ext = find_instance(&s->extensions, d->auth[i].ext, SIGNAL_TRACES, false);
        const char *iface = d->kind == COMPONENT_RECEIVER ? AUTH_SERVER_INTERFACE
                                                          : AUTH_CLIENT_INTERFACE;
        void *x = ext && ext->def->factory->interface ? ext->def->factory->interface(ext->self, iface)
                                                      : NULL;
        if (!x) {
            error_set(err, "%s: authenticator extension '%s' was not created", in->log_name,
                      d->auth[i].ext->id);
            return NULL;
        }
        if (d->kind == COMPONENT_RECEIVER)
            d->auth[i].cfg->server = x;
        else
            d->auth[i].cfg->client = x;
    }
    error_clear(err);
    in->self = f->create(d->cfg, &env, err);
    if (!in->self) {
        if (!err->msg[0])
            error_set(err, "create failed");
        error_prefix(err, "%s: ", in->log_name);
        return NULL;
    }
    log_debug(SERVICE_LOG, "created %s", in->log_name);
    return in;
}

/* One consumer over several: the consumer itself when there is one. */
static struct consumer *make_fanout(struct service *s, struct consumer **items, size_t n,
                                    struct error *err)
{
    if (n == 1)
        return items[0];
    struct fanout *f = fanout_new(items, n);
    if (!f || ptrvec_push(&s->fanouts, f) != 0) {
        fanout_free(f);
        error_set(err, "out of memory");
        return NULL;
    }
    return fanout_consumer(f);
}

/* Next consumers of a receiver or connector: per signal, the entries of the pipelines that list
 * `d` as a receiver, restricted to `outs`. Those pipelines are already built. */
static int wire_outputs(struct service *s, struct comp_def *d, unsigned outs,
                        struct consumer *next[SIGNAL_COUNT], struct error *err)
{
    struct consumer **tmp = calloc(s->n_pipes ? s->n_pipes : 1, sizeof *tmp);
    if (!tmp)
        return error_set(err, "out of memory");
    int rc = 0;
    for (int sig = 0; sig < SIGNAL_COUNT && rc == 0; sig++) {
        next[sig] = NULL;
        if (!(outs & bit((enum signal)sig)))
            continue;
        size_t n = 0;
        for (size_t i = 0; i < s->n_pipes; i++) {
            struct pipeline *q = &s->pipes[i];
            if (q->sig == (enum signal)sig && pipe_lists(q, ROLE_RECEIVERS, d, NULL))
                tmp[n++] = q->entry;
        }
        if (n > 0 && !(next[sig] = make_fanout(s, tmp, n, err)))
            rc = -1;
    }
    free(tmp);
    return rc;
}

static struct instance *find_instance(struct ptrvec *list, const struct comp_def *d,
                                      enum signal sig, bool by_signal)
{
    for (size_t i = 0; i < list->n; i++) {
        struct instance *in = list->v[i];
        if (in->def == d && (!by_signal || in->sig == sig))
            return in;
    }
    return NULL;
}

/* A connector's log name carries its input signal only when it has several instances. */
static const char *connector_suffix(const struct service *s, const struct comp_def *c,
                                    enum signal sig)
{
    unsigned ins = 0;
    for (size_t i = 0; i < s->n_pipes; i++)
        if (pipe_lists(&s->pipes[i], ROLE_EXPORTERS, c, NULL))
            ins |= bit(s->pipes[i].sig);
    return (ins & (ins - 1)) ? signal_name(sig) : NULL;
}

static int build_pipeline(struct service *s, struct pipeline *p, struct error *err)
{
    size_t ne = p->n[ROLE_EXPORTERS];
    struct consumer **exps = calloc(ne, sizeof *exps);
    if (!exps)
        return error_set(err, "out of memory");
    int rc = -1;
    for (size_t i = 0; i < ne; i++) {
        struct comp_def *d = p->refs[ROLE_EXPORTERS][i];
        struct instance *in;
        if (d->kind == COMPONENT_EXPORTER) {
            in = find_instance(&s->exporters, d, p->sig, false);
            if (!in)
                in = instance_create(s, &s->exporters, d, NULL, p->sig, NULL, err);
        } else {
            /* one connector instance per (ID, input signal), shared by every pipeline of that
             * signal that exports to it */
            in = find_instance(&s->connectors, d, p->sig, true);
            if (!in) {
                struct consumer *next[SIGNAL_COUNT];
                if (wire_outputs(s, d, connector_routes(d->factory, p->sig), next, err) != 0)
                    goto done;
                in = instance_create(s, &s->connectors, d, connector_suffix(s, d, p->sig), p->sig,
                                     next, err);
            }
        }
        if (!in)
            goto done;
        exps[i] = &in->base;
    }
    struct consumer *next = make_fanout(s, exps, ne, err);
    if (!next)
        goto done;
    size_t np = p->n[ROLE_PROCESSORS];
    p->procs = calloc(np ? np : 1, sizeof *p->procs);
    if (!p->procs) {
        error_set(err, "out of memory");
        goto done;
    }
    for (size_t j = np; j-- > 0;) {
        struct comp_def *d = p->refs[ROLE_PROCESSORS][j];
        char labels[512];
        processor_labels(labels, sizeof labels, d->id, p->id, p->sig);
        struct counted_next *c = calloc(1, sizeof *c);
        if (!c || ptrvec_push(&s->counted, c) != 0) {
            free(c);
            error_set(err, "out of memory");
            goto done;
        }
        c->base.consume = counted_consume;
        c->next = next;
        c->items_out = telemetry_counter(s->telemetry, "otelcol_processor_outgoing_items", labels,
                                         "Items a processor passed on to the next component.");
        struct consumer *nx[SIGNAL_COUNT] = {NULL};
        nx[p->sig] = &c->base;
        struct instance *in = instance_create(s, &s->processors, d, p->id, p->sig, nx, err);
        if (!in)
            goto done;
        in->items_in = telemetry_counter(s->telemetry, "otelcol_processor_incoming_items", labels,
                                         "Items a processor took from the previous component.");
        p->procs[j] = in;
        next = &in->base;
    }
    p->entry = next;
    rc = 0;
done:
    free(exps);
    return rc;
}

static int service_build(struct service *s, struct error *err)
{
    s->built = true;
    for (size_t i = 0; i < s->ext_enabled.n; i++)
        if (!instance_create(s, &s->extensions, s->ext_enabled.v[i], NULL, SIGNAL_TRACES, NULL,
                             err))
            return -1;
    for (size_t k = 0; k < s->n_pipes; k++)
        if (build_pipeline(s, &s->pipes[s->order[k]], err) != 0)
            return -1;
    for (size_t i = 0; i < s->defs.n; i++) {
        struct comp_def *d = s->defs.v[i];
        if (d->kind != COMPONENT_RECEIVER || !d->used)
            continue;
        struct consumer *next[SIGNAL_COUNT];
        if (wire_outputs(s, d, d->factory->signals, next, err) != 0)
            return -1;
        if (!instance_create(s, &s->receivers, d, NULL, SIGNAL_TRACES, next, err))
            return -1;
    }
    return 0;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static int start_list(struct ptrvec *list, struct error *err)
{
    for (size_t i = 0; i < list->n; i++) {
        struct instance *in = list->v[i];
        const struct component_factory *f = in->def->factory;
        if (f->start) {
            error_clear(err);
            if (f->start(in->self, err) != 0) {
                if (!err->msg[0])
                    error_set(err, "start failed");
                error_prefix(err, "%s: ", in->log_name);
                return -1;
            }
        }
        in->started = true;
        log_debug(SERVICE_LOG, "started %s", in->log_name);
    }
    return 0;
}

int service_start(struct service *s, struct error *err)
{
    if (s->built)
        return error_set(err, "service already started");
    /* Own telemetry first, as the Collector does: a busy metrics port fails the start before
     * any component opened anything. */
    if (s->metrics_endpoint) {
        s->tserver = telemetry_server_start(s->metrics_endpoint, s->telemetry, err);
        if (!s->tserver) {
            error_prefix(err, "service.telemetry.metrics: ");
            return -1;
        }
        log_info(SERVICE_LOG, "own metrics at http://%s/metrics (port %u)", s->metrics_endpoint,
                 (unsigned)telemetry_server_port(s->tserver));
    }
    for (size_t i = 0; i < s->readers.n; i++) {
        if (telemetry_reader_start(s->readers.v[i], s->telemetry, &s->resource, LLMOTLP_VERSION,
                                   err) != 0) {
            error_prefix(err, "service.telemetry.metrics.readers: ");
            return -1;
        }
        log_info(SERVICE_LOG, "own metrics sent to %s", telemetry_reader_target(s->readers.v[i]));
    }
    if (service_build(s, err) != 0)
        return -1;
    s->started = true;
    struct ptrvec *order[] = {&s->extensions, &s->exporters, &s->processors, &s->connectors,
                              &s->receivers};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (start_list(order[i], err) != 0) {
            struct error saved = *err;
            service_shutdown(s, clock_now_ns() + s->shutdown_timeout_ns);
            *err = saved;
            return -1;
        }
    }
    atomic_store(&s->state, SERVICE_READY);
    return 0;
}

static void stop_instance(struct instance *in, int64_t deadline_ns)
{
    if (!in || !in->started)
        return;
    in->started = false;
    if (in->def->factory->shutdown) {
        log_debug(SERVICE_LOG, "shutting down %s", in->log_name);
        in->def->factory->shutdown(in->self, deadline_ns);
    }
}

static void stop_list(struct ptrvec *list, int64_t deadline_ns)
{
    for (size_t i = 0; i < list->n; i++)
        stop_instance(list->v[i], deadline_ns);
}

void service_shutdown(struct service *s, int64_t deadline_ns)
{
    if (!s || !s->started || s->shut_down)
        return;
    s->shut_down = true;
    atomic_store(&s->state, SERVICE_STOPPING);
    stop_list(&s->receivers, deadline_ns);
    /* Upstream pipelines first: before a pipeline's processors flush, every connector feeding
     * it has flushed, and it was fed by pipelines already stopped. */
    for (size_t k = s->n_pipes; k-- > 0;) {
        struct pipeline *q = &s->pipes[s->order[k]];
        for (size_t i = 0; i < s->connectors.n; i++) {
            struct instance *c = s->connectors.v[i];
            if ((connector_routes(c->def->factory, c->sig) & bit(q->sig)) &&
                pipe_lists(q, ROLE_RECEIVERS, c->def, NULL))
                stop_instance(c, deadline_ns);
        }
        for (size_t j = 0; q->procs && j < q->n[ROLE_PROCESSORS]; j++)
            stop_instance(q->procs[j], deadline_ns);
    }
    stop_list(&s->connectors, deadline_ns);
    stop_list(&s->processors, deadline_ns);
    stop_list(&s->exporters, deadline_ns);
    stop_list(&s->extensions, deadline_ns);
    /* after the drain, so the last export carries its counts */
    for (size_t i = 0; i < s->readers.n; i++)
        telemetry_reader_stop(s->readers.v[i], deadline_ns);
    /* last, so a scrape during the drain still sees the counters move */
    telemetry_server_stop(s->tserver);
    s->tserver = NULL;
}

static void destroy_list(struct ptrvec *list)
{
    for (size_t i = 0; i < list->n; i++) {
        struct instance *in = list->v[i];
        if (in->self && in->def->factory->destroy)
            in->def->factory->destroy(in->self);
        free(in->log_name);
        free(in);
    }
    ptrvec_free(list);
}

void service_free(struct service *s)
{
    if (!s)
        return;
    if (s->started && !s->shut_down)
        service_shutdown(s, clock_now_ns() + s->shutdown_timeout_ns);
    telemetry_server_stop(s->tserver); /* started, then the build failed */
    s->tserver = NULL;
    destroy_list(&s->receivers);
    destroy_list(&s->connectors);
    destroy_list(&s->processors);
    destroy_list(&s->exporters);
    destroy_list(&s->extensions);
    for (size_t i = 0; i < s->fanouts.n; i++)
        fanout_free(s->fanouts.v[i]);
    ptrvec_free(&s->fanouts);
    for (size_t i = 0; i < s->counted.n; i++)
        free(s->counted.v[i]);
    ptrvec_free(&s->counted);
    for (size_t i = 0; i < s->n_pipes; i++) {
        struct pipeline *p = &s->pipes[i];
        free(p->id);
        for (int r = 0; r < ROLE_COUNT; r++) {
            free(p->refs[r]);
            free(p->items[r]);
        }
        free(p->procs);
    }
    free(s->pipes);
    free(s->order);
    for (size_t i = 0; i < s->defs.n; i++) {
        struct comp_def *d = s->defs.v[i];
        if (d->cfg) {
            config_free_bound(d->factory->fields ? d->factory->fields : empty_fields, d->cfg);
            free(d->cfg);
        }
        free(d->id);
        free(d->auth);
        free(d);
    }
    ptrvec_free(&s->defs);
    ptrvec_free(&s->ext_enabled);
    if (s->tcfg_bound)
        config_free_bound(tel_fields, &s->tcfg);
    for (size_t i = 0; i < s->warnings.n; i++)
        free(s->warnings.v[i]);
    ptrvec_free(&s->warnings);
    free(s->metrics_endpoint);
    for (size_t i = 0; i < s->readers.n; i++)
        telemetry_reader_free(s->readers.v[i]);
    ptrvec_free(&s->readers);
    resource_free(&s->resource);
    if (s->telemetry)
        telemetry_free(s->telemetry);
    cnode_free(s->root);
    wire_interest_free(s->interest);
    free(s);
}

/* ---- introspection --------------------------------------------------------------------------- */

struct telemetry *service_telemetry(struct service *s)
{
    return s->telemetry;
}

uint16_t service_metrics_port(const struct service *s)
{
    return s ? telemetry_server_port(s->tserver) : 0;
}

const char *service_metrics_endpoint(const struct service *s)
{
    return s ? s->metrics_endpoint : NULL;
}

void *service_extension(struct service *s, const char *id)
{
    for (size_t i = 0; i < s->extensions.n; i++) {
        struct instance *in = s->extensions.v[i];
        if (strcmp(in->def->id, id) == 0)
            return in->self;
    }
    return NULL;
}

int64_t service_shutdown_timeout_ns(const struct service *s)
{
    return s ? s->shutdown_timeout_ns : DEFAULT_SHUTDOWN_TIMEOUT_NS;
}

size_t service_pipeline_count(const struct service *s)
{
    return s->n_pipes;
}

const char *service_pipeline_describe(const struct service *s, size_t i, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    buf[0] = '\0';
    if (i >= s->n_pipes)
        return buf;
    const struct pipeline *p = &s->pipes[i];
    size_t n = 0;
    appendf(buf, len, &n, "%s: ", p->id);
    for (int r = 0; r < ROLE_COUNT; r++) {
        appendf(buf, len, &n, "%s[", r ? " -> " : "");
        for (size_t j = 0; j < p->n[r]; j++)
            appendf(buf, len, &n, "%s%s", j ? ", " : "", p->refs[r][j]->id);
        appendf(buf, len, &n, "]");
    }
    return buf;
}

const char *service_pipeline_id(const struct service *s, size_t i)
{
    return i < s->n_pipes ? s->pipes[i].id : NULL;
}

_Static_assert((int)SERVICE_ROLE_RECEIVERS == (int)ROLE_RECEIVERS &&
                   (int)SERVICE_ROLE_PROCESSORS == (int)ROLE_PROCESSORS &&
                   (int)SERVICE_ROLE_EXPORTERS == (int)ROLE_EXPORTERS,
               "service.h's roles index the pipeline's lists");

const char *service_pipeline_member(const struct service *s, size_t i, enum service_role role,
                                    size_t j)
{
    if (i >= s->n_pipes || (int)role < 0 || (int)role >= (int)ROLE_COUNT)
        return NULL;
    const struct pipeline *p = &s->pipes[i];
    return j < p->n[role] ? p->refs[role][j]->id : NULL;
}

size_t service_extension_count(const struct service *s)
{
    return s->ext_enabled.n;
}

const char *service_extension_id(const struct service *s, size_t i)
{
    return i < s->ext_enabled.n ? ((const struct comp_def *)s->ext_enabled.v[i])->id : NULL;
}

const char *service_resource_attribute(const struct service *s, const char *key)
{
    for (size_t i = 0; s && i < s->resource.n; i++)
        if (strcmp(s->resource.keys[i], key) == 0)
            return s->resource.values[i];
    return NULL;
}

size_t service_warning_count(const struct service *s)
{
    return s->warnings.n;
}

const char *service_warning(const struct service *s, size_t i)
{
    return i < s->warnings.n ? s->warnings.v[i] : NULL;
}

struct consumer *service_pipeline_entry(struct service *s, const char *pipeline_id)
{
    for (size_t i = 0; i < s->n_pipes; i++)
        if (strcmp(s->pipes[i].id, pipeline_id) == 0)
            return s->pipes[i].entry;
    return NULL;
}
