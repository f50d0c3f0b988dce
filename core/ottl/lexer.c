/* lexer.c — OTTL text into tokens, with the token rules of the Collector's grammar (bytes before
 * floats before ints; strings with Go's escapes as strconv.Unquote reads them; `and`, `or`, `not`,
 * `true`, `false`, `nil` only as whole words).
 *
 * The one idea: tokenize the whole text once, up front, into an array, so the parser can look
 * ahead as far as it needs (a name followed by `(` is a call, by `=` a named argument) without
 * ever rescanning. Numbers carry no sign: as in the current Collector grammar, `-` is always an
 * operator and the parser folds a minus before a literal, so `x-1` reads as a subtraction. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ottl/ast.h"

struct lexer {
    struct arena *a;
    const char *s;
    size_t len, pos;
    struct ottl_token *toks;
    size_t n, cap;
    struct error *err;
};

static int lex_fail(struct lexer *lx, size_t off, const char *what)
{
    error_set(lx->err, "%s at column %zu", what, off + 1);
    if (lx->err)
        lx->err->code = (int)(off + 1);
    return -1;
}

static struct ottl_token *push(struct lexer *lx, enum ottl_tok t, size_t off, size_t len)
{
    if (lx->n == lx->cap) {
        size_t cap = lx->cap ? lx->cap * 2 : 32;
        struct ottl_token *nt = arena_alloc(lx->a, cap * sizeof *nt);
        if (!nt)
            return NULL;
        if (lx->n)
            memcpy(nt, lx->toks, lx->n * sizeof *nt);
        lx->toks = nt;
        lx->cap = cap;
    }
    struct ottl_token *tk = &lx->toks[lx->n++];
    memset(tk, 0, sizeof *tk);
    tk->t = t;
    tk->off = off;
    tk->len = len;
    return tk;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *o, uint32_t r)
{
    if (r < 0x80) { o[0] = (char)r; return 1; }
    if (r < 0x800) { o[0] = (char)(0xC0 | (r >> 6)); o[1] = (char)(0x80 | (r & 0x3F)); return 2; }
    if (r < 0x10000) {
        o[0] = (char)(0xE0 | (r >> 12)); o[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        o[2] = (char)(0x80 | (r & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (r >> 18)); o[1] = (char)(0x80 | ((r >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((r >> 6) & 0x3F)); o[3] = (char)(0x80 | (r & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one (Go's DecodeRune). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (n < need) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < need; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return need;
}

/* A string literal at lx->pos (on the opening quote): Go's strconv.Unquote of a "..." string. */
static int lex_string(struct lexer *lx)
{
    size_t start = lx->pos, i = start + 1;
    /* the token ends at the first unescaped quote (the grammar's "(\\.|[^\\"])*") */
    for (;;) {
        if (i >= lx->len)
            return lex_fail(lx, start, "unterminated string");
        if (lx->s[i] == '\\') {
            if (i + 1 >= lx->len)
                return lex_fail(lx, start, "unterminated string");
            i += 2;
            continue;
        }
        if (lx->s[i] == '"')
            break;
        i++;
    }
    size_t end = i; /* the closing quote */
    /* a decoded string is never longer than its source; U+FFFD (3 bytes) replaces one bad byte */
    char *o = arena_alloc(lx->a, (end - start) * 3 + 1);
    if (!o)
        return error_set(lx->err, "out of memory");
    size_t on = 0;
    for (size_t p = start + 1; p < end;) {
        unsigned char c = (unsigned char)lx->s[p];
        if (c == '\n')
            return lex_fail(lx, p, "newline in string");
        if (c != '\\') {
            size_t l = utf8_len((const unsigned char *)lx->s + p, end - p);
            if (l == 0) {
                on += put_utf8(o + on, 0xFFFD);
                p++;
            } else {
                memcpy(o + on, lx->s + p, l);
                on += l;
                p += l;
            }
            continue;
        }
        size_t esc = p;
        char e = lx->s[p + 1];
        p += 2;
        switch (e) {
        case 'a': o[on++] = '\a'; break;
        case 'b': o[on++] = '\b'; break;
        case 'f': o[on++] = '\f'; break;
        case 'n': o[on++] = '\n'; break;
        case 'r': o[on++] = '\r'; break;
        case 't': o[on++] = '\t'; break;
        case 'v': o[on++] = '\v'; break;
        case '\\': o[on++] = '\\'; break;
        case '"': o[on++] = '"'; break;
        case 'x': {
            int h1 = p < end ? hexval(lx->s[p]) : -1;
            int h2 = p + 1 < end ? hexval(lx->s[p + 1]) : -1;
            if (h1 < 0 || h2 < 0)
                return lex_fail(lx, esc, "invalid \\x escape in string");
            o[on++] = (char)(h1 * 16 + h2);
            p += 2;
            break;
        }
        case 'u': case 'U': {
            size_t nd = e == 'u' ? 4 : 8;
            uint32_t r = 0;
            for (size_t k = 0; k < nd; k++) {
                int h = p + k < end ? hexval(lx->s[p + k]) : -1;
                if (h < 0)
                    return lex_fail(lx, esc, "invalid unicode escape in string");
                r = r * 16 + (uint32_t)h;
            }
            if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
                return lex_fail(lx, esc, "invalid unicode code point in string");
            on += put_utf8(o + on, r);
            p += nd;
            break;
        }
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
            unsigned v = (unsigned)(e - '0');
            for (int k = 0; k < 2; k++) {
                if (p >= end || lx->s[p] < '0' || lx->s[p] > '7')
                    return lex_fail(lx, esc, "invalid octal escape in string");
                v = v * 8 + (unsigned)(lx->s[p++] - '0');
            }
            if (v > 255)
                return lex_fail(lx, esc, "octal escape out of range in string");
            o[on++] = (char)v;
            break;
        }
        default:
            return lex_fail(lx, esc, "invalid escape in string");
        }
    }
    o[on] = '\0';
    struct ottl_token *tk = push(lx, TK_STRING, start, end + 1 - start);
    if (!tk)
        return error_set(lx->err, "out of memory");
    tk->s = o;
    tk->n = on;
    lx->pos = end + 1;
    return 0;
}

static int lex_number(struct lexer *lx)
{
    const char *s = lx->s;
    size_t start = lx->pos, i = start;
    /* Bytes: 0x followed by at least one hex digit */
    if (s[i] == '0' && i + 2 < lx->len && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0) {
        size_t j = i + 2;
        while (j < lx->len && hexval(s[j]) >= 0)
            j++;
        size_t nh = j - (i + 2);
        if (nh % 2)
            return lex_fail(lx, start, "odd number of hex digits in bytes literal");
        char *b = arena_alloc(lx->a, nh / 2 + 1);
        if (!b)
            return error_set(lx->err, "out of memory");
        for (size_t k = 0; k < nh / 2; k++)
            b[k] = (char)(hexval(s[i + 2 + 2 * k]) * 16 + hexval(s[i + 3 + 2 * k]));
        struct ottl_token *tk = push(lx, TK_BYTES, start, j - start);
        if (!tk)
            return error_set(lx->err, "out of memory");
        tk->s = b;
        tk->n = nh / 2;
        lx->pos = j;
        return 0;
    }
    /* Float: (\d+\.\d*|\d*\.\d+)([eE][-+]?\d+)? ; Int: \d+ */
    size_t j = i;
    while (j < lx->len && is_digit(s[j]))
        j++;
    size_t nint = j - i;
    bool is_float = false;
    if (j < lx->len && s[j] == '.') {
        size_t k = j + 1;
        while (k < lx->len && is_digit(s[k]))
            k++;
        if (nint > 0 || k > j + 1) {
            is_float = true;
            j = k;
            if (j < lx->len && (s[j] == 'e' || s[j] == 'E')) {
                size_t m = j + 1;
                if (m < lx->len && (s[m] == '+' || s[m] == '-'))
                    m++;
                if (m < lx->len && is_digit(s[m])) {
                    while (m < lx->len && is_digit(s[m]))
                        m++;
                    j = m;
                }
            }
        }
    }
    char buf[512];
    size_t n = j - start;
    if (is_float) {
        if (n >= sizeof buf)
            return lex_fail(lx, start, "number too long");
        memcpy(buf, s + start, n);
        buf[n] = '\0';
        double d = strtod(buf, NULL);
        if (isinf(d))
            return lex_fail(lx, start, "float literal out of range");
        struct ottl_token *tk = push(lx, TK_FLOAT, start, n);
        if (!tk)
            return error_set(lx->err, "out of memory");
        tk->d = d;
    } else {
        uint64_t v = 0;
        for (size_t k = start; k < j; k++) {
            unsigned dgt = (unsigned)(s[k] - '0');
            if (v > (uint64_t)(INT64_MAX - dgt) / 10)
                return lex_fail(lx, start, "integer literal out of range");
            v = v * 10 + dgt;
        }
        struct ottl_token *tk = push(lx, TK_INT, start, n);
        if (!tk)
            return error_set(lx->err, "out of memory");
        tk->i = (int64_t)v;
    }
    lx->pos = j;
    return 0;
}

static const struct { const char *w; enum ottl_tok t; } keywords[] = {
    {"nil", TK_NIL}, {"true", TK_TRUE}, {"false", TK_FALSE},
    {"not", TK_NOT}, {"and", TK_AND}, {"or", TK_OR},
};

int ottl_lex(struct arena *a, const char *text, size_t len, struct ottl_token **out, size_t *n,
             struct error *err)
{
    struct lexer lx = {.a = a, .s = text, .len = len, .err = err};
    while (lx.pos < lx.len) {
        char c = text[lx.pos];
        size_t p = lx.pos;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            lx.pos++;
            continue;
        }
        if (c == '"') {
            if (lex_string(&lx) < 0)
                return -1;
            continue;
        }
        if (is_digit(c) || (c == '.' && p + 1 < len && is_digit(text[p + 1]))) {
            if (lex_number(&lx) < 0)
                return -1;
            continue;
        }
        if (is_alpha(c)) {
            size_t j = p + 1;
            while (j < len && (is_alpha(text[j]) || is_digit(text[j]) || text[j] == '_'))
                j++;
            enum ottl_tok t = TK_IDENT;
            for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
                if (strlen(keywords[k].w) == j - p && memcmp(keywords[k].w, text + p, j - p) == 0)
                    t = keywords[k].t;
            struct ottl_token *tk = push(&lx, t, p, j - p);
            if (!tk)
                return error_set(err, "out of memory");
            tk->s = text + p;
            tk->n = j - p;
            lx.pos = j;
            continue;
        }
        enum ottl_tok t;
        size_t l = 1;
        const char *op = NULL;
        char d = p + 1 < len ? text[p + 1] : '\0';
        switch (c) {
        case '=': if (d == '=') { t = TK_CMP; op = "=="; l = 2; } else t = TK_EQUAL; break;
        case '!':
            if (d != '=')
                return lex_fail(&lx, p, "unexpected character '!'");
            t = TK_CMP; op = "!="; l = 2;
            break;
        case '<': t = TK_CMP; if (d == '=') { op = "<="; l = 2; } else op = "<"; break;
        case '>': t = TK_CMP; if (d == '=') { op = ">="; l = 2; } else op = ">"; break;
        case '+': t = TK_PLUS; break;
        case '-': t = TK_MINUS; break;
        case '*': t = TK_STAR; break;
        case '/': t = TK_SLASH; break;
        case '(': t = TK_LPAREN; break;
        case ')': t = TK_RPAREN; break;
        case '{': t = TK_LBRACE; break;
        case '}': t = TK_RBRACE; break;
        case '[': t = TK_LBRACK; break;
        case ']': t = TK_RBRACK; break;
        case ':': t = TK_COLON; break;
        case ',': t = TK_COMMA; break;
        case '.': t = TK_DOT; break;
        default: {
            char msg[64];
            if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
                snprintf(msg, sizeof msg, "unexpected character '%c'", c);
            else
                snprintf(msg, sizeof msg, "unexpected byte 0x%02x", (unsigned char)c);
            return lex_fail(&lx, p, msg);
        }
        }
        struct ottl_token *tk = push(&lx, t, p, l);
        if (!tk)
            return error_set(err, "out of memory");
        tk->op = op;
        lx.pos += l;
    }
    if (!push(&lx, TK_EOF, len, 0))
        return error_set(err, "out of memory");
    *out = lx.toks;
    *n = lx.n;
    return 0;
}
