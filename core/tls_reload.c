/* tls_reload.c — the watched certificate, key and client CA files of a TLS server (tls_reload.h).
 *
 * The one idea: identities are remembered per file as last tried, not as last accepted, so a
 * rotation that writes the certificate first and the key a moment later costs one refused set
 * (warned about) and is picked up whole at the next poll after the key lands; certificate and key
 * are always re-read together, so a half-rotated pair is never served. */
#include "core/tls_reload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>

#include "core/component.h"
#include "core/log.h"

#define WARN_EVERY_NS ((int64_t)10 * 1000000000)

enum { F_CERT, F_KEY, F_CA };

int tls_material_check(const char *cert, const char *key, const char *ca, struct error *err)
{
    gnutls_certificate_credentials_t c;
    if (gnutls_certificate_allocate_credentials(&c) < 0)
        return error_set(err, "out of memory");
    int rc = 0;
    gnutls_datum_t cd = {(unsigned char *)cert, (unsigned)strlen(cert)};
    gnutls_datum_t kd = {(unsigned char *)key, (unsigned)strlen(key)};
    int g = gnutls_certificate_set_x509_key_mem2(c, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (g < 0)
        rc = error_set(err, "certificate or key not usable: %s", gnutls_strerror(g));
    if (rc == 0 && ca) {
        gnutls_datum_t ad = {(unsigned char *)ca, (unsigned)strlen(ca)};
        g = gnutls_certificate_set_x509_trust_mem(c, &ad, GNUTLS_X509_FMT_PEM);
        if (g < 0)
            rc = error_set(err, "client CA not usable: %s", gnutls_strerror(g));
        else if (g == 0)
            rc = error_set(err, "client CA holds no certificate");
    }
    gnutls_certificate_free_credentials(c);
    return rc;
}

static void material_free(struct tls_material *m)
{
    free(m->cert);
    tls_pem_free(m->key);
    free(m->ca);
    memset(m, 0, sizeof *m);
}

static const char *watched_path(const struct tls_reload *r, int f)
{
    const struct tls_server_config *t = r->cfg;
    switch (f) {
    case F_CERT:
        return r->key_every_ns && !tls_set(t->base.cert_pem) && tls_set(t->base.cert_file)
                   ? t->base.cert_file : NULL;
    case F_KEY:
        return r->key_every_ns && !tls_set(t->base.key_pem) && tls_set(t->base.key_file)
                   ? t->base.key_file : NULL;
    default:
        return r->ca_every_ns && tls_set(t->client_ca_file) ? t->client_ca_file : NULL;
    }
}

static int file_id(const char *path, struct tls_file_id *id, struct error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return error_set(err, "cannot read %s: %s", path, strerror(errno));
    *id = (struct tls_file_id){.have = true, .dev = st.st_dev, .ino = st.st_ino,
                               .size = st.st_size, .mtim = st.st_mtim, .ctim = st.st_ctim};
    return 0;
}

static bool id_same(const struct tls_file_id *a, const struct tls_file_id *b)
{
    return a->have && b->have && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
           a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

/* A failed reload is a warning, once per 10 s at most (a file missing for an hour would
 * otherwise warn at every poll); the old set keeps serving. */
static void warn(struct tls_reload *r, const char *msg)
{
    int64_t now = clock_now_ns();
    if (r->last_warn_ns && now - r->last_warn_ns < WARN_EVERY_NS) {
        r->warn_suppressed++;
        return;
    }
    r->last_warn_ns = now;
    if (r->warn_suppressed)
        log_warn(r->log_name, "%s: certificate reload failed, still serving the previous one: %s "
                 "(and %llu more failures since the last warning)", r->where, msg,
                 (unsigned long long)r->warn_suppressed);
    else
        log_warn(r->log_name, "%s: certificate reload failed, still serving the previous one: %s",
                 r->where, msg);
    r->warn_suppressed = 0;
}

/* Under r->mu. */
static void poll_files(struct tls_reload *r)
{
    int64_t now = clock_now_ns();
    bool keys = r->key_every_ns > 0 && now >= r->next_key_poll_ns;
    bool ca = r->ca_every_ns > 0 && now >= r->next_ca_poll_ns;
    if (keys)
        r->next_key_poll_ns = now + r->key_every_ns;
    if (ca)
        r->next_ca_poll_ns = now + r->ca_every_ns;
    if (!keys && !ca)
        return;
    struct tls_file_id ids[3] = {{0}};
    bool changed[3] = {false};
    struct error err = {0};
    for (int f = 0; f < 3; f++) {
        const char *p = watched_path(r, f);
        if (!p || (f == F_CA ? !ca : !keys))
            continue;
        if (file_id(p, &ids[f], &err) != 0) {
            warn(r, err.msg); /* nothing remembered: tried again at the next poll */
            return;
        }
        changed[f] = !id_same(&ids[f], &r->id[f]);
    }
    bool new_keys = changed[F_CERT] || changed[F_KEY];
    if (!new_keys && !changed[F_CA])
        return;
    for (int f = 0; f < 3; f++)
        if (ids[f].have)
            r->id[f] = ids[f];
    const struct tls_server_config *t = r->cfg;
    struct tls_material m = {0};
    if (new_keys) { /* both, always: never a new certificate with the old key */
        m.cert = tls_pem(t->base.cert_pem, t->base.cert_file, &err);
        if (m.cert)
            m.key = tls_pem(t->base.key_pem, t->base.key_file, &err);
    } else {
        m.cert = strdup(r->cur.cert);
        m.key = strdup(r->cur.key);
        if (!m.cert || !m.key)
            error_set(&err, "out of memory");
    }
    if (m.cert && m.key) {
        if (changed[F_CA])
            m.ca = tls_pem(NULL, t->client_ca_file, &err);
        else if (r->cur.ca && !(m.ca = strdup(r->cur.ca)))
            error_set(&err, "out of memory");
    }
    bool read_ok = m.cert && m.key && (m.ca || !tls_set(t->client_ca_file));
    if (!read_ok) {
        if (!err.msg[0])
            error_set(&err, "empty file");
        warn(r, err.msg);
        material_free(&m);
        return;
    }
    if (tls_material_check(m.cert, m.key, m.ca, &err) != 0) {
        warn(r, err.msg);
        material_free(&m);
        return;
    }
    material_free(&r->cur);
    r->cur = m;
    r->generation++;
    log_info(r->log_name, "%s: %s reloaded; new connections use %s", r->where,
             new_keys && changed[F_CA] ? "certificate, key and client CA"
             : new_keys              ? "certificate and key"
                                     : "client CA",
             new_keys ? "it" : "it to verify clients");
}

int tls_reload_init(struct tls_reload *r, const struct tls_server_config *cfg, const char *where,
                    const char *log_name, struct error *err)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->where = where;
    r->log_name = log_name;
    r->key_every_ns = cfg->base.reload_interval > 0 ? cfg->base.reload_interval : 0;
    r->ca_every_ns = cfg->client_ca_file_reload && tls_set(cfg->client_ca_file)
                         ? TLS_RELOAD_CA_POLL_NS : 0;
    pthread_mutex_init(&r->mu, NULL);
    /* identities before contents: a change in between is then seen at the first poll */
    for (int f = 0; f < 3; f++) {
        const char *p = watched_path(r, f);
        if (p && file_id(p, &r->id[f], err) != 0)
            goto fail;
    }
    r->cur.cert = tls_pem(cfg->base.cert_pem, cfg->base.cert_file, err);
    if (!r->cur.cert)
        goto missing;
    r->cur.key = tls_pem(cfg->base.key_pem, cfg->base.key_file, err);
    if (!r->cur.key)
        goto missing;
    r->cur.ca = tls_pem(NULL, cfg->client_ca_file, err);
    if (!r->cur.ca && err->msg[0])
        goto fail;
    if (tls_material_check(r->cur.cert, r->cur.key, r->cur.ca, err) != 0) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        error_set(err, "%s: %s", where, why);
        goto fail;
    }
    int64_t now = clock_now_ns();
    r->next_key_poll_ns = now + r->key_every_ns;
    r->next_ca_poll_ns = now + r->ca_every_ns;
    r->generation = 1;
    return 0;
missing:
    if (!err->msg[0])
        error_set(err, "%s: certificate and key are required", where);
fail:
    tls_reload_destroy(r);
    return -1;
}

void tls_reload_destroy(struct tls_reload *r)
{
    if (!r->cfg)
        return;
    material_free(&r->cur);
    pthread_mutex_destroy(&r->mu);
    r->cfg = NULL;
}

bool tls_reload_watching(const struct tls_reload *r)
{
    return watched_path(r, F_CERT) || watched_path(r, F_KEY) || watched_path(r, F_CA);
}

int tls_reload_check(struct tls_reload *r, uint64_t *seen, tls_reload_apply_fn apply, void *ctx)
{
    pthread_mutex_lock(&r->mu);
    poll_files(r);
    int rc = 0;
    if (*seen != r->generation) {
        rc = apply(ctx, &r->cur) == 0 ? 1 : -1;
        if (rc == 1)
            *seen = r->generation;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}
