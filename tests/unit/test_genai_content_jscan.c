/* test_genai_content_jscan.c — the validating scan in front of genai_content's json-c walk
 * (processors/genai_content/jscan.h) against that walk.
 *
 * The one idea: the scan may only ever say "clean" where the json-c walk would have left the text
 * alone, so each corpus text is given to both: RFC 8259 texts (valid, invalid, deep, escapes,
 * surrogates, huge numbers, duplicate keys) must get the same verdict (valid and of the shape,
 * not JSON, wrong shape); the texts json-c accepts beyond RFC 8259 (NaN, single quotes, raw
 * control characters, "-01", invalid UTF-8, lone surrogates, escaped or repeated keys) must be
 * left to json-c by the scan. Then whole policies run both ways (gc_apply_json, scan first, and
 * gc_apply_json_tree, json-c alone) on content cases and must give the same results, texts and
 * counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "processors/genai_content/detect.h"
#include "processors/genai_content/genai_content.h"
#include "processors/genai_content/jscan.h"

struct pol {
    struct cnode *root;
    struct genai_content_config cfg;
    struct gc_policy *p;
};

static void pol_open(struct pol *x, const char *yaml)
{
    memset(x, 0, sizeof *x);
    struct error err = {0};
    if (yaml) {
        x->root = config_parse_string(yaml, "<test>", &err);
        assert_non_null(x->root);
    }
    if (config_bind(genai_content_processor_factory.fields, x->root, &x->cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    x->p = gc_policy_new(&x->cfg, &err);
    if (!x->p)
        fail_msg("policy: %s", err.msg);
}

static void pol_close(struct pol *x)
{
    gc_policy_free(x->p);
    config_free_bound(genai_content_processor_factory.fields, &x->cfg);
    cnode_free(x->root);
}

/* What json-c (and the shape checks) make of a text without PII under the default policy. */
enum verdict { OK, INVALID, SHAPE };

static enum verdict jsonc_verdict(const struct gc_policy *p, const char *s, size_t n,
                                  bool parts_only)
{
    struct gc_tally t;
    assert_int_equal(gc_tally_init(&t, p), 0);
    char *out = NULL;
    size_t ol = 0;
    enum gc_result r = gc_apply_json_tree(p, parts_only ? GC_SYSTEM_INSTRUCTIONS : GC_INPUT_MESSAGES,
                                          s, n, &out, &ol, &t);
    free(out);
    enum verdict v = OK;
    if (r == GC_UNPARSABLE)
        v = strcmp(t.why, "not valid JSON") == 0 || strcmp(t.why, "text after the JSON value") == 0
                ? INVALID
                : SHAPE;
    else if (r != GC_SAME)
        fail_msg("json-c walk changed a corpus text (%d): %.*s", r, (int)n, s);
    gc_tally_fini(&t);
    return v;
}

struct sample {
    const char *s;
    size_t n;            /* 0: strlen */
    bool parts_only;
    enum gc_jscan scan;  /* the scan's verdict */
    enum verdict jsonc;  /* json-c's */
};

#define M(body) "[{\"role\":\"user\",\"parts\":[" body "]}]"
#define P(body) M("{\"type\":\"text\"," body "}")

static const struct sample corpus[] = {
    /* RFC 8259, of the shape: the scan says clean, json-c reads it */
    {"[]", 0, false, GC_JSCAN_CLEAN, OK},
    {" \t\r\n[ ] \n", 0, false, GC_JSCAN_CLEAN, OK},
    {M(""), 0, false, GC_JSCAN_CLEAN, OK},
    {P("\"content\":\"hello\""), 0, false, GC_JSCAN_CLEAN, OK},
    {M("{\"content\":\"early\",\"type\":\"text\"}"), 0, false, GC_JSCAN_CLEAN, OK},
    {P("\"n\":-0.5e+10,\"m\":99999999999999999999999,\"k\":1e400,\"z\":-0,\"e\":1E-7,"
       "\"l\":[true,false,null,{}]"), 0, false, GC_JSCAN_CLEAN, OK},
    {P("\"content\":\"a\\n\\t\\\"\\\\\\/\\b\\f\\r\\u00e9\\ud83d\\ude00\\u0000\""), 0, false,
     GC_JSCAN_CLEAN, OK},
    {P("\"content\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\""), 0, false, GC_JSCAN_CLEAN, OK},
    {P("\"content\":\"a\",\"content\":\"b\""), 0, false, GC_JSCAN_CLEAN, OK},
    {P("\"arguments\":{\"k\\u0065y\":\"v\",\"k\":[1,{\"x\":\"y\"}]}"), 0, false, GC_JSCAN_CLEAN,
     OK},
    {"[{\"role\":\"user\",\"parts\":[],\"finish_reason\":\"stop\",\"x\":{\"y\":[1]}}]", 0, false,
     GC_JSCAN_CLEAN, OK},
    {"[{\"type\":\"text\",\"content\":\"be brief\"}]", 0, true, GC_JSCAN_CLEAN, OK},
    {"[]", 0, true, GC_JSCAN_CLEAN, OK},
    /* not JSON for either */
    {"", 0, false, GC_JSCAN_INVALID, INVALID},
    {"   ", 0, false, GC_JSCAN_INVALID, INVALID},
    {"[", 0, false, GC_JSCAN_INVALID, INVALID},
    {"[1,]", 0, false, GC_JSCAN_INVALID, INVALID},
    {"[,]", 0, false, GC_JSCAN_INVALID, INVALID},
    {"[1] x", 0, false, GC_JSCAN_INVALID, INVALID},
    {"[]]", 0, false, GC_JSCAN_INVALID, INVALID},
    {"[][]", 0, false, GC_JSCAN_INVALID, INVALID},
    {"\v[]", 0, false, GC_JSCAN_INVALID, INVALID},
    {"[]\f", 0, false, GC_JSCAN_INVALID, INVALID},
    {"1", 0, false, GC_JSCAN_INVALID, INVALID},
    {"true", 0, false, GC_JSCAN_INVALID, INVALID},
    {"-1.5", 0, true, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":01"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":1e"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":-"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":.5"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":+1"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":0x10"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":True"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":nul"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":truex"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"content\":\"\\x\""), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"content\":\"\\'\""), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"content\":\"\\uZZZZ\""), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"content\":\"\\ud800\\uZZZZ\""), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"content\":\"open"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":{a:1}"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":{\"a\":1,}"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":['a']"), 0, false, GC_JSCAN_INVALID, INVALID},
    {P("\"x\":/*c*/1"), 0, false, GC_JSCAN_INVALID, INVALID},
    {"\xef\xbb\xbf[]", 0, false, GC_JSCAN_INVALID, INVALID},
    /* a NUL byte, raw: json-c's walk refuses it */
    {"[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"a\0b\"}]}]", 58, false,
     GC_JSCAN_INVALID, INVALID},
    /* JSON, not the shape */
    {"{}", 0, false, GC_JSCAN_SHAPE, SHAPE},
    {"\"x\"", 0, false, GC_JSCAN_SHAPE, SHAPE},
    {"1 ", 0, false, GC_JSCAN_SHAPE, SHAPE},
    {"true\n", 0, true, GC_JSCAN_SHAPE, SHAPE},
    {"null\n", 0, true, GC_JSCAN_INVALID, INVALID},
    {"[1]", 0, false, GC_JSCAN_SHAPE, SHAPE},
    {"[{\"parts\":[]}]", 0, false, GC_JSCAN_SHAPE, SHAPE},
    {"[{\"role\":1,\"parts\":[]}]", 0, false, GC_JSCAN_SHAPE, SHAPE},
    {"[{\"role\":\"u\"}]", 0, false, GC_JSCAN_SHAPE, SHAPE},
    {"[{\"role\":\"u\",\"parts\":{}}]", 0, false, GC_JSCAN_SHAPE, SHAPE},
    {M("1"), 0, false, GC_JSCAN_SHAPE, SHAPE},
    {M("{\"content\":\"x\"}"), 0, false, GC_JSCAN_SHAPE, SHAPE},
    {M("{\"type\":2}"), 0, false, GC_JSCAN_SHAPE, SHAPE},
    {"[{\"role\":\"u\",\"parts\":[]}]", 0, true, GC_JSCAN_SHAPE, SHAPE},
    /* json-c's extensions of JSON: the scan leaves them to json-c */
    {P("\"x\":NaN"), 0, false, GC_JSCAN_INVALID, OK},
    {P("\"x\":-Infinity"), 0, false, GC_JSCAN_INVALID, OK},
    {P("\"x\":1."), 0, false, GC_JSCAN_INVALID, OK},
    {P("\"x\":-01"), 0, false, GC_JSCAN_INVALID, OK},
    {P("\"x\":00"), 0, false, GC_JSCAN_INVALID, OK},
    {P("'x':1"), 0, false, GC_JSCAN_INVALID, OK},
    {P("\"content\":\"a\tb\""), 0, false, GC_JSCAN_INVALID, OK},
    {P("\"content\":\"a\x01\""), 0, false, GC_JSCAN_INVALID, OK},
    /* JSON json-c may read otherwise than RFC 8259 does: left to json-c */
    {P("\"content\":\"\xff\""), 0, false, GC_JSCAN_UNSURE, OK},
    {P("\"content\":\"\xed\xa0\x80\""), 0, false, GC_JSCAN_UNSURE, OK},
    {P("\"content\":\"\\ud800\""), 0, false, GC_JSCAN_UNSURE, OK},
    {P("\"content\":\"\\udc00x\""), 0, false, GC_JSCAN_UNSURE, OK},
    {P("\"content\":\"\\ud800\\u0041\""), 0, false, GC_JSCAN_UNSURE, OK},
    {"[{\"r\\u006fle\":\"u\",\"parts\":[]}]", 0, false, GC_JSCAN_UNSURE, OK},
    {"[{\"role\":1,\"role\":\"u\",\"parts\":[]}]", 0, false, GC_JSCAN_UNSURE, OK},
    {"[{\"role\":\"u\",\"parts\":1,\"parts\":[]}]", 0, false, GC_JSCAN_UNSURE, OK},
    {M("{\"type\":\"t\\u0065xt\"}"), 0, false, GC_JSCAN_UNSURE, OK},
    {M("{\"type\":\"blob\",\"type\":\"text\"}"), 0, false, GC_JSCAN_UNSURE, OK},
    {M("{\"t\\u0079pe\":\"text\"}"), 0, false, GC_JSCAN_UNSURE, OK},
};

static void test_corpus(void **state)
{
    (void)state;
    struct pol x;
    pol_open(&x, NULL);
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        const struct sample *c = &corpus[i];
        size_t n = c->n ? c->n : strlen(c->s);
        enum gc_jscan got = gc_jscan_messages(c->s, n, c->parts_only, NULL, NULL);
        enum verdict want = jsonc_verdict(x.p, c->s, n, c->parts_only);
        if (got != c->scan || want != c->jsonc)
            fail_msg("corpus[%zu] %.*s: scan %d (want %d), json-c %d (want %d)", i, (int)n, c->s,
                     got, c->scan, want, c->jsonc);
        /* what the scan decides, it decides as json-c */
        if (got == GC_JSCAN_CLEAN)
            assert_int_equal(want, OK);
        if (got == GC_JSCAN_SHAPE)
            assert_int_equal(want, SHAPE);
    }
    pol_close(&x);
}

/* json-c counts levels of values, the whole text being level 1 and scalars counting: a scalar
 * under 63 containers is read, under 64 it is not, while 64 containers with the innermost empty
 * are read. Both ways agree, with arrays and with objects. */
static void depth_case(const struct gc_policy *p, int d, bool objects, bool empty_leaf)
{
    char buf[1024];
    /* messages [ { parts [ { "c": ... : 4 containers before the nested value */
    int k = snprintf(buf, sizeof buf, "[{\"role\":\"u\",\"parts\":[{\"type\":\"t\",\"c\":");
    for (int i = 0; i < d - 4; i++)
        k += snprintf(buf + k, sizeof buf - (size_t)k, objects ? "{\"a\":" : "[");
    k += snprintf(buf + k, sizeof buf - (size_t)k, empty_leaf ? "[]" : "1");
    for (int i = 0; i < d - 4; i++)
        buf[k++] = objects ? '}' : ']';
    k += snprintf(buf + k, sizeof buf - (size_t)k, "}]}]");
    int containers = d + empty_leaf;
    bool fits = empty_leaf ? containers <= GC_JSCAN_DEPTH : containers < GC_JSCAN_DEPTH;
    enum gc_jscan got = gc_jscan_messages(buf, (size_t)k, false, NULL, NULL);
    enum verdict want = jsonc_verdict(p, buf, (size_t)k, false);
    if (got != (fits ? GC_JSCAN_CLEAN : GC_JSCAN_INVALID) || want != (fits ? OK : INVALID))
        fail_msg("%d containers (%s, %s leaf): scan %d, json-c %d", containers,
                 objects ? "objects" : "arrays", empty_leaf ? "empty" : "scalar", got, want);
}

static void test_depth(void **state)
{
    (void)state;
    struct pol x;
    pol_open(&x, NULL);
    for (int d = 58; d <= 68; d++)
        for (int m = 0; m < 4; m++)
            depth_case(x.p, d, m & 1, m & 2);
    pol_close(&x);
}

/* The visitor sees exactly the content strings, unescaped. */
struct seen {
    char text[512];
    size_t n;
};

static int record(void *ud, const char *s, size_t n)
{
    struct seen *z = ud;
    assert_true(z->n + n + 1 < sizeof z->text);
    memcpy(z->text + z->n, s, n);
    z->n += n;
    z->text[z->n++] = '|';
    return 0;
}

static void test_visits_content(void **state)
{
    (void)state;
    struct seen z = {0};
    const char *s =
        "[{\"role\":\"ROLE\",\"finish_reason\":\"FIN\",\"parts\":["
        "{\"type\":\"text\",\"id\":\"ID\",\"name\":\"NAME\",\"mime_type\":\"MT\",\"modality\":\"MO\","
        "\"content\":\"a\\nb\\u00e9\"},"
        "{\"content\":\"BLOB\",\"type\":\"blob\",\"x\":\"c\"},"
        "{\"content\":\"d\",\"type\":\"text\"},"
        "{\"type\":\"tool_call\",\"arguments\":{\"name\":\"e\",\"k\":[\"f\",1,{\"g\":\"h\"}]}}]}]";
    assert_int_equal(gc_jscan_messages(s, strlen(s), false, record, &z), GC_JSCAN_CLEAN);
    z.text[z.n] = '\0';
    assert_string_equal(z.text, "a\nb\xc3\xa9|c|d|e|f|h|");
}

/* A long escaped string goes through the scratch buffer. */
static int says_change_if_long(void *ud, const char *s, size_t n)
{
    (void)ud;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\\')
            return -1; /* an escape left in: must not happen */
    return n > 3000;
}

static void test_long_escaped(void **state)
{
    (void)state;
    size_t len = 5000;
    char *s = malloc(len * 2 + 100);
    assert_non_null(s);
    size_t k = (size_t)sprintf(s, "[{\"type\":\"text\",\"content\":\"");
    for (size_t i = 0; i < len; i++) {
        s[k++] = '\\';
        s[k++] = 'n';
    }
    k += (size_t)sprintf(s + k, "\"}]");
    assert_int_equal(gc_jscan_messages(s, k, true, says_change_if_long, NULL), GC_JSCAN_CHANGE);
    free(s);
}

/* The policy both ways: the same result, text and counts. */
static void both_ways(const char *yaml, enum gc_family f, const char *s, enum gc_result want)
{
    struct pol x;
    pol_open(&x, yaml);
    struct gc_tally a, b;
    assert_int_equal(gc_tally_init(&a, x.p), 0);
    assert_int_equal(gc_tally_init(&b, x.p), 0);
    char *oa = NULL, *ob = NULL;
    size_t la = 0, lb = 0;
    size_t n = strlen(s);
    enum gc_result ra = gc_apply_json(x.p, f, s, n, &oa, &la, &a);
    enum gc_result rb = gc_apply_json_tree(x.p, f, s, n, &ob, &lb, &b);
    if (ra != want || rb != want)
        fail_msg("%s: scan first %d, json-c alone %d, want %d", s, ra, rb, want);
    if (ra == GC_CHANGED) {
        assert_int_equal(la, lb);
        assert_memory_equal(oa, ob, la);
    }
    assert_memory_equal(a.changed, b.changed, sizeof a.changed);
    assert_memory_equal(a.unparsable, b.unparsable, sizeof a.unparsable);
    assert_memory_equal(a.truncated, b.truncated, sizeof a.truncated);
    assert_memory_equal(a.redactions, b.redactions,
                        gc_detectors_count(gc_policy_detectors(x.p)) * sizeof *a.redactions);
    free(oa);
    free(ob);
    gc_tally_fini(&a);
    gc_tally_fini(&b);
    pol_close(&x);
}

/* Content behind a repeated key: json-c keeps the last value only, so its tree walk alone finds
 * nothing to redact and would send the e-mail on; the scan sees both values, and the policy fails
 * closed (the value is dropped and counted). */
static void test_repeated_key_fails_closed(void **state)
{
    (void)state;
    struct pol x;
    pol_open(&x, NULL);
    const char *s = M("{\"type\":\"text\",\"content\":\"mail jane.doe@example.com\","
                      "\"content\":\"hi\"}");
    size_t n = strlen(s);
    struct gc_tally a, b;
    assert_int_equal(gc_tally_init(&a, x.p), 0);
    assert_int_equal(gc_tally_init(&b, x.p), 0);
    char *oa = NULL, *ob = NULL;
    size_t la = 0, lb = 0;
    assert_int_equal(gc_apply_json_tree(x.p, GC_INPUT_MESSAGES, s, n, &ob, &lb, &b), GC_SAME);
    assert_int_equal(gc_apply_json(x.p, GC_INPUT_MESSAGES, s, n, &oa, &la, &a), GC_UNPARSABLE);
    assert_string_equal(a.why, GC_WHY_HIDDEN);
    assert_int_equal(a.unparsable[GC_INPUT_MESSAGES], 1);
    /* the same repeated key with nothing to redact stays as it is */
    const char *clean = M("{\"type\":\"text\",\"content\":\"hello\",\"content\":\"hi\"}");
    assert_int_equal(gc_apply_json(x.p, GC_INPUT_MESSAGES, clean, strlen(clean), &oa, &la, &a),
                     GC_SAME);
    free(oa);
    free(ob);
    gc_tally_fini(&a);
    gc_tally_fini(&b);
    pol_close(&x);
}

static void test_policy_both_ways(void **state)
{
    (void)state;
    both_ways(NULL, GC_INPUT_MESSAGES, P("\"content\":\"hello there\""), GC_SAME);
    both_ways(NULL, GC_INPUT_MESSAGES, P("\"content\":\"mail jane.doe@example.com\""), GC_CHANGED);
    both_ways(NULL, GC_INPUT_MESSAGES, P("\"content\":\"mail jane.doe\\u0040example.com\""),
              GC_CHANGED);
    /* structural keys, roles and blobs are not content */
    both_ways(NULL, GC_INPUT_MESSAGES,
              "[{\"role\":\"jane.doe@example.com\",\"parts\":[{\"type\":\"text\","
              "\"id\":\"jane.doe@example.com\",\"content\":\"hi\"}]}]",
              GC_SAME);
    both_ways(NULL, GC_INPUT_MESSAGES,
              M("{\"content\":\"jane.doe@example.com\",\"type\":\"blob\"}"), GC_SAME);
    both_ways(NULL, GC_INPUT_MESSAGES,
              M("{\"content\":\"jane.doe@example.com\",\"type\":\"text\"}"), GC_CHANGED);
    both_ways(NULL, GC_OUTPUT_MESSAGES,
              M("{\"type\":\"tool_call\",\"arguments\":{\"to\":[\"jane.doe@example.com\"]}}"),
              GC_CHANGED);
    both_ways(NULL, GC_SYSTEM_INSTRUCTIONS,
              "[{\"type\":\"text\",\"content\":\"call +33 6 12 34 56 78\"}]", GC_CHANGED);
    /* fail closed, and what json-c alone accepts */
    both_ways(NULL, GC_INPUT_MESSAGES, "[{\"role\":\"u\"}]", GC_UNPARSABLE);
    both_ways(NULL, GC_INPUT_MESSAGES, "not json", GC_UNPARSABLE);
    both_ways(NULL, GC_INPUT_MESSAGES, P("\"x\":NaN,\"content\":\"hi\""), GC_SAME);
    both_ways(NULL, GC_INPUT_MESSAGES, P("\"content\":\"\\ud800 jane.doe@example.com\""),
              GC_CHANGED);
    /* max_length under keep: only a long string changes */
    both_ways("input_messages: keep\nmax_length: 10\n", GC_INPUT_MESSAGES,
              P("\"content\":\"short\""), GC_SAME);
    both_ways("input_messages: keep\nmax_length: 10\n", GC_INPUT_MESSAGES,
              P("\"content\":\"a little longer\""), GC_CHANGED);
    both_ways("input_messages: keep\nmax_length: 10\n", GC_INPUT_MESSAGES,
              P("\"content\":\"a\\nlittle\\nlonger\""), GC_CHANGED);
    both_ways("input_messages: hash\n", GC_INPUT_MESSAGES, P("\"content\":\"hi\""), GC_CHANGED);
}

/* The detectors' features let through what their patterns match, IBANs of every country
 * letter included. */
static void test_features(void **state)
{
    (void)state;
    struct error err = {0};
    struct gc_detectors *d = gc_detectors_new(true, NULL, 0, NULL, 0, "<{kind}>", &err);
    assert_non_null(d);
    static const char *const hits[] = {
        "pay to BE68 5390 0754 7034 today", "SE45 5000 0000 0583 9825 7466",
        "host 10.0.0.1 down", "v6 fe80::1 up", "at 2001:db8::8a2e:370:7334.",
        "key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "AKIAIOSFODNN7EXAMPLE",
        "Bearer abcdef0123456789ABCDEF",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "a@b.co",
        "card 4111 1111 1111 1111", "call (555) 123-4567"};
    for (size_t i = 0; i < sizeof hits / sizeof hits[0]; i++) {
        char *out = NULL;
        size_t ol = 0;
        long r = gc_redact(d, hits[i], strlen(hits[i]), &out, &ol, NULL);
        if (r <= 0 || gc_detect(d, hits[i], strlen(hits[i])) != 1)
            fail_msg("nothing found in '%s'", hits[i]);
        free(out);
    }
    static const char *const clean[] = {"order 48213: shipped on the 3rd, 129.90 EUR",
                                        "version 1.2.3 of sk-learn", "ratio 3:2, time 10:30"};
    for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++)
        assert_int_equal(gc_detect(d, clean[i], strlen(clean[i])), 0);
    gc_detectors_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),          cmocka_unit_test(test_depth),
        cmocka_unit_test(test_visits_content),  cmocka_unit_test(test_long_escaped),
        cmocka_unit_test(test_policy_both_ways), cmocka_unit_test(test_features),
        cmocka_unit_test(test_repeated_key_fails_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
