/* telemetry_otlp.c — the own-metrics registry as an OTLP ExportMetricsServiceRequest.
 *
 * The idea: one pass over the registry under its lock (telemetry_foreach) builds the protobuf-c
 * tree straight into an arena that the batch then owns, so the request costs one free and the
 * exporters encode it like any other batch. Series arrive in registration order; a family's
 * Metric is found by name and its data-point array grows by doubling inside the arena (the old
 * copy is left behind: at most twice the final size). */
#include "core/telemetry_otlp.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/otlp.h"
#include "core/telemetry_server.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;
typedef Opentelemetry__Proto__Metrics__V1__Metric metric_t;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint num_point_t;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint hist_point_t;

static bool label_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool label_name_char(char c) { return label_name_start(c) || (c >= '0' && c <= '9'); }

static size_t name_len(const char *p)
{
    if (!label_name_start(p[0]))
        return 0;
    size_t n = 1;
    while (label_name_char(p[n]))
        n++;
    return n;
}

/* A quote closes a value when what follows is the end or `,name="` (telemetry.c's rule). */
static bool closes(const char *q)
{
    if (*q == '\0' || (q[0] == ',' && q[1] == '\0'))
        return true;
    if (*q != ',')
        return false;
    size_t n = name_len(q + 1);
    return n > 0 && q[1 + n] == '=' && q[2 + n] == '"';
}

int telemetry_labels_parse(const char *labels, void (*fn)(void *ctx, const char *key, size_t key_len,
                                                          const char *value, size_t value_len),
                           void *ctx)
{
    size_t total = strlen(labels);
    char *val = malloc(total + 1);
    if (!val)
        return -1;
    const char *p = labels;
    int rc = 0;
    while (*p) {
        size_t n = name_len(p);
        if (n == 0 || p[n] != '=' || p[n + 1] != '"') {
            rc = -1;
            break;
        }
        const char *key = p;
        p += n + 2;
        size_t vl = 0;
        for (;;) {
            if (*p == '\0') {
                rc = -1;
                break;
            }
            if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == 'n')) {
                val[vl++] = p[1] == 'n' ? '\n' : p[1];
                p += 2;
                continue;
            }
            if (*p == '"' && closes(p + 1)) {
                p++;
                break;
            }
            val[vl++] = *p++;
        }
        if (rc)
            break;
        fn(ctx, key, n, val, vl);
        if (*p == ',')
            p++;
    }
    free(val);
    return rc;
}

/* ---- building -------------------------------------------------------------------------------- */

struct family {
    metric_t *m;
    size_t cap;          /* of the data-point array */
};

struct build {
    struct arena *a;
    struct family *fam;
    size_t n_fam, cap_fam;
    uint64_t start_ns, now_ns;
    bool oom;
    /* attributes of the series being added */
    kv_t **attrs;
    size_t n_attrs, cap_attrs;
};

static char *adup(struct arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static kv_t *string_kv(struct arena *a, const char *k, size_t kl, const char *v, size_t vl)
{
    kv_t *kv = arena_alloc(a, sizeof *kv);
    any_t *av = arena_alloc(a, sizeof *av);
    if (!kv || !av)
        return NULL;
    *kv = (kv_t)OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    *av = (any_t)OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    kv->key = adup(a, k, kl);
    av->string_value = adup(a, v, vl);
    kv->value = av;
    return kv->key && av->string_value ? kv : NULL;
}

static void add_attr(void *ctx, const char *key, size_t key_len, const char *value,
                     size_t value_len)
{
    struct build *b = ctx;
    if (b->n_attrs == b->cap_attrs) {
        size_t cap = b->cap_attrs ? 2 * b->cap_attrs : 8;
        kv_t **na = arena_alloc(b->a, cap * sizeof *na);
        if (!na) {
            b->oom = true;
            return;
        }
        if (b->n_attrs)
            memcpy(na, b->attrs, b->n_attrs * sizeof *na);
        b->attrs = na;
        b->cap_attrs = cap;
    }
    kv_t *kv = string_kv(b->a, key, key_len, value, value_len);
    if (!kv)
        b->oom = true;
    else
        b->attrs[b->n_attrs++] = kv;
}

static struct family *family_get(struct build *b, const struct telemetry_point *p)
{
    for (size_t i = 0; i < b->n_fam; i++)
        if (strcmp(b->fam[i].m->name, p->name) == 0)
            return &b->fam[i];
    if (b->n_fam == b->cap_fam) {
        size_t cap = b->cap_fam ? 2 * b->cap_fam : 32;
        struct family *nf = realloc(b->fam, cap * sizeof *nf);
        if (!nf)
            return NULL;
        b->fam = nf;
        b->cap_fam = cap;
    }
    metric_t *m = arena_alloc(b->a, sizeof *m);
    if (!m)
        return NULL;
    *m = (metric_t)OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
    m->name = arena_strdup(b->a, p->name);
    m->description = arena_strdup(b->a, p->help);
    if (!m->name || !m->description)
        return NULL;
    const int cumulative =
        OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
    if (p->kind == TELEMETRY_COUNTER) {
        Opentelemetry__Proto__Metrics__V1__Sum *s = arena_alloc(b->a, sizeof *s);
        if (!s)
            return NULL;
        *s = (Opentelemetry__Proto__Metrics__V1__Sum)OPENTELEMETRY__PROTO__METRICS__V1__SUM__INIT;
        s->aggregation_temporality = cumulative;
        s->is_monotonic = 1;
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
        m->sum = s;
    } else if (p->kind == TELEMETRY_GAUGE) {
        Opentelemetry__Proto__Metrics__V1__Gauge *g = arena_alloc(b->a, sizeof *g);
        if (!g)
            return NULL;
        *g = (Opentelemetry__Proto__Metrics__V1__Gauge)OPENTELEMETRY__PROTO__METRICS__V1__GAUGE__INIT;
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
        m->gauge = g;
    } else {
        Opentelemetry__Proto__Metrics__V1__Histogram *h = arena_alloc(b->a, sizeof *h);
        if (!h)
            return NULL;
        *h = (Opentelemetry__Proto__Metrics__V1__Histogram)
            OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM__INIT;
        h->aggregation_temporality = cumulative;
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
        m->histogram = h;
    }
    b->fam[b->n_fam] = (struct family){.m = m};
    return &b->fam[b->n_fam++];
}

/* Appends one point pointer to the family's array (its n_data_points/data_points pair). */
static bool push_point(struct build *b, struct family *f, size_t *n, void ***arr, void *pt)
{
    if (*n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 4;
        void **na = arena_alloc(b->a, cap * sizeof *na);
        if (!na)
            return false;
        if (*n)
            memcpy(na, *arr, *n * sizeof *na);
        *arr = na;
        f->cap = cap;
    }
    (*arr)[(*n)++] = pt;
    return true;
}

static void add_series(void *ctx, const struct telemetry_point *p)
{
    struct build *b = ctx;
    if (b->oom)
        return;
    /* a family keeps the kind it was first registered with (telemetry.c refuses clashes only
     * for histograms): a counter and a gauge of one name would make a Metric of two types */
    struct family *f = family_get(b, p);
    if (!f) {
        b->oom = true;
        return;
    }
    metric_t *m = f->m;
    if ((p->kind == TELEMETRY_COUNTER && m->data_case != OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM) ||
        (p->kind == TELEMETRY_GAUGE && m->data_case != OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE))
        return;
    b->attrs = NULL;
    b->n_attrs = b->cap_attrs = 0;
    if (p->labels[0] && telemetry_labels_parse(p->labels, add_attr, b) != 0) {
        if (b->oom)
            return;
        b->n_attrs = 0; /* not a label list: the series goes without attributes */
    }
    if (b->oom)
        return;
    if (p->kind == TELEMETRY_HISTOGRAM) {
        hist_point_t *hp = arena_alloc(b->a, sizeof *hp);
        uint64_t *counts = arena_alloc(b->a, (p->n_bounds + 1) * sizeof *counts);
        double *bounds = p->n_bounds ? arena_memdup(b->a, p->bounds, p->n_bounds * sizeof *bounds)
                                     : NULL;
        if (!hp || !counts || (p->n_bounds && !bounds)) {
            b->oom = true;
            return;
        }
        *hp = (hist_point_t)OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__INIT;
        memcpy(counts, p->buckets, (p->n_bounds + 1) * sizeof *counts);
        hp->n_attributes = b->n_attrs;
        hp->attributes = b->attrs;
        hp->start_time_unix_nano = b->start_ns;
        hp->time_unix_nano = b->now_ns;
        hp->count = p->count;
        hp->_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM;
        hp->sum = p->sum;
        hp->n_bucket_counts = p->n_bounds + 1;
        hp->bucket_counts = counts;
        hp->n_explicit_bounds = p->n_bounds;
        hp->explicit_bounds = bounds;
        if (!push_point(b, f, &m->histogram->n_data_points, (void ***)&m->histogram->data_points,
                        hp))
            b->oom = true;
        return;
    }
    num_point_t *np = arena_alloc(b->a, sizeof *np);
    if (!np) {
        b->oom = true;
        return;
    }
    *np = (num_point_t)OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__INIT;
    np->n_attributes = b->n_attrs;
    np->attributes = b->attrs;
    np->time_unix_nano = b->now_ns;
    np->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
    bool ok;
    if (p->kind == TELEMETRY_COUNTER) {
        np->start_time_unix_nano = b->start_ns;
        np->as_int = (int64_t)p->counter;
        ok = push_point(b, f, &m->sum->n_data_points, (void ***)&m->sum->data_points, np);
    } else {
        np->as_int = p->gauge;
        ok = push_point(b, f, &m->gauge->n_data_points, (void ***)&m->gauge->data_points, np);
    }
    if (!ok)
        b->oom = true;
}

/* A process family as the /metrics endpoint writes it, as one more Metric. */
static void add_process(struct build *b, const char *name, const char *help, bool sum, double v)
{
    struct telemetry_point p = {.kind = sum ? TELEMETRY_COUNTER : TELEMETRY_GAUGE, .name = name,
                                .labels = "", .help = help};
    add_series(b, &p);
    if (b->oom)
        return;
    for (size_t i = 0; i < b->n_fam; i++) {
        metric_t *m = b->fam[i].m;
        if (strcmp(m->name, name) != 0)
            continue;
        num_point_t *np = sum ? m->sum->data_points[m->sum->n_data_points - 1]
                              : m->gauge->data_points[m->gauge->n_data_points - 1];
        if (sum) {
            np->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
            np->as_double = v;
        } else {
            np->as_int = (int64_t)v;
        }
    }
}

struct batch *telemetry_otlp_batch(struct telemetry *t, const struct telemetry_resource *res,
                                   const char *scope_version, int64_t now_ns, bool process,
                                   struct error *err)
{
    struct build b = {.a = arena_new(16384), .start_ns = (uint64_t)telemetry_start_time(t),
                      .now_ns = (uint64_t)now_ns};
    if (!b.a) {
        error_set(err, "out of memory");
        return NULL;
    }
    if (telemetry_foreach(t, add_series, &b) < 0)
        b.oom = true;
    if (process && !b.oom) {
        double cpu, rss;
        telemetry_process_read(&cpu, &rss);
        double up = (double)(now_ns - telemetry_start_time(t)) / 1e9;
        add_process(&b, "otelcol_process_uptime", "Uptime of the process in seconds.", true,
                    up > 0 ? up : 0);
        add_process(&b, "otelcol_process_cpu_seconds",
                    "Total CPU user and system time in seconds.", true, cpu);
        add_process(&b, "otelcol_process_memory_rss",
                    "Total physical memory (resident set size) in bytes.", false, rss);
    }
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req =
        arena_alloc(b.a, sizeof *req);
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = arena_alloc(b.a, sizeof *rm);
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics **rms = arena_alloc(b.a, sizeof *rms);
    Opentelemetry__Proto__Resource__V1__Resource *r = arena_alloc(b.a, sizeof *r);
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = arena_alloc(b.a, sizeof *sm);
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics **sms = arena_alloc(b.a, sizeof *sms);
    Opentelemetry__Proto__Common__V1__InstrumentationScope *scope =
        arena_alloc(b.a, sizeof *scope);
    size_t nres = res ? res->n : 0;
    kv_t **rattrs = arena_alloc(b.a, (nres ? nres : 1) * sizeof *rattrs);
    metric_t **metrics = arena_alloc(b.a, (b.n_fam ? b.n_fam : 1) * sizeof *metrics);
    if (b.oom || !req || !rm || !rms || !r || !sm || !sms || !scope || !rattrs || !metrics)
        goto oom;
    for (size_t i = 0; i < nres; i++)
        if (!(rattrs[i] = string_kv(b.a, res->keys[i], strlen(res->keys[i]), res->values[i],
                                    strlen(res->values[i]))))
            goto oom;
    for (size_t i = 0; i < b.n_fam; i++)
        metrics[i] = b.fam[i].m;
    *req = (Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest)
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
    *rm = (Opentelemetry__Proto__Metrics__V1__ResourceMetrics)
        OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
    *r = (Opentelemetry__Proto__Resource__V1__Resource)OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    *sm = (Opentelemetry__Proto__Metrics__V1__ScopeMetrics)
        OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT;
    *scope = (Opentelemetry__Proto__Common__V1__InstrumentationScope)
        OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
    scope->name = TELEMETRY_OTLP_SCOPE;
    if (scope_version && !(scope->version = arena_strdup(b.a, scope_version)))
        goto oom;
    r->n_attributes = nres;
    r->attributes = rattrs;
    sm->scope = scope;
    sm->n_metrics = b.n_fam;
    sm->metrics = metrics;
    sms[0] = sm;
    rm->resource = r;
    rm->n_scope_metrics = 1;
    rm->scope_metrics = sms;
    rms[0] = rm;
    req->n_resource_metrics = 1;
    req->resource_metrics = rms;
    free(b.fam);
    struct batch *bt = batch_from_msg(SIGNAL_METRICS, b.a, &req->base);
    if (!bt) {
        arena_free(b.a);
        error_set(err, "out of memory");
    }
    return bt;
oom:
    free(b.fam);
    arena_free(b.a);
    error_set(err, "out of memory");
    return NULL;
}
