/* test_config.c — the config loader and binder: every error names file:line:col and what was
 * expected; env expansion, merge and --set behave as the Collector's; defaults, presence and
 * freeing of bound configs; hostile YAML fails cleanly.
 *
 * The one idea: each test parses a small YAML text whose positions are obvious by eye, so the
 * asserted line:col can be checked against the text right above it. */
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
#include "core/error.h"
#include "core/log.h"

/* ---- a field table exercising every type ----------------------------------------------------- */

static const char *const levels[] = {"basic", "normal", "detailed", NULL};

struct tls_cfg {
    bool insecure;
    char *ca_file;
};

struct grpc_cfg {
    char *endpoint;
    int64_t max_recv_msg_size_mib;
};

struct test_cfg {
    bool enabled;
    int64_t count;
    double ratio;
    char *name;
    int64_t timeout;
    int level;
    struct config_kv_list headers;
    struct config_str_list receivers;
    struct tls_cfg tls;
    bool grpc_present;
    struct grpc_cfg grpc;
    const struct cnode *raw;
    int64_t bounded_wait;
};

static const struct config_field tls_fields[] = {
    {.name = "insecure", .type = CFG_BOOL, .offset = offsetof(struct tls_cfg, insecure), .def = "false",
     .doc = "disable TLS"},
    {.name = "ca_file", .type = CFG_STRING, .offset = offsetof(struct tls_cfg, ca_file),
     .doc = "CA bundle"},
    {.name = NULL},
};

static const struct config_field grpc_fields[] = {
    {.name = "endpoint", .type = CFG_STRING, .offset = offsetof(struct grpc_cfg, endpoint),
     .def = "0.0.0.0:4317", .doc = "listen address"},
    {.name = "max_recv_msg_size_mib", .type = CFG_INT,
     .offset = offsetof(struct grpc_cfg, max_recv_msg_size_mib), .def = "4"},
    {.name = NULL},
};

static const struct config_field test_fields[] = {
    {.name = "enabled", .type = CFG_BOOL, .offset = offsetof(struct test_cfg, enabled), .def = "true",
     .doc = "turn it on"},
    {.name = "count", .type = CFG_INT, .offset = offsetof(struct test_cfg, count), .def = "10",
     .min = 1, .max = 100, .doc = "how many"},
    {.name = "ratio", .type = CFG_DOUBLE, .offset = offsetof(struct test_cfg, ratio), .def = "0.5"},
    {.name = "name", .type = CFG_STRING, .offset = offsetof(struct test_cfg, name), .def = "default-name"},
    {.name = "timeout", .type = CFG_DURATION, .offset = offsetof(struct test_cfg, timeout), .def = "5s",
     .doc = "per attempt"},
    {.name = "level", .type = CFG_ENUM, .offset = offsetof(struct test_cfg, level), .def = "normal",
     .choices = levels, .doc = "how much to say"},
    {.name = "headers", .type = CFG_STRING_MAP, .offset = offsetof(struct test_cfg, headers)},
    {.name = "receivers", .type = CFG_STRING_LIST, .offset = offsetof(struct test_cfg, receivers),
     .def = "[otlp]"},
    {.name = "tls", .type = CFG_SECTION, .offset = offsetof(struct test_cfg, tls), .sub = tls_fields},
    {.name = "grpc", .type = CFG_PRESENCE, .offset = offsetof(struct test_cfg, grpc), .sub = grpc_fields,
     .present_offset = offsetof(struct test_cfg, grpc_present)},
    {.name = "raw", .type = CFG_RAW, .offset = offsetof(struct test_cfg, raw)},
    {.name = "bounded_wait", .type = CFG_DURATION, .offset = offsetof(struct test_cfg, bounded_wait),
     .def = "1s", .min = 1000000, .max = 60000000000LL},
    {.name = NULL},
};

struct req_cfg {
    char *endpoint;
    struct grpc_cfg grpc;
};

static const struct config_field req_grpc_fields[] = {
    {.name = "endpoint", .type = CFG_STRING, .offset = offsetof(struct grpc_cfg, endpoint), .required = true},
    {.name = "max_recv_msg_size_mib", .type = CFG_INT,
     .offset = offsetof(struct grpc_cfg, max_recv_msg_size_mib)},
    {.name = NULL},
};

static const struct config_field req_fields[] = {
    {.name = "endpoint", .type = CFG_STRING, .offset = offsetof(struct req_cfg, endpoint), .required = true},
    {.name = "grpc", .type = CFG_SECTION, .offset = offsetof(struct req_cfg, grpc), .sub = req_grpc_fields},
    {.name = NULL},
};

/* ---- helpers ------------------------------------------------------------------------------- */

static struct cnode *parse_ok(const char *yaml)
{
    struct error err = {0};
    struct cnode *n = config_parse_string(yaml, "t.yaml", &err);
    if (!n)
        fail_msg("unexpected parse error: %s", err.msg);
    return n;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, hay);
}

/* Parses, expecting failure; returns the message. */
static void parse_fails(const char *yaml, const char *const *needles)
{
    struct error err = {0};
    struct cnode *n = config_parse_string(yaml, "t.yaml", &err);
    if (n) {
        cnode_free(n);
        fail_msg("parse of \"%s\" should have failed", yaml);
    }
    for (size_t i = 0; needles[i]; i++)
        assert_contains(err.msg, needles[i]);
}

/* Binds test_fields from yaml, expecting failure with every needle in the message. */
static void bind_fails_with(const struct config_field *fields, size_t size, const char *yaml, ...)
{
    struct cnode *root = parse_ok(yaml);
    void *cfg = calloc(1, size);
    struct error err = {0};
    int rc = config_bind(fields, root, cfg, &err);
    config_free_bound(fields, cfg);
    free(cfg);
    cnode_free(root);
    if (rc == 0)
        fail_msg("bind of \"%s\" should have failed", yaml);
    va_list ap;
    va_start(ap, yaml);
    for (const char *needle; (needle = va_arg(ap, const char *));)
        assert_contains(err.msg, needle);
    va_end(ap);
}

#define BIND_FAILS(yaml, ...) bind_fails_with(test_fields, sizeof(struct test_cfg), yaml, __VA_ARGS__, NULL)

/* Captures what the logger writes to stderr while `fn` runs. */
static char *capture_stderr(struct cnode **out, const char *yaml)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    struct error err = {0};
    *out = config_parse_string(yaml, "t.yaml", &err);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    static char buf[4096];
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return buf;
}

static const char *scalar_at(const struct cnode *root, const char *a, const char *b)
{
    const struct cnode *n = cnode_get(root, a);
    if (b)
        n = cnode_get(n, b);
    assert_non_null(n);
    assert_int_equal(n->kind, CNODE_SCALAR);
    return n->value;
}

/* ---- parsing and positions ------------------------------------------------------------------ */

static void test_positions_of_keys_and_values(void **state)
{
    (void)state;
    struct cnode *root = parse_ok("a:\n  bb: value\n  list: [x, 'y']\nnull_value:\n");
    assert_int_equal(root->kind, CNODE_MAP);
    const struct cnode *a = cnode_get(root, "a");
    assert_int_equal(a->kind, CNODE_MAP);
    assert_int_equal(a->keys[0]->line, 2);
    assert_int_equal(a->keys[0]->col, 3);
    assert_int_equal(a->items[0]->line, 2);
    assert_int_equal(a->items[0]->col, 7);
    const struct cnode *list = cnode_get(a, "list");
    assert_int_equal(list->kind, CNODE_SEQ);
    assert_int_equal(list->n, 2);
    assert_string_equal(list->items[1]->value, "y");
    assert_true(list->items[1]->quoted);
    assert_false(list->items[0]->quoted);
    assert_int_equal(list->items[1]->col, 13);
    const struct cnode *nv = cnode_get(root, "null_value");
    assert_non_null(nv);
    assert_int_equal(nv->kind, CNODE_NULL);
    char buf[64];
    assert_string_equal(cnode_where(list->items[1], buf, sizeof buf), "t.yaml:3:13");
    assert_null(cnode_get(root, "missing"));
    assert_null(cnode_get(list, "x"));
    cnode_free(root);
}

static void test_null_spellings_and_quoted(void **state)
{
    (void)state;
    struct cnode *root = parse_ok("a: ~\nb: null\nc: NULL\nd: 'null'\ne: \"\"\nf: !!str null\n");
    assert_int_equal(cnode_get(root, "a")->kind, CNODE_NULL);
    assert_int_equal(cnode_get(root, "b")->kind, CNODE_NULL);
    assert_int_equal(cnode_get(root, "c")->kind, CNODE_NULL);
    assert_int_equal(cnode_get(root, "d")->kind, CNODE_SCALAR);
    assert_string_equal(cnode_get(root, "d")->value, "null");
    assert_int_equal(cnode_get(root, "e")->kind, CNODE_SCALAR);
    assert_int_equal(cnode_get(root, "f")->kind, CNODE_SCALAR);
    cnode_free(root);
}

static void test_yaml_syntax_error(void **state)
{
    (void)state;
    parse_fails("a: b\n  c: d\n",
                (const char *const[]){"t.yaml:2:4:", "YAML syntax error", "mapping values", NULL});
    parse_fails("a: [1, 2\nb: c\n",
                (const char *const[]){"t.yaml:2:2:", "YAML syntax error", "while parsing a flow sequence",
                                      "line 1, column 4", NULL});
    parse_fails("a: \"open\n", (const char *const[]){"t.yaml:2:1:", "YAML syntax error", NULL});
}

static void test_duplicate_key(void **state)
{
    (void)state;
    parse_fails("a: 1\nb: 2\na: 3\n",
                (const char *const[]){"t.yaml:3:1:", "duplicate key 'a'", "line 1, column 1", NULL});
    parse_fails("x: {k: 1, k: 2}\n", (const char *const[]){"t.yaml:1:11:", "duplicate key 'k'", NULL});
}

static void test_aliases_are_copied(void **state)
{
    (void)state;
    struct cnode *root = parse_ok("base: &b {x: 1, y: [a, b]}\ncopy: *b\nname: &n hello\nagain: *n\n");
    const struct cnode *copy = cnode_get(root, "copy");
    assert_int_equal(copy->kind, CNODE_MAP);
    assert_ptr_not_equal(copy, cnode_get(root, "base"));
    assert_string_equal(scalar_at(copy, "x", NULL), "1");
    assert_int_equal(cnode_get(copy, "y")->n, 2);
    assert_int_equal(copy->line, 2);
    assert_int_equal(copy->col, 7);
    assert_string_equal(scalar_at(root, "again", NULL), "hello");
    cnode_free(root); /* ASan: copies are independent, nothing freed twice */
}

static void test_merge_keys(void **state)
{
    (void)state;
    struct cnode *root = parse_ok("defaults: &d {timeout: 5s, enabled: true}\n"
                                  "more: &m {queue: 10, timeout: 9s}\n"
                                  "one:\n  <<: *d\n  timeout: 1s\n"
                                  "two: {<<: [*d, *m]}\n"
                                  "again: *d\n"
                                  "null: key named null\n"
                                  "\"<<\": quoted is a plain key\n");
    const struct cnode *one = cnode_get(root, "one");
    assert_int_equal(one->n, 2);
    assert_null(cnode_get(one, "<<"));
    assert_string_equal(scalar_at(one, "timeout", NULL), "1s");
    assert_string_equal(scalar_at(one, "enabled", NULL), "true");
    const struct cnode *two = cnode_get(root, "two");
    assert_int_equal(two->n, 3);
    assert_string_equal(scalar_at(two, "timeout", NULL), "5s");
    assert_string_equal(scalar_at(two, "queue", NULL), "10");
    assert_int_equal(cnode_get(root, "again")->n, 2);
    assert_string_equal(scalar_at(root, "null", NULL), "key named null");
    assert_string_equal(scalar_at(root, "<<", NULL), "quoted is a plain key");
    cnode_free(root);
    parse_fails("a:\n  <<: scalar\n", (const char *const[]){"t.yaml:2:7:", "merge key", NULL});
}

static void test_hostile_yaml(void **state)
{
    (void)state;
    char deep[2 * 300 + 1];
    memset(deep, '[', 300);
    memset(deep + 300, ']', 300);
    deep[600] = '\0';
    parse_fails(deep, (const char *const[]){"t.yaml:1:257:", "nesting deeper than 256", NULL});

    /* Exactly the limit is fine. */
    char ok[2 * 256 + 1];
    memset(ok, '[', 256);
    memset(ok + 256, ']', 256);
    ok[512] = '\0';
    cnode_free(parse_ok(ok));

    /* Block-style nesting is capped the same way. */
    size_t cap = 300 * 302 + 1, len = 0;
    char *block = malloc(cap);
    for (int d = 0; d < 300; d++) {
        for (int i = 0; i < d; i++)
            block[len++] = ' ';
        len += (size_t)sprintf(block + len, "k:\n");
    }
    block[len] = '\0';
    parse_fails(block, (const char *const[]){"nesting deeper than 256", NULL});
    free(block);

    parse_fails("a: &a [x,x,x,x,x,x,x,x,x,x]\n"
                "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
                (const char *const[]){"more than", "nodes", NULL});
    /* Very wide maps are refused before the duplicate check gets expensive. */
    size_t wide_cap = 12000 * 12 + 1, wlen = 0;
    char *wide = malloc(wide_cap);
    for (int i = 0; i < 11000; i++)
        wlen += (size_t)sprintf(wide + wlen, "k%d: 1\n", i);
    parse_fails(wide, (const char *const[]){"more than 10000 keys", NULL});
    free(wide);

    parse_fails("a: &x [*x]\n", (const char *const[]){"t.yaml:1:8:", "unknown anchor", NULL});
    parse_fails("*nothing\n", (const char *const[]){"t.yaml:1:1:", "unknown anchor", NULL});
    parse_fails("? [a]: b\n", (const char *const[]){"map key must be a scalar", NULL});
    parse_fails("--- a\n--- b\n", (const char *const[]){"t.yaml:2:1:", "one YAML document", NULL});
    parse_fails("\t- x\n", (const char *const[]){"YAML syntax error", NULL});
    parse_fails("a: \xff\xfe\n", (const char *const[]){"YAML syntax error", NULL});
}

/* Deterministic byte mutations of a real config: each parse either succeeds or reports an error
 * with a position; none may crash or leak (ASan watches). */
static void test_mutated_configs_never_crash(void **state)
{
    (void)state;
    const char *base = "receivers:\n  otlp:\n    protocols:\n      grpc: {endpoint: \"${env:X:-a}\"}\n"
                       "exporters:\n  otlp: &e\n    endpoint: b:4317\n    headers: {k: v}\n"
                       "  otlp/2: *e\n  otlp/3: {<<: [*e], timeout: &t 1s}\n  x: *t\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [otlp]}\n";
    static const char alphabet[] = "[]{}:-,&*!|><'\"#%@`$\t\n ?a0e";
    size_t len = strlen(base);
    char *buf = malloc(len + 1);
    uint32_t seed = 12345;
    enum log_level saved_level = log_get_level();
    log_set_level(LOG_ERROR); /* mutations make many unset ${env:...}; their warnings are noise */
    int failures = 0, successes = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(buf, base, len + 1);
        for (int k = 0; k < 1 + iter % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            buf[pos] = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
        }
        struct error err = {0};
        struct cnode *n = config_parse_string(buf, "m.yaml", &err);
        if (n) {
            successes++;
            cnode_free(n);
        } else {
            failures++;
            assert_true(strncmp(err.msg, "m.yaml", 6) == 0);
        }
    }
    free(buf);
    log_set_level(saved_level);
    assert_true(failures > 0);
    assert_true(successes > 0);
}

/* ---- env expansion -------------------------------------------------------------------------- */

static void test_env_forms(void **state)
{
    (void)state;
    setenv("LLMOTLP_T_HOST", "collector", 1);
    setenv("LLMOTLP_T_EMPTY", "", 1);
    unsetenv("LLMOTLP_T_UNSET");
    struct cnode *root = parse_ok("a: ${env:LLMOTLP_T_HOST}\n"
                                  "b: ${LLMOTLP_T_HOST}\n"
                                  "c: \"http://${env:LLMOTLP_T_HOST}:4318/v1\"\n"
                                  "d: ${env:LLMOTLP_T_UNSET:-fallback:4317}\n"
                                  "e: ${env:LLMOTLP_T_UNSET:-}\n"
                                  "f: ${env:LLMOTLP_T_HOST:-unused}\n"
                                  "g: $${env:LLMOTLP_T_HOST}\n"
                                  "h: $$${env:LLMOTLP_T_HOST}\n"
                                  "i: cost $5 and $$ ok\n"
                                  "j: ${LLMOTLP_T_EMPTY:-not-used}\n"
                                  "k: ${env:LLMOTLP_T_HOST}${LLMOTLP_T_HOST}\n"
                                  "${env:LLMOTLP_T_HOST}: keys are not expanded\n");
    assert_string_equal(scalar_at(root, "a", NULL), "collector");
    assert_string_equal(scalar_at(root, "b", NULL), "collector");
    assert_string_equal(scalar_at(root, "c", NULL), "http://collector:4318/v1");
    assert_string_equal(scalar_at(root, "d", NULL), "fallback:4317");
    assert_string_equal(scalar_at(root, "e", NULL), "");
    assert_string_equal(scalar_at(root, "f", NULL), "collector");
    assert_string_equal(scalar_at(root, "g", NULL), "${env:LLMOTLP_T_HOST}");
    assert_string_equal(scalar_at(root, "h", NULL), "$collector");
    assert_string_equal(scalar_at(root, "i", NULL), "cost $5 and $ ok");
    assert_string_equal(scalar_at(root, "j", NULL), "");
    assert_string_equal(scalar_at(root, "k", NULL), "collectorcollector");
    assert_non_null(cnode_get(root, "${env:LLMOTLP_T_HOST}"));
    /* The expanded node keeps the position of the scalar it came from. */
    assert_int_equal(cnode_get(root, "c")->line, 3);
    assert_int_equal(cnode_get(root, "c")->col, 4);
    cnode_free(root);
}

static void test_env_unset_warns_and_gives_empty(void **state)
{
    (void)state;
    unsetenv("LLMOTLP_T_UNSET");
    unsetenv("LLMOTLP_T_UNSET2");
    struct error err = {0};
    /* The node names the unset variables; whoever keeps the node reports them (the service warns
     * after merging, so a value a later source overrides is not reported). Parsing logs nothing. */
    struct cnode *root = NULL;
    const char *log = capture_stderr(&root, "x: 1\nendpoint: ${env:LLMOTLP_T_UNSET}\n"
                                            "both: a${LLMOTLP_T_UNSET}b${env:LLMOTLP_T_UNSET2}\n");
    assert_non_null(root);
    assert_null(strstr(log, "LLMOTLP_T_UNSET"));
    assert_string_equal(scalar_at(root, "endpoint", NULL), "");
    assert_string_equal(cnode_get(root, "endpoint")->unset_env, "LLMOTLP_T_UNSET");
    assert_string_equal(cnode_get(root, "both")->unset_env, "LLMOTLP_T_UNSET, LLMOTLP_T_UNSET2");
    assert_null(cnode_get(root, "x")->unset_env);
    cnode_free(root);

    /* A default silences the warning. */
    root = config_parse_string("endpoint: ${env:LLMOTLP_T_UNSET:-x}\n", "t.yaml", &err);
    assert_non_null(root);
    assert_null(cnode_get(root, "endpoint")->unset_env);
    cnode_free(root);
}

static void test_env_whole_value_collections(void **state)
{
    (void)state;
    setenv("LLMOTLP_T_LIST", "[otlp, otlp/2]", 1);
    setenv("LLMOTLP_T_MAP", "{authorization: Bearer x, k: v}", 1);
    setenv("LLMOTLP_T_NUM", "42", 1);
    struct cnode *root = parse_ok("receivers: ${env:LLMOTLP_T_LIST}\n"
                                  "headers: ${LLMOTLP_T_MAP}\n"
                                  "inline: x${env:LLMOTLP_T_LIST}\n"
                                  "num: ${env:LLMOTLP_T_NUM}\n");
    const struct cnode *r = cnode_get(root, "receivers");
    assert_int_equal(r->kind, CNODE_SEQ);
    assert_int_equal(r->n, 2);
    assert_string_equal(r->items[1]->value, "otlp/2");
    assert_int_equal(r->line, 1);
    assert_int_equal(r->col, 12);
    assert_int_equal(r->items[1]->line, 1);
    assert_int_equal(r->items[1]->col, 12);
    const struct cnode *h = cnode_get(root, "headers");
    assert_int_equal(h->kind, CNODE_MAP);
    assert_string_equal(scalar_at(h, "authorization", NULL), "Bearer x");
    assert_int_equal(h->line, 2);
    assert_string_equal(scalar_at(root, "inline", NULL), "x[otlp, otlp/2]");
    assert_string_equal(scalar_at(root, "num", NULL), "42");
    cnode_free(root);
}

static void test_env_bad_syntax(void **state)
{
    (void)state;
    parse_fails("a: 1\nb: ${env:1BAD}\n",
                (const char *const[]){"t.yaml:2:4:", "invalid environment variable name '1BAD'", NULL});
    parse_fails("b: x-${A-B}\n", (const char *const[]){"t.yaml:1:4:", "'A-B'", NULL});
    parse_fails("b: ${}\n", (const char *const[]){"t.yaml:1:4:", "invalid environment variable name", NULL});
    parse_fails("b: ${env:HOME\n", (const char *const[]){"t.yaml:1:4:", "unterminated", NULL});
    parse_fails("b: ${file:/etc/x}\n", (const char *const[]){"t.yaml:1:4:", "provider 'file'", NULL});
}

/* ---- merge and --set -------------------------------------------------------------------------- */

static void test_merge(void **state)
{
    (void)state;
    struct cnode *dst = parse_ok("a: {x: 1, y: [1, 2]}\nb: keep\n");
    struct error err = {0};
    struct cnode *src = config_parse_string("a: {y: [3], z: new}\nc: added\n", "u.yaml", &err);
    assert_non_null(src);
    config_merge(dst, src);
    const struct cnode *a = cnode_get(dst, "a");
    assert_string_equal(scalar_at(a, "x", NULL), "1");
    const struct cnode *y = cnode_get(a, "y");
    assert_int_equal(y->kind, CNODE_SEQ);
    assert_int_equal(y->n, 1); /* lists are replaced, not appended */
    assert_string_equal(y->items[0]->value, "3");
    assert_string_equal(y->file, "u.yaml");
    assert_string_equal(scalar_at(a, "z", NULL), "new");
    assert_string_equal(scalar_at(dst, "b", NULL), "keep");
    assert_string_equal(scalar_at(dst, "c", NULL), "added");
    assert_string_equal(cnode_get(dst, "c")->file, "u.yaml");
    assert_string_equal(cnode_get(dst, "b")->file, "t.yaml");

    /* A scalar replaces a map, and a map replaces a scalar. */
    config_merge(dst, config_parse_string("a: gone\nb: {now: map}\n", "v.yaml", &err));
    assert_string_equal(scalar_at(dst, "a", NULL), "gone");
    assert_string_equal(scalar_at(dst, "b", "now"), "map");
    cnode_free(dst);
}

static void test_merge_files(void **state)
{
    (void)state;
    const char *dir = getenv("LLMOTLP_TESTDATA");
    assert_non_null(dir);
    setenv("LLMOTLP_TEST_TOKEN", "tok", 1);
    char p1[1024], p2[1024];
    snprintf(p1, sizeof p1, "%s/config/collector.yaml", dir);
    snprintf(p2, sizeof p2, "%s/config/override.yaml", dir);
    struct error err = {0};
    struct cnode *root = config_load_file(p1, &err);
    if (!root)
        fail_msg("%s", err.msg);
    struct cnode *over = config_load_file(p2, &err);
    if (!over)
        fail_msg("%s", err.msg);
    config_merge(root, over);
    const struct cnode *otlp = cnode_get(cnode_get(root, "exporters"), "otlp");
    assert_string_equal(scalar_at(otlp, "endpoint", NULL), "other:4317");
    assert_string_equal(scalar_at(otlp, "compression", NULL), "gzip");
    const struct cnode *ep = cnode_get(otlp, "endpoint");
    assert_string_equal(ep->file, p2);
    assert_int_equal(ep->line, 3);
    assert_int_equal(ep->col, 15);
    assert_string_equal(cnode_get(otlp, "compression")->file, p1);
    assert_non_null(cnode_get(cnode_get(root, "exporters"), "debug"));
    /* The alias copied the anchored retry settings. */
    const struct cnode *backup = cnode_get(cnode_get(root, "exporters"), "otlp/backup");
    assert_string_equal(scalar_at(cnode_get(backup, "retry_on_failure"), "max_interval", NULL), "30s");
    cnode_free(root);

    root = config_load_file("/nonexistent/llmotlp.yaml", &err);
    assert_null(root);
    assert_contains(err.msg, "/nonexistent/llmotlp.yaml");
    assert_contains(err.msg, "cannot open");
}

static void test_set(void **state)
{
    (void)state;
    struct cnode *root = parse_ok("exporters:\n  otlp:\n    endpoint: a:4317\n    timeout: 5s\n");
    struct error err = {0};
    assert_int_equal(config_apply_set(root, "exporters::otlp::endpoint=b:4317", &err), 0);
    const struct cnode *otlp = cnode_get(cnode_get(root, "exporters"), "otlp");
    assert_string_equal(scalar_at(otlp, "endpoint", NULL), "b:4317");
    assert_string_equal(scalar_at(otlp, "timeout", NULL), "5s");
    const struct cnode *ep = cnode_get(otlp, "endpoint");
    assert_string_equal(ep->file, "--set");
    assert_int_equal(ep->line, 1);
    assert_int_equal(ep->col, 27);

    /* `.` separates when no `::` appears, missing maps are created, values are YAML. */
    assert_int_equal(config_apply_set(root, "service.pipelines.traces.receivers=[otlp, otlp/2]", &err), 0);
    const struct cnode *tr = cnode_get(cnode_get(cnode_get(root, "service"), "pipelines"), "traces");
    assert_non_null(tr);
    assert_int_equal(tr->kind, CNODE_MAP);
    assert_string_equal(tr->file, "--set");
    assert_int_equal(tr->col, 19);
    const struct cnode *recv = cnode_get(tr, "receivers");
    assert_int_equal(recv->kind, CNODE_SEQ);
    assert_int_equal(recv->n, 2);
    assert_string_equal(recv->items[1]->value, "otlp/2");
    assert_int_equal(recv->col, 36);

    /* With `::`, dots stay part of the key. */
    assert_int_equal(config_apply_set(root, "processors::batch/a.b::timeout=1s", &err), 0);
    assert_string_equal(scalar_at(cnode_get(root, "processors"), "batch/a.b", "timeout"), "1s");

    /* A map value merges into the existing map. */
    assert_int_equal(config_apply_set(root, "exporters::otlp={compression: none}", &err), 0);
    assert_string_equal(scalar_at(otlp, "compression", NULL), "none");
    assert_string_equal(scalar_at(otlp, "timeout", NULL), "5s");

    /* A scalar on the path becomes a map. */
    assert_int_equal(config_apply_set(root, "exporters::otlp::timeout::x=1", &err), 0);
    assert_string_equal(scalar_at(cnode_get(otlp, "timeout"), "x", NULL), "1");

    assert_int_equal(config_apply_set(root, "no-equals-sign", &err), -1);
    assert_contains(err.msg, "key=value");
    assert_int_equal(config_apply_set(root, "a..b=1", &err), -1);
    assert_contains(err.msg, "empty key");
    assert_int_equal(config_apply_set(root, "a::b=[1, 2", &err), -1);
    assert_contains(err.msg, "--set:1:11:");
    assert_contains(err.msg, "YAML syntax error");
    assert_contains(err.msg, "line 1, column 6");
    /* A failed --set leaves the tree as it was. */
    assert_null(cnode_get(root, "a"));
    cnode_free(root);

    /* An empty config becomes a map. */
    root = parse_ok("");
    assert_int_equal(config_apply_set(root, "a=1", &err), 0);
    assert_string_equal(scalar_at(root, "a", NULL), "1");
    cnode_free(root);
}

/* ---- scalar conversions -------------------------------------------------------------------- */

static void test_durations(void **state)
{
    (void)state;
    static const struct { const char *text; int64_t ns; } good[] = {
        {"0", 0},
        {"5s", 5000000000LL},
        {"200ms", 200000000LL},
        {"1.5s", 1500000000LL},
        {"10us", 10000LL},
        {"10\xc2\xb5s", 10000LL},
        {"10\xce\xbcs", 10000LL},
        {"100ns", 100LL},
        {"1h2m3.5s", 3723500000000LL},
        {"2m", 120000000000LL},
        {"-1.5h", -5400000000000LL},
        {"+3s", 3000000000LL},
        {".5s", 500000000LL},
        {"1.s", 1000000000LL},
        {"250", 250LL}, /* a bare integer is nanoseconds */
        {"2562047h47m16.854775807s", INT64_MAX},
        {"-9223372036854775808ns", INT64_MIN},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ns = -12345;
        if (config_parse_duration(good[i].text, &ns) != 0)
            fail_msg("'%s' should parse", good[i].text);
        if (ns != good[i].ns)
            fail_msg("'%s': got %lld, want %lld", good[i].text, (long long)ns, (long long)good[i].ns);
    }
    static const char *const bad[] = {
        "", "abc", "s", ".s", "5 s", "5sec", "1d", "5s ", "-", "1.5", "2562048h",
        "9223372036854775808ns", "5s5", "--5s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ns;
        if (config_parse_duration(bad[i], &ns) == 0)
            fail_msg("'%s' should be rejected", bad[i]);
    }
}

/* The Collector's scalar rules (go-yaml v3 resolution, then mapstructure), one row per form its
 * YAML library documents; the expected values are worked out by hand from Go's strconv rules. */
static void test_collector_scalars(void **state)
{
    (void)state;
    static const struct { const char *text; int ok; int64_t v; } ints[] = {
        {"100_000", 1, 100000},  {"1_000_000", 1, 1000000}, {"1__0", 1, 10},
        {"0x1F", 1, 31},         {"0X1f", 1, 31},           {"-0x10", 1, -16},
        {"0o17", 1, 15},         {"0O17", 1, 15},           {"0b101", 1, 5},
        {"+0b11", 1, 3},         {"010", 1, 8},             {"0755", 1, 493},
        {"08", 1, 8},            {"1e3", 1, 1000},          {"1_000.0", 1, 1000},
        {"0", 1, 0},             {"-0", 1, 0},              {".0", 1, 0},
        {"-9223372036854775808", 1, INT64_MIN},
        {"_1", 0, 0},            {"1.5", 0, 0},             {".5", 0, 0},
        {"1e-3", 0, 0},          {"0x", 0, 0},              {"0b2", 0, 0},
        {"0x8000000000000000", 0, 0}, {"2024-01-01", 0, 0}, {"12abc", 0, 0},
        {"1,000", 0, 0},         {"--1", 0, 0},             {"+-1", 0, 0},
        {".inf", 0, 0},          {"1e400", 0, 0},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v = 7;
        int rc = config_parse_int(ints[i].text, &v);
        if (ints[i].ok && (rc != 0 || v != ints[i].v))
            fail_msg("int '%s': rc %d value %lld, want %lld", ints[i].text, rc, (long long)v,
                     (long long)ints[i].v);
        if (!ints[i].ok && rc == 0)
            fail_msg("int '%s' should be refused, got %lld", ints[i].text, (long long)v);
    }
    static const struct { const char *text; int v; } bools[] = {
        {"true", 1}, {"True", 1}, {"TRUE", 1}, {"false", 0}, {"False", 0}, {"FALSE", 0},
        {"tRuE", -1}, {"yes", -1}, {"on", -1}, {"y", -1}, {"off", -1}, {"0", -1},
    };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        bool b = false;
        int rc = config_parse_bool(bools[i].text, &b);
        if (bools[i].v < 0 ? rc == 0 : (rc != 0 || b != (bools[i].v == 1)))
            fail_msg("bool '%s': rc %d value %d", bools[i].text, rc, b);
    }
    /* durations: a bare integer in any form is nanoseconds, text is Go's ParseDuration */
    static const struct { const char *text; int ok; int64_t ns; } durs[] = {
        {"100_000", 1, 100000}, {"1e9", 1, 1000000000}, {"0x10", 1, 16}, {"1h5m", 1, 3900000000000},
        {"1h_5m", 0, 0}, {"1_000ms", 0, 0}, {"1.5", 0, 0},
    };
    for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
        int64_t ns = 7;
        int rc = config_parse_duration(durs[i].text, &ns);
        if (durs[i].ok ? (rc != 0 || ns != durs[i].ns) : rc == 0)
            fail_msg("duration '%s': rc %d value %lld", durs[i].text, rc, (long long)ns);
    }
}

/* The same rules through the binder, with positions in the errors. */
static void test_collector_scalars_bind(void **state)
{
    (void)state;
    struct cnode *root = parse_ok("count: 1_0\nratio: 1_000.5\ntimeout: 100_000\nenabled: FALSE\n"
                                  "receivers: otlp,otlp/2, x\ngrpc:\n  max_recv_msg_size_mib: 0x10\n");
    struct test_cfg cfg = {0};
    struct error err = {0};
    assert_int_equal(config_bind(test_fields, root, &cfg, &err), 0);
    assert_int_equal(cfg.count, 10);
    assert_true(cfg.ratio == 1000.5);
    assert_int_equal(cfg.timeout, 100000);
    assert_false(cfg.enabled);
    /* a string into a list is split at commas, nothing trimmed (mapstructure's hook) */
    assert_int_equal(cfg.receivers.n, 3);
    assert_string_equal(cfg.receivers.items[0], "otlp");
    assert_string_equal(cfg.receivers.items[1], "otlp/2");
    assert_string_equal(cfg.receivers.items[2], " x");
    assert_int_equal(cfg.grpc.max_recv_msg_size_mib, 16);
    config_free_bound(test_fields, &cfg);
    cnode_free(root);

    bind_fails_with(test_fields, sizeof(struct test_cfg), "enabled: yes\n", "t.yaml:1:10",
                    "enabled", "true or false", NULL);
    bind_fails_with(test_fields, sizeof(struct test_cfg), "count: 2.5\n", "t.yaml:1:8",
                    "a whole number", "truncate it to 2", NULL);
}

static void test_ints_and_bools(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(config_parse_int("42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(config_parse_int("-7", &v), 0);
    assert_int_equal(v, -7);
    assert_int_equal(config_parse_int("+7", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(config_parse_int("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(config_parse_int("9223372036854775808", &v), -1);
    assert_int_equal(config_parse_int("-9223372036854775809", &v), -1);
    assert_int_equal(config_parse_int("1.5", &v), -1);
    assert_int_equal(config_parse_int(" 1", &v), -1);
    assert_int_equal(config_parse_int("1e3", &v), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(config_parse_int("", &v), -1);
    assert_int_equal(config_parse_int("-", &v), -1);

    bool b = false;
    assert_int_equal(config_parse_bool("true", &b), 0);
    assert_true(b);
    assert_int_equal(config_parse_bool("False", &b), 0);
    assert_false(b);
    assert_int_equal(config_parse_bool("TRUE", &b), 0);
    assert_true(b);
    assert_int_equal(config_parse_bool("yes", &b), -1);
    assert_int_equal(config_parse_bool("1", &b), -1);
}

/* ---- binder ------------------------------------------------------------------------------- */

static void test_bind_defaults(void **state)
{
    (void)state;
    struct test_cfg cfg = {0};
    struct error err = {0};
    assert_int_equal(config_bind(test_fields, NULL, &cfg, &err), 0);
    assert_true(cfg.enabled);
    assert_int_equal(cfg.count, 10);
    assert_true(cfg.ratio == 0.5);
    assert_string_equal(cfg.name, "default-name");
    assert_int_equal(cfg.timeout, 5000000000LL);
    assert_int_equal(cfg.level, 1);
    assert_int_equal(cfg.headers.n, 0);
    assert_int_equal(cfg.receivers.n, 1);
    assert_string_equal(cfg.receivers.items[0], "otlp");
    assert_false(cfg.tls.insecure);
    assert_null(cfg.tls.ca_file);
    assert_false(cfg.grpc_present);
    assert_string_equal(cfg.grpc.endpoint, "0.0.0.0:4317");
    assert_int_equal(cfg.grpc.max_recv_msg_size_mib, 4);
    assert_null(cfg.raw);
    config_free_bound(test_fields, &cfg);
    assert_null(cfg.name);

    /* A null value (key with nothing after it) also means the default. */
    struct cnode *root = parse_ok("count:\nname: ~\ntls:\n");
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(test_fields, root, &cfg, &err), 0);
    assert_int_equal(cfg.count, 10);
    assert_string_equal(cfg.name, "default-name");
    assert_false(cfg.tls.insecure);
    config_free_bound(test_fields, &cfg);
    cnode_free(root);
}

static void test_bind_values(void **state)
{
    (void)state;
    setenv("LLMOTLP_T_TOKEN", "s3cret", 1);
    struct cnode *root = parse_ok("enabled: False\n"
                                  "count: \"99\"\n"
                                  "ratio: 1.5e-1\n"
                                  "name: 12\n"
                                  "timeout: 1m30s\n"
                                  "level: DETAILED\n"
                                  "headers: {authorization: \"Bearer ${env:LLMOTLP_T_TOKEN}\", empty: }\n"
                                  "receivers: [otlp, otlp/2]\n"
                                  "tls: {insecure: true, ca_file: /ca.pem}\n"
                                  "raw: {anything: [goes]}\n"
                                  "bounded_wait: 30s\n");
    struct test_cfg cfg = {0};
    struct error err = {0};
    if (config_bind(test_fields, root, &cfg, &err))
        fail_msg("%s", err.msg);
    assert_false(cfg.enabled);
    assert_int_equal(cfg.count, 99);
    assert_true(cfg.ratio > 0.1499 && cfg.ratio < 0.1501);
    assert_string_equal(cfg.name, "12");
    assert_int_equal(cfg.timeout, 90000000000LL);
    assert_int_equal(cfg.level, 2);
    assert_int_equal(cfg.headers.n, 2);
    assert_string_equal(cfg.headers.items[0].key, "authorization");
    assert_string_equal(cfg.headers.items[0].value, "Bearer s3cret");
    assert_string_equal(cfg.headers.items[1].value, "");
    assert_int_equal(cfg.receivers.n, 2);
    assert_string_equal(cfg.receivers.items[1], "otlp/2");
    assert_true(cfg.tls.insecure);
    assert_string_equal(cfg.tls.ca_file, "/ca.pem");
    assert_ptr_equal(cfg.raw, cnode_get(root, "raw"));
    assert_int_equal(cfg.raw->kind, CNODE_MAP);
    assert_int_equal(cfg.bounded_wait, 30000000000LL);
    config_free_bound(test_fields, &cfg);
    assert_int_equal(cfg.headers.n, 0);
    assert_int_equal(cfg.receivers.n, 0);
    assert_null(cfg.tls.ca_file);
    cnode_free(root);

    /* A single scalar is a one-item list. */
    root = parse_ok("receivers: otlp/x\n");
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(test_fields, root, &cfg, &err), 0);
    assert_int_equal(cfg.receivers.n, 1);
    assert_string_equal(cfg.receivers.items[0], "otlp/x");
    config_free_bound(test_fields, &cfg);
    cnode_free(root);
}

static void test_bind_presence(void **state)
{
    (void)state;
    static const char *const cases[] = {"grpc:\n", "grpc: {}\n", "grpc: ~\n", "grpc: {endpoint: h:1}\n"};
    for (size_t i = 0; i < 4; i++) {
        struct cnode *root = parse_ok(cases[i]);
        struct test_cfg cfg = {0};
        struct error err = {0};
        assert_int_equal(config_bind(test_fields, root, &cfg, &err), 0);
        assert_true(cfg.grpc_present);
        assert_string_equal(cfg.grpc.endpoint, i == 3 ? "h:1" : "0.0.0.0:4317");
        assert_int_equal(cfg.grpc.max_recv_msg_size_mib, 4);
        config_free_bound(test_fields, &cfg);
        cnode_free(root);
    }
    struct cnode *root = parse_ok("name: x\n");
    struct test_cfg cfg = {0};
    struct error err = {0};
    assert_int_equal(config_bind(test_fields, root, &cfg, &err), 0);
    assert_false(cfg.grpc_present);
    config_free_bound(test_fields, &cfg);
    cnode_free(root);
}

static void test_bind_unknown_key(void **state)
{
    (void)state;
    BIND_FAILS("name: x\nbogus: 1\n", "t.yaml:2:1:", "unknown key 'bogus'",
               "known keys: enabled, count, ratio, name, timeout, level, headers, receivers, tls, grpc, "
               "raw, bounded_wait");
    BIND_FAILS("tls:\n  insecure: true\n  cafile: x\n", "t.yaml:3:3:", "unknown key 'tls.cafile'",
               "known keys: insecure, ca_file");
}

static void test_bind_wrong_types(void **state)
{
    (void)state;
    BIND_FAILS("enabled: yes\n", "t.yaml:1:10:", "'enabled': expected true or false, got 'yes'");
    BIND_FAILS("count: abc\n", "t.yaml:1:8:", "'count': expected an integer", "got 'abc'");
    BIND_FAILS("count: 99999999999999999999\n", "t.yaml:1:8:", "'count': expected an integer");
    BIND_FAILS("ratio: fast\n", "t.yaml:1:8:", "'ratio': expected a number, got 'fast'");
    BIND_FAILS("timeout: abc\n", "t.yaml:1:10:",
               "'timeout': expected a duration such as 5s or 200ms, got 'abc'");
    BIND_FAILS("name: {a: b}\n", "t.yaml:1:7:", "'name': expected a string, got a map");
    BIND_FAILS("tls: yes\n", "t.yaml:1:6:", "'tls': expected a map, got 'yes'");
    BIND_FAILS("grpc: [a]\n", "t.yaml:1:7:", "'grpc': expected a map, got a sequence");
    BIND_FAILS("headers: abc\n", "t.yaml:1:10:", "'headers': expected a map of strings, got 'abc'");
    BIND_FAILS("headers:\n  k: [1]\n", "t.yaml:2:6:", "'headers.k': expected a string, got a sequence");
    BIND_FAILS("receivers: {a: b}\n", "t.yaml:1:12:", "'receivers': expected a list of strings, got a map");
    BIND_FAILS("receivers: [a, {b: c}]\n", "t.yaml:1:16:", "'receivers[1]': expected a string");
    BIND_FAILS("tls:\n  insecure: maybe\n", "t.yaml:2:13:", "'tls.insecure': expected true or false");
    BIND_FAILS("grpc:\n  max_recv_msg_size_mib: 1.5\n", "t.yaml:2:26:",
               "'grpc.max_recv_msg_size_mib': expected a whole number");

    /* The node bound must itself be a map. */
    struct cnode *root = parse_ok("just a string\n");
    struct test_cfg cfg = {0};
    struct error err = {0};
    assert_int_equal(config_bind(test_fields, root, &cfg, &err), -1);
    assert_contains(err.msg, "t.yaml:1:1:");
    assert_contains(err.msg, "expected a map");
    config_free_bound(test_fields, &cfg);
    cnode_free(root);
}

static void test_bind_enum_and_ranges(void **state)
{
    (void)state;
    BIND_FAILS("level: verbose\n", "t.yaml:1:8:", "'level': expected one of: basic, normal, detailed",
               "got 'verbose'");
    BIND_FAILS("count: 500\n", "t.yaml:1:8:", "'count': expected an integer between 1 and 100",
               "out of range", "got '500'");
    BIND_FAILS("count: 0\n", "t.yaml:1:8:", "between 1 and 100");
    BIND_FAILS("bounded_wait: 2m\n", "t.yaml:1:15:", "'bounded_wait': expected a duration between 1ms and 1m",
               "got '2m'");
    /* The boundaries themselves are allowed. */
    struct cnode *root = parse_ok("count: 100\nbounded_wait: 1ms\n");
    struct test_cfg cfg = {0};
    struct error err = {0};
    assert_int_equal(config_bind(test_fields, root, &cfg, &err), 0);
    assert_int_equal(cfg.count, 100);
    assert_int_equal(cfg.bounded_wait, 1000000);
    config_free_bound(test_fields, &cfg);
    cnode_free(root);
}

static void test_bind_required(void **state)
{
    (void)state;
    bind_fails_with(req_fields, sizeof(struct req_cfg), "grpc: {endpoint: x}\n", "t.yaml:1:1:",
                    "missing required key 'endpoint'", NULL);
    bind_fails_with(req_fields, sizeof(struct req_cfg), "endpoint: e\ngrpc:\n  max_recv_msg_size_mib: 4\n",
                    "t.yaml:3:3:", "missing required key 'grpc.endpoint'", NULL);
    /* An absent section with a required key inside is reported at the parent. */
    bind_fails_with(req_fields, sizeof(struct req_cfg), "endpoint: e\n", "t.yaml:1:1:",
                    "missing required key 'grpc.endpoint'", NULL);

    struct cnode *root = parse_ok("endpoint: e\ngrpc: {endpoint: g}\n");
    struct req_cfg cfg = {0};
    struct error err = {0};
    assert_int_equal(config_bind(req_fields, root, &cfg, &err), 0);
    assert_string_equal(cfg.endpoint, "e");
    assert_string_equal(cfg.grpc.endpoint, "g");
    config_free_bound(req_fields, &cfg);
    cnode_free(root);
}

/* A failed bind leaves nothing to leak once config_free_bound has run (ASan checks). */
static void test_free_after_failed_bind(void **state)
{
    (void)state;
    struct cnode *root = parse_ok("name: n\nheaders: {a: b, c: {d: e}}\nreceivers: [x, y]\n");
    struct test_cfg cfg = {0};
    struct error err = {0};
    assert_int_equal(config_bind(test_fields, root, &cfg, &err), -1);
    assert_contains(err.msg, "'headers.c'");
    assert_string_equal(cfg.name, "n");
    assert_int_equal(cfg.headers.n, 1);
    config_free_bound(test_fields, &cfg);
    assert_null(cfg.name);
    assert_null(cfg.headers.items);
    cnode_free(root);
}

static void test_bind_loaded_file(void **state)
{
    (void)state;
    setenv("LLMOTLP_TEST_TOKEN", "tok", 1);
    unsetenv("LLMOTLP_TEST_GRPC_ENDPOINT");
    char path[1024];
    snprintf(path, sizeof path, "%s/config/collector.yaml", getenv("LLMOTLP_TESTDATA"));
    struct error err = {0};
    struct cnode *root = config_load_file(path, &err);
    if (!root)
        fail_msg("%s", err.msg);
    const struct cnode *grpc =
        cnode_get(cnode_get(cnode_get(cnode_get(root, "receivers"), "otlp"), "protocols"), "grpc");
    assert_string_equal(scalar_at(grpc, "endpoint", NULL), "0.0.0.0:4317");
    assert_int_equal(cnode_get(grpc, "endpoint")->line, 9);
    assert_int_equal(cnode_get(grpc, "endpoint")->col, 19);

    static const char *const compressions[] = {"none", "gzip", NULL};
    static const struct config_field exp_fields[] = {
        {.name = "endpoint", .type = CFG_STRING, .offset = offsetof(struct test_cfg, name), .required = true},
        {.name = "tls", .type = CFG_SECTION, .offset = offsetof(struct test_cfg, tls), .sub = tls_fields},
        {.name = "headers", .type = CFG_STRING_MAP, .offset = offsetof(struct test_cfg, headers)},
        {.name = "compression", .type = CFG_ENUM, .offset = offsetof(struct test_cfg, level),
         .choices = compressions, .def = "gzip"},
        {.name = "timeout", .type = CFG_DURATION, .offset = offsetof(struct test_cfg, timeout), .def = "5s"},
        {.name = "retry_on_failure", .type = CFG_RAW, .offset = offsetof(struct test_cfg, raw)},
        {.name = NULL},
    };
    struct test_cfg cfg = {0};
    const struct cnode *otlp = cnode_get(cnode_get(root, "exporters"), "otlp");
    if (config_bind(exp_fields, otlp, &cfg, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(cfg.name, "backend:4317");
    assert_true(cfg.tls.insecure);
    assert_string_equal(cfg.headers.items[0].value, "Bearer tok");
    assert_int_equal(cfg.level, 1);
    assert_int_equal(cfg.raw->kind, CNODE_MAP);
    config_free_bound(exp_fields, &cfg);

    /* The same table against a section with an unknown key reports the file's position. */
    const struct cnode *recv = cnode_get(cnode_get(root, "receivers"), "otlp");
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(exp_fields, recv, &cfg, &err), -1);
    char want[1100];
    snprintf(want, sizeof want, "%s:7:5: unknown key 'protocols'", path);
    assert_contains(err.msg, want);
    config_free_bound(exp_fields, &cfg);
    cnode_free(root);
}

static void test_describe(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    config_describe(test_fields, f, 2);
    fclose(f);
    assert_true(strncmp(text, "  enabled ", 10) == 0);
    assert_contains(text, "\n  timeout ");
    assert_contains(text, "duration");
    assert_contains(text, "default=5s");
    assert_contains(text, "per attempt");
    assert_contains(text, "one of: basic, normal, detailed");
    assert_contains(text, "range 1..100");
    /* Nested fields are indented under their section. */
    assert_contains(text, "\n    insecure ");
    assert_contains(text, "\n    endpoint ");
    assert_contains(text, "default=0.0.0.0:4317");
    free(text);
}

/* ---- no_effect keys and the warning sink ---------------------------------------------------- */

struct ne_inner { int64_t size; bool on; };
struct ne_cfg {
    int64_t used;
    int64_t buffer;             /* no_effect */
    struct ne_inner compaction; /* no_effect section */
    struct ne_inner queue;      /* section with one no_effect key */
};

static const struct config_field ne_inner_fields[] = {
    {.name = "size", .type = CFG_INT, .offset = offsetof(struct ne_inner, size), .def = "7"},
    {.name = "on", .type = CFG_BOOL, .offset = offsetof(struct ne_inner, on),
     .no_effect = "on is always on"},
    {.name = NULL},
};

static const struct config_field ne_fields[] = {
    {.name = "used", .type = CFG_INT, .offset = offsetof(struct ne_cfg, used)},
    {.name = "buffer", .type = CFG_INT, .offset = offsetof(struct ne_cfg, buffer), .def = "64",
     .doc = "buffer size", .no_effect = "buffers size themselves"},
    {.name = "compaction", .type = CFG_SECTION, .offset = offsetof(struct ne_cfg, compaction),
     .sub = ne_inner_fields, .no_effect = "nothing to compact"},
    {.name = "queue", .type = CFG_SECTION, .offset = offsetof(struct ne_cfg, queue),
     .sub = ne_inner_fields},
    {.name = NULL},
};

/* A sink that keeps "file:line:col: msg" lines, as the service's does. */
struct collected {
    size_t n;
    char lines[8][512];
};

static void collect(void *ctx, const struct cnode *at, const char *msg)
{
    struct collected *c = ctx;
    char pos[256];
    if (c->n < 8)
        snprintf(c->lines[c->n], sizeof c->lines[0], "%s: %s", cnode_where(at, pos, sizeof pos),
                 msg);
    c->n++;
}

static void test_no_effect_warnings(void **state)
{
    (void)state;
    struct error err;
    struct cnode *root = config_parse_string("used: 1\n"                      /* 1 */
                                             "buffer: 128\n"                  /* 2 */
                                             "compaction:\n"                  /* 3 */
                                             "  size: 3\n"                    /* 4 */
                                             "  on: true\n"                   /* 5 */
                                             "queue: {size: 2, on: false}\n", /* 6 */
                                             "t.yaml", &err);
    assert_non_null(root);
    struct collected c = {0};
    struct config_warn_sink w = {.warn = collect, .ctx = &c, .path = "exporters.x"};
    struct ne_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind_warn(ne_fields, root, &cfg, &w, NULL, &err), 0);
    /* bound as any key: the value is there, checked and defaulted as usual */
    assert_int_equal(cfg.buffer, 128);
    assert_int_equal(cfg.compaction.size, 3);
    assert_true(cfg.compaction.on);
    assert_int_equal(cfg.queue.size, 2);
    /* one warning per present no_effect key, at the key; none for the keys inside compaction */
    assert_int_equal(c.n, 3);
    assert_string_equal(c.lines[0], "t.yaml:2:1: exporters.x.buffer: accepted but has no effect: "
                                    "buffers size themselves");
    assert_string_equal(c.lines[1], "t.yaml:3:1: exporters.x.compaction: accepted but has no "
                                    "effect: nothing to compact");
    assert_string_equal(c.lines[2], "t.yaml:6:18: exporters.x.queue.on: accepted but has no "
                                    "effect: on is always on");
    config_free_bound(ne_fields, &cfg);

    /* a path below the sink's path, as a component binding a nested raw node gives */
    c.n = 0;
    struct ne_inner in;
    memset(&in, 0, sizeof in);
    assert_int_equal(config_bind_warn(ne_inner_fields, cnode_get(root, "queue"), &in, &w,
                                      "policies[0].queue", &err), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.lines[0], "t.yaml:6:18: exporters.x.policies[0].queue.on: accepted but "
                                    "has no effect: on is always on");

    /* absent keys warn about nothing (defaults are not the user's); a NULL sink discards */
    c.n = 0;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind_warn(ne_fields, cnode_get(root, "nothing"), &cfg, &w, NULL, &err),
                     0);
    assert_int_equal(cfg.buffer, 64);
    assert_int_equal(c.n, 0);
    config_free_bound(ne_fields, &cfg);
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(ne_fields, root, &cfg, &err), 0);
    config_free_bound(ne_fields, &cfg);

    /* a key that fails to bind is an error only */
    struct cnode *bad = config_parse_string("buffer: lots\n", "b.yaml", &err);
    c.n = 0;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind_warn(ne_fields, bad, &cfg, &w, NULL, &err), -1);
    assert_contains(err.msg, "b.yaml:1:9: 'buffer': expected an integer");
    assert_int_equal(c.n, 0);
    config_free_bound(ne_fields, &cfg);
    cnode_free(bad);

    /* config_warnf: the key path joins the sink's; conditional warnings from a component hook */
    c.n = 0;
    config_warnf(&w, cnode_find_key(root, "queue.on"), "queue.on", "false has no effect: %s",
                 "always on");
    struct config_warn_sink bare = {.warn = collect, .ctx = &c};
    config_warnf(&bare, cnode_key(root, "used"), NULL, "plain");
    config_warnf(NULL, NULL, "x", "discarded");
    assert_int_equal(c.n, 2);
    assert_string_equal(c.lines[0], "t.yaml:6:18: exporters.x.queue.on: false has no effect: "
                                    "always on");
    assert_string_equal(c.lines[1], "t.yaml:1:1: plain");

    /* cnode_find_key: the key node at the end of a dotted path */
    const struct cnode *k = cnode_find_key(root, "compaction.size");
    assert_non_null(k);
    assert_int_equal(k->line, 4);
    assert_int_equal(k->col, 3);
    assert_string_equal(k->value, "size");
    assert_null(cnode_find_key(root, "compaction.nope"));
    assert_null(cnode_find_key(root, "used.deeper"));
    assert_null(cnode_find_key(NULL, "used"));
    assert_null(cnode_key(root, "nope"));
    cnode_free(root);
}

/* Keys whose harmless value (config.h) is what is done anyway: one of every comparison. */
struct hl_cfg {
    bool metadata, keep_alive;
    int64_t fraction;
    double ratio;
    int64_t interval;
    int level;
    char *file;
    struct config_str_list keys;
    struct config_kv_list headers;
    const struct cnode *views;
    bool typo;
};

static const char *const hl_levels[] = {"none", "basic", NULL};

static const struct config_field hl_fields[] = {
    {.name = "metadata", .type = CFG_BOOL, .offset = offsetof(struct hl_cfg, metadata),
     .def = "false", .no_effect = "no metadata", .harmless = "false"},
    {.name = "keep_alive", .type = CFG_BOOL, .offset = offsetof(struct hl_cfg, keep_alive),
     .def = "true", .no_effect = "always on", .harmless = "true"},
    {.name = "fraction", .type = CFG_INT, .offset = offsetof(struct hl_cfg, fraction),
     .no_effect = "no profile", .harmless = "<=0"},
    {.name = "ratio", .type = CFG_DOUBLE, .offset = offsetof(struct hl_cfg, ratio),
     .no_effect = "no ratio", .harmless = "<=0.5"},
    {.name = "interval", .type = CFG_DURATION, .offset = offsetof(struct hl_cfg, interval),
     .no_effect = "no checks", .harmless = "0s"},
    {.name = "level", .type = CFG_ENUM, .offset = offsetof(struct hl_cfg, level),
     .choices = hl_levels, .def = "basic", .no_effect = "no traces", .harmless = "none"},
    {.name = "file", .type = CFG_STRING, .offset = offsetof(struct hl_cfg, file),
     .no_effect = "no file", .harmless = "\"\""},
    {.name = "keys", .type = CFG_STRING_LIST, .offset = offsetof(struct hl_cfg, keys),
     .no_effect = "no keys", .harmless = "[]"},
    {.name = "headers", .type = CFG_STRING_MAP, .offset = offsetof(struct hl_cfg, headers),
     .no_effect = "no headers", .harmless = "{}"},
    {.name = "views", .type = CFG_RAW, .offset = offsetof(struct hl_cfg, views),
     .no_effect = "no views", .harmless = "[]"},
    /* a harmless text the field cannot read is never harmless: the key is reported */
    {.name = "typo", .type = CFG_BOOL, .offset = offsetof(struct hl_cfg, typo),
     .no_effect = "typo", .harmless = "maybe"},
    {.name = NULL},
};

/* Binds `yaml` with hl_fields and returns how many warnings it gave; each key name that warned
 * is appended to `keys` (space-separated). */
static size_t hl_warnings(const char *yaml, char *keys, size_t len)
{
    struct error err;
    struct cnode *root = config_parse_string(yaml, "h.yaml", &err);
    assert_non_null(root);
    struct collected c = {0};
    struct config_warn_sink w = {.warn = collect, .ctx = &c, .path = "x"};
    struct hl_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind_warn(hl_fields, root, &cfg, &w, NULL, &err), 0);
    keys[0] = '\0';
    for (size_t i = 0; i < c.n && i < 8; i++) {
        const char *k = strstr(c.lines[i], ": x.");
        assert_non_null(k);
        k += 4;
        size_t n = strlen(keys);
        snprintf(keys + n, len - n, "%s%.*s", n ? " " : "", (int)strcspn(k, ":"), k);
    }
    config_free_bound(hl_fields, &cfg);
    cnode_free(root);
    return c.n;
}

static void test_no_effect_harmless_values(void **state)
{
    (void)state;
    char keys[512];
    /* at the harmless value (or a null value whose default is it): nothing is reported */
    assert_int_equal(hl_warnings("metadata: false\nkeep_alive: true\nfraction: 0\nratio: 0.5\n"
                                 "interval: 0\nlevel: NONE\nfile: ''\nkeys: []\nheaders: {}\n"
                                 "views: []\n", keys, sizeof keys), 0);
    assert_int_equal(hl_warnings("metadata:\nkeep_alive: ~\nfraction: -1\nratio: -3\n"
                                 "interval: 0s\nkeys: ''\nviews:\n", keys, sizeof keys), 0);
    /* any other value has no effect: reported at the key, as a plain no_effect key */
    assert_int_equal(hl_warnings("metadata: true\nkeep_alive: false\nfraction: 1\n"
                                 "ratio: 0.75\ninterval: 1ms\nlevel: basic\nfile: cpu.prof\n"
                                 "keys: [a]\nheaders: {a: b}\nviews: [{}]\ntypo: false\n", keys,
                                 sizeof keys), 11);
    assert_string_equal(keys, "metadata keep_alive fraction ratio interval level file keys");
    /* the message is the no_effect one */
    struct error err;
    struct cnode *root = config_parse_string("a: 1\nfraction: 5\n", "h.yaml", &err);
    assert_non_null(root);
    struct collected c = {0};
    struct config_warn_sink w = {.warn = collect, .ctx = &c, .path = "extensions.pprof"};
    struct hl_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind_warn(hl_fields, cnode_get(root, "nothing"), &cfg, &w, NULL, &err),
                     0);
    assert_int_equal(c.n, 0);
    config_free_bound(hl_fields, &cfg);
    struct cnode *sub = config_parse_string("fraction: 5\n", "h.yaml", &err);
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind_warn(hl_fields, sub, &cfg, &w, NULL, &err), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.lines[0], "h.yaml:1:1: extensions.pprof.fraction: accepted but has no "
                                    "effect: no profile");
    config_free_bound(hl_fields, &cfg);
    cnode_free(sub);
    cnode_free(root);

    /* describe names the value that acts */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    config_describe(hl_fields, f, 0);
    fclose(f);
    assert_contains(text, "[no effect (<=0 is what llmotlp does): no profile]");
    assert_contains(text, "[no effect (false is what llmotlp does): no metadata]");
    free(text);
}

static void test_describe_no_effect(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    config_describe(ne_fields, f, 0);
    fclose(f);
    assert_contains(text, "buffer size  [no effect: buffers size themselves]");
    assert_contains(text, "[no effect: nothing to compact]");
    assert_contains(text, "[no effect: on is always on]");
    /* a field without no_effect is not marked */
    const char *used = strstr(text, "used");
    assert_non_null(used);
    assert_true(strchr(used, '\n') < strstr(used, "[no effect"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions_of_keys_and_values),
        cmocka_unit_test(test_null_spellings_and_quoted),
        cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_aliases_are_copied),
        cmocka_unit_test(test_merge_keys),
        cmocka_unit_test(test_hostile_yaml),
        cmocka_unit_test(test_mutated_configs_never_crash),
        cmocka_unit_test(test_env_forms),
        cmocka_unit_test(test_env_unset_warns_and_gives_empty),
        cmocka_unit_test(test_env_whole_value_collections),
        cmocka_unit_test(test_env_bad_syntax),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_merge_files),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_ints_and_bools),
        cmocka_unit_test(test_collector_scalars),
        cmocka_unit_test(test_collector_scalars_bind),
        cmocka_unit_test(test_bind_defaults),
        cmocka_unit_test(test_bind_values),
        cmocka_unit_test(test_bind_presence),
        cmocka_unit_test(test_bind_unknown_key),
        cmocka_unit_test(test_bind_wrong_types),
        cmocka_unit_test(test_bind_enum_and_ranges),
        cmocka_unit_test(test_bind_required),
        cmocka_unit_test(test_free_after_failed_bind),
        cmocka_unit_test(test_bind_loaded_file),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_no_effect_warnings),
        cmocka_unit_test(test_describe_no_effect),
        cmocka_unit_test(test_no_effect_harmless_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
