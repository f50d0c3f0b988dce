/* prometheus_internal.h — what translate.c lends the exporter: a growable text buffer, the
 * Prometheus spelling of numbers, label-value escaping and the text of an attribute value.
 *
 * The one idea: every piece of exposition text is appended to one struct prom_buf whose
 * out-of-memory state is sticky, so writers never check each append and the caller looks once
 * at the end. Not thread-safe by itself; each buffer has one writer. */
#ifndef LLMOTLP_PROMETHEUS_INTERNAL_H
#define LLMOTLP_PROMETHEUS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"

struct prom_buf {
    char *p;        /* NUL-terminated when len > 0 or after prom_buf_take */
    size_t len, cap;
    bool oom;       /* sticky: some append failed */
};

void prom_buf_put(struct prom_buf *b, const char *s, size_t n);
void prom_buf_puts(struct prom_buf *b, const char *s);
void prom_buf_putc(struct prom_buf *b, char c);
void prom_buf_printf(struct prom_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text, owned by the caller ("" when nothing was written); NULL if any append failed.
 * The buffer is empty afterwards. */
char *prom_buf_take(struct prom_buf *b, size_t *len);
void prom_buf_free(struct prom_buf *b);

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
