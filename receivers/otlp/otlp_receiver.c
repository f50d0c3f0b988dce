/* otlp_receiver.c — the `otlp` receiver: the Collector's config keys, the factory, and the one
 * export handler that turns a request's bytes into a batch, runs the pipeline and maps its answer
 * to an OTLP status (OK, partial success, INVALID_ARGUMENT, UNAVAILABLE with RetryInfo).
 *
 * The one idea: the pipeline runs synchronously on the protocol's worker thread and only ever
 * answers OK / RETRY / REJECT, so this file is a pure mapping from that answer (plus the batch's
 * rejected count) to the sender's status; gRPC mechanics live in grpc_server.c, HTTP mechanics in
 * http_server.c, and each protocol calls the handler with its own counters (transport label). */
#include "receivers/otlp/otlp_receiver.h"

#include <grpc/status.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/grpc_common.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "core/unix_socket.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

/* ---- config tables (keys and defaults as the Collector's otlpreceiver) ------------------------ */

static const struct config_field ka_server_fields[] = {
    {.name = "max_connection_idle", .type = CFG_DURATION,
     .offset = offsetof(struct otlp_keepalive_config, server_parameters.max_connection_idle),
     .doc = "close connections idle this long (0 = never)"},
    {.name = "max_connection_age", .type = CFG_DURATION,
     .offset = offsetof(struct otlp_keepalive_config, server_parameters.max_connection_age),
     .doc = "close connections after this age (0 = never)"},
    {.name = "max_connection_age_grace", .type = CFG_DURATION,
     .offset = offsetof(struct otlp_keepalive_config, server_parameters.max_connection_age_grace),
     .doc = "time given to calls in flight after max_connection_age"},
    {.name = "time", .type = CFG_DURATION,
     .offset = offsetof(struct otlp_keepalive_config, server_parameters.time),
     .doc = "ping an idle connection after this long (0 = gRPC default, 2h)"},
    {.name = "timeout", .type = CFG_DURATION,
     .offset = offsetof(struct otlp_keepalive_config, server_parameters.timeout),
     .doc = "close the connection when a ping is not answered within this"},
    {.name = NULL},
};

static const struct config_field ka_enforcement_fields[] = {
    {.name = "min_time", .type = CFG_DURATION,
     .offset = offsetof(struct otlp_keepalive_config, enforcement_policy.min_time),
     .doc = "shortest client ping interval tolerated (0 = gRPC default, 5m)"},
    {.name = "permit_without_stream", .type = CFG_BOOL,
     .offset = offsetof(struct otlp_keepalive_config, enforcement_policy.permit_without_stream),
     .def = "false", .doc = "allow client pings when no call is open"},
    {.name = NULL},
};

/* Both sub-tables bind into struct otlp_keepalive_config itself (offsets are absolute). */
static const struct config_field keepalive_fields[] = {
    {.name = "server_parameters", .type = CFG_SECTION, .offset = 0, .sub = ka_server_fields,
     .doc = "server-side connection limits and pings"},
    {.name = "enforcement_policy", .type = CFG_SECTION, .offset = 0, .sub = ka_enforcement_fields,
     .doc = "what client pings the server tolerates"},
    {.name = NULL},
};

static const struct config_field grpc_fields[] = {
    {.name = "endpoint", .type = CFG_STRING, .offset = offsetof(struct otlp_grpc_config, endpoint),
     .def = "localhost:4317",
     .doc = "host:port to listen on (\":port\" or 0.0.0.0:port = every interface; the default "
            "is loopback only, as the Collector's)"},
    {.name = "transport", .type = CFG_STRING, .offset = offsetof(struct otlp_grpc_config, transport),
     .def = "tcp",
     .doc = "tcp, tcp4, tcp6 or unix (endpoint is then a socket path; a stale socket file is "
            "replaced, and the file is removed at shutdown)"},
    {.name = "max_recv_msg_size_mib", .type = CFG_INT,
     .offset = offsetof(struct otlp_grpc_config, max_recv_msg_size_mib), .def = "4",
     .doc = "largest request accepted, after decompression (MiB); larger = RESOURCE_EXHAUSTED"},
    {.name = "max_concurrent_streams", .type = CFG_INT,
     .offset = offsetof(struct otlp_grpc_config, max_concurrent_streams), .def = "0",
     .doc = "calls in flight per connection (0 = unlimited)"},
    /* Buffer sizes tune, include_metadata feeds components (batch's metadata_keys, header
     * setters) that refuse or lack it here: none changes what is delivered, so they are
     * no_effect warnings, not errors. */
    {.name = "read_buffer_size", .type = CFG_INT,
     .offset = offsetof(struct otlp_grpc_config, read_buffer_size), .def = "524288",
     .doc = "read buffer in bytes", .no_effect = "gRPC core sizes its read buffers itself"},
    {.name = "write_buffer_size", .type = CFG_INT,
     .offset = offsetof(struct otlp_grpc_config, write_buffer_size), .def = "0",
     .doc = "write buffer in bytes", .no_effect = "gRPC core sizes its write buffers itself"},
    {.name = "include_metadata", .type = CFG_BOOL,
     .offset = offsetof(struct otlp_grpc_config, include_metadata), .def = "false",
     .doc = "pass client metadata downstream",
     .no_effect = "client metadata is not passed downstream", .harmless = "false"},
    {.name = "keepalive", .type = CFG_SECTION, .offset = offsetof(struct otlp_grpc_config, keepalive),
     .sub = keepalive_fields, .doc = "connection keepalive and age limits"},
    {.name = "tls", .type = CFG_PRESENCE, .offset = offsetof(struct otlp_grpc_config, tls),
     .present_offset = offsetof(struct otlp_grpc_config, has_tls), .sub = tls_server_fields,
     .doc = "serve TLS (absent = plaintext)"},
    {.name = "num_threads", .type = CFG_INT, .offset = offsetof(struct otlp_grpc_config, num_threads),
     .def = "2", .min = 1, .max = 64,
     .doc = "worker threads, each with its own completion queue; the pipeline runs on them"},
    {.name = "auth", .type = CFG_PRESENCE, .offset = offsetof(struct otlp_grpc_config, auth),
     .present_offset = offsetof(struct otlp_grpc_config, has_auth), .sub = auth_config_fields,
     .doc = "authenticate calls with an authenticator extension (UNAUTHENTICATED before the "
            "message is read)"},
    {.name = NULL},
};

static const struct config_field cors_fields[] = {
    {.name = "allowed_origins", .type = CFG_STRING_LIST,
     .offset = offsetof(struct otlp_cors_config, allowed_origins),
     .doc = "origins allowed: exact, \"*\", or one \"*\" wildcard (https://*.example.com); "
            "empty = no CORS"},
    {.name = "allowed_headers", .type = CFG_STRING_LIST,
     .offset = offsetof(struct otlp_cors_config, allowed_headers),
     .doc = "request headers allowed besides Accept, Accept-Language, Content-Type, "
            "Content-Language and Origin (\"*\" = any)"},
    {.name = "max_age", .type = CFG_INT, .offset = offsetof(struct otlp_cors_config, max_age),
     .def = "0", .doc = "preflight cache time in seconds"},
    {.name = NULL},
};

static const struct config_field http_fields[] = {
    {.name = "endpoint", .type = CFG_STRING, .offset = offsetof(struct otlp_http_config, endpoint),
     .def = "localhost:4318",
     .doc = "host:port to listen on (0.0.0.0:port = every interface; the default is loopback "
            "only, as the Collector's), or the socket path with transport unix"},
    {.name = "transport", .type = CFG_STRING, .offset = offsetof(struct otlp_http_config, transport),
     .def = "tcp",
     .doc = "tcp, tcp4 (IPv4 only), tcp6 (IPv6 only) or unix (endpoint is then a socket path; "
            "a stale socket file is replaced, and the file is removed at shutdown)"},
    {.name = "max_request_body_size", .type = CFG_INT,
     .offset = offsetof(struct otlp_http_config, max_request_body_size), .def = "20971520",
     .doc = "largest request body in bytes, before and after decompression (0 = 20 MiB); "
            "larger = 413"},
    {.name = "traces_url_path", .type = CFG_STRING,
     .offset = offsetof(struct otlp_http_config, traces_url_path), .def = "/v1/traces",
     .doc = "path for trace exports"},
    {.name = "metrics_url_path", .type = CFG_STRING,
     .offset = offsetof(struct otlp_http_config, metrics_url_path), .def = "/v1/metrics",
     .doc = "path for metric exports"},
    {.name = "logs_url_path", .type = CFG_STRING,
     .offset = offsetof(struct otlp_http_config, logs_url_path), .def = "/v1/logs",
     .doc = "path for log exports"},
    {.name = "include_metadata", .type = CFG_BOOL,
     .offset = offsetof(struct otlp_http_config, include_metadata), .def = "false",
     .doc = "pass request headers downstream",
     .no_effect = "request headers are not passed downstream", .harmless = "false"},
    {.name = "cors", .type = CFG_SECTION, .offset = offsetof(struct otlp_http_config, cors),
     .sub = cors_fields, .doc = "cross-origin requests from browsers"},
    {.name = "response_headers", .type = CFG_STRING_MAP,
     .offset = offsetof(struct otlp_http_config, response_headers), .doc = "headers added to responses",
     .secret = true},
    {.name = "compression_algorithms", .type = CFG_STRING_LIST,
     .offset = offsetof(struct otlp_http_config, compression_algorithms),
     .doc = "request encodings accepted (gzip, zlib, deflate; empty = all of them); "
            "zstd, snappy and lz4 may be listed, as in the Collector's default, but are not "
            "served (warned about)"},
    /* Deadlines, not inactivity limits: a client dripping a byte every few seconds is cut when
     * its deadline passes (http_server.c's sweeper). Defaults are confighttp's. */
    {.name = "read_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct otlp_http_config, read_timeout), .def = "0s",
     .doc = "deadline to read a whole request, headers and body (0 = none); the connection is "
            "closed when it passes"},
    {.name = "read_header_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct otlp_http_config, read_header_timeout), .def = "1m",
     .doc = "deadline to read a request's headers, from the connection's accept (TLS handshake "
            "included); 0 = read_timeout"},
    {.name = "write_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct otlp_http_config, write_timeout), .def = "30s",
     .doc = "deadline from the end of a request's headers to the end of its answer (0 = none)"},
    {.name = "idle_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct otlp_http_config, idle_timeout), .def = "1m",
     .doc = "how long a kept-alive connection may wait for its next request (its headers then "
            "have read_header_timeout more); 0 = read_timeout"},
    {.name = "max_connections", .type = CFG_INT,
     .offset = offsetof(struct otlp_http_config, max_connections), .def = "2048", .min = 1,
     .max = 1000000,
     .doc = "open connections at once (ours); more wait in the listen backlog until one "
            "closes. The soft open-files limit is raised to fit, as Go does for the Collector"},
    {.name = "max_connections_per_client", .type = CFG_INT,
     .offset = offsetof(struct otlp_http_config, max_connections_per_client), .def = "512",
     .min = 0, .max = 1000000,
     .doc = "open connections from one source address (ours; 0 = no limit); more are accepted "
            "and closed at once, so one client cannot take every connection"},
    {.name = "keep_alives_enabled", .type = CFG_BOOL,
     .offset = offsetof(struct otlp_http_config, keep_alives_enabled), .def = "true",
     .doc = "HTTP keep-alive"},
    {.name = "tls", .type = CFG_PRESENCE, .offset = offsetof(struct otlp_http_config, tls),
     .present_offset = offsetof(struct otlp_http_config, has_tls), .sub = tls_server_fields,
     .doc = "serve HTTPS (absent = plaintext)"},
    {.name = "num_threads", .type = CFG_INT, .offset = offsetof(struct otlp_http_config, num_threads),
     .def = "2", .min = 1, .max = 64,
     .doc = "HTTP server threads (libmicrohttpd pool); the pipeline runs on them"},
    {.name = "auth", .type = CFG_PRESENCE, .offset = offsetof(struct otlp_http_config, auth),
     .present_offset = offsetof(struct otlp_http_config, has_auth),
     .sub = auth_http_server_config_fields,
     .doc = "authenticate requests with an authenticator extension (401 before the body is read)"},
    {.name = NULL},
};

static const struct config_field protocols_fields[] = {
    {.name = "grpc", .type = CFG_PRESENCE, .offset = offsetof(struct otlp_protocols_config, grpc),
     .present_offset = offsetof(struct otlp_protocols_config, has_grpc), .sub = grpc_fields,
     .doc = "OTLP/gRPC"},
    {.name = "http", .type = CFG_PRESENCE, .offset = offsetof(struct otlp_protocols_config, http),
     .present_offset = offsetof(struct otlp_protocols_config, has_http), .sub = http_fields,
     .doc = "OTLP/HTTP: POST protobuf or JSON to /v1/traces, /v1/metrics, /v1/logs"},
    {.name = NULL},
};

static const struct config_field otlp_receiver_fields[] = {
    {.name = "protocols", .type = CFG_SECTION, .offset = offsetof(struct otlp_receiver_config, protocols),
     .sub = protocols_fields, .doc = "protocols to serve; at least one"},
    {.name = NULL},
};

/* What gRPC core 1.51's server credentials cannot do (see grpc_server.c: one key pair, an optional
 * client CA, no version, cipher or curve settings), refused rather than ignored so a
 * config never looks more secure than the server it runs. `where` is the tls section's path. */
static int validate_tls(const char *where, const struct tls_server_config *t, struct error *err)
{
    if (tls_server_validate(t, where, err))
        return -1;
    const struct tls_config *b = &t->base;
    if (tls_set(b->min_version) && strcmp(b->min_version, "1.2") != 0)
        return error_set(err, "%s.min_version: \"%s\" is not supported (gRPC core allows TLS 1.2 "
                         "and 1.3; use 1.2)", where, b->min_version);
    if (tls_set(b->max_version) && strcmp(b->max_version, "1.3") != 0)
        return error_set(err, "%s.max_version: \"%s\" is not supported (use 1.3 or leave empty)",
                         where, b->max_version);
    if (b->cipher_suites.n)
        return error_set(err, "%s.cipher_suites: not supported by gRPC core; leave empty", where);
    if (b->curve_preferences.n)
        return error_set(err, "%s.curve_preferences: not supported by gRPC core; leave empty", where);
    /* reloading is served on both protocols (core/tls_reload.c); only a setting with nothing to
     * reload is refused, as it would look like rotation that never happens */
    if (b->reload_interval < 0)
        return error_set(err, "%s.reload_interval: must be >= 0", where);
    if (b->reload_interval && !tls_set(b->cert_file) && !tls_set(b->key_file))
        return error_set(err, "%s.reload_interval: nothing to reload: the certificate and key are "
                         "inline (cert_pem, key_pem); use cert_file and key_file", where);
    if (t->client_ca_file_reload && !tls_set(t->client_ca_file))
        return error_set(err, "%s.client_ca_file_reload: needs client_ca_file", where);
    return 0;
}

/* The Collector's confignet takes every Go network name; a stream server can serve only the
 * stream ones, so the datagram and raw ones (udp, ip, unixgram, unixpacket) are refused here as
 * the Collector refuses them when it starts listening. */
static int validate_transport(const char *where, const char *t, const char *endpoint,
                              struct error *err)
{
    if (strcmp(t, "tcp") && strcmp(t, "tcp4") && strcmp(t, "tcp6") && strcmp(t, "unix"))
        return error_set(err, "%s.transport: \"%s\" is not supported; expected tcp, tcp4, tcp6 "
                         "or unix", where, t);
    if (strcmp(t, "unix") == 0) {
        const char *path = endpoint && strncmp(endpoint, "unix:", 5) == 0 ? endpoint + 5 : endpoint;
        if (unix_socket_check_path(path, err) != 0) {
            error_prefix(err, "%s.endpoint: ", where);
            return -1;
        }
    }
    return 0;
}

static int otlp_receiver_validate(const void *cfgp, struct error *err)
{
    const struct otlp_receiver_config *cfg = cfgp;
    const struct otlp_protocols_config *p = &cfg->protocols;
    if (!p->has_grpc && !p->has_http)
        return error_set(err, "must specify at least one protocol (protocols.grpc or protocols.http) "
                         "when using the otlp receiver");
    if (p->has_grpc) {
        const struct otlp_grpc_config *g = &p->grpc;
        if (!g->endpoint || !*g->endpoint)
            return error_set(err, "protocols.grpc.endpoint: must not be empty");
        if (g->max_recv_msg_size_mib <= 0)
            return error_set(err, "protocols.grpc.max_recv_msg_size_mib: must be > 0, got %lld",
                             (long long)g->max_recv_msg_size_mib);
        if (g->max_concurrent_streams < 0)
            return error_set(err, "protocols.grpc.max_concurrent_streams: must be >= 0");
        if (g->num_threads < 1 || g->num_threads > 64)
            return error_set(err, "protocols.grpc.num_threads: must be 1..64");
        const char *t = g->transport ? g->transport : "tcp";
        if (validate_transport("protocols.grpc", t, g->endpoint, err))
            return -1;
        if (g->has_tls && validate_tls("protocols.grpc.tls", &g->tls, err))
            return -1;
    }
    if (p->has_http) {
        const struct otlp_http_config *h = &p->http;
        if (h->max_request_body_size < 0)
            return error_set(err, "protocols.http.max_request_body_size: must be >= 0");
        if (!h->endpoint || !*h->endpoint)
            return error_set(err, "protocols.http.endpoint: must not be empty");
        if (h->num_threads < 1 || h->num_threads > 64)
            return error_set(err, "protocols.http.num_threads: must be 1..64");
        if (validate_transport("protocols.http", h->transport ? h->transport : "tcp", h->endpoint,
                               err))
            return -1;
        if (h->cors.max_age < 0)
            return error_set(err, "protocols.http.cors.max_age: must be >= 0");
        static const char *const known[] = {"", "identity", "gzip", "zlib", "deflate", "zstd",
                                            "snappy", "x-snappy-framed", "lz4", NULL};
        for (size_t i = 0; i < h->compression_algorithms.n; i++) {
            const char *a = h->compression_algorithms.items[i];
            size_t k = 0;
            while (known[k] && strcmp(known[k], a) != 0)
                k++;
            if (!known[k])
                return error_set(err, "protocols.http.compression_algorithms: unknown algorithm "
                                 "\"%s\"; expected gzip, zlib, deflate, zstd, snappy or lz4", a);
        }
        if (h->has_tls) {
            if (validate_tls("protocols.http.tls", &h->tls, err))
                return -1;
        }
    }
    return 0;
}

/* compression_algorithms may name the Collector's whole default list; the encodings we cannot
 * decode are warned about at their list item (a request using one is refused with 400), not
 * refused as config errors, so that list keeps loading. */
static void otlp_receiver_warn(const void *cfgp, const struct cnode *node,
                               const struct config_warn_sink *w)
{
    const struct otlp_receiver_config *cfg = cfgp;
    const char *gt = cfg->protocols.grpc.transport;
    if (cfg->protocols.has_grpc && gt && (strcmp(gt, "tcp4") == 0 || strcmp(gt, "tcp6") == 0))
        config_warnf(w, cnode_find_key(node, "protocols.grpc.transport"), "protocols.grpc.transport",
                     "\"%s\" has no effect: gRPC core listens on every address family the "
                     "endpoint resolves to (write an IPv4 or IPv6 address to choose one)", gt);
    if (!cfg->protocols.has_http)
        return;
    const struct config_str_list *l = &cfg->protocols.http.compression_algorithms;
    const char *key = "protocols.http.compression_algorithms";
    const struct cnode *k = cnode_find_key(node, key);
    const struct cnode *v = cnode_get(cnode_get(cnode_get(node, "protocols"), "http"),
                                      "compression_algorithms");
    for (size_t i = 0; i < l->n; i++) {
        const char *a = l->items[i];
        if (strcmp(a, "zstd") && strcmp(a, "snappy") && strcmp(a, "x-snappy-framed") &&
            strcmp(a, "lz4"))
            continue;
        const struct cnode *at = v && v->kind == CNODE_SEQ && i < v->n ? v->items[i] : k;
        config_warnf(w, at, key, "\"%s\" has no effect: only gzip, zlib and deflate are "
                     "decoded; requests in %s are refused with 400", a, a);
    }
}

/* ---- instance --------------------------------------------------------------------------------- */

enum { TP_GRPC, TP_HTTP, TP_COUNT };
static const char *const transport_names[TP_COUNT] = {"grpc", "http"};

struct otlp_receiver;

/* What one protocol hands the handler as `user`: its own counters, labelled transport="...". */
struct otlp_transport {
    struct otlp_receiver *r;
    _Atomic uint64_t *accepted[SIGNAL_COUNT];
    _Atomic uint64_t *refused[SIGNAL_COUNT];
    _Atomic uint64_t *malformed;          /* requests refused before their items could be counted */
    _Atomic uint64_t *repaired;           /* string fields repaired to valid UTF-8 */
    _Atomic uint64_t *unauthenticated;    /* requests refused by the authenticator */
};

struct otlp_receiver {
    const struct otlp_receiver_config *cfg;
    char *id;
    char *log_name;
    struct consumer *next[SIGNAL_COUNT];
    struct otlp_transport tp[TP_COUNT];
    struct otlp_grpc_server *grpc;
    struct otlp_http_server *http;
    struct log_gate refused_gate;         /* rate limit of the "refused" warning */
    struct log_gate repair_gate;          /* and of the "repaired" one */
    struct log_gate auth_gate;            /* and of the "unauthenticated" one */
};

static const char *const accepted_names[SIGNAL_COUNT] = {
    "otelcol_receiver_accepted_spans", "otelcol_receiver_accepted_metric_points",
    "otelcol_receiver_accepted_log_records"};
static const char *const refused_names[SIGNAL_COUNT] = {
    "otelcol_receiver_refused_spans", "otelcol_receiver_refused_metric_points",
    "otelcol_receiver_refused_log_records"};

static void *otlp_receiver_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    struct otlp_receiver *r = calloc(1, sizeof *r);
    if (!r) {
        error_set(err, "out of memory");
        return NULL;
    }
    r->cfg = cfgp;
    r->id = strdup(env->id ? env->id : "otlp");
    r->log_name = strdup(env->log_name ? env->log_name : "receiver/otlp");
    if (!r->id || !r->log_name) {
        free(r->id);
        free(r->log_name);
        free(r);
        error_set(err, "out of memory");
        return NULL;
    }
    for (int s = 0; s < SIGNAL_COUNT; s++)
        r->next[s] = env->next[s];
    const struct otlp_protocols_config *p = &r->cfg->protocols;
    for (int t = 0; t < TP_COUNT; t++) {
        struct otlp_transport *tp = &r->tp[t];
        tp->r = r;
        /* counters only for the protocols served, so /metrics shows no idle transport */
        if (!env->telemetry || (t == TP_GRPC && !p->has_grpc) || (t == TP_HTTP && !p->has_http))
            continue;
        char labels[512];
        snprintf(labels, sizeof labels, "receiver=\"%s\",transport=\"%s\"", r->id, transport_names[t]);
        for (int s = 0; s < SIGNAL_COUNT; s++) {
            tp->accepted[s] = telemetry_counter(env->telemetry, accepted_names[s], labels,
                                                "Items accepted and pushed into the pipeline.");
            tp->refused[s] = telemetry_counter(env->telemetry, refused_names[s], labels,
                                               "Items that could not be pushed into the pipeline.");
        }
        tp->malformed = telemetry_counter(env->telemetry, "llmotlp_receiver_malformed_requests", labels,
                                          "Requests refused as malformed (items not countable).");
        tp->repaired = telemetry_counter(env->telemetry, "llmotlp_receiver_repaired_strings", labels,
                                         "String fields that were not valid UTF-8 (or held a NUL), "
                                         "accepted with each bad byte replaced by U+FFFD.");
        tp->unauthenticated = telemetry_counter(env->telemetry,
                                                "llmotlp_receiver_unauthenticated_requests", labels,
                                                "Requests refused by the authenticator (401 / "
                                                "UNAUTHENTICATED) before their body was read.");
    }
    grpc_common_init(); /* ref-counted; paired with grpc_common_shutdown in destroy */
    return r;
}

/* Warns at most once per second about refused requests, so a flood of bad senders costs one
 * line a second; every refusal is still logged at debug level. */
static void refused_log(struct otlp_receiver *r, enum signal s, const char *why)
{
    log_debug(r->log_name, "refused %s request: %s", signal_name(s), why);
    uint64_t more = 0;
    if (!log_gate_pass(&r->refused_gate, clock_now_ns(), &more))
        return;
    if (more)
        log_warn(r->log_name, "refused %s request: %s (and %llu more refused since the last warning)",
                 signal_name(s), why, (unsigned long long)more);
    else
        log_warn(r->log_name, "refused %s request: %s", signal_name(s), why);
}

/* Once a second at most: a sender whose strings are not UTF-8 is told in the log, not refused. */
static void repaired_log(struct otlp_receiver *r, enum signal s, uint64_t n, const char *where)
{
    uint64_t more = 0;
    if (!log_gate_pass(&r->repair_gate, clock_now_ns(), &more))
        return;
    log_warn(r->log_name, "%s request: %llu string field%s not valid UTF-8 (or holding a NUL), "
             "each bad byte replaced by U+FFFD; first: %s%s", signal_name(s),
             (unsigned long long)n, n == 1 ? "" : "s", where,
             more ? " (more such requests since the last warning)" : "");
}

int otlp_receiver_authenticate(void *user, const struct auth_config *a, auth_header_fn get,
                               void *ctx, char *why, size_t why_len)
{
    if (!a || !a->server)
        return 0;
    if (a->server->authenticate(a->server, get, ctx, why, why_len) == 0)
        return 0;
    struct otlp_transport *tp = user;
    struct otlp_receiver *r = tp->r;
    telemetry_add(tp->unauthenticated, 1);
    const char *proto = tp == &r->tp[TP_GRPC] ? "gRPC" : "HTTP";
    log_debug(r->log_name, "refused unauthenticated %s request: %s", proto, why);
    /* once a second at most, as refused_log: a scanner hammering the port costs one line */
    uint64_t more = 0;
    if (!log_gate_pass(&r->auth_gate, clock_now_ns(), &more))
        return -1;
    if (more)
        log_warn(r->log_name, "refused unauthenticated %s request: %s (and %llu more since the "
                 "last warning)", proto, why, (unsigned long long)more);
    else
        log_warn(r->log_name, "refused unauthenticated %s request: %s", proto, why);
    return -1;
}

/* Packs Export*ServiceResponse{partial_success{rejected, message}}. NULL on OOM. */
static uint8_t *pack_partial_success(enum signal s, int64_t rejected, const char *msg, size_t *len)
{
    ProtobufCMessage *resp;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess tps =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse tr =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess mps =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse mr =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess lps =
        OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse lr =
        OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
    char *m = (char *)msg;
    switch (s) {
    case SIGNAL_TRACES:
        tps.rejected_spans = rejected;
        tps.error_message = m;
        tr.partial_success = &tps;
        resp = &tr.base;
        break;
    case SIGNAL_METRICS:
        mps.rejected_data_points = rejected;
        mps.error_message = m;
        mr.partial_success = &mps;
        resp = &mr.base;
        break;
    default:
        lps.rejected_log_records = rejected;
        lps.error_message = m;
        lr.partial_success = &lps;
        resp = &lr.base;
        break;
    }
    size_t n = protobuf_c_message_get_packed_size(resp);
    uint8_t *out = malloc(n ? n : 1);
    if (!out)
        return NULL;
    *len = protobuf_c_message_pack(resp, out);
    return out;
}

static void result_set(struct otlp_export_result *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void result_set(struct otlp_export_result *res, int status, const char *fmt, ...)
{
    res->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
}

static void otlp_export(void *user, enum signal s, uint8_t *data, size_t len,
                        struct otlp_export_result *res)
{
    struct otlp_transport *tp = user;
    struct otlp_receiver *r = tp->r;
    memset(res, 0, sizeof *res);
    if (!r->next[s]) {
        free(data);
        result_set(res, GRPC_STATUS_UNIMPLEMENTED, "no pipeline for %s", signal_name(s));
        return;
    }
    /* Validate in place (malformed protobuf, nesting bombs, wrong-length IDs), then hand the
     * buffer itself to the batch: the same check batch_from_wire does, without its copy. */
    struct error err = {0};
    struct otlp_scan_result sr = {0};
    if (len && otlp_scan(s, data, len, &sr, &err) != 0) {
        free(data);
        result_set(res, GRPC_STATUS_INVALID_ARGUMENT, "%s", err.msg);
        telemetry_add(tp->malformed, 1);
        refused_log(r, s, res->message);
        return;
    }
    if (sr.items == 0) { /* empty, no resources, or nothing in them: success, as the Collector */
        free(data);
        return;
    }
    if (sr.bad_strings) {
        /* Repaired, not refused: strict proto3 decoders downstream refuse a whole request over
         * one bad string, and the OTLP/JSON path repairs the same way. */
        uint8_t *fixed = NULL;
        size_t flen = 0;
        uint64_t n = 0;
        if (otlp_repair_strings(s, data, len, &fixed, &flen, &n, &err) != 0) {
            free(data);
            result_set(res, GRPC_STATUS_UNAVAILABLE, "%s; retry later", err.msg);
            res->retry_delay_ns = 1000000000;
            telemetry_add(tp->refused[s], sr.items);
            refused_log(r, s, res->message);
            return;
        }
        free(data);
        data = fixed;
        len = flen;
        telemetry_add(tp->repaired, n);
        repaired_log(r, s, n, sr.bad_string_where);
    }
    struct batch *b = batch_adopt_wire(s, data, len, sr.items); /* frees data on failure */
    if (!b) {
        result_set(res, GRPC_STATUS_UNAVAILABLE, "out of memory; retry later");
        res->retry_delay_ns = 1000000000;
        telemetry_add(tp->refused[s], sr.items);
        refused_log(r, s, res->message);
        return;
    }
    uint64_t items = sr.items;

    enum consume_status cs = consumer_send(r->next[s], b);
    char why[sizeof b->reject_msg];
    pthread_mutex_lock(&b->lock); /* reject_msg is written under the batch lock */
    memcpy(why, b->reject_msg, sizeof why);
    pthread_mutex_unlock(&b->lock);
    why[sizeof why - 1] = '\0';
    switch (cs) {
    case CONSUME_OK: {
        uint64_t rejected = atomic_load(&b->rejected);
        if (rejected > items)
            rejected = items;
        telemetry_add(tp->accepted[s], items - rejected);
        telemetry_add(tp->refused[s], rejected);
        /* rejected 0 with a message is the spec's "warning" form of partial success. If packing
         * fails the data was still taken: answer plain OK rather than make the sender retry. */
        if (rejected || why[0])
            res->response = pack_partial_success(s, (int64_t)rejected, why, &res->response_len);
        break;
    }
    case CONSUME_RETRY:
        telemetry_add(tp->refused[s], items);
        /* a stage that says why it refuses (memory_limiter) is quoted, unless the message is
         * about items dropped on purpose; else a queue stayed full */
        result_set(res, GRPC_STATUS_UNAVAILABLE, "%s; retry later",
                   why[0] && atomic_load(&b->rejected) == 0 ? why : "downstream is full");
        res->retry_delay_ns = 1000000000;
        refused_log(r, s, res->message);
        break;
    case CONSUME_REJECT:
    default:
        telemetry_add(tp->refused[s], items);
        result_set(res, GRPC_STATUS_INVALID_ARGUMENT, "rejected by pipeline: %s",
                   why[0] ? why : "permanent error");
        refused_log(r, s, res->message);
        break;
    }
    batch_unref(b);
}

/* A request refused by a transport before the handler saw it (HTTP: undecodable body, too
 * large, bad content type; gRPC: a compressed message past the limit or corrupt). */
static void otlp_refused(void *user, enum signal s, const char *why)
{
    struct otlp_transport *tp = user;
    telemetry_add(tp->malformed, 1);
    refused_log(tp->r, s, why);
}

static int otlp_receiver_start(void *self, struct error *err)
{
    struct otlp_receiver *r = self;
    const struct otlp_protocols_config *p = &r->cfg->protocols;
    unsigned signals = 0;
    for (int s = 0; s < SIGNAL_COUNT; s++)
        if (r->next[s])
            signals |= 1u << s;
    if (p->has_grpc) {
        r->grpc = otlp_grpc_server_start(&p->grpc, signals, otlp_export, otlp_refused,
                                         &r->tp[TP_GRPC], r->log_name, err);
        if (!r->grpc)
            return -1;
        if (p->grpc.transport && strcmp(p->grpc.transport, "unix") == 0)
            log_info(r->log_name, "serving OTLP/gRPC on unix socket %s%s", p->grpc.endpoint,
                     p->grpc.has_tls ? " with TLS" : "");
        else
            log_info(r->log_name, "serving OTLP/gRPC on %s (port %d)%s", p->grpc.endpoint,
                     otlp_grpc_server_port(r->grpc), p->grpc.has_tls ? " with TLS" : "");
    }
    if (p->has_http) {
        const struct otlp_http_config *h = &p->http;
        for (size_t i = 0; i < h->compression_algorithms.n; i++) {
            const char *a = h->compression_algorithms.items[i];
            if (strcmp(a, "zstd") == 0 || strcmp(a, "snappy") == 0 || strcmp(a, "x-snappy-framed") == 0 ||
                strcmp(a, "lz4") == 0)
                log_info(r->log_name, "protocols.http.compression_algorithms: %s is not supported; "
                         "such requests get 400", a);
        }
        r->http = otlp_http_server_start(h, signals, otlp_export, otlp_refused, &r->tp[TP_HTTP],
                                         r->log_name, err);
        if (!r->http) {
            if (r->grpc) { /* the service will not run: close what is open */
                otlp_grpc_server_free(r->grpc);
                r->grpc = NULL;
            }
            return -1;
        }
        if (h->transport && strcmp(h->transport, "unix") == 0)
            log_info(r->log_name, "serving OTLP/HTTP on unix socket %s%s", h->endpoint,
                     h->has_tls ? " with TLS" : "");
        else
            log_info(r->log_name, "serving OTLP/HTTP on %s (port %d)%s", h->endpoint,
                     otlp_http_server_port(r->http), h->has_tls ? " with TLS" : "");
    }
    return 0;
}

static void otlp_receiver_shutdown(void *self, int64_t deadline_ns)
{
    struct otlp_receiver *r = self;
    /* One after the other under the same deadline. */
    if (r->http)
        otlp_http_server_shutdown(r->http, deadline_ns);
    if (r->grpc)
        otlp_grpc_server_shutdown(r->grpc, deadline_ns);
}

static void otlp_receiver_destroy(void *self)
{
    struct otlp_receiver *r = self;
    if (!r)
        return;
    otlp_http_server_free(r->http);
    otlp_grpc_server_free(r->grpc);
    grpc_common_shutdown();
    free(r->id);
    free(r->log_name);
    free(r);
}

int otlp_receiver_grpc_port(void *self)
{
    struct otlp_receiver *r = self;
    return r && r->grpc ? otlp_grpc_server_port(r->grpc) : 0;
}

int otlp_receiver_http_port(void *self)
{
    struct otlp_receiver *r = self;
    return r && r->http ? otlp_http_server_port(r->http) : 0;
}

const struct component_factory otlp_receiver_factory = {
    .type = "otlp",
    .kind = COMPONENT_RECEIVER,
    .doc = "OTLP receiver: TraceService, MetricsService and LogsService Export over gRPC, and "
           "OTLP/HTTP (protobuf or JSON)",
    .fields = otlp_receiver_fields,
    .config_size = sizeof(struct otlp_receiver_config),
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS),
    .validate = otlp_receiver_validate,
    .warn = otlp_receiver_warn,
    .create = otlp_receiver_create,
    .start = otlp_receiver_start,
    .shutdown = otlp_receiver_shutdown,
    .destroy = otlp_receiver_destroy,
};
