/* telemetry_reader.c — periodic readers of the own metrics: the schema's `periodic` reader read
 * into the config of an `otlphttp` or `otlp` exporter, and a ticker that hands that exporter one
 * request of the registry per interval.
 *
 * The idea: the reader does not send anything itself. Its schema keys are translated into the
 * YAML of the exporter that already speaks the protocol (TLS, headers, compression, retries,
 * gRPC), bound and validated by that exporter's own field table at load, so a bad value is an
 * error with the reader's position before anything starts. The exporter runs with its queue off:
 * consume() sends on the ticker's thread and returns when the request is delivered or its
 * retries, bounded by the reader's timeout, are spent, as an SDK's periodic reader exports. */
#include "core/telemetry_reader.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/component.h"
#include "core/log.h"
#include "core/ticker.h"

#define DEFAULT_INTERVAL_MS 60000
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_EXPORT_TIMEOUT_MS 10000

struct telemetry_reader {
    char *where;                          /* "service.telemetry.metrics.readers[0]" */
    char *target;                         /* for logs */
    int64_t interval_ms, timeout_ms;
    const struct component_factory *factory;
    void *cfg;                            /* bound exporter config */
    void *exporter;
    bool started;
    struct ticker ticker;
    struct telemetry *t;
    const struct telemetry_resource *res;
    char *version;
};

static int err_at(struct error *err, const struct cnode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int err_at(struct error *err, const struct cnode *n, const char *fmt, ...)
{
    char pos[512] = "<config>", msg[900];
    if (n)
        cnode_where(n, pos, sizeof pos);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return error_set(err, "%s: %s", pos, msg);
}

/* A YAML double-quoted scalar for generated config: escapes, and `$` doubled since values are
 * expanded again when the generated text is loaded. */
static void yq(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else if (*p == '$')
            fputs("$$", f);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static const char *scalar(const struct cnode *n) { return n && n->kind == CNODE_SCALAR ? n->value : NULL; }

/* Milliseconds of the schema (a non-negative integer). */
static int ms_value(const struct cnode *n, const char *where, const char *key, int64_t def,
                    int64_t *out, struct error *err)
{
    *out = def;
    if (!n || n->kind == CNODE_NULL)
        return 0;
    int64_t v;
    if (n->kind != CNODE_SCALAR || config_parse_int(n->value, &v) != 0 || v < 0)
        return err_at(err, n, "%s.%s: expected a number of milliseconds (0 or more)", where, key);
    *out = v;
    return 0;
}

struct header { char *name, *value; };
struct headers { size_t n; struct header items[64]; };

static int header_put(struct headers *h, const char *name, size_t nl, const char *value,
                      size_t vl, bool replace)
{
    for (size_t i = 0; i < h->n; i++)
        if (strlen(h->items[i].name) == nl && strncasecmp(h->items[i].name, name, nl) == 0) {
            if (replace) {
                free(h->items[i].value);
                h->items[i].value = strndup(value, vl);
            }
            return 0;
        }
    if (h->n == sizeof h->items / sizeof h->items[0])
        return -1;
    h->items[h->n].name = strndup(name, nl);
    h->items[h->n].value = strndup(value, vl);
    h->n++;
    return 0;
}

static void headers_free(struct headers *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->items[i].name);
        free(h->items[i].value);
    }
    h->n = 0;
}

static char *trimmed(const char *s, size_t n, size_t *len)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    *len = n;
    return (char *)s;
}

/* headers: [{name, value}] (a null value is skipped, as the schema says), then headers_list
 * "k=v,k2=v2" for the names headers did not give. */
static int read_headers(const struct cnode *exp, const char *where, struct headers *h,
                        struct error *err)
{
    const struct cnode *list = cnode_get(exp, "headers");
    if (list && list->kind != CNODE_NULL) {
        if (list->kind != CNODE_SEQ)
            return err_at(err, list, "%s.headers: expected a list of {name, value}", where);
        for (size_t i = 0; i < list->n; i++) {
            const struct cnode *it = list->items[i];
            const char *name = scalar(cnode_get(it, "name"));
            const struct cnode *vn = cnode_get(it, "value");
            if (it->kind != CNODE_MAP || !name || !name[0])
                return err_at(err, it, "%s.headers[%zu]: expected {name: ..., value: ...}", where,
                              i);
            for (size_t k = 0; k < it->n; k++)
                if (strcmp(it->keys[k]->value, "name") && strcmp(it->keys[k]->value, "value"))
                    return err_at(err, it->keys[k], "%s.headers[%zu]: unknown key '%s'; known "
                                                    "keys: name, value", where, i,
                                  it->keys[k]->value);
            if (!vn || vn->kind == CNODE_NULL)
                continue;
            if (vn->kind != CNODE_SCALAR)
                return err_at(err, vn, "%s.headers[%zu].value: expected a string", where, i);
            if (header_put(h, name, strlen(name), vn->value, strlen(vn->value), true) != 0)
                return err_at(err, it, "%s.headers: too many headers", where);
        }
    }
    const struct cnode *hl = cnode_get(exp, "headers_list");
    if (hl && hl->kind != CNODE_NULL) {
        if (hl->kind != CNODE_SCALAR)
            return err_at(err, hl, "%s.headers_list: expected \"name=value,name=value\"", where);
        for (const char *p = hl->value; *p;) {
            const char *end = strchr(p, ',');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            const char *eq = memchr(p, '=', n);
            if (!eq)
                return err_at(err, hl, "%s.headers_list: expected \"name=value,name=value\"",
                              where);
            size_t kl, vl;
            const char *k = trimmed(p, (size_t)(eq - p), &kl);
            const char *v = trimmed(eq + 1, n - (size_t)(eq - p) - 1, &vl);
            if (kl == 0)
                return err_at(err, hl, "%s.headers_list: a header without a name", where);
            if (header_put(h, k, kl, v, vl, false) != 0)
                return err_at(err, hl, "%s.headers_list: too many headers", where);
            p += n + (end ? 1 : 0);
        }
    }
    return 0;
}

static int check_keys(const struct cnode *m, const char *where, const char *const *known,
                      const char *known_text, struct error *err)
{
    for (size_t k = 0; m && m->kind == CNODE_MAP && k < m->n; k++) {
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            ok |= strcmp(m->keys[k]->value, known[i]) == 0;
        if (!ok)
            return err_at(err, m->keys[k], "%s: unknown key '%s'; known keys: %s", where,
                          m->keys[k]->value, known_text);
    }
    return 0;
}

enum proto { PROTO_HTTP_PROTOBUF, PROTO_HTTP_JSON, PROTO_GRPC };

/* The exporter config, as YAML text for the exporter's own binder. */
static char *exporter_yaml(const struct cnode *exp, const char *where, int schema_v1,
                           enum proto proto, int64_t timeout_ms, const struct config_warn_sink *w,
                           char **target, struct error *err)
{
    static const char *const v03_keys[] = {"protocol", "endpoint", "certificate", "client_key",
        "client_certificate", "headers", "headers_list", "compression", "timeout", "insecure",
        "temporality_preference", "default_histogram_aggregation", NULL};
    static const char *const http_keys[] = {"endpoint", "tls", "headers", "headers_list",
        "compression", "timeout", "encoding", "temporality_preference",
        "default_histogram_aggregation", NULL};
    static const char *const grpc_keys[] = {"endpoint", "tls", "headers", "headers_list",
        "compression", "timeout", "temporality_preference", "default_histogram_aggregation", NULL};
    static const char *const tls_keys[] = {"ca_file", "cert_file", "key_file", "insecure", NULL};
    if (exp && exp->kind != CNODE_MAP && exp->kind != CNODE_NULL) {
        err_at(err, exp, "%s: expected a map", where);
        return NULL;
    }
    if (!schema_v1 ? check_keys(exp, where, v03_keys, "protocol, endpoint, headers, "
                                "headers_list, compression, timeout, insecure, certificate, "
                                "client_key, client_certificate, temporality_preference, "
                                "default_histogram_aggregation", err)
        : check_keys(exp, where, proto == PROTO_GRPC ? grpc_keys : http_keys,
                     proto == PROTO_GRPC ? "endpoint, tls, headers, headers_list, compression, "
                                           "timeout, temporality_preference, "
                                           "default_histogram_aggregation"
                                         : "endpoint, tls, headers, headers_list, compression, "
                                           "timeout, encoding, temporality_preference, "
                                           "default_histogram_aggregation", err))
        return NULL;
    const struct cnode *tls = cnode_get(exp, "tls");
    char tls_where[700];
    snprintf(tls_where, sizeof tls_where, "%s.tls", where);
    if (tls && tls->kind != CNODE_NULL &&
        (tls->kind != CNODE_MAP ||
         check_keys(tls, tls_where, tls_keys, "ca_file, cert_file, key_file, insecure", err))) {
        if (tls->kind != CNODE_MAP)
            err_at(err, tls, "%s: expected a map", tls_where);
        return NULL;
    }
    const char *ca = scalar(cnode_get(exp, schema_v1 ? NULL : "certificate"));
    const char *cert = scalar(cnode_get(exp, "client_certificate"));
    const char *key = scalar(cnode_get(exp, "client_key"));
    const struct cnode *insecure_n = cnode_get(exp, "insecure");
    if (schema_v1) {
        ca = scalar(cnode_get(tls, "ca_file"));
        cert = scalar(cnode_get(tls, "cert_file"));
        key = scalar(cnode_get(tls, "key_file"));
        insecure_n = cnode_get(tls, "insecure");
    }
    bool insecure = false;
    if (scalar(insecure_n) && config_parse_bool(insecure_n->value, &insecure) != 0) {
        err_at(err, insecure_n, "%s: insecure: expected true or false", where);
        return NULL;
    }
    /* what the SDK would do differently, said */
    const struct cnode *k;
    const char *tp = scalar(cnode_get(exp, "temporality_preference"));
    if (tp && strcmp(tp, "cumulative") != 0 &&
        (k = cnode_key(exp, "temporality_preference")))
        config_warnf(w, k, NULL, "%s.temporality_preference: %s has no effect: own metrics are "
                                 "sent cumulative", where, tp);
    const char *dha = scalar(cnode_get(exp, "default_histogram_aggregation"));
    if (dha && strcmp(dha, "explicit_bucket_histogram") != 0 &&
        (k = cnode_key(exp, "default_histogram_aggregation")))
        config_warnf(w, k, NULL, "%s.default_histogram_aggregation: %s has no effect: own "
                                 "histograms keep their explicit buckets", where, dha);
    const char *enc = scalar(cnode_get(exp, "encoding"));
    if (enc && strcmp(enc, "protobuf") != 0 && strcmp(enc, "json") != 0) {
        err_at(err, cnode_get(exp, "encoding"), "%s.encoding: expected protobuf or json", where);
        return NULL;
    }
    if (enc && strcmp(enc, "json") == 0)
        proto = PROTO_HTTP_JSON;
    const char *comp = scalar(cnode_get(exp, "compression"));
    if (comp && strcmp(comp, "gzip") != 0 && strcmp(comp, "none") != 0) {
        err_at(err, cnode_get(exp, "compression"), "%s.compression: expected gzip or none", where);
        return NULL;
    }
    int64_t exp_timeout;
    if (ms_value(cnode_get(exp, "timeout"), where, "timeout", DEFAULT_EXPORT_TIMEOUT_MS,
                 &exp_timeout, err) != 0)
        return NULL;
    struct headers h = {0};
    if (read_headers(exp, where, &h, err) != 0) {
        headers_free(&h);
        return NULL;
    }
    const struct cnode *ep_n = cnode_get(exp, "endpoint");
    const char *ep = scalar(ep_n);
    if (ep_n && ep_n->kind != CNODE_NULL && !ep) {
        headers_free(&h);
        err_at(err, ep_n, "%s.endpoint: expected a URL", where);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        headers_free(&h);
        error_set(err, "out of memory");
        return NULL;
    }
    bool https = false;
    if (proto != PROTO_GRPC) {
        if (!ep)
            ep = "http://localhost:4318/v1/metrics";
        bool http = strncmp(ep, "http://", 7) == 0;
        https = strncmp(ep, "https://", 8) == 0;
        const char *host = ep + (http ? 7 : https ? 8 : 0);
        if ((!http && !https) || !host[0] || host[0] == '/') {
            fclose(f);
            free(buf);
            headers_free(&h);
            err_at(err, ep_n, "%s.endpoint: '%s' is not an http:// or https:// URL", where, ep);
            return NULL;
        }
        /* a URL without a path gets the signal's, as the SDK's WithEndpoint/WithURLPath */
        bool has_path = strchr(host, '/') != NULL;
        if (asprintf(target, "%s %s%s", proto == PROTO_HTTP_JSON ? "http/json" : "http/protobuf",
                     ep, has_path ? "" : "/v1/metrics") < 0)
            *target = NULL;
        fputs("{metrics_endpoint: ", f);
        yq(f, *target ? strchr(*target, ' ') + 1 : ep);
        fprintf(f, ", encoding: %s", proto == PROTO_HTTP_JSON ? "json" : "proto");
    } else {
        if (!ep)
            ep = "http://localhost:4317";
        bool http = strncmp(ep, "http://", 7) == 0;
        https = strncmp(ep, "https://", 8) == 0;
        const char *host = ep + (http ? 7 : https ? 8 : 0);
        size_t hl = strcspn(host, "/");
        if (hl == 0) {
            fclose(f);
            free(buf);
            headers_free(&h);
            err_at(err, ep_n, "%s.endpoint: '%s' names no host", where, ep);
            return NULL;
        }
        /* the SDK: http:// is plaintext, https:// is TLS, no scheme is TLS unless insecure */
        insecure = http || (!https && insecure);
        char *hostport = strndup(host, hl);
        if (asprintf(target, "grpc %s%s", insecure ? "" : "(tls) ", hostport ? hostport : "") < 0)
            *target = NULL;
        fputs("{endpoint: ", f);
        yq(f, hostport ? hostport : "");
        free(hostport);
    }
    fprintf(f, ", compression: %s, timeout: \"%lldms\"", comp ? comp : "none",
            (long long)exp_timeout);
    fputs(", headers: {", f);
    for (size_t i = 0; i < h.n; i++) {
        if (i)
            fputs(", ", f);
        yq(f, h.items[i].name);
        fputs(": ", f);
        yq(f, h.items[i].value);
    }
    fputs("}, tls: {", f);
    if (proto == PROTO_GRPC)
        fprintf(f, "insecure: %s", insecure ? "true" : "false");
    else
        fputs("insecure: false", f);
    const char *names[] = {"ca_file", "cert_file", "key_file"}, *vals[] = {ca, cert, key};
    for (int i = 0; i < 3; i++)
        if (vals[i]) {
            fprintf(f, ", %s: ", names[i]);
            yq(f, vals[i]);
        }
    fprintf(f, "}, sending_queue: {enabled: false}, retry_on_failure: {enabled: true, "
               "max_elapsed_time: \"%lldms\"}}",
            (long long)timeout_ms);
    fclose(f);
    headers_free(&h);
    return buf;
}

int telemetry_reader_load(const struct cnode *periodic, const char *where,
                               const struct config_warn_sink *w, struct telemetry_reader **out,
                               struct error *err)
{
    static const char *const keys[] = {"interval", "timeout", "exporter", "producers",
                                       "cardinality_limits", NULL};
    *out = NULL;
    if (!periodic || periodic->kind != CNODE_MAP)
        return err_at(err, periodic, "%s: expected a map with interval, timeout and exporter",
                      where);
    if (check_keys(periodic, where, keys, "interval, timeout, exporter, producers, "
                   "cardinality_limits", err) != 0)
        return -1;
    const struct cnode *k;
    if ((k = cnode_key(periodic, "producers")))
        config_warnf(w, k, NULL, "%s.producers: has no effect: there are no other metric "
                                 "producers", where);
    if ((k = cnode_key(periodic, "cardinality_limits")))
        config_warnf(w, k, NULL, "%s.cardinality_limits: has no effect: own metrics have a "
                                 "fixed set of series", where);
    int64_t interval, timeout;
    if (ms_value(cnode_get(periodic, "interval"), where, "interval", DEFAULT_INTERVAL_MS,
                 &interval, err) != 0 ||
        ms_value(cnode_get(periodic, "timeout"), where, "timeout", DEFAULT_TIMEOUT_MS, &timeout,
                 err) != 0)
        return -1;
    /* the SDK takes 0 as "use the default" for both */
    if (interval == 0)
        interval = DEFAULT_INTERVAL_MS;
    if (timeout == 0)
        timeout = DEFAULT_TIMEOUT_MS;
    const struct cnode *exp = cnode_get(periodic, "exporter");
    if (!exp || exp->kind != CNODE_MAP || exp->n != 1)
        return err_at(err, exp ? exp : periodic, "%s.exporter: expected one of otlp, otlp_http, "
                                                 "otlp_grpc", where);
    const char *kind = exp->keys[0]->value;
    const struct cnode *body = exp->items[0];
    char sub[600];
    snprintf(sub, sizeof sub, "%s.exporter.%s", where, kind);
    int v1;
    enum proto proto;
    if (strcmp(kind, "otlp") == 0) {
        v1 = 0;
        const struct cnode *pn = cnode_get(body, "protocol");
        const char *p = scalar(pn);
        if (!p)
            return err_at(err, pn ? pn : exp->keys[0], "%s.protocol: required: http/protobuf, "
                                                       "http/json or grpc", sub);
        if (strcmp(p, "http/protobuf") == 0)
            proto = PROTO_HTTP_PROTOBUF;
        else if (strcmp(p, "http/json") == 0)
            proto = PROTO_HTTP_JSON;
        else if (strcmp(p, "grpc") == 0)
            proto = PROTO_GRPC;
        else
            return err_at(err, pn, "%s.protocol: unsupported protocol '%s'; expected "
                                   "http/protobuf, http/json or grpc", sub, p);
    } else if (strcmp(kind, "otlp_http") == 0) {
        v1 = 1;
        proto = PROTO_HTTP_PROTOBUF;
    } else if (strcmp(kind, "otlp_grpc") == 0) {
        v1 = 1;
        proto = PROTO_GRPC;
    } else {
        /* console and otlp_file/development write to stdout or files: said, and skipped */
        config_warnf(w, exp->keys[0], NULL, "%s.exporter: '%s' is not supported (only otlp, "
                                            "otlp_http, otlp_grpc); this reader is ignored",
                     where, kind);
        return 0;
    }
    struct telemetry_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->where = strdup(where)))
        goto oom;
    r->interval_ms = interval;
    r->timeout_ms = timeout;
    r->factory = component_find(COMPONENT_EXPORTER, proto == PROTO_GRPC ? "otlp" : "otlphttp");
    if (!r->factory) {
        telemetry_reader_free(r);
        return err_at(err, exp->keys[0], "%s: no exporter for this protocol is built in", sub);
    }
    char *yaml = exporter_yaml(body, sub, v1, proto, timeout, w, &r->target, err);
    if (!yaml) {
        telemetry_reader_free(r);
        return -1;
    }
    struct error e;
    error_clear(&e);
    struct cnode *root = config_parse_string(yaml, sub, &e);
    free(yaml);
    if (!root || !(r->cfg = calloc(1, r->factory->config_size)) ||
        config_bind(r->factory->fields, root, r->cfg, &e) != 0 ||
        (r->factory->validate && r->factory->validate(r->cfg, &e) != 0)) {
        cnode_free(root);
        telemetry_reader_free(r);
        return err_at(err, exp->keys[0], "%s: %s", sub, e.msg[0] ? e.msg : "out of memory");
    }
    /* the bound config keeps no pointer into the tree but CFG_RAW nodes, which the generated
     * text never has */
    cnode_free(root);
    *out = r;
    return 0;
oom:
    telemetry_reader_free(r);
    return error_set(err, "out of memory");
}

const char *telemetry_reader_target(const struct telemetry_reader *r)
{
    return r && r->target ? r->target : "";
}

static void reader_export(void *ctx)
{
    struct telemetry_reader *r = ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct error err;
    error_clear(&err);
    struct batch *b = telemetry_otlp_batch(r->t, r->res, r->version,
                                           (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, true,
                                           &err);
    if (!b) {
        log_warn(r->where, "own metrics not exported: %s", err.msg);
        return;
    }
    /* the exporter logs and counts its own failures */
    r->factory->consume(r->exporter, b);
    batch_unref(b);
}

int telemetry_reader_start(struct telemetry_reader *r, struct telemetry *t,
                           const struct telemetry_resource *res, const char *version,
                           struct error *err)
{
    r->t = t;
    r->res = res;
    if (version && !(r->version = strdup(version)))
        return error_set(err, "out of memory");
    /* no registry: the exporter's own counters would describe the reader, not the pipelines */
    struct component_env env = {.id = r->factory->type, .log_name = r->where};
    r->exporter = r->factory->create(r->cfg, &env, err);
    if (!r->exporter)
        return -1;
    if (r->factory->start && r->factory->start(r->exporter, err) != 0)
        return -1;
    r->started = true;
    if (ticker_start(&r->ticker, r->interval_ms * 1000000, reader_export, r, err) != 0)
        return -1;
    return 0;
}

void telemetry_reader_stop(struct telemetry_reader *r, int64_t deadline_ns)
{
    if (!r || !r->started)
        return;
    ticker_stop(&r->ticker);
    reader_export(r); /* the final values, as an SDK's reader exports at shutdown */
    r->started = false;
    int64_t bound = clock_now_ns() + r->timeout_ms * 1000000;
    if (r->factory->shutdown)
        r->factory->shutdown(r->exporter, deadline_ns < bound ? deadline_ns : bound);
}

void telemetry_reader_free(struct telemetry_reader *r)
{
    if (!r)
        return;
    telemetry_reader_stop(r, clock_now_ns());
    if (r->exporter && r->factory->destroy)
        r->factory->destroy(r->exporter);
    if (r->cfg) {
        config_free_bound(r->factory->fields, r->cfg);
        free(r->cfg);
    }
    free(r->where);
    free(r->target);
    free(r->version);
    free(r);
}
