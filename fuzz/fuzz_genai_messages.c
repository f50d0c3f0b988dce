/* fuzz_genai_messages.c — the message rebuilder of genai_semconv (processors/genai_semconv/
 * messages.c), which reads peer-supplied flattened attributes (OpenInference, OpenLLMetry) and
 * deprecated span events, tool-call JSON included.
 * Input: lines. "key=value" adds a string attribute to the span, or to the current event after a
 * line "!name" (an event of that name); a line "!" goes back to the span; "#key=123" adds an int.
 *
 * The one idea: the output is checked by re-reading it. Whenever a family is rebuilt, what was
 * written must be a JSON array that json-c parses strictly, each message an object with a string
 * role and an array of parts each carrying a string type; only attributes of the family may be
 * marked as read; and every family gives the same answer twice (no hidden state). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/arena.h"
#include "fuzz/fuzz_util.h"
#include "processors/genai_semconv/genai_semconv.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;

#define MAX_ITEMS 256

static void check_json(const char *s, bool parts_only)
{
    if (!s)
        return;
    json_tokener *tok = json_tokener_new();
    FUZZ_CHECK(tok, "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *o = json_tokener_parse_ex(tok, s, (int)strlen(s));
    FUZZ_CHECK(o && json_tokener_get_error(tok) == json_tokener_success, "not JSON: %s", s);
    FUZZ_CHECK(json_object_is_type(o, json_type_array), "not an array: %s", s);
    for (size_t i = 0; i < json_object_array_length(o); i++) {
        json_object *m = json_object_array_get_idx(o, i), *parts, *role, *t;
        if (parts_only) { /* system instructions: the elements are parts */
            FUZZ_CHECK(json_object_object_get_ex(m, "type", &t) &&
                           json_object_is_type(t, json_type_string), "part without type");
            continue;
        }
        {
            FUZZ_CHECK(json_object_object_get_ex(m, "role", &role) &&
                           json_object_is_type(role, json_type_string), "message without role");
            FUZZ_CHECK(json_object_object_get_ex(m, "parts", &parts) &&
                           json_object_is_type(parts, json_type_array), "message without parts");
        }
        for (size_t j = 0; j < json_object_array_length(parts); j++)
            FUZZ_CHECK(json_object_object_get_ex(json_object_array_get_idx(parts, j), "type", &t) &&
                           json_object_is_type(t, json_type_string), "part without type");
    }
    json_object_put(o);
    json_tokener_free(tok);
}

static KeyValue *kv_new(struct arena *a, const char *line, size_t n)
{
    bool is_int = n > 0 && line[0] == '#';
    const char *eq = memchr(line, '=', n);
    KeyValue *kv = arena_alloc(a, sizeof *kv);
    AnyValue *v = arena_alloc(a, sizeof *v);
    FUZZ_CHECK(kv && v, "out of memory");
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    size_t kl = eq ? (size_t)(eq - line) : n;
    char *key = arena_alloc(a, kl + 1);
    FUZZ_CHECK(key, "out of memory");
    memcpy(key, line + is_int, kl - is_int);
    key[kl - is_int] = '\0';
    const char *val = eq ? eq + 1 : line + n;
    size_t vl = (size_t)(line + n - val);
    if (is_int) {
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
        v->int_value = strtoll(val, NULL, 10);
    } else {
        char *s = arena_alloc(a, vl + 1);
        FUZZ_CHECK(s, "out of memory");
        memcpy(s, val, vl);
        s[vl] = '\0';
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        v->string_value = s;
    }
    kv->key = key;
    kv->value = v;
    return kv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new(0);
    FUZZ_CHECK(a, "out of memory");
    KeyValue **span = arena_alloc(a, MAX_ITEMS * sizeof *span);
    Event **ev = arena_alloc(a, MAX_ITEMS * sizeof *ev);
    FUZZ_CHECK(span && ev, "out of memory");
    size_t ns = 0, ne = 0;
    Event *cur = NULL;
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 0 && p[0] == '!') {
            cur = NULL;
            if (n > 1 && ne < MAX_ITEMS) {
                cur = arena_alloc(a, sizeof *cur);
                FUZZ_CHECK(cur, "out of memory");
                opentelemetry__proto__trace__v1__span__event__init(cur);
                char *name = arena_alloc(a, n);
                memcpy(name, p + 1, n - 1);
                name[n - 1] = '\0';
                cur->name = name;
                cur->attributes = arena_alloc(a, MAX_ITEMS * sizeof *cur->attributes);
                ev[ne++] = cur;
            }
        } else if (n > 0 && cur && cur->n_attributes < MAX_ITEMS) {
            cur->attributes[cur->n_attributes++] = kv_new(a, p, n);
        } else if (n > 0 && !cur && ns < MAX_ITEMS) {
            span[ns++] = kv_new(a, p, n);
        }
        p += n + 1;
    }
    bool used[MAX_ITEMS];
    for (int f = 0; f < GS_MSG_FAMILY_COUNT; f++) {
        for (int style = GS_MSG_SEMCONV; style <= GS_MSG_COLLECTOR; style++) {
            struct gs_msg_out o1 = {0}, o2 = {0};
            memset(used, 0, sizeof used);
            int rc = gs_msg_rebuild_flat((enum gs_msg_family)f, (enum gs_msg_style)style, span,
                                         ns, NULL, used, NULL, a, &o1);
            int rc2 = gs_msg_rebuild_flat((enum gs_msg_family)f, (enum gs_msg_style)style, span,
                                          ns, NULL, NULL, NULL, a, &o2);
            FUZZ_CHECK(rc == rc2, "two answers for one input");
            FUZZ_CHECK(rc >= -1 && rc <= 1, "unexpected return %d", rc);
            if (rc != 1) {
                for (size_t i = 0; i < ns; i++)
                    FUZZ_CHECK(!used[i], "attribute marked read but nothing was built");
                continue;
            }
            FUZZ_CHECK((!o1.messages) == (!o2.messages) &&
                           (!o1.messages || strcmp(o1.messages, o2.messages) == 0),
                       "two outputs for one input");
            check_json(o1.messages, false);
            check_json(o1.system, true);
            static const char *const prefix[] = {"llm.input_messages.", "llm.output_messages.",
                                                 "gen_ai.prompt.", "gen_ai.completion."};
            for (size_t i = 0; i < ns; i++)
                FUZZ_CHECK(!used[i] || strncmp(span[i]->key, prefix[f], strlen(prefix[f])) == 0,
                           "attribute %s read for another family", span[i]->key);
        }
    }
    struct gs_msg_out in = {0}, out = {0};
    memset(used, 0, sizeof used);
    int rc = gs_msg_rebuild_events(ev, ne, NULL, a, used, &in, &out);
    FUZZ_CHECK(rc >= -1 && rc <= 1, "unexpected return %d", rc);
    if (rc == 1) {
        check_json(in.messages, false);
        check_json(in.system, true);
        check_json(out.messages, false);
        for (size_t i = 0; i < ne; i++)
            FUZZ_CHECK(used[i] == (gs_msg_event_kind(ev[i]->name) >= 0), "event marked wrongly");
    }
    arena_free(a);
    return 0;
}
