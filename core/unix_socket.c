/* unix_socket.c — socket files of `transport: unix` listeners (see unix_socket.h).
 *
 * The one idea: a socket file is judged by what answers on it, not by its existence. A
 * non-blocking connect() tells a live listener (accepted, or EAGAIN with a full backlog) from a
 * stale file (ECONNREFUSED) at once, so a restart after a crash needs no manual cleanup and a
 * second instance on the same path fails loudly instead of taking the socket over. The device
 * and inode recorded at bind let shutdown remove only the file it made. */
#include "core/unix_socket.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

int unix_socket_check_path(const char *path, struct error *err)
{
    if (!path || !*path)
        return error_set(err, "the socket path is empty");
    size_t n = strlen(path);
    if (n > UNIX_SOCKET_PATH_MAX)
        return error_set(err, "socket path '%s' is %zu bytes long; at most %d fit in a Unix "
                         "socket address", path, n, UNIX_SOCKET_PATH_MAX);
    return 0;
}

static void fill_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path, path, strlen(path));
}

int unix_socket_clear_stale(const char *path, struct error *err)
{
    if (unix_socket_check_path(path, err) != 0) {
        error_prefix(err, "cannot listen on unix socket: ");
        return -1;
    }
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return error_set(err, "cannot listen on unix socket %s: %s", path, strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode))
        return error_set(err, "cannot listen on unix socket %s: the path exists and is not a "
                         "socket (not removed)", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return error_set(err, "cannot listen on unix socket %s: %s", path, strerror(errno));
    struct sockaddr_un a;
    fill_addr(&a, path);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
        return error_set(err, "cannot listen on unix socket %s: address in use (another "
                         "process serves it)", path);
    if (e != ECONNREFUSED)
        return error_set(err, "cannot listen on unix socket %s: cannot tell whether the "
                         "existing socket is stale: %s", path, strerror(e));
    /* Stale: the process that made it is gone. */
    if (unlink(path) != 0 && errno != ENOENT)
        return error_set(err, "cannot listen on unix socket %s: cannot remove the stale socket: "
                         "%s", path, strerror(errno));
    return 0;
}

int unix_socket_adopt(const char *path, struct unix_socket *out)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (!path || lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
        return -1;
    if (!(out->path = strdup(path)))
        return -1;
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    return 0;
}

int unix_socket_listen(const char *path, int backlog, struct unix_socket *out, struct error *err)
{
    memset(out, 0, sizeof *out);
    if (unix_socket_clear_stale(path, err) != 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_set(err, "cannot listen on unix socket %s: %s", path, strerror(errno));
        return -1;
    }
    struct sockaddr_un a;
    fill_addr(&a, path);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        error_set(err, "cannot listen on unix socket %s: %s", path,
                  e == EADDRINUSE ? "address in use" : strerror(e));
        return -1;
    }
    bool adopted = unix_socket_adopt(path, out) == 0;
    if (!adopted || listen(fd, backlog) != 0) {
        int e = adopted ? errno : ENOMEM;
        close(fd);
        if (adopted)
            unix_socket_remove(out);
        else
            unlink(path); /* bound just now, by us */
        error_set(err, "cannot listen on unix socket %s: %s", path, strerror(e));
        return -1;
    }
    return fd;
}

void unix_socket_remove(struct unix_socket *s)
{
    if (!s || !s->path)
        return;
    struct stat st;
    if (lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == s->dev &&
        st.st_ino == s->ino)
        unlink(s->path);
    free(s->path);
    s->path = NULL;
}
