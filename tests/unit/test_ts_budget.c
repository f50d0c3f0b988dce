/* test_ts_budget.c — tail_sampling's trace store counts in the process's memory budget: the
 * bytes it retains (its own llmotlp_tail_sampling_buffered_bytes) are held in the budget while
 * traces wait for their decision, and given back when they leave (decided at shutdown) and when
 * the processor is destroyed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/log.h"
#include "core/membudget.h"
#include "core/telemetry.h"
#include "processors/tail_sampling/tail_sampling.h"
#include "tests/unit/testutil.h"

static void test_store_counts_in_budget(void **state)
{
    (void)state;
    const struct component_factory *f = &tail_sampling_processor_factory;
    struct error err = {0};
    struct cnode *root = config_parse_string("decision_wait: 30s\npolicies:\n"
                                             "  - {name: keep-all, type: always_sample}\n",
                                             "<ts>", &err);
    assert_non_null(root);
    struct tail_sampling_config cfg = {0};
    assert_int_equal(config_bind(f->fields, root, &cfg, &err), 0);
    assert_int_equal(f->validate(&cfg, &err), 0);
    struct telemetry *t = telemetry_new();
    struct tu_rec rec;
    tu_rec_init(&rec);
    struct component_env env = {.id = "tail_sampling", .log_name = "processor/tail_sampling",
                                .signal = SIGNAL_TRACES, .telemetry = t};
    env.next[SIGNAL_TRACES] = &rec.base;
    void *p = f->create(&cfg, &env, &err);
    assert_non_null(p);
    assert_int_equal(f->start(p, &err), 0);
    struct membudget *pb = membudget_process();
    uint64_t before = membudget_used(pb);

    for (uint8_t seed = 1; seed <= 4; seed++) {
        struct batch *b = tu_trace_batch(8, seed, 0);
        assert_int_equal(f->consume(p, b), CONSUME_OK);
        batch_unref(b);
    }
    int64_t buffered = telemetry_value(t, "llmotlp_tail_sampling_buffered_bytes",
                                       "processor=\"tail_sampling\"");
    assert_true(buffered > 0);
    assert_int_equal(membudget_used(pb) - before, (uint64_t)buffered);
    assert_int_equal(rec.items, 0); /* still waiting for the decision */

    f->shutdown(p, clock_now_ns() + 2000000000LL); /* decides and flushes what it holds */
    assert_int_equal(rec.items, 32);
    assert_int_equal(membudget_used(pb), before);
    f->destroy(p);
    assert_int_equal(membudget_used(pb), before);
    tu_rec_fini(&rec);
    telemetry_free(t);
    config_free_bound(f->fields, &cfg);
    cnode_free(root);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_counts_in_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
