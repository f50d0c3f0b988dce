/* test_zpages_pprof.c — the zpages and pprof extensions: their config (the Collector's keys and
 * defaults, what is refused, what is accepted with a warning at its line) and their pages inside
 * a running service, fetched over real HTTP (libcurl on 127.0.0.1).
 * The idea: the pages are checked against the service they describe — the pipeline and
 * extension IDs of the config must appear on pipelinez and extensionz, in config order — and
 * pprof's answers against what the process is (its own thread count, its argv), so a page that
 * rendered a stale or made-up view would fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dirent.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "core/component.h"
#include "core/config.h"
#include "core/service.h"
#include "core/version.h"
#include "extensions/pprof/pprof.h"
#include "extensions/zpages/zpages.h"
#include "tests/unit/testutil.h"

struct reply {
    long status; /* 0: no connection */
    char body[16384];
    size_t len;
    char content_type[128];
};

/* testutil's GET, into a fixed buffer so that assertions need no free */
static struct reply get(uint16_t port, const char *path)
{
    struct tu_http_reply t = tu_http_get(port, path);
    struct reply r = {.status = t.status};
    r.len = t.len < sizeof r.body - 1 ? t.len : sizeof r.body - 1;
    memcpy(r.body, t.body, r.len);
    r.body[r.len] = '\0';
    snprintf(r.content_type, sizeof r.content_type, "%s", t.content_type);
    tu_http_reply_free(&t);
    return r;
}

#define PIPELINE                                                                                 \
    "receivers:\n"                                                                               \
    "  otlp:\n"                                                                                  \
    "    protocols:\n"                                                                           \
    "      grpc:\n"                                                                              \
    "        endpoint: 127.0.0.1:0\n"                                                            \
    "processors:\n"                                                                              \
    "  batch:\n"                                                                                 \
    "exporters:\n"                                                                               \
    "  debug:\n"                                                                                 \
    "  debug/2:\n"

static const char *field_default(const char *type, const char *name)
{
    const struct component_factory *f = component_find(COMPONENT_EXTENSION, type);
    assert_non_null(f);
    for (const struct config_field *fl = f->fields; fl->name; fl++)
        if (strcmp(fl->name, name) == 0)
            return fl->def;
    fail_msg("%s has no field %s", type, name);
    return NULL;
}

/* The index of the first warning holding every fragment, or -1. */
static int warning_with(const struct service *s, const char *a, const char *b)
{
    for (size_t i = 0; i < service_warning_count(s); i++) {
        const char *w = service_warning(s, i);
        if (strstr(w, a) && (!b || strstr(w, b)))
            return (int)i;
    }
    return -1;
}

static void test_config(void **state)
{
    (void)state;
    /* the Collector's defaults: loopback, its ports */
    assert_string_equal(field_default("zpages", "endpoint"), "localhost:55679");
    assert_string_equal(field_default("pprof", "endpoint"), "localhost:1777");

    /* what would make the pages look safer than they are is refused at its key (line 13), not
     * only at the extension */
    tu_load_fails(PIPELINE "extensions:\n  zpages:\n    auth: {authenticator: basicauth}\n"
                        "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
               "<string>:13:5: extension 'zpages': auth: not supported: the pages would be served "
               "without authentication");
    tu_load_fails(PIPELINE "extensions:\n  zpages:\n    middlewares: [{id: m}]\n"
                        "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
               "<string>:13:5: extension 'zpages': middlewares: not supported");
    tu_load_fails(PIPELINE "extensions:\n  zpages:\n    tls: {cert_file: a.pem, key_file: a.key, "
                        "curve_preferences: [X25519]}\n"
                        "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
               "tls.curve_preferences: not supported");
    /* the Collector's own check on endpoint */
    tu_load_fails(PIPELINE "extensions:\n  zpages:\n    endpoint: \"\"\n"
                        "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
               "\"endpoint\" is required when using the \"zpages\" extension");
    tu_load_fails(PIPELINE "extensions:\n  pprof:\n    endpoint: \"\"\n"
                        "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
               "\"endpoint\" is required when using the \"pprof\" extension");
    /* typed as in the Collector: a fraction is an int, a timeout a duration */
    tu_load_fails(PIPELINE "extensions:\n  pprof:\n    mutex_profile_fraction: lots\n"
                        "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
               "mutex_profile_fraction");
    tu_load_fails(PIPELINE "extensions:\n  zpages:\n    idle_timeout: soon\n"
                        "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
               "idle_timeout");
    tu_load_fails(PIPELINE "extensions:\n  pprof:\n    sampling_rate: 3\n"
                        "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
               "sampling_rate");

    /* the Go-only keys load, each warned about at its line */
    struct error err = {0};
    struct service *s = service_load_string(
        PIPELINE "extensions:\n"
                 "  zpages:\n"
                 "    expvar: {enabled: true}\n"
                 "    read_header_timeout: 5s\n"
                 "  zpages/quiet:\n"
                 "    expvar: {enabled: false}\n"
                 "    middlewares: []\n"
                 "    auth:\n"
                 "  pprof:\n"
                 "    block_profile_fraction: 3\n"
                 "    mutex_profile_fraction: 5\n"
                 "    save_to_file: /tmp/cpu.prof\n"
                 "    dialer: {timeout: 1s}\n"
                 "service:\n"
                 "  extensions: [zpages, zpages/quiet, pprof]\n"
                 "  pipelines:\n"
                 "    traces: {receivers: [otlp], exporters: [debug]}\n",
        &err);
    if (!s)
        fail_msg("load: %s", err.msg);
    assert_true(warning_with(s, "extensions.zpages.expvar.enabled", ":13:14:") >= 0);
    assert_true(warning_with(s, "extensions.zpages.read_header_timeout", "no effect") >= 0);
    assert_true(warning_with(s, "extensions.pprof.block_profile_fraction", "no block profile") >= 0);
    assert_true(warning_with(s, "extensions.pprof.mutex_profile_fraction", "no effect") >= 0);
    assert_true(warning_with(s, "extensions.pprof.save_to_file", "no CPU profile") >= 0);
    assert_true(warning_with(s, "extensions.pprof.dialer", "no outgoing") >= 0);
    assert_int_equal(warning_with(s, "zpages/quiet", NULL), -1); /* expvar off: nothing to say */
    assert_int_equal(service_warning_count(s), 8); /* and batch, debug/2 unused */
    service_free(s);
}

/* tls: the pages over HTTPS, the certificate verified against the CA that signed it (made by
 * openssl for the run). */
static void test_pages_over_tls(void **state)
{
    (void)state;
    char dir[] = "/tmp/llmotlp-zp-XXXXXX";
    assert_non_null(mkdtemp(dir));
    tu_make_ca(dir, "ca");
    tu_make_localhost(dir, "server", "ca");
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             PIPELINE "extensions:\n"
                      "  zpages:\n"
                      "    endpoint: 127.0.0.1:0\n"
                      "    tls:\n"
                      "      cert_file: %s/server.pem\n"
                      "      key_file: %s/server.key\n"
                      "service:\n"
                      "  telemetry: {metrics: {level: none}}\n"
                      "  extensions: [zpages]\n"
                      "  pipelines:\n"
                      "    traces: {receivers: [otlp], exporters: [debug]}\n",
             dir, dir);
    struct error err = {0};
    struct service *s = service_load_string(yaml, &err);
    if (!s)
        fail_msg("load: %s", err.msg);
    if (service_start(s, &err) != 0)
        fail_msg("start: %s", err.msg);
    uint16_t zp = zpages_port(service_extension(s, "zpages"));
    assert_true(zp > 0);

    char url[128], ca[128];
    snprintf(url, sizeof url, "https://localhost:%u/debug/servicez", (unsigned)zp);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    char *body = NULL;
    size_t len = 0;
    CURL *c = curl_easy_init();
    assert_non_null(c);
    FILE *f = open_memstream(&body, &len);
    assert_non_null(f);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    fclose(f);
    if (rc != CURLE_OK)
        fail_msg("https: %s", curl_easy_strerror(rc));
    assert_int_equal(status, 200);
    assert_non_null(body);
    assert_non_null(strstr(body, "llmotlp: service"));
    free(body);
    assert_int_equal(get(zp, "/debug/servicez").status, 0); /* no plain HTTP on it */

    service_shutdown(s, clock_now_ns() + 5 * (int64_t)1000000000);
    service_free(s);
    tu_sh("/", "rm -rf %s", dir);
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] >= '0' && e->d_name[0] <= '9';
    closedir(d);
    return n;
}

static void test_pages_in_service(void **state)
{
    (void)state;
    struct error err = {0};
    struct service *s = service_load_string(
        PIPELINE "extensions:\n"
                 "  zpages:\n"
                 "    endpoint: 127.0.0.1:0\n"
                 "  pprof:\n"
                 "    endpoint: 127.0.0.1:0\n"
                 "service:\n"
                 "  telemetry: {metrics: {level: none}}\n"
                 "  extensions: [pprof, zpages]\n"
                 "  pipelines:\n"
                 "    traces/llm: {receivers: [otlp], processors: [batch], "
                 "exporters: [debug, debug/2]}\n"
                 "    logs: {receivers: [otlp], exporters: [debug]}\n",
        &err);
    if (!s)
        fail_msg("load: %s", err.msg);
    if (service_start(s, &err) != 0)
        fail_msg("start: %s", err.msg);
    uint16_t zp = zpages_port(service_extension(s, "zpages"));
    uint16_t pp = pprof_port(service_extension(s, "pprof"));
    assert_true(zp > 0 && pp > 0);

    struct reply r = get(zp, "/debug/pipelinez");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "<td>traces/llm</td><td>traces</td><td>otlp</td><td>batch</td>"
                                   "<td>debug &rarr; debug/2</td>"));
    assert_non_null(strstr(r.body, "<td>logs</td><td>logs</td><td>otlp</td><td></td><td>debug</td>"));

    r = get(zp, "/debug/extensionz");
    assert_int_equal(r.status, 200);
    char *a = strstr(r.body, "<td>pprof</td>"), *b = strstr(r.body, "<td>zpages</td>");
    assert_true(a && b && a < b); /* service.extensions order */

    r = get(zp, "/debug/servicez");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<td>" LLMOTLP_VERSION "</td>"));
    assert_non_null(strstr(r.body, "test_zpages_pprof")); /* the command line */
    assert_non_null(strstr(r.body, "href=\"/debug/pipelinez\""));

    r = get(zp, "/debug/featurez");
    assert_int_equal(r.status, 200);
    /* the gates of the registry, with their state */
    assert_non_null(strstr(r.body, "<td>processor.tailsamplingprocessor.recordpolicy</td>"
                                   "<td>false</td><td>Alpha</td>"));
    assert_non_null(strstr(r.body, "<td>otelcol.printInitialConfig</td><td>true</td><td>Beta</td>"));
    r = get(zp, "/debug/tracez");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "no traces of its own"));
    /* not served, as in current Collectors, nor the Go-only expvar page */
    assert_int_equal(get(zp, "/debug/rpcz").status, 404);
    assert_int_equal(get(zp, "/debug/expvarz").status, 404);
    assert_int_equal(get(zp, "/").status, 404);

    r = get(pp, "/debug/pprof/");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "not Go pprof profiles"));
    assert_non_null(strstr(r.body, "href=\"heap\""));

    r = get(pp, "/debug/pprof/heap");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/plain; charset=utf-8");
    unsigned long long inuse = 0, rss = 0;
    char *l = strstr(r.body, "\nheap_in_use ");
    if (l) {
        assert_int_equal(sscanf(l, "\nheap_in_use %llu", &inuse), 1);
        assert_true(inuse > 0);
    } else { /* under a sanitizer glibc's malloc is not used, and the page says so */
        assert_non_null(strstr(r.body, "glibc's malloc is not the allocator"));
    }
    l = strstr(r.body, "\nVmRSS ");
    assert_non_null(l);
    assert_int_equal(sscanf(l, "\nVmRSS %llu", &rss), 1);
    assert_true(rss > 1024 * 1024); /* bytes, not kB */

    r = get(pp, "/debug/pprof/goroutine");
    assert_int_equal(r.status, 200);
    int threads = 0;
    l = strstr(r.body, "# total ");
    assert_non_null(l);
    assert_int_equal(sscanf(l, "# total %d", &threads), 1);
    int now = count_threads();
    /* threads come and go (gRPC's pool): within a few of what the test sees itself */
    assert_true(threads > 3 && threads <= now + 8 && threads >= now - 8);
    char self_line[64];
    snprintf(self_line, sizeof self_line, "\n%ld ", (long)getpid());
    assert_non_null(strstr(r.body, self_line)); /* the main thread's tid is the pid */

    r = get(pp, "/debug/pprof/cmdline");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "test_zpages_pprof"));

    const char *gone[] = {"profile", "trace", "block", "mutex", "threadcreate", "symbol"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
        char p[64];
        snprintf(p, sizeof p, "/debug/pprof/%s", gone[i]);
        r = get(pp, p);
        if (r.status != 501)
            fail_msg("%s: %ld", p, r.status);
        assert_non_null(strstr(r.body, "not available in llmotlp"));
    }
    r = get(pp, "/debug/pprof/nope");
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "Unknown profile"));
    assert_int_equal(get(pp, "/debug/other").status, 404);

    service_shutdown(s, clock_now_ns() + 5 * (int64_t)1000000000);
    assert_int_equal(get(zp, "/debug/servicez").status, 0); /* stopped: nothing listens */
    assert_int_equal(get(pp, "/debug/pprof/").status, 0);
    service_free(s);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_pages_in_service),
        cmocka_unit_test(test_pages_over_tls),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
