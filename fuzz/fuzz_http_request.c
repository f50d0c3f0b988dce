/* fuzz_http_request.c — the OTLP/HTTP receiver's decision on one request: path, method, CORS
 * preflight, content type, content encoding (identity, gzip, zlib; inflated under the body
 * limit), JSON to protobuf, the export handler, the answer's body. Driven through
 * otlp_http_server_decide(), the very code the libmicrohttpd callbacks run, without a socket.
 *
 * Input: 4 header bytes choosing among tables (method, Content-Length form, CORS on/off, whether
 * the fuzz target compresses the body itself, chunk size, content type, path, encoding, body
 * limit, enabled signals, Origin, Access-Control-Request-*, compression_algorithms), then the body.
 *
 * The one idea: besides memory safety and bounded inflation, the fuzzer checks the receiver's
 * promises end to end: the status is one of the statuses OTLP/HTTP allows; the handler is called
 * with at most the body limit of protobuf; its verdict decides 200 or 400; and a well-formed
 * POST (identity, or a body this target compressed itself) reaches the handler byte for byte,
 * or is refused with 413 exactly when it inflates past the limit. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/otlp.h"
#include "fuzz/fuzz_util.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "receivers/otlp/otlp_receiver.h"

static const char *const methods[] = {"POST", "OPTIONS", "GET", "PUT"};
static const char *const ctypes[] = {NULL,
                                     "application/x-protobuf",
                                     "application/json",
                                     "application/json; charset=utf-8",
                                     " Application/X-Protobuf ; q=1",
                                     "text/plain",
                                     "",
                                     "application/jsonx"};
static const bool ctype_proto[] = {false, true, false, false, true, false, false, false};
static const bool ctype_json[] = {false, false, true, true, false, false, false, false};
static const char *const paths[] = {"/v1/traces", "/v1/metrics", "/v1/logs", "/",
                                    "/v1/traces/", "/V1/TRACES", "/v1/logs?x=1", ""};
static const char *const encodings[] = {NULL, "gzip", "deflate", "identity",
                                        "x-gzip", "zlib", "br", " GZIP "};
enum { E_IDENTITY, E_GZIP, E_ZLIB, E_OTHER };
static const int enc_kind[] = {E_IDENTITY, E_GZIP, E_ZLIB, E_IDENTITY,
                               E_GZIP, E_ZLIB, E_OTHER, E_GZIP};
static const int64_t max_bodies[] = {16, 1000, 65536, 1 << 20};
static const size_t chunks[] = {0, 1, 7, 4096};
static const char *const origins[] = {NULL, "https://app.example.com", "http://evil.com",
                                      "HTTP://LOCALHOST:3000"};
static const char *const ac_methods[] = {NULL, "POST", "post ", "DELETE"};
static const char *const ac_headers[] = {NULL, "content-type, x-custom", "X-Other", " , ,"};

struct fuzz_ctx {
    int called;
    size_t len;
    bool scan_ok;
    const uint8_t *expect; /* the body the handler must receive, when known */
    size_t expect_len;
    bool expect_checked;
    bool proto;
    int64_t max_body;
};

static void export_fn(void *user, enum signal s, uint8_t *data, size_t len,
                      struct otlp_export_result *res)
{
    struct fuzz_ctx *c = user;
    c->called++;
    c->len = len;
    FUZZ_CHECK((data == NULL) == (len == 0), "handler got data %p with len %zu", (void *)data, len);
    if (c->proto)
        FUZZ_CHECK(len <= (size_t)c->max_body, "handler got %zu bytes, the limit is %lld", len,
                   (long long)c->max_body);
    if (c->expect) {
        FUZZ_CHECK(len == c->expect_len && (len == 0 || memcmp(data, c->expect, len) == 0),
                   "handler got %zu bytes, not the %zu bytes sent", len, c->expect_len);
        c->expect_checked = true;
    }
    memset(res, 0, sizeof *res);
    struct error err = {0};
    struct otlp_scan_result r;
    /* as the receiver's handler: an empty body is an empty request (data is NULL then) */
    r.items = 0;
    c->scan_ok = len == 0 || otlp_scan(s, data, len, &r, &err) == 0;
    free(data);
    if (!c->scan_ok) {
        res->status = 3; /* INVALID_ARGUMENT */
        snprintf(res->message, sizeof res->message, "%.500s", err.msg);
        return;
    }
    /* a response with partial success now and then, so the JSON rendering of it runs too */
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse resp =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    if (r.items % 2) {
        ps.rejected_spans = 1;
        ps.error_message = "one item dropped";
        resp.partial_success = &ps;
    }
    /* the three responses have the same shape: field 1, a message of (int64, string) */
    res->response_len = protobuf_c_message_get_packed_size(&resp.base);
    res->response = malloc(res->response_len ? res->response_len : 1);
    FUZZ_CHECK(res->response, "out of memory");
    protobuf_c_message_pack(&resp.base, res->response);
}

static void refused_fn(void *user, enum signal s, const char *why)
{
    (void)user;
    FUZZ_CHECK(s < SIGNAL_COUNT && why, "bad refusal report");
}

/* Compresses in with zlib (gzip or zlib wrapper). malloc'd; NULL on failure. */
static uint8_t *compress_body(const uint8_t *in, size_t n, bool gzip, size_t *out_len)
{
    z_stream zs = {0};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip ? 16 + MAX_WBITS : MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&zs, (uLong)n);
    uint8_t *out = malloc(cap);
    if (!out) {
        deflateEnd(&zs);
        return NULL;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 4)
        return 0;
    uint8_t b0 = data[0], b1 = data[1], b2 = data[2], b3 = data[3];
    const uint8_t *body = data + 4;
    size_t body_len = size - 4;

    int method = b0 & 3, cl_mode = (b0 >> 2) & 3, chunk = (b0 >> 6) & 3;
    bool cors = (b0 >> 4) & 1, precompress = (b0 >> 5) & 1;
    int ct = b1 & 7, path = (b1 >> 3) & 7;
    int enc = b2 & 7, maxb = (b2 >> 3) & 3;
    unsigned signals = (b2 >> 5) & 7;
    int origin = b3 & 3, acm = (b3 >> 2) & 3, ach = (b3 >> 4) & 3, algs = (b3 >> 6) & 3;

    char *origin_list[] = {"https://*.example.com", "http://localhost:3000"};
    char *header_list[] = {"X-Custom"};
    char *alg_lists[][1] = {{NULL}, {"gzip"}, {"zlib"}, {"snappy"}};
    struct otlp_http_config cfg = {0};
    cfg.endpoint = "127.0.0.1:0"; /* never bound: decide() opens no socket */
    cfg.max_request_body_size = max_bodies[maxb];
    if (cors) {
        cfg.cors.allowed_origins = (struct config_str_list){2, origin_list};
        cfg.cors.allowed_headers = (struct config_str_list){1, header_list};
        cfg.cors.max_age = 600;
    }
    if (algs)
        cfg.compression_algorithms = (struct config_str_list){1, alg_lists[algs]};

    /* The body this target compresses itself is a valid stream: its fate is known. */
    uint8_t *sent = (uint8_t *)(uintptr_t)body;
    size_t sent_len = body_len;
    bool self_compressed = false;
    if (precompress && (enc_kind[enc] == E_GZIP || enc_kind[enc] == E_ZLIB)) {
        sent = compress_body(body, body_len, enc_kind[enc] == E_GZIP, &sent_len);
        if (!sent)
            return 0;
        self_compressed = true;
    }
    char cl[32];
    const char *cl_value = NULL;
    if (cl_mode == 1) {
        snprintf(cl, sizeof cl, "%zu", sent_len);
        cl_value = cl;
    } else if (cl_mode == 2) {
        cl_value = "18446744073709551615";
    } else if (cl_mode == 3) {
        cl_value = "abc";
    }

    struct otlp_http_request q = {
        .method = methods[method], .url = paths[path], .content_type = ctypes[ct],
        .content_encoding = encodings[enc], .content_length = cl_value,
        .origin = origins[origin], .ac_request_method = ac_methods[acm],
        .ac_request_headers = ac_headers[ach], .body = sent, .body_len = sent_len,
        .chunk = chunks[chunk]};

    struct fuzz_ctx c = {.proto = ctype_proto[ct], .max_body = cfg.max_request_body_size};
    bool allowed_enc = enc_kind[enc] == E_IDENTITY || !algs ||
                       (enc_kind[enc] == E_GZIP && algs == 1) ||
                       (enc_kind[enc] == E_ZLIB && algs == 2);
    int sig = path < 3 ? path : -1;
    /* A POST every header of which is fine: the handler must get the body as it was meant. */
    bool clean = method == 0 && sig >= 0 && (signals & (1u << sig)) && ctype_proto[ct] &&
                 allowed_enc && enc_kind[enc] != E_OTHER && (cl_mode == 0 || cl_mode == 1) &&
                 sent_len <= (size_t)cfg.max_request_body_size &&
                 (enc_kind[enc] == E_IDENTITY || self_compressed);
    bool fits = body_len <= (size_t)cfg.max_request_body_size;
    if (clean && fits) {
        c.expect = body;
        c.expect_len = body_len;
    }

    struct error err = {0};
    int http = otlp_http_server_decide(&cfg, signals, export_fn, refused_fn, &c, &q, &err);
    FUZZ_CHECK(http > 0, "decide failed: %s", err.msg);
    if (getenv("FUZZ_VERBOSE")) /* what a seed exercises: FUZZ_VERBOSE=1 ./fuzz_http_request f */
        fprintf(stderr, "%s %s: HTTP %d (handler %s)\n", q.method, q.url, http,
                c.called ? (c.scan_ok ? "accepted" : "refused") : "not called");
    static const int allowed[] = {200, 204, 400, 403, 404, 405, 413, 415, 503};
    bool known = false;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        known |= http == allowed[i];
    FUZZ_CHECK(known, "status %d", http);
    FUZZ_CHECK(c.called <= 1, "handler called %d times", c.called);
    if (c.called)
        FUZZ_CHECK(http == (c.scan_ok ? 200 : 400), "handler said %s, status %d",
                   c.scan_ok ? "OK" : "invalid", http);
    if (clean && fits)
        FUZZ_CHECK(c.called && c.expect_checked, "a clean POST of %zu bytes got %d without "
                   "reaching the handler", body_len, http);
    if (clean && !fits)
        FUZZ_CHECK(http == 413, "a body inflating to %zu bytes past the limit %lld got %d",
                   body_len, (long long)cfg.max_request_body_size, http);
    if (http == 200 || (c.called && ctype_json[ct]))
        FUZZ_CHECK(ctype_proto[ct] || ctype_json[ct], "status %d for content type %s", http,
                   ctypes[ct] ? ctypes[ct] : "(none)");
    if (self_compressed)
        free(sent);
    return 0;
}
