/* pprof.c — the `pprof` extension: /debug/pprof/ on <endpoint>, the paths of Go's net/http/pprof,
 * answered with what a C process can honestly say.
 *
 * The one idea: keep the Collector's URL layout, so scripts and runbooks that fetch
 * /debug/pprof/heap or /debug/pprof/goroutine still find an answer, but never pretend to be Go:
 * every answer is text that says what it is (glibc's mallinfo2() and the kernel's memory
 * counters for heap/allocs, /proc/self/task for goroutine, argv for cmdline), and a profile
 * that needs a Go runtime (CPU, trace, block, mutex, threadcreate, symbol) is a 501 whose body
 * names the tool to use instead. `go tool pprof` therefore fails loudly on these answers rather
 * than read something that merely looks like a profile. */
#include "extensions/pprof/pprof.h"

#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/admin_http.h"
#include "core/component.h"
#include "core/config.h"
#include "core/log.h"

struct pprof_dialer {
    int64_t timeout;
};

struct pprof_config {
    char *endpoint;
    struct pprof_dialer dialer;
    int64_t block_profile_fraction;
    int64_t mutex_profile_fraction;
    char *save_to_file;
};

static const struct config_field dialer_fields[] = {
    {.name = "timeout", .type = CFG_DURATION, .offset = offsetof(struct pprof_dialer, timeout),
     .doc = "connect timeout of outgoing connections"},
    {.name = NULL},
};

static const struct config_field pprof_fields[] = {
    {.name = "endpoint", .type = CFG_STRING, .offset = offsetof(struct pprof_config, endpoint),
     .def = "localhost:1777",
     .doc = "host:port to serve /debug/pprof/ on (\":port\" = every interface; loopback by "
            "default, as the Collector's)"},
    {.name = "dialer", .type = CFG_SECTION, .offset = offsetof(struct pprof_config, dialer),
     .sub = dialer_fields, .doc = "confignet's dialer settings",
     .no_effect = "a listener makes no outgoing connections (the Collector ignores it here too)"},
    {.name = "block_profile_fraction", .type = CFG_INT,
     .offset = offsetof(struct pprof_config, block_profile_fraction), .def = "0",
     .doc = "Go's runtime.SetBlockProfileRate",
     .no_effect = "a Go runtime setting; there is no block profile (/debug/pprof/block is 501)",
     .harmless = "<=0"},
    {.name = "mutex_profile_fraction", .type = CFG_INT,
     .offset = offsetof(struct pprof_config, mutex_profile_fraction), .def = "0",
     .doc = "Go's runtime.SetMutexProfileFraction",
     .no_effect = "a Go runtime setting; there is no mutex profile (/debug/pprof/mutex is 501)",
     .harmless = "<=0"},
    {.name = "save_to_file", .type = CFG_STRING,
     .offset = offsetof(struct pprof_config, save_to_file),
     .doc = "file for a CPU profile of the whole run",
     .no_effect = "no CPU profile is made and no file is written; profile llmotlp with perf "
                  "record -p <pid> instead",
     .harmless = "\"\""},
    {.name = NULL},
};

struct pprof {
    const struct pprof_config *cfg;
    char *log_name;
    struct admin_http *http;
};

static int pprof_validate(const void *cfgp, struct error *err)
{
    const struct pprof_config *cfg = cfgp;
    if (!cfg->endpoint || !*cfg->endpoint) /* the Collector's check, in its words */
        return error_set(err, "\"endpoint\" is required when using the \"pprof\" extension");
    if (!strchr(cfg->endpoint, ':'))
        return error_set(err, "endpoint '%s' must be host:port", cfg->endpoint);
    return 0;
}

/* ---- answers --------------------------------------------------------------------------------- */

struct profile {
    const char *name;
    const char *doc;         /* as the index describes it */
    void (*render)(FILE *f); /* NULL = 501 with `why` */
    const char *why;
};

static size_t read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = '\0';
    return n;
}

static void render_heap(FILE *f)
{
    struct mallinfo2 mi = mallinfo2();
    fputs("# llmotlp heap summary: glibc mallinfo2() and the kernel's counters, in bytes.\n"
          "# Plain text, not a Go pprof profile: there are no allocation stacks.\n", f);
    if (mi.arena == 0 && mi.hblkhd == 0) {
        /* glibc's allocator has served nothing: another one (a sanitizer's, jemalloc) is in
         * use, and zeros would read as an empty heap */
        fputs("# glibc's malloc is not the allocator of this process: no heap totals\n", f);
    } else {
        fprintf(f, "heap_in_use %zu\n", mi.uordblks);
        fprintf(f, "heap_free %zu\n", mi.fordblks);
        fprintf(f, "heap_arena %zu\n", mi.arena);
        fprintf(f, "mmap_in_use %zu\n", mi.hblkhd);
        fprintf(f, "mmap_regions %zu\n", mi.hblks);
        fprintf(f, "free_chunks %zu\n", mi.ordblks);
        fprintf(f, "releasable %zu\n", mi.keepcost);
    }
    char st[8192];
    if (read_file("/proc/self/status", st, sizeof st)) {
        static const char *const keys[] = {"VmRSS", "VmHWM", "VmSize", "VmData", NULL};
        for (const char *line = st; *line;) {
            const char *end = strchr(line, '\n');
            size_t ll = end ? (size_t)(end - line) : strlen(line);
            for (size_t k = 0; keys[k]; k++) {
                size_t kl = strlen(keys[k]);
                unsigned long long kb;
                if (ll > kl && strncmp(line, keys[k], kl) == 0 && line[kl] == ':' &&
                    sscanf(line + kl + 1, "%llu", &kb) == 1)
                    fprintf(f, "%s %llu\n", keys[k], kb * 1024);
            }
            line += ll + (end ? 1 : 0);
        }
    }
}

static void render_threads(FILE *f)
{
    DIR *d = opendir("/proc/self/task");
    fputs("# llmotlp threads (a C program has no goroutines): one line per thread of the "
          "process,\n# \"<tid> <state> <name>\", from /proc/self/task. Plain text, not a Go "
          "pprof profile.\n", f);
    if (!d)
        return;
    struct dirent *e;
    size_t n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], stat[1024], comm[64] = "?";
        char state = '?';
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        if (read_file(path, stat, sizeof stat)) {
            /* "tid (comm) S ...": the name may hold spaces and parentheses, so the last ')' */
            char *open = strchr(stat, '('), *close = strrchr(stat, ')');
            if (open && close && close > open) {
                size_t cl = (size_t)(close - open - 1);
                if (cl >= sizeof comm)
                    cl = sizeof comm - 1;
                memcpy(comm, open + 1, cl);
                comm[cl] = '\0';
                if (close[1] == ' ' && close[2])
                    state = close[2];
            }
        }
        fprintf(f, "%s %c %s\n", e->d_name, state, comm);
        n++;
    }
    closedir(d);
    fprintf(f, "# total %zu\n", n);
}

static const struct profile profiles[] = {
    {"allocs", "heap totals (the same as heap: glibc keeps no per-allocation samples)", render_heap,
     NULL},
    {"block", "Go's blocking profile", NULL,
     "there is no Go runtime, so no block profile; use perf or off-CPU tracing (offcputime)"},
    {"cmdline", "the command line, arguments separated by NUL bytes", NULL, NULL},
    {"goroutine", "the threads of the process (a C program has no goroutines)", render_threads,
     NULL},
    {"heap", "heap totals from glibc's mallinfo2() and the kernel's memory counters",
     render_heap, NULL},
    {"mutex", "Go's mutex contention profile", NULL,
     "there is no Go runtime, so no mutex profile; use perf lock or mutrace"},
    {"profile", "Go's CPU profile", NULL,
     "no CPU profile is made in process; use perf record -p <pid> (or perf top -p <pid>)"},
    {"symbol", "Go's program counter to function name lookup", NULL,
     "there are no Go symbols; use addr2line or gdb on the llmotlp binary"},
    {"threadcreate", "Go's thread creation profile", NULL,
     "thread creation is not sampled; /debug/pprof/goroutine lists the threads"},
    {"trace", "Go's execution trace", NULL,
     "there is no Go runtime, so no execution trace; use perf trace or ltrace"},
    {NULL, NULL, NULL, NULL},
};

static void render_index(FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>/debug/pprof/</title></head>\n<body>\n<h1>/debug/pprof/</h1>\n"
          "<p>llmotlp is a C program: these answers are plain text, not Go pprof profiles. "
          "Entries marked 501 exist only in a Go runtime.</p>\n<table>\n", f);
    for (const struct profile *p = profiles; p->name; p++)
        fprintf(f, "<tr><td><a href=\"%s\">%s</a></td><td>%s</td><td>%s</td></tr>\n", p->name,
                p->name, p->render || !p->why ? "available" : "501 not available", p->doc);
    fputs("</table>\n</body></html>\n", f);
}

/* argv as Go's pprof.Cmdline gives it: arguments joined by NUL bytes. */
static bool cmdline(struct admin_http_reply *reply)
{
    char buf[8192];
    size_t n = read_file("/proc/self/cmdline", buf, sizeof buf);
    while (n > 0 && buf[n - 1] == '\0')
        n--;
    if (!(reply->body = malloc(n ? n : 1)))
        return false;
    memcpy(reply->body, buf, n);
    reply->len = n;
    return true;
}

static void text_reply(struct admin_http_reply *reply, unsigned status, const char *fmt,
                       const char *a, const char *b)
{
    reply->status = status;
    reply->content_type = "text/plain; charset=utf-8";
    if (asprintf(&reply->body, fmt, a, b) < 0)
        reply->body = NULL;
    reply->len = reply->body ? strlen(reply->body) : 0;
}

static void on_get(void *ctx, const char *path, struct admin_http_reply *reply)
{
    (void)ctx;
    static const char prefix[] = "/debug/pprof/";
    if (strncmp(path, prefix, sizeof prefix - 1) != 0) {
        admin_http_not_found(reply);
        return;
    }
    const char *name = path + sizeof prefix - 1;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    reply->status = 200;
    if (!*name) {
        if ((f = open_memstream(&buf, &len)))
            render_index(f);
        reply->content_type = "text/html; charset=utf-8";
    } else {
        const struct profile *p = profiles;
        while (p->name && strcmp(p->name, name) != 0)
            p++;
        if (!p->name) { /* Go's answer for a name it does not know */
            text_reply(reply, 404, "Unknown profile: %s%s\n", name, "");
            return;
        }
        if (strcmp(p->name, "cmdline") == 0) {
            reply->content_type = "text/plain; charset=utf-8";
            if (!cmdline(reply))
                reply->status = 500;
            return;
        }
        if (!p->render) {
            text_reply(reply, 501, "/debug/pprof/%s is not available in llmotlp: %s\n", p->name,
                       p->why);
            return;
        }
        if ((f = open_memstream(&buf, &len)))
            p->render(f);
        reply->content_type = "text/plain; charset=utf-8";
    }
    if (!f || fclose(f) != 0 || !buf) {
        free(buf);
        reply->status = 500;
        reply->content_type = NULL;
        return;
    }
    reply->body = buf;
    reply->len = len;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void *pprof_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    struct pprof *p = calloc(1, sizeof *p);
    if (!p || !(p->log_name = strdup(env->log_name ? env->log_name : "extension/pprof"))) {
        free(p);
        error_set(err, "out of memory");
        return NULL;
    }
    p->cfg = cfgp;
    return p;
}

static int pprof_start(void *self, struct error *err)
{
    struct pprof *p = self;
    p->http = admin_http_start(p->cfg->endpoint, p->log_name, on_get, p, err);
    if (!p->http)
        return -1;
    log_info(p->log_name, "process diagnostics at http://%s/debug/pprof/ (port %u)",
             p->cfg->endpoint, (unsigned)admin_http_port(p->http));
    return 0;
}

static void pprof_shutdown(void *self, int64_t deadline_ns)
{
    (void)deadline_ns;
    struct pprof *p = self;
    admin_http_stop(p->http);
    p->http = NULL;
}

static void pprof_destroy(void *self)
{
    struct pprof *p = self;
    admin_http_stop(p->http);
    free(p->log_name);
    free(p);
}

uint16_t pprof_port(const void *ext)
{
    const struct pprof *p = ext;
    return p ? admin_http_port(p->http) : 0;
}

const struct component_factory pprof_extension_factory = {
    .type = "pprof",
    .kind = COMPONENT_EXTENSION,
    .doc = "process diagnostics on /debug/pprof/: heap totals, threads, command line (text, "
           "not Go profiles)",
    .fields = pprof_fields,
    .config_size = sizeof(struct pprof_config),
    .validate = pprof_validate,
    .create = pprof_create,
    .start = pprof_start,
    .shutdown = pprof_shutdown,
    .destroy = pprof_destroy,
};
