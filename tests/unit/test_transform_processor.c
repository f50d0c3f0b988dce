/* test_transform_processor.c — the transform processor against the Collector's
 * processor/transformprocessor: its README's examples (basic and advanced forms, set where nil,
 * rename, keep_keys + replace_pattern + limit + truncate_all, status code, log severity and body,
 * metric description), context inference, group conditions ORed, statements run in order per
 * item with an empty cache, each error_mode, and config errors placed at file:line:col with the
 * column inside the statement. Expected outputs are worked out by hand beside each case.
 *
 * The one idea: requests go in as wire bytes through the factory's consume() and come out of a
 * recording consumer, so what is asserted is what the next component would receive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/telemetry.h"
#include "processors/transform/transform.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define FACTORY transform_processor_factory

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsRequest;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsRequest;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event SpanEvent;
typedef Opentelemetry__Proto__Trace__V1__Status Status;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs ResourceLogs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs ScopeLogs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics ResourceMetrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics ScopeMetrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__Sum Sum;
typedef Opentelemetry__Proto__Metrics__V1__Gauge Gauge;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE

/* ---- builders ------------------------------------------------------------------------------- */

/* Attributes as "k=v" strings (string values only; enough for these cases). */
static KeyValue **kvs(struct arena *a, const char *const *kv, size_t *n)
{
    size_t c = 0;
    while (kv && kv[c])
        c++;
    *n = c;
    KeyValue **out = arena_alloc(a, (c + 1) * sizeof *out);
    for (size_t i = 0; i < c; i++) {
        const char *eq = strchr(kv[i], '=');
        assert_non_null(eq);
        KeyValue *k = arena_alloc(a, sizeof *k);
        opentelemetry__proto__common__v1__key_value__init(k);
        AnyValue *v = arena_alloc(a, sizeof *v);
        opentelemetry__proto__common__v1__any_value__init(v);
        char *key = arena_alloc(a, (size_t)(eq - kv[i]) + 1);
        memcpy(key, kv[i], (size_t)(eq - kv[i]));
        key[eq - kv[i]] = '\0';
        k->key = key;
        v->value_case = V_STRING;
        v->string_value = arena_strdup(a, eq + 1);
        k->value = v;
        out[i] = k;
    }
    return out;
}

static Resource *resource(struct arena *a, const char *const *attrs)
{
    Resource *r = arena_alloc(a, sizeof *r);
    opentelemetry__proto__resource__v1__resource__init(r);
    r->attributes = kvs(a, attrs, &r->n_attributes);
    return r;
}

static struct batch *pack(enum signal s, ProtobufCMessage *m, struct arena *a)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    protobuf_c_message_pack(m, buf);
    struct error err = {0};
    struct batch *b = batch_from_wire(s, buf, len, &err);
    free(buf);
    arena_free(a);
    if (!b)
        fail_msg("batch: %s", err.msg);
    return b;
}

struct span_spec {
    const char *name;
    const char *const *attrs;   /* NULL-terminated "k=v" */
    int n_events;
};

/* One resource (attributes res), one scope, the spans. */
static struct batch *traces(const char *const *res, const struct span_spec *sp, size_t n)
{
    struct arena *a = arena_new(0);
    TraceRequest req;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    ResourceSpans *rs = arena_alloc(a, sizeof *rs);
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    rs->resource = resource(a, res);
    ScopeSpans *ss = arena_alloc(a, sizeof *ss);
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    ss->spans = arena_alloc(a, n * sizeof *ss->spans);
    for (size_t i = 0; i < n; i++) {
        Span *s = arena_alloc(a, sizeof *s);
        opentelemetry__proto__trace__v1__span__init(s);
        uint8_t *tid = arena_alloc(a, 16), *sid = arena_alloc(a, 8);
        memset(tid, 0x11, 16);
        memset(sid, (int)(0x20 + i), 8);
        s->trace_id = (ProtobufCBinaryData){16, tid};
        s->span_id = (ProtobufCBinaryData){8, sid};
        s->name = arena_strdup(a, sp[i].name);
        s->attributes = kvs(a, sp[i].attrs, &s->n_attributes);
        if (sp[i].n_events) {
            s->events = arena_alloc(a, (size_t)sp[i].n_events * sizeof *s->events);
            for (int e = 0; e < sp[i].n_events; e++) {
                SpanEvent *ev = arena_alloc(a, sizeof *ev);
                opentelemetry__proto__trace__v1__span__event__init(ev);
                ev->name = "ev";
                s->events[e] = ev;
            }
            s->n_events = (size_t)sp[i].n_events;
        }
        ss->spans[i] = s;
    }
    ss->n_spans = n;
    rs->scope_spans = &ss;
    rs->n_scope_spans = 1;
    req.resource_spans = &rs;
    req.n_resource_spans = 1;
    return pack(SIGNAL_TRACES, &req.base, a);
}

struct log_spec {
    const char *body;
    const char *const *attrs;
};

static struct batch *logs(const struct log_spec *lg, size_t n)
{
    struct arena *a = arena_new(0);
    LogsRequest req;
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&req);
    ResourceLogs *rl = arena_alloc(a, sizeof *rl);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    rl->resource = resource(a, NULL);
    ScopeLogs *sl = arena_alloc(a, sizeof *sl);
    opentelemetry__proto__logs__v1__scope_logs__init(sl);
    sl->log_records = arena_alloc(a, n * sizeof *sl->log_records);
    for (size_t i = 0; i < n; i++) {
        LogRecord *r = arena_alloc(a, sizeof *r);
        opentelemetry__proto__logs__v1__log_record__init(r);
        AnyValue *b = arena_alloc(a, sizeof *b);
        opentelemetry__proto__common__v1__any_value__init(b);
        b->value_case = V_STRING;
        b->string_value = arena_strdup(a, lg[i].body);
        r->body = b;
        r->attributes = kvs(a, lg[i].attrs, &r->n_attributes);
        sl->log_records[i] = r;
    }
    sl->n_log_records = n;
    rl->scope_logs = &sl;
    rl->n_scope_logs = 1;
    req.resource_logs = &rl;
    req.n_resource_logs = 1;
    return pack(SIGNAL_LOGS, &req.base, a);
}

/* A resource with host.name and os.type, one Sum "requests" and one Gauge "temperature", each
 * with one int point. */
static struct batch *metrics(void)
{
    struct arena *a = arena_new(0);
    MetricsRequest req;
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(&req);
    ResourceMetrics *rm = arena_alloc(a, sizeof *rm);
    opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
    static const char *const res[] = {"host.name=h1", "os.type=linux", NULL};
    rm->resource = resource(a, res);
    ScopeMetrics *sm = arena_alloc(a, sizeof *sm);
    opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
    sm->metrics = arena_alloc(a, 2 * sizeof *sm->metrics);
    for (int i = 0; i < 2; i++) {
        Metric *m = arena_alloc(a, sizeof *m);
        opentelemetry__proto__metrics__v1__metric__init(m);
        NumberDataPoint *dp = arena_alloc(a, sizeof *dp);
        opentelemetry__proto__metrics__v1__number_data_point__init(dp);
        dp->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        dp->as_int = 5;
        dp->time_unix_nano = 1000;
        NumberDataPoint **pts = arena_alloc(a, sizeof *pts);
        pts[0] = dp;
        if (i == 0) {
            m->name = "requests";
            Sum *s = arena_alloc(a, sizeof *s);
            opentelemetry__proto__metrics__v1__sum__init(s);
            s->data_points = pts;
            s->n_data_points = 1;
            s->aggregation_temporality =
                OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
            s->is_monotonic = true;
            m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
            m->sum = s;
        } else {
            m->name = "temperature";
            Gauge *g = arena_alloc(a, sizeof *g);
            opentelemetry__proto__metrics__v1__gauge__init(g);
            g->data_points = pts;
            g->n_data_points = 1;
            m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
            m->gauge = g;
        }
        sm->metrics[i] = m;
    }
    sm->n_metrics = 2;
    rm->scope_metrics = &sm;
    rm->n_scope_metrics = 1;
    req.resource_metrics = &rm;
    req.n_resource_metrics = 1;
    return pack(SIGNAL_METRICS, &req.base, a);
}

/* ---- the processor under test ---------------------------------------------------------------- */

struct sink {
    struct consumer c;
    struct batch *got;
    size_t calls;
};

static enum consume_status sink_consume(struct consumer *self, struct batch *b)
{
    struct sink *s = (struct sink *)self;
    if (s->got)
        batch_unref(s->got);
    s->got = batch_ref(b);
    s->calls++;
    return CONSUME_OK;
}

struct fx {
    struct cnode *root;
    void *cfg;
    struct telemetry *tel;
    struct sink sink;
    void *proc;
    enum signal sig;
};

/* Binds and validates yaml; 0, or -1 with err (the fixture is freed either way). */
static int try_config(const char *yaml, struct error *err)
{
    struct cnode *root = config_parse_string(yaml, "test.yaml", err);
    if (!root)
        return -1;
    void *cfg = calloc(1, FACTORY.config_size);
    assert_non_null(cfg);
    int rc = config_bind(FACTORY.fields, root, cfg, err);
    if (rc == 0)
        rc = FACTORY.validate(cfg, err);
    config_free_bound(FACTORY.fields, cfg);
    free(cfg);
    cnode_free(root);
    return rc;
}

/* Fails the test unless yaml is refused with a message holding every fragment given. */
static void refused(const char *yaml, const char *frag1, const char *frag2)
{
    struct error err = {0};
    if (try_config(yaml, &err) == 0)
        fail_msg("config should be refused:\n%s", yaml);
    if (frag1 && !strstr(err.msg, frag1))
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, frag1);
    if (frag2 && !strstr(err.msg, frag2))
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, frag2);
}

static struct fx *fx_new(enum signal sig, const char *yaml)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct error err = {0};
    f->root = config_parse_string(yaml, "test.yaml", &err);
    if (!f->root)
        fail_msg("yaml: %s", err.msg);
    f->cfg = calloc(1, FACTORY.config_size);
    if (config_bind(FACTORY.fields, f->root, f->cfg, &err) != 0 ||
        FACTORY.validate(f->cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    f->tel = telemetry_new();
    f->sig = sig;
    f->sink.c.consume = sink_consume;
    struct component_env env = {.id = "transform", .signal = sig, .telemetry = f->tel,
                                .log_name = "processor/transform"};
    env.next[sig] = &f->sink.c;
    f->proc = FACTORY.create(f->cfg, &env, &err);
    if (!f->proc)
        fail_msg("create: %s", err.msg);
    return f;
}

static void fx_free(struct fx *f)
{
    FACTORY.destroy(f->proc);
    if (f->sink.got)
        batch_unref(f->sink.got);
    config_free_bound(FACTORY.fields, f->cfg);
    free(f->cfg);
    cnode_free(f->root);
    telemetry_free(f->tel);
    free(f);
}

/* Sends b (taking it) and returns what the sink got, decoded. */
static const void *run(struct fx *f, struct batch *b)
{
    assert_int_equal(FACTORY.consume(f->proc, b), CONSUME_OK);
    batch_unref(b);
    assert_non_null(f->sink.got);
    struct error err = {0};
    const void *m = batch_decoded(f->sink.got, &err);
    if (!m)
        fail_msg("decode: %s", err.msg);
    return m;
}

static const Span *span_at(const TraceRequest *r, size_t i)
{
    assert_true(r->n_resource_spans == 1 && r->resource_spans[0]->n_scope_spans == 1);
    assert_true(i < r->resource_spans[0]->scope_spans[0]->n_spans);
    return r->resource_spans[0]->scope_spans[0]->spans[i];
}

static const AnyValue *find(KeyValue *const *kv, size_t n, const char *key)
{
    const AnyValue *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i]->key, key) == 0) {
            if (found)
                fail_msg("attribute %s appears twice", key);
            found = kv[i]->value;
        }
    return found;
}

static void want_str(KeyValue *const *kv, size_t n, const char *key, const char *want)
{
    const AnyValue *v = find(kv, n, key);
    if (!v)
        fail_msg("%s missing (want \"%s\")", key, want);
    if (v->value_case != V_STRING)
        fail_msg("%s: not a string (type %d), want \"%s\"", key, (int)v->value_case, want);
    assert_string_equal(v->string_value, want);
}

static void want_none(KeyValue *const *kv, size_t n, const char *key)
{
    if (find(kv, n, key))
        fail_msg("%s present, want absent", key);
}

#define SATTR(sp) (sp)->attributes, (sp)->n_attributes

static int64_t errors(struct fx *f, const char *mode)
{
    char l[200];
    snprintf(l, sizeof l, "processor=\"transform\",signal=\"%s\",error_mode=\"%s\"",
             signal_name(f->sig), mode);
    return telemetry_value(f->tel, "llmotlp_transform_errors", l);
}

static int64_t refused_items(struct fx *f)
{
    char l[200];
    snprintf(l, sizeof l, "processor=\"transform\",signal=\"%s\"", signal_name(f->sig));
    return telemetry_value(f->tel, "llmotlp_transform_refused_items", l);
}

/* ---- config ---------------------------------------------------------------------------------- */

/* The Collector's default error_mode is ignore (processor.transform.defaultErrorModeIgnore, on
 * since v0.153, stable since v0.157). */
static void test_defaults(void **state)
{
    (void)state;
    struct error err = {0};
    struct cnode *root = config_parse_string("{}", "test.yaml", &err);
    assert_non_null(root);
    struct transform_config cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(FACTORY.fields, root, &cfg, &err), 0);
    assert_int_equal(cfg.error_mode, OTTL_ERROR_IGNORE);
    assert_false(cfg.flatten_data);
    assert_null(cfg.trace_statements);
    assert_int_equal(FACTORY.validate(&cfg, &err), 0);
    config_free_bound(FACTORY.fields, &cfg);
    cnode_free(root);
    /* an empty profile_statements and false switches load */
    assert_int_equal(try_config("profile_statements: []\nflatten_data: false\n"
                                "trace_statements:\n  - context: span\n    shared_cache: false\n"
                                "    flatten: false\n    statements: []\n", &err), 0);
}

static void test_config_errors(void **state)
{
    (void)state;
    /* a map after a string: the Collector's "multiple configuration styles" */
    refused("trace_statements:\n"
            "  - set(span.name, \"x\")\n"
            "  - context: span\n"
            "    statements: []\n",
            "test.yaml:3:5: trace_statements[1]: configuring multiple configuration styles",
            NULL);
    refused("trace_statements:\n  - contxt: span\n", "unknown key 'contxt'", "test.yaml:2:5");
    refused("trace_statements:\n  - context: spam\n    statements: []\n",
            "test.yaml:2:14: trace_statements[0].context: unknown context \"spam\"", NULL);
    refused("trace_statements:\n  - context: metric\n    statements: []\n",
            "context \"metric\" is not available in trace_statements", NULL);
    refused("metric_statements:\n  - context: exemplar\n    statements: []\n",
            "llmotlp has no exemplar or profile context", NULL);
    refused("log_statements:\n  - context: log\n    shared_cache: true\n",
            "test.yaml:3:5: log_statements[0].shared_cache: true is not supported", NULL);
    refused("log_statements:\n  - context: log\n    flatten: true\n",
            "log_statements[0].flatten: true is not supported", "transform.flatten.logs");
    refused("flatten_data: true\n", "flatten_data: true is not supported", NULL);
    refused("profile_statements:\n  - set(profile.attributes[\"a\"], \"b\")\n",
            "test.yaml:2:3: profile_statements: llmotlp has no profiles signal", NULL);
    refused("error_mode: loud\n", "error_mode", "loud");
    refused("trace_statements:\n  - context: span\n    error_mode: loud\n", "loud", NULL);
    refused("trace_statements:\n  - context: span\n    statements:\n      - {a: b}\n",
            "test.yaml:4:9: trace_statements[0].statements[0]: expected an OTTL string", NULL);
    refused("trace_statements: set(span.name, \"x\")\n",
            "trace_statements: expected a list", NULL);
}

/* Engine errors are placed at the statement's scalar, with the column inside the statement. */
static void test_config_ottl_errors(void **state)
{
    (void)state;
    /* `set(span.attributes["a"], Foo())`: F is column 27 */
    refused("trace_statements:\n  - set(span.attributes[\"a\"], Foo())\n",
            "test.yaml:2:5: trace_statements[0]: column 27:", "Foo");
    /* a path of another signal's context in trace_statements */
    refused("trace_statements:\n  - context: span\n    statements: []\n"
            "  - set(log.body, \"x\")\n", NULL, NULL);
    refused("trace_statements:\n  - set(log.body, \"x\")\n",
            "test.yaml:2:5: trace_statements[0]:", "log");
    /* no path names a context: the basic form cannot infer one */
    refused("trace_statements:\n  - set(attributes[\"x\"], \"y\")\n",
            "test.yaml:2:5: trace_statements: cannot infer the context", NULL);
    /* the same statement in a group with a context loads (unprefixed paths are the group's) */
    struct error err = {0};
    if (try_config("trace_statements:\n  - context: span\n    statements:\n"
                   "      - set(attributes[\"x\"], \"y\")\n", &err) != 0)
        fail_msg("%s", err.msg);
    /* the README's context-inference counter-example: convert_sum_to_gauge exists in the
     * metric context only, and the datapoint path of the same group leaves no context for both
     * (processor functions are tested in test_transform_funcs.c) */
    refused("metric_statements:\n  - convert_sum_to_gauge() where metric.name == \"x\"\n"
            "  - limit(datapoint.attributes, 100, [\"host.name\"])\n",
            "test.yaml:2:5: metric_statements:", "cannot infer a context");
    /* a condition's error is placed at the condition */
    refused("log_statements:\n  - context: log\n    conditions:\n      - body ==\n"
            "    statements: []\n", "test.yaml:4:9: log_statements[0].conditions[0]:", NULL);
}

/* ---- README examples ------------------------------------------------------------------------- */

/* "Perform transformation if field does not exist". */
static void test_set_where_nil(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
                          "error_mode: ignore\n"
                          "trace_statements:\n"
                          "  - set(span.attributes[\"test\"], \"pass\") where "
                          "span.attributes[\"test\"] == nil\n");
    static const char *const has[] = {"test=keep", NULL};
    struct span_spec sp[] = {{"a", has, 0}, {"b", NULL, 0}};
    const TraceRequest *r = run(f, traces(NULL, sp, 2));
    want_str(SATTR(span_at(r, 0)), "test", "keep");
    want_str(SATTR(span_at(r, 1)), "test", "pass");
    assert_int_equal(errors(f, "ignore"), 0);
    fx_free(f);
}

/* "Rename attribute": set the new key from the old one, then delete the old one. */
static void test_rename_resource_attribute(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
                          "trace_statements:\n"
                          "  - set(resource.attributes[\"namespace\"], "
                          "resource.attributes[\"k8s.namespace.name\"])\n"
                          "  - delete_key(resource.attributes, \"k8s.namespace.name\")\n");
    static const char *const res[] = {"k8s.namespace.name=prod", "service.name=gw", NULL};
    struct span_spec sp[] = {{"a", NULL, 0}};
    const TraceRequest *r = run(f, traces(res, sp, 1));
    const Resource *rr = r->resource_spans[0]->resource;
    want_str(rr->attributes, rr->n_attributes, "namespace", "prod");
    want_str(rr->attributes, rr->n_attributes, "service.name", "gw");
    want_none(rr->attributes, rr->n_attributes, "k8s.namespace.name");
    assert_int_equal(rr->n_attributes, 2);
    fx_free(f);
}

/* The README's basic trace example: keep_keys, replace_pattern of a password, limit, truncate_all.
 * "run password=hunter2 --v" → the pattern password\=[^\s]*(\s?) takes "password=hunter2 " and
 * becomes "password=***" (the captured space is not put back): "run password=***--v". */
static void test_basic_trace_example(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
        "error_mode: ignore\n"
        "trace_statements:\n"
        "  - keep_keys(span.attributes, [\"service.name\", \"service.namespace\", "
        "\"cloud.region\", \"process.command_line\"])\n"
        "  - replace_pattern(span.attributes[\"process.command_line\"], "
        "\"password\\\\=[^\\\\s]*(\\\\s?)\", \"password=***\")\n"
        "  - limit(span.attributes, 100, [])\n"
        "  - truncate_all(span.attributes, 4096)\n");
    static const char *const at[] = {"service.name=checkout", "cloud.region=eu-west-1",
                                     "process.command_line=run password=hunter2 --v",
                                     "http.url=https://x/y", NULL};
    struct span_spec sp[] = {{"a", at, 0}};
    const TraceRequest *r = run(f, traces(NULL, sp, 1));
    const Span *s = span_at(r, 0);
    assert_int_equal(s->n_attributes, 3);
    want_str(SATTR(s), "service.name", "checkout");
    want_str(SATTR(s), "cloud.region", "eu-west-1");
    want_str(SATTR(s), "process.command_line", "run password=***--v");
    want_none(SATTR(s), "http.url");
    assert_string_equal(s->name, "a");
    fx_free(f);
}

/* truncate_all and limit with small numbers, so their effect shows: truncate_all cuts string
 * values to 4 bytes ("abcdefgh" → "abcd"); limit keeps 2 attributes, the priority key among them. */
static void test_truncate_and_limit(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
                          "trace_statements:\n"
                          "  - context: span\n"
                          "    statements:\n"
                          "      - truncate_all(attributes, 4)\n"
                          "      - limit(attributes, 2, [\"keep.me\"])\n");
    static const char *const at[] = {"a=abcdefgh", "b=xy", "c=123456", "keep.me=zzzzzz", NULL};
    struct span_spec sp[] = {{"a", at, 0}};
    const TraceRequest *r = run(f, traces(NULL, sp, 1));
    const Span *s = span_at(r, 0);
    assert_int_equal(s->n_attributes, 2);
    want_str(SATTR(s), "keep.me", "zzzz");
    for (size_t i = 0; i < s->n_attributes; i++)
        assert_true(strlen(s->attributes[i]->value->string_value) <= 4);
    fx_free(f);
}

/* set(span.status.code, STATUS_CODE_ERROR) on the spans the where clause picks. */
static void test_set_status_code(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
                          "trace_statements:\n"
                          "  - set(span.status.code, STATUS_CODE_ERROR) where "
                          "span.attributes[\"http.response.status_code\"] == \"500\"\n");
    static const char *const bad[] = {"http.response.status_code=500", NULL};
    static const char *const ok[] = {"http.response.status_code=200", NULL};
    struct span_spec sp[] = {{"a", bad, 0}, {"b", ok, 0}};
    const TraceRequest *r = run(f, traces(NULL, sp, 2));
    const Span *a = span_at(r, 0), *b = span_at(r, 1);
    assert_non_null(a->status);
    assert_int_equal(a->status->code, OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
    assert_true(!b->status || b->status->code == 0);
    fx_free(f);
}

/* The README's basic log example, and its advanced example with a group condition. */
static void test_log_examples(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_LOGS,
        "log_statements:\n"
        "  - set(log.severity_text, \"FAIL\") where log.body == \"request failed\"\n"
        "  - replace_all_matches(log.attributes, \"/user/*/list/*\", "
        "\"/user/{userId}/list/{listId}\")\n"
        "  - replace_all_patterns(log.attributes, \"value\", \"/account/\\\\d{4}\", "
        "\"/account/{accountId}\")\n"
        "  - set(log.body, log.attributes[\"http.route\"])\n");
    static const char *const a1[] = {"http.route=/user/7/list/9", "path=/account/1234/x", NULL};
    static const char *const a2[] = {"other=/account/12/x", NULL};
    struct log_spec lg[] = {{"request failed", a1}, {"request ok", a2}};
    const LogsRequest *r = run(f, logs(lg, 2));
    const ScopeLogs *sl = r->resource_logs[0]->scope_logs[0];
    assert_int_equal(sl->n_log_records, 2);
    const LogRecord *l1 = sl->log_records[0], *l2 = sl->log_records[1];
    assert_string_equal(l1->severity_text, "FAIL");
    want_str(l1->attributes, l1->n_attributes, "http.route", "/user/{userId}/list/{listId}");
    want_str(l1->attributes, l1->n_attributes, "path", "/account/{accountId}/x");
    /* the body is set from the attribute as edited by the statement before */
    assert_int_equal(l1->body->value_case, V_STRING);
    assert_string_equal(l1->body->string_value, "/user/{userId}/list/{listId}");
    assert_true(!l2->severity_text || !l2->severity_text[0]);
    want_str(l2->attributes, l2->n_attributes, "other", "/account/12/x"); /* 2 digits: no match */
    /* set() of a nil value (no http.route) does nothing: the body stays */
    assert_string_equal(l2->body->string_value, "request ok");
    fx_free(f);
}

/* The README's basic metric example, without its conversions (test_transform_funcs.c runs
 * them), and its advanced one. metric.type is the data type as an int enum (METRIC_DATA_TYPE_SUM = 2) in the Collector's
 * OTTL, so the basic example's `metric.type == "Sum"` (an int against a string) never holds: the
 * description is left alone there, exactly as the Collector leaves it; the advanced example's
 * enum comparison sets it on the Sum only. */
static void test_metric_example(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_METRICS,
                          "metric_statements:\n"
                          "  - keep_keys(resource.attributes, [\"host.name\"])\n"
                          "  - truncate_all(resource.attributes, 4096)\n"
                          "  - set(metric.description, \"Sum\") where metric.type == \"Sum\"\n");
    const MetricsRequest *r = run(f, metrics());
    const ResourceMetrics *rm = r->resource_metrics[0];
    assert_int_equal(rm->resource->n_attributes, 1);
    want_str(rm->resource->attributes, rm->resource->n_attributes, "host.name", "h1");
    const ScopeMetrics *sm = rm->scope_metrics[0];
    assert_int_equal(sm->n_metrics, 2);
    for (size_t i = 0; i < 2; i++)
        assert_true(!sm->metrics[i]->description || !sm->metrics[i]->description[0]);
    fx_free(f);

    f = fx_new(SIGNAL_METRICS,
               "error_mode: ignore\n"
               "metric_statements:\n"
               "  - error_mode: propagate\n"
               "    conditions:\n"
               "      - metric.type == METRIC_DATA_TYPE_SUM\n"
               "    statements:\n"
               "      - set(metric.description, \"Sum\")\n");
    r = run(f, metrics());
    sm = r->resource_metrics[0]->scope_metrics[0];
    assert_string_equal(sm->metrics[0]->description, "Sum");
    assert_true(!sm->metrics[1]->description || !sm->metrics[1]->description[0]);
    assert_int_equal(r->resource_metrics[0]->resource->n_attributes, 2);
    fx_free(f);
}

/* ---- groups: inference, conditions, order, cache --------------------------------------------- */

/* A span path and a spanevent path in one basic list infer spanevent: the statements run once
 * per event, so a span without events is not touched, one with two events is visited twice. */
static void test_inferred_spanevent(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
                          "trace_statements:\n"
                          "  - set(span.attributes[\"seen\"], \"yes\")\n"
                          "  - set(spanevent.attributes[\"e\"], span.name)\n");
    struct span_spec sp[] = {{"none", NULL, 0}, {"two", NULL, 2}};
    const TraceRequest *r = run(f, traces(NULL, sp, 2));
    want_none(SATTR(span_at(r, 0)), "seen");
    const Span *s = span_at(r, 1);
    want_str(SATTR(s), "seen", "yes");
    assert_int_equal(s->n_events, 2);
    for (size_t i = 0; i < 2; i++)
        want_str(s->events[i]->attributes, s->events[i]->n_attributes, "e", "two");
    fx_free(f);
}

/* Group conditions are ORed and gate every statement; a statement's own where still applies. */
static void test_group_conditions(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
                          "trace_statements:\n"
                          "  - conditions:\n"
                          "      - span.name == \"a\"\n"
                          "      - span.name == \"b\"\n"
                          "    statements:\n"
                          "      - set(span.attributes[\"g\"], \"1\")\n"
                          "      - set(span.attributes[\"w\"], \"1\") where span.name == \"b\"\n");
    struct span_spec sp[] = {{"a", NULL, 0}, {"b", NULL, 0}, {"c", NULL, 0}};
    const TraceRequest *r = run(f, traces(NULL, sp, 3));
    want_str(SATTR(span_at(r, 0)), "g", "1");
    want_none(SATTR(span_at(r, 0)), "w");
    want_str(SATTR(span_at(r, 1)), "g", "1");
    want_str(SATTR(span_at(r, 1)), "w", "1");
    want_none(SATTR(span_at(r, 2)), "g");
    want_none(SATTR(span_at(r, 2)), "w");
    fx_free(f);
}

/* All statements run on one item before the next item: the second span reads what the first
 * span's second statement wrote on the shared resource. Statement by statement over all items
 * would give both spans "start". */
static void test_order_per_item(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
                          "trace_statements:\n"
                          "  - context: span\n"
                          "    statements:\n"
                          "      - set(attributes[\"prev\"], resource.attributes[\"last\"])\n"
                          "      - set(resource.attributes[\"last\"], name)\n");
    static const char *const res[] = {"last=start", NULL};
    struct span_spec sp[] = {{"s1", NULL, 0}, {"s2", NULL, 0}};
    const TraceRequest *r = run(f, traces(res, sp, 2));
    want_str(SATTR(span_at(r, 0)), "prev", "start");
    want_str(SATTR(span_at(r, 1)), "prev", "s1");
    const Resource *rr = r->resource_spans[0]->resource;
    want_str(rr->attributes, rr->n_attributes, "last", "s2");
    fx_free(f);
}

/* The cache starts empty for every item: the second span does not see the first one's value. */
static void test_cache_per_item(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
                          "trace_statements:\n"
                          "  - set(span.attributes[\"prev\"], span.cache[\"v\"])\n"
                          "  - set(span.cache[\"v\"], span.name)\n"
                          "  - set(span.attributes[\"now\"], span.cache[\"v\"])\n");
    struct span_spec sp[] = {{"s1", NULL, 0}, {"s2", NULL, 0}};
    const TraceRequest *r = run(f, traces(NULL, sp, 2));
    for (size_t i = 0; i < 2; i++) {
        want_none(SATTR(span_at(r, i)), "prev");
        want_str(SATTR(span_at(r, i)), "now", i == 0 ? "s1" : "s2");
    }
    fx_free(f);
}

/* ---- error_mode -------------------------------------------------------------------------------- */

/* ParseJSON of a string that is not JSON is a runtime error. */
#define BAD_STMT "set(span.attributes[\"parsed\"], ParseJSON(span.attributes[\"j\"]))"

static void test_error_mode_ignore_and_silent(void **state)
{
    (void)state;
    const char *modes[] = {"ignore", "silent"};
    for (int m = 0; m < 2; m++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml,
                 "error_mode: %s\n"
                 "trace_statements:\n"
                 "  - " BAD_STMT "\n"
                 "  - set(span.attributes[\"after\"], \"ran\")\n", modes[m]);
        struct fx *f = fx_new(SIGNAL_TRACES, yaml);
        static const char *const bad[] = {"j=not json", NULL};
        struct span_spec sp[] = {{"a", bad, 0}, {"b", bad, 0}};
        const TraceRequest *r = run(f, traces(NULL, sp, 2));
        for (size_t i = 0; i < 2; i++) {
            want_none(SATTR(span_at(r, i)), "parsed");
            want_str(SATTR(span_at(r, i)), "after", "ran");   /* went on with the next */
        }
        assert_int_equal(errors(f, modes[m]), 2);
        assert_int_equal(errors(f, "propagate"), 0);
        assert_int_equal(refused_items(f), 0);
        fx_free(f);
    }
}

/* propagate: the request is refused as the Collector's receiver answers a processor's plain
 * error (Unavailable / 503: retryable); nothing goes downstream; its items are counted. */
static void test_error_mode_propagate(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
                          "error_mode: propagate\n"
                          "trace_statements:\n"
                          "  - " BAD_STMT "\n");
    static const char *const bad[] = {"j=not json", NULL};
    struct span_spec sp[] = {{"a", bad, 0}, {"b", bad, 0}, {"c", bad, 0}};
    struct batch *b = traces(NULL, sp, 3);
    assert_int_equal(FACTORY.consume(f->proc, b), CONSUME_RETRY);
    batch_unref(b);
    assert_int_equal(f->sink.calls, 0);
    assert_int_equal(errors(f, "propagate"), 1);   /* the first error stops the request */
    assert_int_equal(refused_items(f), 3);
    /* valid JSON on every span: no error, delivered */
    static const char *const good[] = {"j={\"k\":1}", NULL};
    struct span_spec ok[] = {{"a", good, 0}};
    const TraceRequest *r = run(f, traces(NULL, ok, 1));
    assert_non_null(find(SATTR(span_at(r, 0)), "parsed"));
    assert_int_equal(refused_items(f), 3);
    fx_free(f);
}

/* The README's "Override context statements error mode": top-level propagate, a group ignore. */
static void test_group_error_mode_override(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
                          "error_mode: propagate\n"
                          "trace_statements:\n"
                          "  - error_mode: ignore\n"
                          "    statements:\n"
                          "      - " BAD_STMT "\n"
                          "  - statements:\n"
                          "      - set(span.attributes[\"ns\"], \"x\")\n");
    static const char *const bad[] = {"j=[", NULL};
    struct span_spec sp[] = {{"a", bad, 0}};
    const TraceRequest *r = run(f, traces(NULL, sp, 1));
    want_str(SATTR(span_at(r, 0)), "ns", "x");
    assert_int_equal(errors(f, "ignore"), 1);
    assert_int_equal(errors(f, "propagate"), 0);
    fx_free(f);
}

/* ---- batches ----------------------------------------------------------------------------------- */

/* A batch someone else also holds is not edited: the copy goes downstream, the original stays. */
static void test_shared_batch_copied(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_TRACES,
                          "trace_statements:\n  - set(span.attributes[\"x\"], \"1\")\n");
    struct span_spec sp[] = {{"a", NULL, 0}};
    struct batch *b = traces(NULL, sp, 1);
    struct batch *other = batch_ref(b);
    const TraceRequest *r = run(f, b);
    want_str(SATTR(span_at(r, 0)), "x", "1");
    assert_ptr_not_equal(f->sink.got, other);
    struct error err = {0};
    const TraceRequest *orig = (const TraceRequest *)batch_decoded(other, &err);
    assert_non_null(orig);
    want_none(SATTR(span_at(orig, 0)), "x");
    batch_unref(other);
    fx_free(f);
}

/* A pipeline whose signal has no statements forwards the batch itself, never decoded. */
static void test_no_statements_passthrough(void **state)
{
    (void)state;
    struct fx *f = fx_new(SIGNAL_LOGS,
                          "trace_statements:\n  - set(span.attributes[\"x\"], \"1\")\n");
    struct log_spec lg[] = {{"hello", NULL}};
    struct batch *b = logs(lg, 1);
    assert_int_equal(FACTORY.consume(f->proc, b), CONSUME_OK);
    assert_ptr_equal(f->sink.got, b);
    assert_true(b->has_wire);
    assert_null(b->msg);
    batch_unref(b);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_ottl_errors),
        cmocka_unit_test(test_set_where_nil),
        cmocka_unit_test(test_rename_resource_attribute),
        cmocka_unit_test(test_basic_trace_example),
        cmocka_unit_test(test_truncate_and_limit),
        cmocka_unit_test(test_set_status_code),
        cmocka_unit_test(test_log_examples),
        cmocka_unit_test(test_metric_example),
        cmocka_unit_test(test_inferred_spanevent),
        cmocka_unit_test(test_group_conditions),
        cmocka_unit_test(test_order_per_item),
        cmocka_unit_test(test_cache_per_item),
        cmocka_unit_test(test_error_mode_ignore_and_silent),
        cmocka_unit_test(test_error_mode_propagate),
        cmocka_unit_test(test_group_error_mode_override),
        cmocka_unit_test(test_shared_batch_copied),
        cmocka_unit_test(test_no_statements_passthrough),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
