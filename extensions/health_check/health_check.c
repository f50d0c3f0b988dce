/* health_check.c — the `health_check` extension: GET <path> on <endpoint> tells a load balancer
 * or an orchestrator whether llmotlp is serving.
 *
 * The idea: the extension keeps no state of its own about health; it reads the service's state
 * (component_env.service_state) at each request. Extensions start first and stop last, so the
 * endpoint exists for the whole life of the pipelines and says 503 both before they are all up
 * and while they drain. Replies are the Collector's: {"status":"Server available","upSince":...,
 * "uptime":...} or {"status":"Server not available",...}, unless response_body overrides them.
 *
 * The Collector's health_check embeds confighttp.ServerConfig, so its server keys are read here
 * too: `tls` serves the check over HTTPS (core/admin_http), `auth` and `middlewares` are refused
 * (core/admin_http_config), and the others are warned about only for values that would act
 * differently than here. */
#include "extensions/health_check/health_check.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/admin_http.h"
#include "core/component.h"
#include "core/config.h"
#include "core/log.h"
#include "core/tls_config.h"
#include "core/admin_http_config.h"

struct health_check_response_body {
    char *healthy;
    char *unhealthy;
};

/* The Collector's keys and types; the Collector reads them and ignores them (its pipeline check
 * was removed as broken), and so do we: no_effect on the section says so. */
struct health_check_pipeline_check {
    bool enabled;
    char *interval;
    int64_t exporter_failure_threshold;
};

/* confighttp.CORSConfig: typed so that a misspelt key is an error, as in the Collector. */
struct health_check_cors {
    struct config_str_list allowed_origins, allowed_headers;
    int64_t max_age;
};

struct health_check_config {
    char *endpoint;
    char *path;
    struct health_check_response_body response_body;
    struct health_check_pipeline_check check_collector_pipeline;
    /* confighttp.ServerConfig, beside endpoint */
    struct tls_server_config tls;
    bool has_tls;
    const struct cnode *auth, *middlewares;
    struct health_check_cors cors;
    struct config_kv_list response_headers;
    int64_t max_request_body_size;
    bool include_metadata;
    struct config_str_list compression_algorithms;
    int64_t read_timeout, read_header_timeout, write_timeout, idle_timeout;
    bool keep_alives_enabled;
};

static const struct config_field response_body_fields[] = {
    {.name = "healthy", .type = CFG_STRING,
     .offset = offsetof(struct health_check_response_body, healthy),
     .doc = "body sent with 200 instead of the JSON status"},
    {.name = "unhealthy", .type = CFG_STRING,
     .offset = offsetof(struct health_check_response_body, unhealthy),
     .doc = "body sent with 503 instead of the JSON status"},
    {.name = NULL},
};

static const struct config_field pipeline_check_fields[] = {
    {.name = "enabled", .type = CFG_BOOL,
     .offset = offsetof(struct health_check_pipeline_check, enabled), .def = "false",
     .doc = "the Collector's pipeline check switch"},
    {.name = "interval", .type = CFG_STRING,
     .offset = offsetof(struct health_check_pipeline_check, interval), .def = "5m",
     .doc = "window of exporter failures counted"},
    {.name = "exporter_failure_threshold", .type = CFG_INT,
     .offset = offsetof(struct health_check_pipeline_check, exporter_failure_threshold),
     .def = "5", .doc = "failures in the window that make it unhealthy"},
    {.name = NULL},
};

static const struct config_field cors_fields[] = {
    {.name = "allowed_origins", .type = CFG_STRING_LIST,
     .offset = offsetof(struct health_check_cors, allowed_origins),
     .doc = "origins browsers may read the answer from (warned when set: no CORS headers are "
            "sent)"},
    {.name = "allowed_headers", .type = CFG_STRING_LIST,
     .offset = offsetof(struct health_check_cors, allowed_headers),
     .doc = "request headers allowed in cross-origin requests"},
    {.name = "max_age", .type = CFG_INT, .offset = offsetof(struct health_check_cors, max_age),
     .doc = "seconds a browser may cache a preflight answer"},
    {.name = NULL},
};

#define HC_NO_BODY "the health check reads no request body (GET and HEAD only)"
#define HC_TIMEOUTS "connections are closed after 30 s without traffic"

static const struct config_field health_check_fields[] = {
    {.name = "endpoint", .type = CFG_STRING, .offset = offsetof(struct health_check_config, endpoint),
     .def = "localhost:13133",
     .doc = "host:port to listen on (0.0.0.0:port = every interface; loopback by default, as the "
            "Collector's)"},
    {.name = "path", .type = CFG_STRING, .offset = offsetof(struct health_check_config, path),
     .def = "/", .doc = "URL path of the health check (a path ending in '/' also answers below it)"},
    {.name = "response_body", .type = CFG_SECTION,
     .offset = offsetof(struct health_check_config, response_body), .sub = response_body_fields,
     .doc = "fixed bodies for the healthy and unhealthy answers"},
    /* a no-op in the Collector too (its code was removed as broken; the keys stay "for
     * backwards compatibility, but otherwise ignored"): typed, so a misspelt key is still an
     * error, and said */
    {.name = "check_collector_pipeline", .type = CFG_SECTION,
     .offset = offsetof(struct health_check_config, check_collector_pipeline),
     .sub = pipeline_check_fields, .doc = "the Collector's pipeline check",
     .no_effect = "the Collector ignores it too (its pipeline check was removed as broken); "
                  "health follows the service's state only"},
    {.name = "tls", .type = CFG_PRESENCE, .offset = offsetof(struct health_check_config, tls),
     .present_offset = offsetof(struct health_check_config, has_tls), .sub = tls_server_fields,
     .doc = "serve the check over HTTPS (certificate, key, client_ca_file, versions, "
            "reload_interval)"},
    {.name = "auth", .type = CFG_RAW, .offset = offsetof(struct health_check_config, auth),
     .doc = "not supported: must be absent (use tls.client_ca_file to require client "
            "certificates)"},
    {.name = "middlewares", .type = CFG_RAW,
     .offset = offsetof(struct health_check_config, middlewares),
     .doc = "not supported: must be absent or empty"},
    {.name = "cors", .type = CFG_SECTION, .offset = offsetof(struct health_check_config, cors),
     .sub = cors_fields, .doc = "cross-origin reads by browsers"},
    {.name = "response_headers", .type = CFG_STRING_MAP,
     .offset = offsetof(struct health_check_config, response_headers),
     .doc = "headers added to answers (warned when set: answers carry only their content type)"},
    {.name = "max_request_body_size", .type = CFG_INT,
     .offset = offsetof(struct health_check_config, max_request_body_size),
     .doc = "largest request body", .no_effect = HC_NO_BODY},
    {.name = "include_metadata", .type = CFG_BOOL,
     .offset = offsetof(struct health_check_config, include_metadata), .def = "false",
     .doc = "client metadata in the request context (warned when true: no data passes through "
            "the check)"},
    {.name = "compression_algorithms", .type = CFG_STRING_LIST,
     .offset = offsetof(struct health_check_config, compression_algorithms),
     .doc = "request encodings", .no_effect = HC_NO_BODY},
    {.name = "read_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct health_check_config, read_timeout), .doc = "request deadline",
     .no_effect = HC_TIMEOUTS},
    {.name = "read_header_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct health_check_config, read_header_timeout),
     .doc = "headers deadline", .no_effect = HC_TIMEOUTS},
    {.name = "write_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct health_check_config, write_timeout), .doc = "answer deadline",
     .no_effect = HC_TIMEOUTS},
    {.name = "idle_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct health_check_config, idle_timeout), .doc = "keep-alive wait",
     .no_effect = HC_TIMEOUTS},
    {.name = "keep_alives_enabled", .type = CFG_BOOL,
     .offset = offsetof(struct health_check_config, keep_alives_enabled), .def = "true",
     .doc = "HTTP keep-alive (warned when false: it is always on)"},
    {.name = NULL},
};

struct health_check {
    const struct health_check_config *cfg;
    const _Atomic int *state;
    char *log_name;
    struct admin_http *http;
    /* When the extension started, just before the pipelines (the Collector's upSince is when
     * they all became ready; the difference is the start-up time). Set before the server
     * thread exists, read-only after. */
    int64_t up_since_ns;             /* CLOCK_MONOTONIC */
    int64_t up_since_wall;           /* CLOCK_REALTIME, ns */
};

static int health_check_validate(const void *cfgp, struct error *err)
{
    const struct health_check_config *cfg = cfgp;
    if (admin_http_refuse_auth(cfg->auth, "the health check", err) ||
        admin_http_refuse_middlewares(cfg->middlewares, err))
        return -1;
    if (cfg->has_tls && admin_http_tls_validate(&cfg->tls, err))
        return -1;
    if (!cfg->path || cfg->path[0] != '/')
        return error_set(err, "path must start with '/'");
    if (!cfg->endpoint || !strchr(cfg->endpoint, ':'))
        return error_set(err, "endpoint '%s' must be host:port", cfg->endpoint ? cfg->endpoint : "");
    return 0;
}

/* The server keys whose effect depends on the value: the values that do what is done here
 * anyway (no CORS origin, no extra header, no metadata, keep-alive on) pass in silence. */
static void health_check_warn(const void *cfgp, const struct cnode *node,
                              const struct config_warn_sink *w)
{
    const struct health_check_config *cfg = cfgp;
    if (cfg->cors.allowed_origins.n)
        config_warnf(w, cnode_find_key(node, "cors.allowed_origins"), "cors.allowed_origins",
                     "has no effect: no CORS headers are sent, so browsers on other origins "
                     "cannot read the answer");
    if (cfg->response_headers.n)
        config_warnf(w, cnode_find_key(node, "response_headers"), "response_headers",
                     "has no effect: answers carry only their content type");
    if (cfg->include_metadata)
        config_warnf(w, cnode_find_key(node, "include_metadata"), "include_metadata",
                     "true has no effect: no data passes through the health check");
    if (!cfg->keep_alives_enabled)
        config_warnf(w, cnode_find_key(node, "keep_alives_enabled"), "keep_alives_enabled",
                     "false has no effect: keep-alive is always on");
}

/* Go's time.Duration.String() for d >= 0: "1h2m3.5s", "4.2s", "750ms". */
static void go_duration(int64_t d, char *buf, size_t len)
{
    if (d <= 0) {
        snprintf(buf, len, "0s");
        return;
    }
    if (d < 1000000000) {
        const char *unit = d < 1000 ? "ns" : d < 1000000 ? "µs" : "ms";
        int64_t div = d < 1000 ? 1 : d < 1000000 ? 1000 : 1000000;
        char frac[16] = "";
        int64_t rem = d % div;
        if (rem) {
            int digits = div == 1000 ? 3 : 6;
            snprintf(frac, sizeof frac, ".%0*lld", digits, (long long)rem);
            for (size_t n = strlen(frac); n > 1 && frac[n - 1] == '0'; n--)
                frac[n - 1] = '\0';
        }
        snprintf(buf, len, "%lld%s%s", (long long)(d / div), frac, unit);
        return;
    }
    int64_t secs = d / 1000000000, ns = d % 1000000000;
    char frac[16] = "";
    if (ns) {
        snprintf(frac, sizeof frac, ".%09lld", (long long)ns);
        for (size_t n = strlen(frac); n > 1 && frac[n - 1] == '0'; n--)
            frac[n - 1] = '\0';
    }
    int64_t h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
    if (h)
        snprintf(buf, len, "%lldh%lldm%lld%ss", (long long)h, (long long)m, (long long)s, frac);
    else if (m)
        snprintf(buf, len, "%lldm%lld%ss", (long long)m, (long long)s, frac);
    else
        snprintf(buf, len, "%lld%ss", (long long)s, frac);
}

/* RFC 3339 with nanoseconds in UTC, as Go's time.Time marshals to JSON. */
static void rfc3339(int64_t wall_ns, char *buf, size_t len)
{
    time_t secs = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%09dZ", (int)(wall_ns % 1000000000));
}

static bool path_matches(const char *want, const char *got)
{
    if (strcmp(want, got) == 0)
        return true;
    /* Go's ServeMux, which the Collector uses: a pattern ending in '/' names a subtree. */
    size_t n = strlen(want);
    return n > 0 && want[n - 1] == '/' && strncmp(want, got, n) == 0;
}

static void on_get(void *ctx, const char *path, struct admin_http_reply *reply)
{
    struct health_check *h = ctx;
    if (!path_matches(h->cfg->path, path)) {
        admin_http_not_found(reply);
        return;
    }
    int state = h->state ? atomic_load(h->state) : SERVICE_READY;
    bool healthy = state == SERVICE_READY;
    reply->status = healthy ? 200 : 503;
    const char *fixed = healthy ? h->cfg->response_body.healthy : h->cfg->response_body.unhealthy;
    if (fixed) {
        reply->content_type = "text/plain; charset=utf-8";
        reply->body = strdup(fixed);
    } else {
        char since[64] = "0001-01-01T00:00:00Z", uptime[64] = "";
        if (healthy) {
            rfc3339(h->up_since_wall, since, sizeof since);
            go_duration(clock_now_ns() - h->up_since_ns, uptime, sizeof uptime);
        }
        reply->content_type = "application/json";
        if (asprintf(&reply->body, "{\"status\":\"%s\",\"upSince\":\"%s\",\"uptime\":\"%s\"}",
                     healthy ? "Server available" : "Server not available", since, uptime) < 0)
            reply->body = NULL;
    }
    reply->len = reply->body ? strlen(reply->body) : 0;
    if (!reply->body)
        reply->status = 500;
}

static void *health_check_create(const void *cfgp, const struct component_env *env,
                                 struct error *err)
{
    struct health_check *h = calloc(1, sizeof *h);
    if (!h || !(h->log_name = strdup(env->log_name ? env->log_name : "extension/health_check"))) {
        free(h);
        error_set(err, "out of memory");
        return NULL;
    }
    h->cfg = cfgp;
    h->state = env->service_state; /* check_collector_pipeline: reported at load (no_effect) */
    return h;
}

static int health_check_start(void *self, struct error *err)
{
    struct health_check *h = self;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h->up_since_wall = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    h->up_since_ns = clock_now_ns();
    h->http = admin_http_start_tls(h->cfg->endpoint, h->log_name, on_get, h,
                                   h->cfg->has_tls ? &h->cfg->tls : NULL, "tls", err);
    if (!h->http)
        return -1;
    log_info(h->log_name, "health check at %s://%s%s (port %u)", h->cfg->has_tls ? "https" : "http",
             h->cfg->endpoint, h->cfg->path, (unsigned)admin_http_port(h->http));
    return 0;
}

static void health_check_shutdown(void *self, int64_t deadline_ns)
{
    (void)deadline_ns;
    struct health_check *h = self;
    admin_http_stop(h->http);
    h->http = NULL;
}

static void health_check_destroy(void *self)
{
    struct health_check *h = self;
    admin_http_stop(h->http);
    free(h->log_name);
    free(h);
}

uint16_t health_check_port(const void *ext)
{
    const struct health_check *h = ext;
    return h ? admin_http_port(h->http) : 0;
}

const struct component_factory health_check_extension_factory = {
    .type = "health_check",
    .kind = COMPONENT_EXTENSION,
    .doc = "HTTP health endpoint: 200 while every pipeline runs, 503 while starting or stopping",
    .fields = health_check_fields,
    .config_size = sizeof(struct health_check_config),
    .validate = health_check_validate,
    .warn = health_check_warn,
    .create = health_check_create,
    .start = health_check_start,
    .shutdown = health_check_shutdown,
    .destroy = health_check_destroy,
};
