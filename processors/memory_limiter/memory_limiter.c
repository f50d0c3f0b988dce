/* memory_limiter.c — the Collector's `memory_limiter` processor, for a process without a garbage
 * collector: every check_interval it measures the memory in use and, above the soft limit
 * (limit − spike), refuses data with CONSUME_RETRY (the receiver answers UNAVAILABLE / 503 with
 * Retry-After), as the Collector does. Where the Collector forces a GC (above the hard limit, and
 * on entering the soft limit), we ask glibc to give freed memory back to the OS (malloc_trim):
 * above the hard limit at most once per min_gc_interval_when_hard_limited, and while above the
 * soft limit (not only on entering it: no collector frees our heap by itself) at most once per
 * min_gc_interval_when_soft_limited.
 *
 * The one idea: memory is judged from two sides. The admission budget (core/membudget.c) counts
 * the bytes llmotlp itself holds — requests being read or inflated, queued batches — and its
 * limit is set here to soft limit − baseline (the RSS before any data, i.e. code, libraries,
 * threads), so the receivers refuse a request *before* it is buffered and the accounted bytes can
 * never push the process past the soft limit. RSS (/proc/self/statm) is the check on what the
 * accounting does not see (decoded copies, allocator fragmentation, library buffers): the usage
 * is max(RSS, baseline + accounted), and while RSS alone is above the soft limit the budget is
 * closed too, so nothing new is admitted until a check finds it back under.
 *
 * To make RSS follow the accounting, the limiter fixes glibc's mmap and trim thresholds at
 * 128 KiB (mallopt; process-wide): request-sized buffers are then mmap'd and returned to the OS
 * when freed, instead of the dynamic threshold moving them onto heaps that keep their pages. */
#include "processors/memory_limiter/memory_limiter.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/membudget.h"
#include "core/telemetry.h"
#include "core/ticker.h"

#define MIB ((uint64_t)1 << 20)
#define V1_UNLIMITED 9223372036854771712ULL

static const struct config_field ml_fields[] = {
    {.name = "check_interval", .type = CFG_DURATION,
     .offset = offsetof(struct memory_limiter_config, check_interval), .def = "0s",
     .doc = "time between measurements of memory usage (must be > 0; 1s recommended)"},
    {.name = "limit_mib", .type = CFG_INT, .offset = offsetof(struct memory_limiter_config, limit_mib),
     .def = "0", .min = 0, .max = UINT32_MAX,
     .doc = "hard limit in MiB of the process's memory; takes precedence over limit_percentage"},
    {.name = "spike_limit_mib", .type = CFG_INT,
     .offset = offsetof(struct memory_limiter_config, spike_limit_mib), .def = "0", .min = 0,
     .max = UINT32_MAX,
     .doc = "largest spike expected between two checks, in MiB (0 = 20% of the limit); the soft "
            "limit is limit - spike"},
    {.name = "limit_percentage", .type = CFG_INT,
     .offset = offsetof(struct memory_limiter_config, limit_percentage), .def = "0", .min = 0,
     .max = UINT32_MAX,
     .doc = "hard limit as a percentage of the total memory: the cgroup's limit (v2 "
            "memory.max, v1 memory.limit_in_bytes) when one is set, else the machine's RAM"},
    {.name = "spike_limit_percentage", .type = CFG_INT,
     .offset = offsetof(struct memory_limiter_config, spike_limit_percentage), .def = "0",
     .min = 0, .max = UINT32_MAX,
     .doc = "spike as a percentage of the total memory (0 = 20% of the limit)"},
    {.name = "min_gc_interval_when_soft_limited", .type = CFG_DURATION,
     .offset = offsetof(struct memory_limiter_config, min_gc_interval_when_soft_limited),
     .def = "10s",
     .doc = "least time between two releases of freed memory to the OS (malloc_trim, our GC) "
            "when entering the soft limit"},
    {.name = "min_gc_interval_when_hard_limited", .type = CFG_DURATION,
     .offset = offsetof(struct memory_limiter_config, min_gc_interval_when_hard_limited),
     .def = "0s", .doc = "the same above the hard limit (0 = at every check)"},
    {.name = NULL},
};

/* ---- arithmetic (public for the tests) ------------------------------------------------------- */

int memory_limiter_validate(const struct memory_limiter_config *c, struct error *err)
{
    if (c->check_interval <= 0)
        return error_set(err, "'check_interval' must be greater than zero");
    if (c->min_gc_interval_when_soft_limited < c->min_gc_interval_when_hard_limited)
        return error_set(err, "'min_gc_interval_when_soft_limited' should be larger than "
                              "'min_gc_interval_when_hard_limited'");
    if (c->limit_mib == 0 && c->limit_percentage == 0)
        return error_set(err, "'limit_mib' or 'limit_percentage' must be greater than zero");
    if (c->limit_percentage > 100 || c->spike_limit_percentage > 100)
        return error_set(err, "'limit_percentage' and 'spike_limit_percentage' must be greater "
                              "than zero and less than or equal to hundred");
    if (c->limit_mib > 0 && c->limit_mib <= c->spike_limit_mib)
        return error_set(err, "'spike_limit_mib' must be smaller than 'limit_mib'");
    if (c->limit_percentage > 0 && c->limit_percentage <= c->spike_limit_percentage)
        return error_set(err, "'spike_limit_percentage' must be smaller than 'limit_percentage'");
    return 0;
}

/* First line of a small file, trimmed. 0, or -1 (errno kept) when it cannot be read. */
static int read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *got = fgets(buf, (int)len, f);
    fclose(f);
    if (!got)
        return -1;
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!*s || *s == '-')
        return false;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end)
        return false;
    *v = x;
    return true;
}

int ml_total_memory(const char *cgroup_root, const char *meminfo, uint64_t *total,
                    const char **source, struct error *err)
{
    char path[1024], line[256];
    uint64_t v;
    snprintf(path, sizeof path, "%s/memory.max", cgroup_root);
    if (read_line(path, line, sizeof line) == 0) {
        if (strcmp(line, "max") != 0) {
            if (!parse_u64(line, &v))
                return error_set(err, "cannot parse %s: \"%.100s\"", path, line);
            *total = v;
            *source = "cgroup v2 memory.max";
            return 0;
        }
    } else {
        snprintf(path, sizeof path, "%s/memory/memory.limit_in_bytes", cgroup_root);
        if (read_line(path, line, sizeof line) == 0) {
            if (!parse_u64(line, &v))
                return error_set(err, "cannot parse %s: \"%.100s\"", path, line);
            if (v > 0 && v < V1_UNLIMITED) {
                *total = v;
                *source = "cgroup v1 memory.limit_in_bytes";
                return 0;
            }
        }
    }
    FILE *f = fopen(meminfo, "r");
    if (!f)
        return error_set(err, "cannot read %s", meminfo);
    bool found = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long long kb;
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
            *total = (uint64_t)kb * 1024;
            found = true;
            break;
        }
    }
    fclose(f);
    if (!found)
        return error_set(err, "no MemTotal in %s", meminfo);
    *source = "MemTotal";
    return 0;
}

void ml_limits(const struct memory_limiter_config *c, uint64_t total, uint64_t *hard,
               uint64_t *soft)
{
    uint64_t h, spike;
    if (c->limit_mib > 0) {
        h = (uint64_t)c->limit_mib * MIB;
        spike = (uint64_t)c->spike_limit_mib * MIB;
    } else {
        /* percentages as the Collector computes them: of the total, in whole bytes */
        h = (uint64_t)c->limit_percentage * total / 100;
        spike = (uint64_t)c->spike_limit_percentage * total / 100;
    }
    if (spike == 0)
        spike = h / 5;
    *hard = h;
    *soft = h > spike ? h - spike : 0;
}

uint64_t ml_rss_bytes(const char *statm_path)
{
    FILE *f = fopen(statm_path, "r");
    if (!f)
        return 0;
    unsigned long long size = 0, resident = 0;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    if (n != 2)
        return 0;
    long page = sysconf(_SC_PAGESIZE);
    return (uint64_t)resident * (uint64_t)(page > 0 ? page : 4096);
}

/* ---- the processor --------------------------------------------------------------------------- */

struct memory_limiter {
    struct memory_limiter_config cfg;
    char *log_name;
    enum signal signal;
    struct consumer *next;
    struct membudget *budget;
    uint64_t hard, soft;          /* bytes */
    uint64_t baseline;            /* RSS at start */
    uint64_t budget_limit;        /* registered with the budget; 0 = not registered */
    bool closing;                 /* this instance keeps the budget closed (RSS over soft) */
    int64_t last_trim_ns;
    struct ticker ticker;
    atomic_bool refusing;

    _Atomic uint64_t *accepted;
    _Atomic uint64_t *refused;
    _Atomic int64_t *g_used, *g_limit, *g_rss, *g_refusing;
};

static const char *const accepted_names[SIGNAL_COUNT] = {
    "otelcol_processor_accepted_spans", "otelcol_processor_accepted_metric_points",
    "otelcol_processor_accepted_log_records"};
static const char *const refused_names[SIGNAL_COUNT] = {
    "otelcol_processor_refused_spans", "otelcol_processor_refused_metric_points",
    "otelcol_processor_refused_log_records"};

static int ml_validate(const void *cfg, struct error *err) { return memory_limiter_validate(cfg, err); }

static void *ml_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    const struct memory_limiter_config *cfg = cfgp;
    if (memory_limiter_validate(cfg, err) != 0)
        return NULL;
    if (env->signal < 0 || env->signal >= SIGNAL_COUNT || !env->next[env->signal]) {
        error_set(err, "memory_limiter has no downstream consumer");
        return NULL;
    }
    uint64_t total = 0;
    const char *source = "limit_mib";
    if (cfg->limit_mib == 0 &&
        ml_total_memory("/sys/fs/cgroup", "/proc/meminfo", &total, &source, err) != 0) {
        error_prefix(err, "failed to get total memory, use fixed memory settings (limit_mib): ");
        return NULL;
    }
    struct memory_limiter *m = calloc(1, sizeof *m);
    if (!m || !(m->log_name = strdup(env->log_name ? env->log_name : "processor/memory_limiter"))) {
        free(m);
        error_set(err, "out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    m->signal = env->signal;
    m->next = env->next[env->signal];
    m->budget = membudget_process();
    ml_limits(cfg, total, &m->hard, &m->soft);
    if (m->soft == 0) {
        free(m->log_name);
        free(m);
        error_set(err, "the soft limit (limit - spike) is 0 bytes");
        return NULL;
    }
    if (cfg->limit_mib == 0)
        log_info(m->log_name, "total memory %" PRIu64 " MiB (%s): limit %" PRId64 "%%, spike %"
                 PRId64 "%%", total / MIB, source, cfg->limit_percentage,
                 cfg->spike_limit_percentage);
    if (env->telemetry) {
        char labels[256];
        snprintf(labels, sizeof labels, "processor=\"%s\"", env->id ? env->id : "memory_limiter");
        m->accepted = telemetry_counter(env->telemetry, accepted_names[m->signal], labels,
                                        "Items passed on to the next component in the pipeline.");
        m->refused = telemetry_counter(env->telemetry, refused_names[m->signal], labels,
                                       "Items refused (retryable) because memory usage was above "
                                       "the soft limit.");
        m->g_refusing = telemetry_gauge(env->telemetry, "llmotlp_memory_limiter_refusing", labels,
                                        "1 while memory usage is above the soft limit.");
        m->g_used = telemetry_gauge(env->telemetry, "llmotlp_memory_budget_used_bytes", "",
                                    "Bytes held by receivers and sending queues, counted against "
                                    "the admission budget (at the last check).");
        m->g_limit = telemetry_gauge(env->telemetry, "llmotlp_memory_budget_limit_bytes", "",
                                     "Limit of the admission budget: soft limit minus the RSS "
                                     "before any data.");
        m->g_rss = telemetry_gauge(env->telemetry, "llmotlp_memory_limiter_rss_bytes", "",
                                   "Resident set size at the last check.");
    }
    /* Request-sized buffers go to mmap and back to the OS when freed, and a heap's free top past
     * glibc's default 128 KiB too (see the top of the file): undoes the service's reuse policy
     * (cmd/llmotlp/main.c), which keeps freed memory mapped for the next request. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
    return m;
}

/* malloc_trim, the GC we have: gives freed heap pages back to the OS. */
static uint64_t trim(struct memory_limiter *m, int64_t now)
{
    malloc_trim(0);
    m->last_trim_ns = now;
    return ml_rss_bytes("/proc/self/statm");
}

static void ml_check(void *ctx)
{
    struct memory_limiter *m = ctx;
    int64_t now = clock_now_ns();
    uint64_t rss = ml_rss_bytes("/proc/self/statm");
    uint64_t acc = membudget_used(m->budget);
    uint64_t use = ml_usage(rss, m->baseline, acc);
    if (use >= m->hard && now - m->last_trim_ns >= m->cfg.min_gc_interval_when_hard_limited) {
        log_warn(m->log_name, "memory usage %" PRIu64 " MiB (RSS %" PRIu64 " MiB, held %" PRIu64
                 " MiB) is above the hard limit %" PRIu64 " MiB: releasing freed memory to the "
                 "OS (malloc_trim)", use / MIB, rss / MIB, acc / MIB, m->hard / MIB);
        rss = trim(m, now);
        use = ml_usage(rss, m->baseline, acc);
    }
    bool was = atomic_load(&m->refusing);
    bool refuse = use >= m->soft;
    /* The Collector forces a GC on entering the soft limit; Go's collector then keeps running by
     * itself. Nothing frees our heap by itself, so the trim is repeated while refusing, at most
     * once per min_gc_interval_when_soft_limited. */
    if (refuse && now - m->last_trim_ns >= m->cfg.min_gc_interval_when_soft_limited) {
        rss = trim(m, now);
        use = ml_usage(rss, m->baseline, acc);
        refuse = use >= m->soft;
    }
    if (refuse && !was)
        log_warn(m->log_name, "memory usage %" PRIu64 " MiB (RSS %" PRIu64 " MiB, held %" PRIu64
                 " MiB) is above the soft limit %" PRIu64 " MiB: refusing data", use / MIB,
                 rss / MIB, acc / MIB, m->soft / MIB);
    else if (!refuse && was)
        log_info(m->log_name, "memory usage %" PRIu64 " MiB is back under the soft limit %" PRIu64
                 " MiB: accepting data", use / MIB, m->soft / MIB);
    atomic_store(&m->refusing, refuse);
    /* RSS alone over the soft limit: the accounting misses something; admit nothing new. */
    bool close = rss >= m->soft;
    if (close != m->closing) {
        membudget_close(m->budget, close);
        m->closing = close;
    }
    telemetry_set(m->g_refusing, refuse);
    telemetry_set(m->g_used, (int64_t)acc);
    telemetry_set(m->g_limit, (int64_t)membudget_limit(m->budget));
    telemetry_set(m->g_rss, (int64_t)rss);
}

static int ml_start(void *self, struct error *err)
{
    struct memory_limiter *m = self;
    m->baseline = ml_rss_bytes("/proc/self/statm");
    if (m->baseline >= m->soft)
        return error_set(err, "the soft limit (limit - spike = %" PRIu64 " MiB) is not above what "
                         "llmotlp uses before any data arrives (RSS %" PRIu64 " MiB); raise "
                         "limit_mib or limit_percentage", m->soft / MIB, m->baseline / MIB);
    m->budget_limit = m->soft - m->baseline;
    if (membudget_limit_add(m->budget, m->budget_limit) != 0) {
        m->budget_limit = 0;
        return error_set(err, "too many memory_limiter instances");
    }
    m->last_trim_ns = clock_now_ns() - m->cfg.min_gc_interval_when_soft_limited;
    ml_check(m); /* before the ticker's thread exists: the state is only ever its */
    if (ticker_start(&m->ticker, m->cfg.check_interval, ml_check, m, err) != 0) {
        if (m->closing) {
            membudget_close(m->budget, false);
            m->closing = false;
        }
        membudget_limit_remove(m->budget, m->budget_limit);
        m->budget_limit = 0;
        return -1;
    }
    log_info(m->log_name, "memory limiter: hard limit %" PRIu64 " MiB, soft limit %" PRIu64
             " MiB, baseline RSS %" PRIu64 " MiB, admission budget %" PRIu64 " MiB, check every "
             "%" PRId64 "ms", m->hard / MIB, m->soft / MIB, m->baseline / MIB,
             m->budget_limit / MIB, m->cfg.check_interval / 1000000);
    return 0;
}

static enum consume_status ml_consume(void *self, struct batch *b)
{
    struct memory_limiter *m = self;
    if (atomic_load(&m->refusing)) {
        telemetry_add(m->refused, b->items);
        /* the reason the receiver gives the sender with its retryable status */
        batch_reject(b, 0, "memory usage is above the soft limit (memory_limiter)");
        return CONSUME_RETRY;
    }
    enum consume_status st = consumer_send(m->next, b);
    if (st == CONSUME_OK)
        telemetry_add(m->accepted, b->items);
    return st;
}

static void ml_shutdown(void *self, int64_t deadline_ns)
{
    (void)deadline_ns;
    struct memory_limiter *m = self;
    ticker_stop(&m->ticker);
    if (m->closing) {
        membudget_close(m->budget, false);
        m->closing = false;
    }
    if (m->budget_limit) {
        membudget_limit_remove(m->budget, m->budget_limit);
        m->budget_limit = 0;
    }
}

static void ml_destroy(void *self)
{
    struct memory_limiter *m = self;
    if (!m)
        return;
    ml_shutdown(m, 0);
    free(m->log_name);
    free(m);
}

const struct component_factory memory_limiter_processor_factory = {
    .type = "memory_limiter",
    .kind = COMPONENT_PROCESSOR,
    .doc = "refuses data (retryable) above a soft memory limit and bounds the bytes receivers "
           "and queues may hold",
    .fields = ml_fields,
    .config_size = sizeof(struct memory_limiter_config),
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS),
    .validate = ml_validate,
    .create = ml_create,
    .start = ml_start,
    .shutdown = ml_shutdown,
    .consume = ml_consume,
    .destroy = ml_destroy,
};
