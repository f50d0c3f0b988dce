/* batch.c — one export request with a lazily built, cached encoded face and decoded face.
 * The face that arrived is the truth until someone edits: then the decoded face is the truth and
 * the encoded one is rebuilt on demand. A lock guards building a face, so exporters that share a
 * batch on different threads build it once. */
#include "core/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct batch *batch_alloc(enum signal s)
{
    struct batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->signal = s;
    atomic_init(&b->refs, 1);
    atomic_init(&b->rejected, 0);
    pthread_mutex_init(&b->lock, NULL);
    return b;
}

static void wire_free(uint8_t *wire, bool pooled)
{
    if (pooled)
        arena_buf_free(wire);
    else
        free(wire);
}

static struct batch *adopt(enum signal s, uint8_t *data, size_t len, uint64_t items, bool pooled)
{
    struct batch *b = batch_alloc(s);
    if (!b) {
        wire_free(data, pooled);
        return NULL;
    }
    b->wire = data;
    b->wire_pooled = pooled;
    b->wire_len = len;
    b->has_wire = true;
    b->items = items;
    return b;
}

struct batch *batch_adopt_wire(enum signal s, uint8_t *data, size_t len, uint64_t items)
{
    return adopt(s, data, len, items, false);
}

struct batch *batch_adopt_pooled_wire(enum signal s, uint8_t *data, size_t len, uint64_t items)
{
    return adopt(s, data, len, items, true);
}

struct batch *batch_from_wire(enum signal s, const uint8_t *data, size_t len, struct error *err)
{
    struct otlp_scan_result r;
    if (otlp_scan(s, data, len, &r, err) != 0) {
        if (err)
            err->code = 1;
        return NULL;
    }
    uint8_t *copy = NULL;
    if (r.bad_strings) {
        if (otlp_repair_strings(s, data, len, &copy, &len, NULL, err) != 0) {
            if (err)
                err->code = 2;
            return NULL;
        }
    } else {
        copy = malloc(len ? len : 1);
        if (!copy) {
            error_set(err, "out of memory copying a %zu-byte request", len);
            if (err)
                err->code = 2;
            return NULL;
        }
        if (len)
            memcpy(copy, data, len);
    }
    struct batch *b = batch_adopt_wire(s, copy, len, r.items);
    if (!b) {
        error_set(err, "out of memory");
        if (err)
            err->code = 2;
    }
    return b;
}

struct batch *batch_from_msg(enum signal s, struct arena *arena, ProtobufCMessage *msg)
{
    struct batch *b = batch_alloc(s);
    if (!b)
        return NULL;
    b->arena = arena;
    b->msg = msg;
    b->items = otlp_count_items(s, msg);
    return b;
}

struct batch *batch_ref(struct batch *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void batch_unref(struct batch *b)
{
    if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    wire_free(b->wire, b->wire_pooled);
    arena_free(b->arena);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* Caller holds b->lock. The arena serves the decoded face, the index and applied bytes. */
static int arena_locked(struct batch *b, size_t first, struct error *err)
{
    if (b->arena)
        return 0;
    if (first > (64u << 20))
        first = 64u << 20;
    b->arena = arena_new(first);
    return b->arena ? 0 : error_set(err, "out of memory for a %zu-byte request", b->wire_len);
}

/* Caller holds b->lock. The encoded face: the index applied while it holds edits. */
static int encoded_locked(struct batch *b, const uint8_t **data, size_t *len, struct error *err)
{
    if (b->index && b->index->dirty) {
        if (!b->applied) {
            size_t n = wi_apply_size(b->index);
            uint8_t *buf = arena_alloc(b->arena, n ? n : 1);
            if (!buf)
                return error_set(err, "out of memory encoding %zu bytes", n);
            b->applied_len = wi_apply(b->index, buf);
            b->applied = buf;
        }
        *data = b->applied;
        *len = b->applied_len;
        return 0;
    }
    if (b->index) {
        /* The bytes the index was built on: b->wire, or the applied bytes of an earlier index
         * when it was rebuilt for another interest (those hold the earlier index's edits). */
        *data = b->index->wire;
        *len = b->index->wire_len;
        return 0;
    }
    if (!b->has_wire) {
        if (!b->msg)
            return error_set(err, "batch has neither face");
        size_t n = protobuf_c_message_get_packed_size(b->msg);
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf)
            return error_set(err, "out of memory encoding %zu bytes", n);
        protobuf_c_message_pack(b->msg, buf);
        b->wire = buf;
        b->wire_len = n;
        b->has_wire = true;
    }
    *data = b->wire;
    *len = b->wire_len;
    return 0;
}

/* Caller holds b->lock. */
static int decode_locked(struct batch *b, struct error *err)
{
    if (b->msg)
        return 0;
    const uint8_t *data;
    size_t len;
    if (!b->has_wire)
        return error_set(err, "batch has neither face");
    if (arena_locked(b, b->wire_len * 5 + 1024, err) != 0)
        return -1;
    if (encoded_locked(b, &data, &len, err) != 0)
        return -1;
    ProtobufCMessage *m = protobuf_c_message_unpack(otlp_request_descriptor(b->signal),
                                                    arena_allocator(b->arena), len, data);
    if (!m)
        return error_set(err, "cannot decode %s request (%zu bytes)", signal_name(b->signal), len);
    b->msg = m;
    return 0;
}

const ProtobufCMessage *batch_decoded(struct batch *b, struct error *err)
{
    pthread_mutex_lock(&b->lock);
    int rc = decode_locked(b, err);
    pthread_mutex_unlock(&b->lock);
    return rc == 0 ? b->msg : NULL;
}

/* A sole-owner batch holding a copy of b's encoded face (edits applied), for a processor that
 * must edit a shared batch. NULL with err on out of memory. */
static struct batch *private_copy(struct batch *b, struct error *err)
{
    const uint8_t *data;
    size_t len;
    if (batch_encoded(b, &data, &len, err) != 0)
        return NULL;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        error_set(err, "out of memory");
        return NULL;
    }
    memcpy(copy, data, len);
    struct batch *nb = batch_adopt_wire(b->signal, copy, len, b->items);
    if (!nb)
        error_set(err, "out of memory");
    return nb;
}

ProtobufCMessage *batch_edit(struct batch *b, struct batch **out, struct error *err)
{
    if (atomic_load(&b->refs) > 1) {
        /* Shared: a private copy, decoded from the encoded face. */
        struct batch *nb = private_copy(b, err);
        if (!nb)
            return NULL;
        ProtobufCMessage *m = batch_edit(nb, out, err);
        if (!m)
            batch_unref(nb);
        return m;
    }
    pthread_mutex_lock(&b->lock);
    int rc = decode_locked(b, err);
    if (rc == 0) {
        wire_free(b->wire, b->wire_pooled);
        b->wire = NULL;
        b->wire_pooled = false;
        b->wire_len = 0;
        b->has_wire = false;
        b->index = NULL;
        b->applied = NULL;
    }
    pthread_mutex_unlock(&b->lock);
    if (rc != 0)
        return NULL;
    *out = b;
    return b->msg;
}

void batch_edit_done(struct batch *b)
{
    b->items = otlp_count_items(b->signal, b->msg);
}

void batch_edit_release(struct batch *b, struct batch *copy)
{
    if (!copy || copy == b)
        return;
    uint64_t rejected = atomic_load(&copy->rejected);
    if (rejected) {
        char why[sizeof copy->reject_msg];
        pthread_mutex_lock(&copy->lock);
        memcpy(why, copy->reject_msg, sizeof why);
        pthread_mutex_unlock(&copy->lock);
        batch_reject(b, rejected, why[0] ? why : NULL);
    }
    batch_unref(copy);
}

int batch_encoded(struct batch *b, const uint8_t **data, size_t *len, struct error *err)
{
    pthread_mutex_lock(&b->lock);
    int rc = encoded_locked(b, data, len, err);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

/* Caller holds b->lock. */
static int index_locked(struct batch *b, const struct wire_interest *interest, struct error *err)
{
    if (b->index && (!b->index->interest || b->index->interest == interest))
        return 0;
    if (b->signal != SIGNAL_TRACES && b->signal != SIGNAL_LOGS)
        return error_set(err, "no span index for %s", signal_name(b->signal));
    const uint8_t *data;
    size_t len;
    if (!b->has_wire && encoded_locked(b, &data, &len, err) != 0)
        return -1;
    if (arena_locked(b, b->wire_len + 4096, err) != 0)
        return -1;
    if (encoded_locked(b, &data, &len, err) != 0)
        return -1;
    /* A second interest (components created outside a service) gets an index of every
     * attribute over the current encoded face; the earlier index and its bytes stay in the arena
     * for whoever still reads them. */
    struct wire_index *ix = wi_build(b->signal, data, len, b->index ? NULL : interest, b->arena, err);
    if (!ix)
        return -1;
    b->index = ix;
    b->applied = NULL;
    return 0;
}

const struct wire_index *batch_index(struct batch *b, const struct wire_interest *interest,
                                     struct error *err)
{
    pthread_mutex_lock(&b->lock);
    int rc = index_locked(b, interest, err);
    struct wire_index *ix = b->index;
    pthread_mutex_unlock(&b->lock);
    return rc == 0 ? ix : NULL;
}

struct wire_index *batch_index_edit(struct batch *b, const struct wire_interest *interest,
                                    struct batch **out, struct error *err)
{
    if (atomic_load(&b->refs) > 1) {
        struct batch *nb = private_copy(b, err);
        if (!nb)
            return NULL;
        struct wire_index *ix = batch_index_edit(nb, interest, out, err);
        if (!ix)
            batch_unref(nb);
        return ix;
    }
    pthread_mutex_lock(&b->lock);
    int rc = index_locked(b, interest, err);
    if (rc == 0) {
        b->msg = NULL;     /* stale once the index is edited; its memory stays in the arena */
        b->applied = NULL; /* made again from the edited index when asked for */
    }
    struct wire_index *ix = b->index;
    pthread_mutex_unlock(&b->lock);
    if (rc != 0)
        return NULL;
    *out = b;
    return ix;
}

void batch_index_edit_done(struct batch *b)
{
    if (b->index)
        b->items = wi_items_live(b->index);
}

void batch_reject(struct batch *b, uint64_t n, const char *why)
{
    pthread_mutex_lock(&b->lock);
    if (why && !b->reject_msg[0])
        snprintf(b->reject_msg, sizeof b->reject_msg, "%s", why);
    pthread_mutex_unlock(&b->lock);
    atomic_fetch_add(&b->rejected, n);
}
