/* test_attr.c — the shared reading of attribute values (core/attr.h): what counts as a number,
 * a token count and a string, so the cost processor and the llm_metrics connector agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/attr.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue any_value;

static any_value v_int(int64_t i)
{
    any_value v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    v.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    v.int_value = i;
    return v;
}

static any_value v_double(double d)
{
    any_value v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    v.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
    v.double_value = d;
    return v;
}

static any_value v_str(char *s)
{
    any_value v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    v.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    v.string_value = s;
    return v;
}

static void test_number(void **state)
{
    (void)state;
    double d = 0;
    any_value v = v_int(-3);
    assert_true(attr_number(&v, &d));
    assert_true(d == -3);
    v = v_double(0.25);
    assert_true(attr_number(&v, &d));
    assert_true(d == 0.25);
    v = v_str("1.5");
    assert_true(attr_number(&v, &d));
    assert_true(d == 1.5);
    v = v_str("42 ");
    assert_true(attr_number(&v, &d));
    assert_true(d == 42);
    char *bad[] = {"", "abc", "1.5x", " ", "inf", "nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = v_str(bad[i]);
        assert_false(attr_number(&v, &d));
    }
    v = v_double(1.0 / 0.0);
    assert_false(attr_number(&v, &d));
    assert_false(attr_number(NULL, &d));
}

static void test_count(void **state)
{
    (void)state;
    int64_t n = -1;
    any_value v = v_int(120);
    assert_true(attr_count(&v, &n));
    assert_int_equal(n, 120);
    v = v_double(300.0);
    assert_true(attr_count(&v, &n));
    assert_int_equal(n, 300);
    v = v_str("77");
    assert_true(attr_count(&v, &n));
    assert_int_equal(n, 77);
    v = v_int(0);
    assert_true(attr_count(&v, &n));
    assert_int_equal(n, 0);
    /* not counts: negative, fractional, too large, not a number */
    any_value bad[] = {v_int(-1), v_double(12.5), v_double(-4.0), v_double(1e16), v_str("3.2"),
                       v_str("many")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(attr_count(&bad[i], &n));
}

static void test_str_and_find(void **state)
{
    (void)state;
    any_value a = v_str("openai"), b = v_str(""), c = v_int(1);
    assert_string_equal(attr_str(&a), "openai");
    assert_null(attr_str(&b));
    assert_null(attr_str(&c));
    assert_null(attr_str(NULL));
    Opentelemetry__Proto__Common__V1__KeyValue k1 = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    Opentelemetry__Proto__Common__V1__KeyValue k2 = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    k1.key = "gen_ai.provider.name";
    k1.value = &a;
    k2.key = "gen_ai.usage.input_tokens";
    k2.value = &c;
    Opentelemetry__Proto__Common__V1__KeyValue *kvs[] = {&k1, NULL, &k2};
    assert_ptr_equal(attr_find(kvs, 3, "gen_ai.usage.input_tokens"), &c);
    assert_ptr_equal(attr_find(kvs, 3, "gen_ai.provider.name"), &a);
    assert_null(attr_find(kvs, 3, "gen_ai.request.model"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_str_and_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
