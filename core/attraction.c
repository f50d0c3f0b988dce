/* attraction.c — the Collector's attribute actions (see attraction.h), over protobuf-c attribute
 * arrays.
 *
 * The one idea: every action is a small edit of one array of KeyValue pointers, done the way
 * pdata's Map does it, so the results match the Collector's to the byte: Get finds the first
 * key, PutEmpty appends, Remove moves the last pair into the hole, a written value is a fresh copy
 * in the request's arena (never shared with the config or with another attribute). The same
 * per-action test that decides whether an action would change the array also gives the dry run
 * (attraction_would_change): while no earlier action changed anything, the array each later
 * action sees is the one that arrived, so the first action that would change it answers. */
#include "core/attraction.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "core/regex.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;
typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;
typedef Opentelemetry__Proto__Common__V1__ArrayValue arr_t;
typedef Opentelemetry__Proto__Common__V1__KeyValueList kvl_t;

#define V_NONE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET
#define V_STR OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE
#define V_KVLIST OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE
#define V_BYTES OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE

#define MAX_DEPTH 64   /* nesting of arrays/maps walked by copy, compare and AsString */

/* ---- values -------------------------------------------------------------------------------- */

static any_t *any_new(struct arena *a)
{
    any_t *v = arena_alloc(a, sizeof *v);
    if (v)
        opentelemetry__proto__common__v1__any_value__init(v);
    return v;
}

static any_t *any_str(struct arena *a, const char *s, size_t n)
{
    any_t *v = any_new(a);
    char *c = v ? arena_alloc(a, n + 1) : NULL;
    if (!c)
        return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    v->value_case = V_STR;
    v->string_value = c;
    return v;
}

static any_t *any_dup_depth(struct arena *a, const any_t *src, int depth)
{
    any_t *v = any_new(a);
    if (!v || !src || depth > MAX_DEPTH)
        return v;
    v->value_case = src->value_case;
    switch (src->value_case) {
    case V_STR:
        v->string_value = arena_strdup(a, src->string_value ? src->string_value : "");
        return v->string_value ? v : NULL;
    case V_BOOL:
        v->bool_value = src->bool_value;
        return v;
    case V_INT:
        v->int_value = src->int_value;
        return v;
    case V_DOUBLE:
        v->double_value = src->double_value;
        return v;
    case V_BYTES:
        v->bytes_value.len = src->bytes_value.len;
        v->bytes_value.data = src->bytes_value.len
                                  ? arena_memdup(a, src->bytes_value.data, src->bytes_value.len)
                                  : NULL;
        return (v->bytes_value.data || !src->bytes_value.len) ? v : NULL;
    case V_ARRAY: {
        arr_t *arr = arena_alloc(a, sizeof *arr);
        if (!arr)
            return NULL;
        opentelemetry__proto__common__v1__array_value__init(arr);
        size_t n = src->array_value ? src->array_value->n_values : 0;
        if (n) {
            arr->values = arena_alloc(a, n * sizeof *arr->values);
            if (!arr->values)
                return NULL;
            for (size_t i = 0; i < n; i++)
                if (!(arr->values[i] = any_dup_depth(a, src->array_value->values[i], depth + 1)))
                    return NULL;
        }
        arr->n_values = n;
        v->array_value = arr;
        return v;
    }
    case V_KVLIST: {
        kvl_t *l = arena_alloc(a, sizeof *l);
        if (!l)
            return NULL;
        opentelemetry__proto__common__v1__key_value_list__init(l);
        size_t n = src->kvlist_value ? src->kvlist_value->n_values : 0;
        if (n) {
            l->values = arena_alloc(a, n * sizeof *l->values);
            if (!l->values)
                return NULL;
            for (size_t i = 0; i < n; i++) {
                const kv_t *s = src->kvlist_value->values[i];
                kv_t *k = arena_alloc(a, sizeof *k);
                if (!k)
                    return NULL;
                opentelemetry__proto__common__v1__key_value__init(k);
                k->key = arena_strdup(a, s && s->key ? s->key : "");
                k->value = any_dup_depth(a, s ? s->value : NULL, depth + 1);
                if (!k->key || !k->value)
                    return NULL;
                l->values[i] = k;
            }
        }
        l->n_values = n;
        v->kvlist_value = l;
        return v;
    }
    default:
        v->value_case = V_NONE;
        return v;
    }
}

static any_t *any_dup(struct arena *a, const any_t *src) { return any_dup_depth(a, src, 0); }

static int vcase(const any_t *v)
{
    if (!v)
        return V_NONE;
    switch (v->value_case) {
    case V_STR: case V_BOOL: case V_INT: case V_DOUBLE: case V_ARRAY: case V_KVLIST: case V_BYTES:
        return v->value_case;
    default:
        return V_NONE;
    }
}

static const char *sval(const any_t *v) { return v->string_value ? v->string_value : ""; }

static bool equal_depth(const any_t *x, const any_t *y, int depth)
{
    int c = vcase(x);
    if (c != vcase(y) || depth > MAX_DEPTH)
        return false;
    switch (c) {
    case V_NONE:
        return true;
    case V_STR:
        return strcmp(sval(x), sval(y)) == 0;
    case V_BOOL:
        return !x->bool_value == !y->bool_value;
    case V_INT:
        return x->int_value == y->int_value;
    case V_DOUBLE:
        return x->double_value == y->double_value;
    case V_BYTES:
        return x->bytes_value.len == y->bytes_value.len &&
               (!x->bytes_value.len ||
                memcmp(x->bytes_value.data, y->bytes_value.data, x->bytes_value.len) == 0);
    case V_ARRAY: {
        size_t nx = x->array_value ? x->array_value->n_values : 0;
        size_t ny = y->array_value ? y->array_value->n_values : 0;
        if (nx != ny)
            return false;
        for (size_t i = 0; i < nx; i++)
            if (!equal_depth(x->array_value->values[i], y->array_value->values[i], depth + 1))
                return false;
        return true;
    }
    case V_KVLIST: {
        /* pdatautil.ValueHash hashes a map in key order: the order of pairs does not matter */
        size_t nx = x->kvlist_value ? x->kvlist_value->n_values : 0;
        size_t ny = y->kvlist_value ? y->kvlist_value->n_values : 0;
        if (nx != ny)
            return false;
        for (size_t i = 0; i < nx; i++) {
            const kv_t *a = x->kvlist_value->values[i];
            const char *k = a && a->key ? a->key : "";
            bool found = false;
            for (size_t j = 0; j < ny && !found; j++) {
                const kv_t *b = y->kvlist_value->values[j];
                if (strcmp(k, b && b->key ? b->key : "") == 0)
                    found = equal_depth(a ? a->value : NULL, b ? b->value : NULL, depth + 1);
            }
            if (!found)
                return false;
        }
        return true;
    }
    }
    return false;
}

bool attraction_value_equal(const any_t *x, const any_t *y) { return equal_depth(x, y, 0); }

/* ---- Value.AsString ------------------------------------------------------------------------ */

struct sb {
    char *p;
    size_t cap, len;   /* len counts every byte asked for, written or not */
};

static void sb_put(struct sb *b, const char *s, size_t n)
{
    if (b->len < b->cap) {
        size_t room = b->cap - b->len;
        memcpy(b->p + b->len, s, n < room ? n : room);
    }
    b->len += n;
}

static void sb_puts(struct sb *b, const char *s) { sb_put(b, s, strlen(s)); }

/* Shortest decimal digits that read back as d (d > 0, finite), and the decimal point position:
 * d = 0.DIGITS x 10^*point, as Go's strconv does for precision -1. */
static int shortest_digits(double d, char *digits, int *point)
{
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d || prec == 17)
            break;
    }
    int n = 0;
    const char *p = buf;
    for (; *p && *p != 'e'; p++)
        if (isdigit((unsigned char)*p))
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *point = atoi(p + 1) + 1;
    return n;
}

static void put_float_mode(struct sb *b, double d, bool as_json, bool plain_f, bool *bad);

static void put_float(struct sb *b, double d, bool as_json, bool *bad)
{
    put_float_mode(b, d, as_json, false, bad);
}

size_t attraction_format_double_f(double d, char *out, size_t cap)
{
    struct sb b = {.p = out, .cap = cap ? cap - 1 : 0};
    if (isnan(d) || isinf(d))
        sb_puts(&b, isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
    else
        put_float_mode(&b, d, false, true, NULL);
    if (cap)
        out[b.len < cap - 1 ? b.len : cap - 1] = '\0';
    return b.len;
}

/* Go's float64 formatting for AsString and encoding/json: ES6 number-to-string ('f' between
 * 1e-6 and 1e21, else 'e' with a two-digit-minimum exponent cleaned of a leading 0 when
 * negative). Non-finite values are what json refuses; AsString writes its error text then. */
static void put_float_mode(struct sb *b, double d, bool as_json, bool plain_f, bool *bad)
{
    char out[64];
    if (isnan(d) || isinf(d)) {
        if (bad)
            *bad = true;
        if (!as_json) {
            snprintf(out, sizeof out, "json: unsupported value: %s",
                     isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
            sb_puts(b, out);
        }
        return;
    }
    if (d == 0) {
        sb_puts(b, signbit(d) ? "-0" : "0");
        return;
    }
    if (d < 0)
        sb_puts(b, "-");
    double a = fabs(d);
    char dig[32];
    int point;
    int n = shortest_digits(a, dig, &point);
    if (!plain_f && (a < 1e-6 || a >= 1e21)) {
        int e = point - 1;
        sb_put(b, dig, 1);
        if (n > 1) {
            sb_puts(b, ".");
            sb_put(b, dig + 1, (size_t)n - 1);
        }
        if (e < 0 && e > -10)
            snprintf(out, sizeof out, "e-%d", -e);
        else
            snprintf(out, sizeof out, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
        sb_puts(b, out);
        return;
    }
    if (point <= 0) {
        sb_puts(b, "0.");
        for (int i = 0; i < -point; i++)
            sb_puts(b, "0");
        sb_put(b, dig, (size_t)n);
    } else if (point >= n) {
        sb_put(b, dig, (size_t)n);
        for (int i = n; i < point; i++)
            sb_puts(b, "0");
    } else {
        sb_put(b, dig, (size_t)point);
        sb_puts(b, ".");
        sb_put(b, dig + point, (size_t)(n - point));
    }
}

static void put_base64(struct sb *b, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char o[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63],
                     i + 1 < n ? tab[(v >> 6) & 63] : '=', i + 2 < n ? tab[v & 63] : '='};
        sb_put(b, o, 4);
    }
}

/* encoding/json's string: HTML-safe (<, >, & escaped), U+2028/2029 escaped, invalid UTF-8 as
 * \ufffd, \b \f \n \r \t short, other control bytes \u00XX. */
static void put_json_string(struct sb *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    sb_puts(b, "\"");
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c < 0x80) {
            char e[8];
            if (c == '"' || c == '\\') {
                e[0] = '\\', e[1] = (char)c;
                sb_put(b, e, 2);
            } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
                e[0] = '\\';
                e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
                sb_put(b, e, 2);
            } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                memcpy(e, "\\u00", 4);
                e[4] = hex[c >> 4], e[5] = hex[c & 15];
                sb_put(b, e, 6);
            } else {
                e[0] = (char)c;
                sb_put(b, e, 1);
            }
            i++;
            continue;
        }
        /* a valid sequence is copied; anything else is one byte of U+FFFD */
        size_t k = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            k = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        bool ok = k && i + k <= n && u[i + 1] >= lo && u[i + 1] <= hi;
        for (size_t j = 2; ok && j < k; j++)
            ok = u[i + j] >= 0x80 && u[i + j] <= 0xBF;
        if (!ok) {
            sb_puts(b, "\\ufffd");
            i++;
            continue;
        }
        if (k == 3 && c == 0xE2 && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
            sb_puts(b, u[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
        } else {
            sb_put(b, s + i, k);
        }
        i += k;
    }
    sb_puts(b, "\"");
}

static int kv_key_cmp(const void *x, const void *y)
{
    const kv_t *a = *(const kv_t *const *)x, *b = *(const kv_t *const *)y;
    return strcmp(a && a->key ? a->key : "", b && b->key ? b->key : "");
}

/* Go's json.Marshal of Value.AsRaw(): maps with sorted keys, bytes as base64 strings, an empty
 * value as null. Sets *bad where json.Marshal would fail (NaN, Inf). */
static void put_json(struct sb *b, const any_t *v, int depth, bool *bad)
{
    char num[32];
    if (depth > MAX_DEPTH) {
        *bad = true;
        return;
    }
    switch (vcase(v)) {
    case V_NONE:
        sb_puts(b, "null");
        return;
    case V_STR:
        put_json_string(b, sval(v), strlen(sval(v)));
        return;
    case V_BOOL:
        sb_puts(b, v->bool_value ? "true" : "false");
        return;
    case V_INT:
        snprintf(num, sizeof num, "%" PRId64, v->int_value);
        sb_puts(b, num);
        return;
    case V_DOUBLE:
        put_float(b, v->double_value, true, bad);
        return;
    case V_BYTES:
        sb_puts(b, "\"");
        put_base64(b, v->bytes_value.data, v->bytes_value.len);
        sb_puts(b, "\"");
        return;
    case V_ARRAY: {
        sb_puts(b, "[");
        size_t n = v->array_value ? v->array_value->n_values : 0;
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_puts(b, ",");
            put_json(b, v->array_value->values[i], depth + 1, bad);
        }
        sb_puts(b, "]");
        return;
    }
    case V_KVLIST: {
        size_t n = v->kvlist_value ? v->kvlist_value->n_values : 0;
        const kv_t **sorted = n ? malloc(n * sizeof *sorted) : NULL;
        if (n && !sorted) {
            *bad = true;
            return;
        }
        for (size_t i = 0; i < n; i++)
            sorted[i] = v->kvlist_value->values[i];
        if (n)
            qsort(sorted, n, sizeof *sorted, kv_key_cmp);
        sb_puts(b, "{");
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            const char *k = sorted[i] && sorted[i]->key ? sorted[i]->key : "";
            /* a Go map keeps the last of duplicate keys */
            if (i + 1 < n && strcmp(k, sorted[i + 1] && sorted[i + 1]->key ? sorted[i + 1]->key
                                                                            : "") == 0)
                continue;
            if (w++)
                sb_puts(b, ",");
            put_json_string(b, k, strlen(k));
            sb_puts(b, ":");
            put_json(b, sorted[i] ? sorted[i]->value : NULL, depth + 1, bad);
        }
        sb_puts(b, "}");
        free(sorted);
        return;
    }
    }
}

static size_t as_string(const any_t *v, struct sb *b)
{
    char num[32];
    bool bad = false;
    switch (vcase(v)) {
    case V_NONE:
        break;
    case V_STR:
        sb_puts(b, sval(v));
        break;
    case V_BOOL:
        sb_puts(b, v->bool_value ? "true" : "false");
        break;
    case V_INT:
        snprintf(num, sizeof num, "%" PRId64, v->int_value);
        sb_puts(b, num);
        break;
    case V_DOUBLE:
        put_float(b, v->double_value, false, &bad);
        break;
    case V_BYTES:
        put_base64(b, v->bytes_value.data, v->bytes_value.len);
        break;
    default: {
        size_t start = b->len;
        put_json(b, v, 0, &bad);
        if (bad)
            b->len = start;   /* json.Marshal failed: AsString gives "" */
        break;
    }
    }
    return b->len;
}

size_t attraction_as_string(const any_t *v, char *out, size_t cap)
{
    struct sb b = {.p = out, .cap = cap ? cap - 1 : 0};
    size_t n = as_string(v, &b);
    if (cap)
        out[n < cap - 1 ? n : cap - 1] = '\0';
    return n;
}

/* AsString into the arena, whole. */
static char *as_string_arena(struct arena *a, const any_t *v, size_t *len)
{
    char small[256];
    size_t n = attraction_as_string(v, small, sizeof small);
    char *s = arena_alloc(a, n + 1);
    if (!s)
        return NULL;
    if (n < sizeof small)
        memcpy(s, small, n + 1);
    else
        attraction_as_string(v, s, n + 1);
    *len = n;
    return s;
}

/* ---- YAML to values ------------------------------------------------------------------------ */

/* A plain scalar as go-yaml v3 resolves it. */
static void resolve_plain(const char *s, any_t *v)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"};
    static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF"};
    static const char *const nan_[] = {".nan", ".NaN", ".NAN"};
    for (size_t i = 0; i < 6; i++)
        if (strcmp(s, inf[i]) == 0) {
            v->value_case = V_DOUBLE, v->double_value = INFINITY;
            return;
        }
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s, ninf[i]) == 0) {
            v->value_case = V_DOUBLE, v->double_value = -INFINITY;
            return;
        }
        if (strcmp(s, nan_[i]) == 0) {
            v->value_case = V_DOUBLE, v->double_value = NAN;
            return;
        }
    }
    bool b;
    if (config_parse_bool(s, &b) == 0) {
        v->value_case = V_BOOL, v->bool_value = b;
        return;
    }
    if (*s == '+' || *s == '-' || isdigit((unsigned char)*s) || *s == '.') {
        char plain[128];
        size_t n = 0;
        bool fits = true;
        for (const char *p = s; *p; p++) {
            if (*p == '_')
                continue;
            if (n + 1 >= sizeof plain) {
                fits = false;
                break;
            }
            plain[n++] = *p;
        }
        plain[n] = '\0';
        if (fits && *s != '.') {
            const char *p = plain;
            bool neg = *p == '-';
            if (*p == '+' || *p == '-')
                p++;
            uint64_t u;
            if (*p != '+' && *p != '-' && config_parse_uint0(p, &u) == 0) {
                if (!neg && u <= (uint64_t)INT64_MAX) {
                    v->value_case = V_INT, v->int_value = (int64_t)u;
                    return;
                }
                if (neg && u <= (uint64_t)INT64_MAX + 1) {
                    v->value_case = V_INT;
                    v->int_value = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
                    return;
                }
                if (!neg && plain[0] != '+') {
                    /* a uint64 beyond int64: pcommon's FromRaw stores int64(u) */
                    v->value_case = V_INT, v->int_value = (int64_t)u;
                    return;
                }
            }
        }
        const char *f = *s == '.' ? s : plain;
        if ((fits || *s == '.') && config_yaml_float_form(f)) {
            v->value_case = V_DOUBLE, v->double_value = strtod(f, NULL);
            return;
        }
    }
    v->value_case = V_STR;
}

static any_t *from_yaml(const struct cnode *n, struct arena *a, int depth, struct error *err)
{
    char pos[300];
    if (depth > MAX_DEPTH) {
        error_set(err, "%s: value nested too deeply", cnode_where(n, pos, sizeof pos));
        return NULL;
    }
    any_t *v = any_new(a);
    if (!v) {
        error_set(err, "out of memory");
        return NULL;
    }
    if (!n || n->kind == CNODE_NULL)
        return v;
    if (n->kind == CNODE_SCALAR) {
        if (n->quoted)
            v->value_case = V_STR;
        else
            resolve_plain(n->value, v);
        if (v->value_case == V_STR && !(v->string_value = arena_strdup(a, n->value))) {
            error_set(err, "out of memory");
            return NULL;
        }
        return v;
    }
    if (n->kind == CNODE_SEQ) {
        arr_t *arr = arena_alloc(a, sizeof *arr);
        if (arr)
            opentelemetry__proto__common__v1__array_value__init(arr);
        if (!arr || (n->n && !(arr->values = arena_alloc(a, n->n * sizeof *arr->values)))) {
            error_set(err, "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < n->n; i++)
            if (!(arr->values[i] = from_yaml(n->items[i], a, depth + 1, err)))
                return NULL;
        arr->n_values = n->n;
        v->value_case = V_ARRAY;
        v->array_value = arr;
        return v;
    }
    kvl_t *l = arena_alloc(a, sizeof *l);
    if (!l) {
        error_set(err, "out of memory");
        return NULL;
    }
    opentelemetry__proto__common__v1__key_value_list__init(l);
    if (n->n && !(l->values = arena_alloc(a, n->n * sizeof *l->values))) {
        error_set(err, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n->n; i++) {
        kv_t *k = arena_alloc(a, sizeof *k);
        if (!k) {
            error_set(err, "out of memory");
            return NULL;
        }
        opentelemetry__proto__common__v1__key_value__init(k);
        k->key = arena_strdup(a, n->keys[i]->value ? n->keys[i]->value : "");
        if (!k->key || !(k->value = from_yaml(n->items[i], a, depth + 1, err)))
            return NULL;
        l->values[i] = k;
    }
    l->n_values = n->n;
    v->value_case = V_KVLIST;
    v->kvlist_value = l;
    return v;
}

any_t *attraction_value_from_yaml(const struct cnode *n, struct arena *a, struct error *err)
{
    return from_yaml(n, a, 0, err);
}

/* ---- Go's strconv parsers for convert ------------------------------------------------------ */

/* strconv.ParseInt(s, 10, 64): an optional sign and decimal digits, in range. */
static bool go_parse_int10(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    if (*s == '+' || *s == '-')
        s++;
    if (!*s)
        return false;
    uint64_t x = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
    }
    if (!neg && x > (uint64_t)INT64_MAX)
        return false;
    if (neg && x > (uint64_t)INT64_MAX + 1)
        return false;
    *out = neg ? (x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x) : (int64_t)x;
    return true;
}

/* strconv's underscoreOK: '_' only between digits, or between a base prefix and a digit. */
static bool underscore_ok(const char *s)
{
    char saw = '^';
    if (*s == '+' || *s == '-')
        s++;
    bool hex = false;
    if (s[0] == '0' && s[1] && strchr("bBoOxX", s[1])) {
        hex = s[1] == 'x' || s[1] == 'X';
        s += 2;
        saw = '0';
    }
    for (; *s; s++) {
        if (isdigit((unsigned char)*s) || (hex && isxdigit((unsigned char)*s))) {
            saw = '0';
            continue;
        }
        if (*s == '_') {
            if (saw != '0')
                return false;
            saw = '_';
            continue;
        }
        if (saw == '_')
            return false;
        saw = '!';
    }
    return saw != '_';
}

static size_t prefix_ci(const char *s, const char *word)
{
    size_t n = 0;
    while (s[n] && word[n] && tolower((unsigned char)s[n]) == word[n])
        n++;
    return n;
}

/* strconv.ParseFloat(s, 64): Go's decimal and hexadecimal float syntax (with underscores as
 * Go literals allow them), "inf"/"infinity" with an optional sign, "nan"; false on a syntax
 * error or when the value overflows to infinity (ErrRange). */
static bool go_parse_float(const char *s, double *out)
{
    const char *p = s;
    double sign = 1;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    if (*p == 'i' || *p == 'I') {
        size_t n = prefix_ci(p, "infinity");
        if ((n == 3 && p[3] == '\0') || (n == 8 && p[8] == '\0')) {
            *out = sign * INFINITY;
            return true;
        }
        return false;
    }
    if ((*p == 'n' || *p == 'N') && p == s) {
        if (prefix_ci(p, "nan") == 3 && p[3] == '\0') {
            *out = NAN;
            return true;
        }
        return false;
    }
    bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    const char *q = hex ? p + 2 : p;
    bool digits = false, dot = false, underscores = false;
    for (; *q; q++) {
        if (*q == '_') {
            underscores = true;
            continue;
        }
        if (*q == '.' && !dot) {
            dot = true;
            continue;
        }
        if (isdigit((unsigned char)*q) || (hex && isxdigit((unsigned char)*q))) {
            digits = true;
            continue;
        }
        break;
    }
    if (!digits)
        return false;
    if (hex ? (*q != 'p' && *q != 'P') : (*q && *q != 'e' && *q != 'E'))
        return false;   /* a hex mantissa needs its p exponent */
    if (*q) {
        q++;
        if (*q == '+' || *q == '-')
            q++;
        bool ed = false;
        for (; *q; q++) {
            if (*q == '_') {
                underscores = true;
                continue;
            }
            if (!isdigit((unsigned char)*q))
                return false;
            ed = true;
        }
        if (!ed)
            return false;
    }
    if (underscores && !underscore_ok(s))
        return false;
    char plain[512];
    size_t n = 0;
    for (const char *c = s; *c; c++) {
        if (*c == '_')
            continue;
        if (n + 1 >= sizeof plain)
            return false;
        plain[n++] = *c;
    }
    plain[n] = '\0';
    errno = 0;
    char *end;
    double d = strtod(plain, &end);
    if (*end || isinf(d))
        return false;
    *out = d;
    return true;
}

/* Go's int64(f) on amd64: truncation toward zero; NaN and out-of-range give MinInt64. */
static int64_t go_f2i(double d)
{
    if (isnan(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

/* ---- actions ------------------------------------------------------------------------------- */

enum aa_kind { AA_INSERT, AA_UPDATE, AA_UPSERT, AA_DELETE, AA_HASH, AA_EXTRACT, AA_CONVERT };
enum aa_conv { CONV_NONE, CONV_INT, CONV_DOUBLE, CONV_STRING };

struct aa {
    enum aa_kind kind;
    char *key;              /* "" when unset (delete/hash by pattern only) */
    char *from_attribute;   /* NULL when unset */
    any_t *value;           /* in the attraction's arena; NULL when unset */
    any_t *def;             /* default_value */
    struct regex *re;
    int ngroups;
    const char **names;     /* extract: [1..ngroups] */
    enum aa_conv conv;
};

struct attraction {
    size_t n;
    struct aa *v;
    struct arena *arena;    /* config values */
};

/* One item of the list, as written. */
struct aa_cfg {
    char *key, *pattern, *from_attribute, *from_context, *converted_type, *action;
    const struct cnode *value, *default_value;
};

#define AOFF(f) offsetof(struct aa_cfg, f)
const struct config_field attraction_action_fields[] = {
    {.name = "key", .type = CFG_STRING, .offset = AOFF(key), .doc = "attribute to act upon"},
    {.name = "action", .type = CFG_STRING, .offset = AOFF(action),
     .doc = "insert, update, upsert, delete, hash, extract or convert (any case)"},
    {.name = "value", .type = CFG_RAW, .offset = AOFF(value),
     .doc = "value to write; its YAML type is the attribute's type"},
    {.name = "from_attribute", .type = CFG_STRING, .offset = AOFF(from_attribute),
     .doc = "attribute whose value is written"},
    {.name = "from_context", .type = CFG_STRING, .offset = AOFF(from_context),
     .doc = "refused: llmotlp carries no client metadata, auth data or address with a batch"},
    {.name = "default_value", .type = CFG_RAW, .offset = AOFF(default_value),
     .doc = "value written when value/from_attribute gives none"},
    {.name = "pattern", .type = CFG_STRING, .offset = AOFF(pattern),
     .doc = "RE2 regexp: keys to delete/hash, or named groups to extract"},
    {.name = "converted_type", .type = CFG_STRING, .offset = AOFF(converted_type),
     .doc = "convert: int, double or string"},
    {.name = NULL},
};
#undef AOFF

void attraction_free(struct attraction *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].key);
        free(a->v[i].from_attribute);
        regex_free(a->v[i].re);
        free(a->v[i].names);
    }
    free(a->v);
    arena_free(a->arena);
    free(a);
}

size_t attraction_count(const struct attraction *a) { return a ? a->n : 0; }

static bool set(const char *s) { return s && s[0]; }
static bool set_raw(const struct cnode *n) { return n && n->kind != CNODE_NULL; }

/* "file:line:col: path[i]: error creating AttrProc..." at the key `at` names (else the item). */
static int aerr(struct error *err, const struct cnode *item, const char *at, const char *path,
                size_t i, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int aerr(struct error *err, const struct cnode *item, const char *at, const char *path,
                size_t i, const char *fmt, ...)
{
    char pos[300], msg[700];
    const struct cnode *n = at ? cnode_key(item, at) : NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return error_set(err, "%s: %s[%zu]: %s", cnode_where(n ? n : item, pos, sizeof pos), path, i,
                     msg);
}

static int compile_one(struct attraction *A, const struct cnode *item, const char *path,
                       size_t i, struct aa *out, struct error *err)
{
    struct aa_cfg c;
    memset(&c, 0, sizeof c);
    struct error berr = {0};
    if (config_bind(attraction_action_fields, item, &c, &berr) != 0) {
        error_set(err, "%s[%zu]: %s", path, i, berr.msg);
        config_free_bound(attraction_action_fields, &c);
        return -1;
    }
    int rc = -1;
    char act[32];
    snprintf(act, sizeof act, "%s", c.action ? c.action : "");
    for (char *p = act; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    static const char *const names[] = {"insert", "update", "upsert", "delete", "hash",
                                        "extract", "convert"};
    int kind = -1;
    for (int k = 0; k < 7; k++)
        if (strcmp(act, names[k]) == 0 && strlen(c.action) < sizeof act)
            kind = k;
    bool by_pattern = kind == AA_DELETE || kind == AA_HASH;
    if (by_pattern && !set(c.key) && !set(c.pattern)) {
        aerr(err, item, NULL, path, i, "error creating AttrProc due to missing required field "
             "(at least one of \"key\" and \"pattern\" have to be used) at the %zu-th actions", i);
        goto out;
    }
    if (!by_pattern && !set(c.key)) {
        aerr(err, item, NULL, path, i, "error creating AttrProc due to missing required field "
             "\"key\" at the %zu-th actions", i);
        goto out;
    }
    if (kind < 0) {
        aerr(err, item, "action", path, i, "error creating AttrProc due to unsupported action "
             "\"%s\" at the %zu-th actions (one of insert, update, upsert, delete, hash, "
             "extract, convert)", c.action ? c.action : "", i);
        goto out;
    }
    if (set(c.from_context)) {
        aerr(err, item, "from_context", path, i, "from_context \"%s\" is not supported: llmotlp "
             "carries no client metadata, auth data or client address with the data it "
             "receives, so the value would never be found; use value or from_attribute",
             c.from_context);
        goto out;
    }
    int sources = set_raw(c.value) + set(c.from_attribute);
    const char *a = names[kind];
    out->kind = (enum aa_kind)kind;
    switch (kind) {
    case AA_INSERT:
    case AA_UPDATE:
    case AA_UPSERT:
        if (sources == 0 && !set_raw(c.default_value)) {
            aerr(err, item, NULL, path, i, "error creating AttrProc. Either field \"value\", "
                 "\"from_attribute\" or \"from_context\" setting must be specified for %zu-th "
                 "action", i);
            goto out;
        }
        if (sources > 1) {
            aerr(err, item, "from_attribute", path, i, "error creating AttrProc due to "
                 "multiple value sources being set at the %zu-th actions", i);
            goto out;
        }
        if (set(c.pattern)) {
            aerr(err, item, "pattern", path, i, "error creating AttrProc. Action \"%s\" does "
                 "not use the \"pattern\" field. This must not be specified for %zu-th action",
                 a, i);
            goto out;
        }
        if (set(c.converted_type)) {
            aerr(err, item, "converted_type", path, i, "error creating AttrProc. Action \"%s\" "
                 "does not use the \"converted_type\" field. This must not be specified for "
                 "%zu-th action", a, i);
            goto out;
        }
        if (set_raw(c.value) && !(out->value = attraction_value_from_yaml(c.value, A->arena, err)))
            goto out;
        if (set_raw(c.default_value) &&
            !(out->def = attraction_value_from_yaml(c.default_value, A->arena, err)))
            goto out;
        if (set(c.from_attribute) && !(out->from_attribute = strdup(c.from_attribute))) {
            error_set(err, "out of memory");
            goto out;
        }
        break;
    case AA_DELETE:
    case AA_HASH:
    case AA_EXTRACT:
    case AA_CONVERT:
        if (set_raw(c.default_value)) {
            aerr(err, item, "default_value", path, i, "error creating AttrProc. Action \"%s\" "
                 "does not use the \"default_value\" field (only insert, update and upsert do). "
                 "This must not be specified for %zu-th action", a, i);
            goto out;
        }
        if (kind == AA_DELETE || kind == AA_HASH) {
            if (sources) {
                aerr(err, item, set_raw(c.value) ? "value" : "from_attribute", path, i,
                     "error creating AttrProc. Action \"%s\" does not use \"value\" or "
                     "\"from_attribute\" field. These must not be specified for %zu-th action",
                     a, i);
                goto out;
            }
        } else if (kind == AA_EXTRACT && sources) {
            aerr(err, item, set_raw(c.value) ? "value" : "from_attribute", path, i,
                 "error creating AttrProc. Action \"%s\" does not use a value source field. "
                 "These must not be specified for %zu-th action", a, i);
            goto out;
        } else if (kind == AA_CONVERT && (sources || set(c.pattern))) {
            aerr(err, item, set(c.pattern) ? "pattern" : set_raw(c.value) ? "value"
                                                                         : "from_attribute",
                 path, i, "error creating AttrProc. Action \"%s\" does not use value sources "
                 "or \"pattern\" field. These must not be specified for %zu-th action", a, i);
            goto out;
        }
        if (kind == AA_EXTRACT && !set(c.pattern)) {
            aerr(err, item, NULL, path, i, "error creating AttrProc due to missing required "
                 "field \"pattern\" for action \"%s\" at the %zu-th action", a, i);
            goto out;
        }
        if (kind != AA_CONVERT && set(c.converted_type)) {
            aerr(err, item, "converted_type", path, i, "error creating AttrProc. Action \"%s\" "
                 "does not use the \"converted_type\" field. This must not be specified for "
                 "%zu-th action", a, i);
            goto out;
        }
        if (set(c.pattern)) {
            struct error rerr = {0};
            out->re = regex_compile(c.pattern, strlen(c.pattern), &rerr);
            if (!out->re) {
                aerr(err, item, "pattern", path, i, "error creating AttrProc. Field \"pattern\" "
                     "has invalid pattern: \"%s\" to be set at the %zu-th actions: %s",
                     c.pattern, i, rerr.msg);
                goto out;
            }
        }
        if (kind == AA_EXTRACT) {
            int g = regex_num_groups(out->re);
            if (g < 1) {
                aerr(err, item, "pattern", path, i, "error creating AttrProc. Field \"pattern\" "
                     "contains no named matcher groups at the %zu-th actions", i);
                goto out;
            }
            out->names = calloc((size_t)g + 1, sizeof *out->names);
            if (!out->names) {
                error_set(err, "out of memory");
                goto out;
            }
            for (int k = 1; k <= g; k++) {
                out->names[k] = regex_group_name(out->re, k);
                if (!out->names[k] || !out->names[k][0]) {
                    aerr(err, item, "pattern", path, i, "error creating AttrProc. Field "
                         "\"pattern\" contains at least one unnamed matcher group at the "
                         "%zu-th actions", i);
                    goto out;
                }
            }
            out->ngroups = g;
        }
        if (kind == AA_CONVERT) {
            const char *t = c.converted_type ? c.converted_type : "";
            if (!t[0]) {
                aerr(err, item, NULL, path, i, "error creating AttrProc due to missing required "
                     "field \"converted_type\" for action \"%s\" at the %zu-th action", a, i);
                goto out;
            }
            out->conv = strcmp(t, "int") == 0      ? CONV_INT
                        : strcmp(t, "double") == 0 ? CONV_DOUBLE
                        : strcmp(t, "string") == 0 ? CONV_STRING
                                                   : CONV_NONE;
            if (out->conv == CONV_NONE) {
                aerr(err, item, "converted_type", path, i, "error creating AttrProc due to "
                     "invalid value \"%s\" in field \"converted_type\" for action \"%s\" at the "
                     "%zu-th action (one of int, double, string)", t, a, i);
                goto out;
            }
        }
        break;
    }
    if (!(out->key = strdup(c.key ? c.key : ""))) {
        error_set(err, "out of memory");
        goto out;
    }
    rc = 0;
out:
    config_free_bound(attraction_action_fields, &c);
    return rc;
}

struct attraction *attraction_compile(const struct cnode *node, const char *path,
                                      struct error *err)
{
    char pos[300];
    if (node && node->kind != CNODE_NULL && node->kind != CNODE_SEQ) {
        error_set(err, "%s: %s: expected a list of actions ({key: ..., action: ...})",
                  cnode_where(node, pos, sizeof pos), path);
        return NULL;
    }
    struct attraction *A = calloc(1, sizeof *A);
    size_t n = node && node->kind == CNODE_SEQ ? node->n : 0;
    if (!A || !(A->arena = arena_new(0)) || (n && !(A->v = calloc(n, sizeof *A->v)))) {
        attraction_free(A);
        error_set(err, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cnode *item = node->items[i];
        A->n = i + 1;   /* v[i] is freed from here on */
        if (!item || item->kind != CNODE_MAP) {
            error_set(err, "%s: %s[%zu]: expected a map {key: ..., action: ...}",
                      cnode_where(item ? item : node, pos, sizeof pos), path, i);
            attraction_free(A);
            return NULL;
        }
        if (compile_one(A, item, path, i, &A->v[i], err) != 0) {
            attraction_free(A);
            return NULL;
        }
    }
    return A;
}

/* ---- applying ------------------------------------------------------------------------------ */

/* The working array: starts as the caller's, copied into the arena when it must grow. */
struct work {
    kv_t **v;
    size_t n, cap;
    struct arena *arena;
};

static const char *kkey(const kv_t *kv) { return kv && kv->key ? kv->key : ""; }

static long find(kv_t *const *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && strcmp(kkey(v[i]), key) == 0)
            return (long)i;
    return -1;
}

static int w_append(struct work *w, const char *key, any_t *val)
{
    if (w->n == w->cap) {
        size_t cap = w->cap * 2 + 4;
        kv_t **nv = arena_alloc(w->arena, cap * sizeof *nv);
        if (!nv)
            return -1;
        if (w->n)
            memcpy(nv, w->v, w->n * sizeof *nv);
        w->v = nv;
        w->cap = cap;
    }
    kv_t *kv = arena_alloc(w->arena, sizeof *kv);
    if (!kv)
        return -1;
    opentelemetry__proto__common__v1__key_value__init(kv);
    if (!(kv->key = arena_strdup(w->arena, key)))
        return -1;
    kv->value = val;
    w->v[w->n++] = kv;
    return 0;
}

/* pdata's Map.Remove: the first pair with the key, replaced by the last pair. */
static void w_remove(struct work *w, const char *key)
{
    long i = find(w->v, w->n, key);
    if (i < 0)
        return;
    w->v[i] = w->v[w->n - 1];
    w->n--;
}

/* getSourceAttributeValue: value, else from_attribute, else default_value. */
static const any_t *source(const struct aa *x, kv_t *const *v, size_t n, bool *found)
{
    *found = true;
    if (x->value)
        return x->value;
    if (x->from_attribute) {
        long i = find(v, n, x->from_attribute);
        if (i >= 0)
            return v[i]->value;
    }
    if (x->def)
        return x->def;
    *found = false;
    return NULL;
}

static any_t *hash_value(struct arena *a, const any_t *v)
{
    uint8_t buf[8];
    const void *data = NULL;
    size_t len = 0;
    switch (vcase(v)) {
    case V_STR:
        data = sval(v), len = strlen(sval(v));
        break;
    case V_BOOL:
        buf[0] = v->bool_value ? 1 : 0;
        data = buf, len = 1;
        break;
    case V_INT:
    case V_DOUBLE: {
        uint64_t u;
        if (vcase(v) == V_INT)
            u = (uint64_t)v->int_value;
        else
            memcpy(&u, &v->double_value, 8);
        for (int i = 0; i < 8; i++)
            buf[i] = (uint8_t)(u >> (8 * i));
        data = buf, len = 8;
        break;
    }
    default:
        break;
    }
    if (!len)
        return any_str(a, "", 0);   /* nothing to hash: the Collector writes "" */
    uint8_t dig[32];
    char hex[65];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, dig) != 0)
        return NULL;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", dig[i]);
    return any_str(a, hex, 64);
}

/* The converted value, or NULL with *same when the value stays (already the type, or not
 * convertible). */
static any_t *convert_value(struct arena *a, enum aa_conv to, const any_t *v, bool *same)
{
    *same = false;
    int c = vcase(v);
    if (to == CONV_STRING) {
        if (c == V_STR) {
            *same = true;
            return NULL;
        }
        size_t n;
        char *s = as_string_arena(a, v, &n);
        any_t *r = s ? any_new(a) : NULL;
        if (r)
            r->value_case = V_STR, r->string_value = s;
        return r;
    }
    if (to == CONV_INT) {
        int64_t i;
        if (c == V_DOUBLE)
            i = go_f2i(v->double_value);
        else if (c == V_BOOL)
            i = v->bool_value ? 1 : 0;
        else if (c == V_STR && go_parse_int10(sval(v), &i))
            ;
        else {
            *same = true;   /* an int already, or not convertible: left as it is */
            return NULL;
        }
        any_t *r = any_new(a);
        if (r)
            r->value_case = V_INT, r->int_value = i;
        return r;
    }
    double d;
    if (c == V_INT)
        d = (double)v->int_value;
    else if (c == V_BOOL)
        d = v->bool_value ? 1 : 0;
    else if (c == V_STR && go_parse_float(sval(v), &d))
        ;
    else {
        *same = true;
        return NULL;
    }
    any_t *r = any_new(a);
    if (r)
        r->value_case = V_DOUBLE, r->double_value = d;
    return r;
}

static bool any_key_matches(const struct regex *re, kv_t *const *v, size_t n)
{
    for (size_t i = 0; re && i < n; i++)
        if (v[i] && regex_search(re, kkey(v[i]), strlen(kkey(v[i]))))
            return true;
    return false;
}

/* Whether action x would change v[0..n). */
static bool action_changes(const struct aa *x, kv_t *const *v, size_t n)
{
    long i = x->key[0] ? find(v, n, x->key) : -1;
    bool found;
    const any_t *src;
    switch (x->kind) {
    case AA_INSERT:
        src = source(x, v, n, &found);
        return found && i < 0;
    case AA_UPDATE:
    case AA_UPSERT:
        src = source(x, v, n, &found);
        if (!found)
            return false;
        if (i < 0)
            return x->kind == AA_UPSERT;
        return !attraction_value_equal(v[i]->value, src);
    case AA_DELETE:
    case AA_HASH:
        return i >= 0 || any_key_matches(x->re, v, n);
    case AA_EXTRACT:
        return i >= 0 && vcase(v[i]->value) == V_STR &&
               regex_search(x->re, sval(v[i]->value), strlen(sval(v[i]->value)));
    case AA_CONVERT: {
        if (i < 0)
            return false;
        int c = vcase(v[i]->value);
        if (x->conv == CONV_STRING)
            return c != V_STR;
        if (x->conv == CONV_INT) {
            int64_t t;
            return c == V_DOUBLE || c == V_BOOL ||
                   (c == V_STR && go_parse_int10(sval(v[i]->value), &t));
        }
        double d;
        return c == V_INT || c == V_BOOL || (c == V_STR && go_parse_float(sval(v[i]->value), &d));
    }
    }
    return false;
}

bool attraction_would_change(const struct attraction *a, kv_t *const *kvs, size_t n)
{
    for (size_t i = 0; a && i < a->n; i++)
        if (action_changes(&a->v[i], kvs, n))
            return true;
    return false;
}

/* Keys matching x->re, snapshotted before acting, as getMatchingKeys does. */
static const char **matching_keys(const struct aa *x, struct work *w, size_t *count)
{
    *count = 0;
    if (!x->re || !w->n)
        return NULL;
    const char **keys = arena_alloc(w->arena, w->n * sizeof *keys);
    if (!keys)
        return NULL;
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i] && regex_search(x->re, kkey(w->v[i]), strlen(kkey(w->v[i]))))
            keys[(*count)++] = kkey(w->v[i]);
    return keys;
}

static int hash_key(struct work *w, const char *key)
{
    long i = find(w->v, w->n, key);
    if (i < 0)
        return 0;
    any_t *h = hash_value(w->arena, w->v[i]->value);
    if (!h)
        return -1;
    w->v[i]->value = h;
    return 0;
}

static int apply_one(const struct aa *x, struct work *w)
{
    bool found;
    const any_t *src;
    long i;
    switch (x->kind) {
    case AA_DELETE: {
        if (x->key[0])
            w_remove(w, x->key);
        size_t nk;
        const char **keys = matching_keys(x, w, &nk);
        for (size_t k = 0; k < nk; k++)
            w_remove(w, keys[k]);
        return x->re && w->n && !keys ? -1 : 0;
    }
    case AA_HASH: {
        if (x->key[0] && hash_key(w, x->key) != 0)
            return -1;
        size_t nk;
        const char **keys = matching_keys(x, w, &nk);
        /* a key that is also matched by the pattern is hashed twice, as in the Collector */
        for (size_t k = 0; k < nk; k++)
            if (hash_key(w, keys[k]) != 0)
                return -1;
        return x->re && w->n && !keys ? -1 : 0;
    }
    case AA_INSERT:
        src = source(x, w->v, w->n, &found);
        if (!found || find(w->v, w->n, x->key) >= 0)
            return 0;
        {
            any_t *c = any_dup(w->arena, src);
            return c ? w_append(w, x->key, c) : -1;
        }
    case AA_UPDATE:
    case AA_UPSERT: {
        src = source(x, w->v, w->n, &found);
        if (!found)
            return 0;
        i = find(w->v, w->n, x->key);
        if (i < 0 && x->kind == AA_UPDATE)
            return 0;
        any_t *c = any_dup(w->arena, src);
        if (!c)
            return -1;
        if (i >= 0) {
            w->v[i]->value = c;
            return 0;
        }
        return w_append(w, x->key, c);
    }
    case AA_EXTRACT: {
        i = find(w->v, w->n, x->key);
        if (i < 0 || vcase(w->v[i]->value) != V_STR)
            return 0;
        const char *s = sval(w->v[i]->value);
        long st[64], en[64];
        long *starts = st, *ends = en;
        int ng = x->ngroups + 1;
        if (ng > 64) {
            starts = arena_alloc(w->arena, (size_t)ng * sizeof *starts);
            ends = arena_alloc(w->arena, (size_t)ng * sizeof *ends);
            if (!starts || !ends)
                return -1;
        }
        if (!regex_submatch(x->re, s, strlen(s), starts, ends, ng))
            return 0;
        /* the values are read before any is written: a group may name the source key */
        any_t **vals = arena_alloc(w->arena, (size_t)ng * sizeof *vals);
        if (!vals)
            return -1;
        for (int g = 1; g < ng; g++) {
            size_t len = starts[g] < 0 ? 0 : (size_t)(ends[g] - starts[g]);
            if (!(vals[g] = any_str(w->arena, starts[g] < 0 ? "" : s + starts[g], len)))
                return -1;
        }
        for (int g = 1; g < ng; g++) {
            long k = find(w->v, w->n, x->names[g]);
            if (k >= 0)
                w->v[k]->value = vals[g];
            else if (w_append(w, x->names[g], vals[g]) != 0)
                return -1;
        }
        return 0;
    }
    case AA_CONVERT: {
        i = find(w->v, w->n, x->key);
        if (i < 0)
            return 0;
        bool same;
        any_t *c = convert_value(w->arena, x->conv, w->v[i]->value, &same);
        if (same)
            return 0;
        if (!c)
            return -1;
        w->v[i]->value = c;
        return 0;
    }
    }
    return 0;
}

int attraction_apply(const struct attraction *a, struct arena *arena, kv_t ***kvs, size_t *n)
{
    struct work w = {.v = *kvs, .n = *n, .cap = *n, .arena = arena};
    int rc = 0;
    for (size_t i = 0; a && i < a->n && rc == 0; i++)
        rc = apply_one(&a->v[i], &w);
    *kvs = w.v;
    *n = w.n;
    return rc;
}
