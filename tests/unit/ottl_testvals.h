/* ottl_testvals.h — OTTL values by value for the engine's unit tests (test_ottl_value,
 * test_ottl_paths): vi(3), vs("x"), vnil() ... read as literals in an expectation.
 *
 * The one idea: each is the engine's own constructor (core/ottl/value_make.h) returned by value,
 * so the tests build values exactly as the engine does. Strings are referenced, not copied. */
#ifndef LLMOTLP_TESTS_UNIT_OTTL_TESTVALS_H
#define LLMOTLP_TESTS_UNIT_OTTL_TESTVALS_H

#include "core/ottl/value_make.h"

static inline struct ottl_value vi(int64_t i) { struct ottl_value v; ottl_v_int(&v, i); return v; }
static inline struct ottl_value vd(double d) { struct ottl_value v; ottl_v_double(&v, d); return v; }
static inline struct ottl_value vb(bool b) { struct ottl_value v; ottl_v_bool(&v, b); return v; }
static inline struct ottl_value vt(int64_t ns) { struct ottl_value v; ottl_v_time(&v, ns); return v; }
static inline struct ottl_value vnil(void) { struct ottl_value v; ottl_v_nil(&v); return v; }
static inline struct ottl_value vs(const char *s)
{
    struct ottl_value v;
    ottl_v_strn(&v, s, strlen(s));
    return v;
}
static inline struct ottl_value vbytes(const char *p, size_t n)
{
    struct ottl_value v;
    ottl_v_bytes(&v, p, n);
    return v;
}
static inline struct ottl_value vdur(int64_t ns)
{
    struct ottl_value v;
    ottl_v_int(&v, ns);
    v.t = OTTL_V_DURATION;
    return v;
}

#endif
