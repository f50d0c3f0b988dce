/* test_loadbalancing.c — the loadbalancing exporter: its hash ring reproduces the Collector's own
 * test expectations (so a mixed tier of Collectors and llmotlp routes a key to the same backend),
 * the split of a request per routing key keeps every item exactly once and each trace whole, the
 * config refusals name their file:line, the resolvers' lists are sorted and compared, and data
 * queued for a backend that leaves the ring reaches the remaining backend through a real gRPC
 * receiver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/config.h"
#include "core/otlp_json.h"
#include "core/service.h"
#include "core/telemetry.h"
#include "exporters/loadbalancing/loadbalancing.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "tests/unit/testutil.h"

extern const struct component_factory otlp_receiver_factory;
int otlp_receiver_grpc_port(void *self); /* receivers/otlp/otlp_receiver.h, whose keepalive
                                         * struct clashes with the otlp exporter's */

/* ---- the ring: the Collector's consistent_hashing_test.go expectations ----------------------- */

static void test_ring_positions_match_collector(void **state)
{
    (void)state;
    /* TestPositionsForEndpoints (weight 5) */
    const char *one[] = {"endpoint-1"};
    struct lb_ring *r = lb_ring_new(one, 1, 5);
    const uint32_t want1[] = {1401, 4175, 14133, 17836, 21667};
    assert_int_equal(r->n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(r->items[i].pos, want1[i]);
        assert_int_equal(r->items[i].endpoint, 0);
    }
    lb_ring_free(r);

    const char *dup[] = {"endpoint-1", "endpoint-1"};
    r = lb_ring_new(dup, 2, 5);
    assert_int_equal(r->n, 5); /* no duplicate positions */
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(r->items[i].pos, want1[i]);
    lb_ring_free(r);

    const char *two[] = {"endpoint-1", "endpoint-2"};
    r = lb_ring_new(two, 2, 5);
    const uint32_t want2[] = {1401, 4175, 10240, 14133, 15002, 17836, 21263, 21667, 26806, 27020};
    const uint32_t who2[] = {0, 0, 1, 0, 1, 0, 1, 0, 1, 1};
    assert_int_equal(r->n, 10);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(r->items[i].pos, want2[i]);
        assert_int_equal(r->items[i].endpoint, who2[i]);
    }
    lb_ring_free(r);

    /* TestNewHashRing: 100 positions per endpoint */
    r = lb_ring_new(two, 2, LB_RING_WEIGHT);
    assert_int_equal(r->n, 2 * LB_RING_WEIGHT);
    lb_ring_free(r);
}

static void test_ring_endpoint_for_matches_collector(void **state)
{
    (void)state;
    /* TestEndpointFor: ring of endpoint-1, endpoint-2 (default weight) */
    const char *two[] = {"endpoint-1", "endpoint-2"};
    struct lb_ring *r = lb_ring_new(two, 2, LB_RING_WEIGHT);
    const uint8_t a[] = {1, 2, 0, 0}, b[] = {128, 128, 0, 0};
    assert_int_equal(lb_ring_lookup(r, a, sizeof a), 0);
    assert_int_equal(lb_ring_lookup(r, b, sizeof b), 1);
    assert_int_equal(lb_ring_lookup(r, (const uint8_t *)"ad-service-7", 12), 0);
    assert_int_equal(lb_ring_lookup(r, (const uint8_t *)"get-recommendations-1", 21), 1);
    lb_ring_free(r);
}

static void test_ring_search_matches_collector(void **state)
{
    (void)state;
    /* TestBinarySearch: the next position at or after the one asked, wrapping to the first */
    const uint32_t pos[] = {14, 25, 33, 47, 56, 121, 134, 158, 240, 270, 350};
    struct lb_ring r = {.n = 11, .items = calloc(11, sizeof(struct lb_ring_item))};
    for (uint32_t i = 0; i < 11; i++)
        r.items[i] = (struct lb_ring_item){.pos = pos[i], .endpoint = i};
    const uint32_t asked[] = {85, 14, 351, 270, 271}, want[] = {121, 14, 14, 270, 350};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(pos[lb_ring_find(&r, asked[i])], want[i]);
    free(r.items);
    struct lb_ring empty = {0};
    assert_int_equal(lb_ring_find(&empty, 5), -1);
}

/* An oracle written from the algorithm's description, independent of lb_ring's structure: scan
 * every position of every endpoint (in sorted endpoint order, first taker wins) for the smallest
 * one at or after the key's, else the smallest of all. */
static int oracle(const char *const *eps, size_t n, const uint8_t *key, size_t len)
{
    uint32_t target = (uint32_t)crc32(0, key, (uInt)len) % 36000u;
    static int owner[36000];
    for (size_t p = 0; p < 36000; p++)
        owner[p] = -1;
    for (size_t e = 0; e < n; e++)
        for (int i = 0; i < 100; i++) {
            uint8_t buf[256];
            size_t l = strlen(eps[e]);
            memcpy(buf, eps[e], l);
            buf[l] = (uint8_t)i;
            uint32_t p = (uint32_t)crc32(0, buf, (uInt)(l + 1)) % 36000u;
            if (owner[p] < 0)
                owner[p] = (int)e;
        }
    for (uint32_t p = target; p < 36000; p++)
        if (owner[p] >= 0)
            return owner[p];
    for (uint32_t p = 0; p < target; p++)
        if (owner[p] >= 0)
            return owner[p];
    return -1;
}

static void test_ring_against_oracle_three_endpoints(void **state)
{
    (void)state;
    const char *eps[] = {"endpoint-1", "endpoint-2", "endpoint-3"};
    struct lb_ring *r = lb_ring_new(eps, 3, LB_RING_WEIGHT);
    int seen[3] = {0};
    for (int t = 0; t < 300; t++) {
        uint8_t tid[16];
        for (int i = 0; i < 16; i++)
            tid[i] = (uint8_t)(t * 31 + i * 7 + (t >> 3));
        int got = lb_ring_lookup(r, tid, 16);
        assert_int_equal(got, oracle(eps, 3, tid, 16));
        seen[got]++;
    }
    /* each endpoint owns a share */
    for (int i = 0; i < 3; i++)
        assert_true(seen[i] > 30);
    lb_ring_free(r);
}

/* ---- endpoint lists -------------------------------------------------------------------------- */

static void test_endpoints_sorted_and_compared(void **state)
{
    (void)state;
    const char *in[] = {"b:4317", "a:4317", "c", "a:4317"};
    struct lb_endpoints e, f;
    assert_int_equal(lb_endpoints_from(&e, in, 4), 0);
    assert_int_equal(e.n, 3);
    assert_string_equal(e.items[0], "a:4317");
    assert_string_equal(e.items[1], "b:4317");
    assert_string_equal(e.items[2], "c");
    const char *in2[] = {"c", "b:4317", "a:4317"};
    assert_int_equal(lb_endpoints_from(&f, in2, 3), 0);
    assert_true(lb_endpoints_equal(&e, &f));
    lb_endpoints_free(&f);
    const char *in3[] = {"c", "b:4317"};
    assert_int_equal(lb_endpoints_from(&f, in3, 2), 0);
    assert_false(lb_endpoints_equal(&e, &f));
    lb_endpoints_free(&f);
    lb_endpoints_free(&e);

    char buf[64];
    assert_string_equal(lb_endpoint_with_port("10.0.0.1", buf, sizeof buf), "10.0.0.1:4317");
    assert_string_equal(lb_endpoint_with_port("10.0.0.1:55690", buf, sizeof buf),
                        "10.0.0.1:55690");
}

static void test_dns_resolves_localhost(void **state)
{
    (void)state;
    struct lb_endpoints e;
    struct error err = {0};
    assert_int_equal(lb_endpoints_resolve(&e, "127.0.0.1", "4317", &err), 0);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.items[0], "127.0.0.1:4317");
    lb_endpoints_free(&e);
    /* no port: the address alone, as the Collector hashes it */
    assert_int_equal(lb_endpoints_resolve(&e, "127.0.0.1", "", &err), 0);
    assert_string_equal(e.items[0], "127.0.0.1");
    lb_endpoints_free(&e);
    assert_int_equal(lb_endpoints_resolve(&e, "localhost", "55690", &err), 0);
    bool v4 = false;
    for (size_t i = 0; i < e.n; i++) {
        v4 |= strcmp(e.items[i], "127.0.0.1:55690") == 0;
        if (i)
            assert_true(strcmp(e.items[i - 1], e.items[i]) < 0);
    }
    assert_true(v4);
    lb_endpoints_free(&e);
    assert_int_equal(lb_endpoints_resolve(&e, "no-such-host.invalid", "4317", &err), -1);
    assert_non_null(strstr(err.msg, "no-such-host.invalid"));
}

/* ---- split ----------------------------------------------------------------------------------- */

/* A request of nres resources (service.name svc-<r>, one without when `anon`), two scopes each,
 * spans of ntraces traces dealt round robin over resources and scopes: a trace spans several
 * resources. Span i of trace t has trace ID byte 0 = t and span ID (t, i). */
static struct batch *make_traces(int ntraces, int spans_per_trace, int nres, bool anon)
{
    int total = ntraces * spans_per_trace;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = calloc((size_t)nres, sizeof *rs);
    Opentelemetry__Proto__Trace__V1__ResourceSpans **rsp = calloc((size_t)nres, sizeof *rsp);
    Opentelemetry__Proto__Resource__V1__Resource *res = calloc((size_t)nres, sizeof *res);
    Opentelemetry__Proto__Common__V1__KeyValue *kv = calloc((size_t)nres, sizeof *kv);
    Opentelemetry__Proto__Common__V1__KeyValue **kvp = calloc((size_t)nres, sizeof *kvp);
    Opentelemetry__Proto__Common__V1__AnyValue *av = calloc((size_t)nres, sizeof *av);
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = calloc((size_t)nres * 2, sizeof *ss);
    Opentelemetry__Proto__Trace__V1__ScopeSpans **ssp = calloc((size_t)nres * 2, sizeof *ssp);
    Opentelemetry__Proto__Trace__V1__Span *sp = calloc((size_t)total, sizeof *sp);
    Opentelemetry__Proto__Trace__V1__Span **spp = calloc((size_t)total, sizeof *spp);
    uint8_t *ids = calloc((size_t)total, 24);
    char (*names)[16] = calloc((size_t)nres, 16);
    for (int r = 0; r < nres; r++) {
        opentelemetry__proto__trace__v1__resource_spans__init(&rs[r]);
        opentelemetry__proto__resource__v1__resource__init(&res[r]);
        opentelemetry__proto__common__v1__key_value__init(&kv[r]);
        opentelemetry__proto__common__v1__any_value__init(&av[r]);
        snprintf(names[r], 16, "svc-%d", r);
        av[r].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        av[r].string_value = names[r];
        kv[r].key = "service.name";
        kv[r].value = &av[r];
        kvp[r] = &kv[r];
        if (!(anon && r == nres - 1)) {
            res[r].n_attributes = 1;
            res[r].attributes = &kvp[r];
        }
        rs[r].resource = &res[r];
        rs[r].n_scope_spans = 2;
        rs[r].scope_spans = &ssp[2 * r];
        rsp[r] = &rs[r];
        for (int s = 0; s < 2; s++) {
            opentelemetry__proto__trace__v1__scope_spans__init(&ss[2 * r + s]);
            ssp[2 * r + s] = &ss[2 * r + s];
        }
    }
    /* count spans per scope, then place */
    for (int k = 0; k < total; k++)
        ss[k % (nres * 2)].n_spans++;
    size_t off = 0;
    for (int s = 0; s < nres * 2; s++) {
        ss[s].spans = &spp[off];
        off += ss[s].n_spans;
        ss[s].n_spans = 0;
    }
    for (int k = 0; k < total; k++) {
        int t = k % ntraces, i = k / ntraces;
        Opentelemetry__Proto__Trace__V1__Span *x = &sp[k];
        opentelemetry__proto__trace__v1__span__init(x);
        uint8_t *id = ids + (size_t)k * 24;
        memset(id, 0, 24);
        id[0] = (uint8_t)t;
        id[1] = (uint8_t)(t * 37);
        id[15] = 0x5a;
        id[16] = (uint8_t)t;
        id[17] = (uint8_t)i;
        id[23] = 1;
        x->trace_id = (ProtobufCBinaryData){.data = id, .len = 16};
        x->span_id = (ProtobufCBinaryData){.data = id + 16, .len = 8};
        x->name = "op";
        Opentelemetry__Proto__Trace__V1__ScopeSpans *dst = &ss[k % (nres * 2)];
        dst->spans[dst->n_spans++] = x;
    }
    req.n_resource_spans = (size_t)nres;
    req.resource_spans = rsp;
    struct batch *b = tu_pack_batch(SIGNAL_TRACES, &req.base);
    free(rs), free(rsp), free(res), free(kv), free(kvp), free(av), free(ss), free(ssp), free(sp);
    free(spp), free(ids), free(names);
    return b;
}

static void test_split_by_trace_id(void **state)
{
    (void)state;
    const char *eps[] = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"};
    struct lb_ring *r = lb_ring_new(eps, 3, LB_RING_WEIGHT);
    const int NT = 40, NS = 5;
    struct batch *b = make_traces(NT, NS, 3, false);
    struct lb_part *parts;
    size_t n;
    uint64_t dropped;
    struct error err = {0};
    assert_int_equal(lb_route_split(b, LB_KEY_TRACE_ID, r, &parts, &n, &dropped, &err), 0);
    assert_int_equal(dropped, 0);
    assert_int_equal(n, 3); /* 40 traces land on all three */
    int part_of_trace[256];
    for (int i = 0; i < 256; i++)
        part_of_trace[i] = -1;
    int seen_span[256][8] = {{0}};
    uint64_t items = 0;
    for (size_t p = 0; p < n; p++) {
        assert_true(parts[p].batch != b);
        items += parts[p].batch->items;
        const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *q =
            (const void *)batch_decoded(parts[p].batch, &err);
        assert_non_null(q);
        for (size_t i = 0; i < q->n_resource_spans; i++) {
            const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = q->resource_spans[i];
            assert_int_equal(rs->resource->n_attributes, 1); /* resource kept */
            for (size_t j = 0; j < rs->n_scope_spans; j++)
                for (size_t k = 0; k < rs->scope_spans[j]->n_spans; k++) {
                    const Opentelemetry__Proto__Trace__V1__Span *s = rs->scope_spans[j]->spans[k];
                    int t = s->trace_id.data[0];
                    /* the part is the ring's choice for the trace ID */
                    assert_int_equal(parts[p].endpoint, lb_ring_lookup(r, s->trace_id.data, 16));
                    /* each trace whole in one part */
                    if (part_of_trace[t] < 0)
                        part_of_trace[t] = (int)p;
                    assert_int_equal(part_of_trace[t], (int)p);
                    seen_span[t][s->span_id.data[1]]++;
                }
        }
    }
    assert_int_equal(items, (uint64_t)(NT * NS));
    for (int t = 0; t < NT; t++)
        for (int i = 0; i < NS; i++)
            assert_int_equal(seen_span[t][i], 1); /* every span once */
    lb_parts_free(parts, n);
    batch_unref(b);

    /* one trace only: the request goes as it arrived, not re-encoded */
    b = make_traces(1, 4, 2, false);
    assert_int_equal(lb_route_split(b, LB_KEY_TRACE_ID, r, &parts, &n, &dropped, &err), 0);
    assert_int_equal(n, 1);
    assert_ptr_equal(parts[0].batch, b);
    lb_parts_free(parts, n);
    batch_unref(b);
    lb_ring_free(r);
}

static void test_split_by_service(void **state)
{
    (void)state;
    const char *eps[] = {"a:4317", "b:4317", "c:4317"};
    struct lb_ring *r = lb_ring_new(eps, 3, LB_RING_WEIGHT);
    struct batch *b = make_traces(10, 3, 6, true); /* the last resource has no service.name */
    struct lb_part *parts;
    size_t n;
    uint64_t dropped;
    struct error err = {0};
    assert_int_equal(lb_route_split(b, LB_KEY_SERVICE, r, &parts, &n, &dropped, &err), 0);
    assert_int_equal(dropped, 4); /* 30 spans dealt over 12 scopes: the last resource's two hold 4 */
    assert_int_equal(atomic_load(&b->rejected), 4);
    uint64_t items = 0;
    for (size_t p = 0; p < n; p++) {
        items += parts[p].batch->items;
        const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *q =
            (const void *)batch_decoded(parts[p].batch, &err);
        for (size_t i = 0; i < q->n_resource_spans; i++) {
            const char *svc = q->resource_spans[i]->resource->attributes[0]->value->string_value;
            assert_int_equal(parts[p].endpoint,
                             lb_ring_lookup(r, (const uint8_t *)svc, strlen(svc)));
        }
    }
    assert_int_equal(items, 26);
    lb_parts_free(parts, n);
    /* a key that does not apply to the signal is refused */
    assert_int_equal(lb_route_split(b, LB_KEY_METRIC, r, &parts, &n, &dropped, &err), -1);
    assert_int_equal(err.code, 1);
    batch_unref(b);
    lb_ring_free(r);
}

static void test_split_metrics_by_name(void **state)
{
    (void)state;
    const char *eps[] = {"a:4317", "b:4317"};
    struct lb_ring *r = lb_ring_new(eps, 2, LB_RING_WEIGHT);
    Opentelemetry__Proto__Metrics__V1__Metric m[8];
    Opentelemetry__Proto__Metrics__V1__Metric *mp[8];
    Opentelemetry__Proto__Metrics__V1__Gauge g[8];
    Opentelemetry__Proto__Metrics__V1__NumberDataPoint dp[8], *dpp[8];
    char names[8][16];
    for (int i = 0; i < 8; i++) {
        opentelemetry__proto__metrics__v1__metric__init(&m[i]);
        opentelemetry__proto__metrics__v1__gauge__init(&g[i]);
        opentelemetry__proto__metrics__v1__number_data_point__init(&dp[i]);
        dp[i].value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        dp[i].as_int = i;
        dpp[i] = &dp[i];
        g[i].n_data_points = 1;
        g[i].data_points = &dpp[i];
        snprintf(names[i], 16, "metric.%d", i);
        m[i].name = names[i];
        m[i].data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
        m[i].gauge = &g[i];
        mp[i] = &m[i];
    }
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm =
        OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT;
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *smp = &sm;
    sm.n_metrics = 8;
    sm.metrics = mp;
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm =
        OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rmp = &rm;
    rm.n_scope_metrics = 1;
    rm.scope_metrics = &smp;
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
    req.n_resource_metrics = 1;
    req.resource_metrics = &rmp;
    struct batch *b = tu_pack_batch(SIGNAL_METRICS, &req.base);
    struct lb_part *parts;
    size_t n;
    uint64_t dropped;
    struct error err = {0};
    assert_int_equal(lb_route_split(b, LB_KEY_METRIC, r, &parts, &n, &dropped, &err), 0);
    uint64_t items = 0;
    int seen[8] = {0};
    for (size_t p = 0; p < n; p++) {
        items += parts[p].batch->items;
        const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *q =
            (const void *)batch_decoded(parts[p].batch, &err);
        const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *s =
            q->resource_metrics[0]->scope_metrics[0];
        for (size_t k = 0; k < s->n_metrics; k++) {
            const char *nm = s->metrics[k]->name;
            assert_int_equal(parts[p].endpoint, lb_ring_lookup(r, (const uint8_t *)nm, strlen(nm)));
            seen[atoi(nm + 7)]++;
        }
    }
    assert_int_equal(items, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(seen[i], 1);
    lb_parts_free(parts, n);
    batch_unref(b);
    lb_ring_free(r);
}

/* ---- routing_key resource and streamID: the Collector's identities ---------------------------- */

/* xxHash's own sanity vectors (xsum_sanity_check.c) over its generated buffer: the libxxhash we
 * link computes XXH64 as specified, which is what cespare/xxhash (pdatautil's hash) implements. */
static void test_xxh64_and_fnv_reference_vectors(void **state)
{
    (void)state;
    uint8_t buf[222];
    uint64_t gen = 2654435761ULL;
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t)(gen >> 56);
        gen *= 11400714785074694797ULL;
    }
    static const struct {
        size_t len;
        uint64_t seed, want;
    } v[] = {
        {0, 0, 0xEF46DB3751D8E999ULL},   {0, 2654435761ULL, 0xAC75FDA2929B17EFULL},
        {1, 0, 0xE934A84ADB052768ULL},   {1, 2654435761ULL, 0x5014607643A9B4C3ULL},
        {4, 0, 0x9136A0DCA57457EEULL},   {14, 0, 0x8282DCC4994E35C8ULL},
        {14, 2654435761ULL, 0xC3BD6BF63DEB6DF0ULL}, {222, 0, 0xB641AE8CB691C174ULL},
        {222, 2654435761ULL, 0x20CB8AB7AE10C14AULL},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        assert_true(XXH64(buf, v[i].len, v[i].seed) == v[i].want);
    /* FNV-1a 64, Go's hash/fnv golden values */
    assert_true(lb_fnv64a(LB_FNV64A_INIT, "", 0) == 0xcbf29ce484222325ULL);
    assert_true(lb_fnv64a(LB_FNV64A_INIT, "a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(lb_fnv64a(LB_FNV64A_INIT, "ab", 2) == 0x089c4407b545986aULL);
    assert_true(lb_fnv64a(LB_FNV64A_INIT, "abc", 3) == 0xe71fa2190541574bULL);
    /* fed in pieces = fed at once (the identities feed the state field by field) */
    assert_true(lb_fnv64a(lb_fnv64a(LB_FNV64A_INIT, "a", 1), "bc", 2) ==
                lb_fnv64a(LB_FNV64A_INIT, "abc", 3));
    char k[LB_ID_KEY_MAX];
    assert_int_equal(lb_id_key(k, "stream", 0x0abcULL), 10);
    assert_string_equal(k, "stream/abc"); /* Go's %x: no padding */
}

/* pdatautil.MapHash, its buffer written out by hand from hash.go: keys sorted, 0xf4 before each
 * key, a tag per value (0xf7 string, 0xfa int LE, 0xfb double bits LE, 0xf8 true, 0xfc..0xfd map,
 * 0xfe..0xff slice, 0xf6 bytes, 0xf5 empty), a duplicate key written twice with its first
 * value; then XXH64 of the buffer and of the buffer + 0xf3, little-endian. */
static void test_map_hash_serialisation(void **state)
{
    (void)state;
    struct arena *a = arena_new(4096);
    Opentelemetry__Proto__Common__V1__AnyValue arr_v[2], nest_v[2], *arr_p[2];
    Opentelemetry__Proto__Common__V1__ArrayValue arr = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
    Opentelemetry__Proto__Common__V1__KeyValueList kvl =
        OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE_LIST__INIT;
    Opentelemetry__Proto__Common__V1__KeyValue nest_kv[2], *nest_p[2];
    for (int i = 0; i < 2; i++) {
        opentelemetry__proto__common__v1__any_value__init(&arr_v[i]);
        opentelemetry__proto__common__v1__any_value__init(&nest_v[i]);
        opentelemetry__proto__common__v1__key_value__init(&nest_kv[i]);
        arr_p[i] = &arr_v[i];
        nest_p[i] = &nest_kv[i];
    }
    arr_v[0].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
    arr_v[0].bool_value = 1;
    arr_v[1].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
    arr_v[1].double_value = 1.5; /* 0x3ff8000000000000 */
    arr.n_values = 2;
    arr.values = arr_p;
    static uint8_t one = 1;
    nest_kv[0].key = "z";
    nest_v[0].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
    nest_v[0].bytes_value = (ProtobufCBinaryData){.len = 1, .data = &one};
    nest_kv[0].value = &nest_v[0];
    nest_kv[1].key = "y"; /* no value: pdata's empty value */
    kvl.n_values = 2;
    kvl.values = nest_p;
    Opentelemetry__Proto__Common__V1__AnyValue av[2];
    Opentelemetry__Proto__Common__V1__KeyValue kv[2];
    for (int i = 0; i < 2; i++) {
        opentelemetry__proto__common__v1__any_value__init(&av[i]);
        opentelemetry__proto__common__v1__key_value__init(&kv[i]);
        kv[i].value = &av[i];
    }
    kv[0].key = "c";
    av[0].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
    av[0].array_value = &arr;
    kv[1].key = "d";
    av[1].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
    av[1].kvlist_value = &kvl;
    Opentelemetry__Proto__Common__V1__KeyValue *kvs[] = {
        tu_kv_int(a, "b", -2), &kv[1], tu_kv_str(a, "a", "x"), &kv[0], tu_kv_str(a, "a", "dup")};
    static const uint8_t want_buf[] = {
        0xf4, 'a', 0xf7, 'x',                                         /* a: "x" */
        0xf4, 'a', 0xf7, 'x',                                         /* a again: first value */
        0xf4, 'b', 0xfa, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* b: -2 */
        0xf4, 'c', 0xfe, 0xf8, 0xfb, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0xff, /* c: [true, 1.5] */
        0xf4, 'd', 0xfc, 0xf4, 'y', 0xf5, 0xf4, 'z', 0xf6, 0x01, 0xfd,   /* d: {y: -, z: 0x01} */
        0xf3};
    uint64_t h1 = XXH64(want_buf, sizeof want_buf - 1, 0), h2 = XXH64(want_buf, sizeof want_buf, 0);
    uint8_t want[16], got[16];
    for (int i = 0; i < 8; i++) {
        want[i] = (uint8_t)(h1 >> (8 * i));
        want[8 + i] = (uint8_t)(h2 >> (8 * i));
    }
    assert_int_equal(lb_map_hash(kvs, 5, got), 0);
    assert_memory_equal(got, want, 16);
    /* the order the attributes arrive in does not matter; the first duplicate's value does */
    Opentelemetry__Proto__Common__V1__KeyValue *kvs2[] = {kvs[3], kvs[2], kvs[4], kvs[0], kvs[1]};
    assert_int_equal(lb_map_hash(kvs2, 5, got), 0);
    assert_memory_equal(got, want, 16);
    Opentelemetry__Proto__Common__V1__KeyValue *kvs3[] = {kvs[3], kvs[4], kvs[2], kvs[0], kvs[1]};
    assert_int_equal(lb_map_hash(kvs3, 5, got), 0);
    assert_memory_not_equal(got, want, 16);
    /* a buffer past the first 512 bytes (grown on the heap) hashes the same way */
    char big[1500];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = 0;
    Opentelemetry__Proto__Common__V1__KeyValue *kvb[] = {tu_kv_str(a, "k", big)};
    uint8_t big_buf[3 + sizeof big]; /* tags, 1499 bytes, 0xf3 */
    big_buf[0] = 0xf4;
    big_buf[1] = 'k';
    big_buf[2] = 0xf7;
    memcpy(big_buf + 3, big, sizeof big - 1);
    big_buf[sizeof big_buf - 1] = 0xf3;
    h1 = XXH64(big_buf, sizeof big_buf - 1, 0);
    h2 = XXH64(big_buf, sizeof big_buf, 0);
    for (int i = 0; i < 8; i++) {
        want[i] = (uint8_t)(h1 >> (8 * i));
        want[8 + i] = (uint8_t)(h2 >> (8 * i));
    }
    assert_int_equal(lb_map_hash(kvb, 1, got), 0);
    assert_memory_equal(got, want, 16);
    static const uint8_t zero[16];
    assert_int_equal(lb_map_hash(NULL, 0, got), 0); /* no attributes: 16 zeros, no hashing */
    assert_memory_equal(got, zero, 16);
    arena_free(a);
}

/* The input of the Collector's TestConsumeMetrics_TripleEndpoint (exporter/
 * loadbalancingexporter/testdata/metrics/consume_metrics/triple_endpoint/{resource_id,stream_id}),
 * with its ring of endpoint-1..3. The expected endpoints are those of its output.yaml files while
 * the ring took one byte per position index, as in v0.115 and lb_ring (the same files'
 * metric_name/output.yaml of then agrees with lb_ring: first→2, second→3, third→1); later
 * versions of the files follow a ring that takes four bytes, the identities being unchanged. */
#define TRIPLE_SCOPE                                                                               \
    "\"schemaUrl\":\"https://test-scope-schema.com/schema\",\"scope\":{\"name\":"                  \
    "\"MyTestInstrument\",\"version\":\"1.2.3\",\"attributes\":[{\"key\":\"scope_key\","         \
    "\"value\":{\"stringValue\":\"foo\"}}]}"
#define TRIPLE_DP(T, V, K, KV)                                                                     \
    "{\"timeUnixNano\":\"" T "\",\"asDouble\":" V ",\"attributes\":[{\"key\":\"" K "\","          \
    "\"value\":{\"stringValue\":\"" KV "\"}}]}"
#define TRIPLE_SUM(NAME, DPS)                                                                      \
    "{\"name\":\"" NAME "\",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,"           \
    "\"dataPoints\":[" DPS "]}}"
#define TRIPLE_RES(RK, METRICS)                                                                    \
    "{\"schemaUrl\":\"https://test-res-schema.com/schema\",\"resource\":{\"attributes\":"         \
    "[{\"key\":\"resource_key\",\"value\":{\"stringValue\":\"" RK "\"}}]},"                       \
    "\"scopeMetrics\":[{" TRIPLE_SCOPE ",\"metrics\":[" METRICS "]}]}"

static struct batch *json_metrics(const char *json)
{
    uint8_t *wire;
    size_t len;
    struct error err = {0};
    assert_int_equal(otlp_json_to_wire(SIGNAL_METRICS, json, strlen(json), &wire, &len, &err), 0);
    struct batch *b = batch_from_wire(SIGNAL_METRICS, wire, len, &err);
    assert_non_null(b);
    free(wire);
    return b;
}

static const char *const triple_eps[] = {"endpoint-1", "endpoint-2", "endpoint-3"};

static const char *res_key(const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm)
{
    return rm->resource->attributes[0]->value->string_value;
}

static void test_split_metrics_by_resource_matches_collector(void **state)
{
    (void)state;
    struct lb_ring *r = lb_ring_new(triple_eps, 3, LB_RING_WEIGHT);
    /* metric_name/output.yaml of the same time: the ring those files were made with */
    static const char *const names[] = {"first.monotonic.sum", "second.monotonic.sum",
                                        "third.monotonic.sum"};
    static const int name_ep[] = {1, 2, 0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(lb_ring_lookup(r, (const uint8_t *)names[i], strlen(names[i])), name_ep[i]);
    /* resource_id/output.yaml: asdf on endpoint-1, bar on endpoint-2, foo on endpoint-3 */
    struct batch *b = json_metrics(
        "{\"resourceMetrics\":["
        TRIPLE_RES("foo", TRIPLE_SUM("cumulative.monotonic.sum", TRIPLE_DP("50", "333", "aaa", "bbb"))) ","
        TRIPLE_RES("bar", TRIPLE_SUM("cumulative.monotonic.sum", TRIPLE_DP("80", "555", "aaa", "bbb"))) ","
        TRIPLE_RES("asdf", TRIPLE_SUM("cumulative.monotonic.sum", TRIPLE_DP("90", "666", "aaa", "bbb")))
        "]}");
    struct lb_part *parts;
    size_t n;
    uint64_t dropped;
    struct error err = {0};
    assert_int_equal(lb_route_split(b, LB_KEY_RESOURCE, r, &parts, &n, &dropped, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(dropped, 0);
    int seen = 0;
    for (size_t p = 0; p < n; p++) {
        const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *q =
            (const void *)batch_decoded(parts[p].batch, &err);
        assert_non_null(q);
        for (size_t i = 0; i < q->n_resource_metrics; i++) {
            const char *rk = res_key(q->resource_metrics[i]);
            int want = strcmp(rk, "asdf") == 0 ? 0 : strcmp(rk, "bar") == 0 ? 1 : 2;
            assert_int_equal(parts[p].endpoint, want);
            assert_int_equal(q->resource_metrics[i]->scope_metrics[0]->n_metrics, 1);
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    lb_parts_free(parts, n);
    batch_unref(b);
    lb_ring_free(r);
}

static void test_split_metrics_by_stream_matches_collector(void **state)
{
    (void)state;
    struct lb_ring *r = lb_ring_new(triple_eps, 3, LB_RING_WEIGHT);
    struct batch *b = json_metrics(
        "{\"resourceMetrics\":["
        TRIPLE_RES("foo",
                   TRIPLE_SUM("first.monotonic.sum", TRIPLE_DP("50", "333", "aaa", "bbb") ","
                                                     TRIPLE_DP("80", "444", "bbb", "ccc")) ","
                   TRIPLE_SUM("second.monotonic.sum", TRIPLE_DP("50", "555", "aaa", "bbb") ","
                                                      TRIPLE_DP("80", "666", "bbb", "ccc"))) ","
        TRIPLE_RES("bar",
                   TRIPLE_SUM("first.monotonic.sum", TRIPLE_DP("50", "333", "aaa", "bbb") ","
                                                     TRIPLE_DP("80", "444", "aaa", "bbb")) ","
                   TRIPLE_SUM("second.monotonic.sum", TRIPLE_DP("50", "555", "aaa", "bbb") ","
                                                      TRIPLE_DP("80", "666", "bbb", "ccc")))
        "]}");
    /* stream_id/output.yaml, by (resource, metric, point value): the endpoint index; bar's two
     * points of first.monotonic.sum are one stream (same attributes) and stay together */
    static const struct {
        const char *res, *metric;
        double value;
        int endpoint;
    } want[] = {
        {"foo", "first.monotonic.sum", 333, 0},  {"foo", "first.monotonic.sum", 444, 0},
        {"foo", "second.monotonic.sum", 555, 0}, {"foo", "second.monotonic.sum", 666, 0},
        {"bar", "first.monotonic.sum", 333, 2},  {"bar", "first.monotonic.sum", 444, 2},
        {"bar", "second.monotonic.sum", 555, 1}, {"bar", "second.monotonic.sum", 666, 1},
    };
    struct lb_part *parts;
    size_t n;
    uint64_t dropped;
    struct error err = {0};
    assert_int_equal(lb_route_split(b, LB_KEY_STREAM_ID, r, &parts, &n, &dropped, &err), 0);
    assert_int_equal(n, 3);
    int seen[8] = {0};
    uint64_t items = 0;
    for (size_t p = 0; p < n; p++) {
        items += parts[p].batch->items;
        const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *q =
            (const void *)batch_decoded(parts[p].batch, &err);
        assert_non_null(q);
        for (size_t i = 0; i < q->n_resource_metrics; i++) {
            const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *s =
                q->resource_metrics[i]->scope_metrics[0];
            assert_string_equal(s->scope->name, "MyTestInstrument"); /* scope kept */
            for (size_t m = 0; m < s->n_metrics; m++) {
                const Opentelemetry__Proto__Metrics__V1__Sum *sum = s->metrics[m]->sum;
                assert_true(sum->is_monotonic); /* the metric's shape kept */
                assert_int_equal(sum->aggregation_temporality, 2);
                for (size_t d = 0; d < sum->n_data_points; d++) {
                    int k = -1;
                    for (int w = 0; w < 8; w++)
                        if (strcmp(want[w].res, res_key(q->resource_metrics[i])) == 0 &&
                            strcmp(want[w].metric, s->metrics[m]->name) == 0 &&
                            want[w].value == sum->data_points[d]->as_double)
                            k = w;
                    assert_true(k >= 0);
                    assert_int_equal(parts[p].endpoint, want[k].endpoint);
                    seen[k]++;
                }
            }
        }
    }
    assert_int_equal(items, 8);
    for (int w = 0; w < 8; w++)
        assert_int_equal(seen[w], 1);
    lb_parts_free(parts, n);
    batch_unref(b);
    lb_ring_free(r);
}

/* ---- config ---------------------------------------------------------------------------------- */

#define PIPE                                                                                       \
    "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:0\n"           \
    "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n"                               \
    "      exporters: [loadbalancing]\n"

static void test_config_refusals_name_the_line(void **state)
{
    (void)state;
    /* PIPE is 10 lines: exporters: is line 11, the key under resolver line 14 */
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    resolver:\n      k8s:\n"
                       "        service: samplers\n",
                  ":14:7: exporter 'loadbalancing': resolver.k8s: not supported by llmotlp: use "
                  "resolver.dns with a headless service");
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    resolver:\n      aws_cloud_map:\n"
                       "        namespace: x\n",
                  ":14:7: exporter 'loadbalancing': resolver.aws_cloud_map: not supported");
    /* resource and streamID are the metrics exporter's only (v0.115's traces exporter refuses
     * them at creation) */
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    routing_key: streamID\n"
                       "    resolver:\n      static:\n        hostnames: [a:4317]\n",
                  ":10:19: pipeline 'traces': exporter 'loadbalancing' cannot serve traces: "
                  "routing_key \"streamID\" does not apply to traces (use traceID or service)");
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    routing_key: resource\n"
                       "    resolver:\n      static:\n        hostnames: [a:4317]\n",
                  "routing_key \"resource\" does not apply to traces");
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    routing_key: attributes\n"
                       "    routing_attributes: [a]\n"
                       "    resolver:\n      static:\n        hostnames: [a:4317]\n",
                  "routing_key: \"attributes\" is not supported");
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    routing_key: spanID\n"
                       "    resolver:\n      static:\n        hostnames: [a:4317]\n",
                  "routing_key: unsupported value \"spanID\"");
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    sending_queue:\n      enabled: true\n"
                       "    resolver:\n      static:\n        hostnames: [a:4317]\n",
                  ":13:5: exporter 'loadbalancing': sending_queue: not supported by llmotlp at "
                  "this level: set protocol.otlp.sending_queue");
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    resolver:\n      static:\n"
                       "        hostnames: [a:4317]\n      dns:\n        hostname: x\n",
                  "only one resolver should be specified");
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    protocol:\n      otlp: {}\n",
                  "resolver: no resolver specified");
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    protocol:\n      otlp:\n"
                       "        compression: zstd\n"
                       "    resolver:\n      dns:\n        hostname: x\n",
                  ":15:9: exporter 'loadbalancing': protocol.otlp.compression: \"zstd\"");
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    resolver:\n      dns:\n"
                       "        hostname: x\n        portt: 4317\n",
                  "portt");
    /* a key of another signal: refused at the pipeline's exporters line (line 10) */
    tu_load_fails(PIPE "exporters:\n  loadbalancing:\n    routing_key: metric\n"
                       "    resolver:\n      static:\n        hostnames: [a:4317]\n",
                  ":10:19: pipeline 'traces': exporter 'loadbalancing' cannot serve traces: "
                  "routing_key \"metric\" does not apply to traces (use traceID or service)");
}

/* A metrics pipeline takes routing_key resource and streamID (and still refuses traceID). */
static void test_config_metrics_keys(void **state)
{
    (void)state;
    static const char *const keys[] = {"resource", "streamID", "metric", "service"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:0\n"
                 "exporters:\n  loadbalancing:\n    routing_key: %s\n"
                 "    resolver:\n      static:\n        hostnames: [a:4317]\n"
                 "service:\n  pipelines:\n    metrics:\n      receivers: [otlp]\n"
                 "      exporters: [loadbalancing]\n",
                 keys[i]);
        struct error err = {0};
        struct service *s = service_load_string(yaml, &err);
        if (!s)
            fail_msg("routing_key %s refused: %s", keys[i], err.msg);
        service_free(s);
    }
    tu_load_fails("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:0\n"
                  "exporters:\n  loadbalancing:\n    routing_key: traceID\n"
                  "    resolver:\n      static:\n        hostnames: [a:4317]\n"
                  "service:\n  pipelines:\n    metrics:\n      receivers: [otlp]\n"
                  "      exporters: [loadbalancing]\n",
                  "routing_key \"traceID\" does not apply to metrics (use service, resource, metric "
                  "or streamID)");
    /* logs: the Collector routes them by trace ID whatever the key, so another key is refused */
    tu_load_fails("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:0\n"
                  "exporters:\n  loadbalancing:\n    routing_key: service\n"
                  "    resolver:\n      static:\n        hostnames: [a:4317]\n"
                  "service:\n  pipelines:\n    logs:\n      receivers: [otlp]\n"
                  "      exporters: [loadbalancing]\n",
                  "routing_key \"service\" does not apply to logs (the Collector routes logs by trace "
                  "ID whatever the key");
}

/* ---- membership change: queued data follows the ring ----------------------------------------- */

static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd); /* nothing listens there now */
    return ntohs(a.sin_port);
}

static void test_leaving_backend_reroutes_its_queue(void **state)
{
    (void)state;
    /* the remaining backend: a real OTLP/gRPC receiver recording what arrives */
    void *rcfg = calloc(1, otlp_receiver_factory.config_size);
    struct error err = {0};
    struct cnode *rroot =
        config_parse_string("protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n", "r.yaml", &err);
    assert_int_equal(config_bind(otlp_receiver_factory.fields, rroot, rcfg, &err), 0);
    cnode_free(rroot);
    struct telemetry *rtel = telemetry_new();
    struct tu_rec rec;
    tu_rec_init(&rec);
    struct component_env renv = {.id = "otlp", .log_name = "receiver/otlp", .telemetry = rtel};
    renv.next[SIGNAL_TRACES] = &rec.base;
    void *rx = otlp_receiver_factory.create(rcfg, &renv, &err);
    assert_non_null(rx);
    assert_int_equal(otlp_receiver_factory.start(rx, &err), 0);
    int live = otlp_receiver_grpc_port(rx), dead = dead_port();

    char yaml[1024], ep_dead[64], ep_live[64];
    snprintf(ep_dead, sizeof ep_dead, "127.0.0.1:%d", dead);
    snprintf(ep_live, sizeof ep_live, "127.0.0.1:%d", live);
    snprintf(yaml, sizeof yaml,
             "protocol:\n  otlp:\n    tls:\n      insecure: true\n    timeout: 2s\n"
             "    retry_on_failure:\n      initial_interval: 50ms\n      max_interval: 100ms\n"
             "      max_elapsed_time: 0\n"
             "resolver:\n  static:\n    hostnames: [%s, %s]\n",
             ep_dead, ep_live);
    struct tu_exp e;
    tu_exp_start_yaml(&e, &loadbalancing_exporter_factory, "loadbalancing",
                      "exporter=\"loadbalancing\"", yaml);

    const int NT = 40, NS = 3;
    struct batch *b = make_traces(NT, NS, 2, false);
    assert_int_equal(loadbalancing_exporter_factory.consume(e.x, b), CONSUME_OK);
    batch_unref(b);

    /* how many spans the ring gives the dead backend: the live one must get the rest first */
    const char *both[] = {ep_dead, ep_live};
    struct lb_endpoints sorted;
    assert_int_equal(lb_endpoints_from(&sorted, both, 2), 0);
    struct lb_ring *r = lb_ring_new((const char *const *)sorted.items, 2, LB_RING_WEIGHT);
    int dead_idx = strcmp(sorted.items[0], ep_dead) == 0 ? 0 : 1;
    uint64_t to_dead = 0;
    for (int t = 0; t < NT; t++) {
        uint8_t id[16] = {0};
        id[0] = (uint8_t)t;
        id[1] = (uint8_t)(t * 37);
        id[15] = 0x5a;
        if (lb_ring_lookup(r, id, 16) == dead_idx)
            to_dead += NS;
    }
    lb_ring_free(r);
    lb_endpoints_free(&sorted);
    assert_true(to_dead > 0 && to_dead < (uint64_t)(NT * NS));

    for (int i = 0; i < 2000; i++) { /* bounded wait, not a timing assertion */
        pthread_mutex_lock(&rec.mu);
        uint64_t got = rec.items;
        pthread_mutex_unlock(&rec.mu);
        if (got >= (uint64_t)(NT * NS) - to_dead)
            break;
        tu_sleep_ms(10);
    }
    pthread_mutex_lock(&rec.mu);
    assert_int_equal(rec.items, (uint64_t)(NT * NS) - to_dead); /* the dead one's share waits */
    pthread_mutex_unlock(&rec.mu);

    /* the dead backend leaves: what it holds goes to the live one */
    const char *only[] = {ep_live};
    assert_int_equal(lb_set_endpoints(e.x, only, 1), 0);
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&rec.mu);
        uint64_t got = rec.items;
        pthread_mutex_unlock(&rec.mu);
        if (got >= (uint64_t)(NT * NS))
            break;
        tu_sleep_ms(10);
    }
    pthread_mutex_lock(&rec.mu);
    assert_int_equal(rec.items, (uint64_t)(NT * NS));
    pthread_mutex_unlock(&rec.mu);
    assert_int_equal(telemetry_value(e.t, "llmotlp_loadbalancer_rerouted_items",
                                     "exporter=\"loadbalancing\""),
                     (int64_t)to_dead);
    assert_int_equal(telemetry_value(e.t, "otelcol_loadbalancer_num_backends",
                                     "resolver=\"static\""),
                     1);

    tu_exp_stop(&e);
    tu_exp_free(&e);
    otlp_receiver_factory.shutdown(rx, clock_now_ns() + 2000000000LL);
    otlp_receiver_factory.destroy(rx);
    config_free_bound(otlp_receiver_factory.fields, rcfg);
    free(rcfg);
    telemetry_free(rtel);
    /* nothing arrived twice */
    assert_int_equal(rec.items, (uint64_t)(NT * NS));
    tu_rec_fini(&rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_positions_match_collector),
        cmocka_unit_test(test_ring_endpoint_for_matches_collector),
        cmocka_unit_test(test_ring_search_matches_collector),
        cmocka_unit_test(test_ring_against_oracle_three_endpoints),
        cmocka_unit_test(test_endpoints_sorted_and_compared),
        cmocka_unit_test(test_dns_resolves_localhost),
        cmocka_unit_test(test_split_by_trace_id),
        cmocka_unit_test(test_split_by_service),
        cmocka_unit_test(test_split_metrics_by_name),
        cmocka_unit_test(test_xxh64_and_fnv_reference_vectors),
        cmocka_unit_test(test_map_hash_serialisation),
        cmocka_unit_test(test_split_metrics_by_resource_matches_collector),
        cmocka_unit_test(test_split_metrics_by_stream_matches_collector),
        cmocka_unit_test(test_config_refusals_name_the_line),
        cmocka_unit_test(test_config_metrics_keys),
        cmocka_unit_test(test_leaving_backend_reroutes_its_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
