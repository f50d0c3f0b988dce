/* jscan.c — the validating scan of jscan.h: recursive descent over RFC 8259 JSON that follows the
 * GenAI messages shape and hands content strings to a visitor where they lie.
 *
 * The one idea: string bodies are most of the bytes, so they are skipped eight bytes at a time
 * until a quote, a backslash, a control byte or a non-ASCII byte shows up; only a string with an
 * escape is copied (unescaped into a scratch buffer) before the visitor sees it. Whatever json-c
 * might read differently from this scan is not decided here (GC_JSCAN_UNSURE): the caller then
 * takes the json-c path, so the policy's outputs cannot differ. */
#include "processors/genai_content/jscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct js {
    const unsigned char *p, *end;
    int depth;
    bool shape_bad, unsure;
    int stop;                 /* the verdict that ends the scan (INVALID, CHANGE, NOMEM), or 0 */
    gc_jscan_visit visit;
    void *ud;
    char *heap;               /* scratch for an escaped string longer than `small` */
    size_t heap_cap;
    char small[1024];
};

static bool fail(struct js *j, enum gc_jscan v)
{
    if (!j->stop)
        j->stop = (int)v;
    return false;
}

/* Visiting is pointless once the answer cannot be CLEAN. */
static bool visiting(const struct js *j)
{
    return j->visit && !j->shape_bad && !j->unsure;
}

static void ws(struct js *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* The first byte of p[0..end) that is a quote, a backslash, below 0x20 or above 0x7F. Eight
 * bytes at a time: a word is skipped when none of its bytes can be one (a false alarm only sends
 * the word to the byte loop). */
static const unsigned char *plain_end(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        uint64_t t = ((q - ones) & ~q) | ((b - ones) & ~b) | (x - ones * 0x20) | x;
        if (t & highs)
            break;
        p += 8;
    }
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* Length of the valid UTF-8 sequence at p (shortest form, no surrogates, at most U+10FFFF), or
 * 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || (size_t)(end - p) < len)
        return 0;
    uint32_t cp = c & (0x7Fu >> len);
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static bool hex4(const unsigned char *p, const unsigned char *end, unsigned *cp)
{
    if (end - p < 4)
        return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 32) >= 'a' && (c | 32) <= 'f')
            d = (c | 32) - 'a' + 10;
        else
            return false;
        v = v << 4 | d;
    }
    *cp = v;
    return true;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Unescapes the body r[0..n) of a string already checked (escapes well formed, surrogates
 * paired) into o, which has n bytes; the length written. */
static size_t unescape(const unsigned char *r, size_t n, char *o)
{
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        if (r[i] != '\\') {
            o[w++] = (char)r[i++];
            continue;
        }
        unsigned e = r[i + 1], cp = 0, lo = 0xDC00;
        i += 2;
        switch (e) {
        case 'b': o[w++] = '\b'; break;
        case 'f': o[w++] = '\f'; break;
        case 'n': o[w++] = '\n'; break;
        case 'r': o[w++] = '\r'; break;
        case 't': o[w++] = '\t'; break;
        case 'u':
            hex4(r + i, r + n, &cp);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                hex4(r + i + 2, r + n, &lo);
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            w += put_utf8(o + w, cp);
            break;
        default: o[w++] = (char)e; break; /* " \ / */
        }
    }
    return w;
}

/* The string at j->p (its opening quote). Its body is r[0..n), with escapes when *esc. When
 * `content`, the visitor sees it unescaped. */
static bool string(struct js *j, bool content, const unsigned char **raw, size_t *raw_len,
                   bool *esc)
{
    const unsigned char *start = j->p + 1, *p = start, *end = j->end;
    bool escaped = false;
    for (;;) {
        p = plain_end(p, end);
        if (p >= end)
            return fail(j, GC_JSCAN_INVALID);
        unsigned c = *p;
        if (c == '"')
            break;
        if (c == '\\') {
            escaped = true;
            if (end - p < 2)
                return fail(j, GC_JSCAN_INVALID);
            unsigned e = p[1], cp = 0, lo = 0;
            if (e == 'u') {
                if (!hex4(p + 2, end, &cp))
                    return fail(j, GC_JSCAN_INVALID);
                p += 6;
                if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' &&
                    p[1] == 'u' && hex4(p + 2, end, &lo) && lo >= 0xDC00 && lo <= 0xDFFF)
                    p += 6;
                else if (cp >= 0xD800 && cp <= 0xDFFF)
                    j->unsure = true; /* json-c writes U+FFFD for it */
                continue;
            }
            if (!(e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                  e == 'r' || e == 't'))
                return fail(j, GC_JSCAN_INVALID);
            p += 2;
            continue;
        }
        if (c < 0x20)
            return fail(j, GC_JSCAN_INVALID);
        size_t l = utf8_len(p, end);
        if (!l) {
            j->unsure = true; /* json-c takes any byte */
            l = 1;
        }
        p += l;
    }
    size_t n = (size_t)(p - start);
    j->p = p + 1;
    if (raw) {
        *raw = start;
        *raw_len = n;
        *esc = escaped;
    }
    if (!content || !visiting(j))
        return true;
    const char *s = (const char *)start;
    size_t len = n;
    if (escaped) {
        char *o = j->small;
        if (n > sizeof j->small) {
            if (n > j->heap_cap) {
                char *h = realloc(j->heap, n);
                if (!h)
                    return fail(j, GC_JSCAN_NOMEM);
                j->heap = h;
                j->heap_cap = n;
            }
            o = j->heap;
        }
        len = unescape(start, n, o);
        s = o;
    }
    int r = j->visit(j->ud, s, len);
    if (r)
        return fail(j, r > 0 ? GC_JSCAN_CHANGE : GC_JSCAN_NOMEM);
    return true;
}

static bool number(struct js *j)
{
    const unsigned char *p = j->p, *e = j->end;
    if (p < e && *p == '-')
        p++;
    if (p < e && *p == '0') {
        p++;
    } else if (p < e && *p >= '1' && *p <= '9') {
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    } else {
        return fail(j, GC_JSCAN_INVALID);
    }
    if (p < e && *p == '.') {
        p++;
        if (!(p < e && *p >= '0' && *p <= '9'))
            return fail(j, GC_JSCAN_INVALID);
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p | 32) == 'e') {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (!(p < e && *p >= '0' && *p <= '9'))
            return fail(j, GC_JSCAN_INVALID);
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    j->p = p;
    return true;
}

static bool literal(struct js *j, const char *w, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return fail(j, GC_JSCAN_INVALID);
    j->p += n;
    return true;
}

static bool value(struct js *j, bool content);

/* After a member or element: true with *more when a ',' follows, false on a bad byte. */
static bool next(struct js *j, unsigned char close, bool *more)
{
    ws(j);
    if (j->p < j->end && *j->p == ',') {
        j->p++;
        ws(j);
        *more = true;
        return true;
    }
    if (j->p < j->end && *j->p == close) {
        j->p++;
        *more = false;
        return true;
    }
    return fail(j, GC_JSCAN_INVALID);
}

/* Enters the container at j->p ('[' or '{'): false when nested too deeply; *empty when it closes
 * at once (then already left). */
static bool enter(struct js *j, unsigned char close, bool *empty)
{
    if (++j->depth > GC_JSCAN_DEPTH)
        return fail(j, GC_JSCAN_INVALID);
    j->p++;
    ws(j);
    *empty = j->p < j->end && *j->p == close;
    if (*empty) {
        j->p++;
        j->depth--;
        return true;
    }
    /* json-c counts levels of values, scalars included: what a container holds is one deeper */
    if (j->depth + 1 > GC_JSCAN_DEPTH)
        return fail(j, GC_JSCAN_INVALID);
    return true;
}

/* A member's key and the ':' after it, leaving j->p at the value. */
static bool key(struct js *j, const unsigned char **k, size_t *kl, bool *esc)
{
    if (j->p >= j->end || *j->p != '"')
        return fail(j, GC_JSCAN_INVALID);
    if (!string(j, false, k, kl, esc))
        return false;
    ws(j);
    if (j->p >= j->end || *j->p != ':')
        return fail(j, GC_JSCAN_INVALID);
    j->p++;
    ws(j);
    return true;
}

static bool key_is(const unsigned char *k, size_t kl, const char *name)
{
    size_t n = strlen(name);
    return kl == n && memcmp(k, name, n) == 0;
}

static bool array(struct js *j, bool content)
{
    bool empty, more = true;
    if (!enter(j, ']', &empty))
        return false;
    if (empty)
        return true;
    while (more)
        if (!value(j, content) || !next(j, ']', &more))
            return false;
    j->depth--;
    return true;
}

static bool object(struct js *j, bool content)
{
    bool empty, more = true;
    if (!enter(j, '}', &empty))
        return false;
    if (empty)
        return true;
    while (more) {
        const unsigned char *k;
        size_t kl;
        bool esc;
        if (!key(j, &k, &kl, &esc) || !value(j, content) || !next(j, '}', &more))
            return false;
    }
    j->depth--;
    return true;
}

/* The value at j->p; `content`: its strings are content, however nested. */
static bool value(struct js *j, bool content)
{
    if (j->p >= j->end)
        return fail(j, GC_JSCAN_INVALID);
    switch (*j->p) {
    case '"': return string(j, content, NULL, NULL, NULL);
    case '[': return array(j, content);
    case '{': return object(j, content);
    case 't': return literal(j, "true", 4);
    case 'f': return literal(j, "false", 5);
    case 'n': return literal(j, "null", 4);
    default: return number(j);
    }
}

static bool structural(const unsigned char *k, size_t kl)
{
    return key_is(k, kl, "type") || key_is(k, kl, "id") || key_is(k, kl, "name") ||
           key_is(k, kl, "mime_type") || key_is(k, kl, "modality");
}

#define MAX_EARLY_CONTENT 8

/* A message part: an object with a string `type`. A `content` met before the type is known is
 * checked now and visited at the part's end, unless the part is a blob. */
static bool part(struct js *j)
{
    if (j->p >= j->end || *j->p != '{') {
        j->shape_bad = true;
        return value(j, false);
    }
    bool empty, more = true, seen_type = false, blob = false;
    const unsigned char *early[MAX_EARLY_CONTENT];
    size_t n_early = 0;
    if (!enter(j, '}', &empty))
        return false;
    while (!empty && more) {
        const unsigned char *k;
        size_t kl;
        bool esc;
        if (!key(j, &k, &kl, &esc))
            return false;
        bool ok;
        if (esc) {
            j->unsure = true; /* json-c compares the unescaped key, up to a NUL */
            ok = value(j, false);
        } else if (key_is(k, kl, "type")) {
            if (seen_type)
                j->unsure = true;
            seen_type = true;
            if (j->p < j->end && *j->p == '"') {
                const unsigned char *v = NULL;
                size_t vl = 0;
                bool vesc = false;
                ok = string(j, false, &v, &vl, &vesc);
                if (vesc)
                    j->unsure = true;
                blob = ok && vl == 4 && memcmp(v, "blob", 4) == 0;
            } else {
                j->shape_bad = true;
                ok = value(j, false);
            }
        } else if (structural(k, kl) || (blob && key_is(k, kl, "content"))) {
            ok = value(j, false);
        } else if (!seen_type && key_is(k, kl, "content")) {
            if (n_early == MAX_EARLY_CONTENT)
                j->unsure = true;
            else
                early[n_early++] = j->p;
            ok = value(j, false);
        } else {
            ok = value(j, true);
        }
        if (!ok || !next(j, '}', &more))
            return false;
    }
    if (!empty)
        j->depth--;
    if (!seen_type)
        j->shape_bad = true;
    if (!blob && n_early && visiting(j)) {
        const unsigned char *after = j->p;
        for (size_t i = 0; i < n_early; i++) {
            j->p = early[i];
            if (!value(j, true))
                return false;
        }
        j->p = after;
    }
    return true;
}

/* An array whose every element is read by `elem` (a part, a message); anything else is the wrong
 * shape and is read as a plain value. */
static bool array_of(struct js *j, bool (*elem)(struct js *))
{
    if (j->p >= j->end || *j->p != '[') {
        j->shape_bad = true;
        return value(j, false);
    }
    bool empty, more = true;
    if (!enter(j, ']', &empty))
        return false;
    if (empty)
        return true;
    while (more)
        if (!elem(j) || !next(j, ']', &more))
            return false;
    j->depth--;
    return true;
}

/* A message: an object with a string `role` and an array `parts`; its other members are not
 * content. */
static bool message(struct js *j)
{
    if (j->p >= j->end || *j->p != '{') {
        j->shape_bad = true;
        return value(j, false);
    }
    bool empty, more = true, seen_role = false, seen_parts = false;
    if (!enter(j, '}', &empty))
        return false;
    while (!empty && more) {
        const unsigned char *k;
        size_t kl;
        bool esc, ok;
        if (!key(j, &k, &kl, &esc))
            return false;
        if (esc) {
            j->unsure = true;
            ok = value(j, false);
        } else if (key_is(k, kl, "role")) {
            if (seen_role)
                j->unsure = true;
            seen_role = true;
            if (j->p >= j->end || *j->p != '"')
                j->shape_bad = true;
            ok = value(j, false);
        } else if (key_is(k, kl, "parts")) {
            if (seen_parts)
                j->unsure = true;
            seen_parts = true;
            ok = array_of(j, part);
        } else {
            ok = value(j, false);
        }
        if (!ok || !next(j, '}', &more))
            return false;
    }
    if (!empty)
        j->depth--;
    if (!seen_role || !seen_parts)
        j->shape_bad = true;
    return true;
}

enum gc_jscan gc_jscan_messages(const char *s, size_t n, bool parts_only, gc_jscan_visit visit,
                                void *ud)
{
    struct js *j = &(struct js){.p = (const unsigned char *)s,
                                .end = (const unsigned char *)s + n,
                                .visit = visit,
                                .ud = ud};
    ws(j);
    const unsigned char *root = j->p;
    if (array_of(j, parts_only ? part : message)) {
        /* json-c cannot tell a number or a literal that ends the text from one cut short */
        if (j->p == j->end && root < j->end && *root != '[' && *root != '{' && *root != '"')
            fail(j, GC_JSCAN_INVALID);
        /* and a null text parses to no object, which the walk takes for a failed parse */
        if (root < j->end && *root == 'n')
            fail(j, GC_JSCAN_INVALID);
        ws(j);
        if (j->p != j->end)
            fail(j, GC_JSCAN_INVALID);
    }
    free(j->heap);
    if (j->stop)
        return (enum gc_jscan)j->stop;
    if (j->unsure)
        return GC_JSCAN_UNSURE;
    return j->shape_bad ? GC_JSCAN_SHAPE : GC_JSCAN_CLEAN;
}
