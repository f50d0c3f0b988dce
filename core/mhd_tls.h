/* mhd_tls.h — server TLS for our libmicrohttpd (GnuTLS) servers, the OTLP/HTTP receiver and the
 * admin HTTP server: the certificate set re-read as core/tls_reload.h says, the versions, and the
 * client certificate that a client CA requires.
 *
 * The one idea: MHD loads no certificate of its own. GnuTLS asks for one at every handshake
 * through a certificate callback, which finds this state through the session's user pointer (set
 * when MHD reports the connection, before the handshake) and answers from the set current at that
 * moment. MHD is only given the version priorities and, with a client CA, a trust list, which
 * makes it ask clients for a certificate; whether that certificate is good is decided per request
 * by mhd_tls_verify_client, against the current client CA.
 *
 * Usage: mhd_tls_init before the daemon starts; mhd_tls_add_options and mhd_tls_cert_callback
 * (passed after an MHD_OPTION_ARRAY as MHD_OPTION_HTTPS_CERT_CALLBACK) when it starts, with
 * MHD_USE_TLS; mhd_tls_connection_started from MHD_OPTION_NOTIFY_CONNECTION at
 * MHD_CONNECTION_NOTIFY_STARTED; mhd_tls_destroy after MHD_stop_daemon.
 *
 * Thread-safety: init and destroy are single-threaded (no daemon running). Everything else may
 * run on any of MHD's threads at once: the certificate callback polls and rebuilds under the
 * tls_reload lock, and the current set is an atomic pointer. A replaced set is retired, not
 * freed, because GnuTLS keeps using what the callback returned for the whole session: retired
 * sets are freed by mhd_tls_destroy (a few KiB per change of the files, which is rare). */
#ifndef LLMOTLP_MHD_TLS_H
#define LLMOTLP_MHD_TLS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "core/error.h"
#include "core/tls_config.h"
#include "core/tls_reload.h"

struct mhd_tls_keys; /* one certificate set in GnuTLS form (mhd_tls.c) */

/* Embedded in its server. All zero (calloc) is a valid "TLS off" state: every call below is then
 * a no-op or says no client certificate is required. */
struct mhd_tls {
    bool on;                              /* mhd_tls_init succeeded */
    struct tls_reload reload;             /* the watched files; messages use its where/log_name */
    uint64_t seen;                        /* generation `keys` was built from; under reload.mu */
    _Atomic(struct mhd_tls_keys *) keys;  /* the set served now; older ones chained behind it */
    char *client_ca;                      /* MHD's trust list, our copy (MHD may keep the
                                             pointer); NULL = no client certificate required */
    char priorities[128];                 /* GnuTLS priorities: the allowed versions */
};

/* Reads, checks and builds the first set from cfg (borrowed; must outlive t), so a bad file fails
 * the start. where names the section in messages ("protocols.http.tls"), log_name the owner in
 * log lines; both borrowed, must outlive t. The versions allowed are min_version..max_version
 * (default 1.2 and 1.3); the caller validated cfg (unknown version names are ignored here).
 * client_ca_file_reload makes the client CA current per mhd_tls_verify_client, and MHD then
 * advertises no CA names (they would be the first CA's).
 * 0, or -1 with err ("<where>: GnuTLS refused the certificate or key", the file errors of
 * tls_reload_init, "out of memory"); on failure t is left as after mhd_tls_destroy. */
int mhd_tls_init(struct mhd_tls *t, const struct tls_server_config *cfg, const char *where,
                 const char *log_name, struct error *err);

/* Frees every set, current and retired. Only after the daemon stopped. Safe on a zeroed t and
 * twice. */
void mhd_tls_destroy(struct mhd_tls *t);

/* Appends MHD_OPTION_HTTPS_PRIORITIES and, with a client CA, MHD_OPTION_HTTPS_MEM_TRUST to
 * opts[*n..]; the caller leaves room for 2. The pointers stay t's. */
void mhd_tls_add_options(struct mhd_tls *t, struct MHD_OptionItem *opts, size_t *n);

/* MHD_OPTION_HTTPS_CERT_CALLBACK (a gnutls_certificate_retrieve_function2): polls the watched
 * files when due (a new set that GnuTLS refuses is warned about, the previous one keeps
 * serving), then serves the current set. -1 (handshake fails) for a session that
 * mhd_tls_connection_started did not mark. */
int mhd_tls_cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                          const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                          gnutls_pcert_st **pcert, unsigned int *pcert_length,
                          gnutls_privkey_t *key);

/* At MHD_CONNECTION_NOTIFY_STARTED (MHD has made the session and not yet begun the handshake):
 * points the session at t for the certificate callback. No-op when TLS is off. */
void mhd_tls_connection_started(struct mhd_tls *t, struct MHD_Connection *c);

/* Whether a client CA is configured, so every request needs a verified client certificate. */
bool mhd_tls_client_required(const struct mhd_tls *t);

/* The connection's client certificate verified against the client CA (chain, validity dates and
 * the TLS client purpose when the certificate names purposes, as Go's
 * RequireAndVerifyClientCert): with client_ca_file_reload the CA current now, else the one MHD
 * loaded at start. 0 when fine, else -1 with why (a sentence for the client and the log; why may
 * be NULL). */
int mhd_tls_verify_client(struct mhd_tls *t, struct MHD_Connection *c, char *why, size_t whylen);

#endif
