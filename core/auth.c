/* auth.c — the `auth:` config tables shared by receivers and exporters, the constant-time
 * comparison every authenticator uses, and base64 for HTTP Basic credentials.
 *
 * The one idea of auth_equal: the loop runs over the whole expected value whatever the offered
 * one holds, and only ORs differences together, so its duration says nothing about how many
 * leading bytes of a guess were right. */
#include "core/auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/component.h"
#include "core/file.h"

#define AUTH_FILE_MAX ((size_t)1 << 20)

const struct config_field auth_config_fields[] = {
    {.name = "authenticator", .type = CFG_STRING, .offset = offsetof(struct auth_config, authenticator),
     .doc = "ID of the authenticator extension (bearertokenauth, basicauth), listed in "
            "service.extensions"},
    {.name = NULL},
};

const struct config_field auth_http_server_config_fields[] = {
    {.name = "authenticator", .type = CFG_STRING, .offset = offsetof(struct auth_config, authenticator),
     .doc = "ID of the authenticator extension (bearertokenauth, basicauth), listed in "
            "service.extensions"},
    {.name = "request_params", .type = CFG_STRING_LIST,
     .offset = offsetof(struct auth_config, request_params),
     .doc = "query parameters handed to the authenticator as headers of the same name (the "
            "query wins over a header)"},
    {.name = NULL},
};

bool auth_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    const volatile unsigned char *x = a, *y = b;
    /* Differences in length count, and the loop length is the expected value's (b). */
    unsigned diff = alen != blen;
    for (size_t i = 0; i < blen; i++) {
        unsigned char xi = alen ? x[i < alen ? i : 0] : 0;
        diff |= (unsigned)(xi ^ y[i]);
    }
    return diff == 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *auth_base64_encode(const void *data, size_t len)
{
    const unsigned char *p = data;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict, as Go's base64.StdEncoding: length a multiple of 4, '=' only as the last one or two
 * characters. */
unsigned char *auth_base64_decode(const char *text, size_t len, size_t *out_len)
{
    if (len % 4 != 0)
        return NULL;
    size_t pad = 0;
    if (len && text[len - 1] == '=')
        pad++;
    if (len > 1 && text[len - 2] == '=')
        pad++;
    unsigned char *out = malloc(len / 4 * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            bool padding = i + (size_t)k >= len - pad;
            v[k] = padding ? (text[i + k] == '=' ? 0 : -1) : b64_value(text[i + k]);
            if (v[k] < 0) {
                free(out);
                return NULL;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        size_t n = i + 4 < len ? 3 : 3 - pad;
        if (n >= 1)
            out[o++] = (unsigned char)(w >> 16);
        if (n >= 2)
            out[o++] = (unsigned char)(w >> 8);
        if (n >= 3)
            out[o++] = (unsigned char)w;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* ---- watched files --------------------------------------------------------------------------- */

int auth_file_init(struct auth_file *f, const char *path, int64_t interval_ns)
{
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path)
        return -1;
    f->interval_ns = interval_ns;
    pthread_mutex_init(&f->mu, NULL);
    return 0;
}

void auth_file_destroy(struct auth_file *f)
{
    if (!f->path)
        return;
    free(f->path);
    f->path = NULL;
    pthread_mutex_destroy(&f->mu);
}

/* Caller holds f->mu. */
static int reload_locked(struct auth_file *f, bool force, auth_file_apply_fn apply, void *ctx,
                         struct error *err)
{
    int rc = -1;
    struct stat st;
    if (stat(f->path, &st) != 0) {
        error_set(err, "cannot read %s: %s", f->path, strerror(errno));
        goto done;
    }
    if (!force && f->have_id && f->dev == st.st_dev && f->ino == st.st_ino &&
        f->size == st.st_size && f->mtim.tv_sec == st.st_mtim.tv_sec &&
        f->mtim.tv_nsec == st.st_mtim.tv_nsec && f->ctim.tv_sec == st.st_ctim.tv_sec &&
        f->ctim.tv_nsec == st.st_ctim.tv_nsec) {
        rc = 0;
        goto done;
    }
    size_t len = 0;
    char *text = file_read(f->path, AUTH_FILE_MAX, &len, err);
    if (!text)
        goto done;
    f->have_id = true;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = st.st_size;
    f->mtim = st.st_mtim;
    f->ctim = st.st_ctim;
    rc = apply(ctx, text, len, err) == 0 ? 1 : -1;
    explicit_bzero(text, len);
    free(text);
done:
    return rc;
}

int auth_file_reload(struct auth_file *f, bool force, auth_file_apply_fn apply, void *ctx,
                     struct error *err)
{
    pthread_mutex_lock(&f->mu);
    int rc = reload_locked(f, force, apply, ctx, err);
    pthread_mutex_unlock(&f->mu);
    return rc;
}

int auth_file_poll(struct auth_file *f, auth_file_apply_fn apply, void *ctx, struct error *err)
{
    if (clock_now_ns() < atomic_load_explicit(&f->next_poll_ns, memory_order_acquire))
        return 0;
    /* Due. next_poll_ns moves only when a look has finished, so every caller that arrives while
     * one is in progress finds it due too, and waits here for it rather than go on with the
     * secret of before. */
    if (pthread_mutex_trylock(&f->mu) != 0) {
        pthread_mutex_lock(&f->mu);
        pthread_mutex_unlock(&f->mu);
        return 0;
    }
    int rc = 0;
    if (clock_now_ns() >= atomic_load_explicit(&f->next_poll_ns, memory_order_acquire)) {
        rc = reload_locked(f, false, apply, ctx, err);
        atomic_store_explicit(&f->next_poll_ns, clock_now_ns() + f->interval_ns,
                              memory_order_release);
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}
