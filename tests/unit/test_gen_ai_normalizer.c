/* test_gen_ai_normalizer.c — the gen_ai_normalizer processor against the Collector contrib
 * processor of that name: each case is a span as OpenInference, OpenLLMetry or a user-defined
 * source writes it, and the attributes expected out of it worked out by hand from that
 * processor's documented tables and rules (renames, operation-name folding, coercion to the
 * semconv v1.40.0 type, overwrite, remove_originals, sources in order, scope schema URL).
 *
 * The one idea: requests go in as wire bytes through the factory's consume() and come out of a
 * recording consumer, so what is asserted is what the next component would receive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/telemetry.h"
#include "processors/genai_semconv/genai_semconv.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

extern const struct component_factory gen_ai_normalizer_processor_factory;
#define FACTORY gen_ai_normalizer_processor_factory

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE

#define SCHEMA_140 "https://opentelemetry.io/schemas/1.40.0"

struct tv {
    const char *key;
    int type;
    const char *s;
    int64_t i;
    double d;
};
#define S(k, v) {.key = (k), .type = V_STRING, .s = (v)}
#define I(k, v) {.key = (k), .type = V_INT, .i = (v)}
#define D(k, v) {.key = (k), .type = V_DOUBLE, .d = (v)}
#define ATTRS(...) (const struct tv[]){__VA_ARGS__}, \
    sizeof((const struct tv[]){__VA_ARGS__}) / sizeof(struct tv)

/* One resource, one scope (schema_url may be NULL) holding one span with these attributes. */
static struct batch *one_span_batch(const char *schema_url, const struct tv *tv, size_t n)
{
    struct arena *a = arena_new(0);
    TraceRequest req;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    ResourceSpans *rs = arena_alloc(a, sizeof *rs);
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    ScopeSpans *ss = arena_alloc(a, sizeof *ss);
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    if (schema_url)
        ss->schema_url = arena_strdup(a, schema_url);
    Span *sp = arena_alloc(a, sizeof *sp);
    opentelemetry__proto__trace__v1__span__init(sp);
    uint8_t *tid = arena_alloc(a, 16), *sid = arena_alloc(a, 8);
    memset(tid, 0x22, 16);
    memset(sid, 0x33, 8);
    sp->trace_id = (ProtobufCBinaryData){16, tid};
    sp->span_id = (ProtobufCBinaryData){8, sid};
    sp->name = "llm call";
    sp->attributes = arena_alloc(a, (n + 1) * sizeof *sp->attributes);
    for (size_t i = 0; i < n; i++) {
        KeyValue *kv = arena_alloc(a, sizeof *kv);
        opentelemetry__proto__common__v1__key_value__init(kv);
        AnyValue *v = arena_alloc(a, sizeof *v);
        opentelemetry__proto__common__v1__any_value__init(v);
        v->value_case = tv[i].type;
        if (tv[i].type == V_STRING)
            v->string_value = arena_strdup(a, tv[i].s);
        else if (tv[i].type == V_INT)
            v->int_value = tv[i].i;
        else
            v->double_value = tv[i].d;
        kv->key = arena_strdup(a, tv[i].key);
        kv->value = v;
        sp->attributes[i] = kv;
    }
    sp->n_attributes = n;
    ss->spans = &sp;
    ss->n_spans = 1;
    rs->scope_spans = &ss;
    rs->n_scope_spans = 1;
    req.resource_spans = &rs;
    req.n_resource_spans = 1;
    size_t len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    protobuf_c_message_pack(&req.base, buf);
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    free(buf);
    arena_free(a);
    assert_non_null(b);
    return b;
}

/* ---- the processor under test ---------------------------------------------------------------- */

struct sink {
    struct consumer c;
    struct batch *got;
};

static enum consume_status sink_consume(struct consumer *self, struct batch *b)
{
    struct sink *s = (struct sink *)self;
    if (s->got)
        batch_unref(s->got);
    s->got = batch_ref(b);
    return CONSUME_OK;
}

struct fx {
    struct cnode *root;
    void *cfg;
    struct telemetry *tel;
    struct sink sink;
    void *proc;
};

static struct fx *fx_new(const char *yaml)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct error err = {0};
    f->root = config_parse_string(yaml, "<test>", &err);
    assert_non_null(f->root);
    f->cfg = calloc(1, FACTORY.config_size);
    if (config_bind(FACTORY.fields, f->root, f->cfg, &err) != 0 ||
        FACTORY.validate(f->cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    f->tel = telemetry_new();
    f->sink.c.consume = sink_consume;
    struct component_env env = {.id = "gen_ai_normalizer", .signal = SIGNAL_TRACES,
                                .telemetry = f->tel};
    env.next[SIGNAL_TRACES] = &f->sink.c;
    f->proc = FACTORY.create(f->cfg, &env, &err);
    if (!f->proc)
        fail_msg("create: %s", err.msg);
    return f;
}

static void fx_free(struct fx *f)
{
    FACTORY.destroy(f->proc);
    if (f->sink.got)
        batch_unref(f->sink.got);
    config_free_bound(FACTORY.fields, f->cfg);
    free(f->cfg);
    cnode_free(f->root);
    telemetry_free(f->tel);
    free(f);
}

static const ScopeSpans *run(struct fx *f, const char *schema_url, const struct tv *tv, size_t n)
{
    struct batch *in = one_span_batch(schema_url, tv, n);
    assert_int_equal(FACTORY.consume(f->proc, in), CONSUME_OK);
    batch_unref(in);
    assert_non_null(f->sink.got);
    struct error err = {0};
    const TraceRequest *req = (const TraceRequest *)batch_decoded(f->sink.got, &err);
    assert_non_null(req);
    assert_int_equal(req->n_resource_spans, 1);
    assert_int_equal(req->resource_spans[0]->n_scope_spans, 1);
    assert_int_equal(req->resource_spans[0]->scope_spans[0]->n_spans, 1);
    return req->resource_spans[0]->scope_spans[0];
}

static const AnyValue *attr(const ScopeSpans *ss, const char *key)
{
    const Span *sp = ss->spans[0];
    const AnyValue *found = NULL;
    for (size_t i = 0; i < sp->n_attributes; i++)
        if (strcmp(sp->attributes[i]->key, key) == 0) {
            if (found)
                fail_msg("attribute %s appears twice", key);
            found = sp->attributes[i]->value;
        }
    return found;
}

static void want_str(const ScopeSpans *ss, const char *key, const char *want)
{
    const AnyValue *v = attr(ss, key);
    if (!v)
        fail_msg("%s missing (want \"%s\")", key, want);
    if (v->value_case != V_STRING)
        fail_msg("%s: not a string (type %d), want \"%s\"", key, (int)v->value_case, want);
    assert_string_equal(v->string_value, want);
}

static void want_int(const ScopeSpans *ss, const char *key, int64_t want)
{
    const AnyValue *v = attr(ss, key);
    if (!v || v->value_case != V_INT)
        fail_msg("%s: want int %lld", key, (long long)want);
    assert_int_equal(v->int_value, want);
}

static void want_double(const ScopeSpans *ss, const char *key, double want)
{
    const AnyValue *v = attr(ss, key);
    if (!v || v->value_case != V_DOUBLE)
        fail_msg("%s: want double %g", key, want);
    assert_true(v->double_value == want);
}

static void want_str1(const ScopeSpans *ss, const char *key, const char *want)
{
    const AnyValue *v = attr(ss, key);
    if (!v || v->value_case != V_ARRAY || v->array_value->n_values != 1)
        fail_msg("%s: want [\"%s\"]", key, want);
    assert_int_equal(v->array_value->values[0]->value_case, V_STRING);
    assert_string_equal(v->array_value->values[0]->string_value, want);
}

static void want_none(const ScopeSpans *ss, const char *key)
{
    if (attr(ss, key))
        fail_msg("%s present, want absent", key);
}

static int64_t counter(struct fx *f, const char *name)
{
    char full[100];
    snprintf(full, sizeof full, "llmotlp_gen_ai_normalizer_%s", name);
    return telemetry_value(f->tel, full, "processor=\"gen_ai_normalizer\"");
}

/* ---- openinference --------------------------------------------------------------------------- */

/* Defaults: originals stay (remove_originals false), values are copied as they are except the
 * span kind (folded to an operation name) and types (coerced to the target's). Names outside the
 * source's table (llm.system, llm.invocation_parameters) are not touched, and the provider is
 * written as sent: no provider-name normalization as genai_semconv does. */
static void test_openinference_defaults(void **state)
{
    (void)state;
    struct fx *f = fx_new("sources:\n  - name: openinference\n");
    const ScopeSpans *ss = run(f, NULL, ATTRS(
        S("openinference.span.kind", "LLM"), S("llm.model_name", "gpt-4o"),
        I("llm.token_count.prompt", 12), S("llm.token_count.completion", "7"),
        S("llm.provider", "azure"), S("llm.system", "openai"), S("session.id", "s-1"),
        S("llm.invocation_parameters", "{}")));
    want_str(ss, "gen_ai.operation.name", "chat");
    want_str(ss, "gen_ai.request.model", "gpt-4o");
    want_int(ss, "gen_ai.usage.input_tokens", 12);
    want_int(ss, "gen_ai.usage.output_tokens", 7);
    want_str(ss, "gen_ai.provider.name", "azure");
    want_str(ss, "gen_ai.conversation.id", "s-1");
    /* originals kept */
    want_str(ss, "openinference.span.kind", "LLM");
    want_str(ss, "llm.model_name", "gpt-4o");
    want_str(ss, "llm.token_count.completion", "7");
    want_str(ss, "llm.system", "openai");
    want_str(ss, "llm.invocation_parameters", "{}");
    assert_string_equal(ss->schema_url, SCHEMA_140);
    assert_int_equal(counter(f, "normalized_spans"), 1);
    assert_int_equal(counter(f, "written_attributes"), 6);
    fx_free(f);
}

/* Every OpenInference span kind of the contrib table, case-insensitively; a kind it does not know
 * is written as it is. The tool, agent and embedding names land on their gen_ai.* names. */
static void test_openinference_kinds_and_names(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *op;
    } kinds[] = {
        {"LLM", "chat"}, {"EMBEDDING", "embeddings"}, {"CHAIN", "invoke_agent"},
        {"RETRIEVER", "retrieval"}, {"RERANKER", "retrieval"}, {"TOOL", "execute_tool"},
        {"AGENT", "invoke_agent"}, {"PROMPT", "text_completion"}, {"tool", "execute_tool"},
        {"GUARDRAIL", "GUARDRAIL"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        struct fx *f = fx_new("sources:\n  - name: openinference\n    remove_originals: true\n");
        const ScopeSpans *ss = run(f, NULL, ATTRS(S("openinference.span.kind", kinds[i].kind)));
        want_str(ss, "gen_ai.operation.name", kinds[i].op);
        want_none(ss, "openinference.span.kind");
        fx_free(f);
    }
    struct fx *f = fx_new("sources:\n  - name: openinference\n    remove_originals: true\n");
    const ScopeSpans *ss = run(f, NULL, ATTRS(
        S("tool.name", "search"), S("tool.description", "web search"),
        S("tool_call.function.arguments", "{\"q\":\"x\"}"), S("tool_call.id", "call_1"),
        S("agent.name", "planner"), S("embedding.model_name", "text-embedding-3-small"),
        S("llm.input_messages", "[]"), S("llm.output_messages", "[]")));
    want_str(ss, "gen_ai.tool.name", "search");
    want_str(ss, "gen_ai.tool.description", "web search");
    want_str(ss, "gen_ai.tool.call.arguments", "{\"q\":\"x\"}");
    want_str(ss, "gen_ai.tool.call.id", "call_1");
    want_str(ss, "gen_ai.agent.name", "planner");
    want_str(ss, "gen_ai.request.model", "text-embedding-3-small");
    want_str(ss, "gen_ai.input.messages", "[]");
    want_str(ss, "gen_ai.output.messages", "[]");
    want_none(ss, "tool.name");
    want_none(ss, "embedding.model_name");
    fx_free(f);
}

/* ---- openllmetry ----------------------------------------------------------------------------- */

/* remove_originals: written originals go; one that lost to a target already written (here
 * traceloop.span.kind after llm.request.type) or whose value does not coerce stays. */
static void test_openllmetry_remove_originals(void **state)
{
    (void)state;
    struct fx *f = fx_new("sources:\n  - name: openllmetry\n    remove_originals: true\n");
    const ScopeSpans *ss = run(f, NULL, ATTRS(
        S("llm.request.type", "completion"), S("traceloop.span.kind", "workflow"),
        S("llm.request.model", "gpt-4o-mini"), S("llm.response.model", "gpt-4o-mini-2024"),
        S("llm.usage.prompt_tokens", "n/a"), I("llm.usage.completion_tokens", 9),
        S("llm.response.finish_reason", "stop"), S("llm.request.temperature", "0.5"),
        I("llm.top_k", 5), S("llm.request.max_tokens", "256"),
        S("llm.request.functions", "[{\"name\":\"f\"}]"), S("traceloop.entity.name", "joke"),
        S("traceloop.entity.input", "{\"q\":1}"), S("gen_ai.prompt.0.content", "hi")));
    want_str(ss, "gen_ai.operation.name", "text_completion");
    want_str(ss, "traceloop.span.kind", "workflow");
    want_none(ss, "llm.request.type");
    want_str(ss, "gen_ai.request.model", "gpt-4o-mini");
    want_str(ss, "gen_ai.response.model", "gpt-4o-mini-2024");
    want_none(ss, "gen_ai.usage.input_tokens");
    want_str(ss, "llm.usage.prompt_tokens", "n/a");
    want_int(ss, "gen_ai.usage.output_tokens", 9);
    want_str1(ss, "gen_ai.response.finish_reasons", "stop");
    want_double(ss, "gen_ai.request.temperature", 0.5);
    want_double(ss, "gen_ai.request.top_k", 5.0);   /* a double in semconv v1.40.0 */
    want_int(ss, "gen_ai.request.max_tokens", 256);
    want_str(ss, "gen_ai.tool.definitions", "[{\"name\":\"f\"}]");
    want_str(ss, "gen_ai.agent.name", "joke");
    want_str(ss, "gen_ai.input.messages", "{\"q\":1}");
    want_str(ss, "gen_ai.prompt.0.content", "hi"); /* not in the source's table */
    for (const char *const *k = (const char *const[]){"llm.request.model", "llm.response.model",
             "llm.usage.completion_tokens", "llm.response.finish_reason",
             "llm.request.temperature", "llm.top_k", "llm.request.max_tokens",
             "llm.request.functions", "traceloop.entity.name", "traceloop.entity.input", NULL};
         *k; k++)
        want_none(ss, *k);
    fx_free(f);
}

/* traceloop.span.kind and llm.request.type share one folding table. */
static void test_openllmetry_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *key, *value, *op;
    } cases[] = {
        {"traceloop.span.kind", "workflow", "invoke_workflow"},
        {"traceloop.span.kind", "task", "invoke_agent"},
        {"traceloop.span.kind", "agent", "invoke_agent"},
        {"traceloop.span.kind", "tool", "execute_tool"},
        {"llm.request.type", "chat", "chat"},
        {"llm.request.type", "rerank", "retrieval"},
        {"llm.request.type", "embedding", "embeddings"},
        {"llm.request.type", "Completion", "text_completion"},
        {"llm.request.type", "unknown", "unknown"},
        {"llm.response.stop_reason", "end_turn", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fx *f = fx_new("sources:\n  - name: openllmetry\n");
        const ScopeSpans *ss = run(f, NULL, (const struct tv[]){S(cases[i].key, cases[i].value)},
                                   1);
        if (cases[i].op)
            want_str(ss, "gen_ai.operation.name", cases[i].op);
        else
            want_str1(ss, "gen_ai.response.finish_reasons", cases[i].value);
        want_str(ss, cases[i].key, cases[i].value);
        fx_free(f);
    }
}

/* ---- overwrite ------------------------------------------------------------------------------- */

static void test_overwrite(void **state)
{
    (void)state;
    /* false: the target on the span wins, and the original stays even with remove_originals */
    struct fx *f = fx_new("sources:\n  - name: openinference\n    remove_originals: true\n");
    const ScopeSpans *ss = run(f, NULL, ATTRS(S("gen_ai.request.model", "set-by-app"),
                                              S("llm.model_name", "gpt-4o")));
    want_str(ss, "gen_ai.request.model", "set-by-app");
    want_str(ss, "llm.model_name", "gpt-4o");
    assert_null(ss->schema_url && ss->schema_url[0] ? ss->schema_url : NULL);
    assert_int_equal(counter(f, "written_attributes"), 0);
    fx_free(f);
    /* true: replaced, and the original goes */
    f = fx_new("sources:\n  - name: openinference\n    remove_originals: true\n"
               "    overwrite: true\n");
    ss = run(f, NULL, ATTRS(S("gen_ai.request.model", "set-by-app"),
                            S("llm.model_name", "gpt-4o")));
    want_str(ss, "gen_ai.request.model", "gpt-4o");
    want_none(ss, "llm.model_name");
    fx_free(f);
    /* two names of one source on one target: the first on the span wins, the last with
     * overwrite */
    f = fx_new("sources:\n  - name: openinference\n");
    ss = run(f, NULL, ATTRS(S("llm.model_name", "first"), S("embedding.model_name", "second")));
    want_str(ss, "gen_ai.request.model", "first");
    fx_free(f);
    f = fx_new("sources:\n  - name: openinference\n    overwrite: true\n");
    ss = run(f, NULL, ATTRS(S("llm.model_name", "first"), S("embedding.model_name", "second")));
    want_str(ss, "gen_ai.request.model", "second");
    fx_free(f);
}

/* Sources apply in the order listed: a later one sees what an earlier one wrote. */
static void test_sources_in_order(void **state)
{
    (void)state;
    struct fx *f = fx_new("sources:\n  - name: openllmetry\n  - name: openinference\n");
    const ScopeSpans *ss = run(f, NULL, ATTRS(S("llm.model_name", "oi-model"),
                                              S("llm.request.model", "oll-model")));
    want_str(ss, "gen_ai.request.model", "oll-model");
    fx_free(f);
    f = fx_new("sources:\n  - name: openllmetry\n  - name: openinference\n    overwrite: true\n");
    ss = run(f, NULL, ATTRS(S("llm.model_name", "oi-model"), S("llm.request.model", "oll-model")));
    want_str(ss, "gen_ai.request.model", "oi-model");
    fx_free(f);
}

/* ---- user-defined sources -------------------------------------------------------------------- */

static void test_user_defined_source(void **state)
{
    (void)state;
    struct fx *f = fx_new(
        "sources:\n"
        "  - name: my_vendor\n"
        "    remove_originals: true\n"
        "    mappings:\n"
        "      my_vendor.model: gen_ai.request.model\n"
        "      my_vendor.tokens: gen_ai.usage.input_tokens\n"
        "      my_vendor.kind: gen_ai.operation.name\n"
        "      my_vendor.other_kind: gen_ai.operation.name\n"
        "      my_vendor.flag: my.flag\n"
        "    value_mappings:\n"
        "      gen_ai.operation.name:\n"
        "        generate: text_completion\n");
    const ScopeSpans *ss = run(f, NULL, ATTRS(
        I("my_vendor.model", 5), S("my_vendor.tokens", "42"), S("my_vendor.kind", "generate"),
        S("my_vendor.flag", "yes"), S("llm.model_name", "untouched")));
    want_str(ss, "gen_ai.request.model", "5");       /* an int as a string, as semconv types it */
    want_int(ss, "gen_ai.usage.input_tokens", 42);
    want_str(ss, "gen_ai.operation.name", "text_completion");
    want_str(ss, "my.flag", "yes");                  /* not a semconv name: written as it is */
    want_str(ss, "llm.model_name", "untouched");     /* no built-in table on this source */
    want_none(ss, "my_vendor.model");
    want_none(ss, "my_vendor.kind");
    fx_free(f);
    /* value rules match exactly */
    f = fx_new("sources:\n  - name: v\n    mappings: {v.kind: gen_ai.operation.name}\n"
               "    value_mappings: {gen_ai.operation.name: {generate: text_completion}}\n");
    ss = run(f, NULL, ATTRS(S("v.kind", "Generate")));
    want_str(ss, "gen_ai.operation.name", "Generate");
    fx_free(f);
}

/* Doubles written to a string attribute read as the Collector prints them. */
static void test_doubles_as_strings(void **state)
{
    (void)state;
    static const struct {
        double d;
        const char *want;
    } cases[] = {{0.5, "0.5"}, {100, "100"}, {1e21, "1e+21"}, {1e-7, "1e-7"},
                 {123456.789, "123456.789"}, {-2.5, "-2.5"}, {0.1, "0.1"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fx *f = fx_new("sources:\n  - name: v\n    mappings: {v.x: gen_ai.request.model}\n");
        const ScopeSpans *ss = run(f, NULL, (const struct tv[]){D("v.x", cases[i].d)}, 1);
        want_str(ss, "gen_ai.request.model", cases[i].want);
        fx_free(f);
    }
}

/* ---- schema URL and untouched requests ------------------------------------------------------- */

static void test_schema_url(void **state)
{
    (void)state;
    struct fx *f = fx_new("sources:\n  - name: openinference\n");
    const ScopeSpans *ss = run(f, "https://example.com/schemas/1.0",
                               ATTRS(S("llm.model_name", "m")));
    assert_string_equal(ss->schema_url, "https://example.com/schemas/1.0");
    fx_free(f);
    f = fx_new("overwrite_schema_url: true\nsources:\n  - name: openinference\n");
    ss = run(f, "https://example.com/schemas/1.0", ATTRS(S("llm.model_name", "m")));
    assert_string_equal(ss->schema_url, SCHEMA_140);
    fx_free(f);
    /* Nothing written: the request goes on as the bytes that came, schema URL and all. */
    f = fx_new("overwrite_schema_url: true\nsources:\n  - name: openinference\n");
    struct batch *in = one_span_batch("https://example.com/schemas/1.0",
                                      ATTRS(S("http.route", "/x")));
    assert_int_equal(FACTORY.consume(f->proc, in), CONSUME_OK);
    assert_ptr_equal(f->sink.got, in);
    batch_unref(in);
    assert_int_equal(counter(f, "normalized_spans"), 0);
    fx_free(f);
}

/* ---- config ---------------------------------------------------------------------------------- */

static void expect_config_error(const char *yaml, const char *want)
{
    struct error err = {0};
    struct cnode *root = config_parse_string(yaml, "<test>", &err);
    assert_non_null(root);
    void *cfg = calloc(1, FACTORY.config_size);
    int rc = config_bind(FACTORY.fields, root, cfg, &err);
    if (rc == 0)
        rc = FACTORY.validate(cfg, &err);
    if (rc == 0)
        fail_msg("accepted, want an error with \"%s\":\n%s", want, yaml);
    if (!strstr(err.msg, want) || !strstr(err.msg, "<test>:"))
        fail_msg("error \"%s\" lacks \"%s\" or a position", err.msg, want);
    config_free_bound(FACTORY.fields, cfg);
    free(cfg);
    cnode_free(root);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_config_error("overwrite_schema_url: false\n", "sources");
    expect_config_error("sources: []\n", "at least one source must be specified");
    expect_config_error("sources:\n  - remove_originals: true\n", "name");
    expect_config_error("sources:\n  - name: openinference\n  - name: openinference\n",
                        "sources[1]: duplicate source \"openinference\"");
    expect_config_error("sources:\n  - name: mine\n",
                        "user-defined source \"mine\" requires non-empty \"mappings\"");
    expect_config_error("sources:\n  - name: openllmetry\n    mappings: {a: b}\n",
                        "\"mappings\" is not valid on built-in source \"openllmetry\"");
    expect_config_error("sources:\n  - name: v\n    mappings: {a: b}\n"
                        "    value_mappings: {c: {x: y}}\n",
                        "key \"c\" is not a target in mappings");
    expect_config_error("sources:\n  - name: v\n    mappings: {a: b}\n    colour: red\n",
                        "colour");
    expect_config_error("sources: {openinference: {}}\n", "expected a list of sources");
}

/* Nothing to warn about any more: the openinference source rebuilds the messages. */
struct warns {
    int n;
};

static void collect(void *ctx, const struct cnode *at, const char *msg)
{
    (void)at;
    (void)msg;
    ((struct warns *)ctx)->n++;
}

static void test_no_warning_for_openinference(void **state)
{
    (void)state;
    const char *yaml = "sources:\n  - name: openllmetry\n  - name: openinference\n";
    struct error err = {0};
    struct cnode *root = config_parse_string(yaml, "<test>", &err);
    void *cfg = calloc(1, FACTORY.config_size);
    assert_int_equal(config_bind(FACTORY.fields, root, cfg, &err), 0);
    assert_int_equal(FACTORY.validate(cfg, &err), 0);
    struct warns w = {0};
    struct config_warn_sink sink = {.warn = collect, .ctx = &w, .path = "processors.x"};
    FACTORY.warn(cfg, root, &sink);
    assert_int_equal(w.n, 0);
    config_free_bound(FACTORY.fields, cfg);
    free(cfg);
    cnode_free(root);
}

/* The contrib processor's own message cases (messages_test.go), expected JSON written by hand
 * from its Go structs: role then parts; text {type, content}; tool_call {type, id, name,
 * arguments} with the arguments re-encoded by encoding/json (sorted keys); a "user" message with
 * a tool_call_id becomes a "tool" message with a tool_call_response part; HTML characters
 * escaped as \u003c, \u003e, \u0026. */
static void test_openinference_messages(void **state)
{
    (void)state;
    struct fx *f = fx_new("sources:\n  - name: openinference\n    remove_originals: true\n");
    const ScopeSpans *ss = run(f, NULL, ATTRS(
        S("llm.input_messages.0.message.role", "user"),
        S("llm.input_messages.0.message.content", "What is the weather?"),
        S("llm.input_messages.1.message.role", "assistant"),
        S("llm.input_messages.1.message.tool_calls.0.tool_call.id", "call_123"),
        S("llm.input_messages.1.message.tool_calls.0.tool_call.function.name", "get_weather"),
        S("llm.input_messages.1.message.tool_calls.0.tool_call.function.arguments",
          "{\"location\":\"Seattle\",\"days\":2}"),
        S("llm.input_messages.2.message.role", "user"),
        S("llm.input_messages.2.message.tool_call_id", "call_123"),
        S("llm.input_messages.2.message.content", "{\"weather\":\"sunny\"}"),
        S("llm.output_messages.0.message.role", "assistant"),
        S("llm.output_messages.0.message.content", "Sunny & <warm>")));
    const AnyValue *in = attr(ss, "gen_ai.input.messages");
    assert_non_null(in);
    assert_string_equal(in->string_value,
        "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"What is the weather?\"}]},"
        "{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"call_123\","
        "\"name\":\"get_weather\",\"arguments\":{\"days\":2,\"location\":\"Seattle\"}}]},"
        "{\"role\":\"tool\",\"parts\":[{\"type\":\"tool_call_response\",\"id\":\"call_123\","
        "\"response\":\"{\\\"weather\\\":\\\"sunny\\\"}\"}]}]");
    const AnyValue *out = attr(ss, "gen_ai.output.messages");
    assert_non_null(out);
    assert_string_equal(out->string_value,
        "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":"
        "\"Sunny \\u0026 \\u003cwarm\\u003e\"}]}]");
    assert_null(attr(ss, "llm.input_messages.0.message.role"));
    assert_null(attr(ss, "llm.output_messages.0.message.content"));
    assert_null(attr(ss, "gen_ai.system_instructions")); /* the contrib processor keeps system */
    fx_free(f);
}

/* overwrite: false leaves a gen_ai.input.messages already there, and the originals with it. */
static void test_openinference_messages_no_overwrite(void **state)
{
    (void)state;
    struct fx *f = fx_new("sources:\n  - name: openinference\n    remove_originals: true\n");
    const ScopeSpans *ss = run(f, NULL, ATTRS(
        S("gen_ai.input.messages", "existing"),
        S("llm.input_messages.0.message.role", "user"),
        S("llm.input_messages.0.message.content", "Hello")));
    assert_string_equal(attr(ss, "gen_ai.input.messages")->string_value, "existing");
    assert_string_equal(attr(ss, "llm.input_messages.0.message.content")->string_value, "Hello");
    fx_free(f);
    f = fx_new("sources:\n  - name: openinference\n    overwrite: true\n");
    ss = run(f, NULL, ATTRS(
        S("gen_ai.input.messages", "existing"),
        S("llm.input_messages.0.message.role", "system"),
        S("llm.input_messages.0.message.content", "Be brief."),
        S("llm.input_messages.1.message.role", "user")));
    assert_string_equal(attr(ss, "gen_ai.input.messages")->string_value,
                        "[{\"role\":\"system\",\"parts\":[{\"type\":\"text\",\"content\":"
                        "\"Be brief.\"}]},{\"role\":\"user\",\"parts\":[]}]");
    assert_string_equal(attr(ss, "llm.input_messages.0.message.content")->string_value,
                        "Be brief."); /* remove_originals defaults to false */
    fx_free(f);
}

/* Traces only, as the Collector's processor. */
static void test_traces_only(void **state)
{
    (void)state;
    assert_int_equal(FACTORY.signals, 1u << SIGNAL_TRACES);
    struct error err = {0};
    struct cnode *root = config_parse_string("sources: [{name: openinference}]\n", "<t>", &err);
    void *cfg = calloc(1, FACTORY.config_size);
    assert_int_equal(config_bind(FACTORY.fields, root, cfg, &err), 0);
    struct sink s = {.c.consume = sink_consume};
    struct component_env env = {.signal = SIGNAL_LOGS};
    env.next[SIGNAL_LOGS] = &s.c;
    assert_null(FACTORY.create(cfg, &env, &err));
    assert_non_null(strstr(err.msg, "traces"));
    config_free_bound(FACTORY.fields, cfg);
    free(cfg);
    cnode_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openinference_defaults),
        cmocka_unit_test(test_openinference_kinds_and_names),
        cmocka_unit_test(test_openllmetry_remove_originals),
        cmocka_unit_test(test_openllmetry_kinds),
        cmocka_unit_test(test_overwrite),
        cmocka_unit_test(test_sources_in_order),
        cmocka_unit_test(test_user_defined_source),
        cmocka_unit_test(test_doubles_as_strings),
        cmocka_unit_test(test_schema_url),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_no_warning_for_openinference),
        cmocka_unit_test(test_openinference_messages),
        cmocka_unit_test(test_openinference_messages_no_overwrite),
        cmocka_unit_test(test_traces_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
