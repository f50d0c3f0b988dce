/* batch.h — the unit that flows through a pipeline: one OTLP export request of one signal.
 * A batch has two faces, encoded (wire bytes) and decoded (protobuf-c structs in the batch's
 * arena); each is made lazily from the other and cached. Exporters ask for the encoded face, so
 * a batch that no processor edited is forwarded as the bytes that arrived, never re-encoded.
 *
 * Ownership: reference counted. consume() borrows the batch; whoever keeps it past the call
 * (a queue, a buffering processor) takes batch_ref() and later batch_unref(). A batch seen by more
 * than one holder is read-only: batch_edit() on a shared batch returns a private copy.
 * Thread-safety: ref/unref are atomic; the faces are built under the batch's lock, so several
 * exporters may ask for them concurrently. Editing is for a sole owner.
 *
 * Traces and logs also have a span index (core/wire_index.h) over the encoded face: built once,
 * shared by every processor and connector that reads the batch, and edited in place by a sole
 * owner. While the index holds edits, the encoded face is the index applied (one copy, made when
 * an exporter asks) and the decoded face is decoded from that. */
#ifndef LLMOTLP_BATCH_H
#define LLMOTLP_BATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/otlp.h"
#include "core/wire_index.h"

struct batch {
    enum signal signal;
    atomic_int refs;
    pthread_mutex_t lock;
    struct arena *arena;       /* owns the decoded face */
    uint8_t *wire;             /* encoded face (malloc'd, or arena_buf_alloc'd when wire_pooled) */
    bool wire_pooled;
    size_t wire_len;
    bool has_wire;
    ProtobufCMessage *msg;     /* decoded face, in arena */
    struct wire_index *index;  /* over wire (or over applied bytes of an earlier index), in arena */
    const uint8_t *applied;    /* encoded face when the index holds edits (arena); NULL: not made */
    size_t applied_len;
    uint64_t items;            /* spans / data points / log records */
    /* Items a processor dropped on purpose, reported to the sender as OTLP partial success. */
    atomic_uint_fast64_t rejected;
    char reject_msg[256];
};

/* Takes a validated copy of wire bytes (otlp_scan). NULL with err on invalid input or OOM;
 * err->code is 1 for invalid input, 2 for out of memory. */
struct batch *batch_from_wire(enum signal s, const uint8_t *data, size_t len, struct error *err);
/* Takes ownership of a malloc'd buffer already validated by the caller; items as counted. */
struct batch *batch_adopt_wire(enum signal s, uint8_t *data, size_t len, uint64_t items);
/* The same for a buffer from arena_buf_alloc (freed back to the block pool). */
struct batch *batch_adopt_pooled_wire(enum signal s, uint8_t *data, size_t len, uint64_t items);
/* Wraps a decoded request allocated in `arena` (ownership of both passes to the batch). */
struct batch *batch_from_msg(enum signal s, struct arena *arena, ProtobufCMessage *msg);

struct batch *batch_ref(struct batch *b);
void batch_unref(struct batch *b);

/* Decoded face, read-only; NULL with err if decoding fails. Valid while the caller holds a ref. */
const ProtobufCMessage *batch_decoded(struct batch *b, struct error *err);
/* Decoded face for editing: drops the encoded face. If the batch is shared (refs > 1) returns
 * a new private batch in *out (the caller then owns one ref of it and keeps its ref of b);
 * otherwise *out = b. Call batch_edit_done() after editing to recount items. */
ProtobufCMessage *batch_edit(struct batch *b, struct batch **out, struct error *err);
void batch_edit_done(struct batch *b);
/* After sending `copy` (what batch_edit put in *out) downstream: when it is a private copy of b,
 * the items rejected downstream on it are recorded on b (the sender sees partial success through
 * its own batch) and the copy's ref is dropped; when copy == b, nothing. Thread-safe. */
void batch_edit_release(struct batch *b, struct batch *copy);
/* Encoded face; 0 on success. The bytes stay valid while the caller holds a ref. */
int batch_encoded(struct batch *b, const uint8_t **data, size_t *len, struct error *err);

/* The span index of a traces or logs batch, read-only, built on first use over the encoded face
 * (encoding the decoded face first when it is the truth). `interest` is the service's
 * (component_env.interest; NULL: every attribute); an index built for another interest is
 * rebuilt for every attribute over the encoded face (edits included), and later edits belong to
 * that newest index: so a component never keeps an index past its consume() call, nor edits one
 * after passing the batch downstream. NULL with err on other signals, malformed bytes or OOM. Valid
 * while the caller holds a ref. */
const struct wire_index *batch_index(struct batch *b, const struct wire_interest *interest,
                                     struct error *err);
/* The span index for editing. If the batch is shared, a private copy is made and returned in
 * *out, as batch_edit() does (release it with batch_edit_release()); otherwise *out = b. The
 * decoded face, if any, is dropped: the index is the truth until the next batch_edit(). Call
 * batch_index_edit_done() after editing. */
struct wire_index *batch_index_edit(struct batch *b, const struct wire_interest *interest,
                                    struct batch **out, struct error *err);
/* Recounts items after index edits (drops). */
void batch_index_edit_done(struct batch *b);

/* Records that `n` items were dropped on purpose (for partial success). Thread-safe. */
void batch_reject(struct batch *b, uint64_t n, const char *why);

#endif
