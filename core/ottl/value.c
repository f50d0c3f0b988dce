/* value.c — the values an OTTL run handles: reading them out of AnyValues, writing them back,
 * maps and lists edited where they live, comparison and the String() formatting of the Collector.
 *
 * The one idea: a map or list value is a pair of pointers to the live array and its length (the
 * KeyValue array of a span's attributes, the values of a kvlist AnyValue), so editing the value
 * edits the item, as pcommon.Map does; anything written is deep-copied into the batch's arena
 * first, so a value may be stored into its own container (set(attributes["a"], attributes))
 * without reading what it is overwriting. Arrays grow by a fresh copy in the arena: attribute
 * lists are short and the arena is freed with the batch. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "core/ottl/ottl_internal.h"
#include "core/ottl/value_make.h"

typedef Opentelemetry__Proto__Common__V1__KeyValueList OttlKvList;
typedef Opentelemetry__Proto__Common__V1__ArrayValue OttlArray;

#define AV(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

void ottl_value_from_any(OttlAnyValue *v, struct ottl_value *out)
{
    memset(out, 0, sizeof *out);
    out->t = OTTL_V_NIL;
    if (!v)
        return;
    switch (v->value_case) {
    case AV(STRING_VALUE):
        out->t = OTTL_V_STRING;
        out->s.p = v->string_value ? v->string_value : "";
        out->s.n = v->string_value ? strlen(v->string_value) : 0;
        break;
    case AV(BOOL_VALUE):
        out->t = OTTL_V_BOOL;
        out->b = v->bool_value != 0;
        break;
    case AV(INT_VALUE):
        out->t = OTTL_V_INT;
        out->i = v->int_value;
        break;
    case AV(DOUBLE_VALUE):
        out->t = OTTL_V_DOUBLE;
        out->d = v->double_value;
        break;
    case AV(BYTES_VALUE):
        out->t = OTTL_V_BYTES;
        out->s.p = (const char *)v->bytes_value.data;
        out->s.n = v->bytes_value.len;
        break;
    /* A container case without its message (only hand-built data has it) reads as nil: there is
     * no holder to reference, and inventing a shared one would let an edit write to it. */
    case AV(ARRAY_VALUE):
        if (v->array_value) {
            out->t = OTTL_V_LIST;
            out->list.v = &v->array_value->values;
            out->list.n = &v->array_value->n_values;
        }
        break;
    case AV(KVLIST_VALUE):
        if (v->kvlist_value) {
            out->t = OTTL_V_MAP;
            out->map.kv = &v->kvlist_value->values;
            out->map.n = &v->kvlist_value->n_values;
        }
        break;
    default:  /* not set; string_value_strindex belongs to profiles and reads as absent */
        break;
    }
}

/* ---- deep copies ------------------------------------------------------------------------------ */

static char *dup_n(struct arena *a, const char *p, size_t n)
{
    char *s = arena_alloc(a, n + 1);
    if (!s)
        return NULL;
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static int copy_into(struct arena *a, OttlAnyValue *dst, const struct ottl_value *v);

static OttlAnyValue *any_new(struct arena *a)
{
    OttlAnyValue *nv = arena_alloc(a, sizeof *nv);
    if (nv)
        opentelemetry__proto__common__v1__any_value__init(nv);
    return nv;
}

/* Fills a fresh dst (already initialised, not shared) with a deep copy of v. */
static int copy_into(struct arena *a, OttlAnyValue *dst, const struct ottl_value *v)
{
    switch (v->t) {
    case OTTL_V_NIL:
        dst->value_case = AV(_NOT_SET);
        return 0;
    case OTTL_V_BOOL:
        dst->value_case = AV(BOOL_VALUE);
        dst->bool_value = v->b;
        return 0;
    case OTTL_V_INT:
    case OTTL_V_TIME:
    case OTTL_V_DURATION:
        dst->value_case = AV(INT_VALUE);
        dst->int_value = v->i;
        return 0;
    case OTTL_V_DOUBLE:
        dst->value_case = AV(DOUBLE_VALUE);
        dst->double_value = v->d;
        return 0;
    case OTTL_V_STRING: {
        char *s = dup_n(a, v->s.p, v->s.n);
        if (!s)
            return -1;
        dst->value_case = AV(STRING_VALUE);
        dst->string_value = s;
        return 0;
    }
    case OTTL_V_BYTES: {
        uint8_t *p = NULL;
        if (v->s.n) {
            p = arena_memdup(a, v->s.p, v->s.n);
            if (!p)
                return -1;
        }
        dst->value_case = AV(BYTES_VALUE);
        dst->bytes_value.data = p;
        dst->bytes_value.len = v->s.n;
        return 0;
    }
    case OTTL_V_MAP: {
        OttlKvList *l = arena_alloc(a, sizeof *l);
        if (!l)
            return -1;
        opentelemetry__proto__common__v1__key_value_list__init(l);
        size_t n = *v->map.n;
        OttlKeyValue **src = *v->map.kv;
        if (n) {
            l->values = arena_alloc(a, n * sizeof *l->values);
            if (!l->values)
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
            OttlKeyValue *kv = arena_alloc(a, sizeof *kv);
            if (!kv)
                return -1;
            opentelemetry__proto__common__v1__key_value__init(kv);
            kv->key = arena_strdup(a, src[i] && src[i]->key ? src[i]->key : "");
            kv->value = any_new(a);
            if (!kv->key || !kv->value)
                return -1;
            struct ottl_value ev;
            ottl_value_from_any(src[i] ? src[i]->value : NULL, &ev);
            if (copy_into(a, kv->value, &ev) < 0)
                return -1;
            l->values[i] = kv;
        }
        l->n_values = n;
        dst->value_case = AV(KVLIST_VALUE);
        dst->kvlist_value = l;
        return 0;
    }
    case OTTL_V_LIST: {
        OttlArray *l = arena_alloc(a, sizeof *l);
        if (!l)
            return -1;
        opentelemetry__proto__common__v1__array_value__init(l);
        size_t n = *v->list.n;
        OttlAnyValue **src = *v->list.v;
        if (n) {
            l->values = arena_alloc(a, n * sizeof *l->values);
            if (!l->values)
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
            OttlAnyValue *e = any_new(a);
            if (!e)
                return -1;
            struct ottl_value ev;
            ottl_value_from_any(src[i], &ev);
            if (copy_into(a, e, &ev) < 0)
                return -1;
            l->values[i] = e;
        }
        l->n_values = n;
        dst->value_case = AV(ARRAY_VALUE);
        dst->array_value = l;
        return 0;
    }
    }
    return -1;
}

OttlAnyValue *ottl_value_to_any(struct arena *a, const struct ottl_value *v)
{
    OttlAnyValue *nv = any_new(a);
    if (!nv || copy_into(a, nv, v) < 0)
        return NULL;
    return nv;
}

int ottl_value_store(struct arena *a, OttlAnyValue *dst, const struct ottl_value *v)
{
    /* Copy first, then overwrite: v may live inside dst. */
    OttlAnyValue *nv = ottl_value_to_any(a, v);
    if (!nv)
        return -1;
    *dst = *nv;
    return 0;
}

/* ---- maps and lists --------------------------------------------------------------------------- */

static bool key_is(const OttlKeyValue *kv, const char *key, size_t klen)
{
    return kv && kv->key && strlen(kv->key) == klen && memcmp(kv->key, key, klen) == 0;
}

OttlAnyValue *ottl_map_find(const struct ottl_value *map, const char *key, size_t klen)
{
    if (map->t != OTTL_V_MAP)
        return NULL;
    OttlKeyValue **kv = *map->map.kv;
    for (size_t i = 0; i < *map->map.n; i++)
        if (key_is(kv[i], key, klen))
            return kv[i]->value;
    return NULL;
}

/* The array of n elements of size es, with room for one more: regrown by one element when cap
 * is NULL (an array of unknown capacity, such as a decoded one), else doubled when *cap slots
 * are full, so a caller building an array of its own pays linear, not quadratic, memory. */
static void *grow(struct arena *a, void *arr, size_t n, size_t es, size_t *cap)
{
    if (cap && n < *cap)
        return arr;
    size_t nc = !cap ? n + 1 : n < 4 ? 8 : n * 2;
    void *g = arena_alloc(a, nc * es);
    if (!g)
        return NULL;
    if (n)
        memcpy(g, arr, n * es);
    if (cap)
        *cap = nc;
    return g;
}

/* The AnyValue a _cap builder moves in: a fresh map or list (ottl_map_new / ottl_list_new, so
 * its holders sit inside a KeyValueList / ArrayValue) is taken by reference, anything else
 * copied; a nested JSON document is then copied once, not once per level above each value. */
static OttlAnyValue *take(struct arena *a, const struct ottl_value *v)
{
    if (v->t != OTTL_V_MAP && v->t != OTTL_V_LIST)
        return ottl_value_to_any(a, v);
    OttlAnyValue *nv = any_new(a);
    if (!nv)
        return NULL;
    if (v->t == OTTL_V_MAP) {
        nv->value_case = AV(KVLIST_VALUE);
        nv->kvlist_value = (OttlKvList *)(void *)((char *)v->map.kv - offsetof(OttlKvList, values));
    } else {
        nv->value_case = AV(ARRAY_VALUE);
        nv->array_value = (OttlArray *)(void *)((char *)v->list.v - offsetof(OttlArray, values));
    }
    return nv;
}

int ottl_map_set(struct arena *a, const struct ottl_value *map, const char *key, size_t klen,
                 const struct ottl_value *v)
{
    return ottl_map_set_cap(a, map, key, klen, v, NULL, false);
}

int ottl_map_set_cap(struct arena *a, const struct ottl_value *map, const char *key, size_t klen,
                     const struct ottl_value *v, size_t *cap, bool move)
{
    if (map->t != OTTL_V_MAP)
        return -1;
    OttlAnyValue *nv = move ? take(a, v) : ottl_value_to_any(a, v);
    if (!nv)
        return -1;
    OttlKeyValue **kvs = *map->map.kv;
    size_t n = *map->map.n;
    for (size_t i = 0; i < n; i++) {
        if (key_is(kvs[i], key, klen)) {
            kvs[i]->value = nv;
            return 0;
        }
    }
    OttlKeyValue *kv = arena_alloc(a, sizeof *kv);
    OttlKeyValue **grown = grow(a, kvs, n, sizeof *grown, cap);
    if (!kv || !grown)
        return -1;
    opentelemetry__proto__common__v1__key_value__init(kv);
    kv->key = dup_n(a, key, klen);
    if (!kv->key)
        return -1;
    kv->value = nv;
    grown[n] = kv;
    *map->map.kv = grown;
    *map->map.n = n + 1;
    return 0;
}

size_t ottl_map_delete(const struct ottl_value *map, const char *key, size_t klen)
{
    if (map->t != OTTL_V_MAP)
        return 0;
    OttlKeyValue **kvs = *map->map.kv;
    size_t n = *map->map.n, w = 0;
    for (size_t r = 0; r < n; r++)
        if (!key_is(kvs[r], key, klen))
            kvs[w++] = kvs[r];
    *map->map.n = w;
    return n - w;
}

int ottl_map_new(struct arena *a, struct ottl_value *out)
{
    OttlKvList *l = arena_alloc(a, sizeof *l);
    if (!l)
        return -1;
    opentelemetry__proto__common__v1__key_value_list__init(l);
    memset(out, 0, sizeof *out);
    out->t = OTTL_V_MAP;
    out->map.kv = &l->values;
    out->map.n = &l->n_values;
    return 0;
}

int ottl_list_new(struct arena *a, struct ottl_value *out)
{
    OttlArray *l = arena_alloc(a, sizeof *l);
    if (!l)
        return -1;
    opentelemetry__proto__common__v1__array_value__init(l);
    memset(out, 0, sizeof *out);
    out->t = OTTL_V_LIST;
    out->list.v = &l->values;
    out->list.n = &l->n_values;
    return 0;
}

int ottl_list_append(struct arena *a, const struct ottl_value *list, const struct ottl_value *v)
{
    return ottl_list_append_cap(a, list, v, NULL, false);
}

int ottl_list_append_cap(struct arena *a, const struct ottl_value *list, const struct ottl_value *v,
                         size_t *cap, bool move)
{
    if (list->t != OTTL_V_LIST)
        return -1;
    OttlAnyValue *nv = move ? take(a, v) : ottl_value_to_any(a, v);
    size_t n = *list->list.n;
    OttlAnyValue **grown = grow(a, *list->list.v, n, sizeof *grown, cap);
    if (!nv || !grown)
        return -1;
    grown[n] = nv;
    *list->list.v = grown;
    *list->list.n = n + 1;
    return 0;
}

/* ---- comparison (compare.go) ------------------------------------------------------------------ */

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_BAD };

static enum cmp_op op_parse(const char *op)
{
    if (!op)
        return OP_BAD;
    if (!strcmp(op, "=="))
        return OP_EQ;
    if (!strcmp(op, "!="))
        return OP_NE;
    if (!strcmp(op, "<"))
        return OP_LT;
    if (!strcmp(op, "<="))
        return OP_LE;
    if (!strcmp(op, ">"))
        return OP_GT;
    if (!strcmp(op, ">="))
        return OP_GE;
    return OP_BAD;
}

/* A three-way result applied to an operator; unordered (NaN) answers only != true. */
static bool apply_order(int c, bool unordered, enum cmp_op op)
{
    if (unordered)
        return op == OP_NE;
    switch (op) {
    case OP_EQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    case OP_GE: return c >= 0;
    default: return false;
    }
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static bool is_nil(const struct ottl_value *v)
{
    /* A nil []byte is nil to compare.go, and pcommon hands out empty bytes as a nil slice. */
    return v->t == OTTL_V_NIL || (v->t == OTTL_V_BYTES && v->s.n == 0);
}

static bool value_equal(const struct ottl_value *a, const struct ottl_value *b);

/* pcommon.Map.Equal: same size and, for every key of a, an equal value in b. */
static bool map_equal(const struct ottl_value *a, const struct ottl_value *b)
{
    if (*a->map.n != *b->map.n)
        return false;
    OttlKeyValue **kv = *a->map.kv;
    for (size_t i = 0; i < *a->map.n; i++) {
        const char *k = kv[i] && kv[i]->key ? kv[i]->key : "";
        bool found = false;
        OttlKeyValue **bkv = *b->map.kv;
        for (size_t j = 0; j < *b->map.n && !found; j++)
            found = key_is(bkv[j], k, strlen(k));
        if (!found)
            return false;
        struct ottl_value av, bv;
        ottl_value_from_any(kv[i] ? kv[i]->value : NULL, &av);
        ottl_value_from_any(ottl_map_find(b, k, strlen(k)), &bv);
        if (!value_equal(&av, &bv))
            return false;
    }
    return true;
}

static bool list_equal(const struct ottl_value *a, const struct ottl_value *b)
{
    if (*a->list.n != *b->list.n)
        return false;
    for (size_t i = 0; i < *a->list.n; i++) {
        struct ottl_value av, bv;
        ottl_value_from_any((*a->list.v)[i], &av);
        ottl_value_from_any((*b->list.v)[i], &bv);
        if (!value_equal(&av, &bv))
            return false;
    }
    return true;
}

/* pcommon.Value.Equal: same type and same content (no int/double crossing inside containers). */
static bool value_equal(const struct ottl_value *a, const struct ottl_value *b)
{
    if (a->t != b->t)
        return false;
    switch (a->t) {
    case OTTL_V_NIL: return true;
    case OTTL_V_BOOL: return a->b == b->b;
    case OTTL_V_INT:
    case OTTL_V_TIME:
    case OTTL_V_DURATION: return a->i == b->i;
    case OTTL_V_DOUBLE: return a->d == b->d;
    case OTTL_V_STRING:
    case OTTL_V_BYTES: return cmp_bytes(a->s.p, a->s.n, b->s.p, b->s.n) == 0;
    case OTTL_V_MAP: return map_equal(a, b);
    case OTTL_V_LIST: return list_equal(a, b);
    }
    return false;
}

static bool compare_op(const struct ottl_value *a, enum cmp_op op, const struct ottl_value *b)
{
    bool an = is_nil(a), bn = is_nil(b);
    if (an && bn)
        return op == OP_EQ || op == OP_LE || op == OP_GE;
    if (an || bn)   /* nil against anything else: unequal, never ordered */
        return op == OP_NE;
    switch (a->t) {
    case OTTL_V_BOOL:
        if (b->t != OTTL_V_BOOL)
            break;
        return apply_order((int)a->b - (int)b->b, false, op);
    case OTTL_V_INT:
        if (b->t == OTTL_V_INT)
            return apply_order(a->i < b->i ? -1 : a->i > b->i, false, op);
        if (b->t == OTTL_V_DOUBLE) {
            double x = (double)a->i;
            return apply_order(x < b->d ? -1 : x > b->d, isnan(b->d), op);
        }
        break;
    case OTTL_V_DOUBLE:
        if (b->t == OTTL_V_DOUBLE || b->t == OTTL_V_INT) {
            double y = b->t == OTTL_V_INT ? (double)b->i : b->d;
            return apply_order(a->d < y ? -1 : a->d > y, isnan(a->d) || isnan(y), op);
        }
        break;
    case OTTL_V_STRING:
        if (b->t != OTTL_V_STRING)
            break;
        return apply_order(cmp_bytes(a->s.p, a->s.n, b->s.p, b->s.n), false, op);
    case OTTL_V_BYTES:
        if (b->t != OTTL_V_BYTES)
            break;
        return apply_order(cmp_bytes(a->s.p, a->s.n, b->s.p, b->s.n), false, op);
    case OTTL_V_TIME:
    case OTTL_V_DURATION:
        if (b->t != a->t)
            break;
        return apply_order(a->i < b->i ? -1 : a->i > b->i, false, op);
    case OTTL_V_MAP:
    case OTTL_V_LIST:
        if (b->t != a->t || (op != OP_EQ && op != OP_NE))
            break;
        return (op == OP_EQ) == value_equal(a, b);
    case OTTL_V_NIL:
        break;
    }
    return op == OP_NE;
}

bool ottl_value_compare(const struct ottl_value *a, const char *op, const struct ottl_value *b)
{
    enum cmp_op o = op_parse(op);
    if (o == OP_BAD)
        return false;
    return compare_op(a, o, b);
}

/* ---- String() --------------------------------------------------------------------------------- */

/* A growable buffer on malloc; the result is copied into the arena at the end. */
struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_str(struct sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* The shortest decimal digits that read back as d (Go's strconv 'e' -1): digits without the
 * point, and the decimal exponent of the first digit. */
static void shortest_digits(double d, char *digits, int *exp10)
{
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, fabs(d));
        if (strtod(buf, NULL) == fabs(d) || prec == 17)
            break;
    }
    size_t k = 0;
    const char *p = buf;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    *exp10 = *p == 'e' ? atoi(p + 1) : 0;
}

/* A double as encoding/json writes it (ES6 number formatting): %f-style shortest digits, or
 * %e-style with an unpadded exponent outside [1e-6, 1e21). NaN and infinities, which json refuses,
 * are written as Go's strconv spells them. */
static void fmt_json_double(struct sbuf *b, double d)
{
    if (isnan(d)) {
        sb_str(b, "NaN");
        return;
    }
    if (isinf(d)) {
        sb_str(b, d > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (signbit(d))
        sb_str(b, "-");
    if (d == 0) {
        sb_str(b, "0");
        return;
    }
    char dg[24];
    int e;
    shortest_digits(d, dg, &e);
    size_t nd = strlen(dg);
    double ad = fabs(d);
    char tmp[32];
    if (ad < 1e-6 || ad >= 1e21) {
        sb_put(b, dg, 1);
        if (nd > 1) {
            sb_str(b, ".");
            sb_put(b, dg + 1, nd - 1);
        }
        snprintf(tmp, sizeof tmp, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
        sb_str(b, tmp);
        return;
    }
    if (e < 0) {
        sb_str(b, "0.");
        for (int i = -1; i > e; i--)
            sb_str(b, "0");
        sb_put(b, dg, nd);
    } else if ((size_t)e + 1 >= nd) {
        sb_put(b, dg, nd);
        for (size_t i = nd; i < (size_t)e + 1; i++)
            sb_str(b, "0");
    } else {
        sb_put(b, dg, (size_t)e + 1);
        sb_str(b, ".");
        sb_put(b, dg + e + 1, nd - (size_t)e - 1);
    }
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the byte starts none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned cp, min;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* A JSON string as encoding/json writes it: HTML-safe, U+2028/2029 escaped, invalid UTF-8 as
 * U+FFFD. */
static void fmt_json_string(struct sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    sb_str(b, "\"");
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c < 0x80) {
            char esc[8];
            switch (c) {
            case '"': sb_str(b, "\\\""); break;
            case '\\': sb_str(b, "\\\\"); break;
            case '\n': sb_str(b, "\\n"); break;
            case '\r': sb_str(b, "\\r"); break;
            case '\t': sb_str(b, "\\t"); break;
            case '\b': sb_str(b, "\\b"); break;
            case '\f': sb_str(b, "\\f"); break;
            default:
                if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                    esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
                    esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
                    sb_put(b, esc, 6);
                } else {
                    sb_put(b, s + i, 1);
                }
            }
            i++;
            continue;
        }
        size_t l = utf8_len(u + i, n - i);
        if (l == 0) {
            sb_str(b, "\\ufffd");
            i++;
        } else if (l == 3 && u[i] == 0xE2 && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
            sb_str(b, u[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
            i += 3;
        } else {
            sb_put(b, s + i, l);
            i += l;
        }
    }
    sb_str(b, "\"");
}

static void fmt_base64(struct sbuf *b, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        char q[4];
        sb_put(b, q, ottl_base64(q, p + i, n - i < 3 ? n - i : 3));
    }
}

/* time.Time's RFC 3339 form with nanoseconds, trailing zeros trimmed, in UTC (the paths' times
 * are UTC, as the Collector builds them with time.Unix(0, ns).UTC()). */
static void fmt_rfc3339nano(struct sbuf *b, int64_t ns)
{
    int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    char buf[64];
    if (!gmtime_r(&t, &tm)) {
        sb_str(b, "0001-01-01T00:00:00Z");
        return;
    }
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    sb_str(b, buf);
    if (frac) {
        snprintf(buf, sizeof buf, ".%09" PRId64, frac);
        size_t l = strlen(buf);
        while (buf[l - 1] == '0')
            l--;
        sb_put(b, buf, l);
    }
    sb_str(b, "Z");
}

static int key_cmp(const void *x, const void *y)
{
    const OttlKeyValue *a = *(OttlKeyValue *const *)x, *b = *(OttlKeyValue *const *)y;
    int c = strcmp(a->key ? a->key : "", b->key ? b->key : "");
    if (c)
        return c;
    return a < b ? -1 : a > b;   /* stable enough to keep the last of equal keys last */
}

static void fmt_json(struct sbuf *b, const struct ottl_value *v, int depth);

/* encoding/json of pcommon.Map.AsRaw(): keys sorted, the last of duplicate keys wins. */
static void fmt_json_map(struct sbuf *b, const struct ottl_value *v, int depth)
{
    size_t n = *v->map.n;
    OttlKeyValue **kvs = *v->map.kv;
    OttlKeyValue **sorted = n ? malloc(n * sizeof *sorted) : NULL;
    if (n && !sorted) {
        b->oom = true;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!kvs[i])
            continue;
        /* keep only the last entry of each key, in its original position order */
        bool later = false;
        for (size_t j = i + 1; j < n && !later; j++)
            later = kvs[j] && strcmp(kvs[j]->key ? kvs[j]->key : "",
                                     kvs[i]->key ? kvs[i]->key : "") == 0;
        if (!later)
            sorted[k++] = kvs[i];
    }
    if (k)
        qsort(sorted, k, sizeof *sorted, key_cmp);
    sb_str(b, "{");
    for (size_t i = 0; i < k; i++) {
        if (i)
            sb_str(b, ",");
        const char *key = sorted[i]->key ? sorted[i]->key : "";
        fmt_json_string(b, key, strlen(key));
        sb_str(b, ":");
        struct ottl_value ev;
        ottl_value_from_any(sorted[i]->value, &ev);
        fmt_json(b, &ev, depth + 1);
    }
    sb_str(b, "}");
    free(sorted);
}

static void fmt_json(struct sbuf *b, const struct ottl_value *v, int depth)
{
    char tmp[32];
    if (depth > 200) {   /* decoded data is bounded by protobuf-c's own depth; this is a backstop */
        sb_str(b, "null");
        return;
    }
    switch (v->t) {
    case OTTL_V_NIL:
        sb_str(b, "null");
        break;
    case OTTL_V_BOOL:
        sb_str(b, v->b ? "true" : "false");
        break;
    case OTTL_V_INT:
    case OTTL_V_DURATION:
        snprintf(tmp, sizeof tmp, "%" PRId64, v->i);
        sb_str(b, tmp);
        break;
    case OTTL_V_DOUBLE:
        fmt_json_double(b, v->d);
        break;
    case OTTL_V_STRING:
        fmt_json_string(b, v->s.p, v->s.n);
        break;
    case OTTL_V_BYTES:
        if (v->s.n == 0) {   /* AsRaw gives a nil []byte, which encoding/json writes as null */
            sb_str(b, "null");
            break;
        }
        sb_str(b, "\"");
        fmt_base64(b, (const unsigned char *)v->s.p, v->s.n);
        sb_str(b, "\"");
        break;
    case OTTL_V_TIME:
        sb_str(b, "\"");
        fmt_rfc3339nano(b, v->i);
        sb_str(b, "\"");
        break;
    case OTTL_V_MAP:
        fmt_json_map(b, v, depth);
        break;
    case OTTL_V_LIST:
        sb_str(b, "[");
        for (size_t i = 0; i < *v->list.n; i++) {
            if (i)
                sb_str(b, ",");
            struct ottl_value ev;
            ottl_value_from_any((*v->list.v)[i], &ev);
            fmt_json(b, &ev, depth + 1);
        }
        sb_str(b, "]");
        break;
    }
}

/* nil gives "" (String() itself answers nil; callers test for nil first). NaN and infinities,
 * which encoding/json refuses, are written as strconv spells them rather than failing. */
char *ottl_value_to_string(struct arena *a, const struct ottl_value *v, size_t *len)
{
    struct sbuf b = { 0 };
    static const char hex[] = "0123456789abcdef";
    switch (v->t) {
    case OTTL_V_NIL:
        sb_put(&b, "", 0);
        break;
    case OTTL_V_STRING:
        sb_put(&b, v->s.p, v->s.n);
        break;
    case OTTL_V_BYTES:
        sb_put(&b, "", 0);
        for (size_t i = 0; i < v->s.n; i++) {
            unsigned char c = (unsigned char)v->s.p[i];
            char h[2] = { hex[c >> 4], hex[c & 15] };
            sb_put(&b, h, 2);
        }
        break;
    default:
        fmt_json(&b, v, 0);
        break;
    }
    char *out = NULL;
    if (!b.oom) {
        out = dup_n(a, b.p ? b.p : "", b.n);
        if (out && len)
            *len = b.n;
    }
    free(b.p);
    return out;
}

const char *ottl_vtype_name(enum ottl_vtype t)
{
    switch (t) {
    case OTTL_V_NIL: return "nil";
    case OTTL_V_BOOL: return "bool";
    case OTTL_V_INT: return "int";
    case OTTL_V_DOUBLE: return "double";
    case OTTL_V_STRING: return "string";
    case OTTL_V_BYTES: return "bytes";
    case OTTL_V_MAP: return "map";
    case OTTL_V_LIST: return "slice";
    case OTTL_V_TIME: return "time";
    case OTTL_V_DURATION: return "duration";
    }
    return "unknown";
}
