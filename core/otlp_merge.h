/* otlp_merge.h — merging and splitting OTLP export requests at the wire level, without decoding.
 * An Export*ServiceRequest is a sequence of top-level field-1 entries (resource_spans,
 * resource_metrics, resource_logs); protobuf concatenates repeated fields, so the bytes of several
 * requests laid end to end are one valid request holding all their entries, in order. Splitting
 * walks those entries and cuts between them; only a single resource entry that alone exceeds the
 * limit is decoded, cut by scope and item, and re-encoded.
 *
 * All functions are reentrant and keep no state; buffers belong to the caller. */
#ifndef LLMOTLP_OTLP_MERGE_H
#define LLMOTLP_OTLP_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/otlp.h"

/* One top-level field of an encoded request. */
struct otlp_entry {
    const uint8_t *data;     /* whole field: key, length, body */
    size_t len;
    const uint8_t *body;     /* the embedded Resource* message when `resource` */
    size_t body_len;
    bool resource;           /* field 1, length-delimited; false for an unknown top-level field */
};

struct otlp_walker {
    const uint8_t *p, *end;
};

void otlp_walk_init(struct otlp_walker *w, const uint8_t *data, size_t len);
/* Next top-level field: 1 with *e filled, 0 at the end, -1 with err on malformed wire data
 * (truncated key or length, group wire types). Checks framing only; otlp_scan validates content. */
int otlp_walk_next(struct otlp_walker *w, struct otlp_entry *e, struct error *err);

/* A growable request under construction: append whole requests or entries. */
struct otlp_buf {
    uint8_t *data;           /* malloc'd, or arena_buf_alloc'd when pooled; NULL while empty */
    size_t len, cap;
    uint64_t items;
    bool pooled;             /* set by the owner while empty; kept across release and free */
};
/* Frees bytes given away by otlp_buf_release of a buffer with that `pooled`. */
void otlp_buf_data_free(uint8_t *data, bool pooled);
/* Makes room for `more` bytes beyond len in one step (no growth by doubling when the caller knows
 * what is coming). 0, or -1 on out of memory (buf unchanged). */
int otlp_buf_reserve(struct otlp_buf *b, size_t more);
/* 0, or -1 on out of memory (buf unchanged). */
int otlp_buf_append(struct otlp_buf *b, const uint8_t *data, size_t len, uint64_t items);
/* Gives the bytes away (caller frees data with otlp_buf_data_free) and leaves b empty. */
void otlp_buf_release(struct otlp_buf *b, uint8_t **data, size_t *len, uint64_t *items);
void otlp_buf_free(struct otlp_buf *b);

/* One output request of otlp_split. data is malloc'd (NULL when len is 0). */
struct otlp_chunk {
    uint8_t *data;
    size_t len;
    uint64_t items;
};

/* Cuts a valid encoded request of signal s into requests of at most max_items items (> 0) each,
 * keeping item order: whole entries are packed greedily; an entry larger than max_items is decoded
 * and cut into entries that repeat its resource and scopes, the first filling what room the
 * current chunk has left. Entries without items travel with their neighbours. On success *chunks
 * (malloc'd array, free with otlp_chunks_free) holds *n_chunks >= 1 chunks, unless the input is
 * empty (then 0 chunks). 0, or -1 with err on malformed input or out of memory. */
int otlp_split(enum signal s, const uint8_t *data, size_t len, uint64_t max_items,
               struct otlp_chunk **chunks, size_t *n_chunks, struct error *err);
void otlp_chunks_free(struct otlp_chunk *chunks, size_t n);

#endif
