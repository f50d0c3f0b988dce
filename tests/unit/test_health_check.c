/* test_health_check.c — the health_check extension over real HTTP (libcurl on 127.0.0.1):
 * its answers in each service state (200 READY, 503 STARTING and STOPPING, 404 elsewhere,
 * custom bodies), over HTTPS with `tls` (and client certificates with tls.client_ca_file), its
 * config checks (the confighttp server keys: refused, warned only for values that act
 * differently), and inside a running service: 200 once started, gone once shut down, a busy port
 * failing the start.
 * The idea: the extension is driven two ways — alone, through its factory with a state cell the
 * test flips (every state, deterministically), and inside a real service, to prove the service
 * publishes its state and orders the extension around the pipelines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/service.h"
#include "extensions/health_check/health_check.h"
#include "tests/unit/testutil.h"

/* ---- HTTP client ----------------------------------------------------------------------------- */

struct reply {
    long status;      /* 0: no connection */
    char body[4096];
    size_t len;
    char content_type[128];
};

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n, room = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, len < room ? len : room);
    r->len += len < room ? len : room;
    r->body[r->len] = '\0';
    return len;
}

/* TLS client settings for https_get: the CA that verifies the server, and an optional client
 * certificate. */
struct tls_client {
    const char *ca, *cert, *key;
};

static struct reply request(const char *method, const char *scheme, uint16_t port,
                            const char *path, const struct tls_client *tls)
{
    struct reply r = {0};
    char url[256];
    /* "localhost": the name the test certificate is issued for */
    snprintf(url, sizeof url, "%s://%s:%u%s", scheme, tls ? "localhost" : "127.0.0.1",
             (unsigned)port, path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (tls) {
        curl_easy_setopt(c, CURLOPT_CAINFO, tls->ca);
        if (tls->cert) {
            curl_easy_setopt(c, CURLOPT_SSLCERT, tls->cert);
            curl_easy_setopt(c, CURLOPT_SSLKEY, tls->key);
        }
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        char *ct = NULL;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        if (ct)
            snprintf(r.content_type, sizeof r.content_type, "%s", ct);
    }
    curl_easy_cleanup(c);
    return r;
}

static struct reply http(const char *method, uint16_t port, const char *path)
{
    return request(method, "http", port, path, NULL);
}

static struct reply https_get(uint16_t port, const char *path, const struct tls_client *tls)
{
    return request("GET", "https", port, path, tls);
}

static struct reply get(uint16_t port, const char *path)
{
    return http("GET", port, path);
}

/* ---- the extension alone --------------------------------------------------------------------- */

struct ext {
    const struct component_factory *f;
    struct cnode *tree; /* outlives the bound config: raw fields point into it */
    void *cfg;
    void *self;
    _Atomic int state;
};

static struct ext *ext_new(const char *yaml)
{
    struct ext *e = calloc(1, sizeof *e);
    e->f = component_find(COMPONENT_EXTENSION, "health_check");
    assert_non_null(e->f);
    struct error err = {0};
    e->tree = config_parse_string(yaml, "<test>", &err);
    assert_non_null(e->tree);
    e->cfg = calloc(1, e->f->config_size);
    if (config_bind(e->f->fields, e->tree, e->cfg, &err) != 0)
        fail_msg("bind: %s", err.msg);
    assert_int_equal(e->f->validate(e->cfg, &err), 0);
    atomic_store(&e->state, SERVICE_STARTING);
    struct component_env env = {.id = "health_check", .log_name = "extension/health_check",
                                .service_state = &e->state};
    e->self = e->f->create(e->cfg, &env, &err);
    assert_non_null(e->self);
    if (e->f->start(e->self, &err) != 0)
        fail_msg("start: %s", err.msg);
    assert_true(health_check_port(e->self) > 0);
    return e;
}

static void ext_free(struct ext *e)
{
    e->f->shutdown(e->self, clock_now_ns());
    e->f->destroy(e->self);
    config_free_bound(e->f->fields, e->cfg);
    free(e->cfg);
    cnode_free(e->tree);
    free(e);
}

static void test_states(void **state)
{
    (void)state;
    struct ext *e = ext_new("endpoint: 127.0.0.1:0\npath: /health/status\n");
    uint16_t port = health_check_port(e->self);

    struct reply r = get(port, "/health/status");
    assert_int_equal(r.status, 503);
    assert_string_equal(r.content_type, "application/json");
    assert_non_null(strstr(r.body, "\"status\":\"Server not available\""));

    atomic_store(&e->state, SERVICE_READY);
    r = get(port, "/health/status");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"status\":\"Server available\""));
    /* upSince as Go marshals a time (RFC 3339, UTC here), uptime as a Go duration */
    char *since = strstr(r.body, "\"upSince\":\"");
    assert_non_null(since);
    since += strlen("\"upSince\":\"");
    assert_true(since[4] == '-' && since[7] == '-' && since[10] == 'T' && since[13] == ':');
    char *uptime = strstr(r.body, "\"uptime\":\"");
    assert_non_null(uptime);
    uptime += strlen("\"uptime\":\"");
    assert_true(uptime[0] >= '0' && uptime[0] <= '9');
    assert_non_null(strstr(uptime, "s\"}")); /* ends in a unit: s, ms, µs or ns */

    r = http("HEAD", port, "/health/status");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);

    r = get(port, "/health/status?verbose=1"); /* the query string is not part of the path */
    assert_int_equal(r.status, 200);
    r = get(port, "/");
    assert_int_equal(r.status, 404);
    r = get(port, "/health/status/more");
    assert_int_equal(r.status, 404);
    r = http("POST", port, "/health/status");
    assert_int_equal(r.status, 405);

    atomic_store(&e->state, SERVICE_STOPPING);
    r = get(port, "/health/status");
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "Server not available"));
    ext_free(e);
}

static void test_response_body_and_subtree(void **state)
{
    (void)state;
    struct ext *e = ext_new("endpoint: localhost:0\n"
                            "path: /hc/\n"
                            "response_body: {healthy: I'm OK, unhealthy: I'm bad}\n"
                            "check_collector_pipeline: {enabled: false}\n");
    uint16_t port = health_check_port(e->self);
    struct reply r = get(port, "/hc/");
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "I'm bad");
    atomic_store(&e->state, SERVICE_READY);
    r = get(port, "/hc/");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "I'm OK");
    /* a path ending in '/' names a subtree, as in Go's ServeMux (the Collector's router) */
    r = get(port, "/hc/deeper");
    assert_int_equal(r.status, 200);
    r = get(port, "/hcx");
    assert_int_equal(r.status, 404);
    ext_free(e);
}

/* ---- config checks --------------------------------------------------------------------------- */

#define PIPELINE                                                                                 \
    "receivers:\n"                                                                               \
    "  otlp:\n"                                                                                  \
    "    protocols:\n"                                                                           \
    "      grpc:\n"                                                                              \
    "        endpoint: 127.0.0.1:0\n"                                                            \
    "exporters:\n"                                                                               \
    "  debug:\n"

static void test_config(void **state)
{
    (void)state;
    /* tls: the configtls checks, and what the page server cannot honour */
    tu_load_fails(PIPELINE "extensions:\n"
                        "  health_check:\n"
                        "    tls: {cert_file: a.pem}\n"
                        "service:\n"
                        "  extensions: [health_check]\n"
                        "  pipelines:\n"
                        "    traces: {receivers: [otlp], exporters: [debug]}\n",
               "tls");
    tu_load_fails(PIPELINE "extensions:\n"
                        "  health_check:\n"
                        "    tls: {cert_file: a.pem, key_file: a.key, cipher_suites: [TLS_AES_128_GCM_SHA256]}\n"
                        "service:\n"
                        "  extensions: [health_check]\n"
                        "  pipelines:\n"
                        "    traces: {receivers: [otlp], exporters: [debug]}\n",
               "tls.cipher_suites: not supported");
    tu_load_fails(PIPELINE "extensions:\n"
                        "  health_check:\n"
                        "    tls: {cert_file: a.pem, key_file: a.key, min_version: \"1.4\"}\n"
                        "service:\n"
                        "  extensions: [health_check]\n"
                        "  pipelines:\n"
                        "    traces: {receivers: [otlp], exporters: [debug]}\n",
               "tls.min_version: \"1.4\" is not a TLS version");
    /* auth and middlewares are refused where they are written (line 10 here), not only at the
     * extension: the check must never look protected when it is not */
    tu_load_fails(PIPELINE "extensions:\n"
                        "  bearertokenauth:\n"
                        "    token: t\n"
                        "  health_check:\n"
                        "    auth: {authenticator: bearertokenauth}\n"
                        "service:\n"
                        "  extensions: [bearertokenauth, health_check]\n"
                        "  pipelines:\n"
                        "    traces: {receivers: [otlp], exporters: [debug]}\n",
               "<string>:12:5: extension 'health_check': auth: not supported: the health check "
               "would be served without authentication");
    tu_load_fails(PIPELINE "extensions:\n"
                        "  health_check:\n"
                        "    middlewares:\n"
                        "      - id: headers_setter\n"
                        "service:\n"
                        "  extensions: [health_check]\n"
                        "  pipelines:\n"
                        "    traces: {receivers: [otlp], exporters: [debug]}\n",
               "<string>:10:5: extension 'health_check': middlewares: not supported");
    tu_load_fails(PIPELINE "extensions:\n"
                        "  health_check:\n"
                        "    path: health\n"
                        "service:\n"
                        "  pipelines:\n"
                        "    traces: {receivers: [otlp], exporters: [debug]}\n",
               "path must start with '/'");
    tu_load_fails(PIPELINE "extensions:\n"
                        "  health_check:\n"
                        "    port: 1\n"
                        "service:\n"
                        "  pipelines:\n"
                        "    traces: {receivers: [otlp], exporters: [debug]}\n",
               "port");

    /* defaults, and the "defined but not enabled" warning */
    struct error err = {0};
    struct service *s = service_load_string(PIPELINE "extensions:\n"
                                                     "  health_check:\n"
                                                     "service:\n"
                                                     "  pipelines:\n"
                                                     "    traces: {receivers: [otlp], "
                                                     "exporters: [debug]}\n",
                                            &err);
    assert_non_null(s);
    assert_int_equal(service_warning_count(s), 1);
    assert_non_null(strstr(service_warning(s, 0), "health_check"));
    service_free(s);

    const struct component_factory *f = component_find(COMPONENT_EXTENSION, "health_check");
    assert_non_null(f);
    bool endpoint_default = false, path_default = false;
    for (const struct config_field *fl = f->fields; fl->name; fl++) {
        endpoint_default |= strcmp(fl->name, "endpoint") == 0 && strcmp(fl->def, "localhost:13133") == 0;
        path_default |= strcmp(fl->name, "path") == 0 && strcmp(fl->def, "/") == 0;
    }
    assert_true(endpoint_default && path_default);
}

/* ---- inside a service ------------------------------------------------------------------------ */

/* The confighttp server keys load; a value that does here what it does in the Collector passes
 * in silence (no CORS origin, no header, no metadata, keep-alive on, no middleware), and one that
 * would act differently is warned about at its line. */
static void test_server_keys(void **state)
{
    (void)state;
    struct error err = {0};
    struct service *s = service_load_string(PIPELINE "extensions:\n"
                                                     "  health_check:\n"
                                                     "    cors: {allowed_headers: [X-A], max_age: 60}\n"
                                                     "    response_headers: {}\n"
                                                     "    include_metadata: false\n"
                                                     "    keep_alives_enabled: true\n"
                                                     "    middlewares: []\n"
                                                     "    auth:\n"
                                                     "  health_check/differs:\n"
                                                     "    cors: {allowed_origins: [\"https://*.example.com\"]}\n"
                                                     "    response_headers: {Cache-Control: no-store}\n"
                                                     "    include_metadata: true\n"
                                                     "    keep_alives_enabled: false\n"
                                                     "    idle_timeout: 1m\n"
                                                     "service:\n"
                                                     "  extensions: [health_check, health_check/differs]\n"
                                                     "  pipelines:\n"
                                                     "    traces: {receivers: [otlp], "
                                                     "exporters: [debug]}\n",
                                            &err);
    if (!s)
        fail_msg("load: %s", err.msg);
    static const char *const want[] = {
        "<string>:17:12: extensions.health_check/differs.cors.allowed_origins: has no effect",
        "<string>:18:5: extensions.health_check/differs.response_headers: has no effect",
        "<string>:19:5: extensions.health_check/differs.include_metadata: true has no effect",
        "<string>:20:5: extensions.health_check/differs.keep_alives_enabled: false has no effect",
        "<string>:21:5: extensions.health_check/differs.idle_timeout: accepted but has no effect",
    };
    size_t n = service_warning_count(s);
    for (size_t i = 0; i < n; i++)
        if (!strstr(service_warning(s, i), "health_check/differs."))
            fail_msg("unexpected warning: %s", service_warning(s, i));
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= strstr(service_warning(s, i), want[k]) != NULL;
        if (!found)
            fail_msg("no warning \"%s\"", want[k]);
    }
    assert_int_equal(n, sizeof want / sizeof want[0]);
    service_free(s);
}

/* ---- over HTTPS ------------------------------------------------------------------------------ */

struct pki {
    char dir[64];
    char ca[128], cert[128], key[128], client_cert[128], client_key[128];
};

/* A CA, a server certificate for localhost and a client certificate it signed, made by openssl
 * in a temporary directory (scripts/install-deps.sh installs it; without it the test fails). */
static void make_pki(struct pki *p)
{
    snprintf(p->dir, sizeof p->dir, "/tmp/llmotlp-hc-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    tu_make_ca(p->dir, "ca");
    tu_make_localhost(p->dir, "server", "ca");
    tu_make_leaf(p->dir, "client", "ca");
    snprintf(p->ca, sizeof p->ca, "%s/ca.pem", p->dir);
    snprintf(p->cert, sizeof p->cert, "%s/server.pem", p->dir);
    snprintf(p->key, sizeof p->key, "%s/server.key", p->dir);
    snprintf(p->client_cert, sizeof p->client_cert, "%s/client.pem", p->dir);
    snprintf(p->client_key, sizeof p->client_key, "%s/client.key", p->dir);
}

static void remove_pki(struct pki *p)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", p->dir);
    assert_int_equal(system(cmd), 0);
}

static void test_tls(void **state)
{
    (void)state;
    struct pki p;
    make_pki(&p);
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "endpoint: 127.0.0.1:0\ntls: {cert_file: %s, key_file: %s}\n",
             p.cert, p.key);
    struct ext *e = ext_new(yaml);
    uint16_t port = health_check_port(e->self);
    struct tls_client ca_only = {.ca = p.ca};
    struct reply r = https_get(port, "/", &ca_only);
    assert_int_equal(r.status, 503); /* the certificate verified against the CA, and answered */
    assert_non_null(strstr(r.body, "Server not available"));
    atomic_store(&e->state, SERVICE_READY);
    r = https_get(port, "/", &ca_only);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"status\":\"Server available\""));
    assert_int_equal(get(port, "/").status, 0); /* no plain HTTP on a TLS endpoint */
    ext_free(e);

    /* tls.client_ca_file: only a client with a certificate signed by that CA is answered */
    snprintf(yaml, sizeof yaml,
             "endpoint: 127.0.0.1:0\n"
             "tls: {cert_file: %s, key_file: %s, client_ca_file: %s, min_version: \"1.3\"}\n",
             p.cert, p.key, p.ca);
    e = ext_new(yaml);
    atomic_store(&e->state, SERVICE_READY);
    port = health_check_port(e->self);
    r = https_get(port, "/", &ca_only);
    assert_true(r.status != 200);
    struct tls_client with_cert = {.ca = p.ca, .cert = p.client_cert, .key = p.client_key};
    r = https_get(port, "/", &with_cert);
    assert_int_equal(r.status, 200);
    ext_free(e);
    remove_pki(&p);
}

static void test_in_service(void **state)
{
    (void)state;
    struct error err = {0};
    struct service *s = service_load_string(PIPELINE "extensions:\n"
                                                     "  health_check:\n"
                                                     "    endpoint: 127.0.0.1:0\n"
                                                     "  health_check/unused:\n"
                                                     "    endpoint: 127.0.0.1:0\n"
                                                     "service:\n"
                                                     "  telemetry: {metrics: {level: none}}\n"
                                                     "  extensions: [health_check]\n"
                                                     "  pipelines:\n"
                                                     "    traces: {receivers: [otlp], "
                                                     "exporters: [debug]}\n",
                                            &err);
    if (!s)
        fail_msg("load: %s", err.msg);
    assert_null(service_extension(s, "health_check")); /* not created before start */
    if (service_start(s, &err) != 0)
        fail_msg("start: %s", err.msg);
    assert_null(service_extension(s, "health_check/unused")); /* not listed: not running */
    void *ext = service_extension(s, "health_check");
    assert_non_null(ext);
    uint16_t port = health_check_port(ext);
    assert_true(port > 0);
    struct reply r = get(port, "/");
    assert_int_equal(r.status, 200); /* every component started: READY */
    assert_non_null(strstr(r.body, "Server available"));
    service_shutdown(s, clock_now_ns() + 5 * (int64_t)1000000000);
    r = get(port, "/");
    assert_int_equal(r.status, 0); /* stopped last, and stopped: nothing listens */
    service_free(s);
}

/* While exporters drain at shutdown (here: retrying towards a port where nothing listens until
 * the deadline), the health check still answers, and says 503. */
struct shutdown_arg {
    struct service *s;
    int64_t deadline_ns;
    _Atomic int done;
};

static void *shutdown_thread(void *p)
{
    struct shutdown_arg *a = p;
    service_shutdown(a->s, a->deadline_ns);
    atomic_store(&a->done, 1);
    return NULL;
}

static uint16_t closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t alen = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &alen), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static void test_503_while_draining(void **state)
{
    (void)state;
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "receivers:\n"
             "  otlp:\n"
             "    protocols:\n"
             "      grpc:\n"
             "        endpoint: 127.0.0.1:0\n"
             "exporters:\n"
             "  otlp:\n"
             "    endpoint: 127.0.0.1:%u\n"
             "    tls: {insecure: true}\n"
             "    retry_on_failure: {enabled: true, initial_interval: 50ms, max_interval: 100ms, "
             "max_elapsed_time: 1h}\n"
             "extensions:\n"
             "  health_check:\n"
             "    endpoint: 127.0.0.1:0\n"
             "service:\n"
             "  telemetry: {metrics: {level: none}}\n"
             "  extensions: [health_check]\n"
             "  pipelines:\n"
             "    traces: {receivers: [otlp], exporters: [otlp]}\n",
             (unsigned)closed_port());
    struct error err = {0};
    struct service *s = service_load_string(yaml, &err);
    if (!s)
        fail_msg("load: %s", err.msg);
    if (service_start(s, &err) != 0)
        fail_msg("start: %s", err.msg);
    uint16_t port = health_check_port(service_extension(s, "health_check"));
    assert_int_equal(get(port, "/").status, 200);

    /* one span that cannot be delivered keeps the exporter draining until the deadline */
    static const uint8_t one_span[] = {
        0x0a, 0x20, 0x12, 0x1e, 0x12, 0x1c, 0x0a, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        13, 14, 15, 16, 0x12, 0x08, 1, 2, 3, 4, 5, 6, 7, 8};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, one_span, sizeof one_span, &err);
    if (!b)
        fail_msg("batch: %s", err.msg);
    assert_int_equal(consumer_send(service_pipeline_entry(s, "traces"), b), CONSUME_OK);
    batch_unref(b);

    struct shutdown_arg a = {.s = s, .deadline_ns = clock_now_ns() + 3 * (int64_t)1000000000};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, shutdown_thread, &a), 0);
    long seen = 0;
    int done_before_reply = 1;
    while (!atomic_load(&a.done)) {
        struct reply r = get(port, "/");
        if (r.status == 503 || r.status == 0) {
            seen = r.status;
            done_before_reply = atomic_load(&a.done);
            break;
        }
        usleep(10000);
    }
    pthread_join(th, NULL);
    assert_int_equal(seen, 503);
    assert_false(done_before_reply); /* answered while the exporter was still draining */
    service_free(s);
}

static void test_busy_port_fails_start(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t alen = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &alen), 0);
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             PIPELINE "extensions:\n"
                      "  health_check:\n"
                      "    endpoint: 127.0.0.1:%u\n"
                      "service:\n"
                      "  telemetry: {metrics: {level: none}}\n"
                      "  extensions: [health_check]\n"
                      "  pipelines:\n"
                      "    traces: {receivers: [otlp], exporters: [debug]}\n",
             (unsigned)ntohs(addr.sin_port));
    struct error err = {0};
    struct service *s = service_load_string(yaml, &err);
    assert_non_null(s);
    assert_int_equal(service_start(s, &err), -1);
    assert_non_null(strstr(err.msg, "extension/health_check"));
    assert_non_null(strstr(err.msg, "address in use"));
    service_free(s);
    close(fd);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_response_body_and_subtree),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_server_keys),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_in_service),
        cmocka_unit_test(test_503_while_draining),
        cmocka_unit_test(test_busy_port_fails_start),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
