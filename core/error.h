/* error.h — the one way library code reports failure: a message filled in, never printed.
 * Callers own the struct (usually on the stack); functions that fail return non-zero or NULL and
 * fill it. Not shared between threads. */
#ifndef LLMOTLP_ERROR_H
#define LLMOTLP_ERROR_H

#include <stdarg.h>

struct error {
    int code;        /* optional machine-readable code, component defined; 0 when unused */
    char msg[1024];
};

/* Sets err (if non-NULL) to the formatted message; returns -1 so callers can `return error_set(...)`. */
int error_set(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int error_vset(struct error *err, const char *fmt, va_list ap);
/* Prefixes the existing message with the formatted text (e.g. "file:line:col: "). */
void error_prefix(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void error_clear(struct error *err);

#endif
