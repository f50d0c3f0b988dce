/* test_ts_ottl.c — tail_sampling's ottl_condition policy: conditions compiled by the OTTL engine
 * from the Collector's config form, evaluated per span at ingest on the decoded span, its events,
 * resource and scope, and folded into the trace's summary so that the first outcome in arrival
 * order wins, as the Collector's walk over a trace's batches returns at the first match or error.
 * Spans are encoded by protobuf-c and read through the same functions the processor calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/featuregate.h"
#include "processors/tail_sampling/ts_internal.h"

#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

struct kv { const char *key; const char *s; int64_t i; bool is_int; };

struct sp {
    const char *name;
    const struct kv *attrs;
    size_t n_attrs;
    const char *event_name;      /* one event when set */
    const struct kv *event_attrs;
    size_t n_event_attrs;
};

static KeyValue **kvs(const struct kv *a, size_t n, KeyValue *kv, AnyValue *av, KeyValue **p)
{
    for (size_t i = 0; i < n; i++) {
        opentelemetry__proto__common__v1__key_value__init(&kv[i]);
        opentelemetry__proto__common__v1__any_value__init(&av[i]);
        kv[i].key = (char *)a[i].key;
        kv[i].value = &av[i];
        if (a[i].is_int) {
            av[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
            av[i].int_value = a[i].i;
        } else {
            av[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
            av[i].string_value = (char *)a[i].s;
        }
        p[i] = &kv[i];
    }
    return p;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len + 1);
    protobuf_c_message_pack(m, b);
    return b;
}

static uint8_t *span_bytes(const struct sp *x, size_t *len)
{
    Span s;
    opentelemetry__proto__trace__v1__span__init(&s);
    static uint8_t tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static uint8_t sid[8] = {1, 0, 0, 0, 0, 0, 0, 1};
    s.trace_id = (ProtobufCBinaryData){16, tid};
    s.span_id = (ProtobufCBinaryData){8, sid};
    s.name = (char *)(x->name ? x->name : "op");
    KeyValue kv[8], ekv[8], *kp[8], *ekp[8];
    AnyValue av[8], eav[8];
    s.n_attributes = x->n_attrs;
    s.attributes = kvs(x->attrs, x->n_attrs, kv, av, kp);
    Event ev, *evp = &ev;
    if (x->event_name) {
        opentelemetry__proto__trace__v1__span__event__init(&ev);
        ev.name = (char *)x->event_name;
        ev.n_attributes = x->n_event_attrs;
        ev.attributes = kvs(x->event_attrs, x->n_event_attrs, ekv, eav, ekp);
        s.n_events = 1;
        s.events = &evp;
    }
    return pack(&s.base, len);
}

struct world {
    struct cnode *root;
    struct ts_policies *p;
    struct ts_ottl_scope sc;
    uint8_t *res, *scope;
};

static void world_init(struct world *w, const char *yaml, const char *service)
{
    memset(w, 0, sizeof *w);
    struct error err = {0};
    w->root = config_parse_string(yaml, "<p>", &err);
    if (!w->root)
        fail_msg("yaml: %s", err.msg);
    w->p = ts_policies_compile(cnode_get(w->root, "policies"), NULL, false, &err);
    if (!w->p)
        fail_msg("compile: %s", err.msg);
    w->sc.arena = arena_new(0);
    w->sc.span_arena = arena_new(0);
    Opentelemetry__Proto__Resource__V1__Resource r;
    opentelemetry__proto__resource__v1__resource__init(&r);
    struct kv a = {"service.name", service, 0, false};
    KeyValue kv, *kp;
    AnyValue av;
    r.n_attributes = 1;
    r.attributes = kvs(&a, 1, &kv, &av, &kp);
    w->res = pack(&r.base, &w->sc.res_len);
    w->sc.res = w->res;
    Opentelemetry__Proto__Common__V1__InstrumentationScope sc;
    opentelemetry__proto__common__v1__instrumentation_scope__init(&sc);
    sc.name = "LLMProxy.LLM";
    w->scope = pack(&sc.base, &w->sc.scope_len);
    w->sc.scope = w->scope;
    ts_ottl_scope_reset(&w->sc, false);
}

static void world_free(struct world *w)
{
    arena_free(w->sc.arena);
    arena_free(w->sc.span_arena);
    free(w->res);
    free(w->scope);
    ts_policies_free(w->p);
    cnode_free(w->root);
}

/* A trace of spans in arrival order, folded as route_item folds them; decided. */
static struct ts_decision trace_of(struct world *w, const struct sp *spans, size_t n)
{
    struct ts_summary s = {.trace_id = (const uint8_t *)"0123456789abcdef"};
    for (size_t i = 0; i < n; i++) {
        size_t len;
        uint8_t *b = span_bytes(&spans[i], &len);
        uint64_t m = ts_ottl_mask(w->p, &w->sc, b, len);
        s.mask = ts_ottl_merge(w->p, s.mask, m);
        s.spans++;
        free(b);
    }
    return ts_decide(w->p, &s, 0, NULL);
}

/* The Collector README's example policy, with its conditions as written there. */
static const char *const readme_policy =
    "policies:\n"
    "  - name: test-policy-12\n"
    "    type: ottl_condition\n"
    "    ottl_condition:\n"
    "      error_mode: ignore\n"
    "      span:\n"
    "        - attributes[\"test_attr_key_1\"] == \"test_attr_val_1\"\n"
    "        - attributes[\"test_attr_key_2\"] != \"test_attr_val_1\"\n"
    "      spanevent:\n"
    "        - name != \"test_span_event_name\"\n"
    "        - attributes[\"test_event_attr_key_2\"] != \"test_event_attr_val_1\"\n";

static void test_readme_example(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, readme_policy, "svc");
    /* key_2 absent: nil != "test_attr_val_1" holds, so any span samples */
    struct sp plain = {0};
    assert_true(trace_of(&w, &plain, 1).sampled);
    /* key_2 equal to the value and key_1 different: span conditions false; no event: not sampled */
    struct kv a[] = {{"test_attr_key_1", "x", 0, false}, {"test_attr_key_2", "test_attr_val_1", 0, false}};
    struct sp no = {.attrs = a, .n_attrs = 2};
    assert_false(trace_of(&w, &no, 1).sampled);
    /* the same span with an event named otherwise: the event condition samples */
    struct sp ev = {.attrs = a, .n_attrs = 2, .event_name = "other"};
    assert_true(trace_of(&w, &ev, 1).sampled);
    /* an event with the name and the attribute equal: both event conditions false */
    struct kv ea[] = {{"test_event_attr_key_2", "test_event_attr_val_1", 0, false}};
    struct sp ev2 = {.attrs = a, .n_attrs = 2, .event_name = "test_span_event_name",
                     .event_attrs = ea, .n_event_attrs = 1};
    assert_false(trace_of(&w, &ev2, 1).sampled);
    /* key_1 matching samples whatever key_2 says */
    struct kv b[] = {{"test_attr_key_1", "test_attr_val_1", 0, false}, {"test_attr_key_2", "test_attr_val_1", 0, false}};
    struct sp yes = {.attrs = b, .n_attrs = 2};
    struct sp two[] = {no, yes};
    assert_true(trace_of(&w, two, 2).sampled);
    world_free(&w);
}

/* The case: keep traces whose LLM spans used more than N input tokens, and read the
 * resource and scope the span belongs to. */
static void test_llm_tokens_resource_scope(void **state)
{
    (void)state;
    struct world w;
    world_init(&w,
               "policies:\n"
               "  - name: big-prompts\n"
               "    type: ottl_condition\n"
               "    ottl_condition:\n"
               "      span:\n"
               "        - attributes[\"gen_ai.usage.input_tokens\"] > 1000 and "
               "instrumentation_scope.name == \"LLMProxy.LLM\"\n"
               "  - name: gateway\n"
               "    type: ottl_condition\n"
               "    ottl_condition:\n"
               "      span: ['resource.attributes[\"service.name\"] == \"gateway\"']\n",
               "api");
    struct kv small[] = {{"gen_ai.usage.input_tokens", NULL, 500, true}};
    struct kv big[] = {{"gen_ai.usage.input_tokens", NULL, 1500, true}};
    struct sp s1 = {.attrs = small, .n_attrs = 1}, s2 = {.attrs = big, .n_attrs = 1};
    assert_false(trace_of(&w, &s1, 1).sampled);
    struct sp both[] = {s1, s2};
    struct ts_decision d = trace_of(&w, both, 2);
    assert_true(d.sampled);
    assert_int_equal(d.keeper, 0);
    assert_int_equal(d.eval_errors, 0);
    world_free(&w);
    /* the second policy reads the resource: service.name == gateway samples any span */
    world_init(&w,
               "policies:\n"
               "  - name: gateway\n"
               "    type: ottl_condition\n"
               "    ottl_condition:\n"
               "      span: ['resource.attributes[\"service.name\"] == \"gateway\"']\n",
               "gateway");
    assert_true(trace_of(&w, &s1, 1).sampled);
    world_free(&w);
}

/* error_mode: a condition that fails (Substring of a missing attribute) ends the walk under
 * propagate (the policy's decision is an error, not sampled, counted), and counts as false under
 * ignore and silent (a later span that matches samples). The first outcome sticks. */
static void test_error_modes(void **state)
{
    (void)state;
    static const char *const fmt =
        "policies:\n"
        "  - name: p\n"
        "    type: ottl_condition\n"
        "    ottl_condition:\n"
        "      %s\n"
        "      span:\n"
        "        - Substring(attributes[\"value\"], 0, 4) == \"keep\"\n";
    struct kv keep[] = {{"value", "keep-me", 0, false}};
    struct sp bad = {0}, good = {.attrs = keep, .n_attrs = 1};
    struct sp bad_then_good[] = {bad, good}, good_then_bad[] = {good, bad};
    const char *modes[] = {"error_mode: propagate", "", "error_mode: Ignore", "error_mode: silent"};
    for (int m = 0; m < 4; m++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, fmt, modes[m]);
        struct world w;
        world_init(&w, yaml, "svc");
        bool propagate = m < 2; /* unset is propagate while the gate is off */
        struct ts_decision d = trace_of(&w, bad_then_good, 2);
        assert_int_equal(d.sampled, !propagate);
        assert_int_equal(d.eval_errors, propagate ? 1 : 0);
        assert_true(w.sc.errors >= 1);
        assert_int_equal(w.sc.log_errors, m == 2);
        /* a match that came first stands, whatever fails after it */
        d = trace_of(&w, good_then_bad, 2);
        assert_true(d.sampled);
        assert_int_equal(d.eval_errors, 0);
        world_free(&w);
    }
    /* the Collector's gate makes an unset error_mode ignore */
    struct error err = {0};
    assert_int_equal(featuregate_apply(FEATUREGATE_TAILSAMPLING_ERROR_MODE_IGNORE, NULL, NULL, &err), 0);
    char yaml[512];
    snprintf(yaml, sizeof yaml, fmt, "");
    struct world w;
    world_init(&w, yaml, "svc");
    assert_true(trace_of(&w, bad_then_good, 2).sampled);
    world_free(&w);
    assert_int_equal(featuregate_apply("-" FEATUREGATE_TAILSAMPLING_ERROR_MODE_IGNORE, NULL, NULL, &err), 0);
}

static void test_compile_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"policies: [{name: a, type: ottl_condition, ottl_condition: {error_mode: ignore}}]",
         "<p>:1:60: policies[0].ottl_condition: expected at least one OTTL condition"},
        {"policies: [{name: a, type: ottl_condition, ottl_condition: {error_mode: loud, span: [x]}}]",
         "<p>:1:73: policies[0].ottl_condition: unknown error mode 'loud'"},
        {"policies:\n  - name: a\n    type: ottl_condition\n    ottl_condition:\n      span:\n"
         "        - 'name == \"a\"'\n        - 'Nope(name) == 1'\n",
         "<p>:7:11: policies[0].ottl_condition.span[1]: column "},
        {"policies:\n  - name: a\n    type: ottl_condition\n    ottl_condition:\n      spanevent:\n"
         "        - 'name == '\n",
         "<p>:6:11: policies[0].ottl_condition.spanevent[0]: column "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct error err = {0};
        struct cnode *root = config_parse_string(cases[i].yaml, "<p>", &err);
        assert_non_null(root);
        struct ts_policies *p = ts_policies_compile(cnode_get(root, "policies"), NULL, false, &err);
        assert_null(p);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: expected '%s' in: %s", i, cases[i].want, err.msg);
        cnode_free(root);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_example),
        cmocka_unit_test(test_llm_tokens_resource_scope),
        cmocka_unit_test(test_error_modes),
        cmocka_unit_test(test_compile_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
