/* test_cost.c — the cost processor against a real pricing DB in a temporary directory: prices are
 * written with pricing_admin_set (as `llmotlp pricing set` does), requests go in through the
 * factory's consume(), and a recording downstream decodes what comes out. Every expected cost is
 * computed by hand in the comment beside it (prices are per million tokens). The hot-update test
 * uses the real reload timer and polls for the new price, with no timing assertion. */
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
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/pricing.h"
#include "core/telemetry.h"
#include "processors/cost/cost.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

#define T1 1700000000LL          /* gpt-4o-mini's price changes here (unix seconds) */
#define T_SPAN 1750000000LL      /* end time of most test spans */
#define EPS 1e-12

/* ---- the pricing DB ---------------------------------------------------------------------- */

static char tmpdir[64];
static char db_path[128];

static struct price mkprice(const char *provider, const char *model, double in, double cr,
                            double cw, double out, double reasoning)
{
    struct price p;
    pricing_price_init(&p);
    snprintf(p.provider, sizeof p.provider, "%s", provider);
    snprintf(p.model, sizeof p.model, "%s", model);
    snprintf(p.currency, sizeof p.currency, "USD");
    p.effective_from = 0;
    p.effective_to = INT64_MAX;
    p.input = in;
    p.cache_read = cr;
    p.cache_write = cw;
    p.output = out;
    p.reasoning = reasoning;
    return p;
}

static void set_price(const struct price *p, const char *tenant)
{
    struct error err = {0};
    if (pricing_admin_set(db_path, p, tenant, &err) != 0)
        fail_msg("pricing_admin_set %s/%s: %s", p->provider, p->model, err.msg);
}

static int setup_db(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_cost_XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(db_path, sizeof db_path, "%s/prices.db", tmpdir);
    struct error err = {0};
    struct pricing_store *s = pricing_open(db_path, true, &err);
    if (!s) {
        fprintf(stderr, "pricing_open: %s\n", err.msg);
        return -1;
    }
    pricing_close(s);

    struct price p = mkprice("openai", "gpt-4o", 2.50, 1.25, -1, 10.00, -1);
    p.batch_discount = 0.5;
    set_price(&p, NULL);
    p = mkprice("openai", "gpt-4o", 2.00, -1, -1, 8.00, -1); /* acme's negotiated price */
    set_price(&p, "acme");
    p = mkprice("anthropic", "claude-sonnet-4-5", 3.00, 0.30, 3.75, 15.00, -1);
    set_price(&p, NULL);
    p = mkprice("openai", "o3", 2.00, 0.50, -1, 8.00, 12.00);
    set_price(&p, NULL);
    p = mkprice("openai", "gpt-4o-mini", 0.15, 0.075, -1, 0.60, -1);
    p.effective_to = T1;
    set_price(&p, NULL);
    p = mkprice("openai", "gpt-4o-mini", 0.30, 0.15, -1, 1.20, -1);
    p.effective_from = T1;
    set_price(&p, NULL);
    p = mkprice("gcp.gemini", "gemini-2.5-pro", 1.25, 0.125, -1, 10.00, -1);
    p.tiers[0] = (struct price_tier){200000, 2.50, -1, -1, 15.00};
    p.n_tiers = 1;
    set_price(&p, NULL);
    if (pricing_admin_set_discount(db_path, "globex", "openai", "*", 0.10, 0, &err) != 0) {
        fprintf(stderr, "discount: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown_db(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- a recording downstream -------------------------------------------------------------- */

struct recorder {
    struct consumer c;
    pthread_mutex_t lock;
    struct batch *got[64];
    size_t n;
};

static enum consume_status rec_consume(struct consumer *self, struct batch *b)
{
    struct recorder *r = (struct recorder *)self;
    pthread_mutex_lock(&r->lock);
    if (r->n < 64)
        r->got[r->n++] = batch_ref(b);
    pthread_mutex_unlock(&r->lock);
    return CONSUME_OK;
}

static void rec_clear(struct recorder *r)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++)
        batch_unref(r->got[i]);
    r->n = 0;
    pthread_mutex_unlock(&r->lock);
}

/* ---- the processor ----------------------------------------------------------------------- */

struct fixture {
    struct recorder rec;
    struct telemetry *tel;
    struct cost_config cfg;
    void *proc;
};

static struct fixture *fixture_new(const char *extra_yaml)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->rec.c.consume = rec_consume;
    pthread_mutex_init(&f->rec.lock, NULL);
    f->tel = telemetry_new();
    char yaml[512];
    snprintf(yaml, sizeof yaml, "database: %s\n%s", db_path, extra_yaml ? extra_yaml : "");
    struct error err = {0};
    struct cnode *node = config_parse_string(yaml, "test", &err);
    assert_non_null(node);
    const struct component_factory *fac = component_find(COMPONENT_PROCESSOR, "cost");
    assert_ptr_equal(fac, &cost_processor_factory);
    if (config_bind(fac->fields, node, &f->cfg, &err) != 0)
        fail_msg("bind: %s", err.msg);
    cnode_free(node);
    assert_int_equal(fac->validate(&f->cfg, &err), 0);
    struct component_env env = {.id = "cost", .log_name = "processor/cost",
                                .signal = SIGNAL_TRACES, .telemetry = f->tel};
    env.next[SIGNAL_TRACES] = &f->rec.c;
    f->proc = fac->create(&f->cfg, &env, &err);
    if (!f->proc)
        fail_msg("create: %s", err.msg);
    assert_int_equal(fac->start(f->proc, &err), 0);
    return f;
}

static void fixture_free(struct fixture *f)
{
    cost_processor_factory.shutdown(f->proc, clock_now_ns() + 1000000000LL);
    cost_processor_factory.destroy(f->proc);
    config_free_bound(cost_processor_factory.fields, &f->cfg);
    rec_clear(&f->rec);
    pthread_mutex_destroy(&f->rec.lock);
    telemetry_free(f->tel);
    free(f);
}

/* ---- building requests ------------------------------------------------------------------- */

struct attr {
    const char *key;
    char kind;          /* 's' string, 'i' int, 'd' double, 'b' bool */
    const char *s;
    int64_t i;
    double d;
};
#define S(k, v) {k, 's', v, 0, 0}
#define I(k, v) {k, 'i', NULL, v, 0}
#define D(k, v) {k, 'd', NULL, 0, v}
#define B(k, v) {k, 'b', NULL, v, 0}
#define END {NULL, 0, NULL, 0, 0}

static KeyValue **mk_attrs(struct arena *a, const struct attr *at, size_t *n)
{
    size_t c = 0;
    while (at && at[c].key)
        c++;
    KeyValue **kvs = arena_alloc(a, (c + 1) * sizeof *kvs);
    for (size_t i = 0; i < c; i++) {
        KeyValue *kv = arena_alloc(a, sizeof *kv);
        AnyValue *v = arena_alloc(a, sizeof *v);
        opentelemetry__proto__common__v1__key_value__init(kv);
        opentelemetry__proto__common__v1__any_value__init(v);
        kv->key = (char *)at[i].key;
        kv->value = v;
        switch (at[i].kind) {
        case 's':
            v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
            v->string_value = (char *)at[i].s;
            break;
        case 'i':
            v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
            v->int_value = at[i].i;
            break;
        case 'd':
            v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
            v->double_value = at[i].d;
            break;
        default:
            v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
            v->bool_value = at[i].i != 0;
        }
        kvs[i] = kv;
    }
    *n = c;
    return kvs;
}

struct span_spec {
    int64_t end_s;                /* unix seconds; 0 = T_SPAN */
    const struct attr *attrs;
};

/* One request: one resource (service.name plus res_attrs), one scope, the spans. */
static struct batch *mk_batch(const struct attr *res_attrs, const struct span_spec *specs,
                              size_t n)
{
    struct arena *a = arena_new(0);
    TraceRequest req;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = arena_alloc(a, sizeof *rs);
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = arena_alloc(a, sizeof *ss);
    Opentelemetry__Proto__Resource__V1__Resource *res = arena_alloc(a, sizeof *res);
    Opentelemetry__Proto__Common__V1__InstrumentationScope *scope = arena_alloc(a, sizeof *scope);
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    opentelemetry__proto__resource__v1__resource__init(res);
    opentelemetry__proto__common__v1__instrumentation_scope__init(scope);
    res->attributes = mk_attrs(a, res_attrs, &res->n_attributes);
    scope->name = "LLMProxy.LLM";
    req.n_resource_spans = 1;
    req.resource_spans = &rs;
    rs->resource = res;
    rs->n_scope_spans = 1;
    rs->scope_spans = &ss;
    ss->scope = scope;
    ss->n_spans = n;
    ss->spans = arena_alloc(a, (n + 1) * sizeof *ss->spans);
    for (size_t i = 0; i < n; i++) {
        Span *sp = arena_alloc(a, sizeof *sp);
        opentelemetry__proto__trace__v1__span__init(sp);
        uint8_t *tid = arena_alloc(a, 16), *sid = arena_alloc(a, 8);
        memset(tid, 0x11, 16);
        memset(sid, 0, 8);
        sid[0] = (uint8_t)(i + 1);
        sp->trace_id = (ProtobufCBinaryData){16, tid};
        sp->span_id = (ProtobufCBinaryData){8, sid};
        sp->name = "chat";
        int64_t end = specs[i].end_s ? specs[i].end_s : T_SPAN;
        sp->start_time_unix_nano = (uint64_t)(end - 2) * 1000000000ULL;
        sp->end_time_unix_nano = (uint64_t)end * 1000000000ULL + 500000000ULL;
        sp->attributes = mk_attrs(a, specs[i].attrs, &sp->n_attributes);
        ss->spans[i] = sp;
    }
    size_t len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(&req);
    uint8_t *buf = malloc(len);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, buf);
    arena_free(a);
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    free(buf);
    if (!b)
        fail_msg("batch_from_wire: %s", err.msg);
    return b;
}

/* Runs one request through the processor; returns the decoded request that came out. */
static const TraceRequest *run(struct fixture *f, const struct attr *res_attrs,
                               const struct span_spec *specs, size_t n)
{
    struct batch *b = mk_batch(res_attrs, specs, n);
    size_t before = f->rec.n;
    assert_int_equal(cost_processor_factory.consume(f->proc, b), CONSUME_OK);
    batch_unref(b);
    assert_int_equal(f->rec.n, before + 1);
    struct error err = {0};
    const TraceRequest *out =
        (const TraceRequest *)batch_decoded(f->rec.got[f->rec.n - 1], &err);
    assert_non_null(out);
    assert_int_equal(out->n_resource_spans, 1);
    assert_int_equal(out->resource_spans[0]->scope_spans[0]->n_spans, n);
    return out;
}

static const Span *span_of(const TraceRequest *r, size_t i)
{
    return r->resource_spans[0]->scope_spans[0]->spans[i];
}

static const AnyValue *attr_of(const Span *s, const char *key)
{
    const AnyValue *found = NULL;
    for (size_t i = 0; i < s->n_attributes; i++)
        if (strcmp(s->attributes[i]->key, key) == 0) {
            assert_null(found); /* every key at most once */
            found = s->attributes[i]->value;
        }
    return found;
}

static const char *str_of(const Span *s, const char *key)
{
    const AnyValue *v = attr_of(s, key);
    if (!v)
        return NULL;
    assert_int_equal(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
    return v->string_value;
}

/* Asserts the span was priced locally at `expected` USD. */
static void assert_cost(const Span *s, double expected)
{
    const AnyValue *v = attr_of(s, "gen_ai.usage.cost.amount");
    if (!v)
        fail_msg("span has no gen_ai.usage.cost.amount (expected %.9f)", expected);
    assert_int_equal(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE);
    if (fabs(v->double_value - expected) > EPS)
        fail_msg("cost %.12f, expected %.12f", v->double_value, expected);
    assert_string_equal(str_of(s, "gen_ai.usage.cost.currency"), "USD");
    assert_string_equal(str_of(s, "gen_ai.usage.cost.source"), "local");
    assert_null(attr_of(s, "llmotlp.cost.unpriced"));
}

static void assert_no_cost(const Span *s)
{
    assert_null(attr_of(s, "gen_ai.usage.cost.amount"));
    assert_null(attr_of(s, "gen_ai.usage.cost.currency"));
    assert_null(attr_of(s, "gen_ai.usage.cost.source"));
}

/* ---- tests ------------------------------------------------------------------------------- */

/* The table of hand-computed costs. */
static void test_cost_table(void **state)
{
    (void)state;
    /* the table's Anthropic spans follow semconv (input includes the cache): said so */
    struct fixture *f = fixture_new("cache_tokens_in_input_by_provider:\n  anthropic: included\n");
    static const struct attr
        /* (1000−400)×2.50 + 400×1.25 + 200×10 = 1500 + 500 + 2000 = 4000 → 0.004; the dated
         * response model resolves to gpt-4o */
        cached_openai[] = {S("gen_ai.provider.name", "openai"),
                           S("gen_ai.request.model", "gpt-4o"),
                           S("gen_ai.response.model", "gpt-4o-2024-08-06"),
                           I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 200),
                           I("gen_ai.usage.cache_read.input_tokens", 400), END},
        /* (5000−3000−1000)×3 + 3000×0.30 + 1000×3.75 + 500×15 = 3000 + 900 + 3750 + 7500 = 15150
         * → 0.01515 (v1.41 cache_creation name) */
        anthropic_v141[] = {S("gen_ai.provider.name", "anthropic"),
                            S("gen_ai.response.model", "claude-sonnet-4-5"),
                            I("gen_ai.usage.input_tokens", 5000), I("gen_ai.usage.output_tokens", 500),
                            I("gen_ai.usage.cache_read.input_tokens", 3000),
                            I("gen_ai.usage.cache_creation.input_tokens", 1000), END},
        /* the same under the GenAI repo's newer cache_write name → 0.01515 */
        anthropic_new[] = {S("gen_ai.provider.name", "anthropic"),
                           S("gen_ai.response.model", "claude-sonnet-4-5"),
                           I("gen_ai.usage.input_tokens", 5000), I("gen_ai.usage.output_tokens", 500),
                           I("gen_ai.usage.cache_read.input_tokens", 3000),
                           I("gen_ai.usage.cache_write.input_tokens", 1000), END},
        /* Anthropic's native counts (input 1000 excludes the cache): 3000+1000 > 1000, so input
         * is taken as 1000+3000+1000 = 5000 → the same 0.01515 */
        anthropic_native[] = {S("gen_ai.provider.name", "anthropic"),
                              S("gen_ai.response.model", "claude-sonnet-4-5"),
                              I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 500),
                              I("gen_ai.usage.cache_read.input_tokens", 3000),
                              I("gen_ai.usage.cache_creation.input_tokens", 1000), END},
        /* 1000×2 + (3000−2000)×8 + 2000×12 = 2000 + 8000 + 24000 = 34000 → 0.034 */
        reasoning[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "o3"),
                       I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 3000),
                       I("gen_ai.usage.reasoning.output_tokens", 2000), END},
        /* (1000×2.50 + 200×10) × (1 − 0.5) = 4500 × 0.5 = 2250 → 0.00225 */
        batch[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o"),
                   I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 200),
                   B("gen_ai.request.batch", 1), END},
        /* 300000 > 200000: the whole call at the tier: 300000×2.50 + 1000×15 = 765000 → 0.765 */
        long_ctx[] = {S("gen_ai.provider.name", "gcp.gemini"),
                      S("gen_ai.request.model", "gemini-2.5-pro"),
                      I("gen_ai.usage.input_tokens", 300000), I("gen_ai.usage.output_tokens", 1000),
                      END},
        /* below it: 100000×1.25 + 1000×10 = 135000 → 0.135 */
        short_ctx[] = {S("gen_ai.provider.name", "gcp.gemini"),
                       S("gen_ai.request.model", "gemini-2.5-pro"),
                       I("gen_ai.usage.input_tokens", 100000), I("gen_ai.usage.output_tokens", 1000),
                       END},
        /* legacy names: gen_ai.system, prompt/completion tokens, token counts as strings:
         * 1000×2.50 + 200×10 = 4500 → 0.0045 */
        legacy[] = {S("gen_ai.system", "openai"), S("gen_ai.request.model", "gpt-4o"),
                    S("gen_ai.usage.prompt_tokens", "1000"), I("gen_ai.usage.completion_tokens", 200),
                    END},
        /* OpenInference names and a provider prefix: llm.model_name openai/gpt-4o,
         * llm.token_count.*: 2000×2.50 + 100×10 = 6000 → 0.006 */
        openinference[] = {S("llm.provider", "openai"), S("llm.model_name", "openai/gpt-4o"),
                           I("llm.token_count.prompt", 2000), I("llm.token_count.completion", 100),
                           END},
        /* not an LLM call: no model, no tokens */
        http[] = {S("http.request.method", "POST"), S("http.route", "/v1/chat/completions"), END},
        /* a model but no token counts (e.g. a failed call): nothing to price */
        no_tokens[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o"),
                       END};
    const struct span_spec specs[] = {
        {0, cached_openai}, {0, anthropic_v141}, {0, anthropic_new}, {0, anthropic_native},
        {0, reasoning},     {0, batch},          {0, long_ctx},      {0, short_ctx},
        {0, legacy},        {0, openinference},  {0, http},          {0, no_tokens},
    };
    const double expected[] = {0.004, 0.01515, 0.01515, 0.01515, 0.034, 0.00225,
                               0.765, 0.135,   0.0045,  0.006};
    size_t n = sizeof specs / sizeof specs[0];
    const TraceRequest *out = run(f, NULL, specs, n);
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_cost(span_of(out, i), expected[i]);
    /* native counts contradict "included": priced apart, and said so */
    assert_string_equal(str_of(span_of(out, 3), "llmotlp.cost.assumption"),
                        "cache_tokens_excluded_from_input:cache_exceeds_input");
    assert_null(attr_of(span_of(out, 1), "llmotlp.cost.assumption"));
    assert_null(attr_of(span_of(out, 0), "llmotlp.cost.assumption"));
    assert_no_cost(span_of(out, 10));
    assert_null(attr_of(span_of(out, 10), "llmotlp.cost.unpriced"));
    assert_no_cost(span_of(out, 11));
    assert_null(attr_of(span_of(out, 11), "llmotlp.cost.unpriced"));
    /* The original attributes are all still there. */
    assert_int_equal(span_of(out, 0)->n_attributes, 6 + 3);
    assert_int_equal(span_of(out, 3)->n_attributes, 6 + 4);
    assert_int_equal(span_of(out, 10)->n_attributes, 2);

    assert_int_equal(telemetry_value(f->tel, "llmotlp_cost_priced_spans",
                                     "processor=\"cost\",source=\"local\""), 10);
    /* 0.004 + 3×0.01515 + 0.034 + 0.00225 + 0.765 + 0.135 + 0.0045 + 0.006 = 0.99620 → 996200 µ */
    assert_int_equal(telemetry_value(f->tel, "llmotlp_cost_amount_micros",
                                     "processor=\"cost\",currency=\"USD\""), 996200);
    fixture_free(f);
}

/* The price in force at the span's END time: gpt-4o-mini changes at T1. */
static void test_effective_date(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(NULL);
    static const struct attr mini[] = {S("gen_ai.provider.name", "openai"),
                                       S("gen_ai.request.model", "gpt-4o-mini"),
                                       I("gen_ai.usage.input_tokens", 1000),
                                       I("gen_ai.usage.output_tokens", 1000), END};
    /* mk_batch ends a span at end_s + 0.5 s and starts it 2 s before end_s. */
    const struct span_spec specs[] = {
        {T1 - 1, mini}, /* ends T1−0.5: old price 1000×0.15 + 1000×0.60 = 750 → 0.00075 */
        {T1, mini},     /* starts before T1, ends T1+0.5: new price 300 + 1200 = 1500 → 0.0015 */
        {T1 - 1, mini}, /* the same key again, from the cache: still 0.00075 */
    };
    const TraceRequest *out = run(f, NULL, specs, 3);
    assert_cost(span_of(out, 0), 0.00075);
    assert_cost(span_of(out, 1), 0.0015);
    assert_cost(span_of(out, 2), 0.00075);
    fixture_free(f);
}

/* A tenant's own price (tenant on the span, or on the resource) and a tenant discount. */
static void test_tenant(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(NULL);
    static const struct attr
        /* acme's own price: 1000×2.00 + 100×8.00 = 2800 → 0.0028 */
        acme[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o"),
                  I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 100),
                  S("tenant.id", "acme"), END},
        /* globex: list price less 10 %: (1000×2.50 + 100×10) × 0.9 = 3500 × 0.9 → 0.00315 */
        globex[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o"),
                    I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 100),
                    S("tenant.id", "globex"), END},
        /* no tenant on the span: the resource's tenant.id (acme) applies → 0.0028 */
        none[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o"),
                  I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 100), END},
        /* an unknown tenant: list price 3500 → 0.0035 */
        other[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o"),
                   I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 100),
                   S("tenant.id", "initech"), END};
    static const struct attr res[] = {S("service.name", "gw"), S("tenant.id", "acme"), END};
    const struct span_spec specs[] = {{0, acme}, {0, globex}, {0, none}, {0, other}};
    const TraceRequest *out = run(f, res, specs, 4);
    assert_cost(span_of(out, 0), 0.0028);
    assert_cost(span_of(out, 1), 0.00315);
    assert_cost(span_of(out, 2), 0.0028);
    assert_cost(span_of(out, 3), 0.0035);
    fixture_free(f);

    /* A configured tenant attribute. */
    f = fixture_new("tenant_attribute: customer\n");
    static const struct attr cust[] = {S("gen_ai.provider.name", "openai"),
                                       S("gen_ai.request.model", "gpt-4o"),
                                       I("gen_ai.usage.input_tokens", 1000),
                                       I("gen_ai.usage.output_tokens", 100),
                                       S("tenant.id", "globex"), S("customer", "acme"), END};
    const struct span_spec one[] = {{0, cust}};
    out = run(f, NULL, one, 1);
    assert_cost(span_of(out, 0), 0.0028);
    fixture_free(f);
}

/* A cost the provider reported is kept and marked; legacy names are renamed. */
static void test_provider_reported(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(NULL);
    static const struct attr
        current[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o"),
                     I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 200),
                     D("gen_ai.usage.cost.amount", 0.5), END},
        with_currency[] = {S("gen_ai.request.model", "gpt-4o"), I("gen_ai.usage.input_tokens", 10),
                           D("gen_ai.usage.cost.amount", 0.25),
                           S("gen_ai.usage.cost.currency", "EUR"), END},
        openinference[] = {S("llm.model_name", "gpt-4o"), I("llm.token_count.prompt", 10),
                           S("llm.cost.total", "0.125"), END},
        openlit[] = {S("gen_ai.request.model", "unknown-model"), I("gen_ai.usage.input_tokens", 10),
                     D("gen_ai.usage.cost", 0.0625), END};
    const struct span_spec specs[] = {{0, current}, {0, with_currency}, {0, openinference},
                                      {0, openlit}};
    const TraceRequest *out = run(f, NULL, specs, 4);
    const double amounts[] = {0.5, 0.25, 0.125, 0.0625};
    const char *currencies[] = {"USD", "EUR", "USD", "USD"};
    for (size_t i = 0; i < 4; i++) {
        const Span *s = span_of(out, i);
        const AnyValue *v = attr_of(s, "gen_ai.usage.cost.amount");
        assert_non_null(v);
        assert_int_equal(v->value_case,
                         OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE);
        assert_true(fabs(v->double_value - amounts[i]) < EPS);
        assert_string_equal(str_of(s, "gen_ai.usage.cost.source"), "provider");
        assert_string_equal(str_of(s, "gen_ai.usage.cost.currency"), currencies[i]);
        assert_null(attr_of(s, "llmotlp.cost.unpriced"));
    }
    assert_null(attr_of(span_of(out, 2), "llm.cost.total"));
    assert_null(attr_of(span_of(out, 3), "gen_ai.usage.cost"));
    assert_int_equal(telemetry_value(f->tel, "llmotlp_cost_priced_spans",
                                     "processor=\"cost\",source=\"provider\""), 4);
    assert_int_equal(telemetry_value(f->tel, "llmotlp_cost_priced_spans",
                                     "processor=\"cost\",source=\"local\""), 0);
    /* 0.5 + 0.125 + 0.0625 USD; 0.25 EUR */
    assert_int_equal(telemetry_value(f->tel, "llmotlp_cost_amount_micros",
                                     "processor=\"cost\",currency=\"USD\""), 687500);
    assert_int_equal(telemetry_value(f->tel, "llmotlp_cost_amount_micros",
                                     "processor=\"cost\",currency=\"EUR\""), 250000);
    fixture_free(f);
}

/* Every documented provider-cost name and batch flag does what the header says. */
static void test_documented_names(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(NULL);
    for (size_t i = 0; cost_provider_attributes[i]; i++) {
        struct attr a[] = {S("gen_ai.request.model", "gpt-4o"), I("gen_ai.usage.input_tokens", 1),
                           S(cost_provider_attributes[i], "0.75"), END};
        const struct span_spec one[] = {{0, a}};
        const Span *s = span_of(run(f, NULL, one, 1), 0);
        const AnyValue *v = attr_of(s, "gen_ai.usage.cost.amount");
        assert_non_null(v);
        assert_true(fabs(v->double_value - 0.75) < EPS);
        assert_string_equal(str_of(s, "gen_ai.usage.cost.source"), "provider");
    }
    for (size_t i = 0; cost_batch_attributes[i]; i++) {
        /* (1000×2.50 + 200×10) × 0.5 = 2250 → 0.00225, as a bool and as the string "true" */
        struct attr b[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o"),
                           I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 200),
                           B(cost_batch_attributes[i], 1), END};
        struct attr t[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o"),
                           I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 200),
                           S(cost_batch_attributes[i], "true"), END};
        const struct span_spec two[] = {{0, b}, {0, t}};
        const TraceRequest *out = run(f, NULL, two, 2);
        assert_cost(span_of(out, 0), 0.00225);
        assert_cost(span_of(out, 1), 0.00225);
    }
    fixture_free(f);
}

/* An unknown model: no cost, flagged, counted per model. */
static void test_unpriced(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(NULL);
    static const struct attr
        mystery[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "mystery-1"),
                     I("gen_ai.usage.input_tokens", 10), I("gen_ai.usage.output_tokens", 10), END},
        /* a known model under a provider that has no price for it */
        wrong_provider[] = {S("gen_ai.provider.name", "mistral_ai"),
                            S("gen_ai.request.model", "o3"), I("gen_ai.usage.input_tokens", 10),
                            END},
        known[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o"),
                   I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 0), END};
    const struct span_spec specs[] = {{0, mystery}, {0, wrong_provider}, {0, mystery}, {0, known}};
    const TraceRequest *out = run(f, NULL, specs, 4);
    for (size_t i = 0; i < 3; i++) {
        const Span *s = span_of(out, i);
        assert_no_cost(s);
        const AnyValue *v = attr_of(s, "llmotlp.cost.unpriced");
        assert_non_null(v);
        assert_int_equal(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE);
        assert_true(v->bool_value);
    }
    assert_cost(span_of(out, 3), 0.0025); /* 1000×2.50 = 2500 → 0.0025 */
    out = run(f, NULL, specs, 1);         /* once more: the counter accumulates */
    assert_int_equal(telemetry_value(f->tel, "llmotlp_cost_unpriced_spans",
                                     "processor=\"cost\",provider=\"openai\",model=\"mystery-1\""), 3);
    assert_int_equal(telemetry_value(f->tel, "llmotlp_cost_unpriced_spans",
                                     "processor=\"cost\",provider=\"mistral_ai\",model=\"o3\""), 1);
    assert_int_equal(telemetry_value(f->tel, "llmotlp_cost_unpriced_spans_total",
                                     "processor=\"cost\""), 4);
    fixture_free(f);
}

/* Unknown model names come from the data: at most 200 get their own series, the rest share
 * model="_other"; none is lost, also when one request names more than its tally holds. */
static void test_unpriced_many(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(NULL);
    enum { N = 210 };
    static char names[N][32];
    static struct attr attrs[N][4];
    struct span_spec specs[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "unknown-model-%03d", i);
        struct attr a[4] = {S("gen_ai.request.model", names[i]),
                            I("gen_ai.usage.input_tokens", 10), END, END};
        memcpy(attrs[i], a, sizeof a);
        specs[i] = (struct span_spec){0, attrs[i]};
    }
    const TraceRequest *out = run(f, NULL, specs, N);
    int64_t series = 0; /* models with a series of their own, each counted once */
    for (int i = 0; i < N; i++) {
        assert_non_null(attr_of(span_of(out, (size_t)i), "llmotlp.cost.unpriced"));
        char labels[128];
        snprintf(labels, sizeof labels, "processor=\"cost\",provider=\"\",model=\"%s\"", names[i]);
        int64_t v = telemetry_value(f->tel, "llmotlp_cost_unpriced_spans", labels);
        assert_true(v == 0 || v == 1);
        series += v;
    }
    int64_t other = telemetry_value(f->tel, "llmotlp_cost_unpriced_spans",
                                    "processor=\"cost\",provider=\"_other\",model=\"_other\"");
    assert_int_equal(series, 200);
    assert_int_equal(other, N - 200);
    fixture_free(f);
}

/* Counts a hostile sender can choose: clamped to [0, 1e15], never an overflow. */
static void test_hostile_counts(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(NULL);
    static const struct attr big[] = {S("gen_ai.provider.name", "openai"),
                                      S("gen_ai.request.model", "gpt-4o"),
                                      I("gen_ai.usage.input_tokens", INT64_MAX),
                                      I("gen_ai.usage.cache_read.input_tokens", INT64_MAX),
                                      I("gen_ai.usage.cache_creation.input_tokens", INT64_MAX),
                                      I("gen_ai.usage.output_tokens", -5), END};
    const struct span_spec specs[] = {{0, big}};
    const TraceRequest *out = run(f, NULL, specs, 1);
    /* input = cache_read = cache_write = 1e15 → 2e15 > 1e15: counted apart, input = 3e15;
     * 1e15×2.50 (uncached; no cache-write price: input price) + 1e15×1.25 + 1e15×2.50
     * = 6.25e15 → /1e6 = 6.25e9; output −5 → 0 */
    assert_cost(span_of(out, 0), 6.25e9);
    fixture_free(f);
}

/* A request without an LLM span leaves as the very batch that came in, with its bytes. */
static void test_passthrough(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(NULL);
    static const struct attr
        http[] = {S("http.request.method", "GET"), I("http.response.status_code", 200), END},
        /* "token" in the bytes, but not an LLM span: decoded, looked at, not edited */
        auth[] = {S("auth.token_type", "bearer"), S("gen_ai.request.model", "gpt-4o"), END};
    const struct span_spec plain[] = {{0, http}, {0, http}};
    const struct span_spec tokenish[] = {{0, auth}, {0, http}};
    const struct span_spec *cases[] = {plain, tokenish};
    for (size_t c = 0; c < 2; c++) {
        struct batch *b = mk_batch(NULL, cases[c], 2);
        const uint8_t *before;
        size_t before_len;
        assert_int_equal(batch_encoded(b, &before, &before_len, NULL), 0);
        assert_int_equal(cost_processor_factory.consume(f->proc, b), CONSUME_OK);
        assert_int_equal(f->rec.n, c + 1);
        struct batch *got = f->rec.got[c];
        assert_ptr_equal(got, b);
        assert_true(got->has_wire);
        assert_ptr_equal(got->wire, before); /* the same bytes, never re-encoded */
        if (c == 0)
            assert_null(got->msg); /* not even decoded */
        batch_unref(b);
    }
    fixture_free(f);
}

/* A batch shared with another holder is priced in a private copy; the original is untouched. */
static void test_shared_batch(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(NULL);
    static const struct attr llm[] = {S("gen_ai.provider.name", "openai"),
                                      S("gen_ai.request.model", "gpt-4o"),
                                      I("gen_ai.usage.input_tokens", 1000),
                                      I("gen_ai.usage.output_tokens", 200), END};
    const struct span_spec specs[] = {{0, llm}};
    struct batch *b = mk_batch(NULL, specs, 1);
    struct batch *other = batch_ref(b); /* e.g. a fan-out to a second pipeline */
    assert_int_equal(cost_processor_factory.consume(f->proc, b), CONSUME_OK);
    assert_int_equal(f->rec.n, 1);
    assert_ptr_not_equal(f->rec.got[0], b);
    const TraceRequest *out = (const TraceRequest *)batch_decoded(f->rec.got[0], NULL);
    assert_cost(span_of(out, 0), 0.0045); /* 1000×2.50 + 200×10 = 4500 → 0.0045 */
    const TraceRequest *orig = (const TraceRequest *)batch_decoded(other, NULL);
    assert_no_cost(span_of(orig, 0));
    batch_unref(other);
    batch_unref(b);
    fixture_free(f);
}

/* A price set while the processor runs reaches new spans after a reload; a span that ended
 * before the new price's start keeps the old one. */
static void test_hot_update(void **state)
{
    (void)state;
    struct fixture *f = fixture_new("reload_interval: 100ms\n");
    int64_t now = (int64_t)time(NULL);
    static const struct attr llm[] = {S("gen_ai.provider.name", "openai"),
                                      S("gen_ai.request.model", "o3"),
                                      I("gen_ai.usage.input_tokens", 1000),
                                      I("gen_ai.usage.output_tokens", 1000), END};
    const struct span_spec late[] = {{now + 100, llm}}, early[] = {{now - 100, llm}};
    /* before: 1000×2 + 1000×8 = 10000 → 0.01 */
    const TraceRequest *out = run(f, NULL, late, 1);
    assert_cost(span_of(out, 0), 0.01);
    uint64_t gen0 = (uint64_t)telemetry_value(f->tel, "llmotlp_cost_price_reloads",
                                              "processor=\"cost\"");

    struct price p = mkprice("openai", "o3", 4.00, 1.00, -1, 16.00, -1);
    p.effective_from = now;
    set_price(&p, NULL);

    /* after the reload: 1000×4 + 1000×16 = 20000 → 0.02. Polled, at most ~10 s. */
    double got = 0;
    for (int i = 0; i < 500; i++) {
        out = run(f, NULL, late, 1);
        got = attr_of(span_of(out, 0), "gen_ai.usage.cost.amount")->double_value;
        if (fabs(got - 0.02) < EPS)
            break;
        rec_clear(&f->rec);
        usleep(20000);
    }
    assert_true(fabs(got - 0.02) < EPS);
    assert_true((uint64_t)telemetry_value(f->tel, "llmotlp_cost_price_reloads",
                                          "processor=\"cost\"") > gen0);
    /* History is not repriced: a span that ended before `now` keeps 0.01. */
    out = run(f, NULL, early, 1);
    assert_cost(span_of(out, 0), 0.01);
    fixture_free(f);
}

static void test_config(void **state)
{
    (void)state;
    struct error err = {0};
    struct cost_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct cnode *n = config_parse_string("currency: dollars\n", "t", &err);
    assert_int_equal(config_bind(cost_processor_factory.fields, n, &cfg, &err), 0);
    /* no path: the stable default (pricing_default_path), never the working directory */
    assert_true(!cfg.database || !cfg.database[0]);
    assert_true(cfg.create_database);
    assert_int_equal(cfg.reload_interval, 2000000000LL);
    assert_string_equal(cfg.tenant_attribute, "tenant.id");
    assert_int_not_equal(cost_processor_factory.validate(&cfg, &err), 0);
    assert_non_null(strstr(err.msg, "currency"));
    config_free_bound(cost_processor_factory.fields, &cfg);
    cnode_free(n);

    /* A missing DB with create_database: false is an error at create, naming the path. */
    memset(&cfg, 0, sizeof cfg);
    char yaml[256];
    snprintf(yaml, sizeof yaml, "database: %s/missing.db\ncreate_database: false\n", tmpdir);
    n = config_parse_string(yaml, "t", &err);
    assert_int_equal(config_bind(cost_processor_factory.fields, n, &cfg, &err), 0);
    struct recorder rec = {.c = {rec_consume}};
    struct component_env env = {.id = "cost", .signal = SIGNAL_TRACES};
    env.next[SIGNAL_TRACES] = &rec.c;
    assert_null(cost_processor_factory.create(&cfg, &env, &err));
    assert_non_null(strstr(err.msg, "missing.db"));
    /* and in a logs pipeline */
    env.signal = SIGNAL_LOGS;
    env.next[SIGNAL_LOGS] = &rec.c;
    assert_null(cost_processor_factory.create(&cfg, &env, &err));
    assert_non_null(strstr(err.msg, "traces"));
    config_free_bound(cost_processor_factory.fields, &cfg);
    cnode_free(n);
}

/* The amount a span gets, and what pricing_quote (the function behind `pricing quote`) says for
 * the same inputs on the same DB: the same double, not merely close. */
static void assert_same_as_quote(const Span *s, const char *provider, const char *model,
                                 struct usage u, enum pricing_cache_convention c)
{
    struct error err = {0};
    struct pricing_store *st = pricing_open(db_path, false, &err);
    assert_non_null(st);
    struct price pr;
    double cost = -1;
    const char *assumption = NULL;
    assert_true(pricing_quote(st, provider, model, NULL, (int64_t)time(NULL), &u, c, &pr, &cost,
                              &assumption));
    pricing_close(st);
    const AnyValue *v = attr_of(s, "gen_ai.usage.cost.amount");
    assert_non_null(v);
    if (v->double_value != cost)
        fail_msg("service %.17g, quote %.17g", v->double_value, cost);
    const char *said = str_of(s, "llmotlp.cost.assumption");
    if (assumption)
        assert_string_equal(said, assumption);
    else
        assert_null(said);
}

/* cache_tokens_in_input: auto guesses for Anthropic models and says so; a setting per provider
 * (the span's, else the price's) or for all replaces the guess. */
static void test_cache_convention(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(NULL);
    static const struct attr
        /* Anthropic, auto: cache within input is read as semconv counts it (included), a guess
         * said on the span: (5000−4000)×3 + 3000×0.30 + 1000×3.75 + 500×15
         * = 3000 + 900 + 3750 + 7500 = 15150 */
        anthropic[] = {S("gen_ai.provider.name", "anthropic"),
                       S("gen_ai.response.model", "claude-sonnet-4-5"),
                       I("gen_ai.usage.input_tokens", 5000), I("gen_ai.usage.output_tokens", 500),
                       I("gen_ai.usage.cache_read.input_tokens", 3000),
                       I("gen_ai.usage.cache_creation.input_tokens", 1000), END},
        /* Claude on Bedrock, auto, the same guess: (1000−500)×3 + 500×0.30 = 1650 */
        bedrock[] = {S("gen_ai.provider.name", "aws.bedrock"),
                     S("gen_ai.request.model", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
                     I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 0),
                     I("gen_ai.usage.cache_read.input_tokens", 500), END},
        /* OpenAI, auto = semconv: (1000−400)×2.50 + 400×1.25 + 200×10 = 4000, no guess */
        openai[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o"),
                    I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 200),
                    I("gen_ai.usage.cache_read.input_tokens", 400), END};
    const struct span_spec specs[] = {{0, anthropic}, {0, bedrock}, {0, openai}};
    const TraceRequest *out = run(f, NULL, specs, 3);
    assert_cost(span_of(out, 0), 0.01515);
    assert_cost(span_of(out, 1), 0.00165);
    assert_cost(span_of(out, 2), 0.004);
    assert_string_equal(str_of(span_of(out, 0), "llmotlp.cost.assumption"),
                        "cache_tokens_included_in_input:semconv");
    assert_string_equal(str_of(span_of(out, 1), "llmotlp.cost.assumption"),
                        "cache_tokens_included_in_input:semconv");
    assert_null(attr_of(span_of(out, 2), "llmotlp.cost.assumption"));
    assert_int_equal(telemetry_value(f->tel, "llmotlp_cost_assumed_spans",
                                     "processor=\"cost\",assumption=\"cache_tokens_included_"
                                     "in_input:semconv\""), 2);
    struct usage u = {.input = 5000, .output = 500, .cache_read = 3000, .cache_write = 1000,
                      .reasoning = -1};
    assert_same_as_quote(span_of(out, 0), "anthropic", "claude-sonnet-4-5", u, PRICING_CACHE_AUTO);
    u = (struct usage){.input = 1000, .cache_read = 500, .reasoning = -1};
    assert_same_as_quote(span_of(out, 1), "aws.bedrock",
                         "us.anthropic.claude-sonnet-4-5-20250929-v1:0", u, PRICING_CACHE_AUTO);
    fixture_free(f);

    /* Bedrock said included (by the span's provider), everything else excluded:
     * Bedrock (1000−500)×3 + 500×0.30 = 1650; OpenAI 1000×2.50 + 400×1.25 + 200×10 = 5000 */
    f = fixture_new("cache_tokens_in_input: excluded\n"
                    "cache_tokens_in_input_by_provider:\n  aws.bedrock: included\n");
    out = run(f, NULL, specs, 3);
    assert_cost(span_of(out, 0), 0.02715);
    assert_cost(span_of(out, 1), 0.00165);
    assert_cost(span_of(out, 2), 0.005);
    for (size_t i = 0; i < 3; i++)
        assert_null(attr_of(span_of(out, i), "llmotlp.cost.assumption"));
    u = (struct usage){.input = 1000, .output = 200, .cache_read = 400, .reasoning = -1};
    assert_same_as_quote(span_of(out, 2), "openai", "gpt-4o", u, PRICING_CACHE_EXCLUDED);
    fixture_free(f);

    /* a value that is not a convention is refused at validate */
    struct error err = {0};
    struct cost_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct cnode *n = config_parse_string("cache_tokens_in_input_by_provider:\n  x: maybe\n",
                                          "t", &err);
    assert_int_equal(config_bind(cost_processor_factory.fields, n, &cfg, &err), 0);
    assert_int_not_equal(cost_processor_factory.validate(&cfg, &err), 0);
    assert_non_null(strstr(err.msg, "maybe"));
    config_free_bound(cost_processor_factory.fields, &cfg);
    cnode_free(n);
}

/* Clouds' names of priced models, through the service: each priced as the maker's row. */
static void test_cloud_names(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(NULL);
    static const struct attr
        /* 1000×3 + 100×15 = 4500 */
        bedrock[] = {S("gen_ai.provider.name", "aws.bedrock"),
                     S("gen_ai.request.model", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
                     I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 100),
                     END},
        /* 2000×3 = 6000 */
        vertex_claude[] = {S("gen_ai.provider.name", "gcp.vertex_ai"),
                           S("gen_ai.request.model", "claude-sonnet-4-5@20250929"),
                           I("gen_ai.usage.input_tokens", 2000),
                           I("gen_ai.usage.output_tokens", 0), END},
        /* 1000×1.25 + 100×10 = 2250 */
        vertex_gemini[] = {S("gen_ai.provider.name", "gcp.vertex_ai"),
                           S("gen_ai.request.model", "gemini-2.5-pro@001"),
                           I("gen_ai.usage.input_tokens", 1000),
                           I("gen_ai.usage.output_tokens", 100), END},
        gen_ai[] = {S("gen_ai.provider.name", "gcp.gen_ai"),
                    S("gen_ai.request.model", "gemini-2.5-pro"),
                    I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 100),
                    END},
        /* LiteLLM prefix and a dated snapshot with no dated row: 1000×2.50 = 2500 */
        litellm[] = {S("gen_ai.provider.name", "openai"),
                     S("gen_ai.request.model", "openai/gpt-4o-2024-11-20"),
                     I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 0),
                     END},
        /* Claude on an unknown cloud is not guessed: unpriced, counted by provider and model */
        other[] = {S("gen_ai.provider.name", "example.cloud"),
                   S("gen_ai.request.model", "claude-sonnet-4-5"),
                   I("gen_ai.usage.input_tokens", 10), END};
    const struct span_spec specs[] = {{0, bedrock}, {0, vertex_claude}, {0, vertex_gemini},
                                      {0, gen_ai},  {0, litellm},       {0, other}};
    const TraceRequest *out = run(f, NULL, specs, 6);
    const double expected[] = {0.0045, 0.006, 0.00225, 0.00225, 0.0025};
    for (size_t i = 0; i < 5; i++)
        assert_cost(span_of(out, i), expected[i]);
    assert_no_cost(span_of(out, 5));
    assert_int_equal(telemetry_value(f->tel, "llmotlp_cost_unpriced_spans",
                                     "processor=\"cost\",provider=\"example.cloud\","
                                     "model=\"claude-sonnet-4-5\""), 1);
    struct usage u = {.input = 1000, .output = 100, .reasoning = -1};
    assert_same_as_quote(span_of(out, 0), "aws.bedrock",
                         "anthropic.claude-sonnet-4-5-20250929-v1:0", u, PRICING_CACHE_AUTO);
    fixture_free(f);
}

/* Schema v2 prices through the service: audio tokens, service tiers, a per-request fee. */
static void test_modalities_and_tiers(void **state)
{
    (void)state;
    struct price p = mkprice("openai", "gpt-4o-audio-test", 2.50, -1, -1, 10.00, -1);
    p.input_audio = 40;
    p.output_audio = 80;
    p.flex_multiplier = 0.5;
    p.priority_multiplier = 2;
    p.per_request = 0.001;
    set_price(&p, NULL);
    struct fixture *f = fixture_new(NULL);
    /* 800×2.50 + 200×40 + 400×10 + 100×80 = 2000 + 8000 + 4000 + 8000 = 22000 → 0.022;
     * default 0.022 + 0.001; flex 0.022×0.5 + 0.001 = 0.012; priority 0.022×2 + 0.001 = 0.045 */
#define AUDIO_SPAN(name, tier)                                                                    \
    static const struct attr name[] = {                                                           \
        S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "gpt-4o-audio-test"),      \
        I("gen_ai.usage.input_tokens", 1000), I("gen_ai.usage.output_tokens", 500),               \
        I("gen_ai.usage.audio.input_tokens", 200), I("gen_ai.usage.audio.output_tokens", 100),    \
        S("openai.response.service_tier", tier), END}
    AUDIO_SPAN(plain, "default");
    AUDIO_SPAN(flex, "flex");
    AUDIO_SPAN(prio, "priority");
#undef AUDIO_SPAN
    const struct span_spec specs[] = {{0, plain}, {0, flex}, {0, prio}};
    const TraceRequest *out = run(f, NULL, specs, 3);
    assert_cost(span_of(out, 0), 0.023);
    assert_cost(span_of(out, 1), 0.012);
    assert_cost(span_of(out, 2), 0.045);
    struct usage u = {.input = 1000, .output = 500, .audio_input = 200, .audio_output = 100,
                      .reasoning = -1, .tier = PRICING_TIER_FLEX};
    assert_same_as_quote(span_of(out, 1), "openai", "gpt-4o-audio-test", u, PRICING_CACHE_AUTO);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost_table),     cmocka_unit_test(test_effective_date),
        cmocka_unit_test(test_tenant),         cmocka_unit_test(test_provider_reported),
        cmocka_unit_test(test_unpriced),       cmocka_unit_test(test_unpriced_many),
        cmocka_unit_test(test_hostile_counts), cmocka_unit_test(test_documented_names),
        cmocka_unit_test(test_passthrough),
        cmocka_unit_test(test_shared_batch),   cmocka_unit_test(test_hot_update),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_cache_convention),
        cmocka_unit_test(test_cloud_names),
        cmocka_unit_test(test_modalities_and_tiers),
    };
    return cmocka_run_group_tests(tests, setup_db, teardown_db);
}
