/* error.c — formatted error messages carried by value up the call chain. */
#include "core/error.h"

#include <stdio.h>
#include <string.h>

int error_vset(struct error *err, const char *fmt, va_list ap)
{
    if (err)
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return -1;
}

int error_set(struct error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, fmt, ap);
    va_end(ap);
    return -1;
}

void error_prefix(struct error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char head[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    size_t hl = (size_t)n < sizeof head ? (size_t)n : sizeof head - 1;
    size_t ml = strnlen(err->msg, sizeof err->msg - 1);
    if (hl + ml > sizeof err->msg - 1)
        ml = sizeof err->msg - 1 - hl;
    memmove(err->msg + hl, err->msg, ml);
    memcpy(err->msg, head, hl);
    err->msg[hl + ml] = '\0';
}

void error_clear(struct error *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}
