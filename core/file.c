/* file.c — whole-file reads with a size cap: config-adjacent inputs (PEM bundles, price files)
 * are small, and the cap turns a config naming /dev/zero into an error instead of an OOM. */
#include "core/file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *file_read(const char *path, size_t max_bytes, size_t *len, struct error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_set(err, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    bool too_big = false;
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (n > max_bytes) {
            too_big = true;
            break;
        }
        if (r == 0)
            break;
    }
    int bad = ferror(f) ? errno : 0;
    fclose(f);
    if (!buf || bad || too_big) {
        free(buf);
        if (too_big)
            error_set(err, "%s: larger than %zu bytes", path, max_bytes);
        else if (bad)
            error_set(err, "cannot read %s: %s", path, strerror(bad));
        else
            error_set(err, "cannot read %s: out of memory", path);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}
