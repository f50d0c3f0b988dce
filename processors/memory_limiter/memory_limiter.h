/* memory_limiter.h — the Collector's `memory_limiter` processor: refuses data with the retryable
 * status while the process uses more memory than its soft limit (limit − spike), and sets the
 * limit of the process's admission budget (core/membudget.h) so the receivers refuse a request
 * before buffering or inflating it. The config struct and the arithmetic are public for the unit
 * tests (limits from MiB or percentages of the cgroup limit or of total RAM, cgroup and
 * /proc parsing from any path).
 *
 * Instances are thread-safe: consume() runs on any receiver thread, the check on a ticker. */
#ifndef LLMOTLP_MEMORY_LIMITER_H
#define LLMOTLP_MEMORY_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/component.h"
#include "core/config.h"
#include "core/error.h"

struct memory_limiter_config {
    int64_t check_interval;                 /* ns; required > 0 */
    int64_t limit_mib;                      /* hard limit; takes precedence over the percentage */
    int64_t spike_limit_mib;                /* 0 = 20% of the limit */
    int64_t limit_percentage;               /* of the total memory (cgroup limit, else RAM) */
    int64_t spike_limit_percentage;         /* 0 = 20% of the limit */
    int64_t min_gc_interval_when_soft_limited; /* ns between two malloc_trim calls (soft) */
    int64_t min_gc_interval_when_hard_limited; /* ns between two malloc_trim calls (hard) */
};

extern const struct component_factory memory_limiter_processor_factory;

/* The Collector's checks, in its order and with its messages. 0 or -1 with err. */
int memory_limiter_validate(const struct memory_limiter_config *c, struct error *err);

/* Total memory as the Collector sees it: the cgroup v2 limit (<cgroup_root>/memory.max, "max" =
 * none), else the v1 limit (<cgroup_root>/memory/memory.limit_in_bytes; 9223372036854771712 and
 * above = none), else MemTotal of `meminfo`. *source says which ("cgroup v2", "cgroup v1",
 * "MemTotal"). 0, or -1 with err when nothing can be read. */
int ml_total_memory(const char *cgroup_root, const char *meminfo, uint64_t *total,
                    const char **source, struct error *err);

/* Hard and soft limits in bytes: limit_mib (if set) else limit_percentage of total; the spike is
 * spike_limit_mib / spike_limit_percentage of total, or 20% of the hard limit when 0. */
void ml_limits(const struct memory_limiter_config *c, uint64_t total, uint64_t *hard,
               uint64_t *soft);

/* Resident set size from a statm file (second field, in pages). 0 when unreadable. */
uint64_t ml_rss_bytes(const char *statm_path);

/* Memory in use as the limiter judges it: the larger of RSS and what the process used before any
 * data (baseline) plus what the budget says it holds now. */
static inline uint64_t ml_usage(uint64_t rss, uint64_t baseline, uint64_t accounted)
{
    uint64_t a = baseline + accounted;
    return rss > a ? rss : a;
}

#endif
