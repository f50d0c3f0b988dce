/* bench_common.h — what the benchmark programs share: the synthetic LLM-gateway trace requests,
 * a span counter over raw wire bytes, clocks and option parsing.
 * The one idea: every program builds its requests from the same seeded generator, so the load
 * generator, the codec floor and the sink all speak about the same bytes. Header-only (static
 * functions) because each bench program is built alone. Not thread-safe: one generator per thread. */
#ifndef LLMOTLP_BENCH_COMMON_H
#define LLMOTLP_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue bench_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue bench_any;
typedef Opentelemetry__Proto__Trace__V1__Span bench_span;

/* ---- clocks ---------------------------------------------------------------------------- */

static inline double bench_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static inline double bench_now(void) { return bench_clock(CLOCK_MONOTONIC); }
static inline double bench_cpu(void) { return bench_clock(CLOCK_PROCESS_CPUTIME_ID); }

/* ---- random numbers (xorshift64*: fast, seedable, good enough for IDs and choices) --------- */

static inline uint64_t bench_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}
static inline uint32_t bench_below(uint64_t *s, uint32_t n) { return (uint32_t)(bench_rand(s) % n); }

/* ---- request generator -------------------------------------------------------------------- */

struct bench_model {
    const char *request, *response, *provider, *server;
};

static const struct bench_model bench_models[] = {
    {"gpt-4o", "gpt-4o-2024-08-06", "openai", "api.openai.com"},
    {"gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai", "api.openai.com"},
    {"claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "anthropic", "api.anthropic.com"},
    {"gemini-2.5-pro", "gemini-2.5-pro", "gcp.gemini", "generativelanguage.googleapis.com"},
    {"llama-3.1-70b-instruct", "meta.llama3-1-70b-instruct-v1:0", "aws.bedrock",
     "bedrock-runtime.us-east-1.amazonaws.com"},
};
#define BENCH_NMODELS (sizeof bench_models / sizeof bench_models[0])

static const char *const bench_finish[] = {"stop", "stop", "stop", "length", "tool_calls"};

static inline bench_kv *bench_kv_new(struct arena *a, const char *key)
{
    bench_kv *kv = arena_alloc(a, sizeof *kv);
    bench_any *v = arena_alloc(a, sizeof *v);
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    kv->key = (char *)key;
    kv->value = v;
    return kv;
}
static inline bench_kv *bench_kv_str(struct arena *a, const char *key, const char *s)
{
    bench_kv *kv = bench_kv_new(a, key);
    kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    kv->value->string_value = (char *)s;
    return kv;
}
static inline bench_kv *bench_kv_int(struct arena *a, const char *key, int64_t i)
{
    bench_kv *kv = bench_kv_new(a, key);
    kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    kv->value->int_value = i;
    return kv;
}
static inline bench_kv *bench_kv_double(struct arena *a, const char *key, double d)
{
    bench_kv *kv = bench_kv_new(a, key);
    kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
    kv->value->double_value = d;
    return kv;
}
static inline bench_kv *bench_kv_strarray(struct arena *a, const char *key, const char *s)
{
    bench_kv *kv = bench_kv_new(a, key);
    Opentelemetry__Proto__Common__V1__ArrayValue *arr = arena_alloc(a, sizeof *arr);
    opentelemetry__proto__common__v1__array_value__init(arr);
    arr->n_values = 1;
    arr->values = arena_alloc(a, sizeof *arr->values);
    arr->values[0] = arena_alloc(a, sizeof **arr->values);
    opentelemetry__proto__common__v1__any_value__init(arr->values[0]);
    arr->values[0]->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    arr->values[0]->string_value = (char *)s;
    kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
    kv->value->array_value = arr;
    return kv;
}

static inline uint8_t *bench_random_bytes(struct arena *a, uint64_t *rng, size_t n)
{
    uint8_t *p = arena_alloc(a, n);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = bench_rand(rng);
        memcpy(p + i, &r, n - i < 8 ? n - i : 8);
    }
    return p;
}

static inline bench_span *bench_span_new(struct arena *a, uint64_t *rng, const uint8_t *trace_id,
                                         const uint8_t *parent, const char *name, int kind,
                                         uint64_t start, uint64_t end)
{
    bench_span *s = arena_alloc(a, sizeof *s);
    opentelemetry__proto__trace__v1__span__init(s);
    s->trace_id.data = (uint8_t *)trace_id;
    s->trace_id.len = 16;
    s->span_id.data = bench_random_bytes(a, rng, 8);
    s->span_id.len = 8;
    if (parent) {
        s->parent_span_id.data = (uint8_t *)parent;
        s->parent_span_id.len = 8;
    }
    s->flags = 0x101; /* sampled, parent-is-remote known */
    s->name = (char *)name;
    s->kind = kind;
    s->start_time_unix_nano = start;
    s->end_time_unix_nano = end;
    s->status = arena_alloc(a, sizeof *s->status);
    opentelemetry__proto__trace__v1__status__init(s->status);
    return s;
}

/* The shape of the generated traffic. BENCH_SHAPE_PLAIN is what bench_request_build has always
 * produced (2% failing traces, current GenAI names): every program that measured it keeps the very
 * same bytes. The LLM shapes are what the issue-15 benchmarks send (loadgen --traffic): 10% of
 * traces failing, the failed LLM call carrying error.type, and a share of traces written with the
 * legacy GenAI names an older gateway sends (gen_ai.system with its v1.36 values,
 * gen_ai.usage.prompt_tokens / completion_tokens), which genai_semconv renames. */
struct bench_shape {
    unsigned error_pct;  /* traces whose last LLM call (and root) end in ERROR */
    unsigned legacy_pct; /* traces with legacy GenAI names; 0 draws no random number for it */
    int error_type;      /* the failed LLM span also carries error.type */
};
static const struct bench_shape BENCH_SHAPE_PLAIN = {2, 0, 0};
static const struct bench_shape BENCH_SHAPE_LLM = {10, 50, 1};
static const struct bench_shape BENCH_SHAPE_LLM_LEGACY = {10, 100, 1};

/* "plain" | "llm" | "llm-legacy" -> its shape, NULL for anything else. */
static inline const struct bench_shape *bench_shape_named(const char *name)
{
    if (strcmp(name, "plain") == 0)
        return &BENCH_SHAPE_PLAIN;
    if (strcmp(name, "llm") == 0)
        return &BENCH_SHAPE_LLM;
    if (strcmp(name, "llm-legacy") == 0)
        return &BENCH_SHAPE_LLM_LEGACY;
    return NULL;
}

/* gen_ai.system as semantic conventions v1.36 spelled it, from the current provider name. */
static inline const char *bench_legacy_system(const char *provider)
{
    return strcmp(provider, "gcp.gemini") == 0 ? "gemini" : provider;
}

/* Builds and packs one ExportTraceServiceRequest of exactly `nspans` spans of the given shape:
 * one resource (an LLM gateway instance), scope "LLMProxy.LLM", traces of one HTTP server root
 * span and 1–4 LLM client child spans. Returns malloc'd bytes, NULL on OOM. */
static inline uint8_t *bench_request_build_shaped(uint64_t *rng, unsigned nspans,
                                                  const struct bench_shape *shape, size_t *len_out)
{
    struct arena *a = arena_new(64 * 1024);
    if (!a)
        return NULL;
    static const char *const envs[] = {"production", "staging"};
    char *host = arena_alloc(a, 32);
    snprintf(host, 32, "llm-gateway-%u", bench_below(rng, 16));

    Opentelemetry__Proto__Resource__V1__Resource *res = arena_alloc(a, sizeof *res);
    opentelemetry__proto__resource__v1__resource__init(res);
    res->n_attributes = 4;
    res->attributes = arena_alloc(a, 4 * sizeof *res->attributes);
    res->attributes[0] = bench_kv_str(a, "service.name", "llm-gateway");
    res->attributes[1] = bench_kv_str(a, "service.version", "2.14.3");
    res->attributes[2] = bench_kv_str(a, "deployment.environment", envs[bench_below(rng, 2)]);
    res->attributes[3] = bench_kv_str(a, "host.name", host);

    Opentelemetry__Proto__Common__V1__InstrumentationScope *scope = arena_alloc(a, sizeof *scope);
    opentelemetry__proto__common__v1__instrumentation_scope__init(scope);
    scope->name = "LLMProxy.LLM";
    scope->version = "2.14.3";

    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = arena_alloc(a, sizeof *ss);
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    ss->scope = scope;
    ss->spans = arena_alloc(a, (nspans ? nspans : 1) * sizeof *ss->spans);

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t base = (uint64_t)now.tv_sec * 1000000000ULL - 60ULL * 1000000000ULL;

    while (ss->n_spans < nspans) {
        const uint8_t *trace_id = bench_random_bytes(a, rng, 16);
        unsigned children = 1 + bench_below(rng, 4);
        if (children > nspans - ss->n_spans - 1)
            children = nspans - ss->n_spans - 1; /* may be 0: a lone root fills the last slot */
        int failed = bench_below(rng, 100) < shape->error_pct;
        int legacy = shape->legacy_pct && bench_below(rng, 100) < shape->legacy_pct;
        uint64_t t0 = base + (uint64_t)bench_below(rng, 60000) * 1000000ULL;
        uint64_t t = t0 + 2000000ULL; /* routing, auth */
        char *tenant = arena_alloc(a, 16);
        snprintf(tenant, 16, "tenant-%04u", bench_below(rng, 500));

        bench_span *root = bench_span_new(a, rng, trace_id, NULL, "POST /v1/chat/completions",
                                          OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER,
                                          t0, 0);
        ss->spans[ss->n_spans++] = root;
        for (unsigned c = 0; c < children; c++) {
            const struct bench_model *m = &bench_models[bench_below(rng, BENCH_NMODELS)];
            char *name = arena_alloc(a, 48);
            snprintf(name, 48, "chat %s", m->request);
            uint64_t dur = (200 + bench_below(rng, 15000)) * 1000000ULL;
            bench_span *s = bench_span_new(a, rng, trace_id, root->span_id.data, name,
                                           OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT,
                                           t, t + dur);
            t += dur + 1000000ULL;
            int err = failed && c == children - 1;
            int64_t in = 50 + bench_below(rng, 8000), out = err ? 0 : 10 + bench_below(rng, 2000);
            s->n_attributes = 11;
            s->attributes = arena_alloc(a, 12 * sizeof *s->attributes);
            s->attributes[0] = bench_kv_str(a, "gen_ai.operation.name", "chat");
            s->attributes[1] = legacy ? bench_kv_str(a, "gen_ai.system", bench_legacy_system(m->provider))
                                      : bench_kv_str(a, "gen_ai.provider.name", m->provider);
            s->attributes[2] = bench_kv_str(a, "gen_ai.request.model", m->request);
            s->attributes[3] = bench_kv_str(a, "gen_ai.response.model", m->response);
            s->attributes[4] = bench_kv_int(a, legacy ? "gen_ai.usage.prompt_tokens" : "gen_ai.usage.input_tokens", in);
            s->attributes[5] = bench_kv_int(a, legacy ? "gen_ai.usage.completion_tokens" : "gen_ai.usage.output_tokens", out);
            s->attributes[6] = bench_kv_double(a, "gen_ai.request.temperature",
                                               (double)bench_below(rng, 11) / 10.0);
            s->attributes[7] = bench_kv_strarray(a, "gen_ai.response.finish_reasons",
                                                 bench_finish[bench_below(rng, 5)]);
            s->attributes[8] = bench_kv_str(a, "tenant.id", tenant);
            s->attributes[9] = bench_kv_str(a, "server.address", m->server);
            s->attributes[10] = bench_kv_int(a, "http.response.status_code", err ? 429 : 200);
            if (err) {
                s->status->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
                s->status->message = "upstream rate limited (429)";
                if (shape->error_type)
                    s->attributes[s->n_attributes++] = bench_kv_str(a, "error.type", "429");
            }
            ss->spans[ss->n_spans++] = s;
        }
        root->end_time_unix_nano = t + 1000000ULL;
        root->n_attributes = 5;
        root->attributes = arena_alloc(a, 5 * sizeof *root->attributes);
        root->attributes[0] = bench_kv_str(a, "http.request.method", "POST");
        root->attributes[1] = bench_kv_str(a, "http.route", "/v1/chat/completions");
        root->attributes[2] = bench_kv_int(a, "http.response.status_code", failed ? 502 : 200);
        root->attributes[3] = bench_kv_str(a, "tenant.id", tenant);
        root->attributes[4] = bench_kv_str(a, "server.address", "llm-gateway.internal");
        if (failed) {
            root->status->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
            root->status->message = "all upstream attempts failed";
        }
    }

    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = arena_alloc(a, sizeof *rs);
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    rs->resource = res;
    rs->n_scope_spans = 1;
    rs->scope_spans = arena_alloc(a, sizeof *rs->scope_spans);
    rs->scope_spans[0] = ss;
    rs->schema_url = "https://opentelemetry.io/schemas/1.37.0";

    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.n_resource_spans = 1;
    req.resource_spans = &rs;
    size_t len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(&req);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf)
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, buf);
    arena_free(a);
    *len_out = len;
    return buf;
}

/* The request every benchmark has always used: BENCH_SHAPE_PLAIN. */
static inline uint8_t *bench_request_build(uint64_t *rng, unsigned nspans, size_t *len_out)
{
    return bench_request_build_shaped(rng, nspans, &BENCH_SHAPE_PLAIN, len_out);
}

/* ---- span counting on the wire ------------------------------------------------------------ */

static inline int bench_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* Calls fn(data, len, ctx) for every length-delimited field `field` of the message in [p,end);
 * other fields are skipped. -1 on malformed wire data. */
static inline int bench_each_field(const uint8_t *p, const uint8_t *end, unsigned field,
                                   int (*fn)(const uint8_t *, const uint8_t *, void *), void *ctx)
{
    while (p < end) {
        uint64_t key, v;
        if (bench_varint(&p, end, &key))
            return -1;
        switch (key & 7) {
        case 0:
            if (bench_varint(&p, end, &v))
                return -1;
            break;
        case 1:
            if (end - p < 8)
                return -1;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return -1;
            p += 4;
            break;
        case 2:
            if (bench_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return -1;
            if ((key >> 3) == field && fn(p, p + v, ctx))
                return -1;
            p += v;
            break;
        default:
            return -1;
        }
    }
    return 0;
}

static inline int bench_count_one(const uint8_t *p, const uint8_t *end, void *ctx)
{
    (void)p;
    (void)end;
    ++*(uint64_t *)ctx;
    return 0;
}
static inline int bench_count_scope(const uint8_t *p, const uint8_t *end, void *ctx)
{
    return bench_each_field(p, end, 2, bench_count_one, ctx); /* ScopeSpans.spans */
}
static inline int bench_count_resource(const uint8_t *p, const uint8_t *end, void *ctx)
{
    return bench_each_field(p, end, 2, bench_count_scope, ctx); /* ResourceSpans.scope_spans */
}

/* Spans in an ExportTraceServiceRequest, by walking only the three enclosing levels (the sink's
 * cost must stay far below the service's). -1 if the bytes are not well-formed protobuf there. */
static inline int64_t bench_count_spans(const uint8_t *data, size_t len)
{
    uint64_t n = 0;
    if (bench_each_field(data, data + len, 1, bench_count_resource, &n))
        return -1;
    return (int64_t)n;
}

/* ---- inside spans: error status and trace IDs (the LLM pipeline benchmark) ------------------ */

struct bench_span_walk {
    int (*fn)(const uint8_t *, const uint8_t *, void *);
    void *ctx;
};
static inline int bench_walk_scope(const uint8_t *p, const uint8_t *end, void *ctx)
{
    const struct bench_span_walk *w = ctx;
    return bench_each_field(p, end, 2, w->fn, w->ctx); /* ScopeSpans.spans */
}
static inline int bench_walk_resource(const uint8_t *p, const uint8_t *end, void *ctx)
{
    return bench_each_field(p, end, 2, bench_walk_scope, ctx); /* ResourceSpans.scope_spans */
}

/* Calls fn(span_start, span_end, ctx) for every span of an ExportTraceServiceRequest. -1 if the
 * bytes are malformed at the enclosing levels or fn returned non-zero. */
static inline int bench_each_span(const uint8_t *data, size_t len,
                                  int (*fn)(const uint8_t *, const uint8_t *, void *), void *ctx)
{
    struct bench_span_walk w = {fn, ctx};
    return bench_each_field(data, data + len, 1, bench_walk_resource, &w);
}

/* The last varint field `field` of the message in [p,end) into *v: 1 found, 0 absent, -1 malformed
 * (protobuf: a later singular field wins). */
static inline int bench_varint_field(const uint8_t *p, const uint8_t *end, unsigned field, uint64_t *v)
{
    int found = 0;
    while (p < end) {
        uint64_t key, x;
        if (bench_varint(&p, end, &key))
            return -1;
        switch (key & 7) {
        case 0:
            if (bench_varint(&p, end, &x))
                return -1;
            if ((key >> 3) == field)
                *v = x, found = 1;
            break;
        case 1:
            if (end - p < 8)
                return -1;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return -1;
            p += 4;
            break;
        case 2:
            if (bench_varint(&p, end, &x) || x > (uint64_t)(end - p))
                return -1;
            p += x;
            break;
        default:
            return -1;
        }
    }
    return found;
}

static inline int bench_status_code(const uint8_t *p, const uint8_t *end, void *ctx)
{
    return bench_varint_field(p, end, 3, ctx) < 0 ? -1 : 0; /* Status.code */
}
static inline int bench_count_error_span(const uint8_t *p, const uint8_t *end, void *ctx)
{
    uint64_t code = 0;
    if (bench_each_field(p, end, 15, bench_status_code, &code)) /* Span.status */
        return -1;
    if (code == 2) /* STATUS_CODE_ERROR */
        ++*(uint64_t *)ctx;
    return 0;
}

/* Spans whose status is ERROR. Walks into every span (dearer than bench_count_spans), which is
 * how a benchmark proves a sampler delivered every failing trace. -1 on malformed bytes. */
static inline int64_t bench_count_error_spans(const uint8_t *data, size_t len)
{
    uint64_t n = 0;
    if (bench_each_span(data, len, bench_count_error_span, &n))
        return -1;
    return (int64_t)n;
}

/* Offsets of every span's 16-byte trace_id value within a request, so a sender can give each send
 * of a pooled request new trace IDs in place, with no re-encoding. */
struct bench_trace_ids {
    const uint8_t *base;
    size_t *off;
    size_t n, cap;
};
static inline int bench_find_trace_id(const uint8_t *p, const uint8_t *end, void *ctx)
{
    struct bench_trace_ids *t = ctx;
    while (p < end) {
        uint64_t key, x;
        if (bench_varint(&p, end, &key))
            return -1;
        unsigned wt = (unsigned)(key & 7);
        if (wt == 0) {
            if (bench_varint(&p, end, &x))
                return -1;
        } else if (wt == 1 || wt == 5) {
            if (end - p < (wt == 1 ? 8 : 4))
                return -1;
            p += wt == 1 ? 8 : 4;
        } else if (wt == 2) {
            if (bench_varint(&p, end, &x) || x > (uint64_t)(end - p))
                return -1;
            if ((key >> 3) == 1 && x == 16) { /* Span.trace_id */
                if (t->n == t->cap) {
                    size_t cap = t->cap ? t->cap * 2 : 256;
                    size_t *o = realloc(t->off, cap * sizeof *o);
                    if (!o)
                        return -1;
                    t->off = o, t->cap = cap;
                }
                t->off[t->n++] = (size_t)(p - t->base);
            }
            p += x;
        } else {
            return -1;
        }
    }
    return 0;
}
/* Fills *t (off malloc'd, the caller frees it) with the request's trace_id offsets. -1 on
 * malformed bytes or OOM. */
static inline int bench_trace_id_offsets(const uint8_t *data, size_t len, struct bench_trace_ids *t)
{
    memset(t, 0, sizeof *t);
    t->base = data;
    return bench_each_span(data, len, bench_find_trace_id, t);
}

/* ---- options --------------------------------------------------------------------------------- */

/* "--name value" parsing: returns the value when argv[*i] is --name, advancing *i. */
static inline const char *bench_opt(int argc, char **argv, int *i, const char *name)
{
    if (strcmp(argv[*i], name) != 0)
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s needs a value\n", name);
        exit(2);
    }
    return argv[++*i];
}

static inline long bench_atol(const char *name, const char *s, long min, long max)
{
    char *e;
    long v = strtol(s, &e, 10);
    if (*s == '\0' || *e != '\0' || v < min || v > max) {
        fprintf(stderr, "%s: expected an integer in [%ld, %ld], got '%s'\n", name, min, max, s);
        exit(2);
    }
    return v;
}

/* Spans of request i of a pool when sizes range over [lo, hi]: spread evenly, deterministic. */
static inline unsigned bench_pool_size(unsigned i, unsigned n, unsigned lo, unsigned hi)
{
    if (hi <= lo || n <= 1)
        return lo;
    return lo + (unsigned)((uint64_t)(hi - lo) * i / (n - 1));
}

#endif
