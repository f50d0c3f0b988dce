/* test_gen_model.c — the traffic model of `llmotlp gen`: the same seed gives the same bytes, each
 * naming style writes the attribute names it claims and none of the others', the error ratio
 * holds over many traces, traces are well formed (one root, parents inside the trace), and the
 * logs and metric exemplars point at spans that exist; the batch's figures match its spans.
 * The one idea: every check walks the generated protobuf structs themselves, never the model's
 * own notes, so a figure the summary would print is checked against what goes on the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/llmotlp/gen_model.h"

typedef Opentelemetry__Proto__Trace__V1__Span span_t;
typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;

#define T0 1765000000000000000ULL /* a fixed window end: deterministic timestamps */

static struct gen_model_opts opts(uint64_t seed, enum gen_naming n, double err)
{
    struct gen_model_opts o = {.seed = seed, .naming = n, .error_ratio = err,
                               .fallback_ratio = 0.1, .agent_ratio = 0.15, .tenants = 5,
                               .time_ns = T0};
    return o;
}

static const kv_t *find(kv_t **a, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i]->key, key) == 0)
            return a[i];
    return NULL;
}
#define HAS(s, k) (find((s)->attributes, (s)->n_attributes, (k)) != NULL)

static size_t all_spans(const struct gen_batch *b, span_t ***out)
{
    size_t n = 0;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = b->traces->resource_spans[0];
    for (size_t i = 0; i < rs->n_scope_spans; i++)
        n += rs->scope_spans[i]->n_spans;
    span_t **v = calloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < rs->n_scope_spans; i++)
        for (size_t j = 0; j < rs->scope_spans[i]->n_spans; j++)
            v[k++] = rs->scope_spans[i]->spans[j];
    *out = v;
    return n;
}

static uint8_t *packed(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(*len ? *len : 1);
    protobuf_c_message_pack(m, p);
    return p;
}

static void same_bytes(const ProtobufCMessage *a, const ProtobufCMessage *b, bool want_same)
{
    size_t la, lb;
    uint8_t *pa = packed(a, &la), *pb = packed(b, &lb);
    bool same = la == lb && memcmp(pa, pb, la) == 0;
    assert_int_equal(same, want_same);
    free(pa);
    free(pb);
}

static void test_deterministic_with_seed(void **state)
{
    (void)state;
    const unsigned sig = GEN_SIG_TRACES | GEN_SIG_METRICS | GEN_SIG_LOGS;
    struct gen_model_opts o = opts(42, GEN_NAMING_MIXED, 0.05);
    struct gen_model *m1 = gen_model_new(&o), *m2 = gen_model_new(&o);
    o.seed = 43;
    struct gen_model *m3 = gen_model_new(&o);
    struct gen_batch b1, b2, b3;
    gen_batch_init(&b1);
    gen_batch_init(&b2);
    gen_batch_init(&b3);
    for (int round = 0; round < 3; round++) { /* successive batches stay in step too */
        gen_model_batch(m1, 20, sig, &b1);
        gen_model_batch(m2, 20, sig, &b2);
        gen_model_batch(m3, 20, sig, &b3);
        same_bytes(&b1.traces->base, &b2.traces->base, true);
        same_bytes(&b1.metrics->base, &b2.metrics->base, true);
        same_bytes(&b1.logs->base, &b2.logs->base, true);
        assert_memory_equal(&b1.stats, &b2.stats, sizeof b1.stats);
        same_bytes(&b1.traces->base, &b3.traces->base, false);
    }
    gen_batch_free(&b1);
    gen_batch_free(&b2);
    gen_batch_free(&b3);
    gen_model_free(m1);
    gen_model_free(m2);
    gen_model_free(m3);
}

/* Names each style must write on its LLM call spans, and names it must never write. */
struct style_rule {
    enum gen_naming n;
    const char *always[4];   /* on every LLM call span */
    const char *on_ok[3];    /* on every successful chat call */
    const char *never[8];    /* on no span */
    const char *agent_key;   /* on invoke_agent / tool spans */
};

static const struct style_rule rules[] = {
    {GEN_NAMING_SEMCONV,
     {"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", NULL},
     {"gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.response.model"},
     {"gen_ai.system", "gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens",
      "llm.model_name", "openinference.span.kind", "llm.request.type", "traceloop.span.kind",
      "llm.usage.prompt_tokens"},
     "gen_ai.operation.name"},
    {GEN_NAMING_LEGACY,
     {"gen_ai.operation.name", "gen_ai.system", "gen_ai.request.model", NULL},
     {"gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens", "gen_ai.response.model"},
     {"gen_ai.provider.name", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
      "gen_ai.usage.cache_read.input_tokens", "openinference.span.kind", "llm.request.type",
      "traceloop.span.kind", "llm.model_name"},
     "gen_ai.operation.name"},
    {GEN_NAMING_OPENINFERENCE,
     {"openinference.span.kind", "llm.provider", NULL, NULL},
     {"llm.model_name", "llm.token_count.prompt", "llm.token_count.completion"},
     {"gen_ai.provider.name", "gen_ai.system", "gen_ai.request.model", "gen_ai.operation.name",
      "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.request.type",
      "traceloop.span.kind"},
     "openinference.span.kind"},
    {GEN_NAMING_OPENLLMETRY,
     {"llm.request.type", "gen_ai.system", "llm.request.model", NULL},
     {"llm.usage.prompt_tokens", "llm.usage.completion_tokens", "llm.response.model"},
     {"gen_ai.provider.name", "gen_ai.request.model", "gen_ai.operation.name",
      "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "openinference.span.kind",
      "llm.model_name", "llm.token_count.prompt"},
     "traceloop.span.kind"},
};

static void test_naming_styles_write_their_names(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        const struct style_rule *R = &rules[r];
        struct gen_model_opts o = opts(7 + r, R->n, 0.1);
        struct gen_model *m = gen_model_new(&o);
        struct gen_batch b;
        gen_batch_init(&b);
        gen_model_batch(m, 300, GEN_SIG_TRACES, &b);
        assert_int_equal(b.stats.by_naming[R->n], 300);
        span_t **v;
        size_t n = all_spans(&b, &v);
        size_t clients = 0, ok_chats = 0, internal = 0;
        for (size_t i = 0; i < n; i++) {
            span_t *s = v[i];
            for (size_t k = 0; k < 8; k++)
                if (HAS(s, R->never[k]))
                    fail_msg("%s span '%s' has %s", gen_naming_name(R->n), s->name, R->never[k]);
            if (s->kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL) {
                internal++;
                if (!HAS(s, R->agent_key))
                    fail_msg("%s agent/tool span '%s' lacks %s", gen_naming_name(R->n), s->name, R->agent_key);
            }
            if (s->kind != OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT)
                continue;
            clients++;
            for (size_t k = 0; k < 4 && R->always[k]; k++)
                if (!HAS(s, R->always[k]))
                    fail_msg("%s span '%s' lacks %s", gen_naming_name(R->n), s->name, R->always[k]);
            bool ok = s->status->code != OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
            if (ok && strncmp(s->name, "chat ", 5) == 0) {
                ok_chats++;
                for (size_t k = 0; k < 3; k++)
                    if (!HAS(s, R->on_ok[k]))
                        fail_msg("%s chat span lacks %s", gen_naming_name(R->n), R->on_ok[k]);
            }
            assert_true(HAS(s, "tenant.id"));
        }
        assert_int_equal(clients, b.stats.llm_calls);
        assert_true(ok_chats > 100);
        assert_int_equal(internal, b.stats.agent_traces + b.stats.tool_calls);
        assert_true(internal > 0);
        free(v);
        gen_batch_free(&b);
        gen_model_free(m);
    }
}

static void test_mixed_uses_every_style(void **state)
{
    (void)state;
    struct gen_model_opts o = opts(3, GEN_NAMING_MIXED, 0.05);
    struct gen_model *m = gen_model_new(&o);
    struct gen_batch b;
    gen_batch_init(&b);
    gen_model_batch(m, 400, GEN_SIG_TRACES, &b);
    uint64_t sum = 0;
    for (int i = 0; i < GEN_NAMING_STYLES; i++) {
        assert_true(b.stats.by_naming[i] > 50); /* 100 expected each */
        sum += b.stats.by_naming[i];
    }
    assert_int_equal(sum, 400);
    gen_batch_free(&b);
    gen_model_free(m);
}

static void test_error_ratio_within_bounds(void **state)
{
    (void)state;
    const double ratios[] = {0.0, 0.1, 0.5, 1.0};
    const unsigned N = 4000;
    for (size_t r = 0; r < 4; r++) {
        struct gen_model_opts o = opts(11, GEN_NAMING_SEMCONV, ratios[r]);
        struct gen_model *m = gen_model_new(&o);
        struct gen_batch b;
        gen_batch_init(&b);
        gen_model_batch(m, N, GEN_SIG_TRACES, &b);
        span_t **v;
        size_t n = all_spans(&b, &v);
        uint64_t failed_roots = 0;
        for (size_t i = 0; i < n; i++)
            if (v[i]->parent_span_id.len == 0 &&
                v[i]->status->code == OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR)
                failed_roots++;
        assert_int_equal(failed_roots, b.stats.error_traces);
        double want = ratios[r] * N, tol = 5 * sqrt(N * ratios[r] * (1 - ratios[r])) + 0.5;
        if (!((double)failed_roots >= want - tol && (double)failed_roots <= want + tol))
            fail_msg("ratio %.2f: %llu failed traces of %u, want %.0f ± %.0f", ratios[r],
                     (unsigned long long)failed_roots, N, want, tol);
        free(v);
        gen_batch_free(&b);
        gen_model_free(m);
    }
}

static bool same_id(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* The span of that trace with that span ID, or NULL. */
static span_t *lookup(span_t **v, size_t n, const ProtobufCBinaryData *trace, const ProtobufCBinaryData *span)
{
    for (size_t i = 0; i < n; i++)
        if (same_id(&v[i]->trace_id, trace) && same_id(&v[i]->span_id, span))
            return v[i];
    return NULL;
}

static void test_traces_well_formed(void **state)
{
    (void)state;
    struct gen_model_opts o = opts(5, GEN_NAMING_MIXED, 0.2);
    struct gen_model *m = gen_model_new(&o);
    struct gen_batch b;
    gen_batch_init(&b);
    gen_model_batch(m, 150, GEN_SIG_TRACES, &b);
    span_t **v;
    size_t n = all_spans(&b, &v);
    assert_int_equal(n, b.stats.spans);
    size_t roots = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(v[i]->trace_id.len, 16);
        assert_int_equal(v[i]->span_id.len, 8);
        assert_true(v[i]->end_time_unix_nano >= v[i]->start_time_unix_nano);
        assert_true(v[i]->end_time_unix_nano <= T0);
        if (v[i]->parent_span_id.len == 0) {
            roots++;
            continue;
        }
        /* the parent is a span of the same trace: every span shares its root's trace ID */
        span_t *p = lookup(v, n, &v[i]->trace_id, &v[i]->parent_span_id);
        assert_non_null(p);
        assert_true(p->start_time_unix_nano <= v[i]->start_time_unix_nano);
        assert_true(p->end_time_unix_nano >= v[i]->end_time_unix_nano);
    }
    assert_int_equal(roots, 150);
    for (size_t i = 0; i < n; i++) /* span IDs unique */
        for (size_t j = i + 1; j < n; j++)
            assert_false(same_id(&v[i]->span_id, &v[j]->span_id));
    /* 1-4 LLM calls per trace */
    assert_true(b.stats.llm_calls >= 150 && b.stats.llm_calls <= 4 * 150);
    free(v);
    gen_batch_free(&b);
    gen_model_free(m);
}

static void test_logs_and_exemplars_point_at_spans(void **state)
{
    (void)state;
    struct gen_model_opts o = opts(9, GEN_NAMING_MIXED, 0.1);
    struct gen_model *m = gen_model_new(&o);
    struct gen_batch b;
    gen_batch_init(&b);
    gen_model_batch(m, 120, GEN_SIG_TRACES | GEN_SIG_METRICS | GEN_SIG_LOGS, &b);
    span_t **v;
    size_t n = all_spans(&b, &v);

    Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = b.logs->resource_logs[0]->scope_logs[0];
    assert_int_equal(sl->n_log_records, b.stats.log_records);
    assert_int_equal(b.stats.log_records, b.stats.traces + b.stats.llm_calls);
    for (size_t i = 0; i < sl->n_log_records; i++) {
        const Opentelemetry__Proto__Logs__V1__LogRecord *r = sl->log_records[i];
        assert_non_null(lookup(v, n, &r->trace_id, &r->span_id));
    }

    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = b.metrics->resource_metrics[0]->scope_metrics[0];
    size_t points = 0;
    uint64_t duration_count = 0, input_sum = 0;
    for (size_t i = 0; i < sm->n_metrics; i++) {
        const Opentelemetry__Proto__Metrics__V1__Metric *mt = sm->metrics[i];
        assert_int_equal(mt->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
        for (size_t k = 0; k < mt->histogram->n_data_points; k++) {
            const Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *p = mt->histogram->data_points[k];
            points++;
            uint64_t buckets = 0;
            for (size_t q = 0; q < p->n_bucket_counts; q++)
                buckets += p->bucket_counts[q];
            assert_int_equal(buckets, p->count);
            assert_int_equal(p->n_exemplars, 1);
            assert_non_null(lookup(v, n, &p->exemplars[0]->trace_id, &p->exemplars[0]->span_id));
            if (strcmp(mt->name, "gen_ai.client.operation.duration") == 0)
                duration_count += p->count;
            const kv_t *tt = find(p->attributes, p->n_attributes, "gen_ai.token.type");
            if (tt && strcmp(tt->value->string_value, "input") == 0)
                input_sum += (uint64_t)p->sum;
        }
    }
    assert_int_equal(points, b.stats.metric_points);
    assert_int_equal(duration_count, b.stats.llm_calls);
    assert_int_equal(input_sum, b.stats.input_tokens);
    free(v);
    gen_batch_free(&b);
    gen_model_free(m);
}

/* The batch's token figures are the sums of what its spans say (semconv names). */
static void test_stats_match_spans(void **state)
{
    (void)state;
    struct gen_model_opts o = opts(21, GEN_NAMING_SEMCONV, 0.05);
    struct gen_model *m = gen_model_new(&o);
    struct gen_batch b;
    gen_batch_init(&b);
    gen_model_batch(m, 200, GEN_SIG_TRACES, &b);
    span_t **v;
    size_t n = all_spans(&b, &v);
    uint64_t in = 0, out = 0, cache = 0, errs = 0;
    for (size_t i = 0; i < n; i++) {
        const kv_t *k;
        if ((k = find(v[i]->attributes, v[i]->n_attributes, "gen_ai.usage.input_tokens")))
            in += (uint64_t)k->value->int_value;
        if ((k = find(v[i]->attributes, v[i]->n_attributes, "gen_ai.usage.output_tokens")))
            out += (uint64_t)k->value->int_value;
        if ((k = find(v[i]->attributes, v[i]->n_attributes, "gen_ai.usage.cache_read.input_tokens"))) {
            cache += (uint64_t)k->value->int_value;
            assert_true(k->value->int_value <=
                        find(v[i]->attributes, v[i]->n_attributes, "gen_ai.usage.input_tokens")->value->int_value);
        }
        if (v[i]->kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT &&
            v[i]->status->code == OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR) {
            errs++;
            assert_true(HAS(v[i], "error.type"));
        }
    }
    assert_int_equal(in, b.stats.input_tokens);
    assert_int_equal(out, b.stats.output_tokens);
    assert_int_equal(cache, b.stats.cache_read_tokens);
    assert_true(cache > 0);
    uint64_t calls = 0, model_errs = 0;
    for (size_t i = 0; i < GEN_MAX_LLMS; i++) {
        calls += b.stats.per_model[i].calls;
        model_errs += b.stats.per_model[i].errors;
    }
    assert_int_equal(calls, b.stats.llm_calls);
    assert_int_equal(model_errs, errs);
    assert_true(b.stats.fallback_traces > 0);
    free(v);
    gen_batch_free(&b);
    gen_model_free(m);
}

static void test_naming_parse(void **state)
{
    (void)state;
    assert_int_equal(gen_naming_parse("openinference"), GEN_NAMING_OPENINFERENCE);
    assert_int_equal(gen_naming_parse("mixed"), GEN_NAMING_MIXED);
    assert_int_equal(gen_naming_parse("OpenInference"), -1);
    assert_int_equal(gen_naming_parse(""), -1);
    assert_string_equal(gen_naming_name(GEN_NAMING_LEGACY), "legacy");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_with_seed),
        cmocka_unit_test(test_naming_styles_write_their_names),
        cmocka_unit_test(test_mixed_uses_every_style),
        cmocka_unit_test(test_error_ratio_within_bounds),
        cmocka_unit_test(test_traces_well_formed),
        cmocka_unit_test(test_logs_and_exemplars_point_at_spans),
        cmocka_unit_test(test_stats_match_spans),
        cmocka_unit_test(test_naming_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
