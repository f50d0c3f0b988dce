/* test_transform_funcs.c — the transform processor's own OTTL functions against the Collector's
 * README (processor/transformprocessor): convert_sum_to_gauge, convert_gauge_to_sum,
 * extract_sum_metric, extract_count_metric, convert_summary_sum_val_to_sum,
 * convert_summary_count_val_to_sum, convert_summary_quantile_val_to_gauge, copy_metric,
 * scale_metric, merge_histogram_buckets; context inference by function; and the engine seam they
 * rest on: metrics appended during a walk are visited by the same walk, within a bound.
 * Expected outputs are worked out by hand beside each case.
 *
 * The one idea: requests go in as wire bytes through the factory's consume() and the decoded
 * request the next component receives is what is asserted. */
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
#include "core/ottl/ottl.h"
#include "core/telemetry.h"
#include "processors/transform/transform.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

#define FACTORY transform_processor_factory

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsRequest;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics ResourceMetrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics ScopeMetrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__Sum Sum;
typedef Opentelemetry__Proto__Metrics__V1__Gauge Gauge;
typedef Opentelemetry__Proto__Metrics__V1__Histogram Histogram;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogram ExpHistogram;
typedef Opentelemetry__Proto__Metrics__V1__Summary Summary;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistogramDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint ExpHistogramDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint SummaryDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile Quantile;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

#define MD(x) OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_##x
#define DELTA OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
#define CUMULATIVE \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE
#define AS_DOUBLE OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE
#define AS_INT OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE

/* ---- builders: one resource, one scope, metrics added one by one --------------------------- */

struct mb {
    struct arena *a;
    MetricsRequest req;
    ResourceMetrics rm;
    ScopeMetrics sm;
    ResourceMetrics *rmp;
    ScopeMetrics *smp;
    Metric *metrics[16];
};

static void mb_init(struct mb *b)
{
    memset(b, 0, sizeof *b);
    b->a = arena_new(0);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(&b->req);
    opentelemetry__proto__metrics__v1__resource_metrics__init(&b->rm);
    opentelemetry__proto__metrics__v1__scope_metrics__init(&b->sm);
    b->smp = &b->sm;
    b->rmp = &b->rm;
    b->rm.scope_metrics = &b->smp;
    b->rm.n_scope_metrics = 1;
    b->req.resource_metrics = &b->rmp;
    b->req.n_resource_metrics = 1;
    b->sm.metrics = b->metrics;
}

static void *zalloc(struct mb *b, size_t n)
{
    void *p = arena_alloc(b->a, n);
    assert_non_null(p);
    memset(p, 0, n);
    return p;
}

static Metric *add_metric(struct mb *b, const char *name, const char *desc, const char *unit)
{
    assert_true(b->sm.n_metrics < 16);
    Metric *m = zalloc(b, sizeof *m);
    opentelemetry__proto__metrics__v1__metric__init(m);
    m->name = arena_strdup(b->a, name);
    m->description = arena_strdup(b->a, desc);
    m->unit = arena_strdup(b->a, unit);
    b->metrics[b->sm.n_metrics++] = m;
    return m;
}

/* One string attribute "k=v" (NULL = none). */
static KeyValue **attr1(struct mb *b, const char *kv, size_t *n)
{
    *n = 0;
    if (!kv)
        return NULL;
    const char *eq = strchr(kv, '=');
    KeyValue **out = zalloc(b, sizeof *out);
    KeyValue *k = zalloc(b, sizeof *k);
    opentelemetry__proto__common__v1__key_value__init(k);
    AnyValue *v = zalloc(b, sizeof *v);
    opentelemetry__proto__common__v1__any_value__init(v);
    char *key = zalloc(b, (size_t)(eq - kv) + 1);
    memcpy(key, kv, (size_t)(eq - kv));
    k->key = key;
    v->value_case = V_STRING;
    v->string_value = arena_strdup(b->a, eq + 1);
    k->value = v;
    out[0] = k;
    *n = 1;
    return out;
}

static NumberDataPoint *num_point(struct mb *b, bool is_int, double d, int64_t i)
{
    NumberDataPoint *p = zalloc(b, sizeof *p);
    opentelemetry__proto__metrics__v1__number_data_point__init(p);
    p->start_time_unix_nano = 100;
    p->time_unix_nano = 200;
    if (is_int) {
        p->value_case = AS_INT;
        p->as_int = i;
    } else {
        p->value_case = AS_DOUBLE;
        p->as_double = d;
    }
    return p;
}

/* A Sum (gauge = false) or Gauge of points given as doubles; ints where is_int[i]. */
static void set_numbers(struct mb *b, Metric *m, bool gauge, int temporality, bool mono,
                        const double *v, const bool *is_int, size_t n)
{
    NumberDataPoint **dps = zalloc(b, (n ? n : 1) * sizeof *dps);
    for (size_t i = 0; i < n; i++)
        dps[i] = num_point(b, is_int && is_int[i], v[i], (int64_t)v[i]);
    if (gauge) {
        Gauge *g = zalloc(b, sizeof *g);
        opentelemetry__proto__metrics__v1__gauge__init(g);
        g->data_points = dps;
        g->n_data_points = n;
        m->data_case = MD(GAUGE);
        m->gauge = g;
    } else {
        Sum *s = zalloc(b, sizeof *s);
        opentelemetry__proto__metrics__v1__sum__init(s);
        s->data_points = dps;
        s->n_data_points = n;
        s->aggregation_temporality = temporality;
        s->is_monotonic = mono;
        m->data_case = MD(SUM);
        m->sum = s;
    }
}

static Histogram *set_histogram(struct mb *b, Metric *m, int temporality)
{
    Histogram *h = zalloc(b, sizeof *h);
    opentelemetry__proto__metrics__v1__histogram__init(h);
    h->aggregation_temporality = temporality;
    h->data_points = zalloc(b, 4 * sizeof *h->data_points);
    m->data_case = MD(HISTOGRAM);
    m->histogram = h;
    return h;
}

static HistogramDataPoint *hist_point(struct mb *b, Histogram *h, const char *attr, uint64_t count,
                                      const double *sum, const double *bounds, size_t nb,
                                      const uint64_t *counts, size_t nc)
{
    HistogramDataPoint *p = zalloc(b, sizeof *p);
    opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
    p->attributes = attr1(b, attr, &p->n_attributes);
    p->start_time_unix_nano = 100 + h->n_data_points;
    p->time_unix_nano = 200 + h->n_data_points;
    p->count = count;
    if (sum) {
        p->_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM;
        p->sum = *sum;
    }
    if (nb) {
        p->explicit_bounds = arena_memdup(b->a, bounds, nb * sizeof *bounds);
        p->n_explicit_bounds = nb;
    }
    if (nc) {
        p->bucket_counts = arena_memdup(b->a, counts, nc * sizeof *counts);
        p->n_bucket_counts = nc;
    }
    h->data_points[h->n_data_points++] = p;
    return p;
}

static Summary *set_summary(struct mb *b, Metric *m)
{
    Summary *s = zalloc(b, sizeof *s);
    opentelemetry__proto__metrics__v1__summary__init(s);
    s->data_points = zalloc(b, 4 * sizeof *s->data_points);
    m->data_case = MD(SUMMARY);
    m->summary = s;
    return s;
}

/* A summary point with quantiles q[i] -> v[i]. */
static void summary_point(struct mb *b, Summary *s, const char *attr, uint64_t count, double sum,
                          const double *q, const double *v, size_t nq)
{
    SummaryDataPoint *p = zalloc(b, sizeof *p);
    opentelemetry__proto__metrics__v1__summary_data_point__init(p);
    p->attributes = attr1(b, attr, &p->n_attributes);
    p->start_time_unix_nano = 100;
    p->time_unix_nano = 200;
    p->count = count;
    p->sum = sum;
    p->quantile_values = zalloc(b, (nq ? nq : 1) * sizeof *p->quantile_values);
    for (size_t i = 0; i < nq; i++) {
        Quantile *x = zalloc(b, sizeof *x);
        opentelemetry__proto__metrics__v1__summary_data_point__value_at_quantile__init(x);
        x->quantile = q[i];
        x->value = v[i];
        p->quantile_values[i] = x;
    }
    p->n_quantile_values = nq;
    s->data_points[s->n_data_points++] = p;
}

static struct batch *mb_batch(struct mb *b)
{
    size_t len = protobuf_c_message_get_packed_size(&b->req.base);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    protobuf_c_message_pack(&b->req.base, buf);
    struct error err = {0};
    struct batch *bt = batch_from_wire(SIGNAL_METRICS, buf, len, &err);
    free(buf);
    arena_free(b->a);
    if (!bt)
        fail_msg("batch: %s", err.msg);
    return bt;
}

/* ---- the processor under test --------------------------------------------------------------- */

struct sink {
    struct consumer c;
    struct batch *got;
};

static enum consume_status sink_consume(struct consumer *self, struct batch *b)
{
    struct sink *s = (struct sink *)self;
    if (s->got)
        batch_unref(s->got);
    s->got = batch_ref(b);
    return CONSUME_OK;
}

struct fx {
    struct cnode *root;
    void *cfg;
    struct telemetry *tel;
    struct sink sink;
    void *proc;
};

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

static struct fx *fx_new(const char *yaml)
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
    f->sink.c.consume = sink_consume;
    struct component_env env = {.id = "transform", .signal = SIGNAL_METRICS, .telemetry = f->tel,
                                .log_name = "processor/transform"};
    env.next[SIGNAL_METRICS] = &f->sink.c;
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

/* Sends the built request and returns the scope's metrics as the next component gets them. */
static const ScopeMetrics *run(struct fx *f, struct mb *b)
{
    struct batch *bt = mb_batch(b);
    assert_int_equal(FACTORY.consume(f->proc, bt), CONSUME_OK);
    batch_unref(bt);
    assert_non_null(f->sink.got);
    struct error err = {0};
    const MetricsRequest *r = (const MetricsRequest *)batch_decoded(f->sink.got, &err);
    if (!r)
        fail_msg("decode: %s", err.msg);
    assert_int_equal(r->n_resource_metrics, 1);
    assert_int_equal(r->resource_metrics[0]->n_scope_metrics, 1);
    return r->resource_metrics[0]->scope_metrics[0];
}

static const AnyValue *attr(KeyValue *const *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i]->key, key) == 0)
            return kv[i]->value;
    return NULL;
}

static void want_str_attr(KeyValue *const *kv, size_t n, const char *key, const char *v)
{
    const AnyValue *a = attr(kv, n, key);
    assert_non_null(a);
    assert_int_equal(a->value_case, V_STRING);
    assert_string_equal(a->string_value, v);
}

/* ---- convert_sum_to_gauge / convert_gauge_to_sum --------------------------------------------- */

/* The README's basic metric example: only the named Sum becomes a Gauge (points kept), only the
 * named Gauge becomes a cumulative non-monotonic Sum; another Sum is left alone. */
static void test_basic_example_conversions(void **state)
{
    (void)state;
    struct fx *f = fx_new("metric_statements:\n"
                          "  - keep_keys(resource.attributes, [\"host.name\"])\n"
                          "  - truncate_all(resource.attributes, 4096)\n"
                          "  - set(metric.description, \"Sum\") where metric.type == \"Sum\"\n"
                          "  - convert_sum_to_gauge() where metric.name == \"system.processes.count\"\n"
                          "  - convert_gauge_to_sum(\"cumulative\", false) where metric.name == "
                          "\"prometheus_metric\"\n");
    struct mb b;
    mb_init(&b);
    bool ints[] = {true, true};
    double v1[] = {3, 4}, v2[] = {2.5}, v3[] = {9};
    set_numbers(&b, add_metric(&b, "system.processes.count", "", "1"), false, CUMULATIVE, false,
                v1, ints, 2);
    set_numbers(&b, add_metric(&b, "prometheus_metric", "", ""), true, 0, false, v2, NULL, 1);
    set_numbers(&b, add_metric(&b, "other", "", ""), false, DELTA, true, v3, ints, 1);
    const ScopeMetrics *sm = run(f, &b);
    assert_int_equal(sm->n_metrics, 3);
    const Metric *m = sm->metrics[0];
    assert_int_equal(m->data_case, MD(GAUGE));
    assert_int_equal(m->gauge->n_data_points, 2);
    assert_int_equal(m->gauge->data_points[0]->as_int, 3);
    assert_int_equal(m->gauge->data_points[1]->as_int, 4);
    m = sm->metrics[1];
    assert_int_equal(m->data_case, MD(SUM));
    assert_int_equal(m->sum->aggregation_temporality, CUMULATIVE);
    assert_false(m->sum->is_monotonic);
    assert_int_equal(m->sum->n_data_points, 1);
    assert_true(m->sum->data_points[0]->as_double == 2.5);
    m = sm->metrics[2];
    assert_int_equal(m->data_case, MD(SUM));
    assert_int_equal(m->sum->aggregation_temporality, DELTA);
    assert_true(m->sum->is_monotonic);
    fx_free(f);

    /* convert_gauge_to_sum("delta", true), the README's second example; a Sum is a no-op */
    f = fx_new("metric_statements:\n  - convert_gauge_to_sum(\"delta\", true) where metric.name != \"\"\n");
    mb_init(&b);
    set_numbers(&b, add_metric(&b, "g", "", ""), true, 0, false, v2, NULL, 1);
    set_numbers(&b, add_metric(&b, "s", "", ""), false, CUMULATIVE, false, v3, ints, 1);
    sm = run(f, &b);
    assert_int_equal(sm->metrics[0]->data_case, MD(SUM));
    assert_int_equal(sm->metrics[0]->sum->aggregation_temporality, DELTA);
    assert_true(sm->metrics[0]->sum->is_monotonic);
    assert_int_equal(sm->metrics[1]->sum->aggregation_temporality, CUMULATIVE);
    assert_false(sm->metrics[1]->sum->is_monotonic);
    fx_free(f);

    refused("metric_statements:\n  - convert_gauge_to_sum(\"weird\", false) where metric.name == \"x\"\n",
            "test.yaml:2:5:", "unknown aggregation temporality: weird");
}

/* ---- extract_sum_metric / extract_count_metric ----------------------------------------------- */

/* A delta histogram of two points (one without a sum) and a summary: the extracted metrics are
 * appended in the order they were made, named <name><suffix>, keep description, unit, attributes
 * and times; a histogram point without a sum adds no sum point; a summary's is cumulative. */
static void test_extract_sum_and_count(void **state)
{
    (void)state;
    struct fx *f = fx_new("metric_statements:\n"
                          "  - extract_sum_metric(true) where metric.name == \"http.duration\"\n"
                          "  - extract_count_metric(false, \".count\") where metric.name == "
                          "\"http.duration\"\n"
                          "  - extract_sum_metric(false, \".sum\") where metric.name == \"rpc.latency\"\n"
                          "  - extract_sum_metric(true) where metric.name == \"nosum\"\n");
    struct mb b;
    mb_init(&b);
    Histogram *h = set_histogram(&b, add_metric(&b, "http.duration", "latency", "ms"), DELTA);
    double s0 = 10.5;
    hist_point(&b, h, "a=1", 4, &s0, NULL, 0, NULL, 0);
    hist_point(&b, h, "a=2", 2, NULL, NULL, 0, NULL, 0);
    Summary *s = set_summary(&b, add_metric(&b, "rpc.latency", "", "s"));
    summary_point(&b, s, "k=v", 5, 3.0, NULL, NULL, 0);
    Histogram *h2 = set_histogram(&b, add_metric(&b, "nosum", "", ""), CUMULATIVE);
    hist_point(&b, h2, NULL, 1, NULL, NULL, 0, NULL, 0);
    const ScopeMetrics *sm = run(f, &b);
    assert_int_equal(sm->n_metrics, 6);   /* 3 + http.duration_sum, .count, rpc.latency.sum */

    const Metric *m = sm->metrics[3];
    assert_string_equal(m->name, "http.duration_sum");
    assert_string_equal(m->description, "latency");
    assert_string_equal(m->unit, "ms");
    assert_int_equal(m->data_case, MD(SUM));
    assert_int_equal(m->sum->aggregation_temporality, DELTA);
    assert_true(m->sum->is_monotonic);
    assert_int_equal(m->sum->n_data_points, 1);
    const NumberDataPoint *p = m->sum->data_points[0];
    assert_int_equal(p->value_case, AS_DOUBLE);
    assert_true(p->as_double == 10.5);
    assert_int_equal(p->start_time_unix_nano, 100);
    assert_int_equal(p->time_unix_nano, 200);
    want_str_attr(p->attributes, p->n_attributes, "a", "1");

    m = sm->metrics[4];
    assert_string_equal(m->name, "http.duration.count");
    assert_int_equal(m->sum->aggregation_temporality, DELTA);
    assert_false(m->sum->is_monotonic);
    assert_int_equal(m->sum->n_data_points, 2);
    assert_int_equal(m->sum->data_points[0]->value_case, AS_INT);
    assert_int_equal(m->sum->data_points[0]->as_int, 4);
    assert_int_equal(m->sum->data_points[1]->as_int, 2);
    want_str_attr(m->sum->data_points[1]->attributes, m->sum->data_points[1]->n_attributes, "a",
                  "2");
    assert_int_equal(m->sum->data_points[1]->time_unix_nano, 201);

    m = sm->metrics[5];
    assert_string_equal(m->name, "rpc.latency.sum");
    assert_int_equal(m->sum->aggregation_temporality, CUMULATIVE);
    assert_false(m->sum->is_monotonic);
    assert_true(m->sum->data_points[0]->as_double == 3.0);
    /* the source metrics are untouched */
    assert_int_equal(sm->metrics[0]->data_case, MD(HISTOGRAM));
    assert_int_equal(sm->metrics[0]->histogram->n_data_points, 2);
    fx_free(f);
}

/* extract_* on a Sum is the Collector's runtime error: propagate refuses the request (retryable),
 * ignore goes on without adding anything. */
static void test_extract_wrong_type(void **state)
{
    (void)state;
    struct fx *f = fx_new("error_mode: propagate\nmetric_statements:\n"
                          "  - extract_count_metric(true) where metric.name == \"s\"\n");
    struct mb b;
    mb_init(&b);
    double v[] = {1};
    set_numbers(&b, add_metric(&b, "s", "", ""), false, DELTA, true, v, NULL, 1);
    struct batch *bt = mb_batch(&b);
    assert_int_equal(FACTORY.consume(f->proc, bt), CONSUME_RETRY);
    batch_unref(bt);
    fx_free(f);

    f = fx_new("error_mode: silent\nmetric_statements:\n"
               "  - extract_count_metric(true) where metric.name == \"s\"\n");
    mb_init(&b);
    set_numbers(&b, add_metric(&b, "s", "", ""), false, DELTA, true, v, NULL, 1);
    const ScopeMetrics *sm = run(f, &b);
    assert_int_equal(sm->n_metrics, 1);
    fx_free(f);
}

/* "The new metric that is created will be passed to all subsequent statements": the appended
 * metric is walked by the same group, after the others. */
static void test_new_metric_seen_by_following_statements(void **state)
{
    (void)state;
    struct fx *f = fx_new("metric_statements:\n"
                          "  - extract_sum_metric(true) where metric.name == \"h\"\n"
                          "  - set(metric.description, \"seen\") where metric.name == \"h_sum\"\n");
    struct mb b;
    mb_init(&b);
    double s0 = 1.5;
    hist_point(&b, set_histogram(&b, add_metric(&b, "h", "", ""), CUMULATIVE), NULL, 1, &s0, NULL,
               0, NULL, 0);
    const ScopeMetrics *sm = run(f, &b);
    assert_int_equal(sm->n_metrics, 2);
    assert_string_equal(sm->metrics[1]->name, "h_sum");
    assert_string_equal(sm->metrics[1]->description, "seen");
    fx_free(f);
}

/* ---- summaries ------------------------------------------------------------------------------ */

/* convert_summary_*_val_to_sum live in the datapoint context: with a metric path only, the
 * group is inferred datapoint (the metric context lacks them), as the Collector's inferrer
 * falls back to a lower context. One point: one new metric each. */
static void test_summary_val_to_sum(void **state)
{
    (void)state;
    struct fx *f = fx_new("metric_statements:\n"
                          "  - convert_summary_sum_val_to_sum(\"delta\", true, \".sum\") where "
                          "metric.name == \"s\"\n"
                          "  - convert_summary_count_val_to_sum(\"cumulative\", false) where "
                          "metric.name == \"s\"\n");
    struct mb b;
    mb_init(&b);
    double q[] = {0.5, 0.99}, v[] = {1.0, 4.0};
    summary_point(&b, set_summary(&b, add_metric(&b, "s", "rpc", "ms")), "k=v", 7, 12.5, q, v, 2);
    const ScopeMetrics *sm = run(f, &b);
    assert_int_equal(sm->n_metrics, 3);
    const Metric *m = sm->metrics[1];
    assert_string_equal(m->name, "s.sum");
    assert_string_equal(m->description, "rpc");
    assert_int_equal(m->sum->aggregation_temporality, DELTA);
    assert_true(m->sum->is_monotonic);
    assert_true(m->sum->data_points[0]->as_double == 12.5);
    want_str_attr(m->sum->data_points[0]->attributes, m->sum->data_points[0]->n_attributes, "k",
                  "v");
    m = sm->metrics[2];
    assert_string_equal(m->name, "s_count");
    assert_int_equal(m->sum->aggregation_temporality, CUMULATIVE);
    assert_false(m->sum->is_monotonic);
    assert_int_equal(m->sum->data_points[0]->value_case, AS_INT);
    assert_int_equal(m->sum->data_points[0]->as_int, 7);
    fx_free(f);

    /* per data point, as in the Collector: two points, two metrics holding both points */
    f = fx_new("metric_statements:\n"
               "  - convert_summary_sum_val_to_sum(\"delta\", false) where metric.name == \"s\"\n");
    mb_init(&b);
    Summary *s = set_summary(&b, add_metric(&b, "s", "", ""));
    summary_point(&b, s, "k=1", 1, 1.0, NULL, NULL, 0);
    summary_point(&b, s, "k=2", 1, 2.0, NULL, NULL, 0);
    sm = run(f, &b);
    assert_int_equal(sm->n_metrics, 3);
    for (size_t i = 1; i < 3; i++) {
        assert_string_equal(sm->metrics[i]->name, "s_sum");
        assert_int_equal(sm->metrics[i]->sum->n_data_points, 2);
        assert_true(sm->metrics[i]->sum->data_points[1]->as_double == 2.0);
    }
    fx_free(f);
}

/* convert_summary_quantile_val_to_gauge(): one gauge point per quantile, the quantile as a
 * double attribute "quantile", named <name>.quantiles; custom key and suffix. */
static void test_summary_quantiles(void **state)
{
    (void)state;
    struct fx *f = fx_new("metric_statements:\n"
                          "  - convert_summary_quantile_val_to_gauge() where metric.name == \"s\"\n"
                          "  - convert_summary_quantile_val_to_gauge(\"custom_quantile\", "
                          "\"custom_suffix\") where metric.name == \"s\"\n");
    struct mb b;
    mb_init(&b);
    double q[] = {0.5, 0.99}, v[] = {1.0, 4.0};
    summary_point(&b, set_summary(&b, add_metric(&b, "s", "d", "ms")), "k=v", 7, 12.5, q, v, 2);
    const ScopeMetrics *sm = run(f, &b);
    assert_int_equal(sm->n_metrics, 3);
    const Metric *m = sm->metrics[1];
    assert_string_equal(m->name, "s.quantiles");
    assert_string_equal(m->unit, "ms");
    assert_int_equal(m->data_case, MD(GAUGE));
    assert_int_equal(m->gauge->n_data_points, 2);
    for (size_t i = 0; i < 2; i++) {
        const NumberDataPoint *p = m->gauge->data_points[i];
        assert_true(p->as_double == v[i]);
        want_str_attr(p->attributes, p->n_attributes, "k", "v");
        const AnyValue *a = attr(p->attributes, p->n_attributes, "quantile");
        assert_non_null(a);
        assert_int_equal(a->value_case, V_DOUBLE);
        assert_true(a->double_value == q[i]);
    }
    m = sm->metrics[2];
    assert_string_equal(m->name, "scustom_suffix");
    assert_non_null(attr(m->gauge->data_points[1]->attributes,
                         m->gauge->data_points[1]->n_attributes, "custom_quantile"));
    fx_free(f);
}

/* ---- copy_metric ---------------------------------------------------------------------------- */

static void test_copy_metric(void **state)
{
    (void)state;
    /* the README's first example; its second writes desc=, which names no parameter */
    struct fx *f = fx_new("metric_statements:\n"
                          "  - copy_metric(name=\"http.request.status_code\", unit=\"s\") where "
                          "metric.name == \"http.status_code\"\n"
                          "  - copy_metric(description=\"new desc\") where metric.description == "
                          "\"old desc\"\n");
    struct mb b;
    mb_init(&b);
    double v[] = {200};
    bool ints[] = {true};
    set_numbers(&b, add_metric(&b, "http.status_code", "old desc", "1"), true, 0, false, v, ints,
                1);
    const ScopeMetrics *sm = run(f, &b);
    /* every copy is walked too: original O gives A (renamed; keeps "old desc") and B
     * (described); A gives C (described); B, named as O, gives D (renamed); C and D match
     * neither where clause */
    assert_int_equal(sm->n_metrics, 5);
    assert_string_equal(sm->metrics[0]->name, "http.status_code");
    assert_string_equal(sm->metrics[0]->unit, "1");
    assert_string_equal(sm->metrics[0]->description, "old desc");
    assert_string_equal(sm->metrics[1]->name, "http.request.status_code");
    assert_string_equal(sm->metrics[1]->unit, "s");
    assert_string_equal(sm->metrics[1]->description, "old desc");
    assert_int_equal(sm->metrics[1]->gauge->data_points[0]->as_int, 200);
    assert_string_equal(sm->metrics[2]->name, "http.status_code");
    assert_string_equal(sm->metrics[2]->description, "new desc");
    assert_string_equal(sm->metrics[2]->unit, "1");
    const char *names[] = {"http.request.status_code", "http.request.status_code"};
    for (size_t i = 3; i < 5; i++) {
        assert_string_equal(sm->metrics[i]->name, names[i - 3]);
        assert_string_equal(sm->metrics[i]->description, "new desc");
        assert_string_equal(sm->metrics[i]->unit, "s");
    }
    fx_free(f);

    refused("metric_statements:\n  - copy_metric(desc=\"x\") where metric.name == \"a\"\n",
            "copy_metric has no parameter named \"desc\"", NULL);

    /* without a where clause every copy is copied again: the Collector loops without end; here a
     * scope takes OTTL_MAX_APPENDED_METRICS, then the calls fail (silently here) */
    f = fx_new("error_mode: silent\nmetric_statements:\n  - copy_metric() where metric.name != \"\"\n");
    mb_init(&b);
    set_numbers(&b, add_metric(&b, "m", "", ""), true, 0, false, v, ints, 1);
    sm = run(f, &b);
    assert_int_equal(sm->n_metrics, 1 + OTTL_MAX_APPENDED_METRICS);
    fx_free(f);
}

/* ---- scale_metric --------------------------------------------------------------------------- */

static void test_scale_metric(void **state)
{
    (void)state;
    struct fx *f = fx_new("metric_statements:\n"
                          "  - scale_metric(0.1) where metric.name == \"g\"\n"
                          "  - scale_metric(10.0, \"kWh\") where metric.name == \"h\"\n"
                          "  - scale_metric(2) where metric.name == \"s\"\n");
    struct mb b;
    mb_init(&b);
    double v[] = {15, 2.5};
    bool ints[] = {true, false};
    set_numbers(&b, add_metric(&b, "g", "", "Wh"), true, 0, false, v, ints, 2);
    double sum = 1.5, bounds[] = {1, 5};
    uint64_t counts[] = {1, 1, 0};
    HistogramDataPoint *hp = hist_point(&b, set_histogram(&b, add_metric(&b, "h", "", "Wh"), DELTA),
                                        NULL, 2, &sum, bounds, 2, counts, 3);
    hp->_min_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MIN_MIN;
    hp->min = 0.5;
    double q[] = {0.5}, qv[] = {3};
    summary_point(&b, set_summary(&b, add_metric(&b, "s", "", "")), NULL, 2, 4.0, q, qv, 1);
    const ScopeMetrics *sm = run(f, &b);
    const Metric *g = sm->metrics[0];
    assert_int_equal(g->gauge->data_points[0]->as_int, 1);   /* int64(15 * 0.1) = 1 */
    assert_true(g->gauge->data_points[1]->as_double == 2.5 * 0.1);
    assert_string_equal(g->unit, "Wh");
    const Metric *h = sm->metrics[1];
    const HistogramDataPoint *d = h->histogram->data_points[0];
    assert_true(d->sum == 15.0);
    assert_true(d->min == 5.0);
    assert_int_equal(d->_max_case, 0);
    assert_true(d->explicit_bounds[0] == 10.0 && d->explicit_bounds[1] == 50.0);
    assert_int_equal(d->bucket_counts[0], 1);
    assert_int_equal(d->count, 2);
    assert_string_equal(h->unit, "kWh");
    const SummaryDataPoint *sp = sm->metrics[2]->summary->data_points[0];
    assert_true(sp->sum == 8.0);
    assert_true(sp->quantile_values[0]->value == 6.0);
    assert_true(sp->quantile_values[0]->quantile == 0.5);
    fx_free(f);

    refused("metric_statements:\n  - scale_metric(metric.name) where metric.name == \"g\"\n",
            "multiplier", "number literal");
}

/* ---- merge_histogram_buckets ---------------------------------------------------------------- */

static void test_merge_histogram_buckets(void **state)
{
    (void)state;
    struct fx *f = fx_new("metric_statements:\n"
                          "  - merge_histogram_buckets(0.5) where metric.name == \"http_request_duration\"\n"
                          "  - merge_histogram_buckets(5, method=\"limit_buckets\") where "
                          "metric.name == \"wide\"\n"
                          "  - merge_histogram_buckets(0.7) where metric.name == \"nobound\"\n");
    struct mb b;
    mb_init(&b);
    double b1[] = {0.1, 0.5, 1.0};
    uint64_t c1[] = {5, 8, 3, 1};
    hist_point(&b, set_histogram(&b, add_metric(&b, "http_request_duration", "", ""), DELTA), NULL,
               17, NULL, b1, 3, c1, 4);
    double b2[] = {0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0};
    uint64_t c2[] = {80, 4, 6, 120, 3, 2, 40, 10, 1};
    hist_point(&b, set_histogram(&b, add_metric(&b, "wide", "", ""), DELTA), NULL, 266, NULL, b2, 8,
               c2, 9);
    hist_point(&b, set_histogram(&b, add_metric(&b, "nobound", "", ""), DELTA), NULL, 17, NULL, b1,
               3, c1, 4);
    const ScopeMetrics *sm = run(f, &b);
    const HistogramDataPoint *d = sm->metrics[0]->histogram->data_points[0];
    assert_int_equal(d->n_explicit_bounds, 2);
    assert_true(d->explicit_bounds[0] == 0.1 && d->explicit_bounds[1] == 1.0);
    assert_int_equal(d->n_bucket_counts, 3);
    assert_int_equal(d->bucket_counts[0], 5);
    assert_int_equal(d->bucket_counts[1], 11);
    assert_int_equal(d->bucket_counts[2], 1);
    assert_int_equal(d->count, 17);
    d = sm->metrics[1]->histogram->data_points[0];
    double wb[] = {0.2, 1.0, 5.0, 30.0};
    uint64_t wc[] = {84, 126, 5, 50, 1};
    assert_int_equal(d->n_explicit_bounds, 4);
    assert_int_equal(d->n_bucket_counts, 5);
    for (size_t i = 0; i < 4; i++)
        assert_true(d->explicit_bounds[i] == wb[i]);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(d->bucket_counts[i], wc[i]);
    d = sm->metrics[2]->histogram->data_points[0];
    assert_int_equal(d->n_bucket_counts, 4);
    assert_int_equal(d->bucket_counts[1], 8);
    fx_free(f);

    refused("metric_statements:\n  - merge_histogram_buckets(1, method=\"halve\") where "
            "metric.name == \"x\"\n", "invalid method", NULL);
    refused("metric_statements:\n  - merge_histogram_buckets(2.5, method=\"limit_buckets\") where "
            "metric.name == \"x\"\n", "positive integer", NULL);
}

/* ---- context inference and availability ------------------------------------------------------ */

static void test_inference_by_function(void **state)
{
    (void)state;
    /* a resource path and a datapoint function: the first context below resource (in the
     * Collector's priority) that has the function is datapoint */
    struct fx *f = fx_new("metric_statements:\n"
                          "  - merge_histogram_buckets(0.5) where resource.attributes[\"x\"] == nil\n");
    struct mb b;
    mb_init(&b);
    double b1[] = {0.1, 0.5, 1.0};
    uint64_t c1[] = {5, 8, 3, 1};
    hist_point(&b, set_histogram(&b, add_metric(&b, "h", "", ""), DELTA), NULL, 17, NULL, b1, 3, c1,
               4);
    const ScopeMetrics *sm = run(f, &b);
    assert_int_equal(sm->metrics[0]->histogram->data_points[0]->n_bucket_counts, 3);
    fx_free(f);

    /* a metric function with a datapoint path: no context has both */
    refused("metric_statements:\n  - convert_sum_to_gauge() where datapoint.attributes[\"a\"] == nil\n",
            "cannot infer a context", "metric");
    /* a metric function in a group whose context is datapoint: unknown there */
    refused("metric_statements:\n  - context: datapoint\n    statements:\n"
            "      - convert_sum_to_gauge()\n",
            "unknown editor \"convert_sum_to_gauge\"", NULL);
    /* the processor's functions are not in the other signals */
    refused("trace_statements:\n  - copy_metric() where span.name == \"x\"\n",
            "unknown editor \"copy_metric\"", NULL);
    /* and not in the standard engine */
    struct error err = {0};
    struct ottl_statement *st = ottl_statement_parse(OTTL_CTX_METRIC, "convert_sum_to_gauge()",
                                                     &err);
    assert_null(st);
    assert_non_null(strstr(err.msg, "unknown editor"));
}

/* ---- the engine seam: appending during a walk ------------------------------------------------ */

struct append_ud {
    struct arena *arena;
    int visits;
    char seen[8][8];
};

static enum ottl_visit append_on_a(struct ottl_item *it, void *ud)
{
    struct append_ud *u = ud;
    if (u->visits < 8)
        snprintf(u->seen[u->visits], sizeof u->seen[0], "%s", it->metric->name);
    u->visits++;
    if (strcmp(it->metric->name, "a") == 0) {
        Metric *m = arena_alloc(u->arena, sizeof *m);
        opentelemetry__proto__metrics__v1__metric__init(m);
        m->name = "b";
        struct error err = {0};
        assert_int_equal(ottl_item_append_metric(it, m, &err), 0);
    }
    /* drop "x" to show that compaction and appending meet safely */
    return strcmp(it->metric->name, "x") == 0 ? OTTL_VISIT_DROP : OTTL_VISIT_KEEP;
}

static void test_walk_visits_appended_metrics(void **state)
{
    (void)state;
    struct mb b;
    mb_init(&b);
    add_metric(&b, "x", "", "");
    add_metric(&b, "a", "", "");
    add_metric(&b, "y", "", "");
    /* the request as a batch's decoded face would hold it: arrays in the arena */
    struct arena *a = b.a;
    Metric **arr = arena_alloc(a, 3 * sizeof *arr);
    memcpy(arr, b.metrics, 3 * sizeof *arr);
    b.sm.metrics = arr;
    struct append_ud u = {.arena = a};
    long dropped = ottl_walk(&b.req.base, OTTL_CTX_METRIC, a, append_on_a, &u);
    assert_int_equal(dropped, 1);
    assert_int_equal(u.visits, 4);   /* x, a, y, then the appended b */
    assert_string_equal(u.seen[3], "b");
    assert_int_equal(b.sm.n_metrics, 3);
    assert_string_equal(b.sm.metrics[0]->name, "a");
    assert_string_equal(b.sm.metrics[1]->name, "y");
    assert_string_equal(b.sm.metrics[2]->name, "b");

    /* an item made by hand (no walk) has no list to append to */
    struct ottl_item it = {.ctx = OTTL_CTX_METRIC, .arena = a};
    struct error err = {0};
    assert_int_equal(ottl_item_append_metric(&it, arr[0], &err), -1);
    assert_non_null(strstr(err.msg, "no metric list"));
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_example_conversions),
        cmocka_unit_test(test_extract_sum_and_count),
        cmocka_unit_test(test_extract_wrong_type),
        cmocka_unit_test(test_new_metric_seen_by_following_statements),
        cmocka_unit_test(test_summary_val_to_sum),
        cmocka_unit_test(test_summary_quantiles),
        cmocka_unit_test(test_copy_metric),
        cmocka_unit_test(test_scale_metric),
        cmocka_unit_test(test_merge_histogram_buckets),
        cmocka_unit_test(test_inference_by_function),
        cmocka_unit_test(test_walk_visits_appended_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
