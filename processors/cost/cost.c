/* cost.c — the `cost` processor: prices every LLM span from the pricing store and writes
 * gen_ai.usage.cost.amount / .currency / .source on it.
 *
 * The one idea: the hot path never touches SQLite and never decodes what cannot be priced.
 * A request whose bytes contain neither "token" nor "cost" cannot hold a token count or a cost
 * attribute, so it is forwarded as the bytes that arrived; otherwise one read-only pass over the
 * decoded face looks for an LLM span before the batch is opened for editing. Prices come from
 * the store's in-memory snapshot (one per batch, so a batch is priced from one price list),
 * refreshed by a timer thread when another connection committed, and recent answers are kept
 * per (provider, model, tenant) for the snapshot generation they came from.
 *
 * An LLM span is one with a model (gen_ai.response.model, else gen_ai.request.model) and a token
 * count, or one that carries a cost. Token counts are read under the v1.41 names first, then the
 * newer GenAI-repo names and the legacy ones (research notes §1d, §1e, §2), so the processor
 * also works without genai_semconv in front of it. v1.41 counts cached tokens inside
 * gen_ai.usage.input_tokens; when the cache counts exceed the input count the span evidently
 * counts them apart (Anthropic's native usage), and they are added back before pricing. */
#include "processors/cost/cost.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/arena.h"
#include "core/attr.h"
#include "core/batch.h"
#include "core/log.h"
#include "core/pricing.h"
#include "core/telemetry.h"
#include "core/ticker.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_request;
typedef Opentelemetry__Proto__Trace__V1__Span otlp_span;
typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE

#define ATTR_AMOUNT "gen_ai.usage.cost.amount"
#define ATTR_CURRENCY "gen_ai.usage.cost.currency"
#define ATTR_SOURCE "gen_ai.usage.cost.source"
#define ATTR_UNPRICED "llmotlp.cost.unpriced"
#define ATTR_ASSUMPTION "llmotlp.cost.assumption"

#define MAX_MODEL_LABELS 200   /* distinct unpriced models counted by name; then "_other" */
#define MAX_CURRENCIES 16      /* distinct currencies with their own amount counter */
#define CACHE_SLOTS 1024       /* price cache entries (a power of two) */
#define MAX_TOKENS 1000000000000000LL /* larger token counts are taken as this */

/* ---- config ------------------------------------------------------------------------------ */

static const struct config_field cost_fields[] = {
    {.name = "database", .type = CFG_STRING, .offset = offsetof(struct cost_config, database),
     .def = "", .doc = "path of the SQLite pricing DB (see `llmotlp pricing`); empty: "
                       "$LLMOTLP_PRICING_DB, else /var/lib/llmotlp/llmotlp.db when that folder is "
                       "writable, else $XDG_DATA_HOME/llmotlp/llmotlp.db"},
    {.name = "create_database", .type = CFG_BOOL,
     .offset = offsetof(struct cost_config, create_database), .def = "true",
     .doc = "create the DB when it is missing, with the reference prices compiled in"},
    {.name = "reload_interval", .type = CFG_DURATION,
     .offset = offsetof(struct cost_config, reload_interval), .def = "2s", .min = 0,
     .max = INT64_MAX, .doc = "how often the DB is checked for committed price updates; 0: never"},
    {.name = "tenant_attribute", .type = CFG_STRING,
     .offset = offsetof(struct cost_config, tenant_attribute), .def = "tenant.id",
     .doc = "span attribute (else resource attribute) naming the tenant for tenant prices"},
    {.name = "currency", .type = CFG_STRING, .offset = offsetof(struct cost_config, currency),
     .def = "USD", .doc = "ISO 4217 code assumed for provider-reported costs that name none"},
    {.name = "cache_tokens_in_input", .type = CFG_ENUM,
     .offset = offsetof(struct cost_config, cache_tokens_in_input), .def = "auto",
     .choices = cost_cache_conventions,
     .doc = "whether input_tokens includes the cache reads/writes: included (GenAI semconv), "
            "excluded (Anthropic's native usage) or auto (excluded when the cache counts exceed "
            "input or the model is Anthropic's, flagged llmotlp.cost.assumption; else included)"},
    {.name = "cache_tokens_in_input_by_provider", .type = CFG_STRING_MAP,
     .offset = offsetof(struct cost_config, cache_tokens_in_input_by_provider),
     .doc = "per gen_ai.provider.name (the span's, else the price's): auto, included or excluded"},
    {.name = NULL},
};

const char *const cost_cache_conventions[] = {"auto", "included", "excluded", NULL};

static int convention_of(const char *v)
{
    for (int i = 0; cost_cache_conventions[i]; i++)
        if (strcmp(v, cost_cache_conventions[i]) == 0)
            return i;
    return -1;
}

static int cost_validate(const void *cfgp, struct error *err)
{
    const struct cost_config *cfg = cfgp;
    const struct config_kv_list *by = &cfg->cache_tokens_in_input_by_provider;
    for (size_t i = 0; i < by->n; i++)
        if (!by->items[i].value || convention_of(by->items[i].value) < 0)
            return error_set(err, "cache_tokens_in_input_by_provider: %s: '%s' is not auto, "
                             "included or excluded", by->items[i].key,
                             by->items[i].value ? by->items[i].value : "");
    if (!cfg->tenant_attribute || !cfg->tenant_attribute[0])
        return error_set(err, "tenant_attribute: must not be empty");
    size_t n = cfg->currency ? strlen(cfg->currency) : 0;
    if (n != 3)
        return error_set(err, "currency: expected an ISO 4217 code such as USD, got '%s'",
                         cfg->currency ? cfg->currency : "");
    return 0;
}

/* ---- attribute names --------------------------------------------------------------------- */

enum field {
    F_REQ_MODEL, F_RESP_MODEL, F_PROVIDER, F_IN, F_OUT, F_CACHE_READ, F_CACHE_WRITE, F_REASONING,
    F_COST, F_CURRENCY, F_SOURCE, F_UNPRICED, F_BATCH, F_AUDIO_IN, F_AUDIO_OUT, F_IMAGE_IN,
    F_IMAGE_OUT, F_TIER, F_ASSUMPTION, F_TENANT, F_COUNT
};

/* rank 0 is the current name; a higher rank yields to a lower one on the same span. */
struct name_row {
    const char *name;
    uint8_t field, rank;
};

static const struct name_row names[] = {
    {"gen_ai.request.model", F_REQ_MODEL, 0},
    {"llm.request.model", F_REQ_MODEL, 1},
    {"llm.model_name", F_REQ_MODEL, 1},
    {"gen_ai.response.model", F_RESP_MODEL, 0},
    {"llm.response.model", F_RESP_MODEL, 1},
    {"gen_ai.provider.name", F_PROVIDER, 0},
    {"gen_ai.system", F_PROVIDER, 1},
    {"llm.provider", F_PROVIDER, 2},
    {"llm.system", F_PROVIDER, 2},
    {"gen_ai.usage.input_tokens", F_IN, 0},
    {"gen_ai.usage.prompt_tokens", F_IN, 1},
    {"llm.usage.prompt_tokens", F_IN, 2},
    {"llm.token_count.prompt", F_IN, 2},
    {"gen_ai.usage.output_tokens", F_OUT, 0},
    {"gen_ai.usage.completion_tokens", F_OUT, 1},
    {"llm.usage.completion_tokens", F_OUT, 2},
    {"llm.token_count.completion", F_OUT, 2},
    {"gen_ai.usage.cache_read.input_tokens", F_CACHE_READ, 0},
    {"gen_ai.usage.cache_read_input_tokens", F_CACHE_READ, 1},
    {"gen_ai.usage.prompt_tokens_details.cached_tokens", F_CACHE_READ, 1},
    {"llm.token_count.prompt_details.cache_read", F_CACHE_READ, 2},
    {"gen_ai.usage.cache_creation.input_tokens", F_CACHE_WRITE, 0}, /* v1.41 */
    {"gen_ai.usage.cache_write.input_tokens", F_CACHE_WRITE, 0},    /* GenAI repo, later */
    {"gen_ai.usage.cache_creation_input_tokens", F_CACHE_WRITE, 1},
    {"gen_ai.usage.prompt_tokens_details.cache_creation_tokens", F_CACHE_WRITE, 1},
    {"llm.token_count.prompt_details.cache_write", F_CACHE_WRITE, 2},
    {"gen_ai.usage.reasoning.output_tokens", F_REASONING, 0},
    {"gen_ai.usage.reasoning_tokens", F_REASONING, 1},
    {"gen_ai.usage.completion_tokens_details.reasoning_tokens", F_REASONING, 1},
    {"llm.usage.reasoning_tokens", F_REASONING, 2},
    {"llm.token_count.completion_details.reasoning", F_REASONING, 2},
    {ATTR_AMOUNT, F_COST, 0},
    {"gen_ai.usage.cost", F_COST, 1},        /* OpenLIT */
    {"gen_ai.cost.total_cost", F_COST, 1},   /* LiteLLM cost_breakdown */
    {"llm.cost.total", F_COST, 1},           /* OpenInference */
    {"llm.usage.cost", F_COST, 1},
    {ATTR_CURRENCY, F_CURRENCY, 0},
    {ATTR_SOURCE, F_SOURCE, 0},
    {ATTR_UNPRICED, F_UNPRICED, 0},
    {"gen_ai.request.batch", F_BATCH, 0},
    {"llm.batch", F_BATCH, 0},
    /* per-modality counts (GenAI repo after v1.41; OpenInference), parts of input/output */
    {"gen_ai.usage.audio.input_tokens", F_AUDIO_IN, 0},
    {"llm.token_count.prompt_details.audio", F_AUDIO_IN, 2},
    {"gen_ai.usage.audio.output_tokens", F_AUDIO_OUT, 0},
    {"llm.token_count.completion_details.audio", F_AUDIO_OUT, 2},
    {"gen_ai.usage.image.input_tokens", F_IMAGE_IN, 0},
    {"gen_ai.usage.image.output_tokens", F_IMAGE_OUT, 0},
    /* the tier that served the call wins over the one asked for */
    {"openai.response.service_tier", F_TIER, 0},
    {"gen_ai.openai.response.service_tier", F_TIER, 1},
    {"openai.request.service_tier", F_TIER, 2},
    {"gen_ai.openai.request.service_tier", F_TIER, 3},
    {ATTR_ASSUMPTION, F_ASSUMPTION, 0},
};
#define NNAMES (sizeof names / sizeof names[0])

const char *const cost_batch_attributes[] = {"gen_ai.request.batch", "llm.batch", NULL};
const char *const cost_provider_attributes[] = {ATTR_AMOUNT, "gen_ai.usage.cost",
                                                "gen_ai.cost.total_cost", "llm.cost.total",
                                                "llm.usage.cost", NULL};

/* Open-addressing table over names[], built once: one hash and one strcmp per attribute key. */
#define NAME_SLOTS 128
static int16_t name_slot[NAME_SLOTS];
static pthread_once_t name_once = PTHREAD_ONCE_INIT;

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void names_init(void)
{
    for (size_t i = 0; i < NAME_SLOTS; i++)
        name_slot[i] = -1;
    for (size_t i = 0; i < NNAMES; i++) {
        uint32_t h = hash_str(names[i].name) & (NAME_SLOTS - 1);
        while (name_slot[h] >= 0)
            h = (h + 1) & (NAME_SLOTS - 1);
        name_slot[h] = (int16_t)i;
    }
}

static const struct name_row *name_find(const char *key)
{
    /* Every known name starts with "gen_ai.", "llm" or "openai.": skip the rest unhashed. */
    if (!((key[0] == 'g' && strncmp(key, "gen_ai.", 7) == 0) ||
          (key[0] == 'l' && strncmp(key, "llm", 3) == 0) ||
          (key[0] == 'o' && strncmp(key, "openai.", 7) == 0)))
        return NULL;
    uint32_t h = hash_str(key) & (NAME_SLOTS - 1);
    for (; name_slot[h] >= 0; h = (h + 1) & (NAME_SLOTS - 1))
        if (strcmp(names[name_slot[h]].name, key) == 0)
            return &names[name_slot[h]];
    return NULL;
}

/* gen_ai.system values renamed in gen_ai.provider.name (v1.41 registry-deprecated.yaml). */
static const char *provider_name(const char *v)
{
    static const char *const renames[][2] = {
        {"vertex_ai", "gcp.vertex_ai"},        {"gemini", "gcp.gemini"},
        {"az.ai.inference", "azure.ai.inference"}, {"az.ai.openai", "azure.ai.openai"},
        {"xai", "x_ai"},
    };
    for (size_t i = 0; i < sizeof renames / sizeof renames[0]; i++)
        if (strcmp(v, renames[i][0]) == 0)
            return renames[i][1];
    return v;
}

/* ---- attribute values -------------------------------------------------------------------- */

static bool any_true(const otlp_any *v)
{
    if (!v)
        return false;
    if (v->value_case == V_BOOL)
        return v->bool_value;
    const char *s = attr_str(v);
    return s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "1") == 0);
}

/* ---- the processor ----------------------------------------------------------------------- */

struct cache_entry {
    uint64_t generation;       /* 0 = empty */
    uint32_t hash;
    bool found;
    int64_t lo, hi;            /* times (unix s) the answer holds for: [lo, hi) */
    char provider[64], model[128], tenant[64];
    struct price price;
};

struct currency_total {
    char code[8];
    double amount;
    _Atomic uint64_t *micros;
};

struct model_counter {
    char *model, *provider;
    _Atomic uint64_t *spans;
};

struct cost_proc {
    const struct cost_config *cfg;
    char *log_name;
    char *labels;              /* processor="cost" */
    struct consumer *next;
    struct telemetry *tel;
    struct pricing_store *store;

    pthread_mutex_t cache_lock;
    struct cache_entry *cache; /* CACHE_SLOTS, direct-mapped */

    pthread_mutex_t stats_lock; /* guards currencies and models */
    struct currency_total currencies[MAX_CURRENCIES];
    size_t n_currencies;
    struct model_counter models[MAX_MODEL_LABELS];
    size_t n_models;
    _Atomic uint64_t *other_model;  /* models beyond MAX_MODEL_LABELS */

    _Atomic uint64_t *priced_local;
    _Atomic uint64_t *priced_provider;
    _Atomic uint64_t *unpriced;
    _Atomic uint64_t *assumed[2];
    _Atomic uint64_t *reloads;
    _Atomic uint64_t *reload_errors;

    struct ticker reload_timer;
    char reload_last_error[sizeof ((struct error *)0)->msg]; /* the timer's thread only */
};

/* What one span says, read in one pass over its attributes. */
struct span_view {
    otlp_kv *kv[F_COUNT];
    uint8_t rank[F_COUNT];
};

static void span_scan(const struct cost_proc *p, const otlp_span *s, struct span_view *v)
{
    memset(v->kv, 0, sizeof v->kv);
    const char *tenant_key = p->cfg->tenant_attribute;
    for (size_t i = 0; i < s->n_attributes; i++) {
        otlp_kv *kv = s->attributes[i];
        if (!kv || !kv->key || !kv->value)
            continue;
        const struct name_row *r = name_find(kv->key);
        if (r) {
            if (!v->kv[r->field] || r->rank < v->rank[r->field]) {
                v->kv[r->field] = kv;
                v->rank[r->field] = r->rank;
            }
        } else if (kv->key[0] == tenant_key[0] && strcmp(kv->key, tenant_key) == 0) {
            v->kv[F_TENANT] = kv;
        }
    }
}

static const char *view_str(const struct span_view *v, enum field f)
{
    return v->kv[f] ? attr_str(v->kv[f]->value) : NULL;
}

static bool view_count(const struct span_view *v, enum field f, int64_t *out)
{
    return v->kv[f] && attr_count(v->kv[f]->value, out);
}

/* The model a span is priced by: the one that answered, else the one requested. */
static const char *view_model(const struct span_view *v)
{
    const char *m = view_str(v, F_RESP_MODEL);
    return m ? m : view_str(v, F_REQ_MODEL);
}

static bool view_has_cost(const struct span_view *v, double *amount)
{
    double d;
    if (!v->kv[F_COST] || !attr_number(v->kv[F_COST]->value, &d) || d < 0)
        return false;
    if (amount)
        *amount = d;
    return true;
}

static bool view_is_llm(const struct span_view *v)
{
    int64_t n;
    if (view_has_cost(v, NULL))
        return true;
    return view_model(v) && (view_count(v, F_IN, &n) || view_count(v, F_OUT, &n));
}

/* ---- price lookup with a small cache ----------------------------------------------------- */

static uint32_t key_hash(const char *provider, const char *model, const char *tenant)
{
    uint32_t h = hash_str(provider);
    h = (h ^ 0x9e3779b9u) * 16777619u ^ hash_str(model);
    return (h ^ 0x85ebca6bu) * 16777619u ^ hash_str(tenant);
}

static bool copy_key(char *dst, size_t n, const char *src)
{
    size_t l = strlen(src);
    if (l >= n)
        return false;
    memcpy(dst, src, l + 1);
    return true;
}

/* Price in force at `at`, through the batch's snapshot. An answer is cached for the times it is
 * known to hold: a price row's own effective range when no tenant is involved or the tenant's own
 * price row answered; otherwise (a list price under a tenant, whose discount or own price may
 * start later in that range; or no price at all) only for the second it was asked about. Every
 * entry holds only for the snapshot generation it came from. */
static bool price_for(struct cost_proc *p, const struct pricing_snapshot *snap,
                      const char *provider, const char *model, const char *tenant, int64_t at,
                      struct price *out)
{
    provider = provider ? provider : "";
    tenant = tenant ? tenant : "";
    uint64_t gen = pricing_snapshot_generation(snap) + 1; /* +1: 0 marks an empty slot */
    uint32_t h = key_hash(provider, model, tenant);
    struct cache_entry *e = &p->cache[h & (CACHE_SLOTS - 1)];

    pthread_mutex_lock(&p->cache_lock);
    if (e->generation == gen && e->hash == h && at >= e->lo && at < e->hi &&
        strcmp(e->model, model) == 0 && strcmp(e->provider, provider) == 0 &&
        strcmp(e->tenant, tenant) == 0) {
        bool found = e->found;
        if (found)
            *out = e->price;
        pthread_mutex_unlock(&p->cache_lock);
        return found;
    }
    pthread_mutex_unlock(&p->cache_lock);

    bool found = pricing_snapshot_lookup(snap, provider[0] ? provider : NULL, model,
                                         tenant[0] ? tenant : NULL, at, out);
    int64_t lo = at, hi = at + 1;
    if (found && (!tenant[0] || (out->tenant[0] && out->tenant_discount == 0))) {
        lo = out->effective_from;
        hi = out->effective_to;
    }

    pthread_mutex_lock(&p->cache_lock);
    if (copy_key(e->provider, sizeof e->provider, provider) &&
        copy_key(e->model, sizeof e->model, model) &&
        copy_key(e->tenant, sizeof e->tenant, tenant)) {
        e->generation = gen;
        e->hash = h;
        e->found = found;
        if (found)
            e->price = *out;
        e->lo = lo;
        e->hi = hi;
    } else {
        e->generation = 0; /* a key too long to cache is simply looked up each time */
    }
    pthread_mutex_unlock(&p->cache_lock);
    return found;
}

/* ---- writing attributes ------------------------------------------------------------------ */

/* Attributes to append to one span, gathered so the array is grown once. */
struct additions {
    otlp_kv *kv[6];
    size_t n;
};

/* The value slot of attribute `key`: the existing one when the span has it under that very
 * name, else a new attribute queued in `add`. NULL on out of memory. */
static otlp_any *attr_slot(struct arena *a, otlp_kv *existing, const char *key,
                           struct additions *add)
{
    if (existing && strcmp(existing->key, key) == 0)
        return existing->value;
    otlp_kv *kv = arena_alloc(a, sizeof *kv);
    otlp_any *v = arena_alloc(a, sizeof *v);
    if (!kv || !v)
        return NULL;
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    kv->key = (char *)key;
    kv->value = v;
    add->kv[add->n++] = kv;
    return v;
}

/* `s` must outlive the batch (a literal) unless copy is set. */
static bool set_str(struct arena *a, otlp_kv *existing, const char *key, const char *s, bool copy,
                    struct additions *add)
{
    otlp_any *v = attr_slot(a, existing, key, add);
    char *value = copy ? arena_strdup(a, s) : (char *)s;
    if (!v || !value)
        return false;
    v->value_case = V_STRING;
    v->string_value = value;
    return true;
}

/* A batch may outlive the processor (an exporter's queue): a value that is not a literal is
 * copied into the batch's arena; the usual "USD" is not. */
static bool set_currency(struct arena *a, otlp_kv *existing, const char *code,
                         struct additions *add)
{
    bool usd = strcmp(code, "USD") == 0;
    return set_str(a, existing, ATTR_CURRENCY, usd ? "USD" : code, !usd, add);
}

static bool set_double(struct arena *a, otlp_kv *existing, const char *key, double d,
                       struct additions *add)
{
    otlp_any *v = attr_slot(a, existing, key, add);
    if (!v)
        return false;
    v->value_case = V_DOUBLE;
    v->double_value = d;
    return true;
}

static bool set_true(struct arena *a, otlp_kv *existing, const char *key, struct additions *add)
{
    otlp_any *v = attr_slot(a, existing, key, add);
    if (!v)
        return false;
    v->value_case = V_BOOL;
    v->bool_value = true;
    return true;
}

static bool append_all(struct arena *a, otlp_span *s, const struct additions *add)
{
    if (add->n == 0)
        return true;
    otlp_kv **arr = arena_alloc(a, (s->n_attributes + add->n) * sizeof *arr);
    if (!arr)
        return false;
    if (s->n_attributes)
        memcpy(arr, s->attributes, s->n_attributes * sizeof *arr);
    memcpy(arr + s->n_attributes, add->kv, add->n * sizeof *arr);
    s->attributes = arr;
    s->n_attributes += add->n;
    return true;
}

/* ---- per batch --------------------------------------------------------------------------- */

struct batch_stats {
    uint64_t local, provider, unpriced;
    struct {
        char code[8];
        double amount;
    } cost[4];
    size_t n_cost;
    const char *unpriced_models[16];
    const char *unpriced_providers[16];
    size_t n_unpriced_models;
    uint64_t assumed[2]; /* by assumption: cache apart (anthropic), cache exceeds input */
    uint64_t unpriced_count[16];
    bool oom;
};

static void stats_cost(struct batch_stats *st, const char *currency, double amount)
{
    for (size_t i = 0; i < st->n_cost; i++)
        if (strcmp(st->cost[i].code, currency) == 0) {
            st->cost[i].amount += amount;
            return;
        }
    if (st->n_cost < sizeof st->cost / sizeof st->cost[0]) {
        snprintf(st->cost[st->n_cost].code, sizeof st->cost[0].code, "%s", currency);
        st->cost[st->n_cost++].amount = amount;
    }
}

static _Atomic uint64_t *model_counter_locked(struct cost_proc *p, const char *provider,
                                             const char *model);

static void stats_unpriced(struct cost_proc *p, struct batch_stats *st, const char *provider,
                           const char *model)
{
    st->unpriced++;
    for (size_t i = 0; i < st->n_unpriced_models; i++)
        if (strcmp(st->unpriced_models[i], model) == 0 &&
            strcmp(st->unpriced_providers[i], provider) == 0) {
            st->unpriced_count[i]++;
            return;
        }
    if (st->n_unpriced_models < 16) {
        st->unpriced_models[st->n_unpriced_models] = model; /* valid while the batch is */
        st->unpriced_providers[st->n_unpriced_models] = provider;
        st->unpriced_count[st->n_unpriced_models++] = 1;
        return;
    }
    /* A request naming more unknown models than the batch tally holds: counted at once. */
    pthread_mutex_lock(&p->stats_lock);
    telemetry_add(model_counter_locked(p, provider, model), 1);
    pthread_mutex_unlock(&p->stats_lock);
}

static int64_t span_time(const otlp_span *s)
{
    uint64_t ns = s->end_time_unix_nano ? s->end_time_unix_nano : s->start_time_unix_nano;
    if (ns)
        return (int64_t)(ns / 1000000000ULL);
    return (int64_t)time(NULL);
}

/* The cache convention for a call: the span's provider's setting, else the price's provider's
 * (Claude on Bedrock is priced as anthropic), else cache_tokens_in_input. */
static enum pricing_cache_convention convention_for(const struct cost_proc *p,
                                                    const char *provider,
                                                    const char *price_provider)
{
    const struct config_kv_list *by = &p->cfg->cache_tokens_in_input_by_provider;
    const char *keys[] = {provider, price_provider};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; keys[k] && i < by->n; i++)
            if (strcmp(by->items[i].key, keys[k]) == 0)
                return (enum pricing_cache_convention)convention_of(by->items[i].value);
    return (enum pricing_cache_convention)p->cfg->cache_tokens_in_input;
}

/* Prices one span (or normalizes its provider-reported cost). false on out of memory. */
static bool cost_span(struct cost_proc *p, const struct pricing_snapshot *snap, struct arena *a,
                      otlp_span *s, const char *res_tenant, struct batch_stats *st)
{
    struct span_view v;
    span_scan(p, s, &v);
    struct additions add = {.n = 0};
    bool ok = true;

    double reported;
    if (view_has_cost(&v, &reported)) {
        otlp_kv *c = v.kv[F_COST];
        if (strcmp(c->key, ATTR_AMOUNT) != 0) {
            /* A legacy name: the value moves to the current name, as a double. */
            c->key = ATTR_AMOUNT;
            c->value->value_case = V_DOUBLE;
            c->value->double_value = reported;
        } else if (c->value->value_case != V_DOUBLE) {
            c->value->value_case = V_DOUBLE;
            c->value->double_value = reported;
        }
        const char *currency = view_str(&v, F_CURRENCY);
        if (!currency) {
            currency = p->cfg->currency;
            ok = ok && set_currency(a, v.kv[F_CURRENCY], currency, &add);
        }
        /* A source already set (e.g. "local" from an upstream tier) is kept. */
        if (!view_str(&v, F_SOURCE))
            ok = ok && set_str(a, v.kv[F_SOURCE], ATTR_SOURCE, "provider", false, &add);
        st->provider++;
        stats_cost(st, currency, reported);
        return ok && append_all(a, s, &add);
    }

    const char *model = view_model(&v);
    struct usage u = {.reasoning = -1};
    bool has_in = view_count(&v, F_IN, &u.input), has_out = view_count(&v, F_OUT, &u.output);
    if (!model || (!has_in && !has_out))
        return true; /* not an LLM call that can be priced */
    view_count(&v, F_CACHE_READ, &u.cache_read);
    view_count(&v, F_CACHE_WRITE, &u.cache_write);
    view_count(&v, F_REASONING, &u.reasoning);
    /* Counts come from the data: kept in [0, 1e15] so that their sums cannot overflow. */
    int64_t *counts[] = {&u.input, &u.output, &u.cache_read, &u.cache_write};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        *counts[i] = *counts[i] < 0 ? 0 : *counts[i] > MAX_TOKENS ? MAX_TOKENS : *counts[i];
    view_count(&v, F_AUDIO_IN, &u.audio_input);
    view_count(&v, F_AUDIO_OUT, &u.audio_output);
    view_count(&v, F_IMAGE_IN, &u.image_input);
    view_count(&v, F_IMAGE_OUT, &u.image_output);
    int64_t *parts[] = {&u.audio_input, &u.audio_output, &u.image_input, &u.image_output};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        *parts[i] = *parts[i] < 0 ? 0 : *parts[i] > MAX_TOKENS ? MAX_TOKENS : *parts[i];
    u.batch = (v.kv[F_BATCH] && any_true(v.kv[F_BATCH]->value));
    const char *tier = view_str(&v, F_TIER);
    if (tier && strcmp(tier, "flex") == 0)
        u.tier = PRICING_TIER_FLEX;
    else if (tier && strcmp(tier, "priority") == 0)
        u.tier = PRICING_TIER_PRIORITY;

    const char *provider = view_str(&v, F_PROVIDER);
    if (provider && v.rank[F_PROVIDER] > 0)
        provider = provider_name(provider);
    const char *tenant = view_str(&v, F_TENANT);
    if (!tenant)
        tenant = res_tenant;
    int64_t at = span_time(s);

    struct price pr;
    bool found = price_for(p, snap, provider, model, tenant, at, &pr);
    const char *requested = view_str(&v, F_REQ_MODEL);
    if (!found && requested && strcmp(requested, model) != 0)
        found = price_for(p, snap, provider, requested, tenant, at, &pr);
    if (!found) {
        ok = set_true(a, v.kv[F_UNPRICED], ATTR_UNPRICED, &add);
        stats_unpriced(p, st, provider ? provider : "", model);
        return ok && append_all(a, s, &add);
    }
    const char *assumption = NULL;
    double amount = pricing_charge(&pr, &u, convention_for(p, provider, pr.provider), provider,
                                   model, &assumption);
    if (assumption) {
        ok = set_str(a, v.kv[F_ASSUMPTION], ATTR_ASSUMPTION, assumption, false, &add);
        st->assumed[strcmp(assumption, PRICING_ASSUME_CACHE_INCLUDED) == 0 ? 0 : 1]++;
    }
    const char *currency = pr.currency[0] ? pr.currency : p->cfg->currency;
    ok = ok && set_double(a, v.kv[F_COST], ATTR_AMOUNT, amount, &add) &&
         set_currency(a, v.kv[F_CURRENCY], currency, &add) &&
         set_str(a, v.kv[F_SOURCE], ATTR_SOURCE, "local", false, &add);
    st->local++;
    stats_cost(st, currency, amount);
    return ok && append_all(a, s, &add);
}

static const char *resource_tenant(const struct cost_proc *p,
                                   const Opentelemetry__Proto__Resource__V1__Resource *r)
{
    if (!r)
        return NULL;
    for (size_t i = 0; i < r->n_attributes; i++) {
        const otlp_kv *kv = r->attributes[i];
        if (kv && kv->key && strcmp(kv->key, p->cfg->tenant_attribute) == 0)
            return attr_str(kv->value);
    }
    return NULL;
}

static bool request_has_llm_span(const struct cost_proc *p, const trace_request *req)
{
    struct span_view v;
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[i];
        for (size_t j = 0; rs && j < rs->n_scope_spans; j++) {
            const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[j];
            for (size_t k = 0; ss && k < ss->n_spans; k++) {
                if (!ss->spans[k])
                    continue;
                span_scan(p, ss->spans[k], &v);
                if (view_is_llm(&v))
                    return true;
            }
        }
    }
    return false;
}

/* Every token-count and cost attribute name contains "token" or "cost": bytes without either
 * cannot hold an LLM span. Only the encoded face is looked at, never produced. */
static bool bytes_may_hold_llm(struct batch *b)
{
    bool maybe = true;
    pthread_mutex_lock(&b->lock);
    if (b->has_wire)
        maybe = memmem(b->wire, b->wire_len, "token", 5) || memmem(b->wire, b->wire_len, "cost", 4);
    pthread_mutex_unlock(&b->lock);
    return maybe;
}

static _Atomic uint64_t *currency_counter_locked(struct cost_proc *p, const char *code,
                                                 struct currency_total **tot)
{
    for (size_t i = 0; i < p->n_currencies; i++)
        if (strcmp(p->currencies[i].code, code) == 0) {
            *tot = &p->currencies[i];
            return p->currencies[i].micros;
        }
    if (p->n_currencies == MAX_CURRENCIES) {
        *tot = NULL;
        return NULL;
    }
    struct currency_total *c = &p->currencies[p->n_currencies++];
    snprintf(c->code, sizeof c->code, "%s", code);
    char labels[256];
    snprintf(labels, sizeof labels, "%s,currency=\"%s\"", p->labels, c->code);
    c->micros = telemetry_counter(p->tel, "llmotlp_cost_amount_micros", labels,
                                  "Cost written on spans (local and provider-reported), in "
                                  "millionths of the currency unit");
    *tot = c;
    return c->micros;
}

/* Label values escape '\' and '"' (Prometheus text format). */
static void label_escape(char *esc, size_t cap, const char *label)
{
    size_t n = 0;
    for (const char *c = label; *c && n + 2 < cap; c++) {
        if (*c == '"' || *c == '\\')
            esc[n++] = '\\';
        esc[n++] = *c == '\n' ? ' ' : *c;
    }
    esc[n] = '\0';
}

static _Atomic uint64_t *model_counter_locked(struct cost_proc *p, const char *provider,
                                             const char *model)
{
    for (size_t i = 0; i < p->n_models; i++)
        if (strcmp(p->models[i].model, model) == 0 &&
            strcmp(p->models[i].provider, provider) == 0)
            return p->models[i].spans;
    /* Model names come from the data: past MAX_MODEL_LABELS they share one series. */
    bool other = p->n_models >= MAX_MODEL_LABELS;
    if (other && p->other_model)
        return p->other_model;
    char esc[300], pesc[150];
    label_escape(esc, sizeof esc, other ? "_other" : model);
    label_escape(pesc, sizeof pesc, other ? "_other" : provider);
    char labels[640];
    snprintf(labels, sizeof labels, "%s,provider=\"%s\",model=\"%s\"", p->labels, pesc, esc);
    _Atomic uint64_t *c = telemetry_counter(p->tel, "llmotlp_cost_unpriced_spans", labels,
                                            "LLM spans left without a cost because their model "
                                            "has no price, per provider and model as the span "
                                            "names them");
    if (other) {
        p->other_model = c;
        return c;
    }
    char *copy = strdup(model), *pcopy = strdup(provider);
    if (!copy || !pcopy) {
        free(copy);
        free(pcopy);
        return c;
    }
    p->models[p->n_models].model = copy;
    p->models[p->n_models].provider = pcopy;
    p->models[p->n_models++].spans = c;
    return c;
}

static void stats_publish(struct cost_proc *p, const struct batch_stats *st)
{
    telemetry_add(p->priced_local, st->local);
    telemetry_add(p->priced_provider, st->provider);
    telemetry_add(p->unpriced, st->unpriced);
    telemetry_add(p->assumed[0], st->assumed[0]);
    telemetry_add(p->assumed[1], st->assumed[1]);
    if (st->n_cost == 0 && st->n_unpriced_models == 0)
        return;
    pthread_mutex_lock(&p->stats_lock);
    for (size_t i = 0; i < st->n_cost; i++) {
        struct currency_total *tot;
        _Atomic uint64_t *c = currency_counter_locked(p, st->cost[i].code, &tot);
        if (!c || !tot)
            continue;
        /* Summed in full precision; the counter shows the total rounded to micro-units. */
        tot->amount += st->cost[i].amount;
        atomic_store_explicit(c, (uint64_t)llround(tot->amount * 1e6), memory_order_relaxed);
    }
    for (size_t i = 0; i < st->n_unpriced_models; i++)
        telemetry_add(model_counter_locked(p, st->unpriced_providers[i], st->unpriced_models[i]),
                      st->unpriced_count[i]);
    pthread_mutex_unlock(&p->stats_lock);
    for (size_t i = 0; i < st->n_unpriced_models; i++)
        log_debug(p->log_name, "no price for model '%s' of provider '%s': %" PRIu64
                  " span(s) left unpriced", st->unpriced_models[i], st->unpriced_providers[i],
                  st->unpriced_count[i]);
}

static enum consume_status cost_consume(void *self, struct batch *b)
{
    struct cost_proc *p = self;
    if (b->signal != SIGNAL_TRACES || !bytes_may_hold_llm(b))
        return consumer_send(p->next, b);
    struct error err = {0};
    const trace_request *ro = (const trace_request *)batch_decoded(b, &err);
    if (!ro) {
        log_warn(p->log_name, "cannot decode a request, forwarding it unpriced: %s", err.msg);
        return consumer_send(p->next, b);
    }
    if (!request_has_llm_span(p, ro))
        return consumer_send(p->next, b);

    struct batch *out = NULL;
    trace_request *req = (trace_request *)batch_edit(b, &out, &err);
    if (!req) {
        log_error(p->log_name, "cannot open a request for editing, forwarding it unpriced: %s",
                  err.msg);
        return consumer_send(p->next, b);
    }
    struct batch_stats st;
    memset(&st, 0, sizeof st);
    bool ok = true;
    const struct pricing_snapshot *snap = pricing_acquire(p->store); /* one price list per batch */
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[i];
        if (!rs)
            continue;
        const char *res_tenant = resource_tenant(p, rs->resource);
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[j];
            for (size_t k = 0; ss && k < ss->n_spans; k++)
                if (ss->spans[k] && !cost_span(p, snap, out->arena, ss->spans[k], res_tenant, &st))
                    ok = false;
        }
    }
    pricing_release(snap);
    if (!ok)
        log_error(p->log_name, "out of memory: some spans of a request were left unpriced");
    batch_edit_done(out);
    stats_publish(p, &st);

    enum consume_status rc = consumer_send(p->next, out);
    batch_edit_release(b, out);
    return rc;
}

/* ---- reload timer ------------------------------------------------------------------------ */

static void reload_tick(void *arg)
{
    struct cost_proc *p = arg;
    struct error err = {0};
    int rc = pricing_refresh(p->store, &err);
    if (rc > 0) {
        telemetry_add(p->reloads, 1);
        log_info(p->log_name, "prices reloaded: %zu prices (generation %" PRIu64 ")",
                 pricing_count(p->store), pricing_generation(p->store));
        p->reload_last_error[0] = '\0';
    } else if (rc < 0) {
        telemetry_add(p->reload_errors, 1);
        if (strcmp(p->reload_last_error, err.msg) != 0) /* log a failure once, not every tick */
            log_error(p->log_name, "cannot reload prices, keeping the previous ones: %s",
                      err.msg);
        memcpy(p->reload_last_error, err.msg, sizeof p->reload_last_error);
    }
}

/* ---- life cycle -------------------------------------------------------------------------- */

static void cost_destroy(void *self)
{
    struct cost_proc *p = self;
    if (!p)
        return;
    ticker_stop(&p->reload_timer);
    if (p->store)
        pricing_close(p->store);
    for (size_t i = 0; i < p->n_models; i++) {
        free(p->models[i].model);
        free(p->models[i].provider);
    }
    pthread_mutex_destroy(&p->stats_lock);
    pthread_mutex_destroy(&p->cache_lock);
    free(p->cache);
    free(p->labels);
    free(p->log_name);
    free(p);
}

/* mkdir -p of the directory part of path, so that a first start can create the DB anywhere. */
static void make_parent_dirs(const char *path)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return;
    *slash = '\0';
    for (char *c = dir + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        mkdir(dir, 0755);
        *c = '/';
    }
    mkdir(dir, 0755);
}

static void *cost_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    const struct cost_config *cfg = cfgp;
    if (env->signal != SIGNAL_TRACES) {
        error_set(err, "the cost processor prices spans: use it in a traces pipeline");
        return NULL;
    }
    if (!env->next[SIGNAL_TRACES]) {
        error_set(err, "no next consumer");
        return NULL;
    }
    pthread_once(&name_once, names_init);
    struct cost_proc *p = calloc(1, sizeof *p);
    if (!p) {
        error_set(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->cache_lock, NULL);
    pthread_mutex_init(&p->stats_lock, NULL);
    p->cfg = cfg;
    p->next = env->next[SIGNAL_TRACES];
    p->tel = env->telemetry;
    const char *id = env->id ? env->id : "cost";
    p->log_name = strdup(env->log_name ? env->log_name : "processor/cost");
    size_t ln = strlen(id) + 16;
    p->labels = malloc(ln);
    p->cache = calloc(CACHE_SLOTS, sizeof *p->cache);
    if (!p->log_name || !p->labels || !p->cache) {
        error_set(err, "out of memory");
        cost_destroy(p);
        return NULL;
    }
    snprintf(p->labels, ln, "processor=\"%s\"", id);

    char path[4096];
    if (cfg->database && cfg->database[0]) {
        snprintf(path, sizeof path, "%s", cfg->database);
    } else if (pricing_default_path(path, sizeof path, err) != 0) {
        error_prefix(err, "pricing database: ");
        cost_destroy(p);
        return NULL;
    }
    if (cfg->create_database) {
        make_parent_dirs(path); /* a failure shows as pricing_open's error */
        p->store = pricing_open_seeded(path, err);
    } else {
        p->store = pricing_open(path, false, err);
    }
    if (!p->store) {
        error_prefix(err, "pricing database: ");
        cost_destroy(p);
        return NULL;
    }
    char l[256];
    snprintf(l, sizeof l, "%s,source=\"local\"", p->labels);
    p->priced_local = telemetry_counter(p->tel, "llmotlp_cost_priced_spans", l,
                                        "LLM spans given a cost, by where the cost came from");
    snprintf(l, sizeof l, "%s,source=\"provider\"", p->labels);
    p->priced_provider = telemetry_counter(p->tel, "llmotlp_cost_priced_spans", l,
                                           "LLM spans given a cost, by where the cost came from");
    p->unpriced = telemetry_counter(p->tel, "llmotlp_cost_unpriced_spans_total", p->labels,
                                    "LLM spans left without a cost (all models)");
    snprintf(l, sizeof l, "%s,assumption=\"%s\"", p->labels, PRICING_ASSUME_CACHE_INCLUDED);
    p->assumed[0] = telemetry_counter(p->tel, "llmotlp_cost_assumed_spans", l,
                                      "LLM spans priced on a guess (llmotlp.cost.assumption), "
                                      "by guess");
    snprintf(l, sizeof l, "%s,assumption=\"%s\"", p->labels, PRICING_ASSUME_CACHE_EXCEEDS);
    p->assumed[1] = telemetry_counter(p->tel, "llmotlp_cost_assumed_spans", l,
                                      "LLM spans priced on a guess (llmotlp.cost.assumption), "
                                      "by guess");
    p->reloads = telemetry_counter(p->tel, "llmotlp_cost_price_reloads", p->labels,
                                   "Times a committed price update was loaded");
    p->reload_errors = telemetry_counter(p->tel, "llmotlp_cost_price_reload_errors", p->labels,
                                         "Failed checks for price updates (old prices kept)");
    size_t n = pricing_count(p->store);
    if (n == 0)
        log_warn(p->log_name, "%s has no prices: every LLM span stays unpriced until prices are "
                 "added (llmotlp pricing --db %s update)", path, path);
    else
        log_info(p->log_name, "%zu prices loaded from %s", n, path);
    return p;
}

static int cost_start(void *self, struct error *err)
{
    struct cost_proc *p = self;
    if (p->cfg->reload_interval <= 0)
        return 0;
    if (ticker_start(&p->reload_timer, p->cfg->reload_interval, reload_tick, p, err) != 0) {
        error_prefix(err, "price reloads: ");
        return -1;
    }
    return 0;
}

static void cost_shutdown(void *self, int64_t deadline_ns)
{
    (void)deadline_ns;
    struct cost_proc *p = self;
    ticker_stop(&p->reload_timer); /* nothing is held: spans are priced on the caller's thread */
}

const struct component_factory cost_processor_factory = {
    .type = "cost",
    .kind = COMPONENT_PROCESSOR,
    .doc = "prices LLM spans from the SQLite pricing store: gen_ai.usage.cost.amount/currency/source",
    .fields = cost_fields,
    .config_size = sizeof(struct cost_config),
    .signals = 1u << SIGNAL_TRACES,
    .validate = cost_validate,
    .create = cost_create,
    .start = cost_start,
    .shutdown = cost_shutdown,
    .consume = cost_consume,
    .destroy = cost_destroy,
};
