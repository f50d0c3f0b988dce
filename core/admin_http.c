/* admin_http.c — GET-only endpoints on libmicrohttpd's internal polling thread.
 *
 * The idea: we bind and listen ourselves (clear errno-based errors, port 0 allowed) and hand
 * the socket to MHD with MHD_OPTION_LISTEN_SOCKET; MHD then owns it and closes it on stop.
 * Replies are small and built in one go by the handler, so each request is answered on the
 * access callback's second call, after MHD has read (and we have discarded) any body.
 *
 * TLS is core/mhd_tls.c's (the certificate served from the set kept current as the files change,
 * the versions, the client certificate); here a client CA means each request is refused with 401
 * unless that certificate verifies. */
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

#include <microhttpd.h>

#include "core/log.h"
#include "core/mhd_tls.h"

struct admin_http {
    struct MHD_Daemon *daemon;
    admin_http_handler handler;
    void *ctx;
    char *log_name;
    uint16_t port;
    struct mhd_tls tls;               /* tls.on: served over HTTPS */
};

/* The certificate callback finds the TLS state through the session's user pointer, set as soon
 * as MHD has made the session (before the handshake). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)socket_context;
    struct admin_http *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        mhd_tls_connection_started(&h->tls, c);
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
    if (mhd_tls_client_required(&h->tls) && mhd_tls_verify_client(&h->tls, conn, NULL, 0) != 0) {
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
    mhd_tls_destroy(&h->tls);
    free(h->log_name);
    free(h);
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
    /* the first set is read, checked and built here, so a bad file fails the start */
    if (tls && mhd_tls_init(&h->tls, tls, where ? where : "tls", h->log_name, err) != 0) {
        free(h->log_name);
        free(h);
        return NULL;
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
    if (!h->tls.on) {
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
        mhd_tls_add_options(&h->tls, opts, &no);
        OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
        h->daemon = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, h,
                                     MHD_OPTION_ARRAY, opts, MHD_OPTION_HTTPS_CERT_CALLBACK,
                                     mhd_tls_cert_callback,
                                     MHD_OPTION_END);
    }
    if (!h->daemon) {
        if (fcntl(fd, F_GETFD) != -1)
            close(fd);
        error_set(err, "cannot serve on %s: the HTTP server did not start%s", endpoint,
                  h->tls.on ? " (is the TLS certificate, key or client CA valid?)" : "");
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
