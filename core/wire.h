/* wire.h — protobuf wire-format primitives shared by everything that reads or writes OTLP
 * without protobuf-c: a field reader, varints, length prefixes, and the encoding of the
 * KeyValue attributes that processors add to spans and log records.
 *
 * The one idea: a message is a flat sequence of (key, value) fields, and a repeated field may be
 * appended anywhere, so reading a few fields and appending or replacing a few more never needs a
 * decode. All functions are pure and thread-safe; nothing here allocates. */
#ifndef LLMOTLP_WIRE_H
#define LLMOTLP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

struct pb_field {
    uint32_t num;
    int wt;
    uint64_t v;              /* varint, fixed64 or fixed32 value */
    const uint8_t *data;     /* PB_LEN: body */
    size_t len;
    const uint8_t *start;    /* whole field: key .. end of value */
    size_t total;
};

struct pb_reader {
    const uint8_t *p, *end;
};

static inline void pb_init(struct pb_reader *r, const uint8_t *data, size_t len)
{
    r->p = data;
    r->end = len ? data + len : data; /* no offset on a NULL pointer, even 0 (UB in C) */
}
/* Reads a varint of at most max_bytes bytes (10 for a value; protobuf-c reads keys and length
 * prefixes in at most 5). 1 and *pp advanced, or 0 when truncated or too long. */
static inline int pb_read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out,
                                 unsigned max_bytes)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned i = 0, shift = 0; i < max_bytes && p < end; i++, shift += 7) {
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *out = v;
            return 1;
        }
    }
    return 0;
}

/* 1 with *f filled, 0 at the end, -1 on malformed data (group wire types included). Inline,
 * with the one-byte key and one-byte length that almost every OTLP field has read first: the
 * span index and the request writer call it once per field. */
static inline int pb_next(struct pb_reader *r, struct pb_field *f)
{
    const uint8_t *p = r->p, *end = r->end;
    if (p >= end)
        return 0;
    f->start = p;
    uint64_t key;
    if (*p < 0x80)
        key = *p++;
    else if (!pb_read_varint(&p, end, &key, 10))
        return -1;
    if ((key >> 3) == 0 || (key >> 3) > UINT32_MAX)
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->wt = (int)(key & 7);
    f->data = NULL;
    f->len = 0;
    f->v = 0;
    switch (f->wt) {
    case PB_LEN: {
        uint64_t len;
        if (p < end && *p < 0x80)
            len = *p++;
        else if (!pb_read_varint(&p, end, &len, 10))
            return -1;
        if (len > (uint64_t)(end - p))
            return -1;
        f->data = p;
        f->len = (size_t)len;
        p += len;
        break;
    }
    case PB_VARINT:
        if (!pb_read_varint(&p, end, &f->v, 10))
            return -1;
        break;
    case PB_I64:
        if (end - p < 8)
            return -1;
        for (int i = 7; i >= 0; i--)
            f->v = f->v << 8 | p[i];
        p += 8;
        break;
    case PB_I32:
        if (end - p < 4)
            return -1;
        for (int i = 3; i >= 0; i--)
            f->v = f->v << 8 | p[i];
        p += 4;
        break;
    default:
        return -1; /* groups are not used by OTLP */
    }
    f->total = (size_t)(p - f->start);
    r->p = p;
    return 1;
}

/* A KeyValue body's key (field 1) and AnyValue (field 2) as protobuf decoders read them: the
 * last of each wins; an absent one is NULL with length 0. Nearly every KeyValue is exactly its
 * key then its value, each with a one-byte length: that shape is read directly, since no later
 * field can win in it; any other takes the field walk. Returns 0, or -1 on malformed bytes (the
 * fields read before them are kept). */
static inline int pb_kv_read(const uint8_t *kv, size_t len, const uint8_t **key, size_t *key_len,
                             const uint8_t **any, size_t *any_len)
{
    *key = *any = NULL;
    *key_len = *any_len = 0;
    if (len >= 2 && kv[0] == 0x0a && kv[1] < 0x80 && (size_t)kv[1] + 2 <= len) {
        const uint8_t *q = kv + 2 + kv[1], *e = kv + len;
        if (q == e || (e - q >= 2 && q[0] == 0x12 && q[1] < 0x80 && q + 2 + q[1] == e)) {
            *key = kv + 2, *key_len = kv[1];
            if (q != e)
                *any = q + 2, *any_len = q[1];
            return 0;
        }
    }
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, kv, len);
    int rc;
    while ((rc = pb_next(&r, &f)) == 1) {
        if (f.num == 1 && f.wt == PB_LEN)
            *key = f.data, *key_len = f.len;
        else if (f.num == 2 && f.wt == PB_LEN)
            *any = f.data, *any_len = f.len;
    }
    return rc < 0 ? -1 : 0;
}

size_t pb_varint_size(uint64_t v);
uint8_t *pb_put_varint(uint8_t *p, uint64_t v);
/* Equal bytes, compared 8 at a time inline: attribute keys are short (10 to 40 bytes) and the
 * readers compare them per attribute of every span, where a call to memcmp cost more than it. */
static inline bool wire_bytes_eq(const char *a, const char *b, size_t n)
{
    uint64_t x, y;
    for (; n >= 8; a += 8, b += 8, n -= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return false;
    }
    for (; n; a++, b++, n--)
        if (*a != *b)
            return false;
    return true;
}

/* Key + length prefix of a length-delimited field of `len` bytes. */
static inline size_t pb_len_prefix_size(uint32_t num, size_t len)
{
    return pb_varint_size((uint64_t)num << 3 | PB_LEN) + pb_varint_size(len);
}
uint8_t *pb_put_len_prefix(uint8_t *p, uint32_t num, size_t len);

/* AnyValue bodies. Each writes into buf (NULL: size only) and returns the body length. */
size_t pb_any_string(uint8_t *buf, const char *s, size_t len);
size_t pb_any_int(uint8_t *buf, int64_t v);
size_t pb_any_double(uint8_t *buf, double v);
size_t pb_any_bool(uint8_t *buf, bool v);

/* KeyValue body {key = 1, value = 2} with an AnyValue body given as bytes (any_len may be 0 for
 * an empty value, which is still written so that the attribute exists). buf NULL: size only. */
size_t pb_kv(uint8_t *buf, const char *key, size_t key_len, const uint8_t *any, size_t any_len);

/* Encoded KeyValue body (key, AnyValue) of a string, double or bool attribute into buf (NULL:
 * size only). Returns the body length. A string value longer than 496 bytes is cut there
 * (tail_sampling's annotations are short; use pb_kv with pb_any_string for longer values). */
size_t pb_kv_string(uint8_t *buf, const char *key, const char *value);
size_t pb_kv_double(uint8_t *buf, const char *key, double value);
size_t pb_kv_bool(uint8_t *buf, const char *key, bool value);

#endif
