/* arena.h — bump allocator behind every batch: many small allocations, one free.
 * protobuf-c unpacks a request into it through arena_allocator(), so a decoded request of
 * thousands of spans costs a handful of malloc calls and is released by one arena_free().
 * An arena is owned by one batch and used by one thread at a time; it is not thread-safe.
 *
 * Blocks above 64 KiB up to 16 MiB are recycled through a process-wide pool (the arena_pool_* calls,
 * which are thread-safe): arena_free()/arena_reset() return them, arena_new()/arena_alloc() take
 * them back, so steady traffic does not map, fault in and unmap fresh pages for every request.
 * Such blocks are rounded up to one of four sizes per power of two (arena_reserved() shows it).
 * The pool is bounded in bytes and in blocks per size; a block that does not fit is freed. */
#ifndef LLMOTLP_ARENA_H
#define LLMOTLP_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

struct arena;

/* first_block: size of the first block in bytes (0 = default 4 KiB). NULL on out of memory. */
struct arena *arena_new(size_t first_block);
void arena_free(struct arena *a);
/* 16-byte aligned memory valid until arena_free/arena_reset; NULL on out of memory. Blocks grow
 * geometrically; a request larger than the next block gets a block of its own. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_memdup(struct arena *a, const void *p, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Frees every block but the first and rewinds it: the arena is ready for reuse. */
void arena_reset(struct arena *a);
/* Bytes handed out (after alignment) and bytes reserved from malloc. */
size_t arena_used(const struct arena *a);
size_t arena_reserved(const struct arena *a);
/* A buffer of at least n bytes from the same block pool, for the large short-lived buffers that
 * are not arenas (a batch's merged request, a released trace group): one freed is handed to the
 * next of its size class instead of going back to malloc, which unmapped it and made the next
 * request fault its pages in again. Free with arena_buf_free only (NULL is fine); NULL on out of
 * memory. Thread-safe. */
void *arena_buf_alloc(size_t n);
void arena_buf_free(void *p);
/* Limits of the block pool. Defaults: ARENA_POOL_DEFAULT_BYTES, ARENA_POOL_DEFAULT_PER_CLASS.
 * Lowering them frees cached blocks at once; 0 bytes turns recycling off. Thread-safe. */
#define ARENA_POOL_DEFAULT_BYTES ((size_t)32 << 20)
#define ARENA_POOL_DEFAULT_PER_CLASS 8
void arena_pool_configure(size_t max_bytes, size_t max_per_class);
/* Frees every cached block (the limits stay). Thread-safe. */
void arena_pool_trim(void);
struct arena_pool_stats {
    size_t cached_bytes, cached_blocks;
    unsigned long long hits, misses; /* pooled-size blocks taken from the pool / from malloc */
};
void arena_pool_stats(struct arena_pool_stats *st);
/* A protobuf-c allocator whose free is a no-op; valid for the arena's lifetime. */
ProtobufCAllocator *arena_allocator(struct arena *a);

#endif
