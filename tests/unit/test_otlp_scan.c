/* test_otlp_scan.c — the wire scanner and protobuf-c's unpack agree: what the scanner accepts
 * unpacks, with the item count the scan gave; what unpack refuses the scanner refuses. Each case
 * is built byte by byte (the encoders of protobuf-c never write these forms), checked against
 * protobuf-c itself, then a seeded mutation run checks the same rule on thousands of variants.
 * Also the string repair: invalid UTF-8 and NUL become U+FFFD on the binary path as on JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/batch.h"
#include "core/otlp.h"
#include "core/otlp_json.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "tests/unit/testutil.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_req;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest metric_req;

/* ---- a byte builder ---------------------------------------------------------------------- */

struct bb {
    uint8_t b[4096];
    size_t n;
};

static void put(struct bb *o, const void *d, size_t n)
{
    assert_true(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, d, n);
    o->n += n;
}

static void put_varint(struct bb *o, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        put(o, &c, 1);
    } while (v);
}

static void put_key(struct bb *o, unsigned num, unsigned wt) { put_varint(o, (uint64_t)num << 3 | wt); }

static void put_bytes(struct bb *o, unsigned num, const void *d, size_t n)
{
    put_key(o, num, 2);
    put_varint(o, n);
    put(o, d, n);
}

static void put_msg(struct bb *o, unsigned num, const struct bb *sub) { put_bytes(o, num, sub->b, sub->n); }

static void put_str(struct bb *o, unsigned num, const char *s) { put_bytes(o, num, s, strlen(s)); }

static void put_u64(struct bb *o, unsigned num, uint64_t v)
{
    put_key(o, num, 0);
    put_varint(o, v);
}

static void put_fixed64(struct bb *o, unsigned num, uint64_t v)
{
    put_key(o, num, 1);
    put(o, &v, 8); /* little-endian host */
}

/* A span with valid IDs; extra bytes are appended inside the Span message. */
static void span(struct bb *o, const char *name, const struct bb *extra)
{
    static const uint8_t tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t sid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    put_bytes(o, 1, tid, 16);
    put_bytes(o, 2, sid, 8);
    put_str(o, 5, name);
    put_fixed64(o, 7, 1000);
    put_fixed64(o, 8, 2000);
    if (extra)
        put(o, extra->b, extra->n);
}

/* ExportTraceServiceRequest{resource_spans{scope_spans{spans...}}} from span bodies. */
static void trace_request(struct bb *out, const struct bb *spans, size_t n)
{
    struct bb ss = {.n = 0}, rs = {.n = 0};
    for (size_t i = 0; i < n; i++)
        put_msg(&ss, 2, &spans[i]);
    put_msg(&rs, 2, &ss);
    out->n = 0;
    put_msg(out, 1, &rs);
}

static void one_span_request(struct bb *out, const char *name, const struct bb *extra)
{
    struct bb sp = {.n = 0};
    span(&sp, name, extra);
    trace_request(out, &sp, 1);
}

/* Metric{name, <members>} in ExportMetricsServiceRequest. */
static void metric_request(struct bb *out, const struct bb *metric_body)
{
    struct bb m = {.n = 0}, sm = {.n = 0}, rm = {.n = 0};
    put_str(&m, 1, "m");
    put(&m, metric_body->b, metric_body->n);
    put_msg(&sm, 2, &m);
    put_msg(&rm, 2, &sm);
    out->n = 0;
    put_msg(out, 1, &rm);
}

/* Gauge or Sum body with n NumberDataPoints. */
static void points(struct bb *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct bb p = {.n = 0};
        put_fixed64(&p, 3, 1000 + i);
        put_fixed64(&p, 4, 0x3ff0000000000000ull); /* as_double 1.0 */
        put_msg(o, 1, &p);
    }
}

/* ---- the agreement rule ------------------------------------------------------------------- */

/* 1 when protobuf-c unpacks data; *items gets otlp_count_items of the result. */
static int unpacks(enum signal s, const uint8_t *data, size_t len, uint64_t *items)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(otlp_request_descriptor(s), NULL, len, data);
    if (!m)
        return 0;
    if (items)
        *items = otlp_count_items(s, m);
    protobuf_c_message_free_unpacked(m, NULL);
    return 1;
}

/* The rule every input must keep: scan accepts ⇒ unpack succeeds with the same count, and the
 * re-packed request scans to the same count. Returns whether the scan accepted. */
static int check_agree(enum signal s, const uint8_t *data, size_t len)
{
    struct otlp_scan_result r;
    struct error err = {0};
    if (otlp_scan(s, data, len, &r, &err) != 0)
        return 0;
    uint64_t items = 0;
    if (!unpacks(s, data, len, &items))
        fail_msg("scan accepted what unpack refuses (%zu bytes)", len);
    assert_int_equal(items, r.items);
    ProtobufCMessage *m = protobuf_c_message_unpack(otlp_request_descriptor(s), NULL, len, data);
    size_t plen = protobuf_c_message_get_packed_size(m);
    uint8_t *packed = malloc(plen + 1);
    protobuf_c_message_pack(m, packed);
    protobuf_c_message_free_unpacked(m, NULL);
    struct otlp_scan_result r2;
    assert_int_equal(otlp_scan(s, packed, plen, &r2, &err), 0);
    assert_int_equal(r2.items, r.items);
    free(packed);
    return 1;
}

static void expect_refused_by_both(enum signal s, const struct bb *req, const char *why_part)
{
    struct otlp_scan_result r;
    struct error err = {0};
    assert_int_not_equal(otlp_scan(s, req->b, req->n, &r, &err), 0);
    if (why_part && !strstr(err.msg, why_part))
        fail_msg("scan error '%s' does not mention '%s'", err.msg, why_part);
    assert_false(unpacks(s, req->b, req->n, NULL));
}

/* ---- cases ------------------------------------------------------------------------------- */

/* A valid request followed by a field whose length prefix is a 6-byte varint (0): protobuf-c reads
 * length prefixes in 5 bytes at most. It was acknowledged, then undecodable by every processor. */
static void test_six_byte_length_prefix(void **state)
{
    (void)state;
    struct bb req;
    one_span_request(&req, "chat", NULL);
    static const uint8_t tail[] = {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    put(&req, tail, sizeof tail);
    expect_refused_by_both(SIGNAL_TRACES, &req, "bad length");
    /* A 5-byte non-minimal prefix is still fine for both. */
    one_span_request(&req, "chat", NULL);
    static const uint8_t ok[] = {0x0a, 0x80, 0x80, 0x80, 0x80, 0x00};
    put(&req, ok, sizeof ok);
    assert_true(check_agree(SIGNAL_TRACES, req.b, req.n));
}

/* Keys of 6 bytes: refused by both; a 5-byte key (non-minimal) is accepted by both. */
static void test_key_length(void **state)
{
    (void)state;
    struct bb req;
    one_span_request(&req, "chat", NULL);
    static const uint8_t six[] = {0xc8, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01}; /* field 25 varint */
    put(&req, six, sizeof six);
    expect_refused_by_both(SIGNAL_TRACES, &req, "bad field key");

    struct bb extra = {.n = 0};
    static const uint8_t five[] = {0xb0, 0x80, 0x80, 0x80, 0x00, 0x02}; /* Span.kind = 2, 5-byte key */
    put(&extra, five, sizeof five);
    one_span_request(&req, "chat", &extra);
    assert_true(check_agree(SIGNAL_TRACES, req.b, req.n));
}

/* A value varint of 11 bytes is refused by both; 10 bytes is fine. */
static void test_value_varint_length(void **state)
{
    (void)state;
    struct bb extra = {.n = 0}, req;
    put_key(&extra, 6, 0);
    static const uint8_t ten[] = {0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    put(&extra, ten, sizeof ten);
    one_span_request(&req, "chat", &extra);
    assert_true(check_agree(SIGNAL_TRACES, req.b, req.n));

    extra.n = 0;
    put_key(&extra, 6, 0);
    static const uint8_t eleven[] = {0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    put(&extra, eleven, sizeof eleven);
    one_span_request(&req, "chat", &extra);
    expect_refused_by_both(SIGNAL_TRACES, &req, "bad varint");
}

/* KeyValue.value twice with empty AnyValues: protobuf-c fails merging two unset oneofs. The
 * scanner refuses every repeated singular message field, so no stage can disagree. */
static void test_duplicate_singular_message(void **state)
{
    (void)state;
    struct bb kv = {.n = 0}, empty = {.n = 0}, extra = {.n = 0}, req;
    put_str(&kv, 1, "k");
    put_msg(&kv, 2, &empty);
    put_msg(&kv, 2, &empty);
    put_msg(&extra, 9, &kv);
    one_span_request(&req, "chat", &extra);
    expect_refused_by_both(SIGNAL_TRACES, &req, "appears twice");

    /* Span.status twice: protobuf-c merges these, the scanner refuses (the stricter of the two). */
    struct bb st = {.n = 0};
    put_u64(&st, 3, 2);
    extra.n = 0;
    put_msg(&extra, 15, &st);
    put_msg(&extra, 15, &st);
    one_span_request(&req, "chat", &extra);
    struct otlp_scan_result r;
    struct error err = {0};
    assert_int_not_equal(otlp_scan(SIGNAL_TRACES, req.b, req.n, &r, &err), 0);
    assert_non_null(strstr(err.msg, "'status' of Span appears twice"));
    assert_non_null(strstr(err.msg, "Span #1"));
}

/* Singular scalars seen twice: the last wins in protobuf-c as in protobuf. */
static void test_duplicate_scalar_last_wins(void **state)
{
    (void)state;
    struct bb extra = {.n = 0}, req;
    put_str(&extra, 5, "second");
    put_u64(&extra, 6, 1);
    put_u64(&extra, 6, 3);
    one_span_request(&req, "first", &extra);
    assert_true(check_agree(SIGNAL_TRACES, req.b, req.n));
    trace_req *m = (trace_req *)protobuf_c_message_unpack(otlp_request_descriptor(SIGNAL_TRACES),
                                                          NULL, req.n, req.b);
    assert_non_null(m);
    const Opentelemetry__Proto__Trace__V1__Span *sp = m->resource_spans[0]->scope_spans[0]->spans[0];
    assert_string_equal(sp->name, "second");
    assert_int_equal(sp->kind, 3);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* Metric with a gauge of 3 points, then a sum of 2: the oneof's last member wins, and the scan
 * counts 2 points, as unpack holds. The same member twice is a repeated singular message. */
static void test_oneof_last_wins_counted_once(void **state)
{
    (void)state;
    struct bb g = {.n = 0}, s = {.n = 0}, body = {.n = 0}, req;
    points(&g, 3);
    points(&s, 2);
    put_msg(&body, 5, &g);
    put_msg(&body, 7, &s);
    metric_request(&req, &body);
    struct otlp_scan_result r;
    struct error err = {0};
    assert_int_equal(otlp_scan(SIGNAL_METRICS, req.b, req.n, &r, &err), 0);
    assert_int_equal(r.items, 2);
    assert_true(check_agree(SIGNAL_METRICS, req.b, req.n));
    metric_req *m = (metric_req *)protobuf_c_message_unpack(otlp_request_descriptor(SIGNAL_METRICS),
                                                            NULL, req.n, req.b);
    assert_int_equal(m->resource_metrics[0]->scope_metrics[0]->metrics[0]->data_case,
                     OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
    protobuf_c_message_free_unpacked(&m->base, NULL);

    /* sum, gauge, sum: still only the last one's points. */
    body.n = 0;
    put_msg(&body, 7, &s);
    put_msg(&body, 5, &g);
    struct bb s1 = {.n = 0};
    points(&s1, 1);
    body.n = 0;
    put_msg(&body, 5, &g);
    put_msg(&body, 7, &s1);
    metric_request(&req, &body);
    assert_int_equal(otlp_scan(SIGNAL_METRICS, req.b, req.n, &r, &err), 0);
    assert_int_equal(r.items, 1);
    assert_true(check_agree(SIGNAL_METRICS, req.b, req.n));

    body.n = 0;
    put_msg(&body, 5, &g);
    put_msg(&body, 5, &g);
    metric_request(&req, &body);
    assert_int_not_equal(otlp_scan(SIGNAL_METRICS, req.b, req.n, &r, &err), 0);
    assert_non_null(strstr(err.msg, "'gauge' of Metric appears twice"));
}

/* Wire types that do not match the declared type are refused by both. */
static void test_wrong_wire_types(void **state)
{
    (void)state;
    struct bb extra = {.n = 0}, req;
    put_key(&extra, 5, 0); /* name as a varint */
    put_varint(&extra, 7);
    one_span_request(&req, "chat", &extra);
    expect_refused_by_both(SIGNAL_TRACES, &req, "wire type");

    extra.n = 0;
    put_bytes(&extra, 6, "ab", 2); /* kind (enum) length-delimited */
    one_span_request(&req, "chat", &extra);
    expect_refused_by_both(SIGNAL_TRACES, &req, "wire type");

    extra.n = 0;
    put_key(&extra, 7, 0); /* start time (fixed64) as a varint */
    put_varint(&extra, 7);
    one_span_request(&req, "chat", &extra);
    expect_refused_by_both(SIGNAL_TRACES, &req, "wire type");

    extra.n = 0;
    put_key(&extra, 40, 3); /* a group, unknown field */
    one_span_request(&req, "chat", &extra);
    expect_refused_by_both(SIGNAL_TRACES, &req, "wire type 3");
}

/* Invalid UTF-8 and NUL in strings: accepted, reported, repaired to U+FFFD. The repaired request
 * scans clean with the same count and decodes to the replacement text. */
static void test_bad_strings_repaired(void **state)
{
    (void)state;
    struct bb kv = {.n = 0}, av = {.n = 0}, extra = {.n = 0}, req;
    put_bytes(&av, 1, "v\xff", 2);            /* AnyValue.string_value: a lone 0xff */
    put_bytes(&kv, 1, "k\x00z", 3);           /* KeyValue.key with a NUL */
    put_msg(&kv, 2, &av);
    put_msg(&extra, 9, &kv);
    struct bb sp = {.n = 0};
    static const char name[] = "a\xc3(b\xed\xa0\x80" "c"; /* bad continuation; a surrogate */
    span(&sp, "x", &extra);
    put_bytes(&sp, 5, name, sizeof name - 1);  /* name again: the last wins, and it is bad */
    trace_request(&req, &sp, 1);

    struct otlp_scan_result r;
    struct error err = {0};
    assert_int_equal(otlp_scan(SIGNAL_TRACES, req.b, req.n, &r, &err), 0);
    assert_int_equal(r.items, 1);
    assert_int_equal(r.bad_strings, 3);
    assert_non_null(strstr(r.bad_string_where, "Span"));

    uint8_t *fixed;
    size_t flen;
    uint64_t n = 0;
    assert_int_equal(otlp_repair_strings(SIGNAL_TRACES, req.b, req.n, &fixed, &flen, &n, &err), 0);
    assert_int_equal(n, 3);
    struct otlp_scan_result r2;
    assert_int_equal(otlp_scan(SIGNAL_TRACES, fixed, flen, &r2, &err), 0);
    assert_int_equal(r2.items, 1);
    assert_int_equal(r2.bad_strings, 0);
    trace_req *m = (trace_req *)protobuf_c_message_unpack(otlp_request_descriptor(SIGNAL_TRACES),
                                                          NULL, flen, fixed);
    assert_non_null(m);
    const Opentelemetry__Proto__Trace__V1__Span *s = m->resource_spans[0]->scope_spans[0]->spans[0];
    assert_string_equal(s->name, "a\xEF\xBF\xBD(b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "c");
    assert_string_equal(s->attributes[0]->key, "k\xEF\xBF\xBDz");
    assert_string_equal(s->attributes[0]->value->string_value, "v\xEF\xBF\xBD");
    protobuf_c_message_free_unpacked(&m->base, NULL);

    /* batch_from_wire repairs too, and a valid request is left byte for byte. */
    struct batch *b = batch_from_wire(SIGNAL_TRACES, req.b, req.n, &err);
    assert_non_null(b);
    assert_int_equal(b->wire_len, flen);
    assert_memory_equal(b->wire, fixed, flen);
    batch_unref(b);
    free(fixed);

    one_span_request(&req, "caf\xc3\xa9 \xf0\x9f\x98\x80", NULL); /* valid 2- and 4-byte forms */
    assert_int_equal(otlp_scan(SIGNAL_TRACES, req.b, req.n, &r, &err), 0);
    assert_int_equal(r.bad_strings, 0);
}

/* The OTLP/JSON path gives the same text for the same bad bytes (\u0000 included). */
static void test_json_repairs_the_same_way(void **state)
{
    (void)state;
    static const char json[] =
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{"
        "\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
        "\"name\":\"a\\u0000b\xff" "c\"}]}]}]}";
    uint8_t *wire = NULL;
    size_t wlen = 0;
    struct error err = {0};
    assert_int_equal(otlp_json_to_wire(SIGNAL_TRACES, json, sizeof json - 1, &wire, &wlen, &err), 0);
    trace_req *m = (trace_req *)protobuf_c_message_unpack(otlp_request_descriptor(SIGNAL_TRACES),
                                                          NULL, wlen, wire);
    assert_non_null(m);
    assert_string_equal(m->resource_spans[0]->scope_spans[0]->spans[0]->name,
                        "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
    protobuf_c_message_free_unpacked(&m->base, NULL);
    free(wire);
}

/* An empty request may come as NULL: valid, no items (and no NULL + 0 for UBSan to flag). */
static void test_empty_null(void **state)
{
    (void)state;
    struct otlp_scan_result r;
    struct error err = {0};
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        assert_int_equal(otlp_scan((enum signal)s, NULL, 0, &r, &err), 0);
        assert_int_equal(r.items, 0);
        assert_int_equal(r.bad_strings, 0);
    }
}

/* Seeded mutations of valid requests of each signal (flips, inserted varint bytes, cuts,
 * duplicated slices): every variant keeps the rule, and some are accepted, some refused. */
static void test_mutations_agree(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t accepted = 0, refused = 0;
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        size_t base_len = 0;
        uint8_t *base = s == SIGNAL_TRACES ? tu_make_traces(12, 16, "chat", &base_len)
                        : s == SIGNAL_METRICS ? tu_make_metrics(4, &base_len)
                                              : tu_make_logs(4, &base_len);
        assert_non_null(base);
        for (int it = 0; it < 4000; it++) {
            uint8_t buf[8192];
            size_t n = base_len < sizeof buf ? base_len : sizeof buf;
            memcpy(buf, base, n);
            int edits = 1 + (int)(x % 3);
            for (int e = 0; e < edits; e++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                size_t at = n ? (size_t)(x >> 8) % n : 0;
                switch ((x >> 3) % 5) {
                case 0: buf[at] ^= (uint8_t)(1u << (x >> 40) % 8); break;
                case 1: buf[at] = (uint8_t)(x >> 24); break;
                case 2: /* insert a continuation byte: lengthens a varint */
                    if (n + 1 < sizeof buf) {
                        memmove(buf + at + 1, buf + at, n - at);
                        buf[at] = 0x80;
                        n++;
                    }
                    break;
                case 3: n = at; break;
                default: { /* duplicate a slice */
                    size_t len = 1 + (size_t)(x >> 33) % 24;
                    if (at + len <= n && n + len < sizeof buf) {
                        memmove(buf + at + len, buf + at, n - at);
                        n += len;
                    }
                }
                }
            }
            if (check_agree((enum signal)s, buf, n))
                accepted++;
            else
                refused++;
        }
        free(base);
    }
    assert_true(accepted > 100);
    assert_true(refused > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_six_byte_length_prefix),
        cmocka_unit_test(test_key_length),
        cmocka_unit_test(test_value_varint_length),
        cmocka_unit_test(test_duplicate_singular_message),
        cmocka_unit_test(test_duplicate_scalar_last_wins),
        cmocka_unit_test(test_oneof_last_wins_counted_once),
        cmocka_unit_test(test_wrong_wire_types),
        cmocka_unit_test(test_bad_strings_repaired),
        cmocka_unit_test(test_json_repairs_the_same_way),
        cmocka_unit_test(test_empty_null),
        cmocka_unit_test(test_mutations_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
