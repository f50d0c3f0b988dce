/* translate.c — OTLP names and values spelled the way the Collector's prometheus exporter spells
 * them (its translator with suffixes and underscore escaping): metric names with unit words and
 * _total / _ratio, label names, and the text of numbers and attribute values.
 *
 * The one idea: a metric name is handled as a list of words. The name is cut into words at every
 * character Prometheus does not allow, the unit becomes words too, and a suffix is added only
 * when its words are not already in the name; joining the words with '_' then gives collapsed
 * and trimmed underscores for free. Everything here is pure and thread-safe. */
#include "exporters/prometheus/prometheus_exporter.h"
#include "exporters/prometheus/prometheus_internal.h"

#include <ctype.h>
#include <float.h>
#include <stdint.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/otlp.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;

/* ---- text buffer ----------------------------------------------------------------------------- */

bool prom_buf_grow(struct prom_buf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        b->cap = 0; /* the inline appends now always call here, and stop */
        return false;
    }
    b->p = p;
    b->cap = cap;
    p[b->len] = '\0';
    return true;
}

void prom_buf_clear(struct prom_buf *b)
{
    if (b->oom) {
        prom_buf_free(b);
        return;
    }
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void prom_buf_printf(struct prom_buf *b, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        prom_buf_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    prom_buf_put(b, big, (size_t)n);
    free(big);
}

char *prom_buf_take(struct prom_buf *b, size_t *len)
{
    if (b->oom) {
        prom_buf_free(b);
        return NULL;
    }
    if (!b->p)
        prom_buf_put(b, "", 0);
    if (b->oom) {
        prom_buf_free(b);
        return NULL;
    }
    char *p = b->p;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return p;
}

void prom_buf_free(struct prom_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- numbers --------------------------------------------------------------------------------- */

void prom_format_uint(struct prom_buf *b, uint64_t v)
{
    char buf[20], *p = buf + sizeof buf;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    prom_buf_put(b, p, (size_t)(buf + sizeof buf - p));
}

void prom_format_int(struct prom_buf *b, int64_t v)
{
    if (v < 0) {
        prom_buf_putc(b, '-');
        prom_format_uint(b, -(uint64_t)v); /* INT64_MIN too: negated in unsigned arithmetic */
        return;
    }
    prom_format_uint(b, (uint64_t)v);
}

/* Every power of ten a double holds exactly. */
static const double pow10_exact[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* The fewest significant digits that read back as v (finite, > 0): digits without the point,
 * and the decimal exponent of the first one.
 *
 * A double has at most one decimal of 15 or fewer significant digits that reads back as it (15
 * digits survive decimal -> double -> decimal, DBL_DIG), and when there is one it is the
 * shortest. So:
 * - Most values are short decimals (0.25, 37.13918): m / 10^k for the first k where v * 10^k
 *   rounds to an integer m below 10^15 and m / 10^k, one correctly rounded division of exact
 *   operands, is v again. No printf, no strtod.
 * - Otherwise the 15-digit rounding, if it reads back, is that decimal with trailing zeros;
 *   failing that 16 digits, and 17 always read back. This gives what trying 1, 2, ... 17
 *   digits in turn gives, with at most three conversions. Subnormals, which hold fewer bits,
 *   still try every length. */
static size_t shortest_digits(double v, char digits[24], int *exp10)
{
    for (int k = 0; k < (int)(sizeof pow10_exact / sizeof pow10_exact[0]); k++) {
        double t = v * pow10_exact[k];
        if (t >= 1e15)
            break;
        if (t < 0.5)
            continue;
        uint64_t m = (uint64_t)(t + 0.5);
        if ((double)m / pow10_exact[k] != v)
            continue;
        int e = -k;
        while (m % 10 == 0) {
            m /= 10;
            e++;
        }
        char buf[20], *p = buf + sizeof buf;
        do {
            *--p = (char)('0' + m % 10);
            m /= 10;
        } while (m);
        size_t n = (size_t)(buf + sizeof buf - p);
        memcpy(digits, p, n);
        digits[n] = '\0';
        *exp10 = e + (int)n - 1;
        return n;
    }

    char buf[40];
    /* From 1e-8 to 1e15 the loop above has tried every decimal of 15 or fewer digits (at most
     * 22 places), so the 15-digit rounding cannot read back either. */
    bool tried15 = v >= 1e-8 && v < 1e15;
    if (v < DBL_MIN) {
        /* Subnormals carry fewer than 53 bits, so 15 digits are no longer unique: try all. */
        for (int p = 1; p <= 17; p++) {
            snprintf(buf, sizeof buf, "%.*e", p - 1, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    } else {
        if (!tried15)
            snprintf(buf, sizeof buf, "%.14e", v);
        if (tried15 || strtod(buf, NULL) != v) {
            snprintf(buf, sizeof buf, "%.15e", v);
            if (strtod(buf, NULL) != v)
                snprintf(buf, sizeof buf, "%.16e", v);
        }
    }
    size_t n = 0;
    const char *c = buf;
    for (; *c && *c != 'e'; c++)
        if (isdigit((unsigned char)*c) && n < 23)
            digits[n++] = *c;
    *exp10 = *c == 'e' ? atoi(c + 1) : 0;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    return n;
}

static void put_plain_digits(struct prom_buf *b, const char *d, size_t n, int e)
{
    if (e < 0) {
        prom_buf_puts(b, "0.");
        for (int i = -1; i > e; i--)
            prom_buf_putc(b, '0');
        prom_buf_put(b, d, n);
        return;
    }
    size_t intlen = (size_t)e + 1;
    if (n <= intlen) {
        prom_buf_put(b, d, n);
        for (size_t i = n; i < intlen; i++)
            prom_buf_putc(b, '0');
        return;
    }
    prom_buf_put(b, d, intlen);
    prom_buf_putc(b, '.');
    prom_buf_put(b, d + intlen, n - intlen);
}

static bool put_special(struct prom_buf *b, double v)
{
    if (isnan(v))
        prom_buf_puts(b, "NaN");
    else if (isinf(v))
        prom_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    else if (v == 0)
        prom_buf_putc(b, '0');
    else
        return false;
    return true;
}

void prom_format_value(struct prom_buf *b, double v)
{
    if (put_special(b, v))
        return;
    if (v == trunc(v) && fabs(v) < 9007199254740992.0) {
        prom_format_int(b, (int64_t)v); /* exact: |v| < 2^53; -0 was written as 0 above */
        return;
    }
    if (v < 0)
        prom_buf_putc(b, '-');
    char d[24];
    int e;
    size_t n = shortest_digits(fabs(v), d, &e);
    if (e < -4 || e >= 6) {
        prom_buf_putc(b, d[0]);
        if (n > 1) {
            prom_buf_putc(b, '.');
            prom_buf_put(b, d + 1, n - 1);
        }
        /* printf's e%+03d: sign, then at least two digits */
        prom_buf_putc(b, 'e');
        prom_buf_putc(b, e < 0 ? '-' : '+');
        int ae = e < 0 ? -e : e;
        if (ae < 10)
            prom_buf_putc(b, '0');
        prom_format_uint(b, (uint64_t)ae);
        return;
    }
    put_plain_digits(b, d, n, e);
}

void prom_format_plain(struct prom_buf *b, double v)
{
    if (put_special(b, v))
        return;
    if (v < 0)
        prom_buf_putc(b, '-');
    char d[24];
    int e;
    size_t n = shortest_digits(fabs(v), d, &e);
    put_plain_digits(b, d, n, e);
}

/* ---- escaping and attribute text ------------------------------------------------------------- */

/* Copies the runs between the characters that need escaping in one append each: label values
 * rarely hold any. */
void prom_escape_label_value(struct prom_buf *b, const char *v)
{
    if (!v)
        return;
    const char *run = v, *s = v;
    for (; *s; s++) {
        char c = *s;
        if (c != '\\' && c != '"' && c != '\n')
            continue;
        prom_buf_put(b, run, (size_t)(s - run));
        prom_buf_put(b, c == '\\' ? "\\\\" : c == '"' ? "\\\"" : "\\n", 2);
        run = s + 1;
    }
    prom_buf_put(b, run, (size_t)(s - run));
}

void prom_escape_help(struct prom_buf *b, const char *v)
{
    if (!v)
        return;
    const char *run = v, *s = v;
    for (; *s; s++) {
        char c = *s;
        if (c != '\\' && c != '\n')
            continue;
        prom_buf_put(b, run, (size_t)(s - run));
        prom_buf_put(b, c == '\\' ? "\\\\" : "\\n", 2);
        run = s + 1;
    }
    prom_buf_put(b, run, (size_t)(s - run));
}

static void put_base64(struct prom_buf *b, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            w |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            w |= p[i + 2];
        char out[4] = {tab[(w >> 18) & 63], tab[(w >> 12) & 63],
                       i + 1 < n ? tab[(w >> 6) & 63] : '=', i + 2 < n ? tab[w & 63] : '='};
        prom_buf_put(b, out, 4);
    }
}

static void put_json_string(struct prom_buf *b, const char *s)
{
    prom_buf_putc(b, '"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            prom_buf_putc(b, '\\');
            prom_buf_putc(b, (char)c);
        } else if (c == '\n') {
            prom_buf_puts(b, "\\n");
        } else if (c == '\r') {
            prom_buf_puts(b, "\\r");
        } else if (c == '\t') {
            prom_buf_puts(b, "\\t");
        } else if (c < 0x20) {
            prom_buf_printf(b, "\\u%04x", c);
        } else {
            prom_buf_putc(b, (char)c);
        }
    }
    prom_buf_putc(b, '"');
}

static int kv_key_cmp(const void *a, const void *b)
{
    const KeyValue *x = *(const KeyValue *const *)a, *y = *(const KeyValue *const *)b;
    return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

static void put_json_value(struct prom_buf *b, const AnyValue *v, int depth)
{
    if (!v || depth > OTLP_MAX_DEPTH) {
        prom_buf_puts(b, "null");
        return;
    }
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        put_json_string(b, v->string_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        prom_buf_puts(b, v->bool_value ? "true" : "false");
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        prom_format_int(b, v->int_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        prom_format_plain(b, v->double_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
        prom_buf_putc(b, '"');
        put_base64(b, v->bytes_value.data, v->bytes_value.len);
        prom_buf_putc(b, '"');
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
        prom_buf_putc(b, '[');
        for (size_t i = 0; v->array_value && i < v->array_value->n_values; i++) {
            if (i)
                prom_buf_putc(b, ',');
            put_json_value(b, v->array_value->values[i], depth + 1);
        }
        prom_buf_putc(b, ']');
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE: {
        /* Go marshals a map with its keys sorted; a sorted copy of the pointers does the same. */
        size_t n = v->kvlist_value ? v->kvlist_value->n_values : 0;
        KeyValue **kv = n ? malloc(n * sizeof *kv) : NULL;
        if (n && !kv) {
            b->oom = true;
            return;
        }
        if (n)
            memcpy(kv, v->kvlist_value->values, n * sizeof *kv);
        if (n > 1)
            qsort(kv, n, sizeof *kv, kv_key_cmp);
        prom_buf_putc(b, '{');
        for (size_t i = 0; i < n; i++) {
            if (i)
                prom_buf_putc(b, ',');
            put_json_string(b, kv[i]->key);
            prom_buf_putc(b, ':');
            put_json_value(b, kv[i]->value, depth + 1);
        }
        prom_buf_putc(b, '}');
        free(kv);
        break;
    }
    default:
        prom_buf_puts(b, "null");
        break;
    }
}

void prom_attr_text(struct prom_buf *b, const AnyValue *v)
{
    if (!v)
        return;
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        if (v->string_value)
            prom_buf_puts(b, v->string_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        prom_buf_puts(b, v->bool_value ? "true" : "false");
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        prom_format_int(b, v->int_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        prom_format_plain(b, v->double_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
        put_base64(b, v->bytes_value.data, v->bytes_value.len);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
        put_json_value(b, v, 0);
        break;
    default:
        break;
    }
}

/* ---- words ----------------------------------------------------------------------------------- */

struct word {
    const char *p;
    size_t n;
};

struct words {
    struct word *v;
    size_t n, cap;
    bool oom;
};

static void words_add(struct words *w, const char *p, size_t n)
{
    if (w->oom || n == 0)
        return;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct word *v = realloc(w->v, cap * sizeof *v);
        if (!v) {
            w->oom = true;
            return;
        }
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = (struct word){p, n};
}

static bool metric_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':';
}

static bool unit_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Appends the runs of s made of characters for which ok() holds. */
static void words_split(struct words *w, const char *s, size_t len, bool (*ok)(unsigned char))
{
    size_t i = 0;
    while (i < len) {
        while (i < len && !ok((unsigned char)s[i]))
            i++;
        size_t start = i;
        while (i < len && ok((unsigned char)s[i]))
            i++;
        words_add(w, s + start, i - start);
    }
}

static bool word_is(const struct word *x, const char *s)
{
    return x->n == strlen(s) && memcmp(x->p, s, x->n) == 0;
}

static bool word_eq(const struct word *x, const struct word *y)
{
    return x->n == y->n && memcmp(x->p, y->p, x->n) == 0;
}

/* Whether seq appears in w as consecutive words. */
static bool words_contain(const struct words *w, const struct words *seq)
{
    if (seq->n == 0 || seq->n > w->n)
        return false;
    for (size_t i = 0; i + seq->n <= w->n; i++) {
        size_t j = 0;
        while (j < seq->n && word_eq(&w->v[i + j], &seq->v[j]))
            j++;
        if (j == seq->n)
            return true;
    }
    return false;
}

static void words_append(struct words *w, const struct words *more)
{
    for (size_t i = 0; i < more->n; i++)
        words_add(w, more->v[i].p, more->v[i].n);
    if (more->oom)
        w->oom = true;
}

static void words_remove(struct words *w, const char *s)
{
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++)
        if (!word_is(&w->v[i], s))
            w->v[k++] = w->v[i];
    w->n = k;
}

/* Writes the words joined by '_' (leading digit: "_" first). False when out is too small. */
static bool words_join(const struct words *w, char *out, size_t len)
{
    size_t at = 0;
    bool fits = true;
    if (w->n && isdigit((unsigned char)w->v[0].p[0])) {
        if (at + 1 < len)
            out[at++] = '_';
        else
            fits = false;
    }
    for (size_t i = 0; i < w->n && fits; i++) {
        size_t need = w->v[i].n + (i ? 1 : 0);
        if (at + need >= len) {
            fits = false;
            break;
        }
        if (i)
            out[at++] = '_';
        memcpy(out + at, w->v[i].p, w->v[i].n);
        at += w->v[i].n;
    }
    out[at] = '\0';
    return fits;
}

/* ---- units ----------------------------------------------------------------------------------- */

struct unit_word {
    const char *ucum, *word;
};

static const struct unit_word unit_words[] = {
    {"d", "days"},          {"h", "hours"},          {"min", "minutes"},
    {"s", "seconds"},       {"ms", "milliseconds"},  {"us", "microseconds"},
    {"ns", "nanoseconds"},  {"By", "bytes"},         {"KiBy", "kibibytes"},
    {"MiBy", "mebibytes"},  {"GiBy", "gibibytes"},   {"TiBy", "tebibytes"},
    {"KBy", "kilobytes"},   {"MBy", "megabytes"},    {"GBy", "gigabytes"},
    {"TBy", "terabytes"},   {"m", "meters"},         {"V", "volts"},
    {"A", "amperes"},       {"J", "joules"},         {"W", "watts"},
    {"g", "grams"},         {"Cel", "celsius"},      {"Hz", "hertz"},
    {"1", ""},              {"%", "percent"},        {NULL, NULL},
};

static const struct unit_word per_unit_words[] = {
    {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
    {"w", "week"},   {"mo", "month"}, {"y", "year"}, {NULL, NULL},
};

static const char *unit_lookup(const struct unit_word *tab, const char *p, size_t n)
{
    for (const struct unit_word *u = tab; u->ucum; u++)
        if (strlen(u->ucum) == n && memcmp(u->ucum, p, n) == 0)
            return u->word;
    return NULL;
}

static void trim_span(const char **p, size_t *n)
{
    while (*n && isspace((unsigned char)**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*p)[*n - 1]))
        (*n)--;
}

/* The words of one side of a unit ("By", "s", ...): its word from tab, or the unit itself
 * cut at every character that is not a letter or digit. */
static void unit_side_words(struct words *w, const struct unit_word *tab, const char *p, size_t n)
{
    trim_span(&p, &n);
    if (n == 0)
        return;
    const char *word = unit_lookup(tab, p, n);
    if (word)
        words_split(w, word, strlen(word), unit_char);
    else
        words_split(w, p, n, unit_char);
}

/* A copy of unit without its {annotations} (an unclosed '{' annotates to the end), as the
 * specification says: a count of things is unitless in Prometheus. */
static char *strip_annotations(const char *unit)
{
    size_t n = strlen(unit);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t k = 0;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (unit[i] == '{')
            depth++;
        else if (unit[i] == '}' && depth > 0)
            depth--;
        else if (depth == 0 && unit[i] != '}')
            out[k++] = unit[i];
    }
    out[k] = '\0';
    return out;
}

/* ---- names ----------------------------------------------------------------------------------- */

char *prometheus_metric_name(const char *ns, const char *name, const char *unit, int kind,
                             bool monotonic, bool add_suffixes, char *out, size_t len)
{
    if (!out || len == 0)
        return out;
    out[0] = '\0';
    if (!name)
        name = "";
    if (!unit)
        unit = "";
    struct words w = {0}, nsw = {0}, mainw = {0}, perw = {0};
    char *bare = NULL;

    words_split(&nsw, ns ? ns : "", ns ? strlen(ns) : 0, metric_char);
    if (!add_suffixes) {
        /* The Collector's plain path: only the runs of forbidden characters become '_', so
         * underscores already in the name stay as they are. */
        size_t at = 0;
        bool fits = true;
        for (size_t i = 0; i < nsw.n && fits; i++) {
            if (at + nsw.v[i].n + 1 >= len) {
                fits = false;
                break;
            }
            memcpy(out + at, nsw.v[i].p, nsw.v[i].n);
            at += nsw.v[i].n;
            out[at++] = '_';
        }
        bool prefixed = at > 0;
        struct words plain = {0};
        size_t i = 0, n = strlen(name);
        while (i < n) {
            while (i < n && !(metric_char((unsigned char)name[i]) || name[i] == '_'))
                i++;
            size_t start = i;
            while (i < n && (metric_char((unsigned char)name[i]) || name[i] == '_'))
                i++;
            words_add(&plain, name + start, i - start);
        }
        if (!prefixed && plain.n && isdigit((unsigned char)plain.v[0].p[0]) && fits) {
            if (at + 1 < len)
                out[at++] = '_';
            else
                fits = false;
        }
        for (size_t k = 0; k < plain.n && fits; k++) {
            size_t need = plain.v[k].n + (k ? 1 : 0);
            if (at + need >= len) {
                fits = false;
                break;
            }
            if (k)
                out[at++] = '_';
            memcpy(out + at, plain.v[k].p, plain.v[k].n);
            at += plain.v[k].n;
        }
        if (plain.n == 0 && prefixed)
            at--; /* a namespace alone: no trailing '_' */
        out[at] = '\0';
        if (plain.oom || nsw.oom || !fits)
            out[0] = '\0';
        free(plain.v);
        free(nsw.v);
        return out;
    }

    words_split(&w, name, strlen(name), metric_char);
    bare = strip_annotations(unit);
    if (!bare)
        w.oom = true;
    if (bare) {
        const char *slash = strchr(bare, '/');
        size_t main_len = slash ? (size_t)(slash - bare) : strlen(bare);
        unit_side_words(&mainw, unit_words, bare, main_len);
        if (slash) {
            struct words pw = {0};
            unit_side_words(&pw, per_unit_words, slash + 1, strlen(slash + 1));
            if (pw.n) {
                words_add(&perw, "per", 3);
                words_append(&perw, &pw);
            }
            if (pw.oom)
                perw.oom = true;
            free(pw.v);
        }
    }
    if (!words_contain(&w, &mainw))
        words_append(&w, &mainw);
    if (!words_contain(&w, &perw))
        words_append(&w, &perw);
    if (mainw.oom || perw.oom)
        w.oom = true;

    if (kind == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM && monotonic) {
        words_remove(&w, "total");
        words_add(&w, "total", 5);
    }
    if (strcmp(unit, "1") == 0 && kind == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE) {
        words_remove(&w, "ratio");
        words_add(&w, "ratio", 5);
    }

    struct words all = {0};
    words_append(&all, &nsw);
    words_append(&all, &w);
    /* A name cut short could be another metric's name: no name is safer. */
    if (all.oom || w.oom || nsw.oom || !words_join(&all, out, len))
        out[0] = '\0';
    free(all.v);
    free(w.v);
    free(nsw.v);
    free(mainw.v);
    free(perw.v);
    free(bare);
    return out;
}

/* Whether c is a UTF-8 continuation byte after a non-ASCII byte, i.e. part of the character
 * before it. */
static bool label_continues(const unsigned char *c, const unsigned char *start)
{
    return (*c & 0xC0) == 0x80 && c > start && c[-1] >= 0x80;
}

char *prometheus_label_name(const char *key, char *out, size_t len)
{
    if (!out || len == 0)
        return out;
    out[0] = '\0';
    if (!key || !*key)
        return out;
    /* Each character (a UTF-8 sequence is one) becomes itself when allowed, '_' otherwise; then
     * a leading digit gets "key_" and a leading single '_' gets "key" ("__" is Prometheus'
     * reserved prefix, which the Collector leaves alone). The first two characters decide the
     * prefix, so the rest is written once, in place after it. */
    const unsigned char *start = (const unsigned char *)key, *c = start;
    char first[2] = {0, 0};
    for (size_t i = 0; *c && i < 2; c++) {
        if (!label_continues(c, start))
            first[i++] = unit_char(*c) ? (char)*c : '_';
    }
    const char *prefix = "";
    if (isdigit((unsigned char)first[0]))
        prefix = "key_";
    else if (first[0] == '_' && first[1] != '_')
        prefix = "key";
    size_t plen = strlen(prefix), n = plen;
    bool named = plen > 0; /* nothing but underscores is no name */
    memcpy(out, prefix, plen < len ? plen : 0);
    for (c = start; *c; c++) {
        if (label_continues(c, start))
            continue;
        char ch = unit_char(*c) ? (char)*c : '_';
        named |= ch != '_';
        if (n + 1 < len)
            out[n] = ch;
        n++;
    }
    if (n + 1 > len || !named) {
        out[0] = '\0';
        return out;
    }
    out[n] = '\0';
    return out;
}

/* ---- UTF-8 strategies ------------------------------------------------------------------------ */

/* Whether name ends with suffix after at least one more character and a delimiter: the
 * Collector's trimSuffixAndDelimiter, which drops both so the suffix can be appended last. */
static size_t trim_suffix_and_delimiter(const char *name, size_t n, const char *suffix)
{
    size_t s = strlen(suffix);
    if (n > s + 1 && memcmp(name + n - s, suffix, s) == 0)
        return n - s - 1;
    return n;
}

static bool ends_with(const char *name, size_t n, const char *suffix)
{
    size_t s = strlen(suffix);
    return n >= s && memcmp(name + n - s, suffix, s) == 0;
}

/* One side of a unit as the UTF-8 namer reads it: trimmed, nothing when it holds a '{' or '}',
 * else its word from tab or itself (no character is changed). Writes at most len bytes. */
static void unit_side_raw(const struct unit_word *tab, const char *p, size_t n, char *out,
                          size_t len)
{
    out[0] = '\0';
    trim_span(&p, &n);
    if (n == 0 || memchr(p, '{', n) || memchr(p, '}', n))
        return;
    const char *word = unit_lookup(tab, p, n);
    if (word)
        snprintf(out, len, "%s", word);
    else
        snprintf(out, len, "%.*s", (int)n, p);
}

char *prometheus_metric_name_utf8(const char *ns, const char *name, const char *unit, int kind,
                                  bool monotonic, bool add_suffixes, char *out, size_t len)
{
    if (!out || len == 0)
        return out;
    out[0] = '\0';
    if (!name || !*name)
        return out;
    if (!unit)
        unit = "";
    struct prom_buf b = {0};
    if (ns && *ns) {
        prom_buf_puts(&b, ns);
        prom_buf_putc(&b, '_');
    }
    prom_buf_puts(&b, name);
    if (add_suffixes && !b.oom) {
        bool ratio = strcmp(unit, "1") == 0 && kind == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
        bool total = kind == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM && monotonic;
        /* Suffixes already at the end are taken off and put back in the order
         * <name>[_<unit>][_per_<unit>][_total|_ratio]. */
        if (ratio)
            b.len = trim_suffix_and_delimiter(b.p, b.len, "ratio");
        if (total)
            b.len = trim_suffix_and_delimiter(b.p, b.len, "total");
        char main_word[128], per_word[128] = "", per[160] = "";
        const char *slash = strchr(unit, '/');
        unit_side_raw(unit_words, unit, slash ? (size_t)(slash - unit) : strlen(unit), main_word,
                      sizeof main_word);
        if (slash && slash[1]) {
            unit_side_raw(per_unit_words, slash + 1, strlen(slash + 1), per_word, sizeof per_word);
            if (per_word[0])
                snprintf(per, sizeof per, "per_%s", per_word);
        }
        if (per[0])
            b.len = trim_suffix_and_delimiter(b.p, b.len, per);
        b.p[b.len] = '\0';
        if (main_word[0] && !ends_with(b.p, b.len, main_word)) {
            prom_buf_putc(&b, '_');
            prom_buf_puts(&b, main_word);
        }
        if (per[0]) {
            prom_buf_putc(&b, '_');
            prom_buf_puts(&b, per);
        }
        if (total)
            prom_buf_puts(&b, "_total");
        if (ratio)
            prom_buf_puts(&b, "_ratio");
    }
    if (!b.oom && b.p && b.len < len)
        memcpy(out, b.p, b.len + 1);
    prom_buf_free(&b);
    return out;
}

char *prometheus_escape_name(const char *in, bool label, char *out, size_t len)
{
    if (!out || len == 0)
        return out;
    out[0] = '\0';
    if (!in)
        return out;
    const unsigned char *start = (const unsigned char *)in;
    size_t n = 0;
    bool named = false;
    for (const unsigned char *c = start; *c; c++) {
        if (label_continues(c, start))
            continue; /* one '_' per character, not per byte */
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
                  (*c == ':' && !label) || (*c >= '0' && *c <= '9' && n > 0);
        char ch = ok ? (char)*c : '_';
        named |= ch != '_';
        if (n + 1 >= len) {
            out[0] = '\0';
            return out;
        }
        out[n++] = ch;
    }
    out[named ? n : 0] = '\0';
    return out;
}

char *prometheus_translate_metric_name(enum prometheus_translation t, const char *ns,
                                       const char *name, const char *unit, int kind,
                                       bool monotonic, char *out, size_t len)
{
    bool suffixes = t == PROM_UNDERSCORE_ESCAPING_WITH_SUFFIXES ||
                    t == PROM_NO_UTF8_ESCAPING_WITH_SUFFIXES;
    if (t == PROM_UNDERSCORE_ESCAPING_WITH_SUFFIXES || t == PROM_UNDERSCORE_ESCAPING_WITHOUT_SUFFIXES)
        return prometheus_metric_name(ns, name, unit, kind, monotonic, suffixes, out, len);
    char raw[1024];
    prometheus_metric_name_utf8(ns, name, unit, kind, monotonic, suffixes, raw, sizeof raw);
    return prometheus_escape_name(raw, false, out, len);
}

char *prometheus_translate_label_name(enum prometheus_translation t, const char *key, char *out,
                                      size_t len)
{
    if (t == PROM_UNDERSCORE_ESCAPING_WITH_SUFFIXES || t == PROM_UNDERSCORE_ESCAPING_WITHOUT_SUFFIXES)
        return prometheus_label_name(key, out, len);
    return prometheus_escape_name(key, true, out, len);
}
