/* zpages.c — the `zpages` extension: the Collector's live debugging pages, on <endpoint>/debug/.
 *
 * The one idea: every page is rendered at request time from what the service already knows
 * (component_env.service, read-only for the life of the components), so the extension keeps no
 * copy of the pipeline graph and cannot drift from it. Pages are plain HTML tables like the
 * Collector's: servicez (build and run-time facts, links), pipelinez (each pipeline's receivers,
 * processors and exporters), extensionz (the extensions of service.extensions), featurez (the
 * feature gates llmotlp knows and their state, as `llmotlp featuregate` lists them), tracez
 * (llmotlp makes no traces of its own, and the page says so instead of showing an empty span
 * table). /debug/rpcz is not served, as in
 * current Collectors (it went with OpenCensus), and neither is /debug/expvarz (Go runtime
 * variables; see `expvar`). */
#include "extensions/zpages/zpages.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/admin_http.h"
#include "core/component.h"
#include "core/config.h"
#include "core/featuregate.h"
#include "core/log.h"
#include "core/service.h"
#include "core/tls_config.h"
#include "core/version.h"
#include "core/admin_http_config.h"

struct zpages_expvar {
    bool enabled;
};

/* The Collector's zpages config is confighttp's server config plus `expvar`. endpoint and tls
 * act here; auth and middlewares are refused rather than ignored (the pages must not look more
 * protected than they are), and the rest are accepted with the reason they change nothing. */
struct zpages_config {
    char *endpoint;
    struct zpages_expvar expvar;
    struct tls_server_config tls;
    bool has_tls;
    const struct cnode *auth, *middlewares, *cors, *response_headers;
    int64_t max_request_body_size;
    bool include_metadata;
    struct config_str_list compression_algorithms;
    int64_t read_timeout, read_header_timeout, write_timeout, idle_timeout;
    bool keep_alives_enabled;
};

static const struct config_field expvar_fields[] = {
    {.name = "enabled", .type = CFG_BOOL, .offset = offsetof(struct zpages_expvar, enabled),
     .def = "false",
     .doc = "serve /debug/expvarz (Go runtime variables): true is warned about, there are none"},
    {.name = NULL},
};

#define ZP_NO_BODY "the pages take no request body"
#define ZP_TIMEOUTS "connections are closed after 30 s without traffic"

static const struct config_field zpages_fields[] = {
    {.name = "endpoint", .type = CFG_STRING, .offset = offsetof(struct zpages_config, endpoint),
     .def = "localhost:55679",
     .doc = "host:port to serve the pages on (\":port\" = every interface; loopback by default, "
            "as the Collector's)"},
    {.name = "expvar", .type = CFG_SECTION, .offset = offsetof(struct zpages_config, expvar),
     .sub = expvar_fields, .doc = "the Go expvar page"},
    {.name = "tls", .type = CFG_PRESENCE, .offset = offsetof(struct zpages_config, tls),
     .present_offset = offsetof(struct zpages_config, has_tls), .sub = tls_server_fields,
     .doc = "serve the pages over HTTPS (certificate, key, client_ca_file, versions, "
            "reload_interval)"},
    {.name = "auth", .type = CFG_RAW, .offset = offsetof(struct zpages_config, auth),
     .doc = "not supported: must be absent (use tls.client_ca_file to require client "
            "certificates)"},
    {.name = "middlewares", .type = CFG_RAW, .offset = offsetof(struct zpages_config, middlewares),
     .doc = "not supported: must be absent or empty"},
    {.name = "cors", .type = CFG_RAW, .offset = offsetof(struct zpages_config, cors),
     .doc = "cross-origin reads by browsers",
     .no_effect = "no CORS headers are sent: other origins cannot read the pages"},
    {.name = "response_headers", .type = CFG_RAW,
     .offset = offsetof(struct zpages_config, response_headers), .doc = "headers added to answers",
     .no_effect = "answers carry only their content type"},
    {.name = "max_request_body_size", .type = CFG_INT,
     .offset = offsetof(struct zpages_config, max_request_body_size), .doc = "largest body",
     .no_effect = ZP_NO_BODY},
    {.name = "include_metadata", .type = CFG_BOOL,
     .offset = offsetof(struct zpages_config, include_metadata), .doc = "client metadata",
     .no_effect = "no data passes through the pages", .harmless = "false"},
    {.name = "compression_algorithms", .type = CFG_STRING_LIST,
     .offset = offsetof(struct zpages_config, compression_algorithms),
     .doc = "request encodings", .no_effect = ZP_NO_BODY},
    {.name = "read_timeout", .type = CFG_DURATION, .offset = offsetof(struct zpages_config, read_timeout),
     .doc = "request deadline", .no_effect = ZP_TIMEOUTS},
    {.name = "read_header_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct zpages_config, read_header_timeout), .doc = "headers deadline",
     .no_effect = ZP_TIMEOUTS},
    {.name = "write_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct zpages_config, write_timeout), .doc = "answer deadline",
     .no_effect = ZP_TIMEOUTS},
    {.name = "idle_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct zpages_config, idle_timeout), .doc = "keep-alive wait",
     .no_effect = ZP_TIMEOUTS},
    {.name = "keep_alives_enabled", .type = CFG_BOOL,
     .offset = offsetof(struct zpages_config, keep_alives_enabled), .def = "true",
     .doc = "HTTP keep-alive", .no_effect = "keep-alive is always on",
     .harmless = "true"},
    {.name = NULL},
};

struct zpages {
    const struct zpages_config *cfg;
    const struct service *service;
    char *log_name;
    struct admin_http *http;
    int64_t started_wall;             /* CLOCK_REALTIME ns at start; read-only after */
    int64_t started_mono;
};

static int zpages_validate(const void *cfgp, struct error *err)
{
    const struct zpages_config *cfg = cfgp;
    /* the Collector's own check, in its words */
    if (!cfg->endpoint || !*cfg->endpoint)
        return error_set(err, "\"endpoint\" is required when using the \"zpages\" extension");
    if (!strchr(cfg->endpoint, ':'))
        return error_set(err, "endpoint '%s' must be host:port", cfg->endpoint);
    if (admin_http_refuse_auth(cfg->auth, "the pages", err) ||
        admin_http_refuse_middlewares(cfg->middlewares, err))
        return -1;
    if (cfg->has_tls && admin_http_tls_validate(&cfg->tls, err))
        return -1;
    return 0;
}

static void zpages_warn(const void *cfgp, const struct cnode *node, const struct config_warn_sink *w)
{
    const struct zpages_config *cfg = cfgp;
    if (cfg->expvar.enabled)
        config_warnf(w, cnode_find_key(node, "expvar.enabled"), "expvar.enabled",
                     "has no effect: /debug/expvarz shows Go runtime variables, and llmotlp is "
                     "not a Go program; the page is not served");
}

/* ---- rendering ------------------------------------------------------------------------------- */

static void put_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void page_head(FILE *f, const char *title)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>%s</title>\n<style>body{font-family:sans-serif} "
               "table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:2px 8px;"
               "text-align:left;vertical-align:top}</style></head>\n<body>\n<h1>%s</h1>\n",
            title, title);
}

static void page_tail(FILE *f)
{
    fputs("<p><a href=\"/debug/servicez\">servicez</a> | <a href=\"/debug/pipelinez\">pipelinez</a>"
          " | <a href=\"/debug/extensionz\">extensionz</a> | <a href=\"/debug/featurez\">featurez</a>"
          " | <a href=\"/debug/tracez\">tracez</a></p>\n</body></html>\n", f);
}

/* The command line, arguments separated by spaces, from /proc (empty when unreadable). */
static void put_cmdline(FILE *f)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    while (n > 0 && buf[n - 1] == '\0')
        n--;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    put_escaped(f, buf);
}

static void put_time(FILE *f, int64_t wall_ns)
{
    time_t secs = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char b[64];
    strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", &tm);
    fputs(b, f);
}

static void render_servicez(const struct zpages *z, FILE *f)
{
    page_head(f, "llmotlp: service");
    fputs("<h2>Build info</h2>\n<table>\n<tr><th>Command</th><td>", f);
    put_cmdline(f);
    fputs("</td></tr>\n<tr><th>Description</th><td>llmotlp, an OTLP service for LLM "
          "telemetry</td></tr>\n", f);
    fprintf(f, "<tr><th>Version</th><td>%s</td></tr>\n</table>\n", LLMOTLP_VERSION);
    fputs("<h2>Runtime info</h2>\n<table>\n<tr><th>Start time</th><td>", f);
    put_time(f, z->started_wall);
    int64_t up = (clock_now_ns() - z->started_mono) / 1000000000;
    fprintf(f, "</td></tr>\n<tr><th>Uptime</th><td>%lldh%02lldm%02llds</td></tr>\n",
            (long long)(up / 3600), (long long)(up / 60 % 60), (long long)(up % 60));
    fprintf(f, "<tr><th>PID</th><td>%ld</td></tr>\n", (long)getpid());
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    fprintf(f, "<tr><th>CPUs</th><td>%ld</td></tr>\n</table>\n", cpus);
    page_tail(f);
}

static void put_members(FILE *f, const struct service *s, size_t i, enum service_role role)
{
    fputs("<td>", f);
    const char *id;
    for (size_t j = 0; (id = service_pipeline_member(s, i, role, j)); j++) {
        if (j)
            fputs(" &rarr; ", f);
        put_escaped(f, id);
    }
    fputs("</td>", f);
}

static void render_pipelinez(const struct zpages *z, FILE *f)
{
    page_head(f, "llmotlp: pipelines");
    fputs("<table>\n<tr><th>Full Name</th><th>Input Type</th><th>Receivers</th>"
          "<th>Processors</th><th>Exporters</th></tr>\n", f);
    size_t n = z->service ? service_pipeline_count(z->service) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *id = service_pipeline_id(z->service, i);
        size_t tl = strcspn(id, "/");
        fputs("<tr><td>", f);
        put_escaped(f, id);
        fprintf(f, "</td><td>%.*s</td>", (int)tl, id);
        put_members(f, z->service, i, SERVICE_ROLE_RECEIVERS);
        put_members(f, z->service, i, SERVICE_ROLE_PROCESSORS);
        put_members(f, z->service, i, SERVICE_ROLE_EXPORTERS);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    if (n == 0)
        fputs("<p>No pipelines.</p>\n", f);
    page_tail(f);
}

static void render_extensionz(const struct zpages *z, FILE *f)
{
    page_head(f, "llmotlp: extensions");
    fputs("<table>\n<tr><th>Extension</th></tr>\n", f);
    size_t n = z->service ? service_extension_count(z->service) : 0;
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><td>", f);
        put_escaped(f, service_extension_id(z->service, i));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    page_tail(f);
}

static void render_featurez(FILE *f)
{
    page_head(f, "llmotlp: feature gates");
    fputs("<table>\n<tr><th>ID</th><th>Enabled</th><th>Stage</th><th>Description</th></tr>\n", f);
    for (size_t i = 0; i < featuregate_count(); i++) {
        const struct featuregate *g = featuregate_at(i);
        fputs("<tr><td>", f);
        put_escaped(f, g->id);
        fprintf(f, "</td><td>%s</td><td>", featuregate_enabled(g->id) ? "true" : "false");
        put_escaped(f, featuregate_stage_name(g->stage));
        fputs("</td><td>", f);
        put_escaped(f, g->description);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    page_tail(f);
}

static void render_tracez(FILE *f)
{
    page_head(f, "llmotlp: traces");
    fputs("<p>llmotlp makes no traces of its own, so there are no spans to show here. Its own "
          "metrics are served by service.telemetry.metrics (Prometheus text at /metrics).</p>\n", f);
    page_tail(f);
}

static void on_get(void *ctx, const char *path, struct admin_http_reply *reply)
{
    const struct zpages *z = ctx;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    /* the Collector's mux: exact paths only */
    enum { SERVICEZ, PIPELINEZ, EXTENSIONZ, FEATUREZ, TRACEZ, NONE } page = NONE;
    if (strcmp(path, "/debug/servicez") == 0)
        page = SERVICEZ;
    else if (strcmp(path, "/debug/pipelinez") == 0)
        page = PIPELINEZ;
    else if (strcmp(path, "/debug/extensionz") == 0)
        page = EXTENSIONZ;
    else if (strcmp(path, "/debug/featurez") == 0)
        page = FEATUREZ;
    else if (strcmp(path, "/debug/tracez") == 0)
        page = TRACEZ;
    if (page == NONE) {
        admin_http_not_found(reply);
        return;
    }
    if (!(f = open_memstream(&buf, &len))) {
        reply->status = 500;
        return;
    }
    switch (page) {
    case SERVICEZ: render_servicez(z, f); break;
    case PIPELINEZ: render_pipelinez(z, f); break;
    case EXTENSIONZ: render_extensionz(z, f); break;
    case FEATUREZ: render_featurez(f); break;
    default: render_tracez(f); break;
    }
    if (fclose(f) != 0 || !buf) {
        free(buf);
        reply->status = 500;
        return;
    }
    reply->status = 200;
    reply->content_type = "text/html; charset=utf-8";
    reply->body = buf;
    reply->len = len;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void *zpages_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    struct zpages *z = calloc(1, sizeof *z);
    if (!z || !(z->log_name = strdup(env->log_name ? env->log_name : "extension/zpages"))) {
        free(z);
        error_set(err, "out of memory");
        return NULL;
    }
    z->cfg = cfgp;
    z->service = env->service;
    return z;
}

static int zpages_start(void *self, struct error *err)
{
    struct zpages *z = self;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    z->started_wall = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    z->started_mono = clock_now_ns();
    z->http = admin_http_start_tls(z->cfg->endpoint, z->log_name, on_get, z,
                                   z->cfg->has_tls ? &z->cfg->tls : NULL, "tls", err);
    if (!z->http)
        return -1;
    log_info(z->log_name, "zpages at %s://%s/debug/servicez (port %u)",
             z->cfg->has_tls ? "https" : "http", z->cfg->endpoint,
             (unsigned)admin_http_port(z->http));
    return 0;
}

static void zpages_shutdown(void *self, int64_t deadline_ns)
{
    (void)deadline_ns;
    struct zpages *z = self;
    admin_http_stop(z->http);
    z->http = NULL;
}

static void zpages_destroy(void *self)
{
    struct zpages *z = self;
    admin_http_stop(z->http);
    free(z->log_name);
    free(z);
}

uint16_t zpages_port(const void *ext)
{
    const struct zpages *z = ext;
    return z ? admin_http_port(z->http) : 0;
}

const struct component_factory zpages_extension_factory = {
    .type = "zpages",
    .kind = COMPONENT_EXTENSION,
    .doc = "live debugging pages on /debug/: servicez, pipelinez, extensionz, featurez, tracez",
    .fields = zpages_fields,
    .config_size = sizeof(struct zpages_config),
    .validate = zpages_validate,
    .warn = zpages_warn,
    .create = zpages_create,
    .start = zpages_start,
    .shutdown = zpages_shutdown,
    .destroy = zpages_destroy,
};
