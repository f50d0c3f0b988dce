/* test_file_storage.c — the file_storage extension and how the service wires it to exporters:
 * client names as the Collector builds them, the directory checks of validate and start
 * (missing, not a directory, create_directory with its mode), atomic values (put/get/list,
 * leftover temporary files, values set aside), the lock between two holders, and
 * sending_queue.storage references checked with the position of the `storage` key. A service
 * started from YAML with a persistent otlp exporter to a dead port keeps what it accepted on disk
 * across its shutdown deadline, and the next service on the same directory finds it.
 * The idea: everything is observed from outside — files in a temporary directory, error texts
 * with positions, and the counters the service registers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/component.h"
#include "core/config.h"
#include "core/log.h"
#include "core/service.h"
#include "core/telemetry.h"
#include "extensions/file_storage/file_storage.h"
#include "testutil.h"

/* ---- helpers --------------------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void temp_dir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/llmotlp-fs-XXXXXX");
    assert_non_null(mkdtemp(buf));
}

/* The extension bound from YAML: validate's answer, and the instance when asked to start. */
struct ext {
    const struct component_factory *f;
    struct cnode *tree;
    void *cfg;
    void *fs;
};

/* Binds and validates; 0 or -1 with err. Call ext_close either way. */
static int ext_bind(struct ext *e, const char *yaml, struct error *err)
{
    memset(e, 0, sizeof *e);
    e->f = component_find(COMPONENT_EXTENSION, "file_storage");
    assert_non_null(e->f);
    e->tree = config_parse_string(yaml, "fs.yaml", err);
    assert_non_null(e->tree);
    e->cfg = calloc(1, e->f->config_size);
    if (config_bind(e->f->fields, e->tree, e->cfg, err) != 0)
        return -1;
    return e->f->validate(e->cfg, err);
}

/* Creates and starts; 0 or -1 with err. */
static int ext_start(struct ext *e, struct error *err)
{
    struct component_env env = {.id = "file_storage", .log_name = "extension/file_storage"};
    e->fs = e->f->create(e->cfg, &env, err);
    assert_non_null(e->fs);
    return e->f->start(e->fs, err);
}

static void ext_close(struct ext *e)
{
    if (e->fs)
        e->f->destroy(e->fs);
    config_free_bound(e->f->fields, e->cfg);
    free(e->cfg);
    cnode_free(e->tree);
}

static void ext_open(struct ext *e, const char *dir, const char *extra)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml, "directory: %s\n%s", dir, extra ? extra : "");
    struct error err = {0};
    if (ext_bind(e, yaml, &err) != 0 || ext_start(e, &err) != 0)
        fail_msg("file_storage: %s", err.msg);
}

static void assert_contains(const char *s, const char *frag)
{
    if (!strstr(s, frag))
        fail_msg("\"%s\" lacks \"%s\"", s, frag);
}

static int count_suffix(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    size_t sl = strlen(suffix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > sl && strcmp(e->d_name + l - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* ---- names ----------------------------------------------------------------------------------- */

static void test_client_names(void **state)
{
    (void)state;
    char buf[256];
    assert_string_equal(file_storage_client_name("exporter", "otlp", "traces", buf, sizeof buf),
                        "exporter_otlp__traces");
    assert_string_equal(file_storage_client_name("exporter", "otlp/backup", "logs", buf,
                                                 sizeof buf),
                        "exporter_otlp_backup_logs");
    assert_string_equal(file_storage_client_name("exporter", "otlphttp/a/b", "metrics", buf,
                                                 sizeof buf),
                        "exporter_otlphttp_a~002Fb_metrics");
    assert_string_equal(file_storage_client_name("receiver", "filelog/x~y", NULL, buf, sizeof buf),
                        "receiver_filelog_x~007Ey");
    assert_string_equal(file_storage_client_name("exporter", "otlp", "", buf, sizeof buf),
                        "exporter_otlp_");
    assert_string_equal(file_storage_client_name("exporter", "otlp/caf\xc3\xa9 1", NULL, buf,
                                                 sizeof buf),
                        "exporter_otlp_caf~00E9~00201");
    assert_string_equal(file_storage_client_name("exporter", "otlp/\xff", NULL, buf, sizeof buf),
                        "exporter_otlp_~FFFD");
    assert_string_equal(file_storage_client_name("exporter", "otlp/\xf0\x9f\x98\x80", NULL, buf,
                                                 sizeof buf),
                        "exporter_otlp_~1F600");
    char small[8];
    file_storage_client_name("exporter", "otlp", "traces", small, sizeof small);
    assert_string_equal(small, "exporte");
}

/* ---- directory ------------------------------------------------------------------------------- */

static void test_directory_checks(void **state)
{
    (void)state;
    char dir[64], yaml[512];
    temp_dir(dir, sizeof dir);
    struct ext e;
    struct error err = {0};

    /* the Collector's keys, defaults included */
    snprintf(yaml, sizeof yaml,
             "directory: %s\ntimeout: 1s\nfsync: true\ncreate_directory: false\n"
             "compaction: {on_start: true, directory: /tmp, max_transaction_size: 65536}\n",
             dir);
    assert_int_equal(ext_bind(&e, yaml, &err), 0);
    assert_int_equal(ext_start(&e, &err), 0);
    assert_string_equal(file_storage_directory(e.fs), dir);
    assert_true(file_storage_fsync(e.fs));
    ext_close(&e);

    /* default directory is ours */
    assert_int_equal(ext_bind(&e, "create_directory: true\n", &err), 0);
    ext_close(&e);
    assert_string_equal(FILE_STORAGE_DEFAULT_DIR, "/var/lib/llmotlp/file_storage");

    /* missing, not to be created: a config error naming the directory and the way out */
    snprintf(yaml, sizeof yaml, "directory: %s/missing\n", dir);
    assert_int_equal(ext_bind(&e, yaml, &err), -1);
    assert_contains(err.msg, "missing does not exist");
    assert_contains(err.msg, "create_directory: true");
    ext_close(&e);

    /* a file where the directory should be */
    char file[128];
    snprintf(file, sizeof file, "%s/plain", dir);
    FILE *fp = fopen(file, "w");
    fclose(fp);
    snprintf(yaml, sizeof yaml, "directory: %s\n", file);
    assert_int_equal(ext_bind(&e, yaml, &err), -1);
    assert_contains(err.msg, "is not a directory");
    ext_close(&e);

    /* bad mode */
    snprintf(yaml, sizeof yaml, "directory: %s/x\ncreate_directory: true\n"
                                "directory_permissions: \"0abc\"\n", dir);
    assert_int_equal(ext_bind(&e, yaml, &err), -1);
    assert_contains(err.msg, "directory_permissions");
    ext_close(&e);

    /* an unknown key is refused with the known ones */
    snprintf(yaml, sizeof yaml, "directory: %s\ndirectroy: /x\n", dir);
    assert_int_equal(ext_bind(&e, yaml, &err), -1);
    assert_contains(err.msg, "fs.yaml:2:1");
    assert_contains(err.msg, "create_directory");
    ext_close(&e);

    /* create_directory: mkdir -p at start, 0750 unless told otherwise */
    mode_t old = umask(022);
    snprintf(yaml, sizeof yaml, "directory: %s/a/b/c\ncreate_directory: true\n", dir);
    assert_int_equal(ext_bind(&e, yaml, &err), 0);
    assert_int_equal(ext_start(&e, &err), 0);
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0750);
    ext_close(&e);
    snprintf(yaml, sizeof yaml, "directory: %s/d\ncreate_directory: true\n"
                                "directory_permissions: \"0700\"\n", dir);
    assert_int_equal(ext_bind(&e, yaml, &err), 0);
    assert_int_equal(ext_start(&e, &err), 0);
    snprintf(path, sizeof path, "%s/d", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    ext_close(&e);
    umask(old);

    /* removed between validate and start: start says so */
    snprintf(yaml, sizeof yaml, "directory: %s/gone\n", dir);
    snprintf(path, sizeof path, "%s/gone", dir);
    assert_int_equal(mkdir(path, 0750), 0);
    assert_int_equal(ext_bind(&e, yaml, &err), 0);
    rmdir(path);
    assert_int_equal(ext_start(&e, &err), -1);
    assert_contains(err.msg, "gone");
    ext_close(&e);
    rm_rf(dir);
}

/* ---- values ---------------------------------------------------------------------------------- */

static void test_values(void **state)
{
    (void)state;
    char dir[64];
    temp_dir(dir, sizeof dir);
    struct ext e;
    ext_open(&e, dir, "fsync: true\n");
    struct error err = {0};
    struct file_storage_client *c =
        file_storage_client_new(e.fs, "exporter", "otlp/q", "logs", &err);
    assert_non_null(c);
    char want[128];
    snprintf(want, sizeof want, "%s/exporter_otlp_q_logs", dir);
    assert_string_equal(file_storage_client_path(c), want);

    /* no directory yet: nothing stored, nothing made */
    char **names, **aside;
    size_t n, na;
    assert_int_equal(file_storage_list(c, &names, &n, &aside, &na, &err), 0);
    assert_int_equal(n, 0);
    struct stat st;
    assert_int_equal(stat(want, &st), -1);

    struct iovec iov[2] = {{.iov_base = "head-", .iov_len = 5}, {.iov_base = "tail", .iov_len = 4}};
    assert_int_equal(file_storage_put(c, "a", iov, 2, &err), 0);
    assert_int_equal(stat(want, &st), 0);
    assert_int_equal(st.st_mode & 0777 & ~0027, 0750 & ~0027);
    assert_int_equal(file_storage_put(c, "b", iov + 1, 1, &err), 0);
    uint8_t *data;
    size_t len;
    assert_int_equal(file_storage_get(c, "a", &data, &len, &err), 0);
    assert_int_equal(len, 9);
    assert_memory_equal(data, "head-tail", 9);
    free(data);
    /* replacing a value */
    assert_int_equal(file_storage_put(c, "a", iov, 1, &err), 0);
    assert_int_equal(file_storage_get(c, "a", &data, &len, &err), 0);
    assert_int_equal(len, 5);
    free(data);
    assert_int_equal(count_suffix(want, ".tmp"), 0);

    /* an interrupted put's temp file goes at the next list; a value set aside is listed apart */
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s/c.tmp", want);
    FILE *fp = fopen(tmp, "w");
    fputs("half", fp);
    fclose(fp);
    assert_int_equal(file_storage_set_aside(c, "b", &err), 0);
    assert_int_equal(file_storage_list(c, &names, &n, &aside, &na, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "a");
    assert_int_equal(na, 1);
    assert_string_equal(aside[0], "b.corrupt");
    file_storage_names_free(names, n);
    file_storage_names_free(aside, na);
    assert_int_equal(access(tmp, F_OK), -1);

    assert_int_equal(file_storage_delete(c, "a", &err), 0);
    assert_int_equal(file_storage_delete(c, "a", &err), 0); /* absent: fine */
    assert_int_equal(file_storage_get(c, "a", &data, &len, &err), -1);
    assert_int_equal(err.code, ENOENT);
    assert_int_equal(file_storage_list(c, &names, &n, NULL, NULL, &err), 0);
    assert_int_equal(n, 0);
    file_storage_names_free(names, n);

    /* a put that cannot write leaves nothing under its name */
    assert_int_equal(chmod(want, 0500), 0);
    if (access(want, W_OK) != 0) { /* root writes anyway; then this case cannot be made */
        assert_int_equal(file_storage_put(c, "z", iov, 2, &err), -1);
        assert_contains(err.msg, "z.tmp");
    }
    assert_int_equal(chmod(want, 0750), 0);
    file_storage_client_free(c);
    ext_close(&e);
    rm_rf(dir);
}

static void test_lock(void **state)
{
    (void)state;
    char dir[64];
    temp_dir(dir, sizeof dir);
    struct ext e;
    ext_open(&e, dir, "timeout: 0s\n");
    struct error err = {0};
    int a = file_storage_lock(e.fs, "exporter", "otlp/x", &err);
    assert_true(a >= 0);
    char path[128];
    snprintf(path, sizeof path, "%s/exporter_otlp_x.lock", dir);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(file_storage_lock(e.fs, "exporter", "otlp/x", &err), -1);
    assert_contains(err.msg, "locked by another process");
    int other = file_storage_lock(e.fs, "exporter", "otlp/y", &err); /* another component */
    assert_true(other >= 0);
    file_storage_unlock(a);
    int b = file_storage_lock(e.fs, "exporter", "otlp/x", &err);
    assert_true(b >= 0);
    file_storage_unlock(b);
    file_storage_unlock(other);
    ext_close(&e);
    rm_rf(dir);
}

/* ---- the service ----------------------------------------------------------------------------- */

#define RECEIVER                                                                                 \
    "receivers:\n"                                                                               \
    "  otlp:\n"                                                                                  \
    "    protocols:\n"                                                                           \
    "      grpc:\n"                                                                              \
    "        endpoint: 127.0.0.1:0\n"

/* Lines 1-5 are RECEIVER; the storage key of the exporter is on line 10, column 26 for otlp. */
static const char *service_yaml(char *buf, size_t len, const char *dir, const char *exporter,
                                const char *storage, const char *service_extensions)
{
    snprintf(buf, len,
             RECEIVER
             "extensions:\n"                                          /* 6 */
             "  file_storage: {directory: %s}\n"                      /* 7 */
             "  health_check: {endpoint: 127.0.0.1:0}\n"              /* 8 */
             "exporters:\n"                                           /* 9 */
             "  %s: {sending_queue: {storage: %s}, endpoint: %s,\n"   /* 10 */
             "         retry_on_failure: {initial_interval: 20ms, max_interval: 20ms},\n"
             "         timeout: 200ms}\n"
             "service:\n"
             "  extensions: %s\n"
             "  telemetry: {metrics: {level: none}, logs: {level: error}}\n"
             "  pipelines:\n"
             "    traces: {receivers: [otlp], exporters: [%s]}\n"
             "    logs: {receivers: [otlp], exporters: [%s]}\n",
             dir, exporter, storage,
             strcmp(exporter, "otlp") == 0 ? "127.0.0.1:1" : "http://127.0.0.1:1",
             service_extensions, exporter, exporter);
    return buf;
}

static void load_fails(const char *yaml, ...)
{
    struct error err = {0};
    struct service *s = service_load_string(yaml, &err);
    if (s) {
        service_free(s);
        fail_msg("config should be rejected:\n%s", yaml);
    }
    va_list ap;
    va_start(ap, yaml);
    for (const char *frag; (frag = va_arg(ap, const char *)) != NULL;)
        assert_contains(err.msg, frag);
    va_end(ap);
}

static void test_service_storage_refs(void **state)
{
    (void)state;
    char dir[64], yaml[2048];
    temp_dir(dir, sizeof dir);
    struct error err = {0};

    struct service *s = service_load_string(
        service_yaml(yaml, sizeof yaml, dir, "otlp", "file_storage", "[file_storage]"), &err);
    if (!s)
        fail_msg("should load: %s", err.msg);
    service_free(s);

    load_fails(service_yaml(yaml, sizeof yaml, dir, "otlp", "file_storage/nope", "[file_storage]"),
               "<string>:10:26: exporter 'otlp': sending_queue.storage: extension "
               "'file_storage/nope' is not defined in 'extensions'",
               "expected the ID of a file_storage extension listed in service.extensions", NULL);
    load_fails(service_yaml(yaml, sizeof yaml, dir, "otlp", "file_storage", "[health_check]"),
               "<string>:10:26: exporter 'otlp': sending_queue.storage: extension 'file_storage' "
               "is not listed in service.extensions", NULL);
    load_fails(service_yaml(yaml, sizeof yaml, dir, "otlphttp/x", "health_check",
                            "[file_storage, health_check]"),
               "<string>:10:32: exporter 'otlphttp/x': sending_queue.storage: extension "
               "'health_check' is a health_check extension; expected a file_storage extension",
               NULL);
    load_fails(service_yaml(yaml, sizeof yaml, dir, "otlp", "\"bad id/\"", "[file_storage]"),
               "<string>:10:26: exporter 'otlp': sending_queue.storage: invalid ID", NULL);

    /* the extension's own check: its directory must exist */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none", dir);
    load_fails(service_yaml(yaml, sizeof yaml, missing, "otlp", "file_storage", "[file_storage]"),
               "<string>:7:18: extension 'file_storage': directory ", "none does not exist", NULL);

    /* an exporter that no pipeline uses is not checked (it is only warned about) */
    snprintf(yaml, sizeof yaml,
             RECEIVER
             "exporters:\n"
             "  debug:\n"
             "  otlp/unused: {endpoint: x:1, sending_queue: {storage: file_storage/nope}}\n"
             "service:\n"
             "  telemetry: {metrics: {level: none}}\n"
             "  pipelines:\n"
             "    traces: {receivers: [otlp], exporters: [debug]}\n");
    s = service_load_string(yaml, &err);
    if (!s)
        fail_msg("should load: %s", err.msg);
    assert_int_equal(service_warning_count(s), 1);
    service_free(s);
    rm_rf(dir);
}

/* A real service: the otlp exporter cannot reach its endpoint, so what it accepted is on disk in
 * exporter_otlp__<signal>; the shutdown deadline keeps it there, and the next service on the
 * same directory recovers it. */
static void test_service_persists(void **state)
{
    (void)state;
    char dir[64], yaml[2048];
    temp_dir(dir, sizeof dir);
    struct error err = {0};
    struct service *s = service_load_string(
        service_yaml(yaml, sizeof yaml, dir, "otlp", "file_storage", "[file_storage]"), &err);
    assert_non_null(s);
    if (service_start(s, &err) != 0)
        fail_msg("start: %s", err.msg);
    struct batch *t = tu_trace_batch(3, 7, 0);
    struct batch *l = tu_log_batch(2);
    assert_int_equal(consumer_send(service_pipeline_entry(s, "traces"), t), CONSUME_OK);
    assert_int_equal(consumer_send(service_pipeline_entry(s, "logs"), l), CONSUME_OK);
    char traces[128], logs[128];
    snprintf(traces, sizeof traces, "%s/exporter_otlp__traces", dir);
    snprintf(logs, sizeof logs, "%s/exporter_otlp__logs", dir);
    assert_int_equal(count_suffix(traces, ".batch"), 1);
    assert_int_equal(count_suffix(logs, ".batch"), 1);
    service_shutdown(s, clock_now_ns() + 100 * 1000000LL);
    struct telemetry *tel = service_telemetry(s);
    assert_int_equal(telemetry_value(tel, "otelcol_exporter_send_failed_spans",
                                     "exporter=\"otlp\""), 0);
    assert_int_equal(telemetry_value(tel, "otelcol_exporter_send_failed_log_records",
                                     "exporter=\"otlp\""), 0);
    service_free(s);
    assert_int_equal(count_suffix(traces, ".batch"), 1);
    assert_int_equal(count_suffix(logs, ".batch"), 1);

    s = service_load_string(yaml, &err);
    assert_non_null(s);
    if (service_start(s, &err) != 0)
        fail_msg("start: %s", err.msg);
    tel = service_telemetry(s);
    assert_int_equal(telemetry_value(tel, "llmotlp_exporter_queue_recovered_spans",
                                     "exporter=\"otlp\""), 3);
    assert_int_equal(telemetry_value(tel, "llmotlp_exporter_queue_recovered_log_records",
                                     "exporter=\"otlp\""), 2);
    service_shutdown(s, clock_now_ns() + 50 * 1000000LL);
    service_free(s);
    assert_int_equal(count_suffix(traces, ".batch"), 1);
    batch_unref(t);
    batch_unref(l);
    rm_rf(dir);
}

int main(void)
{
    log_set_level(LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_names),
        cmocka_unit_test(test_directory_checks),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_service_storage_refs),
        cmocka_unit_test(test_service_persists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
