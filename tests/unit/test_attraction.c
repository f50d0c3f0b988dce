/* test_attraction.c — core/attraction against the Collector's attraction package: each action
 * and converted_type, the README's example list, the validation messages, and YAML values typed
 * as pcommon's FromRaw types them.
 *
 * The one idea: an attribute array is written as a tiny text ("k=s:v k2=i:5") and the expected
 * array after the actions is written the same way, worked out by hand from the Collector's code
 * (Remove moves the last pair into the hole; PutEmpty appends). Hashes were computed apart with
 * `printf %s VALUE | sha256sum` for strings and printf of the 8 little-endian bytes (ints,
 * doubles) or the one byte 01 (true) for other types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/attraction.h"
#include "core/config.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;

#define V_STR OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE
#define V_KVLIST OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE

#define SHA_JOHN "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f"
#define SHA_2245 "91df0e58e24451873e480a434ac913ec45d00603e21470511a89c1e850e58c87"
#define SHA_TRUE "4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a"
#define SHA_1_5 "e163f8cb0f7067a7fc78ca859a77f849aea3214f38fb75b884e4a16be725c905"
#define SHA_X "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
#define SHA_SHA_X "a57b5956dbc6e02127bbb40c87cb8244196d6d18e0e141936ffcd8cffad457ad"

/* "key=t:value" items separated by spaces; t is s (string), i (int), d (double), b (bool). */
static void parse_attrs(struct arena *a, const char *spec, kv_t ***out, size_t *n)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    kv_t **v = arena_alloc(a, 32 * sizeof *v);
    size_t k = 0;
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = '\0';
        kv_t *kv = arena_alloc(a, sizeof *kv);
        opentelemetry__proto__common__v1__key_value__init(kv);
        kv->key = arena_strdup(a, tok);
        any_t *val = arena_alloc(a, sizeof *val);
        opentelemetry__proto__common__v1__any_value__init(val);
        char t = eq[1];
        const char *s = eq + 3;
        if (t == 's')
            val->value_case = V_STR, val->string_value = arena_strdup(a, s);
        else if (t == 'i')
            val->value_case = V_INT, val->int_value = strtoll(s, NULL, 10);
        else if (t == 'd')
            val->value_case = V_DOUBLE, val->double_value = strtod(s, NULL);
        else
            val->value_case = V_BOOL, val->bool_value = strcmp(s, "true") == 0;
        kv->value = val;
        v[k++] = kv;
    }
    *out = v;
    *n = k;
}

/* The same text form of an array, for comparison. */
static void show_attrs(kv_t *const *v, size_t n, char *out, size_t cap)
{
    size_t w = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && w < cap; i++) {
        const any_t *x = v[i]->value;
        char val[400];
        switch (x ? x->value_case : 0) {
        case V_STR:
            snprintf(val, sizeof val, "s:%s", x->string_value);
            break;
        case V_INT:
            snprintf(val, sizeof val, "i:%" PRId64, x->int_value);
            break;
        case V_DOUBLE:
            snprintf(val, sizeof val, "d:%g", x->double_value);
            break;
        case V_BOOL:
            snprintf(val, sizeof val, "b:%s", x->bool_value ? "true" : "false");
            break;
        default:
            attraction_as_string(x, val + 2, sizeof val - 2);
            val[0] = 'j', val[1] = ':';
            break;
        }
        w += (size_t)snprintf(out + w, cap - w, "%s%s=%s", i ? " " : "", v[i]->key, val);
    }
}

static struct attraction *compile(const char *yaml, struct error *err)
{
    struct cnode *root = config_parse_string(yaml, "t.yaml", err);
    assert_non_null(root);
    struct attraction *a = attraction_compile(cnode_get(root, "actions"), "actions", err);
    cnode_free(root);
    return a;
}

/* Applies `actions` to `in` and asserts the result is `want` and that the dry run agreed. */
static void check(const char *actions, const char *in, const char *want)
{
    struct error err = {0};
    struct attraction *A = compile(actions, &err);
    if (!A)
        fail_msg("compile: %s", err.msg);
    struct arena *a = arena_new(0);
    kv_t **v;
    size_t n;
    parse_attrs(a, in, &v, &n);
    bool would = attraction_would_change(A, v, n);
    char before[2048], after[2048];
    show_attrs(v, n, before, sizeof before);
    assert_int_equal(attraction_apply(A, a, &v, &n), 0);
    show_attrs(v, n, after, sizeof after);
    assert_string_equal(after, want);
    assert_int_equal(would, strcmp(before, after) != 0);
    arena_free(a);
    attraction_free(A);
}

static void compile_fails(const char *actions, const char *frag)
{
    struct error err = {0};
    struct attraction *A = compile(actions, &err);
    if (A)
        fail_msg("compiled, expected an error with '%s'", frag);
    if (!strstr(err.msg, frag))
        fail_msg("error '%s' lacks '%s'", err.msg, frag);
}

/* The README's sample list of actions, on a span that has every key it names. */
static void test_readme_example(void **state)
{
    (void)state;
    check("actions:\n"
          "  - key: db.table\n    action: delete\n"
          "  - key: redacted_span\n    value: true\n    action: upsert\n"
          "  - key: copy_key\n    from_attribute: key_original\n    action: update\n"
          "  - key: account_id\n    value: 2245\n    action: insert\n"
          "  - key: account_password\n    action: delete\n"
          "  - key: account_email\n    action: hash\n"
          "  - key: http.status_code\n    action: convert\n    converted_type: int\n",
          "db.table=s:users copy_key=s:old key_original=s:orig account_password=s:pw "
          "account_email=s:john.doe@example.com http.status_code=s:200",
          /* db.table removed: http.status_code moved into its slot; redacted_span and then
           * account_id appended; account_password removed: account_id (then last) moved into
           * its slot */
          "http.status_code=i:200 copy_key=s:orig key_original=s:orig account_id=i:2245 "
          "account_email=s:" SHA_JOHN " redacted_span=b:true");
}

static void test_insert_update_upsert(void **state)
{
    (void)state;
    /* insert leaves an existing key; update leaves an absent one; upsert does both */
    check("actions:\n  - {key: a, value: new, action: insert}\n", "a=s:old", "a=s:old");
    check("actions:\n  - {key: a, value: new, action: insert}\n", "b=i:1", "b=i:1 a=s:new");
    check("actions:\n  - {key: a, value: new, action: update}\n", "b=i:1", "b=i:1");
    check("actions:\n  - {key: a, value: 7, action: update}\n", "a=s:old", "a=i:7");
    check("actions:\n  - {key: a, value: 1.5, action: upsert}\n", "b=i:1", "b=i:1 a=d:1.5");
    check("actions:\n  - {key: a, value: '1.5', action: UPSERT}\n", "a=i:1", "a=s:1.5");
    /* from_attribute: absent source means no action */
    check("actions:\n  - {key: a, from_attribute: b, action: upsert}\n", "c=i:1", "c=i:1");
    check("actions:\n  - {key: a, from_attribute: b, action: upsert}\n", "b=i:3", "b=i:3 a=i:3");
    /* default_value when the source gives none */
    check("actions:\n  - {key: region, from_attribute: cloud.region, default_value: us-east-1, "
          "action: insert}\n", "x=i:1", "x=i:1 region=s:us-east-1");
    check("actions:\n  - {key: region, from_attribute: cloud.region, default_value: us-east-1, "
          "action: insert}\n", "cloud.region=s:eu", "cloud.region=s:eu region=s:eu");
    /* an update to the same value changes nothing (dry run says so too) */
    check("actions:\n  - {key: a, value: 5, action: update}\n", "a=i:5", "a=i:5");
}

static void test_delete_and_pattern(void **state)
{
    (void)state;
    check("actions:\n  - {key: b, action: delete}\n", "a=i:1 b=i:2 c=i:3 d=i:4",
          "a=i:1 d=i:4 c=i:3");
    check("actions:\n  - {pattern: ^user\\., action: delete}\n",
          "user.email=s:x keep=i:1 user.name=s:y", "keep=i:1");
    check("actions:\n  - {key: nothere, action: delete}\n", "a=i:1", "a=i:1");
}

static void test_hash(void **state)
{
    (void)state;
    check("actions:\n  - {key: e, action: hash}\n", "e=s:john.doe@example.com",
          "e=s:" SHA_JOHN);
    check("actions:\n  - {key: e, action: hash}\n", "e=i:2245", "e=s:" SHA_2245);
    check("actions:\n  - {key: e, action: hash}\n", "e=b:true", "e=s:" SHA_TRUE);
    check("actions:\n  - {key: e, action: hash}\n", "e=d:1.5", "e=s:" SHA_1_5);
    check("actions:\n  - {key: e, action: hash}\n", "f=s:x", "f=s:x");
    /* key and pattern both naming it: hashed twice, as the Collector's loop does */
    check("actions:\n  - {key: k, pattern: ^k$, action: hash}\n", "k=s:x", "k=s:" SHA_SHA_X);
    check("actions:\n  - {pattern: ^k, action: hash}\n", "k1=s:x z=i:1", "k1=s:" SHA_X " z=i:1");
}

static void test_extract(void **state)
{
    (void)state;
    /* the span processor README's to_attributes rule, as an extract action */
    check("actions:\n  - key: http.route\n"
          "    pattern: ^\\/api\\/v1\\/document\\/(?P<documentId>.*)\\/update$\n"
          "    action: extract\n",
          "http.route=s:/api/v1/document/12345678/update",
          "http.route=s:/api/v1/document/12345678/update documentId=s:12345678");
    check("actions:\n  - key: http.url\n    pattern: ^(?P<http_protocol>.*):\\/\\/"
          "(?P<http_domain>.*)\\/(?P<http_path>.*)\\?(?P<http_query_params>.*)\n"
          "    action: extract\n",
          "http.url=s:http://example.com/path?queryParam1=value1,queryParam2=value2",
          "http.url=s:http://example.com/path?queryParam1=value1,queryParam2=value2 "
          "http_protocol=s:http http_domain=s:example.com http_path=s:path "
          "http_query_params=s:queryParam1=value1,queryParam2=value2");
    check("actions:\n  - {key: u, pattern: '^(?P<a>x)?y(?P<b>z)', action: extract}\n",
          "u=s:yz a=s:old", "u=s:yz a=s: b=s:z");
    check("actions:\n  - {key: u, pattern: '^(?P<a>x)', action: extract}\n", "u=i:1", "u=i:1");
    check("actions:\n  - {key: u, pattern: '^(?P<a>x)', action: extract}\n", "u=s:nope",
          "u=s:nope");
}

static void test_convert(void **state)
{
    (void)state;
    const char *to_int = "actions:\n  - {key: v, action: convert, converted_type: int}\n";
    const char *to_double = "actions:\n  - {key: v, action: convert, converted_type: double}\n";
    const char *to_str = "actions:\n  - {key: v, action: convert, converted_type: string}\n";
    check(to_int, "v=s:200", "v=i:200");
    check(to_int, "v=s:-7", "v=i:-7");
    check(to_int, "v=s:1.5", "v=s:1.5");         /* ParseInt fails: left as is */
    check(to_int, "v=s:1_000", "v=s:1_000");     /* base 10: no underscores */
    check(to_int, "v=d:-2.9", "v=i:-2");         /* int64(f) truncates */
    check(to_int, "v=b:true", "v=i:1");
    check(to_double, "v=s:1_000.5", "v=d:1000.5");
    check(to_double, "v=s:0x1p-2", "v=d:0.25");
    check(to_double, "v=s:abc", "v=s:abc");
    check(to_double, "v=s:1e400", "v=s:1e400");  /* out of range: ParseFloat errors */
    check(to_double, "v=i:3", "v=d:3");
    check(to_double, "v=b:false", "v=d:0");
    check(to_str, "v=d:1.5", "v=s:1.5");
    check(to_str, "v=d:1e21", "v=s:1e+21");
    check(to_str, "v=d:0.0000001", "v=s:1e-7");
    check(to_str, "v=d:100", "v=s:100");
    check(to_str, "v=i:-42", "v=s:-42");
    check(to_str, "v=b:true", "v=s:true");
    check(to_str, "v=s:same", "v=s:same");
}

static void test_yaml_values(void **state)
{
    (void)state;
    const char *yaml = "actions:\n"
                       "  - {key: a, value: 100_000, action: insert}\n"
                       "  - {key: b, value: 0x1F, action: insert}\n"
                       "  - {key: c, value: 1e3, action: insert}\n"
                       "  - {key: d, value: \"true\", action: insert}\n"
                       "  - {key: e, value: True, action: insert}\n"
                       "  - {key: f, value: [1, x], action: insert}\n"
                       "  - {key: g, value: {z: 1, a: [true]}, action: insert}\n";
    check(yaml, "", "a=i:100000 b=i:31 c=d:1000 d=s:true e=b:true f=j:[1,\"x\"] "
                    "g=j:{\"a\":[true],\"z\":1}");
}

static void test_validation(void **state)
{
    (void)state;
    compile_fails("actions:\n  - {action: insert, value: 1}\n",
                  "t.yaml:2:5: actions[0]: error creating AttrProc due to missing required "
                  "field \"key\" at the 0-th actions");
    compile_fails("actions:\n  - {action: delete}\n",
                  "at least one of \"key\" and \"pattern\" have to be used");
    compile_fails("actions:\n  - {key: a, action: insert}\n",
                  "Either field \"value\", \"from_attribute\" or \"from_context\" setting must "
                  "be specified for 0-th action");
    compile_fails("actions:\n  - {key: a, action: insert, value: 1, from_attribute: b}\n",
                  "multiple value sources being set at the 0-th actions");
    compile_fails("actions:\n  - {key: a, action: extract}\n",
                  "missing required field \"pattern\" for action \"extract\" at the 0-th action");
    compile_fails("actions:\n  - {key: a, action: extract, pattern: '^(x)$'}\n",
                  "contains at least one unnamed matcher group");
    compile_fails("actions:\n  - {key: a, action: extract, pattern: '^x$'}\n",
                  "contains no named matcher groups");
    compile_fails("actions:\n  - {key: a, action: hash, pattern: '('}\n",
                  "t.yaml:2:28: actions[0]: error creating AttrProc. Field \"pattern\" has "
                  "invalid pattern");
    compile_fails("actions:\n  - {key: a, action: convert}\n",
                  "missing required field \"converted_type\"");
    compile_fails("actions:\n  - {key: a, action: convert, converted_type: bool}\n",
                  "invalid value \"bool\" in field \"converted_type\"");
    compile_fails("actions:\n  - {key: a, action: rename}\n", "unsupported action \"rename\"");
    compile_fails("actions:\n  - {key: a, action: insert, value: 1, pattern: x}\n",
                  "does not use the \"pattern\" field");
    compile_fails("actions:\n  - {key: a, action: upsert, from_context: metadata.tenant}\n",
                  "from_context \"metadata.tenant\" is not supported");
    compile_fails("actions:\n  - {key: a, action: insert, value: 1, colour: red}\n", "colour");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_example),
        cmocka_unit_test(test_insert_update_upsert),
        cmocka_unit_test(test_delete_and_pattern),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_extract),
        cmocka_unit_test(test_convert),
        cmocka_unit_test(test_yaml_values),
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
