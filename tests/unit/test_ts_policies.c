/* test_ts_policies.c — each tail_sampling policy type on its own: compiled from YAML, fed span
 * bytes encoded by protobuf-c through the same reader the processor uses at ingest, and decided
 * on the resulting summary. Stateful policies get an explicit clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "processors/tail_sampling/ts_internal.h"

#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

#define SEC 1000000000LL

struct pol {
    struct cnode *root;
    struct ts_policies *p;
};

static struct pol compile(const char *yaml, const char *const *prop, size_t n_prop, bool first)
{
    struct pol r;
    struct error err = {0};
    r.root = config_parse_string(yaml, "<p>", &err);
    if (!r.root)
        fail_msg("yaml: %s", err.msg);
    struct config_str_list pl = {n_prop, (char **)prop};
    r.p = ts_policies_compile(cnode_get(r.root, "policies"), &pl, first, &err);
    if (!r.p)
        fail_msg("compile: %s", err.msg);
    return r;
}

static void pol_free(struct pol *r)
{
    ts_policies_free(r->p);
    cnode_free(r->root);
}

enum vkind { V_NONE, V_STR, V_INT, V_DBL, V_BOOL };
struct sattr {
    const char *key;
    enum vkind kind;
    const char *s;
    int64_t i;
    double d;
};

struct sspec {
    int status;               /* 0 none, 1 ok, 2 error */
    bool child;
    uint32_t flags;
    const char *trace_state;
    int64_t start, end;       /* ns */
    const struct sattr *attrs;
    size_t n_attrs;
};

static uint8_t tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* Reads a span encoded from spec and returns what the reader extracted. */
static struct ts_span_info read_span(const struct ts_policies *p, const struct sspec *sp)
{
    Span s;
    opentelemetry__proto__trace__v1__span__init(&s);
    uint8_t sid[8] = {1, 0, 0, 0, 0, 0, 0, 1}, pid[8] = {2, 0, 0, 0, 0, 0, 0, 1};
    s.trace_id = (ProtobufCBinaryData){16, tid};
    s.span_id = (ProtobufCBinaryData){8, sid};
    if (sp->child)
        s.parent_span_id = (ProtobufCBinaryData){8, pid};
    s.name = "op";
    s.flags = sp->flags;
    s.trace_state = (char *)(sp->trace_state ? sp->trace_state : "");
    s.start_time_unix_nano = (uint64_t)sp->start;
    s.end_time_unix_nano = (uint64_t)sp->end;
    Opentelemetry__Proto__Trace__V1__Status st;
    if (sp->status) {
        opentelemetry__proto__trace__v1__status__init(&st);
        st.code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)sp->status;
        s.status = &st;
    }
    KeyValue kv[8], *kvp[8];
    AnyValue av[8];
    for (size_t i = 0; i < sp->n_attrs; i++) {
        opentelemetry__proto__common__v1__key_value__init(&kv[i]);
        opentelemetry__proto__common__v1__any_value__init(&av[i]);
        kv[i].key = (char *)sp->attrs[i].key;
        kv[i].value = &av[i];
        switch (sp->attrs[i].kind) {
        case V_STR:
            av[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
            av[i].string_value = (char *)sp->attrs[i].s;
            break;
        case V_INT:
            av[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
            av[i].int_value = sp->attrs[i].i;
            break;
        case V_DBL:
            av[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
            av[i].double_value = sp->attrs[i].d;
            break;
        case V_BOOL:
            av[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
            av[i].bool_value = sp->attrs[i].i != 0;
            break;
        default:
            break;
        }
        kvp[i] = &kv[i];
    }
    s.n_attributes = sp->n_attrs;
    s.attributes = kvp;
    size_t len = protobuf_c_message_get_packed_size(&s.base);
    uint8_t *buf = malloc(len + 1);
    protobuf_c_message_pack(&s.base, buf);
    struct ts_span_info info;
    assert_int_equal(ts_read_span(p, buf, len, &info), 0);
    assert_non_null(info.trace_id);
    assert_memory_equal(info.trace_id, tid, 16);
    assert_int_equal(info.root, !sp->child);
    /* The pointers into buf are not used after this. */
    info.trace_id = tid;
    free(buf);
    return info;
}

/* Decides a trace made of the given spans. */
static struct ts_decision decide(struct ts_policies *p, const struct sspec *spans, size_t n,
                                 int64_t now, enum ts_verdict *verdicts)
{
    struct ts_summary s = {.trace_id = tid};
    uint64_t first = UINT64_MAX, last = 0;
    for (size_t i = 0; i < n; i++) {
        struct ts_span_info info = read_span(p, &spans[i]);
        s.mask |= info.mask;
        s.spans++;
        s.bytes += 100;
        if (info.start_ns < first)
            first = info.start_ns;
        if (info.end_ns > last)
            last = info.end_ns;
    }
    s.duration_ns = n ? (int64_t)(last - first) : 0;
    return ts_decide(p, &s, now, verdicts);
}

static bool kept1(struct ts_policies *p, struct sspec sp)
{
    return decide(p, &sp, 1, 0, NULL).sampled;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_always_sample(void **state)
{
    (void)state;
    struct pol r = compile("policies: [{name: a, type: always_sample}]", NULL, 0, false);
    struct sspec s = {0};
    struct ts_decision d = decide(r.p, &s, 1, 0, NULL);
    assert_true(d.sampled);
    assert_int_equal(d.keeper, 0);
    assert_true(d.adjusted_count == 1);
    pol_free(&r);
}

static void test_latency(void **state)
{
    (void)state;
    struct pol r = compile("policies: [{name: l, type: latency, latency: {threshold_ms: 100, "
                           "upper_threshold_ms: 200}}]",
                           NULL, 0, false);
    struct sspec a = {.start = 0, .end = 150000000};
    assert_true(kept1(r.p, a));
    a.end = 50000000;
    assert_false(kept1(r.p, a));
    a.end = 250000000;
    assert_false(kept1(r.p, a));
    /* Duration spans the whole trace: two short spans far apart. */
    struct sspec two[2] = {{.start = 0, .end = 10}, {.start = 120000000, .end = 120000010}};
    assert_true(decide(r.p, two, 2, 0, NULL).sampled);
    pol_free(&r);
    r = compile("policies: [{name: l, type: latency, latency: {threshold_ms: 100}}]", NULL, 0,
                false);
    a.end = 5 * SEC;
    assert_true(kept1(r.p, a));
    pol_free(&r);
}

static void test_numeric_attribute(void **state)
{
    (void)state;
    struct pol r = compile("policies: [{name: n, type: numeric_attribute, numeric_attribute: "
                           "{key: tokens, min_value: 10, max_value: 20}}]",
                           NULL, 0, false);
    struct sattr in = {"tokens", V_INT, NULL, 15, 0}, out = {"tokens", V_INT, NULL, 25, 0},
                 dbl = {"tokens", V_DBL, NULL, 0, 12.5}, other = {"other", V_INT, NULL, 15, 0};
    assert_true(kept1(r.p, (struct sspec){.attrs = &in, .n_attrs = 1}));
    assert_false(kept1(r.p, (struct sspec){.attrs = &out, .n_attrs = 1}));
    assert_true(kept1(r.p, (struct sspec){.attrs = &dbl, .n_attrs = 1}));
    assert_false(kept1(r.p, (struct sspec){.attrs = &other, .n_attrs = 1}));
    pol_free(&r);
    /* invert_match: a match vetoes even another policy's sampling. */
    r = compile("policies:\n"
                "  - {name: all, type: always_sample}\n"
                "  - {name: n, type: numeric_attribute, numeric_attribute: {key: tokens, "
                "min_value: 10, max_value: 20, invert_match: true}}\n",
                NULL, 0, false);
    assert_false(kept1(r.p, (struct sspec){.attrs = &in, .n_attrs = 1}));
    enum ts_verdict v[2];
    struct sspec s = {.attrs = &out, .n_attrs = 1};
    assert_true(decide(r.p, &s, 1, 0, v).sampled);
    assert_int_equal(v[1], TSV_INVERT_SAMPLED);
    pol_free(&r);
}

static void test_string_attribute_and_resource(void **state)
{
    (void)state;
    struct pol r = compile("policies: [{name: s, type: string_attribute, string_attribute: "
                           "{key: gen_ai.request.model, values: [gpt-4o, claude-3]}}]",
                           NULL, 0, false);
    struct sattr hit = {"gen_ai.request.model", V_STR, "claude-3", 0, 0},
                 miss = {"gen_ai.request.model", V_STR, "claude-3x", 0, 0};
    assert_true(kept1(r.p, (struct sspec){.attrs = &hit, .n_attrs = 1}));
    assert_false(kept1(r.p, (struct sspec){.attrs = &miss, .n_attrs = 1}));
    /* Resource attributes count too. */
    Opentelemetry__Proto__Resource__V1__Resource res;
    opentelemetry__proto__resource__v1__resource__init(&res);
    KeyValue kv;
    AnyValue av;
    opentelemetry__proto__common__v1__key_value__init(&kv);
    opentelemetry__proto__common__v1__any_value__init(&av);
    kv.key = "gen_ai.request.model";
    kv.value = &av;
    av.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    av.string_value = "gpt-4o";
    KeyValue *kvp = &kv;
    res.n_attributes = 1;
    res.attributes = &kvp;
    uint8_t buf[256];
    size_t len = protobuf_c_message_pack(&res.base, buf);
    uint64_t mask = ts_resource_mask(r.p, buf, len);
    assert_int_not_equal(mask, 0);
    struct ts_summary s = {.trace_id = tid, .mask = mask, .spans = 1};
    assert_true(ts_decide(r.p, &s, 0, NULL).sampled);
    pol_free(&r);

    r = compile("policies: [{name: s, type: string_attribute, string_attribute: "
                "{key: m, values: ['^gpt-4', 'sonnet$'], enabled_regex_matching: true}}]",
                NULL, 0, false);
    struct sattr a = {"m", V_STR, "gpt-4o-mini", 0, 0}, b = {"m", V_STR, "claude-sonnet", 0, 0},
                 c = {"m", V_STR, "my-gpt-4", 0, 0};
    assert_true(kept1(r.p, (struct sspec){.attrs = &a, .n_attrs = 1}));
    assert_true(kept1(r.p, (struct sspec){.attrs = &b, .n_attrs = 1}));
    assert_false(kept1(r.p, (struct sspec){.attrs = &c, .n_attrs = 1}));
    pol_free(&r);
}

/* Encoded Resource with one attribute key = value (a string, or an int when s is NULL). */
static size_t resource_bytes(uint8_t *buf, const char *key, const char *s, int64_t i)
{
    Opentelemetry__Proto__Resource__V1__Resource res;
    opentelemetry__proto__resource__v1__resource__init(&res);
    KeyValue kv;
    AnyValue av;
    opentelemetry__proto__common__v1__key_value__init(&kv);
    opentelemetry__proto__common__v1__any_value__init(&av);
    kv.key = (char *)key;
    kv.value = &av;
    if (s) {
        av.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        av.string_value = (char *)s;
    } else {
        av.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
        av.int_value = i;
    }
    KeyValue *kvp = &kv;
    res.n_attributes = 1;
    res.attributes = &kvp;
    return protobuf_c_message_pack(&res.base, buf);
}

static bool str_kept(struct ts_policies *p, const char *key, const char *value)
{
    struct sattr a = {key, V_STR, value, 0, 0};
    return kept1(p, (struct sspec){.attrs = &a, .n_attrs = 1});
}

/* enabled_regex_matching as the Collector does it: Go's regexp (RE2 syntax) and MatchString,
 * which finds a match anywhere in the value unless the pattern anchors itself. */
/* A KeyValue whose key field comes twice is read by its last key (protobuf: the later singular
 * field wins), even when the first one's first byte is none of the policies' keys: the reader's
 * shortcut on the first byte holds only for the usual key-then-value shape. */
static void test_attribute_key_given_twice(void **state)
{
    (void)state;
    struct pol r = compile("policies: [{name: s, type: string_attribute, string_attribute: "
                           "{key: gen_ai.request.model, values: [gpt-4o]}}]",
                           NULL, 0, false);
    static const char model[] = "gen_ai.request.model";
    uint8_t kv[64], *w = kv;
    *w++ = 0x0a, *w++ = 1, *w++ = 'x';                                   /* key "x" */
    *w++ = 0x12, *w++ = 8, *w++ = 0x0a, *w++ = 6;                        /* value "gpt-4o" */
    memcpy(w, "gpt-4o", 6), w += 6;
    *w++ = 0x0a, *w++ = (uint8_t)(sizeof model - 1);                     /* key, again */
    memcpy(w, model, sizeof model - 1), w += sizeof model - 1;
    uint8_t res[80];
    res[0] = 0x0a, res[1] = (uint8_t)(w - kv);                           /* Resource.attributes */
    memcpy(res + 2, kv, (size_t)(w - kv));
    assert_int_not_equal(ts_resource_mask(r.p, res, (size_t)(w - kv) + 2), 0);
    /* The usual shape with a key no policy names: nothing. */
    uint8_t plain[] = {0x0a, 13, 0x0a, 1, 'x', 0x12, 8, 0x0a, 6, 'g', 'p', 't', '-', '4', 'o'};
    assert_int_equal(ts_resource_mask(r.p, plain, sizeof plain), 0);
    pol_free(&r);
}

/* ts_item_has_key (does a span already carry a propagated attribute): the usual key-then-value
 * shape read directly, any other shape by the general walk, where the last key field wins. */
static void test_item_has_key_shapes(void **state)
{
    (void)state;
    /* a span body: name (field 5), then attributes (field 9) */
    uint8_t span[128], *w = span;
    *w++ = 0x2a, *w++ = 2, *w++ = 'o', *w++ = 'p';                        /* name "op" */
    /* tenant.id = "t1", the usual shape */
    *w++ = 0x4a, *w++ = 17, *w++ = 0x0a, *w++ = 9;
    memcpy(w, "tenant.id", 9), w += 9;
    *w++ = 0x12, *w++ = 4, *w++ = 0x0a, *w++ = 2, *w++ = 't', *w++ = '1';
    /* key "a" given twice, "b" last: its key is "b" */
    *w++ = 0x4a, *w++ = 6, *w++ = 0x0a, *w++ = 1, *w++ = 'a', *w++ = 0x0a, *w++ = 1, *w++ = 'b';
    /* value first, then key "c" */
    *w++ = 0x4a, *w++ = 7, *w++ = 0x12, *w++ = 2, *w++ = 0x08, *w++ = 1, *w++ = 0x0a, *w++ = 1,
    *w++ = 'c';
    size_t len = (size_t)(w - span);
    assert_true(ts_item_has_key(span, len, 9, "tenant.id", 9));
    assert_false(ts_item_has_key(span, len, 9, "tenant.i", 8));
    assert_false(ts_item_has_key(span, len, 9, "tenant.idx", 10));
    assert_true(ts_item_has_key(span, len, 9, "b", 1));
    assert_false(ts_item_has_key(span, len, 9, "a", 1));
    assert_true(ts_item_has_key(span, len, 9, "c", 1));
    /* the span's name is not an attribute */
    assert_false(ts_item_has_key(span, len, 9, "op", 2));
    /* a log record's attributes are field 6: none here */
    assert_false(ts_item_has_key(span, len, 6, "tenant.id", 9));
}

static void test_string_attribute_regex_is_go(void **state)
{
    (void)state;
    struct pol r = compile("policies: [{name: s, type: string_attribute, string_attribute: "
                           "{key: http.route, values: ['^/v1/name/\\d+$'], "
                           "enabled_regex_matching: true}}]",
                           NULL, 0, false);
    assert_true(str_kept(r.p, "http.route", "/v1/name/123"));
    /* POSIX ERE read \d as the letter d: this one was kept before. */
    assert_false(str_kept(r.p, "http.route", "/v1/name/ddd"));
    assert_false(str_kept(r.p, "http.route", "/v1/name/123/x"));
    pol_free(&r);

    r = compile("policies: [{name: s, type: string_attribute, string_attribute: "
                "{key: m, values: ['(?i)^gpt-4', 'claude'], enabled_regex_matching: true}}]",
                NULL, 0, false);
    assert_true(str_kept(r.p, "m", "GPT-4o"));
    assert_false(str_kept(r.p, "m", "openai/GPT-4o"));
    /* Unanchored: found inside the value. */
    assert_true(str_kept(r.p, "m", "anthropic/claude-sonnet"));
    assert_false(str_kept(r.p, "m", "Claude"));
    pol_free(&r);

    /* Values are compared whole when regex matching is off, metacharacters included. */
    r = compile("policies: [{name: s, type: string_attribute, string_attribute: "
                "{key: m, values: ['gpt-4.*']}}]",
                NULL, 0, false);
    assert_true(str_kept(r.p, "m", "gpt-4.*"));
    assert_false(str_kept(r.p, "m", "gpt-4o"));
    pol_free(&r);
}

static void test_string_attribute_invert_regex(void **state)
{
    (void)state;
    /* invert_match: a match anywhere is INVERT_NOT_SAMPLED, which vetoes always_sample; a trace
     * without one is INVERT_SAMPLED. */
    struct pol r = compile("policies:\n"
                           "  - {name: all, type: always_sample}\n"
                           "  - {name: nohealth, type: string_attribute, string_attribute: "
                           "{key: http.route, values: ['^/health', '(?i)ping$'], "
                           "enabled_regex_matching: true, invert_match: true}}\n",
                           NULL, 0, false);
    struct sattr health = {"http.route", V_STR, "/healthz", 0, 0},
                 ping = {"http.route", V_STR, "/PING", 0, 0},
                 chat = {"http.route", V_STR, "/v1/chat/completions", 0, 0};
    enum ts_verdict v[2];
    struct sspec s = {.attrs = &health, .n_attrs = 1};
    assert_false(decide(r.p, &s, 1, 0, v).sampled);
    assert_int_equal(v[1], TSV_INVERT_NOT_SAMPLED);
    s.attrs = &ping;
    assert_false(decide(r.p, &s, 1, 0, v).sampled);
    s.attrs = &chat;
    assert_true(decide(r.p, &s, 1, 0, v).sampled);
    assert_int_equal(v[1], TSV_INVERT_SAMPLED);
    /* One matching span among others is enough to veto the trace. */
    struct sspec two[2] = {{.attrs = &chat, .n_attrs = 1}, {.attrs = &health, .n_attrs = 1}};
    assert_false(decide(r.p, two, 2, 0, NULL).sampled);
    pol_free(&r);
}

/* The Collector reads the attribute with Value.Str(): "" for a non-string value, and skips a span
 * attribute whose string is empty but not a resource attribute's. Exact values never match "". */
static void test_string_attribute_empty_values(void **state)
{
    (void)state;
    struct pol r = compile("policies: [{name: s, type: string_attribute, string_attribute: "
                           "{key: k, values: ['^$'], enabled_regex_matching: true}}]",
                           NULL, 0, false);
    assert_false(str_kept(r.p, "k", ""));
    struct sattr num = {"k", V_INT, NULL, 7, 0};
    assert_false(kept1(r.p, (struct sspec){.attrs = &num, .n_attrs = 1}));
    uint8_t buf[128];
    assert_int_not_equal(ts_resource_mask(r.p, buf, resource_bytes(buf, "k", "", 0)), 0);
    assert_int_not_equal(ts_resource_mask(r.p, buf, resource_bytes(buf, "k", NULL, 7)), 0);
    assert_int_equal(ts_resource_mask(r.p, buf, resource_bytes(buf, "k", "x", 0)), 0);
    pol_free(&r);

    r = compile("policies: [{name: s, type: string_attribute, string_attribute: "
                "{key: k, values: ['', a]}}]",
                NULL, 0, false);
    assert_false(str_kept(r.p, "k", ""));
    assert_true(str_kept(r.p, "k", "a"));
    assert_int_equal(ts_resource_mask(r.p, buf, resource_bytes(buf, "k", "", 0)), 0);
    pol_free(&r);
}

/* A bad pattern is a config error at the pattern's own line and column, with RE2's reason. */
static void test_string_attribute_bad_regex(void **state)
{
    (void)state;
    const char *yaml = "policies:\n"
                       "  - name: s\n"
                       "    type: string_attribute\n"
                       "    string_attribute:\n"
                       "      key: m\n"
                       "      enabled_regex_matching: true\n"
                       "      values:\n"
                       "        - ok.*\n"
                       "        - 'gpt-(4|5'\n";
    struct error err = {0};
    struct cnode *root = config_parse_string(yaml, "cfg.yaml", &err);
    assert_non_null(root);
    struct ts_policies *p = ts_policies_compile(cnode_get(root, "policies"), NULL, false, &err);
    assert_null(p);
    if (strncmp(err.msg, "cfg.yaml:9:11: ", 15) != 0 || !strstr(err.msg, "gpt-(4|5") ||
        !strstr(err.msg, "missing )"))
        fail_msg("unexpected error: %s", err.msg);
    cnode_free(root);
    /* Patterns Go refuses are refused too, even where RE2 alone would accept them. */
    root = config_parse_string("policies: [{name: s, type: string_attribute, string_attribute: "
                               "{key: m, values: ['a\\Cb'], enabled_regex_matching: true}}]",
                               "cfg.yaml", &err);
    assert_non_null(root);
    p = ts_policies_compile(cnode_get(root, "policies"), NULL, false, &err);
    assert_null(p);
    assert_non_null(strstr(err.msg, "invalid escape sequence"));
    cnode_free(root);
}

static void test_boolean_attribute(void **state)
{
    (void)state;
    struct pol r = compile("policies: [{name: b, type: boolean_attribute, boolean_attribute: "
                           "{key: cache.hit, value: false}}]",
                           NULL, 0, false);
    struct sattr f = {"cache.hit", V_BOOL, NULL, 0, 0}, t = {"cache.hit", V_BOOL, NULL, 1, 0},
                 s = {"cache.hit", V_STR, "false", 0, 0};
    assert_true(kept1(r.p, (struct sspec){.attrs = &f, .n_attrs = 1}));
    assert_false(kept1(r.p, (struct sspec){.attrs = &t, .n_attrs = 1}));
    assert_false(kept1(r.p, (struct sspec){.attrs = &s, .n_attrs = 1}));
    pol_free(&r);
}

static void test_status_code(void **state)
{
    (void)state;
    struct pol r = compile("policies: [{name: e, type: status_code, status_code: "
                           "{status_codes: [ERROR]}}]",
                           NULL, 0, false);
    struct sspec spans[3] = {{.status = 1}, {.status = 0}, {.status = 2}};
    assert_true(decide(r.p, spans, 3, 0, NULL).sampled);
    assert_false(decide(r.p, spans, 2, 0, NULL).sampled);
    pol_free(&r);
    r = compile("policies: [{name: u, type: status_code, status_code: {status_codes: [UNSET, OK]}}]",
                NULL, 0, false);
    assert_true(kept1(r.p, (struct sspec){.status = 0}));
    assert_true(kept1(r.p, (struct sspec){.status = 1}));
    assert_false(kept1(r.p, (struct sspec){.status = 2}));
    pol_free(&r);
}

static void test_probabilistic(void **state)
{
    (void)state;
    struct pol none = compile("policies: [{name: p, type: probabilistic, probabilistic: "
                              "{sampling_percentage: 0}}]",
                              NULL, 0, false);
    struct pol all = compile("policies: [{name: p, type: probabilistic, probabilistic: "
                             "{sampling_percentage: 100}}]",
                             NULL, 0, false);
    struct pol half = compile("policies: [{name: p, type: probabilistic, probabilistic: "
                              "{sampling_percentage: 50}}]",
                              NULL, 0, false);
    size_t kept = 0;
    for (int i = 0; i < 400; i++) {
        uint8_t id[16];
        for (int k = 0; k < 16; k++)
            id[k] = (uint8_t)(i * 13 + k * 101 + (i >> 3));
        struct ts_summary s = {.trace_id = id, .spans = 1};
        assert_false(ts_decide(none.p, &s, 0, NULL).sampled);
        struct ts_decision d = ts_decide(all.p, &s, 0, NULL);
        assert_true(d.sampled);
        assert_true(d.adjusted_count == 1);
        d = ts_decide(half.p, &s, 0, NULL);
        /* Deterministic: the default salt's hash against half the range, every time. */
        bool expect = ts_trace_hash("default-hash-seed", id) <= UINT64_MAX / 2;
        assert_int_equal(d.sampled, expect);
        assert_int_equal(ts_decide(half.p, &s, 0, NULL).sampled, expect);
        if (d.sampled) {
            assert_true(d.adjusted_count == 2);
            kept++;
        }
    }
    assert_true(kept > 120 && kept < 280);
    pol_free(&none);
    pol_free(&all);
    pol_free(&half);
}

static void test_rate_and_bytes_limiting(void **state)
{
    (void)state;
    struct pol r = compile("policies: [{name: r, type: rate_limiting, rate_limiting: "
                           "{spans_per_second: 10, burst_capacity: 10}}]",
                           NULL, 0, false);
    struct ts_summary six = {.trace_id = tid, .spans = 6}, big = {.trace_id = tid, .spans = 11};
    int64_t t0 = 100 * SEC;
    assert_true(ts_decide(r.p, &six, t0, NULL).sampled);
    assert_false(ts_decide(r.p, &six, t0, NULL).sampled);
    assert_true(ts_decide(r.p, &six, t0 + SEC, NULL).sampled);
    assert_false(ts_decide(r.p, &big, t0 + 10 * SEC, NULL).sampled); /* over the burst */
    pol_free(&r);
    r = compile("policies: [{name: b, type: bytes_limiting, bytes_limiting: "
                "{bytes_per_second: 1000}}]",
                NULL, 0, false);
    struct ts_summary kb = {.trace_id = tid, .spans = 1, .bytes = 900};
    assert_true(ts_decide(r.p, &kb, t0, NULL).sampled); /* burst defaults to 2 x rate */
    assert_true(ts_decide(r.p, &kb, t0, NULL).sampled);
    assert_false(ts_decide(r.p, &kb, t0, NULL).sampled);
    assert_true(ts_decide(r.p, &kb, t0 + SEC, NULL).sampled);
    pol_free(&r);
}

static void test_span_count(void **state)
{
    (void)state;
    struct pol r = compile("policies: [{name: c, type: span_count, span_count: "
                           "{min_spans: 2, max_spans: 3}}]",
                           NULL, 0, false);
    struct sspec spans[4] = {{0}, {0}, {0}, {0}};
    assert_false(decide(r.p, spans, 1, 0, NULL).sampled);
    assert_true(decide(r.p, spans, 2, 0, NULL).sampled);
    assert_true(decide(r.p, spans, 3, 0, NULL).sampled);
    assert_false(decide(r.p, spans, 4, 0, NULL).sampled);
    pol_free(&r);
}

static void test_trace_state_and_flags(void **state)
{
    (void)state;
    struct pol r = compile("policies:\n"
                           "  - {name: ts, type: trace_state, trace_state: {key: vendor, values: [keep]}}\n",
                           NULL, 0, false);
    assert_true(kept1(r.p, (struct sspec){.trace_state = "ot=th:0, vendor=keep"}));
    assert_false(kept1(r.p, (struct sspec){.trace_state = "vendor=keeper"}));
    assert_false(kept1(r.p, (struct sspec){.trace_state = ""}));
    pol_free(&r);
    r = compile("policies: [{name: f, type: trace_flags}]", NULL, 0, false);
    assert_true(kept1(r.p, (struct sspec){.flags = 0x301}));
    assert_false(kept1(r.p, (struct sspec){.flags = 0x300}));
    pol_free(&r);
}

static void test_and_not_drop(void **state)
{
    (void)state;
    struct pol r = compile("policies:\n"
                           "  - name: slow-errors\n"
                           "    type: and\n"
                           "    and:\n"
                           "      and_sub_policy:\n"
                           "        - {name: e, type: status_code, status_code: {status_codes: [ERROR]}}\n"
                           "        - {name: l, type: latency, latency: {threshold_ms: 1000}}\n"
                           "  - name: not-ok\n"
                           "    type: not\n"
                           "    not:\n"
                           "      not_sub_policy: {name: ok, type: status_code, status_code: {status_codes: [OK, UNSET]}}\n"
                           "  - name: no-health\n"
                           "    type: drop\n"
                           "    drop:\n"
                           "      drop_sub_policy:\n"
                           "        - {name: h, type: string_attribute, string_attribute: {key: path, values: [/health]}}\n",
                           NULL, 0, false);
    enum ts_verdict v[3];
    struct sspec slow_err = {.status = 2, .start = 0, .end = 2 * SEC};
    struct ts_decision d = decide(r.p, &slow_err, 1, 0, v);
    assert_true(d.sampled);
    assert_int_equal(d.keeper, 0);
    assert_int_equal(v[0], TSV_SAMPLED);
    assert_int_equal(v[1], TSV_SAMPLED);
    struct sspec fast_err = {.status = 2, .start = 0, .end = 10};
    d = decide(r.p, &fast_err, 1, 0, v);
    assert_true(d.sampled);
    assert_int_equal(d.keeper, 1); /* only not-ok */
    struct sspec ok = {.status = 1};
    assert_false(decide(r.p, &ok, 1, 0, NULL).sampled);
    /* The drop wins over both. */
    struct sattr h = {"path", V_STR, "/health", 0, 0};
    struct sspec health_err = {.status = 2, .start = 0, .end = 2 * SEC, .attrs = &h, .n_attrs = 1};
    d = decide(r.p, &health_err, 1, 0, v);
    assert_false(d.sampled);
    assert_true(d.dropped);
    assert_int_equal(v[2], TSV_DROPPED);
    pol_free(&r);
}

static void test_composite_falls_through(void **state)
{
    (void)state;
    struct pol r = compile("policies:\n"
                           "  - name: c\n"
                           "    type: composite\n"
                           "    composite:\n"
                           "      max_total_spans_per_second: 100\n"
                           "      policy_order: [b, a]\n"
                           "      composite_sub_policy:\n"
                           "        - {name: a, type: always_sample}\n"
                           "        - {name: b, type: status_code, status_code: {status_codes: [ERROR]}}\n"
                           "      rate_allocation: [{policy: b, percent: 10}, {policy: a, percent: 20}]\n",
                           NULL, 0, false);
    /* b (first by policy_order) has 10 spans/s, a 20. Error traces of 4 spans: 2 fit b, the
     * next ones fall through to a (20 → 5 more), then nothing. */
    struct sspec e[4] = {{.status = 2}, {.status = 2}, {.status = 2}, {.status = 2}};
    int kept = 0;
    for (int i = 0; i < 10; i++)
        kept += decide(r.p, e, 4, 5 * SEC, NULL).sampled;
    assert_int_equal(kept, 7);
    /* A new second, a new budget. */
    assert_true(decide(r.p, e, 4, 6 * SEC, NULL).sampled);
    pol_free(&r);
}

static void test_sample_on_first_match(void **state)
{
    (void)state;
    struct pol r = compile("policies:\n"
                           "  - {name: e, type: status_code, status_code: {status_codes: [ERROR]}}\n"
                           "  - {name: all, type: always_sample}\n",
                           NULL, 0, true);
    enum ts_verdict v[2];
    struct sspec err = {.status = 2};
    struct ts_decision d = decide(r.p, &err, 1, 0, v);
    assert_true(d.sampled);
    assert_int_equal(d.keeper, 0);
    assert_int_equal(v[1], TSV_NOT_SAMPLED); /* not evaluated */
    struct sspec ok = {.status = 1};
    d = decide(r.p, &ok, 1, 0, v);
    assert_int_equal(d.keeper, 1);
    assert_int_equal(v[1], TSV_SAMPLED);
    pol_free(&r);
}

static void test_propagated_attributes_are_read(void **state)
{
    (void)state;
    static const char *const prop[] = {"tenant.id", "request.id"};
    struct pol r = compile("policies: [{name: a, type: always_sample}]", prop, 2, false);
    struct sattr attrs[3] = {{"x", V_INT, NULL, 1, 0},
                             {"request.id", V_STR, "r-1", 0, 0},
                             {"tenant.id", V_STR, "acme", 0, 0}};
    struct ts_span_info info = read_span(r.p, &(struct sspec){.attrs = attrs, .n_attrs = 3});
    assert_int_equal(info.n_prop, 2);
    assert_int_equal(info.prop_index[0], 1);
    assert_int_equal(info.prop_index[1], 0);
    pol_free(&r);
}

static void test_compile_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"policies: []", "at least one policy"},
        {"policies: [{type: always_sample}]", "must not be empty"},
        {"policies: [{name: a}]", "'type' is required"},
        {"policies: [{name: a, type: ottl_condition}]", "at least one OTTL condition"},
        {"policies: [{name: s, type: status_code, status_code: {status_codes: []}}]",
         "at least one"},
        {"policies: [{name: s, type: string_attribute, string_attribute: {values: [x]}}]",
         "'key' is required"},
        {"policies: [{name: r, type: rate_limiting, rate_limiting: {spans_per_second: 0}}]",
         "must be > 0"},
        {"policies: [{name: c, type: composite, composite: {max_total_spans_per_second: 5, "
         "policy_order: [zz], composite_sub_policy: [{name: a, type: always_sample}]}}]",
         "policy_order names 'zz'"},
        {"policies: [{name: n, type: not, not: {not_sub_policy: [x]}}]", "expected one policy"},
        {"policies: [{name: l, type: latency, latency: {threshold_ms: fast}}]", "threshold_ms"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct error err = {0};
        struct cnode *root = config_parse_string(cases[i].yaml, "<p>", &err);
        assert_non_null(root);
        struct ts_policies *p = ts_policies_compile(cnode_get(root, "policies"), NULL, false, &err);
        assert_null(p);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: expected '%s' in: %s", i, cases[i].want, err.msg);
        cnode_free(root);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_always_sample),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_numeric_attribute),
        cmocka_unit_test(test_string_attribute_and_resource),
        cmocka_unit_test(test_string_attribute_regex_is_go),
        cmocka_unit_test(test_attribute_key_given_twice),
        cmocka_unit_test(test_item_has_key_shapes),
        cmocka_unit_test(test_string_attribute_invert_regex),
        cmocka_unit_test(test_string_attribute_empty_values),
        cmocka_unit_test(test_string_attribute_bad_regex),
        cmocka_unit_test(test_boolean_attribute),
        cmocka_unit_test(test_status_code),
        cmocka_unit_test(test_probabilistic),
        cmocka_unit_test(test_rate_and_bytes_limiting),
        cmocka_unit_test(test_span_count),
        cmocka_unit_test(test_trace_state_and_flags),
        cmocka_unit_test(test_and_not_drop),
        cmocka_unit_test(test_composite_falls_through),
        cmocka_unit_test(test_sample_on_first_match),
        cmocka_unit_test(test_propagated_attributes_are_read),
        cmocka_unit_test(test_compile_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
