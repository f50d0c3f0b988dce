/* admin_http_config.c — the shared checks of the admin_http servers' confighttp keys (see the
 * header). The one idea: refuse at the value the operator wrote, in words that say what to do
 * instead. */
#include "core/admin_http_config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int admin_http_tls_validate(const struct tls_server_config *t, struct error *err)
{
    if (tls_server_validate(t, "tls", err))
        return -1;
    const struct tls_config *b = &t->base;
    static const char *const versions[] = {"1.0", "1.1", "1.2", "1.3", NULL};
    const char *v[2] = {b->min_version, b->max_version};
    int idx[2] = {-1, -1};
    for (int k = 0; k < 2; k++) {
        if (!tls_set(v[k]))
            continue;
        for (int i = 0; versions[i]; i++)
            if (strcmp(v[k], versions[i]) == 0)
                idx[k] = i;
        if (idx[k] < 0)
            return error_set(err, "tls.%s: \"%s\" is not a TLS version; expected 1.0, 1.1, 1.2 or "
                             "1.3", k ? "max_version" : "min_version", v[k]);
    }
    if (idx[0] >= 0 && idx[1] >= 0 && idx[1] < idx[0])
        return error_set(err, "tls.max_version: %s is below min_version %s", v[1], v[0]);
    if (b->cipher_suites.n)
        return error_set(err, "tls.cipher_suites: not supported; leave empty (GnuTLS' defaults "
                         "for the allowed versions are used)");
    if (b->curve_preferences.n)
        return error_set(err, "tls.curve_preferences: not supported; leave empty");
    if (b->reload_interval < 0)
        return error_set(err, "tls.reload_interval: must be >= 0");
    if (b->reload_interval && !tls_set(b->cert_file) && !tls_set(b->key_file))
        return error_set(err, "tls.reload_interval: nothing to reload: the certificate and key are "
                         "inline (cert_pem, key_pem); use cert_file and key_file");
    if (t->client_ca_file_reload)
        return error_set(err, "tls.client_ca_file_reload: not supported here; the client CA is "
                         "read at start (restart to change it)");
    return 0;
}

static bool present(const struct cnode *n)
{
    return n && n->kind != CNODE_NULL;
}

/* The messages start with the key: the service places a validate error at the key it names. */
int admin_http_refuse_auth(const struct cnode *auth, const char *owner, struct error *err)
{
    if (!present(auth))
        return 0;
    return error_set(err, "auth: not supported: %s would be served without authentication "
                     "(no authenticator can be asked here); require client certificates with "
                     "tls.client_ca_file, or listen on a private interface", owner);
}

int admin_http_refuse_middlewares(const struct cnode *middlewares, struct error *err)
{
    if (!present(middlewares))
        return 0;
    if (middlewares->kind == CNODE_SCALAR && !middlewares->value[0])
        return 0; /* `${env:UNSET}`: an empty list, as the Collector reads it */
    if (middlewares->kind != CNODE_SEQ)
        return error_set(err, "middlewares: expected a list of middleware extensions");
    if (middlewares->n == 0)
        return 0;
    return error_set(err, "middlewares: not supported: llmotlp has no HTTP middleware "
                     "extensions; leave the list empty");
}
