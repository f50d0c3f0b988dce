/* test_config_source.c — --config sources as the Collector's providers and resolver read them:
 * bare paths and file:, env:VAR[:-default], yaml: fragments with `::` keys; merge in order with
 * lists replaced, or appended under `service` with confmap.enableMergeAppendOption; other
 * schemes refused by name; positions name the source.
 *
 * The one idea: each test resolves small sources whose expected merged tree is written next to
 * them, and compares by printing both trees the same way (config_print_yaml). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/config_print.h"
#include "core/config_source.h"
#include "core/featuregate.h"

static char *yaml_of(const struct cnode *n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct error err = {0};
    assert_int_equal(config_print_yaml(n, f, &err), 0);
    fclose(f);
    return buf;
}

/* The resolved tree prints as `expected` (itself parsed and printed, so layout is free). */
static void assert_tree(const struct cnode *got, const char *expected)
{
    struct error err = {0};
    struct cnode *want = config_parse_string(expected, "want", &err);
    assert_non_null(want);
    char *a = yaml_of(got), *b = yaml_of(want);
    if (strcmp(a, b) != 0)
        fail_msg("got:\n%s\nwant:\n%s", a, b);
    free(a);
    free(b);
    cnode_free(want);
}

struct warnings {
    char text[4096];
    int n;
};

static void collect(void *ctx, const char *msg)
{
    struct warnings *w = ctx;
    size_t l = strlen(w->text);
    snprintf(w->text + l, sizeof w->text - l, "%s\n", msg);
    w->n++;
}

static char *write_file(const char *text)
{
    char *path = strdup("/tmp/test_config_source.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int reset(void **state)
{
    (void)state;
    featuregate_reset();
    return 0;
}

static void test_file_bare_and_scheme(void **state)
{
    (void)state;
    char *path = write_file("a: 1\nb: {c: 2}\n");
    char uri[512];
    snprintf(uri, sizeof uri, "file:%s", path);
    struct error err = {0};
    const char *uris[] = {path, uri};
    for (size_t i = 0; i < 2; i++) {
        struct cnode *t = config_source_load(uris[i], NULL, NULL, &err);
        assert_non_null(t);
        assert_tree(t, "a: 1\nb: {c: 2}\n");
        /* a file source is named by its path, without the scheme */
        assert_string_equal(cnode_get(t, "b")->file, path);
        cnode_free(t);
    }
    unlink(path);
    free(path);
    /* a missing file names the path */
    assert_null(config_source_load("file:/nonexistent/x.yaml", NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/x.yaml: cannot open"));
}

static void test_env_source(void **state)
{
    (void)state;
    struct error err = {0};
    struct warnings w = {0};
    setenv("LLMOTLP_T_CFG", "receivers:\n  otlp:\n    bad: [\n", 1);
    /* an error inside the variable's YAML names the variable and the line in it */
    assert_null(config_source_load("env:LLMOTLP_T_CFG", collect, &w, &err));
    assert_non_null(strstr(err.msg, "env:LLMOTLP_T_CFG:"));
    assert_non_null(strstr(err.msg, "YAML syntax error"));

    setenv("LLMOTLP_T_CFG", "exporters:\n  debug:\n    verbosity: detailed\n", 1);
    struct cnode *t = config_source_load("env:LLMOTLP_T_CFG", collect, &w, &err);
    assert_non_null(t);
    const struct cnode *k = cnode_find_key(t, "exporters.debug.verbosity");
    assert_non_null(k);
    char pos[128];
    assert_string_equal(cnode_where(k, pos, sizeof pos), "env:LLMOTLP_T_CFG:3:5");
    cnode_free(t);

    /* unset: the default when given (taken as YAML), else empty with a warning */
    unsetenv("LLMOTLP_T_CFG");
    t = config_source_load("env:LLMOTLP_T_CFG:-{a: 1}", collect, &w, &err);
    assert_non_null(t);
    assert_tree(t, "a: 1\n");
    cnode_free(t);
    assert_int_equal(w.n, 0);
    t = config_source_load("env:LLMOTLP_T_CFG", collect, &w, &err);
    assert_non_null(t);
    assert_int_equal(t->kind, CNODE_NULL);
    cnode_free(t);
    assert_int_equal(w.n, 1);
    assert_non_null(strstr(w.text, "env:LLMOTLP_T_CFG: environment variable 'LLMOTLP_T_CFG' is "
                                   "not set"));
    /* names follow the Collector's pattern */
    assert_null(config_source_load("env:1BAD", NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "invalid name"));
}

static void test_yaml_source_and_double_colon_keys(void **state)
{
    (void)state;
    struct error err = {0};
    struct cnode *t = config_source_load("yaml:exporters::otlp/2::sending_queue::queue_size: 5",
                                         NULL, NULL, &err);
    assert_non_null(t);
    assert_tree(t, "exporters: {otlp/2: {sending_queue: {queue_size: 5}}}\n");
    /* each part keeps its column in the key; the source is named by its URI, quoted */
    const struct cnode *k = cnode_find_key(t, "exporters.otlp/2.sending_queue");
    char pos[128];
    assert_string_equal(cnode_where(k, pos, sizeof pos),
                        "'yaml:exporters::otlp/2::sending_queue::queue_size: 5':1:20");
    cnode_free(t);

    /* `::` keys at any depth of maps, merged with a sibling of the same first part; keys inside
     * lists are left alone, as confmap's flattening stops at lists */
    t = config_source_load("yaml:{a: {b::c: 1, b: {d: 2}}, l: [{x::y: 3}], e::f: 4, e: {g: 5}}",
                           NULL, NULL, &err);
    assert_non_null(t);
    assert_tree(t, "a: {b: {d: 2, c: 1}}\nl: [{x::y: 3}]\ne: {g: 5, f: 4}\n");
    cnode_free(t);
}

static void test_other_schemes_refused(void **state)
{
    (void)state;
    struct error err = {0};
    assert_null(config_source_load("https://example.com/c.yaml", NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "config source scheme 'https' is not supported; use file:, "
                                    "env: or yaml:"));
    assert_null(config_source_load("http://example.com/c.yaml", NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "scheme 'http' is not supported"));
    assert_null(config_source_load("s3:bucket/c.yaml", NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "scheme 's3' is not supported"));
    /* one letter before ':' is a drive letter, a path: the file error, not a scheme error */
    assert_null(config_source_load("C:/x.yaml", NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_null(config_source_resolve(NULL, 0, NULL, 0, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "at least one config flag must be provided"));
}

static void test_merge_replaces_lists(void **state)
{
    (void)state;
    const char *uris[] = {
        "yaml:{receivers: {otlp: {protocols: {grpc: {endpoint: a:1}}}}, "
        "service: {extensions: [x], pipelines: {traces: {receivers: [otlp], exporters: [e1]}}}}",
        "yaml:{service: {extensions: [y], pipelines: {traces: {exporters: [e2, e1]}}}}",
        "env:LLMOTLP_T_EMPTY", /* an empty source merges nothing */
        "yaml:receivers::otlp::protocols::http: {endpoint: b:2}",
    };
    unsetenv("LLMOTLP_T_EMPTY");
    struct error err = {0};
    struct warnings w = {0};
    const char *sets[] = {"service::pipelines::traces::receivers=[r2]"};
    struct cnode *t = config_source_resolve(uris, 4, sets, 1, collect, &w, &err);
    assert_non_null(t);
    assert_tree(t, "receivers: {otlp: {protocols: {grpc: {endpoint: a:1}, http: {endpoint: b:2}}}}\n"
                   "service: {extensions: [y], pipelines: {traces: {receivers: [r2], "
                   "exporters: [e2, e1]}}}\n");
    cnode_free(t);
    assert_int_equal(w.n, 1); /* the empty env: source */
}

static void test_merge_append_gate(void **state)
{
    (void)state;
    struct error err = {0};
    assert_int_equal(featuregate_apply("confmap.enableMergeAppendOption", NULL, NULL, &err), 0);
    const char *uris[] = {
        "yaml:{exporters: {e: {l: [1, 2]}}, service: {extensions: [x, y], "
        "pipelines: {traces: {receivers: [r1], exporters: [e1]}}}}",
        "yaml:{exporters: {e: {l: [3]}}, service: {extensions: [y, z, z], "
        "pipelines: {traces: {exporters: [e2]}, logs: {receivers: [r3]}}}}",
    };
    struct cnode *t = config_source_resolve(uris, 2, NULL, 0, NULL, NULL, &err);
    assert_non_null(t);
    /* lists under service appended without repeats; lists elsewhere still replaced */
    assert_tree(t, "exporters: {e: {l: [3]}}\n"
                   "service: {extensions: [x, y, z], pipelines: {traces: {receivers: [r1], "
                   "exporters: [e1, e2]}, logs: {receivers: [r3]}}}\n");
    cnode_free(t);
}

/* A key is split at every `::`, however many (confmap splits them all); a key that would nest
 * deeper than the parser allows is refused at its position rather than left half split. */
static void test_long_keys_split_fully_or_refused(void **state)
{
    (void)state;
    char uri[1024] = "yaml:";
    for (int i = 0; i < 99; i++)
        strcat(uri, "k::");
    strcat(uri, "end: v");
    struct error err = {0};
    struct cnode *t = config_source_load(uri, NULL, NULL, &err);
    assert_non_null(t);
    const struct cnode *n = t;
    for (int i = 0; i < 99; i++) {
        assert_int_equal(n->kind, CNODE_MAP);
        assert_int_equal(n->n, 1);
        assert_string_equal(n->keys[0]->value, "k");
        n = n->items[0];
    }
    assert_non_null(cnode_get(n, "end"));
    assert_string_equal(cnode_get(n, "end")->value, "v");
    cnode_free(t);

    strcpy(uri, "yaml:a:\n  ");
    for (int i = 0; i < 256; i++)
        strcat(uri, "k::");
    strcat(uri, "end: v");
    assert_null(config_source_load(uri, NULL, NULL, &err));
    if (!strstr(err.msg, ":2:3: key 'k::k::") || !strstr(err.msg, "deeper than 256 levels"))
        fail_msg("%s", err.msg);
}

/* A list of maps under service (metrics readers) is appended like a list of IDs: an item equal
 * to one already there, key order aside, is not repeated (Go's reflect.DeepEqual), a different one
 * is added. Merging a config over itself therefore changes nothing. */
static void test_merge_append_lists_of_maps(void **state)
{
    (void)state;
    struct error err = {0};
    assert_int_equal(featuregate_apply("confmap.enableMergeAppendOption", NULL, NULL, &err), 0);
    const char *uris[] = {
        "yaml:service::telemetry::metrics::readers: [{pull: {exporter: {prometheus: "
        "{host: localhost, port: 8888}}}}]",
        "yaml:service::telemetry::metrics::readers: [{pull: {exporter: {prometheus: "
        "{port: 8888, host: localhost}}}}, {pull: {exporter: {prometheus: {port: 9999}}}}]",
    };
    struct cnode *t = config_source_resolve(uris, 2, NULL, 0, NULL, NULL, &err);
    assert_non_null(t);
    assert_tree(t, "service: {telemetry: {metrics: {readers: ["
                   "{pull: {exporter: {prometheus: {host: localhost, port: 8888}}}}, "
                   "{pull: {exporter: {prometheus: {port: 9999}}}}]}}}\n");
    cnode_free(t);
}

static void test_unset_variables_warned_after_merge(void **state)
{
    (void)state;
    unsetenv("LLMOTLP_T_A");
    unsetenv("LLMOTLP_T_B");
    const char *uris[] = {"yaml:{a: '${env:LLMOTLP_T_A}', b: '${LLMOTLP_T_B}'}",
                          "yaml:{a: set}"};
    struct error err = {0};
    struct warnings w = {0};
    struct cnode *t = config_source_resolve(uris, 2, NULL, 0, collect, &w, &err);
    assert_non_null(t);
    cnode_free(t);
    /* `a` was overridden by the second source: only `b` is reported, at its value (columns
     * count in the fragment) */
    assert_int_equal(w.n, 1);
    assert_non_null(strstr(w.text, "environment variable LLMOTLP_T_B is not set"));
    if (!strstr(w.text, "':1:30: "))
        fail_msg("%s", w.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_file_bare_and_scheme, reset),
        cmocka_unit_test_setup(test_env_source, reset),
        cmocka_unit_test_setup(test_yaml_source_and_double_colon_keys, reset),
        cmocka_unit_test_setup(test_other_schemes_refused, reset),
        cmocka_unit_test_setup(test_merge_replaces_lists, reset),
        cmocka_unit_test_setup(test_merge_append_gate, reset),
        cmocka_unit_test_setup(test_merge_append_lists_of_maps, reset),
        cmocka_unit_test_setup(test_long_keys_split_fully_or_refused, reset),
        cmocka_unit_test_setup(test_unset_variables_warned_after_merge, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
