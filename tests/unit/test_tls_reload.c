/* test_tls_reload.c — core/tls_reload: the watched certificate, key and client CA files.
 *
 * The one idea: certificates are made by the openssl command for each run (a missing command
 * fails the suite), files are replaced by rename as operators do, and the intervals are a few
 * milliseconds, so every step is "replace, wait past the interval, check" with no timing race:
 * a set becomes current only at a check, and a broken set never does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/file.h"
#include "core/log.h"
#include "core/tls_reload.h"
#include "tests/unit/testutil.h"

static char dir[64];

/* a.test and b.test signed by ca1; ca2 another CA. */
static int setup(void **state)
{
    (void)state;
    if (system("command -v openssl >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_tls_reload: the openssl command is needed (scripts/install-deps.sh "
                        "installs it)\n");
        return -1;
    }
    snprintf(dir, sizeof dir, "/tmp/llmotlp-tls-reload-XXXXXX");
    assert_non_null(mkdtemp(dir));
    tu_make_ca(dir, "ca1");
    tu_make_ca(dir, "ca2");
    tu_make_leaf(dir, "a", "ca1");
    tu_make_leaf(dir, "b", "ca1");
    tu_sh(dir, "cp a.pem cert.pem; cp a.key key.pem; cp ca1.pem client_ca.pem");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (dir[0])
        tu_sh(dir, "cd / && rm -rf %s", dir);
    return 0;
}

/* Replaces `dst` by renaming a copy of `src` over it (a new inode, as a rotation makes). */
static void replace(const char *dst, const char *src)
{
    tu_sh(dir, "cp %s %s.tmp && mv %s.tmp %s", src, dst, dst, dst);
}

static void nap_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

struct seen_set {
    int applied;
    char cert[4096];
    char ca[4096];
};

static int record(void *ctx, const struct tls_material *m)
{
    struct seen_set *s = ctx;
    s->applied++;
    snprintf(s->cert, sizeof s->cert, "%s", m->cert);
    snprintf(s->ca, sizeof s->ca, "%s", m->ca ? m->ca : "");
    return 0;
}

static char *slurp(const char *name)
{
    struct error err = {0};
    char *t = file_read(tu_path(dir, name), 1 << 20, NULL, &err);
    assert_non_null(t);
    return t;
}

static void assert_cert_is(const struct seen_set *s, const char *name)
{
    char *want = slurp(name);
    assert_string_equal(s->cert, want);
    free(want);
}

static void test_reload_interval(void **state)
{
    (void)state;
    tu_sh(dir, "cp a.pem cert.pem; cp a.key key.pem");
    struct tls_server_config cfg = {0};
    cfg.base.cert_file = tu_path(dir, "cert.pem");
    cfg.base.key_file = tu_path(dir, "key.pem");
    cfg.base.reload_interval = 20 * 1000000; /* 20 ms */
    struct tls_reload r;
    struct error err = {0};
    assert_int_equal(tls_reload_init(&r, &cfg, "tls", "test", &err), 0);
    assert_true(tls_reload_watching(&r));
    struct seen_set s = {0};
    uint64_t seen = 0;
    assert_int_equal(tls_reload_check(&r, &seen, record, &s), 1); /* the first set */
    assert_cert_is(&s, "a.pem");
    assert_int_equal(tls_reload_check(&r, &seen, record, &s), 0);

    /* replaced: nothing before the interval, B after it */
    replace(tu_path(dir, "cert.pem"), tu_path(dir, "b.pem"));
    replace(tu_path(dir, "key.pem"), tu_path(dir, "b.key"));
    nap_ms(40);
    assert_int_equal(tls_reload_check(&r, &seen, record, &s), 1);
    assert_cert_is(&s, "b.pem");
    assert_int_equal(s.applied, 2);

    /* broken: garbage, then a certificate without its key; B stays */
    tu_sh(dir, "echo garbage > cert.tmp && mv cert.tmp cert.pem");
    nap_ms(40);
    assert_int_equal(tls_reload_check(&r, &seen, record, &s), 0);
    replace(tu_path(dir, "cert.pem"), tu_path(dir, "a.pem"));
    nap_ms(40);
    assert_int_equal(tls_reload_check(&r, &seen, record, &s), 0);
    /* a missing file too */
    tu_sh(dir, "rm key.pem");
    nap_ms(40);
    assert_int_equal(tls_reload_check(&r, &seen, record, &s), 0);
    assert_int_equal(s.applied, 2);
    /* the key lands: the pair (both re-read) is A */
    tu_sh(dir, "cp a.key key.pem");
    nap_ms(40);
    assert_int_equal(tls_reload_check(&r, &seen, record, &s), 1);
    assert_cert_is(&s, "a.pem");
    tls_reload_destroy(&r);
}

static int refuse(void *ctx, const struct tls_material *m)
{
    (void)m;
    ++*(int *)ctx;
    return -1;
}

static void test_apply_failure_retried(void **state)
{
    (void)state;
    struct tls_server_config cfg = {0};
    cfg.base.cert_file = tu_path(dir, "a.pem");
    cfg.base.key_file = tu_path(dir, "a.key");
    struct tls_reload r;
    struct error err = {0};
    assert_int_equal(tls_reload_init(&r, &cfg, "tls", "test", &err), 0);
    assert_false(tls_reload_watching(&r)); /* no reload keys: read once */
    uint64_t seen = 0;
    int calls = 0;
    assert_int_equal(tls_reload_check(&r, &seen, refuse, &calls), -1);
    assert_int_equal(tls_reload_check(&r, &seen, refuse, &calls), -1);
    assert_int_equal(calls, 2);
    struct seen_set s = {0};
    assert_int_equal(tls_reload_check(&r, &seen, record, &s), 1);
    tls_reload_destroy(&r);
}

static void test_client_ca_reload(void **state)
{
    (void)state;
    tu_sh(dir, "cp ca1.pem client_ca.pem");
    struct tls_server_config cfg = {0};
    cfg.base.cert_file = tu_path(dir, "a.pem");
    cfg.base.key_file = tu_path(dir, "a.key");
    cfg.client_ca_file = tu_path(dir, "client_ca.pem");
    cfg.client_ca_file_reload = true;
    struct tls_reload r;
    struct error err = {0};
    assert_int_equal(tls_reload_init(&r, &cfg, "tls", "test", &err), 0);
    assert_true(tls_reload_watching(&r));
    r.ca_every_ns = 20 * 1000000; /* the 1 s poll, shortened for the test */
    r.next_ca_poll_ns = 0;
    struct seen_set s = {0};
    uint64_t seen = 0;
    assert_int_equal(tls_reload_check(&r, &seen, record, &s), 1);
    char *ca1 = slurp("ca1.pem"), *ca2 = slurp("ca2.pem");
    assert_string_equal(s.ca, ca1);
    replace(tu_path(dir, "client_ca.pem"), tu_path(dir, "ca2.pem"));
    nap_ms(40);
    assert_int_equal(tls_reload_check(&r, &seen, record, &s), 1);
    assert_string_equal(s.ca, ca2);
    assert_cert_is(&s, "a.pem"); /* the certificate is kept */
    tu_sh(dir, "echo nothing > client_ca.tmp && mv client_ca.tmp client_ca.pem");
    nap_ms(40);
    assert_int_equal(tls_reload_check(&r, &seen, record, &s), 0);
    assert_string_equal(s.ca, ca2);
    free(ca1);
    free(ca2);
    tls_reload_destroy(&r);
}

static void test_init_errors(void **state)
{
    (void)state;
    struct tls_server_config cfg = {0};
    struct tls_reload r;
    struct error err = {0};
    cfg.base.cert_file = tu_path(dir, "a.pem");
    cfg.base.key_file = tu_path(dir, "b.key");
    assert_int_not_equal(tls_reload_init(&r, &cfg, "protocols.grpc.tls", "test", &err), 0);
    assert_non_null(strstr(err.msg, "protocols.grpc.tls: certificate or key not usable"));
    cfg.base.key_file = tu_path(dir, "missing.key");
    assert_int_not_equal(tls_reload_init(&r, &cfg, "tls", "test", &err), 0);
    assert_non_null(strstr(err.msg, "missing.key"));
    cfg.base.key_file = tu_path(dir, "a.key");
    cfg.client_ca_file = tu_path(dir, "a.key"); /* not a certificate */
    assert_int_not_equal(tls_reload_init(&r, &cfg, "tls", "test", &err), 0);
    assert_non_null(strstr(err.msg, "client CA"));
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload_interval),
        cmocka_unit_test(test_apply_failure_retried),
        cmocka_unit_test(test_client_ca_reload),
        cmocka_unit_test(test_init_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
