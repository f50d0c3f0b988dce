/* arena.c — chained blocks, each twice the size of the previous one; freeing is per arena.
 * Large blocks are recycled: a process relays requests of similar sizes over and over, and a block
 * of a few hundred KiB or more that went back to malloc would be unmapped (or trimmed) and come
 * back as fresh pages that the kernel must fault in again, page by page, for every request. The
 * one idea: such blocks are rounded up to a few size classes (four per power of two, so at most
 * 25% is wasted) and a freed one waits in a small, bounded, mutex-guarded stack per class for the
 * next arena of that class, so steady traffic reuses pages that are already mapped and warm. */
#include "core/arena.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
/* A cached block is poisoned, so a use after arena_free() still trips ASan. */
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_ALIGN 16
#define ARENA_DEFAULT_BLOCK 4096

struct arena_block {
    struct arena_block *next;
    size_t cap, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
    struct arena_block *head;  /* current block (most recent) */
    struct arena_block *first; /* kept on reset */
    size_t next_size, used, reserved;
    ProtobufCAllocator pb;
};

/* ---- block pool ------------------------------------------------------------------------------ */

/* Classes cover whole allocations (header included) above 2^POOL_MIN_SHIFT up to 2^POOL_MAX_SHIFT. */
#define POOL_MIN_SHIFT 16 /* 64 KiB and less: malloc's heap serves them and reuses its pages */
#define POOL_MAX_SHIFT 24 /* 16 MiB: larger blocks are rare and really freed */
#define POOL_CLASSES ((POOL_MAX_SHIFT - POOL_MIN_SHIFT) * 4 + 1)

static struct {
    pthread_mutex_t lock;
    struct arena_block *stack[POOL_CLASSES];
    size_t count[POOL_CLASSES];
    size_t bytes, max_bytes, max_per_class;
    unsigned long long hits, misses;
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .max_bytes = ARENA_POOL_DEFAULT_BYTES,
    .max_per_class = ARENA_POOL_DEFAULT_PER_CLASS,
};

static struct arena_block *pool_pop_locked(int c);

static unsigned msb(size_t v) { return (unsigned)(sizeof(size_t) * 8 - 1) - (unsigned)__builtin_clzl(v); }

/* The class of an allocation of `total` bytes and, in *size, the class's size; -1 when the
 * allocation is outside the pooled range. */
static int size_class(size_t total, size_t *size)
{
    if (total <= ((size_t)1 << POOL_MIN_SHIFT) || total > ((size_t)1 << POOL_MAX_SHIFT))
        return -1;
    unsigned k = msb(total);
    size_t step = (size_t)1 << (k - 2);
    size_t r = (total + step - 1) & ~(step - 1);
    k = msb(r);
    *size = r;
    return (int)((k - POOL_MIN_SHIFT) * 4 + (unsigned)(r >> (k - 2)) - 4);
}

static struct arena_block *block_new(size_t cap)
{
    if (cap > SIZE_MAX - sizeof(struct arena_block))
        return NULL;
    size_t total = sizeof(struct arena_block) + cap, csize;
    int c = size_class(total, &csize);
    struct arena_block *b = NULL;
    if (c >= 0) {
        total = csize;
        pthread_mutex_lock(&pool.lock);
        if (pool.stack[c]) {
            b = pool_pop_locked(c);
            pool.hits++;
        } else {
            pool.misses++;
        }
        pthread_mutex_unlock(&pool.lock);
    }
    if (!b && !(b = malloc(total)))
        return NULL;
    b->next = NULL;
    b->cap = total - sizeof(struct arena_block);
    b->used = 0;
    return b;
}

/* Back to its class's stack when there is room, else to malloc. */
static void block_free(struct arena_block *b)
{
    size_t total = sizeof(struct arena_block) + b->cap, csize;
    int c = size_class(total, &csize);
    if (c >= 0 && csize == total) {
        pthread_mutex_lock(&pool.lock);
        if (pool.count[c] < pool.max_per_class && pool.bytes + total <= pool.max_bytes) {
            b->next = pool.stack[c];
            pool.stack[c] = b;
            pool.count[c]++;
            pool.bytes += total;
            /* The header stays readable: LeakSanitizer does not follow pointers in poisoned
             * memory, so a poisoned `next` made every pooled block below the top one a leak. */
            POISON((char *)b + sizeof *b, total - sizeof *b);
            b = NULL;
        }
        pthread_mutex_unlock(&pool.lock);
    }
    free(b);
}

void *arena_buf_alloc(size_t n)
{
    struct arena_block *b = block_new(n ? n : 1);
    return b ? b->data : NULL;
}

void arena_buf_free(void *p)
{
    if (p)
        block_free((struct arena_block *)((unsigned char *)p - offsetof(struct arena_block, data)));
}

/* Takes the top block of class c's stack (non-empty), unpoisoned. Caller holds pool.lock. */
static struct arena_block *pool_pop_locked(int c)
{
    struct arena_block *b = pool.stack[c];
    UNPOISON(b, sizeof *b);
    size_t total = sizeof *b + b->cap;
    UNPOISON(b, total);
    pool.stack[c] = b->next;
    pool.count[c]--;
    pool.bytes -= total;
    return b;
}

void arena_pool_configure(size_t max_bytes, size_t max_per_class)
{
    pthread_mutex_lock(&pool.lock);
    pool.max_bytes = max_bytes;
    pool.max_per_class = max_per_class;
    for (int c = POOL_CLASSES - 1; c >= 0; c--)
        while (pool.count[c] > max_per_class || (pool.stack[c] && pool.bytes > max_bytes))
            free(pool_pop_locked(c));
    pthread_mutex_unlock(&pool.lock);
}

void arena_pool_trim(void)
{
    pthread_mutex_lock(&pool.lock);
    for (int c = 0; c < POOL_CLASSES; c++)
        while (pool.stack[c])
            free(pool_pop_locked(c));
    pthread_mutex_unlock(&pool.lock);
}

void arena_pool_stats(struct arena_pool_stats *st)
{
    pthread_mutex_lock(&pool.lock);
    st->cached_bytes = pool.bytes;
    st->cached_blocks = 0;
    for (int c = 0; c < POOL_CLASSES; c++)
        st->cached_blocks += pool.count[c];
    st->hits = pool.hits;
    st->misses = pool.misses;
    pthread_mutex_unlock(&pool.lock);
}

/* ---- arena ----------------------------------------------------------------------------------- */

static void *pb_alloc(void *data, size_t size) { return arena_alloc(data, size); }
static void pb_free(void *data, void *p) { (void)data; (void)p; }

struct arena *arena_new(size_t first_block)
{
    struct arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (first_block == 0)
        first_block = ARENA_DEFAULT_BLOCK;
    a->first = a->head = block_new(first_block);
    if (!a->head) {
        free(a);
        return NULL;
    }
    a->reserved = a->first->cap;
    a->next_size = first_block * 2;
    a->pb.alloc = pb_alloc;
    a->pb.free = pb_free;
    a->pb.allocator_data = a;
    return a;
}

void arena_free(struct arena *a)
{
    if (!a)
        return;
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *n = b->next;
        block_free(b);
        b = n;
    }
    free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    if (n > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (n == 0)
        n = ARENA_ALIGN;
    struct arena_block *b = a->head;
    if (b->cap - b->used < n) {
        size_t cap = a->next_size;
        if (cap < n)
            cap = n;
        struct arena_block *nb = block_new(cap);
        if (!nb)
            return NULL;
        if (cap == a->next_size && a->next_size < ((size_t)1 << 30))
            a->next_size *= 2;
        if (cap != n || b->cap - b->used < ARENA_ALIGN * 4) {
            nb->next = b;
            a->head = nb;
            b = nb;
        } else {
            /* An oversized one-off block goes behind the head so the head keeps its free space. */
            nb->next = b->next;
            b->next = nb;
            nb->used = n;
            a->used += n;
            a->reserved += nb->cap;
            return nb->data;
        }
        a->reserved += nb->cap;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used += n;
    return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
    void *q = arena_alloc(a, n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_memdup(a, s, strlen(s) + 1);
}

void arena_reset(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *n = b->next;
        if (b != a->first)
            block_free(b);
        b = n;
    }
    a->head = a->first;
    a->first->next = NULL;
    a->first->used = 0;
    a->used = 0;
    a->reserved = a->first->cap;
    a->next_size = a->first->cap * 2;
}

size_t arena_used(const struct arena *a) { return a->used; }
size_t arena_reserved(const struct arena *a) { return a->reserved; }
ProtobufCAllocator *arena_allocator(struct arena *a) { return &a->pb; }
