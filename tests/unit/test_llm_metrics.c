/* test_llm_metrics.c — the llm_metrics connector from hand-made spans: requests built from
 * protobuf-c structs go in through the factory's consume(), llm_metrics_flush() runs an export,
 * and a recording metrics consumer (testutil's tu_rec) receives it; the test decodes the bytes it
 * kept and checks every metric's points. The connector's clock is driven by the test, so
 * availability windows and start times are exact and no assertion depends on timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/llm_metrics/llm_metrics.h"
#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/telemetry.h"
#include "tests/unit/testutil.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsRequest;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistPoint;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE
#define ST_OK OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK
#define ST_ERROR OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR
#define TEMP_DELTA \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
#define TEMP_CUMULATIVE \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE

#define SEC 1000000000LL
#define T0 (1700000000LL * SEC) /* the connector's clock at creation */
#define EPS 1e-9

/* ---- fixture: one connector, its config, a recording metrics consumer and a test clock ------- */

struct fx {
    struct tu_rec rec;
    struct telemetry *tel;
    struct llm_metrics_config cfg;
    void *lm;
    int64_t now;
    size_t seen_calls;
    MetricsRequest *last;          /* decoded last export, NULL when the flush sent nothing */
};

static int64_t fx_clock(void *ctx)
{
    return ((struct fx *)ctx)->now;
}

static int bind_yaml(struct llm_metrics_config *cfg, const char *yaml, struct error *err)
{
    memset(cfg, 0, sizeof *cfg);
    struct cnode *node = config_parse_string(yaml ? yaml : "{}", "test.yaml", err);
    if (!node)
        return -1;
    int rc = config_bind(llm_metrics_connector_factory.fields, node, cfg, err);
    cnode_free(node);
    if (rc == 0)
        rc = llm_metrics_connector_factory.validate(cfg, err);
    return rc;
}

static void fx_create(struct fx *f)
{
    struct error err = {0};
    struct component_env env = {.id = "llm_metrics", .log_name = "connector/llm_metrics",
                                .signal = SIGNAL_TRACES, .telemetry = f->tel};
    env.next[SIGNAL_METRICS] = &f->rec.base;
    f->lm = llm_metrics_connector_factory.create(&f->cfg, &env, &err);
    if (!f->lm)
        fail_msg("create: %s", err.msg);
    llm_metrics_set_clock(f->lm, fx_clock, f);
}

static struct fx *fx_new(const char *yaml)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tu_rec_init(&f->rec);
    f->tel = telemetry_new();
    f->now = T0;
    struct error err = {0};
    if (bind_yaml(&f->cfg, yaml, &err) != 0)
        fail_msg("config: %s", err.msg);
    fx_create(f);
    return f;
}

static void fx_free(struct fx *f)
{
    llm_metrics_connector_factory.destroy(f->lm);
    config_free_bound(llm_metrics_connector_factory.fields, &f->cfg);
    if (f->last)
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
            f->last, NULL);
    tu_rec_fini(&f->rec);
    telemetry_free(f->tel);
    free(f);
}

/* Decodes what the consumer received since the last look; NULL when nothing came. */
static MetricsRequest *fx_take(struct fx *f)
{
    if (f->last)
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
            f->last, NULL);
    f->last = NULL;
    pthread_mutex_lock(&f->rec.mu);
    if (f->rec.calls != f->seen_calls) {
        f->seen_calls = f->rec.calls;
        assert_int_equal(f->rec.last_signal, SIGNAL_METRICS);
        f->last = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
            NULL, f->rec.last_len, f->rec.last);
        assert_non_null(f->last);
    }
    pthread_mutex_unlock(&f->rec.mu);
    return f->last;
}

static MetricsRequest *fx_flush(struct fx *f)
{
    assert_int_equal(llm_metrics_flush(f->lm), CONSUME_OK);
    return fx_take(f);
}

static int64_t fx_counter(struct fx *f, const char *name)
{
    return telemetry_value(f->tel, name, "connector=\"llm_metrics\"");
}

/* ---- building spans ---------------------------------------------------------------------------- */

struct attr {
    const char *key;
    char kind;          /* 's' string, 'i' int, 'd' double, 'b' bool, 'a' array of one string */
    const char *s;
    int64_t i;
    double d;
};
#define S(k, v) {k, 's', v, 0, 0}
#define I(k, v) {k, 'i', NULL, v, 0}
#define D(k, v) {k, 'd', NULL, 0, v}
#define B(k, v) {k, 'b', NULL, v, 0}
#define A(k, v) {k, 'a', v, 0, 0}
#define END {NULL, 0, NULL, 0, 0}

static AnyValue *mk_value(struct arena *a, const struct attr *at)
{
    AnyValue *v = arena_alloc(a, sizeof *v);
    opentelemetry__proto__common__v1__any_value__init(v);
    switch (at->kind) {
    case 's':
        v->value_case = V_STRING;
        v->string_value = (char *)at->s;
        break;
    case 'i':
        v->value_case = V_INT;
        v->int_value = at->i;
        break;
    case 'd':
        v->value_case = V_DOUBLE;
        v->double_value = at->d;
        break;
    case 'b':
        v->value_case = V_BOOL;
        v->bool_value = at->i != 0;
        break;
    default: {
        Opentelemetry__Proto__Common__V1__ArrayValue *arr = arena_alloc(a, sizeof *arr);
        opentelemetry__proto__common__v1__array_value__init(arr);
        struct attr one = S(NULL, at->s);
        arr->values = arena_alloc(a, sizeof *arr->values);
        arr->values[0] = mk_value(a, &one);
        arr->n_values = 1;
        v->value_case = V_ARRAY;
        v->array_value = arr;
    }
    }
    return v;
}

static KeyValue **mk_attrs(struct arena *a, const struct attr *at, size_t *n)
{
    size_t c = 0;
    while (at && at[c].key)
        c++;
    KeyValue **kvs = arena_alloc(a, (c + 1) * sizeof *kvs);
    for (size_t i = 0; i < c; i++) {
        KeyValue *kv = arena_alloc(a, sizeof *kv);
        opentelemetry__proto__common__v1__key_value__init(kv);
        kv->key = (char *)at[i].key;
        kv->value = mk_value(a, &at[i]);
        kvs[i] = kv;
    }
    *n = c;
    return kvs;
}

struct sspec {
    int64_t dur_ns;            /* end - start; negative: end before start */
    int status;                /* 0 unset, ST_OK, ST_ERROR */
    const struct attr *attrs;
    int64_t end_s;             /* end time offset in seconds from T0 (ratelimit ordering) */
};

struct rspec {
    const struct attr *res;    /* resource attributes */
    const struct sspec *spans;
    size_t n;
};

static struct batch *mk_batch(const struct rspec *rs, size_t nrs)
{
    struct arena *a = arena_new(0);
    TraceRequest *req = arena_alloc(a, sizeof *req);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
    req->resource_spans = arena_alloc(a, nrs * sizeof *req->resource_spans);
    req->n_resource_spans = nrs;
    static atomic_uint next_id; /* feeder threads build batches too */
    for (size_t r = 0; r < nrs; r++) {
        Opentelemetry__Proto__Trace__V1__ResourceSpans *res = arena_alloc(a, sizeof *res);
        opentelemetry__proto__trace__v1__resource_spans__init(res);
        res->resource = arena_alloc(a, sizeof *res->resource);
        opentelemetry__proto__resource__v1__resource__init(res->resource);
        res->resource->attributes = mk_attrs(a, rs[r].res, &res->resource->n_attributes);
        Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = arena_alloc(a, sizeof *ss);
        opentelemetry__proto__trace__v1__scope_spans__init(ss);
        res->scope_spans = arena_alloc(a, sizeof *res->scope_spans);
        res->scope_spans[0] = ss;
        res->n_scope_spans = 1;
        ss->spans = arena_alloc(a, (rs[r].n + 1) * sizeof *ss->spans);
        ss->n_spans = rs[r].n;
        for (size_t i = 0; i < rs[r].n; i++) {
            const struct sspec *sp = &rs[r].spans[i];
            Span *s = arena_alloc(a, sizeof *s);
            opentelemetry__proto__trace__v1__span__init(s);
            uint8_t *tid = arena_alloc(a, 16), *sid = arena_alloc(a, 8);
            uint8_t id = (uint8_t)(atomic_fetch_add(&next_id, 1) + 1);
            memset(tid, id, 16);
            memset(sid, id, 8);
            s->trace_id.data = tid;
            s->trace_id.len = 16;
            s->span_id.data = sid;
            s->span_id.len = 8;
            s->name = "chat";
            uint64_t end = (uint64_t)(T0 + sp->end_s * SEC);
            s->end_time_unix_nano = end;
            s->start_time_unix_nano = end - (uint64_t)sp->dur_ns;
            s->attributes = mk_attrs(a, sp->attrs, &s->n_attributes);
            if (sp->status) {
                s->status = arena_alloc(a, sizeof *s->status);
                opentelemetry__proto__trace__v1__status__init(s->status);
                s->status->code = sp->status;
            }
            ss->spans[i] = s;
        }
        req->resource_spans[r] = res;
    }
    struct batch *b = batch_from_msg(SIGNAL_TRACES, a, &req->base);
    assert_non_null(b);
    return b;
}

static void send_rs(struct fx *f, const struct rspec *rs, size_t nrs)
{
    struct batch *b = mk_batch(rs, nrs);
    assert_int_equal(llm_metrics_connector_factory.consume(f->lm, b), CONSUME_OK);
    assert_int_equal(atomic_load(&b->refs), 1); /* kept no reference */
    batch_unref(b);
}

static void send(struct fx *f, const struct attr *res, const struct sspec *spans, size_t n)
{
    struct rspec rs = {res, spans, n};
    send_rs(f, &rs, 1);
}

/* ---- reading exports --------------------------------------------------------------------------- */

static void fmt_value(const AnyValue *v, char *buf, size_t len)
{
    switch (v->value_case) {
    case V_STRING:
        snprintf(buf, len, "%s", v->string_value);
        break;
    case V_INT:
        snprintf(buf, len, "%lld", (long long)v->int_value);
        break;
    case V_DOUBLE:
        snprintf(buf, len, "%g", v->double_value);
        break;
    case V_BOOL:
        snprintf(buf, len, "%s", v->bool_value ? "true" : "false");
        break;
    default:
        snprintf(buf, len, "?");
    }
}

/* desc: "k=v,k2=v2", the exact attribute set (any order). */
static bool attrs_match(KeyValue **kvs, size_t n, const char *desc)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", desc);
    size_t want = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        want++;
        char *eq = strchr(item, '=');
        assert_non_null(eq);
        *eq = '\0';
        bool found = false;
        for (size_t i = 0; i < n && !found; i++) {
            if (strcmp(kvs[i]->key, item) != 0)
                continue;
            char val[256];
            fmt_value(kvs[i]->value, val, sizeof val);
            if (strcmp(val, eq + 1) != 0)
                return false;
            found = true;
        }
        if (!found)
            return false;
    }
    return want == n;
}

/* Every metric of that name, over all resources; *n_out of them. */
static const Metric *find_metric(const MetricsRequest *req, const char *name, size_t nth)
{
    size_t seen = 0;
    for (size_t r = 0; req && r < req->n_resource_metrics; r++)
        for (size_t s = 0; s < req->resource_metrics[r]->n_scope_metrics; s++) {
            const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
                req->resource_metrics[r]->scope_metrics[s];
            for (size_t m = 0; m < sm->n_metrics; m++)
                if (strcmp(sm->metrics[m]->name, name) == 0 && seen++ == nth)
                    return sm->metrics[m];
        }
    return NULL;
}

static NumberPoint **number_points(const Metric *m, size_t *n)
{
    if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM) {
        *n = m->sum->n_data_points;
        return m->sum->data_points;
    }
    assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);
    *n = m->gauge->n_data_points;
    return m->gauge->data_points;
}

static const NumberPoint *num_point(const MetricsRequest *req, const char *name, const char *desc)
{
    const Metric *m;
    for (size_t k = 0; (m = find_metric(req, name, k)) != NULL; k++) {
        size_t n;
        NumberPoint **pts = number_points(m, &n);
        for (size_t i = 0; i < n; i++)
            if (attrs_match(pts[i]->attributes, pts[i]->n_attributes, desc))
                return pts[i];
    }
    return NULL;
}

static const HistPoint *hist_point(const MetricsRequest *req, const char *name, const char *desc)
{
    const Metric *m;
    for (size_t k = 0; (m = find_metric(req, name, k)) != NULL; k++) {
        assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
        for (size_t i = 0; i < m->histogram->n_data_points; i++) {
            const HistPoint *p = m->histogram->data_points[i];
            if (attrs_match(p->attributes, p->n_attributes, desc))
                return p;
        }
    }
    return NULL;
}

static size_t count_points(const MetricsRequest *req, const char *name)
{
    size_t total = 0;
    const Metric *m;
    for (size_t k = 0; (m = find_metric(req, name, k)) != NULL; k++) {
        if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM) {
            total += m->histogram->n_data_points;
        } else {
            size_t n;
            number_points(m, &n);
            total += n;
        }
    }
    return total;
}

static int64_t int_value(const MetricsRequest *req, const char *name, const char *desc)
{
    const NumberPoint *p = num_point(req, name, desc);
    if (!p)
        fail_msg("no point %s{%s}", name, desc);
    assert_int_equal(p->value_case,
                     OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT);
    return p->as_int;
}

static double double_value(const MetricsRequest *req, const char *name, const char *desc)
{
    const NumberPoint *p = num_point(req, name, desc);
    if (!p)
        fail_msg("no point %s{%s}", name, desc);
    assert_int_equal(p->value_case,
                     OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE);
    return p->as_double;
}

static const HistPoint *must_hist(const MetricsRequest *req, const char *name, const char *desc)
{
    const HistPoint *p = hist_point(req, name, desc);
    if (!p)
        fail_msg("no histogram point %s{%s}", name, desc);
    return p;
}

/* ---- config ------------------------------------------------------------------------------------ */

static void test_config_defaults(void **state)
{
    (void)state;
    struct llm_metrics_config cfg;
    struct error err = {0};
    if (bind_yaml(&cfg, NULL, &err) != 0)
        fail_msg("%s", err.msg);
    static const double want[] = {0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60};
    assert_int_equal(cfg.histogram_buckets.n, 10);
    for (size_t i = 0; i < 10; i++)
        assert_true(cfg.histogram_buckets.items[i] == want[i]);
    assert_int_equal(cfg.export_interval, 15 * SEC);
    assert_int_equal(cfg.aggregation_temporality, LLM_METRICS_CUMULATIVE);
    assert_int_equal(cfg.dimensions.n, 0);
    assert_int_equal(cfg.resource_attributes.n, 1);
    assert_string_equal(cfg.resource_attributes.items[0], "service.name");
    assert_string_equal(cfg.attribute_names.tenant, "tenant.id");
    assert_true(!cfg.attribute_names.status || !cfg.attribute_names.status[0]);
    assert_int_equal(cfg.attribute_names.ratelimit_remaining.n, 2);
    assert_string_equal(cfg.attribute_names.ratelimit_remaining.items[0],
                        "llmproxy.ratelimit.remaining");
    assert_string_equal(cfg.attribute_names.ratelimit_remaining.items[1],
                        "http.response.header.x-ratelimit-remaining-requests");
    assert_int_equal(cfg.availability_window, 300 * SEC);
    assert_true(cfg.availability_error_threshold == 0.5);
    assert_int_equal(cfg.max_series, 10000);
    config_free_bound(llm_metrics_connector_factory.fields, &cfg);

    const struct component_factory *fac = component_find(COMPONENT_CONNECTOR, "llm_metrics");
    assert_ptr_equal(fac, &llm_metrics_connector_factory);
    assert_int_equal(fac->signals, 1u << SIGNAL_TRACES);
    assert_int_equal(fac->out_signals, 1u << SIGNAL_METRICS);
    assert_int_equal(fac->routes[SIGNAL_TRACES], 1u << SIGNAL_METRICS);
    assert_int_equal(fac->routes[SIGNAL_METRICS], 0);

    if (bind_yaml(&cfg,
                  "aggregation_temporality: delta\n"
                  "histogram_buckets: [1, 2.5]\n"
                  "attribute_names: {tenant: org.id, status: http.response.status_code}\n",
                  &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(cfg.aggregation_temporality, LLM_METRICS_DELTA);
    assert_int_equal(cfg.histogram_buckets.n, 2);
    assert_true(cfg.histogram_buckets.items[1] == 2.5);
    assert_string_equal(cfg.attribute_names.tenant, "org.id");
    assert_string_equal(cfg.attribute_names.status, "http.response.status_code");
    /* a section given in part keeps the other defaults */
    assert_int_equal(cfg.attribute_names.ratelimit_remaining.n, 2);
    config_free_bound(llm_metrics_connector_factory.fields, &cfg);

    /* the Collector's spelling binds too, and means the same */
    if (bind_yaml(&cfg, "aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\n", &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(cfg.aggregation_temporality % 2, LLM_METRICS_DELTA);
    config_free_bound(llm_metrics_connector_factory.fields, &cfg);
}

static void expect_config_error(const char *yaml, const char *want1, const char *want2)
{
    struct llm_metrics_config cfg;
    struct error err = {0};
    int rc = bind_yaml(&cfg, yaml, &err);
    config_free_bound(llm_metrics_connector_factory.fields, &cfg);
    if (rc == 0)
        fail_msg("accepted: %s", yaml);
    if (!strstr(err.msg, want1) || (want2 && !strstr(err.msg, want2)))
        fail_msg("message '%s' lacks '%s' / '%s'", err.msg, want1, want2 ? want2 : "");
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_config_error("histogram_buckets: [0.1, 0.5, 0.5, 1]\n", "histogram_buckets[2]",
                        "strictly increasing");
    expect_config_error("histogram_buckets: [1, 0.5]\n", "histogram_buckets[1]",
                        "strictly increasing");
    expect_config_error("histogram_buckets: []\n", "histogram_buckets", "at least one");
    expect_config_error("histogram_buckets: [1, .inf]\n", "histogram_buckets", NULL);
    expect_config_error("histogram_buckets: [1, fast]\n", "histogram_buckets[1]", "number");
    expect_config_error("availability_error_threshold: 1.5\n", "availability_error_threshold",
                        "between 0 and 1");
    expect_config_error("availability_error_threshold: -0.1\n", "availability_error_threshold",
                        "between 0 and 1");
    expect_config_error("export_interval: 10ms\n", "export_interval", "100ms");
    expect_config_error("max_series: 0\n", "max_series", NULL);
    expect_config_error("aggregation_temporality: sometimes\n", "aggregation_temporality",
                        "cumulative");
    expect_config_error("attribute_names: {tenant: \"\"}\n", "attribute_names.tenant", NULL);
    expect_config_error("histogram_bucket: [1]\n", "histogram_bucket", "known keys");
}

/* ---- every metric ------------------------------------------------------------------------------ */

static void test_counts_and_sums(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL);
    const struct attr res[] = {S("service.name", "gateway"), END};
    const struct attr a1[] = {S("gen_ai.operation.name", "chat"),
                              S("gen_ai.provider.name", "openai"),
                              S("gen_ai.request.model", "gpt-4o"),
                              S("gen_ai.response.model", "gpt-4o-2024-08-06"),
                              S("tenant.id", "acme"),
                              I("gen_ai.usage.input_tokens", 100),
                              I("gen_ai.usage.output_tokens", 20),
                              D("gen_ai.usage.cost.amount", 0.0125),
                              END};
    const struct attr a2[] = {S("gen_ai.provider.name", "openai"),
                              S("gen_ai.response.model", "gpt-4o-2024-08-06"),
                              S("tenant.id", "acme"),
                              D("gen_ai.usage.input_tokens", 50.0),      /* a double */
                              S("gen_ai.usage.output_tokens", "30"),     /* a numeric string */
                              D("gen_ai.usage.cost.amount", 0.0075),
                              END};
    const struct attr a3[] = {S("gen_ai.operation.name", "chat"),
                              S("gen_ai.provider.name", "anthropic"),
                              S("gen_ai.request.model", "claude-sonnet-4-5"),
                              S("tenant.id", "globex"),
                              I("gen_ai.usage.input_tokens", 7),
                              END}; /* no output tokens, no cost */
    const struct sspec spans[] = {
        {1500000000LL, ST_OK, a1, 0},
        {500000000LL, 0, a2, 0},
        {250000000LL, ST_ERROR, a3, 0},
    };
    send(f, res, spans, 3);
    assert_int_equal(fx_counter(f, "llmotlp_llm_metrics_spans"), 3);

    f->now = T0 + 10 * SEC;
    MetricsRequest *m = fx_flush(f);
    assert_non_null(m);
    assert_int_equal(fx_counter(f, "llmotlp_llm_metrics_exports"), 1);

    /* request.count: tenant, provider, status */
    const char *name = "llmproxy.request.count";
    assert_int_equal(int_value(m, name, "tenant=acme,provider=openai,status=ok"), 2);
    assert_int_equal(int_value(m, name, "tenant=globex,provider=anthropic,status=error"), 1);
    assert_int_equal(count_points(m, name), 2);
    const Metric *mt = find_metric(m, name, 0);
    assert_int_equal(mt->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
    assert_true(mt->sum->is_monotonic);
    assert_int_equal(mt->sum->aggregation_temporality, TEMP_CUMULATIVE);
    assert_string_equal(mt->unit, "{request}");
    const NumberPoint *np = num_point(m, name, "tenant=acme,provider=openai,status=ok");
    assert_int_equal(np->start_time_unix_nano, T0);
    assert_int_equal(np->time_unix_nano, T0 + 10 * SEC);

    /* tokens: the billed (response) model, else the request model */
    assert_int_equal(int_value(m, "llmproxy.tokens.input", "tenant=acme,model=gpt-4o-2024-08-06"),
                     150);
    assert_int_equal(int_value(m, "llmproxy.tokens.output", "tenant=acme,model=gpt-4o-2024-08-06"),
                     50);
    assert_int_equal(int_value(m, "llmproxy.tokens.input", "tenant=globex,model=claude-sonnet-4-5"),
                     7);
    assert_null(num_point(m, "llmproxy.tokens.output", "tenant=globex,model=claude-sonnet-4-5"));
    assert_int_equal(count_points(m, "llmproxy.tokens.output"), 1);

    /* cost: dollars x 100 = cents, only where a cost was given */
    assert_true(fabs(double_value(m, "llmproxy.cost.estimated", "tenant=acme") - 2.0) < EPS);
    assert_int_equal(count_points(m, "llmproxy.cost.estimated"), 1);
    assert_string_equal(find_metric(m, "llmproxy.cost.estimated", 0)->unit, "{cent}");

    /* request.duration: provider, model */
    const HistPoint *h = must_hist(m, "llmproxy.request.duration",
                                   "provider=openai,model=gpt-4o-2024-08-06");
    assert_int_equal(h->count, 2);
    assert_true(fabs(h->sum - 2.0) < EPS);
    assert_true(h->_min_case && fabs(h->min - 0.5) < EPS);
    assert_true(h->_max_case && fabs(h->max - 1.5) < EPS);
    assert_int_equal(h->start_time_unix_nano, T0);
    assert_string_equal(find_metric(m, "llmproxy.request.duration", 0)->unit, "s");
    h = must_hist(m, "llmproxy.request.duration", "provider=anthropic,model=claude-sonnet-4-5");
    assert_int_equal(h->count, 1);
    assert_true(fabs(h->sum - 0.25) < EPS);

    /* availability: a provider with an ok call and no failures is up; anthropic's only call
     * failed, so it is down */
    assert_int_equal(int_value(m, "llmproxy.provider.availability", "provider=openai"), 1);
    assert_int_equal(int_value(m, "llmproxy.provider.availability", "provider=anthropic"), 0);
    assert_int_equal(find_metric(m, "llmproxy.provider.availability", 0)->data_case,
                     OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);

    /* no span had a rate-limit figure */
    assert_null(find_metric(m, "llmproxy.ratelimit.remaining", 0));

    /* semconv token usage: one point per token type */
    h = must_hist(m, "gen_ai.client.token.usage",
                  "gen_ai.operation.name=chat,gen_ai.provider.name=openai,"
                  "gen_ai.request.model=gpt-4o,gen_ai.response.model=gpt-4o-2024-08-06,"
                  "gen_ai.token.type=input");
    assert_int_equal(h->count, 1);
    assert_true(h->sum == 100);
    h = must_hist(m, "gen_ai.client.token.usage",
                  "gen_ai.provider.name=openai,gen_ai.response.model=gpt-4o-2024-08-06,"
                  "gen_ai.token.type=output");
    assert_true(h->sum == 30);
    assert_int_equal(count_points(m, "gen_ai.client.token.usage"), 5);
    assert_int_equal(count_points(m, "gen_ai.client.operation.duration"), 3);

    /* a second export without new spans repeats the totals (cumulative) */
    f->now = T0 + 20 * SEC;
    m = fx_flush(f);
    assert_int_equal(int_value(m, name, "tenant=acme,provider=openai,status=ok"), 2);
    np = num_point(m, name, "tenant=acme,provider=openai,status=ok");
    assert_int_equal(np->start_time_unix_nano, T0);
    assert_int_equal(np->time_unix_nano, T0 + 20 * SEC);
    fx_free(f);
}

static void test_resource_and_scope(void **state)
{
    (void)state;
    struct fx *f = fx_new("resource_attributes: [service.name, deployment.environment]\n");
    const struct attr r1[] = {S("service.name", "gw-a"), S("host.name", "h1"), END};
    const struct attr r2[] = {S("service.name", "gw-b"), S("deployment.environment", "prod"),
                              S("host.name", "h2"), END};
    const struct attr r3[] = {S("service.name", "gw-a"), S("host.name", "h3"), END};
    const struct attr a[] = {S("gen_ai.provider.name", "openai"), S("tenant.id", "t"), END};
    const struct sspec s1[] = {{SEC, 0, a, 0}};
    const struct sspec s2[] = {{SEC, 0, a, 0}, {SEC, 0, a, 0}};
    const struct rspec rs[] = {{r1, s1, 1}, {r2, s2, 2}, {r3, s1, 1}};
    send_rs(f, rs, 3);
    MetricsRequest *m = fx_flush(f);
    /* host.name is not kept, so r1 and r3 are one resource */
    assert_int_equal(m->n_resource_metrics, 2);
    int64_t per_res[2] = {0, 0};
    for (size_t r = 0; r < 2; r++) {
        const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = m->resource_metrics[r];
        assert_int_equal(rm->n_scope_metrics, 1);
        assert_string_equal(rm->scope_metrics[0]->scope->name, "llmotlp/llm_metrics");
        assert_string_equal(rm->scope_metrics[0]->scope->version, "0.1.0");
        const char *svc = NULL;
        for (size_t i = 0; i < rm->resource->n_attributes; i++) {
            assert_string_not_equal(rm->resource->attributes[i]->key, "host.name");
            if (strcmp(rm->resource->attributes[i]->key, "service.name") == 0)
                svc = rm->resource->attributes[i]->value->string_value;
        }
        assert_non_null(svc);
        bool b = strcmp(svc, "gw-b") == 0;
        assert_int_equal(rm->resource->n_attributes, b ? 2 : 1);
        MetricsRequest one = *m;
        one.n_resource_metrics = 1;
        one.resource_metrics = &m->resource_metrics[r];
        per_res[b] = int_value(&one, "llmproxy.request.count", "tenant=t,provider=openai,status=ok");
        /* each metric appears once per resource */
        assert_non_null(find_metric(&one, "llmproxy.request.count", 0));
        assert_null(find_metric(&one, "llmproxy.request.count", 1));
    }
    assert_int_equal(per_res[0], 2); /* gw-a: r1 + r3 */
    assert_int_equal(per_res[1], 2); /* gw-b */
    fx_free(f);
}

/* ---- bucket placement -------------------------------------------------------------------------- */

static void test_bucket_boundaries(void **state)
{
    (void)state;
    struct fx *f = fx_new("histogram_buckets: [0.5, 1, 2]\n");
    const struct attr a[] = {S("gen_ai.provider.name", "openai"), S("gen_ai.request.model", "m"),
                             END};
    /* durations: 0 (end before start), exactly 0.5, just above 0.5, exactly 1, exactly 2, 2.5 */
    const struct sspec spans[] = {
        {-SEC, 0, a, 0},      {SEC / 2, 0, a, 0}, {SEC / 2 + 1, 0, a, 0},
        {SEC, 0, a, 0},       {2 * SEC, 0, a, 0}, {5 * SEC / 2, 0, a, 0},
    };
    send(f, NULL, spans, 6);
    MetricsRequest *m = fx_flush(f);
    const HistPoint *h = must_hist(m, "llmproxy.request.duration", "provider=openai,model=m");
    assert_int_equal(h->n_explicit_bounds, 3);
    assert_true(h->explicit_bounds[0] == 0.5 && h->explicit_bounds[1] == 1 &&
                h->explicit_bounds[2] == 2);
    assert_int_equal(h->n_bucket_counts, 4);
    assert_int_equal(h->bucket_counts[0], 2); /* 0, 0.5 (<= 0.5) */
    assert_int_equal(h->bucket_counts[1], 2); /* 0.500000001, 1 */
    assert_int_equal(h->bucket_counts[2], 1); /* 2 */
    assert_int_equal(h->bucket_counts[3], 1); /* 2.5 */
    assert_int_equal(h->count, 6);
    assert_true(fabs(h->sum - (0 + 0.5 + 0.500000001 + 1 + 2 + 2.5)) < EPS);
    assert_true(h->min == 0);

    /* the semconv histogram uses its own boundaries: 0.01 .. 81.92 */
    h = must_hist(m, "gen_ai.client.operation.duration",
                  "gen_ai.provider.name=openai,gen_ai.request.model=m");
    assert_int_equal(h->n_explicit_bounds, 14);
    assert_true(h->explicit_bounds[0] == 0.01 && h->explicit_bounds[13] == 81.92);
    assert_int_equal(h->n_bucket_counts, 15);
    assert_int_equal(h->bucket_counts[0], 1);  /* 0 */
    assert_int_equal(h->bucket_counts[6], 2);  /* 0.5, 0.500000001: (0.32, 0.64] */
    assert_int_equal(h->bucket_counts[7], 1);  /* 1: (0.64, 1.28] */
    assert_int_equal(h->bucket_counts[8], 2);  /* 2, 2.5: (1.28, 2.56] */
    fx_free(f);

    /* token usage at its boundaries: 1 -> (.., 1], 4 -> (1, 4], 5 -> (4, 16], 67108865 -> last */
    f = fx_new(NULL);
    const struct attr t1[] = {S("gen_ai.provider.name", "p"), I("gen_ai.usage.input_tokens", 1),
                              I("gen_ai.usage.output_tokens", 4), END};
    const struct attr t2[] = {S("gen_ai.provider.name", "p"), I("gen_ai.usage.input_tokens", 5),
                              I("gen_ai.usage.output_tokens", 67108865), END};
    const struct sspec ts[] = {{SEC, 0, t1, 0}, {SEC, 0, t2, 0}};
    send(f, NULL, ts, 2);
    m = fx_flush(f);
    h = must_hist(m, "gen_ai.client.token.usage", "gen_ai.provider.name=p,gen_ai.token.type=input");
    assert_int_equal(h->n_bucket_counts, 15);
    assert_int_equal(h->bucket_counts[0], 1);
    assert_int_equal(h->bucket_counts[2], 1);
    assert_true(h->explicit_bounds[13] == 67108864);
    h = must_hist(m, "gen_ai.client.token.usage", "gen_ai.provider.name=p,gen_ai.token.type=output");
    assert_int_equal(h->bucket_counts[1], 1);
    assert_int_equal(h->bucket_counts[14], 1);
    fx_free(f);
}

/* ---- which spans count ------------------------------------------------------------------------- */

static void test_non_llm_spans_ignored(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL);
    const struct attr http[] = {S("http.request.method", "POST"), S("tenant.id", "acme"), END};
    const struct attr tool[] = {S("gen_ai.operation.name", "execute_tool"),
                                S("gen_ai.provider.name", "openai"), END};
    const struct attr agent[] = {S("gen_ai.operation.name", "invoke_agent"),
                                 S("gen_ai.request.model", "gpt-4o"), END};
    const struct attr bare[] = {S("gen_ai.operation.name", "chat"),
                                I("gen_ai.usage.input_tokens", 5), END}; /* no provider, model */
    const struct attr empty[] = {S("gen_ai.provider.name", ""), END};
    const struct sspec spans[] = {{SEC, 0, http, 0}, {SEC, 0, tool, 0}, {SEC, 0, agent, 0},
                                  {SEC, 0, bare, 0}, {SEC, 0, empty, 0}, {SEC, 0, NULL, 0}};
    send(f, NULL, spans, 6);
    assert_int_equal(fx_counter(f, "llmotlp_llm_metrics_spans"), 0);
    assert_null(fx_flush(f)); /* nothing to send: no request */
    assert_int_equal(f->rec.calls, 0);

    /* no operation name, the legacy provider attribute: an LLM span; the other inference
     * operations count too */
    const struct attr legacy[] = {S("gen_ai.system", "cohere"), END};
    const struct attr embed[] = {S("gen_ai.operation.name", "embeddings"),
                                 S("gen_ai.request.model", "text-embedding-3-small"), END};
    const struct attr gen[] = {S("gen_ai.operation.name", "generate_content"),
                               S("gen_ai.provider.name", "gcp.gemini"), END};
    const struct attr text[] = {S("gen_ai.operation.name", "text_completion"),
                                S("gen_ai.provider.name", "openai"), END};
    const struct sspec llm[] = {{SEC, 0, legacy, 0}, {SEC, 0, embed, 0}, {SEC, 0, gen, 0},
                                {SEC, 0, text, 0}};
    send(f, NULL, llm, 4);
    assert_int_equal(fx_counter(f, "llmotlp_llm_metrics_spans"), 4);
    MetricsRequest *m = fx_flush(f);
    const char *name = "llmproxy.request.count";
    assert_int_equal(int_value(m, name, "tenant=unknown,provider=cohere,status=ok"), 1);
    assert_int_equal(int_value(m, name, "tenant=unknown,provider=unknown,status=ok"), 1);
    assert_int_equal(int_value(m, name, "tenant=unknown,provider=gcp.gemini,status=ok"), 1);
    assert_int_equal(int_value(m, name, "tenant=unknown,provider=openai,status=ok"), 1);
    assert_int_equal(count_points(m, name), 4);
    assert_non_null(must_hist(m, "llmproxy.request.duration", "provider=cohere,model=unknown"));
    assert_non_null(must_hist(m, "llmproxy.request.duration",
                              "provider=unknown,model=text-embedding-3-small"));
    /* the semconv provider attribute comes from gen_ai.system when it is all there is */
    assert_non_null(must_hist(m, "gen_ai.client.operation.duration",
                              "gen_ai.provider.name=cohere"));
    fx_free(f);
}

/* ---- where tenant, status and dimensions come from --------------------------------------------- */

static void test_tenant_and_dimensions(void **state)
{
    (void)state;
    struct fx *f = fx_new("dimensions: [gen_ai.operation.name, deployment.environment, "
                          "missing.attr]\n");
    const struct attr res[] = {S("service.name", "gw"), S("tenant.id", "from-resource"),
                               S("deployment.environment", "prod"), END};
    const struct attr own[] = {S("gen_ai.operation.name", "chat"),
                               S("gen_ai.provider.name", "openai"), S("tenant.id", "from-span"),
                               I("gen_ai.usage.input_tokens", 3), D("gen_ai.usage.cost.amount", 0.5),
                               END};
    const struct attr inherit[] = {S("gen_ai.provider.name", "openai"),
                                   S("deployment.environment", "staging"), END};
    const struct sspec spans[] = {{SEC, 0, own, 0}, {SEC, 0, inherit, 0}};
    send(f, res, spans, 2);
    const struct attr bare_res[] = {S("service.name", "gw"), END};
    const struct attr numeric[] = {S("gen_ai.provider.name", "openai"), I("tenant.id", 4711), END};
    const struct attr none[] = {S("gen_ai.provider.name", "openai"), END};
    const struct sspec more[] = {{SEC, 0, numeric, 0}, {SEC, 0, none, 0}};
    send(f, bare_res, more, 2);

    MetricsRequest *m = fx_flush(f);
    const char *name = "llmproxy.request.count";
    /* span attribute wins over the resource's; a dimension absent everywhere is left out */
    assert_int_equal(int_value(m, name, "tenant=from-span,provider=openai,status=ok,"
                                        "gen_ai.operation.name=chat,deployment.environment=prod"),
                     1);
    assert_int_equal(int_value(m, name, "tenant=from-resource,provider=openai,status=ok,"
                                        "deployment.environment=staging"),
                     1);
    assert_int_equal(int_value(m, name, "tenant=4711,provider=openai,status=ok"), 1);
    assert_int_equal(int_value(m, name, "tenant=unknown,provider=openai,status=ok"), 1);
    /* dimensions go on tokens, cost and duration too, not on availability */
    assert_int_equal(int_value(m, "llmproxy.tokens.input",
                               "tenant=from-span,model=unknown,gen_ai.operation.name=chat,"
                               "deployment.environment=prod"),
                     3);
    assert_true(fabs(double_value(m, "llmproxy.cost.estimated",
                                  "tenant=from-span,gen_ai.operation.name=chat,"
                                  "deployment.environment=prod") -
                     50.0) < EPS);
    assert_non_null(must_hist(m, "llmproxy.request.duration",
                              "provider=openai,model=unknown,deployment.environment=staging"));
    assert_int_equal(int_value(m, "llmproxy.provider.availability", "provider=openai"), 1);
    /* the tenant attribute of a numeric tenant stays text on the point */
    const NumberPoint *p = num_point(m, name, "tenant=4711,provider=openai,status=ok");
    for (size_t i = 0; i < p->n_attributes; i++)
        assert_int_equal(p->attributes[i]->value->value_case, V_STRING);
    fx_free(f);
}

static void test_status_attribute(void **state)
{
    (void)state;
    struct fx *f = fx_new("attribute_names:\n  status: http.response.status_code\n"
                          "  tenant: org\n");
    const struct attr r429[] = {S("gen_ai.provider.name", "openai"), S("org", "a"),
                                I("http.response.status_code", 429), END};
    const struct attr r200[] = {S("gen_ai.provider.name", "openai"), S("org", "a"),
                                S("http.response.status_code", "200"), END};
    const struct attr none[] = {S("gen_ai.provider.name", "openai"), S("org", "a"), END};
    const struct attr ignored_tenant[] = {S("gen_ai.provider.name", "openai"),
                                          S("tenant.id", "not-this"), END};
    const struct sspec spans[] = {{SEC, ST_ERROR, r429, 0}, {SEC, 0, r429, 0},
                                  {SEC, 0, r200, 0},        {SEC, ST_ERROR, none, 0},
                                  {SEC, ST_OK, none, 0},    {SEC, 0, ignored_tenant, 0}};
    send(f, NULL, spans, 6);
    MetricsRequest *m = fx_flush(f);
    const char *name = "llmproxy.request.count";
    assert_int_equal(int_value(m, name, "tenant=a,provider=openai,status=429"), 2);
    assert_int_equal(int_value(m, name, "tenant=a,provider=openai,status=200"), 1);
    /* without the attribute: the span status */
    assert_int_equal(int_value(m, name, "tenant=a,provider=openai,status=error"), 1);
    assert_int_equal(int_value(m, name, "tenant=a,provider=openai,status=ok"), 1);
    assert_int_equal(int_value(m, name, "tenant=unknown,provider=openai,status=ok"), 1);
    assert_int_equal(count_points(m, name), 5);
    fx_free(f);
}

/* ---- rate limits ------------------------------------------------------------------------------- */

static void test_ratelimit_sources(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL);
    const char *H = "http.response.header.x-ratelimit-remaining-requests";
    const struct attr a_late[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "a"),
                                  D("llmproxy.ratelimit.remaining", 35.0), END};
    const struct attr a_early[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "a"),
                                   I("llmproxy.ratelimit.remaining", 40), END};
    const struct attr b[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "b"),
                             S("llmproxy.ratelimit.remaining", "17"), END};
    const struct attr c[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "c"), A(H, "12"), END};
    const struct attr d[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "d"),
                             I("llmproxy.ratelimit.remaining", 5), A(H, "9"), END};
    const struct attr d_bad[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "d2"),
                                 S("llmproxy.ratelimit.remaining", "lots"), S(H, "8"), END};
    const struct attr e[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "e"), END};
    /* the span that ended last wins, whatever the order of arrival */
    const struct sspec spans[] = {{SEC, 0, a_late, 20}, {SEC, 0, a_early, 10}, {SEC, 0, b, 0},
                                  {SEC, 0, c, 0},       {SEC, 0, d, 0},        {SEC, 0, d_bad, 0},
                                  {SEC, 0, e, 0}};
    send(f, NULL, spans, 7);
    MetricsRequest *m = fx_flush(f);
    const char *name = "llmproxy.ratelimit.remaining";
    assert_true(double_value(m, name, "tenant=a") == 35);
    assert_true(double_value(m, name, "tenant=b") == 17);
    assert_true(double_value(m, name, "tenant=c") == 12); /* semconv header form: an array */
    assert_true(double_value(m, name, "tenant=d") == 5);  /* the first configured name wins */
    assert_true(double_value(m, name, "tenant=d2") == 8); /* a non-number yields to the next */
    assert_null(num_point(m, name, "tenant=e"));
    assert_int_equal(count_points(m, name), 5);
    assert_string_equal(find_metric(m, name, 0)->unit, "{request}");

    /* a later span updates the gauge; an earlier one does not */
    const struct attr a_later[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "a"),
                                   I("llmproxy.ratelimit.remaining", 2), END};
    const struct sspec later[] = {{SEC, 0, a_later, 30}, {SEC, 0, a_early, 25}};
    send(f, NULL, later, 2);
    m = fx_flush(f);
    assert_true(double_value(m, name, "tenant=a") == 2);
    fx_free(f);
}

/* ---- availability ------------------------------------------------------------------------------ */

static void test_availability(void **state)
{
    (void)state;
    /* 60 s window: 60 slots of 1 s */
    struct fx *f = fx_new("availability_window: 60s\navailability_error_threshold: 0.5\n");
    const char *name = "llmproxy.provider.availability";
    const struct attr ok[] = {S("gen_ai.provider.name", "openai"), END};
    const struct attr err_type[] = {S("gen_ai.provider.name", "openai"),
                                    S("error.type", "timeout"), END};
    const struct sspec three_ok_one_failed[] = {{SEC, 0, ok, 0}, {SEC, ST_OK, ok, 0},
                                                {SEC, 0, ok, 0}, {SEC, ST_ERROR, ok, 0}};
    send(f, NULL, three_ok_one_failed, 4);
    MetricsRequest *m = fx_flush(f);
    assert_int_equal(int_value(m, name, "provider=openai"), 1); /* 1/4 failed */

    /* error.type alone (status unset) is a failure too: 4 of 7 failed > 0.5 */
    f->now += 10 * SEC;
    const struct sspec three_failed[] = {{SEC, 0, err_type, 0}, {SEC, 0, err_type, 0},
                                         {SEC, 0, err_type, 0}};
    send(f, NULL, three_failed, 3);
    m = fx_flush(f);
    assert_int_equal(int_value(m, name, "provider=openai"), 0);

    /* the window moves on: after 61 s without calls nothing is left in it, and no call
     * succeeded; the series stays */
    f->now += 61 * SEC;
    m = fx_flush(f);
    assert_int_equal(int_value(m, name, "provider=openai"), 0);

    /* one good call brings it back */
    const struct sspec one_ok[] = {{SEC, 0, ok, 0}};
    send(f, NULL, one_ok, 1);
    m = fx_flush(f);
    assert_int_equal(int_value(m, name, "provider=openai"), 1);

    /* only the failures older than the window drop out: 1 ok now, 3 failed 50 s later, then
     * 15 s more leaves the ok call out of the window (it arrived 65 s before) */
    f->now += 50 * SEC;
    send(f, NULL, three_failed, 3);
    m = fx_flush(f);
    assert_int_equal(int_value(m, name, "provider=openai"), 0); /* 3/4 failed */
    f->now += 15 * SEC;
    send(f, NULL, one_ok, 1);
    send(f, NULL, one_ok, 1);
    send(f, NULL, one_ok, 1);
    send(f, NULL, one_ok, 1);
    m = fx_flush(f);
    assert_int_equal(int_value(m, name, "provider=openai"), 1); /* 3 failed of 7 */

    /* exactly at the threshold is still available: 1 failed of 2 */
    const struct attr half_ok[] = {S("gen_ai.provider.name", "mistral_ai"), END};
    const struct sspec half[] = {{SEC, 0, half_ok, 0}, {SEC, ST_ERROR, half_ok, 0}};
    send(f, NULL, half, 2);
    m = fx_flush(f);
    assert_int_equal(int_value(m, name, "provider=mistral_ai"), 1);
    assert_int_equal(count_points(m, name), 2);
    fx_free(f);

    /* a threshold of 0: any failure in the window makes the provider unavailable */
    f = fx_new("availability_error_threshold: 0\n");
    send(f, NULL, three_ok_one_failed, 4);
    m = fx_flush(f);
    assert_int_equal(int_value(m, name, "provider=openai"), 0);
    fx_free(f);
}

/* ---- overflow ---------------------------------------------------------------------------------- */

static void test_overflow(void **state)
{
    (void)state;
    struct fx *f = fx_new("max_series: 2\n");
    const struct attr t1[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "t1"), END};
    const struct attr t2[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "t2"), END};
    const struct attr t3[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "t3"), END};
    const struct attr t4[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "t4"),
                              I("gen_ai.usage.input_tokens", 9), END};
    const struct sspec spans[] = {{SEC, 0, t1, 0}, {SEC, 0, t2, 0}, {SEC, 0, t3, 0},
                                  {SEC, 0, t4, 0}, {SEC, 0, t1, 0}};
    send(f, NULL, spans, 5);
    MetricsRequest *m = fx_flush(f);
    const char *name = "llmproxy.request.count";
    assert_int_equal(int_value(m, name, "tenant=t1,provider=p,status=ok"), 2); /* still counted */
    assert_int_equal(int_value(m, name, "tenant=t2,provider=p,status=ok"), 1);
    assert_int_equal(int_value(m, name, "otel.metric.overflow=true"), 2);     /* t3 + t4 */
    assert_int_equal(count_points(m, name), 3);
    const NumberPoint *p = num_point(m, name, "otel.metric.overflow=true");
    assert_int_equal(p->attributes[0]->value->value_case, V_BOOL);
    /* tokens.input had one series (t4): no overflow there */
    assert_int_equal(int_value(m, "llmproxy.tokens.input", "tenant=t4,model=unknown"), 9);
    assert_null(num_point(m, "llmproxy.tokens.input", "otel.metric.overflow=true"));
    /* one provider: availability and duration never overflowed */
    assert_int_equal(count_points(m, "llmproxy.provider.availability"), 1);
    /* overflowed points: request.count for t3 and t4 */
    assert_int_equal(fx_counter(f, "llmotlp_llm_metrics_overflow_points"), 2);

    /* more new attribute sets keep going to the one overflow series */
    const struct attr t5[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "t5"), END};
    const struct sspec more[] = {{SEC, 0, t5, 0}, {SEC, 0, t3, 0}};
    send(f, NULL, more, 2);
    m = fx_flush(f);
    assert_int_equal(int_value(m, name, "otel.metric.overflow=true"), 4);
    assert_int_equal(count_points(m, name), 3);
    assert_int_equal(fx_counter(f, "llmotlp_llm_metrics_overflow_points"), 4);
    fx_free(f);
}

/* ---- temporality ------------------------------------------------------------------------------- */

static const struct attr tA[] = {S("gen_ai.provider.name", "p"), S("tenant.id", "a"),
                                 I("gen_ai.usage.input_tokens", 10), END};

static void test_cumulative_vs_delta(void **state)
{
    (void)state;
    const char *name = "llmproxy.request.count";
    const char *pt = "tenant=a,provider=p,status=ok";
    const struct sspec two[] = {{SEC, 0, tA, 0}, {SEC, 0, tA, 0}};
    const struct sspec one[] = {{SEC, 0, tA, 0}};

    /* cumulative: totals since the series was created */
    struct fx *f = fx_new(NULL);
    send(f, NULL, two, 2);
    f->now = T0 + 15 * SEC;
    MetricsRequest *m = fx_flush(f);
    assert_int_equal(int_value(m, name, pt), 2);
    send(f, NULL, one, 1);
    f->now = T0 + 30 * SEC;
    m = fx_flush(f);
    const NumberPoint *p = num_point(m, name, pt);
    assert_int_equal(p->as_int, 3);
    assert_int_equal(p->start_time_unix_nano, T0);
    assert_int_equal(p->time_unix_nano, T0 + 30 * SEC);
    assert_int_equal(must_hist(m, "llmproxy.request.duration", "provider=p,model=unknown")->count,
                     3);
    fx_free(f);

    /* delta: what changed since the last export taken */
    f = fx_new("aggregation_temporality: delta\n");
    send(f, NULL, two, 2);
    f->now = T0 + 15 * SEC;
    m = fx_flush(f);
    p = num_point(m, name, pt);
    assert_int_equal(p->as_int, 2);
    assert_int_equal(p->start_time_unix_nano, T0);
    assert_int_equal(p->time_unix_nano, T0 + 15 * SEC);
    assert_int_equal(find_metric(m, name, 0)->sum->aggregation_temporality, TEMP_DELTA);
    assert_true(find_metric(m, name, 0)->sum->is_monotonic);
    const HistPoint *h = must_hist(m, "llmproxy.request.duration", "provider=p,model=unknown");
    assert_int_equal(h->count, 2);
    assert_int_equal(find_metric(m, "llmproxy.request.duration", 0)->histogram
                         ->aggregation_temporality,
                     TEMP_DELTA);

    /* nothing new: no sum or histogram point; the gauge is still reported */
    f->now = T0 + 30 * SEC;
    m = fx_flush(f);
    assert_non_null(m);
    assert_null(find_metric(m, name, 0));
    assert_null(find_metric(m, "llmproxy.request.duration", 0));
    assert_null(find_metric(m, "llmproxy.tokens.input", 0));
    assert_int_equal(int_value(m, "llmproxy.provider.availability", "provider=p"), 1);

    send(f, NULL, one, 1);
    f->now = T0 + 45 * SEC;
    m = fx_flush(f);
    p = num_point(m, name, pt);
    assert_int_equal(p->as_int, 1);
    /* starts where the last export of this series that was taken ended */
    assert_int_equal(p->start_time_unix_nano, T0 + 15 * SEC);
    assert_int_equal(p->time_unix_nano, T0 + 45 * SEC);
    assert_int_equal(int_value(m, "llmproxy.tokens.input", "tenant=a,model=unknown"), 10);
    h = must_hist(m, "llmproxy.request.duration", "provider=p,model=unknown");
    assert_int_equal(h->count, 1);
    assert_true(fabs(h->sum - 1.0) < EPS);
    assert_int_equal(h->bucket_counts[4], 1); /* 1 s: (0.5, 1] */
    assert_int_equal(h->bucket_counts[3], 0);
    fx_free(f);

    /* the Collector's spelling of delta behaves as delta */
    f = fx_new("aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\n");
    send(f, NULL, two, 2);
    m = fx_flush(f);
    assert_int_equal(find_metric(m, name, 0)->sum->aggregation_temporality, TEMP_DELTA);
    m = fx_flush(f);
    assert_null(find_metric(m, name, 0));
    fx_free(f);
}

static void test_delta_refused_export_is_carried(void **state)
{
    (void)state;
    const char *name = "llmproxy.request.count";
    const char *pt = "tenant=a,provider=p,status=ok";
    struct fx *f = fx_new("aggregation_temporality: delta\n");
    const struct sspec two[] = {{SEC, 0, tA, 0}, {2 * SEC, 0, tA, 0}};
    const struct sspec one[] = {{4 * SEC, 0, tA, 0}};
    send(f, NULL, two, 2);

    f->rec.answer = CONSUME_RETRY;
    f->now = T0 + 15 * SEC;
    assert_int_equal(llm_metrics_flush(f->lm), CONSUME_RETRY);
    MetricsRequest *m = fx_take(f);
    assert_int_equal(int_value(m, name, pt), 2); /* it was offered */
    assert_int_equal(fx_counter(f, "llmotlp_llm_metrics_exports_failed"), 1);
    assert_int_equal(fx_counter(f, "llmotlp_llm_metrics_exports"), 0);

    /* refused again, by a permanent rejection this time: still nothing is lost */
    f->rec.answer = CONSUME_REJECT;
    assert_int_equal(llm_metrics_flush(f->lm), CONSUME_REJECT);
    fx_take(f);

    send(f, NULL, one, 1);
    f->rec.answer = CONSUME_OK;
    f->now = T0 + 30 * SEC;
    m = fx_flush(f);
    const NumberPoint *p = num_point(m, name, pt);
    assert_int_equal(p->as_int, 3); /* carried: 2 refused + 1 new, once */
    assert_int_equal(p->start_time_unix_nano, T0); /* since creation: nothing was taken before */
    assert_int_equal(int_value(m, "llmproxy.tokens.input", "tenant=a,model=unknown"), 30);
    const HistPoint *h = must_hist(m, "llmproxy.request.duration", "provider=p,model=unknown");
    assert_int_equal(h->count, 3);
    assert_true(fabs(h->sum - 7.0) < EPS);
    assert_int_equal(fx_counter(f, "llmotlp_llm_metrics_exports"), 1);

    /* taken: nothing is counted twice */
    f->now = T0 + 45 * SEC;
    m = fx_flush(f);
    assert_null(find_metric(m, name, 0));
    assert_null(find_metric(m, "llmproxy.request.duration", 0));
    fx_free(f);

    /* cumulative: a refused export is simply repeated in full by the next */
    f = fx_new(NULL);
    send(f, NULL, two, 2);
    f->rec.answer = CONSUME_RETRY;
    assert_int_equal(llm_metrics_flush(f->lm), CONSUME_RETRY);
    fx_take(f);
    f->rec.answer = CONSUME_OK;
    send(f, NULL, one, 1);
    m = fx_flush(f);
    assert_int_equal(int_value(m, name, pt), 3);
    fx_free(f);
}

static void *flush_main(void *arg)
{
    return (void *)(intptr_t)llm_metrics_flush(arg);
}

/* Spans that arrive while the downstream holds an export (the lock is not held then) belong to
 * the next export: the one taken subtracts only what it reported. */
static void test_delta_update_during_export(void **state)
{
    (void)state;
    const char *name = "llmproxy.request.count";
    const char *pt = "tenant=a,provider=p,status=ok";
    struct fx *f = fx_new("aggregation_temporality: delta\n");
    const struct sspec two[] = {{SEC, 0, tA, 0}, {SEC, 0, tA, 0}};
    const struct sspec one[] = {{3 * SEC, 0, tA, 0}};
    send(f, NULL, two, 2);
    f->rec.block = true;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, flush_main, f->lm), 0);
    pthread_mutex_lock(&f->rec.mu);
    while (!f->rec.entered)
        pthread_cond_wait(&f->rec.cv, &f->rec.mu);
    pthread_mutex_unlock(&f->rec.mu);
    send(f, NULL, one, 1); /* the export is inside the downstream now */
    pthread_mutex_lock(&f->rec.mu);
    f->rec.block = false;
    f->rec.release = true;
    pthread_cond_broadcast(&f->rec.cv);
    pthread_mutex_unlock(&f->rec.mu);
    void *rc;
    pthread_join(th, &rc);
    assert_int_equal((intptr_t)rc, CONSUME_OK);
    MetricsRequest *m = fx_take(f);
    assert_int_equal(int_value(m, name, pt), 2);

    m = fx_flush(f);
    assert_int_equal(int_value(m, name, pt), 1);
    const HistPoint *h = must_hist(m, "llmproxy.request.duration", "provider=p,model=unknown");
    assert_int_equal(h->count, 1);
    assert_true(fabs(h->sum - 3.0) < EPS);
    m = fx_flush(f);
    assert_null(find_metric(m, name, 0));
    fx_free(f);
}

/* Exports racing with ingest under delta: every span is reported exactly once. */
struct feeder {
    struct fx *f;
    int n;
};

static void *feed_main(void *arg)
{
    struct feeder *fd = arg;
    const struct sspec one[] = {{SEC, 0, tA, 0}};
    for (int i = 0; i < fd->n; i++) {
        struct rspec rs = {NULL, one, 1};
        struct batch *b = mk_batch(&rs, 1);
        if (llm_metrics_connector_factory.consume(fd->f->lm, b) != CONSUME_OK)
            fd->n = -1;
        batch_unref(b);
    }
    return NULL;
}

static void test_delta_concurrent_exact(void **state)
{
    (void)state;
    struct fx *f = fx_new("aggregation_temporality: delta\n");
    struct feeder fd[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        fd[i].f = f;
        fd[i].n = 300;
        assert_int_equal(pthread_create(&th[i], NULL, feed_main, &fd[i]), 0);
    }
    int64_t total = 0, tokens = 0;
    uint64_t hist = 0;
    for (int round = 0; round < 40; round++) {
        f->rec.answer = round % 3 == 1 ? CONSUME_RETRY : CONSUME_OK; /* some are refused */
        enum consume_status rc = llm_metrics_flush(f->lm);
        MetricsRequest *m = fx_take(f);
        if (rc != CONSUME_OK || !m)
            continue;
        const NumberPoint *p = num_point(m, "llmproxy.request.count",
                                         "tenant=a,provider=p,status=ok");
        total += p ? p->as_int : 0;
        p = num_point(m, "llmproxy.tokens.input", "tenant=a,model=unknown");
        tokens += p ? p->as_int : 0;
        const HistPoint *h = hist_point(m, "llmproxy.request.duration", "provider=p,model=unknown");
        hist += h ? h->count : 0;
        tu_sleep_ms(1);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(fd[i].n, 300);
    }
    f->rec.answer = CONSUME_OK;
    MetricsRequest *m = fx_flush(f);
    const NumberPoint *p = num_point(m, "llmproxy.request.count", "tenant=a,provider=p,status=ok");
    total += p ? p->as_int : 0;
    p = num_point(m, "llmproxy.tokens.input", "tenant=a,model=unknown");
    tokens += p ? p->as_int : 0;
    const HistPoint *h = hist_point(m, "llmproxy.request.duration", "provider=p,model=unknown");
    hist += h ? h->count : 0;
    assert_int_equal(total, 900);
    assert_int_equal(tokens, 9000);
    assert_int_equal(hist, 900);
    assert_int_equal(fx_counter(f, "llmotlp_llm_metrics_spans"), 900);
    fx_free(f);
}

/* ---- life cycle -------------------------------------------------------------------------------- */

static void test_restart(void **state)
{
    (void)state;
    const char *name = "llmproxy.request.count";
    const char *pt = "tenant=a,provider=p,status=ok";
    struct fx *f = fx_new(NULL);
    const struct sspec two[] = {{SEC, 0, tA, 0}, {SEC, 0, tA, 0}};
    const struct sspec one[] = {{SEC, 0, tA, 0}};
    send(f, NULL, two, 2);
    MetricsRequest *m = fx_flush(f);
    assert_int_equal(num_point(m, name, pt)->start_time_unix_nano, T0);
    assert_int_equal(int_value(m, name, pt), 2);

    /* a new instance (a restart) starts from nothing, at its own start time */
    llm_metrics_connector_factory.destroy(f->lm);
    f->now = T0 + 100 * SEC;
    fx_create(f);
    assert_null(fx_flush(f));
    send(f, NULL, one, 1);
    f->now = T0 + 115 * SEC;
    m = fx_flush(f);
    const NumberPoint *p = num_point(m, name, pt);
    assert_int_equal(p->as_int, 1);
    assert_int_equal(p->start_time_unix_nano, T0 + 100 * SEC);
    fx_free(f);
}

static void test_semconv_attributes(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL);
    const struct attr full[] = {S("gen_ai.operation.name", "chat"),
                                S("gen_ai.provider.name", "openai"),
                                S("gen_ai.request.model", "gpt-4o"),
                                S("gen_ai.response.model", "gpt-4o-2024-08-06"),
                                S("server.address", "api.openai.com"),
                                I("server.port", 443),
                                S("error.type", "rate_limit_exceeded"),
                                I("gen_ai.usage.input_tokens", 12),
                                I("gen_ai.usage.output_tokens", 0),
                                S("tenant.id", "not-a-semconv-attribute"),
                                END};
    const struct attr failed[] = {S("gen_ai.operation.name", "chat"),
                                  S("gen_ai.provider.name", "anthropic"), END};
    const struct attr minimal[] = {S("gen_ai.request.model", "llama3"), END};
    const struct sspec spans[] = {{SEC, ST_ERROR, full, 0}, {SEC, ST_ERROR, failed, 0},
                                  {SEC, ST_OK, minimal, 0}};
    send(f, NULL, spans, 3);
    MetricsRequest *m = fx_flush(f);
    const char *common = "gen_ai.operation.name=chat,gen_ai.provider.name=openai,"
                         "gen_ai.request.model=gpt-4o,gen_ai.response.model=gpt-4o-2024-08-06,"
                         "server.address=api.openai.com,server.port=443";
    char desc[512];
    snprintf(desc, sizeof desc, "%s,error.type=rate_limit_exceeded", common);
    const HistPoint *h = must_hist(m, "gen_ai.client.operation.duration", desc);
    assert_int_equal(h->count, 1);
    for (size_t i = 0; i < h->n_attributes; i++)
        if (strcmp(h->attributes[i]->key, "server.port") == 0)
            assert_int_equal(h->attributes[i]->value->value_case, V_INT);
    assert_string_equal(find_metric(m, "gen_ai.client.operation.duration", 0)->unit, "s");
    /* status error without error.type: _OTHER */
    must_hist(m, "gen_ai.client.operation.duration",
              "gen_ai.operation.name=chat,gen_ai.provider.name=anthropic,error.type=_OTHER");
    /* only the attributes the span has */
    must_hist(m, "gen_ai.client.operation.duration", "gen_ai.request.model=llama3");
    assert_int_equal(count_points(m, "gen_ai.client.operation.duration"), 3);

    /* token usage: no error.type, a point per token type (0 tokens is a count too) */
    snprintf(desc, sizeof desc, "%s,gen_ai.token.type=input", common);
    h = must_hist(m, "gen_ai.client.token.usage", desc);
    assert_true(h->sum == 12);
    snprintf(desc, sizeof desc, "%s,gen_ai.token.type=output", common);
    h = must_hist(m, "gen_ai.client.token.usage", desc);
    assert_int_equal(h->count, 1);
    assert_true(h->sum == 0);
    assert_int_equal(count_points(m, "gen_ai.client.token.usage"), 2);
    assert_string_equal(find_metric(m, "gen_ai.client.token.usage", 0)->unit, "{token}");
    fx_free(f);
}

static void test_shutdown_final_export(void **state)
{
    (void)state;
    struct fx *f = fx_new("export_interval: 1h\n");
    struct error err = {0};
    assert_int_equal(llm_metrics_connector_factory.start(f->lm, &err), 0);
    const struct sspec one[] = {{SEC, 0, tA, 0}};
    send(f, NULL, one, 1);
    assert_int_equal(f->rec.calls, 0); /* the hour has not passed */
    llm_metrics_connector_factory.shutdown(f->lm, clock_now_ns() + 2 * SEC);
    MetricsRequest *m = fx_take(f);
    assert_non_null(m);
    assert_int_equal(int_value(m, "llmproxy.request.count", "tenant=a,provider=p,status=ok"), 1);
    fx_free(f);

    /* a deadline already passed: no export is attempted */
    f = fx_new("export_interval: 1h\n");
    assert_int_equal(llm_metrics_connector_factory.start(f->lm, &err), 0);
    send(f, NULL, one, 1);
    llm_metrics_connector_factory.shutdown(f->lm, clock_now_ns() - 1);
    assert_int_equal(f->rec.calls, 0);
    fx_free(f);
}

static void test_timer_exports(void **state)
{
    (void)state;
    struct fx *f = fx_new("export_interval: 100ms\n");
    struct error err = {0};
    assert_int_equal(llm_metrics_connector_factory.start(f->lm, &err), 0);
    const struct sspec one[] = {{SEC, 0, tA, 0}};
    send(f, NULL, one, 1);
    /* wait (bounded) for the timer: not a timing assertion, only a generous limit */
    size_t calls = 0;
    for (int i = 0; i < 500 && calls < 2; i++) {
        tu_sleep_ms(10);
        pthread_mutex_lock(&f->rec.mu);
        calls = f->rec.calls;
        pthread_mutex_unlock(&f->rec.mu);
    }
    assert_true(calls >= 2);
    llm_metrics_connector_factory.shutdown(f->lm, clock_now_ns() + 2 * SEC);
    MetricsRequest *m = fx_take(f);
    assert_int_equal(int_value(m, "llmproxy.request.count", "tenant=a,provider=p,status=ok"), 1);
    assert_true(fx_counter(f, "llmotlp_llm_metrics_exports") >= 3);
    fx_free(f);
}

/* A create without a metrics pipeline behind the connector is refused. */
static void test_create_needs_metrics_output(void **state)
{
    (void)state;
    struct llm_metrics_config cfg;
    struct error err = {0};
    assert_int_equal(bind_yaml(&cfg, NULL, &err), 0);
    struct component_env env = {.id = "llm_metrics", .signal = SIGNAL_TRACES};
    assert_null(llm_metrics_connector_factory.create(&cfg, &env, &err));
    assert_non_null(strstr(err.msg, "metrics"));
    config_free_bound(llm_metrics_connector_factory.fields, &cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_counts_and_sums),
        cmocka_unit_test(test_resource_and_scope),
        cmocka_unit_test(test_bucket_boundaries),
        cmocka_unit_test(test_non_llm_spans_ignored),
        cmocka_unit_test(test_tenant_and_dimensions),
        cmocka_unit_test(test_status_attribute),
        cmocka_unit_test(test_ratelimit_sources),
        cmocka_unit_test(test_availability),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_cumulative_vs_delta),
        cmocka_unit_test(test_delta_refused_export_is_carried),
        cmocka_unit_test(test_delta_update_during_export),
        cmocka_unit_test(test_delta_concurrent_exact),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_semconv_attributes),
        cmocka_unit_test(test_shutdown_final_export),
        cmocka_unit_test(test_timer_exports),
        cmocka_unit_test(test_create_needs_metrics_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
