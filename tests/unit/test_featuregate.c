/* test_featuregate.c — the `--feature-gates` value as the Collector reads it: a comma list,
 * '+id' or 'id' enables, '-id' disables, unknown ids are an error naming the known ones, a bad
 * list changes nothing; defaults follow the stage (alpha off, beta on).
 *
 * The one idea: every test starts from featuregate_reset(), so each asserts one flag value
 * against the stage defaults of the compiled-in registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/featuregate.h"

static int reset(void **state)
{
    (void)state;
    featuregate_reset();
    return 0;
}

static void test_defaults_follow_stage(void **state)
{
    (void)state;
    assert_false(featuregate_enabled(FEATUREGATE_TAILSAMPLING_RECORDPOLICY)); /* alpha */
    assert_false(featuregate_enabled(FEATUREGATE_MERGE_APPEND));              /* alpha */
    assert_true(featuregate_enabled(FEATUREGATE_PRINT_CONFIG));               /* beta */
    assert_false(featuregate_enabled("no.such.gate"));
    assert_false(featuregate_enabled(NULL));
}

static void test_enable_disable_prefixes(void **state)
{
    (void)state;
    struct error err = {0};
    assert_int_equal(featuregate_apply("processor.tailsamplingprocessor.recordpolicy,"
                                       "-otelcol.printInitialConfig",
                                       NULL, NULL, &err),
                     0);
    assert_true(featuregate_enabled(FEATUREGATE_TAILSAMPLING_RECORDPOLICY));
    assert_false(featuregate_enabled(FEATUREGATE_PRINT_CONFIG));
    /* a later flag overrides an earlier one, gate by gate */
    assert_int_equal(featuregate_apply("-processor.tailsamplingprocessor.recordpolicy,"
                                       "+confmap.enableMergeAppendOption",
                                       NULL, NULL, &err),
                     0);
    assert_false(featuregate_enabled(FEATUREGATE_TAILSAMPLING_RECORDPOLICY));
    assert_true(featuregate_enabled(FEATUREGATE_MERGE_APPEND));
    assert_false(featuregate_enabled(FEATUREGATE_PRINT_CONFIG));
    /* an empty value changes nothing (the Collector returns early on "") */
    assert_int_equal(featuregate_apply("", NULL, NULL, &err), 0);
    assert_true(featuregate_enabled(FEATUREGATE_MERGE_APPEND));
}

static void test_unknown_gate_is_an_error_and_applies_nothing(void **state)
{
    (void)state;
    struct error err = {0};
    assert_int_equal(featuregate_apply("confmap.enableMergeAppendOption,+nope,-also.nope", NULL,
                                       NULL, &err),
                     -1);
    assert_non_null(strstr(err.msg, "no such feature gate \"nope\""));
    assert_non_null(strstr(err.msg, "no such feature gate \"also.nope\""));
    assert_non_null(strstr(err.msg, "known gates: confmap.enableMergeAppendOption, "
                                    "otelcol.printInitialConfig, "
                                    "processor.filter.defaultErrorModeIgnore, "
                                    "processor.tailsamplingprocessor.defaultErrorModeIgnore, "
                                    "processor.tailsamplingprocessor.recordpolicy, "
                                    "processor.transform.defaultErrorModeIgnore"));
    assert_false(featuregate_enabled(FEATUREGATE_MERGE_APPEND));
    /* an empty item is no gate either */
    assert_int_equal(featuregate_apply("confmap.enableMergeAppendOption,,", NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no such feature gate \"\""));
    /* ids are case-sensitive, as the Collector's */
    assert_int_equal(featuregate_apply("CONFMAP.enableMergeAppendOption", NULL, NULL, &err), -1);
}

static void test_registry_sorted_and_described(void **state)
{
    (void)state;
    assert_true(featuregate_count() >= 3);
    for (size_t i = 1; i < featuregate_count(); i++)
        assert_true(strcmp(featuregate_at(i - 1)->id, featuregate_at(i)->id) < 0);
    assert_null(featuregate_at(featuregate_count()));
    const struct featuregate *g = featuregate_find(FEATUREGATE_TAILSAMPLING_RECORDPOLICY);
    assert_non_null(g);
    assert_int_equal(g->stage, FEATUREGATE_ALPHA);
    assert_string_equal(featuregate_stage_name(g->stage), "Alpha");
    assert_non_null(strstr(g->description, "tailsampling.policy"));
    assert_null(featuregate_find("nope"));
}

/* The filter processor's default-ignore gate is stable in the Collector: on, and not to be
 * turned off. */
static void test_filter_gate_is_stable(void **state)
{
    (void)state;
    featuregate_reset();
    assert_true(featuregate_enabled(FEATUREGATE_FILTER_ERROR_MODE_IGNORE));
    struct error err = {0};
    assert_int_equal(featuregate_apply("-processor.filter.defaultErrorModeIgnore", NULL, NULL, &err),
                     -1);
    assert_true(featuregate_enabled(FEATUREGATE_FILTER_ERROR_MODE_IGNORE));
    assert_int_equal(featuregate_apply("processor.filter.defaultErrorModeIgnore", NULL, NULL, &err),
                     0);
    featuregate_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults_follow_stage, reset),
        cmocka_unit_test_setup(test_enable_disable_prefixes, reset),
        cmocka_unit_test_setup(test_unknown_gate_is_an_error_and_applies_nothing, reset),
        cmocka_unit_test_setup(test_registry_sorted_and_described, reset),
        cmocka_unit_test_setup(test_filter_gate_is_stable, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
