/* mhd_tls.c — one TLS implementation for the libmicrohttpd servers (see mhd_tls.h).
 *
 * The one idea: the certificate is not MHD's but ours, handed to GnuTLS at each handshake from an
 * atomically swapped set that tls_reload rebuilds when the files change; sets are only ever
 * added, so whatever a live session holds stays valid until the server is gone. */
#include "core/mhd_tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "core/log.h"

struct mhd_tls_keys {
    struct mhd_tls_keys *older;       /* retired sets, newest first */
    gnutls_pcert_st pcert[16];        /* the chain, leaf first */
    unsigned npcert;
    gnutls_privkey_t key;
    gnutls_x509_trust_list_t trust;   /* client_ca_file_reload: the CA clients are verified with */
};

static void keys_free(struct mhd_tls_keys *k)
{
    for (unsigned i = 0; i < k->npcert; i++)
        gnutls_pcert_deinit(&k->pcert[i]);
    if (k->key)
        gnutls_privkey_deinit(k->key);
    if (k->trust)
        gnutls_x509_trust_list_deinit(k->trust, 1);
    free(k);
}

/* tls_reload_apply_fn (under reload.mu): builds the GnuTLS form of a set that became current and
 * makes it the one served; the previous one is retired behind it. */
static int keys_apply(void *ctx, const struct tls_material *m)
{
    struct mhd_tls *t = ctx;
    struct mhd_tls_keys *k = calloc(1, sizeof *k);
    if (!k)
        return -1;
    gnutls_datum_t cd = {(unsigned char *)m->cert, (unsigned)strlen(m->cert)};
    gnutls_datum_t kd = {(unsigned char *)m->key, (unsigned)strlen(m->key)};
    unsigned n = sizeof k->pcert / sizeof k->pcert[0];
    int rc = gnutls_pcert_list_import_x509_raw(k->pcert, &n, &cd, GNUTLS_X509_FMT_PEM, 0);
    if (rc >= 0) {
        k->npcert = n;
        rc = gnutls_privkey_init(&k->key);
    }
    if (rc >= 0)
        rc = gnutls_privkey_import_x509_raw(k->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
    /* without client_ca_file_reload the CA never changes: MHD's trust list verifies */
    if (rc >= 0 && m->ca && t->reload.ca_every_ns) {
        gnutls_datum_t ad = {(unsigned char *)m->ca, (unsigned)strlen(m->ca)};
        rc = gnutls_x509_trust_list_init(&k->trust, 0);
        if (rc >= 0)
            rc = gnutls_x509_trust_list_add_trust_mem(k->trust, &ad, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
        if (rc == 0)
            rc = GNUTLS_E_NO_CERTIFICATE_FOUND;
    }
    if (rc < 0) {
        log_warn(t->reload.log_name, "%s: the new certificate set is not usable (%s); still "
                 "serving the previous one", t->reload.where, gnutls_strerror(rc));
        keys_free(k);
        return -1;
    }
    k->older = atomic_load(&t->keys);
    atomic_store(&t->keys, k);
    return 0;
}

/* GnuTLS priorities allowing exactly the versions from min to max (Go's defaults: 1.2, 1.3). */
static void version_priorities(const struct tls_config *b, char *out, size_t len)
{
    static const char *const names[] = {"1.0", "1.1", "1.2", "1.3"};
    static const char *const vers[] = {"+VERS-TLS1.0", "+VERS-TLS1.1", "+VERS-TLS1.2",
                                       "+VERS-TLS1.3"};
    int lo = 2, hi = 3;
    for (int i = 0; i < 4; i++) {
        if (tls_set(b->min_version) && strcmp(b->min_version, names[i]) == 0)
            lo = i;
        if (tls_set(b->max_version) && strcmp(b->max_version, names[i]) == 0)
            hi = i;
    }
    size_t n = (size_t)snprintf(out, len, "NORMAL:-VERS-ALL");
    for (int i = hi; i >= lo && n < len; i--)
        n += (size_t)snprintf(out + n, len - n, ":%s", vers[i]);
}

int mhd_tls_init(struct mhd_tls *t, const struct tls_server_config *cfg, const char *where,
                 const char *log_name, struct error *err)
{
    memset(t, 0, sizeof *t);
    if (tls_reload_init(&t->reload, cfg, where, log_name, err) != 0)
        return -1;
    t->on = true;
    if (tls_reload_check(&t->reload, &t->seen, keys_apply, t) != 1) {
        error_set(err, "%s: GnuTLS refused the certificate or key", where);
        mhd_tls_destroy(t);
        return -1;
    }
    if (t->reload.cur.ca && !(t->client_ca = strdup(t->reload.cur.ca))) {
        error_set(err, "out of memory");
        mhd_tls_destroy(t);
        return -1;
    }
    version_priorities(&cfg->base, t->priorities, sizeof t->priorities);
    return 0;
}

void mhd_tls_destroy(struct mhd_tls *t)
{
    for (struct mhd_tls_keys *k = atomic_load(&t->keys), *next; k; k = next) {
        next = k->older;
        keys_free(k);
    }
    atomic_store(&t->keys, NULL);
    tls_reload_destroy(&t->reload);
    free(t->client_ca);
    t->client_ca = NULL;
    t->on = false;
}

void mhd_tls_add_options(struct mhd_tls *t, struct MHD_OptionItem *opts, size_t *n)
{
    opts[(*n)++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, t->priorities};
    /* MHD then asks every client for a certificate; mhd_tls_verify_client decides */
    if (t->client_ca)
        opts[(*n)++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, t->client_ca};
}

int mhd_tls_cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                          const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                          gnutls_pcert_st **pcert, unsigned int *pcert_length,
                          gnutls_privkey_t *key)
{
    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    struct mhd_tls *t = gnutls_session_get_ptr(session);
    if (!t)
        return -1;
    tls_reload_check(&t->reload, &t->seen, keys_apply, t); /* a failure keeps the old set */
    struct mhd_tls_keys *k = atomic_load(&t->keys);
    if (!k)
        return -1;
    *pcert = k->pcert;
    *pcert_length = k->npcert;
    *key = k->key;
    return 0;
}

void mhd_tls_connection_started(struct mhd_tls *t, struct MHD_Connection *c)
{
    if (!t->on)
        return;
    /* the certificate callback has no argument of its own; MHD does not use the session's user
     * pointer */
    const union MHD_ConnectionInfo *ti = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ti || !ti->tls_session)
        return;
    gnutls_session_t session = (gnutls_session_t)ti->tls_session;
    gnutls_session_set_ptr(session, t);
    /* with a reloaded client CA, the names MHD's trust list would advertise are the first CA's:
     * advertise none, so a client holding a certificate of the new CA still sends it */
    if (t->reload.ca_every_ns)
        gnutls_certificate_send_x509_rdn_sequence(session, 1);
}

bool mhd_tls_client_required(const struct mhd_tls *t)
{
    return t->client_ca != NULL;
}

__attribute__((format(printf, 3, 4)))
static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int mhd_tls_verify_client(struct mhd_tls *t, struct MHD_Connection *c, char *why, size_t whylen)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t tls = ci ? (gnutls_session_t)ci->tls_session : NULL;
    if (!tls)
        return refuse(why, whylen, "a client certificate is required (no TLS session)");
    unsigned int n = 0;
    if (!gnutls_certificate_get_peers(tls, &n) || n == 0)
        return refuse(why, whylen, "a client certificate is required");
    gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
                                     .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT};
    unsigned int status = 0;
    int rc;
    struct mhd_tls_keys *k = t->reload.ca_every_ns ? atomic_load(&t->keys) : NULL;
    if (k && k->trust) { /* client_ca_file_reload: the current CA, not the one MHD loaded */
        const gnutls_datum_t *raw = gnutls_certificate_get_peers(tls, &n);
        gnutls_x509_crt_t crts[16];
        unsigned m = 0;
        rc = 0;
        while (m < n && m < 16 && rc >= 0) {
            if ((rc = gnutls_x509_crt_init(&crts[m])) < 0)
                break;
            if ((rc = gnutls_x509_crt_import(crts[m], &raw[m], GNUTLS_X509_FMT_DER)) < 0)
                gnutls_x509_crt_deinit(crts[m]);
            else
                m++;
        }
        if (rc >= 0)
            rc = gnutls_x509_trust_list_verify_crt2(k->trust, crts, m, &purpose, 1, 0, &status,
                                                    NULL);
        for (unsigned i = 0; i < m; i++)
            gnutls_x509_crt_deinit(crts[i]);
    } else {
        rc = gnutls_certificate_verify_peers(tls, &purpose, 1, &status);
    }
    if (rc < 0)
        return refuse(why, whylen, "client certificate not verified: %s", gnutls_strerror(rc));
    if (status) {
        gnutls_datum_t out = {0};
        if (why && whylen &&
            gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
            refuse(why, whylen, "client certificate not trusted: %s", (const char *)out.data);
            gnutls_free(out.data);
            return -1;
        }
        return refuse(why, whylen, "client certificate not trusted (status 0x%x)", status);
    }
    return 0;
}
