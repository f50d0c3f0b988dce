/* test_ottl_funcs.c — the OTTL function library called directly: each function found by name,
 * given constant arguments (expr = NULL), checked against the Collector's documented examples
 * (pkg/ottl/ottlfuncs/README.md) and Go's documented regexp behaviour; expected values are
 * worked out by hand (hashes with a reference implementation).
 *
 * The one idea: maps are built with ParseJSON itself or ottl_map_set, passed by reference as a
 * GETSETTER constant, so an editor's work is read back from the very array it edited. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ottl/funcs.h"

static struct arena *A;
static struct ottl_item IT;

static int setup(void **state)
{
    (void)state;
    A = arena_new(0);
    memset(&IT, 0, sizeof IT);
    IT.arena = A;
    return A ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(A);
    return 0;
}

/* ---- argument builders ---- */

static struct ottl_arg S(const char *s)
{
    struct ottl_arg a;
    memset(&a, 0, sizeof a);
    a.present = true;
    a.lit.t = OTTL_V_STRING;
    a.lit.s.p = s;
    a.lit.s.n = strlen(s);
    return a;
}

static struct ottl_arg I(int64_t i)
{
    struct ottl_arg a;
    memset(&a, 0, sizeof a);
    a.present = true;
    a.lit.t = OTTL_V_INT;
    a.lit.i = i;
    return a;
}

static struct ottl_arg D(double d)
{
    struct ottl_arg a;
    memset(&a, 0, sizeof a);
    a.present = true;
    a.lit.t = OTTL_V_DOUBLE;
    a.lit.d = d;
    return a;
}

static struct ottl_arg B(bool b)
{
    struct ottl_arg a;
    memset(&a, 0, sizeof a);
    a.present = true;
    a.lit.t = OTTL_V_BOOL;
    a.lit.b = b;
    return a;
}

static struct ottl_arg NIL(void)
{
    struct ottl_arg a;
    memset(&a, 0, sizeof a);
    a.present = true;
    return a;
}

static struct ottl_arg ABSENT(void)
{
    struct ottl_arg a;
    memset(&a, 0, sizeof a);
    return a;
}

static struct ottl_arg V(struct ottl_value v)
{
    struct ottl_arg a;
    memset(&a, 0, sizeof a);
    a.present = true;
    a.lit = v;
    return a;
}

/* A regex argument: compiled, freed by the test's arena-independent list below. */
static struct regex *regs[64];
static size_t nregs;

static struct ottl_arg RE(const char *p)
{
    struct ottl_arg a = S(p);
    struct error err = { 0 };
    a.re = regex_compile(p, strlen(p), &err);
    if (!a.re)
        fail_msg("regex %s: %s", p, err.msg);
    regs[nregs++] = a.re;
    return a;
}

static void free_regs(void)
{
    while (nregs)
        regex_free(regs[--nregs]);
}

static struct ottl_arg LIST(size_t n, const char *const *s)
{
    struct ottl_arg a;
    memset(&a, 0, sizeof a);
    a.present = true;
    a.n_strs = n;
    a.strs = s;
    return a;
}

static struct ottl_arg FN(const char *name)
{
    struct ottl_arg a;
    memset(&a, 0, sizeof a);
    a.present = true;
    a.fn = ottl_function_find(name, strlen(name));
    assert_non_null(a.fn);
    return a;
}

/* Runs `name` (its check first, as compilation does). */
static int run(const char *name, struct ottl_arg *args, size_t n, struct ottl_value *out,
               struct error *err)
{
    const struct ottl_function *f = ottl_function_find(name, strlen(name));
    if (!f)
        fail_msg("no function %s", name);
    size_t np = 0;
    while (f->params[np].name)
        np++;
    assert_true(n <= np);
    struct ottl_arg all[8];
    for (size_t i = 0; i < np; i++)
        all[i] = i < n ? args[i] : ABSENT();
    if (f->check && f->check(all, np, err) < 0)
        return -1;
    struct ottl_call c = { &IT, all, np };
    memset(out, 0, sizeof *out);
    int rc = f->call(&c, out, err);
    for (size_t i = 0; i < n; i++)
        args[i] = all[i]; /* editors write through constants */
    /* what check prepared (a compiled glob) belongs to the "statement": this call */
    for (size_t i = 0; i < np; i++)
        if (f->params[i].kind != OTTL_P_REGEX && all[i].re) {
            regex_free(all[i].re);
            if (i < n)
                args[i].re = NULL;
        }
    return rc;
}

static struct ottl_value ok(const char *name, struct ottl_arg *args, size_t n)
{
    struct ottl_value out;
    struct error err = { 0 };
    if (run(name, args, n, &out, &err) < 0)
        fail_msg("%s failed: %s", name, err.msg);
    return out;
}

static const char *fails(const char *name, struct ottl_arg *args, size_t n)
{
    static struct error err;
    struct ottl_value out;
    memset(&err, 0, sizeof err);
    if (run(name, args, n, &out, &err) == 0)
        fail_msg("%s succeeded, expected an error", name);
    assert_true(err.msg[0] != '\0');
    return err.msg;
}

static void assert_str(struct ottl_value v, const char *want)
{
    if (v.t != OTTL_V_STRING)
        fail_msg("want string \"%s\", got %s", want, ottl_vtype_name(v.t));
    if (v.s.n != strlen(want) || memcmp(v.s.p, want, v.s.n) != 0)
        fail_msg("want \"%s\", got \"%.*s\"", want, (int)v.s.n, v.s.p);
}

static struct ottl_value json(const char *text)
{
    struct ottl_arg a[] = { S(text) };
    return ok("ParseJSON", a, 1);
}

/* The map rendered as String() renders it (JSON, keys sorted). */
static void assert_map(struct ottl_value m, const char *want)
{
    assert_int_equal(m.t, OTTL_V_MAP);
    size_t n = 0;
    char *s = ottl_value_to_string(A, &m, &n);
    assert_non_null(s);
    assert_string_equal(s, want);
}

static const char *key_at(struct ottl_value m, size_t i)
{
    assert_true(i < *m.map.n);
    return (*m.map.kv)[i]->key;
}

/* ---- editors ---- */

static void test_set(void **state)
{
    (void)state;
    struct ottl_arg a[] = { NIL(), S("/foo") };
    ok("set", a, 2);
    assert_str(a[0].lit, "/foo");
    struct ottl_arg b[] = { S("kept"), NIL() };
    ok("set", b, 2); /* nil is no action */
    assert_str(b[0].lit, "kept");
}

static void test_delete_and_keep_keys(void **state)
{
    (void)state;
    struct ottl_value m = json("{\"http.request.header.authorization\":\"x\",\"a\":1}");
    struct ottl_arg a[] = { V(m), S("http.request.header.authorization") };
    ok("delete_key", a, 2);
    assert_map(m, "{\"a\":1}");

    m = json("{\"db.Password\":1,\"user\":2,\"PASSWORD_HASH\":3}");
    struct ottl_arg b[] = { V(m), RE("(?i).*password.*") };
    ok("delete_matching_keys", b, 2);
    assert_map(m, "{\"user\":2}");

    m = json("{\"service.version\":1,\"user\":2,\"VERSION\":3}");
    struct ottl_arg c[] = { V(m), RE("(?i).*version.*") };
    ok("keep_matching_keys", c, 2);
    assert_int_equal(*m.map.n, 2);
    assert_string_equal(key_at(m, 0), "service.version");
    assert_string_equal(key_at(m, 1), "VERSION");

    m = json("{\"http.method\":\"GET\",\"http.route\":\"/\",\"x\":1}");
    static const char *const keys[] = { "http.method" };
    struct ottl_arg d[] = { V(m), LIST(1, keys) };
    ok("keep_keys", d, 2);
    assert_map(m, "{\"http.method\":\"GET\"}");

    /* Not a map: the PMapGetter's error. */
    struct ottl_arg e[] = { S("str"), S("k") };
    assert_non_null(strstr(fails("delete_key", e, 2), "expected pcommon.Map"));
    free_regs();
}

static void test_limit(void **state)
{
    (void)state;
    struct ottl_value m = json("{\"a\":1,\"b\":2,\"c\":3,\"d\":4}");
    static const char *const prio[] = { "c" };
    struct ottl_arg a[] = { V(m), I(2), LIST(1, prio) };
    ok("limit", a, 3);
    /* c is kept first; of the rest, entries in order until the limit. */
    assert_int_equal(*m.map.n, 2);
    assert_string_equal(key_at(m, 0), "a");
    assert_string_equal(key_at(m, 1), "c");

    struct ottl_arg neg[] = { V(m), I(-1), LIST(0, NULL) };
    assert_non_null(strstr(fails("limit", neg, 3), "cannot be negative"));
    static const char *const two[] = { "a", "b" };
    struct ottl_arg few[] = { V(m), I(1), LIST(2, two) };
    assert_non_null(strstr(fails("limit", few, 3), "priority attributes 2"));
}

static void test_truncate_all(void **state)
{
    (void)state;
    struct ottl_value m = json("{\"s\":\"hello world\",\"short\":\"hi\",\"n\":12345678}");
    struct ottl_arg a[] = { V(m), I(5) };
    ok("truncate_all", a, 2);
    assert_map(m, "{\"n\":12345678,\"s\":\"hello\",\"short\":\"hi\"}");

    /* UTF-8 safe by default: "héllo" cut at 2 would split é (bytes 1-2). */
    m = json("{\"s\":\"h\\u00e9llo\"}");
    struct ottl_arg b[] = { V(m), I(2) };
    ok("truncate_all", b, 2);
    assert_map(m, "{\"s\":\"h\"}");
    m = json("{\"s\":\"h\\u00e9llo\"}");
    struct ottl_arg c[] = { V(m), I(2), B(false) };
    ok("truncate_all", c, 3);
    assert_string_equal((*m.map.kv)[0]->value->string_value, "h\xc3");

    /* The marker counts against the limit. */
    m = json("{\"s\":\"hello world\"}");
    struct ottl_arg d[] = { V(m), I(8), B(false), S("(...)") };
    ok("truncate_all", d, 4);
    assert_map(m, "{\"s\":\"hel(...)\"}");
    struct ottl_arg e[] = { V(m), I(3), B(true), S("(...)") };
    fails("truncate_all", e, 4);
    struct ottl_arg f[] = { V(m), I(-1) };
    assert_non_null(strstr(fails("truncate_all", f, 2), "cannot be negative"));
}

static void test_replace_pattern(void **state)
{
    (void)state;
    /* README: replace_pattern(resource.attributes["process.command_line"],
     * "password\\=[^\\s]*(\\s?)", "password=***") */
    struct ottl_arg a[] = { S("start password=secret end"), RE("password\\=[^\\s]*(\\s?)"),
                            S("password=***") };
    ok("replace_pattern", a, 3);
    assert_str(a[0].lit, "start password=***end");

    /* README: replace_pattern(metric.name, "^kube_([0-9A-Za-z]+_)", "k8s.$$1.") — $$ is the
     * config file's escape, so the statement holds "$1". */
    struct ottl_arg b[] = { S("kube_pod_status"), RE("^kube_([0-9A-Za-z]+_)"), S("k8s.$1.") };
    ok("replace_pattern", b, 3);
    assert_str(b[0].lit, "k8s.pod_.status");

    /* With a function and a format: SHA256 of the expansion "pod_.", in "k8s.%s". */
    struct ottl_arg c[] = { S("kube_pod_status"), RE("^kube_([0-9A-Za-z]+_)"), S("$1."),
                            FN("SHA256"), S("k8s.%s") };
    ok("replace_pattern", c, 5);
    assert_str(c[0].lit,
               "k8s.6d84a506bd7fb1f256ed60c44bd7cd7fb1c12b2f531231e13db610d418021420status");

    /* No match, non-string and nil targets are left alone. */
    struct ottl_arg d[] = { I(7), RE("7"), S("x") };
    ok("replace_pattern", d, 3);
    assert_int_equal(d[0].lit.t, OTTL_V_INT);

    /* A bad format fails at run time, a function of two arguments at compile time. */
    struct ottl_arg e[] = { S("abc"), RE("b"), S("x"), FN("SHA256"), S("%d") };
    assert_non_null(strstr(fails("replace_pattern", e, 5), "replacementFormat"));
    struct ottl_arg f[] = { S("abc"), RE("b"), S("x"), FN("Split") };
    fails("replace_pattern", f, 4);
    free_regs();
}

/* Go's ReplaceAllString through replace_pattern, with the regexp package's documented cases. */
static const char *go_replace(const char *pattern, const char *src, const char *repl)
{
    struct ottl_arg a[] = { S(src), RE(pattern), S(repl) };
    ok("replace_pattern", a, 3);
    assert_int_equal(a[0].lit.t, OTTL_V_STRING);
    return a[0].lit.s.p;
}

static void test_go_replace_all_string(void **state)
{
    (void)state;
    /* regexp.Regexp.ReplaceAllString example */
    assert_string_equal(go_replace("a(x*)b", "-ab-axxb-", "T"), "-T-T-");
    assert_string_equal(go_replace("a(x*)b", "-ab-axxb-", "$1"), "--xx-");
    assert_string_equal(go_replace("a(x*)b", "-ab-axxb-", "$1W"), "---");   /* group "1W" */
    assert_string_equal(go_replace("a(x*)b", "-ab-axxb-", "${1}W"), "-W-xxW-");
    /* named groups, $$, a malformed $ */
    assert_string_equal(go_replace("(?P<first>\\w+) (?P<second>\\w+)", "hello world",
                                   "${second} $first"), "world hello");
    assert_string_equal(go_replace("b", "abc", "$$"), "a$c");
    assert_string_equal(go_replace("b", "abc", "${x"), "a${xc");
    assert_string_equal(go_replace("b", "abc", "$"), "a$c");
    assert_string_equal(go_replace("(b)", "abc", "$01"), "ac"); /* leading zero: a name */
    /* empty matches: never right after a match, one rune at a time */
    assert_string_equal(go_replace("x*", "abc", "-"), "-a-b-c-");
    assert_string_equal(go_replace("a*", "baaac", "X"), "XbXcX");
    assert_string_equal(go_replace("", "\xc3\xa9", "."), ".\xc3\xa9.");
    /* ^ sees the text before a resumed search */
    assert_string_equal(go_replace("^a", "aaa", "b"), "baa");
    /* invalid UTF-8: matched as U+FFFD, original bytes kept elsewhere */
    assert_string_equal(go_replace(".", "a\xffz", "<$0>"), "<a><\xff><z>");
    free_regs();
}

static void test_replace_all_patterns(void **state)
{
    (void)state;
    struct ottl_value m = json("{\"path\":\"/account/1234/x\",\"n\":5,\"k\":\"none\"}");
    struct ottl_arg a[] = { V(m), S("value"), RE("/account/\\d{4}"), S("/account/{accountId}") };
    ok("replace_all_patterns", a, 4);
    assert_map(m, "{\"k\":\"none\",\"n\":5,\"path\":\"/account/{accountId}/x\"}");

    m = json("{\"kube_pod_name\":\"p\",\"other\":1}");
    struct ottl_arg b[] = { V(m), S("key"), RE("^kube_([0-9A-Za-z]+_)"), S("k8s.$1.") };
    ok("replace_all_patterns", b, 4);
    assert_int_equal(*m.map.n, 2);
    assert_string_equal(key_at(m, 0), "k8s.pod_.name");
    assert_string_equal(key_at(m, 1), "other");

    /* A rewritten key landing on an existing one takes its place. */
    m = json("{\"a\":1,\"b\":2}");
    struct ottl_arg c[] = { V(m), S("key"), RE("b"), S("a") };
    ok("replace_all_patterns", c, 4);
    assert_map(m, "{\"a\":2}");

    struct ottl_arg d[] = { V(m), S("keys"), RE("b"), S("a") };
    assert_non_null(strstr(fails("replace_all_patterns", d, 4), "invalid mode"));
    free_regs();
}

static void test_replace_match(void **state)
{
    (void)state;
    struct ottl_arg a[] = { S("/user/123/list/456"), S("/user/*/list/*"),
                            S("/user/{userId}/list/{listId}") };
    ok("replace_match", a, 3);
    assert_str(a[0].lit, "/user/{userId}/list/{listId}");
    /* gobwas/glob without separators: * spans '/' too */
    struct ottl_arg b[] = { S("/user/1/2/list/3"), S("/user/*/list/*"), S("hit") };
    ok("replace_match", b, 3);
    assert_str(b[0].lit, "hit");
    struct ottl_arg c[] = { S("/users/1"), S("/user/*/list/*"), S("hit") };
    ok("replace_match", c, 3);
    assert_str(c[0].lit, "/users/1");
    struct ottl_arg d[] = { S("cat"), S("{dog,c[!o]t}"), S("pet") };
    ok("replace_match", d, 3);
    assert_str(d[0].lit, "pet");
    struct ottl_arg e[] = { S("a.b"), S("a?b"), S("x"), FN("SHA256"), S("/user/%s") };
    ok("replace_match", e, 5);
    assert_str(e[0].lit,
               "/user/2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");
    struct ottl_arg f[] = { S("x"), S("[a-"), S("y") };
    assert_non_null(strstr(fails("replace_match", f, 3), "not a valid pattern"));

    struct ottl_value m = json("{\"a\":\"/user/1/list/2\",\"b\":\"/x\",\"c\":3}");
    struct ottl_arg g[] = { V(m), S("/user/*/list/*"), S("/user/{userId}/list/{listId}") };
    ok("replace_all_matches", g, 3);
    assert_map(m, "{\"a\":\"/user/{userId}/list/{listId}\",\"b\":\"/x\",\"c\":3}");
}

static void test_merge_maps(void **state)
{
    (void)state;
    const char *strategies[] = { "insert", "update", "upsert" };
    const char *want[] = { "{\"a\":1,\"b\":2,\"c\":30}", "{\"a\":1,\"b\":20}",
                           "{\"a\":1,\"b\":20,\"c\":30}" };
    for (int i = 0; i < 3; i++) {
        struct ottl_value t = json("{\"a\":1,\"b\":2}");
        struct ottl_value s = json("{\"b\":20,\"c\":30}");
        struct ottl_arg a[] = { V(t), V(s), S(strategies[i]) };
        ok("merge_maps", a, 3);
        assert_map(t, want[i]);
    }
    struct ottl_value t = json("{\"a\":1}");
    struct ottl_arg b[] = { V(t), V(t), S("merge") };
    assert_non_null(strstr(fails("merge_maps", b, 3), "invalid value for strategy"));
    struct ottl_arg c[] = { V(t), NIL(), S("upsert") };
    assert_non_null(strstr(fails("merge_maps", c, 3), "expected pcommon.Map"));

    /* merging n new keys costs memory linear in n, not a regrown array per key (64 MB for
     * 4000 keys); the values are copied, the source stays as it was */
    enum { N = 4000 };
    static char doc[N * 16 + 4];
    size_t o = 0;
    doc[o++] = '{';
    for (int i = 0; i < N; i++)
        o += (size_t)snprintf(doc + o, sizeof doc - o, "%s\"k%d\":%d", i ? "," : "", i, i);
    doc[o++] = '}';
    doc[o] = '\0';
    struct ottl_value src = json(doc);
    struct ottl_value dst = json("{\"a\":{\"x\":1}}");
    size_t before = arena_used(A);
    struct ottl_arg d[] = { V(dst), V(src), S("upsert") };
    ok("merge_maps", d, 3);
    assert_int_equal(*dst.map.n, N + 1);
    assert_true((*dst.map.kv)[N]->value->double_value == N - 1);
    assert_true(arena_used(A) - before < 4u << 20);
    /* the copy is deep: editing the merged value leaves the source's */
    (*src.map.kv)[0]->value->double_value = 5;
    assert_true((*dst.map.kv)[1]->value->double_value == 0);
    (*src.map.kv)[0]->value->double_value = 0;
    struct ottl_arg e[] = { V(dst), V(dst), S("upsert") };
    ok("merge_maps", e, 3);
    assert_int_equal(*dst.map.n, N + 1);
    assert_true((*src.map.kv)[0]->value->double_value == 0);
}

static void test_flatten(void **state)
{
    (void)state;
    const char *doc = "{\"name\":\"test\",\"address\":{\"street\":\"first\",\"house\":1234},"
                      "\"occupants\":[\"user 1\",\"user 2\"]}";
    struct ottl_value m = json(doc);
    struct ottl_arg a[] = { V(m) };
    ok("flatten", a, 1);
    assert_int_equal(*m.map.n, 5);
    const char *keys[] = { "name", "address.street", "address.house", "occupants.0",
                           "occupants.1" };
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(key_at(m, i), keys[i]);

    m = json(doc);
    struct ottl_arg b[] = { V(m), S("app") };
    ok("flatten", b, 2);
    assert_string_equal(key_at(m, 0), "app.name");
    assert_string_equal(key_at(m, 4), "app.occupants.1");

    m = json("{\"0\":{\"1\":{\"2\":{\"3\":{\"4\":\"value\"}}}}}");
    struct ottl_arg c[] = { V(m), ABSENT(), I(2) };
    ok("flatten", c, 3);
    assert_map(m, "{\"0.1.2\":{\"3\":{\"4\":\"value\"}}}");

    m = json(doc);
    struct ottl_arg d[] = { V(m), ABSENT(), I(0) };
    ok("flatten", d, 3);
    assert_int_equal(*m.map.n, 3); /* depth 0: nothing moves */

    /* README's resolveConflicts example, in its document order. */
    m = json("{\"address\":{\"street\":{\"number\":\"first\"},\"house\":\"1234\"},"
             "\"address.street\":{\"number\":[\"second\",\"third\"]},"
             "\"address.street.number\":\"fourth\",\"occupants\":[\"user 1\",\"user 2\"]}");
    struct ottl_arg e[] = { V(m), ABSENT(), ABSENT(), B(true) };
    ok("flatten", e, 4);
    assert_map(m, "{\"address.house\":\"1234\",\"address.street.number\":\"first\","
                  "\"address.street.number.0\":\"second\",\"address.street.number.1\":\"third\","
                  "\"address.street.number.2\":\"fourth\",\"occupants\":\"user 1\","
                  "\"occupants.0\":\"user 2\"}");

    struct ottl_arg f[] = { V(m), ABSENT(), I(-1) };
    assert_non_null(strstr(fails("flatten", f, 3), "cannot be negative"));
}

/* ---- converters ---- */

static void test_type_checks_and_match(void **state)
{
    (void)state;
    struct ottl_arg a[] = { S("string"), RE(".*ring") };
    assert_true(ok("IsMatch", a, 2).b);
    struct ottl_arg b[] = { NIL(), RE(".*") };
    assert_false(ok("IsMatch", b, 2).b);
    struct ottl_arg c[] = { I(404), RE("^4\\d\\d$") }; /* ints are matched as strconv does */
    assert_true(ok("IsMatch", c, 2).b);

    struct ottl_arg s[] = { S("x") }, i[] = { I(1) }, d[] = { D(1.5) }, bo[] = { B(false) };
    assert_true(ok("IsString", s, 1).b);
    assert_false(ok("IsString", i, 1).b);
    assert_true(ok("IsInt", i, 1).b);
    assert_false(ok("IsInt", d, 1).b);
    assert_true(ok("IsDouble", d, 1).b);
    assert_true(ok("IsBool", bo, 1).b);
    assert_false(ok("IsBool", s, 1).b);
    struct ottl_arg m[] = { V(json("{}")) }, l[] = { V(json("[]")) };
    assert_true(ok("IsMap", m, 1).b);
    assert_false(ok("IsMap", l, 1).b);
    assert_true(ok("IsList", l, 1).b);
    free_regs();
}

static void test_concat_split(void **state)
{
    (void)state;
    struct ottl_value l;
    assert_int_equal(ottl_list_new(A, &l), 0);
    struct ottl_value e = { .t = OTTL_V_STRING, .s = { "HTTP method is: ", 16 } };
    assert_int_equal(ottl_list_append(A, &l, &e), 0);
    e.s.p = "GET";
    e.s.n = 3;
    assert_int_equal(ottl_list_append(A, &l, &e), 0);
    struct ottl_arg a[] = { V(l), S("") };
    assert_str(ok("Concat", a, 2), "HTTP method is: GET");

    struct ottl_value l2;
    assert_int_equal(ottl_list_new(A, &l2), 0);
    e.s.p = "metric";
    e.s.n = 6;
    assert_int_equal(ottl_list_append(A, &l2, &e), 0);
    struct ottl_value one = { .t = OTTL_V_INT, .i = 1 }, nil = { .t = OTTL_V_NIL };
    assert_int_equal(ottl_list_append(A, &l2, &one), 0);
    assert_int_equal(ottl_list_append(A, &l2, &nil), 0);
    struct ottl_arg b[] = { V(l2), S(" ") };
    assert_str(ok("Concat", b, 2), "metric 1 <nil>");

    struct ottl_arg c[] = { S("A|B|C"), S("|") };
    struct ottl_value parts = ok("Split", c, 2);
    assert_int_equal(parts.t, OTTL_V_LIST);
    assert_int_equal(*parts.list.n, 3);
    assert_string_equal((*parts.list.v)[2]->string_value, "C");
    struct ottl_arg d[] = { S(""), S(",") };
    assert_int_equal(*ok("Split", d, 2).list.n, 1); /* strings.Split("", ",") == [""] */
    struct ottl_arg f[] = { I(1), S(",") };
    fails("Split", f, 2);
}

static void test_numbers(void **state)
{
    (void)state;
    struct ottl_arg a[] = { S("2.0") };
    assert_int_equal(ok("Int", a, 1).t, OTTL_V_NIL); /* README: Int("2.0") is nil */
    struct ottl_arg b[] = { D(-2.9) };
    assert_int_equal(ok("Int", b, 1).i, -2);
    struct ottl_arg c[] = { S("-12") }, d[] = { B(true) }, e[] = { S(" 1") };
    assert_int_equal(ok("Int", c, 1).i, -12);
    assert_int_equal(ok("Int", d, 1).i, 1);
    assert_int_equal(ok("Int", e, 1).t, OTTL_V_NIL);

    struct ottl_arg f[] = { S("2.0") }, g[] = { I(3) }, h[] = { S("abc") }, i[] = { S("1e400") };
    struct ottl_value v = ok("Double", f, 1);
    assert_int_equal(v.t, OTTL_V_DOUBLE);
    assert_true(v.d == 2.0);
    assert_true(ok("Double", g, 1).d == 3.0);
    assert_int_equal(ok("Double", h, 1).t, OTTL_V_NIL);
    assert_int_equal(ok("Double", i, 1).t, OTTL_V_NIL);

    struct ottl_arg j[] = { S("test") }, k[] = { B(false) }, n[] = { NIL() };
    assert_str(ok("String", j, 1), "test");
    assert_str(ok("String", k, 1), "false");
    assert_int_equal(ok("String", n, 1).t, OTTL_V_NIL);
    struct ottl_value sid = { .t = OTTL_V_BYTES, .s = { "\x01\x02\xab", 3 } };
    struct ottl_arg o[] = { V(sid) };
    assert_str(ok("String", o, 1), "0102ab");

    struct ottl_arg p[] = { S("hello") }, q[] = { V(json("[1,2,3]")) }, r[] = { I(4) };
    assert_int_equal(ok("Len", p, 1).i, 5);
    assert_int_equal(ok("Len", q, 1).i, 3);
    fails("Len", r, 1);
}

static void test_hashes(void **state)
{
    (void)state;
    struct ottl_arg a[] = { S("name") };
    assert_str(ok("SHA256", a, 1),
               "82a3537ff0dbce7eec35d69edc3a189ee6f17d82f353a553f9aa96cb0be3ce89");
    assert_str(ok("SHA1", a, 1), "6ae999552a0d2dca14d62e2bc8b764d377b1dd6c");
    assert_str(ok("MD5", a, 1), "b068931cc450442b63f5b3d276ea4297");
    assert_int_equal(ok("FNV", a, 1).i, -4270347329889690746LL);
    struct ottl_arg b[] = { I(1) };
    assert_non_null(strstr(fails("SHA256", b, 1), "expected string"));
}

static void test_substring_and_case(void **state)
{
    (void)state;
    struct ottl_arg a[] = { S("123456789"), I(0), I(3) };
    assert_str(ok("Substring", a, 3), "123");
    struct ottl_arg b[] = { S("\xe4\xb8\x80\xe4\xba\x8c\xe4\xb8\x89"), I(0), I(4), B(true) };
    assert_str(ok("Substring", b, 4), "\xe4\xb8\x80"); /* "一二三", 0, 4, true -> "一" */
    struct ottl_arg c[] = { S("abc"), I(1), I(5) };
    assert_non_null(strstr(fails("Substring", c, 3), "invalid range"));
    /* a length near the int64 limit is refused without overflowing start + length (UBSan) */
    struct ottl_arg big[] = { S("abc"), I(1), I(INT64_MAX) };
    assert_non_null(strstr(fails("Substring", big, 3), "invalid range"));
    struct ottl_arg d[] = { S("abc"), I(0), I(0) };
    fails("Substring", d, 3);

    struct ottl_arg e[] = { S("MY_METRIC"), S("lower") }, f[] = { S("my_metric"), S("upper") };
    assert_str(ok("ConvertCase", e, 2), "my_metric");
    assert_str(ok("ConvertCase", f, 2), "MY_METRIC");
    struct ottl_arg g[] = { S("myMetric"), S("snake") }, h[] = { S("my_metric"), S("camel") };
    assert_str(ok("ConvertCase", g, 2), "my_metric");
    assert_str(ok("ConvertCase", h, 2), "MyMetric");
    struct ottl_arg i[] = { S("x"), S("kebab") };
    assert_non_null(strstr(fails("ConvertCase", i, 2), "invalid case"));
    struct ottl_arg j[] = { S("\xc3\x89t\xc3\xa9") };
    assert_str(ok("ToLowerCase", j, 1), "\xc3\xa9t\xc3\xa9"); /* Été -> été */
    assert_str(ok("ToUpperCase", j, 1), "\xc3\x89T\xc3\x89");
}

static void test_parse_json(void **state)
{
    (void)state;
    struct ottl_value m = json("{\"attr\":true}");
    assert_map(m, "{\"attr\":true}");
    struct ottl_value l = json("[\"attr1\",\"attr2\"]");
    assert_int_equal(l.t, OTTL_V_LIST);
    assert_int_equal(*l.list.n, 2);
    /* numbers are doubles, null is empty, escapes and surrogates decoded, order kept */
    m = json(" {\"n\":1,\"z\":null,\"s\":\"\\u00e9\\ud83d\\ude00\\ud800\",\"n\":2} ");
    assert_int_equal(*m.map.n, 3);
    assert_string_equal(key_at(m, 0), "n");
    assert_int_equal((*m.map.kv)[0]->value->value_case,
                     OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE);
    assert_true((*m.map.kv)[0]->value->double_value == 2.0);
    assert_string_equal((*m.map.kv)[2]->value->string_value,
                        "\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd");
    const char *bad[] = { "{", "{\"a\":}", "[1,]", "{\"a\":1} x", "1", "\"s\"", "[01]", "nul" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct ottl_arg a[] = { S(bad[i]) };
        fails("ParseJSON", a, 1);
    }
    /* nesting is bounded, not a stack overflow */
    char deep[3001];
    memset(deep, '[', 3000);
    deep[3000] = '\0';
    struct ottl_arg d[] = { S(deep) };
    assert_non_null(strstr(fails("ParseJSON", d, 1), "depth"));
}

/* A list built element by element (Split, a JSON array) costs memory linear in its length: an
 * array regrown by one element per append would hold 8 * n^2 / 2 bytes of dead copies (64 MB for
 * 4001 elements) in the item's arena, with no bound on hostile input. */
static void test_list_growth_is_linear(void **state)
{
    (void)state;
    enum { N = 4000 };
    static char commas[N + 1];
    memset(commas, ',', N);
    commas[N] = '\0';
    size_t before = arena_used(A);
    struct ottl_arg c[] = { S(commas), S(",") };
    struct ottl_value parts = ok("Split", c, 2);
    assert_int_equal(*parts.list.n, N + 1);
    assert_string_equal((*parts.list.v)[N]->string_value, "");
    assert_true(arena_used(A) - before < 4u << 20);

    static char arr[2 * N + 2];
    arr[0] = '[';
    for (size_t i = 0; i < N; i++) {
        arr[1 + 2 * i] = '7';
        arr[2 + 2 * i] = i + 1 < N ? ',' : ']';
    }
    arr[2 * N + 1] = '\0';
    before = arena_used(A);
    struct ottl_arg j[] = { S(arr) };
    struct ottl_value l = ok("ParseJSON", j, 1);
    assert_int_equal(l.t, OTTL_V_LIST);
    assert_int_equal(*l.list.n, N);
    assert_true((*l.list.v)[N - 1]->double_value == 7.0);
    assert_true(arena_used(A) - before < 4u << 20);
}

/* A nested JSON value is copied into its parent once, not once per level above it: 500 arrays
 * around a 20 KB string would otherwise hold 500 copies of it (10 MB) in the item's arena. */
static void test_json_nesting_is_not_recopied(void **state)
{
    (void)state;
    enum { DEPTH = 500, LEAF = 20000 };
    static char doc[2 * DEPTH + LEAF + 3];
    memset(doc, '[', DEPTH);
    doc[DEPTH] = '"';
    memset(doc + DEPTH + 1, 'x', LEAF);
    doc[DEPTH + 1 + LEAF] = '"';
    memset(doc + DEPTH + 2 + LEAF, ']', DEPTH);
    doc[2 * DEPTH + LEAF + 2] = '\0';
    size_t before = arena_used(A);
    struct ottl_arg j[] = { S(doc) };
    struct ottl_value v = ok("ParseJSON", j, 1);
    for (int d = 1; d < DEPTH; d++) {
        assert_int_equal(v.t, OTTL_V_LIST);
        assert_int_equal(*v.list.n, 1);
        ottl_value_from_any((*v.list.v)[0], &v);
    }
    assert_int_equal(v.t, OTTL_V_LIST);
    assert_int_equal(strlen((*v.list.v)[0]->string_value), LEAF);
    assert_true(arena_used(A) - before < 1u << 20);
}

static void test_ids_and_time(void **state)
{
    (void)state;
    struct ottl_arg a[] = { S("a389023abaa839283293ed323892389d") };
    struct ottl_value t = ok("TraceID", a, 1);
    assert_int_equal(t.t, OTTL_V_BYTES);
    assert_int_equal(t.s.n, 16);
    assert_memory_equal(t.s.p, "\xa3\x89\x02\x3a\xba\xa8\x39\x28\x32\x93\xed\x32\x38\x92\x38\x9d",
                        16);
    struct ottl_value raw = { .t = OTTL_V_BYTES, .s = { "\0\0\0\0\0\0\0\0", 8 } };
    struct ottl_arg b[] = { V(raw) };
    assert_int_equal(ok("SpanID", b, 1).s.n, 8);
    fails("TraceID", b, 1);
    struct ottl_arg c[] = { S("0102030405060708") };
    assert_memory_equal(ok("SpanID", c, 1).s.p, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    struct ottl_arg d[] = { S("010203040506070g") };
    fails("SpanID", d, 1);

    IT.now_ns = 1700000000123456789LL;
    struct ottl_value now = ok("Now", NULL, 0);
    assert_int_equal(now.t, OTTL_V_TIME);
    struct ottl_arg e[] = { V(now) };
    assert_int_equal(ok("UnixNano", e, 1).i, 1700000000123456789LL);
    struct ottl_arg f[] = { I(1672527600) };
    struct ottl_value u = ok("Unix", f, 1);
    assert_int_equal(u.t, OTTL_V_TIME);
    assert_int_equal(u.i, 1672527600000000000LL);
    fails("UnixNano", f, 1);
    IT.now_ns = 0;
}

static void test_table(void **state)
{
    (void)state;
    assert_non_null(ottl_function_find("set", 3));
    assert_null(ottl_function_find("Set", 3));
    assert_null(ottl_function_find("sett", 4));
    for (size_t i = 0; ottl_functions[i]; i++) {
        const struct ottl_function *f = ottl_functions[i];
        assert_ptr_equal(ottl_function_find(f->name, strlen(f->name)), f);
        /* editors are lowercase, converters capitalised, as the Collector names them */
        assert_true(f->editor == (f->name[0] >= 'a' && f->name[0] <= 'z'));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_keep_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_go_replace_all_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_all_patterns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_maps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flatten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_checks_and_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concat_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hashes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_substring_and_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_growth_is_linear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_nesting_is_not_recopied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_and_time, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
