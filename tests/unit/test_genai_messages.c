/* test_genai_messages.c — messages rebuilt into gen_ai.input.messages, gen_ai.output.messages and
 * gen_ai.system_instructions from OpenInference's and OpenLLMetry's flattened attributes and from
 * the deprecated per-message span events: exact JSON written by hand for each source, every
 * rebuilt attribute validated against the semconv JSON schemas committed in
 * tests/fixtures/semconv/, inputs not as expected left alone, and the processor's edits and
 * counters seen from downstream.
 *
 * The one idea: the schema check is independent of the code under test: a small validator for
 * the keywords the schemas use ($ref, anyOf, type, const, enum, required, properties, items)
 * reads the committed schema files, so a rebuilt message that drifts from the convention fails
 * here even when it matches the hand-written string of another test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/telemetry.h"
#include "processors/genai_semconv/genai_semconv.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__ArrayValue ArrayValue;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE

/* ---- a small JSON-schema validator ----------------------------------------------------------- */

static bool sv_valid(struct json_object *root, struct json_object *schema, struct json_object *v);

static struct json_object *sv_ref(struct json_object *root, const char *ref)
{
    assert_true(strncmp(ref, "#/$defs/", 8) == 0);
    struct json_object *defs, *d;
    assert_true(json_object_object_get_ex(root, "$defs", &defs));
    if (!json_object_object_get_ex(defs, ref + 8, &d))
        fail_msg("schema: no definition %s", ref);
    return d;
}

static bool sv_type(struct json_object *v, const char *t)
{
    if (strcmp(t, "string") == 0)
        return json_object_is_type(v, json_type_string);
    if (strcmp(t, "array") == 0)
        return json_object_is_type(v, json_type_array);
    if (strcmp(t, "object") == 0)
        return json_object_is_type(v, json_type_object);
    if (strcmp(t, "null") == 0)
        return v == NULL || json_object_is_type(v, json_type_null);
    fail_msg("schema: type %s not handled by the test's validator", t);
    return false;
}

static bool sv_equal_string(struct json_object *v, struct json_object *want)
{
    return json_object_is_type(v, json_type_string) &&
           strcmp(json_object_get_string(v), json_object_get_string(want)) == 0;
}

static bool sv_valid(struct json_object *root, struct json_object *s, struct json_object *v)
{
    json_object_object_foreach(s, kw, arg) {
        if (strcmp(kw, "$ref") == 0) {
            if (!sv_valid(root, sv_ref(root, json_object_get_string(arg)), v))
                return false;
        } else if (strcmp(kw, "anyOf") == 0) {
            bool any = false;
            for (size_t i = 0; i < json_object_array_length(arg) && !any; i++)
                any = sv_valid(root, json_object_array_get_idx(arg, i), v);
            if (!any)
                return false;
        } else if (strcmp(kw, "type") == 0) {
            if (!sv_type(v, json_object_get_string(arg)))
                return false;
        } else if (strcmp(kw, "const") == 0) {
            if (!sv_equal_string(v, arg))
                return false;
        } else if (strcmp(kw, "enum") == 0) {
            bool any = false;
            for (size_t i = 0; i < json_object_array_length(arg) && !any; i++)
                any = sv_equal_string(v, json_object_array_get_idx(arg, i));
            if (!any)
                return false;
        } else if (strcmp(kw, "required") == 0) {
            for (size_t i = 0; i < json_object_array_length(arg); i++)
                if (!json_object_is_type(v, json_type_object) ||
                    !json_object_object_get_ex(
                        v, json_object_get_string(json_object_array_get_idx(arg, i)), NULL))
                    return false;
        } else if (strcmp(kw, "properties") == 0) {
            if (!json_object_is_type(v, json_type_object))
                continue;
            json_object_object_foreach(arg, name, sub) {
                struct json_object *pv;
                if (json_object_object_get_ex(v, name, &pv) && !sv_valid(root, sub, pv))
                    return false;
            }
        } else if (strcmp(kw, "items") == 0) {
            if (!json_object_is_type(v, json_type_array))
                continue;
            for (size_t i = 0; i < json_object_array_length(v); i++)
                if (!sv_valid(root, arg, json_object_array_get_idx(v, i)))
                    return false;
        } else if (strcmp(kw, "$defs") != 0) {
            fail_msg("schema: keyword %s not handled by the test's validator", kw);
        }
    }
    return true;
}

/* A part of a known type must satisfy its own definition (not only GenericPart). */
static void check_part(struct json_object *root, struct json_object *part)
{
    static const struct { const char *type, *def; } defs[] = {
        {"text", "#/$defs/TextPart"}, {"tool_call", "#/$defs/ToolCallRequestPart"},
        {"tool_call_response", "#/$defs/ToolCallResponsePart"}, {"blob", "#/$defs/BlobPart"},
        {"uri", "#/$defs/UriPart"},
    };
    struct json_object *t;
    assert_true(json_object_object_get_ex(part, "type", &t));
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        if (strcmp(json_object_get_string(t), defs[i].type) == 0) {
            struct json_object *d = NULL;
            struct json_object *r = json_object_new_object();
            json_object_object_add(r, "$ref", json_object_new_string(defs[i].def));
            bool ok = sv_valid(root, r, part);
            json_object_put(r);
            (void)d;
            if (!ok)
                fail_msg("part %s does not satisfy %s", json_object_get_string(part),
                         defs[i].def);
            return;
        }
    fail_msg("part of unexpected type %s", json_object_get_string(t));
}

/* Validates `text` against tests/fixtures/semconv/<schema>. */
static void check_schema(const char *schema, const char *text)
{
    const char *data = getenv("LLMOTLP_TESTDATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/../../fixtures/semconv/%s", data ? data : "tests/unit/data",
             schema);
    struct json_object *root = json_object_from_file(path);
    if (!root)
        fail_msg("cannot read schema %s", path);
    struct json_object *v = json_tokener_parse(text);
    if (!v)
        fail_msg("not JSON: %s", text);
    if (!sv_valid(root, root, v))
        fail_msg("%s does not validate against %s", text, schema);
    bool system = strstr(schema, "system") != NULL;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        struct json_object *m = json_object_array_get_idx(v, i), *parts;
        if (system) {
            check_part(root, m);
            continue;
        }
        assert_true(json_object_object_get_ex(m, "parts", &parts));
        for (size_t j = 0; j < json_object_array_length(parts); j++)
            check_part(root, json_object_array_get_idx(parts, j));
    }
    json_object_put(v);
    json_object_put(root);
}

/* The validator itself rejects what the schemas forbid. */
static void test_validator_rejects(void **state)
{
    (void)state;
    const char *data = getenv("LLMOTLP_TESTDATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/../../fixtures/semconv/gen-ai-output-messages.json",
             data ? data : "tests/unit/data");
    struct json_object *root = json_object_from_file(path);
    assert_non_null(root);
    const char *bad[] = {
        "{}",                                                              /* not an array */
        "[{\"role\":\"assistant\",\"parts\":[]}]",                         /* no finish_reason */
        "[{\"parts\":[],\"finish_reason\":\"stop\"}]",                     /* no role */
        "[{\"role\":\"assistant\",\"parts\":[{\"content\":\"x\"}],\"finish_reason\":\"stop\"}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct json_object *v = json_tokener_parse(bad[i]);
        assert_false(sv_valid(root, root, v));
        json_object_put(v);
    }
    struct json_object *ok = json_tokener_parse(
        "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"x\"}],"
        "\"finish_reason\":\"stop\"}]");
    assert_true(sv_valid(root, root, ok));
    json_object_put(ok);
    json_object_put(root);
}

/* ---- building attributes --------------------------------------------------------------------- */

struct tv {
    const char *key, *s;
    int64_t i;
    int type;
};
#define S(k, v) {.key = (k), .s = (v), .type = V_STRING}
#define I(k, v) {.key = (k), .i = (v), .type = V_INT}
#define N(arr) (sizeof(arr) / sizeof((arr)[0]))

static KeyValue **mk_attrs(struct arena *a, const struct tv *tv, size_t n)
{
    KeyValue **kv = arena_alloc(a, (n + 1) * sizeof *kv);
    for (size_t i = 0; i < n; i++) {
        kv[i] = arena_alloc(a, sizeof *kv[i]);
        opentelemetry__proto__common__v1__key_value__init(kv[i]);
        kv[i]->key = (char *)tv[i].key;
        AnyValue *v = arena_alloc(a, sizeof *v);
        opentelemetry__proto__common__v1__any_value__init(v);
        v->value_case = tv[i].type;
        if (tv[i].type == V_STRING)
            v->string_value = (char *)tv[i].s;
        else
            v->int_value = tv[i].i;
        kv[i]->value = v;
    }
    return kv;
}

static int rebuild(enum gs_msg_family f, const struct tv *tv, size_t n, struct arena *a,
                   struct gs_msg_out *out, bool *used)
{
    KeyValue **kv = mk_attrs(a, tv, n);
    memset(out, 0, sizeof *out);
    return gs_msg_rebuild_flat(f, GS_MSG_SEMCONV, kv, n, NULL, used, NULL, a, out);
}

/* ---- OpenInference --------------------------------------------------------------------------- */

/* Messages out of order, indices past 9 (sorted as numbers), a system message, a multimodal
 * user message, an assistant tool call and its tool result. */
static void test_openinference_input(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    const struct tv tv[] = {
        S("llm.input_messages.10.message.role", "tool"),
        S("llm.input_messages.10.message.tool_call_id", "call_1"),
        S("llm.input_messages.10.message.content", "a cat"),
        S("llm.input_messages.0.message.role", "system"),
        S("llm.input_messages.0.message.content", "You are terse."),
        S("llm.input_messages.1.message.role", "user"),
        S("llm.input_messages.1.message.contents.1.message_content.type", "image"),
        S("llm.input_messages.1.message.contents.1.message_content.image.image.url",
          "https://example.com/cat.png"),
        S("llm.input_messages.1.message.contents.0.message_content.type", "text"),
        S("llm.input_messages.1.message.contents.0.message_content.text", "What is this?"),
        S("llm.input_messages.2.message.role", "assistant"),
        S("llm.input_messages.2.message.tool_calls.0.tool_call.id", "call_1"),
        S("llm.input_messages.2.message.tool_calls.0.tool_call.function.name", "lookup"),
        S("llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments",
          "{\"q\":\"cat\"}"),
        S("llm.model_name", "gpt-4o"),
    };
    struct gs_msg_out o;
    bool used[N(tv)] = {0};
    assert_int_equal(rebuild(GS_MSG_OI_INPUT, tv, N(tv), a, &o, used), 1);
    assert_string_equal(o.messages,
        "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"What is this?\"},"
        "{\"type\":\"uri\",\"modality\":\"image\",\"uri\":\"https://example.com/cat.png\"}]},"
        "{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"call_1\","
        "\"name\":\"lookup\",\"arguments\":{\"q\":\"cat\"}}]},"
        "{\"role\":\"tool\",\"parts\":[{\"type\":\"tool_call_response\",\"id\":\"call_1\","
        "\"response\":\"a cat\"}]}]");
    assert_string_equal(o.system, "[{\"type\":\"text\",\"content\":\"You are terse.\"}]");
    check_schema("gen-ai-input-messages.json", o.messages);
    check_schema("gen-ai-system-instructions.json", o.system);
    for (size_t i = 0; i + 1 < N(tv); i++)
        assert_true(used[i]);
    assert_false(used[N(tv) - 1]); /* llm.model_name is not a message attribute */
    /* The output family is absent. */
    assert_int_equal(rebuild(GS_MSG_OI_OUTPUT, tv, N(tv), a, &o, NULL), 0);
    arena_free(a);
}

/* Output messages take their finish reason from the span when they carry none; a data: URL is a
 * blob part; text and tool calls of one message are both kept. */
static void test_openinference_output(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    const struct tv tv[] = {
        S("llm.output_messages.0.message.role", "assistant"),
        S("llm.output_messages.0.message.content", "Let me look."),
        S("llm.output_messages.0.message.tool_calls.0.tool_call.function.name", "search"),
        S("llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments", "not json"),
        S("llm.output_messages.1.message.role", "assistant"),
        S("llm.output_messages.1.message.contents.0.message_content.type", "image"),
        S("llm.output_messages.1.message.contents.0.message_content.image.image.url",
          "data:image/png;base64,iVBORw0KGgo="),
    };
    KeyValue **kv = mk_attrs(a, tv, N(tv));
    AnyValue r0 = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    AnyValue r1 = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    r0.value_case = r1.value_case = V_STRING;
    r0.string_value = "tool_call";
    r1.string_value = "stop";
    AnyValue *rv[] = {&r0, &r1};
    ArrayValue arr = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
    arr.n_values = 2;
    arr.values = rv;
    AnyValue reasons = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    reasons.value_case = V_ARRAY;
    reasons.array_value = &arr;
    struct gs_msg_out o = {0};
    assert_int_equal(gs_msg_rebuild_flat(GS_MSG_OI_OUTPUT, GS_MSG_SEMCONV, kv, N(tv), NULL, NULL,
                                         &reasons, a, &o), 1);
    assert_string_equal(o.messages,
        "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"Let me look.\"},"
        "{\"type\":\"tool_call\",\"name\":\"search\",\"arguments\":\"not json\"}],"
        "\"finish_reason\":\"tool_call\"},"
        "{\"role\":\"assistant\",\"parts\":[{\"type\":\"blob\",\"mime_type\":\"image/png\","
        "\"modality\":\"image\",\"content\":\"iVBORw0KGgo=\"}],\"finish_reason\":\"stop\"}]");
    assert_null(o.system);
    check_schema("gen-ai-output-messages.json", o.messages);
    arena_free(a);
}

/* What is not as expected is left alone (-1), and nothing is marked used. */
static void test_not_as_expected(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    struct gs_msg_out o;
    bool used[3] = {0};
    const struct tv unknown[] = {
        S("llm.input_messages.0.message.role", "user"),
        S("llm.input_messages.0.message.content", "hi"),
        S("llm.input_messages.0.message.audio.url", "x"),
    };
    assert_int_equal(rebuild(GS_MSG_OI_INPUT, unknown, 3, a, &o, used), -1);
    assert_false(used[0] || used[1] || used[2]);
    const struct tv no_role[] = {S("llm.input_messages.0.message.content", "hi")};
    assert_int_equal(rebuild(GS_MSG_OI_INPUT, no_role, 1, a, &o, NULL), -1);
    const struct tv not_string[] = {S("gen_ai.prompt.0.role", "user"),
                                    I("gen_ai.prompt.0.content", 42)};
    assert_int_equal(rebuild(GS_MSG_OLL_PROMPT, not_string, 2, a, &o, NULL), -1);
    const struct tv type_only[] = {
        S("llm.input_messages.0.message.role", "user"),
        S("llm.input_messages.0.message.contents.0.message_content.type", "text"),
    };
    assert_int_equal(rebuild(GS_MSG_OI_INPUT, type_only, 2, a, &o, NULL), -1);
    const struct tv wrong_kind[] = {
        S("llm.input_messages.0.message.role", "user"),
        S("llm.input_messages.0.message.contents.0.message_content.type", "audio"),
        S("llm.input_messages.0.message.contents.0.message_content.text", "x"),
    };
    assert_int_equal(rebuild(GS_MSG_OI_INPUT, wrong_kind, 3, a, &o, NULL), -1);
    /* a prefix with no index is another attribute, not a message */
    const struct tv other[] = {S("gen_ai.prompt.name", "greeting")};
    assert_int_equal(rebuild(GS_MSG_OLL_PROMPT, other, 1, a, &o, NULL), 0);
    arena_free(a);
}

/* ---- OpenLLMetry ----------------------------------------------------------------------------- */

/* OpenLLMetry's flattened prompt and completion, as its OpenAI and Anthropic instrumentations
 * write them: tool_calls.K.{id,name,arguments}, tool_call_id on tool messages, finish_reason per
 * completion, Anthropic content blocks as a JSON string; strings escaped (quote, newline, tab,
 * backslash, non-ASCII kept as UTF-8, '/' not escaped). */
static void test_openllmetry(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    const struct tv prompt[] = {
        S("gen_ai.prompt.0.role", "system"),
        S("gen_ai.prompt.0.content", "Answer in \"French\"\n\tbriefly \\ please"),
        S("gen_ai.prompt.1.role", "user"),
        S("gen_ai.prompt.1.content",
          "[{\"type\":\"text\",\"text\":\"Quel temps à Paris?\"},{\"type\":\"text\","
          "\"text\":\"</end>\"}]"),
        S("gen_ai.prompt.2.role", "assistant"),
        S("gen_ai.prompt.2.tool_calls.0.id", "call_7"),
        S("gen_ai.prompt.2.tool_calls.0.name", "get_weather"),
        S("gen_ai.prompt.2.tool_calls.0.arguments", "{\"city\": \"Paris\", \"units\": [\"c\"]}"),
        S("gen_ai.prompt.3.role", "tool"),
        S("gen_ai.prompt.3.tool_call_id", "call_7"),
        S("gen_ai.prompt.3.content", "18C"),
    };
    struct gs_msg_out o;
    assert_int_equal(rebuild(GS_MSG_OLL_PROMPT, prompt, N(prompt), a, &o, NULL), 1);
    assert_string_equal(o.system,
        "[{\"type\":\"text\",\"content\":\"Answer in \\\"French\\\"\\n\\tbriefly \\\\ please\"}]");
    assert_string_equal(o.messages,
        "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Quel temps à Paris?\"},"
        "{\"type\":\"text\",\"content\":\"</end>\"}]},"
        "{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"call_7\","
        "\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\",\"units\":[\"c\"]}}]},"
        "{\"role\":\"tool\",\"parts\":[{\"type\":\"tool_call_response\",\"id\":\"call_7\","
        "\"response\":\"18C\"}]}]");
    check_schema("gen-ai-input-messages.json", o.messages);
    check_schema("gen-ai-system-instructions.json", o.system);

    const struct tv completion[] = {
        S("gen_ai.completion.0.finish_reason", "tool_calls"),
        S("gen_ai.completion.0.tool_calls.0.name", "get_weather"),
        S("gen_ai.completion.0.tool_calls.0.id", "call_8"),
        S("gen_ai.completion.0.tool_calls.0.arguments", "{\"city\":\"Lyon\"}"),
        S("gen_ai.completion.1.role", "assistant"),
        S("gen_ai.completion.1.content", "It is 18C."),
        S("gen_ai.completion.1.finish_reason", "stop"),
    };
    assert_int_equal(rebuild(GS_MSG_OLL_COMPLETION, completion, N(completion), a, &o, NULL), 1);
    assert_string_equal(o.messages,
        "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"call_8\","
        "\"name\":\"get_weather\",\"arguments\":{\"city\":\"Lyon\"}}],"
        "\"finish_reason\":\"tool_calls\"},"
        "{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"It is 18C.\"}],"
        "\"finish_reason\":\"stop\"}]");
    check_schema("gen-ai-output-messages.json", o.messages);
    arena_free(a);
}

/* ---- deprecated events ----------------------------------------------------------------------- */

static Event *mk_event(struct arena *a, const char *name, const struct tv *tv, size_t n)
{
    Event *ev = arena_alloc(a, sizeof *ev);
    opentelemetry__proto__trace__v1__span__event__init(ev);
    ev->name = (char *)name;
    ev->attributes = mk_attrs(a, tv, n);
    ev->n_attributes = n;
    return ev;
}

#define EV(a, name, ...) mk_event(a, name, (const struct tv[]){__VA_ARGS__}, \
    sizeof((const struct tv[]){__VA_ARGS__}) / sizeof(struct tv))

/* The per-message events of semconv v1.28..v1.36 on a span; choices sorted by index. */
static void test_events(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    Event *ev[] = {
        EV(a, "gen_ai.system.message", S("gen_ai.system", "openai"), S("content", "Be kind.")),
        EV(a, "gen_ai.user.message", S("content", "Weather in Paris?")),
        EV(a, "gen_ai.assistant.message",
           S("tool_calls", "[{\"id\":\"call_9\",\"type\":\"function\",\"function\":"
                           "{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]")),
        EV(a, "gen_ai.tool.message", S("id", "call_9"), S("content", "rainy")),
        EV(a, "exception", S("exception.type", "Boom")),
        EV(a, "gen_ai.choice", I("index", 1), S("finish_reason", "length"),
           S("message", "{\"content\":\"Second\"}")),
        EV(a, "gen_ai.choice", I("index", 0), S("finish_reason", "stop"),
           S("message", "{\"role\":\"assistant\",\"content\":\"Rainy, take an umbrella.\"}")),
    };
    bool used[N(ev)] = {0};
    struct gs_msg_out in, out;
    assert_int_equal(gs_msg_rebuild_events(ev, N(ev), NULL, a, used, &in, &out), 1);
    assert_string_equal(in.system, "[{\"type\":\"text\",\"content\":\"Be kind.\"}]");
    assert_string_equal(in.messages,
        "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Weather in Paris?\"}]},"
        "{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"call_9\","
        "\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}]},"
        "{\"role\":\"tool\",\"parts\":[{\"type\":\"tool_call_response\",\"id\":\"call_9\","
        "\"response\":\"rainy\"}]}]");
    assert_string_equal(out.messages,
        "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":"
        "\"Rainy, take an umbrella.\"}],\"finish_reason\":\"stop\"},"
        "{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"Second\"}],"
        "\"finish_reason\":\"length\"}]");
    check_schema("gen-ai-input-messages.json", in.messages);
    check_schema("gen-ai-system-instructions.json", in.system);
    check_schema("gen-ai-output-messages.json", out.messages);
    for (size_t i = 0; i < N(ev); i++)
        assert_int_equal(used[i], i != 4);

    /* tool_calls that are not JSON: the events stay as they are */
    Event *bad[] = {EV(a, "gen_ai.assistant.message", S("tool_calls", "[{oops"))};
    assert_int_equal(gs_msg_rebuild_events(bad, 1, NULL, a, NULL, &in, &out), -1);
    Event *none[] = {EV(a, "exception", S("exception.type", "Boom"))};
    assert_int_equal(gs_msg_rebuild_events(none, 1, NULL, a, NULL, &in, &out), 0);
    arena_free(a);
}

/* ---- through the processor ------------------------------------------------------------------- */

struct sink {
    struct consumer c;
    struct batch *got;
};

static enum consume_status sink_consume(struct consumer *self, struct batch *b)
{
    struct sink *s = (struct sink *)self;
    if (s->got)
        batch_unref(s->got);
    s->got = batch_ref(b);
    return CONSUME_OK;
}

struct fx {
    struct genai_semconv_config cfg;
    struct telemetry *tel;
    struct sink sink;
    void *proc;
};

static struct fx *fx_new(const char *yaml)
{
    struct fx *f = calloc(1, sizeof *f);
    struct error err = {0};
    struct cnode *root = config_parse_string(yaml, "<test>", &err);
    assert_non_null(root);
    assert_int_equal(config_bind(genai_semconv_processor_factory.fields, root, &f->cfg, &err), 0);
    cnode_free(root);
    f->tel = telemetry_new();
    f->sink.c.consume = sink_consume;
    struct component_env env = {.id = "genai_semconv", .signal = SIGNAL_TRACES,
                                .telemetry = f->tel};
    env.next[SIGNAL_TRACES] = &f->sink.c;
    f->proc = genai_semconv_processor_factory.create(&f->cfg, &env, &err);
    assert_non_null(f->proc);
    return f;
}

static void fx_free(struct fx *f)
{
    genai_semconv_processor_factory.destroy(f->proc);
    if (f->sink.got)
        batch_unref(f->sink.got);
    config_free_bound(genai_semconv_processor_factory.fields, &f->cfg);
    telemetry_free(f->tel);
    free(f);
}

static int64_t counter(struct fx *f, const char *name, const char *source)
{
    char labels[200], full[120];
    snprintf(labels, sizeof labels, "processor=\"genai_semconv\",source=\"%s\"", source);
    snprintf(full, sizeof full, "llmotlp_genai_semconv_%s", name);
    return telemetry_value(f->tel, full, labels);
}

/* Sends one span and returns it as it came out. */
static const Span *through(struct fx *f, const struct tv *tv, size_t n, Event **ev, size_t nev)
{
    struct arena *a = arena_new(0);
    TraceRequest req = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    ResourceSpans rs = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    ScopeSpans ss = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    Span sp = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
    uint8_t tid[16] = {1}, sid[8] = {2};
    sp.trace_id = (ProtobufCBinaryData){16, tid};
    sp.span_id = (ProtobufCBinaryData){8, sid};
    sp.name = "llm";
    sp.attributes = mk_attrs(a, tv, n);
    sp.n_attributes = n;
    sp.events = ev;
    sp.n_events = nev;
    Span *sps[] = {&sp};
    ScopeSpans *sss[] = {&ss};
    ResourceSpans *rss[] = {&rs};
    ss.spans = sps;
    ss.n_spans = 1;
    rs.scope_spans = sss;
    rs.n_scope_spans = 1;
    req.resource_spans = rss;
    req.n_resource_spans = 1;
    size_t len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(&req.base, buf);
    struct error err = {0};
    struct batch *b = batch_from_wire(SIGNAL_TRACES, buf, len, &err);
    free(buf);
    arena_free(a);
    assert_non_null(b);
    assert_int_equal(genai_semconv_processor_factory.consume(f->proc, b), CONSUME_OK);
    batch_unref(b);
    const TraceRequest *r = (const TraceRequest *)batch_decoded(f->sink.got, &err);
    assert_non_null(r);
    return r->resource_spans[0]->scope_spans[0]->spans[0];
}

static const AnyValue *attr(const Span *sp, const char *key)
{
    for (size_t i = 0; i < sp->n_attributes; i++)
        if (strcmp(sp->attributes[i]->key, key) == 0)
            return sp->attributes[i]->value;
    return NULL;
}

static void test_processor_openinference(void **state)
{
    (void)state;
    const struct tv tv[] = {
        S("openinference.span.kind", "LLM"),
        S("llm.provider", "google"),
        S("llm.model_name", "gemini-2.5-flash"),
        S("llm.input_messages.0.message.role", "system"),
        S("llm.input_messages.0.message.content", "Be brief."),
        S("llm.input_messages.1.message.role", "user"),
        S("llm.input_messages.1.message.content", "Hi"),
        S("llm.output_messages.0.message.role", "assistant"),
        S("llm.output_messages.0.message.content", "Hello!"),
        S("llm.finish_reason", "stop"),
    };
    struct fx *f = fx_new("on_violation: pass\n");
    const Span *sp = through(f, tv, N(tv), NULL, 0);
    assert_string_equal(attr(sp, "gen_ai.operation.name")->string_value, "chat");
    assert_string_equal(attr(sp, "gen_ai.provider.name")->string_value, "gcp.gen_ai");
    assert_string_equal(attr(sp, "gen_ai.input.messages")->string_value,
                        "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Hi\"}]}]");
    assert_string_equal(attr(sp, "gen_ai.system_instructions")->string_value,
                        "[{\"type\":\"text\",\"content\":\"Be brief.\"}]");
    assert_string_equal(attr(sp, "gen_ai.output.messages")->string_value,
                        "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":"
                        "\"Hello!\"}],\"finish_reason\":\"stop\"}]");
    assert_null(attr(sp, "llm.input_messages.0.message.role"));
    assert_null(attr(sp, "llm.output_messages.0.message.content"));
    assert_int_equal(counter(f, "rebuilt_messages", "openinference"), 2);
    assert_int_equal(counter(f, "unparsed_messages", "openinference"), 0);
    fx_free(f);

    /* keep_original keeps the flattened attributes beside the rebuilt ones */
    f = fx_new("on_violation: pass\nkeep_original: true\n");
    sp = through(f, tv, N(tv), NULL, 0);
    assert_non_null(attr(sp, "gen_ai.input.messages"));
    assert_string_equal(attr(sp, "llm.input_messages.1.message.content")->string_value, "Hi");
    fx_free(f);

    /* not as expected: left as it came, counted */
    const struct tv odd[] = {
        S("openinference.span.kind", "LLM"),
        S("llm.input_messages.0.message.role", "user"),
        S("llm.input_messages.0.message.mystery", "?"),
    };
    f = fx_new("on_violation: pass\n");
    sp = through(f, odd, N(odd), NULL, 0);
    assert_null(attr(sp, "gen_ai.input.messages"));
    assert_string_equal(attr(sp, "llm.input_messages.0.message.mystery")->string_value, "?");
    assert_int_equal(counter(f, "unparsed_messages", "openinference"), 1);
    fx_free(f);
}

static void test_processor_events(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    Event *ev[] = {
        EV(a, "gen_ai.user.message", S("gen_ai.system", "openai"), S("content", "Hi")),
        EV(a, "gen_ai.choice", I("index", 0), S("finish_reason", "stop"),
           S("message", "{\"content\":\"Hello\"}")),
        EV(a, "gen_ai.evaluation.result", S("gen_ai.system", "az.ai.openai"),
           S("gen_ai.evaluation.name", "relevance")),
    };
    const struct tv tv[] = {S("gen_ai.operation.name", "chat"), S("gen_ai.system", "openai"),
                            S("gen_ai.request.model", "gpt-4o")};
    struct fx *f = fx_new("on_violation: pass\n");
    const Span *sp = through(f, tv, N(tv), ev, N(ev));
    assert_string_equal(attr(sp, "gen_ai.input.messages")->string_value,
                        "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Hi\"}]}]");
    assert_string_equal(attr(sp, "gen_ai.output.messages")->string_value,
                        "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":"
                        "\"Hello\"}],\"finish_reason\":\"stop\"}]");
    /* the message events are gone; the other one stays, its attributes renamed */
    assert_int_equal(sp->n_events, 1);
    assert_string_equal(sp->events[0]->name, "gen_ai.evaluation.result");
    const Event *e = sp->events[0];
    bool renamed = false;
    for (size_t i = 0; i < e->n_attributes; i++) {
        assert_string_not_equal(e->attributes[i]->key, "gen_ai.system");
        if (strcmp(e->attributes[i]->key, "gen_ai.provider.name") == 0) {
            assert_string_equal(e->attributes[i]->value->string_value, "azure.ai.openai");
            renamed = true;
        }
    }
    assert_true(renamed);
    assert_int_equal(counter(f, "rebuilt_messages", "events"), 1);
    fx_free(f);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validator_rejects),
        cmocka_unit_test(test_openinference_input),
        cmocka_unit_test(test_openinference_output),
        cmocka_unit_test(test_not_as_expected),
        cmocka_unit_test(test_openllmetry),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_processor_openinference),
        cmocka_unit_test(test_processor_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
