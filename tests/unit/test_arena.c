/* test_arena.c — the bump allocator: alignment, growth, oversized blocks, reset, protobuf-c
 * unpacking through it, and the pool that recycles large blocks between arenas (and threads). */
#include <pthread.h>
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

/* A freed arena's large first block is what the next arena of that size gets: same address, no
 * new malloc, and the pool's counters say so. */
static void test_pool_reuses_large_blocks(void **state)
{
    (void)state;
    arena_pool_trim();
    struct arena_pool_stats s0, s1;
    arena_pool_stats(&s0);
    assert_int_equal(s0.cached_bytes, 0);
    struct arena *a = arena_new(300000);
    assert_non_null(a);
    assert_true(arena_reserved(a) >= 300000);
    /* rounded up to a class: at most a quarter more */
    assert_true(arena_reserved(a) <= 300000 + 300000 / 4 + 64);
    char *p = arena_alloc(a, 299000);
    assert_non_null(p);
    memset(p, 7, 299000);
    arena_free(a);
    arena_pool_stats(&s1);
    assert_int_equal(s1.cached_blocks, 1);
    assert_true(s1.cached_bytes >= 300000);

    struct arena *b = arena_new(290000); /* same class */
    char *q = arena_alloc(b, 16);
    assert_ptr_equal(q, p);
    arena_pool_stats(&s1);
    assert_int_equal(s1.hits, s0.hits + 1);
    assert_int_equal(s1.cached_blocks, 0);
    arena_free(b);
    arena_pool_trim();
}

/* A pooled buffer (a batch's merged request, a released trace group) freed is the next one of its
 * size class, and one the size of a small block is plain malloc, never cached. */
static void test_pool_buffers(void **state)
{
    (void)state;
    arena_pool_trim();
    struct arena_pool_stats s0, s1;
    arena_pool_stats(&s0);
    uint8_t *p = arena_buf_alloc(1u << 20);
    assert_non_null(p);
    memset(p, 1, 1u << 20);
    arena_buf_free(p);
    arena_pool_stats(&s1);
    assert_int_equal(s1.cached_blocks, 1);
    uint8_t *q = arena_buf_alloc((1u << 20) - 8); /* same size class */
    assert_ptr_equal(q, p);
    arena_pool_stats(&s1);
    assert_int_equal(s1.hits, s0.hits + 1);
    arena_buf_free(q);
    uint8_t *small = arena_buf_alloc(100);
    assert_non_null(small);
    arena_buf_free(small);
    arena_buf_free(NULL);
    arena_pool_stats(&s1);
    assert_int_equal(s1.cached_blocks, 1);
    arena_pool_trim();
}

/* Small blocks never enter the pool; blocks over its byte bound or count bound are freed. */
static void test_pool_bounds(void **state)
{
    (void)state;
    arena_pool_trim();
    struct arena_pool_stats st;
    struct arena *small = arena_new(4096);
    arena_free(small);
    arena_pool_stats(&st);
    assert_int_equal(st.cached_blocks, 0);

    struct arena *huge = arena_new((size_t)20 << 20); /* above the largest class */
    assert_non_null(arena_alloc(huge, 100));
    arena_free(huge);
    arena_pool_stats(&st);
    assert_int_equal(st.cached_blocks, 0);

    arena_pool_configure((size_t)1 << 20, 2); /* 1 MiB, two per class */
    struct arena *as[4];
    for (int i = 0; i < 4; i++)
        assert_non_null(as[i] = arena_new(100000));
    for (int i = 0; i < 4; i++)
        arena_free(as[i]);
    arena_pool_stats(&st);
    assert_int_equal(st.cached_blocks, 2);
    for (int i = 0; i < 4; i++)
        assert_non_null(as[i] = arena_new(400000));
    for (int i = 0; i < 4; i++)
        arena_free(as[i]);
    arena_pool_stats(&st);
    assert_true(st.cached_bytes <= (size_t)1 << 20);
    assert_true(st.cached_blocks <= 3);
    arena_pool_configure(0, 16); /* turned off: everything cached is freed */
    arena_pool_stats(&st);
    assert_int_equal(st.cached_bytes, 0);
    struct arena *x = arena_new(100000);
    arena_free(x);
    arena_pool_stats(&st);
    assert_int_equal(st.cached_blocks, 0);
    arena_pool_configure(ARENA_POOL_DEFAULT_BYTES, ARENA_POOL_DEFAULT_PER_CLASS);
}

/* arena_reset returns the grown blocks to the pool; the next growth of any arena takes them. */
static void test_pool_reset_returns_blocks(void **state)
{
    (void)state;
    arena_pool_trim();
    struct arena *a = arena_new(70000);
    for (int i = 0; i < 4; i++)
        assert_non_null(arena_alloc(a, 60000)); /* grows into blocks of 140000 and 280000 */
    size_t first = arena_reserved(a);
    struct arena_pool_stats st;
    arena_reset(a);
    arena_pool_stats(&st);
    assert_int_equal(st.cached_blocks, 2);
    assert_int_equal(arena_used(a), 0);
    assert_true(arena_reserved(a) >= 70000);
    assert_true(st.cached_bytes + arena_reserved(a) >= first);
    arena_free(a);
    arena_pool_stats(&st);
    assert_int_equal(st.cached_blocks, 3);
    arena_pool_trim();
}

/* Arenas made on some threads and freed on others (as batches are: a receiver decodes, an
 * exporter releases) keep every block intact: each thread fills its blocks with its own byte
 * and checks them before freeing; ASan/TSan builds check the pool's locking. */
struct churn_arg {
    struct arena **slots;
    int id;
};
#define CHURN_SLOTS 8
#define CHURN_ROUNDS 400
static pthread_mutex_t churn_lock = PTHREAD_MUTEX_INITIALIZER;

static void *churn(void *argp)
{
    struct churn_arg *arg = argp;
    int bad = 0;
    for (int r = 0; r < CHURN_ROUNDS; r++) {
        size_t n = 70000 + (size_t)((r * 7919 + arg->id * 104729) % 500000);
        struct arena *a = arena_new(n);
        unsigned char *p = a ? arena_alloc(a, n) : NULL;
        if (!p)
            return (void *)1;
        memset(p, (unsigned char)(r & 0xff), n);
        for (size_t i = 0; i < n; i += 4096)
            bad |= p[i] != (unsigned char)(r & 0xff);
        bad |= p[n - 1] != (unsigned char)(r & 0xff);
        pthread_mutex_lock(&churn_lock);
        struct arena *old = arg->slots[r % CHURN_SLOTS];
        arg->slots[r % CHURN_SLOTS] = a; /* freed later, maybe by another thread */
        pthread_mutex_unlock(&churn_lock);
        arena_free(old);
    }
    return (void *)(intptr_t)bad;
}

static void test_pool_threads(void **state)
{
    (void)state;
    struct arena *slots[CHURN_SLOTS] = {0};
    pthread_t t[4];
    struct churn_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct churn_arg){slots, i};
        assert_int_equal(pthread_create(&t[i], NULL, churn, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        assert_null(rv);
    }
    for (int i = 0; i < CHURN_SLOTS; i++)
        arena_free(slots[i]);
    struct arena_pool_stats st;
    arena_pool_stats(&st);
    assert_true(st.hits > 0);
    assert_true(st.cached_bytes <= ARENA_POOL_DEFAULT_BYTES);
    arena_pool_trim();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_growth),
        cmocka_unit_test(test_oversized_then_small),
        cmocka_unit_test(test_reset_reuses_first_block),
        cmocka_unit_test(test_strdup_memdup),
        cmocka_unit_test(test_protobuf_unpack_in_arena),
        cmocka_unit_test(test_pool_reuses_large_blocks),
        cmocka_unit_test(test_pool_bounds),
        cmocka_unit_test(test_pool_buffers),
        cmocka_unit_test(test_pool_reset_returns_blocks),
        cmocka_unit_test(test_pool_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
