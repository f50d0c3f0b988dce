/* arena.h — bump allocator behind every batch: many small allocations, one free.
 * protobuf-c unpacks a request into it through arena_allocator(), so a decoded request of
 * thousands of spans costs a handful of malloc calls and is released by one arena_free().
 * An arena is owned by one batch and used by one thread at a time; it is not thread-safe. */
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
/* A protobuf-c allocator whose free is a no-op; valid for the arena's lifetime. */
ProtobufCAllocator *arena_allocator(struct arena *a);

#endif
