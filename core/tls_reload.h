/* tls_reload.h — a TLS server's certificate, key and client CA, re-read when their files change:
 * the configtls keys reload_interval (certificate and key) and client_ca_file_reload (client CA).
 *
 * The one idea: the TLS stack asks at every new handshake (gRPC core's certificate config
 * fetcher, GnuTLS's certificate callback under MHD), and the answer comes from memory except when
 * a poll is due (certificate and key: once per reload_interval; client CA: once a second). A due
 * poll stats the watched files and, only when one's identity (device, inode, size, mtime, ctime)
 * changed, reads the whole set and checks it with GnuTLS (the key matches the certificate, the CA
 * holds a certificate) before it becomes current. A set that fails keeps the old one serving, is
 * warned about (rate-limited), and is remembered as tried, so it is not re-read at every poll;
 * its next change is. No thread and no inotify descriptor: a Kubernetes symlink swap is a change
 * of identity like any other.
 *
 * Thread-safe: every call takes the watch's lock (a handshake costs far more than that). */
#ifndef LLMOTLP_TLS_RELOAD_H
#define LLMOTLP_TLS_RELOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "core/error.h"
#include "core/tls_config.h"

/* How often the client CA file is polled with client_ca_file_reload (the Collector watches it
 * with fsnotify, so a change should show within about this). */
#define TLS_RELOAD_CA_POLL_NS ((int64_t)1000000000)

/* One consistent set, never changed once current: PEM text, NUL-terminated. */
struct tls_material {
    char *cert, *key;
    char *ca;                     /* client CA; NULL = none */
};

struct tls_file_id {
    bool have;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;
};

struct tls_reload {
    const struct tls_server_config *cfg;
    const char *where;            /* "protocols.grpc.tls", for messages */
    const char *log_name;
    int64_t key_every_ns;         /* 0 = certificate and key read once */
    int64_t ca_every_ns;          /* 0 = client CA read once */
    pthread_mutex_t mu;
    int64_t next_key_poll_ns, next_ca_poll_ns;
    struct tls_file_id id[3];     /* cert, key, CA files as last read (tried) */
    struct tls_material cur;
    uint64_t generation;          /* 1 after init; +1 per set that became current */
    int64_t last_warn_ns;
    uint64_t warn_suppressed;
};

/* Reads and checks the first set: 0, or -1 with err (start fails, as without reloading). */
int tls_reload_init(struct tls_reload *r, const struct tls_server_config *cfg, const char *where,
                    const char *log_name, struct error *err);
void tls_reload_destroy(struct tls_reload *r);

/* Whether anything is watched at all (reload_interval > 0 with a file, or client_ca_file_reload). */
bool tls_reload_watching(const struct tls_reload *r);

/* What the stack does with a set that became current since it last looked: build its own
 * objects from it. Runs under the watch's lock. 0, or -1 (the stack keeps what it had, and is
 * offered the same set again at the next call). */
typedef int (*tls_reload_apply_fn)(void *ctx, const struct tls_material *m);

/* At a handshake: polls when due, then, if the current set is newer than *seen, hands it to
 * `apply` and on success sets *seen to its generation. 1 = applied, 0 = nothing new, -1 = apply
 * failed. *seen starts at 0, so the first call always applies the set read by init. */
int tls_reload_check(struct tls_reload *r, uint64_t *seen, tls_reload_apply_fn apply, void *ctx);

/* Checks a set as a TLS server would load it: the certificate chain and key parse and match, the
 * CA (when not NULL) holds at least one certificate. 0, or -1 with err. */
int tls_material_check(const char *cert, const char *key, const char *ca, struct error *err);

#endif
