/* funcs_converters.c — the OTTL converters: IsMatch, IsString, IsInt, IsBool, IsDouble, IsMap,
 * IsList, Concat, Split, Int, Double, String, Len, SHA1, SHA256, MD5, FNV, Substring, ConvertCase,
 * ToLowerCase, ToUpperCase, ParseJSON, TraceID, SpanID, Now, UnixNano, Unix, with the Collector's
 * signatures and behaviour (pkg/ottl/ottlfuncs/func_*.go).
 *
 * The one idea: a converter is a pure function of its arguments' values; what it returns lives in
 * the item's arena, so results are as long-lived as the batch they may be written into. Parsing
 * (numbers, JSON, hex) follows Go's rules exactly, since the Collector's answer is Go's. */
#include <errno.h>
#include <gnutls/crypto.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wctype.h>

#include "core/ottl/funcs.h"
#include "core/ottl/value_make.h"

static const struct ottl_param one_value[] = { { "value", OTTL_P_ANY, false }, { NULL, 0, false } };
static const struct ottl_param one_target[] = { { "target", OTTL_P_ANY, false },
                                                { NULL, 0, false } };

/* ---- Is* -------------------------------------------------------------------------------------- */

static int is_type(const struct ottl_call *c, struct ottl_value *out, struct error *err,
                   enum ottl_vtype t)
{
    struct ottl_value v;
    if (ottl_arg_get(c, 0, &v, err) < 0)
        return -1;
    ottl_v_bool(out, v.t == t);
    return 0;
}

#define IS_FN(NAME, T)                                                                         \
    static int NAME##_call(const struct ottl_call *c, struct ottl_value *out,                 \
                           struct error *err)                                                  \
    {                                                                                          \
        return is_type(c, out, err, T);                                                        \
    }                                                                                          \
    const struct ottl_function ottl_fn_##NAME = { #NAME, false, one_value, NULL, NAME##_call };

IS_FN(IsString, OTTL_V_STRING)
IS_FN(IsInt, OTTL_V_INT)
IS_FN(IsBool, OTTL_V_BOOL)
IS_FN(IsDouble, OTTL_V_DOUBLE)
IS_FN(IsMap, OTTL_V_MAP)
IS_FN(IsList, OTTL_V_LIST)

/* ---- IsMatch ---------------------------------------------------------------------------------- */

static const struct ottl_param is_match_params[] = {
    { "target", OTTL_P_ANY, false }, { "pattern", OTTL_P_REGEX, false }, { NULL, 0, false } };

static int is_match_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    struct ottl_value v;
    if (ottl_arg_get(c, 0, &v, err) < 0)
        return -1;
    if (v.t == OTTL_V_NIL) {
        ottl_v_bool(out, false);
        return 0;
    }
    /* StringLikeGetter: non-strings are matched as their string form. */
    size_t n = 0;
    const char *s = v.t == OTTL_V_STRING ? v.s.p : ottl_value_to_string(c->it->arena, &v, &n);
    if (v.t == OTTL_V_STRING)
        n = v.s.n;
    if (!s)
        return error_set(err, "out of memory");
    if (!c->args[1].re)
        return error_set(err, "pattern was not compiled");
    ottl_v_bool(out, regex_search(c->args[1].re, s, n));
    return 0;
}

const struct ottl_function ottl_fn_IsMatch = { "IsMatch", false, is_match_params, NULL,
                                               is_match_call };

/* ---- Concat, Split ---------------------------------------------------------------------------- */

static const struct ottl_param concat_params[] = {
    { "vals", OTTL_P_ANY, false }, { "delimiter", OTTL_P_ANY, false }, { NULL, 0, false } };

static int concat_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    const char *d;
    size_t dn;
    if (funcs_get_string(c, 1, &d, &dn, err) < 0)
        return -1;
    struct ottl_value l;
    if (ottl_arg_get(c, 0, &l, err) < 0)
        return -1;
    if (l.t != OTTL_V_LIST)
        return error_set(err, "expected slice but got %s", ottl_vtype_name(l.t));
    struct funcs_buf b = { 0 };
    for (size_t i = 0; i < *l.list.n; i++) {
        if (i)
            funcs_buf_put(&b, d, dn);
        struct ottl_value e;
        ottl_value_from_any((*l.list.v)[i], &e);
        if (e.t == OTTL_V_NIL) {
            funcs_buf_put(&b, "<nil>", 5);
            continue;
        }
        size_t n = 0;
        char *s = ottl_value_to_string(c->it->arena, &e, &n);
        if (!s) {
            funcs_buf_free(&b);
            return error_set(err, "out of memory");
        }
        funcs_buf_put(&b, s, n);
    }
    return funcs_buf_finish(&b, c->it->arena, out, err);
}

const struct ottl_function ottl_fn_Concat = { "Concat", false, concat_params, NULL, concat_call };

static const struct ottl_param split_params[] = {
    { "target", OTTL_P_ANY, false }, { "delimiter", OTTL_P_STRING, false }, { NULL, 0, false } };

/* Length of the rune at s as Go steps over it: 1 for an invalid byte. */
static size_t rune_at(const unsigned char *s, size_t n)
{
    size_t need = s[0] < 0x80 ? 1 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (need == 0 || need > n || s[0] > 0xF4)
        return 1;
    for (size_t i = 1; i < need; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 1;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 1;
    return need;
}

static int push_str(const struct ottl_call *c, const struct ottl_value *list, const char *p,
                    size_t n, size_t *cap, struct error *err)
{
    struct ottl_value e;
    memset(&e, 0, sizeof e);
    e.t = OTTL_V_STRING;
    e.s.p = p;
    e.s.n = n;
    if (ottl_list_append_cap(c->it->arena, list, &e, cap, false) < 0)
        return error_set(err, "out of memory");
    return 0;
}

static int split_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    const char *s;
    size_t n;
    if (funcs_get_string(c, 0, &s, &n, err) < 0)
        return -1;
    const char *d = c->args[1].lit.s.p;
    size_t dn = c->args[1].lit.s.n;
    struct ottl_value l;
    size_t cap = 0;
    if (ottl_list_new(c->it->arena, &l) < 0)
        return error_set(err, "out of memory");
    if (dn == 0) {
        /* strings.Split(s, ""): one element per rune. */
        for (size_t i = 0; i < n;) {
            size_t w = rune_at((const unsigned char *)s + i, n - i);
            if (push_str(c, &l, s + i, w, &cap, err) < 0)
                return -1;
            i += w;
        }
    } else {
        size_t i = 0;
        for (;;) {
            const char *f = n - i >= dn ? memmem(s + i, n - i, d, dn) : NULL;
            size_t end = f ? (size_t)(f - s) : n;
            if (push_str(c, &l, s + i, end - i, &cap, err) < 0)
                return -1;
            if (!f)
                break;
            i = end + dn;
        }
    }
    *out = l;
    return 0;
}

const struct ottl_function ottl_fn_Split = { "Split", false, split_params, NULL, split_call };

/* ---- Int, Double, String, Len ----------------------------------------------------------------- */

/* Go's strconv.ParseInt(s, 10, 64). */
static bool go_parse_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    if (i == n)
        return false;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Go's strconv.ParseFloat(s, 64) for the forms strtod shares with it: decimal and hex floats,
 * inf/infinity/nan in any case; no leading space, no trailing bytes, no overflow to infinity. */
static bool go_parse_float(const char *s, size_t n, double *out)
{
    if (n == 0 || n > 1000)
        return false;
    char buf[1001];
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '_' || buf[i] == '\0')
            return false;
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (end != buf + n)
        return false;
    if (errno == ERANGE && isinf(d))
        return false;
    /* strtod reads "nan(...)", Go does not. */
    if (isnan(d) && strchr(buf, '('))
        return false;
    *out = d;
    return true;
}

static int int_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    struct ottl_value v;
    if (ottl_arg_get(c, 0, &v, err) < 0)
        return -1;
    int64_t i;
    switch (v.t) {
    case OTTL_V_INT:
        ottl_v_int(out, v.i);
        return 0;
    case OTTL_V_DOUBLE:
        /* Go's int64(f): truncation toward zero; NaN and out-of-range give amd64's answer. */
        if (isnan(v.d) || v.d >= 9223372036854775808.0 || v.d < -9223372036854775808.0)
            ottl_v_int(out, INT64_MIN);
        else
            ottl_v_int(out, (int64_t)v.d);
        return 0;
    case OTTL_V_BOOL:
        ottl_v_int(out, v.b ? 1 : 0);
        return 0;
    case OTTL_V_STRING:
        if (go_parse_int(v.s.p, v.s.n, &i))
            ottl_v_int(out, i);
        else
            ottl_v_nil(out);
        return 0;
    default:
        ottl_v_nil(out);
        return 0;
    }
}

const struct ottl_function ottl_fn_Int = { "Int", false, one_value, NULL, int_call };

static int double_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    struct ottl_value v;
    if (ottl_arg_get(c, 0, &v, err) < 0)
        return -1;
    double d;
    memset(out, 0, sizeof *out);
    out->t = OTTL_V_DOUBLE;
    switch (v.t) {
    case OTTL_V_DOUBLE:
        out->d = v.d;
        return 0;
    case OTTL_V_INT:
        out->d = (double)v.i;
        return 0;
    case OTTL_V_BOOL:
        out->d = v.b ? 1.0 : 0.0;
        return 0;
    case OTTL_V_STRING:
        if (go_parse_float(v.s.p, v.s.n, &d))
            out->d = d;
        else
            ottl_v_nil(out);
        return 0;
    default:
        ottl_v_nil(out);
        return 0;
    }
}

const struct ottl_function ottl_fn_Double = { "Double", false, one_value, NULL, double_call };

static int string_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    struct ottl_value v;
    if (ottl_arg_get(c, 0, &v, err) < 0)
        return -1;
    if (v.t == OTTL_V_NIL) {
        ottl_v_nil(out);
        return 0;
    }
    size_t n = 0;
    char *s = ottl_value_to_string(c->it->arena, &v, &n);
    if (!s)
        return error_set(err, "out of memory");
    ottl_v_strn(out, s, n);
    return 0;
}

const struct ottl_function ottl_fn_String = { "String", false, one_value, NULL, string_call };

static int len_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    struct ottl_value v;
    if (ottl_arg_get(c, 0, &v, err) < 0)
        return -1;
    switch (v.t) {
    case OTTL_V_STRING:
        ottl_v_int(out, (int64_t)v.s.n);
        return 0;
    case OTTL_V_LIST:
        ottl_v_int(out, (int64_t)*v.list.n);
        return 0;
    case OTTL_V_MAP:
        ottl_v_int(out, (int64_t)*v.map.n);
        return 0;
    default:
        return error_set(err, "target arg must be of type string, []any, map[string]any, "
                              "pcommon.Map, pcommon.Slice, or pcommon.Value (of type String, "
                              "Map, Slice)");
    }
}

const struct ottl_function ottl_fn_Len = { "Len", false, one_target, NULL, len_call };

/* ---- hashes ----------------------------------------------------------------------------------- */

static int hash_hex(const struct ottl_call *c, gnutls_digest_algorithm_t alg, size_t len,
                    struct ottl_value *out, struct error *err)
{
    const char *s;
    size_t n;
    if (funcs_get_string(c, 0, &s, &n, err) < 0)
        return -1;
    unsigned char dig[64];
    if (gnutls_hash_fast(alg, s, n, dig) < 0)
        return error_set(err, "hashing failed");
    static const char hex[] = "0123456789abcdef";
    char h[129];
    for (size_t i = 0; i < len; i++) {
        h[2 * i] = hex[dig[i] >> 4];
        h[2 * i + 1] = hex[dig[i] & 15];
    }
    return funcs_string_value(c->it->arena, h, 2 * len, out, err);
}

static int sha1_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    return hash_hex(c, GNUTLS_DIG_SHA1, 20, out, err);
}

static int sha256_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    return hash_hex(c, GNUTLS_DIG_SHA256, 32, out, err);
}

static int md5_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    return hash_hex(c, GNUTLS_DIG_MD5, 16, out, err);
}

const struct ottl_function ottl_fn_SHA1 = { "SHA1", false, one_value, NULL, sha1_call };
const struct ottl_function ottl_fn_SHA256 = { "SHA256", false, one_value, NULL, sha256_call };
const struct ottl_function ottl_fn_MD5 = { "MD5", false, one_value, NULL, md5_call };

/* FNV: Go's hash/fnv New64a over the string, as an int64. */
static int fnv_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    const char *s;
    size_t n;
    if (funcs_get_string(c, 0, &s, &n, err) < 0)
        return -1;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    ottl_v_int(out, (int64_t)h);
    return 0;
}

const struct ottl_function ottl_fn_FNV = { "FNV", false, one_value, NULL, fnv_call };

/* ---- Substring -------------------------------------------------------------------------------- */

static const struct ottl_param substring_params[] = {
    { "target", OTTL_P_ANY, false }, { "start", OTTL_P_ANY, false },
    { "length", OTTL_P_ANY, false }, { "utf8_safe", OTTL_P_BOOL, true }, { NULL, 0, false } };

static int substring_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    int64_t start, length;
    if (funcs_get_int(c, 1, &start, err) < 0 || funcs_get_int(c, 2, &length, err) < 0)
        return -1;
    if (start < 0)
        return error_set(err, "invalid start for substring function, %" PRId64
                              " cannot be negative", start);
    if (length <= 0)
        return error_set(err, "invalid length for substring function, %" PRId64
                              " cannot be negative or zero", length);
    const char *s;
    size_t n;
    if (funcs_get_string(c, 0, &s, &n, err) < 0)
        return -1;
    if (start > (int64_t)n || length > (int64_t)n - start)
        return error_set(err, "invalid range for substring function, %" PRId64 " cannot be "
                              "greater than the length of target string(%zu)",
                         (int64_t)((uint64_t)start + (uint64_t)length), n); /* wraps, as Go's */
    size_t b = (size_t)start, e = (size_t)(start + length);
    if (c->n_args > 3 && c->args[3].present && c->args[3].lit.b) {
        /* A start inside a rune moves forward to the next rune; an end inside one moves back. */
        while (b < n && ((unsigned char)s[b] & 0xC0) == 0x80)
            b++;
        while (e < n && e > b && ((unsigned char)s[e] & 0xC0) == 0x80)
            e--;
        if (e < b)
            e = b;
    }
    return funcs_string_value(c->it->arena, s + b, e - b, out, err);
}

const struct ottl_function ottl_fn_Substring = { "Substring", false, substring_params, NULL,
                                                 substring_call };

/* ---- case conversion -------------------------------------------------------------------------- */

/* strings.ToLower / ToUpper: ASCII fast path; otherwise every rune through Unicode's simple case
 * mapping (glibc's C.UTF-8 tables), an invalid byte becoming U+FFFD as strings.Map does. */
static locale_t case_loc;
static pthread_once_t case_once = PTHREAD_ONCE_INIT;

static void case_loc_init(void)
{
    case_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static locale_t utf8_locale(void)
{
    pthread_once(&case_once, case_loc_init);
    return case_loc;
}

static size_t utf8_put(char *o, uint32_t r)
{
    if (r < 0x80) {
        o[0] = (char)r;
        return 1;
    }
    if (r < 0x800) {
        o[0] = (char)(0xC0 | (r >> 6));
        o[1] = (char)(0x80 | (r & 0x3F));
        return 2;
    }
    if (r < 0x10000) {
        o[0] = (char)(0xE0 | (r >> 12));
        o[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        o[2] = (char)(0x80 | (r & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (r >> 18));
    o[1] = (char)(0x80 | ((r >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((r >> 6) & 0x3F));
    o[3] = (char)(0x80 | (r & 0x3F));
    return 4;
}

static int change_case(struct arena *a, const char *s, size_t n, bool upper,
                       struct ottl_value *out, struct error *err)
{
    bool ascii = true;
    for (size_t i = 0; i < n && ascii; i++)
        ascii = (unsigned char)s[i] < 0x80;
    struct funcs_buf b = { 0 };
    if (ascii) {
        for (size_t i = 0; i < n; i++) {
            char ch = s[i];
            if (upper && ch >= 'a' && ch <= 'z')
                ch = (char)(ch - 32);
            else if (!upper && ch >= 'A' && ch <= 'Z')
                ch = (char)(ch + 32);
            funcs_buf_put(&b, &ch, 1);
        }
        return funcs_buf_finish(&b, a, out, err);
    }
    locale_t loc = utf8_locale();
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t w = rune_at(u + i, n - i);
        uint32_t r;
        if (w == 1 && u[i] >= 0x80)
            r = 0xFFFD;
        else if (w == 1)
            r = u[i];
        else if (w == 2)
            r = ((uint32_t)(u[i] & 0x1F) << 6) | (u[i + 1] & 0x3F);
        else if (w == 3)
            r = ((uint32_t)(u[i] & 0x0F) << 12) | ((uint32_t)(u[i + 1] & 0x3F) << 6) |
                (u[i + 2] & 0x3F);
        else
            r = ((uint32_t)(u[i] & 0x07) << 18) | ((uint32_t)(u[i + 1] & 0x3F) << 12) |
                ((uint32_t)(u[i + 2] & 0x3F) << 6) | (u[i + 3] & 0x3F);
        if (loc)
            r = (uint32_t)(upper ? towupper_l((wint_t)r, loc) : towlower_l((wint_t)r, loc));
        char o[4];
        funcs_buf_put(&b, o, utf8_put(o, r));
        i += w;
    }
    return funcs_buf_finish(&b, a, out, err);
}

static bool is_up(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_low(char c) { return c >= 'a' && c <= 'z'; }
static bool is_num(char c) { return c >= '0' && c <= '9'; }
static bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* github.com/iancoleman/strcase ToSnake (ToDelimited with '_'), which the Collector uses. */
static void to_snake(struct funcs_buf *b, const char *s, size_t n)
{
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    while (n && is_space(s[n - 1]))
        n--;
    for (size_t i = 0; i < n; i++) {
        char v = s[i];
        bool cap = is_up(v), low = is_low(v);
        if (cap)
            v = (char)(v + 32);
        if (i + 1 < n) {
            char next = s[i + 1];
            bool vnum = is_num(v), ncap = is_up(next), nlow = is_low(next), nnum = is_num(next);
            if ((cap && (nlow || nnum)) || (low && (ncap || nnum)) || (vnum && (ncap || nlow))) {
                if (cap && nlow && i > 0 && is_up(s[i - 1]))
                    funcs_buf_put(b, "_", 1);
                funcs_buf_put(b, &v, 1);
                if (low || vnum || nnum)
                    funcs_buf_put(b, "_", 1);
                continue;
            }
        }
        if (v == ' ' || v == '_' || v == '-' || v == '.')
            funcs_buf_put(b, "_", 1);
        else
            funcs_buf_put(b, &v, 1);
    }
}

/* strcase ToCamel: words joined, each capitalised; separators dropped. */
static void to_camel(struct funcs_buf *b, const char *s, size_t n)
{
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    while (n && is_space(s[n - 1]))
        n--;
    bool cap_next = true, prev_cap = false;
    for (size_t i = 0; i < n; i++) {
        char v = s[i];
        bool cap = is_up(v), low = is_low(v);
        if (cap_next) {
            if (low)
                v = (char)(v - 32);
        } else if (i == 0) {
            if (cap)
                v = (char)(v + 32);
        } else if (prev_cap && cap) {
            v = (char)(v + 32);
        }
        prev_cap = cap;
        if (cap || low) {
            funcs_buf_put(b, &v, 1);
            cap_next = false;
        } else if (is_num(v)) {
            funcs_buf_put(b, &v, 1);
            cap_next = true;
        } else {
            cap_next = v == '_' || v == ' ' || v == '-' || v == '.';
        }
    }
}

static const struct ottl_param convert_case_params[] = {
    { "target", OTTL_P_ANY, false }, { "toCase", OTTL_P_STRING, false }, { NULL, 0, false } };

static bool lit_is(const struct ottl_value *v, const char *s)
{
    return v->t == OTTL_V_STRING && v->s.n == strlen(s) && memcmp(v->s.p, s, v->s.n) == 0;
}

static int convert_case_check(struct ottl_arg *args, size_t n, struct error *err)
{
    (void)n;
    const struct ottl_value *tc = &args[1].lit;
    if (!lit_is(tc, "lower") && !lit_is(tc, "upper") && !lit_is(tc, "snake") &&
        !lit_is(tc, "camel"))
        return error_set(err, "invalid case: %.*s, allowed cases are: lower, upper, snake, camel",
                         (int)tc->s.n, tc->s.p ? tc->s.p : "");
    return 0;
}

static int convert_case_call(const struct ottl_call *c, struct ottl_value *out,
                             struct error *err)
{
    const char *s;
    size_t n;
    if (funcs_get_string(c, 0, &s, &n, err) < 0)
        return -1;
    const struct ottl_value *tc = &c->args[1].lit;
    if (lit_is(tc, "lower") || lit_is(tc, "upper"))
        return change_case(c->it->arena, s, n, lit_is(tc, "upper"), out, err);
    struct funcs_buf b = { 0 };
    if (lit_is(tc, "snake"))
        to_snake(&b, s, n);
    else
        to_camel(&b, s, n);
    return funcs_buf_finish(&b, c->it->arena, out, err);
}

const struct ottl_function ottl_fn_ConvertCase = { "ConvertCase", false, convert_case_params,
                                                   convert_case_check, convert_case_call };

static int lower_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    const char *s;
    size_t n;
    if (funcs_get_string(c, 0, &s, &n, err) < 0)
        return -1;
    return change_case(c->it->arena, s, n, false, out, err);
}

static int upper_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    const char *s;
    size_t n;
    if (funcs_get_string(c, 0, &s, &n, err) < 0)
        return -1;
    return change_case(c->it->arena, s, n, true, out, err);
}

const struct ottl_function ottl_fn_ToLowerCase = { "ToLowerCase", false, one_target, NULL,
                                                   lower_call };
const struct ottl_function ottl_fn_ToUpperCase = { "ToUpperCase", false, one_target, NULL,
                                                   upper_call };

/* ---- ParseJSON -------------------------------------------------------------------------------- */

/* JSON as Go's decoder reads it into pcommon values: numbers are doubles, null is an empty
 * value, objects keep their members in document order (a repeated key keeps its first place and
 * takes the last value), invalid UTF-8 and lone surrogates in strings become U+FFFD. Nesting is
 * bounded (JSON_MAX_DEPTH) so a hostile document cannot exhaust the stack. */
#define JSON_MAX_DEPTH 1000

struct jp {
    const char *s;
    size_t n, i;
    struct arena *a;
    const char *why;
};

static void jp_ws(struct jp *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
                           p->s[p->i] == '\r'))
        p->i++;
}

static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        char ch = s[k];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= (uint32_t)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v |= (uint32_t)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v |= (uint32_t)(ch - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static int jp_string(struct jp *p, struct ottl_value *out)
{
    struct funcs_buf b = { 0 };
    p->i++; /* opening quote */
    while (p->i < p->n) {
        unsigned char ch = (unsigned char)p->s[p->i];
        if (ch == '"') {
            p->i++;
            struct error e;
            if (funcs_buf_finish(&b, p->a, out, &e) < 0) {
                p->why = "out of memory";
                return -1;
            }
            return 0;
        }
        if (ch < 0x20) {
            p->why = "invalid character in string literal";
            break;
        }
        if (ch == '\\') {
            if (p->i + 1 >= p->n)
                break;
            char e = p->s[p->i + 1];
            const char *rep = NULL;
            switch (e) {
            case '"': rep = "\""; break;
            case '\\': rep = "\\"; break;
            case '/': rep = "/"; break;
            case 'b': rep = "\b"; break;
            case 'f': rep = "\f"; break;
            case 'n': rep = "\n"; break;
            case 'r': rep = "\r"; break;
            case 't': rep = "\t"; break;
            case 'u': break;
            default:
                p->why = "invalid escape in string literal";
                funcs_buf_free(&b);
                return -1;
            }
            if (rep) {
                funcs_buf_put(&b, rep, 1);
                p->i += 2;
                continue;
            }
            uint32_t r;
            if (p->i + 6 > p->n || hex4(p->s + p->i + 2, &r) < 0) {
                p->why = "invalid \\u escape in string literal";
                funcs_buf_free(&b);
                return -1;
            }
            p->i += 6;
            if (r >= 0xD800 && r < 0xDC00) {
                uint32_t lo;
                if (p->i + 6 <= p->n && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u' &&
                    hex4(p->s + p->i + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    r = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00);
                    p->i += 6;
                } else {
                    r = 0xFFFD;
                }
            } else if (r >= 0xDC00 && r < 0xE000) {
                r = 0xFFFD;
            }
            char o[4];
            funcs_buf_put(&b, o, utf8_put(o, r));
            continue;
        }
        size_t w = rune_at((const unsigned char *)p->s + p->i, p->n - p->i);
        if (w == 1 && ch >= 0x80)
            funcs_buf_put(&b, "\xEF\xBF\xBD", 3);
        else
            funcs_buf_put(&b, p->s + p->i, w);
        p->i += w;
    }
    if (!p->why)
        p->why = "unexpected end of JSON input";
    funcs_buf_free(&b);
    return -1;
}

static int jp_value(struct jp *p, struct ottl_value *out, int depth);

static int jp_number(struct jp *p, struct ottl_value *out)
{
    size_t st = p->i;
    if (p->i < p->n && p->s[p->i] == '-')
        p->i++;
    if (p->i < p->n && p->s[p->i] == '0')
        p->i++;
    else if (p->i < p->n && p->s[p->i] >= '1' && p->s[p->i] <= '9')
        while (p->i < p->n && is_num(p->s[p->i]))
            p->i++;
    else
        return (p->why = "invalid number literal", -1);
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        if (p->i >= p->n || !is_num(p->s[p->i]))
            return (p->why = "invalid number literal", -1);
        while (p->i < p->n && is_num(p->s[p->i]))
            p->i++;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (p->i >= p->n || !is_num(p->s[p->i]))
            return (p->why = "invalid number literal", -1);
        while (p->i < p->n && is_num(p->s[p->i]))
            p->i++;
    }
    double d;
    if (!go_parse_float(p->s + st, p->i - st, &d))
        return (p->why = "number out of range", -1);
    ottl_v_double(out, d);
    return 0;
}

static bool jp_word(struct jp *p, const char *w)
{
    size_t n = strlen(w);
    if (p->n - p->i >= n && memcmp(p->s + p->i, w, n) == 0) {
        p->i += n;
        return true;
    }
    p->why = "invalid literal";
    return false;
}

static int jp_value(struct jp *p, struct ottl_value *out, int depth)
{
    jp_ws(p);
    if (p->i >= p->n)
        return (p->why = "unexpected end of JSON input", -1);
    char ch = p->s[p->i];
    if (ch == '{' || ch == '[') {
        if (depth >= JSON_MAX_DEPTH)
            return (p->why = "exceeded max depth", -1);
        bool obj = ch == '{';
        if ((obj ? ottl_map_new(p->a, out) : ottl_list_new(p->a, out)) < 0)
            return (p->why = "out of memory", -1);
        p->i++;
        size_t cap = 0;
        jp_ws(p);
        if (p->i < p->n && p->s[p->i] == (obj ? '}' : ']')) {
            p->i++;
            return 0;
        }
        for (;;) {
            struct ottl_value key, v;
            if (obj) {
                jp_ws(p);
                if (p->i >= p->n || p->s[p->i] != '"')
                    return (p->why = "expected object key", -1);
                if (jp_string(p, &key) < 0)
                    return -1;
                jp_ws(p);
                if (p->i >= p->n || p->s[p->i] != ':')
                    return (p->why = "expected ':' after object key", -1);
                p->i++;
            }
            if (jp_value(p, &v, depth + 1) < 0)
                return -1;
            int rc = obj ? ottl_map_set_cap(p->a, out, key.s.p, key.s.n, &v, &cap, true)
                         : ottl_list_append_cap(p->a, out, &v, &cap, true);
            if (rc < 0)
                return (p->why = "out of memory", -1);
            jp_ws(p);
            if (p->i < p->n && p->s[p->i] == ',') {
                p->i++;
                continue;
            }
            if (p->i < p->n && p->s[p->i] == (obj ? '}' : ']')) {
                p->i++;
                return 0;
            }
            return (p->why = obj ? "expected ',' or '}'" : "expected ',' or ']'", -1);
        }
    }
    if (ch == '"')
        return jp_string(p, out);
    if (ch == '-' || is_num(ch))
        return jp_number(p, out);
    if (ch == 't' && jp_word(p, "true")) {
        ottl_v_bool(out, true);
        return 0;
    }
    if (ch == 'f' && jp_word(p, "false")) {
        ottl_v_bool(out, false);
        return 0;
    }
    if (ch == 'n' && jp_word(p, "null")) {
        ottl_v_nil(out);
        return 0;
    }
    return (p->why = "invalid character looking for beginning of value", -1);
}

static int parse_json_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    const char *s;
    size_t n;
    if (funcs_get_string(c, 0, &s, &n, err) < 0)
        return -1;
    struct jp p = { s, n, 0, c->it->arena, NULL };
    struct ottl_value v;
    if (jp_value(&p, &v, 0) < 0)
        return error_set(err, "ParseJSON: %s at offset %zu", p.why, p.i);
    jp_ws(&p);
    if (p.i != p.n)
        return error_set(err, "ParseJSON: invalid character after top-level value at offset %zu",
                         p.i);
    if (v.t != OTTL_V_MAP && v.t != OTTL_V_LIST)
        return error_set(err, "could not convert parsed value of type %s to JSON object",
                         ottl_vtype_name(v.t));
    *out = v;
    return 0;
}

const struct ottl_function ottl_fn_ParseJSON = { "ParseJSON", false, one_target, NULL,
                                                 parse_json_call };

/* ---- TraceID, SpanID -------------------------------------------------------------------------- */

static const struct ottl_param id_params[] = { { "bytes", OTTL_P_ANY, false }, { NULL, 0, false } };

static int id_call(const struct ottl_call *c, size_t len, const char *what,
                   struct ottl_value *out, struct error *err)
{
    struct ottl_value v;
    if (ottl_arg_get(c, 0, &v, err) < 0)
        return -1;
    unsigned char *id = arena_alloc(c->it->arena, len ? len : 1);
    if (!id)
        return error_set(err, "out of memory");
    if (v.t == OTTL_V_BYTES) {
        if (v.s.n != len)
            return error_set(err, "%s must be %zu bytes", what, len);
        memcpy(id, v.s.p, len);
    } else if (v.t == OTTL_V_STRING) {
        if (v.s.n != 2 * len)
            return error_set(err, "%s must be %zu hex characters", what, 2 * len);
        for (size_t i = 0; i < len; i++) {
            char pair[5] = { '0', '0', v.s.p[2 * i], v.s.p[2 * i + 1], 0 };
            uint32_t x;
            if (hex4(pair, &x) < 0)
                return error_set(err, "%s must be hex characters: %.*s", what, (int)v.s.n,
                                 v.s.p);
            id[i] = (unsigned char)x;
        }
    } else {
        return error_set(err, "unsupported type provided to %s function: %s", what,
                         ottl_vtype_name(v.t));
    }
    ottl_v_bytes(out, (const char *)id, len);
    return 0;
}

static int trace_id_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    return id_call(c, 16, "traceID", out, err);
}

static int span_id_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    return id_call(c, 8, "spanID", out, err);
}

const struct ottl_function ottl_fn_TraceID = { "TraceID", false, id_params, NULL, trace_id_call };
const struct ottl_function ottl_fn_SpanID = { "SpanID", false, id_params, NULL, span_id_call };

/* ---- time ------------------------------------------------------------------------------------- */

static const struct ottl_param no_params[] = { { NULL, 0, false } };

static int now_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)err;
    int64_t ns = c->it->now_ns;
    if (ns == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
    ottl_v_time(out, ns);
    return 0;
}

const struct ottl_function ottl_fn_Now = { "Now", false, no_params, NULL, now_call };

static int unix_nano_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    struct ottl_value v;
    if (ottl_arg_get(c, 0, &v, err) < 0)
        return -1;
    if (v.t != OTTL_V_TIME)
        return error_set(err, "expected time but got %s", ottl_vtype_name(v.t));
    ottl_v_int(out, v.i);
    return 0;
}

const struct ottl_function ottl_fn_UnixNano = { "UnixNano", false, one_value, NULL,
                                                unix_nano_call };

static const struct ottl_param unix_params[] = {
    { "seconds", OTTL_P_ANY, false }, { "nanoseconds", OTTL_P_ANY, true }, { NULL, 0, false } };

static int unix_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    int64_t sec, nsec = 0;
    if (funcs_get_int(c, 0, &sec, err) < 0)
        return -1;
    if (c->n_args > 1 && c->args[1].present && funcs_get_int(c, 1, &nsec, err) < 0)
        return -1;
    /* time.Unix(sec, nsec) as unix nanoseconds; outside int64 nanoseconds it saturates. */
    __int128 ns = (__int128)sec * 1000000000 + nsec;
    ottl_v_time(out, ns > INT64_MAX ? INT64_MAX : ns < INT64_MIN ? INT64_MIN : (int64_t)ns);
    return 0;
}

const struct ottl_function ottl_fn_Unix = { "Unix", false, unix_params, NULL, unix_call };
