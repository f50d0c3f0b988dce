/* admin_http.c — GET-only endpoints on libmicrohttpd's internal polling thread.
 *
 * The idea: we bind and listen ourselves (clear errno-based errors, port 0 allowed) and hand
 * the socket to MHD with MHD_OPTION_LISTEN_SOCKET; MHD then owns it and closes it on stop.
 * Replies are small and built in one go by the handler, so each request is answered on the
 * access callback's second call, after MHD has read (and we have discarded) any body.
 *
 * TLS: GnuTLS under MHD asks for the certificate at every handshake through a callback, which
 * answers from the set core/tls_reload.c keeps current (re-read when the files change); the
 * versions become MHD's priority string; a client CA makes MHD ask for a certificate, and each
 * request is refused with 401 unless that certificate verifies. */
#include "core/admin_http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/log.h"
#include "core/tls_reload.h"

/* One certificate set in GnuTLS form. A handshake may still hold the previous one when a new
 * set becomes current, so retired sets stay on the `older` chain until the server stops. */
struct ah_keys {
    gnutls_pcert_st pcert[16];
    unsigned npcert;
    gnutls_privkey_t key;
    struct ah_keys *older;
};

struct admin_http {
    struct MHD_Daemon *daemon;
    admin_http_handler handler;
    void *ctx;
    char *log_name;
    uint16_t port;
    bool tls_on;
    bool verify_client;               /* client_ca_file: each request needs a verified cert */
    struct tls_reload tls;
    uint64_t tls_seen;                /* under tls.mu */
    _Atomic(struct ah_keys *) keys;
    char *client_ca;                  /* MHD's trust list (it may keep the pointer) */
    char priorities[128];
};

static void keys_free_all(struct ah_keys *k)
{
    while (k) {
        struct ah_keys *next = k->older;
        for (unsigned i = 0; i < k->npcert; i++)
            gnutls_pcert_deinit(&k->pcert[i]);
        if (k->key)
            gnutls_privkey_deinit(k->key);
        free(k);
        k = next;
    }
}

/* tls_reload_apply_fn: builds the GnuTLS form of a set that became current (under tls.mu). */
static int keys_apply(void *cls, const struct tls_material *m)
{
    struct admin_http *h = cls;
    struct ah_keys *k = calloc(1, sizeof *k);
    if (!k)
        return -1;
    gnutls_datum_t cd = {(unsigned char *)m->cert, (unsigned)strlen(m->cert)};
    gnutls_datum_t kd = {(unsigned char *)m->key, (unsigned)strlen(m->key)};
    unsigned n = sizeof k->pcert / sizeof k->pcert[0];
    int rc = gnutls_pcert_list_import_x509_raw(k->pcert, &n, &cd, GNUTLS_X509_FMT_PEM, 0);
    if (rc >= 0) {
        k->npcert = n;
        rc = gnutls_privkey_init(&k->key);
    }
    if (rc >= 0)
        rc = gnutls_privkey_import_x509_raw(k->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc < 0) {
        log_warn(h->log_name, "%s: the new certificate set is not usable (%s); still serving the "
                 "previous one", h->tls.where, gnutls_strerror(rc));
        keys_free_all(k);
        return -1;
    }
    k->older = atomic_load(&h->keys);
    atomic_store(&h->keys, k);
    return 0;
}

/* MHD_OPTION_HTTPS_CERT_CALLBACK: polls the watched files when due, serves the current set. */
static int cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                         const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                         gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *key)
{
    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    struct admin_http *h = gnutls_session_get_ptr(session);
    if (!h)
        return -1;
    tls_reload_check(&h->tls, &h->tls_seen, keys_apply, h); /* a failure keeps the old set */
    struct ah_keys *k = atomic_load(&h->keys);
    if (!k)
        return -1;
    *pcert = k->pcert;
    *pcert_length = k->npcert;
    *key = k->key;
    return 0;
}

/* The certificate callback has no argument of its own: it finds the server through the
 * session's user pointer, set as soon as MHD has made the session (before the handshake). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)socket_context;
    struct admin_http *h = cls;
    if (code != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    const union MHD_ConnectionInfo *ti = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (ti && ti->tls_session)
        gnutls_session_set_ptr((gnutls_session_t)ti->tls_session, h);
}

/* The client certificate, verified against client_ca_file (chain, dates, the TLS client
 * purpose), as Go's RequireAndVerifyClientCert. 0 when fine. */
static int verify_client(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t tls = ci ? (gnutls_session_t)ci->tls_session : NULL;
    unsigned int n = 0, status = 0;
    if (!tls || !gnutls_certificate_get_peers(tls, &n) || n == 0)
        return -1;
    gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
                                     .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT};
    if (gnutls_certificate_verify_peers(tls, &purpose, 1, &status) < 0 || status)
        return -1;
    return 0;
}

int admin_http_parse_endpoint(const char *endpoint, struct sockaddr_in *out, struct error *err)
{
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    const char *colon = endpoint ? strrchr(endpoint, ':') : NULL;
    if (!colon)
        return error_set(err, "endpoint '%s' must be host:port", endpoint ? endpoint : "");
    if (endpoint[0] == '[')
        return error_set(err, "endpoint '%s': IPv6 addresses are not supported; use an IPv4 "
                              "address or a host name", endpoint);
    char *end = NULL;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || port < 0 || port > 65535)
        return error_set(err, "endpoint '%s': the port must be a number from 0 to 65535",
                         endpoint);
    out->sin_port = htons((uint16_t)port);
    size_t hl = (size_t)(colon - endpoint);
    char host[256];
    if (hl >= sizeof host)
        return error_set(err, "endpoint '%s': host name too long", endpoint);
    memcpy(host, endpoint, hl);
    host[hl] = '\0';
    if (hl == 0) {
        out->sin_addr.s_addr = htonl(INADDR_ANY);
        return 0;
    }
    if (strcmp(host, "localhost") == 0) {
        out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return 0;
    }
    if (inet_pton(AF_INET, host, &out->sin_addr) == 1)
        return 0;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res)
        return error_set(err, "endpoint '%s': cannot resolve '%s': %s", endpoint, host,
                         rc ? gai_strerror(rc) : "no IPv4 address");
    out->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    const struct admin_http *h = cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    log_warn(h->log_name, "http server: %s", line);
}

static enum MHD_Result queue_reply(struct MHD_Connection *conn, unsigned status,
                                   const char *content_type, char *body, size_t len,
                                   bool allow_header)
{
    struct MHD_Response *resp =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (allow_header)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)version;
    (void)upload_data;
    struct admin_http *h = cls;
    static int seen;
    if (*req_cls == NULL) {
        *req_cls = &seen; /* headers only; the reply goes after the body */
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* nothing here takes a body */
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        static const char msg[] = "method not allowed\n";
        char *body = strdup(msg);
        return queue_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", body,
                           body ? strlen(body) : 0, true);
    }
    if (h->verify_client && verify_client(conn) != 0) {
        char *body = strdup("a client certificate signed by the configured client CA is required\n");
        return queue_reply(conn, MHD_HTTP_UNAUTHORIZED, "text/plain; charset=utf-8", body,
                           body ? strlen(body) : 0, false);
    }
    struct admin_http_reply reply = {.status = MHD_HTTP_OK};
    reply.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    h->handler(h->ctx, url, &reply);
    return queue_reply(conn, reply.status, reply.content_type, reply.body,
                       reply.body ? reply.len : 0, false);
}

static void server_free(struct admin_http *h)
{
    if (h->tls_on)
        tls_reload_destroy(&h->tls);
    keys_free_all(atomic_load(&h->keys));
    free(h->client_ca);
    free(h->log_name);
    free(h);
}

/* GnuTLS priorities allowing exactly the versions from min to max (Go's defaults: 1.2, 1.3). */
static void version_priorities(const struct tls_config *b, char *out, size_t len)
{
    static const char *const names[] = {"1.0", "1.1", "1.2", "1.3"};
    static const char *const vers[] = {"+VERS-TLS1.0", "+VERS-TLS1.1", "+VERS-TLS1.2",
                                       "+VERS-TLS1.3"};
    int lo = 2, hi = 3;
    for (int i = 0; i < 4; i++) {
        if (tls_set(b->min_version) && strcmp(b->min_version, names[i]) == 0)
            lo = i;
        if (tls_set(b->max_version) && strcmp(b->max_version, names[i]) == 0)
            hi = i;
    }
    size_t n = (size_t)snprintf(out, len, "NORMAL:-VERS-ALL");
    for (int i = hi; i >= lo && n < len; i--)
        n += (size_t)snprintf(out + n, len - n, ":%s", vers[i]);
}

struct admin_http *admin_http_start_tls(const char *endpoint, const char *log_name,
                                        admin_http_handler handler, void *ctx,
                                        const struct tls_server_config *tls, const char *where,
                                        struct error *err)
{
    struct sockaddr_in addr;
    if (admin_http_parse_endpoint(endpoint, &addr, err) != 0)
        return NULL;
    struct admin_http *h = calloc(1, sizeof *h);
    if (!h || !(h->log_name = strdup(log_name ? log_name : "http"))) {
        free(h);
        error_set(err, "out of memory");
        return NULL;
    }
    h->handler = handler;
    h->ctx = ctx;
    if (tls) {
        /* the first set is read, checked and built here, so a bad file fails the start */
        if (tls_reload_init(&h->tls, tls, where ? where : "tls", h->log_name, err) != 0) {
            free(h->log_name);
            free(h);
            return NULL;
        }
        h->tls_on = true;
        if (tls_reload_check(&h->tls, &h->tls_seen, keys_apply, h) != 1) {
            error_set(err, "%s: GnuTLS refused the certificate or key", h->tls.where);
            server_free(h);
            return NULL;
        }
        if (h->tls.cur.ca) {
            h->verify_client = true;
            if (!(h->client_ca = strdup(h->tls.cur.ca))) {
                error_set(err, "out of memory");
                server_free(h);
                return NULL;
            }
        }
        version_priorities(&tls->base, h->priorities, sizeof h->priorities);
    }

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_set(err, "cannot listen on %s: %s", endpoint, strerror(errno));
        goto fail;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 64) != 0) {
        int e = errno;
        close(fd);
        error_set(err, "cannot listen on %s: %s", endpoint,
                  e == EADDRINUSE ? "address in use" : strerror(e));
        goto fail;
    }
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    h->port = getsockname(fd, (struct sockaddr *)&bound, &blen) == 0 ? ntohs(bound.sin_port)
                                                                     : ntohs(addr.sin_port);
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (!h->tls_on) {
        h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                                     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, /* must come first */
                                     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    } else {
        struct MHD_OptionItem opts[8];
        size_t no = 0;
#define OPT(o, v, p) (opts[no++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)})
        OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, h);
        OPT(MHD_OPTION_LISTEN_SOCKET, fd, NULL);
        OPT(MHD_OPTION_CONNECTION_LIMIT, 64, NULL);
        OPT(MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL);
        OPT(MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, h);
        OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, h->priorities);
        if (h->client_ca)
            OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, h->client_ca);
        OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
        h->daemon = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, h,
                                     MHD_OPTION_ARRAY, opts, MHD_OPTION_HTTPS_CERT_CALLBACK,
                                     (gnutls_certificate_retrieve_function2 *)cert_callback,
                                     MHD_OPTION_END);
    }
    if (!h->daemon) {
        if (fcntl(fd, F_GETFD) != -1)
            close(fd);
        error_set(err, "cannot serve on %s: the HTTP server did not start%s", endpoint,
                  h->tls_on ? " (is the TLS certificate, key or client CA valid?)" : "");
        goto fail;
    }
    return h;
fail:
    server_free(h);
    return NULL;
}

struct admin_http *admin_http_start(const char *endpoint, const char *log_name,
                                    admin_http_handler handler, void *ctx, struct error *err)
{
    return admin_http_start_tls(endpoint, log_name, handler, ctx, NULL, NULL, err);
}

uint16_t admin_http_port(const struct admin_http *h)
{
    return h ? h->port : 0;
}

void admin_http_stop(struct admin_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    server_free(h);
}

void admin_http_not_found(struct admin_http_reply *reply)
{
    reply->status = 404;
    reply->content_type = "text/plain; charset=utf-8";
    reply->body = strdup("404 page not found\n");
    reply->len = reply->body ? strlen(reply->body) : 0;
}
