/* transform_funcs.c — the OTTL functions of the Collector's transform processor itself
 * (processor/transformprocessor/internal/metrics/func_*.go), beside the standard library of
 * core/ottl: metric type conversions, metrics extracted from histograms and summaries, copy and
 * scale, histogram bucket merging.
 *
 * The one idea: they are ordinary engine functions (struct ottl_function) handed to the engine
 * per context with ottl_statement_parse_ex, exactly where the Collector registers them (metric
 * context: MetricFunctions(), datapoint context: DataPointFunctions()), so binding, named
 * arguments, context inference and error modes work as for any function. The ones that add a
 * metric append it to the scope's list through ottl_item_append_metric, and the walk then shows
 * it to the following statements, as the Collector's loop over a growing slice does. Values are
 * built in the item's arena (the batch's), like everything a statement writes. */
#include "processors/transform/transform_funcs.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/ottl/ottl_internal.h"

typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__Sum Sum;
typedef Opentelemetry__Proto__Metrics__V1__Gauge Gauge;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistogramDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint ExpHistogramDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint SummaryDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__Exemplar Exemplar;

#define MD(x) OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_##x
#define TEMP_DELTA OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
#define TEMP_CUMULATIVE \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE
#define TEMP_UNSPECIFIED \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_UNSPECIFIED
#define NDP_DOUBLE OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE
#define NDP_INT OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
#define EX_DOUBLE OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE
#define EX_INT OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_INT

/* ---- helpers -------------------------------------------------------------------------------- */

/* pmetric's MetricType String(): the names the Collector's messages use. */
static const char *metric_type_name(const Metric *m)
{
    switch (m->data_case) {
    case MD(GAUGE): return "Gauge";
    case MD(SUM): return "Sum";
    case MD(HISTOGRAM): return "Histogram";
    case MD(EXPONENTIAL_HISTOGRAM): return "ExponentialHistogram";
    case MD(SUMMARY): return "Summary";
    default: return "Empty";
    }
}

static int oom(struct error *err)
{
    return error_set(err, "out of memory");
}

/* Go's int64(f) on amd64 (CVTTSD2SQ): truncation, and the "integer indefinite" INT64_MIN for NaN
 * and out-of-range values, where a C cast would be undefined. */
static int64_t go_int64(double f)
{
    if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0))
        return INT64_MIN;
    return (int64_t)f;
}

/* "delta" / "cumulative", checked at compile time as the Collector's factories do. */
static int check_temporality(const struct ottl_arg *a, struct error *err)
{
    const char *s = a->lit.s.p;
    if (strcmp(s, "delta") == 0 || strcmp(s, "cumulative") == 0)
        return 0;
    return error_set(err, "unknown aggregation temporality: %s", s);
}

static int temporality_of(const struct ottl_arg *a)
{
    return strcmp(a->lit.s.p, "delta") == 0 ? TEMP_DELTA : TEMP_CUMULATIVE;
}

/* A StringGetter argument (evaluated now), with the Collector's message. */
static int get_string(const struct ottl_call *c, size_t i, const char **p, size_t *n,
                      struct error *err)
{
    struct ottl_value v;
    if (ottl_arg_get(c, i, &v, err) < 0)
        return -1;
    if (v.t != OTTL_V_STRING)
        return error_set(err, "expected string but got %s", ottl_vtype_name(v.t));
    *p = v.s.p;
    *n = v.s.n;
    return 0;
}

static char *strndup_arena(struct arena *a, const char *p, size_t n)
{
    char *s = arena_alloc(a, n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* A float64 parameter of the Collector: a number literal (an int literal is taken too). */
static int check_number_literal(const struct ottl_arg *a, const char *fn, const char *param,
                                struct error *err)
{
    if (a->expr || (a->lit.t != OTTL_V_DOUBLE && a->lit.t != OTTL_V_INT))
        return error_set(err, "argument \"%s\" of %s must be a number literal", param, fn);
    return 0;
}

static double number_literal(const struct ottl_arg *a)
{
    return a->lit.t == OTTL_V_INT ? (double)a->lit.i : a->lit.d;
}

/* A deep copy of attributes (KeyValue array) into the arena: through the engine's deep copy of a
 * map value, so nested maps and lists are copied as pcommon's CopyTo copies them. */
static int copy_attrs(struct arena *a, OttlKeyValue **src, size_t n, OttlKeyValue ***dst,
                      size_t *dn, struct error *err)
{
    *dst = NULL;
    *dn = 0;
    if (n == 0)
        return 0;
    struct ottl_value v = {.t = OTTL_V_MAP};
    v.map.kv = &src;
    v.map.n = &n;
    OttlAnyValue *any = ottl_value_to_any(a, &v);
    if (!any || !any->kvlist_value)
        return oom(err);
    *dst = any->kvlist_value->values;
    *dn = any->kvlist_value->n_values;
    return 0;
}

/* A new metric in the arena with the source's description and unit, named name+suffix. */
static Metric *new_metric_from(struct arena *a, const Metric *src, const char *suffix)
{
    Metric *m = arena_alloc(a, sizeof *m);
    if (!m)
        return NULL;
    opentelemetry__proto__metrics__v1__metric__init(m);
    size_t ln = strlen(src->name ? src->name : ""), ls = strlen(suffix);
    char *name = arena_alloc(a, ln + ls + 1);
    if (!name)
        return NULL;
    memcpy(name, src->name ? src->name : "", ln);
    memcpy(name + ln, suffix, ls + 1);
    m->name = name;
    m->description = src->description;   /* strings are immutable once in the arena */
    m->unit = src->unit;
    return m;
}

/* Turns m into a Sum of `cap` preallocated (empty) data points. */
static Sum *set_empty_sum(struct arena *a, Metric *m, int temporality, bool monotonic, size_t cap)
{
    Sum *s = arena_alloc(a, sizeof *s);
    if (!s)
        return NULL;
    opentelemetry__proto__metrics__v1__sum__init(s);
    s->aggregation_temporality = temporality;
    s->is_monotonic = monotonic;
    if (cap && !(s->data_points = arena_alloc(a, cap * sizeof *s->data_points)))
        return NULL;
    m->data_case = MD(SUM);
    m->sum = s;
    return s;
}

/* Appends a number point with the attributes and times of a source point. */
static NumberDataPoint *add_point(struct arena *a, NumberDataPoint ***arr, size_t *n,
                                  OttlKeyValue **attrs, size_t n_attrs, uint64_t start,
                                  uint64_t time, struct error *err)
{
    NumberDataPoint *dp = arena_alloc(a, sizeof *dp);
    if (!dp) {
        oom(err);
        return NULL;
    }
    opentelemetry__proto__metrics__v1__number_data_point__init(dp);
    if (copy_attrs(a, attrs, n_attrs, &dp->attributes, &dp->n_attributes, err) < 0)
        return NULL;
    dp->start_time_unix_nano = start;
    dp->time_unix_nano = time;
    (*arr)[(*n)++] = dp;
    return dp;
}

/* ---- convert_sum_to_gauge / convert_gauge_to_sum (metric context) -------------------------- */

static int call_sum_to_gauge(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    Metric *m = c->it->metric;
    if (!m || m->data_case != MD(SUM))
        return 0;
    Gauge *g = arena_alloc(c->it->arena, sizeof *g);
    if (!g)
        return oom(err);
    opentelemetry__proto__metrics__v1__gauge__init(g);
    if (m->sum) {
        g->data_points = m->sum->data_points;
        g->n_data_points = m->sum->n_data_points;
    }
    m->data_case = MD(GAUGE);
    m->gauge = g;
    return 0;
}

static const struct ottl_param no_params[] = {{.name = NULL}};

static const struct ottl_function fn_convert_sum_to_gauge = {
    .name = "convert_sum_to_gauge", .editor = true, .params = no_params,
    .call = call_sum_to_gauge,
};

static const struct ottl_param gauge_to_sum_params[] = {
    {.name = "aggregation_temporality", .kind = OTTL_P_STRING},
    {.name = "is_monotonic", .kind = OTTL_P_BOOL},
    {.name = NULL},
};

static int check_temporality_arg0(struct ottl_arg *args, size_t n, struct error *err)
{
    (void)n;
    return check_temporality(&args[0], err);
}

static int call_gauge_to_sum(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    Metric *m = c->it->metric;
    if (!m || m->data_case != MD(GAUGE))
        return 0;
    NumberDataPoint **dps = m->gauge ? m->gauge->data_points : NULL;
    size_t n = m->gauge ? m->gauge->n_data_points : 0;
    Sum *s = set_empty_sum(c->it->arena, m, temporality_of(&c->args[0]), c->args[1].lit.b, 0);
    if (!s)
        return oom(err);
    s->data_points = dps;
    s->n_data_points = n;
    return 0;
}

static const struct ottl_function fn_convert_gauge_to_sum = {
    .name = "convert_gauge_to_sum", .editor = true, .params = gauge_to_sum_params,
    .check = check_temporality_arg0, .call = call_gauge_to_sum,
};

/* ---- extract_sum_metric / extract_count_metric (metric context) ---------------------------- */

static const struct ottl_param extract_params[] = {
    {.name = "is_monotonic", .kind = OTTL_P_BOOL},
    {.name = "suffix", .kind = OTTL_P_STRING, .optional = true},
    {.name = NULL},
};

/* The source points of a histogram, exponential histogram or summary, seen alike. */
struct sc_point {
    OttlKeyValue **attrs;
    size_t n_attrs;
    uint64_t start, time, count;
    bool has_sum;
    double sum;
};

static size_t sc_points(const Metric *m, size_t i, struct sc_point *p)
{
    switch (m->data_case) {
    case MD(HISTOGRAM): {
        if (!m->histogram || i >= m->histogram->n_data_points)
            return 0;
        HistogramDataPoint *d = m->histogram->data_points[i];
        *p = (struct sc_point){d->attributes, d->n_attributes, d->start_time_unix_nano,
                               d->time_unix_nano, d->count, d->_sum_case != 0, d->sum};
        return 1;
    }
    case MD(EXPONENTIAL_HISTOGRAM): {
        if (!m->exponential_histogram || i >= m->exponential_histogram->n_data_points)
            return 0;
        ExpHistogramDataPoint *d = m->exponential_histogram->data_points[i];
        *p = (struct sc_point){d->attributes, d->n_attributes, d->start_time_unix_nano,
                               d->time_unix_nano, d->count, d->_sum_case != 0, d->sum};
        return 1;
    }
    case MD(SUMMARY): {
        if (!m->summary || i >= m->summary->n_data_points)
            return 0;
        SummaryDataPoint *d = m->summary->data_points[i];
        /* unlike a histogram's, a summary's sum is not optional */
        *p = (struct sc_point){d->attributes, d->n_attributes, d->start_time_unix_nano,
                               d->time_unix_nano, d->count, true, d->sum};
        return 1;
    }
    default:
        return 0;
    }
}

static size_t sc_count(const Metric *m)
{
    switch (m->data_case) {
    case MD(HISTOGRAM): return m->histogram ? m->histogram->n_data_points : 0;
    case MD(EXPONENTIAL_HISTOGRAM):
        return m->exponential_histogram ? m->exponential_histogram->n_data_points : 0;
    case MD(SUMMARY): return m->summary ? m->summary->n_data_points : 0;
    default: return 0;
    }
}

/* Summaries have no temporality; the Collector takes them as cumulative (OpenMetrics). */
static int temporality_of_metric(const Metric *m)
{
    switch (m->data_case) {
    case MD(HISTOGRAM): return m->histogram ? (int)m->histogram->aggregation_temporality : 0;
    case MD(EXPONENTIAL_HISTOGRAM):
        return m->exponential_histogram ? (int)m->exponential_histogram->aggregation_temporality
                                        : 0;
    case MD(SUMMARY): return TEMP_CUMULATIVE;
    default: return TEMP_UNSPECIFIED;
    }
}

static int extract(const struct ottl_call *c, bool count, struct error *err)
{
    const char *fname = count ? "extract_count_metric" : "extract_sum_metric";
    Metric *m = c->it->metric;
    if (!m)
        return 0;
    int temp = temporality_of_metric(m);
    if (temp == TEMP_UNSPECIFIED || (m->data_case != MD(HISTOGRAM) &&
                                     m->data_case != MD(EXPONENTIAL_HISTOGRAM) &&
                                     m->data_case != MD(SUMMARY)))
        return error_set(err, "%s requires an input metric of type Histogram, "
                              "ExponentialHistogram or Summary, got %s",
                         fname, metric_type_name(m));
    struct arena *a = c->it->arena;
    const char *suffix = c->args[1].present ? c->args[1].lit.s.p : count ? "_count" : "_sum";
    Metric *nm = new_metric_from(a, m, suffix);
    size_t n = sc_count(m);
    Sum *s = nm ? set_empty_sum(a, nm, temp, c->args[0].lit.b, n) : NULL;
    if (!s)
        return oom(err);
    struct sc_point p;
    for (size_t i = 0; sc_points(m, i, &p); i++) {
        if (!count && !p.has_sum)
            continue;   /* a histogram point without a sum adds no point */
        NumberDataPoint *dp = add_point(a, &s->data_points, &s->n_data_points, p.attrs,
                                        p.n_attrs, p.start, p.time, err);
        if (!dp)
            return -1;
        if (count) {
            dp->value_case = NDP_INT;
            dp->as_int = (int64_t)p.count;   /* Go's int64(uint64): two's complement */
        } else {
            dp->value_case = NDP_DOUBLE;
            dp->as_double = p.sum;
        }
    }
    if (s->n_data_points == 0)
        return 0;   /* a metric is only created with at least one point */
    return ottl_item_append_metric(c->it, nm, err);
}

static int call_extract_sum(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    return extract(c, false, err);
}

static int call_extract_count(const struct ottl_call *c, struct ottl_value *out,
                              struct error *err)
{
    (void)out;
    return extract(c, true, err);
}

static const struct ottl_function fn_extract_sum_metric = {
    .name = "extract_sum_metric", .editor = true, .params = extract_params,
    .call = call_extract_sum,
};
static const struct ottl_function fn_extract_count_metric = {
    .name = "extract_count_metric", .editor = true, .params = extract_params,
    .call = call_extract_count,
};

/* ---- convert_summary_sum_val_to_sum / _count_val_to_sum (datapoint context) ---------------- */

static const struct ottl_param summary_to_sum_params[] = {
    {.name = "aggregation_temporality", .kind = OTTL_P_STRING},
    {.name = "is_monotonic", .kind = OTTL_P_BOOL},
    {.name = "suffix", .kind = OTTL_P_STRING, .optional = true},
    {.name = NULL},
};

/* The Collector runs these per data point and each run adds a metric holding every point of the
 * summary: a summary of two points gives two such metrics. Kept as it is, being what the
 * Collector sends on. */
static int summary_to_sum(const struct ottl_call *c, bool count, struct error *err)
{
    Metric *m = c->it->metric;
    if (!m || m->data_case != MD(SUMMARY))
        return 0;
    struct arena *a = c->it->arena;
    const char *suffix = c->args[2].present ? c->args[2].lit.s.p : count ? "_count" : "_sum";
    size_t n = m->summary ? m->summary->n_data_points : 0;
    Metric *nm = new_metric_from(a, m, suffix);
    Sum *s = nm ? set_empty_sum(a, nm, temporality_of(&c->args[0]), c->args[1].lit.b, n) : NULL;
    if (!s)
        return oom(err);
    for (size_t i = 0; i < n; i++) {
        SummaryDataPoint *d = m->summary->data_points[i];
        NumberDataPoint *dp = add_point(a, &s->data_points, &s->n_data_points, d->attributes,
                                        d->n_attributes, d->start_time_unix_nano,
                                        d->time_unix_nano, err);
        if (!dp)
            return -1;
        if (count) {
            dp->value_case = NDP_INT;
            dp->as_int = (int64_t)d->count;
        } else {
            dp->value_case = NDP_DOUBLE;
            dp->as_double = d->sum;
        }
    }
    return ottl_item_append_metric(c->it, nm, err);
}

static int call_summary_sum(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    return summary_to_sum(c, false, err);
}

static int call_summary_count(const struct ottl_call *c, struct ottl_value *out,
                              struct error *err)
{
    (void)out;
    return summary_to_sum(c, true, err);
}

static const struct ottl_function fn_convert_summary_sum_val_to_sum = {
    .name = "convert_summary_sum_val_to_sum", .editor = true, .params = summary_to_sum_params,
    .check = check_temporality_arg0, .call = call_summary_sum,
};
static const struct ottl_function fn_convert_summary_count_val_to_sum = {
    .name = "convert_summary_count_val_to_sum", .editor = true, .params = summary_to_sum_params,
    .check = check_temporality_arg0, .call = call_summary_count,
};

/* ---- convert_summary_quantile_val_to_gauge (metric context) -------------------------------- */

static const struct ottl_param quantile_params[] = {
    {.name = "attribute_key", .kind = OTTL_P_STRING, .optional = true},
    {.name = "suffix", .kind = OTTL_P_STRING, .optional = true},
    {.name = NULL},
};

static int call_quantile_to_gauge(const struct ottl_call *c, struct ottl_value *out,
                                  struct error *err)
{
    (void)out;
    Metric *m = c->it->metric;
    if (!m || m->data_case != MD(SUMMARY))
        return 0;
    struct arena *a = c->it->arena;
    const char *key = c->args[0].present ? c->args[0].lit.s.p : "quantile";
    const char *suffix = c->args[1].present ? c->args[1].lit.s.p : ".quantiles";
    Metric *nm = new_metric_from(a, m, suffix);
    Gauge *g = nm ? arena_alloc(a, sizeof *g) : NULL;
    if (!g)
        return oom(err);
    opentelemetry__proto__metrics__v1__gauge__init(g);
    nm->data_case = MD(GAUGE);
    nm->gauge = g;
    size_t total = 0, n = m->summary ? m->summary->n_data_points : 0;
    for (size_t i = 0; i < n; i++)
        total += m->summary->data_points[i]->n_quantile_values;
    if (total && !(g->data_points = arena_alloc(a, total * sizeof *g->data_points)))
        return oom(err);
    for (size_t i = 0; i < n; i++) {
        SummaryDataPoint *d = m->summary->data_points[i];
        for (size_t j = 0; j < d->n_quantile_values; j++) {
            NumberDataPoint *dp = add_point(a, &g->data_points, &g->n_data_points, d->attributes,
                                            d->n_attributes, d->start_time_unix_nano,
                                            d->time_unix_nano, err);
            if (!dp)
                return -1;
            struct ottl_value map = {.t = OTTL_V_MAP}, q = {.t = OTTL_V_DOUBLE};
            map.map.kv = &dp->attributes;
            map.map.n = &dp->n_attributes;
            q.d = d->quantile_values[j]->quantile;
            if (ottl_map_set(a, &map, key, strlen(key), &q) < 0)
                return oom(err);
            dp->value_case = NDP_DOUBLE;
            dp->as_double = d->quantile_values[j]->value;
        }
    }
    return ottl_item_append_metric(c->it, nm, err);
}

static const struct ottl_function fn_convert_summary_quantile_val_to_gauge = {
    .name = "convert_summary_quantile_val_to_gauge", .editor = true, .params = quantile_params,
    .call = call_quantile_to_gauge,
};

/* ---- copy_metric (metric context) --------------------------------------------------------- */

static const struct ottl_param copy_params[] = {
    {.name = "name", .kind = OTTL_P_ANY, .optional = true},
    {.name = "description", .kind = OTTL_P_ANY, .optional = true},
    {.name = "unit", .kind = OTTL_P_ANY, .optional = true},
    {.name = NULL},
};

/* A deep copy through the wire form: exact for every field, in the arena. */
static Metric *metric_dup(struct arena *a, const Metric *m)
{
    size_t len = protobuf_c_message_get_packed_size(&m->base);
    uint8_t *buf = arena_alloc(a, len ? len : 1);
    if (!buf)
        return NULL;
    protobuf_c_message_pack(&m->base, buf);
    return (Metric *)protobuf_c_message_unpack(&opentelemetry__proto__metrics__v1__metric__descriptor,
                                               arena_allocator(a), len, buf);
}

static int call_copy_metric(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    Metric *m = c->it->metric;
    if (!m)
        return 0;
    struct arena *a = c->it->arena;
    Metric *nm = metric_dup(a, m);
    if (!nm)
        return oom(err);
    /* appended first, then named: as in the Collector, a getter's error leaves the copy there */
    if (ottl_item_append_metric(c->it, nm, err) < 0)
        return -1;
    char **fields[3] = {&nm->name, &nm->description, &nm->unit};
    for (size_t i = 0; i < 3; i++) {
        if (!c->args[i].present)
            continue;
        const char *p = NULL; /* set by get_str; gcc -O2 cannot see it */
        size_t n = 0;
        if (get_string(c, i, &p, &n, err) < 0)
            return -1;
        char *s = strndup_arena(a, p, n);
        if (!s)
            return oom(err);
        *fields[i] = s;
    }
    return 0;
}

static const struct ottl_function fn_copy_metric = {
    .name = "copy_metric", .editor = true, .params = copy_params, .call = call_copy_metric,
};

/* ---- scale_metric (metric context) -------------------------------------------------------- */

static const struct ottl_param scale_params[] = {
    {.name = "multiplier", .kind = OTTL_P_ANY},
    {.name = "unit", .kind = OTTL_P_ANY, .optional = true},
    {.name = NULL},
};

static int check_scale(struct ottl_arg *args, size_t n, struct error *err)
{
    (void)n;
    return check_number_literal(&args[0], "scale_metric", "multiplier", err);
}

static void scale_number_points(NumberDataPoint **dps, size_t n, double f)
{
    for (size_t i = 0; i < n; i++) {
        if (dps[i]->value_case == NDP_INT)
            dps[i]->as_int = go_int64((double)dps[i]->as_int * f);
        else if (dps[i]->value_case == NDP_DOUBLE)
            dps[i]->as_double *= f;
    }
}

static int call_scale(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    Metric *m = c->it->metric;
    if (!m)
        return 0;
    double f = number_literal(&c->args[0]);
    const char *unit = NULL;
    size_t un = 0;
    if (c->args[1].present) {
        struct error e = {0};
        if (get_string(c, 1, &unit, &un, &e) < 0)
            return error_set(err, "could not get unit from ScaleArguments: %s", e.msg);
    }
    switch (m->data_case) {
    case MD(GAUGE):
        if (m->gauge)
            scale_number_points(m->gauge->data_points, m->gauge->n_data_points, f);
        break;
    case MD(SUM):
        if (m->sum)
            scale_number_points(m->sum->data_points, m->sum->n_data_points, f);
        break;
    case MD(HISTOGRAM):
        for (size_t i = 0; m->histogram && i < m->histogram->n_data_points; i++) {
            HistogramDataPoint *d = m->histogram->data_points[i];
            if (d->_sum_case)
                d->sum *= f;
            if (d->_min_case)
                d->min *= f;
            if (d->_max_case)
                d->max *= f;
            for (size_t b = 0; b < d->n_explicit_bounds; b++)
                d->explicit_bounds[b] *= f;
            for (size_t e = 0; e < d->n_exemplars; e++) {
                Exemplar *x = d->exemplars[e];
                if (x->value_case == EX_INT)
                    x->as_int = go_int64((double)x->as_int * f);
                else if (x->value_case == EX_DOUBLE)
                    x->as_double *= f;
            }
        }
        break;
    case MD(SUMMARY):
        for (size_t i = 0; m->summary && i < m->summary->n_data_points; i++) {
            SummaryDataPoint *d = m->summary->data_points[i];
            d->sum *= f;
            for (size_t q = 0; q < d->n_quantile_values; q++)
                d->quantile_values[q]->value *= f;
        }
        break;
    case MD(EXPONENTIAL_HISTOGRAM):
        return error_set(err, "exponential histograms are not supported by the 'scale_metric' "
                              "function");
    default:
        return error_set(err, "unsupported metric type: '%s'", metric_type_name(m));
    }
    if (unit) {
        char *s = strndup_arena(c->it->arena, unit, un);
        if (!s)
            return oom(err);
        m->unit = s;
    }
    return 0;
}

static const struct ottl_function fn_scale_metric = {
    .name = "scale_metric", .editor = true, .params = scale_params, .check = check_scale,
    .call = call_scale,
};

/* ---- merge_histogram_buckets (datapoint context) ------------------------------------------ */

static const struct ottl_param merge_params[] = {
    {.name = "target_value", .kind = OTTL_P_ANY},
    {.name = "method", .kind = OTTL_P_STRING, .optional = true},
    {.name = NULL},
};

static bool merge_limit(const struct ottl_arg *args)
{
    return args[1].present && strcmp(args[1].lit.s.p, "limit_buckets") == 0;
}

static int check_merge(struct ottl_arg *args, size_t n, struct error *err)
{
    (void)n;
    if (check_number_literal(&args[0], "merge_histogram_buckets", "target_value", err) < 0)
        return -1;
    if (args[1].present && strcmp(args[1].lit.s.p, "remove_explicit_bound") != 0 &&
        strcmp(args[1].lit.s.p, "limit_buckets") != 0)
        return error_set(err, "invalid method \"%s\": expected remove_explicit_bound or "
                              "limit_buckets", args[1].lit.s.p);
    double t = number_literal(&args[0]);
    if (merge_limit(args) && !(t >= 1 && t == floor(t) && t <= 1e15))
        return error_set(err, "target_value must be a positive integer with method "
                              "limit_buckets, got %g", t);
    return 0;
}

/* Merges the bucket ending at bounds[i] into the next one. */
static void remove_bound(HistogramDataPoint *d, size_t i)
{
    d->bucket_counts[i + 1] += d->bucket_counts[i];
    memmove(d->explicit_bounds + i, d->explicit_bounds + i + 1,
            (d->n_explicit_bounds - i - 1) * sizeof *d->explicit_bounds);
    memmove(d->bucket_counts + i, d->bucket_counts + i + 1,
            (d->n_bucket_counts - i - 1) * sizeof *d->bucket_counts);
    d->n_explicit_bounds--;
    d->n_bucket_counts--;
}

/* One uniform pass: groups of the smallest size that leaves at most `limit` buckets, merged
 * from the lowest; a group keeps the upper bound of its last bucket; a partial last group stays. */
static void limit_buckets(HistogramDataPoint *d, size_t limit)
{
    size_t n = d->n_bucket_counts;
    if (n <= limit)
        return;
    for (size_t i = 1; i < d->n_explicit_bounds; i++)
        if (d->explicit_bounds[i] < d->explicit_bounds[i - 1])
            return;   /* unordered bounds: left as they are */
    size_t size = (n + limit - 1) / limit, groups = (n + size - 1) / size;
    for (size_t g = 0; g < groups; g++) {
        uint64_t sum = 0;
        for (size_t k = g * size; k < n && k < (g + 1) * size; k++)
            sum += d->bucket_counts[k];
        d->bucket_counts[g] = sum;
        if (g + 1 < groups)
            d->explicit_bounds[g] = d->explicit_bounds[(g + 1) * size - 1];
    }
    d->n_bucket_counts = groups;
    d->n_explicit_bounds = groups - 1;
}

static int call_merge(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    (void)err;
    Metric *m = c->it->metric;
    if (!m || m->data_case != MD(HISTOGRAM) || !c->it->datapoint)
        return 0;
    HistogramDataPoint *d = c->it->datapoint;
    if (d->n_explicit_bounds + 1 != d->n_bucket_counts || d->n_bucket_counts <= 1)
        return 0;   /* malformed or a single bucket: unchanged */
    double t = number_literal(&c->args[0]);
    if (merge_limit(c->args)) {
        limit_buckets(d, (size_t)t);
        return 0;
    }
    for (size_t i = 0; i < d->n_explicit_bounds; i++)
        if (fabs(d->explicit_bounds[i] - t) < 1e-12) {
            remove_bound(d, i);
            break;
        }
    return 0;
}

static const struct ottl_function fn_merge_histogram_buckets = {
    .name = "merge_histogram_buckets", .editor = true, .params = merge_params,
    .check = check_merge, .call = call_merge,
};

/* ---- tables --------------------------------------------------------------------------------- */

static const struct ottl_function *const metric_functions[] = {
    &fn_convert_sum_to_gauge, &fn_convert_gauge_to_sum, &fn_extract_sum_metric,
    &fn_extract_count_metric, &fn_convert_summary_quantile_val_to_gauge, &fn_copy_metric,
    &fn_scale_metric, NULL,
};

static const struct ottl_function *const datapoint_functions[] = {
    &fn_convert_summary_sum_val_to_sum, &fn_convert_summary_count_val_to_sum,
    &fn_merge_histogram_buckets, NULL,
};

const struct ottl_function *const *const transform_functions[OTTL_CTX_COUNT] = {
    [OTTL_CTX_METRIC] = metric_functions,
    [OTTL_CTX_DATAPOINT] = datapoint_functions,
};
