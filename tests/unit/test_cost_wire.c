/* test_cost_wire.c — the cost processor's two backends against each other: every request goes
 * once through the span index (a batch with wire bytes, the production path) and once through
 * protobuf-c structs (the same request arriving decoded only), and what comes out must be the
 * same request, field by field, with the same metrics.
 *
 * The one idea: the requests are generated (gateway-like traces of 1–4 LLM calls, current,
 * GenAI-repo, legacy and OpenInference names, numbers as ints, doubles and strings, junk values,
 * provider-reported costs under every accepted name, duplicates, shuffled attribute order, span
 * and resource tenants, drops), and both outputs are re-packed by protobuf-c: the packed bytes of
 * two decoded requests are equal exactly when every field is, attribute order included, so the
 * comparison needs no knowledge of what pricing did. Known difference, kept out of the generator:
 * a KeyValue with no value at all under a name cost writes (the structs keep it and append a
 * second attribute, the index replaces it). The rest checks the index path's own promises: a
 * request with nothing to change is forwarded as the very bytes that came, and edits an earlier
 * processor left in the index (an added count, a dropped span) are seen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/pricing.h"
#include "core/telemetry.h"
#include "core/wire_index.h"
#include "processors/cost/cost.h"
#include "tests/unit/testutil.h"
#include "tests/unit/wire_testgen.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE

#define T_SPAN 1750000000LL

/* ---- the pricing DB ---------------------------------------------------------------------- */

static char tmpdir[64];
static char db_path[128];

static void set_price(const char *provider, const char *model, double in, double cr, double cw,
                      double out, double reasoning, const char *tenant, void (*tweak)(struct price *))
{
    struct error err = {0};
    if (wtg_set_price(db_path, provider, model, in, cr, cw, out, reasoning, tenant, tweak, &err))
        fail_msg("pricing_admin_set %s/%s: %s", provider, model, err.msg);
}

static void batch_half(struct price *p) { p->batch_discount = 0.5; }
static void in_euros(struct price *p) { snprintf(p->currency, sizeof p->currency, "EUR"); }
static void tiered(struct price *p)
{
    p->tiers[0] = (struct price_tier){200000, 2.50, -1, -1, 15.00};
    p->n_tiers = 1;
    p->flex_multiplier = 0.5;
    p->priority_multiplier = 1.8;
}

static int setup_db(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_cost_wire_XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(db_path, sizeof db_path, "%s/prices.db", tmpdir);
    struct error err = {0};
    struct pricing_store *s = pricing_open(db_path, true, &err);
    if (!s)
        return -1;
    pricing_close(s);
    set_price("openai", "gpt-4o", 2.50, 1.25, -1, 10.00, -1, NULL, batch_half);
    set_price("openai", "gpt-4o", 2.00, -1, -1, 8.00, -1, "acme", NULL);
    set_price("anthropic", "claude-sonnet-4-5", 3.00, 0.30, 3.75, 15.00, -1, NULL, NULL);
    set_price("openai", "o3", 2.00, 0.50, -1, 8.00, 12.00, NULL, NULL);
    set_price("gcp.gemini", "gemini-2.5-pro", 1.25, 0.125, -1, 10.00, -1, NULL, tiered);
    set_price("mistral", "mistral-large", 2.00, -1, -1, 6.00, -1, NULL, in_euros);
    if (pricing_admin_set_discount(db_path, "globex", "openai", "*", 0.10, 0, &err) != 0)
        return -1;
    return 0;
}

static int teardown_db(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- a processor and what it sends ------------------------------------------------------- */

struct proc {
    struct wtg_sink rec;
    struct telemetry *tel;
    struct wire_interest *interest; /* NULL: the index records every attribute */
    struct cost_config cfg;
    void *self;
};

/* with_interest: as the service creates it (the processor declares its keys), else as a test
 * creating it alone does (interest NULL). */
static struct proc *proc_new(bool with_interest)
{
    struct proc *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->rec.c.consume = wtg_sink_consume;
    p->tel = telemetry_new();
    char yaml[256];
    snprintf(yaml, sizeof yaml, "database: %s\nreload_interval: 0\n", db_path);
    struct error err = {0};
    struct cnode *node = config_parse_string(yaml, "test", &err);
    assert_non_null(node);
    if (config_bind(cost_processor_factory.fields, node, &p->cfg, &err) != 0)
        fail_msg("bind: %s", err.msg);
    cnode_free(node);
    assert_int_equal(cost_processor_factory.validate(&p->cfg, &err), 0);
    if (with_interest) {
        p->interest = wire_interest_new();
        assert_non_null(p->interest);
        /* another component's keys, as in a service: they must not disturb pricing */
        assert_int_equal(wire_interest_add_key(p->interest, "http.request.method"), 0);
    }
    struct component_env env = {.id = "cost", .log_name = "processor/cost",
                                .signal = SIGNAL_TRACES, .telemetry = p->tel,
                                .interest = p->interest};
    env.next[SIGNAL_TRACES] = &p->rec.c;
    p->self = cost_processor_factory.create(&p->cfg, &env, &err);
    if (!p->self)
        fail_msg("create: %s", err.msg);
    return p;
}

static void proc_free(struct proc *p)
{
    cost_processor_factory.destroy(p->self);
    config_free_bound(cost_processor_factory.fields, &p->cfg);
    wtg_sink_clear(&p->rec);
    telemetry_free(p->tel);
    wire_interest_free(p->interest);
    free(p);
}

static char *metrics_text(struct proc *p)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    telemetry_write_prometheus(p->tel, f);
    fclose(f);
    return text;
}

/* ---- generating requests ----------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n) { return wtg_rnd(&rng_state, n); }
#define PICK(list) WTG_PICK(&rng_state, list)

struct gen {
    struct arena *a;
    struct wtg_kvs l;
};

static void add_kv(struct gen *g, const char *key, AnyValue *v)
{
    wtg_kvs_put(g->a, &g->l, key, v);
}

static void add_s(struct gen *g, const char *key, const char *s)
{
    add_kv(g, key, wtg_str(g->a, s));
}

/* A number as an emitter may send it: an int, a double, a string, now and then junk. */
static void add_num(struct gen *g, const char *key, int64_t n)
{
    AnyValue *v;
    char s[32];
    switch (rnd(12)) {
    case 0:
    case 1:
        v = wtg_double(g->a, (double)n + (rnd(4) == 0 ? 0.5 : 0));
        break;
    case 2:
        snprintf(s, sizeof s, rnd(2) ? "%lld" : " %lld ", (long long)n);
        v = wtg_str(g->a, s);
        break;
    case 3:
        v = wtg_str(g->a, rnd(2) ? "lots" : "");
        break;
    case 4:
        v = rnd(2) ? wtg_int(g->a, -n) : wtg_bool(g->a, true);
        break;
    default:
        v = wtg_int(g->a, n);
    }
    add_kv(g, key, v);
}

static void add_cost_value(struct gen *g, const char *key)
{
    AnyValue *v;
    switch (rnd(5)) {
    case 0:
        v = wtg_str(g->a, rnd(2) ? "0.0123" : "n/a");
        break;
    case 1:
        v = wtg_int(g->a, (int64_t)rnd(3) - 1);
        break;
    case 2:
        v = wtg_double(g->a, -0.5);
        break;
    default:
        v = wtg_double(g->a, (double)rnd(1000) / 997.0);
    }
    add_kv(g, key, v);
}

static const char *const models[] = {"gpt-4o", "gpt-4o", "claude-sonnet-4-5", "o3",
                                     "gemini-2.5-pro", "mistral-large", "llama-3-70b", ""};
static const char *const providers[] = {"openai", "anthropic", "gcp.gemini", "gemini",
                                        "mistral", "aws.bedrock", "xai"};
static const char *const provider_keys[] = {"gen_ai.provider.name", "gen_ai.system",
                                            "llm.provider", "llm.system"};
static const char *const model_keys[] = {"gen_ai.request.model", "llm.request.model",
                                         "llm.model_name"};
static const char *const in_keys[] = {"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
                                      "llm.usage.prompt_tokens", "llm.token_count.prompt"};
static const char *const out_keys[] = {"gen_ai.usage.output_tokens",
                                       "gen_ai.usage.completion_tokens",
                                       "llm.usage.completion_tokens", "llm.token_count.completion"};
static const char *const cache_keys[] = {"gen_ai.usage.cache_read.input_tokens",
                                         "gen_ai.usage.cache_read_input_tokens",
                                         "gen_ai.usage.cache_creation.input_tokens",
                                         "gen_ai.usage.cache_write.input_tokens",
                                         "llm.token_count.prompt_details.cache_write",
                                         "gen_ai.usage.reasoning.output_tokens",
                                         "llm.usage.reasoning_tokens",
                                         "gen_ai.usage.audio.input_tokens",
                                         "gen_ai.usage.image.output_tokens"};
static const char *const tiers[] = {"openai.response.service_tier",
                                    "gen_ai.openai.request.service_tier"};
static const char *const tier_values[] = {"flex", "priority", "default"};
static const char *const tenants[] = {"acme", "globex", "initech"};

/* Attributes of one LLM call, in a random mix of naming generations, shuffled. */
static void llm_attrs(struct gen *g)
{
    add_s(g, PICK(model_keys), PICK(models));
    if (rnd(3) == 0)
        add_s(g, rnd(2) ? "gen_ai.response.model" : "llm.response.model",
              rnd(2) ? PICK(models) : "gpt-4o-2024-08-06");
    if (rnd(6))
        add_s(g, PICK(provider_keys), PICK(providers));
    if (rnd(8))
        add_num(g, PICK(in_keys), rnd(300000));
    if (rnd(8))
        add_num(g, PICK(out_keys), rnd(5000));
    for (uint32_t i = rnd(4); i > 0; i--)
        add_num(g, PICK(cache_keys), rnd(400000));
    if (rnd(6) == 0)
        add_s(g, PICK(tiers), PICK(tier_values));
    if (rnd(8) == 0)
        add_s(g, rnd(2) ? "gen_ai.request.batch" : "llm.batch", rnd(2) ? "true" : "no");
    if (rnd(4) == 0)
        add_s(g, "tenant.id", PICK(tenants));
    if (rnd(5) == 0) /* a provider-reported cost, any accepted name */
        add_cost_value(g, cost_provider_attributes[rnd(5)]);
    if (rnd(8) == 0)
        add_s(g, "gen_ai.usage.cost.currency", rnd(2) ? "EUR" : "");
    if (rnd(8) == 0)
        add_s(g, "gen_ai.usage.cost.source", "local");
    if (rnd(10) == 0)
        add_kv(g, "llmotlp.cost.unpriced", wtg_bool(g->a, true));
    if (rnd(10) == 0) /* a model attribute without a value: read as absent by both */
        add_kv(g, "gen_ai.request.model", NULL);
    if (rnd(10) == 0) /* an attribute the processor writes, without a value */
        add_kv(g, rnd(2) ? "gen_ai.usage.cost.source" : "gen_ai.usage.cost.currency", NULL);
    if (rnd(10) == 0) /* a map value where a count belongs */
        add_kv(g, PICK(in_keys), wtg_bytes(g->a, "abc", 3));
    add_s(g, "http.request.method", "POST"); /* not the processor's */
    add_s(g, "auth.token_type", "bearer");
    if (rnd(4) == 0) /* a second copy of some attribute */
        wtg_kvs_add(g->a, &g->l, g->l.kv[rnd((uint32_t)g->l.n)]);
    wtg_shuffle(&rng_state, g->l.kv, g->l.n);
}

static Span *mk_span(struct arena *a, uint32_t trace, uint32_t n, bool llm)
{
    Span *sp = wtg_span(a);
    sp->trace_id = wtg_id_num(a, 16, trace);
    sp->span_id = wtg_id_num(a, 8, n);
    sp->name = llm ? "chat" : "POST /v1/chat/completions";
    sp->kind = llm ? 3 : 2;
    int64_t end = T_SPAN + (int64_t)rnd(60);
    sp->start_time_unix_nano = (uint64_t)(end - 2) * 1000000000ULL;
    sp->end_time_unix_nano = rnd(20) == 0 ? 0 : (uint64_t)end * 1000000000ULL + 250000000ULL;
    if (rnd(10) == 0) { /* 10% errors */
        Opentelemetry__Proto__Trace__V1__Status *st = wtg_alloc(a, sizeof *st);
        opentelemetry__proto__trace__v1__status__init(st);
        st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
        st->message = "rate limited";
        sp->status = st;
    }
    struct gen g = {.a = a};
    if (llm)
        llm_attrs(&g);
    else
        add_s(&g, "http.request.method", "POST");
    sp->attributes = g.l.kv;
    sp->n_attributes = g.l.n;
    return sp;
}

/* 1–3 resources, 1–2 scopes each, traces of an HTTP root and 1–4 LLM calls. */
static uint8_t *gen_request(size_t *len)
{
    struct arena *a = arena_new(0);
    TraceRequest *req = wtg_traces(a, 1 + rnd(3));
    uint32_t trace = 0, span = 0;
    for (size_t r = 0; r < req->n_resource_spans; r++) {
        struct gen g = {.a = a};
        add_s(&g, "service.name", "gateway");
        if (rnd(2))
            add_s(&g, "tenant.id", rnd(4) ? PICK(tenants) : "");
        Opentelemetry__Proto__Resource__V1__Resource *res = wtg_resource(a, g.l.kv, g.l.n);
        ResourceSpans *rs = wtg_resource_spans(a, res, 1 + rnd(2));
        for (size_t s = 0; s < rs->n_scope_spans; s++) {
            size_t cap = 16;
            ScopeSpans *ss = wtg_scope_spans(a, NULL, cap);
            for (uint32_t t = rnd(3); t > 0 || ss->n_spans == 0; t--) {
                trace++;
                ss->spans[ss->n_spans++] = mk_span(a, trace, ++span, false);
                for (uint32_t c = 1 + rnd(4); c > 0 && ss->n_spans < cap; c--)
                    ss->spans[ss->n_spans++] = mk_span(a, trace, ++span, true);
                if (ss->n_spans + 5 > cap)
                    break;
            }
            rs->scope_spans[s] = ss;
        }
        req->resource_spans[r] = rs;
    }
    uint8_t *buf = tu_pack(&req->base, len);
    arena_free(a);
    return buf;
}

/* ---- comparing --------------------------------------------------------------------------- */

/* The request a batch carries, re-packed by protobuf-c (malloc'd): equal bytes for two batches
 * mean equal requests, field by field and in the same order. Nothing is normalized. */
static uint8_t *canonical(struct batch *b, size_t *len)
{
    uint8_t *out = wtg_canonical_batch(b, 0, len);
    assert_non_null(out);
    return out;
}

/* Attributes named `key` (with the string value `value`, unless NULL) in a batch's request. */
static uint64_t count_attr(struct batch *b, const char *key, const char *value)
{
    const TraceRequest *r = (const TraceRequest *)batch_decoded(b, NULL);
    assert_non_null(r);
    uint64_t n = 0;
    for (size_t i = 0; i < r->n_resource_spans; i++)
        for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++) {
            const ScopeSpans *ss = r->resource_spans[i]->scope_spans[j];
            for (size_t k = 0; k < ss->n_spans; k++)
                for (size_t a = 0; a < ss->spans[k]->n_attributes; a++) {
                    const KeyValue *kv = ss->spans[k]->attributes[a];
                    n += strcmp(kv->key, key) == 0 &&
                         (!value || (kv->value && kv->value->value_case == V_STRING &&
                                     strcmp(kv->value->string_value, value) == 0));
                }
        }
    return n;
}

/* ---- tests ------------------------------------------------------------------------------- */

/* Generated requests through the index (with the service's interest, and with every attribute)
 * and through the structs: the same request and the same metrics come out. */
static void test_differential(void **state)
{
    (void)state;
    struct proc *ix = proc_new(true), *all = proc_new(false), *st = proc_new(false);
    rng_state = 0x9e3779b97f4a7c15ULL;
    uint64_t priced = 0, unpriced = 0, reported = 0;
    for (int n = 0; n < 400; n++) {
        size_t len;
        uint8_t *wire = gen_request(&len);
        struct error err = {0};
        struct batch *bi = batch_from_wire(SIGNAL_TRACES, wire, len, &err);
        struct batch *ba = batch_from_wire(SIGNAL_TRACES, wire, len, &err);
        assert_non_null(bi);
        assert_non_null(ba);
        struct arena *arena = arena_new(len * 4 + 1024);
        ProtobufCMessage *msg = protobuf_c_message_unpack(
            &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor,
            arena_allocator(arena), len, wire);
        assert_non_null(msg);
        struct batch *bs = batch_from_msg(SIGNAL_TRACES, arena, msg);
        free(wire);

        assert_int_equal(cost_processor_factory.consume(ix->self, bi), CONSUME_OK);
        assert_int_equal(cost_processor_factory.consume(all->self, ba), CONSUME_OK);
        assert_int_equal(cost_processor_factory.consume(st->self, bs), CONSUME_OK);
        assert_int_equal(ix->rec.calls, 1);
        assert_int_equal(all->rec.calls, 1);
        assert_int_equal(st->rec.calls, 1);
        /* each went the way it was meant to */
        assert_null(st->rec.got->index);

        size_t li, la, ls;
        uint8_t *ci = canonical(ix->rec.got, &li);
        uint8_t *ca = canonical(all->rec.got, &la);
        uint8_t *cs = canonical(st->rec.got, &ls);
        if (li != ls || memcmp(ci, cs, li) != 0) {
            wtg_explain(stderr, SIGNAL_TRACES, ci, li, cs, ls);
            fail_msg("request %d: index (service interest) and structs differ", n);
        }
        if (la != ls || memcmp(ca, cs, la) != 0) {
            wtg_explain(stderr, SIGNAL_TRACES, ca, la, cs, ls);
            fail_msg("request %d: index (every attribute) and structs differ", n);
        }
        priced += count_attr(st->rec.got, "gen_ai.usage.cost.source", "local");
        reported += count_attr(st->rec.got, "gen_ai.usage.cost.source", "provider");
        unpriced += count_attr(st->rec.got, "llmotlp.cost.unpriced", NULL);
        free(ci);
        free(ca);
        free(cs);
        wtg_sink_clear(&ix->rec);
        wtg_sink_clear(&all->rec);
        wtg_sink_clear(&st->rec);
        batch_unref(bi);
        batch_unref(ba);
        batch_unref(bs);
    }
    /* the generator reached what it is for */
    assert_true(priced > 200);
    assert_true(unpriced > 50);
    assert_true(reported > 50);

    char *mi = metrics_text(ix), *ma = metrics_text(all), *ms = metrics_text(st);
    assert_non_null(strstr(ms, "llmotlp_cost_priced_spans"));
    assert_string_equal(mi, ms);
    assert_string_equal(ma, ms);
    free(mi);
    free(ma);
    free(ms);
    proc_free(ix);
    proc_free(all);
    proc_free(st);
}

/* A request whose LLM spans already carry a cost in the current form, or that carries none, is
 * forwarded as the very batch and bytes that came in, even when shared (no private copy). */
static void test_nothing_to_change(void **state)
{
    (void)state;
    struct proc *p = proc_new(true);
    struct arena *a = arena_new(0);
    struct gen g = {.a = a};
    add_s(&g, "gen_ai.request.model", "gpt-4o");
    add_num(&g, "gen_ai.usage.input_tokens", 10); /* whatever form rnd() picks: still priced */
    add_kv(&g, "gen_ai.usage.cost.amount", wtg_double(a, 0.25));
    add_s(&g, "gen_ai.usage.cost.currency", "USD");
    add_s(&g, "gen_ai.usage.cost.source", "provider");
    Span *sp = wtg_span(a);
    sp->attributes = g.l.kv;
    sp->n_attributes = g.l.n;
    size_t len;
    uint8_t *wire = tu_pack(&wtg_one_scope_traces(a, NULL, &sp, 1)->base, &len);
    arena_free(a);

    struct batch *b = batch_from_wire(SIGNAL_TRACES, wire, len, NULL);
    free(wire);
    assert_non_null(b);
    struct batch *other = batch_ref(b);
    const uint8_t *before;
    size_t before_len;
    assert_int_equal(batch_encoded(b, &before, &before_len, NULL), 0);
    assert_int_equal(cost_processor_factory.consume(p->self, b), CONSUME_OK);
    assert_int_equal(p->rec.calls, 1);
    assert_ptr_equal(p->rec.got, b);
    const uint8_t *after;
    size_t after_len;
    assert_int_equal(batch_encoded(p->rec.got, &after, &after_len, NULL), 0);
    assert_ptr_equal(after, before);
    assert_int_equal(after_len, before_len);
    assert_non_null(b->index);
    assert_false(b->index->dirty);
    batch_unref(other);
    batch_unref(b);
    proc_free(p);
}

/* Edits an earlier processor left in the index are what cost reads: a token count added to a
 * span whose bytes name neither "token" nor "cost" is priced, and a dropped span stays dropped. */
static void test_earlier_index_edits(void **state)
{
    (void)state;
    struct proc *p = proc_new(true);
    struct arena *a = arena_new(0);
    Span *sps[2] = {wtg_span(a), wtg_span(a)};
    struct gen g0 = {.a = a}, g1 = {.a = a};
    add_s(&g0, "gen_ai.request.model", "gpt-4o");
    add_s(&g0, "gen_ai.provider.name", "openai");
    add_s(&g1, "gen_ai.request.model", "gpt-4o");
    sps[0]->attributes = g0.l.kv, sps[0]->n_attributes = g0.l.n;
    sps[1]->attributes = g1.l.kv, sps[1]->n_attributes = g1.l.n;
    sps[0]->end_time_unix_nano = sps[1]->end_time_unix_nano = (uint64_t)T_SPAN * 1000000000ULL;
    size_t len;
    uint8_t *wire = tu_pack(&wtg_one_scope_traces(a, NULL, sps, 2)->base, &len);
    arena_free(a);
    assert_null(memmem(wire, len, "token", 5));
    struct batch *b = batch_from_wire(SIGNAL_TRACES, wire, len, NULL);
    free(wire);
    assert_non_null(b);

    /* the earlier processor: an index edit on the batch it solely owns */
    struct batch *out = NULL;
    struct wire_index *ix = batch_index_edit(b, p->interest, &out, NULL);
    assert_non_null(ix);
    assert_ptr_equal(out, b);
    assert_int_equal(ix->n_items, 2);
    assert_int_equal(wi_item_set_int(ix, &ix->items[0], "gen_ai.usage.input_tokens", 1000), 0);
    assert_int_equal(wi_item_set_int(ix, &ix->items[1], "gen_ai.usage.input_tokens", 1000), 0);
    wi_item_drop(ix, &ix->items[1]);
    batch_index_edit_done(b);

    assert_int_equal(cost_processor_factory.consume(p->self, b), CONSUME_OK);
    assert_int_equal(p->rec.calls, 1);
    const TraceRequest *r = (const TraceRequest *)batch_decoded(p->rec.got, NULL);
    assert_non_null(r);
    const ScopeSpans *got = r->resource_spans[0]->scope_spans[0];
    assert_int_equal(got->n_spans, 1);
    const AnyValue *amount = NULL;
    for (size_t i = 0; i < got->spans[0]->n_attributes; i++)
        if (strcmp(got->spans[0]->attributes[i]->key, "gen_ai.usage.cost.amount") == 0)
            amount = got->spans[0]->attributes[i]->value;
    assert_non_null(amount);
    assert_int_equal(amount->value_case, V_DOUBLE);
    assert_true(fabs(amount->double_value - 0.0025) < 1e-12); /* 1000 × 2.50 / 1e6 */
    batch_unref(b);
    proc_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential),
        cmocka_unit_test(test_nothing_to_change),
        cmocka_unit_test(test_earlier_index_edits),
    };
    return cmocka_run_group_tests(tests, setup_db, teardown_db);
}
