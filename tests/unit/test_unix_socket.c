/* test_unix_socket.c — the socket file rules of `transport: unix` listeners (core/unix_socket.c):
 * a stale socket is replaced, a live one or a non-socket is refused and left alone, the file is
 * removed at close only while it is still the one made, and too long a path is a config error.
 * The idea: each case builds the file system state by hand (a socket bound and closed without
 * removal is exactly what a killed process leaves) in a fresh directory, then checks both the
 * answer and what is left on disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cmocka.h>

#include "core/service.h"
#include "core/unix_socket.h"
#include "tests/unit/testutil.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/llmotlp-us-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A path in the test's directory; a few live at once (static ring of buffers). */
static const char *at(const char *name)
{
    static char ring[4][128];
    static unsigned next;
    char *p = ring[next++ % 4];
    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

static bool is_socket(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* What a killed process leaves: a socket file with no listener. */
static void make_stale(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof a.sun_path);
    memcpy(a.sun_path, path, strlen(path));
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    close(fd);
    assert_true(is_socket(path));
}

static bool can_connect(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof a.sun_path);
    memcpy(a.sun_path, path, strlen(path));
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void test_listen_and_remove(void **state)
{
    (void)state;
    const char *p = at("a.sock");
    struct unix_socket f;
    struct error err = {0};
    int fd = unix_socket_listen(p, 8, &f, &err);
    assert_true(fd >= 0);
    assert_true(is_socket(p));
    assert_true(can_connect(p));
    close(fd);
    unix_socket_remove(&f);
    assert_false(exists(p));
    assert_null(f.path);
    unix_socket_remove(&f); /* twice is harmless */
}

static void test_stale_socket_is_replaced(void **state)
{
    (void)state;
    const char *p = at("stale.sock");
    make_stale(p);
    assert_false(can_connect(p));
    struct unix_socket f;
    struct error err = {0};
    int fd = unix_socket_listen(p, 8, &f, &err);
    assert_true(fd >= 0);
    assert_true(can_connect(p)); /* the new listener serves the same path */
    close(fd);
    unix_socket_remove(&f);
    assert_false(exists(p));
}

static void test_live_socket_is_refused(void **state)
{
    (void)state;
    const char *p = at("live.sock");
    struct unix_socket first;
    struct error err = {0};
    int fd = unix_socket_listen(p, 8, &first, &err);
    assert_true(fd >= 0);
    struct unix_socket second;
    assert_int_equal(unix_socket_listen(p, 8, &second, &err), -1);
    assert_non_null(strstr(err.msg, "address in use"));
    assert_non_null(strstr(err.msg, p));
    assert_true(can_connect(p)); /* the first one still serves */
    assert_int_equal(unix_socket_clear_stale(p, &err), -1);
    close(fd);
    unix_socket_remove(&first);
}

static void test_regular_file_is_never_removed(void **state)
{
    (void)state;
    const char *p = at("data.txt");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("keep me", f);
    fclose(f);
    struct unix_socket s;
    struct error err = {0};
    assert_int_equal(unix_socket_listen(p, 8, &s, &err), -1);
    assert_non_null(strstr(err.msg, "not a socket"));
    assert_true(exists(p));
    assert_false(is_socket(p));
}

static void test_replaced_file_is_not_removed(void **state)
{
    (void)state;
    const char *p = at("moved.sock");
    struct unix_socket f;
    struct error err = {0};
    int fd = unix_socket_listen(p, 8, &f, &err);
    assert_true(fd >= 0);
    close(fd);
    /* another instance took the path over; our file still exists elsewhere, so the two are
     * surely distinct inodes */
    assert_int_equal(rename(p, at("old.sock")), 0);
    struct unix_socket other;
    int fd2 = unix_socket_listen(p, 8, &other, &err);
    assert_true(fd2 >= 0);
    unix_socket_remove(&f); /* ours is gone: theirs stays */
    assert_true(can_connect(p));
    close(fd2);
    unix_socket_remove(&other);
    assert_false(exists(p));
}

static void test_nothing_there_and_bad_paths(void **state)
{
    (void)state;
    struct error err = {0};
    assert_int_equal(unix_socket_clear_stale(at("none.sock"), &err), 0);
    char longp[200];
    memset(longp, 'x', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    assert_int_equal(unix_socket_check_path(longp, &err), -1);
    assert_non_null(strstr(err.msg, "at most 107"));
    assert_int_equal(unix_socket_check_path("", &err), -1);
    assert_int_equal(unix_socket_check_path(at("ok.sock"), &err), 0);
    struct unix_socket s;
    assert_int_equal(unix_socket_listen(longp, 8, &s, &err), -1);
    /* a directory that does not exist: the bind fails with the reason */
    assert_int_equal(unix_socket_listen("/nonexistent-dir/x.sock", 8, &s, &err), -1);
    assert_non_null(strstr(err.msg, "No such file"));
    assert_int_equal(unix_socket_adopt(at("none.sock"), &s), -1);
}

/* The receiver's transport key, as config: the Collector's stream networks only, a socket path
 * that fits, and tcp4/tcp6 on gRPC (which gRPC core cannot honour) said to have no effect. */
#define RX(proto, keys)                                                                          \
    "receivers:\n  otlp:\n    protocols:\n      " proto ": {" keys "}\n"                        \
    "exporters:\n  debug:\nservice:\n  pipelines:\n"                                           \
    "    traces: {receivers: [otlp], exporters: [debug]}\n"

static void test_transport_config(void **state)
{
    (void)state;
    tu_load_fails(RX("http", "transport: udp"),
               "protocols.http.transport: \"udp\" is not supported; expected tcp, tcp4, tcp6 or unix");
    tu_load_fails(RX("grpc", "transport: unixgram, endpoint: /tmp/x.sock"),
               "protocols.grpc.transport: \"unixgram\" is not supported");
    char yaml[1024], longp[160];
    memset(longp, 'p', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    snprintf(yaml, sizeof yaml, RX("http", "transport: unix, endpoint: %s"), longp);
    tu_load_fails(yaml, "protocols.http.endpoint: socket path");
    struct error err = {0};
    struct service *s = service_load_string(RX("grpc", "transport: tcp6, endpoint: \"[::1]:0\""), &err);
    if (!s)
        fail_msg("load: %s", err.msg);
    assert_int_equal(service_warning_count(s), 1);
    assert_non_null(strstr(service_warning(s, 0), "protocols.grpc.transport: \"tcp6\" has no effect"));
    service_free(s);
    s = service_load_string(RX("http", "transport: tcp6, endpoint: \"[::1]:0\""), &err);
    if (!s)
        fail_msg("load: %s", err.msg);
    assert_int_equal(service_warning_count(s), 0); /* honoured on HTTP */
    service_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_listen_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_socket_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_socket_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regular_file_is_never_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replaced_file_is_not_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_there_and_bad_paths, setup, teardown),
        cmocka_unit_test(test_transport_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
