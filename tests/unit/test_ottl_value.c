/* test_ottl_value.c — the values of the OTTL engine (core/ottl/value.c): reading AnyValues, deep
 * copies, maps and lists edited where they live, the comparison rules of the Collector's
 * compare.go and the String() formatting (encoding/json for maps, lists and numbers, hex for
 * bytes). Expected strings are what Go's encoding/json writes for the same values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/ottl/ottl_internal.h"
#include "tests/unit/ottl_testvals.h"

static void assert_str(struct arena *a, const struct ottl_value *v, const char *want)
{
    size_t n = 0;
    char *s = ottl_value_to_string(a, v, &n);
    assert_non_null(s);
    assert_string_equal(s, want);
    assert_int_equal(n, strlen(want));
}

static void test_from_any(void **state)
{
    (void)state;
    struct ottl_value v;
    ottl_value_from_any(NULL, &v);
    assert_int_equal(v.t, OTTL_V_NIL);

    OttlAnyValue a = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    ottl_value_from_any(&a, &v);
    assert_int_equal(v.t, OTTL_V_NIL);

    a.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    a.string_value = "hello";
    ottl_value_from_any(&a, &v);
    assert_int_equal(v.t, OTTL_V_STRING);
    assert_int_equal(v.s.n, 5);
    assert_memory_equal(v.s.p, "hello", 5);

    a.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    a.int_value = -7;
    ottl_value_from_any(&a, &v);
    assert_int_equal(v.t, OTTL_V_INT);
    assert_int_equal(v.i, -7);

    a.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
    a.double_value = 2.5;
    ottl_value_from_any(&a, &v);
    assert_int_equal(v.t, OTTL_V_DOUBLE);
    assert_true(v.d == 2.5);

    a.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
    a.bool_value = 1;
    ottl_value_from_any(&a, &v);
    assert_int_equal(v.t, OTTL_V_BOOL);
    assert_true(v.b);

    uint8_t raw[3] = { 1, 2, 3 };
    a.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
    a.bytes_value.data = raw;
    a.bytes_value.len = 3;
    ottl_value_from_any(&a, &v);
    assert_int_equal(v.t, OTTL_V_BYTES);
    assert_int_equal(v.s.n, 3);

    /* a container case without its message reads nil rather than pointing anywhere */
    a.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
    a.kvlist_value = NULL;
    ottl_value_from_any(&a, &v);
    assert_int_equal(v.t, OTTL_V_NIL);
}

/* A map read from an AnyValue is the AnyValue's own map: setting through it edits the source. */
static void test_map_by_reference(void **state)
{
    (void)state;
    struct arena *ar = arena_new(0);
    struct ottl_value m;
    assert_int_equal(ottl_map_new(ar, &m), 0);
    struct ottl_value one = vi(1), two = vs("two");
    assert_int_equal(ottl_map_set(ar, &m, "a", 1, &one), 0);
    assert_int_equal(ottl_map_set(ar, &m, "b", 1, &two), 0);
    assert_int_equal(*m.map.n, 2);

    OttlAnyValue *holder = ottl_value_to_any(ar, &m);
    assert_non_null(holder);
    struct ottl_value ref;
    ottl_value_from_any(holder, &ref);
    assert_int_equal(ref.t, OTTL_V_MAP);
    struct ottl_value three = vi(3);
    assert_int_equal(ottl_map_set(ar, &ref, "c", 1, &three), 0);
    assert_int_equal(holder->kvlist_value->n_values, 3);
    /* the copy is deep: the original map did not grow */
    assert_int_equal(*m.map.n, 2);

    /* replace keeps the position of the first entry of the key */
    struct ottl_value nine = vi(9);
    assert_int_equal(ottl_map_set(ar, &ref, "a", 1, &nine), 0);
    assert_int_equal(holder->kvlist_value->n_values, 3);
    assert_string_equal(holder->kvlist_value->values[0]->key, "a");
    assert_int_equal(holder->kvlist_value->values[0]->value->int_value, 9);

    OttlAnyValue *found = ottl_map_find(&ref, "b", 1);
    assert_non_null(found);
    assert_string_equal(found->string_value, "two");
    assert_null(ottl_map_find(&ref, "zz", 2));
    /* keys compare by length too: "a" is not "ab" */
    assert_null(ottl_map_find(&ref, "ab", 2));
    arena_free(ar);
}

static void test_map_delete_all_duplicates(void **state)
{
    (void)state;
    struct arena *ar = arena_new(0);
    struct ottl_value m;
    assert_int_equal(ottl_map_new(ar, &m), 0);
    struct ottl_value x = vi(1);
    assert_int_equal(ottl_map_set(ar, &m, "k", 1, &x), 0);
    assert_int_equal(ottl_map_set(ar, &m, "other", 5, &x), 0);
    /* a duplicate key, as decoded data may carry: build it by hand */
    OttlKeyValue **kvs = arena_alloc(ar, 3 * sizeof *kvs);
    memcpy(kvs, *m.map.kv, 2 * sizeof *kvs);
    kvs[2] = arena_alloc(ar, sizeof *kvs[2]);
    opentelemetry__proto__common__v1__key_value__init(kvs[2]);
    kvs[2]->key = "k";
    kvs[2]->value = ottl_value_to_any(ar, &x);
    *m.map.kv = kvs;
    *m.map.n = 3;
    assert_int_equal(ottl_map_delete(&m, "k", 1), 2);
    assert_int_equal(*m.map.n, 1);
    assert_string_equal((*m.map.kv)[0]->key, "other");
    assert_int_equal(ottl_map_delete(&m, "k", 1), 0);
    arena_free(ar);
}

/* set(attributes["self"], attributes): the value is copied before the map grows. */
static void test_store_into_itself(void **state)
{
    (void)state;
    struct arena *ar = arena_new(0);
    struct ottl_value m;
    assert_int_equal(ottl_map_new(ar, &m), 0);
    struct ottl_value one = vi(1);
    assert_int_equal(ottl_map_set(ar, &m, "a", 1, &one), 0);
    assert_int_equal(ottl_map_set(ar, &m, "self", 4, &m), 0);
    assert_int_equal(*m.map.n, 2);
    OttlAnyValue *self = ottl_map_find(&m, "self", 4);
    assert_non_null(self);
    assert_int_equal(self->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE);
    assert_int_equal(self->kvlist_value->n_values, 1);

    /* ottl_value_store over a value that contains the source */
    OttlAnyValue *holder = ottl_value_to_any(ar, &m);
    struct ottl_value ref, inner;
    ottl_value_from_any(holder, &ref);
    ottl_value_from_any(ottl_map_find(&ref, "self", 4), &inner);
    assert_int_equal(ottl_value_store(ar, holder, &inner), 0);
    assert_int_equal(holder->kvlist_value->n_values, 1);
    assert_string_equal(holder->kvlist_value->values[0]->key, "a");
    arena_free(ar);
}

static void test_list_and_conversions(void **state)
{
    (void)state;
    struct arena *ar = arena_new(0);
    struct ottl_value l;
    assert_int_equal(ottl_list_new(ar, &l), 0);
    struct ottl_value a = vs("x"), b = vd(0.5), t = vt(1234), d = vdur(55);
    assert_int_equal(ottl_list_append(ar, &l, &a), 0);
    assert_int_equal(ottl_list_append(ar, &l, &b), 0);
    assert_int_equal(ottl_list_append(ar, &l, &t), 0);
    assert_int_equal(ottl_list_append(ar, &l, &d), 0);
    assert_int_equal(*l.list.n, 4);
    OttlAnyValue **vals = *l.list.v;
    assert_string_equal(vals[0]->string_value, "x");
    assert_true(vals[1]->double_value == 0.5);
    /* time and duration become ints of nanoseconds */
    assert_int_equal(vals[2]->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE);
    assert_int_equal(vals[2]->int_value, 1234);
    assert_int_equal(vals[3]->int_value, 55);

    /* appending to a non-list fails */
    struct ottl_value notlist = vi(1);
    assert_int_equal(ottl_list_append(ar, &notlist, &a), -1);
    struct ottl_value nv = vnil();
    OttlAnyValue *empty = ottl_value_to_any(ar, &nv);
    assert_non_null(empty);
    assert_int_equal(empty->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET);
    /* a string value is NUL-terminated in its AnyValue even when the source is not */
    struct ottl_value part = { .t = OTTL_V_STRING };
    part.s.p = "abcdef";
    part.s.n = 3;
    OttlAnyValue *sv = ottl_value_to_any(ar, &part);
    assert_string_equal(sv->string_value, "abc");
    arena_free(ar);
}

/* compare.go: numbers across int and double, nil rules, invalid comparisons only unequal. */
static void test_compare(void **state)
{
    (void)state;
    struct ottl_value i1 = vi(1), i2 = vi(2), d1 = vd(1.0), d25 = vd(2.5), nan = vd(NAN);
    struct ottl_value sa = vs("a"), sb = vs("b"), s1 = vs("1"), n = vnil();
    struct ottl_value t = vb(true), f = vb(false);

    assert_true(ottl_value_compare(&i1, "==", &d1));
    assert_true(ottl_value_compare(&d1, "==", &i1));
    assert_true(ottl_value_compare(&i2, "<", &d25));
    assert_true(ottl_value_compare(&d25, ">=", &i2));
    assert_false(ottl_value_compare(&i2, ">", &d25));
    assert_true(ottl_value_compare(&sa, "<", &sb));
    assert_true(ottl_value_compare(&sb, ">", &sa));
    assert_true(ottl_value_compare(&sa, "!=", &sb));

    /* nil: equal to nil (and <=, >=), unequal to anything else, never ordered against it */
    assert_true(ottl_value_compare(&n, "==", &n));
    assert_true(ottl_value_compare(&n, "<=", &n));
    assert_true(ottl_value_compare(&n, ">=", &n));
    assert_false(ottl_value_compare(&n, "<", &n));
    assert_false(ottl_value_compare(&n, "==", &i1));
    assert_true(ottl_value_compare(&i1, "!=", &n));
    assert_false(ottl_value_compare(&n, "<", &i1));
    assert_false(ottl_value_compare(&i1, ">", &n));

    /* values of different kinds: only != holds */
    assert_false(ottl_value_compare(&s1, "==", &i1));
    assert_true(ottl_value_compare(&s1, "!=", &i1));
    assert_false(ottl_value_compare(&s1, "<", &i1));
    assert_false(ottl_value_compare(&t, "==", &i1));

    /* bools order false < true */
    assert_true(ottl_value_compare(&f, "<", &t));
    assert_true(ottl_value_compare(&t, ">=", &f));
    assert_false(ottl_value_compare(&t, "<", &f));

    /* NaN equals nothing */
    assert_false(ottl_value_compare(&nan, "==", &nan));
    assert_true(ottl_value_compare(&nan, "!=", &nan));
    assert_false(ottl_value_compare(&nan, "<", &i1));

    /* bytes compare bytewise; a shorter prefix is less */
    struct ottl_value b1 = vbytes("\x01\x02", 2), b2 = vbytes("\x01\x02\x00", 3);
    assert_true(ottl_value_compare(&b1, "<", &b2));
    assert_false(ottl_value_compare(&b1, "==", &b2));
    /* empty bytes are a nil slice in pcommon: equal to nil */
    struct ottl_value b0 = vbytes("", 0);
    assert_true(ottl_value_compare(&b0, "==", &n));
    assert_true(ottl_value_compare(&b1, "!=", &n));

    /* times and durations compare among themselves only */
    struct ottl_value t1 = vt(10), t2 = vt(20), du = vdur(10);
    assert_true(ottl_value_compare(&t1, "<", &t2));
    assert_false(ottl_value_compare(&t1, "==", &du));
    assert_true(ottl_value_compare(&t1, "!=", &i1));

    /* an unknown operator is false */
    assert_false(ottl_value_compare(&i1, "=~", &i1));
}

static void test_compare_maps_and_lists(void **state)
{
    (void)state;
    struct arena *ar = arena_new(0);
    struct ottl_value m1, m2, l1, l2;
    struct ottl_value one = vi(1), x = vs("x"), oned = vd(1.0);
    ottl_map_new(ar, &m1);
    ottl_map_new(ar, &m2);
    ottl_map_set(ar, &m1, "a", 1, &one);
    ottl_map_set(ar, &m1, "b", 1, &x);
    ottl_map_set(ar, &m2, "b", 1, &x);
    ottl_map_set(ar, &m2, "a", 1, &one);
    /* content, not order */
    assert_true(ottl_value_compare(&m1, "==", &m2));
    assert_false(ottl_value_compare(&m1, "!=", &m2));
    /* maps do not order */
    assert_false(ottl_value_compare(&m1, "<=", &m2));
    /* inside containers an int is not a double (pcommon.Value.Equal) */
    ottl_map_set(ar, &m2, "a", 1, &oned);
    assert_false(ottl_value_compare(&m1, "==", &m2));

    ottl_list_new(ar, &l1);
    ottl_list_new(ar, &l2);
    ottl_list_append(ar, &l1, &one);
    ottl_list_append(ar, &l1, &x);
    ottl_list_append(ar, &l2, &x);
    ottl_list_append(ar, &l2, &one);
    assert_false(ottl_value_compare(&l1, "==", &l2));   /* lists: order matters */
    struct ottl_value l3;
    ottl_list_new(ar, &l3);
    ottl_list_append(ar, &l3, &one);
    ottl_list_append(ar, &l3, &x);
    assert_true(ottl_value_compare(&l1, "==", &l3));
    assert_true(ottl_value_compare(&l1, "!=", &m1));
    arena_free(ar);
}

/* Numbers as encoding/json writes them (the String() of a number in OTTL). */
static void test_to_string_numbers(void **state)
{
    (void)state;
    struct arena *ar = arena_new(0);
    struct ottl_value v;
    v = vi(42); assert_str(ar, &v, "42");
    v = vi(-9223372036854775807LL - 1); assert_str(ar, &v, "-9223372036854775808");
    v = vd(1.5); assert_str(ar, &v, "1.5");
    v = vd(-0.25); assert_str(ar, &v, "-0.25");
    v = vd(100.0); assert_str(ar, &v, "100");
    v = vd(1e20); assert_str(ar, &v, "100000000000000000000");
    v = vd(1e21); assert_str(ar, &v, "1e+21");
    v = vd(1.5e300); assert_str(ar, &v, "1.5e+300");
    v = vd(0.000001); assert_str(ar, &v, "0.000001");
    v = vd(1e-7); assert_str(ar, &v, "1e-7");
    v = vd(1.25e-10); assert_str(ar, &v, "1.25e-10");
    v = vd(0.1); assert_str(ar, &v, "0.1");
    v = vd(123456789.125); assert_str(ar, &v, "123456789.125");
    v = vd(0.0); assert_str(ar, &v, "0");
    v = vd(3.0); assert_str(ar, &v, "3");
    v = vb(true); assert_str(ar, &v, "true");
    v = vb(false); assert_str(ar, &v, "false");
    v = vdur(1500); assert_str(ar, &v, "1500");
    arena_free(ar);
}

static void test_to_string_others(void **state)
{
    (void)state;
    struct arena *ar = arena_new(0);
    struct ottl_value v = vs("plain \"text\"");
    assert_str(ar, &v, "plain \"text\"");   /* a string is itself, not JSON */
    v = vbytes("\xde\xad\xbe\xef", 4);
    assert_str(ar, &v, "deadbeef");          /* bytes are hex */
    v = vt(0);
    assert_str(ar, &v, "\"1970-01-01T00:00:00Z\"");
    v = vt(1500000000LL);
    assert_str(ar, &v, "\"1970-01-01T00:00:01.5Z\"");
    v = vt(1700000000123456789LL);
    assert_str(ar, &v, "\"2023-11-14T22:13:20.123456789Z\"");

    /* maps: keys sorted, HTML-safe escapes, nested lists, bytes in base64, empty as null */
    struct ottl_value m, l, inner;
    ottl_map_new(ar, &m);
    struct ottl_value s = vs("x<y&z>"), one = vi(1), half = vd(0.5), bytes = vbytes("hi!", 3);
    struct ottl_value nl = vnil(), ctl = vs("a\nb\t\x01\xe2\x80\xa8");
    ottl_map_set(ar, &m, "zeta", 4, &one);
    ottl_map_set(ar, &m, "alpha", 5, &s);
    ottl_list_new(ar, &l);
    ottl_list_append(ar, &l, &half);
    ottl_list_append(ar, &l, &bytes);
    ottl_list_append(ar, &l, &nl);
    ottl_map_set(ar, &m, "list", 4, &l);
    ottl_map_new(ar, &inner);
    ottl_map_set(ar, &inner, "c", 1, &ctl);
    ottl_map_set(ar, &m, "inner", 5, &inner);
    assert_str(ar, &m,
               "{\"alpha\":\"x\\u003cy\\u0026z\\u003e\",\"inner\":{\"c\":\"a\\nb\\t\\u0001\\u2028\"},"
               "\"list\":[0.5,\"aGkh\",null],\"zeta\":1}");
    assert_str(ar, &l, "[0.5,\"aGkh\",null]");

    /* invalid UTF-8 becomes U+FFFD */
    struct ottl_value bad = vs("\xff"), lb;
    ottl_list_new(ar, &lb);
    ottl_list_append(ar, &lb, &bad);
    assert_str(ar, &lb, "[\"\\ufffd\"]");

    /* an empty map and list */
    struct ottl_value em, el;
    ottl_map_new(ar, &em);
    ottl_list_new(ar, &el);
    assert_str(ar, &em, "{}");
    assert_str(ar, &el, "[]");
    arena_free(ar);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(ottl_vtype_name(OTTL_V_NIL), "nil");
    assert_string_equal(ottl_vtype_name(OTTL_V_STRING), "string");
    assert_string_equal(ottl_vtype_name(OTTL_V_MAP), "map");
    assert_string_equal(ottl_vtype_name(OTTL_V_LIST), "slice");
    assert_string_equal(ottl_vtype_name(OTTL_V_DURATION), "duration");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_any),
        cmocka_unit_test(test_map_by_reference),
        cmocka_unit_test(test_map_delete_all_duplicates),
        cmocka_unit_test(test_store_into_itself),
        cmocka_unit_test(test_list_and_conversions),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_compare_maps_and_lists),
        cmocka_unit_test(test_to_string_numbers),
        cmocka_unit_test(test_to_string_others),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
