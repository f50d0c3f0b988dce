/* messages.c — rebuilds chat messages carried in older shapes into the GenAI semantic
 * conventions' JSON attributes gen_ai.input.messages, gen_ai.output.messages and
 * gen_ai.system_instructions (schemas: docs/gen-ai/gen-ai-{input,output}-messages.json and
 * gen-ai-system-instructions.json; copies in tests/fixtures/semconv/).
 *
 * Three shapes come in: the flattened attributes of OpenInference
 * (llm.input_messages.N.message.{role,content,tool_call_id,contents.M.message_content.*,
 * tool_calls.K.tool_call.*}) and of OpenLLMetry (gen_ai.prompt.N.*, gen_ai.completion.N.*), and
 * the deprecated per-message span events (gen_ai.{system,user,assistant,tool}.message,
 * gen_ai.choice).
 *
 * The one idea: every shape is first read into one small message model (role, content, tool call
 * id, finish reason, content parts, tool calls), then one writer turns that model into JSON with
 * json-c. The flattened shapes are read as a list of (message index, part index, field, value)
 * entries sorted by index, so indices are never used as array sizes and the work is bounded by
 * the number of attributes. An attribute of a family that is not as expected (unknown field,
 * value of the wrong type, JSON that does not parse) makes the whole family stay as it came.
 *
 * Two writing styles: GS_MSG_SEMCONV (genai_semconv: system messages go to
 * gen_ai.system_instructions, text and tool calls of one message are both kept, finish reasons
 * are written on output messages) and GS_MSG_COLLECTOR (gen_ai_normalizer: the contrib
 * processor's output for OpenInference, byte for byte in the common cases: Go's encoding/json
 * escaping of <, > and &, tool call arguments re-encoded with sorted keys, a message with tool
 * calls loses its text, a "user" message with a tool_call_id becomes "tool"). */
#include "processors/genai_semconv/genai_semconv.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE

/* Nesting accepted in tool-call arguments and event JSON: deeper input is "not as expected". */
#define GS_JSON_DEPTH 64

/* ---- the message model ----------------------------------------------------------------------- */

struct m_call {
    const char *id, *name, *args;
};
enum { P_TEXT, P_IMAGE };
struct m_part {
    int kind;
    const char *text; /* P_TEXT: the text; P_IMAGE: the URL */
};
struct m_msg {
    const char *role, *content, *tool_call_id, *finish;
    struct m_call *calls;
    size_t n_calls;
    struct m_part *parts;
    size_t n_parts;
};

/* ---- flattened attributes -------------------------------------------------------------------- */

enum field {
    F_ROLE, F_CONTENT, F_TOOL_CALL_ID, F_FINISH, F_NAME, F_IGNORED,
    F_PART_TYPE, F_PART_TEXT, F_PART_IMAGE,      /* sub = content part index */
    F_CALL_ID, F_CALL_NAME, F_CALL_ARGS,         /* sub = tool call index */
};

struct entry {
    unsigned long msg, sub;
    int field;
    const char *value;
    size_t attr;
};

static const char *const family_prefix[GS_MSG_FAMILY_COUNT] = {
    "llm.input_messages.", "llm.output_messages.", "gen_ai.prompt.", "gen_ai.completion.",
};

bool gs_msg_family_is_output(enum gs_msg_family f)
{
    return f == GS_MSG_OI_OUTPUT || f == GS_MSG_OLL_COMPLETION;
}

/* Reads decimal digits and the dot after them; NULL when there are none. */
static const char *index_dot(const char *s, unsigned long *out)
{
    unsigned long v = 0;
    const char *c = s;
    for (; *c >= '0' && *c <= '9'; c++) {
        if (v > 100000000ul)
            return NULL; /* no instrumentation writes such indices: not as expected */
        v = v * 10 + (unsigned long)(*c - '0');
    }
    if (c == s || *c != '.')
        return NULL;
    *out = v;
    return c + 1;
}

/* The field of an OpenInference key after "N.message."; -1: unknown. */
static int oi_field(const char *f, unsigned long *sub)
{
    static const struct { const char *name; int field; } plain[] = {
        {"role", F_ROLE}, {"content", F_CONTENT}, {"tool_call_id", F_TOOL_CALL_ID},
        {"name", F_NAME}, {"function_call_name", F_IGNORED},
        {"function_call_arguments_json", F_IGNORED},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(f, plain[i].name) == 0)
            return plain[i].field;
    const char *r;
    if (strncmp(f, "contents.", 9) == 0 && (r = index_dot(f + 9, sub)) &&
        strncmp(r, "message_content.", 16) == 0) {
        r += 16;
        if (strcmp(r, "type") == 0)
            return F_PART_TYPE;
        if (strcmp(r, "text") == 0)
            return F_PART_TEXT;
        if (strcmp(r, "image.image.url") == 0)
            return F_PART_IMAGE;
        return -1;
    }
    if (strncmp(f, "tool_calls.", 11) == 0 && (r = index_dot(f + 11, sub)) &&
        strncmp(r, "tool_call.", 10) == 0) {
        r += 10;
        if (strcmp(r, "id") == 0)
            return F_CALL_ID;
        if (strcmp(r, "function.name") == 0)
            return F_CALL_NAME;
        if (strcmp(r, "function.arguments") == 0)
            return F_CALL_ARGS;
    }
    return -1;
}

/* The field of an OpenLLMetry key after "N."; -1: unknown. */
static int oll_field(const char *f, unsigned long *sub)
{
    static const struct { const char *name; int field; } plain[] = {
        {"role", F_ROLE}, {"content", F_CONTENT}, {"tool_call_id", F_TOOL_CALL_ID},
        {"finish_reason", F_FINISH}, {"name", F_NAME},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(f, plain[i].name) == 0)
            return plain[i].field;
    const char *r;
    if (strncmp(f, "tool_calls.", 11) == 0 && (r = index_dot(f + 11, sub))) {
        if (strcmp(r, "id") == 0)
            return F_CALL_ID;
        if (strcmp(r, "name") == 0)
            return F_CALL_NAME;
        if (strcmp(r, "arguments") == 0)
            return F_CALL_ARGS;
    }
    return -1;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->msg != y->msg)
        return x->msg < y->msg ? -1 : 1;
    if (x->sub != y->sub)
        return x->sub < y->sub ? -1 : 1;
    if (x->field != y->field)
        return x->field < y->field ? -1 : 1;
    return x->attr < y->attr ? -1 : x->attr > y->attr;
}

/* A scalar as the Collector's AsString writes it; NULL for other kinds. */
static const char *scalar_string(const AnyValue *v, struct arena *a)
{
    char buf[40];
    if (!v)
        return NULL;
    switch (v->value_case) {
    case V_STRING:
        return v->string_value ? v->string_value : "";
    case V_BOOL:
        return v->bool_value ? "true" : "false";
    case V_INT:
        snprintf(buf, sizeof buf, "%" PRId64, v->int_value);
        return arena_strdup(a, buf);
    case V_DOUBLE:
        snprintf(buf, sizeof buf, "%.17g", v->double_value);
        return arena_strdup(a, buf);
    default:
        return NULL;
    }
}

/* Builds the model from sorted entries. Returns the message count, or -1 when not as expected. */
static long build_model(const struct entry *e, size_t ne, struct arena *a, struct m_msg **out)
{
    size_t nm = 0;
    for (size_t i = 0; i < ne; i++)
        if (i == 0 || e[i].msg != e[i - 1].msg)
            nm++;
    struct m_msg *m = arena_alloc(a, (nm ? nm : 1) * sizeof *m);
    struct m_call *calls = arena_alloc(a, (ne ? ne : 1) * sizeof *calls);
    struct m_part *parts = arena_alloc(a, (ne ? ne : 1) * sizeof *parts);
    if (!m || !calls || !parts)
        return -2;
    memset(m, 0, (nm ? nm : 1) * sizeof *m);
    long k = -1;
    size_t nc = 0, np = 0;
    for (size_t i = 0; i < ne; i++) {
        bool new_msg = i == 0 || e[i].msg != e[i - 1].msg;
        bool new_sub = new_msg || e[i].sub != e[i - 1].sub;
        if (new_msg)
            m[++k].calls = calls + nc, m[k].parts = parts + np;
        struct m_msg *cur = &m[k];
        const char *v = e[i].value;
        switch (e[i].field) {
        case F_ROLE: cur->role = v; break;
        case F_CONTENT: cur->content = v; break;
        case F_TOOL_CALL_ID: cur->tool_call_id = v; break;
        case F_FINISH: cur->finish = v; break;
        case F_NAME: case F_IGNORED: break;
        case F_PART_TYPE: case F_PART_TEXT: case F_PART_IMAGE: {
            /* entries of one part sort together: type, then text or image */
            bool same = !new_sub && i > 0 && e[i - 1].field >= F_PART_TYPE &&
                        e[i - 1].field <= F_PART_IMAGE;
            if (!same) {
                cur->parts[cur->n_parts++] = (struct m_part){.kind = -1};
                np++;
            }
            struct m_part *p = &cur->parts[cur->n_parts - 1];
            if (e[i].field == F_PART_TYPE) {
                if (strcmp(v, "text") != 0 && strcmp(v, "image") != 0)
                    return -1;
                int kind = strcmp(v, "text") == 0 ? P_TEXT : P_IMAGE;
                if (p->kind >= 0 && p->kind != kind)
                    return -1;
                p->kind = kind;
            } else {
                int kind = e[i].field == F_PART_TEXT ? P_TEXT : P_IMAGE;
                if (p->kind >= 0 && p->kind != kind)
                    return -1;
                p->kind = kind;
                p->text = v;
            }
            break;
        }
        default: { /* tool call fields */
            bool same = !new_sub && i > 0 && e[i - 1].field >= F_CALL_ID;
            if (!same) {
                cur->calls[cur->n_calls++] = (struct m_call){0};
                nc++;
            }
            struct m_call *c = &cur->calls[cur->n_calls - 1];
            if (e[i].field == F_CALL_ID)
                c->id = v;
            else if (e[i].field == F_CALL_NAME)
                c->name = v;
            else
                c->args = v;
        }
        }
    }
    for (size_t i = 0; i < nm; i++)
        for (size_t j = 0; j < m[i].n_parts; j++)
            if (m[i].parts[j].kind < 0 || !m[i].parts[j].text)
                return -1; /* a type without its text, or the reverse */
    *out = m;
    return (long)nm;
}

/* ---- JSON writing ---------------------------------------------------------------------------- */

static struct json_object *parse_json(const char *s)
{
    struct json_tokener *tok = json_tokener_new_ex(GS_JSON_DEPTH);
    if (!tok)
        return NULL;
    size_t len = strlen(s);
    struct json_object *o = json_tokener_parse_ex(tok, s, (int)(len > 0x7fffffff ? 0 : len));
    if (json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of `o` whose objects have their keys sorted, as Go's encoding/json writes a map. */
static struct json_object *sorted_copy(struct json_object *o)
{
    if (json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        struct json_object *r = json_object_new_array_ext((int)n);
        for (size_t i = 0; r && i < n; i++)
            json_object_array_add(r, sorted_copy(json_object_array_get_idx(o, i)));
        return r;
    }
    if (!json_object_is_type(o, json_type_object))
        return json_object_get(o);
    size_t n = (size_t)json_object_object_length(o), k = 0;
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    struct json_object *r = json_object_new_object();
    if (!keys || !r) {
        free(keys);
        json_object_put(r);
        return NULL;
    }
    json_object_object_foreach(o, key, val) {
        (void)val;
        keys[k++] = key;
    }
    qsort(keys, n, sizeof *keys, key_cmp);
    for (size_t i = 0; i < n; i++)
        json_object_object_add(r, keys[i], sorted_copy(json_object_object_get(o, keys[i])));
    free(keys);
    return r;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static struct json_object *text_part(const char *text)
{
    struct json_object *p = json_object_new_object();
    add_str(p, "type", "text");
    add_str(p, "content", text);
    return p;
}

/* OpenLLMetry writes Anthropic-style content blocks as a JSON string: '[{"type":"text",...}]'.
 * Adds their text parts to `parts` and returns true, or false when `s` is not such a list. */
static bool add_text_blocks(struct json_object *parts, const char *s)
{
    if (s[0] != '[')
        return false;
    struct json_object *arr = parse_json(s);
    if (!arr || !json_object_is_type(arr, json_type_array) ||
        json_object_array_length(arr) == 0) {
        json_object_put(arr);
        return false;
    }
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        struct json_object *b = json_object_array_get_idx(arr, i), *t, *x;
        if (!json_object_object_get_ex(b, "type", &t) ||
            strcmp(json_object_get_string(t), "text") != 0 ||
            !json_object_object_get_ex(b, "text", &x) || !json_object_is_type(x, json_type_string)) {
            json_object_put(arr);
            return false;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *x;
        json_object_object_get_ex(json_object_array_get_idx(arr, i), "text", &x);
        json_object_array_add(parts, text_part(json_object_get_string(x)));
    }
    json_object_put(arr);
    return true;
}

static struct json_object *call_part(const struct m_call *c, enum gs_msg_style style)
{
    struct json_object *p = json_object_new_object();
    add_str(p, "type", "tool_call");
    if (c->id && (c->id[0] || style == GS_MSG_SEMCONV))
        add_str(p, "id", c->id);
    add_str(p, "name", c->name);
    if (c->args && c->args[0]) {
        struct json_object *args = parse_json(c->args);
        if (args && style == GS_MSG_COLLECTOR) {
            struct json_object *s = sorted_copy(args);
            json_object_put(args);
            args = s;
        }
        json_object_object_add(p, "arguments", args ? args : json_object_new_string(c->args));
    }
    return p;
}

static void image_part(struct json_object *parts, const char *url)
{
    struct json_object *p = json_object_new_object();
    /* A data: URL carries the bytes (a blob part); anything else is a reference (a uri part). */
    const char *b64 = strncmp(url, "data:", 5) == 0 ? strstr(url, ";base64,") : NULL;
    if (b64) {
        add_str(p, "type", "blob");
        json_object_object_add(p, "mime_type",
                               json_object_new_string_len(url + 5, (int)(b64 - url - 5)));
        add_str(p, "modality", "image");
        add_str(p, "content", b64 + 8);
    } else {
        add_str(p, "type", "uri");
        add_str(p, "modality", "image");
        add_str(p, "uri", url);
    }
    json_object_array_add(parts, p);
}

/* The parts of one message. */
static struct json_object *message_parts(const struct m_msg *m, enum gs_msg_style style,
                                         bool blocks)
{
    struct json_object *parts = json_object_new_array();
    if (m->tool_call_id && m->tool_call_id[0]) {
        struct json_object *p = json_object_new_object();
        add_str(p, "type", "tool_call_response");
        add_str(p, "id", m->tool_call_id);
        add_str(p, "response", m->content);
        json_object_array_add(parts, p);
        return parts;
    }
    if (style == GS_MSG_COLLECTOR) {
        if (m->n_calls) {
            for (size_t i = 0; i < m->n_calls; i++)
                json_object_array_add(parts, call_part(&m->calls[i], style));
        } else if (m->content && m->content[0]) {
            json_object_array_add(parts, text_part(m->content));
        }
        return parts;
    }
    if (m->content && m->content[0] && !(blocks && add_text_blocks(parts, m->content)))
        json_object_array_add(parts, text_part(m->content));
    for (size_t i = 0; i < m->n_parts; i++) {
        if (m->parts[i].kind == P_TEXT)
            json_object_array_add(parts, text_part(m->parts[i].text));
        else
            image_part(parts, m->parts[i].text);
    }
    for (size_t i = 0; i < m->n_calls; i++)
        json_object_array_add(parts, call_part(&m->calls[i], style));
    return parts;
}

/* Go's encoding/json escapes what json-c writes plainly: <, >, & (HTML safety), U+2028/U+2029,
 * and writes \b, \f as \u0008, \u000c. Returns the rewritten text in the arena. */
static char *go_escape(const char *s, struct arena *a)
{
    size_t n = 0;
    for (const char *c = s; *c; c++)
        n++;
    char *out = arena_alloc(a, n * 6 + 1);
    if (!out)
        return NULL;
    size_t k = 0;
    for (const char *c = s; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch == '\\' && (c[1] == 'b' || c[1] == 'f')) {
            k += (size_t)sprintf(out + k, "\\u%04x", c[1] == 'b' ? 8 : 12);
            c++;
        } else if (ch == '\\' && c[1]) {
            out[k++] = *c++;
            out[k++] = *c;
        } else if (ch == '<' || ch == '>' || ch == '&') {
            k += (size_t)sprintf(out + k, "\\u%04x", ch);
        } else if (ch == 0xE2 && (unsigned char)c[1] == 0x80 &&
                   ((unsigned char)c[2] == 0xA8 || (unsigned char)c[2] == 0xA9)) {
            k += (size_t)sprintf(out + k, "\\u%04x", (unsigned char)c[2] == 0xA8 ? 0x2028 : 0x2029);
            c += 2;
        } else {
            out[k++] = *c;
        }
    }
    out[k] = '\0';
    return out;
}

static char *to_arena(struct json_object *o, enum gs_msg_style style, struct arena *a)
{
    const char *s = json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!s)
        return NULL;
    return style == GS_MSG_COLLECTOR ? go_escape(s, a) : arena_strdup(a, s);
}

/* The finish reason of output message i: its own, else the span's (one per choice, or one for
 * all). */
static const char *finish_for(const struct m_msg *m, size_t i, size_t n,
                              const AnyValue *span_reasons)
{
    if (m->finish && m->finish[0])
        return m->finish;
    if (!span_reasons)
        return NULL;
    if (span_reasons->value_case == V_STRING)
        return span_reasons->string_value;
    if (span_reasons->value_case != V_ARRAY || !span_reasons->array_value)
        return NULL;
    const Opentelemetry__Proto__Common__V1__ArrayValue *arr = span_reasons->array_value;
    size_t j = arr->n_values == n ? i : arr->n_values == 1 ? 0 : SIZE_MAX;
    if (j == SIZE_MAX || !arr->values[j] || arr->values[j]->value_case != V_STRING)
        return NULL;
    return arr->values[j]->string_value;
}

/* Writes the model as JSON: 1 done, -2 out of memory. */
static int write_model(const struct m_msg *m, size_t nm, bool output, enum gs_msg_style style,
                       bool blocks, const AnyValue *span_reasons, struct arena *a,
                       struct gs_msg_out *out)
{
    struct json_object *msgs = json_object_new_array();
    struct json_object *sys = json_object_new_array();
    if (!msgs || !sys) {
        json_object_put(msgs);
        json_object_put(sys);
        return -2;
    }
    for (size_t i = 0; i < nm; i++) {
        const char *role = m[i].role;
        if (style == GS_MSG_SEMCONV && !output && role && strcmp(role, "system") == 0 &&
            !(m[i].tool_call_id && m[i].tool_call_id[0])) {
            struct json_object *parts = message_parts(&m[i], style, blocks);
            for (size_t j = 0; j < json_object_array_length(parts); j++)
                json_object_array_add(sys, json_object_get(json_object_array_get_idx(parts, j)));
            json_object_put(parts);
            continue;
        }
        if (m[i].tool_call_id && m[i].tool_call_id[0] && role && strcmp(role, "user") == 0)
            role = "tool";
        struct json_object *o = json_object_new_object();
        add_str(o, "role", role);
        json_object_object_add(o, "parts", message_parts(&m[i], style, blocks));
        if (output && style == GS_MSG_SEMCONV) {
            const char *f = finish_for(&m[i], i, nm, span_reasons);
            if (f)
                add_str(o, "finish_reason", f);
        }
        json_object_array_add(msgs, o);
    }
    out->messages = json_object_array_length(msgs) ? to_arena(msgs, style, a) : NULL;
    out->system = json_object_array_length(sys) ? to_arena(sys, style, a) : NULL;
    bool oom = (json_object_array_length(msgs) && !out->messages) ||
               (json_object_array_length(sys) && !out->system);
    json_object_put(msgs);
    json_object_put(sys);
    return oom ? -2 : 1;
}

int gs_msg_rebuild_flat(enum gs_msg_family f, enum gs_msg_style style, KeyValue *const *kv,
                        size_t n, const bool *skip, bool *used, const AnyValue *span_reasons,
                        struct arena *a, struct gs_msg_out *out)
{
    if ((int)f < 0 || f >= GS_MSG_FAMILY_COUNT)
        return 0;
    const char *prefix = family_prefix[f];
    size_t plen = strlen(prefix);
    bool oi = f == GS_MSG_OI_INPUT || f == GS_MSG_OI_OUTPUT;
    struct entry *e = NULL;
    size_t ne = 0;
    bool bad = false;
    for (size_t i = 0; i < n; i++) {
        const KeyValue *k = kv[i];
        if ((skip && skip[i]) || !k || !k->key || strncmp(k->key, prefix, plen) != 0)
            continue;
        unsigned long msg, sub = 0;
        const char *r = index_dot(k->key + plen, &msg);
        if (!r)
            continue; /* "gen_ai.prompt.foo": not a message of this family */
        int field;
        if (oi) {
            if (strncmp(r, "message.", 8) != 0) {
                if (style == GS_MSG_COLLECTOR)
                    continue; /* the contrib processor leaves it alone */
                bad = true;
                break;
            }
            field = oi_field(r + 8, &sub);
        } else {
            field = oll_field(r, &sub);
        }
        if (field < 0 && style == GS_MSG_COLLECTOR)
            field = F_IGNORED; /* read, removed with the others, never written */
        const char *v = field == F_IGNORED ? "" : scalar_string(k->value, a);
        if (field < 0 || !v || (style == GS_MSG_SEMCONV && (!k->value ||
                                                            k->value->value_case != V_STRING))) {
            if (style == GS_MSG_COLLECTOR && !v && field >= 0) {
                field = F_IGNORED;
                v = "";
            } else {
                bad = true;
                break;
            }
        }
        if (!e && !(e = arena_alloc(a, n * sizeof *e)))
            return -2;
        e[ne++] = (struct entry){.msg = msg, .sub = sub, .field = field, .value = v, .attr = i};
    }
    if (bad)
        return -1;
    if (ne == 0)
        return 0;
    qsort(e, ne, sizeof *e, entry_cmp);
    struct m_msg *m = NULL;
    long nm = build_model(e, ne, a, &m);
    if (nm < 0)
        return (int)nm;
    bool output = gs_msg_family_is_output(f);
    if (style == GS_MSG_SEMCONV && !output)
        for (long i = 0; i < nm; i++)
            if (!m[i].role || !m[i].role[0])
                return -1; /* an input message must say who wrote it */
    if (output)
        for (long i = 0; i < nm; i++)
            if ((!m[i].role || !m[i].role[0]) && style == GS_MSG_SEMCONV)
                m[i].role = "assistant";
    int rc = write_model(m, (size_t)nm, output, style, !oi, span_reasons, a, out);
    if (rc == 1 && used)
        for (size_t i = 0; i < ne; i++)
            used[e[i].attr] = true;
    return rc;
}

/* ---- deprecated per-message events ----------------------------------------------------------- */

static const struct {
    const char *event, *role;
} event_roles[] = {
    {"gen_ai.system.message", "system"},
    {"gen_ai.user.message", "user"},
    {"gen_ai.assistant.message", "assistant"},
    {"gen_ai.tool.message", "tool"},
    {"gen_ai.choice", "assistant"},
};

int gs_msg_event_kind(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof event_roles / sizeof event_roles[0]; i++)
        if (strcmp(name, event_roles[i].event) == 0)
            return i == 4 ? 1 : 0;
    return -1;
}

static const char *event_default_role(const char *name)
{
    for (size_t i = 0; i < sizeof event_roles / sizeof event_roles[0]; i++)
        if (strcmp(name, event_roles[i].event) == 0)
            return event_roles[i].role;
    return NULL;
}

static const char *json_str(struct json_object *o, const char *key, struct arena *a, bool *bad)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return NULL;
    if (!json_object_is_type(v, json_type_string)) {
        *bad = true;
        return NULL;
    }
    return arena_strdup(a, json_object_get_string(v));
}

/* tool_calls as the events carry them: [{"id","type":"function","function":{"name",
 * "arguments"}}], arguments a JSON string or an object. */
static bool read_calls(struct json_object *arr, struct arena *a, struct m_msg *m)
{
    if (!json_object_is_type(arr, json_type_array))
        return false;
    size_t n = json_object_array_length(arr);
    m->calls = arena_alloc(a, (n ? n : 1) * sizeof *m->calls);
    if (!m->calls)
        return false;
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(arr, i), *fn, *args;
        bool bad = false;
        if (!json_object_is_type(c, json_type_object) ||
            !json_object_object_get_ex(c, "function", &fn) ||
            !json_object_is_type(fn, json_type_object))
            return false;
        struct m_call *mc = &m->calls[m->n_calls++];
        mc->id = json_str(c, "id", a, &bad);
        mc->name = json_str(fn, "name", a, &bad);
        mc->args = NULL;
        if (json_object_object_get_ex(fn, "arguments", &args) &&
            !json_object_is_type(args, json_type_null))
            mc->args = arena_strdup(a, json_object_is_type(args, json_type_string)
                                           ? json_object_get_string(args)
                                           : json_object_to_json_string_ext(
                                                 args, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
        if (bad || !mc->name)
            return false;
    }
    return true;
}

static const char *attr_string(const Event *ev, const char *key, bool *bad, bool *seen)
{
    for (size_t i = 0; i < ev->n_attributes; i++) {
        const KeyValue *kv = ev->attributes[i];
        if (!kv || !kv->key || strcmp(kv->key, key) != 0)
            continue;
        *seen = true;
        if (!kv->value || kv->value->value_case != V_STRING) {
            *bad = true;
            return NULL;
        }
        return kv->value->string_value;
    }
    return NULL;
}

/* One event into the model; false when not as expected. */
static bool read_event(const Event *ev, struct arena *a, struct m_msg *m, int64_t *index)
{
    bool bad = false, seen = false;
    memset(m, 0, sizeof *m);
    m->role = attr_string(ev, "role", &bad, &seen);
    if (!m->role)
        m->role = event_default_role(ev->name);
    m->content = attr_string(ev, "content", &bad, &seen);
    const char *id = attr_string(ev, "id", &bad, &seen);
    if (id && strcmp(ev->name, "gen_ai.tool.message") == 0)
        m->tool_call_id = id;
    m->finish = attr_string(ev, "finish_reason", &bad, &seen);
    const char *calls = attr_string(ev, "tool_calls", &bad, &seen);
    const char *message = attr_string(ev, "message", &bad, &seen);
    *index = -1;
    for (size_t i = 0; i < ev->n_attributes; i++) {
        const KeyValue *kv = ev->attributes[i];
        if (kv && kv->key && strcmp(kv->key, "index") == 0 && kv->value &&
            kv->value->value_case == V_INT)
            *index = kv->value->int_value;
    }
    if (bad)
        return false;
    if (message) { /* gen_ai.choice: {"content","role","tool_calls"} as a JSON string */
        struct json_object *o = parse_json(message), *tc;
        if (!o || !json_object_is_type(o, json_type_object)) {
            json_object_put(o);
            return false;
        }
        const char *c = json_str(o, "content", a, &bad), *r = json_str(o, "role", a, &bad);
        if (c)
            m->content = c;
        if (r)
            m->role = r;
        if (json_object_object_get_ex(o, "tool_calls", &tc) && !read_calls(tc, a, m))
            bad = true;
        json_object_put(o);
        if (bad)
            return false;
    }
    if (calls) {
        struct json_object *o = parse_json(calls);
        bool ok = o && read_calls(o, a, m);
        json_object_put(o);
        if (!ok)
            return false;
    }
    return true;
}

int gs_msg_rebuild_events(Event *const *ev, size_t n, const AnyValue *span_reasons,
                          struct arena *a, bool *used, struct gs_msg_out *in,
                          struct gs_msg_out *out)
{
    size_t nin = 0, nout = 0;
    for (size_t i = 0; i < n; i++) {
        int k = ev[i] ? gs_msg_event_kind(ev[i]->name) : -1;
        if (k == 0)
            nin++;
        else if (k == 1)
            nout++;
    }
    if (nin + nout == 0)
        return 0;
    struct m_msg *mi = arena_alloc(a, (nin ? nin : 1) * sizeof *mi);
    struct m_msg *mo = arena_alloc(a, (nout ? nout : 1) * sizeof *mo);
    int64_t *idx = arena_alloc(a, (nout ? nout : 1) * sizeof *idx);
    if (!mi || !mo || !idx)
        return -2;
    size_t ki = 0, ko = 0;
    for (size_t i = 0; i < n; i++) {
        int k = ev[i] ? gs_msg_event_kind(ev[i]->name) : -1;
        int64_t index;
        if (k < 0)
            continue;
        if (!read_event(ev[i], a, k == 0 ? &mi[ki] : &mo[ko], &index))
            return -1;
        if (k == 0)
            ki++;
        else {
            idx[ko] = index < 0 ? (int64_t)ko : index;
            ko++;
        }
    }
    /* choices in index order (insertion sort: a handful per span, stable) */
    for (size_t i = 1; i < nout; i++)
        for (size_t j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
            struct m_msg t = mo[j];
            mo[j] = mo[j - 1];
            mo[j - 1] = t;
            int64_t x = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = x;
        }
    for (size_t i = 0; i < nout; i++)
        if (!mo[i].role || !mo[i].role[0])
            mo[i].role = "assistant";
    memset(in, 0, sizeof *in);
    memset(out, 0, sizeof *out);
    int rc = nin ? write_model(mi, nin, false, GS_MSG_SEMCONV, false, NULL, a, in) : 1;
    if (rc == 1 && nout)
        rc = write_model(mo, nout, true, GS_MSG_SEMCONV, false, span_reasons, a, out);
    if (rc == 1 && used)
        for (size_t i = 0; i < n; i++)
            used[i] = ev[i] && gs_msg_event_kind(ev[i]->name) >= 0;
    return rc;
}
