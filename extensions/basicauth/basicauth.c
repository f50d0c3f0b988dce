/* basicauth.c — the `basicauth` extension: HTTP Basic credentials checked against htpasswd
 * entries (receivers) or sent (exporters), with the Collector's keys.
 *
 * The one idea: a slow hash is paid once per password, not once per request. bcrypt is built to
 * cost tens of milliseconds, and an exporter sends the same credentials with every request, so a
 * receiver that ran crypt(3) each time would spend most of its CPU there. After a password has
 * matched an entry through crypt(3), the entry remembers a SHA-1 of (a random per-process key,
 * the password); later requests compare that in constant time, microseconds instead. Wrong
 * passwords are never remembered, so each guess still costs the full hash. The memory is
 * dropped with the entries (they are read once, at start, as the Collector does).
 *
 * Verification goes through libxcrypt's crypt_ra (bcrypt $2y$/$2b$/$2a$, $5$, $6$, $1$, yescrypt);
 * {SHA} and {SSHA} are SHA-1 here; anything else is a plain password, as go-htpasswd treats it.
 * Apache's $apr1$ MD5 is refused at load (libxcrypt has no implementation): `htpasswd -B` makes
 * bcrypt entries. */
#include "extensions/basicauth/basicauth.h"

#include <crypt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "core/auth.h"
#include "core/component.h"
#include "core/config.h"
#include "core/file.h"
#include "core/log.h"

#define BA_MAX_FILE ((size_t)16 << 20)

/* ---- SHA-1 (FIPS 180-4), for {SHA}, {SSHA} and the verification memory ---------------------- */

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
               p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

/* SHA-1 of the concatenation a || b. */
static void sha1_2(const void *a, size_t alen, const void *b, size_t blen, unsigned char out[20])
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    unsigned char blk[64];
    size_t fill = 0;
    const unsigned char *parts[2] = {a, b};
    size_t lens[2] = {alen, blen};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < lens[k]; i++) {
            blk[fill++] = parts[k][i];
            if (fill == 64) {
                sha1_block(h, blk);
                fill = 0;
            }
        }
    uint64_t bits = (uint64_t)(alen + blen) * 8;
    blk[fill++] = 0x80;
    if (fill > 56) {
        memset(blk + fill, 0, 64 - fill);
        sha1_block(h, blk);
        fill = 0;
    }
    memset(blk + fill, 0, 56 - fill);
    for (int i = 0; i < 8; i++)
        blk[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_block(h, blk);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(h[i] >> 8);
        out[4 * i + 3] = (unsigned char)h[i];
    }
}

void basicauth_sha1(const void *data, size_t len, unsigned char out[20])
{
    sha1_2(data, len, "", 0, out);
}

/* ---- htpasswd -------------------------------------------------------------------------------- */

enum ba_kind { BA_PLAIN, BA_CRYPT, BA_SHA, BA_SSHA };

struct ba_entry {
    char *user;
    enum ba_kind kind;
    char *hash;                 /* as written (plain: the password) */
    unsigned char *raw;         /* {SHA}/{SSHA}: decoded digest (+ salt) */
    size_t raw_len;
    bool remembered;            /* crypt: `memo` holds SHA-1(key, a password that matched) */
    unsigned char memo[20];
};

struct basicauth_htpasswd {
    struct ba_entry *e;
    size_t n;
    pthread_mutex_t mu;         /* guards remembered/memo */
    unsigned char key[32];      /* random, per process: the memory is useless outside it */
};

static void entry_clear(struct ba_entry *e)
{
    if (e->hash) {
        explicit_bzero(e->hash, strlen(e->hash));
        free(e->hash);
    }
    if (e->raw) {
        explicit_bzero(e->raw, e->raw_len);
        free(e->raw);
    }
    free(e->user);
    memset(e, 0, sizeof *e);
}

static int entry_parse(struct ba_entry *e, const char *user, size_t ul, const char *hash, size_t hl,
                       const char *where, size_t line, struct error *err)
{
    memset(e, 0, sizeof *e);
    e->user = strndup(user, ul);
    e->hash = strndup(hash, hl);
    if (!e->user || !e->hash) {
        entry_clear(e);
        return error_set(err, "out of memory");
    }
    if (strncmp(e->hash, "$apr1$", 6) == 0) {
        entry_clear(e);
        return error_set(err, "%s: line %zu: Apache MD5 ($apr1$) hashes are not supported; make "
                         "the entry with bcrypt (htpasswd -B)", where, line);
    }
    if (strncmp(e->hash, "{SHA}", 5) == 0 || strncmp(e->hash, "{SSHA}", 6) == 0) {
        bool salted = e->hash[1] == 'S' && e->hash[2] == 'S';
        const char *b = e->hash + (salted ? 6 : 5);
        e->raw = auth_base64_decode(b, strlen(b), &e->raw_len);
        if (!e->raw || (salted ? e->raw_len <= 20 : e->raw_len != 20)) {
            entry_clear(e);
            return error_set(err, "%s: line %zu: malformed %s hash", where, line,
                             salted ? "{SSHA}" : "{SHA}");
        }
        e->kind = salted ? BA_SSHA : BA_SHA;
        return 0;
    }
    if (e->hash[0] == '$') {
        int cs = crypt_checksalt(e->hash);
        if (cs == CRYPT_SALT_METHOD_DISABLED) {
            entry_clear(e);
            return error_set(err, "%s: line %zu: the hash method of this entry is disabled in "
                             "this system's crypt(3)", where, line);
        }
        if (cs != CRYPT_SALT_INVALID) {
            e->kind = BA_CRYPT;
            return 0;
        }
    }
    e->kind = BA_PLAIN; /* go-htpasswd's last resort: the text is the password */
    return 0;
}

int basicauth_htpasswd_add(struct basicauth_htpasswd *h, const char *text, size_t len,
                           const char *where, struct error *err)
{
    size_t i = 0, line = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        line++;
        size_t a = i, b = e;
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        i = e + 1;
        if (a == b || text[a] == '#')
            continue;
        const char *colon = memchr(text + a, ':', b - a);
        if (!colon || colon == text + a)
            return error_set(err, "%s: line %zu: expected user:hash", where, line);
        size_t ul = (size_t)(colon - (text + a));
        struct ba_entry ne;
        if (entry_parse(&ne, text + a, ul, colon + 1, (size_t)(text + b - colon - 1), where, line,
                        err) != 0)
            return -1;
        size_t k = 0;
        while (k < h->n && strcmp(h->e[k].user, ne.user) != 0)
            k++;
        if (k < h->n) {
            entry_clear(&h->e[k]);
        } else {
            struct ba_entry *v = realloc(h->e, (h->n + 1) * sizeof *v);
            if (!v) {
                entry_clear(&ne);
                return error_set(err, "out of memory");
            }
            h->e = v;
            h->n++;
        }
        h->e[k] = ne;
    }
    return 0;
}

struct basicauth_htpasswd *basicauth_htpasswd_parse(const char *text, size_t len, const char *where,
                                                    struct error *err)
{
    struct basicauth_htpasswd *h = calloc(1, sizeof *h);
    if (!h) {
        error_set(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    if (getrandom(h->key, sizeof h->key, 0) != (ssize_t)sizeof h->key) {
        /* no entropy source: never remember, every check runs the slow hash */
        memset(h->key, 0, sizeof h->key);
    }
    if (basicauth_htpasswd_add(h, text, len, where, err) != 0) {
        basicauth_htpasswd_free(h);
        return NULL;
    }
    return h;
}

size_t basicauth_htpasswd_count(const struct basicauth_htpasswd *h) { return h ? h->n : 0; }

void basicauth_htpasswd_free(struct basicauth_htpasswd *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        entry_clear(&h->e[i]);
    free(h->e);
    pthread_mutex_destroy(&h->mu);
    explicit_bzero(h->key, sizeof h->key);
    free(h);
}

static bool key_usable(const struct basicauth_htpasswd *h)
{
    unsigned char any = 0;
    for (size_t i = 0; i < sizeof h->key; i++)
        any |= h->key[i];
    return any != 0;
}

static bool crypt_match(struct basicauth_htpasswd *h, struct ba_entry *e, const char *password)
{
    unsigned char m[20];
    bool memo_ok = key_usable(h);
    if (memo_ok) {
        sha1_2(h->key, sizeof h->key, password, strlen(password), m);
        pthread_mutex_lock(&h->mu);
        bool hit = e->remembered && auth_equal(m, sizeof m, e->memo, sizeof e->memo);
        pthread_mutex_unlock(&h->mu);
        if (hit)
            return true;
    }
    void *data = NULL;
    int size = 0;
    const char *out = crypt_ra(password, e->hash, &data, &size);
    bool ok = out && out[0] != '*' && auth_equal(out, strlen(out), e->hash, strlen(e->hash));
    if (data) {
        explicit_bzero(data, (size_t)size);
        free(data);
    }
    if (ok && memo_ok) {
        pthread_mutex_lock(&h->mu);
        memcpy(e->memo, m, sizeof m);
        e->remembered = true;
        pthread_mutex_unlock(&h->mu);
    }
    return ok;
}

bool basicauth_htpasswd_match(struct basicauth_htpasswd *h, const char *user, const char *password)
{
    struct ba_entry *e = NULL;
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->e[i].user, user) == 0)
            e = &h->e[i];
    if (!e)
        return false;
    size_t pl = strlen(password);
    unsigned char d[20];
    switch (e->kind) {
    case BA_PLAIN:
        return auth_equal(password, pl, e->hash, strlen(e->hash));
    case BA_SHA:
        basicauth_sha1(password, pl, d);
        return auth_equal(d, sizeof d, e->raw, e->raw_len);
    case BA_SSHA:
        sha1_2(password, pl, e->raw + 20, e->raw_len - 20, d);
        return auth_equal(d, sizeof d, e->raw, 20);
    case BA_CRYPT:
        return crypt_match(h, e, password);
    }
    return false;
}

/* ---- the extension --------------------------------------------------------------------------- */

struct ba_htpasswd_config {
    char *file;
    char *inline_text;
};

struct ba_client_config {
    char *username;
    char *password;
    char *username_file;
    char *password_file;
};

struct ba_config {
    struct ba_htpasswd_config htpasswd;
    bool has_htpasswd;
    struct ba_client_config client_auth;
    bool has_client_auth;
};

static const struct config_field ba_htpasswd_fields[] = {
    {.name = "file", .type = CFG_STRING, .offset = offsetof(struct ba_htpasswd_config, file),
     .doc = "path of an htpasswd file (read at start)"},
    {.name = "inline", .type = CFG_STRING, .offset = offsetof(struct ba_htpasswd_config, inline_text),
     .doc = "htpasswd lines in the config; they win over the file's for the same user"},
    {.name = NULL},
};

static const struct config_field ba_client_fields[] = {
    {.name = "username", .type = CFG_STRING, .offset = offsetof(struct ba_client_config, username),
     .doc = "user name sent by exporters"},
    {.name = "password", .type = CFG_STRING, .offset = offsetof(struct ba_client_config, password),
     .doc = "password sent by exporters", .secret = true},
    {.name = "username_file", .type = CFG_STRING,
     .offset = offsetof(struct ba_client_config, username_file),
     .doc = "file holding the user name (wins over username; re-read when it changes)"},
    {.name = "password_file", .type = CFG_STRING,
     .offset = offsetof(struct ba_client_config, password_file),
     .doc = "file holding the password (wins over password; re-read when it changes)"},
    {.name = NULL},
};

static const struct config_field ba_fields[] = {
    {.name = "htpasswd", .type = CFG_PRESENCE, .offset = offsetof(struct ba_config, htpasswd),
     .present_offset = offsetof(struct ba_config, has_htpasswd), .sub = ba_htpasswd_fields,
     .doc = "server side: the accepted users (receivers' auth)"},
    {.name = "client_auth", .type = CFG_PRESENCE, .offset = offsetof(struct ba_config, client_auth),
     .present_offset = offsetof(struct ba_config, has_client_auth), .sub = ba_client_fields,
     .doc = "client side: the credentials exporters send"},
    {.name = NULL},
};

struct basicauth {
    struct auth_server server;
    struct auth_client client;
    const struct ba_config *cfg;
    char *log_name;
    struct basicauth_htpasswd *users;   /* server side, after start */
    /* client side: the credentials in force and the header value made of them */
    pthread_rwlock_t lock;              /* guards user, password, client_value */
    char *user, *password;
    char *client_value;                 /* "Basic base64(user:password)" */
    struct auth_file user_file, password_file; /* when username_file / password_file are set */
};

/* How often, at most, the credential files' identity is looked at (on an exporter's request). */
#define BA_POLL_NS ((int64_t)1000000000)

static bool set(const char *s) { return s && *s; }

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* A credential becomes part of a header value: no control characters (no header smuggling),
 * and a user name without ':' (the separator). NULL when fine, else what is wrong. */
static const char *credential_problem(const char *v, bool user)
{
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return "holds a control character";
    if (user && strchr(v, ':'))
        return "must not contain ':'";
    return NULL;
}

/* Rebuilds the header value from user and password; under the write lock. 0 or -1 (OOM). */
static int client_value_rebuild(struct basicauth *b)
{
    char *pair = NULL;
    if (asprintf(&pair, "%s:%s", b->user ? b->user : "", b->password ? b->password : "") < 0)
        return -1;
    char *enc = auth_base64_encode(pair, strlen(pair));
    wipe_free(pair);
    char *v = NULL;
    if (!enc || asprintf(&v, "Basic %s", enc) < 0) {
        wipe_free(enc);
        return -1;
    }
    wipe_free(enc);
    wipe_free(b->client_value);
    b->client_value = v;
    return 0;
}

/* A credential file's content: the text without its trailing line break(s); spaces kept, they
 * may belong to a password. */
static int apply_credential(struct basicauth *b, char **slot, bool user, const char *text,
                            size_t len, struct error *err)
{
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    char *v = strndup(text, len);
    if (!v)
        return error_set(err, "out of memory");
    const char *why = strlen(v) != len ? "holds a NUL byte" : credential_problem(v, user);
    if (why) {
        wipe_free(v);
        return error_set(err, "%s %s", user ? "the user name" : "the password", why);
    }
    pthread_rwlock_wrlock(&b->lock);
    char *old = *slot;
    *slot = v;
    int rc = client_value_rebuild(b);
    if (rc != 0) {
        *slot = old;
        old = v;
    }
    pthread_rwlock_unlock(&b->lock);
    wipe_free(old);
    if (rc != 0)
        return error_set(err, "out of memory");
    log_info(b->log_name, "client_auth.%s (re)loaded", user ? "username_file" : "password_file");
    return 0;
}

static int apply_user(void *ctx, const char *text, size_t len, struct error *err)
{
    struct basicauth *b = ctx;
    return apply_credential(b, &b->user, true, text, len, err);
}

static int apply_password(void *ctx, const char *text, size_t len, struct error *err)
{
    struct basicauth *b = ctx;
    return apply_credential(b, &b->password, false, text, len, err);
}

/* On an exporter's request: at most one stat per file per poll interval. */
static void client_poll(struct basicauth *b)
{
    struct auth_file *files[2] = {&b->user_file, &b->password_file};
    auth_file_apply_fn apply[2] = {apply_user, apply_password};
    for (int i = 0; i < 2; i++) {
        if (!files[i]->path)
            continue;
        struct error err = {0};
        if (auth_file_poll(files[i], apply[i], b, &err) < 0)
            log_warn(b->log_name, "client_auth: %s; keeping the credentials loaded before",
                     err.msg);
    }
}

void basicauth_check_files(void *ext)
{
    struct basicauth *b = ext;
    atomic_store(&b->user_file.next_poll_ns, 0);
    atomic_store(&b->password_file.next_poll_ns, 0);
    client_poll(b);
}

static int ba_validate(const void *cfgp, struct error *err)
{
    const struct ba_config *c = cfgp;
    if (c->has_htpasswd && c->has_client_auth)
        return error_set(err, "only one of `htpasswd` or `client_auth` can be specified");
    if (!c->has_htpasswd && !c->has_client_auth)
        return error_set(err, "no credential source provided: set htpasswd (receivers) or "
                              "client_auth (exporters)");
    if (c->has_htpasswd && !set(c->htpasswd.file) && !set(c->htpasswd.inline_text))
        return error_set(err, "htpasswd: set file or inline");
    if (c->has_client_auth) {
        const char *why = credential_problem(c->client_auth.username ? c->client_auth.username : "",
                                             true);
        if (why)
            return error_set(err, "client_auth.username: %s", why);
        why = credential_problem(c->client_auth.password ? c->client_auth.password : "", false);
        if (why)
            return error_set(err, "client_auth.password: %s", why);
    }
    return 0;
}

/* The header value's parts, as Go's net/http parses them: "Basic " (any case), base64, user up
 * to the first ':'. */
static int ba_authenticate(struct auth_server *self, auth_header_fn get, void *ctx, char *why,
                           size_t why_len)
{
    struct basicauth *b = (struct basicauth *)self;
    const char *v = get(ctx, "Authorization");
    if (!v || !*v) {
        snprintf(why, why_len, "no basic auth provided");
        return -1;
    }
    if (strncasecmp(v, "Basic ", 6) != 0) {
        snprintf(why, why_len, "invalid authorization scheme prefix");
        return -1;
    }
    size_t n = 0;
    unsigned char *dec = auth_base64_decode(v + 6, strlen(v + 6), &n);
    char *colon = dec ? memchr(dec, ':', n) : NULL;
    if (!colon || memchr(dec, '\0', n)) {
        if (dec) {
            explicit_bzero(dec, n);
            free(dec);
        }
        snprintf(why, why_len, "invalid authorization format");
        return -1;
    }
    *colon = '\0';
    const char *user = (const char *)dec, *password = colon + 1;
    bool ok = b->users && basicauth_htpasswd_match(b->users, user, password);
    if (!ok)
        snprintf(why, why_len, "invalid credentials (user \"%.64s\")", user);
    explicit_bzero(dec, n);
    free(dec);
    return ok ? 0 : -1;
}

static int ba_header(struct auth_client *self, const char **name, char **value, struct error *err)
{
    struct basicauth *b = (struct basicauth *)((char *)self - offsetof(struct basicauth, client));
    client_poll(b);
    pthread_rwlock_rdlock(&b->lock);
    *value = b->client_value ? strdup(b->client_value) : NULL;
    bool none = !b->client_value;
    pthread_rwlock_unlock(&b->lock);
    if (!*value)
        return error_set(err, none ? "%s: no client_auth configured" : "out of memory",
                         b->log_name);
    *name = "Authorization";
    return 0;
}

static void ba_destroy(void *self);

static void *ba_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    struct basicauth *b = calloc(1, sizeof *b);
    if (!b) {
        error_set(err, "out of memory");
        return NULL;
    }
    b->cfg = cfgp;
    b->server.authenticate = ba_authenticate;
    b->server.challenge = "Basic realm=\"OTLP\", charset=\"UTF-8\"";
    b->client.header = ba_header;
    pthread_rwlock_init(&b->lock, NULL);
    b->log_name = strdup(env && env->log_name ? env->log_name : "extension/basicauth");
    if (!b->log_name)
        goto oom;
    if (b->cfg->has_client_auth) {
        const struct ba_client_config *c = &b->cfg->client_auth;
        b->user = strdup(c->username ? c->username : "");
        b->password = strdup(c->password ? c->password : "");
        if (!b->user || !b->password || client_value_rebuild(b) != 0)
            goto oom;
        if ((set(c->username_file) && auth_file_init(&b->user_file, c->username_file, BA_POLL_NS)) ||
            (set(c->password_file) &&
             auth_file_init(&b->password_file, c->password_file, BA_POLL_NS)))
            goto oom;
    }
    return b;
oom:
    error_set(err, "out of memory");
    ba_destroy(b);
    return NULL;
}

/* The Collector reads the file, then the inline text (which so wins), at start. */
static int ba_start(void *self, struct error *err)
{
    struct basicauth *b = self;
    /* credential files are read at start, so a missing one stops llmotlp before it sends */
    struct auth_file *files[2] = {&b->user_file, &b->password_file};
    auth_file_apply_fn apply[2] = {apply_user, apply_password};
    for (int i = 0; i < 2; i++) {
        if (!files[i]->path)
            continue;
        if (auth_file_reload(files[i], true, apply[i], b, err) < 0) {
            error_prefix(err, "client_auth.%s: ", i ? "password_file" : "username_file");
            return -1;
        }
        atomic_store(&files[i]->next_poll_ns, clock_now_ns() + BA_POLL_NS);
    }
    if (!b->cfg->has_htpasswd)
        return 0;
    const struct ba_htpasswd_config *c = &b->cfg->htpasswd;
    b->users = basicauth_htpasswd_parse("", 0, "htpasswd", err);
    if (!b->users)
        return -1;
    if (set(c->file)) {
        size_t len = 0;
        char *text = file_read(c->file, BA_MAX_FILE, &len, err);
        if (!text) {
            error_prefix(err, "htpasswd.file: ");
            return -1;
        }
        int rc = basicauth_htpasswd_add(b->users, text, len, c->file, err);
        explicit_bzero(text, len);
        free(text);
        if (rc != 0) {
            error_prefix(err, "htpasswd.file: ");
            return -1;
        }
    }
    if (set(c->inline_text) &&
        basicauth_htpasswd_add(b->users, c->inline_text, strlen(c->inline_text), "htpasswd.inline",
                               err) != 0)
        return -1;
    if (basicauth_htpasswd_count(b->users) == 0)
        log_warn(b->log_name, "htpasswd holds no user: every request will be refused");
    return 0;
}

static void ba_destroy(void *self)
{
    struct basicauth *b = self;
    if (!b)
        return;
    basicauth_htpasswd_free(b->users);
    wipe_free(b->client_value);
    wipe_free(b->user);
    wipe_free(b->password);
    auth_file_destroy(&b->user_file);
    auth_file_destroy(&b->password_file);
    pthread_rwlock_destroy(&b->lock);
    free(b->log_name);
    free(b);
}

static bool ba_provides(const void *cfgp, const char *iface)
{
    const struct ba_config *c = cfgp;
    if (strcmp(iface, AUTH_SERVER_INTERFACE) == 0)
        return c->has_htpasswd;
    if (strcmp(iface, AUTH_CLIENT_INTERFACE) == 0)
        return c->has_client_auth;
    return false;
}

static void *ba_interface(void *self, const char *iface)
{
    struct basicauth *b = self;
    if (strcmp(iface, AUTH_SERVER_INTERFACE) == 0 && b->cfg->has_htpasswd)
        return &b->server;
    if (strcmp(iface, AUTH_CLIENT_INTERFACE) == 0 && b->cfg->has_client_auth)
        return &b->client;
    return NULL;
}

const struct component_factory basicauth_extension_factory = {
    .type = "basicauth",
    .kind = COMPONENT_EXTENSION,
    .doc = "HTTP Basic authentication: receivers check users of an htpasswd (bcrypt, SHA-crypt, "
           "{SHA}, plain), exporters send client_auth",
    .fields = ba_fields,
    .config_size = sizeof(struct ba_config),
    .validate = ba_validate,
    .create = ba_create,
    .start = ba_start,
    .destroy = ba_destroy,
    .provides = ba_provides,
    .interface = ba_interface,
};
