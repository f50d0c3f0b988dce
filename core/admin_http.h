/* admin_http.h — a small HTTP/1.1 server for the service's own read-only endpoints (the
 * Prometheus /metrics page, the health_check extension): GET and HEAD only, one handler that
 * builds a whole reply in memory, one libmicrohttpd polling thread.
 *
 * The listening socket is bound here, before libmicrohttpd sees it, so that a busy port is an
 * error the caller can word ("cannot listen on 0.0.0.0:8888: address in use") rather than a log
 * line from inside the library. admin_http_start_tls serves the same over HTTPS with the
 * Collector's server TLS settings (core/tls_config.h), the certificate re-read as tls_reload
 * says. */
#ifndef LLMOTLP_ADMIN_HTTP_H
#define LLMOTLP_ADMIN_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include "core/error.h"
#include "core/tls_config.h"

struct admin_http;

/* What a handler answers. body is malloc'd by the handler (or NULL for an empty body) and freed
 * by the server; content_type must be a static string (or NULL for none). */
struct admin_http_reply {
    const char *accept;         /* in: the request's Accept header (NULL when none); valid
                                   during the handler call only */
    unsigned status;
    const char *content_type;
    char *body;
    size_t len;
};

/* Fills reply with the 404 every endpoint gives for a path it does not serve. */
void admin_http_not_found(struct admin_http_reply *reply);

/* Called on the server thread for each GET or HEAD request (other methods get 405 without a
 * call). path excludes the query string. Must not block for long: one thread serves all. */
typedef void (*admin_http_handler)(void *ctx, const char *path, struct admin_http_reply *reply);

/* Parses "host:port" (IPv4 only). An empty host (":8888") means every interface, "localhost"
 * is 127.0.0.1, other names resolve to their first IPv4 address; the port is 0..65535 (0: the
 * kernel picks one). 0, or -1 with err. */
int admin_http_parse_endpoint(const char *endpoint, struct sockaddr_in *out, struct error *err);

/* Binds endpoint and starts serving. log_name names the owner in log lines and errors.
 * NULL with err ("cannot listen on <endpoint>: address in use", ...). ctx is borrowed and must
 * outlive the server. */
struct admin_http *admin_http_start(const char *endpoint, const char *log_name,
                                    admin_http_handler handler, void *ctx, struct error *err);
/* admin_http_start over TLS when tls is not NULL (borrowed; must outlive the server), served by
 * core/mhd_tls.h: the certificate and key (re-read per reload_interval), min_version/max_version
 * (default 1.2 and 1.3), and with client_ca_file every request needs a client certificate that
 * verifies against it (401 otherwise). `where` names the section in messages ("tls"). The caller
 * validated tls (tls_server_validate; cipher_suites and curve_preferences are not served here,
 * and the callers refuse client_ca_file_reload). NULL with err when the certificate set is
 * unusable or the port is busy. */
struct admin_http *admin_http_start_tls(const char *endpoint, const char *log_name,
                                        admin_http_handler handler, void *ctx,
                                        const struct tls_server_config *tls, const char *where,
                                        struct error *err);
/* The port actually bound (useful when the endpoint asked for port 0). */
uint16_t admin_http_port(const struct admin_http *h);
/* Stops serving (open connections are closed) and frees. NULL is a no-op. */
void admin_http_stop(struct admin_http *h);

#endif
