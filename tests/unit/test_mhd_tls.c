/* test_mhd_tls.c — core/mhd_tls: the TLS state both libmicrohttpd servers share.
 *
 * The one idea: GnuTLS calls the certificate callback with nothing but a session, so a bare
 * server session (gnutls_init, no socket) stands in for a handshake; what the callback hands
 * back is compared with the DER of the files on disk. Whole handshakes, client certificates and
 * the 401s are proved through the servers (test_otlp_http_receiver, test_prometheus_exporter,
 * the e2e mTLS and reload tests). Certificates are made by the openssl command for each run; a
 * machine without it fails here rather than skipping. */
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
#include "core/mhd_tls.h"
#include "tests/unit/testutil.h"

static char dir[64];

/* a.test and b.test signed by ca1. */
static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/llmotlp-mhd-tls-XXXXXX");
    assert_non_null(mkdtemp(dir));
    tu_make_ca(dir, "ca1");
    tu_make_leaf(dir, "a", "ca1");
    tu_make_leaf(dir, "b", "ca1");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_sh(dir, "cd / && rm -rf %s", dir);
    return 0;
}

static char *slurp(const char *name)
{
    struct error err = {0};
    char *t = file_read(tu_path(dir, name), 1 << 20, NULL, &err);
    assert_non_null(t);
    return t;
}

/* The leaf of a certificate file in DER, as GnuTLS would send it. */
static void der_of(const char *name, gnutls_datum_t *out)
{
    char *pem = slurp(name);
    gnutls_datum_t in = {(unsigned char *)pem, (unsigned)strlen(pem)};
    assert_int_equal(gnutls_pem_base64_decode2("CERTIFICATE", &in, out), 0);
    free(pem);
}

static void assert_serves(const gnutls_pcert_st *pcert, unsigned n, const char *name)
{
    gnutls_datum_t want;
    der_of(name, &want);
    assert_int_equal(n, 1);
    assert_int_equal(pcert[0].cert.size, want.size);
    assert_memory_equal(pcert[0].cert.data, want.data, want.size);
    gnutls_free(want.data);
}

static int call_back(gnutls_session_t s, gnutls_pcert_st **pcert, unsigned *n, gnutls_privkey_t *key)
{
    return mhd_tls_cert_callback(s, NULL, 0, NULL, 0, pcert, n, key);
}

/* A server TLS section with the certificate and key files of the test directory. */
static struct tls_server_config cfg_of(const char *cert, const char *key)
{
    struct tls_server_config cfg = {0};
    cfg.base.cert_file = tu_path(dir, cert);
    cfg.base.key_file = tu_path(dir, key);
    return cfg;
}

/* The versions become MHD's priority string. The defaults give the very string the OTLP/HTTP
 * receiver always passed (its validation allows only those versions), so it serves the same. */
static void test_version_priorities(void **state)
{
    (void)state;
    struct tls_server_config cfg = cfg_of("a.pem", "a.key");
    struct error err = {0};
    struct mhd_tls t;
    assert_int_equal(mhd_tls_init(&t, &cfg, "tls", "test", &err), 0);
    assert_true(t.on);
    assert_string_equal(t.priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
    mhd_tls_destroy(&t);

    cfg.base.min_version = "1.0";
    cfg.base.max_version = "1.1";
    assert_int_equal(mhd_tls_init(&t, &cfg, "tls", "test", &err), 0);
    assert_string_equal(t.priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0");
    mhd_tls_destroy(&t);

    cfg.base.min_version = "1.3";
    cfg.base.max_version = NULL;
    assert_int_equal(mhd_tls_init(&t, &cfg, "tls", "test", &err), 0);
    assert_string_equal(t.priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
    mhd_tls_destroy(&t);
}

/* MHD gets the priorities, and a trust list (our copy of the CA's PEM) only with a client CA,
 * which is also what makes every request need a verified client certificate. */
static void test_options_and_client_ca(void **state)
{
    (void)state;
    struct tls_server_config cfg = cfg_of("a.pem", "a.key");
    struct error err = {0};
    struct mhd_tls t;
    assert_int_equal(mhd_tls_init(&t, &cfg, "tls", "test", &err), 0);
    assert_false(mhd_tls_client_required(&t));
    struct MHD_OptionItem opts[4];
    size_t n = 0;
    mhd_tls_add_options(&t, opts, &n);
    assert_int_equal(n, 1);
    assert_int_equal(opts[0].option, MHD_OPTION_HTTPS_PRIORITIES);
    assert_ptr_equal(opts[0].ptr_value, t.priorities);
    mhd_tls_destroy(&t);

    cfg.client_ca_file = tu_path(dir, "ca1.pem");
    assert_int_equal(mhd_tls_init(&t, &cfg, "tls", "test", &err), 0);
    assert_true(mhd_tls_client_required(&t));
    n = 0;
    mhd_tls_add_options(&t, opts, &n);
    assert_int_equal(n, 2);
    assert_int_equal(opts[1].option, MHD_OPTION_HTTPS_MEM_TRUST);
    char *ca = slurp("ca1.pem");
    assert_string_equal(opts[1].ptr_value, ca);
    assert_ptr_not_equal(opts[1].ptr_value, t.reload.cur.ca); /* survives a reload of cur */
    free(ca);
    mhd_tls_destroy(&t);
    assert_false(mhd_tls_client_required(&t));
}

/* The callback serves the set current at the handshake; a replaced set stays readable (GnuTLS
 * may still be using it) until destroy, which ASan would flag otherwise. A session that was not
 * pointed at a state fails its handshake rather than crash. */
static void test_cert_callback_and_reload(void **state)
{
    (void)state;
    tu_sh(dir, "cp a.pem cert.pem; cp a.key key.pem");
    struct tls_server_config cfg = cfg_of("cert.pem", "key.pem");
    cfg.base.reload_interval = 1000000; /* 1 ms */
    struct error err = {0};
    struct mhd_tls t;
    assert_int_equal(mhd_tls_init(&t, &cfg, "tls", "test", &err), 0);

    gnutls_session_t s;
    assert_int_equal(gnutls_init(&s, GNUTLS_SERVER), 0);
    gnutls_pcert_st *pcert = NULL;
    unsigned npcert = 0;
    gnutls_privkey_t key = NULL;
    assert_int_equal(call_back(s, &pcert, &npcert, &key), -1); /* no state on the session */

    gnutls_session_set_ptr(s, &t);
    assert_int_equal(call_back(s, &pcert, &npcert, &key), 0);
    assert_non_null(key);
    assert_serves(pcert, npcert, "a.pem");
    gnutls_pcert_st *first = pcert;
    gnutls_privkey_t first_key = key;

    tu_sh(dir, "cp b.pem cert.tmp && mv cert.tmp cert.pem; cp b.key key.tmp && mv key.tmp key.pem");
    tu_sleep_ms(5);
    assert_int_equal(call_back(s, &pcert, &npcert, &key), 0);
    assert_serves(pcert, npcert, "b.pem");
    assert_ptr_not_equal(pcert, first);
    assert_ptr_not_equal(key, first_key);
    assert_serves(first, 1, "a.pem"); /* retired, not freed */

    /* a broken replacement keeps B serving */
    tu_sh(dir, "echo garbage > cert.tmp && mv cert.tmp cert.pem");
    tu_sleep_ms(5);
    gnutls_pcert_st *second = pcert;
    assert_int_equal(call_back(s, &pcert, &npcert, &key), 0);
    assert_ptr_equal(pcert, second);

    gnutls_deinit(s);
    mhd_tls_destroy(&t);
}

/* A bad file fails init with the section named, and leaves a state that destroy (even twice) and
 * every query accept, as a zeroed one does. */
static void test_init_failure(void **state)
{
    (void)state;
    struct tls_server_config cfg = cfg_of("missing.pem", "a.key");
    struct error err = {0};
    struct mhd_tls t;
    assert_int_equal(mhd_tls_init(&t, &cfg, "protocols.http.tls", "test", &err), -1);
    assert_non_null(strstr(err.msg, "missing.pem"));
    assert_false(t.on);
    assert_false(mhd_tls_client_required(&t));
    mhd_tls_destroy(&t);
    mhd_tls_destroy(&t);

    cfg.base.cert_file = tu_path(dir, "a.pem");
    cfg.base.key_file = tu_path(dir, "b.key"); /* not a.pem's key */
    memset(&err, 0, sizeof err);
    assert_int_equal(mhd_tls_init(&t, &cfg, "protocols.http.tls", "test", &err), -1);
    assert_non_null(strstr(err.msg, "protocols.http.tls"));
    assert_false(t.on);

    struct mhd_tls z = {0};
    assert_false(mhd_tls_client_required(&z));
    mhd_tls_destroy(&z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_priorities),
        cmocka_unit_test(test_options_and_client_ca),
        cmocka_unit_test(test_cert_callback_and_reload),
        cmocka_unit_test(test_init_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
