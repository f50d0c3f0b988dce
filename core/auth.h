/* auth.h — authentication between the components that carry requests and the extensions that
 * decide who may send them (the Collector's configauth and extensionauth): a receiver asks a
 * server authenticator "are these headers good?", an exporter asks a client authenticator "which
 * header do I add?".
 *
 * The one idea: core knows two small interfaces and one config section, never an extension. An
 * extension offers an interface by name through its factory (component_factory.provides and
 * .interface); the service resolves `auth.authenticator: ID` to that extension at load (a wrong
 * ID, kind or side is a config error with file:line) and, before the component is created, stores
 * the interface in the component's own bound config (struct auth_config.server / .client), as it
 * does for sending_queue.storage. A component with no authenticator finds NULL there and pays
 * nothing.
 *
 * Thread-safety: both interfaces are called concurrently from request threads; implementations
 * keep their secrets behind their own lock. */
#ifndef LLMOTLP_AUTH_H
#define LLMOTLP_AUTH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "core/config.h"
#include "core/error.h"

/* Names of the interfaces, for component_factory.provides / .interface. */
#define AUTH_SERVER_INTERFACE "auth.server"
#define AUTH_CLIENT_INTERFACE "auth.client"

/* The first value of request header `name` (compared case-insensitively: HTTP header names and
 * gRPC metadata keys, which are lowercase), or NULL when absent. */
typedef const char *(*auth_header_fn)(void *ctx, const char *name);

/* Server side: decides about one request from its headers alone, before any of its body is read.
 * 0 = authenticated; -1 = refused, with `why` (for the log; never the secret itself). */
struct auth_server {
    int (*authenticate)(struct auth_server *self, auth_header_fn get, void *ctx, char *why,
                        size_t why_len);
    /* The value of WWW-Authenticate on an HTTP 401 ("Bearer", "Basic realm=..."). */
    const char *challenge;
};

/* Client side: the header an outgoing request carries. Sets *name (static for the life of the
 * extension, e.g. "Authorization") and *value (malloc'd, the caller frees). 0, or -1 with err
 * (no credential available, e.g. an unreadable token file at start). */
struct auth_client {
    int (*header)(struct auth_client *self, const char **name, char **value, struct error *err);
};

/* The Collector's `auth:` section. `authenticator` names the extension; `request_params` (HTTP
 * servers only, confighttp's AuthConfig) names query parameters that are handed to the
 * authenticator as headers of the same name, the query winning. */
struct auth_config {
    char *authenticator;
    struct config_str_list request_params;
    /* Not config keys: the interface of the extension `authenticator` names, set by the service
     * after load and before the component is created (the side follows the component's kind:
     * receivers get `server`, exporters `client`). NULL when unset or when a test builds the
     * component alone. */
    struct auth_server *server;
    struct auth_client *client;
};

/* `auth:` of a gRPC server and of a client (configauth.Config: authenticator). */
extern const struct config_field auth_config_fields[];
/* `auth:` of an HTTP server (confighttp's AuthConfig: authenticator, request_params). */
extern const struct config_field auth_http_server_config_fields[];

/* Whether two byte strings are equal, in time that depends only on the lengths (never on where
 * they first differ), so a secret cannot be guessed byte by byte from response times. */
bool auth_equal(const void *a, size_t alen, const void *b, size_t blen);

/* A secret kept in a file that an operator (or Kubernetes, by a symlink swap) replaces while
 * llmotlp runs: polled by the requests that need it, at most once per `interval_ns` for the whole
 * process (one caller wins the check), and re-read only when its identity (device, inode, size,
 * mtime, ctime) changed. No thread, no inotify descriptor to re-arm after a rename. */
struct auth_file {
    char *path;
    int64_t interval_ns;
    _Atomic int64_t next_poll_ns;
    pthread_mutex_t mu;                 /* one read at a time; guards the identity below */
    bool have_id;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;
};

/* The content of a file that changed, handed to the reader's `apply` under the file's lock (so
 * two reloads never publish out of order). 0, or -1 with err: the content is refused and the
 * caller keeps what it had. */
typedef int (*auth_file_apply_fn)(void *ctx, const char *text, size_t len, struct error *err);

/* 0, or -1 with err (out of memory). */
int auth_file_init(struct auth_file *f, const char *path, int64_t interval_ns);
void auth_file_destroy(struct auth_file *f);
/* Reads the file and hands it to `apply` if its identity changed since the last read (always
 * when `force`, as at start). 1 = applied, 0 = unchanged, -1 = unreadable or refused by apply
 * (err says which; the identity is remembered all the same when the file could be read, so a
 * bad file is not re-read every interval, and its next change is). The text is wiped after. */
int auth_file_reload(struct auth_file *f, bool force, auth_file_apply_fn apply, void *ctx,
                     struct error *err);
/* On the request path: when the interval has passed, one caller looks at the file
 * (auth_file_reload) while the others that find it due wait for that look to finish, so no
 * request that comes an interval after a change is served what the file held before. Otherwise
 * returns at once (one atomic load). Returns what auth_file_reload returned, 0 when it did not
 * look. */
int auth_file_poll(struct auth_file *f, auth_file_apply_fn apply, void *ctx, struct error *err);

/* Standard base64 (RFC 4648, with padding). encode: malloc'd NUL-terminated text, NULL on OOM.
 * decode: malloc'd bytes (NUL-terminated too, *out_len without it); NULL on bad input or OOM. */
char *auth_base64_encode(const void *data, size_t len);
unsigned char *auth_base64_decode(const char *text, size_t len, size_t *out_len);

#endif
