/* test_ottl_paths.c — the paths of every OTTL context (core/ottl/paths.c) on hand-built OTLP
 * structs: what each path reads, what it writes, the types its setter refuses, indexing into
 * attributes and bodies, context prefixes and reach, refused paths, and the enums of each
 * context. Expected values follow the Collector's pkg/ottl/contexts getters and setters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/ottl/ottl_internal.h"
#include "tests/unit/ottl_testvals.h"
#include "tests/unit/testutil.h"

typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;

#define AVC(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

/* ---- helpers ----------------------------------------------------------------------------------- */

static struct ottl_path *compile(enum ottl_context ctx, const char *dotted, size_t n_keys,
                                 struct error *err)
{
    char buf[256];
    const char *names[8];
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", dotted);
    for (char *tok = strtok(buf, "."); tok && n < 8; tok = strtok(NULL, "."))
        names[n++] = tok;
    return ottl_path_compile(ctx, names, n, n_keys, err);
}

static struct ottl_path *P(enum ottl_context ctx, const char *dotted, size_t n_keys)
{
    struct error err = { 0 };
    struct ottl_path *p = compile(ctx, dotted, n_keys, &err);
    if (!p)
        fail_msg("path %s: %s", dotted, err.msg);
    return p;
}

static void compile_fails(enum ottl_context ctx, const char *dotted, size_t n_keys,
                          const char *want)
{
    struct error err = { 0 };
    struct ottl_path *p = compile(ctx, dotted, n_keys, &err);
    if (p) {
        ottl_path_free(p);
        fail_msg("path %s compiled in context %s", dotted, ottl_context_name(ctx));
    }
    if (!strstr(err.msg, want))
        fail_msg("path %s: message \"%s\" lacks \"%s\"", dotted, err.msg, want);
}

static struct ottl_key KS(const char *s)
{
    struct ottl_key k = { .is_int = false, .s = s, .n = strlen(s) };
    return k;
}

static struct ottl_key KI(int64_t i)
{
    struct ottl_key k = { .is_int = true, .i = i };
    return k;
}

/* Reads path+keys; fails the test on an error. */
static struct ottl_value get(struct ottl_item *it, const char *dotted, const struct ottl_key *keys,
                             size_t nk)
{
    struct ottl_path *p = P(it->ctx, dotted, nk);
    struct ottl_value v;
    struct error err = { 0 };
    if (ottl_path_get(p, keys, nk, it, &v, &err) != 0)
        fail_msg("get %s: %s", dotted, err.msg);
    ottl_path_free(p);
    return v;
}

static int get_err(struct ottl_item *it, const char *dotted, const struct ottl_key *keys, size_t nk,
                   struct error *err)
{
    struct ottl_path *p = P(it->ctx, dotted, nk);
    struct ottl_value v;
    int rc = ottl_path_get(p, keys, nk, it, &v, err);
    ottl_path_free(p);
    return rc;
}

static int set(struct ottl_item *it, const char *dotted, const struct ottl_key *keys, size_t nk,
               struct ottl_value v, struct error *err)
{
    struct ottl_path *p = P(it->ctx, dotted, nk);
    int rc = ottl_path_set(p, keys, nk, it, &v, err);
    ottl_path_free(p);
    return rc;
}

static void set_ok(struct ottl_item *it, const char *dotted, const struct ottl_key *keys, size_t nk,
                   struct ottl_value v)
{
    struct error err = { 0 };
    if (set(it, dotted, keys, nk, v, &err) != 0)
        fail_msg("set %s: %s", dotted, err.msg);
}

static void set_fails(struct ottl_item *it, const char *dotted, const struct ottl_key *keys,
                      size_t nk, struct ottl_value v, const char *want)
{
    struct error err = { 0 };
    if (set(it, dotted, keys, nk, v, &err) == 0)
        fail_msg("set %s succeeded", dotted);
    if (!strstr(err.msg, want))
        fail_msg("set %s: message \"%s\" lacks \"%s\"", dotted, err.msg, want);
}

static void assert_vstr(struct ottl_value v, const char *want)
{
    if (v.t != OTTL_V_STRING)
        fail_msg("expected string \"%s\", got %s", want, ottl_vtype_name(v.t));
    if (v.s.n != strlen(want) || memcmp(v.s.p, want, v.s.n) != 0)
        fail_msg("expected \"%s\", got \"%.*s\"", want, (int)v.s.n, v.s.p);
}

static void assert_vint(struct ottl_value v, int64_t want)
{
    if (v.t != OTTL_V_INT)
        fail_msg("expected int %lld, got %s", (long long)want, ottl_vtype_name(v.t));
    assert_int_equal(v.i, want);
}

static OttlKeyValue **kvs1(struct arena *a, OttlKeyValue *kv)
{
    OttlKeyValue **arr = arena_alloc(a, sizeof *arr);
    arr[0] = kv;
    return arr;
}

/* One resource, scope, span (with two events) and the item around them. */
struct fixture {
    struct arena *a;
    Resource res;
    Scope scope;
    char *res_url, *scope_url;
    Span span;
    Event ev[2];
    Event *evp[2];
    struct ottl_item it;
};

static void fixture_init(struct fixture *f, enum ottl_context ctx)
{
    memset(f, 0, sizeof *f);
    f->a = arena_new(0);
    opentelemetry__proto__resource__v1__resource__init(&f->res);
    f->res.attributes = kvs1(f->a, tu_kv_str(f->a, "service.name", "checkout"));
    f->res.n_attributes = 1;
    opentelemetry__proto__common__v1__instrumentation_scope__init(&f->scope);
    f->scope.name = "io.llm";
    f->scope.version = "1.2.0";
    f->res_url = "https://opentelemetry.io/schemas/1.26.0";
    f->scope_url = "";
    opentelemetry__proto__trace__v1__span__init(&f->span);
    f->span.name = "chat gpt-4o";
    f->span.kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER;
    static uint8_t tid[16] = { 0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
                               0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c };
    static uint8_t sid[8] = { 0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74 };
    f->span.trace_id.data = tid;
    f->span.trace_id.len = 16;
    f->span.span_id.data = sid;
    f->span.span_id.len = 8;
    f->span.start_time_unix_nano = 1700000000000000000ULL;
    f->span.end_time_unix_nano = 1700000001500000000ULL;
    f->span.trace_state = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
    f->span.attributes = kvs1(f->a, tu_kv_str(f->a, "http.method", "GET"));
    f->span.n_attributes = 1;
    f->span.dropped_attributes_count = 3;
    for (int i = 0; i < 2; i++) {
        opentelemetry__proto__trace__v1__span__event__init(&f->ev[i]);
        f->ev[i].name = i ? "second" : "first";
        f->ev[i].time_unix_nano = 1700000000200000000ULL + (uint64_t)i;
        f->evp[i] = &f->ev[i];
    }
    f->span.events = f->evp;
    f->span.n_events = 2;
    f->it.ctx = ctx;
    f->it.resource = &f->res;
    f->it.resource_schema_url = &f->res_url;
    f->it.scope = &f->scope;
    f->it.scope_schema_url = &f->scope_url;
    f->it.span = &f->span;
    f->it.arena = f->a;
    if (ctx == OTTL_CTX_SPANEVENT)
        f->it.event = &f->ev[1];
}

/* ---- span ------------------------------------------------------------------------------------ */

static void test_span_scalars(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, OTTL_CTX_SPAN);
    struct ottl_item *it = &f.it;
    struct error err = { 0 };

    assert_vstr(get(it, "name", NULL, 0), "chat gpt-4o");
    assert_vstr(get(it, "span.name", NULL, 0), "chat gpt-4o");   /* own context prefix */
    set_ok(it, "name", NULL, 0, vs("renamed"));
    assert_string_equal(f.span.name, "renamed");
    set_fails(it, "name", NULL, 0, vi(1), "expected string but got int");

    assert_vint(get(it, "kind", NULL, 0), 2);
    assert_vstr(get(it, "kind.string", NULL, 0), "Server");
    assert_vstr(get(it, "kind.deprecated_string", NULL, 0), "SPAN_KIND_SERVER");
    set_ok(it, "kind.string", NULL, 0, vs("Client"));
    assert_int_equal(f.span.kind, 3);
    set_ok(it, "kind.deprecated_string", NULL, 0, vs("SPAN_KIND_PRODUCER"));
    assert_int_equal(f.span.kind, 4);
    set_fails(it, "kind.string", NULL, 0, vs("Sideways"), "unknown span kind");
    set_ok(it, "kind", NULL, 0, vi(5));
    assert_vstr(get(it, "kind.string", NULL, 0), "Consumer");
    set_fails(it, "kind", NULL, 0, vs("5"), "expected int");

    assert_vint(get(it, "start_time_unix_nano", NULL, 0), 1700000000000000000LL);
    struct ottl_value st = get(it, "start_time", NULL, 0);
    assert_int_equal(st.t, OTTL_V_TIME);
    assert_int_equal(st.i, 1700000000000000000LL);
    set_ok(it, "end_time", NULL, 0, vt(1700000002000000000LL));
    assert_true(f.span.end_time_unix_nano == 1700000002000000000ULL);
    set_fails(it, "end_time", NULL, 0, vi(5), "expected time but got int");
    set_ok(it, "end_time_unix_nano", NULL, 0, vi(42));
    assert_true(f.span.end_time_unix_nano == 42);
    set_fails(it, "start_time_unix_nano", NULL, 0, vt(1), "expected int but got time");

    assert_vint(get(it, "dropped_attributes_count", NULL, 0), 3);
    set_ok(it, "dropped_events_count", NULL, 0, vi(7));
    assert_int_equal(f.span.dropped_events_count, 7);
    set_ok(it, "dropped_links_count", NULL, 0, vi(8));
    assert_vint(get(it, "dropped_links_count", NULL, 0), 8);

    /* status is absent: it reads as unset and is created by a write */
    assert_vint(get(it, "status.code", NULL, 0), 0);
    assert_vstr(get(it, "status.message", NULL, 0), "");
    set_ok(it, "status.code", NULL, 0, vi(2));
    set_ok(it, "status.message", NULL, 0, vs("upstream 503"));
    assert_non_null(f.span.status);
    assert_int_equal(f.span.status->code, 2);
    assert_string_equal(f.span.status->message, "upstream 503");
    (void)err;
    arena_free(f.a);
}

static void test_span_ids(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, OTTL_CTX_SPAN);
    struct ottl_item *it = &f.it;

    assert_vstr(get(it, "trace_id.string", NULL, 0), "5b8efff798038103d269b633813fc60c");
    assert_vstr(get(it, "span_id.string", NULL, 0), "eee19b7ec3c1b174");
    /* an absent parent reads as zeros, as pdata's fixed-size IDs do */
    assert_vstr(get(it, "parent_span_id.string", NULL, 0), "0000000000000000");
    struct ottl_value tid = get(it, "trace_id", NULL, 0);
    assert_int_equal(tid.t, OTTL_V_BYTES);
    assert_int_equal(tid.s.n, 16);
    assert_int_equal((uint8_t)tid.s.p[0], 0x5b);

    set_ok(it, "trace_id.string", NULL, 0, vs("0102030405060708090A0b0c0d0e0f10"));
    assert_int_equal(f.span.trace_id.len, 16);
    assert_int_equal(f.span.trace_id.data[9], 0x0a);
    assert_int_equal(f.span.trace_id.data[15], 0x10);
    set_fails(it, "trace_id.string", NULL, 0, vs("abc"), "32 hex characters");
    set_fails(it, "trace_id.string", NULL, 0, vs("zz02030405060708090a0b0c0d0e0f10"), "invalid hex");
    set_fails(it, "span_id.string", NULL, 0, vi(1), "expected string");

    struct ottl_value sid = { .t = OTTL_V_BYTES };
    sid.s.p = "\x01\x02\x03\x04\x05\x06\x07\x08";
    sid.s.n = 8;
    set_ok(it, "parent_span_id", NULL, 0, sid);
    assert_vstr(get(it, "parent_span_id.string", NULL, 0), "0102030405060708");
    set_fails(it, "span_id", NULL, 0, vs("0102030405060708"), "span id");
    sid.s.n = 7;
    set_fails(it, "span_id", NULL, 0, sid, "another length");
    /* the all-zero ID is written as absent, as pdata marshals it */
    set_ok(it, "parent_span_id.string", NULL, 0, vs("0000000000000000"));
    assert_int_equal(f.span.parent_span_id.len, 0);
    arena_free(f.a);
}

static void test_span_trace_state(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, OTTL_CTX_SPAN);
    struct ottl_item *it = &f.it;
    struct ottl_key k = KS("congo");
    assert_vstr(get(it, "trace_state", NULL, 0), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    assert_vstr(get(it, "trace_state", &k, 1), "t61rcWkgMzE");
    struct ottl_key missing = KS("nope");
    assert_vstr(get(it, "trace_state", &missing, 1), "");
    /* Insert puts the member first and removes the older one of the same key */
    set_ok(it, "trace_state", &k, 1, vs("new"));
    assert_string_equal(f.span.trace_state, "congo=new,rojo=00f067aa0ba902b7");
    /* an invalid key changes nothing and is no error */
    struct ottl_key bad = KS("UPPER");
    set_ok(it, "trace_state", &bad, 1, vs("v"));
    assert_string_equal(f.span.trace_state, "congo=new,rojo=00f067aa0ba902b7");
    set_ok(it, "trace_state", NULL, 0, vs("a=1"));
    assert_string_equal(f.span.trace_state, "a=1");
    /* an unparsable header reads nil under a key */
    f.span.trace_state = "no-equals-sign";
    assert_int_equal(get(it, "trace_state", &k, 1).t, OTTL_V_NIL);
    compile_fails(OTTL_CTX_SPAN, "trace_state", 2, "exactly 1 key");
    arena_free(f.a);
}

/* ctxutil.GetMapValue / SetMapValue on span attributes. */
static void test_attributes_indexing(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, OTTL_CTX_SPAN);
    struct ottl_item *it = &f.it;
    struct error err = { 0 };

    struct ottl_key k1 = KS("http.method");
    assert_vstr(get(it, "attributes", &k1, 1), "GET");
    struct ottl_key km = KS("missing");
    assert_int_equal(get(it, "attributes", &km, 1).t, OTTL_V_NIL);
    struct ottl_value whole = get(it, "attributes", NULL, 0);
    assert_int_equal(whole.t, OTTL_V_MAP);
    assert_int_equal(*whole.map.n, 1);

    /* nested creation: a map for a string key, a slice of i+1 for an int key */
    struct ottl_key nested[3] = { KS("llm"), KS("usage"), KI(2) };
    set_ok(it, "attributes", nested, 3, vi(99));
    assert_int_equal(f.span.n_attributes, 2);
    assert_vint(get(it, "attributes", nested, 3), 99);
    struct ottl_key first[3] = { KS("llm"), KS("usage"), KI(0) };
    assert_int_equal(get(it, "attributes", first, 3).t, OTTL_V_NIL);
    struct ottl_key oob[3] = { KS("llm"), KS("usage"), KI(3) };
    assert_int_equal(get_err(it, "attributes", oob, 3, &err), -1);
    assert_non_null(strstr(err.msg, "out of bounds"));
    assert_int_equal(set(it, "attributes", oob, 3, vi(1), &err), -1);

    /* indexing a string, or a map with an int */
    struct ottl_key into_str[2] = { KS("http.method"), KS("x") };
    assert_int_equal(get_err(it, "attributes", into_str, 2, &err), -1);
    assert_non_null(strstr(err.msg, "does not support string indexing"));
    struct ottl_key int_on_map = KI(0);
    assert_int_equal(get_err(it, "attributes", &int_on_map, 1, &err), -1);

    /* nil: creates an empty value when absent, leaves an existing value alone */
    struct ottl_key kn = KS("empty");
    set_ok(it, "attributes", &kn, 1, vnil());
    assert_int_equal(f.span.n_attributes, 3);
    assert_int_equal(get(it, "attributes", &kn, 1).t, OTTL_V_NIL);
    set_ok(it, "attributes", &k1, 1, vnil());
    assert_vstr(get(it, "attributes", &k1, 1), "GET");

    /* replacing the whole map with a map; anything else leaves it */
    struct ottl_value m;
    ottl_map_new(f.a, &m);
    struct ottl_value one = vi(1);
    ottl_map_set(f.a, &m, "only", 4, &one);
    set_ok(it, "attributes", NULL, 0, vs("not a map"));
    assert_int_equal(f.span.n_attributes, 3);
    set_ok(it, "attributes", NULL, 0, m);
    assert_int_equal(f.span.n_attributes, 1);
    assert_string_equal(f.span.attributes[0]->key, "only");
    /* the written map is a copy */
    ottl_map_set(f.a, &m, "later", 5, &one);
    assert_int_equal(f.span.n_attributes, 1);
    arena_free(f.a);
}

/* ---- prefixes, reach, refused paths ---------------------------------------------------------- */

static void test_contexts_and_prefixes(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, OTTL_CTX_SPAN);
    struct ottl_item *it = &f.it;
    struct ottl_key sn = KS("service.name");
    assert_vstr(get(it, "resource.attributes", &sn, 1), "checkout");
    assert_vstr(get(it, "instrumentation_scope.name", NULL, 0), "io.llm");
    assert_vstr(get(it, "scope.version", NULL, 0), "1.2.0");
    assert_vstr(get(it, "resource.schema_url", NULL, 0), "https://opentelemetry.io/schemas/1.26.0");
    set_ok(it, "instrumentation_scope.schema_url", NULL, 0, vs("https://x/1"));
    assert_string_equal(f.scope_url, "https://x/1");
    set_ok(it, "resource.attributes", &sn, 1, vs("cart"));
    assert_vstr(get(it, "resource.attributes", &sn, 1), "cart");
    set_ok(it, "resource.dropped_attributes_count", NULL, 0, vi(4));
    assert_int_equal(f.res.dropped_attributes_count, 4);

    /* reach: wider contexts only */
    compile_fails(OTTL_CTX_LOG, "span.name", 0, "out of reach");
    compile_fails(OTTL_CTX_SPAN, "spanevent.name", 0, "out of reach");
    compile_fails(OTTL_CTX_METRIC, "datapoint.attributes", 0, "out of reach");
    compile_fails(OTTL_CTX_RESOURCE, "scope.name", 0, "out of reach");
    /* whole messages and unknown names */
    compile_fails(OTTL_CTX_SPAN, "resource", 0, "whole resource");
    compile_fails(OTTL_CTX_SPAN, "events", 0, "spanevent context");
    compile_fails(OTTL_CTX_SPAN, "status", 0, "status.code");
    compile_fails(OTTL_CTX_DATAPOINT, "exemplars", 0, "not handled");
    compile_fails(OTTL_CTX_METRIC, "data_points", 0, "datapoint context");
    compile_fails(OTTL_CTX_SPAN, "nme", 0, "segment \"nme\"");
    compile_fails(OTTL_CTX_SPAN, "trace_id.hex", 0, "not a valid path");
    compile_fails(OTTL_CTX_SPAN, "name", 1, "does not take keys");
    compile_fails(OTTL_CTX_SPAN, "trace_id.string", 1, "does not take keys");
    /* cache: the statement's own context only */
    compile_fails(OTTL_CTX_SPAN, "resource.cache", 0, "not a valid path");
    struct ottl_path *p = P(OTTL_CTX_RESOURCE, "cache", 1);
    ottl_path_free(p);
    p = P(OTTL_CTX_SPANEVENT, "span.attributes", 1);
    ottl_path_free(p);
    p = P(OTTL_CTX_DATAPOINT, "metric.name", 0);
    ottl_path_free(p);

    const char *span_name[] = { "span", "name" };
    const char *plain[] = { "name" };
    const char *scope[] = { "instrumentation_scope", "name" };
    assert_int_equal(ottl_path_named_context(span_name, 2), OTTL_CTX_SPAN);
    assert_int_equal(ottl_path_named_context(scope, 2), OTTL_CTX_SCOPE);
    assert_int_equal(ottl_path_named_context(plain, 1), -1);
    arena_free(f.a);
}

static void test_cache(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, OTTL_CTX_SPAN);
    struct ottl_item *it = &f.it;
    struct ottl_key k = KS("tmp");
    assert_int_equal(get(it, "cache", &k, 1).t, OTTL_V_NIL);
    set_ok(it, "cache", &k, 1, vs("v"));
    assert_int_equal(it->n_cache, 1);
    assert_vstr(get(it, "cache", &k, 1), "v");
    assert_int_equal(get(it, "cache", NULL, 0).t, OTTL_V_MAP);
    /* the span was not touched */
    assert_int_equal(f.span.n_attributes, 1);
    arena_free(f.a);
}

/* ---- spanevent ------------------------------------------------------------------------------- */

static void test_spanevent(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, OTTL_CTX_SPANEVENT);
    struct ottl_item *it = &f.it;
    assert_vstr(get(it, "name", NULL, 0), "second");
    assert_vstr(get(it, "spanevent.name", NULL, 0), "second");
    assert_vstr(get(it, "span.name", NULL, 0), "chat gpt-4o");
    assert_vint(get(it, "event_index", NULL, 0), 1);
    assert_vint(get(it, "time_unix_nano", NULL, 0), 1700000000200000001LL);
    assert_int_equal(get(it, "time", NULL, 0).t, OTTL_V_TIME);
    set_ok(it, "name", NULL, 0, vs("exception"));
    assert_string_equal(f.ev[1].name, "exception");
    struct ottl_key k = KS("exception.type");
    set_ok(it, "attributes", &k, 1, vs("Timeout"));
    assert_int_equal(f.ev[1].n_attributes, 1);
    set_ok(it, "span.attributes", &k, 1, vs("on span"));
    assert_int_equal(f.span.n_attributes, 2);
    set_ok(it, "dropped_attributes_count", NULL, 0, vi(1));
    assert_int_equal(f.ev[1].dropped_attributes_count, 1);
    set_fails(it, "event_index", NULL, 0, vi(0), "read-only");
    set_fails(it, "time", NULL, 0, vi(0), "expected time");
    arena_free(f.a);
}

/* ---- metric and datapoint -------------------------------------------------------------------- */

struct mfix {
    struct arena *a;
    Metric m;
    Opentelemetry__Proto__Metrics__V1__Sum sum;
    Opentelemetry__Proto__Metrics__V1__NumberDataPoint ndp;
    struct ottl_item it;
};

static void mfix_init(struct mfix *f, enum ottl_context ctx)
{
    memset(f, 0, sizeof *f);
    f->a = arena_new(0);
    opentelemetry__proto__metrics__v1__metric__init(&f->m);
    f->m.name = "gen_ai.client.token.usage";
    f->m.unit = "{token}";
    f->m.description = "tokens";
    opentelemetry__proto__metrics__v1__sum__init(&f->sum);
    f->sum.aggregation_temporality = 2;
    f->sum.is_monotonic = 1;
    f->m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
    f->m.sum = &f->sum;
    opentelemetry__proto__metrics__v1__number_data_point__init(&f->ndp);
    f->ndp.value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
    f->ndp.as_int = 120;
    f->ndp.time_unix_nano = 5000;
    f->ndp.start_time_unix_nano = 4000;
    f->ndp.attributes = kvs1(f->a, tu_kv_str(f->a, "gen_ai.token.type", "input"));
    f->ndp.n_attributes = 1;
    f->it.ctx = ctx;
    f->it.metric = &f->m;
    f->it.datapoint = ctx == OTTL_CTX_DATAPOINT ? &f->ndp : NULL;
    f->it.arena = f->a;
}

static void test_metric(void **state)
{
    (void)state;
    struct mfix f;
    mfix_init(&f, OTTL_CTX_METRIC);
    struct ottl_item *it = &f.it;
    assert_vstr(get(it, "name", NULL, 0), "gen_ai.client.token.usage");
    assert_vstr(get(it, "metric.unit", NULL, 0), "{token}");
    assert_vstr(get(it, "description", NULL, 0), "tokens");
    assert_vint(get(it, "type", NULL, 0), 2);   /* METRIC_DATA_TYPE_SUM */
    assert_vint(get(it, "aggregation_temporality", NULL, 0), 2);
    struct ottl_value mono = get(it, "is_monotonic", NULL, 0);
    assert_int_equal(mono.t, OTTL_V_BOOL);
    assert_true(mono.b);
    set_ok(it, "aggregation_temporality", NULL, 0, vi(1));
    assert_int_equal(f.sum.aggregation_temporality, 1);
    set_ok(it, "is_monotonic", NULL, 0, vb(false));
    assert_false(f.sum.is_monotonic);
    set_fails(it, "is_monotonic", NULL, 0, vi(0), "expected bool");
    set_ok(it, "name", NULL, 0, vs("tokens"));
    assert_string_equal(f.m.name, "tokens");
    /* the Collector's type setter changes nothing */
    set_ok(it, "type", NULL, 0, vi(1));
    assert_vint(get(it, "type", NULL, 0), 2);
    struct ottl_key k = KS("origin");
    set_ok(it, "metadata", &k, 1, vs("proxy"));
    assert_int_equal(f.m.n_metadata, 1);
    /* a gauge has no temporality: nil */
    Opentelemetry__Proto__Metrics__V1__Gauge g = OPENTELEMETRY__PROTO__METRICS__V1__GAUGE__INIT;
    f.m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
    f.m.gauge = &g;
    assert_int_equal(get(it, "aggregation_temporality", NULL, 0).t, OTTL_V_NIL);
    assert_int_equal(get(it, "is_monotonic", NULL, 0).t, OTTL_V_NIL);
    assert_vint(get(it, "type", NULL, 0), 1);
    arena_free(f.a);
}

static void test_number_datapoint(void **state)
{
    (void)state;
    struct mfix f;
    mfix_init(&f, OTTL_CTX_DATAPOINT);
    struct ottl_item *it = &f.it;
    struct ottl_key k = KS("gen_ai.token.type");
    assert_vstr(get(it, "attributes", &k, 1), "input");
    assert_vstr(get(it, "metric.name", NULL, 0), "gen_ai.client.token.usage");
    assert_vint(get(it, "value_int", NULL, 0), 120);
    struct ottl_value d = get(it, "value_double", NULL, 0);
    assert_int_equal(d.t, OTTL_V_DOUBLE);
    assert_true(d.d == 0.0);
    set_ok(it, "value_double", NULL, 0, vd(1.5));
    assert_int_equal(f.ndp.value_case, OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE);
    assert_true(f.ndp.as_double == 1.5);
    set_fails(it, "value_double", NULL, 0, vi(1), "expected double");
    assert_vint(get(it, "time_unix_nano", NULL, 0), 5000);
    assert_vint(get(it, "start_time_unix_nano", NULL, 0), 4000);
    set_ok(it, "time", NULL, 0, vt(6000));
    assert_true(f.ndp.time_unix_nano == 6000);
    set_ok(it, "flags", NULL, 0, vi(1));
    assert_int_equal(f.ndp.flags, 1);
    /* histogram fields read nil on a number point and writes change nothing */
    assert_int_equal(get(it, "count", NULL, 0).t, OTTL_V_NIL);
    assert_int_equal(get(it, "bucket_counts", NULL, 0).t, OTTL_V_NIL);
    set_ok(it, "count", NULL, 0, vi(3));
    set_ok(it, "metric.description", NULL, 0, vs("via datapoint"));
    assert_string_equal(f.m.description, "via datapoint");
    arena_free(f.a);
}

static void test_histogram_datapoints(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    Metric m = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
    Opentelemetry__Proto__Metrics__V1__Histogram h = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM__INIT;
    Opentelemetry__Proto__Metrics__V1__HistogramDataPoint dp =
        OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__INIT;
    uint64_t counts[3] = { 1, 5, 2 };
    double bounds[2] = { 0.5, 2.5 };
    dp.count = 8;
    dp.bucket_counts = counts;
    dp.n_bucket_counts = 3;
    dp.explicit_bounds = bounds;
    dp.n_explicit_bounds = 2;
    m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
    m.histogram = &h;
    struct ottl_item it = { .ctx = OTTL_CTX_DATAPOINT, .metric = &m, .datapoint = &dp, .arena = a };

    assert_vint(get(&it, "count", NULL, 0), 8);
    struct ottl_value s = get(&it, "sum", NULL, 0);
    assert_int_equal(s.t, OTTL_V_DOUBLE);
    assert_true(s.d == 0.0);   /* absent sum */
    set_ok(&it, "sum", NULL, 0, vd(9.75));
    assert_true(dp._sum_case != 0);
    assert_true(dp.sum == 9.75);
    struct ottl_value bc = get(&it, "bucket_counts", NULL, 0);
    assert_int_equal(bc.t, OTTL_V_LIST);
    assert_int_equal(*bc.list.n, 3);
    assert_int_equal((*bc.list.v)[1]->int_value, 5);
    struct ottl_value eb = get(&it, "explicit_bounds", NULL, 0);
    assert_int_equal(*eb.list.n, 2);
    assert_true((*eb.list.v)[1]->double_value == 2.5);

    struct ottl_value l;
    ottl_list_new(a, &l);
    struct ottl_value x = vi(4), y = vi(6);
    ottl_list_append(a, &l, &x);
    ottl_list_append(a, &l, &y);
    set_ok(&it, "bucket_counts", NULL, 0, l);
    assert_int_equal(dp.n_bucket_counts, 2);
    assert_true(dp.bucket_counts[1] == 6);
    set_ok(&it, "explicit_bounds", NULL, 0, l);
    assert_true(dp.explicit_bounds[0] == 4.0);
    struct ottl_value str = vs("x");
    ottl_list_append(a, &l, &str);
    set_fails(&it, "bucket_counts", NULL, 0, l, "list of ints");
    set_fails(&it, "bucket_counts", NULL, 0, vi(1), "list of ints");
    assert_int_equal(get(&it, "scale", NULL, 0).t, OTTL_V_NIL);

    /* exponential histogram */
    Opentelemetry__Proto__Metrics__V1__ExponentialHistogram eh =
        OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM__INIT;
    Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint edp =
        OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__INIT;
    edp.scale = -2;
    edp.zero_count = 3;
    m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM;
    m.exponential_histogram = &eh;
    it.datapoint = &edp;
    assert_vint(get(&it, "scale", NULL, 0), -2);
    assert_vint(get(&it, "zero_count", NULL, 0), 3);
    assert_vint(get(&it, "positive.offset", NULL, 0), 0);
    assert_int_equal(*get(&it, "negative.bucket_counts", NULL, 0).list.n, 0);
    set_ok(&it, "positive.offset", NULL, 0, vi(-1));
    assert_non_null(edp.positive);
    assert_int_equal(edp.positive->offset, -1);
    ottl_list_new(a, &l);
    ottl_list_append(a, &l, &x);
    set_ok(&it, "negative.bucket_counts", NULL, 0, l);
    assert_int_equal(edp.negative->n_bucket_counts, 1);
    set_ok(&it, "scale", NULL, 0, vi(3));
    assert_int_equal(edp.scale, 3);

    /* summary */
    Opentelemetry__Proto__Metrics__V1__Summary sm = OPENTELEMETRY__PROTO__METRICS__V1__SUMMARY__INIT;
    Opentelemetry__Proto__Metrics__V1__SummaryDataPoint sdp =
        OPENTELEMETRY__PROTO__METRICS__V1__SUMMARY_DATA_POINT__INIT;
    sdp.count = 10;
    sdp.sum = 2.5;
    m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY;
    m.summary = &sm;
    it.datapoint = &sdp;
    assert_vint(get(&it, "count", NULL, 0), 10);
    assert_true(get(&it, "sum", NULL, 0).d == 2.5);
    compile_fails(OTTL_CTX_DATAPOINT, "quantile_values", 0, "not handled");
    compile_fails(OTTL_CTX_DATAPOINT, "positive", 0, "positive.offset");
    arena_free(a);
}

/* ---- log ------------------------------------------------------------------------------------- */

static void test_log(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    LogRecord l = OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
    l.time_unix_nano = 9000;
    l.observed_time_unix_nano = 9500;
    l.severity_number = 9;
    l.severity_text = "INFO";
    struct ottl_value body = vs("request done");
    l.body = ottl_value_to_any(a, &body);
    struct ottl_item it = { .ctx = OTTL_CTX_LOG, .log = &l, .arena = a };
    struct error err = { 0 };

    assert_vstr(get(&it, "body", NULL, 0), "request done");
    assert_vstr(get(&it, "body.string", NULL, 0), "request done");
    assert_vstr(get(&it, "log.severity_text", NULL, 0), "INFO");
    assert_vint(get(&it, "severity_number", NULL, 0), 9);
    assert_vint(get(&it, "time_unix_nano", NULL, 0), 9000);
    assert_int_equal(get(&it, "observed_time", NULL, 0).i, 9500);
    set_ok(&it, "severity_number", NULL, 0, vi(17));
    assert_int_equal(l.severity_number, 17);
    set_ok(&it, "severity_text", NULL, 0, vs("ERROR"));
    assert_string_equal(l.severity_text, "ERROR");
    set_ok(&it, "observed_time_unix_nano", NULL, 0, vi(1));
    assert_true(l.observed_time_unix_nano == 1);
    set_ok(&it, "event_name", NULL, 0, vs("gen_ai.choice"));
    assert_string_equal(l.event_name, "gen_ai.choice");
    set_ok(&it, "flags", NULL, 0, vi(1));
    assert_int_equal(l.flags, 1);
    set_ok(&it, "trace_id.string", NULL, 0, vs("5b8efff798038103d269b633813fc60c"));
    assert_vstr(get(&it, "trace_id.string", NULL, 0), "5b8efff798038103d269b633813fc60c");
    assert_vstr(get(&it, "span_id.string", NULL, 0), "0000000000000000");

    /* a string body cannot be indexed */
    struct ottl_key k = KS("msg");
    assert_int_equal(get_err(&it, "body", &k, 1, &err), -1);
    assert_non_null(strstr(err.msg, "cannot be indexed"));
    assert_int_equal(set(&it, "body", &k, 1, vs("x"), &err), -1);

    /* body.string of other types: AsString (numbers as JSON, bytes base64) */
    set_ok(&it, "body", NULL, 0, vi(42));
    assert_vstr(get(&it, "body.string", NULL, 0), "42");
    struct ottl_value bytes = { .t = OTTL_V_BYTES };
    bytes.s.p = "hi!";
    bytes.s.n = 3;
    set_ok(&it, "body", NULL, 0, bytes);
    assert_vstr(get(&it, "body.string", NULL, 0), "aGkh");
    /* nil leaves the body as it is (pcommon SetValue) */
    set_ok(&it, "body", NULL, 0, vnil());
    assert_int_equal(get(&it, "body", NULL, 0).t, OTTL_V_BYTES);

    /* a map body is indexed as a map, a slice body by int */
    struct ottl_value m;
    ottl_map_new(a, &m);
    struct ottl_value v = vs("hello");
    ottl_map_set(a, &m, "msg", 3, &v);
    set_ok(&it, "body", NULL, 0, m);
    assert_vstr(get(&it, "body", &k, 1), "hello");
    struct ottl_key k2 = KS("level");
    set_ok(&it, "body", &k2, 1, vs("warn"));
    assert_int_equal(l.body->kvlist_value->n_values, 2);
    assert_vstr(get(&it, "body.string", NULL, 0), "{\"level\":\"warn\",\"msg\":\"hello\"}");
    struct ottl_value lst;
    ottl_list_new(a, &lst);
    ottl_list_append(a, &lst, &v);
    set_ok(&it, "body", NULL, 0, lst);
    struct ottl_key i0 = KI(0), i5 = KI(5);
    assert_vstr(get(&it, "body", &i0, 1), "hello");
    assert_int_equal(get_err(&it, "body", &i5, 1, &err), -1);
    set_ok(&it, "body", &i0, 1, vs("bye"));
    assert_vstr(get(&it, "body", &i0, 1), "bye");

    set_ok(&it, "body.string", NULL, 0, vs("plain"));
    assert_vstr(get(&it, "body", NULL, 0), "plain");
    set_fails(&it, "body.string", NULL, 0, vi(1), "expected string");
    compile_fails(OTTL_CTX_LOG, "body.string", 1, "does not take keys");
    arena_free(a);
}

/* ---- resource and scope contexts --------------------------------------------------------------- */

static void test_resource_and_scope(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, OTTL_CTX_RESOURCE);
    f.it.scope = NULL;
    f.it.span = NULL;
    struct ottl_item *it = &f.it;
    struct ottl_key sn = KS("service.name");
    assert_vstr(get(it, "attributes", &sn, 1), "checkout");
    assert_vstr(get(it, "resource.attributes", &sn, 1), "checkout");
    assert_vint(get(it, "dropped_attributes_count", NULL, 0), 0);
    set_ok(it, "schema_url", NULL, 0, vs("https://s/2"));
    assert_string_equal(f.res_url, "https://s/2");
    compile_fails(OTTL_CTX_RESOURCE, "name", 0, "valid paths: attributes");

    f.it.ctx = OTTL_CTX_SCOPE;
    f.it.scope = &f.scope;
    assert_vstr(get(it, "name", NULL, 0), "io.llm");
    assert_vstr(get(it, "version", NULL, 0), "1.2.0");
    set_ok(it, "version", NULL, 0, vs("2.0.0"));
    assert_string_equal(f.scope.version, "2.0.0");
    struct ottl_key k = KS("lib");
    set_ok(it, "attributes", &k, 1, vs("x"));
    assert_int_equal(f.scope.n_attributes, 1);
    set_ok(it, "resource.attributes", &k, 1, vi(1));
    assert_int_equal(f.res.n_attributes, 2);
    assert_vstr(get(it, "schema_url", NULL, 0), "");
    set_fails(it, "dropped_attributes_count", NULL, 0, vs("1"), "expected int");
    arena_free(f.a);
}

/* ---- enums ----------------------------------------------------------------------------------- */

static int64_t enum_of(enum ottl_context c, const char *name)
{
    int64_t v = -99;
    if (ottl_enum_lookup(c, name, strlen(name), &v) != 0)
        return -99;
    return v;
}

static void test_enums(void **state)
{
    (void)state;
    assert_int_equal(enum_of(OTTL_CTX_SPAN, "SPAN_KIND_SERVER"), 2);
    assert_int_equal(enum_of(OTTL_CTX_SPAN, "SPAN_KIND_CONSUMER"), 5);
    assert_int_equal(enum_of(OTTL_CTX_SPAN, "STATUS_CODE_ERROR"), 2);
    assert_int_equal(enum_of(OTTL_CTX_SPANEVENT, "STATUS_CODE_OK"), 1);
    assert_int_equal(enum_of(OTTL_CTX_LOG, "SEVERITY_NUMBER_INFO"), 9);
    assert_int_equal(enum_of(OTTL_CTX_LOG, "SEVERITY_NUMBER_FATAL4"), 24);
    assert_int_equal(enum_of(OTTL_CTX_METRIC, "AGGREGATION_TEMPORALITY_DELTA"), 1);
    assert_int_equal(enum_of(OTTL_CTX_METRIC, "METRIC_DATA_TYPE_SUM"), 2);
    assert_int_equal(enum_of(OTTL_CTX_DATAPOINT, "METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM"), 4);
    assert_int_equal(enum_of(OTTL_CTX_DATAPOINT, "FLAG_NO_RECORDED_VALUE"), 1);
    assert_int_equal(enum_of(OTTL_CTX_DATAPOINT, "AGGREGATION_TEMPORALITY_CUMULATIVE"), 2);
    /* symbols of other contexts, unknown or truncated names */
    assert_int_equal(enum_of(OTTL_CTX_SPAN, "SEVERITY_NUMBER_INFO"), -99);
    assert_int_equal(enum_of(OTTL_CTX_METRIC, "FLAG_NONE"), -99);
    assert_int_equal(enum_of(OTTL_CTX_LOG, "SPAN_KIND_SERVER"), -99);
    assert_int_equal(enum_of(OTTL_CTX_RESOURCE, "SPAN_KIND_SERVER"), -99);
    assert_int_equal(enum_of(OTTL_CTX_SPAN, "SPAN_KIND_SERVE"), -99);
    int64_t v;
    assert_int_equal(ottl_enum_lookup(OTTL_CTX_SPAN, "SPAN_KIND_SERVERX", 16, &v), 0);
    assert_int_equal(v, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_span_scalars),
        cmocka_unit_test(test_span_ids),
        cmocka_unit_test(test_span_trace_state),
        cmocka_unit_test(test_attributes_indexing),
        cmocka_unit_test(test_contexts_and_prefixes),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_spanevent),
        cmocka_unit_test(test_metric),
        cmocka_unit_test(test_number_datapoint),
        cmocka_unit_test(test_histogram_datapoints),
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_resource_and_scope),
        cmocka_unit_test(test_enums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
