/* test_log_gate.c — core/log's once-a-second gate, the one rate limit that filter, the exporter
 * helper and the OTLP receiver put in front of lines that could repeat at traffic rate.
 *
 * The one idea: the gate takes the clock as an argument, so the test walks time by hand and
 * checks which calls pass and how many held-back calls the next passing one reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/log.h"

#define SEC 1000000000LL

static void test_first_passes_then_one_a_second(void **state)
{
    (void)state;
    struct log_gate g = {0};
    uint64_t held = 99;
    assert_true(log_gate_pass(&g, 5 * SEC, &held));
    assert_int_equal(held, 0);
    held = 99;
    assert_false(log_gate_pass(&g, 5 * SEC + SEC / 2, &held));
    assert_false(log_gate_pass(&g, 6 * SEC - 1, &held));
    assert_int_equal(held, 99);   /* a call held back does not touch *held */
    assert_true(log_gate_pass(&g, 6 * SEC, &held));
    assert_int_equal(held, 2);
    /* the count starts again from the line that passed */
    assert_false(log_gate_pass(&g, 6 * SEC + 1, &held));
    assert_true(log_gate_pass(&g, 60 * SEC, &held));
    assert_int_equal(held, 1);
}

/* Two gates are independent: one kind of line never silences another. */
static void test_gates_independent(void **state)
{
    (void)state;
    struct log_gate a = {0}, b = {0};
    uint64_t held = 0;
    assert_true(log_gate_pass(&a, 10 * SEC, &held));
    assert_true(log_gate_pass(&b, 10 * SEC, &held));
    assert_false(log_gate_pass(&a, 10 * SEC + 1, &held));
    assert_true(log_gate_pass(&b, 11 * SEC, &held));
    assert_int_equal(held, 0);
    assert_true(log_gate_pass(&a, 11 * SEC, &held));
    assert_int_equal(held, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_passes_then_one_a_second),
        cmocka_unit_test(test_gates_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
