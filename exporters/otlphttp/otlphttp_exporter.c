/* otlphttp_exporter.c — the `otlphttp` exporter: one HTTP POST per batch through libcurl.
 *
 * The one idea: each sender thread borrows a connection slot (a curl multi handle with one easy
 * handle, so its connection is kept alive between batches) and drives the transfer itself with
 * curl_multi_poll; shutdown wakes every slot with curl_multi_wakeup, so a transfer in flight ends
 * exactly at the shutdown deadline instead of at its own timeout. Everything else (queue, retry,
 * counters) is the shared exporter_helper; this file maps an HTTP outcome to the OTLP/HTTP retry
 * rules: 429/502/503/504 and transport errors are retried (Retry-After as the throttle), other
 * statuses are permanent — 400 and 413 as "the data is bad" (SEND_REJECTED: the helper cuts the
 * request down to the items the server refuses), the rest for the whole request — and a 2xx may
 * carry a partial success that is logged and counted, never resent. */
#include "exporters/otlphttp/otlphttp_exporter.h"

#include <ctype.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/otlp_json.h"
#include "core/telemetry.h"
#include "core/tls_reload.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define USER_AGENT "llmotlp/0.1.0"
/* As the Collector: a response body past this is not read (it is only ever a small message). */
#define MAX_RESPONSE_BYTES (64 * 1024)

/* ---- config ---------------------------------------------------------------------------------- */

static const char *const encoding_choices[] = {"proto", "json", NULL};

static const struct config_field compression_params_fields[] = {
    {.name = "level", .type = CFG_INT, .offset = offsetof(struct otlphttp_compression_params, level),
     .doc = "gzip/zlib/deflate: 1..9, 0 or -1 = the default, -2 = Huffman only; zstd: any; "
            "snappy, lz4: 0 only", .min = INT32_MIN, .max = INT32_MAX},
    {.name = NULL},
};

static const struct config_field cookies_fields[] = {
    {.name = "enabled", .type = CFG_BOOL, .offset = offsetof(struct otlphttp_cookies, enabled),
     .def = "false", .doc = "keep cookies the server sets and send them back"},
    {.name = NULL},
};

#define CFG_OFF(f) offsetof(struct otlphttp_exporter_config, f)
const struct config_field otlphttp_exporter_fields[] = {
    {.name = "endpoint", .type = CFG_STRING, .offset = CFG_OFF(endpoint),
     .doc = "base URL (http:// or https://); /v1/traces, /v1/metrics, /v1/logs are appended"},
    {.name = "traces_endpoint", .type = CFG_STRING, .offset = CFG_OFF(traces_endpoint),
     .doc = "full URL for traces, used as is (overrides endpoint)"},
    {.name = "metrics_endpoint", .type = CFG_STRING, .offset = CFG_OFF(metrics_endpoint),
     .doc = "full URL for metrics, used as is (overrides endpoint)"},
    {.name = "logs_endpoint", .type = CFG_STRING, .offset = CFG_OFF(logs_endpoint),
     .doc = "full URL for logs, used as is (overrides endpoint)"},
    {.name = "profiles_endpoint", .type = CFG_STRING, .offset = CFG_OFF(profiles_endpoint),
     .doc = "profiles endpoint", .no_effect = "profiles are not supported"},
    {.name = "encoding", .type = CFG_ENUM, .offset = CFG_OFF(encoding), .def = "proto",
     .choices = encoding_choices, .doc = "request body: proto (application/x-protobuf) or json"},
    {.name = "compression", .type = CFG_STRING, .offset = CFG_OFF(compression), .def = "gzip",
     .doc = "gzip, zlib, deflate or none (\"\" = none); zstd, snappy, x-snappy-framed and lz4 "
            "are sent as gzip, with a warning (no library for them here)"},
    {.name = "compression_params", .type = CFG_SECTION, .offset = CFG_OFF(compression_params),
     .sub = compression_params_fields, .doc = "compression settings"},
    {.name = "headers", .type = CFG_STRING_MAP, .offset = CFG_OFF(headers),
     .doc = "HTTP headers sent with every request", .secret = true},
    {.name = "timeout", .type = CFG_DURATION, .offset = CFG_OFF(timeout), .def = "30s",
     .doc = "time limit of each attempt (0 = none)"},
    {.name = "tls", .type = CFG_SECTION, .offset = CFG_OFF(tls), .sub = tls_client_fields,
     .doc = "TLS settings for https:// URLs (insecure has no effect: the URL scheme decides)"},
    {.name = "proxy_url", .type = CFG_STRING, .offset = CFG_OFF(proxy_url),
     .doc = "proxy for every request (unset: the http_proxy/https_proxy/no_proxy variables)"},
    {.name = "retry_on_failure", .type = CFG_SECTION, .offset = CFG_OFF(retry_on_failure),
     .sub = retry_config_fields, .doc = "retry with exponential backoff"},
    {.name = "sending_queue", .type = CFG_SECTION, .offset = CFG_OFF(sending_queue),
     .sub = queue_config_fields,
     .doc = "queue drained by consumer threads (on disk with storage, merged with batch); a "
            "request refused with 400 or 413 is cut down to the items the server refuses, only "
            "those are dropped"},
    {.name = "read_buffer_size", .type = CFG_INT, .offset = CFG_OFF(read_buffer_size),
     .doc = "receive buffer in bytes (0 = libcurl default)", .min = 0, .max = INT32_MAX},
    {.name = "write_buffer_size", .type = CFG_INT, .offset = CFG_OFF(write_buffer_size),
     .def = "524288", .doc = "write buffer size", .no_effect = "the body is handed to libcurl whole", .min = 0,
     .max = INT32_MAX},
    {.name = "max_idle_conns", .type = CFG_INT, .offset = CFG_OFF(max_idle_conns),
     .doc = "idle connections kept", .no_effect = "each sender thread keeps one connection"},
    {.name = "max_idle_conns_per_host", .type = CFG_INT, .offset = CFG_OFF(max_idle_conns_per_host),
     .doc = "idle connections kept per host",
     .no_effect = "each sender thread keeps one connection"},
    {.name = "max_conns_per_host", .type = CFG_INT, .offset = CFG_OFF(max_conns_per_host),
     .doc = "connections per host",
     .no_effect = "connections = sending_queue.num_consumers"},
    {.name = "idle_conn_timeout", .type = CFG_DURATION, .offset = CFG_OFF(idle_conn_timeout),
     .def = "90s", .doc = "a connection idle longer than this is not reused (0 = no limit)"},
    {.name = "disable_keep_alives", .type = CFG_BOOL, .offset = CFG_OFF(disable_keep_alives),
     .def = "false", .doc = "open a new connection for every request"},
    {.name = "http2_read_idle_timeout", .type = CFG_DURATION,
     .offset = CFG_OFF(http2_read_idle_timeout), .doc = "HTTP/2 health-check interval",
     .no_effect = "libcurl runs no HTTP/2 health checks", .harmless = "0s"},
    {.name = "http2_ping_timeout", .type = CFG_DURATION, .offset = CFG_OFF(http2_ping_timeout),
     .doc = "HTTP/2 ping timeout", .no_effect = "libcurl runs no HTTP/2 health checks",
     .harmless = "0s"},
    {.name = "force_attempt_http2", .type = CFG_BOOL, .offset = CFG_OFF(force_attempt_http2),
     .doc = "try HTTP/2", .no_effect = "libcurl offers HTTP/2 over TLS anyway",
     .harmless = "true"},
    {.name = "cookies", .type = CFG_SECTION, .offset = CFG_OFF(cookies), .sub = cookies_fields,
     .doc = "cookie handling"},
    {.name = "auth", .type = CFG_PRESENCE, .offset = CFG_OFF(auth),
     .present_offset = CFG_OFF(has_auth), .sub = auth_config_fields,
     .doc = "authenticator extension whose header every request carries (bearertokenauth, "
            "basicauth with client_auth); wins over a header of the same name"},
    {.name = "middlewares", .type = CFG_RAW, .offset = CFG_OFF(middlewares),
     .doc = "middleware extensions; not supported"},
    {.name = NULL},
};

/* Set and not empty: `middlewares: []` (or null) asks for nothing, as in the Collector. */
static bool raw_is_set(const struct cnode *n)
{
    return n && n->kind != CNODE_NULL && !(n->kind == CNODE_SEQ && n->n == 0);
}

static bool str_set(const char *s)
{
    return s && *s;
}

static const char *signal_endpoint(const struct otlphttp_exporter_config *c, enum signal s)
{
    switch (s) {
    case SIGNAL_TRACES: return c->traces_endpoint;
    case SIGNAL_METRICS: return c->metrics_endpoint;
    default: return c->logs_endpoint;
    }
}

char *otlphttp_signal_url(const struct otlphttp_exporter_config *c, enum signal s)
{
    const char *own = signal_endpoint(c, s);
    if (str_set(own))
        return strdup(own);
    if (!str_set(c->endpoint))
        return NULL;
    size_t n = strlen(c->endpoint);
    const char *sep = c->endpoint[n - 1] == '/' ? "" : "/";
    size_t len = n + strlen(sep) + 4 + strlen(signal_name(s)) + 1;
    char *url = malloc(len);
    if (url)
        snprintf(url, len, "%s%sv1/%s", c->endpoint, sep, signal_name(s));
    return url;
}

static int check_url(const char *key, const char *url, struct error *err)
{
    if (!str_set(url))
        return 0;
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return error_set(err, "%s: \"%s\" must start with http:// or https://", key, url);
    const char *host = strstr(url, "://") + 3;
    if (!*host || *host == '/')
        return error_set(err, "%s: \"%s\" has no host", key, url);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return error_set(err, "%s: \"%s\" contains a space or control character", key, url);
    return 0;
}

/* RFC 9110 token characters: what a header name may contain. */
static bool is_tchar(char c)
{
    return isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int check_header(const char *key, const char *value, struct error *err)
{
    if (!key[0])
        return error_set(err, "headers: empty key");
    for (const char *p = key; *p; p++)
        if (!is_tchar(*p))
            return error_set(err, "headers: key \"%s\" has a character not allowed in an HTTP "
                                  "header name ('%c')", key, *p);
    if (strcasecmp(key, "content-encoding") == 0 || strcasecmp(key, "content-length") == 0 ||
        strcasecmp(key, "transfer-encoding") == 0 || strcasecmp(key, "host") == 0)
        return error_set(err, "headers: \"%s\" is set by the exporter and cannot be configured",
                         key);
    for (const char *p = value ? value : ""; *p; p++)
        if (*p == '\r' || *p == '\n')
            return error_set(err, "headers: value of \"%s\" contains a line break", key);
    return 0;
}

/* Go's crypto/tls names (tls.CipherSuites(), which the Collector accepts) and OpenSSL's for the
 * TLS 1.2 ones. A TLS 1.3 name maps to NULL: Go applies the list to TLS 1.0-1.2 only and keeps
 * its own TLS 1.3 suites, and so do we (OpenSSL's cipher list does not touch TLS 1.3 either). */
static const struct {
    const char *go, *openssl;
} cipher_names[] = {
    {"TLS_AES_128_GCM_SHA256", NULL},
    {"TLS_AES_256_GCM_SHA384", NULL},
    {"TLS_CHACHA20_POLY1305_SHA256", NULL},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
};

/* The Collector's curve names (configtls) and OpenSSL's group names. */
static const struct {
    const char *go, *openssl;
} curve_names[] = {
    {"X25519", "X25519"}, {"P256", "P-256"}, {"P384", "P-384"}, {"P521", "P-521"},
};

/* Builds the OpenSSL TLS 1.2 cipher list for `suites` into *out (malloc'd; NULL when the
 * list names no TLS 1.2 suite); out NULL only checks. An empty list leaves *out NULL: the
 * defaults. 0, or -1 with err naming the first unknown suite. */
static int tls_cipher_list(const struct config_str_list *suites, char **out, struct error *err)
{
    size_t cap = 1;
    for (size_t i = 0; i < suites->n; i++) {
        size_t k = 0, n = sizeof cipher_names / sizeof cipher_names[0];
        while (k < n && strcmp(cipher_names[k].go, suites->items[i]) != 0)
            k++;
        if (k == n)
            return error_set(err, "tls.cipher_suites: unknown cipher suite \"%s\"; expected a "
                                  "name of Go's tls.CipherSuites() such as "
                                  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", suites->items[i]);
        if (cipher_names[k].openssl)
            cap += strlen(cipher_names[k].openssl) + 1;
    }
    if (!out)
        return 0;
    *out = NULL;
    if (cap == 1)
        return 0;
    char *l = calloc(1, cap);
    if (!l)
        return error_set(err, "out of memory");
    for (size_t i = 0; i < suites->n; i++)
        for (size_t k = 0; k < sizeof cipher_names / sizeof cipher_names[0]; k++)
            if (strcmp(cipher_names[k].go, suites->items[i]) == 0 && cipher_names[k].openssl) {
                if (l[0])
                    strcat(l, ":");
                strcat(l, cipher_names[k].openssl);
            }
    *out = l;
    return 0;
}

/* As tls_cipher_list, for curve_preferences and CURLOPT_SSL_EC_CURVES. X25519MLKEM768, which
 * the Collector knows, is refused: the OpenSSL this links has no ML-KEM. */
static int tls_curve_list(const struct config_str_list *curves, char **out, struct error *err)
{
    size_t cap = 1;
    for (size_t i = 0; i < curves->n; i++) {
        size_t k = 0, n = sizeof curve_names / sizeof curve_names[0];
        while (k < n && strcmp(curve_names[k].go, curves->items[i]) != 0)
            k++;
        if (k == n && strcmp(curves->items[i], "X25519MLKEM768") == 0)
            return error_set(err, "tls.curve_preferences: X25519MLKEM768 is not available "
                                  "(no ML-KEM in this TLS library); use X25519, P256, P384 or "
                                  "P521");
        if (k == n)
            return error_set(err, "tls.curve_preferences: unknown curve \"%s\"; expected "
                                  "X25519, P256, P384 or P521", curves->items[i]);
        cap += strlen(curve_names[k].openssl) + 1;
    }
    if (!out)
        return 0;
    *out = NULL;
    if (cap == 1)
        return 0;
    char *l = calloc(1, cap);
    if (!l)
        return error_set(err, "out of memory");
    for (size_t i = 0; i < curves->n; i++)
        for (size_t k = 0; k < sizeof curve_names / sizeof curve_names[0]; k++)
            if (strcmp(curve_names[k].go, curves->items[i]) == 0) {
                if (l[0])
                    strcat(l, ":");
                strcat(l, curve_names[k].openssl);
            }
    *out = l;
    return 0;
}

static int tls_version_code(const char *v, bool max, long *out)
{
    static const char *const names[] = {"1.0", "1.1", "1.2", "1.3"};
    static const long mins[] = {CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_TLSv1_1,
                                CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_TLSv1_3};
    static const long maxs[] = {CURL_SSLVERSION_MAX_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_1,
                                CURL_SSLVERSION_MAX_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_3};
    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = max ? maxs[i] : mins[i];
            return 0;
        }
    return -1;
}

/* gzip, zlib and deflate: what zlib writes. zlib and deflate are the same bytes (the zlib
 * format), told apart only by the Content-Encoding the Collector sends: its own name. */
static bool is_zlib_family(const char *comp)
{
    return strcmp(comp, "gzip") == 0 || strcmp(comp, "zlib") == 0 || strcmp(comp, "deflate") == 0;
}

/* Encodings the Collector offers that no library here writes: such requests go out as gzip,
 * which every OTLP/HTTP server must accept, and validate says so. */
static bool is_substituted(const char *comp)
{
    return strcmp(comp, "zstd") == 0 || strcmp(comp, "snappy") == 0 ||
           strcmp(comp, "x-snappy-framed") == 0 || strcmp(comp, "lz4") == 0;
}

/* The encoding requests are written in: gzip for the substituted ones; "" = uncompressed. */
static const char *wire_compression(const struct otlphttp_exporter_config *c)
{
    const char *comp = c->compression ? c->compression : "";
    if (is_zlib_family(comp))
        return comp;
    if (is_substituted(comp))
        return "gzip";
    return "";
}

/* Said at load rather than logged at create, so that validate shows them too. */
static void otlphttp_warn(const void *cfgp, const struct cnode *node,
                          const struct config_warn_sink *w)
{
    const struct otlphttp_exporter_config *c = cfgp;
    if (c->tls.insecure_skip_verify)
        config_warnf(w, cnode_find_key(node, "tls.insecure_skip_verify"),
                     "tls.insecure_skip_verify", "true: the server is not authenticated");
    const char *comp = c->compression ? c->compression : "";
    if (is_substituted(comp))
        config_warnf(w, cnode_find_key(node, "compression"), "compression",
                     "%s is not available here (no %s library); requests are sent "
                     "gzip-compressed instead (Content-Encoding: gzip, which OTLP/HTTP servers "
                     "accept)", comp, strcmp(comp, "x-snappy-framed") == 0 ? "snappy" : comp);
    else if (!comp[0] || strcmp(comp, "none") == 0) {
        /* the Collector checks the level only when compressing, and then ignores it too */
        if (c->compression_params.level != 0)
            config_warnf(w, cnode_find_key(node, "compression_params.level"),
                         "compression_params.level", "has no effect: compression is none");
    }
}

static int otlphttp_validate(const void *cfgp, struct error *err)
{
    const struct otlphttp_exporter_config *c = cfgp;
    if (!str_set(c->endpoint) && !str_set(c->traces_endpoint) && !str_set(c->metrics_endpoint) &&
        !str_set(c->logs_endpoint))
        return error_set(err, "endpoint: must be set (base URL such as http://collector:4318), "
                              "or traces_endpoint / metrics_endpoint / logs_endpoint for each "
                              "signal exported");
    if (check_url("endpoint", c->endpoint, err) != 0 ||
        check_url("traces_endpoint", c->traces_endpoint, err) != 0 ||
        check_url("metrics_endpoint", c->metrics_endpoint, err) != 0 ||
        check_url("logs_endpoint", c->logs_endpoint, err) != 0 ||
        check_url("profiles_endpoint", c->profiles_endpoint, err) != 0)
        return -1;
    if (str_set(c->proxy_url)) {
        const char *p = c->proxy_url;
        bool socks = strncasecmp(p, "socks5://", 9) == 0 || strncasecmp(p, "socks5h://", 10) == 0;
        if (!socks && check_url("proxy_url", p, err) != 0)
            return error_set(err, "proxy_url: \"%s\" must start with http://, https:// or "
                                  "socks5://", p);
    }
    const char *comp = c->compression ? c->compression : "";
    int64_t level = c->compression_params.level;
    /* configcompression's values and levels, checked as it checks them */
    if (is_zlib_family(comp)) {
        if (level < -2 || level > 9)
            return error_set(err, "compression_params.level: %lld is not a %s level; expected "
                                  "1..9, 0 or -1 (default) or -2 (Huffman only)",
                             (long long)level, comp);
    } else if (strcmp(comp, "zstd") == 0) {
        /* any level: zstd maps it to the nearest one it has */
    } else if (is_substituted(comp)) {
        if (level != 0)
            return error_set(err, "compression_params.level: %s takes no level (got %lld)", comp,
                             (long long)level);
    } else if (comp[0] && strcmp(comp, "none") != 0) {
        return error_set(err, "compression: unknown value \"%s\"; expected gzip, zlib, deflate, "
                              "zstd, snappy, x-snappy-framed, lz4 or none", comp);
    }
    if (c->timeout < 0)
        return error_set(err, "timeout: must not be negative");
    if (c->idle_conn_timeout < 0)
        return error_set(err, "idle_conn_timeout: must not be negative");
    if (raw_is_set(c->middlewares))
        return error_set(err, "middlewares: middleware extensions are not supported");
    if (tls_client_validate(&c->tls, "tls", err) != 0)
        return -1;
    long code;
    if (str_set(c->tls.base.min_version) && tls_version_code(c->tls.base.min_version, false, &code))
        return error_set(err, "tls.min_version: unknown version \"%s\"; expected 1.0, 1.1, 1.2 "
                              "or 1.3", c->tls.base.min_version);
    if (str_set(c->tls.base.max_version) && tls_version_code(c->tls.base.max_version, true, &code))
        return error_set(err, "tls.max_version: unknown version \"%s\"; expected 1.0, 1.1, 1.2 "
                              "or 1.3", c->tls.base.max_version);
    if (tls_cipher_list(&c->tls.base.cipher_suites, NULL, err) != 0 ||
        tls_curve_list(&c->tls.base.curve_preferences, NULL, err) != 0)
        return -1;
    for (size_t i = 0; i < c->headers.n; i++)
        if (check_header(c->headers.items[i].key, c->headers.items[i].value, err) != 0)
            return -1;
    return exporter_helper_validate(&c->retry_on_failure, &c->sending_queue, err);
}

/* ---- instance -------------------------------------------------------------------------------- */

/* One connection slot: used by one sender at a time, kept (with its open connection) between
 * batches. */
struct conn {
    CURLM *multi;
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
    uint64_t tls_seen;                /* reloading: generation of the certificate set in use */
    struct conn *next_free;
    struct conn *next_all;
};

struct otlphttp_exporter {
    const struct otlphttp_exporter_config *cfg;
    char *log_name;
    char *url[SIGNAL_COUNT];          /* NULL: no URL for that signal */
    struct curl_slist *headers;
    char *ca, *cert, *key;            /* PEM text for the TLS blobs; NULL when unset */
    long ssl_version;
    char *cipher_list, *curve_list;   /* OpenSSL names; NULL = the defaults */
    /* server_name_override, per signal with an https:// URL: the URL with the override as its
     * host (what TLS checks), the real host to connect to instead, and the header list with
     * the URL's own authority as Host (what Go sends). NULL when not overridden. */
    char *tls_url[SIGNAL_COUNT];
    struct curl_slist *connect_to[SIGNAL_COUNT];
    struct curl_slist *sig_headers[SIGNAL_COUNT];
    /* reload_interval with a certificate from files: the set in use comes from here, and a
     * slot that sees a newer one starts over with new handles (see conn_tls_check). */
    bool reloading;
    struct tls_server_config reload_cfg;
    struct tls_reload reload;
    pthread_mutex_t mu;               /* guards the slot lists */
    struct conn *free_conns;
    struct conn *all_conns;
    struct exporter_helper *helper;
    _Atomic int64_t shutdown_deadline; /* 0 until shutdown: transfers end at it */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct response {
    char *data;
    size_t len;
};

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct response *r = userdata;
    size_t n = size * nmemb;
    size_t room = MAX_RESPONSE_BYTES - r->len;
    size_t take = n < room ? n : room;
    if (take) {
        if (!r->data) {
            r->data = malloc(MAX_RESPONSE_BYTES);
            if (!r->data)
                return n; /* the response is only informative: drop it rather than fail */
        }
        memcpy(r->data + r->len, ptr, take);
        r->len += take;
    }
    return n;
}

static void conn_free(struct conn *c)
{
    if (!c)
        return;
    if (c->easy)
        curl_easy_cleanup(c->easy);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    free(c);
}

/* Builds a slot with every per-exporter option set once; per-request options are set in send. */
static int conn_handles(struct otlphttp_exporter *x, struct conn *c, struct error *err)
{
    const struct otlphttp_exporter_config *cfg = x->cfg;
    c->multi = curl_multi_init();
    c->easy = curl_easy_init();
    if (!c->multi || !c->easy)
        return error_set(err, "cannot create a libcurl handle");
    CURL *e = c->easy;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(e, opt, val);                                                    \
    } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_USERAGENT, USER_AGENT);
    SET(CURLOPT_HTTPHEADER, x->headers);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_WRITEFUNCTION, write_cb);
    SET(CURLOPT_PROTOCOLS_STR, "http,https"); /* never file:// or the like from a typo */
    SET(CURLOPT_ACCEPT_ENCODING, "");
    if (str_set(cfg->proxy_url))
        SET(CURLOPT_PROXY, cfg->proxy_url);
    if (cfg->read_buffer_size > 0)
        SET(CURLOPT_BUFFERSIZE, (long)cfg->read_buffer_size);
    if (cfg->idle_conn_timeout > 0) {
        long secs = (long)((cfg->idle_conn_timeout + 999999999) / 1000000000);
        SET(CURLOPT_MAXAGE_CONN, secs);
    }
    if (cfg->disable_keep_alives)
        SET(CURLOPT_FORBID_REUSE, 1L);
    if (cfg->cookies.enabled)
        SET(CURLOPT_COOKIEFILE, "");
    /* TLS: used only for https:// URLs. */
    SET(CURLOPT_SSLVERSION, x->ssl_version);
    if (cfg->tls.insecure_skip_verify) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (x->ca) {
        struct curl_blob b = {.data = x->ca, .len = strlen(x->ca), .flags = CURL_BLOB_COPY};
        SET(CURLOPT_CAINFO_BLOB, &b);
        /* A configured CA replaces the system pool unless asked otherwise, as in the Collector. */
        if (!cfg->tls.base.include_system_ca_certs_pool)
            SET(CURLOPT_CAPATH, NULL);
    }
    if (x->cert) {
        struct curl_blob b = {.data = x->cert, .len = strlen(x->cert), .flags = CURL_BLOB_COPY};
        SET(CURLOPT_SSLCERT_BLOB, &b);
        SET(CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (x->key) {
        struct curl_blob b = {.data = x->key, .len = strlen(x->key), .flags = CURL_BLOB_COPY};
        SET(CURLOPT_SSLKEY_BLOB, &b);
        SET(CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (x->cipher_list)
        SET(CURLOPT_SSL_CIPHER_LIST, x->cipher_list);
    if (x->curve_list)
        SET(CURLOPT_SSL_EC_CURVES, x->curve_list);
#undef SET
    if (rc != CURLE_OK)
        return error_set(err, "libcurl option not available: %s", curl_easy_strerror(rc));
    return 0;
}

static struct conn *conn_new(struct otlphttp_exporter *x, struct error *err)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        error_set(err, "out of memory");
        return NULL;
    }
    if (conn_handles(x, c, err) != 0) {
        conn_free(c);
        return NULL;
    }
    return c;
}

struct tls_apply {
    struct otlphttp_exporter *x;
    struct conn *c;
    struct error *err;
};

/* Puts a certificate set on a slot. A slot that already used an older set gets new handles
 * first: libcurl reads the client certificate only at a handshake, and a kept connection or a
 * cached TLS session would go on presenting the old one. */
static int tls_apply_set(void *ctx, const struct tls_material *m)
{
    struct tls_apply *a = ctx;
    struct conn *c = a->c;
    if (c->tls_seen) {
        struct conn fresh = {0};
        if (conn_handles(a->x, &fresh, a->err) != 0) {
            if (fresh.easy)
                curl_easy_cleanup(fresh.easy);
            if (fresh.multi)
                curl_multi_cleanup(fresh.multi);
            return -1;
        }
        /* shutdown wakes slots' multi handles under this lock */
        pthread_mutex_lock(&a->x->mu);
        CURL *old_easy = c->easy;
        CURLM *old_multi = c->multi;
        c->easy = fresh.easy;
        c->multi = fresh.multi;
        pthread_mutex_unlock(&a->x->mu);
        curl_easy_cleanup(old_easy);
        curl_multi_cleanup(old_multi);
        curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
    }
    struct curl_blob cb = {.data = m->cert, .len = strlen(m->cert), .flags = CURL_BLOB_COPY};
    struct curl_blob kb = {.data = m->key, .len = strlen(m->key), .flags = CURL_BLOB_COPY};
    if (curl_easy_setopt(c->easy, CURLOPT_SSLCERT_BLOB, &cb) != CURLE_OK ||
        curl_easy_setopt(c->easy, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK ||
        curl_easy_setopt(c->easy, CURLOPT_SSLKEY_BLOB, &kb) != CURLE_OK ||
        curl_easy_setopt(c->easy, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK)
        return error_set(a->err, "libcurl refused the client certificate");
    return 0;
}

/* reload_interval: the slot presents the current certificate set (re-read when due). */
static int conn_tls_check(struct otlphttp_exporter *x, struct conn *c, struct error *err)
{
    if (!x->reloading)
        return 0;
    struct tls_apply a = {.x = x, .c = c, .err = err};
    if (tls_reload_check(&x->reload, &c->tls_seen, tls_apply_set, &a) < 0) {
        if (!err->msg[0])
            error_set(err, "tls: cannot use the client certificate");
        return -1;
    }
    return 0;
}

static struct conn *conn_acquire(struct otlphttp_exporter *x, struct error *err)
{
    pthread_mutex_lock(&x->mu);
    struct conn *c = x->free_conns;
    if (c) {
        x->free_conns = c->next_free;
        pthread_mutex_unlock(&x->mu);
        return c;
    }
    pthread_mutex_unlock(&x->mu);
    c = conn_new(x, err);
    if (!c)
        return NULL;
    pthread_mutex_lock(&x->mu);
    c->next_all = x->all_conns;
    x->all_conns = c;
    pthread_mutex_unlock(&x->mu);
    return c;
}

static void conn_release(struct otlphttp_exporter *x, struct conn *c)
{
    pthread_mutex_lock(&x->mu);
    c->next_free = x->free_conns;
    x->free_conns = c;
    pthread_mutex_unlock(&x->mu);
}

/* gzip (RFC 1952) or deflate/zlib (the zlib format, RFC 1950, which is what HTTP calls deflate).
 * Levels as Go's compress packages read them: 0 and -1 the default (the Collector replaces an
 * unset 0 by the default), -2 Huffman coding only, for zlib a strategy rather than a level. */
static int compress_body(const uint8_t *in, size_t len, bool gzip, int level, uint8_t **out,
                         size_t *out_len, struct error *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    int strategy = level == -2 ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY;
    if (deflateInit2(&z, level > 0 ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                     gzip ? 15 + 16 : 15, 8, strategy) != Z_OK)
        return error_set(err, "cannot start compression");
    size_t cap = deflateBound(&z, (uLong)len);
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) {
        deflateEnd(&z);
        return error_set(err, "out of memory");
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return error_set(err, "compression failed (zlib %d)", rc);
    }
    *out = buf;
    *out_len = n;
    return 0;
}

static bool content_type_is(const char *ct, const char *want)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen(want);
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Decodes a response body as message d by its Content-Type (proto or JSON). NULL when the type
 * is neither or the body does not decode (err says which). Free with free_msg(m, arena). */
static ProtobufCMessage *decode_body(const ProtobufCMessageDescriptor *d, const char *ct,
                                     const struct response *r, struct arena **arena,
                                     struct error *err)
{
    *arena = NULL;
    error_clear(err);
    if (content_type_is(ct, "application/x-protobuf") ||
        content_type_is(ct, "application/protobuf")) {
        ProtobufCMessage *m =
            protobuf_c_message_unpack(d, NULL, r->len, (const uint8_t *)(r->data ? r->data : ""));
        if (!m)
            error_set(err, "the protobuf response does not decode");
        return m;
    }
    if (content_type_is(ct, "application/json")) {
        *arena = arena_new(4096);
        if (!*arena) {
            error_set(err, "out of memory");
            return NULL;
        }
        ProtobufCMessage *m = otlp_json_decode(d, r->data ? r->data : "", r->len, *arena, err);
        if (!m) {
            arena_free(*arena);
            *arena = NULL;
        }
        return m;
    }
    return NULL;
}

static void free_msg(ProtobufCMessage *m, struct arena *arena)
{
    if (arena)
        arena_free(arena);
    else if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

/* Reads partial_success from a 2xx response; logs and counts rejected items. */
static void check_partial_success(struct otlphttp_exporter *x, struct batch *b, const char *ct,
                                  const struct response *r)
{
    if (r->len == 0)
        return;
    struct arena *arena;
    struct error err;
    ProtobufCMessage *m = decode_body(otlp_response_descriptor(b->signal), ct, r, &arena, &err);
    if (!m) {
        if (err.msg[0])
            log_warn(x->log_name, "server answered 2xx with a response that does not decode "
                                  "(%s); treating the batch as delivered", err.msg);
        return;
    }
    exporter_helper_partial_success(x->helper, b, m);
    free_msg(m, arena);
}

/* The reason a failed response gives: the google.rpc.Status message when the body is one, else
 * the start of a plain-text body, else "". */
static void failure_reason(const char *ct, const struct response *r, char *out, size_t cap)
{
    out[0] = '\0';
    if (r->len == 0)
        return;
    struct arena *arena;
    struct error err;
    ProtobufCMessage *m = decode_body(&google__rpc__status__descriptor, ct, r, &arena, &err);
    if (m) {
        const Google__Rpc__Status *st = (const void *)m;
        if (st->message && st->message[0])
            snprintf(out, cap, "%s", st->message);
        free_msg(m, arena);
        if (out[0])
            return;
    }
    if (!ct || strncasecmp(ct, "text/", 5) == 0 || content_type_is(ct, "application/json")) {
        size_t n = 0;
        for (size_t i = 0; i < r->len && n + 1 < cap && n < 200; i++) {
            unsigned char ch = (unsigned char)r->data[i];
            out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
        }
        while (n > 0 && out[n - 1] == ' ')
            n--;
        out[n] = '\0';
    }
}

static bool status_retryable(long code)
{
    return code == 429 || code == 502 || code == 503 || code == 504;
}

/* 400 (the data is bad) and 413 (too large): a smaller request can succeed, so the helper cuts
 * the request down to the items the server refuses. 401/403/404/405/415 and the rest fail the
 * whole request: no piece of it would fare better. */
static bool status_bad_data(long code)
{
    return code == 400 || code == 413;
}

/* Runs the transfer on the slot; returns its result, or -1 when the shutdown deadline cut it. */
static int run_transfer(struct otlphttp_exporter *x, struct conn *c)
{
    if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK)
        return (int)CURLE_FAILED_INIT;
    int result = -1;
    for (;;) {
        int running = 0;
        if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
            result = (int)CURLE_FAILED_INIT;
            break;
        }
        if (running == 0) {
            int left;
            CURLMsg *msg;
            result = (int)CURLE_FAILED_INIT;
            while ((msg = curl_multi_info_read(c->multi, &left)))
                if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->easy)
                    result = (int)msg->data.result;
            break;
        }
        int wait_ms = 1000;
        int64_t sd = atomic_load(&x->shutdown_deadline);
        if (sd > 0) {
            int64_t left = sd - clock_now_ns();
            if (left <= 0) {
                result = -1;
                break;
            }
            if (left / 1000000 < wait_ms)
                wait_ms = (int)(left / 1000000) + 1;
        }
        curl_multi_poll(c->multi, NULL, 0, wait_ms, NULL);
    }
    curl_multi_remove_handle(c->multi, c->easy);
    return result;
}

/* The exporter's headers with the authenticator's in place of any of the same name, asked per
 * request so a rotated token is sent at once (the Collector's RoundTripper sets it the same way).
 * 0, or -1 with err. */
static int auth_header_list(struct otlphttp_exporter *x, struct curl_slist *base,
                            struct curl_slist **out, struct error *err)
{
    const char *name = NULL;
    char *value = NULL;
    if (x->cfg->auth.client->header(x->cfg->auth.client, &name, &value, err) != 0) {
        error_prefix(err, "auth: ");
        return -1;
    }
    size_t nl = strlen(name);
    struct curl_slist *l = NULL;
    bool ok = true;
    for (struct curl_slist *h = base; h && ok; h = h->next) {
        size_t kl = strcspn(h->data, ":;");
        if (kl == nl && strncasecmp(h->data, name, nl) == 0)
            continue;
        struct curl_slist *n = curl_slist_append(l, h->data);
        ok = n != NULL;
        if (ok)
            l = n;
    }
    if (ok) {
        size_t vl = strlen(value);
        char *line = malloc(nl + vl + 3);
        ok = line != NULL;
        if (ok) {
            snprintf(line, nl + vl + 3, "%s: %s", name, value);
            struct curl_slist *n = curl_slist_append(l, line);
            ok = n != NULL;
            if (ok)
                l = n;
            explicit_bzero(line, nl + vl + 2);
            free(line);
        }
    }
    explicit_bzero(value, strlen(value));
    free(value);
    if (!ok) {
        curl_slist_free_all(l);
        return error_set(err, "out of memory");
    }
    *out = l;
    return 0;
}

static enum send_result otlphttp_send(void *ctx, struct batch *b, int64_t *throttle_ns,
                                      struct error *err)
{
    struct otlphttp_exporter *x = ctx;
    const struct otlphttp_exporter_config *cfg = x->cfg;
    const char *url = x->url[b->signal];
    if (!url) {
        error_set(err, "no URL for %s: set endpoint or %s_endpoint", signal_name(b->signal),
                  signal_name(b->signal));
        return SEND_PERMANENT;
    }
    const uint8_t *data;
    size_t len;
    if (batch_encoded(b, &data, &len, err) != 0) {
        error_prefix(err, "cannot encode the batch: ");
        return SEND_PERMANENT;
    }
    char *json = NULL;
    uint8_t *packed = NULL;
    if (cfg->encoding == OTLPHTTP_ENCODING_JSON) {
        json = otlp_json_from_wire(b->signal, data, len, &len, err);
        if (!json) {
            error_prefix(err, "cannot render the batch as JSON: ");
            return SEND_PERMANENT;
        }
        data = (const uint8_t *)json;
    }
    const char *comp = wire_compression(cfg);
    if (comp[0]) {
        /* a substituted encoding's level is not a gzip level: gzip's default then */
        int level = comp == cfg->compression ? (int)cfg->compression_params.level : 0;
        if (compress_body(data, len, comp[0] == 'g', level, &packed, &len, err) != 0) {
            free(json);
            return SEND_PERMANENT;
        }
        data = packed;
    }

    enum send_result result;
    struct conn *c = conn_acquire(x, err);
    if (!c) {
        free(json);
        free(packed);
        return SEND_RETRYABLE;
    }
    if (conn_tls_check(x, c, err) != 0) {
        conn_release(x, c);
        free(json);
        free(packed);
        return SEND_RETRYABLE;
    }
    struct curl_slist *base = x->sig_headers[b->signal] ? x->sig_headers[b->signal] : x->headers;
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, base);
    curl_easy_setopt(c->easy, CURLOPT_CONNECT_TO, x->connect_to[b->signal]);
    struct curl_slist *auth_headers = NULL;
    if (cfg->has_auth && cfg->auth.client) {
        if (auth_header_list(x, base, &auth_headers, err) != 0) {
            conn_release(x, c);
            free(json);
            free(packed);
            return SEND_RETRYABLE;
        }
        curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, auth_headers);
    }
    struct response r = {0};
    long timeout_ms = cfg->timeout > 0 ? (long)((cfg->timeout + 999999) / 1000000) : 0;
    c->errbuf[0] = '\0';
    curl_easy_setopt(c->easy, CURLOPT_URL, x->tls_url[b->signal] ? x->tls_url[b->signal] : url);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, (const char *)data);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, timeout_ms);

    int rc = run_transfer(x, c);
    if (rc < 0) {
        error_set(err, "request to %s cut short: shutdown deadline reached", url);
        result = SEND_RETRYABLE;
    } else if (rc != CURLE_OK) {
        error_set(err, "request to %s failed: %s", url,
                  c->errbuf[0] ? c->errbuf : curl_easy_strerror((CURLcode)rc));
        result = rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ? SEND_PERMANENT
                                                                                : SEND_RETRYABLE;
    } else {
        long code = 0;
        char *ct = NULL;
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(c->easy, CURLINFO_CONTENT_TYPE, &ct);
        if (code >= 200 && code <= 299) {
            check_partial_success(x, b, ct, &r);
            result = SEND_OK;
        } else {
            char why[512];
            failure_reason(ct, &r, why, sizeof why);
            error_set(err, "request to %s answered HTTP %ld%s%s", url, code, why[0] ? ": " : "",
                      why);
            if (status_retryable(code)) {
                curl_off_t after = 0;
                /* Retry-After in seconds or as an HTTP date, relative to now. */
                if (curl_easy_getinfo(c->easy, CURLINFO_RETRY_AFTER, &after) == CURLE_OK &&
                    after > 0)
                    *throttle_ns = after > 86400 ? 86400 * (int64_t)1000000000
                                                 : (int64_t)after * 1000000000;
                result = SEND_RETRYABLE;
            } else if (status_bad_data(code)) {
                result = SEND_REJECTED;
            } else {
                result = SEND_PERMANENT;
            }
        }
    }
    /* Forget the body pointer before the buffer goes away. */
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, NULL);
    if (auth_headers) {
        curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, x->headers);
        for (struct curl_slist *h = auth_headers; h; h = h->next)
            explicit_bzero(h->data, strlen(h->data));
        curl_slist_free_all(auth_headers);
    }
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, NULL);
    conn_release(x, c);
    free(r.data);
    free(json);
    free(packed);
    return result;
}

static void otlphttp_destroy(void *self);

static bool has_header(const struct otlphttp_exporter_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->headers.n; i++)
        if (strcasecmp(cfg->headers.items[i].key, name) == 0)
            return true;
    return false;
}

static int add_header(struct curl_slist **list, const char *key, const char *value)
{
    size_t n = strlen(key) + strlen(value) + 3;
    char *line = malloc(n);
    if (!line)
        return -1;
    /* "Key;" is libcurl's spelling of a header sent with an empty value. */
    if (value[0])
        snprintf(line, n, "%s: %s", key, value);
    else
        snprintf(line, n, "%s;", key);
    struct curl_slist *l = curl_slist_append(*list, line);
    free(line);
    if (!l)
        return -1;
    *list = l;
    return 0;
}

static int build_headers(struct otlphttp_exporter *x)
{
    const struct otlphttp_exporter_config *cfg = x->cfg;
    const char *comp = wire_compression(cfg);
    bool json = cfg->encoding == OTLPHTTP_ENCODING_JSON;
    if (!has_header(cfg, "Content-Type") &&
        add_header(&x->headers, "Content-Type",
                   json ? "application/json" : "application/x-protobuf") != 0)
        return -1;
    if (comp[0] && add_header(&x->headers, "Content-Encoding", comp) != 0)
        return -1;
    /* A large body would otherwise wait a second for "100 Continue" that OTLP servers skip. */
    if (!has_header(cfg, "Expect") && !(x->headers = curl_slist_append(x->headers, "Expect:")))
        return -1;
    for (size_t i = 0; i < cfg->headers.n; i++) {
        const char *v = cfg->headers.items[i].value ? cfg->headers.items[i].value : "";
        if (add_header(&x->headers, cfg->headers.items[i].key, v) != 0)
            return -1;
    }
    return 0;
}

/* server_name_override for one signal's https:// URL: TLS (SNI and the certificate check) uses
 * the override because it becomes the URL's host, CURLOPT_CONNECT_TO still sends the connection
 * to the real host and port, and Host keeps the URL's own authority, as Go's client does (it
 * only changes tls.Config.ServerName). A Host set in headers wins, as in the Collector. */
static int override_server_name(struct otlphttp_exporter *x, enum signal s, struct error *err)
{
    const char *name = x->cfg->tls.server_name_override;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *given_port = NULL, *url = NULL;
    int rc = -1;
    if (!u) {
        error_set(err, "out of memory");
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, x->url[s], 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        error_set(err, "%s: cannot parse the URL \"%s\"", signal_name(s), x->url[s]);
        goto out;
    }
    if (strcasecmp(scheme, "https") != 0) { /* no TLS, nothing to name */
        rc = 0;
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &given_port, 0); /* absent: Host has no port either */
    if (curl_url_set(u, CURLUPART_HOST, name, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
        error_set(err, "tls.server_name_override: \"%s\" is not a host name", name);
        goto out;
    }
    char line[1024];
    snprintf(line, sizeof line, "%s:%s:%s:%s", name, port, host, port);
    if (!(x->tls_url[s] = strdup(url)) ||
        !(x->connect_to[s] = curl_slist_append(NULL, line))) {
        error_set(err, "out of memory");
        goto out;
    }
    struct curl_slist *h = NULL;
    for (struct curl_slist *i = x->headers; i; i = i->next)
        if (!(h = curl_slist_append(h, i->data)))
            break;
    if (!has_header(x->cfg, "Host")) {
        snprintf(line, sizeof line, "Host: %s%s%s", host, given_port ? ":" : "",
                 given_port ? given_port : "");
        h = h ? curl_slist_append(h, line) : NULL;
    }
    if (!h) {
        error_set(err, "out of memory");
        goto out;
    }
    x->sig_headers[s] = h;
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(given_port);
    curl_free(url);
    curl_url_cleanup(u);
    return rc;
}

static int load_tls(struct otlphttp_exporter *x, struct error *err)
{
    const struct tls_client_config *t = &x->cfg->tls;
    const struct tls_config *b = &t->base;
    x->ca = tls_pem(b->ca_pem, b->ca_file, err);
    if (!x->ca && err->msg[0])
        return -1;
    /* As the Collector: only a certificate or key read from a file is re-read. */
    x->reloading = b->reload_interval > 0 && (str_set(b->cert_pem) || str_set(b->cert_file)) &&
                   (str_set(b->cert_file) || str_set(b->key_file));
    if (x->reloading) {
        x->reload_cfg.base = *b;
        if (tls_reload_init(&x->reload, &x->reload_cfg, "tls", x->log_name, err) != 0) {
            x->reloading = false;
            return -1;
        }
    } else {
        x->cert = tls_pem(b->cert_pem, b->cert_file, err);
        if (!x->cert && err->msg[0])
            return -1;
        x->key = tls_pem(b->key_pem, b->key_file, err);
        if (!x->key && err->msg[0])
            return -1;
    }
    error_clear(err);
    long min = CURL_SSLVERSION_TLSv1_2, max = CURL_SSLVERSION_MAX_DEFAULT;
    if (str_set(b->min_version) && tls_version_code(b->min_version, false, &min) != 0)
        return error_set(err, "tls.min_version: unknown version \"%s\"", b->min_version);
    if (str_set(b->max_version) && tls_version_code(b->max_version, true, &max) != 0)
        return error_set(err, "tls.max_version: unknown version \"%s\"", b->max_version);
    if (tls_cipher_list(&b->cipher_suites, &x->cipher_list, err) != 0 ||
        tls_curve_list(&b->curve_preferences, &x->curve_list, err) != 0)
        return -1;
    /* Only TLS 1.3 suites named: Go then offers no TLS 1.2 suite at all, which is TLS 1.3 only. */
    if (b->cipher_suites.n && !x->cipher_list)
        min = CURL_SSLVERSION_TLSv1_3;
    if (str_set(t->server_name_override))
        for (int s = 0; s < SIGNAL_COUNT; s++)
            if (x->url[s] && override_server_name(x, (enum signal)s, err) != 0)
                return -1;
    x->ssl_version = min | max; /* insecure_skip_verify: otlphttp_warn said it at load */
    return 0;
}

static void *create_common(const void *cfgp, const struct component_env *env,
                           const char *default_name, struct error *err)
{
    const struct otlphttp_exporter_config *cfg = cfgp;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK) {
        error_set(err, "cannot initialise libcurl: %s", curl_easy_strerror(curl_init_rc));
        return NULL;
    }
    struct otlphttp_exporter *x = calloc(1, sizeof *x);
    if (!x) {
        error_set(err, "out of memory");
        return NULL;
    }
    x->cfg = cfg;
    pthread_mutex_init(&x->mu, NULL);
    char fallback[64];
    snprintf(fallback, sizeof fallback, "exporter/%s", default_name);
    x->log_name = strdup(env->log_name ? env->log_name : fallback);
    if (!x->log_name) {
        error_set(err, "out of memory");
        goto fail;
    }
    for (int s = 0; s < SIGNAL_COUNT; s++)
        x->url[s] = otlphttp_signal_url(cfg, (enum signal)s);
    if (build_headers(x) != 0) {
        error_set(err, "out of memory");
        goto fail;
    }
    if (load_tls(x, err) != 0)
        goto fail;

    x->helper = exporter_helper_new(x->log_name, env->id ? env->id : default_name,
                                    &cfg->sending_queue, &cfg->retry_on_failure, otlphttp_send, x,
                                    env->telemetry, err);
    if (!x->helper)
        goto fail;
    const char *comp = wire_compression(cfg)[0] ? wire_compression(cfg) : "none";
    for (int s = 0; s < SIGNAL_COUNT; s++)
        log_debug(x->log_name, "%s to %s (%s, compression %s)", signal_name((enum signal)s),
                  x->url[s] ? x->url[s] : "(no URL)",
                  cfg->encoding == OTLPHTTP_ENCODING_JSON ? "json" : "proto", comp);
    return x;

fail:
    otlphttp_destroy(x);
    return NULL;
}

static void *otlphttp_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    return create_common(cfgp, env, "otlphttp", err);
}

static void *otlp_http_create(const void *cfgp, const struct component_env *env,
                              struct error *err)
{
    return create_common(cfgp, env, "otlp_http", err);
}

static int otlphttp_start(void *self, struct error *err)
{
    struct otlphttp_exporter *x = self;
    return exporter_helper_start(x->helper, err);
}

static void otlphttp_shutdown(void *self, int64_t deadline_ns)
{
    struct otlphttp_exporter *x = self;
    atomic_store(&x->shutdown_deadline, deadline_ns > 0 ? deadline_ns : 1);
    /* Transfers already waiting recompute their wait against the deadline now. */
    pthread_mutex_lock(&x->mu);
    for (struct conn *c = x->all_conns; c; c = c->next_all)
        curl_multi_wakeup(c->multi);
    pthread_mutex_unlock(&x->mu);
    if (x->helper)
        exporter_helper_shutdown(x->helper, deadline_ns);
}

static enum consume_status otlphttp_consume(void *self, struct batch *b)
{
    struct otlphttp_exporter *x = self;
    return exporter_helper_consume(x->helper, b);
}

static void otlphttp_destroy(void *self)
{
    struct otlphttp_exporter *x = self;
    if (!x)
        return;
    /* Joins the senders first: no slot is in use after this. */
    exporter_helper_free(x->helper);
    while (x->all_conns) {
        struct conn *c = x->all_conns;
        x->all_conns = c->next_all;
        conn_free(c);
    }
    curl_slist_free_all(x->headers);
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        free(x->url[s]);
        free(x->tls_url[s]);
        curl_slist_free_all(x->connect_to[s]);
        curl_slist_free_all(x->sig_headers[s]);
    }
    if (x->reloading)
        tls_reload_destroy(&x->reload);
    free(x->cipher_list);
    free(x->curve_list);
    free(x->ca);
    free(x->cert);
    tls_pem_free(x->key);
    pthread_mutex_destroy(&x->mu);
    free(x->log_name);
    free(x);
}

#define OTLPHTTP_FACTORY_COMMON                                                                    \
    .kind = COMPONENT_EXPORTER, .fields = otlphttp_exporter_fields,                                \
    .config_size = sizeof(struct otlphttp_exporter_config),                                        \
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS),               \
    .validate = otlphttp_validate, .warn = otlphttp_warn, .start = otlphttp_start,                 \
    .shutdown = otlphttp_shutdown,                                                                 \
    .consume = otlphttp_consume, .destroy = otlphttp_destroy

const struct component_factory otlphttp_exporter_factory = {
    .type = "otlphttp",
    .doc = "OTLP/HTTP exporter (Collector otlphttp exporter keys): proto or JSON, gzip, queue, "
           "retry, TLS",
    .create = otlphttp_create,
    OTLPHTTP_FACTORY_COMMON,
};

const struct component_factory otlp_http_exporter_factory = {
    .type = "otlp_http",
    .doc = "the otlphttp exporter under its newer Collector name",
    .create = otlp_http_create,
    OTLPHTTP_FACTORY_COMMON,
};
