/* test_matchprops.c — core/matchprops against the Collector's filterconfig / filterspan /
 * filterlog / filtermetric: which span, log record or metric a section selects, and the
 * per-signal validation messages.
 *
 * The one idea: items are built by hand with just the fields a property reads, and each case
 * states the Collector's answer worked out from its matchers (unanchored regexp, service name
 * "<nil-service-name>" when absent, library version "" only matching an empty one, severity
 * number with match_undefined). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/matchprops.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;
typedef Opentelemetry__Proto__Resource__V1__Resource resource_t;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope scope_t;

#define V_STR OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE

static struct arena *A;

static kv_t *kv_s(const char *k, const char *v)
{
    kv_t *kv = arena_alloc(A, sizeof *kv);
    opentelemetry__proto__common__v1__key_value__init(kv);
    kv->key = arena_strdup(A, k);
    any_t *x = arena_alloc(A, sizeof *x);
    opentelemetry__proto__common__v1__any_value__init(x);
    x->value_case = V_STR;
    x->string_value = arena_strdup(A, v);
    kv->value = x;
    return kv;
}

static kv_t *kv_i(const char *k, int64_t v)
{
    kv_t *kv = kv_s(k, "");
    kv->value->value_case = V_INT;
    kv->value->int_value = v;
    return kv;
}

static kv_t *kv_d(const char *k, double v)
{
    kv_t *kv = kv_s(k, "");
    kv->value->value_case = V_DOUBLE;
    kv->value->double_value = v;
    return kv;
}

static resource_t *res1(kv_t *a)
{
    resource_t *r = arena_alloc(A, sizeof *r);
    opentelemetry__proto__resource__v1__resource__init(r);
    if (a) {
        r->attributes = arena_alloc(A, sizeof *r->attributes);
        r->attributes[0] = a;
        r->n_attributes = 1;
    }
    return r;
}

static scope_t *scope(const char *name, const char *version)
{
    scope_t *s = arena_alloc(A, sizeof *s);
    opentelemetry__proto__common__v1__instrumentation_scope__init(s);
    s->name = arena_strdup(A, name);
    s->version = arena_strdup(A, version);
    return s;
}

static Opentelemetry__Proto__Trace__V1__Span *span(const char *name, int kind, kv_t *a, kv_t *b)
{
    Opentelemetry__Proto__Trace__V1__Span *s = arena_alloc(A, sizeof *s);
    opentelemetry__proto__trace__v1__span__init(s);
    s->name = arena_strdup(A, name);
    s->kind = kind;
    s->attributes = arena_alloc(A, 2 * sizeof *s->attributes);
    if (a)
        s->attributes[s->n_attributes++] = a;
    if (b)
        s->attributes[s->n_attributes++] = b;
    return s;
}

static struct matchprops *compile(const char *yaml, enum signal sig, struct error *err)
{
    struct cnode *root = config_parse_string(yaml, "mp.yaml", err);
    assert_non_null(root);
    struct matchprops *m = NULL;
    int rc = matchprops_compile_node(cnode_get(root, "include"), sig, "include", NULL, &m, err);
    cnode_free(root);
    if (rc != 0)
        assert_null(m);
    return m;
}

static struct matchprops *must(const char *yaml, enum signal sig)
{
    struct error err = {0};
    struct matchprops *m = compile(yaml, sig, &err);
    if (!m)
        fail_msg("%s", err.msg);
    return m;
}

static void fails(const char *yaml, enum signal sig, const char *frag)
{
    struct error err = {0};
    struct matchprops *m = compile(yaml, sig, &err);
    if (m)
        fail_msg("compiled; expected '%s'", frag);
    if (!strstr(err.msg, frag))
        fail_msg("error '%s' lacks '%s'", err.msg, frag);
}

static int setup(void **state)
{
    (void)state;
    A = arena_new(0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(A);
    return 0;
}

/* The README's include: services (regexp) and attributes, all required. */
static void test_spans_services_attributes(void **state)
{
    (void)state;
    struct matchprops *m = must("include:\n  match_type: regexp\n  services: [\"auth.*\", login]\n"
                                "  attributes:\n  - {key: env, value: ^prod}\n",
                                SIGNAL_TRACES);
    scope_t *sc = scope("lib", "1");
    resource_t *auth = res1(kv_s("service.name", "authservice"));
    resource_t *other = res1(kv_s("service.name", "billing"));
    assert_true(matchprops_match_span(m, auth, sc, span("x", 0, kv_s("env", "production"), NULL)));
    assert_false(matchprops_match_span(m, auth, sc, span("x", 0, kv_s("env", "staging"), NULL)));
    assert_false(matchprops_match_span(m, other, sc, span("x", 0, kv_s("env", "prod"), NULL)));
    assert_false(matchprops_match_span(m, auth, sc, span("x", 0, NULL, NULL)));
    /* regexp compares an int's text */
    matchprops_free(m);
    m = must("include:\n  match_type: regexp\n  attributes:\n  - {key: code, value: '^5'}\n",
             SIGNAL_TRACES);
    assert_true(matchprops_match_span(m, NULL, NULL, span("x", 0, kv_i("code", 503), NULL)));
    assert_false(matchprops_match_span(m, NULL, NULL, span("x", 0, kv_i("code", 200), NULL)));
    matchprops_free(m);
}

static void test_spans_strict(void **state)
{
    (void)state;
    struct matchprops *m = must("include:\n  match_type: strict\n  span_names: [chat]\n"
                                "  span_kinds: [SPAN_KIND_CLIENT]\n"
                                "  attributes:\n  - {key: n, value: 1.5}\n  - {key: present}\n",
                                SIGNAL_TRACES);
    assert_true(matchprops_match_span(m, NULL, NULL, span("chat", 3, kv_d("n", 1.5),
                                                         kv_s("present", "y"))));
    /* strict compares type and value: a string "1.5" is not the double 1.5 */
    assert_false(matchprops_match_span(m, NULL, NULL, span("chat", 3, kv_s("n", "1.5"),
                                                          kv_s("present", "y"))));
    assert_false(matchprops_match_span(m, NULL, NULL, span("chat", 2, kv_d("n", 1.5),
                                                          kv_s("present", "y"))));
    assert_false(matchprops_match_span(m, NULL, NULL, span("chat2", 3, kv_d("n", 1.5),
                                                          kv_s("present", "y"))));
    assert_false(matchprops_match_span(m, NULL, NULL, span("chat", 3, kv_d("n", 1.5), NULL)));
    matchprops_free(m);

    /* a missing service.name is "<nil-service-name>" */
    m = must("include:\n  match_type: strict\n  services: [\"<nil-service-name>\"]\n",
             SIGNAL_TRACES);
    assert_true(matchprops_match_span(m, res1(NULL), NULL, span("a", 0, NULL, NULL)));
    assert_false(matchprops_match_span(m, res1(kv_s("service.name", "s")), NULL,
                                       span("a", 0, NULL, NULL)));
    matchprops_free(m);
}

static void test_libraries_and_resources(void **state)
{
    (void)state;
    struct matchprops *m = must("include:\n  match_type: strict\n  libraries:\n"
                                "  - {name: openai, version: ''}\n"
                                "  resources:\n  - {key: tier, value: gold}\n",
                                SIGNAL_TRACES);
    resource_t *gold = res1(kv_s("tier", "gold"));
    assert_true(matchprops_match_span(m, gold, scope("openai", ""), span("a", 0, NULL, NULL)));
    assert_false(matchprops_match_span(m, gold, scope("openai", "1.0"), span("a", 0, NULL, NULL)));
    assert_false(matchprops_match_span(m, res1(kv_s("tier", "free")), scope("openai", ""),
                                       span("a", 0, NULL, NULL)));
    matchprops_free(m);
    m = must("include:\n  match_type: strict\n  libraries:\n  - {name: openai}\n",
             SIGNAL_TRACES);
    assert_true(matchprops_match_span(m, NULL, scope("openai", "2"), span("a", 0, NULL, NULL)));
    matchprops_free(m);
}

static void test_logs(void **state)
{
    (void)state;
    struct matchprops *m = must("include:\n  match_type: regexp\n  log_bodies: [timeout]\n"
                                "  log_severity_number: {min: WARN, match_undefined: false}\n",
                                SIGNAL_LOGS);
    Opentelemetry__Proto__Logs__V1__LogRecord lr;
    opentelemetry__proto__logs__v1__log_record__init(&lr);
    any_t body;
    opentelemetry__proto__common__v1__any_value__init(&body);
    body.value_case = V_STR;
    body.string_value = "upstream timeout after 30s";
    lr.body = &body;
    lr.severity_number = 13;
    assert_true(matchprops_match_log(m, NULL, NULL, &lr));
    lr.severity_number = 9;
    assert_false(matchprops_match_log(m, NULL, NULL, &lr));
    lr.severity_number = 0;
    assert_false(matchprops_match_log(m, NULL, NULL, &lr));
    lr.severity_number = 17;
    body.string_value = "ok";
    assert_false(matchprops_match_log(m, NULL, NULL, &lr));
    matchprops_free(m);
}

static void test_metrics_names_only(void **state)
{
    (void)state;
    struct matchprops *m = must("include:\n  match_type: strict\n  metric_names: [a.b]\n",
                                SIGNAL_METRICS);
    Opentelemetry__Proto__Metrics__V1__Metric mt;
    opentelemetry__proto__metrics__v1__metric__init(&mt);
    mt.name = "a.b";
    assert_true(matchprops_match_metric(m, NULL, NULL, &mt));
    mt.name = "a.c";
    assert_false(matchprops_match_metric(m, NULL, NULL, &mt));
    assert_true(matchprops_skip_metric(m, NULL, NULL, NULL, &mt));
    matchprops_free(m);
    /* without metric_names a metrics include selects everything: no matcher at all */
    struct error err = {0};
    assert_null(compile("include:\n  match_type: strict\n  attributes: [{key: a}]\n",
                        SIGNAL_METRICS, &err));
    assert_string_equal(err.msg, "");
}

static void test_skip_include_then_exclude(void **state)
{
    (void)state;
    struct matchprops *inc = must("include:\n  match_type: strict\n  span_names: [a, b]\n",
                                  SIGNAL_TRACES);
    struct matchprops *exc = must("include:\n  match_type: strict\n  span_names: [b]\n",
                                  SIGNAL_TRACES);
    assert_false(matchprops_skip_span(inc, exc, NULL, NULL, span("a", 0, NULL, NULL)));
    assert_true(matchprops_skip_span(inc, exc, NULL, NULL, span("b", 0, NULL, NULL)));
    assert_true(matchprops_skip_span(inc, exc, NULL, NULL, span("c", 0, NULL, NULL)));
    assert_false(matchprops_skip_span(NULL, exc, NULL, NULL, span("c", 0, NULL, NULL)));
    matchprops_free(inc);
    matchprops_free(exc);
}

static void test_validation(void **state)
{
    (void)state;
    fails("include:\n  match_type: strict\n  log_bodies: [x]\n", SIGNAL_TRACES,
          "mp.yaml:3:3: include.log_bodies: log_bodies should not be specified for trace spans");
    fails("include:\n  match_type: strict\n", SIGNAL_TRACES,
          "at least one of \"services\", \"span_names\"");
    fails("include:\n  match_type: strict\n  services: [a]\n", SIGNAL_LOGS,
          "services, span_names, and span_kinds are not valid for log records");
    fails("include:\n  match_type: strict\n  span_kinds: [CLIENT]\n", SIGNAL_TRACES,
          "span_kinds string must match one of the standard span kinds when match_type=strict");
    fails("include:\n  span_names: [a]\n", SIGNAL_TRACES,
          "unrecognized match_type: '', valid types are: [regexp strict]");
    fails("include:\n  match_type: regexp\n  attributes: [{key: a, value: 5}]\n", SIGNAL_TRACES,
          "match_type=regexp for \"a\" only supports Str, but found Int");
    fails("include:\n  match_type: regexp\n  span_names: ['(']\n", SIGNAL_TRACES,
          "error parsing regexp");
    fails("include:\n  match_type: strict\n  attributes: [{value: 1}]\n", SIGNAL_TRACES,
          "can't have empty key in the list of attributes");
    fails("include:\n  match_type: strict\n  span_namez: [a]\n", SIGNAL_TRACES, "span_namez");
}

/* matchprops_compile_attributes: the attribute matcher alone, as the filter processor's metrics
 * resource_attributes use it; strict compares value and type, regexp searches the text of a
 * Str/Bool/Int/Double, no value is presence only, an empty list is nothing to check. */
static void test_attributes_alone(void **state)
{
    (void)state;
    struct error err = {0};
    struct cnode *root = config_parse_string(
        "include:\n  match_type: regexp\n  resources:\n    - key: container.name\n"
        "      value: app_.*_1\n    - key: zone\n", "mp.yaml", &err);
    assert_non_null(root);
    const struct cnode *node = cnode_get(root, "include");
    struct matchprops_config cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(matchprops_fields, node, &cfg, &err), 0);
    struct matchprops *m = NULL;
    assert_int_equal(matchprops_compile_attributes(&cfg, node, cfg.resources, "resources",
                                                   "include", &m, &err), 0);
    assert_non_null(m);
    kv_t *both[2] = {kv_s("container.name", "my_app_x_1"), kv_i("zone", 3)};
    assert_true(matchprops_match_attributes(m, both, 2));
    kv_t *no_zone[1] = {kv_s("container.name", "app_x_1")};
    assert_false(matchprops_match_attributes(m, no_zone, 1));
    kv_t *other[2] = {kv_s("container.name", "app_x_2"), kv_i("zone", 3)};
    assert_false(matchprops_match_attributes(m, other, 2));
    assert_false(matchprops_match_attributes(m, NULL, 0));
    matchprops_free(m);

    /* an empty list: nothing to check */
    assert_int_equal(matchprops_compile_attributes(&cfg, node, cnode_get(node, "match_type"),
                                                   "resources", "include", &m, &err), -1);
    struct cnode *empty = config_parse_string("l: []\n", "e.yaml", &err);
    assert_int_equal(matchprops_compile_attributes(&cfg, node, cnode_get(empty, "l"),
                                                   "resources", "include", &m, &err), 0);
    assert_null(m);
    cnode_free(empty);
    config_free_bound(matchprops_fields, &cfg);
    cnode_free(root);
}

/* matchprops_config.names: a caller's own key names in messages and positions. */
static void test_names_alias(void **state)
{
    (void)state;
    struct error err = {0};
    struct cnode *root = config_parse_string(
        "include:\n  match_type: regexp\n  attributes:\n    - key: n\n      value: 3\n",
        "mp.yaml", &err);
    assert_non_null(root);
    const struct cnode *node = cnode_get(root, "include");
    struct matchprops_config cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(matchprops_fields, node, &cfg, &err), 0);
    static const struct matchprops_names names = {.attributes = "record_attributes"};
    cfg.names = &names;
    struct matchprops *m = NULL;
    assert_int_equal(matchprops_compile(&cfg, node, SIGNAL_LOGS, "logs.include", NULL, &m, &err),
                     -1);
    assert_non_null(strstr(err.msg, "mp.yaml:5:14: logs.include.record_attributes[0]: error "
                                    "creating attribute filters: match_type=regexp for \"n\" "
                                    "only supports Str, but found Int"));
    config_free_bound(matchprops_fields, &cfg);
    cnode_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_spans_services_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spans_strict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_libraries_and_resources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_names_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skip_include_then_exclude, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attributes_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_alias, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
