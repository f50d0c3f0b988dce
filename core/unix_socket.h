/* unix_socket.h — the socket file of a listener on `transport: unix` (the otlp receiver's gRPC
 * and HTTP servers): made at start, a stale one replaced, removed at shutdown.
 *
 * The Collector's listeners (Go's net.Listen("unix")) remove the socket file when they close; a
 * file left by a process that died is refused by Go itself ("address already in use") and
 * replaced by gRPC core and by newer Collectors. We replace it too, but only once a connect()
 * proves that nobody serves it: a live socket of another process is an error, never stolen,
 * and a path that is not a socket is never removed.
 *
 * Functions are reentrant; the caller owns the struct unix_socket it passes. Errors are
 * returned in struct error ("cannot listen on unix socket <path>: <why>"), never printed. */
#ifndef LLMOTLP_UNIX_SOCKET_H
#define LLMOTLP_UNIX_SOCKET_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/error.h"

/* The socket file a listener made: removed at close only while the path still names it (a
 * newer process may have replaced it meanwhile). */
struct unix_socket {
    char *path;        /* malloc'd; NULL = nothing to remove */
    dev_t dev;
    ino_t ino;
};

/* Longest socket path accepted (sun_path less its terminating NUL). */
#define UNIX_SOCKET_PATH_MAX 107

/* Checks `path` as a socket path for config validation: not empty and short enough. 0, or -1
 * with err ("socket path is 130 bytes long; at most 107 fit in a Unix socket address"). */
int unix_socket_check_path(const char *path, struct error *err);

/* Makes `path` free for a new listener: nothing there is fine; a socket nobody accepts on
 * (connect refused) is removed; a socket with a listener, or anything that is not a socket, is
 * an error that says which. 0 or -1 with err. */
int unix_socket_clear_stale(const char *path, struct error *err);

/* unix_socket_clear_stale, then socket + bind + listen (non-blocking, close-on-exec). The
 * file's mode is 0777 less the umask, as Go makes it. Returns the listening descriptor and
 * fills *out (the caller frees it with unix_socket_remove), or -1 with err. */
int unix_socket_listen(const char *path, int backlog, struct unix_socket *out, struct error *err);

/* Records the socket file now at `path` (made by someone else, e.g. gRPC core) as ours, for
 * unix_socket_remove. 0, or -1 when there is no socket there. */
int unix_socket_adopt(const char *path, struct unix_socket *out);

/* Removes the socket file if the path still names the one recorded in *s, and frees s->path.
 * Safe to call twice and on a zeroed struct. */
void unix_socket_remove(struct unix_socket *s);

#endif
