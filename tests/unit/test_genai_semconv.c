/* test_genai_semconv.c — the genai_semconv processor as a black box: requests built with
 * protobuf-c go in as wire bytes through consume(), a recording downstream keeps what comes out,
 * and the assertions decode it again. The mapping test walks the mapping table itself, so every
 * row (and every row added later) is exercised with a sample value derived from its transform. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/telemetry.h"
#include "processors/genai_semconv/genai_semconv.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsRequest;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Status Status;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs ResourceLogs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs ScopeLogs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE

#define LLM_SCOPE "LLMProxy.LLM"
#define APP_SCOPE "app.http"

/* ---- building requests ----------------------------------------------------------------------- */

/* One attribute to put on a span: a tagged value. */
struct tv {
    const char *key;
    int type;              /* V_STRING, V_INT, V_DOUBLE, V_BOOL */
    const char *s;
    int64_t i;
    double d;
};
#define S(k, v) {.key = (k), .type = V_STRING, .s = (v)}
#define I(k, v) {.key = (k), .type = V_INT, .i = (v)}
#define D(k, v) {.key = (k), .type = V_DOUBLE, .d = (v)}
#define B(k, v) {.key = (k), .type = V_BOOL, .i = (v)}

static AnyValue *mk_value(struct arena *a, const struct tv *t)
{
    AnyValue *v = arena_alloc(a, sizeof *v);
    opentelemetry__proto__common__v1__any_value__init(v);
    v->value_case = t->type;
    switch (t->type) {
    case V_STRING: v->string_value = arena_strdup(a, t->s); break;
    case V_INT: v->int_value = t->i; break;
    case V_DOUBLE: v->double_value = t->d; break;
    case V_BOOL: v->bool_value = t->i != 0; break;
    default: fail_msg("bad test value type %d", t->type);
    }
    return v;
}

static KeyValue **mk_attrs(struct arena *a, const struct tv *tv, size_t n)
{
    KeyValue **kvs = arena_alloc(a, (n + 1) * sizeof *kvs);
    for (size_t i = 0; i < n; i++) {
        KeyValue *kv = arena_alloc(a, sizeof *kv);
        opentelemetry__proto__common__v1__key_value__init(kv);
        kv->key = arena_strdup(a, tv[i].key);
        kv->value = mk_value(a, &tv[i]);
        kvs[i] = kv;
    }
    return kvs;
}

struct span_def {
    const char *scope;       /* NULL: APP_SCOPE */
    const char *name;        /* NULL: "op" */
    int status;              /* 0 unset, 1 ok, 2 error */
    const char *status_msg;
    const struct tv *attrs;
    size_t n;
    const char *exception_type; /* adds an "exception" event */
    const char *ev_name;        /* adds an event with ev_attrs (after the exception one) */
    const struct tv *ev_attrs;
    size_t ev_n;
};

static struct batch *wire_batch(enum signal sig, const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(m, buf), len);
    struct error err = {0};
    struct batch *b = batch_from_wire(sig, buf, len, &err);
    free(buf);
    assert_non_null(b);
    return b;
}

/* One resource; one scope entry per span (scope names from the defs). */
static struct batch *traces(const struct span_def *defs, size_t n)
{
    struct arena *a = arena_new(0);
    TraceRequest req;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    ResourceSpans *rs = arena_alloc(a, sizeof *rs);
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    req.n_resource_spans = 1;
    req.resource_spans = arena_alloc(a, sizeof *req.resource_spans);
    req.resource_spans[0] = rs;
    rs->n_scope_spans = n;
    rs->scope_spans = arena_alloc(a, (n + 1) * sizeof *rs->scope_spans);
    for (size_t i = 0; i < n; i++) {
        const struct span_def *d = &defs[i];
        ScopeSpans *ss = arena_alloc(a, sizeof *ss);
        opentelemetry__proto__trace__v1__scope_spans__init(ss);
        Scope *sc = arena_alloc(a, sizeof *sc);
        opentelemetry__proto__common__v1__instrumentation_scope__init(sc);
        sc->name = arena_strdup(a, d->scope ? d->scope : APP_SCOPE);
        ss->scope = sc;
        Span *sp = arena_alloc(a, sizeof *sp);
        opentelemetry__proto__trace__v1__span__init(sp);
        uint8_t *tid = arena_alloc(a, 16), *sid = arena_alloc(a, 8);
        memset(tid, 0x11, 16);
        memset(sid, 0, 8);
        sid[0] = (uint8_t)(i + 1);
        sp->trace_id = (ProtobufCBinaryData){16, tid};
        sp->span_id = (ProtobufCBinaryData){8, sid};
        sp->name = arena_strdup(a, d->name ? d->name : "op");
        sp->n_attributes = d->n;
        sp->attributes = mk_attrs(a, d->attrs, d->n);
        if (d->status) {
            Status *st = arena_alloc(a, sizeof *st);
            opentelemetry__proto__trace__v1__status__init(st);
            st->code = d->status;
            if (d->status_msg)
                st->message = arena_strdup(a, d->status_msg);
            sp->status = st;
        }
        if (d->exception_type) {
            Event *ev = arena_alloc(a, sizeof *ev);
            opentelemetry__proto__trace__v1__span__event__init(ev);
            ev->name = "exception";
            struct tv et = S("exception.type", d->exception_type);
            ev->attributes = mk_attrs(a, &et, 1);
            ev->n_attributes = 1;
            sp->events = arena_alloc(a, 2 * sizeof *sp->events);
            sp->events[sp->n_events++] = ev;
        }
        if (d->ev_name) {
            Event *ev = arena_alloc(a, sizeof *ev);
            opentelemetry__proto__trace__v1__span__event__init(ev);
            ev->name = arena_strdup(a, d->ev_name);
            ev->attributes = mk_attrs(a, d->ev_attrs, d->ev_n);
            ev->n_attributes = d->ev_n;
            if (!sp->events)
                sp->events = arena_alloc(a, 2 * sizeof *sp->events);
            sp->events[sp->n_events++] = ev;
        }
        ss->n_spans = 1;
        ss->spans = arena_alloc(a, sizeof *ss->spans);
        ss->spans[0] = sp;
        rs->scope_spans[i] = ss;
    }
    struct batch *b = wire_batch(SIGNAL_TRACES, &req.base);
    arena_free(a);
    return b;
}

struct log_def {
    const char *scope;
    const char *event_name;
    const struct tv *attrs;
    size_t n;
};

static struct batch *logs(const struct log_def *defs, size_t n)
{
    struct arena *a = arena_new(0);
    LogsRequest req;
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&req);
    ResourceLogs *rl = arena_alloc(a, sizeof *rl);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    req.n_resource_logs = 1;
    req.resource_logs = arena_alloc(a, sizeof *req.resource_logs);
    req.resource_logs[0] = rl;
    rl->n_scope_logs = n;
    rl->scope_logs = arena_alloc(a, (n + 1) * sizeof *rl->scope_logs);
    for (size_t i = 0; i < n; i++) {
        ScopeLogs *sl = arena_alloc(a, sizeof *sl);
        opentelemetry__proto__logs__v1__scope_logs__init(sl);
        Scope *sc = arena_alloc(a, sizeof *sc);
        opentelemetry__proto__common__v1__instrumentation_scope__init(sc);
        sc->name = arena_strdup(a, defs[i].scope ? defs[i].scope : APP_SCOPE);
        sl->scope = sc;
        LogRecord *lr = arena_alloc(a, sizeof *lr);
        opentelemetry__proto__logs__v1__log_record__init(lr);
        if (defs[i].event_name)
            lr->event_name = arena_strdup(a, defs[i].event_name);
        lr->n_attributes = defs[i].n;
        lr->attributes = mk_attrs(a, defs[i].attrs, defs[i].n);
        sl->n_log_records = 1;
        sl->log_records = arena_alloc(a, sizeof *sl->log_records);
        sl->log_records[0] = lr;
        rl->scope_logs[i] = sl;
    }
    struct batch *b = wire_batch(SIGNAL_LOGS, &req.base);
    arena_free(a);
    return b;
}

/* ---- the processor under test ---------------------------------------------------------------- */

struct sink {
    struct consumer c;
    struct batch *got[8];
    size_t n;
};

static enum consume_status sink_consume(struct consumer *self, struct batch *b)
{
    struct sink *s = (struct sink *)self;
    assert_true(s->n < 8);
    s->got[s->n++] = batch_ref(b);
    return CONSUME_OK;
}

struct fx {
    struct cnode *root; /* kept until create is done: custom_mappings is read from it */
    struct genai_semconv_config cfg;
    struct telemetry *tel;
    struct sink sink;
    void *proc;
};

static struct fx *fx_new_sig(const char *yaml, enum signal sig)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct error err = {0};
    struct cnode *root = NULL;
    if (yaml) {
        root = config_parse_string(yaml, "<test>", &err);
        assert_non_null(root);
    }
    int rc = config_bind(genai_semconv_processor_factory.fields, root, &f->cfg, &err);
    if (rc != 0)
        fail_msg("config: %s", err.msg);
    f->root = root;
    f->tel = telemetry_new();
    f->sink.c.consume = sink_consume;
    struct component_env env = {.id = "genai_semconv", .log_name = "processor/genai_semconv",
                                .signal = sig, .telemetry = f->tel};
    env.next[sig] = &f->sink.c;
    f->proc = genai_semconv_processor_factory.create(&f->cfg, &env, &err);
    if (!f->proc)
        fail_msg("create: %s", err.msg);
    cnode_free(f->root); /* the processor keeps copies */
    f->root = NULL;
    f->cfg.custom_mappings = NULL;
    return f;
}

static struct fx *fx_new(const char *yaml)
{
    return fx_new_sig(yaml, SIGNAL_TRACES);
}

static void fx_free(struct fx *f)
{
    genai_semconv_processor_factory.destroy(f->proc);
    for (size_t i = 0; i < f->sink.n; i++)
        batch_unref(f->sink.got[i]);
    config_free_bound(genai_semconv_processor_factory.fields, &f->cfg);
    telemetry_free(f->tel);
    free(f);
}

static enum consume_status run(struct fx *f, struct batch *b)
{
    return genai_semconv_processor_factory.consume(f->proc, b);
}

static int64_t counter(struct fx *f, const char *name, const char *attribute)
{
    char labels[300];
    if (attribute)
        snprintf(labels, sizeof labels, "processor=\"genai_semconv\",attribute=\"%s\"",
                 attribute);
    else
        snprintf(labels, sizeof labels, "processor=\"genai_semconv\"");
    char full[120];
    snprintf(full, sizeof full, "llmotlp_genai_semconv_%s", name);
    return telemetry_value(f->tel, full, labels);
}

/* ---- reading results ------------------------------------------------------------------------- */

/* The idx-th span of the last batch sent downstream (in request order). */
static Span *out_span(struct fx *f, size_t idx)
{
    assert_true(f->sink.n > 0);
    struct error err = {0};
    const TraceRequest *req =
        (const TraceRequest *)batch_decoded(f->sink.got[f->sink.n - 1], &err);
    assert_non_null(req);
    size_t k = 0;
    for (size_t r = 0; r < req->n_resource_spans; r++)
        for (size_t s = 0; s < req->resource_spans[r]->n_scope_spans; s++)
            for (size_t i = 0; i < req->resource_spans[r]->scope_spans[s]->n_spans; i++)
                if (k++ == idx)
                    return req->resource_spans[r]->scope_spans[s]->spans[i];
    fail_msg("no span %zu in the output", idx);
    return NULL;
}

static size_t out_span_count(struct fx *f)
{
    struct error err = {0};
    const TraceRequest *req =
        (const TraceRequest *)batch_decoded(f->sink.got[f->sink.n - 1], &err);
    size_t k = 0;
    for (size_t r = 0; r < req->n_resource_spans; r++)
        for (size_t s = 0; s < req->resource_spans[r]->n_scope_spans; s++)
            k += req->resource_spans[r]->scope_spans[s]->n_spans;
    return k;
}

static LogRecord *out_log(struct fx *f, size_t idx)
{
    struct error err = {0};
    const LogsRequest *req = (const LogsRequest *)batch_decoded(f->sink.got[f->sink.n - 1], &err);
    assert_non_null(req);
    size_t k = 0;
    for (size_t r = 0; r < req->n_resource_logs; r++)
        for (size_t s = 0; s < req->resource_logs[r]->n_scope_logs; s++)
            for (size_t i = 0; i < req->resource_logs[r]->scope_logs[s]->n_log_records; i++)
                if (k++ == idx)
                    return req->resource_logs[r]->scope_logs[s]->log_records[i];
    fail_msg("no log record %zu in the output", idx);
    return NULL;
}

static const AnyValue *attr_in(KeyValue *const *kv, size_t n, const char *key)
{
    const AnyValue *found = NULL;
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i]->key, key) == 0) {
            found = kv[i]->value;
            count++;
        }
    if (count > 1)
        fail_msg("attribute %s appears %zu times", key, count);
    return found;
}

static const AnyValue *attr(const Span *sp, const char *key)
{
    return attr_in(sp->attributes, sp->n_attributes, key);
}

static void assert_str(const AnyValue *v, const char *want)
{
    assert_non_null(v);
    assert_int_equal(v->value_case, V_STRING);
    assert_string_equal(v->string_value, want);
}

static void assert_int_value(const AnyValue *v, int64_t want)
{
    assert_non_null(v);
    assert_int_equal(v->value_case, V_INT);
    assert_int_equal(v->int_value, want);
}

static void assert_strings(const AnyValue *v, const char *const *want, size_t n)
{
    assert_non_null(v);
    assert_int_equal(v->value_case, V_ARRAY);
    assert_int_equal(v->array_value->n_values, n);
    for (size_t i = 0; i < n; i++)
        assert_str(v->array_value->values[i], want[i]);
}

/* Runs one span through a fresh processor and returns it (the fixture keeps it alive). */
static Span *one_span(struct fx *f, const struct span_def *d)
{
    struct batch *b = traces(d, 1);
    assert_int_equal(run(f, b), CONSUME_OK);
    batch_unref(b);
    return out_span(f, 0);
}

#define SPAN_OF(...)                                                                          \
    ((struct span_def){.attrs = (const struct tv[]){__VA_ARGS__},                             \
                       .n = sizeof((const struct tv[]){__VA_ARGS__}) / sizeof(struct tv)})

/* ---- the mapping table, row by row ----------------------------------------------------------- */

/* A plausible legacy value for the row, in the form instrumentations send it, and a check that
 * the output carries the converted value. */
static struct tv sample_for(const struct gs_mapping *m)
{
    switch (m->xform) {
    case GS_X_NONE: return (struct tv)S(m->from, "sample-value");
    case GS_X_STRING:
        return (struct tv)S(m->from, m->values ? m->values->pairs[0].from : "model-x");
    case GS_X_INT: return (struct tv)S(m->from, "42");
    case GS_X_DOUBLE: return (struct tv)S(m->from, "0.25");
    case GS_X_BOOL: return (struct tv)S(m->from, "True");
    case GS_X_STRING_ARRAY: return (struct tv)S(m->from, "[\"stop\", \"length\"]");
    case GS_X_MS_TO_S: return (struct tv)I(m->from, 1500);
    }
    fail_msg("unknown transform");
    return (struct tv){0};
}

static void check_converted(const struct gs_mapping *m, const AnyValue *v)
{
    if (!v)
        fail_msg("row %s -> %s: target missing", m->from, m->to);
    switch (m->xform) {
    case GS_X_NONE: assert_str(v, "sample-value"); break;
    case GS_X_STRING:
        assert_str(v, m->values ? m->values->pairs[0].to : "model-x");
        if (m->values)
            assert_string_not_equal(m->values->pairs[0].from, m->values->pairs[0].to);
        break;
    case GS_X_INT: assert_int_value(v, 42); break;
    case GS_X_DOUBLE:
        assert_int_equal(v->value_case, V_DOUBLE);
        assert_true(v->double_value == 0.25);
        break;
    case GS_X_BOOL:
        assert_int_equal(v->value_case, V_BOOL);
        assert_true(v->bool_value);
        break;
    case GS_X_STRING_ARRAY: {
        static const char *const want[] = {"stop", "length"};
        assert_strings(v, want, 2);
        break;
    }
    case GS_X_MS_TO_S:
        assert_int_equal(v->value_case, V_DOUBLE);
        assert_true(v->double_value == 1.5);
        break;
    }
}

static void test_every_mapping_row(void **state)
{
    (void)state;
    size_t n;
    const struct gs_mapping *rows = gs_mapping_rows(&n);
    assert_true(n > 50);
    static const char *const targets[] = {"v1.41", "latest"};
    size_t runs = 0;
    for (size_t r = 0; r < n; r++) {
        const struct gs_mapping *m = &rows[r];
        assert_true(m->targets != 0 && (m->targets & ~GS_FOR_ALL) == 0);
        assert_true(m->signals != 0);
        bool in_place = strcmp(m->from, m->to) == 0;
        for (int t = 0; t < GS_TARGET_COUNT; t++) {
            if (!(m->targets & (1u << t)))
                continue;
            /* The hash finds exactly this row: no duplicate from-name within a target. */
            assert_ptr_equal(gs_mapping_find((enum gs_target)t, m->from), m);
            /* A weak name ("session.id") is no sign of an LLM span by itself. */
            assert_true(gs_mapping_known(m->from) == !m->weak);
            for (int keep = 0; keep < 2; keep++) {
                char yaml[200];
                snprintf(yaml, sizeof yaml, "target: %s\nkeep_original: %s\non_violation: pass\n",
                         targets[t], keep ? "true" : "false");
                struct fx *f = fx_new(yaml);
                /* A neutral scope: the legacy or gen_ai.* name alone must mark the LLM span
                 * (a weak one is renamed on a span of an LLM scope). */
                struct tv tv = sample_for(m);
                struct span_def d = {.scope = m->weak ? LLM_SCOPE : APP_SCOPE, .attrs = &tv,
                                     .n = 1};
                struct batch *in = traces(&d, 1);
                assert_int_equal(run(f, in), CONSUME_OK);
                batch_unref(in);
                Span *sp = out_span(f, 0);
                check_converted(m, attr(sp, m->to));
                if (!in_place) {
                    if (keep && tv.type == V_STRING)
                        assert_str(attr(sp, m->from), tv.s);
                    else if (keep)
                        assert_int_value(attr(sp, m->from), tv.i);
                    else if (attr(sp, m->from))
                        fail_msg("row %s -> %s (%s): legacy name not removed", m->from, m->to,
                                 targets[t]);
                }
                assert_int_equal(counter(f, "renamed_attributes", NULL), 1);
                assert_int_equal(counter(f, "llm_spans", NULL), 1);
                fx_free(f);
                runs++;
            }
        }
        /* Under a target the row does not cover, it leaves the attribute alone (unless another
         * row of that target takes the name). */
        for (int t = 0; t < GS_TARGET_COUNT; t++) {
            if ((m->targets & (1u << t)) || gs_mapping_find((enum gs_target)t, m->from))
                continue;
            char yaml[200];
            snprintf(yaml, sizeof yaml, "target: %s\non_violation: pass\n", targets[t]);
            struct fx *f = fx_new(yaml);
            struct tv tv = sample_for(m);
            struct span_def d = {.attrs = &tv, .n = 1};
            Span *sp = one_span(f, &d);
            assert_non_null(attr(sp, m->from));
            if (!in_place)
                assert_null(attr(sp, m->to));
            fx_free(f);
        }
    }
    assert_true(runs >= 2 * n);
}

/* session.id, tool.name and the like are renamed on LLM spans only: alone on a span of an
 * application scope they change nothing, and are no violation either. */
static void test_weak_names_do_not_mark_llm_spans(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL);
    struct tv tv[] = {S("session.id", "s-1"), S("tool.name", "search")};
    struct span_def d = {.scope = APP_SCOPE, .attrs = tv, .n = 2};
    Span *sp = one_span(f, &d);
    assert_str(attr(sp, "session.id"), "s-1");
    assert_str(attr(sp, "tool.name"), "search");
    assert_null(attr(sp, "gen_ai.conversation.id"));
    assert_null(attr(sp, GS_VIOLATIONS_ATTR));
    assert_int_equal(counter(f, "llm_spans", NULL), 0);
    fx_free(f);
    /* With an OpenInference span kind the span is an LLM span, and both are renamed. */
    f = fx_new("on_violation: pass\n");
    struct tv tv2[] = {S("openinference.span.kind", "TOOL"), S("session.id", "s-1"),
                       S("tool.name", "search")};
    struct span_def d2 = {.scope = APP_SCOPE, .attrs = tv2, .n = 3};
    sp = one_span(f, &d2);
    assert_str(attr(sp, "gen_ai.operation.name"), "execute_tool");
    assert_str(attr(sp, "gen_ai.conversation.id"), "s-1");
    assert_str(attr(sp, "gen_ai.tool.name"), "search");
    assert_null(attr(sp, "session.id"));
    fx_free(f);
    /* genai_semconv does not invent operation names: an unknown kind stays where it was. */
    f = fx_new("on_violation: pass\n");
    struct tv tv3[] = {S("openinference.span.kind", "GUARDRAIL"), S("llm.model_name", "m")};
    struct span_def d3 = {.scope = APP_SCOPE, .attrs = tv3, .n = 2};
    sp = one_span(f, &d3);
    assert_str(attr(sp, "openinference.span.kind"), "GUARDRAIL");
    assert_null(attr(sp, "gen_ai.operation.name"));
    fx_free(f);
}

/* A value that does not convert leaves the legacy attribute as it was, and is counted. */
static void test_rows_with_unconvertible_values(void **state)
{
    (void)state;
    size_t n;
    const struct gs_mapping *rows = gs_mapping_rows(&n);
    size_t checked = 0;
    for (size_t r = 0; r < n; r++) {
        const struct gs_mapping *m = &rows[r];
        if (m->xform != GS_X_INT && m->xform != GS_X_DOUBLE && m->xform != GS_X_BOOL)
            continue;
        const char *target = (m->targets & GS_FOR_V141) ? "v1.41" : "latest";
        char yaml[100];
        snprintf(yaml, sizeof yaml, "target: %s\non_violation: pass\n", target);
        struct fx *f = fx_new(yaml);
        struct tv tv = S(m->from, "n/a");
        struct span_def d = {.attrs = &tv, .n = 1};
        Span *sp = one_span(f, &d);
        assert_str(attr(sp, m->from), "n/a");
        if (strcmp(m->from, m->to) != 0)
            assert_null(attr(sp, m->to));
        assert_int_equal(counter(f, "unconvertible_attributes", NULL), 1);
        fx_free(f);
        checked++;
    }
    assert_true(checked > 20);
}

/* ---- value renames --------------------------------------------------------------------------- */

static void test_provider_value_renames(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"gemini", "gcp.gemini"},           {"vertex_ai", "gcp.vertex_ai"},
        {"az.ai.openai", "azure.ai.openai"}, {"az.ai.inference", "azure.ai.inference"},
        {"xai", "x_ai"},                    {"Anthropic", "anthropic"},
        {"MistralAI", "mistral_ai"},        {"AWS", "aws.bedrock"},
        {"bedrock", "aws.bedrock"},         {"openai.chat", "openai"},
        {"google.vertex.chat", "gcp.vertex_ai"}, {"google.generative-ai", "gcp.gemini"},
        {"aws.bedrock", "aws.bedrock"},     {"azure", "azure.ai.openai"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = gs_value_lookup(&gs_provider_values, cases[i].in);
        if (!got || strcmp(got, cases[i].want) != 0)
            fail_msg("%s -> %s, want %s", cases[i].in, got ? got : "(none)", cases[i].want);
    }
    assert_null(gs_value_lookup(&gs_provider_values, "acme"));
    assert_null(gs_value_lookup(&gs_provider_values, "acme.chat"));

    /* Through the processor: the deprecated name and its value, and a stray value under the
     * current name; an unknown provider keeps its value. */
    struct fx *f = fx_new("on_violation: pass");
    struct span_def d[] = {
        SPAN_OF(S("gen_ai.system", "gemini")),
        SPAN_OF(S("gen_ai.provider.name", "az.ai.openai")),
        SPAN_OF(S("gen_ai.system", "acme")),
        SPAN_OF(S("ai.model.provider", "anthropic.messages")),
    };
    struct batch *b = traces(d, 4);
    run(f, b);
    batch_unref(b);
    assert_str(attr(out_span(f, 0), "gen_ai.provider.name"), "gcp.gemini");
    assert_null(attr(out_span(f, 0), "gen_ai.system"));
    assert_str(attr(out_span(f, 1), "gen_ai.provider.name"), "azure.ai.openai");
    assert_str(attr(out_span(f, 2), "gen_ai.provider.name"), "acme");
    assert_str(attr(out_span(f, 3), "gen_ai.provider.name"), "anthropic");
    fx_free(f);
}

static void test_operation_values(void **state)
{
    (void)state;
    struct fx *f = fx_new("on_violation: pass");
    struct span_def d[] = {
        SPAN_OF(S("llm.request.type", "completion")),
        SPAN_OF(S("llm.request.type", "embedding")),
        SPAN_OF(S("ai.operationId", "ai.streamText.doStream")),
        /* A wrapper span of the Vercel SDK is not an inference operation: kept as is. */
        SPAN_OF(S("ai.operationId", "ai.generateText")),
    };
    struct batch *b = traces(d, 4);
    run(f, b);
    batch_unref(b);
    assert_str(attr(out_span(f, 0), "gen_ai.operation.name"), "text_completion");
    assert_str(attr(out_span(f, 1), "gen_ai.operation.name"), "embeddings");
    assert_str(attr(out_span(f, 2), "gen_ai.operation.name"), "chat");
    assert_null(attr(out_span(f, 3), "gen_ai.operation.name"));
    assert_str(attr(out_span(f, 3), "ai.operationId"), "ai.generateText");
    fx_free(f);
}

/* ---- coercions ------------------------------------------------------------------------------- */

static void test_coercions(void **state)
{
    (void)state;
    struct fx *f = fx_new("on_violation: pass");
    struct span_def d = SPAN_OF(
        S("gen_ai.usage.input_tokens", " 120 "),        /* string count */
        D("gen_ai.usage.output_tokens", 7.0),           /* integral double */
        S("gen_ai.usage.prompt_tokens_details.cached_tokens", "64.0"),
        S("gen_ai.response.finish_reasons", "[\"stop\",\"tool_calls\"]"), /* LiteLLM JSON */
        S("gen_ai.is_streaming", "False"),              /* LiteLLM string boolean */
        S("gen_ai.request.temperature", "0.7"),
        I("gen_ai.request.top_p", 1),
        S("gen_ai.request.stop_sequences", "['\\n\\nHuman:', '\\u00e9t\\u00e9']"),
        D("gen_ai.usage.reasoning.output_tokens", 2.5)); /* not integral: left alone */
    Span *sp = one_span(f, &d);
    assert_int_value(attr(sp, "gen_ai.usage.input_tokens"), 120);
    assert_int_value(attr(sp, "gen_ai.usage.output_tokens"), 7);
    assert_int_value(attr(sp, "gen_ai.usage.cache_read.input_tokens"), 64);
    static const char *const reasons[] = {"stop", "tool_calls"};
    assert_strings(attr(sp, "gen_ai.response.finish_reasons"), reasons, 2);
    const AnyValue *stream = attr(sp, "gen_ai.request.stream");
    assert_non_null(stream);
    assert_int_equal(stream->value_case, V_BOOL);
    assert_false(stream->bool_value);
    assert_null(attr(sp, "gen_ai.is_streaming"));
    const AnyValue *temp = attr(sp, "gen_ai.request.temperature");
    assert_int_equal(temp->value_case, V_DOUBLE);
    assert_true(fabs(temp->double_value - 0.7) < 1e-12);
    const AnyValue *top_p = attr(sp, "gen_ai.request.top_p");
    assert_int_equal(top_p->value_case, V_DOUBLE);
    assert_true(top_p->double_value == 1.0);
    static const char *const stops[] = {"\n\nHuman:", "\xc3\xa9t\xc3\xa9"};
    assert_strings(attr(sp, "gen_ai.request.stop_sequences"), stops, 2);
    const AnyValue *reasoning = attr(sp, "gen_ai.usage.reasoning.output_tokens");
    assert_int_equal(reasoning->value_case, V_DOUBLE);
    assert_int_equal(counter(f, "unconvertible_attributes", NULL), 1);
    fx_free(f);

    /* One finish reason as a plain string; an empty JSON array; malformed JSON is kept. */
    f = fx_new("on_violation: pass");
    struct span_def d2[] = {
        SPAN_OF(S("llm.response.finish_reason", "length")),
        SPAN_OF(S("gen_ai.response.finish_reasons", "[]")),
        SPAN_OF(S("gen_ai.response.finish_reasons", "[\"stop\"")),
        SPAN_OF(S("llm.is_streaming", "1"), I("gen_ai.request.stream", 0)),
    };
    struct batch *b = traces(d2, 4);
    run(f, b);
    batch_unref(b);
    static const char *const one[] = {"length"};
    assert_strings(attr(out_span(f, 0), "gen_ai.response.finish_reasons"), one, 1);
    assert_strings(attr(out_span(f, 1), "gen_ai.response.finish_reasons"), NULL, 0);
    assert_str(attr(out_span(f, 2), "gen_ai.response.finish_reasons"), "[\"stop\"");
    /* The current gen_ai.request.stream (0 → false) wins over llm.is_streaming. */
    const AnyValue *s3 = attr(out_span(f, 3), "gen_ai.request.stream");
    assert_int_equal(s3->value_case, V_BOOL);
    assert_false(s3->bool_value);
    assert_null(attr(out_span(f, 3), "llm.is_streaming"));
    fx_free(f);
}

/* ---- derivations ----------------------------------------------------------------------------- */

static void test_provider_from_server_address(void **state)
{
    (void)state;
    size_t n;
    const struct gs_host_rule *rules = gs_host_rules(&n);
    assert_true(n >= 12);
    for (size_t i = 0; i < n; i++) {
        /* A concrete host for the pattern: '*' becomes a region-like label. */
        char host[200];
        const char *star = strchr(rules[i].pattern, '*');
        if (star)
            snprintf(host, sizeof host, "%.*seu-west-1%s", (int)(star - rules[i].pattern),
                     rules[i].pattern, star + 1);
        else
            snprintf(host, sizeof host, "%s", rules[i].pattern);
        struct fx *f = fx_new("on_violation: pass");
        struct span_def d = SPAN_OF(S("gen_ai.request.model", "m"), S("server.address", host));
        Span *sp = one_span(f, &d);
        const AnyValue *v = attr(sp, "gen_ai.provider.name");
        if (!v || strcmp(v->string_value, rules[i].provider) != 0)
            fail_msg("%s: got %s, want %s", host, v ? v->string_value : "(none)",
                     rules[i].provider);
        assert_int_equal(counter(f, "derived_attributes", NULL), 1);
        fx_free(f);
    }
    assert_string_equal(gs_provider_from_host("API.OpenAI.com."), "openai");
    assert_string_equal(gs_provider_from_host("myres.openai.azure.com"), "azure.ai.openai");
    assert_string_equal(gs_provider_from_host("bedrock-runtime.us-east-1.amazonaws.com"),
                        "aws.bedrock");
    assert_string_equal(gs_provider_from_host("us-central1-aiplatform.googleapis.com"),
                        "gcp.vertex_ai");
    assert_null(gs_provider_from_host("openai.azure.com"));   /* '*' needs a label */
    assert_null(gs_provider_from_host("s3.us-east-1.amazonaws.com"));
    assert_null(gs_provider_from_host("evil-api.openai.com.example"));

    /* A provider already there (current, or from a legacy name) is not replaced; an unknown
     * host derives nothing. */
    struct fx *f = fx_new("on_violation: pass");
    struct span_def d[] = {
        SPAN_OF(S("gen_ai.provider.name", "openai"), S("server.address", "api.anthropic.com")),
        SPAN_OF(S("gen_ai.system", "groq"), S("server.address", "api.openai.com")),
        SPAN_OF(S("gen_ai.request.model", "m"), S("server.address", "llm.internal")),
    };
    struct batch *b = traces(d, 3);
    run(f, b);
    batch_unref(b);
    assert_str(attr(out_span(f, 0), "gen_ai.provider.name"), "openai");
    assert_str(attr(out_span(f, 1), "gen_ai.provider.name"), "groq");
    assert_null(attr(out_span(f, 2), "gen_ai.provider.name"));
    assert_int_equal(counter(f, "derived_attributes", NULL), 0);
    fx_free(f);
}

static void test_error_type_from_status(void **state)
{
    (void)state;
    struct fx *f = fx_new("on_violation: pass");
    struct span_def d[] = {
        {.status = 2, .status_msg = "RateLimitError", .attrs = (const struct tv[]){
             S("gen_ai.operation.name", "chat")}, .n = 1},
        {.status = 2, .status_msg = "Rate limit reached for org-123 on tokens per min",
         .attrs = (const struct tv[]){S("gen_ai.operation.name", "chat"),
                                      I("http.response.status_code", 429)}, .n = 2},
        {.status = 2, .status_msg = "something broke, see logs", .exception_type = "TimeoutError",
         .attrs = (const struct tv[]){S("gen_ai.operation.name", "chat")}, .n = 1},
        {.status = 2, .attrs = (const struct tv[]){S("gen_ai.operation.name", "chat")}, .n = 1},
        {.status = 2, .status_msg = "X", .attrs = (const struct tv[]){
             S("gen_ai.operation.name", "chat"), S("error.type", "timeout")}, .n = 2},
        {.status = 1, .attrs = (const struct tv[]){S("gen_ai.operation.name", "chat")}, .n = 1},
    };
    struct batch *b = traces(d, 6);
    run(f, b);
    batch_unref(b);
    assert_str(attr(out_span(f, 0), "error.type"), "RateLimitError");
    assert_str(attr(out_span(f, 1), "error.type"), "429");
    assert_str(attr(out_span(f, 2), "error.type"), "TimeoutError");
    assert_str(attr(out_span(f, 3), "error.type"), "_OTHER");
    assert_str(attr(out_span(f, 4), "error.type"), "timeout");
    assert_null(attr(out_span(f, 5), "error.type"));
    assert_int_equal(counter(f, "derived_attributes", NULL), 4);
    fx_free(f);
}

static void test_rename_spans(void **state)
{
    (void)state;
    struct fx *f = fx_new("rename_spans: true\non_violation: pass");
    struct span_def d[] = {
        {.name = "POST /v1/chat/completions", .attrs = (const struct tv[]){
             S("llm.request.type", "chat"), S("gen_ai.request.model", "gpt-4o")}, .n = 2},
        {.name = "embed", .attrs = (const struct tv[]){S("gen_ai.operation.name", "embeddings")},
         .n = 1},
        {.name = "chat gpt-4o", .attrs = (const struct tv[]){
             S("gen_ai.operation.name", "chat"), S("gen_ai.request.model", "gpt-4o")}, .n = 2},
        {.name = "llm call", .attrs = (const struct tv[]){S("gen_ai.request.model", "x")}, .n = 1},
    };
    struct batch *b = traces(d, 4);
    run(f, b);
    batch_unref(b);
    assert_string_equal(out_span(f, 0)->name, "chat gpt-4o");
    assert_string_equal(out_span(f, 1)->name, "embeddings");
    assert_string_equal(out_span(f, 2)->name, "chat gpt-4o");
    assert_string_equal(out_span(f, 3)->name, "llm call"); /* no operation: no name */
    assert_int_equal(counter(f, "renamed_spans", NULL), 2);
    fx_free(f);

    f = fx_new("on_violation: pass");
    struct span_def d2 = {.name = "POST /v1/chat/completions", .attrs = (const struct tv[]){
                              S("gen_ai.operation.name", "chat"),
                              S("gen_ai.request.model", "gpt-4o")}, .n = 2};
    assert_string_equal(one_span(f, &d2)->name, "POST /v1/chat/completions");
    fx_free(f);
}

/* ---- conflicts ------------------------------------------------------------------------------- */

static void test_current_wins(void **state)
{
    (void)state;
    struct fx *f = fx_new("on_violation: pass");
    struct span_def d[] = {
        SPAN_OF(S("gen_ai.usage.prompt_tokens", "99"), I("gen_ai.usage.input_tokens", 10)),
        SPAN_OF(I("gen_ai.usage.input_tokens", 10), I("gen_ai.usage.prompt_tokens", 99)),
        /* Two legacy names for one target: the earlier row (llm.provider) wins, either order */
        SPAN_OF(S("llm.system", "openai"), S("llm.provider", "azure")),
        SPAN_OF(S("llm.provider", "azure"), S("llm.system", "openai")),
        SPAN_OF(S("gen_ai.system", "openai"), S("llm.vendor", "anthropic")),
    };
    struct batch *b = traces(d, 5);
    run(f, b);
    batch_unref(b);
    for (size_t i = 0; i < 2; i++) {
        assert_int_value(attr(out_span(f, i), "gen_ai.usage.input_tokens"), 10);
        assert_null(attr(out_span(f, i), "gen_ai.usage.prompt_tokens"));
    }
    for (size_t i = 2; i < 4; i++) {
        assert_str(attr(out_span(f, i), "gen_ai.provider.name"), "azure.ai.openai");
        assert_null(attr(out_span(f, i), "llm.provider"));
        assert_null(attr(out_span(f, i), "llm.system"));
    }
    assert_str(attr(out_span(f, 4), "gen_ai.provider.name"), "openai");
    fx_free(f);

    f = fx_new("on_violation: pass\nkeep_original: true");
    struct span_def k = SPAN_OF(S("gen_ai.usage.prompt_tokens", "99"),
                                I("gen_ai.usage.input_tokens", 10));
    Span *sp = one_span(f, &k);
    assert_int_value(attr(sp, "gen_ai.usage.input_tokens"), 10);
    assert_str(attr(sp, "gen_ai.usage.prompt_tokens"), "99");
    fx_free(f);
}

/* ---- detection and the untouched path -------------------------------------------------------- */

static void test_detection(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL); /* defaults: annotate */
    struct span_def d[] = {
        {.scope = LLM_SCOPE, .attrs = (const struct tv[]){S("http.method", "POST")}, .n = 1},
        {.scope = APP_SCOPE, .attrs = (const struct tv[]){S("gen_ai.request.model", "m")}, .n = 1},
        {.scope = APP_SCOPE, .attrs = (const struct tv[]){S("llm.model_name", "m")}, .n = 1},
        {.scope = APP_SCOPE, .attrs = (const struct tv[]){
             S("http.method", "GET"), S("llm_like", "x"), S("aiohttp.x", "y"),
             S("gen_ai", "no-dot"), I("llm.unknown.name", 1)}, .n = 5},
    };
    struct batch *b = traces(d, 4);
    run(f, b);
    batch_unref(b);
    for (size_t i = 0; i < 3; i++)
        assert_non_null(attr(out_span(f, i), GS_VIOLATIONS_ATTR));
    Span *plain = out_span(f, 3);
    assert_int_equal(plain->n_attributes, 5);
    assert_null(attr(plain, GS_VIOLATIONS_ATTR));
    assert_str(attr(plain, "gen_ai"), "no-dot");
    assert_int_equal(counter(f, "llm_spans", NULL), 3);
    fx_free(f);

    /* llm_scopes is configurable: the default scope is then an ordinary one. */
    f = fx_new("llm_scopes: [my.llm]");
    struct span_def d2[] = {
        {.scope = LLM_SCOPE, .attrs = (const struct tv[]){S("http.method", "POST")}, .n = 1},
        {.scope = "my.llm", .attrs = (const struct tv[]){S("http.method", "POST")}, .n = 1},
    };
    b = traces(d2, 2);
    run(f, b);
    batch_unref(b);
    assert_null(attr(out_span(f, 0), GS_VIOLATIONS_ATTR));
    assert_non_null(attr(out_span(f, 1), GS_VIOLATIONS_ATTR));
    fx_free(f);
}

static void test_untouched_batches_keep_their_bytes(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL);
    struct span_def d[] = {
        SPAN_OF(S("http.method", "GET"), I("http.response.status_code", 200)),
        {.scope = "db", .attrs = (const struct tv[]){S("db.system", "postgresql")}, .n = 1},
    };
    struct batch *b = traces(d, 2);
    const uint8_t *wire = b->wire;
    size_t len = b->wire_len;
    assert_int_equal(run(f, b), CONSUME_OK);
    assert_int_equal(f->sink.n, 1);
    assert_ptr_equal(f->sink.got[0], b);
    assert_true(b->has_wire);
    assert_ptr_equal(b->wire, wire);
    assert_int_equal(b->wire_len, len);
    assert_int_equal(counter(f, "llm_spans", NULL), 0);
    batch_unref(b);
    fx_free(f);

    /* A conforming LLM span needs nothing either: forwarded as the bytes that arrived. */
    f = fx_new(NULL);
    struct span_def ok = {.scope = LLM_SCOPE, .attrs = (const struct tv[]){
                              S("gen_ai.operation.name", "chat"),
                              S("gen_ai.provider.name", "openai"),
                              S("gen_ai.request.model", "gpt-4o"),
                              I("gen_ai.usage.input_tokens", 12),
                              S("server.address", "api.openai.com")}, .n = 5};
    b = traces(&ok, 1);
    wire = b->wire;
    run(f, b);
    assert_ptr_equal(f->sink.got[0], b);
    assert_true(b->has_wire);
    assert_ptr_equal(b->wire, wire);
    assert_int_equal(counter(f, "llm_spans", NULL), 1);
    assert_int_equal(counter(f, "normalized_spans", NULL), 0);
    batch_unref(b);
    fx_free(f);

    /* A batch that needs an edit does not leave as the bytes that arrived: its encoded face is
     * the span index's edits applied (one copy). */
    f = fx_new(NULL);
    struct span_def legacy = SPAN_OF(S("gen_ai.system", "openai"));
    b = traces(&legacy, 1);
    wire = b->wire;
    run(f, b);
    {
        const uint8_t *out;
        size_t out_len;
        struct error err = {0};
        assert_int_equal(batch_encoded(b, &out, &out_len, &err), 0);
        assert_ptr_not_equal(out, wire);
    }
    assert_int_equal(counter(f, "normalized_spans", NULL), 1);
    batch_unref(b);
    fx_free(f);
}

/* A batch shared with another holder is never edited in place: a private copy goes on. */
static void test_shared_batch_is_copied(void **state)
{
    (void)state;
    struct fx *f = fx_new("on_violation: drop");
    struct span_def d[] = {
        SPAN_OF(S("gen_ai.system", "openai"), S("gen_ai.operation.name", "chat"),
                S("gen_ai.request.model", "m")),
        SPAN_OF(S("gen_ai.request.model", "m")),
    };
    struct batch *b = traces(d, 2);
    batch_ref(b); /* another holder */
    const uint8_t *wire = b->wire;
    run(f, b);
    assert_ptr_not_equal(f->sink.got[0], b);
    assert_true(b->has_wire);
    assert_ptr_equal(b->wire, wire);
    assert_int_equal(atomic_load(&b->rejected), 1);
    assert_int_equal(out_span_count(f), 1);
    assert_str(attr(out_span(f, 0), "gen_ai.provider.name"), "openai");
    batch_unref(b);
    batch_unref(b);
    fx_free(f);
}

/* ---- enforcement ----------------------------------------------------------------------------- */

static void test_violations_annotate(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL);
    struct span_def d[] = {
        SPAN_OF(S("gen_ai.operation.name", "chat")),
        /* "when known": a tool call has no model, and needs none */
        SPAN_OF(S("gen_ai.operation.name", "execute_tool"), S("gen_ai.provider.name", "openai")),
        SPAN_OF(S("gen_ai.operation.name", "embeddings"), S("gen_ai.provider.name", "openai"),
                S("gen_ai.request.model", "")),
        /* an earlier annotation is replaced, not duplicated */
        SPAN_OF(S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "m"),
                S(GS_VIOLATIONS_ATTR, "stale")),
    };
    struct batch *b = traces(d, 4);
    run(f, b);
    batch_unref(b);
    static const char *const v0[] = {"gen_ai.provider.name", "gen_ai.request.model"};
    assert_strings(attr(out_span(f, 0), GS_VIOLATIONS_ATTR), v0, 2);
    assert_null(attr(out_span(f, 1), GS_VIOLATIONS_ATTR));
    static const char *const v2[] = {"gen_ai.request.model"};
    assert_strings(attr(out_span(f, 2), GS_VIOLATIONS_ATTR), v2, 1);
    static const char *const v3[] = {"gen_ai.operation.name"};
    assert_strings(attr(out_span(f, 3), GS_VIOLATIONS_ATTR), v3, 1);
    assert_int_equal(counter(f, "violations", "gen_ai.operation.name"), 1);
    assert_int_equal(counter(f, "violations", "gen_ai.provider.name"), 1);
    assert_int_equal(counter(f, "violations", "gen_ai.request.model"), 2);
    assert_int_equal(counter(f, "dropped_spans", NULL), 0);

    /* A second pass over its own output changes nothing, so the bytes go on untouched. */
    const uint8_t *data;
    size_t len;
    struct error err = {0};
    assert_int_equal(batch_encoded(f->sink.got[0], &data, &len, &err), 0);
    struct batch *again = batch_from_wire(SIGNAL_TRACES, data, len, &err);
    assert_non_null(again);
    const uint8_t *wire = again->wire;
    run(f, again);
    assert_ptr_equal(f->sink.got[1], again);
    assert_true(again->has_wire);
    assert_ptr_equal(again->wire, wire);
    assert_int_equal(counter(f, "violations", "gen_ai.request.model"), 4);
    batch_unref(again);
    fx_free(f);

    /* A configured list: every name in it is required. */
    f = fx_new("required_attributes: [gen_ai.provider.name, tenant.id]");
    struct span_def t = SPAN_OF(S("gen_ai.provider.name", "openai"));
    static const char *const vt[] = {"tenant.id"};
    assert_strings(attr(one_span(f, &t), GS_VIOLATIONS_ATTR), vt, 1);
    assert_int_equal(counter(f, "violations", "tenant.id"), 1);
    fx_free(f);
}

static void test_violations_drop(void **state)
{
    (void)state;
    struct fx *f = fx_new("on_violation: drop");
    struct span_def d[] = {
        SPAN_OF(S("gen_ai.operation.name", "chat"), S("gen_ai.provider.name", "openai"),
                S("gen_ai.request.model", "gpt-4o")),
        SPAN_OF(S("gen_ai.operation.name", "chat"), S("gen_ai.request.model", "gpt-4o")),
        SPAN_OF(S("http.method", "GET")),
    };
    struct batch *b = traces(d, 3);
    assert_int_equal(run(f, b), CONSUME_OK);
    assert_int_equal(atomic_load(&b->rejected), 1);
    assert_non_null(strstr(b->reject_msg, "gen_ai.provider.name"));
    assert_int_equal(out_span_count(f), 2);
    assert_int_equal(f->sink.got[0]->items, 2);
    assert_str(attr(out_span(f, 0), "gen_ai.provider.name"), "openai");
    assert_str(attr(out_span(f, 1), "http.method"), "GET");
    /* The scope entry the dropped span emptied is gone too. */
    struct error err = {0};
    const TraceRequest *req = (const TraceRequest *)batch_decoded(f->sink.got[0], &err);
    assert_int_equal(req->resource_spans[0]->n_scope_spans, 2);
    assert_int_equal(counter(f, "dropped_spans", NULL), 1);
    assert_int_equal(counter(f, "violations", "gen_ai.provider.name"), 1);
    batch_unref(b);
    fx_free(f);

    /* Everything dropped: nothing goes downstream, the sender learns all were rejected. */
    f = fx_new("on_violation: drop");
    struct span_def bad[] = {SPAN_OF(S("gen_ai.request.model", "m")),
                             SPAN_OF(S("llm.model_name", "m"))};
    b = traces(bad, 2);
    assert_int_equal(run(f, b), CONSUME_OK);
    assert_int_equal(f->sink.n, 0);
    assert_int_equal(atomic_load(&b->rejected), 2);
    assert_int_equal(counter(f, "dropped_spans", NULL), 2);
    batch_unref(b);
    fx_free(f);
}

static void test_violations_pass(void **state)
{
    (void)state;
    struct fx *f = fx_new("on_violation: pass");
    struct span_def d = SPAN_OF(S("gen_ai.request.model", "m"));
    struct batch *b = traces(&d, 1);
    const uint8_t *wire = b->wire;
    run(f, b);
    /* Nothing to change: counted only, the bytes go on untouched. */
    assert_ptr_equal(f->sink.got[0], b);
    assert_ptr_equal(b->wire, wire);
    assert_int_equal(atomic_load(&b->rejected), 0);
    assert_null(attr(out_span(f, 0), GS_VIOLATIONS_ATTR));
    assert_int_equal(counter(f, "violations", "gen_ai.operation.name"), 1);
    assert_int_equal(counter(f, "violations", "gen_ai.provider.name"), 1);
    assert_int_equal(counter(f, "violations", "gen_ai.request.model"), 0);
    batch_unref(b);
    fx_free(f);
}

/* ---- logs ------------------------------------------------------------------------------------ */

static void test_logs_renamed(void **state)
{
    (void)state;
    struct fx *f = fx_new_sig(NULL, SIGNAL_LOGS);
    struct log_def d[] = {
        {.event_name = "gen_ai.client.inference.operation.details",
         .attrs = (const struct tv[]){S("gen_ai.system", "gemini"),
                                      S("gen_ai.usage.prompt_tokens", "5")}, .n = 2},
        {.scope = LLM_SCOPE, .attrs = (const struct tv[]){S("llm.token_count.completion", "9")},
         .n = 1},
        {.attrs = (const struct tv[]){S("http.method", "GET")}, .n = 1},
    };
    struct batch *b = logs(d, 3);
    run(f, b);
    batch_unref(b);
    LogRecord *l0 = out_log(f, 0);
    assert_str(attr_in(l0->attributes, l0->n_attributes, "gen_ai.provider.name"), "gcp.gemini");
    assert_int_value(attr_in(l0->attributes, l0->n_attributes, "gen_ai.usage.input_tokens"), 5);
    assert_null(attr_in(l0->attributes, l0->n_attributes, "gen_ai.system"));
    /* events carry no requirement annotation */
    assert_null(attr_in(l0->attributes, l0->n_attributes, GS_VIOLATIONS_ATTR));
    LogRecord *l1 = out_log(f, 1);
    assert_int_value(attr_in(l1->attributes, l1->n_attributes, "gen_ai.usage.output_tokens"), 9);
    LogRecord *l2 = out_log(f, 2);
    assert_int_equal(l2->n_attributes, 1);
    assert_int_equal(counter(f, "llm_log_records", NULL), 2);
    assert_int_equal(counter(f, "normalized_log_records", NULL), 2);
    fx_free(f);

    /* Logs without GenAI content keep their bytes. */
    f = fx_new_sig(NULL, SIGNAL_LOGS);
    struct log_def plain = {.event_name = "app.login",
                            .attrs = (const struct tv[]){S("user.id", "u")}, .n = 1};
    b = logs(&plain, 1);
    const uint8_t *wire = b->wire;
    run(f, b);
    assert_ptr_equal(b->wire, wire);
    assert_true(b->has_wire);
    batch_unref(b);
    fx_free(f);
}

/* ---- targets --------------------------------------------------------------------------------- */

static void test_target_latest_vs_v141(void **state)
{
    (void)state;
    struct span_def d = SPAN_OF(I("gen_ai.usage.cache_creation.input_tokens", 100),
                                S("gen_ai.usage.cache_write.input_tokens", "7"),
                                S("llm.top_k", "40"),
                                S("gen_ai.request.reasoning_effort", "high"),
                                I("llm.token_count.prompt_details.audio", 3));

    struct fx *f = fx_new("on_violation: pass"); /* v1.41 */
    Span *sp = one_span(f, &d);
    /* v1.41: cache_creation is current and wins over the newer name, which is dropped */
    assert_int_value(attr(sp, "gen_ai.usage.cache_creation.input_tokens"), 100);
    assert_null(attr(sp, "gen_ai.usage.cache_write.input_tokens"));
    const AnyValue *k = attr(sp, "gen_ai.request.top_k");
    assert_int_equal(k->value_case, V_DOUBLE);
    assert_true(k->double_value == 40.0);
    assert_str(attr(sp, "gen_ai.request.reasoning_effort"), "high");
    assert_null(attr(sp, "gen_ai.request.reasoning.level"));
    assert_non_null(attr(sp, "llm.token_count.prompt_details.audio"));
    fx_free(f);

    f = fx_new("target: latest\non_violation: pass");
    sp = one_span(f, &d);
    /* latest: cache_write is current (and coerced), cache_creation is legacy and dropped */
    assert_int_value(attr(sp, "gen_ai.usage.cache_write.input_tokens"), 7);
    assert_null(attr(sp, "gen_ai.usage.cache_creation.input_tokens"));
    assert_int_value(attr(sp, "gen_ai.request.top_k"), 40);
    assert_str(attr(sp, "gen_ai.request.reasoning.level"), "high");
    assert_null(attr(sp, "gen_ai.request.reasoning_effort"));
    assert_int_value(attr(sp, "gen_ai.usage.audio.input_tokens"), 3);
    fx_free(f);

    /* Only the older name present: each target turns it into its own. */
    struct span_def old = SPAN_OF(I("gen_ai.usage.cache_creation_input_tokens", 11));
    f = fx_new("on_violation: pass");
    assert_int_value(attr(one_span(f, &old), "gen_ai.usage.cache_creation.input_tokens"), 11);
    fx_free(f);
    f = fx_new("target: latest\non_violation: pass");
    assert_int_value(attr(one_span(f, &old), "gen_ai.usage.cache_write.input_tokens"), 11);
    fx_free(f);
}

/* ---- custom_mappings ------------------------------------------------------------------------- */

/* Parses, binds and validates; returns validate's message ("" when it passes). */
static const char *custom_validate(const char *yaml, struct error *err)
{
    struct genai_semconv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct cnode *root = config_parse_string(yaml, "<t>", err);
    assert_non_null(root);
    assert_int_equal(config_bind(genai_semconv_processor_factory.fields, root, &cfg, err), 0);
    err->msg[0] = '\0';
    int rc = genai_semconv_processor_factory.validate(&cfg, err);
    assert_true(rc == 0 ? err->msg[0] == '\0' : err->msg[0] != '\0');
    config_free_bound(genai_semconv_processor_factory.fields, &cfg);
    cnode_free(root);
    return err->msg;
}

static void test_custom_mappings_config(void **state)
{
    (void)state;
    struct error err = {0};
    assert_string_equal(custom_validate("custom_mappings:\n"
                                        "  acme.llm.model: gen_ai.request.model\n"
                                        "  acme.llm.vendor: gen_ai.provider.name\n", &err), "");
    assert_string_equal(custom_validate("custom_mappings: {}\n", &err), "");
    assert_string_equal(custom_validate("custom_mappings:\n", &err), "");
    /* a list is not a map: the position is the list's */
    assert_string_equal(custom_validate("custom_mappings: [a, b]\n", &err),
                        "<t>:1:18: custom_mappings: expected a map of source attribute to target "
                        "attribute");
    /* an empty source name: the key's position */
    assert_string_equal(custom_validate("custom_mappings:\n"
                                        "  acme.a: gen_ai.request.model\n"
                                        "  \"\": gen_ai.provider.name\n", &err),
                        "<t>:3:3: custom_mappings: empty source attribute name");
    /* an empty target: the value's position; a missing one: the key's */
    assert_string_equal(custom_validate("custom_mappings:\n  acme.a: \"\"\n", &err),
                        "<t>:2:11: custom_mappings.acme.a: the target must be a non-empty "
                        "attribute name");
    assert_string_equal(custom_validate("custom_mappings:\n  acme.a:\n", &err),
                        "<t>:2:3: custom_mappings.acme.a: the target must be a non-empty "
                        "attribute name");
    assert_string_equal(custom_validate("custom_mappings:\n  acme.a: [x]\n", &err),
                        "<t>:2:11: custom_mappings.acme.a: the target must be a non-empty "
                        "attribute name");
    /* a name mapped to itself */
    assert_string_equal(custom_validate("custom_mappings:\n"
                                        "  acme.a: gen_ai.request.model\n"
                                        "  acme.b: acme.b\n", &err),
                        "<t>:3:11: custom_mappings.acme.b: the target is the source itself");
    /* a source written twice is refused where it is written the second time (YAML) */
    assert_null(config_parse_string("custom_mappings:\n  acme.a: x\n  acme.a: y\n", "<t>", &err));
    assert_non_null(strstr(err.msg, "<t>:3:3: duplicate key 'acme.a'"));
    /* create refuses what validate refuses */
    struct genai_semconv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct cnode *root = config_parse_string("custom_mappings:\n  x: x\n", "<t>", &err);
    assert_int_equal(config_bind(genai_semconv_processor_factory.fields, root, &cfg, &err), 0);
    struct sink s = {.c.consume = sink_consume};
    struct component_env env = {.id = "genai_semconv", .signal = SIGNAL_TRACES};
    env.next[SIGNAL_TRACES] = &s.c;
    assert_null(genai_semconv_processor_factory.create(&cfg, &env, &err));
    assert_non_null(strstr(err.msg, "the target is the source itself"));
    config_free_bound(genai_semconv_processor_factory.fields, &cfg);
    cnode_free(root);
}

#define CUSTOM_YAML                                                                           \
    "on_violation: pass\n"                                                                    \
    "custom_mappings:\n"                                                                      \
    "  acme.llm.model: gen_ai.request.model\n"                                                \
    "  acme.llm.input_tokens: gen_ai.usage.input_tokens\n"                                    \
    "  acme.session: gen_ai.conversation.id\n"                                                \
    "  llm.model_name: gen_ai.response.model\n"

static void test_custom_mappings_spans(void **state)
{
    (void)state;
    struct fx *f = fx_new(CUSTOM_YAML);
    struct span_def d[] = {
        /* 0: only custom names (an app scope): an LLM span by them; the count is coerced to the
         * target's semconv type */
        SPAN_OF(S("acme.llm.model", "m-1"), S("acme.llm.input_tokens", "12"),
                S("http.method", "POST")),
        /* 1: the target already present wins; the custom name goes */
        SPAN_OF(S("acme.llm.model", "m-old"), S("gen_ai.request.model", "m-new"),
                S("gen_ai.operation.name", "chat")),
        /* 2: a custom mapping replaces the built-in row of the same name (llm.model_name →
         * gen_ai.request.model built in) */
        SPAN_OF(S("llm.model_name", "m-2"), S("gen_ai.request.model", "m-req")),
        /* 3: no custom and no GenAI name: not an LLM span */
        SPAN_OF(S("http.method", "GET"), S("acme.other", "x")),
        /* 4: the renames of a span's events, custom and built-in */
        {.attrs = (const struct tv[]){S("gen_ai.operation.name", "chat")}, .n = 1,
         .ev_name = "gen_ai.evaluation.result",
         .ev_attrs = (const struct tv[]){S("acme.session", "conv-7"),
                                         S("gen_ai.system", "openai")},
         .ev_n = 2},
    };
    struct batch *b = traces(d, 5);
    assert_int_equal(run(f, b), CONSUME_OK);
    batch_unref(b);

    Span *s0 = out_span(f, 0);
    assert_str(attr(s0, "gen_ai.request.model"), "m-1");
    assert_int_value(attr(s0, "gen_ai.usage.input_tokens"), 12);
    assert_null(attr(s0, "acme.llm.model"));
    assert_null(attr(s0, "acme.llm.input_tokens"));
    assert_str(attr(s0, "http.method"), "POST");

    Span *s1 = out_span(f, 1);
    assert_str(attr(s1, "gen_ai.request.model"), "m-new");
    assert_null(attr(s1, "acme.llm.model"));

    Span *s2 = out_span(f, 2);
    assert_str(attr(s2, "gen_ai.response.model"), "m-2");
    assert_str(attr(s2, "gen_ai.request.model"), "m-req");
    assert_null(attr(s2, "llm.model_name"));

    Span *s3 = out_span(f, 3);
    assert_int_equal(s3->n_attributes, 2);
    assert_str(attr(s3, "acme.other"), "x");

    Span *s4 = out_span(f, 4);
    assert_int_equal(s4->n_events, 1);
    const Event *ev = s4->events[0];
    assert_str(attr_in(ev->attributes, ev->n_attributes, "gen_ai.conversation.id"), "conv-7");
    assert_null(attr_in(ev->attributes, ev->n_attributes, "acme.session"));
    assert_str(attr_in(ev->attributes, ev->n_attributes, "gen_ai.provider.name"), "openai");

    /* span 0: 2, span 1: 1 (dropped for the present target), span 2: 1, event: 1 */
    assert_int_equal(counter(f, "custom_renamed_attributes", NULL), 5);
    assert_int_equal(counter(f, "llm_spans", NULL), 4);
    fx_free(f);

    /* A span with only names custom_mappings does not list keeps its bytes. */
    f = fx_new(CUSTOM_YAML);
    b = traces(&d[3], 1);
    const uint8_t *wire = b->wire;
    run(f, b);
    assert_ptr_equal(b->wire, wire);
    assert_true(b->has_wire);
    batch_unref(b);
    assert_int_equal(counter(f, "custom_renamed_attributes", NULL), 0);
    fx_free(f);
}

static void test_custom_mappings_keep_original(void **state)
{
    (void)state;
    struct fx *f = fx_new(CUSTOM_YAML "keep_original: true\n");
    struct span_def d[] = {
        SPAN_OF(S("acme.llm.model", "m-1"), S("acme.llm.input_tokens", "12")),
        SPAN_OF(S("acme.llm.model", "m-old"), S("gen_ai.request.model", "m-new")),
        /* kept, llm.model_name is not renamed by its built-in row as well */
        SPAN_OF(S("llm.model_name", "m-2"), S("gen_ai.operation.name", "chat")),
        {.attrs = (const struct tv[]){S("gen_ai.operation.name", "chat")}, .n = 1,
         .ev_name = "gen_ai.evaluation.result",
         .ev_attrs = (const struct tv[]){S("acme.session", "conv-7")}, .ev_n = 1},
    };
    struct batch *b = traces(d, 4);
    run(f, b);
    batch_unref(b);
    Span *s0 = out_span(f, 0);
    assert_str(attr(s0, "gen_ai.request.model"), "m-1");
    assert_str(attr(s0, "acme.llm.model"), "m-1");
    assert_int_value(attr(s0, "gen_ai.usage.input_tokens"), 12);
    assert_str(attr(s0, "acme.llm.input_tokens"), "12");
    Span *s1 = out_span(f, 1);
    assert_str(attr(s1, "gen_ai.request.model"), "m-new");
    assert_str(attr(s1, "acme.llm.model"), "m-old");
    Span *s2 = out_span(f, 2);
    assert_str(attr(s2, "gen_ai.response.model"), "m-2");
    assert_str(attr(s2, "llm.model_name"), "m-2");
    assert_null(attr(s2, "gen_ai.request.model"));
    const Event *ev = out_span(f, 3)->events[0];
    assert_str(attr_in(ev->attributes, ev->n_attributes, "gen_ai.conversation.id"), "conv-7");
    assert_str(attr_in(ev->attributes, ev->n_attributes, "acme.session"), "conv-7");
    /* a present target with keep_original changes nothing: 2 + 0 + 1 + 1 */
    assert_int_equal(counter(f, "custom_renamed_attributes", NULL), 4);
    fx_free(f);
}

static void test_custom_mappings_logs(void **state)
{
    (void)state;
    struct fx *f = fx_new_sig(CUSTOM_YAML, SIGNAL_LOGS);
    struct log_def d = {.attrs = (const struct tv[]){S("acme.llm.model", "m-1")}, .n = 1};
    struct batch *b = logs(&d, 1);
    run(f, b);
    batch_unref(b);
    LogRecord *l0 = out_log(f, 0);
    assert_str(attr_in(l0->attributes, l0->n_attributes, "gen_ai.request.model"), "m-1");
    assert_null(attr_in(l0->attributes, l0->n_attributes, "acme.llm.model"));
    assert_int_equal(counter(f, "normalized_log_records", NULL), 1);
    assert_int_equal(counter(f, "custom_renamed_attributes", NULL), 1);
    fx_free(f);
}

/* ---- config ---------------------------------------------------------------------------------- */

static void test_config(void **state)
{
    (void)state;
    struct genai_semconv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct error err = {0};
    assert_int_equal(config_bind(genai_semconv_processor_factory.fields, NULL, &cfg, &err), 0);
    assert_int_equal(cfg.llm_scopes.n, 1);
    assert_string_equal(cfg.llm_scopes.items[0], "LLMProxy.LLM");
    assert_int_equal(cfg.target, GS_TARGET_V141);
    assert_int_equal(cfg.on_violation, GS_VIOLATION_ANNOTATE);
    assert_false(cfg.keep_original);
    assert_false(cfg.rename_spans);
    assert_int_equal(cfg.required_attributes.n, 3);
    assert_int_equal(genai_semconv_processor_factory.validate(&cfg, &err), 0);
    /* a metrics pipeline is refused */
    struct sink s = {.c.consume = sink_consume};
    struct component_env env = {.id = "genai_semconv", .signal = SIGNAL_METRICS};
    env.next[SIGNAL_METRICS] = &s.c;
    assert_null(genai_semconv_processor_factory.create(&cfg, &env, &err));
    assert_non_null(strstr(err.msg, "traces and logs"));
    config_free_bound(genai_semconv_processor_factory.fields, &cfg);

    struct cnode *root = config_parse_string("target: v1.99", "<t>", &err);
    memset(&cfg, 0, sizeof cfg);
    assert_int_not_equal(config_bind(genai_semconv_processor_factory.fields, root, &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "latest"));
    config_free_bound(genai_semconv_processor_factory.fields, &cfg);
    cnode_free(root);

    root = config_parse_string("required_attributes: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, "
                               "o, p, q, r, s, t, u, v, w, x, y, z, aa, bb, cc, dd, ee, ff, gg]",
                               "<t>", &err);
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(genai_semconv_processor_factory.fields, root, &cfg, &err), 0);
    assert_int_not_equal(genai_semconv_processor_factory.validate(&cfg, &err), 0);
    config_free_bound(genai_semconv_processor_factory.fields, &cfg);
    cnode_free(root);

    assert_ptr_equal(component_find(COMPONENT_PROCESSOR, "genai_semconv"),
                     &genai_semconv_processor_factory);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_mapping_row),
        cmocka_unit_test(test_weak_names_do_not_mark_llm_spans),
        cmocka_unit_test(test_rows_with_unconvertible_values),
        cmocka_unit_test(test_provider_value_renames),
        cmocka_unit_test(test_operation_values),
        cmocka_unit_test(test_coercions),
        cmocka_unit_test(test_provider_from_server_address),
        cmocka_unit_test(test_error_type_from_status),
        cmocka_unit_test(test_rename_spans),
        cmocka_unit_test(test_current_wins),
        cmocka_unit_test(test_detection),
        cmocka_unit_test(test_untouched_batches_keep_their_bytes),
        cmocka_unit_test(test_shared_batch_is_copied),
        cmocka_unit_test(test_violations_annotate),
        cmocka_unit_test(test_violations_drop),
        cmocka_unit_test(test_violations_pass),
        cmocka_unit_test(test_logs_renamed),
        cmocka_unit_test(test_target_latest_vs_v141),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_custom_mappings_config),
        cmocka_unit_test(test_custom_mappings_spans),
        cmocka_unit_test(test_custom_mappings_keep_original),
        cmocka_unit_test(test_custom_mappings_logs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
