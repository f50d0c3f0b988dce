/* tls_config.c — the Collector's configtls keys, the PEM loader and the stack-independent checks.
 *
 * The one idea: the keys both roles share are written once (TLS_CONFIG_FIELDS) and placed into
 * each role's table through the embedded struct tls_config, so a key added to configtls.Config
 * is added to clients and servers alike. */
#include "core/tls_config.h"

#include "core/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- field tables ----------------------------------------------------------------------------- */

static const struct config_field tls_tpm_fields[] = {
    {.name = "enabled", .type = CFG_BOOL, .offset = offsetof(struct tls_tpm_config, enabled),
     .def = "false", .doc = "load key_file/key_pem through a TPM; true is refused (no TPM support)"},
    {.name = "path", .type = CFG_STRING, .offset = offsetof(struct tls_tpm_config, path),
     .doc = "TPM device or socket (/dev/tpmrm0); unused while enabled is false"},
    {.name = "owner_auth", .type = CFG_STRING, .offset = offsetof(struct tls_tpm_config, owner_auth),
     .doc = "TPM owner password; unused while enabled is false"},
    {.name = "auth", .type = CFG_STRING, .offset = offsetof(struct tls_tpm_config, auth),
     .doc = "key password; unused while enabled is false"},
    {.name = NULL},
};

#define TLS_CONFIG_FIELDS(T, ca_doc, own_doc)                                                      \
    {.name = "ca_file", .type = CFG_STRING, .offset = offsetof(T, base.ca_file),                  \
     .doc = ca_doc},                                                                               \
    {.name = "ca_pem", .type = CFG_STRING, .offset = offsetof(T, base.ca_pem),                    \
     .doc = "the same, inline PEM", .secret = true},                                                \
    {.name = "cert_file", .type = CFG_STRING, .offset = offsetof(T, base.cert_file),              \
     .doc = own_doc " certificate chain (PEM file)"},                                              \
    {.name = "cert_pem", .type = CFG_STRING, .offset = offsetof(T, base.cert_pem),                \
     .doc = "the same, inline PEM", .secret = true},                                                \
    {.name = "key_file", .type = CFG_STRING, .offset = offsetof(T, base.key_file),                \
     .doc = own_doc " private key (PEM file)"},                                                    \
    {.name = "key_pem", .type = CFG_STRING, .offset = offsetof(T, base.key_pem),                  \
     .doc = "the same, inline PEM", .secret = true},                                                \
    {.name = "include_system_ca_certs_pool", .type = CFG_BOOL,                                     \
     .offset = offsetof(T, base.include_system_ca_certs_pool), .def = "false",                     \
     .doc = "add the system roots to ca_file/ca_pem"},                                             \
    {.name = "min_version", .type = CFG_STRING, .offset = offsetof(T, base.min_version),          \
     .doc = "minimum TLS version (empty = 1.2)"},                                                  \
    {.name = "max_version", .type = CFG_STRING, .offset = offsetof(T, base.max_version),          \
     .doc = "maximum TLS version (empty = the highest known)"},                                    \
    {.name = "cipher_suites", .type = CFG_STRING_LIST, .offset = offsetof(T, base.cipher_suites), \
     .doc = "TLS 1.2 cipher suites allowed (empty = the stack's defaults)"},                       \
    {.name = "curve_preferences", .type = CFG_STRING_LIST,                                         \
     .offset = offsetof(T, base.curve_preferences),                                                \
     .doc = "key exchange curves, in order of preference"},                                        \
    {.name = "reload_interval", .type = CFG_DURATION, .offset = offsetof(T, base.reload_interval), \
     .doc = "servers: poll cert_file and key_file this often, at a new handshake, and serve them "  \
            "anew when they changed (0 = read once, at start); refused by the exporters"},     \
    {.name = "tpm", .type = CFG_SECTION, .offset = offsetof(T, base.tpm), .sub = tls_tpm_fields,  \
     .doc = "the Collector's TPM-held private key (enabled: false only)"}

const struct config_field tls_client_fields[] = {
    {.name = "insecure", .type = CFG_BOOL, .offset = offsetof(struct tls_client_config, insecure),
     .def = "false", .doc = "plaintext connection (no TLS)"},
    {.name = "insecure_skip_verify", .type = CFG_BOOL,
     .offset = offsetof(struct tls_client_config, insecure_skip_verify), .def = "false",
     .doc = "TLS without verifying the server certificate"},
    TLS_CONFIG_FIELDS(struct tls_client_config,
                      "PEM file of the CAs that sign the server certificate (default: system roots)",
                      "client (mutual TLS)"),
    {.name = "server_name_override", .type = CFG_STRING,
     .offset = offsetof(struct tls_client_config, server_name_override),
     .doc = "name expected in the server certificate instead of the endpoint's host"},
    {.name = NULL},
};

const struct config_field tls_server_fields[] = {
    TLS_CONFIG_FIELDS(struct tls_server_config,
                      "CA bundle (accepted; a server verifies clients with client_ca_file)",
                      "server"),
    {.name = "client_ca_file", .type = CFG_STRING,
     .offset = offsetof(struct tls_server_config, client_ca_file),
     .doc = "CA that client certificates must chain to; set = mutual TLS required"},
    {.name = "client_ca_file_reload", .type = CFG_BOOL,
     .offset = offsetof(struct tls_server_config, client_ca_file_reload), .def = "false",
     .doc = "re-read client_ca_file when it changes (polled once a second, at a new handshake)"},
    {.name = NULL},
};

/* ---- PEM loading ------------------------------------------------------------------------------ */

char *tls_pem(const char *pem, const char *file, struct error *err)
{
    error_clear(err);
    if (tls_set(pem)) {
        char *p = strdup(pem);
        if (!p)
            error_set(err, "out of memory");
        return p;
    }
    if (tls_set(file))
        return file_read(file, TLS_PEM_MAX_BYTES, NULL, err);
    return NULL;
}

void tls_pem_free(char *pem)
{
    if (!pem)
        return;
    /* volatile so the wipe of a freed buffer is not optimised away */
    for (volatile char *p = pem; *p; p++)
        *p = 0;
    free(pem);
}

/* ---- checks ----------------------------------------------------------------------------------- */

static int check_sources(const struct tls_config *c, const char *where, struct error *err)
{
    /* Refused rather than warned: the key file then holds a TPM key blob, which no TLS stack
     * here can load, so the connection could never work as configured. */
    if (c->tpm.enabled)
        return error_set(err, "%s.tpm.enabled: private keys held in a TPM are not supported; "
                              "use a key_file or key_pem", where);
    if (tls_set(c->ca_file) && tls_set(c->ca_pem))
        return error_set(err, "%s: set ca_file or ca_pem, not both", where);
    if (tls_set(c->cert_file) && tls_set(c->cert_pem))
        return error_set(err, "%s: set cert_file or cert_pem, not both", where);
    if (tls_set(c->key_file) && tls_set(c->key_pem))
        return error_set(err, "%s: set key_file or key_pem, not both", where);
    return 0;
}

static bool has_cert(const struct tls_config *c) { return tls_set(c->cert_file) || tls_set(c->cert_pem); }
static bool has_key(const struct tls_config *c) { return tls_set(c->key_file) || tls_set(c->key_pem); }

int tls_client_validate(const struct tls_client_config *t, const char *where, struct error *err)
{
    if (check_sources(&t->base, where, err))
        return -1;
    if (has_cert(&t->base) != has_key(&t->base))
        return error_set(err, "%s: a client certificate needs both a certificate and a key", where);
    return 0;
}

int tls_server_validate(const struct tls_server_config *t, const char *where, struct error *err)
{
    if (!has_cert(&t->base) || !has_key(&t->base))
        return error_set(err, "%s: a server needs cert_file (or cert_pem) and key_file (or key_pem)",
                         where);
    return check_sources(&t->base, where, err);
}
