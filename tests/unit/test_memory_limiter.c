/* test_memory_limiter.c — the memory_limiter processor: the Collector's validation (its checks
 * in its order, with its messages), the limits arithmetic (MiB, percentages of the total, the
 * 20% default spike, limit_mib before percentages), the total memory from cgroup v2 / v1 files
 * or MemTotal read from fake paths, RSS from a fake statm, and the processor itself: it passes
 * data and counts it while under the soft limit, registers soft − baseline as the admission
 * budget's limit, refuses with CONSUME_RETRY (counted) while the budget's bytes push the usage
 * over the soft limit, and accepts again once they are released. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/membudget.h"
#include "core/telemetry.h"
#include "processors/memory_limiter/memory_limiter.h"
#include "tests/unit/testutil.h"

#define MIB ((uint64_t)1 << 20)
#define MS 1000000LL

static struct memory_limiter_config cfg(int64_t limit_mib, int64_t spike_mib, int64_t pct,
                                        int64_t spike_pct)
{
    return (struct memory_limiter_config){
        .check_interval = 1000 * MS, .limit_mib = limit_mib, .spike_limit_mib = spike_mib,
        .limit_percentage = pct, .spike_limit_percentage = spike_pct,
        .min_gc_interval_when_soft_limited = 10000 * MS};
}

static void expect_error(struct memory_limiter_config c, const char *msg)
{
    struct error err = {0};
    assert_int_equal(memory_limiter_validate(&c, &err), -1);
    assert_string_equal(err.msg, msg);
}

static void test_validate(void **state)
{
    (void)state;
    struct error err = {0};
    struct memory_limiter_config c = cfg(100, 0, 0, 0);
    assert_int_equal(memory_limiter_validate(&c, &err), 0);
    c.check_interval = 0;
    expect_error(c, "'check_interval' must be greater than zero");
    c = cfg(100, 0, 0, 0);
    c.min_gc_interval_when_hard_limited = 20000 * MS;
    expect_error(c, "'min_gc_interval_when_soft_limited' should be larger than "
                    "'min_gc_interval_when_hard_limited'");
    expect_error(cfg(0, 0, 0, 0), "'limit_mib' or 'limit_percentage' must be greater than zero");
    expect_error(cfg(0, 0, 101, 0), "'limit_percentage' and 'spike_limit_percentage' must be "
                                    "greater than zero and less than or equal to hundred");
    expect_error(cfg(0, 0, 50, 101), "'limit_percentage' and 'spike_limit_percentage' must be "
                                     "greater than zero and less than or equal to hundred");
    expect_error(cfg(100, 100, 0, 0), "'spike_limit_mib' must be smaller than 'limit_mib'");
    expect_error(cfg(100, 200, 0, 0), "'spike_limit_mib' must be smaller than 'limit_mib'");
    expect_error(cfg(0, 0, 50, 50), "'spike_limit_percentage' must be smaller than "
                                    "'limit_percentage'");
    /* both given: each pair is checked on its own, and limit_mib is what counts */
    c = cfg(100, 20, 80, 15);
    assert_int_equal(memory_limiter_validate(&c, &err), 0);
    c = cfg(0, 0, 100, 0);
    assert_int_equal(memory_limiter_validate(&c, &err), 0);
}

/* Binding from YAML: negative values are refused (the Collector's keys are unsigned), unknown
 * keys too, and durations take Go syntax. */
static void test_bind(void **state)
{
    (void)state;
    const struct component_factory *f = &memory_limiter_processor_factory;
    struct error err = {0};
    struct cnode *n = config_parse_string("check_interval: 1s\nlimit_mib: 4000\nspike_limit_mib: 800\n",
                                          "t.yaml", &err);
    struct memory_limiter_config c = {0};
    assert_int_equal(config_bind(f->fields, n, &c, &err), 0);
    assert_int_equal(c.check_interval, 1000 * MS);
    assert_int_equal(c.limit_mib, 4000);
    assert_int_equal(c.min_gc_interval_when_soft_limited, 10000 * MS);
    assert_int_equal(c.min_gc_interval_when_hard_limited, 0);
    assert_int_equal(f->validate(&c, &err), 0);
    uint64_t hard, soft;
    ml_limits(&c, 0, &hard, &soft);
    assert_int_equal(hard, 4000 * MIB);
    assert_int_equal(soft, 3200 * MIB);
    config_free_bound(f->fields, &c);
    cnode_free(n);

    n = config_parse_string("check_interval: 1s\nlimit_mib: -5\n", "t.yaml", &err);
    memset(&c, 0, sizeof c);
    assert_int_equal(config_bind(f->fields, n, &c, &err), -1);
    assert_non_null(strstr(err.msg, "limit_mib"));
    config_free_bound(f->fields, &c);
    cnode_free(n);

    n = config_parse_string("check_interval: 1s\nlimit_mib: 10\nballast_size_mib: 5\n", "t.yaml",
                            &err);
    memset(&c, 0, sizeof c);
    assert_int_equal(config_bind(f->fields, n, &c, &err), -1);
    assert_non_null(strstr(err.msg, "ballast_size_mib"));
    config_free_bound(f->fields, &c);
    cnode_free(n);
}

static void test_limits(void **state)
{
    (void)state;
    uint64_t hard, soft;
    struct memory_limiter_config c = cfg(100, 0, 0, 0);
    ml_limits(&c, 0, &hard, &soft);
    assert_int_equal(hard, 100 * MIB);
    assert_int_equal(soft, 80 * MIB); /* spike defaults to 20% of the limit */
    c = cfg(100, 30, 0, 0);
    ml_limits(&c, 0, &hard, &soft);
    assert_int_equal(soft, 70 * MIB);
    /* the README's example: 80% / 15% of 1000 MiB */
    c = cfg(0, 0, 80, 15);
    ml_limits(&c, 1000 * MIB, &hard, &soft);
    assert_int_equal(hard, 800 * MIB);
    assert_int_equal(soft, 650 * MIB);
    c = cfg(0, 0, 50, 0);
    ml_limits(&c, 1000, &hard, &soft);
    assert_int_equal(hard, 500);
    assert_int_equal(soft, 400);
    /* limit_mib takes precedence over the percentages */
    c = cfg(64, 0, 90, 10);
    ml_limits(&c, 1ULL << 40, &hard, &soft);
    assert_int_equal(hard, 64 * MIB);
    assert_int_equal(soft, 64 * MIB - 64 * MIB / 5);
    assert_int_equal(ml_usage(100, 30, 50), 100);
    assert_int_equal(ml_usage(70, 30, 50), 80);
}

static char tmpdir[64];

static void write_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    unlink(path);
}

static void test_total_memory(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/llmotlp-ml-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char sub[128], meminfo[128];
    snprintf(sub, sizeof sub, "%s/memory", tmpdir);
    mkdir(sub, 0700);
    snprintf(meminfo, sizeof meminfo, "%s/meminfo", tmpdir);
    write_file("meminfo", "MemFree:  1024 kB\nMemTotal:       2048 kB\nBuffers: 1 kB\n");
    uint64_t total = 0;
    const char *src = NULL;
    struct error err = {0};

    /* cgroup v2 with a limit (the Collector's test value) */
    write_file("memory.max", "250000000\n");
    assert_int_equal(ml_total_memory(tmpdir, meminfo, &total, &src, &err), 0);
    assert_int_equal(total, 250000000);
    assert_string_equal(src, "cgroup v2 memory.max");
    /* v2 without a limit: MemTotal */
    write_file("memory.max", "max\n");
    assert_int_equal(ml_total_memory(tmpdir, meminfo, &total, &src, &err), 0);
    assert_int_equal(total, 2048 * 1024);
    assert_string_equal(src, "MemTotal");
    /* v2 unparsable: an error, not a guess */
    write_file("memory.max", "lots\n");
    assert_int_equal(ml_total_memory(tmpdir, meminfo, &total, &src, &err), -1);
    assert_non_null(strstr(err.msg, "memory.max"));
    remove_file("memory.max");
    /* cgroup v1 */
    write_file("memory/memory.limit_in_bytes", "536870912\n");
    assert_int_equal(ml_total_memory(tmpdir, meminfo, &total, &src, &err), 0);
    assert_int_equal(total, 536870912);
    assert_string_equal(src, "cgroup v1 memory.limit_in_bytes");
    /* v1 "unlimited" (the page-aligned maximum): MemTotal */
    write_file("memory/memory.limit_in_bytes", "9223372036854771712\n");
    assert_int_equal(ml_total_memory(tmpdir, meminfo, &total, &src, &err), 0);
    assert_int_equal(total, 2048 * 1024);
    remove_file("memory/memory.limit_in_bytes");
    /* nothing at all */
    remove_file("meminfo");
    assert_int_equal(ml_total_memory(tmpdir, meminfo, &total, &src, &err), -1);

    write_file("statm", "1000 25 3 1 0 7 0\n");
    char statm[128];
    snprintf(statm, sizeof statm, "%s/statm", tmpdir);
    assert_int_equal(ml_rss_bytes(statm), 25 * (uint64_t)sysconf(_SC_PAGESIZE));
    remove_file("statm");
    assert_int_equal(ml_rss_bytes(statm), 0);
    assert_true(ml_rss_bytes("/proc/self/statm") > 0);
    rmdir(sub);
    rmdir(tmpdir);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_processor(void **state)
{
    (void)state;
    const struct component_factory *f = &memory_limiter_processor_factory;
    struct telemetry *t = telemetry_new();
    struct tu_rec rec;
    tu_rec_init(&rec);
    struct component_env env = {.id = "memory_limiter", .log_name = "processor/memory_limiter",
                                .signal = SIGNAL_TRACES, .telemetry = t};
    env.next[SIGNAL_TRACES] = &rec.base;
    struct memory_limiter_config c = cfg(0, 0, 0, 0);
    c.check_interval = 5 * MS;
    uint64_t rss = ml_rss_bytes("/proc/self/statm");
    c.limit_mib = (int64_t)(rss / MIB) + 200; /* soft limit ~ RSS + 160 MiB */
    struct error err = {0};
    void *m = f->create(&c, &env, &err);
    assert_non_null(m);
    struct membudget *pb = membudget_process();
    assert_int_equal(membudget_limit(pb), 0);
    assert_int_equal(f->start(m, &err), 0);
    uint64_t limit = membudget_limit(pb);
    assert_true(limit > 100 * MIB && limit < 200 * MIB); /* soft − baseline */
    const char *labels = "processor=\"memory_limiter\"";

    struct batch *b = tu_trace_batch(3, 1, 0);
    assert_int_equal(f->consume(m, b), CONSUME_OK);
    assert_int_equal(telemetry_value(t, "otelcol_processor_accepted_spans", labels), 3);

    /* what receivers and queues hold now fills the budget: the next check refuses */
    membudget_acquire(pb, limit);
    enum consume_status st = CONSUME_OK;
    for (int i = 0; i < 400 && (st = f->consume(m, b)) == CONSUME_OK; i++)
        sleep_ms(5);
    assert_int_equal(st, CONSUME_RETRY);
    assert_true(telemetry_value(t, "otelcol_processor_refused_spans", labels) >= 3);
    assert_int_equal(telemetry_value(t, "llmotlp_memory_limiter_refusing", labels), 1);
    assert_false(membudget_try_acquire(pb, 1));
    membudget_release(pb, limit);
    for (int i = 0; i < 400 && (st = f->consume(m, b)) != CONSUME_OK; i++)
        sleep_ms(5);
    assert_int_equal(st, CONSUME_OK);
    /* everything passed on was counted accepted, nothing refused reached the next consumer */
    assert_int_equal(rec.items, telemetry_value(t, "otelcol_processor_accepted_spans", labels));

    f->shutdown(m, clock_now_ns());
    assert_int_equal(membudget_limit(pb), 0); /* unlimited again without a limiter */
    f->destroy(m);
    batch_unref(b);

    /* a limit below what the process already uses cannot start */
    c.limit_mib = 2;
    m = f->create(&c, &env, &err);
    assert_non_null(m);
    assert_int_equal(f->start(m, &err), -1);
    assert_non_null(strstr(err.msg, "not above what llmotlp uses"));
    f->destroy(m);
    tu_rec_fini(&rec);
    telemetry_free(t);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_bind),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_total_memory),
        cmocka_unit_test(test_processor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
