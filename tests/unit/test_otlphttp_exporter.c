/* test_otlphttp_exporter.c — the otlphttp exporter against an in-test OTLP/HTTP server built on
 * libmicrohttpd (127.0.0.1, a free port). The server records every request (method, path,
 * headers, body) and answers from a script: status codes, Retry-After, partial success in proto
 * or JSON, google.rpc.Status bodies. The tests assert what arrived on the wire: the batch's exact
 * bytes (inflated from gzip, or converted back from JSON), the paths, the headers, once after
 * retries, permanent errors not retried, a 400 narrowed to the poisoned span (poison mode: the
 * server decodes each request and refuses those holding a span with poison=true), delivery after
 * the server was down for a while, and a shutdown that is not held up by a server that never
 * answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/batch.h"
#include "core/config.h"
#include "core/otlp_json.h"
#include "core/telemetry.h"
#include "exporters/otlphttp/otlphttp_exporter.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "tests/unit/testutil.h"

#define MS 1000000LL
#define LABELS "exporter=\"otlphttp/test\""
#define MAX_REC 32

/* ---- scripted server ------------------------------------------------------------------------- */

struct action {
    unsigned status;          /* 0 = 200 */
    const char *retry_after;  /* Retry-After header value, or NULL */
    const char *content_type; /* of the response body */
    const uint8_t *body;
    size_t body_len;
};

struct request_rec {
    char method[16];
    char path[128];
    char content_type[64];
    char content_encoding[32];
    char user_agent[64];
    char header[128];         /* X-Test-Header */
    char host[128];           /* Host */
    char client_dn[256];      /* the client certificate's subject, "" when none */
    uint8_t *data;
    size_t len;
    unsigned answered;
};

struct server {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    struct action script[8];
    int nscript, pos;
    struct request_rec rec[MAX_REC];
    int nrec;
    /* poison mode: decode each trace request; 400 with a google.rpc.Status when a span carries
     * poison=true, else 200 and count every span by its name "s<i>" */
    bool poison;
    int got[128];
};

struct upload {
    uint8_t *data;
    size_t len;
};

/* Poison mode's answer to one uncompressed protobuf trace request (mu held). */
static void poison_answer(struct server *s, const struct upload *u, struct action *a,
                          uint8_t status_body[128])
{
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            NULL, u->len, u->data);
    assert_non_null(req);
    bool bad = false;
    for (int pass = 0; pass < 2; pass++)
        for (size_t r = 0; r < req->n_resource_spans; r++)
            for (size_t k = 0; k < req->resource_spans[r]->n_scope_spans; k++) {
                Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
                    req->resource_spans[r]->scope_spans[k];
                for (size_t i = 0; i < ss->n_spans; i++) {
                    if (pass == 0 && ss->spans[i]->n_attributes > 0)
                        bad = true;
                    if (pass == 1 && !bad)
                        s->got[atoi(ss->spans[i]->name + 1) & 127]++;
                }
            }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                            NULL);
    if (!bad)
        return;
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = 3;
    st.message = "span carries poison=true";
    a->status = 400;
    a->content_type = "application/x-protobuf";
    a->body = status_body;
    a->body_len = google__rpc__status__pack(&st, status_body);
}

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t cap)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    snprintf(out, cap, "%s", v ? v : "");
}

/* The subject of the certificate the client presented on this TLS connection. */
static void client_dn(struct MHD_Connection *c, char *out, size_t cap)
{
    out[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return;
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(ci->tls_session, &n);
    gnutls_x509_crt_t crt;
    if (!certs || n == 0 || gnutls_x509_crt_init(&crt) < 0)
        return;
    size_t len = cap;
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) < 0 ||
        gnutls_x509_crt_get_dn(crt, out, &len) < 0)
        out[0] = '\0';
    gnutls_x509_crt_deinit(crt);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct server *s = cls;
    if (!*con_cls) {
        *con_cls = calloc(1, sizeof(struct upload));
        return MHD_YES;
    }
    struct upload *u = *con_cls;
    if (*upload_data_size) {
        u->data = realloc(u->data, u->len + *upload_data_size);
        memcpy(u->data + u->len, upload_data, *upload_data_size);
        u->len += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&s->mu);
    struct action a = {.status = 200};
    if (s->pos < s->nscript)
        a = s->script[s->pos++];
    if (!a.status)
        a.status = 200;
    uint8_t status_body[128];
    if (s->poison)
        poison_answer(s, u, &a, status_body);
    if (s->nrec < MAX_REC) {
        struct request_rec *r = &s->rec[s->nrec++];
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        copy_header(c, "Content-Type", r->content_type, sizeof r->content_type);
        copy_header(c, "Content-Encoding", r->content_encoding, sizeof r->content_encoding);
        copy_header(c, "User-Agent", r->user_agent, sizeof r->user_agent);
        copy_header(c, "Host", r->host, sizeof r->host);
        client_dn(c, r->client_dn, sizeof r->client_dn);
        copy_header(c, "X-Test-Header", r->header, sizeof r->header);
        r->data = u->data;
        r->len = u->len;
        r->answered = a.status;
        u->data = NULL;
        u->len = 0;
    }
    pthread_mutex_unlock(&s->mu);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        a.body_len, (void *)(a.body ? a.body : (const uint8_t *)""), MHD_RESPMEM_MUST_COPY);
    if (a.retry_after)
        MHD_add_response_header(resp, "Retry-After", a.retry_after);
    if (a.content_type)
        MHD_add_response_header(resp, "Content-Type", a.content_type);
    enum MHD_Result ret = MHD_queue_response(c, a.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct upload *u = *con_cls;
    if (u) {
        free(u->data);
        free(u);
        *con_cls = NULL;
    }
}

/* Self-signed P-256 certificate for IP:127.0.0.1 (valid until 2126), for TLS tests only. */
static const char test_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjzCCATagAwIBAgIUA6shwYw4vxywD2DLDPafHCyu84AwCgYIKoZIzj0EAwIw\n"
    "FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyNDAyMTg0NFoYDzIxMjYxMDMx\n"
    "MDIxODQ0WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO\n"
    "PQMBBwNCAASPtQP8/fM3Q+z5BU3cHj/rKO/O8nMBU7ne1UR5PxH+DWdXS5EFUQTK\n"
    "onKAinLZX2Drq+iuoSPXpNTtef9rnPPio2QwYjAdBgNVHQ4EFgQU9lL2tVjhBP/6\n"
    "XhcdFQ0pCkQSTq0wHwYDVR0jBBgwFoAU9lL2tVjhBP/6XhcdFQ0pCkQSTq0wDwYD\n"
    "VR0RBAgwBocEfwAAATAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQC\n"
    "IEj//WtgYIgJ35EICmubEL/cox1KeMk3j5IjVHI6MPedAiAlpGzT1TG7ZaWxEa8J\n"
    "eKcKa3bvj6Wwe6r8ijjJ/hQlDw==\n"
    "-----END CERTIFICATE-----\n";

static const char test_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwMpdwYj6NPTLtdri\n"
    "GJAl0pczNlBghVLy63gczfEGFamhRANCAASPtQP8/fM3Q+z5BU3cHj/rKO/O8nMB\n"
    "U7ne1UR5PxH+DWdXS5EFUQTKonKAinLZX2Drq+iuoSPXpNTtef9rnPPi\n"
    "-----END PRIVATE KEY-----\n";

/* port 0 picks a free port; tls serves HTTPS with the certificate above. */
static struct server *server_start_ex(int port, bool tls)
{
    struct server *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (tls)
        s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, (uint16_t)port,
                                NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR,
                                (struct sockaddr *)&sin, MHD_OPTION_NOTIFY_COMPLETED, completed,
                                NULL, MHD_OPTION_HTTPS_MEM_KEY, test_key_pem,
                                MHD_OPTION_HTTPS_MEM_CERT, test_cert_pem, MHD_OPTION_END);
    else
        s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL,
                                handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    assert_non_null(s->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    s->port = info->port;
    assert_true(s->port > 0);
    return s;
}

/* An HTTPS server with the given PEM certificate and key; trust (PEM or NULL) asks clients for
 * a certificate signed by it; priorities (GnuTLS syntax or NULL) narrows what it accepts. */
static struct server *server_start_tls(const char *cert, const char *key, const char *trust,
                                       const char *priorities)
{
    struct server *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_OptionItem opts[3];
    int n = 0;
    if (trust)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)trust};
    if (priorities)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)priorities};
    opts[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0, NULL, NULL, handler,
                            s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                            MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert,
                            MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    assert_non_null(s->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    s->port = info->port;
    return s;
}

static struct server *server_start(int port)
{
    return server_start_ex(port, false);
}

static void server_script(struct server *s, const struct action *a, int n)
{
    pthread_mutex_lock(&s->mu);
    memcpy(s->script, a, (size_t)n * sizeof *a);
    s->nscript = n;
    s->pos = 0;
    pthread_mutex_unlock(&s->mu);
}

static int server_count(struct server *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nrec;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Stops listening (the port is free again); the records stay readable until server_free. */
static void server_halt(struct server *s)
{
    if (s->d)
        MHD_stop_daemon(s->d);
    s->d = NULL;
}

static void server_stop(struct server *s)
{
    server_halt(s);
    for (int i = 0; i < s->nrec; i++)
        free(s->rec[i].data);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- exporter under test --------------------------------------------------------------------- */

static int exp_bind(struct tu_exp *e, const char *yaml, struct error *err)
{
    return tu_exp_bind(e, &otlphttp_exporter_factory, LABELS, yaml, err);
}

static struct otlphttp_exporter_config *cfg_of(struct tu_exp *e)
{
    return e->cfg;
}

static void exp_start_yaml(struct tu_exp *e, const char *yaml)
{
    tu_exp_start_yaml(e, &otlphttp_exporter_factory, "otlphttp/test", LABELS, yaml);
}

static void exp_start(struct tu_exp *e, const char *fmt, int port)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, fmt, port, port, port);
    exp_start_yaml(e, yaml);
}

static struct batch *trace_batch(int nspans, uint8_t seed)
{
    return tu_trace_batch(nspans, seed, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
}

static void assert_same_bytes(struct batch *b, const struct request_rec *r)
{
    tu_assert_batch_bytes(b, r->data, r->len);
}

/* Inflates a gzip (windowBits 31) or zlib (15) body; caller frees. */
static uint8_t *inflate_body(const uint8_t *in, size_t len, int window_bits, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, window_bits), Z_OK);
    size_t cap = 1 << 20;
    uint8_t *out = malloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    inflateEnd(&z);
    return out;
}

static struct request_rec *find_path(struct server *s, const char *path)
{
    for (int i = 0; i < s->nrec; i++)
        if (strcmp(s->rec[i].path, path) == 0)
            return &s->rec[i];
    fail_msg("no request to %s", path);
    return NULL;
}

#define BASE_CFG                                                                                   \
    "endpoint: http://127.0.0.1:%d\n"                                                              \
    "compression: none\n"                                                                          \
    "headers: {X-Test-Header: hello-llmotlp}\n"                                                    \
    "retry_on_failure: {initial_interval: 10ms, max_interval: 40ms, max_elapsed_time: 0}\n"        \
    "sending_queue: {num_consumers: 2, queue_size: 10}\n"

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_proto_paths_headers(void **state)
{
    (void)state;
    struct server *s = server_start(0);
    struct tu_exp e;
    exp_start(&e, BASE_CFG, s->port);
    struct batch *t = trace_batch(5, 1);
    struct batch *m = tu_metric_batch(4);
    struct batch *l = tu_log_batch(3);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, t), CONSUME_OK);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, m), CONSUME_OK);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, l), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 5);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_metric_points", 4);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_log_records", 3);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 3);
    struct request_rec *rt = find_path(s, "/v1/traces");
    struct request_rec *rm = find_path(s, "/v1/metrics");
    struct request_rec *rl = find_path(s, "/v1/logs");
    assert_same_bytes(t, rt);
    assert_same_bytes(m, rm);
    assert_same_bytes(l, rl);
    for (int i = 0; i < 3; i++) {
        const struct request_rec *r = &s->rec[i];
        assert_string_equal(r->method, "POST");
        assert_string_equal(r->content_type, "application/x-protobuf");
        assert_string_equal(r->content_encoding, "");
        assert_string_equal(r->user_agent, "llmotlp/0.1.0");
        assert_string_equal(r->header, "hello-llmotlp");
    }
    batch_unref(t);
    batch_unref(m);
    batch_unref(l);
    server_stop(s);
}

/* Default compression is gzip; a base URL with a path and a trailing slash keeps one slash. */
static void test_gzip_default_and_trailing_slash(void **state)
{
    (void)state;
    struct server *s = server_start(0);
    struct tu_exp e;
    exp_start(&e, "endpoint: http://127.0.0.1:%d/otlp/\n", s->port);
    assert_string_equal(cfg_of(&e)->compression, "gzip");
    struct batch *t = trace_batch(9, 2);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, t), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 9);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 1);
    const struct request_rec *r = &s->rec[0];
    assert_string_equal(r->path, "/otlp/v1/traces");
    assert_string_equal(r->content_encoding, "gzip");
    size_t n;
    uint8_t *plain = inflate_body(r->data, r->len, 31, &n);
    tu_assert_batch_bytes(t, plain, n);
    free(plain);
    batch_unref(t);
    server_stop(s);
}

static void test_deflate(void **state)
{
    (void)state;
    struct server *s = server_start(0);
    struct tu_exp e;
    exp_start(&e, "endpoint: http://127.0.0.1:%d\ncompression: deflate\n"
                  "compression_params: {level: 9}\n", s->port);
    struct batch *l = tu_log_batch(7);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, l), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_log_records", 7);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 1);
    assert_string_equal(s->rec[0].content_encoding, "deflate");
    size_t n;
    uint8_t *plain = inflate_body(s->rec[0].data, s->rec[0].len, 15, &n);
    tu_assert_batch_bytes(l, plain, n);
    free(plain);
    batch_unref(l);
    server_stop(s);
}

/* The Collector's zlib: the zlib format, as deflate, announced by its own name; and the
 * encodings without a library here (zstd) go out as gzip, announced as gzip, so the server can
 * read them. Both with levels Go reads (-2: Huffman only; zstd's 11 is not a gzip level). */
static void test_zlib_and_substituted_zstd(void **state)
{
    (void)state;
    struct server *s = server_start(0);
    struct tu_exp e;
    exp_start(&e, "endpoint: http://127.0.0.1:%d\ncompression: zlib\n"
                  "compression_params: {level: -2}\n", s->port);
    struct batch *l = tu_log_batch(5);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, l), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_log_records", 5);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 1);
    assert_string_equal(s->rec[0].content_encoding, "zlib");
    size_t n;
    uint8_t *plain = inflate_body(s->rec[0].data, s->rec[0].len, 15, &n);
    tu_assert_batch_bytes(l, plain, n);
    free(plain);
    batch_unref(l);
    server_stop(s);

    s = server_start(0);
    exp_start(&e, "endpoint: http://127.0.0.1:%d\ncompression: zstd\n"
                  "compression_params: {level: 11}\n", s->port);
    l = tu_log_batch(3);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, l), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_log_records", 3);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 1);
    assert_string_equal(s->rec[0].content_encoding, "gzip");
    plain = inflate_body(s->rec[0].data, s->rec[0].len, 31, &n);
    tu_assert_batch_bytes(l, plain, n);
    free(plain);
    batch_unref(l);
    server_stop(s);
}

struct warn_log {
    int n;
    char last[512];
};

static void collect_warn(void *ctx, const struct cnode *at, const char *msg)
{
    (void)at;
    struct warn_log *w = ctx;
    w->n++;
    snprintf(w->last, sizeof w->last, "%s", msg);
}

static void expect_warning(const char *yaml, const char *needle)
{
    struct error err;
    struct cnode *root = config_parse_string(yaml, "x.yaml", &err);
    assert_non_null(root);
    struct otlphttp_exporter_config cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(otlphttp_exporter_fields, root, &cfg, &err), 0);
    assert_int_equal(otlphttp_exporter_factory.validate(&cfg, &err), 0);
    struct warn_log log = {0};
    struct config_warn_sink sink = {.warn = collect_warn, .ctx = &log, .path = "exporters.otlphttp"};
    otlphttp_exporter_factory.warn(&cfg, root, &sink);
    if (needle) {
        assert_int_equal(log.n, 1);
        if (!strstr(log.last, needle))
            fail_msg("warning \"%s\" does not mention \"%s\"", log.last, needle);
    } else {
        assert_int_equal(log.n, 0);
    }
    config_free_bound(otlphttp_exporter_fields, &cfg);
    cnode_free(root);
}

static void test_compression_warnings(void **state)
{
    (void)state;
    expect_warning("endpoint: http://c:4318\ncompression: snappy\n",
                   "exporters.otlphttp.compression: snappy is not available here");
    expect_warning("endpoint: http://c:4318\ncompression: x-snappy-framed\n",
                   "sent gzip-compressed instead");
    expect_warning("endpoint: http://c:4318\ncompression: lz4\n", "lz4 is not available");
    expect_warning("endpoint: http://c:4318\ncompression: none\ncompression_params: {level: 5}\n",
                   "compression_params.level: has no effect: compression is none");
    expect_warning("endpoint: http://c:4318\ncompression: zlib\ncompression_params: {level: 9}\n",
                   NULL);
    expect_warning("endpoint: http://c:4318\ncompression: \"\"\n", NULL);
}

static void test_json_encoding(void **state)
{
    (void)state;
    struct server *s = server_start(0);
    struct tu_exp e;
    exp_start(&e, "endpoint: http://127.0.0.1:%d\nencoding: json\n", s->port);
    struct batch *t = trace_batch(3, 3);
    struct batch *m = tu_metric_batch(2);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, t), CONSUME_OK);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, m), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 3);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_metric_points", 2);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 2);
    for (int i = 0; i < 2; i++) {
        const struct request_rec *r = &s->rec[i];
        bool traces = strcmp(r->path, "/v1/traces") == 0;
        assert_true(traces || strcmp(r->path, "/v1/metrics") == 0);
        assert_string_equal(r->content_type, "application/json");
        assert_string_equal(r->content_encoding, "gzip");
        size_t n;
        uint8_t *json = inflate_body(r->data, r->len, 31, &n);
        /* IDs travel as hex in OTLP/JSON. */
        if (traces)
            assert_non_null(memmem(json, n, "\"traceId\":\"", 11));
        uint8_t *wire;
        size_t wire_len;
        struct error err;
        if (otlp_json_to_wire(traces ? SIGNAL_TRACES : SIGNAL_METRICS, (const char *)json, n,
                              &wire, &wire_len, &err) != 0)
            fail_msg("json: %s", err.msg);
        tu_assert_batch_bytes(traces ? t : m, wire, wire_len);
        free(wire);
        free(json);
    }
    batch_unref(t);
    batch_unref(m);
    server_stop(s);
}

static void test_signal_endpoint_override(void **state)
{
    (void)state;
    struct server *s = server_start(0);
    struct tu_exp e;
    exp_start(&e,
              "endpoint: http://127.0.0.1:%d/base\n"
              "traces_endpoint: http://127.0.0.1:%d/custom/spans\n"
              "compression: none\n", s->port);
    struct batch *t = trace_batch(2, 4);
    struct batch *l = tu_log_batch(2);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, t), CONSUME_OK);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, l), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 2);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_log_records", 2);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 2);
    assert_same_bytes(t, find_path(s, "/custom/spans"));
    assert_same_bytes(l, find_path(s, "/base/v1/logs"));
    batch_unref(t);
    batch_unref(l);
    server_stop(s);
}

/* The backoff here (60 s ± 50%) would cross max_elapsed_time (20 s) and give up at once; only the
 * server's Retry-After (1 to 3 s) makes another attempt happen, well inside 20 s even on a loaded
 * machine. */
#define SLOW_RETRY_CFG                                                                             \
    "endpoint: http://127.0.0.1:%d\n"                                                              \
    "retry_on_failure: {initial_interval: 60s, max_interval: 60s, max_elapsed_time: 20s}\n"

static void test_503_retry_after_then_ok(void **state)
{
    (void)state;
    struct server *s = server_start(0);
    /* Retry-After as seconds, then as an HTTP date three seconds ahead: the date has whole
     * seconds and the 429 comes after the first one-second wait, so two seconds could already
     * be past by then and the exporter would rightly give up. */
    char date[64];
    time_t later = time(NULL) + 3;
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&later, &tm));
    struct action a[] = {{.status = 503, .retry_after = "1"},
                         {.status = 429, .retry_after = date}};
    server_script(s, a, 2);
    struct tu_exp e;
    exp_start(&e, SLOW_RETRY_CFG, s->port);
    struct batch *b = trace_batch(7, 5);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 7);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_spans"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 3);
    assert_int_equal(s->rec[0].answered, 503);
    assert_int_equal(s->rec[1].answered, 429);
    assert_int_equal(s->rec[2].answered, 200);
    batch_unref(b);
    server_stop(s);
}

/* Without Retry-After the same slow backoff gives up: the 503 was retryable, but no retry fits. */
static void test_503_without_retry_after_gives_up(void **state)
{
    (void)state;
    struct server *s = server_start(0);
    struct action a[] = {{.status = 503}};
    server_script(s, a, 1);
    struct tu_exp e;
    exp_start(&e, SLOW_RETRY_CFG, s->port);
    struct batch *b = trace_batch(3, 6);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_send_failed_spans", 3);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_spans"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 1);
    batch_unref(b);
    server_stop(s);
}

static void test_429_and_502_backoff_retry(void **state)
{
    (void)state;
    struct server *s = server_start(0);
    struct action a[] = {{.status = 429}, {.status = 502}, {.status = 504}};
    server_script(s, a, 3);
    struct tu_exp e;
    exp_start(&e, BASE_CFG, s->port);
    struct batch *b = tu_log_batch(4);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_log_records", 4);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_log_records"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 4);
    for (int i = 0; i < 4; i++)
        assert_same_bytes(b, &s->rec[i]);
    assert_int_equal(s->rec[3].answered, 200);
    batch_unref(b);
    server_stop(s);
}

/* 403 (and 500): permanent, and not about the data, so the whole batch fails without a split. */
static void test_403_permanent(void **state)
{
    (void)state;
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = 7;
    st.message = "not allowed";
    uint8_t body[128];
    size_t n = google__rpc__status__pack(&st, body);
    struct server *s = server_start(0);
    struct action a[] = {{.status = 403, .content_type = "application/x-protobuf", .body = body,
                          .body_len = n},
                         {.status = 500, .content_type = "text/plain",
                          .body = (const uint8_t *)"boom", .body_len = 4}};
    server_script(s, a, 2);
    struct tu_exp e;
    exp_start(&e, BASE_CFG, s->port);
    struct batch *b1 = trace_batch(6, 7);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b1), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_send_failed_spans", 6);
    struct batch *b2 = trace_batch(2, 8);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b2), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_send_failed_spans", 8);
    /* give a wrongly scheduled retry the chance to show up before counting requests */
    tu_sleep_ms(100);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_spans"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 2);
    batch_unref(b1);
    batch_unref(b2);
    server_stop(s);
}

/* One resource of 40 spans "s<i>", two scopes; span `poison` (or none: -1) carries
 * poison=true. */
static struct batch *poison_batch(int first, int n, int poison)
{
    Opentelemetry__Proto__Trace__V1__Span sp[40];
    Opentelemetry__Proto__Trace__V1__Span *pp[2][40];
    char names[40][16];
    uint8_t tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint8_t sid[40][8];
    Opentelemetry__Proto__Common__V1__AnyValue tv = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    tv.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
    tv.bool_value = true;
    Opentelemetry__Proto__Common__V1__KeyValue kv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    kv.key = "poison";
    kv.value = &tv;
    Opentelemetry__Proto__Common__V1__KeyValue *kvp = &kv;
    Opentelemetry__Proto__Trace__V1__ScopeSpans ss[2];
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp[2] = {&ss[0], &ss[1]};
    for (int k = 0; k < 2; k++) {
        opentelemetry__proto__trace__v1__scope_spans__init(&ss[k]);
        ss[k].spans = pp[k];
    }
    assert_true(n <= 40);
    for (int i = 0; i < n; i++) {
        opentelemetry__proto__trace__v1__span__init(&sp[i]);
        snprintf(names[i], sizeof names[i], "s%d", first + i);
        memset(sid[i], 0, 8);
        sid[i][0] = (uint8_t)(first + i + 1);
        sp[i].name = names[i];
        sp[i].trace_id = (ProtobufCBinaryData){16, tid};
        sp[i].span_id = (ProtobufCBinaryData){8, sid[i]};
        if (first + i == poison) {
            sp[i].n_attributes = 1;
            sp[i].attributes = &kvp;
        }
        ss[i % 2].spans[ss[i % 2].n_spans++] = &sp[i];
    }
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    rs.n_scope_spans = 2;
    rs.scope_spans = ssp;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp = &rs;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;
    return tu_pack_batch(SIGNAL_TRACES, &req.base);
}

/* A 400 is "the data is bad": the exporter's helper cuts the request until only the poisoned
 * span is refused; the other 39 arrive once each, in few requests. */
static void test_400_poison_isolated(void **state)
{
    (void)state;
    struct server *s = server_start(0);
    s->poison = true;
    struct tu_exp e;
    exp_start(&e, BASE_CFG, s->port);
    struct batch *b = poison_batch(0, 40, 17);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_send_failed_spans", 1);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 39);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    for (int i = 0; i < 40; i++)
        assert_int_equal(s->got[i], i == 17 ? 0 : 1);
    assert_true(server_count(s) <= 1 + 2 * 6);
    batch_unref(b);
    server_stop(s);
}

static void test_partial_success_proto_and_json(void **state)
{
    (void)state;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    ps.rejected_spans = 2;
    ps.error_message = "2 spans had an invalid trace_id";
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse resp =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    resp.partial_success = &ps;
    uint8_t pbody[128];
    size_t pn = protobuf_c_message_pack(&resp.base, pbody);
    static const char jbody[] =
        "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":\"too old\"}}";
    struct server *s = server_start(0);
    struct action a[] = {
        {.status = 200, .content_type = "application/x-protobuf", .body = pbody, .body_len = pn},
        {.status = 200, .content_type = "application/json; charset=utf-8",
         .body = (const uint8_t *)jbody, .body_len = sizeof jbody - 1},
        {.status = 200, .content_type = "application/json", .body = (const uint8_t *)"{}",
         .body_len = 2}};
    server_script(s, a, 3);
    struct tu_exp e;
    exp_start(&e, BASE_CFG, s->port);
    struct batch *b1 = trace_batch(9, 9);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b1), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 9);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_partial_rejected_spans"), 2);
    struct batch *b2 = trace_batch(5, 10);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b2), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 14);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_partial_rejected_spans"), 5);
    struct batch *b3 = trace_batch(1, 11);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b3), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 15);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_partial_rejected_spans"), 5);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_spans"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 3);
    batch_unref(b1);
    batch_unref(b2);
    batch_unref(b3);
    server_stop(s);
}

/* Connection refused is retryable: the batch arrives once the server is back on its port. */
static void test_server_down_then_up(void **state)
{
    (void)state;
    struct server *probe = server_start(0);
    int port = probe->port;
    server_stop(probe);
    struct tu_exp e;
    exp_start(&e, BASE_CFG, port);
    struct batch *b = tu_log_batch(5);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_sleep_ms(150);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_log_records"), 0);
    struct server *s = server_start(port);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_log_records", 5);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_log_records"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 1);
    assert_same_bytes(b, &s->rec[0]);
    batch_unref(b);
    server_stop(s);
}

/* A listening socket nobody accepts from: the kernel completes the handshake and takes the
 * request, and no answer ever comes. */
static int silent_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(fd, 8), 0);
    socklen_t sl = sizeof sin;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

/* The per-attempt timeout (1 h) would hold the sender; the shutdown deadline cuts the request in
 * flight, so shutdown returns, and both the batch in flight and the queued one are counted. */
static void test_shutdown_bounded_with_silent_server(void **state)
{
    (void)state;
    int port;
    int fd = silent_listener(&port);
    struct tu_exp e;
    exp_start(&e,
              "endpoint: http://127.0.0.1:%d\ntimeout: 1h\n"
              "sending_queue: {num_consumers: 1, queue_size: 10}\n", port);
    struct batch *b1 = trace_batch(4, 12);
    struct batch *b2 = trace_batch(3, 13);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b1), CONSUME_OK);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b2), CONSUME_OK);
    tu_sleep_ms(100);
    otlphttp_exporter_factory.shutdown(e.x, clock_now_ns() + 200 * MS);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_spans"), 7);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_spans"), 0);
    otlphttp_exporter_factory.destroy(e.x);
    tu_exp_unbind(&e);
    tu_exp_free(&e);
    close(fd);
    batch_unref(b1);
    batch_unref(b2);
}

/* With the queue disabled the caller's thread sends; it settles before consume returns. */
static void test_queue_disabled_sends_inline(void **state)
{
    (void)state;
    struct server *s = server_start(0);
    struct tu_exp e;
    exp_start(&e, "endpoint: http://127.0.0.1:%d\nsending_queue: {enabled: false}\n", s->port);
    struct batch *b = tu_metric_batch(3);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b), CONSUME_OK);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_metric_points"), 3);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, b), CONSUME_OK);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_metric_points"), 6);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 2);
    batch_unref(b);
    server_stop(s);
}

/* ---- TLS ------------------------------------------------------------------------------------- */

static char cert_path[64];

static void write_cert_file(void)
{
    snprintf(cert_path, sizeof cert_path, "/tmp/otlphttp-test-ca-XXXXXX");
    int fd = mkstemp(cert_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, test_cert_pem, strlen(test_cert_pem)),
                     (ssize_t)strlen(test_cert_pem));
    close(fd);
}

/* The configured CA authenticates the server: the batch arrives over HTTPS. */
static void test_tls_with_ca_file(void **state)
{
    (void)state;
    write_cert_file();
    struct server *s = server_start_ex(0, true);
    char yaml[512];
    snprintf(yaml, sizeof yaml, "endpoint: https://127.0.0.1:%d\ntls: {ca_file: %s}\n", s->port,
             cert_path);
    struct tu_exp e;
    exp_start_yaml(&e, yaml);
    struct batch *t = trace_batch(3, 14);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, t), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 3);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    unlink(cert_path);
    assert_int_equal(server_count(s), 1);
    size_t n;
    uint8_t *plain = inflate_body(s->rec[0].data, s->rec[0].len, 31, &n);
    tu_assert_batch_bytes(t, plain, n);
    free(plain);
    batch_unref(t);
    server_stop(s);
}

/* Without that CA the self-signed server is refused (nothing reaches it) unless verification is
 * switched off. */
static void test_tls_verification(void **state)
{
    (void)state;
    struct server *s = server_start_ex(0, true);
    struct tu_exp e;
    exp_start(&e, "endpoint: https://127.0.0.1:%d\nretry_on_failure: {enabled: false}\n",
              s->port);
    struct batch *t = trace_batch(2, 15);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, t), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_send_failed_spans", 2);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 0);

    exp_start(&e, "endpoint: https://127.0.0.1:%d\ntls: {insecure_skip_verify: true}\n", s->port);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, t), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 2);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 1);
    batch_unref(t);
    server_stop(s);
}

/* Certificates made by openssl in a directory of the test's own: ca1 signs backend.test (the
 * server) and a.test, b.test (clients). */
static char cdir[64];

static void make_certs(void)
{
    if (cdir[0])
        return;
    snprintf(cdir, sizeof cdir, "/tmp/llmotlp-otlphttp-tls-XXXXXX");
    assert_non_null(mkdtemp(cdir));
    tu_make_ca(cdir, "ca1");
    tu_make_leaf(cdir, "backend", "ca1");
    tu_make_leaf(cdir, "a", "ca1");
    tu_make_leaf(cdir, "b", "ca1");
}

static int remove_certs(void **state)
{
    (void)state;
    if (cdir[0])
        tu_sh(cdir, "cd / && rm -rf %s", cdir);
    return 0;
}

static char *read_pem(const char *name)
{
    struct error err;
    char *p = tls_pem(NULL, tu_path(cdir, name), &err);
    assert_non_null(p);
    return p;
}

/* One batch through a new exporter with `tls` (a flow map's inside) to the server: whether it
 * was delivered (sent) or failed (send_failed); retries off, so the outcome is final. */
static bool deliver(struct server *s, const char *tls, uint8_t seed)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "endpoint: https://127.0.0.1:%d\nretry_on_failure: {enabled: false}\n"
             "tls: {ca_file: %s, %s}\n", s->port, tu_path(cdir, "ca1.pem"), tls);
    struct tu_exp e;
    exp_start_yaml(&e, yaml);
    int before = server_count(s);
    struct batch *t = trace_batch(1, seed);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, t), CONSUME_OK);
    for (int i = 0; tu_exp_value(&e, "otelcol_exporter_sent_spans") +
                        tu_exp_value(&e, "otelcol_exporter_send_failed_spans") < 1; i++) {
        if (i == 5000)
            fail_msg("no outcome for the batch");
        usleep(2000);
    }
    bool ok = tu_exp_value(&e, "otelcol_exporter_sent_spans") == 1;
    tu_exp_stop(&e);
    tu_exp_free(&e);
    batch_unref(t);
    assert_int_equal(server_count(s), before + (ok ? 1 : 0));
    return ok;
}

/* server_name_override: a certificate for backend.test served on 127.0.0.1 is refused for the
 * URL's host and accepted under the override; the connection still goes to 127.0.0.1:port and
 * Host carries the URL's authority, as Go's client sends it. */
static void test_tls_server_name_override(void **state)
{
    (void)state;
    make_certs();
    char *cert = read_pem("backend.pem"), *key = read_pem("backend.key");
    struct server *s = server_start_tls(cert, key, NULL, NULL);
    assert_false(deliver(s, "min_version: \"1.2\"", 21));
    assert_true(deliver(s, "server_name_override: backend.test", 22));
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", s->port);
    assert_string_equal(s->rec[s->nrec - 1].host, host);
    /* another name than the certificate's is refused like the URL's host */
    assert_false(deliver(s, "server_name_override: other.test", 23));
    server_stop(s);
    free(cert);
    tls_pem_free(key);
}

/* cipher_suites and curve_preferences narrow what the client offers: against a server that takes
 * only AES-256-GCM over TLS 1.2 with P-384, a list without them fails and a list with them
 * delivers. */
static void test_tls_cipher_suites_and_curves(void **state)
{
    (void)state;
    make_certs();
    char *cert = read_pem("backend.pem"), *key = read_pem("backend.key");
    struct server *s = server_start_tls(
        cert, key, NULL, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:-GROUP-ALL:"
                         "+GROUP-SECP384R1");
    const char *sni = "server_name_override: backend.test, ";
    char tls[512];
    snprintf(tls, sizeof tls, "%scipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]", sni);
    assert_false(deliver(s, tls, 31));
    snprintf(tls, sizeof tls, "%scipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "
                              "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]", sni);
    assert_true(deliver(s, tls, 32));
    snprintf(tls, sizeof tls, "%scurve_preferences: [X25519, P256]", sni);
    assert_false(deliver(s, tls, 33));
    snprintf(tls, sizeof tls, "%scurve_preferences: [P256, P384]", sni);
    assert_true(deliver(s, tls, 34));
    /* TLS 1.3 names only: Go then offers no TLS 1.2 suite, so this TLS 1.2 server is refused */
    snprintf(tls, sizeof tls, "%scipher_suites: [TLS_AES_128_GCM_SHA256]", sni);
    assert_false(deliver(s, tls, 35));
    server_stop(s);
    free(cert);
    tls_pem_free(key);
}

/* reload_interval: after the client certificate files are replaced, a later request presents
 * the new certificate (the server records the subject it was shown). */
static void test_tls_client_cert_reload(void **state)
{
    (void)state;
    make_certs();
    tu_sh(cdir, "cp a.pem client.pem && cp a.key client.key");
    char *cert = read_pem("backend.pem"), *key = read_pem("backend.key");
    char *ca = read_pem("ca1.pem");
    struct server *s = server_start_tls(cert, key, ca, NULL);
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "endpoint: https://127.0.0.1:%d\nretry_on_failure: {enabled: false}\n"
             "sending_queue: {num_consumers: 1}\n"
             "tls: {ca_file: %s, server_name_override: backend.test, cert_file: %s, "
             "key_file: %s, reload_interval: 1ms}\n",
             s->port, tu_path(cdir, "ca1.pem"), tu_path(cdir, "client.pem"),
             tu_path(cdir, "client.key"));
    struct tu_exp e;
    exp_start_yaml(&e, yaml);
    struct batch *t = trace_batch(1, 41);
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, t), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 1);
    assert_int_equal(server_count(s), 1);
    assert_non_null(strstr(s->rec[0].client_dn, "CN=a.test"));
    /* a rotation renames new files over the old ones */
    tu_sh(cdir, "cp b.pem n.pem && cp b.key n.key && mv n.key client.key && mv n.pem client.pem");
    usleep(5000); /* past reload_interval: the next request polls the files */
    assert_int_equal(otlphttp_exporter_factory.consume(e.x, t), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 2);
    assert_int_equal(server_count(s), 2);
    assert_non_null(strstr(s->rec[1].client_dn, "CN=b.test"));
    tu_exp_stop(&e);
    tu_exp_free(&e);
    batch_unref(t);
    server_stop(s);
    free(cert);
    tls_pem_free(key);
    free(ca);
}

/* ---- config ---------------------------------------------------------------------------------- */

static void test_config_defaults(void **state)
{
    (void)state;
    struct tu_exp e;
    struct error err;
    assert_int_equal(exp_bind(&e, "endpoint: http://collector:4318\n", &err), 0);
    assert_int_equal(cfg_of(&e)->encoding, OTLPHTTP_ENCODING_PROTO);
    assert_string_equal(cfg_of(&e)->compression, "gzip");
    assert_int_equal(cfg_of(&e)->timeout, 30000 * MS);
    assert_true(cfg_of(&e)->retry_on_failure.enabled);
    assert_true(cfg_of(&e)->sending_queue.enabled);
    assert_int_equal(cfg_of(&e)->sending_queue.num_consumers, 10);
    assert_int_equal(cfg_of(&e)->write_buffer_size, 512 * 1024);
    char *u = otlphttp_signal_url(cfg_of(&e), SIGNAL_METRICS);
    assert_string_equal(u, "http://collector:4318/v1/metrics");
    free(u);
    tu_exp_unbind(&e);

    /* A Collector config with the confighttp client keys loads. */
    assert_int_equal(exp_bind(&e,
                              "endpoint: https://collector:4318\n"
                              "encoding: json\n"
                              "compression: none\n"
                              "timeout: 10s\n"
                              "read_buffer_size: 65536\n"
                              "write_buffer_size: 65536\n"
                              "max_idle_conns: 100\n"
                              "max_idle_conns_per_host: 10\n"
                              "max_conns_per_host: 10\n"
                              "idle_conn_timeout: 30s\n"
                              "disable_keep_alives: false\n"
                              "http2_read_idle_timeout: 10s\n"
                              "http2_ping_timeout: 5s\n"
                              "proxy_url: http://proxy:3128\n"
                              "cookies: {enabled: true}\n"
                              "tls: {insecure_skip_verify: true, min_version: \"1.3\"}\n"
                              "headers: {Authorization: Bearer x}\n",
                              &err),
                     0);
    assert_int_equal(cfg_of(&e)->encoding, OTLPHTTP_ENCODING_JSON);
    tu_exp_unbind(&e);

    /* Only per-signal endpoints: the others have no URL (the Collector requires them only for
     * the signals a pipeline exports). */
    assert_int_equal(exp_bind(&e, "traces_endpoint: http://t:1/x\n", &err), 0);
    u = otlphttp_signal_url(cfg_of(&e), SIGNAL_TRACES);
    assert_string_equal(u, "http://t:1/x");
    free(u);
    assert_null(otlphttp_signal_url(cfg_of(&e), SIGNAL_LOGS));
    tu_exp_unbind(&e);

    assert_ptr_equal(component_find(COMPONENT_EXPORTER, "otlphttp"), &otlphttp_exporter_factory);
    assert_ptr_equal(component_find(COMPONENT_EXPORTER, "otlp_http"),
                     &otlp_http_exporter_factory);
}

static void expect_config_error(const char *yaml, const char *needle)
{
    struct tu_exp e;
    struct error err;
    error_clear(&err);
    assert_int_equal(exp_bind(&e, yaml, &err), -1);
    if (!strstr(err.msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err.msg, needle);
    tu_exp_unbind(&e);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_config_error("endpoint: http://c:4318\ncompression: brotli\n", "brotli");
    /* configcompression's level rules */
    expect_config_error("endpoint: http://c:4318\ncompression: gzip\n"
                        "compression_params: {level: 10}\n", "not a gzip level");
    expect_config_error("endpoint: http://c:4318\ncompression: deflate\n"
                        "compression_params: {level: -3}\n", "not a deflate level");
    expect_config_error("endpoint: http://c:4318\ncompression: snappy\n"
                        "compression_params: {level: 1}\n", "snappy takes no level");
    expect_config_error("compression: gzip\n", "endpoint");
    expect_config_error("endpoint: c:4318\n", "http://");
    expect_config_error("endpoint: http://c:4318\nlogs_endpoint: c:4318/v1/logs\n",
                        "logs_endpoint");
    expect_config_error("endpoint: http://c:4318\nencoding: protobuf\n", "encoding");
    /* auth binds here; the service resolves the ID (test_auth.c) */
    expect_config_error("endpoint: http://c:4318\nauth: {authenticatorr: basicauth}\n",
                        "authenticatorr");
    expect_config_error("endpoint: http://c:4318\nheaders: {Content-Length: \"5\"}\n",
                        "Content-Length");
    expect_config_error("endpoint: http://c:4318\nheaders: {\"bad header\": x}\n", "bad header");
    expect_config_error("endpoint: http://c:4318\ntls: {min_version: \"1.4\"}\n", "min_version");
    /* unknown names are errors, as in the Collector (OpenSSL's names are not Go's) */
    expect_config_error("endpoint: http://c:4318\ntls: {cipher_suites: [TLS_AES_128_GCM_SHA256, "
                        "ECDHE-RSA-AES128-GCM-SHA256]}\n",
                        "unknown cipher suite \"ECDHE-RSA-AES128-GCM-SHA256\"");
    expect_config_error("endpoint: http://c:4318\ntls: {curve_preferences: [X25519, P-256]}\n",
                        "unknown curve \"P-256\"");
    expect_config_error("endpoint: http://c:4318\ntls: {curve_preferences: [X25519MLKEM768]}\n",
                        "X25519MLKEM768 is not available");
    expect_config_error("endpoint: http://c:4318\nsending_queue: {wait_for_result: true}\n",
                        "wait_for_result");
    expect_config_error("endpoint: http://c:4318\nunknown_key: 1\n", "unknown_key");
    expect_config_error("endpoint: http://c:4318\nproxy_url: ftp://p:21\n", "proxy_url");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto_paths_headers),
        cmocka_unit_test(test_gzip_default_and_trailing_slash),
        cmocka_unit_test(test_deflate),
        cmocka_unit_test(test_zlib_and_substituted_zstd),
        cmocka_unit_test(test_compression_warnings),
        cmocka_unit_test(test_json_encoding),
        cmocka_unit_test(test_signal_endpoint_override),
        cmocka_unit_test(test_503_retry_after_then_ok),
        cmocka_unit_test(test_503_without_retry_after_gives_up),
        cmocka_unit_test(test_429_and_502_backoff_retry),
        cmocka_unit_test(test_403_permanent),
        cmocka_unit_test(test_400_poison_isolated),
        cmocka_unit_test(test_partial_success_proto_and_json),
        cmocka_unit_test(test_server_down_then_up),
        cmocka_unit_test(test_shutdown_bounded_with_silent_server),
        cmocka_unit_test(test_queue_disabled_sends_inline),
        cmocka_unit_test(test_tls_with_ca_file),
        cmocka_unit_test(test_tls_verification),
        cmocka_unit_test(test_tls_server_name_override),
        cmocka_unit_test(test_tls_cipher_suites_and_curves),
        cmocka_unit_test(test_tls_client_cert_reload),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, remove_certs);
}
