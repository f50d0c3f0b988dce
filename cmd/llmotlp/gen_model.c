/* gen_model.c — builds the traces, metrics and logs of `llmotlp gen` (see gen_model.h).
 *
 * The one idea: a trace is first decided as plain facts (which calls, which models, which fail,
 * how many tokens), recorded once per LLM call in a small array; the spans are then written from
 * those facts in the chosen naming, and the metrics and log records are derived from the same
 * array. So the three signals always agree with one another and with the summary, whatever the
 * naming, and the canonical figures (provider, model, tokens) never depend on how they were spelt.
 * Everything random comes from one seeded xorshift generator, in a fixed order. */
#include "cmd/llmotlp/gen_model.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;
typedef Opentelemetry__Proto__Trace__V1__Span span_t;

#define NS 1000000000ULL
#define MS 1000000ULL

/* Provider/models the price list (pricing/prices.csv) knows, so the cost processor prices them. */
static const struct gen_llm catalog[] = {
    {"openai", "gpt-4o", "gpt-4o-2024-08-06", "chat", "api.openai.com", 20},
    {"openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "chat", "api.openai.com", 20},
    {"openai", "gpt-4.1", "gpt-4.1-2025-04-14", "chat", "api.openai.com", 8},
    {"anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "chat", "api.anthropic.com", 18},
    {"anthropic", "claude-haiku-4-5", "claude-haiku-4-5-20251001", "chat", "api.anthropic.com", 10},
    {"gcp.gemini", "gemini-2.5-pro", "gemini-2.5-pro", "chat", "generativelanguage.googleapis.com", 8},
    {"gcp.gemini", "gemini-2.5-flash", "gemini-2.5-flash", "chat", "generativelanguage.googleapis.com", 8},
    {"mistral_ai", "mistral-large-latest", "mistral-large-latest", "chat", "api.mistral.ai", 4},
    {"mistral_ai", "mistral-small-latest", "mistral-small-latest", "chat", "api.mistral.ai", 4},
    {"openai", "text-embedding-3-small", "text-embedding-3-small", "embeddings", "api.openai.com", 0},
};
#define NLLM (sizeof catalog / sizeof catalog[0])
#define EMBEDDING_LLM (NLLM - 1)
_Static_assert(NLLM <= GEN_MAX_LLMS, "catalog larger than gen_stats.per_model");

const struct gen_llm *gen_llm_catalog(size_t *n)
{
    *n = NLLM;
    return catalog;
}

static const char *const naming_names[] = {"semconv", "legacy", "openinference", "openllmetry",
                                           "mixed"};

int gen_naming_parse(const char *s)
{
    for (int i = 0; i <= GEN_NAMING_MIXED; i++)
        if (strcmp(s, naming_names[i]) == 0)
            return i;
    return -1;
}

const char *gen_naming_name(enum gen_naming n)
{
    return (unsigned)n <= GEN_NAMING_MIXED ? naming_names[n] : "?";
}

/* ---- the model ------------------------------------------------------------------------------ */

struct gen_model {
    struct gen_model_opts o;
    uint64_t rng;
    char **tenants;
};

static uint64_t rnd(struct gen_model *m)
{
    uint64_t x = m->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    m->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}
static uint32_t below(struct gen_model *m, uint32_t n) { return (uint32_t)(rnd(m) % n); }
static double uniform(struct gen_model *m) { return (double)(rnd(m) >> 11) * (1.0 / 9007199254740992.0); }

static void *oom(void)
{
    fprintf(stderr, "llmotlp gen: out of memory\n");
    abort();
}

struct gen_model *gen_model_new(const struct gen_model_opts *o)
{
    struct gen_model *m = calloc(1, sizeof *m);
    if (!m)
        return oom();
    m->o = *o;
    if (m->o.tenants == 0)
        m->o.tenants = 1;
    if (!m->o.service_name)
        m->o.service_name = "LLMProxy.Gateway";
    m->rng = o->seed ? o->seed : 1;
    for (int i = 0; i < 4; i++) /* spread a small seed over all bits */
        rnd(m);
    m->tenants = calloc(m->o.tenants, sizeof *m->tenants);
    if (!m->tenants)
        return oom();
    for (unsigned i = 0; i < m->o.tenants; i++) {
        m->tenants[i] = malloc(24);
        if (!m->tenants[i])
            return oom();
        snprintf(m->tenants[i], 24, "tenant-%03u", i + 1);
    }
    return m;
}

void gen_model_free(struct gen_model *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->o.tenants; i++)
        free(m->tenants[i]);
    free(m->tenants);
    free(m);
}

void gen_batch_init(struct gen_batch *b) { memset(b, 0, sizeof *b); }

void gen_batch_free(struct gen_batch *b)
{
    if (b->arena)
        arena_free(b->arena);
    memset(b, 0, sizeof *b);
}

void gen_stats_add(struct gen_stats *acc, const struct gen_stats *b)
{
    const uint64_t *s = (const uint64_t *)b;
    uint64_t *d = (uint64_t *)acc;
    _Static_assert(sizeof(struct gen_stats) % sizeof(uint64_t) == 0, "gen_stats is all uint64_t");
    for (size_t i = 0; i < sizeof *b / sizeof(uint64_t); i++)
        d[i] += s[i];
}

/* ---- small builders over the batch arena ------------------------------------------------------ */

static void *alloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    if (!p)
        return oom();
    memset(p, 0, n);
    return p;
}

static char *fmt(struct arena *a, const char *f, ...) __attribute__((format(printf, 2, 3)));
static char *fmt(struct arena *a, const char *f, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    char *s = arena_strdup(a, buf);
    return s ? s : oom();
}

/* An attribute list that grows in the arena. */
struct attrs {
    struct arena *a;
    kv_t **v;
    size_t n, cap;
};

static void attrs_init(struct attrs *l, struct arena *a)
{
    l->a = a;
    l->n = 0;
    l->cap = 16;
    l->v = alloc(a, l->cap * sizeof *l->v);
}

static any_t *attrs_add(struct attrs *l, const char *key)
{
    if (l->n == l->cap) {
        kv_t **nv = alloc(l->a, 2 * l->cap * sizeof *nv);
        memcpy(nv, l->v, l->n * sizeof *nv);
        l->v = nv;
        l->cap *= 2;
    }
    kv_t *kv = alloc(l->a, sizeof *kv);
    any_t *v = alloc(l->a, sizeof *v);
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    kv->key = (char *)key;
    kv->value = v;
    l->v[l->n++] = kv;
    return v;
}

static void a_str(struct attrs *l, const char *k, const char *s)
{
    any_t *v = attrs_add(l, k);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    v->string_value = (char *)s;
}
static void a_int(struct attrs *l, const char *k, int64_t i)
{
    any_t *v = attrs_add(l, k);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    v->int_value = i;
}
static void a_dbl(struct attrs *l, const char *k, double d)
{
    any_t *v = attrs_add(l, k);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
    v->double_value = d;
}
static void a_bool(struct attrs *l, const char *k, int b)
{
    any_t *v = attrs_add(l, k);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
    v->bool_value = b;
}
static void a_strs1(struct attrs *l, const char *k, const char *s)
{
    any_t *v = attrs_add(l, k);
    Opentelemetry__Proto__Common__V1__ArrayValue *arr = alloc(l->a, sizeof *arr);
    opentelemetry__proto__common__v1__array_value__init(arr);
    arr->n_values = 1;
    arr->values = alloc(l->a, sizeof *arr->values);
    arr->values[0] = alloc(l->a, sizeof **arr->values);
    opentelemetry__proto__common__v1__any_value__init(arr->values[0]);
    arr->values[0]->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    arr->values[0]->string_value = (char *)s;
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
    v->array_value = arr;
}

static uint8_t *random_id(struct gen_model *m, struct arena *a, size_t n)
{
    uint8_t *p = alloc(a, n);
    do {
        for (size_t i = 0; i < n; i += 8) {
            uint64_t r = rnd(m);
            memcpy(p + i, &r, n - i < 8 ? n - i : 8);
        }
    } while (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0); /* an all-zero ID is invalid */
    return p;
}

static char *hex(struct arena *a, const uint8_t *p, size_t n)
{
    char *s = alloc(a, 2 * n + 1);
    for (size_t i = 0; i < n; i++)
        snprintf(s + 2 * i, 3, "%02x", p[i]);
    return s;
}

/* ---- the facts of one batch ------------------------------------------------------------------- */

/* One LLM call as it happened; spans, metrics and logs are written from these. */
struct call {
    unsigned llm;          /* catalog index */
    int http_status;       /* 200, or the refusal: 429, 500, 503 */
    int64_t in, out, cache_read;
    const char *finish;    /* stop | length | tool_calls */
    uint64_t start, end;
    const uint8_t *trace_id, *span_id;
    const char *tenant;
    bool final_failure;    /* the trace's last attempt failed too */
};

struct span_list {
    span_t **v;
    size_t n, cap;
};

struct build {
    struct gen_model *m;
    struct arena *a;
    struct gen_batch *b;
    struct span_list gateway, llm; /* spans of the two scopes */
    struct call *calls;
    size_t n_calls, cap_calls;
    Opentelemetry__Proto__Logs__V1__LogRecord **logs;
    size_t n_logs, cap_logs;
    bool want_logs;
};

static void span_push(struct build *B, struct span_list *l, span_t *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        span_t **nv = alloc(B->a, cap * sizeof *nv);
        if (l->n)
            memcpy(nv, l->v, l->n * sizeof *nv);
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    B->b->stats.spans++;
}

static struct call *call_push(struct build *B)
{
    if (B->n_calls == B->cap_calls) {
        size_t cap = B->cap_calls ? 2 * B->cap_calls : 64;
        struct call *nv = alloc(B->a, cap * sizeof *nv);
        if (B->n_calls)
            memcpy(nv, B->calls, B->n_calls * sizeof *nv);
        B->calls = nv;
        B->cap_calls = cap;
    }
    struct call *c = &B->calls[B->n_calls++];
    memset(c, 0, sizeof *c);
    return c;
}

static span_t *span_new(struct build *B, const uint8_t *trace_id, const uint8_t *parent,
                        const char *name, int kind, uint64_t start, uint64_t end)
{
    span_t *s = alloc(B->a, sizeof *s);
    opentelemetry__proto__trace__v1__span__init(s);
    s->trace_id.data = (uint8_t *)trace_id;
    s->trace_id.len = 16;
    s->span_id.data = random_id(B->m, B->a, 8);
    s->span_id.len = 8;
    if (parent) {
        s->parent_span_id.data = (uint8_t *)parent;
        s->parent_span_id.len = 8;
    }
    s->flags = 0x301; /* sampled; the parent is known to be local */
    s->name = (char *)name;
    s->kind = kind;
    s->start_time_unix_nano = start;
    s->end_time_unix_nano = end;
    s->status = alloc(B->a, sizeof *s->status);
    opentelemetry__proto__trace__v1__status__init(s->status);
    return s;
}

static void span_error(span_t *s, const char *msg)
{
    s->status->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
    s->status->message = (char *)msg;
}

static void log_push(struct build *B, uint64_t t, int severity, const char *sev_text,
                     const char *body, const uint8_t *trace_id, const uint8_t *span_id,
                     struct attrs *at)
{
    if (!B->want_logs)
        return;
    if (B->n_logs == B->cap_logs) {
        size_t cap = B->cap_logs ? 2 * B->cap_logs : 64;
        Opentelemetry__Proto__Logs__V1__LogRecord **nv = alloc(B->a, cap * sizeof *nv);
        if (B->n_logs)
            memcpy(nv, B->logs, B->n_logs * sizeof *nv);
        B->logs = nv;
        B->cap_logs = cap;
    }
    Opentelemetry__Proto__Logs__V1__LogRecord *r = alloc(B->a, sizeof *r);
    opentelemetry__proto__logs__v1__log_record__init(r);
    r->time_unix_nano = t;
    r->observed_time_unix_nano = t;
    r->severity_number = severity;
    r->severity_text = (char *)sev_text;
    r->body = alloc(B->a, sizeof *r->body);
    opentelemetry__proto__common__v1__any_value__init(r->body);
    r->body->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    r->body->string_value = (char *)body;
    r->trace_id.data = (uint8_t *)trace_id;
    r->trace_id.len = 16;
    r->span_id.data = (uint8_t *)span_id;
    r->span_id.len = 8;
    r->flags = 1;
    r->n_attributes = at->n;
    r->attributes = at->v;
    B->logs[B->n_logs++] = r;
    B->b->stats.log_records++;
}

/* ---- naming styles ---------------------------------------------------------------------------- */

/* gen_ai.system as semconv v1.36 and earlier spelt it. */
static const char *legacy_system(const char *p)
{
    return strcmp(p, "gcp.gemini") == 0 ? "gemini" : p;
}
/* OpenInference llm.provider / llm.system values. */
static const char *oi_provider(const char *p)
{
    if (strcmp(p, "gcp.gemini") == 0)
        return "google";
    if (strcmp(p, "mistral_ai") == 0)
        return "mistralai";
    return p;
}
/* OpenLLMetry writes its vendor names capitalised. */
static const char *oll_vendor(const char *p)
{
    if (strcmp(p, "openai") == 0)
        return "OpenAI";
    if (strcmp(p, "anthropic") == 0)
        return "Anthropic";
    if (strcmp(p, "gcp.gemini") == 0)
        return "Gemini";
    if (strcmp(p, "mistral_ai") == 0)
        return "MistralAI";
    return p;
}
static const char *provider_in(enum gen_naming n, const char *p)
{
    switch (n) {
    case GEN_NAMING_LEGACY:
        return legacy_system(p);
    case GEN_NAMING_OPENINFERENCE:
        return oi_provider(p);
    case GEN_NAMING_OPENLLMETRY:
        return oll_vendor(p);
    default:
        return p;
    }
}

static const char *status_text(int code)
{
    switch (code) {
    case 429:
        return "429 Too Many Requests: rate limit exceeded";
    case 500:
        return "500 Internal Server Error";
    case 503:
        return "503 Service Unavailable: overloaded";
    default:
        return "error";
    }
}

/* The attributes of one LLM call span, in naming n. */
static void llm_attrs(struct build *B, struct attrs *at, enum gen_naming n, const struct call *c)
{
    const struct gen_llm *L = &catalog[c->llm];
    bool ok = c->http_status == 200, emb = strcmp(L->operation, "embeddings") == 0;
    struct arena *a = B->a;
    switch (n) {
    case GEN_NAMING_SEMCONV:
    case GEN_NAMING_LEGACY: {
        bool leg = n == GEN_NAMING_LEGACY;
        a_str(at, "gen_ai.operation.name", L->operation);
        a_str(at, leg ? "gen_ai.system" : "gen_ai.provider.name", provider_in(n, L->provider));
        a_str(at, "gen_ai.request.model", L->request);
        if (!emb) {
            a_int(at, "gen_ai.request.max_tokens", 4096);
            a_dbl(at, "gen_ai.request.temperature", 0.7);
        }
        if (ok) {
            a_str(at, "gen_ai.response.model", L->response);
            a_str(at, "gen_ai.response.id", fmt(a, "resp_%s", hex(a, c->span_id, 8)));
            a_int(at, leg ? "gen_ai.usage.prompt_tokens" : "gen_ai.usage.input_tokens", c->in);
            if (!emb)
                a_int(at, leg ? "gen_ai.usage.completion_tokens" : "gen_ai.usage.output_tokens",
                      c->out);
            if (c->cache_read)
                a_int(at, leg ? "gen_ai.usage.cache_read_input_tokens"
                              : "gen_ai.usage.cache_read.input_tokens",
                      c->cache_read);
            if (!emb)
                a_strs1(at, "gen_ai.response.finish_reasons", c->finish);
        }
        a_str(at, "server.address", L->server);
        a_int(at, "server.port", 443);
        break;
    }
    case GEN_NAMING_OPENINFERENCE:
        a_str(at, "openinference.span.kind", emb ? "EMBEDDING" : "LLM");
        a_str(at, "llm.provider", oi_provider(L->provider));
        if (strcmp(L->provider, "gcp.gemini") != 0)
            a_str(at, "llm.system", oi_provider(L->provider));
        a_str(at, emb ? "embedding.model_name" : "llm.model_name", ok ? L->response : L->request);
        if (!emb)
            a_str(at, "llm.invocation_parameters", "{\"max_tokens\": 4096, \"temperature\": 0.7}");
        if (ok) {
            a_int(at, "llm.token_count.prompt", c->in);
            if (!emb) {
                a_int(at, "llm.token_count.completion", c->out);
                a_int(at, "llm.token_count.total", c->in + c->out);
            }
            if (c->cache_read)
                a_int(at, "llm.token_count.prompt_details.cache_read", c->cache_read);
        }
        break;
    case GEN_NAMING_OPENLLMETRY:
        a_str(at, "llm.request.type", emb ? "embedding" : "chat");
        a_str(at, "gen_ai.system", oll_vendor(L->provider));
        a_str(at, "llm.request.model", L->request);
        if (!emb) {
            a_int(at, "llm.request.max_tokens", 4096);
            a_dbl(at, "llm.request.temperature", 0.7);
            a_bool(at, "llm.is_streaming", 0);
        }
        if (ok) {
            a_str(at, "llm.response.model", L->response);
            a_int(at, "llm.usage.prompt_tokens", c->in);
            if (!emb) {
                a_int(at, "llm.usage.completion_tokens", c->out);
                a_int(at, "llm.usage.total_tokens", c->in + c->out);
                a_str(at, "llm.response.finish_reason", c->finish);
            }
            if (c->cache_read)
                a_int(at, "gen_ai.usage.cache_read_input_tokens", c->cache_read);
        }
        break;
    default:
        break;
    }
    a_str(at, "tenant.id", c->tenant);
    a_int(at, "http.response.status_code", c->http_status);
    if (!ok)
        a_str(at, "error.type", fmt(a, "%d", c->http_status));
}

/* One LLM call: its span (under parent), its facts, its upstream log record. Returns the end. */
static uint64_t llm_call(struct build *B, enum gen_naming n, const uint8_t *trace_id,
                         const uint8_t *parent, unsigned llm, int http_status, const char *finish,
                         bool final_failure, const char *tenant, uint64_t start)
{
    struct gen_model *m = B->m;
    const struct gen_llm *L = &catalog[llm];
    bool ok = http_status == 200, emb = strcmp(L->operation, "embeddings") == 0;
    uint64_t dur;
    if (!ok)
        dur = (20 + below(m, 400)) * MS;
    else if (emb)
        dur = (30 + below(m, 250)) * MS;
    else
        dur = (300 + below(m, 7700)) * MS;

    struct call *c = call_push(B);
    c->llm = llm;
    c->http_status = http_status;
    c->finish = finish;
    c->start = start;
    c->end = start + dur;
    c->trace_id = trace_id;
    c->tenant = tenant;
    c->final_failure = final_failure;
    if (ok) {
        c->in = emb ? 8 + below(m, 2000) : 200 + below(m, 6000);
        c->out = emb ? 0 : 20 + below(m, 1200);
        if (!emb && below(m, 100) < 35) /* a prompt-cache hit on a good share of chat calls */
            c->cache_read = (int64_t)(c->in * (20 + below(m, 70)) / 100);
    }

    span_t *s = span_new(B, trace_id, parent,
                         fmt(B->a, "%s %s", L->operation, L->request),
                         OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT,
                         c->start, c->end);
    c->span_id = s->span_id.data;
    struct attrs at;
    attrs_init(&at, B->a);
    llm_attrs(B, &at, n, c);
    s->n_attributes = at.n;
    s->attributes = at.v;
    if (!ok)
        span_error(s, status_text(http_status));
    span_push(B, &B->llm, s);

    struct gen_stats *st = &B->b->stats;
    st->llm_calls++;
    st->per_model[llm].calls++;
    if (!ok)
        st->per_model[llm].errors++;
    st->per_model[llm].input_tokens += (uint64_t)c->in;
    st->per_model[llm].output_tokens += (uint64_t)c->out;
    st->per_model[llm].cache_read_tokens += (uint64_t)c->cache_read;
    st->input_tokens += (uint64_t)c->in;
    st->output_tokens += (uint64_t)c->out;
    st->cache_read_tokens += (uint64_t)c->cache_read;

    if (B->want_logs) {
        struct attrs la;
        attrs_init(&la, B->a);
        a_str(&la, "gen_ai.provider.name", L->provider);
        a_str(&la, "gen_ai.request.model", L->request);
        a_int(&la, "http.response.status_code", http_status);
        a_str(&la, "tenant.id", tenant);
        if (!ok)
            a_str(&la, "error.type", fmt(B->a, "%d", http_status));
        const char *body =
            ok ? fmt(B->a, "upstream %s %s %d in %" PRIu64 " ms: %lld input tokens, %lld output tokens",
                     L->provider, L->request, http_status, (uint64_t)((c->end - c->start) / MS),
                     (long long)c->in, (long long)c->out)
               : fmt(B->a, "upstream %s %s refused: %s%s", L->provider, L->request,
                     status_text(http_status), final_failure ? "" : "; falling back");
        log_push(B, c->end, ok ? 9 : final_failure ? 17 : 13, ok ? "Information" : final_failure ? "Error" : "Warning",
                 body, trace_id, c->span_id, &la);
    }
    return c->end;
}

static unsigned pick_chat_llm(struct gen_model *m, int avoid_provider_of)
{
    unsigned total = 0;
    for (unsigned i = 0; i < NLLM; i++)
        if (avoid_provider_of < 0 ||
            strcmp(catalog[i].provider, catalog[avoid_provider_of].provider) != 0)
            total += catalog[i].weight;
    unsigned r = below(m, total);
    for (unsigned i = 0; i < NLLM; i++) {
        if (avoid_provider_of >= 0 &&
            strcmp(catalog[i].provider, catalog[avoid_provider_of].provider) == 0)
            continue;
        if (r < catalog[i].weight)
            return i;
        r -= catalog[i].weight;
    }
    return 0;
}

static int refusal(struct gen_model *m)
{
    static const int codes[] = {429, 429, 429, 503, 503, 500};
    return codes[below(m, sizeof codes / sizeof codes[0])];
}

static const char *const tools[] = {"search_knowledge_base", "get_order_status", "get_weather",
                                    "create_ticket"};
static const char *const agents[] = {"support-agent", "research-agent"};

/* An agent run under parent: chat → (tool → chat) × rounds. Returns the end. */
static uint64_t agent_run(struct build *B, enum gen_naming n, const uint8_t *trace_id,
                          const uint8_t *parent, bool failed, const char *tenant, uint64_t t)
{
    struct gen_model *m = B->m;
    unsigned llm = pick_chat_llm(m, -1);
    const char *agent = agents[below(m, 2)];
    unsigned rounds = 1 + below(m, 2);
    span_t *as = span_new(B, trace_id, parent, fmt(B->a, "invoke_agent %s", agent),
                          OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL, t, 0);
    struct attrs at;
    attrs_init(&at, B->a);
    switch (n) {
    case GEN_NAMING_OPENINFERENCE:
        a_str(&at, "openinference.span.kind", "AGENT");
        a_str(&at, "agent.name", agent);
        break;
    case GEN_NAMING_OPENLLMETRY:
        a_str(&at, "traceloop.span.kind", "agent");
        a_str(&at, "traceloop.entity.name", agent);
        break;
    default:
        a_str(&at, "gen_ai.operation.name", "invoke_agent");
        a_str(&at, n == GEN_NAMING_LEGACY ? "gen_ai.system" : "gen_ai.provider.name",
              provider_in(n, catalog[llm].provider));
        a_str(&at, "gen_ai.agent.name", agent);
        a_str(&at, "gen_ai.request.model", catalog[llm].request);
        break;
    }
    a_str(&at, "tenant.id", tenant);
    as->n_attributes = at.n;
    as->attributes = at.v;
    span_push(B, &B->llm, as);
    B->b->stats.agent_traces++;

    t += 2 * MS;
    for (unsigned r = 0; r < rounds; r++) {
        t = llm_call(B, n, trace_id, as->span_id.data, llm, 200, "tool_calls", false, tenant, t);
        const char *tool = tools[below(m, sizeof tools / sizeof tools[0])];
        uint64_t td = (5 + below(m, 400)) * MS;
        span_t *ts = span_new(B, trace_id, as->span_id.data, fmt(B->a, "execute_tool %s", tool),
                              OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL,
                              t + MS, t + MS + td);
        struct attrs tt;
        attrs_init(&tt, B->a);
        const char *call_id = fmt(B->a, "call_%s", hex(B->a, ts->span_id.data, 6));
        switch (n) {
        case GEN_NAMING_OPENINFERENCE:
            a_str(&tt, "openinference.span.kind", "TOOL");
            a_str(&tt, "tool.name", tool);
            a_str(&tt, "tool_call.id", call_id);
            break;
        case GEN_NAMING_OPENLLMETRY:
            a_str(&tt, "traceloop.span.kind", "tool");
            a_str(&tt, "traceloop.entity.name", tool);
            break;
        default:
            a_str(&tt, "gen_ai.operation.name", "execute_tool");
            a_str(&tt, "gen_ai.tool.name", tool);
            a_str(&tt, "gen_ai.tool.call.id", call_id);
            a_str(&tt, "gen_ai.tool.type", "function");
            break;
        }
        ts->n_attributes = tt.n;
        ts->attributes = tt.v;
        span_push(B, &B->llm, ts);
        B->b->stats.tool_calls++;
        t += 2 * MS + td;
    }
    bool last_fails = failed;
    t = llm_call(B, n, trace_id, as->span_id.data, llm, last_fails ? refusal(m) : 200, "stop",
                 last_fails, tenant, t);
    as->end_time_unix_nano = t + MS;
    if (failed)
        span_error(as, "agent run failed: upstream error");
    return as->end_time_unix_nano;
}

static void one_trace(struct build *B, uint64_t window_end)
{
    struct gen_model *m = B->m;
    struct gen_stats *st = &B->b->stats;
    enum gen_naming n = m->o.naming == GEN_NAMING_MIXED ? (enum gen_naming)below(m, GEN_NAMING_STYLES)
                                                        : m->o.naming;
    st->traces++;
    st->by_naming[n]++;

    const char *tenant = m->tenants[below(m, m->o.tenants)];
    bool failed = uniform(m) < m->o.error_ratio;
    double kind = uniform(m);
    bool agent = kind < m->o.agent_ratio;
    bool emb = !agent && kind < m->o.agent_ratio + 0.15;
    bool fallback = !failed && !agent && !emb && uniform(m) < m->o.fallback_ratio;
    const char *route = agent ? "/v1/agents/runs" : emb ? "/v1/embeddings" : "/v1/chat/completions";

    const uint8_t *trace_id = random_id(m, B->a, 16);
    uint64_t t0 = window_end - 90 * NS + (uint64_t)below(m, 30000) * MS;
    span_t *root = span_new(B, trace_id, NULL, fmt(B->a, "POST %s", route),
                            OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER, t0, 0);
    span_push(B, &B->gateway, root);
    uint64_t t = t0 + (1 + below(m, 4)) * MS; /* auth, routing */
    int root_status = 200;

    if (agent) {
        t = agent_run(B, n, trace_id, root->span_id.data, failed, tenant, t);
        if (failed)
            root_status = 502;
    } else if (emb) {
        int code = failed ? refusal(m) : 200;
        t = llm_call(B, n, trace_id, root->span_id.data, EMBEDDING_LLM, code, "stop", failed,
                     tenant, t);
        if (failed)
            root_status = code == 429 ? 429 : 502;
    } else {
        /* fallback: 1–2 refused attempts, then a success on another provider;
         * failed: 1–3 attempts, every one refused. */
        unsigned attempts = failed ? 1 + below(m, 3) : fallback ? 2 + below(m, 2) : 1;
        int prev = -1, code = 200;
        for (unsigned i = 0; i < attempts; i++) {
            unsigned llm = pick_chat_llm(m, prev);
            bool last = i + 1 == attempts;
            code = (last && !failed) ? 200 : refusal(m);
            const char *finish = below(m, 100) < 6 ? "length" : "stop";
            t = llm_call(B, n, trace_id, root->span_id.data, llm, code, finish, failed && last,
                         tenant, t) + (last ? 0 : 2 * MS);
            prev = (int)llm;
        }
        if (fallback)
            st->fallback_traces++;
        if (failed)
            root_status = code == 429 ? 429 : 502;
    }
    root->end_time_unix_nano = t + (1 + below(m, 3)) * MS;

    struct attrs at;
    attrs_init(&at, B->a);
    char *request_id = hex(B->a, random_id(m, B->a, 8), 8);
    a_str(&at, "http.request.method", "POST");
    a_str(&at, "http.route", route);
    a_str(&at, "url.path", route);
    a_str(&at, "url.scheme", "https");
    a_int(&at, "http.response.status_code", root_status);
    a_str(&at, "server.address", "llm-gateway.internal");
    a_str(&at, "user_agent.original", "openai-python/1.54.0");
    a_str(&at, "tenant.id", tenant);
    a_str(&at, "llmproxy.request.id", request_id);
    root->n_attributes = at.n;
    root->attributes = at.v;
    if (failed) {
        span_error(root, root_status == 429 ? "rate limited by every upstream" : "all upstream attempts failed");
        st->error_traces++;
    }
    if (B->want_logs) {
        struct attrs la;
        attrs_init(&la, B->a);
        a_str(&la, "http.request.method", "POST");
        a_str(&la, "http.route", route);
        a_int(&la, "http.response.status_code", root_status);
        a_str(&la, "tenant.id", tenant);
        a_str(&la, "llmproxy.request.id", request_id);
        log_push(B, root->end_time_unix_nano, failed ? 17 : 9, failed ? "Error" : "Information",
                 fmt(B->a, "POST %s %d %" PRIu64 " ms tenant=%s", route, root_status,
                     (uint64_t)((root->end_time_unix_nano - t0) / MS), tenant),
                 trace_id, root->span_id.data, &la);
    }
}

/* ---- requests ---------------------------------------------------------------------------------- */

static Opentelemetry__Proto__Resource__V1__Resource *resource(struct build *B)
{
    Opentelemetry__Proto__Resource__V1__Resource *r = alloc(B->a, sizeof *r);
    opentelemetry__proto__resource__v1__resource__init(r);
    struct attrs at;
    attrs_init(&at, B->a);
    a_str(&at, "service.name", B->m->o.service_name);
    a_str(&at, "service.version", "2.0.0");
    a_str(&at, "deployment.environment.name", "production");
    a_str(&at, "telemetry.sdk.language", "dotnet");
    r->n_attributes = at.n;
    r->attributes = at.v;
    return r;
}

static Opentelemetry__Proto__Common__V1__InstrumentationScope *scope(struct build *B, const char *name)
{
    Opentelemetry__Proto__Common__V1__InstrumentationScope *s = alloc(B->a, sizeof *s);
    opentelemetry__proto__common__v1__instrumentation_scope__init(s);
    s->name = (char *)name;
    s->version = "2.0.0";
    return s;
}

static void build_traces(struct build *B, Opentelemetry__Proto__Resource__V1__Resource *res)
{
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = alloc(B->a, sizeof *rs);
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    rs->resource = res;
    rs->schema_url = "https://opentelemetry.io/schemas/1.37.0";
    rs->scope_spans = alloc(B->a, 2 * sizeof *rs->scope_spans);
    struct span_list *lists[2] = {&B->gateway, &B->llm};
    const char *names[2] = {"LLMProxy.Gateway", "LLMProxy.LLM"};
    for (int i = 0; i < 2; i++) {
        if (!lists[i]->n)
            continue;
        Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = alloc(B->a, sizeof *ss);
        opentelemetry__proto__trace__v1__scope_spans__init(ss);
        ss->scope = scope(B, names[i]);
        ss->n_spans = lists[i]->n;
        ss->spans = lists[i]->v;
        rs->scope_spans[rs->n_scope_spans++] = ss;
    }
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req = alloc(B->a, sizeof *req);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
    req->n_resource_spans = 1;
    req->resource_spans = alloc(B->a, sizeof *req->resource_spans);
    req->resource_spans[0] = rs;
    B->b->traces = req;
}

/* Semconv's advised boundaries for the two GenAI client histograms. */
static const double duration_bounds[] = {0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28,
                                         2.56, 5.12, 10.24, 20.48, 40.96, 81.92};
static const double token_bounds[] = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144,
                                      1048576, 4194304, 16777216, 67108864};
#define NBOUNDS 14

typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint hdp_t;

struct group {
    unsigned llm;
    int status;
    hdp_t *dur, *tin, *tout;
};

static hdp_t *hdp_new(struct build *B, const double *bounds, uint64_t start, uint64_t now)
{
    hdp_t *p = alloc(B->a, sizeof *p);
    opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
    p->start_time_unix_nano = start;
    p->time_unix_nano = now;
    p->n_explicit_bounds = NBOUNDS;
    p->explicit_bounds = (double *)bounds;
    p->n_bucket_counts = NBOUNDS + 1;
    p->bucket_counts = alloc(B->a, (NBOUNDS + 1) * sizeof *p->bucket_counts);
    p->_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM;
    p->_min_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MIN_MIN;
    p->_max_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MAX_MAX;
    return p;
}

static void hdp_record(struct build *B, hdp_t *p, double v, const struct call *c)
{
    unsigned i = 0;
    while (i < NBOUNDS && v > p->explicit_bounds[i])
        i++;
    p->bucket_counts[i]++;
    if (p->count == 0 || v < p->min)
        p->min = v;
    if (p->count == 0 || v > p->max)
        p->max = v;
    p->count++;
    p->sum += v;
    if (!p->n_exemplars) { /* the first call of the group: a link from the metric to a trace */
        Opentelemetry__Proto__Metrics__V1__Exemplar *e = alloc(B->a, sizeof *e);
        opentelemetry__proto__metrics__v1__exemplar__init(e);
        e->time_unix_nano = c->end;
        e->trace_id.data = (uint8_t *)c->trace_id;
        e->trace_id.len = 16;
        e->span_id.data = (uint8_t *)c->span_id;
        e->span_id.len = 8;
        e->value_case = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE;
        e->as_double = v;
        p->exemplars = alloc(B->a, sizeof *p->exemplars);
        p->exemplars[0] = e;
        p->n_exemplars = 1;
    }
}

static void point_attrs(struct build *B, hdp_t *p, const struct group *g, const char *token_type)
{
    const struct gen_llm *L = &catalog[g->llm];
    struct attrs at;
    attrs_init(&at, B->a);
    a_str(&at, "gen_ai.operation.name", L->operation);
    a_str(&at, "gen_ai.provider.name", L->provider);
    a_str(&at, "gen_ai.request.model", L->request);
    if (g->status == 200)
        a_str(&at, "gen_ai.response.model", L->response);
    else
        a_str(&at, "error.type", fmt(B->a, "%d", g->status));
    a_str(&at, "server.address", L->server);
    if (token_type)
        a_str(&at, "gen_ai.token.type", token_type);
    p->n_attributes = at.n;
    p->attributes = at.v;
}

static Opentelemetry__Proto__Metrics__V1__Metric *histogram(struct build *B, const char *name,
                                                             const char *unit, const char *desc,
                                                             hdp_t **points, size_t n)
{
    Opentelemetry__Proto__Metrics__V1__Metric *mt = alloc(B->a, sizeof *mt);
    opentelemetry__proto__metrics__v1__metric__init(mt);
    mt->name = (char *)name;
    mt->unit = (char *)unit;
    mt->description = (char *)desc;
    Opentelemetry__Proto__Metrics__V1__Histogram *h = alloc(B->a, sizeof *h);
    opentelemetry__proto__metrics__v1__histogram__init(h);
    h->aggregation_temporality = OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA;
    h->n_data_points = n;
    h->data_points = points;
    mt->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
    mt->histogram = h;
    return mt;
}

static void build_metrics(struct build *B, Opentelemetry__Proto__Resource__V1__Resource *res,
                          uint64_t window_end)
{
    uint64_t start = window_end;
    for (size_t i = 0; i < B->n_calls; i++)
        if (B->calls[i].start < start)
            start = B->calls[i].start;
    /* Groups in first-seen order (deterministic): a batch holds few distinct (model, status). */
    struct group *g = alloc(B->a, (B->n_calls + 1) * sizeof *g);
    size_t ng = 0;
    hdp_t **dur = alloc(B->a, (B->n_calls + 1) * sizeof *dur);
    hdp_t **tok = alloc(B->a, 2 * (B->n_calls + 1) * sizeof *tok);
    size_t ndur = 0, ntok = 0;
    for (size_t i = 0; i < B->n_calls; i++) {
        const struct call *c = &B->calls[i];
        size_t k = 0;
        while (k < ng && !(g[k].llm == c->llm && g[k].status == c->http_status))
            k++;
        if (k == ng) {
            g[ng].llm = c->llm;
            g[ng].status = c->http_status;
            g[ng].dur = dur[ndur++] = hdp_new(B, duration_bounds, start, window_end);
            point_attrs(B, g[ng].dur, &g[ng], NULL);
            if (c->http_status == 200) {
                g[ng].tin = tok[ntok++] = hdp_new(B, token_bounds, start, window_end);
                point_attrs(B, g[ng].tin, &g[ng], "input");
                if (strcmp(catalog[c->llm].operation, "embeddings") != 0) {
                    g[ng].tout = tok[ntok++] = hdp_new(B, token_bounds, start, window_end);
                    point_attrs(B, g[ng].tout, &g[ng], "output");
                }
            }
            ng++;
        }
        hdp_record(B, g[k].dur, (double)(c->end - c->start) / 1e9, c);
        if (g[k].tin)
            hdp_record(B, g[k].tin, (double)c->in, c);
        if (g[k].tout)
            hdp_record(B, g[k].tout, (double)c->out, c);
    }
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = alloc(B->a, sizeof *sm);
    opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
    sm->scope = scope(B, "LLMProxy.LLM");
    sm->metrics = alloc(B->a, 2 * sizeof *sm->metrics);
    sm->metrics[sm->n_metrics++] =
        histogram(B, "gen_ai.client.operation.duration", "s", "GenAI operation duration", dur, ndur);
    if (ntok)
        sm->metrics[sm->n_metrics++] = histogram(B, "gen_ai.client.token.usage", "{token}",
                                                 "Number of input and output tokens used", tok, ntok);
    B->b->stats.metric_points += ndur + ntok;

    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = alloc(B->a, sizeof *rm);
    opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
    rm->resource = res;
    rm->n_scope_metrics = 1;
    rm->scope_metrics = alloc(B->a, sizeof *rm->scope_metrics);
    rm->scope_metrics[0] = sm;
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req = alloc(B->a, sizeof *req);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(req);
    req->n_resource_metrics = 1;
    req->resource_metrics = alloc(B->a, sizeof *req->resource_metrics);
    req->resource_metrics[0] = rm;
    B->b->metrics = req;
}

static void build_logs(struct build *B, Opentelemetry__Proto__Resource__V1__Resource *res)
{
    Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = alloc(B->a, sizeof *sl);
    opentelemetry__proto__logs__v1__scope_logs__init(sl);
    sl->scope = scope(B, "LLMProxy.Gateway");
    sl->n_log_records = B->n_logs;
    sl->log_records = B->logs;
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = alloc(B->a, sizeof *rl);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    rl->resource = res;
    rl->n_scope_logs = 1;
    rl->scope_logs = alloc(B->a, sizeof *rl->scope_logs);
    rl->scope_logs[0] = sl;
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req = alloc(B->a, sizeof *req);
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(req);
    req->n_resource_logs = 1;
    req->resource_logs = alloc(B->a, sizeof *req->resource_logs);
    req->resource_logs[0] = rl;
    B->b->logs = req;
}

void gen_model_batch(struct gen_model *m, unsigned n, unsigned signals, struct gen_batch *b)
{
    if (b->arena)
        arena_reset(b->arena);
    else if (!(b->arena = arena_new(64 * 1024)))
        oom();
    struct arena *a = b->arena;
    memset(&b->stats, 0, sizeof b->stats);
    b->traces = NULL;
    b->metrics = NULL;
    b->logs = NULL;

    uint64_t window_end = m->o.time_ns;
    if (!window_end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        window_end = (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
    }
    struct build B = {.m = m, .a = a, .b = b, .want_logs = (signals & GEN_SIG_LOGS) != 0};
    for (unsigned i = 0; i < (n ? n : 1); i++)
        one_trace(&B, window_end);

    Opentelemetry__Proto__Resource__V1__Resource *res = resource(&B);
    build_traces(&B, res);
    if (signals & GEN_SIG_METRICS)
        build_metrics(&B, res, window_end);
    if (signals & GEN_SIG_LOGS)
        build_logs(&B, res);
}
