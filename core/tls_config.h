/* tls_config.h — the Collector's configtls settings (ClientConfig, ServerConfig) as shared typed
 * structs and config field tables, plus the PEM loading every TLS user needs.
 *
 * The one idea: keys, parsing and the checks that hold for any TLS stack (a certificate needs a
 * key, a file or an inline PEM but not both) live here once; what a particular stack cannot do
 * (gRPC core ignores cipher_suites, versions, curves) is checked by the component that uses that
 * stack, because only it knows. Re-reading changed files is core/tls_reload.h.
 *
 * Ownership: the structs are filled by config_bind() with a table below and freed by
 * config_free_bound() with the same table (the enclosing component's table does both when it
 * nests them with CFG_SECTION / CFG_PRESENCE). Everything here is reentrant; nothing keeps state. */
#ifndef LLMOTLP_TLS_CONFIG_H
#define LLMOTLP_TLS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"

/* configtls.TPMConfig: a private key held in a Trusted Platform Module. Bound so that the
 * Collector's configs load; enabled: true is refused by tls_*_validate (no TPM stack here), and
 * with enabled false the Collector ignores the other keys too. */
struct tls_tpm_config {
    bool enabled;
    char *path, *owner_auth, *auth;
};

/* configtls.Config: what a client and a server share. A string that is NULL or "" is unset. */
struct tls_config {
    char *ca_file, *ca_pem;              /* CA bundle: a file or inline PEM */
    char *cert_file, *cert_pem;          /* own certificate chain */
    char *key_file, *key_pem;            /* own private key */
    bool include_system_ca_certs_pool;
    char *min_version, *max_version;     /* "1.0".."1.3"; unset = the stack's default */
    struct config_str_list cipher_suites;
    struct config_str_list curve_preferences;
    int64_t reload_interval;             /* ns; 0 = read once */
    struct tls_tpm_config tpm;
};

/* configtls.ClientConfig. */
struct tls_client_config {
    struct tls_config base;
    bool insecure;                       /* plaintext; false (the Collector default) = TLS */
    bool insecure_skip_verify;           /* TLS without verifying the server certificate */
    char *server_name_override;          /* name checked against the server certificate */
};

/* configtls.ServerConfig. */
struct tls_server_config {
    struct tls_config base;
    char *client_ca_file;                /* set = clients must present a certificate signed by it */
    bool client_ca_file_reload;
};

/* Field tables for the structs above (NULL-terminated), to nest under a `tls` key. */
extern const struct config_field tls_client_fields[];
extern const struct config_field tls_server_fields[];

/* Largest PEM file tls_pem() reads: far above any real bundle, low enough that a config naming
 * /dev/zero fails instead of eating the memory. */
#define TLS_PEM_MAX_BYTES ((size_t)64 << 20)

/* The PEM text of one setting: `pem` when set (inline wins, as in the Collector), else the
 * contents of `file`, malloc'd. Returns NULL in two cases, told apart by err->msg: empty when
 * neither is set (err is cleared on entry), non-empty when reading failed. err must not be NULL. */
char *tls_pem(const char *pem, const char *file, struct error *err);

/* Frees a string returned by tls_pem() after overwriting it, for private keys. NULL is fine. */
void tls_pem_free(char *pem);

/* Whether a string setting is set (non-NULL and non-empty). */
static inline bool tls_set(const char *s) { return s && *s; }

/* Checks that hold for any TLS stack. `where` is the key path of the section ("tls",
 * "protocols.grpc.tls") that starts every message. 0, or -1 with err.
 * Client: ca/cert/key each from a file or inline, not both; a certificate needs a key and a key a
 * certificate. Server: the same, and a certificate and a key are required. Both: tpm.enabled is
 * refused (keys held in a TPM cannot be used here). */
int tls_client_validate(const struct tls_client_config *t, const char *where, struct error *err);
int tls_server_validate(const struct tls_server_config *t, const char *where, struct error *err);

#endif
