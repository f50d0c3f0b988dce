/* telemetry_server.c — /metrics: the registry's exposition followed by process metrics read
 * from the kernel at scrape time (getrusage for CPU, /proc/self/statm for RSS), so nothing
 * samples in the background. */
#include "core/telemetry_server.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>

#include "core/admin_http.h"
#include "core/component.h"

#define TELEMETRY_SERVER_LOG "service/telemetry"

struct telemetry_server {
    struct admin_http *http;
    struct telemetry *t;
    int64_t start_ns;
};

static double rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return n == 2 && page > 0 ? (double)resident * (double)page : 0;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void telemetry_process_read(double *cpu, double *rss)
{
    *cpu = cpu_seconds();
    *rss = rss_bytes();
}

void telemetry_write_process(FILE *out, int64_t start_ns)
{
    double up = (double)(clock_now_ns() - start_ns) / 1e9;
    fprintf(out, "# HELP otelcol_process_uptime Uptime of the process in seconds.\n"
                 "# TYPE otelcol_process_uptime counter\n"
                 "otelcol_process_uptime %.6f\n", up > 0 ? up : 0);
    fprintf(out, "# HELP otelcol_process_cpu_seconds Total CPU user and system time in seconds.\n"
                 "# TYPE otelcol_process_cpu_seconds counter\n"
                 "otelcol_process_cpu_seconds %.6f\n", cpu_seconds());
    fprintf(out, "# HELP otelcol_process_memory_rss Total physical memory (resident set size) "
                 "in bytes.\n"
                 "# TYPE otelcol_process_memory_rss gauge\n"
                 "otelcol_process_memory_rss %.0f\n", rss_bytes());
}

static void on_get(void *ctx, const char *path, struct admin_http_reply *reply)
{
    struct telemetry_server *s = ctx;
    if (strcmp(path, "/metrics") != 0) {
        admin_http_not_found(reply);
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) {
        reply->status = 500;
        return;
    }
    telemetry_write_prometheus(s->t, out);
    telemetry_write_process(out, s->start_ns);
    if (fclose(out) != 0) {
        free(buf);
        reply->status = 500;
        return;
    }
    reply->status = 200;
    reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply->body = buf;
    reply->len = len;
}

struct telemetry_server *telemetry_server_start(const char *endpoint, struct telemetry *t,
                                                struct error *err)
{
    struct telemetry_server *s = calloc(1, sizeof *s);
    if (!s) {
        error_set(err, "out of memory");
        return NULL;
    }
    s->t = t;
    s->start_ns = clock_now_ns();
    s->http = admin_http_start(endpoint, TELEMETRY_SERVER_LOG, on_get, s, err);
    if (!s->http) {
        free(s);
        return NULL;
    }
    return s;
}

uint16_t telemetry_server_port(const struct telemetry_server *s)
{
    return s ? admin_http_port(s->http) : 0;
}

void telemetry_server_stop(struct telemetry_server *s)
{
    if (!s)
        return;
    admin_http_stop(s->http);
    free(s);
}
