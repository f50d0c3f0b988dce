/* arena.c — chained blocks, each twice the size of the previous one; freeing is per arena. */
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static void *pb_alloc(void *data, size_t size) { return arena_alloc(data, size); }
static void pb_free(void *data, void *p) { (void)data; (void)p; }

static struct arena_block *block_new(size_t cap)
{
    struct arena_block *b = malloc(sizeof *b + cap);
    if (!b)
        return NULL;
    b->next = NULL;
    b->cap = cap;
    b->used = 0;
    return b;
}

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
    a->reserved = first_block;
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
        free(b);
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
            a->reserved += cap;
            return nb->data;
        }
        a->reserved += cap;
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
            free(b);
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
