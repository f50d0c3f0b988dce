/* fuzz_ottl_data.c — the OTTL functions on data a sender controls: the statements real configs
 * run (ParseJSON, flatten, merge_maps, replace_pattern, Split, Substring, ConvertCase, Int,
 * truncate_all, limit, replace_match, String, SHA256) applied to one span attribute whose bytes
 * are the input. fuzz_ottl covers the text of a config; this covers what flows through it.
 * Input: byte 0 picks which statements run (one bit each of a few groups), the rest is the value
 * of attributes["v"] (any bytes, invalid UTF-8 and NUL included: a string attribute holds
 * what the wire held, up to its first NUL as protobuf-c gives it).
 *
 * The one idea: the statements are compiled once, and after they ran the span must still be an
 * OTLP span a protobuf-c encoder accepts and whose re-decode has the same attribute count, every
 * string attribute cut by truncate_all is within its limit, and String() of what ParseJSON built
 * is JSON json-c accepts strictly; memory safety and leaks are ASan's and LSan's to check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/ottl/ottl_internal.h"
#include "fuzz/fuzz_util.h"

static const char *const texts[] = {
    "set(attributes[\"j\"], ParseJSON(attributes[\"v\"]))",
    "set(attributes[\"js\"], String(attributes[\"j\"])) where IsMap(attributes[\"j\"])",
    "flatten(attributes[\"j\"], \"p\", 4) where IsMap(attributes[\"j\"])",
    "merge_maps(attributes, ParseJSON(attributes[\"v\"]), \"upsert\") where IsMatch(attributes[\"v\"], \"^\\\\{\")",
    "replace_pattern(attributes[\"v\"], \"([a-z]+)@([a-z.]+)\", \"$1 at ${2}\")",
    "replace_all_patterns(attributes, \"value\", \"[0-9]{3,}\", \"N\")",
    "replace_match(attributes[\"v\"], \"*secret*\", \"<redacted>\")",
    "set(attributes[\"split\"], Split(attributes[\"v\"], \",\"))",
    "set(attributes[\"sub\"], Substring(attributes[\"v\"], 1, 5)) where Len(attributes[\"v\"]) > 6",
    "set(attributes[\"snake\"], ConvertCase(attributes[\"v\"], \"snake\"))",
    "set(attributes[\"camel\"], ConvertCase(attributes[\"v\"], \"camel\"))",
    "set(attributes[\"i\"], Int(attributes[\"v\"]))",
    "set(attributes[\"d\"], Double(attributes[\"v\"]))",
    "set(attributes[\"h\"], SHA256(attributes[\"v\"]))",
    "set(name, Concat([name, attributes[\"v\"]], \"/\"))",
    "delete_matching_keys(attributes, \"^p\\\\.\")",
    "limit(attributes, 6, [\"v\"])",
    "truncate_all(attributes, 7)",
};
#define N_TEXTS (sizeof texts / sizeof texts[0])
#define TRUNCATE_AT 7

static struct ottl_statement *compiled[N_TEXTS];

static void compile_once(void)
{
    if (compiled[0])
        return;
    for (size_t i = 0; i < N_TEXTS; i++) {
        struct error err = {0};
        compiled[i] = ottl_statement_parse(OTTL_CTX_SPAN, texts[i], &err);
        FUZZ_CHECK(compiled[i] != NULL, "statement %zu does not compile: %s", i, err.msg);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    fuzz_quiet();
    compile_once();
    uint8_t pick = data[0];
    struct arena *a = arena_new(0);
    if (!a)
        return 0;
    char *v = arena_alloc(a, size);
    memcpy(v, data + 1, size - 1);
    v[size - 1] = '\0';

    Opentelemetry__Proto__Resource__V1__Resource res;
    Opentelemetry__Proto__Common__V1__InstrumentationScope scope;
    Opentelemetry__Proto__Trace__V1__Span span;
    opentelemetry__proto__resource__v1__resource__init(&res);
    opentelemetry__proto__common__v1__instrumentation_scope__init(&scope);
    opentelemetry__proto__trace__v1__span__init(&span);
    OttlKeyValue *kv = arena_alloc(a, sizeof *kv);
    OttlAnyValue *av = arena_alloc(a, sizeof *av);
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(av);
    av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    av->string_value = v;
    kv->key = arena_strdup(a, "v");
    kv->value = av;
    OttlKeyValue **attrs = arena_alloc(a, sizeof *attrs);
    attrs[0] = kv;
    span.attributes = attrs;
    span.n_attributes = 1;
    span.name = arena_strdup(a, "op");
    struct ottl_item it = {.ctx = OTTL_CTX_SPAN, .resource = &res, .scope = &scope,
                           .span = &span, .arena = a, .now_ns = 1};

    /* The parsing group always runs; the editing groups by the bits of byte 0. The last
     * statement (truncate_all) runs only with bit 7 so that others see whole values too. */
    bool truncated = false;
    for (size_t i = 0; i < N_TEXTS; i++) {
        bool on = i < 2 || (pick >> (i % 7)) & 1;
        if (i == N_TEXTS - 1)
            on = pick & 0x80;
        if (!on)
            continue;
        struct error err = {0};
        bool applied = false;
        (void)ottl_statement_run(compiled[i], &it, &applied, &err);
        if (i == N_TEXTS - 1)
            truncated = applied;
        if (i == 1 && applied) {
            /* String() of a map that ParseJSON built is JSON again */
            OttlAnyValue *js = NULL;
            for (size_t k = 0; k < span.n_attributes; k++)
                if (strcmp(span.attributes[k]->key, "js") == 0)
                    js = span.attributes[k]->value;
            FUZZ_CHECK(js && js->value_case ==
                                 OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE,
                       "String() of a map gave no string");
            struct json_tokener *tok = json_tokener_new();
            json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
            struct json_object *o = json_tokener_parse_ex(tok, js->string_value,
                                                          (int)strlen(js->string_value));
            FUZZ_CHECK(o && json_tokener_get_error(tok) == json_tokener_success,
                       "String(ParseJSON(v)) is not JSON: %s", js->string_value);
            json_object_put(o);
            json_tokener_free(tok);
        }
    }
    if (truncated)
        for (size_t k = 0; k < span.n_attributes; k++) {
            OttlAnyValue *x = span.attributes[k]->value;
            if (x && x->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
                FUZZ_CHECK(strlen(x->string_value) <= TRUNCATE_AT, "truncate_all left %zu bytes",
                           strlen(x->string_value));
        }
    /* still a span: it encodes, and decodes back with the same attributes */
    size_t n = protobuf_c_message_get_packed_size(&span.base);
    uint8_t *buf = malloc(n ? n : 1);
    FUZZ_CHECK(buf != NULL || n == 0, "oom");
    protobuf_c_message_pack(&span.base, buf);
    Opentelemetry__Proto__Trace__V1__Span *back =
        opentelemetry__proto__trace__v1__span__unpack(NULL, n, buf);
    FUZZ_CHECK(back != NULL, "the edited span does not decode");
    FUZZ_CHECK(back->n_attributes == span.n_attributes, "attributes %zu after decode, %zu before",
               back->n_attributes, span.n_attributes);
    opentelemetry__proto__trace__v1__span__free_unpacked(back, NULL);
    free(buf);
    arena_free(a);
    return 0;
}
