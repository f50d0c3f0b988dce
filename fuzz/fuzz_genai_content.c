/* fuzz_genai_content.c — the genai_content policy (processors/genai_content) on sender-controlled
 * message JSON, with the default config (every family redact, every detector).
 * Input: byte 0 picks a family (bits 0-1: input, output, system instructions) and a secret to
 * plant (bits 2-5, one per detector kind); the rest is text.
 *
 * The one idea: two oracles that do not depend on the detectors' code. (1) The rest, read as
 * gen_ai.*.messages JSON, is either refused (fail closed), left alone, or rewritten into strict
 * JSON of the very same shape: same messages, roles, parts and part types. (2) The rest, split in
 * two and used as the text around a planted secret of a known kind (set apart by " | " so its
 * boundaries are its own), gives a text part from which that secret is gone, whatever the text
 * next to it. (3) The fast scan in front of the json-c walk (jscan.h) is invisible: the walk alone
 * gives the same result, text and counts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/config.h"
#include "fuzz/fuzz_util.h"
#include "processors/genai_content/genai_content.h"
#include "processors/genai_content/jscan.h"

static const char *const planted[][2] = {
    /* text planted, the part of it that must not survive */
    {"jane.doe@example.com", "jane.doe@example.com"},
    {"+33 6 12 34 56 78", "6 12 34 56 78"},
    {"(555) 123-4567", "123-4567"},
    {"4111 1111 1111 1111", "4111 1111 1111 1111"},
    {"DE89 3704 0044 0532 0130 00", "3704 0044 0532 0130 00"},
    {"192.168.1.20", "192.168.1.20"},
    {"2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"},
    {"sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"},
    {"sk-ant-api03-Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE", "Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE"},
    {"AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"},
    {"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
    {"ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT", "aBcD1234eFgH5678iJkL9012mNoP3456qRsT"},
    {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
     "eyJzdWIiOiIxMjM0NTY3ODkwIn0"},
    {"Bearer abcdef0123456789ABCDEF", "abcdef0123456789ABCDEF"},
    {"fe80::1", "fe80::1"},
    {"GB82WEST12345698765432", "WEST12345698765432"},
};
#define NPLANTED (sizeof planted / sizeof planted[0])

static struct gc_policy *policy(void)
{
    static struct genai_content_config cfg;
    static struct gc_policy *p;
    if (!p) {
        struct error err = {0};
        FUZZ_CHECK(config_bind(genai_content_processor_factory.fields, NULL, &cfg, &err) == 0,
                   "default config: %s", err.msg);
        p = gc_policy_new(&cfg, &err);
        FUZZ_CHECK(p, "default policy: %s", err.msg);
    }
    return p;
}

static json_object *parse_strict(const char *s, size_t n)
{
    json_tokener *tok = json_tokener_new_ex(64);
    FUZZ_CHECK(tok, "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *o = json_tokener_parse_ex(tok, s, (int)n);
    FUZZ_CHECK(o && json_tokener_get_error(tok) == json_tokener_success,
               "rewritten messages are not strict JSON");
    json_tokener_free(tok);
    return o;
}

/* The shape: for each message its role and, for each part, its type ("system instructions":
 * parts only). Both texts are already known to be of the right shape. */
static void same_shape(json_object *a, json_object *b, bool parts_only)
{
    size_t n = json_object_array_length(a);
    FUZZ_CHECK(json_object_is_type(b, json_type_array) && json_object_array_length(b) == n,
               "message count changed");
    for (size_t i = 0; i < n; i++) {
        json_object *ma = json_object_array_get_idx(a, i), *mb = json_object_array_get_idx(b, i);
        json_object *pa = ma, *pb = mb, *x, *y;
        if (!parts_only) {
            FUZZ_CHECK(json_object_object_get_ex(ma, "role", &x) &&
                       json_object_object_get_ex(mb, "role", &y) &&
                       strcmp(json_object_get_string(x), json_object_get_string(y)) == 0,
                       "a role changed");
            json_object_object_get_ex(ma, "parts", &pa);
            FUZZ_CHECK(json_object_object_get_ex(mb, "parts", &pb), "parts vanished");
            FUZZ_CHECK(json_object_object_length(ma) == json_object_object_length(mb),
                       "message keys changed");
        } else {
            pa = a;
            pb = b;
            if (i > 0)
                break;
        }
        size_t k = json_object_array_length(pa);
        FUZZ_CHECK(json_object_is_type(pb, json_type_array) && json_object_array_length(pb) == k,
                   "part count changed");
        for (size_t j = 0; j < k; j++) {
            json_object *qa = json_object_array_get_idx(pa, j), *qb = json_object_array_get_idx(pb, j);
            FUZZ_CHECK(json_object_object_get_ex(qa, "type", &x) &&
                       json_object_object_get_ex(qb, "type", &y) &&
                       strcmp(json_object_get_string(x), json_object_get_string(y)) == 0,
                       "a part type changed");
            FUZZ_CHECK(json_object_object_length(qa) == json_object_object_length(qb),
                       "part keys changed");
        }
    }
}

static size_t count(const char *h, size_t n, const char *needle)
{
    size_t c = 0, l = strlen(needle);
    for (const char *p = h; (p = memmem(p, n - (size_t)(p - h), needle, l)); p++)
        c++;
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 1)
        return 0;
    struct gc_policy *p = policy();
    enum gc_family f = (enum gc_family)((data[0] & 3) % 3);
    size_t which = (data[0] >> 2) % NPLANTED;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;

    /* (1) the text as messages JSON */
    struct gc_tally t;
    FUZZ_CHECK(gc_tally_init(&t, p) == 0, "out of memory");
    char *out = NULL;
    size_t out_len = 0;
    enum gc_result r = gc_apply_json(p, f, text, n, &out, &out_len, &t);
    FUZZ_CHECK(r == GC_SAME || r == GC_CHANGED || r == GC_UNPARSABLE, "result %d", r);
    FUZZ_CHECK(r != GC_UNPARSABLE || t.unparsable[f] == 1, "a fail-closed drop was not counted");
    if (r == GC_CHANGED) {
        FUZZ_CHECK(out && strlen(out) == out_len, "output length");
        json_object *a = parse_strict(text, n), *b = parse_strict(out, out_len);
        same_shape(a, b, f == GC_SYSTEM_INSTRUCTIONS);
        json_object_put(a);
        json_object_put(b);
    }
    /* (3) the scan of jscan.h changes nothing: the json-c tree walk alone gives the same result,
     * the same bytes and the same counts; a text the scan calls clean or of the wrong shape is
     * one json-c reads as valid, of the shape or not */
    struct gc_tally t2;
    FUZZ_CHECK(gc_tally_init(&t2, p) == 0, "out of memory");
    char *out2 = NULL;
    size_t out2_len = 0;
    enum gc_result r2 = gc_apply_json_tree(p, f, text, n, &out2, &out2_len, &t2);
    if (r == GC_UNPARSABLE && r2 == GC_SAME && strcmp(t.why, GC_WHY_HIDDEN) == 0) {
        /* the one difference, on purpose: content behind a repeated key, which json-c drops and
         * the scan sees, fails closed; the tree alone would send it on */
        free(out2);
        gc_tally_fini(&t2);
        free(out);
        gc_tally_fini(&t);
        return 0;
    }
    FUZZ_CHECK(r2 == r, "scan then tree: %d, tree alone: %d", r, r2);
    FUZZ_CHECK(r != GC_CHANGED || (out2_len == out_len && memcmp(out, out2, out_len) == 0),
               "scan then tree and tree alone wrote different texts");
    FUZZ_CHECK(memcmp(t.changed, t2.changed, sizeof t.changed) == 0 &&
               memcmp(t.unparsable, t2.unparsable, sizeof t.unparsable) == 0 &&
               memcmp(t.truncated, t2.truncated, sizeof t.truncated) == 0 &&
               memcmp(t.redactions, t2.redactions,
                      gc_detectors_count(gc_policy_detectors(p)) * sizeof *t.redactions) == 0,
               "scan then tree and tree alone counted differently");
    enum gc_jscan v = gc_jscan_messages(text, n, f == GC_SYSTEM_INSTRUCTIONS, NULL, NULL);
    if (v == GC_JSCAN_CLEAN)
        FUZZ_CHECK(r2 != GC_UNPARSABLE, "the scan took for messages what json-c refuses");
    if (v == GC_JSCAN_SHAPE)
        FUZZ_CHECK(r2 == GC_UNPARSABLE && strcmp(t2.why, "not valid JSON") != 0 &&
                       strcmp(t2.why, "text after the JSON value") != 0,
                   "the scan saw a wrong shape where json-c saw %s", t2.why ? t2.why : "none");
    free(out2);
    gc_tally_fini(&t2);
    free(out);
    gc_tally_fini(&t);

    /* (2) a planted secret inside a text part */
    size_t half = n / 2;
    size_t pl = strlen(planted[which][0]);
    size_t tl = n + pl + 6;
    char *content = malloc(tl + 1);
    FUZZ_CHECK(content, "out of memory");
    memcpy(content, text, half);
    memcpy(content + half, " | ", 3);
    memcpy(content + half + 3, planted[which][0], pl);
    memcpy(content + half + 3 + pl, " | ", 3);
    memcpy(content + half + 6 + pl, text + half, n - half);
    content[tl] = '\0';
    json_object *part = json_object_new_object(), *parts = json_object_new_array(),
                *msg = json_object_new_object(), *msgs = json_object_new_array();
    FUZZ_CHECK(part && parts && msg && msgs, "out of memory");
    json_object_object_add(part, "type", json_object_new_string("text"));
    json_object_object_add(part, "content", json_object_new_string_len(content, (int)tl));
    json_object_array_add(parts, part);
    json_object_object_add(msg, "role", json_object_new_string("user"));
    json_object_object_add(msg, "parts", parts);
    json_object_array_add(msgs, msg);
    size_t jl = 0;
    const char *js = json_object_to_json_string_length(msgs, JSON_C_TO_STRING_PLAIN, &jl);
    FUZZ_CHECK(gc_tally_init(&t, p) == 0, "out of memory");
    r = gc_apply_json(p, GC_INPUT_MESSAGES, js, jl, &out, &out_len, &t);
    FUZZ_CHECK(r == GC_CHANGED, "a planted %s was not redacted (result %d)", planted[which][0], r);
    json_object *o = parse_strict(out, out_len), *m0, *p0, *c0;
    FUZZ_CHECK(json_object_object_get_ex(json_object_array_get_idx(o, 0), "parts", &m0), "parts");
    p0 = json_object_array_get_idx(m0, 0);
    FUZZ_CHECK(json_object_object_get_ex(p0, "content", &c0), "content");
    const char *got = json_object_get_string(c0);
    size_t gl = (size_t)json_object_get_string_len(c0);
    FUZZ_CHECK(count(got, gl, planted[which][1]) < count(content, tl, planted[which][1]),
               "planted %s survived", planted[which][0]);
    json_object_put(o);
    json_object_put(msgs);
    free(out);
    free(content);
    gc_tally_fini(&t);
    return 0;
}
