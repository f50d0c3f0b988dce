/* genai_semconv.c — the `genai_semconv` processor: normalizes LLM spans and GenAI log records to
 * the GenAI semantic conventions (rows of mapping.c), derives gen_ai.provider.name from
 * server.address and error.type from an ERROR status, optionally renames spans, and enforces the
 * required attributes (annotate, drop, or count only).
 *
 * The one idea: look first, edit only when needed. Each request is walked twice by the same
 * code: a dry run over the read-only decoded face stops at the first span that would change; only
 * then is the batch taken for editing (batch_edit) and walked again for real. A batch with no LLM
 * span, or with LLM spans already conforming, leaves as the bytes that arrived, never re-encoded.
 * Telling an LLM span from another costs a scope name compare and a scan of attribute keys whose
 * first bytes rule out almost every non-GenAI name before any hash lookup.
 *
 * "When known" for gen_ai.request.model: the model is required on inference operations (chat,
 * text_completion, generate_content, embeddings) and when the operation itself is missing (a
 * span known to be an LLM call but not what kind is most likely an inference call); it is not
 * required on other operations (execute_tool, invoke_agent, retrieval, ...). Other required
 * attributes are required on every LLM span. A present attribute with an empty string value
 * counts as missing.
 *
 * error.type on an ERROR span without one: the status message when it is a short identifier
 * (≤ 64 characters of [A-Za-z0-9_.:-], e.g. "RateLimitError"), else http.response.status_code,
 * else the exception.type of an exception event, else "_OTHER" (semconv's fallback): a free-text
 * message would make error.type high-cardinality. */
#include "processors/genai_semconv/genai_semconv.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "core/wire.h"
#include "core/wire_index.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__ArrayValue ArrayValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE
#define STATUS_ERROR OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR

#define PREFIX "llmotlp_genai_semconv_"
#define A_PROVIDER "gen_ai.provider.name"
#define A_OPERATION "gen_ai.operation.name"
#define A_MODEL "gen_ai.request.model"
#define A_INPUT_MESSAGES "gen_ai.input.messages"
#define A_OUTPUT_MESSAGES "gen_ai.output.messages"
#define A_SYSTEM_INSTRUCTIONS "gen_ai.system_instructions"
#define A_FINISH_REASONS "gen_ai.response.finish_reasons"

/* Where rebuilt messages come from, for the counters' source label. */
enum { GS_MSG_SRC_OPENINFERENCE, GS_MSG_SRC_OPENLLMETRY, GS_MSG_SRC_EVENTS, GS_MSG_SOURCES };
static const char *const msg_source_names[GS_MSG_SOURCES] = {"openinference", "openllmetry",
                                                             "events"};

/* ---- config ---------------------------------------------------------------------------------- */

static const char *const target_choices[] = {"v1.41", "latest", NULL};
static const char *const violation_choices[] = {"annotate", "drop", "pass", NULL};

#define OFF(f) offsetof(struct genai_semconv_config, f)
static const struct config_field gs_fields[] = {
    {.name = "llm_scopes", .type = CFG_STRING_LIST, .offset = OFF(llm_scopes),
     .def = "[LLMProxy.LLM]",
     .doc = "instrumentation scope names whose spans are all LLM spans"},
    {.name = "target", .type = CFG_ENUM, .offset = OFF(target), .def = "v1.41",
     .choices = target_choices,
     .doc = "v1.41 (last release in semantic-conventions) or latest (GenAI repository names)"},
    {.name = "keep_original", .type = CFG_BOOL, .offset = OFF(keep_original), .def = "false",
     .doc = "keep each legacy attribute beside its current name"},
    {.name = "rename_spans", .type = CFG_BOOL, .offset = OFF(rename_spans), .def = "false",
     .doc = "rename LLM spans to \"{gen_ai.operation.name} {gen_ai.request.model}\""},
    {.name = "on_violation", .type = CFG_ENUM, .offset = OFF(on_violation), .def = "annotate",
     .choices = violation_choices,
     .doc = "missing required attributes: annotate (llmotlp.semconv.violations), drop the span, "
            "or pass (count only)"},
    {.name = "required_attributes", .type = CFG_STRING_LIST, .offset = OFF(required_attributes),
     .def = "[gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model]",
     .doc = "required on LLM spans; gen_ai.request.model only for inference operations"},
    {.name = "custom_mappings", .type = CFG_RAW, .offset = OFF(custom_mappings),
     .doc = "{from: to} renames of your own attribute names, applied before the built-in rows "
            "with their rules (keep_original; a target already present wins)"},
    {.name = NULL},
};
#undef OFF

static int where_error(struct error *err, const struct cnode *at, const char *fmt, const char *a)
{
    char pos[300];
    char msg[400];
    snprintf(msg, sizeof msg, fmt, a);
    return error_set(err, "%s: %s", cnode_where(at, pos, sizeof pos), msg);
}

/* The compiled custom_mappings: strings copied out of the config tree. */
struct gs_custom {
    size_t n;
    struct gs_rename *renames;
};

static void custom_free(struct gs_custom *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->renames[i].from);
        free((char *)c->renames[i].to);
    }
    free(c->renames);
    c->n = 0;
    c->renames = NULL;
}

/* Checks custom_mappings (a map of non-empty names, no name mapped to itself; YAML itself refuses
 * a key written twice) and, with out != NULL, copies it. Errors carry the entry's position. */
static int custom_compile(const struct cnode *node, struct gs_custom *out, struct error *err)
{
    if (!node || node->kind == CNODE_NULL)
        return 0;
    if (node->kind != CNODE_MAP)
        return where_error(err, node, "custom_mappings: expected a map of source attribute to "
                           "target attribute%s", "");
    if (out && node->n && !(out->renames = calloc(node->n, sizeof *out->renames)))
        return error_set(err, "out of memory");
    for (size_t i = 0; i < node->n; i++) {
        const struct cnode *k = node->keys[i], *v = node->items[i];
        const char *from = k && k->value ? k->value : "";
        if (!from[0])
            return where_error(err, k ? k : node, "custom_mappings: empty source attribute "
                               "name%s", "");
        if (!v || v->kind != CNODE_SCALAR || !v->value || !v->value[0])
            return where_error(err, v && v->kind != CNODE_NULL ? v : k,
                               "custom_mappings.%s: the target must be a non-empty attribute "
                               "name", from);
        if (strcmp(from, v->value) == 0)
            return where_error(err, v, "custom_mappings.%s: the target is the source itself",
                               from);
        for (size_t j = 0; j < i; j++)
            if (strcmp(node->keys[j]->value, from) == 0)
                return where_error(err, k, "custom_mappings: duplicate source \"%s\"", from);
        if (out) {
            out->renames[i].from = strdup(from);
            out->renames[i].to = strdup(v->value);
            out->n = i + 1;
            if (!out->renames[i].from || !out->renames[i].to)
                return error_set(err, "out of memory");
        }
    }
    return 0;
}

static int gs_validate(const void *cfgp, struct error *err)
{
    const struct genai_semconv_config *cfg = cfgp;
    if (custom_compile(cfg->custom_mappings, NULL, err) != 0)
        return -1;
    if (cfg->required_attributes.n > GS_MAX_REQUIRED)
        return error_set(err, "required_attributes: at most %d names, got %zu", GS_MAX_REQUIRED,
                         cfg->required_attributes.n);
    for (size_t i = 0; i < cfg->required_attributes.n; i++)
        if (!cfg->required_attributes.items[i][0])
            return error_set(err, "required_attributes[%zu]: empty name", i);
    return 0;
}

/* ---- the processor --------------------------------------------------------------------------- */

struct gs_proc {
    const struct genai_semconv_config *cfg;
    char *log_name;
    enum signal signal;
    struct consumer *next;
    enum gs_target target;
    size_t n_req;
    const char *req[GS_MAX_REQUIRED];
    bool req_when_known[GS_MAX_REQUIRED];
    _Atomic uint64_t *violations[GS_MAX_REQUIRED];
    _Atomic uint64_t *seen, *normalized, *renamed, *derived, *span_renames, *dropped;
    _Atomic uint64_t *unconvertible, *logs_seen, *logs_normalized;
    _Atomic uint64_t *msg_rebuilt[GS_MSG_SOURCES], *msg_unparsed[GS_MSG_SOURCES];
    _Atomic uint64_t *custom_renamed;
    struct gs_custom custom;             /* custom_mappings, applied by gs_source_apply */
    const struct wire_interest *interest; /* the service's (NULL: every attribute) */
    struct gs_source_rules custom_rules;
    struct fast *fast;                   /* the index's fast path (NULL: the view only) */
};
struct fast;
static void fast_free(struct fast *f);
static struct fast *fast_new(const struct gs_proc *p);

/* What one walk over a request found or did; committed to the counters once per request. */
struct tally {
    uint64_t seen, normalized, renamed, derived, span_renames, dropped, unconvertible;
    uint64_t logs_seen, logs_normalized, custom_renamed;
    uint64_t msg_rebuilt[GS_MSG_SOURCES], msg_unparsed[GS_MSG_SOURCES];
    uint64_t violations[GS_MAX_REQUIRED];
    uint32_t missing_union; /* bit per required attribute, for the reject message */
};

static void tally_commit(struct gs_proc *p, const struct tally *t)
{
    telemetry_add(p->seen, t->seen);
    telemetry_add(p->normalized, t->normalized);
    telemetry_add(p->renamed, t->renamed);
    telemetry_add(p->derived, t->derived);
    telemetry_add(p->span_renames, t->span_renames);
    telemetry_add(p->dropped, t->dropped);
    telemetry_add(p->unconvertible, t->unconvertible);
    telemetry_add(p->logs_seen, t->logs_seen);
    telemetry_add(p->logs_normalized, t->logs_normalized);
    telemetry_add(p->custom_renamed, t->custom_renamed);
    for (size_t i = 0; i < p->n_req; i++)
        telemetry_add(p->violations[i], t->violations[i]);
    for (int i = 0; i < GS_MSG_SOURCES; i++) {
        telemetry_add(p->msg_rebuilt[i], t->msg_rebuilt[i]);
        telemetry_add(p->msg_unparsed[i], t->msg_unparsed[i]);
    }
}

/* ---- values ---------------------------------------------------------------------------------- */

static AnyValue *value_new(struct arena *a, int value_case)
{
    AnyValue *v = arena_alloc(a, sizeof *v);
    if (v) {
        opentelemetry__proto__common__v1__any_value__init(v);
        v->value_case = value_case;
    }
    return v;
}

static KeyValue *kv_new(struct arena *a, const char *key, AnyValue *v)
{
    KeyValue *kv = arena_alloc(a, sizeof *kv);
    if (kv) {
        opentelemetry__proto__common__v1__key_value__init(kv);
        kv->key = (char *)key;
        kv->value = v;
    }
    return kv;
}

static bool parse_int(const char *s, int64_t *out)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return false;
    long long v = strtoll(s, &end, 10);
    if (end != s && (*end == '\0' || isspace((unsigned char)*end))) {
        while (isspace((unsigned char)*end))
            end++;
        if (!*end) {
            *out = v;
            return true;
        }
    }
    /* "42.0": an integral number written as a double */
    double d = strtod(s, &end);
    while (isspace((unsigned char)*end))
        end++;
    if (end == s || *end || !isfinite(d) || d != floor(d) || fabs(d) > 9.0e15)
        return false;
    *out = (int64_t)d;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return false;
    double d = strtod(s, &end);
    while (isspace((unsigned char)*end))
        end++;
    if (end == s || *end || !isfinite(d))
        return false;
    *out = d;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "y", "on"};
    static const char *const no[] = {"false", "0", "no", "n", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, true;
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

static void put_utf8(char *out, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* Parses a JSON array of strings ('["stop","length"]'; single quotes too, as a Python repr
 * would write). Returns the element count, or -1 if s is not such an array. With a != NULL,
 * *items receives the unescaped strings in the arena. */
static long parse_string_array(const char *s, struct arena *a, char ***items)
{
    size_t len = strlen(s), count = 0;
    char **out = NULL;
    char *buf = NULL;
    size_t used = 0;
    if (a) {
        /* Upper bounds: elements ≤ len/2 + 1, text ≤ len (escapes only shrink, \uXXXX → ≤ 3). */
        out = arena_alloc(a, (len / 2 + 1) * sizeof *out);
        buf = arena_alloc(a, len + 1);
        if (!out || !buf)
            return -1;
    }
    const char *c = s;
    while (isspace((unsigned char)*c))
        c++;
    if (*c++ != '[')
        return -1;
    while (isspace((unsigned char)*c))
        c++;
    if (*c == ']')
        goto end;
    for (;;) {
        char q = *c++;
        if (q != '"' && q != '\'')
            return -1;
        size_t start = used;
        while (*c && *c != q) {
            unsigned ch = (unsigned char)*c++;
            if (ch == '\\') {
                char e = *c++;
                switch (e) {
                case '"': case '\'': case '\\': case '/': ch = (unsigned char)e; break;
                case 'n': ch = '\n'; break;
                case 't': ch = '\t'; break;
                case 'r': ch = '\r'; break;
                case 'b': ch = '\b'; break;
                case 'f': ch = '\f'; break;
                case 'u': {
                    unsigned cp = 0;
                    for (int k = 0; k < 4; k++) {
                        int h = *c;
                        if (!isxdigit(h))
                            return -1;
                        cp = cp * 16 + (unsigned)(isdigit(h) ? h - '0' : (tolower(h) - 'a' + 10));
                        c++;
                    }
                    if (cp >= 0xD800 && cp <= 0xDFFF)
                        cp = 0xFFFD; /* surrogate halves: not worth pairing for reason names */
                    if (buf)
                        put_utf8(buf, &used, cp);
                    continue;
                }
                default: return -1;
                }
            }
            if (buf)
                buf[used++] = (char)ch;
        }
        if (*c++ != q)
            return -1;
        if (buf) {
            buf[used++] = '\0';
            out[count] = buf + start;
        }
        count++;
        while (isspace((unsigned char)*c))
            c++;
        if (*c == ',') {
            c++;
            while (isspace((unsigned char)*c))
                c++;
            continue;
        }
        if (*c == ']')
            break;
        return -1;
    }
end:
    c++;
    while (isspace((unsigned char)*c))
        c++;
    if (*c)
        return -1;
    if (items)
        *items = out;
    return (long)count;
}

static AnyValue *string_array_value(struct arena *a, char **items, size_t n)
{
    AnyValue *v = value_new(a, V_ARRAY);
    ArrayValue *arr = arena_alloc(a, sizeof *arr);
    AnyValue **vals = arena_alloc(a, (n ? n : 1) * sizeof *vals);
    if (!v || !arr || !vals)
        return NULL;
    opentelemetry__proto__common__v1__array_value__init(arr);
    for (size_t i = 0; i < n; i++) {
        if (!(vals[i] = value_new(a, V_STRING)))
            return NULL;
        vals[i]->string_value = items[i];
    }
    arr->n_values = n;
    arr->values = vals;
    v->array_value = arr;
    return v;
}

/* Converts `in` by the row's transform. Returns -1 when it cannot be converted, 0 when it is
 * already in the target form (*out = in), 1 when it changes; with a == NULL (dry run) *out is
 * left alone. */
static int convert(const struct gs_mapping *m, AnyValue *in, struct arena *a, AnyValue **out)
{
    if (m->xform == GS_X_NONE) {
        if (a)
            *out = in;
        return 0;
    }
    if (!in)
        return -1;
    int vc = in->value_case;
    const char *s = vc == V_STRING ? in->string_value : NULL;
    AnyValue *v = NULL;
    switch (m->xform) {
    case GS_X_NONE:
        break;
    case GS_X_STRING: {
        if (!s)
            return -1;
        const char *to = m->values ? gs_value_lookup(m->values, s) : s;
        if (!to)
            to = m->values->strict ? NULL : s;
        if (!to)
            return -1;
        if (strcmp(to, s) == 0) {
            if (a)
                *out = in;
            return 0;
        }
        if (a) {
            if (!(v = value_new(a, V_STRING)))
                return -1;
            v->string_value = (char *)to;
        }
        break;
    }
    case GS_X_INT: {
        int64_t i;
        if (vc == V_INT) {
            if (a)
                *out = in;
            return 0;
        }
        if (vc == V_DOUBLE) {
            double d = in->double_value;
            if (!isfinite(d) || d != floor(d) || fabs(d) > 9.0e15)
                return -1;
            i = (int64_t)d;
        } else if (!s || !parse_int(s, &i)) {
            return -1;
        }
        if (a) {
            if (!(v = value_new(a, V_INT)))
                return -1;
            v->int_value = i;
        }
        break;
    }
    case GS_X_DOUBLE:
    case GS_X_MS_TO_S: {
        double d;
        if (vc == V_DOUBLE && m->xform == GS_X_DOUBLE) {
            if (a)
                *out = in;
            return 0;
        }
        if (vc == V_DOUBLE)
            d = in->double_value;
        else if (vc == V_INT)
            d = (double)in->int_value;
        else if (!s || !parse_double(s, &d))
            return -1;
        if (m->xform == GS_X_MS_TO_S)
            d /= 1000.0;
        if (a) {
            if (!(v = value_new(a, V_DOUBLE)))
                return -1;
            v->double_value = d;
        }
        break;
    }
    case GS_X_BOOL: {
        bool b;
        if (vc == V_BOOL) {
            if (a)
                *out = in;
            return 0;
        }
        if (vc == V_INT && (in->int_value == 0 || in->int_value == 1))
            b = in->int_value == 1;
        else if (!s || !parse_bool(s, &b))
            return -1;
        if (a) {
            if (!(v = value_new(a, V_BOOL)))
                return -1;
            v->bool_value = b;
        }
        break;
    }
    case GS_X_STRING_ARRAY: {
        if (vc == V_ARRAY) {
            if (a)
                *out = in;
            return 0;
        }
        if (!s || !*s)
            return -1;
        const char *c = s;
        while (isspace((unsigned char)*c))
            c++;
        if (*c == '[') {
            char **items = NULL;
            long n = parse_string_array(s, a, &items);
            if (n < 0)
                return -1;
            if (a && !(v = string_array_value(a, items, (size_t)n)))
                return -1;
        } else if (a) {
            char *one = in->string_value;
            if (!(v = string_array_value(a, &one, 1)))
                return -1;
        }
        break;
    }
    }
    if (a)
        *out = v;
    return 1;
}

static bool llm_attrs(KeyValue *const *kv, size_t n);

/* ---- custom_mappings ------------------------------------------------------------------------- */

static bool custom_known(const struct gs_proc *p, const char *key)
{
    for (size_t i = 0; i < p->custom.n; i++)
        if (strcmp(p->custom.renames[i].from, key) == 0)
            return true;
    return false;
}

/* A custom name is a sign of an LLM span, as a built-in legacy name is: the user listed it as a
 * name of their own GenAI instrumentation. */
static bool is_llm(const struct gs_proc *p, KeyValue *const *kv, size_t n)
{
    if (llm_attrs(kv, n))
        return true;
    for (size_t i = 0; p->custom.n && i < n; i++)
        if (kv[i] && kv[i]->key && custom_known(p, kv[i]->key))
            return true;
    return false;
}

/* Applies custom_mappings to one attribute array (before the built-in rows). Returns the number
 * of changes (1 at most in a dry run); on an arena out of memory, none and the array as it was. */
static size_t apply_custom(const struct gs_proc *p, struct arena *a, KeyValue ***kv, size_t *n,
                           struct tally *t)
{
    if (!p->custom.n)
        return 0;
    int rc = gs_source_apply(&p->custom_rules, a, kv, n);
    if (rc <= 0)
        return 0;
    t->renamed += (uint64_t)rc;
    t->custom_renamed += (uint64_t)rc;
    return (size_t)rc;
}

/* ---- attribute edits ------------------------------------------------------------------------- */

/* The attributes of one span or log record. A dry run (a == NULL) reads the original array; a
 * real edit works on a copy in the arena with room to append, and marks removals. */
struct edit {
    struct arena *a;
    KeyValue **kv;
    size_t n, cap;
    bool *gone;
    int *made_by;   /* row index that produced the attribute; -1: it was on the span */
};

static int edit_begin(struct edit *e, struct arena *a, KeyValue **kv, size_t n)
{
    e->a = a;
    e->n = n;
    if (!a) {
        e->kv = kv;
        e->cap = n;
        e->gone = NULL;
        e->made_by = NULL;
        return 0;
    }
    /* custom_mappings and keep_original may each add one per attribute; + provider, error.type,
     * violations, and the three rebuilt message attributes */
    e->cap = 3 * n + 8;
    e->kv = arena_alloc(a, e->cap * sizeof *e->kv);
    e->gone = arena_alloc(a, e->cap * sizeof *e->gone);
    e->made_by = arena_alloc(a, e->cap * sizeof *e->made_by);
    if (!e->kv || !e->gone || !e->made_by)
        return -1;
    if (n)
        memcpy(e->kv, kv, n * sizeof *kv);
    memset(e->gone, 0, e->cap * sizeof *e->gone);
    for (size_t i = 0; i < e->cap; i++)
        e->made_by[i] = -1;
    return 0;
}

static bool edit_gone(const struct edit *e, size_t i)
{
    return e->gone && e->gone[i];
}

static long edit_find(const struct edit *e, const char *key)
{
    for (size_t i = 0; i < e->n; i++)
        if (!edit_gone(e, i) && e->kv[i] && e->kv[i]->key && strcmp(e->kv[i]->key, key) == 0)
            return (long)i;
    return -1;
}

/* The attribute's string value when it is a non-empty string, else NULL. */
static const char *edit_string(const struct edit *e, const char *key)
{
    long i = edit_find(e, key);
    if (i < 0 || !e->kv[i]->value || e->kv[i]->value->value_case != V_STRING)
        return NULL;
    const char *s = e->kv[i]->value->string_value;
    return s && *s ? s : NULL;
}

static bool edit_present(const struct edit *e, const char *key)
{
    long i = edit_find(e, key);
    if (i < 0 || !e->kv[i]->value)
        return false;
    const AnyValue *v = e->kv[i]->value;
    if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET)
        return false;
    return v->value_case != V_STRING || (v->string_value && *v->string_value);
}

static int edit_append(struct edit *e, const char *key, AnyValue *v, int made_by)
{
    if (e->n >= e->cap || !v)
        return -1;
    KeyValue *kv = kv_new(e->a, key, v);
    if (!kv)
        return -1;
    e->made_by[e->n] = made_by;
    e->kv[e->n++] = kv;
    return 0;
}

static void edit_finish(struct edit *e, KeyValue ***attrs, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < e->n; i++)
        if (!e->gone[i])
            e->kv[k++] = e->kv[i];
    *attrs = e->kv;
    *n = k;
}

/* Applies the mapping rows to the attributes present on entry. Returns the number of changes
 * (renames, removals of a legacy name that lost to a current one, retyped values). A dry run
 * returns at the first change. */
static size_t map_attrs(const struct gs_proc *p, struct edit *e, unsigned signal_bit,
                        struct tally *t)
{
    size_t changes = 0, n0 = e->n;
    bool keep = p->cfg->keep_original;
    for (size_t i = 0; i < n0; i++) {
        KeyValue *kv = e->kv[i];
        if (!kv || !kv->key || edit_gone(e, i))
            continue;
        if (p->custom.n && custom_known(p, kv->key))
            continue; /* kept by keep_original: its custom mapping replaces a built-in row */
        const struct gs_mapping *m = gs_mapping_find(p->target, kv->key);
        if (!m || !(m->signals & signal_bit))
            continue;
        AnyValue *nv = NULL;
        int rc = convert(m, kv->value, e->a, &nv);
        if (rc < 0) {
            t->unconvertible++;
            continue;
        }
        if (m->from == m->to || strcmp(m->from, m->to) == 0) {
            if (rc == 0)
                continue;
            changes++;
            t->renamed++;
            if (!e->a)
                return changes;
            kv->value = nv;
            continue;
        }
        int idx = (int)gs_mapping_index(m);
        long j = edit_find(e, m->to);
        if (j >= 0) {
            /* The current name wins; a legacy name of higher precedence beats a lower one. */
            bool replace = e->made_by && e->made_by[j] > idx;
            if (replace) {
                e->kv[j]->value = nv;
                e->made_by[j] = idx;
            }
            if (keep && !replace)
                continue;
            changes++;
            t->renamed++;
            if (!e->a)
                return changes;
            if (!keep)
                e->gone[i] = true;
            continue;
        }
        changes++;
        t->renamed++;
        if (!e->a)
            return changes;
        if (keep) {
            if (edit_append(e, m->to, nv, idx) != 0)
                changes--;
        } else {
            kv->key = (char *)m->to;
            kv->value = nv;
            e->made_by[i] = idx;
        }
    }
    return changes;
}

/* ---- messages rebuilt (messages.c) ---------------------------------------------------------- */

static const char *const family_starts[] = {"llm.input_messages.", "llm.output_messages.",
                                            "gen_ai.prompt.", "gen_ai.completion."};

/* Whether any attribute could belong to a flattened message family (cheap: prefixes only). */
static bool has_message_keys(KeyValue *const *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *k = kv[i] ? kv[i]->key : NULL;
        if (!k || (k[0] != 'l' && k[0] != 'g'))
            continue;
        for (size_t f = 0; f < sizeof family_starts / sizeof family_starts[0]; f++)
            if (strncmp(k, family_starts[f], strlen(family_starts[f])) == 0)
                return true;
    }
    return false;
}

static bool has_message_events(Opentelemetry__Proto__Trace__V1__Span__Event *const *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ev[i] && gs_msg_event_kind(ev[i]->name) >= 0)
            return true;
    return false;
}

static AnyValue *string_value(struct arena *a, char *s)
{
    AnyValue *v = value_new(a, V_STRING);
    if (v)
        v->string_value = s;
    return v;
}

/* Writes the rebuilt JSON of one family (a current attribute already there wins). Returns the
 * number of changes. */
static size_t put_messages(const struct gs_proc *p, struct edit *e, bool output,
                           const struct gs_msg_out *o)
{
    size_t changes = 0;
    const char *target = output ? A_OUTPUT_MESSAGES : A_INPUT_MESSAGES;
    if (o->messages && !edit_present(e, target) &&
        edit_append(e, target, string_value(e->a, o->messages), -1) == 0)
        changes++;
    if (o->system && !edit_present(e, A_SYSTEM_INSTRUCTIONS) &&
        edit_append(e, A_SYSTEM_INSTRUCTIONS, string_value(e->a, o->system), -1) == 0)
        changes++;
    (void)p;
    return changes;
}

/* Rebuilds the flattened message families of a span or log record. Dry run (e->a == NULL): uses
 * `scratch` to find out, returns at the first change. */
static size_t rebuild_flat(const struct gs_proc *p, struct edit *e, struct arena *scratch,
                           struct tally *t)
{
    size_t changes = 0;
    if (!has_message_keys(e->kv, e->n))
        return 0;
    struct arena *a = e->a ? e->a : scratch;
    if (!a)
        return 0;
    bool *used = arena_alloc(a, (e->n ? e->n : 1) * sizeof *used);
    if (!used)
        return 0;
    long rj = edit_find(e, A_FINISH_REASONS);
    const AnyValue *reasons = rj >= 0 ? e->kv[rj]->value : NULL;
    for (int f = 0; f < GS_MSG_FAMILY_COUNT; f++) {
        int src = f <= GS_MSG_OI_OUTPUT ? GS_MSG_SRC_OPENINFERENCE : GS_MSG_SRC_OPENLLMETRY;
        memset(used, 0, (e->n ? e->n : 1) * sizeof *used);
        struct gs_msg_out o = {0};
        size_t n0 = e->n;
        int rc = gs_msg_rebuild_flat((enum gs_msg_family)f, GS_MSG_SEMCONV, e->kv, n0, e->gone,
                                     used, reasons, a, &o);
        if (rc == -1)
            t->msg_unparsed[src]++;
        if (rc != 1)
            continue;
        if (!e->a)
            return 1; /* something is written, or the flattened form removed */
        t->msg_rebuilt[src]++;
        changes += put_messages(p, e, gs_msg_family_is_output((enum gs_msg_family)f), &o);
        if (p->cfg->keep_original)
            continue;
        for (size_t i = 0; i < n0; i++)
            if (used[i]) {
                e->gone[i] = true;
                changes++;
            }
    }
    return changes;
}

/* Rebuilds the deprecated per-message events of a span into its attributes and removes them
 * (unless keep_original). */
static size_t rebuild_events(const struct gs_proc *p, Span *sp, struct edit *e,
                             struct arena *scratch, struct tally *t)
{
    if (!has_message_events(sp->events, sp->n_events))
        return 0;
    struct arena *a = e->a ? e->a : scratch;
    if (!a)
        return 0;
    bool *used = arena_alloc(a, sp->n_events * sizeof *used);
    if (!used)
        return 0;
    memset(used, 0, sp->n_events * sizeof *used);
    long rj = edit_find(e, A_FINISH_REASONS);
    struct gs_msg_out in = {0}, out = {0};
    int rc = gs_msg_rebuild_events(sp->events, sp->n_events, rj >= 0 ? e->kv[rj]->value : NULL,
                                   a, used, &in, &out);
    if (rc == -1)
        t->msg_unparsed[GS_MSG_SRC_EVENTS]++;
    if (rc != 1)
        return 0;
    if (!e->a)
        return 1;
    t->msg_rebuilt[GS_MSG_SRC_EVENTS]++;
    size_t changes = put_messages(p, e, false, &in) + put_messages(p, e, true, &out);
    if (!p->cfg->keep_original) {
        Opentelemetry__Proto__Trace__V1__Span__Event **kept =
            arena_alloc(a, sp->n_events * sizeof *kept);
        if (kept) {
            size_t k = 0;
            for (size_t i = 0; i < sp->n_events; i++)
                if (!used[i])
                    kept[k++] = sp->events[i];
            changes += sp->n_events - k;
            sp->events = kept;
            sp->n_events = k;
        }
    }
    return changes;
}

/* The renames applied to the attributes of a span's events too (events carry gen_ai.* names:
 * gen_ai.system on the deprecated events, gen_ai.provider.name on evaluation events, ...). */
static size_t map_events(const struct gs_proc *p, Span *sp, struct arena *a, struct tally *t)
{
    size_t changes = 0;
    for (size_t i = 0; i < sp->n_events; i++) {
        Opentelemetry__Proto__Trace__V1__Span__Event *ev = sp->events[i];
        if (!ev)
            continue;
        size_t cc = apply_custom(p, a, &ev->attributes, &ev->n_attributes, t);
        if (cc && !a)
            return cc;
        changes += cc;
        if (!llm_attrs(ev->attributes, ev->n_attributes))
            continue;
        struct edit e;
        if (edit_begin(&e, a, ev->attributes, ev->n_attributes) != 0)
            continue;
        size_t c = map_attrs(p, &e, GS_ON_SPANS, t);
        if (c && !a)
            return c;
        if (c)
            edit_finish(&e, &ev->attributes, &ev->n_attributes);
        changes += c;
    }
    return changes;
}

/* ---- the gen_ai_normalizer's rename pass ----------------------------------------------------- */

/* Go's strconv.ParseInt(s, 10, 64): an optional sign and decimal digits, nothing else. */
static bool go_parse_int(const char *s, int64_t *out)
{
    const char *d = s + (*s == '+' || *s == '-');
    if (!*d)
        return false;
    for (const char *c = d; *c; c++)
        if (!isdigit((unsigned char)*c))
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* Go's strconv.ParseFloat: the whole string, no surrounding space. */
static bool go_parse_float(const char *s, double *out)
{
    if (!*s || isspace((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || (errno == ERANGE && isinf(d)))
        return false;
    *out = d;
    return true;
}

static bool go_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0)
            return *out = true, true;
        if (strcmp(s, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

/* A double as the Collector writes it as a string (pcommon's AsString, JSON's number form): the
 * shortest digits that read back the same, positional unless below 1e-6 or from 1e21 on. */
static void go_double_string(double d, char *out, size_t len)
{
    char e[40];
    int p = 1;
    for (; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    double ad = fabs(d);
    if (ad != 0 && (ad < 1e-6 || ad >= 1e21)) {
        /* "1.5e+21", "1e-07" → "1e-7" as Go does */
        char *x = strchr(e, 'e');
        int exp = x ? atoi(x + 1) : 0;
        if (x)
            *x = '\0';
        snprintf(out, len, "%se%c%d", e, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        return;
    }
    int exp = atoi(strchr(e, 'e') + 1);
    int decimals = p - 1 - exp;
    snprintf(out, len, "%.*f", decimals > 0 ? decimals : 0, d);
}

/* Coerces `in` to `type` as the Collector's gen_ai_normalizer does: 0 and *out (possibly `in`
 * itself), or -1 when it does not coerce. */
static int coerce_collector(enum gs_xform type, AnyValue *in, struct arena *a, AnyValue **out)
{
    int vc = in ? in->value_case : 0;
    AnyValue *v;
    switch (type) {
    case GS_X_INT: {
        int64_t i;
        if (vc == V_INT)
            return *out = in, 0;
        if (vc == V_DOUBLE) {
            double d = in->double_value;
            if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) ||
                (double)(int64_t)d != d)
                return -1;
            i = (int64_t)d;
        } else if (vc != V_STRING || !go_parse_int(in->string_value, &i)) {
            return -1;
        }
        if (!(v = value_new(a, V_INT)))
            return -1;
        v->int_value = i;
        break;
    }
    case GS_X_DOUBLE:
    case GS_X_MS_TO_S: {
        double d;
        if (vc == V_DOUBLE)
            return *out = in, 0;
        if (vc == V_INT)
            d = (double)in->int_value;
        else if (vc != V_STRING || !go_parse_float(in->string_value, &d))
            return -1;
        if (!(v = value_new(a, V_DOUBLE)))
            return -1;
        v->double_value = d;
        break;
    }
    case GS_X_STRING: {
        char buf[64];
        if (vc == V_STRING)
            return *out = in, 0;
        if (vc == V_BOOL)
            snprintf(buf, sizeof buf, "%s", in->bool_value ? "true" : "false");
        else if (vc == V_INT)
            snprintf(buf, sizeof buf, "%" PRId64, in->int_value);
        else if (vc == V_DOUBLE)
            go_double_string(in->double_value, buf, sizeof buf);
        else
            return -1; /* maps, arrays, bytes are not stringified */
        if (!(v = value_new(a, V_STRING)) || !(v->string_value = arena_strdup(a, buf)))
            return -1;
        break;
    }
    case GS_X_STRING_ARRAY:
        if (vc == V_ARRAY) {
            const ArrayValue *arr = in->array_value;
            for (size_t i = 0; arr && i < arr->n_values; i++)
                if (!arr->values[i] || arr->values[i]->value_case != V_STRING)
                    return -1;
            return *out = in, 0;
        }
        if (vc != V_STRING || !(v = string_array_value(a, &in->string_value, 1)))
            return -1;
        break;
    case GS_X_BOOL: {
        bool b;
        if (vc == V_BOOL)
            return *out = in, 0;
        if (vc != V_STRING || !go_parse_bool(in->string_value, &b) || !(v = value_new(a, V_BOOL)))
            return -1;
        v->bool_value = b;
        break;
    }
    case GS_X_NONE:
    default:
        return *out = in, 0;
    }
    *out = v;
    return 0;
}

/* The value rules' replacement for a string written to `to`, or NULL. */
static const char *source_value(const struct gs_source_rules *r, const char *to, const char *s)
{
    if (r->builtin >= 0) {
        if (strcmp(to, A_OPERATION) != 0)
            return NULL;
        return gs_value_lookup(gs_source_operation_values((enum gs_source)r->builtin), s);
    }
    for (size_t i = 0; i < r->n_values; i++)
        if (strcmp(r->values[i].target, to) == 0 && strcmp(r->values[i].from, s) == 0)
            return r->values[i].to;
    return NULL;
}

static const char *source_target(const struct gs_source_rules *r, const char *key)
{
    if (r->builtin >= 0) {
        const struct gs_mapping *m = gs_source_find((enum gs_source)r->builtin, key);
        return m ? m->to : NULL;
    }
    for (size_t i = 0; i < r->n_renames; i++)
        if (strcmp(r->renames[i].from, key) == 0)
            return r->renames[i].to;
    return NULL;
}

/* gs_source_apply on an edit already begun (genai_semconv runs its custom_mappings and its own
 * rows on one edit). A dry run (e->a == NULL) coerces into `va` and stops at the first write.
 * Returns what was written, or -1 out of memory. */
static int source_apply_edit(const struct gs_source_rules *r, struct edit *e, struct arena *va)
{
    struct arena *a = e->a;
    int wrote = 0;
    size_t n0 = e->n;
    for (size_t i = 0; i < n0; i++) {
        KeyValue *kv = e->kv[i];
        if (!kv || !kv->key || edit_gone(e, i))
            continue;
        const char *to = source_target(r, kv->key);
        if (!to || !kv->value)
            continue;
        long j = edit_find(e, to);
        if (j >= 0 && !r->overwrite) {
            if (!r->remove_shadowed || !r->remove_originals)
                continue;
            wrote++;
            if (!a)
                break;
            e->gone[i] = true;
            continue;
        }
        AnyValue *nv = NULL;
        if (coerce_collector(gs_semconv_type(to), kv->value, va, &nv) != 0)
            continue;
        if (nv && nv->value_case == V_STRING && nv->string_value) {
            const char *mapped = source_value(r, to, nv->string_value);
            if (mapped && strcmp(mapped, nv->string_value) != 0) {
                AnyValue *mv = value_new(va, V_STRING);
                if (!mv)
                    continue;
                mv->string_value = (char *)mapped;
                nv = mv;
            }
        }
        wrote++;
        if (!a)
            break;
        if (j >= 0) {
            /* A new KeyValue: the original one may be shared with the request's other face. */
            KeyValue *nk = kv_new(a, e->kv[j]->key, nv);
            if (!nk)
                return -1;
            e->kv[j] = nk;
        } else if (edit_append(e, to, nv, -1) != 0) {
            return -1;
        }
        if (r->remove_originals)
            e->gone[i] = true;
    }
    /* The openinference source also rebuilds the flattened messages, after its renames. */
    for (int f = GS_MSG_OI_INPUT; r->builtin == GS_SOURCE_OPENINFERENCE && f <= GS_MSG_OI_OUTPUT &&
                                  (a || !wrote); f++) {
        const char *to = f == GS_MSG_OI_INPUT ? A_INPUT_MESSAGES : A_OUTPUT_MESSAGES;
        long j = edit_find(e, to);
        if (j >= 0 && !r->overwrite)
            continue;
        bool *used = arena_alloc(va, (e->n ? e->n : 1) * sizeof *used);
        struct gs_msg_out o = {0};
        if (!used)
            break;
        memset(used, 0, (e->n ? e->n : 1) * sizeof *used);
        size_t n0 = e->n;
        if (gs_msg_rebuild_flat((enum gs_msg_family)f, GS_MSG_COLLECTOR, e->kv, n0, e->gone, used,
                                NULL, va, &o) != 1 || !o.messages)
            continue;
        wrote++;
        if (!a)
            break;
        AnyValue *v = string_value(a, o.messages);
        KeyValue *nk = v ? kv_new(a, to, v) : NULL;
        if (!nk)
            return -1;
        if (j >= 0)
            e->kv[j] = nk;
        else if (edit_append(e, to, v, -1) != 0)
            return -1;
        if (r->remove_originals)
            for (size_t i = 0; i < n0; i++)
                if (used[i])
                    e->gone[i] = true;
    }
    return wrote;
}

/* custom_mappings on the edit of a span or log record, before the built-in rows. Returns the
 * number of changes (1 at most in a dry run). */
static size_t apply_custom_edit(const struct gs_proc *p, struct edit *e, struct tally *t)
{
    if (!p->custom.n)
        return 0;
    struct arena *scratch = e->a ? NULL : arena_new(0);
    struct arena *va = e->a ? e->a : scratch;
    int rc = va ? source_apply_edit(&p->custom_rules, e, va) : -1;
    if (scratch)
        arena_free(scratch);
    if (rc <= 0)
        return 0;
    t->renamed += (uint64_t)rc;
    t->custom_renamed += (uint64_t)rc;
    return (size_t)rc;
}

int gs_source_apply(const struct gs_source_rules *r, struct arena *a, KeyValue ***kvp, size_t *np)
{
    struct edit e;
    if (edit_begin(&e, a, *kvp, *np) != 0)
        return -1;
    /* A dry run coerces into a scratch arena: whether a value coerces is part of the answer. */
    struct arena *scratch = a ? NULL : arena_new(0);
    struct arena *va = a ? a : scratch;
    if (!va)
        return -1;
    int wrote = source_apply_edit(r, &e, va);
    if (scratch)
        arena_free(scratch);
    if (a && wrote > 0)
        edit_finish(&e, kvp, np);
    return wrote;
}

/* ---- spans ----------------------------------------------------------------------------------- */

static bool llm_attrs(KeyValue *const *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *k = kv[i] ? kv[i]->key : NULL;
        if (!k)
            continue;
        if (k[0] == 'g' && strncmp(k, "gen_ai.", 7) == 0)
            return true;
        if (gs_mapping_known(k))
            return true;
    }
    return false;
}

static bool scope_is_llm(const struct gs_proc *p, const Scope *scope)
{
    if (!scope || !scope->name || !scope->name[0])
        return false;
    const struct config_str_list *l = &p->cfg->llm_scopes;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], scope->name) == 0)
            return true;
    return false;
}

static bool is_inference_op(const char *op)
{
    static const char *const ops[] = {"chat", "text_completion", "generate_content",
                                      "embeddings"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(op, ops[i]) == 0)
            return true;
    return false;
}

/* Bit i set: required attribute i is missing. */
static uint32_t missing_required(const struct gs_proc *p, const struct edit *e)
{
    uint32_t mask = 0;
    const char *op = edit_string(e, A_OPERATION);
    for (size_t i = 0; i < p->n_req; i++) {
        if (p->req_when_known[i] && op && !is_inference_op(op))
            continue;
        if (!edit_present(e, p->req[i]))
            mask |= 1u << i;
    }
    return mask;
}

/* Whether the span already carries exactly this annotation (a second pass changes nothing). */
static bool annotated_with(const struct gs_proc *p, const struct edit *e, uint32_t missing)
{
    long j = edit_find(e, GS_VIOLATIONS_ATTR);
    if (j < 0 || !e->kv[j]->value || e->kv[j]->value->value_case != V_ARRAY ||
        !e->kv[j]->value->array_value)
        return false;
    const ArrayValue *arr = e->kv[j]->value->array_value;
    size_t k = 0;
    for (size_t i = 0; i < p->n_req; i++) {
        if (!(missing & (1u << i)))
            continue;
        if (k >= arr->n_values || !arr->values[k] || arr->values[k]->value_case != V_STRING ||
            strcmp(arr->values[k]->string_value, p->req[i]) != 0)
            return false;
        k++;
    }
    return k == arr->n_values;
}

static bool identifier_like(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= 64 || !(isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-'))
            return false;
    }
    return n > 0;
}

static const char *error_type_for(const Span *sp, struct arena *a)
{
    const char *msg = sp->status ? sp->status->message : NULL;
    if (msg && identifier_like(msg))
        return arena_strdup(a, msg);
    for (size_t i = 0; i < sp->n_attributes; i++) {
        const KeyValue *kv = sp->attributes[i];
        if (!kv || !kv->key || !kv->value || strcmp(kv->key, "http.response.status_code") != 0)
            continue;
        if (kv->value->value_case == V_INT) {
            char buf[24];
            snprintf(buf, sizeof buf, "%" PRId64, kv->value->int_value);
            return arena_strdup(a, buf);
        }
        if (kv->value->value_case == V_STRING && identifier_like(kv->value->string_value))
            return arena_strdup(a, kv->value->string_value);
    }
    for (size_t i = 0; i < sp->n_events; i++) {
        const Opentelemetry__Proto__Trace__V1__Span__Event *ev = sp->events[i];
        if (!ev || !ev->name || strcmp(ev->name, "exception") != 0)
            continue;
        for (size_t j = 0; j < ev->n_attributes; j++) {
            const KeyValue *kv = ev->attributes[j];
            if (kv && kv->key && kv->value && strcmp(kv->key, "exception.type") == 0 &&
                kv->value->value_case == V_STRING && kv->value->string_value &&
                kv->value->string_value[0])
                return arena_strdup(a, kv->value->string_value);
        }
    }
    return "_OTHER";
}

/* Whether name == op, or op + " " + model when there is a model. */
static bool name_is(const char *name, const char *op, const char *model)
{
    size_t ol = strlen(op);
    if (!name || strncmp(name, op, ol) != 0)
        return false;
    if (!model)
        return name[ol] == '\0';
    return name[ol] == ' ' && strcmp(name + ol + 1, model) == 0;
}

struct span_out {
    bool changed;
    bool dropped;
};

/* Normalizes one LLM span. With a == NULL, only tells whether anything would change (and
 * tallies violations, which matter when nothing changes). */
static struct span_out process_span(const struct gs_proc *p, Span *sp, struct arena *a,
                                    struct tally *t, struct edit *keep)
{
    struct span_out o = {0};
    struct edit e;
    if (edit_begin(&e, a, sp->attributes, sp->n_attributes) != 0) {
        t->unconvertible++;
        return o; /* out of memory: the span goes on as it came */
    }
    size_t changes = apply_custom_edit(p, &e, t);
    if (changes && !a)
        return (struct span_out){.changed = true};
    changes += map_attrs(p, &e, GS_ON_SPANS, t);
    if (changes && !a)
        return (struct span_out){.changed = true};

    /* A dry run rebuilds into a scratch arena: whether the messages parse is part of the
     * answer. */
    struct arena *scratch = NULL;
    if (!a && (has_message_keys(e.kv, e.n) || has_message_events(sp->events, sp->n_events)))
        scratch = arena_new(0);
    changes += rebuild_flat(p, &e, scratch, t);
    if (!(changes && !a))
        changes += rebuild_events(p, sp, &e, scratch, t);
    if (scratch)
        arena_free(scratch);
    if (changes && !a)
        return (struct span_out){.changed = true};
    changes += map_events(p, sp, a, t);
    if (changes && !a)
        return (struct span_out){.changed = true};

    if (!edit_present(&e, A_PROVIDER)) {
        const char *prov = gs_provider_from_host(edit_string(&e, "server.address"));
        if (prov) {
            if (!a)
                return (struct span_out){.changed = true};
            AnyValue *v = value_new(a, V_STRING);
            if (v) {
                v->string_value = (char *)prov;
                if (edit_append(&e, A_PROVIDER, v, -1) == 0) {
                    changes++;
                    t->derived++;
                }
            }
        }
    }

    if (sp->status && sp->status->code == STATUS_ERROR && !edit_present(&e, "error.type")) {
        if (!a)
            return (struct span_out){.changed = true};
        AnyValue *v = value_new(a, V_STRING);
        if (v && (v->string_value = (char *)error_type_for(sp, a)) != NULL &&
            edit_append(&e, "error.type", v, -1) == 0) {
            changes++;
            t->derived++;
        }
    }

    uint32_t missing = missing_required(p, &e);
    if (missing) {
        for (size_t i = 0; i < p->n_req; i++)
            if (missing & (1u << i))
                t->violations[i]++;
        t->missing_union |= missing;
        if (p->cfg->on_violation == GS_VIOLATION_DROP) {
            o.dropped = true;
            o.changed = true;
            return o;
        }
        if (p->cfg->on_violation == GS_VIOLATION_ANNOTATE &&
            !annotated_with(p, &e, missing)) {
            if (!a)
                return (struct span_out){.changed = true};
            char *names[GS_MAX_REQUIRED];
            size_t k = 0;
            for (size_t i = 0; i < p->n_req; i++)
                if (missing & (1u << i))
                    names[k++] = arena_strdup(a, p->req[i]);
            AnyValue *v = string_array_value(a, names, k);
            long j = edit_find(&e, GS_VIOLATIONS_ATTR);
            if (v && j >= 0) {
                e.kv[j]->value = v;
                changes++;
            } else if (v && edit_append(&e, GS_VIOLATIONS_ATTR, v, -1) == 0) {
                changes++;
            }
        }
    }

    if (p->cfg->rename_spans) {
        const char *op = edit_string(&e, A_OPERATION);
        const char *model = edit_string(&e, A_MODEL);
        if (op && !name_is(sp->name, op, model)) {
            if (!a)
                return (struct span_out){.changed = true};
            size_t len = strlen(op) + (model ? strlen(model) + 1 : 0) + 1;
            char *name = arena_alloc(a, len);
            if (name) {
                snprintf(name, len, model ? "%s %s" : "%s", op, model);
                sp->name = name;
                changes++;
                t->span_renames++;
            }
        }
    }

    if (a && changes) {
        if (keep)
            *keep = e; /* the span index's caller maps the edit onto its attributes */
        else
            edit_finish(&e, &sp->attributes, &sp->n_attributes);
    }
    o.changed = changes > 0;
    return o;
}

/* Walks a trace request. Dry run (a == NULL): returns true at the first LLM span that would
 * change. Edit: normalizes, removes dropped spans (and scopes and resources they emptied). */
static bool walk_traces(const struct gs_proc *p,
                        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req,
                        struct arena *a, struct tally *t)
{
    size_t kr = 0;
    for (size_t r = 0; r < req->n_resource_spans; r++) {
        Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[r];
        if (!rs)
            continue; /* protobuf-c never decodes a NULL entry; kept for safety */
        size_t ks = 0;
        bool emptied_any = false;
        for (size_t s = 0; s < rs->n_scope_spans; s++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[s];
            if (!ss)
                continue;
            bool scope_llm = scope_is_llm(p, ss->scope);
            size_t k = 0;
            for (size_t i = 0; i < ss->n_spans; i++) {
                Span *sp = ss->spans[i];
                if (!sp || (!scope_llm && !is_llm(p, sp->attributes, sp->n_attributes))) {
                    if (a)
                        ss->spans[k++] = sp;
                    continue;
                }
                t->seen++;
                struct span_out o = process_span(p, sp, a, t, NULL);
                if (!a) {
                    if (o.changed)
                        return true;
                    continue;
                }
                if (o.dropped) {
                    t->dropped++;
                    continue;
                }
                if (o.changed)
                    t->normalized++;
                ss->spans[k++] = sp;
            }
            if (!a)
                continue;
            bool emptied = k == 0 && ss->n_spans > 0;
            ss->n_spans = k;
            if (emptied) {
                emptied_any = true;
                continue;
            }
            rs->scope_spans[ks++] = ss;
        }
        if (!a)
            continue;
        rs->n_scope_spans = ks;
        if (ks == 0 && emptied_any)
            continue;
        req->resource_spans[kr++] = rs;
    }
    if (a)
        req->n_resource_spans = kr;
    return false;
}

/* ---- log records ----------------------------------------------------------------------------- */

static bool log_is_llm(const struct gs_proc *p, const LogRecord *lr)
{
    if (lr->event_name && strncmp(lr->event_name, "gen_ai.", 7) == 0)
        return true;
    return is_llm(p, lr->attributes, lr->n_attributes);
}

/* GenAI events get the renames only: requirements are defined for spans. Returns whether the
 * record changes (would change, in a dry run). */
static bool process_log(const struct gs_proc *p, LogRecord *lr, struct arena *a, struct tally *t,
                        struct edit *keep)
{
    struct edit e;
    if (edit_begin(&e, a, lr->attributes, lr->n_attributes) != 0)
        return false;
    size_t changes = apply_custom_edit(p, &e, t);
    if (changes && !a)
        return true;
    changes += map_attrs(p, &e, GS_ON_LOGS, t);
    if (!changes || a) {
        struct arena *scratch = !a && has_message_keys(e.kv, e.n) ? arena_new(0) : NULL;
        changes += rebuild_flat(p, &e, scratch, t);
        if (scratch)
            arena_free(scratch);
    }
    if (!changes)
        return false;
    if (a) {
        if (keep)
            *keep = e;
        else
            edit_finish(&e, &lr->attributes, &lr->n_attributes);
    }
    return true;
}

static bool walk_logs(const struct gs_proc *p,
                      Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req,
                      struct arena *a, struct tally *t)
{
    for (size_t r = 0; r < req->n_resource_logs; r++) {
        Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = req->resource_logs[r];
        for (size_t s = 0; rl && s < rl->n_scope_logs; s++) {
            Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = rl->scope_logs[s];
            if (!sl)
                continue;
            bool scope_llm = scope_is_llm(p, sl->scope);
            for (size_t i = 0; i < sl->n_log_records; i++) {
                LogRecord *lr = sl->log_records[i];
                if (!lr || (!scope_llm && !log_is_llm(p, lr)))
                    continue;
                t->logs_seen++;
                if (!process_log(p, lr, a, t, NULL))
                    continue;
                if (!a)
                    return true;
                t->logs_normalized++;
            }
        }
    }
    return false;
}

static bool walk(const struct gs_proc *p, ProtobufCMessage *msg, struct arena *a,
                 struct tally *t)
{
    if (p->signal == SIGNAL_TRACES)
        return walk_traces(
            p, (Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *)msg, a,
            t);
    return walk_logs(p, (Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *)msg,
                     a, t);
}

/* ---- the span index ---------------------------------------------------------------------------
 *
 * The production path. Most LLM items are decided by the fast path below (one table lookup per
 * indexed attribute); for the others the logic above stays the one copy: the index path builds
 * a small protobuf-c view of the item in a scratch arena — its attributes of interest (every key
 * this processor reads is declared at create), name and status — runs process_span / process_log on
 * that view, and maps the resulting edit back onto the index: an attribute renamed keeps its
 * value bytes, a converted one is written anew, removed ones are deleted, added ones appended.
 * Spans whose events matter (message events, GenAI names on events) go through the per-item
 * escape hatch: that one span is decoded, run through the struct code and put back. */

/* Whether a key marks an LLM span or record (llm_attrs and is_llm, on a key with a length). */
static bool key_is_llm(const struct gs_proc *p, const char *k, size_t len)
{
    if (len >= 7 && memcmp(k, "gen_ai.", 7) == 0)
        return true;
    if (gs_mapping_known_n(k, len))
        return true;
    for (size_t i = 0; i < p->custom.n; i++)
        if (strlen(p->custom.renames[i].from) == len &&
            memcmp(p->custom.renames[i].from, k, len) == 0)
            return true;
    return false;
}

static bool item_is_llm(const struct gs_proc *p, const struct wi_item *it)
{
    for (uint32_t i = 0; i < it->attrs.n; i++) {
        const struct wi_attr *at = &it->attrs.a[i];
        if (at->state != WI_DELETED && key_is_llm(p, at->key, at->key_len))
            return true;
    }
    return false;
}

static bool scope_is_llm_ix(const struct gs_proc *p, const struct wi_scope *sc)
{
    const struct config_str_list *l = &p->cfg->llm_scopes;
    for (size_t i = 0; sc->name_len && i < l->n; i++)
        if (strlen(l->items[i]) == sc->name_len && memcmp(l->items[i], sc->name, sc->name_len) == 0)
            return true;
    return false;
}

static char *cstr(struct arena *a, const void *s, size_t len)
{
    char *c = arena_alloc(a, len + 1);
    if (c) {
        if (len)
            memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

/* The view of one item: what the struct code reads, and what it was on entry (to tell edits). */
struct view {
    KeyValue **kv;
    size_t n;
    struct wi_attr **at;    /* the index attribute behind kv[i] */
    KeyValue **kv0;         /* kv[i] on entry */
    char **key0;            /* its key and value on entry */
    AnyValue **val0;
    Span sp;
    Opentelemetry__Proto__Trace__V1__Status st;
    LogRecord lr;
    char *name0;
};

static AnyValue *view_value(struct arena *a, const struct wi_attr *at)
{
    if (!at->any)
        return NULL; /* no value field, as protobuf-c decodes it */
    AnyValue *v;
    switch (at->v.type) {
    case WI_STRING:
        if ((v = value_new(a, V_STRING)) && !(v->string_value = cstr(a, at->v.data, at->v.len)))
            return NULL;
        return v;
    case WI_BOOL:
        if ((v = value_new(a, V_BOOL)))
            v->bool_value = at->v.u.b;
        return v;
    case WI_INT:
        if ((v = value_new(a, V_INT)))
            v->int_value = at->v.u.i;
        return v;
    case WI_DOUBLE:
        if ((v = value_new(a, V_DOUBLE)))
            v->double_value = at->v.u.d;
        return v;
    case WI_EMPTY:
        return value_new(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET);
    default:
        /* arrays, maps, bytes: rare on the keys read here; decoded as they are */
        return opentelemetry__proto__common__v1__any_value__unpack(arena_allocator(a),
                                                                    at->any_len, at->any);
    }
}

static int view_build(struct view *w, const struct wire_index *ix, const struct wi_item *it,
                      struct arena *a)
{
    memset(w, 0, sizeof *w);
    size_t cap = it->attrs.n ? it->attrs.n : 1;
    KeyValue *objs = arena_alloc(a, cap * sizeof *objs);
    w->kv = arena_alloc(a, cap * sizeof *w->kv);
    w->kv0 = arena_alloc(a, cap * sizeof *w->kv0);
    w->at = arena_alloc(a, cap * sizeof *w->at);
    w->key0 = arena_alloc(a, cap * sizeof *w->key0);
    w->val0 = arena_alloc(a, cap * sizeof *w->val0);
    if (!objs || !w->kv || !w->kv0 || !w->at || !w->key0 || !w->val0)
        return -1;
    for (uint32_t i = 0; i < it->attrs.n; i++) {
        struct wi_attr *at = &it->attrs.a[i];
        if (at->state == WI_DELETED)
            continue;
        KeyValue *kv = &objs[w->n];
        opentelemetry__proto__common__v1__key_value__init(kv);
        if (!(kv->key = cstr(a, at->key, at->key_len)))
            return -1;
        kv->value = view_value(a, at);
        if (at->any && !kv->value)
            return -1;
        w->kv[w->n] = w->kv0[w->n] = kv;
        w->key0[w->n] = kv->key;
        w->val0[w->n] = kv->value;
        w->at[w->n++] = at;
    }
    if (!(w->name0 = cstr(a, it->name, it->name_len)))
        return -1;
    if (ix->signal == SIGNAL_LOGS) {
        opentelemetry__proto__logs__v1__log_record__init(&w->lr);
        w->lr.attributes = w->kv;
        w->lr.n_attributes = w->n;
        w->lr.event_name = w->name0;
        return 0;
    }
    opentelemetry__proto__trace__v1__span__init(&w->sp);
    opentelemetry__proto__trace__v1__status__init(&w->st);
    w->st.code = it->status_code;
    if (!(w->st.message = cstr(a, it->status_message, it->status_message_len)))
        return -1;
    w->sp.status = &w->st;
    w->sp.name = w->name0;
    w->sp.attributes = w->kv;
    w->sp.n_attributes = w->n;
    return 0;
}

/* Reads the span's events from its bytes without decoding them: 1 when the struct code would
 * read or change more of them than exception events (message events, GenAI or custom names on
 * their attributes), else 0. */
static int events_matter(const struct gs_proc *p, const struct wi_item *it)
{
    struct pb_reader r, er, kr;
    struct pb_field f, ef, kf;
    pb_init(&r, it->body, it->body_len);
    while (pb_next(&r, &f) == 1) {
        if (f.num != 11 || f.wt != PB_LEN)
            continue;
        pb_init(&er, f.data, f.len);
        while (pb_next(&er, &ef) == 1) {
            if (ef.num == 2 && ef.wt == PB_LEN) {
                char name[64];
                if (ef.len < sizeof name) {
                    memcpy(name, ef.data, ef.len);
                    name[ef.len] = '\0';
                    if (gs_msg_event_kind(name) >= 0)
                        return 1;
                }
            } else if (ef.num == 3 && ef.wt == PB_LEN) {
                pb_init(&kr, ef.data, ef.len);
                while (pb_next(&kr, &kf) == 1)
                    if (kf.num == 1 && kf.wt == PB_LEN &&
                        key_is_llm(p, (const char *)kf.data, kf.len))
                        return 1;
            }
        }
    }
    return 0;
}

/* The span's "exception" events, for error_type_for (the only events read on this path). */
static int view_exceptions(struct view *w, const struct wi_item *it, struct arena *a)
{
    size_t n = 0;
    Opentelemetry__Proto__Trace__V1__Span__Event **ev = arena_alloc(a, it->n_events * sizeof *ev);
    if (!ev)
        return -1;
    struct pb_reader r, er;
    struct pb_field f, ef;
    pb_init(&r, it->body, it->body_len);
    while (pb_next(&r, &f) == 1 && n < it->n_events) {
        if (f.num != 11 || f.wt != PB_LEN)
            continue;
        bool exc = false;
        pb_init(&er, f.data, f.len);
        while (pb_next(&er, &ef) == 1)
            if (ef.num == 2 && ef.wt == PB_LEN)
                exc = ef.len == 9 && memcmp(ef.data, "exception", 9) == 0;
        if (!exc)
            continue;
        ev[n] = (Opentelemetry__Proto__Trace__V1__Span__Event *)protobuf_c_message_unpack(
            &opentelemetry__proto__trace__v1__span__event__descriptor, arena_allocator(a), f.len,
            f.data);
        if (!ev[n])
            return -1;
        n++;
    }
    w->sp.events = ev;
    w->sp.n_events = n;
    return 0;
}

/* An attribute added by the edit whose key is live beside it: wi_item_set would replace that one
 * instead of appending a second (the struct code appends e.g. error.type beside an empty one). */
static bool append_clashes(const struct edit *e, size_t n0)
{
    for (size_t i = n0; i < e->n; i++) {
        if (e->gone[i])
            continue;
        for (size_t j = 0; j < e->n; j++)
            if (j != i && !e->gone[j] && strcmp(e->kv[j]->key, e->kv[i]->key) == 0)
                return true;
    }
    return false;
}

static int put_value(struct wire_index *ix, struct wi_item *it, struct wi_attr *at,
                     const char *key, const AnyValue *v, struct arena *a, bool append)
{
    size_t n = v ? opentelemetry__proto__common__v1__any_value__get_packed_size(v) : 0;
    uint8_t small[256];
    uint8_t *buf = n <= sizeof small ? small : arena_alloc(a, n);
    if (!buf)
        return -1;
    if (v)
        opentelemetry__proto__common__v1__any_value__pack(v, buf);
    if (append)
        return wi_item_set(ix, it, key, strlen(key), buf, n);
    return wi_attr_replace(ix, it, at, key, strlen(key), buf, n);
}

/* Writes the edit made on the view back onto the index: deletions and in-place changes first
 * (they hold wi_attr pointers), then the appended attributes, in order. */
static int view_commit(struct wire_index *ix, struct wi_item *it, const struct view *w,
                       const struct edit *e, struct arena *a)
{
    for (size_t i = 0; i < w->n; i++) {
        struct wi_attr *at = w->at[i];
        const KeyValue *kv = e->kv[i];
        if (e->gone[i]) {
            wi_attr_delete(ix, it, at);
            continue;
        }
        bool key_changed = kv != w->kv0[i] || kv->key != w->key0[i];
        bool value_changed = kv != w->kv0[i] || kv->value != w->val0[i];
        if (!key_changed && !value_changed)
            continue;
        int rc = value_changed ? put_value(ix, it, at, kv->key, kv->value, a, false)
                               : wi_attr_replace(ix, it, at, kv->key, strlen(kv->key), NULL, 0);
        if (rc != 0)
            return -1;
    }
    for (size_t i = w->n; i < e->n; i++)
        if (!e->gone[i] && put_value(ix, it, NULL, e->kv[i]->key, e->kv[i]->value, a, true) != 0)
            return -1;
    return 0;
}

static void tally_add(struct tally *t, const struct tally *u)
{
    t->seen += u->seen, t->normalized += u->normalized, t->renamed += u->renamed;
    t->derived += u->derived, t->span_renames += u->span_renames, t->dropped += u->dropped;
    t->unconvertible += u->unconvertible, t->logs_seen += u->logs_seen;
    t->logs_normalized += u->logs_normalized, t->custom_renamed += u->custom_renamed;
    for (int i = 0; i < GS_MSG_SOURCES; i++) {
        t->msg_rebuilt[i] += u->msg_rebuilt[i];
        t->msg_unparsed[i] += u->msg_unparsed[i];
    }
    for (size_t i = 0; i < GS_MAX_REQUIRED; i++)
        t->violations[i] += u->violations[i];
    t->missing_union |= u->missing_union;
}

/* The escape hatch: the whole span or log record decoded, run through the struct code, put
 * back. */
static struct span_out item_by_struct(const struct gs_proc *p, struct wire_index *ix,
                                      struct wi_item *it, struct tally *t)
{
    ProtobufCMessage *m = wi_item_unpack(ix, it);
    if (!m) {
        t->unconvertible++;
        return (struct span_out){0};
    }
    struct span_out o = {0};
    if (ix->signal == SIGNAL_LOGS)
        o.changed = process_log(p, (LogRecord *)m, ix->arena, t, NULL);
    else
        o = process_span(p, (Span *)m, ix->arena, t, NULL);
    if (o.dropped)
        wi_item_drop(ix, it);
    else if (o.changed && wi_item_replace_msg(ix, it, m) != 0)
        o.changed = false;
    return o;
}

/* One LLM item through the view. Dry run (edit false): whether it would change. */
static struct span_out item_by_view(const struct gs_proc *p, struct wire_index *ix,
                                    struct wi_item *it, bool edit, struct arena *scratch,
                                    struct tally *t)
{
    bool logs = ix->signal == SIGNAL_LOGS;
    bool hatch = !logs && it->n_events && events_matter(p, it);
    struct view w;
    if (hatch || view_build(&w, ix, it, scratch) != 0 ||
        (!logs && it->n_events && it->status_code == STATUS_ERROR &&
         view_exceptions(&w, it, scratch) != 0)) {
        if (edit)
            return item_by_struct(p, ix, it, t);
        /* decoding an edited item needs the index's arena; and a log record here means its view
         * could not be built (out of memory): the edit pass decides both */
        if (logs || (it->flags & (WI_ITEM_EDITED | WI_ITEM_RENAMED)))
            return (struct span_out){.changed = true};
        Span *sp = opentelemetry__proto__trace__v1__span__unpack(arena_allocator(scratch),
                                                                 it->body_len, it->body);
        return sp ? process_span(p, sp, NULL, t, NULL) : (struct span_out){.changed = true};
    }
    struct edit e = {0};
    struct tally u = {0};
    struct span_out o = {0};
    if (logs)
        o.changed = process_log(p, &w.lr, edit ? scratch : NULL, &u, &e);
    else
        o = process_span(p, &w.sp, edit ? scratch : NULL, &u, &e);
    if (!edit || o.dropped || !o.changed) {
        tally_add(t, &u);
        if (edit && o.dropped)
            wi_item_drop(ix, it);
        return o;
    }
    if (e.a && append_clashes(&e, w.n))
        return item_by_struct(p, ix, it, t); /* rare: the view's tally is dropped */
    tally_add(t, &u);
    if ((e.a && view_commit(ix, it, &w, &e, scratch) != 0) ||
        (!logs && w.sp.name != w.name0 &&
         wi_item_set_name(ix, it, w.sp.name, strlen(w.sp.name)) != 0)) {
        t->unconvertible++;
    }
    return o;
}

/* ---- the fast path: conforming items and plain renames, decided on the index -----------------
 *
 * Most LLM items need nothing, or only renames that keep their value (gen_ai.system "openai" →
 * gen_ai.provider.name): deciding that must not cost a struct copy. At create, every key the
 * logic reads is put in one table keyed by the index's own hash (wi_hash), with what it means:
 * a sign of an LLM item, the row that renames or retypes it under the target, and a "slot" when
 * its value matters (provider, operation, model, server.address, error.type, the HTTP status,
 * the violations annotation, each required attribute, each rename's target). One walk over the
 * item's few indexed attributes — a hash compare, then bytes — fills the slots with the first
 * live attribute of each key, as the struct code's lookups find it. What the struct code would
 * then do is replayed on the slots: renames (a value already in the target form keeps its bytes;
 * a value-map rename writes the mapped string), derived provider and error.type, the required
 * check, the annotation, the span name. Whatever the replay cannot decide exactly (custom
 * mappings, message families, message or GenAI events, a rename meeting its target or another
 * rename, a value to convert, an annotation already there, strings holding a NUL) goes through
 * the view above, so the struct code stays the one definition and this path only its common
 * case; the differential test holds both to the same output. */

enum { FK_LLM = 1, FK_SLOW = 2, FK_SELF = 4 };

struct fkey {
    const char *key;
    const struct gs_mapping *row;  /* the row under the target for this key and signal, or NULL */
    uint32_t len, hash;
    uint32_t to_len;               /* row renames: strlen(row->to) */
    int8_t slot;                   /* -1: the key's value is not read */
    int8_t to_slot;                /* row renames: the target's slot */
    uint8_t flags;
};

#define FAST_SLOTS 64
#define FAST_TABLE 2048            /* a power of two, at least twice the keys */
#define FAST_ROWS 16               /* rows met on one item; more goes through the view */

enum { S_PROVIDER, S_OPERATION, S_MODEL, S_SERVER, S_ERROR, S_HTTP, S_VIOL, S_FIXED };

struct fast {
    uint16_t tab[FAST_TABLE];      /* key index + 1, 0: empty */
    struct fkey *keys;
    size_t n, cap;
    int n_slots;
    int8_t req_slot[GS_MAX_REQUIRED];
};

static void fast_free(struct fast *f)
{
    if (f)
        free(f->keys);
    free(f);
}

static struct fkey *fast_find(const struct fast *f, const char *key, size_t len, uint32_t h)
{
    for (uint32_t i = h & (FAST_TABLE - 1);; i = (i + 1) & (FAST_TABLE - 1)) {
        uint16_t s = f->tab[i];
        if (!s)
            return NULL;
        struct fkey *k = &f->keys[s - 1];
        if (k->hash == h && k->len == len && memcmp(k->key, key, len) == 0)
            return k;
    }
}

/* The key's entry, added when new; NULL when the table is full or out of memory. */
static struct fkey *fast_key(struct fast *f, const char *key)
{
    size_t len = strlen(key);
    uint32_t h = wi_hash(key, len);
    struct fkey *k = fast_find(f, key, len, h);
    if (k)
        return k;
    if (f->n >= FAST_TABLE / 2)
        return NULL;
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        struct fkey *nk = realloc(f->keys, cap * sizeof *nk);
        if (!nk)
            return NULL;
        f->keys = nk;
        f->cap = cap;
    }
    k = &f->keys[f->n++];
    *k = (struct fkey){.key = key, .len = (uint32_t)len, .hash = h, .slot = -1, .to_slot = -1};
    uint32_t i = h & (FAST_TABLE - 1);
    while (f->tab[i])
        i = (i + 1) & (FAST_TABLE - 1);
    f->tab[i] = (uint16_t)f->n;
    return k;
}

/* The key's slot (given one when new); -1 when out of slots or memory. */
static int fast_slot(struct fast *f, const char *key)
{
    struct fkey *k = fast_key(f, key);
    if (!k)
        return -1;
    if (k->slot < 0) {
        if (f->n_slots >= FAST_SLOTS)
            return -1;
        k->slot = (int8_t)f->n_slots++;
    }
    return k->slot;
}

/* The table for this processor's target, signal, required attributes and custom mappings; NULL
 * when it does not fit (the view then takes every item) or out of memory. Keys point at the
 * mapping rows and at the processor's config, which outlive it. */
static struct fast *fast_new(const struct gs_proc *p)
{
    struct fast *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    static const char *const fixed[S_FIXED] = {A_PROVIDER, A_OPERATION, A_MODEL, "server.address",
                                               "error.type", "http.response.status_code",
                                               GS_VIOLATIONS_ATTR};
    for (int s = 0; s < S_FIXED; s++)
        if (fast_slot(f, fixed[s]) != s)
            goto fail;
    for (size_t i = 0; i < p->n_req; i++)
        if ((f->req_slot[i] = (int8_t)fast_slot(f, p->req[i])) < 0)
            goto fail;
    unsigned bit = p->signal == SIGNAL_LOGS ? GS_ON_LOGS : GS_ON_SPANS;
    size_t nrows;
    const struct gs_mapping *rows = gs_mapping_rows(&nrows);
    for (size_t r = 0; r < nrows; r++) {
        struct fkey *k = fast_key(f, rows[r].from);
        if (!k)
            goto fail;
        if (gs_mapping_known(rows[r].from))
            k->flags |= FK_LLM;
        const struct gs_mapping *m = gs_mapping_find(p->target, rows[r].from);
        if (m != &rows[r] || !(m->signals & bit))
            continue; /* another row wins for this key, or none applies */
        k->row = m;
        if (strcmp(m->from, m->to) == 0) {
            k->flags |= FK_SELF;
            continue;
        }
        int ts = fast_slot(f, m->to);
        k = fast_key(f, m->from); /* the table may have moved */
        if (ts < 0 || !k)
            goto fail;
        k->to_slot = (int8_t)ts;
        k->to_len = (uint32_t)strlen(m->to);
    }
    for (size_t i = 0; i < p->custom.n; i++) {
        struct fkey *k = fast_key(f, p->custom.renames[i].from);
        if (!k)
            goto fail;
        k->flags |= FK_LLM | FK_SLOW;
    }
    return f;
fail:
    fast_free(f);
    return NULL;
}

/* What the walk over one item found. */
struct fscan {
    uint64_t live;                       /* slot has a live attribute */
    struct wi_attr *at[FAST_SLOTS];      /* the first one (valid under `live`) */
    struct {
        struct wi_attr *at;
        const struct fkey *k;
    } rows[FAST_ROWS];
    uint32_t n_rows;
    bool llm, slow, http_twice;
};

static bool starts(const char *k, size_t len, const char *prefix, size_t plen)
{
    return len >= plen && memcmp(k, prefix, plen) == 0;
}

/* One walk over the item's indexed attributes. */
static void fast_scan(const struct fast *f, const struct wi_item *it, struct fscan *s)
{
    s->live = 0;
    s->n_rows = 0;
    s->llm = s->slow = s->http_twice = false;
    for (uint32_t i = 0; i < it->attrs.n; i++) {
        struct wi_attr *at = &it->attrs.a[i];
        if (at->state == WI_DELETED)
            continue;
        const char *k = at->key;
        size_t len = at->key_len;
        if (len >= 7 && k[0] == 'g' && memcmp(k, "gen_ai.", 7) == 0) {
            s->llm = true;
            if (starts(k, len, "gen_ai.prompt.", 14) || starts(k, len, "gen_ai.completion.", 18))
                s->slow = true; /* a flattened message family */
        } else if (len && k[0] == 'l' && (starts(k, len, "llm.input_messages.", 19) ||
                                          starts(k, len, "llm.output_messages.", 20))) {
            s->slow = true;
        }
        const struct fkey *e = fast_find(f, k, len, at->hash);
        if (!e)
            continue;
        s->llm |= (e->flags & FK_LLM) != 0;
        s->slow |= (e->flags & FK_SLOW) != 0;
        if (e->slot >= 0) {
            uint64_t b = 1ull << e->slot;
            if (!(s->live & b)) {
                s->live |= b;
                s->at[e->slot] = at;
            } else if (e->slot == S_HTTP) {
                s->http_twice = true;
            }
        }
        if (e->row) {
            if (s->n_rows == FAST_ROWS) {
                s->slow = true;
                continue;
            }
            s->rows[s->n_rows].at = at;
            s->rows[s->n_rows++].k = e;
        }
    }
}

static bool has_nul(const void *s, size_t len)
{
    return len && memchr(s, '\0', len) != NULL;
}

/* convert() on an index value: 0 already in the target form, 1 a value-map rename (*to), -1
 * anything else (a conversion or an unconvertible value: the view decides). */
static int fast_convert(const struct gs_mapping *m, const struct wi_attr *at, const char **to)
{
    if (m->xform == GS_X_NONE)
        return 0;
    if (!at->any)
        return -1;
    const struct wi_value *v = &at->v;
    switch (m->xform) {
    case GS_X_STRING: {
        if (v->type != WI_STRING || has_nul(v->data, v->len))
            return -1;
        if (!m->values)
            return 0;
        const char *t = gs_value_lookup_n(m->values, (const char *)v->data, v->len);
        if (!t)
            return m->values->strict ? -1 : 0;
        if (strlen(t) == v->len && memcmp(t, v->data, v->len) == 0)
            return 0;
        *to = t;
        return 1;
    }
    case GS_X_INT:
        return v->type == WI_INT ? 0 : -1;
    case GS_X_DOUBLE:
        return v->type == WI_DOUBLE ? 0 : -1;
    case GS_X_BOOL:
        return v->type == WI_BOOL ? 0 : -1;
    case GS_X_STRING_ARRAY:
        return v->type == WI_ARRAY ? 0 : -1;
    default:
        return -1;
    }
}

/* The slots' values as the struct code would read them after the renames. */
struct fstate {
    const struct fscan *s;
    uint64_t live, added;          /* added: derived here (present, non-empty strings) */
    const char *str[FAST_SLOTS];   /* a value-map rename's new string (else NULL) */
};

/* edit_present: a value, not empty, and a non-empty string when a string. */
static bool fs_present(const struct fstate *st, int slot)
{
    uint64_t b = 1ull << slot;
    if (st->added & b)
        return true;
    if (!(st->live & b))
        return false;
    if (st->str[slot])
        return true;
    const struct wi_attr *at = st->s->at[slot];
    return at->any && at->v.type != WI_EMPTY && (at->v.type != WI_STRING || at->v.len > 0);
}

/* edit_string: the value when a non-empty string. 1 found, 0 none, -1 a NUL inside (the
 * struct code would read it cut short: the view decides). */
static int fs_string(const struct fstate *st, int slot, const char **s, size_t *len)
{
    uint64_t b = 1ull << slot;
    if (!(st->live & b))
        return 0;
    if (st->str[slot]) {
        *s = st->str[slot];
        *len = strlen(*s);
        return 1;
    }
    const struct wi_attr *at = st->s->at[slot];
    if (!at->any || at->v.type != WI_STRING || !at->v.len)
        return 0;
    if (has_nul(at->v.data, at->v.len))
        return -1;
    *s = (const char *)at->v.data;
    *len = at->v.len;
    return 1;
}

static bool identifier_like_n(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

static bool is_inference_op_n(const char *op, size_t len)
{
    static const char *const ops[] = {"chat", "text_completion", "generate_content",
                                      "embeddings"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strlen(ops[i]) == len && memcmp(op, ops[i], len) == 0)
            return true;
    return false;
}

/* The plan for one item: what process_span / process_log would do, or `slow`. */
struct fplan {
    uint32_t n_ren;
    struct {
        struct wi_attr *at;
        const struct fkey *k;
        const char *to;            /* a value-map rename's new value, else NULL (bytes kept) */
    } ren[FAST_ROWS];
    const char *provider;          /* to append */
    const char *err;               /* error.type to append (err_len bytes) */
    size_t err_len;
    uint32_t missing;
    bool annotate, drop, rename;
    const char *op, *model;        /* the new span name's parts */
    size_t op_len, model_len;
    char err_buf[24];              /* last: not cleared */
};

/* 1: the plan is exact; 0: the view must decide. */
static int fast_plan(const struct gs_proc *p, const struct wi_item *it, struct fscan *s,
                     struct fplan *pl, bool logs)
{
    struct fstate st = {.s = s, .live = s->live};
    memset(pl, 0, offsetof(struct fplan, err_buf));
    uint64_t renamed_to = 0;
    for (uint32_t i = 0; i < s->n_rows; i++) {
        const struct fkey *k = s->rows[i].k;
        struct wi_attr *at = s->rows[i].at;
        const char *to = NULL;
        int c = fast_convert(k->row, at, &to);
        if (k->flags & FK_SELF) {
            if (c != 0)
                return 0; /* a current name whose value is retyped */
            continue;
        }
        uint64_t b = 1ull << k->to_slot;
        if (c < 0 || !at->any || k->slot >= 0 || (s->live & b) || (renamed_to & b) ||
            p->cfg->keep_original)
            return 0;
        renamed_to |= b;
        pl->ren[pl->n_ren].at = at;
        pl->ren[pl->n_ren].k = k;
        pl->ren[pl->n_ren++].to = c ? to : NULL;
    }
    for (uint32_t i = 0; i < pl->n_ren; i++) {
        int ts = pl->ren[i].k->to_slot;
        st.live |= 1ull << ts;
        s->at[ts] = pl->ren[i].at;
        st.str[ts] = pl->ren[i].to;
    }
    if (logs)
        return 1;

    const char *str;
    size_t len;
    if (!fs_present(&st, S_PROVIDER)) {
        int rc = fs_string(&st, S_SERVER, &str, &len);
        if (rc < 0)
            return 0;
        const char *prov = rc ? gs_provider_from_host_n(str, len) : NULL;
        if (prov) {
            if (st.live & (1ull << S_PROVIDER))
                return 0; /* appended beside an empty one */
            pl->provider = prov;
            st.added |= 1ull << S_PROVIDER;
        }
    }
    if (it->status_code == STATUS_ERROR && !fs_present(&st, S_ERROR)) {
        if ((st.live & (1ull << S_ERROR)) || has_nul(it->status_message, it->status_message_len))
            return 0;
        if (identifier_like_n(it->status_message, it->status_message_len)) {
            pl->err = it->status_message;
            pl->err_len = it->status_message_len;
        } else if ((st.live & (1ull << S_HTTP)) && st.s->at[S_HTTP]->any) {
            const struct wi_attr *h = st.s->at[S_HTTP];
            if (s->http_twice)
                return 0;
            if (h->v.type == WI_INT) {
                pl->err_len = (size_t)snprintf(pl->err_buf, sizeof pl->err_buf, "%" PRId64,
                                               h->v.u.i);
                pl->err = pl->err_buf;
            } else if (h->v.type == WI_STRING &&
                       identifier_like_n((const char *)h->v.data, h->v.len)) {
                pl->err = (const char *)h->v.data;
                pl->err_len = h->v.len;
            }
        } else if (s->http_twice) {
            return 0;
        }
        if (!pl->err) {
            if (it->n_events)
                return 0; /* an exception event may name it */
            pl->err = "_OTHER";
            pl->err_len = 6;
        }
        st.added |= 1ull << S_ERROR;
    }

    const char *op = NULL;
    size_t op_len = 0;
    int orc = fs_string(&st, S_OPERATION, &op, &op_len);
    if (orc < 0)
        return 0;
    bool inference = orc && is_inference_op_n(op, op_len);
    for (size_t i = 0; i < p->n_req; i++) {
        if (p->req_when_known[i] && orc && !inference)
            continue;
        if (!fs_present(&st, p->fast->req_slot[i]))
            pl->missing |= 1u << i;
    }
    if (pl->missing) {
        if (p->cfg->on_violation == GS_VIOLATION_DROP) {
            pl->drop = true;
            return 1;
        }
        if (p->cfg->on_violation == GS_VIOLATION_ANNOTATE) {
            if (st.live & (1ull << S_VIOL))
                return 0; /* compared with, or replaced by, the struct code */
            pl->annotate = true;
        }
    }

    if (p->cfg->rename_spans && orc) {
        const char *model = NULL;
        size_t model_len = 0;
        int mrc = fs_string(&st, S_MODEL, &model, &model_len);
        if (mrc < 0 || has_nul(it->name, it->name_len))
            return 0;
        size_t want = op_len + (mrc ? 1 + model_len : 0);
        bool same = it->name_len == want && memcmp(it->name, op, op_len) == 0 &&
                    (!mrc || (it->name[op_len] == ' ' &&
                              memcmp(it->name + op_len + 1, model, model_len) == 0));
        if (!same) {
            pl->rename = true;
            pl->op = op;
            pl->op_len = op_len;
            pl->model = mrc ? model : NULL;
            pl->model_len = model_len;
        }
    }
    return 1;
}

static bool fast_changes(const struct fplan *pl)
{
    return pl->n_ren || pl->provider || pl->err || pl->annotate || pl->drop || pl->rename;
}

/* The counters process_span / process_log move for this plan. */
static void fast_tally(const struct gs_proc *p, const struct fplan *pl, struct tally *t)
{
    t->renamed += pl->n_ren;
    t->derived += (pl->provider != NULL) + (pl->err != NULL);
    t->span_renames += pl->rename;
    if (!pl->missing)
        return;
    for (size_t i = 0; i < p->n_req; i++)
        if (pl->missing & (1u << i))
            t->violations[i]++;
    t->missing_union |= pl->missing;
}

/* The annotation's AnyValue: an array of the missing names, in the configured order. */
static int fast_annotate(const struct gs_proc *p, struct wire_index *ix, struct wi_item *it,
                         uint32_t missing, struct arena *scratch)
{
    size_t arr = 0;
    for (size_t i = 0; i < p->n_req; i++)
        if (missing & (1u << i)) {
            size_t n = pb_any_string(NULL, p->req[i], strlen(p->req[i]));
            arr += pb_len_prefix_size(1, n) + n;
        }
    size_t total = pb_len_prefix_size(5, arr) + arr;
    uint8_t *buf = arena_alloc(scratch, total), *w = buf;
    if (!buf)
        return -1;
    w = pb_put_len_prefix(w, 5, arr);
    for (size_t i = 0; i < p->n_req; i++)
        if (missing & (1u << i)) {
            size_t len = strlen(p->req[i]);
            size_t n = pb_any_string(NULL, p->req[i], len);
            w = pb_put_len_prefix(w, 1, n);
            w += pb_any_string(w, p->req[i], len);
        }
    return wi_item_set(ix, it, GS_VIOLATIONS_ATTR, strlen(GS_VIOLATIONS_ATTR), buf, total);
}

/* Applies the plan to the index, in the struct code's order: renames in place, then provider,
 * error.type and the annotation appended, then the span name. */
static struct span_out fast_apply(const struct gs_proc *p, struct wire_index *ix,
                                  struct wi_item *it, const struct fplan *pl,
                                  struct arena *scratch, struct tally *t)
{
    struct span_out o = {.changed = fast_changes(pl), .dropped = pl->drop};
    if (pl->drop) {
        wi_item_drop(ix, it);
        return o;
    }
    int rc = 0;
    for (uint32_t i = 0; i < pl->n_ren; i++) {
        const struct fkey *k = pl->ren[i].k;
        if (!pl->ren[i].to) {
            rc |= wi_attr_replace(ix, it, pl->ren[i].at, k->row->to, k->to_len, NULL, 0);
            continue;
        }
        uint8_t any[128];
        size_t vl = strlen(pl->ren[i].to);
        if (pb_any_string(NULL, pl->ren[i].to, vl) > sizeof any) {
            rc = -1;
            continue;
        }
        size_t n = pb_any_string(any, pl->ren[i].to, vl);
        rc |= wi_attr_replace(ix, it, pl->ren[i].at, k->row->to, k->to_len, any, n);
    }
    if (pl->provider)
        rc |= wi_item_set_string(ix, it, A_PROVIDER, pl->provider, strlen(pl->provider));
    if (pl->err)
        rc |= wi_item_set_string(ix, it, "error.type", pl->err, pl->err_len);
    if (pl->annotate)
        rc |= fast_annotate(p, ix, it, pl->missing, scratch);
    if (pl->rename) {
        size_t len = pl->op_len + (pl->model ? 1 + pl->model_len : 0);
        char *name = arena_alloc(scratch, len ? len : 1);
        if (name) {
            memcpy(name, pl->op, pl->op_len);
            if (pl->model) {
                name[pl->op_len] = ' ';
                memcpy(name + pl->op_len + 1, pl->model, pl->model_len);
            }
            rc |= wi_item_set_name(ix, it, name, len);
        } else {
            rc = -1;
        }
    }
    if (rc)
        t->unconvertible++;
    return o;
}

/* Walks the index. Dry run (edit false): returns true at the first item that would change. */
static bool walk_index(const struct gs_proc *p, struct wire_index *ix, bool edit,
                       struct arena *scratch, struct tally *t)
{
    bool logs = ix->signal == SIGNAL_LOGS;
    for (uint32_t s = 0; s < ix->n_scopes; s++) {
        const struct wi_scope *sc = &ix->scopes[s];
        bool scope_llm = scope_is_llm_ix(p, sc);
        for (uint32_t i = sc->first_item; i < sc->first_item + sc->n_items; i++) {
            struct wi_item *it = &ix->items[i];
            if (it->flags & WI_ITEM_DROPPED)
                continue;
            struct fscan s;
            bool llm;
            if (p->fast) {
                fast_scan(p->fast, it, &s);
                llm = s.llm;
            } else {
                llm = item_is_llm(p, it);
                s.live = 0, s.n_rows = 0, s.llm = llm, s.slow = true, s.http_twice = false;
            }
            if (!scope_llm && !(logs && it->name_len >= 7 && memcmp(it->name, "gen_ai.", 7) == 0) &&
                !llm)
                continue;
            if (logs)
                t->logs_seen++;
            else
                t->seen++;
            struct fplan pl;
            struct span_out o;
            if (p->fast && !s.slow && !(!logs && it->n_events && events_matter(p, it)) &&
                fast_plan(p, it, &s, &pl, logs)) {
                fast_tally(p, &pl, t);
                o = edit ? fast_apply(p, ix, it, &pl, scratch, t)
                         : (struct span_out){.changed = fast_changes(&pl), .dropped = pl.drop};
            } else {
                o = item_by_view(p, ix, it, edit, scratch, t);
            }
            arena_reset(scratch);
            if (!edit) {
                if (o.changed)
                    return true;
                continue;
            }
            if (o.dropped)
                t->dropped++;
            else if (o.changed && logs)
                t->logs_normalized++;
            else if (o.changed)
                t->normalized++;
        }
    }
    return false;
}

/* ---- consume --------------------------------------------------------------------------------- */

static void reject_dropped(const struct gs_proc *p, struct batch *b, const struct tally *t)
{
    if (!t->dropped)
        return;
    char why[200];
    size_t n = (size_t)snprintf(why, sizeof why, "genai_semconv: %" PRIu64
                                " LLM spans dropped for missing required attributes (",
                                t->dropped);
    bool first = true;
    for (size_t i = 0; i < p->n_req && n < sizeof why; i++)
        if (t->missing_union & (1u << i)) {
            n += (size_t)snprintf(why + n, sizeof why - n, "%s%s", first ? "" : ", ", p->req[i]);
            first = false;
        }
    if (n < sizeof why)
        snprintf(why + n, sizeof why - n, ")");
    batch_reject(b, t->dropped, why);
}

static enum consume_status send_edited(struct gs_proc *p, struct batch *b, struct batch *nb,
                                       const struct tally *t)
{
    tally_commit(p, t);
    reject_dropped(p, b, t);
    enum consume_status st = CONSUME_OK;
    if (nb->items > 0 || t->dropped == 0)
        st = consumer_send(p->next, nb);
    batch_edit_release(b, nb);
    return st;
}

/* A batch that arrived decoded only (no wire bytes, no index): the struct walk, without encoding
 * it first. */
static enum consume_status consume_decoded(struct gs_proc *p, struct batch *b)
{
    struct error err = {0};
    const ProtobufCMessage *ro = batch_decoded(b, &err);
    if (!ro) {
        log_warn(p->log_name, "cannot decode the request, forwarding it as is: %s", err.msg);
        return consumer_send(p->next, b);
    }
    struct tally t = {0};
    /* The dry run never writes: the cast only lets both walks share one code path. */
    if (!walk(p, (ProtobufCMessage *)ro, NULL, &t)) {
        tally_commit(p, &t);
        return consumer_send(p->next, b);
    }
    struct batch *nb = NULL;
    ProtobufCMessage *msg = batch_edit(b, &nb, &err);
    if (!msg) {
        log_warn(p->log_name, "cannot edit the request, forwarding it unnormalized: %s", err.msg);
        return consumer_send(p->next, b);
    }
    memset(&t, 0, sizeof t);
    walk(p, msg, nb->arena, &t);
    batch_edit_done(nb);
    return send_edited(p, b, nb, &t);
}

static enum consume_status gs_consume(void *self, struct batch *b)
{
    struct gs_proc *p = self;
    pthread_mutex_lock(&b->lock);
    bool decoded_only = !b->has_wire && b->msg && !b->index;
    pthread_mutex_unlock(&b->lock);
    if (decoded_only)
        return consume_decoded(p, b);

    struct error err = {0};
    struct tally t = {0};
    struct arena *scratch = arena_new(16384);
    if (!scratch) {
        log_warn(p->log_name, "out of memory, forwarding the request unnormalized");
        return consumer_send(p->next, b);
    }
    /* A shared batch is looked at first and copied only when something changes; a batch held
     * by this consumer alone is edited in place, and an index with no edit leaves as the bytes
     * that arrived. */
    if (atomic_load(&b->refs) > 1) {
        const struct wire_index *ro = batch_index(b, p->interest, &err);
        if (!ro) {
            arena_free(scratch);
            log_warn(p->log_name, "cannot index the request, forwarding it as is: %s", err.msg);
            return consumer_send(p->next, b);
        }
        /* The dry run never writes: the cast only lets both walks share one code path. */
        if (!walk_index(p, (struct wire_index *)ro, false, scratch, &t)) {
            arena_free(scratch);
            tally_commit(p, &t);
            return consumer_send(p->next, b);
        }
        memset(&t, 0, sizeof t);
        arena_reset(scratch);
    }
    struct batch *nb = NULL;
    struct wire_index *ix = batch_index_edit(b, p->interest, &nb, &err);
    if (!ix) {
        arena_free(scratch);
        log_warn(p->log_name, "cannot edit the request, forwarding it unnormalized: %s", err.msg);
        return consumer_send(p->next, b);
    }
    walk_index(p, ix, true, scratch, &t);
    arena_free(scratch);
    batch_index_edit_done(nb);
    /* a scope (or resource) the drops emptied is left out by the index's writer, as the struct
     * path removes it */
    return send_edited(p, b, nb, &t);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void gs_destroy(void *self)
{
    struct gs_proc *p = self;
    if (!p)
        return;
    custom_free(&p->custom);
    fast_free(p->fast);
    free(p->log_name);
    free(p);
}

/* Every key the logic reads or writes, for the span index: the rows' names (legacy and current),
 * the GenAI family (messages included), the custom names, and what derivations and enforcement
 * look at. A key left out would be invisible to the view and make it differ from the struct
 * path. */
static int declare_interest(const struct gs_proc *p, struct wire_interest *in)
{
    if (!in)
        return 0;
    static const char *const prefixes[] = {"gen_ai.", "llm.input_messages.",
                                           "llm.output_messages."};
    static const char *const keys[] = {"server.address", "http.response.status_code",
                                       "error.type", GS_VIOLATIONS_ATTR};
    int rc = 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        rc |= wire_interest_add_prefix(in, prefixes[i]);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        rc |= wire_interest_add_key(in, keys[i]);
    size_t n;
    const struct gs_mapping *rows = gs_mapping_rows(&n);
    for (size_t i = 0; i < n; i++)
        rc |= wire_interest_add_key(in, rows[i].from) | wire_interest_add_key(in, rows[i].to);
    for (size_t i = 0; i < p->custom.n; i++)
        rc |= wire_interest_add_key(in, p->custom.renames[i].from) |
              wire_interest_add_key(in, p->custom.renames[i].to);
    for (size_t i = 0; i < p->n_req; i++)
        rc |= wire_interest_add_key(in, p->req[i]);
    return rc ? -1 : 0;
}

static void *gs_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    const struct genai_semconv_config *cfg = cfgp;
    if (gs_validate(cfg, err) != 0)
        return NULL;
    if (env->signal != SIGNAL_TRACES && env->signal != SIGNAL_LOGS) {
        error_set(err, "genai_semconv works in traces and logs pipelines only");
        return NULL;
    }
    if (!env->next[env->signal]) {
        error_set(err, "genai_semconv processor has no downstream consumer");
        return NULL;
    }
    struct gs_proc *p = calloc(1, sizeof *p);
    const char *ln = env->log_name ? env->log_name : "processor/genai_semconv";
    if (!p || !(p->log_name = strdup(ln))) {
        free(p);
        error_set(err, "out of memory");
        return NULL;
    }
    if (custom_compile(cfg->custom_mappings, &p->custom, err) != 0) {
        gs_destroy(p);
        return NULL;
    }
    /* The built-in rows' rules: a target already present wins (the custom name is dropped, or
     * kept with keep_original), else the custom name is renamed (or copied, with keep_original). */
    p->custom_rules = (struct gs_source_rules){
        .builtin = -1, .renames = p->custom.renames, .n_renames = p->custom.n,
        .overwrite = false, .remove_originals = !cfg->keep_original, .remove_shadowed = true};
    p->cfg = cfg;
    p->signal = env->signal;
    p->next = env->next[env->signal];
    p->target = cfg->target == GS_TARGET_LATEST ? GS_TARGET_LATEST : GS_TARGET_V141;
    p->n_req = cfg->required_attributes.n;
    for (size_t i = 0; i < p->n_req; i++) {
        p->req[i] = cfg->required_attributes.items[i];
        p->req_when_known[i] = strcmp(p->req[i], A_MODEL) == 0;
    }
    if (declare_interest(p, env->interest) != 0) {
        error_set(err, "out of memory");
        gs_destroy(p);
        return NULL;
    }
    p->interest = env->interest;
    p->fast = fast_new(p); /* NULL (out of memory, too many keys): every item takes the view */
    struct telemetry *tel = env->telemetry;
    if (tel) {
        char l[300];
        snprintf(l, sizeof l, "processor=\"%s\"", env->id ? env->id : "genai_semconv");
        for (size_t i = 0; i < p->n_req; i++) {
            char al[600];
            snprintf(al, sizeof al, "%s,attribute=\"%s\"", l, p->req[i]);
            p->violations[i] = telemetry_counter(tel, PREFIX "violations", al,
                                                 "LLM spans missing a required attribute");
        }
        p->seen = telemetry_counter(tel, PREFIX "llm_spans", l, "LLM spans seen");
        p->normalized = telemetry_counter(tel, PREFIX "normalized_spans", l,
                                          "LLM spans changed (renamed, derived or annotated)");
        p->renamed = telemetry_counter(tel, PREFIX "renamed_attributes", l,
                                       "Legacy attributes renamed or dropped, values retyped");
        p->derived = telemetry_counter(tel, PREFIX "derived_attributes", l,
                                       "gen_ai.provider.name and error.type derived");
        p->span_renames = telemetry_counter(tel, PREFIX "renamed_spans", l,
                                            "LLM spans renamed to {operation} {model}");
        p->dropped = telemetry_counter(tel, PREFIX "dropped_spans", l,
                                       "LLM spans dropped for missing required attributes");
        p->unconvertible = telemetry_counter(tel, PREFIX "unconvertible_attributes", l,
                                             "Legacy attributes left as they were: value "
                                             "not convertible");
        for (int i = 0; i < GS_MSG_SOURCES; i++) {
            char sl[400];
            snprintf(sl, sizeof sl, "%s,source=\"%s\"", l, msg_source_names[i]);
            p->msg_rebuilt[i] = telemetry_counter(tel, PREFIX "rebuilt_messages", sl,
                                                  "Spans and log records whose messages were "
                                                  "rebuilt into gen_ai.*_messages");
            p->msg_unparsed[i] = telemetry_counter(tel, PREFIX "unparsed_messages", sl,
                                                   "Message families left as they came: not "
                                                   "in the expected shape");
        }
        p->logs_seen = telemetry_counter(tel, PREFIX "llm_log_records", l,
                                         "GenAI log records seen");
        p->logs_normalized = telemetry_counter(tel, PREFIX "normalized_log_records", l,
                                               "GenAI log records changed");
        p->custom_renamed = telemetry_counter(tel, PREFIX "custom_renamed_attributes", l,
                                              "Attributes renamed (or dropped for a present "
                                              "target) by custom_mappings");
    }
    return p;
}

const struct component_factory genai_semconv_processor_factory = {
    .type = "genai_semconv",
    .kind = COMPONENT_PROCESSOR,
    .doc = "normalizes LLM spans and GenAI events to the GenAI semantic conventions, derives "
           "provider and error.type, enforces required attributes",
    .fields = gs_fields,
    .config_size = sizeof(struct genai_semconv_config),
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_LOGS),
    .validate = gs_validate,
    .create = gs_create,
    .consume = gs_consume,
    .destroy = gs_destroy,
};
