/* otlp_receiver.h — internals of the `otlp` receiver shared by its files and its tests: the
 * typed config (bound from the Collector's `protocols.grpc` / `protocols.http` keys by the field
 * table in otlp_receiver.c), the small gRPC server of grpc_server.c and the OTLP/HTTP server of
 * http_server.c.
 *
 * The one idea: each server knows its protocol and nothing of pipelines; it hands each Export
 * request's bytes (protobuf, already decompressed) to one handler and sends back whatever status
 * the handler decided, mapped to its protocol. otlp_receiver.c knows pipelines and nothing of
 * either protocol. */
#ifndef LLMOTLP_OTLP_RECEIVER_H
#define LLMOTLP_OTLP_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/auth.h"
#include "core/config.h"
#include "core/error.h"
#include "core/otlp.h"
#include "core/tls_config.h"

/* ---- config ----------------------------------------------------------------------------------- */

struct otlp_keepalive_config {
    struct {
        int64_t max_connection_idle, max_connection_age, max_connection_age_grace; /* ns, 0 = unset */
        int64_t time, timeout;
    } server_parameters;
    struct {
        int64_t min_time;           /* ns, 0 = gRPC default */
        bool permit_without_stream;
    } enforcement_policy;
};

struct otlp_grpc_config {
    char *endpoint;                 /* "host:port", ":port", "unix path" with transport unix */
    char *transport;                /* tcp, tcp4, tcp6, unix */
    int64_t max_recv_msg_size_mib;
    int64_t max_concurrent_streams; /* 0 = unlimited */
    int64_t read_buffer_size;       /* bytes, 0 = gRPC default */
    int64_t write_buffer_size;
    bool include_metadata;
    struct otlp_keepalive_config keepalive;
    struct tls_server_config tls;
    bool has_tls;                   /* `tls:` key present */
    int64_t num_threads;            /* worker threads, each with its own completion queue */
    struct auth_config auth;        /* auth.authenticator; auth.server set by the service */
    bool has_auth;
};

struct otlp_cors_config {
    struct config_str_list allowed_origins;
    struct config_str_list allowed_headers;
    int64_t max_age;                /* seconds */
};

struct otlp_http_config {
    char *endpoint;                 /* "host:port", or a socket path with transport unix */
    char *transport;                /* tcp, tcp4, tcp6, unix */
    int64_t max_request_body_size;
    char *traces_url_path, *metrics_url_path, *logs_url_path;
    bool include_metadata;
    struct otlp_cors_config cors;
    struct config_kv_list response_headers;
    struct config_str_list compression_algorithms;
    int64_t read_timeout, read_header_timeout, write_timeout, idle_timeout; /* ns, 0 = none */
    int64_t max_connections;        /* open connections at once (0 = libmicrohttpd's default) */
    int64_t max_connections_per_client; /* from one source address, 0 = unlimited */
    bool keep_alives_enabled;
    struct tls_server_config tls;
    bool has_tls;
    int64_t num_threads;            /* libmicrohttpd thread pool; the pipeline runs on them */
    struct auth_config auth;        /* auth.authenticator, request_params; auth.server set by the
                                       service */
    bool has_auth;
};

struct otlp_protocols_config {
    bool has_grpc;                  /* `grpc:` key present (even empty): serve gRPC */
    struct otlp_grpc_config grpc;
    bool has_http;
    struct otlp_http_config http;
};

struct otlp_receiver_config {
    struct otlp_protocols_config protocols;
};

/* ---- receiver accessors (tests) --------------------------------------------------------------- */

/* TCP port the gRPC server listens on after start() (the real one when the endpoint said :0);
 * 1 for a unix socket (gRPC's answer), 0 when gRPC is not serving. `self` is what the factory's
 * create() returned. Thread-safe after start(). */
int otlp_receiver_grpc_port(void *self);
/* The same for the HTTP server: its TCP port after start(), 0 when HTTP is not serving or
 * serves a unix socket. */
int otlp_receiver_http_port(void *self);

/* ---- the export handler, shared by the protocols ---------------------------------------------- */

/* What the handler decided about one Export call. `status` uses gRPC status numbers (OK 0,
 * INVALID_ARGUMENT 3, UNIMPLEMENTED 12, UNAVAILABLE 14, ...), which the HTTP side maps too. */
struct otlp_export_result {
    int status;
    char message[512];
    uint8_t *response;              /* malloc'd packed Export*ServiceResponse (OK only), or NULL */
    size_t response_len;
    int64_t retry_delay_ns;         /* > 0: the sender should wait this long (RetryInfo) */
};

/* Handles one Export request of signal `s`: `data` is the request message, already
 * decompressed, in a malloc'd buffer that the handler takes over (it becomes the batch's encoded
 * face, so a request is copied once, from the transport's buffers into it); NULL when len is 0.
 * Fills *res; never fails otherwise. Thread-safe. */
typedef void (*otlp_export_fn)(void *user, enum signal s, uint8_t *data, size_t len,
                               struct otlp_export_result *res);

/* Tells the receiver that a request of signal `s` was refused by the transport before it could
 * reach the handler (undecodable JSON or gzip, body too large, unsupported content type or
 * encoding), for its counters and its rate-limited warning. Thread-safe. */
typedef void (*otlp_refused_fn)(void *user, enum signal s, const char *why);

/* Authentication of one request from its headers, before anything of its body is read or
 * decoded (protocols.*.auth): asks the authenticator in `a` (none set: 0 at once), and on refusal
 * counts it (llmotlp_receiver_unauthenticated_requests) and logs it, rate-limited. `user` must be
 * what the receiver gave the server as its handler's user (its transport). 0 = let in; -1 =
 * refuse, with `why` for the answer. Thread-safe. */
int otlp_receiver_authenticate(void *user, const struct auth_config *a, auth_header_fn get,
                               void *ctx, char *why, size_t why_len);

/* ---- grpc_server.c ---------------------------------------------------------------------------- */

struct otlp_grpc_server;

/* Builds and starts a server for `cfg`, serving Export of the signals whose bit is set in
 * `signals` (1 << SIGNAL_x) through `fn`; calls of other signals are answered UNIMPLEMENTED
 * "no pipeline for <signal>". `log_name` must outlive the server. Needs grpc_common_init() done by
 * the caller. NULL with err ("cannot listen on <endpoint>", ...) on failure. */
/* Requests refused before the handler saw them (a bomb past the limit, a corrupt compressed
 * stream, an unknown compression) are reported to `refused` (may be NULL), as on HTTP. */
struct otlp_grpc_server *otlp_grpc_server_start(const struct otlp_grpc_config *cfg, unsigned signals,
                                                otlp_export_fn fn, otlp_refused_fn refused,
                                                void *user, const char *log_name,
                                                struct error *err);
int otlp_grpc_server_port(const struct otlp_grpc_server *s);
/* The request message of a call as the handler wants it: copied out of core's slices, and
 * inflated here when compressed (gzip or deflate; core is told not to), never past `max` bytes.
 * Returns a gRPC status: OK with *out malloc'd (NULL when *len is 0), RESOURCE_EXHAUSTED the
 * moment the message passes `max`, INVALID_ARGUMENT for a corrupt stream, UNIMPLEMENTED for
 * another algorithm, UNAVAILABLE when out of memory; msg says why. `bb` may be NULL (no message). */
struct grpc_byte_buffer;
int otlp_grpc_read_message(struct grpc_byte_buffer *bb, size_t max, uint8_t **out, size_t *len,
                           char *msg, size_t msglen);
/* Stops accepting, lets calls in flight finish until deadline_ns (CLOCK_MONOTONIC), then cancels
 * what is left, waits until no handler is running, and joins the worker threads. Idempotent. */
void otlp_grpc_server_shutdown(struct otlp_grpc_server *s, int64_t deadline_ns);
/* Shuts down (immediately) if not done, and frees. NULL is fine. */
void otlp_grpc_server_free(struct otlp_grpc_server *s);

/* ---- http_server.c ---------------------------------------------------------------------------- */

struct otlp_http_server;

/* Binds cfg->endpoint and starts a libmicrohttpd thread pool serving POST on the three signal
 * paths, for the signals whose bit is set in `signals` (a path of another signal answers 404
 * "no pipeline for <signal>"). Bodies (protobuf or OTLP/JSON, identity, gzip or zlib) are
 * decompressed under cfg->max_request_body_size, JSON is converted to protobuf, and the bytes go
 * to `fn`; transport-level refusals are reported to `refused` (may be NULL). `log_name` must
 * outlive the server; cfg is copied where needed. NULL with err ("cannot listen on <endpoint>:
 * <reason>", a TLS file that cannot be read, ...) on failure. */
struct otlp_http_server *otlp_http_server_start(const struct otlp_http_config *cfg, unsigned signals,
                                                otlp_export_fn fn, otlp_refused_fn refused,
                                                void *user, const char *log_name, struct error *err);
int otlp_http_server_port(const struct otlp_http_server *s);
/* One request as the server sees it once MHD has parsed it (headers NULL when absent). */
struct otlp_http_request {
    const char *method, *url;
    const char *content_type, *content_encoding, *content_length;
    const char *origin, *ac_request_method, *ac_request_headers; /* CORS preflight */
    const uint8_t *body;
    size_t body_len;
    size_t chunk;                 /* body handed over in pieces of this size (0 = 32 KiB) */
};
/* The HTTP status a server configured by cfg would answer to q, by the very code the server runs
 * (header checks, bounded inflation, JSON to protobuf, `fn`, the answer's body), without a socket
 * or a thread: for the fuzz target fuzz/fuzz_http_request.c. -1 with err if cfg is unusable. */
int otlp_http_server_decide(const struct otlp_http_config *cfg, unsigned signals,
                            otlp_export_fn fn, otlp_refused_fn refused, void *user,
                            const struct otlp_http_request *q, struct error *err);
/* Stops accepting connections, lets requests in flight finish until deadline_ns
 * (CLOCK_MONOTONIC; responses then carry `Connection: close`), then closes every connection and
 * joins the threads, waiting for handlers still inside the pipeline. Idempotent. */
void otlp_http_server_shutdown(struct otlp_http_server *s, int64_t deadline_ns);
/* Shuts down (immediately) if not done, and frees. NULL is fine. */
void otlp_http_server_free(struct otlp_http_server *s);

#endif
