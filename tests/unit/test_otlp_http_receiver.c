/* test_otlp_http_receiver.c — the otlp receiver over real OTLP/HTTP: a receiver built through its
 * factory listens on 127.0.0.1:0, libcurl in this file posts to it, and a recording consumer
 * stands in for the pipeline (and can be told to answer RETRY, REJECT, to reject some items or
 * to block until released).
 *
 * The one idea: everything is checked as an HTTP client sees it (status, headers, bodies decoded
 * with protobuf-c or json-c), plus what reached the pipeline byte for byte; after each refusal
 * the same receiver must still take a valid request. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "receivers/otlp/otlp_receiver.h"
#include "tests/unit/testutil.h"

extern const struct component_factory otlp_receiver_factory;

#define LABELS "receiver=\"otlp\",transport=\"http\""
#define ALL_SIGNALS 7u

/* ---- request builders ------------------------------------------------------------------------- */

/* Traces with `n` spans "chat gpt-4o" and valid 16-byte trace IDs. */
static uint8_t *make_traces(size_t n, size_t *len)
{
    return tu_make_traces(n, 16, "chat gpt-4o", len);
}

/* gzip (windowBits 16+15) or zlib (15) of data. */
static uint8_t *compress_buf(const uint8_t *data, size_t len, bool gzip, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, gzip ? 16 + MAX_WBITS : MAX_WBITS, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, len) + 64;
    uint8_t *out = malloc(cap);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

/* gzip of `total` zero bytes, made chunk by chunk so the test never holds the inflated form. */
static uint8_t *gzip_zeros(size_t total, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    static uint8_t zeros[1 << 16];
    size_t cap = total / 500 + 4096, done = 0;
    uint8_t *out = malloc(cap);
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    while (done < total) {
        size_t n = total - done < sizeof zeros ? total - done : sizeof zeros;
        done += n;
        zs.next_in = zeros;
        zs.avail_in = (uInt)n;
        int rc = deflate(&zs, done == total ? Z_FINISH : Z_NO_FLUSH);
        assert_true(rc == Z_OK || rc == Z_STREAM_END);
        assert_int_equal(zs.avail_in, 0);
        assert_true(zs.avail_out > 0);
    }
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

/* ---- receiver fixture ------------------------------------------------------------------------- */

struct fx {
    struct otlp_receiver_config cfg;
    struct telemetry *tel;
    struct tu_rec rec;
    struct component_env env;
    void *rx;
    int port;
    bool stopped;
};

static int bind_yaml(const char *yaml, struct otlp_receiver_config *cfg, struct error *err)
{
    memset(cfg, 0, sizeof *cfg);
    struct cnode *root = config_parse_string(yaml, "test.yaml", err);
    if (!root)
        return -1;
    int rc = config_bind(otlp_receiver_factory.fields, root, cfg, err);
    cnode_free(root);
    if (rc == 0)
        rc = otlp_receiver_factory.validate(cfg, err);
    return rc;
}

static struct fx *fx_start(const char *yaml, unsigned signals)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct error err = {0};
    if (bind_yaml(yaml, &f->cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    f->tel = telemetry_new();
    tu_rec_init(&f->rec);
    f->env.id = "otlp";
    f->env.log_name = "receiver/otlp";
    f->env.telemetry = f->tel;
    for (int s = 0; s < SIGNAL_COUNT; s++)
        f->env.next[s] = (signals & (1u << s)) ? &f->rec.base : NULL;
    f->rx = otlp_receiver_factory.create(&f->cfg, &f->env, &err);
    assert_non_null(f->rx);
    if (otlp_receiver_factory.start(f->rx, &err) != 0)
        fail_msg("start: %s", err.msg);
    f->port = otlp_receiver_http_port(f->rx);
    assert_true(f->port > 0);
    return f;
}

static void fx_stop(struct fx *f)
{
    if (!f->stopped)
        otlp_receiver_factory.shutdown(f->rx, clock_now_ns() + 5000000000LL);
    otlp_receiver_factory.destroy(f->rx);
    config_free_bound(otlp_receiver_factory.fields, &f->cfg);
    telemetry_free(f->tel);
    tu_rec_fini(&f->rec);
    free(f);
}

static const char *const LOCAL_YAML =
    "protocols:\n  http:\n    endpoint: 127.0.0.1:0\n    max_request_body_size: 1048576\n";

/* ---- HTTP client ------------------------------------------------------------------------------ */

struct hreq {
    const char *method;             /* NULL = POST */
    const char *path;
    const char *ctype;              /* NULL = no Content-Type */
    const char *cenc;
    const char *extra[6];           /* more "Name: value" headers */
    const uint8_t *body;
    size_t len;
    bool chunked;                   /* send the body with Transfer-Encoding: chunked */
    const char *scheme_host;        /* NULL = "http://127.0.0.1" */
    const char *cafile;
    const char *certfile, *keyfile; /* client certificate (mutual TLS) */
};

struct hresp {
    CURLcode cc;
    long status;
    char headers[8192];
    size_t hlen;
    uint8_t *body;
    size_t len;
};

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
    struct hresp *r = u;
    size_t k = sz * n;
    uint8_t *b = realloc(r->body, r->len + k + 1);
    assert_non_null(b);
    memcpy(b + r->len, p, k);
    r->body = b;
    r->len += k;
    r->body[r->len] = '\0';
    return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *u)
{
    struct hresp *r = u;
    size_t k = sz * n;
    if (r->hlen + k < sizeof r->headers) {
        memcpy(r->headers + r->hlen, p, k);
        r->hlen += k;
        r->headers[r->hlen] = '\0';
    }
    return k;
}

struct chunk_src {
    const uint8_t *p;
    size_t left;
};

static size_t on_read(char *buf, size_t sz, size_t n, void *u)
{
    struct chunk_src *c = u;
    size_t k = sz * n < c->left ? sz * n : c->left;
    if (k > 16384)
        k = 16384;
    memcpy(buf, c->p, k);
    c->p += k;
    c->left -= k;
    return k;
}

static void http_do(int port, const struct hreq *q, struct hresp *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[512];
    snprintf(url, sizeof url, "%s:%d%s", q->scheme_host ? q->scheme_host : "http://127.0.0.1", port,
             q->path ? q->path : "/v1/traces");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (q->cafile)
        curl_easy_setopt(c, CURLOPT_CAINFO, q->cafile);
    if (q->certfile) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, q->certfile);
        curl_easy_setopt(c, CURLOPT_SSLKEY, q->keyfile);
    }
    struct curl_slist *h = NULL;
    char line[256];
    if (q->ctype) {
        snprintf(line, sizeof line, "Content-Type: %s", q->ctype);
        h = curl_slist_append(h, line);
    }
    if (q->cenc) {
        snprintf(line, sizeof line, "Content-Encoding: %s", q->cenc);
        h = curl_slist_append(h, line);
    }
    for (size_t i = 0; i < sizeof q->extra / sizeof q->extra[0] && q->extra[i]; i++)
        h = curl_slist_append(h, q->extra[i]);
    struct chunk_src src = {q->body, q->len};
    const char *method = q->method ? q->method : "POST";
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        if (q->chunked) {
            h = curl_slist_append(h, "Transfer-Encoding: chunked");
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, &src);
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body ? (const char *)q->body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
        }
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    r->cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void hresp_clear(struct hresp *r)
{
    free(r->body);
    r->body = NULL;
}

/* The value of response header `name` (last occurrence), copied into out; false if absent. */
static bool hdr(const struct hresp *r, const char *name, char *out, size_t outlen)
{
    bool found = false;
    size_t nl = strlen(name);
    for (const char *p = r->headers; *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = ll - (size_t)(v - p);
            if (vl >= outlen)
                vl = outlen - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            found = true;
        }
        p += ll + (eol ? 2 : 0);
    }
    return found;
}

static void assert_header(const struct hresp *r, const char *name, const char *want)
{
    char v[512];
    if (!hdr(r, name, v, sizeof v))
        fail_msg("header %s missing in:\n%s", name, r->headers);
    assert_string_equal(v, want);
}

static void assert_no_header(const struct hresp *r, const char *name)
{
    char v[512];
    if (hdr(r, name, v, sizeof v))
        fail_msg("header %s unexpected: %s", name, v);
}

/* Decodes a protobuf google.rpc.Status body and checks its message contains `part`. */
static void assert_status_pb(const struct hresp *r, const char *part)
{
    assert_header(r, "Content-Type", "application/x-protobuf");
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, r->len, r->body);
    assert_non_null(st);
    if (!strstr(st->message, part))
        fail_msg("status message \"%s\" lacks \"%s\"", st->message, part);
    google__rpc__status__free_unpacked(st, NULL);
}

static void assert_status_json(const struct hresp *r, const char *part)
{
    assert_header(r, "Content-Type", "application/json");
    json_object *o = json_tokener_parse((const char *)r->body);
    assert_non_null(o);
    json_object *m;
    assert_true(json_object_object_get_ex(o, "message", &m));
    if (!strstr(json_object_get_string(m), part))
        fail_msg("status message \"%s\" lacks \"%s\"", json_object_get_string(m), part);
    json_object_put(o);
}

/* A valid protobuf request still gets 200 and reaches the pipeline. */
static void assert_still_serving(struct fx *f)
{
    size_t len;
    uint8_t *req = make_traces(1, &len);
    pthread_mutex_lock(&f->rec.mu);
    size_t before = f->rec.calls;
    pthread_mutex_unlock(&f->rec.mu);
    struct hresp r;
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .body = req, .len = len}, &r);
    assert_int_equal(r.cc, CURLE_OK);
    assert_int_equal(r.status, 200);
    pthread_mutex_lock(&f->rec.mu);
    assert_int_equal(f->rec.calls, before + 1);
    pthread_mutex_unlock(&f->rec.mu);
    hresp_clear(&r);
    free(req);
}

static char *read_testdata(const char *name, size_t *len)
{
    const char *dir = getenv("LLMOTLP_TESTDATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/json/%s", dir ? dir : "tests/unit/data", name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
    b[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return b;
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_three_signals_protobuf(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    struct {
        const char *path;
        enum signal sig;
        size_t n;
        const char *counter;
    } cases[] = {{"/v1/traces", SIGNAL_TRACES, 3, "otelcol_receiver_accepted_spans"},
                 {"/v1/metrics", SIGNAL_METRICS, 4, "otelcol_receiver_accepted_metric_points"},
                 {"/v1/logs", SIGNAL_LOGS, 5, "otelcol_receiver_accepted_log_records"}};
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        uint8_t *req = cases[i].sig == SIGNAL_TRACES    ? make_traces(cases[i].n, &len)
                       : cases[i].sig == SIGNAL_METRICS ? tu_make_metrics(cases[i].n, &len)
                                                        : tu_make_logs(cases[i].n, &len);
        struct hresp r;
        http_do(f->port, &(struct hreq){.path = cases[i].path, .ctype = "application/x-protobuf",
                                        .body = req, .len = len}, &r);
        assert_int_equal(r.cc, CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_header(&r, "Content-Type", "application/x-protobuf");
        assert_int_equal(r.len, 0); /* full success: empty response message */
        assert_int_equal(f->rec.last_signal, cases[i].sig);
        assert_int_equal(f->rec.last_len, len);
        assert_memory_equal(f->rec.last, req, len);
        assert_int_equal(telemetry_value(f->tel, cases[i].counter, LABELS), (int64_t)cases[i].n);
        hresp_clear(&r);
        free(req);
    }
    assert_int_equal(f->rec.calls, 3);
    assert_int_equal(f->rec.items, 12);
    assert_int_equal(f->rec.bad, 0);
    /* charset and other parameters after ';' do not matter */
    size_t len;
    uint8_t *req = make_traces(2, &len);
    struct hresp r;
    http_do(f->port, &(struct hreq){.ctype = "Application/X-Protobuf; charset=utf-8", .body = req, .len = len}, &r);
    assert_int_equal(r.status, 200);
    hresp_clear(&r);
    free(req);
    fx_stop(f);
}

static void test_json_request_and_response(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    size_t jlen;
    char *json = read_testdata("trace.json", &jlen);
    struct hresp r;
    http_do(f->port, &(struct hreq){.ctype = "application/json", .body = (uint8_t *)json, .len = jlen}, &r);
    assert_int_equal(r.cc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Content-Type", "application/json");
    assert_string_equal((const char *)r.body, "{}");
    hresp_clear(&r);
    assert_int_equal(f->rec.calls, 1);
    assert_int_equal(f->rec.last_signal, SIGNAL_TRACES);
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, f->rec.last_len,
                                                                                          f->rec.last);
    assert_non_null(req);
    assert_int_equal(req->n_resource_spans, 1);
    Opentelemetry__Proto__Trace__V1__Span *sp = req->resource_spans[0]->scope_spans[0]->spans[0];
    assert_string_equal(sp->name, "I'm a server span");
    assert_int_equal(sp->kind, 2);
    assert_int_equal(sp->start_time_unix_nano, 1544712660000000000ULL);
    static const uint8_t tid[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
                                    0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
    assert_int_equal(sp->trace_id.len, 16);
    assert_memory_equal(sp->trace_id.data, tid, 16);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_spans", LABELS), 1);

    /* the other examples reach their pipelines too */
    const char *files[] = {"metrics.json", "logs.json"};
    const char *paths[] = {"/v1/metrics", "/v1/logs"};
    for (int i = 0; i < 2; i++) {
        char *j = read_testdata(files[i], &jlen);
        http_do(f->port, &(struct hreq){.path = paths[i], .ctype = "application/json",
                                        .body = (uint8_t *)j, .len = jlen}, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(f->rec.calls, 2 + (size_t)i);
        hresp_clear(&r);
        free(j);
    }
    free(json);
    fx_stop(f);
}

static void test_gzip_and_zlib_bodies(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    size_t len;
    uint8_t *req = make_traces(50, &len);
    const char *encs[] = {"gzip", "deflate", "identity"};
    for (int i = 0; i < 3; i++) {
        size_t zlen = len;
        uint8_t *z = i < 2 ? compress_buf(req, len, i == 0, &zlen) : req;
        struct hresp r;
        http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .cenc = encs[i], .body = z,
                                        .len = zlen, .chunked = i == 0}, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(f->rec.last_len, len);
        assert_memory_equal(f->rec.last, req, len);
        hresp_clear(&r);
        if (z != req)
            free(z);
    }
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_spans", LABELS), 150);
    /* gzip JSON */
    size_t jlen, zlen;
    char *json = read_testdata("trace.json", &jlen);
    uint8_t *z = compress_buf((uint8_t *)json, jlen, true, &zlen);
    struct hresp r;
    http_do(f->port, &(struct hreq){.ctype = "application/json", .cenc = "gzip", .body = z, .len = zlen}, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_spans", LABELS), 151);
    hresp_clear(&r);
    /* a truncated gzip stream is a bad request */
    http_do(f->port, &(struct hreq){.ctype = "application/json", .cenc = "gzip", .body = z, .len = zlen / 2}, &r);
    assert_int_equal(r.status, 400);
    assert_status_json(&r, "truncated");
    hresp_clear(&r);
    /* not gzip at all */
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .cenc = "gzip", .body = req, .len = len}, &r);
    assert_int_equal(r.status, 400);
    assert_status_pb(&r, "invalid gzip body");
    hresp_clear(&r);
    /* unknown encoding */
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .cenc = "br", .body = req, .len = len}, &r);
    assert_int_equal(r.status, 400);
    assert_status_pb(&r, "unsupported Content-Encoding");
    hresp_clear(&r);
    assert_int_equal(telemetry_value(f->tel, "llmotlp_receiver_malformed_requests", LABELS), 3);
    assert_still_serving(f);
    free(z);
    free(json);
    free(req);
    fx_stop(f);
}

/* Peak resident memory of this process, kB. */
static long peak_rss_kb(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    assert_non_null(fp);
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(fp);
    return kb;
}

static void test_gzip_bomb(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS); /* limit 1 MiB */
    size_t zlen;
    uint8_t *bomb = gzip_zeros((size_t)200 << 20, &zlen);
    assert_true(zlen < (size_t)1 << 20); /* small on the wire: only the inflated size is over */
    long before = peak_rss_kb();
    for (int chunked = 0; chunked < 2; chunked++) {
        struct hresp r;
        http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .cenc = "gzip", .body = bomb,
                                        .len = zlen, .chunked = chunked}, &r);
        assert_int_equal(r.cc, CURLE_OK);
        assert_int_equal(r.status, 413);
        assert_status_pb(&r, "after decompression");
        hresp_clear(&r);
    }
    long after = peak_rss_kb();
    /* never inflated in full: the peak grew by far less than the 200 MiB the body inflates to */
    assert_true(after - before < 64 * 1024);
    assert_int_equal(f->rec.calls, 0);
    assert_int_equal(telemetry_value(f->tel, "llmotlp_receiver_malformed_requests", LABELS), 2);
    assert_still_serving(f);
    free(bomb);
    fx_stop(f);
}

static void test_oversized_raw_body(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    size_t len = ((size_t)1 << 20) + 1;
    uint8_t *big = calloc(1, len);
    for (int i = 0; i < 3; i++) {
        struct hresp r;
        /* Content-Length with `Expect: 100-continue` (curl's default for large bodies: answered
         * before the body), without it (body read and dropped), and chunked (over the limit
         * while streaming) */
        bool chunked = i == 2;
        http_do(f->port, &(struct hreq){.ctype = "application/json", .body = big, .len = len,
                                        .chunked = chunked, .extra = {i ? "Expect:" : NULL}}, &r);
        assert_int_equal(r.cc, CURLE_OK);
        assert_int_equal(r.status, 413);
        assert_status_json(&r, "too large");
        hresp_clear(&r);
    }
    /* exactly at the limit is fine as far as size goes (then it is bad JSON: zeros) */
    struct hresp r;
    http_do(f->port, &(struct hreq){.ctype = "application/json", .body = big, .len = len - 1}, &r);
    assert_int_equal(r.status, 400);
    hresp_clear(&r);
    assert_int_equal(f->rec.calls, 0);
    assert_still_serving(f);
    free(big);
    fx_stop(f);
}

static void test_wrong_type_method_path(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    size_t len;
    uint8_t *req = make_traces(1, &len);
    struct hresp r;
    http_do(f->port, &(struct hreq){.ctype = "text/plain", .body = req, .len = len}, &r);
    assert_int_equal(r.status, 415);
    assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
    assert_non_null(strstr((const char *)r.body, "application/x-protobuf"));
    hresp_clear(&r);
    http_do(f->port, &(struct hreq){.body = req, .len = len, .extra = {"Content-Type:"}}, &r);
    assert_int_equal(r.status, 415);
    hresp_clear(&r);
    const char *methods[] = {"GET", "PUT", "DELETE", "OPTIONS"};
    for (int i = 0; i < 4; i++) {
        http_do(f->port, &(struct hreq){.method = methods[i]}, &r);
        assert_int_equal(r.status, 405);
        assert_header(&r, "Allow", "POST");
        hresp_clear(&r);
    }
    http_do(f->port, &(struct hreq){.path = "/v1/trace", .ctype = "application/x-protobuf", .body = req,
                                    .len = len}, &r);
    assert_int_equal(r.status, 404);
    assert_status_pb(&r, "404");
    hresp_clear(&r);
    http_do(f->port, &(struct hreq){.path = "/v1/traces/", .ctype = "application/x-protobuf"}, &r);
    assert_int_equal(r.status, 404);
    hresp_clear(&r);
    /* a signal with no pipeline */
    assert_int_equal(f->rec.calls, 0);
    assert_int_equal(telemetry_value(f->tel, "llmotlp_receiver_malformed_requests", LABELS), 2);
    assert_still_serving(f);
    free(req);
    fx_stop(f);

    f = fx_start(LOCAL_YAML, 1u << SIGNAL_TRACES);
    http_do(f->port, &(struct hreq){.path = "/v1/logs", .ctype = "application/json", .body = (uint8_t *)"{}",
                                    .len = 2}, &r);
    assert_int_equal(r.status, 404);
    assert_status_json(&r, "no pipeline for logs");
    hresp_clear(&r);
    fx_stop(f);
}

static void test_malformed_payloads(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    size_t len;
    uint8_t *req = make_traces(2, &len);
    struct hresp r;
    /* truncated protobuf */
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .body = req, .len = len - 3}, &r);
    assert_int_equal(r.status, 400);
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, r.len, r.body);
    assert_non_null(st);
    assert_int_equal(st->code, 3);
    assert_true(strlen(st->message) > 0);
    google__rpc__status__free_unpacked(st, NULL);
    hresp_clear(&r);
    assert_still_serving(f);
    /* garbage */
    static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .body = junk, .len = sizeof junk}, &r);
    assert_int_equal(r.status, 400);
    hresp_clear(&r);
    /* bad hex trace ID in JSON: the message names the field */
    const char *bad_hex = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
                          "\"5B8EFFF798038103D269B633813FC6XX\",\"spanId\":\"EEE19B7EC3C1B174\"}]}]}]}";
    http_do(f->port, &(struct hreq){.ctype = "application/json", .body = (const uint8_t *)bad_hex,
                                    .len = strlen(bad_hex)}, &r);
    assert_int_equal(r.status, 400);
    assert_status_json(&r, "traceId");
    hresp_clear(&r);
    assert_still_serving(f);
    /* wrong ID length in JSON */
    const char *short_id = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"5B8E\"}]}]}]}";
    http_do(f->port, &(struct hreq){.ctype = "application/json", .body = (const uint8_t *)short_id,
                                    .len = strlen(short_id)}, &r);
    assert_int_equal(r.status, 400);
    assert_status_json(&r, "traceId");
    hresp_clear(&r);
    /* malformed JSON */
    const char *broken = "{\"resourceSpans\":[{";
    http_do(f->port, &(struct hreq){.ctype = "application/json", .body = (const uint8_t *)broken,
                                    .len = strlen(broken)}, &r);
    assert_int_equal(r.status, 400);
    assert_header(&r, "Content-Type", "application/json");
    hresp_clear(&r);
    assert_int_equal(f->rec.calls, 2); /* only the two still-serving probes */
    assert_int_equal(telemetry_value(f->tel, "llmotlp_receiver_malformed_requests", LABELS), 5);
    /* an empty body is an empty request: success, nothing sent on */
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf"}, &r);
    assert_int_equal(r.status, 200);
    hresp_clear(&r);
    assert_int_equal(f->rec.calls, 2);
    assert_still_serving(f);
    free(req);
    fx_stop(f);
}

static void test_retry_and_reject(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    size_t len;
    uint8_t *req = make_traces(4, &len);
    f->rec.answer = CONSUME_RETRY;
    struct hresp r;
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .body = req, .len = len}, &r);
    assert_int_equal(r.status, 503);
    assert_header(&r, "Retry-After", "1");
    assert_status_pb(&r, "retry later");
    hresp_clear(&r);
    const char *one = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"x\"}]}]}]}";
    http_do(f->port, &(struct hreq){.ctype = "application/json", .body = (const uint8_t *)one,
                                    .len = strlen(one)}, &r);
    assert_int_equal(r.status, 503);
    assert_header(&r, "Retry-After", "1");
    assert_status_json(&r, "retry later");
    hresp_clear(&r);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_refused_spans", LABELS), 5);
    f->rec.answer = CONSUME_REJECT;
    f->rec.reject_why = "tokens attribute missing";
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .body = req, .len = len}, &r);
    assert_int_equal(r.status, 400);
    assert_no_header(&r, "Retry-After");
    assert_status_pb(&r, "tokens attribute missing");
    hresp_clear(&r);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_refused_spans", LABELS), 9);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_spans", LABELS), 0);
    free(req);
    fx_stop(f);
}

static void test_partial_success(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    f->rec.reject_n = 2;
    f->rec.reject_why = "2 spans without gen_ai.system";
    size_t len;
    uint8_t *req = make_traces(5, &len);
    struct hresp r;
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .body = req, .len = len}, &r);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Content-Type", "application/x-protobuf");
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *resp =
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(NULL, r.len, r.body);
    assert_non_null(resp);
    assert_non_null(resp->partial_success);
    assert_int_equal(resp->partial_success->rejected_spans, 2);
    assert_string_equal(resp->partial_success->error_message, "2 spans without gen_ai.system");
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(resp, NULL);
    hresp_clear(&r);

    size_t jlen;
    char *json = read_testdata("trace.json", &jlen);
    f->rec.reject_n = 1;
    http_do(f->port, &(struct hreq){.ctype = "application/json", .body = (uint8_t *)json, .len = jlen}, &r);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Content-Type", "application/json");
    json_object *o = json_tokener_parse((const char *)r.body);
    assert_non_null(o);
    json_object *ps, *v;
    assert_true(json_object_object_get_ex(o, "partialSuccess", &ps));
    assert_true(json_object_object_get_ex(ps, "rejectedSpans", &v));
    assert_int_equal(json_object_get_int64(v), 1);
    assert_true(json_object_object_get_ex(ps, "errorMessage", &v));
    assert_string_equal(json_object_get_string(v), "2 spans without gen_ai.system");
    json_object_put(o);
    hresp_clear(&r);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_spans", LABELS), 3);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_refused_spans", LABELS), 3);
    free(json);
    free(req);
    fx_stop(f);
}

static void test_cors(void **state)
{
    (void)state;
    struct fx *f = fx_start("protocols:\n  http:\n    endpoint: 127.0.0.1:0\n    cors:\n"
                            "      allowed_origins: [\"https://*.example.com\", \"http://localhost:3000\"]\n"
                            "      allowed_headers: [X-Custom]\n      max_age: 7200\n",
                            ALL_SIGNALS);
    struct hresp r;
    /* allowed preflight */
    http_do(f->port, &(struct hreq){.method = "OPTIONS",
                                    .extra = {"Origin: https://app.example.com",
                                              "Access-Control-Request-Method: POST",
                                              "Access-Control-Request-Headers: content-type, x-custom"}}, &r);
    assert_int_equal(r.status, 204);
    assert_header(&r, "Access-Control-Allow-Origin", "https://app.example.com");
    assert_header(&r, "Access-Control-Allow-Methods", "POST");
    assert_header(&r, "Access-Control-Allow-Headers", "content-type, x-custom");
    assert_header(&r, "Access-Control-Max-Age", "7200");
    hresp_clear(&r);
    /* origin not allowed, header not allowed, method not allowed */
    const char *bad[][3] = {
        {"Origin: https://evil.com", "Access-Control-Request-Method: POST", NULL},
        {"Origin: https://example.com.evil.org", "Access-Control-Request-Method: POST", NULL},
        {"Origin: http://localhost:3000", "Access-Control-Request-Method: POST",
         "Access-Control-Request-Headers: x-other"},
        {"Origin: http://localhost:3000", "Access-Control-Request-Method: PUT", NULL}};
    for (int i = 0; i < 4; i++) {
        http_do(f->port, &(struct hreq){.method = "OPTIONS", .extra = {bad[i][0], bad[i][1], bad[i][2]}}, &r);
        assert_int_equal(r.status, 403);
        assert_no_header(&r, "Access-Control-Allow-Origin");
        hresp_clear(&r);
    }
    /* actual request from an allowed origin */
    size_t len;
    uint8_t *req = make_traces(1, &len);
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .body = req, .len = len,
                                    .extra = {"Origin: http://localhost:3000"}}, &r);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Access-Control-Allow-Origin", "http://localhost:3000");
    assert_header(&r, "Vary", "Origin");
    hresp_clear(&r);
    /* and from another: served, but without the header the browser needs */
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .body = req, .len = len,
                                    .extra = {"Origin: https://evil.com"}}, &r);
    assert_int_equal(r.status, 200);
    assert_no_header(&r, "Access-Control-Allow-Origin");
    hresp_clear(&r);
    assert_int_equal(f->rec.calls, 2);
    fx_stop(f);

    /* no cors config: no CORS headers, OPTIONS is just another method */
    f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    http_do(f->port, &(struct hreq){.method = "OPTIONS",
                                    .extra = {"Origin: https://app.example.com",
                                              "Access-Control-Request-Method: POST"}}, &r);
    assert_int_equal(r.status, 405);
    assert_no_header(&r, "Access-Control-Allow-Origin");
    hresp_clear(&r);
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .body = req, .len = len,
                                    .extra = {"Origin: https://app.example.com"}}, &r);
    assert_int_equal(r.status, 200);
    assert_no_header(&r, "Access-Control-Allow-Origin");
    hresp_clear(&r);
    free(req);
    fx_stop(f);
}

static void test_custom_paths_and_response_headers(void **state)
{
    (void)state;
    struct fx *f = fx_start("protocols:\n  http:\n    endpoint: 127.0.0.1:0\n"
                            "    traces_url_path: custom/traces\n    logs_url_path: /l\n"
                            "    response_headers:\n      X-Served-By: llmotlp\n"
                            "    keep_alives_enabled: false\n",
                            ALL_SIGNALS);
    size_t len;
    uint8_t *req = make_traces(1, &len);
    struct hresp r;
    http_do(f->port, &(struct hreq){.path = "/custom/traces", .ctype = "application/x-protobuf",
                                    .body = req, .len = len}, &r);
    assert_int_equal(r.status, 200);
    assert_header(&r, "X-Served-By", "llmotlp");
    assert_header(&r, "Connection", "close");
    hresp_clear(&r);
    http_do(f->port, &(struct hreq){.path = "/v1/traces", .ctype = "application/x-protobuf",
                                    .body = req, .len = len}, &r);
    assert_int_equal(r.status, 404);
    assert_header(&r, "X-Served-By", "llmotlp"); /* on every answer */
    hresp_clear(&r);
    uint8_t *logs = tu_make_logs(2, &len);
    http_do(f->port, &(struct hreq){.path = "/l", .ctype = "application/x-protobuf", .body = logs, .len = len}, &r);
    assert_int_equal(r.status, 200);
    hresp_clear(&r);
    assert_int_equal(f->rec.calls, 2);
    assert_int_equal(f->rec.last_signal, SIGNAL_LOGS);
    free(logs);
    free(req);
    fx_stop(f);
}

struct bg_post {
    int port;
    const uint8_t *body;
    size_t len;
    struct hresp r;
};

static void *bg_post_main(void *arg)
{
    struct bg_post *b = arg;
    http_do(b->port, &(struct hreq){.ctype = "application/x-protobuf", .body = b->body, .len = b->len}, &b->r);
    return NULL;
}

struct bg_shutdown {
    void *rx;
    int64_t deadline;
    bool done;
    pthread_mutex_t mu;
};

static void *bg_shutdown_main(void *arg)
{
    struct bg_shutdown *b = arg;
    otlp_receiver_factory.shutdown(b->rx, b->deadline);
    pthread_mutex_lock(&b->mu);
    b->done = true;
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static bool connect_refused(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(fd);
    return rc != 0 && e == ECONNREFUSED;
}

static void test_shutdown_with_request_in_flight(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    f->rec.block = true;
    size_t len;
    uint8_t *req = make_traces(3, &len);
    struct bg_post post = {.port = f->port, .body = req, .len = len};
    pthread_t pt, st;
    assert_int_equal(pthread_create(&pt, NULL, bg_post_main, &post), 0);
    pthread_mutex_lock(&f->rec.mu);
    while (!f->rec.entered)
        pthread_cond_wait(&f->rec.cv, &f->rec.mu);
    pthread_mutex_unlock(&f->rec.mu);

    struct bg_shutdown sd = {.rx = f->rx, .deadline = clock_now_ns() + 30000000000LL};
    pthread_mutex_init(&sd.mu, NULL);
    assert_int_equal(pthread_create(&st, NULL, bg_shutdown_main, &sd), 0);
    /* wait (without a time limit on the assertion) until new connections are refused */
    while (!connect_refused(f->port))
        usleep(2000);
    pthread_mutex_lock(&sd.mu);
    assert_false(sd.done); /* still waiting for the request in flight */
    pthread_mutex_unlock(&sd.mu);

    pthread_mutex_lock(&f->rec.mu);
    f->rec.release = true;
    pthread_cond_broadcast(&f->rec.cv);
    pthread_mutex_unlock(&f->rec.mu);
    pthread_join(pt, NULL);
    assert_int_equal(post.r.cc, CURLE_OK);
    assert_int_equal(post.r.status, 200);
    assert_header(&post.r, "Connection", "close");
    hresp_clear(&post.r);
    pthread_join(st, NULL);
    assert_true(sd.done);
    pthread_mutex_destroy(&sd.mu);
    f->stopped = true;
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_spans", LABELS), 3);
    free(req);
    fx_stop(f);
}

/* Past the deadline the connection is closed, but a handler inside the pipeline is waited for:
 * shutdown returns only after it, and nothing is freed under it (ASan would tell). */
static void test_shutdown_past_deadline(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    f->rec.block = true;
    size_t len;
    uint8_t *req = make_traces(2, &len);
    struct bg_post post = {.port = f->port, .body = req, .len = len};
    pthread_t pt, st;
    assert_int_equal(pthread_create(&pt, NULL, bg_post_main, &post), 0);
    pthread_mutex_lock(&f->rec.mu);
    while (!f->rec.entered)
        pthread_cond_wait(&f->rec.cv, &f->rec.mu);
    pthread_mutex_unlock(&f->rec.mu);
    struct bg_shutdown sd = {.rx = f->rx, .deadline = clock_now_ns()};
    pthread_mutex_init(&sd.mu, NULL);
    assert_int_equal(pthread_create(&st, NULL, bg_shutdown_main, &sd), 0);
    while (!connect_refused(f->port))
        usleep(2000);
    pthread_mutex_lock(&sd.mu);
    assert_false(sd.done); /* the handler is still inside the pipeline */
    pthread_mutex_unlock(&sd.mu);
    pthread_mutex_lock(&f->rec.mu);
    f->rec.release = true;
    pthread_cond_broadcast(&f->rec.cv);
    pthread_mutex_unlock(&f->rec.mu);
    pthread_join(st, NULL);
    assert_true(sd.done);
    pthread_join(pt, NULL); /* the client got an answer or a closed connection; either is fine */
    hresp_clear(&post.r);
    pthread_mutex_destroy(&sd.mu);
    f->stopped = true;
    assert_int_equal(f->rec.calls, 1);
    free(req);
    fx_stop(f);
}

static void test_grpc_and_http_together(void **state)
{
    (void)state;
    struct fx *f = fx_start("protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n"
                            "  http:\n    endpoint: 127.0.0.1:0\n    num_threads: 3\n",
                            ALL_SIGNALS);
    assert_true(otlp_receiver_grpc_port(f->rx) > 0);
    assert_int_not_equal(otlp_receiver_grpc_port(f->rx), f->port);
    assert_int_equal(f->cfg.protocols.http.num_threads, 3);
    assert_still_serving(f);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_spans", LABELS), 1);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_spans",
                                     "receiver=\"otlp\",transport=\"grpc\""), 0);
    fx_stop(f);
}

static void test_port_in_use(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    char yaml[128];
    snprintf(yaml, sizeof yaml, "protocols:\n  http:\n    endpoint: 127.0.0.1:%d\n", f->port);
    struct otlp_receiver_config cfg;
    struct error err = {0};
    assert_int_equal(bind_yaml(yaml, &cfg, &err), 0);
    struct component_env env = {.id = "otlp/2", .log_name = "receiver/otlp/2"};
    env.next[SIGNAL_TRACES] = &f->rec.base;
    void *rx = otlp_receiver_factory.create(&cfg, &env, &err);
    assert_non_null(rx);
    assert_int_not_equal(otlp_receiver_factory.start(rx, &err), 0);
    char want[64];
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%d: ", f->port);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_int_equal(otlp_receiver_http_port(rx), 0);
    otlp_receiver_factory.shutdown(rx, clock_now_ns());
    otlp_receiver_factory.destroy(rx);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    assert_still_serving(f);
    fx_stop(f);
}

static void test_config(void **state)
{
    (void)state;
    struct otlp_receiver_config cfg;
    struct error err = {0};
    assert_int_equal(bind_yaml("protocols:\n  http:\n", &cfg, &err), 0);
    const struct otlp_http_config *h = &cfg.protocols.http;
    assert_string_equal(h->endpoint, "localhost:4318");
    assert_int_equal(h->max_request_body_size, 20971520);
    assert_string_equal(h->traces_url_path, "/v1/traces");
    assert_string_equal(h->metrics_url_path, "/v1/metrics");
    assert_string_equal(h->logs_url_path, "/v1/logs");
    assert_int_equal(h->num_threads, 2);
    assert_true(h->keep_alives_enabled);
    config_free_bound(otlp_receiver_factory.fields, &cfg);

    assert_int_not_equal(bind_yaml("protocols:\n  http:\n    compression_algorithms: [brotli]\n", &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "brotli"));
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    assert_int_not_equal(bind_yaml("protocols:\n  http:\n    num_threads: 0\n", &cfg, &err), 0);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    /* mutual TLS is served (the files are read at start) */
    assert_int_equal(bind_yaml("protocols:\n  http:\n    tls:\n      cert_file: /c\n      key_file: /k\n"
                               "      client_ca_file: /ca\n", &cfg, &err), 0);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    /* reloading is served: the keys are accepted, a setting with nothing to reload is not */
    assert_int_equal(bind_yaml("protocols:\n  http:\n    tls:\n      cert_file: /c\n      key_file: /k\n"
                               "      client_ca_file: /ca\n      client_ca_file_reload: true\n"
                               "      reload_interval: 1s\n", &cfg, &err), 0);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    assert_int_not_equal(bind_yaml("protocols:\n  http:\n    tls:\n      cert_file: /c\n      key_file: /k\n"
                                   "      client_ca_file_reload: true\n", &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "needs client_ca_file"));
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    assert_int_not_equal(bind_yaml("protocols:\n  grpc:\n    tls:\n      cert_pem: C\n      key_pem: K\n"
                                   "      reload_interval: 1s\n", &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "nothing to reload"));
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    /* deadlines and connection limits: confighttp's defaults, ours for the limits */
    assert_int_equal(bind_yaml("protocols:\n  http:\n", &cfg, &err), 0);
    assert_int_equal(cfg.protocols.http.read_header_timeout, 60000000000LL);
    assert_int_equal(cfg.protocols.http.write_timeout, 30000000000LL);
    assert_int_equal(cfg.protocols.http.idle_timeout, 60000000000LL);
    assert_int_equal(cfg.protocols.http.read_timeout, 0);
    assert_int_equal(cfg.protocols.http.max_connections, 2048);
    assert_int_equal(cfg.protocols.http.max_connections_per_client, 512);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    assert_int_equal(bind_yaml("protocols:\n  http:\n    max_connections: 10\n    max_connections_per_client: 0\n"
                               "    read_header_timeout: 250ms\n", &cfg, &err), 0);
    assert_int_equal(cfg.protocols.http.max_connections, 10);
    assert_int_equal(cfg.protocols.http.max_connections_per_client, 0);
    assert_int_equal(cfg.protocols.http.read_header_timeout, 250000000);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    assert_int_not_equal(bind_yaml("protocols:\n  http:\n    max_connections: 0\n", &cfg, &err), 0);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    assert_int_not_equal(bind_yaml("protocols:\n  http:\n    max_connections_per_client: -1\n", &cfg, &err), 0);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
}

static void test_compression_algorithms_restrict(void **state)
{
    (void)state;
    struct fx *f = fx_start("protocols:\n  http:\n    endpoint: 127.0.0.1:0\n"
                            "    compression_algorithms: [zlib]\n", ALL_SIGNALS);
    size_t len, zlen;
    uint8_t *req = make_traces(1, &len);
    uint8_t *z = compress_buf(req, len, true, &zlen);
    struct hresp r;
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .cenc = "gzip", .body = z, .len = zlen}, &r);
    assert_int_equal(r.status, 400);
    assert_status_pb(&r, "compression_algorithms");
    hresp_clear(&r);
    free(z);
    z = compress_buf(req, len, false, &zlen);
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .cenc = "zlib", .body = z, .len = zlen}, &r);
    assert_int_equal(r.status, 200);
    hresp_clear(&r);
    assert_still_serving(f); /* identity is always fine */
    free(z);
    free(req);
    fx_stop(f);
}

static void test_tls(void **state)
{
    (void)state;
    char cert[] = "/tmp/llmotlp-http-cert-XXXXXX", key[] = "/tmp/llmotlp-http-key-XXXXXX";
    tu_write_temp(cert, tu_test_cert_pem);
    tu_write_temp(key, tu_test_key_pem);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "protocols:\n  http:\n    endpoint: 127.0.0.1:0\n    tls:\n      cert_file: %s\n"
             "      key_file: %s\n", cert, key);
    struct fx *f = fx_start(yaml, ALL_SIGNALS);
    size_t len;
    uint8_t *req = make_traces(2, &len);
    struct hresp r;
    http_do(f->port, &(struct hreq){.scheme_host = "https://localhost", .cafile = cert,
                                    .ctype = "application/x-protobuf", .body = req, .len = len}, &r);
    assert_int_equal(r.cc, CURLE_OK);
    assert_int_equal(r.status, 200);
    hresp_clear(&r);
    assert_int_equal(f->rec.last_len, len);
    assert_memory_equal(f->rec.last, req, len);
    /* plaintext to a TLS port gets no HTTP answer */
    http_do(f->port, &(struct hreq){.ctype = "application/x-protobuf", .body = req, .len = len}, &r);
    assert_int_not_equal(r.status, 200);
    hresp_clear(&r);
    free(req);
    fx_stop(f);
    unlink(cert);
    unlink(key);
}

/* ---- deadlines and connection limits (raw sockets) ------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A TCP connection to 127.0.0.1:port from source address `src` (NULL = any). */
static int raw_connect(int port, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (src) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        inet_pton(AF_INET, src, &a.sin_addr);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof to), 0);
    return fd;
}

/* Waits up to ms for the server to close fd (end of file or reset; data is skipped). true if it
 * did. */
static bool closed_within(int fd, int ms)
{
    int64_t until = now_ms() + ms;
    for (;;) {
        struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char b[512];
        ssize_t n = recv(fd, b, sizeof b, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
        if (now_ms() > until)
            return false;
    }
}

/* Sends one byte every `every_ms` until the server closes the connection or `max_ms` pass;
 * returns the ms it took (or -1: never closed). */
static int64_t drip_until_closed(int fd, const char *text, int every_ms, int max_ms)
{
    int64_t t0 = now_ms();
    for (size_t i = 0; now_ms() - t0 < max_ms; i++) {
        char ch = text[i % strlen(text)];
        if (send(fd, &ch, 1, MSG_NOSIGNAL) < 0)
            return now_ms() - t0;
        if (closed_within(fd, every_ms))
            return now_ms() - t0;
    }
    return -1;
}

static void post_raw(int fd, const uint8_t *body, size_t len, bool keep_alive)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                     "Content-Length: %zu\r\n%s\r\n", len, keep_alive ? "" : "Connection: close\r\n");
    assert_int_equal(send(fd, head, (size_t)n, MSG_NOSIGNAL), n);
    assert_int_equal(send(fd, body, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads one answer's status line ("HTTP/1.1 200"); the status, or -1. */
static int read_status(int fd)
{
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b[2048];
    ssize_t n = recv(fd, b, sizeof b - 1, 0);
    if (n < 12)
        return -1;
    b[n] = '\0';
    return atoi(b + 9);
}

/* A client dripping its headers a byte at a time is cut at read_header_timeout (an inactivity
 * limit would never trip), while a normal client is served meanwhile; a slow body is cut at
 * read_timeout, a kept-alive connection that sends nothing more at idle_timeout +
 * read_header_timeout. */
static void test_slow_clients_cut_at_deadlines(void **state)
{
    (void)state;
    struct fx *f = fx_start("protocols:\n  http:\n    endpoint: 127.0.0.1:0\n"
                            "    read_header_timeout: 400ms\n    read_timeout: 900ms\n"
                            "    idle_timeout: 300ms\n", ALL_SIGNALS);
    int loris = raw_connect(f->port, NULL);
    int64_t t0 = now_ms();
    const char *head = "POST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    assert_int_equal(send(loris, head, 10, MSG_NOSIGNAL), 10);
    assert_still_serving(f); /* served while the loris drips */
    assert_true(drip_until_closed(loris, "abcdefgh", 50, 5000) >= 0);
    int64_t took = now_ms() - t0;
    assert_true(took >= 350);
    assert_true(took < 1500);
    close(loris);

    /* headers in time, body dripping: cut at read_timeout (from the accept) */
    size_t len;
    uint8_t *req = make_traces(2, &len);
    int slow_body = raw_connect(f->port, NULL);
    t0 = now_ms();
    char h2[200];
    int n = snprintf(h2, sizeof h2, "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     "application/x-protobuf\r\nContent-Length: %zu\r\n\r\n", len);
    assert_int_equal(send(slow_body, h2, (size_t)n, MSG_NOSIGNAL), n);
    took = drip_until_closed(slow_body, "\x0a", 50, 5000);
    assert_true(took >= 800);
    assert_true(took < 2000);
    close(slow_body);

    /* a kept-alive connection: answered, then closed when idle past idle + header deadlines */
    int ka = raw_connect(f->port, NULL);
    post_raw(ka, req, len, true);
    assert_int_equal(read_status(ka), 200);
    t0 = now_ms();
    assert_true(closed_within(ka, 3000));
    took = now_ms() - t0;
    assert_true(took >= 600);
    close(ka);
    free(req);
    assert_int_equal(f->rec.calls, 2); /* assert_still_serving's and the kept-alive one */
    fx_stop(f);
}

/* max_connections_per_client: past it, a connection from that address is accepted and closed at
 * once, while another address is served; max_connections: past it, anyone's waits (MHD stops
 * accepting) until a connection closes. */
static void test_connection_limits(void **state)
{
    (void)state;
    struct fx *f = fx_start("protocols:\n  http:\n    endpoint: 127.0.0.1:0\n    num_threads: 1\n"
                            "    max_connections: 6\n    max_connections_per_client: 3\n", ALL_SIGNALS);
    int held[6];
    for (int i = 0; i < 3; i++)
        held[i] = raw_connect(f->port, "127.0.0.2");
    for (int i = 0; i < 3; i++)
        assert_false(closed_within(held[i], 100));
    int extra = raw_connect(f->port, "127.0.0.2");
    assert_true(closed_within(extra, 2000));
    close(extra);
    /* another client is served */
    size_t len;
    uint8_t *req = make_traces(1, &len);
    int other = raw_connect(f->port, "127.0.0.3");
    post_raw(other, req, len, false);
    assert_int_equal(read_status(other), 200);
    close(other);
    /* fill the server: 3 more from two other addresses, then anyone is refused */
    held[3] = raw_connect(f->port, "127.0.0.4");
    held[4] = raw_connect(f->port, "127.0.0.4");
    held[5] = raw_connect(f->port, "127.0.0.5");
    assert_false(closed_within(held[5], 100));
    /* past max_connections a new connection waits in the listen backlog, unanswered, and is
     * served once a connection closes */
    int over = raw_connect(f->port, "127.0.0.6");
    post_raw(over, req, len, false);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 300000};
    setsockopt(over, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b[64];
    assert_true(recv(over, b, sizeof b, 0) < 0);
    close(held[0]);
    assert_int_equal(read_status(over), 200);
    close(over);
    for (int i = 1; i < 6; i++)
        close(held[i]);
    free(req);
    fx_stop(f);
}

/* ---- mutual TLS ------------------------------------------------------------------------------- */

struct pki {
    char dir[64];
    char ca[128], server_cert[128], server_key[128], client_cert[128], client_key[128];
    char rogue_cert[128], rogue_key[128];
};

/* A CA, a server certificate for localhost and a client certificate signed by it, and a rogue
 * self-signed client certificate, all made by openssl in a temporary directory. */
static void make_pki(struct pki *p)
{
    snprintf(p->dir, sizeof p->dir, "/tmp/llmotlp-mtls-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s && exec >/dev/null 2>&1 && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "  -subj /CN=test-ca -keyout ca.key -out ca.pem && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
             "  -keyout server.key -out server.csr && "
             "printf 'subjectAltName=DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > server.ext && "
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
             "  -extfile server.ext -out server.pem && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=gateway "
             "  -keyout client.key -out client.csr && "
             "printf 'extendedKeyUsage=clientAuth\\n' > client.ext && "
             "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
             "  -extfile client.ext -out client.pem && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "  -subj /CN=rogue -keyout rogue.key -out rogue.pem",
             p->dir);
    assert_int_equal(system(cmd), 0);
    snprintf(p->ca, sizeof p->ca, "%s/ca.pem", p->dir);
    snprintf(p->server_cert, sizeof p->server_cert, "%s/server.pem", p->dir);
    snprintf(p->server_key, sizeof p->server_key, "%s/server.key", p->dir);
    snprintf(p->client_cert, sizeof p->client_cert, "%s/client.pem", p->dir);
    snprintf(p->client_key, sizeof p->client_key, "%s/client.key", p->dir);
    snprintf(p->rogue_cert, sizeof p->rogue_cert, "%s/rogue.pem", p->dir);
    snprintf(p->rogue_key, sizeof p->rogue_key, "%s/rogue.key", p->dir);
}

static void free_pki(struct pki *p)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", p->dir);
    assert_int_equal(system(cmd), 0);
}

static void test_mutual_tls(void **state)
{
    (void)state;
    struct pki p;
    make_pki(&p);
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "protocols:\n  http:\n    endpoint: 127.0.0.1:0\n    tls:\n      cert_file: %s\n"
             "      key_file: %s\n      client_ca_file: %s\n", p.server_cert, p.server_key, p.ca);
    struct fx *f = fx_start(yaml, ALL_SIGNALS);
    size_t len;
    uint8_t *req = make_traces(2, &len);
    struct hresp r;
    /* the right certificate: delivered */
    http_do(f->port, &(struct hreq){.scheme_host = "https://localhost", .cafile = p.ca,
                                    .certfile = p.client_cert, .keyfile = p.client_key,
                                    .ctype = "application/x-protobuf", .body = req, .len = len}, &r);
    assert_int_equal(r.cc, CURLE_OK);
    assert_int_equal(r.status, 200);
    hresp_clear(&r);
    assert_int_equal(f->rec.calls, 1);
    assert_memory_equal(f->rec.last, req, len);
    /* no certificate, or one the CA did not sign: 401 with a Status, nothing delivered */
    http_do(f->port, &(struct hreq){.scheme_host = "https://localhost", .cafile = p.ca,
                                    .ctype = "application/x-protobuf", .body = req, .len = len}, &r);
    if (r.cc == CURLE_OK) {
        assert_int_equal(r.status, 401);
        assert_status_pb(&r, "client certificate");
    }
    hresp_clear(&r);
    http_do(f->port, &(struct hreq){.scheme_host = "https://localhost", .cafile = p.ca,
                                    .certfile = p.rogue_cert, .keyfile = p.rogue_key,
                                    .ctype = "application/json", .body = (const uint8_t *)"{}", .len = 2}, &r);
    if (r.cc == CURLE_OK) {
        assert_int_equal(r.status, 401);
        assert_status_json(&r, "not trusted");
    }
    hresp_clear(&r);
    assert_int_equal(f->rec.calls, 1);
    /* and the right one still works */
    http_do(f->port, &(struct hreq){.scheme_host = "https://localhost", .cafile = p.ca,
                                    .certfile = p.client_cert, .keyfile = p.client_key,
                                    .ctype = "application/x-protobuf", .body = req, .len = len}, &r);
    assert_int_equal(r.status, 200);
    hresp_clear(&r);
    assert_int_equal(f->rec.calls, 2);
    free(req);
    fx_stop(f);
    /* a client CA that cannot be read fails the start */
    snprintf(yaml, sizeof yaml,
             "protocols:\n  http:\n    endpoint: 127.0.0.1:0\n    tls:\n      cert_file: %s\n"
             "      key_file: %s\n      client_ca_file: %s/nope.pem\n", p.server_cert, p.server_key, p.dir);
    struct otlp_receiver_config cfg;
    struct error err = {0};
    assert_int_equal(bind_yaml(yaml, &cfg, &err), 0);
    struct component_env env = {.id = "otlp", .log_name = "receiver/otlp"};
    struct tu_rec rec;
    tu_rec_init(&rec);
    env.next[SIGNAL_TRACES] = &rec.base;
    void *rx = otlp_receiver_factory.create(&cfg, &env, &err);
    assert_non_null(rx);
    assert_int_not_equal(otlp_receiver_factory.start(rx, &err), 0);
    assert_non_null(strstr(err.msg, "nope.pem"));
    otlp_receiver_factory.destroy(rx);
    tu_rec_fini(&rec);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    free_pki(&p);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_three_signals_protobuf),
        cmocka_unit_test(test_json_request_and_response),
        cmocka_unit_test(test_gzip_and_zlib_bodies),
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_oversized_raw_body),
        cmocka_unit_test(test_wrong_type_method_path),
        cmocka_unit_test(test_malformed_payloads),
        cmocka_unit_test(test_retry_and_reject),
        cmocka_unit_test(test_partial_success),
        cmocka_unit_test(test_cors),
        cmocka_unit_test(test_custom_paths_and_response_headers),
        cmocka_unit_test(test_compression_algorithms_restrict),
        cmocka_unit_test(test_shutdown_with_request_in_flight),
        cmocka_unit_test(test_shutdown_past_deadline),
        cmocka_unit_test(test_grpc_and_http_together),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_slow_clients_cut_at_deadlines),
        cmocka_unit_test(test_connection_limits),
        cmocka_unit_test(test_mutual_tls),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
