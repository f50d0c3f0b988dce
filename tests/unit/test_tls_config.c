/* test_tls_config.c — the shared configtls tables, the PEM loader and the generic TLS checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/file.h"
#include "core/tls_config.h"

static int bind(const struct config_field *fields, const char *yaml, void *out, struct error *err)
{
    struct cnode *root = config_parse_string(yaml, "test.yaml", err);
    if (!root)
        return -1;
    int rc = config_bind(fields, root, out, err);
    cnode_free(root);
    return rc;
}

/* Writes `text` to a fresh temporary file; the caller unlinks `path`. */
static void temp_file(char *path, size_t len, const char *text)
{
    snprintf(path, len, "/tmp/llmotlp-tls-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_client_fields(void **state)
{
    (void)state;
    struct tls_client_config c = {0};
    struct error err = {0};
    assert_int_equal(bind(tls_client_fields,
                          "insecure: true\ninsecure_skip_verify: true\nca_file: ca.pem\n"
                          "cert_pem: CERT\nkey_file: k.pem\nserver_name_override: x.test\n"
                          "include_system_ca_certs_pool: true\nmin_version: \"1.3\"\n"
                          "max_version: \"1.3\"\ncipher_suites: [A, B]\ncurve_preferences: [X25519]\n"
                          "reload_interval: 1m\n",
                          &c, &err),
                     0);
    assert_true(c.insecure);
    assert_true(c.insecure_skip_verify);
    assert_string_equal(c.base.ca_file, "ca.pem");
    assert_string_equal(c.base.cert_pem, "CERT");
    assert_string_equal(c.base.key_file, "k.pem");
    assert_string_equal(c.server_name_override, "x.test");
    assert_true(c.base.include_system_ca_certs_pool);
    assert_string_equal(c.base.min_version, "1.3");
    assert_int_equal(c.base.cipher_suites.n, 2);
    assert_int_equal(c.base.curve_preferences.n, 1);
    assert_int_equal(c.base.reload_interval, 60LL * 1000000000);
    config_free_bound(tls_client_fields, &c);

    /* a server-only key is not a client key */
    memset(&c, 0, sizeof c);
    assert_int_not_equal(bind(tls_client_fields, "client_ca_file: x\n", &c, &err), 0);
    assert_non_null(strstr(err.msg, "client_ca_file"));
    config_free_bound(tls_client_fields, &c);
}

static void test_server_fields(void **state)
{
    (void)state;
    struct tls_server_config s = {0};
    struct error err = {0};
    assert_int_equal(bind(tls_server_fields,
                          "cert_file: c.pem\nkey_pem: KEY\nclient_ca_file: ca.pem\n"
                          "client_ca_file_reload: true\nca_pem: CA\n",
                          &s, &err),
                     0);
    assert_string_equal(s.base.cert_file, "c.pem");
    assert_string_equal(s.base.key_pem, "KEY");
    assert_string_equal(s.client_ca_file, "ca.pem");
    assert_true(s.client_ca_file_reload);
    assert_string_equal(s.base.ca_pem, "CA");
    assert_int_equal(tls_server_validate(&s, "tls", &err), 0);
    config_free_bound(tls_server_fields, &s);

    memset(&s, 0, sizeof s);
    assert_int_not_equal(bind(tls_server_fields, "insecure: true\n", &s, &err), 0);
    assert_non_null(strstr(err.msg, "insecure"));
    config_free_bound(tls_server_fields, &s);
}

static void test_read_file(void **state)
{
    (void)state;
    struct error err = {0};
    char path[64];
    /* larger than the first buffer, so growing is exercised */
    size_t n = 10000;
    char *text = malloc(n + 1);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        text[i] = (char)('a' + i % 26);
    text[n] = '\0';
    temp_file(path, sizeof path, text);

    char *got = file_read(path, n, NULL, &err);
    assert_non_null(got);
    assert_string_equal(got, text);
    free(got);

    assert_null(file_read(path, n - 1, NULL, &err));
    assert_non_null(strstr(err.msg, "larger than"));
    assert_non_null(strstr(err.msg, path));

    unlink(path);
    error_clear(&err);
    assert_null(file_read(path, n, NULL, &err));
    assert_non_null(strstr(err.msg, "cannot read"));
    assert_non_null(strstr(err.msg, path));
    free(text);

    temp_file(path, sizeof path, "");
    got = file_read(path, 10, NULL, &err);
    assert_non_null(got);
    assert_string_equal(got, "");
    free(got);
    unlink(path);
}

static void test_pem(void **state)
{
    (void)state;
    struct error err = {0};
    char path[64];
    temp_file(path, sizeof path, "FROM FILE");

    /* inline wins over the file */
    char *p = tls_pem("INLINE", path, &err);
    assert_string_equal(p, "INLINE");
    assert_string_equal(err.msg, "");
    free(p);
    /* empty inline counts as unset */
    p = tls_pem("", path, &err);
    assert_string_equal(p, "FROM FILE");
    tls_pem_free(p);
    /* neither set: NULL and no error, even after an earlier failure */
    error_set(&err, "stale");
    assert_null(tls_pem(NULL, "", &err));
    assert_string_equal(err.msg, "");
    /* a missing file: NULL with the path in the error */
    unlink(path);
    assert_null(tls_pem(NULL, path, &err));
    assert_non_null(strstr(err.msg, path));
    tls_pem_free(NULL);
}

static void test_validate(void **state)
{
    (void)state;
    struct error err = {0};
    struct tls_client_config c = {0};
    assert_int_equal(tls_client_validate(&c, "tls", &err), 0);
    c.base.cert_file = "c.pem";
    assert_int_not_equal(tls_client_validate(&c, "tls", &err), 0);
    assert_non_null(strstr(err.msg, "tls: a client certificate needs both"));
    c.base.key_pem = "KEY";
    assert_int_equal(tls_client_validate(&c, "tls", &err), 0);
    c.base.ca_file = "a";
    c.base.ca_pem = "b";
    assert_int_not_equal(tls_client_validate(&c, "tls", &err), 0);
    assert_string_equal(err.msg, "tls: set ca_file or ca_pem, not both");
    c.base.ca_pem = "";
    assert_int_equal(tls_client_validate(&c, "tls", &err), 0);

    struct tls_server_config s = {0};
    assert_int_not_equal(tls_server_validate(&s, "protocols.grpc.tls", &err), 0);
    assert_non_null(strstr(err.msg, "protocols.grpc.tls: a server needs cert_file"));
    s.base.cert_pem = "CERT";
    assert_int_not_equal(tls_server_validate(&s, "x", &err), 0);
    s.base.key_file = "k.pem";
    assert_int_equal(tls_server_validate(&s, "x", &err), 0);
    s.base.key_pem = "KEY";
    assert_int_not_equal(tls_server_validate(&s, "x", &err), 0);
    assert_string_equal(err.msg, "x: set key_file or key_pem, not both");
}

/* configtls's tpm section binds for clients and servers; enabled: false loads (its other keys
 * then do nothing, in the Collector too), enabled: true is refused at validate, by key path. */
static void test_tpm(void **state)
{
    (void)state;
    struct error err = {0};
    struct cnode *n = config_parse_string(
        "tpm: {enabled: false, path: /dev/tpmrm0, owner_auth: o, auth: a}\n", "t.yaml", &err);
    assert_non_null(n);
    struct tls_client_config c = {0};
    assert_int_equal(config_bind(tls_client_fields, n, &c, &err), 0);
    assert_false(c.base.tpm.enabled);
    assert_string_equal(c.base.tpm.path, "/dev/tpmrm0");
    assert_string_equal(c.base.tpm.owner_auth, "o");
    assert_int_equal(tls_client_validate(&c, "tls", &err), 0);
    config_free_bound(tls_client_fields, &c);
    cnode_free(n);

    n = config_parse_string("cert_file: c.pem\nkey_file: k.pem\ntpm: {enabled: true, path: /dev/tpm0}\n",
                            "t.yaml", &err);
    assert_non_null(n);
    struct tls_server_config s = {0};
    assert_int_equal(config_bind(tls_server_fields, n, &s, &err), 0);
    assert_true(s.base.tpm.enabled);
    assert_int_not_equal(tls_server_validate(&s, "protocols.grpc.tls", &err), 0);
    assert_non_null(strstr(err.msg, "protocols.grpc.tls.tpm.enabled: private keys held in a TPM "
                                    "are not supported"));
    config_free_bound(tls_server_fields, &s);
    cnode_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_fields),
        cmocka_unit_test(test_server_fields),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_pem),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_tpm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
