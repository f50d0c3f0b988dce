/* test_llm_metrics_wire.c — the llm_metrics connector's two span readers, side by side: the same
 * generated requests go to a connector reading the span index (the production path) and to one
 * reading the decoded protobuf-c structs (the reference), and their exports must be the same
 * bytes.
 *
 * The one idea: both readers feed one recording code, and a series is named by the bytes of its
 * key, so any difference in what a reader sees (a missed attribute, a value read as another type,
 * a string cut or not) shows up as a different series or value in the packed export; comparing
 * the packed exports byte for byte compares every metric, point, attribute and value at once.
 * The clock is the test's, so the exports carry the same times. Requests are generated from a
 * seeded PRNG: gateway traces (an HTTP root and 1–4 LLM calls) with current and legacy names,
 * ~10% errors, values of every type a sender may use for each attribute (numbers as strings,
 * fractional and negative counts, arrays, empty strings, values without a member), random
 * attribute order and duplicated keys (the first wins for both readers), resources with and
 * without the tenant and dimensions; some requests are first edited on their index as upstream
 * processors do (a cost added, a legacy key renamed, a span dropped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/llm_metrics/llm_metrics.h"
#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/telemetry.h"
#include "core/wire_index.h"
#include "tests/unit/testutil.h"
#include "tests/unit/wire_testgen.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsRequest;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

#define ST_OK OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK
#define ST_ERROR OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR
#define MREQ_UNPACK \
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack
#define MREQ_FREE \
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked

#define SEC 1000000000LL
#define T0 (1700000000LL * SEC)
#define LABELS "connector=\"llm_metrics\""

/* ---- PRNG ------------------------------------------------------------------------------------ */

static uint64_t rnd_state;

static uint32_t rnd(uint32_t n) { return wtg_rnd(&rnd_state, n); }
#define PICK(arr) WTG_PICK(&rnd_state, arr)

/* ---- building requests ----------------------------------------------------------------------- */

struct gen {
    struct arena *a;
    struct wtg_kvs l;
};

static void push(struct gen *g, const char *key, AnyValue *v) { wtg_kvs_put(g->a, &g->l, key, v); }

/* A value of any kind a sender may put where a number is expected. */
static AnyValue *v_number_like(struct arena *a, int64_t n)
{
    char buf[128];
    switch (rnd(12)) {
    case 0:
        snprintf(buf, sizeof buf, "%lld", (long long)n);
        return wtg_str(a, buf);
    case 1:
        snprintf(buf, sizeof buf, " %lld ", (long long)n); /* a leading space parses, trailing too */
        return wtg_str(a, buf);
    case 2:
        return wtg_double(a, (double)n);
    case 3:
        return wtg_double(a, (double)n + 0.5);                /* not a count */
    case 4:
        return wtg_int(a, -n);                                /* negative */
    case 5:
        return wtg_str(a, "12abc");
    case 6:
        return wtg_str(a, "");
    case 7:
        return wtg_bool(a, true);
    case 8:
        return wtg_any(a, 0);                               /* no member */
    case 9:
        snprintf(buf, sizeof buf, "%lld.000000000000000000000000000000000000000000000000000000000000"
                 "0000000000", (long long)n);               /* past the stack copy */
        return wtg_str(a, buf);
    default:
        return wtg_int(a, n);
    }
}

static AnyValue *v_scalar_like(struct arena *a, const char *s)
{
    AnyValue *one;
    switch (rnd(10)) {
    case 0:
        return wtg_int(a, rnd(1000));
    case 1:
        return wtg_double(a, rnd(1000) / 8.0);
    case 2:
        return wtg_bool(a, rnd(2));
    case 3:
        return wtg_str(a, "");
    case 4:
        one = wtg_str(a, s);
        return wtg_array(a, &one, 1);                         /* not a scalar */
    case 5:
        return wtg_bytes(a, s, strlen(s));
    default:
        return wtg_str(a, s);
    }
}

static const char *const providers[] = {"openai", "anthropic", "aws.bedrock", "gcp.vertex_ai",
                                        "azure.ai.openai"};
static const char *const models[] = {"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet",
                                     "gemini-1.5-pro", "text-embedding-3-small"};
static const char *const ops[] = {"chat", "chat", "chat", "text_completion", "embeddings",
                                  "generate_content", "execute_tool", "create_agent", ""};
static const char *const tenants[] = {"acme", "globex", "initech", "umbrella"};
static const char *const envs[] = {"prod", "staging"};
static const char *const errors[] = {"timeout", "rate_limited", "500"};

static void llm_attrs(struct gen *g)
{
    struct arena *a = g->a;
    int legacy = rnd(3) == 0;
    if (rnd(10))
        push(g, legacy ? "gen_ai.system" : "gen_ai.provider.name", wtg_str(a, PICK(providers)));
    if (rnd(8))
        push(g, "gen_ai.operation.name", rnd(10) ? wtg_str(a, PICK(ops)) : wtg_int(a, 1));
    if (rnd(6))
        push(g, "gen_ai.request.model", wtg_str(a, PICK(models)));
    if (rnd(3))
        push(g, "gen_ai.response.model", rnd(12) ? wtg_str(a, PICK(models)) : wtg_str(a, ""));
    if (rnd(2))
        push(g, "server.address", wtg_str(a, "api.example.com"));
    if (rnd(2)) {
        AnyValue *port;
        switch (rnd(6)) {
        case 0: port = wtg_str(a, "8443"); break;
        case 1: port = wtg_double(a, 443.0); break;
        case 2: port = wtg_double(a, 70000.0); break;
        case 3: port = wtg_str(a, "x"); break;
        default: port = wtg_int(a, 443);
        }
        push(g, "server.port", port);
    }
    if (rnd(5))
        push(g, legacy && rnd(2) ? "gen_ai.usage.prompt_tokens" : "gen_ai.usage.input_tokens",
             v_number_like(a, rnd(5000)));
    if (rnd(5))
        push(g, "gen_ai.usage.output_tokens", v_number_like(a, rnd(2000)));
    if (rnd(3)) {
        AnyValue *c = rnd(6) ? wtg_double(a, rnd(100000) / 1e6)
                             : rnd(2) ? wtg_str(a, "0.0125") : wtg_double(a, -1);
        push(g, "gen_ai.usage.cost.amount", c);
    }
    if (rnd(3) == 0)
        push(g, "tenant.id", v_scalar_like(a, PICK(tenants)));
    if (rnd(4) == 0)
        push(g, "http.response.status_code", v_scalar_like(a, "429"));
    switch (rnd(5)) {
    case 0:
        push(g, "llmproxy.ratelimit.remaining", v_number_like(a, rnd(100)));
        break;
    case 1: {
        char buf[16];
        snprintf(buf, sizeof buf, "%u", rnd(100));
        AnyValue *vals[2] = {wtg_str(a, buf), wtg_str(a, "7")};
        push(g, "http.response.header.x-ratelimit-remaining-requests",
             wtg_array(a, vals, rnd(3)));  /* 0, 1 or 2 elements */
        break;
    }
    default:
        break;
    }
    if (rnd(3) == 0)
        push(g, "deployment.environment", v_scalar_like(a, PICK(envs)));
    if (rnd(4) == 0)
        push(g, "team", v_scalar_like(a, "search"));
    if (rnd(10) == 0)
        push(g, "error.type", rnd(3) ? wtg_str(a, PICK(errors)) : wtg_int(a, 503));
    /* Noise the connector never reads. */
    for (uint32_t i = rnd(4); i > 0; i--)
        push(g, "gen_ai.prompt.0.content", wtg_str(a, "hello"));
    if (rnd(4) == 0)
        push(g, "http.url", wtg_str(a, "https://api.example.com/v1/chat"));
}

/* Random order; a duplicated key here and there (its first occurrence is the one that counts). */
static void shuffle_and_dup(struct gen *g)
{
    wtg_shuffle(&rnd_state, g->l.kv, g->l.n);
    if (g->l.n && rnd(5) == 0) {
        KeyValue *src = g->l.kv[rnd((uint32_t)g->l.n)];
        push(g, src->key, rnd(2) ? wtg_str(g->a, "dup") : wtg_int(g->a, 42));
    }
    if (g->l.n && rnd(20) == 0)
        push(g, "gen_ai.request.model", NULL); /* a KeyValue without a value */
}

static Span *mk_span(struct arena *a, uint32_t trace, uint32_t idx, bool llm)
{
    Span *s = wtg_span(a);
    s->trace_id = wtg_id_num(a, 16, trace);
    s->span_id = wtg_id_num(a, 8, idx);
    s->name = llm ? "chat gpt-4o" : "POST /v1/chat/completions";
    uint64_t end = (uint64_t)(T0 + (int64_t)rnd(600) * SEC);
    s->end_time_unix_nano = end;
    s->start_time_unix_nano = rnd(30) ? end - (uint64_t)rnd(20000) * 1000000u : end + 1000;
    struct gen g = {.a = a};
    if (llm)
        llm_attrs(&g);
    else
        push(&g, "http.route", wtg_str(a, "/v1/chat/completions"));
    shuffle_and_dup(&g);
    s->attributes = g.l.kv;
    s->n_attributes = g.l.n;
    uint32_t st = rnd(10);
    if (st < 2) {
        s->status = arena_alloc(a, sizeof *s->status);
        opentelemetry__proto__trace__v1__status__init(s->status);
        s->status->code = st == 0 ? ST_ERROR : ST_OK;
        if (st == 0)
            s->status->message = "upstream failed";
    }
    return s;
}

/* One request: 1–3 resources, 1–2 scopes each, 1–3 traces per scope of an HTTP root and 1–4
 * LLM calls. Packed into *len bytes. */
static uint8_t *mk_request(size_t *len)
{
    static uint32_t trace_no;
    struct arena *a = arena_new(0);
    assert_non_null(a);
    TraceRequest *req = wtg_traces(a, 1 + rnd(3));
    for (size_t r = 0; r < req->n_resource_spans; r++) {
        Opentelemetry__Proto__Resource__V1__Resource *res = NULL;
        if (rnd(8)) {
            struct gen g = {.a = a};
            if (rnd(6))
                push(&g, "service.name", rnd(8) ? wtg_str(a, rnd(2) ? "gateway" : "router")
                                                : wtg_int(a, 7));
            if (rnd(2))
                push(&g, "tenant.id", v_scalar_like(a, PICK(tenants)));
            if (rnd(2))
                push(&g, "deployment.environment", wtg_str(a, PICK(envs)));
            if (rnd(3) == 0)
                push(&g, "team", v_scalar_like(a, "infra"));
            push(&g, "host.name", wtg_str(a, "node-1"));
            shuffle_and_dup(&g);
            res = wtg_resource(a, g.l.kv, g.l.n);
        }
        ResourceSpans *rs = wtg_resource_spans(a, res, 1 + rnd(2));
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            ScopeSpans *ss = wtg_scope_spans(a, NULL, 3 * 5);
            for (uint32_t t = 1 + rnd(3); t > 0; t--) {
                uint32_t tr = ++trace_no;
                ss->spans[ss->n_spans++] = mk_span(a, tr, 0, false);
                for (uint32_t c = 1 + rnd(4); c > 0; c--)
                    ss->spans[ss->n_spans++] = mk_span(a, tr, c, true);
            }
            rs->scope_spans[j] = ss;
        }
        req->resource_spans[r] = rs;
    }
    uint8_t *out = tu_pack(&req->base, len);
    arena_free(a);
    return out;
}

/* ---- the two connectors ---------------------------------------------------------------------- */

struct side {
    struct tu_rec rec;
    struct telemetry *tel;
    struct llm_metrics_config cfg;
    struct wire_interest *interest;  /* NULL: the struct reader's side */
    void *lm;
};

static int64_t clock_now = T0;

static int64_t test_clock(void *ctx)
{
    (void)ctx;
    return clock_now;
}

static void side_init(struct side *s, const char *yaml, bool structs, bool with_interest)
{
    memset(s, 0, sizeof *s);
    tu_rec_init(&s->rec);
    s->tel = telemetry_new();
    struct error err = {0};
    struct cnode *node = config_parse_string(yaml, "test.yaml", &err);
    assert_non_null(node);
    if (config_bind(llm_metrics_connector_factory.fields, node, &s->cfg, &err) != 0 ||
        llm_metrics_connector_factory.validate(&s->cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    cnode_free(node);
    if (with_interest) {
        /* As in a service: another component's keys share the interest. */
        s->interest = wire_interest_new();
        assert_non_null(s->interest);
        assert_int_equal(wire_interest_add_prefix(s->interest, "http."), 0);
    }
    struct component_env env = {.id = "llm_metrics", .log_name = "connector/llm_metrics",
                                .signal = SIGNAL_TRACES, .telemetry = s->tel,
                                .interest = s->interest};
    env.next[SIGNAL_METRICS] = &s->rec.base;
    s->lm = llm_metrics_connector_factory.create(&s->cfg, &env, &err);
    if (!s->lm)
        fail_msg("create: %s", err.msg);
    llm_metrics_set_clock(s->lm, test_clock, NULL);
    llm_metrics_read_structs(s->lm, structs);
}

static void side_fini(struct side *s)
{
    llm_metrics_connector_factory.destroy(s->lm);
    config_free_bound(llm_metrics_connector_factory.fields, &s->cfg);
    wire_interest_free(s->interest);
    tu_rec_fini(&s->rec);
    telemetry_free(s->tel);
}

/* What upstream processors may have done to the request before the connector: on the index, a
 * cost set on some spans, a legacy provider key renamed, a span dropped. Applied the same way to
 * both sides' batches (the struct side then decodes the edited request). */
static void edit_like_upstream(struct batch *b, const struct wire_interest *in, uint64_t seed)
{
    struct batch *out = NULL;
    struct error err = {0};
    struct wire_index *ix = batch_index_edit(b, in, &out, &err);
    assert_non_null(ix);
    assert_ptr_equal(out, b);
    uint64_t x = seed;
    for (uint32_t i = 0; i < ix->n_items; i++) {
        struct wi_item *it = &ix->items[i];
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        switch ((x >> 33) % 7) {
        case 0:
            assert_int_equal(wi_item_set_double(ix, it, "gen_ai.usage.cost.amount",
                                                (double)((x >> 40) % 1000) / 1e4), 0);
            break;
        case 1: {
            struct wi_attr *at = wi_item_attr_s(it, "gen_ai.system");
            if (at)
                assert_int_equal(wi_attr_replace(ix, it, at, "gen_ai.provider.name",
                                                 strlen("gen_ai.provider.name"), NULL, 0), 0);
            break;
        }
        case 2:
            wi_item_drop(ix, it);
            break;
        case 3: {
            struct wi_attr *at = wi_item_attr_s(it, "gen_ai.request.model");
            if (at)
                wi_attr_delete(ix, it, at);
            break;
        }
        default:
            break;
        }
    }
    batch_index_edit_done(b);
}

/* Both sides' latest exports are the same bytes; returns the number of points in them. */
static size_t assert_same_export(struct side *a, struct side *b)
{
    assert_int_equal(a->rec.calls, b->rec.calls);
    if (a->rec.calls == 0)
        return 0;
    assert_int_equal(a->rec.last_len, b->rec.last_len);
    if (memcmp(a->rec.last, b->rec.last, a->rec.last_len) != 0) {
        size_t i = 0;
        while (a->rec.last[i] == b->rec.last[i])
            i++;
        fail_msg("exports differ from byte %zu of %zu", i, a->rec.last_len);
    }
    MetricsRequest *m = MREQ_UNPACK(NULL, a->rec.last_len, a->rec.last);
    assert_non_null(m);
    size_t points = 0;
    for (size_t r = 0; r < m->n_resource_metrics; r++)
        for (size_t s = 0; s < m->resource_metrics[r]->n_scope_metrics; s++) {
            const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
                m->resource_metrics[r]->scope_metrics[s];
            for (size_t i = 0; i < sm->n_metrics; i++) {
                const Opentelemetry__Proto__Metrics__V1__Metric *mt = sm->metrics[i];
                points += mt->sum ? mt->sum->n_data_points
                          : mt->gauge ? mt->gauge->n_data_points
                          : mt->histogram ? mt->histogram->n_data_points : 0;
            }
        }
    MREQ_FREE(m, NULL);
    return points;
}

static void run_differential(const char *yaml, uint64_t seed, int requests, int flush_every,
                             bool upstream_edits)
{
    rnd_state = seed;
    clock_now = T0;
    /* ref: structs; ix: index with the service's interest; all: index of every attribute */
    struct side ref, ix, all;
    side_init(&ref, yaml, true, false);
    side_init(&ix, yaml, false, true);
    side_init(&all, yaml, false, false);
    size_t max_points = 0;
    for (int i = 0; i < requests; i++) {
        size_t len;
        uint8_t *wire = mk_request(&len);
        struct side *sides[3] = {&ref, &ix, &all};
        bool edit = upstream_edits && rnd(2);
        for (int k = 0; k < 3; k++) {
            struct error err = {0};
            struct batch *b = batch_from_wire(SIGNAL_TRACES, wire, len, &err);
            assert_non_null(b);
            if (edit)
                edit_like_upstream(b, k == 1 ? ix.interest : NULL, seed + (uint64_t)i);
            assert_int_equal(llm_metrics_connector_factory.consume(sides[k]->lm, b), CONSUME_OK);
            if (k > 0) {
                /* The index reader neither decodes the request nor edits it. */
                assert_null(b->msg);
                assert_non_null(b->index);
                if (!edit) {
                    assert_false(b->index->dirty);
                    const uint8_t *data;
                    size_t n;
                    assert_int_equal(batch_encoded(b, &data, &n, &err), 0);
                    assert_ptr_equal(data, b->wire);
                }
            }
            batch_unref(b);
        }
        free(wire);
        clock_now += SEC;
        if ((i + 1) % flush_every == 0 || i + 1 == requests) {
            for (int k = 0; k < 3; k++)
                assert_int_equal(llm_metrics_flush(sides[k]->lm), CONSUME_OK);
            size_t p = assert_same_export(&ref, &ix);
            assert_int_equal(assert_same_export(&ref, &all), p);
            if (p > max_points)
                max_points = p;
        }
    }
    int64_t spans = telemetry_value(ref.tel, "llmotlp_llm_metrics_spans", LABELS);
    assert_true(spans > requests); /* most requests carry several LLM spans */
    assert_int_equal(telemetry_value(ix.tel, "llmotlp_llm_metrics_spans", LABELS), spans);
    assert_int_equal(telemetry_value(all.tel, "llmotlp_llm_metrics_spans", LABELS), spans);
    assert_true(max_points > 50);  /* the exports compared are not trivial */
    side_fini(&ref);
    side_fini(&ix);
    side_fini(&all);
}

static void test_defaults(void **state)
{
    (void)state;
    run_differential("{}", 0x9e3779b97f4a7c15ull, 300, 50, false);
}

static void test_dimensions_status_delta(void **state)
{
    (void)state;
    run_differential("aggregation_temporality: delta\n"
                     "dimensions: [deployment.environment, team]\n"
                     "resource_attributes: [service.name, team]\n"
                     "attribute_names:\n"
                     "  status: http.response.status_code\n"
                     "  ratelimit_remaining: [http.response.header.x-ratelimit-remaining-requests,"
                     " llmproxy.ratelimit.remaining]\n",
                     0x1234567887654321ull, 300, 40, false);
}

static void test_upstream_edits(void **state)
{
    (void)state;
    run_differential("dimensions: [team]\n", 0xdeadbeefcafef00dull, 200, 50, true);
}

static void test_overflow(void **state)
{
    (void)state;
    run_differential("max_series: 12\ndimensions: [deployment.environment]\n",
                     0x5555aaaa5555aaaaull, 150, 30, false);
}

/* Edge cases, one span each: the readers agree on every one. */
static void test_edge_spans(void **state)
{
    (void)state;
    static const char *const yaml = "dimensions: [d]\nattribute_names: {tenant: t, status: st}\n";
    rnd_state = 42;
    struct side ref, ix;
    side_init(&ref, yaml, true, false);
    side_init(&ix, yaml, false, true);
    char long_model[301];
    memset(long_model, 'm', 300);
    long_model[300] = '\0';
    for (int c = 0; c < 15; c++) {
        struct arena *a = arena_new(0);
        struct gen g = {.a = a};
        push(&g, "gen_ai.provider.name", wtg_str(a, "openai"));
        switch (c) {
        case 0: push(&g, "t", wtg_double(a, 1e300)); break;          /* %.15g text */
        case 1: push(&g, "t", wtg_int(a, INT64_MIN)); break;
        case 2: push(&g, "st", wtg_bool(a, false)); break;
        case 3: push(&g, "d", wtg_str(a, "")); break;                /* empty string: kept */
        case 4: push(&g, "d", wtg_any(a, 0)); break;               /* no member: resource's */
        case 5: push(&g, "gen_ai.usage.input_tokens", wtg_str(a, "9e15")); break;
        case 6: push(&g, "gen_ai.usage.input_tokens", wtg_str(a, "9.1e15")); break;
        case 7: push(&g, "gen_ai.usage.input_tokens", wtg_str(a, "inf")); break;
        case 8: push(&g, "gen_ai.usage.cost.amount", wtg_str(a, "nan")); break;
        case 9: push(&g, "server.port", wtg_double(a, 65535.0)); break;
        case 10: push(&g, "error.type", wtg_bool(a, false)); break;
        case 11: push(&g, "error.type", wtg_str(a, "")); break;
        case 12: push(&g, "gen_ai.operation.name", wtg_str(a, "chat ")); break; /* not an op */
        case 13: push(&g, "gen_ai.request.model", wtg_str(a, long_model)); break;
        default: push(&g, "gen_ai.response.model", wtg_str(a, "m\xc3\xa9t\xc3\xa9o")); break;
        }
        Span *s = mk_span(a, 1000u + (uint32_t)c, 1, true);
        s->attributes = g.l.kv;
        s->n_attributes = g.l.n;
        KeyValue *rkv = tu_kv_str(a, "d", "from-resource");
        TraceRequest *req = wtg_one_scope_traces(a, wtg_resource(a, &rkv, 1), &s, 1);
        struct batch *b1 = tu_pack_batch(SIGNAL_TRACES, &req->base);
        struct batch *b2 = tu_pack_batch(SIGNAL_TRACES, &req->base);
        assert_int_equal(llm_metrics_connector_factory.consume(ref.lm, b1), CONSUME_OK);
        assert_int_equal(llm_metrics_connector_factory.consume(ix.lm, b2), CONSUME_OK);
        batch_unref(b1);
        batch_unref(b2);
        arena_free(a);
        assert_int_equal(llm_metrics_flush(ref.lm), CONSUME_OK);
        assert_int_equal(llm_metrics_flush(ix.lm), CONSUME_OK);
        assert_true(assert_same_export(&ref, &ix) > 0);
    }
    side_fini(&ref);
    side_fini(&ix);
}

/* ---- the label-set cache --------------------------------------------------------------------- */

/* The cache only saves lookups: with it on (the default), off, or so small that it is emptied
 * every few spans, and through the struct reader, the exports are the same bytes, and so are the
 * counters. One export in three is refused downstream (delta carries what was refused). With
 * `overflow`, max_series is small enough that the overflow starts inside the first request (the
 * store is empty when it arrives). */
static void run_cache(const char *yaml, uint64_t seed, bool overflow)
{
    rnd_state = seed;
    clock_now = T0;
    struct side on, off, tiny, ref;
    side_init(&on, yaml, false, true);
    side_init(&off, yaml, false, true);
    side_init(&tiny, yaml, false, true);
    side_init(&ref, yaml, true, false);
    llm_metrics_set_cache(off.lm, 0);
    llm_metrics_set_cache(tiny.lm, 3);
    struct side *sides[4] = {&off, &on, &tiny, &ref};
    size_t max_points = 0;
    int refused = 0;
    for (int i = 0; i < 120; i++) {
        size_t len;
        uint8_t *wire = mk_request(&len);
        for (int k = 0; k < 4; k++) {
            struct error err = {0};
            struct batch *b = batch_from_wire(SIGNAL_TRACES, wire, len, &err);
            assert_non_null(b);
            assert_int_equal(llm_metrics_connector_factory.consume(sides[k]->lm, b), CONSUME_OK);
            batch_unref(b);
        }
        free(wire);
        if (i == 0 && overflow)
            assert_true(telemetry_value(on.tel, "llmotlp_llm_metrics_overflow_points", LABELS) >
                        0);
        clock_now += SEC;
        if (i % 7 == 6) {
            bool refuse = i % 21 == 6;
            for (int k = 0; k < 4; k++) {
                sides[k]->rec.answer = refuse ? CONSUME_RETRY : CONSUME_OK;
                assert_int_equal(llm_metrics_flush(sides[k]->lm),
                                 refuse ? CONSUME_RETRY : CONSUME_OK);
                sides[k]->rec.answer = CONSUME_OK;
            }
            refused += refuse;
            for (int k = 1; k < 4; k++) {
                size_t p = assert_same_export(&off, sides[k]);
                if (p > max_points)
                    max_points = p;
            }
        }
    }
    static const char *const counters[] = {"llmotlp_llm_metrics_spans",
                                           "llmotlp_llm_metrics_overflow_points",
                                           "llmotlp_llm_metrics_series",
                                           "llmotlp_llm_metrics_dropped_updates"};
    for (size_t c = 0; c < sizeof counters / sizeof counters[0]; c++)
        for (int k = 1; k < 4; k++)
            assert_int_equal(telemetry_value(sides[k]->tel, counters[c], LABELS),
                             telemetry_value(off.tel, counters[c], LABELS));
    int64_t of = telemetry_value(off.tel, "llmotlp_llm_metrics_overflow_points", LABELS);
    assert_true(overflow ? of > 100 : of == 0);
    assert_int_equal(telemetry_value(off.tel, "llmotlp_llm_metrics_dropped_updates", LABELS), 0);
    assert_true(refused >= 2);
    assert_true(max_points > (overflow ? 20 : 200));
    for (int k = 0; k < 4; k++)
        side_fini(sides[k]);
}

static void test_cache_overflow_delta(void **state)
{
    (void)state;
    run_cache("aggregation_temporality: delta\n"
              "max_series: 6\n"
              "dimensions: [deployment.environment]\n"
              "attribute_names: {status: http.response.status_code}\n",
              0x0123456789abcdefull, true);
}

static void test_cache_every_label(void **state)
{
    (void)state;
    run_cache("dimensions: [deployment.environment, team]\n"
              "resource_attributes: [service.name, team]\n"
              "attribute_names:\n"
              "  status: http.response.status_code\n"
              "  ratelimit_remaining: [http.response.header.x-ratelimit-remaining-requests,"
              " llmproxy.ratelimit.remaining]\n",
              0xfedcba9876543210ull, false);
}

/* A request of one span with its tenant, provider and model as given (NULL: absent), status
 * unset. */
static struct batch *one_span(const char *tenant, const char *provider, const char *model)
{
    struct arena *a = arena_new(0);
    struct gen g = {.a = a};
    if (provider)
        push(&g, "gen_ai.provider.name", wtg_str(a, provider));
    if (model)
        push(&g, "gen_ai.request.model", wtg_str(a, model));
    if (tenant)
        push(&g, "tenant.id", wtg_str(a, tenant));
    Span *s = mk_span(a, 7, 1, true);
    s->attributes = g.l.kv;
    s->n_attributes = g.l.n;
    s->status = NULL;
    struct batch *b = tu_pack_batch(SIGNAL_TRACES, &wtg_one_scope_traces(a, NULL, &s, 1)->base);
    arena_free(a);
    return b;
}

/* The int value of the llmproxy.request.count point whose tenant is `tenant` in the last export;
 * -1 when there is none. */
static int64_t request_count(const struct side *s, const char *tenant)
{
    MetricsRequest *m = MREQ_UNPACK(NULL, s->rec.last_len, s->rec.last);
    assert_non_null(m);
    int64_t v = -1;
    for (size_t r = 0; r < m->n_resource_metrics; r++)
        for (size_t c = 0; c < m->resource_metrics[r]->n_scope_metrics; c++) {
            const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
                m->resource_metrics[r]->scope_metrics[c];
            for (size_t i = 0; i < sm->n_metrics; i++) {
                const Opentelemetry__Proto__Metrics__V1__Metric *mt = sm->metrics[i];
                if (strcmp(mt->name, "llmproxy.request.count") != 0)
                    continue;
                for (size_t p = 0; p < mt->sum->n_data_points; p++) {
                    const Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp =
                        mt->sum->data_points[p];
                    for (size_t a = 0; a < dp->n_attributes; a++)
                        if (strcmp(dp->attributes[a]->key, "tenant") == 0 &&
                            strcmp(dp->attributes[a]->value->string_value, tenant) == 0)
                            v = dp->as_int;
                }
            }
        }
    MREQ_FREE(m, NULL);
    return v;
}

/* Label sets that differ where no series key does (no tenant, and tenant "unknown") share their
 * series, whichever of them made it; at max_series a label set seen before keeps its series, a
 * new one goes to the overflow series, and the next export (delta) reports both from zero. */
static void test_cache_shared_series_and_overflow(void **state)
{
    (void)state;
    struct side s;
    side_init(&s, "aggregation_temporality: delta\nmax_series: 2\n", false, true);
    clock_now = T0;
    struct batch *b[] = {one_span(NULL, "openai", "m1"),
                         one_span("unknown", "openai", "m1"),
                         one_span(NULL, "openai", "m1"),
                         one_span("acme", "openai", "m1"), /* request.count's 2nd series */
                         one_span("beta", "openai", "m1"), /* request.count overflows */
                         one_span("unknown", "openai", "m1")};
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
            assert_int_equal(llm_metrics_connector_factory.consume(s.lm, b[i]), CONSUME_OK);
        assert_int_equal(llm_metrics_flush(s.lm), CONSUME_OK);
        assert_int_equal(request_count(&s, "unknown"), 4);
        assert_int_equal(request_count(&s, "acme"), 1);
        assert_int_equal(request_count(&s, "beta"), -1);
        /* beta's request.count, its other series being shared: one overflow point a round */
        assert_int_equal(telemetry_value(s.tel, "llmotlp_llm_metrics_overflow_points", LABELS),
                         round + 1);
    }
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        batch_unref(b[i]);
    side_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_dimensions_status_delta),
        cmocka_unit_test(test_upstream_edits),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_edge_spans),
        cmocka_unit_test(test_cache_overflow_delta),
        cmocka_unit_test(test_cache_every_label),
        cmocka_unit_test(test_cache_shared_series_and_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
