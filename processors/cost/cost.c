/* cost.c — the `cost` processor: prices every LLM span from the pricing store and writes
 * gen_ai.usage.cost.amount / .currency / .source on it.
 *
 * The one idea: the hot path never touches SQLite and never decodes a request. Spans are read
 * and edited on the span index (core/wire_index.h) that the batch shares with the other
 * processors: the few attributes pricing reads are found there, and the cost attributes are
 * recorded as edits that the exporter's copy applies. A request whose bytes contain neither
 * "token" nor "cost" cannot hold a token count or a cost attribute, so it is forwarded without
 * even being indexed; otherwise one read-only pass over the index looks for a span to price
 * before the batch is opened for editing, so a request with nothing to change is never copied.
 * The pricing logic sees a span only through a small view with a second backend on protobuf-c
 * structs, used for a batch that arrives decoded only. Prices come from the store's in-memory
 * snapshot (one per batch, so a batch is priced from one price list), refreshed by a timer
 * thread when another connection committed, and recent answers are kept per (provider, model,
 * tenant) for the snapshot generation they came from.
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
#include "core/wire.h"
#include "core/wire_index.h"

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
        uint32_t h = wi_hash(names[i].name, strlen(names[i].name)) & (NAME_SLOTS - 1);
        while (name_slot[h] >= 0)
            h = (h + 1) & (NAME_SLOTS - 1);
        name_slot[h] = (int16_t)i;
    }
}

/* The row of a key (len bytes, not NUL-ended). The table hashes with wi_hash, the hash the span
 * index already keeps per attribute: pass it as `hash`, or NULL to have it computed. */
static const struct name_row *name_find(const char *key, size_t len, const uint32_t *hash)
{
    /* Every known name starts with "gen_ai.", "llm" or "openai.": skip the rest unhashed. */
    if (!((len > 7 && key[0] == 'g' && memcmp(key, "gen_ai.", 7) == 0) ||
          (len > 3 && key[0] == 'l' && memcmp(key, "llm", 3) == 0) ||
          (len > 7 && key[0] == 'o' && memcmp(key, "openai.", 7) == 0)))
        return NULL;
    uint32_t h = (hash ? *hash : wi_hash(key, len)) & (NAME_SLOTS - 1);
    for (; name_slot[h] >= 0; h = (h + 1) & (NAME_SLOTS - 1)) {
        const char *n = names[name_slot[h]].name;
        if (strncmp(n, key, len) == 0 && n[len] == '\0')
            return &names[name_slot[h]];
    }
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
    const struct wire_interest *interest; /* the service's, for batch_index (NULL: everything) */
    size_t tenant_len;
    uint32_t tenant_hash;      /* wi_hash of cfg->tenant_attribute */
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

/* ---- the span view: what one span says, over either backend -------------------------------- */

/* The pricing logic reads and writes a span only through this view, which has two backends: the
 * span index (core/wire_index.h), for every batch that has wire bytes, and protobuf-c structs,
 * for a batch that arrives decoded only (after a processor that edits structs). Both pick the same
 * attribute for a field (the first of the lowest rank, ignoring attributes without a value; for
 * the tenant, the last) and write in the same places, so both leave the same span. */
struct span_view {
    /* structs backend */
    otlp_span *s;
    struct arena *a;               /* the batch's arena, for added attributes */
    otlp_kv *add[6];               /* attributes to append, gathered so the array grows once */
    size_t n_add;
    /* index backend (ix != NULL) */
    struct wire_index *ix;
    struct wi_item *it;

    bool has[F_COUNT];
    uint8_t rank[F_COUNT];
    otlp_kv *kv[F_COUNT];          /* structs: the attribute read for the field */
    uint32_t at[F_COUNT];          /* index: its position in it->attrs (pointers move on append) */
    otlp_any val[F_COUNT];         /* index: its value as an AnyValue, made when first read */
    bool made[F_COUNT];
    char buf[512];                 /* index: NUL-ended copies of string values */
    size_t used;
    char *heap[F_COUNT];           /* copies that did not fit in buf; freed by view_done */
    size_t n_heap;
};

static void view_clear(struct span_view *v)
{
    memset(v->has, 0, sizeof v->has);
    memset(v->made, 0, sizeof v->made);
    v->s = NULL;
    v->a = NULL;
    v->n_add = 0;
    v->ix = NULL;
    v->it = NULL;
    v->used = 0;
    v->n_heap = 0;
}

static void view_done(struct span_view *v)
{
    for (size_t i = 0; i < v->n_heap; i++)
        free(v->heap[i]);
    v->n_heap = 0;
}

/* One attribute of the span, by key; `hash` (wi_hash of the key) may be NULL. */
static void view_note(struct span_view *v, const struct cost_proc *p, const char *key,
                      size_t len, const uint32_t *hash, otlp_kv *kv, uint32_t at)
{
    const struct name_row *r = name_find(key, len, hash);
    enum field f;
    if (r) {
        f = r->field;
        if (v->has[f] && r->rank >= v->rank[f])
            return;
        v->rank[f] = r->rank;
    } else if (len == p->tenant_len && memcmp(key, p->cfg->tenant_attribute, len) == 0) {
        f = F_TENANT; /* the last one wins */
        v->rank[f] = 0;
    } else {
        return;
    }
    v->has[f] = true;
    v->kv[f] = kv;
    v->at[f] = at;
    v->made[f] = false;
}

static void view_structs(struct span_view *v, const struct cost_proc *p, otlp_span *s,
                         struct arena *a)
{
    view_clear(v);
    v->s = s;
    v->a = a;
    for (size_t i = 0; i < s->n_attributes; i++) {
        otlp_kv *kv = s->attributes[i];
        if (kv && kv->key && kv->value)
            view_note(v, p, kv->key, strlen(kv->key), NULL, kv, 0);
    }
}

static void view_index(struct span_view *v, const struct cost_proc *p, struct wire_index *ix,
                       struct wi_item *it)
{
    view_clear(v);
    v->ix = ix;
    v->it = it;
    for (uint32_t i = 0; i < it->attrs.n; i++) {
        const struct wi_attr *at = &it->attrs.a[i];
        /* !any: a KeyValue without a value, which protobuf-c decodes as value == NULL */
        if (at->state != WI_DELETED && at->any)
            view_note(v, p, at->key, at->key_len, &at->hash, NULL, i);
    }
}

/* A NUL-ended copy of an index string (protobuf-c's strings are NUL-ended too, so C string
 * functions see the same text through both backends). NULL on out of memory. */
static char *view_cstr(struct span_view *v, const uint8_t *data, size_t len)
{
    char *d;
    if (len < sizeof v->buf - v->used) {
        d = v->buf + v->used;
        v->used += len + 1;
    } else {
        if (v->n_heap == F_COUNT || !(d = malloc(len + 1)))
            return NULL;
        v->heap[v->n_heap++] = d;
    }
    if (len)
        memcpy(d, data, len);
    d[len] = '\0';
    return d;
}

/* The field's value, or NULL when the span has no attribute for it. */
static const otlp_any *view_val(struct span_view *v, enum field f)
{
    if (!v->has[f])
        return NULL;
    if (!v->ix)
        return v->kv[f]->value;
    otlp_any *a = &v->val[f];
    if (v->made[f])
        return a;
    opentelemetry__proto__common__v1__any_value__init(a);
    const struct wi_value *w = &v->it->attrs.a[v->at[f]].v;
    switch (w->type) {
    case WI_STRING:
        a->string_value = view_cstr(v, w->data, w->len);
        if (a->string_value)
            a->value_case = V_STRING;
        break;
    case WI_BOOL:
        a->value_case = V_BOOL;
        a->bool_value = w->u.b;
        break;
    case WI_INT:
        a->value_case = V_INT;
        a->int_value = w->u.i;
        break;
    case WI_DOUBLE:
        a->value_case = V_DOUBLE;
        a->double_value = w->u.d;
        break;
    default:
        break; /* arrays, maps, bytes: nothing pricing reads */
    }
    v->made[f] = true;
    return a;
}

static const char *view_str(struct span_view *v, enum field f)
{
    return attr_str(view_val(v, f));
}

static bool view_count(struct span_view *v, enum field f, int64_t *out)
{
    return attr_count(view_val(v, f), out);
}

/* The model a span is priced by: the one that answered, else the one requested. */
static const char *view_model(struct span_view *v)
{
    const char *m = view_str(v, F_RESP_MODEL);
    return m ? m : view_str(v, F_REQ_MODEL);
}

static bool view_has_cost(struct span_view *v, double *amount)
{
    double d;
    if (!attr_number(view_val(v, F_COST), &d) || d < 0)
        return false;
    if (amount)
        *amount = d;
    return true;
}

static bool view_is_llm(struct span_view *v)
{
    int64_t n;
    if (view_has_cost(v, NULL))
        return true;
    return view_model(v) && (view_count(v, F_IN, &n) || view_count(v, F_OUT, &n));
}

/* Whether pricing changes the span: every LLM span but one whose provider-reported cost is
 * already in the current form (a double under the current name, with currency and source). */
static bool view_needs_edit(struct span_view *v)
{
    if (!view_is_llm(v))
        return false;
    if (!view_has_cost(v, NULL))
        return true;
    return v->rank[F_COST] != 0 || view_val(v, F_COST)->value_case != V_DOUBLE ||
           !view_str(v, F_CURRENCY) || !view_str(v, F_SOURCE);
}

static int64_t view_time(const struct span_view *v)
{
    uint64_t end = v->ix ? v->it->end_ns : v->s->end_time_unix_nano;
    uint64_t start = v->ix ? v->it->start_ns : v->s->start_time_unix_nano;
    uint64_t ns = end ? end : start;
    if (ns)
        return (int64_t)(ns / 1000000000ULL);
    return (int64_t)time(NULL);
}

/* A string read through the view that must live as long as the batch (the batch's tally of
 * unpriced models): struct strings already do; index strings are copied into the index's arena. */
static const char *view_keep(struct span_view *v, const char *s)
{
    return v->ix ? arena_strdup(v->ix->arena, s) : s;
}

/* Sets field f's attribute `key` to `val` (a string, double or bool): in place when the span
 * holds f under that very name (rank 0), or under any of f's names when `rename`; else appended.
 * A string value must outlive the batch (a literal) unless `copy`. false on out of memory. */
static bool view_put(struct span_view *v, enum field f, const char *key, bool rename,
                     const otlp_any *val, bool copy)
{
    bool in_place = v->has[f] && (v->rank[f] == 0 || rename);
    if (!v->ix) {
        otlp_kv *kv = in_place ? v->kv[f] : NULL;
        /* A KeyValue of this key without a value is filled, not joined by a second one: the
         * index's wi_item_set does so (the first live attribute of the key is the one set). */
        for (size_t i = 0; !kv && i < v->s->n_attributes; i++) {
            otlp_kv *o = v->s->attributes[i];
            if (o && o->key && strcmp(o->key, key) == 0) {
                if (!o->value)
                    kv = o;
                break;
            }
        }
        otlp_any *dst;
        if (kv) {
            kv->key = (char *)key;
            if (!kv->value) {
                if (!(kv->value = arena_alloc(v->a, sizeof *kv->value)))
                    return false;
                opentelemetry__proto__common__v1__any_value__init(kv->value);
            }
            dst = kv->value;
        } else {
            kv = arena_alloc(v->a, sizeof *kv);
            dst = arena_alloc(v->a, sizeof *dst);
            if (!kv || !dst || v->n_add == sizeof v->add / sizeof v->add[0])
                return false;
            opentelemetry__proto__common__v1__key_value__init(kv);
            opentelemetry__proto__common__v1__any_value__init(dst);
            kv->key = (char *)key;
            kv->value = dst;
            v->add[v->n_add++] = kv;
        }
        dst->value_case = val->value_case;
        if (val->value_case == V_STRING) {
            dst->string_value = copy ? arena_strdup(v->a, val->string_value) : val->string_value;
            if (!dst->string_value)
                return false;
        } else if (val->value_case == V_DOUBLE) {
            dst->double_value = val->double_value;
        } else {
            dst->bool_value = val->bool_value;
        }
        return true;
    }

    uint8_t small[64], *any = small;
    size_t n;
    if (val->value_case == V_STRING) {
        size_t len = strlen(val->string_value);
        n = pb_any_string(NULL, val->string_value, len);
        if (n > sizeof small && !(any = arena_alloc(v->ix->arena, n)))
            return false;
        pb_any_string(any, val->string_value, len);
    } else if (val->value_case == V_DOUBLE) {
        n = pb_any_double(any, val->double_value);
    } else {
        n = pb_any_bool(any, val->bool_value);
    }
    v->made[f] = false;
    if (!in_place)
        return wi_item_set(v->ix, v->it, key, strlen(key), any, n) == 0;
    struct wi_attr *at = &v->it->attrs.a[v->at[f]];
    if (v->rank[f] == 0 && at->any_len == n && memcmp(at->any, any, n) == 0)
        return true; /* already so: the request stays as it came */
    return wi_attr_replace(v->ix, v->it, at, key, strlen(key), any, n) == 0;
}

static bool put_str(struct span_view *v, enum field f, const char *key, const char *s, bool copy)
{
    otlp_any val = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    val.value_case = V_STRING;
    val.string_value = (char *)s;
    return view_put(v, f, key, false, &val, copy);
}

/* A batch may outlive the processor (an exporter's queue): a value that is not a literal is
 * copied into the batch; the usual "USD" is not. */
static bool put_currency(struct span_view *v, const char *code)
{
    bool usd = strcmp(code, "USD") == 0;
    return put_str(v, F_CURRENCY, ATTR_CURRENCY, usd ? "USD" : code, !usd);
}

static bool put_double(struct span_view *v, enum field f, const char *key, double d, bool rename)
{
    otlp_any val = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    val.value_case = V_DOUBLE;
    val.double_value = d;
    return view_put(v, f, key, rename, &val, false);
}

static bool put_true(struct span_view *v, enum field f, const char *key)
{
    otlp_any val = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    val.value_case = V_BOOL;
    val.bool_value = true;
    return view_put(v, f, key, false, &val, false);
}

/* Appends what view_put queued (structs backend; the index appends as it goes). */
static bool view_finish(struct span_view *v)
{
    if (v->ix || v->n_add == 0)
        return true;
    otlp_span *s = v->s;
    otlp_kv **arr = arena_alloc(v->a, (s->n_attributes + v->n_add) * sizeof *arr);
    if (!arr)
        return false;
    if (s->n_attributes)
        memcpy(arr, s->attributes, s->n_attributes * sizeof *arr);
    memcpy(arr + s->n_attributes, v->add, v->n_add * sizeof *arr);
    s->attributes = arr;
    s->n_attributes += v->n_add;
    return true;
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

/* Price in force at `at`, through the batch's snapshot. An answer (a price, or none: a model
 * without a price is as common as one with) is cached for the whole range of times the snapshot
 * says it holds over, so spans spread over minutes or hours share one entry. Every entry holds
 * only for the snapshot generation it came from. */
static bool price_for(struct cost_proc *p, const struct pricing_snapshot *snap,
                      const char *provider, const char *model, const char *tenant, int64_t at,
                      struct price *out)
{
    provider = provider ? provider : "";
    /* A tenant with no price or discount of its own pays the list price: asked and cached as
     * no tenant, so its answer holds over the list row's whole range. */
    tenant = tenant && pricing_snapshot_tenant_has_terms(snap, tenant) ? tenant : "";
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

    int64_t lo, hi;
    bool found = pricing_snapshot_lookup_range(snap, provider[0] ? provider : NULL, model,
                                               tenant[0] ? tenant : NULL, at, out, &lo, &hi);

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
static bool cost_view(struct cost_proc *p, const struct pricing_snapshot *snap,
                      struct span_view *v, const char *res_tenant, struct batch_stats *st)
{
    bool ok = true;
    double reported;
    if (view_has_cost(v, &reported)) {
        /* A legacy name: the value moves to the current name, as a double. */
        if (v->rank[F_COST] != 0 || view_val(v, F_COST)->value_case != V_DOUBLE)
            ok = put_double(v, F_COST, ATTR_AMOUNT, reported, true);
        const char *currency = view_str(v, F_CURRENCY);
        if (!currency) {
            currency = p->cfg->currency;
            ok = ok && put_currency(v, currency);
        }
        /* A source already set (e.g. "local" from an upstream tier) is kept. */
        if (!view_str(v, F_SOURCE))
            ok = ok && put_str(v, F_SOURCE, ATTR_SOURCE, "provider", false);
        st->provider++;
        stats_cost(st, currency, reported);
        return ok && view_finish(v);
    }

    const char *model = view_model(v);
    struct usage u = {.reasoning = -1};
    bool has_in = view_count(v, F_IN, &u.input), has_out = view_count(v, F_OUT, &u.output);
    if (!model || (!has_in && !has_out))
        return true; /* not an LLM call that can be priced */
    view_count(v, F_CACHE_READ, &u.cache_read);
    view_count(v, F_CACHE_WRITE, &u.cache_write);
    view_count(v, F_REASONING, &u.reasoning);
    /* Counts come from the data: kept in [0, 1e15] so that their sums cannot overflow. */
    int64_t *counts[] = {&u.input, &u.output, &u.cache_read, &u.cache_write};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        *counts[i] = *counts[i] < 0 ? 0 : *counts[i] > MAX_TOKENS ? MAX_TOKENS : *counts[i];
    view_count(v, F_AUDIO_IN, &u.audio_input);
    view_count(v, F_AUDIO_OUT, &u.audio_output);
    view_count(v, F_IMAGE_IN, &u.image_input);
    view_count(v, F_IMAGE_OUT, &u.image_output);
    int64_t *parts[] = {&u.audio_input, &u.audio_output, &u.image_input, &u.image_output};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        *parts[i] = *parts[i] < 0 ? 0 : *parts[i] > MAX_TOKENS ? MAX_TOKENS : *parts[i];
    u.batch = any_true(view_val(v, F_BATCH));
    const char *tier = view_str(v, F_TIER);
    if (tier && strcmp(tier, "flex") == 0)
        u.tier = PRICING_TIER_FLEX;
    else if (tier && strcmp(tier, "priority") == 0)
        u.tier = PRICING_TIER_PRIORITY;

    const char *provider = view_str(v, F_PROVIDER);
    if (provider && v->rank[F_PROVIDER] > 0)
        provider = provider_name(provider);
    const char *tenant = view_str(v, F_TENANT);
    if (!tenant)
        tenant = res_tenant;
    int64_t at = view_time(v);

    struct price pr;
    bool found = price_for(p, snap, provider, model, tenant, at, &pr);
    const char *requested = view_str(v, F_REQ_MODEL);
    if (!found && requested && strcmp(requested, model) != 0)
        found = price_for(p, snap, provider, requested, tenant, at, &pr);
    if (!found) {
        ok = put_true(v, F_UNPRICED, ATTR_UNPRICED);
        const char *kept_model = view_keep(v, model);
        const char *kept_provider = view_keep(v, provider ? provider : "");
        if (kept_model && kept_provider)
            stats_unpriced(p, st, kept_provider, kept_model);
        else
            ok = false;
        return ok && view_finish(v);
    }
    const char *assumption = NULL;
    double amount = pricing_charge(&pr, &u, convention_for(p, provider, pr.provider), provider,
                                   model, &assumption);
    if (assumption) {
        ok = put_str(v, F_ASSUMPTION, ATTR_ASSUMPTION, assumption, false);
        st->assumed[strcmp(assumption, PRICING_ASSUME_CACHE_INCLUDED) == 0 ? 0 : 1]++;
    }
    const char *currency = pr.currency[0] ? pr.currency : p->cfg->currency;
    ok = ok && put_double(v, F_COST, ATTR_AMOUNT, amount, false) && put_currency(v, currency) &&
         put_str(v, F_SOURCE, ATTR_SOURCE, "local", false);
    st->local++;
    stats_cost(st, currency, amount);
    return ok && view_finish(v);
}

/* ---- the request, through the index or the structs ----------------------------------------- */

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

/* The same through the index (read by its sole owner: the copy goes into its arena). *ok turns
 * false on out of memory. */
static const char *index_resource_tenant(const struct cost_proc *p, struct wire_index *ix,
                                         const struct wi_resource *res, bool *ok)
{
    const struct wi_attr *at = wi_attrs_find(&res->attrs, p->cfg->tenant_attribute,
                                             p->tenant_len, p->tenant_hash);
    if (!at || at->v.type != WI_STRING || at->v.len == 0 || at->v.data[0] == '\0')
        return NULL; /* as attr_str: a non-empty string (up to a NUL, as C reads it) */
    char *s = arena_alloc(ix->arena, at->v.len + 1);
    if (!s) {
        *ok = false;
        return NULL;
    }
    memcpy(s, at->v.data, at->v.len);
    s[at->v.len] = '\0';
    return s;
}

/* Read-only, over a possibly shared index: does any span need pricing? */
static bool index_needs_edit(const struct cost_proc *p, const struct wire_index *ix)
{
    struct span_view v;
    for (uint32_t i = 0; i < ix->n_items; i++) {
        struct wi_item *it = &ix->items[i];
        if (it->flags & WI_ITEM_DROPPED)
            continue;
        view_index(&v, p, (struct wire_index *)ix, it);
        bool need = view_needs_edit(&v);
        view_done(&v);
        if (need)
            return true;
    }
    return false;
}

static bool index_price(struct cost_proc *p, const struct pricing_snapshot *snap,
                        struct wire_index *ix, struct batch_stats *st)
{
    bool ok = true;
    struct span_view v;
    for (uint32_t r = 0; r < ix->n_resources; r++) {
        const struct wi_resource *res = &ix->resources[r];
        const char *res_tenant = index_resource_tenant(p, ix, res, &ok);
        for (uint32_t s = res->first_scope; s < res->first_scope + res->n_scopes; s++) {
            const struct wi_scope *sc = &ix->scopes[s];
            for (uint32_t k = sc->first_item; k < sc->first_item + sc->n_items; k++) {
                struct wi_item *it = &ix->items[k];
                if (it->flags & WI_ITEM_DROPPED)
                    continue;
                view_index(&v, p, ix, it);
                if (!cost_view(p, snap, &v, res_tenant, st))
                    ok = false;
                view_done(&v);
            }
        }
    }
    return ok;
}

static bool request_needs_edit(const struct cost_proc *p, const trace_request *req)
{
    struct span_view v;
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[i];
        for (size_t j = 0; rs && j < rs->n_scope_spans; j++) {
            const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[j];
            for (size_t k = 0; ss && k < ss->n_spans; k++) {
                if (!ss->spans[k])
                    continue;
                view_structs(&v, p, ss->spans[k], NULL);
                if (view_needs_edit(&v))
                    return true;
            }
        }
    }
    return false;
}

static bool request_price(struct cost_proc *p, const struct pricing_snapshot *snap,
                          trace_request *req, struct arena *a, struct batch_stats *st)
{
    bool ok = true;
    struct span_view v;
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[i];
        if (!rs)
            continue;
        const char *res_tenant = resource_tenant(p, rs->resource);
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[j];
            for (size_t k = 0; ss && k < ss->n_spans; k++) {
                if (!ss->spans[k])
                    continue;
                view_structs(&v, p, ss->spans[k], a);
                if (!cost_view(p, snap, &v, res_tenant, st))
                    ok = false;
            }
        }
    }
    return ok;
}

/* The face a batch is priced on. The index wherever there are wire bytes (or an index an earlier
 * processor built and may have edited); the structs when the batch arrives decoded only, where
 * encoding it just to index it would cost more than editing the structs. NONE: the bytes name
 * neither "token" nor "cost", which every token-count and cost attribute name contains, so no
 * span can be priced (b->wire are the bytes that arrived: edits of an earlier processor live in
 * the index, which is why an existing index is always read). Only looks, never builds. */
enum face { FACE_NONE, FACE_INDEX, FACE_STRUCTS };

static enum face face_of(struct batch *b)
{
    enum face f;
    pthread_mutex_lock(&b->lock);
    if (b->index)
        f = FACE_INDEX;
    else if (b->has_wire)
        f = memmem(b->wire, b->wire_len, "token", 5) || memmem(b->wire, b->wire_len, "cost", 4)
                ? FACE_INDEX
                : FACE_NONE;
    else
        f = FACE_STRUCTS;
    pthread_mutex_unlock(&b->lock);
    return f;
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
    enum face face = b->signal == SIGNAL_TRACES ? face_of(b) : FACE_NONE;
    if (face == FACE_NONE)
        return consumer_send(p->next, b);
    struct error err = {0};
    if (face == FACE_INDEX) {
        const struct wire_index *ro = batch_index(b, p->interest, &err);
        if (!ro) {
            log_warn(p->log_name, "cannot index a request, forwarding it unpriced: %s", err.msg);
            return consumer_send(p->next, b);
        }
        if (!index_needs_edit(p, ro))
            return consumer_send(p->next, b);
    } else {
        const trace_request *ro = (const trace_request *)batch_decoded(b, &err);
        if (!ro) {
            log_warn(p->log_name, "cannot decode a request, forwarding it unpriced: %s", err.msg);
            return consumer_send(p->next, b);
        }
        if (!request_needs_edit(p, ro))
            return consumer_send(p->next, b);
    }

    struct batch *out = NULL;
    struct wire_index *ix = NULL;
    trace_request *req = NULL;
    if (face == FACE_INDEX)
        ix = batch_index_edit(b, p->interest, &out, &err);
    else
        req = (trace_request *)batch_edit(b, &out, &err);
    if (!ix && !req) {
        log_error(p->log_name, "cannot open a request for editing, forwarding it unpriced: %s",
                  err.msg);
        return consumer_send(p->next, b);
    }
    struct batch_stats st;
    memset(&st, 0, sizeof st);
    const struct pricing_snapshot *snap = pricing_acquire(p->store); /* one price list per batch */
    bool ok = ix ? index_price(p, snap, ix, &st) : request_price(p, snap, req, out->arena, &st);
    pricing_release(snap);
    if (!ok)
        log_error(p->log_name, "out of memory: some spans of a request were left unpriced");
    if (ix)
        batch_index_edit_done(out);
    else
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
    p->tenant_len = strlen(cfg->tenant_attribute);
    p->tenant_hash = wi_hash(cfg->tenant_attribute, p->tenant_len);
    /* Every key read or written, so that the span index records them (writing a key it does not
     * record would append a duplicate). */
    p->interest = env->interest;
    for (size_t i = 0; env->interest && i <= NNAMES; i++)
        if (wire_interest_add_key(env->interest,
                                  i < NNAMES ? names[i].name : cfg->tenant_attribute) != 0) {
            error_set(err, "out of memory");
            cost_destroy(p);
            return NULL;
        }

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
