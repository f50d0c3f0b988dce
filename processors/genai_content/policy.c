/* policy.c — what genai_content does to one value: the actions keep, redact, hash and drop,
 * max_length truncation, and the reading of GenAI message JSON (gen_ai.input.messages,
 * gen_ai.output.messages, gen_ai.system_instructions) down to the strings that carry content.
 *
 * The one idea: the shape of a message is checked before anything is changed, and only the
 * content strings are touched. A message is an object with a string `role` and an array of
 * `parts`, each part an object with a string `type`; inside a part every string except the
 * structural ones (type, id, name, mime_type, modality) is content, however deeply nested (tool
 * call arguments are often an object). A value that is not of that shape cannot be redacted with
 * confidence, so it is dropped (fail closed), never passed on as it came. Messages arrive as JSON
 * text on spans and as structured values (arrays of maps) on log records; both are read with the
 * same rules. */
#include "processors/genai_content/genai_content.h"

#include <gnutls/crypto.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/attraction.h"
#include "core/wire.h"
#include "core/wire_index.h"
#include "processors/genai_content/jscan.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;
typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Common__V1__ArrayValue otlp_array;
typedef Opentelemetry__Proto__Common__V1__KeyValueList otlp_kvlist;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE
#define V_KVLIST OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE
#define V_BYTES OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE

#define JSON_MAX_DEPTH 64

const char *const gc_action_names[] = {"keep", "redact", "hash", "drop", NULL};
const char *const gc_family_names[] = {"input_messages",      "output_messages",
                                       "system_instructions", "tool_call_arguments",
                                       "tool_call_results",   "legacy_attributes"};

struct gc_policy {
    int action[GC_FAMILY_COUNT];
    struct gc_detectors *det;
    char *salt;
    size_t salt_len;
    size_t max_length;
    char *trunc_marker;
    size_t trunc_marker_len;
};

/* ---- families ---------------------------------------------------------------------------- */

/* key[0..n) == name, or starts with name followed by '.' when subkeys */
static bool key_is(const char *key, size_t n, const char *name, bool subkeys)
{
    size_t m = strlen(name);
    return n >= m && memcmp(key, name, m) == 0 && (n == m || (subkeys && key[m] == '.'));
}

static bool key_eq(const char *key, size_t n, const char *name)
{
    return key_is(key, n, name, false);
}

static bool key_starts(const char *key, size_t n, const char *prefix)
{
    size_t m = strlen(prefix);
    return n >= m && memcmp(key, prefix, m) == 0;
}

int gc_family_of_n(const char *key, size_t n, bool in_legacy_event)
{
    if (!key || !n)
        return -1;
    if (key[0] == 'g' && key_starts(key, n, "gen_ai.")) {
        const char *k = key + 7;
        size_t m = n - 7;
        if (key_eq(k, m, "input.messages"))
            return GC_INPUT_MESSAGES;
        if (key_eq(k, m, "output.messages"))
            return GC_OUTPUT_MESSAGES;
        if (key_eq(k, m, "system_instructions"))
            return GC_SYSTEM_INSTRUCTIONS;
        if (key_eq(k, m, "tool.call.arguments"))
            return GC_TOOL_ARGUMENTS;
        if (key_eq(k, m, "tool.call.result"))
            return GC_TOOL_RESULTS;
        /* OpenLLMetry gen_ai.prompt.N.*, gen_ai.completion.N.*; the event attributes of
         * gen_ai.content.prompt / gen_ai.content.completion. */
        if (key_is(k, m, "prompt", true) || key_is(k, m, "completion", true) ||
            key_eq(k, m, "content.prompt") || key_eq(k, m, "content.completion"))
            return GC_LEGACY;
        return -1;
    }
    if (key[0] == 'l' && key_starts(key, n, "llm.")) {
        const char *k = key + 4;
        size_t m = n - 4;
        if (key_starts(k, m, "input_messages.") || key_starts(k, m, "output_messages.") ||
            key_is(k, m, "prompts", true) || key_eq(k, m, "prompt_template.variables"))
            return GC_LEGACY;
        return -1;
    }
    /* Vercel AI SDK */
    if (key[0] == 'a' && key_starts(key, n, "ai.")) {
        const char *k = key + 3;
        size_t m = n - 3;
        if (key_is(k, m, "prompt", true) || key_eq(k, m, "response.text") ||
            key_eq(k, m, "response.object") || key_eq(k, m, "response.toolCalls") ||
            key_eq(k, m, "toolCall.args") || key_eq(k, m, "toolCall.result"))
            return GC_LEGACY;
        return -1;
    }
    if (key_eq(key, n, "input.value") || key_eq(key, n, "output.value") ||
        key_eq(key, n, "traceloop.entity.input") || key_eq(key, n, "traceloop.entity.output"))
        return GC_LEGACY;
    if (in_legacy_event && key_eq(key, n, "content"))
        return GC_LEGACY;
    return -1;
}

int gc_family_of(const char *key, bool in_legacy_event)
{
    return key ? gc_family_of_n(key, strlen(key), in_legacy_event) : -1;
}

bool gc_is_legacy_event_n(const char *name, size_t n)
{
    static const char *const names[] = {"gen_ai.system.message", "gen_ai.user.message",
                                        "gen_ai.assistant.message", "gen_ai.tool.message",
                                        "gen_ai.choice"};
    if (!name || !key_starts(name, n, "gen_ai."))
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (key_eq(name, n, names[i]))
            return true;
    return false;
}

bool gc_is_legacy_event(const char *name)
{
    return name && gc_is_legacy_event_n(name, strlen(name));
}

/* Every key gc_family_of_n() may place in a family, as exact keys and prefixes (a prefix may
 * cover a few keys of no family: they are indexed for nothing, never missed). */
static const char *const family_keys[] = {
    "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.content.prompt",
    "gen_ai.content.completion", "llm.prompt_template.variables", "ai.response.text",
    "ai.response.object", "ai.response.toolCalls", "ai.toolCall.args", "ai.toolCall.result",
    "input.value", "output.value", "traceloop.entity.input", "traceloop.entity.output",
    "content", "event.name", NULL};
static const char *const family_prefixes[] = {"gen_ai.prompt", "gen_ai.completion",
                                              "llm.input_messages.", "llm.output_messages.",
                                              "llm.prompts", "ai.prompt", NULL};

int gc_declare_interest(struct wire_interest *in)
{
    for (size_t i = 0; family_keys[i]; i++)
        if (wire_interest_add_key(in, family_keys[i]) != 0)
            return -1;
    for (size_t i = 0; family_prefixes[i]; i++)
        if (wire_interest_add_prefix(in, family_prefixes[i]) != 0)
            return -1;
    return 0;
}

/* ---- building ---------------------------------------------------------------------------- */

static const struct config_field pattern_fields[] = {
    {.name = "name", .type = CFG_STRING, .offset = offsetof(struct gc_pattern, name),
     .required = true, .doc = "names the marker (<redacted:NAME>) and the counter's detector label"},
    {.name = "regex", .type = CFG_STRING, .offset = offsetof(struct gc_pattern, regex),
     .required = true, .doc = "RE2 pattern (Go syntax); every match is replaced"},
    {.name = NULL},
};

struct gc_policy *gc_policy_new(const struct genai_content_config *cfg, struct error *err)
{
    struct gc_policy *p = calloc(1, sizeof *p);
    if (!p) {
        error_set(err, "out of memory");
        return NULL;
    }
    memcpy(p->action, cfg->action, sizeof p->action);
    const struct cnode *pn = cfg->patterns;
    size_t np = pn && pn->kind == CNODE_SEQ ? pn->n : 0;
    if (pn && pn->kind != CNODE_SEQ && pn->kind != CNODE_NULL) {
        char where[256];
        error_set(err, "%s: patterns: expected a list of {name, regex}",
                  cnode_where(pn, where, sizeof where));
        free(p);
        return NULL;
    }
    struct gc_pattern *pats = calloc(np + 1, sizeof *pats);
    if (!pats) {
        error_set(err, "out of memory");
        free(p);
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < np && rc == 0; i++) {
        char where[256];
        if (config_bind(pattern_fields, pn->items[i], &pats[i], err) != 0) {
            error_prefix(err, "patterns[%zu]: ", i);
            rc = -1;
        } else if (!pats[i].name[0] || strspn(pats[i].name, "abcdefghijklmnopqrstuvwxyz"
                                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                             "0123456789_.-") !=
                                           strlen(pats[i].name)) {
            rc = error_set(err, "%s: patterns[%zu].name: '%s': use letters, digits, '_', '.' "
                           "and '-' (it becomes a marker and a metric label)",
                           cnode_where(pn->items[i], where, sizeof where), i, pats[i].name);
        }
    }
    if (rc == 0) {
        const char *const *en = (const char *const *)cfg->detectors.items;
        p->det = gc_detectors_new(!cfg->detectors_set, en, cfg->detectors.n, pats, np,
                                  cfg->marker ? cfg->marker : "<redacted:{kind}>", err);
        if (!p->det)
            rc = -1;
    }
    for (size_t i = 0; i < np; i++)
        config_free_bound(pattern_fields, &pats[i]);
    free(pats);
    p->salt = strdup(cfg->hash_salt ? cfg->hash_salt : "");
    p->salt_len = p->salt ? strlen(p->salt) : 0;
    p->max_length = cfg->max_length > 0 ? (size_t)cfg->max_length : 0;
    p->trunc_marker = strdup(cfg->truncation_marker ? cfg->truncation_marker : "");
    p->trunc_marker_len = p->trunc_marker ? strlen(p->trunc_marker) : 0;
    if (rc == 0 && (!p->salt || !p->trunc_marker))
        rc = error_set(err, "out of memory");
    if (rc != 0) {
        gc_policy_free(p);
        return NULL;
    }
    return p;
}

void gc_policy_free(struct gc_policy *p)
{
    if (!p)
        return;
    gc_detectors_free(p->det);
    free(p->salt);
    free(p->trunc_marker);
    free(p);
}

const struct gc_detectors *gc_policy_detectors(const struct gc_policy *p) { return p->det; }

int gc_tally_init(struct gc_tally *t, const struct gc_policy *p)
{
    memset(t, 0, sizeof *t);
    t->redactions = calloc(gc_detectors_count(p->det) + 1, sizeof *t->redactions);
    return t->redactions ? 0 : -1;
}

void gc_tally_fini(struct gc_tally *t)
{
    free(t->redactions);
    t->redactions = NULL;
}

/* ---- one text ---------------------------------------------------------------------------- */

static char *hash_hex(const struct gc_policy *p, const char *s, size_t n, size_t *out_len)
{
    gnutls_hash_hd_t h;
    unsigned char dig[32];
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) != 0)
        return NULL;
    if ((p->salt_len && gnutls_hash(h, p->salt, p->salt_len) != 0) ||
        (n && gnutls_hash(h, s, n) != 0)) {
        gnutls_hash_deinit(h, dig);
        return NULL;
    }
    gnutls_hash_deinit(h, dig);
    char *o = malloc(65);
    if (!o)
        return NULL;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        o[2 * i] = hex[dig[i] >> 4];
        o[2 * i + 1] = hex[dig[i] & 15];
    }
    o[64] = '\0';
    *out_len = 64;
    return o;
}

/* Cuts at most max_length bytes, backing off to the start of a UTF-8 character, and appends the
 * marker. NULL when no cut is needed (or on out of memory: *nomem). */
static char *truncate_text(const struct gc_policy *p, const char *s, size_t n, size_t *out_len,
                           bool *nomem)
{
    if (!p->max_length || n <= p->max_length)
        return NULL;
    size_t k = p->max_length;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    char *o = malloc(k + p->trunc_marker_len + 1);
    if (!o) {
        *nomem = true;
        return NULL;
    }
    memcpy(o, s, k);
    memcpy(o + k, p->trunc_marker, p->trunc_marker_len);
    o[k + p->trunc_marker_len] = '\0';
    *out_len = k + p->trunc_marker_len;
    return o;
}

/* The action of family f on one content string. GC_CHANGED with *out malloc'd. */
static enum gc_result apply_text(const struct gc_policy *p, enum gc_family f, const char *s,
                                 size_t n, char **out, size_t *out_len, struct gc_tally *t,
                                 bool *redacted, bool *truncated)
{
    int act = p->action[f];
    if (act == GC_HASH) {
        *out = hash_hex(p, s, n, out_len);
        return *out ? GC_CHANGED : GC_NOMEM;
    }
    char *r = NULL;
    size_t rl = 0;
    if (act == GC_REDACT) {
        long k = gc_redact(p->det, s, n, &r, &rl, t->redactions);
        if (k < 0)
            return GC_NOMEM;
        if (k > 0) {
            *redacted = true;
            s = r;
            n = rl;
        }
    }
    bool nomem = false;
    size_t tl = 0;
    char *tr = truncate_text(p, s, n, &tl, &nomem);
    if (nomem) {
        free(r);
        return GC_NOMEM;
    }
    if (tr) {
        free(r);
        *truncated = true;
        *out = tr;
        *out_len = tl;
        return GC_CHANGED;
    }
    if (r) {
        *out = r;
        *out_len = rl;
        return GC_CHANGED;
    }
    return GC_SAME;
}

/* ---- messages as JSON -------------------------------------------------------------------- */

struct jwalk {
    const struct gc_policy *p;
    enum gc_family f;
    struct gc_tally *t;
    bool changed, redacted, truncated, nomem;
};

static bool structural_key(const char *k)
{
    return strcmp(k, "type") == 0 || strcmp(k, "id") == 0 || strcmp(k, "name") == 0 ||
           strcmp(k, "mime_type") == 0 || strcmp(k, "modality") == 0;
}

static void jwalk_value(struct jwalk *w, json_object *o)
{
    switch (json_object_get_type(o)) {
    case json_type_string: {
        char *out = NULL;
        size_t ol = 0;
        enum gc_result r = apply_text(w->p, w->f, json_object_get_string(o),
                                      (size_t)json_object_get_string_len(o), &out, &ol, w->t,
                                      &w->redacted, &w->truncated);
        if (r == GC_NOMEM)
            w->nomem = true;
        if (r == GC_CHANGED) {
            if (json_object_set_string_len(o, out, (int)ol) != 1)
                w->nomem = true;
            w->changed = true;
            free(out);
        }
        break;
    }
    case json_type_array:
        for (size_t i = 0, n = json_object_array_length(o); i < n; i++)
            jwalk_value(w, json_object_array_get_idx(o, i));
        break;
    case json_type_object: {
        json_object_object_foreach(o, k, v) {
            (void)k;
            jwalk_value(w, v);
        }
        break;
    }
    default:
        break;
    }
}

static bool json_is_string(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string);
}

/* A part: an object with a string type. NULL when fine, else why not. */
static const char *jcheck_part(json_object *part)
{
    if (!json_object_is_type(part, json_type_object))
        return "a message part is not an object";
    if (!json_is_string(part, "type"))
        return "a message part has no string 'type'";
    return NULL;
}

static const char *jcheck_parts(json_object *parts)
{
    if (!json_object_is_type(parts, json_type_array))
        return "'parts' is not an array";
    for (size_t i = 0, n = json_object_array_length(parts); i < n; i++) {
        const char *why = jcheck_part(json_object_array_get_idx(parts, i));
        if (why)
            return why;
    }
    return NULL;
}

static const char *jcheck(enum gc_family f, json_object *root)
{
    if (!json_object_is_type(root, json_type_array))
        return "not a JSON array";
    if (f == GC_SYSTEM_INSTRUCTIONS)
        return jcheck_parts(root);
    for (size_t i = 0, n = json_object_array_length(root); i < n; i++) {
        json_object *m = json_object_array_get_idx(root, i), *parts;
        if (!json_object_is_type(m, json_type_object))
            return "a message is not an object";
        if (!json_is_string(m, "role"))
            return "a message has no string 'role'";
        if (!json_object_object_get_ex(m, "parts", &parts))
            return "a message has no 'parts'";
        const char *why = jcheck_parts(parts);
        if (why)
            return why;
    }
    return NULL;
}

static void jwalk_parts(struct jwalk *w, json_object *parts)
{
    for (size_t i = 0, n = json_object_array_length(parts); i < n; i++) {
        json_object *part = json_object_array_get_idx(parts, i), *type;
        json_object_object_get_ex(part, "type", &type);
        /* A blob's content is base64 of binary data: no text to redact, and cutting it would
         * only corrupt it. */
        bool blob = strcmp(json_object_get_string(type), "blob") == 0;
        json_object_object_foreach(part, k, v) {
            if (structural_key(k) || (blob && strcmp(k, "content") == 0))
                continue;
            jwalk_value(w, v);
        }
    }
}

static void count_result(const struct gc_policy *p, enum gc_family f, struct gc_tally *t,
                         bool redacted, bool truncated)
{
    int act = p->action[f];
    if (act == GC_HASH || (act == GC_REDACT && redacted))
        t->changed[f][act]++;
    if (truncated)
        t->truncated[f]++;
}

/* The scan's visitor: whether one content string would change under the policy (apply_text
 * returns GC_CHANGED exactly when it is cut or, under redact, a detector finds something). */
struct fast {
    const struct gc_policy *p;
    enum gc_family f;
};

static int fast_visit(void *ud, const char *s, size_t n)
{
    const struct fast *x = ud;
    if (x->p->max_length && n > x->p->max_length)
        return 1;
    if (x->p->action[x->f] == GC_REDACT)
        return gc_detect(x->p->det, s, n);
    return 0;
}

enum gc_result gc_apply_json(const struct gc_policy *p, enum gc_family f, const char *s, size_t n,
                             char **out, size_t *out_len, struct gc_tally *t)
{
    int act = p->action[f];
    /* Most messages have nothing to change: one scan proves it without a tree. Whatever the scan
     * is not sure of (something to change, a wrong shape, text json-c may read otherwise) is
     * decided by the tree walk, as before. Under hash every content string changes. */
    if (act == GC_REDACT || (act == GC_KEEP && p->max_length)) {
        struct fast x = {p, f};
        enum gc_jscan r = gc_jscan_messages(s, n, f == GC_SYSTEM_INSTRUCTIONS, fast_visit, &x);
        if (r == GC_JSCAN_CLEAN)
            return GC_SAME;
        if (r == GC_JSCAN_NOMEM)
            return GC_NOMEM;
        enum gc_result res = gc_apply_json_tree(p, f, s, n, out, out_len, t);
        if (r == GC_JSCAN_CHANGE && res == GC_SAME) {
            /* The scan saw content to change that json-c's tree does not hold: a key given twice,
             * whose earlier value json-c drops ({"content":"jane@x.com","content":"hi"}). Sent
             * on unchanged, the text would carry it: fail closed. */
            t->why = GC_WHY_HIDDEN;
            t->unparsable[f]++;
            return GC_UNPARSABLE;
        }
        return res;
    }
    return gc_apply_json_tree(p, f, s, n, out, out_len, t);
}

enum gc_result gc_apply_json_tree(const struct gc_policy *p, enum gc_family f, const char *s,
                                  size_t n, char **out, size_t *out_len, struct gc_tally *t)
{
    int act = p->action[f];
    if (act == GC_DROP) {
        t->changed[f][GC_DROP]++;
        return GC_DROPPED;
    }
    if (act == GC_KEEP && !p->max_length)
        return GC_SAME;
    json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!tok)
        return GC_NOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = n > (size_t)INT32_MAX ? NULL : json_tokener_parse_ex(tok, s, (int)n);
    const char *why = NULL;
    if (!root || json_tokener_get_error(tok) != json_tokener_success)
        why = "not valid JSON";
    else if (json_tokener_get_parse_end(tok) < n &&
             strspn(s + json_tokener_get_parse_end(tok), " \t\r\n") !=
                 n - json_tokener_get_parse_end(tok))
        why = "text after the JSON value";
    else if (memchr(s, '\0', n))
        why = "not valid JSON";
    json_tokener_free(tok);
    if (!why)
        why = jcheck(f, root);
    if (why) {
        json_object_put(root);
        t->why = why;
        t->unparsable[f]++;
        return GC_UNPARSABLE;
    }
    struct jwalk w = {.p = p, .f = f, .t = t};
    if (f == GC_SYSTEM_INSTRUCTIONS) {
        jwalk_parts(&w, root);
    } else {
        for (size_t i = 0, k = json_object_array_length(root); i < k; i++) {
            json_object *parts;
            json_object_object_get_ex(json_object_array_get_idx(root, i), "parts", &parts);
            jwalk_parts(&w, parts);
        }
    }
    enum gc_result r = GC_SAME;
    if (w.nomem) {
        r = GC_NOMEM;
    } else if (w.changed) {
        size_t len = 0;
        const char *txt = json_object_to_json_string_length(
            root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        *out = txt ? malloc(len + 1) : NULL;
        if (!*out) {
            r = GC_NOMEM;
        } else {
            memcpy(*out, txt, len + 1);
            *out_len = len;
            r = GC_CHANGED;
            count_result(p, f, t, w.redacted, w.truncated);
        }
    }
    json_object_put(root);
    return r;
}

/* ---- values (attributes, log bodies) ----------------------------------------------------- */

static otlp_any *any_new(struct arena *a)
{
    otlp_any *v = arena_alloc(a, sizeof *v);
    if (v)
        opentelemetry__proto__common__v1__any_value__init(v);
    return v;
}

static otlp_any *any_string(struct arena *a, const char *s, size_t n)
{
    otlp_any *v = any_new(a);
    char *c = v ? arena_alloc(a, n + 1) : NULL;
    if (!c)
        return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    v->value_case = V_STRING;
    v->string_value = c;
    return v;
}

struct vwalk {
    const struct gc_policy *p;
    enum gc_family f;
    struct gc_tally *t;
    struct arena *a;
    bool redacted, truncated, nomem;
    bool too_deep;   /* a value nested deeper than JSON_MAX_DEPTH: not walked, so dropped */
};

/* A copy of v (in w->a) with its content strings changed, or NULL when nothing changed (or on
 * out of memory: w->nomem). `part`: v is a message part, whose structural keys stay. */
static otlp_any *vwalk(struct vwalk *w, const otlp_any *v, int depth, bool part);

static otlp_array *vwalk_array(struct vwalk *w, const otlp_array *arr, int depth, bool parts)
{
    otlp_any **vals = NULL;
    for (size_t i = 0; i < arr->n_values && !w->nomem; i++) {
        otlp_any *nv = arr->values[i] ? vwalk(w, arr->values[i], depth + 1, parts) : NULL;
        if (!nv)
            continue;
        if (!vals) {
            vals = arena_alloc(w->a, arr->n_values * sizeof *vals);
            if (!vals) {
                w->nomem = true;
                return NULL;
            }
            memcpy(vals, arr->values, arr->n_values * sizeof *vals);
        }
        vals[i] = nv;
    }
    if (!vals)
        return NULL;
    otlp_array *na = arena_alloc(w->a, sizeof *na);
    if (!na) {
        w->nomem = true;
        return NULL;
    }
    opentelemetry__proto__common__v1__array_value__init(na);
    na->n_values = arr->n_values;
    na->values = vals;
    return na;
}

static const char *kv_string(const otlp_kvlist *l, const char *key)
{
    for (size_t i = 0; i < l->n_values; i++)
        if (l->values[i] && l->values[i]->key && strcmp(l->values[i]->key, key) == 0)
            return l->values[i]->value && l->values[i]->value->value_case == V_STRING
                       ? l->values[i]->value->string_value
                       : NULL;
    return NULL;
}

static otlp_kvlist *vwalk_kvlist(struct vwalk *w, const otlp_kvlist *l, int depth, bool part)
{
    otlp_kv **kvs = NULL;
    bool blob = part && kv_string(l, "type") && strcmp(kv_string(l, "type"), "blob") == 0;
    for (size_t i = 0; i < l->n_values && !w->nomem; i++) {
        const otlp_kv *kv = l->values[i];
        if (!kv || !kv->value || !kv->key)
            continue;
        if (part && (structural_key(kv->key) || (blob && strcmp(kv->key, "content") == 0)))
            continue;
        otlp_any *nv = vwalk(w, kv->value, depth + 1, false);
        if (!nv)
            continue;
        otlp_kv *nkv = arena_alloc(w->a, sizeof *nkv);
        if (!kvs && nkv) {
            kvs = arena_alloc(w->a, l->n_values * sizeof *kvs);
            if (kvs)
                memcpy(kvs, l->values, l->n_values * sizeof *kvs);
        }
        if (!nkv || !kvs) {
            w->nomem = true;
            return NULL;
        }
        *nkv = *kv;
        nkv->value = nv;
        kvs[i] = nkv;
    }
    if (!kvs)
        return NULL;
    otlp_kvlist *nl = arena_alloc(w->a, sizeof *nl);
    if (!nl) {
        w->nomem = true;
        return NULL;
    }
    opentelemetry__proto__common__v1__key_value_list__init(nl);
    nl->n_values = l->n_values;
    nl->values = kvs;
    return nl;
}

static otlp_any *vwalk(struct vwalk *w, const otlp_any *v, int depth, bool part)
{
    if (depth > JSON_MAX_DEPTH) {
        w->too_deep = true;
        return NULL;
    }
    if (v->value_case == V_STRING && v->string_value) {
        char *out = NULL;
        size_t ol = 0;
        enum gc_result r = apply_text(w->p, w->f, v->string_value, strlen(v->string_value), &out,
                                      &ol, w->t, &w->redacted, &w->truncated);
        if (r == GC_NOMEM)
            w->nomem = true;
        if (r != GC_CHANGED)
            return NULL;
        otlp_any *nv = any_string(w->a, out, ol);
        free(out);
        if (!nv)
            w->nomem = true;
        return nv;
    }
    if (v->value_case == V_ARRAY && v->array_value) {
        otlp_array *na = vwalk_array(w, v->array_value, depth, part);
        otlp_any *nv = na ? any_new(w->a) : NULL;
        if (na && !nv)
            w->nomem = true;
        if (nv) {
            nv->value_case = V_ARRAY;
            nv->array_value = na;
        }
        return nv;
    }
    if (v->value_case == V_KVLIST && v->kvlist_value) {
        otlp_kvlist *nl = vwalk_kvlist(w, v->kvlist_value, depth, part);
        otlp_any *nv = nl ? any_new(w->a) : NULL;
        if (nl && !nv)
            w->nomem = true;
        if (nv) {
            nv->value_case = V_KVLIST;
            nv->kvlist_value = nl;
        }
        return nv;
    }
    return NULL;
}

static const otlp_kvlist *as_kvlist(const otlp_any *v)
{
    return v && v->value_case == V_KVLIST && v->kvlist_value ? v->kvlist_value : NULL;
}

static const otlp_any *kv_get(const otlp_kvlist *l, const char *key)
{
    for (size_t i = 0; i < l->n_values; i++)
        if (l->values[i] && l->values[i]->key && strcmp(l->values[i]->key, key) == 0)
            return l->values[i]->value;
    return NULL;
}

static const char *vcheck_parts(const otlp_any *v)
{
    if (!v || v->value_case != V_ARRAY || !v->array_value)
        return "'parts' is not an array";
    for (size_t i = 0; i < v->array_value->n_values; i++) {
        const otlp_kvlist *part = as_kvlist(v->array_value->values[i]);
        if (!part)
            return "a message part is not a map";
        if (!kv_string(part, "type"))
            return "a message part has no string 'type'";
    }
    return NULL;
}

static const char *vcheck(enum gc_family f, const otlp_any *v)
{
    if (v->value_case == V_STRING)
        return NULL;
    if (v->value_case != V_ARRAY || !v->array_value)
        return "neither JSON text nor an array of messages";
    if (f == GC_SYSTEM_INSTRUCTIONS)
        return vcheck_parts(v);
    for (size_t i = 0; i < v->array_value->n_values; i++) {
        const otlp_kvlist *m = as_kvlist(v->array_value->values[i]);
        if (!m)
            return "a message is not a map";
        if (!kv_string(m, "role"))
            return "a message has no string 'role'";
        const char *why = vcheck_parts(kv_get(m, "parts"));
        if (why)
            return why;
    }
    return NULL;
}

static bool is_messages(enum gc_family f)
{
    return f == GC_INPUT_MESSAGES || f == GC_OUTPUT_MESSAGES || f == GC_SYSTEM_INSTRUCTIONS;
}

enum gc_result gc_apply_text(const struct gc_policy *p, enum gc_family f, const char *s, size_t n,
                             char **out, size_t *out_len, struct gc_tally *t)
{
    int act = p->action[f];
    if (act == GC_DROP) {
        t->changed[f][GC_DROP]++;
        return GC_DROPPED;
    }
    if (act == GC_KEEP && !p->max_length)
        return GC_SAME;
    if (is_messages(f)) {
        enum gc_result r = gc_apply_json(p, f, s, n, out, out_len, t);
        /* keep only bounds the size: text that is not messages is cut as it is */
        if (!(r == GC_UNPARSABLE && act == GC_KEEP))
            return r;
    }
    bool redacted = false, truncated = false;
    enum gc_result r = apply_text(p, f, s, n, out, out_len, t, &redacted, &truncated);
    if (r == GC_CHANGED)
        count_result(p, f, t, redacted, truncated);
    return r;
}

enum gc_result gc_apply_value(const struct gc_policy *p, enum gc_family f, const otlp_any *v,
                              struct arena *a, otlp_any **out, struct gc_tally *t)
{
    int act = p->action[f];
    if (v->value_case == V_STRING && v->string_value) {
        char *o = NULL;
        size_t ol = 0;
        enum gc_result r = gc_apply_text(p, f, v->string_value, strlen(v->string_value), &o, &ol,
                                         t);
        if (r != GC_CHANGED)
            return r;
        *out = any_string(a, o, ol);
        free(o);
        return *out ? GC_CHANGED : GC_NOMEM;
    }
    if (act == GC_DROP) {
        t->changed[f][GC_DROP]++;
        return GC_DROPPED;
    }
    if (act == GC_KEEP && !p->max_length)
        return GC_SAME;
    if (is_messages(f)) {
        const char *why = vcheck(f, v);
        if (why) {
            if (act == GC_KEEP)
                return GC_SAME;
            t->why = why;
            t->unparsable[f]++;
            return GC_UNPARSABLE;
        }
        /* Every message (or, for system instructions, every part) is walked as a part-level
         * map, so the structural keys of parts stay; role and finish_reason of a message are
         * not content either. */
        struct vwalk w = {.p = p, .f = f, .t = t, .a = a};
        otlp_array *na = NULL;
        const otlp_array *arr = v->array_value;
        if (f == GC_SYSTEM_INSTRUCTIONS) {
            na = vwalk_array(&w, arr, 1, true);
        } else {
            otlp_any **msgs = NULL;
            for (size_t i = 0; i < arr->n_values && !w.nomem; i++) {
                const otlp_kvlist *m = as_kvlist(arr->values[i]);
                size_t pi = 0;
                while (pi < m->n_values && !(m->values[pi] && m->values[pi]->key &&
                                             strcmp(m->values[pi]->key, "parts") == 0))
                    pi++;
                otlp_array *np = vwalk_array(&w, m->values[pi]->value->array_value, 2, true);
                if (!np)
                    continue;
                /* new message map: same keys, new parts */
                otlp_kvlist *nm = arena_alloc(a, sizeof *nm);
                otlp_kv **kvs = arena_alloc(a, m->n_values * sizeof *kvs);
                otlp_kv *pkv = arena_alloc(a, sizeof *pkv);
                otlp_any *pv = any_new(a), *mv = any_new(a);
                if (!msgs) {
                    msgs = arena_alloc(a, arr->n_values * sizeof *msgs);
                    if (msgs)
                        memcpy(msgs, arr->values, arr->n_values * sizeof *msgs);
                }
                if (!nm || !kvs || !pkv || !pv || !mv || !msgs) {
                    w.nomem = true;
                    break;
                }
                opentelemetry__proto__common__v1__key_value_list__init(nm);
                memcpy(kvs, m->values, m->n_values * sizeof *kvs);
                *pkv = *m->values[pi];
                pv->value_case = V_ARRAY;
                pv->array_value = np;
                pkv->value = pv;
                kvs[pi] = pkv;
                nm->n_values = m->n_values;
                nm->values = kvs;
                mv->value_case = V_KVLIST;
                mv->kvlist_value = nm;
                msgs[i] = mv;
            }
            if (msgs && !w.nomem) {
                na = arena_alloc(a, sizeof *na);
                if (na) {
                    opentelemetry__proto__common__v1__array_value__init(na);
                    na->n_values = arr->n_values;
                    na->values = msgs;
                }
            }
        }
        if (w.nomem)
            return GC_NOMEM;
        if (w.too_deep) {
            t->why = "nested too deeply";
            t->unparsable[f]++;
            return GC_UNPARSABLE;
        }
        if (!na)
            return GC_SAME;
        otlp_any *nv = any_new(a);
        if (!nv)
            return GC_NOMEM;
        nv->value_case = V_ARRAY;
        nv->array_value = na;
        *out = nv;
        count_result(p, f, t, w.redacted, w.truncated);
        return GC_CHANGED;
    }
    if (act == GC_HASH && v->value_case != V_STRING) {
        /* hash of the value as the Collector renders it as a string (maps and arrays as JSON) */
        char small[256];
        size_t len = attraction_as_string(v, small, sizeof small);
        char *buf = len < sizeof small ? small : malloc(len + 1);
        if (!buf)
            return GC_NOMEM;
        if (buf != small)
            attraction_as_string(v, buf, len + 1);
        size_t hl = 0;
        char *h = hash_hex(p, buf, len, &hl);
        if (buf != small)
            free(buf);
        *out = h ? any_string(a, h, hl) : NULL;
        free(h);
        if (!*out)
            return GC_NOMEM;
        t->changed[f][GC_HASH]++;
        return GC_CHANGED;
    }
    struct vwalk w = {.p = p, .f = f, .t = t, .a = a};
    otlp_any *nv = vwalk(&w, v, 0, false);
    if (w.nomem)
        return GC_NOMEM;
    if (w.too_deep) {
        /* content below the limit was not looked at: it is not passed on (fail closed) */
        t->why = "nested too deeply";
        t->unparsable[f]++;
        return GC_UNPARSABLE;
    }
    if (!nv)
        return GC_SAME;
    *out = nv;
    count_result(p, f, t, w.redacted, w.truncated);
    return GC_CHANGED;
}

enum gc_result gc_apply_any(const struct gc_policy *p, enum gc_family f, const uint8_t *any,
                            size_t len, struct arena *a, const uint8_t **out, size_t *out_len,
                            struct gc_tally *t)
{
    struct wi_value v;
    wi_value_read(any, len, &v);
    if (v.type == WI_STRING) {
        /* the usual case: the text is read where it lies, and written only when it changes */
        char *o = NULL;
        size_t ol = 0;
        enum gc_result r = gc_apply_text(p, f, (const char *)v.data, v.len, &o, &ol, t);
        if (r != GC_CHANGED)
            return r;
        size_t n = pb_any_string(NULL, o, ol);
        uint8_t *buf = arena_alloc(a, n);
        if (buf)
            pb_any_string(buf, o, ol);
        free(o);
        if (!buf)
            return GC_NOMEM;
        *out = buf;
        *out_len = n;
        return GC_CHANGED;
    }
    int act = p->action[f];
    if (act == GC_DROP) {
        t->changed[f][GC_DROP]++;
        return GC_DROPPED;
    }
    if (act == GC_KEEP && !p->max_length)
        return GC_SAME;
    /* maps, arrays and the rest: decoded alone, through the same code as a decoded request */
    ProtobufCMessage *m = protobuf_c_message_unpack(
        &opentelemetry__proto__common__v1__any_value__descriptor, arena_allocator(a), len, any);
    if (!m)
        return GC_NOMEM; /* validated bytes always decode: fail closed all the same */
    otlp_any *nv = NULL;
    enum gc_result r = gc_apply_value(p, f, (const otlp_any *)m, a, &nv, t);
    if (r != GC_CHANGED)
        return r;
    size_t n = protobuf_c_message_get_packed_size(&nv->base);
    uint8_t *buf = arena_alloc(a, n ? n : 1);
    if (!buf)
        return GC_NOMEM;
    protobuf_c_message_pack(&nv->base, buf);
    *out = buf;
    *out_len = n;
    return GC_CHANGED;
}
