/* test_ottl_readme.c — the README's list of OTTL functions is the engine's table, no more and no
 * less, editors and converters each in their own line.
 * The one idea: the README is what a user reads to know whether a statement will load, so it is
 * checked against ottl_functions[] instead of trusted to be kept in step by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ottl/ottl_internal.h"

static char *read_readme(void)
{
    const char *data = getenv("LLMOTLP_TESTDATA");
    assert_non_null(data);
    char path[4096];
    snprintf(path, sizeof path, "%s/../../../README.md", data);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* The backticked names of the bullet that starts with `label` (up to the next bullet or blank
 * line), each checked against the table; returns how many. */
static size_t check_bullet(const char *text, const char *label, bool editors)
{
    const char *b = strstr(text, label);
    if (!b)
        fail_msg("README: no bullet \"%s\" after the functions' heading", label);
    const char *end = b + strlen(label);
    while (*end && !(end[0] == '\n' && (end[1] == '\n' || end[1] == '-')))
        end++;
    size_t n = 0;
    for (const char *p = b; p < end; p++) {
        if (*p != '`')
            continue;
        const char *q = memchr(p + 1, '`', (size_t)(end - p - 1));
        assert_non_null(q);
        const struct ottl_function *fn = ottl_function_find(p + 1, (size_t)(q - p - 1));
        if (!fn)
            fail_msg("README lists %.*s, which the engine does not have", (int)(q - p - 1), p + 1);
        if (fn->editor != editors)
            fail_msg("README lists %s under the wrong kind", fn->name);
        n++;
        p = q;
    }
    return n;
}

static void test_readme_lists_every_function(void **state)
{
    (void)state;
    char *readme = read_readme();
    const char *sec = strstr(readme, "The functions, exactly these");
    assert_non_null(sec);
    size_t listed = check_bullet(sec, "- editors:", true) + check_bullet(sec, "- converters:", false);
    size_t have = 0;
    while (ottl_functions[have])
        have++;
    if (listed != have)
        fail_msg("README lists %zu functions, the engine has %zu", listed, have);
    free(readme);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_lists_every_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
