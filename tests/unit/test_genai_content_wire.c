/* test_genai_content_wire.c — the genai_content processor's two backends against each other: the
 * span index (the production path) and the walk over a whole decoded request (protobuf-c structs).
 *
 * The one idea: the struct walk is the reference, so the same generated requests go through both
 * and everything observable must agree: the decoded outputs field by field (each output is
 * decoded and packed again by protobuf-c, which writes every field in one canonical order, so
 * equal bytes mean equal trees, attribute order included: the index replaces a value where it
 * stands and deletes in place, as the struct walk does), the counters, and whether the request
 * was left as the very batch that came. Requests are generated from a seed: LLM traces of 1-4
 * calls with current and legacy attribute names in random order, duplicates, structured and
 * empty values, values without a value, PII or clean text, 10% error spans, deprecated message
 * events and other events; log records that are deprecated events (by event_name or the
 * event.name attribute) with string, map and bytes bodies, and structured messages. Each runs
 * under several policies, alone, shared with another holder (the index is then copied), and
 * after an earlier processor edited the index (an item dropped, a content attribute added). */
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
#include "core/log.h"
#include "core/telemetry.h"
#include "core/wire_index.h"
#include "processors/genai_content/genai_content.h"
#include "tests/unit/testutil.h"
#include "tests/unit/wire_testgen.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsRequest;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

/* ---- generator ------------------------------------------------------------------------------- */

struct gen {
    uint64_t s;
    struct arena *a;
};

static uint32_t rnd(struct gen *g, uint32_t n) { return wtg_rnd(&g->s, n); }

static const char *const texts[] = {
    "Summarize the attached report in three bullet points.",
    "Reach me at jane.doe@example.com or +33 6 12 34 56 78",
    "card 4111 1111 1111 1111, exp 12/29",
    "my key is sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    "server 10.1.2.3 answered in 1520 ms at 2024-01-15T10:30:00Z, v1.2.3",
    "",
    "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9 long text",
    "IBAN GB82WEST12345698765432 please",
    "Authorization: Bearer abcdef0123456789ABCDEF.xyz",
};
#define NTEXTS (sizeof texts / sizeof texts[0])

/* Only texts without PII and messages of the right shape: nothing for the policy to change. */
static bool clean_only;

static const char *text(struct gen *g)
{
    static const int clean[] = {0, 5, 6};
    return clean_only ? texts[clean[rnd(g, 3)]] : texts[rnd(g, NTEXTS)];
}

static char *messages(struct gen *g, bool system)
{
    char *buf = arena_alloc(g->a, 1024);
    switch (clean_only ? 7 : rnd(g, 8)) {
    case 0:
        snprintf(buf, 1024, "not json { %s", text(g));
        return buf;
    case 1: /* the wrong shape: a message without parts */
        snprintf(buf, 1024, "[{\"role\":\"user\",\"content\":\"%s\"}]", text(g));
        return buf;
    default:
        break;
    }
    if (system)
        snprintf(buf, 1024, "[{\"type\":\"text\",\"content\":\"%s\"}]", text(g));
    else
        snprintf(buf, 1024,
                 "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"%s\"},"
                 "{\"type\":\"tool_call\",\"id\":\"c1\",\"name\":\"lookup\",\"arguments\":"
                 "{\"q\":\"%s\"}}]},{\"role\":\"assistant\",\"parts\":[{\"type\":\"blob\","
                 "\"mime_type\":\"image/png\",\"content\":\"aGVsbG8=\"}],"
                 "\"finish_reason\":\"stop\"}]",
                 text(g), text(g));
    return buf;
}

static AnyValue *v_str(struct gen *g, const char *s) { return wtg_str(g->a, s); }

static KeyValue *kv_new(struct gen *g, const char *k, AnyValue *v) { return wtg_kv(g->a, k, v); }

/* Structured messages (as log records carry them), sometimes of the wrong shape. */
static AnyValue *v_messages(struct gen *g)
{
    KeyValue *part[] = {kv_new(g, "type", v_str(g, rnd(g, 6) ? "text" : "blob")),
                        kv_new(g, "content", v_str(g, text(g)))};
    AnyValue *parts1[] = {wtg_kvlist(g->a, part, 2)};
    KeyValue *msg[] = {kv_new(g, "role", v_str(g, "user")),
                       kv_new(g, "parts", wtg_array(g->a, parts1, rnd(g, 5) ? 1 : 0))};
    AnyValue *msgs[] = {wtg_kvlist(g->a, msg, rnd(g, 6) ? 2 : 1)};
    return wtg_array(g->a, msgs, 1);
}

/* Any value for a content attribute. */
static AnyValue *v_any(struct gen *g, bool message_family)
{
    switch (rnd(g, 12)) {
    case 0:
        return wtg_int(g->a, 1520);
    case 1:
        return wtg_bytes(g->a, "a@b", 3);
    case 2: /* an AnyValue holding nothing */
        return wtg_any(g->a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET);
    case 3:
        return NULL; /* a KeyValue without a value */
    case 4:
        return v_messages(g);
    case 5: {
        KeyValue *kvs[] = {kv_new(g, "q", v_str(g, text(g))), kv_new(g, "n", v_str(g, text(g)))};
        AnyValue *inner[] = {wtg_kvlist(g->a, kvs, 2), v_str(g, text(g))};
        return wtg_array(g->a, inner, 2);
    }
    default:
        return v_str(g, message_family ? messages(g, false) : text(g));
    }
}

static const char *const content_keys[] = {
    "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.prompt",
    "gen_ai.prompt.0.content", "gen_ai.completion.0.content", "gen_ai.content.prompt",
    "llm.input_messages.0.message.content", "llm.output_messages.0.message.content",
    "llm.prompts", "llm.prompt_template.variables", "input.value", "output.value",
    "traceloop.entity.input", "traceloop.entity.output", "ai.prompt.messages",
    "ai.response.text", "ai.toolCall.args", "content",
};
static const char *const other_keys[] = {
    "gen_ai.request.model", "gen_ai.operation.name", "http.url", "gen_ai.prompt_tokens",
    "llm.model_name", "input.mime_type", "ai.model.id", "gen_ai.usage.input_tokens",
};
#define N(a) (sizeof a / sizeof a[0])

static KeyValue *attr(struct gen *g)
{
    if (rnd(g, 3) == 0) {
        const char *k = other_keys[rnd(g, N(other_keys))];
        return kv_new(g, k, v_str(g, rnd(g, 2) ? "gpt-4o" : "see jane.doe@example.com"));
        /* (not content: left alone whatever it holds) */
    }
    size_t i = rnd(g, N(content_keys));
    const char *k = content_keys[i];
    bool msg = i < 3;
    AnyValue *v = rnd(g, 3) || clean_only ? v_str(g, msg ? messages(g, i == 2) : text(g)) : v_any(g, msg);
    return kv_new(g, k, v);
}

/* n attributes in random order, with a duplicate key now and then. */
static KeyValue **attrs(struct gen *g, size_t *n)
{
    size_t k = rnd(g, 7);
    KeyValue **a = arena_alloc(g->a, (k + 2) * sizeof *a);
    for (size_t i = 0; i < k; i++)
        a[i] = attr(g);
    if (k && !clean_only && rnd(g, 5) == 0) {
        a[k] = kv_new(g, a[rnd(g, (uint32_t)k)]->key, v_str(g, text(g)));
        k++;
    }
    *n = k;
    return a;
}

static const char *const event_names[] = {
    "gen_ai.user.message", "gen_ai.assistant.message", "gen_ai.system.message",
    "gen_ai.tool.message", "gen_ai.choice", "exception", "gen_ai.content.prompt",
    "gen_ai.client.inference.operation.details",
};

static Span *span(struct gen *g, uint8_t trace, uint8_t id)
{
    Span *s = wtg_span(g->a);
    s->trace_id = wtg_id_fill(g->a, 16, trace);
    s->span_id = wtg_id_fill(g->a, 8, id);
    s->name = "chat gpt-4o";
    s->start_time_unix_nano = 1700000000000000000ULL + id;
    s->end_time_unix_nano = s->start_time_unix_nano + 1000;
    s->attributes = attrs(g, &s->n_attributes);
    if (rnd(g, 10) == 0) {
        Opentelemetry__Proto__Trace__V1__Status *st = arena_alloc(g->a, sizeof *st);
        opentelemetry__proto__trace__v1__status__init(st);
        st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
        st->message = "upstream 500";
        s->status = st;
    }
    size_t ne = rnd(g, 3) == 0 ? 1 + rnd(g, 3) : 0;
    s->events = arena_alloc(g->a, (ne + 1) * sizeof *s->events);
    for (size_t i = 0; i < ne; i++) {
        Event *e = arena_alloc(g->a, sizeof *e);
        opentelemetry__proto__trace__v1__span__event__init(e);
        e->name = (char *)event_names[rnd(g, N(event_names))];
        e->time_unix_nano = s->start_time_unix_nano + i;
        e->attributes = attrs(g, &e->n_attributes);
        s->events[i] = e;
    }
    s->n_events = ne;
    return s;
}

static struct batch *gen_traces(uint64_t seed)
{
    struct gen g = {.s = seed * 2654435761u + 1, .a = arena_new(0)};
    TraceRequest *req = wtg_traces(g.a, 1 + rnd(&g, 2));
    uint8_t id = 1;
    for (size_t r = 0; r < req->n_resource_spans; r++) {
        Opentelemetry__Proto__Trace__V1__ResourceSpans *rs =
            wtg_resource_spans(g.a, NULL, rnd(&g, 3));
        for (size_t s = 0; s < rs->n_scope_spans; s++) {
            /* 1-3 traces of 1-4 LLM calls under one root */
            size_t nt = 1 + rnd(&g, 3), k = 0;
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = wtg_scope_spans(g.a, NULL, nt * 5);
            for (size_t t = 0; t < nt; t++) {
                uint8_t trace = (uint8_t)(r * 16 + s * 4 + t + 1);
                Span *root = span(&g, trace, id++);
                root->name = "POST /v1/chat";
                ss->spans[k++] = root;
                for (size_t c = 1 + rnd(&g, 4); c > 0; c--)
                    ss->spans[k++] = span(&g, trace, id++);
            }
            ss->n_spans = k;
            rs->scope_spans[s] = ss;
        }
        req->resource_spans[r] = rs;
    }
    struct batch *b = tu_pack_batch(SIGNAL_TRACES, &req->base);
    arena_free(g.a);
    return b;
}

static struct batch *gen_logs(uint64_t seed)
{
    struct gen g = {.s = seed * 40503u + 7, .a = arena_new(0)};
    size_t n = 1 + rnd(&g, 8);
    Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = wtg_scope_logs(g.a, NULL, n);
    sl->n_log_records = n;
    for (size_t i = 0; i < n; i++) {
        LogRecord *lr = wtg_log_record(g.a);
        lr->time_unix_nano = 1700000000000000000ULL + i;
        lr->attributes = attrs(&g, &lr->n_attributes);
        const char *ev = event_names[rnd(&g, N(event_names))];
        switch (rnd(&g, 3)) {
        case 0:
            lr->event_name = (char *)ev;
            break;
        case 1: { /* named by the event.name attribute, first or after the others */
            KeyValue **a = arena_alloc(g.a, (lr->n_attributes + 1) * sizeof *a);
            memcpy(a, lr->attributes, lr->n_attributes * sizeof *a);
            a[lr->n_attributes++] = kv_new(&g, "event.name", v_str(&g, ev));
            if (rnd(&g, 2)) {
                KeyValue *t = a[0];
                a[0] = a[lr->n_attributes - 1];
                a[lr->n_attributes - 1] = t;
            }
            lr->attributes = a;
            break;
        }
        default:
            break;
        }
        switch (rnd(&g, 4)) {
        case 0:
            lr->body = v_str(&g, text(&g));
            break;
        case 1: {
            KeyValue *kvs[] = {kv_new(&g, "content", v_str(&g, text(&g))),
                               kv_new(&g, "role", v_str(&g, "user"))};
            lr->body = wtg_kvlist(g.a, kvs, 2);
            break;
        }
        case 2:
            lr->body = v_any(&g, false);
            break;
        default:
            break;
        }
        sl->log_records[i] = lr;
    }
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = wtg_resource_logs(g.a, NULL, 1);
    rl->scope_logs[0] = sl;
    LogsRequest *req = wtg_logs(g.a, 1);
    req->resource_logs[0] = rl;
    struct batch *b = tu_pack_batch(SIGNAL_LOGS, &req->base);
    arena_free(g.a);
    return b;
}

/* ---- the two processors ---------------------------------------------------------------------- */

struct side {
    struct telemetry *tel;
    struct wire_interest *interest;
    struct wtg_sink sink;
    void *proc;
};

struct pair {
    struct cnode *root;
    struct genai_content_config cfg;
    struct side s[2]; /* 0: structs, 1: index */
};

static void pair_open(struct pair *x, const char *yaml, enum signal sig, bool with_interest)
{
    memset(x, 0, sizeof *x);
    struct error err = {0};
    if (yaml) {
        x->root = config_parse_string(yaml, "<test>", &err);
        assert_non_null(x->root);
    }
    if (config_bind(genai_content_processor_factory.fields, x->root, &x->cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    for (int i = 0; i < 2; i++) {
        struct side *s = &x->s[i];
        s->tel = telemetry_new();
        s->sink.c.consume = wtg_sink_consume;
        s->interest = with_interest ? wire_interest_new() : NULL;
        /* another component's keys in the same interest: they must not disturb the walk */
        if (s->interest)
            assert_int_equal(wire_interest_add_key(s->interest, "gen_ai.request.model"), 0);
        struct component_env env = {.id = "gc", .log_name = "processor/genai_content",
                                    .signal = sig, .telemetry = s->tel,
                                    .interest = s->interest};
        env.next[sig] = &s->sink.c;
        s->proc = genai_content_processor_factory.create(&x->cfg, &env, &err);
        if (!s->proc)
            fail_msg("create: %s", err.msg);
    }
    genai_content_use_structs(x->s[0].proc, true);
}

static void pair_close(struct pair *x)
{
    for (int i = 0; i < 2; i++) {
        genai_content_processor_factory.destroy(x->s[i].proc);
        wtg_sink_clear(&x->s[i].sink);
        telemetry_free(x->s[i].tel);
        wire_interest_free(x->s[i].interest);
    }
    config_free_bound(genai_content_processor_factory.fields, &x->cfg);
    cnode_free(x->root);
}

/* The output decoded and packed again, nothing normalized: equal bytes, equal trees. */
static uint8_t *canonical(struct batch *b, size_t *n)
{
    uint8_t *out = wtg_canonical_batch(b, 0, n);
    assert_non_null(out);
    return out;
}

static char *metrics(struct telemetry *t)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    telemetry_write_prometheus(t, f);
    fclose(f);
    return buf;
}

/* A prior processor's index edits, made alike on each side's input: the first item dropped, a
 * content attribute with PII added to the last one. */
static void pre_edit(struct batch *b)
{
    struct batch *out = NULL;
    struct error err = {0};
    struct wire_index *ix = batch_index_edit(b, NULL, &out, &err);
    assert_non_null(ix);
    assert_ptr_equal(out, b);
    if (ix->n_items > 1)
        wi_item_drop(ix, &ix->items[0]);
    if (ix->n_items)
        assert_int_equal(wi_item_set_string(ix, &ix->items[ix->n_items - 1], "input.value",
                                            "mail jane.doe@example.com", 25), 0);
    batch_index_edit_done(b);
}

enum mode { ALONE, SHARED, AFTER_EDIT, N_MODES };

static struct batch *gen(enum signal sig, uint64_t seed)
{
    return sig == SIGNAL_TRACES ? gen_traces(seed) : gen_logs(seed);
}

/* One request through both sides; returns whether the output differs from the input. */
static bool run_one(const char *yaml, enum signal sig, uint64_t seed, enum mode mode,
                    bool with_interest)
{
    struct pair x;
    pair_open(&x, yaml, sig, with_interest);
    struct batch *in[2];
    bool same[2];
    for (int i = 0; i < 2; i++) {
        in[i] = gen(sig, seed);
        if (mode == AFTER_EDIT)
            pre_edit(in[i]);
        struct batch *extra = mode == SHARED ? batch_ref(in[i]) : NULL;
        assert_int_equal(genai_content_processor_factory.consume(x.s[i].proc, in[i]),
                         CONSUME_OK);
        assert_int_equal(x.s[i].sink.calls, 1);
        assert_non_null(x.s[i].sink.got);
        same[i] = x.s[i].sink.got == in[i];
        if (extra)
            batch_unref(extra);
    }
    size_t n0, n1;
    uint8_t *c0 = canonical(x.s[0].sink.got, &n0), *c1 = canonical(x.s[1].sink.got, &n1);
    if (n0 != n1 || memcmp(c0, c1, n0) != 0)
        fail_msg("%s seed %llu mode %d interest %d: outputs differ (%zu and %zu bytes)\n%s",
                 signal_name(sig), (unsigned long long)seed, mode, with_interest, n0, n1,
                 yaml ? yaml : "(default)");
    if (same[0] != same[1])
        fail_msg("%s seed %llu mode %d: structs %s the request, the index %s", signal_name(sig),
                 (unsigned long long)seed, mode, same[0] ? "kept" : "changed",
                 same[1] ? "kept" : "changed");
    char *m0 = metrics(x.s[0].tel), *m1 = metrics(x.s[1].tel);
    if (strcmp(m0, m1) != 0)
        fail_msg("%s seed %llu mode %d: counters differ\nstructs:\n%s\nindex:\n%s",
                 signal_name(sig), (unsigned long long)seed, mode, m0, m1);
    free(m0);
    free(m1);
    free(c0);
    free(c1);
    for (int i = 0; i < 2; i++)
        batch_unref(in[i]);
    pair_close(&x);
    return !same[0];
}

static const char *const configs[] = {
    NULL,
    "legacy_attributes: drop\ntool_call_arguments: hash\nhash_salt: pepper\n",
    "input_messages: keep\noutput_messages: hash\nsystem_instructions: drop\nmax_length: 24\n",
    "input_messages: keep\noutput_messages: keep\nsystem_instructions: keep\n"
    "tool_call_arguments: keep\ntool_call_results: keep\nlegacy_attributes: keep\n",
    "legacy_attributes: hash\ninput_messages: drop\ndetectors: [email]\nmax_length: 40\n",
};

static void differential(enum signal sig, unsigned seeds)
{
    unsigned changed = 0, kept = 0;
    for (size_t c = 0; c < N(configs); c++)
        for (uint64_t seed = 1; seed <= seeds; seed++)
            for (int mode = 0; mode < N_MODES; mode++) {
                if (run_one(configs[c], sig, seed, (enum mode)mode, (seed & 1) != 0))
                    changed++;
                else
                    kept++;
            }
    /* the generator reaches both outcomes, so both paths of each side were compared */
    assert_true(changed > seeds);
    assert_true(kept > seeds / 4);
}

static void test_traces_differential(void **state)
{
    (void)state;
    differential(SIGNAL_TRACES, 60);
}

static void test_logs_differential(void **state)
{
    (void)state;
    differential(SIGNAL_LOGS, 60);
}

/* The index path leaves a request with nothing to change as the very batch that came, its
 * encoded face not even rebuilt; so does the struct walk. */
static void test_clean_request_not_copied(void **state)
{
    (void)state;
    clean_only = true;
    unsigned with_content = 0;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        struct pair x;
        pair_open(&x, NULL, SIGNAL_TRACES, true);
        struct batch *in = gen_traces(seed);
        const uint8_t *w, *w2;
        size_t wl, wl2;
        struct error err = {0};
        assert_int_equal(batch_encoded(in, &w, &wl, &err), 0);
        with_content += memmem(w, wl, "gen_ai.input.messages", 21) != NULL;
        assert_int_equal(genai_content_processor_factory.consume(x.s[1].proc, in), CONSUME_OK);
        assert_ptr_equal(x.s[1].sink.got, in);
        assert_int_equal(batch_encoded(in, &w2, &wl2, &err), 0);
        assert_ptr_equal(w2, w);
        assert_int_equal(wl2, wl);
        batch_unref(in);
        pair_close(&x);
        /* and through both sides, compared */
        assert_false(run_one(NULL, SIGNAL_TRACES, seed, ALONE, true));
    }
    clean_only = false;
    assert_true(with_content > 50);
}

int main(void)
{
    log_set_level(LOG_ERROR); /* the fail-closed drops are many here, and expected */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traces_differential),
        cmocka_unit_test(test_logs_differential),
        cmocka_unit_test(test_clean_request_not_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
