/* prometheus_internal.h — what translate.c lends the exporter: a growable text buffer, the
 * Prometheus spelling of numbers, label-value escaping and the text of an attribute value.
 *
 * The one idea: every piece of exposition text is appended to one struct prom_buf whose
 * out-of-memory state is sticky, so writers never check each append and the caller looks once
 * at the end. An append that fits is inline (a scrape is millions of small appends); only
 * growing calls out. Not thread-safe by itself; each buffer has one writer. */
#ifndef LLMOTLP_PROMETHEUS_INTERNAL_H
#define LLMOTLP_PROMETHEUS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"

struct prom_buf {
    char *p;        /* NUL-terminated whenever not NULL */
    size_t len, cap;
    bool oom;       /* sticky: some append failed (cap is then 0, so every append comes here) */
};

/* Makes room for n more bytes and their NUL; false when out of memory (or already so). */
bool prom_buf_grow(struct prom_buf *b, size_t n);

static inline void prom_buf_put(struct prom_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap && !prom_buf_grow(b, n))
        return;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static inline void prom_buf_puts(struct prom_buf *b, const char *s)
{
    prom_buf_put(b, s, strlen(s));
}

static inline void prom_buf_putc(struct prom_buf *b, char c)
{
    if (b->len + 2 > b->cap && !prom_buf_grow(b, 1))
        return;
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

/* Empties the buffer for reuse, keeping its memory unless an append had failed. */
void prom_buf_clear(struct prom_buf *b);
void prom_buf_printf(struct prom_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text, owned by the caller ("" when nothing was written); NULL if any append failed.
 * The buffer is empty afterwards. */
char *prom_buf_take(struct prom_buf *b, size_t *len);
void prom_buf_free(struct prom_buf *b);

/* An integer in decimal, as printf's PRId64 / PRIu64 conversions write it. */
void prom_format_int(struct prom_buf *b, int64_t v);
void prom_format_uint(struct prom_buf *b, uint64_t v);
/* A sample value, le or quantile as Prometheus reads it: NaN, +Inf, -Inf; integers up to 2^53
 * in plain digits; anything else in the fewest digits that read back to the same double, with
 * Go's 'g' choice of exponent form (exponent < -4 or >= 6), as the Prometheus client writes. */
void prom_format_value(struct prom_buf *b, double v);
/* A double as a label value: shortest round-trip digits, never an exponent (pdata's AsString). */
void prom_format_plain(struct prom_buf *b, double v);
/* Appends v escaped for a label value (\\, \", \n) or for HELP (\\, \n). */
void prom_escape_label_value(struct prom_buf *b, const char *v);
void prom_escape_help(struct prom_buf *b, const char *v);
/* The text of an attribute value as the Collector's AsString(): strings raw, ints in decimal,
 * doubles as prom_format_plain, booleans true/false, bytes base64, arrays and maps as JSON
 * (map keys sorted). NULL or an empty value appends nothing. */
void prom_attr_text(struct prom_buf *b, const Opentelemetry__Proto__Common__V1__AnyValue *v);

#endif
