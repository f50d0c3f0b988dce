/* otlphttp_exporter.h — the `otlphttp` exporter (also registered as `otlp_http`, the Collector's
 * newer name): OTLP/HTTP out through libcurl, with the Collector's otlphttp exporter keys
 * (confighttp client settings, per-signal endpoints, encoding, timeout, retry_on_failure,
 * sending_queue). Queueing, retry and accounting are the shared exporter_helper's.
 *
 * Ownership: the config is bound and freed by the service (config_bind / config_free_bound); an
 * instance borrows it until destroy. Thread-safety: consume() from any thread. */
#ifndef LLMOTLP_OTLPHTTP_EXPORTER_H
#define LLMOTLP_OTLPHTTP_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/auth.h"
#include "core/component.h"
#include "core/config.h"
#include "core/exporter_helper.h"
#include "core/tls_config.h"

enum otlphttp_encoding { OTLPHTTP_ENCODING_PROTO = 0, OTLPHTTP_ENCODING_JSON = 1 };

struct otlphttp_compression_params {
    int64_t level;                 /* zlib levels 1..9, -1 or 0 = default, -2 = Huffman only;
                                      zstd: any (unused: sent as gzip) */
};

struct otlphttp_cookies {
    bool enabled;                  /* keep cookies the server sets, per connection handle */
};

struct otlphttp_exporter_config {
    char *endpoint;                /* base URL; "/v1/<signal>" is appended */
    char *traces_endpoint;         /* full URLs, used as they are */
    char *metrics_endpoint;
    char *logs_endpoint;
    char *profiles_endpoint;       /* accepted for compatibility; profiles are not supported */
    int encoding;                  /* enum otlphttp_encoding */
    char *compression;             /* "gzip" (default), "deflate", "none" or "" */
    struct otlphttp_compression_params compression_params;
    struct config_kv_list headers;
    int64_t timeout;               /* ns per attempt; 0 = none */
    struct tls_client_config tls;  /* used for https:// URLs */
    char *proxy_url;
    struct retry_config retry_on_failure;
    struct queue_config sending_queue;
    int64_t read_buffer_size;      /* bytes; 0 = libcurl default */
    int64_t write_buffer_size;     /* accepted; no effect (the body is handed over whole) */
    int64_t max_idle_conns;        /* accepted; no effect (one connection per sender thread) */
    int64_t max_idle_conns_per_host;
    int64_t max_conns_per_host;
    int64_t idle_conn_timeout;     /* ns; an idle connection older than this is not reused */
    bool disable_keep_alives;      /* a new connection for every request */
    int64_t http2_read_idle_timeout; /* accepted; no effect */
    int64_t http2_ping_timeout;    /* accepted; no effect */
    bool force_attempt_http2;      /* accepted; libcurl negotiates HTTP/2 over TLS by itself */
    struct otlphttp_cookies cookies;
    struct auth_config auth;       /* auth.authenticator; auth.client set by the service */
    bool has_auth;
    const struct cnode *middlewares; /* rejected when set */
};

extern const struct config_field otlphttp_exporter_fields[];
extern const struct component_factory otlphttp_exporter_factory;
extern const struct component_factory otlp_http_exporter_factory;

/* The URL a signal is sent to: the signal's own endpoint when set, else endpoint with
 * "/v1/<signal>" appended (one slash between them). Returns a malloc'd string, or NULL when
 * neither is set (or out of memory). */
char *otlphttp_signal_url(const struct otlphttp_exporter_config *c, enum signal s);

#endif
