/* wire.c — protobuf wire-format primitives (see wire.h): the field reader, varints, length
 * prefixes and attribute encoders that the validating scan's neighbours, the span index and
 * tail_sampling share.
 *
 * The one idea: a message is a flat sequence of (key, value) fields, and a repeated field may be
 * appended anywhere, so reading a few fields and appending a few more never needs a decode. */
#include "core/wire.h"

#include <string.h>

size_t pb_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

uint8_t *pb_put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

uint8_t *pb_put_len_prefix(uint8_t *p, uint32_t num, size_t len)
{
    p = pb_put_varint(p, (uint64_t)num << 3 | PB_LEN);
    return pb_put_varint(p, len);
}

/* KeyValue { key = 1; value = 2 (AnyValue) } */
size_t pb_kv(uint8_t *buf, const char *key, size_t klen, const uint8_t *any, size_t any_len)
{
    size_t n = pb_len_prefix_size(1, klen) + klen + pb_len_prefix_size(2, any_len) + any_len;
    if (buf) {
        uint8_t *p = pb_put_len_prefix(buf, 1, klen);
        if (klen)
            memcpy(p, key, klen);
        p = pb_put_len_prefix(p + klen, 2, any_len);
        if (any_len)
            memcpy(p, any, any_len);
    }
    return n;
}

static size_t kv_with_value(uint8_t *buf, const char *key, const uint8_t *any, size_t any_len)
{
    return pb_kv(buf, key, strlen(key), any, any_len);
}

/* AnyValue { string_value = 1; bool_value = 2; int_value = 3; double_value = 4 (fixed64) } */
size_t pb_any_string(uint8_t *buf, const char *s, size_t len)
{
    size_t n = pb_len_prefix_size(1, len) + len;
    if (buf) {
        uint8_t *p = pb_put_len_prefix(buf, 1, len);
        if (len)
            memcpy(p, s, len);
    }
    return n;
}

size_t pb_any_int(uint8_t *buf, int64_t v)
{
    size_t n = 1 + pb_varint_size((uint64_t)v);
    if (buf) {
        buf[0] = (uint8_t)(3 << 3 | PB_VARINT);
        pb_put_varint(buf + 1, (uint64_t)v);
    }
    return n;
}

size_t pb_any_bool(uint8_t *buf, bool v)
{
    if (buf) {
        buf[0] = (uint8_t)(2 << 3 | PB_VARINT);
        buf[1] = v ? 1 : 0;
    }
    return 2;
}

size_t pb_any_double(uint8_t *buf, double v)
{
    if (buf) {
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        buf[0] = (uint8_t)(4 << 3 | PB_I64);
        for (int i = 0; i < 8; i++)
            buf[1 + i] = (uint8_t)(bits >> (8 * i));
    }
    return 9;
}

size_t pb_kv_string(uint8_t *buf, const char *key, const char *value)
{
    /* AnyValue { string_value = 1 } */
    size_t vlen = strlen(value);
    uint8_t av[512];
    if (pb_len_prefix_size(1, vlen) + vlen > sizeof av) {
        vlen = sizeof av - 16;
        while (vlen && ((uint8_t)value[vlen] & 0xc0) == 0x80)
            vlen--; /* cut before a UTF-8 continuation byte, so the string stays valid */
    }
    uint8_t *p = pb_put_len_prefix(av, 1, vlen);
    memcpy(p, value, vlen);
    return kv_with_value(buf, key, av, (size_t)(p + vlen - av));
}

size_t pb_kv_bool(uint8_t *buf, const char *key, bool value)
{
    /* AnyValue { bool_value = 2 (varint) } */
    uint8_t av[2] = {(uint8_t)(2 << 3 | PB_VARINT), value ? 1 : 0};
    return kv_with_value(buf, key, av, sizeof av);
}

size_t pb_kv_double(uint8_t *buf, const char *key, double value)
{
    /* AnyValue { double_value = 4 (fixed64) } */
    uint8_t av[9];
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    av[0] = (uint8_t)(4 << 3 | PB_I64);
    for (int i = 0; i < 8; i++)
        av[1 + i] = (uint8_t)(bits >> (8 * i));
    return kv_with_value(buf, key, av, sizeof av);
}
