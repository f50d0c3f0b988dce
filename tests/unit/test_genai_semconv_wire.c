/* test_genai_semconv_wire.c — the differential test of genai_semconv: the same generated requests
 * go through the struct path (a batch that arrived decoded) and the span-index path (a batch that
 * arrived as bytes, indexed for every attribute, and indexed for the interest the processor
 * declares, once shared so that the read-only look comes first), and the outputs must be the same
 * request, with the same counters and partial-success counts.
 *
 * The one idea: decoding both outputs and packing them again with protobuf-c puts every message
 * in one canonical field order, so two outputs are equal field by field exactly when those bytes
 * are equal; only then is the first differing span looked for, to say where. One difference is
 * documented and normalized before comparing: a KeyValue without a value and one with an empty
 * AnyValue (the index writes the value field when it renames such an attribute).
 *
 * The requests mix current and legacy names (every row of the mapping table can be drawn, with
 * values of every shape its transform meets), errors (identifier and free-text messages, HTTP
 * status codes, exception events), 1–4 LLM calls under an HTTP root, random attribute orders and
 * duplicates, flattened messages, deprecated message events, GenAI names on events, empty and
 * value-less attributes, arrays, maps and bytes; log records likewise. */
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
#include "core/wire_index.h"
#include "processors/genai_semconv/genai_semconv.h"
#include "tests/unit/testutil.h"
#include "tests/unit/wire_testgen.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsRequest;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Status Status;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs ResourceLogs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs ScopeLogs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;

#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE

/* ---- random requests ------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n) { return wtg_rnd(&rng_state, n); }
#define PICK(arr) WTG_PICK(&rng_state, arr)

/* A value of any shape a transform may meet. */
static AnyValue *random_value(struct arena *a)
{
    static const char *const strings[] = {
        "openai", "OpenAI", "gemini", "Azure", "chat", "completion", "LLM", "TOOL", "gpt-4o",
        "42", " 7 ", "42.0", "0.5", "n/a", "", "true", "False", "1", "[\"stop\"]",
        "['length', \"stop\"]", "[]", "[1]", "stop", "1500", "vertex_ai", "anthropic",
        "openai.chat", "ai.generateText", "workflow", "caf\xc3\xa9"};
    switch (rnd(12)) {
    case 0: {
        static const int64_t ints[] = {0, 1, 2, 42, -3, 1500, 9007199254740993LL};
        return wtg_int(a, ints[rnd(7)]);
    }
    case 1: {
        static const double ds[] = {0.5, 42.0, 1e300, -0.0, 3.25, 1e-7};
        return wtg_double(a, ds[rnd(6)]);
    }
    case 2:
        return wtg_bool(a, rnd(2));
    case 3: {
        static const char *const items[] = {"stop", "length", "tool_calls"};
        return wtg_str_array(a, rnd(4), items);
    }
    case 4:
        return wtg_kvlist(a, NULL, 0);
    case 5:
        return wtg_bytes(a, "\x01\x02", 2);
    case 6:
        return wtg_any(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET);
    default:
        return wtg_str(a, PICK(strings));
    }
}

static KeyValue *kv(struct arena *a, const char *key, AnyValue *v) { return wtg_kv(a, key, v); }

static void add(struct arena *a, struct wtg_kvs *l, KeyValue *k) { wtg_kvs_add(a, l, k); }

/* Gateway-like traffic: LLM calls with the current names or the common legacy ones, values of
 * the expected types, few surprises — the items genai_semconv decides on the index alone. */
static bool gateway;

static void gateway_attrs(struct arena *a, struct wtg_kvs *l, bool llm)
{
    static const char *const providers[] = {"openai", "gemini", "Anthropic", "aws.bedrock",
                                            "vertex_ai", "acme"};
    static const char *const hosts[] = {"api.openai.com", "api.anthropic.com", "example.com",
                                        "bedrock-runtime.us-east-1.amazonaws.com"};
    if (llm) {
        bool legacy = rnd(2);
        if (rnd(8))
            add(a, l, kv(a, "gen_ai.operation.name", wtg_str(a, rnd(5) ? "chat" : "execute_tool")));
        if (rnd(6))
            add(a, l, kv(a, legacy ? "gen_ai.system" : "gen_ai.provider.name",
                         wtg_str(a, PICK(providers))));
        if (rnd(8))
            add(a, l, kv(a, "gen_ai.request.model", wtg_str(a, rnd(9) ? "gpt-4o" : "")));
        AnyValue *in = wtg_int(a, 1 + rnd(5000)), *out = wtg_int(a, rnd(900));
        add(a, l, kv(a, legacy ? "gen_ai.usage.prompt_tokens" : "gen_ai.usage.input_tokens", in));
        add(a, l, kv(a, legacy ? "gen_ai.usage.completion_tokens" : "gen_ai.usage.output_tokens",
                     out));
        if (rnd(2)) {
            static const char *const r[] = {"stop"};
            add(a, l, kv(a, "gen_ai.response.finish_reasons", wtg_str_array(a, 1, r)));
        }
        if (rnd(2))
            add(a, l, kv(a, "server.address", wtg_str(a, PICK(hosts))));
        if (rnd(3) == 0) {
            AnyValue *st = rnd(4) ? wtg_any(a, V_INT) : wtg_str(a, rnd(2) ? "429" : "not found");
            if (st->value_case == V_INT)
                st->int_value = rnd(2) ? 200 : 503;
            add(a, l, kv(a, "http.response.status_code", st));
        }
        if (rnd(12) == 0)
            add(a, l, kv(a, "error.type", wtg_str(a, "Timeout")));
    }
    add(a, l, kv(a, "tenant.id", wtg_str(a, "t-1")));
    if (rnd(2))
        add(a, l, kv(a, "http.request.method", wtg_str(a, "POST")));
    if (l->n && rnd(20) == 0)
        add(a, l, kv(a, l->kv[rnd((uint32_t)l->n)]->key, random_value(a)));
    wtg_shuffle(&rng_state, l->kv, l->n);
}

/* Attributes of an LLM call (or of anything else when llm is false), in random order. */
static void random_attrs(struct arena *a, struct wtg_kvs *l, bool llm, bool custom)
{
    if (gateway) {
        gateway_attrs(a, l, llm);
        return;
    }
    size_t nrows;
    const struct gs_mapping *rows = gs_mapping_rows(&nrows);
    static const char *const hosts[] = {"api.openai.com", "x.openai.azure.com.", "example.com",
                                        "API.ANTHROPIC.COM", "bedrock-runtime.us-east-1.amazonaws.com"};
    static const char *const plain[] = {"tenant.id", "http.request.method", "url.path",
                                        "user.id"};
    if (llm) {
        /* a current gateway span or a legacy one */
        if (rnd(2)) {
            add(a, l, kv(a, "gen_ai.operation.name", wtg_str(a, rnd(4) ? "chat" : "execute_tool")));
            add(a, l, kv(a, "gen_ai.provider.name", wtg_str(a, rnd(3) ? "openai" : "gemini")));
            add(a, l, kv(a, "gen_ai.request.model", wtg_str(a, rnd(5) ? "gpt-4o" : "")));
        } else {
            add(a, l, kv(a, "gen_ai.system", wtg_str(a, rnd(2) ? "openai" : "gemini")));
            add(a, l, kv(a, "gen_ai.usage.prompt_tokens", random_value(a)));
            add(a, l, kv(a, "gen_ai.usage.completion_tokens", random_value(a)));
        }
        for (uint32_t k = rnd(6); k > 0; k--) {
            const struct gs_mapping *m = &rows[rnd((uint32_t)nrows)];
            add(a, l, kv(a, rnd(2) ? m->from : m->to, random_value(a)));
        }
        if (rnd(3) == 0)
            add(a, l, kv(a, "server.address", wtg_str(a, PICK(hosts))));
        if (rnd(6) == 0)
            add(a, l, kv(a, "http.response.status_code",
                         rnd(2) ? wtg_str(a, "503") : random_value(a)));
        if (rnd(8) == 0)
            add(a, l, kv(a, "error.type", wtg_str(a, rnd(2) ? "" : "Timeout")));
        if (rnd(8) == 0)
            add(a, l, kv(a, "gen_ai.provider.name", wtg_str(a, "")));
        if (rnd(8) == 0) {
            static const char *const v[] = {"gen_ai.operation.name", "gen_ai.request.model"};
            add(a, l, kv(a, GS_VIOLATIONS_ATTR, wtg_str_array(a, rnd(3), v)));
        }
        if (rnd(5) == 0) {
            /* flattened messages of either family, sometimes not as expected */
            const char *f = rnd(2) ? "gen_ai.prompt.0." : "llm.input_messages.0.message.";
            char k[80];
            snprintf(k, sizeof k, "%srole", f);
            add(a, l, kv(a, k, wtg_str(a, rnd(2) ? "user" : "system")));
            snprintf(k, sizeof k, "%scontent", f);
            add(a, l, kv(a, k, rnd(6) ? wtg_str(a, "hello") : random_value(a)));
            if (rnd(2)) {
                add(a, l, kv(a, "gen_ai.completion.0.role", wtg_str(a, "assistant")));
                add(a, l, kv(a, "gen_ai.completion.0.content", wtg_str(a, "hi")));
                add(a, l, kv(a, "gen_ai.completion.0.finish_reason", wtg_str(a, "stop")));
            }
        }
        if (custom && rnd(2)) {
            add(a, l, kv(a, "my.model", rnd(4) ? wtg_str(a, "m1") : random_value(a)));
            if (rnd(2))
                add(a, l, kv(a, "my.tokens", random_value(a)));
        }
        if (rnd(10) == 0)
            add(a, l, kv(a, "gen_ai.request.model", NULL)); /* no value at all */
    }
    for (uint32_t k = rnd(4); k > 0; k--)
        add(a, l, kv(a, PICK(plain), wtg_str(a, "v")));
    /* duplicates, then a shuffle */
    if (l->n && rnd(4) == 0)
        add(a, l, kv(a, l->kv[rnd((uint32_t)l->n)]->key, random_value(a)));
    wtg_shuffle(&rng_state, l->kv, l->n);
}

static Event *event(struct arena *a, const char *name, KeyValue *k1)
{
    Event *e = arena_alloc(a, sizeof *e);
    opentelemetry__proto__trace__v1__span__event__init(e);
    e->name = arena_strdup(a, name);
    e->time_unix_nano = 5;
    if (k1) {
        e->attributes = arena_alloc(a, sizeof *e->attributes);
        e->attributes[0] = k1;
        e->n_attributes = 1;
    }
    return e;
}

static Span *random_span(struct arena *a, bool llm, bool custom, uint8_t trace)
{
    Span *sp = wtg_span(a);
    sp->trace_id = wtg_id_fill(a, 16, trace);
    sp->span_id = wtg_random_bytes(&rng_state, a, 8);
    static const char *const names[] = {"chat gpt-4o", "POST /v1/chat", "", "chat"};
    sp->name = arena_strdup(a, PICK(names));
    sp->kind = llm ? 3 : 2;
    sp->start_time_unix_nano = 1000;
    sp->end_time_unix_nano = 2000 + rnd(1000);
    struct wtg_kvs l = {0};
    random_attrs(a, &l, llm, custom);
    sp->attributes = l.kv;
    sp->n_attributes = l.n;
    if (rnd(10) == 0) {
        Status *st = arena_alloc(a, sizeof *st);
        opentelemetry__proto__trace__v1__status__init(st);
        st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
        static const char *const msgs[] = {"RateLimitError", "the upstream said no", "",
                                           "openai.APIError"};
        st->message = arena_strdup(a, PICK(msgs));
        sp->status = st;
    } else if (rnd(4) == 0) {
        Status *st = arena_alloc(a, sizeof *st);
        opentelemetry__proto__trace__v1__status__init(st);
        st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK;
        sp->status = st;
    }
    if (rnd(gateway ? 12 : 4) == 0) {
        size_t n = 1 + rnd(3);
        sp->events = arena_alloc(a, n * sizeof *sp->events);
        for (size_t i = 0; i < n; i++) {
            switch (rnd(5)) {
            case 0:
                sp->events[i] = event(
                    a, "exception", kv(a, "exception.type", wtg_str(a, rnd(3) ? "ValueError" : "")));
                break;
            case 1:
                sp->events[i] = event(a, "gen_ai.user.message",
                                      kv(a, "content", wtg_str(a, rnd(4) ? "hello" : "{")));
                break;
            case 2:
                sp->events[i] = event(a, "gen_ai.evaluation.result",
                                      kv(a, "gen_ai.system", wtg_str(a, "openai")));
                break;
            case 3:
                sp->events[i] = event(a, "log", custom ? kv(a, "my.model", wtg_str(a, "m")) : NULL);
                break;
            default:
                sp->events[i] = event(a, "log", kv(a, "message", wtg_str(a, "x")));
                break;
            }
        }
        sp->n_events = n;
    }
    return sp;
}

static const char *const scope_names[] = {"LLMProxy.LLM", "app.http", "", "other.llm"};

/* 1–2 resources of 1–3 scopes; per scope 0–3 traces of an HTTP root and 1–4 LLM calls. */
static TraceRequest *random_traces(struct arena *a, bool custom)
{
    TraceRequest *req = wtg_traces(a, 1 + rnd(2));
    for (size_t r = 0; r < req->n_resource_spans; r++) {
        ResourceSpans *rs = wtg_resource_spans(a, NULL, 1 + rnd(3));
        for (size_t s = 0; s < rs->n_scope_spans; s++) {
            Scope *sc = rnd(5) ? wtg_scope(a, PICK(scope_names)) : NULL;
            size_t traces = rnd(4), k = 0;
            ScopeSpans *ss = wtg_scope_spans(a, sc, traces * 5 + 1);
            for (size_t t = 0; t < traces; t++) {
                uint8_t id = (uint8_t)rnd(256);
                ss->spans[k++] = random_span(a, false, custom, id);
                for (uint32_t c = 1 + rnd(4); c > 0; c--)
                    ss->spans[k++] = random_span(a, rnd(8) != 0, custom, id);
            }
            ss->n_spans = k;
            rs->scope_spans[s] = ss;
        }
        req->resource_spans[r] = rs;
    }
    return req;
}

static LogsRequest *random_logs(struct arena *a, bool custom)
{
    LogsRequest *req = wtg_logs(a, 1);
    ResourceLogs *rl = wtg_resource_logs(a, NULL, 1 + rnd(2));
    for (size_t s = 0; s < rl->n_scope_logs; s++) {
        Scope *sc = wtg_scope(a, PICK(scope_names));
        size_t n = rnd(6);
        ScopeLogs *sl = wtg_scope_logs(a, sc, n);
        for (size_t i = 0; i < n; i++) {
            LogRecord *lr = wtg_log_record(a);
            static const char *const ev[] = {"gen_ai.client.inference.operation.details", "",
                                             "app.event", "gen_ai.choice"};
            lr->event_name = arena_strdup(a, PICK(ev));
            lr->time_unix_nano = 7;
            lr->body = rnd(2) ? wtg_str(a, "body") : NULL;
            struct wtg_kvs l = {0};
            random_attrs(a, &l, rnd(3) != 0, custom);
            lr->attributes = l.kv;
            lr->n_attributes = l.n;
            sl->log_records[sl->n_log_records++] = lr;
        }
        rl->scope_logs[s] = sl;
    }
    req->resource_logs[0] = rl;
    return req;
}

/* ---- the processors -------------------------------------------------------------------------- */

struct proc {
    struct genai_semconv_config cfg;
    struct telemetry *tel;
    struct wtg_sink sink;
    struct wire_interest *interest;
    void *p;
};

static void proc_new(struct proc *pr, const char *yaml, enum signal sig, bool with_interest)
{
    memset(pr, 0, sizeof *pr);
    struct error err = {0};
    struct cnode *root = config_parse_string(yaml, "<test>", &err);
    assert_non_null(root);
    if (config_bind(genai_semconv_processor_factory.fields, root, &pr->cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    pr->tel = telemetry_new();
    pr->sink.c.consume = wtg_sink_consume;
    if (with_interest) {
        /* as in a service: another component's keys are indexed too */
        pr->interest = wire_interest_new();
        assert_non_null(pr->interest);
        assert_int_equal(wire_interest_add_key(pr->interest, "tenant.id"), 0);
    }
    struct component_env env = {.id = "genai_semconv", .log_name = "processor/genai_semconv",
                                .signal = sig, .telemetry = pr->tel, .interest = pr->interest};
    env.next[sig] = &pr->sink.c;
    pr->p = genai_semconv_processor_factory.create(&pr->cfg, &env, &err);
    if (!pr->p)
        fail_msg("create: %s", err.msg);
    cnode_free(root);
    pr->cfg.custom_mappings = NULL;
}

static void proc_free(struct proc *pr)
{
    genai_semconv_processor_factory.destroy(pr->p);
    wtg_sink_clear(&pr->sink);
    config_free_bound(genai_semconv_processor_factory.fields, &pr->cfg);
    telemetry_free(pr->tel);
    wire_interest_free(pr->interest);
}

/* The output as canonical bytes (malloc'd), value-less KeyValues given an empty value. */
static uint8_t *canonical(struct batch *b, size_t *len)
{
    uint8_t *out = wtg_canonical_batch(b, WTG_CANON_VALUELESS_AS_EMPTY, len);
    assert_non_null(out);
    return out;
}

static const char *const counters[] = {
    "llm_spans", "normalized_spans", "renamed_attributes", "derived_attributes",
    "renamed_spans", "dropped_spans", "unconvertible_attributes", "llm_log_records",
    "normalized_log_records", "custom_renamed_attributes"};

static int64_t counter(struct proc *pr, const char *name)
{
    char full[120];
    snprintf(full, sizeof full, "llmotlp_genai_semconv_%s", name);
    return telemetry_value(pr->tel, full, "processor=\"genai_semconv\"");
}

/* ---- the comparison -------------------------------------------------------------------------- */

static const char *const configs[] = {
    "{}",
    "keep_original: true\nrename_spans: true\n",
    "on_violation: drop\ntarget: latest\n",
    "on_violation: pass\ncustom_mappings: {my.model: gen_ai.request.model, "
    "my.tokens: gen_ai.usage.input_tokens}\n",
    "rename_spans: true\nkeep_original: true\non_violation: drop\nllm_scopes: [LLMProxy.LLM, "
    "other.llm]\ncustom_mappings: {my.model: gen_ai.request.model}\n",
};

/* Runs `rounds` generated requests of signal `sig` under every configuration through the struct
 * path and three index paths, and compares. */
static void differential(enum signal sig, int rounds)
{
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        bool custom = strstr(configs[c], "custom_mappings") != NULL;
        /* 0: struct path; 1: index of every attribute; 2: declared interest; 3: same, shared */
        struct proc pr[4];
        for (int k = 0; k < 4; k++)
            proc_new(&pr[k], configs[c], sig, k >= 2);
        rng_state = 0x9E3779B97F4A7C15ull + c;
        uint64_t changed = 0;
        for (int round = 0; round < rounds; round++) {
            struct arena *ga = arena_new(0);
            ProtobufCMessage *req = sig == SIGNAL_TRACES ? &random_traces(ga, custom)->base
                                                         : &random_logs(ga, custom)->base;
            size_t len;
            uint8_t *wire = tu_pack(req, &len);
            arena_free(ga);

            uint8_t *out[4];
            size_t out_len[4];
            uint64_t rej[4];
            for (int k = 0; k < 4; k++) {
                struct error err = {0};
                struct batch *b;
                if (k == 0) {
                    struct arena *a = arena_new(0);
                    ProtobufCMessage *m = protobuf_c_message_unpack(
                        otlp_request_descriptor(sig), arena_allocator(a), len, wire);
                    assert_non_null(m);
                    b = batch_from_msg(sig, a, m);
                } else {
                    b = batch_from_wire(sig, wire, len, &err);
                }
                assert_non_null(b);
                if (k == 3)
                    batch_ref(b); /* shared: looked at read-only first */
                genai_semconv_processor_factory.consume(pr[k].p, b);
                struct batch *got = pr[k].sink.got;
                if (got) {
                    out[k] = canonical(got, &out_len[k]);
                    batch_unref(got);
                    pr[k].sink.got = NULL;
                } else {
                    out[k] = NULL;
                    out_len[k] = 0;
                }
                rej[k] = atomic_load(&b->rejected);
                if (k == 3)
                    batch_unref(b);
                batch_unref(b);
            }
            for (int k = 1; k < 4; k++) {
                bool same = (out[0] == NULL) == (out[k] == NULL) && out_len[0] == out_len[k] &&
                            (!out[0] || memcmp(out[0], out[k], out_len[0]) == 0);
                if (!same) {
                    wtg_explain(stderr, sig, out[0], out_len[0], out[k], out_len[k]);
                    fail_msg("config %zu, round %d: index path %d differs from the struct path",
                             c, round, k);
                }
                assert_int_equal(rej[0], rej[k]);
            }
            changed += out[0] && (out_len[0] != len || memcmp(out[0], wire, len) != 0);
            for (int k = 0; k < 4; k++)
                free(out[k]);
            free(wire);
        }
        for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
            for (int k = 1; k < 4; k++)
                if (counter(&pr[0], counters[i]) != counter(&pr[k], counters[i]))
                    fail_msg("config %zu: counter %s: struct %lld, index path %d %lld", c,
                             counters[i], (long long)counter(&pr[0], counters[i]), k,
                             (long long)counter(&pr[k], counters[i]));
        /* the generator must exercise both outcomes */
        assert_true(changed > 0);
        assert_true(changed < (uint64_t)rounds);
        assert_true(counter(&pr[0], sig == SIGNAL_TRACES ? "llm_spans" : "llm_log_records") > 0);
        for (int k = 0; k < 4; k++)
            proc_free(&pr[k]);
    }
}

static void test_traces_struct_and_index_agree(void **state)
{
    (void)state;
    differential(SIGNAL_TRACES, 400);
}

static void test_logs_struct_and_index_agree(void **state)
{
    (void)state;
    differential(SIGNAL_LOGS, 200);
}

/* Gateway-like requests, where the index decides most items without the struct view: its
 * renames, derivations, annotations and span names must be the struct path's too. */
static void test_gateway_traffic_struct_and_index_agree(void **state)
{
    (void)state;
    gateway = true;
    differential(SIGNAL_TRACES, 400);
    differential(SIGNAL_LOGS, 200);
    gateway = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traces_struct_and_index_agree),
        cmocka_unit_test(test_logs_struct_and_index_agree),
        cmocka_unit_test(test_gateway_traffic_struct_and_index_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
