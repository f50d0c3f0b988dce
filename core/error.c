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
    char head[512], tail[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    snprintf(tail, sizeof tail, "%s", err->msg);
    snprintf(err->msg, sizeof err->msg, "%s%s", head, tail);
}

void error_clear(struct error *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}
