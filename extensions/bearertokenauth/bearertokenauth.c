/* bearertokenauth.c — the `bearertokenauth` extension: static bearer tokens, or tokens read from
 * a file that an operator (or Kubernetes, through a symlink swap) rotates while llmotlp runs.
 *
 * The one idea: the file is watched by the requests themselves (core/auth.h's auth_file).
 * Whoever needs the token (a receiver checking a header, an exporter adding one) first asks "has
 * a poll interval passed?"; one of them wins a compare-and-swap and stats the file, and only when
 * its identity (device, inode, size, mtime, ctime) changed is it read again and the token list
 * swapped under a write lock. No thread, no inotify descriptor to re-arm when a symlink is replaced, and a rotation is
 * seen within BEARERTOKENAUTH_POLL_NS of the first request after it.
 *
 * Compatibility: keys, defaults and the file format (one token a line, trimmed) are the
 * Collector's. Two deliberate differences, both stricter: empty lines of the file are skipped
 * (the Collector would accept "Bearer " with nothing after it), and a file that cannot be read at
 * start fails the start instead of running without a token. The scheme is compared without
 * regard to case, as RFC 9110 says; the token in constant time. */
#include "extensions/bearertokenauth/bearertokenauth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/auth.h"
#include "core/component.h"
#include "core/config.h"
#include "core/log.h"

struct bta_config {
    char *header;
    char *scheme;
    char *token;
    struct config_str_list tokens;
    char *filename;
};

static const struct config_field bta_fields[] = {
    {.name = "header", .type = CFG_STRING, .offset = offsetof(struct bta_config, header),
     .def = "Authorization", .doc = "header (gRPC metadata key, lowercased) that carries the token"},
    {.name = "scheme", .type = CFG_STRING, .offset = offsetof(struct bta_config, scheme),
     .def = "Bearer", .doc = "auth scheme put before the token (\"\" = the token alone)"},
    {.name = "token", .type = CFG_STRING, .offset = offsetof(struct bta_config, token),
     .doc = "the token", .secret = true},
    {.name = "tokens", .type = CFG_STRING_LIST, .offset = offsetof(struct bta_config, tokens),
     .doc = "several tokens, any of which a receiver accepts (an exporter sends the first)",
     .secret = true},
    {.name = "filename", .type = CFG_STRING, .offset = offsetof(struct bta_config, filename),
     .doc = "file holding the token(s), one a line; re-read when it changes (wins over "
            "token/tokens)"},
    {.name = NULL},
};

/* One token list, immutable once published. */
struct bta_tokens {
    size_t n;
    char **v;
    size_t *len;
};

struct bearertokenauth {
    struct auth_server server;          /* interfaces handed out by bta_interface */
    struct auth_client client;
    const struct bta_config *cfg;
    char *log_name;
    char challenge[64];
    pthread_rwlock_t lock;              /* guards tokens */
    struct bta_tokens *tokens;
    struct auth_file file;              /* when filename is set */
};

/* ---- config ---------------------------------------------------------------------------------- */

static bool set(const char *s) { return s && *s; }

/* HTTP header names are RFC 9110 tokens; gRPC metadata keys are a subset once lowercased. */
static bool header_name_ok(const char *h)
{
    if (!set(h))
        return false;
    for (const char *p = h; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
            !strchr("-_.", *p))
            return false;
    return true;
}

/* A token becomes a header value: printable ASCII only, no line breaks to smuggle headers. */
static bool token_ok(const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static int bta_validate(const void *cfgp, struct error *err)
{
    const struct bta_config *c = cfgp;
    if (!set(c->token) && c->tokens.n == 0 && !set(c->filename))
        return error_set(err, "no bearer token provided: set token, tokens or filename");
    if (set(c->token) && c->tokens.n > 0)
        return error_set(err, "either tokens or token should be provided, not both");
    if (!header_name_ok(c->header))
        return error_set(err, "header: \"%s\" is not a valid header name (letters, digits, '-', "
                         "'_', '.')", c->header ? c->header : "");
    if (c->scheme && (!token_ok(c->scheme) || strchr(c->scheme, ' ')))
        return error_set(err, "scheme: must be one word of printable characters");
    if (set(c->token) && !token_ok(c->token))
        return error_set(err, "token: holds a control character (a line break?)");
    for (size_t i = 0; i < c->tokens.n; i++)
        if (!c->tokens.items[i] || !*c->tokens.items[i] || !token_ok(c->tokens.items[i]))
            return error_set(err, "tokens[%zu]: must be non-empty printable text", i);
    return 0;
}

static void bta_warn(const void *cfgp, const struct cnode *node, const struct config_warn_sink *w)
{
    const struct bta_config *c = cfgp;
    if (!set(c->filename))
        return;
    if (set(c->token))
        config_warnf(w, cnode_find_key(node, "token"), "token",
                     "has no effect: filename is set, and the token is read from the file");
    if (c->tokens.n)
        config_warnf(w, cnode_find_key(node, "tokens"), "tokens",
                     "has no effect: filename is set, and the tokens are read from the file");
}

/* ---- token lists ----------------------------------------------------------------------------- */

static void tokens_free(struct bta_tokens *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        /* secrets do not linger in freed memory */
        explicit_bzero(t->v[i], t->len[i]);
        free(t->v[i]);
    }
    free(t->v);
    free(t->len);
    free(t);
}

static int tokens_add(struct bta_tokens *t, const char *s, size_t n)
{
    char **v = realloc(t->v, (t->n + 1) * sizeof *v);
    if (v)
        t->v = v;
    size_t *l = realloc(t->len, (t->n + 1) * sizeof *l);
    if (l)
        t->len = l;
    char *d = v && l ? strndup(s, n) : NULL;
    if (!d)
        return -1;
    t->v[t->n] = d;
    t->len[t->n++] = n;
    return 0;
}

/* The file's content: one token a line, each trimmed; empty lines skipped. */
static struct bta_tokens *tokens_parse(const char *text, size_t len, struct error *err)
{
    struct bta_tokens *t = calloc(1, sizeof *t);
    if (!t) {
        error_set(err, "out of memory");
        return NULL;
    }
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        size_t a = i, b = e;
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (b > a) {
            for (size_t k = a; k < b; k++)
                if ((unsigned char)text[k] < 0x20 || text[k] == 0x7f) {
                    error_set(err, "line %zu holds a control character", t->n + 1);
                    tokens_free(t);
                    return NULL;
                }
            if (tokens_add(t, text + a, b - a) != 0) {
                error_set(err, "out of memory");
                tokens_free(t);
                return NULL;
            }
        }
        i = e + 1;
    }
    if (t->n == 0) {
        error_set(err, "no token in the file");
        tokens_free(t);
        return NULL;
    }
    return t;
}

static struct bta_tokens *tokens_from_config(const struct bta_config *c)
{
    struct bta_tokens *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    int rc = 0;
    if (set(c->token))
        rc = tokens_add(t, c->token, strlen(c->token));
    for (size_t i = 0; rc == 0 && i < c->tokens.n; i++)
        rc = tokens_add(t, c->tokens.items[i], strlen(c->tokens.items[i]));
    if (rc != 0) {
        tokens_free(t);
        return NULL;
    }
    return t;
}

static void tokens_publish(struct bearertokenauth *b, struct bta_tokens *t)
{
    pthread_rwlock_wrlock(&b->lock);
    struct bta_tokens *old = b->tokens;
    b->tokens = t;
    pthread_rwlock_unlock(&b->lock);
    tokens_free(old);
}

/* ---- the token file -------------------------------------------------------------------------- */

static int apply_tokens(void *ctx, const char *text, size_t len, struct error *err)
{
    struct bearertokenauth *b = ctx;
    struct bta_tokens *t = tokens_parse(text, len, err);
    if (!t)
        return -1;
    size_t n = t->n;
    tokens_publish(b, t);
    log_info(b->log_name, "token file %s (re)loaded: %zu token%s", b->cfg->filename, n,
             n == 1 ? "" : "s");
    return 0;
}

/* 0 when the tokens in force are the file's (reloaded or unchanged), -1 with err otherwise (the
 * previous tokens stay). */
static int file_reload(struct bearertokenauth *b, bool force, struct error *err)
{
    if (auth_file_reload(&b->file, force, apply_tokens, b, err) < 0) {
        error_prefix(err, "filename: ");
        return -1;
    }
    return 0;
}

/* On the request path: at most one stat per poll interval for the whole process. */
static void file_poll(struct bearertokenauth *b)
{
    if (!set(b->cfg->filename))
        return;
    struct error err = {0};
    if (auth_file_poll(&b->file, apply_tokens, b, &err) < 0)
        log_warn(b->log_name, "filename: %s; keeping the tokens loaded before", err.msg);
}

void bearertokenauth_check_file(void *ext)
{
    struct bearertokenauth *b = ext;
    atomic_store(&b->file.next_poll_ns, 0);
    file_poll(b);
}

/* ---- the interfaces -------------------------------------------------------------------------- */

static int bta_authenticate(struct auth_server *self, auth_header_fn get, void *ctx, char *why,
                            size_t why_len)
{
    struct bearertokenauth *b = (struct bearertokenauth *)self; /* server is the first member */
    file_poll(b);
    const char *v = get(ctx, b->cfg->header);
    if (!v || !*v) {
        snprintf(why, why_len, "missing or empty authorization header: %s", b->cfg->header);
        return -1;
    }
    const char *scheme = b->cfg->scheme ? b->cfg->scheme : "";
    size_t sl = strlen(scheme);
    const char *tok = v;
    if (sl) {
        if (strncasecmp(v, scheme, sl) != 0 || v[sl] != ' ') {
            snprintf(why, why_len, "scheme does not match: expected \"%s <token>\"", scheme);
            return -1;
        }
        tok = v + sl + 1;
    }
    size_t tl = strlen(tok);
    bool ok = false;
    pthread_rwlock_rdlock(&b->lock);
    /* every token is compared, so the time does not say which one (or how much of one) matched */
    for (size_t i = 0; b->tokens && i < b->tokens->n; i++)
        ok |= auth_equal(tok, tl, b->tokens->v[i], b->tokens->len[i]);
    pthread_rwlock_unlock(&b->lock);
    if (!ok) {
        snprintf(why, why_len, "token does not match");
        return -1;
    }
    return 0;
}

static int bta_header(struct auth_client *self, const char **name, char **value, struct error *err)
{
    struct bearertokenauth *b = (struct bearertokenauth *)((char *)self -
                                                           offsetof(struct bearertokenauth, client));
    file_poll(b);
    const char *scheme = b->cfg->scheme ? b->cfg->scheme : "";
    char *v = NULL;
    pthread_rwlock_rdlock(&b->lock);
    if (b->tokens && b->tokens->n) {
        if (asprintf(&v, "%s%s%s", scheme, *scheme ? " " : "", b->tokens->v[0]) < 0)
            v = NULL;
    }
    bool none = !b->tokens || !b->tokens->n;
    pthread_rwlock_unlock(&b->lock);
    if (!v)
        return error_set(err, none ? "%s: no token loaded" : "out of memory", b->log_name);
    *name = b->cfg->header;
    *value = v;
    return 0;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void bta_destroy(void *self);

static void *bta_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    struct bearertokenauth *b = calloc(1, sizeof *b);
    if (!b) {
        error_set(err, "out of memory");
        return NULL;
    }
    b->cfg = cfgp;
    pthread_rwlock_init(&b->lock, NULL);
    b->server.authenticate = bta_authenticate;
    b->client.header = bta_header;
    const char *scheme = set(b->cfg->scheme) ? b->cfg->scheme : "Bearer";
    snprintf(b->challenge, sizeof b->challenge, "%.60s", scheme);
    b->server.challenge = b->challenge;
    b->log_name = strdup(env && env->log_name ? env->log_name : "extension/bearertokenauth");
    if (!b->log_name) {
        error_set(err, "out of memory");
        bta_destroy(b);
        return NULL;
    }
    if (set(b->cfg->filename) &&
        auth_file_init(&b->file, b->cfg->filename, BEARERTOKENAUTH_POLL_NS) != 0) {
        error_set(err, "out of memory");
        bta_destroy(b);
        return NULL;
    }
    if (!set(b->cfg->filename)) {
        b->tokens = tokens_from_config(b->cfg);
        if (!b->tokens) {
            error_set(err, "out of memory");
            bta_destroy(b);
            return NULL;
        }
    }
    return b;
}

/* The file is read at start, so a missing or empty one stops llmotlp before it serves. */
static int bta_start(void *self, struct error *err)
{
    struct bearertokenauth *b = self;
    if (!set(b->cfg->filename))
        return 0;
    if (file_reload(b, true, err) != 0)
        return -1;
    atomic_store(&b->file.next_poll_ns, clock_now_ns() + BEARERTOKENAUTH_POLL_NS);
    return 0;
}

static void bta_destroy(void *self)
{
    struct bearertokenauth *b = self;
    if (!b)
        return;
    tokens_free(b->tokens);
    pthread_rwlock_destroy(&b->lock);
    auth_file_destroy(&b->file);
    free(b->log_name);
    free(b);
}

static bool bta_provides(const void *cfg, const char *iface)
{
    (void)cfg;
    return strcmp(iface, AUTH_SERVER_INTERFACE) == 0 || strcmp(iface, AUTH_CLIENT_INTERFACE) == 0;
}

static void *bta_interface(void *self, const char *iface)
{
    struct bearertokenauth *b = self;
    if (strcmp(iface, AUTH_SERVER_INTERFACE) == 0)
        return &b->server;
    if (strcmp(iface, AUTH_CLIENT_INTERFACE) == 0)
        return &b->client;
    return NULL;
}

const struct component_factory bearertokenauth_extension_factory = {
    .type = "bearertokenauth",
    .kind = COMPONENT_EXTENSION,
    .doc = "bearer token authentication: receivers check \"<scheme> <token>\" in a header, "
           "exporters send it (token, tokens, or a file re-read when it changes)",
    .fields = bta_fields,
    .config_size = sizeof(struct bta_config),
    .validate = bta_validate,
    .warn = bta_warn,
    .create = bta_create,
    .start = bta_start,
    .destroy = bta_destroy,
    .provides = bta_provides,
    .interface = bta_interface,
};
