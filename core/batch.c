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

struct batch *batch_adopt_wire(enum signal s, uint8_t *data, size_t len, uint64_t items)
{
    struct batch *b = batch_alloc(s);
    if (!b) {
        free(data);
        return NULL;
    }
    b->wire = data;
    b->wire_len = len;
    b->has_wire = true;
    b->items = items;
    return b;
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
    free(b->wire);
    arena_free(b->arena);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* Caller holds b->lock. */
static int decode_locked(struct batch *b, struct error *err)
{
    if (b->msg)
        return 0;
    if (!b->has_wire)
        return error_set(err, "batch has neither face");
    size_t first = b->wire_len * 5 + 1024;
    if (first > (64u << 20))
        first = 64u << 20;
    struct arena *a = arena_new(first);
    if (!a)
        return error_set(err, "out of memory decoding a %zu-byte request", b->wire_len);
    ProtobufCMessage *m = protobuf_c_message_unpack(otlp_request_descriptor(b->signal),
                                                    arena_allocator(a), b->wire_len, b->wire);
    if (!m) {
        arena_free(a);
        return error_set(err, "cannot decode %s request (%zu bytes)", signal_name(b->signal), b->wire_len);
    }
    b->arena = a;
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

ProtobufCMessage *batch_edit(struct batch *b, struct batch **out, struct error *err)
{
    if (atomic_load(&b->refs) > 1) {
        /* Shared: a private copy, decoded from the encoded face. */
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
        if (!nb) {
            error_set(err, "out of memory");
            return NULL;
        }
        ProtobufCMessage *m = batch_edit(nb, out, err);
        if (!m)
            batch_unref(nb);
        return m;
    }
    pthread_mutex_lock(&b->lock);
    int rc = decode_locked(b, err);
    if (rc == 0) {
        free(b->wire);
        b->wire = NULL;
        b->wire_len = 0;
        b->has_wire = false;
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
    if (!b->has_wire) {
        if (!b->msg) {
            pthread_mutex_unlock(&b->lock);
            return error_set(err, "batch has neither face");
        }
        size_t n = protobuf_c_message_get_packed_size(b->msg);
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf) {
            pthread_mutex_unlock(&b->lock);
            return error_set(err, "out of memory encoding %zu bytes", n);
        }
        protobuf_c_message_pack(b->msg, buf);
        b->wire = buf;
        b->wire_len = n;
        b->has_wire = true;
    }
    *data = b->wire;
    *len = b->wire_len;
    pthread_mutex_unlock(&b->lock);
    return 0;
}

void batch_reject(struct batch *b, uint64_t n, const char *why)
{
    pthread_mutex_lock(&b->lock);
    if (why && !b->reject_msg[0])
        snprintf(b->reject_msg, sizeof b->reject_msg, "%s", why);
    pthread_mutex_unlock(&b->lock);
    atomic_fetch_add(&b->rejected, n);
}
