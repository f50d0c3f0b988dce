/* test_ottl.c — the OTTL engine end to end: statements and conditions from the Collector's
 * transform and filter processor READMEs, compiled through ottl.h and run on OTLP structs built
 * here, with the outcome read back from the structs.
 *
 * The one idea: the documented examples are the contract users copy into configs, so each is
 * run as written (our own copies) against a span whose expected state after the statement is
 * worked out by hand from the README's description. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/ottl/ottl_internal.h"
#include "tests/unit/testutil.h"

struct fixture {
    struct arena *a;
    Opentelemetry__Proto__Resource__V1__Resource res;
    Opentelemetry__Proto__Trace__V1__Span span;
    struct ottl_item it;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->a = arena_new(0);
    opentelemetry__proto__resource__v1__resource__init(&f->res);
    f->res.n_attributes = 4;
    f->res.attributes = arena_alloc(f->a, 4 * sizeof *f->res.attributes);
    f->res.attributes[0] = tu_kv_str(f->a, "service.name", "checkout");
    f->res.attributes[1] = tu_kv_str(f->a, "host.name", "localhost");
    f->res.attributes[2] = tu_kv_str(f->a, "process.command_line", "app --password=s3cret --v");
    f->res.attributes[3] = tu_kv_str(f->a, "cloud.region", "eu-west-1");
    opentelemetry__proto__trace__v1__span__init(&f->span);
    f->span.name = arena_strdup(f->a, "operationA");
    f->span.kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL;
    f->span.n_attributes = 3;
    f->span.attributes = arena_alloc(f->a, 3 * sizeof *f->span.attributes);
    f->span.attributes[0] = tu_kv_str(f->a, "container.name", "app_container_1");
    f->span.attributes[1] = tu_kv_str(f->a, "http.request.header.authorization", "Bearer x");
    f->span.attributes[2] = tu_kv_str(f->a, "http.url", "https://h/p?token=abc&x=1");
    f->it.ctx = OTTL_CTX_SPAN;
    f->it.resource = &f->res;
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

static bool run(struct fixture *f, const char *text)
{
    struct error err = {0};
    struct ottl_statement *s = ottl_statement_parse(OTTL_CTX_SPAN, text, &err);
    if (!s)
        fail_msg("'%s' does not compile: %s", text, err.msg);
    assert_true(ottl_statement_edits(s));
    bool applied = false;
    if (ottl_statement_run(s, &f->it, &applied, &err) < 0)
        fail_msg("'%s' fails: %s", text, err.msg);
    ottl_statement_free(s);
    return applied;
}

static bool cond(struct fixture *f, const char *text)
{
    struct error err = {0};
    struct ottl_condition *c = ottl_condition_parse(OTTL_CTX_SPAN, text, &err);
    if (!c)
        fail_msg("'%s' does not compile: %s", text, err.msg);
    assert_string_equal(ottl_condition_text(c), text);
    bool r = false;
    if (ottl_condition_eval(c, &f->it, &r, &err) < 0)
        fail_msg("'%s' fails: %s", text, err.msg);
    ottl_condition_free(c);
    return r;
}

static const char *attr(OttlKeyValue **kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i]->key, key) == 0)
            return kv[i]->value && kv[i]->value->value_case ==
                                       OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
                       ? kv[i]->value->string_value
                       : "(not a string)";
    return NULL;
}

/* transform README: set(attributes["test"], "pass") where name == "operationA" */
static void test_set_where(void **state)
{
    struct fixture *f = *state;
    assert_true(run(f, "set(attributes[\"test\"], \"pass\") where name == \"operationA\""));
    assert_string_equal(attr(f->span.attributes, f->span.n_attributes, "test"), "pass");
    assert_false(run(f, "set(attributes[\"other\"], \"x\") where name == \"operationB\""));
    assert_null(attr(f->span.attributes, f->span.n_attributes, "other"));
    /* set(name, ...) on the span itself, from a resource attribute */
    assert_true(run(f, "set(name, Concat([resource.attributes[\"service.name\"], name], \"/\"))"));
    assert_string_equal(f->span.name, "checkout/operationA");
}

/* transform README: delete_key(attributes, "http.request.header.authorization") */
static void test_delete_key(void **state)
{
    struct fixture *f = *state;
    assert_true(run(f, "delete_key(attributes, \"http.request.header.authorization\")"));
    assert_int_equal(f->span.n_attributes, 2);
    assert_null(attr(f->span.attributes, f->span.n_attributes, "http.request.header.authorization"));
    assert_non_null(attr(f->span.attributes, f->span.n_attributes, "container.name"));
}

/* transform README: keep_keys(resource.attributes, ["service.name", "service.namespace",
 * "cloud.region"]) — from a span statement, on the span's resource */
static void test_keep_keys(void **state)
{
    struct fixture *f = *state;
    assert_true(run(f, "keep_keys(resource.attributes, [\"service.name\", \"service.namespace\", \"cloud.region\"])"));
    assert_int_equal(f->res.n_attributes, 2);
    assert_string_equal(attr(f->res.attributes, f->res.n_attributes, "service.name"), "checkout");
    assert_string_equal(attr(f->res.attributes, f->res.n_attributes, "cloud.region"), "eu-west-1");
    assert_null(attr(f->res.attributes, f->res.n_attributes, "host.name"));
}

/* transform README: replace_pattern(resource.attributes["process.command_line"],
 * "password\\=[^\\s]*(\\s?)", "password=***") */
static void test_replace_pattern(void **state)
{
    struct fixture *f = *state;
    assert_true(run(f, "replace_pattern(resource.attributes[\"process.command_line\"], "
                       "\"password\\\\=[^\\\\s]*(\\\\s?)\", \"password=***\")"));
    assert_string_equal(attr(f->res.attributes, f->res.n_attributes, "process.command_line"),
                        "app --password=***--v");
    /* a where clause with IsMatch guards it */
    assert_true(run(f, "replace_pattern(attributes[\"http.url\"], \"token=[^&]*\", \"token=***\") "
                       "where IsMatch(attributes[\"http.url\"], \"token=\")"));
    assert_string_equal(attr(f->span.attributes, f->span.n_attributes, "http.url"),
                        "https://h/p?token=***&x=1");
    assert_false(run(f, "replace_pattern(attributes[\"http.url\"], \"x\", \"y\") "
                        "where IsMatch(attributes[\"http.url\"], \"^ftp:\")"));
}

/* filter README conditions (spans): each drops the span when true */
static void test_filter_conditions(void **state)
{
    struct fixture *f = *state;
    assert_true(cond(f, "attributes[\"container.name\"] == \"app_container_1\""));
    assert_true(cond(f, "resource.attributes[\"host.name\"] == \"localhost\""));
    assert_false(cond(f, "name == \"app_3\""));
    assert_true(cond(f, "kind == SPAN_KIND_INTERNAL"));
    assert_true(cond(f, "IsMatch(resource.attributes[\"host.name\"], \"local.*\")"));
    assert_false(cond(f, "attributes[\"http.route\"] == \"/health\" and IsMatch(name, \"^GET\")"));
    assert_true(cond(f, "attributes[\"http.route\"] == nil"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_where, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_conditions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
