/* http_server.c — the OTLP/HTTP server of the otlp receiver, on libmicrohttpd's thread pool:
 * POST of protobuf or OTLP/JSON, identity/gzip/zlib bodies, on the three signal paths, answered
 * as the OTLP spec says (200 with the response message in the request's encoding, 4xx/5xx with a
 * google.rpc.Status), with the Collector's CORS behaviour for browsers.
 *
 * The one idea: a request is decided in two steps. Its headers alone decide most refusals (path,
 * method, content type, encoding, a Content-Length past the limit); its body then streams through
 * zlib into one buffer that may never grow past max_request_body_size + 1 bytes, so a
 * decompression bomb is refused after inflating at most the limit. Once anything is refused the
 * rest of the body is read and dropped (bounded), so the client always gets a real answer rather
 * than a reset connection. The buffer then goes, as is, to the receiver's export handler.
 *
 * Slow clients are cut by deadlines, not by an inactivity limit (which a client dripping one byte
 * every few seconds never trips): each connection, learnt from MHD's connection notifications,
 * carries the deadline of the phase it is in (headers: read_header_timeout; body: read_timeout;
 * answer: write_timeout; kept alive between requests: idle_timeout), moved by the request
 * callbacks, and one sweeper thread shuts down the socket of any connection past it, which makes
 * MHD close it in its own thread. Connection counts are MHD's own limits (max_connections, per
 * source address). With tls.client_ca_file, a connection whose client certificate does not verify
 * against that CA gets 401 before anything of its request is read. TLS itself (the certificate
 * served from the set current at the handshake, re-read for reload_interval and
 * client_ca_file_reload; the client certificate check) is core/mhd_tls.c's. */
#include <errno.h>
#include <fcntl.h>
#include <grpc/status.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <zlib.h>

#include "core/component.h"
#include "core/log.h"
#include "core/membudget.h"
#include "core/mhd_tls.h"
#include "core/otlp_json.h"
#include "core/tls_config.h"
#include "core/unix_socket.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "receivers/otlp/otlp_receiver.h"

#define HS_DEFAULT_MAX_BODY ((int64_t)20 << 20) /* confighttp's default when the key is 0 */
/* Body bytes read and dropped after a refusal before the connection is simply closed: enough
 * for any honest client that did not wait for `100 Continue`, small enough that a client
 * streaming forever cannot hold a thread. */
#define HS_DISCARD_MAX ((uint64_t)64 << 20)
#define HS_MIN_GROW ((size_t)64 << 10)
#define HS_DEFAULT_MAX_CONNECTIONS 2048 /* when the key is 0 (the table's default says the same) */
#define HS_WARN_EVERY_NS ((int64_t)10 * 1000000000) /* cut/refused connections: one warning per */

enum hs_ctype { CT_NONE, CT_PROTO, CT_JSON };         /* CT_NONE: absent or not OTLP */
enum hs_comp { COMP_IDENTITY, COMP_GZIP, COMP_ZLIB };

struct otlp_http_server {
    struct MHD_Daemon *daemon;
    int listen_fd;                    /* ours until MHD starts; closed by us after a quiesce */
    struct unix_socket sock_file;     /* transport unix: the socket file, removed at shutdown */
    bool quiesced;
    int port;
    unsigned signals;
    otlp_export_fn fn;
    otlp_refused_fn refused;
    void *user;
    const char *log_name;
    char *paths[SIGNAL_COUNT];        /* with the leading "/" the Collector adds */
    uint64_t max_body;
    bool allow_comp[3];               /* by enum hs_comp */
    /* CORS (allowed_origins empty = off) */
    char **origins;                   /* lowercased patterns */
    size_t norigins;
    char **headers;                   /* allowed request headers, lowercased; "*" = any */
    size_t nheaders;
    int64_t max_age;
    const struct config_kv_list *response_headers;
    bool keep_alive;
    const struct auth_config *auth;   /* protocols.http.auth; NULL = none */
    struct mhd_tls tls;               /* protocols.http.tls; tls.on when served */
    atomic_bool stopping;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    long inflight;                    /* requests between first call and completion, under mu */
    bool shut_down;
    /* connection deadlines (ns, 0 = none) and the sweeper that enforces them */
    int64_t hdr_ns, read_ns, write_ns, idle_ns;
    pthread_mutex_t conns_mu;
    pthread_cond_t sweep_cv;          /* wakes the sweeper to stop */
    struct hs_conn *conns;            /* every open connection, under conns_mu */
    pthread_t sweeper;
    bool sweeper_running, sweep_stop;
    int64_t sweep_every_ns;
    atomic_uint_fast64_t cut[4];      /* connections cut, by enum hs_phase */
    atomic_uint_fast64_t over_limit;  /* connections MHD refused at max_connections(_per_client) */
    uint64_t cut_told[4], over_told;  /* sweeper only: what the last warnings counted */
    int64_t last_cut_warn_ns, last_over_warn_ns;
};

enum hs_phase { PH_HEADERS, PH_BODY, PH_ANSWER, PH_IDLE };
static const char *const phase_key[4] = {"read_header_timeout", "read_timeout", "write_timeout",
                                         "idle_timeout"};

/* One connection: MHD's socket context for it. Only `deadline` and `phase` change after it is
 * listed (atomically: the request callbacks write them, the sweeper reads them). */
struct hs_conn {
    struct hs_conn *prev, *next;
    int fd;
    int64_t opened_ns;
    _Atomic int64_t deadline_ns;      /* 0 = none */
    _Atomic int phase;
    int64_t headers_ns;               /* when the current request's headers were complete */
    bool first_request_done;
    bool cut;                         /* under conns_mu: shut down once */
    int cert_ok;                      /* client certificate: 0 unchecked, 1 verified, -1 refused */
};

struct hs_req {
    int sig;                          /* enum signal, or -1 off the signal paths */
    enum hs_ctype ct;
    enum hs_comp comp;
    bool preflight;
    int status;                       /* decided HTTP status, 0 = still fine */
    int code;                         /* google.rpc.Status code for an error answer */
    char msg[512];
    uint64_t raw;                     /* body bytes received */
    uint64_t dropped;                 /* body bytes read after a refusal */
    uint8_t *buf;                     /* body after decompression */
    size_t len, cap;
    z_stream zs;
    bool z_live, z_done;
    uint64_t held;                    /* bytes of the admission budget held for buf */
    int64_t retry_ns;                 /* Retry-After of a refusal (the budget's) */
};

/* ---- helpers ---------------------------------------------------------------------------------- */

static void req_fail(struct otlp_http_server *s, struct hs_req *r, int http, int code, bool count,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Records the refusal of a request (first refusal wins); `count` reports it to the receiver. */
static void req_fail(struct otlp_http_server *s, struct hs_req *r, int http, int code, bool count,
                     const char *fmt, ...)
{
    if (r->status)
        return;
    r->status = http;
    r->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    free(r->buf);
    r->buf = NULL;
    r->len = r->cap = 0;
    membudget_release(membudget_process(), r->held);
    r->held = 0;
    if (r->z_live) {
        inflateEnd(&r->zs);
        r->z_live = false;
    }
    if (count && s->refused && r->sig >= 0)
        s->refused(s->user, (enum signal)r->sig, r->msg);
}

/* Admission budget (core/membudget.h): the bytes of r->buf are acquired before they are
 * allocated and held until the request is done, so a request over the budget is refused (503,
 * Retry-After) before anything of it is buffered or inflated. false = refused. */
static bool budget_take(struct otlp_http_server *s, struct hs_req *r, uint64_t n)
{
    if (membudget_try_acquire(membudget_process(), n)) {
        r->held += n;
        return true;
    }
    req_fail(s, r, MHD_HTTP_SERVICE_UNAVAILABLE, GRPC_STATUS_UNAVAILABLE, false,
             "memory budget exhausted (memory_limiter); retry later");
    r->retry_ns = 1000000000;
    return false;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* The media type of a Content-Type value, without parameters and spaces, compared
 * case-insensitively with `want`. */
static bool media_type_is(const char *v, const char *want)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strcspn(v, ";");
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return n == strlen(want) && strncasecmp(v, want, n) == 0;
}

static bool token_is(const char *v, const char *want)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return n == strlen(want) && strncasecmp(v, want, n) == 0;
}

static char *lower_dup(const char *v)
{
    char *d = strdup(v ? v : "");
    for (char *p = d; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

/* rs/cors matching, as the Collector's confighttp: "*" matches any origin, a pattern with one
 * "*" matches by prefix and suffix, otherwise exact; all case-insensitive. */
static bool origin_allowed(const struct otlp_http_server *s, const char *origin)
{
    if (!origin || !*origin)
        return false;
    char *o = lower_dup(origin);
    bool ok = false;
    for (size_t i = 0; o && i < s->norigins && !ok; i++) {
        const char *p = s->origins[i];
        const char *star = strchr(p, '*');
        if (!star) {
            ok = strcmp(p, o) == 0;
        } else {
            size_t pre = (size_t)(star - p), suf = strlen(star + 1), n = strlen(o);
            ok = n >= pre + suf && strncmp(o, p, pre) == 0 && strcmp(o + n - suf, star + 1) == 0;
        }
    }
    free(o);
    return ok;
}

/* Headers a browser may always send (the CORS-safelisted ones the Collector documents as
 * implicitly allowed, plus Origin that rs/cors adds). */
static const char *const always_allowed_headers[] = {"accept", "accept-language", "content-type",
                                                     "content-language", "origin", NULL};

static bool header_allowed(const struct otlp_http_server *s, const char *h, size_t n)
{
    for (const char *const *a = always_allowed_headers; *a; a++)
        if (strlen(*a) == n && strncasecmp(*a, h, n) == 0)
            return true;
    for (size_t i = 0; i < s->nheaders; i++)
        if (strcmp(s->headers[i], "*") == 0 ||
            (strlen(s->headers[i]) == n && strncasecmp(s->headers[i], h, n) == 0))
            return true;
    return false;
}

/* Every header named in Access-Control-Request-Headers (comma-separated) is allowed. */
static bool request_headers_allowed(const struct otlp_http_server *s, const char *list)
{
    if (!list)
        return true;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        if (t && !header_allowed(s, p, t))
            return false;
        p += n;
    }
    return true;
}

/* ---- answers ---------------------------------------------------------------------------------- */

static const ProtobufCMessageDescriptor *response_descriptor(enum signal s)
{
    switch (s) {
    case SIGNAL_TRACES:
        return &opentelemetry__proto__collector__trace__v1__export_trace_service_response__descriptor;
    case SIGNAL_METRICS:
        return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__descriptor;
    default:
        return &opentelemetry__proto__collector__logs__v1__export_logs_service_response__descriptor;
    }
}

static int http_status_of(int grpc_code)
{
    switch (grpc_code) {
    case GRPC_STATUS_OK: return MHD_HTTP_OK;
    case GRPC_STATUS_INVALID_ARGUMENT: return MHD_HTTP_BAD_REQUEST;
    case GRPC_STATUS_RESOURCE_EXHAUSTED: return MHD_HTTP_TOO_MANY_REQUESTS;
    case GRPC_STATUS_UNIMPLEMENTED: return MHD_HTTP_NOT_FOUND;
    case GRPC_STATUS_UNAUTHENTICATED: return MHD_HTTP_UNAUTHORIZED;
    case GRPC_STATUS_PERMISSION_DENIED: return MHD_HTTP_FORBIDDEN;
    case GRPC_STATUS_UNAVAILABLE:
    case GRPC_STATUS_CANCELLED:
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_ABORTED:
    case GRPC_STATUS_OUT_OF_RANGE:
    case GRPC_STATUS_DATA_LOSS: return MHD_HTTP_SERVICE_UNAVAILABLE;
    default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

/* The body of an error answer: a google.rpc.Status in the request's encoding, or the message as
 * text/plain when the request named no OTLP content type (so no encoding is known to match).
 * malloc'd; NULL only on out of memory. */
static uint8_t *error_body(enum hs_ctype ct, int code, const char *msg, size_t *len, const char **ctype)
{
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = code;
    st.message = (char *)msg;
    if (ct == CT_PROTO) {
        *ctype = "application/x-protobuf";
        *len = google__rpc__status__get_packed_size(&st);
        uint8_t *b = malloc(*len ? *len : 1);
        if (b)
            google__rpc__status__pack(&st, b);
        return b;
    }
    if (ct == CT_JSON) {
        *ctype = "application/json";
        struct error err = {0};
        return (uint8_t *)otlp_json_encode(&st.base, len, &err);
    }
    *ctype = "text/plain; charset=utf-8";
    size_t n = strlen(msg);
    uint8_t *b = malloc(n + 2);
    if (b) {
        memcpy(b, msg, n);
        b[n] = '\n';
        b[n + 1] = '\0';
        *len = n + 1;
    }
    return b;
}

static void add_cors(struct otlp_http_server *s, struct MHD_Connection *c, struct MHD_Response *resp)
{
    if (!s->norigins)
        return;
    const char *origin = header(c, "Origin");
    MHD_add_response_header(resp, "Vary", "Origin");
    if (!origin_allowed(s, origin))
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
}

/* Queues one answer. `body` is malloc'd and taken (NULL = empty). */
static enum MHD_Result respond(struct otlp_http_server *s, struct MHD_Connection *c, struct hs_req *r,
                               int http, const char *ctype, uint8_t *body, size_t len,
                               int64_t retry_ns)
{
    struct MHD_Response *resp =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO; /* out of memory: MHD closes the connection */
    }
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (http == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST");
    if (http == MHD_HTTP_UNAUTHORIZED && s->auth && s->auth->server && s->auth->server->challenge)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, s->auth->server->challenge);
    if (retry_ns > 0) {
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)((retry_ns + 999999999) / 1000000000));
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (r && r->preflight) {
        if (http == MHD_HTTP_NO_CONTENT) {
            MHD_add_response_header(resp, "Access-Control-Allow-Origin", header(c, "Origin"));
            MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
            MHD_add_response_header(resp, "Access-Control-Allow-Methods", "POST");
            const char *rh = header(c, "Access-Control-Request-Headers");
            if (rh && *rh)
                MHD_add_response_header(resp, "Access-Control-Allow-Headers", rh);
            if (s->max_age > 0) {
                char v[32];
                snprintf(v, sizeof v, "%lld", (long long)s->max_age);
                MHD_add_response_header(resp, "Access-Control-Max-Age", v);
            }
        }
        MHD_add_response_header(resp, "Vary",
                                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    } else {
        add_cors(s, c, resp);
    }
    for (size_t i = 0; s->response_headers && i < s->response_headers->n; i++) {
        const struct config_kv *kv = &s->response_headers->items[i];
        MHD_add_response_header(resp, kv->key, kv->value ? kv->value : "");
    }
    if (!s->keep_alive || atomic_load(&s->stopping))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)http, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result respond_error(struct otlp_http_server *s, struct MHD_Connection *c,
                                     struct hs_req *r, int http, int code, const char *msg,
                                     int64_t retry_ns)
{
    if (http == MHD_HTTP_NO_CONTENT) /* a successful preflight */
        return respond(s, c, r, http, NULL, NULL, 0, 0);
    size_t len = 0;
    const char *ctype = NULL;
    if (retry_ns == 0 && r && r->retry_ns > 0 && http == r->status)
        retry_ns = r->retry_ns;
    uint8_t *body = error_body(r ? r->ct : CT_NONE, code, msg, &len, &ctype);
    return respond(s, c, r, http, body ? ctype : NULL, body, len, retry_ns);
}

/* ---- request steps ---------------------------------------------------------------------------- */

/* The request headers the decision reads (NULL = absent): looked up from the MHD connection by
 * on_access, or given directly by otlp_http_server_decide. */
struct hs_head {
    const char *content_type, *content_encoding, *content_length;
    const char *origin, *ac_request_method, *ac_request_headers;
};

static struct hs_head head_of(struct MHD_Connection *c)
{
    return (struct hs_head){
        .content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
        .content_encoding = header(c, MHD_HTTP_HEADER_CONTENT_ENCODING),
        .content_length = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH),
        .origin = header(c, "Origin"),
        .ac_request_method = header(c, "Access-Control-Request-Method"),
        .ac_request_headers = header(c, "Access-Control-Request-Headers"),
    };
}

/* First call: everything the headers alone decide. */
static void req_begin(struct otlp_http_server *s, struct hs_req *r, const struct hs_head *h,
                      const char *url, const char *method)
{
    r->sig = -1;
    const char *ct = h->content_type;
    if (ct && media_type_is(ct, "application/x-protobuf"))
        r->ct = CT_PROTO;
    else if (ct && media_type_is(ct, "application/json"))
        r->ct = CT_JSON;
    for (int k = 0; k < SIGNAL_COUNT; k++)
        if (strcmp(url, s->paths[k]) == 0)
            r->sig = k;
    if (r->sig < 0) {
        req_fail(s, r, MHD_HTTP_NOT_FOUND, GRPC_STATUS_UNIMPLEMENTED, false, "404 page not found: %.200s",
                 url);
        return;
    }
    if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0 && s->norigins &&
        h->ac_request_method && h->origin) {
        r->preflight = true;
        const char *origin = h->origin;
        if (!origin_allowed(s, origin))
            req_fail(s, r, MHD_HTTP_FORBIDDEN, GRPC_STATUS_PERMISSION_DENIED, false,
                     "CORS: origin %.200s is not allowed", origin);
        else if (!token_is(h->ac_request_method, "POST"))
            req_fail(s, r, MHD_HTTP_FORBIDDEN, GRPC_STATUS_PERMISSION_DENIED, false,
                     "CORS: only POST is allowed");
        else if (!request_headers_allowed(s, h->ac_request_headers))
            req_fail(s, r, MHD_HTTP_FORBIDDEN, GRPC_STATUS_PERMISSION_DENIED, false,
                     "CORS: a requested header is not allowed");
        else
            r->status = MHD_HTTP_NO_CONTENT;
        return;
    }
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
        req_fail(s, r, MHD_HTTP_METHOD_NOT_ALLOWED, GRPC_STATUS_UNIMPLEMENTED, false,
                 "405 method not allowed, supported: [POST]");
        return;
    }
    if (!(s->signals & (1u << r->sig))) {
        req_fail(s, r, MHD_HTTP_NOT_FOUND, GRPC_STATUS_UNIMPLEMENTED, false, "no pipeline for %s",
                 signal_name((enum signal)r->sig));
        return;
    }
    if (r->ct == CT_NONE) {
        req_fail(s, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, GRPC_STATUS_INVALID_ARGUMENT, true,
                 "415 unsupported media type, supported: [application/json, application/x-protobuf]");
        return;
    }
    const char *ce = h->content_encoding;
    if (!ce || token_is(ce, "") || token_is(ce, "identity"))
        r->comp = COMP_IDENTITY;
    else if (token_is(ce, "gzip") || token_is(ce, "x-gzip"))
        r->comp = COMP_GZIP;
    else if (token_is(ce, "deflate") || token_is(ce, "zlib"))
        r->comp = COMP_ZLIB;
    else {
        req_fail(s, r, MHD_HTTP_BAD_REQUEST, GRPC_STATUS_INVALID_ARGUMENT, true,
                 "unsupported Content-Encoding \"%.100s\"", ce);
        return;
    }
    if (!s->allow_comp[r->comp]) {
        req_fail(s, r, MHD_HTTP_BAD_REQUEST, GRPC_STATUS_INVALID_ARGUMENT, true,
                 "unsupported Content-Encoding \"%.100s\" (not in compression_algorithms)", ce);
        return;
    }
    const char *cl = h->content_length;
    unsigned long long want = 0;
    if (cl) {
        char *end;
        errno = 0;
        want = strtoull(cl, &end, 10);
        if (errno || end == cl)
            want = 0; /* MHD has already refused a malformed length */
        if (want > s->max_body) {
            req_fail(s, r, MHD_HTTP_CONTENT_TOO_LARGE, GRPC_STATUS_RESOURCE_EXHAUSTED, true,
                     "request body too large: %llu bytes, the limit is %llu", want,
                     (unsigned long long)s->max_body);
            return;
        }
    }
    if (r->comp != COMP_IDENTITY) {
        memset(&r->zs, 0, sizeof r->zs);
        if (inflateInit2(&r->zs, r->comp == COMP_GZIP ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK) {
            req_fail(s, r, MHD_HTTP_SERVICE_UNAVAILABLE, GRPC_STATUS_UNAVAILABLE, false,
                     "out of memory; retry later");
            return;
        }
        r->z_live = true;
    } else if (want > 0) {
        if (!budget_take(s, r, want))
            return;
        r->buf = malloc((size_t)want); /* exact: the batch keeps this very buffer */
        r->cap = r->buf ? (size_t)want : 0;
    }
}

/* Makes room for at least one more byte, never beyond max_body + 1 (the byte that proves the
 * body too large). false when already at that bound or out of memory. */
static bool grow(struct otlp_http_server *s, struct hs_req *r, size_t need)
{
    size_t bound = (size_t)s->max_body + 1;
    if (r->cap >= bound)
        return false;
    size_t n = r->cap * 2;
    if (n < r->len + need)
        n = r->len + need;
    if (n < HS_MIN_GROW)
        n = HS_MIN_GROW;
    if (n > bound)
        n = bound;
    if (n > r->held && !budget_take(s, r, n - r->held))
        return false;
    uint8_t *b = realloc(r->buf, n);
    if (!b)
        return false;
    r->buf = b;
    r->cap = n;
    return true;
}

static void too_large(struct otlp_http_server *s, struct hs_req *r, bool inflated)
{
    req_fail(s, r, MHD_HTTP_CONTENT_TOO_LARGE, GRPC_STATUS_RESOURCE_EXHAUSTED, true,
             "request body too large%s: the limit is %llu bytes",
             inflated ? " after decompression" : "", (unsigned long long)s->max_body);
}

/* One chunk of body. */
static void req_body(struct otlp_http_server *s, struct hs_req *r, const char *data, size_t n)
{
    r->raw += n;
    if (r->raw > s->max_body) {
        too_large(s, r, false);
        return;
    }
    if (r->comp == COMP_IDENTITY) {
        if (r->cap - r->len < n && !grow(s, r, n)) {
            req_fail(s, r, MHD_HTTP_SERVICE_UNAVAILABLE, GRPC_STATUS_UNAVAILABLE, false,
                     "out of memory; retry later");
            return;
        }
        memcpy(r->buf + r->len, data, n);
        r->len += n;
        return;
    }
    r->zs.next_in = (Bytef *)(uintptr_t)data;
    r->zs.avail_in = (uInt)n;
    while (r->zs.avail_in > 0) {
        if (r->z_done) {
            /* another gzip member after a complete one (RFC 1952 allows several) */
            if (r->comp != COMP_GZIP) {
                req_fail(s, r, MHD_HTTP_BAD_REQUEST, GRPC_STATUS_INVALID_ARGUMENT, true,
                         "invalid zlib body: data after the end of the stream");
                return;
            }
            inflateReset(&r->zs);
            r->z_done = false;
        }
        if (r->len == r->cap) {
            if (r->cap > s->max_body) {
                too_large(s, r, true);
                return;
            }
            if (!grow(s, r, 1)) {
                req_fail(s, r, MHD_HTTP_SERVICE_UNAVAILABLE, GRPC_STATUS_UNAVAILABLE, false,
                         "out of memory; retry later");
                return;
            }
        }
        size_t room = r->cap - r->len;
        r->zs.next_out = r->buf + r->len;
        r->zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = r->zs.avail_out;
        int rc = inflate(&r->zs, Z_NO_FLUSH);
        r->len += before - r->zs.avail_out;
        if (r->len > s->max_body) {
            too_large(s, r, true);
            return;
        }
        if (rc == Z_STREAM_END) {
            r->z_done = true;
        } else if (rc == Z_BUF_ERROR && r->zs.avail_out == 0) {
            continue; /* output full: grow and go on */
        } else if (rc != Z_OK) {
            req_fail(s, r, MHD_HTTP_BAD_REQUEST, GRPC_STATUS_INVALID_ARGUMENT, true, "invalid %s body: %s",
                     r->comp == COMP_GZIP ? "gzip" : "zlib", r->zs.msg ? r->zs.msg : "corrupt data");
            return;
        }
    }
}

/* The body is complete: checks the end of a compressed stream and turns JSON into protobuf.
 * 0 with the request bytes in *data (malloc'd, taken by the caller; NULL when *len is 0), or -1
 * with r->status set. */
static int req_decode(struct otlp_http_server *s, struct hs_req *r, uint8_t **data_out,
                      size_t *len_out)
{
    enum signal sig = (enum signal)r->sig;
    if (r->z_live) {
        bool complete = r->z_done || r->raw == 0;
        inflateEnd(&r->zs);
        r->z_live = false;
        if (!complete)
            req_fail(s, r, MHD_HTTP_BAD_REQUEST, GRPC_STATUS_INVALID_ARGUMENT, true,
                     "invalid %s body: truncated stream", r->comp == COMP_GZIP ? "gzip" : "zlib");
    }
    if (r->status)
        return -1;

    uint8_t *data = r->buf;
    size_t len = r->len;
    r->buf = NULL;
    r->len = r->cap = 0;
    if (r->ct == CT_JSON) {
        uint8_t *wire = NULL;
        size_t wlen = 0;
        struct error err = {0};
        int rc = otlp_json_to_wire(sig, data ? (const char *)data : "", len, &wire, &wlen, &err);
        free(data);
        if (rc != 0) {
            req_fail(s, r, MHD_HTTP_BAD_REQUEST, GRPC_STATUS_INVALID_ARGUMENT, true, "%s",
                     err.msg[0] ? err.msg : "invalid JSON");
            return -1;
        }
        data = wire;
        len = wlen;
    }
    if (len == 0) {
        free(data);
        data = NULL;
    } else if (r->ct == CT_PROTO && data) {
        /* the batch keeps this buffer for its life: give back what inflating over-allocated */
        uint8_t *fit = realloc(data, len);
        if (fit)
            data = fit;
    }
    *data_out = data;
    *len_out = len;
    return 0;
}

/* The JSON body of an OK answer: the handler's response message, rendered (takes
 * res->response). NULL only on out of memory. */
static char *ok_json_body(enum signal sig, struct otlp_export_result *res, size_t *jlen)
{
    char *json = NULL;
    *jlen = 0;
    if (res->response) {
        ProtobufCMessage *m = protobuf_c_message_unpack(response_descriptor(sig), NULL,
                                                        res->response_len, res->response);
        struct error err = {0};
        if (m) {
            json = otlp_json_encode(m, jlen, &err);
            protobuf_c_message_free_unpacked(m, NULL);
        }
        free(res->response);
        res->response = NULL;
    }
    if (!json) {
        json = strdup("{}");
        *jlen = json ? 2 : 0;
    }
    return json;
}

/* Last call: the body is complete; decode, export, answer. */
static enum MHD_Result req_end(struct otlp_http_server *s, struct hs_req *r, struct MHD_Connection *c)
{
    enum signal sig = (enum signal)r->sig;
    uint8_t *data;
    size_t len;
    if (req_decode(s, r, &data, &len) != 0)
        return respond_error(s, c, r, r->status, r->code, r->msg, 0);
    struct otlp_export_result res;
    s->fn(s->user, sig, data, len, &res);
    if (res.status != GRPC_STATUS_OK) {
        free(res.response);
        return respond_error(s, c, r, http_status_of(res.status), res.status, res.message,
                             res.retry_delay_ns);
    }
    if (r->ct == CT_PROTO)
        return respond(s, c, r, MHD_HTTP_OK, "application/x-protobuf", res.response, res.response_len, 0);
    size_t jlen = 0;
    char *json = ok_json_body(sig, &res, &jlen);
    return respond(s, c, r, MHD_HTTP_OK, "application/json", (uint8_t *)json, jlen, 0);
}

/* ---- connection deadlines and client certificates --------------------------------------------- */

static int64_t deadline_after(int64_t from, int64_t d) { return d > 0 ? from + d : 0; }

/* The earlier of two deadlines, 0 meaning none. */
static int64_t deadline_min(int64_t a, int64_t b) { return !a ? b : !b ? a : a < b ? a : b; }

static void conn_set(struct hs_conn *hc, enum hs_phase ph, int64_t deadline)
{
    atomic_store(&hc->phase, (int)ph);
    atomic_store(&hc->deadline_ns, deadline);
}

static struct hs_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* MHD's connection notifications: list a connection with its header deadline from the moment it
 * is accepted (a TLS handshake counts against it, as in Go), unlist it before MHD closes its
 * socket, so the sweeper never shuts down a descriptor number that has been reused. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct otlp_http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        /* MHD creates the session before this notification and starts the handshake after it */
        mhd_tls_connection_started(&s->tls, c);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct hs_conn *hc = calloc(1, sizeof *hc);
        if (!hc || !ci) {
            free(hc);
            return; /* unlisted: no deadline, still served */
        }
        hc->fd = ci->connect_fd;
        hc->opened_ns = clock_now_ns();
        conn_set(hc, PH_HEADERS, deadline_after(hc->opened_ns, s->hdr_ns));
        pthread_mutex_lock(&s->conns_mu);
        hc->next = s->conns;
        if (s->conns)
            s->conns->prev = hc;
        s->conns = hc;
        pthread_mutex_unlock(&s->conns_mu);
        *socket_context = hc;
        return;
    }
    struct hs_conn *hc = *socket_context;
    if (!hc)
        return;
    *socket_context = NULL; /* a second CLOSED for the same connection finds nothing */
    pthread_mutex_lock(&s->conns_mu);
    if (hc->prev)
        hc->prev->next = hc->next;
    else
        s->conns = hc->next;
    if (hc->next)
        hc->next->prev = hc->prev;
    pthread_mutex_unlock(&s->conns_mu);
    free(hc);
}

/* A request's headers are complete (first access call): its deadline becomes the body's
 * (read_timeout, from the connection's accept for its first request, from the end of the headers
 * for later ones) and the answer's (write_timeout, from the end of the headers, as Go resets it
 * there), whichever comes first. With a client CA, a connection without a verified certificate is
 * refused here: true with r set to 401, to be answered at once. */
static bool conn_request_started(struct otlp_http_server *s, struct hs_req *r, struct MHD_Connection *c,
                                 const struct hs_head *h)
{
    struct hs_conn *hc = conn_of(c);
    int64_t now = clock_now_ns();
    if (hc) {
        hc->headers_ns = now;
        int64_t from = hc->first_request_done ? now : hc->opened_ns;
        conn_set(hc, PH_BODY, deadline_min(deadline_after(from, s->read_ns), deadline_after(now, s->write_ns)));
    }
    if (!mhd_tls_client_required(&s->tls) || (hc && hc->cert_ok > 0))
        return false;
    char why[300];
    if (hc && hc->cert_ok < 0)
        snprintf(why, sizeof why, "client certificate not verified");
    else if (mhd_tls_verify_client(&s->tls, c, why, sizeof why) == 0) { /* once per connection */
        if (hc)
            hc->cert_ok = 1;
        return false;
    }
    if (hc)
        hc->cert_ok = -1;
    r->sig = -1;
    if (h->content_type && media_type_is(h->content_type, "application/x-protobuf"))
        r->ct = CT_PROTO;
    else if (h->content_type && media_type_is(h->content_type, "application/json"))
        r->ct = CT_JSON;
    req_fail(s, r, MHD_HTTP_UNAUTHORIZED, GRPC_STATUS_UNAUTHENTICATED, false, "%s", why);
    log_debug(s->log_name, "HTTP request refused: %s", why);
    return true;
}

/* The body is complete: only the answer's deadline is left. */
static void conn_body_done(struct otlp_http_server *s, struct MHD_Connection *c)
{
    struct hs_conn *hc = conn_of(c);
    if (hc)
        conn_set(hc, PH_ANSWER, deadline_after(hc->headers_ns, s->write_ns));
}

/* The answer is sent: a kept-alive connection waits for its next request, which has idle_timeout
 * to begin and read_header_timeout to finish its headers, counted together from now (MHD does not
 * tell when the first byte of the next request arrives). */
static void conn_request_done(struct otlp_http_server *s, struct MHD_Connection *c)
{
    struct hs_conn *hc = conn_of(c);
    if (!hc)
        return;
    hc->first_request_done = true;
    int64_t now = clock_now_ns();
    int64_t d = s->idle_ns > 0 && s->hdr_ns > 0 ? now + s->idle_ns + s->hdr_ns
                : deadline_after(now, s->idle_ns > 0 ? s->idle_ns : s->hdr_ns);
    conn_set(hc, PH_IDLE, d);
}

/* Warns about cut connections, and about refused ones, each at most once per HS_WARN_EVERY_NS
 * with the counts since its last warning: a flood costs a line, not a line per connection. */
static void sweep_warn(struct otlp_http_server *s, int64_t now)
{
    if (now - s->last_cut_warn_ns >= HS_WARN_EVERY_NS) {
        char line[400];
        size_t at = 0;
        for (int p = 0; p < 4; p++) {
            uint64_t v = atomic_load(&s->cut[p]), d = v - s->cut_told[p];
            s->cut_told[p] = v;
            if (d && at < sizeof line)
                at += (size_t)snprintf(line + at, sizeof line - at, "%s%llu past %s", at ? ", " : "",
                                       (unsigned long long)d, phase_key[p]);
        }
        if (at) {
            log_warn(s->log_name, "slow HTTP clients: connections cut: %s", line);
            s->last_cut_warn_ns = now;
        }
    }
    if (now - s->last_over_warn_ns >= HS_WARN_EVERY_NS) {
        uint64_t o = atomic_load(&s->over_limit), od = o - s->over_told;
        s->over_told = o;
        if (od) {
            log_warn(s->log_name, "%llu HTTP connection(s) refused: max_connections or "
                     "max_connections_per_client reached", (unsigned long long)od);
            s->last_over_warn_ns = now;
        }
    }
}

/* Every sweep_every_ns, shuts down the socket of each connection past its deadline. shutdown()
 * leaves the descriptor to MHD (it sees end of file and closes the connection in its own thread);
 * the list lock keeps the connection listed, so its descriptor open, while we do it. */
static void *sweeper_main(void *arg)
{
    struct otlp_http_server *s = arg;
    pthread_mutex_lock(&s->conns_mu);
    while (!s->sweep_stop) {
        int64_t now = clock_now_ns();
        for (struct hs_conn *hc = s->conns; hc; hc = hc->next) {
            int64_t d = atomic_load(&hc->deadline_ns);
            if (!hc->cut && d && now > d) {
                hc->cut = true;
                shutdown(hc->fd, SHUT_RDWR);
                atomic_fetch_add(&s->cut[atomic_load(&hc->phase) & 3], 1);
            }
        }
        sweep_warn(s, now);
        int64_t until = now + s->sweep_every_ns;
        struct timespec ts = {.tv_sec = until / 1000000000, .tv_nsec = until % 1000000000};
        pthread_cond_timedwait(&s->sweep_cv, &s->conns_mu, &ts);
    }
    pthread_mutex_unlock(&s->conns_mu);
    return NULL;
}

/* ---- libmicrohttpd callbacks ------------------------------------------------------------------ */

/* What the authenticator reads: a header, or for a name in auth.request_params the query
 * parameter of that name when present (confighttp's request_params). */
struct hs_auth_src {
    struct MHD_Connection *c;
    const struct config_str_list *params;
};

static const char *auth_source(void *ctx, const char *name)
{
    struct hs_auth_src *a = ctx;
    for (size_t i = 0; i < a->params->n; i++) {
        if (strcasecmp(a->params->items[i], name) != 0)
            continue;
        const char *q = MHD_lookup_connection_value(a->c, MHD_GET_ARGUMENT_KIND, a->params->items[i]);
        if (q)
            return q;
    }
    return header(a->c, name);
}

/* The authenticator decides from the headers before req_begin allocates anything: a refused
 * request gets 401 with nothing of its body kept (what it sends is read and dropped, bounded, or
 * never sent when it waits for `100 Continue`). A CORS preflight carries no credentials and is
 * answered without them, as the Collector's CORS handler sits in front of its auth. */
static bool auth_refused(struct otlp_http_server *s, struct hs_req *r, struct MHD_Connection *c,
                         const struct hs_head *h, const char *method)
{
    if (!s->auth || !s->auth->server)
        return false;
    if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0 && s->norigins && h->ac_request_method &&
        h->origin)
        return false;
    struct hs_auth_src src = {.c = c, .params = &s->auth->request_params};
    char why[256] = "";
    if (otlp_receiver_authenticate(s->user, s->auth, auth_source, &src, why, sizeof why) == 0)
        return false;
    r->sig = -1;
    if (h->content_type && media_type_is(h->content_type, "application/x-protobuf"))
        r->ct = CT_PROTO;
    else if (h->content_type && media_type_is(h->content_type, "application/json"))
        r->ct = CT_JSON;
    req_fail(s, r, MHD_HTTP_UNAUTHORIZED, GRPC_STATUS_UNAUTHENTICATED, false, "%s", why);
    return true;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    (void)version;
    struct otlp_http_server *s = cls;
    struct hs_req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        pthread_mutex_lock(&s->mu);
        s->inflight++;
        pthread_mutex_unlock(&s->mu);
        struct hs_head h = head_of(c);
        if (conn_request_started(s, r, c, &h))
            return respond_error(s, c, r, r->status, r->code, r->msg, 0);
        if (!auth_refused(s, r, c, &h, method))
            req_begin(s, r, &h, url, method);
        /* Answer before the body when the client waits for `100 Continue` (it then never sends
         * the body) or when the announced body is too large to read and drop. */
        if (r->status && r->status != MHD_HTTP_NO_CONTENT) {
            const char *expect = header(c, MHD_HTTP_HEADER_EXPECT);
            const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
            bool huge = cl && strtoull(cl, NULL, 10) > HS_DISCARD_MAX;
            if ((expect && token_is(expect, "100-continue")) || huge)
                return respond_error(s, c, r, r->status, r->code, r->msg, 0);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->status) {
            r->dropped += n;
            return r->dropped > HS_DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        req_body(s, r, upload_data, n);
        return MHD_YES;
    }
    conn_body_done(s, c);
    if (r->status)
        return respond_error(s, c, r, r->status, r->code, r->msg, 0);
    return req_end(s, r, c);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    struct otlp_http_server *s = cls;
    struct hs_req *r = *con_cls;
    conn_request_done(s, c);
    if (!r)
        return;
    *con_cls = NULL;
    if (r->z_live)
        inflateEnd(&r->zs);
    free(r->buf);
    membudget_release(membudget_process(), r->held);
    free(r);
    pthread_mutex_lock(&s->mu);
    if (--s->inflight == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct otlp_http_server *s = cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    /* MHD's only word on a connection refused at its limits; counted for the sweeper's warning */
    if (strstr(line, "reached connection limit"))
        atomic_fetch_add(&s->over_limit, 1);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    log_debug(s->log_name, "libmicrohttpd: %s", line);
}

/* ---- set-up ----------------------------------------------------------------------------------- */

/* Binds and listens on "host:port", "[v6]:port" or ":port" (every IPv4 interface, as the gRPC
 * side does), with transport tcp4 / tcp6 on that address family only (as Go's networks of those
 * names), or with transport unix on the socket path `endpoint` (its file recorded in *file).
 * Returns the socket, or -1 with err "cannot listen on <endpoint>: <reason>". */
static int listen_on(const char *endpoint, const char *transport, int *port,
                     struct unix_socket *file, struct error *err)
{
    if (transport && strcmp(transport, "unix") == 0) {
        *port = 0;
        return unix_socket_listen(endpoint, 1024, file, err);
    }
    int family = AF_UNSPEC;
    if (transport && strcmp(transport, "tcp4") == 0)
        family = AF_INET;
    else if (transport && strcmp(transport, "tcp6") == 0)
        family = AF_INET6;
    const char *colon = strrchr(endpoint, ':');
    if (!colon || colon[1] == '\0') {
        error_set(err, "cannot listen on %s: expected host:port", endpoint);
        return -1;
    }
    char host[256];
    size_t hl = (size_t)(colon - endpoint);
    const char *h = endpoint;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= sizeof host) {
        error_set(err, "cannot listen on %s: host name too long", endpoint);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    /* an empty host is every interface of the family asked for */
    int rc = getaddrinfo(hl ? host : family == AF_INET6 ? "::" : "0.0.0.0", colon + 1, &hints, &ai);
    if (rc != 0) {
        error_set(err, "cannot listen on %s: %s", endpoint, gai_strerror(rc));
        return -1;
    }
    int fd = -1, last_errno = 0;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* TIME_WAIT only; not REUSEPORT */
        if (family == AF_INET6) /* tcp6: IPv6 only, as Go sets it for that network */
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
            last_errno = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        error_set(err, "cannot listen on %s: %s", endpoint, strerror(last_errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static char *path_dup(const char *p, const char *def)
{
    if (!p || !*p)
        p = def;
    if (p[0] == '/')
        return strdup(p);
    size_t n = strlen(p);
    char *d = malloc(n + 2);
    if (d) {
        d[0] = '/';
        memcpy(d + 1, p, n + 1);
    }
    return d;
}

static void server_release(struct otlp_http_server *s)
{
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    unix_socket_remove(&s->sock_file); /* no-op once shutdown removed it */
    for (int k = 0; k < SIGNAL_COUNT; k++)
        free(s->paths[k]);
    for (size_t i = 0; i < s->norigins; i++)
        free(s->origins[i]);
    free(s->origins);
    for (size_t i = 0; i < s->nheaders; i++)
        free(s->headers[i]);
    free(s->headers);
    mhd_tls_destroy(&s->tls);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->sweep_cv);
    pthread_mutex_destroy(&s->conns_mu);
    free(s);
}

/* Open connections need descriptors: like Go's runtime (so the Collector), raise the soft limit
 * of open files toward the hard one when it is below what max_connections needs, so the limit
 * that applies is the one configured and not a default of 1024 descriptors. */
static void raise_fd_limit(struct otlp_http_server *s, uint64_t max_connections)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)max_connections + 1024; /* the rest of the process: gRPC, files, ... */
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rlim_t to = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        struct rlimit nrl = {.rlim_cur = to, .rlim_max = rl.rlim_max};
        if (to > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &nrl) == 0)
            rl.rlim_cur = to;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
        log_warn(s->log_name, "open files limit is %llu (hard %llu): fewer than the %llu HTTP "
                 "connections of max_connections may be served; raise it (ulimit -n)",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
                 (unsigned long long)max_connections);
}

/* Everything of a server but its socket, TLS and thread pool: what a request's decision reads. */
static struct otlp_http_server *server_new(const struct otlp_http_config *cfg, unsigned signals,
                                           otlp_export_fn fn, otlp_refused_fn refused, void *user,
                                           const char *log_name, struct error *err)
{
    struct otlp_http_server *s = calloc(1, sizeof *s);
    if (!s) {
        error_set(err, "out of memory");
        return NULL;
    }
    s->listen_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->idle, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->conns_mu, NULL);
    pthread_condattr_t sca;
    pthread_condattr_init(&sca);
    pthread_condattr_setclock(&sca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->sweep_cv, &sca);
    pthread_condattr_destroy(&sca);
    /* Go's rules, as confighttp hands them to net/http: read_header_timeout 0 takes read_timeout;
     * idle_timeout 0 takes read_timeout. */
    s->read_ns = cfg->read_timeout > 0 ? cfg->read_timeout : 0;
    s->hdr_ns = cfg->read_header_timeout > 0 ? cfg->read_header_timeout : s->read_ns;
    s->write_ns = cfg->write_timeout > 0 ? cfg->write_timeout : 0;
    s->idle_ns = cfg->idle_timeout > 0 ? cfg->idle_timeout : s->read_ns;
    /* sweep often enough that a deadline is overshot by at most ~1/8 of the shortest one */
    int64_t shortest = 0;
    const int64_t all[] = {s->hdr_ns, s->read_ns, s->write_ns, s->idle_ns};
    for (size_t i = 0; i < 4; i++)
        shortest = deadline_min(shortest, all[i]);
    s->sweep_every_ns = shortest / 8;
    if (s->sweep_every_ns < 10000000)
        s->sweep_every_ns = 10000000;
    if (s->sweep_every_ns > 500000000)
        s->sweep_every_ns = 500000000;
    s->signals = signals;
    s->fn = fn;
    s->refused = refused;
    s->user = user;
    s->log_name = log_name;
    s->max_body = cfg->max_request_body_size > 0 ? (uint64_t)cfg->max_request_body_size
                                                 : (uint64_t)HS_DEFAULT_MAX_BODY;
    s->response_headers = &cfg->response_headers;
    s->keep_alive = cfg->keep_alives_enabled;
    s->auth = cfg->has_auth ? &cfg->auth : NULL;
    s->max_age = cfg->cors.max_age;
    bool oom = false;
    s->paths[SIGNAL_TRACES] = path_dup(cfg->traces_url_path, "/v1/traces");
    s->paths[SIGNAL_METRICS] = path_dup(cfg->metrics_url_path, "/v1/metrics");
    s->paths[SIGNAL_LOGS] = path_dup(cfg->logs_url_path, "/v1/logs");
    for (int k = 0; k < SIGNAL_COUNT; k++)
        oom |= !s->paths[k];
    if (cfg->compression_algorithms.n == 0) {
        s->allow_comp[COMP_IDENTITY] = s->allow_comp[COMP_GZIP] = s->allow_comp[COMP_ZLIB] = true;
    } else {
        s->allow_comp[COMP_IDENTITY] = true; /* an uncompressed body is always fine */
        for (size_t i = 0; i < cfg->compression_algorithms.n; i++) {
            const char *a = cfg->compression_algorithms.items[i];
            if (strcmp(a, "gzip") == 0)
                s->allow_comp[COMP_GZIP] = true;
            else if (strcmp(a, "zlib") == 0 || strcmp(a, "deflate") == 0)
                s->allow_comp[COMP_ZLIB] = true;
        }
    }
    if (cfg->cors.allowed_origins.n) {
        s->origins = calloc(cfg->cors.allowed_origins.n, sizeof *s->origins);
        oom |= !s->origins;
        for (size_t i = 0; s->origins && i < cfg->cors.allowed_origins.n; i++) {
            oom |= !(s->origins[s->norigins] = lower_dup(cfg->cors.allowed_origins.items[i]));
            s->norigins += s->origins[s->norigins] != NULL;
        }
    }
    if (cfg->cors.allowed_headers.n) {
        s->headers = calloc(cfg->cors.allowed_headers.n, sizeof *s->headers);
        oom |= !s->headers;
        for (size_t i = 0; s->headers && i < cfg->cors.allowed_headers.n; i++) {
            oom |= !(s->headers[s->nheaders] = lower_dup(cfg->cors.allowed_headers.items[i]));
            s->nheaders += s->headers[s->nheaders] != NULL;
        }
    }
    if (oom) {
        error_set(err, "out of memory");
        server_release(s);
        return NULL;
    }
    return s;
}

struct otlp_http_server *otlp_http_server_start(const struct otlp_http_config *cfg, unsigned signals,
                                                otlp_export_fn fn, otlp_refused_fn refused,
                                                void *user, const char *log_name, struct error *err)
{
    if (!cfg->endpoint || !*cfg->endpoint) {
        error_set(err, "protocols.http.endpoint: must not be empty");
        return NULL;
    }
    struct otlp_http_server *s = server_new(cfg, signals, fn, refused, user, log_name, err);
    if (!s)
        return NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (cfg->has_tls) {
        /* The first set is read, checked and built here, so a bad file fails the start. */
        if (mhd_tls_init(&s->tls, &cfg->tls, "protocols.http.tls", log_name, err) != 0) {
            server_release(s);
            return NULL;
        }
        flags |= MHD_USE_TLS;
    }
    s->listen_fd = listen_on(cfg->endpoint, cfg->transport, &s->port, &s->sock_file, err);
    if (s->listen_fd < 0) {
        server_release(s);
        return NULL;
    }
    unsigned threads = cfg->num_threads > 0 ? (unsigned)cfg->num_threads : 2;
    raise_fd_limit(s, cfg->max_connections > 0 ? (uint64_t)cfg->max_connections
                                               : (uint64_t)HS_DEFAULT_MAX_CONNECTIONS);
    struct MHD_OptionItem opts[16];
    size_t no = 0;
#define OPT(o, v, p) (opts[no++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)})
    OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, s); /* first: it logs the others */
    OPT(MHD_OPTION_LISTEN_SOCKET, s->listen_fd, NULL);
    OPT(MHD_OPTION_THREAD_POOL_SIZE, threads, NULL);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s);
    /* room for large header sets and 32 KiB+ body chunks per read */
    OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)128 << 10, NULL);
    /* No MHD inactivity timeout: the sweeper's deadlines cover every phase of a connection. */
    OPT(MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s);
    unsigned maxc = cfg->max_connections > 0 ? (cfg->max_connections > UINT_MAX / 2 ? UINT_MAX / 2
                                                                                     : (unsigned)cfg->max_connections)
                                             : HS_DEFAULT_MAX_CONNECTIONS;
    OPT(MHD_OPTION_CONNECTION_LIMIT, maxc, NULL);
    if (cfg->max_connections_per_client > 0)
        OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            cfg->max_connections_per_client > UINT_MAX / 2 ? UINT_MAX / 2
                                                            : (unsigned)cfg->max_connections_per_client,
            NULL);
    /* TLS 1.2 and 1.3 only (validate_tls allows no other min_version/max_version: the section
     * is shared with gRPC core); a client CA makes MHD ask for a certificate, which
     * conn_request_started requires */
    if (cfg->has_tls)
        mhd_tls_add_options(&s->tls, opts, &no);
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    /* the certificate callback after the array, as a plain vararg: its type is MHD's own */
    s->daemon = cfg->has_tls
                    ? MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_ARRAY, opts,
                                       MHD_OPTION_HTTPS_CERT_CALLBACK,
                                       mhd_tls_cert_callback,
                                       MHD_OPTION_END)
                    : MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_ARRAY, opts,
                                       MHD_OPTION_END);
    if (!s->daemon) {
        /* Whether MHD closed the socket on its failure path is version-dependent: close it only
         * if it is still open (start-up is single-threaded, so the number cannot be reused). */
        if (fcntl(s->listen_fd, F_GETFD) == -1)
            s->listen_fd = -1;
        error_set(err, "cannot start the HTTP server on %s%s", cfg->endpoint,
                  cfg->has_tls ? " (is the TLS certificate, key or client CA valid?)" : "");
        server_release(s);
        return NULL;
    }
    if (s->hdr_ns || s->read_ns || s->write_ns || s->idle_ns) {
        if (pthread_create(&s->sweeper, NULL, sweeper_main, s) != 0) {
            error_set(err, "cannot start the HTTP connection sweeper thread");
            MHD_stop_daemon(s->daemon);
            s->daemon = NULL;
            s->listen_fd = -1; /* MHD closed it */
            server_release(s);
            return NULL;
        }
        s->sweeper_running = true;
    }
    return s;
}

int otlp_http_server_port(const struct otlp_http_server *s) { return s ? s->port : 0; }

int otlp_http_server_decide(const struct otlp_http_config *cfg, unsigned signals,
                            otlp_export_fn fn, otlp_refused_fn refused, void *user,
                            const struct otlp_http_request *q, struct error *err)
{
    struct otlp_http_server *s = server_new(cfg, signals, fn, refused, user, "otlp/fuzz", err);
    if (!s)
        return -1;
    struct hs_req r = {0};
    struct hs_head h = {.content_type = q->content_type, .content_encoding = q->content_encoding,
                        .content_length = q->content_length, .origin = q->origin,
                        .ac_request_method = q->ac_request_method,
                        .ac_request_headers = q->ac_request_headers};
    req_begin(s, &r, &h, q->url, q->method);
    /* the body as MHD hands it over: in chunks, none once refused */
    size_t chunk = q->chunk ? q->chunk : 32768;
    for (size_t off = 0; off < q->body_len && !r.status; off += chunk)
        req_body(s, &r, (const char *)q->body + off,
                 q->body_len - off < chunk ? q->body_len - off : chunk);
    int http;
    size_t blen = 0;
    const char *ctype = NULL;
    uint8_t *body = NULL;
    uint8_t *data;
    size_t len;
    if (r.status) {
        if (r.z_live)
            inflateEnd(&r.zs);
        http = r.status;
        if (http != MHD_HTTP_NO_CONTENT)
            body = error_body(r.ct, r.code, r.msg, &blen, &ctype);
    } else if (req_decode(s, &r, &data, &len) != 0) {
        http = r.status;
        body = error_body(r.ct, r.code, r.msg, &blen, &ctype);
    } else {
        struct otlp_export_result res;
        s->fn(s->user, (enum signal)r.sig, data, len, &res);
        if (res.status != GRPC_STATUS_OK) {
            free(res.response);
            http = http_status_of(res.status);
            body = error_body(r.ct, res.status, res.message, &blen, &ctype);
        } else {
            http = MHD_HTTP_OK;
            if (r.ct == CT_PROTO)
                body = res.response;
            else
                body = (uint8_t *)ok_json_body((enum signal)r.sig, &res, &blen);
        }
    }
    free(body);
    free(r.buf);
    membudget_release(membudget_process(), r.held);
    server_release(s);
    return http;
}

void otlp_http_server_shutdown(struct otlp_http_server *s, int64_t deadline_ns)
{
    if (!s || s->shut_down)
        return;
    s->shut_down = true;
    atomic_store(&s->stopping, true);
    if (!s->daemon)
        return;
    /* Stop accepting; requests already on a connection may finish until the deadline. */
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET) {
        /* The socket is ours again but may only be closed after MHD_stop_daemon; shutting it
         * down now makes new clients see "connection refused" at once instead of waiting in the
         * backlog of a socket nobody accepts from. */
        s->quiesced = true;
        shutdown(fd, SHUT_RDWR);
    }
    /* As Go's listener Close: the path no longer names a server (a client now gets ENOENT, not
     * a socket that never answers), and a new instance may take it at once. */
    unix_socket_remove(&s->sock_file);
    struct timespec until = {.tv_sec = deadline_ns / 1000000000, .tv_nsec = deadline_ns % 1000000000};
    pthread_mutex_lock(&s->mu);
    while (s->inflight > 0 && clock_now_ns() < deadline_ns)
        if (pthread_cond_timedwait(&s->idle, &s->mu, &until) == ETIMEDOUT)
            break;
    long left = s->inflight;
    pthread_mutex_unlock(&s->mu);
    if (left > 0)
        log_info(s->log_name, "shutdown deadline reached: closing %ld HTTP request(s) still open", left);
    /* Closes every connection and joins the pool, waiting for handlers inside the pipeline. */
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    if (!s->quiesced)
        s->listen_fd = -1; /* MHD closed it */
    if (s->sweeper_running) { /* after MHD: deadlines hold while requests drain */
        pthread_mutex_lock(&s->conns_mu);
        s->sweep_stop = true;
        pthread_cond_signal(&s->sweep_cv);
        pthread_mutex_unlock(&s->conns_mu);
        pthread_join(s->sweeper, NULL);
        s->sweeper_running = false;
    }
}

void otlp_http_server_free(struct otlp_http_server *s)
{
    if (!s)
        return;
    otlp_http_server_shutdown(s, clock_now_ns());
    server_release(s);
}
