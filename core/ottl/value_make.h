/* value_make.h — constructors of a struct ottl_value for the engine's own files (paths.c, value.c
 * and the function library): nil, int, time, double, bool, a string or bytes by reference; and
 * the standard base64 form of bytes, which both pcommon's AsString and encoding/json write.
 *
 * The one idea: a value is zeroed before its type and field are set, so nothing of what the
 * struct held before survives into the new value; every constructor does that in one place.
 * Header-only (static inline). The strings are not copied: they must outlive the value (the
 * item's arena, a literal, or the live OTLP structs). */
#ifndef LLMOTLP_OTTL_VALUE_MAKE_H
#define LLMOTLP_OTTL_VALUE_MAKE_H

#include <string.h>

#include "core/ottl/ottl_internal.h"

static inline void ottl_v_nil(struct ottl_value *out)
{
    memset(out, 0, sizeof *out);
    out->t = OTTL_V_NIL;
}

static inline void ottl_v_int(struct ottl_value *out, int64_t i)
{
    ottl_v_nil(out);
    out->t = OTTL_V_INT;
    out->i = i;
}

/* A time, in nanoseconds since the Unix epoch. */
static inline void ottl_v_time(struct ottl_value *out, int64_t ns)
{
    ottl_v_nil(out);
    out->t = OTTL_V_TIME;
    out->i = ns;
}

static inline void ottl_v_double(struct ottl_value *out, double d)
{
    ottl_v_nil(out);
    out->t = OTTL_V_DOUBLE;
    out->d = d;
}

static inline void ottl_v_bool(struct ottl_value *out, bool b)
{
    ottl_v_nil(out);
    out->t = OTTL_V_BOOL;
    out->b = b;
}

static inline void ottl_v_strn(struct ottl_value *out, const char *p, size_t n)
{
    ottl_v_nil(out);
    out->t = OTTL_V_STRING;
    out->s.p = p;
    out->s.n = n;
}

static inline void ottl_v_bytes(struct ottl_value *out, const char *p, size_t n)
{
    ottl_v_nil(out);
    out->t = OTTL_V_BYTES;
    out->s.p = p;
    out->s.n = n;
}

/* Writes the padded standard base64 of p[0, n) to dst, which has room for (n + 2) / 3 * 4 bytes
 * (no NUL is added); returns that length. */
static inline size_t ottl_base64(char *dst, const unsigned char *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned w = (unsigned)p[i] << 16;
        if (i + 1 < n) w |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n) w |= p[i + 2];
        dst[o++] = tbl[(w >> 18) & 63];
        dst[o++] = tbl[(w >> 12) & 63];
        dst[o++] = i + 1 < n ? tbl[(w >> 6) & 63] : '=';
        dst[o++] = i + 2 < n ? tbl[w & 63] : '=';
    }
    return o;
}

#endif
