/* test_auth.c — authentication: core/auth's constant-time comparison and base64, the
 * bearertokenauth extension (tokens, scheme, header, the token file re-read when it changes), the
 * basicauth extension (htpasswd with bcrypt, SHA-crypt, MD5-crypt, {SHA}, {SSHA}, plain; client
 * credentials), the service's checks of `auth.authenticator` (file:line errors for an undefined,
 * unlisted or wrong-sided extension), and a running OTLP/HTTP receiver answering 401 with
 * WWW-Authenticate before any body is taken.
 * The idea: the extensions are driven through their factories and the interfaces they hand out,
 * exactly as the service wires them, with headers served by a small table. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "core/auth.h"
#include "core/component.h"
#include "core/config.h"
#include "core/service.h"
#include "extensions/basicauth/basicauth.h"
#include "extensions/bearertokenauth/bearertokenauth.h"
#include "tests/unit/testutil.h"

/* ---- helpers --------------------------------------------------------------------------------- */

/* A request's headers: name/value pairs, NULL-terminated. */
struct hdrs {
    const char *kv[8][2];
};

static const char *hdr_get(void *ctx, const char *name)
{
    struct hdrs *h = ctx;
    for (int i = 0; i < 8 && h->kv[i][0]; i++)
        if (strcasecmp(h->kv[i][0], name) == 0)
            return h->kv[i][1];
    return NULL;
}

/* An extension built from YAML through its factory, as the service does. */
struct ext {
    const struct component_factory *f;
    void *cfg;
    void *self;
    struct cnode *root;
};

static int ext_open(struct ext *e, const char *type, const char *yaml, struct error *err)
{
    memset(e, 0, sizeof *e);
    e->f = component_find(COMPONENT_EXTENSION, type);
    assert_non_null(e->f);
    e->root = config_parse_string(yaml, "test.yaml", err);
    assert_non_null(e->root);
    e->cfg = calloc(1, e->f->config_size);
    if (config_bind(e->f->fields, e->root, e->cfg, err) != 0)
        return -1;
    if (e->f->validate && e->f->validate(e->cfg, err) != 0)
        return -1;
    struct component_env env = {.id = type, .log_name = type};
    e->self = e->f->create(e->cfg, &env, err);
    if (!e->self)
        return -1;
    if (e->f->start && e->f->start(e->self, err) != 0)
        return -1;
    return 0;
}

static void ext_close(struct ext *e)
{
    if (e->self)
        e->f->destroy(e->self);
    if (e->cfg) {
        config_free_bound(e->f->fields, e->cfg);
        free(e->cfg);
    }
    cnode_free(e->root);
}

static struct auth_server *server_of(struct ext *e)
{
    return e->f->interface(e->self, AUTH_SERVER_INTERFACE);
}

static struct auth_client *client_of(struct ext *e)
{
    return e->f->interface(e->self, AUTH_CLIENT_INTERFACE);
}

/* 0 = let in. */
static int check(struct auth_server *a, const char *name, const char *value)
{
    struct hdrs h = {{{name, value}}};
    char why[256];
    return a->authenticate(a, hdr_get, &h, why, sizeof why);
}

static void write_file(const char *path, const char *text)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0); /* atomic, as a rotation tool does */
}

/* ---- core ------------------------------------------------------------------------------------ */

static void test_equal(void **state)
{
    (void)state;
    assert_true(auth_equal("secret", 6, "secret", 6));
    assert_false(auth_equal("secreT", 6, "secret", 6));
    assert_false(auth_equal("secre", 5, "secret", 6));
    assert_false(auth_equal("secret!", 7, "secret", 6));
    assert_false(auth_equal("", 0, "secret", 6));
    assert_true(auth_equal("", 0, "", 0));
    assert_false(auth_equal("x", 1, "", 0));
}

static void test_base64(void **state)
{
    (void)state;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "user:pass"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy",
                         "dXNlcjpwYXNz"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *e = auth_base64_encode(in[i], strlen(in[i]));
        assert_string_equal(e, out[i]);
        size_t n = 0;
        unsigned char *d = auth_base64_decode(e, strlen(e), &n);
        assert_non_null(d);
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(d, in[i], n);
        free(d);
        free(e);
    }
    size_t n;
    assert_null(auth_base64_decode("Zg=", 3, &n));       /* length */
    assert_null(auth_base64_decode("Z===", 4, &n));      /* too much padding */
    assert_null(auth_base64_decode("Zm9*", 4, &n));      /* alphabet */
    assert_null(auth_base64_decode("Zg==Zg==", 8, &n));  /* padding inside */
}

/* ---- bearertokenauth ------------------------------------------------------------------------- */

static void test_bearer_static(void **state)
{
    (void)state;
    struct ext e;
    struct error err = {0};
    assert_int_equal(ext_open(&e, "bearertokenauth", "token: tok-1\n", &err), 0);
    struct auth_server *a = server_of(&e);
    assert_string_equal(a->challenge, "Bearer");
    assert_int_equal(check(a, "Authorization", "Bearer tok-1"), 0);
    assert_int_equal(check(a, "authorization", "bearer tok-1"), 0); /* scheme: any case */
    assert_int_not_equal(check(a, "Authorization", "Bearer tok-2"), 0);
    assert_int_not_equal(check(a, "Authorization", "Bearer tok-1x"), 0);
    assert_int_not_equal(check(a, "Authorization", "Bearer tok-"), 0);
    assert_int_not_equal(check(a, "Authorization", "Basic tok-1"), 0);   /* wrong scheme */
    assert_int_not_equal(check(a, "Authorization", "Bearertok-1"), 0);
    assert_int_not_equal(check(a, "Authorization", "tok-1"), 0);
    assert_int_not_equal(check(a, "Authorization", "Bearer "), 0);
    assert_int_not_equal(check(a, "Authorization", ""), 0);
    assert_int_not_equal(check(a, "X-Other", "Bearer tok-1"), 0);        /* missing */
    char why[256];
    struct hdrs none = {{{NULL, NULL}}};
    assert_int_not_equal(a->authenticate(a, hdr_get, &none, why, sizeof why), 0);
    assert_non_null(strstr(why, "missing"));
    /* client side: the header to send */
    struct auth_client *c = client_of(&e);
    const char *name;
    char *value;
    assert_int_equal(c->header(c, &name, &value, &err), 0);
    assert_string_equal(name, "Authorization");
    assert_string_equal(value, "Bearer tok-1");
    free(value);
    ext_close(&e);
}

static void test_bearer_tokens_scheme_header(void **state)
{
    (void)state;
    struct ext e;
    struct error err = {0};
    assert_int_equal(ext_open(&e, "bearertokenauth",
                              "header: X-Api-Key\nscheme: \"\"\ntokens: [one, two]\n", &err), 0);
    struct auth_server *a = server_of(&e);
    assert_int_equal(check(a, "x-api-key", "one"), 0);
    assert_int_equal(check(a, "X-API-KEY", "two"), 0);
    assert_int_not_equal(check(a, "X-Api-Key", "Bearer one"), 0);
    assert_int_not_equal(check(a, "X-Api-Key", "three"), 0);
    assert_int_not_equal(check(a, "Authorization", "one"), 0);
    struct auth_client *c = client_of(&e);
    const char *name;
    char *value;
    assert_int_equal(c->header(c, &name, &value, &err), 0);
    assert_string_equal(name, "X-Api-Key");
    assert_string_equal(value, "one"); /* the first token, as the Collector's client */
    free(value);
    ext_close(&e);

    assert_int_equal(ext_open(&e, "bearertokenauth", "scheme: Token\ntoken: abc\n", &err), 0);
    assert_int_equal(check(server_of(&e), "Authorization", "Token abc"), 0);
    assert_int_not_equal(check(server_of(&e), "Authorization", "Bearer abc"), 0);
    ext_close(&e);
}

static void test_bearer_config_errors(void **state)
{
    (void)state;
    struct ext e;
    struct error err = {0};
    assert_int_not_equal(ext_open(&e, "bearertokenauth", "scheme: Bearer\n", &err), 0);
    assert_non_null(strstr(err.msg, "no bearer token"));
    ext_close(&e);
    assert_int_not_equal(ext_open(&e, "bearertokenauth", "token: a\ntokens: [b]\n", &err), 0);
    assert_non_null(strstr(err.msg, "not both"));
    ext_close(&e);
    assert_int_not_equal(ext_open(&e, "bearertokenauth", "token: a\nheader: \"a b\"\n", &err), 0);
    assert_non_null(strstr(err.msg, "header"));
    ext_close(&e);
    assert_int_not_equal(ext_open(&e, "bearertokenauth", "token: \"a\\nX-Evil: 1\"\n", &err), 0);
    assert_non_null(strstr(err.msg, "token"));
    ext_close(&e);
    assert_int_not_equal(ext_open(&e, "bearertokenauth", "filename: /nonexistent/tok\n", &err), 0);
    assert_non_null(strstr(err.msg, "/nonexistent/tok"));
    ext_close(&e);
    assert_int_not_equal(ext_open(&e, "bearertokenauth", "tokenn: a\n", &err), 0);
    ext_close(&e);
}

static void test_bearer_file_reload(void **state)
{
    (void)state;
    char dir[] = "/tmp/llmotlp-auth-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], yaml[512];
    snprintf(path, sizeof path, "%s/token", dir);
    write_file(path, "  first-token \n\n");
    snprintf(yaml, sizeof yaml, "filename: %s\n", path);
    struct ext e;
    struct error err = {0};
    assert_int_equal(ext_open(&e, "bearertokenauth", yaml, &err), 0);
    struct auth_server *a = server_of(&e);
    struct auth_client *c = client_of(&e);
    assert_int_equal(check(a, "Authorization", "Bearer first-token"), 0);
    assert_int_not_equal(check(a, "Authorization", "Bearer "), 0); /* the empty line is no token */

    /* rotated: the new token in, the old one out, the client sends the new one */
    write_file(path, "second-token\nthird-token\n");
    bearertokenauth_check_file(e.self);
    assert_int_equal(check(a, "Authorization", "Bearer second-token"), 0);
    assert_int_equal(check(a, "Authorization", "Bearer third-token"), 0);
    assert_int_not_equal(check(a, "Authorization", "Bearer first-token"), 0);
    const char *name;
    char *value;
    assert_int_equal(c->header(c, &name, &value, &err), 0);
    assert_string_equal(value, "Bearer second-token");
    free(value);

    /* rewritten in place (same inode, same size): mtime/ctime still tell */
    struct timespec pause = {.tv_nsec = 20 * 1000000};
    nanosleep(&pause, NULL);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("fourth-token\nfifth--token\n", f);
    fclose(f);
    bearertokenauth_check_file(e.self);
    assert_int_equal(check(a, "Authorization", "Bearer fourth-token"), 0);
    assert_int_not_equal(check(a, "Authorization", "Bearer second-token"), 0);

    /* gone, or emptied: the tokens in force stay (a rotation in progress must not lock out) */
    assert_int_equal(unlink(path), 0);
    bearertokenauth_check_file(e.self);
    assert_int_equal(check(a, "Authorization", "Bearer fourth-token"), 0);
    write_file(path, "\n \n");
    bearertokenauth_check_file(e.self);
    assert_int_equal(check(a, "Authorization", "Bearer fourth-token"), 0);
    /* and a good file again is taken */
    write_file(path, "sixth-token\n");
    bearertokenauth_check_file(e.self);
    assert_int_equal(check(a, "Authorization", "Bearer sixth-token"), 0);
    assert_int_not_equal(check(a, "Authorization", "Bearer fourth-token"), 0);

    /* without the test hook, a change is seen on a request after the poll interval */
    write_file(path, "seventh-token\n");
    struct timespec poll = {.tv_sec = BEARERTOKENAUTH_POLL_NS / 1000000000,
                            .tv_nsec = BEARERTOKENAUTH_POLL_NS % 1000000000 + 50 * 1000000};
    nanosleep(&poll, NULL);
    assert_int_equal(check(a, "Authorization", "Bearer seventh-token"), 0);
    ext_close(&e);

    /* an empty file at start fails the start */
    write_file(path, "\n");
    assert_int_not_equal(ext_open(&e, "bearertokenauth", yaml, &err), 0);
    assert_non_null(strstr(err.msg, "no token"));
    ext_close(&e);
    unlink(path);
    rmdir(dir);
}

/* ---- basicauth ------------------------------------------------------------------------------- */

/* Made with libxcrypt (crypt_gensalt "$2y$" cost 5, "$6$saltsalt$", "$1$saltsalt$"), and {SHA} as
 * `htpasswd -s` makes it; all for "s3cret-pass" but {SHA}/{SSHA}, for "password". */
#define BCRYPT_HASH "$2y$05$o32pjrFRuHfwUfuEBhq5eeHR3DEujcNAxUeBv2A3fx.60CENBhZ9W"
#define SHA512_HASH                                                                                \
    "$6$saltsalt$mWAMOREZDFRtyHQ/2l8CD1gheYC8Wm6zTIcP0g42M246F8eQECl5qGwamlcNGcl3UY4OZG46cuFMLo" \
    "DjQLhoj0"
#define MD5_HASH "$1$saltsalt$w8FbCI7eIHqVDYsBSCrn1."

/* auth_file_poll: a caller that finds the file due while another caller is reading it waits for
 * that read, so it never goes on with the secret of before (CI saw an exporter send the old
 * token an interval after a rotation while another thread was re-reading the file). */
struct slow_apply {
    atomic_int entered;       /* the reader is inside apply */
    atomic_llong applied_ns;  /* when apply returned */
};

static int slow_apply_fn(void *ctx, const char *text, size_t len, struct error *err)
{
    (void)text, (void)len, (void)err;
    struct slow_apply *s = ctx;
    atomic_store(&s->entered, 1);
    usleep(300 * 1000);
    atomic_store(&s->applied_ns, (long long)clock_now_ns());
    return 0;
}

static int noop_apply_fn(void *ctx, const char *text, size_t len, struct error *err)
{
    (void)ctx, (void)text, (void)len, (void)err;
    return 0;
}

struct poll_arg {
    struct auth_file *f;
    struct slow_apply *s;
};

static void *poll_slowly(void *arg)
{
    struct poll_arg *a = arg;
    struct error err = {0};
    auth_file_poll(a->f, slow_apply_fn, a->s, &err);
    return NULL;
}

static void test_auth_file_poll_waits_for_a_read_in_progress(void **state)
{
    (void)state;
    char path[64] = "/tmp/llmotlp-auth-poll-XXXXXX";
    tu_write_temp(path, "secret-one\n");
    struct auth_file f;
    assert_int_equal(auth_file_init(&f, path, 1000000000LL), 0);
    struct error err = {0};
    /* not due: returns at once without reading */
    atomic_store(&f.next_poll_ns, clock_now_ns() + 60000000000LL);
    assert_int_equal(auth_file_poll(&f, noop_apply_fn, NULL, &err), 0);

    atomic_store(&f.next_poll_ns, 0); /* due */
    struct slow_apply s;
    atomic_init(&s.entered, 0);
    atomic_init(&s.applied_ns, 0);
    struct poll_arg a = {.f = &f, .s = &s};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, poll_slowly, &a), 0);
    while (!atomic_load(&s.entered))
        usleep(1000);
    /* another caller while the read is in progress: it must wait for the read to finish */
    assert_int_equal(auth_file_poll(&f, noop_apply_fn, NULL, &err), 0);
    long long back = (long long)clock_now_ns();
    assert_true(atomic_load(&s.applied_ns) != 0);
    assert_true(back >= atomic_load(&s.applied_ns));
    pthread_join(t, NULL);
    /* the read moved the next look an interval ahead: not due now */
    assert_true(atomic_load(&f.next_poll_ns) > clock_now_ns());
    auth_file_destroy(&f);
    unlink(path);
}

static void test_sha1(void **state)
{
    (void)state;
    unsigned char d[20];
    basicauth_sha1("abc", 3, d);
    const unsigned char want[20] = {0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
                                    0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d};
    assert_memory_equal(d, want, 20);
    /* lengths around the block size: padding spills into a second block at 56 and 64 */
    char m[100];
    memset(m, 'a', sizeof m);
    const unsigned char want56[20] = {0xc2, 0xdb, 0x33, 0x0f, 0x60, 0x83, 0x85, 0x4c, 0x99, 0xd4,
                                      0xb5, 0xbf, 0xb6, 0xe8, 0xf2, 0x9f, 0x20, 0x1b, 0xe6, 0x99};
    const unsigned char want64[20] = {0x00, 0x98, 0xba, 0x82, 0x4b, 0x5c, 0x16, 0x42, 0x7b, 0xd7,
                                      0xa1, 0x12, 0x2a, 0x5a, 0x44, 0x2a, 0x25, 0xec, 0x64, 0x4d};
    const unsigned char want100[20] = {0x7f, 0x90, 0x00, 0x25, 0x7a, 0x49, 0x18, 0xd7, 0x07, 0x26,
                                       0x55, 0xea, 0x46, 0x85, 0x40, 0xcd, 0xcb, 0xd4, 0x2e, 0x0c};
    basicauth_sha1(m, 56, d);
    assert_memory_equal(d, want56, 20);
    basicauth_sha1(m, 64, d);
    assert_memory_equal(d, want64, 20);
    basicauth_sha1(m, 100, d);
    assert_memory_equal(d, want100, 20);
}

static void test_htpasswd(void **state)
{
    (void)state;
    const char *text = "# users\n"
                       "alice:" BCRYPT_HASH "\n"
                       "bob:" SHA512_HASH "\n"
                       "carol:" MD5_HASH "\n"
                       "dave:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"
                       "erin:{SSHA}QCdIktL+AaarHg+95cIrgxLRB4BOYUNs\n"
                       "  frank:plain-pass  \r\n"
                       "\n"
                       "grace:old\n"
                       "grace:new\n";
    struct error err = {0};
    struct basicauth_htpasswd *h = basicauth_htpasswd_parse(text, strlen(text), "inline", &err);
    assert_non_null(h);
    assert_int_equal(basicauth_htpasswd_count(h), 7);
    assert_true(basicauth_htpasswd_match(h, "alice", "s3cret-pass"));
    assert_false(basicauth_htpasswd_match(h, "alice", "s3cret-pasS"));
    assert_true(basicauth_htpasswd_match(h, "alice", "s3cret-pass")); /* remembered now */
    assert_false(basicauth_htpasswd_match(h, "alice", "s3cret-pas"));
    assert_false(basicauth_htpasswd_match(h, "alice", ""));
    assert_true(basicauth_htpasswd_match(h, "bob", "s3cret-pass"));
    assert_false(basicauth_htpasswd_match(h, "bob", "wrong"));
    assert_true(basicauth_htpasswd_match(h, "carol", "s3cret-pass"));
    assert_false(basicauth_htpasswd_match(h, "carol", "wrong"));
    assert_true(basicauth_htpasswd_match(h, "dave", "password"));
    assert_false(basicauth_htpasswd_match(h, "dave", "passwore"));
    assert_true(basicauth_htpasswd_match(h, "erin", "password"));
    assert_false(basicauth_htpasswd_match(h, "erin", "password1"));
    assert_true(basicauth_htpasswd_match(h, "frank", "plain-pass"));
    assert_false(basicauth_htpasswd_match(h, "frank", "plain-pas"));
    assert_true(basicauth_htpasswd_match(h, "grace", "new"));   /* the later line wins */
    assert_false(basicauth_htpasswd_match(h, "grace", "old"));
    assert_false(basicauth_htpasswd_match(h, "mallory", "s3cret-pass"));
    assert_false(basicauth_htpasswd_match(h, "", ""));
    basicauth_htpasswd_free(h);

    /* the remembered match is much cheaper than bcrypt, and never remembers a wrong password */
    h = basicauth_htpasswd_parse("u:" BCRYPT_HASH "\n", strlen("u:" BCRYPT_HASH "\n"), "x", &err);
    assert_non_null(h);
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(basicauth_htpasswd_match(h, "u", "s3cret-pass"));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (int i = 0; i < 10; i++)
        assert_true(basicauth_htpasswd_match(h, "u", "s3cret-pass"));
    clock_gettime(CLOCK_MONOTONIC, &t2);
    double first = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    double next = ((double)(t2.tv_sec - t1.tv_sec) * 1e9 + (double)(t2.tv_nsec - t1.tv_nsec)) / 10;
    assert_true(next * 10 < first);
    assert_false(basicauth_htpasswd_match(h, "u", "s3cret-pass "));
    basicauth_htpasswd_free(h);

    assert_null(basicauth_htpasswd_parse("nocolon\n", 8, "f", &err));
    assert_non_null(strstr(err.msg, "line 1"));
    const char *apr = "x:$apr1$abc$defghijklmnopqrstuvwx\n";
    assert_null(basicauth_htpasswd_parse(apr, strlen(apr), "f", &err));
    assert_non_null(strstr(err.msg, "apr1"));
    const char *badsha = "x:{SHA}AAAA\n";
    assert_null(basicauth_htpasswd_parse(badsha, strlen(badsha), "f", &err));
}

static void test_basicauth_server(void **state)
{
    (void)state;
    char dir[] = "/tmp/llmotlp-auth-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], yaml[512];
    snprintf(path, sizeof path, "%s/htpasswd", dir);
    write_file(path, "alice:" BCRYPT_HASH "\nbob:from-file\n");
    snprintf(yaml, sizeof yaml, "htpasswd:\n  file: %s\n  inline: |\n    bob:from-inline\n", path);
    struct ext e;
    struct error err = {0};
    assert_int_equal(ext_open(&e, "basicauth", yaml, &err), 0);
    struct auth_server *a = server_of(&e);
    assert_non_null(a);
    assert_null(client_of(&e)); /* a server basicauth is no client */
    assert_non_null(strstr(a->challenge, "Basic"));
    assert_int_equal(check(a, "Authorization", "Basic YWxpY2U6czNjcmV0LXBhc3M="), 0);
    assert_int_equal(check(a, "authorization", "basic YWxpY2U6czNjcmV0LXBhc3M="), 0);
    char *bob = auth_base64_encode("bob:from-inline", 15);
    char v[128];
    snprintf(v, sizeof v, "Basic %s", bob);
    assert_int_equal(check(a, "Authorization", v), 0); /* inline wins over the file */
    free(bob);
    bob = auth_base64_encode("bob:from-file", 13);
    snprintf(v, sizeof v, "Basic %s", bob);
    assert_int_not_equal(check(a, "Authorization", v), 0);
    free(bob);
    assert_int_not_equal(check(a, "Authorization", "Basic YWxpY2U6d3Jvbmc="), 0);  /* alice:wrong */
    assert_int_not_equal(check(a, "Authorization", "Bearer YWxpY2U6czNjcmV0LXBhc3M="), 0);
    assert_int_not_equal(check(a, "Authorization", "Basic !!!"), 0);
    assert_int_not_equal(check(a, "Authorization", "Basic YWxpY2U="), 0);          /* no ':' */
    assert_int_not_equal(check(a, "Other", "Basic YWxpY2U6czNjcmV0LXBhc3M="), 0);
    ext_close(&e);
    unlink(path);
    rmdir(dir);
}

static void test_basicauth_client_and_errors(void **state)
{
    (void)state;
    struct ext e;
    struct error err = {0};
    assert_int_equal(ext_open(&e, "basicauth", "client_auth: {username: user, password: pass}\n",
                              &err), 0);
    assert_null(server_of(&e));
    struct auth_client *c = client_of(&e);
    assert_non_null(c);
    const char *name;
    char *value;
    assert_int_equal(c->header(c, &name, &value, &err), 0);
    assert_string_equal(name, "Authorization");
    assert_string_equal(value, "Basic dXNlcjpwYXNz");
    free(value);
    ext_close(&e);

    assert_int_not_equal(ext_open(&e, "basicauth", "{}\n", &err), 0);
    assert_non_null(strstr(err.msg, "no credential source"));
    ext_close(&e);
    assert_int_not_equal(ext_open(&e, "basicauth",
                                  "htpasswd: {inline: \"a:b\"}\nclient_auth: {username: a}\n",
                                  &err), 0);
    assert_non_null(strstr(err.msg, "only one"));
    ext_close(&e);
    assert_int_not_equal(ext_open(&e, "basicauth", "client_auth: {username: \"a:b\"}\n", &err), 0);
    ext_close(&e);
    assert_int_not_equal(ext_open(&e, "basicauth", "htpasswd: {}\n", &err), 0);
    ext_close(&e);
    assert_int_not_equal(ext_open(&e, "basicauth", "htpasswd: {file: /nonexistent/htpasswd}\n",
                                  &err), 0);
    assert_non_null(strstr(err.msg, "htpasswd.file"));
    ext_close(&e);
}

static void test_basicauth_client_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/llmotlp-auth-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char upath[256], ppath[256], yaml[768];
    snprintf(upath, sizeof upath, "%s/user", dir);
    snprintf(ppath, sizeof ppath, "%s/pass", dir);
    write_file(upath, "user\n");
    write_file(ppath, "pass"); /* no line break, as a Kubernetes secret file */
    snprintf(yaml, sizeof yaml,
             "client_auth: {username: ignored, password: ignored, username_file: %s, "
             "password_file: %s}\n",
             upath, ppath);
    struct ext e;
    struct error err = {0};
    assert_int_equal(ext_open(&e, "basicauth", yaml, &err), 0);
    struct auth_client *c = client_of(&e);
    const char *name;
    char *value;
    assert_int_equal(c->header(c, &name, &value, &err), 0);
    assert_string_equal(value, "Basic dXNlcjpwYXNz"); /* user:pass, the files win */
    free(value);
    /* rotated password: sent from the next request on */
    write_file(ppath, "pass 2\r\n");
    basicauth_check_files(e.self);
    assert_int_equal(c->header(c, &name, &value, &err), 0);
    char *want = auth_base64_encode("user:pass 2", 11);
    char line[128];
    snprintf(line, sizeof line, "Basic %s", want);
    assert_string_equal(value, line);
    free(want);
    free(value);
    /* a user name with ':' is refused; the credentials in force stay */
    write_file(upath, "a:b\n");
    basicauth_check_files(e.self);
    assert_int_equal(c->header(c, &name, &value, &err), 0);
    assert_string_equal(value, line);
    free(value);
    ext_close(&e);

    /* a missing file fails the start */
    snprintf(yaml, sizeof yaml, "client_auth: {username: u, password_file: %s/none}\n", dir);
    assert_int_not_equal(ext_open(&e, "basicauth", yaml, &err), 0);
    assert_non_null(strstr(err.msg, "password_file"));
    ext_close(&e);
    unlink(upath);
    unlink(ppath);
    rmdir(dir);
}

/* ---- the service's checks -------------------------------------------------------------------- */

static const char *load_error(const char *yaml, struct error *err)
{
    memset(err, 0, sizeof *err);
    struct service *s = service_load_string(yaml, err);
    if (s) {
        service_free(s);
        return NULL;
    }
    return err->msg;
}

#define RECEIVER_WITH(auth_line)                                                                   \
    "receivers:\n"                                                                                 \
    "  otlp:\n"                                                                                    \
    "    protocols:\n"                                                                             \
    "      grpc:\n"                                                                                \
    "        endpoint: 127.0.0.1:0\n"                                                              \
    "        auth:\n"                                                                              \
    "          " auth_line "\n"                                                                    \
    "exporters:\n"                                                                                 \
    "  debug: {}\n"

static void test_service_checks(void **state)
{
    (void)state;
    struct error err;
    const char *m;
    /* fine: a server authenticator on a receiver, a client one on an exporter */
    m = load_error("extensions:\n"
                   "  bearertokenauth: {token: t}\n"
                   "  basicauth/client: {client_auth: {username: u, password: p}}\n"
                   "  basicauth/server: {htpasswd: {inline: \"u:p\"}}\n"
                   "receivers:\n"
                   "  otlp:\n"
                   "    protocols:\n"
                   "      grpc: {endpoint: 127.0.0.1:0, auth: {authenticator: bearertokenauth}}\n"
                   "      http: {endpoint: 127.0.0.1:0, auth: {authenticator: basicauth/server,"
                   " request_params: [authorization]}}\n"
                   "exporters:\n"
                   "  otlp: {endpoint: localhost:1, auth: {authenticator: basicauth/client}}\n"
                   "  otlphttp: {endpoint: http://localhost:1, auth: {authenticator: bearertokenauth}}\n"
                   "service:\n"
                   "  extensions: [bearertokenauth, basicauth/client, basicauth/server]\n"
                   "  pipelines:\n"
                   "    traces: {receivers: [otlp], exporters: [otlp, otlphttp]}\n",
                   &err);
    assert_null(m);

    m = load_error(RECEIVER_WITH("authenticator: bearertokenauth")
                   "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
                   &err);
    assert_non_null(m);
    assert_non_null(strstr(m, ":7:"));
    assert_non_null(strstr(m, "not defined"));

    m = load_error("extensions:\n  bearertokenauth: {token: t}\n" RECEIVER_WITH(
                       "authenticator: bearertokenauth")
                   "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
                   &err);
    assert_non_null(m);
    assert_non_null(strstr(m, ":9:"));
    assert_non_null(strstr(m, "not listed in service.extensions"));

    m = load_error("extensions:\n  basicauth: {client_auth: {username: u}}\n" RECEIVER_WITH(
                       "authenticator: basicauth")
                   "service:\n  extensions: [basicauth]\n"
                   "  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
                   &err);
    assert_non_null(m);
    assert_non_null(strstr(m, "cannot authenticate incoming"));
    assert_non_null(strstr(m, "htpasswd"));

    m = load_error("extensions:\n  health_check: {}\n" RECEIVER_WITH("authenticator: health_check")
                   "service:\n  extensions: [health_check]\n"
                   "  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
                   &err);
    assert_non_null(m);
    assert_non_null(strstr(m, "not an authenticator"));

    m = load_error(RECEIVER_WITH("{}")
                   "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
                   &err);
    assert_non_null(m);
    assert_non_null(strstr(m, "must name an authenticator"));

    m = load_error(RECEIVER_WITH("authenticatorr: x")
                   "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
                   &err);
    assert_non_null(m); /* unknown key */

    m = load_error("extensions:\n  basicauth: {htpasswd: {inline: \"u:p\"}}\n"
                   "receivers:\n  otlp: {protocols: {grpc: {endpoint: 127.0.0.1:0}}}\n"
                   "exporters:\n"
                   "  otlphttp:\n"
                   "    endpoint: http://localhost:1\n"
                   "    auth:\n"
                   "      authenticator: basicauth\n"
                   "service:\n  extensions: [basicauth]\n"
                   "  pipelines:\n    traces: {receivers: [otlp], exporters: [otlphttp]}\n",
                   &err);
    assert_non_null(m);
    assert_non_null(strstr(m, ":9:"));
    assert_non_null(strstr(m, "cannot authenticate outgoing"));
    assert_non_null(strstr(m, "client_auth"));

    /* request_params is an HTTP server key only */
    m = load_error("extensions:\n  bearertokenauth: {token: t}\n" RECEIVER_WITH(
                       "{authenticator: bearertokenauth, request_params: [a]}")
                   "service:\n  extensions: [bearertokenauth]\n"
                   "  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
                   &err);
    assert_non_null(m);
    assert_non_null(strstr(m, "request_params"));

    /* filename beside token: a warning at the key, as the Collector logs one */
    memset(&err, 0, sizeof err);
    struct service *s = service_load_string(
        "extensions:\n  bearertokenauth: {token: t, filename: /tmp/x}\n"
        "receivers:\n  otlp: {protocols: {grpc: {endpoint: 127.0.0.1:0, auth: {authenticator: "
        "bearertokenauth}}}}\n"
        "exporters:\n  otlp: {endpoint: localhost:1, tls: {insecure: true}, auth: "
        "{authenticator: bearertokenauth}}\n"
        "service:\n  extensions: [bearertokenauth]\n"
        "  pipelines:\n    traces: {receivers: [otlp], exporters: [otlp]}\n",
        &err);
    assert_non_null(s);
    bool token_warned = false, plaintext_warned = false;
    for (size_t i = 0; i < service_warning_count(s); i++) {
        token_warned |= strstr(service_warning(s, i), "token: has no effect") != NULL;
        plaintext_warned |= strstr(service_warning(s, i), "plaintext") != NULL;
    }
    assert_true(token_warned);
    assert_true(plaintext_warned);
    service_free(s);
}

/* ---- a running receiver ---------------------------------------------------------------------- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

struct reply {
    long status;
    char www[128];
};

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n;
    if (len > 17 && strncasecmp(p, "WWW-Authenticate:", 17) == 0)
        snprintf(r->www, sizeof r->www, "%.*s", (int)(len - 17), p + 17);
    return len;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static struct reply post(int port, const char *path, const char *auth)
{
    struct reply r = {0};
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (auth)
        h = curl_slist_append(h, auth);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

static void test_http_receiver(void **state)
{
    (void)state;
    int port = free_port();
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "extensions:\n  bearertokenauth: {token: right}\n"
             "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:%d\n"
             "        auth: {authenticator: bearertokenauth, request_params: [authorization]}\n"
             "exporters:\n  debug: {verbosity: basic}\n"
             "service:\n  extensions: [bearertokenauth]\n"
             "  telemetry: {metrics: {level: none}}\n"
             "  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
             port);
    struct error err = {0};
    struct service *s = service_load_string(yaml, &err);
    assert_non_null(s);
    assert_int_equal(service_start(s, &err), 0);
    struct reply r = post(port, "/v1/traces", NULL);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.www, "Bearer"));
    r = post(port, "/v1/traces", "Authorization: Bearer wrong");
    assert_int_equal(r.status, 401);
    r = post(port, "/v1/traces", "Authorization: Basic right");
    assert_int_equal(r.status, 401);
    r = post(port, "/v1/nowhere", NULL); /* auth comes before routing, as in the Collector */
    assert_int_equal(r.status, 401);
    r = post(port, "/v1/traces", "Authorization: Bearer right");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.www, "");
    r = post(port, "/v1/traces?authorization=Bearer%20right", NULL); /* request_params */
    assert_int_equal(r.status, 200);
    r = post(port, "/v1/traces?authorization=Bearer%20wrong", "Authorization: Bearer right");
    assert_int_equal(r.status, 401); /* the query wins */
    service_shutdown(s, clock_now_ns() + 2000000000LL);
    service_free(s);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_auth_file_poll_waits_for_a_read_in_progress),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_bearer_static),
        cmocka_unit_test(test_bearer_tokens_scheme_header),
        cmocka_unit_test(test_bearer_config_errors),
        cmocka_unit_test(test_bearer_file_reload),
        cmocka_unit_test(test_sha1),
        cmocka_unit_test(test_htpasswd),
        cmocka_unit_test(test_basicauth_server),
        cmocka_unit_test(test_basicauth_client_and_errors),
        cmocka_unit_test(test_basicauth_client_files),
        cmocka_unit_test(test_service_checks),
        cmocka_unit_test(test_http_receiver),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
