/* test_ottl_grammar.c — the OTTL grammar (core/ottl/lexer.c, parser.c, eval.c, ottl.c) through
 * the public API: precedence of not/and/or, comparisons of each type pair, math precedence and
 * types, string escapes, paths and their keys, converters with keys, named arguments and their
 * rules, enums, context inference, and errors with the column they name.
 *
 * The one idea: every expected value is worked out by hand from the Collector's LANGUAGE.md rules
 * (not binds tightest, and before or, * and / before + and -, int/int division truncates, a
 * missing attribute is nil), and every error case checks the column the message points at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ottl/ottl_internal.h"
#include "tests/unit/testutil.h"

typedef Opentelemetry__Proto__Trace__V1__Span Span;

struct fixture {
    struct arena *a;
    Span span;
    struct ottl_item it;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->a = arena_new(0);
    opentelemetry__proto__trace__v1__span__init(&f->span);
    f->span.name = arena_strdup(f->a, "GET /health");
    f->span.kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER;
    f->span.n_attributes = 3;
    f->span.attributes = arena_alloc(f->a, 3 * sizeof *f->span.attributes);
    f->span.attributes[0] = tu_kv_str(f->a, "http.route", "/health");
    f->span.attributes[1] = tu_kv_int(f->a, "n", 5);
    f->span.attributes[2] = tu_kv_str(f->a, "which", "http.route");
    f->it.ctx = OTTL_CTX_SPAN;
    f->it.span = &f->span;
    f->it.arena = f->a;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    arena_free(f->a);
    free(f);
    return 0;
}

/* The value of condition `text` on the fixture's span; fails the test when it does not compile
 * or does not run. */
static bool cond(struct fixture *f, const char *text)
{
    struct error err = {0};
    struct ottl_condition *c = ottl_condition_parse(OTTL_CTX_SPAN, text, &err);
    if (!c)
        fail_msg("'%s' does not compile: %s", text, err.msg);
    bool r = false;
    if (ottl_condition_eval(c, &f->it, &r, &err) < 0)
        fail_msg("'%s' fails: %s", text, err.msg);
    ottl_condition_free(c);
    return r;
}

/* Asserts that `text` is refused at compile time at column `col` with a message containing
 * `needle`. */
static void refused(const char *text, bool statement, int col, const char *needle)
{
    struct error err = {0};
    void *p = statement ? (void *)ottl_statement_parse(OTTL_CTX_SPAN, text, &err)
                        : (void *)ottl_condition_parse(OTTL_CTX_SPAN, text, &err);
    if (p)
        fail_msg("'%s' compiled but should not", text);
    if (err.code != col)
        fail_msg("'%s': column %d, expected %d (%s)", text, err.code, col, err.msg);
    if (!strstr(err.msg, needle))
        fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, needle);
}

/* Runs statement `text` on the fixture's span; returns whether the editor ran. */
static bool run(struct fixture *f, const char *text)
{
    struct error err = {0};
    struct ottl_statement *s = ottl_statement_parse(OTTL_CTX_SPAN, text, &err);
    if (!s)
        fail_msg("'%s' does not compile: %s", text, err.msg);
    assert_string_equal(ottl_statement_text(s), text);
    bool applied = false;
    if (ottl_statement_run(s, &f->it, &applied, &err) < 0)
        fail_msg("'%s' fails: %s", text, err.msg);
    ottl_statement_free(s);
    return applied;
}

static void test_boolean_precedence(void **state)
{
    struct fixture *f = *state;
    assert_true(cond(f, "true"));
    assert_false(cond(f, "false"));
    /* and binds tighter than or: true or (false and false) */
    assert_true(cond(f, "true or false and false"));
    assert_false(cond(f, "(true or false) and false"));
    /* not binds tightest: (not true) or true */
    assert_true(cond(f, "not true or true"));
    assert_false(cond(f, "not (true or true)"));
    assert_false(cond(f, "not true and true"));
    assert_true(cond(f, "not false and not false"));
    assert_true(cond(f, "((((true))))"));
    /* a chain decides left to right */
    assert_true(cond(f, "false or false or false or true"));
    assert_false(cond(f, "true and true and true and false"));
    /* not applies to a comparison */
    assert_true(cond(f, "not 1 == 2"));
}

static void test_short_circuit(void **state)
{
    struct fixture *f = *state;
    /* 1 / 0 is a runtime error; it is never evaluated when the left side decides */
    assert_true(cond(f, "true or 1 / 0 == 1"));
    assert_false(cond(f, "false and 1 / 0 == 1"));
    struct error err = {0};
    struct ottl_condition *c = ottl_condition_parse(OTTL_CTX_SPAN, "false or 1 / 0 == 1", &err);
    assert_non_null(c);
    bool r;
    assert_int_equal(ottl_condition_eval(c, &f->it, &r, &err), -1);
    assert_non_null(strstr(err.msg, "divide by 0"));
    ottl_condition_free(c);
}

static void test_comparisons(void **state)
{
    struct fixture *f = *state;
    /* int with int, int with float (as float64), float with float */
    assert_true(cond(f, "1 == 1"));
    assert_true(cond(f, "1 < 2"));
    assert_true(cond(f, "2 >= 2"));
    assert_false(cond(f, "2 > 2"));
    assert_true(cond(f, "1 == 1.0"));
    assert_true(cond(f, "1 < 1.5"));
    assert_true(cond(f, "2.5 <= 2.5"));
    /* strings as Go strings */
    assert_true(cond(f, "\"a\" < \"b\""));
    assert_true(cond(f, "\"abc\" == \"abc\""));
    assert_true(cond(f, "\"B\" < \"a\""));
    /* bools: false < true */
    assert_true(cond(f, "false < true"));
    assert_true(cond(f, "true == true"));
    /* nil equals only nil */
    assert_true(cond(f, "nil == nil"));
    assert_false(cond(f, "nil == 0"));
    assert_true(cond(f, "nil != \"\""));
    /* bytes byte for byte */
    assert_true(cond(f, "0x0102 == 0x0102"));
    assert_false(cond(f, "0x0102 == 0x0103"));
    /* types that do not compare: not equal, never less or greater */
    assert_false(cond(f, "1 == \"1\""));
    assert_true(cond(f, "1 != \"1\""));
    assert_false(cond(f, "\"a\" > 1"));
    assert_false(cond(f, "\"a\" < 1"));
    assert_false(cond(f, "true == 1"));
    /* lists and maps by content */
    assert_true(cond(f, "[1, \"a\"] == [1, \"a\"]"));
    assert_false(cond(f, "[1, 2] == [2, 1]"));
    assert_true(cond(f, "{\"k\": 1, \"j\": [true]} == {\"k\": 1, \"j\": [true]}"));
    assert_true(cond(f, "{} == {}"));
    assert_true(cond(f, "[] == []"));
}

static void test_math(void **state)
{
    struct fixture *f = *state;
    assert_true(cond(f, "1 + 2 * 3 == 7"));
    assert_true(cond(f, "(1 + 2) * 3 == 9"));
    assert_true(cond(f, "10 - 4 - 3 == 3"));          /* left to right */
    assert_true(cond(f, "100 / 10 / 5 == 2"));
    assert_true(cond(f, "7 / 2 == 3"));               /* Go's int division truncates */
    assert_true(cond(f, "-7 / 2 == -3"));
    assert_true(cond(f, "7.0 / 2 == 3.5"));           /* int with float is float */
    assert_true(cond(f, "1 + 0.5 == 1.5"));
    assert_true(cond(f, "-3 + 1 == -2"));
    assert_true(cond(f, "2 * -3 == -6"));
    assert_true(cond(f, "-(2 + 3) == -5"));
    assert_true(cond(f, "+4 == 4"));
    assert_true(cond(f, "-.5 == -0.5"));
    assert_true(cond(f, "1. == 1"));
    assert_true(cond(f, "1.5e2 == 150"));
    assert_true(cond(f, "5-1 == 4"));                 /* no sign in number tokens */
    /* int64 wraps as in Go */
    assert_true(cond(f, "9223372036854775807 + 1 == -9223372036854775807 - 1"));
    /* math on paths */
    assert_true(cond(f, "attributes[\"n\"] * 2 + 1 == 11"));
    assert_true(cond(f, "-attributes[\"n\"] == -5"));
    assert_true(cond(f, "end_time - start_time == end_time - start_time"));

    /* runtime type errors */
    struct error err = {0};
    struct ottl_condition *c = ottl_condition_parse(OTTL_CTX_SPAN, "name + 1 == 1", &err);
    assert_non_null(c);
    bool r;
    assert_int_equal(ottl_condition_eval(c, &f->it, &r, &err), -1);
    ottl_condition_free(c);
    c = ottl_condition_parse(OTTL_CTX_SPAN, "1.5 / 0 == 1", &err);
    assert_non_null(c);
    assert_int_equal(ottl_condition_eval(c, &f->it, &r, &err), -1);
    assert_non_null(strstr(err.msg, "divide by 0"));
    ottl_condition_free(c);
}

static void test_strings_and_escapes(void **state)
{
    struct fixture *f = *state;
    assert_true(cond(f, "\"a\\tb\" == \"a\\u0009b\""));
    assert_true(cond(f, "\"\\x41\\102\" == \"AB\""));
    assert_true(cond(f, "\"\\\"q\\\"\" == \"\\u0022q\\U00000022\""));
    assert_true(cond(f, "\"\\\\\" != \"\\\\\\\\\""));
    assert_true(cond(f, "\"é\" == \"\\u00e9\""));
    assert_true(cond(f, "\"\" == \"\""));
    refused("\"\\q\" == \"\"", false, 2, "invalid escape");
    refused("\"a\" == \"\\'\"", false, 9, "invalid escape");
    refused("\"abc", false, 1, "unterminated string");
    refused("\"\\uD800\" == \"\"", false, 2, "invalid unicode");
    refused("name == 0x123", false, 9, "odd number of hex digits");
    refused("1 == 99999999999999999999", false, 6, "out of range");
}

static void test_paths(void **state)
{
    struct fixture *f = *state;
    assert_true(cond(f, "name == \"GET /health\""));
    assert_true(cond(f, "span.name == \"GET /health\""));
    assert_true(cond(f, "attributes[\"http.route\"] == \"/health\""));
    assert_true(cond(f, "attributes[\"missing\"] == nil"));
    /* a key may be an expression: the value of another attribute */
    assert_true(cond(f, "attributes[attributes[\"which\"]] == \"/health\""));
    assert_true(cond(f, "kind == SPAN_KIND_SERVER"));
    assert_true(cond(f, "kind != SPAN_KIND_CLIENT"));
    refused("nmae == \"x\"", false, 1, "nmae");
    refused("1 == 1 and attributes[\"a\"].x == 1", false, 23, "keys are only allowed");
    refused("kind == SPAN_KIND_NOPE", false, 9, "unknown enum symbol");
}

static void test_converters_in_conditions(void **state)
{
    struct fixture *f = *state;
    assert_true(cond(f, "IsMatch(name, \"^GET\")"));
    assert_false(cond(f, "not IsMatch(name, \"^POST\") and false"));
    assert_true(cond(f, "IsMatch(name, \"^GET\") == true"));
    assert_true(cond(f, "Split(\"a,b,c\", \",\")[1] == \"b\""));
    assert_true(cond(f, "Len(Split(\"a,b,c\", \",\")) + 1 == 4"));
    assert_true(cond(f, "(IsMatch(name, \"health\"))"));
    /* a converter that does not return a bool is a runtime error as a condition */
    struct error err = {0};
    struct ottl_condition *c = ottl_condition_parse(OTTL_CTX_SPAN, "Concat([\"a\"], \"\")", &err);
    assert_non_null(c);
    bool r;
    assert_int_equal(ottl_condition_eval(c, &f->it, &r, &err), -1);
    assert_non_null(strstr(err.msg, "must be a bool"));
    ottl_condition_free(c);
    refused("IsMatch(name, \"(\")", false, 15, "invalid regex");
    refused("Nope(name)", false, 1, "unknown converter \"Nope\"; known:");
    refused("isMatch(name, \"x\")", false, 1, "converter names must start with an uppercase letter");
    refused("Split(\"a\", \",\")[\"k\"] == 1 and Split(\"a\", \",\")[1.5] == 1", false, 47,
            "a key must be a string or an int");
}

static void test_statements_and_named_args(void **state)
{
    struct fixture *f = *state;
    struct error err = {0};
    assert_true(run(f, "set(attributes[\"x\"], 1 + 2) where name == \"GET /health\""));
    assert_true(cond(f, "attributes[\"x\"] == 3"));
    assert_false(run(f, "set(attributes[\"x\"], 4) where name == \"other\""));
    assert_true(cond(f, "attributes[\"x\"] == 3"));
    /* named arguments in any order after the positional ones */
    assert_true(run(f, "set(value = \"v\", target = attributes[\"y\"])"));
    assert_true(cond(f, "attributes[\"y\"] == \"v\""));
    assert_true(run(f, "set(attributes[\"z\"], value = [1, {\"k\": \"w\"}])"));
    assert_true(cond(f, "attributes[\"z\"] == [1, {\"k\": \"w\"}]"));
    assert_true(run(f, "set(name, Concat([\"a\", name], \"-\")) where IsMatch(name, \"^GET\")"));
    assert_true(cond(f, "name == \"a-GET /health\""));

    /* a name matches its parameter as the Collector's strcase.ToCamel finds fields: snake_case
     * and camelCase spellings alike */
    assert_true(run(f, "limit(attributes, 100, priority_keys = [\"x\"])"));
    assert_true(run(f, "limit(attributes, 100, priorityKeys = [\"x\"])"));
    assert_true(cond(f, "ConvertCase(\"AbC\", to_case = \"lower\") == \"abc\""));
    assert_true(cond(f, "ConvertCase(\"AbC\", toCase = \"upper\") == \"ABC\""));
    refused("limit(attributes, 100, priority__keyz = [\"x\"])", true, 24, "no parameter named");
    refused("set(target = attributes[\"y\"], \"v\")", true, 31, "positional argument after a named");
    refused("set(attributes[\"y\"], target = name)", true, 22, "given twice");
    refused("set(attributes[\"y\"], valu = 1)", true, 22, "no parameter named \"valu\"");
    refused("set(attributes[\"y\"], 1, 2)", true, 25, "incorrect number of arguments");
    refused("set(attributes[\"y\"])", true, 1, "missing argument \"value\"");
    refused("set(\"x\", 1)", true, 5, "must be a path");
    refused("Set(name, \"x\")", true, 1, "editor names must start with a lowercase letter");
    refused("sett(name, \"x\")", true, 1, "unknown editor \"sett\"; known:");
    refused("set(name, \"x\")[0]", true, 15, "only paths and converters may be indexed");
    refused("set(name, set(name, \"y\"))", true, 11, "converter names must start with an uppercase");
    refused("set(name, \"x\") when true", true, 16, "expected 'where'");
    refused("set(name, \"x\") where", true, 21, "expected a value");
    refused("name == \"x\"", true, 1, "expected an editor call");
    refused("set(name, \"x\",)", true, 15, "expected a value");
    (void)err;
}

static void test_syntax_errors(void **state)
{
    (void)state;
    refused("1 == ", false, 6, "expected a value, got end of text");
    refused("(true", false, 6, "expected ')'");
    refused("true and", false, 9, "expected a value");
    refused("1 == 1 == 1", false, 8, "unexpected '=='");
    refused("1 + \"a\" == 1", false, 5, "expected a value");
    refused("\"a\" + 1 == 1", false, 5, "math takes numbers");
    refused("name", false, 1, "expected a condition");
    refused("(1 + 2)", false, 2, "expected a condition");
    refused("(1 == 2) == true", false, 2, "expected a number, path or converter");
    refused("not not true", false, 5, "expected a value");
    refused("1 == 1 & 2", false, 8, "unexpected character '&'");
    refused("1 == 1 ! 2", false, 8, "unexpected character '!'");
    refused("--1 == 1", false, 2, "after a sign");
    refused("{\"a\" 1} == {}", false, 6, "expected ':'");
    refused("[1, 2 == []", false, 7, "expected ',' or ']'");
    refused("SPAN_KIND_SERVER + 1 == 3", false, 18, "math takes numbers");
}

static void test_bounds(void **state)
{
    struct fixture *f = *state;
    /* nesting beyond OTTL_MAX_DEPTH is refused, not recursed into */
    char deep[1024] = "";
    for (int i = 0; i < 200; i++)
        strcat(deep, "(");
    strcat(deep, "true");
    for (int i = 0; i < 200; i++)
        strcat(deep, ")");
    struct error err = {0};
    assert_null(ottl_condition_parse(OTTL_CTX_SPAN, deep, &err));
    assert_non_null(strstr(err.msg, "nested deeper"));
    /* a text longer than OTTL_MAX_TEXT is refused */
    size_t big = 70 * 1024;
    char *t = malloc(big + 1);
    memset(t, ' ', big);
    memcpy(t, "true", 4);
    t[big] = '\0';
    assert_null(ottl_condition_parse(OTTL_CTX_SPAN, t, &err));
    assert_non_null(strstr(err.msg, "longer than"));
    free(t);
    /* a long chain is wide, not deep: 2000 or-ed comparisons compile and run */
    size_t cap = 2000 * 24 + 16;
    char *chain = malloc(cap);
    size_t l = 0;
    for (int i = 0; i < 2000; i++)
        l += (size_t)snprintf(chain + l, cap - l, "%s%d == %d", i ? " or " : "", i, i == 1999 ? i : -1);
    assert_true(cond(f, chain));
    free(chain);
}

static void test_infer_context(void **state)
{
    (void)state;
    struct error err = {0};
    enum ottl_context c;
    unsigned trace = (1u << OTTL_CTX_RESOURCE) | (1u << OTTL_CTX_SCOPE) | (1u << OTTL_CTX_SPAN) |
                     (1u << OTTL_CTX_SPANEVENT);
    assert_int_equal(ottl_infer_context("span.name == \"x\"", true, trace, &c, &err), 0);
    assert_int_equal(c, OTTL_CTX_SPAN);
    assert_int_equal(ottl_infer_context("resource.attributes[\"a\"] == 1 and spanevent.name == \"e\"",
                                        true, trace, &c, &err), 0);
    assert_int_equal(c, OTTL_CTX_SPANEVENT);
    assert_int_equal(ottl_infer_context("set(resource.attributes[\"a\"], 1) where IsMatch(span.name, \"x\")",
                                        false, trace, &c, &err), 0);
    assert_int_equal(c, OTTL_CTX_SPAN);
    assert_int_equal(ottl_infer_context("name == \"x\"", true, trace, &c, &err), 1);
    assert_int_equal(ottl_infer_context("1 == 1 and log.body == \"x\"", true, trace, &c, &err), -1);
    assert_int_equal(err.code, 12);
    assert_non_null(strstr(err.msg, "not allowed"));
    assert_int_equal(ottl_infer_context("1 ==", true, trace, &c, &err), -1);
    assert_int_equal(err.code, 5);
}

static void test_context_names(void **state)
{
    (void)state;
    enum ottl_context c;
    for (int i = 0; i < OTTL_CTX_COUNT; i++) {
        assert_int_equal(ottl_context_parse(ottl_context_name((enum ottl_context)i), &c), 0);
        assert_int_equal(c, i);
    }
    assert_int_equal(ottl_context_parse("instrumentation_scope", &c), 0);
    assert_int_equal(c, OTTL_CTX_SCOPE);
    assert_int_equal(ottl_context_parse("spans", &c), -1);
    assert_string_equal(ottl_error_mode_names[OTTL_ERROR_IGNORE], "ignore");
    assert_null(ottl_error_mode_names[3]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_boolean_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_circuit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comparisons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_math, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings_and_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_converters_in_conditions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statements_and_named_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test(test_infer_context),
        cmocka_unit_test(test_context_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
