/* test_arena.c — the bump allocator: alignment, growth, oversized blocks, reset, and protobuf-c
 * unpacking through it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/arena.h"
#include "opentelemetry/proto/common/v1/common.pb-c.h"

static void test_alignment_and_growth(void **state)
{
    (void)state;
    struct arena *a = arena_new(64);
    assert_non_null(a);
    char *prev = NULL;
    for (int i = 1; i < 500; i++) {
        char *p = arena_alloc(a, (size_t)i);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xab, (size_t)i); /* ASan flags any overlap or overflow */
        assert_ptr_not_equal(p, prev);
        prev = p;
    }
    assert_true(arena_used(a) >= 500 * 499 / 2);
    assert_true(arena_reserved(a) >= arena_used(a));
    arena_free(a);
}

static void test_oversized_then_small(void **state)
{
    (void)state;
    struct arena *a = arena_new(1024);
    char *small1 = arena_alloc(a, 16);
    char *big = arena_alloc(a, 1 << 20);
    char *small2 = arena_alloc(a, 16);
    assert_non_null(big);
    memset(big, 1, 1 << 20);
    /* The one-off block does not waste the head block: the next small allocation follows the first. */
    assert_ptr_equal(small2, small1 + 16);
    arena_free(a);
}

static void test_reset_reuses_first_block(void **state)
{
    (void)state;
    struct arena *a = arena_new(256);
    char *first = arena_alloc(a, 32);
    for (int i = 0; i < 100; i++)
        assert_non_null(arena_alloc(a, 100));
    arena_reset(a);
    assert_int_equal(arena_used(a), 0);
    assert_int_equal(arena_reserved(a), 256);
    assert_ptr_equal(arena_alloc(a, 32), first);
    arena_free(a);
}

static void test_strdup_memdup(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    char *s = arena_strdup(a, "gen_ai.request.model");
    assert_string_equal(s, "gen_ai.request.model");
    uint8_t raw[3] = {1, 2, 3};
    uint8_t *m = arena_memdup(a, raw, sizeof raw);
    assert_memory_equal(m, raw, 3);
    arena_free(a);
}

static void test_protobuf_unpack_in_arena(void **state)
{
    (void)state;
    Opentelemetry__Proto__Common__V1__KeyValue kv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    Opentelemetry__Proto__Common__V1__AnyValue v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    kv.key = "gen_ai.usage.input_tokens";
    v.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    v.int_value = 1234;
    kv.value = &v;
    uint8_t buf[128];
    size_t n = opentelemetry__proto__common__v1__key_value__pack(&kv, buf);
    struct arena *a = arena_new(0);
    Opentelemetry__Proto__Common__V1__KeyValue *out =
        opentelemetry__proto__common__v1__key_value__unpack(arena_allocator(a), n, buf);
    assert_non_null(out);
    assert_string_equal(out->key, "gen_ai.usage.input_tokens");
    assert_int_equal(out->value->int_value, 1234);
    assert_true(arena_used(a) > 0);
    arena_free(a); /* one free for the whole tree; LeakSanitizer checks nothing else is owed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_growth),
        cmocka_unit_test(test_oversized_then_small),
        cmocka_unit_test(test_reset_reuses_first_block),
        cmocka_unit_test(test_strdup_memdup),
        cmocka_unit_test(test_protobuf_unpack_in_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
